#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// autocannon against the verify route, every request a first-time correct (id, code) pair taken
// from an export (each row sent once), so every answer should be 200.
//
// Usage: node bench/load-tools/autocannon.mjs --url PUBLIC_URL --codes codes.ndjson
//                                             [--duration 10s] [--connections 64]
//   Prints autocannon's table, then one line:
//   LOAD_RESULT {"requests":N,"rps":R,"p99Ms":P,"non200":0,"errors":0,"timeouts":0,"exhausted":false}
//   Exit status 1 when any answer was not 200, a request failed, or the codes ran out.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { VERIFY_PATH, parseCodes, rowCursor, verifyBody } from './codes.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const url = opt('url', 'http://127.0.0.1:3001');
const rows = parseCodes(readFileSync(opt('codes', 'codes.ndjson'), 'utf8'));
const cursor = rowCursor(rows);
let exhausted = false;

const instance = autocannon({
  url,
  duration: Number(String(opt('duration', '10')).replace(/s$/, '')),  // 10 or 10s
  connections: Number(opt('connections', '64')),
  pipelining: 1,  // mfa-mock answers pipelined requests in order, but docs/api.md advises against it
  requests: [{
    method: 'POST',
    path: VERIFY_PATH,
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => {
      const row = cursor.next();
      if (!row) {
        // autocannon cannot skip a request: send an empty body (a 400, counted) and stop.
        exhausted = true;
        instance.stop();
        return { ...request, body: '{}' };
      }
      return { ...request, body: verifyBody(row) };
    },
  }],
}, (err, result) => {
  if (err) throw err;
  const summary = {
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    non200: Object.entries(result.statusCodeStats ?? {})
      .filter(([status]) => status !== '200').reduce((n, [, s]) => n + s.count, 0),
    errors: result.errors,
    timeouts: result.timeouts,
    exhausted,
    codesUsed: cursor.used,
  };
  console.log(autocannon.printResult(result));
  console.log(`LOAD_RESULT ${JSON.stringify(summary)}`);
  process.exitCode = summary.non200 || summary.errors || summary.timeouts || exhausted ? 1 : 0;
});
