// What both browser benchmarks do to the explorer page.

/** Waits for the page's first "Ready" (models loaded, the URL's gallery photo analysed). */
export async function waitFirstReady(page) {
  await page.waitForFunction(() => /^Ready/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 600_000 });
}

/** Drops a JPEG (base64) on the page as `name` and waits for "Ready … name": ms on the page's clock. */
export async function dropAndTime(page, photo, name) {
  const start = await page.evaluate(({ data, name }) => {
    const bin = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bin], name, { type: 'image/jpeg' }));
    const t0 = performance.now();
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: t, bubbles: true, cancelable: true }));
    return t0;
  }, { data: photo, name });
  const end = await page.waitForFunction((n) => {
    const s = document.querySelector('#status')?.textContent ?? '';
    return s.startsWith('Ready') && s.includes(n) ? performance.now() : false;
  }, name, { timeout: 600_000, polling: 'raf' });
  return (await end.jsonValue()) - start;
}
