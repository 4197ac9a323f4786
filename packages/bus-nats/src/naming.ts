// How bus subjects, groups and headers map onto JetStream names and NATS headers. Pure
// functions: the same subject gives the same stream and consumer names in every process.
import { createHash } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { BusNatsError } from './errors.ts';

/** The header that carries `PublishOptions.key`. */
export const KEY_HEADER = 'civic-ledger-key';
/** JSON array of the header names whose values travel percent-encoded (see `encodeHeaders`). */
export const ENCODED_HEADER = 'civic-ledger-encoded';

const DEAD_LETTER_SUFFIX = '.dead-letter';
const MAX_NAME = 64;

/** Refuses what NATS would misread: empty tokens, whitespace, wildcards, control characters. */
export function checkSubject(subject: string): void {
  const fail = (rule: string) => {
    throw new BusNatsError('INVALID_SUBJECT', `subject ${JSON.stringify(subject)}: ${rule}`);
  };
  if (typeof subject !== 'string' || subject.length === 0) fail('must be a non-empty string');
  if (subject.length > 1024) fail('must be at most 1024 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) fail('must not contain whitespace or control characters');
  if (/[*>]/.test(subject)) fail('must not contain the wildcards * or >');
  if (subject.split('.').some((t) => t.length === 0))
    fail('must not have an empty token (.. or a leading/trailing dot)');
}

/**
 * The subject family: the subject without its `.dead-letter` suffixes. One stream holds a
 * family, so a subject and its dead letters share retention and a stream name.
 */
export function subjectFamily(subject: string): string {
  let s = subject;
  while (s.endsWith(DEAD_LETTER_SUFFIX) && s.length > DEAD_LETTER_SUFFIX.length) {
    s = s.slice(0, -DEAD_LETTER_SUFFIX.length);
  }
  return s;
}

const hash8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * A JetStream name (stream or durable: no dots, wildcards, whitespace or path separators).
 * Dots become `_`; a name that needed any other change, or that is long, gets a hash of the
 * original so two different inputs never share a name.
 */
function jsName(original: string, readable: string, dotsOnly: boolean): string {
  const cleaned = readable.replace(/[^A-Za-z0-9_-]/g, '_');
  if (dotsOnly && cleaned.length <= MAX_NAME) return cleaned;
  return `${cleaned.slice(0, MAX_NAME - 9)}_${hash8(original)}`;
}

/** The stream the bus creates for a subject's family: `<prefix><family with dots as _>`. */
export function streamNameFor(subject: string, streamPrefix = ''): string {
  const family = subjectFamily(subject);
  // Dots and letters map one to one only when the family has no `_` of its own.
  const plain = /^[A-Za-z0-9.-]+$/.test(family);
  return jsName(`${streamPrefix}\n${family}`, `${streamPrefix}${family.replaceAll('.', '_')}`, plain);
}

/**
 * The durable consumer of a group on a subject: the group's name (sanitized) on the family's
 * own subject; the group and the suffix, hashed, on a dead-letter subject; and group and
 * subject, hashed, in a stream the bus did not create (it may hold other families).
 */
export function durableNameFor(group: string, subject: string, ownStream = true): string {
  const family = subjectFamily(subject);
  if (ownStream && subject === family) return jsName(group, group, /^[A-Za-z0-9_-]+$/.test(group));
  const which = ownStream ? subject.slice(family.length) : `.${subject}`;
  return jsName(`${group}\n${which}`, `${group}${which.replaceAll('.', '_')}`, false);
}

// A value NATS carries unchanged: no CR/LF (the protocol's line ends) and no surrounding
// whitespace (the client trims it on both ends).
const travelsAsIs = (v: string) => !/[\r\n]/.test(v) && v.trim() === v;

function checkValue(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new BusNatsError('INVALID_HEADER', `header ${JSON.stringify(name)}: the value must be a string`);
  }
  if (!value.isWellFormed()) {
    throw new BusNatsError(
      'INVALID_HEADER',
      `header ${JSON.stringify(name)}: the value has a lone surrogate`,
    );
  }
  return value;
}

/**
 * The NATS headers of a message: the caller's headers unchanged, the key in `KEY_HEADER`.
 * Values NATS cannot carry as they are (CR/LF, surrounding whitespace) travel
 * percent-encoded and are listed in `ENCODED_HEADER`, so `decodeHeaders` gives back the
 * exact strings. Names starting with `Nats-` (JetStream's own) and ours are refused.
 */
export function encodeHeaders(
  key: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
): MsgHdrs | undefined {
  const entries = Object.entries(headers ?? {});
  if (key === undefined && entries.length === 0) return undefined;
  const h = natsHeaders();
  const encoded: string[] = [];
  const put = (name: string, value: string) => {
    if (travelsAsIs(value)) h.append(name, value);
    else {
      h.append(name, encodeURIComponent(value));
      encoded.push(name);
    }
  };
  for (const [name, value] of entries) {
    if (name.length === 0 || /[^\u0021-\u0039\u003b-\u007e]/.test(name)) {
      throw new BusNatsError(
        'INVALID_HEADER',
        `header ${JSON.stringify(name)}: a name is 1 or more printable ASCII characters other than ':'`,
      );
    }
    const lower = name.toLowerCase();
    if (lower.startsWith('nats-') || lower === KEY_HEADER || lower === ENCODED_HEADER) {
      throw new BusNatsError(
        'INVALID_HEADER',
        `header ${JSON.stringify(name)}: the name is reserved (Nats-* for JetStream, ${KEY_HEADER} and ${ENCODED_HEADER} for the bus)`,
      );
    }
    put(name, checkValue(name, value));
  }
  if (key !== undefined) put(KEY_HEADER, checkValue(KEY_HEADER, key));
  if (encoded.length > 0) h.set(ENCODED_HEADER, JSON.stringify(encoded));
  return h;
}

/** The key and the caller's headers of a received message (JetStream's and ours removed). */
export function decodeHeaders(h: MsgHdrs | undefined): {
  key: string | undefined;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  if (h === undefined) return { key: undefined, headers };
  let encoded = new Set<string>();
  const list = h.get(ENCODED_HEADER);
  if (list !== '') {
    try {
      const parsed: unknown = JSON.parse(list);
      if (Array.isArray(parsed)) encoded = new Set(parsed.filter((x): x is string => typeof x === 'string'));
    } catch {
      // Not ours (a foreign publisher): the values stay as they came.
    }
  }
  const value = (name: string) => {
    const v = h.get(name);
    if (!encoded.has(name)) return v;
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  let key: string | undefined;
  for (const name of h.keys()) {
    if (name === KEY_HEADER) key = value(name);
    else if (name !== ENCODED_HEADER && !name.toLowerCase().startsWith('nats-')) {
      // defineProperty: a header named __proto__ is a header, not the record's prototype.
      Object.defineProperty(headers, name, {
        value: value(name),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { key, headers };
}
