// Hover → both attention maps repainted, in headless Chromium on the CPU path: the time from the
// browser delivering a mousemove over a map to the last of the two maps' putImageData calls, over
// 200 moves to different patches. Also counts how many canvases each hover repainted.
//   node tools/bench/hover.mjs [DIST] [LABEL]      (DIST defaults to dist/, from `trunk build --release`)
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDir } from '../e2e/serve.mjs';
import { waitFirstReady } from './page.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const DIST = process.argv[2] ?? join(ROOT, 'dist');
const LABEL = process.argv[3] ?? DIST;
const MOVES = 200;

const server = await serveDir(DIST);
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${origin}/?backend=cpu#img=skimage_chelsea.jpg&view=attention`);
  await waitFirstReady(page);
  await page.evaluate(() => {
    window.__paints = [];
    window.__move = 0;
    const put = CanvasRenderingContext2D.prototype.putImageData;
    CanvasRenderingContext2D.prototype.putImageData = function (...args) {
      window.__paints.push({ id: this.canvas.id, t: performance.now() });
      return put.apply(this, args);
    };
    window.addEventListener('mousemove', () => { window.__move = performance.now(); window.__paints = []; }, true);
  });
  const box = await page.locator('#att-0').boundingBox();
  const samples = [];
  const repainted = [];
  for (let i = 0; i < MOVES; i++) {
    // Walk the 14×14 grid so every move lands on another patch than the one before.
    const cell = (i * 37) % 196;
    const [r, c] = [Math.floor(cell / 14), cell % 14];
    await page.mouse.move(box.x + (c + 0.5) * box.width / 14, box.y + (r + 0.5) * box.height / 14);
    const result = await page.waitForFunction(() => {
      const ids = new Set(window.__paints.map((p) => p.id));
      if (!(ids.has('att-0') && ids.has('att-1'))) return false;
      return { ms: Math.max(...window.__paints.map((p) => p.t)) - window.__move, canvases: window.__paints.length };
    }, null, { timeout: 10_000, polling: 'raf' });
    const { ms, canvases } = await result.jsonValue();
    samples.push(ms);
    repainted.push(canvases);
  }
  samples.sort((a, b) => a - b);
  const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const most = Math.max(...repainted);
  console.log(`| ${LABEL} | ${MOVES} | ${pick(0.5).toFixed(2)} ms | ${pick(0.95).toFixed(2)} ms | ${pick(1).toFixed(2)} ms | ${most} |`);
} finally {
  await browser.close();
  server.close();
}
