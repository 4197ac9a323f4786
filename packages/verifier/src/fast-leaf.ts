// The fast leaf decoder. The reference decoder (decodeLeaf + validateEvent) parses the
// whole leaf with the strict canonical-JSON parser, re-serializes it generically to prove
// it canonical, validates the event with zod and re-serializes the event to hash it. For a
// well-formed leaf all of that is answered more cheaply:
//
//   {"admitted":"<24>","event":<event text>,"index":<digits>,"signature":"<88>","v":1}
//
// the fixed ASCII frame is matched byte by byte from both ends, the event text alone is
// decoded (strict UTF-8) and read with JSON.parse, accepted by the schema-compiled acceptor
// (fast-validate.ts) and the cross-field rules, and re-serialized by the schema-compiled
// serializer (canonicalEventText). If that text equals the event text in the leaf, the
// event (and so the whole leaf, whose frame is the canonical encoding of its members) is
// canonical, the strict parser would read the same value, and the event's bytes are a
// slice of the leaf: the event hash is taken over that slice, with no re-encoding.
//
// Contract: a leaf this decoder accepts is accepted by the reference decoder with the same
// index, admitted time, signature, event and event canonical text (hence the same event
// hash). Anything else (including leaves the reference decoder would accept, such as ones
// whose strings need surrogate-aware counting) returns undefined, and the caller runs the
// reference decoder, which gives the verdict and the error. fast-leaf.test.ts checks both
// directions on mutated leaves.
import {
  canonicalEventText,
  compileAcceptor,
  crossFieldIssues,
  event as eventSchema,
  LIMITS,
  type Event,
} from '@civic-ledger/schemas';

const acceptor = compileAcceptor(eventSchema);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The leaf's frame, as the encoder writes it (packages/leaf).
const HEAD = Buffer.from('{"admitted":"', 'latin1');
const AFTER_ADMITTED = Buffer.from('","event":', 'latin1');
const BEFORE_INDEX = Buffer.from(',"index":', 'latin1');
const BEFORE_SIGNATURE = Buffer.from(',"signature":"', 'latin1');
const TAIL = Buffer.from('","v":1}', 'latin1');
const ADMITTED_LEN = 24;
const SIGNATURE_LEN = 88;
/** Where the event text starts: {"admitted":"<24>","event": */
export const EVENT_START = HEAD.length + ADMITTED_LEN + AFTER_ADMITTED.length;

// The leaf package's patterns, checked on the bytes (a byte >= 0x80 is never accepted, so
// these are the patterns applied to the text):
//   admitted  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
//   signature /^[A-Za-z0-9+/]{86}==$/
const ADMITTED_FORM = '0000-00-00T00:00:00.000Z';
const BASE64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64[c.charCodeAt(0)] = 1;

function admittedOk(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < ADMITTED_LEN; i++) {
    const c = b[at + i]!;
    const f = ADMITTED_FORM.charCodeAt(i);
    if (f === 0x30 ? c < 0x30 || c > 0x39 : c !== f) return false;
  }
  return true;
}

function signatureOk(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < SIGNATURE_LEN - 2; i++) if (BASE64[b[at + i]!] !== 1) return false;
  return b[at + SIGNATURE_LEN - 2] === 0x3d && b[at + SIGNATURE_LEN - 1] === 0x3d;
}

export interface FastLeaf {
  index: number;
  event: Event;
  /** The event's canonical text (exactly its bytes in the leaf). */
  eventCanonical: string;
  /** Byte range of the event in the leaf bytes: [eventStart, eventEnd). */
  eventStart: number;
  eventEnd: number;
  /** Where the 88 base64 characters of the signature start in the bytes. */
  signatureStart: number;
}

function matches(bytes: Uint8Array, at: number, what: Uint8Array): boolean {
  if (at < 0 || at + what.length > bytes.length) return false;
  for (let i = 0; i < what.length; i++) if (bytes[at + i] !== what[i]) return false;
  return true;
}

/**
 * Decodes the leaf in `bytes[start, end)` if it is canonical and its event valid, exactly
 * as the reference decoder would; undefined means "ask the reference decoder".
 */
export function fastDecodeLeaf(bytes: Uint8Array, start = 0, end = bytes.length): FastLeaf | undefined {
  const leaf = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  const n = leaf.length;
  const tailAt = n - TAIL.length;
  const sigAt = tailAt - SIGNATURE_LEN;
  const beforeSigAt = sigAt - BEFORE_SIGNATURE.length;
  if (
    beforeSigAt <= EVENT_START ||
    !matches(leaf, 0, HEAD) ||
    !matches(leaf, HEAD.length + ADMITTED_LEN, AFTER_ADMITTED) ||
    !matches(leaf, tailAt, TAIL) ||
    !matches(leaf, beforeSigAt, BEFORE_SIGNATURE) ||
    !admittedOk(leaf, HEAD.length) ||
    !signatureOk(leaf, sigAt)
  )
    return undefined;
  // The index: 1-16 digits between ,"index": and ,"signature":", no leading zero, a safe
  // integer (exactly the numbers whose String() they are). Below 2^53 every partial sum is
  // exact; from 2^53 on, rounding cannot bring the sum back below it.
  let d = beforeSigAt;
  let index = 0;
  let scale = 1;
  while (d > beforeSigAt - 16 && leaf[d - 1]! >= 0x30 && leaf[d - 1]! <= 0x39) {
    d--;
    index += (leaf[d]! - 0x30) * scale;
    scale *= 10;
  }
  const indexAt = d - BEFORE_INDEX.length;
  if (d === beforeSigAt || indexAt <= EVENT_START || !matches(leaf, indexAt, BEFORE_INDEX)) return undefined;
  if ((leaf[d] === 0x30 && beforeSigAt - d > 1) || !Number.isSafeInteger(index)) return undefined;

  const eventEnd = indexAt;
  if (eventEnd - EVENT_START > LIMITS.maxEventBytes) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(leaf.subarray(EVENT_START, eventEnd));
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!acceptor.accepts(value)) return undefined;
  const e = value as Event;
  if (crossFieldIssues(e).length > 0) return undefined;
  // An extension's own size limit is the reference path's to check (ext is rare).
  if (e.ext !== undefined) return undefined;
  let canonical: string;
  try {
    canonical = canonicalEventText(e);
  } catch {
    return undefined;
  }
  if (canonical !== text) return undefined;
  return {
    index,
    event: e,
    eventCanonical: text,
    eventStart: start + EVENT_START,
    eventEnd: start + eventEnd,
    signatureStart: start + sigAt,
  };
}
