// tlog-checkpoint bodies (c2sp.org/tlog-checkpoint): the signed-note text
//
//   <origin>
//   <tree size, decimal, no leading zeros>
//   <base64 of the 32-byte RFC 6962 root hash>
//   [<extension line>...]
//
// every line non-empty and ending in a newline.
import { SignedNoteError } from './errors.ts';
import { decodeBase64, encodeBase64, indexOfControl } from './encoding.ts';
import type { NoteSigner, NoteVerifier } from './keys.ts';
import { openNote, signNote } from './note.ts';
import type { NoteLimits, NoteSignature } from './note.ts';

/** Bytes of a root hash (SHA-256). */
export const ROOT_HASH_BYTES = 32;

/** A checkpoint body. */
export interface Checkpoint {
  /** The log's origin line: non-empty, no control characters. */
  readonly origin: string;
  /** Tree size: a non-negative safe integer (at most 2^53 - 1). */
  readonly size: number;
  /** 32-byte Merkle tree root hash. */
  readonly rootHash: Uint8Array;
  /** Opaque non-empty extension lines (NOT RECOMMENDED by the spec), without newlines. */
  readonly extensions: readonly string[];
}

/** A checkpoint whose note carried at least one valid trusted signature. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The checkpoint body exactly as signed. */
  readonly text: string;
  /** Trusted signatures that verified (see openNote). */
  readonly verifiedSignatures: readonly NoteSignature[];
  /** Other signature lines (unknown keys, e.g. witness cosignatures), kept opaque. */
  readonly otherSignatures: readonly NoteSignature[];
}

/** Options of openCheckpoint. */
export interface OpenCheckpointOptions extends NoteLimits {
  /** The trusted keys: at least one of them must have signed. */
  readonly verifiers: readonly NoteVerifier[];
  /** The origin the checkpoint must be for. */
  readonly origin: string;
}

const SIZE = /^(?:0|[1-9][0-9]{0,15})$/;

function malformed(message: string, cause?: unknown): SignedNoteError {
  return new SignedNoteError('MALFORMED_CHECKPOINT', message, cause === undefined ? undefined : { cause });
}

function checkLine(line: unknown, what: string): void {
  if (typeof line !== 'string' || line === '') throw malformed(`${what} must be a non-empty string`);
  if (!line.isWellFormed()) throw malformed(`${what} is not well-formed Unicode`);
  if (line.includes('\n') || indexOfControl(line) >= 0) throw malformed(`${what} has a control character`);
}

/**
 * The body of a checkpoint: origin, size, base64 root hash and extension lines, each ending
 * in a newline. Throws MALFORMED_CHECKPOINT for an empty origin or extension, a control
 * character, a size that is not a safe non-negative integer or a root hash not 32 bytes.
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  checkLine(origin, 'origin');
  if (!Number.isSafeInteger(size) || size < 0)
    throw malformed('tree size must be a safe non-negative integer');
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== ROOT_HASH_BYTES) {
    throw malformed(`root hash must be ${ROOT_HASH_BYTES} bytes`);
  }
  if (!Array.isArray(extensions)) throw malformed('extensions must be an array');
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  let out = `${origin}\n${size}\n${encodeBase64(rootHash)}\n`;
  for (const line of extensions) out += `${line}\n`;
  return out;
}

/**
 * Parses a checkpoint body (a note's text, final newline included). Strict: at least three
 * lines, no empty line, no control character, size in decimal without leading zeros ("0"
 * allowed) and at most 2^53 - 1, root hash exact padded standard base64 of 32 bytes.
 * Throws MALFORMED_CHECKPOINT (with the base64 error as `cause` where that failed).
 */
export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string') throw malformed('checkpoint must be a string');
  if (!body.isWellFormed()) throw malformed('checkpoint is not well-formed Unicode');
  if (indexOfControl(body) >= 0) throw malformed('checkpoint has a control character');
  if (!body.endsWith('\n')) throw malformed('checkpoint does not end in a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('checkpoint has fewer than three lines');
  if (lines.some((line) => line === '')) throw malformed('checkpoint has an empty line');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!SIZE.test(sizeText)) throw malformed('tree size is not a decimal number without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed('tree size is larger than 2^53 - 1');
  let rootHash: Uint8Array;
  try {
    rootHash = decodeBase64(rootText);
  } catch (cause) {
    throw malformed('root hash is not exact base64', cause);
  }
  if (rootHash.length !== ROOT_HASH_BYTES) throw malformed(`root hash is not ${ROOT_HASH_BYTES} bytes`);
  return { origin, size, rootHash, extensions };
}

/**
 * Signs a checkpoint: its body (formatCheckpoint) signed by each signer (signNote). The
 * log's key name SHOULD equal the origin (not enforced). Throws formatCheckpoint's and
 * signNote's errors.
 */
export function signCheckpoint(
  checkpoint: Checkpoint,
  signers: NoteSigner | readonly NoteSigner[],
  limits?: NoteLimits,
): string {
  const list: readonly NoteSigner[] = Array.isArray(signers) ? signers : [signers as NoteSigner];
  return signNote(formatCheckpoint(checkpoint), list, limits);
}

/**
 * Opens a signed checkpoint: verifies the note against `options.verifiers` (openNote: at
 * least one trusted signature, none failing), then parses the body and requires its origin
 * to equal `options.origin`. Throws openNote's errors, MALFORMED_CHECKPOINT, ORIGIN_MISMATCH.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  options: OpenCheckpointOptions,
): VerifiedCheckpoint {
  const opened = openNote(note, options.verifiers, options);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== options.origin) {
    throw new SignedNoteError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`,
    );
  }
  return {
    ...checkpoint,
    text: opened.text,
    verifiedSignatures: opened.verifiedSignatures,
    otherSignatures: opened.otherSignatures,
  };
}
