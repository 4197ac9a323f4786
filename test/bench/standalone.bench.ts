// Standalone service: HTTP ingest (single events and batches of 100) against the library's
// own append rate for the same events submitted the same way, and the latency from a
// submission to the first signed checkpoint that covers it. The server runs as its own
// process (services/standalone/src/main.ts), as users run it; the client is this process.
// Request bodies are serialized before the clock starts (an agency's own machine does that
// work), and each figure reports the CPU the server and this client process spent per event:
// on 2 cores they share the machine. BENCH_PROFILE_DIR=dir writes the server's CPU profiles.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@civic-ledger/storage';
import { chainEvents, type BenchEvent } from './chain-events.ts';
import { AGENCY, agencyKey, benchBootstrapEvents, benchLedger, benchOperatorKey } from './ledger-fixture.ts';
import { cpuOfPid, fmt, pct, type Figure } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const mainTs = join(here, '..', '..', 'services', 'standalone', 'src', 'main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'cl-bench-http-'));

const WORKERS_SINGLE = 16;
const WORKERS_BATCH = 8;
const BATCH = 100;

/** Independent chains, one per worker, so concurrent senders never race one chain. */
function workerEvents(workers: number, perWorker: number, tag: string): BenchEvent[][] {
  return Array.from({ length: workers }, (_, w) =>
    chainEvents(perWorker, { emitter: AGENCY, key: agencyKey, streams: 1, streamPrefix: `${tag}${w}-` }),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(name: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [mainTs], {
    env: {
      ...process.env,
      CIVIC_LEDGER_DATA_DIR: join(tmp, name),
      CIVIC_LEDGER_PORT: String(port),
      CIVIC_LEDGER_OPERATOR_KEY: benchOperatorKey,
      CIVIC_LEDGER_ORIGIN: 'bench.example/log',
      CIVIC_LEDGER_LOG_LEVEL: 'warn',
      CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
      CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
      ...(process.env['BENCH_PROFILE_DIR']
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}` }
        : {}),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`bench server exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('bench server did not become ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  const boot = await post(url, '/v1/events/batch', { events: benchBootstrapEvents() });
  if (!(boot as { results: { ok: boolean }[] }).results.every((r) => r.ok))
    throw new Error(`bench bootstrap refused: ${JSON.stringify(boot)}`);
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function post(url: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (res.status >= 300 && res.status !== 200)
    throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A rate, and the CPU µs per event the server process and this (client) process spent. */
interface HttpRun {
  rate: number;
  serverCpu: number;
  clientCpu: number;
}

/** Each worker's request bodies, serialized ahead: `size` events per request. */
function requestBodies(work: BenchEvent[][], size: number): string[][] {
  return work.map((events) => {
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += size)
      bodies.push(JSON.stringify(size === 1 ? events[i] : { events: events.slice(i, i + size) }));
    return bodies;
  });
}

/** Each worker sends its own chain in order, one request after another; all run concurrently. */
async function httpRate(server: Server, bodies: string[][], total: number, size: number): Promise<HttpRun> {
  const path = size === 1 ? '/v1/events' : '/v1/events/batch';
  const pid = server.child.pid!;
  const server0 = cpuOfPid(pid) ?? 0;
  const client0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    bodies.map(async (requests) => {
      for (const body of requests) {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const json = (await res.json()) as { results?: { ok: boolean }[] };
        if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
        if (json.results && !json.results.every((x) => x.ok))
          throw new Error(`bench batch refused: ${JSON.stringify(json)}`);
      }
    }),
  );
  const rate = total / ((performance.now() - start) / 1000);
  const client = process.cpuUsage(client0);
  return {
    rate,
    serverCpu: ((cpuOfPid(pid) ?? NaN) - server0) / total,
    clientCpu: (client.user + client.system) / total,
  };
}

/** The same events, the same concurrency and request sizes, straight into the library. */
async function libraryRate(name: string, work: BenchEvent[][], size: number): Promise<number> {
  const store = new SqliteStore({ path: join(tmp, `${name}.db`) });
  const ledger = await benchLedger(store);
  const total = work.reduce((n, w) => n + w.length, 0);
  const start = performance.now();
  await Promise.all(
    work.map(async (events) => {
      for (let i = 0; i < events.length; i += size) {
        const results = await ledger.submit(events.slice(i, i + size));
        const bad = results.find((r) => !r.ok);
        if (bad && !bad.ok) throw new Error(`bench event refused: ${bad.error.code}`);
      }
    }),
  );
  const rate = total / ((performance.now() - start) / 1000);
  await ledger.close();
  await store.close();
  return rate;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Sends single events at a steady pace and watches the published checkpoint: the latency of
 * an event is from its send to the first poll that sees a signed checkpoint covering it.
 */
async function checkpointLatency(maxDelayMs: number): Promise<{ p50: number; p99: number; n: number }> {
  const server = await startServer('latency', { CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: String(maxDelayMs) });
  const events = chainEvents(400, { emitter: AGENCY, key: agencyKey, streams: 1, streamPrefix: 'lat' });
  const pending: { index: number; sent: number }[] = [];
  const latencies: number[] = [];
  let sending = true;
  const poller = (async () => {
    while (sending || pending.length > 0) {
      const cp = (await fetch(`${server.url}/v1/checkpoint.json`).then((r) => r.json())) as { size: number };
      const now = performance.now();
      while (pending.length > 0 && pending[0]!.index < cp.size) latencies.push(now - pending.shift()!.sent);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  for (const e of events) {
    const sent = performance.now();
    const r = (await post(server.url, '/v1/events', e)) as { receipt: { index: number } };
    pending.push({ index: r.receipt.index, sent });
    await new Promise((res) => setTimeout(res, 10)); // about 80 events/s
  }
  sending = false;
  await poller;
  await server.stop();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length };
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  try {
    // Rounds alternate library and HTTP (each on a fresh store or server, the same events),
    // so machine noise hits both alike; each figure is the median round.
    const rounds = Number(process.env['BENCH_STANDALONE_ROUNDS'] ?? 3);
    const compare = async (tag: string, workers: number, perWorker: number, size: number) => {
      const work = workerEvents(workers, perWorker, tag);
      const bodies = requestBodies(work, size);
      const total = workers * perWorker;
      const lib: number[] = [];
      const http: HttpRun[] = [];
      for (let r = 0; r < rounds; r++) {
        lib.push(await libraryRate(`lib-${tag}-${r}`, work, size));
        const server = await startServer(`http-${tag}-${r}`);
        http.push(await httpRate(server, bodies, total, size));
        await server.stop();
      }
      lib.sort((a, b) => a - b);
      http.sort((a, b) => a.rate - b.rate);
      return { lib: lib[Math.floor(rounds / 2)]!, http: http[Math.floor(rounds / 2)]! };
    };
    const cpu = (h: HttpRun) =>
      `${fmt(h.rate)}; CPU per event: server ${h.serverCpu.toFixed(0)} µs, client ${h.clientCpu.toFixed(0)} µs`;

    const batch = await compare('b', WORKERS_BATCH, 2500, BATCH);
    figures.push({
      suite: 'standalone',
      metric: `HTTP ingest, batches of ${BATCH} signed events, ${WORKERS_BATCH} clients (events/s; median of ${rounds} rounds)`,
      value: cpu(batch.http),
      baseline: `library append of the same batches, same concurrency: ${fmt(batch.lib)}/s`,
      ratio: pct(batch.http.rate, batch.lib),
      target: '>= 60 %',
      met: batch.http.rate >= 0.6 * batch.lib,
    });

    const single = await compare('s', WORKERS_SINGLE, 250, 1);
    figures.push({
      suite: 'standalone',
      metric: `HTTP ingest, one signed event per request, ${WORKERS_SINGLE} clients (events/s; median of ${rounds} rounds)`,
      value: cpu(single.http),
      baseline: `library append one event per call, same concurrency: ${fmt(single.lib)}/s`,
      ratio: pct(single.http.rate, single.lib),
      target: '(context)',
      met: undefined,
    });

    const maxDelayMs = 1000;
    const lat = await checkpointLatency(maxDelayMs);
    figures.push({
      suite: 'standalone',
      metric: `write to signed checkpoint latency p50 / p99 (ms), ${lat.n} single events at ~80/s`,
      value: `${lat.p50.toFixed(0)} / ${lat.p99.toFixed(0)}`,
      baseline: `checkpoint policy max delay ${maxDelayMs} ms (the default)`,
      ratio: `p99 = ${pct(lat.p99, maxDelayMs)} of the max delay`,
      target: 'p99 < 1000 ms',
      met: lat.p99 < 1000,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}
