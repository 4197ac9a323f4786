import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { canonicalize } from '@civic-ledger/canonical-json';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_GENESIS,
  AccessLog,
  accessLogRecordHash,
  redactUrl,
  verifyAccessLog,
  type AccessLogRecord,
} from './access-log.ts';
import { AccessError } from './errors.ts';
import { openAccessControl } from './setup.ts';

const dirs: string[] = [];
const logs: AccessLog[] = [];
afterEach(() => {
  for (const l of logs.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'access-log-'));
  dirs.push(d);
  return d;
}

const T0 = Date.parse('2026-11-02T09:00:00Z');
function open(path = join(tempDir(), 'access.db')) {
  let t = T0;
  const log = AccessLog.open(path, { now: () => (t += 1000) });
  logs.push(log);
  return { log, path };
}

const entry = (i: number) => ({
  org: 'privacy-board',
  scope: 'auditor' as const,
  jti: `jti-${i}`,
  method: 'GET',
  route: '/v1/entries/:index',
  url: `/v1/entries/${i}`,
  status: 200,
  requestId: `req-${i}`,
});

/** The failure's code and details (the test fails when nothing was thrown). */
function failure(f: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AccessError);
    return { code: (e as AccessError).code, details: (e as AccessError).details };
  }
  throw new Error('expected a failure');
}

/** Another connection to the file without the append-only triggers: what a tamperer does. */
function tamper(path: string, sql: string, ...params: (string | number)[]) {
  const db = new DatabaseSync(path);
  db.exec('DROP TRIGGER IF EXISTS access_log_no_update; DROP TRIGGER IF EXISTS access_log_no_delete;');
  db.prepare(sql).run(...params);
  db.close();
}

describe('AccessLog', () => {
  it('chains each record to the hash of the one before and verifies the whole log', () => {
    const { log } = open();
    const a = log.append(entry(1));
    const b = log.append(entry(2));
    expect(a).toMatchObject({
      seq: 1,
      prev: ACCESS_LOG_GENESIS,
      time: '2026-11-02T09:00:01.000Z',
      org: 'privacy-board',
    });
    expect(b.prev).toBe(a.hash);
    const { hash: _, ...bare } = a;
    expect(a.hash).toBe(accessLogRecordHash(bare));
    expect(log.head()).toEqual({ size: 2, hash: b.hash });
    expect(log.verify()).toEqual(log.head());
  });

  it('pages with after/limit, and the pages verify one after the other', () => {
    const { log } = open();
    for (let i = 1; i <= 5; i++) log.append(entry(i));
    const p1 = log.read({ after: 0, limit: 2 });
    expect(p1.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(p1.next).toBe(2);
    const p2 = log.read({ after: 2, limit: 2 });
    const p3 = log.read({ after: p2.next!, limit: 2 });
    expect(p3.records.map((r) => r.seq)).toEqual([5]);
    expect(p3.next).toBeNull();
    let head = verifyAccessLog(p1.records);
    head = verifyAccessLog(p2.records, { start: head });
    head = verifyAccessLog(p3.records, { start: head });
    expect(head).toEqual(p3.head);
  });

  it('is readable by its owner only: the database and its WAL files are created 0600', () => {
    const { log, path } = open();
    log.append(entry(1));
    for (const f of [path, `${path}-wal`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
  });

  it('continues the chain after a reopen', () => {
    const { log, path } = open();
    log.append(entry(1));
    log.close();
    const again = AccessLog.open(path);
    logs.push(again);
    const r = again.append(entry(2));
    expect(r.seq).toBe(2);
    expect(again.verify().size).toBe(2);
  });

  it('refuses UPDATE and DELETE inside SQLite', () => {
    const { log, path } = open();
    log.append(entry(1));
    const db = new DatabaseSync(path);
    expect(() => db.exec("UPDATE access_log SET hash = 'x'")).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM access_log')).toThrow(/append-only/);
    db.close();
  });

  it('detects a record edited in the middle, with or without its hash recomputed', () => {
    const { log, path } = open();
    for (let i = 1; i <= 4; i++) log.append(entry(i));
    const r2 = log.read({ after: 1, limit: 1 }).records[0]!;
    const { hash: _, ...bare } = r2;
    const edited: AccessLogRecord = { ...bare, org: 'someone-else' };
    tamper(path, 'UPDATE access_log SET record = ? WHERE seq = 2', canonicalize(edited));
    expect(failure(() => log.verify()).details).toEqual({ seq: 2, reason: 'hash' });
    tamper(path, 'UPDATE access_log SET hash = ? WHERE seq = 2', accessLogRecordHash(edited));
    expect(failure(() => log.verify()).details).toEqual({ seq: 3, reason: 'prev' });
  });

  it('detects a record deleted in the middle', () => {
    const { log, path } = open();
    for (let i = 1; i <= 3; i++) log.append(entry(i));
    tamper(path, 'DELETE FROM access_log WHERE seq = 2');
    const f = failure(() => log.verify());
    expect(f.code).toBe('ACCESS_LOG_INVALID');
    expect(f.details).toEqual({ seq: 2, reason: 'seq' });
  });

  it('detects a truncated tail against a head saved earlier, and a rewritten one', () => {
    const { log, path } = open();
    for (let i = 1; i <= 3; i++) log.append(entry(i));
    const saved = log.head();
    const records = log.read().records;
    expect(failure(() => verifyAccessLog(records.slice(0, 2), { knownHead: saved })).details).toMatchObject({
      reason: 'truncated',
    });
    // The tail cut and re-appended: a fork at the saved size.
    tamper(path, 'DELETE FROM access_log WHERE seq = 3');
    const reopened = AccessLog.open(path);
    logs.push(reopened);
    reopened.append({ ...entry(3), jti: 'different' });
    expect(reopened.verify().size).toBe(3);
    expect(failure(() => reopened.verify({ knownHead: saved })).details).toEqual({ seq: 3, reason: 'fork' });
  });

  it('refuses to open a log whose last record does not match its hash', () => {
    const { log, path } = open();
    log.append(entry(1));
    log.close();
    tamper(path, 'UPDATE access_log SET hash = ? WHERE seq = 1', 'f'.repeat(64));
    expect(failure(() => AccessLog.open(path)).code).toBe('ACCESS_LOG_INVALID');
  });

  it('fails with ACCESS_LOG_FAILED when it cannot write', () => {
    const { log } = open();
    expect(failure(() => log.append({ ...entry(1), org: 'Not An Org' })).code).toBe('ACCESS_LOG_FAILED');
    log.close();
    expect(failure(() => log.append(entry(1))).code).toBe('ACCESS_LOG_FAILED');
  });

  it('verifies served records as plain JSON, refusing malformed ones', () => {
    const { log } = open();
    log.append(entry(1));
    const served = JSON.parse(JSON.stringify(log.read().records)) as unknown[];
    expect(verifyAccessLog(served).size).toBe(1);
    expect(failure(() => verifyAccessLog([{ ...(served[0] as object), extra: 1 }])).details).toMatchObject({
      reason: 'malformed',
    });
  });
});

describe('redactUrl', () => {
  it('keeps the path and ordinary query, and drops the values of secret-looking parameters', () => {
    expect(redactUrl('/v1/entries?from=5&limit=2')).toBe('/v1/entries?from=5&limit=2');
    expect(redactUrl('/v1/x?access_token=abc&apiKey=k&q=1')).toBe(
      '/v1/x?access_token=%28redacted%29&apiKey=%28redacted%29&q=1',
    );
    expect(redactUrl('/v1/events/abc')).toBe('/v1/events/abc');
    expect(redactUrl(`/v1/${'a'.repeat(5000)}`)).toHaveLength(2048);
  });
});

describe('openAccessControl', () => {
  it('creates the issuer key (mode 0600) and the log on first open, and reads them after', () => {
    const dir = tempDir();
    const options = {
      origin: 'ledger.test.example/log',
      issuerKeyFile: join(dir, 'keys', 'token-issuer.key'),
      accessLogFile: join(dir, 'access-log.db'),
      orgRole: () => 'oversight',
    };
    const first = openAccessControl(options);
    first.close();
    expect(first.issuerKeyCreated).toBe(true);
    expect(statSync(options.issuerKeyFile).mode & 0o777).toBe(0o600);
    const second = openAccessControl(options);
    second.close();
    expect(second.issuerKeyCreated).toBe(false);
    expect(second.issuerKey.keyIdHex).toBe(first.issuerKey.keyIdHex);
    expect(() =>
      openAccessControl({ ...options, issuerKeyFile: join(dir, 'none.key'), createIssuerKey: false }),
    ).toThrow();
  });
});
