// The entries this writer appended most recently (and, after opening, the tail of the log),
// kept in memory: inputs naming recent events, redelivered duplicates and their receipts are
// answered without a store read. Stores whose lookups are slow (FerretDB scans a collection
// for them) would otherwise pay a scan per batch. Bounded: the oldest are forgotten first,
// and anything not found here is looked up in the store as before.
//
// Held in flat arrays, not objects: a ring of `capacity` slots (event hash and leaf hash
// bytes, index, seq, and references to strings shared across entries), and an
// open-addressing table from event hash to slot. Receipt objects kept per entry were,
// with the default 100,000 entries, ~110 MB of a writer's peak memory: each entry lived
// long enough to be promoted, and each one replaced left old-generation garbage.
import { isHex64 } from '@civic-ledger/crypto';
import type { Receipt } from './ledger.ts';

interface Chain {
  name: string;
  /** seq -> slot */
  seqs: Map<number, number>;
}

export class RecentEntries {
  readonly #capacity: number;
  readonly #eventHashes: Buffer;
  /** The first 4 bytes of each slot's event hash: probes compare these before the 32. */
  readonly #prefix: Uint32Array;
  readonly #leafHashes: Buffer;
  readonly #index: Float64Array;
  readonly #seq: Float64Array;
  /** Admission times: one string per batch, shared by its entries. */
  readonly #admitted: string[];
  readonly #chainOf: (Chain | undefined)[];
  readonly #chains = new Map<string, Chain>();
  /** Open addressing, linear probing: slot + 1 (0 = empty), homed by the hash's first 4 bytes. */
  readonly #table: Int32Array;
  readonly #mask: number;
  /** Slots used so far (the ring fills before it wraps), and the next one to write. */
  #used = 0;
  #next = 0;
  #size = 0;
  readonly #probe = Buffer.alloc(32);

  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
    const c = this.#capacity;
    this.#eventHashes = Buffer.alloc(32 * c);
    this.#prefix = new Uint32Array(c);
    this.#leafHashes = Buffer.alloc(32 * c);
    this.#index = new Float64Array(c);
    this.#seq = new Float64Array(c);
    this.#admitted = new Array<string>(c).fill('');
    this.#chainOf = new Array<Chain | undefined>(c).fill(undefined);
    let t = 1;
    while (t < 2 * c) t *= 2;
    this.#table = new Int32Array(c === 0 ? 0 : t);
    this.#mask = t - 1;
  }

  add(receipt: Receipt, chain: string, seq: number): void {
    if (this.#capacity === 0 || !isHex64(receipt.eventHash) || !isHex64(receipt.leafHash)) return;
    const s = this.#next;
    if (this.#used === this.#capacity) this.#forget(s);
    else this.#used++;
    this.#next = (s + 1) % this.#capacity;

    this.#eventHashes.write(receipt.eventHash, 32 * s, 32, 'hex');
    this.#prefix[s] = this.#eventHashes.readUInt32BE(32 * s);
    this.#leafHashes.write(receipt.leafHash, 32 * s, 32, 'hex');
    this.#index[s] = receipt.index;
    this.#seq[s] = seq;
    this.#admitted[s] = receipt.admitted;
    let c = this.#chains.get(chain);
    if (c === undefined) this.#chains.set(chain, (c = { name: chain, seqs: new Map() }));
    this.#chainOf[s] = c;
    c.seqs.set(seq, s);

    // The same event hash again (a re-added entry): the table names the newer slot.
    const at = this.#positionOf(this.#eventHashes, 32 * s);
    if (this.#table[at] === 0) this.#size++;
    this.#table[at] = s + 1;
  }

  /** Whether the event is among the recent entries (no receipt built). */
  has(eventHash: string): boolean {
    return this.#lookup(eventHash) >= 0;
  }

  receipt(eventHash: string): Receipt | undefined {
    const s = this.#lookup(eventHash);
    if (s < 0) return undefined;
    return {
      index: this.#index[s]!,
      eventHash,
      leafHash: this.#leafHashes.toString('hex', 32 * s, 32 * s + 32),
      admitted: this.#admitted[s]!,
    };
  }

  /** The event hash at a chain position, if it is among the recent entries. */
  at(chain: string, seq: number): string | undefined {
    const s = this.#chains.get(chain)?.seqs.get(seq);
    return s === undefined ? undefined : this.#eventHashes.toString('hex', 32 * s, 32 * s + 32);
  }

  get size(): number {
    return this.#size;
  }

  /** Drops what slot `s` holds from the chain map and the hash table (where they still name it). */
  #forget(s: number): void {
    const c = this.#chainOf[s];
    if (c !== undefined) {
      const seq = this.#seq[s]!;
      if (c.seqs.get(seq) === s) {
        c.seqs.delete(seq);
        if (c.seqs.size === 0) this.#chains.delete(c.name);
      }
      this.#chainOf[s] = undefined;
    }
    const at = this.#positionOf(this.#eventHashes, 32 * s);
    if (this.#table[at] === s + 1) this.#remove(at);
  }

  /**
   * Table position of the entry whose event hash equals bytes[offset, offset + 32), or the
   * empty one ending its probe run (where it would go). The table is never full.
   */
  #positionOf(bytes: Buffer, offset: number): number {
    const prefix = bytes.readUInt32BE(offset);
    for (let i = prefix & this.#mask; ; i = (i + 1) & this.#mask) {
      const v = this.#table[i]!;
      if (v === 0) return i;
      if (this.#prefix[v - 1] !== prefix) continue;
      const o = 32 * (v - 1);
      if (this.#eventHashes.compare(bytes, offset, offset + 32, o, o + 32) === 0) return i;
    }
  }

  /** The slot holding the event, or -1. */
  #lookup(eventHash: string): number {
    if (this.#size === 0 || !isHex64(eventHash)) return -1;
    this.#probe.write(eventHash, 0, 32, 'hex');
    return this.#table[this.#positionOf(this.#probe, 0)]! - 1;
  }

  /** Empties table position i, moving later entries of its probe run back (no tombstones). */
  #remove(i: number): void {
    const m = this.#mask;
    let hole = i;
    for (let j = (i + 1) & m; this.#table[j] !== 0; j = (j + 1) & m) {
      const home = this.#prefix[this.#table[j]! - 1]! & m;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        this.#table[hole] = this.#table[j]!;
        hole = j;
      }
    }
    this.#table[hole] = 0;
    this.#size--;
  }
}
