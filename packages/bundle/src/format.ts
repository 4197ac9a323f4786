// The evidence bundle format, version 1 (README.md is the specification): file names, the
// manifest and line schemas (zod), and the stable check codes of verification.
import type { VerifyCheck } from '@civic-ledger/verifier';
import { z } from 'zod';

export const BUNDLE_FORMAT = 'civic-ledger-evidence-bundle';
export const BUNDLE_VERSION = 1;

export const MANIFEST_FILE = 'bundle.json';
export const ENTRIES_FILE = 'entries.jsonl';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const PROOFS_FILE = 'proofs.jsonl';

/** The data files of each kind of bundle (besides the manifest). */
export const FILES_OF = {
  full: [ENTRIES_FILE, CHECKPOINTS_FILE],
  partial: [ENTRIES_FILE, CHECKPOINTS_FILE, PROOFS_FILE],
} as const;

/** How a partial bundle treats revocations (README: what a partial bundle proves). */
export const REVOCATIONS_KNOWN = 'known-to-exporter';

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');

export const fileDigest = z.strictObject({ sha256: hex64, bytes: count });

const common = {
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  /** When the bundle was written (RFC 3339 UTC); informational. */
  created: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'RFC 3339 UTC'),
  /** The log's origin line. */
  origin: z.string().min(1).max(256),
  /** The log's verifier key text (C2SP). Informational: verifiers pin their own. */
  logKey: z.string().min(1).max(512),
  /** The operator's first key (verifier key text) as leaf 0 states it; informational. */
  operatorKey: z.string().min(1).max(512).nullable(),
  /** Full: entries in the bundle. Partial: the size of the bundle's checkpoint. */
  treeSize: count,
};

export const fullManifest = z.strictObject({
  ...common,
  kind: z.literal('full'),
  counts: z.strictObject({ entries: count, checkpoints: count }),
  files: z.strictObject({ [ENTRIES_FILE]: fileDigest, [CHECKPOINTS_FILE]: fileDigest }),
});

export const partialManifest = z.strictObject({
  ...common,
  kind: z.literal('partial'),
  counts: z.strictObject({ entries: count, chosen: count, checkpoints: count, proofs: count }),
  files: z.strictObject({
    [ENTRIES_FILE]: fileDigest,
    [CHECKPOINTS_FILE]: fileDigest,
    [PROOFS_FILE]: fileDigest,
  }),
  revocations: z.literal(REVOCATIONS_KNOWN),
});

export const manifestSchema = z.discriminatedUnion('kind', [fullManifest, partialManifest]);
export type FullManifest = z.infer<typeof fullManifest>;
export type PartialManifest = z.infer<typeof partialManifest>;
export type BundleManifest = z.infer<typeof manifestSchema>;

/** A line of entries.jsonl: full bundles `{ index, leaf }`, partial ones also `chosen`. */
export const fullEntryLine = z.strictObject({ index: count, leaf: z.string() });
export const partialEntryLine = z.strictObject({ chosen: z.boolean(), index: count, leaf: z.string() });
export const checkpointLine = z.strictObject({ note: z.string(), size: count });
export const proofLine = z.strictObject({
  hashes: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of 32 bytes')).max(64),
  index: count,
});

/** Checks of verifyBundle besides the verifier's own (README: check codes). */
export type BundleOnlyCheck =
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_VERSION'
  | 'BUNDLE_LOG_KEY'
  | 'BUNDLE_ORIGIN'
  | 'BUNDLE_COUNTS'
  | 'FILE_MISSING'
  | 'FILE_HASH'
  | 'ENTRY_ORDER'
  | 'ENTRY_OUT_OF_RANGE'
  | 'PROOF_MISSING'
  | 'INCLUSION_PROOF'
  | 'KEY_NOT_PROVEN'
  | 'ORG_NOT_PROVEN'
  /** With a witness policy: the bundle's checkpoint lacks the quorum's cosignatures. */
  | 'QUORUM_NOT_MET'
  /** With a witness policy: a policy witness's cosignature on the checkpoint does not verify. */
  | 'COSIGNATURE_INVALID';

export type BundleCheck = BundleOnlyCheck | VerifyCheck;
