// An event's identity is SHA-256 over its RFC 8785 canonical JSON; an emitter's signature
// is Ed25519 over a domain-separated message (context string || event hash), so it can
// never be replayed as any other kind of signature.
import { parseJson, CanonicalJsonError } from '@civic-ledger/canonical-json';
import {
  fromHex,
  sha256HexOfUtf8,
  signDigest,
  verifyDigest,
  type SigningKey,
  type VerifierKey,
} from '@civic-ledger/crypto';
import {
  SchemaError,
  validateEvent,
  type Event,
  type EventInput,
  type ValidateOptions,
} from '@civic-ledger/schemas';
import { z } from 'zod';

/** A signed event as it travels: the event and base64 of the 64-byte Ed25519 signature. */
export const signedEventWire = z.strictObject({
  event: z.record(z.string(), z.unknown()),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'signature: base64 of a 64-byte Ed25519 signature'),
});
export type SignedEventWire = z.infer<typeof signedEventWire>;

/** A submission that passed parsing and schema checks (not yet key, signature or chain checks). */
export interface DecodedEvent {
  event: Event;
  /** RFC 8785 text of the event: exactly what the hash covers. */
  canonical: string;
  /** Lower-case hex SHA-256 of `canonical`. */
  hash: string;
  signature: Uint8Array;
  /**
   * The signature's base64 text, when the decoder kept the submitted text (canonical
   * base64 of the 64 bytes, the form leaves store); otherwise computed from `signature`.
   */
  signatureText?: string;
  /** Canonical size in bytes. */
  size: number;
}

/** Lower-case hex event hash of canonical event text. */
export function eventHashOfCanonical(canonical: string): string {
  return sha256HexOfUtf8(canonical);
}

/** Validates and hashes an event (throws SchemaError). */
export function hashEvent(
  event: EventInput,
  options?: ValidateOptions,
): { event: Event; canonical: string; hash: string } {
  const v = validateEvent(event, options);
  return { event: v.event, canonical: v.canonical, hash: eventHashOfCanonical(v.canonical) };
}

/** Validates, hashes and signs an event with `key` (which must be the event's `key`). */
export function signEvent(event: EventInput, key: SigningKey): DecodedEvent & { wire: SignedEventWire } {
  const v = validateEvent(event);
  if (v.event.key !== key.name) {
    throw new SchemaError('SCHEMA_INVALID', `event names key ${v.event.key} but is signed with ${key.name}`, [
      { path: '/key', rule: 'the event names the key that signs it', code: 'custom' },
    ]);
  }
  const hash = eventHashOfCanonical(v.canonical);
  const signature = signDigest(key, 'event', fromHex(hash));
  return {
    event: v.event,
    canonical: v.canonical,
    hash,
    signature,
    size: v.size,
    wire: { event: event as Record<string, unknown>, signature: Buffer.from(signature).toString('base64') },
  };
}

/** True when `signature` is `key`'s event signature over `hash`. Never throws on bad input. */
export function verifyEventSignature(hash: string, signature: Uint8Array, key: VerifierKey): boolean {
  if (!/^[0-9a-f]{64}$/.test(hash)) return false;
  return verifyDigest(key, 'event', fromHex(hash), signature);
}

function wireIssues(error: z.ZodError) {
  return error.issues.map((i) => ({
    path: i.path.length ? `/${i.path.map(String).join('/')}` : '/',
    rule: i.message,
    code: i.code,
  }));
}

/**
 * Decodes one submission: strict JSON (bytes or text) or an already-parsed value ->
 * wire shape -> event schema -> canonical form and hash. Throws SchemaError with a
 * stable code naming the field; checks no key and no signature (the ledger does that
 * with the keys in force at the event's position).
 */
export function decodeSubmission(
  input: string | Uint8Array | unknown,
  options?: ValidateOptions,
): DecodedEvent {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = parseJson(input);
    } catch (cause) {
      if (!(cause instanceof CanonicalJsonError)) throw cause;
      throw new SchemaError('INVALID_JSON', `submission is not acceptable JSON: ${cause.message}`, [
        { path: '/', rule: cause.message, code: cause.code },
      ]);
    }
  }
  const wire = signedEventWire.safeParse(value);
  if (!wire.success) {
    const issues = wireIssues(wire.error);
    throw new SchemaError('SCHEMA_INVALID', `${issues[0]?.path}: ${issues[0]?.rule}`, issues);
  }
  let v;
  try {
    v = validateEvent(wire.data.event, options);
  } catch (e) {
    if (e instanceof SchemaError) {
      for (const issue of e.issues) issue.path = `/event${issue.path === '/' ? '' : issue.path}`;
    }
    throw e;
  }
  return {
    event: v.event,
    canonical: v.canonical,
    hash: eventHashOfCanonical(v.canonical),
    signature: new Uint8Array(Buffer.from(wire.data.signature, 'base64')),
    ...signatureTextOf(wire.data.signature),
    size: v.size,
  };
}

/** The last character before "==" of canonical base64 of 64 bytes: its low 4 bits are zero. */
const CANONICAL_LAST = new Set(['A', 'Q', 'g', 'w']);

/**
 * `{ signatureText }` for a wire signature (already checked: 86 base64 characters and "==")
 * that is exactly the base64 its bytes encode to, else nothing: a leaf stores that form.
 */
export function signatureTextOf(signature: string): { signatureText?: string } {
  return CANONICAL_LAST.has(signature[85]!) ? { signatureText: signature } : {};
}
