// Finds the real server an integration test needs, in this order:
//   1. the URL in the environment (infra/local/up writes them; .ci/run exports them);
//   2. a throwaway container started with testcontainers, when a container runtime answers
//      (contributors with Docker; never the case on the project's own machines);
//   3. nothing: locally the suite skips with a message naming the command to run, and under
//      CI=true the lookup throws, so a missing service fails the run loudly.
import { existsSync } from 'node:fs';

export type ServiceName = 'mongodb' | 'kafka' | 'nats';

/** The environment variable that names each service (see infra/local/README.md). */
export const SERVICE_ENV: Readonly<Record<ServiceName, string>> = {
  mongodb: 'CIVIC_LEDGER_TEST_MONGODB_URL',
  kafka: 'CIVIC_LEDGER_TEST_KAFKA_BROKERS',
  nats: 'CIVIC_LEDGER_TEST_NATS_URL',
};

/** Pinned images for the container path (production targets MongoDB 7 replica sets). */
export const SERVICE_IMAGES: Readonly<Record<ServiceName, string>> = {
  mongodb: 'mongo:7.0.14',
  kafka: 'confluentinc/cp-kafka:7.9.0',
  nats: 'nats:2.10.22',
};

export class MissingServiceError extends Error {
  readonly code = 'MISSING_SERVICE';
  constructor(message: string) {
    super(message);
    this.name = 'MissingServiceError';
  }
}

const howToRun = (name: ServiceName) =>
  `start it with \`infra/local/up ${name === 'mongodb' ? 'ferretdb' : name}\` and run the tests with ` +
  `\`set -a; . infra/local/.run/env; set +a\` (or set ${SERVICE_ENV[name]})`;

function runtimeMayExist(env: NodeJS.ProcessEnv): boolean {
  if (env.DOCKER_HOST || env.TESTCONTAINERS_HOST_OVERRIDE) return true;
  return ['/var/run/docker.sock', `${env.HOME ?? ''}/.docker/run/docker.sock`].some((p) => existsSync(p));
}

const started = new Map<ServiceName, Promise<string>>();

async function startContainer(name: ServiceName): Promise<string> {
  // Loaded only here: the container libraries are large and unused where no runtime exists.
  if (name === 'mongodb') {
    const { MongoDBContainer } = await import('@testcontainers/mongodb');
    const c = await new MongoDBContainer(SERVICE_IMAGES.mongodb).start();
    return `${c.getConnectionString()}?directConnection=true`;
  }
  if (name === 'kafka') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const c = await new KafkaContainer(SERVICE_IMAGES.kafka).withKraft().start();
    return `${c.getHost()}:${c.getMappedPort(9093)}`;
  }
  const { NatsContainer } = await import('@testcontainers/nats');
  const c = await new NatsContainer(SERVICE_IMAGES.nats).withJetStream().start();
  return `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export interface FindOptions {
  env?: NodeJS.ProcessEnv;
  /** Report for the skip message (default console.warn). */
  warn?: (message: string) => void;
}

/**
 * The address of a real `name` server, or undefined when there is none and the suite should
 * skip. Throws MissingServiceError under CI=true instead of returning undefined.
 */
export async function findService(name: ServiceName, options: FindOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const fromEnv = env[SERVICE_ENV[name]];
  if (fromEnv) return fromEnv;
  if (runtimeMayExist(env) && (await containerRuntimeAnswers())) {
    let p = started.get(name);
    if (!p) started.set(name, (p = startContainer(name)));
    return p;
  }
  const message = `no ${name} server: ${SERVICE_ENV[name]} is not set and no container runtime answers; ${howToRun(name)}`;
  if (env.CI === 'true')
    throw new MissingServiceError(`${message}. CI must run every suite against real services.`);
  (options.warn ?? console.warn)(`skipping ${name} suites: ${message}`);
  return undefined;
}
