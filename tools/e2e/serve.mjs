// A static file server for dist/ (and, for the embed test, a page on another port that frames it).
// Usage: node tools/e2e/serve.mjs [dir] [port]   (the README's serve command uses it too)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.jpg': 'image/jpeg', '.png': 'image/png',
  '.tsv': 'text/tab-separated-values; charset=utf-8', '.safetensors': 'application/octet-stream', '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream',
};

/** Serves `root` at `port` (0 = any free port); resolves to the server once listening. */
export function serveDir(root, port = 0, { log = false, cors = true } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let path = normalize(join(base, decodeURIComponent(url.pathname)));
    if (!path.startsWith(base)) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      const body = await readFile(path);
      const headers = { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
      if (cors) headers['access-control-allow-origin'] = '*';
      res.writeHead(200, headers).end(body);
      if (log) console.log(`200 ${req.method} ${url.pathname}`);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain', ...(cors ? { 'access-control-allow-origin': '*' } : {}) }).end('not found');
      if (log) console.log(`404 ${req.method} ${url.pathname}`);
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

/** Serves one HTML string at every path. */
export function servePage(html, port = 0) {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] ?? 'dist';
  const port = Number(process.argv[3] ?? 8080);
  const server = await serveDir(dir, port, { log: false });
  console.log(`vitscope explorer: http://127.0.0.1:${server.address().port}/  (serving ${dir}; Ctrl-C stops)`);
}
