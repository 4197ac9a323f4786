import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventHashSet } from './hash-set.ts';

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
});
