// `civic-ledger findings` and `civic-ledger decide` as real child processes against a real HTTP
// server: a Ledger holding a signed demo city with violations, the compliance runner
// following it, and its routes mounted on the API (buildApp + registerExtra, listening on a
// free port), as the standalone service mounts them.
import { formatSigningKey } from '@civic-ledger/crypto';
import { ComplianceRunner, registerComplianceRoutes } from '@civic-ledger/compliance-runner';
import { generateDemoCity, violationHooks } from '@civic-ledger/demo-city';
import { Ledger } from '@civic-ledger/ledger-core';
import { buildApp, type StandaloneApp } from '@civic-ledger/ledger-http';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './harness.ts';

const city = generateDemoCity({
  seed: 'cli-compliance',
  size: 600,
  now: Date.parse('2026-12-01T00:00:00Z'),
  hooks: violationHooks({ perHour: 0.1 }),
});
const store = new MemoryStore();
let ledger: Ledger;
let runner: ComplianceRunner;
let app: StandaloneApp;
let bare: StandaloneApp;
let url: string;
let bareUrl: string;

beforeAll(async () => {
  ledger = await Ledger.open({
    store,
    origin: city.origin,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    signatureThreads: 0,
    now: () => Date.parse('2026-12-01T00:00:00Z'),
    onAppended: () => runner?.notify(),
  });
  for await (const batch of city.batches()) await ledger.submit(batch);
  runner = await ComplianceRunner.open({
    source: store,
    key: city.keys.get('compliance')!,
    submit: (e) => ledger.submitDecoded(e),
    retentionIntervalMs: 0,
  });
  await runner.settled();
  await runner.catchUp();
  const config = { origin: city.origin, checkpointWithinMs: 60_000, logger: false, clientRateLimit: null };
  app = await buildApp(config, {
    ledger,
    store,
    logKey: city.logKey,
    registerExtra: (r) => registerComplianceRoutes(r, runner, { logSize: () => ledger.size }),
  });
  bare = await buildApp(config, { ledger, store, logKey: city.logKey });
  url = await app.app.listen({ host: '127.0.0.1', port: 0 });
  bareUrl = await bare.app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.app.close();
  await bare?.app.close();
  await runner?.close();
  await ledger?.close();
});

interface Finding {
  index: number;
  check: string;
  outcome: string;
  organizations: string[];
  explanation: string;
}

describe('civic-ledger findings', { timeout: 30_000 }, () => {
  it('lists every finding newest first; --json is the API answer; --org filters; --all follows the pages', async () => {
    const [table, json, police, paged] = await Promise.all([
      cli(['findings', '--url', url, '--limit', '1000']),
      cli(['findings', '--ledger', url, '--limit', '1000', '--json']),
      cli([
        'findings',
        '--url',
        url,
        '--org',
        'police',
        '--outcome',
        'violation',
        '--json',
        '--limit',
        '1000',
      ]),
      cli(['findings', '--url', url, '--limit', '5', '--all', '--json']),
    ]);
    for (const r of [table, json, police, paged]) expect(r.code, r.stderr).toBe(0);
    const all = JSON.parse(json.stdout) as { findings: Finding[]; asOf: number };
    expect(all.findings.length).toBe(runner.status().findings.submitted);
    expect(all.findings.length).toBeGreaterThan(5);
    expect(all.asOf).toBe(ledger.size);
    expect(table.stdout).toContain(
      `${all.findings.length} findings (log read up to tree size ${ledger.size})`,
    );
    for (const f of all.findings) {
      expect(table.stdout).toMatch(new RegExp(`#${f.index}\\s+\\S+\\s+${f.outcome}\\s+${f.check}\\s`));
      expect(table.stdout).toContain(`#${f.index}  ${f.explanation}`);
    }
    const byPolice = (JSON.parse(police.stdout) as { findings: Finding[] }).findings;
    expect(byPolice.length).toBeGreaterThan(0);
    expect(byPolice).toEqual(
      all.findings.filter((f) => f.organizations.includes('police') && f.outcome === 'violation'),
    );
    expect((JSON.parse(paged.stdout) as { findings: Finding[] }).findings).toEqual(all.findings);
    expect(paged.stderr).toContain('fetching the next');
  });

  it('names the flag of a bad value (exit 2), also when the server refuses it; no compliance API is exit 3', async () => {
    const [outcome, from, noUrl, notThere] = await Promise.all([
      cli(['findings', '--url', url, '--outcome', 'fine']),
      cli(['findings', '--url', url, '--from', 'yesterday']),
      cli(['findings']),
      cli(['findings', '--url', bareUrl]),
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--outcome: violation, undetermined, overdue');
    expect(from.code).toBe(2);
    expect(from.stderr).toContain('--from: time: RFC 3339');
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('--url: required');
    expect(notThere.code).toBe(3);
    expect(notThere.stderr).toContain('serves no compliance API');
  });
});

describe('civic-ledger decide', { timeout: 30_000 }, () => {
  // As of the end of the city's month: the police deletes its extracts within days.
  const plates = ['--org', 'police', '--dataset', 'transport-agency/plate-extract', '--at', city.end];

  it('answers with its exit code: 0 allow, 1 deny (with the reasons), 4 undetermined; writes nothing', async () => {
    const size = ledger.size;
    const [allow, deny, transfer, unknown, json] = await Promise.all([
      cli(['decide', '--url', url, ...plates, '--purpose', 'city:RoadSafetyEnforcement']),
      cli(['decide', '--url', url, ...plates, '--purpose', 'city:Advertising']),
      cli([
        'decide',
        '--url',
        url,
        ...plates,
        '--purpose',
        'city:RoadSafetyEnforcement',
        '--recipient',
        'vendor-b',
      ]),
      cli(['decide', '--url', url, ...plates, '--purpose', 'city:NoSuchPurpose']),
      cli(['decide', '--url', url, ...plates, '--purpose', 'city:Advertising', '--json']),
    ]);
    expect(allow.code, allow.stderr).toBe(0);
    expect(allow.stdout).toMatch(
      /^ALLOW: police may use transport-agency\/plate-extract for city:RoadSafetyEnforcement/,
    );
    expect(allow.stdout).toMatch(/\d+ checks passed/);
    expect(deny.code, deny.stderr).toBe(1);
    expect(deny.stdout).toMatch(/^DENY: police may not use /);
    expect(deny.stdout).toMatch(/\n {2}violation purpose-declared: .+\./);
    expect(transfer.code).toBe(1);
    expect(transfer.stdout).toContain('transfer transport-agency/plate-extract to vendor-b');
    expect(transfer.stdout).toContain('violation recipient-allowed');
    expect(unknown.code, unknown.stderr).toBe(4);
    expect(unknown.stdout).toMatch(/^UNDETERMINED: /);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ decision: 'deny', asOf: size });
    expect(ledger.size).toBe(size);
  });

  it('names the flag the server refused (exit 2); --help answers', async () => {
    const [bad, missing, help] = await Promise.all([
      cli(['decide', '--url', url, ...plates, '--purpose', 'advertising']),
      cli(['decide', '--url', url, ...plates]),
      cli(['decide', '--help']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--purpose: term: prefix:Name');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--purpose: required');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 allow, 1 deny, 4 undetermined');
  });
});
