// vitscope's explorer beside ONNX Runtime Web, in one headless Chromium session: the same ViTs (the
// default models, or with MODELS=vit-b two ViT-B/16s, MODELS=vit-s a ViT-S/16, the explorer reads
// through ?manifest=; exported
// by export_onnx.py), CPU (ORT's wasm provider, 1 thread) and WebGPU. Runs alternate between the two
// so a busy machine slows both alike. Prints a Markdown table; for ViT-B also the renderer's peak
// memory with both models loaded, and their load time from the browser's cache.
//   bash tools/bench/ort/run.sh [cpu runs] [webgpu runs]   (0 runs skips that backend)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDir } from '../../e2e/serve.mjs';
import { rendererPeak } from '../../e2e/browser.mjs';
import { dropAndTime, waitFirstReady } from '../page.mjs';

const ROOT = new URL('../../../', import.meta.url).pathname;
const [DIST, PEER] = [join(ROOT, 'dist'), join(ROOT, 'target/bench-ort/www')];
const RUNS = { cpu: Number(process.argv[2] ?? 7), webgpu: Number(process.argv[3] ?? 2) };
// MODELS=vit-b or vit-s: the models run.sh lists in target/bench-ort/www/<MODELS>/manifest.json.
const LISTED = ['vit-b', 'vit-s'].includes(process.env.MODELS) ? process.env.MODELS : null;
const VIT_B = LISTED === 'vit-b';
const manifest = JSON.parse(readFileSync(LISTED ? join(PEER, `${LISTED}/manifest.json`) : join(DIST, 'models/manifest.json'), 'utf8'));
const photo = readFileSync(join(ROOT, 'www/gallery/skimage_coffee.jpg')).toString('base64');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [ours, peer] = await Promise.all([serveDir(DIST), serveDir(PEER)]);
const url = (s) => `http://127.0.0.1:${s.address().port}`;
// The explorer's address for `models` on `backend` (ViT-B through the peer's manifest, CORS).
// `arith`: how the CPU multiplies by the int8 weights (f32, or integer products).
const explorer = (backend, models, arith = 'f32') => {
  const list = LISTED ? `&manifest=${encodeURIComponent(`${url(peer)}/${LISTED}/manifest.json`)}` : '';
  const integers = arith === 'int8' ? '&arith=int8' : '';
  return `${url(ours)}/?backend=${backend}${list}#m=${models.join(',')}&img=skimage_chelsea.jpg${integers}`;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'],
});
const ortPage = await browser.newPage();
ortPage.on('pageerror', (e) => console.error('peer page:', e.message));
await ortPage.goto(`${url(peer)}/`);
await ortPage.waitForFunction(() => window.ortReady === true);

/** Drops the photo on the explorer and waits for Ready: dropped → ready, and the worker's own times. */
async function runOurs(page, model, i) {
  const { ready } = await dropAndTime(page, photo, `bench-${i}.jpg`);
  const timing = await page.$eval(`.timing[data-model="${model}"]`, (e) => [e.dataset.forwardMs, e.dataset.totalMs].map(Number));
  return { ready, forward: timing[0], total: timing[1] };
}

const rows = [];
for (const backend of ['cpu', 'webgpu'].filter((b) => RUNS[b] > 0)) {
  const provider = backend === 'cpu' ? 'wasm' : 'webgpu';
  for (const id of manifest.default_pair) {
    const entry = manifest.models.find((m) => m.id === id);
    // On the CPU, the explorer twice: int8 weights multiplied in f32 and in integers.
    const ariths = backend === 'cpu' ? ['f32', 'int8'] : ['f32'];
    const pages = {};
    for (const arith of ariths) {
      pages[arith] = await browser.newPage();
      await pages[arith].goto(explorer(backend, [id], arith));
      await waitFirstReady(pages[arith]);
    }
    const precisions = backend === 'cpu' ? ['fp32', 'int8'] : ['fp32'];
    for (const p of precisions) {
      await ortPage.evaluate((a) => window.openOrt(a), { key: `${id}.${p}`, file: `./models/${id}.${p}.onnx`, provider, size: entry.image_size });
    }
    const times = { ours: {}, fp32: [], int8: [] };
    for (const arith of ariths) {
      times.ours[arith] = [];
      await runOurs(pages[arith], id, 'warm');
    }
    for (const p of precisions) await ortPage.evaluate((k) => window.timeOrt(k), `${id}.${p}`);
    for (let i = 0; i < RUNS[backend]; i++) {
      for (const arith of ariths) times.ours[arith].push(await runOurs(pages[arith], id, i));
      for (const p of precisions) times[p].push(await ortPage.evaluate((k) => window.timeOrt(k), `${id}.${p}`));
    }
    for (const arith of ariths) {
      const ourTimes = times.ours[arith];
      const row = {
        backend: backend === 'cpu' ? `cpu, ${arith === 'int8' ? 'integer' : 'f32'} arithmetic` : backend, id,
        forward: median(ourTimes.map((t) => t.forward)),
        total: median(ourTimes.map((t) => t.total)),
        ready: median(ourTimes.map((t) => t.ready)),
        fp32: median(times.fp32),
        int8: times.int8.length ? median(times.int8) : null,
      };
      rows.push(row);
      console.error(JSON.stringify(row));
      await pages[arith].close();
    }
  }
}
await browser.close();

/** ViT-B only: both models in one page of a fresh browser (nothing else in it): navigation → ready
 * with every view, first from the server, then again from the browser's cache; the renderer's peak. */
async function bothLoaded() {
  const alone = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await alone.newPage();
    const visit = async () => {
      const t0 = Date.now();
      await page.goto(explorer('cpu', manifest.default_pair));
      await waitFirstReady(page);
      return Date.now() - t0;
    };
    const first = await visit();
    const t1 = Date.now();
    await page.reload();
    await waitFirstReady(page);
    const cached = Date.now() - t1;
    const status = await page.textContent('#status');
    return { first, cached, peak: rendererPeak(), status };
  } finally {
    await alone.close();
  }
}
const both = VIT_B ? await bothLoaded() : null;
ours.close();
peer.close();

const ms = (v) => (v == null ? '–' : `${v.toFixed(0)} ms`);
console.log(`| backend | model | vitscope forward | ORT Web fp32 | ORT Web int8 | vitscope / ORT int8 | vitscope / ORT fp32 | vitscope all analyses | dropped → ready |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ratio = (v) => (v == null ? '–' : `**${(r.forward / v).toFixed(2)}×**`);
  console.log(`| ${r.backend} | ${r.id} | ${ms(r.forward)} | ${ms(r.fp32)} | ${ms(r.int8)} | ${ratio(r.int8)} | ${ratio(r.fp32)} | ${ms(r.total)} | ${ms(r.ready)} |`);
}
console.log(`\nMedians: CPU ${RUNS.cpu} runs, WebGPU ${RUNS.webgpu} runs, after one warm-up each; ${new Date().toISOString().slice(0, 10)}.`);
if (both) {
  console.log(`\nBoth ViT-B/16 in one page (CPU): opened → every view ready ${ms(both.first)} from the server, ${ms(both.cached)} from the browser's cache; renderer peak ${(both.peak / 2 ** 30).toFixed(2)} GiB (${both.status}).`);
}
