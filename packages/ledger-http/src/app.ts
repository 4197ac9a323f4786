// The standalone service's HTTP API: a fastify app around the ledger core. `buildApp` never
// listens (tests use inject); `server.ts` opens the store and ledger and listens.
import { randomUUID } from 'node:crypto';
import { CanonicalJsonError, parseJson } from '@civic-ledger/canonical-json';
import { chainKey } from '@civic-ledger/chain';
import { toBase64, toHex, type SigningKey } from '@civic-ledger/crypto';
import { LedgerError, type SubmitOptions, type SubmitResult } from '@civic-ledger/ledger-core';
import { hashLeaf, MerkleError } from '@civic-ledger/merkle';
import { parseCheckpoint, parseNote } from '@civic-ledger/signed-note';
import type { LeafRecord, LedgerStore } from '@civic-ledger/storage';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import { Metrics } from './metrics.ts';
import { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
import { ReceiptSigner, type SignedReceipt } from '@civic-ledger/receipts';
import * as s from './schemas.ts';
import { registerNotifications } from './notifications.ts';
import type { Bus } from '@civic-ledger/bus';
import { BEARER_SECURITY_SCHEME, installAccessControl, type AccessOptions } from './access.ts';

export interface AppConfig {
  /** Log identity: the checkpoint origin line, also named in receipts. */
  origin: string;
  /** The read API only (the query service): no submission routes, no log key needed. */
  readOnly?: boolean;
  /** Entries, checkpoints, proofs and chain heads (default true; the ingest service has none). */
  readRoutes?: boolean;
  /** OpenAPI title (default "Civic Ledger standalone service"). */
  title?: string;
  /** The checkpoint policy's maxDelayMs: receipts promise a checkpoint within it. */
  checkpointWithinMs: number;
  /** Largest single-event request body (default 96 KiB). */
  bodyLimit?: number;
  /** Largest batch request body (default 8 MiB). */
  batchBodyLimit?: number;
  /** Requests per window and client address on /v1 (default 6000 per minute); null: off. */
  clientRateLimit?: RateLimitOptions | null;
  /** Events per window and emitter key on the submission routes (default 6000 per minute); null: off. */
  keyRateLimit?: RateLimitOptions | null;
  /** Pino level (default info); or a complete fastify logger option (tests). */
  logLevel?: string;
  logger?: FastifyServerOptions['logger'];
}

/**
 * What the routes need of the log: the ledger core itself (standalone), or a read-only view
 * of a store another process writes (the query service, see StoreLogView).
 */
export interface LogAccess {
  /** Size of the committed log as this process knows it. */
  readonly size: number;
  /** Accepts submissions (holds the writer lease). */
  readonly writable: boolean;
  submit(items: readonly unknown[], options?: SubmitOptions): Promise<SubmitResult[]>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(size1: number, size2: number): Promise<Uint8Array[]>;
  /** The checkpoint of the current size (signed now if the writer can). */
  checkpointNow(): Promise<{ size: number; note: string }>;
  /**
   * Reads the size again when another process writes the log (StoreLogView): a route asked
   * about entries beyond the size it knows calls it first, so what the store's chain heads
   * and lookups already show is never answered as missing.
   */
  refresh?(): Promise<number>;
}

/** The app with the zod type provider, as routes are registered on it. */
export type ZodRouter = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What a service's own submission routes get to share the API's limits and counters. */
export interface SubmissionTools {
  /** Counts each event against the emitter key it names; throws RATE_LIMITED. */
  limitKeys(items: readonly unknown[]): void;
  metrics: Metrics;
}

export interface AppDeps {
  /** The log (needed for the read routes and the ledger's own submission routes). */
  ledger?: LogAccess;
  store?: LedgerStore;
  /** Replaces the ledger's submission routes (the ingest service publishes to a bus instead). */
  registerSubmissions?: (r: ZodRouter, tools: SubmissionTools) => void;
  /** Replaces the readiness check: which dependencies answer. */
  ready?: () => Promise<{
    ok: boolean;
    status: string;
    size?: number;
    dependencies?: Record<string, string>;
  }>;
  /** The log key: signs receipts (the ledger signs checkpoints with the same key). Unused when read-only. */
  logKey?: SigningKey;
  /** Clock for rate limits (tests). */
  now?: () => number;
  /** Where the ledger's appended entries and checkpoints are published: enables /v1/notifications. */
  bus?: Bus;
  /** Their subjects on that bus (default SUBJECTS). */
  subjects?: { appended: string; checkpoint: string };
  /** More routes (the lineage API), registered after the read routes under the same error contract and limits. */
  registerExtra?: (r: ZodRouter) => void;
  /**
   * Read access control (off when absent): bearer tokens for non-public routes, the access
   * log of every non-public read, GET /v1/access-log. See access.ts and the README.
   */
  access?: AccessOptions;
}

export interface StandaloneApp {
  app: FastifyInstance;
  /** Stops intake: every later request but /healthz, /readyz and /metrics gets 503 CLOSING. */
  beginClose(): void;
  readonly closing: boolean;
  metrics: Metrics;
}

/** Paths that keep answering while the service closes. */
const OPERATIONAL = new Set(['/healthz', '/readyz', '/metrics']);

/** Log redaction: nothing secret reaches the logs even if a serializer starts logging it. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  '*.privateKey',
  '*.privateKeyObject',
  '*.signingKey',
  '*.logKey',
  'logKey',
];

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof LedgerError) return new ApiError(error.code, error.message, error.details);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'body';
    const issues = error.validation.map((v) => ({
      path: v.instancePath === '' ? '/' : v.instancePath,
      rule: v.message ?? v.keyword,
      code: v.keyword,
    }));
    const first = issues[0]!;
    return new ApiError('SCHEMA_INVALID', `${where} ${first.path}: ${first.rule}`, { in: where, issues });
  }
  const fe = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('BODY_TOO_LARGE', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('INVALID_JSON', 'the request body is empty');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', String(fe.message));
  }
  return new ApiError('INTERNAL', 'internal error', {}, { cause: error });
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`buildApp: this configuration needs deps.${what}`);
  return value;
}

export function errorBody(e: LedgerError | ApiError) {
  return { code: e.code, message: e.message, details: e.details };
}

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
}

export async function buildApp(config: AppConfig, deps: AppDeps): Promise<StandaloneApp> {
  const { logKey } = deps;
  const now = deps.now ?? Date.now;
  const metrics = new Metrics();
  const minute = { max: 6000, windowMs: 60_000 };
  const clientLimit =
    config.clientRateLimit === null ? undefined : new RateLimiter(config.clientRateLimit ?? minute);
  const keyLimit = config.keyRateLimit === null ? undefined : new RateLimiter(config.keyRateLimit ?? minute);
  let closing = false;

  const app = Fastify({
    logger: config.logger ?? { level: config.logLevel ?? 'info', redact: REDACT_PATHS },
    genReqId: requestId,
    // Our onRequest hook answers 503 CLOSING in the error contract's shape instead.
    return503OnClosing: false,
    bodyLimit: config.bodyLimit ?? 96 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON only, parsed strictly: duplicate member names, lone surrogates and out-of-range
  // numbers are refused (INVALID_JSON); any other media type is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as Buffer));
    } catch (e) {
      if (!(e instanceof CanonicalJsonError)) return done(e as Error, undefined);
      const at = typeof e.at === 'number' ? { offset: e.at } : {};
      done(
        new ApiError('INVALID_JSON', `request body is not acceptable JSON: ${e.message}`, {
          issues: [{ path: '/', rule: e.message, code: e.code }],
          ...at,
        }),
        undefined,
      );
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const e = toApiError(error);
    // Ledger refusals are counted where they are answered; this counts the HTTP-level ones.
    if (
      request.method === 'POST' &&
      request.url.startsWith('/v1/events') &&
      !(error instanceof LedgerError)
    ) {
      metrics.refused(e.code);
    }
    if (
      (e.code === 'OVERLOADED' || e.code === 'CLOSING' || e.code === 'BROKER_UNAVAILABLE') &&
      e.headers['retry-after'] === undefined
    ) {
      void reply.header('retry-after', '1');
    }
    if (e.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: e.code }, e.message);
    for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    return reply.code(e.statusCode).send(errorBody(e));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}`, details: {} }),
  );

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const path = request.url.split('?')[0]!;
    if (closing && !OPERATIONAL.has(path)) {
      void reply.header('connection', 'close');
      throw new ApiError('CLOSING', 'the service is shutting down; retry on another instance or later');
    }
    if (clientLimit && path.startsWith('/v1/')) {
      const wait = clientLimit.take(request.ip, now());
      if (wait > 0) {
        throw new ApiError(
          'RATE_LIMITED',
          `too many requests from ${request.ip}`,
          { limit: clientLimit.options.max, windowMs: clientLimit.options.windowMs, retryAfterSeconds: wait },
          { headers: { 'retry-after': String(wait) } },
        );
      }
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  // Before any route, so the classification check sees every one of them.
  const access = deps.access ? installAccessControl(app, deps.access) : undefined;

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: config.title ?? 'Civic Ledger standalone service',
        description: 'Submit signed events; read entries, signed checkpoints and Merkle proofs.',
        version: '0.1.0',
      },
      ...(access ? { components: { securitySchemes: { bearerAuth: BEARER_SECURITY_SCHEME } } } : {}),
    },
    transform: access
      ? (doc) => {
          const out = jsonSchemaTransform(doc);
          return { ...out, schema: access.secureOperation(doc.route, out.schema as Record<string, unknown>) };
        }
      : jsonSchemaTransform,
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const logInfo = { origin: config.origin, checkpointWithinMs: config.checkpointWithinMs };
  // Receipts of a batch are signed on worker threads (started with the first batch).
  const receiptSigner = logKey ? new ReceiptSigner(logKey, logInfo) : undefined;
  if (receiptSigner) app.addHook('onClose', () => receiptSigner.close());
  const signer = (): ReceiptSigner => {
    if (!receiptSigner) throw new ApiError('INTERNAL', 'this service signs no receipts');
    return receiptSigner;
  };
  const sign = (receipt: Parameters<ReceiptSigner['sign']>[0]): SignedReceipt => signer().sign(receipt);

  function count(results: SubmitResult[]): void {
    for (const x of results) {
      if (!x.ok) metrics.refused(x.error.code);
      else if (x.duplicate) metrics.duplicates++;
      else metrics.accepted++;
    }
  }

  /** Per-emitter-key limit: counts each event against the key it names. */
  function limitKeys(items: readonly unknown[]): void {
    if (!keyLimit) return;
    const perKey = new Map<string, number>();
    for (const item of items) {
      const key = (item as { event?: { key?: unknown } } | null)?.event?.key;
      if (typeof key === 'string') perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    for (const [key, n] of perKey) {
      const wait = keyLimit.take(`key:${key}`, now(), n);
      if (wait > 0) {
        throw new ApiError(
          'RATE_LIMITED',
          `too many events signed with key ${key}`,
          { key, limit: keyLimit.options.max, windowMs: keyLimit.options.windowMs, retryAfterSeconds: wait },
          { headers: { 'retry-after': String(wait) } },
        );
      }
    }
  }

  function entryOf(l: LeafRecord) {
    return {
      index: l.index,
      leaf: Buffer.from(l.leaf.buffer, l.leaf.byteOffset, l.leaf.byteLength).toString('utf8'),
      eventHash: l.eventHash,
      leafHash: toHex(hashLeaf(l.leaf)),
    };
  }

  // ---- submissions (the ledger's own, or the caller's: the ingest service answers 202)

  // The submit routes answer with what the handler built from the ledger's results (typed
  // by the response schema, which still documents them): checking it again with zod on the
  // way out cost ~2 % of ingest CPU. Other routes keep the checking serializer.
  const plainJson = () => (data: unknown) => JSON.stringify(data);

  if (deps.registerSubmissions) deps.registerSubmissions(r, { limitKeys, metrics });
  else if (!config.readOnly) {
    const ledger = need(deps.ledger, 'ledger');

    r.post(
      '/v1/events',
      {
        serializerCompiler: plainJson,
        schema: {
          summary: 'Submit one signed event',
          tags: ['submit'],
          body: s.submitBody,
          response: { 200: s.submitResponse, 201: s.submitResponse, ...s.errorResponses },
        },
      },
      async (request, reply) => {
        limitKeys([request.body]);
        const results = await ledger.submit([request.body]);
        count(results);
        const result = results[0]!;
        if (!result.ok) throw result.error;
        return reply
          .code(result.duplicate ? 200 : 201)
          .send({ receipt: sign(result.receipt), duplicate: result.duplicate });
      },
    );

    r.post(
      '/v1/events/batch',
      {
        bodyLimit: config.batchBodyLimit ?? 8 * 1024 * 1024,
        serializerCompiler: plainJson,
        schema: {
          summary: `Submit up to ${s.MAX_BATCH_EVENTS} signed events; each gets a receipt or an error`,
          tags: ['submit'],
          body: s.batchBody,
          response: { 200: s.batchResponse, ...s.errorResponses },
        },
      },
      async (request) => {
        limitKeys(request.body.events);
        const results = await ledger.submit(request.body.events, { atomic: request.body.atomic ?? false });
        count(results);
        const receipts = await signer().signAll(results.flatMap((x) => (x.ok ? [x.receipt] : [])));
        let next = 0;
        return {
          results: results.map((x) =>
            x.ok
              ? { ok: true as const, receipt: receipts[next++]!, duplicate: x.duplicate }
              : { ok: false as const, error: errorBody(x.error) },
          ),
        };
      },
    );
  }

  // ---- entries, checkpoints, proofs, chain heads

  if (config.readRoutes !== false) {
    const ledger = need(deps.ledger, 'ledger');
    const store = need(deps.store, 'store');
    /** The size, read again first when `wanted` lies beyond what this process knows. */
    const sizeFor = async (wanted: number): Promise<number> =>
      wanted > ledger.size && ledger.refresh ? ledger.refresh() : ledger.size;

    r.get(
      '/v1/events/:hash',
      {
        schema: {
          summary: 'The log entry of an event, by event hash',
          tags: ['entries'],
          params: s.hashParams,
          response: { 200: s.entry, ...s.errorResponses },
        },
      },
      async (request) => {
        const [leaf] = await store.getLeavesByEventHash([request.params.hash]);
        if (!leaf) throw new ApiError('NOT_FOUND', `event ${request.params.hash} is not in the log`);
        return entryOf(leaf);
      },
    );

    r.get(
      '/v1/entries/:index',
      {
        schema: {
          summary: 'The log entry at a ledger index',
          tags: ['entries'],
          params: s.indexParams,
          response: { 200: s.entry, ...s.errorResponses },
        },
      },
      async (request) => {
        const { index } = request.params;
        await sizeFor(index + 1);
        const [leaf] = await store.getLeaves(index, index + 1);
        if (!leaf) throw new ApiError('NOT_FOUND', `no entry at index ${index}`, { size: ledger.size });
        return entryOf(leaf);
      },
    );

    r.get(
      '/v1/entries',
      {
        schema: {
          summary: 'Entries in index order, paged',
          tags: ['entries'],
          querystring: s.entriesQuery,
          response: { 200: s.entryPage, ...s.errorResponses },
        },
      },
      async (request) => {
        const { from, limit } = request.query;
        const size = await sizeFor(from + limit);
        const leaves = from >= size ? [] : await store.getLeaves(from, Math.min(size, from + limit));
        const end = from + leaves.length;
        return { from, size, entries: leaves.map(entryOf), next: end < size ? end : null };
      },
    );

    // ---- checkpoints

    async function latestNote(): Promise<string> {
      const latest = await store.latestCheckpoint();
      return latest?.note ?? (await ledger.checkpointNow()).note;
    }

    r.get(
      '/v1/checkpoint',
      {
        schema: {
          summary: 'The latest signed checkpoint (C2SP tlog-checkpoint signed note)',
          tags: ['checkpoints'],
          produces: ['text/plain'],
          response: { 200: s.noteText, ...s.errorResponses },
        },
      },
      async (_request, reply) => reply.type('text/plain; charset=utf-8').send(await latestNote()),
    );

    r.get(
      '/v1/checkpoint.json',
      {
        schema: {
          summary: 'The latest signed checkpoint, parsed, with its note',
          tags: ['checkpoints'],
          response: { 200: s.checkpointJson, ...s.errorResponses },
        },
      },
      async () => {
        const note = await latestNote();
        const cp = parseCheckpoint(parseNote(note).text);
        return { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash), note };
      },
    );

    r.get(
      '/v1/checkpoints/:size',
      {
        schema: {
          summary: 'The signed checkpoint of a tree size, if the log signed one',
          tags: ['checkpoints'],
          params: s.sizeParams,
          produces: ['text/plain'],
          response: { 200: s.noteText, ...s.errorResponses },
        },
      },
      async (request, reply) => {
        const cp = await store.getCheckpoint(request.params.size);
        if (!cp) throw new ApiError('NOT_FOUND', `no checkpoint of size ${request.params.size}`);
        return reply.type('text/plain; charset=utf-8').send(cp.note);
      },
    );

    r.get(
      '/v1/checkpoints',
      {
        schema: {
          summary: 'Signed checkpoints ascending by tree size, paged',
          tags: ['checkpoints'],
          querystring: s.checkpointsQuery,
          response: { 200: s.checkpointPage, ...s.errorResponses },
        },
      },
      async (request) => {
        const { from, limit } = request.query;
        const last = (await store.latestCheckpoint())?.size ?? -1;
        // The store keeps one checkpoint per size, so a window of w sizes holds at most w rows:
        // each query is bounded; windows widen (up to 64 Ki sizes) while the log signs sparsely.
        const found: { size: number; note: string }[] = [];
        let width = Math.max(limit + 1, 1024);
        for (let lo = from; lo <= last && found.length <= limit;) {
          const hi = Math.min(last, lo + width - 1);
          for (const c of await store.listCheckpoints(lo, hi)) {
            if (found.length > limit) break;
            found.push({ size: c.size, note: c.note });
          }
          lo = hi + 1;
          width = Math.min(width * 2, 65_536);
        }
        return {
          checkpoints: found.slice(0, limit),
          next: found.length > limit ? found[limit]!.size : null,
        };
      },
    );

    // ---- proofs

    function proofError(e: unknown): never {
      if (e instanceof MerkleError) throw new ApiError('BAD_REQUEST', e.message, { merkle: e.code });
      throw e;
    }

    r.get(
      '/v1/proofs/inclusion',
      {
        schema: {
          summary: 'Inclusion proof of an entry (by event hash or index) in a tree size',
          tags: ['proofs'],
          querystring: s.inclusionQuery,
          response: { 200: s.inclusionResponse, ...s.errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        if ((q.hash === undefined) === (q.index === undefined)) {
          throw new ApiError('BAD_REQUEST', 'give exactly one of hash or index', { in: 'querystring' });
        }
        if (q.index !== undefined) await sizeFor(q.index + 1);
        let size = q.size ?? ledger.size;
        if (size > (await sizeFor(size))) {
          throw new ApiError('BAD_REQUEST', `size ${size} is beyond the tree size ${ledger.size}`, {
            size,
            treeSize: ledger.size,
          });
        }
        const [leaf] =
          q.hash !== undefined
            ? await store.getLeavesByEventHash([q.hash])
            : await store.getLeaves(q.index!, q.index! + 1);
        if (!leaf) throw new ApiError('NOT_FOUND', 'no such entry');
        // Found by hash in the store: the default size is at least the tree that holds it.
        if (q.size === undefined && leaf.index >= size) size = Math.max(size, await sizeFor(leaf.index + 1));
        if (leaf.index >= size) {
          throw new ApiError('BAD_REQUEST', `entry ${leaf.index} is not in a tree of size ${size}`, {
            index: leaf.index,
            size,
          });
        }
        const proof = await ledger.inclusionProof(leaf.index, size).catch(proofError);
        return { index: leaf.index, size, leafHash: toHex(hashLeaf(leaf.leaf)), hashes: proof.map(toBase64) };
      },
    );

    r.get(
      '/v1/proofs/consistency',
      {
        schema: {
          summary: 'Consistency proof between two tree sizes',
          tags: ['proofs'],
          querystring: s.consistencyQuery,
          response: { 200: s.consistencyResponse, ...s.errorResponses },
        },
      },
      async (request) => {
        const from = request.query.from;
        const to = request.query.to ?? ledger.size;
        if (from < 1 || from > to || to > (await sizeFor(to))) {
          throw new ApiError('BAD_REQUEST', `need 0 < from <= to <= ${ledger.size}`, {
            from,
            to,
            treeSize: ledger.size,
          });
        }
        const proof = await ledger.consistencyProof(from, to).catch(proofError);
        return { from, to, hashes: proof.map(toBase64) };
      },
    );

    // ---- chains

    r.get(
      '/v1/chains/:emitter/:stream/head',
      {
        schema: {
          summary: "The last event of an emitter's stream",
          tags: ['chains'],
          params: s.chainParams,
          response: { 200: s.chainHead, ...s.errorResponses },
        },
      },
      async (request) => {
        const { emitter, stream } = request.params;
        const head = await store.getChainHead(chainKey(emitter, stream));
        if (!head) throw new ApiError('NOT_FOUND', `chain ${emitter}/${stream} has no events`);
        return { emitter, stream, seq: head.seq, eventHash: head.eventHash, index: head.index };
      },
    );
  }

  if (deps.registerExtra) deps.registerExtra(r);
  access?.registerRoutes();

  // ---- operations

  r.get(
    '/healthz',
    { schema: { summary: 'Alive', tags: ['operations'], response: { 200: s.health } } },
    async () => ({ status: 'ok' }),
  );

  r.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready to accept events (503 while closing or when not the log writer)',
        tags: ['operations'],
        response: { 200: s.ready, 503: s.ready },
      },
    },
    async (_request, reply) => {
      if (closing) return reply.code(503).send({ status: 'closing' });
      if (deps.ready) {
        const { ok, ...state } = await deps.ready();
        return reply.code(ok ? 200 : 503).send(state);
      }
      if (!config.readOnly && !deps.ledger?.writable) return reply.code(503).send({ status: 'not-writer' });
      try {
        const head = await need(deps.store, 'store').head();
        return { status: 'ready', size: head.size };
      } catch (e) {
        _request.log.warn({ err: e }, 'store unreachable');
        return reply.code(503).send({ status: 'store-unavailable' });
      }
    },
  );

  r.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        produces: ['text/plain'],
        response: { 200: z.string() },
      },
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(
        metrics.render({
          treeSize: deps.ledger?.size ?? 0,
          writable: !config.readOnly && (deps.ledger?.writable ?? false) && !closing,
        }),
      ),
  );

  // Live notifications end when the service begins to close, so draining never waits on them.
  const endStreams = deps.bus
    ? registerNotifications(app, { bus: deps.bus, ...(deps.subjects ? { subjects: deps.subjects } : {}) })
    : () => undefined;

  r.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  r.get('/docs', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(docsPage(app)),
  );

  return {
    app,
    beginClose() {
      closing = true;
      endStreams();
    },
    get closing() {
      return closing;
    },
    metrics,
  };
}

function escapeHtml(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A minimal page: every operation of the OpenAPI document, and a link to it. */
function docsPage(app: FastifyInstance): string {
  const doc = app.swagger() as { paths?: Record<string, Record<string, { summary?: string }>> };
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td></tr>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Civic Ledger API</title></head>
<body><h1>Civic Ledger API</h1>
<p>OpenAPI document: <a href="/docs/json">/docs/json</a></p>
<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}
