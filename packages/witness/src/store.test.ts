import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { WitnessStore } from './store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function path(): string {
  const d = mkdtempSync(join(tmpdir(), 'witness-store-'));
  dirs.push(d);
  return join(d, 'w.db');
}

const root = (b: number) => new Uint8Array(32).fill(b);
const next = (size: number, b: number) => ({
  size,
  rootHash: root(b),
  note: `n${size}`,
  cosignedAt: size,
  updatedAt: 0,
});

describe('WitnessStore', () => {
  it('writes only over the state it expects', () => {
    const s = WitnessStore.open(path());
    try {
      expect(s.compareAndSet('o', undefined, next(3, 1))).toEqual({ ok: true });
      expect(s.compareAndSet('o', undefined, next(4, 1))).toMatchObject({ ok: false, current: { size: 3 } });
      expect(s.compareAndSet('o', { size: 3, rootHash: root(2) }, next(4, 1))).toMatchObject({ ok: false });
      expect(s.compareAndSet('o', { size: 2, rootHash: root(1) }, next(4, 1))).toMatchObject({ ok: false });
      expect(s.compareAndSet('o', { size: 3, rootHash: root(1) }, next(9, 5))).toEqual({ ok: true });
      expect(s.get('o')).toMatchObject({ size: 9, rootHash: root(5), note: 'n9', cosignedAt: 9 });
      expect(s.list().map((x) => x.origin)).toEqual(['o']);
    } finally {
      s.close();
    }
  });

  it('records each alarm fingerprint once and pages them', () => {
    const s = WitnessStore.open(':memory:');
    const evidence = {
      latest: { size: 1, rootHash: 'a', note: 'x' },
      submitted: { size: 1, rootHash: 'b', note: 'y' },
      oldSize: 1,
      proof: [],
    };
    const alarm = {
      kind: 'FORK' as const,
      origin: 'o',
      raisedAt: '2026-01-01T00:00:00.000Z',
      message: 'm',
      evidence,
    };
    expect(s.recordAlarm(alarm, 'f1')).toMatchObject({ id: 1, severity: 'critical' });
    expect(s.recordAlarm(alarm, 'f1')).toBeUndefined();
    const second = s.recordAlarm({ ...alarm, kind: 'ROLLBACK' }, 'f2');
    expect(second).toMatchObject({ severity: 'warning' });
    expect(second!.id).toBeGreaterThan(1);
    expect(s.alarms({ after: 1 }).map((a) => a.kind)).toEqual(['ROLLBACK']);
    expect(s.alarms({ limit: 1 })).toEqual([{ ...alarm, id: 1, severity: 'critical' }]);
    expect(s.alarmCounts()).toEqual({ FORK: 1, ROLLBACK: 1, BAD_PROOF: 0 });
    s.close();
  });

  it('refuses a database of another schema version or with a damaged row', () => {
    const p = path();
    WitnessStore.open(p).close();
    const raw = new DatabaseSync(p);
    raw.exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    raw.close();
    expect(() => WitnessStore.open(p)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));

    const q = path();
    const s = WitnessStore.open(q);
    s.compareAndSet('o', undefined, next(1, 1));
    const db = new DatabaseSync(q);
    db.exec("UPDATE checkpoints SET root_hash = 'AAAA'");
    db.close();
    expect(() => s.get('o')).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    s.close();
  });
});
