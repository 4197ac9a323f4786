// Kafka throughput: raw kafkajs (the baseline, same run, same broker) against KafkaBus.
// N messages of 1 KiB over 100 keys into fresh 3-partition topics; R rounds, raw and bus
// alternating in each, then the median of each figure and of the same-round ratios.
//   CIVIC_LEDGER_TEST_KAFKA_BROKERS=127.0.0.1:9092 node scripts/bootstrap.mjs exec node packages/bus-kafka/scripts/bench.ts [N] [R]
import { randomUUID } from 'node:crypto';
import kafkajs, { type Message } from 'kafkajs';
import { ensureTopics, KafkaBus } from '../src/index.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;

const n = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const single = Math.min(n, 2000); // one-at-a-time publishes are slow: fewer of them
const brokers = (process.env.CIVIC_LEDGER_TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const value = Buffer.alloc(1024, 0x61);
const keyOf = (i: number) => `agency-${i % 100}/stream`;
const topic = (what: string) => `bench.${what}.${randomUUID().slice(0, 8)}`;
const figures = new Map<string, number[]>();

async function measure(label: string, count: number, f: () => Promise<number | void>): Promise<number> {
  const start = performance.now();
  const from = await f(); // a consumer returns when its first message came: join time excluded
  const rate = (count / (performance.now() - (from ?? start))) * 1000;
  figures.set(label, [...(figures.get(label) ?? []), rate]);
  console.log(`  ${label.padEnd(62)} ${String(Math.round(rate)).padStart(7)} msg/s`);
  return rate;
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
}

const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
// As the bus configures its producer: idempotent, so acks=-1 and unbounded retries.
const producer = kafka.producer({
  idempotent: true,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER },
});
await producer.connect();
const bus = await KafkaBus.connect({ brokers, clientId: 'bench-bus' });

const L = {
  rawBatch: 'raw kafkajs send, acks=-1, idempotent, 500 per request',
  busBurst: 'KafkaBus publish, 1000 outstanding',
  rawOne: 'raw kafkajs send, acks=-1, idempotent, one awaited at a time',
  busOne: 'KafkaBus publish, one awaited at a time',
  rawConsume: 'raw kafkajs eachBatch (auto commit), first to last message',
  busBatch: 'KafkaBus subscribeBatch, maxMessages 500, first to last',
  busOneByOne: 'KafkaBus subscribe (a handler call per message), first to last',
};

const created: string[] = [];

async function round(): Promise<void> {
  const [t1, t2, t3, t4] = [topic('raw'), topic('bus'), topic('raw-one'), topic('bus-one')];
  await ensureTopics(brokers, [t1, t2, t3, t4], { partitions: 3 });
  created.push(t1, t2, t3, t4);
  await measure(L.rawBatch, n, async () => {
    for (let i = 0; i < n; i += 500) {
      const messages: Message[] = [];
      for (let j = i; j < Math.min(n, i + 500); j++) messages.push({ key: keyOf(j), value });
      await producer.send({ topic: t1, acks: -1, messages });
    }
  });
  await measure(L.busBurst, n, async () => {
    for (let i = 0; i < n; i += 1000) {
      const w: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) w.push(bus.publish(t2, value, { key: keyOf(j) }));
      await Promise.all(w);
    }
  });
  await measure(L.rawOne, single, async () => {
    for (let i = 0; i < single; i++)
      await producer.send({ topic: t3, acks: -1, messages: [{ key: keyOf(i), value }] });
  });
  await measure(L.busOne, single, async () => {
    for (let i = 0; i < single; i++) await bus.publish(t4, value, { key: keyOf(i) });
  });
  // Every consumer reads t1 from the start, each in a group of its own.
  await measure(L.rawConsume, n, async () => {
    const consumer = kafka.consumer({ groupId: `${t1}/raw`, maxWaitTimeInMs: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topics: [t1], fromBeginning: true });
    let got = 0;
    let first = 0;
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        first ||= performance.now();
        got += batch.messages.length;
      },
    });
    await until(() => got >= n);
    await consumer.disconnect();
    return first;
  });
  for (const [label, batch] of [
    [L.busBatch, true],
    [L.busOneByOne, false],
  ] as const)
    await measure(label, n, async () => {
      let got = 0;
      let first = 0;
      const handle = async (count: number) => {
        first ||= performance.now();
        got += count;
      };
      const sub = batch
        ? await bus.subscribeBatch(t1, (ms) => handle(ms.length), { group: 'batch', maxMessages: 500 })
        : await bus.subscribe(t1, () => handle(1), { group: 'one' });
      await until(() => got >= n);
      await sub.close();
      return first;
    });
}

console.log(`${n} messages of 1 KiB, 100 keys, 3 partitions, broker ${brokers.join(',')}, ${rounds} rounds`);
for (let r = 1; r <= rounds; r++) {
  console.log(`round ${r}`);
  await round();
}
await bus.close();
await producer.disconnect();
const admin = kafka.admin();
await admin.connect();
// Its topics and the dead-letter topics the bus's subscriptions created.
await admin.deleteTopics({
  topics: (await admin.listTopics()).filter((t) => created.some((c) => t === c || t === `${c}.dead-letter`)),
});
await admin.disconnect();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (k: keyof typeof L) => figures.get(L[k])!;
console.log('\nmedian msg/s (min-max)');
for (const label of Object.values(L)) {
  const xs = figures.get(label)!;
  console.log(
    `  ${label.padEnd(62)} ${String(Math.round(median(xs))).padStart(7)} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))})`,
  );
}
const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!)).toFixed(2);
console.log('\nmedian same-round ratios');
console.log(`  bus publish burst / raw batched send    ${ratio(f('busBurst'), f('rawBatch'))}`);
console.log(`  bus publish awaited / raw awaited send  ${ratio(f('busOne'), f('rawOne'))}`);
console.log(`  bus subscribeBatch / raw eachBatch      ${ratio(f('busBatch'), f('rawConsume'))}`);
console.log(`  bus subscribe / raw eachBatch           ${ratio(f('busOneByOne'), f('rawConsume'))}`);
