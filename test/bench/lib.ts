// A small benchmark harness: cases run interleaved in rounds so that machine noise
// (another process, a GC) hits every case alike; each figure is the median round.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Case {
  name: string;
  /** Runs one batch of work; returns how many operations it did. */
  run: () => number;
}

export interface Result {
  name: string;
  opsPerSec: number;
  rounds: number[];
}

export function measure(
  cases: Case[],
  options: { rounds?: number; roundMs?: number } = {},
): Map<string, Result> {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 300;
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) {
    const until = performance.now() + roundMs; // warm-up: let the JIT settle
    while (performance.now() < until) c.run();
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      let ops = 0;
      const start = performance.now();
      let now = start;
      while (now - start < roundMs) {
        ops += c.run();
        now = performance.now();
      }
      samples.get(c.name)!.push(ops / ((now - start) / 1000));
    }
  }
  const out = new Map<string, Result>();
  for (const [name, s] of samples) {
    const sorted = [...s].sort((a, b) => a - b);
    out.set(name, { name, opsPerSec: sorted[Math.floor(sorted.length / 2)]!, rounds: s });
  }
  return out;
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.availableParallelism()} cores (${cpu.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function pct(a: number, b: number): string {
  return `${((a / b) * 100).toFixed(0)} %`;
}

/** One figure of the report: a measured value, its same-run baseline and the target. */
export interface Figure {
  suite: string;
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}

const TICK_US = 10_000;

/** User+system CPU of a process so far, µs (Linux /proc, 10 ms ticks; undefined once it is gone). */
export function cpuOfPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return undefined;
  }
}
