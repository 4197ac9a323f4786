// The bus contract suite: every bus (in-process, Kafka, NATS JetStream) runs it unchanged.
// Subjects are fresh per test, so a bus backed by a real server can share it between tests.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterSubject, type Bus, type Delivery } from './bus.ts';

export interface BusFactory {
  /** A connected bus. Several may be open at once (two processes on one broker). */
  open(): Promise<Bus>;
  /** Prefix for subjects (defaults to "contract"): a bus may need its own naming. */
  subjectPrefix?: string;
  /** How long to wait for a delivery (default 5000 ms; real brokers need more). */
  timeoutMs?: number;
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function collector() {
  const got: Delivery[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    got,
    handler: async (m: Delivery) => {
      got.push(m);
      for (const w of waiters.filter((w) => got.length >= w.n)) w.resolve();
    },
    until(n: number, timeoutMs: number): Promise<void> {
      if (got.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`only ${got.length} of ${n} messages arrived`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describeBusContract(name: string, factory: BusFactory): void {
  const timeout = factory.timeoutMs ?? 5000;
  const subject = (what: string) =>
    `${factory.subjectPrefix ?? 'contract'}.${what}.${randomUUID().slice(0, 8)}`;
  const open: Bus[] = [];
  const bus = async () => {
    const b = await factory.open();
    open.push(b);
    return b;
  };
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });

  describe(`bus contract: ${name}`, () => {
    it('delivers the bytes and headers untouched to every fan-out subscriber, in publish order', async () => {
      const b = await bus();
      const s = subject('fanout');
      const one = collector();
      const two = collector();
      await b.subscribe(s, one.handler);
      await b.subscribe(s, two.handler);
      const bytes = new Uint8Array([0, 255, 10, 13, 0x7b, 0x22]);
      await b.publish(s, bytes, { key: 'k', headers: { 'trace-id': 'abc' } });
      for (let i = 0; i < 20; i++) await b.publish(s, text(`m${i}`), { key: 'k' });
      await one.until(21, timeout);
      await two.until(21, timeout);
      expect([...one.got[0]!.data]).toEqual([...bytes]);
      expect(one.got[0]!.headers['trace-id']).toBe('abc');
      expect(one.got[0]!.key).toBe('k');
      expect(one.got.slice(1).map((m) => str(m.data))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(two.got.map((m) => str(m.data))).toEqual(one.got.map((m) => str(m.data)));
    });

    it('gives each message of a group to one member only, and keeps one key in order', async () => {
      const b = await bus();
      const s = subject('group');
      const a = collector();
      const c = collector();
      await b.subscribe(s, a.handler, { group: 'workers' });
      await b.subscribe(s, c.handler, { group: 'workers' });
      for (let i = 0; i < 30; i++) await b.publish(s, text(`${i % 3}:${i}`), { key: String(i % 3) });
      await settle(50);
      const all = async () => {
        for (let t = 0; t < timeout / 20 && a.got.length + c.got.length < 30; t++) await settle(20);
      };
      await all();
      const got = [...a.got, ...c.got].map((m) => str(m.data));
      expect(got.length).toBe(30);
      expect(new Set(got).size).toBe(30);
      for (const member of [a.got, c.got]) {
        for (const key of ['0', '1', '2']) {
          const seq = member.filter((m) => m.key === key).map((m) => Number(str(m.data).split(':')[1]));
          expect(seq).toEqual([...seq].sort((x, y) => x - y));
        }
      }
    });

    it('redelivers a message whose handler failed, then dead-letters it with the reason', async () => {
      const b = await bus();
      const s = subject('retry');
      const attempts: number[] = [];
      let failFirst = true;
      await b.subscribe(
        s,
        async (m) => {
          attempts.push(m.attempt);
          if (str(m.data) === 'flaky' && failFirst) {
            failFirst = false;
            throw new Error('transient');
          }
          if (str(m.data) === 'poison') throw new Error('cannot handle poison');
        },
        { group: 'g', maxAttempts: 3 },
      );
      const dead = collector();
      await b.subscribe(deadLetterSubject(s), dead.handler);
      await b.publish(s, text('flaky'));
      await b.publish(s, text('poison'), { key: 'p' });
      await dead.until(1, timeout);
      expect(attempts.slice(0, 2)).toEqual([1, 2]);
      expect(attempts.filter((a) => a >= 1).length).toBe(2 + 3);
      expect(str(dead.got[0]!.data)).toBe('poison');
      expect(dead.got[0]!.headers['dead-letter-reason']).toContain('cannot handle poison');
      expect(dead.got[0]!.headers['dead-letter-subject']).toBe(s);
    });

    it('hands a group batches in key order, each message once, and acknowledges them', async () => {
      const b = await bus();
      const s = subject('batch');
      const batches: string[][] = [];
      await b.subscribeBatch(
        s,
        async (ms) => {
          batches.push(ms.map((m) => `${m.key}:${str(m.data)}`));
          await settle(50); // messages pile up meanwhile, so later batches hold several
        },
        { group: 'batchers', maxMessages: 10 },
      );
      for (let i = 0; i < 60; i++) await b.publish(s, text(String(i)), { key: String(i % 3) });
      for (let t = 0; t < timeout / 20 && batches.flat().length < 60; t++) await settle(20);
      const got = batches.flat();
      expect(got.length).toBe(60);
      expect(new Set(got).size).toBe(60);
      expect(Math.max(...batches.map((x) => x.length))).toBeGreaterThan(1);
      expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(10);
      for (const key of ['0', '1', '2']) {
        const seq = got.filter((m) => m.startsWith(`${key}:`)).map((m) => Number(m.split(':')[1]));
        expect(seq).toEqual([...seq].sort((x, y) => x - y));
      }
    });

    it('delivers a failed batch again, then dead-letters each of its messages', async () => {
      const b = await bus();
      const s = subject('batchfail');
      const seen: { attempt: number; data: string }[] = [];
      await b.subscribeBatch(
        s,
        async (ms) => {
          for (const m of ms) seen.push({ attempt: m.attempt, data: str(m.data) });
          if (ms.some((m) => str(m.data) === 'poison')) throw new Error('store refused the batch');
        },
        { group: 'g', maxMessages: 10, maxAttempts: 2, retryDelayMs: 10 },
      );
      const dead = collector();
      await b.subscribe(deadLetterSubject(s), dead.handler);
      await b.publish(s, text('poison'), { key: 'p' });
      await dead.until(1, timeout);
      expect(seen.filter((x) => x.data === 'poison').map((x) => x.attempt)).toEqual([1, 2]);
      expect(str(dead.got[0]!.data)).toBe('poison');
      expect(dead.got[0]!.headers['dead-letter-reason']).toContain('store refused the batch');
      expect(dead.got[0]!.headers['dead-letter-subject']).toBe(s);
      await b.publish(s, text('fine'), { key: 'p' });
      for (let t = 0; t < timeout / 20 && !seen.some((x) => x.data === 'fine'); t++) await settle(20);
      expect(seen.filter((x) => x.data === 'fine').map((x) => x.attempt)).toEqual([1]);
    });

    it('stops delivering to a closed subscription', async () => {
      const b = await bus();
      const s = subject('close');
      const c = collector();
      const sub = await b.subscribe(s, c.handler);
      await b.publish(s, text('before'));
      await c.until(1, timeout);
      await sub.close();
      await b.publish(s, text('after'));
      await settle(200);
      expect(c.got.map((m) => str(m.data))).toEqual(['before']);
    });
  });
}
