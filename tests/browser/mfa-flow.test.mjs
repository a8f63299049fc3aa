// SPDX-License-Identifier: Apache-2.0
// Runs docs/examples/mfa-flow.html end to end in headless Debian Chromium, driven by Playwright:
// the page served by docs/examples/serve.mjs (same origin for the page, /api and /admin), a real
// mfa-mock behind it. Run through tests/browser/run.sh, or:
//   MFA_MOCK_BINARY=build/app/mfa-mock node --test tests/browser/mfa-flow.test.mjs
//
// Environment: MFA_MOCK_BINARY (required), CHROMIUM_PATH (default /usr/bin/chromium),
// ARTIFACTS_DIR (default <repo>/artifacts) for screenshots.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { MfaMock } from 'mfa-mock-client';
import { chromium } from 'playwright-core';

import { startServer } from '../../docs/examples/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const binary = process.env.MFA_MOCK_BINARY;
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const artifacts = process.env.ARTIFACTS_DIR || path.join(root, 'artifacts');
const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// Bounds for states awaited in the page: generous for a busy machine (a wait ends when the
// state is reached).
const FLOW_TIMEOUT_MS = 60_000;

// Whether the binary has the public listener's CORS option (then the page may call the public
// API on the mock's own origin).
function hasCorsOption() {
  const help = spawnSync(binary, ['--help'], { encoding: 'utf8', timeout: 60_000 });
  return /--cors-origin/.test(help.stdout || '');
}

describe('docs/examples/mfa-flow.html in headless Chromium', () => {
  let mock;
  let proxy;
  let browser;
  let cors = false;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    cors = hasCorsOption();
    assert.ok(binary, 'set MFA_MOCK_BINARY to the mfa-mock binary (tests/browser/run.sh does)');
    mock = await MfaMock.start({
      binary, args: ['--log-level', 'warn', ...(cors ? ['--cors-origin', 'reflect'] : [])], timeoutMs: 60_000,
    });
    proxy = await startServer({ port: 0, publicUrl: mock.publicUrl, adminUrl: mock.adminUrl });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: LAUNCH_ARGS,
      timeout: 30_000,
    });
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await mock?.stop();
  });

  // Opens the page in a fresh context (no cookies), fills the form, runs the flow and waits for
  // its end. Returns { page, context, status, interaction }.
  async function runPage(t, { userId, email, phone, channel, wrongFirst = false, screenshot,
                              publicBase = '' }) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const consoleErrors = [];
    // Chromium logs every 4xx answer as "Failed to load resource"; the flow expects some.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        consoleErrors.push(m.text());
      }
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    t.after(() => context.close());

    await page.goto(proxy.url);
    await page.fill('#publicBase', publicBase);
    await page.fill('#userId', userId);
    await page.fill('#email', email);
    await page.fill('#phone', phone);
    await page.selectOption('#channel', channel);
    if (wrongFirst) await page.check('#wrongFirst');
    await page.click('#run');
    const state = await page.waitForFunction(
      () => ['done', 'error'].includes(document.getElementById('status').dataset.state)
        ? document.getElementById('status').dataset.state : null,
      null, { timeout: FLOW_TIMEOUT_MS });
    const finalState = await state.jsonValue();
    if (screenshot) {
      await page.screenshot({ path: path.join(artifacts, screenshot), fullPage: true });
    }
    const status = await page.textContent('#status');
    assert.equal(finalState, 'done',
                 `the flow ended in "${finalState}": ${status}\nconsole: ${consoleErrors.join('\n')}` +
                 `\nmfa-mock stderr: ${mock.stderr}`);
    assert.deepEqual(consoleErrors, []);
    const interaction = JSON.parse(await page.textContent('#interaction'));
    return { page, context, status, interaction };
  }

  it('runs send, inbox and verify by email and shows the verified interaction', async (t) => {
    const { page, context, interaction } = await runPage(t, {
      userId: 'browser-email', email: 'Browser.Email@example.com', phone: '+15555550161',
      channel: 'email', screenshot: 'mfa-flow-email.png',
    });
    assert.equal(interaction.interactionEvent, 'SignIn');
    assert.equal(interaction.userId, 'browser-email');
    assert.equal(interaction.verificationRecords.length, 1);
    const [record] = interaction.verificationRecords;
    assert.equal(record.type, 'MfaEmailVerificationCode');
    assert.deepEqual(record.identifier, { type: 'email', value: 'Browser.Email@example.com' });
    assert.equal(record.verified, true);
    assert.equal('code' in record, false);

    // Every step answered as expected; the page logged eight or more exchanges.
    const steps = await page.locator('#log li.step').count();
    assert.ok(steps >= 8, `only ${steps} steps logged`);

    // The mock saw the same: the session is the page's, identified, with the verified record.
    const sessionId = await page.getAttribute('#status', 'data-session-id');
    const verificationId = await page.getAttribute('#status', 'data-verification-id');
    assert.equal(record.id, verificationId);
    const session = await mock.session(sessionId);
    assert.equal(session.userId, 'browser-email');
    assert.deepEqual(session.verificationIds, [verificationId]);
    const stored = await mock.verification(verificationId);
    assert.equal(stored.verified, true);
    assert.equal(stored.consumed, true);

    // The browser carried the _interaction cookie for the page's origin.
    const cookies = await context.cookies(proxy.url);
    assert.equal(cookies.find((c) => c.name === '_interaction')?.value, sessionId);
  });

  it('runs the flow by phone and shows Logto\'s error body for a wrong code', async (t) => {
    const { page, interaction } = await runPage(t, {
      userId: 'browser-phone', email: 'browser.phone@example.com', phone: '+15555550162',
      channel: 'phone', wrongFirst: true, screenshot: 'mfa-flow-phone-wrong-code-first.png',
    });
    const [record] = interaction.verificationRecords;
    assert.equal(record.type, 'MfaPhoneVerificationCode');
    assert.deepEqual(record.identifier, { type: 'phone', value: '+15555550162' });
    assert.equal(record.verified, true);
    const shown = page.locator('#log .ui-message');
    assert.equal(await shown.count(), 1);
    assert.equal(await shown.textContent(), 'Invalid verification code.');
    assert.equal(await shown.getAttribute('data-code'), 'verification_code.code_mismatch');
  });

  it('running the page twice reuses the user and starts a fresh session', async (t) => {
    const first = await runPage(t, {
      userId: 'browser-again', email: 'again@example.com', phone: '+15555550163',
      channel: 'email',
    });
    // Same context, second run: the user exists (409, reused), a new session replaces the cookie.
    const before = await first.page.getAttribute('#status', 'data-session-id');
    await first.page.click('#run');
    await first.page.waitForFunction(
      (old) => document.getElementById('status').dataset.state === 'done' &&
               document.getElementById('status').dataset.sessionId !== old,
      before, { timeout: FLOW_TIMEOUT_MS });
    const after = await first.page.getAttribute('#status', 'data-session-id');
    assert.notEqual(after, before);
    const cookies = await first.context.cookies(proxy.url);
    assert.equal(cookies.filter((c) => c.name === '_interaction').length, 1);
    assert.equal(cookies.find((c) => c.name === '_interaction').value, after);
  });

  it('calls the public API on the mock\'s own origin with CORS and credentials', async (t) => {
    if (!cors) {
      t.skip('this mfa-mock has no --cors-origin');
      return;
    }
    const { page, interaction } = await runPage(t, {
      userId: 'browser-cors', email: 'cors@example.com', phone: '+15555550164',
      channel: 'email', publicBase: mock.publicUrl, screenshot: 'mfa-flow-cors.png',
    });
    assert.equal(interaction.userId, 'browser-cors');
    assert.equal(interaction.verificationRecords[0].verified, true);
    // The page really went cross-origin for the public routes.
    const urls = await page.locator('#log .req').allTextContents();
    assert.ok(urls.some((u) => u === `PUT ${mock.publicUrl}/api/experience`), urls.join('\n'));
  });

  it('PUT /api/experience from fetch sets an HttpOnly SameSite=Lax cookie the browser sends back',
     async (t) => {
       const context = await browser.newContext();
       t.after(() => context.close());
       const page = await context.newPage();
       await page.goto(proxy.url);
       const result = await page.evaluate(async () => {
         const put = await fetch('/api/experience', {
           method: 'PUT', credentials: 'include',
           headers: { 'Content-Type': 'application/json' },
           body: JSON.stringify({ interactionEvent: 'Register' }),
         });
         const view = await fetch('/api/experience/interaction', { credentials: 'include' });
         return {
           put: put.status, visibleToScript: document.cookie.includes('_interaction'),
           view: view.status, body: await view.json(),
         };
       });
       assert.equal(result.put, 204);
       assert.equal(result.visibleToScript, false, 'the cookie must be HttpOnly');
       assert.equal(result.view, 200);
       assert.deepEqual(result.body,
                        { interactionEvent: 'Register', profile: {}, mfa: {}, verificationRecords: [],
                          captcha: { verified: false, skipped: false } });
       const [cookie] = (await context.cookies(proxy.url)).filter((c) => c.name === '_interaction');
       assert.ok(cookie, 'no _interaction cookie stored');
       assert.equal(cookie.httpOnly, true);
       assert.equal(cookie.sameSite, 'Lax');
       assert.equal(cookie.path, '/');
       assert.match(cookie.value, /^[0-9a-z]{21}$/);
     });
});
