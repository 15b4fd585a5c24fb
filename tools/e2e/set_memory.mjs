// How the renderer's memory grows with the size of a measured set (issue 12's "state the growth at
// 1,000 images"): N copies of one gallery photo dropped together, measured on the CPU with the
// default pair; the renderer's resident set (garbage collected first) after the drop, after 100
// images and at the end. Not a test (minutes on 2 cores): `node tools/e2e/set_memory.mjs [N]`
// after `trunk build --release`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ROOT, rendererResident, waitReady, withBrowser } from './browser.mjs';

const count = Number(process.argv[2] ?? 1000);
const server = await serveDir(join(ROOT, 'dist'));
const origin = `http://127.0.0.1:${server.address().port}`;
const photo = readFileSync(join(ROOT, 'dist/gallery/skimage_chelsea.jpg')).toString('base64');
try {
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const resident = async () => { await cdp.send('HeapProfiler.collectGarbage'); return rendererResident(); };
    await page.goto(`${origin}/?backend=cpu#img=skimage_chelsea.jpg`);
    await waitReady(page, 'skimage_chelsea.jpg');
    await page.click('#tab-metrics');
    await page.evaluate(({ data, count }) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      for (let i = 0; i < count; i++) transfer.items.add(new File([bytes], `${String(i).padStart(4, '0')}.jpg`, { type: 'image/jpeg' }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, { data: photo, count });
    const measured = () => page.$eval('.set-status [role=status]', (e) => Number(e.dataset.measured)).catch(() => 0);
    const start = await resident();
    const started = Date.now();
    let at100 = null;
    while ((await measured()) < count) {
      if (at100 === null && (await measured()) >= 100) at100 = await resident();
      await new Promise((ok) => setTimeout(ok, 2000));
    }
    const end = await resident();
    const mb = (b) => (b / 1e6).toFixed(0);
    console.log(JSON.stringify({ images: count, seconds: (Date.now() - started) / 1000,
      resident_after_drop_mb: mb(start), resident_at_100_mb: mb(at100 ?? start), resident_at_end_mb: mb(end),
      growth_mb: mb(end - start), growth_after_100_mb: mb(end - (at100 ?? start)),
      status: await page.textContent('.set-status [role=status]') }));
  });
} finally {
  server.close();
}
