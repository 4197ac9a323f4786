// The real process: configuration errors exit 1 naming the variable; SIGTERM drains and
// exits 0; a new process on the same database keeps the state (a witness restarted
// mid-protocol).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryLog } from '@civic-ledger/witness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'witness-main-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout, stderr, exited };
}

async function listening(p: Proc): Promise<{ url: string; verifierKey: string }> {
  for (let i = 0; i < 200; i++) {
    for (const line of p.stdout) {
      const entry = JSON.parse(line) as { msg: string; url?: string; verifierKey?: string };
      if (entry.msg === 'witness listening') return { url: entry.url!, verifierKey: entry.verifierKey! };
    }
    if (p.child.exitCode !== null) throw new Error(`exited: ${p.stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the witness did not start');
}

describe('witness process', () => {
  it('exits 1 naming the variable when the configuration is wrong', async () => {
    const p = run({ CIVIC_LEDGER_WITNESS_DB: join(dir, 'w.db') });
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain('civic-ledger witness: invalid configuration');
    expect(err).toContain('CIVIC_LEDGER_WITNESS_KEY_FILE: required');
    expect(err).toContain('CIVIC_LEDGER_WITNESS_LOGS_FILE: required');
  });

  it('cosigns, stops on SIGTERM with exit 0, and a new process on the same database keeps the state', async () => {
    const log = new MemoryLog('ledger.example/log').grow(6);
    writeFileSync(join(dir, 'logs.txt'), `log ${log.verifierKey}\n`);
    const env = {
      CIVIC_LEDGER_WITNESS_KEY_FILE: join(dir, 'keys', 'witness.key'),
      CIVIC_LEDGER_WITNESS_NAME: 'witness.example/w',
      CIVIC_LEDGER_WITNESS_LOGS_FILE: join(dir, 'logs.txt'),
      CIVIC_LEDGER_WITNESS_DB: join(dir, 'witness.db'),
      CIVIC_LEDGER_PORT: '0',
    };
    const first = run(env);
    const { url, verifierKey } = await listening(first);
    expect(first.stdout.some((l) => l.includes('created a new witness key'))).toBe(true);
    const r = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: log.addCheckpointRequest(0) });
    expect(r.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout.some((l) => l.includes('"msg":"closed"'))).toBe(true);

    const second = run(env);
    const again = await listening(second);
    expect(again.verifierKey).toBe(verifierKey); // the same key, read back from its file
    const stale = await fetch(`${again.url}/add-checkpoint`, {
      method: 'POST',
      body: log.addCheckpointRequest(0),
    });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toBe('6\n');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
