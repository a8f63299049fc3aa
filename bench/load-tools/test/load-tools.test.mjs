// SPDX-License-Identifier: Apache-2.0
// The load tools' scripts against the real binary (MFA_MOCK_BIN): a short bounded autocannon run
// and a headless Locust run (5 s each, loopback, a freshly generated batch each) with zero
// non-200 answers, checked by the tool and by the mock's own verify counters; k6's script
// type-checked against @types/k6 and its data preparation (codes.js) run here under node.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { MfaMock } from '../../../clients/js/index.js';
import { parseCodes, rowCursor, verifyBody, VERIFY_PATH } from '../codes.js';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = process.env.LOAD_SECONDS ?? '5';

// Runs a command to its end; resolves to { status, stdout, stderr }.
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function loadResult(output) {
  const line = output.split('\n').find((l) => l.startsWith('LOAD_RESULT '));
  assert.ok(line, `no LOAD_RESULT line in:\n${output}`);
  return JSON.parse(line.slice('LOAD_RESULT '.length));
}

// The mock's verify outcomes (mfa_mock_verify_attempts_total), summed over identifier types.
async function verifyOutcomes(mock) {
  const text = await (await mock.fetchAdmin('/metrics')).text();
  const outcomes = {};
  for (const m of text.matchAll(/^mfa_mock_verify_attempts_total\{[^}]*outcome="([a-z_]+)"[^}]*\} (\S+)$/gm)) {
    outcomes[m[1]] = (outcomes[m[1]] ?? 0) + Number(m[2]);
  }
  return outcomes;
}

function difference(before, after) {
  const d = {};
  for (const [k, v] of Object.entries(after)) {
    if (v - (before[k] ?? 0) !== 0) d[k] = v - (before[k] ?? 0);
  }
  return d;
}

describe('load tools against the mock', () => {
  let mock;
  let dir;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mfa-mock-load-'));
    mock = await MfaMock.start({
      args: ['--access-log', 'off', '--journal-size', '0', '--max-records', '0', '--log-level', 'warn'],
    });
  });
  after(async () => {
    assert.equal(await mock?.stop(), 0, mock?.stderr);
    if (dir) rmSync(dir, { recursive: true });
  });

  async function batch(count, format) {
    const { batchId } = await mock.generate({ count, identifierType: 'email', identifier: 'load{n}@example.com' });
    const file = path.join(dir, `${batchId}.${format}`);
    await mock.exportToFile(file, { batch: batchId, format });
    return file;
  }

  test(`autocannon: ${SECONDS} s of first-time verifies, every answer 200`, async () => {
    const codes = await batch(1_000_000, 'ndjson');
    const before = await verifyOutcomes(mock);
    const r = await run(process.execPath, [path.join(here, 'autocannon.mjs'), '--url', mock.publicUrl,
      '--codes', codes, '--duration', SECONDS, '--connections', '16'], { cwd: here });
    const result = loadResult(r.stdout);
    console.log(`autocannon: ${JSON.stringify(result)}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(result.non200, 0);
    assert.equal(result.errors, 0);
    assert.equal(result.exhausted, false);
    assert.ok(result.requests > 100, `only ${result.requests} requests`);
    // The mock saw only successes, at least as many as autocannon counted (some may have been
    // in flight when it stopped).
    const seen = difference(before, await verifyOutcomes(mock));
    assert.deepEqual(Object.keys(seen), ['success'], JSON.stringify(seen));
    assert.ok(seen.success >= result.requests && seen.success <= result.codesUsed, JSON.stringify({ seen, result }));
  });

  test(`Locust: ${SECONDS} s headless from a CSV export, every answer 200`, async () => {
    const codes = await batch(1_000_000, 'csv');  // read lazily: Locust starts at once
    const before = await verifyOutcomes(mock);
    const r = await run('locust', ['-f', path.join(here, 'locustfile.py'), '--headless', '-u', '16', '-r', '16',
      '-t', `${SECONDS}s`, '--host', mock.publicUrl, '--only-summary', '--stop-timeout', '5'],
    { cwd: dir, env: { ...process.env, MFA_CODES: codes } });
    const output = r.stdout + r.stderr;
    const result = loadResult(output);
    console.log(`locust: ${JSON.stringify(result)}`);
    assert.equal(r.status, 0, output);
    assert.equal(result.failures, 0);
    assert.equal(result.exhausted, false);
    assert.ok(result.requests > 100, `only ${result.requests} requests`);
    // Only successes; requests cut off by the end of the run reach the mock but not Locust's stats.
    const seen = difference(before, await verifyOutcomes(mock));
    assert.deepEqual(Object.keys(seen), ['success'], JSON.stringify(seen));
    assert.ok(seen.success >= result.requests && seen.success <= result.codesUsed, JSON.stringify({ seen, result }));
  });

  test('k6: the data preparation (codes.js) reads every export format alike and each row verifies once', async () => {
    const json = await batch(400, 'json');
    const batchId = path.basename(json, '.json');
    const rows = parseCodes(readFileSync(json, 'utf8'));
    assert.equal(rows.length, 400);
    for (const format of ['ndjson', 'csv']) {
      assert.deepEqual(parseCodes(await mock.exportText({ batch: batchId, format })), rows, format);
    }
    assert.throws(() => parseCodes(readFileSync(json, 'utf8').replace(/\n\]\n$/, '\n')), SyntaxError,
      'an export cut short does not parse');
    assert.ok(rows.every((r) => /^\d{6}$/.test(r.code)));
    assert.ok(rows.some((r) => r.code.startsWith('0')), 'a leading zero among 400 codes');
    // As k6's shared-iterations executor does: iteration i takes row i, 8 VUs at a time.
    const cursor = rowCursor(rows);
    const statuses = [];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let row = cursor.next(); row; row = cursor.next()) {
        const res = await fetch(mock.publicUrl + VERIFY_PATH, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: verifyBody(row),
        });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    }));
    assert.equal(statuses.length, 400);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(cursor.next(), null);
  });
});

test('k6: bench/load-tools/k6/verify.js type-checks against @types/k6', () => {
  const tsc = spawnSync(process.execPath, [path.join(here, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'],
    { cwd: here, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
