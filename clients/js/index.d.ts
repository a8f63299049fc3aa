// SPDX-License-Identifier: Apache-2.0
// Types of mfa-mock-client (index.js). The routes and fields: docs/admin-api.md.

export type IdentifierType = 'email' | 'phone';
export type Channel = 'email' | 'sms' | 'phone';

export interface StartOptions {
  /** The mfa-mock binary; default: MFA_MOCK_BIN, then MFA_MOCK_BINARY. */
  binary?: string;
  /** More command-line options, e.g. ['--fixed-code', '123456']. */
  args?: string[];
  /** Starts it with --admin-token and sends the token with every admin call. */
  token?: string;
  /** Loopback address to listen on (default 127.0.0.1); the ports are free ones the mock picks. */
  host?: string;
  /** The process's environment is this one's without MFA_MOCK_* variables, plus these. */
  env?: Record<string, string>;
  /** How long to wait for the ready line and GET /readyz (default 30000). */
  timeoutMs?: number;
}

export interface AttachOptions {
  /** Default: MFA_MOCK_ADMIN_URL. */
  adminUrl?: string;
  /** Default: MFA_MOCK_PUBLIC_URL (needed only for sendCode/verifyCode). */
  publicUrl?: string;
  /** Default: MFA_MOCK_ADMIN_TOKEN. */
  token?: string;
}

export interface SeedItem {
  identifierType: IdentifierType;
  verificationId?: string;
  identifier?: string;
  code?: string;
  ttlSeconds?: number;
  identified?: boolean;
}

export interface SeededVerification {
  verificationId: string;
  identifierType: IdentifierType;
  identifier: string;
  code: string;
  expiresAt: string;
}

export interface GenerateOptions {
  count: number;
  identifierType: IdentifierType;
  /** A pattern: {n} is the record's number from 1. */
  identifier?: string;
  ttlSeconds?: number;
  code?: string;
  derived?: boolean;
}

export interface GenerateResult {
  created: number;
  batchId: string;
}

/** One exported row; as a JSON object it is also a valid body of the public verify route. */
export interface ExportedRecord {
  verificationId: string;
  /** Always a string: leading zeros are kept. */
  code: string;
  identifierType: IdentifierType;
  identifier: string;
}

export type ExportFormat = 'csv' | 'ndjson' | 'json';

export interface ExportOptions {
  /** A batchId from generate(); without it, every record. */
  batch?: string;
  format?: ExportFormat;
}

export interface Verification {
  verificationId: string;
  identifierType: IdentifierType;
  identifier: string;
  code: string;
  createdAt: string;
  expiresAt: string;
  tryCount: number;
  consumed: boolean;
  verified: boolean;
  identified: boolean;
  batchId: string | null;
}

export type MessageState = 'pending' | 'verified' | 'expired' | 'locked' | 'gone';

/** A code the mock sent (a public or admin send): its record's state follows it. */
export interface SentMessage {
  channel: 'email' | 'sms';
  to: string;
  code: string;
  verificationId: string;
  template: string;
  sentAt: string;
  state: MessageState;
  cursor: number;
  sessionId: string | null;
}

/**
 * A message Logto's HTTP connector posted to the mock (POST /connectors/http-email|sms): no
 * record behind it, so no verificationId; `code` is null when the payload carried none (e.g. an
 * organization invitation). Narrow with `message.state === 'external'`.
 */
export interface ConnectorMessage {
  channel: 'email' | 'sms';
  to: string;
  code: string | null;
  verificationId: null;
  /** Logto's template type (SignIn, MfaVerification, ...). */
  template: string;
  sentAt: string;
  state: 'external';
  cursor: number;
  sessionId: null;
}

export type InboxMessage = SentMessage | ConnectorMessage;

export interface InboxFilters {
  /** The recipient, matched as Logto compares (emails case-insensitively, phones by digits). */
  to?: string;
  channel?: Channel;
  /** An interaction session id. */
  session?: string;
  /** Only messages with a larger cursor. */
  after?: number;
}

export interface WaitOptions extends InboxFilters {
  /** Overall time to wait (default 30000); the server long-polls up to 30 s per request. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamOptions extends InboxFilters {
  /** Seconds each stream response waits for a message (server default 25). */
  wait?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

export interface JournalEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  errorCode: string | null;
  body: string;
  sessionId: string | null;
  verificationId: string | null;
}

export interface FaultRule {
  delayMs?: number | { min: number; max: number };
  error?: { rate?: number; status?: number; code?: string; message?: string } | null;
  resetRate?: number;
}

export interface Config {
  profile: 'documented' | 'logto';
  codeTtlSeconds: number;
  maxAttempts: number;
  connectors: { email: boolean; phone: boolean };
  sendRateLimit: { maxSends: number; windowSeconds: number };
  fixedCode: string | null;
  defaultUser: { email: string | null; phone: string | null; identified: boolean };
  sessions: 'off' | 'optional' | 'required';
  sessionTtlSeconds: number;
  lockout: { maxFailures: number; windowSeconds: number; durationSeconds: number };
  faults: {
    send: Required<FaultRule> & { delayMs: { min: number; max: number } };
    verify: Required<FaultRule> & { delayMs: { min: number; max: number } };
  };
}

export interface ConfigPatch {
  profile?: Config['profile'];
  codeTtlSeconds?: number;
  maxAttempts?: number;
  connectors?: Partial<Config['connectors']>;
  sendRateLimit?: Partial<Config['sendRateLimit']>;
  fixedCode?: string | null;
  defaultUser?: { email?: string | null; phone?: string | null; identified?: boolean };
  sessions?: Config['sessions'];
  sessionTtlSeconds?: number;
  lockout?: Partial<Config['lockout']>;
  faults?: { send?: FaultRule | null; verify?: FaultRule | null } | null;
}

export interface Clock {
  now: string;
  offsetSeconds: number;
}

export interface Stats {
  records: number;
  maxRecords: number;
  inboxMessages: number;
  inboxCapacity: number;
  inboxWaiters: number;
  [key: string]: unknown;
}

export interface User {
  id: string;
  username: string | null;
  primaryEmail: string | null;
  primaryPhone: string | null;
  hasPassword: boolean;
}

export interface NewUser {
  id?: string;
  username?: string | null;
  primaryEmail?: string | null;
  primaryPhone?: string | null;
  password?: string | null;
}

export interface NewSession {
  userId?: string;
  interactionEvent?: 'SignIn' | 'Register' | 'ForgotPassword';
  startInteraction?: boolean;
}

export interface Session {
  sessionId: string;
  /** The Cookie header value to send: `_interaction=...`. */
  cookie: string;
}

export interface SessionState {
  sessionId: string;
  interactionStarted: boolean;
  interactionEvent: string | null;
  userId: string | null;
  expiresAt: string;
  verificationIds: string[];
}

export interface PublicAnswer<T = unknown> {
  status: number;
  body: T;
}

/** An admin answer other than the expected success. */
export class MfaMockError extends Error {
  readonly status: number;
  /** The mock's error code, e.g. 'admin.not_found'. */
  readonly code: string | undefined;
  readonly body: unknown;
}

export class MfaMock {
  readonly adminUrl: string;
  readonly publicUrl: string | undefined;
  /** The PID of a mock started by this client. */
  readonly pid: number | undefined;
  /** The last 64 KiB of a started mock's stderr. */
  readonly stderr: string;

  constructor(options: { adminUrl: string; publicUrl?: string; token?: string });
  static start(options?: StartOptions): Promise<MfaMock>;
  static attach(options?: AttachOptions): MfaMock;

  waitUntilReady(options?: { timeoutMs?: number }): Promise<void>;
  /** SIGTERM; the exit status (0 after a clean shutdown), undefined for an attached mock. */
  stop(options?: { timeoutMs?: number }): Promise<number | string | null | undefined>;
  fetchAdmin(path: string, init?: RequestInit): Promise<Response>;

  seed(items: SeedItem | SeedItem[]): Promise<SeededVerification[]>;
  generate(options: GenerateOptions): Promise<GenerateResult>;
  exportText(options?: ExportOptions): Promise<string>;
  exportRecords(options?: { batch?: string }): AsyncGenerator<ExportedRecord, void, undefined>;
  exportToFile(path: string, options?: ExportOptions): Promise<number>;
  verification(id: string): Promise<Verification | null>;
  deleteVerification(id: string): Promise<boolean>;
  deleteVerifications(): Promise<number>;
  send(options: { identifierType: IdentifierType; identifier: string }): Promise<SeededVerification>;

  inbox(options?: InboxFilters & { limit?: number }): Promise<InboxMessage[]>;
  latest(options?: InboxFilters): Promise<InboxMessage | null>;
  cursor(options?: Omit<InboxFilters, 'after'>): Promise<number>;
  waitForCode(options?: WaitOptions): Promise<InboxMessage>;
  streamInbox(options?: StreamOptions): AsyncGenerator<InboxMessage, void, undefined>;
  clearInbox(options?: Omit<InboxFilters, 'after'>): Promise<void>;

  requests(options?: { limit?: number; status?: number; session?: string; to?: string }): Promise<JournalEntry[]>;
  clearRequests(options?: { session?: string; to?: string }): Promise<void>;
  config(): Promise<Config>;
  patchConfig(patch: ConfigPatch): Promise<Config>;
  clock(): Promise<Clock>;
  advanceClock(seconds: number): Promise<Clock>;
  resetClock(): Promise<Clock>;
  stats(): Promise<Stats>;

  createUser(user?: NewUser): Promise<User>;
  createSession(options?: NewSession): Promise<Session>;
  session(id: string): Promise<SessionState | null>;
  deleteSessions(): Promise<number>;
  reset(options?: { config?: boolean }): Promise<void>;
  rememberConfig(): Promise<void>;

  sendCode(options: { identifierType: IdentifierType; cookie?: string }): Promise<PublicAnswer<{ verificationId: string } | { code: string; message: string }>>;
  verifyCode(options: { verificationId: string; code: string; identifierType: IdentifierType; cookie?: string }): Promise<PublicAnswer>;
}

export function startMfaMock(options?: StartOptions): Promise<MfaMock>;

export const paths: { readonly send: string; readonly verify: string };
