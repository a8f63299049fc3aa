// SPDX-License-Identifier: Apache-2.0
// Compiled by `tsc --noEmit` (npm run typecheck): the declarations as a TypeScript user calls them.
// Never run; a wrong or missing type fails the compile.

import { MfaMock, MfaMockError, startMfaMock, paths } from 'mfa-mock-client';
import type { Config, ExportedRecord, InboxMessage } from 'mfa-mock-client';

export async function usage(): Promise<void> {
  const mock: MfaMock = await startMfaMock({ binary: '/usr/bin/mfa-mock', args: ['--fixed-code', '123456'] });
  const attached = MfaMock.attach({ adminUrl: 'http://127.0.0.1:3002', token: 't' });
  const [seeded] = await mock.seed([{ identifierType: 'email', verificationId: 'qa', code: '012345' }]);
  const code: string = seeded.code;
  const { batchId, created } = await mock.generate({ count: 10, identifierType: 'phone', identifier: '+1555{n}' });
  const csv: string = await mock.exportText({ batch: batchId, format: 'csv' });
  for await (const row of mock.exportRecords({ batch: batchId })) {
    const r: ExportedRecord = row;
    await mock.verifyCode(r);
  }
  const bytes: number = await mock.exportToFile('/tmp/codes.ndjson', { batch: batchId, format: 'ndjson' });
  const after = await mock.cursor({ to: 'a@example.com' });
  const message: InboxMessage = await mock.waitForCode({ to: 'a@example.com', after, timeoutMs: 5000 });
  const state: 'pending' | 'verified' | 'expired' | 'locked' | 'gone' | 'external' = message.state;
  if (message.state !== 'external') {
    const id: string = message.verificationId;  // a sent code has its record
    const sentCode: string = message.code;
  } else {
    const none: null = message.verificationId;  // a connector's message has none
    const maybe: string | null = message.code;
  }
  const latest: InboxMessage | null = await mock.latest({ channel: 'sms' });
  for await (const m of mock.streamInbox({ session: 's', signal: AbortSignal.timeout(10) })) {
    const c: number = m.cursor;
  }
  const journal = await mock.requests({ status: 400, limit: 5 });
  const errorCode: string | null = journal[0].errorCode;
  const config: Config = await mock.patchConfig({ fixedCode: null, faults: { verify: { delayMs: { min: 1, max: 2 } } } });
  const offset: number = (await mock.advanceClock(60)).offsetSeconds;
  const session = await mock.createSession({ userId: 'alice' });
  const sent = await mock.sendCode({ identifierType: 'email', cookie: session.cookie });
  const status: number = sent.status;
  await mock.reset();
  const exit = await mock.stop();
  const verifyPath: string = paths.verify;
  try {
    await attached.stats();
  } catch (e) {
    if (e instanceof MfaMockError) {
      const s: number = e.status;
      const c: string | undefined = e.code;
    }
  }
  void [code, created, csv, bytes, state, latest, errorCode, config, offset, status, exit, verifyPath];
}

// @ts-expect-error identifierType is 'email' or 'phone'
void ((m: MfaMock) => m.seed({ identifierType: 'fax' }));
// @ts-expect-error the export has three formats
void ((m: MfaMock) => m.exportText({ format: 'xml' }));
