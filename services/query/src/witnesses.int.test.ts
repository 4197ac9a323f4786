// The query service's witness status on a real MongoDB-wire server: a Ledger writes checkpoints
// to the store as the sequencer does, asking real witness servers (two up, one down, quorum 2
// of 3); the query service, given the same policy, says who cosigned the latest stored
// checkpoint, to anyone (public scope, no token with read access control on).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testIssuer } from '@civic-ledger/access/testing';
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { findService } from '@civic-ledger/test-services';
import { cosignerFromKey, parsePolicy } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryConfig } from './config.ts';
import { startQuery, type RunningQuery } from './server.ts';
import type { PublishedWitnesses } from './witnesses.ts';

const url = await findService('mongodb');
const ORIGIN = 'query-witnesses.test.example/log';

describe.skipIf(url === undefined)('query service: GET /v1/checkpoints/latest/witnesses', () => {
  const database = `cl_qw_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const dir = mkdtempSync(join(tmpdir(), 'query-witnesses-'));
  const logKey = generateSigningKey(ORIGIN);
  const witnesses: RunningWitness[] = [];
  let store: MongoStore;
  let writer: Ledger;
  let query: RunningQuery;

  beforeAll(async () => {
    const keys = ['w1', 'w2', 'w3'].map((n) => generateSigningKey(`${n}.oversight.example`));
    for (const key of keys.slice(0, 2)) {
      witnesses.push(
        await startWitness(
          {
            key,
            dbPath: join(dir, `${key.name}.db`),
            logs: [{ origin: ORIGIN, verifierKeys: [formatVerifierKey(logKey)] }],
            port: 0,
          },
          { logger: false },
        ),
      );
    }
    // w3 is down: its URL answers nothing.
    const urls = [...witnesses.map((w) => w.url), 'http://127.0.0.1:9'];
    const policyText = [
      `log ${formatVerifierKey(logKey)}`,
      ...keys.map((k, i) => `witness w${i + 1} ${cosignerFromKey(k).verifierKey} ${urls[i]}`),
      'group board 2 w1 w2 w3',
      'quorum board',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'policy.txt'), policyText);

    store = await MongoStore.connect(url!, database);
    const operator = new TestEmitter('ledger');
    writer = await Ledger.open({
      store,
      origin: ORIGIN,
      logSigner: signerFromKeyText(formatSigningKey(logKey)),
      operatorKey: operator.verifierKey,
      signatureThreads: 0,
      witnessing: { policy: parsePolicy(policyText), intervalMs: 50, timeoutMs: 1000 },
    });
    for (const r of await writer.submit(bootstrapEvents(operator, [new TestEmitter('transport-agency')])))
      expect(r.ok).toBe(true);
    const deadline = Date.now() + 20_000;
    while ((await store.latestCheckpoint())?.size !== (await store.head()).size) {
      if (Date.now() > deadline) throw new Error('no cosigned checkpoint was stored');
      await new Promise((r) => setTimeout(r, 50));
    }
    query = await startQuery(
      loadQueryConfig({
        CIVIC_LEDGER_MONGODB_URL: url!,
        CIVIC_LEDGER_MONGODB_DATABASE: database,
        CIVIC_LEDGER_ORIGIN: ORIGIN,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(testIssuer(ORIGIN).key),
        CIVIC_LEDGER_ACCESS_LOG_FILE: join(dir, 'access-log.db'),
        CIVIC_LEDGER_WITNESS_POLICY_FILE: join(dir, 'policy.txt'),
      }),
      { logger: false },
    );
  }, 60_000);

  afterAll(async () => {
    await query?.close();
    await writer?.close();
    for (const w of witnesses) await w.close();
    await store?.close();
    const admin = await new MongoClient(url!).connect();
    await admin.db(database).dropDatabase();
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says, without a token, which witnesses cosigned the stored checkpoint and that the quorum holds', async () => {
    const res = await fetch(`${query.url}/v1/checkpoints/latest/witnesses`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as PublishedWitnesses;
    const latest = (await store.latestCheckpoint())!;
    expect(body).toMatchObject({
      origin: ORIGIN,
      quorum: 'board',
      size: latest.size,
      quorumHeld: true,
      shortfall: null,
    });
    expect(body.note).toBe(latest.note);
    expect(body.witnesses.map((w) => [w.witness, w.cosigned])).toEqual([
      ['w1', true],
      ['w2', true],
      ['w3', false],
    ]);
    expect(query.accessLog!.head().size).toBe(0);
    // The route is in the OpenAPI document like every other.
    const docs = (await (await fetch(`${query.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toContain('/v1/checkpoints/latest/witnesses');
  });
});
