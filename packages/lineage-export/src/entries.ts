// The exporters' input: ledger entries as a lineage query or a log read returns them (a
// decoded leaf fits as is). Every entry is checked before anything is exported, so a
// document never describes an event the ledger could not have admitted.
import { createHash } from 'node:crypto';
import {
  canonicalEventText,
  event as eventSchema,
  eventHash as eventHashSchema,
  timestamp,
  type Event,
} from '@civic-ledger/schemas';
import { LineageExportError } from './errors.ts';

/** What callers pass: one ledger entry (`DecodedLeaf` from `@civic-ledger/leaf` fits). */
export interface LedgerEntryInput {
  /** Ledger index (0-based position in the log). */
  readonly index: number;
  /** Admission time the ledger assigned (RFC 3339 UTC). */
  readonly admitted: string;
  /** SHA-256 (hex) of the event's canonical text. */
  readonly eventHash: string;
  /** The decoded event. */
  readonly event: unknown;
}

/** A checked entry. */
export interface LedgerEntry {
  readonly index: number;
  readonly admitted: string;
  readonly eventHash: string;
  readonly event: Event;
}

export interface EntryCheckOptions {
  /** Recompute every event hash (default true; off only for entries already verified). */
  readonly checkHashes?: boolean;
}

/**
 * Validates the entries, drops exact repeats (same hash) and sorts them by ledger index, so
 * the output never depends on the order or duplication of the input.
 */
export function checkEntries(
  entries: readonly LedgerEntryInput[],
  options: EntryCheckOptions = {},
): LedgerEntry[] {
  const checkHashes = options.checkHashes ?? true;
  const byHash = new Map<string, LedgerEntry>();
  const byIndex = new Map<number, string>();
  entries.forEach((e, i) => {
    const at = `entries[${i}]`;
    if (!Number.isSafeInteger(e.index) || e.index < 0)
      throw new LineageExportError('ENTRY_INVALID', `${at}.index`, 'must be an integer >= 0');
    if (!timestamp.safeParse(e.admitted).success)
      throw new LineageExportError('ENTRY_INVALID', `${at}.admitted`, 'must be an RFC 3339 UTC time');
    if (!eventHashSchema.safeParse(e.eventHash).success)
      throw new LineageExportError('ENTRY_INVALID', `${at}.eventHash`, 'must be 64 lower-case hex digits');
    const parsed = eventSchema.safeParse(e.event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue ? issue.path.map(String).join('.') : '';
      throw new LineageExportError(
        'ENTRY_INVALID',
        `${at}.event${path ? '.' + path : ''}`,
        issue?.message ?? 'not a v1 event',
      );
    }
    const event = parsed.data;
    if (checkHashes) {
      const hash = createHash('sha256').update(canonicalEventText(event), 'utf8').digest('hex');
      if (hash !== e.eventHash)
        throw new LineageExportError(
          'ENTRY_HASH_MISMATCH',
          `${at}.eventHash`,
          `is not the SHA-256 of the event's canonical text (${hash})`,
        );
    }
    const other = byIndex.get(e.index);
    if (other !== undefined && other !== e.eventHash)
      throw new LineageExportError(
        'ENTRY_INDEX_CONFLICT',
        `${at}.index`,
        `index ${e.index} holds two events`,
      );
    const seen = byHash.get(e.eventHash);
    if (seen && seen.index !== e.index)
      throw new LineageExportError(
        'ENTRY_INDEX_CONFLICT',
        `${at}.index`,
        `event ${e.eventHash} appears at indexes ${seen.index} and ${e.index}`,
      );
    byIndex.set(e.index, e.eventHash);
    byHash.set(e.eventHash, { index: e.index, admitted: e.admitted, eventHash: e.eventHash, event });
  });
  return [...byHash.values()].sort((a, b) => a.index - b.index);
}
