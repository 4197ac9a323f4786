// Shared by the CLI acceptance tests: the real `civic-ledger` executable as a child process
// (`civic-ledger start` too), its `verify --json` report, and what a forger does to an
// evidence bundle after editing it (lines rewritten, the manifest re-hashed).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '@civic-ledger/canonical-json';
import type { VerifyReport } from '@civic-ledger/cli';
import { cli, type CliRun } from '@civic-ledger/cli/harness';

export { BIN, cli, startCli, writeToken, type CliRun, type Started } from '@civic-ledger/cli/harness';
export type { VerifyReport } from '@civic-ledger/cli';

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

// --- evidence bundles -------------------------------------------------------------------

/** The lines of a bundle's .jsonl file (without their line feeds). */
export const linesOf = (dir: string, file: string): string[] =>
  readFileSync(join(dir, file), 'utf8').split('\n').slice(0, -1);

export const writeLines = (dir: string, file: string, lines: readonly string[]): void =>
  writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));

/** A bundle line as the format writes it: RFC 8785 canonical JSON. */
export const canonicalLine = (o: Record<string, unknown>): string => canonicalize(o);

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
