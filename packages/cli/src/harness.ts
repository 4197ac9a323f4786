// Test harness: runs the real executable (bin/civic-ledger.mjs) as a child process under
// the running Node (>= 24, so the launcher imports the sources directly).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { issueToken, type TokenScope } from '@civic-ledger/access';
import type { SigningKey } from '@civic-ledger/crypto';

export const BIN = fileURLToPath(new URL('../bin/civic-ledger.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, CIVIC_LEDGER_STATE_DIR: undefined, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface Started {
  child: ChildProcess;
  info: {
    url: string;
    docs: string;
    origin: string;
    logKey: string;
    size: number;
    dataDir: string;
    demoKeys: string | null;
    seeded: number;
    accessControl: 'tokens' | 'off';
    /** The token-issuer private key file (null when access control is off). */
    tokenIssuerKey: string | null;
    /** With a demo and tokens: the files holding its read tokens. */
    tokens: { oversight: string; auditor: string } | null;
  };
  /** Output so far. */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `civic-ledger start --json ...`: resolves once the ready line is printed. */
export function startCli(args: readonly string[], timeoutMs = 30_000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--json', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start did not get ready in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let ready = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      for (const line of stdout.split('\n')) {
        if (ready || !line.startsWith('{"url"')) continue;
        ready = true;
        clearTimeout(timer);
        resolve({
          child,
          info: JSON.parse(line) as Started['info'],
          stderr: () => stderr,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start exited with ${code}:\n${stderr}`));
    });
  });
}

/**
 * A read token for `org` signed with a running service's issuer key, written (mode 0600) to
 * `file` for `--token`, as `civic-ledger token issue --out` would. Returns the file.
 */
export async function writeToken(
  access: { issuerKey: SigningKey } | undefined,
  options: { origin: string; org: string; scope: TokenScope; file: string },
): Promise<string> {
  if (access === undefined) throw new Error('the service runs without access control: no token to issue');
  const token = await issueToken(access.issuerKey, {
    origin: options.origin,
    org: options.org,
    scope: options.scope,
  });
  writeFileSync(options.file, `${token}\n`, { mode: 0o600 });
  return options.file;
}
