// Opens the store and the ledger, builds the app and listens; `close()` shuts down in order:
// stop intake (503 CLOSING), drain in-flight requests, close the ledger (its queued batches
// commit), close the store.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  formatVerifierKey,
  generateSigningKey,
  readSigningKeyFile,
  writeSigningKeyFile,
  type SigningKey,
} from '@civic-ledger/crypto';
import { MemoryBus } from '@civic-ledger/bus';
import { Ledger, WitnessingError, checkLedgerPolicy } from '@civic-ledger/ledger-core';
import { ed25519Signer } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import type { FastifyServerOptions } from 'fastify';
import { openAccessControl, type AccessControl } from '@civic-ledger/access';
import {
  COMPLIANCE_ROUTE_ACCESS,
  ComplianceRunner,
  busAlert,
  registerComplianceRoutes,
} from '@civic-ledger/compliance-runner';
import {
  ApiError,
  buildApp,
  ledgerPublishers,
  storeOrgRole,
  WitnessMetrics,
  type LogAccess,
  type StandaloneApp,
} from '@civic-ledger/ledger-http';
import { LineageFollower, registerLineageRoutes } from '@civic-ledger/lineage-http';
import { chainKey } from '@civic-ledger/chain';
import {
  pipelineMapping,
  registerOpenLineageIngest,
  type PipelineMapping,
} from '@civic-ledger/openlineage-ingest';
import { signReceipt } from '@civic-ledger/receipts';
import { ConfigError, loadNextLogKey } from '@civic-ledger/service-config';
import { z } from 'zod';
import type { ServiceConfig } from './config.ts';
import { registerWitnessRoutes, roundLogger, witnessReadiness, type RoundLog } from './witnesses.ts';

export interface RunningService extends StandaloneApp {
  ledger: Ledger;
  bus: MemoryBus;
  store: SqliteStore;
  /** The lineage index behind /v1/lineage, kept current on every append. */
  lineage: LineageFollower;
  logKey: SigningKey;
  /** During a log key rotation: the next log key, which co-signs every checkpoint. */
  nextLogKey: SigningKey | undefined;
  /** The compliance runner (findings on the ledger, /v1/findings, /v1/decisions), when configured. */
  compliance: ComplianceRunner | undefined;
  /** Read access control (bearer tokens, access log), when configured. */
  access: AccessControl | undefined;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

/** Reads the log key, creating it (mode 0600) on first start. */
export function loadLogKey(path: string, name: string): { key: SigningKey; created: boolean } {
  if (existsSync(path)) return { key: readSigningKeyFile(path), created: false };
  mkdirSync(dirname(path), { recursive: true });
  const key = generateSigningKey(name);
  writeSigningKeyFile(path, key);
  return { key, created: true };
}

/**
 * Reads the OpenLineage pipelines file (a JSON array of `{ token, ...mapping }`) and the
 * gateway key. A wrong file is a ConfigError naming the variable and the rule; tokens are
 * never part of a message.
 */
function loadOpenLineage(files: { pipelinesFile: string; gatewayKeyFile: string }): {
  pipelines: Map<string, PipelineMapping>;
  gatewayKey: SigningKey;
} {
  const variable = 'CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE';
  const entry = pipelineMapping.extend({ token: z.string().min(16, 'a token of at least 16 characters') });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(files.pipelinesFile, 'utf8'));
  } catch (e) {
    throw new ConfigError([
      { variable, rule: `a readable JSON file (${(e as Error).message.split('\n')[0]})` },
    ]);
  }
  const parsed = z.array(entry).min(1).safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const where = i.path.filter((p) => p !== 'token').join('.');
    throw new ConfigError([{ variable, rule: `${where || '(file)'}: ${i.message}` }]);
  }
  const pipelines = new Map<string, PipelineMapping>();
  for (const { token, ...mapping } of parsed.data) pipelines.set(token, mapping);
  return {
    pipelines,
    gatewayKey: readSigningKeyFile(files.gatewayKeyFile),
  };
}

export async function startService(
  config: ServiceConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningService> {
  mkdirSync(config.dataDir, { recursive: true });
  const { key: logKey, created } = loadLogKey(config.logKeyFile, config.origin);
  const nextLogKey =
    config.nextLogKeyFile === undefined ? undefined : loadNextLogKey(config.nextLogKeyFile, logKey);
  // During a rotation's overlap every checkpoint carries both signatures (receipts: the current key's).
  const logSigner = nextLogKey ? [ed25519Signer(logKey), ed25519Signer(nextLogKey)] : ed25519Signer(logKey);
  const witnessing = config.witnessing;
  if (witnessing) {
    // The policy must name this ledger's own log key: checked before anything opens.
    try {
      checkLedgerPolicy(witnessing.policy, { origin: config.origin, signers: logSigner });
    } catch (e) {
      if (!(e instanceof WitnessingError)) throw e;
      throw new ConfigError([
        { variable: 'CIVIC_LEDGER_WITNESS_POLICY_FILE', rule: `${witnessing.policyFile}: ${e.message}` },
      ]);
    }
  }
  // Set once the app exists; rounds before that are not logged (state changes are, later).
  const logTo: { log?: RoundLog } = {};
  const logRound = roundLogger(() => logTo.log);
  const witnessMetrics = new WitnessMetrics();
  // Commits on a thread of their own: the event loop keeps answering requests (and the
  // ledger admits the next batch) while a commit waits for its fsync.
  const store = new SqliteStore({ path: join(config.dataDir, 'ledger.db'), writerThread: true });
  // The in-process bus: appended entries and checkpoints, published after the commit.
  const bus = new MemoryBus();
  const publishers = ledgerPublishers(bus);
  // Set once the index is built; appends before that are in the build.
  let lineage: LineageFollower | undefined;
  // Set once it has caught up with the log; appends before that are in its catch-up.
  let compliance: ComplianceRunner | undefined;
  let ledger: Ledger;
  try {
    ledger = await Ledger.open({
      store,
      origin: config.origin,
      logSigner,
      operatorKey: config.operatorKey,
      checkpoints: config.checkpoints,
      ...(witnessing
        ? {
            witnessing: {
              policy: witnessing.policy,
              intervalMs: witnessing.intervalMs,
              timeoutMs: witnessing.timeoutMs,
              onRound: (round) => {
                witnessMetrics.observe(round);
                logRound(round);
              },
            },
          }
        : {}),
      ...publishers,
      onAppended: (entries) => {
        publishers.onAppended(entries);
        lineage?.appended(entries);
        compliance?.notify();
      },
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  let follower: LineageFollower;
  try {
    lineage = follower = await LineageFollower.open(store);
  } catch (e) {
    await ledger.close();
    await store.close();
    throw e;
  }
  const perMinute = (max: number) => (max === 0 ? null : { max, windowMs: 60_000 });
  let openLineage: ReturnType<typeof loadOpenLineage> | undefined;
  let access: AccessControl | undefined;
  try {
    if (config.compliance) {
      let key;
      try {
        key = readSigningKeyFile(config.compliance.keyFile);
      } catch (e) {
        throw new ConfigError([
          {
            variable: 'CIVIC_LEDGER_COMPLIANCE_KEY_FILE',
            rule: `${config.compliance.keyFile}: ${(e as Error).message}`,
          },
        ]);
      }
      compliance = await ComplianceRunner.open({
        source: store,
        key,
        submit: (events) => ledger.submitDecoded(events),
        alert: busAlert(bus),
        retentionIntervalMs: config.compliance.retentionIntervalMs,
        onError: (err, context) => logTo.log?.warn({ err, context }, 'compliance runner'),
      });
    }
    openLineage = config.openLineage ? loadOpenLineage(config.openLineage) : undefined;
    access = config.access
      ? openAccessControl({
          origin: config.origin,
          issuerKeyFile: config.access.issuerKeyFile,
          accessLogFile: config.access.accessLogFile,
          orgRole: storeOrgRole(store),
        })
      : undefined;
  } catch (e) {
    await compliance?.close();
    follower.close();
    await ledger.close();
    await store.close();
    throw e;
  }
  // With witnesses a checkpoint exists only once its quorum held: the latest route never
  // signs one on demand (and never asks the witnesses for a reader).
  const logAccess: LogAccess = witnessing
    ? {
        get size() {
          return ledger.size;
        },
        get writable() {
          return ledger.writable;
        },
        submit: (items, o) => ledger.submit(items, o),
        inclusionProof: (i, n) => ledger.inclusionProof(i, n),
        consistencyProof: (a, b) => ledger.consistencyProof(a, b),
        checkpointNow: async () => {
          const latest = await store.latestCheckpoint();
          if (latest) return latest;
          throw new ApiError('NOT_FOUND', 'no checkpoint has reached its witness quorum yet', {
            status: '/v1/checkpoints/latest/witnesses',
          });
        },
      }
    : ledger;
  const checkpointWithinMs = ledger.checkpointWithinMs;
  const latestStored = () => store.latestCheckpoint();
  const built = await buildApp(
    {
      origin: config.origin,
      checkpointWithinMs,
      clientRateLimit: perMinute(config.rateLimitPerMinute),
      keyRateLimit: perMinute(config.keyRateLimitPerMinute),
      logLevel: config.logLevel,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
    {
      ledger: logAccess,
      store,
      logKey,
      bus,
      // This service's own routes beyond ledger-http's table: the witness status is public.
      ...(access ? { access: { ...access, routes: COMPLIANCE_ROUTE_ACCESS } } : {}),
      ...(witnessing
        ? {
            // The default readiness, plus the witnesses: the promise receipts make and whether it holds.
            ready: async () => {
              if (!ledger.writable) return { ok: false, status: 'not-writer' };
              try {
                const head = await store.head();
                return {
                  ok: true,
                  status: 'ready',
                  size: head.size,
                  dependencies: witnessReadiness(ledger.witnessStatus()!),
                };
              } catch {
                return { ok: false, status: 'store-unavailable' };
              }
            },
          }
        : {}),
      registerExtra: (r) => {
        registerWitnessRoutes(r, ledger, latestStored);
        if (compliance) registerComplianceRoutes(r, compliance, { logSize: () => ledger.size });
        registerLineageRoutes(r, {
          follower,
          store,
          logSize: () => ledger.size,
          bundle: { logKey: formatVerifierKey(logKey), origin: config.origin },
        });
        if (openLineage) {
          registerOpenLineageIngest(r, {
            pipelines: openLineage.pipelines,
            signer: openLineage.gatewayKey,
            // Receipts go back to the pipeline signed with the log key, as on /v1/events.
            submit: async (items) =>
              (await ledger.submit(items)).map((x) =>
                x.ok
                  ? {
                      ...x,
                      receipt: signReceipt(logKey, x.receipt, {
                        origin: config.origin,
                        checkpointWithinMs,
                      }),
                    }
                  : x,
              ),
            chainState: async (emitter, stream) => {
              const head = await store.getChainHead(chainKey(emitter, stream));
              return head ? { seq: head.seq, prev: head.eventHash } : { seq: 0, prev: '0'.repeat(64) };
            },
            latestEventOf: async (datasetId) => {
              await follower.catchUp();
              return follower.index.latestEventOf(datasetId)?.eventHash;
            },
          });
        }
      },
    },
  );
  const { app } = built;
  logTo.log = app.log;
  // The service's metrics, then the witnesses'.
  const render = built.metrics.render.bind(built.metrics);
  built.metrics.render = (gauges) =>
    render(gauges) +
    witnessMetrics.render(ledger.witnessStatus(), checkpointWithinMs) +
    (compliance?.metricsText() ?? '');
  if (created) app.log.info({ path: config.logKeyFile }, 'created a new log key');
  if (access?.issuerKeyCreated)
    app.log.info({ path: config.access!.issuerKeyFile }, 'created a new token issuer key');
  if (!access) app.log.warn('read access control is off: every read route is open to anyone');
  follower.onError = (e) => app.log.warn({ err: e }, 'lineage index catch-up failed');
  app.log.info(
    {
      origin: config.origin,
      logVerifierKey: formatVerifierKey(logKey),
      ...(nextLogKey ? { nextLogVerifierKey: formatVerifierKey(nextLogKey) } : {}),
      size: ledger.size,
      checkpointWithinMs,
      ...(witnessing
        ? {
            witnesses: witnessing.policy.witnesses.map((w) => `${w.name} ${w.url}`),
            quorum: witnessing.policy.quorum,
          }
        : {}),
    },
    'ledger open',
  );
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await app.close();
    access?.close();
    await compliance?.close();
    await ledger.close();
    await store.close();
    throw e;
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      built.beginClose();
      const timer = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
      access?.close();
      // It drains its queued findings through the ledger: before the ledger closes.
      await compliance?.close();
      await ledger.close();
      await bus.close();
      await store.close();
    })());
  return Object.assign(built, {
    ledger,
    store,
    logKey,
    nextLogKey,
    bus,
    lineage: follower,
    access,
    compliance,
    url,
    close,
  });
}
