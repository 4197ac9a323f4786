// Verifying a bundle offline, trusting only the pinned log key (and origin). The manifest is
// checked first (format, the pinned key, the files' hashes and line counts); then a full
// bundle is handed to verifyLog over its files, and a partial one is checked entry by
// entry in index order: its inclusion proof against the one checkpoint, and its signature
// by a key whose adding event (and the organization's registration) came before it in
// the bundle, itself proven the same way, down to the genesis leaf.
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson } from '@civic-ledger/canonical-json';
import { fromBase64, parseVerifierKey, toHex, type VerifierKey } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import { decodeLeaf, LeafError } from '@civic-ledger/leaf';
import { WitnessingError, isGenesisKeyEvent, requireCheckpointQuorum } from '@civic-ledger/ledger-core';
import { hashLeaf, isMerkleError, verifyInclusion } from '@civic-ledger/merkle';
import { OPERATOR_ORG, SchemaError, validateEvent, type Event } from '@civic-ledger/schemas';
import { openCheckpoint, parseCheckpoint, parseNote, verifierFromKeyText } from '@civic-ledger/signed-note';
import {
  checkpointError,
  verifyLog,
  type LogKeyWindow,
  type VerifiedCheckpointSummary,
  type VerifierState,
  type VerifyCheck,
} from '@civic-ledger/verifier';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  CHECKPOINTS_FILE,
  ENTRIES_FILE,
  FILES_OF,
  MANIFEST_FILE,
  PROOFS_FILE,
  checkpointLine,
  manifestSchema,
  partialEntryLine,
  proofLine,
  type BundleCheck,
  type BundleManifest,
  type FullManifest,
  type PartialManifest,
} from './format.ts';
import type { Policy } from '@civic-ledger/witness';
import { digestFile, parseLine, readLines } from './jsonl.ts';
import { bundleSource } from './source.ts';

export interface VerifyBundleOptions {
  /**
   * The log's verifier key text, pinned out of band (never taken from the bundle). Exactly one
   * of logKey, logKeys.
   */
  logKey?: string;
  /**
   * A rotated log's keys with their windows over tree sizes (the verifier's LogKeyWindow): each
   * checkpoint must be signed by a key whose window holds its size; the manifest must name one
   * of them.
   */
  logKeys?: readonly LogKeyWindow[];
  /** The log's origin line. */
  origin: string;
  /**
   * A state saved by an earlier verifier run. Full bundles: the log must only have grown
   * since (as verifyLog). Partial bundles: checked only when its size is the checkpoint's.
   */
  state?: VerifierState;
  /** Pin the operator's first key too (verifier key text); else taken from leaf 0. */
  operatorKey?: string;
  /** Check event signatures (default true). */
  checkSignatures?: boolean;
  /** Full bundles: signature worker threads (see verifyLog). */
  signatureThreads?: number;
  /** Called with (entries checked, entries in the bundle). */
  onProgress?: (done: number, total: number) => void;
  /**
   * A witness policy (c2sp.org/tlog-policy, parsed): the bundle's checkpoint (partial: the
   * one; full: the largest, which the replay ties every other to) must carry its quorum of
   * cosignatures (QUORUM_NOT_MET, COSIGNATURE_INVALID). Its log lines must list the pinned key.
   */
  policy?: Policy;
}

export interface BundleFailure {
  ok: false;
  check: BundleCheck;
  message: string;
  /** Ledger index of the failing entry (tree size for checkpoint and state checks). */
  index?: number;
  eventHash?: string;
  /** The bundle file and 1-based line concerned, when there is one. */
  file?: string;
  line?: number;
  /** LOG_REWRITTEN with a border (full bundles): the leaf range whose subtree differs. */
  range?: [number, number];
}

export interface FullBundleResult {
  ok: true;
  kind: 'full';
  manifest: FullManifest;
  /** Leaves verified. */
  size: number;
  checkpoint: VerifiedCheckpointSummary | undefined;
  newState: VerifierState | undefined;
  /** With a policy: the witnesses (policy names) whose cosignatures the checkpoint carries. */
  witnesses?: string[];
}

/** A key a partial bundle proves: added at `addedAt`, revoked at `revokedAt` if the bundle shows it. */
export interface ProvenKey {
  name: string;
  org: string;
  addedAt: number;
  revokedAt?: number;
  /** From the revocation: since when the key is believed stolen (events signed after it deserve doubt). */
  compromisedSince?: string;
}

export interface PartialBundleResult {
  ok: true;
  kind: 'partial';
  manifest: PartialManifest;
  /** The checkpoint every entry is proven against. */
  checkpoint: VerifiedCheckpointSummary;
  /** The chosen events, ascending by index. */
  chosen: { index: number; eventHash: string }[];
  /** Entries checked (chosen and supporting). */
  entries: number;
  keys: ProvenKey[];
  /** Whether `state` was compared (only when its size is the checkpoint's). */
  stateChecked: boolean;
  /** With a policy: the witnesses (policy names) whose cosignatures the checkpoint carries. */
  witnesses?: string[];
}

export type BundleResult = FullBundleResult | PartialBundleResult | BundleFailure;

class Failed extends Error {
  readonly failure: BundleFailure;
  constructor(failure: BundleFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

function fail(
  check: BundleCheck,
  message: string,
  at: Omit<BundleFailure, 'ok' | 'check' | 'message'> = {},
): never {
  throw new Failed({ ok: false, check, message, ...at });
}

const MAX_MANIFEST_BYTES = 1 << 20;

async function readManifest(dir: string): Promise<BundleManifest> {
  const path = join(dir, MANIFEST_FILE);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile())
    fail('FILE_MISSING', `${MANIFEST_FILE} is missing: not a bundle`, { file: MANIFEST_FILE });
  if (info.size > MAX_MANIFEST_BYTES)
    fail('BUNDLE_MALFORMED', `${MANIFEST_FILE} is larger than ${MAX_MANIFEST_BYTES} bytes`, {
      file: MANIFEST_FILE,
    });
  let value: unknown;
  try {
    value = parseJson(await readFile(path));
  } catch (e) {
    fail('BUNDLE_MALFORMED', `${MANIFEST_FILE} is not JSON: ${(e as Error).message}`, {
      file: MANIFEST_FILE,
    });
  }
  const v = value as { format?: unknown; version?: unknown } | null;
  if (typeof v !== 'object' || v === null || v.format !== BUNDLE_FORMAT || v.version !== BUNDLE_VERSION) {
    fail('BUNDLE_VERSION', `${MANIFEST_FILE} is not ${BUNDLE_FORMAT} version ${BUNDLE_VERSION}`, {
      file: MANIFEST_FILE,
    });
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail('BUNDLE_MALFORMED', `${MANIFEST_FILE} /${issue.path.map(String).join('/')}: ${issue.message}`, {
      file: MANIFEST_FILE,
    });
  }
  return parsed.data;
}

/** The manifest's files are there, with the recorded hashes, sizes and line counts. */
async function checkFiles(dir: string, m: BundleManifest): Promise<void> {
  const counts: Record<string, number> =
    m.kind === 'full'
      ? { [ENTRIES_FILE]: m.counts.entries, [CHECKPOINTS_FILE]: m.counts.checkpoints }
      : {
          [ENTRIES_FILE]: m.counts.entries,
          [CHECKPOINTS_FILE]: m.counts.checkpoints,
          [PROOFS_FILE]: m.counts.proofs,
        };
  const digests = m.files as Record<string, { sha256: string; bytes: number }>;
  for (const file of FILES_OF[m.kind]) {
    const info = await stat(join(dir, file)).catch(() => undefined);
    if (!info?.isFile()) fail('FILE_MISSING', `${file} is missing`, { file });
    const d = await digestFile(join(dir, file));
    const want = digests[file]!;
    if (d.sha256 !== want.sha256 || d.bytes !== want.bytes) {
      fail(
        'FILE_HASH',
        `${file} has SHA-256 ${d.sha256} (${d.bytes} bytes); the manifest says ${want.sha256} (${want.bytes} bytes)`,
        {
          file,
        },
      );
    }
    if (!d.terminated) fail('BUNDLE_MALFORMED', `${file} does not end with a line feed`, { file });
    if (d.lines !== counts[file])
      fail('BUNDLE_COUNTS', `${file} has ${d.lines} lines; the manifest counts ${counts[file]}`, { file });
  }
  if (m.kind === 'full' && m.treeSize !== m.counts.entries)
    fail('BUNDLE_COUNTS', `treeSize ${m.treeSize} is not the ${m.counts.entries} entries`, {
      file: MANIFEST_FILE,
    });
  if (m.kind === 'partial') {
    if (m.counts.checkpoints !== 1)
      fail('BUNDLE_COUNTS', `a partial bundle has exactly one checkpoint, not ${m.counts.checkpoints}`, {
        file: CHECKPOINTS_FILE,
      });
    if (m.counts.proofs !== m.counts.entries)
      fail('BUNDLE_COUNTS', `${m.counts.proofs} proofs for ${m.counts.entries} entries`, {
        file: PROOFS_FILE,
      });
  }
}

/**
 * Verifies a bundle directory. Never throws for what the bundle contains: the result names
 * the first failing check (and the entry, file and line where there is one). Throws only
 * for bad options (a pinned key that is not a verifier key) and I/O errors.
 */
export async function verifyBundle(dir: string, options: VerifyBundleOptions): Promise<BundleResult> {
  if ((options.logKey === undefined) === (options.logKeys === undefined))
    throw new TypeError('logKey, logKeys: give exactly one of the two');
  const keys = (options.logKeys?.map((k) => k.key) ?? [options.logKey!]).map((k) => k.trim());
  if (keys.length === 0) throw new TypeError('logKeys: at least one key');
  const pinned = keys.map((k) => parseVerifierKey(k)); // a bad pinned key is the caller's error: throws
  if (options.policy !== undefined) {
    // So is a policy that does not list a pinned key: it could never accept this log.
    const listed = options.policy.logs.some((l) => {
      const k = parseVerifierKey(l.verifierKey);
      return pinned.some((p) => k.name === p.name && Buffer.from(k.publicKey).equals(p.publicKey));
    });
    if (!listed)
      throw new Error(
        keys.length === 1
          ? `the witness policy has no log line with the pinned log key ${keys[0]}`
          : 'the witness policy has no log line with any of the pinned log keys',
      );
  }
  try {
    const m = await readManifest(dir);
    if (!keys.includes(m.logKey.trim())) {
      fail(
        'BUNDLE_LOG_KEY',
        `the bundle names log key ${JSON.stringify(m.logKey)}, not ${keys.length === 1 ? 'the pinned one' : 'one of the pinned ones'}: refused`,
        {
          file: MANIFEST_FILE,
        },
      );
    }
    if (m.origin !== options.origin)
      fail(
        'BUNDLE_ORIGIN',
        `the bundle is for log ${JSON.stringify(m.origin)}, not ${JSON.stringify(options.origin)}`,
        {
          file: MANIFEST_FILE,
        },
      );
    await checkFiles(dir, m);
    return m.kind === 'full' ? await verifyFull(dir, m, options) : await verifyPartial(dir, m, options);
  } catch (e) {
    if (e instanceof Failed) return e.failure;
    throw e;
  }
}

/** verifyLog checks whose `index` is a leaf position (the others name a tree size). */
const LEAF_CHECKS = new Set<VerifyCheck>([
  'LEAF_MALFORMED',
  'LEAF_INDEX',
  'LEAF_METADATA',
  'EVENT_SCHEMA',
  'EVENT_HASH',
  'GENESIS',
  'UNKNOWN_KEY',
  'KEY_REVOKED',
  'BAD_SIGNATURE',
  'CHAIN_BREAK',
  'UNKNOWN_EMITTER',
  'NOT_PERMITTED',
  'UNKNOWN_INPUT',
  'ALREADY_REGISTERED',
  'UNKNOWN_SUBJECT',
]);

async function verifyFull(dir: string, m: FullManifest, options: VerifyBundleOptions): Promise<BundleResult> {
  const source = bundleSource(dir, { size: m.counts.entries });
  const r = await verifyLog(source, {
    ...(options.logKeys === undefined ? { logKey: options.logKey! } : { logKeys: options.logKeys }),
    origin: options.origin,
    ...(options.state === undefined ? {} : { state: options.state }),
    ...(options.operatorKey === undefined ? {} : { operatorKey: options.operatorKey }),
    ...(options.checkSignatures === undefined ? {} : { checkSignatures: options.checkSignatures }),
    ...(options.signatureThreads === undefined ? {} : { signatureThreads: options.signatureThreads }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  if (r.ok) {
    let witnesses: string[] | undefined;
    if (options.policy !== undefined) {
      // The largest checkpoint: the replay tied every other checkpoint and leaf to it.
      const at = { file: CHECKPOINTS_FILE, line: m.counts.checkpoints };
      if (r.checkpoint === undefined)
        fail('QUORUM_NOT_MET', 'the bundle has no checkpoint to carry the quorum', at);
      witnesses = quorumOf(r.checkpoint.note, options.policy, r.checkpoint.size, at);
    }
    return {
      ok: true,
      kind: 'full',
      manifest: m,
      size: r.size,
      checkpoint: r.checkpoint,
      newState: r.newState,
      ...(witnesses === undefined ? {} : { witnesses }),
    };
  }
  const why = r.check === 'LEAF_MALFORMED' ? source.lineError(r.index) : undefined;
  const at = LEAF_CHECKS.has(r.check) ? { file: ENTRIES_FILE, line: r.index + 1 } : {};
  return { ...r, ...at, ...(why === undefined ? {} : { message: why }) };
}

interface KeyState {
  org: string;
  verifier: VerifierKey;
  addedAt: number;
  revokedAt: number | undefined;
  compromisedSince: string | undefined;
}

/** The policy's quorum over a checkpoint note: the witnesses that cosigned it, or a failure. */
function quorumOf(note: string, policy: Policy, size: number, at: { file: string; line: number }): string[] {
  try {
    return [...requireCheckpointQuorum(note, policy).witnesses];
  } catch (e) {
    if (e instanceof WitnessingError) fail('QUORUM_NOT_MET', e.message, { ...at, index: size });
    fail('COSIGNATURE_INVALID', `the checkpoint's cosignatures: ${(e as Error).message}`, {
      ...at,
      index: size,
    });
  }
}

/**
 * The pinned keys a checkpoint note is opened with: the one key, or of a rotated log's keys
 * those whose window holds the note's size (read unverified only to pick them; every key when
 * it does not parse, so that openCheckpoint names the error). No key valid at that size is
 * CHECKPOINT_SIGNATURE.
 */
function verifiersFor(note: string, options: VerifyBundleOptions): ReturnType<typeof verifierFromKeyText>[] {
  if (options.logKeys === undefined) return [verifierFromKeyText(options.logKey!.trim())];
  let size: number | undefined;
  try {
    size = parseCheckpoint(parseNote(note).text).size;
  } catch {
    size = undefined;
  }
  const keys = options.logKeys.filter(
    (k) => size === undefined || ((k.fromSize ?? 0) <= size && size <= (k.untilSize ?? Infinity)),
  );
  if (keys.length === 0)
    fail('CHECKPOINT_SIGNATURE', `checkpoint: no pinned log key is valid at tree size ${size}`, {
      file: CHECKPOINTS_FILE,
      line: 1,
      index: size!,
    });
  return keys.map((k) => verifierFromKeyText(k.key.trim()));
}

function checkpointFailure(e: unknown): never {
  const { check, message } = checkpointError(e);
  fail(check, message, { file: CHECKPOINTS_FILE, line: 1 });
}

const encoder = new TextEncoder();

async function verifyPartial(
  dir: string,
  m: PartialManifest,
  options: VerifyBundleOptions,
): Promise<BundleResult> {
  // The one checkpoint, opened with the pinned key.
  let cpText: Buffer | undefined;
  for await (const line of readLines(join(dir, CHECKPOINTS_FILE))) cpText ??= line;
  const cpLine = parseLine(cpText!, checkpointLine);
  if (!cpLine.ok)
    fail('BUNDLE_MALFORMED', `${CHECKPOINTS_FILE} line 1: ${cpLine.why}`, {
      file: CHECKPOINTS_FILE,
      line: 1,
    });
  let cp;
  try {
    cp = openCheckpoint(cpLine.value.note, {
      verifiers: verifiersFor(cpLine.value.note, options),
      origin: options.origin,
    });
  } catch (e) {
    checkpointFailure(e);
  }
  const size = cp.size;
  if (cpLine.value.size !== size || m.treeSize !== size) {
    fail(
      'BUNDLE_MALFORMED',
      `the checkpoint is of size ${size}; the bundle says ${cpLine.value.size} and treeSize ${m.treeSize}`,
      {
        file: CHECKPOINTS_FILE,
        line: 1,
      },
    );
  }
  const rootHash = toHex(cp.rootHash);
  const witnesses =
    options.policy === undefined
      ? undefined
      : quorumOf(cpLine.value.note, options.policy, size, { file: CHECKPOINTS_FILE, line: 1 });
  let stateChecked = false;
  if (options.state) {
    if (options.state.origin !== options.origin)
      fail('STATE_ORIGIN', `the saved state is for ${JSON.stringify(options.state.origin)}`, { index: 0 });
    if (options.state.size === size) {
      if (options.state.rootHash !== rootHash)
        fail(
          'LOG_REWRITTEN',
          `the checkpoint of size ${size} signs root ${rootHash}; the saved state has ${options.state.rootHash}`,
          {
            index: size,
          },
        );
      stateChecked = true;
    }
  }

  const orgs = new Map<string, { role: string; index: number }>();
  const keys = new Map<string, KeyState>();
  const chosen: { index: number; eventHash: string }[] = [];
  const checkSignatures = options.checkSignatures ?? true;
  const proofIter = readLines(join(dir, PROOFS_FILE));
  let line = 0;
  let last = -1;
  for await (const entryBytes of readLines(join(dir, ENTRIES_FILE))) {
    line++;
    const entry = parseLine(entryBytes, partialEntryLine);
    if (!entry.ok)
      fail('BUNDLE_MALFORMED', `${ENTRIES_FILE} line ${line}: ${entry.why}`, { file: ENTRIES_FILE, line });
    const index = entry.value.index;
    const at = { index, file: ENTRIES_FILE, line };
    const proofNext = await proofIter.next();
    const proof = proofNext.done ? undefined : parseLine(proofNext.value, proofLine);
    if (proof !== undefined && !proof.ok)
      fail('BUNDLE_MALFORMED', `${PROOFS_FILE} line ${line}: ${proof.why}`, {
        index,
        file: PROOFS_FILE,
        line,
      });
    if (index <= last)
      fail('ENTRY_ORDER', `entry ${index} follows entry ${last}: entries must ascend by index`, at);
    if (index >= size)
      fail('ENTRY_OUT_OF_RANGE', `entry ${index} is beyond the checkpoint of size ${size}`, at);
    if (last === -1 && index !== 0)
      fail('GENESIS', 'leaf 0 (the operator adding its own key) is not in the bundle', at);
    last = index;
    if (proof === undefined || proof.value.index !== index)
      fail('PROOF_MISSING', `${PROOFS_FILE} line ${line} is not the proof of entry ${index}`, {
        index,
        file: PROOFS_FILE,
        line,
      });

    // The leaf, and that it is in the tree the checkpoint signs.
    const leafBytes = encoder.encode(entry.value.leaf);
    let leaf;
    try {
      leaf = decodeLeaf(leafBytes);
    } catch (e) {
      if (!(e instanceof LeafError)) throw e;
      fail('LEAF_MALFORMED', `${e.code}: ${e.message}`, at);
    }
    const hash = leaf.eventHash;
    const here = { ...at, eventHash: hash };
    if (leaf.index !== index)
      fail('LEAF_INDEX', `the leaf on the line of entry ${index} says index ${leaf.index}`, here);
    let path: Uint8Array[];
    try {
      path = proof.value.hashes.map(fromBase64);
    } catch {
      fail('BUNDLE_MALFORMED', `${PROOFS_FILE} line ${line}: a hash is not canonical base64`, {
        index,
        file: PROOFS_FILE,
        line,
      });
    }
    try {
      verifyInclusion(hashLeaf(leafBytes), index, size, path, cp.rootHash);
    } catch (e) {
      if (!isMerkleError(e)) throw e;
      fail(
        'INCLUSION_PROOF',
        `entry ${index} is not proven in the tree of size ${size}: ${e.code}: ${e.message}`,
        here,
      );
    }
    let e: Event;
    try {
      const v = validateEvent(leaf.event);
      if (v.canonical !== leaf.eventCanonical)
        fail('EVENT_SCHEMA', 'the validated event does not have the canonical form in the leaf', here);
      e = v.event;
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      fail('EVENT_SCHEMA', `${err.code}: ${err.message}`, here);
    }

    // The key in force: the genesis leaf brings the operator's first key; any other key
    // must have been added by an earlier entry of the bundle, to the emitter, and not revoked.
    let key: VerifierKey;
    if (index === 0) {
      if (!isGenesisKeyEvent(e))
        fail('GENESIS', 'leaf 0 is not the operator adding its own key, signed by it', here);
      const k = e;
      if (options.operatorKey !== undefined && k.publicKey !== options.operatorKey.trim())
        fail('GENESIS', 'leaf 0 adds an operator key other than the pinned one', here);
      try {
        key = parseVerifierKey(k.publicKey ?? '');
      } catch (err) {
        fail('GENESIS', `leaf 0's operator key is not a verifier key: ${(err as Error).message}`, here);
      }
    } else {
      const ks = keys.get(e.key);
      if (!ks || ks.org !== e.emitter)
        fail(
          'KEY_NOT_PROVEN',
          `the bundle does not show key ${e.key} added to ${e.emitter} before entry ${index}`,
          here,
        );
      if (ks.revokedAt !== undefined)
        fail('KEY_REVOKED', `key ${e.key} was revoked at ledger index ${ks.revokedAt}`, here);
      key = ks.verifier;
    }
    if (
      checkSignatures &&
      !verifyEventSignature(hash, new Uint8Array(Buffer.from(leaf.signature, 'base64')), key)
    )
      fail('BAD_SIGNATURE', `signature does not verify with key ${e.key}`, here);
    if (e.emitter !== OPERATOR_ORG) {
      const org = orgs.get(e.emitter);
      if (!org)
        fail(
          'ORG_NOT_PROVEN',
          `the bundle does not show ${e.emitter} registered before entry ${index}`,
          here,
        );
      if (e.type === 'attest' && org.role !== 'oversight')
        fail('NOT_PERMITTED', `attest by ${e.emitter}, which is not an oversight body`, here);
      if (e.type === 'finding' && org.role !== 'compliance')
        fail('NOT_PERMITTED', `finding by ${e.emitter}, which is not the compliance service`, here);
    }

    // What this entry changes for later ones.
    if (e.type === 'register' && e.subject.kind === 'organization') {
      orgs.set(e.subject.id, { role: e.subject.role, index });
    } else if (e.type === 'key') {
      if (e.action === 'revoke') {
        const ks = keys.get(e.subjectKey);
        if (ks && ks.revokedAt === undefined) {
          ks.revokedAt = index;
          ks.compromisedSince = e.compromisedSince;
        }
      } else {
        if (e.subjectOrg !== OPERATOR_ORG && !orgs.has(e.subjectOrg))
          fail(
            'ORG_NOT_PROVEN',
            `the bundle does not show ${e.subjectOrg} registered before its key ${e.subjectKey}`,
            here,
          );
        let verifier: VerifierKey;
        try {
          verifier = parseVerifierKey(e.publicKey ?? '');
        } catch (err) {
          fail('EVENT_SCHEMA', `publicKey is not a verifier key: ${(err as Error).message}`, here);
        }
        if (!keys.has(e.subjectKey))
          keys.set(e.subjectKey, {
            org: e.subjectOrg,
            verifier,
            addedAt: index,
            revokedAt: undefined,
            compromisedSince: undefined,
          });
      }
    }
    if (entry.value.chosen) chosen.push({ index, eventHash: hash });
    options.onProgress?.(line, m.counts.entries);
  }
  await proofIter.return(undefined);
  return {
    ok: true,
    kind: 'partial',
    manifest: m,
    checkpoint: { size, rootHash, note: cpLine.value.note },
    chosen,
    entries: line,
    keys: [...keys].map(([name, k]) => ({
      name,
      org: k.org,
      addedAt: k.addedAt,
      ...(k.revokedAt === undefined ? {} : { revokedAt: k.revokedAt }),
      ...(k.compromisedSince === undefined ? {} : { compromisedSince: k.compromisedSince }),
    })),
    stateChecked,
    ...(witnesses === undefined ? {} : { witnesses }),
  };
}
