// A signed event in the exact bytes the SDK sends, stores in its outbox and resends:
// `{"event":<RFC 8785 canonical event>,"signature":"<base64>"}`. Sending the canonical text
// (rather than whatever JSON.stringify makes of the caller's object) makes the body a pure
// function of the event and its signature.
import { decodeSubmission, signEvent, type SignedEventWire } from '@civic-ledger/events';
import { SchemaError, type EventInput } from '@civic-ledger/schemas';
import type { SigningKey } from '@civic-ledger/crypto';
import { ClientError } from './errors.ts';

export interface PreparedEvent {
  /** Event hash: hex SHA-256 of the canonical event. */
  hash: string;
  emitter: string;
  stream: string;
  seq: number;
  prev: string;
  /** The request body, byte for byte what is sent (and resent). */
  body: string;
}

function invalid(e: unknown, where: string): never {
  if (e instanceof SchemaError) {
    throw new ClientError('INVALID_EVENT', `${where}: ${e.message}`, {
      details: { schemaCode: e.code, issues: e.issues },
      cause: e,
    });
  }
  throw e;
}

function bodyOf(canonical: string, signature: string): string {
  return `{"event":${canonical},"signature":"${signature}"}`;
}

/** Checks an already-signed event (schema, canonical form; not its signature) and prepares it. */
export function prepareSigned(wire: SignedEventWire | unknown, where = 'event'): PreparedEvent {
  let d;
  try {
    d = decodeSubmission(wire);
  } catch (e) {
    invalid(e, where);
  }
  const signature = (wire as SignedEventWire).signature;
  const { emitter, stream, seq, prev } = d.event;
  return { hash: d.hash, emitter, stream, seq, prev, body: bodyOf(d.canonical, signature) };
}

/** Validates, signs and prepares an event (the event must name `key`). */
export function prepareEvent(event: EventInput, key: SigningKey): PreparedEvent {
  let s;
  try {
    s = signEvent(event, key);
  } catch (e) {
    invalid(e, 'event');
  }
  const { emitter, stream, seq, prev } = s.event;
  return { hash: s.hash, emitter, stream, seq, prev, body: bodyOf(s.canonical, s.wire.signature) };
}
