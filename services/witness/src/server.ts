// The witness service: a thin HTTP shell (fastify) around @civic-ledger/witness. The
// protocol routes answer exactly as c2sp.org/tlog-witness says (the 200 and 409 bodies are
// the spec's text formats); every other failure answers `{ code, message, details }`.
// `buildWitnessApp` never listens (tests may inject); `startWitness` opens the state and listens.
import { randomUUID } from 'node:crypto';
import { toBase64 } from '@civic-ledger/crypto';
import {
  TREE_SIZE_CONTENT_TYPE,
  Witness,
  type Alarm,
  type KnownLog,
  type WitnessHooks,
} from '@civic-ledger/witness';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import type { WitnessServiceConfig } from './config.ts';
import { WitnessMetrics } from './metrics.ts';

/** Paths that keep answering while the service closes. */
const OPERATIONAL = new Set(['/healthz', '/readyz', '/metrics']);

/** Nothing secret reaches the logs, even if a serializer starts logging it. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.key',
  '*.privateKey',
  '*.privateKeyObject',
  'key',
];

type ErrorCode = 'NOT_FOUND' | 'SCHEMA_INVALID' | 'BODY_TOO_LARGE' | 'CLOSING' | 'INTERNAL';
const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  SCHEMA_INVALID: 400,
  BODY_TOO_LARGE: 413,
  CLOSING: 503,
  INTERNAL: 500,
};

class HttpError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

// ---- schemas: zod validates; the same schemas, as JSON Schema, document the API at /docs

const errorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
const checkpointEntry = z.object({
  origin: z.string(),
  size: z.number().int(),
  rootHash: z.string().describe('base64'),
  cosignedAt: z.number().int().describe('POSIX seconds of the cosignature'),
  note: z.string().describe('the signed checkpoint: log signature(s), then this witness’s cosignature'),
});
const alarmEntry = z.object({
  id: z.number().int(),
  kind: z.enum(['FORK', 'ROLLBACK', 'BAD_PROOF']),
  severity: z.enum(['critical', 'warning']),
  origin: z.string(),
  raisedAt: z.string(),
  message: z.string(),
  evidence: z.object({
    latest: z.object({ size: z.number().int(), rootHash: z.string(), note: z.string() }),
    submitted: z.object({ size: z.number().int(), rootHash: z.string(), note: z.string() }),
    oldSize: z.number().int(),
    proof: z.array(z.string()),
  }),
});
const originParams = z.object({ origin: z.string().min(1) });
const alarmsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A response that is not JSON: documented under its own content type. */
interface TextResponse {
  contentType: string;
  schema: z.ZodType;
  description: string;
}
type Schemas = {
  body?: z.ZodType;
  params?: z.ZodType;
  querystring?: z.ZodType;
  response?: Record<number, z.ZodType | TextResponse>;
};

const text = (contentType: string, description: string): TextResponse => ({
  contentType,
  schema: z.string(),
  description,
});

/** OpenAPI view of a route's zod schemas (requests as their input, responses as output). */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return json;
}

export interface WitnessAppDeps {
  witness: Witness;
  metrics?: WitnessMetrics;
}

export interface WitnessApp {
  app: FastifyInstance;
  witness: Witness;
  metrics: WitnessMetrics;
  /** Stops intake: every later request but /healthz, /readyz and /metrics gets 503 CLOSING. */
  beginClose(): void;
  readonly closing: boolean;
}

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
}

export async function buildWitnessApp(
  config: Pick<WitnessServiceConfig, 'bodyLimit' | 'logLevel'> & { logger?: FastifyServerOptions['logger'] },
  deps: WitnessAppDeps,
): Promise<WitnessApp> {
  const { witness } = deps;
  const metrics = deps.metrics ?? new WitnessMetrics();
  let closing = false;

  const app = Fastify({
    logger: config.logger ?? { level: config.logLevel, redact: REDACT_PATHS },
    genReqId: requestId,
    return503OnClosing: false,
    bodyLimit: config.bodyLimit,
  });

  // Schemas on routes are zod: validated here, turned into JSON Schema for the OpenAPI document.
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const r = (schema as z.ZodType).safeParse(data);
    return r.success ? { value: r.data } : { error: r.error as unknown as Error };
  });
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));

  // add-checkpoint bodies are text whatever their Content-Type (the spec names none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    let e: HttpError;
    const fe = error as { code?: unknown; statusCode?: unknown; message?: string; validation?: unknown };
    if (error instanceof HttpError) e = error;
    else if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new HttpError('BODY_TOO_LARGE', 'request body is too large');
    else if (error instanceof z.ZodError || fe.validation !== undefined || fe.code === 'FST_ERR_VALIDATION') {
      const issues = error instanceof z.ZodError ? error.issues : [];
      const first = issues[0];
      e = new HttpError(
        'SCHEMA_INVALID',
        first ? `${first.path.join('.') || '/'}: ${first.message}` : String(fe.message),
        {
          issues: issues.map((i) => ({ path: i.path.join('.'), rule: i.message })),
        },
      );
    } else if (typeof fe.statusCode === 'number' && fe.statusCode === 404)
      e = new HttpError('NOT_FOUND', String(fe.message));
    else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      e = new HttpError('SCHEMA_INVALID', String(fe.message));
    } else e = new HttpError('INTERNAL', 'internal error');
    if (STATUS[e.code] >= 500) request.log.error({ err: error }, 'request failed');
    if (e.code === 'CLOSING') void reply.header('retry-after', '1').header('connection', 'close');
    return reply.code(STATUS[e.code]).send({ code: e.code, message: e.message, details: e.details });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}`, details: {} }),
  );

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (closing && !OPERATIONAL.has(request.url.split('?')[0]!)) {
      throw new HttpError('CLOSING', 'the witness is shutting down; retry later');
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Civic Ledger witness',
        description:
          'A C2SP tlog-witness (c2sp.org/tlog-witness): cosigns checkpoints of the logs it knows, after checking ' +
          'their consistency with the latest checkpoint it cosigned; serves that checkpoint for monitors.',
        version: '0.1.0',
      },
    },
    transform: ({ schema, url }) => {
      const s = (schema ?? {}) as Schemas & Record<string, unknown>;
      const out: Record<string, unknown> = { ...s };
      for (const part of ['body', 'params', 'querystring'] as const) {
        const zs = s[part];
        if (zs instanceof z.ZodType) out[part] = toJsonSchema(zs, 'input');
      }
      if (s.response) {
        out.response = Object.fromEntries(
          Object.entries(s.response).map(([code, r]) => [
            code,
            r instanceof z.ZodType
              ? toJsonSchema(r, 'output')
              : {
                  description: r.description,
                  content: { [r.contentType]: { schema: toJsonSchema(r.schema, 'output') } },
                },
          ]),
        );
      }
      return { schema: out, url };
    },
  });

  const errors = { 400: errorBody, 404: errorBody, 503: errorBody };

  // ---- the protocol

  app.post(
    '/add-checkpoint',
    {
      schema: {
        summary: 'Cosign a checkpoint (c2sp.org/tlog-witness add-checkpoint)',
        description:
          'Body: "old <size>", the consistency proof (one base64 hash per line), an empty line, the signed checkpoint. ' +
          '200: the cosignature line(s). 409: the latest cosigned size (text/x.tlog.size) when the old size is not it, ' +
          'or when the same size has another root. 400 malformed or old size > size, 403 no valid log signature, ' +
          '404 unknown origin, 422 the consistency proof does not verify.',
        tags: ['protocol'],
        consumes: ['text/plain'],
        response: {
          200: text('text/plain', 'the cosignature line(s): "— <name> <base64>" and a newline each'),
          409: text(
            TREE_SIZE_CONTENT_TYPE,
            'the size of the latest checkpoint cosigned for the origin, and a newline',
          ),
          403: errorBody,
          413: errorBody,
          422: errorBody,
          ...errors,
        },
      } as Schemas,
    },
    async (request, reply) => {
      const started = performance.now();
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const r = await witness.addCheckpoint(body);
      metrics.observe((performance.now() - started) / 1000);
      if (r.ok) {
        metrics.cosigned(r.origin);
        request.log.info(
          { origin: r.origin, oldSize: r.oldSize, size: r.size, timestamp: r.timestamp },
          'cosigned',
        );
        return reply.code(200).type('text/plain; charset=utf-8').send(r.body);
      }
      metrics.refused(r.code);
      if (r.alarm) {
        metrics.alarm(r.alarm.kind);
        logAlarm(request.log, r.alarm);
      }
      request.log.info({ origin: r.origin, status: r.status, code: r.code }, r.message);
      void reply.header('x-witness-refusal', r.code);
      if (r.status === 409) {
        return reply
          .code(409)
          .type(TREE_SIZE_CONTENT_TYPE)
          .send(`${r.latestSize ?? 0}\n`);
      }
      return reply
        .code(r.status)
        .type('application/json; charset=utf-8')
        .send({
          code: r.code,
          message: r.message,
          details: r.origin === undefined ? {} : { origin: r.origin },
        });
    },
  );

  // ---- for monitors: what this witness has cosigned

  app.get(
    '/checkpoint/:origin',
    {
      schema: {
        summary: 'The latest checkpoint cosigned for a log (origin URL-encoded), with its cosignature',
        tags: ['monitoring'],
        params: originParams,
        response: {
          200: text('text/plain', 'the signed note: log signature(s), then the cosignature'),
          ...errors,
        },
      } as Schemas,
    },
    async (request, reply) => {
      const { origin } = request.params as z.infer<typeof originParams>;
      const state = witness.latest(origin);
      if (state === undefined)
        throw new HttpError('NOT_FOUND', `no checkpoint cosigned for ${JSON.stringify(origin)}`, { origin });
      return reply.type('text/plain; charset=utf-8').send(state.note);
    },
  );

  app.get(
    '/checkpoints',
    {
      schema: {
        summary: 'The latest checkpoint cosigned for every log',
        tags: ['monitoring'],
        response: { 200: z.object({ checkpoints: z.array(checkpointEntry) }), ...errors },
      } as Schemas,
    },
    async () => ({
      checkpoints: witness.list().map((s) => ({
        origin: s.origin,
        size: s.size,
        rootHash: toBase64(s.rootHash),
        cosignedAt: s.cosignedAt,
        note: s.note,
      })),
    }),
  );

  app.get(
    '/alarms',
    {
      schema: {
        summary:
          'Alarms with their evidence (log-signed checkpoints that contradict the witness’s state), oldest first',
        tags: ['monitoring'],
        querystring: alarmsQuery,
        response: {
          200: z.object({ alarms: z.array(alarmEntry), next: z.number().int().nullable() }),
          ...errors,
        },
      } as Schemas,
    },
    async (request) => {
      const { after, limit } = request.query as z.infer<typeof alarmsQuery>;
      const page = witness.alarms({ after, limit: limit + 1 });
      const alarms = page.slice(0, limit);
      return { alarms, next: page.length > limit ? alarms[alarms.length - 1]!.id : null };
    },
  );

  app.get(
    '/info',
    {
      schema: {
        summary: 'This witness: its cosigner name, verifier key (type 0x04, for policy files) and logs',
        tags: ['monitoring'],
        response: {
          200: z.object({
            name: z.string(),
            verifierKey: z.string(),
            logs: z.array(z.object({ origin: z.string(), verifierKeys: z.array(z.string()) })),
          }),
        },
      } as Schemas,
    },
    async () => ({ name: witness.name, verifierKey: witness.verifierKey, logs: witness.logs }),
  );

  // ---- operations

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Alive',
        tags: ['operations'],
        response: { 200: z.object({ status: z.literal('ok') }) },
      } as Schemas,
    },
    async () => ({ status: 'ok' as const }),
  );

  const ready = z.object({ status: z.string() });
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready (the database answers); 503 while closing',
        tags: ['operations'],
        response: { 200: ready, 503: ready },
      } as Schemas,
    },
    async (request, reply) => {
      if (closing) return reply.code(503).send({ status: 'closing' });
      try {
        witness.store.ping();
        return { status: 'ready' };
      } catch (e) {
        request.log.warn({ err: e }, 'database unreachable');
        return reply.code(503).send({ status: 'store-unavailable' });
      }
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        response: { 200: text('text/plain', 'Prometheus text format 0.0.4') },
      } as Schemas,
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(
        metrics.render({
          states: witness.store.closed ? [] : witness.list(),
          alarmsRecorded: witness.store.closed
            ? { FORK: 0, ROLLBACK: 0, BAD_PROOF: 0 }
            : witness.store.alarmCounts(),
          closing,
        }),
      ),
  );

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(docsPage(app)),
  );

  return {
    app,
    witness,
    metrics,
    beginClose() {
      closing = true;
    },
    get closing() {
      return closing;
    },
  };
}

/** An alarm is the one thing an operator must not miss: logged at error level with its evidence. */
function logAlarm(log: FastifyInstance['log'], alarm: Alarm): void {
  log.error({ alarm }, `ALARM ${alarm.kind} (${alarm.severity}) for ${alarm.origin}: ${alarm.message}`);
}

function escapeHtml(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

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
<html lang="en"><head><meta charset="utf-8"><title>Civic Ledger witness</title></head>
<body><h1>Civic Ledger witness</h1>
<p>OpenAPI document: <a href="/docs/json">/docs/json</a></p>
<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}

export interface StartWitnessOptions {
  /** A complete fastify logger option (tests: false). */
  logger?: FastifyServerOptions['logger'];
  /** Clock in ms (tests). */
  now?: () => number;
  /** Called once per new alarm, after it is persisted and logged. */
  onAlarm?: (alarm: Alarm) => void;
  /** Test hooks of the witness core. */
  hooks?: WitnessHooks;
}

export interface RunningWitness extends WitnessApp {
  /** The address it listens on, e.g. http://127.0.0.1:8084 (the submission prefix). */
  url: string;
  close(): Promise<void>;
}

/** The config startWitness needs (loadWitnessConfig gives it from the environment). */
export type StartWitnessConfig = Pick<WitnessServiceConfig, 'key' | 'dbPath'> &
  Partial<
    Pick<WitnessServiceConfig, 'host' | 'port' | 'logLevel' | 'bodyLimit' | 'shutdownTimeoutMs' | 'name'>
  > & {
    logs: readonly KnownLog[];
  };

/**
 * Opens the state, builds the app and listens (port 0: any free port). close() stops intake
 * (503), drains in-flight requests (cutting them after shutdownTimeoutMs), then closes the
 * database.
 */
export async function startWitness(
  config: StartWitnessConfig,
  options: StartWitnessOptions = {},
): Promise<RunningWitness> {
  let built: WitnessApp | undefined;
  const witness = Witness.open({
    key: config.key,
    ...(config.name === undefined ? {} : { name: config.name }),
    logs: config.logs,
    store: config.dbPath,
    ...(options.now ? { now: options.now } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    maxRequestBytes: config.bodyLimit ?? 64 * 1024,
    onAlarm: (alarm) => options.onAlarm?.(alarm),
  });
  try {
    built = await buildWitnessApp(
      {
        bodyLimit: config.bodyLimit ?? 64 * 1024,
        logLevel: config.logLevel ?? 'info',
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      { witness },
    );
    const { app } = built;
    const url = await app.listen({ host: config.host ?? '127.0.0.1', port: config.port ?? 0 });
    app.log.info(
      {
        name: witness.name,
        verifierKey: witness.verifierKey,
        origins: witness.logs.map((l) => l.origin),
        url,
      },
      'witness listening',
    );
    const running = built;
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        running.beginClose();
        const timer = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs ?? 10_000);
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
          witness.close();
        }
      })());
    return Object.assign(running, { url, close });
  } catch (e) {
    await built?.app.close().catch(() => undefined);
    witness.close();
    throw e;
  }
}
