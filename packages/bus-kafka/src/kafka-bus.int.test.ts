// The bus contract and Kafka's own promises, against a real broker (Kafka 4.1.2 KRaft from
// infra/local/up; CIVIC_LEDGER_TEST_KAFKA_BROKERS).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { Delivery } from '@civic-ledger/bus';
import { describeBusContract } from '@civic-ledger/bus/contract';
import { findService } from '@civic-ledger/test-services';
import kafkajs, { type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, isKafkaReachable, KafkaBus, KafkaBusError, type KafkaBusOptions } from './index.ts';

const { Kafka, logLevel } = kafkajs;

const brokers = (await findService('kafka'))?.split(',');

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const subject = (what: string) => `kafka-bus.${what}.${randomUUID().slice(0, 8)}`;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !done(); await settle(20))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

/** The API version ranges the broker accepts (ApiVersions v0, answered by every broker). */
async function brokerApiVersions(broker: string): Promise<Map<number, [number, number]>> {
  const [host, port] = [
    broker.slice(0, broker.lastIndexOf(':')),
    Number(broker.slice(broker.lastIndexOf(':') + 1)),
  ];
  const clientId = Buffer.from('kip-896-probe');
  const req = Buffer.alloc(14 + clientId.length);
  req.writeInt32BE(10 + clientId.length, 0);
  req.writeInt16BE(18, 4); // ApiVersions
  req.writeInt16BE(0, 6); // v0
  req.writeInt32BE(1, 8); // correlation id
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  const res = await new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    const socket = connect(port, host, () => socket.write(req));
    socket.on('error', reject);
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        socket.end();
        resolve(got);
      }
    });
  });
  expect(res.readInt16BE(8)).toBe(0); // error code
  const versions = new Map<number, [number, number]>();
  for (let i = 0, o = 14; i < res.readInt32BE(10); i++, o += 6)
    versions.set(res.readInt16BE(o), [res.readInt16BE(o + 2), res.readInt16BE(o + 4)]);
  return versions;
}

describe.skipIf(brokers === undefined)('KafkaBus on a real broker', { timeout: 60_000 }, () => {
  const options = (clientId: string): KafkaBusOptions => ({ brokers: brokers!, clientId });

  describeBusContract('kafka', {
    open: () => KafkaBus.connect(options('contract')),
    timeoutMs: 20_000,
    subjectPrefix: 'contract',
  });

  let bus: KafkaBus;
  let admin: Admin;
  let before: Set<string>;
  beforeAll(async () => {
    bus = await KafkaBus.connect(options('kafka-tests'));
    admin = new Kafka({
      brokers: brokers!,
      clientId: 'kafka-tests-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    before = new Set(await admin.listTopics());
  });
  afterAll(async () => {
    await bus?.close();
    // Every test uses fresh topics: drop the ones this run created, or the broker's data
    // folder grows by some 60 partitions per run.
    const mine = (await admin.listTopics()).filter(
      (t) => !before.has(t) && (t.startsWith('contract.') || t.startsWith('kafka-bus.')),
    );
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('speaks a protocol version the Kafka 4 broker still accepts for every API it uses (KIP-896)', async () => {
    // kafkajs takes min(its newest version, the broker's newest) and never looks at the
    // broker's oldest; KIP-896 raised those oldest versions in Kafka 4.0.
    const require = createRequire(import.meta.url);
    const { requests } = require('kafkajs/src/protocol/requests/index.js') as {
      requests: Record<string, { versions: string[] }>;
    };
    const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
    const used = [
      'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'GroupCoordinator',
      'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ApiVersions',
      'CreateTopics', 'InitProducerId', 'DescribeConfigs', 'DeleteGroups',
    ]; // prettier-ignore
    const broker = await brokerApiVersions(brokers![0]!);
    const refused: string[] = [];
    for (const api of used) {
      const range = broker.get(apiKeys[api]!);
      const chosen = Math.min(Math.max(...requests[api]!.versions.map(Number)), range?.[1] ?? -1);
      if (range === undefined || chosen < range[0])
        refused.push(`${api} v${chosen} (broker ${range?.join('-')})`);
    }
    expect(refused).toEqual([]);
  });

  it('starts a new group at the earliest offset and a fan-out subscriber at the end', async () => {
    const s = subject('start');
    await bus.publish(s, text('before'));
    const fan: string[] = [];
    const group: string[] = [];
    await bus.subscribe(s, async (m) => void fan.push(str(m.data)));
    await bus.subscribe(s, async (m) => void group.push(str(m.data)), { group: 'late-workers' });
    await bus.publish(s, text('after'));
    await until('both', () => fan.length >= 1 && group.length >= 2);
    await settle(100);
    expect(fan).toEqual(['after']);
    expect(group.sort()).toEqual(['after', 'before']);
  });

  it('commits an offset only once its handler resolved: what a stopped member did not finish goes to the next', async () => {
    const s = subject('commit');
    const first = await KafkaBus.connect(options('kafka-tests-first'));
    for (const m of ['m1', 'm2', 'm3']) await first.publish(s, text(m), { key: 'chain' });
    let fail!: () => void;
    const failing = new Promise<void>((r) => (fail = r));
    const seen: string[] = [];
    await first.subscribe(
      s,
      async (m) => {
        seen.push(str(m.data));
        if (str(m.data) === 'm2') {
          await failing;
          throw new Error('store went away');
        }
      },
      { group: 'g' },
    );
    await until('m2 in its handler', () => seen.includes('m2'));
    const closing = first.close();
    fail(); // the handler fails while the bus closes: no retry, no commit
    await closing;
    expect(seen).toEqual(['m1', 'm2']);
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: `${s}/g`, topics: [s] }))[0]!.partitions
        .map((p) => Number(p.offset))
        .filter((o) => o >= 0);
    expect(await committed()).toEqual([1]); // m1 only

    // The next member gets m2 again (a first attempt in this process), then m3, not m1.
    const second = await KafkaBus.connect(options('kafka-tests-second'));
    try {
      let finish!: () => void;
      const finishing = new Promise<void>((r) => (finish = r));
      const got: Delivery[] = [];
      await second.subscribe(
        s,
        async (m) => {
          got.push(m);
          if (str(m.data) === 'm3') await finishing;
        },
        { group: 'g' },
      );
      await until('m3 in its handler', () => got.length >= 2);
      expect(got.map((m) => [str(m.data), m.attempt])).toEqual([
        ['m2', 1],
        ['m3', 1],
      ]);
      // A handler that resolves while its bus closes is acknowledged.
      const closing2 = second.close();
      await settle(50);
      finish();
      await closing2;
      expect(await committed()).toEqual([3]);
    } finally {
      await second.close();
    }
  });

  it('puts the messages of one key in one partition, in publish order', async () => {
    const s = subject('keys');
    await ensureTopics(brokers!, [s], { partitions: 3 });
    const high = async () =>
      (await admin.fetchTopicOffsets(s)).map((p) => [p.partition, Number(p.high)] as const);
    const keys = Array.from({ length: 8 }, (_, i) => `agency-${i}/stream`);
    const partitionOf = new Map<string, number>();
    for (const key of keys) {
      const before = new Map(await high());
      await Promise.all(Array.from({ length: 25 }, (_, i) => bus.publish(s, text(`${key}#${i}`), { key })));
      const grown = (await high()).filter(([p, h]) => h !== before.get(p));
      expect(grown.map(([p, h]) => h - before.get(p)!)).toEqual([25]);
      partitionOf.set(key, grown[0]![0]);
    }
    expect(new Set(partitionOf.values()).size).toBeGreaterThan(1); // keys spread over partitions

    const got: string[] = [];
    const sub = await bus.subscribeBatch(s, async (ms) => void got.push(...ms.map((m) => str(m.data))), {
      group: 'readers',
      maxMessages: 7,
    });
    await until('200 messages', () => got.length >= 200);
    await sub.close();
    expect(got.length).toBe(200);
    for (const key of keys)
      expect(got.filter((m) => m.startsWith(`${key}#`))).toEqual(
        Array.from({ length: 25 }, (_, i) => `${key}#${i}`),
      );
  });

  it('refuses a message bigger than the broker allows with MESSAGE_TOO_LARGE, and keeps publishing', async () => {
    const s = subject('large');
    const big = new Uint8Array(2 * 1024 * 1024);
    const error = await bus.publish(s, big, { key: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaBusError);
    expect((error as KafkaBusError).code).toBe('MESSAGE_TOO_LARGE');
    expect((error as KafkaBusError).message).toMatch(
      /2097152 bytes to kafka-bus\.large\.\w+: larger than its limit of \d+ bytes/,
    );
    // The idempotent producer's sequence is intact: the next message on that partition goes through.
    await bus.publish(s, text('small'), { key: 'k' });
    const got: string[] = [];
    await bus.subscribe(s, async (m) => void got.push(str(m.data)), { group: 'g' });
    await until('the small one', () => got.length >= 1);
    expect(got).toEqual(['small']);
  });

  it('hands partitions over on a rebalance without losing or repeating a message', async () => {
    const s = subject('rebalance');
    // Frequent heartbeats: the busy member notices the rebalance within a chunk or two.
    const one = await KafkaBus.connect({ ...options('kafka-tests-one'), heartbeatIntervalMs: 100 });
    const two = await KafkaBus.connect({ ...options('kafka-tests-two'), heartbeatIntervalMs: 100 });
    try {
      const handled: { who: string; m: string }[] = [];
      const member = (who: string) => async (ms: readonly Delivery[]) => {
        await settle(30); // slow enough that the second member joins mid-stream
        for (const m of ms) handled.push({ who, m: str(m.data) });
      };
      await one.subscribeBatch(s, member('one'), { group: 'g', maxMessages: 3 });
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => one.publish(s, text(`${i % 6}:${i}`), { key: String(i % 6) })),
      );
      await until('one started', () => handled.length >= 15);
      await two.subscribeBatch(s, member('two'), { group: 'g', maxMessages: 3 });
      await until('all 300', () => handled.length >= 300);
      await settle(300);
      const all = handled.map((h) => h.m);
      expect(all.length).toBe(300);
      expect(new Set(all).size).toBe(300);
      expect(handled.some((h) => h.who === 'two')).toBe(true);
      for (let k = 0; k < 6; k++) {
        const seq = all.filter((m) => m.startsWith(`${k}:`)).map((m) => Number(m.split(':')[1]));
        expect(seq).toEqual([...seq].sort((x, y) => x - y));
      }
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('answers readiness probes: true while the broker answers, false for a closed port or a closed bus', async () => {
    expect(await bus.ready()).toBe(true);
    expect(await isKafkaReachable(brokers!)).toBe(true);
    const t = Date.now();
    expect(await isKafkaReachable(['127.0.0.1:1'], { timeoutMs: 1000 })).toBe(false);
    expect(Date.now() - t).toBeLessThan(3000);
    const closed = await KafkaBus.connect(options('kafka-tests-closed'));
    await closed.close();
    expect(await closed.ready()).toBe(false);
    await expect(closed.publish('x', text('y'))).rejects.toMatchObject({ code: 'BUS_CLOSED' });
  });
});
