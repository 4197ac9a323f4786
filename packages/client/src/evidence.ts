// Offline checks against the pinned log key (or the pinned keys of a rotated log, each valid
// for a window of tree sizes): a checkpoint, and inclusion evidence (leaf, checkpoint, proof).
// Nothing here trusts the ledger's answers; every value is recomputed.
import { fromBase64, fromHex, toHex } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { hashLeaf, MerkleError, verifyInclusion } from '@civic-ledger/merkle';
import { verifierFromKeyText, type NoteVerifier, type VerifiedCheckpoint } from '@civic-ledger/signed-note';
import type { Policy } from '@civic-ledger/witness';
import { ClientError } from './errors.ts';
import { LogKeyRing, openOrRefuse, type LogKeyWindow } from './log-keys.ts';
import { inclusionEvidenceSchema, type InclusionEvidence } from './schemas.ts';
import { requirePolicyQuorum } from './witnesses.ts';

/**
 * The log a client trusts: its verifier key (C2SP text, pinned out of band), or for a rotated
 * log its keys with validity windows (exactly one of the two), and its origin.
 */
export type LogTrust = { origin: string } & (
  { logKey: string; logKeys?: undefined } | { logKeys: readonly LogKeyWindow[]; logKey?: undefined }
);

/** A note verifier of the pinned key text; INVALID_ARGUMENT when the text is not a key. */
export function pinnedVerifier(logKey: string): NoteVerifier {
  try {
    return verifierFromKeyText(logKey.trim());
  } catch (cause) {
    throw new ClientError('INVALID_ARGUMENT', 'logKey: a C2SP verifier key text <name>+<key id>+<base64>', {
      cause,
    });
  }
}

/**
 * Opens a checkpoint note with the pinned key only (or, given a LogKeyRing, with the pinned keys
 * valid at its size); CHECKPOINT_UNVERIFIED otherwise.
 */
export function openPinnedCheckpoint(
  note: string,
  verifier: NoteVerifier | LogKeyRing,
  origin: string,
): VerifiedCheckpoint {
  if (verifier instanceof LogKeyRing) return verifier.open(note, origin);
  return openOrRefuse(note, [verifier], origin);
}

const proofInvalid = (message: string, cause?: unknown) =>
  new ClientError('PROOF_INVALID', message, cause === undefined ? {} : { cause });

/**
 * Checks inclusion evidence offline: the checkpoint is signed by the pinned key (with
 * `logKeys`: a key valid at its size) for the origin (and, given a witness policy, carries its quorum of cosignatures), the leaf holds
 * the event (its hash recomputed), the leaf hash is recomputed, and the proof leads from it
 * to the checkpoint's root. Returns the verified checkpoint; throws CHECKPOINT_UNVERIFIED,
 * QUORUM_NOT_MET or PROOF_INVALID.
 */
export function verifyEvidence(
  evidence: InclusionEvidence,
  trust: (LogTrust | { verifier: NoteVerifier | LogKeyRing; origin: string }) & {
    policy?: Policy | undefined;
  },
): VerifiedCheckpoint {
  const parsed = inclusionEvidenceSchema.safeParse(evidence);
  if (!parsed.success) throw proofInvalid(`evidence is malformed: ${parsed.error.issues[0]?.message}`);
  const e = parsed.data;
  const verifier =
    'verifier' in trust
      ? trust.verifier
      : trust.logKeys !== undefined
        ? LogKeyRing.of({ logKeys: trust.logKeys })
        : pinnedVerifier(trust.logKey);
  const cp = openPinnedCheckpoint(e.checkpoint, verifier, trust.origin);
  if (trust.policy !== undefined) requirePolicyQuorum(e.checkpoint, trust.policy);
  let leaf;
  try {
    leaf = decodeLeaf(e.leaf);
  } catch (cause) {
    throw proofInvalid('the leaf is not a well-formed log leaf', cause);
  }
  if (leaf.eventHash !== e.eventHash) throw proofInvalid('the leaf holds another event');
  if (leaf.index !== e.index) throw proofInvalid(`the leaf is at index ${leaf.index}, not ${e.index}`);
  const leafHash = hashLeaf(new TextEncoder().encode(e.leaf));
  if (toHex(leafHash) !== e.leafHash) throw proofInvalid('the leaf hash is not the hash of the leaf');
  if (e.index >= cp.size) {
    throw new ClientError('NOT_COVERED', `checkpoint of size ${cp.size} does not cover index ${e.index}`, {
      details: { index: e.index, size: cp.size },
    });
  }
  try {
    verifyInclusion(fromHex(e.leafHash), e.index, cp.size, e.proof.map(fromBase64), cp.rootHash);
  } catch (cause) {
    if (cause instanceof MerkleError) {
      throw proofInvalid(`inclusion proof does not verify: ${cause.message}`, cause);
    }
    throw cause;
  }
  return cp;
}
