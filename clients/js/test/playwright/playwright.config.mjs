// SPDX-License-Identifier: Apache-2.0
// Runs fixture.spec.ts (test/playwright.test.mjs starts this): two workers, no browser needed.
export default {
  testDir: '.',
  testMatch: 'fixture.spec.ts',
  workers: 2,
  fullyParallel: true,
  retries: 0,
  reporter: 'line',
  timeout: 30_000,
  // Playwright's results (none worth keeping here) out of the source tree.
  outputDir: process.env.FIXTURE_OUTPUT_DIR ?? '/tmp/mfa-mock-fixture-results',
};
