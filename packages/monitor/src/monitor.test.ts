// The monitor against a real standalone ledger (SQLite, a real socket): it follows the log
// from its state file, notifies an organization of every event in its name through a real
// webhook receiver (also the event of a stolen key), keeps what it could not deliver, checks
// receipts, and catches an entry edited in the SQLite file of a stopped ledger.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatVerifierKey } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { decodeLeaf } from '@civic-ledger/leaf';
import { TestEmitter } from '@civic-ledger/ledger-core/testing';
import type { RunningService } from '@civic-ledger/standalone-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from './alerts.ts';
import { Monitor } from './monitor.ts';
import type { OrgNotification } from './notify.ts';
import { loadState } from './state.ts';
import {
  bootstrap,
  cast,
  collect,
  startLedger,
  startReceiver,
  submit,
  type Receipt,
} from './test-fixtures.ts';

const ORIGIN = 'ledger.monitor.test/log';
const root = mkdtempSync(join(tmpdir(), 'monitor-'));
const dataDir = join(root, 'ledger');
const c = cast();
let service: RunningService;
let LOG_KEY: string;

beforeAll(async () => {
  service = await startLedger(dataDir, c.operator, { origin: ORIGIN });
  LOG_KEY = formatVerifierKey(service.logKey);
  await submit(service.url, bootstrap(c));
  await submit(
    service.url,
    Array.from({ length: 20 }, (_, i) => (i % 2 ? c.agency : c.police).next(collect(i))),
  );
  await service.ledger.checkpointNow();
}, 30_000);

afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

const critical = (alerts: readonly Alert[]) => alerts.filter((a) => a.severity === 'critical');

async function entries(): Promise<{ index: number; leaf: string }[]> {
  const body = (await (await fetch(`${service.url}/v1/entries?from=0&limit=1000`)).json()) as {
    entries: { index: number; leaf: string }[];
  };
  return body.entries;
}

describe('Monitor against a real ledger', { timeout: 20_000 }, () => {
  it('verifies every entry and checkpoint once, and resumes from its state file', async () => {
    const statePath = join(root, 'follow.json');
    const first = new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY, statePath });
    const seen: number[] = [];
    first.on('entry', (e) => seen.push(e.index));
    const r = await first.pollOnce();
    expect(r).toMatchObject({ ok: true, alerts: [], previousSize: 0, size: 29, entries: 29, checkpoints: 1 });
    expect(seen).toEqual(Array.from({ length: 29 }, (_, i) => i));
    const saved = loadState(statePath)!;
    expect(saved).toMatchObject({ origin: ORIGIN, size: 29, heads: { 'police/main': { seq: 10 } } });
    expect(saved.checkpoint).toBe(await (await fetch(`${service.url}/v1/checkpoints/29`)).text());
    expect(saved.registry.map((r) => r.kind)).toContain('key-add');
    expect(await first.pollOnce()).toMatchObject({ ok: true, entries: 0, size: 29 });

    // Two more checkpoints; a new process continues from the file and checks only what is new.
    await submit(
      service.url,
      Array.from({ length: 10 }, (_, i) => c.agency.next(collect(100 + i))),
    );
    await service.ledger.checkpointNow();
    await submit(
      service.url,
      Array.from({ length: 5 }, (_, i) => c.police.next(collect(200 + i))),
    );
    await service.ledger.checkpointNow();
    const second = new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY, statePath });
    const later: number[] = [];
    const checkpoints: number[] = [];
    second.on('entry', (e) => later.push(e.index));
    second.on('checkpoint', (cp) => checkpoints.push(cp.size));
    expect(await second.pollOnce()).toMatchObject({
      ok: true,
      previousSize: 29,
      size: 44,
      entries: 15,
      checkpoints: 2,
    });
    expect(later).toEqual(Array.from({ length: 15 }, (_, i) => 29 + i));
    expect(checkpoints).toEqual([39, 44]);
    expect(loadState(statePath)?.size).toBe(44);
  });

  it("notifies an organization of every event in its name, the stolen key's too, retrying its webhook", async () => {
    const receiver = await startReceiver({ failFirst: 2 });
    try {
      const m = new Monitor({
        ledgerUrl: service.url,
        logKey: LOG_KEY,
        orgs: [{ org: 'police', url: receiver.url }],
        webhook: { baseDelayMs: 5 },
      });
      const callbacks: OrgNotification[] = [];
      m.on('notification', (n) => callbacks.push(n));
      const r = await m.pollOnce();
      expect(r).toMatchObject({ ok: true, notifications: { pending: 0 } });
      // What the log holds in the police's name: its events, and the key the operator added for it.
      const expected = (await entries())
        .filter((e) => {
          const ev = decodeLeaf(e.leaf).event as { emitter: string; type: string; subjectOrg?: string };
          return ev.emitter === 'police' || (ev.type === 'key' && ev.subjectOrg === 'police');
        })
        .map((e) => e.index);
      expect(expected.length).toBeGreaterThan(10);
      const got = receiver.received.map((x) => (x.body as { index: number }).index);
      expect(got).toEqual(expected);
      expect(callbacks.map((n) => (n.kind === 'event' ? n.index : -1))).toEqual(expected);
      expect(receiver.requests()).toBe(expected.length + 2);
      expect(receiver.received[0]!.headers['x-civic-ledger-delivery']).toBe(
        `${ORIGIN}#${expected[0]}#police`,
      );

      // Someone holding the police key emits in its name: the police hears of it.
      const stolen = new TestEmitter('police', { key: c.police.key });
      stolen.seq = c.police.seq;
      stolen.prev = c.police.prev;
      const theft = stolen.next(collect(777));
      c.police.seq = stolen.seq;
      c.police.prev = stolen.prev;
      await submit(service.url, [theft]);
      await service.ledger.checkpointNow();
      await m.pollOnce();
      const last = receiver.received.at(-1)!.body as {
        kind: string;
        eventHash: string;
        signature: string;
        event: { records: number };
        checkpoint: { size: number };
      };
      expect(last).toMatchObject({ kind: 'event', eventHash: theft.hash, event: { records: 1777 } });
      expect(verifyEventSignature(last.eventHash, Buffer.from(last.signature, 'base64'), c.police.key)).toBe(
        true,
      );

      // The receiver goes down: nothing is lost; delivered in order once it is back.
      receiver.fail(1000);
      await submit(service.url, [c.police.next(collect(778)), c.police.next(collect(779))]);
      await service.ledger.checkpointNow();
      const down = await m.pollOnce();
      expect(down.ok).toBe(true); // a warning, not a finding about the log
      expect(down.alerts.map((a) => a.code)).toEqual(['NOTIFY_FAILED']);
      expect(down.notifications.pending).toBe(2);
      receiver.fail(0);
      const up = await m.pollOnce();
      expect(up.notifications).toEqual({ delivered: 2, pending: 0 });
      expect(
        receiver.received.slice(-2).map((x) => (x.body as { event: { records: number } }).event.records),
      ).toEqual([1778, 1779]);
    } finally {
      await receiver.close();
    }
  });

  it('checks receipts: honoured, pending until covered, and a forged one is not evidence', async () => {
    const [honoured] = await submit(service.url, [c.agency.next(collect(300))]);
    await service.ledger.checkpointNow();
    const [pending] = await submit(service.url, [c.agency.next(collect(301))]);
    const forged: Receipt = { ...honoured!, leafHash: 'f'.repeat(64) };
    const m = new Monitor({
      ledgerUrl: service.url,
      logKey: LOG_KEY,
      receipts: [
        { source: 'honoured', receipt: honoured! },
        { source: 'pending', receipt: pending! },
        { source: 'forged', receipt: forged },
      ],
    });
    const r = await m.pollOnce();
    expect(r.ok).toBe(true);
    expect(r.receipts.map((x) => [x.source, x.status])).toEqual([
      ['honoured', 'honoured'],
      ['pending', 'pending'],
      ['forged', 'invalid'],
    ]);
    // An hour later with still no checkpoint covering it, the promise is broken.
    const late = new Monitor({
      ledgerUrl: service.url,
      logKey: LOG_KEY,
      receipts: [{ source: 'pending', receipt: pending! }],
      now: () => Date.now() + 3_600_000,
    });
    const overdue = await late.pollOnce();
    expect(overdue.receipts).toMatchObject([{ status: 'not-honoured', reason: 'overdue' }]);
    expect(overdue.alerts.find((a) => a.code === 'RECEIPT_NOT_HONOURED')?.evidence).toMatchObject({
      reason: 'overdue',
      receipt: pending,
    });
    await service.ledger.checkpointNow();
    const again = await m.pollOnce();
    expect(again.receipts.map((x) => [x.source, x.status])).toEqual([['pending', 'honoured']]);
  });

  it("run() wakes on the ledger's live checkpoint notifications, long before its interval", async () => {
    const m = new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY, intervalMs: 60_000, watch: true });
    await m.pollOnce();
    const polled = new Promise<number>((resolve) =>
      m.on('poll', (r) => {
        if (r.entries > 0) resolve(r.entries);
      }),
    );
    const running = m.run();
    // Give the event stream a moment to connect, then sign a checkpoint.
    await new Promise((r) => setTimeout(r, 300));
    await submit(service.url, [c.police.next(collect(500))]);
    await service.ledger.checkpointNow();
    const started = Date.now();
    expect(await polled).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    m.stop();
    await running;
  });

  it('an entry edited in the SQLite file of a stopped ledger: alerts, and the state does not move', async () => {
    const statePath = join(root, 'tamper.json');
    const before = await new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY, statePath }).pollOnce();
    expect(before.ok).toBe(true);
    const verified = before.size;
    await submit(
      service.url,
      Array.from({ length: 6 }, (_, i) => c.agency.next(collect(400 + i))),
    );
    await service.ledger.checkpointNow();
    await service.close();

    // The operator rewrites a record count, and (carefully) the event-hash column with it.
    const victim = verified + 2;
    const db = new DatabaseSync(join(dataDir, 'ledger.db'));
    const row = db.prepare('SELECT leaf FROM leaves WHERE idx = ?').get(victim) as { leaf: Uint8Array };
    const text = Buffer.from(row.leaf).toString('utf8');
    expect(text).toContain('"records":1402');
    const edited = Buffer.from(text.replace('"records":1402', '"records":9402'), 'utf8');
    db.prepare('UPDATE leaves SET leaf = ?, ehash = ? WHERE idx = ?').run(
      edited,
      decodeLeaf(edited).eventHash,
      victim,
    );
    db.close();
    service = await startLedger(dataDir, c.operator, { origin: ORIGIN });

    const m = new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY, statePath });
    const r = await m.pollOnce();
    expect(r.ok).toBe(false);
    expect(
      critical(r.alerts)
        .map((a) => a.code)
        .sort(),
    ).toEqual(['ENTRY_INVALID', 'ROOT_MISMATCH']);
    const entry = r.alerts.find((a) => a.code === 'ENTRY_INVALID')!;
    expect(entry.evidence).toMatchObject({
      check: 'BAD_SIGNATURE',
      index: victim,
      emitter: 'transport-agency',
      inSignedTree: false,
      leaf: edited.toString('utf8'),
    });
    const mismatch = r.alerts.find((a) => a.code === 'ROOT_MISMATCH')!;
    expect(mismatch.evidence).toMatchObject({ size: verified + 6, verifiedFrom: verified });
    expect(mismatch.evidence['checkpoint']).toBe(await (await fetch(`${service.url}/v1/checkpoint`)).text());
    expect(r.size).toBe(verified);
    expect(loadState(statePath)?.size).toBe(verified);
    // Reported once per monitor; seen again by the next poll (same ids).
    const reported: string[] = [];
    m.on('alert', (a) => reported.push(a.id));
    const again = await m.pollOnce();
    expect(again.alerts.map((a) => a.id).sort()).toEqual(r.alerts.map((a) => a.id).sort());
    expect(reported).toEqual([]);
    // A monitor that never saw the log catches it too.
    const fresh = await new Monitor({ ledgerUrl: service.url, logKey: LOG_KEY }).pollOnce();
    expect(fresh.alerts.find((a) => a.code === 'ENTRY_INVALID')?.evidence).toMatchObject({ index: victim });
    expect(fresh.size).toBe(verified);
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ size: verified });
  });
});
