// Request and response schemas of the compliance routes (zod): fastify validates with them,
// the OpenAPI document at /docs/json is generated from them, and the CLI checks the answers
// it reads with the same schemas (`@civic-ledger/compliance-runner/schemas`).
import { decideQuery } from '@civic-ledger/compliance';
import { eventHash, FINDING_OUTCOMES, orgId, resourceId, timestamp } from '@civic-ledger/schemas';
import { z } from 'zod';

/** Most findings per page. */
export const MAX_FINDINGS_PAGE = 1000;

const checkId = z.string().regex(/^[a-z][a-z0-9-]{1,63}$/, 'check: a check id such as purpose-declared');

export const findingsQuery = z.object({
  organization: orgId
    .optional()
    .describe(
      'Only findings involving this organization: the emitter or recipient of the evaluated event or of an event on its lineage path',
    ),
  dataset: resourceId
    .optional()
    .describe('Only findings whose evaluated event moves this dataset (or declares for it)'),
  check: checkId.optional().describe('Only this check (purpose-declared, recipient-allowed, retention, ...)'),
  outcome: z
    .enum(FINDING_OUTCOMES)
    .optional()
    .describe('Only this outcome (violation, undetermined, overdue)'),
  about: eventHash.optional().describe('Only findings about this event'),
  emitter: orgId.optional().describe('Only findings recorded by this compliance organization'),
  from: timestamp.optional().describe('Admitted to the ledger at or after this time (RFC 3339)'),
  until: timestamp.optional().describe('Admitted to the ledger before this time (RFC 3339)'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_FINDINGS_PAGE)
    .default(100)
    .describe(`Findings per page (1..${MAX_FINDINGS_PAGE}, default 100)`),
  cursor: z
    .string()
    .regex(/^\d{1,16}$/, 'cursor: the `next` of the previous page')
    .optional()
    .describe('`next` of the previous page: the findings older than it'),
});
export type FindingsQueryString = z.infer<typeof findingsQuery>;

export const evaluatedEvent = z
  .object({
    index: z.number().int().nonnegative(),
    type: z.string(),
    emitter: z.string(),
    recipient: z.string().optional(),
    dataset: z.string().optional().describe('Dataset id (movements) or declared subject (declarations)'),
  })
  .describe('The evaluated event, from its leaf');

export const findingRecord = z.object({
  event: z.string().describe('Hash of the finding event'),
  index: z.number().int().nonnegative().describe('Its ledger index'),
  admitted: z.string().describe('When the ledger admitted it'),
  emitter: z.string().describe('The compliance organization that recorded it'),
  time: z.string().describe('Its claimed time'),
  about: z.string().describe('Hash of the evaluated event'),
  check: z.string(),
  outcome: z.enum(FINDING_OUTCOMES),
  declaration: z.string().optional().describe('Hash of the declaration version that decided'),
  path: z
    .array(z.string())
    .describe('Event hashes from the evaluated event up its lineage to the deciding one'),
  explanation: z.string(),
  evaluated: evaluatedEvent.nullable().describe('null when the evaluated event is not in the log'),
  organizations: z.array(z.string()).describe('Organizations involved (the evaluated event and its path)'),
});

export const findingsPage = z.object({
  findings: z.array(findingRecord).describe('Newest first'),
  next: z.string().optional().describe('Cursor of the next (older) page; absent on the last page'),
  asOf: z.number().int().nonnegative().describe('Leaves of the log read when answering'),
});

const q = decideQuery.shape;
export const decisionBody = z
  .strictObject({
    org: q.org.describe('The organization that would act'),
    dataset: q.dataset.describe('The dataset it would use or transfer'),
    version: q.version.describe('One version of it (default: the latest it holds and has not deleted)'),
    purpose: q.purpose.describe('The purpose it would claim (a term, e.g. city:RoadSafetyEnforcement)'),
    recipient: q.recipient.describe('Ask about a transfer to this organization (default: a use)'),
    agreement: q.agreement.describe('The agreement digest a transfer would name'),
    nextPolicy: q.nextPolicy.describe('The next policy (declaration event hash) a transfer would name'),
    at: q.at.describe('When (RFC 3339 UTC or ms since the epoch; default: the time of the latest event)'),
  })
  .describe('A use or transfer that has not happened: may it?');

export const outcomeSchema = z.object({
  about: z.string().describe("The holding the decision follows ('' without one)"),
  check: z.string(),
  outcome: z.enum(FINDING_OUTCOMES),
  declaration: z.string().optional(),
  path: z.array(z.string()),
  explanation: z.string(),
});

export const decisionResponse = z.object({
  decision: z
    .enum(['allow', 'deny', 'undetermined'])
    .describe('deny on any violation, undetermined on any unknown, else allow'),
  holding: z.string().nullable().describe('The event through which the organization holds the data'),
  declaration: z.string().nullable().describe('The declaration in force for the dataset'),
  reasons: z.array(outcomeSchema).describe('Every check, violations and unknowns first'),
  asOf: z.number().int().nonnegative().describe('Leaves of the log the decision is based on'),
});

const byOutcome = z.record(z.string(), z.number().int());

export const statusResponse = z.object({
  org: z.string().describe('The compliance organization'),
  stream: z.string().describe('Its findings chain'),
  evaluated: z.number().int().describe('Leaves of the log read into the engine'),
  head: z.number().int().describe('The log size when last read'),
  lag: z.number().int().describe('Leaves not read yet'),
  evaluations: z.number().int().describe('Events evaluated since start'),
  findings: z.object({
    inLog: byOutcome.describe('Every finding in the log, by outcome'),
    recorded: byOutcome.describe("This organization's findings in the log, by outcome"),
    queued: z.number().int(),
    submitted: z.number().int(),
    awaitingLog: z.number().int(),
    refused: z.number().int(),
  }),
  submitFailures: z.number().int(),
  retention: z.object({
    intervalMs: z.number().int(),
    lastRunAt: z.string().nullable(),
    lastOverdue: z.number().int().describe('Holdings past their retention at the last run'),
  }),
  lastError: z.object({ context: z.string(), message: z.string(), at: z.string() }).nullable(),
});
