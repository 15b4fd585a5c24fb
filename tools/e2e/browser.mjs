// What every end-to-end test file shares: a fresh headless Chromium (with or without WebGPU), the
// requests it makes, and waiting for the page to be ready.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? join(ROOT, 'target/e2e-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export async function launch(webgpu, extra = []) {
  const args = [...extra, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan');
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args,
    // A fresh profile per launch.
    ...{ } }).then(async (browser) => ({ browser, context: await browser.newContext({ acceptDownloads: true }) }));
}

/** Runs `body` with a fresh browser, which is closed however `body` ends. */
export async function withBrowser(webgpu, body, { args = [] } = {}) {
  const { browser, context } = await launch(webgpu, args);
  try {
    return await body({ browser, context });
  } finally {
    await browser.close();
  }
}

/** Every request the page makes, with any body it carries. */
export function recordRequests(context) {
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() }));
  return requests;
}

export async function waitReady(page, name, timeout = 180_000) {
  try {
    await page.waitForFunction((n) => {
      const s = document.querySelector('#status')?.textContent ?? '';
      return s.startsWith('Ready') && s.includes(n);
    }, name, { timeout });
  } catch (e) {
    const shot = join(ARTIFACTS, `timeout-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const status = await page.$eval('#status', (x) => x.textContent).catch(() => '(no status)');
    const error = await page.$eval('.error', (x) => x.textContent).catch(() => '');
    throw new Error(`waiting for "Ready … ${name}": the status says "${status}" ${error} (screenshot ${shot})`);
  }
}

export async function tableValues(page) {
  await page.click('#tab-metrics');
  await page.waitForSelector('td[data-metric]', { state: 'attached' });
  return page.$$eval('td[data-metric]', (cells) => cells.map((c) => ({
    model: c.dataset.model, metric: c.dataset.metric, layer: Number(c.dataset.layer), value: Number(c.dataset.value),
  })));
}


/** The largest value of `field` (a `/proc/PID/status` line in kB) over the running renderer
 * processes, in bytes: a page with its dedicated workers and their wasm memory. */
function largestRenderer(field) {
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (kb) largest = Math.max(largest, Number(kb[1]) * 1024);
    } catch { /* the process ended */ }
  }
  return largest;
}

/** The most any renderer process has ever held (VmHWM, bytes). */
export const rendererPeak = () => largestRenderer('VmHWM');

/** What the largest renderer process holds now (VmRSS, bytes). */
export const rendererResident = () => largestRenderer('VmRSS');

/** Drops a file on the page as a user's drag and drop would. */
export async function dropFile(page, name, bytes, type) {
  await page.evaluate(async ({ name, data, type }) => {
    const bin = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bin], name, { type }));
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, { name, data: Buffer.from(bytes).toString('base64'), type });
}
