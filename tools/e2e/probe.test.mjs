// The page's per-layer probes of a labelled folder, against `vitscope probe` on the same folder
// (target/e2e-reference/probe.json, made by tools/e2e/run.sh), with and without WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ARTIFACTS, ROOT, recordRequests, waitReady, withBrowser } from './browser.mjs';

const REF = join(ROOT, 'target/e2e-reference');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'dist/models/manifest.json'), 'utf8'));
const PHOTO = 'skimage_chelsea.jpg';

let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

// SwiftShader takes about 15 s a model an image, so WebGPU probes two images a class (no linear probe)
// with one model.
// A third folder names its classes in a labels.csv instead of subfolders.
const MODES = [
  { name: 'cpu', webgpu: false, query: '?backend=cpu', hash: '', models: 2, folder: 'labelled', report: 'probe.json', images: 22,
    skipped: [/loose\.jpg: not in a class subfolder/, /other\/broken\.jpg: .*could not be decoded/] },
  { name: 'webgpu', webgpu: true, query: '?backend=webgpu', hash: '&m=vitscope-mocov3-ti8', models: 1, folder: 'labelled-small', report: 'probe-small.json', images: 4, skipped: [] },
  { name: 'cpu, labels.csv', webgpu: false, query: '?backend=cpu', hash: '&m=vitscope-simmim-ti8', models: 1, folder: 'listed', report: 'probe-listed.json', images: 4,
    skipped: [/unlisted\.jpg: not listed in labels\.csv/] },
];

for (const mode of MODES) {
  test(`a labelled folder probed on ${mode.name}: every layer's kNN and linear accuracy equal vitscope probe's`, async () => {
    const CLI = JSON.parse(readFileSync(join(REF, mode.report), 'utf8'));
    await withBrowser(mode.webgpu, async ({ context }) => {
      const requests = recordRequests(context);
      const page = await context.newPage();
      await page.goto(`${origin}/${mode.query}#img=${PHOTO}${mode.hash}`);
      await waitReady(page, PHOTO);
      await page.click('#tab-metrics');
      await page.setInputFiles('#probe-folder', join(REF, mode.folder));
      await page.waitForFunction(() => /^Probed /.test(document.querySelector('.probe [data-probed]')?.textContent ?? ''),
        null, { timeout: 300_000 });
      const status = await page.textContent('.set-status [role=status]');
      const skipped = mode.skipped.length;
      assert.match(status, new RegExp(`^Done: ${mode.images} of ${mode.images + skipped} images measured${skipped ? `, ${skipped} skipped` : ''}`));
      const counts = CLI.classes.map((c) => `${c.name} \\(${c.images}\\)`).join(', ');
      assert.match(await page.textContent('.probe [data-probed]'), new RegExp(`Probed ${mode.images} images of 2 classes .*${counts}`));
      for (const reason of mode.skipped) assert.match(await page.textContent('.set-status .skipped'), reason);
      if (!CLI.models[0].linear_avg) {
        assert.match(await page.textContent('.probe'), /The linear probe runs when every class has at least 5 images/);
      }

      const cells = await page.$$eval('td[data-probe-model]', (cells) => cells.map((c) => ({
        model: c.dataset.probeModel, probe: c.dataset.probe, layer: Number(c.dataset.layer), accuracy: Number(c.dataset.accuracy) })));
      // Accuracies are counts of images: the same features give the same counts. A feature that
      // differs in its last bits (SwiftShader's rounding) may move one image across a tie, so one
      // image's worth is allowed, and how many are exact is reported.
      const images = CLI.images.length;
      let exact = 0;
      for (const cell of cells) {
        const entry = MANIFEST.models.find((m) => m.id === cell.model);
        const model = CLI.models.find((m) => m.file.endsWith(entry.file));
        const expected = model[cell.probe][cell.layer - 1];
        assert.ok(Math.abs(cell.accuracy - expected) <= 1 / images + 1e-6,
          `${cell.model} ${cell.probe} layer ${cell.layer}: page ${cell.accuracy}, CLI ${expected}`);
        if (Math.abs(cell.accuracy - expected) < 1e-6) exact++;
      }
      const probes = CLI.models[0].linear_avg ? 3 : 2;
      assert.equal(cells.length, mode.models * probes * 12, `${mode.models} models × ${probes} probes × 12 layers`);
      console.log(`probe on ${mode.name}: ${exact} of ${cells.length} accuracies equal the CLI's exactly, the rest within one image`);
      if (!mode.webgpu) assert.equal(exact, cells.length, 'the CPU worker runs the CLI\'s code on the same features');
      assert.equal(await page.$$eval('.probe-chart .chart svg', (s) => s.length), probes, 'a chart per probe');
      await page.screenshot({ path: join(ARTIFACTS, `probe-${mode.name.replace(/\W+/g, "-")}.png`), fullPage: true });

      // The export is the CLI's report shape, with the same numbers.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.probe-json')]);
      assert.equal(download.suggestedFilename(), `vitscope-probe-${mode.images}-images.json`);
      const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.deepEqual(exported.classes, CLI.classes);
      assert.deepEqual(exported.images, CLI.images);
      assert.equal(exported.protocol, CLI.protocol);
      assert.equal(exported.majority, CLI.majority);
      if (mode.name === 'cpu') {
        // The view's PNG carries the set's charts under the image's: 4 metric and 3 probe charts, 2 a row.
        const [png] = await Promise.all([page.waitForEvent('download'), page.click('text=Save view as PNG')]);
        const bytes = readFileSync(await png.path());
        const height = bytes.readUInt32BE(20);
        assert.ok(height >= 4 * 400, `the PNG is ${height} px high: 4 rows of charts need 1,600`);
      }
      // The images never left the page.
      for (const r of requests) {
        assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
        assert.ok(r.url.startsWith(origin), r.url);
      }
    });
  });
}
