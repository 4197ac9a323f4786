// Writing bundles. Files are written first, each hashed as it is written; the manifest
// last (written to a temporary name, then renamed), so a directory without bundle.json is
// an export that did not finish. A full export streams: one chunk of leaves in memory,
// the next one read while the current one is written.
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVerifierKey, toBase64 } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { OPERATOR_ORG, validateEvent, type Event } from '@civic-ledger/schemas';
import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import type { LogKeyWindow, LogSource, SourceLeaf } from '@civic-ledger/verifier';
import { BundleError } from './errors.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  CHECKPOINTS_FILE,
  ENTRIES_FILE,
  MANIFEST_FILE,
  PROOFS_FILE,
  REVOCATIONS_KNOWN,
  type FullManifest,
  type PartialManifest,
} from './format.ts';
import { JsonlWriter } from './jsonl.ts';
import type { ProofProvider, RegistryHit } from './providers.ts';

export interface BundleWriteOptions {
  /**
   * The log's verifier key text, recorded in the manifest (informational for readers).
   * Exactly one of logKey, logKeys.
   */
  logKey?: string;
  /**
   * A rotated log's keys with their windows over tree sizes (the verifier's LogKeyWindow):
   * the manifest records the last key whose window holds the tree size the bundle ends on.
   */
  logKeys?: readonly LogKeyWindow[];
  /** The log's origin line. */
  origin: string;
  /** The manifest's `created` time (default now). */
  created?: Date;
  /** Called as entries are written: (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface FullBundleOptions extends BundleWriteOptions {
  /** Leaves per read from the source (default 2000). */
  chunkSize?: number;
}

export interface PartialBundleOptions extends BundleWriteOptions {
  /** The chosen events by event hash (lower-case hex)... */
  hashes?: readonly string[];
  /** ...and/or by ledger index. */
  indexes?: readonly number[];
  /** Tree size of the checkpoint to prove against (default: the provider's latest). */
  checkpoint?: number;
  /** Checkpoints, inclusion proofs, hash lookups (and registry lookups, when it has them). */
  proofs: ProofProvider;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const HEX64 = /^[0-9a-f]{64}$/;

function checkCommon(options: BundleWriteOptions): void {
  if ((options.logKey === undefined) === (options.logKeys === undefined))
    throw new BundleError('INVALID_OPTIONS', 'logKey, logKeys: give exactly one of the two', {
      field: 'logKey',
    });
  if (options.logKeys?.length === 0)
    throw new BundleError('INVALID_OPTIONS', 'logKeys: at least one key', { field: 'logKeys' });
  const keys = options.logKeys?.map((k) => k.key) ?? [options.logKey!];
  keys.forEach((key, i) => {
    const field = options.logKeys === undefined ? 'logKey' : `logKeys[${i}].key`;
    try {
      parseVerifierKey(key.trim());
    } catch (cause) {
      throw new BundleError(
        'INVALID_OPTIONS',
        `${field}: not a verifier key text: ${(cause as Error).message}`,
        {
          field,
        },
      );
    }
  });
  if (typeof options.origin !== 'string' || options.origin === '' || /[\n\r]/.test(options.origin))
    throw new BundleError('INVALID_OPTIONS', 'origin: a non-empty line', { field: 'origin' });
}

/**
 * The key the manifest names: the pinned one, or of a rotated log's keys the last whose window
 * holds `size` (the tree size the bundle ends on), else the last.
 */
function manifestKey(options: BundleWriteOptions, size: number): string {
  if (options.logKeys === undefined) return options.logKey!.trim();
  const valid = options.logKeys.filter((k) => (k.fromSize ?? 0) <= size && size <= (k.untilSize ?? Infinity));
  return (valid.at(-1) ?? options.logKeys.at(-1)!).key.trim();
}

/** Creates `dir` (and parents), or accepts it when empty. */
async function prepareDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length > 0)
    throw new BundleError('DIR_NOT_EMPTY', `${dir} is not empty (${present.length} entries)`, { dir });
}

async function writeManifest(dir: string, manifest: FullManifest | PartialManifest): Promise<void> {
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  await rename(tmp, join(dir, MANIFEST_FILE));
}

function leafText(row: SourceLeaf, index: number): string {
  try {
    return decoder.decode(row.leaf);
  } catch (cause) {
    throw new BundleError(
      'SOURCE',
      `leaf ${index} is not UTF-8 text: a bundle cannot hold it`,
      { index },
      { cause },
    );
  }
}

function sizeOfNote(note: string): number {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch (cause) {
    throw new BundleError(
      'SOURCE',
      `the source returned a checkpoint that is not one: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/** The operator key leaf 0 adds (its public key text), if leaf 0 is such an event. */
function operatorKeyOf(leaf: Uint8Array | undefined): string | null {
  if (!leaf) return null;
  try {
    const e = decodeLeaf(leaf).event as Partial<Event> & { publicKey?: unknown };
    return e.type === 'key' && e.emitter === OPERATOR_ORG && typeof e.publicKey === 'string'
      ? e.publicKey
      : null;
  } catch {
    return null;
  }
}

function isoNow(created: Date | undefined): string {
  return (created ?? new Date()).toISOString();
}

/**
 * Writes a full bundle of `source`: every leaf (in index order), every signed checkpoint
 * up to its size, and the keys. Memory: two chunks of leaves and the checkpoint notes.
 * Checkpoints larger than the source's size are left out (no entries to check them by).
 */
export async function writeFullBundle(
  dir: string,
  source: LogSource,
  options: FullBundleOptions,
): Promise<FullManifest> {
  checkCommon(options);
  const chunk = Math.max(1, options.chunkSize ?? 2000);
  await prepareDir(dir);
  const n = await source.size();
  const checkpoints = (await source.checkpoints())
    .map((note) => ({ note, size: sizeOfNote(note) }))
    .filter((c) => c.size <= n)
    .sort((a, b) => a.size - b.size);

  const entries = await JsonlWriter.create(join(dir, ENTRIES_FILE));
  let operatorKey: string | null = null;
  let entriesDigest;
  try {
    let pending = n > 0 ? source.leaves(0, Math.min(n, chunk)) : undefined;
    for (let from = 0; from < n; from += chunk) {
      const to = Math.min(n, from + chunk);
      const rows = await pending!;
      // Read the next chunk while this one is written.
      pending = to < n ? source.leaves(to, Math.min(n, to + chunk)) : undefined;
      if (rows.length < to - from) {
        throw new BundleError(
          'SOURCE',
          `the source claims ${n} leaves but returned ${rows.length} of [${from}, ${to})`,
          {
            from,
            to,
          },
        );
      }
      if (from === 0) operatorKey = operatorKeyOf(rows[0]?.leaf);
      for (let k = 0; k < to - from; k++)
        await entries.write({ index: from + k, leaf: leafText(rows[k]!, from + k) });
      options.onProgress?.(to, n);
    }
    entriesDigest = await entries.close();
  } catch (e) {
    await entries.abandon();
    throw e;
  }

  const cpFile = await JsonlWriter.create(join(dir, CHECKPOINTS_FILE));
  let cpDigest;
  try {
    for (const c of checkpoints) await cpFile.write({ note: c.note, size: c.size });
    cpDigest = await cpFile.close();
  } catch (e) {
    await cpFile.abandon();
    throw e;
  }

  const manifest: FullManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    kind: 'full',
    created: isoNow(options.created),
    origin: options.origin,
    logKey: manifestKey(options, checkpoints.at(-1)?.size ?? n),
    operatorKey,
    treeSize: n,
    counts: { entries: entriesDigest.lines, checkpoints: cpDigest.lines },
    files: {
      [ENTRIES_FILE]: { sha256: entriesDigest.sha256, bytes: entriesDigest.bytes },
      [CHECKPOINTS_FILE]: { sha256: cpDigest.sha256, bytes: cpDigest.bytes },
    },
  };
  await writeManifest(dir, manifest);
  return manifest;
}

/** The leaf's event, validated; undefined when it is not a valid leaf. */
function eventOf(leaf: Uint8Array): Event | undefined {
  try {
    return validateEvent(decodeLeaf(leaf).event).event;
  } catch {
    return undefined;
  }
}

/** Registry events by id, found by reading the leaves [0, size) once. */
async function scanRegistry(source: LogSource, size: number): Promise<Map<string, RegistryHit[]>> {
  const hits = new Map<string, RegistryHit[]>();
  const add = (id: string, hit: RegistryHit) => {
    const list = hits.get(id);
    if (list) list.push(hit);
    else hits.set(id, [hit]);
  };
  const chunk = 2000;
  for (let from = 0; from < size; from += chunk) {
    const rows = await source.leaves(from, Math.min(size, from + chunk));
    rows.forEach((row, k) => {
      const text = Buffer.from(row.leaf.buffer, row.leaf.byteOffset, row.leaf.byteLength).toString('utf8');
      // Inside canonical JSON a string cannot hold an unescaped quote: a cheap filter.
      if (!text.includes('"type":"key"') && !text.includes('"type":"register"')) return;
      const e = eventOf(row.leaf);
      if (!e) return;
      const index = from + k;
      if (e.type === 'register' && e.subject.kind === 'organization')
        add(e.subject.id, { kind: 'organization', index });
      if (e.type === 'key') {
        const kind = e.action === 'add' ? 'key-add' : e.action === 'recover' ? 'key-recover' : 'key-revoke';
        add(e.subjectKey, { kind, index });
      }
    });
    if (rows.length < Math.min(size, from + chunk) - from) break;
  }
  return hits;
}

/**
 * Writes a partial bundle: the chosen events, and the events needed to check their
 * signatures (the key add of each signing key, the registration of each emitter and key
 * owner, recursively down to the genesis leaf 0) and every revocation of those keys known
 * to the provider (or found in the leaves) before the checkpoint, each with its inclusion
 * proof against that one checkpoint. Memory: the bundle's entries.
 */
export async function writePartialBundle(
  dir: string,
  source: LogSource,
  options: PartialBundleOptions,
): Promise<PartialManifest> {
  checkCommon(options);
  const hashes = options.hashes ?? [];
  const indexes = options.indexes ?? [];
  if (hashes.length + indexes.length === 0)
    throw new BundleError('INVALID_OPTIONS', 'choose at least one event (hashes or indexes)', {
      field: 'hashes',
    });
  const badHash = hashes.find((h) => !HEX64.test(h));
  if (badHash !== undefined)
    throw new BundleError(
      'INVALID_OPTIONS',
      `hashes: ${JSON.stringify(badHash)} is not lower-case hex of 32 bytes`,
      {
        field: 'hashes',
      },
    );
  const badIndex = indexes.find((i) => !Number.isSafeInteger(i) || i < 0);
  if (badIndex !== undefined)
    throw new BundleError('INVALID_OPTIONS', `indexes: ${badIndex} is not a ledger index`, {
      field: 'indexes',
    });
  const { proofs } = options;
  await prepareDir(dir);

  const note = await proofs.checkpoint(options.checkpoint);
  const size = sizeOfNote(note);
  if (options.checkpoint !== undefined && size !== options.checkpoint)
    throw new BundleError(
      'CHECKPOINT_NOT_FOUND',
      `asked for the checkpoint of size ${options.checkpoint}, got ${size}`,
      {
        size: options.checkpoint,
      },
    );

  const chosen = new Set(indexes);
  if (hashes.length > 0) {
    const found = await proofs.findEvents(hashes);
    const missing = hashes.filter((h) => !found.has(h));
    if (missing.length > 0)
      throw new BundleError(
        'EVENT_NOT_FOUND',
        `${missing.length} chosen event(s) not in the log: ${missing[0]}...`,
        {
          hashes: missing,
        },
      );
    for (const i of found.values()) chosen.add(i);
  }
  const beyond = [...chosen].filter((i) => i >= size);
  if (beyond.length > 0)
    throw new BundleError(
      'NOT_IN_CHECKPOINT',
      `event ${beyond[0]} is not covered by the checkpoint of size ${size}`,
      {
        indexes: beyond,
        size,
      },
    );

  // Registry lookups: the provider's index when it has one, else one pass over the leaves.
  let scanned: Promise<Map<string, RegistryHit[]>> | undefined;
  const lookup = async (id: string): Promise<readonly RegistryHit[]> =>
    proofs.registry ? proofs.registry(id) : ((await (scanned ??= scanRegistry(source, size))).get(id) ?? []);
  const lastBefore = (hits: readonly RegistryHit[], kinds: readonly string[], before: number) =>
    hits.filter((h) => kinds.includes(h.kind) && h.index < before).at(-1)?.index;

  // The closure: each entry brings what its signature and emitter need, down to leaf 0.
  const leaves = new Map<number, Uint8Array>();
  const work = [0, ...chosen];
  while (work.length > 0) {
    const i = work.pop()!;
    if (leaves.has(i)) continue;
    const [row] = await source.leaves(i, i + 1);
    if (!row) throw new BundleError('SOURCE', `the source has no leaf ${i}`, { index: i });
    leaves.set(i, row.leaf);
    if (i === 0) continue;
    const e = eventOf(row.leaf);
    if (!e) continue; // Not a valid leaf: it goes in as it is, and verification reports it.
    const keyHits = await lookup(e.key);
    const added = lastBefore(keyHits, ['key-add', 'key-recover'], i);
    if (added !== undefined) work.push(added);
    for (const h of keyHits) if (h.kind === 'key-revoke' && h.index < size) work.push(h.index);
    const orgs = new Set<string>();
    if (e.emitter !== OPERATOR_ORG) orgs.add(e.emitter);
    if (e.type === 'key' && e.subjectOrg !== OPERATOR_ORG) orgs.add(e.subjectOrg);
    for (const org of orgs) {
      const reg = lastBefore(await lookup(org), ['organization'], i);
      if (reg !== undefined) work.push(reg);
    }
  }

  const order = [...leaves.keys()].sort((a, b) => a - b);
  const entries = await JsonlWriter.create(join(dir, ENTRIES_FILE));
  const proofLines = await JsonlWriter.create(join(dir, PROOFS_FILE));
  let entriesDigest;
  let proofsDigest;
  try {
    // Proofs a few at a time, written in index order.
    const window = 16;
    for (let w = 0; w < order.length; w += window) {
      const slice = order.slice(w, w + window);
      const paths = await Promise.all(slice.map((i) => proofs.inclusionProof(i, size)));
      for (const [k, i] of slice.entries()) {
        await entries.write({ chosen: chosen.has(i), index: i, leaf: leafText({ leaf: leaves.get(i)! }, i) });
        await proofLines.write({ hashes: paths[k]!.map((h) => toBase64(h)), index: i });
      }
      options.onProgress?.(Math.min(order.length, w + window), order.length);
    }
    entriesDigest = await entries.close();
    proofsDigest = await proofLines.close();
  } catch (e) {
    await entries.abandon();
    await proofLines.abandon();
    throw e;
  }
  const cpFile = await JsonlWriter.create(join(dir, CHECKPOINTS_FILE));
  let cpDigest;
  try {
    await cpFile.write({ note, size });
    cpDigest = await cpFile.close();
  } catch (e) {
    await cpFile.abandon();
    throw e;
  }

  const manifest: PartialManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    kind: 'partial',
    created: isoNow(options.created),
    origin: options.origin,
    logKey: manifestKey(options, size),
    operatorKey: operatorKeyOf(leaves.get(0)),
    treeSize: size,
    counts: {
      entries: entriesDigest.lines,
      chosen: order.filter((i) => chosen.has(i)).length,
      checkpoints: cpDigest.lines,
      proofs: proofsDigest.lines,
    },
    files: {
      [ENTRIES_FILE]: { sha256: entriesDigest.sha256, bytes: entriesDigest.bytes },
      [CHECKPOINTS_FILE]: { sha256: cpDigest.sha256, bytes: cpDigest.bytes },
      [PROOFS_FILE]: { sha256: proofsDigest.sha256, bytes: proofsDigest.bytes },
    },
    revocations: REVOCATIONS_KNOWN,
  };
  await writeManifest(dir, manifest);
  return manifest;
}
