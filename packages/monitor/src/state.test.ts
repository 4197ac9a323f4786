// The state file: written atomically (no temp file left, mode 0600), read back equal,
// refused naming the field when damaged.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MonitorError } from './errors.ts';
import { initialState, loadState, parseState, saveState } from './state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'monitor-state-'));
  dirs.push(d);
  return d;
}

const ORIGIN = 'ledger.state.test/log';
const KEY = 'ledger.state.test/log+01020304+AAAA';

describe('state file', () => {
  it('round-trips, atomically, readable only by its owner', () => {
    const d = dir();
    const path = join(d, 'sub', 'state.json');
    expect(loadState(path)).toBeUndefined();
    const s = {
      ...initialState(ORIGIN, KEY),
      size: 3,
      rootHash: 'a'.repeat(64),
      border: ['b'.repeat(64), 'c'.repeat(64)],
      checkpoint: 'note',
      heads: { 'police/main': { seq: 2, hash: 'd'.repeat(64), index: 2 } },
    };
    saveState(path, s);
    saveState(path, s);
    expect(loadState(path)).toEqual(s);
    expect(readdirSync(join(d, 'sub'))).toEqual(['state.json']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file naming the field', () => {
    const path = join(dir(), 'state.json');
    writeFileSync(path, '{');
    expect(() => loadState(path)).toThrow(MonitorError);
    expect(() => loadState(path)).toThrow(/not JSON/);
    writeFileSync(path, JSON.stringify({ ...initialState(ORIGIN, KEY), size: 3 }));
    expect(() => loadState(path)).toThrow(/border: a tree of 3 leaves has 2 border hashes/);
    const bad = { ...initialState(ORIGIN, KEY), heads: { x: { seq: 0, hash: 'z', index: 0 } } };
    try {
      parseState(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'STATE_INVALID', details: { field: 'heads.x.seq' } });
    }
    expect(() => parseState({ ...initialState(ORIGIN, KEY), extra: 1 })).toThrow(/extra/);
  });
});
