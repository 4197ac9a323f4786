// Starts a sequencer: MongoDB store, Kafka and NATS buses, the SequencerNode (standby until
// it holds the writer lease), and a small operations endpoint (/healthz, /readyz, /metrics,
// /docs, and with witnesses /v1/checkpoints/latest/witnesses). Ready means: this process
// writes the log, or stands by with its dependencies up.
import { formatVerifierKey, readSigningKeyFile, type SigningKey } from '@civic-ledger/crypto';
import { KafkaBus } from '@civic-ledger/bus-kafka';
import { NatsBus } from '@civic-ledger/bus-nats';
import {
  buildApp,
  ledgerPublishers,
  WitnessMetrics,
  type LogAccess,
  type StandaloneApp,
} from '@civic-ledger/ledger-http';
import {
  checkLedgerPolicy,
  localOwner,
  WitnessingError,
  witnessedCheckpointDelay,
} from '@civic-ledger/ledger-core';
import { pipelineSubjects, SequencerNode } from '@civic-ledger/pipeline';
import { ConfigError, loadNextLogKey } from '@civic-ledger/service-config';
import { ed25519Signer } from '@civic-ledger/signed-note';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import type { FastifyServerOptions } from 'fastify';
import type { SequencerConfig } from './config.ts';
import { registerWitnessRoute, witnessReadiness } from './witnesses.ts';

export interface RunningSequencer extends StandaloneApp {
  url: string;
  node: SequencerNode;
  store: MongoStore;
  /** During a log key rotation: the next log key, which co-signs every checkpoint. */
  nextLogKey: SigningKey | undefined;
  close(): Promise<void>;
}

export async function startSequencer(
  config: SequencerConfig,
  options: { logger?: FastifyServerOptions['logger']; owner?: string } = {},
): Promise<RunningSequencer> {
  const logKey = readSigningKeyFile(config.logKeyFile);
  // Checked before anything connects, by the same rules as the standalone service.
  const nextLogKey =
    config.nextLogKeyFile === undefined ? undefined : loadNextLogKey(config.nextLogKeyFile, logKey);
  // During a rotation's overlap every checkpoint carries both signatures (receipts: the current key's).
  const logSigner = nextLogKey ? [ed25519Signer(logKey), ed25519Signer(nextLogKey)] : ed25519Signer(logKey);
  const witnessing = config.witnessing;
  if (witnessing) {
    // The policy must name this log's own key: checked before anything connects.
    try {
      checkLedgerPolicy(witnessing.policy, { origin: config.origin, signers: logSigner });
    } catch (e) {
      if (!(e instanceof WitnessingError)) throw e;
      throw new ConfigError([
        { variable: 'CIVIC_LEDGER_WITNESS_POLICY_FILE', rule: `${witnessing.policyFile}: ${e.message}` },
      ]);
    }
  }
  // Receipts' promise: with witnesses a checkpoint exists only once cosigned, at the round cadence.
  const checkpointWithinMs = witnessing
    ? witnessedCheckpointDelay(witnessing.intervalMs, witnessing.timeoutMs)
    : config.checkpoints.maxDelayMs;
  // parsePolicy requires a quorum line; the type leaves room for policies that need none.
  const quorum = witnessing?.policy.quorum ?? 'none';
  const witnessMetrics = new WitnessMetrics();
  let quorumHeld = true;
  const subjects = pipelineSubjects(config.namespace);
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const c of opened.splice(0).reverse()) await c.close().catch(() => undefined);
  };
  try {
    const store = await MongoStore.connect(config.mongoUrl, config.database);
    opened.push(store);
    const kafka = await KafkaBus.connect({
      brokers: config.kafkaBrokers,
      clientId: 'civic-ledger-sequencer',
      partitions: config.partitions,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      heartbeatIntervalMs: Math.min(1000, Math.floor(config.kafkaSessionTimeoutMs / 3)),
    });
    opened.push(kafka);
    const nats = await NatsBus.connect({ servers: config.natsServers, name: 'civic-ledger-sequencer' });
    opened.push(nats);

    // Set below: the app's view and readiness read it, the node needs the app's logger.
    const current: { node?: SequencerNode } = {};
    // The ops app's view of the log: the ledger while writing, nothing while standing by.
    const view: LogAccess = {
      get size() {
        return current.node?.ledger?.size ?? 0;
      },
      get writable() {
        return current.node?.role === 'writer' && (current.node.ledger?.writable ?? false);
      },
      submit: () => Promise.reject(new Error('submit through the buses')),
      inclusionProof: () => Promise.reject(new Error('read proofs from the query service')),
      consistencyProof: () => Promise.reject(new Error('read proofs from the query service')),
      checkpointNow: () => Promise.reject(new Error('read checkpoints from the query service')),
    };
    const built = await buildApp(
      {
        origin: config.origin,
        checkpointWithinMs,
        readOnly: true,
        readRoutes: false,
        title: 'Civic Ledger sequencer (operations)',
        clientRateLimit: null,
        keyRateLimit: null,
        logLevel: config.logLevel,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      {
        ledger: view,
        ready: async () => {
          const [k, n, s] = await Promise.all([
            kafka.ready(),
            nats.ready(),
            store.head().then(
              () => true,
              () => false,
            ),
          ]);
          const dependencies: Record<string, string> = {
            kafka: k ? 'up' : 'down',
            nats: n ? 'up' : 'down',
            mongodb: s ? 'up' : 'down',
          };
          const role = current.node?.role ?? 'starting';
          if (witnessing) {
            dependencies['witnesses'] = witnessReadiness(current.node?.ledger?.witnessStatus(), quorum);
          }
          return { ok: k && n && s && (role === 'writer' || role === 'standby'), status: role, dependencies };
        },
        ...(witnessing
          ? {
              registerExtra: (r) =>
                registerWitnessRoute(r, {
                  role: () => current.node?.role ?? 'starting',
                  quorum,
                  intervalMs: witnessing.intervalMs,
                  timeoutMs: witnessing.timeoutMs,
                  checkpointWithinMs,
                  status: () => current.node?.ledger?.witnessStatus(),
                  treeSize: () => current.node?.ledger?.size ?? 0,
                }),
            }
          : {}),
      },
    );
    const { app, metrics } = built;
    if (witnessing) {
      const render = metrics.render.bind(metrics);
      metrics.render = (gauges) =>
        render(gauges) + witnessMetrics.render(current.node?.ledger?.witnessStatus(), checkpointWithinMs);
    }
    const node = (current.node = new SequencerNode({
      store,
      ledger: {
        origin: config.origin,
        logSigner,
        operatorKey: config.operatorKey,
        checkpoints: config.checkpoints,
        // Only checkpoints cosigned to the quorum are stored, so the query service serves no other.
        ...(witnessing
          ? {
              witnessing: {
                policy: witnessing.policy,
                intervalMs: witnessing.intervalMs,
                timeoutMs: witnessing.timeoutMs,
                onRound: (round, status) => {
                  witnessMetrics.observe(round);
                  // Log when the quorum is lost or back, not every round.
                  if (round.kind !== 'checkpoint' || round.quorum === quorumHeld) return;
                  quorumHeld = round.quorum;
                  const line = witnessReadiness(status, quorum);
                  if (round.quorum) app.log.info({ size: round.size, signed: round.signed }, line);
                  else app.log.warn({ size: round.size, signed: round.signed }, line);
                },
              },
            }
          : {}),
        owner: options.owner ?? localOwner(),
        leaseTtlMs: config.leaseTtlMs,
        maxBatch: config.maxBatch,
        ...ledgerPublishers(nats, subjects),
      },
      sources: [
        { bus: kafka, subject: subjects.submissions },
        { bus: nats, subject: subjects.edgeSubmissions },
      ],
      outcomes: nats,
      outcomesSubject: subjects.outcomes,
      logKey,
      checkpointWithinMs,
      maxWaitMs: config.maxWaitMs,
      maxBatch: config.maxBatch,
      pollMs: Math.max(250, Math.floor(config.leaseTtlMs / 4)),
      log: app.log,
      onBatch: (b) => {
        app.log.debug(b, 'batch');
        metrics.accepted += b.appended;
        metrics.duplicates += b.duplicates;
      },
      onDeadLetter: (m, reason) => {
        metrics.refused(reason.split(':')[0] ?? 'UNKNOWN');
        app.log.info({ subject: m.subject, key: m.key, reason }, 'dead-lettered a submission');
      },
    }));
    const url = await app.listen({ host: config.host, port: config.port });
    node.start();
    app.log.info(
      {
        origin: config.origin,
        database: config.database,
        logVerifierKey: formatVerifierKey(logKey),
        ...(nextLogKey ? { nextLogVerifierKey: formatVerifierKey(nextLogKey) } : {}),
      },
      'sequencer started',
    );
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        built.beginClose();
        // Stop consuming first: the batch in hand commits and is acknowledged, the lease is released.
        await node.close();
        await app.close();
        await closeOpened();
      })());
    return Object.assign(built, { url, node, store, nextLogKey, close });
  } catch (e) {
    await closeOpened();
    throw e;
  }
}
