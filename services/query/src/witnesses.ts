// Which witnesses cosigned the checkpoint this read API serves, for anyone who reads it rather
// than operates the sequencer: the latest stored checkpoint checked against the witness policy
// (log signature, every policy witness's cosignature, the quorum). The sequencer stores only
// checkpoints cosigned to its quorum, so a stored one that fails the check is reported as
// CORRUPT, with what failed, instead of being served as if it were fine.
import { ApiError, apiSchemas, type ZodRouter } from '@civic-ledger/ledger-http';
import { readConfigFile } from '@civic-ledger/service-config';
import {
  checkQuorum,
  describeShortfall,
  parsePolicy,
  quorumShortfall,
  type Policy,
  type QuorumResult,
} from '@civic-ledger/witness';
import { z } from 'zod';

export const WITNESS_POLICY_VARIABLE = 'CIVIC_LEDGER_WITNESS_POLICY_FILE';

/** Reads the policy file; a wrong file, or one without a log line for `origin`, is a ConfigError. */
export function loadWitnessPolicy(path: string, origin: string): Policy {
  return readConfigFile(
    WITNESS_POLICY_VARIABLE,
    path,
    (bytes) => {
      const policy = parsePolicy(bytes);
      if (policy.quorum === undefined) throw new Error('the policy has no quorum line');
      if (!policy.logs.some((l) => l.origin === origin))
        throw new Error(`the policy has no log line for this log's origin ${origin}`);
      return policy;
    },
    'tlog-policy file',
  );
}

export const publishedWitnessesSchema = z.object({
  origin: z.string(),
  quorum: z.string().describe("the policy's quorum"),
  size: z.number().int().describe('tree size of the latest stored checkpoint'),
  quorumHeld: z.boolean().describe("whether that checkpoint's verified cosignatures satisfy the quorum"),
  shortfall: z.string().nullable().describe('the groups that do not hold (null when the quorum holds)'),
  witnesses: z.array(
    z.object({
      witness: z.string().describe('the name the policy gives the witness'),
      url: z.string().nullable(),
      cosigned: z.boolean().describe('whether the checkpoint carries its verified cosignature'),
      timestamp: z.string().nullable().describe('cosignature time (ISO 8601)'),
    }),
  ),
  note: z.string().describe('the checkpoint as stored: signed note with its cosignature lines'),
});
export type PublishedWitnesses = z.infer<typeof publishedWitnessesSchema>;

/** The status body for one stored checkpoint note; CORRUPT when it fails the policy. */
export function publishedWitnesses(policy: Policy, note: string): PublishedWitnesses {
  let result: QuorumResult;
  try {
    result = checkQuorum(note, policy);
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'MALFORMED_NOTE';
    throw new ApiError('CORRUPT', `the stored checkpoint fails the witness policy: ${(e as Error).message}`, {
      check: code,
    });
  }
  const cosigned = new Map(result.cosignatures.map((c) => [c.witness, c.timestamp]));
  const shortfall = quorumShortfall(policy, result.witnesses);
  return {
    origin: result.origin,
    quorum: policy.quorum!,
    size: result.size,
    quorumHeld: result.ok,
    shortfall: shortfall.length === 0 ? null : describeShortfall(shortfall),
    witnesses: policy.witnesses.map((w) => {
      const t = cosigned.get(w.name);
      return {
        witness: w.name,
        url: w.url ?? null,
        cosigned: t !== undefined,
        timestamp: t === undefined ? null : new Date(t * 1000).toISOString(),
      };
    }),
    note,
  };
}

/** GET /v1/checkpoints/latest/witnesses (public scope). */
export function registerPublishedWitnessRoute(
  r: ZodRouter,
  o: { policy: Policy; latest: () => Promise<{ size: number; note: string } | undefined> },
): void {
  let last: { note: string; body: PublishedWitnesses } | undefined;
  r.get(
    '/v1/checkpoints/latest/witnesses',
    {
      schema: {
        summary: 'Which witnesses cosigned the latest checkpoint, checked against the witness policy',
        tags: ['checkpoints'],
        response: { 200: publishedWitnessesSchema, ...apiSchemas.errorResponses },
      },
    },
    async () => {
      const latest = await o.latest();
      if (latest === undefined) throw new ApiError('NOT_FOUND', 'the log has no checkpoint yet');
      // A public route: check each stored checkpoint's signatures once, not on every request.
      if (last?.note !== latest.note)
        last = { note: latest.note, body: publishedWitnesses(o.policy, latest.note) };
      return last.body;
    },
  );
}
