// Signed notes (c2sp.org/signed-note, Go's golang.org/x/mod/sumdb/note):
//
//   <text, ending in a newline>
//   <blank line>
//   — <key name> <base64(4-byte big-endian key id || signature)>
//   ...
//
// The signed message is the UTF-8 text, final newline included, blank line excluded. The
// text is separated from the signatures by the last blank line of the note.
import { SignedNoteError } from './errors.ts';
import {
  decodeBase64,
  decodeUtf8,
  encodeBase64,
  indexOfControl,
  isUint32,
  isValidKeyName,
  keyIdHex,
  keyIdOfBytes,
  utf8,
} from './encoding.ts';
import type { NoteSigner, NoteVerifier } from './keys.ts';

/** Default byte limit of a note (1 MiB). */
export const DEFAULT_MAX_NOTE_BYTES = 1 << 20;
/** Default limit on signature lines in a note (Go's note package also stops at 100). */
export const DEFAULT_MAX_SIGNATURES = 100;

/** The start of every signature line: em dash U+2014 and a space. */
export const SIGNATURE_PREFIX = '\u2014 ';

/** One signature line of a note, verified or not. */
export interface NoteSignature {
  /** Key name. */
  readonly name: string;
  /** Key id (unsigned 32-bit), the first 4 bytes of the decoded base64. */
  readonly keyId: number;
  /** The base64 exactly as in the line: key id followed by the signature bytes. */
  readonly base64: string;
}

/** A note's text and its signature lines, in order, as found (nothing verified). */
export interface Note {
  /** The signed text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** The result of openNote. */
export interface OpenedNote {
  /** The signed text, final newline included. */
  readonly text: string;
  /** Signatures by trusted keys that verified, in note order, one per key. */
  readonly verifiedSignatures: readonly NoteSignature[];
  /** Signature lines of keys not in the trusted set (e.g. witness cosignatures), in note
   * order, identical lines once; kept opaque so they can be passed on. */
  readonly otherSignatures: readonly NoteSignature[];
}

/** Size limits applied when reading and writing notes. */
export interface NoteLimits {
  /** Largest note accepted or produced, in UTF-8 bytes (default DEFAULT_MAX_NOTE_BYTES). */
  readonly maxBytes?: number;
  /** Most signature lines accepted or produced (default DEFAULT_MAX_SIGNATURES). */
  readonly maxSignatures?: number;
}

/** Options of signNote. */
export interface SignNoteOptions extends NoteLimits {
  /** Signatures already on the note (e.g. from openNote), written before the new ones;
   * one with the same key name and key id as a signer is replaced by the new signature. */
  readonly existing?: readonly NoteSignature[];
}

interface Limits {
  maxBytes: number;
  maxSignatures: number;
}

function limitsOf(limits: NoteLimits | undefined): Limits {
  const maxBytes = limits?.maxBytes ?? DEFAULT_MAX_NOTE_BYTES;
  const maxSignatures = limits?.maxSignatures ?? DEFAULT_MAX_SIGNATURES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new RangeError('maxBytes must be a positive integer');
  if (!Number.isSafeInteger(maxSignatures) || maxSignatures < 1) {
    throw new RangeError('maxSignatures must be a positive integer');
  }
  return { maxBytes, maxSignatures };
}

interface ParsedSignature {
  readonly sig: NoteSignature;
  /** The signature bytes after the key id. */
  readonly bytes: Uint8Array;
  /** The line without its newline. */
  readonly line: string;
}

/** The signature line of `sig`, without its newline. Does not validate. */
export function formatSignatureLine(sig: NoteSignature): string {
  return `${SIGNATURE_PREFIX}${sig.name} ${sig.base64}`;
}

function describeControl(text: string, at: number): string {
  const c = text.charCodeAt(at);
  return c === 0x0d ? 'carriage return' : `control character U+${c.toString(16).padStart(4, '0')}`;
}

// The text rules shared by parsing and signing: well-formed, no control character but
// newline, final newline.
function checkText(text: string, what: string): void {
  if (typeof text !== 'string') throw new SignedNoteError('MALFORMED_NOTE', `${what} must be a string`);
  if (!text.isWellFormed()) throw new SignedNoteError('MALFORMED_NOTE', `${what} is not well-formed Unicode`);
  const ctl = indexOfControl(text);
  if (ctl >= 0)
    throw new SignedNoteError('MALFORMED_NOTE', `${what} has a ${describeControl(text, ctl)} at ${ctl}`);
  if (!text.endsWith('\n')) throw new SignedNoteError('MALFORMED_NOTE', `${what} does not end in a newline`);
}

function parseSignatureLine(line: string, index: number): ParsedSignature {
  const where = `signature line ${index + 1}`;
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where} does not start with "— "`);
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const base64 = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(name))
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where} has an invalid key name`);
  if (base64 === '') throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where} has no signature`);
  let raw: Uint8Array;
  try {
    raw = decodeBase64(base64);
  } catch (cause) {
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where}: signature is not exact base64`, {
      cause,
    });
  }
  if (raw.length < 5) throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where}: signature too short`);
  const keyId = keyIdOfBytes(raw);
  return { sig: { name, keyId, base64 }, bytes: raw.subarray(4), line };
}

function parse(input: string | Uint8Array, limits: Limits): { text: string; sigs: ParsedSignature[] } {
  let msg: string;
  if (typeof input === 'string') {
    // Each UTF-16 code unit is at least one UTF-8 byte: a cheap bound before the exact count.
    if (input.length > limits.maxBytes || Buffer.byteLength(input, 'utf8') > limits.maxBytes) {
      throw new SignedNoteError('TOO_LARGE', `note is larger than ${limits.maxBytes} bytes`);
    }
    if (!input.isWellFormed()) throw new SignedNoteError('MALFORMED_NOTE', 'note is not well-formed Unicode');
    msg = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > limits.maxBytes) {
      throw new SignedNoteError('TOO_LARGE', `note is larger than ${limits.maxBytes} bytes`);
    }
    const decoded = decodeUtf8(input);
    if (decoded === undefined) throw new SignedNoteError('MALFORMED_NOTE', 'note is not valid UTF-8');
    msg = decoded;
  } else {
    throw new SignedNoteError('MALFORMED_NOTE', 'note must be a string or a Uint8Array');
  }
  const ctl = indexOfControl(msg);
  if (ctl >= 0)
    throw new SignedNoteError('MALFORMED_NOTE', `note has a ${describeControl(msg, ctl)} at ${ctl}`);

  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new SignedNoteError('MALFORMED_NOTE', 'no blank line before the signatures');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block === '') throw new SignedNoteError('MALFORMED_NOTE', 'no signature lines');
  if (!block.endsWith('\n')) throw new SignedNoteError('MALFORMED_NOTE', 'note does not end in a newline');
  // The block holds no empty line: it follows the last "\n\n" and ends in "\n".
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > limits.maxSignatures) {
    throw new SignedNoteError('TOO_MANY_SIGNATURES', `more than ${limits.maxSignatures} signature lines`);
  }
  return { text, sigs: lines.map(parseSignatureLine) };
}

/**
 * Parses a signed note without verifying anything: its text and every signature line, in
 * order, duplicates included. Never trust the text of the result: use openNote.
 * Throws TOO_LARGE, MALFORMED_NOTE, TOO_MANY_SIGNATURES, MALFORMED_SIGNATURE_LINE.
 */
export function parseNote(note: string | Uint8Array, limits?: NoteLimits): Note {
  const { text, sigs } = parse(note, limitsOf(limits));
  return { text, signatures: sigs.map((s) => s.sig) };
}

function mapKey(name: string, keyId: number): string {
  // keyId is digits only, so the first ':' ends it and any name is unambiguous.
  return `${keyId}:${name}`;
}

/**
 * Parses a signed note and verifies it against the trusted `verifiers`, as Go's note.Open:
 * - lines whose (key name, key id) match no trusted verifier are kept in otherSignatures
 *   (identical lines once), never verified;
 * - the first line of each trusted key is verified and must verify (SIGNATURE_INVALID
 *   otherwise); later lines of the same key are dropped;
 * - a line matching two trusted verifiers throws AMBIGUOUS_KEY;
 * - at least one trusted signature must verify (NO_VERIFIED_SIGNATURE otherwise).
 * Also throws whatever parseNote throws, and INVALID_KEY for a verifier whose keyId is not
 * a uint32.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  limits?: NoteLimits,
): OpenedNote {
  const { text, sigs } = parse(note, limitsOf(limits));
  const known = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    if (typeof v.name !== 'string' || !isUint32(v.keyId)) {
      throw new SignedNoteError('INVALID_KEY', 'a verifier needs a string name and a uint32 keyId');
    }
    const k = mapKey(v.name, v.keyId);
    const list = known.get(k);
    if (list) list.push(v);
    else known.set(k, [v]);
  }

  const message = utf8(text);
  const verifiedSignatures: NoteSignature[] = [];
  const otherSignatures: NoteSignature[] = [];
  const seenKnown = new Set<string>();
  const seenOther = new Set<string>();
  for (const { sig, bytes, line } of sigs) {
    const k = mapKey(sig.name, sig.keyId);
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    const candidates = known.get(k);
    if (candidates === undefined) {
      if (!seenOther.has(line)) {
        seenOther.add(line);
        otherSignatures.push(sig);
      }
      continue;
    }
    const [verifier, ...more] = candidates;
    if (verifier === undefined || more.length > 0) {
      throw new SignedNoteError('AMBIGUOUS_KEY', `ambiguous key ${id}`);
    }
    if (seenKnown.has(k)) continue;
    seenKnown.add(k);
    let ok: boolean;
    try {
      ok = verifier.verify(message, bytes) === true;
    } catch (cause) {
      throw new SignedNoteError('SIGNATURE_INVALID', `verifier for key ${id} failed`, { cause });
    }
    if (!ok) throw new SignedNoteError('SIGNATURE_INVALID', `invalid signature for key ${id}`);
    verifiedSignatures.push(sig);
  }
  if (verifiedSignatures.length === 0) {
    throw new SignedNoteError('NO_VERIFIED_SIGNATURE', 'note has no verifiable signatures');
  }
  return { text, verifiedSignatures, otherSignatures };
}

function checkSignature(sig: NoteSignature, index: number): void {
  const where = `signature ${index + 1}`;
  if (typeof sig.name !== 'string' || !isValidKeyName(sig.name)) {
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where} has an invalid key name`);
  }
  if (!isUint32(sig.keyId))
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where} has an invalid key id`);
  let raw: Uint8Array;
  try {
    raw = decodeBase64(sig.base64);
  } catch (cause) {
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where}: signature is not exact base64`, {
      cause,
    });
  }
  if (raw.length < 5) throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where}: signature too short`);
  const keyId = keyIdOfBytes(raw);
  if (keyId !== sig.keyId) {
    throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `${where}: key id does not match its base64`);
  }
}

/**
 * The signed-note text of `note`: text, blank line, one line per signature, in order.
 * Validates everything parseNote would (so the output parses back to `note`) and throws
 * MALFORMED_NOTE (bad text, no signature), MALFORMED_SIGNATURE_LINE, TOO_MANY_SIGNATURES,
 * TOO_LARGE.
 */
export function formatNote(note: Note, limits?: NoteLimits): string {
  const l = limitsOf(limits);
  checkText(note.text, 'note text');
  if (note.signatures.length === 0) throw new SignedNoteError('MALFORMED_NOTE', 'a note needs a signature');
  if (note.signatures.length > l.maxSignatures) {
    throw new SignedNoteError('TOO_MANY_SIGNATURES', `more than ${l.maxSignatures} signatures`);
  }
  note.signatures.forEach(checkSignature);
  let out = `${note.text}\n`;
  for (const sig of note.signatures) out += `${formatSignatureLine(sig)}\n`;
  if (Buffer.byteLength(out, 'utf8') > l.maxBytes) {
    throw new SignedNoteError('TOO_LARGE', `note is larger than ${l.maxBytes} bytes`);
  }
  return out;
}

/**
 * Signs `text` with each signer and returns the signed note, as Go's note.Sign: existing
 * signatures first (minus those replaced by a signer with the same key name and key id),
 * then one new line per signer, in order. Throws MALFORMED_NOTE (text not ending in a
 * newline, control characters), INVALID_KEY_NAME / INVALID_KEY (a signer's name or keyId),
 * SIGNING_FAILED (a signer threw or returned no bytes, with `cause`), and formatNote's errors.
 */
export function signNote(text: string, signers: readonly NoteSigner[], options?: SignNoteOptions): string {
  checkText(text, 'note text');
  const existing = options?.existing ?? [];
  existing.forEach((sig, i) => {
    if (typeof sig.name !== 'string' || !isValidKeyName(sig.name)) {
      throw new SignedNoteError('MALFORMED_SIGNATURE_LINE', `signature ${i + 1} has an invalid key name`);
    }
  });
  const message = utf8(text);
  const replaced = new Set<string>();
  const added: NoteSignature[] = [];
  for (const signer of signers) {
    const { name, keyId } = signer;
    if (typeof name !== 'string' || !isValidKeyName(name)) {
      throw new SignedNoteError('INVALID_KEY_NAME', `invalid signer name ${JSON.stringify(name)}`);
    }
    if (!isUint32(keyId)) throw new SignedNoteError('INVALID_KEY', `signer ${name} has an invalid key id`);
    replaced.add(mapKey(name, keyId));
    let sig: unknown;
    try {
      sig = signer.sign(message);
    } catch (cause) {
      throw new SignedNoteError('SIGNING_FAILED', `signer ${name} failed`, { cause });
    }
    if (!(sig instanceof Uint8Array) || sig.length === 0) {
      throw new SignedNoteError('SIGNING_FAILED', `signer ${name} returned no signature`);
    }
    const raw = new Uint8Array(4 + sig.length);
    new DataView(raw.buffer).setUint32(0, keyId);
    raw.set(sig, 4);
    added.push({ name, keyId, base64: encodeBase64(raw) });
  }
  const kept = existing.filter((sig) => !replaced.has(mapKey(sig.name, sig.keyId)));
  return formatNote({ text, signatures: [...kept, ...added] }, options);
}
