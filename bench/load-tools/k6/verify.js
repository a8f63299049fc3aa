// SPDX-License-Identifier: Apache-2.0
// @ts-check
// k6 against mfa-mock's verify route: every iteration a first-time correct (id, code) pair from
// an export, each row used once (iterationInTest indexes the rows), so every answer should be 200.
//
//   k6 run -e CODES=codes.json -e URL=http://127.0.0.1:3001 -e VUS=32 -e DURATION=10s \
//     bench/load-tools/k6/verify.js
//
// CODES: an export, best format=json (one JSON.parse; NDJSON and CSV work too; codes stay
// strings). The run stops when the rows run out (shared-iterations over exactly the rows) or
// after DURATION; the thresholds fail it on any non-200. Not run in this repository's CI (k6 is not a Debian package): tsc checks this file
// against @types/k6 and the node test runs codes.js, its data preparation.
import http from 'k6/http';
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { VERIFY_PATH, parseCodes, verifyBody } from '../codes.js';

const rows = new SharedArray('codes', () => parseCodes(open(__ENV.CODES || 'codes.json')));
const url = (__ENV.URL || 'http://127.0.0.1:3001') + VERIFY_PATH;

export const options = {
  scenarios: {
    verify: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 32),
      iterations: rows.length,
      maxDuration: __ENV.DURATION || '10s',
    },
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
  },
};

export default function () {
  const row = rows[exec.scenario.iterationInTest];
  const res = http.post(url, verifyBody(row), { headers: { 'Content-Type': 'application/json' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
