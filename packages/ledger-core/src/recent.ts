// The entries this writer appended most recently (and, after opening, the tail of the log),
// kept in memory: inputs naming recent events, redelivered duplicates and their receipts are
// answered without a store read. Stores whose lookups are slow (FerretDB scans a collection
// for them) would otherwise pay a scan per batch. Bounded: the oldest are forgotten first,
// and anything not found here is looked up in the store as before.
import type { Receipt } from './ledger.ts';

export class RecentEntries {
  readonly #capacity: number;
  readonly #byHash = new Map<string, Receipt>();
  /** chain -> seq -> receipt (numeric keys: no position string per entry). */
  readonly #byChain = new Map<string, Map<number, Receipt>>();
  // What was added, oldest first (a ring of `#capacity` slots), to forget the oldest.
  readonly #ring: { receipt: Receipt; chain: string; seq: number }[] = [];
  #oldest = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  add(receipt: Receipt, chain: string, seq: number): void {
    if (this.#capacity === 0) return;
    const entry = { receipt, chain, seq };
    if (this.#ring.length < this.#capacity) this.#ring.push(entry);
    else {
      const old = this.#ring[this.#oldest]!;
      this.#ring[this.#oldest] = entry;
      this.#oldest = (this.#oldest + 1) % this.#capacity;
      // Forget it unless it was added again since (its maps then name the newer entry).
      if (this.#byHash.get(old.receipt.eventHash) === old.receipt) this.#byHash.delete(old.receipt.eventHash);
      const seqs = this.#byChain.get(old.chain);
      if (seqs?.get(old.seq) === old.receipt) {
        seqs.delete(old.seq);
        if (seqs.size === 0) this.#byChain.delete(old.chain);
      }
    }
    this.#byHash.set(receipt.eventHash, receipt);
    let seqs = this.#byChain.get(chain);
    if (seqs === undefined) this.#byChain.set(chain, (seqs = new Map()));
    seqs.set(seq, receipt);
  }

  receipt(eventHash: string): Receipt | undefined {
    return this.#byHash.get(eventHash);
  }

  /** The event hash at a chain position, if it is among the recent entries. */
  at(chain: string, seq: number): string | undefined {
    return this.#byChain.get(chain)?.get(seq)?.eventHash;
  }

  get size(): number {
    return this.#byHash.size;
  }
}
