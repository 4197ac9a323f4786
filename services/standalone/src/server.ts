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
import { Ledger } from '@civic-ledger/ledger-core';
import { ed25519Signer } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import type { FastifyServerOptions } from 'fastify';
import { buildApp, ledgerPublishers, type StandaloneApp } from '@civic-ledger/ledger-http';
import { LineageFollower, registerLineageRoutes } from '@civic-ledger/lineage-http';
import { chainKey } from '@civic-ledger/chain';
import {
  pipelineMapping,
  registerOpenLineageIngest,
  type PipelineMapping,
} from '@civic-ledger/openlineage-ingest';
import { signReceipt } from '@civic-ledger/receipts';
import { ConfigError } from '@civic-ledger/service-config';
import { z } from 'zod';
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
  let openLineage: ReturnType<typeof loadOpenLineage> | undefined;
  try {
    openLineage = config.openLineage ? loadOpenLineage(config.openLineage) : undefined;
  } catch (e) {
    follower.close();
    await ledger.close();
    await store.close();
    throw e;
  }
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
      registerExtra: (r) => {
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
                        checkpointWithinMs: config.checkpoints.maxDelayMs,
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
