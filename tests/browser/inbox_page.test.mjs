// SPDX-License-Identifier: Apache-2.0
// The inbox page (GET / on the admin listener) in headless Debian Chromium, and CORS on the
// public listener exercised by a real browser preflight.
//
// A page on another origin (a tiny Node server on another loopback port) sends a code through
// the public API with fetch + credentials and Content-Type: application/json, which makes
// Chromium send a CORS preflight first. The inbox page shows the message without a reload; its
// copy button puts the code on the clipboard; the cross-origin page verifies that code; the
// inbox page then shows the state "verified". A screenshot is saved to artifacts/inbox-page.png.
//
//   MFA_MOCK_BINARY=build/app/mfa-mock node --test tests/browser/inbox_page.test.mjs
//
// Env: MFA_MOCK_BINARY (required), CHROMIUM_PATH (default /usr/bin/chromium),
//      ARTIFACTS_DIR (default <repo>/artifacts); the same names as run.sh passes.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { MfaMock } from 'mfa-mock-client';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const artifacts = process.env.ARTIFACTS_DIR || path.join(repo, 'artifacts');
const binary = process.env.MFA_MOCK_BINARY;
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SEND = '/api/experience/verification/mfa-verification-code';
const VERIFY = `${SEND}/verify`;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Starts mfa-mock on free loopback ports through the client (tests/browser/package.json links
// clients/js), with a JSON access log on stderr.
function startMock(options = {}) {
  assert.ok(binary, 'set MFA_MOCK_BINARY to the mfa-mock binary');
  return MfaMock.start({
    binary, timeoutMs: 60_000, ...options,
    args: ['--access-log', 'json', '--threads', '2', ...(options.args ?? [])],
  });
}

// The access-log lines (JSON) the mock has written so far.
function accessLog(mock) {
  return mock.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

// A page on another origin that calls the mock's public API from the browser.
const CLIENT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cross-origin client</title>
<link rel="icon" href="data:,"></head>
<body><h1>A sign-in UI on another origin</h1>
<script>
  async function call(base, path, body) {
    const res = await fetch(base + path, {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
</script></body></html>`;

function startClientServer() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(CLIENT_PAGE);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

let browser;

before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

describe('inbox page', () => {
  let mock;
  let client;

  before(async () => {
    mock = await startMock();
    client = await startClientServer();
  });

  after(async () => {
    await client?.close();
    const code = await mock?.stop();
    assert.equal(code, 0, `mfa-mock exit status; stderr:\n${mock?.stderr}`);
  });

  test('a code sent from another origin appears live, is copied, verified and shown verified', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mock.adminUrl });
    try {
      const inbox = await context.newPage();
      const pageErrors = [];
      inbox.on('pageerror', (e) => pageErrors.push(String(e)));
      // The page follows new codes through the inbox stream (server-sent events), not by polling.
      const streamRequest = inbox.waitForRequest((r) => r.url().includes('/admin/inbox/stream?'),
        { timeout: 30_000 });
      const response = await inbox.goto(`${mock.adminUrl}/`);
      assert.equal(response.status(), 200);
      assert.match(response.headers()['content-type'], /^text\/html/);
      await inbox.getByRole('heading', { name: 'mfa-mock inbox' }).waitFor();
      await inbox.getByText('No code sent yet').waitFor();
      // Marks this document: if the page reloaded itself, the marker would be gone.
      await inbox.evaluate(() => { window.__noReload = 'still here'; });

      await streamRequest;
      const streamed = inbox.waitForResponse((r) => r.url().includes('/admin/inbox/stream?') &&
        r.status() === 200, { timeout: 30_000 });

      // The sign-in UI on another origin sends a code (preflight + POST, with credentials).
      const ui = await context.newPage();
      await ui.goto(client.url);
      assert.notEqual(new URL(client.url).origin, new URL(mock.publicUrl).origin);
      const sendResponse = ui.waitForResponse((r) => r.url() === mock.publicUrl + SEND);
      const sent = await ui.evaluate(([base, p]) => call(base, p, { identifierType: 'email' }),
        [mock.publicUrl, SEND]);
      assert.equal(sent.status, 200, JSON.stringify(sent));
      // The body was readable by the page, so CORS allowed it; the headers say why.
      const corsHeaders = await (await sendResponse).allHeaders();
      assert.equal(corsHeaders['access-control-allow-origin'], client.url, 'the origin is reflected');
      assert.equal(corsHeaders['access-control-allow-credentials'], 'true');
      assert.match(sent.body.verificationId, /^[0-9a-z]{21}$/);
      const id = sent.body.verificationId;

      // The preflight reached the mock and was answered 204 (the access log has it).
      const preflights = accessLog(mock).filter((l) => l.listener === 'public' && l.method === 'OPTIONS');
      assert.ok(preflights.length >= 1, `no preflight in the access log:\n${mock.stderr}`);
      assert.ok(preflights.every((l) => l.status === 204), JSON.stringify(preflights));
      const sends = accessLog(mock).filter((l) => l.listener === 'public' && l.method === 'POST');
      assert.equal(sends.length, 1);
      assert.equal(sends[0].status, 200);

      // The stream that was waiting carried the new code's event.
      const event = await (await streamed).text();
      assert.ok(event.includes(`"verificationId":"${id}"`) && /^id: \d+$/m.test(event), event);

      // The message appears on the inbox page without a reload, pending.
      const row = inbox.locator(`tr[data-verification-id="${id}"]`);
      await row.waitFor({ timeout: 30_000 });
      await row.locator('.badge', { hasText: 'pending' }).waitFor({ timeout: 30_000 });
      assert.equal((await row.locator('td[data-label="Channel"]').textContent()).trim(), 'email');
      assert.equal((await row.locator('td[data-label="Recipient"]').innerText()).trim(), 'user@example.com');
      const shownCode = (await row.locator('.code').innerText()).trim();
      assert.match(shownCode, /^\d{6}$/);

      // The code matches what the admin API says was sent.
      const latest = await mock.latest();
      assert.equal(latest.verificationId, id);
      assert.equal(shownCode, latest.code);

      // Copy: the button puts the code on the clipboard.
      await row.getByRole('button', { name: 'Copy code for user@example.com' }).click();
      await row.getByRole('button', { name: 'Copy code for user@example.com' }).filter({ hasText: 'Copied' }).waitFor();
      const clipboard = await inbox.evaluate(() => navigator.clipboard.readText());
      assert.equal(clipboard, latest.code);

      // The request journal panel shows the send, body visible, no code in it.
      const journalRow = inbox.locator('#journal tr[data-status="200"]').first();
      await journalRow.waitFor({ timeout: 30_000 });
      assert.match(await journalRow.innerText(), /mfa-verification-code/);
      // The send relied on two leniencies Logto does not have (no session cookie, a credentialed
      // cross-origin answer): the header said so, and so does the page.
      assert.match(corsHeaders['mfa-mock-deviation'] ?? '', /open-session/);
      const notLogto = await journalRow.locator('td[data-label="Not as Logto"]').innerText();
      assert.match(notLogto, /open-session/);
      assert.match(notLogto, /credentialed-cors/);

      // The UI verifies the pasted code through the public API (cross-origin again).
      const verified = await ui.evaluate(([base, p, body]) => call(base, p, body),
        [mock.publicUrl, VERIFY, { verificationId: id, code: clipboard, identifierType: 'email' }]);
      assert.equal(verified.status, 200, JSON.stringify(verified));
      assert.deepEqual(verified.body, { verificationId: id });

      // The state changes to verified on the inbox page, still without a reload.
      await row.locator('.badge', { hasText: 'verified' }).waitFor({ timeout: 30_000 });
      assert.equal(await row.getAttribute('data-state'), 'verified');
      await inbox.locator('#journal tr').filter({ hasText: '/verify' }).first().waitFor({ timeout: 30_000 });
      // The journal masks the code in the verify body.
      const verifyBody = await inbox.locator('#journal tr').filter({ hasText: '/verify' }).first()
        .locator('td[data-label="Body"]').innerText();
      assert.ok(verifyBody.includes('******') && !verifyBody.includes(clipboard), verifyBody);
      assert.equal(await inbox.evaluate(() => window.__noReload), 'still here');
      assert.deepEqual(pageErrors, []);

      mkdirSync(artifacts, { recursive: true });
      const shot = path.join(artifacts, 'inbox-page.png');
      await inbox.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
    } finally {
      await context.close();
    }
  });

  test('filter, clear inbox and reset store (with a confirmation) update the page', async () => {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    try {
      const page = await context.newPage();
      const alice = await mock.send({ identifierType: 'email', identifier: 'Alice@Example.com' });
      const bob = await mock.send({ identifierType: 'phone', identifier: '+1 (555) 000-2222' });
      await page.goto(`${mock.adminUrl}/ui`);
      await page.locator(`tr[data-verification-id="${bob.verificationId}"]`).waitFor();
      await page.locator(`tr[data-verification-id="${alice.verificationId}"]`).waitFor();

      // Newest first.
      const ids = await page.locator('#messages tr[data-verification-id]').evaluateAll(
        (rows) => rows.map((r) => r.dataset.verificationId));
      assert.ok(ids.indexOf(bob.verificationId) < ids.indexOf(alice.verificationId), ids.join());

      // Filter by recipient (matched as Logto compares: case-insensitive email).
      await page.getByLabel('Filter by recipient').fill('alice@example.com');
      await page.locator(`tr[data-verification-id="${bob.verificationId}"]`).waitFor({ state: 'detached' });
      await page.locator(`tr[data-verification-id="${alice.verificationId}"]`).waitFor();
      await page.getByLabel('Filter by recipient').fill('');
      await page.locator(`tr[data-verification-id="${bob.verificationId}"]`).waitFor();

      // Reset store: cancel first (nothing happens), then confirm; the codes become "gone".
      await page.getByRole('button', { name: 'Reset store' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reset the store?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const stats1 = await mock.stats();
      assert.ok(stats1.records >= 2, JSON.stringify(stats1));
      await page.getByRole('button', { name: 'Reset store' }).click();
      await dialog.getByRole('button', { name: 'Reset store' }).click();
      await page.locator(`tr[data-verification-id="${alice.verificationId}"][data-state="gone"]`).waitFor();
      const stats2 = await mock.stats();
      assert.equal(stats2.records, 0);

      // Clear inbox, confirmed: the table empties.
      await page.getByRole('button', { name: 'Clear inbox' }).click();
      await page.getByRole('dialog', { name: 'Clear the inbox?' }).getByRole('button', { name: 'Clear inbox' }).click();
      await page.getByText('No code sent yet').waitFor();
      assert.deepEqual(await mock.inbox(), []);
      await page.screenshot({ path: path.join(artifacts, 'inbox-page-narrow.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});

describe('inbox page with --admin-token', () => {
  let mock;

  before(async () => { mock = await startMock({ token: 's3cret-token' }); });
  after(async () => { await mock?.stop(); });

  test('asks for the token, keeps it in sessionStorage and sends it as a Bearer token', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const authHeaders = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/admin/')) authHeaders.push(r.headers().authorization);
      });
      await mock.send({ identifierType: 'email', identifier: 'carol@example.com' });  // with the token
      await page.goto(`${mock.adminUrl}/`);
      const field = page.getByRole('textbox', { name: 'Admin token' });
      await field.waitFor();

      await field.fill('wrong');
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.getByText('The mock rejected this token.').waitFor();

      await field.fill('s3cret-token');
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.getByText('carol@example.com').waitFor();
      assert.equal(await page.locator('#token-panel').isHidden(), true);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('mfa-mock.adminToken')), 's3cret-token');
      assert.ok(authHeaders.includes('Bearer s3cret-token'), authHeaders.join());

      // A reload in the same tab keeps the token.
      await page.reload();
      await page.getByText('carol@example.com').waitFor();
      assert.equal(await page.locator('#token-panel').isHidden(), true);
    } finally {
      await context.close();
    }
  });
});
