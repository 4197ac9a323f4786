import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventHashSet, Fingerprinter } from './hash-set.ts';

const h = (i: number) => createHash('sha256').update(String(i)).digest('hex');

describe('EventHashSet', () => {
  it('holds exactly the hashes added, across growth', () => {
    const set = new EventHashSet();
    for (let i = 0; i < 20_000; i++) set.add(h(i));
    set.add(h(5));
    expect(set.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 7) expect(set.has(h(i))).toBe(true);
    for (let i = 20_000; i < 40_000; i += 7) expect(set.has(h(i))).toBe(false);
    // A near miss (one hex digit changed) is not a member.
    const near = h(1).slice(0, 63) + (h(1).endsWith('0') ? '1' : '0');
    expect(set.has(near)).toBe(false);
  });

  it('holds event hashes only', () => {
    const set = new EventHashSet();
    expect(() => set.add('not a hash')).toThrow(TypeError);
    expect(() => set.add(h(1).toUpperCase())).toThrow(TypeError);
    expect(set.has('not a hash')).toBe(false);
  });

  it('takes fingerprints made elsewhere with its key (a worker thread), and only with it', () => {
    const set = new EventHashSet();
    const there = new Fingerprinter(set.fingerprinter.key);
    const other = new Fingerprinter();
    const raw = Buffer.alloc(32 * 100);
    for (let i = 0; i < 100; i++) raw.write(h(i), 32 * i, 'hex');
    const fps = new Uint32Array(200);
    there.batch(raw, 100, fps);
    for (let i = 0; i < 100; i += 2) set.addFingerprint(fps[2 * i]!, fps[2 * i + 1]!);
    for (let i = 0; i < 100; i++) {
      // A batch fingerprints each hash as one at a time does.
      expect([fps[2 * i], fps[2 * i + 1]]).toEqual(set.fingerprinter.ofHex(h(i)));
      expect(set.has(h(i))).toBe(i % 2 === 0);
      expect(set.hasFingerprint(fps[2 * i]!, fps[2 * i + 1]!)).toBe(i % 2 === 0);
    }
    // Another key gives other fingerprints.
    expect(other.ofHex(h(0))).not.toEqual(set.fingerprinter.ofHex(h(0)));
    expect(() => new Fingerprinter(randomBytes(8))).toThrow(TypeError);
  });
});
