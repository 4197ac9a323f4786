// Distributed mode: events/s end to end (HTTP batches to ingest -> Kafka -> sequencer ->
// MongoDB-wire commit), against two raw rates measured in the same run on the same servers:
// Kafka produce-and-consume of the same messages (kafkajs, acks=all, one consumer group) and
// insertMany of documents shaped like the stored leaves (write concern majority + journal).
// The MongoDB-wire server of infra/local is FerretDB 1.24 on SQLite: its figures are
// FerretDB's, not MongoDB's. Needs infra/local running (`infra/local/up`) and its env file.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeSubmission } from '@civic-ledger/events';
import { submissionMessage } from '@civic-ledger/pipeline';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { Kafka, logLevel } from 'kafkajs';
import { Binary, MongoClient } from 'mongodb';
import { deployment, waitReady, type Brokers } from '../distributed/support.ts';
import { chainEvents } from './chain-events.ts';
import { AGENCY, agencyKey, benchBootstrapEvents, benchOperatorKey } from './ledger-fixture.ts';
import { cpuOfPid, fmt, pct, type Figure } from './lib.ts';

const N = Number(process.env['BENCH_DISTRIBUTED_EVENTS'] ?? 10_000);
const PARTITIONS = 6;
const HTTP_WORKERS = 8;
const HTTP_BATCH = 100;

// Where the CPU goes: each process's user+system time (Linux /proc, clock ticks of 10 ms)
// over a run, per event. On a machine with few cores the sum bounds the end-to-end rate, so
// the figures say which stage to work on (and what rate the cores allow at all).
const INFRA_RUN =
  process.env['CIVIC_LEDGER_INFRA_RUN'] ?? fileURLToPath(new URL('../../infra/local/.run/', import.meta.url));

/** The infra/local servers' pids (those running). */
function infraPids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const svc of ['kafka', 'ferretdb', 'nats']) {
    const f = `${INFRA_RUN}/${svc}/pid`;
    if (existsSync(f)) out[svc] = Number(readFileSync(f, 'utf8').trim());
  }
  return out;
}

type CpuSample = Record<string, number>;

/** CPU µs so far of the named processes, and of this bench process as `client`. */
function cpuSample(pids: Record<string, number>): CpuSample {
  const u = process.cpuUsage();
  const out: CpuSample = { client: u.user + u.system };
  for (const [name, pid] of Object.entries(pids)) {
    const c = cpuOfPid(pid);
    if (c !== undefined) out[name] = c;
  }
  return out;
}

/** µs of CPU per event of each process between two samples, with the total. */
function cpuPerEvent(a: CpuSample, b: CpuSample, events: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const name of Object.keys(b)) {
    if (a[name] === undefined) continue;
    out[name] = (b[name]! - a[name]!) / events;
    total += out[name];
  }
  out['total'] = total;
  return out;
}

const describeCpu = (c: Record<string, number>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');

function brokersFromEnv(): Brokers | undefined {
  const mongodb = process.env['CIVIC_LEDGER_TEST_MONGODB_URL'];
  const kafka = process.env['CIVIC_LEDGER_TEST_KAFKA_BROKERS'];
  const nats = process.env['CIVIC_LEDGER_TEST_NATS_URL'];
  return mongodb && kafka && nats ? { mongodb, kafka, nats } : undefined;
}

type Message = ReturnType<typeof submissionMessage>;

/** A rate, and the CPU µs per event each process spent on it. */
interface Rated {
  rate: number;
  cpu: Record<string, number>;
}

/** kafkajs: produce every message (acks=all), consume them all in one group; from first send to last receipt. */
async function rawKafkaRate(brokers: string, messages: Message[]): Promise<Rated> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const consumer = kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const m of batch.messages) {
        got++;
        resolveOffset(m.offset);
      }
      await commitOffsetsIfNecessary();
      if (got >= messages.length) done();
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  const pids = infraPids();
  const cpu0 = cpuSample(pids);
  const start = performance.now();
  for (let i = 0; i < messages.length; i += 500) {
    await producer.send({
      topic,
      acks: -1,
      messages: messages
        .slice(i, i + 500)
        .map((m) => ({ key: m.key, value: Buffer.from(m.data), headers: m.headers })),
    });
  }
  await all;
  const rate = messages.length / ((performance.now() - start) / 1000);
  const cpu = cpuPerEvent(cpu0, cpuSample(pids), messages.length);
  await producer.disconnect();
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { rate, cpu };
}

/** insertMany of leaf-shaped documents (bytes, event hash, chain, seq; the same indexes as the store). */
async function rawInsertRate(url: string, messages: Message[]): Promise<Rated> {
  const client = new MongoClient(url);
  await client.connect();
  const db = client.db(`bench_raw_${randomUUID().slice(0, 8)}`);
  const col = db.collection('leaves');
  await col.createIndex({ h: 1 }, { unique: true });
  await col.createIndex({ c: 1, s: 1 }, { unique: true });
  const docs = messages.map((m, i) => ({
    _id: i,
    l: new Binary(m.data),
    h: m.headers['event-hash']!,
    c: m.key,
    s: i,
  }));
  const pids = infraPids();
  const cpu0 = cpuSample(pids);
  const start = performance.now();
  for (let i = 0; i < docs.length; i += 1000) {
    await col.insertMany(docs.slice(i, i + 1000) as never[], {
      writeConcern: { w: 'majority', journal: true },
    });
  }
  const rate = docs.length / ((performance.now() - start) / 1000);
  const cpu = cpuPerEvent(cpu0, cpuSample(pids), docs.length);
  await db.dropDatabase();
  await client.close();
  return { rate, cpu };
}

/** HTTP batches to ingest, from the first send until the store's head holds every event. */
async function distributedRate(b: Brokers, events: ReturnType<typeof chainEvents>): Promise<Rated> {
  const d = deployment(b, benchOperatorKey, {
    CIVIC_LEDGER_LOG_LEVEL: process.env['BENCH_DEBUG'] ? 'debug' : 'warn',
    CIVIC_LEDGER_SUBMISSION_PARTITIONS: String(PARTITIONS),
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '1000',
    CIVIC_LEDGER_DEPENDENCY_WAIT_MS: '30000',
    ...(process.env['BENCH_PROFILE_DIR']
      ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}` }
      : {}),
  });
  const store = await MongoStore.connect(b.mongodb, d.database);
  try {
    const sequencer = await d.start('sequencer');
    await waitReady(sequencer, (s, body) => s === 200 && body.status === 'writer');
    const ingest = await d.start('ingest');
    await waitReady(ingest);
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${ingest.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status >= 300) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
      return r.json();
    };
    const boot = benchBootstrapEvents();
    await post('/v1/events/batch?wait=30000', { events: boot });
    while ((await store.head()).size < boot.length) await new Promise((r) => setTimeout(r, 100));
    // As a city's systems emit them: in generation order, each batch sent once the one
    // before it is on the bus (an event names inputs the agency submitted before it), with
    // the agency's streams split over HTTP_WORKERS connections that each keep that order.
    const start = performance.now();
    const pids = { ...infraPids(), ingest: ingest.child.pid!, sequencer: sequencer.child.pid! };
    const cpu0 = cpuSample(pids);
    const WINDOW = HTTP_WORKERS * HTTP_BATCH;
    for (let w0 = 0; w0 < events.length; w0 += WINDOW) {
      const window = events.slice(w0, w0 + WINDOW);
      for (let i = 0; i < window.length; i += HTTP_BATCH) {
        await post('/v1/events/batch', { events: window.slice(i, i + HTTP_BATCH) });
      }
    }
    const target = boot.length + events.length;
    let last = 0;
    let lastMoved = performance.now();
    for (;;) {
      const size = (await store.head()).size;
      if (size >= target) break;
      if (size > last) [last, lastMoved] = [size, performance.now()];
      // A refused event would leave the log short for ever: say so instead of hanging.
      if (performance.now() - lastMoved > 60_000)
        throw new Error(`the log stopped at ${size} of ${target} entries`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rate = events.length / ((performance.now() - start) / 1000);
    const cpu = cpuPerEvent(cpu0, cpuSample(pids), events.length);
    if (process.env['BENCH_DEBUG']) {
      const batches = sequencer.logs().filter((l) => l['msg'] === 'batch') as unknown as Record<
        string,
        number
      >[];
      const sum = (k: string) => batches.reduce((n, b) => n + (b[k] ?? 0), 0);
      process.stderr.write(
        `sequencer: ${batches.length} batches, ${sum('messages')} messages, ${sum('appended')} appended, ` +
          `${sum('duplicates')} duplicates, ${sum('requeued')} requeued, ${sum('deadLettered')} dead-lettered, ` +
          `${sum('ms')} ms in handlers; requeued for ${JSON.stringify(batches.map((b) => b['requeuedFor']))}\n`,
      );
    }
    return { rate, cpu };
  } finally {
    await store.close();
    // SIGTERM first: the services shut down in order (and write their CPU profiles, if asked).
    await Promise.all(d.started.map((p) => p.stop()));
    await d.cleanup();
  }
}

export async function run(): Promise<Figure[]> {
  const b = brokersFromEnv();
  if (!b) {
    return [
      {
        suite: 'distributed',
        metric: 'not run',
        value: 'no servers: run infra/local/up, then set -a; . infra/local/.run/env; set +a',
        baseline: '',
        ratio: '',
        target: '',
        met: undefined,
      },
    ];
  }
  const events = chainEvents(N, { emitter: AGENCY, key: agencyKey, streams: 16 });
  const messages = events.map((e) => submissionMessage(decodeSubmission(e), 'kafka'));
  const rawKafka = await rawKafkaRate(b.kafka, messages);
  const rawInsert = await rawInsertRate(b.mongodb, messages);
  const run = await distributedRate(b, events);
  const [kafka, insert, e2e] = [rawKafka.rate, rawInsert.rate, run.rate];
  const slower = Math.min(kafka, insert);
  const figures: Figure[] = [
    {
      suite: 'distributed',
      metric: `raw Kafka produce+consume, ${fmt(N)} messages (events/s)`,
      value: fmt(kafka),
      baseline: '',
      ratio: '',
      target: '',
      met: undefined,
    },
    {
      suite: 'distributed',
      metric: `raw insertMany on FerretDB 1.24 (not MongoDB), ${fmt(N)} leaf documents (docs/s)`,
      value: fmt(insert),
      baseline: '',
      ratio: '',
      target: '',
      met: undefined,
    },
    {
      suite: 'distributed',
      metric: `end to end: HTTP batches of ${HTTP_BATCH} -> ingest -> Kafka -> sequencer -> FerretDB (events/s)`,
      value: fmt(e2e),
      baseline: `${fmt(slower)} (slower raw rate: ${kafka < insert ? 'Kafka' : 'FerretDB insertMany'})`,
      ratio: pct(e2e, slower),
      target: '>= 50 %',
      met: e2e >= 0.5 * slower,
    },
    {
      suite: 'distributed',
      metric: 'CPU µs per event by process, end to end (client = the bench process sending HTTP)',
      value: describeCpu(run.cpu),
      baseline: `raw Kafka: ${describeCpu(rawKafka.cpu)}; raw insertMany: ${describeCpu(rawInsert.cpu)}`,
      ratio: `${fmt((availableParallelism() * 1e6) / run.cpu['total']!)} events/s if ${availableParallelism()} cores were all busy`,
      target: '',
      met: undefined,
    },
  ];
  return figures;
}
