// Webhook delivery against a real local HTTP server: retries with exponential backoff on
// 5xx and network failures, Retry-After honoured (capped), other 4xx refused at once, the
// delivery id in a header so a receiver can drop repeats.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver, type OrgNotification } from './notify.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server answering the statuses in turn (the last one repeated), recording each request. */
async function serve(statuses: number[], headers: Record<string, string> = {}) {
  const seen: { id: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ id: req.headers['x-civic-ledger-delivery'] as string | undefined, body });
      const status = statuses[Math.min(seen.length - 1, statuses.length - 1)]!;
      res.writeHead(status, status >= 400 ? headers : {}).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen };
}

const notification: OrgNotification = {
  kind: 'alert',
  id: 'ledger.test/log#alert#0123456789abcdef#police',
  org: 'police',
  origin: 'ledger.test/log',
  alert: {
    id: '0123456789abcdef',
    code: 'REVOKED_KEY_USED',
    severity: 'critical',
    message: 'm',
    origin: 'ledger.test/log',
    time: '2026-11-02T09:00:00.000Z',
    evidence: {},
  },
};

function sleeps() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('deliver', () => {
  it('retries 5xx with exponential backoff until delivered; the id is a header, the body the notification', async () => {
    const s = await serve([503, 500, 204]);
    const t = sleeps();
    const r = await deliver(s.url, notification, { baseDelayMs: 100, sleep: t.sleep });
    expect(r).toEqual({ ok: true, status: 204, attempts: 3 });
    expect(t.waits).toEqual([100, 200]);
    expect(s.seen.map((x) => x.id)).toEqual(Array(3).fill(notification.id));
    expect(JSON.parse(s.seen[2]!.body)).toEqual(notification);
  });

  it('honours Retry-After up to the cap, and gives up after the attempts', async () => {
    const s = await serve([429], { 'retry-after': '120' });
    const t = sleeps();
    const r = await deliver(s.url, notification, { attempts: 3, maxDelayMs: 5000, sleep: t.sleep });
    expect(r).toMatchObject({ ok: false, permanent: false, status: 429, attempts: 3 });
    expect(t.waits).toEqual([5000, 5000]);
  });

  it('a 4xx refusal is permanent: not retried', async () => {
    const s = await serve([410]);
    const t = sleeps();
    expect(await deliver(s.url, notification, { sleep: t.sleep })).toMatchObject({
      ok: false,
      permanent: true,
      status: 410,
      attempts: 1,
    });
    expect(s.seen).toHaveLength(1);
  });

  it('a receiver that is down is retried, then reported', async () => {
    const s = await serve([204]);
    await new Promise((r) => servers.pop()!.close(r));
    const t = sleeps();
    const r = await deliver(s.url, notification, { attempts: 4, baseDelayMs: 10, sleep: t.sleep });
    expect(r).toMatchObject({ ok: false, permanent: false, attempts: 4 });
    expect(t.waits).toEqual([10, 20, 40]);
  });
});
