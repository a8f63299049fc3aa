// SPDX-License-Identifier: Apache-2.0
// Types of mfa-mock-client/playwright. Structural, so they do not import @playwright/test:
// pass mfaMockFixtures to test.extend<MfaMockTestFixtures, MfaMockWorkerFixtures>() for typed
// fixtures.

import type { MfaMock, StartOptions } from './index.js';

export interface MfaMockTestFixtures {
  /** The worker's mock, reset before this test (attached mocks are not reset). */
  mfaMock: MfaMock;
  /** An email address no other test uses: filter the inbox and journal with to=. */
  mfaRecipient: string;
}

export interface MfaMockWorkerFixtures {
  /** Options for MfaMock.start in each worker (test.use({ mfaMockOptions: ... })). */
  mfaMockOptions: StartOptions;
  mfaMockServer: MfaMock;
}

export declare const mfaMockFixtures: {
  // Playwright's fixture tuples; typed loosely so that any @playwright/test version accepts them.
  [name: string]: any;
};

export function withMfaMock<T extends { extend: (fixtures: any) => any }>(base: T): ReturnType<T['extend']>;
