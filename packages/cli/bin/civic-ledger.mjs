#!/usr/bin/env node
// The civic-ledger executable. Plain JavaScript so it starts on any Node >= 20: on Node >= 24
// it runs the TypeScript sources directly (type stripping); on an older Node it asks the
// repository's bootstrap for the pinned Node 24 (installed into .tools/ on first use) and
// re-runs itself with it, stdio inherited, signals forwarded, exit code propagated.
import { spawn, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_NODE_MAJOR = 24;
const self = realpathSync(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);

if (major >= MIN_NODE_MAJOR) {
  // Compiled modules (and their stripped types) are cached on disk across runs: a run
  // starts faster, and so do the verifier's worker threads (each loads the decoder).
  // NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  (await import('node:module')).enableCompileCache?.();
  await import('../src/main.ts');
} else {
  const root = join(dirname(self), '..', '..', '..');
  const bootstrap = join(root, 'scripts', 'bootstrap.mjs');
  // The bootstrap's `exec` runs a command with the pinned toolchain first on PATH; ask that
  // node for its own path, then run it directly (so signals reach it, not a middleman).
  const probe = spawnSync(
    process.execPath,
    [bootstrap, 'exec', 'node', '-e', 'process.stdout.write(process.execPath)'],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (probe.status !== 0 || !probe.stdout) {
    process.stderr.write(
      `civic-ledger: Node ${process.versions.node} is older than ${MIN_NODE_MAJOR} and the pinned Node could not be installed (${bootstrap})\n`,
    );
    process.exit(3);
  }
  const child = spawn(probe.stdout.trim(), [self, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 3);
    }
  });
}
