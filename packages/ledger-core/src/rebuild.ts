// Rebuilds every derived row (tree nodes, chain and hash lookups, registry) from the leaves
// alone, and proves the result by the root: the rebuilt tree must give the stored head's
// root byte for byte, or the log is reported CORRUPT.
import { toHex } from '@civic-ledger/crypto';
import { chainKey } from '@civic-ledger/chain';
import { decodeLeaf } from '@civic-ledger/leaf';
import { CompactRange, hashLeaf, newNodeBatch } from '@civic-ledger/merkle';
import { validateEvent } from '@civic-ledger/schemas';
import type { LedgerStore, LeafRecord, LineageLink, RegistryRecord } from '@civic-ledger/storage';
import { LedgerError } from './errors.ts';
import { lineageLinks } from './lineage-links.ts';
import { deadLocalOwner } from './ledger.ts';
import { Registry, registryEffects } from './registry.ts';

export interface RebuildOptions {
  owner?: string;
  /** Leaves read and written per round trip (default 10 000). */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function rebuildDerived(
  store: LedgerStore,
  options: RebuildOptions = {},
): Promise<{ size: number; rootHash: Uint8Array }> {
  const lease = await store.acquireWriter({
    owner: options.owner ?? `rebuild-${process.pid}`,
    holderIsGone: deadLocalOwner,
    ttlMs: 10 * 60_000,
  });
  const head = await store.head();
  await store.dropDerived(lease);
  const range = CompactRange.empty();
  const registry = new Registry();
  const chunk = options.chunk ?? 10_000;
  for (let from = 0; from < head.size; from += chunk) {
    const stored = await store.getLeaves(from, Math.min(head.size, from + chunk));
    const nodes = newNodeBatch();
    const leaves: LeafRecord[] = [];
    const records: RegistryRecord[] = [];
    const lineage: LineageLink[] = [];
    for (const s of stored) {
      let event;
      try {
        const d = decodeLeaf(s.leaf);
        if (d.index !== s.index) throw new Error(`leaf says index ${d.index}`);
        event = validateEvent(d.event).event;
        leaves.push({
          index: s.index,
          leaf: s.leaf,
          eventHash: d.eventHash,
          chain: chainKey(event.emitter, event.stream),
          seq: event.seq,
        });
        lineage.push(...lineageLinks(event, s.index));
        const effects = registryEffects(event, s.index, registry);
        for (const r of effects) registry.apply(r);
        records.push(...effects);
      } catch (cause) {
        throw new LedgerError(
          'CORRUPT',
          `leaf ${s.index} cannot be replayed: ${(cause as Error).message}`,
          { index: s.index },
          { cause },
        );
      }
      range.append(hashLeaf(s.leaf), nodes);
    }
    await store.writeDerived(lease, { leaves, nodes, registry: records, lineage, rootHash: range.root() });
    options.onProgress?.(Math.min(head.size, from + chunk), head.size);
  }
  if (toHex(range.root()) !== toHex(head.rootHash)) {
    throw new LedgerError(
      'CORRUPT',
      `the leaves give root ${toHex(range.root())}, the head says ${toHex(head.rootHash)}`,
    );
  }
  return { size: head.size, rootHash: range.root() };
}
