// SPDX-License-Identifier: Apache-2.0
// docs/openapi.yaml against the real mfa-mock:
//   1. the document passes `redocly lint` (recommended-strict, see redocly.yaml);
//   2. GET /openapi.json on the admin listener serves exactly this document;
//   3. real answers conform: requests drive every public and admin operation to its success
//      and to its documented errors, and every answer (status, content type, headers, body) is
//      validated against the document's response schema with Ajv (JSON Schema 2020-12, the
//      dialect of OpenAPI 3.1). An answer with an undocumented status fails the test, and every
//      operation must have been answered with a documented 2xx at least once.
//
//   MFA_MOCK_BINARY=build/app/mfa-mock node --test tests/openapi/openapi.test.mjs

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const freePort = () => new Promise((resolve, reject) => {
  const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const repo = path.resolve(here, '..', '..');
const specPath = path.join(repo, 'docs', 'openapi.yaml');
const binary = process.env.MFA_MOCK_BINARY;
const doc = YAML.parse(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 });

const SEND = '/api/experience/verification/mfa-verification-code';
const VERIFY = `${SEND}/verify`;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

// ---- the mock ------------------------------------------------------------------------------

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
        public: `http://${m[1]}`,
        admin: `http://${m[2]}`,
        stderr: () => stderr,
        stop: () => new Promise((res) => {
          if (child.exitCode !== null) return res(child.exitCode);
          child.once('exit', res);
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

// ---- the document --------------------------------------------------------------------------

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(doc, 'oas');

const pointer = (segments) =>
  '#/' + segments.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

// Follows a local $ref (responses, parameters); returns [object, its pointer segments].
function deref(node, segments) {
  while (node && node.$ref) {
    assert.ok(node.$ref.startsWith('#/'), `only local refs: ${node.$ref}`);
    segments = node.$ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    node = segments.reduce((o, k) => o[k], doc);
  }
  return [node, segments];
}

// Path templates, literal ones first so /admin/verifications/export wins over {id}.
const templates = Object.keys(doc.paths)
  .map((t) => ({
    template: t,
    regex: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    params: (t.match(/\{/g) || []).length,
  }))
  .sort((a, b) => a.params - b.params);

function findOperation(method, url) {
  const p = new URL(url).pathname;
  const t = templates.find((x) => x.regex.test(p));
  if (!t) return null;
  const op = doc.paths[t.template][method.toLowerCase()];
  return op ? { template: t.template, op } : null;
}

const validators = new Map();
function validatorFor(segments) {
  const ref = 'oas' + pointer(segments);
  if (!validators.has(ref)) {
    const v = ajv.getSchema(ref);
    assert.ok(v, `no schema at ${ref}`);
    validators.set(ref, v);
  }
  return validators.get(ref);
}

// ---- recording and checking ----------------------------------------------------------------

const exercised = new Map();  // "METHOD template" -> Set of statuses
const failures = [];  // of every real answer

// Checks one answer against the document and records what it exercised; returns the problems.
function check(method, url, res, bodyText) {
  const failures = [];
  const where = `${method} ${new URL(url).pathname} -> ${res.status}`;
  let found = findOperation(method, url);
  let docMethod = method.toLowerCase();
  if (!found && res.status === 405) {
    // Another method on a documented path: the path's documented 405 applies.
    const t = templates.find((x) => x.regex.test(new URL(url).pathname));
    const item = t && doc.paths[t.template];
    docMethod = item && METHODS.find((m) => item[m] && item[m].responses['405']);
    if (docMethod) found = { template: t.template, op: item[docMethod] };
  }
  if (!found) {
    failures.push(`${where}: no such operation in the document`);
    return failures;
  }
  const key = `${method.toUpperCase()} ${found.template}`;
  if (!exercised.has(key)) exercised.set(key, new Set());
  exercised.get(key).add(res.status);
  const opSegments = ['paths', found.template, docMethod];
  const responses = found.op.responses;
  const statusKey = String(res.status);
  const chosen = statusKey in responses ? statusKey
    : `${statusKey[0]}XX` in responses ? `${statusKey[0]}XX` : 'default' in responses ? 'default' : null;
  if (!chosen) {
    failures.push(`${where}: status not documented (documented: ${Object.keys(responses).join(', ')})`);
    return failures;
  }
  const [response, segments] = deref(responses[chosen], [...opSegments, 'responses', chosen]);
  // Headers the document describes with a schema.
  for (const [name, header] of Object.entries(response.headers || {})) {
    const value = res.headers.get(name);
    if (value === null) continue;  // headers are optional unless said otherwise
    const [h, hSegments] = deref(header, [...segments, 'headers', name]);
    if (!h.schema) continue;
    const v = validatorFor([...hSegments, 'schema']);
    if (!v(value)) failures.push(`${where}: header ${name}: ${value}: ${ajv.errorsText(v.errors)}`);
  }
  const contentType = res.headers.get('content-type') || '';
  if (!response.content) {
    if (bodyText.length !== 0) failures.push(`${where}: documented without a body, got ${bodyText.slice(0, 200)}`);
    return failures;
  }
  const mediaKey = Object.keys(response.content).find((k) => k === contentType) ||
    Object.keys(response.content).find((k) => k.split(';')[0].trim() === contentType.split(';')[0].trim());
  if (!mediaKey) {
    failures.push(`${where}: content type ${contentType} not documented (${Object.keys(response.content).join(', ')})`);
    return failures;
  }
  if (!response.content[mediaKey].schema) return failures;
  const v = validatorFor([...segments, 'content', mediaKey, 'schema']);
  let body = bodyText;
  if (mediaKey.split(';')[0].trim() === 'application/json') {
    try {
      body = JSON.parse(bodyText);
    } catch (e) {
      failures.push(`${where}: not JSON: ${bodyText.slice(0, 200)}`);
      return failures;
    }
  }
  if (!v(body)) {
    failures.push(`${where}: ${ajv.errorsText(v.errors)}\n    body: ${bodyText.slice(0, 400)}`);
  }
  return failures;
}

// One request; checks the answer against the document and returns {status, headers, json, text}.
async function call(method, url, { body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers }, redirect: 'manual' };
  if (body !== undefined) {
    init.body = raw ? body : JSON.stringify(body);
    if (!('Content-Type' in init.headers)) init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  failures.push(...check(method, url, res, text));
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

// ---- tests ---------------------------------------------------------------------------------

describe('docs/openapi.yaml', () => {
  test('passes redocly lint (recommended-strict)', () => {
    const cli = path.join(here, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'lint', '--config', path.join(here, 'redocly.yaml'), specPath], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `redocly lint failed:\n${r.stdout}\n${r.stderr}`);
  });
});

describe('the conformance check itself', () => {
  // Fake answers: the checker must reject what the document does not allow.
  const fake = (status, contentType, extra = {}) =>
    ({ status, headers: new Headers({ 'content-type': contentType, ...extra }) });
  const J = 'application/json; charset=utf-8';
  const P = 'http://127.0.0.1:1';
  const cases = [
    ['POST', SEND, fake(200, J), '{"verificationId":"7xp5xqfxiw793ewhcscor"}', true],
    ['POST', SEND, fake(200, J), '{"verificationId":"short"}', false],
    ['POST', SEND, fake(200, J), '{"verificationId":"7xp5xqfxiw793ewhcscor","extra":1}', false],
    ['POST', SEND, fake(418, J), '{"code":"x","message":"y"}', true],  // default: injected fault
    ['POST', VERIFY, fake(400, J), '{"code":"verification_code.nope","message":"m"}', false],
    ['POST', VERIFY, fake(400, J), '{"code":"verification_code.expired","message":"m"}', true],
    ['GET', '/admin/inbox', fake(200, J), '{"messages":[{"channel":"fax"}]}', false],
    ['GET', '/admin/inbox', fake(200, 'text/html'), '{"messages":[]}', false],
    ['GET', '/admin/inbox', fake(418, J), '{"code":"admin.x","message":"m"}', false],
    ['DELETE', '/admin/inbox', fake(204, J), 'body', false],
    ['GET', '/nope', fake(200, J), '{}', false],
    ['PUT', '/api/experience', fake(204, J, { 'set-cookie': 'other=1' }), '', false],
  ];
  for (const [method, p, res, body, ok] of cases) {
    test(`${ok ? 'accepts' : 'rejects'} ${method} ${p} ${res.status} ${body.slice(0, 40)}`, () => {
      const problems = check(method, P + p, res, body);
      assert.equal(problems.length === 0, ok, problems.join('\n'));
    });
  }
  after(() => exercised.clear());
});

describe('the running mock conforms to docs/openapi.yaml', () => {
  let mock;
  let limited;  // --admin-token, --max-records 1, --journal-size 0

  before(async () => {
    mock = await startMock();
    limited = await startMock(['--admin-token', 'tok', '--max-records', '1', '--journal-size', '0']);
  });

  after(async () => {
    await mock?.stop();
    await limited?.stop();
  });

  test('GET /openapi.json serves the document', async () => {
    const r = await call('GET', `${mock.admin}/openapi.json`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(r.json, JSON.parse(JSON.stringify(doc)));
    // No token needed even when the admin API has one.
    const open = await call('GET', `${limited.admin}/openapi.json`);
    assert.equal(open.status, 200);
  });

  test('public routes: success and every reachable error', async () => {
    const P = mock.public;
    const A = mock.admin;
    const patch = (body) => call('PATCH', `${A}/admin/config`, { body });
    const baseline = (await call('GET', `${A}/admin/config`)).json;

    // send: 200, guard errors (invalid, malformed JSON), 413
    const sent = await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' } });
    assert.equal(sent.status, 200);
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'phone' } })).status, 200);
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'sms' } })).status, 400);
    assert.equal((await call('POST', `${P}${SEND}`, { body: '{"identifierType":', raw: true })).status, 400);
    assert.equal((await call('POST', `${P}${SEND}`, { body: 'x'.repeat(20000), raw: true })).status, 413);
    // send: factor not enabled, identifier not found, connector disabled, rate limited
    await patch({ defaultUser: { email: '' } });
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' } })).json.code,
      'session.mfa.mfa_factor_not_enabled');
    await patch({ defaultUser: { email: baseline.defaultUser.email, identified: false } });
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' } })).json.code,
      'session.identifier_not_found');
    await patch({ defaultUser: { identified: true }, connectors: { phone: false } });
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'phone' } })).status, 501);
    await patch({ connectors: { phone: true }, sendRateLimit: { maxSends: 1 } });
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' } })).status, 429);
    await patch({ sendRateLimit: baseline.sendRateLimit });

    // verify: 200, mismatch, not_found (already verified), 404, guard, 501
    const latest = (await call('GET', `${A}/admin/inbox/latest?to=user@example.com`)).json;
    const v = (code, id = latest.verificationId, type = 'email') =>
      call('POST', `${P}${VERIFY}`, { body: { verificationId: id, code, identifierType: type } });
    assert.equal((await v('not-it')).json.code, 'verification_code.code_mismatch');
    assert.equal((await v(latest.code)).status, 200);
    assert.equal((await v(latest.code)).json.code, 'verification_code.not_found');
    assert.equal((await v('1', 'no-such-id')).status, 404);
    assert.equal((await call('POST', `${P}${VERIFY}`, { body: { code: 1 } })).status, 400);
    await patch({ connectors: { email: false } });
    assert.equal((await v('1')).status, 501);
    await patch({ connectors: { email: true } });
    // verify: expired, exceed_max_try, identifier_not_found (seeded records)
    await call('POST', `${A}/admin/verifications`, { body: [
      { verificationId: 'oas-expired', identifierType: 'email', code: '111111', ttlSeconds: 1 },
      { verificationId: 'oas-tries', identifierType: 'email', code: '222222' },
      { verificationId: 'oas-anon', identifierType: 'email', code: '333333', identified: false },
    ] });
    await call('POST', `${A}/admin/clock/advance`, { body: { seconds: 2 } });
    assert.equal((await v('111111', 'oas-expired')).json.code, 'verification_code.expired');
    await patch({ maxAttempts: 1 });
    await v('0', 'oas-tries');
    assert.equal((await v('222222', 'oas-tries')).json.code, 'verification_code.exceed_max_try');
    await patch({ maxAttempts: baseline.maxAttempts });
    assert.equal((await v('333333', 'oas-anon')).json.code, 'session.identifier_not_found');

    // sessions: PUT /api/experience (204 + Set-Cookie, 400), interaction (200, 400, 404)
    const put = await call('PUT', `${P}/api/experience`, { body: { interactionEvent: 'SignIn' } });
    assert.equal(put.status, 204);
    const cookie = put.headers.get('set-cookie').split(';')[0];
    assert.equal((await call('PUT', `${P}/api/experience`, { body: { interactionEvent: 'Nope' } })).status, 400);
    assert.equal((await call('PUT', `${P}/api/experience`, { body: { interactionEvent: 'SignIn', captchaToken: 't' } })).status, 422);
    assert.equal((await call('GET', `${P}/api/experience/interaction`, { headers: { Cookie: cookie } })).status, 200);
    assert.equal((await call('GET', `${P}/api/experience/interaction`)).json.code, 'session.not_found');
    const idle = (await call('POST', `${A}/admin/sessions`, { body: { startInteraction: false } })).json;
    assert.equal((await call('GET', `${P}/api/experience/interaction`, { headers: { Cookie: idle.cookie } })).status, 404);
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' }, headers: { Cookie: idle.cookie } })).status, 404);
    assert.equal((await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' }, headers: { Cookie: '_interaction=nope' } })).json.code, 'session.not_found');
    // session mode: send, and a lockout (blocked) after one failure
    await call('POST', `${A}/admin/users`, { body: { id: 'oas-user', primaryEmail: 'oas@example.com' } });
    await call('POST', `${A}/admin/sessions/${cookie.split('=')[1]}/identify`, { body: { userId: 'oas-user' } });
    const s = await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' }, headers: { Cookie: cookie } });
    assert.equal(s.status, 200);
    await patch({ lockout: { maxFailures: 1 } });
    const sv = (code) => call('POST', `${P}${VERIFY}`, {
      body: { verificationId: s.json.verificationId, code, identifierType: 'email' }, headers: { Cookie: cookie } });
    await sv('000000x');
    assert.equal((await sv('000000x')).json.code, 'session.verification_blocked_too_many_attempts');
    await patch({ lockout: baseline.lockout });
    await call('DELETE', `${A}/admin/sessions`);

    // the sign-in flow: /oidc/auth (303), password (200, 400, 422), identification (204, 400,
    // 404, 409), submit (403, 404, 200), sign-in-exp (200)
    await call('POST', `${A}/admin/users`, { body: {
      id: 'oas-flow', username: 'oas-flow', primaryEmail: 'flow@example.com', password: 'pw' } });
    await call('POST', `${A}/admin/users`, { body: { id: 'oas-other', username: 'oas-other', password: 'pw' } });
    const auth = await call('GET', `${P}/oidc/auth?redirect_uri=http%3A%2F%2Fapp.test%2Fcb`);
    assert.equal(auth.status, 303);
    const flow = { Cookie: auth.headers.get('set-cookie').split(';')[0] };
    assert.equal((await call('POST', `${P}/api/experience/submit`, { headers: flow })).status, 404);
    await call('PUT', `${P}/api/experience`, { body: { interactionEvent: 'SignIn' }, headers: flow });
    const pw = (username, password) => call('POST', `${P}/api/experience/verification/password`, {
      body: { identifier: { type: 'username', value: username }, password }, headers: flow });
    assert.equal((await pw('oas-flow', 'wrong')).status, 422);
    assert.equal((await call('POST', `${P}/api/experience/verification/password`, { body: {}, headers: flow })).status, 400);
    const record = (await pw('oas-flow', 'pw')).json.verificationId;
    const ident = (body) => call('POST', `${P}/api/experience/identification`, { body, headers: flow });
    assert.equal((await ident({})).status, 400);
    assert.equal((await ident({ verificationId: 'no-such-record' })).status, 404);
    assert.equal((await call('POST', `${P}/api/experience/submit`, { headers: flow })).status, 404);
    assert.equal((await ident({ verificationId: record })).status, 204);
    assert.equal((await ident({ verificationId: (await pw('oas-other', 'pw')).json.verificationId })).status, 409);
    assert.equal((await call('POST', `${P}/api/experience/submit`, { headers: flow })).status, 403);
    const fs = (await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' }, headers: flow })).json;
    const fcode = (await call('GET', `${A}/admin/inbox/latest?to=flow@example.com`)).json.code;
    assert.equal((await call('POST', `${P}${VERIFY}`, {
      body: { verificationId: fs.verificationId, code: fcode, identifierType: 'email' }, headers: flow })).status, 200);
    const submitted = await call('POST', `${P}/api/experience/submit`, { headers: flow });
    assert.equal(submitted.status, 200);
    assert.equal(submitted.json.redirectTo, 'http://app.test/cb');
    assert.equal((await call('GET', `${P}/api/.well-known/sign-in-exp`)).status, 200);
    await call('DELETE', `${A}/admin/sessions`);

    // the user's own factors: TOTP verify (200, 400, 404), backup-code verify (200, 400, 404),
    // the interaction with both records, and the user with its mfaVerifications
    const secret = 'JBSWY3DPEHPK3PXP';
    const codes = ['0123456789', 'abcdef0123', '1111111111', '2222222222', '3333333333',
      '4444444444', '5555555555', '6666666666', '7777777777', '8888888888'];
    assert.equal((await call('POST', `${A}/admin/users`, { body: {
      id: 'oas-totp', username: 'oas-totp', totpSecret: secret, backupCodes: codes } })).status, 201);
    assert.equal((await call('POST', `${A}/admin/users`, { body: { id: 'oas-bad', totpSecret: 'short' } })).status, 400);
    assert.equal((await call('GET', `${A}/admin/users/oas-totp`)).status, 200);
    const totp = () => {
      const key = Buffer.alloc(10);
      let bits = 0; let value = 0; let at = 0;
      for (const c of secret) {
        value = (value << 5) | 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c); bits += 5;
        if (bits >= 8) { key[at++] = (value >>> (bits - 8)) & 255; bits -= 8; }
      }
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
      const mac = createHmac('sha1', key).update(counter).digest();
      const o = mac[19] & 15;
      return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
    };
    const unidentified = (await call('POST', `${A}/admin/sessions`, { body: {} })).json;
    assert.equal((await call('POST', `${P}/api/experience/verification/totp/verify`, {
      body: { code: '123456' }, headers: { Cookie: unidentified.cookie } })).status, 404);
    const mfaSession = (await call('POST', `${A}/admin/sessions`, { body: { userId: 'oas-totp' } })).json;
    const factor = (route, body) => call('POST', `${P}/api/experience/verification/${route}/verify`, {
      body, headers: { Cookie: mfaSession.cookie } });
    assert.equal((await factor('totp', { code: 'x' })).status, 400);
    assert.equal((await factor('totp', {})).status, 400);
    assert.equal((await factor('totp', { code: '123456', verificationId: 'nope' })).status, 404);
    assert.equal((await factor('totp', { code: totp() })).status, 200);
    assert.equal((await factor('backup-code', { code: 'ffffffffff' })).status, 400);
    assert.equal((await factor('backup-code', { code: codes[0] })).status, 200);
    assert.equal((await call('GET', `${P}/api/experience/interaction`, { headers: { Cookie: mfaSession.cookie } })).status, 200);
    assert.equal((await call('GET', `${A}/admin/users/oas-totp`)).json.mfaVerifications[1].remainCodes, 9);
    await call('DELETE', `${A}/admin/sessions`);

    // injected fault (default 500 unexpected)
    await patch({ faults: { send: { error: { rate: 1 } } } });
    const fault = await call('POST', `${P}${SEND}`, { body: { identifierType: 'email' } });
    assert.equal(fault.status, 500);
    assert.equal(fault.json.code, 'unexpected');
    await patch({ faults: null });

    // CORS preflight (204) and a plain OPTIONS (405)
    for (const p of [SEND, VERIFY]) {
      const pre = await call('OPTIONS', `${P}${p}`, { headers: {
        Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type' } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:5173');
      assert.equal((await call('OPTIONS', `${P}${p}`)).status, 405);
    }

    // store full (503) on the limited mock
    const L = limited.public;
    assert.equal((await call('POST', `${L}${SEND}`, { body: { identifierType: 'email' } })).status, 200);
    assert.equal((await call('POST', `${L}${SEND}`, { body: { identifierType: 'email' } })).json.code, 'mock.store_full');
  });

  test('admin routes: success and errors', async () => {
    const A = mock.admin;
    for (const p of ['/', '/ui']) assert.equal((await call('GET', `${A}${p}`)).status, 200);
    assert.equal((await call('POST', `${A}/`, { body: {} })).status, 405);
    assert.equal((await call('GET', `${A}/healthz`)).status, 200);
    assert.deepEqual((await call('GET', `${A}/readyz`)).json, { status: 'ready', store: 'memory' });
    assert.equal((await call('GET', `${A}/metrics`)).status, 200);

    // verifications
    assert.equal((await call('POST', `${A}/admin/verifications`, { body: { identifierType: 'email', verificationId: 'oas-1', code: '123456' } })).status, 201);
    assert.equal((await call('POST', `${A}/admin/verifications`, { body: [{ identifierType: 'phone' }] })).status, 201);
    assert.equal((await call('POST', `${A}/admin/verifications`, { body: { identifierType: 'email', verificationId: 'oas-1' } })).status, 409);
    assert.equal((await call('POST', `${A}/admin/verifications`, { body: '', raw: true })).json.code, 'admin.invalid_json');
    assert.equal((await call('POST', `${A}/admin/verifications`, { body: { identifierType: 'fax' } })).json.code, 'admin.invalid_request');
    const gen = await call('POST', `${A}/admin/verifications/generate`, { body: { count: 3, identifierType: 'email', identifier: 'load{n}@example.com' } });
    assert.equal(gen.status, 201);
    assert.equal((await call('POST', `${A}/admin/verifications/generate`, { body: { count: 0, identifierType: 'email' } })).status, 400);
    const csv = await call('GET', `${A}/admin/verifications/export?batch=${gen.json.batchId}`);
    assert.equal(csv.status, 200);
    assert.equal(csv.text.trim().split('\n').length, 4);
    const nd = await call('GET', `${A}/admin/verifications/export?batch=${gen.json.batchId}&format=ndjson`);
    assert.equal(nd.text.trim().split('\n').length, 3);
    const js = await call('GET', `${A}/admin/verifications/export?batch=${gen.json.batchId}&format=json`);
    assert.equal(js.status, 200);
    assert.equal(js.json.length, 3);
    assert.equal((await call('GET', `${A}/admin/verifications/export?format=xml`)).status, 400);
    assert.equal((await call('GET', `${A}/admin/verifications/export?batch=nope`)).status, 404);
    assert.equal((await call('GET', `${A}/admin/verifications/oas-1`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/verifications/nope`)).status, 404);
    assert.equal((await call('DELETE', `${A}/admin/verifications/oas-1`)).status, 204);
    assert.equal((await call('DELETE', `${A}/admin/verifications/oas-1`)).status, 404);

    // send and inbox
    assert.equal((await call('POST', `${A}/admin/send`, { body: { identifierType: 'phone', identifier: '+1 (555) 000-2222' } })).status, 201);
    assert.equal((await call('POST', `${A}/admin/send`, { body: { identifierType: 'email' } })).status, 400);
    assert.equal((await call('GET', `${A}/admin/inbox?channel=sms&limit=5`)).json.messages.length >= 1, true);
    assert.equal((await call('GET', `${A}/admin/inbox?channel=fax`)).status, 400);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?to=15550002222`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?to=nobody@example.com`)).status, 404);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?limit=x`)).status, 400);
    // waiting for a code, the stream, filtered clears
    const newest = (await call('GET', `${A}/admin/inbox?limit=1`)).json.messages[0];
    assert.equal((await call('GET', `${A}/admin/inbox/latest?to=15550002222&wait=1&after=${newest.cursor - 1}`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?wait=1&after=${newest.cursor}`)).status, 404);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?wait=31`)).status, 400);
    const streamed = await call('GET', `${A}/admin/inbox/stream?after=${newest.cursor - 1}&wait=1`);
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, new RegExp(`^id: ${newest.cursor}$`, 'm'));
    assert.equal((await call('GET', `${A}/admin/inbox/stream?wait=1`, { headers: { 'Last-Event-ID': String(newest.cursor) } })).status, 200);
    assert.equal((await call('GET', `${A}/admin/inbox/stream?after=x`)).status, 400);
    assert.equal((await call('GET', `${A}/admin/inbox?session=nobody&after=0`)).json.messages.length, 0);
    assert.equal((await call('DELETE', `${A}/admin/inbox?to=nobody@example.com&session=x`)).status, 204);
    assert.equal((await call('DELETE', `${A}/admin/inbox?after=1`)).status, 400);
    assert.equal((await call('DELETE', `${A}/admin/verifications`)).status, 200);
    // the inbox now lists "gone" messages
    const gone = (await call('GET', `${A}/admin/inbox`)).json.messages;
    assert.ok(gone.every((m) => m.state === 'gone'), JSON.stringify(gone));
    assert.equal((await call('DELETE', `${A}/admin/inbox`)).status, 204);

    // Logto's HTTP connectors
    const logto = { to: 'alice@example.com', type: 'MfaVerification', payload: { code: '012345', locale: 'en' }, ip: '203.0.113.7' };
    assert.equal((await call('POST', `${A}/connectors/http-email`, { body: logto })).json.state, 'external');
    assert.equal((await call('POST', `${A}/connectors/http-sms`, { body: { ...logto, to: '+15555550123', type: 'SignIn' } })).status, 200);
    assert.equal((await call('POST', `${A}/connectors/http-email`, { body: { to: 'a@example.com', type: 'OrganizationInvitation', payload: { link: 'https://x.example/i' } } })).json.code, null);
    assert.equal((await call('POST', `${A}/connectors/http-email`, { body: { to: 'a@example.com' } })).status, 400);
    assert.equal((await call('POST', `${A}/connectors/http-sms`, { body: '{', raw: true })).status, 400);
    assert.equal((await call('POST', `${A}/connectors/http-sms`, { body: { ...logto, pad: 'x'.repeat(70000) } })).status, 413);
    assert.equal((await call('GET', `${A}/admin/inbox/latest?channel=sms`)).json.template, 'SignIn');
    assert.equal((await call('DELETE', `${A}/admin/inbox`)).status, 204);

    // config, stats, clock
    assert.equal((await call('GET', `${A}/admin/config`)).status, 200);
    assert.equal((await call('PATCH', `${A}/admin/config`, { body: { faults: { verify: { delayMs: { min: 0, max: 1 }, error: { rate: 0, status: 503, code: 'x', message: 'y' }, resetRate: 0 } } } })).status, 200);
    assert.equal((await call('PATCH', `${A}/admin/config`, { body: { faults: null } })).status, 200);
    assert.equal((await call('PATCH', `${A}/admin/config`, { body: { ttl: 5 } })).status, 400);
    assert.equal((await call('GET', `${A}/admin/stats`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/clock`)).status, 200);
    assert.equal((await call('POST', `${A}/admin/clock/advance`, { body: { seconds: 1 } })).status, 200);
    assert.equal((await call('POST', `${A}/admin/clock/advance`, { body: { seconds: -1 } })).status, 400);
    assert.equal((await call('DELETE', `${A}/admin/clock`)).json.offsetSeconds, 0);

    // users and sessions
    assert.equal((await call('POST', `${A}/admin/users`, { body: { id: 'alice', primaryEmail: 'alice@example.com', password: 'pw' } })).status, 201);
    assert.equal((await call('POST', `${A}/admin/users`, { body: { id: 'alice' } })).status, 409);
    assert.equal((await call('POST', `${A}/admin/users`, { body: { id: 'bad id!' } })).status, 400);
    assert.equal((await call('GET', `${A}/admin/users`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/users/alice`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/users/nobody`)).status, 404);
    const session = await call('POST', `${A}/admin/sessions`, { body: { userId: 'alice' } });
    assert.equal(session.status, 201);
    assert.equal((await call('POST', `${A}/admin/sessions`, { body: { userId: 'nobody' } })).status, 404);
    assert.equal((await call('POST', `${A}/admin/sessions`, { body: { extra: 1 } })).status, 400);
    assert.equal((await call('GET', `${A}/admin/sessions/${session.json.sessionId}`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/sessions/nope`)).status, 404);
    assert.equal((await call('POST', `${A}/admin/sessions/${session.json.sessionId}/identify`, { body: { userId: 'alice' } })).status, 200);
    assert.equal((await call('POST', `${A}/admin/sessions/${session.json.sessionId}/identify`, { body: {} })).status, 400);
    assert.equal((await call('POST', `${A}/admin/sessions/nope/identify`, { body: { userId: 'alice' } })).status, 404);
    assert.equal((await call('DELETE', `${A}/admin/sessions`)).status, 200);
    assert.equal((await call('DELETE', `${A}/admin/users/alice`)).status, 204);
    assert.equal((await call('DELETE', `${A}/admin/users/alice`)).status, 404);

    // the request journal
    const journal = await call('GET', `${A}/admin/requests?limit=50`);
    assert.equal(journal.status, 200);
    assert.ok(journal.json.requests.length > 0);
    assert.equal((await call('GET', `${A}/admin/requests?status=404`)).status, 200);
    assert.equal((await call('GET', `${A}/admin/requests?status=99`)).status, 400);
    assert.equal((await call('GET', `${A}/admin/requests?session=nobody&to=user@example.com`)).status, 200);
    assert.equal((await call('DELETE', `${A}/admin/requests?session=nobody`)).status, 204);
    assert.equal((await call('DELETE', `${A}/admin/requests`)).status, 204);

    // with --admin-token: every operation documenting a 401 answers it without the token
    const L = limited.admin;
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]?.responses['401']) continue;
        const url = L + template.replace(/\{[^}]+\}/g, 'x');
        const r = await call(method.toUpperCase(), url, ['post', 'put', 'patch'].includes(method) ? { body: {} } : {});
        assert.equal(r.status, 401, `${method} ${template}`);
      }
    }
    // journal off; admin store full
    const auth = { Authorization: 'Bearer tok' };
    assert.equal((await call('GET', `${L}/admin/requests`, { headers: auth })).json.enabled, false);
    await call('POST', `${L}/admin/verifications`, { headers: auth, body: { identifierType: 'email' } });
    assert.equal((await call('POST', `${L}/admin/verifications`, { headers: auth, body: { identifierType: 'email' } })).status, 503);
  });

  test('a shared store that does not answer: 503 on every route over the records or the inbox', async () => {
    // --store redis:// on a loopback port where nothing listens: Redis "down" from the start.
    const port = await freePort();
    const down = await startMock(['--store', `redis://127.0.0.1:${port}?prefix=oas`, '--store-timeout-ms', '200']);
    try {
      const P = down.public;
      const A = down.admin;
      const unavailable = async (method, url, body) => {
        const r = await call(method, url, body === undefined ? {} : { body });
        assert.equal(r.status, 503, `${method} ${url}: ${r.text}`);
        assert.equal(r.json.code, 'mock.store_unavailable', `${method} ${url}`);
      };
      await unavailable('GET', `${A}/readyz`);
      assert.equal((await call('GET', `${A}/healthz`)).status, 200);
      await unavailable('POST', `${P}${SEND}`, { identifierType: 'email' });
      await unavailable('POST', `${P}${VERIFY}`, { verificationId: 'oas-down', code: '123456', identifierType: 'email' });
      await unavailable('POST', `${A}/admin/verifications`, { identifierType: 'email', verificationId: 'oas-down' });
      await unavailable('POST', `${A}/admin/verifications/generate`, { count: 2, identifierType: 'email' });
      await unavailable('GET', `${A}/admin/verifications/oas-down`);
      await unavailable('DELETE', `${A}/admin/verifications/oas-down`);
      await unavailable('DELETE', `${A}/admin/verifications`);
      await unavailable('POST', `${A}/admin/send`, { identifierType: 'email', identifier: 'a@example.com' });
      await unavailable('GET', `${A}/admin/inbox`);
      await unavailable('GET', `${A}/admin/inbox/latest`);
      await unavailable('DELETE', `${A}/admin/inbox`);
      await unavailable('POST', `${A}/connectors/http-email`, { to: 'a@example.com', type: 'SignIn', payload: { code: '1' } });
      await unavailable('GET', `${A}/admin/stats`);
      await unavailable('PATCH', `${A}/admin/config`, { maxAttempts: 3 });
      await unavailable('POST', `${A}/admin/clock/advance`, { seconds: 1 });
      await unavailable('DELETE', `${A}/admin/clock`);
      // The export's status is sent before the rows: a failure ends the body with a line.
      const csv = await call('GET', `${A}/admin/verifications/export`);
      assert.equal(csv.status, 200);
      assert.match(csv.text, /^# export incomplete: mock\.store_unavailable$/m);
    } finally {
      await down.stop();
    }
  });

  test('a shared store that answers: /readyz, /admin/stats and the shared settings', async (t) => {
    const redisServer = ['/usr/bin', '/usr/local/bin', '/usr/sbin']
      .map((d) => path.join(d, 'redis-server'))
      .find((f) => spawnSync(f, ['--version']).status === 0);
    if (!redisServer) return t.skip('redis-server is not installed');
    const port = await freePort();
    const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
    let shared;
    try {
      shared = await startMock(['--store', `redis://127.0.0.1:${port}?prefix=oas`]);
      const A = shared.admin;
      let ready;
      for (let i = 0; i < 200; i++) {
        ready = await call('GET', `${A}/readyz`);
        if (ready.status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.json.store, `redis 127.0.0.1:${port} prefix=oas`);
      // The node's first heartbeat and settings may come a little after /readyz turns 200.
      let stats;
      for (let i = 0; i < 200; i++) {
        stats = await call('GET', `${A}/admin/stats`);
        if (stats.status !== 200 || (stats.json.nodes.length > 0 && stats.json.settingsVersion > 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(stats.status, 200, stats.text);
      assert.equal(stats.json.nodes.length, 1, stats.text);
      assert.ok(stats.json.settingsVersion >= 1, stats.text);
      assert.equal((await call('PATCH', `${A}/admin/config`, { body: { maxAttempts: 3 } })).json.maxAttempts, 3);
      assert.equal((await call('POST', `${A}/admin/clock/advance`, { body: { seconds: 5 } })).json.offsetSeconds, 5);
      assert.equal((await call('DELETE', `${A}/admin/clock`)).json.offsetSeconds, 0);
    } finally {
      await shared?.stop();
      redis.kill('SIGTERM');
    }
  });

  test('every answer conformed, and every operation was answered with a 2xx', () => {
    assert.deepEqual(failures, [], `answers that do not conform:\n  ${failures.join('\n  ')}`);
    const missing = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const statuses = exercised.get(`${method.toUpperCase()} ${template}`) || new Set();
        // A redirect is the success of an operation that documents no 2xx (GET /oidc/auth).
        const success = Object.keys(item[method].responses).some((s) => s.startsWith('2'))
          ? (s) => s >= 200 && s < 300 : (s) => s >= 300 && s < 400;
        if (![...statuses].some(success)) missing.push(`${method.toUpperCase()} ${template}`);
      }
    }
    assert.deepEqual(missing, [], 'operations never answered with a 2xx');
    let documented = 0;
    let seen = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const statuses = exercised.get(`${method.toUpperCase()} ${template}`) || new Set();
        for (const s of Object.keys(item[method].responses)) {
          if (s === 'default') continue;
          documented++;
          if (statuses.has(Number(s))) seen++;
        }
      }
    }
    console.log(`documented responses exercised: ${seen}/${documented}`);
  });
});
