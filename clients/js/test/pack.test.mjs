// SPDX-License-Identifier: Apache-2.0
// npm pack makes an installable tarball: installed into a scratch project (offline; the package
// has no runtime dependency), it imports, starts the mock, and its types resolve for tsc.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('the packed tarball installs into another project, imports and starts the mock', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mfa-mock-pack-'));
  try {
    const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', dir],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    const files = packed[0].files.map((f) => f.path).sort();
    assert.deepEqual(files, ['README.md', 'index.d.ts', 'index.js', 'package.json', 'playwright.d.ts', 'playwright.js']);
    const tarball = path.join(dir, packed[0].filename);

    const project = path.join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
      { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });

    writeFileSync(path.join(project, 'main.mjs'), `
      import { MfaMock } from 'mfa-mock-client';
      import { mfaMockFixtures } from 'mfa-mock-client/playwright';
      const mock = await MfaMock.start();
      const [r] = await mock.seed({ identifierType: 'email', code: '000123' });
      const answer = await mock.verifyCode({ ...r });
      console.log(JSON.stringify({ status: answer.status, code: r.code,
        fixtures: Object.keys(mfaMockFixtures).sort(), exit: await mock.stop() }));
    `);
    const out = execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), {
      status: 200, code: '000123', exit: 0,
      fixtures: ['mfaMock', 'mfaMockOptions', 'mfaMockServer', 'mfaRecipient'],
    });

    writeFileSync(path.join(project, 'check.ts'), `
      import { MfaMock, type InboxMessage } from 'mfa-mock-client';
      import type { MfaMockTestFixtures } from 'mfa-mock-client/playwright';
      export async function f(m: MfaMock, t: MfaMockTestFixtures): Promise<InboxMessage> {
        return m.waitForCode({ to: t.mfaRecipient });
      }
      // @ts-expect-error no such method
      export const g = (m: MfaMock) => m.nope();
    `);
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['check.ts'],
    }));
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      { cwd: project, encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
