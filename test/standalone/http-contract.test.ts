// The standalone service's HTTP contract, through a real listening server (startService on
// port 0, SQLite in a temp directory) and plain fetch: every status a client can meet, the
// error body, who may write what, key rotation by ledger position, and every read route,
// verified as an outside party would (receipts, checkpoints and proofs against the pinned
// log key). Where the service does not do what the contract says, the test says the contract.
// Read access control is on (the default): reads carry the oversight body's bearer token.
import { request as httpRequest } from 'node:http';
import { issueToken } from '@civic-ledger/access';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatVerifierKey,
  fromBase64,
  fromHex,
  generateSigningKey,
  parseVerifierKey,
  toHex,
} from '@civic-ledger/crypto';
import { addKey, bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { hashLeaf, verifyConsistency, verifyInclusion } from '@civic-ledger/merkle';
import { verifyReceipt, type SignedReceipt } from '@civic-ledger/receipts';
import { openCheckpoint, verifierFromKeyText } from '@civic-ledger/signed-note';
import { loadConfig, startService, statusOf, type RunningService } from '@civic-ledger/standalone-service';
import { arraySource, verifyLog } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  datasetId,
  envelopeOf,
  http,
  registerDataset,
  registerSource,
  signUnchecked,
  sleep,
  sourceId,
  transfer,
  type Body,
  type HttpResult,
} from './support.ts';

const ORIGIN = 'ledger.e2e.example/log';
const README = fileURLToPath(new URL('../../services/standalone/README.md', import.meta.url));
const CHECKPOINT_DELAY_MS = 50;

const dirs: string[] = [];
const services: RunningService[] = [];
afterAll(async () => {
  for (const s of services) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(operator: TestEmitter, env: Record<string, string> = {}): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'cl-e2e-http-'));
  dirs.push(dir);
  const service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: String(CHECKPOINT_DELAY_MS),
      ...env,
    }),
    { logger: false },
  );
  services.push(service);
  return service;
}

/** The error contract: `{ code, message, details }` as JSON, with the status of its code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expectError(res: HttpResult, status: number, code: string): any {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.json as object).sort()).toEqual(['code', 'details', 'message']);
  expect(res.json.code).toBe(code);
  expect(typeof res.json.message).toBe('string');
  expect(res.json.message.length).toBeGreaterThan(0);
  expect(typeof res.json.details).toBe('object');
  expect(statusOf(code)).toBe(status);
  return res.json;
}

// The city: the operator, two agencies, an oversight body, the compliance service, and two
// organizations whose keys change in the key tests.
const operator = new TestEmitter('ledger');
const agencyKey = generateSigningKey('transport-agency/k1');
const agency = new TestEmitter('transport-agency', { key: agencyKey });
const police = new TestEmitter('police');
const board = new TestEmitter('privacy-board');
const compliance = new TestEmitter('compliance-office');
const parking = new TestEmitter('parking-agency');
const water = new TestEmitter('water-board');
const ROLES = { 'privacy-board': 'oversight', 'compliance-office': 'compliance' };

let service: RunningService;
let base: string;
/** The oversight body's read token (events and entries need one; the public routes do not). */
let authorization: Record<string, string> = {};
/** The log's public key, as published at start: everything read is checked against it. */
let pinned: string;

/** Another chain of an organization, signed with the same key (a stream per test keeps tests apart). */
function chainOf(org: TestEmitter, stream: string): TestEmitter {
  return new TestEmitter(org.org, { key: org.key, stream });
}

/** Builds an event with a helper that advances the chain, as if it had not (it will be refused). */
function unadvanced<T>(chain: TestEmitter, build: () => T): T {
  const { seq, prev } = chain;
  const built = build();
  chain.seq = seq;
  chain.prev = prev;
  return built;
}

const post = (body: unknown, path = '/v1/events') => http(base, 'POST', path, body);
const get = (path: string) => http(base, 'GET', path, undefined, authorization);
/** A bearer token of `org` for `svc`, signed with the issuer key it created in its data dir. */
async function tokenHeader(svc: RunningService, org: string, scope: 'auditor' | 'oversight') {
  const token = await issueToken(svc.access!.issuerKey, { origin: ORIGIN, org, scope });
  return { authorization: `Bearer ${token}` };
}
async function treeSize(): Promise<number> {
  return (await get('/readyz')).json.size as number;
}
/** Posts an event that must be refused, and checks nothing was appended. */
async function refused(body: unknown, path = '/v1/events'): Promise<HttpResult> {
  const before = await treeSize();
  const res = await post(body, path);
  expect(await treeSize()).toBe(before);
  return res;
}
/** Posts an event that must be appended; its receipt must verify with the pinned log key. */
async function accept(body: unknown): Promise<SignedReceipt> {
  const res = await post(body);
  expect(res.status, res.text).toBe(201);
  const receipt = res.json.receipt as SignedReceipt;
  expect(verifyReceipt(parseVerifierKey(pinned), receipt)).toBe(true);
  return receipt;
}

beforeAll(async () => {
  service = await start(operator);
  base = service.url;
  pinned = formatVerifierKey(service.logKey);
  const boot = [
    ...bootstrapEvents(operator, [agency, police, board, compliance, parking, water], ROLES),
    // The source and dataset each organization that moves data names (collect, transfer).
    ...[agency, police, parking, water].flatMap((o) => [
      o.next(registerSource(o.org)),
      o.next(registerDataset(o.org)),
    ]),
  ];
  const res = await post({ events: boot }, '/v1/events/batch');
  expect(res.status, res.text).toBe(200);
  expect(
    (res.json.results as { ok: boolean }[]).every((r) => r.ok),
    res.text,
  ).toBe(true);
  authorization = await tokenHeader(service, 'privacy-board', 'oversight');
});

describe('POST /v1/events: 201 and 200', () => {
  it('answers a new event 201 with a receipt signed by the log key, a resend 200 with the byte-identical receipt', async () => {
    const c = chainOf(agency, 'dup');
    const e = c.next(collect(c.org, 1));
    const first = await post(e);
    expect(first.status).toBe(201);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.json.duplicate).toBe(false);
    const receipt = first.json.receipt as SignedReceipt;
    expect(receipt).toMatchObject({
      eventHash: e.hash,
      logOrigin: ORIGIN,
      checkpointWithinMs: CHECKPOINT_DELAY_MS,
    });
    expect(verifyReceipt(parseVerifierKey(pinned), receipt)).toBe(true);
    expect(verifyReceipt(parseVerifierKey(pinned), { ...receipt, index: receipt.index + 1 })).toBe(false);
    const size = await treeSize();

    const again = await post(e);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text.replace('"duplicate":false', '"duplicate":true'));
    // The same event sent with other member order and white space is the same event.
    const reordered = `{ "signature": "${e.signature}",\n  "event": ${JSON.stringify(
      Object.fromEntries(Object.entries(e.event).reverse()),
      null,
      2,
    )} }`;
    const third = await post(reordered);
    expect(third.status).toBe(200);
    expect(third.json.receipt).toEqual(receipt);
    const inBatch = await post({ events: [e] }, '/v1/events/batch');
    expect(inBatch.json.results).toEqual([{ ok: true, receipt, duplicate: true }]);
    expect(await treeSize()).toBe(size);
  });
});

describe('400: the request is wrong', () => {
  it('names the field path, the rule and a stable code for schema errors', async () => {
    const c = chainOf(agency, 'schema');
    const e = c.peek(collect(c.org, 1));

    const noSignature = expectError(await refused({ event: e.event }), 400, 'SCHEMA_INVALID');
    expect(noSignature.details.issues).toEqual([
      { path: '/signature', rule: expect.any(String), code: 'invalid_type' },
    ]);

    const negative = expectError(
      await refused({ event: { ...e.event, records: -1 }, signature: e.signature }),
      400,
      'SCHEMA_INVALID',
    );
    const issue = (negative.details.issues as { path: string; rule: string; code: string }[]).find(
      (i) => i.path === '/event/records',
    );
    expect(issue).toMatchObject({ code: 'too_small' });
    expect(issue!.rule.length).toBeGreaterThan(0);
    expect(negative.message).toContain('records');

    const unknownMember = expectError(
      await refused({ event: { ...e.event, colour: 'red' }, signature: e.signature }),
      400,
      'SCHEMA_INVALID',
    );
    expect(JSON.stringify(unknownMember.details.issues)).toContain('colour');

    // Stable: the same mistake gets the same answer.
    const again = expectError(await refused({ event: e.event }), 400, 'SCHEMA_INVALID');
    expect(again).toEqual(noSignature);

    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const late = chainOf(agency, 'schema');
    late.time = future;
    const tooEarly = expectError(await refused(late.peek(collect(c.org, 1))), 400, 'TIME_IN_FUTURE');
    expect(tooEarly.details.issues[0].path).toBe('/event/time');

    const query = expectError(await get('/v1/entries?limit=0'), 400, 'SCHEMA_INVALID');
    expect(query.details).toMatchObject({ in: 'querystring', issues: [{ path: '/limit' }] });
    expectError(await get('/v1/events/NOT-A-HASH'), 400, 'SCHEMA_INVALID');
  });

  it('refuses bodies that are not strict JSON (400) or not JSON at all (415)', async () => {
    const e = chainOf(agency, 'json').peek(collect('transport-agency', 1));
    expectError(await refused('{"event":'), 400, 'INVALID_JSON');
    const duplicated = `{"signature":"${e.signature}",${JSON.stringify(e).slice(1)}`;
    const dup = expectError(await refused(duplicated), 400, 'INVALID_JSON');
    expect(dup.details.issues[0].code).toBe('JCS_DUPLICATE_KEY');
    expectError(await refused(''), 400, 'INVALID_JSON');
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(e),
    });
    const text = await res.text();
    expectError(
      { status: res.status, headers: res.headers, text, json: JSON.parse(text) },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });
});

describe('401 and 403: who may sign and emit what', () => {
  it('refuses an unknown key and a bad signature with 401', async () => {
    const c = chainOf(agency, 'auth');
    const stranger = generateSigningKey('transport-agency/k9');
    const unknown = expectError(
      await refused(c.peek(collect(c.org, 1), { key: stranger.name }, stranger)),
      401,
      'UNKNOWN_KEY',
    );
    expect(unknown.details.key).toBe(stranger.name);
    const forged = { ...c.peek(collect(c.org, 1)), signature: c.peek(collect(c.org, 2)).signature };
    expectError(await refused(forged), 401, 'BAD_SIGNATURE');
    // A signature over another event, or made with another organization's key, does not pass either.
    const otherKey = signUnchecked({ ...envelopeOf(c), ...collect(c.org, 1) }, police.key);
    expectError(await refused(otherKey.wire), 401, 'BAD_SIGNATURE');
  });

  it('takes attest only from oversight bodies and finding only from the compliance service (403 otherwise)', async () => {
    const c = chainOf(agency, 'roles');
    const subject = await accept(c.next(collect(c.org, 1)));
    const attest: Body = { type: 'attest', about: { event: subject.eventHash }, statement: 'verified' };
    const finding: Body = {
      type: 'finding',
      about: subject.eventHash,
      check: 'purpose-declared',
      outcome: 'compliant',
      path: [subject.eventHash],
      explanation: 'the claimed purpose is declared',
    };

    const byAgency = expectError(await refused(c.peek(attest)), 403, 'NOT_PERMITTED');
    expect(byAgency.details.type).toBe('attest');
    expectError(await refused(chainOf(compliance, 'attest').peek(attest)), 403, 'NOT_PERMITTED');
    await accept(board.next(attest));

    expectError(await refused(c.peek(finding)), 403, 'NOT_PERMITTED');
    expectError(await refused(chainOf(board, 'finding').peek(finding)), 403, 'NOT_PERMITTED');
    await accept(compliance.next(finding));
  });

  it('lets an organization write only its own chains: another chain needs that organization’s key (401)', async () => {
    const theirs = chainOf(police, 'own');
    // The police chain, signed with the agency's real key under the police key's name.
    const forged = signUnchecked({ ...envelopeOf(theirs), ...collect(theirs.org, 1) }, agencyKey);
    expectError(await refused(forged.wire), 401, 'BAD_SIGNATURE');
    expectError(await get(`/v1/chains/police/own/head`), 404, 'NOT_FOUND');
    await accept(theirs.next(collect(theirs.org, 1)));
  });

  it('refuses an event on another organization’s chain signed with the sender’s own registered key (401/403)', async () => {
    const theirs = chainOf(police, 'foreign-key');
    const e = signUnchecked(
      { ...envelopeOf(theirs), ...collect(theirs.org, 1), key: agencyKey.name },
      agencyKey,
    );
    const res = await refused(e.wire);
    expect(res.json.code, res.text).toMatch(/^(UNKNOWN_KEY|NOT_PERMITTED)$/);
    expect([401, 403]).toContain(res.status);
  });

  it('lets an organization manage only its own keys', async () => {
    const intruder = generateSigningKey('police/k-intruder');
    const c = chainOf(agency, 'keys');
    const add = signUnchecked(
      {
        ...envelopeOf(c),
        type: 'key',
        action: 'add',
        subjectOrg: 'police',
        subjectKey: intruder.name,
        publicKey: formatVerifierKey(intruder),
      },
      agencyKey,
    );
    const body = expectError(await refused(add.wire), 403, 'NOT_PERMITTED');
    expect(body.details.issues).toContainEqual(expect.objectContaining({ path: '/subjectOrg' }));
    // So the key it tried to add signs nothing for the police.
    const p = chainOf(police, 'keys');
    expectError(
      await refused(p.peek(collect('police', 1), { key: intruder.name }, intruder)),
      401,
      'UNKNOWN_KEY',
    );
  });

  it('refuses an organization registered by anyone but the operator with 403 NOT_PERMITTED', async () => {
    const c = chainOf(agency, 'register');
    const rogue = signUnchecked(
      {
        ...envelopeOf(c),
        type: 'register',
        subject: {
          kind: 'organization',
          id: 'rogue-agency',
          name: 'Rogue',
          role: 'oversight',
          jurisdiction: 'NL',
        },
      },
      agencyKey,
    );
    const res = await refused(rogue.wire);
    // Not registered: the operator cannot give it a key.
    const ghost = new TestEmitter('rogue-agency');
    const ghostKey = addKey(chainOf(operator, 'ghost'), 'rogue-agency', ghost.verifierKey, ghost.key.name);
    expectError(await refused(ghostKey), 422, 'UNKNOWN_SUBJECT');
    expectError(res, 403, 'NOT_PERMITTED');
  });

  it('registers an organization for the operator (201), and refuses it twice (409 ALREADY_REGISTERED)', async () => {
    const op = chainOf(operator, 'orgs');
    await accept(registerOrg(op, 'library', 'agency'));
    const again = op.peek({
      type: 'register',
      subject: { kind: 'organization', id: 'library', name: 'Again', role: 'agency', jurisdiction: 'NL' },
    } as Body);
    expectError(await refused(again), 409, 'ALREADY_REGISTERED');
  });
});

describe('key rotation: every key change counts from its ledger position', () => {
  it('accepts the new key once added; refuses the old one after its revocation (401 KEY_REVOKED), never before', async () => {
    const k1 = parking.key;
    const k2 = generateSigningKey('parking-agency/k2');
    const before = await accept(parking.next(collect(parking.org, 1)));
    // Not yet added: k2 is unknown.
    expectError(
      await refused(parking.peek(collect(parking.org, 2), { key: k2.name }, k2)),
      401,
      'UNKNOWN_KEY',
    );
    await accept(addKey(parking, parking.org, formatVerifierKey(k2), k2.name));
    parking.key = k2;
    await accept(parking.next(collect(parking.org, 2)));
    const revoke = await accept(
      parking.next({ type: 'key', action: 'revoke', subjectOrg: parking.org, subjectKey: k1.name } as Body),
    );
    parking.key = k1;
    const old = expectError(await refused(parking.peek(collect(parking.org, 3))), 401, 'KEY_REVOKED');
    expect(old.details).toMatchObject({ key: k1.name, revokedAt: revoke.index });
    parking.key = k2;
    await accept(parking.next(collect(parking.org, 3)));
    // What k1 signed before its revocation stays in the log.
    expect((await get(`/v1/events/${before.eventHash}`)).json).toMatchObject({ index: before.index });
  });

  it('in one batch: an event before the revocation is accepted, the same key right after it is refused', async () => {
    const k1 = water.key;
    const k2 = generateSigningKey('water-board/k2');
    await accept(addKey(water, water.org, formatVerifierKey(k2), k2.name));
    const early = water.next(collect(water.org, 1));
    water.key = k2;
    const revoke = water.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: water.org,
      subjectKey: k1.name,
    } as Body);
    water.key = k1;
    const late = water.peek(collect(water.org, 2));
    const res = await post({ events: [early, revoke, late] }, '/v1/events/batch');
    expect(res.status).toBe(200);
    const [a, b, c] = res.json.results;
    expect(a).toMatchObject({ ok: true, duplicate: false });
    expect(b).toMatchObject({ ok: true, duplicate: false });
    expect(c).toMatchObject({
      ok: false,
      error: { code: 'KEY_REVOKED', details: { revokedAt: b.receipt.index } },
    });
    expect(Object.keys(c.error).sort()).toEqual(['code', 'details', 'message']);
    water.key = k2;
    await accept(water.next(collect(water.org, 2)));
  });
});

describe('409, 413, 422', () => {
  it('refuses chain conflicts with 409 naming the expected seq or prev, or the event already there', async () => {
    const c = chainOf(agency, 'conflicts');
    const first = await accept(c.next(collect(c.org, 1)));
    const gap = expectError(await refused(c.peek(collect(c.org, 2), { seq: 5 })), 409, 'CHAIN_GAP');
    expect(gap.details).toMatchObject({ expectedSeq: 2, seq: 5 });
    const badPrev = expectError(
      await refused(c.peek(collect(c.org, 2), { prev: 'f'.repeat(64) })),
      409,
      'CHAIN_BAD_PREV',
    );
    expect(badPrev.details).toMatchObject({ expectedPrev: first.eventHash, prev: 'f'.repeat(64) });
    const fork = expectError(
      await refused(c.peek(collect(c.org, 7), { seq: 1, prev: '0'.repeat(64) })),
      409,
      'CHAIN_FORK',
    );
    expect(fork.details).toMatchObject({ seq: 1, existingHash: first.eventHash });
    // What a client needs to continue: the head names the seq and the prev to use.
    expect((await get('/v1/chains/transport-agency/conflicts/head')).json).toMatchObject({
      seq: 1,
      eventHash: first.eventHash,
      index: first.index,
    });
    await accept(c.next(collect(c.org, 2)));
  });

  it('refuses what is too large with 413: the body, the event, its ext, and a batch body over 8 MiB', async () => {
    const c = chainOf(agency, 'large');
    const e = c.peek(collect(c.org, 1));
    expectError(
      await refused({ event: { ...e.event, note: 'x'.repeat(100 * 1024) }, signature: e.signature }),
      413,
      'BODY_TOO_LARGE',
    );
    expectError(
      await refused({ event: { ...e.event, note: 'x'.repeat(70_000) }, signature: e.signature }),
      413,
      'EVENT_TOO_LARGE',
    );
    const ext = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`acme:f${i}`, 'y'.repeat(250)]));
    expectError(await refused({ event: { ...e.event, ext }, signature: e.signature }), 413, 'EXT_TOO_LARGE');
    const huge = { events: [{ event: { note: 'z'.repeat(9 * 1024 * 1024) }, signature: e.signature }] };
    expectError(await refused(huge, '/v1/events/batch'), 413, 'BODY_TOO_LARGE');
    await accept(c.next(collect(c.org, 1)));
  });

  it('refuses an input hash that is not in the log and a key for an unknown organization or key (422)', async () => {
    const c = chainOf(agency, 'lineage');
    const missing = '9'.repeat(64);
    const input = expectError(
      await refused(c.peek(transfer(c.org, missing, 'police'))),
      422,
      'UNKNOWN_INPUT',
    );
    expect(input.details).toEqual({ input: missing });
    const source = await accept(c.next(collect(c.org, 1)));
    await accept(c.next(transfer(c.org, source.eventHash, 'police')));

    const nobody = new TestEmitter('nobody-agency');
    const op = chainOf(operator, 'subjects');
    const keyForNobody = unadvanced(op, () =>
      addKey(op, 'nobody-agency', nobody.verifierKey, nobody.key.name),
    );
    expectError(await refused(keyForNobody), 422, 'UNKNOWN_SUBJECT');
    const revokeUnknown = op.peek({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'police',
      subjectKey: 'police/never-added',
    } as Body);
    expectError(await refused(revokeUnknown), 422, 'UNKNOWN_SUBJECT');
  });

  it('refuses a movement of a dataset nobody registered (422)', async () => {
    const c = chainOf(agency, 'unregistered');
    const before = await treeSize();
    const res = await post(c.peek(collect(c.org, 1, `${c.org}/never-registered`)));
    expect(res.status, `a collect of an unregistered dataset was answered ${res.status} ${res.text}`).toBe(
      422,
    );
    expectError(res, 422, 'UNKNOWN_SUBJECT');
    expect(await treeSize()).toBe(before);
  });

  it('refuses a collect from an unregistered source, and a dataset registered from one (422)', async () => {
    const c = chainOf(agency, 'unregistered-source');
    const ghost = `${c.org}/cameras/never-registered`;
    const fromGhost = expectError(
      await refused(c.peek({ ...collect(c.org, 1), source: ghost })),
      422,
      'UNKNOWN_SUBJECT',
    );
    expect(fromGhost.details).toEqual({ path: '/source', kind: 'source', id: ghost });
    const derived = registerDataset(c.org, `${c.org}/from-a-ghost`);
    derived.subject.sources = [ghost];
    const registration = expectError(await refused(c.peek(derived)), 422, 'UNKNOWN_SUBJECT');
    expect(registration.details).toEqual({ path: '/subject/sources/0', kind: 'source', id: ghost });
    // Once registered, the same source is accepted.
    const source = registerSource(c.org);
    source.subject.id = ghost;
    await accept(c.next(source));
    await accept(c.next({ ...collect(c.org, 1), source: ghost }));
  });
});

describe('401 and 403: read access (on by default)', () => {
  it('refuses events and entries without a token in the error shape; the public routes need none', async () => {
    const bare = (path: string) => http(base, 'GET', path);
    const body = expectError(await bare('/v1/entries?from=0&limit=1'), 401, 'TOKEN_REQUIRED');
    expect(body.details).toEqual({ scope: 'auditor' });
    expectError(await bare(`/v1/events/${'0'.repeat(64)}`), 401, 'TOKEN_REQUIRED');
    const asPolice = await tokenHeader(service, 'police', 'auditor');
    expect((await http(base, 'GET', '/v1/entries?from=0&limit=1', undefined, asPolice)).status).toBe(200);
    expectError(await http(base, 'GET', '/v1/access-log', undefined, asPolice), 403, 'SCOPE_INSUFFICIENT');
    for (const path of ['/v1/checkpoint', '/v1/checkpoints', '/v1/proofs/consistency?from=1'])
      expect((await bare(path)).status, path).toBe(200);
  });
});

describe('404', () => {
  it('answers what does not exist with 404 NOT_FOUND in the error shape', async () => {
    expectError(await get('/v1/nothing-here'), 404, 'NOT_FOUND');
    expectError(await post({}, '/v1/nothing-here'), 404, 'NOT_FOUND');
    expectError(await get(`/v1/events/${'0'.repeat(64)}`), 404, 'NOT_FOUND');
    expectError(await get('/v1/entries/1000000'), 404, 'NOT_FOUND');
    expectError(await get('/v1/checkpoints/999999'), 404, 'NOT_FOUND');
    expectError(await get('/v1/chains/nobody/main/head'), 404, 'NOT_FOUND');
    expectError(await get(`/v1/proofs/inclusion?hash=${'0'.repeat(64)}`), 404, 'NOT_FOUND');
  });
});

describe('reads, verified with the pinned log key', () => {
  it('serves entries by index, by event hash and in pages; leaves hash to the receipts', async () => {
    const c = chainOf(agency, 'reads');
    const events = Array.from({ length: 12 }, (_, i) => c.next(collect(c.org, i)));
    const res = await post({ events }, '/v1/events/batch');
    const receipts = (res.json.results as { receipt: SignedReceipt }[]).map((r) => r.receipt);
    for (const [i, r] of receipts.entries()) {
      const entry = (await get(`/v1/entries/${r.index}`)).json;
      expect(entry).toMatchObject({ index: r.index, eventHash: events[i]!.hash, leafHash: r.leafHash });
      expect(toHex(hashLeaf(new TextEncoder().encode(entry.leaf)))).toBe(r.leafHash);
      expect(JSON.parse(entry.leaf)).toMatchObject({
        index: r.index,
        event: events[i]!.event,
        admitted: r.admitted,
      });
      expect((await get(`/v1/events/${r.eventHash}`)).json).toEqual(entry);
    }
    const size = await treeSize();
    const seen: number[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: HttpResult = await get(`/v1/entries?from=${from}&limit=7`);
      expect(page.json).toMatchObject({ from, size });
      seen.push(...(page.json.entries as { index: number }[]).map((e) => e.index));
      from = page.json.next as number | null;
    }
    expect(seen).toEqual(Array.from({ length: size }, (_, i) => i));
    expect((await get(`/v1/entries?from=${size}`)).json).toEqual({
      from: size,
      size,
      entries: [],
      next: null,
    });
    expect((await get('/v1/entries')).json.entries).toHaveLength(Math.min(100, size));
    expectError(await get('/v1/entries?limit=1001'), 400, 'SCHEMA_INVALID');
  });

  it('serves signed checkpoints (text, JSON, by size) and inclusion and consistency proofs that verify', async () => {
    const verifier = verifierFromKeyText(pinned);
    const old = await waitForCheckpoint(await treeSize());
    const c = chainOf(agency, 'proofs');
    const events = Array.from({ length: 9 }, (_, i) => c.next(collect(c.org, i)));
    const receipts = (
      (await post({ events }, '/v1/events/batch')).json.results as { receipt: SignedReceipt }[]
    ).map((r) => r.receipt);
    const latest = await waitForCheckpoint(await treeSize());

    const text = await get('/v1/checkpoint');
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    const cp = openCheckpoint(text.text, { verifiers: [verifier], origin: ORIGIN });
    expect(cp.size).toBe(latest.size);
    expect(() =>
      openCheckpoint(text.text, {
        verifiers: [verifierFromKeyText(formatVerifierKey(generateSigningKey(ORIGIN)))],
        origin: ORIGIN,
      }),
    ).toThrow();
    const json = (await get('/v1/checkpoint.json')).json;
    expect(json).toEqual({ origin: ORIGIN, size: cp.size, rootHash: expect.any(String), note: text.text });
    expect(fromBase64(json.rootHash)).toEqual(cp.rootHash);

    const oldText = await get(`/v1/checkpoints/${old.size}`);
    expect(oldText.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(oldText.text).toBe(old.note);
    const oldCp = openCheckpoint(oldText.text, { verifiers: [verifier], origin: ORIGIN });

    for (const r of receipts) {
      const byHash = (await get(`/v1/proofs/inclusion?hash=${r.eventHash}&size=${cp.size}`)).json;
      expect(byHash).toMatchObject({ index: r.index, size: cp.size, leafHash: r.leafHash });
      verifyInclusion(fromHex(r.leafHash), r.index, cp.size, byHash.hashes.map(fromBase64), cp.rootHash);
      expect(() =>
        verifyInclusion(fromHex(r.eventHash), r.index, cp.size, byHash.hashes.map(fromBase64), cp.rootHash),
      ).toThrow();
    }
    const r0 = receipts[0]!;
    const byIndex = (await get(`/v1/proofs/inclusion?index=${r0.index}`)).json;
    expect(byIndex.size).toBeGreaterThanOrEqual(cp.size);
    const early = (await get(`/v1/proofs/inclusion?index=1&size=${oldCp.size}`)).json;
    verifyInclusion(fromHex(early.leafHash), 1, oldCp.size, early.hashes.map(fromBase64), oldCp.rootHash);
    expectError(await get(`/v1/proofs/inclusion?index=${r0.index}&size=${oldCp.size}`), 400, 'BAD_REQUEST');
    expectError(await get(`/v1/proofs/inclusion?size=${cp.size}`), 400, 'BAD_REQUEST');

    const cons = (await get(`/v1/proofs/consistency?from=${oldCp.size}&to=${cp.size}`)).json;
    expect(cons).toMatchObject({ from: oldCp.size, to: cp.size });
    verifyConsistency(oldCp.size, cp.size, cons.hashes.map(fromBase64), oldCp.rootHash, cp.rootHash);
    expectError(await get('/v1/proofs/consistency?from=0'), 400, 'BAD_REQUEST');
    expectError(await get(`/v1/proofs/consistency?from=${cp.size}&to=${oldCp.size}`), 400, 'BAD_REQUEST');

    const head = (await get('/v1/chains/transport-agency/proofs/head')).json;
    expect(head).toEqual({
      emitter: 'transport-agency',
      stream: 'proofs',
      seq: 9,
      eventHash: events[8]!.hash,
      index: receipts[8]!.index,
    });
  });

  it('answers /healthz, /readyz and /metrics', async () => {
    const c = chainOf(agency, 'metrics');
    const e = c.next(collect(c.org, 1));
    await accept(e);
    expect((await post(e)).status).toBe(200);
    await refused(c.peek(collect(c.org, 2), { seq: 3 }));
    await refused({ event: {} });

    expect((await get('/healthz')).json).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    const size = ready.json.size as number;
    expect(ready.json).toEqual({ status: 'ready', size });
    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // Every entry of this log was accepted by this process.
    expect(metrics.text).toContain(`civic_ledger_events_accepted_total ${size}\n`);
    expect(metrics.text).toContain(`civic_ledger_tree_size ${size}\n`);
    expect(metrics.text).toContain('civic_ledger_writable 1\n');
    expect(metrics.text).toMatch(/civic_ledger_events_duplicate_total [1-9]/);
    expect(metrics.text).toMatch(/civic_ledger_events_refused_total\{code="CHAIN_GAP"\} [1-9]/);
    expect(metrics.text).toMatch(/civic_ledger_events_refused_total\{code="SCHEMA_INVALID"\} [1-9]/);
    expect(metrics.text).toMatch(
      /civic_ledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/events",status="201"\} [1-9]/,
    );
  });

  it('publishes an OpenAPI document listing every /v1 route of the README, each with its error responses', async () => {
    // The routes the README's endpoint table documents, in OpenAPI path syntax.
    const readme = readFileSync(README, 'utf8');
    const documented = [...readme.matchAll(/^\| `(GET|POST) (\/v1\/[^`?]*)/gm)].map(
      ([, method, path]) => `${method} ${path!.replace(/:(\w+)/g, '{$1}')}`,
    );
    expect(documented).toContain('POST /v1/events');
    const doc = (await get('/docs/json')).json;
    expect(doc.openapi).toMatch(/^3\./);
    const ops = new Map(
      Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>).flatMap(
        ([path, byMethod]) =>
          Object.entries(byMethod).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as const),
      ),
    );
    const v1 = [...ops.keys()].filter((o) => o.includes(' /v1/'));
    expect(v1.sort()).toEqual([...new Set(documented)].sort());
    for (const op of v1) expect(Object.keys(ops.get(op)!.responses), op).toContain('4XX');
    const page = await get('/docs');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('/v1/chains/{emitter}/{stream}/head');
  });

  it('lets a verifier check the whole log from the HTTP API alone', async () => {
    const latest = await waitForCheckpoint(await treeSize());
    const leaves: string[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: HttpResult = await get(`/v1/entries?from=${from}&limit=1000`);
      leaves.push(...(page.json.entries as { leaf: string }[]).map((e) => e.leaf));
      from = page.json.next as number | null;
    }
    const verdict = await verifyLog(arraySource(leaves, [latest.note]), { logKey: pinned, origin: ORIGIN });
    expect(verdict).toMatchObject({ ok: true, size: leaves.length, checkpoint: { size: latest.size } });
    const tampered = [...leaves];
    const i = tampered.findIndex((l) => l.includes('"records":'));
    tampered[i] = tampered[i]!.replace('"records":', '"records":1');
    expect(
      await verifyLog(arraySource(tampered, [latest.note]), { logKey: pinned, origin: ORIGIN }),
    ).toMatchObject({
      ok: false,
    });
  });
});

/** Waits for the signed checkpoint covering the first `size` entries (within the policy's delay). */
async function waitForCheckpoint(size: number): Promise<{ size: number; note: string }> {
  const deadline = Date.now() + 20 * CHECKPOINT_DELAY_MS + 2000;
  for (;;) {
    const json = (await get('/v1/checkpoint.json')).json as { size: number; note: string };
    if (json.size >= size) return json;
    if (Date.now() > deadline) throw new Error(`no checkpoint of size ${size} within the policy's delay`);
    await sleep(CHECKPOINT_DELAY_MS / 2);
  }
}

describe('429: rate limits', () => {
  it('limits requests per client address on /v1 with Retry-After; operations and other addresses are not limited', async () => {
    const op = new TestEmitter('ledger');
    const limited = await start(op, { CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '3' });
    // A public read: the log is empty, no organization a token could name is registered yet.
    for (let i = 0; i < 3; i++) expect((await http(limited.url, 'GET', '/v1/checkpoints')).status).toBe(200);
    const res = await http(limited.url, 'GET', '/v1/checkpoints');
    const body = expectError(res, 429, 'RATE_LIMITED');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(body.details).toMatchObject({ limit: 3, windowMs: 60_000, retryAfterSeconds: retryAfter });
    // Submissions are /v1 requests too.
    expectError(await http(limited.url, 'POST', '/v1/events', {}), 429, 'RATE_LIMITED');
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect((await http(limited.url, 'GET', path)).status).toBe(200);
    // Another client address (127.0.0.2 is this machine too) has its own budget.
    expect(await getFrom(limited.url, '/v1/checkpoints', '127.0.0.2')).toBe(200);
  });

  it('limits events per emitter key, counting each event of a batch, with Retry-After', async () => {
    const op = new TestEmitter('ledger');
    const a = new TestEmitter('transport-agency');
    const p = new TestEmitter('police');
    const limited = await start(op, { CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '6' });
    // 5 operator events, and 2 of each agency's key: its source and its dataset.
    const resources = [a, p].flatMap((o) => [
      { kind: 'source' as const, id: sourceId(o.org) },
      { kind: 'dataset' as const, id: datasetId(o.org) },
    ]);
    const boot = await http(limited.url, 'POST', '/v1/events/batch', {
      events: bootstrapEvents(op, [a, p], {}, resources),
    });
    expect((boot.json.results as { ok: boolean }[]).every((r) => r.ok)).toBe(true);
    // The agency's key: 2 + 3 in a batch + 1 = 6 of its 6; a batch of 2 more is over the limit.
    const three = Array.from({ length: 3 }, (_, i) => a.next(collect(a.org, i)));
    expect((await http(limited.url, 'POST', '/v1/events/batch', { events: three })).status).toBe(200);
    expect((await http(limited.url, 'POST', '/v1/events', a.next(collect(a.org, 5)))).status).toBe(201);
    const two = [a.next(collect(a.org, 6)), a.next(collect(a.org, 7))];
    const res = await http(limited.url, 'POST', '/v1/events/batch', { events: two });
    const body = expectError(res, 429, 'RATE_LIMITED');
    expect(body.details).toMatchObject({ key: a.key.name, limit: 6 });
    expect(Number(res.headers.get('retry-after'))).toBe(body.details.retryAfterSeconds);
    // Nothing of the refused batch was appended; other keys are not limited.
    const asAgency = await tokenHeader(limited, a.org, 'auditor');
    expect((await http(limited.url, 'GET', `/v1/events/${two[0]!.hash}`, undefined, asAgency)).status).toBe(
      404,
    );
    expect((await http(limited.url, 'POST', '/v1/events', p.next(collect(p.org, 1)))).status).toBe(201);
    // The operator used 5 of its 6: one more event passes, the next does not.
    expect((await http(limited.url, 'POST', '/v1/events', registerOrg(op, 'library', 'agency'))).status).toBe(
      201,
    );
    expectError(
      await http(limited.url, 'POST', '/v1/events', registerOrg(op, 'museum', 'agency')),
      429,
      'RATE_LIMITED',
    );
  });
});

/** A GET from a chosen local address (fetch cannot pick one). */
function getFrom(base: string, path: string, localAddress: string): Promise<number> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, localAddress },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('503 while closing', () => {
  it('refuses everything but /healthz, /readyz and /metrics with 503 CLOSING and Retry-After, then stops', async () => {
    const op = new TestEmitter('ledger');
    const closing = await start(op);
    const genesis = bootstrapEvents(op, [])[0]!;
    expect((await http(closing.url, 'GET', '/readyz')).status).toBe(200);
    closing.beginClose();
    const res = await http(closing.url, 'POST', '/v1/events', genesis);
    expectError(res, 503, 'CLOSING');
    expect(res.headers.get('retry-after')).toBe('1');
    expectError(await http(closing.url, 'GET', '/v1/checkpoint'), 503, 'CLOSING');
    const ready = await http(closing.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ status: 'closing' });
    expect((await http(closing.url, 'GET', '/healthz')).status).toBe(200);
    expect((await http(closing.url, 'GET', '/metrics')).text).toContain('civic_ledger_writable 0\n');
    await closing.close();
    await expect(fetch(`${closing.url}/healthz`)).rejects.toThrow();
  });
});
