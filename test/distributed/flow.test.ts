// Distributed mode end to end, on real servers and real processes: events submitted over
// HTTP to ingest, produced straight to Kafka by a plain kafkajs producer (as an agency's own
// system would), and published on NATS JetStream by an edge device all land in the
// MongoDB-backed log in chain order, and `civic-ledger verify` against the query service passes.
import { join } from 'node:path';
import { cli } from '@civic-ledger/cli/harness';
import { bootstrapEvents, TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, datasetId, http, sleep, sourceId } from '../standalone/support.ts';
import {
  deployment,
  findBrokers,
  type Deployment,
  type ServiceProcess,
  verifyThroughQuery,
  waitReady,
} from './support.ts';

const brokers = await findBrokers();

const resources = (orgs: string[]) =>
  orgs.flatMap((o) => [
    { kind: 'source' as const, id: sourceId(o) },
    { kind: 'dataset' as const, id: datasetId(o) },
  ]);

/** Polls the query service until the chain's head reaches `seq`. */
async function waitForHead(query: string, org: string, seq: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < until) {
    const r = await http(query, 'GET', `/v1/chains/${org}/main/head`);
    if (r.status === 200) last = r.json.seq;
    if (last >= seq) return;
    await sleep(200);
  }
  throw new Error(`chain ${org}/main reached seq ${last}, not ${seq}, within ${timeoutMs} ms`);
}

describe.skipIf(!brokers)('distributed mode on Kafka, NATS JetStream and MongoDB (real processes)', () => {
  let d: Deployment;
  let ingest: ServiceProcess;
  let sequencer: ServiceProcess;
  let query: ServiceProcess;
  const operator = new TestEmitter('ledger');
  const viaHttp = new TestEmitter('transport-agency');
  const viaKafka = new TestEmitter('parking-agency');
  const viaNats = new TestEmitter('air-sensors');

  beforeAll(async () => {
    d = deployment(brokers!, operator.verifierKey);
    sequencer = await d.start('sequencer');
    await waitReady(sequencer, (s, b) => s === 200 && b.status === 'writer');
    [ingest, query] = await Promise.all([d.start('ingest'), d.start('query')]);
    await Promise.all([waitReady(ingest), waitReady(query)]);
  }, 120_000);

  afterAll(async () => {
    await d?.cleanup();
  });

  it('lands HTTP, Kafka-producer and NATS submissions in chain order; verify against query passes', async () => {
    const orgs = [viaHttp, viaKafka, viaNats];
    const boot = bootstrapEvents(operator, orgs, {}, resources(orgs.map((o) => o.org)));
    // Registrations one by one through ingest, each waited for: 201 with a signed receipt.
    for (const e of boot) {
      const r = await http(ingest.url, 'POST', '/v1/events?wait=20000', e);
      expect(r.status, r.text).toBe(201);
      expect(r.json.receipt.eventHash).toBe(e.hash);
    }
    const N = 40;
    const make = (o: TestEmitter): TestSubmission[] =>
      Array.from({ length: N }, (_, i) => o.next(collect(o.org, i)));
    const [httpEvents, kafkaEvents, natsEvents] = [make(viaHttp), make(viaKafka), make(viaNats)];

    // 1. HTTP batch to ingest: 202-style pending answers, then waited receipts.
    const batch = await http(ingest.url, 'POST', '/v1/events/batch?wait=30000', { events: httpEvents });
    expect(batch.status, batch.text).toBe(200);
    expect(
      batch.json.results.map((x: { ok: boolean; receipt?: { eventHash: string } }) => x.receipt?.eventHash),
    ).toEqual(httpEvents.map((e) => e.hash));

    // 2. An agency's own Kafka producer: plain JSON of the wire form, keyed by chain.
    const kafka = new Kafka({
      clientId: 'parking-agency-system',
      brokers: [brokers!.kafka],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: `${d.namespace}.civic-ledger.submissions`,
      acks: -1,
      messages: kafkaEvents.map((e) => ({ key: `${viaKafka.org}/main`, value: JSON.stringify(e) })),
    });
    await producer.disconnect();

    // 3. An edge device on NATS JetStream.
    const nc = await connect({ servers: brokers!.nats });
    const js = jetstream(nc);
    for (const e of natsEvents)
      await js.publish(`${d.namespace}.civic-ledger.edge.submissions`, JSON.stringify(e));
    await nc.drain();

    for (const o of orgs) await waitForHead(query.url, o.org, o.seq);
    // Entries need a read token (the query service's default): the transport agency's.
    const read = await d.reader(viaHttp.org);
    const total = boot.length + 3 * N;
    // The query service follows the store's head a moment behind (StoreLogView refresh).
    let page = await http(query.url, 'GET', `/v1/entries?from=0&limit=1000`, undefined, read.headers);
    for (let t = 0; t < 50 && page.json.entries.length < total; t++) {
      await sleep(100);
      page = await http(query.url, 'GET', `/v1/entries?from=0&limit=1000`, undefined, read.headers);
    }
    expect(page.json.entries).toHaveLength(total);
    // Each chain's events sit in the log in seq order.
    for (const [o, events] of [
      [viaHttp, httpEvents],
      [viaKafka, kafkaEvents],
      [viaNats, natsEvents],
    ] as const) {
      const indexes = await Promise.all(
        events.map(
          async (e) =>
            (await http(query.url, 'GET', `/v1/events/${e.hash}`, undefined, read.headers)).json
              .index as number,
        ),
      );
      expect(indexes, o.org).toEqual([...indexes].sort((a, b) => a - b));
    }

    // The independent verifier, pinned to the log key, against the query service.
    const v = await verifyThroughQuery(d, query.url, read.file);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^OK: ${total} entries`));
  }, 180_000);

  it('serves lineage from MongoDB: a partial bundle of an answer verifies offline with the pinned key', async () => {
    const out = join(d.dir, 'lineage-bundle');
    const r = await cli([
      'lineage',
      'bundle',
      '--url',
      query.url,
      '--token',
      (await d.reader(viaHttp.org)).file,
      '--log-key',
      d.logVerifierKey,
      '--origin',
      d.origin,
      '--dataset',
      datasetId(viaHttp.org),
      '--direction',
      'upstream',
      '--out',
      out,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const v = await cli([
      'verify',
      '--bundle',
      out,
      '--log-key',
      d.logVerifierKey,
      '--origin',
      d.origin,
      '--no-save',
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 60_000);

  it('answers 202 at once with a submission id, and the receipt can be polled', async () => {
    const e = viaHttp.next(collect(viaHttp.org, 99));
    const r = await http(ingest.url, 'POST', '/v1/events', e);
    expect(r.status, r.text).toBe(202);
    expect(r.json).toEqual({
      submissionId: e.hash,
      status: 'pending',
      statusUrl: `/v1/submissions/${e.hash}`,
    });
    const polled = await http(ingest.url, 'GET', `/v1/submissions/${e.hash}?wait=20000`);
    expect(polled.status, polled.text).toBe(200);
    expect(polled.json).toMatchObject({ submissionId: e.hash, status: 'appended', duplicate: false });
    // A refused one is polled with its error in the HTTP contract's shape.
    const forged = viaHttp.peek(collect(viaHttp.org, 100), { seq: viaHttp.seq + 5 });
    const refused = await http(ingest.url, 'POST', '/v1/events?wait=20000', forged);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.code).toBe('CHAIN_GAP');
  }, 60_000);

  it("dead-letters what an agency's producer sends that is not an event, with the reason, and goes on", async () => {
    const kafka = new Kafka({
      clientId: 'sloppy-system',
      brokers: [brokers!.kafka],
      logLevel: logLevel.NOTHING,
    });
    const topic = `${d.namespace}.civic-ledger.submissions`;
    const dead: { value: string; reason: string }[] = [];
    const consumer = kafka.consumer({ groupId: `${d.namespace}-dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dead-letter`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        dead.push({
          value: String(message.value),
          reason: String(message.headers?.['dead-letter-reason'] ?? ''),
        });
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    const good = viaKafka.next(collect(viaKafka.org, 500));
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'parking-agency/main', value: 'not json at all' },
        { key: 'parking-agency/main', value: JSON.stringify({ event: { v: 1 }, signature: 'x' }) },
        { key: 'parking-agency/main', value: JSON.stringify(good) },
      ],
    });
    await producer.disconnect();
    await waitForHead(query.url, viaKafka.org, viaKafka.seq);
    const bad = JSON.stringify({ event: { v: 1 }, signature: 'x' });
    const find = (v: string) => dead.find((x) => x.value === v);
    for (let t = 0; t < 100 && !(find('not json at all') && find(bad)); t++) await sleep(100);
    await consumer.disconnect();
    // (The topic also holds the chain-gap refusal of the test before.)
    expect(find('not json at all')?.reason).toMatch(/^INVALID_JSON: /);
    expect(find(bad)?.reason).toMatch(/^SCHEMA_INVALID: /);
  }, 60_000);

  it('a service with a wrong environment exits 1 naming the variable and the rule', async () => {
    const p = await d.start('ingest', { CIVIC_LEDGER_KAFKA_BROKERS: 'not a broker list' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr()).toMatch(/CIVIC_LEDGER_KAFKA_BROKERS: host:port/);
  });

  it('refuses a bad body at ingest with the standalone error contract (400, field and rule)', async () => {
    const e = viaHttp.peek(collect(viaHttp.org, 1));
    const bad = { ...e, event: { ...e.event, seq: -1 } };
    const r = await http(ingest.url, 'POST', '/v1/events', bad);
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('SCHEMA_INVALID');
    expect(JSON.stringify(r.json.details)).toContain('/event/seq');
  });
});
