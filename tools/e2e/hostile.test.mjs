// What a stranger can send the explorer, end to end in headless Chromium (RELIABILITY.md): servers
// that misbehave, an image that kills the decoder, script in every name and value the page shows,
// and a user who drops, switches and cancels faster than the page can run. Run by tools/e2e/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { serveDir } from './serve.mjs';
import { ARTIFACTS, ROOT, dropFile, rendererResident, waitReady, withBrowser } from './browser.mjs';

const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'dist/models/manifest.json'), 'utf8'));
const PHOTO = 'skimage_chelsea.jpg';

let server, origin;
before(async () => {
  server = await serveDir(join(ROOT, 'dist'));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

/** A script payload; `n` tells which one ran, should any. */
const payload = (n) => `<img src=x onerror="alert(${n})">`;

/** Every dialog any page of `context` opens, dismissed. */
function listenForDialogs(context) {
  const dialogs = [];
  context.on('page', (p) => p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); }));
  return dialogs;
}

/** Elements that could run script: event-handler attributes, `javascript:` links, script tags. */
async function scriptable(page) {
  return page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.tagName === 'SCRIPT' || e.getAttributeNames().some((n) => n.startsWith('on'))
      || /^\s*javascript:/i.test(e.getAttribute('href') ?? '') || /^\s*javascript:/i.test(e.getAttribute('src') ?? ''))
    .map((e) => e.outerHTML.slice(0, 120)));
}

/** A vitscope model file with its card changed by `edit` (the header is JSON; the data follows). */
function withCard(file, edit) {
  const length = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + length).toString('utf8'));
  header.__metadata__.card = JSON.stringify(edit(JSON.parse(header.__metadata__.card)));
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + Buffer.byteLength(json) + file.length - 8 - length);
  out.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  out.write(json, 8, 'utf8');
  file.copy(out, 8 + Buffer.byteLength(json), 8 + length);
  return out;
}

test('hostile hosts: a web page, an endless body, a redirect loop and silence each get a message; script in a name stays text', async () => {
  // One author's host that misbehaves in every way a download can, beside one good model whose
  // name carries a script payload (it must show as text, and no dialog may open).
  const good = MANIFEST.models.find((m) => m.id === MANIFEST.default_pair[0]);
  const goodBytes = readFileSync(join(ROOT, 'dist/models', good.file));
  const payload = '<img src=x onerror="alert(1)">';
  const models = [
    { ...good, id: 'good', name: `${payload} Good`, file: 'good.safetensors' },
    // Other hashes than the good file's: the worker's cache is keyed by sha256 and would answer.
    { ...good, id: 'page', name: 'Page', file: 'page.safetensors', sha256: 'ab'.repeat(32) },
    { ...good, id: 'endless', name: 'Endless', file: 'endless.safetensors', bytes: 1000, sha256: 'cd'.repeat(32) },
    { ...good, id: 'loop', name: 'Loop', file: 'loop.safetensors', sha256: 'ef'.repeat(32) },
  ];
  let endlessSent = 0;
  let endlessClosed = false;
  const host = createServer((req, res) => {
    const cors = { 'access-control-allow-origin': '*' };
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/list.json') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify({ models, default_pair: models.map((m) => m.id) }));
    } else if (path === '/good.safetensors') {
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' }).end(goodBytes);
    } else if (path === '/page.safetensors') {
      res.writeHead(200, { ...cors, 'content-type': 'text/html' }).end('<!doctype html><h1>Not found</h1>');
    } else if (path === '/loop.safetensors') {
      res.writeHead(302, { ...cors, location: '/loop.safetensors' }).end();
    } else if (path === '/endless.safetensors' || path === '/endless.json') {
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 << 10, 7);
      res.on('close', () => { endlessClosed = true; });
      const more = () => {
        while (!res.destroyed && endlessSent < 4 * 2 ** 30) {
          endlessSent += chunk.length;
          if (!res.write(chunk)) { res.once('drain', more); return; }
        }
      };
      more();
    } else if (path === '/silent.safetensors') {
      // Headers, then nothing: the download must give up after 30 s of silence.
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' });
      res.flushHeaders();
    } else {
      res.writeHead(404, cors).end();
    }
  });
  await new Promise((ok) => host.listen(0, '127.0.0.1', ok));
  const at = `http://127.0.0.1:${host.address().port}`;
  try {
    await withBrowser(false, async ({ context }) => {
      const dialogs = [];
      const page = await context.newPage();
      page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
      await page.goto(`${origin}/?backend=cpu&manifest=${encodeURIComponent(`${at}/list.json`)}#img=${PHOTO}`);
      await waitReady(page, PHOTO);
      const notices = await page.textContent('.notices');
      assert.match(notices, /page\.safetensors: the server sent a web page \(text\/html\), not a model file: is the address right\?/);
      assert.match(notices, /endless\.safetensors: the server sent more than the 1,000 bytes the model list announces; stopped/);
      assert.match(notices, /loop\.safetensors: the download failed/);
      assert.ok(await page.$('.timing[data-model="good"]'), 'the good model was not analysed');
      // The payload is text wherever the name shows, never an element.
      assert.ok((await page.textContent('body')).includes(payload), 'the name is not shown as text');
      assert.equal(await page.$$eval('img[src="x"]', (e) => e.length), 0);
      // The endless body was cancelled, not read to its end.
      await new Promise((ok) => setTimeout(ok, 500));
      assert.ok(endlessClosed, 'the endless download was not stopped');
      assert.ok(endlessSent < (64 << 20), `${endlessSent} bytes were sent before the download stopped`);

      // A model list without end, or a web page where the list should be: named; the bundled models run.
      for (const [list, message] of [['endless.json', /endless\.json: the server sent more than the model list may have \(1 MiB\); stopped/],
                                     ['page.safetensors', /page\.safetensors: the server sent a web page \(text\/html\), not the model list/]]) {
        const other = await context.newPage();
        other.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
        await other.goto(`${origin}/?backend=cpu&manifest=${encodeURIComponent(`${at}/${list}`)}#img=${PHOTO}`);
        await waitReady(other, PHOTO);
        assert.match(await other.textContent('.notices'), message);
      }
      // `?model=` from a server that falls silent after its headers: stopped after 30 s, named.
      const silent = await context.newPage();
      await silent.goto(`${origin}/?backend=cpu&model=${encodeURIComponent(`${at}/silent.safetensors`)}#img=${PHOTO}`);
      await silent.waitForFunction(() => /silent\.safetensors: the server sent nothing for 30 s after 0 bytes; stopped/
        .test(document.querySelector('.notices')?.textContent ?? ''), null, { timeout: 90_000 });
      await waitReady(silent, PHOTO);
      assert.deepEqual(dialogs, []);
    });
  } finally {
    host.closeAllConnections();
    host.close();
  }
});

test('a JPEG that kills the decoder (found by fuzzing) is named and dropped; the next image runs', async () => {
  // zune-jpeg panics on this file; in the browser that aborts the worker. The page must say which
  // image did it, not send it to the new worker again, and go on with the next one.
  const bad = readFileSync(join(ROOT, 'tests/fixtures/hostile/image/crashes-2.jpg'));
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    await dropFile(page, 'fuzzed.jpg', bad, 'image/jpeg');
    await page.waitForFunction(() => /fuzzed\.jpg( stopped the worker while it was being decoded|: the image could not be decoded)/
      .test(document.querySelector('.error')?.textContent ?? ''), null, { timeout: 60_000 });
    const own = readFileSync(join(ROOT, 'dist/gallery', PHOTO));
    await dropFile(page, 'next.jpg', own, 'image/jpeg');
    await waitReady(page, 'next.jpg');
  });
});

test('script in URL values, a file name and a model card stays text; no dialog opens', async () => {
  const good = MANIFEST.models.find((m) => m.id === MANIFEST.default_pair[0]);
  const model = withCard(readFileSync(join(ROOT, 'dist/models', good.file)), (card) => ({
    ...card, name: `${payload(1)} card`, training_data: payload(2), notes: payload(3),
    source: { ...card.source, url: 'javascript:alert(4)', checkpoint: payload(5) },
  }));
  await withBrowser(false, async ({ context }) => {
    const dialogs = listenForDialogs(context);
    const page = await context.newPage();
    const query = new URLSearchParams({ backend: 'cpu', view: payload(6), model: 'javascript:alert(7)',
      manifest: 'data:text/html,<script>alert(8)</script>' });
    const hash = new URLSearchParams({ img: payload(9), m: `<svg onload=alert(10)>,${MANIFEST.default_pair[1]}`, cmap: payload(11) });
    await page.goto(`${origin}/?${query}#${hash}`);
    await waitReady(page, '.jpg');
    const notices = await page.textContent('.notices');
    for (const n of [6, 9, 11]) assert.ok(notices.includes(payload(n)), `the notices do not show payload ${n} as text: ${notices}`);
    assert.ok(notices.includes('model=javascript:alert(7)') && notices.includes('<script>alert(8)</script>'), notices);
    assert.ok(notices.includes('<svg onload=alert(10)>'), notices);

    // A file name, and a model file whose card carries script in each field the page shows.
    const photo = readFileSync(join(ROOT, 'dist/gallery', PHOTO));
    await dropFile(page, `${payload(12)}.jpg`, photo, 'image/jpeg');
    await waitReady(page, payload(12));
    await dropFile(page, `${payload(13)}.safetensors`, model, 'application/octet-stream');
    await page.waitForFunction((id) => [...document.querySelectorAll('.timing')].some((t) => t.dataset.model === id),
      `file:${payload(13)}.safetensors`, { timeout: 120_000 });
    await waitReady(page, payload(12));
    const body = await page.textContent('body');
    for (const n of [1, 2, 3, 12]) assert.ok(body.includes(payload(n)), `payload ${n} is not shown as text`);
    assert.deepEqual(await scriptable(page), []);
    await page.screenshot({ path: join(ARTIFACTS, 'script-payloads.png'), fullPage: true });
    // The state the page writes into the link carries none of them back.
    assert.doesNotMatch(await page.evaluate(() => decodeURIComponent(location.hash)), /onerror|onload|javascript:|<script/);
    assert.deepEqual(dialogs, []);
  });
});

test('races: drops faster than the page runs, switches and Cancel mid-run; it ends on the last image chosen', async () => {
  const gallery = readdirSync(join(ROOT, 'dist/gallery')).filter((f) => f.endsWith('.jpg')).sort();
  const photo = (i) => readFileSync(join(ROOT, 'dist/gallery', gallery[i % gallery.length]));
  const hybrid = MANIFEST.models.find((m) => m.id.includes('hybrid'));
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    const analysing = () => page.waitForFunction(() => /^(Opened|Analysing)/.test(document.querySelector('#status')?.textContent ?? ''),
      null, { timeout: 60_000 });

    // Eight drops in one go (one task: no time for any to be read between them).
    await page.evaluate((files) => {
      for (const { name, data } of files) {
        const transfer = new DataTransfer();
        transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' }));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    }, [...Array(8).keys()].map((i) => ({ name: `burst-${i}.jpg`, data: photo(i).toString('base64') })));
    await waitReady(page, 'burst-7.jpg');

    // A second image while the first runs.
    await dropFile(page, 'first.jpg', photo(9), 'image/jpeg');
    await analysing();
    await dropFile(page, 'second.jpg', photo(10), 'image/jpeg');
    await waitReady(page, 'second.jpg');

    // A model switched while the image runs: the run that ends shows the new pair.
    await dropFile(page, 'switch.jpg', photo(11), 'image/jpeg');
    await analysing();
    await page.selectOption('select[aria-label="Model 2"]', hybrid.id);
    await page.waitForSelector(`.timing[data-model="${hybrid.id}"]`, { state: 'attached', timeout: 120_000 });
    await waitReady(page, 'switch.jpg');

    // Cancel mid-run, then the next image: it runs.
    await dropFile(page, 'cancelled.jpg', photo(12), 'image/jpeg');
    await page.waitForFunction(() => /^Analysing/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.click('button.cancel');
    assert.match(await page.textContent('#status'), /^Cancelled/);
    await dropFile(page, 'last.jpg', photo(13), 'image/jpeg');
    await waitReady(page, 'last.jpg');

    // Settled: the status, the models and the image shown are the last ones chosen.
    await page.waitForTimeout(2000);
    assert.match(await page.textContent('#status'), /^Ready: last\.jpg .* with 2 models/);
    const shown = await page.$$eval('.timing', (t) => t.map((e) => e.dataset.model));
    assert.deepEqual(shown.sort(), [MANIFEST.default_pair[0], hybrid.id].sort());
    assert.equal(await page.$('.error'), null);
    assert.equal(await page.$('button.cancel'), null);
    assert.deepEqual(errors, []);
  });
});

test('memory: 30 varied drops (photos, PNG, GIF, WebP, CMYK, broken and oversized files) leave the renderer within its bound', async () => {
  const fixture = (name) => readFileSync(join(ROOT, 'tests/fixtures/images', name));
  const gallery = readdirSync(join(ROOT, 'dist/gallery')).filter((f) => f.endsWith('.jpg')).sort();
  const varied = [
    ...gallery.slice(0, 6).map((f) => [f, readFileSync(join(ROOT, 'dist/gallery', f)), 'image/jpeg']),
    ['palette.png', fixture('large_palette_alpha.png'), 'image/png'],
    ['cmyk.jpg', fixture('large_cmyk.jpg'), 'image/jpeg'],
    ['frames.gif', fixture('blue_then_red.gif'), 'image/gif'],
    ['plain.webp', fixture('plain.webp'), 'image/webp'],
    ['white16.png', fixture('white16.png'), 'image/png'],
    ['truncated.jpg', fixture('truncated.jpg'), 'image/jpeg'],
    ['bomb.png', fixture('bomb.png'), 'image/png'],
  ];
  const ready = (name) => (/\.(jpg|png|gif|webp)$/.test(name) && !['truncated.jpg', 'bomb.png'].includes(name));
  await withBrowser(false, async ({ context }) => {
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=cpu#img=${PHOTO}`);
    await waitReady(page, PHOTO);
    // Garbage is collected before each reading, so what is left is what the page keeps.
    const cdp = await context.newCDPSession(page);
    const resident = [];
    for (let i = 0; i < 30; i++) {
      const [file, bytes, type] = varied[i % varied.length];
      const name = `${i}-${file}`;
      await dropFile(page, name, bytes, type);
      if (ready(file)) {
        await waitReady(page, name);
      } else {
        await page.waitForFunction((n) => (document.querySelector('.error')?.textContent ?? '').includes(n), name, { timeout: 60_000 })
          .catch(async (e) => { throw new Error(`${name}: ${await page.textContent('#status')} | ${await page.textContent('.error').catch(() => '')} ${e}`); });
      }
      if (i === 14) {
        // 300 MB that the page never reads: refused by its size.
        await page.evaluate(() => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(300_000_000)], 'huge.png', { type: 'image/png' }));
          document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        });
        await page.waitForFunction(() => /huge\.png: the file has 300 MB; images of at most 250 MB are read/
          .test(document.querySelector('.error')?.textContent ?? ''), null, { timeout: 30_000 });
      }
      await cdp.send('HeapProfiler.collectGarbage');
      resident.push(rendererResident());
    }
    const mb = (b) => Math.round(b / 1e6);
    // After one round of every kind (13 drops) the wasm heaps have grown to what they need; the
    // 17 drops after must not keep growing.
    const settled = resident[12];
    const last = resident[29];
    console.log(`renderer resident set: after 1 drop ${mb(resident[0])} MB, after 13 ${mb(settled)} MB, after 30 ${mb(last)} MB (largest ${mb(Math.max(...resident))} MB)`);
    assert.ok(last - settled <= 64e6, `the renderer grew by ${mb(last - settled)} MB over the last 17 drops`);
    assert.ok(Math.max(...resident) <= 1.5e9, `the renderer reached ${mb(Math.max(...resident))} MB`);
  });
});
