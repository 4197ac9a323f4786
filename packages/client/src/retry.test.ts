// Retries: backoff and Retry-After, and a ledger that goes away and comes back (503 while
// it shuts down, then refused connections) on the same data directory and port.
import { rmSync } from 'node:fs';
import { generateSigningKey } from '@civic-ledger/crypto';
import { GENESIS_PREV, type EventInput } from '@civic-ledger/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emitter, type EventBody } from './emitter.ts';
import { ClientError } from './errors.ts';
import { prepareEvent } from './prepare.ts';
import { backoffDelay, parseRetryAfter } from './retry.ts';
import { ledgerWithOrgs, recordingFetch, tempDir, type TestLedger } from './test-server.ts';

describe('backoff', () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1000 };

  it('grows exponentially with jitter in the upper half of each step, up to the maximum', () => {
    expect(backoffDelay(1, options, undefined, () => 0)).toBe(50);
    expect(backoffDelay(1, options, undefined, () => 1)).toBe(100);
    expect(backoffDelay(3, options, undefined, () => 1)).toBe(400);
    expect(backoffDelay(10, options, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(10, options, undefined, () => 0)).toBe(500);
  });

  it("never waits less than the server's Retry-After", () => {
    expect(backoffDelay(1, options, 2000, () => 0.5)).toBe(2000);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-11-02T09:00:00Z');
    expect(parseRetryAfter('Mon, 02 Nov 2026 09:00:05 GMT', now)).toBe(5000);
  });
});

const ORG = 'environment-agency';
const key = generateSigningKey(`${ORG}/k1`);
const SOURCE = `${ORG}/air/station-1`;
const DATASET = `${ORG}/air-readings`;
const body = {
  type: 'collect',
  source: SOURCE,
  dataset: { id: DATASET, version: `sha256:${'1'.repeat(64)}` },
  inputs: [],
  purpose: 'city:AirQualityMonitoring',
  declaration: 'd'.repeat(64),
  categories: ['city:AirQuality'],
  personalData: 'none',
} as EventBody;

let ledger: TestLedger;
let stateDir: string;
beforeAll(async () => {
  ledger = await ledgerWithOrgs([{ org: ORG, key, sources: [SOURCE], datasets: [DATASET] }]);
  stateDir = tempDir();
});
afterAll(async () => {
  await ledger.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('a ledger briefly unavailable', () => {
  it('gets the submission once it is back: 503 with Retry-After honoured, then refused connections', async () => {
    const rec = recordingFetch();
    const at: number[] = [];
    const timed: typeof fetch = (input, init) => {
      at.push(Date.now());
      return rec.fetch(input, init);
    };
    const emitter = await Emitter.open({
      client: ledger.client({ fetch: timed, retry: { attempts: 30, baseDelayMs: 50, maxDelayMs: 200 } }),
      stateDir,
      key,
    });
    expect((await emitter.emit(body)).event.seq).toBe(1);

    // Shutting down: the service answers 503 CLOSING with Retry-After: 1.
    ledger.service.beginClose();
    const calls = rec.calls.length;
    const pending = emitter.emit(body);
    await new Promise((r) => setTimeout(r, 150));
    await ledger.stop();
    // Down for longer than the Retry-After: the retry meets a closed port.
    await new Promise((r) => setTimeout(r, 1200));
    await ledger.start();
    const second = await pending;
    expect(second.event.seq).toBe(2);
    expect(second.duplicate).toBe(false);

    const retried = rec.calls.slice(calls);
    const closing = retried.findIndex((c) => c.status === 503);
    expect(closing).toBeGreaterThanOrEqual(0);
    // The retry after the 503 came no sooner than its Retry-After (1 s).
    expect(at[calls + closing + 1]! - at[calls + closing]!).toBeGreaterThanOrEqual(990);
    expect(retried.some((c) => c.error !== undefined)).toBe(true);
    expect(retried.at(-1)).toMatchObject({ path: '/v1/events/batch', status: 200 });
    emitter.close();
  }, 15_000);

  it('gives up after the bounded number of attempts; the event stays outboxed and goes on the next flush', async () => {
    const rec = recordingFetch();
    const emitter = await Emitter.open({
      client: ledger.client({ fetch: rec.fetch, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } }),
      stateDir,
      key,
    });
    await ledger.stop();
    const calls = rec.calls.length;
    const failed = (await emitter.emit(body).catch((e: unknown) => e)) as ClientError;
    expect(failed).toBeInstanceOf(ClientError);
    expect(failed).toMatchObject({ code: 'NETWORK', details: { attempts: 3, outboxed: true } });
    // A fresh outbox reads the chain head once (its outbox knows the stream, so it goes on
    // without it), then the submission: each tried three times.
    expect(rec.calls.slice(calls).map((c) => c.path)).toEqual([
      ...Array(3).fill('/v1/chains/environment-agency/main/head'),
      ...Array(3).fill('/v1/events/batch'),
    ]);
    expect(emitter.outbox.counts().pending).toBe(1);

    await ledger.start();
    expect(await emitter.outbox.flush()).toMatchObject({ sent: 1, receipted: 1, refused: 0 });
    expect(await ledger.client().chainHead(ORG, 'main')).toMatchObject({ seq: 3 });
    emitter.close();
  });

  it('does not retry a refusal (4xx)', async () => {
    const rec = recordingFetch();
    const emitter = await Emitter.open({
      client: ledger.client({ fetch: rec.fetch, retry: { attempts: 5, baseDelayMs: 10 } }),
      stateDir,
      key,
      stream: 'refusals',
    });
    const calls = rec.calls.length;
    const use = {
      type: 'use',
      dataset: { id: DATASET, version: `sha256:${'1'.repeat(64)}` },
      inputs: ['f'.repeat(64)],
      purpose: 'city:AirQualityMonitoring',
      declaration: 'd'.repeat(64),
      action: 'dpv:Analyse',
    } as EventBody;
    const e = (await emitter.emit(use).catch((x: unknown) => x)) as ClientError;
    expect(e).toMatchObject({ code: 'UNKNOWN_INPUT' });
    // One chain-head read, one submission.
    expect(rec.calls.slice(calls).map((c) => c.path)).toEqual([
      '/v1/chains/environment-agency/refusals/head',
      '/v1/events/batch',
    ]);
    emitter.close();
  });

  it('surfaces an unregistered dataset or source as a 422 UNKNOWN_SUBJECT refusal, not retried', async () => {
    const rec = recordingFetch();
    const client = ledger.client({ fetch: rec.fetch, retry: { attempts: 5, baseDelayMs: 10 } });
    // A single submission: the ledger's status, code and details, in one request.
    const unknownDataset = `${ORG}/never-registered`;
    const signed = prepareEvent(
      {
        ...body,
        dataset: { id: unknownDataset, version: `sha256:${'2'.repeat(64)}` },
        v: 1,
        emitter: ORG,
        stream: 'unknown-dataset',
        seq: 1,
        prev: GENESIS_PREV,
        time: '2026-11-02T08:00:00Z',
        key: key.name,
      } as EventInput,
      key,
    );
    const calls = rec.calls.length;
    const e = (await client.submit(signed).catch((x: unknown) => x)) as ClientError;
    expect(e).toBeInstanceOf(ClientError);
    expect(e).toMatchObject({
      code: 'UNKNOWN_SUBJECT',
      status: 422,
      details: { kind: 'dataset', id: unknownDataset, path: '/dataset/id' },
    });
    expect(e.retryable).toBe(false);
    expect(rec.calls.slice(calls).map((c) => [c.path, c.status])).toEqual([['/v1/events', 422]]);

    // Through the outbox: recorded as refused (not left pending for a resend), once.
    const ownDir = tempDir();
    const emitter = await Emitter.open({ client, stateDir: ownDir, key, stream: 'unknown-source' });
    const unknownSource = `${ORG}/air/never-registered`;
    const before = rec.calls.length;
    const refused = (await emitter
      .emit({ ...body, source: unknownSource } as EventBody)
      .catch((x: unknown) => x)) as ClientError;
    expect(refused).toMatchObject({
      code: 'UNKNOWN_SUBJECT',
      details: { kind: 'source', id: unknownSource, path: '/source' },
    });
    expect(refused.retryable).toBe(false);
    expect(rec.calls.slice(before).map((c) => c.path)).toEqual([
      '/v1/chains/environment-agency/unknown-source/head',
      '/v1/events/batch',
    ]);
    expect(emitter.outbox.counts()).toEqual({ pending: 0, receipted: 0, refused: 1 });
    emitter.close();
    rmSync(ownDir, { recursive: true, force: true });
  });
});
