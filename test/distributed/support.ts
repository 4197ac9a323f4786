// Distributed mode as real processes: the ingest, sequencer and query services started with
// `node services/<name>/src/main.ts` against the real Kafka, NATS JetStream and MongoDB-wire
// servers of infra/local (URLs from the environment; under CI=true a missing one fails).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenScope } from '@civic-ledger/access';
import { generateSigningKey, formatVerifierKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { cli, writeToken, type CliRun } from '@civic-ledger/cli/harness';
import { findService } from '@civic-ledger/test-services';
import { freePort, http, sleep } from '../standalone/support.ts';

export type ServiceKind = 'ingest' | 'sequencer' | 'query';

const mainOf = (kind: ServiceKind) =>
  fileURLToPath(new URL(`../../services/${kind}/src/main.ts`, import.meta.url));

export interface Brokers {
  mongodb: string;
  kafka: string;
  nats: string;
}

/** The three real servers, or undefined (locally) when one is missing. */
export async function findBrokers(): Promise<Brokers | undefined> {
  const [mongodb, kafka, nats] = await Promise.all([
    findService('mongodb'),
    findService('kafka'),
    findService('nats'),
  ]);
  return mongodb && kafka && nats ? { mongodb, kafka, nats } : undefined;
}

export interface ServiceProcess {
  kind: ServiceKind;
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines so far (pino JSON), parsed. */
  logs(): Record<string, unknown>[];
  stderr(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export function spawnService(kind: ServiceKind, env: Record<string, string>, port: number): ServiceProcess {
  const child = spawn(process.execPath, [mainOf(kind)], {
    env: { PATH: process.env['PATH'] ?? '', CIVIC_LEDGER_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    partial += s;
    const nl = partial.lastIndexOf('\n');
    if (nl < 0) return;
    for (const line of partial.slice(0, nl).split('\n')) {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        // Keep what tests look at, not every request line.
        if (rec['msg'] !== 'incoming request' && rec['msg'] !== 'request completed') lines.push(rec);
      } catch {
        lines.push({ msg: line });
      }
    }
    partial = partial.slice(nl + 1);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    kind,
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    logs: () => lines,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls GET /readyz until `accept` says yes (or the process exits, or time runs out). */
export async function waitReady(
  p: ServiceProcess,
  accept: (status: number, body: { status?: string }) => boolean = (s) => s === 200,
  timeoutMs = 60_000,
): Promise<{ status: string }> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (p.child.exitCode !== null) {
      throw new Error(
        `${p.kind} exited with ${p.child.exitCode}: ${p.stderr()}\n${JSON.stringify(p.logs().slice(-5))}`,
      );
    }
    try {
      const r = await http(p.url, 'GET', '/readyz');
      last = `${r.status} ${r.text}`;
      if (accept(r.status, r.json ?? {})) return r.json;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `${p.kind} not ready after ${timeoutMs} ms (last: ${last}); logs: ${JSON.stringify(p.logs().slice(-5))}`,
  );
}

/** One distributed log: its keys, namespace, database and the environment its services share. */
export interface Deployment {
  dir: string;
  namespace: string;
  database: string;
  origin: string;
  logKeyFile: string;
  logVerifierKey: string;
  env: Record<string, string>;
  started: ServiceProcess[];
  start(kind: ServiceKind, extra?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * A read token for `org` (which the test registers on this log) signed with the
   * deployment's token-issuer key, as the operator issues one: its file (0600, for --token)
   * and the request header that carries it. The query service requires one for entries.
   */
  reader(org: string, scope?: TokenScope): Promise<{ file: string; headers: Record<string, string> }>;
  /** Stops every process still running and removes the temp folder. */
  cleanup(): Promise<void>;
}

export function deployment(
  brokers: Brokers,
  operatorKey: string,
  extra: Record<string, string> = {},
): Deployment {
  const dir = mkdtempSync(join(tmpdir(), 'cl-dist-'));
  const id = Math.random().toString(36).slice(2, 10);
  const namespace = `t${id}`;
  const origin = `ledger.${namespace}.example/log`;
  const logKey = generateSigningKey(origin);
  const logKeyFile = join(dir, 'log.key');
  writeSigningKeyFile(logKeyFile, logKey);
  // The read-token issuer: the query service gets its public key only (read access control is
  // on by default); its private key stays here, where tokens are issued.
  const issuer = generateSigningKey('ledger/token-issuer');
  const env: Record<string, string> = {
    CIVIC_LEDGER_MONGODB_URL: brokers.mongodb,
    CIVIC_LEDGER_MONGODB_DATABASE: `cl_${id}`,
    CIVIC_LEDGER_KAFKA_BROKERS: brokers.kafka,
    CIVIC_LEDGER_NATS_URL: brokers.nats,
    CIVIC_LEDGER_NAMESPACE: namespace,
    CIVIC_LEDGER_ORIGIN: origin,
    CIVIC_LEDGER_LOG_KEY_FILE: logKeyFile,
    CIVIC_LEDGER_OPERATOR_KEY: operatorKey,
    // The query service offers lineage bundles with the log's public key.
    CIVIC_LEDGER_LOG_VERIFIER_KEY: formatVerifierKey(logKey),
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '200',
    // A gap nobody fills is refused after 3 s instead of 10.
    CIVIC_LEDGER_DEPENDENCY_WAIT_MS: '3000',
    CIVIC_LEDGER_LOG_LEVEL: 'info',
    // A test run is one client address sending many requests.
    CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
    ...extra,
  };
  const started: ServiceProcess[] = [];
  return {
    dir,
    namespace,
    database: `cl_${id}`,
    origin,
    logKeyFile,
    logVerifierKey: formatVerifierKey(logKey),
    env,
    started,
    async start(kind, more = {}) {
      const port = await freePort();
      // Each query instance keeps its own access log.
      const access =
        kind === 'query'
          ? {
              CIVIC_LEDGER_TOKEN_ISSUER_KEY: formatVerifierKey(issuer),
              CIVIC_LEDGER_ACCESS_LOG_FILE: join(dir, `query-${port}-access-log.db`),
            }
          : {};
      const p = spawnService(kind, { ...env, ...access, ...more }, port);
      started.push(p);
      return p;
    },
    async reader(org, scope = 'auditor') {
      const file = await writeToken(
        { issuerKey: issuer },
        { origin, org, scope, file: join(dir, `${org}.${scope}.token`) },
      );
      return { file, headers: { authorization: `Bearer ${readFileSync(file, 'utf8').trim()}` } };
    },
    async cleanup() {
      await Promise.all(started.map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `civic-ledger verify` of the whole log (up to its head) through the query service, pinned to
 * the log key, reading with the token in `tokenFile` (Deployment.reader).
 */
export function verifyThroughQuery(d: Deployment, queryUrl: string, tokenFile: string): Promise<CliRun> {
  return cli([
    'verify',
    '--url',
    queryUrl,
    '--token',
    tokenFile,
    '--log-key',
    d.logVerifierKey,
    '--until',
    'head',
    '--no-save',
    '--origin',
    d.origin,
  ]);
}
