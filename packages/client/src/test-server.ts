// Test support (not exported): the real standalone service on 127.0.0.1, a free port and a
// temporary data directory, and a fetch that records what the client asked and got.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, type SigningKey } from '@civic-ledger/crypto';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import {
  loadConfig,
  startService,
  type RunningService,
  type ServiceConfig,
} from '@civic-ledger/standalone-service';
import { LedgerClient, type LedgerClientOptions } from './client.ts';

export const TEST_ORIGIN = 'ledger.client-test.example/log';

export function tempDir(prefix = 'cl-client-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestLedger {
  config: ServiceConfig;
  service: RunningService;
  url: string;
  /** The log's verifier key text: what clients pin. */
  logKey: string;
  origin: string;
  client(options?: Partial<LedgerClientOptions>): LedgerClient;
  /** Stops the service (in order) and starts it again on the same data directory and port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestLedger(options: {
  operatorKey: string;
  origin?: string;
  dataDir?: string;
}): Promise<TestLedger> {
  const dataDir = options.dataDir ?? tempDir('cl-ledger-');
  const origin = options.origin ?? TEST_ORIGIN;
  let config = loadConfig({
    CIVIC_LEDGER_DATA_DIR: dataDir,
    CIVIC_LEDGER_PORT: '0',
    CIVIC_LEDGER_OPERATOR_KEY: options.operatorKey,
    CIVIC_LEDGER_ORIGIN: origin,
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
    CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
    CIVIC_LEDGER_LOG_LEVEL: 'silent',
    CIVIC_LEDGER_SHUTDOWN_TIMEOUT_MS: '1000',
    // The SDK reads entries and proofs without a token (tokens are tested in packages/access).
    CIVIC_LEDGER_ACCESS_CONTROL: 'off',
  });
  let service: RunningService | undefined = await startService(config, { logger: false });
  const url = service.url;
  // Restarts listen on the same port, so clients keep their baseUrl.
  config = { ...config, port: Number(new URL(url).port) };
  const logKey = formatVerifierKey(service.logKey);
  const ledger: TestLedger = {
    config,
    get service() {
      if (!service) throw new Error('the service is stopped');
      return service;
    },
    url,
    logKey,
    origin,
    client: (o = {}) =>
      new LedgerClient({
        baseUrl: url,
        logKey,
        origin,
        retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
        ...o,
      }),
    async stop() {
      const s = service;
      service = undefined;
      await s?.close();
    },
    async start() {
      service = await startService(config, { logger: false });
    },
    async close() {
      await ledger.stop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return ledger;
}

/** The stream the organizations' registrations go on, apart from the streams under test. */
const REGISTRY_STREAM = 'registry';

/**
 * A ledger with an operator (TestEmitter `ledger`) and the given organizations registered
 * (role `agency`), each with its key, and the sources and datasets they name registered by
 * the organization owning them (signed with its key, on the `registry` stream): the ledger
 * refuses movement events on unregistered ones (UNKNOWN_SUBJECT).
 */
export async function ledgerWithOrgs(
  orgs: readonly {
    org: string;
    key: SigningKey;
    sources?: readonly string[];
    datasets?: readonly string[];
  }[],
): Promise<TestLedger & { operator: TestEmitter }> {
  const operator = new TestEmitter('ledger');
  const ledger = await startTestLedger({ operatorKey: operator.verifierKey });
  const emitters = orgs.map((o) => new TestEmitter(o.org, { key: o.key, stream: REGISTRY_STREAM }));
  const resources = orgs.flatMap((o) => [
    ...(o.sources ?? []).map((id) => ({ kind: 'source' as const, id })),
    ...(o.datasets ?? []).map((id) => ({ kind: 'dataset' as const, id })),
  ]);
  const events = bootstrapEvents(operator, emitters, {}, resources);
  const outcomes = await ledger.client().submitBatch(events, { atomic: true });
  const refused = outcomes.find((o) => !o.ok);
  if (refused && !refused.ok) throw refused.error;
  return Object.assign(ledger, { operator });
}

export interface RecordedCall {
  method: string;
  path: string;
  status?: number;
  error?: string;
}

/**
 * A fetch that passes everything through and records each call; `tamper` may rewrite an
 * answer's body (a man in the middle) before the client reads it.
 */
export function recordingFetch(tamper?: (path: string, body: string) => string): {
  fetch: typeof fetch;
  calls: RecordedCall[];
} {
  const calls: RecordedCall[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const call: RecordedCall = { method: init?.method ?? 'GET', path: url.pathname + url.search };
    calls.push(call);
    try {
      const res = await fetch(input, init);
      call.status = res.status;
      if (!tamper) return res;
      const text = tamper(url.pathname + url.search, await res.text());
      return new Response(text, { status: res.status, headers: res.headers });
    } catch (e) {
      call.error = String((e as Error).message);
      throw e;
    }
  };
  return { fetch: wrapped, calls };
}
