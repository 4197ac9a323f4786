import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, parseVerifierKey, readSigningKeyFile } from '@civic-ledger/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './cli.ts';
import { cli } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help', { timeout: 30_000 }, () => {
  it('civic-ledger --help lists every command and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(`\n  ${name} `);
  });

  it('every subcommand answers --help with its usage and exit codes, exit 0', async () => {
    const names = Object.keys(COMMANDS);
    const runs = await Promise.all(names.map((name) => cli([name, '--help'])));
    names.forEach((name, i) => {
      const r = runs[i]!;
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: civic-ledger ${name}`));
      expect(r.stdout).toContain('Exit codes:');
    });
  });

  it('`help <cmd>` and `<cmd> -h` print the same help', async () => {
    const [a, b, c] = await Promise.all([
      cli(['help', 'verify']),
      cli(['verify', '-h']),
      cli(['verify', '--help']),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toBe(c.stdout);
    expect(b.stdout).toBe(c.stdout);
  });

  it('no command at all is a usage error (help on stderr, exit 2)', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: civic-ledger <command>');
  });
});

describe('usage errors exit 2 and name the flag and rule', { timeout: 30_000 }, () => {
  it('an unknown command', async () => {
    const r = await cli(['verfiy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "verfiy"');
  });

  it('an unknown flag', async () => {
    const r = await cli(['verify', '--url', 'http://127.0.0.1:1', '--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'--colour'");
    expect(r.stderr).toContain('civic-ledger verify --help');
  });

  it('a value breaking its rule', async () => {
    const [port, threads, url, access] = await Promise.all([
      cli(['start', '--port', '70000']),
      cli(['verify', '--data-dir', dir, '--threads', 'many']),
      cli(['verify', '--url', 'ftp://example.org']),
      cli(['start', '--demo', '--data-dir', join(dir, 'never'), '--access-control', 'open']),
    ]);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port: at most 65535');
    expect(access.code).toBe(2);
    expect(access.stderr).toContain('--access-control: tokens or off');
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain('--threads: a decimal integer');
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('--url: an http:// or https:// URL');
  });

  it('verify without a pinned log key says how to get one, never asking the server', async () => {
    const r = await cli(['verify', '--url', 'http://127.0.0.1:1'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-key');
    expect(r.stderr).toContain('never taken from the server');
  });

  it('a config file with an unknown member', async () => {
    const file = join(dir, 'bad-config.json');
    await import('node:fs').then((fs) => fs.writeFileSync(file, '{"url":"http://127.0.0.1:1","logkey":"x"}'));
    const r = await cli(['verify', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown member(s) "logkey"');
  });
});

describe('keygen', { timeout: 30_000 }, () => {
  it('writes a 0600 private key file and prints its verifier key', async () => {
    const file = join(dir, 'agency.key');
    const r = await cli(['keygen', '--name', 'transport-agency/2026-01', '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const printed = r.stdout.trim();
    expect(parseVerifierKey(printed).name).toBe('transport-agency/2026-01');
    expect(formatVerifierKey(readSigningKeyFile(file))).toBe(printed);

    const again = await cli(['keygen', '--name', 'transport-agency/2026-01', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');
    expect(formatVerifierKey(readSigningKeyFile(file))).toBe(printed);
  });

  it('refuses a name that is not <organization>/<label>', async () => {
    const r = await cli(['keygen', '--name', 'Agency', '--out', join(dir, 'x.key')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--name: a key name <organization>/<label>');
  });
});
