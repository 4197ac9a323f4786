// The in-memory lookup by event hash of the SQLite adapter: a multimap from a 48-bit hash
// prefix to the ledger indexes whose event hash starts with it. Keys arrive in ledger
// index order (0, 1, 2...), so each index's key is kept in dense typed arrays and the
// table (open addressing, linear probing) stores only index + 1 per slot (0 = empty).
// A key names candidates; the caller compares the full hash of each candidate's row.
//
// Memory per entry: 6 bytes of key (Uint32 + Uint16) plus 4 bytes per slot at a load
// factor kept between 3/8 and 3/4: 11.3-16.7 bytes, plus up to 6 more while the key arrays
// grow (doubling) and 12 per entry of a bulk load in progress (at most 2^20 entries at a
// time). Indexes are Uint32: at most 2^32 - 2 entries.
//
// Bulk loads (push many, then place) insert in order of home slot, a partition of the
// table at a time: one random cache miss per entry (~0.3 µs at 1M entries here) becomes
// mostly sequential memory traffic.

const MAX_LOAD = 0.75;
/** Entries placed per partitioned pass (bounds the pass's scratch memory to 12 MiB). */
const PASS = 1 << 20;

/** The 48-bit lookup key of a lower-case hex event hash, as (high 16 bits, low 32 bits). */
export function keyParts(eventHash: string): [hi: number, lo: number] {
  return [parseInt(eventHash.slice(0, 4), 16), parseInt(eventHash.slice(4, 12), 16) >>> 0];
}

export class HashIndex {
  #hi: Uint16Array;
  #lo: Uint32Array;
  #slots: Uint32Array;
  #shift: number;
  /** Entries in the key arrays. */
  #size = 0;
  /** Entries placed in the table (the rest were pushed and await `flush`). */
  #placed = 0;
  /** Bits of the 48-bit key dropped; more than 0 only in tests, to force prefix collisions. */
  readonly #dropBits: number;

  /** `expected`: entries to size the table for (avoids rehashing while loading). */
  constructor(options: { expected?: number; keyBits?: number } = {}) {
    const bits = options.keyBits ?? 48;
    if (!Number.isInteger(bits) || bits < 1 || bits > 48) throw new RangeError('keyBits must be 1..48');
    this.#dropBits = 48 - bits;
    const expected = Math.max(1024, options.expected ?? 0);
    this.#hi = new Uint16Array(expected);
    this.#lo = new Uint32Array(expected);
    this.#shift = 32 - Math.ceil(Math.log2(expected / MAX_LOAD));
    this.#slots = new Uint32Array(2 ** (32 - this.#shift));
  }

  /** Entries held: the ledger indexes 0..size-1. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the typed arrays. */
  get bytes(): number {
    return this.#hi.byteLength + this.#lo.byteLength + this.#slots.byteLength;
  }

  /** Forgets everything (the derived rows were dropped). */
  clear(): void {
    this.#size = 0;
    this.#placed = 0;
    this.#slots.fill(0);
  }

  // Fibonacci hashing of both halves: event hashes are uniform already, but the narrowed
  // keys of tests are not, and the top bits of the product spread either well.
  #home(i: number): number {
    return Math.imul(this.#lo[i]! ^ Math.imul(this.#hi[i]!, 0x85ebca6b), 0x9e3779b1) >>> this.#shift;
  }

  /** Adds the key of ledger index `size` (keys must come in index order). */
  add(hi: number, lo: number): void {
    this.push(hi, lo);
    this.flush();
  }

  /** Like add, but the entry is only found after `flush` (bulk loads). */
  push(hi: number, lo: number): void {
    if (this.#dropBits !== 0) {
      const key = Math.floor((hi * 2 ** 32 + lo) / 2 ** this.#dropBits);
      hi = Math.floor(key / 2 ** 32);
      lo = key >>> 0;
    }
    const i = this.#size;
    if (i >= 0xfffffffe) throw new RangeError('hash index full');
    if (i === this.#lo.length) {
      const n = Math.min(0xfffffffe, i * 2);
      const h = new Uint16Array(n);
      h.set(this.#hi);
      this.#hi = h;
      const l = new Uint32Array(n);
      l.set(this.#lo);
      this.#lo = l;
    }
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#size = i + 1;
    if (this.#size - this.#placed >= PASS) this.flush();
  }

  /** Places every pushed entry in the table. */
  flush(): void {
    if (this.#placed === this.#size) return;
    if (this.#size > this.#slots.length * MAX_LOAD) {
      let slots = this.#slots.length;
      while (this.#size > slots * MAX_LOAD) slots *= 2;
      this.#shift = 32 - Math.log2(slots);
      this.#slots = new Uint32Array(slots);
      this.#placed = 0;
    }
    while (this.#placed < this.#size) {
      const to = Math.min(this.#size, this.#placed + PASS);
      this.#place(this.#placed, to);
      this.#placed = to;
    }
  }

  #place(from: number, to: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    if (to - from < 4096) {
      for (let i = from; i < to; i++) {
        let p = this.#home(i);
        while (slots[p] !== 0) p = (p + 1) & mask;
        slots[p] = i + 1;
      }
      return;
    }
    // Counting sort by the top 8 bits of the home slot, then place partition by partition.
    const n = to - from;
    const part = 32 - this.#shift - 8;
    const homes = new Uint32Array(n);
    const starts = new Uint32Array(257);
    for (let k = 0; k < n; k++) {
      const h = this.#home(from + k);
      homes[k] = h;
      starts[(h >>> part) + 1]!++;
    }
    for (let p = 1; p <= 256; p++) starts[p]! += starts[p - 1]!;
    // Scatter (home, index) pairs into 256 runs: sequential writes, sequential reads after.
    const sorted = new Uint32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const j = 2 * starts[homes[k]! >>> part]!++;
      sorted[j] = homes[k]!;
      sorted[j + 1] = from + k + 1;
    }
    for (let j = 0; j < 2 * n; j += 2) {
      let p = sorted[j]!;
      while (slots[p] !== 0) p = (p + 1) & mask;
      slots[p] = sorted[j + 1]!;
    }
  }

  /** Appends to `out` the ledger indexes whose key equals this one (in no particular order). */
  find(hi: number, lo: number, out: number[]): void {
    this.flush();
    if (this.#dropBits !== 0) {
      const key = Math.floor((hi * 2 ** 32 + lo) / 2 ** this.#dropBits);
      hi = Math.floor(key / 2 ** 32);
      lo = key >>> 0;
    }
    const slots = this.#slots;
    const mask = slots.length - 1;
    let p = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.#shift;
    for (let s = slots[p]!; s !== 0; p = (p + 1) & mask, s = slots[p]!) {
      if (this.#lo[s - 1] === lo && this.#hi[s - 1] === hi) out.push(s - 1);
    }
  }
}
