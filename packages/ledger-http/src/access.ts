// Read access control, an optional part of buildApp (deps.access): every route is classified
// in ROUTE_ACCESS (a route without a row stops the app from starting while access control is
// on), non-public routes need a bearer token whose scope covers theirs, and every request
// made with a valid token to a non-public route is written to the access log before its
// response is sent (a log failure answers 500, never an unlogged read). Submissions keep
// their own authentication (signed events) and are never gated by tokens.
import {
  AccessError,
  accessLogRecordSchema,
  MAX_ACCESS_LOG_PAGE,
  redactUrl,
  scopeCovers,
  type AccessGrant,
  type AccessLogSink,
  type Scope,
  type TokenCheck,
} from '@civic-ledger/access';
import { OPERATOR_ORG } from '@civic-ledger/schemas';
import type { LedgerStore } from '@civic-ledger/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import { errorResponses } from './schemas.ts';

/** Who may call a route: a read scope, or `submission` (signed events; no token). */
export type RouteAccess = Scope | 'submission';

/**
 * Every route of the API, `METHOD /pattern` (HEAD follows GET), and its access. Includes the
 * routes the standalone service adds (lineage, OpenLineage ingest); services with routes of
 * their own classify them in deps.access.routes.
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  // Submissions: authenticated by the event signatures (OpenLineage ingest: its pipeline tokens).
  'POST /v1/events': 'submission',
  'POST /v1/events/batch': 'submission',
  'POST /api/v1/lineage': 'submission',
  'POST /api/v1/lineage/batch': 'submission',
  // Public: what anyone needs to check the log, and aggregated views.
  'GET /v1/checkpoint': 'public',
  'GET /v1/checkpoint.json': 'public',
  'GET /v1/checkpoints': 'public',
  'GET /v1/checkpoints/:size': 'public',
  // Which witnesses cosigned the latest checkpoint (standalone, query): cosignatures are public.
  'GET /v1/checkpoints/latest/witnesses': 'public',
  'GET /v1/proofs/inclusion': 'public',
  'GET /v1/proofs/consistency': 'public',
  // Emitters resume their chains from it; it shows a count and a hash, no event content.
  'GET /v1/chains/:emitter/:stream/head': 'public',
  'GET /v1/lineage/flows': 'public',
  'GET /v1/lineage/footprint': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /docs': 'public',
  'GET /docs/json': 'public',
  // Auditor: events themselves (entries hold the event) and event-level lineage.
  'GET /v1/events/:hash': 'auditor',
  'GET /v1/entries': 'auditor',
  'GET /v1/entries/:index': 'auditor',
  'GET /v1/notifications': 'auditor',
  'GET /v1/lineage/trace': 'auditor',
  'GET /v1/lineage/export': 'auditor',
  'GET /v1/lineage/bundle': 'auditor',
  'GET /api/v1/lineage': 'auditor',
  // Oversight: who read what.
  'GET /v1/access-log': 'oversight',
};

/** What buildApp needs to turn access control on (openAccessControl from @civic-ledger/access gives it). */
export interface AccessOptions {
  verifier: TokenCheck;
  log: AccessLogSink;
  /** More routes and their access (a service's own routes); they override ROUTE_ACCESS. */
  routes?: Readonly<Record<string, RouteAccess>>;
}

function routeKey(method: string, url: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${url}`;
}

/** The access of a route, or undefined when it is not classified. */
export function routeAccessOf(
  method: string,
  url: string,
  extra: Readonly<Record<string, RouteAccess>> = {},
): RouteAccess | undefined {
  const key = routeKey(method, url);
  if (Object.hasOwn(extra, key)) return extra[key];
  return Object.hasOwn(ROUTE_ACCESS, key) ? ROUTE_ACCESS[key] : undefined;
}

/** Registry lookup for TokenVerifier: an organization's role in the store's registry now. */
export function storeOrgRole(
  store: Pick<LedgerStore, 'getRegistry'>,
): (org: string) => Promise<string | undefined> {
  return async (org) => {
    if (org === OPERATOR_ORG) return 'operator';
    const record = (await store.getRegistry(org)).find((r) => r.kind === 'organization' && r.id === org);
    if (!record) return undefined;
    const role = (JSON.parse(record.data) as { role?: unknown }).role;
    return typeof role === 'string' ? role : 'agency';
  };
}

const REALM = 'realm="civic-ledger"';
/** A header parameter value: no quotes or backslashes (RFC 6750 §3). */
const quoted = (t: string) => `"${t.replace(/["\\]/g, "'").slice(0, 200)}"`;

/** The token of an `Authorization: Bearer <token>` header; throws TOKEN_REQUIRED / TOKEN_INVALID. */
function bearerToken(header: string | undefined, needed: Scope): string {
  const m = header === undefined ? null : /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
  if (!m) {
    throw new ApiError(
      'TOKEN_REQUIRED',
      `this route needs a bearer token with scope ${needed}`,
      { scope: needed },
      { headers: { 'www-authenticate': `Bearer ${REALM}, scope="${needed}"` } },
    );
  }
  const token = m[1]?.trim() ?? '';
  if (!/^[A-Za-z0-9_.~+/=-]+$/.test(token)) {
    throw new ApiError(
      'TOKEN_INVALID',
      'the Authorization header is not "Bearer <token>"',
      { reason: 'malformed' },
      { headers: { 'www-authenticate': `Bearer ${REALM}, error="invalid_request"` } },
    );
  }
  return token;
}

interface RequestAccess {
  grant: AccessGrant;
  logged: boolean;
}

export const accessLogQuery = z.object({
  after: z.coerce.number().int().nonnegative().default(0).describe('Records after this seq'),
  limit: z.coerce.number().int().min(1).max(MAX_ACCESS_LOG_PAGE).default(100),
});
export const accessLogPage = z.object({
  records: z
    .array(
      accessLogRecordSchema.extend({ hash: z.string().describe("SHA-256 of the record's canonical JSON") }),
    )
    .describe('Records in seq order; each `prev` is the hash of the one before'),
  next: z.number().int().nonnegative().nullable().describe('`after` of the next page, null at the end'),
  head: z
    .object({ size: z.number().int().nonnegative(), hash: z.string() })
    .describe('The whole log when read: save it to catch a truncated or rewritten log later'),
});

/**
 * Installs access control on `app`: call before any route is registered (the classification
 * check sees every route). Returns a swagger transform hook and the route registration.
 */
export function installAccessControl(
  app: FastifyInstance,
  options: AccessOptions,
): {
  /** Adds `security` and the scope to a route's OpenAPI operation. */
  secureOperation(route: RouteOptions | undefined, schema: Record<string, unknown>): Record<string, unknown>;
  registerRoutes(): void;
} {
  const extra = options.routes ?? {};
  const state = new WeakMap<FastifyRequest, RequestAccess>();

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (routeAccessOf(method, route.url, extra) === undefined) {
        throw new Error(
          `route ${routeKey(method, route.url)} has no access scope: classify it in ROUTE_ACCESS ` +
            '(@civic-ledger/ledger-http) or in deps.access.routes',
        );
      }
    }
  });

  /** Writes the record of this request once; ACCESS_LOG_FAILED (500) when the log cannot take it. */
  function logOnce(request: FastifyRequest, status: number): void {
    const s = state.get(request);
    if (!s || s.logged) return;
    s.logged = true;
    try {
      options.log.append({
        org: s.grant.org,
        scope: s.grant.scope,
        jti: s.grant.jti,
        method: request.method,
        route: request.routeOptions.url ?? '(unmatched)',
        url: redactUrl(request.url),
        status,
        requestId: request.id,
      });
    } catch (e) {
      throw new ApiError(
        'ACCESS_LOG_FAILED',
        'the access log could not record this read; nothing was sent',
        {},
        { cause: e },
      );
    }
  }

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.routeOptions.url;
    if (url === undefined) return; // no route: 404
    const needed = routeAccessOf(request.method, url, extra);
    if (needed === undefined)
      throw new ApiError('INTERNAL', `route ${request.method} ${url} is not classified`);
    if (needed === 'public' || needed === 'submission') return;
    const token = bearerToken(request.headers.authorization, needed);
    let grant: AccessGrant;
    try {
      grant = await options.verifier.verify(token);
    } catch (e) {
      if (!(e instanceof AccessError)) throw e;
      throw new ApiError(
        'TOKEN_INVALID',
        e.message,
        { reason: e.details['reason'] ?? 'invalid' },
        {
          headers: {
            'www-authenticate': `Bearer ${REALM}, error="invalid_token", error_description=${quoted(e.message)}`,
          },
        },
      );
    }
    state.set(request, { grant, logged: false });
    // Streams (Server-Sent Events) take the socket and skip onSend: log when they open.
    const hijack = reply.hijack.bind(reply);
    reply.hijack = () => {
      logOnce(request, 200);
      return hijack();
    };
    if (!scopeCovers(grant.scope, needed)) {
      throw new ApiError(
        'SCOPE_INSUFFICIENT',
        `this route needs scope ${needed}; the token of ${grant.org} has ${grant.scope}`,
        { needed, held: grant.scope, org: grant.org },
        { headers: { 'www-authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${needed}"` } },
      );
    }
  });

  // Before the body leaves: the record is durable first, or the answer is a 500 instead.
  app.addHook('onSend', async (request, reply, payload) => {
    logOnce(request, reply.statusCode);
    return payload;
  });

  return {
    secureOperation(route, schema) {
      if (!route) return schema;
      const needed = [route.method]
        .flat()
        .map((m) => routeAccessOf(m, route.url, extra))
        .find((a) => a !== undefined);
      if (needed === undefined || needed === 'public' || needed === 'submission') return schema;
      const note = `Needs a bearer token with scope \`${needed}\` (or a scope that includes it).`;
      const description =
        typeof schema['description'] === 'string' ? `${schema['description']}\n\n${note}` : note;
      return { ...schema, description, security: [{ bearerAuth: [] }] };
    },
    registerRoutes() {
      app.withTypeProvider<ZodTypeProvider>().get(
        '/v1/access-log',
        {
          schema: {
            summary: 'The access log: every read of non-public data, hash-chained, paged',
            tags: ['access'],
            querystring: accessLogQuery,
            response: { 200: accessLogPage, ...errorResponses },
          },
        },
        async (request) => {
          try {
            return options.log.read(request.query);
          } catch (e) {
            throw new ApiError('ACCESS_LOG_FAILED', 'the access log could not be read', {}, { cause: e });
          }
        },
      );
    },
  };
}

/** The OpenAPI security scheme of the tokens. */
export const BEARER_SECURITY_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description:
    'A token issued by the ledger operator to a registered organization (EdDSA-signed JWT, scope auditor, oversight or operator).',
} as const;
