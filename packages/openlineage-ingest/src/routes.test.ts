// The ingest routes on the real HTTP app (buildApp of ledger-http, through inject) over a real
// Ledger on MemoryStore: a pipeline of the transport agency posts OpenLineage events.
import {
  formatSigningKey,
  formatVerifierKey,
  fromBase64,
  generateSigningKey,
  signingKeyFromKeyObject,
} from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import { Ledger } from '@civic-ledger/ledger-core';
import { addKey, bootstrapEvents, registerDataset, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOpenLineageIngest } from './index.ts';
import { RUN_ID, runEvent } from './fixtures.test-support.ts';

const TOKEN = 'pl_4f9c2e7a1b3d5f60718293a4b5c6d7e8';
const SOURCE = 'transport-agency/cameras/north-07';
const INPUT = 'transport-agency/traffic-counts';
const OUTPUT = 'transport-agency/traffic-summary';
const logKey = generateSigningKey('ledger.test.example/log');
// The gateway's key material; the operator adds it to the agency as `transport-agency/gw1`.
const gatewayKey = generateSigningKey('openlineage-gateway/gw1');
const gatewayAsAgency = signingKeyFromKeyObject('transport-agency/gw1', gatewayKey.privateKeyObject);

let store: MemoryStore;
let ledger: Ledger;
let built: StandaloneApp;
let collectHash: string;

interface LeafEvent {
  type: string;
  emitter: string;
  stream: string;
  seq: number;
  key: string;
  dataset?: { id: string; version: string };
  inputs?: string[];
  ext?: Record<string, unknown>;
}

async function logged(): Promise<{ hash: string; event: LeafEvent; signature: string }[]> {
  const leaves = await store.getLeaves(0, ledger.size);
  return leaves.map((l) => {
    const parsed = JSON.parse(Buffer.from(l.leaf).toString('utf8')) as {
      event: LeafEvent;
      signature: string;
    };
    return { hash: l.eventHash, event: parsed.event, signature: parsed.signature };
  });
}

beforeAll(async () => {
  store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  ledger = await Ledger.open({
    store,
    origin: 'ledger.test.example/log',
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    signatureThreads: 0,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    now: () => Date.parse('2026-11-02T09:00:00Z'),
  });
  const agency = new TestEmitter('transport-agency');
  const setup = [
    ...bootstrapEvents(operator, [agency], {}, [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: INPUT },
    ]),
    registerDataset(agency, OUTPUT),
    addKey(operator, 'transport-agency', formatVerifierKey(gatewayAsAgency), gatewayAsAgency.name),
  ];
  const collect = agency.next({
    type: 'collect',
    source: SOURCE,
    dataset: { id: INPUT, version: `sha256:${'1'.repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
  } as never);
  collectHash = collect.hash;
  const results = await ledger.submit([...setup, collect]);
  expect(results.filter((x) => !x.ok)).toEqual([]);

  built = await buildApp(
    { origin: 'ledger.test.example/log', checkpointWithinMs: 60_000, logger: false, clientRateLimit: null },
    {
      ledger,
      store,
      logKey,
      registerExtra: (r) =>
        registerOpenLineageIngest(r, {
          pipelines: new Map([
            [
              TOKEN,
              {
                organization: 'transport-agency',
                stream: 'openlineage',
                purpose: 'city:TrafficManagement',
                declaration: 'd'.repeat(64),
                categories: ['city:VehicleCount'],
                personalData: 'none',
                processing: ['aggregate'],
              },
            ],
          ]),
          signer: gatewayKey,
          submit: (items) => ledger.submit(items),
          chainState: async (emitter, stream) => {
            const mine = (await logged()).filter(
              (e) => e.event.emitter === emitter && e.event.stream === stream,
            );
            const last = mine.at(-1);
            return last ? { seq: last.event.seq, prev: last.hash } : { seq: 0, prev: '0'.repeat(64) };
          },
          latestEventOf: async (id) => (await logged()).findLast((e) => e.event.dataset?.id === id)?.hash,
        }),
    },
  );
}, 30_000);

afterAll(async () => {
  await built?.app.close();
  await ledger?.close();
});

// Bodies are asserted member by member; `any` keeps those assertions short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

async function post(url: string, payload: unknown, token: string | null = TOKEN) {
  const res = await built.app.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(payload),
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
  });
  return { status: res.statusCode, body: res.json() as Body, headers: res.headers };
}

describe('POST /api/v1/lineage', () => {
  it('records START nowhere and turns COMPLETE into a gateway-signed derive on the agency chain', async () => {
    const before = ledger.size;
    const start = await post('/api/v1/lineage', runEvent('START'));
    expect(start.status).toBe(202);
    expect(start.body).toEqual({ accepted: true, ledgerEvent: null, ledgerEvents: [] });
    expect(ledger.size).toBe(before);

    const complete = await post('/api/v1/lineage', runEvent('COMPLETE'));
    expect(complete.status).toBe(201);
    const hash = complete.body['ledgerEvent'].eventHash as string;
    expect(complete.body['ledgerEvent']).toMatchObject({ dataset: { id: OUTPUT }, duplicate: false });
    expect(complete.body['ledgerEvent'].receipt).toMatchObject({ eventHash: hash, index: before });

    const entry = (await logged()).find((e) => e.hash === hash)!;
    expect(entry.event).toMatchObject({
      type: 'derive',
      emitter: 'transport-agency',
      stream: 'openlineage',
      seq: 1,
      key: 'transport-agency/gw1',
      inputs: [collectHash],
      ext: { 'cl:attestedBy': 'gateway', 'cl:openlineageRunId': RUN_ID },
    });
    expect(verifyEventSignature(hash, fromBase64(entry.signature), gatewayAsAgency)).toBe(true);

    // The pipeline retries the same COMPLETE: the same ledger event answers, nothing new is logged.
    const again = await post('/api/v1/lineage', runEvent('COMPLETE'));
    expect(again.status).toBe(200);
    expect(again.body['ledgerEvent']).toMatchObject({ eventHash: hash, duplicate: true });
    expect(ledger.size).toBe(before + 1);
  });

  it('answers 400 naming the failing path of an invalid event', async () => {
    const res = await post('/api/v1/lineage', runEvent('COMPLETE', { eventTime: 'yesterday' }));
    expect(res.status).toBe(400);
    expect(res.body['code']).toBe('RUN_EVENT_INVALID');
    expect(res.body['message']).toContain('/eventTime');
    expect(res.body['details'].issues[0]).toMatchObject({ path: '/eventTime', code: 'format' });
  });

  it('answers 401 without a token or with an unknown one', async () => {
    for (const token of [null, 'pl_wrong', `${TOKEN}x`]) {
      const res = await post('/api/v1/lineage', runEvent('COMPLETE'), token);
      expect(res.status).toBe(401);
      expect(res.body['code']).toBe('UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('answers 422 when an input dataset has no movement in the ledger', async () => {
    const res = await post(
      '/api/v1/lineage',
      runEvent('COMPLETE', { inputs: [{ namespace: 'pg', name: 'never-collected' }] }),
    );
    expect(res.status).toBe(422);
    expect(res.body['code']).toBe('UNKNOWN_INPUT_DATASET');
  });
});

describe('POST /api/v1/lineage/batch', () => {
  it('answers per event, partial_success when one fails', async () => {
    const runId = '01890f6e-4b4c-7cc1-8a5d-3c0a7e2f9b11';
    const res = await post('/api/v1/lineage/batch', [
      runEvent('START', { run: { runId } }),
      runEvent('COMPLETE', { run: { runId }, producer: 'not a uri' }),
      runEvent('COMPLETE', { run: { runId } }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body['status']).toBe('partial_success');
    expect(res.body['summary']).toEqual({
      received: 3,
      successful: 2,
      failed: 1,
      retriable: 0,
      non_retriable: 1,
    });
    expect(res.body['failed_events']).toEqual([
      { index: 1, reason: expect.stringContaining('/producer'), retriable: false },
    ]);
    expect(res.body['results'][0]).toEqual({ accepted: true, ledgerEvent: null, ledgerEvents: [] });
    expect(res.body['results'][1]).toMatchObject({ index: 1, code: 'RUN_EVENT_INVALID' });
    const derive = res.body['results'][2].ledgerEvent;
    const entry = (await logged()).find((e) => e.hash === derive.eventHash)!;
    // The second derive on the chain: seq 2, after the first test's.
    expect(entry.event).toMatchObject({ type: 'derive', seq: 2, ext: { 'cl:openlineageRunId': runId } });
  });

  it('answers 401 for the whole batch without a valid token', async () => {
    const res = await post('/api/v1/lineage/batch', [runEvent('START')], 'pl_wrong');
    expect(res.status).toBe(401);
  });
});
