// The documents the store keeps, and the conversions between them and the storage contract's
// records. Only what MongoDB 7 and FerretDB 1.24 both store alike: no nested arrays, no '.'
// or leading '$' in keys, byte strings as BSON Binary (subtype 0) so that the exact leaf
// bytes never pass through a string or a number.
import { nodeCoverage, nodeLevel } from '@civic-ledger/merkle';
import {
  StorageError,
  nodeWithin,
  type AppendBatch,
  type ChainEntry,
  type CheckpointRecord,
  type LeafRecord,
  type LedgerHead,
  type LineageLink,
  type RegistryRecord,
} from '@civic-ledger/storage';
import { Binary } from 'mongodb';

/** The one head document (`_id: 'head'`); `v` counts its changes (see claims in mongo.ts). */
export interface HeadDoc {
  _id: 'head';
  v: number;
  size: number;
  root: Binary;
  epoch: number;
  owner: string | null;
  expires: number;
}

/** A claim on the head's next version: `_id` is that version, zero-padded to 16 digits. */
export interface ClaimDoc {
  _id: string;
  /** Claimant's wall clock (ms), for taking over a claim whose claimant died. */
  at: number;
  epoch: number;
}

/** Registry record inside its leaf document (`index` is the leaf's). */
export interface RegistryDoc {
  k: RegistryRecord['kind'];
  id: string;
  o: string;
  d: string;
}

/**
 * One log entry. `h`, `c`, `s`, `n` and `r` are derived (dropDerived unsets them); `e` is
 * the epoch of the writer that inserted it, so recovery deletes only older writers' rows.
 */
export interface LeafDoc {
  _id: number;
  e: number;
  l: Binary;
  h?: string;
  c?: string;
  s?: number;
  /** Node hashes this leaf completes, by level: '0' its leaf hash, '1'.. perfect subtrees. */
  n?: Record<string, Binary>;
  r?: RegistryDoc[];
  /** Input event hashes (movements only), for downstream lineage lookups. */
  i?: string[];
}

export interface CheckpointDoc {
  _id: number;
  note: string;
  at: number;
}

export const HASH_BYTES = 32;

/** A batch's lineage links by the leaf they belong to. */
export function groupLineage(links: readonly LineageLink[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const l of links) {
    const list = out.get(l.index);
    if (list === undefined) out.set(l.index, [l.input]);
    else if (!list.includes(l.input)) list.push(l.input);
  }
  return out;
}

export const claimKey = (version: number): string => String(version).padStart(16, '0');

/** A copy of a Binary's bytes as a plain Uint8Array (what the other stores return). */
export function bytesOf(b: unknown, what: string): Uint8Array {
  if (!(b instanceof Binary)) throw new StorageError('CORRUPT', `${what} is not binary`);
  const u = b.buffer;
  return new Uint8Array(u.buffer, u.byteOffset, b.position).slice();
}

export const binary = (bytes: Uint8Array): Binary => new Binary(bytes);

export function toHead(d: HeadDoc): LedgerHead {
  return { size: d.size, rootHash: bytesOf(d.root, 'head root'), epoch: d.epoch };
}

export function checkHead(d: HeadDoc | null): HeadDoc {
  if (
    d === null ||
    typeof d.v !== 'number' ||
    typeof d.size !== 'number' ||
    typeof d.epoch !== 'number' ||
    typeof d.expires !== 'number' ||
    !(d.owner === null || typeof d.owner === 'string') ||
    !(d.root instanceof Binary)
  ) {
    throw new StorageError('CORRUPT', 'the head document is missing or malformed');
  }
  return d;
}

export function toLeaf(d: LeafDoc): LeafRecord {
  return {
    index: d._id,
    leaf: bytesOf(d.l, `leaf ${d._id}`),
    eventHash: d.h ?? '',
    chain: d.c ?? '',
    seq: d.s ?? 0,
  };
}

export function toChainEntry(d: LeafDoc): ChainEntry {
  return { seq: d.s ?? 0, eventHash: d.h ?? '', index: d._id };
}

export function toRegistry(d: LeafDoc): RegistryRecord[] {
  return (d.r ?? []).map((r) => ({ index: d._id, kind: r.k, id: r.id, org: r.o, data: r.d }));
}

export function toCheckpoint(d: CheckpointDoc): CheckpointRecord {
  return { size: d._id, note: d.note, createdAt: d.at };
}

/** Where a node hash is kept: in the leaf that completes it (the last it covers), by level. */
export function nodePlace(id: number): { owner: number; level: string } {
  return { owner: nodeCoverage(id)[1] - 1, level: String(nodeLevel(id)) };
}

/** The node hashes of a batch by owning leaf index: level -> hash. */
export function groupNodes(nodes: AppendBatch['nodes']): Map<number, Record<string, Binary>> {
  const out = new Map<number, Record<string, Binary>>();
  nodes.ids.forEach((id, i) => {
    const { owner, level } = nodePlace(id);
    let n = out.get(owner);
    if (n === undefined) out.set(owner, (n = {}));
    n[level] = binary(nodes.hashes[i]!);
  });
  return out;
}

/** Registry records of a batch by leaf index, in batch order. */
export function groupRegistry(registry: readonly RegistryRecord[]): Map<number, RegistryDoc[]> {
  const out = new Map<number, RegistryDoc[]>();
  for (const r of registry) {
    let list = out.get(r.index);
    if (list === undefined) out.set(r.index, (list = []));
    list.push({ k: r.kind, id: r.id, o: r.org, d: r.data });
  }
  return out;
}

// The checks every adapter makes (the storage package keeps its own copy private), plus the
// ones the unique indexes would otherwise report as a failed insert: a batch that repeats an
// event hash or a chain position within itself.
export function checkBatch(expectedSize: number, batch: AppendBatch): void {
  const { leaves, nodes } = batch;
  const hashes = new Set<string>();
  const positions = new Set<string>();
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i]!;
    if (l.index !== expectedSize + i) {
      throw new StorageError('BAD_BATCH', `leaf ${i} has index ${l.index}, expected ${expectedSize + i}`);
    }
    if (hashes.has(l.eventHash))
      throw new StorageError('BAD_BATCH', `event hash ${l.eventHash} twice in the batch`);
    hashes.add(l.eventHash);
    const pos = `${l.chain}\n${l.seq}`;
    if (positions.has(pos)) throw new StorageError('BAD_BATCH', `${l.chain} seq ${l.seq} twice in the batch`);
    positions.add(pos);
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
  if (batch.rootHash.length !== HASH_BYTES) throw new StorageError('BAD_BATCH', 'root hash must be 32 bytes');
}
