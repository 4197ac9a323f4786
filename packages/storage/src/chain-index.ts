// The in-memory chain positions of the SQLite adapter: for each chain (`emitter/stream`),
// the ledger indexes of its events in ledger order. A B-tree on (chain, seq) dirties one
// page per chain touched by every commit (with 100 chains it halved insert throughput),
// so positions live here, loaded from the append-only `lookups` rows like the hash index.
//
// The ledger appends seq 1, 2, 3... to each chain, so a chain is normally stored as its
// first seq and a Uint32Array of ledger indexes (4 bytes per entry, up to 8 while the array
// grows). A chain whose seqs are not consecutive also keeps them (8 more bytes per entry).
// Results name candidates only: the caller checks them against the stored row.

interface Chain {
  /** Seq of the first entry. */
  base: number;
  n: number;
  idx: Uint32Array;
  /** Seq per entry, once the seqs stop being base, base + 1, ... */
  seqs: Float64Array | undefined;
  /** Whether `seqs` is ascending (then searched by bisection). */
  ascending: boolean;
  /** Position of the highest seq (the first one, on ties). */
  top: number;
}

export class ChainIndex {
  #chains = new Map<string, Chain>();
  #bytes = 0;

  /** Bytes of the typed arrays. */
  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#chains.clear();
    this.#bytes = 0;
  }

  /** Records that ledger index `index` holds `seq` of `chain` (in ledger index order). */
  add(chain: string, seq: number, index: number): void {
    let c = this.#chains.get(chain);
    if (c === undefined) {
      c = { base: seq, n: 0, idx: new Uint32Array(4), seqs: undefined, ascending: true, top: 0 };
      this.#bytes += c.idx.byteLength;
      this.#chains.set(chain, c);
    }
    if (c.n === c.idx.length) {
      const idx = new Uint32Array(c.n * 2);
      idx.set(c.idx);
      this.#bytes += idx.byteLength - c.idx.byteLength;
      c.idx = idx;
      if (c.seqs) c.seqs = this.#grow(c.seqs, c.n * 2);
    }
    if (c.seqs === undefined && seq !== c.base + c.n) {
      c.seqs = new Float64Array(c.idx.length);
      this.#bytes += c.seqs.byteLength;
      for (let k = 0; k < c.n; k++) c.seqs[k] = c.base + k;
    }
    const prev = c.n === 0 ? undefined : this.#seqAt(c, c.n - 1);
    if (c.seqs) c.seqs[c.n] = seq;
    c.idx[c.n] = index;
    if (prev !== undefined && seq <= prev) c.ascending = false;
    if (c.n > 0 && seq > this.#seqAt(c, c.top)) c.top = c.n;
    c.n++;
  }

  #grow(a: Float64Array, n: number): Float64Array {
    const b = new Float64Array(n);
    b.set(a);
    this.#bytes += b.byteLength - a.byteLength;
    return b;
  }

  #seqAt(c: Chain, k: number): number {
    return c.seqs === undefined ? c.base + k : c.seqs[k]!;
  }

  /** The ledger index holding `seq` of `chain`, if any. */
  entry(chain: string, seq: number): number | undefined {
    const c = this.#chains.get(chain);
    if (c === undefined) return undefined;
    if (c.seqs === undefined) {
      const k = seq - c.base;
      return Number.isInteger(k) && k >= 0 && k < c.n ? c.idx[k] : undefined;
    }
    if (c.ascending) {
      let lo = 0;
      let hi = c.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (c.seqs[mid]! < seq) lo = mid + 1;
        else hi = mid;
      }
      return lo < c.n && c.seqs[lo] === seq ? c.idx[lo] : undefined;
    }
    for (let k = 0; k < c.n; k++) if (c.seqs[k] === seq) return c.idx[k];
    return undefined;
  }

  /** The ledger index of the highest seq of `chain`, if any. */
  head(chain: string): number | undefined {
    const c = this.#chains.get(chain);
    return c === undefined ? undefined : c.idx[c.top];
  }
}
