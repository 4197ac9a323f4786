// A leaf of the global log: the RFC 8785 canonical JSON of
//   { "admitted": <RFC 3339 UTC, ms>, "event": <the event>, "index": <ledger index>,
//     "signature": <base64 Ed25519 event signature>, "v": 1 }
// JCS is compositional (the canonical form of a member is the canonical form of that
// value alone), so the event's canonical text appears verbatim inside the leaf, and the
// leaf can be written by concatenation in member order without re-serializing the event.
// A verifier needs only these bytes, the checkpoints and the public keys.
import { CanonicalJsonError, canonicalize, parseCanonical } from '@civic-ledger/canonical-json';
import { isSignatureBase64, sha256HexOfUtf8 } from '@civic-ledger/crypto';

export const LEAF_VERSION = 1;

export interface LeafFields {
  index: number;
  /** Admission time, RFC 3339 UTC with milliseconds (as `new Date().toISOString()`). */
  admitted: string;
  /** The event's canonical text (RFC 8785). */
  eventCanonical: string;
  /** Base64 of the 64-byte event signature. */
  signature: string;
}

export interface DecodedLeaf extends LeafFields {
  event: Record<string, unknown>;
  /** Hex SHA-256 of eventCanonical. */
  eventHash: string;
}

export type LeafErrorCode = 'LEAF_NOT_CANONICAL' | 'LEAF_MALFORMED';

export class LeafError extends Error {
  override readonly name = 'LeafError';
  readonly code: LeafErrorCode;
  constructor(code: LeafErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const ADMITTED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function checkFields(f: LeafFields): void {
  if (!Number.isSafeInteger(f.index) || f.index < 0)
    throw new LeafError('LEAF_MALFORMED', 'index must be >= 0');
  if (!ADMITTED.test(f.admitted))
    throw new LeafError('LEAF_MALFORMED', 'admitted must be RFC 3339 UTC with ms');
  if (!isSignatureBase64(f.signature))
    throw new LeafError('LEAF_MALFORMED', 'signature must be base64 of 64 bytes');
}

// Members in code-unit order: admitted < event < index < signature < v.
const beforeEvent = (f: LeafFields) => `{"admitted":"${f.admitted}","event":`;
const afterEvent = (f: LeafFields) => `,"index":${f.index},"signature":"${f.signature}","v":${LEAF_VERSION}}`;

/** The leaf text. `eventCanonical` must already be canonical (it is what was hashed and signed). */
export function encodeLeafText(f: LeafFields): string {
  checkFields(f);
  return `${beforeEvent(f)}${f.eventCanonical}${afterEvent(f)}`;
}

/**
 * encodeLeaf's bytes after `prefix` zero bytes (room for a leaf hash's 0x00), written part
 * by part into one buffer: the event text is copied once instead of being joined into a
 * leaf string that must be flattened, measured and encoded (~2 µs less per demo event).
 * `eventBytes` is the UTF-8 length of eventCanonical; a wrong one is refused. `alloc(n)`
 * returns the n-byte buffer to write into (default Buffer.allocUnsafe).
 */
export function encodeLeafAfter(
  f: LeafFields,
  eventBytes: number,
  prefix: number,
  alloc: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  checkFields(f);
  // Both are ASCII: the admitted time and the signature are checked above.
  const before = beforeEvent(f);
  const after = afterEvent(f);
  const out = alloc(prefix + before.length + eventBytes + after.length);
  out.fill(0, 0, prefix);
  let at = prefix + out.write(before, prefix, 'latin1');
  const written = out.write(f.eventCanonical, at, 'utf8');
  if (written !== eventBytes || at + written + after.length !== out.length)
    throw new LeafError('LEAF_MALFORMED', `the event text is not ${eventBytes} bytes of UTF-8`);
  at += written;
  out.write(after, at, 'latin1');
  return out;
}

const encoder = new TextEncoder();

export function encodeLeaf(f: LeafFields): Uint8Array {
  return encoder.encode(encodeLeafText(f));
}

/**
 * Parses leaf bytes strictly: they must be canonical JSON of exactly the leaf members.
 * Recomputes the event hash from the embedded event's canonical form.
 */
export function decodeLeaf(bytes: Uint8Array | string): DecodedLeaf {
  let value: unknown;
  let text: string;
  try {
    ({ value, text } = parseCanonical(bytes));
  } catch (cause) {
    if (cause instanceof CanonicalJsonError) {
      throw new LeafError('LEAF_NOT_CANONICAL', `leaf is not canonical JSON: ${cause.message}`, { cause });
    }
    throw cause;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LeafError('LEAF_MALFORMED', 'leaf must be an object');
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'admitted,event,index,signature,v')
    throw new LeafError('LEAF_MALFORMED', `unexpected leaf members: ${keys}`);
  if (o['v'] !== LEAF_VERSION)
    throw new LeafError('LEAF_MALFORMED', `unknown leaf version ${String(o['v'])}`);
  const { admitted, event, index, signature } = o;
  if (typeof admitted !== 'string' || !ADMITTED.test(admitted))
    throw new LeafError('LEAF_MALFORMED', 'bad admitted');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    throw new LeafError('LEAF_MALFORMED', 'bad index');
  if (typeof signature !== 'string' || !isSignatureBase64(signature))
    throw new LeafError('LEAF_MALFORMED', 'bad signature');
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new LeafError('LEAF_MALFORMED', 'bad event');
  const eventCanonical = canonicalize(event);
  if (encodeLeafText({ index, admitted, eventCanonical, signature }) !== text) {
    throw new LeafError('LEAF_MALFORMED', 'leaf does not re-encode to the same bytes');
  }
  return {
    index,
    admitted,
    eventCanonical,
    signature,
    event: event as Record<string, unknown>,
    eventHash: sha256HexOfUtf8(eventCanonical),
  };
}
