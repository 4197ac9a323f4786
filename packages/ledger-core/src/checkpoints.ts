// Signed checkpoints (C2SP tlog-checkpoint) on a size/time policy: one as soon as
// `maxEntries` entries are unsigned, and otherwise within `maxDelayMs` of an append, so a
// receipt's promise ("the next checkpoint includes this event") has a bound.
import { toHex } from '@civic-ledger/crypto';
import { signCheckpoint, type NoteSigner } from '@civic-ledger/signed-note';
import type { LedgerStore } from '@civic-ledger/storage';

export interface CheckpointPolicy {
  /** Sign when this many entries are not yet covered (default 1000). */
  maxEntries: number;
  /** Sign uncovered entries at most this long after they were appended (default 1000 ms). */
  maxDelayMs: number;
}

export type CheckpointSigner = NoteSigner | readonly NoteSigner[];

export class Checkpointer {
  readonly #store: LedgerStore;
  readonly #origin: string;
  readonly #signers: CheckpointSigner;
  readonly #policy: CheckpointPolicy;
  readonly #now: () => number;
  readonly #onCheckpoint: ((cp: { size: number; note: string }) => void) | undefined;
  #last: { size: number; root: string; note: string } | undefined;
  #loaded = false;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    store: LedgerStore,
    origin: string,
    signers: CheckpointSigner,
    policy: Partial<CheckpointPolicy>,
    now: (() => number) | undefined,
    onCheckpoint?: (cp: { size: number; note: string }) => void,
  ) {
    this.#onCheckpoint = onCheckpoint;
    this.#store = store;
    this.#origin = origin;
    this.#signers = signers;
    this.#policy = { maxEntries: policy.maxEntries ?? 1000, maxDelayMs: policy.maxDelayMs ?? 1000 };
    this.#now = now ?? Date.now;
  }

  get policy(): CheckpointPolicy {
    return this.#policy;
  }

  /** Starts the timer that covers entries appended less than maxEntries ago. */
  start(current: () => { size: number; root: Uint8Array }): void {
    this.#timer = setInterval(() => {
      const { size, root } = current();
      if (this.#loaded && size > (this.#last?.size ?? 0)) void this.checkpoint(size, root).catch(() => {});
      if (!this.#loaded) void this.#load().then(() => undefined);
    }, this.#policy.maxDelayMs / 2);
    this.#timer.unref();
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    const latest = await this.#store.latestCheckpoint();
    if (latest && (this.#last === undefined || latest.size > this.#last.size)) {
      this.#last = { size: latest.size, root: '', note: latest.note };
    }
    this.#loaded = true;
  }

  async onAppend(size: number, root: Uint8Array): Promise<void> {
    await this.#load();
    if (size - (this.#last?.size ?? 0) >= this.#policy.maxEntries) await this.checkpoint(size, root);
  }

  /** Signs and stores the checkpoint of (size, root) unless the last one already is it. */
  checkpoint(size: number, root: Uint8Array): Promise<{ size: number; note: string }> {
    const run = async () => {
      await this.#load();
      if (this.#last && this.#last.size >= size) {
        const stored =
          this.#last.size === size ? this.#last.note : (await this.#store.getCheckpoint(size))?.note;
        if (stored !== undefined) return { size, note: stored };
      }
      const note = signCheckpoint(
        { origin: this.#origin, size, rootHash: root, extensions: [] },
        this.#signers,
      );
      await this.#store.putCheckpoint({ size, note, createdAt: this.#now() });
      if (!this.#last || size > this.#last.size) this.#last = { size, root: toHex(root), note };
      try {
        this.#onCheckpoint?.({ size, note });
      } catch {
        // A notification hook never fails the checkpoint.
      }
      return { size, note };
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#chain;
  }
}
