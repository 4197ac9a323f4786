// Starts the ingest service: Kafka for submissions, NATS for outcomes, the HTTP API. Ready
// only while both brokers answer; `close()` stops intake, drains requests, closes the buses.
import { KafkaBus } from '@civic-ledger/bus-kafka';
import { NatsBus } from '@civic-ledger/bus-nats';
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import { IngestGateway, pipelineSubjects } from '@civic-ledger/pipeline';
import type { FastifyServerOptions } from 'fastify';
import type { IngestConfig } from './config.ts';
import { registerIngestRoutes } from './routes.ts';

export interface RunningIngest extends StandaloneApp {
  url: string;
  gateway: IngestGateway;
  close(): Promise<void>;
}

export async function startIngest(
  config: IngestConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningIngest> {
  const kafka = await KafkaBus.connect({
    brokers: config.kafkaBrokers,
    clientId: 'civic-ledger-ingest',
    partitions: config.partitions,
    publishTimeoutMs: 10_000,
  });
  let nats: NatsBus;
  try {
    nats = await NatsBus.connect({ servers: config.natsServers, name: 'civic-ledger-ingest' });
  } catch (e) {
    await kafka.close();
    throw e;
  }
  // Both brokers are probed in the background: the request path reads the last answer.
  const health = { kafka: true, nats: true };
  const probe = async () => {
    const [k, n] = await Promise.all([kafka.ready(), nats.ready()]);
    health.kafka = k;
    health.nats = n;
  };
  await probe();
  const prober = setInterval(() => void probe().catch(() => undefined), 500);
  prober.unref();
  const brokerDown = () => (!health.kafka ? 'kafka' : !health.nats ? 'nats' : undefined);
  const gateway = new IngestGateway({
    submissions: kafka,
    outcomes: nats,
    subjects: pipelineSubjects(config.namespace),
  });
  await gateway.start();
  const perMinute = (max: number) => (max === 0 ? null : { max, windowMs: 60_000 });
  const built = await buildApp(
    {
      origin: config.origin,
      checkpointWithinMs: 0,
      readRoutes: false,
      title: 'Civic Ledger ingest service',
      batchBodyLimit: 8 * 1024 * 1024,
      clientRateLimit: perMinute(config.rateLimitPerMinute),
      keyRateLimit: perMinute(config.keyRateLimitPerMinute),
      logLevel: config.logLevel,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
    {
      registerSubmissions: (r, tools) =>
        registerIngestRoutes(r, tools, gateway, { maxWaitMs: config.maxWaitMs, brokerDown }),
      ready: async () => {
        const dependencies = { kafka: health.kafka ? 'up' : 'down', nats: health.nats ? 'up' : 'down' };
        const ok = brokerDown() === undefined;
        return { ok, status: ok ? 'ready' : 'broker-unavailable', dependencies };
      },
    },
  );
  const { app } = built;
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await app.close();
    await gateway.close();
    await Promise.all([kafka.close(), nats.close()]);
    throw e;
  }
  app.log.info({ kafka: config.kafkaBrokers, nats: config.natsServers.length }, 'ingest listening');
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
      clearInterval(prober);
      await gateway.close();
      await Promise.all([kafka.close(), nats.close()]);
    })());
  return Object.assign(built, { url, gateway, close });
}
