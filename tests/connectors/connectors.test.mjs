// SPDX-License-Identifier: Apache-2.0
// Logto's real HTTP connectors, from npm (@logto/connector-http-email, @logto/connector-http-sms),
// sending to a real mfa-mock: each connector is created with its factory and a config whose
// endpoint is the mock's /connectors route, exactly as Logto core creates and calls it; the test
// then reads the code from the mock's inbox, waiting for it as a test suite would
// (docs/guides/real-logto.md).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import createHttpEmailConnector from '@logto/connector-http-email';
import createHttpSmsConnector from '@logto/connector-http-sms';
import { MfaMock } from 'mfa-mock-client';

const binary = process.env.MFA_MOCK_BINARY;
const startMock = (options = {}) => MfaMock.start({ binary, args: ['--access-log', 'off'], ...options });

// A connector as Logto core builds it: the factory gets getConfig, which reads the config the
// admin saved in Logto's console.
const connect = (factory, config) => factory({ getConfig: async () => config });

// Starts waiting for the next message to `to` (the test's side), before Logto sends it. The
// cursor is read first, so the wait sees exactly the messages sent after this returns.
async function waitForMessage(mock, to) {
  const after = await mock.cursor({ to });
  return { answer: mock.waitForCode({ to, after, timeoutMs: 20_000 }) };
}

describe('Logto HTTP connectors against mfa-mock (no token)', () => {
  let mock;
  before(async () => { mock = await startMock(); });
  after(async () => { await mock?.stop(); });

  test('the email connector\'s MFA code is read from the inbox by a waiting test', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.adminUrl}/connectors/http-email` });
    assert.equal(email.type, 'Email');
    const waiting = await waitForMessage(mock, 'alice@example.com');
    const response = await email.sendMessage({
      to: 'alice@example.com',
      type: 'MfaVerification',
      payload: { code: '013579', locale: 'en', uiLocales: 'en' },
      ip: '203.0.113.9',
    });
    assert.equal(response.statusCode, 200);
    const body = await waiting.answer;
    assert.equal(body.code, '013579');
    assert.equal(body.channel, 'email');
    assert.equal(body.template, 'MfaVerification');
    assert.equal(body.verificationId, null);
    assert.equal(body.state, 'external');
  });

  test('the SMS connector\'s sign-in code keeps its template type', async () => {
    const sms = await connect(createHttpSmsConnector,
      { endpoint: `${mock.adminUrl}/connectors/http-sms` });
    assert.equal(sms.type, 'Sms');
    const waiting = await waitForMessage(mock, '+15555550123');
    await sms.sendMessage({ to: '+15555550123', type: 'SignIn', payload: { code: '246810' } });
    const body = await waiting.answer;
    assert.equal(body.code, '246810');
    assert.equal(body.channel, 'sms');
    assert.equal(body.template, 'SignIn');
  });

  test('an organization invitation (a link, no code) is accepted with a null code', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.adminUrl}/connectors/http-email` });
    await email.sendMessage({
      to: 'invitee@example.com',
      type: 'OrganizationInvitation',
      payload: { link: 'https://logto.example/invitation/1' },
    });
    const body = await mock.latest({ to: 'invitee@example.com' });
    assert.equal(body.template, 'OrganizationInvitation');
    assert.equal(body.code, null);
  });

  test('a refused message surfaces as Logto\'s ConnectorError with the mock\'s JSON error', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.adminUrl}/connectors/http-email` });
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
    mock = await startMock({
      token: 'admin-t0ken', args: ['--access-log', 'off', '--connector-authorization', secret],
    });
  });
  after(async () => { await mock?.stop(); });

  test('the connector configured with the value delivers', async () => {
    const email = await connect(createHttpEmailConnector,
      { endpoint: `${mock.adminUrl}/connectors/http-email`, authorization: secret });
    const waiting = await waitForMessage(mock, 'bob@example.com');
    await email.sendMessage({ to: 'bob@example.com', type: 'BindMfa', payload: { code: '000042' } });
    const body = await waiting.answer;
    assert.equal(body.code, '000042');
  });

  for (const [name, factory, path] of [
    ['email', createHttpEmailConnector, 'http-email'],
    ['sms', createHttpSmsConnector, 'http-sms'],
  ]) {
    for (const authorization of [undefined, 'Bearer wrong', admin.Authorization]) {
      test(`the ${name} connector with authorization ${authorization} is refused (401)`, async () => {
        const connector = await connect(factory,
          { endpoint: `${mock.adminUrl}/connectors/${path}`, ...(authorization && { authorization }) });
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
    assert.deepEqual((await mock.inbox()).map((m) => m.to), ['bob@example.com']);
  });
});
