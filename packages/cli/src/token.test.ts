// `civic-ledger token` through the real dispatcher (runCli), and the token support every
// HTTP-reading command shares (commands/common.ts).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectToken } from '@civic-ledger/access';
import { testIssuer } from '@civic-ledger/access/testing';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { authHeaders, ledgerFetch, readToken } from './commands/common.ts';
import type { Io } from './io.ts';

const ORIGIN = 'ledger.test.example/log';
const dir = mkdtempSync(join(tmpdir(), 'cli-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const issuer = testIssuer(ORIGIN);
const keyFile = issuer.writeKeyFile(dir);
const roles: Record<string, string> = { 'privacy-board': 'oversight', 'transport-agency': 'agency' };
const verifier = issuer.verifier((org) => roles[org]);

function io(env: Record<string, string> = {}): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    errIsTty: false,
    cwd: dir,
    env,
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const i = io(env);
  const code = await runCli(args, i);
  return { code, stdout: i.stdout(), stderr: i.stderr() };
}

describe('civic-ledger token issue', () => {
  it('prints a token the ledger accepts, named after the key (the origin), 1 h by default', async () => {
    const r = await run([
      'token',
      'issue',
      '--key',
      keyFile,
      '--org',
      'privacy-board',
      '--scope',
      'oversight',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(await verifier.verify(token)).toMatchObject({
      org: 'privacy-board',
      scope: 'oversight',
      role: 'oversight',
    });
    const { claims } = inspectToken(token);
    expect(claims['iss']).toBe(ORIGIN);
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(3600);
    expect(r.stderr).toContain('keep it secret');
    expect(r.stderr).not.toContain(token);
  });

  it('takes --ttl and --origin, and writes --out with mode 0600, refusing to overwrite', async () => {
    const out = join(dir, 'board.token');
    const r = await run([
      'token',
      'issue',
      '--key',
      keyFile,
      '--org',
      'transport-agency',
      '--scope',
      'auditor',
      '--ttl',
      '7d',
      '--origin',
      'other.example/log',
      '--out',
      'board.token',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const summary = JSON.parse(r.stdout) as Record<string, string>;
    expect(summary).toMatchObject({
      org: 'transport-agency',
      scope: 'auditor',
      origin: 'other.example/log',
      file: out,
    });
    const { claims } = inspectToken(readFileSync(out, 'utf8').trim());
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(7 * 86_400);
    expect(claims['iss']).toBe('other.example/log');
    const again = await run([
      'token',
      'issue',
      '--key',
      keyFile,
      '--org',
      'transport-agency',
      '--scope',
      'auditor',
      '--out',
      'board.token',
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--out');
  });

  it.each([
    [['--scope', 'public'], '--scope'],
    [['--scope', 'auditor', '--org', 'Not An Org'], '--org'],
    [['--scope', 'auditor', '--ttl', '31d'], '--ttl'],
    [['--scope', 'auditor', '--issuer-key', formatVerifierKey(issuer.key)], '--issuer-key'],
  ])('refuses %j naming %s (exit 2)', async (flags, named) => {
    const r = await run(['token', 'issue', '--key', keyFile, '--org', 'privacy-board', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(named);
    expect(r.stdout).toBe('');
  });

  it('refuses a key file others can read, and a missing one', async () => {
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, readFileSync(keyFile));
    chmodSync(loose, 0o644);
    const r = await run(['token', 'issue', '--key', loose, '--org', 'privacy-board', '--scope', 'auditor']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('chmod 600');
    const missing = await run([
      'token',
      'issue',
      '--key',
      'nope.key',
      '--org',
      'privacy-board',
      '--scope',
      'auditor',
    ]);
    expect(missing.code).toBe(3);
  });

  it('answers --help with both actions', async () => {
    const r = await run(['token', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: civic-ledger token issue/);
    expect(r.stdout).toContain('civic-ledger token inspect');
    expect(r.stdout).toContain('Exit codes:');
    expect((await run(['help', 'token'])).stdout).toBe(r.stdout);
    expect((await run(['token'])).code).toBe(2);
  });
});

describe('civic-ledger token inspect', () => {
  it('shows the claims NOT VERIFIED without a key, verified with the issuer key', async () => {
    const token = await issuer.token('privacy-board', 'oversight');
    const plain = await run(['token', 'inspect', token]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('organization: privacy-board');
    expect(plain.stdout).toContain('scope:        oversight');
    expect(plain.stdout).toContain('NOT VERIFIED');
    const checked = await run([
      'token',
      'inspect',
      token,
      '--issuer-key',
      formatVerifierKey(issuer.key),
      '--origin',
      ORIGIN,
      '--json',
    ]);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({
      verified: true,
      expired: false,
      claims: { sub: 'privacy-board' },
    });
  });

  it('exits 1 for a token another key signed or an expired one, and reads a token file', async () => {
    const token = await issuer.token('privacy-board', 'auditor');
    const other = formatVerifierKey(generateSigningKey(ORIGIN));
    const wrong = await run(['token', 'inspect', token, '--issuer-key', other]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('DOES NOT VERIFY (unknown-key');
    const old = await issuer.token('privacy-board', 'auditor', { now: Date.now() - 7200_000 });
    writeFileSync(join(dir, 'old.token'), `${old}\n`);
    const expired = await run([
      'token',
      'inspect',
      'old.token',
      '--issuer-key',
      formatVerifierKey(issuer.key),
    ]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toContain('(EXPIRED)');
    expect(expired.stdout).toContain('DOES NOT VERIFY (expired');
  });

  it('refuses what is not a token (exit 2)', async () => {
    expect((await run(['token', 'inspect', 'no-such-file'])).code).toBe(2);
    expect((await run(['token', 'inspect', 'a.b.c'])).code).toBe(2);
  });
});

describe('the token of HTTP reads (common.ts)', () => {
  it('reads --token <file>, else $CIVIC_LEDGER_TOKEN, else nothing; refuses a file without a token', async () => {
    const token = await issuer.token('transport-agency', 'auditor');
    writeFileSync(join(dir, 'a.token'), `${token}\n`);
    writeFileSync(join(dir, 'junk.token'), 'not a token\n');
    expect(readToken(io(), { token: 'a.token' })).toBe(token);
    expect(readToken(io({ CIVIC_LEDGER_TOKEN: token }), {})).toBe(token);
    expect(readToken(io(), {})).toBeUndefined();
    expect(authHeaders(io({ CIVIC_LEDGER_TOKEN: token }), {})).toEqual({ authorization: `Bearer ${token}` });
    expect(() => readToken(io(), { token: 'junk.token' })).toThrow(/does not hold a token/);
    expect(() => readToken(io(), { token: 'missing.token' })).toThrow(/cannot read/);
    try {
      readToken(io(), { token: 'junk.token' });
    } catch (e) {
      expect(String(e)).not.toContain('not a token\n');
    }
  });

  it('sends the token to the ledger and to no other host', async () => {
    const seen: { server: string; headers: IncomingHttpHeaders }[] = [];
    const listen = async (name: string) => {
      const server = createServer((req, res) => {
        seen.push({ server: name, headers: req.headers });
        res.end('{}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const ledger = await listen('ledger');
    const witness = await listen('witness');
    try {
      const token = await issuer.token('transport-agency', 'auditor');
      const f = ledgerFetch(io({ CIVIC_LEDGER_TOKEN: token }), {}, ledger.url);
      await f(`${ledger.url}/v1/entries?from=0`, { headers: { accept: 'application/json' } });
      await f(`${witness.url}/checkpoint`);
      expect(seen[0]).toMatchObject({
        server: 'ledger',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
      expect(seen[1]!.server).toBe('witness');
      expect(seen[1]!.headers.authorization).toBeUndefined();
      expect(ledgerFetch(io(), {}, ledger.url)).toBe(globalThis.fetch);
    } finally {
      ledger.server.close();
      witness.server.close();
    }
  });
});
