// The compliance routes: findings (filtered, newest first, paged), decisions that write
// nothing, and the runner's status, over a ComplianceRunner. Mounted by a service through
// buildApp's `registerExtra`, under the API's error contract and limits.
import { ComplianceError } from '@civic-ledger/compliance';
import { ApiError, apiSchemas, type RouteAccess, type ZodRouter } from '@civic-ledger/ledger-http';
import type { ComplianceRunner } from './runner.ts';
import * as s from './schemas.ts';

export interface ComplianceRoutesOptions {
  /** The log's size as the service knows it: an answer first reads every entry up to it. */
  logSize?: () => number;
}

/**
 * Who may call each route when the service turns read access control on (buildApp's
 * `deps.access.routes`): findings and decisions say what organizations did with data, as
 * entries do (auditor); the status is counts only (public).
 */
export const COMPLIANCE_ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /v1/findings': 'auditor',
  'POST /v1/decisions': 'auditor',
  'GET /v1/compliance/status': 'public',
};

const { errorResponses } = apiSchemas;

function fromComplianceError(e: ComplianceError): ApiError {
  if (e.code === 'QUERY_INVALID') {
    const first = e.issues[0] ?? { path: '/', rule: e.message };
    return new ApiError('SCHEMA_INVALID', `body ${first.path}: ${first.rule}`, {
      in: 'body',
      issues: e.issues,
    });
  }
  return new ApiError('INTERNAL', 'the compliance engine failed', {}, { cause: e });
}

export function registerComplianceRoutes(
  app: ZodRouter,
  runner: ComplianceRunner,
  options: ComplianceRoutesOptions = {},
): void {
  /** Reads what the log holds before answering, up to the size the service knows. */
  async function current(): Promise<void> {
    const known = options.logSize?.() ?? 0;
    if (known > runner.size) await runner.catchUp();
  }

  void app.register(async (r: ZodRouter) => {
    r.get(
      '/v1/findings',
      {
        schema: {
          summary: 'Compliance findings recorded in the log, newest first, filtered and paged',
          description:
            'Every `finding` event of the log (violation, undetermined, overdue), with the event it is about. ' +
            'Filters combine (all must hold). Pages go from the newest finding back; `next` is the cursor of ' +
            'the following page and stays valid as new findings arrive.',
          tags: ['compliance'],
          querystring: s.findingsQuery,
          response: { 200: s.findingsPage, ...errorResponses },
        },
      },
      async (request) => {
        await current();
        const q = request.query;
        const page = runner.findings(
          {
            ...(q.organization === undefined ? {} : { organization: q.organization }),
            ...(q.dataset === undefined ? {} : { dataset: q.dataset }),
            ...(q.check === undefined ? {} : { check: q.check }),
            ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
            ...(q.about === undefined ? {} : { about: q.about }),
            ...(q.emitter === undefined ? {} : { emitter: q.emitter }),
            ...(q.from === undefined ? {} : { from: Date.parse(q.from) }),
            ...(q.until === undefined ? {} : { until: Date.parse(q.until) }),
          },
          { limit: q.limit, ...(q.cursor === undefined ? {} : { before: Number(q.cursor) }) },
        );
        return {
          findings: page.findings,
          ...(page.next === undefined ? {} : { next: String(page.next) }),
          asOf: runner.size,
        };
      },
    );

    r.post(
      '/v1/decisions',
      {
        schema: {
          summary: 'May an organization use (or transfer) a dataset for a purpose now? Writes nothing',
          description:
            'Evaluates the use (with `recipient`: the transfer) the organization would record, on the lineage ' +
            'of its latest undeleted holding of the dataset, against the declarations in force now, with every ' +
            'check a recorded movement gets. `deny` on any violation, `undetermined` on any unknown, else ' +
            '`allow`; the reasons are the same outcomes a finding would carry.',
          tags: ['compliance'],
          body: s.decisionBody,
          response: { 200: s.decisionResponse, ...errorResponses },
        },
      },
      async (request) => {
        await current();
        let d: ReturnType<ComplianceRunner['decide']>;
        try {
          d = runner.decide(request.body);
        } catch (e) {
          if (e instanceof ComplianceError) throw fromComplianceError(e);
          throw e;
        }
        return {
          decision: d.decision,
          holding: d.holding ?? null,
          declaration: d.declaration ?? null,
          reasons: d.reasons,
          asOf: d.asOf,
        };
      },
    );

    r.get(
      '/v1/compliance/status',
      {
        schema: {
          summary: "The compliance consumer's progress: leaves evaluated, lag, findings by outcome",
          tags: ['compliance'],
          response: { 200: s.statusResponse, ...errorResponses },
        },
      },
      async () => runner.status(),
    );
  });
}
