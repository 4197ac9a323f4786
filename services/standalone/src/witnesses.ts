// What the standalone service says about its witnesses: the status route (which witnesses
// cosigned the latest checkpoint, which failed and why, whether the quorum held), the
// readiness line, Prometheus metrics, and log lines when a witness or the quorum changes state.
import {
  describeShortfall,
  type Ledger,
  type WitnessOutcome,
  type WitnessRound,
  type WitnessingStatus,
} from '@civic-ledger/ledger-core';
import { apiSchemas, type ZodRouter } from '@civic-ledger/ledger-http';
import { z } from 'zod';

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

const outcomeSchema = z.object({
  witness: z.string().describe('the name the policy gives the witness'),
  url: z.string(),
  result: z
    .enum(['cosigned', 'kept', 'failed'])
    .describe('kept: cosigned the same checkpoint in an earlier round that lacked the quorum'),
  code: z
    .string()
    .optional()
    .describe('why it failed: WITNESS_UNREACHABLE, WITNESS_TIMEOUT, WITNESS_REFUSED, ...'),
  message: z.string().optional(),
  httpStatus: z.number().int().optional(),
  refusal: z.string().optional().describe("the witness's own refusal code, e.g. BAD_CONSISTENCY_PROOF"),
  oldSize: z
    .number()
    .int()
    .optional()
    .describe('the old size sent (the size the witness was believed to hold)'),
  conflictSize: z.number().int().optional().describe('the size a 409 answer said it holds'),
  timestamp: z.number().int().optional().describe('cosignature time, POSIX seconds'),
  ms: z.number().int(),
});

const shortfallSchema = z.object({
  name: z.string(),
  threshold: z.number().int(),
  members: z.array(z.string()),
  holding: z.array(z.string()),
});

const roundSchema = z.object({
  kind: z.enum(['checkpoint', 'catch-up']),
  size: z.number().int(),
  rootHash: z.string().describe('base64'),
  startedAt: z.string(),
  durationMs: z.number().int(),
  signed: z.array(z.string()).describe('witnesses whose cosignatures the checkpoint carries'),
  quorum: z.boolean(),
  published: z.boolean(),
  shortfall: z.array(shortfallSchema).describe('the groups that do not hold, the quorum first'),
  witnesses: z.array(outcomeSchema),
});

export const witnessStatusSchema = z.object({
  witnessed: z.boolean().describe('false: checkpoints are signed by the log key alone'),
  quorum: z.string().nullable().describe("the policy's quorum"),
  quorumHeld: z.boolean().nullable().describe('whether the latest checkpoint round reached the quorum'),
  failingSince: z.string().nullable().describe('since when rounds have failed to reach the quorum'),
  checkpointWithinMs: z
    .number()
    .int()
    .describe(
      "receipts' promise: a published checkpoint covers an entry within it (with witnesses: while the quorum holds)",
    ),
  intervalMs: z.number().int().nullable(),
  timeoutMs: z.number().int().nullable(),
  treeSize: z.number().int(),
  published: z
    .object({ size: z.number().int(), createdAt: z.string().nullable(), witnesses: z.array(z.string()) })
    .nullable()
    .describe('the latest published checkpoint and whose cosignatures it carries'),
  uncovered: z.number().int().describe('entries no published checkpoint covers yet'),
  latest: roundSchema.nullable().describe('the latest checkpoint round, published or not'),
  witnesses: z.array(
    z.object({
      witness: z.string(),
      url: z.string(),
      knownSize: z.number().int().nullable().describe('the size it is believed to have cosigned last'),
      failures: z.number().int().describe('failures in a row'),
      last: outcomeSchema.nullable().describe('its latest exchange (a checkpoint or a catch-up)'),
    }),
  ),
});
export type WitnessStatusBody = z.infer<typeof witnessStatusSchema>;

function roundBody(r: WitnessRound) {
  return {
    kind: r.kind,
    size: r.size,
    rootHash: r.rootHash,
    startedAt: iso(r.startedAt)!,
    durationMs: r.durationMs,
    signed: r.signed,
    quorum: r.quorum,
    published: r.published,
    shortfall: r.shortfall,
    witnesses: r.witnesses,
  };
}

/** The status body (also without witnesses: `witnessed: false`). */
export async function witnessStatusBody(
  ledger: Ledger,
  latestStored: () => Promise<{ size: number; createdAt: number } | undefined>,
): Promise<WitnessStatusBody> {
  const s = ledger.witnessStatus();
  const size = ledger.size;
  if (s === undefined) {
    const latest = await latestStored();
    return {
      witnessed: false,
      quorum: null,
      quorumHeld: null,
      failingSince: null,
      checkpointWithinMs: ledger.checkpointWithinMs,
      intervalMs: null,
      timeoutMs: null,
      treeSize: size,
      published: latest ? { size: latest.size, createdAt: iso(latest.createdAt), witnesses: [] } : null,
      uncovered: size - (latest?.size ?? 0),
      latest: null,
      witnesses: [],
    };
  }
  return {
    witnessed: true,
    quorum: s.quorum,
    quorumHeld: s.latest?.quorum ?? null,
    failingSince: iso(s.failingSince),
    checkpointWithinMs: s.checkpointWithinMs,
    intervalMs: s.intervalMs,
    timeoutMs: s.timeoutMs,
    treeSize: size,
    published: s.published && {
      size: s.published.size,
      createdAt: iso(s.published.createdAt),
      witnesses: s.published.witnesses,
    },
    uncovered: size - (s.published?.size ?? 0),
    latest: s.latest && roundBody(s.latest),
    witnesses: s.witnesses,
  };
}

/** GET /v1/checkpoints/latest/witnesses. */
export function registerWitnessRoutes(
  r: ZodRouter,
  ledger: Ledger,
  latestStored: () => Promise<{ size: number; createdAt: number } | undefined>,
): void {
  r.get(
    '/v1/checkpoints/latest/witnesses',
    {
      schema: {
        summary:
          'Which witnesses cosigned the latest checkpoint, which failed and why, whether the quorum held',
        tags: ['checkpoints'],
        response: { 200: witnessStatusSchema, ...apiSchemas.errorResponses },
      },
    },
    async () => witnessStatusBody(ledger, latestStored),
  );
}

/** The readiness line: the promise receipts make, and whether the quorum holds now. */
export function witnessReadiness(status: WitnessingStatus): Record<string, string> {
  const latest = status.latest;
  const witnesses =
    latest === null || latest.quorum
      ? `quorum ${status.quorum} held${latest ? ` at size ${latest.size} (${latest.signed.join(', ')})` : ' (no round yet)'}`
      : `no quorum since ${iso(status.failingSince)}: checkpoints are not published until ${describeShortfall(latest.shortfall)} is met`;
  return { witnesses, checkpointWithinMs: String(status.checkpointWithinMs) };
}

/** The logger roundLogger writes to (the app's pino). */
export type RoundLog = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  debug(o: object, m: string): void;
};

/** Logs state changes only (a witness starts or stops failing, the quorum is lost or back). */
export function roundLogger(log: () => RoundLog | undefined): (round: WitnessRound) => void {
  const failing = new Map<string, string>();
  let quorum = true;
  return (round) => {
    const l = log();
    if (l === undefined) return;
    for (const w of round.witnesses) {
      const was = failing.get(w.witness);
      if (w.result === 'failed') {
        const why = `${w.code}${w.refusal ? ` ${w.refusal}` : ''}`;
        if (was !== why) l.warn(witnessFields(w), `witness ${w.witness} failed: ${w.message}`);
        failing.set(w.witness, why);
      } else if (was !== undefined) {
        failing.delete(w.witness);
        l.info({ witness: w.witness, url: w.url }, `witness ${w.witness} cosigns again`);
      }
    }
    if (round.kind !== 'checkpoint') return;
    if (!round.quorum && quorum) {
      l.warn(
        { size: round.size, signed: round.signed, shortfall: round.shortfall },
        `checkpoint of size ${round.size} not published: ${describeShortfall(round.shortfall)}`,
      );
    } else if (round.quorum && !quorum) {
      l.info(
        { size: round.size, signed: round.signed },
        `witness quorum reached again at size ${round.size}`,
      );
    } else if (round.published) {
      l.debug(
        { size: round.size, signed: round.signed, ms: round.durationMs },
        'cosigned checkpoint published',
      );
    }
    quorum = round.quorum;
  };
}

function witnessFields(w: WitnessOutcome): object {
  return {
    witness: w.witness,
    url: w.url,
    code: w.code,
    ...(w.httpStatus === undefined ? {} : { httpStatus: w.httpStatus }),
    ...(w.refusal === undefined ? {} : { refusal: w.refusal }),
  };
}
