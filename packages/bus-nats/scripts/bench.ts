// Throughput on a real server: raw JetStream (nats.js v3, async acks, pull consume) against
// the same through NatsBus (publish, subscribeBatch), N messages of ~1 KiB each, so the
// adapter's cost is a ratio to the client's own. Streams are made and deleted here.
//   CIVIC_LEDGER_TEST_NATS_URL=nats://127.0.0.1:4222 node scripts/bootstrap.mjs exec node packages/bus-nats/scripts/bench.ts [N] [runs]
import { randomBytes, randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { NatsBus } from '../src/index.ts';

const url = process.env.CIVIC_LEDGER_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const N = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 3);
const SIZE = 1024;
const WINDOW = 1000; // publishes in flight
const BATCH = 500;
const payloads = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(SIZE)));
const prefix = `bench${randomUUID().slice(0, 6)}_`;

/** Runs `send(i)` for i < n with at most `window` in flight. */
async function windowed(n: number, window: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await send(next++);
    }),
  );
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function raw(run: number) {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `${prefix}raw${run}`;
  const subject = `bench.raw${run}`;
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  let t = performance.now();
  // The same two headers the bus run sends (the key and one of the caller's).
  await windowed(N, WINDOW, (i) => {
    const h = headers();
    h.set('civic-ledger-key', `emitter-${i % 50}`);
    h.set('n', String(i));
    return js.publish(subject, payloads[i % payloads.length]!, { headers: h });
  });
  const publishMs = performance.now() - t;
  await jsm.consumers.add(stream, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 4 * BATCH, // as the bus sets it for a batch group
  });
  const c = await js.consumers.get(stream, 'raw');
  t = performance.now();
  // The client's own buffering, sized like the bus's batch member (two batches ahead).
  const it = await c.consume({ max_messages: 2 * BATCH });
  let got = 0;
  for await (const m of it) {
    m.ack();
    if (++got === N) break;
  }
  const consumeMs = performance.now() - t;
  // The bus's own pattern without the bus: one fetch of BATCH at a time, ack each.
  await jsm.consumers.add(stream, {
    durable_name: 'rawfetch',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 4 * BATCH,
  });
  const f = await js.consumers.get(stream, 'rawfetch');
  t = performance.now();
  for (got = 0; got < N;) {
    for await (const m of await f.fetch({ max_messages: BATCH, expires: 5000 })) {
      m.ack();
      got++;
    }
  }
  const fetchMs = performance.now() - t;
  await jsm.streams.delete(stream);
  await nc.close();
  return { publish: rate(N, publishMs), consume: rate(N, consumeMs), fetch: rate(N, fetchMs) };
}

async function viaBus(run: number) {
  const bus = await NatsBus.connect({ servers: url, streamPrefix: prefix });
  const subject = `bench.bus${run}`;
  await bus.streamFor(subject);
  let t = performance.now();
  await windowed(N, WINDOW, (i) =>
    bus.publish(subject, payloads[i % payloads.length]!, {
      key: `emitter-${i % 50}`,
      headers: { n: String(i) },
    }),
  );
  const publishMs = performance.now() - t;
  // One at a time, each awaited: what a caller that waits for every PubAck gets.
  const serialN = Math.min(N, 2000);
  t = performance.now();
  for (let i = 0; i < serialN; i++) await bus.publish(`${subject}.serial`, payloads[0]!);
  const serialMs = performance.now() - t;

  const drain = async (subscribe: (done: () => void, count: () => void) => Promise<unknown>) => {
    let got = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      void subscribe(resolve, () => {
        if (++got === N) resolve();
      });
    });
    return performance.now() - start;
  };
  const batchMs = await drain((_, count) =>
    bus.subscribeBatch(
      subject,
      async (ms) => {
        for (let i = 0; i < ms.length; i++) count();
      },
      { group: 'batch', maxMessages: BATCH },
    ),
  );
  const singleMs = await drain((_, count) =>
    bus.subscribe(subject, async () => count(), { group: 'single' }),
  );
  await bus.close();
  return {
    publish: rate(N, publishMs),
    serial: rate(serialN, serialMs),
    batch: rate(N, batchMs),
    single: rate(N, singleMs),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: { raw: Awaited<ReturnType<typeof raw>>; bus: Awaited<ReturnType<typeof viaBus>> }[] = [];
try {
  for (let run = 0; run < RUNS; run++) rows.push({ raw: await raw(run), bus: await viaBus(run) });
} finally {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
  await nc.close();
}
const m = {
  rawPublish: median(rows.map((r) => r.raw.publish)),
  rawConsume: median(rows.map((r) => r.raw.consume)),
  rawFetch: median(rows.map((r) => r.raw.fetch)),
  busPublish: median(rows.map((r) => r.bus.publish)),
  busSerial: median(rows.map((r) => r.bus.serial)),
  busBatch: median(rows.map((r) => r.bus.batch)),
  busSingle: median(rows.map((r) => r.bus.single)),
};
const pct = (a: number, b: number) => `${Math.round((a / b) * 100)}% of raw`;
const line = (what: string, value: number, note = '') =>
  console.log(`  ${what.padEnd(58)} ${String(value).padStart(7)}  ${note}`);
console.log(`${N} messages of ${SIZE} B, ${RUNS} runs, median messages/s, server ${url}`);
line(`raw JetStream publish, ${WINDOW} async acks in flight`, m.rawPublish);
line(`NatsBus.publish, ${WINDOW} in flight`, m.busPublish, pct(m.busPublish, m.rawPublish));
line('NatsBus.publish, one at a time, each awaited', m.busSerial);
line(`raw pull consume (consume(), ${2 * BATCH} buffered, ack each)`, m.rawConsume);
line(`raw fetch loop (fetch() of ${BATCH}, one at a time, ack each)`, m.rawFetch);
line(
  `NatsBus.subscribeBatch, maxMessages ${BATCH}`,
  m.busBatch,
  `${pct(m.busBatch, m.rawConsume)} consume, ${pct(m.busBatch, m.rawFetch)} fetch`,
);
line('NatsBus.subscribe, group, one message per handler call', m.busSingle, pct(m.busSingle, m.rawConsume));
console.log(JSON.stringify({ runs: rows }));
