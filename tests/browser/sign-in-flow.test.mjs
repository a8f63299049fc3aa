// SPDX-License-Identifier: Apache-2.0
// The whole sign-in flow in headless Debian Chromium (issue 14, part 5): an app sends the browser
// to GET /oidc/auth, which lands on docs/examples/sign-in.html with a session; the page signs in
// with username and password, gets submit's 403, verifies an MFA factor (an email code read from
// the inbox, or a TOTP code computed from the user's secret), submits and follows redirectTo back
// to the app. The mock runs with --strict, so the page works as it would against Logto. One run
// in French checks that the page shows the server's message in the browser's language.
//
// Environment: MFA_MOCK_BINARY (required), CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { MfaMock } from 'mfa-mock-client';
import { chromium } from 'playwright-core';

import { startServer } from '../../docs/examples/serve.mjs';

const binary = process.env.MFA_MOCK_BINARY;
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const FLOW_TIMEOUT_MS = 60_000;  // bounds on states the page reaches; generous for a busy machine
const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

// RFC 6238 with Logto's parameters (SHA-1, 6 digits, 30 s), for the mock's clock `nowMs`.
function totp(secretBase32, nowMs) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

describe('the sign-in flow of docs/examples/sign-in.html against a strict mock', () => {
  let mock;
  let proxy;
  let browser;
  let origin;

  before(async () => {
    assert.ok(binary, 'set MFA_MOCK_BINARY to the mfa-mock binary (tests/browser/run.sh does)');
    const dir = mkdtempSync(path.join(tmpdir(), 'mfa-sign-in-'));
    const users = path.join(dir, 'users.json');
    writeFileSync(users, JSON.stringify([
      { id: 'dave', username: 'dave', primaryEmail: 'dave.smith@example.com', password: 'correct horse' },
      { id: 'tess', username: 'tess', password: 'tess secret', totpSecret: TOTP_SECRET },
    ]));
    mock = await MfaMock.start({
      binary,
      args: ['--strict', '--users', users, '--mfa-factors', 'EmailVerificationCode,Totp',
        '--log-level', 'warn'],
      timeoutMs: 60_000,
    });
    proxy = await startServer({ port: 0, publicUrl: mock.publicUrl, adminUrl: mock.adminUrl });
    origin = new URL(proxy.url).origin;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: LAUNCH_ARGS, timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    const code = await mock?.stop();
    assert.equal(code, 0, 'mfa-mock exit status');
  });

  // Opens /oidc/auth as an app would and signs in with the password; returns the page on the MFA
  // screen.
  async function toMfaScreen(context, username, password) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const response = await page.goto(`${origin}/oidc/auth?client_id=app&redirect_uri=${encodeURIComponent(`${origin}/callback`)}`);
    assert.equal(new URL(page.url()).pathname, '/sign-in', 'GET /oidc/auth lands on the sign-in page');
    assert.equal(response.status(), 200);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Verify it is you' }).waitFor({ timeout: FLOW_TIMEOUT_MS });
    assert.deepEqual(errors, []);
    return page;
  }

  it('signs in with a password and an email code, and follows redirectTo', async () => {
    const context = await browser.newContext();
    try {
      const page = await toMfaScreen(context, 'dave', 'correct horse');
      // submit's 403 listed the factor with Logto's masked address.
      const send = page.getByRole('button', { name: 'Send a code to dave****@example.com' });
      const cursor = await mock.cursor({ to: 'dave.smith@example.com' });
      await send.click();
      const message = await mock.waitForCode({ to: 'dave.smith@example.com', after: cursor, timeoutMs: FLOW_TIMEOUT_MS });
      // A wrong code first: the page shows Logto's message.
      await page.getByLabel('The code we sent you').fill(message.code === '000000' ? '111111' : '000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'Invalid verification code.' }).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.getByLabel('The code we sent you').fill(message.code);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${origin}/callback`, { timeout: FLOW_TIMEOUT_MS });
      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('signs in with a TOTP code from the user\'s secret', async () => {
    const context = await browser.newContext();
    try {
      const page = await toMfaScreen(context, 'tess', 'tess secret');
      await page.getByRole('button', { name: 'Use your authenticator app' }).click();
      const clock = await mock.clock();
      await page.getByLabel('The code of your authenticator app').fill(totp(TOTP_SECRET, Date.parse(clock.now)));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${origin}/callback`, { timeout: FLOW_TIMEOUT_MS });
    } finally {
      await context.close();
    }
  });

  it('shows the server\'s messages in French to a French browser', async () => {
    const context = await browser.newContext({ locale: 'fr' });
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/oidc/auth?redirect_uri=${encodeURIComponent(`${origin}/callback`)}`);
      await page.getByLabel('Username').fill('dave');
      await page.getByLabel('Password').fill('wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert')
        .filter({ hasText: "Informations d'identification non valides. Veuillez vérifier votre saisie." })
        .waitFor({ timeout: FLOW_TIMEOUT_MS });
      // And a wrong email code, on the MFA screen.
      await page.getByLabel('Password').fill('correct horse');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const cursor = await mock.cursor({ to: 'dave.smith@example.com' });
      await page.getByRole('button', { name: /^Send a code to / }).click();
      await page.getByLabel('The code we sent you').waitFor();
      const latest = await mock.waitForCode({ to: 'dave.smith@example.com', after: cursor, timeoutMs: FLOW_TIMEOUT_MS });
      await page.getByLabel('The code we sent you').fill(latest.code === '000000' ? '111111' : '000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'Code de vérification invalide.' })
        .waitFor({ timeout: FLOW_TIMEOUT_MS });
    } finally {
      await context.close();
    }
  });
});
