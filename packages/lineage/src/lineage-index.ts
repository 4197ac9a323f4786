// The lineage index: built from the log's leaves in ledger order, rebuildable from them at
// any time. Only movements (collect, transfer, derive, use, publish, delete) become nodes;
// governance events count towards the size (the tree size the index stands at) and
// nothing else.
import { decodeLeaf } from '@civic-ledger/leaf';
import { timeToMillis } from '@civic-ledger/schemas';
import type { LeafRecord, LedgerStore } from '@civic-ledger/storage';
import { LineageError } from './errors.ts';
import { Graph, TYPE_CODE } from './graph.ts';

export interface AddOptions {
  /**
   * Decode each leaf strictly (`decodeLeaf`: canonical form, re-encoding, event hash
   * recomputed and compared with the record's). Off by default: leaves read from the
   * ledger's own store were checked at admission, and a plain JSON parse is ~10x faster.
   */
  checkLeaves?: boolean;
}

export interface BuildOptions extends AddOptions {
  /** Read leaves up to this tree size (default: the store's head). */
  size?: number;
  /** Leaves per `getLeaves` call (default 5000). */
  pageSize?: number;
}

/** The part of a store the index reads. */
export type LeafSource = Pick<LedgerStore, 'head' | 'getLeaves'>;

const decoder = new TextDecoder();

/** Where an event stands in the log: what errors name and what the index keys on. */
interface Placed {
  index: number;
  eventHash: string;
}

/** An event the ledger has just appended, already decoded (the ledger's append hook). */
export interface AppendedEvent extends Placed {
  /** Admission time, RFC 3339 UTC (the leaf's `admitted`). */
  admitted: string;
  event: object;
}
const graphs = new WeakMap<LineageIndex, Graph>();

/** The index's graph, for the query functions of this package (not exported by the barrel). */
export function graphOf(index: LineageIndex): Graph {
  return graphs.get(index)!;
}

function bad(record: Placed, what: string, cause?: unknown): LineageError {
  return new LineageError(
    'LEAF_INVALID',
    `leaf ${record.index}: ${what}`,
    cause === undefined ? undefined : { cause },
  );
}

function str(record: Placed, o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw bad(record, `event.${field} must be a string`);
  return v;
}

function strList(record: Placed, o: Record<string, unknown>, field: string): string[] {
  const v = o[field];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw bad(record, `event.${field} must be a list of strings`);
  }
  return v as string[];
}

function millis(record: Placed, s: string, field: string): number {
  const ms = timeToMillis(s);
  if (!Number.isFinite(ms)) throw bad(record, `${field} must be an RFC 3339 UTC time`);
  return ms;
}

export class LineageIndex {
  readonly #g = new Graph();
  readonly #checkLeaves: boolean;

  constructor(options: AddOptions = {}) {
    this.#checkLeaves = options.checkLeaves ?? false;
    graphs.set(this, this.#g);
  }

  /** Reads the store's leaves [0, size) in pages and indexes them. */
  static async build(store: LeafSource, options: BuildOptions = {}): Promise<LineageIndex> {
    const index = new LineageIndex(options);
    await index.catchUp(store, options);
    return index;
  }

  /** Leaves read so far: the tree size the index answers for by default. */
  get size(): number {
    return this.#g.size;
  }

  /** Movement events indexed (placeholders excluded). */
  get events(): number {
    let n = 0;
    const idx = this.#g.index;
    for (let i = 0; i < this.#g.nodeCount; i++) if (idx[i]! >= 0) n++;
    return n;
  }

  /** Lineage edges (event -> one of its inputs). */
  get edges(): number {
    return this.#g.edgeCount;
  }

  /** Bytes in the index's typed arrays (capacity); strings and maps are small beside them. */
  get typedBytes(): number {
    return this.#g.typedBytes;
  }

  /** The latest movement (highest ledger index) whose dataset is `datasetId`, if any. */
  latestEventOf(datasetId: string): { eventHash: string; index: number } | undefined {
    const g = this.#g;
    const id = g.strings.lookup(datasetId);
    const list = id < 0 ? undefined : g.datasetList.get(id);
    if (list === undefined) return undefined;
    return { eventHash: g.events.hex(list[1]), index: g.index[list[1]]! };
  }

  /** Reads and indexes the store's leaves from `size` up to its head (or `options.size`). */
  async catchUp(store: LeafSource, options: Omit<BuildOptions, 'checkLeaves'> = {}): Promise<void> {
    const target = options.size ?? (await store.head()).size;
    const pageSize = options.pageSize ?? 5000;
    while (this.#g.size < target) {
      const from = this.#g.size;
      const leaves = await store.getLeaves(from, Math.min(target, from + pageSize));
      if (leaves.length === 0) {
        throw new LineageError('OUT_OF_ORDER', `the store has no leaf at ${from} (below size ${target})`);
      }
      for (const leaf of leaves) this.add(leaf);
    }
  }

  /** Indexes one leaf; leaves come in ledger order (`record.index === size`). */
  add(record: LeafRecord): void {
    const g = this.#g;
    if (record.index !== g.size) {
      throw new LineageError('OUT_OF_ORDER', `leaf ${record.index} added at size ${g.size}`);
    }
    let leaf: Record<string, unknown>;
    if (this.#checkLeaves) {
      let decoded;
      try {
        decoded = decodeLeaf(record.leaf);
      } catch (cause) {
        throw bad(record, 'does not decode', cause);
      }
      if (decoded.eventHash !== record.eventHash) throw bad(record, 'event hash differs from the record');
      leaf = { index: decoded.index, admitted: decoded.admitted, event: decoded.event };
    } else {
      try {
        leaf = JSON.parse(decoder.decode(record.leaf)) as Record<string, unknown>;
      } catch (cause) {
        throw bad(record, 'is not JSON', cause);
      }
    }
    if (leaf['index'] !== record.index) throw bad(record, 'leaf index differs from the record');
    const event = leaf['event'];
    if (typeof event !== 'object' || event === null) throw bad(record, 'has no event');
    this.#addEvent(record, leaf['admitted'], event as Record<string, unknown>);
  }

  /**
   * Indexes an event the ledger has just appended, from its decoded form (no leaf read or
   * parse); events come in ledger order, like `add`.
   */
  addAppended(entry: AppendedEvent): void {
    if (entry.index !== this.#g.size) {
      throw new LineageError('OUT_OF_ORDER', `leaf ${entry.index} added at size ${this.#g.size}`);
    }
    this.#addEvent(entry, entry.admitted, entry.event as Record<string, unknown>);
  }

  #addEvent(record: Placed, admittedText: unknown, e: Record<string, unknown>): void {
    const g = this.#g;
    const code = TYPE_CODE.get(e['type'] as string);
    if (code === undefined) {
      // Governance (register, declare, key, attest, finding): no lineage node.
      g.setIndexSlot(record.index, -1);
      g.size++;
      return;
    }

    const emitter = str(record, e, 'emitter');
    const purpose = str(record, e, 'purpose');
    const time = millis(record, str(record, e, 'time'), 'event.time');
    const admitted = millis(record, typeof admittedText === 'string' ? admittedText : '', 'admitted');
    const ds = e['dataset'] as Record<string, unknown> | undefined;
    if (typeof ds !== 'object' || ds === null) throw bad(record, 'event.dataset must be an object');
    const datasetId = str(record, ds, 'id');
    const versionText = str(record, ds, 'version');
    const inputs = strList(record, e, 'inputs');
    const recipient = code === TYPE_CODE.get('transfer') ? str(record, e, 'recipient') : undefined;
    const source = code === TYPE_CODE.get('collect') ? str(record, e, 'source') : undefined;
    const cats = e['categories'] === undefined ? undefined : strList(record, e, 'categories');
    if (!versionText.startsWith('sha256:')) throw bad(record, 'event.dataset.version must be a digest');

    const node = g.events.intern(record.eventHash);
    if (node < 0) throw bad(record, 'eventHash must be 64 lower-case hex digits');
    g.ensureNode(node);
    if (g.index[node]! >= 0) {
      // The same event twice (the ledger refuses it): the first admission stands.
      g.setIndexSlot(record.index, -1);
      g.size++;
      return;
    }
    const version = g.versions.intern(versionText.slice(7));
    if (version < 0) throw bad(record, 'event.dataset.version must be a digest');
    // Resolve inputs before writing anything, so a bad input leaves the index unchanged.
    const parents: number[] = [];
    for (const h of inputs) {
      const p = g.events.intern(h);
      if (p < 0) throw bad(record, 'event.inputs must be event hashes');
      if (p === node) throw bad(record, 'event names itself as input');
      g.ensureNode(p);
      if (!parents.includes(p)) parents.push(p);
    }

    g.index[node] = record.index;
    g.type[node] = code;
    g.emitter[node] = g.strings.intern(emitter);
    g.purpose[node] = g.strings.intern(purpose);
    g.recipient[node] = recipient === undefined ? -1 : g.strings.intern(recipient);
    const dsId = g.strings.intern(datasetId);
    g.dataset[node] = dsId;
    g.version[node] = version;
    g.time[node] = time;
    g.admitted[node] = admitted;
    g.upStart[node] = g.edgeCount;
    g.upCount[node] = parents.length;
    let eff = -1;
    for (const p of parents) {
      g.addEdge(p, node);
      eff = g.catUnion(eff, g.effCats[p]!);
    }
    if (cats !== undefined && cats.length > 0) {
      const own = g.catSet([...new Set(cats.map((c) => g.strings.intern(c)))]);
      g.ownCats[node] = own;
      eff = own;
    }
    g.effCats[node] = eff;

    const dl = g.datasetList.get(dsId);
    if (dl === undefined) g.datasetList.set(dsId, [node, node]);
    else {
      g.nextSameDataset[dl[1]] = node;
      dl[1] = node;
    }
    g.ensureVersion(version);
    const vt = g.versionTail[version]!;
    if (vt < 0) g.versionHead[version] = node;
    else g.nextSameVersion[vt] = node;
    g.versionTail[version] = node;
    if (source !== undefined) {
      const sId = g.strings.intern(source);
      g.source[node] = sId;
      const sl = g.sourceList.get(sId);
      if (sl === undefined) g.sourceList.set(sId, [node, node]);
      else {
        g.nextSameSource[sl[1]] = node;
        sl[1] = node;
      }
    }
    if (recipient !== undefined) g.pushTransfer(node);
    g.setIndexSlot(record.index, node);
    g.size++;
  }
}
