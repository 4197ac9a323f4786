// Test support (not exported by the package): a real standalone service whose log key is
// rotated as the standalone README says, restarted on the same data dir and port for each
// stage: key A alone; the overlap, every checkpoint signed by A and B
// (CIVIC_LEDGER_NEXT_LOG_KEY_FILE); then B alone (CIVIC_LEDGER_LOG_KEY_FILE). The tests of
// `--log-keys` (monitor, export, verify, proof, emit, register, lineage) share it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { runCli } from './cli.ts';
import type { CliRun } from './harness.ts';

export class RotatingLedger {
  readonly origin: string;
  /** A temporary directory for the data, the next key and the tests' files; removed by close(). */
  readonly root: string;
  /** The operator (its key is the service's CIVIC_LEDGER_OPERATOR_KEY). */
  readonly operator = new TestEmitter('ledger');
  /** The next log key's private key file (B). */
  readonly nextFile: string;
  readonly #env: Record<string, string>;
  #service: RunningService | undefined;
  #port = 0;
  /** The first log key (A) once started, and the next one (B). */
  A = '';
  readonly B: string;

  /** `env`: variables for every stage (e.g. CIVIC_LEDGER_ACCESS_CONTROL). */
  constructor(origin: string, env: Record<string, string> = {}) {
    this.origin = origin;
    this.#env = env;
    this.root = mkdtempSync(join(tmpdir(), 'cli-rotated-'));
    this.nextFile = join(this.root, 'next-log.key');
    const next = generateSigningKey(origin);
    writeSigningKeyFile(this.nextFile, next);
    this.B = formatVerifierKey(next);
  }

  get service(): RunningService {
    if (this.#service === undefined) throw new Error('the ledger is not started');
    return this.#service;
  }

  get url(): string {
    return this.service.url;
  }

  get size(): number {
    return this.service.ledger.size;
  }

  /**
   * (Re)starts the service on the same data and port with `extra` variables, submits
   * `events` (each must be accepted) and signs a checkpoint covering them.
   */
  async run(extra: Record<string, string>, events: readonly TestSubmission[]): Promise<RunningService> {
    await this.#service?.close();
    const service = await startService(
      loadConfig({
        CIVIC_LEDGER_DATA_DIR: join(this.root, 'data'),
        CIVIC_LEDGER_PORT: String(this.#port),
        CIVIC_LEDGER_OPERATOR_KEY: this.operator.verifierKey,
        CIVIC_LEDGER_ORIGIN: this.origin,
        ...this.#env,
        ...extra,
      }),
      { logger: false },
    );
    this.#service = service;
    this.#port = Number(new URL(service.url).port);
    for (const e of events) {
      const post = () =>
        fetch(`${service.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(e),
        });
      // A kept-alive socket to the stopped instance may still be pooled (same port): one retry
      // (a resent event gets its original receipt).
      const res = await post().catch(post);
      if (res.status !== 201) throw new Error(await res.text());
    }
    await service.ledger.checkpointNow();
    return service;
  }

  /** Stage 1: key A alone (the service makes it). */
  async keyA(events: readonly TestSubmission[]): Promise<RunningService> {
    const s = await this.run({}, events);
    this.A = formatVerifierKey(s.logKey);
    return s;
  }

  /** Stage 2, the overlap: checkpoints signed by A and B, receipts by A. */
  overlap(events: readonly TestSubmission[]): Promise<RunningService> {
    return this.run({ CIVIC_LEDGER_NEXT_LOG_KEY_FILE: this.nextFile }, events);
  }

  /** Stage 3: B alone. */
  keyB(events: readonly TestSubmission[]): Promise<RunningService> {
    return this.run({ CIVIC_LEDGER_LOG_KEY_FILE: this.nextFile }, events);
  }

  /** Writes `content` as JSON to `name` in the root (a --log-keys file); returns its path. */
  file(name: string, content: unknown): string {
    const path = join(this.root, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  }

  /**
   * Runs a command in this process through the real dispatcher (runCli), in the root, with an
   * empty environment: much faster than the executable (harness `cli`) on a busy machine.
   */
  async cli(args: readonly string[]): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const io = {
      out: (t: string) => void (stdout += t),
      err: (t: string) => void (stderr += t),
      errIsTty: false,
      cwd: this.root,
      env: {},
    };
    const code = await runCli(args, io);
    return { code, stdout, stderr };
  }

  async close(): Promise<void> {
    await this.#service?.close();
    this.#service = undefined;
    rmSync(this.root, { recursive: true, force: true });
  }
}
