// Witnessed checkpoints: the latency from a write to the first published checkpoint covering
// it, with three witness services on loopback and a 2-of-3 quorum, against the same latency
// without witnesses measured in the same run. Every server is its own process as users run
// them (services/witness/src/main.ts x3, services/standalone/src/main.ts x2); the client and
// the poller are this process. Rounds alternate between the two ledgers so machine noise hits
// both alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { chainEvents } from './chain-events.ts';
import { AGENCY, agencyKey, benchBootstrapEvents, benchOperatorKey } from './ledger-fixture.ts';
import type { Figure } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const LEDGER_MAIN = join(here, '..', '..', 'services', 'standalone', 'src', 'main.ts');
const WITNESS_MAIN = join(here, '..', '..', 'services', 'witness', 'src', 'main.ts');
const ORIGIN = 'bench.example/log';
/** A second witnessed ledger (another log to the witnesses) ticking as often as the baseline's timer. */
const ORIGIN_FAST = 'bench-fast.example/log';
const ROUNDS = 4;
const EVENTS_PER_ROUND = 150;
/** The checkpoint cadence of both ledgers: witnessed interval = max delay without witnesses. */
const CADENCE_MS = 1000;

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Proc {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function spawnReady(main: string, env: Record<string, string>, ready: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env['PATH'] ?? '',
      CIVIC_LEDGER_PORT: String(port),
      CIVIC_LEDGER_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}`);
    if (
      await fetch(`${url}${ready}`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error(`${main} did not become ready`);
    await sleep(50);
  }
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
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
  if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The size of the published checkpoint (0 while there is none). */
async function publishedSize(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/checkpoint.json`);
  if (res.status === 404) {
    await res.body?.cancel();
    return 0;
  }
  return ((await res.json()) as { size: number }).size;
}

async function waitCovered(url: string, size: number): Promise<void> {
  for (let i = 0; (await publishedSize(url)) < size; i++) {
    if (i > 2000) throw new Error(`no checkpoint of size ${size} at ${url}`);
    await sleep(10);
  }
}

/**
 * Sends single events at about 80/s and polls the published checkpoint every 5 ms: an
 * event's latency is from its send to the first poll that sees a checkpoint covering it.
 */
async function latencies(url: string, tag: string): Promise<number[]> {
  const events = chainEvents(EVENTS_PER_ROUND, {
    emitter: AGENCY,
    key: agencyKey,
    streams: 1,
    streamPrefix: tag,
  });
  const pending: { index: number; sent: number }[] = [];
  const out: number[] = [];
  let sending = true;
  const poller = (async () => {
    while (sending || pending.length > 0) {
      const size = await publishedSize(url);
      const now = performance.now();
      while (pending.length > 0 && pending[0]!.index < size) out.push(now - pending.shift()!.sent);
      await sleep(5);
    }
  })();
  for (const e of events) {
    const sent = performance.now();
    const r = (await post(url, '/v1/events', e)) as { receipt: { index: number } };
    pending.push({ index: r.receipt.index, sent });
    await sleep(10);
  }
  sending = false;
  await poller;
  return out;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function summary(xs: number[]): { p50: number; p99: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length };
}

/** Mean duration of a checkpoint round (all witnesses asked), from the ledger's metrics. */
async function meanRoundMs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = Number(/^civic_ledger_witness_round_seconds_sum (\S+)$/m.exec(text)?.[1]);
  const count = Number(/^civic_ledger_witness_round_seconds_count (\S+)$/m.exec(text)?.[1]);
  return (sum / count) * 1000;
}

export async function run(): Promise<Figure[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'cl-bench-witness-'));
  const procs: Proc[] = [];
  try {
    const logKey = generateSigningKey(ORIGIN);
    const LOG_KEY = formatVerifierKey(logKey);
    writeSigningKeyFile(join(tmp, 'log.key'), logKey);
    const fastKey = generateSigningKey(ORIGIN_FAST);
    const FAST_KEY = formatVerifierKey(fastKey);
    writeSigningKeyFile(join(tmp, 'fast.key'), fastKey);
    writeFileSync(join(tmp, 'logs.txt'), `log ${LOG_KEY}\nlog ${FAST_KEY}\n`);
    const witnesses: { name: string; proc: Proc; vkey: string }[] = [];
    for (const name of ['w1', 'w2', 'w3']) {
      const keyFile = join(tmp, `${name}.key`);
      writeSigningKeyFile(keyFile, generateSigningKey(`${name}.bench.example`));
      const proc = await spawnReady(
        WITNESS_MAIN,
        {
          CIVIC_LEDGER_WITNESS_KEY_FILE: keyFile,
          CIVIC_LEDGER_WITNESS_LOGS_FILE: join(tmp, 'logs.txt'),
          CIVIC_LEDGER_WITNESS_DB: join(tmp, `${name}.db`),
        },
        '/readyz',
      );
      procs.push(proc);
      const info = (await (await fetch(`${proc.url}/info`)).json()) as { verifierKey: string };
      witnesses.push({ name, proc, vkey: info.verifierKey });
    }
    const policy = (key: string) =>
      [
        `log ${key}`,
        ...witnesses.map((w) => `witness ${w.name} ${w.vkey} ${w.proc.url}`),
        'group oversight 2 w1 w2 w3',
        'quorum oversight',
        '',
      ].join('\n');
    writeFileSync(join(tmp, 'policy.txt'), policy(LOG_KEY));
    writeFileSync(join(tmp, 'fast-policy.txt'), policy(FAST_KEY));

    const ledgerEnv = (name: string): Record<string, string> => {
      mkdirSync(join(tmp, name), { recursive: true });
      return {
        CIVIC_LEDGER_DATA_DIR: join(tmp, name),
        CIVIC_LEDGER_OPERATOR_KEY: benchOperatorKey,
        CIVIC_LEDGER_ORIGIN: ORIGIN,
        CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
        CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
      };
    };
    const plain = await spawnReady(
      LEDGER_MAIN,
      { ...ledgerEnv('plain'), CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: String(CADENCE_MS) },
      '/readyz',
    );
    procs.push(plain);
    const witnessed = await spawnReady(
      LEDGER_MAIN,
      {
        ...ledgerEnv('witnessed'),
        CIVIC_LEDGER_LOG_KEY_FILE: join(tmp, 'log.key'),
        CIVIC_LEDGER_WITNESS_POLICY_FILE: join(tmp, 'policy.txt'),
        CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: String(CADENCE_MS),
      },
      '/readyz',
    );
    procs.push(witnessed);
    // The baseline's timer fires every maxDelayMs / 2: a witnessed ledger on that cadence
    // shows what the witnesses themselves add.
    const fast = await spawnReady(
      LEDGER_MAIN,
      {
        ...ledgerEnv('fast'),
        CIVIC_LEDGER_ORIGIN: ORIGIN_FAST,
        CIVIC_LEDGER_LOG_KEY_FILE: join(tmp, 'fast.key'),
        CIVIC_LEDGER_WITNESS_POLICY_FILE: join(tmp, 'fast-policy.txt'),
        CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: String(CADENCE_MS / 2),
      },
      '/readyz',
    );
    procs.push(fast);
    for (const l of [plain, witnessed, fast]) {
      const boot = (await post(l.url, '/v1/events/batch', { events: benchBootstrapEvents() })) as {
        results: { ok: boolean }[];
      };
      if (!boot.results.every((r) => r.ok))
        throw new Error(`bench bootstrap refused: ${JSON.stringify(boot)}`);
      await waitCovered(l.url, boot.results.length);
    }

    const lat = { plain: [] as number[], witnessed: [] as number[], fast: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      process.stderr.write(`bench witness: round ${r + 1}/${ROUNDS}\n`);
      lat.plain.push(...(await latencies(plain.url, `p${r}-`)));
      lat.witnessed.push(...(await latencies(witnessed.url, `w${r}-`)));
      lat.fast.push(...(await latencies(fast.url, `f${r}-`)));
    }
    const roundMs = await meanRoundMs(witnessed.url);
    // One witness down: the quorum (2 of 3) still holds.
    await witnesses[2]!.proc.stop();
    const down = await latencies(witnessed.url, 'down-');

    const p = summary(lat.plain);
    const w = summary(lat.witnessed);
    const f = summary(lat.fast);
    const d = summary(down);
    return [
      {
        suite: 'witness',
        metric: `write to cosigned checkpoint p50 / p99 (ms), 3 witnesses on loopback, quorum 2 of 3, ${w.n} single events at ~80/s, interval ${CADENCE_MS} ms`,
        value: `${w.p50.toFixed(0)} / ${w.p99.toFixed(0)}`,
        baseline: `no witnesses, max delay ${CADENCE_MS} ms: ${p.p50.toFixed(0)} / ${p.p99.toFixed(0)} (${p.n} events)`,
        ratio: `${(w.p50 / p.p50).toFixed(2)}x / ${(w.p99 / p.p99).toFixed(2)}x`,
        target: 'p99 < 2000 ms',
        met: w.p99 < 2000,
      },
      {
        suite: 'witness',
        metric: `the same, witnessed ledger ticking every ${CADENCE_MS / 2} ms (as often as the baseline's timer), ${f.n} events`,
        value: `${f.p50.toFixed(0)} / ${f.p99.toFixed(0)}`,
        baseline: `no witnesses: ${p.p50.toFixed(0)} / ${p.p99.toFixed(0)}`,
        ratio: `${(f.p50 / p.p50).toFixed(2)}x / ${(f.p99 / p.p99).toFixed(2)}x`,
        target: '(context)',
        met: undefined,
      },
      {
        suite: 'witness',
        metric:
          'checkpoint round: sign, 3 add-checkpoint requests concurrently, cosignatures checked (mean ms)',
        value: roundMs.toFixed(1),
        baseline: '',
        ratio: '',
        target: '(context)',
        met: undefined,
      },
      {
        suite: 'witness',
        metric: `write to cosigned checkpoint p50 / p99 (ms) with one witness stopped (2 of 3 left), ${d.n} events`,
        value: `${d.p50.toFixed(0)} / ${d.p99.toFixed(0)}`,
        baseline: `all three up: ${w.p50.toFixed(0)} / ${w.p99.toFixed(0)}`,
        ratio: `${(d.p99 / w.p99).toFixed(2)}x (p99)`,
        target: '(context)',
        met: undefined,
      },
    ];
  } finally {
    for (const proc of procs.reverse()) await proc.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
