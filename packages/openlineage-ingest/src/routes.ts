// POST /api/v1/lineage and /api/v1/lineage/batch: OpenLineage's own endpoints (clients
// configured with an HTTP transport post there), authenticated per pipeline by a bearer
// token. A COMPLETE run becomes derive events signed by the gateway's key on the chain of
// the pipeline's organization; every other event is accepted and recorded nowhere.
import { timingSafeEqual } from 'node:crypto';
import { signingKeyFromKeyObject, sha256, type SigningKey } from '@civic-ledger/crypto';
import { signEvent } from '@civic-ledger/events';
import { RateLimiter, statusOf, type RateLimitOptions, type ZodRouter } from '@civic-ledger/ledger-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { openLineageToDerive, toDeriveEvent, type DeriveBody, type LatestEventOf } from './convert.ts';
import { OpenLineageIngestError } from './errors.ts';
import { pipelineMapping, type PipelineMapping } from './mapping.ts';
import { validateOpenLineageEvent } from './validate.ts';

/** At most this many events per batch request. */
export const MAX_BATCH_EVENTS = 1000;

/** What the ledger answers per submitted event (ledger-core's SubmitResult fits). */
export type IngestSubmitResult =
  | { ok: true; receipt: unknown; duplicate: boolean }
  | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

export interface OpenLineageIngestOptions {
  /** Bearer token -> the pipeline's registration. Tokens are compared in constant time and never logged. */
  pipelines: ReadonlyMap<string, PipelineMapping>;
  /**
   * The gateway's key. A key belongs to one organization (`<org>/<label>`): for a pipeline of
   * another organization the same key material signs as `<that org>/<label>`, which the
   * operator must have added to that organization with a `key` event. Or a function per organization.
   */
  signer: SigningKey | ((organization: string) => SigningKey);
  /** Submits signed events in wire form `{ event, signature }` (e.g. Ledger.submit). */
  submit: (wireEvents: readonly unknown[]) => Promise<IngestSubmitResult[]>;
  /** The head of a chain: last seq (0 when empty) and its event hash (64 zeros when empty). */
  chainState: (emitter: string, stream: string) => Promise<{ seq: number; prev: string }>;
  latestEventOf: LatestEventOf;
  /** Events per window and pipeline (default 600 per minute); null: off. */
  rateLimit?: RateLimitOptions | null;
  now?: () => number;
}

interface LedgerEventResult {
  eventHash: string;
  dataset: { id: string; version: string };
  receipt: unknown;
  duplicate: boolean;
}
type Outcome = { accepted: true; ledgerEvent: LedgerEventResult | null; ledgerEvents: LedgerEventResult[] };

const errorShape = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
const ledgerEventShape = z.object({
  eventHash: z.string(),
  dataset: z.object({ id: z.string(), version: z.string() }),
  receipt: z.unknown(),
  duplicate: z.boolean(),
});
const outcomeShape = z.object({
  accepted: z.literal(true),
  ledgerEvent: ledgerEventShape.nullable(),
  ledgerEvents: z.array(ledgerEventShape),
});
const batchShape = z.object({
  status: z.enum(['success', 'partial_success']),
  summary: z.object({
    received: z.number(),
    successful: z.number(),
    failed: z.number(),
    retriable: z.number(),
    non_retriable: z.number(),
  }),
  failed_events: z.array(z.object({ index: z.number(), reason: z.string(), retriable: z.boolean() })),
  results: z.array(z.union([outcomeShape, errorShape.extend({ index: z.number() })])),
});

function errorBody(e: OpenLineageIngestError) {
  return { code: e.code, message: e.message, details: e.details };
}

function toIngestError(e: unknown): OpenLineageIngestError {
  if (e instanceof OpenLineageIngestError) return e;
  throw e;
}

export function registerOpenLineageIngest(r: ZodRouter, options: OpenLineageIngestOptions): void {
  const now = options.now ?? Date.now;
  const limiter =
    options.rateLimit === null
      ? undefined
      : new RateLimiter(options.rateLimit ?? { max: 600, windowMs: 60_000 });
  // Registrations are checked once, at start: a bad one is a configuration error.
  const pipelines = [...options.pipelines].map(([token, m], i) => {
    const parsed = pipelineMapping.safeParse(m);
    if (!parsed.success) {
      throw new OpenLineageIngestError(
        'MAPPING_INVALID',
        `pipeline #${i}: ${parsed.error.issues[0]!.message}`,
      );
    }
    return { id: i, digest: sha256(Buffer.from(token, 'utf8')), mapping: parsed.data };
  });
  const signers = new Map<string, SigningKey>();
  const signerFor = (org: string): SigningKey => {
    if (typeof options.signer === 'function') return options.signer(org);
    const base = options.signer;
    const label = base.name.slice(base.name.indexOf('/') + 1);
    const name = `${org}/${label}`;
    if (base.name === name) return base;
    let key = signers.get(name);
    if (!key) signers.set(name, (key = signingKeyFromKeyObject(name, base.privateKeyObject)));
    return key;
  };

  /** Constant time in the token: every registered digest is compared, equal length (SHA-256). */
  function authenticate(request: FastifyRequest) {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!m) {
      throw new OpenLineageIngestError(
        'UNAUTHORIZED',
        'send Authorization: Bearer <pipeline token>',
        {},
        {
          headers: { 'www-authenticate': 'Bearer' },
        },
      );
    }
    const given = sha256(Buffer.from(m[1]!, 'utf8'));
    let found: (typeof pipelines)[number] | undefined;
    for (const p of pipelines) if (timingSafeEqual(p.digest, given) && !found) found = p;
    if (!found) {
      throw new OpenLineageIngestError(
        'UNAUTHORIZED',
        'unknown pipeline token',
        {},
        {
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        },
      );
    }
    return found;
  }

  function limit(pipeline: number, n: number): void {
    if (!limiter) return;
    const wait = limiter.take(`pipeline:${pipeline}`, now(), n);
    if (wait > 0) {
      throw new OpenLineageIngestError(
        'RATE_LIMITED',
        'too many events from this pipeline',
        { limit: limiter.options.max, windowMs: limiter.options.windowMs, retryAfterSeconds: wait },
        { headers: { 'retry-after': String(wait) } },
      );
    }
  }

  // One writer per chain in this process: each derive reads the head, then extends it.
  const chainQueues = new Map<string, Promise<unknown>>();
  function serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = chainQueues.get(key) ?? Promise.resolve();
    const run = before.then(task, task);
    const tail = run.catch(() => undefined);
    chainQueues.set(key, tail);
    void tail.then(() => {
      if (chainQueues.get(key) === tail) chainQueues.delete(key);
    });
    return run;
  }

  // A retried COMPLETE (same run, same output) answers the first event instead of a second.
  const recent = new Map<string, LedgerEventResult>();
  const remember = (key: string, v: LedgerEventResult) => {
    recent.set(key, v);
    if (recent.size > 10_000) recent.delete(recent.keys().next().value!);
  };

  async function record(mapping: PipelineMapping, bodies: DeriveBody[]): Promise<LedgerEventResult[]> {
    const { organization: emitter, stream } = mapping;
    const key = signerFor(emitter);
    return serial(`${emitter}/${stream}`, async () => {
      const out: LedgerEventResult[] = [];
      for (const body of bodies) {
        const runKey = `${emitter}/${stream}/${String(body.ext?.['cl:openlineageRunId'])}/${body.dataset.id}`;
        const seen = recent.get(runKey);
        if (seen) {
          out.push({ ...seen, duplicate: true });
          continue;
        }
        const head = await options.chainState(emitter, stream);
        const event = toDeriveEvent(body, {
          emitter,
          stream,
          seq: head.seq + 1,
          prev: head.prev,
          key: key.name,
        });
        const signed = signEvent(event, key);
        const [result] = await options.submit([signed.wire]);
        if (!result?.ok) {
          const error = result?.error ?? { code: 'INTERNAL', message: 'no result' };
          throw new OpenLineageIngestError(
            'LEDGER_REFUSED',
            `the ledger refused the derive event: ${error.message}`,
            {
              ledgerCode: error.code,
              ledgerDetails: error.details ?? {},
              dataset: body.dataset.id,
            },
            { status: statusOf(error.code) },
          );
        }
        const v = {
          eventHash: signed.hash,
          dataset: body.dataset,
          receipt: result.receipt,
          duplicate: result.duplicate,
        };
        remember(runKey, v);
        out.push(v);
      }
      return out;
    });
  }

  async function ingest(pipeline: (typeof pipelines)[number], value: unknown): Promise<Outcome> {
    const validated = validateOpenLineageEvent(value);
    if (validated.kind !== 'run') return { accepted: true, ledgerEvent: null, ledgerEvents: [] };
    const bodies = await openLineageToDerive(validated.event, {
      ...pipeline.mapping,
      latestEventOf: options.latestEventOf,
    });
    if (bodies.length === 0) return { accepted: true, ledgerEvent: null, ledgerEvents: [] };
    const ledgerEvents = await record(pipeline.mapping, bodies);
    return { accepted: true, ledgerEvent: ledgerEvents[0] ?? null, ledgerEvents };
  }

  function fail(reply: FastifyReply, request: FastifyRequest, e: OpenLineageIngestError) {
    request.log.info({ code: e.code }, e.message);
    for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    return reply.code(e.statusCode).send(errorBody(e));
  }

  r.post(
    '/api/v1/lineage',
    {
      schema: {
        summary:
          'OpenLineage: one event from a registered pipeline; a COMPLETE run becomes a gateway-attested derive',
        tags: ['openlineage'],
        body: z.unknown(),
        response: {
          200: outcomeShape,
          201: outcomeShape,
          202: outcomeShape,
          '4xx': errorShape,
          '5xx': errorShape,
        },
      },
    },
    async (request, reply) => {
      try {
        const pipeline = authenticate(request);
        limit(pipeline.id, 1);
        const outcome = await ingest(pipeline, request.body);
        const status =
          outcome.ledgerEvents.length === 0
            ? 202
            : outcome.ledgerEvents.every((x) => x.duplicate)
              ? 200
              : 201;
        return reply.code(status).send(outcome);
      } catch (e) {
        return fail(reply, request, toIngestError(e));
      }
    },
  );

  r.post(
    '/api/v1/lineage/batch',
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        summary: `OpenLineage: up to ${MAX_BATCH_EVENTS} events; answers per event (partial_success when some failed)`,
        tags: ['openlineage'],
        body: z.unknown(),
        response: { 200: batchShape, '4xx': errorShape, '5xx': errorShape },
      },
    },
    async (request, reply) => {
      try {
        const pipeline = authenticate(request);
        const items = request.body;
        if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH_EVENTS) {
          throw new OpenLineageIngestError(
            'RUN_EVENT_INVALID',
            `/: send an array of 1 to ${MAX_BATCH_EVENTS} OpenLineage events`,
            {
              issues: [{ path: '/', rule: `array of 1 to ${MAX_BATCH_EVENTS} events`, code: 'type' }],
            },
          );
        }
        limit(pipeline.id, items.length);
        const results: z.infer<typeof batchShape>['results'] = [];
        const failed: z.infer<typeof batchShape>['failed_events'] = [];
        let retriable = 0;
        // In order: a run's COMPLETE after its START, and each derive after the one before on the chain.
        for (const [index, item] of items.entries()) {
          try {
            results.push(await ingest(pipeline, item));
          } catch (e) {
            const err = toIngestError(e);
            const again = err.statusCode >= 500;
            if (again) retriable++;
            results.push({ index, ...errorBody(err) });
            failed.push({ index, reason: `${err.code}: ${err.message}`, retriable: again });
          }
        }
        return reply.code(200).send({
          status: failed.length === 0 ? 'success' : 'partial_success',
          summary: {
            received: items.length,
            successful: items.length - failed.length,
            failed: failed.length,
            retriable,
            non_retriable: failed.length - retriable,
          },
          failed_events: failed,
          results,
        });
      } catch (e) {
        return fail(reply, request, toIngestError(e));
      }
    },
  );
}
