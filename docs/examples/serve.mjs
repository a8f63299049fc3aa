#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Serves mfa-flow.html and forwards the API calls it makes to a running mfa-mock, so that the
// page, the public API and the admin API share one origin. The admin listener sends no CORS
// headers, and the _interaction cookie must travel with the API calls; a same-origin reverse
// proxy is also how a front end usually reaches Logto in development (e.g. a Vite
// `server.proxy` entry).
//
//   node docs/examples/serve.mjs [--port 8080] [--host 127.0.0.1]
//                                [--public http://127.0.0.1:3001] [--admin http://127.0.0.1:3002]
//
//   /                 -> redirect to /mfa-flow.html
//   /mfa-flow.html    -> this directory's mfa-flow.html
//   /api/..., /oidc/... -> the public listener (Logto's routes), headers and cookies untouched
//   /sign-in          -> sign-in.html (where GET /oidc/auth redirects: the sign-in flow)
//   /callback         -> a "Signed in" page (the app's redirect_uri)
//   /admin/...        -> the admin listener (users, sessions, inbox)
//
// Node 18 or newer, no dependencies. `--port 0` picks a free port; the URL is printed.

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// Hop-by-hop headers are not forwarded (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);

function forward(req, res, target) {
  const url = new URL(req.url, target);
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers.host = url.host;
  const upstream = http.request(
    { protocol: url.protocol, hostname: url.hostname, port: url.port, method: req.method,
      path: url.pathname + url.search, headers },
    (answer) => {
      const out = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode, out);
      answer.pipe(res);
    });
  upstream.on('error', (err) => {
    if (res.headersSent) return res.destroy(err);
    res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({
      code: 'proxy.upstream_unreachable',
      message: `mfa-mock at ${target} did not answer: ${err.message}`,
    }));
  });
  req.pipe(upstream);
}

// Starts the server; resolves to { server, url, close() } once it listens.
export async function startServer({
  host = '127.0.0.1',
  port = 8080,
  publicUrl = 'http://127.0.0.1:3001',
  adminUrl = 'http://127.0.0.1:3002',
} = {}) {
  const page = path.join(here, 'mfa-flow.html');
  const server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    if (pathname.startsWith('/api/') || pathname === '/api' || pathname.startsWith('/oidc/')) {
      return forward(req, res, publicUrl);
    }
    // The sign-in page GET /oidc/auth redirects to (--sign-in-url /sign-in), and the app's
    // callback that submit's redirectTo names.
    if (req.method === 'GET' && (pathname === '/sign-in' || pathname === '/callback')) {
      const file = pathname === '/sign-in' ? 'sign-in.html' : null;
      if (!file) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return res.end('<!doctype html><html lang="en"><title>Signed in</title><h1>Signed in</h1>\n');
      }
      try {
        const body = await readFile(path.join(here, file));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return res.end(body);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`cannot read ${file}: ${err.message}\n`);
      }
    }
    if (pathname.startsWith('/admin/') || pathname === '/healthz') {
      return forward(req, res, adminUrl);
    }
    if (req.method === 'GET' && pathname === '/') {
      res.writeHead(302, { location: '/mfa-flow.html' });
      return res.end();
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && pathname === '/mfa-flow.html') {
      try {
        const body = await readFile(page);
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-length': body.length,
        });
        return res.end(req.method === 'HEAD' ? undefined : body);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`cannot read ${page}: ${err.message}\n`);
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found. The page is at /mfa-flow.html.\n');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}/mfa-flow.html`;
  return {
    server,
    url,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}

function parseArgs(argv) {
  const options = {};
  const names = { '--port': 'port', '--host': 'host', '--public': 'publicUrl', '--admin': 'adminUrl' };
  for (let i = 0; i < argv.length; i++) {
    const name = names[argv[i]];
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node serve.mjs [--port 8080] [--host 127.0.0.1] ' +
                  '[--public http://127.0.0.1:3001] [--admin http://127.0.0.1:3002]');
      process.exit(0);
    }
    if (!name || i + 1 >= argv.length) {
      console.error(`serve.mjs: unknown or incomplete option '${argv[i]}' (see --help)`);
      process.exit(2);
    }
    options[name] = name === 'port' ? Number(argv[++i]) : argv[++i];
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const options = parseArgs(process.argv.slice(2));
  const { url } = await startServer(options);
  console.log(`mfa-flow page: ${url}`);
  console.log(`  /api/*   -> ${options.publicUrl ?? 'http://127.0.0.1:3001'}`);
  console.log(`  /admin/* -> ${options.adminUrl ?? 'http://127.0.0.1:3002'}`);
}
