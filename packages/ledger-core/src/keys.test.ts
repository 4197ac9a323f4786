// Key compromise and recovery (issue 8, "Keys"): a revocation after compromise takes effect
// from its ledger position and records since when the key is believed stolen; an
// organization that lost its key is re-keyed by the operator with a `recover` event,
// recorded as a recovery, and only the operator may do that.
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from './index.ts';
import { expectAccepted as ok, openTestLedger } from './test-ledger.ts';
import type { Ledger } from './ledger.ts';
import type { TestEmitter } from './testing.ts';

const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const l of ledgers.splice(0)) await l.close();
});

function collect(n: number) {
  return {
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${n.toString(16).padStart(64, '0')}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
  } as const;
}

async function world() {
  const { ledger, store, operator, emitters } = await openTestLedger({
    origin: 'keys.test.example/log',
    orgs: ['transport-agency', 'police'],
    resources: [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: DATASET },
    ],
  });
  ledgers.push(ledger);
  const [agency, police] = emitters as [TestEmitter, TestEmitter];
  return { ledger, store, operator, agency, police };
}

describe('key compromise and recovery', () => {
  it('revokes a stolen key from its ledger position, recording since when it is believed stolen', async () => {
    const { ledger, store, agency } = await world();
    ok(await ledger.submit([agency.next(collect(1))]));
    const revoke = agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: agency.key.name,
      compromisedSince: '2026-11-01T00:00:00Z',
      reason: 'laptop stolen',
    } as never);
    const [r] = await ledger.submit([revoke]);
    expect(r).toMatchObject({ ok: true });
    const [after] = await ledger.submit([agency.peek(collect(2))]);
    expect(after).toMatchObject({ ok: false, error: { code: 'KEY_REVOKED' } });
    const key = Registry.fromRecords(await store.getRegistry()).key(agency.key.name)!;
    expect(key.revokedAt).toBe(r!.ok ? r!.receipt.index : -1);
    expect(key.compromisedSince).toBe('2026-11-01T00:00:00Z');
  });

  it('re-keys an organization that lost its key by an operator-signed recover event, recorded as such', async () => {
    const { ledger, store, operator, agency, police } = await world();
    ok(await ledger.submit([agency.next(collect(1))]));
    const lost = agency.key;
    const fresh = generateSigningKey('transport-agency/k2');
    const recover = {
      type: 'key',
      action: 'recover',
      subjectOrg: 'transport-agency',
      subjectKey: fresh.name,
      publicKey: formatVerifierKey(fresh),
      reason: 'the agency lost its only key',
    } as never;
    // Neither the organization itself nor another organization may recover a key.
    const [byPolice] = await ledger.submit([police.peek(recover)]);
    expect(byPolice?.ok).toBe(false);
    const [bySelf] = await ledger.submit([agency.peek(recover)]);
    expect(bySelf?.ok).toBe(false);
    ok(await ledger.submit([operator.next(recover)]));
    // The old key is revoked by the operator (the agency no longer holds it to sign with).
    ok(
      await ledger.submit([
        operator.next({
          type: 'key',
          action: 'revoke',
          subjectOrg: 'transport-agency',
          subjectKey: lost.name,
          reason: 'lost',
        } as never),
      ]),
    );
    agency.key = fresh;
    ok(await ledger.submit([agency.next(collect(2))]));
    agency.key = lost;
    const [old] = await ledger.submit([agency.peek(collect(3))]);
    expect(old).toMatchObject({ ok: false, error: { code: 'KEY_REVOKED' } });
    const registry = Registry.fromRecords(await store.getRegistry());
    expect(registry.key(fresh.name)).toMatchObject({ org: 'transport-agency', recovered: true });
    expect((await store.getRegistry(fresh.name)).map((r) => r.kind)).toEqual(['key-recover']);
  });
});
