// One sequencer process's life: stand by until it holds the writer lease, then consume the
// submission subjects and append; step down when fenced (another process took the lease)
// and stand by again. Several may run: exactly one writes, the others take over when its
// lease lapses or its process is gone.
import type { Bus, Subscription } from '@civic-ledger/bus';
import type { SigningKey } from '@civic-ledger/crypto';
import { Ledger, type LedgerOptions } from '@civic-ledger/ledger-core';
import { StorageError, type LedgerStore } from '@civic-ledger/storage';
import { SequencerCore, type SequencerCoreOptions } from './sequencer.ts';

export interface SequencerNodeLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface SequencerNodeOptions {
  store: LedgerStore;
  /** Everything of Ledger.open but the store. */
  ledger: Omit<LedgerOptions, 'store'>;
  /** Where submissions come from: Kafka's topic and NATS's edge subject. */
  sources: readonly { bus: Bus; subject: string }[];
  /** Where outcomes go (NATS), and their subject (default PIPELINE_SUBJECTS.outcomes). */
  outcomes: Bus;
  outcomesSubject?: string;
  logKey: SigningKey;
  checkpointWithinMs: number;
  maxWaitMs?: number;
  /** Consumer group of the sequencers (default `civic-ledger-sequencer`). */
  group?: string;
  /** Messages per batch, i.e. per commit (default 1000). */
  maxBatch?: number;
  /** How often a standby tries for the lease, and a writer checks it still holds it (default 1000 ms). */
  pollMs?: number;
  log?: SequencerNodeLog;
  onBatch?: SequencerCoreOptions['onBatch'];
  onDeadLetter?: SequencerCoreOptions['onDeadLetter'];
}

export type SequencerRole = 'starting' | 'standby' | 'writer' | 'closed';

const quiet: SequencerNodeLog = { info() {}, warn() {}, error() {} };

export class SequencerNode {
  readonly #o: SequencerNodeOptions;
  readonly #log: SequencerNodeLog;
  #role: SequencerRole = 'starting';
  #ledger: Ledger | undefined;
  #subs: Subscription[] = [];
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #lastError: string | undefined;

  constructor(options: SequencerNodeOptions) {
    this.#o = options;
    this.#log = options.log ?? quiet;
  }

  get role(): SequencerRole {
    return this.#role;
  }

  /** The ledger while this process is the writer. */
  get ledger(): Ledger | undefined {
    return this.#ledger;
  }

  /** Why the last attempt to become or stay the writer failed, if it did. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops consuming (a running batch finishes and commits), closes the ledger, releases the lease. */
  async close(): Promise<void> {
    if (this.#role === 'closed') return;
    this.#role = 'closed';
    this.#wake?.();
    await this.#loop;
    await this.#stepDown('closing');
  }

  async #run(): Promise<void> {
    const pollMs = this.#o.pollMs ?? 1000;
    while (this.#role !== 'closed') {
      if (!this.#ledger) await this.#tryToLead();
      else if (!this.#ledger.writable)
        await this.#stepDown('fenced: another sequencer holds the writer lease');
      if (this.#isClosed()) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#ledger ? Math.min(pollMs, 500) : pollMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Read through a method: `close()` may change the role while the loop awaits. */
  #isClosed(): boolean {
    return this.#role === 'closed';
  }

  async #tryToLead(): Promise<void> {
    const o = this.#o;
    let ledger: Ledger;
    try {
      ledger = await Ledger.open({ ...o.ledger, store: o.store });
    } catch (e) {
      if (e instanceof StorageError && e.code === 'LEASE_HELD') {
        if (this.#role !== 'standby') this.#log.info({ reason: e.message }, 'standing by');
      } else {
        this.#log.warn({ err: e }, 'could not open the ledger');
      }
      this.#lastError = (e as Error).message;
      if (this.#role !== 'closed') this.#role = 'standby';
      return;
    }
    if (this.#role === 'closed') {
      await ledger.close();
      return;
    }
    this.#ledger = ledger;
    const core = new SequencerCore({
      ledger,
      outcomes: o.outcomes,
      ...(o.outcomesSubject ? { outcomesSubject: o.outcomesSubject } : {}),
      logKey: o.logKey,
      origin: o.ledger.origin,
      checkpointWithinMs: o.checkpointWithinMs,
      ...(o.maxWaitMs === undefined ? {} : { maxWaitMs: o.maxWaitMs }),
      onFenced: () => this.#wake?.(),
      ...(o.onBatch ? { onBatch: o.onBatch } : {}),
      ...(o.onDeadLetter ? { onDeadLetter: o.onDeadLetter } : {}),
    });
    try {
      for (const source of o.sources) {
        this.#subs.push(
          await source.bus.subscribeBatch(source.subject, core.handler(source.bus), {
            group: o.group ?? 'civic-ledger-sequencer',
            maxMessages: o.maxBatch ?? 1000,
            maxAttempts: Infinity,
            retryDelayMs: 200,
          }),
        );
      }
    } catch (e) {
      this.#log.error({ err: e }, 'could not subscribe to the submissions');
      this.#lastError = (e as Error).message;
      await this.#stepDown('subscribe failed');
      return;
    }
    this.#role = 'writer';
    this.#lastError = undefined;
    this.#log.info({ size: ledger.size }, 'writing the log');
  }

  async #stepDown(why: string): Promise<void> {
    const subs = this.#subs.splice(0);
    for (const s of subs)
      await s.close().catch((e: unknown) => this.#log.warn({ err: e }, 'unsubscribe failed'));
    const ledger = this.#ledger;
    this.#ledger = undefined;
    if (ledger) {
      await ledger.close().catch((e: unknown) => this.#log.warn({ err: e }, 'ledger close failed'));
      this.#log.info({ why }, 'stopped writing');
    }
    if (this.#role !== 'closed') this.#role = 'standby';
  }
}
