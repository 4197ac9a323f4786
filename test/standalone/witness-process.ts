// A witness service (services/witness/src/main.ts) as its own process, for the suites that
// run witnesses: its key and the logs it knows written as files, ready once /info answers.
// Restartable on the same database, so a test can kill it mid-protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { freePort, sleep } from './support.ts';

const WITNESS_MAIN = fileURLToPath(new URL('../../services/witness/src/main.ts', import.meta.url));

export interface WitnessProcess {
  name: string;
  url: string;
  /** Its cosignature verifier key (for policy lines). */
  vkey: string;
  child: ChildProcess;
  stderr(): string;
}

/**
 * Starts witness `name` in `dir` (its key file, logs file and database there; the key is made
 * on the first start, 0600) for the logs with these verifier keys, on `port` (default a free
 * one). Every child is pushed to `children` so the suite can kill what is left.
 */
export async function startWitnessProcess(
  dir: string,
  name: string,
  logKeys: readonly string[],
  children: ChildProcess[],
  port?: number,
): Promise<WitnessProcess> {
  const keyFile = join(dir, `${name}.key`);
  if (!existsSync(keyFile)) writeSigningKeyFile(keyFile, generateSigningKey(`${name}.oversight.example`));
  writeFileSync(join(dir, `${name}-logs.txt`), logKeys.map((k) => `log ${k}\n`).join(''));
  const listen = port ?? (await freePort());
  const child = spawn(process.execPath, [WITNESS_MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      CIVIC_LEDGER_WITNESS_KEY_FILE: keyFile,
      CIVIC_LEDGER_WITNESS_LOGS_FILE: join(dir, `${name}-logs.txt`),
      CIVIC_LEDGER_WITNESS_DB: join(dir, `${name}.db`),
      CIVIC_LEDGER_PORT: String(listen),
      CIVIC_LEDGER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = `http://127.0.0.1:${listen}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`witness ${name} exited: ${stderr}`);
    const info = await fetch(`${url}/info`).then(
      (r) => (r.ok ? (r.json() as Promise<{ verifierKey: string }>) : undefined),
      () => undefined,
    );
    if (info) return { name, url, vkey: info.verifierKey, child, stderr: () => stderr };
    if (Date.now() > deadline) throw new Error(`witness ${name} not ready: ${stderr}`);
    await sleep(50);
  }
}

/** A tlog-policy text: the log, the witnesses with their URLs, `k` of them as the quorum. */
export function witnessPolicy(
  logKey: string,
  witnesses: readonly WitnessProcess[],
  k: number | 'all',
): string {
  return [
    `log ${logKey}`,
    ...witnesses.map((w) => `witness ${w.name} ${w.vkey} ${w.url}`),
    `group oversight ${k} ${witnesses.map((w) => w.name).join(' ')}`,
    'quorum oversight',
    '',
  ].join('\n');
}
