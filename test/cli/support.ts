// Shared by the CLI acceptance tests: the real `civic-ledger` executable as a child process
// (`civic-ledger start` too), its `verify --json` report, and what a forger does to an
// evidence bundle after editing it (lines rewritten, the manifest re-hashed).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/cli/bin/civic-ledger.mjs: run under the test's Node (>= 24, the direct path). */
export const BIN = fileURLToPath(new URL('../../packages/cli/bin/civic-ledger.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `civic-ledger <args>` run to completion. The state dir never comes from the caller's env. */
export function cli(args: readonly string[], options: { cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, CIVIC_LEDGER_STATE_DIR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `verify --json` report (packages/cli README): every member always present. */
export interface VerifyReport {
  ok: boolean;
  index: number | null;
  eventHash: string | null;
  check: string | null;
  message: string | null;
  range: [number, number] | null;
  size: number;
  checkpoints: number;
  treeSize: number | null;
  rootHash: string | null;
  origin: string;
  source: string;
  bundle: 'full' | 'partial' | null;
  chosen: { index: number; eventHash: string }[] | null;
  file: string | null;
  line: number | null;
  statePath: string | null;
  previousSize: number | null;
  stateSaved: boolean;
  elapsedMs: number;
}

export interface VerifyRun {
  code: number | null;
  report: VerifyReport;
  run: CliRun;
}

/** `civic-ledger verify <args> --json`: the exit code and the parsed report. */
export async function verify(args: readonly string[]): Promise<VerifyRun> {
  const run = await cli(['verify', ...args, '--json']);
  let report: VerifyReport;
  try {
    report = JSON.parse(run.stdout) as VerifyReport;
  } catch {
    throw new Error(`verify printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { code: run.code, report, run };
}

export interface Started {
  child: ChildProcess;
  info: { url: string; origin: string; logKey: string; size: number; dataDir: string };
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `civic-ledger start --json --port 0 <args>`: resolves on the ready line. */
export function startCli(args: readonly string[], timeoutMs = 30_000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--json', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ready = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start was not ready within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{"url"'));
      if (ready || line === undefined) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        child,
        info: JSON.parse(line) as Started['info'],
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`start exited with ${code}:\n${stderr}`));
    });
  });
}

// --- evidence bundles -------------------------------------------------------------------

/** The lines of a bundle's .jsonl file (without their line feeds). */
export const linesOf = (dir: string, file: string): string[] =>
  readFileSync(join(dir, file), 'utf8').split('\n').slice(0, -1);

export const writeLines = (dir: string, file: string, lines: readonly string[]): void =>
  writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));

/** RFC 8785 for the flat objects of a bundle line: members sorted, no white space. */
export const canonicalLine = (o: Record<string, unknown>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

/**
 * What a careful forger does after editing a bundle's files: each file's SHA-256, size and
 * line count written into the manifest (and a full bundle's treeSize = its entries), so
 * FILE_HASH and BUNDLE_COUNTS no longer catch the edit.
 */
export function rehash(dir: string): void {
  const path = join(dir, 'bundle.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as {
    kind: string;
    treeSize: number;
    counts: Record<string, number>;
    files: Record<string, { sha256: string; bytes: number }>;
  };
  for (const file of Object.keys(m.files)) {
    const bytes = readFileSync(join(dir, file));
    m.files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    const counted = file.replace(/\.jsonl$/, '');
    if (counted in m.counts) m.counts[counted] = bytes.toString('utf8').split('\n').length - 1;
  }
  if (m.kind === 'full') m.treeSize = m.counts['entries']!;
  writeFileSync(path, `${JSON.stringify(m, null, 2)}\n`);
}

// --- Merkle tree shape ------------------------------------------------------------------

/**
 * The perfect subtrees of an RFC 9162 tree of `size` leaves, largest first, as leaf ranges
 * [from, to): what a saved verifier state's `border` holds one hash of each.
 */
export function borderRanges(size: number): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(1, size))); bit >= 1; bit /= 2) {
    if (size - from >= bit) {
      out.push([from, from + bit]);
      from += bit;
    }
  }
  return out;
}
