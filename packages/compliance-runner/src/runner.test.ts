// The compliance consumer over a real Ledger (in-memory store) holding a signed demo city
// with the violation hooks, wired as the standalone service wires it: every violation gets
// its finding on the ledger, signed by the compliance key and checkable by anyone; a finding
// is never written twice (restarts, lost answers); the retention monitor raises overdue
// findings without any movement; new events are judged as they are appended.
import { ComplianceState } from '@civic-ledger/compliance';
import { fromBase64, parseVerifierKey } from '@civic-ledger/crypto';
import type { ViolationKind } from '@civic-ledger/demo-city';
import { verifyEventSignature } from '@civic-ledger/events';
import type { Event } from '@civic-ledger/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComplianceRunner, type FindingRecord } from './index.ts';
import { leavesOf, openTestCity, type TestCity } from './test-city.ts';

/** The check each kind of demo violation fails (as the engine's own demo-city test says). */
const BROKEN: Record<ViolationKind, string> = {
  'undeclared-purpose': 'purpose-declared',
  'video-to-police': 'purpose-declared',
  'wifi-to-advertiser': 'recipient-allowed',
  'onward-without-policy': 'recipient-allowed',
};

let t: TestCity;

beforeAll(async () => {
  t = await openTestCity('runner', 1200, 0.15);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

async function findingLeaves() {
  return (await leavesOf(t.store)).filter((l) => l.event.type === 'finding');
}

/** Non-compliant outcomes of a fresh engine over the city itself: what must be recorded. */
function expectedFindings(): Set<string> {
  const s = new ComplianceState();
  const out = new Set<string>();
  t.events.forEach((x, i) => s.add(x.event, i, x.hash));
  for (const x of t.events)
    for (const o of s.evaluate(x.hash))
      if (o.outcome !== 'compliant') out.add(`${o.about} ${o.check} ${o.outcome}`);
  return out;
}

describe('ComplianceRunner over a ledger', { timeout: 60_000 }, () => {
  it('records every violation of the city as a finding signed by the compliance key, once', async () => {
    const runner = await t.openRunner();
    await runner.settled();
    await runner.catchUp();
    const findings = await findingLeaves();
    expect(t.violations.size).toBeGreaterThan(20);
    expect(new Set(t.violations.values()).size).toBe(4);

    // Exactly what the engine finds in the city: no finding missing, none extra, none twice.
    const recorded = findings.map((f) => `${f.event['about']} ${f.event['check']} ${f.event['outcome']}`);
    expect(new Set(recorded).size).toBe(recorded.length);
    expect(new Set(recorded)).toEqual(expectedFindings());
    for (const [hash, kind] of t.violations) expect(recorded).toContain(`${hash} ${BROKEN[kind]} violation`);

    // Signed by the compliance service's own registered key, on its own chain, verifiable.
    const key = parseVerifierKey(t.city.verifierKeys['compliance']!);
    findings.forEach((f, i) => {
      expect(f.event).toMatchObject({
        emitter: 'compliance',
        stream: 'findings',
        key: 'compliance/k1',
        seq: i + 1,
      });
      expect(verifyEventSignature(f.hash, fromBase64(f.signature), key)).toBe(true);
      if (i > 0) expect(f.event['prev']).toBe(findings[i - 1]!.hash);
    });

    // Anyone re-running the engine over the log agrees with every finding (evidence check).
    const all = await leavesOf(t.store);
    const check = new ComplianceState();
    for (const l of all) check.add(l.event, l.index, l.hash);
    for (const f of findings) {
      expect(check.evaluate(f.hash)).toEqual([
        expect.objectContaining({ check: 'evidence', outcome: 'compliant' }),
      ]);
    }

    const status = runner.status();
    expect(status).toMatchObject({
      evaluated: all.length,
      lag: 0,
      findings: { queued: 0, awaitingLog: 0, refused: 0 },
    });
    expect(status.findings.submitted).toBe(findings.length);
    expect(Object.values(status.findings.recorded).reduce((a, b) => a + b, 0)).toBe(findings.length);
    expect(runner.metricsText()).toContain(
      `civic_ledger_compliance_findings_recorded{outcome="violation"} ${status.findings.recorded['violation']}`,
    );
  });

  it('judges a movement appended later, records its finding and raises the alert', async () => {
    const alerts: FindingRecord[] = [];
    await t.runner?.close();
    const runner = await t.openRunner({ alert: (f) => void alerts.push(f) });
    // A copy of a demo violation (advertising use of traffic data) on a new chain: a new event.
    const [hash] = [...t.violations].find(([, k]) => k === 'undeclared-purpose')!;
    const original = t.events.find((e) => e.hash === hash)!.event as Event & Record<string, unknown>;
    const { type, dataset, inputs, purpose, declaration, action } = original;
    const probe = t
      .emitter(original.emitter, 'probe')
      .next({ type, dataset, inputs, purpose, declaration, action } as never);
    const [result] = await t.ledger.submit([probe]);
    expect(result!.ok).toBe(true);
    // The append hook notified the runner: no call from the test.
    await expect
      .poll(() => alerts.map((a) => `${a.about} ${a.check}`), { timeout: 10_000 })
      .toContain(`${probe.hash} purpose-declared`);
    const alert = alerts.find((a) => a.about === probe.hash && a.check === 'purpose-declared')!;
    expect(alert).toMatchObject({
      emitter: 'compliance',
      outcome: 'violation',
      evaluated: { type: 'use', emitter: original.emitter, dataset: (dataset as { id: string }).id },
    });
    expect(alert.organizations).toContain(original.emitter);
    expect(runner.findings({ about: probe.hash }, { limit: 10 }).findings.map((f) => f.event)).toContain(
      alert.event,
    );
  });

  it('records nothing twice after a restart, and evaluates only from where it had got', async () => {
    await t.runner?.settled();
    const before = await findingLeaves();
    await t.runner?.close();
    const again = await t.openRunner();
    await again.settled();
    await again.catchUp();
    expect(await findingLeaves()).toEqual(before);
    expect(again.status().findings.submitted).toBe(0);
    // The index was rebuilt from the leaves: the same findings, newest first.
    const page = again.findings({}, { limit: 1000 });
    expect(page.findings.map((f) => f.event)).toEqual(before.map((f) => f.hash).reverse());
    expect(again.status().evaluations).toBeLessThan(t.ledger.size / 2);
  });

  it('sends a finding whose answer was lost again as the same bytes: the ledger keeps one', async () => {
    await t.runner?.close();
    let lost = 0;
    const calls: string[][] = [];
    const runner = await t.openRunner({
      submit: async (e) => {
        calls.push(e.map((x) => x.hash));
        const results = await t.ledger.submitDecoded(e);
        // The first answer never arrives, though the findings were appended.
        if (lost++ === 0) throw new Error('connection reset');
        return results;
      },
    });
    const [hash] = [...t.violations].find(([, k]) => k === 'wifi-to-advertiser')!;
    const original = t.events.find((e) => e.hash === hash)!.event as Event & Record<string, unknown>;
    const { type, dataset, inputs, purpose, declaration, recipient } = original;
    const before = (await findingLeaves()).length;
    const probe = t.emitter(original.emitter, 'probe-2').next({
      type,
      dataset,
      inputs,
      purpose,
      declaration,
      recipient,
    } as never);
    expect((await t.ledger.submit([probe]))[0]!.ok).toBe(true);
    await expect.poll(() => runner.status().findings.submitted, { timeout: 10_000 }).toBeGreaterThan(0);
    await runner.settled();
    await runner.catchUp();
    const after = await findingLeaves();
    const about = after.filter((f) => f.event['about'] === probe.hash);
    expect(about.length).toBeGreaterThan(0);
    expect(after.length).toBe(before + about.length);
    // The retry carried the very same events (same hashes), answered as duplicates.
    expect(calls.length).toBe(2);
    expect(calls[1]).toEqual(calls[0]);
    expect(new Set(about.map((f) => f.hash))).toEqual(new Set(calls[0]));
    expect(runner.status().submitFailures).toBe(1);
  });

  /** A copy of a demo violation of `kind` on a new chain of its emitter: a new event to judge. */
  async function probe(kind: ViolationKind, stream: string): Promise<string> {
    const [hash] = [...t.violations].find(([, k]) => k === kind)!;
    const original = t.events.find((e) => e.hash === hash)!.event as Event & Record<string, unknown>;
    const body = Object.fromEntries(
      Object.entries(original).filter(
        ([k]) => !['v', 'emitter', 'stream', 'seq', 'prev', 'time', 'key'].includes(k),
      ),
    );
    const p = t.emitter(original.emitter, stream).next(body as never);
    expect((await t.ledger.submit([p]))[0]!.ok).toBe(true);
    return p.hash;
  }

  it('signs anew from the head when its findings chain moved under it (a stale head)', async () => {
    await t.runner?.settled();
    await t.runner?.close();
    let stale = true;
    // Told at start that the chain is empty, though it holds every finding so far.
    const runner = await t.openRunner({
      source: {
        head: () => t.store.head(),
        getLeaves: (a, b) => t.store.getLeaves(a, b),
        getLeavesByEventHash: (h) => t.store.getLeavesByEventHash(h),
        getChainHead: async (c) => (stale ? ((stale = false), undefined) : t.store.getChainHead(c)),
      },
    });
    const about = await probe('video-to-police', 'probe-3');
    await expect
      .poll(async () => (await findingLeaves()).filter((f) => f.event['about'] === about).length, {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    await runner.settled();
    const all = await findingLeaves();
    all.forEach((f, i) => expect(f.event['seq']).toBe(i + 1));
    expect(runner.status().lastError?.context).toBe('submit (resign)');
  });

  it('drops a finding the ledger can never accept, counts it, and keeps the chain without a gap', async () => {
    await t.runner?.settled();
    await t.runner?.close();
    let first = true;
    const runner = await t.openRunner({
      submit: async (e) => {
        if (!first) return t.ledger.submitDecoded(e);
        first = false;
        return [{ ok: false, error: { code: 'SCHEMA_INVALID', message: '/explanation: too long' } }];
      },
    });
    const about = await probe('onward-without-policy', 'probe-4');
    await expect.poll(() => runner.status().findings.refused, { timeout: 10_000 }).toBe(1);
    await runner.settled();
    await runner.catchUp();
    const expected = runner.state.evaluate(about).filter((o) => o.outcome !== 'compliant');
    const all = await findingLeaves();
    expect(all.filter((f) => f.event['about'] === about)).toHaveLength(expected.length - 1);
    all.forEach((f, i) => expect(f.event['seq']).toBe(i + 1));
  });

  it('raises overdue findings on its timer when retention passes with no delete, once per holding', async () => {
    await t.runner?.settled();
    await t.runner?.close();
    const runner = await t.openRunner();
    await runner.settled();
    const first = await findingLeaves();
    expect(first.filter((f) => f.event['outcome'] === 'overdue')).toEqual([]);
    // Sixty days later: nothing was appended, the raw captures of the last days are overdue.
    t.clock.now += 60 * 86_400_000;
    const size = t.ledger.size;
    const expected = runner.state.overdue(t.clock.now);
    expect(expected.length).toBeGreaterThan(0);
    await runner.close();
    const timed = await t.openRunner({ retentionIntervalMs: 50 });
    await expect
      .poll(async () => (await findingLeaves()).filter((f) => f.event['outcome'] === 'overdue').length, {
        timeout: 10_000,
      })
      .toBe(expected.length);
    const overdue = (await findingLeaves()).filter((f) => f.event['outcome'] === 'overdue');
    expect(new Set(overdue.map((f) => f.event['about']))).toEqual(new Set(expected.map((o) => o.about)));
    for (const f of overdue) expect(f.event['check']).toBe('retention');
    // The only appends were the findings themselves; later runs raise nothing new.
    expect(t.ledger.size).toBe(size + overdue.length);
    expect(await timed.runRetention()).toBe(0);
    await timed.settled();
    expect((await findingLeaves()).filter((f) => f.event['outcome'] === 'overdue')).toHaveLength(
      overdue.length,
    );
    expect(timed.status().retention.lastOverdue).toBe(expected.length);
    // Each overdue finding agrees with the engine run over the log at its position.
    const check = new ComplianceState();
    for (const l of await leavesOf(t.store)) check.add(l.event, l.index, l.hash);
    for (const f of overdue)
      expect(check.evaluate(f.hash)[0]).toMatchObject({ check: 'evidence', outcome: 'compliant' });
  });

  it('refuses options that break their rules, naming them', async () => {
    await expect(
      ComplianceRunner.open({ source: t.store, key: t.complianceKey, submit: async () => [], batchSize: 0 }),
    ).rejects.toMatchObject({ code: 'OPTIONS_INVALID', issues: [{ path: '/batchSize' }] });
    await expect(
      ComplianceRunner.open({ source: t.store, key: t.complianceKey, org: 'police', submit: async () => [] }),
    ).rejects.toMatchObject({ code: 'OPTIONS_INVALID', issues: [{ path: '/key' }] });
  });
});
