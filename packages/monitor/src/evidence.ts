// Evidence given to the monitor from outside the log: evidence bundles, signed events and
// receipts. Nothing here is trusted: events are checked against the keys the log itself
// registered, checkpoints against the pinned log key, receipts against the log key; the
// monitor then compares them with what the log holds (monitor.ts).
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  decodeSubmission,
  signedEventWire,
  verifyEventSignature,
  type SignedEventWire,
} from '@civic-ledger/events';
import { decodeLeaf } from '@civic-ledger/leaf';
import type { Registry } from '@civic-ledger/ledger-core';
import { signedReceiptSchema, type SignedReceipt } from '@civic-ledger/receipts';
import { SchemaError, type Event } from '@civic-ledger/schemas';
import { MonitorError } from './errors.ts';

/** A signed event from outside the log, and where it came from. */
export interface ClaimedEvent {
  /** Where it was read, e.g. `bundle ./case entries.jsonl line 3`. */
  source: string;
  event: Event;
  eventHash: string;
  /** Base64 Ed25519 signature. */
  signature: string;
  /** The leaf text, when it came from a bundle (with the index the bundle claims). */
  leaf?: string;
  index?: number;
}

/** One piece of evidence: a signed event, or a signed checkpoint (from a bundle). */
export type EvidenceItem =
  | { kind: 'event'; claim: ClaimedEvent }
  | { kind: 'checkpoint'; source: string; note: string }
  | { kind: 'unreadable'; source: string; message: string };

function claimFromWire(wire: unknown, source: string): EvidenceItem {
  try {
    const d = decodeSubmission(wire);
    const w = wire as SignedEventWire;
    return {
      kind: 'event',
      claim: { source, event: d.event, eventHash: d.hash, signature: w.signature },
    };
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    return { kind: 'unreadable', source, message: `${e.code}: ${e.message}` };
  }
}

function claimFromLeaf(leaf: string, source: string): EvidenceItem {
  try {
    const l = decodeLeaf(leaf);
    const item = claimFromWire({ event: l.event, signature: l.signature }, source);
    if (item.kind === 'event') {
      item.claim.leaf = leaf;
      item.claim.index = l.index;
    }
    return item;
  } catch (e) {
    return { kind: 'unreadable', source, message: (e as Error).message };
  }
}

/** Signed events from a JSON value: `{event, signature}`, an array of them, or `{ events: [...] }`. */
export function evidenceFromJson(value: unknown, source = 'input'): EvidenceItem[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => evidenceFromJson(v, `${source}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o['events']) && !('event' in o))
      return evidenceFromJson(o['events'], `${source}.events`);
    if (typeof o['leaf'] === 'string' && !('event' in o)) return [claimFromLeaf(o['leaf'], source)];
    if (signedEventWire.safeParse(value).success) return [claimFromWire(value, source)];
  }
  return [{ kind: 'unreadable', source, message: 'not a signed event { event, signature }' }];
}

async function* jsonLines(path: string, label: string): AsyncGenerator<{ value: unknown; source: string }> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const source = `${label} line ${n}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new MonitorError('EVIDENCE_INVALID', `${source}: not JSON (${(e as Error).message})`, { source });
    }
    yield { value, source };
  }
}

/**
 * Reads evidence: a bundle directory (its checkpoints, then every entry of entries.jsonl:
 * full and partial bundles alike), or a JSON file (a signed event, an array, `{ events }`)
 * or a JSON Lines file of signed events. Entries are streamed.
 */
export async function* readEvidence(path: string): AsyncGenerator<EvidenceItem> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new MonitorError('EVIDENCE_INVALID', `${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  if (isDir) {
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(readFileSync(join(path, 'bundle.json'), 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new MonitorError(
        'EVIDENCE_INVALID',
        `${path}: not an evidence bundle (bundle.json: ${(e as Error).message})`,
        {
          path,
        },
      );
    }
    if (manifest['format'] !== 'civic-ledger-evidence-bundle' || manifest['version'] !== 1)
      throw new MonitorError('EVIDENCE_INVALID', `${path}: not a version 1 civic-ledger evidence bundle`, {
        path,
      });
    const label = `bundle ${path}`;
    for await (const { value, source } of jsonLines(
      join(path, 'checkpoints.jsonl'),
      `${label} checkpoints.jsonl`,
    )) {
      const note = (value as { note?: unknown }).note;
      yield typeof note === 'string'
        ? { kind: 'checkpoint', source, note }
        : { kind: 'unreadable', source, message: 'not { note, size }' };
    }
    for await (const { value, source } of jsonLines(join(path, 'entries.jsonl'), `${label} entries.jsonl`)) {
      const leaf = (value as { leaf?: unknown }).leaf;
      yield typeof leaf === 'string'
        ? claimFromLeaf(leaf, source)
        : { kind: 'unreadable', source, message: 'not { index, leaf }' };
    }
    return;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MonitorError('EVIDENCE_INVALID', `${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    // Not one JSON document: JSON Lines.
    for await (const { value, source } of jsonLines(path, path)) yield* evidenceFromJson(value, source);
    return;
  }
  yield* evidenceFromJson(whole, path);
}

/** How a claimed event relates to the keys the log registered. */
export type SignatureVerdict =
  { ok: true; key: string; revokedAt: number | undefined } | { ok: false; reason: string };

/**
 * Whether the event is signed by a key the log registered to its emitter (at any time:
 * a revoked key's signature still shows who signed). A claim that fails this is not
 * evidence against the emitter: anybody can write an unsigned story.
 */
export function checkClaimSignature(claim: ClaimedEvent, registry: Registry): SignatureVerdict {
  const ks = registry.key(claim.event.key);
  if (ks === undefined) return { ok: false, reason: `key ${claim.event.key} is not registered in the log` };
  if (ks.org !== claim.event.emitter)
    return { ok: false, reason: `key ${claim.event.key} belongs to ${ks.org}, not ${claim.event.emitter}` };
  const sig = new Uint8Array(Buffer.from(claim.signature, 'base64'));
  if (!verifyEventSignature(claim.eventHash, sig, ks.verifier))
    return { ok: false, reason: `the signature does not verify with key ${claim.event.key}` };
  return { ok: true, key: ks.name, revokedAt: ks.revokedAt };
}

/** A receipt given to the monitor, and where it came from. */
export interface ClaimedReceipt {
  source: string;
  receipt: SignedReceipt;
}

/**
 * Receipts from a JSON value: a receipt, `{ receipt }` (what the ledger answers to a
 * submission), an array of either, or `{ receipts: [...] }`. Throws EVIDENCE_INVALID naming
 * the item and field.
 */
export function receiptsFromJson(value: unknown, source = 'input'): ClaimedReceipt[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => receiptsFromJson(v, `${source}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o['receipts'])) return receiptsFromJson(o['receipts'], `${source}.receipts`);
    if (typeof o['receipt'] === 'object' && o['receipt'] !== null)
      return receiptsFromJson(o['receipt'], `${source}.receipt`);
  }
  const r = signedReceiptSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new MonitorError(
      'EVIDENCE_INVALID',
      `${source}: not a signed receipt: ${i.path.join('.') || '(root)'}: ${i.message}`,
      {
        source,
      },
    );
  }
  return [{ source, receipt: r.data }];
}

/** Receipts from a file: one JSON document (see receiptsFromJson) or JSON Lines. */
export function readReceipts(path: string): ClaimedReceipt[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MonitorError('EVIDENCE_INVALID', `${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  try {
    return receiptsFromJson(JSON.parse(text), path);
  } catch (e) {
    if (e instanceof MonitorError) throw e;
  }
  const out: ClaimedReceipt[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new MonitorError(
        'EVIDENCE_INVALID',
        `${path} line ${i + 1}: not JSON (${(e as Error).message})`,
        {
          path,
          line: i + 1,
        },
      );
    }
    out.push(...receiptsFromJson(v, `${path} line ${i + 1}`));
  });
  return out;
}
