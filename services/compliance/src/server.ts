// Starts the compliance service: reads the log the sequencer writes on MongoDB, evaluates
// every appended event, submits its findings to the Kafka submissions topic exactly as an
// agency's own producer would (one signed event per message, keyed by its chain) and waits
// for the sequencer's outcomes on NATS; publishes each recorded finding on the NATS `finding`
// subject; serves the findings and decision API. `close()` stops intake, drains the findings
// queue, closes the clients.
import { namespacedSubjects, type Subscription } from '@civic-ledger/bus';
import { KafkaBus } from '@civic-ledger/bus-kafka';
import { NatsBus } from '@civic-ledger/bus-nats';
import {
  busAlert,
  ComplianceRunner,
  registerComplianceRoutes,
  type SubmitFindings,
} from '@civic-ledger/compliance-runner';
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import { IngestGateway, pipelineSubjects, submissionMessage } from '@civic-ledger/pipeline';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { ComplianceConfig } from './config.ts';

export interface RunningCompliance extends StandaloneApp {
  url: string;
  runner: ComplianceRunner;
  store: MongoStore;
  close(): Promise<void>;
}

export async function startCompliance(
  config: ComplianceConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningCompliance> {
  const subjects = pipelineSubjects(config.namespace);
  const findingSubject = namespacedSubjects(config.namespace).finding;
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const c of opened.splice(0).reverse()) await c.close().catch(() => undefined);
  };
  // Set once the app exists: what the runner reports before that is in its status.
  let log: FastifyBaseLogger | undefined;
  try {
    const store = await MongoStore.connect(config.mongoUrl, config.database);
    opened.push(store);
    const kafka = await KafkaBus.connect({
      brokers: config.kafkaBrokers,
      clientId: 'civic-ledger-compliance',
      partitions: config.partitions,
      publishTimeoutMs: 10_000,
    });
    opened.push(kafka);
    const nats = await NatsBus.connect({ servers: config.natsServers, name: 'civic-ledger-compliance' });
    opened.push(nats);
    // Only for the sequencer's outcomes: the findings are published below, as produced by us.
    const outcomes = new IngestGateway({
      submissions: kafka,
      outcomes: nats,
      subjects,
      maxRemembered: 10_000,
    });
    await outcomes.start();
    opened.push(outcomes);

    const submit: SubmitFindings = async (events) => {
      await Promise.all(
        events.map((d) => {
          const m = submissionMessage(d, 'kafka');
          return kafka.publish(subjects.submissions, m.data, {
            key: m.key,
            partitionKey: m.partitionKey,
            headers: m.headers,
          });
        }),
      );
      return Promise.all(
        events.map(async (d) => {
          const o = await outcomes.waitFor(d.hash, config.submitTimeoutMs);
          if (o === undefined) {
            return {
              ok: false as const,
              error: {
                code: 'TIMEOUT',
                message: `no outcome from the sequencer within ${config.submitTimeoutMs} ms`,
              },
            };
          }
          return o.ok
            ? { ok: true as const, duplicate: o.duplicate }
            : { ok: false as const, error: o.error };
        }),
      );
    };

    const runner = await ComplianceRunner.open({
      source: store,
      key: config.key,
      org: config.org,
      submit,
      alert: busAlert(nats, findingSubject),
      pollIntervalMs: config.pollIntervalMs,
      retentionIntervalMs: config.retentionIntervalMs,
      onError: (err, context) => log?.warn({ err, context }, 'compliance runner'),
    });
    opened.push(runner);
    // The sequencer announces each commit: read on at once instead of at the next poll.
    const appended: Subscription = await nats.subscribe(subjects.appended, async () => runner.notify());
    opened.push(appended);

    const built = await buildApp(
      {
        origin: config.origin,
        checkpointWithinMs: config.checkpointWithinMs,
        readOnly: true,
        readRoutes: false,
        title: 'Civic Ledger compliance service',
        clientRateLimit:
          config.rateLimitPerMinute === 0 ? null : { max: config.rateLimitPerMinute, windowMs: 60_000 },
        keyRateLimit: null,
        logLevel: config.logLevel,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      {
        ready: async () => {
          const [k, n, s] = await Promise.all([
            kafka.ready(),
            nats.ready(),
            store.head().then(
              () => true,
              () => false,
            ),
          ]);
          const dependencies = {
            kafka: k ? 'up' : 'down',
            nats: n ? 'up' : 'down',
            mongodb: s ? 'up' : 'down',
          };
          const ok = k && n && s;
          return { ok, status: ok ? 'ready' : 'dependency-unavailable', size: runner.size, dependencies };
        },
        registerExtra: (r) => registerComplianceRoutes(r, runner),
      },
    );
    const { app } = built;
    log = app.log;
    // The API's metrics, then the runner's.
    const render = built.metrics.render.bind(built.metrics);
    built.metrics.render = (gauges) => render(gauges) + runner.metricsText();
    const url = await app.listen({ host: config.host, port: config.port });
    app.log.info(
      { org: config.org, key: config.key.name, evaluated: runner.size, database: config.database },
      'compliance service started',
    );
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
        // The runner drains its queue while Kafka and NATS are still open.
        await closeOpened();
      })());
    return Object.assign(built, { url, runner, store, close });
  } catch (e) {
    await closeOpened();
    throw e;
  }
}
