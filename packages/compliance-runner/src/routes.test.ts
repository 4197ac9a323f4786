// The compliance routes on the real HTTP app (buildApp of ledger-http, through inject) over a
// runner following a Ledger that holds a signed demo city with violations, mounted through
// registerExtra as the standalone and query services mount the lineage routes.
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerComplianceRoutes, type ComplianceRunner } from './index.ts';
import { openTestCity, type TestCity } from './test-city.ts';

let t: TestCity;
let runner: ComplianceRunner;
let built: StandaloneApp;

beforeAll(async () => {
  t = await openTestCity('routes', 900, 0.2);
  runner = await t.openRunner();
  await runner.settled();
  await runner.catchUp();
  built = await buildApp(
    { origin: t.city.origin, checkpointWithinMs: 60_000, logger: false, clientRateLimit: null },
    {
      ledger: t.ledger,
      store: t.store,
      logKey: t.city.logKey,
      registerExtra: (r) => registerComplianceRoutes(r, runner, { logSize: () => t.ledger.size }),
    },
  );
}, 60_000);

afterAll(async () => {
  await built?.app.close();
  await t?.close();
});

// Bodies are asserted member by member below; `any` keeps those assertions short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

async function get(url: string) {
  const res = await built.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Body };
}

async function decide(body: unknown) {
  const res = await built.app.inject({ method: 'POST', url: '/v1/decisions', payload: body as object });
  return { status: res.statusCode, body: res.json() as Body };
}

describe('GET /v1/findings', () => {
  it('answers every finding of the log, newest first, with the event it is about', async () => {
    const { status, body } = await get('/v1/findings?limit=1000');
    expect(status).toBe(200);
    expect(body['asOf']).toBe(t.ledger.size);
    const findings = body['findings'] as Body[];
    expect(findings.length).toBe(runner.status().findings.submitted);
    expect(body['next']).toBeUndefined();
    const indexes = findings.map((f) => f['index'] as number);
    expect(indexes).toEqual([...indexes].sort((a, b) => b - a));
    for (const [hash] of t.violations) expect(findings.some((f) => f['about'] === hash)).toBe(true);
    const f = findings.find((x) => t.violations.has(x['about']))!;
    expect(f).toMatchObject({
      emitter: 'compliance',
      outcome: expect.stringMatching(/violation|undetermined/),
    });
    expect(f['evaluated']).toMatchObject({ emitter: expect.any(String), dataset: expect.any(String) });
    expect(f['organizations']).toContain(f['evaluated']['emitter']);
  });

  it('filters by organization, dataset, check, outcome and admission time; every filter must hold', async () => {
    const all = (await get('/v1/findings?limit=1000')).body['findings'] as Body[];
    const police = (await get('/v1/findings?limit=1000&organization=police')).body['findings'] as Body[];
    expect(police.length).toBeGreaterThan(0);
    expect(police).toEqual(all.filter((f) => f['organizations'].includes('police')));
    const dataset = all[0]!['evaluated']['dataset'] as string;
    const byDataset = (await get(`/v1/findings?limit=1000&dataset=${dataset}`)).body['findings'] as Body[];
    expect(byDataset).toEqual(all.filter((f) => f['evaluated']?.['dataset'] === dataset));
    const both = (await get('/v1/findings?limit=1000&check=recipient-allowed&outcome=violation')).body[
      'findings'
    ] as Body[];
    expect(both.length).toBeGreaterThan(0);
    expect(both).toEqual(
      all.filter((f) => f['check'] === 'recipient-allowed' && f['outcome'] === 'violation'),
    );
    const admitted = all[0]!['admitted'] as string;
    const later = new Date(Date.parse(admitted) + 1).toISOString();
    expect((await get(`/v1/findings?from=${later}`)).body['findings']).toEqual([]);
    expect(((await get(`/v1/findings?until=${later}&limit=1000`)).body['findings'] as Body[]).length).toBe(
      all.length,
    );
    expect((await get(`/v1/findings?until=${admitted}`)).body['findings']).toEqual(
      all.filter((f) => f['admitted'] < admitted).slice(0, 100),
    );
  });

  it('pages from the newest back with a cursor', async () => {
    const all = (await get('/v1/findings?limit=1000')).body['findings'] as Body[];
    const seen: Body[] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await get(`/v1/findings?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(...(body['findings'] as Body[]));
      cursor = body['next'];
    } while (cursor !== undefined);
    expect(seen).toEqual(all);
  });

  it('refuses bad parameters with 400 naming the parameter and its rule', async () => {
    for (const [query, path] of [
      ['limit=0', '/limit'],
      ['outcome=bad', '/outcome'],
      ['organization=Not%20An%20Org', '/organization'],
      ['from=yesterday', '/from'],
      ['cursor=abc', '/cursor'],
      ['about=123', '/about'],
    ] as const) {
      const { status, body } = await get(`/v1/findings?${query}`);
      expect(status, query).toBe(400);
      expect(body['code']).toBe('SCHEMA_INVALID');
      expect(body['details']['issues'][0]['path'], query).toBe(path);
      expect(body['message'], query).toContain(path);
    }
  });
});

describe('POST /v1/decisions', () => {
  const plates = { org: 'police', dataset: 'transport-agency/plate-extract' };

  it('allows what the declarations allow, denies what they do not, with the reasons, and writes nothing', async () => {
    const size = t.ledger.size;
    const allowed = await decide({ ...plates, purpose: 'city:RoadSafetyEnforcement' });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({
      decision: 'allow',
      holding: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(allowed.body['asOf']).toBe(size);
    expect(allowed.body['reasons'].every((r: Body) => r['outcome'] === 'compliant')).toBe(true);

    const denied = await decide({ ...plates, purpose: 'city:Advertising' });
    expect(denied.body['decision']).toBe('deny');
    expect(denied.body['reasons'][0]).toMatchObject({ check: 'purpose-declared', outcome: 'violation' });
    expect(denied.body['reasons'][0]['explanation']).toMatch(/\w+ .*\./);

    const transfer = await decide({
      ...plates,
      purpose: 'city:RoadSafetyEnforcement',
      recipient: 'vendor-b',
    });
    expect(transfer.body['decision']).toBe('deny');
    expect(transfer.body['reasons'].map((r: Body) => `${r['check']} ${r['outcome']}`)).toContain(
      'recipient-allowed violation',
    );

    const unknown = await decide({ ...plates, purpose: 'city:NoSuchPurpose' });
    expect(unknown.body['decision']).toBe('undetermined');

    const notHeld = await decide({
      org: 'vendor-b',
      dataset: 'transport-agency/plate-extract',
      purpose: 'city:Research',
    });
    expect(notHeld.body).toMatchObject({ decision: 'deny', holding: null });
    expect(t.ledger.size).toBe(size);
  });

  it('refuses a bad body with 400 naming the field and its rule', async () => {
    for (const [body, path] of [
      [{ org: 'police', dataset: 'transport-agency/plate-extract' }, '/purpose'],
      [{ ...plates, purpose: 'advertising' }, '/purpose'],
      [{ ...plates, purpose: 'city:Research', recipient: 'A B' }, '/recipient'],
      [{ ...plates, purpose: 'city:Research', at: 'now' }, '/at'],
    ] as const) {
      const { status, body: answer } = await decide(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(answer['code']).toBe('SCHEMA_INVALID');
      expect(answer['details']['issues'][0]['path']).toBe(path);
    }
    const extra = await decide({ ...plates, purpose: 'city:Research', colour: 'blue' });
    expect(extra.status).toBe(400);
    expect(extra.body['code']).toBe('SCHEMA_INVALID');
  });
});

describe('GET /v1/compliance/status and the OpenAPI document', () => {
  it("reports the consumer's progress", async () => {
    const { status, body } = await get('/v1/compliance/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({ org: 'compliance', stream: 'findings', evaluated: t.ledger.size, lag: 0 });
    expect(body['findings']['recorded']['violation']).toBeGreaterThan(0);
  });

  it('describes every compliance route', async () => {
    const doc = (await get('/docs/json')).body;
    expect(doc['paths']['/v1/findings']['get']['parameters'].map((p: Body) => p['name'])).toEqual(
      expect.arrayContaining([
        'organization',
        'dataset',
        'check',
        'outcome',
        'from',
        'until',
        'limit',
        'cursor',
      ]),
    );
    expect(doc['paths']['/v1/decisions']['post']['requestBody']).toBeDefined();
    expect(doc['paths']['/v1/compliance/status']['get']).toBeDefined();
  });
});
