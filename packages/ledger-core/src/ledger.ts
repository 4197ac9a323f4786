// The ledger core: takes signed submissions and runs, for each,
//   schema -> registered key valid at this ledger position -> signature -> chain -> inputs
// then appends the accepted ones in one batch (group commit: submissions that arrive while
// a batch commits form the next batch). A receipt is returned only after the store has
// committed. Everything a batch would change is computed on copies; the store's append is
// the single point where it becomes real, and a refused or failed batch changes nothing.
import { hostname } from 'node:os';
import {
  fromHex,
  parseVerifierKey,
  sha256,
  toHex,
  verifyDigest,
  type VerifierKey,
} from '@civic-ledger/crypto';
import { chainKey, checkLink, type ChainHead, type ChainOutcome } from '@civic-ledger/chain';
import type { DecodedEvent } from '@civic-ledger/events';
import { decodeLeaf, encodeLeafAfter, LeafError, type LeafFields } from '@civic-ledger/leaf';
import type { CompactRange } from '@civic-ledger/merkle';
import {
  consistencyProof,
  hashLeaf,
  inclusionProof,
  loadCompactRange,
  newNodeBatch,
  type NodeReader,
} from '@civic-ledger/merkle';
import {
  GENESIS_PREV,
  LIMITS,
  OPERATOR_ORG,
  SchemaError,
  isMovement,
  permissionIssues,
  timeToMillis,
  type Event,
} from '@civic-ledger/schemas';
import {
  StorageError,
  type AppendBatch,
  type LeafRecord,
  type LedgerStore,
  type LineageLink,
  type RegistryRecord,
  type WriterLease,
} from '@civic-ledger/storage';
import { decodeItem } from './decode.ts';
import { LedgerError } from './errors.ts';
import { lineageLinks } from './lineage-links.ts';
import {
  isGenesisKeyEvent,
  Registry,
  registryEffects,
  unregisteredReferences,
  type KeyState,
} from './registry.ts';
import { RecentEntries } from './recent.ts';
import { SignaturePool } from './signature-pool.ts';
import { Checkpointer, type CheckpointPolicy, type CheckpointSigner } from './checkpoints.ts';
import { checkLedgerPolicy, type WitnessingOptions, type WitnessingStatus } from './witnessing.ts';

export interface LedgerOptions {
  store: LedgerStore;
  /** Log identity (the checkpoint origin line), e.g. `ledger.example-city.eu/log`. */
  origin: string;
  /** Signs checkpoints (the log key). */
  logSigner: CheckpointSigner;
  /** The operator's first key (verifier-key text): the only key the first event may use. */
  operatorKey: string;
  checkpoints?: Partial<CheckpointPolicy>;
  /** Writer lease owner and length (default: pid, 30 s, renewed at a third). */
  owner?: string;
  leaseTtlMs?: number;
  /** Most events in one committed batch (default 5000): one fsync covers them all. */
  maxBatch?: number;
  /** Most queued submissions before OVERLOADED (default 100 000). */
  maxQueue?: number;
  /** Signature worker threads (default available parallelism; 0 = calling thread). */
  signatureThreads?: number;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
  /** Future skew allowed on claimed times (default LIMITS.maxFutureSkewMs). */
  maxFutureSkewMs?: number;
  /**
   * Recent entries kept in memory to answer input, duplicate and receipt lookups without a
   * store read (default 100 000; about 250 bytes each). The last `min(this, 10 000)` entries
   * of the log are loaded when the ledger opens. 0 turns it off.
   */
  recentEntries?: number;
  /** Called after each commit with what it appended (for notifications); must not throw. */
  onAppended?: (entries: readonly AppendedEntry[]) => void;
  /** Called after each checkpoint is signed and stored; must not throw. */
  onCheckpoint?: (checkpoint: { size: number; note: string }) => void;
  /**
   * Witnessed checkpoints: a checkpoint is published only once the policy's witnesses
   * cosigned it to its quorum, at a fixed cadence (see witnessing.ts). The policy must name
   * this ledger's log key (checkLedgerPolicy) and a URL for every witness.
   */
  witnessing?: WitnessingOptions;
}

/** One committed entry, as notifications describe it. */
export interface AppendedEntry extends Receipt {
  emitter: string;
  stream: string;
  seq: number;
  type: Event['type'];
  /** The decoded event (for in-process indexes; not part of the published notification). */
  event: Event;
}

/** What the ledger promises for an appended event. */
export interface Receipt {
  index: number;
  eventHash: string;
  /** Hex RFC 9162 leaf hash of the leaf bytes. */
  leafHash: string;
  /** Admission time (RFC 3339 UTC, ms). */
  admitted: string;
}

export interface SubmitOptions {
  /** Either every event is appended or none is (the others fail with BATCH_REFUSED). */
  atomic?: boolean;
  /**
   * The caller has already verified these signatures (replaying or migrating a log that
   * was verified end to end). Keys, chains and everything else are still checked. Never
   * set this for input from the network.
   */
  signaturesVerified?: boolean;
}

export type SubmitResult =
  { ok: true; receipt: Receipt; duplicate: boolean } | { ok: false; error: LedgerError };

/** A signature checked ahead of admission, with the key it was checked with. */
type Verified = Map<DecodedEvent, { key: KeyState; ok: boolean }>;

interface Unit {
  items: unknown[];
  /**
   * Decoded when submitted (schema, canonical form, hash), so that its signatures are
   * checked on the worker threads while earlier batches are admitted and committed.
   * `undefined` where decoding refused the item (its error is in `errors`).
   */
  decoded: (DecodedEvent | undefined)[];
  /** Decoding refusals by item (a LedgerError, or anything else to rethrow as before). */
  errors: unknown[] | undefined;
  /** Decoded here without the clock: the future-time check runs when the batch does. */
  clockPending: boolean;
  atomic: boolean;
  signaturesVerified: boolean;
  /** Signatures checked ahead, with the committed keys in force when the unit was submitted. */
  verified: Verified | undefined;
  /** Settles (never rejects) once `verified` is filled. */
  ready: Promise<void>;
  settled: boolean;
  resolve: (r: SubmitResult[]) => void;
}

interface ChainRun {
  first: number;
  hashes: string[];
}

/** The hash at `seq` of `chain` among a batch's accepted events, if it has one there. */
function hashInBatch(state: BatchState, chain: string, seq: number): string | undefined {
  const run = state.chainHashes.get(chain);
  return run === undefined || seq < run.first ? undefined : run.hashes[seq - run.first];
}

/** A batch admitted (its receipts and refusals decided), to be committed after the one before. */
interface Admitted {
  units: Unit[];
  results: SubmitResult[][];
  state: BatchState;
  duplicates: { ui: number; i: number; hash: string }[];
  /** The batch that was being committed when admission began: this one rests on it. */
  after: BatchState | undefined;
}

/** Per-batch working state: copies of everything a batch may change, with savepoints. */
interface BatchState {
  /** The ledger size its leaves follow. */
  base: number;
  registry: Registry;
  range: CompactRange;
  heads: Map<string, ChainHead>;
  /**
   * chain -> the events accepted on it in this batch: their hashes in seq order from
   * `first` (accepted events follow their chain's head one by one).
   */
  chainHashes: Map<string, ChainRun>;
  /** event hash -> receipt of events accepted in this batch. */
  accepted: Map<string, Receipt>;
  leaves: LeafRecord[];
  appended: AppendedEntry[];
  registryRecords: RegistryRecord[];
  lineage: LineageLink[];
  nodes: { ids: number[]; hashes: Uint8Array[] };
}

function snapshot(s: BatchState): BatchState {
  return {
    base: s.base,
    registry: s.registry.snapshot(),
    range: s.range.clone(),
    heads: new Map(s.heads),
    chainHashes: new Map(
      [...s.chainHashes].map(([chain, run]) => [chain, { first: run.first, hashes: [...run.hashes] }]),
    ),
    accepted: new Map(s.accepted),
    leaves: [...s.leaves],
    appended: [...s.appended],
    registryRecords: [...s.registryRecords],
    lineage: [...s.lineage],
    nodes: { ids: [...s.nodes.ids], hashes: [...s.nodes.hashes] },
  };
}

// Leaf buffers are cut from 256 KiB slabs: Buffer.allocUnsafe's 8 KiB pool holds ~10 demo
// leaves, and each new pool is an ArrayBuffer allocated outside the heap (~2 % of the
// writer's time). A slab lives as long as any leaf cut from it; leaves are dropped after
// their batch commits. A part of a slab is never handed out twice.
const LEAF_SLAB_BYTES = 256 * 1024;
let leafSlab = Buffer.allocUnsafeSlow(0);
let leafSlabUsed = 0;

function leafBuffer(bytes: number): Buffer {
  if (bytes > LEAF_SLAB_BYTES / 8) return Buffer.allocUnsafe(bytes);
  if (leafSlabUsed + bytes > leafSlab.length) {
    leafSlab = Buffer.allocUnsafeSlow(LEAF_SLAB_BYTES);
    leafSlabUsed = 0;
  }
  const out = leafSlab.subarray(leafSlabUsed, leafSlabUsed + bytes);
  leafSlabUsed += bytes;
  return out;
}

/**
 * The leaf bytes and their RFC 9162 leaf hash, SHA-256(0x00 || leaf) as hashLeaf computes
 * it, written once into one buffer (hashLeaf would copy them again behind the prefix).
 */
function leafAndHash(fields: LeafFields, eventBytes: number): { leaf: Uint8Array; leafHash: Uint8Array } {
  let buffer: Buffer;
  try {
    buffer = encodeLeafAfter(fields, eventBytes, 1, leafBuffer);
  } catch (e) {
    // A pre-decoded event (submitDecoded) whose size is not its text's: measure it here.
    if (!(e instanceof LeafError)) throw e;
    buffer = encodeLeafAfter(fields, Buffer.byteLength(fields.eventCanonical, 'utf8'), 1, leafBuffer);
  }
  return { leaf: buffer.subarray(1), leafHash: sha256(buffer) };
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function asLedgerError(e: unknown): LedgerError {
  if (e instanceof LedgerError) return e;
  if (e instanceof SchemaError) return new LedgerError(e.code, e.message, { issues: e.issues }, { cause: e });
  throw e;
}

function chainError(outcome: ChainOutcome): LedgerError | undefined {
  switch (outcome.kind) {
    case 'ok':
    case 'duplicate':
      return undefined;
    case 'gap':
      return new LedgerError(
        'CHAIN_GAP',
        `seq ${outcome.seq} skips ahead: expected seq ${outcome.expectedSeq}`,
        {
          expectedSeq: outcome.expectedSeq,
          seq: outcome.seq,
        },
      );
    case 'fork':
      return new LedgerError('CHAIN_FORK', `another event is already at seq ${outcome.seq}`, {
        seq: outcome.seq,
        existingHash: outcome.existingHash,
      });
    case 'bad-prev':
      return new LedgerError(
        'CHAIN_BAD_PREV',
        `prev does not name the chain head: expected prev ${outcome.expectedPrev}`,
        {
          seq: outcome.seq,
          expectedPrev: outcome.expectedPrev,
          prev: outcome.prev,
        },
      );
    case 'invalid':
      return new LedgerError('SCHEMA_INVALID', outcome.reason);
  }
}

/** The default lease owner: this process on this host. */
export function localOwner(): string {
  return `pid-${process.pid}@${hostname()}`;
}

/**
 * True when `owner` is a default owner on this host whose process no longer exists: a
 * writer killed with SIGKILL never releases its lease, and its successor should not wait
 * out the TTL. Any doubt (another host, a custom owner, a live or foreign process) is false.
 */
export function deadLocalOwner(owner: string): boolean {
  const m = /^pid-(\d+)@(.+)$/.exec(owner);
  if (!m || m[2] !== hostname() || Number(m[1]) === process.pid) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class Ledger {
  readonly #store: LedgerStore;
  readonly #opts: LedgerOptions;
  readonly #now: () => number;
  readonly #pool: SignaturePool;
  readonly #checkpointer: Checkpointer;
  #lease: WriterLease;
  #size: number;
  #range: CompactRange;
  #registry: Registry;
  /** Committed chain heads this writer has seen (the store answers for the others). */
  readonly #heads = new Map<string, ChainHead>();
  readonly #chainKeys = new Map<string, Map<string, string>>();
  #queue: Unit[] = [];
  #queued = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;
  #notWriter: LedgerError | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  readonly #recent: RecentEntries;
  /**
   * The batch being committed while the next is admitted (#drain), until it is: admission
   * sees its changes on top of the committed state (size, range, registry, heads above;
   * recent entries), which take them when it commits.
   */
  #pending: BatchState | undefined;
  /** Wakes #drain when it waits for a commit with nothing queued. */
  #wake: (() => void) | undefined;

  private constructor(
    options: LedgerOptions,
    lease: WriterLease,
    size: number,
    range: CompactRange,
    registry: Registry,
    checkpointer: Checkpointer,
  ) {
    this.#store = options.store;
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#pool = new SignaturePool(
      options.signatureThreads === undefined ? {} : { threads: options.signatureThreads },
    );
    this.#lease = lease;
    this.#size = size;
    this.#range = range;
    this.#registry = registry;
    this.#checkpointer = checkpointer;
    this.#recent = new RecentEntries(options.recentEntries ?? 100_000);
  }

  /** Opens the ledger on a store as its writer (fencing any earlier writer). */
  static async open(options: LedgerOptions): Promise<Ledger> {
    // Before the lease: a witness policy that does not fit this ledger changes nothing.
    if (options.witnessing) {
      checkLedgerPolicy(options.witnessing.policy, { origin: options.origin, signers: options.logSigner });
    }
    const store = options.store;
    const checkpointer = new Checkpointer(
      store,
      options.origin,
      options.logSigner,
      options.checkpoints ?? {},
      options.now,
      options.onCheckpoint,
      options.witnessing,
    );
    const owner = options.owner ?? localOwner();
    const ttlMs = options.leaseTtlMs ?? 30_000;
    const lease = await store.acquireWriter({
      owner,
      ttlMs,
      holderIsGone: deadLocalOwner,
      ...(options.now ? { now: options.now() } : {}),
    });
    const head = await store.head();
    const range = await loadCompactRange(store as NodeReader, head.size);
    if (toHex(range.root()) !== toHex(head.rootHash)) {
      throw new LedgerError('CORRUPT', 'stored tree nodes do not give the stored root; run rebuild');
    }
    const registry = Registry.fromRecords(await store.getRegistry());
    const ledger = new Ledger(options, lease, head.size, range, registry, checkpointer);
    // The tail of the log: a writer taking over sees the redeliveries of what its
    // predecessor appended last, and inputs naming them.
    const warm = Math.min(options.recentEntries ?? 100_000, 10_000);
    if (warm > 0 && head.size > 0) {
      for (const l of await store.getLeaves(Math.max(0, head.size - warm), head.size)) {
        const receipt = {
          index: l.index,
          eventHash: l.eventHash,
          leafHash: toHex(hashLeaf(l.leaf)),
          admitted: decodeLeaf(l.leaf).admitted,
        };
        ledger.#recent.add(receipt, l.chain, l.seq);
      }
    }
    ledger.#renewTimer = setInterval(() => void ledger.#renew(owner, ttlMs), Math.max(1000, ttlMs / 3));
    ledger.#renewTimer.unref();
    if (options.witnessing) await checkpointer.load();
    checkpointer.start(() => ({ size: ledger.#size, root: ledger.#range.root() }));
    return ledger;
  }

  async #renew(owner: string, ttlMs: number): Promise<void> {
    try {
      this.#lease = await this.#store.renewWriter(this.#lease, { owner, ttlMs, now: this.#now() });
    } catch (e) {
      if (e instanceof StorageError && e.code === 'STALE_WRITER') this.#fence(e);
    }
  }

  #fence(cause: unknown): void {
    this.#notWriter = new LedgerError(
      'NOT_WRITER',
      'another process has become the log writer',
      {},
      { cause },
    );
  }

  /** Size of the committed log. */
  get size(): number {
    return this.#size;
  }

  /** Root of the committed log. */
  get rootHash(): Uint8Array {
    return this.#range.root();
  }

  /** Whether this process still holds the writer lease and accepts submissions. */
  get writable(): boolean {
    return !this.#closed && this.#notWriter === undefined;
  }

  get signatureThreads(): number {
    return this.#pool.threads;
  }

  /**
   * Submits signed events (bytes, JSON text or parsed values of the wire form). Each gets
   * a receipt or an error; duplicates get their original receipt. With `atomic`, either
   * every event is appended or none is (the others then fail with BATCH_REFUSED).
   */
  submit(items: readonly unknown[], options: SubmitOptions = {}): Promise<SubmitResult[]> {
    return this.#enqueue(items, false, options);
  }

  /**
   * Submits events already decoded by `decodeSubmission` (for example on other threads or
   * in another validating stage): only admission and append run here.
   */
  submitDecoded(decoded: readonly DecodedEvent[], options: SubmitOptions = {}): Promise<SubmitResult[]> {
    return this.#enqueue(decoded, true, options);
  }

  #enqueue(items: readonly unknown[], preDecoded: boolean, options: SubmitOptions): Promise<SubmitResult[]> {
    if (this.#closed)
      return Promise.resolve(
        items.map(() => ({ ok: false, error: new LedgerError('LEDGER_CLOSED', 'the ledger is closed') })),
      );
    if (this.#notWriter) return Promise.resolve(items.map(() => ({ ok: false, error: this.#notWriter! })));
    if (this.#queued + items.length > (this.#opts.maxQueue ?? 100_000)) {
      return Promise.resolve(
        items.map(() => ({
          ok: false,
          error: new LedgerError('OVERLOADED', 'too many queued submissions; retry later'),
        })),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push(this.#prepare([...items], preDecoded, options, resolve));
      this.#queued += items.length;
      if (this.#flushing === undefined) this.#flushing = this.#drain();
      else this.#wake?.();
    });
  }

  /**
   * Decodes a submission as it arrives and sends its signatures to the worker threads at
   * once, with the committed keys: they are checked while the writer admits and commits
   * earlier batches. Admission uses a result only when the key in force at the event's
   * position is the one it was checked with; any other event is checked there as before.
   */
  #prepare(
    items: unknown[],
    preDecoded: boolean,
    options: SubmitOptions,
    resolve: (r: SubmitResult[]) => void,
  ): Unit {
    let errors: unknown[] | undefined;
    const decoded = preDecoded
      ? (items as DecodedEvent[])
      : items.map((item, i) => {
          try {
            // No clock here: the future-time check belongs to the batch's clock (#processBatch).
            return decodeItem(item);
          } catch (e) {
            (errors ??= [])[i] = e instanceof SchemaError ? asLedgerError(e) : e;
            return undefined;
          }
        });
    const unit: Unit = {
      items,
      decoded,
      errors,
      clockPending: !preDecoded,
      atomic: options.atomic ?? false,
      signaturesVerified: options.signaturesVerified ?? false,
      verified: undefined,
      ready: Promise.resolve(),
      settled: true,
      resolve,
    };
    if (!unit.signaturesVerified) {
      unit.settled = false;
      unit.ready = this.#verifyAhead(decoded).then((v) => {
        unit.verified = v;
        unit.settled = true;
      });
    }
    return unit;
  }

  /** Checks, on the worker threads, the signatures of events whose key is committed and in force. */
  async #verifyAhead(decoded: readonly (DecodedEvent | undefined)[]): Promise<Verified> {
    const verified: Verified = new Map();
    await this.#verifyInto(decoded, this.#registry, verified);
    return verified;
  }

  /**
   * Checks on the worker threads the signatures of the events not in `verified` whose key
   * in `keys` is in force, into `verified`. A failed worker leaves them unchecked:
   * admission checks those on this thread.
   */
  async #verifyInto(
    decoded: readonly (DecodedEvent | undefined)[],
    keys: Registry,
    verified: Verified,
  ): Promise<void> {
    const jobs: { d: DecodedEvent; key: KeyState }[] = [];
    for (const d of decoded) {
      if (d === undefined || verified.has(d)) continue;
      const k = keys.key(d.event.key);
      if (k && k.revokedAt === undefined && k.org === d.event.emitter) jobs.push({ d, key: k });
    }
    if (jobs.length === 0) return;
    try {
      const ok = await this.#pool.verify(
        jobs.map((j) => ({
          key: j.key.verifier,
          digest: Buffer.from(j.d.hash, 'hex'),
          signature: j.d.signature,
        })),
      );
      for (let i = 0; i < jobs.length; i++) verified.set(jobs[i]!.d, { key: jobs[i]!.key, ok: ok[i]! });
    } catch {
      // Left unchecked here.
    }
  }

  // Pipelined one deep: the next batch is admitted while this one commits (a store that
  // writes on another thread or over the network leaves this thread free meanwhile), on
  // the state this one leaves (#pending). Commits run one at a time, in order; a batch
  // admitted after one that fails to commit is refused without being written.
  async #drain(): Promise<void> {
    let committing: Promise<boolean> = Promise.resolve(true);
    try {
      for (;;) {
        if (this.#queue.length === 0) {
          // Until the commit in flight ends or a submission comes: one that comes meanwhile
          // is admitted while that commit runs.
          const woken = new Promise<boolean>((wake) => (this.#wake = () => wake(false)));
          const ended = await Promise.race([committing.then(() => true), woken]);
          this.#wake = undefined;
          if (!ended) continue;
          committing = Promise.resolve(true);
          if (this.#queue.length === 0) break;
        }
        // The oldest submission, with the ones behind it whose signatures are checked too:
        // the writer never waits for later submissions while the workers check them.
        await this.#queue[0]!.ready;
        const max = this.#opts.maxBatch ?? 5000;
        const units: Unit[] = [];
        let n = 0;
        while (
          this.#queue.length > 0 &&
          (n === 0 || (this.#queue[0]!.settled && n + this.#queue[0]!.items.length <= max))
        ) {
          const u = this.#queue.shift()!;
          units.push(u);
          n += u.items.length;
        }
        this.#queued -= n;
        let admitted: Admitted;
        try {
          admitted = await this.#admitBatch(units);
        } catch (e) {
          // The committed state could not be read: nothing of these was admitted.
          const error = new LedgerError(
            'STORE_FAILED',
            `reading the log failed: ${(e as Error).message}`,
            {},
            { cause: e },
          );
          for (const u of units) u.resolve(u.items.map(() => ({ ok: false, error })));
          continue;
        }
        const committed = await committing;
        committing = Promise.resolve(true);
        if (!committed && admitted.after !== undefined) {
          this.#refuseAdmitted(admitted);
          continue;
        }
        this.#pending = admitted.state;
        committing = this.#commitBatch(admitted);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Admits a batch on the committed state and #pending's: receipts, refusals, the rows. */
  async #admitBatch(units: Unit[]): Promise<Admitted> {
    const after = this.#pending;
    const results: SubmitResult[][] = units.map((u) => new Array<SubmitResult>(u.items.length));
    const now = this.#now();
    const skew = this.#opts.maxFutureSkewMs;
    const latest = now + (skew ?? LIMITS.maxFutureSkewMs);
    // 1. Decoded on submission (schema, canonical form, hash); the claimed time is checked
    //    here against the batch's clock, the error coming from the decoder itself.
    const decoded = units.map((u, ui) =>
      u.decoded.map((d, i) => {
        const refused = u.errors?.[i];
        if (refused !== undefined) {
          results[ui]![i] = { ok: false, error: asLedgerError(refused) };
          return undefined;
        }
        if (d !== undefined && u.clockPending && timeToMillis(d.event.time) > latest) {
          // Decoded again from what was decoded (not the caller's object, which may have
          // changed since) with the clock, for the decoder's own TIME_IN_FUTURE error.
          const wire = { event: JSON.parse(d.canonical) as unknown, signature: toBase64(d.signature) };
          let error: LedgerError | undefined;
          try {
            decodeItem(wire, skew === undefined ? { now } : { now, maxFutureSkewMs: skew });
          } catch (e) {
            error = asLedgerError(e);
          }
          results[ui]![i] = {
            ok: false,
            error:
              error ?? new LedgerError('TIME_IN_FUTURE', `time ${d.event.time} is ahead of the ledger clock`),
          };
          return undefined;
        }
        return d;
      }),
    );

    // 2. Signatures: checked ahead (#prepare) with the keys committed then; those whose key
    //    was admitted since are checked now, in parallel; events whose key depends on this
    //    batch's own key events are verified when reached in step 4.
    const verified: Verified = new Map();
    const unchecked: (DecodedEvent | undefined)[] = [];
    units.forEach((u, ui) => {
      if (u.signaturesVerified) return;
      // forEach: a for-of over entries makes an array per entry where it runs unoptimized.
      u.verified?.forEach((v, d) => verified.set(d, v));
      for (const d of decoded[ui]!) unchecked.push(d);
    });
    await this.#verifyInto(unchecked, this.#pending?.registry ?? this.#registry, verified);
    const all: DecodedEvent[] = [];
    for (const ds of decoded) for (const d of ds) if (d !== undefined) all.push(d);

    // 3. Committed state needed by the chain and input checks, read in a few batched calls.
    await this.#loadHeads(all);
    const prior = await this.#priorEntries(all);
    const inputs = await this.#knownInputs(all);

    // 4. Sequential admission on a copy of the state: the committed one, with the changes
    //    of the batch being committed (if it still is; from here on nothing awaits).
    const pending = this.#pending;
    const registry = this.#registry.child();
    if (pending) registry.absorb(pending.registry); // one overlay deep, whatever commits first
    let state: BatchState = {
      base: this.#size + (pending?.leaves.length ?? 0),
      registry,
      range: (pending?.range ?? this.#range).clone(),
      heads: new Map(pending?.heads),
      chainHashes: new Map(),
      accepted: new Map(),
      leaves: [],
      appended: [],
      registryRecords: [],
      lineage: [],
      nodes: newNodeBatch(),
    };
    const duplicates: { ui: number; i: number; hash: string }[] = [];
    const admittedAt = new Date(now).toISOString();
    for (let ui = 0; ui < units.length; ui++) {
      const unit = units[ui]!;
      const save = unit.atomic ? snapshot(state) : undefined;
      let unitFailed = false;
      for (let i = 0; i < unit.items.length; i++) {
        const d = decoded[ui]![i];
        if (d === undefined) {
          unitFailed = true;
          continue;
        }
        try {
          const r = this.#admit(d, state, verified, prior, inputs, admittedAt, unit.signaturesVerified);
          if (r === 'duplicate') duplicates.push({ ui, i, hash: d.hash });
          else results[ui]![i] = { ok: true, receipt: r, duplicate: false };
        } catch (e) {
          results[ui]![i] = { ok: false, error: asLedgerError(e) };
          unitFailed = true;
        }
      }
      if (unit.atomic && unitFailed) {
        state = save!;
        for (let i = 0; i < unit.items.length; i++) {
          const r = results[ui]![i];
          if (r === undefined || r.ok) {
            results[ui]![i] = {
              ok: false,
              error: new LedgerError(
                'BATCH_REFUSED',
                'another event of this all-or-nothing batch was refused',
              ),
            };
          }
        }
        for (let k = duplicates.length - 1; k >= 0 && duplicates[k]!.ui === ui; k--) duplicates.pop();
      }
    }

    return { units, results, state, duplicates, after };
  }

  /** A batch admitted after one that did not commit: refused, nothing of it written. */
  #refuseAdmitted({ units, results }: Admitted): void {
    const error =
      this.#notWriter ??
      new LedgerError(
        'STORE_FAILED',
        'the batch before this one failed to commit; nothing of this one was written',
      );
    for (const r of results)
      for (let i = 0; i < r.length; i++) if (r[i] === undefined || r[i]!.ok) r[i] = { ok: false, error };
    units.forEach((u, ui) => u.resolve(results[ui]!));
  }

  /** Commits an admitted batch, then answers it; false when the store did not take it. */
  async #commitBatch({ units, results, state, duplicates }: Admitted): Promise<boolean> {
    if (state.leaves.length > 0) {
      const batch: AppendBatch = {
        leaves: state.leaves,
        nodes: state.nodes,
        registry: state.registryRecords,
        lineage: state.lineage,
        rootHash: state.range.root(),
      };
      try {
        await this.#store.append(this.#lease, state.base, batch);
      } catch (e) {
        if (e instanceof StorageError && (e.code === 'STALE_WRITER' || e.code === 'SIZE_CONFLICT'))
          this.#fence(e);
        const error =
          this.#notWriter ??
          new LedgerError(
            'STORE_FAILED',
            `the store refused the batch: ${(e as Error).message}`,
            {},
            { cause: e },
          );
        for (const r of results)
          for (let i = 0; i < r.length; i++) if (r[i] === undefined || r[i]!.ok) r[i] = { ok: false, error };
        if (this.#pending === state) this.#pending = undefined;
        units.forEach((u, ui) => u.resolve(results[ui]!));
        return false;
      }
      this.#size += state.leaves.length;
      this.#range = state.range;
      this.#registry.absorb(state.registry);
      for (const [k, h] of state.heads) this.#heads.set(k, h);
      for (const l of state.leaves) {
        const receipt = state.accepted.get(l.eventHash);
        if (receipt) this.#recent.add(receipt, l.chain, l.seq);
      }
      if (this.#pending === state) this.#pending = undefined;
      try {
        this.#opts.onAppended?.(state.appended);
      } catch {
        // A notification hook never fails a commit that already happened.
      }
    }
    // Duplicates are answered with the original receipt (from this batch or the log).
    for (const dup of duplicates) {
      const receipt =
        state.accepted.get(dup.hash) ?? (await this.receiptFor(dup.hash).catch(() => undefined));
      results[dup.ui]![dup.i] = receipt
        ? { ok: true, receipt, duplicate: true }
        : { ok: false, error: new LedgerError('STORE_FAILED', 'duplicate whose original could not be read') };
    }
    // Checkpoint policy first, so a caller that has its receipt sees any checkpoint it triggered.
    if (state.leaves.length > 0) {
      await this.#checkpointer.onAppend(this.#size, this.#range.root()).catch(() => undefined);
    }
    if (this.#pending === state) this.#pending = undefined;
    units.forEach((u, ui) => u.resolve(results[ui]!));
    return true;
  }

  /** Admits one decoded event into `state`, or throws the reason it is refused. */
  #admit(
    d: DecodedEvent,
    state: BatchState,
    verified: Verified,
    prior: Map<string, string>,
    inputs: Set<string>,
    admittedAt: string,
    signatureVerified: boolean,
  ): Receipt | 'duplicate' {
    const e = d.event;
    const index = state.base + state.leaves.length;
    const chain = this.#chainOf(e);

    // Chain first: a duplicate is answered with its receipt whatever else has changed since.
    const head = state.heads.get(chain) ?? this.#heads.get(chain) ?? { seq: 0, hash: GENESIS_PREV };
    const outcome = checkLink(
      head,
      { seq: e.seq, prev: e.prev, hash: d.hash },
      (seq) => hashInBatch(state, chain, seq) ?? prior.get(`${chain}#${seq}`),
    );
    if (outcome.kind === 'duplicate') return 'duplicate';

    // Key valid at this ledger position, and the signature.
    this.#checkKeyAndSignature(d, index, state.registry, verified, signatureVerified);
    const chainErr = chainError(outcome);
    if (chainErr) throw chainErr;

    // Who may emit what: the event's own claims (registering organizations, namespaces, keys)...
    const forbidden = permissionIssues(e);
    if (forbidden.length > 0) {
      const first = forbidden[0]!;
      throw new LedgerError('NOT_PERMITTED', `${first.path}: ${first.rule}`, { issues: forbidden });
    }
    // ...and what needs the registry: the emitter exists; roles for attest/finding.
    if (e.emitter !== OPERATOR_ORG) {
      const org = state.registry.org(e.emitter);
      if (!org)
        throw new LedgerError('UNKNOWN_EMITTER', `organization ${e.emitter} is not registered`, {
          emitter: e.emitter,
        });
      if (e.type === 'attest' && org.role !== 'oversight') {
        throw new LedgerError('NOT_PERMITTED', 'only oversight bodies emit attest events', { type: e.type });
      }
      if (e.type === 'finding' && org.role !== 'compliance') {
        throw new LedgerError('NOT_PERMITTED', 'only the compliance service emits finding events', {
          type: e.type,
        });
      }
    }
    // Lineage: every input is already in the log (or earlier in this batch).
    if (isMovement(e)) {
      for (const h of e.inputs) {
        if (!inputs.has(h) && !state.accepted.has(h)) {
          throw new LedgerError('UNKNOWN_INPUT', `input ${h} is not in the log`, { input: h });
        }
      }
    }
    // Every dataset and source it names is registered (at this position, or earlier in the batch).
    const unregistered = unregisteredReferences(e, state.registry);
    if (unregistered) throw unregistered;
    const effects = registryEffects(e, index, state.registry);

    // Accepted: record everything on the batch state.
    const signature = d.signatureText ?? toBase64(d.signature);
    const { leaf, leafHash } = leafAndHash(
      { index, admitted: admittedAt, eventCanonical: d.canonical, signature },
      d.size,
    );
    state.range.append(leafHash, state.nodes);
    state.leaves.push({ index, leaf, eventHash: d.hash, chain, seq: e.seq });
    for (const link of lineageLinks(e, index)) state.lineage.push(link);
    for (const rec of effects) {
      state.registry.apply(rec);
      state.registryRecords.push(rec);
    }
    state.heads.set(chain, { seq: e.seq, hash: d.hash });
    const run = state.chainHashes.get(chain);
    if (run === undefined) state.chainHashes.set(chain, { first: e.seq, hashes: [d.hash] });
    else run.hashes.push(d.hash);
    const receipt: Receipt = {
      index,
      eventHash: d.hash,
      leafHash: Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).toString('hex'),
      admitted: admittedAt,
    };
    state.accepted.set(d.hash, receipt);
    if (this.#opts.onAppended)
      state.appended.push({
        ...receipt,
        emitter: e.emitter,
        stream: e.stream,
        seq: e.seq,
        type: e.type,
        event: e,
      });
    return receipt;
  }

  #checkKeyAndSignature(
    d: DecodedEvent,
    index: number,
    registry: Registry,
    verified: Verified,
    signatureVerified: boolean,
  ): void {
    const e = d.event;
    let key: VerifierKey;
    const state = registry.key(e.key);
    if (state === undefined) {
      // The very first event of a ledger is the operator adding its own configured key,
      // signed by that key: the trust anchor, pinned by configuration.
      if (index === 0 && isGenesisKeyEvent(e) && e.publicKey === this.#opts.operatorKey.trim()) {
        key = parseVerifierKey(this.#opts.operatorKey);
      } else {
        throw new LedgerError('UNKNOWN_KEY', `key ${e.key} is not registered at ledger index ${index}`, {
          key: e.key,
        });
      }
    } else {
      if (state.org !== e.emitter) {
        throw new LedgerError('UNKNOWN_KEY', `key ${e.key} belongs to ${state.org}, not ${e.emitter}`, {
          key: e.key,
          emitter: e.emitter,
        });
      }
      if (state.revokedAt !== undefined) {
        throw new LedgerError('KEY_REVOKED', `key ${e.key} was revoked at ledger index ${state.revokedAt}`, {
          key: e.key,
          revokedAt: state.revokedAt,
        });
      }
      key = state.verifier;
      if (signatureVerified) return;
      const pre = verified.get(d);
      if (pre !== undefined && pre.key.verifier === key) {
        if (!pre.ok)
          throw new LedgerError('BAD_SIGNATURE', `signature does not verify with key ${e.key}`, {
            key: e.key,
          });
        return;
      }
    }
    if (!verifyDigest(key, 'event', fromHex(d.hash), d.signature)) {
      throw new LedgerError('BAD_SIGNATURE', `signature does not verify with key ${e.key}`, { key: e.key });
    }
  }

  /**
   * chainKey(emitter, stream), one string per chain: a key built per use is a new string
   * that every map it is looked up in must flatten and hash again (~5 uses per event).
   */
  #chainOf(e: { emitter: string; stream: string }): string {
    let byStream = this.#chainKeys.get(e.emitter);
    if (byStream === undefined) {
      // Bounded: it also gets the chains of events that are then refused.
      if (this.#chainKeys.size >= 10_000) this.#chainKeys.clear();
      this.#chainKeys.set(e.emitter, (byStream = new Map()));
    }
    let key = byStream.get(e.stream);
    if (key === undefined) {
      if (byStream.size >= 10_000) byStream.clear();
      byStream.set(e.stream, (key = chainKey(e.emitter, e.stream)));
    }
    return key;
  }

  async #loadHeads(all: DecodedEvent[]): Promise<void> {
    const missing = new Set<string>();
    for (const d of all) {
      const k = this.#chainOf(d.event);
      if (!this.#heads.has(k) && !this.#pending?.heads.has(k)) missing.add(k);
    }
    for (const k of missing) {
      const h = await this.#store.getChainHead(k);
      this.#heads.set(k, h ? { seq: h.seq, hash: h.eventHash } : { seq: 0, hash: GENESIS_PREV });
    }
  }

  /** A chain's head with the pending batch's events (after #loadHeads). */
  #headOf(chain: string): ChainHead {
    // (No head at all only when the pending batch failed meanwhile: this one is refused then.)
    return this.#pending?.heads.get(chain) ?? this.#heads.get(chain) ?? { seq: 0, hash: GENESIS_PREV };
  }

  /** Hashes at chain positions below the head that this batch names (duplicate or fork?). */
  async #priorEntries(all: DecodedEvent[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const d of all) {
      const k = this.#chainOf(d.event);
      if (d.event.seq <= this.#headOf(k).seq) {
        const pending = this.#pending && hashInBatch(this.#pending, k, d.event.seq);
        const known = pending || this.#recent.at(k, d.event.seq);
        if (known !== undefined) {
          out.set(`${k}#${d.event.seq}`, known);
          continue;
        }
        const entry = await this.#store.getChainEntry(k, d.event.seq);
        if (entry) out.set(`${k}#${d.event.seq}`, entry.eventHash);
      }
    }
    return out;
  }

  async #knownInputs(all: DecodedEvent[]): Promise<Set<string>> {
    const wanted = new Set<string>();
    for (const d of all) if (isMovement(d.event)) for (const h of d.event.inputs) wanted.add(h);
    if (wanted.size === 0) return new Set();
    const known = new Set<string>();
    for (const h of wanted) if (this.#recent.has(h) || this.#pending?.accepted.has(h)) known.add(h);
    // An event of this batch beyond its chain's head cannot be in the log yet: an input
    // naming it is answered by the batch itself (accepted earlier in it, or refused).
    const fresh = new Set<string>();
    for (const d of all) {
      if (d.event.seq > this.#headOf(this.#chainOf(d.event)).seq) fresh.add(d.hash);
    }
    const missing = [...wanted].filter((h) => !known.has(h) && !fresh.has(h));
    if (missing.length > 0)
      for (const l of await this.#store.getLeavesByEventHash(missing)) known.add(l.eventHash);
    return known;
  }

  /** The receipt of an event already in the log, from its leaf. */
  async receiptFor(eventHash: string): Promise<Receipt | undefined> {
    const recent = this.#recent.receipt(eventHash);
    if (recent) return recent;
    const [leaf] = await this.#store.getLeavesByEventHash([eventHash]);
    if (!leaf) return undefined;
    const decoded = decodeLeaf(leaf.leaf);
    return { index: leaf.index, eventHash, leafHash: toHex(hashLeaf(leaf.leaf)), admitted: decoded.admitted };
  }

  /** Inclusion proof of the leaf at `index` in the tree of size `size`. */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    return inclusionProof(this.#store as NodeReader, index, size);
  }

  /** Consistency proof between tree sizes. */
  async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    return consistencyProof(this.#store as NodeReader, size1, size2);
  }

  /** How long after its append an entry is covered by a published checkpoint (receipts promise
   * it): maxDelayMs, or with witnesses max(interval, timeout) + timeout while the quorum holds. */
  get checkpointWithinMs(): number {
    return this.#checkpointer.checkpointWithinMs;
  }

  /** Which witnesses cosigned the latest checkpoints, which failed and why (undefined without witnesses). */
  witnessStatus(): WitnessingStatus | undefined {
    return this.#checkpointer.witnesses?.status();
  }

  /**
   * Signs a checkpoint of the current size now (if it has none yet) and returns it. With
   * witnesses: a round now, and the checkpoint once published (QUORUM_NOT_MET, a
   * WitnessingError, when the cosignatures fall short: nothing is published).
   */
  async checkpointNow(): Promise<{ size: number; note: string }> {
    await this.#flushing;
    return this.#checkpointer.checkpoint(this.#size, this.#range.root());
  }

  /** Waits for queued work, stops timers, releases workers. The store stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing) await this.#flushing;
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    await this.#checkpointer.stop();
    await this.#pool.close();
    if (this.#notWriter === undefined) await this.#store.releaseWriter(this.#lease).catch(() => undefined);
  }
}
