// OpenLineage run events as a pipeline's client would send them.
export const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python';
export const RUN_EVENT_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const RUN_ID = '01890f6e-4b4c-7cc1-8a5d-3c0a7e2f9b10';

export function runEvent(
  eventType: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    eventType,
    eventTime: '2026-11-02T08:30:00.000Z',
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: { runId: RUN_ID },
    job: { namespace: 'airflow', name: 'traffic.summarise' },
    inputs: [{ namespace: 'postgres://db:5432', name: 'traffic-counts' }],
    outputs: [{ namespace: 'postgres://db:5432', name: 'traffic-summary' }],
    ...overrides,
  };
}
