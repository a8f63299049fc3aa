// SPDX-License-Identifier: Apache-2.0
// Runs the Playwright fixture's spec (test/playwright/) with @playwright/test's runner, two
// workers: every test passes (so each one saw a fresh mock), the tests of one worker shared its
// process, and no mock outlives the run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('each Playwright test gets its own mock state; one mock per worker, stopped afterwards', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mfa-mock-fixture-'));
  try {
    const pidFile = path.join(dir, 'pids');
    const run = spawnSync(process.execPath,
      [path.join(root, 'node_modules/@playwright/test/cli.js'), 'test', '-c', 'test/playwright/playwright.config.mjs'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, FIXTURE_PID_FILE: pidFile, FIXTURE_OUTPUT_DIR: path.join(dir, 'results') }, timeout: 120_000 });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /6 passed/);
    const lines = readFileSync(pidFile, 'utf8').trim().split('\n').map((l) => l.split(' '));
    assert.equal(lines.length, 6);
    const pids = new Set(lines.map(([pid]) => Number(pid)));
    assert.ok(pids.size >= 1 && pids.size <= 2, `one mock per worker: ${[...pids]}`);
    assert.equal(new Set(lines.map(([, recipient]) => recipient)).size, 6, 'a recipient per test');
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `mock ${pid} still runs`);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});
