// The independent verifier an oversight body runs. It trusts only the log's public key
// (pinned out of band) and what it remembered from its last run (the saved state). It
// streams the leaves in index order and replays the ledger's admission rules on each, so
// every event is checked with the key in force at its position; it recomputes the tree
// root at every checkpoint size and at the saved state's size. Memory: the chain heads,
// the registry, the compact range (log2 n hashes), the checkpoints and a fingerprint set
// of event hashes (lineage); one chunk of leaves at a time.
import { chainKey, checkLink, EMPTY_HEAD, type ChainHead } from '@civic-ledger/chain';
import { fromHex, parseVerifierKey, toHex, type VerifierKey } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { decodeLeaf, LeafError, type DecodedLeaf } from '@civic-ledger/leaf';
import { LedgerError, Registry, registryEffects, SignaturePool } from '@civic-ledger/ledger-core';
import { CompactRange, borderNodeIds, hashLeaf, nodeCoverage } from '@civic-ledger/merkle';
import { OPERATOR_ORG, SchemaError, isMovement, validateEvent, type Event } from '@civic-ledger/schemas';
import {
  isSignedNoteError,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type VerifiedCheckpoint,
} from '@civic-ledger/signed-note';
import { EventHashSet } from './hash-set.ts';
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

export interface VerifyOptions {
  /** The log's public key, C2SP verifier-key text (pinned out of band). */
  logKey: string;
  /** The log's origin line. */
  origin: string;
  /** The state saved by an earlier run: the log must only have grown since. */
  state?: VerifierState;
  /** Optionally pin the operator's first key too (verifier-key text); else taken from leaf 0. */
  operatorKey?: string;
  /** Check event signatures (default true; false is the fast mode). */
  checkSignatures?: boolean;
  /** Signature worker threads (default 0: the calling thread). */
  signatureThreads?: number;
  /** Leaves read per round trip (default 2000). */
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

function checkpointError(e: unknown): { check: VerifyCheck; message: string } {
  if (!isSignedNoteError(e)) throw e;
  const check: VerifyCheck =
    e.code === 'ORIGIN_MISMATCH'
      ? 'CHECKPOINT_ORIGIN'
      : e.code === 'MALFORMED_CHECKPOINT' || e.code === 'MALFORMED_NOTE'
        ? 'CHECKPOINT_MALFORMED'
        : 'CHECKPOINT_SIGNATURE';
  return { check, message: `checkpoint: ${e.code}: ${e.message}` };
}

/** Opens every checkpoint with the pinned key; failures are reported at their tree size. */
function openCheckpoints(notes: readonly string[], origin: string, logKey: string): PendingCheckpoint[] {
  const verifier = verifierFromKeyText(logKey);
  const out: PendingCheckpoint[] = [];
  let last = 0;
  for (const note of notes) {
    let size: number | undefined;
    let verified: VerifiedCheckpoint | undefined;
    let error: PendingCheckpoint['error'];
    try {
      verified = openCheckpoint(note, { verifiers: [verifier], origin });
      size = verified.size;
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

function isGenesisKeyEvent(e: Event): boolean {
  return (
    e.type === 'key' &&
    e.action === 'add' &&
    e.emitter === OPERATOR_ORG &&
    e.subjectOrg === OPERATOR_ORG &&
    e.subjectKey === e.key &&
    e.seq === 1
  );
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
  const checkSignatures = options.checkSignatures ?? true;
  const threads = options.signatureThreads ?? 0;
  const pool = checkSignatures && threads > 0 ? new SignaturePool({ threads }) : undefined;
  try {
    return await run(source, options, checkSignatures, pool);
  } catch (e) {
    if (e instanceof Failed) return e.failure;
    throw e;
  } finally {
    await pool?.close();
  }
}

async function run(
  source: LogSource,
  options: VerifyOptions,
  checkSignatures: boolean,
  pool: SignaturePool | undefined,
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
  const checkpoints = openCheckpoints(await source.checkpoints(), origin, options.logKey);
  const chunkSize = Math.max(1, options.chunkSize ?? 2000);

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

  const range = CompactRange.empty();
  const registry = new Registry();
  const heads = new Map<string, ChainHead>();
  const known = new EventHashSet();

  const atSize = (s: number): void => {
    if (border) {
      const j = borderEnds.indexOf(s);
      if (j >= 0 && toHex(range.hashes[j]!) !== border[j]) {
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
    const rootHex = () => (root ??= toHex(range.root()));
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
      latest = { size: s, rootHash: signed, border: range.hashes.map(toHex), note: c.note };
    }
  };

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
    let effects;
    try {
      effects = registryEffects(e, pos, registry);
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      const check: VerifyCheck =
        err.code === 'ALREADY_REGISTERED' || err.code === 'UNKNOWN_SUBJECT' ? err.code : 'EVENT_SCHEMA';
      fail(check, pos, err.message, hash);
    }
    for (const rec of effects) registry.apply(rec);
    heads.set(chain, { seq: e.seq, hash });
    known.add(hash);
  };

  const advance = (s: number): void => {
    while (stop < stops.length && stops[stop]! < s) stop++;
    if (stops[stop] === s) atSize(s);
  };

  advance(0);
  for (let from = 0; from < n; from += chunkSize) {
    const to = Math.min(n, from + chunkSize);
    const rows = await source.leaves(from, to);
    const items = rows.slice(0, to - from).map(decodeItem);
    // Signatures of this chunk, in parallel, with the keys in force at the chunk's start;
    // an event whose key changed within the chunk is verified when reached.
    const pre = new Map<number, { key: VerifierKey; ok: boolean }>();
    if (pool) {
      const jobs: { k: number; key: VerifierKey }[] = [];
      items.forEach((it, k) => {
        const ks = it.event ? registry.key(it.event.key) : undefined;
        if (ks && ks.revokedAt === undefined) jobs.push({ k, key: ks.verifier });
      });
      const ok = await pool.verify(
        jobs.map((j) => ({
          key: j.key,
          digest: fromHex(items[j.k]!.leaf!.eventHash),
          signature: items[j.k]!.signature!,
        })),
      );
      jobs.forEach((j, i) => pre.set(j.k, { key: j.key, ok: ok[i]! }));
    }
    for (let k = 0; k < items.length; k++) {
      const pos = from + k;
      verifyOne(pos, items[k]!, pre, k);
      range.append(hashLeaf(items[k]!.row.leaf));
      advance(pos + 1);
    }
    if (items.length < to - from) {
      fail(
        'LEAF_MISSING',
        from + items.length,
        `the log claims ${n} leaves; leaf ${from + items.length} is missing`,
      );
    }
    options.onProgress?.(to, n);
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
