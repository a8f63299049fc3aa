// SPDX-License-Identifier: Apache-2.0
// The declarations (index.d.ts, playwright.d.ts) compile, and test/types.ts and the Playwright
// spec use them as a TypeScript user would: tsc --noEmit with the pinned typescript.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('tsc --noEmit accepts the declarations and their use', () => {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'],
    { cwd: root, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
