// Checks shared by every adapter, so they refuse malformed batches alike.
import { isHex64 } from '@civic-ledger/crypto/portable';
import { nodeCoverage, type NodeId } from '@civic-ledger/merkle';
import { StorageError } from './errors.ts';
import type { AppendBatch } from './types.ts';

export function checkBatch(expectedSize: number, batch: AppendBatch): void {
  const { leaves, nodes } = batch;
  for (let i = 0; i < leaves.length; i++) {
    if (leaves[i]!.index !== expectedSize + i) {
      throw new StorageError(
        'BAD_BATCH',
        `leaf ${i} has index ${leaves[i]!.index}, expected ${expectedSize + i}`,
      );
    }
  }
  if (nodes.ids.length !== nodes.hashes.length)
    throw new StorageError('BAD_BATCH', 'node ids and hashes differ in length');
  const newSize = expectedSize + leaves.length;
  for (const id of nodes.ids) {
    if (!nodeWithin(id, newSize))
      throw new StorageError('BAD_BATCH', `node ${id} is not complete at size ${newSize}`);
  }
  for (const r of batch.registry) {
    if (r.index < expectedSize || r.index >= newSize) {
      throw new StorageError('BAD_BATCH', `registry record at ${r.index} outside the batch`);
    }
  }
  for (const l of batch.lineage) {
    if (l.index < expectedSize || l.index >= newSize) {
      throw new StorageError('BAD_BATCH', `lineage link at ${l.index} outside the batch`);
    }
    if (!isHex64(l.input)) {
      throw new StorageError(
        'BAD_BATCH',
        `lineage link at ${l.index}: input must be 64 lower-case hex digits`,
      );
    }
  }
  if (batch.rootHash.length !== 32) throw new StorageError('BAD_BATCH', 'root hash must be 32 bytes');
}

/** Whether a stored node is wholly within the first `size` leaves (and so visible). */
export function nodeWithin(id: NodeId, size: number): boolean {
  return nodeCoverage(id)[1] <= size;
}

/** The 48-bit lookup key of an event hash: its first 6 bytes (see the SQLite adapter). */
export function hashKey(eventHash: string): number {
  return parseInt(eventHash.slice(0, 12), 16);
}
