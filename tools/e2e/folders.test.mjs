// A folder dropped on the page is measured as a set: its images, subfolders included, in path order.
// Headless Chromium cannot drop a real folder, so the drop carries an item whose directory entry is
// stood in for by an object with the same interface (isDirectory, createReader, readEntries in
// batches, file), which is all the page uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ROOT, recordRequests, waitReady, withBrowser } from './browser.mjs';

const PHOTO = 'skimage_chelsea.jpg';
let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

test('a dropped folder is measured as a set, subfolders included, each image named by its path', async () => {
  await withBrowser(false, async ({ context }) => {
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    const bytes = (f) => readFileSync(join(ROOT, 'dist/gallery', f)).toString('base64');
    await page.evaluate(({ coffee, rocket, broken }) => {
      const file = (name, b64) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' });
      const fileEntry = (f) => ({ isFile: true, isDirectory: false, name: f.name, file: (ok) => setTimeout(() => ok(f)) });
      // readEntries hands over one entry a call, then an empty batch, as browsers do past 100 entries.
      const dirEntry = (name, children) => ({
        isFile: false, isDirectory: true, name,
        createReader: () => { let next = 0; return { readEntries: (ok) => setTimeout(() => ok(children.slice(next, ++next))) }; },
      });
      const root = dirEntry('photos', [
        fileEntry(file('b.jpg', rocket)),
        dirEntry('cats', [fileEntry(file('a.jpg', coffee)), fileEntry(file('broken.jpg', broken))]),
        fileEntry(new File(['not an image'], 'notes.txt')),
      ]);
      // The folder, and a loose file dropped beside it (left out, with a notice).
      const transfer = new DataTransfer();
      transfer.items.add(new File([''], 'photos'));
      transfer.items.add(file('loose.jpg', rocket));
      const original = DataTransferItem.prototype.webkitGetAsEntry;
      DataTransferItem.prototype.webkitGetAsEntry = function () {
        return this.getAsFile()?.name === 'photos' ? root : fileEntry(this.getAsFile());
      };
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      DataTransferItem.prototype.webkitGetAsEntry = original;
    }, { coffee: bytes('skimage_coffee.jpg'), rocket: bytes('skimage_rocket.jpg'),
      broken: readFileSync(join(ROOT, 'tests/fixtures/images/truncated.jpg')).toString('base64') });
    await page.waitForFunction(() => /^Done: 2 of 3 images measured, 1 skipped/.test(document.querySelector('.set-status [role=status]')?.textContent ?? ''),
      null, { timeout: 120_000 });
    assert.match(await page.textContent('.set-status .skipped'), /photos\/cats\/broken\.jpg: the image could not be decoded/);
    assert.match(await page.textContent('.notices'), /A file dropped beside a folder was left out/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.set-json')]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(exported.images, ['photos/b.jpg', 'photos/cats/a.jpg']);
    assert.match(await page.textContent('#status'), new RegExp(`^Ready: ${PHOTO.replace('.', '\\.')}`), 'the image shown stays');
    for (const r of requests) assert.ok(r.method === 'GET' && r.url.startsWith(origin), `${r.method} ${r.url}`);
  });
});
