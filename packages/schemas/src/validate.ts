// Validation of an untrusted event value: schema, cross-field rules, size limits and
// claimed time. Never throws anything but a SchemaError, whose issues name the field
// (as a JSON Pointer) and the rule.
import { canonicalize, CanonicalJsonError } from '@civic-ledger/canonical-json';
import type { z } from 'zod';
import { SchemaError, type SchemaIssue } from './errors.ts';
import { event, type Event } from './events.ts';
import { canonicalEventText } from './fast-canonical.ts';
import { compileAcceptor, type Acceptor } from './fast-validate.ts';
import { GENESIS_PREV, OPERATOR_ORG, ownerOf } from './ids.ts';
import { LIMITS, timeToMillis } from './primitives.ts';

export interface ValidateOptions {
  /** The ledger's clock (ms since epoch) for the future-skew check; omit to skip that check. */
  now?: number;
  /** Allowed future skew in ms (default LIMITS.maxFutureSkewMs). */
  maxFutureSkewMs?: number;
}

export interface ValidatedEvent {
  event: Event;
  /** RFC 8785 canonical text of the event: the bytes its hash covers. */
  canonical: string;
  /** UTF-8 length of `canonical`. */
  size: number;
}

function pointer(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '/'
    : path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function fromZod(error: z.ZodError): SchemaIssue[] {
  return error.issues.map((i) => ({ path: pointer(i.path), rule: i.message, code: i.code }));
}

/** `write()`, with a refusal of canonical JSON turned into NOT_CANONICALIZABLE. */
function canonicalOrRefuse(write: () => string): string {
  try {
    return write();
  } catch (cause) {
    if (!(cause instanceof CanonicalJsonError)) throw cause;
    throw new SchemaError('NOT_CANONICALIZABLE', `event cannot be canonicalized: ${cause.message}`, [
      { path: typeof cause.at === 'string' ? cause.at : '/', rule: cause.message, code: cause.code },
    ]);
  }
}

/** The UTF-8 size of canonical event text, or EVENT_TOO_LARGE. */
function checkSize(canonical: string): number {
  const size = Buffer.byteLength(canonical, 'utf8');
  if (size > LIMITS.maxEventBytes) {
    throw new SchemaError(
      'EVENT_TOO_LARGE',
      `event is ${size} bytes canonical; the limit is ${LIMITS.maxEventBytes}`,
      [{ path: '/', rule: `canonical size <= ${LIMITS.maxEventBytes} bytes`, code: 'too_big' }],
    );
  }
  return size;
}

let acceptor: Acceptor | undefined;
/** Compiled on first use (not at import: most importers never validate). */
const eventAcceptor = (): Acceptor => (acceptor ??= compileAcceptor(event));

/**
 * Validates `value` as a v1 event. Returns the typed event with its canonical text, or
 * throws SchemaError: SCHEMA_INVALID (with every issue), EVENT_TOO_LARGE, EXT_TOO_LARGE,
 * TIME_IN_FUTURE, or NOT_CANONICALIZABLE.
 */
export function validateEvent(value: unknown, options: ValidateOptions = {}): ValidatedEvent {
  // The schema first: a value it accepts is written by the serializer compiled from the
  // schema, which gives exactly `canonicalize(value)`. The codes keep their precedence
  // (what canonical JSON cannot express, then the size, then the schema): when the schema
  // refuses, the generic serializer decides whether the value was canonicalizable at all.
  // The acceptor compiled from the same schema answers "zod accepts it" several times faster
  // (fast-validate.ts: one-sided, property-tested against zod); only what it does not accept
  // goes to zod, which gives the verdict and the issues. The schemas are strict and never
  // transform, so an accepted value is what zod would return (up to the copy).
  let e: Event;
  if (eventAcceptor().accepts(value)) {
    e = value as Event;
  } else {
    const parsed = event.safeParse(value);
    if (!parsed.success) {
      checkSize(canonicalOrRefuse(() => canonicalize(value)));
      const issues = fromZod(parsed.error);
      throw new SchemaError('SCHEMA_INVALID', describe(issues), issues);
    }
    e = parsed.data;
  }
  const canonical = canonicalOrRefuse(() => canonicalEventText(value as Event));
  const size = checkSize(canonical);
  if (e.ext !== undefined) {
    const extSize = Buffer.byteLength(canonicalize(e.ext), 'utf8');
    if (extSize > LIMITS.maxExtBytes) {
      throw new SchemaError(
        'EXT_TOO_LARGE',
        `ext is ${extSize} bytes canonical; the limit is ${LIMITS.maxExtBytes}`,
        [{ path: '/ext', rule: `canonical size <= ${LIMITS.maxExtBytes} bytes`, code: 'too_big' }],
      );
    }
  }
  const issues = crossFieldIssues(e);
  if (issues.length > 0) throw new SchemaError('SCHEMA_INVALID', describe(issues), issues);
  if (options.now !== undefined) {
    const skew = options.maxFutureSkewMs ?? LIMITS.maxFutureSkewMs;
    if (timeToMillis(e.time) > options.now + skew) {
      throw new SchemaError(
        'TIME_IN_FUTURE',
        `time ${e.time} is more than ${skew / 1000} s ahead of the ledger clock`,
        [{ path: '/time', rule: `at most ${skew / 1000} s in the future`, code: 'time_in_future' }],
      );
    }
  }
  return { event: e, canonical, size };
}

function describe(issues: SchemaIssue[]): string {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return first ? `${first.path}: ${first.rule}${more}` : 'invalid event';
}

/** Rules that span fields, which a per-field schema cannot express. */
export function crossFieldIssues(e: Event): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const add = (path: string, rule: string) => issues.push({ path, rule, code: 'custom' });

  if ((e.seq === 1) !== (e.prev === GENESIS_PREV)) {
    add('/prev', 'prev is 64 zeros exactly when seq is 1');
  }
  switch (e.type) {
    case 'collect':
      if (e.from !== undefined && e.until !== undefined && timeToMillis(e.from) > timeToMillis(e.until)) {
        add('/until', 'until must not be before from');
      }
      break;
    case 'transfer':
      if (e.recipient === e.emitter) add('/recipient', 'a transfer goes to another organization');
      break;
    case 'derive':
      if (e.processing.includes('anonymise') && e.anonymisation === undefined) {
        add('/anonymisation', 'required when processing includes anonymise');
      }
      if (e.anonymisation !== undefined && !e.processing.includes('anonymise')) {
        add('/processing', 'must include anonymise when anonymisation is given');
      }
      break;
    case 'declare': {
      const d = e.declaration;
      if ((d.version === 1) !== (d.supersedes === undefined)) {
        add('/declaration/supersedes', 'present exactly when version > 1');
      }
      if (d.validUntil !== undefined && timeToMillis(d.validUntil) <= timeToMillis(d.validFrom)) {
        add('/declaration/validUntil', 'must be after validFrom');
      }
      if (d.purposes.filter((p) => p.primary === true).length > 1) {
        add('/declaration/purposes', 'at most one primary purpose');
      }
      d.recipients?.forEach((r, i) => {
        if ((r.org === undefined) === (r.role === undefined)) {
          add(`/declaration/recipients/${i}`, 'exactly one of org or role');
        }
      });
      const ownPrefix = `x-${e.emitter}:`;
      d.customPurposes?.forEach((p, i) => {
        if (!p.id.startsWith(ownPrefix))
          add(`/declaration/customPurposes/${i}/id`, `custom purposes use the prefix ${ownPrefix}`);
        if (p.parents.includes(p.id))
          add(`/declaration/customPurposes/${i}/parents`, 'a purpose is not its own parent');
      });
      break;
    }
    case 'key':
      if (e.action === 'revoke' && e.publicKey !== undefined)
        add('/publicKey', 'a revocation names the key only');
      if (e.action !== 'revoke' && e.publicKey === undefined) add('/publicKey', `required for ${e.action}`);
      if (e.action !== 'revoke' && e.compromisedSince !== undefined)
        add('/compromisedSince', 'only for revoke');
      if (ownerOf(e.subjectKey) !== e.subjectOrg)
        add('/subjectKey', 'key name must start with the subject organization');
      if (e.publicKey !== undefined && !e.publicKey.startsWith(`${e.subjectKey}+`)) {
        add('/publicKey', 'verifier key text must be named subjectKey');
      }
      break;
    default:
      break;
  }
  return issues;
}

/**
 * Who may emit what, as far as the event alone says: only the operator registers
 * organizations and re-keys one; an organization registers resources in its own namespace
 * and manages only its own keys. A well-formed event that breaks one of these is not a
 * schema error but a refusal (NOT_PERMITTED); that the signing key is the emitter's own is
 * checked against the registry (UNKNOWN_KEY).
 */
export function permissionIssues(e: Event): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const add = (path: string, rule: string) => issues.push({ path, rule, code: 'not_permitted' });
  if (e.type === 'register') {
    if (e.subject.kind === 'organization' && e.emitter !== OPERATOR_ORG) {
      add('/subject/kind', `only the operator (${OPERATOR_ORG}) registers organizations`);
    }
    if (e.subject.kind !== 'organization' && ownerOf(e.subject.id) !== e.emitter) {
      add(
        '/subject/id',
        `an organization registers ${e.subject.kind}s in its own namespace (${e.emitter}/...)`,
      );
    }
  }
  if (e.type === 'key') {
    if (e.action === 'recover' && e.emitter !== OPERATOR_ORG)
      add('/action', 'only the operator re-keys an organization');
    if (e.emitter !== OPERATOR_ORG && e.subjectOrg !== e.emitter) {
      add('/subjectOrg', 'an organization manages only its own keys');
    }
  }
  return issues;
}
