// The entries this writer appended most recently (and, after opening, the tail of the log),
// kept in memory: inputs naming recent events, redelivered duplicates and their receipts are
// answered without a store read. Stores whose lookups are slow (FerretDB scans a collection
// for them) would otherwise pay a scan per batch. Bounded: the oldest are forgotten first,
// and anything not found here is looked up in the store as before.
import type { Receipt } from './ledger.ts';

export class RecentEntries {
  readonly #capacity: number;
  readonly #byHash = new Map<string, { receipt: Receipt; position: string }>();
  readonly #byPosition = new Map<string, string>();

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  add(receipt: Receipt, chain: string, seq: number): void {
    if (this.#capacity === 0) return;
    const position = `${chain}#${seq}`;
    this.#byHash.set(receipt.eventHash, { receipt, position });
    this.#byPosition.set(position, receipt.eventHash);
    while (this.#byHash.size > this.#capacity) {
      const [hash, oldest] = this.#byHash.entries().next().value!;
      this.#byHash.delete(hash);
      if (this.#byPosition.get(oldest.position) === hash) this.#byPosition.delete(oldest.position);
    }
  }

  receipt(eventHash: string): Receipt | undefined {
    return this.#byHash.get(eventHash)?.receipt;
  }

  /** The event hash at a chain position, if it is among the recent entries. */
  at(chain: string, seq: number): string | undefined {
    return this.#byPosition.get(`${chain}#${seq}`);
  }

  get size(): number {
    return this.#byHash.size;
  }
}
