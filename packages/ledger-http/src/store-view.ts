// A read-only view of a log that another process writes (the query service next to the
// sequencer): the size comes from the store's head, refreshed on a timer and on demand, and
// proofs are computed from the stored tree nodes like the ledger core does.
import { LedgerError } from '@civic-ledger/ledger-core';
import { consistencyProof, inclusionProof, type NodeReader } from '@civic-ledger/merkle';
import type { LedgerStore } from '@civic-ledger/storage';
import type { LogAccess } from './app.ts';
import { ApiError } from './errors.ts';

export interface StoreLogViewOptions {
  /** How often the head is read again (default 250 ms). */
  refreshMs?: number;
  /** Told when a refresh fails (the store is unreachable); the last size stays. */
  onError?: (error: unknown) => void;
}

export class StoreLogView implements LogAccess {
  readonly #store: LedgerStore;
  readonly #onError: ((error: unknown) => void) | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(store: LedgerStore, onError: ((error: unknown) => void) | undefined) {
    this.#store = store;
    this.#onError = onError;
  }

  static async open(store: LedgerStore, options: StoreLogViewOptions = {}): Promise<StoreLogView> {
    const view = new StoreLogView(store, options.onError);
    await view.refresh();
    view.#timer = setInterval(
      () => void view.refresh().catch((e) => view.#onError?.(e)),
      options.refreshMs ?? 250,
    );
    view.#timer.unref();
    return view;
  }

  /** Reads the head again; the size never goes back (a head only moves forward). */
  async refresh(): Promise<number> {
    const head = await this.#store.head();
    if (head.size > this.#size) this.#size = head.size;
    return this.#size;
  }

  get size(): number {
    return this.#size;
  }

  get writable(): boolean {
    return false;
  }

  async submit(): Promise<never> {
    throw new LedgerError('NOT_WRITER', 'this is the read API: submit events to the ingest service');
  }

  inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    return inclusionProof(this.#store as unknown as NodeReader, index, size);
  }

  consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    return consistencyProof(this.#store as unknown as NodeReader, size1, size2);
  }

  /** The latest stored checkpoint: only the sequencer signs. */
  async checkpointNow(): Promise<{ size: number; note: string }> {
    const latest = await this.#store.latestCheckpoint();
    if (!latest) throw new ApiError('NOT_FOUND', 'the log has no checkpoint yet');
    return latest;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
