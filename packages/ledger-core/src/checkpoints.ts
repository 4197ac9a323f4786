// Signed checkpoints (C2SP tlog-checkpoint) on a size/time policy: one as soon as
// `maxEntries` entries are unsigned, and otherwise within `maxDelayMs` of an append, so a
// receipt's promise ("the next checkpoint includes this event") has a bound.
//
// With witnesses (see witnessing.ts) checkpoints follow a fixed cadence instead: every
// `intervalMs` the current tree is signed, sent to the policy's witnesses, and published
// (stored, served as the latest) only when their cosignatures satisfy the quorum; otherwise
// nothing is published and the next tick tries again. A published size is never signed
// again: the store keeps one note per size, so a later cosignature of it is reported, not added.
import { toHex } from '@civic-ledger/crypto';
import { consistencyProof, type NodeReader } from '@civic-ledger/merkle';
import { signCheckpoint, type NoteSigner } from '@civic-ledger/signed-note';
import type { LedgerStore } from '@civic-ledger/storage';
import {
  WitnessCoordinator,
  WitnessingError,
  describeShortfall,
  type ProofSource,
  type WitnessingOptions,
} from './witnessing.ts';

export interface CheckpointPolicy {
  /** Sign when this many entries are not yet covered (default 1000; not with witnesses). */
  maxEntries: number;
  /** Sign uncovered entries at most this long after they were appended (default 1000 ms;
   * with witnesses the cadence is witnessing.intervalMs). */
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
  readonly #witnesses: WitnessCoordinator | undefined;
  readonly #abort = new AbortController();
  readonly #proof: ProofSource;
  #last: { size: number; root: string; note: string } | undefined;
  #loaded = false;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** A witnessed tick is running; another came meanwhile. */
  #ticking = false;
  #tickAgain = false;

  constructor(
    store: LedgerStore,
    origin: string,
    signers: CheckpointSigner,
    policy: Partial<CheckpointPolicy>,
    now: (() => number) | undefined,
    onCheckpoint?: (cp: { size: number; note: string }) => void,
    witnessing?: WitnessingOptions,
  ) {
    this.#onCheckpoint = onCheckpoint;
    this.#store = store;
    this.#origin = origin;
    this.#signers = signers;
    this.#policy = { maxEntries: policy.maxEntries ?? 1000, maxDelayMs: policy.maxDelayMs ?? 1000 };
    this.#now = now ?? Date.now;
    this.#witnesses = witnessing === undefined ? undefined : new WitnessCoordinator(witnessing, this.#now);
    this.#proof = (from, to) => consistencyProof(store as NodeReader, from, to);
  }

  get policy(): CheckpointPolicy {
    return this.#policy;
  }

  /** The witnesses, when checkpoints are witnessed. */
  get witnesses(): WitnessCoordinator | undefined {
    return this.#witnesses;
  }

  /** How long after an append a checkpoint covering it is published (while a quorum holds). */
  get checkpointWithinMs(): number {
    return this.#witnesses?.checkpointWithinMs ?? this.#policy.maxDelayMs;
  }

  /** Starts the timer that covers entries appended less than maxEntries ago. */
  start(current: () => { size: number; root: Uint8Array }): void {
    if (this.#witnesses) {
      this.#timer = setInterval(() => this.#tick(current), this.#witnesses.intervalMs);
      this.#timer.unref();
      return;
    }
    this.#timer = setInterval(() => {
      const { size, root } = current();
      if (this.#loaded && size > (this.#last?.size ?? 0)) void this.checkpoint(size, root).catch(() => {});
      if (!this.#loaded) void this.#load().then(() => undefined);
    }, this.#policy.maxDelayMs / 2);
    this.#timer.unref();
  }

  /** One witnessed tick: a new checkpoint if the log grew, else bring lagging witnesses up to
   * the published one. A tick arriving during a round runs right after it. */
  #tick(current: () => { size: number; root: Uint8Array }): void {
    if (this.#abort.signal.aborted) return;
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = true;
    void (async () => {
      try {
        do {
          this.#tickAgain = false;
          await this.#load();
          const { size, root } = current();
          if (size > (this.#last?.size ?? 0)) await this.checkpoint(size, root).catch(() => undefined);
          else await this.#catchUp();
        } while (this.#tickAgain && !this.#abort.signal.aborted);
      } catch {
        // The next tick tries again.
      } finally {
        this.#ticking = false;
      }
    })();
  }

  #catchUp(): Promise<unknown> {
    const w = this.#witnesses;
    if (w === undefined || !w.needsCatchUp()) return Promise.resolve();
    const run = async () => {
      const last = this.#last;
      if (last !== undefined) await w.catchUp(last.note, this.#proof, this.#abort.signal);
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** Reads the latest stored checkpoint (the witnesses' status reports it from the start). */
  load(): Promise<void> {
    return this.#load();
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    const latest = await this.#store.latestCheckpoint();
    if (latest && (this.#last === undefined || latest.size > this.#last.size)) {
      this.#last = { size: latest.size, root: '', note: latest.note };
      this.#witnesses?.loadPublished(latest.note, latest.createdAt);
    }
    this.#loaded = true;
  }

  async onAppend(size: number, root: Uint8Array): Promise<void> {
    await this.#load();
    // Witnessed checkpoints follow the cadence only: a round per batch would flood witnesses.
    if (this.#witnesses) return;
    if (size - (this.#last?.size ?? 0) >= this.#policy.maxEntries) await this.checkpoint(size, root);
  }

  /**
   * Signs and stores the checkpoint of (size, root) unless the last one already is it. With
   * witnesses, stores it only once the quorum holds (else QUORUM_NOT_MET, nothing stored).
   */
  checkpoint(size: number, root: Uint8Array): Promise<{ size: number; note: string }> {
    const run = async () => {
      await this.#load();
      if (this.#last && this.#last.size >= size) {
        const stored =
          this.#last.size === size ? this.#last.note : (await this.#store.getCheckpoint(size))?.note;
        if (stored !== undefined) return { size, note: stored };
        // Witnessed: never a checkpoint smaller than the published one (witnesses refuse a rollback).
        if (this.#witnesses) return { size: this.#last.size, note: this.#last.note };
      }
      let note = signCheckpoint(
        { origin: this.#origin, size, rootHash: root, extensions: [] },
        this.#signers,
      );
      const w = this.#witnesses;
      let round;
      if (w) {
        const result = await w.cosign(note, this.#proof, this.#abort.signal);
        round = result.round;
        if (result.note === undefined) {
          throw new WitnessingError(
            'QUORUM_NOT_MET',
            `the checkpoint of size ${size} is not published: ${describeShortfall(round.shortfall)}`,
            { size, quorum: w.policy.quorum, witnesses: round.signed, shortfall: round.shortfall },
          );
        }
        note = result.note;
      }
      const createdAt = this.#now();
      try {
        await this.#store.putCheckpoint({ size, note, createdAt });
      } catch (e) {
        if (round) w!.markUnpublished(round);
        throw e;
      }
      if (round) w!.markPublished(round, createdAt);
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
    // Witness requests in flight end now (a closing ledger publishes nothing more).
    this.#abort.abort();
    await this.#chain;
  }
}
