// What both browser benchmarks do to the explorer page.

/** Waits for the page's first "Ready" (models loaded, the URL's gallery photo analysed). */
export async function waitFirstReady(page) {
  await page.waitForFunction(() => /^Ready/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 600_000 });
}

/** Drops a JPEG (base64) on the page as `name`; ms on the page's clock from the drop to the first
 * status naming it ("Drawn: name …", the open view drawn while the rest is computed, or a later one if
 * that came first), to "Shown: name …" (every view at the layer shown: its PCA and spectrum in, the
 * other layers' to follow) and to "Ready … name" (every layer of every view). A MutationObserver
 * stamps each change, so a status that lasts less than a frame is not missed. */
export async function dropAndTime(page, photo, name) {
  await page.evaluate(({ data, name }) => {
    const bin = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bin], name, { type: 'image/jpeg' }));
    const times = { start: performance.now(), first: null, shown: null, ready: null };
    window.benchTimes = times;
    const observer = new MutationObserver(() => {
      const s = document.querySelector('#status')?.textContent ?? '';
      if (!s.includes(name)) return;
      const now = performance.now();
      if (/^(Drawn|Shown|Ready)/.test(s) && times.first === null) times.first = now;
      if (/^(Shown|Ready)/.test(s) && times.shown === null) times.shown = now;
      if (/^Ready/.test(s)) { times.ready = now; observer.disconnect(); }
    });
    // The page renders a new status element, so the whole page is watched.
    observer.observe(document.body, { childList: true, characterData: true, subtree: true });
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: t, bubbles: true, cancelable: true }));
  }, { data: photo, name });
  await page.waitForFunction(() => window.benchTimes.ready !== null, null, { timeout: 600_000 });
  const t = await page.evaluate(() => window.benchTimes);
  return { first: t.first - t.start, shown: t.shown - t.start, ready: t.ready - t.start };
}
