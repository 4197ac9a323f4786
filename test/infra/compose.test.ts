// infra/compose.yaml is not run here (no Docker engine on CI machines), so this checks what
// can be checked without one: it parses; every published port is on 127.0.0.1; every ledger
// service it names exists and is given only variables that service reads, and with them
// (and the operator key the file asks for) the service's own configuration loads.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadComplianceConfig, complianceEnvSchema } from '@civic-ledger/compliance-service';
import { loadMonitorConfig, monitorEnvSchema } from '@civic-ledger/monitor-service';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { ingestEnvSchema, loadIngestConfig } from '@civic-ledger/ingest-service';
import { loadQueryConfig, queryEnvSchema } from '@civic-ledger/query-service';
import { loadSequencerConfig, sequencerEnvSchema } from '@civic-ledger/sequencer-service';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const compose = parse(readFileSync(root('infra/compose.yaml'), 'utf8')) as {
  services: Record<
    string,
    {
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      build?: { dockerfile: string };
    }
  >;
};

const ledgerServices = {
  ingest: { schema: ingestEnvSchema, load: loadIngestConfig },
  sequencer: { schema: sequencerEnvSchema, load: loadSequencerConfig },
  query: { schema: queryEnvSchema, load: loadQueryConfig },
  compliance: { schema: complianceEnvSchema, load: loadComplianceConfig },
  monitor: { schema: monitorEnvSchema, load: loadMonitorConfig },
} as const;

/** Resolves compose's `${VAR:?message}` the way a user's .env would. */
const operatorKey = formatVerifierKey(generateSigningKey('ledger/k1'));
const logVerifierKey = formatVerifierKey(generateSigningKey('civic-ledger.localhost/log'));
const tokenIssuerKey = formatVerifierKey(generateSigningKey('ledger/token-issuer'));
// The compliance key secret, as the operator would provide it (the service reads it at start).
const complianceKeyFile = join(mkdtempSync(join(tmpdir(), 'cl-compose-')), 'compliance.key');
writeSigningKeyFile(complianceKeyFile, generateSigningKey('compliance/k1'));
// The monitor's read token secret (its shape is all the service checks at start).
const monitorTokenFile = join(dirname(complianceKeyFile), 'monitor.token');
writeFileSync(monitorTokenFile, 'eyJhbGciOiJFZERTQSJ9.eyJvcmciOiJib2FyZCJ9.c2ln\n', { mode: 0o600 });
const substitute = (v: string) =>
  v
    .replace(/\$\{CIVIC_LEDGER_OPERATOR_KEY:\?[^}]*\}/, operatorKey)
    .replace(/\$\{CIVIC_LEDGER_LOG_VERIFIER_KEY:\?[^}]*\}/, logVerifierKey)
    .replace(/\$\{CIVIC_LEDGER_TOKEN_ISSUER_KEY:\?[^}]*\}/, tokenIssuerKey)
    .replace('/run/secrets/compliance_key', complianceKeyFile)
    .replace('/run/secrets/monitor_token', monitorTokenFile);

describe('infra/compose.yaml', () => {
  it('publishes every port on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('runs each ledger service that exists, with only the variables it reads, and they load', () => {
    const named = Object.entries(compose.services).filter(([, s]) =>
      s.command?.some((c) => c.startsWith('services/')),
    );
    expect(named.map(([n]) => n).sort()).toEqual([
      'compliance',
      'ingest',
      'monitor',
      'query',
      'sequencer-a',
      'sequencer-b',
    ]);
    for (const [name, s] of named) {
      const main = s.command!.find((c) => c.startsWith('services/'))!;
      expect(existsSync(root(main)), main).toBe(true);
      const kind = /^services\/(\w+)\/src\/main\.ts$/.exec(main)![1] as keyof typeof ledgerServices;
      const { schema, load } = ledgerServices[kind];
      const env = Object.fromEntries(
        Object.entries(s.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]),
      );
      for (const k of Object.keys(env)) expect(Object.keys(schema.shape), `${name}: ${k}`).toContain(k);
      expect(() => load(env), name).not.toThrow();
      expect(existsSync(root(s.build!.dockerfile)), s.build!.dockerfile).toBe(true);
    }
  });

  it('runs the query service with read access control on, its issuer key from the environment', () => {
    const env = compose.services['query']!.environment!;
    expect(env['CIVIC_LEDGER_ACCESS_CONTROL']).toBe('tokens');
    expect(env['CIVIC_LEDGER_TOKEN_ISSUER_KEY']).toMatch(/^\$\{CIVIC_LEDGER_TOKEN_ISSUER_KEY:\?/);
    const config = loadQueryConfig(
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, substitute(String(v))])),
    );
    expect(config.access && formatVerifierKey(config.access.issuerKey)).toBe(tokenIssuerKey);
  });

  it('builds with the pnpm the project pins (packageManager, which the bootstrap installs)', () => {
    const pinned = (JSON.parse(readFileSync(root('package.json'), 'utf8')) as { packageManager: string })
      .packageManager;
    expect(pinned).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
    expect(readFileSync(root('infra/Dockerfile'), 'utf8')).toContain(`npm install -g ${pinned}`);
  });
});
