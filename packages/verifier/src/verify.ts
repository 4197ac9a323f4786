// The independent verifier an oversight body runs. It trusts only the log's public key
// (pinned out of band) and what it remembered from its last run (the saved state). It
// streams the leaves in index order and replays the ledger's admission rules on each, so
// every event is checked with the key in force at its position; it recomputes the tree
// root at every checkpoint size and at the saved state's size. Memory: the chain heads,
// the registry, the compact range (log2 n hashes), the checkpoints and a fingerprint set
// of event hashes (lineage); a few chunks of leaves at a time. Decoding, hashing and
// signature checks run ahead on worker threads (chunk.ts); the replay is in order.
import { availableParallelism } from 'node:os';
import { chainKey, checkLink, EMPTY_HEAD, type ChainHead } from '@civic-ledger/chain';
import { fromHex, parseVerifierKey, toHex, type VerifierKey } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { decodeLeaf, LeafError, type DecodedLeaf } from '@civic-ledger/leaf';
import {
  isGenesisKeyEvent,
  LedgerError,
  Registry,
  registryEffects,
  unregisteredReferences,
} from '@civic-ledger/ledger-core';
import { borderNodeIds, nodeCoverage } from '@civic-ledger/merkle';
import { OPERATOR_ORG, SchemaError, isMovement, validateEvent, type Event } from '@civic-ledger/schemas';
import {
  isSignedNoteError,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type VerifiedCheckpoint,
} from '@civic-ledger/signed-note';
import {
  KIND_ATTEST,
  KIND_FINDING,
  KIND_MOVEMENT,
  SIG_NONE,
  SIG_VALID,
  STATUS_FAST,
  STRINGS_PER_LEAF,
  type ChunkOutput,
  type KeyHint,
} from './chunk.ts';
import { Decoders, type SignatureCheck } from './decoders.ts';
import { EventHashSet } from './hash-set.ts';
import { latin1ToHex, leafHashOfPrefixed, TreeBorder } from './tree.ts';
import type { LogSource, SourceLeaf } from './sources.ts';

/** Stable codes of what failed. */
export type VerifyCheck =
  | 'LEAF_MALFORMED'
  | 'LEAF_INDEX'
  | 'LEAF_MISSING'
  | 'LEAF_METADATA'
  | 'EVENT_SCHEMA'
  | 'EVENT_HASH'
  | 'GENESIS'
  | 'UNKNOWN_KEY'
  | 'KEY_REVOKED'
  | 'BAD_SIGNATURE'
  | 'CHAIN_BREAK'
  | 'UNKNOWN_EMITTER'
  | 'NOT_PERMITTED'
  | 'UNKNOWN_INPUT'
  | 'ALREADY_REGISTERED'
  | 'UNKNOWN_SUBJECT'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_ORIGIN'
  | 'CHECKPOINT_SIGNATURE'
  | 'CHECKPOINT_ORDER'
  | 'CHECKPOINT_ROOT'
  | 'STATE_ORIGIN'
  | 'LOG_TRUNCATED'
  | 'LOG_REWRITTEN';

/** What a verifier remembers between runs: the last checkpoint it verified. */
export interface VerifierState {
  origin: string;
  size: number;
  /** Hex root hash of the tree of `size` leaves. */
  rootHash: string;
  /**
   * Hex compact range of that tree (perfect-subtree roots, largest first). Optional: with
   * it a rewrite is located to the first subtree that differs, not just "before size".
   */
  border?: string[];
}

/**
 * A log key with its validity window (inclusive both ends): it may sign checkpoints of tree
 * size n with fromSize <= n <= untilSize. Windows overlap while a rotation is in progress.
 */
export interface LogKeyWindow {
  /** C2SP verifier-key text. */
  key: string;
  /** The smallest tree size it signs (default 0). */
  fromSize?: number;
  /** The largest tree size it signs (default: no end). */
  untilSize?: number;
}

export interface VerifyOptions {
  /** The log's public key, C2SP verifier-key text (pinned out of band). Exactly one of logKey, logKeys. */
  logKey?: string;
  /**
   * Log keys with validity windows (rotation): a checkpoint of size n must carry a valid
   * signature from a key whose window contains n; signatures of keys outside it are ignored.
   */
  logKeys?: readonly LogKeyWindow[];
  /** The log's origin line. */
  origin: string;
  /** The state saved by an earlier run: the log must only have grown since. */
  state?: VerifierState;
  /** Optionally pin the operator's first key too (verifier-key text); else taken from leaf 0. */
  operatorKey?: string;
  /** Check event signatures (default true; false is the fast mode). */
  checkSignatures?: boolean;
  /**
   * Worker threads that decode, hash and signature-check chunks of leaves while the calling
   * thread replays the order-dependent checks (default: the available parallelism for logs
   * of at least 50,000 leaves, else 0; 0 does everything on the calling thread).
   */
  threads?: number;
  /** The former name of `threads` (used when `threads` is not given). */
  signatureThreads?: number;
  /**
   * The calling thread also decodes a share of the chunks between its replays (with at least
   * one worker thread). Default: true when `threads` is left to its default without signature
   * checks, which is then one worker fewer than the available parallelism (at least one); with
   * signature checks the default is a worker per core and no share; else false.
   */
  shareDecoding?: boolean;
  /**
   * With signature checks and worker threads: this thread reads and decodes every chunk and
   * the workers only check signatures (default true). false: the workers read, decode and
   * check their chunks, this thread replays.
   */
  decodeHere?: boolean;
  /**
   * Use the fast leaf decoder (default true). false sends every leaf through the reference
   * decoder and checks on the calling thread: the same verdicts, several times slower; a
   * cross-check of the fast path.
   */
  fastPath?: boolean;
  /** Leaves read per round trip (default 2000; 500 when signatures are checked). */
  chunkSize?: number;
  /** Called after each chunk. */
  onProgress?: (done: number, total: number) => void;
}

export interface VerifiedCheckpointSummary {
  size: number;
  /** Hex root hash. */
  rootHash: string;
  note: string;
}

export type VerifyResult =
  | {
      ok: true;
      /** Leaves verified. */
      size: number;
      /** The largest checkpoint verified (undefined when the log has none). */
      checkpoint: VerifiedCheckpointSummary | undefined;
      /** What to save for the next run (the saved state if no larger checkpoint was seen). */
      newState: VerifierState | undefined;
    }
  | VerifyFailure;

export interface VerifyFailure {
  ok: false;
  /**
   * Ledger index of the failing leaf; for checkpoint and state checks, the tree size
   * concerned (LOG_REWRITTEN: the first index of the first subtree that differs when the
   * state has a border, else the saved size; LOG_TRUNCATED: the size the log now has).
   */
  index: number;
  eventHash?: string;
  check: VerifyCheck;
  message: string;
  /** LOG_REWRITTEN with a border: the leaf range [from, to) whose subtree differs. */
  range?: [number, number];
}

class Failed extends Error {
  readonly failure: VerifyFailure;
  constructor(failure: VerifyFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

function fail(check: VerifyCheck, index: number, message: string, eventHash?: string): never {
  throw new Failed({ ok: false, index, check, message, ...(eventHash === undefined ? {} : { eventHash }) });
}

interface PendingCheckpoint {
  size: number;
  note: string;
  verified: VerifiedCheckpoint | undefined;
  error: { check: VerifyCheck; message: string } | undefined;
}

interface Item {
  row: SourceLeaf;
  leaf?: DecodedLeaf;
  event?: Event;
  signature?: Uint8Array;
  error?: { check: VerifyCheck; message: string };
}

const HEX_HASH = /^[0-9a-f]{64}$/;

function checkState(state: VerifierState): void {
  if (!Number.isSafeInteger(state.size) || state.size < 0) throw new TypeError('state.size: integer >= 0');
  if (!HEX_HASH.test(state.rootHash)) throw new TypeError('state.rootHash: 64 lower-case hex digits');
  if (state.border !== undefined) {
    if (
      state.border.length !== borderNodeIds(state.size).length ||
      !state.border.every((h) => HEX_HASH.test(h))
    )
      throw new TypeError('state.border: the hex border hashes of a tree of state.size leaves');
  }
}

/** The verify check of a signed-note error from opening a checkpoint (others are rethrown). */
export function checkpointError(e: unknown): { check: VerifyCheck; message: string } {
  if (!isSignedNoteError(e)) throw e;
  const check: VerifyCheck =
    e.code === 'ORIGIN_MISMATCH'
      ? 'CHECKPOINT_ORIGIN'
      : e.code === 'MALFORMED_CHECKPOINT' || e.code === 'MALFORMED_NOTE'
        ? 'CHECKPOINT_MALFORMED'
        : 'CHECKPOINT_SIGNATURE';
  return { check, message: `checkpoint: ${e.code}: ${e.message}` };
}

type NoteVerifier = ReturnType<typeof verifierFromKeyText>;

/** The pinned keys as windows: one key alone is valid at every size. */
function keyWindows(options: VerifyOptions): { verifier: NoteVerifier; from: number; until: number }[] {
  if ((options.logKey === undefined) === (options.logKeys === undefined))
    throw new TypeError('logKey, logKeys: give exactly one of the two');
  if (options.logKey !== undefined)
    return [{ verifier: verifierFromKeyText(options.logKey), from: 0, until: Infinity }];
  const keys = options.logKeys!;
  if (keys.length === 0) throw new TypeError('logKeys: at least one key');
  const size = (x: number | undefined, name: string, i: number, dflt: number) => {
    if (x === undefined) return dflt;
    if (!Number.isSafeInteger(x) || x < 0) throw new TypeError(`logKeys[${i}].${name}: integer >= 0`);
    return x;
  };
  return keys.map((k, i) => {
    const from = size(k.fromSize, 'fromSize', i, 0);
    const until = size(k.untilSize, 'untilSize', i, Infinity);
    if (until < from) throw new TypeError(`logKeys[${i}]: untilSize must be >= fromSize`);
    return { verifier: verifierFromKeyText(k.key), from, until };
  });
}

/** Opens every checkpoint with the keys valid at its size; failures are reported at their tree size. */
function openCheckpoints(
  notes: readonly string[],
  origin: string,
  windows: ReturnType<typeof keyWindows>,
): PendingCheckpoint[] {
  const out: PendingCheckpoint[] = [];
  let last = 0;
  for (const note of notes) {
    let size: number | undefined;
    let verified: VerifiedCheckpoint | undefined;
    let error: PendingCheckpoint['error'];
    try {
      // The size is read unverified only to pick the keys; the note is then opened with them
      // (a note that does not parse is opened with every key: openCheckpoint names the error).
      let claimed: number | undefined;
      try {
        claimed = parseCheckpoint(parseNote(note).text).size;
      } catch {
        claimed = undefined;
      }
      const verifiers = windows
        .filter((w) => claimed === undefined || (w.from <= claimed && claimed <= w.until))
        .map((w) => w.verifier);
      if (claimed !== undefined && verifiers.length === 0) {
        size = claimed;
        error = {
          check: 'CHECKPOINT_SIGNATURE',
          message: `checkpoint: no pinned log key is valid at tree size ${claimed}`,
        };
      } else {
        verified = openCheckpoint(note, { verifiers, origin });
        size = verified.size;
      }
    } catch (e) {
      error = checkpointError(e);
      try {
        size = parseCheckpoint(parseNote(note).text).size;
      } catch {
        size = undefined;
      }
    }
    // A checkpoint that cannot even be parsed is reported where the previous one was.
    size ??= last;
    if (size < last && error === undefined) {
      error = {
        check: 'CHECKPOINT_ORDER',
        message: `checkpoint of size ${size} follows one of size ${last}`,
      };
    }
    last = Math.max(last, size);
    out.push({ size, note, verified, error });
  }
  // Stable: checkpoints of one size keep their order.
  return out.sort((a, b) => a.size - b.size);
}

function decodeItem(row: SourceLeaf): Item {
  const item: Item = { row };
  try {
    item.leaf = decodeLeaf(row.leaf);
  } catch (e) {
    if (!(e instanceof LeafError)) throw e;
    item.error = { check: 'LEAF_MALFORMED', message: `${e.code}: ${e.message}` };
    return item;
  }
  try {
    const v = validateEvent(item.leaf.event);
    if (v.canonical !== item.leaf.eventCanonical) {
      item.error = {
        check: 'EVENT_SCHEMA',
        message: 'the validated event does not have the canonical form in the leaf',
      };
      return item;
    }
    item.event = v.event;
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    item.error = { check: 'EVENT_SCHEMA', message: `${e.code}: ${e.message}` };
    return item;
  }
  item.signature = new Uint8Array(Buffer.from(item.leaf.signature, 'base64'));
  return item;
}

/** Verifies a whole log from its leaves and checkpoints; stops at the first failure. */
export async function verifyLog(source: LogSource, options: VerifyOptions): Promise<VerifyResult> {
  if (options.state) checkState(options.state);
  keyWindows(options);
  for (const t of [options.threads, options.signatureThreads])
    if (t !== undefined && (!Number.isSafeInteger(t) || t < 0)) throw new TypeError('threads: integer >= 0');
  try {
    return await run(source, options, options.checkSignatures ?? true);
  } catch (e) {
    if (e instanceof Failed) return e.failure;
    throw e;
  }
}

/**
 * Logs at least this long get worker threads by default: a worker takes about 0.3 s of
 * CPU to start (it loads the schemas), which a shorter log does not earn back.
 */
const AUTO_THREADS_MIN_LEAVES = 50_000;

function sameKey(a: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[at + i] !== b[i]) return false;
  return b.length === 32;
}

/** The row of a leaf a worker read: its store columns were checked there. */
const NO_ROW: SourceLeaf = { leaf: new Uint8Array(0) };

/** 0x00 || leaf: the input of its RFC 9162 leaf hash. */
function prefixed(leaf: Uint8Array): Uint8Array {
  const p = new Uint8Array(leaf.length + 1);
  p.set(leaf, 1);
  return p;
}

/** The 64 signature bytes of a leaf whose frame the fast decoder matched. */
function leafSignature(leaf: Uint8Array): Uint8Array {
  const n = leaf.length;
  return new Uint8Array(
    Buffer.from(Buffer.from(leaf.buffer, leaf.byteOffset, n).toString('latin1', n - 96, n - 8), 'base64'),
  );
}

async function run(
  source: LogSource,
  options: VerifyOptions,
  checkSignatures: boolean,
): Promise<VerifyResult> {
  const { state, origin } = options;
  if (state && state.origin !== origin) {
    fail(
      'STATE_ORIGIN',
      0,
      `the saved state is for ${JSON.stringify(state.origin)}, not ${JSON.stringify(origin)}`,
    );
  }
  const n = await source.size();
  const checkpoints = openCheckpoints(await source.checkpoints(), origin, keyWindows(options));
  // With signatures a chunk is ~4x the work: smaller ones keep the workers evenly loaded
  // while the replay takes them in order (measured: 500 ~9 % faster than 2000 on 2 cores).
  const chunkSize = Math.max(1, options.chunkSize ?? (checkSignatures ? 500 : 2000));

  // Sizes at which something is compared: checkpoints, the saved size, the saved border.
  const border = state?.border;
  const borderEnds: number[] = [];
  if (state && border) for (const id of borderNodeIds(state.size)) borderEnds.push(nodeCoverage(id)[1]);
  const stops = [
    ...new Set([0, ...checkpoints.map((c) => c.size), ...(state ? [state.size] : []), ...borderEnds]),
  ].sort((a, b) => a - b);
  let stop = 0;
  let cp = 0;
  let latest: { size: number; rootHash: string; border: string[]; note: string } | undefined;

  const range = new TreeBorder();
  const registry = new Registry();
  const heads = new Map<string, ChainHead>();
  const known = new EventHashSet();
  /** Every key the replay has put in force, in order: hints for the decoders. */
  const keyHints: KeyHint[] = [];

  const atSize = (s: number): void => {
    if (border) {
      const j = borderEnds.indexOf(s);
      if (j >= 0 && latin1ToHex(range.hashes[j]!) !== border[j]) {
        const from = j === 0 ? 0 : borderEnds[j - 1]!;
        throw new Failed({
          ok: false,
          index: from,
          check: 'LOG_REWRITTEN',
          message: `leaves [${from}, ${s}) differ from the log seen at size ${state!.size}: the log was rewritten`,
          range: [from, s],
        });
      }
    }
    let root: string | undefined;
    const rootHex = () => (root ??= latin1ToHex(range.root()));
    if (state && s === state.size && rootHex() !== state.rootHash) {
      fail(
        'LOG_REWRITTEN',
        s,
        `the first ${s} leaves give root ${rootHex()}, the saved state has ${state.rootHash}: the log was rewritten`,
      );
    }
    while (cp < checkpoints.length && checkpoints[cp]!.size === s) {
      const c = checkpoints[cp++]!;
      if (c.error) fail(c.error.check, s, c.error.message);
      const signed = toHex(c.verified!.rootHash);
      if (signed !== rootHex()) {
        fail(
          'CHECKPOINT_ROOT',
          s,
          `checkpoint of size ${s} signs root ${signed}; the leaves give ${rootHex()}`,
        );
      }
      latest = { size: s, rootHash: signed, border: range.hashes.map(latin1ToHex), note: c.note };
    }
  };

  // The reference checks of one leaf. fastStep below re-states them for ordinary events:
  // a check added here must be added there too (or fastStep must decline the events it
  // concerns); the tests comparing fastPath true and false catch a check missing there.
  const verifyOne = (
    pos: number,
    item: Item,
    pre: Map<number, { key: VerifierKey; ok: boolean }>,
    k: number,
  ) => {
    if (item.error && item.error.check === 'LEAF_MALFORMED') fail(item.error.check, pos, item.error.message);
    const leaf = item.leaf!;
    const hash = leaf.eventHash;
    if (item.row.index !== undefined && item.row.index !== pos)
      fail('LEAF_INDEX', pos, `the source returned row ${item.row.index} at position ${pos}`, hash);
    if (leaf.index !== pos)
      fail('LEAF_INDEX', pos, `the leaf at position ${pos} says index ${leaf.index}`, hash);
    if (item.error) fail(item.error.check, pos, item.error.message, hash);
    const e = item.event!;
    if (item.row.eventHash !== undefined && item.row.eventHash !== hash)
      fail(
        'EVENT_HASH',
        pos,
        `the store says event hash ${item.row.eventHash}; the leaf's event hashes to ${hash}`,
        hash,
      );
    const chain = chainKey(e.emitter, e.stream);
    if (
      (item.row.chain !== undefined && item.row.chain !== chain) ||
      (item.row.seq !== undefined && item.row.seq !== e.seq)
    )
      fail(
        'LEAF_METADATA',
        pos,
        `the store files this leaf under ${item.row.chain}#${item.row.seq}, it is ${chain}#${e.seq}`,
        hash,
      );

    // The key in force at this position (the genesis leaf brings the operator's first key).
    let key: VerifierKey;
    const ks = registry.key(e.key);
    if (pos === 0) {
      if (!isGenesisKeyEvent(e))
        fail('GENESIS', pos, 'leaf 0 is not the operator adding its own key, signed by it', hash);
      const text = (e as Extract<Event, { type: 'key' }>).publicKey ?? '';
      if (options.operatorKey !== undefined && text !== options.operatorKey.trim())
        fail('GENESIS', pos, 'leaf 0 adds an operator key other than the pinned one', hash);
      try {
        key = parseVerifierKey(text);
      } catch (cause) {
        fail(
          'GENESIS',
          pos,
          `leaf 0's operator key is not a verifier key: ${(cause as Error).message}`,
          hash,
        );
      }
    } else if (ks === undefined) {
      fail('UNKNOWN_KEY', pos, `key ${e.key} is not registered at ledger index ${pos}`, hash);
    } else {
      if (ks.org !== e.emitter)
        fail('UNKNOWN_KEY', pos, `key ${e.key} belongs to ${ks.org}, not ${e.emitter}`, hash);
      if (ks.revokedAt !== undefined)
        fail('KEY_REVOKED', pos, `key ${e.key} was revoked at ledger index ${ks.revokedAt}`, hash);
      key = ks.verifier;
    }
    if (checkSignatures) {
      const p = pre.get(k);
      const ok = p !== undefined && p.key === key ? p.ok : verifyEventSignature(hash, item.signature!, key);
      if (!ok) fail('BAD_SIGNATURE', pos, `signature does not verify with key ${e.key}`, hash);
    }

    // The emitter's chain: seq from 1, each prev the previous event's hash.
    const head = heads.get(chain) ?? EMPTY_HEAD;
    const outcome = checkLink(head, { seq: e.seq, prev: e.prev, hash }, () => undefined);
    if (outcome.kind !== 'ok') {
      const why =
        outcome.kind === 'gap'
          ? `seq ${e.seq} where ${outcome.expectedSeq} was next`
          : outcome.kind === 'bad-prev'
            ? `prev ${e.prev} does not name the previous event ${outcome.expectedPrev}`
            : `seq ${e.seq} is at or below the chain head (seq ${head.seq}): replayed or reordered`;
      fail('CHAIN_BREAK', pos, `chain ${chain} breaks: ${why}`, hash);
    }

    // Who may emit what.
    if (e.emitter !== OPERATOR_ORG) {
      const org = registry.org(e.emitter);
      if (!org) fail('UNKNOWN_EMITTER', pos, `organization ${e.emitter} is not registered`, hash);
      if (e.type === 'attest' && org.role !== 'oversight')
        fail('NOT_PERMITTED', pos, `attest by ${e.emitter}, which is not an oversight body`, hash);
      if (e.type === 'finding' && org.role !== 'compliance')
        fail('NOT_PERMITTED', pos, `finding by ${e.emitter}, which is not the compliance service`, hash);
    }
    // Lineage: every input is an earlier event.
    if (isMovement(e)) {
      for (const input of e.inputs)
        if (!known.has(input)) fail('UNKNOWN_INPUT', pos, `input ${input} is not an earlier event`, hash);
    }
    // The datasets and sources it names are registered.
    const unregistered = unregisteredReferences(e, registry);
    if (unregistered) fail('UNKNOWN_SUBJECT', pos, unregistered.message, hash);
    let effects;
    try {
      effects = registryEffects(e, pos, registry);
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      const check: VerifyCheck =
        err.code === 'ALREADY_REGISTERED' || err.code === 'UNKNOWN_SUBJECT' ? err.code : 'EVENT_SCHEMA';
      fail(check, pos, err.message, hash);
    }
    for (const rec of effects) {
      registry.apply(rec);
      if (rec.kind === 'key-add' || rec.kind === 'key-recover')
        keyHints.push({ name: rec.id, publicKey: registry.key(rec.id)!.verifier.publicKey });
    }
    heads.set(chain, { seq: e.seq, hash });
    known.add(hash);
  };

  /**
   * The leaf at `pos` from what a decoder computed, when it is an ordinary event that
   * passes every check: applies its effects and returns true. Returns false, having changed
   * nothing, whenever anything is not plainly fine (a decoding the fast path left to the
   * reference decoder, leaf 0, registrations and keys, any failed check, a signature not
   * checked with the key in force): the reference path (verifyOne) then decides, on the
   * same state, so the verdict and the reported failure are the reference path's.
   */
  const fastStep = (
    pos: number,
    row: SourceLeaf,
    out: ChunkOutput,
    k: number,
    pre: Map<number, { publicKey: Uint8Array; ok: boolean }> | undefined,
  ): boolean => {
    if (out.status[k] !== STATUS_FAST || pos === 0) return false;
    const o = STRINGS_PER_LEAF * k;
    const hash = out.strings[o]!;
    const chain = out.strings[o + 2]!;
    const emitter = out.strings[o + 3]!;
    const seq = out.nums[2 * k + 1]!;
    if (row.index !== undefined && row.index !== pos) return false;
    if (out.nums[2 * k] !== pos) return false;
    if (row.eventHash !== undefined && row.eventHash !== hash) return false;
    if ((row.chain !== undefined && row.chain !== chain) || (row.seq !== undefined && row.seq !== seq))
      return false;
    const ks = registry.key(out.strings[o + 4]!);
    if (ks === undefined || ks.org !== emitter || ks.revokedAt !== undefined) return false;
    if (checkSignatures) {
      const publicKey = ks.verifier.publicKey;
      const p = pre?.get(k);
      const ok =
        out.sig[k] !== SIG_NONE && sameKey(out.sigKeys, 32 * k, publicKey)
          ? out.sig[k] === SIG_VALID
          : p !== undefined && sameKey(p.publicKey, 0, publicKey) && p.ok;
      if (!ok) return false;
    }
    const head = heads.get(chain) ?? EMPTY_HEAD;
    if (seq !== head.seq + 1 || out.strings[o + 1] !== head.hash) return false;
    const kind = out.kind[k];
    if (emitter !== OPERATOR_ORG) {
      const org = registry.org(emitter);
      if (org === undefined) return false;
      if (kind === KIND_ATTEST && org.role !== 'oversight') return false;
      if (kind === KIND_FINDING && org.role !== 'compliance') return false;
    }
    if (kind === KIND_MOVEMENT) {
      if (registry.resource(out.strings[o + 5]!)?.kind !== 'dataset') return false;
      const source = out.strings[o + 6]!;
      if (source !== '' && registry.resource(source)?.kind !== 'source') return false;
      const fps = out.inputFps;
      for (let i = out.inputStart[k]!, end = out.inputStart[k + 1]!; i < end; i++)
        if (!known.hasFingerprint(fps[2 * i]!, fps[2 * i + 1]!)) return false;
    }
    // Registrations and keys (the only events with registry effects) never come here.
    heads.set(chain, { seq, hash });
    known.addFingerprint(out.fps[2 * k]!, out.fps[2 * k + 1]!);
    return true;
  };

  /**
   * Signatures a decoder checked with another key than the one in force at the chunk's
   * start (a key added after the chunk was sent): checked again, in parallel, with that key.
   * `getRows` gives the chunk's rows; when they are a second read (the worker read its
   * own), a leaf whose bytes differ from the worker's is not rechecked (it then takes the
   * reference path, on the second read, for its checks and its tree hash alike).
   */
  const recheck = async (
    getRows: () => Promise<readonly SourceLeaf[]>,
    out: ChunkOutput,
    secondRead: boolean,
  ) => {
    const wanted: number[] = [];
    for (let k = 0; k < out.count; k++) {
      if (out.status[k] !== STATUS_FAST) continue;
      const o = STRINGS_PER_LEAF * k;
      const ks = registry.key(out.strings[o + 4]!);
      if (ks === undefined || ks.revokedAt !== undefined || ks.org !== out.strings[o + 3]) continue;
      if (out.sig[k] !== SIG_NONE && sameKey(out.sigKeys, 32 * k, ks.verifier.publicKey)) continue;
      wanted.push(k);
    }
    if (wanted.length === 0) return undefined;
    const rows = await getRows();
    const checks: SignatureCheck[] = [];
    const at: number[] = [];
    for (const k of wanted) {
      const leaf = rows[k]?.leaf;
      if (leaf === undefined) continue;
      if (
        secondRead &&
        leafHashOfPrefixed(prefixed(leaf)) !==
          Buffer.from(out.leafHashes.buffer, out.leafHashes.byteOffset + 32 * k, 32).toString('latin1')
      )
        continue;
      const o = STRINGS_PER_LEAF * k;
      checks.push({
        publicKey: registry.key(out.strings[o + 4]!)!.verifier.publicKey,
        digest: fromHex(out.strings[o]!),
        signature: leafSignature(leaf),
      });
      at.push(k);
    }
    if (checks.length === 0) return undefined;
    const ok = await decoders!.verify(checks);
    return new Map(at.map((k, i) => [k, { publicKey: checks[i]!.publicKey, ok: ok[i]! }]));
  };

  const advance = (s: number): void => {
    while (stop < stops.length && stops[stop]! < s) stop++;
    if (stops[stop] === s) atSize(s);
  };

  const fastPath = options.fastPath ?? true;
  // By default (logs of AUTO_THREADS_MIN_LEAVES or more): without signature checks, one
  // worker fewer than the cores and this thread decodes a share of the chunks between its
  // replays (a worker costs ~0.3-0.6 s of CPU to start, and this thread would otherwise
  // mostly wait); with them, a worker per core, since verifying dominates and parallelises
  // (measured on 2 idle cores: 58 % of raw verify x cores with sharing, 67 % without).
  const auto =
    fastPath && options.threads === undefined && options.signatureThreads === undefined
      ? n >= AUTO_THREADS_MIN_LEAVES
      : false;
  const threads = !fastPath
    ? 0
    : auto
      ? Math.max(1, availableParallelism() - (checkSignatures ? 0 : 1))
      : (options.threads ?? options.signatureThreads ?? 0);
  const decoders = fastPath
    ? new Decoders({ threads, fingerprintKey: known.fingerprinter.key, checkSignatures })
    : undefined;
  /**
   * The share of chunks this thread decodes itself (shareDecoding): what balances its replay
   * (~4 µs per event) against the decoding (~25 µs per event; ~200 µs with signatures)
   * across itself and the workers.
   */
  // With signatures, decoding here and checking there keeps the workers in Ed25519 alone
  // (decoding between verifications made each cost more) while this thread, otherwise
  // idle, decodes ahead (measured on 2 cores, two alternating runs of 100k events: ~7 % more
  // events/s and ~5 % less CPU per event than the workers decoding).
  const decodeHere = checkSignatures && threads > 0 && (options.decodeHere ?? true);
  const share = !decodeHere && threads > 0 && (options.shareDecoding ?? (auto && !checkSignatures));
  const hereShare = share ? Math.max(0, (1 - threads * (checkSignatures ? 0.02 : 0.16)) / (threads + 1)) : 0;
  let dispatched = 0;
  try {
    // A pipeline: up to three chunks per worker are read and being decoded while the
    // calling thread replays the oldest one, in position order. When the source lets
    // workers read the leaves themselves (sqliteSource), they do, and this thread reads a
    // chunk only if one of its leaves needs the reference path.
    interface Queued {
      from: number;
      to: number;
      /** The rows, when this thread read them. */
      rows: readonly SourceLeaf[] | undefined;
      output: Promise<ChunkOutput> | undefined;
      readError?: unknown;
    }
    const queue: Queued[] = [];
    const depth = threads === 0 ? 1 : 3 * threads + (hereShare > 0 ? 3 : 0);
    const workerReader =
      decoders !== undefined && decoders.threads > 0 && !decodeHere ? source.workerReader : undefined;
    let nextFrom = 0;
    let ended = false;
    const fill = async () => {
      while (!ended && nextFrom < n && queue.length < depth) {
        const from = nextFrom;
        const to = Math.min(n, from + chunkSize);
        nextFrom = to;
        // This thread's turn (shareDecoding): read and decode the chunk here, now.
        const here = Math.floor((dispatched + 1) * hereShare) > Math.floor(dispatched * hereShare);
        dispatched++;
        if (workerReader !== undefined && !here) {
          const q: Queued = { from, to, rows: undefined, output: undefined };
          q.output = decoders!.decodeRange(from, to, workerReader, keyHints).catch(async () => {
            // The worker could not read or decode them: read and decode them here (a read
            // error is reported when the replay reaches this chunk, as below).
            const rows = (await source.leaves(from, to)).slice(0, to - from);
            q.rows = rows;
            return decoders!.decodeHere(
              from,
              rows.map((r) => r.leaf),
              keyHints,
            );
          });
          q.output.catch(() => undefined);
          queue.push(q);
          continue;
        }
        let rows: readonly SourceLeaf[];
        try {
          rows = (await source.leaves(from, to)).slice(0, to - from);
        } catch (readError) {
          // Reported when the replay reaches this chunk, after the checks before it.
          queue.push({ from, to, rows: [], output: undefined, readError });
          ended = true;
          return;
        }
        if (rows.length < to - from) ended = true;
        const leaves = rows.map((r) => r.leaf);
        const output = decodeHere
          ? decoders!.decodeHereCheckThere(from, leaves, keyHints)
          : here
            ? new Promise<ChunkOutput>((resolve) => resolve(decoders!.decodeHere(from, leaves, keyHints)))
            : decoders?.decode(from, leaves, keyHints);
        // Awaited in turn; a failure before then must not count as unhandled.
        output?.catch(() => undefined);
        queue.push({ from, to, rows, output });
      }
    };

    advance(0);
    for (;;) {
      await fill();
      const chunk = queue.shift();
      if (chunk === undefined) break;
      if (chunk.readError !== undefined) throw chunk.readError;
      const { from, to } = chunk;
      const out = await chunk.output;
      // Rows a worker read itself (and made the row checks on) are read here again only
      // when a leaf needs the reference path; that leaf is then checked and hashed into
      // the tree from this second read.
      let rows = chunk.rows;
      const workerRead = rows === undefined;
      const count = rows === undefined ? out!.count : rows.length;
      const getRows = async (): Promise<readonly SourceLeaf[]> =>
        (rows ??= (await source.leaves(from, to)).slice(0, to - from));
      const leafHashes =
        out && Buffer.from(out.leafHashes.buffer, out.leafHashes.byteOffset, out.leafHashes.byteLength);
      const pre = out && checkSignatures && threads > 0 ? await recheck(getRows, out, workerRead) : undefined;
      for (let k = 0; k < count; k++) {
        const pos = from + k;
        if (out !== undefined && fastStep(pos, workerRead ? NO_ROW : rows![k]!, out, k, pre)) {
          range.appendLeaf(leafHashes!.toString('latin1', 32 * k, 32 * k + 32));
        } else if (workerRead) {
          const row = (await getRows())[k];
          if (row === undefined)
            fail('LEAF_MISSING', pos, `the log claims ${n} leaves; leaf ${pos} is missing on a second read`);
          verifyOne(pos, decodeItem(row), new Map(), k);
          range.appendLeaf(leafHashOfPrefixed(prefixed(row.leaf)));
        } else {
          const row = rows![k]!;
          verifyOne(pos, decodeItem(row), new Map(), k);
          range.appendLeaf(
            out
              ? leafHashes!.toString('latin1', 32 * k, 32 * k + 32)
              : leafHashOfPrefixed(prefixed(row.leaf)),
          );
        }
        advance(pos + 1);
      }
      if (count < to - from) {
        fail('LEAF_MISSING', from + count, `the log claims ${n} leaves; leaf ${from + count} is missing`);
      }
      options.onProgress?.(to, n);
    }
  } finally {
    await decoders?.close();
  }

  // What was seen before must still be there.
  if (state && state.size > n) {
    fail(
      'LOG_TRUNCATED',
      n,
      `the log has ${n} leaves; a checkpoint of size ${state.size} was verified before`,
    );
  }
  if (cp < checkpoints.length) {
    const c = checkpoints[cp]!;
    if (c.error) fail(c.error.check, c.size, c.error.message);
    fail('LOG_TRUNCATED', n, `the log has ${n} leaves; it signed a checkpoint of size ${c.size}`);
  }

  const newState: VerifierState | undefined =
    latest && (!state || latest.size >= state.size)
      ? { origin, size: latest.size, rootHash: latest.rootHash, border: latest.border }
      : state;
  return {
    ok: true,
    size: n,
    checkpoint: latest && { size: latest.size, rootHash: latest.rootHash, note: latest.note },
    newState,
  };
}
