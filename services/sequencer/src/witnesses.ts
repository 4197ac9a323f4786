// What the sequencer says about its witnesses on the operations endpoint: the status route
// (the same body as the standalone service's, plus this process's role: only the writer asks
// witnesses, a standby has no rounds) and the readiness line. Metrics: ledger-http's
// WitnessMetrics, as in the standalone service.
import { describeShortfall, type WitnessingStatus } from '@civic-ledger/ledger-core';
import { apiSchemas, type ZodRouter } from '@civic-ledger/ledger-http';
import { z } from 'zod';

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

const outcomeSchema = z.object({
  witness: z.string().describe('the name the policy gives the witness'),
  url: z.string(),
  result: z.enum(['cosigned', 'kept', 'failed']),
  code: z.string().optional().describe('why it failed: WITNESS_UNREACHABLE, WITNESS_TIMEOUT, ...'),
  message: z.string().optional(),
  httpStatus: z.number().int().optional(),
  refusal: z.string().optional(),
  oldSize: z.number().int().optional(),
  conflictSize: z.number().int().optional(),
  timestamp: z.number().int().optional(),
  ms: z.number().int(),
});

export const sequencerWitnessStatusSchema = z.object({
  role: z.string().describe('writer: this process asks the witnesses; standby or starting: it does not'),
  quorum: z.string().describe("the policy's quorum"),
  quorumHeld: z
    .boolean()
    .nullable()
    .describe('whether the latest round reached the quorum (null: no round yet)'),
  failingSince: z.string().nullable(),
  checkpointWithinMs: z.number().int().describe("receipts' promise while the quorum holds"),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  treeSize: z.number().int(),
  published: z
    .object({ size: z.number().int(), createdAt: z.string().nullable(), witnesses: z.array(z.string()) })
    .nullable()
    .describe('the latest checkpoint stored (cosigned to the quorum) and whose cosignatures it carries'),
  latest: z
    .object({
      size: z.number().int(),
      startedAt: z.string(),
      durationMs: z.number().int(),
      signed: z.array(z.string()),
      quorum: z.boolean(),
      published: z.boolean(),
      shortfall: z.string().nullable().describe('the groups that do not hold'),
      witnesses: z.array(outcomeSchema),
    })
    .nullable(),
  witnesses: z.array(
    z.object({
      witness: z.string(),
      url: z.string(),
      knownSize: z.number().int().nullable(),
      failures: z.number().int(),
      last: outcomeSchema.nullable(),
    }),
  ),
});
export type SequencerWitnessStatus = z.infer<typeof sequencerWitnessStatusSchema>;

export interface WitnessView {
  role(): string;
  quorum: string;
  intervalMs: number;
  timeoutMs: number;
  checkpointWithinMs: number;
  /** The writer's ledger status; undefined while standing by. */
  status(): WitnessingStatus | undefined;
  treeSize(): number;
}

export function sequencerWitnessStatus(v: WitnessView): SequencerWitnessStatus {
  const s = v.status();
  const latest = s?.latest ?? null;
  return {
    role: v.role(),
    quorum: v.quorum,
    quorumHeld: latest?.quorum ?? null,
    failingSince: iso(s?.failingSince),
    checkpointWithinMs: v.checkpointWithinMs,
    intervalMs: v.intervalMs,
    timeoutMs: v.timeoutMs,
    treeSize: v.treeSize(),
    published: s?.published
      ? { size: s.published.size, createdAt: iso(s.published.createdAt), witnesses: s.published.witnesses }
      : null,
    latest: latest && {
      size: latest.size,
      startedAt: iso(latest.startedAt)!,
      durationMs: latest.durationMs,
      signed: latest.signed,
      quorum: latest.quorum,
      published: latest.published,
      shortfall: latest.shortfall.length === 0 ? null : describeShortfall(latest.shortfall),
      witnesses: latest.witnesses,
    },
    witnesses: s?.witnesses ?? [],
  };
}

/** GET /v1/checkpoints/latest/witnesses on the operations endpoint. */
export function registerWitnessRoute(r: ZodRouter, v: WitnessView): void {
  r.get(
    '/v1/checkpoints/latest/witnesses',
    {
      schema: {
        summary:
          'Which witnesses cosigned the latest checkpoint, which failed and why, whether the quorum held',
        tags: ['operations'],
        response: { 200: sequencerWitnessStatusSchema, ...apiSchemas.errorResponses },
      },
    },
    async () => sequencerWitnessStatus(v),
  );
}

/** The readiness line: whether the quorum holds now (a standby has no rounds). */
export function witnessReadiness(status: WitnessingStatus | undefined, quorum: string): string {
  const latest = status?.latest ?? null;
  if (latest === null) return `quorum ${quorum} (no round yet)`;
  return latest.quorum
    ? `quorum ${quorum} held at size ${latest.size} (${latest.signed.join(', ')})`
    : `no quorum since ${iso(status?.failingSince)}: checkpoints are not stored until ${describeShortfall(latest.shortfall)} is met`;
}
