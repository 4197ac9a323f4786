// Identifier syntax. Every identifier is ASCII, short, and says what it names; none can
// hold a person's name, a plate or a device identifier by accident of format (they are
// chosen by organizations for their own systems, and the README says so).
import { z } from 'zod';

/** An organization: lower-case slug, 2-48 characters, e.g. `transport-agency`. */
export const ORG_ID = /^[a-z][a-z0-9-]{1,47}$/;
/** The operator's own organization id: it registers organizations. */
export const OPERATOR_ORG = 'ledger';
/** One of an emitter's chains: e.g. `main`, `cameras.north`. */
export const STREAM_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** A key: `<organization>/<label>`, e.g. `transport-agency/2026-01` (also its C2SP signed-note key name). */
export const KEY_NAME = /^[a-z][a-z0-9-]{1,47}\/[A-Za-z0-9._-]{1,64}$/;
/** A source or dataset: `<organization>/<name>`, name of lower-case segments, e.g. `transport-agency/cameras/north`. */
export const RESOURCE_ID =
  /^[a-z][a-z0-9-]{1,47}\/[a-z0-9][a-z0-9._-]{0,63}(?:\/[a-z0-9][a-z0-9._-]{0,63}){0,3}$/;
/** A content digest naming one version of a dataset: `sha256:<64 hex>`. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** An event hash: 64 lower-case hex digits (SHA-256 of the canonical event). */
export const EVENT_HASH = /^[0-9a-f]{64}$/;
/**
 * A term of a vocabulary (purpose, data category, legal basis, processing, measure):
 * a CURIE `prefix:Name`. `dpv` and its extensions keep W3C DPV's names; `city` is ours;
 * an organization's own terms use the prefix `x-<organization>`.
 */
export const TERM_ID = /^[a-z][a-z0-9-]{0,47}:[A-Za-z][A-Za-z0-9_.-]{0,79}$/;
/** A W3C Trace Context trace id (32 lower-case hex, not all zero). */
export const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;

/** The `prev` of the first event of a chain. */
export const GENESIS_PREV = '0'.repeat(64);

export const orgId = z.string().regex(ORG_ID, 'organization id: lower-case slug of 2-48 characters');
export const streamId = z
  .string()
  .regex(STREAM_ID, 'stream id: 1-64 of a-z 0-9 . _ -, starting alphanumeric');
export const keyName = z.string().regex(KEY_NAME, 'key name: <organization>/<label>');
export const resourceId = z
  .string()
  .max(200)
  .regex(RESOURCE_ID, 'resource id: <organization>/<name>, lower-case segments separated by /');
export const digest = z.string().regex(DIGEST, 'digest: sha256:<64 lower-case hex>');
export const eventHash = z.string().regex(EVENT_HASH, 'event hash: 64 lower-case hex digits');
export const termId = z.string().regex(TERM_ID, 'term: prefix:Name (a CURIE), e.g. dpv:ServiceProvision');
export const traceId = z.string().regex(TRACE_ID, 'trace id: 32 lower-case hex digits, not all zero');

/** The organization part of a key name, source or dataset id. */
export function ownerOf(id: string): string {
  const slash = id.indexOf('/');
  return slash < 0 ? id : id.slice(0, slash);
}
