// Starts the query service: the read routes of the ledger API on the MongoDB store the
// sequencer writes (a StoreLogView follows its head), and live notifications from NATS.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AccessLog, TokenVerifier } from '@civic-ledger/access';
import { namespacedSubjects } from '@civic-ledger/bus';
import { NatsBus } from '@civic-ledger/bus-nats';
import { buildApp, storeOrgRole, StoreLogView, type StandaloneApp } from '@civic-ledger/ledger-http';
import { LineageFollower, registerLineageRoutes } from '@civic-ledger/lineage-http';
import { ConfigError } from '@civic-ledger/service-config';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import type { FastifyServerOptions } from 'fastify';
import type { QueryConfig } from './config.ts';
import { registerPublishedWitnessRoute } from './witnesses.ts';

export interface RunningQuery extends StandaloneApp {
  url: string;
  store: MongoStore;
  view: StoreLogView;
  /** The lineage index behind /v1/lineage: follows the store on a timer and before each query. */
  lineage: LineageFollower;
  /** The access log of non-public reads, when access control is on. */
  accessLog: AccessLog | undefined;
  close(): Promise<void>;
}

/** Opens (or creates, with its folder) the access log; a file it cannot open is a ConfigError. */
function openAccessLog(path: string): AccessLog {
  try {
    mkdirSync(dirname(path), { recursive: true });
    return AccessLog.open(path);
  } catch (e) {
    throw new ConfigError([{ variable: 'CIVIC_LEDGER_ACCESS_LOG_FILE', rule: (e as Error).message }]);
  }
}

export async function startQuery(
  config: QueryConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningQuery> {
  const store = await MongoStore.connect(config.mongoUrl, config.database);
  let nats: NatsBus | undefined;
  let view: StoreLogView | undefined;
  let lineage: LineageFollower | undefined;
  let accessLog: AccessLog | undefined;
  try {
    if (config.natsServers)
      nats = await NatsBus.connect({ servers: config.natsServers, name: 'civic-ledger-query' });
    // The sequencer appends in another process: the index reads the head again every second,
    // and a query first indexes up to the size the log view knows.
    const follower = (lineage = await LineageFollower.open(store, { intervalMs: 1000 }));
    // Tokens are issued elsewhere (by the operator's tools): this service holds only the
    // issuer's public key, and asks the registry in the store at every request.
    const access = config.access
      ? {
          verifier: new TokenVerifier({
            origin: config.origin,
            issuerKeys: [config.access.issuerKey],
            orgRole: storeOrgRole(store),
          }),
          log: (accessLog = openAccessLog(config.access.accessLogFile)),
        }
      : undefined;
    const built = await buildApp(
      {
        origin: config.origin,
        checkpointWithinMs: config.checkpointWithinMs,
        readOnly: true,
        title: 'Civic Ledger query service',
        clientRateLimit:
          config.rateLimitPerMinute === 0 ? null : { max: config.rateLimitPerMinute, windowMs: 60_000 },
        keyRateLimit: null,
        logLevel: config.logLevel,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      {
        ledger: (view = await StoreLogView.open(store)),
        store,
        ...(nats ? { bus: nats, subjects: namespacedSubjects(config.namespace) } : {}),
        ...(access ? { access } : {}),
        // Bundles need only the log's public key (to check the checkpoints they carry).
        registerExtra: (r) => {
          if (config.witnessPolicy)
            registerPublishedWitnessRoute(r, {
              policy: config.witnessPolicy,
              latest: () => store.latestCheckpoint(),
            });
          registerLineageRoutes(r, {
            follower,
            store,
            logSize: () => view?.size ?? 0,
            ...(config.logVerifierKey
              ? { bundle: { logKey: config.logVerifierKey, origin: config.origin } }
              : {}),
          });
        },
      },
    );
    const { app } = built;
    follower.onError = (e) => app.log.warn({ err: e }, 'lineage index catch-up failed');
    if (!access) app.log.warn('read access control is off: every read route is open to anyone');
    const url = await app.listen({ host: config.host, port: config.port });
    const logView = view;
    const log = accessLog;
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
        log?.close();
        logView.close();
        follower.close();
        await nats?.close();
        await store.close();
      })());
    return Object.assign(built, { url, store, view: logView, lineage: follower, accessLog: log, close });
  } catch (e) {
    accessLog?.close();
    view?.close();
    lineage?.close();
    await nats?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
}
