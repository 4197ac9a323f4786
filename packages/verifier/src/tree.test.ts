import { randomBytes } from 'node:crypto';
import { CompactRange, hashLeaf } from '@civic-ledger/merkle';
import { describe, expect, it } from 'vitest';
import { latin1ToHex, leafHashOfPrefixed, TreeBorder } from './tree.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('TreeBorder', () => {
  it('gives the same leaf hashes, border and root as CompactRange at every size', () => {
    const range = CompactRange.empty();
    const border = new TreeBorder();
    expect(latin1ToHex(border.root())).toBe(hex(range.root()));
    for (let i = 0; i < 300; i++) {
      const leaf = randomBytes(i % 7 === 0 ? 0 : 1 + (i % 900));
      const prefixed = new Uint8Array(leaf.length + 1);
      prefixed.set(leaf, 1);
      const h = leafHashOfPrefixed(prefixed);
      expect(latin1ToHex(h)).toBe(hex(hashLeaf(leaf)));
      range.append(hashLeaf(leaf));
      border.appendLeaf(h);
      expect(border.size).toBe(range.size);
      expect(border.hashes.map(latin1ToHex)).toEqual(range.hashes.map(hex));
      expect(latin1ToHex(border.root())).toBe(hex(range.root()));
    }
  });
});
