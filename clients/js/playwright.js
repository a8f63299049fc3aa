// SPDX-License-Identifier: Apache-2.0
// Playwright fixtures: each worker starts its own mfa-mock (on free loopback ports) and each test
// gets it reset to a fresh process's state, plus a recipient address of its own.
//
//   import { test as base } from '@playwright/test';
//   import { mfaMockFixtures } from 'mfa-mock-client/playwright';
//   export const test = base.extend(mfaMockFixtures);
//   test('...', async ({ page, mfaMock, mfaRecipient }) => { ... });
//
// Why a process per worker and a reset per test: the clock, the config and fault injection are
// global to a mock, so recipient or session filters alone cannot isolate a test that moves the
// clock or patches the config. A worker runs its tests one at a time, so resetting its own mock
// before each test gives every test the whole mock to itself, at the cost of one process per
// worker (a few MB; it starts in well under a second), not one per test.
// With MFA_MOCK_ADMIN_URL set, the workers attach to that shared mock instead and nothing is
// reset (it would clear the other workers' state): tests then isolate themselves by filtering
// on mfaRecipient (to=) or on a session of their own.

import { MfaMock } from './index.js';

let sequence = 0;

export const mfaMockFixtures = {
  mfaMockOptions: [{}, { scope: 'worker', option: true }],

  mfaMockServer: [async ({ mfaMockOptions }, use) => {
    if (process.env.MFA_MOCK_ADMIN_URL) {
      await use(MfaMock.attach());
      return;
    }
    const mock = await MfaMock.start(mfaMockOptions);
    try {
      await use(mock);
    } finally {
      await mock.stop();
    }
  }, { scope: 'worker' }],

  mfaMock: async ({ mfaMockServer }, use) => {
    if (mfaMockServer.pid !== undefined) await mfaMockServer.reset();
    await use(mfaMockServer);
  },

  mfaRecipient: async ({}, use, testInfo) => {
    sequence += 1;
    await use(`w${testInfo.workerIndex}-t${sequence}-${process.pid}@example.com`);
  },
};

/** base.extend(mfaMockFixtures), for those who prefer a call. */
export function withMfaMock(base) {
  return base.extend(mfaMockFixtures);
}
