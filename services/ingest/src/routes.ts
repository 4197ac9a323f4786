// The ingest service's submission routes: the standalone API's bodies and error contract,
// but each event is published to the submissions topic and answered 202 with a submission
// id (the event hash). `?wait=<ms>` waits for the sequencer's outcome and then answers as
// the standalone service would (201/200 with the signed receipt, or the refusal's status).
import type { DecodedEvent } from '@civic-ledger/events';
import { decodeSubmission } from '@civic-ledger/events';
import { ApiError, apiSchemas as s, type SubmissionTools, type ZodRouter } from '@civic-ledger/ledger-http';
import type { IngestGateway, Outcome } from '@civic-ledger/pipeline';
import { signedReceiptSchema } from '@civic-ledger/receipts';
import { SchemaError } from '@civic-ledger/schemas';
import { z } from 'zod';

const waitQuery = (maxWaitMs: number) =>
  z.object({
    wait: z.coerce
      .number()
      .int()
      .min(0)
      .max(maxWaitMs)
      .optional()
      .describe(
        `Wait up to this many ms for the signed receipt (0..${maxWaitMs}); without it the answer is 202 at once`,
      ),
  });

const accepted = z
  .object({
    submissionId: s.hex64.describe('The event hash: poll GET /v1/submissions/{submissionId}'),
    status: z.literal('pending'),
    statusUrl: z.string(),
  })
  .describe(
    'Kafka holds the event (acks from all in-sync replicas). Not yet in the log: no receipt, no ledger index. ' +
      'See README "What a 202 promises".',
  );

const submissionStatus = z.union([
  z.object({
    submissionId: s.hex64,
    status: z.literal('appended'),
    receipt: signedReceiptSchema,
    duplicate: z.boolean(),
  }),
  z.object({ submissionId: s.hex64, status: z.literal('refused'), error: s.errorBody }),
  z.object({ submissionId: s.hex64, status: z.literal('pending'), statusUrl: z.string() }),
]);

function decodeOrRefuse(item: unknown): DecodedEvent {
  try {
    return decodeSubmission(item, { now: Date.now() });
  } catch (e) {
    if (e instanceof SchemaError) throw new ApiError(e.code, e.message, { issues: e.issues });
    throw e;
  }
}

function refusal(o: Extract<Outcome, { ok: false }>): ApiError {
  return new ApiError(
    o.error.code as ConstructorParameters<typeof ApiError>[0],
    o.error.message,
    o.error.details,
  );
}

const pending = (hash: string) => ({
  submissionId: hash,
  status: 'pending' as const,
  statusUrl: `/v1/submissions/${hash}`,
});

export function registerIngestRoutes(
  r: ZodRouter,
  tools: SubmissionTools,
  gateway: IngestGateway,
  options: {
    maxWaitMs: number;
    /** Which broker is down, if any: submissions are refused while one is (no receipt could come back). */
    brokerDown: () => string | undefined;
  },
): void {
  const publish = async (events: DecodedEvent[]) => {
    const down = options.brokerDown();
    if (down) {
      throw new ApiError('BROKER_UNAVAILABLE', `${down} is unreachable; retry later`, { broker: down });
    }
    try {
      await gateway.publish(events);
    } catch (e) {
      throw new ApiError('BROKER_UNAVAILABLE', 'the submissions broker did not take the event; retry later', {
        reason: (e as Error).message,
      });
    }
  };

  r.post(
    '/v1/events',
    {
      schema: {
        summary: 'Submit one signed event: 202 once Kafka holds it, or wait for the signed receipt',
        tags: ['submit'],
        body: s.submitBody,
        querystring: waitQuery(options.maxWaitMs),
        response: { 200: s.submitResponse, 201: s.submitResponse, 202: accepted, ...s.errorResponses },
      },
    },
    async (request, reply) => {
      tools.limitKeys([request.body]);
      const decoded = decodeOrRefuse(request.body);
      await publish([decoded]);
      const o = await gateway.waitFor(decoded.hash, request.query.wait ?? 0);
      if (!o) return reply.code(202).send(pending(decoded.hash));
      if (!o.ok) throw refusal(o);
      return reply.code(o.duplicate ? 200 : 201).send({ receipt: o.receipt, duplicate: o.duplicate });
    },
  );

  r.post(
    '/v1/events/batch',
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        summary: `Submit up to ${s.MAX_BATCH_EVENTS} signed events, one Kafka message each; each is pending, appended or refused`,
        tags: ['submit'],
        body: s.batchBody,
        querystring: waitQuery(options.maxWaitMs),
        response: {
          200: z.object({
            results: z.array(
              z.union([
                z.object({ ok: z.literal(true), receipt: signedReceiptSchema, duplicate: z.boolean() }),
                z.object({ ok: z.literal(false), error: s.errorBody }),
                z.object({
                  ok: z.literal(true),
                  pending: z.literal(true),
                  submissionId: s.hex64,
                  statusUrl: z.string(),
                }),
              ]),
            ),
          }),
          ...s.errorResponses,
        },
      },
    },
    async (request) => {
      if (request.body.atomic) {
        throw new ApiError(
          'BAD_REQUEST',
          'atomic batches need one commit: submit them to the standalone service',
          {
            issues: [{ path: '/atomic', rule: 'not supported in distributed mode', code: 'unsupported' }],
          },
        );
      }
      tools.limitKeys(request.body.events);
      const decoded = request.body.events.map((item) => {
        try {
          return decodeOrRefuse(item);
        } catch (e) {
          if (e instanceof ApiError) return e;
          throw e;
        }
      });
      await publish(decoded.filter((d): d is DecodedEvent => !(d instanceof ApiError)));
      const wait = request.query.wait ?? 0;
      const deadline = Date.now() + wait;
      const results = [];
      for (const d of decoded) {
        if (d instanceof ApiError) {
          results.push({
            ok: false as const,
            error: { code: d.code, message: d.message, details: d.details },
          });
          continue;
        }
        const o = await gateway.waitFor(d.hash, Math.max(0, deadline - Date.now()));
        if (!o)
          results.push({
            ok: true as const,
            pending: true as const,
            submissionId: d.hash,
            statusUrl: `/v1/submissions/${d.hash}`,
          });
        else if (o.ok) results.push({ ok: true as const, receipt: o.receipt, duplicate: o.duplicate });
        else results.push({ ok: false as const, error: o.error });
      }
      return { results };
    },
  );

  r.get(
    '/v1/submissions/:hash',
    {
      schema: {
        summary: 'What became of a submission: appended (signed receipt), refused (the error), or pending',
        tags: ['submit'],
        params: s.hashParams,
        querystring: waitQuery(options.maxWaitMs),
        response: { 200: submissionStatus, 202: submissionStatus, ...s.errorResponses },
      },
    },
    async (request, reply) => {
      const hash = request.params.hash;
      const o = (await gateway.waitFor(hash, request.query.wait ?? 0)) ?? gateway.status(hash);
      if (o === undefined) {
        throw new ApiError(
          'NOT_FOUND',
          `no submission ${hash} is known to this ingest instance; look the event up in the query API (GET /v1/events/${hash})`,
        );
      }
      if (o === 'pending') return reply.code(202).send(pending(hash));
      if (o.ok)
        return {
          submissionId: hash,
          status: 'appended' as const,
          receipt: o.receipt,
          duplicate: o.duplicate,
        };
      return { submissionId: hash, status: 'refused' as const, error: o.error };
    },
  );
}
