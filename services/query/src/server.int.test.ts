// The query service with read access control, on a real MongoDB-wire server: a Ledger writes
// registrations to the store (as the sequencer would), the service verifies tokens with the
// issuer's public key only, serves public routes to anyone, auditor routes to tokens, and
// records every non-public read in its access log, which oversight reads over HTTP.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAccessLog, type HashedAccessLogRecord } from '@civic-ledger/access';
import { bearer, testIssuer } from '@civic-ledger/access/testing';
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { ConfigError } from '@civic-ledger/service-config';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { findService } from '@civic-ledger/test-services';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryConfig } from './config.ts';
import { startQuery, type RunningQuery } from './server.ts';

const url = await findService('mongodb');
const ORIGIN = 'query.test.example/log';
const issuer = testIssuer(ORIGIN);

async function dropDatabase(name: string): Promise<void> {
  const admin = await new MongoClient(url!).connect();
  try {
    await admin.db(name).dropDatabase();
  } finally {
    await admin.close();
  }
}

describe.skipIf(url === undefined)('query service read access (tokens)', () => {
  const database = `cl_query_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const dir = mkdtempSync(join(tmpdir(), 'query-access-'));
  const env = {
    CIVIC_LEDGER_MONGODB_URL: url!,
    CIVIC_LEDGER_MONGODB_DATABASE: database,
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_PORT: '0',
    CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
    // The public key only: the service never holds the issuer's secret.
    CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(issuer.key),
    // A folder that does not exist yet: the service creates it.
    CIVIC_LEDGER_ACCESS_LOG_FILE: join(dir, 'logs', 'access-log.db'),
  };
  let writerStore: MongoStore;
  let writer: Ledger;
  let query: RunningQuery;
  let eventHash: string;
  let bootSize: number;

  beforeAll(async () => {
    writerStore = await MongoStore.connect(url!, database);
    const operator = new TestEmitter('ledger');
    writer = await Ledger.open({
      store: writerStore,
      origin: ORIGIN,
      logSigner: signerFromKeyText(formatSigningKey(generateSigningKey(ORIGIN))),
      operatorKey: operator.verifierKey,
      signatureThreads: 0,
    });
    const boot = bootstrapEvents(
      operator,
      [new TestEmitter('transport-agency'), new TestEmitter('privacy-board')],
      { 'privacy-board': 'oversight' },
    );
    for (const r of await writer.submit(boot)) expect(r.ok).toBe(true);
    eventHash = boot.at(-1)!.hash;
    bootSize = boot.length;
    query = await startQuery(loadQueryConfig(env), { logger: false });
  }, 60_000);

  afterAll(async () => {
    await query?.close();
    await writer?.close();
    await writerStore?.close();
    await dropDatabase(database);
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${query.url}${path}`, { headers: token === undefined ? {} : bearer(token) });
    const text = await res.text();
    const json = res.headers.get('content-type')?.startsWith('application/json') === true;
    return { status: res.status, body: (json ? JSON.parse(text) : { text }) as Record<string, unknown> };
  };
  const logSize = () => query.accessLog!.head().size;

  it('serves public routes without a token', async () => {
    for (const path of ['/v1/chains/ledger/main/head', '/healthz', '/metrics', '/docs/json']) {
      const res = await get(path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    expect(logSize()).toBe(0);
  });

  it('refuses auditor routes (reads and lineage) without a token, and logs nothing', async () => {
    for (const path of [
      '/v1/entries',
      `/v1/events/${eventHash}`,
      `/v1/lineage/trace?event=${eventHash}&direction=upstream`,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.body).toMatchObject({ code: 'TOKEN_REQUIRED', details: { scope: 'auditor' } });
    }
    expect(logSize()).toBe(0);
  });

  it('refuses a token of another issuer and one for an organization the registry does not know', async () => {
    const other = await testIssuer(ORIGIN).token('transport-agency', 'auditor');
    expect((await get('/v1/entries', other)).body).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'unknown-key' },
    });
    const stranger = await issuer.token('unknown-agency', 'auditor');
    expect((await get('/v1/entries', stranger)).body).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'unknown-organization' },
    });
    expect(logSize()).toBe(0);
  });

  it('serves an auditor token the events and lineage the sequencer wrote, each read in the log', async () => {
    const token = await issuer.token('transport-agency', 'auditor');
    const entries = await get('/v1/entries?from=0&limit=100', token);
    expect(entries.status).toBe(200);
    expect(entries.body.entries).toHaveLength(bootSize);
    expect((await get(`/v1/events/${eventHash}`, token)).status).toBe(200);
    // A registration is no data movement: the trace answers 404, and that read is logged too.
    const trace = await get(`/v1/lineage/trace?event=${eventHash}&direction=upstream`, token);
    expect(trace.body).toMatchObject({ code: 'NOT_FOUND' });
    const records = query.accessLog!.read({ after: 0, limit: 100 }).records;
    expect(records.map((r) => [r.org, r.scope, r.route, r.status])).toEqual([
      ['transport-agency', 'auditor', '/v1/entries', 200],
      ['transport-agency', 'auditor', '/v1/events/:hash', 200],
      ['transport-agency', 'auditor', '/v1/lineage/trace', 404],
    ]);
  });

  it('serves the access log to oversight only, hash-chained', async () => {
    const auditor = await issuer.token('transport-agency', 'auditor');
    expect((await get('/v1/access-log', auditor)).body).toMatchObject({
      code: 'SCOPE_INSUFFICIENT',
      details: { needed: 'oversight', held: 'auditor', org: 'transport-agency' },
    });
    const oversight = await issuer.token('privacy-board', 'oversight');
    const page = await get('/v1/access-log?after=0&limit=1000', oversight);
    expect(page.status).toBe(200);
    const records = page.body.records as HashedAccessLogRecord[];
    // The refused request is in the log too; the page itself is recorded once answered.
    expect(records.map((r) => `${r.org} ${r.route} ${r.status}`).slice(-1)).toEqual([
      'transport-agency /v1/access-log 403',
    ]);
    expect(verifyAccessLog(records).size).toBe(records.length);
    expect(logSize()).toBe(records.length + 1);
  });
});

describe.skipIf(url === undefined)('query service start-up with tokens', () => {
  it('names CIVIC_LEDGER_ACCESS_LOG_FILE when the access log cannot be opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'query-access-bad-'));
    const database = `cl_query_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    try {
      const config = loadQueryConfig({
        CIVIC_LEDGER_MONGODB_URL: url!,
        CIVIC_LEDGER_MONGODB_DATABASE: database,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_ACCESS_CONTROL: 'tokens',
        CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(issuer.key),
        CIVIC_LEDGER_ACCESS_LOG_FILE: dir, // a folder, not a file
      });
      const started = startQuery(config, { logger: false });
      await expect(started).rejects.toBeInstanceOf(ConfigError);
      await expect(started).rejects.toMatchObject({
        issues: [{ variable: 'CIVIC_LEDGER_ACCESS_LOG_FILE' }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dropDatabase(database);
    }
  });
});
