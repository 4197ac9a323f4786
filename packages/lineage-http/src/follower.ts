// Keeps a LineageIndex current with a store another component appends to: built once at
// start, then extended with the ledger's appended events as they commit (standalone: no
// leaf read or parsed again), or by `catchUp` — on a timer
// (the query service, which does not see appends), and on demand before a query that asks
// about a size the index has not read yet. Catch-ups never run concurrently (the index
// must be extended in ledger order); requests during a run are folded into one more run.
import { LineageIndex, type AppendedEvent, type LeafSource } from '@civic-ledger/lineage';

export interface FollowerOptions {
  /** Reads the store's head again every this many ms (default: no timer). */
  intervalMs?: number;
  /** Told when a background catch-up fails (the store is unreachable); the index stays as it was. */
  onError?: (error: unknown) => void;
}

export class LineageFollower {
  readonly index: LineageIndex;
  readonly #store: LeafSource;
  /** Told when a background catch-up fails; settable after open (e.g. once a logger exists). */
  onError: ((error: unknown) => void) | undefined;
  #queued: Promise<number> | undefined;
  /** Catch-ups started and not yet settled. */
  #running = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  private constructor(index: LineageIndex, store: LeafSource, onError?: (error: unknown) => void) {
    this.index = index;
    this.#store = store;
    this.onError = onError;
  }

  /** Builds the index from every leaf the store holds now. */
  static async open(store: LeafSource, options: FollowerOptions = {}): Promise<LineageFollower> {
    const follower = new LineageFollower(await LineageIndex.build(store), store, options.onError);
    if (options.intervalMs !== undefined) {
      follower.#timer = setInterval(() => follower.notify(), options.intervalMs);
      follower.#timer.unref();
    }
    return follower;
  }

  /** The tree size the index has read. */
  get size(): number {
    return this.index.size;
  }

  /**
   * Reads the leaves appended since; resolves with the index's size. A run reads the head
   * when it starts, so the promise covers every leaf committed before the call: a call
   * while a run is going queues one more run (shared by every call until it starts).
   */
  catchUp(): Promise<number> {
    if (this.#queued) return this.#queued;
    const run = this.#tail
      .catch(() => undefined)
      .then(async () => {
        this.#queued = undefined;
        this.#running++;
        try {
          await this.index.catchUp(this.#store);
        } finally {
          this.#running--;
        }
        return this.index.size;
      });
    this.#queued = run;
    this.#tail = run;
    return run;
  }

  /**
   * The ledger's append hook: events just committed, in ledger order. Indexed here and now
   * when they follow what the index holds and no catch-up is under way (which reads them
   * from the store itself); otherwise a catch-up in the background.
   */
  appended(entries: readonly AppendedEvent[]): void {
    if (this.#running > 0 || this.#queued) return this.notify();
    for (const e of entries) {
      if (e.index < this.index.size) continue; // already read (the build or a catch-up)
      if (e.index > this.index.size) return this.notify(); // a gap: read it from the store
      try {
        this.index.addAppended(e);
      } catch (error) {
        this.onError?.(error);
        return;
      }
    }
  }

  /** A catch-up in the background (hooks and timers): errors go to onError. */
  notify(): void {
    this.catchUp().catch((e: unknown) => this.onError?.(e));
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
