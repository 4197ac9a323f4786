import { describe, expect, it } from 'vitest';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import { deriveEvent } from '@civic-ledger/schemas';
import { openLineageToDerive, toDeriveEvent } from './convert.ts';
import { datasetIdOf, normaliseDatasetName } from './mapping.ts';
import { validateOpenLineageEvent, type OpenLineageRunEvent } from './validate.ts';
import { OpenLineageIngestError } from './errors.ts';
import { PRODUCER, RUN_ID, runEvent } from './fixtures.test-support.ts';

const INPUT_HASH = 'c'.repeat(64);
const mapping = {
  organization: 'transport-agency',
  stream: 'openlineage',
  purpose: 'city:TrafficManagement',
  declaration: 'd'.repeat(64),
  categories: ['city:VehicleCount'],
  personalData: 'none' as const,
};
const known = (id: string) => (id === 'transport-agency/traffic-counts' ? INPUT_HASH : undefined);

function run(value: Record<string, unknown>): OpenLineageRunEvent {
  const v = validateOpenLineageEvent(value);
  if (v.kind !== 'run') throw new Error('not a run event');
  return v.event;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenLineageIngestError) return e.code;
    throw e;
  }
  return 'none';
}

describe('openLineageToDerive', () => {
  it('maps a COMPLETE run to a gateway-attested derive whose inputs are the input datasets’ ledger events', async () => {
    const [body, ...more] = await openLineageToDerive(run(runEvent('COMPLETE')), {
      ...mapping,
      latestEventOf: known,
    });
    expect(more).toEqual([]);
    expect(body).toMatchObject({
      type: 'derive',
      time: '2026-11-02T08:30:00.000Z',
      dataset: { id: 'transport-agency/traffic-summary' },
      inputs: [INPUT_HASH],
      processing: ['transform'],
      ext: {
        'cl:attestedBy': 'gateway',
        'cl:openlineageRunId': RUN_ID,
        'cl:openlineageJob': 'airflow/traffic.summarise',
      },
    });
    // Without a DatasetVersion facet the version is one per run (documented digest).
    const expected = sha256HexOfUtf8(
      JSON.stringify([
        'openlineage-run-output',
        'postgres://db:5432',
        'traffic-summary',
        RUN_ID,
        '2026-11-02T08:30:00.000Z',
      ]),
    );
    expect(body!.dataset.version).toBe(`sha256:${expected}`);
    // With an envelope it is a valid v1 derive event.
    const event = toDeriveEvent(body!, {
      emitter: 'transport-agency',
      stream: 'openlineage',
      seq: 1,
      prev: '0'.repeat(64),
      key: 'transport-agency/gw',
    });
    expect(deriveEvent.safeParse(event).success).toBe(true);
  });

  it('takes the version from the DatasetVersion facet: a digest as is, anything else hashed', async () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const versioned = (v: string) =>
      runEvent('COMPLETE', {
        outputs: [
          {
            namespace: 's3://bucket',
            name: 'traffic-summary',
            facets: {
              version: {
                _producer: PRODUCER,
                _schemaURL:
                  'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
                datasetVersion: v,
              },
            },
          },
        ],
      });
    const [a] = await openLineageToDerive(run(versioned(digest)), { ...mapping, latestEventOf: known });
    expect(a!.dataset.version).toBe(digest);
    const [b] = await openLineageToDerive(run(versioned('v42')), { ...mapping, latestEventOf: known });
    expect(b!.dataset.version).toBe(
      `sha256:${sha256HexOfUtf8(JSON.stringify(['openlineage-dataset-version', 's3://bucket', 'traffic-summary', 'v42']))}`,
    );
  });

  it('produces no ledger event for START, RUNNING, ABORT, FAIL and OTHER', async () => {
    for (const t of ['START', 'RUNNING', 'ABORT', 'FAIL', 'OTHER']) {
      expect(await openLineageToDerive(run(runEvent(t)), { ...mapping, latestEventOf: known })).toEqual([]);
    }
  });

  it('marks nothing as gateway-attested when the pipeline signs its own events', async () => {
    const [body] = await openLineageToDerive(run(runEvent('COMPLETE')), {
      ...mapping,
      attestation: 'self',
      latestEventOf: known,
    });
    expect(body!.ext).not.toHaveProperty('cl:attestedBy');
  });

  it('refuses inputs without a ledger movement, and runs without inputs', async () => {
    const unknownInput = runEvent('COMPLETE', { inputs: [{ namespace: 'x', name: 'elsewhere' }] });
    expect(await codeOf(openLineageToDerive(run(unknownInput), { ...mapping, latestEventOf: known }))).toBe(
      'UNKNOWN_INPUT_DATASET',
    );
    expect(
      await codeOf(
        openLineageToDerive(run(runEvent('COMPLETE', { inputs: [] })), { ...mapping, latestEventOf: known }),
      ),
    ).toBe('NO_INPUTS');
  });

  it('normalises names by the documented rule, and explicit mappings win', () => {
    expect(normaliseDatasetName('Public/Traffic Counts (2026)')).toBe('public/traffic-counts-2026-');
    expect(datasetIdOf(mapping, { namespace: 'pg', name: 'public.TRAFFIC_counts' })).toBe(
      'transport-agency/public.traffic_counts',
    );
    expect(
      datasetIdOf(
        { ...mapping, datasets: [{ namespace: 'pg', name: 'plates', id: 'police/plate-extract' }] },
        { namespace: 'pg', name: 'plates' },
      ),
    ).toBe('police/plate-extract');
    expect(() => datasetIdOf(mapping, { namespace: 'pg', name: 'a/b/c/d/e' })).toThrow(/explicit mapping/);
  });
});

describe('validateOpenLineageEvent', () => {
  it('names the failing path and schema rule', () => {
    try {
      validateOpenLineageEvent(runEvent('COMPLETE', { run: { runId: 'not-a-uuid' } }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OpenLineageIngestError);
      const err = e as OpenLineageIngestError;
      expect(err.code).toBe('RUN_EVENT_INVALID');
      expect(err.message).toContain('/run/runId');
      expect(err.details['issues']).toContainEqual(
        expect.objectContaining({ path: '/run/runId', code: 'format' }),
      );
    }
  });

  it('checks facets against their own schemas', () => {
    const bad = runEvent('COMPLETE', {
      outputs: [
        {
          namespace: 'n',
          name: 'o',
          facets: { version: { _producer: PRODUCER, _schemaURL: 'https://x.example/s' } },
        },
      ],
    });
    expect(() => validateOpenLineageEvent(bad)).toThrow(
      /\/outputs\/0\/facets\/version: must have required property 'datasetVersion'/,
    );
  });

  it('accepts DatasetEvent and JobEvent as what they are', () => {
    const job = {
      eventTime: '2026-11-02T08:30:00Z',
      producer: 'https://example.org/p',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
      job: { namespace: 'airflow', name: 'j' },
    };
    expect(validateOpenLineageEvent(job).kind).toBe('job');
  });
});
