// The lineage routes on the real HTTP app (buildApp of ledger-http, through inject) over a
// Ledger on SQLite holding a small signed demo city, wired as the standalone service does.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyBundle } from '@civic-ledger/bundle';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import type { Ledger } from '@civic-ledger/ledger-core';
import { registerDataset, registerSource, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { openCheckpoint, verifierFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineageFollower, registerLineageRoutes } from './index.ts';
import { openCityLedger } from './test-ledger.ts';

const city = generateDemoCity({
  seed: 'lineage-http',
  size: 300,
  batchSize: 100,
  now: Date.parse('2026-11-15T00:00:00Z'),
});
const LOG_KEY = formatVerifierKey(city.logKey);
let root: string;
let store: SqliteStore;
let ledger: Ledger;
let follower: LineageFollower | undefined;
let built: StandaloneApp;
/** The last derive of the city, and its dataset. */
let derive: { hash: string; dataset: string; index: number };
let size: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lineage-http-'));
  store = new SqliteStore({ path: join(root, 'ledger.db') });
  ledger = await openCityLedger(city, store, { maxEntries: 100, onAppended: () => follower?.notify() });
  for await (const batch of city.batches()) {
    const r = await ledger.submit(batch);
    expect(r.every((x) => x.ok)).toBe(true);
  }
  size = (await ledger.checkpointNow()).size;
  follower = await LineageFollower.open(store);
  built = await buildApp(
    { origin: city.origin, checkpointWithinMs: 60_000, logger: false, clientRateLimit: null },
    {
      ledger,
      store,
      logKey: city.logKey,
      registerExtra: (r) =>
        registerLineageRoutes(r, {
          follower: follower!,
          store,
          logSize: () => ledger.size,
          bundle: { logKey: LOG_KEY, origin: city.origin },
        }),
    },
  );
  const leaves = await store.getLeaves(0, size);
  for (const l of leaves.reverse()) {
    const { event } = JSON.parse(Buffer.from(l.leaf).toString('utf8')) as {
      event: { type: string; dataset?: { id: string }; inputs?: string[] };
    };
    if (event.type === 'derive' && (event.inputs?.length ?? 0) > 0) {
      derive = { hash: l.eventHash, dataset: event.dataset!.id, index: l.index };
      break;
    }
  }
}, 60_000);

afterAll(async () => {
  await built?.app.close();
  await ledger?.close();
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

async function get(url: string) {
  // Bodies are asserted member by member below; `any` keeps those assertions short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Body = Record<string, any>;
  const res = await built.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Body, headers: res.headers };
}

describe('GET /v1/lineage/trace', () => {
  it('answers the upstream lineage of an event with completeness and a signed checkpoint', async () => {
    const { status, body } = await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream&depth=50`);
    expect(status).toBe(200);
    expect(body['asOf']).toBe(size);
    expect(body['complete']).toBe(true);
    expect(body['incomplete']).toEqual([]);
    const nodes = body['nodes'] as Array<{ event: string; depth: number; type: string; index: number }>;
    expect(nodes[0]).toMatchObject({ event: derive.hash, depth: 0, type: 'derive' });
    // Upstream of a derive ends at collections; every edge joins two returned nodes.
    expect(nodes.some((n) => n.type === 'collect')).toBe(true);
    const hashes = new Set(nodes.map((n) => n.event));
    expect(body['edges'].length).toBeGreaterThan(0);
    for (const e of body['edges']) expect(hashes.has(e.from) && hashes.has(e.to)).toBe(true);
    const cp = body['checkpoint'];
    expect(cp).toMatchObject({ size, exact: true });
    const opened = openCheckpoint(cp.note, {
      origin: city.origin,
      verifiers: [verifierFromKeyText(LOG_KEY)],
    });
    expect(opened.size).toBe(size);
  });

  it('pages with a cursor and names the smallest signed checkpoint above an unsigned asOf', async () => {
    const asOf = derive.index + 1;
    const first = await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream&limit=2&asOf=${asOf}`);
    expect(first.status).toBe(200);
    expect(first.body['nodes']).toHaveLength(2);
    expect(first.body['complete']).toBe(false);
    expect(first.body['incomplete'].map((i: { reason: string }) => i.reason)).toContain('page');
    const cp = first.body['checkpoint'];
    expect(cp.size).toBeGreaterThanOrEqual(asOf);
    expect(cp.exact).toBe(cp.size === asOf);
    const second = await get(
      `/v1/lineage/trace?event=${derive.hash}&direction=upstream&limit=2&asOf=${asOf}&cursor=${first.body['next']}`,
    );
    expect(second.status).toBe(200);
    const seen = new Set(first.body['nodes'].map((n: { event: string }) => n.event));
    for (const n of second.body['nodes']) expect(seen.has(n.event)).toBe(false);
  });

  it('refuses bad parameters with 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      [`event=${derive.hash}&direction=upstream&depth=51`, '/depth'],
      [`event=${derive.hash}&direction=sideways`, '/direction'],
      [`event=${derive.hash}&direction=upstream&limit=1001`, '/limit'],
      ['event=not-a-hash&direction=upstream', '/event'],
      [`event=${derive.hash}&dataset=${derive.dataset}&direction=upstream`, '/event,dataset,source'],
      [`event=${derive.hash}&direction=upstream&purpose=nope`, '/purpose'],
      [`event=${derive.hash}&direction=upstream&type=derive&type=fly`, '/type'],
      [
        `event=${derive.hash}&direction=upstream&from=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z`,
        '/until',
      ],
    ];
    for (const [qs, path] of cases) {
      const { status, body } = await get(`/v1/lineage/trace?${qs}`);
      expect({ qs, status, code: body['code'] }).toEqual({ qs, status: 400, code: 'SCHEMA_INVALID' });
      expect(body['details']['issues'].map((i: { path: string }) => i.path)).toContain(path);
      expect(body['message']).toContain(path);
    }
  });

  it('answers 404 for an unknown event, 400 for asOf beyond the log, 409 for a cursor of another query', async () => {
    const unknown = await get(`/v1/lineage/trace?event=${'ab'.repeat(32)}&direction=upstream`);
    expect(unknown.status).toBe(404);
    expect(unknown.body['code']).toBe('NOT_FOUND');
    const beyond = await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream&asOf=${size + 1000}`);
    expect(beyond.status).toBe(400);
    expect(beyond.body['code']).toBe('AS_OF_BEYOND_INDEX');
    const page = await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream&limit=1`);
    const other = await get(
      `/v1/lineage/trace?event=${derive.hash}&direction=upstream&depth=3&limit=1&cursor=${page.body['next']}`,
    );
    expect(other.status).toBe(409);
    expect(other.body['code']).toBe('CURSOR_MISMATCH');
    const junk = await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream&cursor=junk`);
    expect(junk.status).toBe(400);
    expect(junk.body['code']).toBe('CURSOR_INVALID');
  });
});

describe('GET /v1/lineage/export', () => {
  it('exports the nodes of a trace as PROV-JSON and as OpenLineage run events', async () => {
    const q = `event=${derive.hash}&direction=upstream`;
    const traced = (await get(`/v1/lineage/trace?${q}`)).body;
    const prov = await get(`/v1/lineage/export?format=prov&${q}`);
    expect(prov.status).toBe(200);
    expect(prov.headers['civic-ledger-as-of']).toBe(String(size));
    expect(prov.headers['civic-ledger-complete']).toBe('true');
    const activities = Object.keys(prov.body['activity']);
    for (const n of traced['nodes']) expect(activities).toContain(`cl:event/${n.event}`);
    expect(activities).toHaveLength(traced['nodes'].length);
    const ol = await get(`/v1/lineage/export?format=openlineage&${q}`);
    expect(ol.status).toBe(200);
    const derives = traced['nodes'].filter((n: { type: string }) => n.type === 'derive').length;
    expect(ol.body['events']).toHaveLength(2 * derives);
    expect(ol.body['events'].map((e: { eventType: string }) => e.eventType).sort()[0]).toBe('COMPLETE');
    const bad = await get(`/v1/lineage/export?format=csv&${q}`);
    expect(bad.status).toBe(400);
    expect(bad.body['details']['issues'][0].path).toBe('/format');
  });
});

describe('GET /v1/lineage/bundle', () => {
  it('gives a partial evidence bundle of the answer that verifies offline with the pinned log key', async () => {
    const { status, body } = await get(`/v1/lineage/bundle?event=${derive.hash}&direction=upstream`);
    expect(status).toBe(200);
    const dir = join(root, 'bundle');
    mkdirSync(dir);
    writeFileSync(join(dir, 'bundle.json'), `${JSON.stringify(body['manifest'], null, 2)}\n`);
    for (const [name, text] of Object.entries(body['files'] as Record<string, string>))
      writeFileSync(join(dir, name), text);
    const r = await verifyBundle(dir, { logKey: LOG_KEY, origin: city.origin });
    expect(r.ok).toBe(true);
    if (!r.ok || r.kind !== 'partial') throw new Error('not a verified partial bundle');
    const traced = (await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream`)).body;
    expect(r.chosen.map((c) => c.eventHash).sort()).toEqual(
      traced['nodes'].map((n: { event: string }) => n.event).sort(),
    );
    expect(r.checkpoint.size).toBe(size);
  });
});

describe('footprint and flows', () => {
  it('summarises a source downstream and the flows between organizations', async () => {
    const collect = (await get(`/v1/lineage/trace?event=${derive.hash}&direction=upstream`)).body[
      'nodes'
    ].find((n: { type: string }) => n.type === 'collect');
    const fp = await get(`/v1/lineage/footprint?source=${collect.source}`);
    expect(fp.status).toBe(200);
    expect(fp.body).toMatchObject({ source: collect.source, asOf: size });
    expect(fp.body['collects']).toBeGreaterThan(0);
    expect((await get('/v1/lineage/footprint?source=nobody/nothing')).status).toBe(404);
    const fl = await get('/v1/lineage/flows?from=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z');
    expect(fl.status).toBe(200);
    expect(fl.body).toMatchObject({ asOf: size, complete: true });
    expect(Array.isArray(fl.body['flows'])).toBe(true);
    expect((await get('/v1/lineage/flows?from=2026-01-01T00:00:00Z')).status).toBe(400);
  });
});

describe('GET /api/v1/lineage (Marquez)', () => {
  it('answers the graph of a dataset node in the Marquez shape', async () => {
    const [ns, ...rest] = derive.dataset.split('/');
    const nodeId = `dataset:${ns}:${rest.join('/')}`;
    const { status, body } = await get(`/api/v1/lineage?nodeId=${encodeURIComponent(nodeId)}`);
    expect(status).toBe(200);
    const graph = body['graph'] as Array<{
      id: string;
      type: string;
      data: Record<string, unknown>;
      inEdges: Array<{ origin: string; destination: string }>;
      outEdges: Array<{ origin: string; destination: string }>;
    }>;
    const byId = new Map(graph.map((n) => [n.id, n]));
    const node = byId.get(nodeId)!;
    expect(node.type).toBe('DATASET');
    expect(node.data['id']).toEqual({ namespace: ns, name: rest.join('/') });
    // The dataset is written by the derive's job, which reads the derive's input datasets.
    expect(node.inEdges.some((e) => e.origin.startsWith(`job:${ns}:`) && e.origin.includes('/derive/'))).toBe(
      true,
    );
    for (const n of graph) {
      expect(['DATASET', 'JOB']).toContain(n.type);
      for (const e of n.inEdges) {
        expect(e.destination).toBe(n.id);
        expect(byId.get(e.origin)?.outEdges).toContainEqual(e);
      }
      // Edges alternate: datasets link to jobs and jobs to datasets.
      for (const e of n.outEdges) expect(byId.get(e.destination)?.type).not.toBe(n.type);
    }
    const bad = await get('/api/v1/lineage?nodeId=job:x:y');
    expect(bad.status).toBe(400);
    expect(bad.body['details']['issues'][0].path).toBe('/nodeId');
    expect((await get('/api/v1/lineage?nodeId=dataset:nobody:nothing')).status).toBe(404);
  });
});

describe('the service', () => {
  it('lists the lineage routes in its OpenAPI document', async () => {
    const doc = (await get('/docs/json')).body as { paths: Record<string, unknown> };
    for (const p of [
      '/v1/lineage/trace',
      '/v1/lineage/export',
      '/v1/lineage/bundle',
      '/v1/lineage/footprint',
      '/v1/lineage/flows',
      '/api/v1/lineage',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
  });

  it('follows appends made after it started', async () => {
    const agency = new TestEmitter('transport-agency', {
      key: city.keys.get('transport-agency')!,
      stream: 'lineage-test',
    });
    const registrations = [
      registerSource(agency, 'transport-agency/cameras/lineage-01'),
      registerDataset(agency, 'transport-agency/lineage-counts', ['transport-agency/cameras/lineage-01']),
    ];
    const collect = agency.next({
      type: 'collect',
      source: 'transport-agency/cameras/lineage-01',
      dataset: { id: 'transport-agency/lineage-counts', version: `sha256:${'7'.repeat(64)}` },
      inputs: [],
      purpose: 'city:TrafficManagement',
      declaration: 'd'.repeat(64),
      categories: ['city:VehicleCount'],
      personalData: 'none',
      records: 12,
    } as never);
    const results = await ledger.submit([...registrations, collect]);
    const last = results[2]!;
    if (!last.ok) throw new Error(`refused: ${last.error.code} ${last.error.message}`);
    const { status, body } = await get(
      `/v1/lineage/trace?event=${last.receipt.eventHash}&direction=downstream`,
    );
    expect(status).toBe(200);
    expect(body['asOf']).toBe(size + 3);
    expect(body['nodes'][0]).toMatchObject({ event: last.receipt.eventHash, type: 'collect' });
    // No checkpoint signs the new entries yet: the answer says so instead of naming a smaller one.
    expect(body['checkpoint']).toBeNull();
    expect(
      (await get(`/v1/lineage/bundle?event=${last.receipt.eventHash}&direction=downstream`)).body['code'],
    ).toBe('CHECKPOINT_NOT_FOUND');
  });
});
