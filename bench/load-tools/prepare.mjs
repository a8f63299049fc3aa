#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Generates a batch of codes on a running mfa-mock and exports it for the load tools.
//
// Usage: node bench/load-tools/prepare.mjs --admin URL [--count N] [--format ndjson|csv]
//                                          [--out FILE] [--type email|phone] [--token T]
//   Defaults: --count 1000000 --format ndjson --out codes.ndjson (codes.csv for csv) --type email.
//   Prints one line: PREPARED batch=ID rows=N file=FILE
import { MfaMock } from '../../clients/js/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const admin = opt('admin', process.env.MFA_MOCK_ADMIN_URL ?? 'http://127.0.0.1:3002');
const count = Number(opt('count', '1000000'));
const format = opt('format', 'ndjson');
const out = opt('out', `codes.${format}`);
const identifierType = opt('type', 'email');

const mock = MfaMock.attach({ adminUrl: admin, token: opt('token', process.env.MFA_MOCK_ADMIN_TOKEN) });
const { batchId, created } = await mock.generate({
  count, identifierType, identifier: identifierType === 'email' ? 'load{n}@example.com' : '+1555{n}',
});
await mock.exportToFile(out, { batch: batchId, format });
console.log(`PREPARED batch=${batchId} rows=${created} file=${out}`);
