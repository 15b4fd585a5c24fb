// Time from image dropped to the open view drawn and to all views ready, against the worker's own
// forward-pass time in the same run, per model and backend, in headless Chromium; plus first-load
// bytes. Prints a Markdown table for BENCHMARKS.md.
//   node tools/bench/explorer.mjs [runs]     (needs dist/ from `trunk build --release`)
//   BACKENDS=cpu node tools/bench/explorer.mjs 7     (one backend only)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDir } from '../e2e/serve.mjs';
import { dropAndTime, waitFirstReady } from './page.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const DIST = process.env.DIST ?? join(ROOT, 'dist');
const RUNS = Number(process.argv[2] ?? 3);
const manifest = JSON.parse(readFileSync(join(DIST, 'models/manifest.json'), 'utf8'));
const photo = readFileSync(join(ROOT, 'www/gallery/skimage_coffee.jpg')).toString('base64');
const server = await serveDir(DIST);
const origin = `http://127.0.0.1:${server.address().port}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Peak resident memory (VmHWM) of this browser's renderer (the page and its worker, wasm memory
 * included) and GPU processes, from /proc: the browser's own counters leave out the worker. */
function peakRss(browser) {
  const root = browser.process?.()?.pid;
  const peak = { renderer: 0, gpu: 0 };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const parent = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
      const kind = /--type=renderer/.test(cmd) ? 'renderer' : /--type=gpu-process/.test(cmd) ? 'gpu' : null;
      if (!kind || (root && parent !== root && !descends(parent, root))) continue;
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
      peak[kind] = Math.max(peak[kind], kb * 1024);
    } catch { /* the process ended meanwhile */ }
  }
  return peak;
}

function descends(pid, root) {
  for (let p = pid, i = 0; p > 1 && i < 8; i++) {
    if (p === root) return true;
    p = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
  }
  return false;
}

const rows = [];
for (const backend of (process.env.BACKENDS ?? 'cpu,webgpu').split(',')) {
  const args = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'];
  if (backend === 'webgpu') args.push('--enable-unsafe-webgpu');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args });
  for (const model of manifest.default_pair) {
    const page = await browser.newPage();
    await page.goto(`${origin}/?backend=${backend}#m=${model}&img=skimage_chelsea.jpg`);
    await waitFirstReady(page);
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const t = await dropAndTime(page, photo, `bench-${i}.jpg`);
      const worker = await page.$eval(`.timing[data-model="${model}"]`, (e) => [e.dataset.forwardMs, e.dataset.firstMs, e.dataset.totalMs]);
      [t.forward, t.workerFirst, t.workerTotal] = worker.map(Number);
      times.push(t);
    }
    const memory = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
    const pick = (k) => median(times.map((t) => t[k]));
    // Each ratio is a run's own (its drop against its forward pass), then the median.
    const ratio = (k) => median(times.map((t) => t[k] / t.forward));
    rows.push({ backend, model, forward: pick('forward'), first: pick('first'), shown: pick('shown'), ms: pick('ready'), firstRatio: ratio('first'), shownRatio: ratio('shown'), readyRatio: ratio('ready'), memory, peak: peakRss(browser) });
    console.error(`${backend} ${model}: ${times.map((t) => `${t.forward.toFixed(0)}/${t.workerFirst.toFixed(0)}/${t.first.toFixed(0)}/${t.shown.toFixed(0)}/${t.workerTotal.toFixed(0)}/${t.ready.toFixed(0)}`).join(', ')} ms (forward/worker first part/drawn/shown layer/worker total/ready)`);
    await page.close();
  }
  await browser.close();
}
server.close();

const gz = (f) => gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length;
const files = readdirSync(DIST);
const pageFiles = files.filter((f) => /^explorer-[0-9a-f]+(_bg\.wasm|\.js)$/.test(f));
// The page loads one worker: the one for the backend it will run.
const worker = (kind) => files.filter((f) => f.startsWith(`explorer-worker-${kind}`) && /(_bg\.wasm|\.js)$/.test(f));
const models = manifest.default_pair.map((id) => manifest.models.find((m) => m.id === id));
const modelBytes = models.reduce((s, m) => s + m.bytes, 0);
console.log('| backend | model | forward (worker) | dropped → open view drawn | ÷ forward | dropped → every view at the shown layer | ÷ forward | dropped → every layer ready | ÷ forward | page JS heap | peak RSS, renderer (page + worker) | peak RSS, GPU process |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.model} | ${r.forward.toFixed(0)} ms | ${r.first.toFixed(0)} ms | **${r.firstRatio.toFixed(2)}×** | ${r.shown.toFixed(0)} ms | **${r.shownRatio.toFixed(2)}×** | ${r.ms.toFixed(0)} ms | **${r.readyRatio.toFixed(2)}×** | ${mb(r.memory)} | ${mb(r.peak.renderer)} | ${mb(r.peak.gpu)} |`);
}
console.log(`(median of ${RUNS} drops each)`);
console.log('');
const sizes = (list) => list.map((f) => `${f} ${(statSync(join(DIST, f)).size / 1e6).toFixed(2)} MB (${(gz(f) / 1e6).toFixed(2)} gz)`).join(', ');
for (const kind of ['cpu', 'gpu']) {
  const list = [...pageFiles, ...worker(kind)];
  const wasmGz = list.filter((f) => f.endsWith('.wasm')).reduce((s, f) => s + gz(f), 0);
  const jsGz = list.filter((f) => f.endsWith('.js')).reduce((s, f) => s + gz(f), 0);
  console.log(`First load, ${kind === 'cpu' ? 'CPU' : 'WebGPU'} worker: ${sizes(list)}; wasm gzipped ${(wasmGz / 1e6).toFixed(2)} MB`
    + ` (+ ${(jsGz / 1e3).toFixed(0)} kB JS) + default models ${(modelBytes / 1e6).toFixed(1)} MB = ${((wasmGz + jsGz + modelBytes) / 1e6).toFixed(1)} MB.`);
}
