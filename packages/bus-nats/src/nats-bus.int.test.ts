// NatsBus against a real nats-server with JetStream: the bus contract suite unchanged, plus
// what only a broker shows: redelivery to the next member of a durable group, reconnects,
// headers on the wire, the streams the bus makes.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { describeBusContract } from '@civic-ledger/bus/contract';
import type { Delivery } from '@civic-ledger/bus';
import { findService } from '@civic-ledger/test-services';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY_HEADER, NatsBus, type NatsBusOptions } from './index.ts';

const url = await findService('nats');
// Every stream this file makes starts with it; afterAll deletes them.
const prefix = `t${randomUUID().slice(0, 8)}_`;
const errors: Error[] = [];
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const fresh = (what: string) => `nats-test.${what}.${randomUUID().slice(0, 8)}`;

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP proxy in front of the server: cutting it or stopping it takes the server away from one client only. */
function proxy(target: string) {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server = net.createServer((client) => {
          const upstream = net.connect(Number(targetPort), hostname);
          sockets.add(client).add(upstream);
          const drop = () => {
            client.destroy();
            upstream.destroy();
          };
          for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
          client.pipe(upstream).pipe(client);
        });
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          port = (server!.address() as net.AddressInfo).port;
          resolve();
        });
      }),
    cut,
    stop: () =>
      new Promise<void>((resolve) => {
        server?.close(() => resolve());
        cut();
      }),
  };
}

// Waits for deliveries go up to 10 s (the contract's timeoutMs): the test timeout is above that.
describe.skipIf(url === undefined)('NatsBus on nats-server', { timeout: 20_000 }, () => {
  const opened: NatsBus[] = [];
  const open = async (extra: Partial<NatsBusOptions> = {}) => {
    const bus = await NatsBus.connect({
      servers: url!,
      streamPrefix: prefix,
      onError: (e) => errors.push(e),
      ...extra,
    });
    opened.push(bus);
    return bus;
  };

  afterAll(async () => {
    if (process.env.BUS_NATS_DEBUG) console.log(errors.map((e) => e.message));
    await Promise.all(opened.map((b) => b.close()));
    const nc = await connect({ servers: url! });
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
    await nc.close();
  });

  describeBusContract('nats', { open: () => open(), timeoutMs: 10_000 });

  it('delivers a message whose handler never finished to the next member of the durable group', async () => {
    const s = fresh('unacked');
    const fast = { ackWaitMs: 500, closeTimeoutMs: 100 };
    const first = await open(fast);
    const seen: Delivery[] = [];
    await first.subscribe(
      s,
      (m) => {
        seen.push(m);
        return new Promise<never>(() => undefined); // a process that hangs or dies mid-work
      },
      { group: 'indexer' },
    );
    await first.publish(s, text('work'), { key: 'k1' });
    await until(() => seen.length === 1, 'the first member');
    await first.close();

    const second = await open(fast);
    const got: Delivery[] = [];
    await second.subscribe(s, async (m) => void got.push(m), { group: 'indexer' });
    await until(() => got.length === 1, 'the redelivery');
    expect(str(got[0]!.data)).toBe('work');
    expect(got[0]!.key).toBe('k1');
    expect(got[0]!.attempt).toBe(2);
    // Acknowledged this time: a third member gets nothing.
    await second.close();
    const third = await open(fast);
    const none: Delivery[] = [];
    await third.subscribe(s, async (m) => void none.push(m), { group: 'indexer' });
    await new Promise((r) => setTimeout(r, 800)); // longer than the ack wait
    expect(none).toEqual([]);
  });

  it('retries a failed batch in the member before anything after it, until it works with maxAttempts Infinity', async () => {
    const bus = await open();
    const s = fresh('infinite');
    const dead: string[] = [];
    await bus.subscribe(`${s}.dead-letter`, async (m) => void dead.push(str(m.data)));
    for (const m of ['a1', 'a2']) await bus.publish(s, text(m), { key: 'a' });
    const seen: string[][] = [];
    let failures = 0;
    await bus.subscribeBatch(
      s,
      async (ms) => {
        seen.push(ms.map((m) => `${str(m.data)}@${m.attempt}`));
        if (ms.some((m) => str(m.data) === 'a1') && failures < 6) {
          failures++;
          if (failures === 1) await bus.publish(s, text('a3'), { key: 'a' }); // arrives while a1 fails
          throw new Error('store unavailable');
        }
      },
      { group: 'sequencer', maxMessages: 10, maxAttempts: Infinity, retryDelayMs: 10 },
    );
    await until(() => seen.flat().some((m) => m.startsWith('a3')), 'a3');
    const order = seen.flat().map((m) => m.split('@')[0]);
    // a3 never overtakes the failing batch: each key stays in publish order.
    expect(order.indexOf('a3')).toBeGreaterThan(order.lastIndexOf('a1'));
    const a1 = seen.flatMap((batch) => batch.filter((m) => m.startsWith('a1@')));
    expect(a1).toEqual(['a1@1', 'a1@2', 'a1@3', 'a1@4', 'a1@5', 'a1@6', 'a1@7']);
    expect(dead).toEqual([]);
    expect(await bus.status()).toMatchObject({
      ready: true,
      connected: true,
      jetstream: true,
      version: expect.any(String),
    });
    await bus.close();
    await expect(bus.publish(s, text('late'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('gives a new group every retained message, and a fan-out subscriber only what comes after it', async () => {
    const bus = await open();
    const s = fresh('backlog');
    for (const m of ['a', 'b', 'c']) await bus.publish(s, text(m));
    const group: string[] = [];
    const fan: string[] = [];
    await bus.subscribe(s, async (m) => void group.push(str(m.data)), { group: 'late-starter' });
    await bus.subscribe(s, async (m) => void fan.push(str(m.data)));
    await bus.publish(s, text('d'));
    await until(() => group.length === 4 && fan.length === 1, 'the backlog and the new message');
    expect(group).toEqual(['a', 'b', 'c', 'd']);
    expect(fan).toEqual(['d']);
  });

  it('carries the key in the civic-ledger-key header and gives back header values NATS cannot carry raw', async () => {
    const bus = await open();
    const s = fresh('headers');
    const got: Delivery[] = [];
    await bus.subscribe(s, async (m) => void got.push(m), { group: 'g' });
    const headers = {
      reason: 'line one\r\nline two',
      padded: '  both ends  ',
      empty: '',
      'Mixed-Case': 'ü ✓',
    };
    await bus.publish(s, new Uint8Array([0, 13, 10, 255]), { key: 'transport-agency/cameras', headers });
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.key).toBe('transport-agency/cameras');
    expect(got[0]!.headers).toEqual(headers);
    expect([...got[0]!.data]).toEqual([0, 13, 10, 255]);

    // On the wire: a NATS header any client can read.
    const nc = await connect({ servers: url! });
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(await bus.streamFor(s), { last_by_subj: s });
    expect(stored?.header.get(KEY_HEADER)).toBe('transport-agency/cameras');
    await nc.close();
  });

  it('refuses headers JetStream would act on', async () => {
    const bus = await open();
    await expect(
      bus.publish(fresh('reserved'), text('x'), { headers: { 'Nats-Msg-Id': '1' } }),
    ).rejects.toMatchObject({ code: 'INVALID_HEADER' });
    await expect(bus.publish('bad..subject', text('x'))).rejects.toMatchObject({ code: 'INVALID_SUBJECT' });
  });

  it('makes one file stream per subject family that holds the dead letters too, with the configured limits', async () => {
    const bus = await open({ maxAgeMs: 3_600_000, maxBytes: 10_000_000 });
    const s = fresh('family');
    const stream = await bus.streamFor(s);
    expect(await bus.streamFor(`${s}.dead-letter`)).toBe(stream);
    expect(stream).toBe(`${prefix}${s.replaceAll('.', '_')}`);
    const nc = await connect({ servers: url! });
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    await nc.close();
    expect(info.config.storage).toBe('file');
    expect(info.config.subjects).toEqual([s, `${s}.dead-letter`]);
    expect(info.config.max_age).toBe(3_600_000 * 1_000_000);
    expect(info.config.max_bytes).toBe(10_000_000);
  });

  it("uses an operator's stream that holds the subject, and still has somewhere for its dead letters", async () => {
    const s = fresh('operator');
    const nc = await connect({ servers: url! });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}operator`, subjects: [s] });
    const bus = await open();
    expect(await bus.streamFor(s)).toBe(`${prefix}operator`);
    const dead: Delivery[] = [];
    await bus.subscribe(`${s}.dead-letter`, async (m) => void dead.push(m));
    await bus.subscribe(
      s,
      async () => {
        throw new Error('refused');
      },
      { group: 'g', maxAttempts: 1 },
    );
    await bus.publish(s, text('bad'), { key: 'k' });
    await until(() => dead.length === 1, 'the dead letter');
    expect(dead[0]!.headers).toMatchObject({ 'dead-letter-reason': 'refused', 'dead-letter-subject': s });
    const own = await bus.streamFor(`${s}.dead-letter`);
    expect((await jsm.streams.info(own)).config.subjects).toEqual([`${s}.dead-letter`]);
    // The group's durable lives in the operator's stream, named apart from other subjects' groups.
    const names: string[] = [];
    for await (const c of jsm.consumers.list(`${prefix}operator`)) names.push(c.name);
    expect(names).toEqual([expect.stringMatching(/^g_nats-test_operator_[0-9a-f]{8}_[0-9a-f]{8}$/)]);
    await nc.close();
  });

  it('makes its stream and durable again when an operator deleted them', async () => {
    const bus = await open();
    const s = fresh('deleted');
    const got: string[] = [];
    await bus.subscribe(s, async (m) => void got.push(str(m.data)), { group: 'g' });
    await bus.publish(s, text('before'));
    await until(() => got.includes('before'), 'the first message');
    const nc = await connect({ servers: url! });
    await (await jetstreamManager(nc)).streams.delete(await bus.streamFor(s));
    await nc.close();
    // nats-server 2.9 removes the files after answering: a stream made again under the same
    // name at that very moment can lose its own (a server race, not the bus's).
    await new Promise((r) => setTimeout(r, 300));
    await bus.publish(s, text('after')); // no stream listens: the bus makes it again
    await until(() => got.includes('after'), 'a message in the new stream');
    expect(got).toEqual(['before', 'after']);
  });

  it('stores a message once when msgId gives the same id twice', async () => {
    const bus = await open({ msgId: (_s, data) => str(data) });
    const s = fresh('dedupe');
    await bus.publish(s, text('event-hash-1'));
    await bus.publish(s, text('event-hash-1'));
    await bus.publish(s, text('event-hash-2'));
    const got: string[] = [];
    await bus.subscribe(s, async (m) => void got.push(str(m.data)), { group: 'g' });
    await until(() => got.length >= 2, 'the messages');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['event-hash-1', 'event-hash-2']);
  });

  it('goes on after the connection drops, and rejects a publish within publishTimeoutMs while the server is away', async () => {
    const p = proxy(url!);
    await p.listen();
    const bus = await open({
      servers: p.url,
      publishTimeoutMs: 500,
      apiTimeoutMs: 1000,
      connection: { reconnectTimeWait: 100, reconnectJitter: 0, reconnectJitterTLS: 0 },
    });
    const other = await open();
    const s = fresh('reconnect');
    const group: string[] = [];
    const fan: string[] = [];
    await bus.subscribe(s, async (m) => void group.push(str(m.data)), { group: 'g' });
    await bus.subscribe(s, async (m) => void fan.push(str(m.data)));
    await bus.publish(s, text('one'));
    await until(() => group.includes('one') && fan.includes('one'), 'the first message');

    p.cut(); // the connection drops; the client reconnects at once
    await until(() => bus.ready(), 'the reconnect');
    await bus.publish(s, text('two'));
    await until(() => group.includes('two') && fan.includes('two'), 'a message after the reconnect');

    await p.stop(); // the server is away for this client
    await until(async () => !(await bus.status()).connected, 'the disconnect');
    const started = Date.now();
    await expect(bus.publish(s, text('during'))).rejects.toMatchObject({ code: 'PUBLISH_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await bus.status()).toMatchObject({ ready: false, connected: false });
    await other.publish(s, text('three')); // another process publishes meanwhile

    await p.listen();
    await until(() => bus.ready(), 'the second reconnect');
    await until(
      () => group.includes('three') && fan.includes('three'),
      'what was published during the outage',
    );
    // The rejected publish may still have reached the server after the reconnect (it was
    // buffered): at-least-once, never lost silently.
    for (const seen of [group, fan]) {
      expect(seen.filter((m) => m !== 'during')).toEqual(['one', 'two', 'three']);
    }
    await bus.close();
    await p.stop();
  });
});
