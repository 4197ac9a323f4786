// The SDK converter: an OpenLineage COMPLETE run event -> the bodies of `derive` events (one
// per output dataset). It signs nothing and reads nothing itself: the caller resolves input
// datasets to ledger events and adds the chain envelope (see toDeriveEvent).
import { LIMITS, RFC3339_UTC, type DeriveEvent, type EventInput } from '@civic-ledger/schemas';
import { OpenLineageIngestError } from './errors.ts';
import {
  datasetIdOf,
  datasetVersionFacet,
  datasetVersionOf,
  pipelineMapping,
  type PipelineMapping,
} from './mapping.ts';
import type { OpenLineageRunEvent } from './validate.ts';

/** At most this many outputs per run (each becomes one derive event). */
export const MAX_OUTPUTS = 16;

/** A derive event without its chain envelope (emitter, stream, seq, prev, key, v). */
export type DeriveBody = Omit<DeriveEvent, 'v' | 'emitter' | 'stream' | 'seq' | 'prev' | 'key'>;

/**
 * The hash of the latest ledger movement of a dataset (any organization's: a transfer to the
 * pipeline's organization is typically the one to name), or undefined when it has none.
 * `version` is the input's DatasetVersion facet as a ledger digest, when the input carries one.
 */
export type LatestEventOf = (
  datasetId: string,
  version: string | undefined,
) => string | undefined | Promise<string | undefined>;

export interface ConvertOptions extends PipelineMapping {
  latestEventOf: LatestEventOf;
}

/** RFC 3339 UTC as the ledger wants it (an offset time is converted, to milliseconds). */
function utcTime(eventTime: string): string {
  return RFC3339_UTC.test(eventTime) ? eventTime : new Date(eventTime).toISOString();
}

/**
 * The derive bodies of a COMPLETE run event (validated: see validateOpenLineageEvent), one per
 * output; `[]` for any other eventType (START, RUNNING, ABORT, FAIL, OTHER or none), which
 * produce no ledger event. Throws NO_INPUTS, UNKNOWN_INPUT_DATASET, DATASET_UNMAPPABLE,
 * TOO_MANY_DATASETS, MAPPING_INVALID.
 */
export async function openLineageToDerive(
  runEvent: OpenLineageRunEvent,
  options: ConvertOptions,
): Promise<DeriveBody[]> {
  const { latestEventOf, ...rest } = options;
  const parsed = pipelineMapping.safeParse(rest);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new OpenLineageIngestError('MAPPING_INVALID', `mapping ${i.path.join('.')}: ${i.message}`, {
      path: i.path.join('.'),
    });
  }
  const mapping = parsed.data;
  if (runEvent.eventType !== 'COMPLETE') return [];
  const outputs = runEvent.outputs ?? [];
  const inputs = runEvent.inputs ?? [];
  if (outputs.length === 0) return [];
  if (outputs.length > MAX_OUTPUTS || inputs.length > LIMITS.maxListItems) {
    throw new OpenLineageIngestError(
      'TOO_MANY_DATASETS',
      `a run maps to at most ${MAX_OUTPUTS} outputs and ${LIMITS.maxListItems} inputs`,
      { outputs: outputs.length, inputs: inputs.length },
    );
  }
  if (inputs.length === 0) {
    throw new OpenLineageIngestError(
      'NO_INPUTS',
      '/inputs: a COMPLETE run with outputs needs at least one input dataset',
      {
        path: '/inputs',
      },
    );
  }

  const hashes: string[] = [];
  const unknown: { path: string; namespace: string; name: string; id: string }[] = [];
  for (const [i, d] of inputs.entries()) {
    const path = `/inputs/${i}`;
    const id = datasetIdOf(mapping, d, path);
    const version = datasetVersionFacet(d) === undefined ? undefined : datasetVersionOf(d, '', '');
    const hash = await latestEventOf(id, version);
    if (hash === undefined) unknown.push({ path, namespace: d.namespace, name: d.name, id });
    else if (!hashes.includes(hash)) hashes.push(hash);
  }
  if (unknown.length > 0) {
    throw new OpenLineageIngestError(
      'UNKNOWN_INPUT_DATASET',
      `${unknown[0]!.path}: dataset ${unknown[0]!.id} has no movement in the ledger to derive from`,
      { unknown },
    );
  }

  const time = utcTime(runEvent.eventTime);
  const runId = runEvent.run.runId;
  return outputs.map((out, i) => {
    const ext: Record<string, string> = {
      'cl:openlineageRunId': runId,
      'cl:openlineageJob': `${runEvent.job.namespace}/${runEvent.job.name}`.slice(0, LIMITS.maxTextChars),
    };
    if ((mapping.attestation ?? 'gateway') === 'gateway') ext['cl:attestedBy'] = 'gateway';
    return {
      type: 'derive' as const,
      time,
      dataset: {
        id: datasetIdOf(mapping, out, `/outputs/${i}`),
        version: datasetVersionOf(out, runId, runEvent.eventTime),
      },
      inputs: hashes,
      purpose: mapping.purpose,
      declaration: mapping.declaration,
      processing: mapping.processing ?? ['transform'],
      categories: mapping.categories,
      personalData: mapping.personalData,
      ...(mapping.note === undefined ? {} : { note: mapping.note }),
      ext,
    };
  });
}

/** A derive body on a chain: the event to sign (with `signEvent` of @civic-ledger/events). */
export function toDeriveEvent(
  body: DeriveBody,
  envelope: { emitter: string; stream: string; seq: number; prev: string; key: string },
): EventInput {
  return { v: 1, ...envelope, ...body } as EventInput;
}
