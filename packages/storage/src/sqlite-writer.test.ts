import { CompactRange } from '@civic-ledger/merkle';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syntheticBatch } from './contract.ts';
import { packBatch, unpackBatch } from './sqlite-writer.ts';
import type { AppendBatch } from './types.ts';

const plain = (b: AppendBatch) => ({
  ...b,
  leaves: b.leaves.map((l) => ({ ...l, leaf: [...l.leaf] })),
  nodes: { ids: b.nodes.ids, hashes: b.nodes.hashes.map((h) => [...h]) },
  rootHash: [...b.rootHash],
});

describe('the writer thread message', () => {
  it('carries any batch unchanged: leaves, chains, seqs, nodes, registry, lineage, root', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 300 }),
        fc.array(fc.nat({ max: 120 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 5 }),
        (before, sizes, chains) => {
          const range = CompactRange.empty();
          if (before > 0) syntheticBatch(range, before);
          for (const n of sizes) {
            const batch = syntheticBatch(range, n, {
              tag: chains[0]!,
              inputs: (i) => (i % 3 === 0 ? ['c'.repeat(64), 'd'.repeat(64)] : []),
              registry: (i) =>
                i % 7 === 0
                  ? { index: i, kind: 'dataset', id: `org-a/d${i}`, org: 'org-a', data: '{}' }
                  : undefined,
            });
            batch.leaves.forEach((l, i) => {
              l.chain = chains[i % chains.length]!;
              l.seq = i % 2 === 0 ? i + 0.5 : 2 ** 53 - i;
            });
            const { packed, transfer } = packBatch(batch);
            // What postMessage does with the transferred buffers: moves them.
            const moved = structuredClone(packed, { transfer });
            expect(plain(unpackBatch(moved))).toEqual(plain(batch));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a node hash that is not 32 bytes', () => {
    const batch = syntheticBatch(CompactRange.empty(), 2);
    batch.nodes.hashes[0] = new Uint8Array(31);
    expect(() => packBatch(batch)).toThrow(/32 bytes/);
  });
});
