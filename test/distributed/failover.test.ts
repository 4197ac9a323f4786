// Two sequencers on the same partitions; the lease holder is killed with SIGKILL in the middle
// of the stream. The standby takes over: one log, no fork, no gap, no duplicate, and every
// event that got a receipt is in the log at the index its receipt names.
import { bootstrapEvents, TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, datasetId, http, sleep, sourceId } from '../standalone/support.ts';
import { deployment, findBrokers, type Deployment, verifyThroughQuery, waitReady } from './support.ts';

const brokers = await findBrokers();

describe.skipIf(!brokers)('sequencer failover (real processes)', () => {
  let d: Deployment | undefined;
  afterAll(async () => {
    await d?.cleanup();
  });

  it('kill -9 of the lease holder mid-stream: the standby takes over, one log, every receipted event present', async () => {
    const operator = new TestEmitter('ledger');
    const orgs = ['north-agency', 'south-agency', 'east-agency', 'west-agency'].map(
      (o) => new TestEmitter(o),
    );
    d = deployment(brokers!, operator.verifierKey, {
      CIVIC_LEDGER_LEASE_TTL_MS: '6000',
      CIVIC_LEDGER_KAFKA_SESSION_TIMEOUT_MS: '6000',
      // Small batches: the kill lands between or inside commits, never after the last one.
      CIVIC_LEDGER_MAX_BATCH: '25',
    });
    const a = await d.start('sequencer');
    await waitReady(a, (s, b) => s === 200 && b.status === 'writer');
    const b = await d.start('sequencer');
    await waitReady(b, (s, body) => s === 200 && body.status === 'standby');
    const [ingest, query] = await Promise.all([d.start('ingest'), d.start('query')]);
    await Promise.all([waitReady(ingest), waitReady(query)]);
    // Entries need a read token (the query service's default): one of the agencies'.
    const read = await d.reader(orgs[0]!.org);

    const boot = bootstrapEvents(
      operator,
      orgs,
      {},
      orgs.flatMap((o) => [
        { kind: 'source' as const, id: sourceId(o.org) },
        { kind: 'dataset' as const, id: datasetId(o.org) },
      ]),
    );
    for (const e of boot) {
      const r = await http(ingest.url, 'POST', '/v1/events?wait=20000', e);
      expect(r.status, r.text).toBe(201);
    }

    // Each agency streams 150 events in batches of 10, waiting for the receipts of each.
    const receipts = new Map<string, { index: number }>();
    const sent: TestSubmission[] = [];
    const stream = async (o: TestEmitter) => {
      for (let n = 0; n < 15; n++) {
        const events = Array.from({ length: 10 }, (_, i) => o.next(collect(o.org, n * 10 + i)));
        sent.push(...events);
        const r = await http(ingest.url, 'POST', '/v1/events/batch?wait=30000', { events });
        expect(r.status, r.text).toBe(200);
        for (const [i, x] of (
          r.json.results as { ok: boolean; pending?: boolean; receipt?: { index: number } }[]
        ).entries()) {
          expect(x.ok, JSON.stringify(x)).toBe(true);
          let receipt = x.receipt;
          // The takeover can outlast one wait: poll until the receipt comes.
          for (let t = 0; !receipt && t < 4; t++) {
            const p = await http(ingest.url, 'GET', `/v1/submissions/${events[i]!.hash}?wait=30000`);
            receipt = p.json?.receipt;
          }
          expect(receipt, events[i]!.hash).toBeDefined();
          receipts.set(events[i]!.hash, receipt!);
        }
      }
    };
    const streaming = Promise.all(orgs.map(stream));
    // Kill the writer once a fair part of the stream is in.
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const size = (await http(query.url, 'GET', '/v1/checkpoint.json')).json?.size ?? 0;
      if (size >= boot.length + 150) break;
      await sleep(50);
    }
    const sizeAtKill = (await http(query.url, 'GET', '/v1/checkpoint.json')).json?.size ?? 0;
    const killedAt = Date.now();
    await a.kill();
    let resumedAt = 0;
    const watch = (async () => {
      while (!resumedAt && Date.now() - killedAt < 120_000) {
        const r = await http(query.url, 'GET', '/v1/entries?from=0&limit=1', undefined, read.headers);
        if ((r.json?.size ?? 0) > sizeAtKill + 25) resumedAt = Date.now();
        else await sleep(100);
      }
    })();
    await streaming;
    await watch;
    // For the report: how long the log stood still.
    console.log(`failover: appends resumed ${resumedAt - killedAt} ms after kill -9 of the writer`);

    const total = boot.length + orgs.length * 150;
    expect(receipts.size).toBe(orgs.length * 150);
    for (const o of orgs) {
      const head = await http(query.url, 'GET', `/v1/chains/${o.org}/main/head`);
      expect(head.json.seq).toBe(o.seq);
    }
    const entries: { index: number; eventHash: string }[] = [];
    for (let from = 0; from < total + 1; from += 1000) {
      const page = await http(
        query.url,
        'GET',
        `/v1/entries?from=${from}&limit=1000`,
        undefined,
        read.headers,
      );
      entries.push(...page.json.entries);
    }
    // No gap, no duplicate: exactly the events sent, once each.
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(new Set(entries.map((e) => e.eventHash)).size).toBe(total);
    for (const [hash, r] of receipts) expect(entries[r.index]!.eventHash, hash).toBe(hash);
    // The standby became the writer, and the whole log verifies (one history, no fork).
    expect(b.logs().some((l) => l['msg'] === 'writing the log')).toBe(true);
    // SIGTERM: the new writer finishes its batch, releases the lease and exits 0.
    expect(await b.stop()).toBe(0);
    expect(b.logs().some((l) => l['msg'] === 'stopped writing')).toBe(true);
    const v = await verifyThroughQuery(d, query.url, read.file);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 240_000);
});
