// SPDX-License-Identifier: Apache-2.0
// The exported codes, read the same way by every load tool's script (autocannon under node, k6's
// own runtime, the node test): no node: or k6/ imports here.
//
// An export row, as JSON, is already a valid body for the public verify route (the route ignores
// `identifier`), so the scripts send verifyBody(row). Codes stay strings: never let a CSV reader
// turn "075746" into 75746.

/** The verify route every script drives. */
export const VERIFY_PATH = '/api/experience/verification/mfa-verification-code/verify';

/**
 * Parses an export (GET /admin/verifications/export in any format: a JSON array, NDJSON, or CSV
 * with its header line) into rows { verificationId, code, identifierType }. Throws on a row it
 * cannot read (an export cut short by a store failure included).
 * @param {string} text
 * @returns {{ verificationId: string, code: string, identifierType: string }[]}
 */
export function parseCodes(text) {
  if (text.trimStart().startsWith('[')) {  // format=json: one array
    return /** @type {unknown[]} */ (JSON.parse(text)).map((row, i) => checked(row, i + 1));
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  if (lines[0].trimStart().startsWith('{')) {  // format=ndjson
    return lines.map((line, i) => checked(JSON.parse(line), i + 1));
  }
  // CSV: the export's columns, any order; no field of an export row holds a comma or a quote
  // except an identifier, which the verify body does not need.
  const header = lines[0].split(',');
  const col = (/** @type {string} */ name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`codes: CSV header has no ${name} column`);
    return i;
  };
  const id = col('verificationId');
  const code = col('code');
  const type = col('identifierType');
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    return checked({ verificationId: f[id], code: f[code], identifierType: f[type] }, i + 2);
  });
}

/**
 * @param {any} row
 * @param {number} line
 */
function checked(row, line) {
  if (typeof row.verificationId !== 'string' || typeof row.code !== 'string' ||
      (row.identifierType !== 'email' && row.identifierType !== 'phone')) {
    throw new Error(`codes: line ${line} is not an exported record`);
  }
  return { verificationId: row.verificationId, code: row.code, identifierType: row.identifierType };
}

/**
 * The JSON body of the verify request for one row.
 * @param {{ verificationId: string, code: string, identifierType: string }} row
 */
export function verifyBody(row) {
  return JSON.stringify({ verificationId: row.verificationId, code: row.code, identifierType: row.identifierType });
}

/**
 * Hands out each row once, in order, whoever asks (autocannon's connections, one counter);
 * null when all are used.
 * @template T
 * @param {T[]} rows
 */
export function rowCursor(rows) {
  let next = 0;
  return {
    next: () => (next < rows.length ? rows[next++] : null),
    get used() { return Math.min(next, rows.length); },
  };
}
