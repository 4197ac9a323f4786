// Opens the store and the ledger, builds the app and listens; `close()` shuts down in order:
// stop intake (503 CLOSING), drain in-flight requests, close the ledger (its queued batches
// commit), close the store.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  formatVerifierKey,
  generateSigningKey,
  readSigningKeyFile,
  writeSigningKeyFile,
  type SigningKey,
} from '@civic-ledger/crypto';
import { MemoryBus } from '@civic-ledger/bus';
import { Ledger } from '@civic-ledger/ledger-core';
import { ed25519Signer } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import type { FastifyServerOptions } from 'fastify';
import { buildApp, ledgerPublishers, type StandaloneApp } from '@civic-ledger/ledger-http';
import { LineageFollower, registerLineageRoutes } from '@civic-ledger/lineage-http';
import type { ServiceConfig } from './config.ts';

export interface RunningService extends StandaloneApp {
  ledger: Ledger;
  bus: MemoryBus;
  store: SqliteStore;
  /** The lineage index behind /v1/lineage, kept current on every append. */
  lineage: LineageFollower;
  logKey: SigningKey;
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

export async function startService(
  config: ServiceConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningService> {
  mkdirSync(config.dataDir, { recursive: true });
  const { key: logKey, created } = loadLogKey(config.logKeyFile, config.origin);
  const store = new SqliteStore({ path: join(config.dataDir, 'ledger.db') });
  // The in-process bus: appended entries and checkpoints, published after the commit.
  const bus = new MemoryBus();
  const publishers = ledgerPublishers(bus);
  // Set once the index is built; appends before that are in the build.
  let lineage: LineageFollower | undefined;
  let ledger: Ledger;
  try {
    ledger = await Ledger.open({
      store,
      origin: config.origin,
      logSigner: ed25519Signer(logKey),
      operatorKey: config.operatorKey,
      checkpoints: config.checkpoints,
      ...publishers,
      onAppended: (entries) => {
        publishers.onAppended(entries);
        lineage?.notify();
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
  const built = await buildApp(
    {
      origin: config.origin,
      checkpointWithinMs: config.checkpoints.maxDelayMs,
      clientRateLimit: perMinute(config.rateLimitPerMinute),
      keyRateLimit: perMinute(config.keyRateLimitPerMinute),
      logLevel: config.logLevel,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
    {
      ledger,
      store,
      logKey,
      bus,
      registerExtra: (r) =>
        registerLineageRoutes(r, {
          follower,
          store,
          logSize: () => ledger.size,
          bundle: { logKey: formatVerifierKey(logKey), origin: config.origin },
        }),
    },
  );
  const { app } = built;
  if (created) app.log.info({ path: config.logKeyFile }, 'created a new log key');
  follower.onError = (e) => app.log.warn({ err: e }, 'lineage index catch-up failed');
  app.log.info(
    { origin: config.origin, logVerifierKey: formatVerifierKey(logKey), size: ledger.size },
    'ledger open',
  );
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await app.close();
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
      await ledger.close();
      await bus.close();
      await store.close();
    })());
  return Object.assign(built, { ledger, store, logKey, bus, lineage: follower, url, close });
}
