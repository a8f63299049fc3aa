// SPDX-License-Identifier: Apache-2.0
// mfa-mock-client against the real binary (MFA_MOCK_BIN): every wrapped route, start/attach/stop.
//   MFA_MOCK_BIN=build/app/mfa-mock node --test clients/js/test/client.test.mjs

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MfaMock, MfaMockError, startMfaMock } from 'mfa-mock-client';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('start and stop', () => {
  test('start picks free loopback ports, waits for /readyz, and stop ends the process with 0', async () => {
    const mock = await startMfaMock();
    assert.match(mock.publicUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(mock.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(mock.publicUrl, mock.adminUrl);
    assert.ok(alive(mock.pid));
    const ready = await (await fetch(`${mock.adminUrl}/readyz`)).json();
    assert.equal(ready.status, 'ready');
    assert.equal(await mock.stop(), 0);
    assert.equal(alive(mock.pid), false);
    assert.equal(await mock.stop(), 0, 'a second stop answers the same status');
  });

  test('a bad option rejects start with the mock\'s own message', async () => {
    await assert.rejects(startMfaMock({ args: ['--no-such-option'] }), /exited \(2\) before it was ready[\s\S]*no-such-option/);
  });

  test('a token is passed to the mock and sent with every admin call; attach without it gets 401', async () => {
    const mock = await startMfaMock({ token: 's3cret' });
    try {
      assert.equal((await mock.stats()).records, 0);
      const stranger = MfaMock.attach({ adminUrl: mock.adminUrl });
      const error = await stranger.stats().catch((e) => e);
      assert.ok(error instanceof MfaMockError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'admin.unauthorized');
      const friend = MfaMock.attach({ adminUrl: mock.adminUrl, publicUrl: mock.publicUrl, token: 's3cret' });
      assert.equal(friend.pid, undefined);
      assert.equal((await friend.stats()).records, 0);
      assert.equal(await friend.stop(), undefined, 'an attached mock is not stopped');
    } finally {
      assert.equal(await mock.stop(), 0);
    }
  });
});

describe('the admin API through the client', () => {
  let mock;
  before(async () => { mock = await MfaMock.start({ args: ['--journal-show-codes'] }); });
  after(async () => { assert.equal(await mock?.stop(), 0, mock?.stderr); });

  test('seed, read, verify on the public route, delete', async () => {
    const [seeded] = await mock.seed([{ verificationId: 'js-ok', identifierType: 'email', code: '012345' }]);
    assert.equal(seeded.code, '012345');
    assert.equal((await mock.verifyCode({ verificationId: 'js-ok', code: '999999', identifierType: 'email' })).body.code,
      'verification_code.code_mismatch');
    assert.deepEqual(await mock.verifyCode({ verificationId: 'js-ok', code: '012345', identifierType: 'email' }),
      { status: 200, body: { verificationId: 'js-ok' } });
    const record = await mock.verification('js-ok');
    assert.equal(record.consumed, true);
    assert.equal(record.tryCount, 1);
    assert.equal(await mock.deleteVerification('js-ok'), true);
    assert.equal(await mock.deleteVerification('js-ok'), false);
    assert.equal(await mock.verification('js-ok'), null);
    const error = await mock.seed({ identifierType: 'fax' }).catch((e) => e);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'admin.invalid_request');
  });

  test('generate and export in every format keep the codes as 6-digit strings, leading zeros too', async () => {
    const { created, batchId } = await mock.generate({ count: 300, identifierType: 'email', identifier: 'js{n}@example.com' });
    assert.equal(created, 300);
    const csv = (await mock.exportText({ batch: batchId })).trim().split('\n');
    assert.equal(csv[0], 'verificationId,code,identifierType,identifier');
    const fromCsv = new Map(csv.slice(1).map((l) => { const [id, code] = l.split(','); return [id, code]; }));
    const records = [];
    for await (const r of mock.exportRecords({ batch: batchId })) records.push(r);
    assert.equal(records.length, 300);
    assert.equal(fromCsv.size, 300);
    for (const r of records) {
      assert.equal(typeof r.code, 'string');
      assert.match(r.code, /^\d{6}$/);
      assert.equal(fromCsv.get(r.verificationId), r.code);
    }
    assert.ok(records.some((r) => r.code.startsWith('0')), 'some of 300 random codes start with 0');
    const dir = mkdtempSync(path.join(tmpdir(), 'mfa-mock-client-'));
    try {
      const file = path.join(dir, 'codes.ndjson');
      const bytes = await mock.exportToFile(file, { batch: batchId, format: 'ndjson' });
      const text = readFileSync(file, 'utf8');
      assert.equal(Buffer.byteLength(text), bytes);
      assert.deepEqual(text.trim().split('\n').map((l) => JSON.parse(l)), records);
    } finally {
      rmSync(dir, { recursive: true });
    }
    // An exported row is a verify body as it is.
    const first = await mock.verifyCode(records[0]);
    assert.equal(first.status, 200);
    const missing = await mock.exportText({ batch: 'nope' }).catch((e) => e);
    assert.equal(missing.code, 'admin.not_found');
  });

  test('waitForCode answers when the send lands, and rejects after its timeout', async () => {
    const to = 'waiter@example.com';
    const cursor = await mock.cursor({ to });
    const sent = new Promise((resolve) => setTimeout(() => resolve(mock.send({ identifierType: 'email', identifier: to })), 300));
    const message = await mock.waitForCode({ to, after: cursor, timeoutMs: 10_000 });
    assert.equal(message.verificationId, (await sent).verificationId);
    assert.equal(message.state, 'pending');
    assert.ok(message.cursor > cursor);
    assert.deepEqual(await mock.latest({ to }), message);
    const started = Date.now();
    const error = await mock.waitForCode({ to, after: message.cursor, timeoutMs: 1200 }).catch((e) => e);
    assert.ok(error instanceof MfaMockError, String(error));
    assert.equal(error.status, 404);
    assert.ok(Date.now() - started >= 1000, 'it waited');
  });

  test('streamInbox yields messages in order across reconnections until aborted', async () => {
    const to = 'stream@example.com';
    const after = await mock.cursor();
    const controller = new AbortController();
    const seen = [];
    const reading = (async () => {
      for await (const m of mock.streamInbox({ to, after, wait: 1, signal: controller.signal })) {
        seen.push(m.code);
        if (seen.length === 3) controller.abort();
      }
    })();
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await mock.send({ identifierType: 'email', identifier: to })).code);
      await new Promise((r) => setTimeout(r, 150));  // lets some sends land in separate responses
    }
    await reading;
    assert.deepEqual(seen, codes);
  });

  test('inbox, journal and their clears filter by recipient', async () => {
    const a = await mock.send({ identifierType: 'email', identifier: 'a@js.example' });
    await mock.send({ identifierType: 'phone', identifier: '+15550009999' });
    await mock.verifyCode({ verificationId: a.verificationId, code: a.code, identifierType: 'email' });
    assert.deepEqual((await mock.inbox({ to: 'A@JS.example' })).map((m) => m.code), [a.code]);
    assert.equal((await mock.inbox({ channel: 'sms', limit: 1 })).length, 1);
    const journal = await mock.requests({ to: 'a@js.example' });
    assert.equal(journal.length, 1);
    assert.equal(journal[0].status, 200);
    assert.equal(journal[0].verificationId, a.verificationId);
    await mock.clearRequests({ to: 'a@js.example' });
    assert.deepEqual(await mock.requests({ to: 'a@js.example' }), []);
    await mock.clearInbox({ to: 'a@js.example' });
    assert.deepEqual(await mock.inbox({ to: 'a@js.example' }), []);
    assert.equal((await mock.inbox({ to: '15550009999' })).length, 1);
  });

  test('sessions: a code sent in a session is found by session', async () => {
    await mock.createUser({ id: 'js-alice', primaryEmail: 'alice@js.example' });
    const session = await mock.createSession({ userId: 'js-alice' });
    assert.match(session.cookie, /^_interaction=/);
    const sent = await mock.sendCode({ identifierType: 'email', cookie: session.cookie });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const message = await mock.waitForCode({ session: session.sessionId, timeoutMs: 5000 });
    assert.equal(message.to, 'alice@js.example');
    assert.equal(message.sessionId, session.sessionId);
    const state = await mock.session(session.sessionId);
    assert.equal(state.userId, 'js-alice');
    assert.deepEqual(state.verificationIds, [message.verificationId]);
    assert.equal(await mock.session('nope'), null);
    assert.equal((await mock.requests({ session: session.sessionId })).length, 1);
  });

  test('config, clock and reset: reset brings back a fresh process\'s state', async () => {
    const initial = await mock.config();
    const patched = await mock.patchConfig({ fixedCode: '000042', faults: { verify: { delayMs: 1 } } });
    assert.equal(patched.fixedCode, '000042');
    assert.deepEqual(patched.faults.verify.delayMs, { min: 1, max: 1 });
    assert.equal((await mock.advanceClock(601)).offsetSeconds, 601);
    assert.equal((await mock.clock()).offsetSeconds, 601);
    const bad = await mock.patchConfig({ ttl: 5 }).catch((e) => e);
    assert.equal(bad.code, 'admin.invalid_request');

    await mock.reset();
    assert.deepEqual(await mock.config(), initial);
    assert.equal((await mock.clock()).offsetSeconds, 0);
    assert.deepEqual(await mock.inbox(), []);
    assert.deepEqual(await mock.requests(), []);
    assert.equal((await mock.stats()).records, 0);
    assert.equal((await mock.resetClock()).offsetSeconds, 0);
  });
});
