// httpSource against the real standalone service (SQLite, a real socket, port 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The verifier package does not depend on the service; the test starts it from its sources.
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { httpSource, HttpSourceError, verifyLog } from './index.ts';

const ORIGIN = 'ledger.http-source.test/log';
let dir: string;
let service: RunningService;
let LOG_KEY: string;

async function postBatch(events: unknown[]): Promise<void> {
  const res = await fetch(`${service.url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { results: { ok: boolean; error?: unknown }[] };
  const refused = body.results.filter((r) => !r.ok);
  if (refused.length > 0) throw new Error(`refused: ${JSON.stringify(refused[0])}`);
}

let tail: unknown[] = [];

function collect(n: number) {
  return {
    type: 'collect',
    source: 'transport-agency/cameras/north-07',
    dataset: { id: 'transport-agency/traffic-counts', version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 1000 + n,
  } as never;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'http-source-'));
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const police = new TestEmitter('police');
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '100',
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '60000',
      // Read tokens are issued with @civic-ledger/access, which this package does not depend on:
      // read access control off, explicitly (a reader passes its token in `headers`).
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
    }),
    { logger: false },
  );
  LOG_KEY = formatVerifierKey(service.logKey);
  // Both emitters collect from the agency's camera into its dataset: registered first.
  await postBatch(
    bootstrapEvents(operator, [agency, police], {}, [
      { kind: 'source', id: 'transport-agency/cameras/north-07' },
      { kind: 'dataset', id: 'transport-agency/traffic-counts' },
    ]),
  );
  for (let b = 0; b < 3; b++) {
    await postBatch(
      Array.from({ length: 110 }, (_, i) => (i % 2 ? agency : police).next(collect(b * 110 + i))),
    );
  }
  await service.ledger.checkpointNow();
  // Appended later, after that checkpoint.
  tail = Array.from({ length: 5 }, (_, i) => agency.next(collect(900 + i)));
}, 60_000);

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fetch that records what was asked and how many entry pages were in flight at once. */
function recordingFetch(rewrite?: (url: string, body: string) => string) {
  const urls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const f: typeof fetch = async (input, init) => {
    const url = String(input);
    urls.push(url);
    const entries = url.includes('/v1/entries?');
    if (entries) maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      const res = await fetch(input, init);
      const text = await res.text();
      return new Response(rewrite ? rewrite(url, text) : text, { status: res.status, headers: res.headers });
    } finally {
      if (entries) inFlight--;
    }
  };
  return { fetch: f, urls, maxInFlight: () => maxInFlight };
}

describe('httpSource', () => {
  it('verifies the log served by the real service, up to its latest checkpoint', async () => {
    const size = service.ledger.size;
    const rec = recordingFetch();
    const r = await verifyLog(httpSource(service.url, { fetch: rec.fetch }), {
      logKey: LOG_KEY,
      origin: ORIGIN,
    });
    expect(r).toMatchObject({ ok: true, size, checkpoint: { size } });
    expect(rec.urls.filter((u) => u.includes('/v1/checkpoints?'))).toHaveLength(1);
  });

  it('reads pages ahead while the verifier works, with any page and chunk sizes', async () => {
    const size = service.ledger.size;
    const rec = recordingFetch();
    const source = httpSource(`${service.url}/`, { fetch: rec.fetch, pageSize: 37, prefetch: 3 });
    const r = await verifyLog(source, { logKey: LOG_KEY, origin: ORIGIN, chunkSize: 50 });
    expect(r).toMatchObject({ ok: true, size });
    // Each leaf is fetched once, in contiguous pages, several of them in flight at a time.
    const pages = rec.urls
      .filter((u) => u.includes('/v1/entries?'))
      .map((u) => new URL(u).searchParams)
      .map((q) => [Number(q.get('from')), Number(q.get('limit'))] as const);
    let covered = 0;
    for (const [from, limit] of pages) {
      expect(from).toBe(covered);
      expect(limit).toBeLessThanOrEqual(37);
      covered += limit;
    }
    expect(covered).toBe(size);
    expect(rec.maxInFlight()).toBeGreaterThan(1);
    // A read elsewhere fetches only what it asks for.
    const before = rec.urls.length;
    const two = await source.leaves(10, 12);
    expect(two.map((l) => l.index)).toEqual([10, 11]);
    expect(rec.urls.slice(before)).toEqual([`${service.url}/v1/entries?from=10&limit=2`]);
  });

  it("until 'head' reads entries not yet covered by a checkpoint, and leaves out later checkpoints", async () => {
    await postBatch(tail);
    const size = service.ledger.size;
    const head = await verifyLog(httpSource(service.url, { until: 'head' }), {
      logKey: LOG_KEY,
      origin: ORIGIN,
    });
    expect(head).toMatchObject({ ok: true, size });
    expect(head.ok && head.checkpoint!.size).toBeLessThan(size);
    // A checkpoint signed after the source took its size is not reported as truncation.
    const source = httpSource(service.url, { until: 'head' });
    expect(await source.size()).toBe(size);
    await service.ledger.checkpointNow();
    expect(await verifyLog(source, { logKey: LOG_KEY, origin: ORIGIN })).toMatchObject({ ok: true, size });
  });

  it("passes the server's index and event hash along, so the verifier catches a lying server", async () => {
    const swapped = recordingFetch((url, body) => {
      if (!url.includes('/v1/entries?from=0&')) return body;
      const page = JSON.parse(body) as { entries: unknown[] };
      [page.entries[3], page.entries[4]] = [page.entries[4], page.entries[3]];
      return JSON.stringify(page);
    });
    const r1 = await verifyLog(httpSource(service.url, { fetch: swapped.fetch }), {
      logKey: LOG_KEY,
      origin: ORIGIN,
    });
    expect(r1).toMatchObject({ ok: false, check: 'LEAF_INDEX', index: 3 });

    const wrongHash = recordingFetch((url, body) => {
      if (!url.includes('/v1/entries?from=0&')) return body;
      const page = JSON.parse(body) as { entries: { eventHash: string }[] };
      page.entries[7]!.eventHash = 'f'.repeat(64);
      return JSON.stringify(page);
    });
    const r2 = await verifyLog(httpSource(service.url, { fetch: wrongHash.fetch }), {
      logKey: LOG_KEY,
      origin: ORIGIN,
    });
    expect(r2).toMatchObject({ ok: false, check: 'EVENT_HASH', index: 7 });
  });

  it('fails with errors naming the URL and the status', async () => {
    const wrong = httpSource(`${service.url}/nothing-here`);
    const e = await wrong.size().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpSourceError);
    expect(e).toMatchObject({
      code: 'HTTP_STATUS',
      status: 404,
      url: `${service.url}/nothing-here/v1/checkpoint.json`,
    });
    expect((e as Error).message).toContain(`${service.url}/nothing-here/v1/checkpoint.json answered 404`);

    const garbled = httpSource(service.url, {
      fetch: recordingFetch((url, body) => (url.includes('/v1/checkpoints?') ? '{"nope":1}' : body)).fetch,
    });
    await expect(garbled.checkpoints()).rejects.toMatchObject({ code: 'HTTP_BODY' });

    // Nothing listens on a port that was just closed.
    const closed = await startService(
      loadConfig({
        CIVIC_LEDGER_DATA_DIR: join(dir, 'closed'),
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_OPERATOR_KEY: LOG_KEY,
        CIVIC_LEDGER_ORIGIN: ORIGIN,
      }),
      { logger: false },
    );
    await closed.close();
    const down = await httpSource(closed.url)
      .leaves(0, 1)
      .catch((x: unknown) => x);
    expect(down).toMatchObject({ code: 'HTTP_NETWORK', url: `${closed.url}/v1/entries?from=0&limit=1` });
    expect((down as Error).message).toContain(closed.url);
  });
});
