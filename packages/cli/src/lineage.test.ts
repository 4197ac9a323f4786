// `civic-ledger lineage` against a real `civic-ledger start --demo` (one server for the file),
// each command a real child process: traces with their completeness and the checkpoint
// opened with the pinned key, JSON answers, a bundle `verify --bundle` accepts, a PROV
// export, and the exit codes of bad flags, unknown events and a wrong key.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startCli, type Started } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'cli-lineage-'));
let server: Started;
const DATASET = 'transport-agency/traffic-stats/daily';

beforeAll(async () => {
  server = await startCli(['--demo', '--demo-size', '150', '--data-dir', join(root, 'data')]);
}, 30_000);

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

// Traces are auditor scope: the demo's auditor token, as start printed it. Footprints and
// flows are public: asked without it (`publicUrl`).
const url = () => ['--url', server.info.url, '--token', server.info.tokens!.auditor];
const publicUrl = () => ['--url', server.info.url];
const pin = () => ['--log-key', server.info.logKey, '--origin', server.info.origin];

async function api(route: string, query: string): Promise<Record<string, unknown>> {
  const token = readFileSync(server.info.tokens!.auditor, 'utf8').trim();
  const res = await fetch(`${server.info.url}/v1/lineage/${route}?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('civic-ledger lineage', { timeout: 30_000 }, () => {
  it('upstream of a dataset: every node, COMPLETE, the checkpoint opened with the pinned key', async () => {
    const r = await cli(['lineage', 'upstream', ...url(), ...pin(), '--dataset', DATASET]);
    expect(r.code, r.stderr).toBe(0);
    const answer = await api('trace', `dataset=${DATASET}&direction=upstream&depth=10`);
    const nodes = answer['nodes'] as { index: number; type: string }[];
    expect(nodes.length).toBeGreaterThan(5);
    expect(r.stdout).toContain(`upstream of dataset ${DATASET}: ${nodes.length} nodes`);
    for (const n of nodes) expect(r.stdout).toMatch(new RegExp(`#${n.index}\\s+${n.type}\\s`));
    expect(r.stdout).toContain('\nCOMPLETE as of tree size 150\n');
    expect(r.stdout).toContain('checkpoint: size 150 signed by the pinned log key');
    expect(r.stdout).not.toContain('INCOMPLETE');

    // Without a key the same answer is printed, said to be unverified.
    const bare = await cli(['lineage', 'upstream', ...url(), '--dataset', DATASET]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toContain('checkpoint: size 150 (unverified: no --log-key pinned)');
  });

  it('--depth 1 cuts the answer: INCOMPLETE with the depth reason, still exit 0', async () => {
    const r = await cli(['lineage', 'upstream', ...url(), ...pin(), '--dataset', DATASET, '--depth', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /\nINCOMPLETE as of tree size 150: depth \(\d+\): \d+ links lead beyond depth 1\n/,
    );
    expect(r.stdout).not.toContain('\nCOMPLETE');
  });

  it('--json prints the API answer; --all follows the pages to the same nodes', async () => {
    const [r, paged] = await Promise.all([
      cli([
        'lineage',
        'downstream',
        ...url(),
        ...pin(),
        '--source',
        'transport-agency/cameras/centre-01',
        '--json',
      ]),
      cli([
        'lineage',
        'downstream',
        ...url(),
        '--source',
        'transport-agency/cameras/centre-01',
        '--limit',
        '4',
        '--all',
        '--json',
      ]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const direct = await api(
      'trace',
      'source=transport-agency/cameras/centre-01&direction=downstream&depth=10',
    );
    const { checkpointVerified, ...answer } = out;
    expect(checkpointVerified).toBe(true);
    expect(answer).toEqual(direct);

    expect(paged.code, paged.stderr).toBe(0);
    const all = JSON.parse(paged.stdout) as typeof direct & { pages: number };
    expect(all.pages).toBeGreaterThan(2);
    expect(paged.stderr).toContain('page 1: 4 nodes so far');
    expect(all.nodes).toEqual(direct['nodes']);
    expect(all.next).toBeUndefined();
    // The last page's reasons are the whole answer's: no `page` reason is left.
    expect(all.incomplete).toEqual(direct['incomplete']);
    expect(all.checkpointVerified).toBeNull();
  });

  it('a page cut short says INCOMPLETE (page) and gives the cursor', async () => {
    const r = await cli(['lineage', 'upstream', ...url(), '--dataset', DATASET, '--limit', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nINCOMPLETE as of tree size 150: page/);
    expect(r.stdout).toMatch(/\nnext page: --cursor \S+ \(or --all\)\n/);
  });

  it('bundle writes a directory that `verify --bundle` accepts', async () => {
    const dir = join(root, 'bundle');
    const r = await cli([
      'lineage',
      'bundle',
      ...url(),
      ...pin(),
      '--dataset',
      DATASET,
      '--out',
      dir,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    const answer = await api('trace', `dataset=${DATASET}&direction=upstream&depth=10`);
    expect(summary).toMatchObject({ ok: true, verified: true, complete: true, asOf: 150, treeSize: 150 });
    expect(summary['chosen']).toBe((answer['nodes'] as unknown[]).length);

    const v = await cli(['verify', '--bundle', dir, ...pin(), '--no-save', '--json']);
    expect(v.code, v.stderr).toBe(0);
    const report = JSON.parse(v.stdout) as { ok: boolean; bundle: string; chosen: { eventHash: string }[] };
    expect(report).toMatchObject({ ok: true, bundle: 'partial' });
    expect(report.chosen.map((c) => c.eventHash).sort()).toEqual(
      (answer['nodes'] as { event: string }[]).map((n) => n.event).sort(),
    );

    const again = await cli(['lineage', 'bundle', ...url(), ...pin(), '--dataset', DATASET, '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--out: ');
  });

  it('export --format prov writes a PROV-JSON document with an activity per node', async () => {
    const file = join(root, 'prov.json');
    const r = await cli([
      'lineage',
      'export',
      ...url(),
      '--format',
      'prov',
      '--out',
      file,
      '--dataset',
      DATASET,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('COMPLETE as of tree size 150');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      activity: Record<string, { 'cl:eventHash': string }>;
    };
    const answer = await api('trace', `dataset=${DATASET}&direction=upstream&depth=10`);
    expect(
      Object.values(doc.activity)
        .map((a) => a['cl:eventHash'])
        .sort(),
    ).toEqual((answer['nodes'] as { event: string }[]).map((n) => n.event).sort());
  });

  it('footprint and flows print their tables with completeness', async () => {
    const [fp, fl] = await Promise.all([
      cli(['lineage', 'footprint', ...publicUrl(), '--source', 'transport-agency/cameras/centre-01']),
      cli([
        'lineage',
        'flows',
        ...publicUrl(),
        '--from',
        '2026-10-01T00:00:00Z',
        '--until',
        '2026-11-01T00:00:00Z',
      ]),
    ]);
    expect(fp.code, fp.stderr).toBe(0);
    expect(fp.stdout).toMatch(
      /footprint of source transport-agency\/cameras\/centre-01: 1 collects, \d+ events/,
    );
    expect(fp.stdout).toContain('COMPLETE as of tree size 150');
    expect(fl.code, fl.stderr).toBe(0);
    expect(fl.stdout).toMatch(/transport-agency -> statistics-office\s+\d+\s+city:OfficialStatistics/);
    expect(fl.stdout).toContain('COMPLETE as of tree size 150');
  });

  it('bad flags exit 2 naming the flag (ours and those the server refuses)', async () => {
    const runs = await Promise.all([
      cli(['lineage', 'upstream', ...url(), '--dataset', DATASET, '--depth', '99']),
      cli(['lineage', 'upstream', ...url(), '--dataset', DATASET, '--type', 'derive,steal']),
      cli(['lineage', 'sideways', ...url(), '--dataset', DATASET]),
      cli(['lineage', 'upstream', ...url(), '--dataset', DATASET, '--event', 'a'.repeat(64)]),
      cli(['lineage', 'footprint', ...url(), '--source', 'Not A Source']),
      cli(['lineage', 'bundle', ...url(), '--dataset', DATASET, '--out', join(root, 'nokey')]),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(2);
    expect(runs[0]!.stderr).toContain('--depth: at most 50');
    expect(runs[1]!.stderr).toContain('--type: ');
    expect(runs[2]!.stderr).toContain('<query>: ');
    expect(runs[3]!.stderr).toContain('give exactly one');
    expect(runs[4]!.stderr).toContain('--source: resource id');
    expect(runs[5]!.stderr).toContain('no log key');
  });

  it('an unknown event exits 3 with NOT_FOUND; a wrong pinned key exits 1', async () => {
    const wrongKey = formatVerifierKey(generateSigningKey(server.info.origin));
    const [missing, missingJson, wrong] = await Promise.all([
      cli(['lineage', 'upstream', ...url(), ...pin(), '--event', 'a'.repeat(64)]),
      cli(['lineage', 'upstream', ...url(), '--event', 'a'.repeat(64), '--json']),
      cli(['lineage', 'upstream', ...url(), '--log-key', wrongKey, '--dataset', DATASET]),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('HTTP 404 NOT_FOUND');
    expect(missingJson.code).toBe(3);
    expect(JSON.parse(missingJson.stdout)).toMatchObject({ ok: false, error: { code: 'SERVER_ERROR' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('does not verify with the pinned log key');

    const down = await cli(['lineage', 'upstream', '--url', 'http://127.0.0.1:1', '--dataset', DATASET]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('could not reach');
  });
});
