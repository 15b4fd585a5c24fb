// The live camera (issue 12 §4), with Chromium's fake camera playing target/e2e-reference/camera/
// camera.y4m: two gallery photos as 640×480 scenes, 2 s each, looped (tools/e2e/make_camera.py).
// Frames are analysed one after another; each frame's numbers come close to what the CLI gives on its
// scene (the camera path adds only YUV 4:2:0; a frame's pixels equal a file's exactly natively,
// crates/worker/tests/session.rs); the views follow the scene; no request carries a frame; Stop lets
// the camera go; a refused and an absent camera are said plainly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ARTIFACTS, ROOT, recordRequests, tableValues, waitReady, withBrowser } from './browser.mjs';

const CAMERA = join(ROOT, 'target/e2e-reference/camera');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'dist/models/manifest.json'), 'utf8'));
const PHOTO = 'skimage_chelsea.jpg';
const FAKE = ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(CAMERA, 'camera.y4m')}`];
// The page sees the scene after YUV 4:2:0 (chroma at half resolution, rounding): the metrics move by
// a few per cent at most, while the two scenes differ by far more (checked below).
const TOLERANCE = 0.03;
const skip = existsSync(join(CAMERA, 'camera.y4m')) ? false : 'no fake camera (tools/e2e/run.sh makes it with .venv)';

let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

/** Each scene's numbers from the CLI, as the page's metric table names them. */
function scenes() {
  return [0, 1].map((scene) => {
    const report = JSON.parse(readFileSync(join(CAMERA, `scene-${scene}.json`), 'utf8'));
    return (model, metric, layer) => {
      const file = MANIFEST.models.find((m) => m.id === model).file;
      const curve = report.models.find((m) => m.file.endsWith(file)).curves[metric].mean;
      const axis = report.metrics.find((m) => m.key === metric).axis;
      return curve[axis === 'depth' ? layer : layer - 1];
    };
  });
}

/** How far `cells` are from a scene: the largest relative difference of attention distance and NMI. */
function distance(cells, scene) {
  let worst = 0;
  for (const c of cells.filter((c) => c.metric === 'attention_distance' || c.metric === 'nmi')) {
    const expected = scene(c.model, c.metric, c.layer);
    worst = Math.max(worst, Math.abs(c.value - expected) / Math.max(Math.abs(expected), 1e-3));
  }
  return worst;
}

/** The frame the page shows now and its metric table, read together. */
const shown = (page) => page.evaluate(() => ({
  frame: document.querySelector('#camera-rate')?.dataset.analysed,
  cells: [...document.querySelectorAll('td[data-metric]')].map((c) => ({
    model: c.dataset.model, metric: c.dataset.metric, layer: Number(c.dataset.layer), value: Number(c.dataset.value),
  })),
}));

// SwiftShader takes ~20 s a model a frame: one model and one frame there.
for (const mode of [{ name: 'cpu', webgpu: false, query: '?backend=cpu', hash: '', frames: 6 },
                    { name: 'webgpu', webgpu: true, query: '?backend=webgpu', hash: '&m=vitscope-simmim-ti8', frames: 1 }]) {
  test(`the live camera on ${mode.name}: frames analysed one after another, close to the CLI on each scene, never sent`, { skip }, async () => {
    await withBrowser(mode.webgpu, async ({ context }) => {
      await context.grantPermissions(['camera'], { origin });
      const requests = recordRequests(context);
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${origin}/${mode.query}#img=${PHOTO}${mode.hash}`);
      await waitReady(page, PHOTO, 300_000);
      await tableValues(page);
      const before = requests.length;

      await page.click('#camera-start');
      const [one, two] = scenes();
      const frames = new Map();
      const deadline = Date.now() + (mode.webgpu ? 240_000 : 120_000);
      // Until enough frames, and on the CPU until both scenes (2 s each) have come by: a fast page
      // analyses more than `mode.frames` frames within one scene.
      const scenesSeen = () => new Set([...frames.values()].map(([a, b]) => (a < b ? 1 : 2))).size;
      while ((frames.size < mode.frames || (!mode.webgpu && scenesSeen() < 2)) && Date.now() < deadline) {
        const { frame, cells } = await shown(page);
        if (frame && !frames.has(frame) && cells.length) {
          frames.set(frame, [distance(cells, one), distance(cells, two)]);
        }
        await page.waitForTimeout(100);
      }
      assert.ok(frames.size >= mode.frames, `only ${frames.size} frames analysed: ${await page.textContent('#camera-rate')}`);
      // The status, which screen readers announce, does not change with each frame.
      assert.match(await page.textContent('#status'), /^Camera on \(.+\): each frame is analysed as soon as the one before is done\.$/);
      const seen = new Set();
      for (const [frame, [toOne, toTwo]] of frames) {
        const nearest = Math.min(toOne, toTwo);
        assert.ok(nearest <= TOLERANCE, `frame ${frame}: ${(100 * toOne).toFixed(1)} % from scene 1, ${(100 * toTwo).toFixed(1)} % from scene 2`);
        assert.ok(Math.max(toOne, toTwo) > 2 * TOLERANCE, `frame ${frame}: the scenes are not told apart`);
        seen.add(toOne < toTwo ? 1 : 2);
      }
      console.log(`${mode.name}: ${frames.size} frames, each within ${TOLERANCE * 100} % of its scene: ${[...frames].map(([f, d]) => `${f}: ${d.map((x) => (100 * x).toFixed(1)).join('/')} %`).join(', ')}`);
      if (!mode.webgpu) {
        // More than a frame a second on the CPU: both scenes (2 s each) come by, and the rate is shown.
        assert.deepEqual([...seen].sort(), [1, 2], 'the analysis followed the scene');
        assert.match(await page.textContent('#camera-rate'), /: frame \d+ shown, \d+\.\d frames a second$/);
        // The attention view follows too: its maps are of the latest frame.
        await page.click('#tab-attention');
        // (Its text names the strongest patches, which change when the scene does, within 4 s.)
        const map = await page.textContent('[data-map]');
        await page.waitForFunction((m) => document.querySelector('[data-map]').textContent !== m, map, { timeout: 30_000 });
      }
      await page.screenshot({ path: join(ARTIFACTS, `camera-${mode.name}.png`), fullPage: true });

      // Stop: the camera goes, the last frame stays shown, nothing more runs (a frame already in the
      // worker still finishes: on the CPU, waited for).
      await page.click('#camera-stop');
      await page.waitForSelector('#camera-start');
      assert.equal(await page.$('#camera-rate'), null);
      if (!mode.webgpu) {
        await page.waitForTimeout(3_000);
        const last = await page.textContent('[data-map]');
        assert.match(await page.textContent('#status'), /^(Ready: camera frame \d+|Camera off; the last frame analysed stays\.)/);
        await page.waitForTimeout(3_000);
        assert.equal(await page.textContent('[data-map]'), last, 'frames went on after Stop');
        assert.ok(await page.$('.view canvas'), 'the last frame stays shown');
        // It starts again, and stops again.
        await page.click('#camera-start');
        await page.waitForSelector('#camera-rate[data-analysed]');
        await page.click('#camera-stop');
        await page.waitForSelector('#camera-start');
        // Out of sight (another tab or app, a locked phone) the camera is let go, and a notice says
        // how to go on. (Headless pages never hide: the document says it is hidden, as a browser's would.)
        await page.click('#camera-start');
        await page.waitForSelector('#camera-rate[data-analysed]');
        await page.evaluate(() => {
          Object.defineProperty(document, 'hidden', { value: true, configurable: true });
          Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        });
        await page.waitForSelector('#camera-start');
        assert.equal(await page.$('#camera-rate'), null);
        assert.match(await page.textContent('.notices'), /Camera off while the page was out of sight\. Press Use the camera to go on\./);
        assert.ok(await page.$('.view canvas'), 'the last frame stays shown');
        await page.evaluate(() => { delete document.hidden; delete document.visibilityState; });
      }

      // No request after the camera started: frames go to the worker and nowhere else.
      assert.deepEqual(requests.slice(before).map((r) => `${r.method} ${r.url}`), []);
      assert.deepEqual(errors, []);
    }, { args: FAKE });
  });
}

test('a refused camera and a missing one are said plainly, and the page goes on', async () => {
  // Headless Chromium refuses what is not granted; with no fake device it has no camera at all.
  for (const [args, grant, said] of [
    [FAKE, false, /The camera was not allowed: allow it for this page in the browser's site settings/],
    [[], true, /No camera was found: connect one, or drop an image instead\./],
  ]) {
    await withBrowser(false, async ({ context }) => {
      if (grant) await context.grantPermissions(['camera'], { origin });
      const page = await context.newPage();
      await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
      await waitReady(page, PHOTO);
      await page.click('#camera-start');
      await page.waitForSelector('.error[role=alert]');
      assert.match(await page.textContent('.error[role=alert]'), said);
      await page.waitForSelector('#camera-start');
      // The photo's analysis is still there, and another image still runs.
      assert.ok(await page.$('.view canvas'));
      await page.click('.gallery summary');
      await page.click('button[aria-label^="Use skimage_coffee.jpg"]');
      await waitReady(page, 'skimage_coffee.jpg');
    }, { args });
  }
});
