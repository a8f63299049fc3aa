// SPDX-License-Identifier: Apache-2.0
// Logto's real HTTP connectors, from npm (@logto/connector-http-email, @logto/connector-http-sms),
// sending to a real mfa-mock: each connector is created with its factory and a config whose
// endpoint is the mock's /connectors route, exactly as Logto core creates and calls it; the test
// then reads the code from the mock's inbox, waiting for it as a test suite would
// (docs/guides/real-logto.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import createHttpEmailConnector from '@logto/connector-http-email';
import createHttpSmsConnector from '@logto/connector-http-sms';

const binary = process.env.MFA_MOCK_BINARY;

function startMock(extraArgs = []) {
  assert.ok(binary, 'set MFA_MOCK_BINARY to the mfa-mock binary');
  const child = spawn(binary, [
    '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--access-log', 'off',
    '--threads', '2', ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line in 60 s; stderr:\n${stderr}`));
    }, 60_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exit ${code}: ${stderr}`)); });
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/mfa-mock ready public=(\S+) admin=(\S+)/);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        admin: `http://${m[2]}`,
        stop: () => new Promise((res) => {
          if (child.exitCode !== null) return res(child.exitCode);
          child.once('exit', res);
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

// A connector as Logto core builds it: the factory gets getConfig, which reads the config the
// admin saved in Logto's console.
const connect = (factory, config) => factory({ getConfig: async () => config });

async function adminJson(mock, target, headers = {}) {
  const r = await fetch(mock.admin + target, { headers });
  return { status: r.status, body: await r.json() };
}

// The newest cursor, so a wait only sees what comes after it.
async function head(mock, headers = {}) {
  const { body } = await adminJson(mock, '/admin/inbox?limit=1', headers);
  return body.messages[0]?.cursor ?? 0;
}

// Starts waiting for the next message to `to` (the test's side), before Logto sends it. The
// cursor is read first, so the wait sees exactly the messages sent after this returns.
async function waitForMessage(mock, to, headers = {}) {
  const after = await head(mock, headers);
  const answer = adminJson(mock,
    `/admin/inbox/latest?to=${encodeURIComponent(to)}&after=${after}&wait=20`, headers);
  return { answer };
}

describe('Logto HTTP connectors against mfa-mock (no token)', () => {
  let mock;
  before(async () => { mock = await startMock(); });
  after(async () => { await mock?.stop(); });

  test('the email connector\'s MFA code is read from the inbox by a waiting test', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.admin}/connectors/http-email` });
    assert.equal(email.type, 'Email');
    const waiting = await waitForMessage(mock, 'alice@example.com');
    const response = await email.sendMessage({
      to: 'alice@example.com',
      type: 'MfaVerification',
      payload: { code: '013579', locale: 'en', uiLocales: 'en' },
      ip: '203.0.113.9',
    });
    assert.equal(response.statusCode, 200);
    const { status, body } = await waiting.answer;
    assert.equal(status, 200);
    assert.equal(body.code, '013579');
    assert.equal(body.channel, 'email');
    assert.equal(body.template, 'MfaVerification');
    assert.equal(body.verificationId, null);
    assert.equal(body.state, 'external');
  });

  test('the SMS connector\'s sign-in code keeps its template type', async () => {
    const sms = await connect(createHttpSmsConnector,
      { endpoint: `${mock.admin}/connectors/http-sms` });
    assert.equal(sms.type, 'Sms');
    const waiting = await waitForMessage(mock, '+15555550123');
    await sms.sendMessage({ to: '+15555550123', type: 'SignIn', payload: { code: '246810' } });
    const { status, body } = await waiting.answer;
    assert.equal(status, 200);
    assert.equal(body.code, '246810');
    assert.equal(body.channel, 'sms');
    assert.equal(body.template, 'SignIn');
  });

  test('an organization invitation (a link, no code) is accepted with a null code', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.admin}/connectors/http-email` });
    await email.sendMessage({
      to: 'invitee@example.com',
      type: 'OrganizationInvitation',
      payload: { link: 'https://logto.example/invitation/1' },
    });
    const { body } = await adminJson(mock, '/admin/inbox/latest?to=invitee%40example.com');
    assert.equal(body.template, 'OrganizationInvitation');
    assert.equal(body.code, null);
  });

  test('a refused message surfaces as Logto\'s ConnectorError with the mock\'s JSON error', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.admin}/connectors/http-email` });
    await assert.rejects(
      email.sendMessage({ to: '', type: 'SignIn', payload: { code: '1' } }),
      (error) => {
        assert.equal(error.code, 'general');
        const answer = JSON.parse(error.data.message);
        assert.equal(answer.code, 'admin.invalid_request');
        assert.match(answer.message, /^to must be/);
        return true;
      });
  });
});

describe('Logto HTTP connectors with --connector-authorization and --admin-token', () => {
  const secret = 'Bearer logto-s3cret';
  const admin = { Authorization: 'Bearer admin-t0ken' };
  let mock;
  before(async () => {
    mock = await startMock(['--connector-authorization', secret, '--admin-token', 'admin-t0ken']);
  });
  after(async () => { await mock?.stop(); });

  test('the connector configured with the value delivers', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.admin}/connectors/http-email`, authorization: secret });
    const waiting = await waitForMessage(mock, 'bob@example.com', admin);
    await email.sendMessage({ to: 'bob@example.com', type: 'BindMfa', payload: { code: '000042' } });
    const { status, body } = await waiting.answer;
    assert.equal(status, 200);
    assert.equal(body.code, '000042');
  });

  for (const [name, factory, path] of [
    ['email', createHttpEmailConnector, 'http-email'],
    ['sms', createHttpSmsConnector, 'http-sms'],
  ]) {
    for (const authorization of [undefined, 'Bearer wrong', admin.Authorization]) {
      test(`the ${name} connector with authorization ${authorization} is refused (401)`, async () => {
        const connector = await connect(factory,
          { endpoint: `${mock.admin}/connectors/${path}`, ...(authorization && { authorization }) });
        await assert.rejects(
          connector.sendMessage({ to: '+15555550100', type: 'SignIn', payload: { code: '1' } }),
          (error) => {
            assert.equal(error.code, 'general');
            assert.equal(JSON.parse(error.data.message).code, 'admin.unauthorized');
            return true;
          });
      });
    }
  }

  test('nothing refused reached the inbox', async () => {
    const { body } = await adminJson(mock, '/admin/inbox', admin);
    assert.deepEqual(body.messages.map((m) => m.to), ['bob@example.com']);
  });
});
