// Access control on the real server (listening on a free port): public routes open,
// non-public routes behind tokens, every non-public read in the access log before it is
// answered, the access log for oversight only, every route classified.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AccessLog, verifyAccessLog, type AccessLogSink } from '@civic-ledger/access';
import { bearer, testIssuer } from '@civic-ledger/access/testing';
import { MemoryBus } from '@civic-ledger/bus';
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { storeOrgRole, type AccessOptions } from './access.ts';
import { buildApp, REDACT_PATHS, type AppConfig, type AppDeps } from './app.ts';

const ORIGIN = 'ledger.test.example/log';
const NOW = Date.parse('2026-11-02T09:00:00Z');
const logKey = generateSigningKey(ORIGIN);
const issuer = testIssuer(ORIGIN);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Options {
  config?: Partial<AppConfig>;
  deps?: Partial<AppDeps>;
  access?: Partial<AccessOptions>;
}

/** A ledger with an agency, an oversight body and a vendor, served on 127.0.0.1:<free port>. */
async function serve(options: Options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-http-access-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => NOW,
  });
  cleanup.push(() => ledger.close());
  const log = AccessLog.open(join(dir, 'access-log.db'), { now: () => NOW });
  cleanup.push(() => log.close());
  const bus = new MemoryBus();
  cleanup.push(() => bus.close());
  const built = await buildApp(
    { origin: ORIGIN, checkpointWithinMs: 60_000, logger: false, ...options.config },
    {
      ledger,
      store,
      logKey,
      bus,
      now: () => NOW,
      access: {
        verifier: issuer.verifier(storeOrgRole(store), { now: () => NOW }),
        log,
        ...options.access,
      },
      ...options.deps,
    },
  );
  cleanup.push(async () => {
    built.beginClose();
    await built.app.close();
  });
  const url = await built.app.listen({ host: '127.0.0.1', port: 0 });
  const agency = new TestEmitter('transport-agency');
  const board = new TestEmitter('privacy-board');
  const vendor = new TestEmitter('data-vendor');
  for (const e of bootstrapEvents(operator, [agency, board, vendor], {
    'privacy-board': 'oversight',
    'data-vendor': 'vendor',
  })) {
    // Submissions need no token: their signatures authenticate them.
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(e),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const get = async (path: string, token?: string) => {
    const res = await fetch(`${url}${path}`, { headers: token === undefined ? {} : bearer(token) });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reading JSON bodies in assertions
      json: () => JSON.parse(text) as Record<string, any>,
    };
  };
  return { url, app: built.app, store, ledger, log, operator, get };
}

const token = (org: string, scope: 'auditor' | 'oversight' | 'operator', ttlSeconds?: number) =>
  issuer.token(org, scope, { now: NOW, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });

describe('read access', () => {
  it('serves public routes without a token, and ignores a token there', async () => {
    const { get } = await serve();
    for (const path of [
      '/v1/checkpoint',
      '/v1/checkpoint.json',
      '/v1/proofs/consistency?from=1',
      '/v1/chains/ledger/main/head',
      '/healthz',
      '/metrics',
      '/docs/json',
    ]) {
      const res = await get(path);
      expect(res.status, `${path}: ${res.text}`).toBe(200);
    }
    expect((await get('/v1/checkpoint', 'garbage')).status).toBe(200);
  });

  it('answers 401 TOKEN_REQUIRED on an auditor route without a token, naming the scope', async () => {
    const { get, log } = await serve();
    const res = await get('/v1/entries/0');
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      code: 'TOKEN_REQUIRED',
      message: 'this route needs a bearer token with scope auditor',
      details: { scope: 'auditor' },
    });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="civic-ledger", scope="auditor"');
    expect(log.head().size).toBe(0);
  });

  it('serves an auditor token and writes the read to the access log first', async () => {
    const { get, log } = await serve();
    const t = await issuer.token('transport-agency', 'auditor', { now: NOW, jti: 'agency-token-1' });
    const res = await get('/v1/entries/0', t);
    expect(res.status).toBe(200);
    expect(res.json()['index']).toBe(0);
    const records = log.read().records;
    expect(records).toEqual([
      expect.objectContaining({
        seq: 1,
        org: 'transport-agency',
        scope: 'auditor',
        jti: 'agency-token-1',
        method: 'GET',
        route: '/v1/entries/:index',
        url: '/v1/entries/0',
        status: 200,
        requestId: res.headers.get('x-request-id'),
        time: new Date(NOW).toISOString(),
      }),
    ]);
    // A miss is a read too: the record says what was asked and what was answered.
    expect((await get('/v1/entries/999', t)).status).toBe(404);
    expect(log.read().records[1]).toMatchObject({ url: '/v1/entries/999', status: 404 });
    expect(JSON.stringify(log.read())).not.toContain(t);
  });

  it('answers 401 TOKEN_INVALID for tampered, expired and unknown-organization tokens, and logs none', async () => {
    const { get, log, url, operator } = await serve();
    const t = await token('transport-agency', 'auditor');
    const [h, p, s] = t.split('.');
    const raised = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'oversight' }),
    ).toString('base64url');
    const tampered = await get('/v1/entries/0', `${h}.${raised}.${s}`);
    expect(tampered.status).toBe(401);
    expect(tampered.json()).toMatchObject({ code: 'TOKEN_INVALID', details: { reason: 'signature' } });
    expect(tampered.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="civic-ledger", error="invalid_token"/,
    );

    const expired = await issuer.token('transport-agency', 'auditor', { now: NOW - 7200_000 });
    expect((await get('/v1/entries/0', expired)).json()).toMatchObject({ details: { reason: 'expired' } });
    const basic = await fetch(`${url}/v1/entries/0`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(((await basic.json()) as { code: string }).code).toBe('TOKEN_REQUIRED');

    // Registered at request time: the same token works once the organization is registered.
    const late = await token('late-auditors', 'auditor');
    expect((await get('/v1/entries/0', late)).json()).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'unknown-organization' },
    });
    const reg = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(registerOrg(operator, 'late-auditors', 'agency')),
    });
    expect(reg.status).toBe(201);
    expect((await get('/v1/entries/0', late)).status).toBe(200);
    expect(log.read().records.map((r) => r.org)).toEqual(['late-auditors']);
  });

  it('lets oversight read the access log, verifiable page by page, and refuses it to an auditor (403, logged)', async () => {
    const { get } = await serve();
    const auditor = await token('transport-agency', 'auditor');
    const oversight = await token('privacy-board', 'oversight');
    expect((await get('/v1/entries?from=0&limit=2', auditor)).status).toBe(200);
    expect((await get('/v1/events/' + 'a'.repeat(64), oversight)).status).toBe(404);

    const refused = await get('/v1/access-log', auditor);
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual({
      code: 'SCOPE_INSUFFICIENT',
      message: 'this route needs scope oversight; the token of transport-agency has auditor',
      details: { needed: 'oversight', held: 'auditor', org: 'transport-agency' },
    });
    expect(refused.headers.get('www-authenticate')).toBe(
      'Bearer realm="civic-ledger", error="insufficient_scope", scope="oversight"',
    );

    const page1 = await get('/v1/access-log?limit=2', oversight);
    expect(page1.status).toBe(200);
    const b1 = page1.json();
    expect(b1['records'].map((r: { route: string; status: number }) => `${r.route} ${r.status}`)).toEqual([
      '/v1/entries 200',
      '/v1/events/:hash 404',
    ]);
    expect(b1['next']).toBe(2);
    const page2 = (await get('/v1/access-log?after=2', oversight)).json();
    // The refused attempt, then the first page's own read.
    expect(page2['records'].map((r: { org: string; status: number }) => `${r.org} ${r.status}`)).toEqual([
      'transport-agency 403',
      'privacy-board 200',
    ]);
    const head = verifyAccessLog(page2['records'], { start: verifyAccessLog(b1['records']) });
    expect(head.size).toBe(4);
    expect(page2['head'].size).toBe(4);
  });

  it('keeps operator tokens to public (and operator) routes', async () => {
    const { get } = await serve();
    const op = await token('ledger', 'operator');
    expect((await get('/v1/entries/0', op)).json()).toMatchObject({
      code: 'SCOPE_INSUFFICIENT',
      details: { needed: 'auditor' },
    });
    expect((await get('/v1/checkpoint', op)).status).toBe(200);
    // An agency cannot hold oversight, whatever the token says.
    expect((await get('/v1/access-log', await token('transport-agency', 'oversight'))).json()).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'scope-not-allowed' },
    });
  });

  it('answers 500 ACCESS_LOG_FAILED, without the data, when the log cannot record the read', async () => {
    const broken: AccessLogSink = {
      append: () => {
        throw new Error('disk full');
      },
      read: () => ({ records: [], next: null, head: { size: 0, hash: '0'.repeat(64) } }),
      head: () => ({ size: 0, hash: '0'.repeat(64) }),
    };
    const { get } = await serve({ access: { log: broken } });
    const res = await get('/v1/entries/0', await token('transport-agency', 'auditor'));
    expect(res.status).toBe(500);
    expect(res.json()).toMatchObject({ code: 'ACCESS_LOG_FAILED' });
    expect(res.text).not.toContain('leaf');
    expect((await get('/v1/checkpoint.json')).status).toBe(200);
  });

  it('logs a notification stream when it opens, and refuses it without a token', async () => {
    const { url, log, get } = await serve();
    expect((await get('/v1/notifications')).status).toBe(401);
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/notifications?types=checkpoint`, {
      headers: bearer(await token('privacy-board', 'auditor')),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(log.read().records).toEqual([
      expect.objectContaining({ org: 'privacy-board', route: '/v1/notifications', status: 200 }),
    ]);
    controller.abort();
  });

  it('marks the secured operations in the OpenAPI document', async () => {
    const { get } = await serve();
    const doc = (await get('/docs/json')).json();
    expect(doc['components'].securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc['paths']['/v1/entries/{index}'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc['paths']['/v1/entries/{index}'].get.description).toContain('scope `auditor`');
    expect(doc['paths']['/v1/access-log'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc['paths']['/v1/checkpoint'].get.security).toBeUndefined();
    expect(doc['paths']['/v1/events'].post.security).toBeUndefined();
  });

  it('never logs a token, valid or not', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const { get } = await serve({
      config: {
        logger: {
          level: 'trace',
          stream,
          redact: REDACT_PATHS,
          // Even a serializer that logs every header gets the authorization header redacted.
          serializers: {
            req: (req: { headers: unknown; url: string }) => ({ url: req.url, headers: req.headers }),
          },
        },
      },
    });
    const good = await token('transport-agency', 'auditor');
    const bad = await issuer.token('transport-agency', 'auditor', { now: NOW - 7200_000 });
    expect((await get('/v1/entries/0', good)).status).toBe(200);
    expect((await get('/v1/entries/0', bad)).status).toBe(401);
    const text = lines.join('');
    expect(text).toContain('/v1/entries/0');
    expect(text).not.toContain(good.split('.')[2]!);
    expect(text).not.toContain(bad.split('.')[2]!);
    expect(text).not.toContain('Bearer ');
  });
});

describe('route classification', () => {
  it('refuses to start with a route that has no access scope', async () => {
    const attempt = serve({
      deps: { registerExtra: (r) => r.get('/v1/unclassified', async () => ({ ok: true })) },
    });
    await expect(attempt).rejects.toThrow(/route GET \/v1\/unclassified has no access scope/);
  });

  it('gates a service route classified in access.routes', async () => {
    const { get } = await serve({
      deps: { registerExtra: (r) => r.get('/v1/findings', async () => ({ findings: [] })) },
      access: { routes: { 'GET /v1/findings': 'auditor' } },
    });
    expect((await get('/v1/findings')).status).toBe(401);
    expect((await get('/v1/findings', await token('data-vendor', 'auditor'))).json()).toEqual({
      findings: [],
    });
  });
});
