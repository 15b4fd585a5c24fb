// End-to-end tests of the explorer in Debian's headless Chromium, once with WebGPU (SwiftShader, forced
// with backend=webgpu) and once without it (the CPU fallback). Run by tools/test.sh:
//   node --test tools/e2e/   (needs dist/ from `trunk build --release` and ref/ from tools/e2e/reference.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDir, servePage } from './serve.mjs';
import { ARTIFACTS, ROOT, dropFile, recordRequests, tableValues, waitReady, withBrowser } from './browser.mjs';

const REFERENCE = JSON.parse(readFileSync(process.env.E2E_REFERENCE ?? join(ROOT, 'target/e2e-reference/report.json'), 'utf8'));
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'dist/models/manifest.json'), 'utf8'));
// Same int8 weights, same code: the CPU path differs from the native CLI only in float summation
// order; SwiftShader's WebGPU adds its own rounding. Metrics are O(1)–O(100) (distance in pixels).
const TOLERANCE = { abs: 2e-3, rel: 2e-3 };
const PHOTO = 'skimage_chelsea.jpg';

let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

function compareWithCli(cells, label, tolerance = TOLERANCE) {
  let worst = 0;
  let checked = 0;
  for (const cell of cells) {
    const entry = MANIFEST.models.find((m) => m.id === cell.model);
    const model = REFERENCE.models.find((m) => m.file.endsWith(entry.file));
    assert.ok(model, `the CLI reference has no ${cell.model}`);
    const curve = model.curves[cell.metric].mean;
    // The report says how each metric is numbered: layers from 1, depths from 0 (the embedding).
    const axis = REFERENCE.metrics.find((m) => m.key === cell.metric)?.axis;
    assert.ok(axis === 'layer' || axis === 'depth', `the CLI report does not describe ${cell.metric}`);
    const index = axis === 'depth' ? cell.layer : cell.layer - 1;
    const expected = curve[index];
    const diff = Math.abs(cell.value - expected);
    worst = Math.max(worst, diff / (tolerance.abs + tolerance.rel * Math.abs(expected)));
    assert.ok(diff <= tolerance.abs + tolerance.rel * Math.abs(expected),
      `${label}: ${cell.model} ${cell.metric} layer ${cell.layer}: page ${cell.value}, CLI ${expected}`);
    checked++;
  }
  assert.ok(checked >= 2 * (12 + 12 + 13 + 13), `only ${checked} numbers on the page`);
  console.log(`${label}: ${checked} numbers within tolerance (worst at ${(worst * 100).toFixed(1)} % of it)`);
}


for (const mode of [{ name: 'webgpu', webgpu: true, query: '?backend=webgpu', backend: 'WebGPU', worker: 'gpu' },
                    { name: 'cpu', webgpu: false, query: '', backend: 'CPU (WebAssembly)', worker: 'cpu' }]) {
  test(`explorer on ${mode.name}: gallery photo, numbers equal the CLI, patch clicks, dropped files, privacy`, async () => {
    await withBrowser(mode.webgpu, async ({ context }) => {
      const requests = recordRequests(context);
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${origin}/${mode.query}#img=${PHOTO}`);
      await waitReady(page, PHOTO);
      const backend = await page.getAttribute('.backend', 'data-backend');
      assert.equal(backend, mode.backend, await page.getAttribute('.backend', 'title'));
      await page.screenshot({ path: join(ARTIFACTS, `${mode.name}-attention.png`), fullPage: true });

      // The numbers on the page equal the native CLI's for the same photo and models.
      const exact = await tableValues(page);
      compareWithCli(exact, mode.name);
      await page.screenshot({ path: join(ARTIFACTS, `${mode.name}-metrics.png`), fullPage: true });
      if (!mode.webgpu) {
        // Int8 weights multiplied in integers: the image runs again, its numbers move, within the
        // int8 bounds of the CLI's f32 arithmetic; the link keeps the choice; f32 comes back exactly.
        const rerun = async (arith) => {
          const before = exact.map((c) => c.value).join();
          await page.selectOption('.arithmetic select', arith);
          await page.waitForFunction(([b, want]) => {
            const s = document.querySelector('#status')?.textContent ?? '';
            const now = [...document.querySelectorAll('td[data-metric]')].map((c) => Number(c.dataset.value)).join();
            return s.startsWith('Ready') && (now !== b) === want;
          }, [before, arith === 'int8'], { timeout: 60_000 });
          return tableValues(page);
        };
        compareWithCli(await rerun('int8'), 'cpu, int8 arithmetic', { abs: 0.02, rel: 0.01 });
        assert.match(await page.evaluate(() => location.hash), /arith=int8/);
        assert.deepEqual(await rerun('f32'), exact);
        assert.doesNotMatch(await page.evaluate(() => location.hash), /arith=/);
      }

      // Clicking another patch changes the CL map (and the query in the permalink).
      await page.click('#tab-attention');
      const before = await page.textContent('[data-map]');
      const canvas = await page.$('#att-0');
      const box = await canvas.boundingBox();
      await page.mouse.click(box.x + box.width * 0.1, box.y + box.height * 0.1);
      await page.waitForFunction((b) => document.querySelector('[data-map]').textContent !== b, before);
      assert.match(await page.evaluate(() => location.hash), /q=1,1/);
      // Arrow keys move the query too.
      await canvas.focus();
      await page.keyboard.press('ArrowRight');
      assert.match(await page.evaluate(() => location.hash), /q=1,2/);

      // Every other view renders for this image. (The frequency view's filtered run is the host's
      // filter before the forward pass just compared with the CLI: on SwiftShader it would cost a
      // minute, so WebGPU leaves it to the CPU run.)
      for (const view of mode.webgpu ? ['representation'] : ['representation', 'frequency']) {
        await page.click(`#tab-${view}`);
        await page.waitForSelector(view === 'frequency' ? '[data-feature-change][data-value]:not([data-value=""])' : '[data-similarity]', { timeout: 120_000, state: 'attached' });
        await page.screenshot({ path: join(ARTIFACTS, `${mode.name}-${view}.png`), fullPage: true });
      }
      await page.click('#tab-attention');

      // A dropped photo replaces the image.
      const own = readFileSync(join(ROOT, 'www/gallery/skimage_coffee.jpg'));
      await dropFile(page, 'my-own-photo.jpg', own, 'image/jpeg');
      await waitReady(page, 'my-own-photo.jpg');
      assert.doesNotMatch(await page.evaluate(() => location.hash), /my-own-photo/);

      // Bad files: a broken image and a broken model each get a clear message.
      await dropFile(page, 'broken.jpg', readFileSync(join(ROOT, 'tests/fixtures/images/truncated.jpg')), 'image/jpeg');
      await page.waitForSelector('.error[role=alert]');
      assert.match(await page.textContent('.error[role=alert]'), /\S/);
      const model = readFileSync(join(ROOT, 'dist/models', MANIFEST.models[0].file));
      await dropFile(page, 'cut.safetensors', model.subarray(0, 4000), 'application/octet-stream');
      // Cut inside its header it is no readable file at all; cut after it, no usable model.
      // The other models stay, so the message is a notice that stays listed.
      await page.waitForFunction(() => /cut\.safetensors: this is (not a usable vitscope model|neither a vitscope model nor a checkpoint)/.test(document.querySelector('.notices')?.textContent ?? ''));
      await page.screenshot({ path: join(ARTIFACTS, `${mode.name}-bad-files.png`), fullPage: true });

      // No request carried the image: only GETs of the page's own files.
      const marker = own.subarray(1000, 1064);
      for (const r of requests) {
        assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
        assert.ok(r.url.startsWith(origin), `a request left the page's origin: ${r.url}`);
        assert.ok(!r.body || !Buffer.from(r.body).includes(marker), `${r.url} carried image bytes`);
        assert.ok(!r.url.includes('my-own-photo'), r.url);
      }
      // The page loaded only the worker of the backend it runs (the other one is megabytes).
      const workers = new Set(requests.map((r) => /explorer-worker-(cpu|gpu)_bg\.wasm/.exec(r.url)?.[1]).filter(Boolean));
      assert.deepEqual([...workers], [mode.worker]);
      assert.deepEqual(errors, []);
    });
  });
}

test('with only a software WebGPU adapter the page runs on the CPU, says why and loads only the CPU worker', async () => {
  await withBrowser(true, async ({ context }) => {
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    assert.equal(await page.getAttribute('.backend', 'data-backend'), 'CPU (WebAssembly)');
    assert.match(await page.getAttribute('.backend', 'title'), /software one \(.*swiftshader.*\).*backend=webgpu/i);
    assert.ok(!requests.some((r) => r.url.includes('explorer-worker-gpu')), 'the WebGPU worker was downloaded');
  });
});

test('bad URL parameters are named and the page still works', async () => {
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${origin}/?view=banana&backend=tpu&model=javascript:alert(1)&manifest=data:x#layer=0&cmap=jet&m=nope,nada&img=../etc/passwd`);
    await waitReady(page, '.jpg');
    const notices = await page.textContent('.notices');
    for (const needle of ['view=banana', 'backend=tpu', 'model=javascript', 'manifest=data:x', 'layer=0', 'cmap=jet', 'nope', 'img=../etc/passwd']) {
      assert.ok(notices.includes(needle), `no notice names ${needle}: ${notices}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'bad-parameters.png'), fullPage: true });
    // Named once: the address keeps only what applies, so a reload or a copied link is clean.
    assert.equal(await page.evaluate(() => location.search), '');
    assert.doesNotMatch(await page.evaluate(() => location.hash), /cmap=jet|nope|passwd/);
    assert.equal(await page.$('[role=alert]'), null, 'this browser has WebAssembly SIMD');
    // A browser without WebAssembly SIMD is told so instead of getting a blank page.
    const old = await context.newPage();
    await old.addInitScript(() => { WebAssembly.validate = () => false; });
    await old.goto(`${origin}/`);
    assert.match(await old.$eval('[role=alert]', (e) => e.textContent), /needs a browser with WebAssembly SIMD/);
  });
});

test('an embed URL works in a cross-origin iframe and reports its height', async () => {
  const src = `${origin}/?embed=1&view=attention#img=${PHOTO}&layer=3&q=cls`;
  const host = await servePage(`<!doctype html><title>host</title><p>A blog post.</p>
    <iframe id="v" src="${src}" style="width:100%;height:300px;border:0"></iframe>
    <script>addEventListener('message', (e) => { if (e.data && e.data.vitscopeHeight) window.reported = e.data.vitscopeHeight; });</script>`);
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${host.address().port}/`);
      const frame = page.frameLocator('#v');
      await frame.locator('#status').filter({ hasText: /^Ready/ }).waitFor({ timeout: 180_000 });
      await page.waitForFunction(() => window.reported > 200);
      assert.equal(await frame.locator('.tabs').count(), 0, 'embeds show one view without the tab bar');
      assert.ok(await frame.locator('#att-0').count() === 1);
      await page.screenshot({ path: join(ARTIFACTS, 'embed.png'), fullPage: true });
    } finally {
      host.close();
    }
  });
});

test('at 360 px wide, in the dark theme, every view fits the screen', async () => {
  await withBrowser(false, async ({ browser }) => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 }, colorScheme: 'dark' });
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(18, 19, 20)', 'the dark theme follows prefers-color-scheme');
    for (const view of ['attention', 'metrics', 'representation', 'frequency']) {
      await page.click(`#tab-${view}`);
      await page.waitForTimeout(300);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${view}: the page is ${width} px wide`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'narrow-dark.png'), fullPage: true });
  });
});

test('Cancel stops a slow run and the page waits for the user', async () => {
  await withBrowser(true, async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=webgpu#img=${PHOTO}`);
    await page.waitForFunction(() => /^Analysing/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 120_000 });
    await page.click('button.cancel');
    assert.match(await page.textContent('#status'), /^Cancelled/);
    // The fresh worker reloads the models (one at a time, Cancel showing while any loads) but does
    // not rerun the image by itself once they are all in.
    await page.waitForFunction(
      () => /^Loaded/.test(document.querySelector('#status')?.textContent ?? '') && !document.querySelector('button.cancel'),
      null,
      { timeout: 120_000 },
    );
    await page.waitForTimeout(3000);
    const status = await page.textContent('#status');
    assert.doesNotMatch(status, /^(Analysing|Ready)/, status);
    assert.equal(await page.$('button.cancel'), null, 'nothing is running, so there is nothing to cancel');
  });
});

test('a GPU lost mid-run switches to the CPU by itself and says so', async () => {
  await withBrowser(true, async ({ context }) => {
    const page = await context.newPage();
    // The worker's script gets a prologue that destroys its WebGPU device once the analysis has
    // submitted some work: the same `lost` event a driver reset or a sleeping laptop gives.
    await page.route('**/explorer-worker-gpu_loader.js', async (route) => {
      const original = await (await route.fetch()).text();
      const prologue = `(() => {
        const request = GPUAdapter.prototype.requestDevice;
        GPUAdapter.prototype.requestDevice = async function (...args) {
          const device = await request.apply(this, args);
          const submit = device.queue.submit.bind(device.queue);
          let submits = 0;
          device.queue.submit = (buffers) => { submit(buffers); if (++submits === 40) device.destroy(); };
          return device;
        };
      })();\n`;
      await route.fulfill({ contentType: 'text/javascript', body: prologue + original });
    });
    await page.goto(`${origin}/?backend=webgpu#img=${PHOTO}`);
    await waitReady(page, PHOTO, 240_000);
    const backend = await page.$eval('.backend', (e) => e.textContent);
    assert.match(backend, /CPU/, backend);
    const notices = await page.$eval('.notices', (x) => x.textContent);
    assert.match(notices, /WebGPU failed \(the GPU device was lost: Device was destroyed\); switched to the CPU/, notices);
    await page.screenshot({ path: join(ARTIFACTS, 'device-lost.png'), fullPage: true });
  });
});

test('the real DINOv2 is offered, downloads only when chosen, and runs at 224 px with its card', async () => {
  const dinov2 = MANIFEST.models.find((m) => m.id === 'dinov2-s14-focus');
  assert.ok(dinov2, 'the manifest lists the DINOv2-S/14');
  assert.ok(!MANIFEST.default_pair.includes(dinov2.id), 'it is optional, not a default');
  await withBrowser(false, async ({ context }) => {
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    assert.ok(!requests.some((r) => r.url.endsWith(dinov2.file)), 'its 28 MB were downloaded before it was chosen');
    await page.selectOption('select[aria-label="Model 2"]', dinov2.id);
    await page.waitForSelector(`.timing[data-model="${dinov2.id}"]`, { state: 'attached', timeout: 240_000 });
    await waitReady(page, PHOTO);
    assert.equal(requests.filter((r) => r.url.endsWith(dinov2.file)).length, 1);
    const card = await page.$eval(`li:has(.timing[data-model="${dinov2.id}"])`, (e) => e.textContent);
    // Stored at 518 px, run at 224: 16×16 patches of 14 px; the card says what it is and how it is fed.
    assert.match(card, /DINOv2 ViT-S\/14.*\(hybrid, ViT 16×16 patches of 14 px, width 384, 12 layers, 6 heads, int8\)/);
    assert.match(card, /Input: shorter side resized to 256 px \(bilinear\), centre crop 224×224\./);
    const cells = await tableValues(page);
    const distances = cells.filter((c) => c.model === dinov2.id && c.metric === 'attention_distance');
    assert.equal(distances.length, 12);
    assert.ok(distances.every((c) => c.value > 0 && c.value < 224 * Math.SQRT2), JSON.stringify(distances));
    await page.screenshot({ path: join(ARTIFACTS, 'dinov2.png'), fullPage: true });

    // On request it runs at the size it was trained at: 37×37 patches, and the link keeps it.
    await page.click(`li:has(.timing[data-model="${dinov2.id}"]) button.native-size`);
    await page.waitForFunction((id) => /Runs at its native 518 px/.test(document.querySelector(`li:has(.timing[data-model="${id}"])`)?.textContent ?? ''),
      dinov2.id, { timeout: 300_000 });
    await waitReady(page, PHOTO, 300_000);
    const native = await page.$eval(`li:has(.timing[data-model="${dinov2.id}"])`, (e) => e.textContent);
    assert.match(native, /ViT 37×37 patches of 14 px/);
    assert.match(await page.evaluate(() => location.hash), new RegExp(`native=${dinov2.id}`));
    const large = (await tableValues(page)).filter((c) => c.model === dinov2.id && c.metric === 'attention_distance');
    assert.equal(large.length, 12);
    // The same image at 518 px spans more pixels: later layers' mean distances grow with it.
    const mean = (cells) => cells.reduce((a, c) => a + c.value, 0) / cells.length;
    assert.ok(mean(large) > mean(distances), `518 px: ${mean(large)}, 224 px: ${mean(distances)}`);
    const ms = (await page.$eval(`.timing[data-model="${dinov2.id}"]`, (e) => e.dataset.totalMs));
    console.log(`DINOv2-S/14 at 518 px on the CPU: ${ms} ms with every analysis`);
  });
});

test('two to four models side by side: added, swapped and removed; the link, exports and a phone screen keep up', async () => {
  const hybrid = MANIFEST.models.find((m) => m.id.includes('hybrid'));
  assert.ok(hybrid && !MANIFEST.default_pair.includes(hybrid.id), 'the hybrid is listed beside the default pair');
  await withBrowser(false, async ({ browser }) => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    await page.selectOption('select[aria-label="Add a model"]', hybrid.id);
    await page.waitForSelector(`.timing[data-model="${hybrid.id}"]`, { state: 'attached', timeout: 240_000 });
    await waitReady(page, PHOTO);
    const ids = [...MANIFEST.default_pair, hybrid.id];
    assert.match(await page.textContent('#status'), /with 3 models/);
    assert.deepEqual(await page.$$eval('.panel', (p) => p.map((x) => x.dataset.model)), ids);
    assert.match(await page.evaluate(() => location.hash), new RegExp(`m=${ids.join(',')}`));
    // The add menu offers what is not shown, and goes back to its prompt.
    assert.equal(await page.inputValue('select[aria-label="Add a model"]'), '');

    // At 360 px the panels stack, and nothing is wider than the screen in any view.
    const boxes = await page.$$eval('.panel', (p) => p.map((x) => x.getBoundingClientRect()).map((r) => [r.x, r.width]));
    assert.ok(boxes.every(([x, w]) => x === boxes[0][0] && w <= 360), JSON.stringify(boxes));
    for (const view of ['metrics', 'representation', 'frequency', 'attention']) {
      await page.click(`#tab-${view}`);
      await page.waitForTimeout(300);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${view}: the page is ${width} px wide`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'three-models-narrow.png'), fullPage: true });
    const cells = await tableValues(page);
    assert.deepEqual([...new Set(cells.map((c) => c.model))], ids, 'each table has a column per model');

    // The exports cover every model shown.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('footer button:has-text("Metrics CSV")')]);
    const rows = readFileSync(await csv.path(), 'utf8').trim().split('\n').slice(1);
    assert.deepEqual([...new Set(rows.map((r) => r.split(',')[0]))], ids);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('footer button:has-text("Metrics JSON")')]);
    assert.deepEqual(JSON.parse(readFileSync(await json.path(), 'utf8')).models.map((m) => m.id), ids);
    await page.click('footer button:has-text("Embed")');
    assert.ok((await page.inputValue('#embed-code')).includes(`m=${ids.join(',')}`));

    // Choosing a shown model swaps places; removing one frees it and reruns with the others.
    await page.click('#tab-attention');
    await page.selectOption('select[aria-label="Model 1"]', hybrid.id);
    const swapped = [hybrid.id, MANIFEST.default_pair[1], MANIFEST.default_pair[0]];
    await page.waitForFunction((want) => [...document.querySelectorAll('.panel')].map((x) => x.dataset.model).join() === want.join(),
      swapped, { timeout: 120_000 });
    await waitReady(page, PHOTO);
    await page.click('.model-slot[data-slot="1"] .remove-model');
    await page.waitForFunction(() => /^Ready.* with 2 models/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.deepEqual(await page.$$eval('.panel', (p) => p.map((x) => x.dataset.model)), [swapped[0], swapped[2]]);

    // A link with three models opens with three.
    const again = await context.newPage();
    await again.goto(`${origin}/#img=${PHOTO}&m=${ids.join(',')}`);
    await waitReady(again, PHOTO);
    assert.deepEqual(await again.$$eval('.panel', (p) => p.map((x) => x.dataset.model)), ids);
    assert.deepEqual(errors, []);
  });
});

test('?manifest= shows a blog author\'s hosted models, and the Embed snippet keeps it', async () => {
  // The author's host: another origin (CORS), a manifest in a sub-folder, files relative to it.
  const hosted = mkdtempSync(join(tmpdir(), 'vitscope-author-'));
  mkdirSync(join(hosted, 'blog/weights'), { recursive: true });
  const models = MANIFEST.default_pair.map((id, i) => {
    const entry = MANIFEST.models.find((m) => m.id === id);
    copyFileSync(join(ROOT, 'dist/models', entry.file), join(hosted, 'blog/weights', `m${i}.safetensors`));
    return { ...entry, id: `author-${i}`, name: `Author's ${entry.name}`, file: `weights/m${i}.safetensors` };
  });
  writeFileSync(join(hosted, 'blog/manifest.json'), JSON.stringify({ models, default_pair: models.map((m) => m.id) }));
  const author = await serveDir(hosted);
  const manifestUrl = `http://127.0.0.1:${author.address().port}/blog/manifest.json`;
  try {
    await withBrowser(false, async ({ context }) => {
      const requests = recordRequests(context);
      const page = await context.newPage();
      await page.goto(`${origin}/?manifest=${encodeURIComponent(manifestUrl)}#img=${PHOTO}`);
      await waitReady(page, PHOTO);
      for (const m of models) {
        assert.ok(await page.$(`.timing[data-model="${m.id}"]`), `${m.id} was not analysed`);
      }
      const fromAuthor = requests.filter((r) => r.url.startsWith(`http://127.0.0.1:${author.address().port}/`));
      assert.deepEqual(fromAuthor.map((r) => `${r.method} ${new URL(r.url).pathname}`).sort(),
        ['GET /blog/manifest.json', 'GET /blog/weights/m0.safetensors', 'GET /blog/weights/m1.safetensors']);
      await page.click('footer button:has-text("Embed")');
      const snippet = await page.inputValue('#embed-code');
      assert.ok(snippet.includes(`manifest=${encodeURIComponent(manifestUrl)}`), snippet);

      // A list that is not there is named, and the bundled models still run.
      const missing = await context.newPage();
      await missing.goto(`${origin}/?manifest=${encodeURIComponent(manifestUrl.replace('manifest', 'nothing'))}#img=${PHOTO}`);
      await waitReady(missing, PHOTO);
      assert.match(await missing.textContent('.notices'), /nothing\.json: the server answered 404 \(showing the bundled models\)/);
      // A host that allows no cross-origin reads is told apart from a missing file.
      const closed = await servePage('{"models": []}');
      try {
        const refused = await context.newPage();
        await refused.goto(`${origin}/?manifest=${encodeURIComponent(`http://127.0.0.1:${closed.address().port}/m.json`)}#img=${PHOTO}`);
        await waitReady(refused, PHOTO);
        assert.match(await refused.textContent('.notices'), /m\.json: could not be fetched \(Failed to fetch\): the server is unreachable or does not allow cross-origin requests \(CORS\)/);
      } finally {
        closed.close();
      }
    });
  } finally {
    author.close();
  }
});

test('the whole gallery measured as a set: means and quartiles equal the CLI\'s; several dropped images make a set', async () => {
  const cli = JSON.parse(readFileSync(join(ROOT, 'target/e2e-reference/gallery.json'), 'utf8'));
  await withBrowser(false, async ({ context }) => {
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    await page.click('#tab-metrics');
    await page.click('button.measure-set');
    await page.waitForFunction(() => /^Done: 22 of 22 images measured/.test(document.querySelector('.set-status [role=status]')?.textContent ?? ''),
      null, { timeout: 240_000 });
    const cells = await page.$$eval('td[data-set-model]', (cells) => cells.map((c) => ({
      model: c.dataset.setModel, metric: c.dataset.metric, layer: Number(c.dataset.layer),
      mean: Number(c.dataset.mean), q1: Number(c.dataset.q1), q3: Number(c.dataset.q3) })));
    let checked = 0;
    for (const cell of cells) {
      const entry = MANIFEST.models.find((m) => m.id === cell.model);
      const model = cli.models.find((m) => m.file.endsWith(entry.file));
      const axis = cli.metrics.find((m) => m.key === cell.metric).axis;
      const i = axis === 'depth' ? cell.layer : cell.layer - 1;
      const expected = { mean: model.curves[cell.metric].mean[i], q1: model.quartiles[cell.metric].q1[i], q3: model.quartiles[cell.metric].q3[i] };
      for (const key of ['mean', 'q1', 'q3']) {
        const tolerance = TOLERANCE.abs + TOLERANCE.rel * Math.abs(expected[key]);
        assert.ok(Math.abs(cell[key] - expected[key]) <= tolerance,
          `${cell.model} ${cell.metric} ${cell.layer} ${key}: page ${cell[key]}, CLI ${expected[key]}`);
        checked++;
      }
    }
    assert.ok(checked >= 3 * 2 * (12 + 12 + 13 + 13), `only ${checked} numbers`);
    console.log(`set of 22: ${checked} means and quartiles within tolerance of the CLI's`);
    assert.equal(await page.$$eval('.set-metric .chart svg polygon', (p) => p.length), 2 * 4, 'a band per model and chart');
    await page.screenshot({ path: join(ARTIFACTS, 'set-gallery.png'), fullPage: true });
    // The set's JSON: every photo's numbers, and the same means as the table.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.set-json')]);
    assert.equal(download.suggestedFilename(), 'vitscope-set-22-images.json');
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(exported.images.length, 22);
    for (const m of exported.models) {
      assert.equal(m.per_image.length, 22);
      const cell = cells.find((c) => c.model === m.id && c.metric === 'nmi' && c.layer === 12);
      assert.ok(Math.abs(m.curves.nmi.mean[11] - cell.mean) < 1e-6, `${m.id}: ${m.curves.nmi.mean[11]} vs ${cell.mean}`);
    }

    // Three images dropped together on another view, one of them broken: a set of three (the page
    // goes to the metrics view, where its progress shows), the broken one skipped with its reason;
    // the image shown stays.
    await page.click('#tab-attention');
    const photo = (f) => ({ name: f, data: readFileSync(join(ROOT, 'dist/gallery', f)).toString('base64'), type: 'image/jpeg' });
    const files = [photo('skimage_coffee.jpg'), photo('skimage_rocket.jpg'),
      { name: 'broken.jpg', data: readFileSync(join(ROOT, 'tests/fixtures/images/truncated.jpg')).toString('base64'), type: 'image/jpeg' }];
    await page.evaluate((files) => {
      const transfer = new DataTransfer();
      for (const f of files) transfer.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, files);
    await page.waitForFunction(() => /^Done: 2 of 3 images measured, 1 skipped/.test(document.querySelector('.set-status [role=status]')?.textContent ?? ''),
      null, { timeout: 120_000 });
    assert.match(await page.textContent('.set-status .skipped'), /broken\.jpg: the image could not be decoded/);

    // A chosen folder: its images, in subfolders too, and nothing else (a text file is left out).
    const folder = mkdtempSync(join(tmpdir(), 'vitscope-set-'));
    mkdirSync(join(folder, 'more'));
    copyFileSync(join(ROOT, 'dist/gallery/skimage_coffee.jpg'), join(folder, 'a.jpg'));
    copyFileSync(join(ROOT, 'dist/gallery/sklearn_flower.jpg'), join(folder, 'b.JPG'));
    copyFileSync(join(ROOT, 'dist/gallery/skimage_camera.jpg'), join(folder, 'more', 'c.jpeg'));
    copyFileSync(join(ROOT, 'tests/fixtures/images/truncated.jpg'), join(folder, 'd.jpg'));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    await page.setInputFiles('#set-folder', folder);
    await page.waitForFunction(() => /^Done: 3 of 4 images measured, 1 skipped/.test(document.querySelector('.set-status [role=status]')?.textContent ?? ''),
      null, { timeout: 120_000 });
    assert.match(await page.textContent('#status'), new RegExp(`^Ready: ${PHOTO.replace('.', '\\.')}`));
    // The images never left the page.
    for (const r of requests) {
      assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
      assert.ok(r.url.startsWith(origin), r.url);
    }
  });
});
