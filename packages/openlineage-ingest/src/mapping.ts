// How OpenLineage datasets become Civic Ledger datasets (README "Mapping rules").
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import {
  DIGEST,
  orgId,
  PROCESSING,
  personalDataState,
  RESOURCE_ID,
  resourceId,
  shortText,
  streamId,
  termId,
  eventHash,
} from '@civic-ledger/schemas';
import { z } from 'zod';
import { OpenLineageIngestError } from './errors.ts';
import type { OpenLineageDataset } from './validate.ts';

/**
 * What a pipeline's registration says about every event it sends: whose chain, and the
 * claims (purpose, declaration, categories, personal data, processing) the ledger event makes.
 */
export const pipelineMapping = z.strictObject({
  /** The organization the pipeline works for: the derive's emitter and dataset namespace. */
  organization: orgId,
  /** The chain of that organization the derives extend. */
  stream: streamId,
  purpose: termId,
  /** Hash of the `declare` event the derives claim to run under. */
  declaration: eventHash,
  categories: z.array(termId).min(1).max(64),
  personalData: personalDataState,
  /** What the pipeline does to the data (default ["transform"]). */
  processing: z.array(z.enum(PROCESSING)).min(1).max(64).optional(),
  /** Explicit dataset mappings; they win over the default rule. */
  datasets: z
    .array(z.strictObject({ namespace: z.string().min(1), name: z.string().min(1), id: resourceId }))
    .max(1024)
    .optional(),
  /** Optional note on every derive. */
  note: shortText.optional(),
  /**
   * `gateway` (default): the ingest gateway signs and marks the event `cl:attestedBy: gateway`;
   * `self`: the pipeline signs with its own registered key (the SDK converter use).
   */
  attestation: z.enum(['gateway', 'self']).optional(),
});
export type PipelineMapping = z.infer<typeof pipelineMapping>;

/**
 * The default name rule: lower-case; every run of characters outside [a-z0-9._-] becomes `-`,
 * except `/`, which separates segments; empty segments are dropped; each segment loses
 * leading `.`, `_` and `-`; the id is `<organization>/<segments>` and must satisfy the
 * resource id rule (at most 4 segments of at most 64 characters), else it is unmappable.
 */
export function normaliseDatasetName(name: string): string {
  return name
    .toLowerCase()
    .split('/')
    .map((s) => s.replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, ''))
    .filter((s) => s.length > 0)
    .join('/');
}

/** The Civic Ledger dataset id of an OpenLineage dataset (explicit mapping, else the default rule). */
export function datasetIdOf(
  mapping: Pick<PipelineMapping, 'organization' | 'datasets'>,
  dataset: { namespace: string; name: string },
  where = '/',
): string {
  const explicit = mapping.datasets?.find(
    (d) => d.namespace === dataset.namespace && d.name === dataset.name,
  );
  if (explicit) return explicit.id;
  const id = `${mapping.organization}/${normaliseDatasetName(dataset.name)}`;
  if (!RESOURCE_ID.test(id)) {
    throw new OpenLineageIngestError(
      'DATASET_UNMAPPABLE',
      `${where}: dataset ${JSON.stringify(dataset.name)} does not normalise to a dataset id (got ${JSON.stringify(id)}); register an explicit mapping`,
      { path: where, namespace: dataset.namespace, name: dataset.name },
    );
  }
  return id;
}

/** The DatasetVersion facet's value, when the dataset carries one. */
export function datasetVersionFacet(dataset: OpenLineageDataset): string | undefined {
  const v = (dataset.facets?.['version'] as { datasetVersion?: unknown } | undefined)?.datasetVersion;
  return typeof v === 'string' ? v : undefined;
}

/** Domain-separated digest of a list of strings (JSON array text, so no concatenation is ambiguous). */
function digestOf(tag: string, parts: readonly string[]): string {
  return `sha256:${sha256HexOfUtf8(JSON.stringify([tag, ...parts]))}`;
}

/**
 * The ledger version of an output: the DatasetVersion facet's `datasetVersion` as is when it
 * already is a `sha256:<64 hex>` digest; otherwise SHA-256 of
 * `["openlineage-dataset-version", namespace, name, datasetVersion]`; without the facet,
 * SHA-256 of `["openlineage-run-output", namespace, name, runId, eventTime]` (one version per run).
 */
export function datasetVersionOf(dataset: OpenLineageDataset, runId: string, eventTime: string): string {
  const facet = datasetVersionFacet(dataset);
  if (facet !== undefined) {
    return DIGEST.test(facet)
      ? facet
      : digestOf('openlineage-dataset-version', [dataset.namespace, dataset.name, facet]);
  }
  return digestOf('openlineage-run-output', [dataset.namespace, dataset.name, runId, eventTime]);
}
