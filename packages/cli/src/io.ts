// Where a command writes. Results go to stdout (text, or one JSON document with --json);
// messages and progress go to stderr, the progress bar only when stderr is a terminal.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars are drawn only then). */
  readonly errIsTty: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    errIsTty: process.stderr.isTTY === true,
    cwd: process.cwd(),
    env: process.env,
  };
}

export interface Progress {
  update(done: number, total: number): void;
  /** Clears the bar (the caller prints its own summary). */
  done(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, done: () => undefined };

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const int = new Intl.NumberFormat('en-US');

/**
 * A one-line progress bar on stderr: fraction, count, rate and ETA. Silent unless stderr is
 * a terminal, so logs and pipes never fill with carriage returns. Redrawn at most ~10 times
 * a second.
 */
export function progressBar(
  io: Io,
  label: string,
  unit: string,
  now: () => number = () => performance.now(),
): Progress {
  if (!io.errIsTty) return NO_PROGRESS;
  const started = now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      const t = now();
      if (t - lastDraw < 100 && done < total) return;
      lastDraw = t;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = 24;
      const filled = Math.round(fraction * width);
      const elapsed = (t - started) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : Number.NaN;
      const line =
        `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ` +
        `${int.format(done)}/${int.format(total)} ${unit} ${int.format(Math.round(rate))}/s ETA ${formatDuration(eta)}`;
      io.err(`\r${line}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) io.err('\r\x1b[K');
      drawn = false;
    },
  };
}
