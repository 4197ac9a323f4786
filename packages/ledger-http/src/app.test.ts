import { Writable } from 'node:stream';
import {
  formatSigningKey,
  formatVerifierKey,
  fromBase64,
  fromHex,
  generateSigningKey,
  toHex,
  type SigningKey,
} from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import {
  addKey,
  bootstrapEvents,
  genesisEvent,
  registerOrg,
  TestEmitter,
} from '@civic-ledger/ledger-core/testing';
import { hashLeaf, verifyConsistency, verifyInclusion } from '@civic-ledger/merkle';
import { openCheckpoint, signerFromKeyText, verifierFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore, type LedgerStore } from '@civic-ledger/storage';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type AppConfig, type StandaloneApp } from './app.ts';
import { statusOf } from './errors.ts';
import { verifyReceipt, type SignedReceipt } from '@civic-ledger/receipts';

const ORIGIN = 'ledger.test.example/log';
const logKey = generateSigningKey(ORIGIN);
const logVerifier = verifierFromKeyText(formatVerifierKey(logKey));
const NOW = Date.parse('2026-11-02T09:00:00Z');
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';
/**
 * Entries of the bootstrap: genesis, two organizations, their two keys, and the agency's
 * source and dataset (registered on the agency's main chain, which so starts at seq 3).
 */
const BOOT = 7;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface World extends StandaloneApp {
  app: FastifyInstance;
  ledger: Ledger;
  store: LedgerStore;
  operator: TestEmitter;
  agency: TestEmitter;
  police: TestEmitter;
}

async function openLedger(
  store: LedgerStore,
  operator: TestEmitter,
  extra: Partial<Parameters<typeof Ledger.open>[0]> = {},
) {
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => NOW,
    ...extra,
  });
  cleanup.push(() => ledger.close());
  return ledger;
}

async function world(
  options: { store?: LedgerStore; config?: Partial<AppConfig>; bootstrap?: boolean; key?: SigningKey } = {},
): Promise<World> {
  const store = options.store ?? new MemoryStore();
  const operator = new TestEmitter('ledger');
  const ledger = await openLedger(store, operator);
  const built = await buildApp(
    { origin: ORIGIN, checkpointWithinMs: 60_000, logger: false, ...options.config },
    { ledger, store, logKey: options.key ?? logKey, now: () => NOW },
  );
  cleanup.push(() => built.app.close());
  const agency = new TestEmitter('transport-agency');
  const police = new TestEmitter('police');
  if (options.bootstrap !== false) {
    const resources = [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: DATASET },
    ] as const;
    for (const e of bootstrapEvents(operator, [agency, police], {}, resources)) {
      const res = await built.app.inject({ method: 'POST', url: '/v1/events', payload: e });
      expect(res.statusCode, res.body).toBe(201);
    }
  }
  return Object.assign(built, { ledger, store, operator, agency, police });
}

const d = (c: string) => `sha256:${c.repeat(64)}`;

/** A collect of the registered source and dataset, unless told other names. */
function collect(n: number, names: { source?: string; dataset?: string } = {}) {
  return {
    type: 'collect',
    source: names.source ?? SOURCE,
    dataset: { id: names.dataset ?? DATASET, version: d((n % 16).toString(16)) },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  } as const;
}

function transfer(input: string) {
  return {
    type: 'transfer',
    dataset: { id: DATASET, version: d('a') },
    inputs: [input],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: 'd'.repeat(64),
    recipient: 'police',
  } as const;
}

async function post(app: FastifyInstance, payload: unknown, url = '/v1/events') {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

async function get(app: FastifyInstance, url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.body, json: () => res.json(), headers: res.headers };
}

describe('POST /v1/events', () => {
  it('answers 201 with a receipt signed by the log key, and a duplicate with 200 and the original receipt', async () => {
    const { app, agency, ledger } = await world();
    const e = agency.next(collect(1));
    const first = await post(app, e);
    expect(first.status).toBe(201);
    const receipt = first.body.receipt as SignedReceipt;
    expect(receipt).toMatchObject({
      index: BOOT,
      eventHash: e.hash,
      logOrigin: ORIGIN,
      checkpointWithinMs: 60_000,
    });
    expect(first.body.duplicate).toBe(false);
    expect(verifyReceipt(logKey, receipt)).toBe(true);
    expect(verifyReceipt(logKey, { ...receipt, index: BOOT + 1 })).toBe(false);
    expect(verifyReceipt(generateSigningKey('other/key'), receipt)).toBe(false);
    expect(first.headers['x-request-id']).toBeTruthy();

    const again = await post(app, e);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ receipt, duplicate: true });
    expect(ledger.size).toBe(BOOT + 1);
  });

  it('refuses a duplicate-key body with 400 INVALID_JSON (strict parsing)', async () => {
    const { app, agency } = await world();
    const e = agency.peek(collect(1));
    const text = JSON.stringify(e);
    const payload = `{"signature":"${e.signature}",${text.slice(1)}`;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'INVALID_JSON',
      details: { issues: [{ code: 'JCS_DUPLICATE_KEY' }] },
    });
    const broken = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"event":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('INVALID_JSON');
  });

  it('answers schema errors with 400 naming the field path and rule', async () => {
    const { app, agency } = await world();
    const e = agency.peek(collect(1));
    const noSig = await post(app, { event: e.event });
    expect(noSig.status).toBe(400);
    expect(noSig.body.code).toBe('SCHEMA_INVALID');
    expect(noSig.body.details.issues[0].path).toBe('/signature');
    expect(noSig.body.details.issues[0].rule).toBeTruthy();

    const badField = await post(app, { event: { ...e.event, records: -1 }, signature: e.signature });
    expect(badField.status).toBe(400);
    expect(badField.body.code).toBe('SCHEMA_INVALID');
    expect(badField.body.details.issues.map((i: { path: string }) => i.path)).toContain('/event/records');

    agency.time = '2026-11-02T10:00:00Z';
    const future = await post(app, agency.peek(collect(1)));
    expect(future.status).toBe(400);
    expect(future.body).toMatchObject({
      code: 'TIME_IN_FUTURE',
      details: { issues: [{ path: '/event/time' }] },
    });
  });

  it('answers 401 for unknown keys, bad signatures and revoked keys', async () => {
    const { app, agency } = await world();
    const stranger = generateSigningKey('transport-agency/k9');
    const unknown = await post(app, agency.peek(collect(1), { key: stranger.name }, stranger));
    expect(unknown).toMatchObject({ status: 401, body: { code: 'UNKNOWN_KEY' } });
    const forged = agency.peek(collect(1));
    forged.signature = agency.peek(collect(2)).signature;
    expect(await post(app, forged)).toMatchObject({ status: 401, body: { code: 'BAD_SIGNATURE' } });

    const k2 = generateSigningKey('transport-agency/k2');
    const add = agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never);
    const k1 = agency.key;
    agency.key = k2;
    const revoke = agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: k1.name,
    } as never);
    const batch = await post(app, { events: [add, revoke] }, '/v1/events/batch');
    expect(batch.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);
    agency.key = k1;
    expect(await post(app, agency.peek(collect(3)))).toMatchObject({
      status: 401,
      body: { code: 'KEY_REVOKED' },
    });
  });

  it('answers 403 NOT_PERMITTED and 409 for chain errors naming the expected seq/prev', async () => {
    const { app, agency, operator } = await world();
    const prev1 = agency.prev;
    const e1 = agency.next(collect(1));
    const seq1 = agency.seq;
    expect((await post(app, e1)).status).toBe(201);
    const attest = agency.peek({ type: 'attest', about: { event: e1.hash }, statement: 'verified' } as never);
    expect(await post(app, attest)).toMatchObject({ status: 403, body: { code: 'NOT_PERMITTED' } });

    expect(await post(app, agency.peek(collect(9), { seq: seq1 + 4 }))).toMatchObject({
      status: 409,
      body: { code: 'CHAIN_GAP', details: { expectedSeq: seq1 + 1 } },
    });
    // Another event at e1's position, after the same predecessor.
    expect(await post(app, agency.peek(collect(7), { seq: seq1, prev: prev1 }))).toMatchObject({
      status: 409,
      body: { code: 'CHAIN_FORK', details: { existingHash: e1.hash } },
    });
    expect(await post(app, agency.peek(collect(3), { prev: 'f'.repeat(64) }))).toMatchObject({
      status: 409,
      body: { code: 'CHAIN_BAD_PREV', details: { expectedPrev: e1.hash } },
    });
    const again = operator.peek({
      type: 'register',
      subject: { kind: 'organization', id: 'police', name: 'Again', role: 'agency', jurisdiction: 'NL' },
    } as never);
    expect(await post(app, again)).toMatchObject({ status: 409, body: { code: 'ALREADY_REGISTERED' } });
  });

  it('answers 413 for oversized events, ext and bodies, and 415 for other media types', async () => {
    const { app, agency } = await world();
    const e = agency.peek(collect(1));
    const big = { event: { ...e.event, note: 'x'.repeat(70_000) }, signature: e.signature };
    expect(await post(app, big)).toMatchObject({ status: 413, body: { code: 'EVENT_TOO_LARGE' } });
    const blob = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`acme:f${i}`, 'y'.repeat(250)]));
    const ext = { event: { ...e.event, ext: blob }, signature: e.signature };
    expect(await post(app, ext)).toMatchObject({ status: 413, body: { code: 'EXT_TOO_LARGE' } });
    const huge = { event: { ...e.event, note: 'z'.repeat(100_000) }, signature: e.signature };
    expect(await post(app, huge)).toMatchObject({ status: 413, body: { code: 'BODY_TOO_LARGE' } });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 422 for unknown inputs and unknown subjects', async () => {
    const { app, agency, operator, ledger } = await world();
    expect(await post(app, agency.peek(transfer('9'.repeat(64))))).toMatchObject({
      status: 422,
      body: { code: 'UNKNOWN_INPUT', details: { input: '9'.repeat(64) } },
    });
    const ghost = new TestEmitter('ghost-org');
    expect(await post(app, addKey(operator, 'ghost-org', ghost.verifierKey, ghost.key.name))).toMatchObject({
      status: 422,
      body: { code: 'UNKNOWN_SUBJECT' },
    });
    // A movement of a dataset nobody registered, a collect from an unregistered source.
    const ghostDataset = 'transport-agency/never-registered';
    const ghostSource = 'transport-agency/cameras/never-registered';
    expect(await post(app, agency.peek(collect(1, { dataset: ghostDataset })))).toMatchObject({
      status: 422,
      body: { code: 'UNKNOWN_SUBJECT', details: { path: '/dataset/id', kind: 'dataset', id: ghostDataset } },
    });
    expect(await post(app, agency.peek(collect(1, { source: ghostSource })))).toMatchObject({
      status: 422,
      body: { code: 'UNKNOWN_SUBJECT', details: { path: '/source', kind: 'source', id: ghostSource } },
    });
    expect(ledger.size).toBe(BOOT);
  });

  it('limits requests per client address and events per emitter key with 429 and Retry-After', async () => {
    const { app } = await world({
      bootstrap: false,
      config: { clientRateLimit: { max: 2, windowMs: 60_000 } },
    });
    expect((await get(app, '/v1/entries')).status).toBe(200);
    expect((await get(app, '/v1/entries')).status).toBe(200);
    const limited = await get(app, '/v1/entries');
    expect(limited.status).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 2 } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Operational endpoints are not limited.
    expect((await get(app, '/healthz')).status).toBe(200);

    const w = await world({ config: { keyRateLimit: { max: 5, windowMs: 60_000 } } });
    // The bootstrap used 5 events of the operator's key: the next one is limited.
    const over = await post(w.app, registerOrg(w.operator, 'another', 'agency'));
    expect(over).toMatchObject({
      status: 429,
      body: { code: 'RATE_LIMITED', details: { key: 'ledger/k1' } },
    });
    expect(over.headers['retry-after']).toBeDefined();
    // Other keys are not.
    expect((await post(w.app, w.agency.next(collect(1)))).status).toBe(201);
  });
});

describe('503 answers', () => {
  it('OVERLOADED when the queue is full', async () => {
    const store = new MemoryStore();
    const operator = new TestEmitter('ledger');
    const ledger = await openLedger(store, operator, { maxQueue: 0 });
    const { app } = await buildApp(
      { origin: ORIGIN, checkpointWithinMs: 1000, logger: false },
      { ledger, store, logKey },
    );
    cleanup.push(() => app.close());
    const res = await post(app, genesisEvent(operator));
    expect(res).toMatchObject({ status: 503, body: { code: 'OVERLOADED' } });
    expect(res.headers['retry-after']).toBe('1');
  });

  it('STORE_FAILED when the store fails, and nothing is written', async () => {
    let fail = false;
    const store = new MemoryStore({
      beforeHeadUpdate: () => {
        if (fail) throw new Error('disk full');
      },
    });
    const { app, agency, ledger } = await world({ store });
    fail = true;
    const e = agency.next(collect(1));
    expect(await post(app, e)).toMatchObject({ status: 503, body: { code: 'STORE_FAILED' } });
    expect(ledger.size).toBe(BOOT);
    fail = false;
    expect((await post(app, e)).status).toBe(201);
  });

  it('NOT_WRITER when another process took over the log, and /readyz says so', async () => {
    const store = new MemoryStore();
    const { app, agency, operator } = await world({ store });
    await openLedger(store, operator, { owner: 'second', now: () => NOW + 10 * 60_000 });
    expect(await post(app, agency.next(collect(1)))).toMatchObject({
      status: 503,
      body: { code: 'NOT_WRITER' },
    });
    const ready = await get(app, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ status: 'not-writer' });
  });

  it('CLOSING for everything but operations once close begins; /readyz 503, /healthz 200', async () => {
    const w = await world();
    expect((await get(w.app, '/readyz')).json()).toEqual({ status: 'ready', size: BOOT });
    w.beginClose();
    expect(w.closing).toBe(true);
    const refused = await post(w.app, w.agency.next(collect(1)));
    expect(refused).toMatchObject({ status: 503, body: { code: 'CLOSING' } });
    expect(refused.headers.connection).toBe('close');
    expect((await get(w.app, '/v1/checkpoint')).status).toBe(503);
    const ready = await get(w.app, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ status: 'closing' });
    expect((await get(w.app, '/healthz')).status).toBe(200);
    expect((await get(w.app, '/metrics')).body).toContain('civic_ledger_writable 0');
  });

  it('LEDGER_CLOSED after the ledger closed', async () => {
    const { app, agency, ledger } = await world();
    await ledger.close();
    expect(await post(app, agency.next(collect(1)))).toMatchObject({
      status: 503,
      body: { code: 'LEDGER_CLOSED' },
    });
  });
});

describe('POST /v1/events/batch', () => {
  it('answers each event with a receipt or an error; atomic batches append all or nothing', async () => {
    const { app, agency, ledger } = await world();
    const good = agency.next(collect(1));
    const goodSeq = agency.seq;
    const gap = agency.peek(collect(2), { seq: goodSeq + 7 });
    const res = await post(
      app,
      { events: [good, gap, good, { event: {}, signature: 'x' }] },
      '/v1/events/batch',
    );
    expect(res.status).toBe(200);
    const [a, b, c, e] = res.body.results;
    expect(a).toMatchObject({ ok: true, duplicate: false, receipt: { eventHash: good.hash } });
    expect(verifyReceipt(logKey, a.receipt)).toBe(true);
    expect(b).toMatchObject({
      ok: false,
      error: { code: 'CHAIN_GAP', details: { expectedSeq: goodSeq + 1 } },
    });
    expect(c).toMatchObject({ ok: true, duplicate: true, receipt: a.receipt });
    expect(e).toMatchObject({ ok: false, error: { code: 'SCHEMA_INVALID' } });

    const size = ledger.size;
    const next = agency.next(collect(3));
    const bad = agency.peek(collect(4), { seq: agency.seq + 4 });
    const atomic = await post(app, { events: [next, bad], atomic: true }, '/v1/events/batch');
    expect(atomic.body.results.map((r: { error: { code: string } }) => r.error.code)).toEqual([
      'BATCH_REFUSED',
      'CHAIN_GAP',
    ]);
    expect(ledger.size).toBe(size);
  });

  it('takes batch bodies past the single-event limit (up to 8 MiB)', async () => {
    const { app, agency, ledger } = await world();
    const events = Array.from({ length: 400 }, (_, i) => agency.next(collect(i)));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(96 * 1024);
    const res = await post(app, { events }, '/v1/events/batch');
    expect(res.status).toBe(200);
    expect(res.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect(ledger.size).toBe(BOOT + 400);
  });

  it('refuses more than 1000 events, unknown members and bodies over 8 MiB', async () => {
    const { app } = await world({ bootstrap: false });
    const tooMany = await post(app, { events: Array.from({ length: 1001 }, () => ({})) }, '/v1/events/batch');
    expect(tooMany).toMatchObject({ status: 400, body: { code: 'SCHEMA_INVALID' } });
    expect(tooMany.body.details.issues[0].path).toBe('/events');
    const nineMiB = { events: [{ event: { note: 'x'.repeat(9 * 1024 * 1024) }, signature: '' }] };
    expect(await post(app, nineMiB, '/v1/events/batch')).toMatchObject({
      status: 413,
      body: { code: 'BODY_TOO_LARGE' },
    });
    const notObject = await post(app, { events: [{}, 'not an event'] }, '/v1/events/batch');
    expect(notObject).toMatchObject({ status: 400, body: { code: 'SCHEMA_INVALID' } });
    expect(notObject.body.details.issues[0].path).toBe('/events/1');
    const extra = await post(app, { events: [{}], hurry: true }, '/v1/events/batch');
    expect(extra).toMatchObject({ status: 400, body: { code: 'SCHEMA_INVALID' } });
  });
});

describe('reads that verify', () => {
  async function populated() {
    const w = await world();
    const first = await w.ledger.checkpointNow();
    const events = Array.from({ length: 12 }, (_, i) => w.agency.next(collect(i)));
    const res = await post(w.app, { events }, '/v1/events/batch');
    expect(res.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    await w.ledger.checkpointNow();
    return {
      ...w,
      events,
      first,
      receipts: res.body.results.map((r: { receipt: SignedReceipt }) => r.receipt),
    };
  }

  it('serves entries by index, by event hash and in pages, with leaves that hash to the receipts', async () => {
    const { app, events, receipts } = await populated();
    const r0 = receipts[0] as SignedReceipt;
    const byIndex = (await get(app, `/v1/entries/${r0.index}`)).json();
    expect(byIndex).toMatchObject({ index: r0.index, eventHash: events[0]!.hash, leafHash: r0.leafHash });
    expect(toHex(hashLeaf(new TextEncoder().encode(byIndex.leaf)))).toBe(r0.leafHash);
    expect(JSON.parse(byIndex.leaf).event).toEqual(events[0]!.event);
    expect((await get(app, `/v1/events/${events[0]!.hash}`)).json()).toEqual(byIndex);
    expect((await get(app, `/v1/events/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get(app, `/v1/events/nothex`)).status).toBe(400);
    expect((await get(app, '/v1/entries/1000')).status).toBe(404);

    const page1 = (await get(app, '/v1/entries?from=0&limit=10')).json();
    expect(page1).toMatchObject({ from: 0, size: BOOT + 12, next: 10 });
    expect(page1.entries.map((e: { index: number }) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const page2 = (await get(app, `/v1/entries?from=${page1.next}&limit=10`)).json();
    expect(page2.entries).toHaveLength(BOOT + 12 - 10);
    expect(page2.next).toBeNull();
    expect((await get(app, '/v1/entries?limit=1001')).status).toBe(400);
  });

  it('serves signed checkpoints that open with the log key, and proofs that verify against them', async () => {
    const { app, receipts, first, events } = await populated();
    const text = await get(app, '/v1/checkpoint');
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    const cp = openCheckpoint(text.body, { verifiers: [logVerifier], origin: ORIGIN });
    expect(cp.size).toBe(BOOT + 12);
    const json = (await get(app, '/v1/checkpoint.json')).json();
    expect(json).toMatchObject({ origin: ORIGIN, size: BOOT + 12, note: text.body });
    expect(fromBase64(json.rootHash)).toEqual(cp.rootHash);
    const old = await get(app, `/v1/checkpoints/${first.size}`);
    expect(old.body).toBe(first.note);
    const oldCp = openCheckpoint(old.body, { verifiers: [logVerifier], origin: ORIGIN });
    expect((await get(app, '/v1/checkpoints/3')).status).toBe(404);

    for (const [i, r] of (receipts as SignedReceipt[]).entries()) {
      const byHash = (await get(app, `/v1/proofs/inclusion?hash=${events[i]!.hash}&size=${cp.size}`)).json();
      expect(byHash).toMatchObject({ index: r.index, size: cp.size, leafHash: r.leafHash });
      verifyInclusion(fromHex(r.leafHash), r.index, cp.size, byHash.hashes.map(fromBase64), cp.rootHash);
    }
    const byIndex = (await get(app, `/v1/proofs/inclusion?index=2`)).json();
    verifyInclusion(fromHex(byIndex.leafHash), 2, cp.size, byIndex.hashes.map(fromBase64), cp.rootHash);
    expect((await get(app, '/v1/proofs/inclusion?size=3')).status).toBe(400);
    expect((await get(app, `/v1/proofs/inclusion?index=10&size=5`)).status).toBe(400);
    expect((await get(app, `/v1/proofs/inclusion?index=1&size=99`)).status).toBe(400);

    const cons = (await get(app, `/v1/proofs/consistency?from=${oldCp.size}&to=${cp.size}`)).json();
    verifyConsistency(oldCp.size, cp.size, cons.hashes.map(fromBase64), oldCp.rootHash, cp.rootHash);
    expect((await get(app, '/v1/proofs/consistency?from=0')).status).toBe(400);
    expect((await get(app, '/v1/proofs/consistency?from=9&to=4')).status).toBe(400);
  });

  it('lists signed checkpoints ascending by size, paged, each opening with the log key', async () => {
    const { app, ledger, agency } = await populated();
    // A third checkpoint, so pages have a middle.
    const more = Array.from({ length: 3 }, (_, i) => agency.next(collect(100 + i)));
    expect((await post(app, { events: more }, '/v1/events/batch')).status).toBe(200);
    await ledger.checkpointNow();

    const all = (await get(app, '/v1/checkpoints')).json();
    const expected = [BOOT, BOOT + 12, BOOT + 15];
    expect(all.checkpoints.map((c: { size: number }) => c.size)).toEqual(expected);
    expect(all.next).toBeNull();
    for (const c of all.checkpoints as { size: number; note: string }[]) {
      expect(openCheckpoint(c.note, { verifiers: [logVerifier], origin: ORIGIN }).size).toBe(c.size);
      expect((await get(app, `/v1/checkpoints/${c.size}`)).body).toBe(c.note);
    }

    const sizes: number[] = [];
    let url: string | null = '/v1/checkpoints?limit=1';
    while (url) {
      const page = (await get(app, url)).json();
      expect(page.checkpoints).toHaveLength(1);
      sizes.push(page.checkpoints[0].size);
      url = page.next === null ? null : `/v1/checkpoints?from=${page.next}&limit=1`;
    }
    expect(sizes).toEqual(expected);
    // From a size between two checkpoints: the next one up.
    expect((await get(app, `/v1/checkpoints?from=${BOOT + 1}&limit=1`)).json()).toMatchObject({
      checkpoints: [{ size: BOOT + 12 }],
      next: BOOT + 15,
    });
    expect((await get(app, `/v1/checkpoints?from=${BOOT + 16}`)).json()).toEqual({
      checkpoints: [],
      next: null,
    });
    expect((await get(app, '/v1/checkpoints?limit=0')).status).toBe(400);
    expect((await get(app, '/v1/checkpoints?limit=1001')).status).toBe(400);
    expect((await get(app, '/v1/checkpoints?from=-1')).status).toBe(400);
  });

  it('pages through checkpoints that are far apart (the store is read in bounded windows)', async () => {
    const store = new MemoryStore();
    const { app } = await world({ store, bootstrap: false });
    const sizes = [3000, 70_000, 70_001, 500_000];
    for (const size of sizes) await store.putCheckpoint({ size, note: `note ${size}\n`, createdAt: NOW });
    const p1 = (await get(app, '/v1/checkpoints?limit=2')).json();
    expect(p1).toEqual({
      checkpoints: [
        { size: 3000, note: 'note 3000\n' },
        { size: 70_000, note: 'note 70000\n' },
      ],
      next: 70_001,
    });
    const p2 = (await get(app, `/v1/checkpoints?from=${p1.next}&limit=2`)).json();
    expect(p2.checkpoints.map((c: { size: number }) => c.size)).toEqual([70_001, 500_000]);
    expect(p2.next).toBeNull();
    expect((await get(app, '/v1/checkpoints?from=70001&limit=1')).json().next).toBe(500_000);
  });

  it('serves chain heads', async () => {
    const { app, events } = await populated();
    const head = (await get(app, '/v1/chains/transport-agency/main/head')).json();
    expect(head).toMatchObject({
      emitter: 'transport-agency',
      stream: 'main',
      // Its source and dataset registrations, then the 12 collects.
      seq: 2 + 12,
      eventHash: events[11]!.hash,
    });
    expect((await get(app, '/v1/chains/nobody/main/head')).status).toBe(404);
  });
});

describe('operations', () => {
  it('the OpenAPI document lists every route; /docs links to it', async () => {
    const { app } = await world({ bootstrap: false });
    const doc = (await get(app, '/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths as Record<string, object>).flatMap(([p, o]) =>
      Object.keys(o).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual(
      [
        'POST /v1/events',
        'POST /v1/events/batch',
        'GET /v1/events/{hash}',
        'GET /v1/entries/{index}',
        'GET /v1/entries',
        'GET /v1/checkpoint',
        'GET /v1/checkpoint.json',
        'GET /v1/checkpoints/{size}',
        'GET /v1/checkpoints',
        'GET /v1/proofs/inclusion',
        'GET /v1/proofs/consistency',
        'GET /v1/chains/{emitter}/{stream}/head',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
    );
    const post201 = doc.paths['/v1/events'].post.responses['201'];
    expect(JSON.stringify(post201)).toContain('checkpointWithinMs');
    const page = await get(app, '/docs');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/docs/json');
    expect(page.body).toContain('/v1/proofs/inclusion');
  });

  it('exposes Prometheus metrics: accepted, refused by code, tree size, request durations', async () => {
    const { app, agency } = await world();
    expect((await post(app, agency.next(collect(1)))).status).toBe(201);
    await post(app, agency.peek(collect(2), { seq: agency.seq + 3 }));
    const res = await get(app, '/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.body).toContain(`civic_ledger_events_accepted_total ${BOOT + 1}`);
    expect(res.body).toContain('civic_ledger_events_refused_total{code="CHAIN_GAP"} 1');
    await post(app, { event: {} });
    const after = await get(app, '/metrics');
    expect(after.body).toContain('civic_ledger_events_refused_total{code="SCHEMA_INVALID"} 1');
    expect(res.body).toContain(`civic_ledger_tree_size ${BOOT + 1}`);
    expect(res.body).toContain(
      `civic_ledger_http_request_duration_seconds_count{method="POST",route="/v1/events",status="201"} ${BOOT + 1}`,
    );
  });

  it('logs with request ids and never logs authorization headers', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const { app } = await world({
      bootstrap: false,
      config: {
        logger: {
          level: 'info',
          stream,
          redact: ['req.headers.authorization'],
          serializers: {
            req: (req: { headers: unknown; url: string }) => ({ url: req.url, headers: req.headers }),
          },
        },
      },
    });
    const res = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { authorization: 'Bearer s3cret-token', 'x-request-id': 'req-42' },
    });
    expect(res.headers['x-request-id']).toBe('req-42');
    const log = lines.join('');
    expect(log).toContain('"reqId":"req-42"');
    expect(log).not.toContain('s3cret-token');
  });

  it('maps every ledger code to its status', () => {
    expect(statusOf('UNKNOWN_EMITTER')).toBe(403);
    expect(statusOf('NOT_CANONICALIZABLE')).toBe(400);
    expect(statusOf('CORRUPT')).toBe(500);
    expect(statusOf('SOMETHING_NEW')).toBe(500);
  });
});
