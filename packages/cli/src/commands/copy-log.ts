// The core of `migrate` and `import`: copies a log, leaf bytes unchanged, into a LedgerStore
// and proves the copy by its tree. The Ledger cannot replay a log (it stamps `admitted` with
// the current time, which changes every leaf and the root), so the derived rows are built here
// from the leaves alone, as rebuildDerived does: decode and validate each leaf, registry
// effects, tree nodes; then `append` with the exact bytes. Checkpoint notes are copied
// unchanged. The target must be empty or hold a prefix of the source (an interrupted copy:
// it resumes); anything else is another log and is refused before anything is written.
import { hostname } from 'node:os';
import { chainKey } from '@civic-ledger/chain';
import { toHex } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { Registry, deadLocalOwner, lineageLinks, registryEffects } from '@civic-ledger/ledger-core';
import { CompactRange, hashLeaf, newNodeBatch, rootAt } from '@civic-ledger/merkle';
import { validateEvent } from '@civic-ledger/schemas';
import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import type {
  CheckpointRecord,
  LeafRecord,
  LedgerStore,
  LineageLink,
  RegistryRecord,
  WriterLease,
} from '@civic-ledger/storage';
import type { LogKeyWindow, SourceLeaf } from '@civic-ledger/verifier';
import { CliError, EXIT, describe } from '../errors.ts';
import type { Io } from '../io.ts';

/** What is copied: a LogSource (sqliteSource, bundleSource) and, optionally, checkpoint times. */
export interface CopySource {
  size(): Promise<number>;
  leaves(from: number, to: number): Promise<readonly SourceLeaf[]>;
  /** Signed checkpoint notes, ascending by tree size. */
  checkpoints(): Promise<readonly string[]>;
  /**
   * When each checkpoint (by tree size) was signed, ms since the epoch, when the source
   * knows. Otherwise the admission time of the checkpoint's last entry is stored.
   */
  checkpointTimes?(): Promise<ReadonlyMap<number, number>>;
}

export interface CopyOptions {
  /** The writer lease owner, e.g. `civic-ledger-migrate@<host>`. */
  owner: string;
  /** The target as messages name it (never with credentials). */
  target: string;
  /** Pinned log key and origin: the latest checkpoint is opened with them. */
  logKey?: string | undefined;
  /** Instead of logKey, a rotated log's keys: opened with a key whose window holds its size. */
  logKeys?: readonly LogKeyWindow[] | undefined;
  origin?: string | undefined;
  /** Leaves per append (default 1000). */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Why a copy is not equal to its source. */
export type CopyCheck =
  /** A source leaf cannot be replayed (malformed, invalid event, registry conflict). */
  | 'CORRUPT'
  /** A source checkpoint cannot be parsed, or two differ for one size. */
  | 'CHECKPOINT_MALFORMED'
  /** A source checkpoint is beyond the source's entries. */
  | 'CHECKPOINT_BEYOND'
  /** The latest checkpoint does not open with the pinned key and origin. */
  | 'CHECKPOINT_SIGNATURE'
  /** A source checkpoint's root is not the root of the source's leaves at its size. */
  | 'CHECKPOINT_ROOT'
  /** After the copy: the target's size, root, tree at the checkpoint, or latest note differ. */
  | 'TARGET_SIZE'
  | 'TARGET_ROOT'
  | 'TARGET_CHECKPOINT';

export interface CopyReport {
  ok: boolean;
  check: CopyCheck | null;
  /** The ledger index (or, for checkpoint checks, the tree size) concerned. */
  index: number | null;
  message: string | null;
  /** Entries appended by this run. */
  copied: number;
  /** Entries the target already held (a resumed copy); 0 for an empty target. */
  resumedFrom: number;
  /** Checkpoint notes in the source (each stored in the target). */
  checkpoints: number;
  /** The target's head after the copy. */
  size: number;
  rootHash: string | null;
  /** The source's size and the root its leaves give. */
  sourceSize: number;
  sourceRootHash: string | null;
  /** The latest checkpoint and whether it was opened with the pinned key. */
  checkpoint: { size: number; rootHash: string; signed: boolean } | null;
  elapsedMs: number;
}

/** The lease owner of a copying command on this host. */
export function copyOwner(command: 'migrate' | 'import'): string {
  return `civic-ledger-${command}@${hostname()}`;
}

class Stop extends Error {
  readonly check: CopyCheck;
  readonly index: number | null;
  constructor(check: CopyCheck, index: number | null, message: string) {
    super(message);
    this.check = check;
    this.index = index;
  }
}

interface SourceCheckpoint {
  size: number;
  note: string;
  rootHash: string;
}

function parseCheckpoints(notes: readonly string[], size: number): SourceCheckpoint[] {
  const bySize = new Map<number, SourceCheckpoint>();
  for (const note of notes) {
    let cp;
    try {
      cp = parseCheckpoint(parseNote(note).text);
    } catch (e) {
      throw new Stop('CHECKPOINT_MALFORMED', null, `a source checkpoint cannot be parsed: ${describe(e)}`);
    }
    if (cp.size > size) {
      throw new Stop(
        'CHECKPOINT_BEYOND',
        cp.size,
        `the source has a checkpoint of tree size ${cp.size} but only ${size} entries`,
      );
    }
    const seen = bySize.get(cp.size);
    if (seen !== undefined && seen.note !== note) {
      throw new Stop(
        'CHECKPOINT_MALFORMED',
        cp.size,
        `the source has two checkpoints of tree size ${cp.size}`,
      );
    }
    bySize.set(cp.size, { size: cp.size, note, rootHash: toHex(cp.rootHash) });
  }
  return [...bySize.values()].sort((a, b) => a.size - b.size);
}

/** The state of replaying the source's leaves: tree, registry, roots at checkpoint sizes. */
class Replay {
  readonly range = CompactRange.empty();
  readonly registry = new Registry();
  /** Root (hex) and last admission time (ms) at each checkpoint size reached. */
  readonly at = new Map<number, { rootHash: string; admitted: number }>();
  readonly #sizes: Set<number>;

  constructor(checkpointSizes: Iterable<number>) {
    this.#sizes = new Set(checkpointSizes);
    if (this.#sizes.has(0)) this.at.set(0, { rootHash: toHex(this.range.root()), admitted: 0 });
  }

  /** Replays one leaf at `index` (the next one); nodes of the tree go to `nodes`. */
  leaf(row: SourceLeaf, index: number, nodes: ReturnType<typeof newNodeBatch>) {
    let record: LeafRecord;
    let effects: RegistryRecord[];
    let lineage: LineageLink[];
    let admitted: string;
    try {
      if (row.index !== undefined && row.index !== index)
        throw new Error(`the source gives it index ${row.index}`);
      const d = decodeLeaf(row.leaf);
      if (d.index !== index) throw new Error(`the leaf says index ${d.index}`);
      const { event } = validateEvent(d.event);
      effects = registryEffects(event, index, this.registry);
      for (const r of effects) this.registry.apply(r);
      lineage = lineageLinks(event, index);
      record = {
        index,
        leaf: row.leaf,
        eventHash: d.eventHash,
        chain: chainKey(event.emitter, event.stream),
        seq: event.seq,
      };
      admitted = d.admitted;
    } catch (e) {
      throw new Stop('CORRUPT', index, `source leaf ${index} cannot be replayed: ${describe(e)}`);
    }
    this.range.append(hashLeaf(row.leaf), nodes);
    const size = index + 1;
    if (this.#sizes.has(size))
      this.at.set(size, { rootHash: toHex(this.range.root()), admitted: Date.parse(admitted) });
    return { record, effects, lineage };
  }
}

async function readChunk(source: CopySource, from: number, to: number): Promise<readonly SourceLeaf[]> {
  const rows = await source.leaves(from, to);
  if (rows.length !== to - from) {
    throw new Stop(
      'CORRUPT',
      from + rows.length,
      `the source claims ${to} or more entries but ends at ${from + rows.length}`,
    );
  }
  return rows;
}

/** A storage failure of the target, as the CLI reports it (exit 3; a refused batch is exit 1). */
function targetError(e: unknown, target: string): unknown {
  if (e instanceof Stop || e instanceof CliError) return e;
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof Error && e.name === 'StorageError') {
    if (code === 'LEASE_HELD') {
      return new CliError(
        'SERVER_ERROR',
        `${target}: another writer holds the log (${e.message}); stop it first`,
        { cause: e },
      );
    }
    if (code === 'BAD_BATCH') {
      return new CliError('VERIFICATION_FAILED', `${target} refused the copied entries: ${e.message}`, {
        cause: e,
      });
    }
  }
  return new CliError('SERVER_ERROR', `could not write to ${target}: ${describe(e)}`, { cause: e });
}

const LEASE_TTL_MS = 60_000;

/**
 * Copies `source` into `target` and compares them. Refuses (CliError USAGE, exit 2) a target
 * that is neither empty nor a prefix of the source, without writing to it; storage failures
 * are CliError (exit 3). Differences found are a report with ok: false.
 */
export async function copyLog(source: CopySource, target: LedgerStore, o: CopyOptions): Promise<CopyReport> {
  const started = performance.now();
  const report: CopyReport = {
    ok: false,
    check: null,
    index: null,
    message: null,
    copied: 0,
    resumedFrom: 0,
    checkpoints: 0,
    size: 0,
    rootHash: null,
    sourceSize: 0,
    sourceRootHash: null,
    checkpoint: null,
    elapsedMs: 0,
  };
  let lease: WriterLease | undefined;
  try {
    const size = await source.size();
    report.sourceSize = size;
    const checkpoints = parseCheckpoints(await source.checkpoints(), size);
    report.checkpoints = checkpoints.length;
    const latest = checkpoints.at(-1);
    if (latest !== undefined) {
      let signed = false;
      if (o.logKey !== undefined || o.logKeys !== undefined) {
        // The SDK's key ring: one key, or each key of a rotated log for the sizes of its window.
        const { LogKeyRing } = await import('@civic-ledger/client');
        try {
          const ring = LogKeyRing.of(o.logKeys === undefined ? { logKey: o.logKey } : { logKeys: o.logKeys });
          ring.open(latest.note, o.origin ?? '');
        } catch (e) {
          throw new Stop(
            'CHECKPOINT_SIGNATURE',
            latest.size,
            `the latest checkpoint does not open with the pinned log key: ${describe(e)}`,
          );
        }
        signed = true;
      }
      report.checkpoint = { size: latest.size, rootHash: latest.rootHash, signed };
    }
    const times = (await source.checkpointTimes?.()) ?? new Map<number, number>();

    // The target: empty, or the first entries of this very log (same root at its size).
    const head = await target.head();
    const refuse = (why: string) =>
      new CliError('USAGE', `${o.target} holds another log (${why}); copy into an empty one`);
    if (head.size > size) throw refuse(`${head.size} entries, the source ${size}`);
    const notes = new Map(checkpoints.map((c) => [c.size, c.note]));
    for (const c of await target.listCheckpoints(0, Number.MAX_SAFE_INTEGER)) {
      if (notes.get(c.size) !== c.note)
        throw refuse(`a checkpoint of tree size ${c.size} the source has not`);
    }
    const replay = new Replay(checkpoints.map((c) => c.size));
    const chunk = o.chunk ?? 1000;
    for (let from = 0; from < head.size; from += chunk) {
      const to = Math.min(head.size, from + chunk);
      const rows = await readChunk(source, from, to);
      const nodes = newNodeBatch();
      for (let i = 0; i < rows.length; i++) replay.leaf(rows[i]!, from + i, nodes);
      o.onProgress?.(to, size);
    }
    if (toHex(replay.range.root()) !== toHex(head.rootHash)) {
      throw refuse(`its ${head.size} entries are not the source's first ${head.size}`);
    }
    report.resumedFrom = head.size;

    lease = await target.acquireWriter({ owner: o.owner, ttlMs: LEASE_TTL_MS, holderIsGone: deadLocalOwner });
    const now = await target.head();
    if (now.size !== head.size || toHex(now.rootHash) !== toHex(head.rootHash)) {
      throw new CliError('SERVER_ERROR', `${o.target} changed while it was being checked; run again`);
    }
    for (let from = head.size; from < size; from += chunk) {
      const to = Math.min(size, from + chunk);
      const rows = await readChunk(source, from, to);
      const nodes = newNodeBatch();
      const leaves: LeafRecord[] = [];
      const registry: RegistryRecord[] = [];
      const lineage: LineageLink[] = [];
      for (let i = 0; i < rows.length; i++) {
        const r = replay.leaf(rows[i]!, from + i, nodes);
        leaves.push(r.record);
        registry.push(...r.effects);
        lineage.push(...r.lineage);
      }
      if (lease.expiresAt - Date.now() < LEASE_TTL_MS / 2) {
        lease = await target.renewWriter(lease, { owner: o.owner, ttlMs: LEASE_TTL_MS });
      }
      await target.append(lease, from, { leaves, nodes, registry, lineage, rootHash: replay.range.root() });
      report.copied += rows.length;
      o.onProgress?.(to, size);
    }
    const sourceRoot = toHex(replay.range.root());
    report.sourceRootHash = sourceRoot;
    // Notes after their entries, so a checkpoint in the target never precedes its leaves.
    for (const c of checkpoints) {
      const createdAt = times.get(c.size) ?? replay.at.get(c.size)?.admitted ?? 0;
      await target.putCheckpoint({ size: c.size, note: c.note, createdAt } satisfies CheckpointRecord);
    }
    await target.releaseWriter(lease);
    lease = undefined;

    // The proof: the target's head is the source's, every checkpoint's root is the root of
    // the leaves at its size, and the target's stored tree gives the latest checkpoint's root.
    const final = await target.head();
    report.size = final.size;
    report.rootHash = toHex(final.rootHash);
    for (const c of checkpoints) {
      const got = replay.at.get(c.size)?.rootHash;
      if (got !== c.rootHash) {
        throw new Stop(
          'CHECKPOINT_ROOT',
          c.size,
          `the source's checkpoint of tree size ${c.size} says root ${c.rootHash}, its leaves give ${got}`,
        );
      }
    }
    if (final.size !== size) {
      throw new Stop('TARGET_SIZE', final.size, `the target holds ${final.size} entries, the source ${size}`);
    }
    if (report.rootHash !== sourceRoot) {
      throw new Stop(
        'TARGET_ROOT',
        size,
        `the target's root is ${report.rootHash}, the source's ${sourceRoot}`,
      );
    }
    if (latest !== undefined) {
      const treeRoot = toHex(await rootAt(target, latest.size));
      if (treeRoot !== latest.rootHash) {
        throw new Stop(
          'TARGET_CHECKPOINT',
          latest.size,
          `the target's tree gives root ${treeRoot} at size ${latest.size}, the checkpoint ${latest.rootHash}`,
        );
      }
      const stored = await target.latestCheckpoint();
      if (stored?.note !== latest.note) {
        throw new Stop(
          'TARGET_CHECKPOINT',
          latest.size,
          `the target's latest checkpoint is not the source's`,
        );
      }
    }
    report.ok = true;
  } catch (e) {
    if (!(e instanceof Stop)) throw targetError(e, o.target);
    report.check = e.check;
    report.index = e.index;
    report.message = e.message;
  } finally {
    if (lease !== undefined) await target.releaseWriter(lease).catch(() => undefined);
    report.elapsedMs = Math.round(performance.now() - started);
  }
  return report;
}

/** Members common to the JSON output of migrate and import. */
export interface CopyOutput extends Omit<CopyReport, 'check'> {
  /** A CopyCheck, or the verifier's check when the source failed verification. */
  check: string | null;
  source: string;
  target: string;
  /** Whether the source was verified with the pinned key before copying. */
  verified: boolean;
  /** 'verify': the source failed verification, nothing was written; 'copy': the copy failed. */
  stage: 'verify' | 'copy' | null;
  /** Verification failures: the event concerned. */
  eventHash: string | null;
}

const OUTPUT_ORDER: readonly (keyof CopyOutput)[] = [
  'ok',
  'source',
  'target',
  'verified',
  'stage',
  'check',
  'index',
  'eventHash',
  'message',
  'copied',
  'resumedFrom',
  'checkpoints',
  'size',
  'rootHash',
  'sourceSize',
  'sourceRootHash',
  'checkpoint',
  'elapsedMs',
];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Prints the result (one JSON object, or text) and returns the exit code. */
export function printCopy(io: Io, json: boolean, out: CopyOutput): number {
  if (json) {
    io.out(`${JSON.stringify(Object.fromEntries(OUTPUT_ORDER.map((k) => [k, out[k]])))}\n`);
  } else if (out.ok) {
    const resumed = out.resumedFrom > 0 ? ` (the target already held the first ${out.resumedFrom})` : '';
    io.out(
      `OK: copied ${plural(out.copied, 'entry', 'entries')}${resumed}, ${plural(out.checkpoints, 'checkpoint')}, ` +
        `tree size ${out.size}, root ${out.rootHash} (equal to the source)\n`,
    );
    if (out.checkpoint !== null) {
      io.out(
        `the target's tree gives the root of the latest checkpoint (tree size ${out.checkpoint.size})` +
          `${out.checkpoint.signed ? ', opened with the pinned log key' : ''}\n`,
      );
    }
    if (!out.verified) {
      io.out(
        'note: the source was NOT verified (no --log-key or --log-keys): the copy is byte for byte, bad entries included; ' +
          "run 'civic-ledger verify' on it with the log key\n",
      );
    }
  } else {
    const where =
      out.index === null
        ? ''
        : ` at ${/^(CHECKPOINT|TARGET|LOG|STATE)_/.test(out.check ?? '') ? 'tree size' : 'ledger index'} ${out.index}`;
    const event = out.eventHash === null ? '' : ` (event ${out.eventHash})`;
    const what =
      out.stage === 'verify'
        ? 'the source does not verify, nothing was written'
        : 'the copy is not equal to the source';
    io.out(`FAILED${where}${event}: ${out.check} — ${out.message} (${what})\n`);
  }
  if (out.stage !== 'verify' && out.elapsedMs > 0 && out.copied > 0) {
    const s = out.elapsedMs / 1000;
    io.err(
      `copied ${out.copied} entries into ${out.target} in ${s.toFixed(1)} s (${Math.round(out.copied / s)} entries/s)\n`,
    );
  }
  return out.ok ? EXIT.OK : EXIT.VERIFICATION_FAILED;
}
