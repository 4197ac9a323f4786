// The lineage graph as parallel typed arrays, one slot per event (node id = interned event
// hash id) and one per edge. Nodes are created when their leaf is added, or earlier as a
// placeholder when a later event names an unknown hash as input (index -1): the ledger
// refuses such events, so placeholders only appear for logs it did not check.
import { MOVEMENT_TYPES, type MovementType } from '@civic-ledger/schemas';
import { DigestTable } from './digest-table.ts';

export const TYPES: readonly MovementType[] = MOVEMENT_TYPES;
export const TYPE_CODE: ReadonlyMap<string, number> = new Map(TYPES.map((t, i) => [t, i]));
export const NO_TYPE = 255;

function grownI32(a: Int32Array, cap: number, fill: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(cap);
  next.set(a);
  if (fill !== 0) next.fill(fill, a.length);
  return next;
}
function grownF64(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const next = new Float64Array(cap);
  next.set(a);
  return next;
}
function grownU8(a: Uint8Array, cap: number, fill: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(cap);
  next.set(a);
  if (fill !== 0) next.fill(fill, a.length);
  return next;
}
function grownU32(a: Uint32Array, cap: number): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(cap);
  next.set(a);
  return next;
}

/** Interned strings (organizations, purposes, dataset and source ids, categories). */
export class Strings {
  readonly list: string[] = [];
  readonly #ids = new Map<string, number>();
  intern(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }
  /** -1 when never seen. */
  lookup(s: string): number {
    return this.#ids.get(s) ?? -1;
  }
}

export class Graph {
  readonly events = new DigestTable();
  readonly versions = new DigestTable();
  readonly strings = new Strings();
  /** Category sets as sorted string ids; id -1 = none. */
  readonly catSets: number[][] = [];
  readonly catSetIds = new Map<string, number>();
  readonly catUnions = new Map<string, number>();

  /** Leaves read (the tree size the index stands at). */
  size = 0;
  nodeCount = 0;
  nodeCap = 0;
  edgeCount = 0;
  edgeCap = 0;

  // Per node.
  index = new Int32Array(0); // ledger index, -1 = placeholder
  type = new Uint8Array(0);
  emitter = new Int32Array(0);
  purpose = new Int32Array(0);
  recipient = new Int32Array(0); // -1 unless transfer
  dataset = new Int32Array(0);
  version = new Int32Array(0); // id in `versions`
  source = new Int32Array(0); // -1 unless collect
  ownCats = new Int32Array(0); // category set id, -1 when the event carries none
  effCats = new Int32Array(0); // own, else the union of the inputs' effective sets
  time = new Float64Array(0); // claimed time, ms
  admitted = new Float64Array(0); // admission time, ms
  upStart = new Int32Array(0); // first edge id of the node's inputs
  upCount = new Uint8Array(0); // inputs (<= 64)
  downHead = new Int32Array(0); // last edge naming the node as input, -1 none
  nextSameDataset = new Int32Array(0);
  nextSameVersion = new Int32Array(0);
  nextSameSource = new Int32Array(0);
  // Query scratch (queries are synchronous, so one set of marks serves them all).
  mark = new Uint32Array(0);
  depthOf = new Int32Array(0);
  epoch = 0;

  // Per edge e: input edgeParent[e] is named by event edgeChild[e].
  edgeParent = new Int32Array(0);
  edgeChild = new Int32Array(0);
  downNext = new Int32Array(0); // previous edge into the same parent, -1 none

  // Per ledger index: node id, -1 for governance events.
  nodeOfIndex = new Int32Array(0);

  // Group lists in ledger order: [head, tail] per dataset / source string id, per version id.
  readonly datasetList = new Map<number, [number, number]>();
  readonly sourceList = new Map<number, [number, number]>();
  versionHead = new Int32Array(0);
  versionTail = new Int32Array(0);

  /** Transfer node ids in ledger order (flows scan them). */
  transfers = new Int32Array(0);
  transferCount = 0;

  ensureNode(id: number): void {
    if (id < this.nodeCount) return;
    if (id >= this.nodeCap) {
      const cap = Math.max(1024, this.nodeCap * 2);
      this.index = grownI32(this.index, cap, -1);
      this.type = grownU8(this.type, cap, NO_TYPE);
      this.emitter = grownI32(this.emitter, cap, -1);
      this.purpose = grownI32(this.purpose, cap, -1);
      this.recipient = grownI32(this.recipient, cap, -1);
      this.dataset = grownI32(this.dataset, cap, -1);
      this.version = grownI32(this.version, cap, -1);
      this.source = grownI32(this.source, cap, -1);
      this.ownCats = grownI32(this.ownCats, cap, -1);
      this.effCats = grownI32(this.effCats, cap, -1);
      this.time = grownF64(this.time, cap);
      this.admitted = grownF64(this.admitted, cap);
      this.upStart = grownI32(this.upStart, cap, 0);
      this.upCount = grownU8(this.upCount, cap, 0);
      this.downHead = grownI32(this.downHead, cap, -1);
      this.nextSameDataset = grownI32(this.nextSameDataset, cap, -1);
      this.nextSameVersion = grownI32(this.nextSameVersion, cap, -1);
      this.nextSameSource = grownI32(this.nextSameSource, cap, -1);
      this.mark = grownU32(this.mark, cap);
      this.depthOf = grownI32(this.depthOf, cap, 0);
      this.nodeCap = cap;
    }
    this.nodeCount = id + 1;
  }

  addEdge(parent: number, child: number): void {
    if (this.edgeCount === this.edgeCap) {
      const cap = Math.max(2048, this.edgeCap * 2);
      this.edgeParent = grownI32(this.edgeParent, cap, 0);
      this.edgeChild = grownI32(this.edgeChild, cap, 0);
      this.downNext = grownI32(this.downNext, cap, 0);
      this.edgeCap = cap;
    }
    const e = this.edgeCount++;
    this.edgeParent[e] = parent;
    this.edgeChild[e] = child;
    this.downNext[e] = this.downHead[parent]!;
    this.downHead[parent] = e;
  }

  setIndexSlot(ledgerIndex: number, node: number): void {
    if (ledgerIndex >= this.nodeOfIndex.length) {
      this.nodeOfIndex = grownI32(this.nodeOfIndex, Math.max(1024, this.nodeOfIndex.length * 2), -1);
    }
    this.nodeOfIndex[ledgerIndex] = node;
  }

  ensureVersion(id: number): void {
    if (id < this.versionHead.length) return;
    const cap = Math.max(1024, this.versionHead.length * 2);
    this.versionHead = grownI32(this.versionHead, cap, -1);
    this.versionTail = grownI32(this.versionTail, cap, -1);
  }

  pushTransfer(node: number): void {
    if (this.transferCount === this.transfers.length) {
      this.transfers = grownI32(this.transfers, Math.max(1024, this.transfers.length * 2), 0);
    }
    this.transfers[this.transferCount++] = node;
  }

  catSet(ids: number[]): number {
    ids.sort((a, b) => a - b);
    const key = ids.join(',');
    let id = this.catSetIds.get(key);
    if (id === undefined) {
      id = this.catSets.length;
      this.catSets.push(ids);
      this.catSetIds.set(key, id);
    }
    return id;
  }

  catUnion(a: number, b: number): number {
    if (a < 0) return b;
    if (b < 0 || a === b) return a;
    const key = a < b ? `${a},${b}` : `${b},${a}`;
    let id = this.catUnions.get(key);
    if (id === undefined) {
      id = this.catSet([...new Set([...this.catSets[a]!, ...this.catSets[b]!])]);
      this.catUnions.set(key, id);
    }
    return id;
  }

  categories(set: number): string[] {
    return set < 0 ? [] : this.catSets[set]!.map((s) => this.strings.list[s]!);
  }

  /** A fresh mark value for one query's visited set. */
  nextEpoch(): number {
    if (this.epoch === 0xffffffff) {
      this.mark.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }

  /** Bytes held by typed arrays (capacity, not just the used part). */
  get typedBytes(): number {
    const arrays = [
      this.index,
      this.type,
      this.emitter,
      this.purpose,
      this.recipient,
      this.dataset,
      this.version,
      this.source,
      this.ownCats,
      this.effCats,
      this.time,
      this.admitted,
      this.upStart,
      this.upCount,
      this.downHead,
      this.nextSameDataset,
      this.nextSameVersion,
      this.nextSameSource,
      this.mark,
      this.depthOf,
      this.edgeParent,
      this.edgeChild,
      this.downNext,
      this.nodeOfIndex,
      this.versionHead,
      this.versionTail,
      this.transfers,
    ];
    return arrays.reduce((n, a) => n + a.byteLength, 0) + this.events.bytes + this.versions.bytes;
  }
}
