// Pure checks of signed checkpoints: opening one with the pinned log key, and deciding
// whether two trees can be the same log at two moments (a consistency proof joins them) or
// are two views of it (a split view, or a log that rewrote its history).
import { fromHex, toHex } from '@civic-ledger/crypto';
import { emptyRoot, isMerkleError, verifyConsistency } from '@civic-ledger/merkle';
import {
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type NoteSignature,
  type NoteVerifier,
} from '@civic-ledger/signed-note';
import { checkpointError, type LogKeyWindow } from '@civic-ledger/verifier';

/** A checkpoint the pinned log key signed. */
export interface LogCheckpoint {
  note: string;
  size: number;
  rootHash: Uint8Array;
  /** Hex of rootHash. */
  root: string;
  /** Signature lines of other keys (witness cosignatures, kept opaque). */
  otherSignatures: readonly NoteSignature[];
}

export type OpenResult =
  | { ok: true; checkpoint: LogCheckpoint }
  | {
      ok: false;
      check: 'CHECKPOINT_SIGNATURE' | 'CHECKPOINT_ORIGIN' | 'CHECKPOINT_MALFORMED';
      message: string;
    };

/** The pinned log key, or the keys of a rotated log with their windows over tree sizes. */
export type PinnedLogKeys = { logKey: string; logKeys?: undefined } | { logKeys: readonly LogKeyWindow[] };

/** The pinned key(s) as windows (a single key holds every size). */
export function keyWindows(pinned: PinnedLogKeys): { verifier: NoteVerifier; from: number; until: number }[] {
  if (pinned.logKeys === undefined)
    return [{ verifier: verifierFromKeyText(pinned.logKey), from: 0, until: Infinity }];
  return pinned.logKeys.map((k) => ({
    verifier: verifierFromKeyText(k.key),
    from: k.fromSize ?? 0,
    until: k.untilSize ?? Infinity,
  }));
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * Opens a checkpoint note with the pinned log key(s) valid at its size and the origin (never
 * throws for the note's content). A note signed only by another key of the log's name says
 * so, naming that key's id: a rotated log key the monitor was not given.
 */
export function openLogCheckpoint(note: string, log: PinnedLogKeys & { origin: string }): OpenResult {
  const windows = keyWindows(log);
  // The size is read unverified only to pick the keys; the note is then opened with them.
  let claimed: number | undefined;
  let signatures: readonly NoteSignature[] = [];
  try {
    const parsed = parseNote(note);
    signatures = parsed.signatures;
    claimed = parseCheckpoint(parsed.text).size;
  } catch {
    claimed = undefined;
  }
  const verifiers = windows
    .filter((w) => claimed === undefined || (w.from <= claimed && claimed <= w.until))
    .map((w) => w.verifier);
  if (verifiers.length === 0)
    return {
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
      message: `checkpoint: no pinned log key is valid at tree size ${claimed}`,
    };
  try {
    const c = openCheckpoint(note, { verifiers, origin: log.origin });
    return {
      ok: true,
      checkpoint: {
        note,
        size: c.size,
        rootHash: c.rootHash,
        root: toHex(c.rootHash),
        otherSignatures: c.otherSignatures,
      },
    };
  } catch (e) {
    const { check, message } = checkpointError(e);
    const name = verifiers[0]!.name;
    const pinned = new Set(windows.map((w) => w.verifier.keyId));
    const others = signatures.filter((s) => s.name === name && !pinned.has(s.keyId));
    const hint =
      check === 'CHECKPOINT_SIGNATURE' && others.length > 0
        ? `; it is signed by another key named ${name} (key id ${others.map((s) => hex8(s.keyId)).join(', ')}): if the log key was rotated, pin the new key with its window (logKeys, --log-keys)`
        : '';
    return { ok: false, check: check as 'CHECKPOINT_SIGNATURE', message: message + hint };
  }
}

/** A tree: its size and root (hex or bytes). */
export interface TreeHead {
  size: number;
  rootHash: Uint8Array | string;
}

export type ConsistencyVerdict =
  | { ok: true }
  | {
      ok: false;
      /** SAME_SIZE_OTHER_ROOT is conclusive on its own (two signed roots for one size). */
      reason: 'SAME_SIZE_OTHER_ROOT' | 'PROOF_INVALID' | 'PROOF_UNAVAILABLE';
      message: string;
    };

const bytes = (h: Uint8Array | string) => (typeof h === 'string' ? fromHex(h) : h);
const hex = (h: Uint8Array | string) => (typeof h === 'string' ? h : toHex(h));

/**
 * Whether `newer` extends `older` (older.size <= newer.size), given the consistency proof
 * between them (RFC 9162; undefined when none could be obtained). Equal sizes need equal
 * roots; the empty tree is a prefix of every tree.
 */
export function judgeConsistency(
  older: TreeHead,
  newer: TreeHead,
  proof: readonly Uint8Array[] | undefined,
): ConsistencyVerdict {
  if (older.size > newer.size) throw new RangeError('judgeConsistency: older is larger than newer');
  if (older.size === newer.size) {
    return hex(older.rootHash) === hex(newer.rootHash)
      ? { ok: true }
      : {
          ok: false,
          reason: 'SAME_SIZE_OTHER_ROOT',
          message: `two roots for tree size ${older.size}: ${hex(older.rootHash)} and ${hex(newer.rootHash)}`,
        };
  }
  if (older.size === 0) {
    return hex(older.rootHash) === toHex(emptyRoot())
      ? { ok: true }
      : {
          ok: false,
          reason: 'PROOF_INVALID',
          message: 'a tree of size 0 with a root other than the empty root',
        };
  }
  if (proof === undefined) {
    return {
      ok: false,
      reason: 'PROOF_UNAVAILABLE',
      message: `no consistency proof from size ${older.size} to ${newer.size} could be obtained`,
    };
  }
  try {
    verifyConsistency(older.size, newer.size, proof, bytes(older.rootHash), bytes(newer.rootHash));
    return { ok: true };
  } catch (e) {
    if (!isMerkleError(e)) throw e;
    return {
      ok: false,
      reason: 'PROOF_INVALID',
      message: `the consistency proof from size ${older.size} to ${newer.size} does not verify (${e.code})`,
    };
  }
}
