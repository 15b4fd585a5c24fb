// The attention view's CLS and norm maps (issue 12 §3), with and without WebGPU: DINO's head colours
// and 60 % mass mask, token norms with their outliers; each map's text gives its numbers, the link
// keeps the choice, and the PNG export draws it. The numbers' formulas are checked against DINO's code
// and the device streams natively (src/figures/cls.rs, crates/worker/tests/session.rs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ARTIFACTS, ROOT, waitReady, withBrowser } from './browser.mjs';

const PHOTO = 'skimage_chelsea.jpg';
const SHOW = '.view-controls label:has-text("Show") select';
let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

const texts = (page) => page.$$eval('[data-map]', (p) => p.map((x) => x.textContent));

async function savePng(page) {
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('text=Save view as PNG')]);
  const bytes = readFileSync(await png.path());
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  return bytes.readUInt32BE(16);
}

for (const mode of [{ name: 'cpu', webgpu: false, query: '?backend=cpu' }, { name: 'webgpu', webgpu: true, query: '?backend=webgpu' }]) {
  test(`the CLS and norm maps on ${mode.name}: drawn, said in numbers, kept in the link, exported`, async () => {
    await withBrowser(mode.webgpu, async ({ context }) => {
      const page = await context.newPage();
      await page.goto(`${origin}/${mode.query}#img=${PHOTO}&map=cls-heads&layer=12`);
      await waitReady(page, PHOTO, 300_000);

      // Head colours: a key per head, and each patch won by one head at most (none where every head is
      // at its minimum).
      assert.equal(await page.$$eval('.head-legend li', (l) => l.length), 2 * 3, 'three heads in each of two panels');
      for (const text of await texts(page)) {
        const wins = [...text.matchAll(/head \d strongest on (\d+) of 196 patches/g)].map((m) => Number(m[1]));
        assert.equal(wins.length, 3, text);
        const total = wins.reduce((a, b) => a + b, 0);
        assert.ok(total >= 190 && total <= 196, text);
      }
      assert.equal(await page.$('.query-text'), null, 'the CLS maps take no query');
      assert.ok(await savePng(page) > 0);
      await page.screenshot({ path: join(ARTIFACTS, `cls-heads-${mode.name}.png`), fullPage: true });

      // The mask, chosen from the menu: the link follows, and each model's mask holds at least 60 %.
      await page.selectOption(SHOW, 'cls-mask');
      await page.waitForFunction(() => location.hash.includes('map=cls-mask'));
      const masks = [];
      for (const text of await texts(page)) {
        const [, kept, share] = text.match(/(\d+) of 196 patches hold ([\d.]+) % of the CLS attention/) ?? [];
        assert.ok(Number(kept) >= 1 && Number(kept) < 196 && Number(share) >= 60 && Number(share) < 75, text);
        masks.push(Number(kept));
      }
      // The Metrics JSON carries every layer's map numbers: the same mask sizes, no high-norm patches.
      const [json] = await Promise.all([page.waitForEvent('download'), page.click('footer button:has-text("Metrics JSON")')]);
      const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
      assert.deepEqual(exported.models.map((m) => m.maps[11].cls_mask_patches), masks);
      for (const m of exported.models) {
        assert.equal(m.maps.length, 12);
        assert.ok(m.maps.every((l) => l.high_norm_patches.length === 0 && l.cls_head_patches.reduce((a, b) => a + b) <= 196), m.id);
      }
      assert.ok(await savePng(page) > 0);
      await page.screenshot({ path: join(ARTIFACTS, `cls-mask-${mode.name}.png`), fullPage: true });

      // Norms: the bundled models have no high-norm tokens, and the page says so with the numbers.
      await page.selectOption(SHOW, 'norms');
      await page.waitForFunction(() => location.hash.includes('map=norms'));
      for (const text of await texts(page)) {
        assert.match(text, /No high-norm tokens enter layer 12: the largest patch norm is [\d.]+, [\d.]+× the median [\d.]+ \(outliers would pass [\d.]+, the median \+ 10 MAD\)/);
      }
      assert.match(await page.textContent('.colorbar'), /low token norm/);

      // A reload restores the map from the link (on the CPU only: the link does not depend on the
      // backend, and SwiftShader would take a minute to run the photo again).
      if (!mode.webgpu) {
        await page.reload();
        await waitReady(page, PHOTO, 300_000);
        assert.equal(await page.$eval(SHOW, (s) => s.value), 'norms');
      }

      // The representation view's foreground PCA: part of the patches, black outside them.
      await page.click('#tab-representation');
      const foreground = await page.$$eval('[data-foreground]', (p) => p.map((x) => x.textContent));
      assert.equal(foreground.length, 2);
      for (const text of foreground) {
        const [, kept] = text.match(/(\d+) of 196 patches after block 12 are foreground/) ?? [];
        assert.ok(Number(kept) >= 3 && Number(kept) < 196, text);
        const id = await page.$$eval('[data-foreground]', (p, t) => p.find((x) => x.textContent === t).dataset.foreground, text);
        const black = await page.$eval(`article[data-model="${id}"] canvas[id^="fg-pca-"]`, (c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0) n++;
          return n / (d.length / 4);
        });
        // The background's share of the canvas is its share of the patches (a foreground patch may be
        // black too, at the minimum of all three components).
        assert.ok(Math.abs(black - (196 - Number(kept)) / 196) < 0.02, `${text}: ${black} of the canvas is black`);
      }
      assert.ok(await savePng(page) > 0);
      await page.screenshot({ path: join(ARTIFACTS, `foreground-pca-${mode.name}.png`), fullPage: true });
    });
  });
}
