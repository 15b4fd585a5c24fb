// Official ViT-B/16 checkpoints dropped into the page, in headless Chromium on the CPU path: the
// page converts them in its worker (reading the file in slices, never uploading it) into the file the
// CLI writes, byte for byte; the numbers it then shows equal the CLI's `analyze`; the converted model
// is kept in the browser by the checkpoint's sha256; Cancel stops a conversion. The checkpoints
// (random weights, about 1 GB each) and the CLI's results are written by tools/test.sh into
// target/vit-b/<layout>/ (tools/fixtures/make_vit_b.py, `vitscope convert`, `vitscope analyze`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ARTIFACTS, ROOT, recordRequests, rendererPeak, rendererResident, tableValues, waitReady, withBrowser } from './browser.mjs';

const PHOTO = 'skimage_chelsea.jpg';
const VIT_B = process.env.VIT_B_DIR ?? join(ROOT, 'target/vit-b');
// The same int8 file, run by the same code: the CPU path differs from the native CLI only in float
// summation order.
const TOLERANCE = { abs: 2e-3, rel: 2e-3 };

let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

function fixture(layout) {
  const dir = join(VIT_B, layout);
  if (!existsSync(join(dir, 'report.json'))) return null;
  const checkpoint = readdirSync(dir).find((f) => /\.pth(\.tar)?$/.test(f));
  return { dir, checkpoint, path: join(dir, checkpoint), cli: readFileSync(join(dir, 'cli.safetensors')),
    report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) };
}

/**
 * Drops the checkpoint through the file picker; returns the progress labels seen until it is in use,
 * with the renderer's largest resident size seen during each (what bounds the peak, by stage).
 */
async function dropAndWait(page, f) {
  const labels = new Set();
  const resident = { 'before the drop': rendererResident() };
  await page.setInputFiles('#file', f.path);
  const id = `file:${f.checkpoint}`;
  const deadline = Date.now() + 600_000;
  while (!(await page.$(`.timing[data-model="${id}"]`))) {
    const label = await page.$eval('.progress span', (s) => s.textContent).catch(() => null);
    const stage = label ? label.replace(/[\d.]+ of [\d.]+ MB|grouping \d+ of at most \d+/, '…')
      : labels.size ? 'converted, loading and analysing' : 'opening the file';
    if (label) labels.add(stage);
    resident[stage] = Math.max(resident[stage] ?? 0, rendererResident());
    // A failed conversion is an alert, or a notice naming the file when other models stay shown.
    const error = await page.$eval('.error', (e) => e.textContent).catch(() => null);
    assert.equal(error, null, `converting ${f.checkpoint}: ${error}`);
    const notices = await page.$eval('.notices', (e) => e.textContent).catch(() => '');
    assert.ok(!notices.includes(`${id}:`), `converting ${f.checkpoint}: ${notices}`);
    assert.ok(Date.now() < deadline, `${f.checkpoint} was not converted and analysed within 10 minutes`);
    await page.waitForTimeout(100);
  }
  await waitReady(page, PHOTO);
  return { labels: [...labels], resident };
}

function compareWithCli(cells, f) {
  const curves = f.report.models[0].curves;
  let worst = 0;
  for (const cell of cells) {
    const axis = f.report.metrics.find((m) => m.key === cell.metric)?.axis;
    const expected = curves[cell.metric].mean[axis === 'depth' ? cell.layer : cell.layer - 1];
    const bound = TOLERANCE.abs + TOLERANCE.rel * Math.abs(expected);
    const diff = Math.abs(cell.value - expected);
    worst = Math.max(worst, diff / bound);
    assert.ok(diff <= bound, `${f.checkpoint} ${cell.metric} layer ${cell.layer}: page ${cell.value}, CLI ${expected}`);
  }
  assert.ok(cells.length >= 12 + 12 + 13 + 13, `only ${cells.length} numbers for ${f.checkpoint}`);
  return worst;
}

const results = {};

for (const layout of ['mocov3', 'simmim']) {
  test(`an official ${layout} ViT-B/16 checkpoint converts in the page into the CLI's file, with the CLI's numbers`, async (t) => {
    const f = fixture(layout);
    if (!f) return t.skip(`no ${join(VIT_B, layout)}/report.json: tools/test.sh writes it`);
    await withBrowser(false, async ({ context }) => {
      const requests = recordRequests(context);
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${origin}/#img=${PHOTO}`);
      await waitReady(page, PHOTO);
      const start = Date.now();
      const { labels, resident } = await dropAndWait(page, f);
      const seconds = (Date.now() - start) / 1000;
      const peak = rendererPeak();
      for (const stage of ['Hashing', 'Converting', 'Checking int8 against f32']) {
        assert.ok(labels.some((l) => l.startsWith(stage)), `no "${stage}" progress: ${labels.join(' | ')}`);
      }
      assert.match(await page.textContent('.notices'), /Converted .* \((mocov3|simmim) layout\) in this page; kept in this browser/);
      await page.screenshot({ path: join(ARTIFACTS, `convert-${layout}.png`), fullPage: true });

      // "Save converted file" gives the CLI's bytes.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('.save-converted')]);
      const saved = readFileSync(await download.path());
      assert.equal(saved.length, f.cli.length, 'the saved file differs in size from the CLI\'s');
      assert.ok(saved.equals(f.cli), 'the saved file differs from the CLI\'s');

      const cells = (await tableValues(page)).filter((c) => c.model === `file:${f.checkpoint}`);
      const worst = compareWithCli(cells, f);

      // Dropped again after a reload: found in the browser's storage, not converted again.
      await page.reload();
      await waitReady(page, PHOTO);
      const again = Date.now();
      const second = (await dropAndWait(page, f)).labels;
      assert.ok(!second.some((l) => l.startsWith('Converting')), `converted again: ${second.join(' | ')}`);
      assert.match(await page.textContent('.notices'), /was converted here before; loaded the kept copy/);
      const cachedSeconds = (Date.now() - again) / 1000;

      // Nothing was uploaded: only GETs of the page's own files, none with a body.
      for (const r of requests) {
        assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
        assert.ok(r.url.startsWith(origin) && !r.body, r.url);
      }
      assert.deepEqual(errors, []);
      results[layout] = { checkpoint_bytes: readFileSync(f.path).length, converted_bytes: saved.length,
        dropped_to_all_views_s: seconds, dropped_again_s: cachedSeconds, renderer_peak_bytes: peak,
        renderer_resident_by_stage: resident, numbers: cells.length, worst_of_tolerance: worst };
      console.log(`${layout}: ${JSON.stringify(results[layout])}`);
      writeFileSync(join(ARTIFACTS, 'convert.json'), JSON.stringify(results, null, 1));
    });
  });
}

test('Cancel stops a conversion: nothing is kept and the page goes on with the other model', async (t) => {
  const f = fixture('mocov3');
  if (!f) return t.skip('no ViT-B fixtures: tools/test.sh writes them');
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    await page.setInputFiles('#file', f.path);
    await page.waitForFunction(() => /^(Hashing|Converting)/.test(document.querySelector('.progress span')?.textContent ?? ''));
    await page.click('button.cancel');
    assert.equal(await page.textContent('#status'), `Cancelled reading ${f.checkpoint}; nothing was kept.`);
    await page.waitForFunction(() => /^Loaded/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.equal(await page.$('.save-converted'), null);
    assert.equal(await page.$('.progress'), null);
  });
});

test('without browser storage (a sandboxed frame, private mode) a checkpoint still converts, and the page says it is not kept', async () => {
  const tiny = join(ROOT, 'tests/fixtures/simmim/simmim_pretrain__vit_base__img224__800ep.pth');
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    // The worker's script first loses the Cache API, as in an opaque-origin frame.
    await page.route('**/explorer-worker-cpu_loader.js', async (route) => {
      const original = await (await route.fetch()).text();
      const prologue = `Object.defineProperty(self, 'caches', { get() { throw new DOMException('denied', 'SecurityError'); } });\n`;
      await route.fulfill({ contentType: 'text/javascript', body: prologue + original });
    });
    await page.goto(`${origin}/#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    await page.setInputFiles('#file', tiny);
    await page.waitForSelector('.save-converted', { timeout: 120_000 });
    const notices = await page.textContent('.notices');
    assert.match(notices, /Converted simmim_pretrain__vit_base__img224__800ep\.pth \(simmim layout\) in this page, but the browser gives this page no storage/, notices);
    assert.match(await page.textContent('.cards'), /Converted in this page from a simmim checkpoint \(not kept: this page has no browser storage\)/);
  });
});
