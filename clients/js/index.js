// SPDX-License-Identifier: Apache-2.0
// mfa-mock-client: starts mfa-mock (or attaches to a running one) and wraps its admin API for
// tests and load tools. No runtime dependency: global fetch (Node >= 18) and node: modules.
// Types: index.d.ts. Routes and their answers: docs/admin-api.md.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const SEND_PATH = '/api/experience/verification/mfa-verification-code';
const VERIFY_PATH = `${SEND_PATH}/verify`;
const MAX_WAIT_SECONDS = 30;  // the server's bound on ?wait=
const STDERR_KEEP = 64 * 1024;  // the last bytes of a started mock's stderr, for error messages

/** An admin API answer that was not the expected success; carries the mock's error code. */
export class MfaMockError extends Error {
  constructor(status, body, what) {
    const code = body && typeof body === 'object' ? body.code : undefined;
    const message = body && typeof body === 'object' && body.message ? body.message : String(body ?? '');
    super(`${what}: ${status}${code ? ` ${code}` : ''}: ${message}`);
    this.name = 'MfaMockError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function filters({ to, channel, session, after } = {}) {
  return { to, channel, session, after };
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Yields the events of one text/event-stream body: { id, data } (comments and retry skipped).
async function* sseEvents(body) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id;
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) id = line.slice(3).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) yield { id, data: data.join('\n') };
    }
  }
}

/**
 * A client of one mfa-mock: its public and admin URLs, and (when started here) its process.
 * Not tied to one test: share it, or use reset()/filters to isolate tests.
 */
export class MfaMock {
  #token;
  #child;
  #stderr = '';
  #initialConfig;

  constructor({ adminUrl, publicUrl, token, child } = {}) {
    if (!adminUrl) throw new TypeError('adminUrl is required');
    this.adminUrl = adminUrl.replace(/\/+$/, '');
    this.publicUrl = publicUrl ? publicUrl.replace(/\/+$/, '') : undefined;
    this.#token = token;
    this.#child = child;
    if (child) {
      child.stderr?.on('data', (d) => {
        this.#stderr = (this.#stderr + d).slice(-STDERR_KEEP);
      });
    }
  }

  /** Attaches to a running mock (the URLs default to MFA_MOCK_ADMIN_URL / MFA_MOCK_PUBLIC_URL). */
  static attach(options = {}) {
    const adminUrl = options.adminUrl ?? process.env.MFA_MOCK_ADMIN_URL;
    const publicUrl = options.publicUrl ?? process.env.MFA_MOCK_PUBLIC_URL;
    const token = options.token ?? process.env.MFA_MOCK_ADMIN_TOKEN;
    return new MfaMock({ adminUrl, publicUrl, token });
  }

  /**
   * Starts the binary on free loopback ports (port 0: the mock prints the ones it got on its
   * ready line), then waits until GET /readyz answers 200.
   */
  static async start(options = {}) {
    const binary = options.binary ?? process.env.MFA_MOCK_BIN ?? process.env.MFA_MOCK_BINARY;
    if (!binary) {
      throw new Error('MfaMock.start: pass { binary } or set MFA_MOCK_BIN to the mfa-mock binary');
    }
    const host = options.host ?? '127.0.0.1';
    const timeoutMs = options.timeoutMs ?? 30_000;
    const args = ['--listen', `${host}:0`, '--admin-listen', `${host}:0`];
    if (options.token) args.push('--admin-token', options.token);
    args.push(...(options.args ?? []));
    // Only the arguments configure it: MFA_MOCK_* variables of this process (a token, ports) are
    // not passed on, unless given in options.env.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MFA_MOCK_')));
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inherited, ...(options.env ?? {}) },
    });
    // A mock started here never outlives this process, even when a test forgets stop().
    const killOnExit = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));

    let stderr = '';
    child.stderr.setEncoding('utf8');
    const keep = (d) => { stderr = (stderr + d).slice(-STDERR_KEEP); };
    child.stderr.on('data', keep);
    child.stdout.setEncoding('utf8');
    let stdout = '';
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`mfa-mock did not print its ready line within ${timeoutMs} ms; stderr:\n${stderr}`));
      }, timeoutMs);
      const onExit = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`mfa-mock exited (${signal ?? code}) before it was ready; stderr:\n${stderr}`));
      };
      child.once('exit', onExit);
      child.once('error', (e) => { clearTimeout(timer); reject(e); });
      child.stdout.on('data', (d) => {
        stdout = (stdout + d).slice(-STDERR_KEEP);
        const m = /^mfa-mock ready public=(\S+) admin=(\S+)/m.exec(stdout);
        if (!m) return;
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        resolve({ publicUrl: `http://${m[1]}`, adminUrl: `http://${m[2]}` });
      });
    });
    child.stdout.resume();  // keep draining what it prints later
    const mock = new MfaMock({ ...ready, token: options.token, child });
    mock.#stderr = stderr;
    child.stderr.removeListener('data', keep);
    await mock.waitUntilReady({ timeoutMs });
    await mock.rememberConfig();
    return mock;
  }

  /** The PID of a mock started here, else undefined. */
  get pid() {
    return this.#child?.pid;
  }

  /** The last 64 KiB of a started mock's stderr (its log; the access log if enabled). */
  get stderr() {
    return this.#stderr;
  }

  /** Polls GET /readyz until it answers 200 (a shared store may answer 503 for a while). */
  async waitUntilReady({ timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      try {
        const r = await fetch(`${this.adminUrl}/readyz`);
        last = `${r.status} ${await r.text()}`;
        if (r.status === 200) return;
      } catch (e) {
        last = String(e);
      }
      if (Date.now() >= deadline) throw new Error(`mfa-mock not ready within ${timeoutMs} ms: ${last}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM to a mock started here; resolves to its exit status (0 after a clean shutdown). */
  async stop({ timeoutMs = 15_000 } = {}) {
    const child = this.#child;
    if (!child) return undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code, signal] = await exited;
    clearTimeout(timer);
    return code ?? signal;
  }

  // --- HTTP -------------------------------------------------------------------------------

  #headers(extra) {
    const h = { ...extra };
    if (this.#token) h.Authorization = `Bearer ${this.#token}`;
    return h;
  }

  /** A raw admin request (path starting with /); the Response, whatever its status. */
  fetchAdmin(path, init = {}) {
    return fetch(this.adminUrl + path, { ...init, headers: this.#headers(init.headers) });
  }

  async #call(method, path, { body, expect = [200], what } = {}) {
    const init = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await this.fetchAdmin(path, init);
    const parsed = await readBody(response);
    if (!expect.includes(response.status)) {
      throw new MfaMockError(response.status, parsed, what ?? `${method} ${path}`);
    }
    return { status: response.status, body: parsed };
  }

  // --- verifications ----------------------------------------------------------------------

  /** POST /admin/verifications: stores records with your ids and codes; returns them. */
  async seed(items) {
    const { body } = await this.#call('POST', '/admin/verifications', { body: items, expect: [201] });
    return body.verifications;
  }

  /** POST /admin/verifications/generate: { created, batchId }. */
  async generate(options) {
    return (await this.#call('POST', '/admin/verifications/generate', { body: options, expect: [201] })).body;
  }

  /** GET /admin/verifications/export as text (csv, ndjson or json); all in memory: exportToFile for big batches. */
  async exportText({ batch, format = 'csv' } = {}) {
    const response = await this.#exportResponse(batch, format);
    return response.text();
  }

  /** The export as records ({ verificationId, code, identifierType, identifier }), streamed. */
  async* exportRecords({ batch } = {}) {
    const response = await this.#exportResponse(batch, 'ndjson');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line);
      }
    }
    if (buffer.trim()) yield JSON.parse(buffer);
  }

  /** Streams the export into a file (no copy in memory); resolves to the bytes written. */
  async exportToFile(path, { batch, format = 'csv' } = {}) {
    const response = await this.#exportResponse(batch, format);
    const out = createWriteStream(path);
    let bytes = 0;
    for await (const chunk of response.body) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return bytes;
  }

  async #exportResponse(batch, format) {
    const path = `/admin/verifications/export${query({ batch, format })}`;
    const response = await this.fetchAdmin(path);
    if (response.status !== 200) {
      throw new MfaMockError(response.status, await readBody(response), `GET ${path}`);
    }
    return response;
  }

  /** GET /admin/verifications/{id}, or null when there is none. */
  async verification(id) {
    const { status, body } = await this.#call('GET', `/admin/verifications/${encodeURIComponent(id)}`,
      { expect: [200, 404] });
    return status === 200 ? body : null;
  }

  /** DELETE /admin/verifications/{id}: true if it existed. */
  async deleteVerification(id) {
    const { status } = await this.#call('DELETE', `/admin/verifications/${encodeURIComponent(id)}`,
      { expect: [204, 404] });
    return status === 204;
  }

  /** DELETE /admin/verifications: every record and the send-limit counts; the number deleted. */
  async deleteVerifications() {
    return (await this.#call('DELETE', '/admin/verifications')).body.deleted;
  }

  /** POST /admin/send: a code to any recipient, recorded in the inbox; the new record. */
  async send({ identifierType, identifier }) {
    return (await this.#call('POST', '/admin/send', { body: { identifierType, identifier }, expect: [201] })).body;
  }

  // --- inbox -------------------------------------------------------------------------------

  /** GET /admin/inbox: messages, newest first. */
  async inbox(options = {}) {
    return (await this.#call('GET', `/admin/inbox${query({ ...filters(options), limit: options.limit })}`)).body.messages;
  }

  /** GET /admin/inbox/latest without waiting: the newest matching message, or null. */
  async latest(options = {}) {
    const { status, body } = await this.#call('GET', `/admin/inbox/latest${query(filters(options))}`,
      { expect: [200, 404] });
    return status === 200 ? body : null;
  }

  /** The newest cursor of the inbox (0 when empty): pass it as `after` to wait for the next code. */
  async cursor(options = {}) {
    const [newest] = await this.inbox({ ...options, limit: 1 });
    return newest ? newest.cursor : 0;
  }

  /**
   * Waits for a matching message (newer than `after` if given) with the server's long poll,
   * re-asking every 30 s until timeoutMs; rejects when none came in time.
   */
  async waitForCode(options = {}) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.ceil(remaining / 1000)));
      const path = `/admin/inbox/latest${query({ ...filters(options), wait })}`;
      const response = await this.fetchAdmin(path, { signal: options.signal });
      const body = await readBody(response);
      if (response.status === 200) return body;
      if (response.status === 503 && body?.code === 'admin.too_many_waiters') {
        await new Promise((r) => setTimeout(r, 1000));
      } else if (response.status !== 404) {
        throw new MfaMockError(response.status, body, `GET ${path}`);
      }
      if (Date.now() >= deadline) {
        throw new MfaMockError(404, body, `no code within ${timeoutMs} ms (GET ${path})`);
      }
    }
  }

  /**
   * Follows GET /admin/inbox/stream: yields every matching message after `after`, oldest first,
   * reconnecting after each bounded response, until `signal` aborts (then it returns).
   */
  async* streamInbox(options = {}) {
    let after = options.after ?? 0;
    const signal = options.signal;
    while (!signal?.aborted) {
      let response;
      try {
        response = await this.fetchAdmin(
          `/admin/inbox/stream${query({ ...filters(options), after, wait: options.wait })}`, { signal });
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      if (response.status !== 200) {
        throw new MfaMockError(response.status, await readBody(response), 'GET /admin/inbox/stream');
      }
      try {
        for await (const event of sseEvents(response.body)) {
          const message = JSON.parse(event.data);
          after = message.cursor;
          yield message;
        }
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
    }
  }

  /** DELETE /admin/inbox with optional filters (to, channel, session). */
  async clearInbox({ to, channel, session } = {}) {
    await this.#call('DELETE', `/admin/inbox${query({ to, channel, session })}`, { expect: [204] });
  }

  // --- journal, config, clock, stats -------------------------------------------------------

  /** GET /admin/requests: the public requests, newest first. */
  async requests({ limit, status, session, to } = {}) {
    return (await this.#call('GET', `/admin/requests${query({ limit, status, session, to })}`)).body.requests;
  }

  /** DELETE /admin/requests with optional filters (session, to). */
  async clearRequests({ session, to } = {}) {
    await this.#call('DELETE', `/admin/requests${query({ session, to })}`, { expect: [204] });
  }

  /** GET /admin/config. */
  async config() {
    return (await this.#call('GET', '/admin/config')).body;
  }

  /** PATCH /admin/config (a merge); the whole new config. */
  async patchConfig(patch) {
    return (await this.#call('PATCH', '/admin/config', { body: patch })).body;
  }

  /** GET /admin/clock: { now, offsetSeconds }. */
  async clock() {
    return (await this.#call('GET', '/admin/clock')).body;
  }

  /** POST /admin/clock/advance. */
  async advanceClock(seconds) {
    return (await this.#call('POST', '/admin/clock/advance', { body: { seconds } })).body;
  }

  /** DELETE /admin/clock: the offset back to 0. */
  async resetClock() {
    return (await this.#call('DELETE', '/admin/clock')).body;
  }

  /** GET /admin/stats. */
  async stats() {
    return (await this.#call('GET', '/admin/stats')).body;
  }

  // --- users and sessions ------------------------------------------------------------------

  /** POST /admin/users. */
  async createUser(user = {}) {
    return (await this.#call('POST', '/admin/users', { body: user, expect: [201] })).body;
  }

  /** POST /admin/sessions: { sessionId, cookie }. */
  async createSession(options = {}) {
    return (await this.#call('POST', '/admin/sessions', { body: options, expect: [201] })).body;
  }

  /** GET /admin/sessions/{id}: a live session, or null. */
  async session(id) {
    const { status, body } = await this.#call('GET', `/admin/sessions/${encodeURIComponent(id)}`,
      { expect: [200, 404] });
    return status === 200 ? body : null;
  }

  /** DELETE /admin/sessions: every session and lockout. */
  async deleteSessions() {
    return (await this.#call('DELETE', '/admin/sessions')).body.deleted;
  }

  /**
   * Everything a test can change, back to a fresh process's state: records and send counts,
   * inbox, sessions and lockouts, journal, clock, and (by default) the config as it was when
   * this client first saw it. Users are kept. Do not call it on a mock other tests share.
   */
  async reset({ config = true } = {}) {
    await this.deleteVerifications();
    await this.clearInbox();
    await this.deleteSessions();
    await this.clearRequests();
    await this.resetClock();
    if (config) {
      if (this.#initialConfig === undefined) this.#initialConfig = await this.config();
      else await this.patchConfig(this.#initialConfig);
    }
  }

  /** Remembers the current config as the one reset() goes back to. */
  async rememberConfig() {
    this.#initialConfig = await this.config();
  }

  // --- the public API (what the code under test calls) -------------------------------------

  async #public(path, body, cookie) {
    if (!this.publicUrl) throw new Error('publicUrl is unknown: pass it to MfaMock.attach');
    const headers = { 'Content-Type': 'application/json' };
    if (cookie) headers.Cookie = cookie;
    const response = await fetch(this.publicUrl + path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: response.status, body: await readBody(response) };
  }

  /** The public send route, as a sign-in UI calls it: { status, body }. */
  sendCode({ identifierType, cookie }) {
    return this.#public(SEND_PATH, { identifierType }, cookie);
  }

  /** The public verify route: { status, body }. */
  verifyCode({ verificationId, code, identifierType, cookie }) {
    return this.#public(VERIFY_PATH, { verificationId, code, identifierType }, cookie);
  }
}

/** Starts a mock: the same as MfaMock.start(options). */
export function startMfaMock(options) {
  return MfaMock.start(options);
}

export const paths = Object.freeze({ send: SEND_PATH, verify: VERIFY_PATH });
