// SPDX-License-Identifier: Apache-2.0
// The Playwright fixture: every test starts from a fresh mock state although tests before it, in
// the same worker, moved the clock, patched the config, seeded and sent. Run by
// test/playwright.test.mjs, which checks the mocks' PIDs (one per worker, all stopped after).

import { appendFileSync } from 'node:fs';
import { test as base, expect } from '@playwright/test';
import { mfaMockFixtures } from 'mfa-mock-client/playwright';
import type { MfaMockTestFixtures, MfaMockWorkerFixtures } from 'mfa-mock-client/playwright';

const test = base.extend<MfaMockTestFixtures, MfaMockWorkerFixtures>(mfaMockFixtures);

for (let i = 1; i <= 6; i++) {
  test(`test ${i} starts from a fresh mock and may change all of it`, async ({ mfaMock, mfaRecipient }) => {
    appendFileSync(process.env.FIXTURE_PID_FILE!, `${mfaMock.pid} ${mfaRecipient}\n`);
    expect(await mfaMock.inbox()).toEqual([]);
    expect(await mfaMock.requests()).toEqual([]);
    expect((await mfaMock.clock()).offsetSeconds).toBe(0);
    expect((await mfaMock.config()).fixedCode).toBeNull();
    expect((await mfaMock.stats()).records).toBe(0);

    await mfaMock.patchConfig({ fixedCode: `00000${i}` });
    await mfaMock.advanceClock(3600 * i);
    await mfaMock.seed({ verificationId: `left-by-${i}`, identifierType: 'email', code: '111111' });
    const after = await mfaMock.cursor({ to: mfaRecipient });
    const sent = await mfaMock.sendCode({ identifierType: 'email' });
    expect(sent.status).toBe(200);
    await mfaMock.send({ identifierType: 'email', identifier: mfaRecipient });
    const message = await mfaMock.waitForCode({ to: mfaRecipient, after, timeoutMs: 10_000 });
    expect(message.code).toBe(`00000${i}`);
    // A code the mock sent has a record to verify; a connector's message would not.
    if (message.state === 'external') throw new Error('expected a code the mock sent');
    expect((await mfaMock.verifyCode({ ...message, identifierType: 'email' })).status).toBe(200);
  });
}
