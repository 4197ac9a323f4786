// Custom purposes (issue 7, "Purposes"): organizations extend the shipped vocabulary with
// `declare` events; a custom purpose with an unknown parent, a cycle, someone else's prefix
// or a changed definition is refused at admission (422 PURPOSE_INVALID, naming the purpose
// and the rule), and accepted ones are registry facts later declarations can build on.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from './index.ts';
import type { Ledger } from './ledger.ts';
import { expectAccepted as ok, openTestLedger } from './test-ledger.ts';

const SOURCE = 'transport-agency/cameras/north-07';
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const l of ledgers.splice(0)) await l.close();
});

function declaration(version: number, customPurposes?: unknown[], supersedes?: string) {
  const purpose = 'city:TrafficManagement';
  return {
    type: 'declare',
    declaration: {
      subject: SOURCE,
      version,
      ...(supersedes === undefined ? {} : { supersedes }),
      purposes: [{ id: purpose, description: 'Traffic.', legalBasis: 'dpv:LegalObligation' }],
      ...(customPurposes === undefined ? {} : { customPurposes }),
      categories: ['city:VehicleCount'],
      personalData: 'none',
      retention: { duration: 'P30D' },
      storage: [{ location: 'Municipal data centre', jurisdiction: 'NL' }],
      validFrom: '2026-01-01T00:00:00Z',
    },
  } as never;
}

async function world() {
  const { ledger, store, emitters } = await openTestLedger({
    origin: 'purposes.test.example/log',
    orgs: ['transport-agency'],
    resources: [{ kind: 'source', id: SOURCE }],
  });
  ledgers.push(ledger);
  return { ledger, store, agency: emitters[0]! };
}

const corridor = {
  id: 'x-transport-agency:BusCorridorPlanning',
  label: 'Bus corridor planning',
  parents: ['city:UrbanPlanning'],
};

describe('custom purposes at admission', () => {
  it('accepts a custom purpose under known parents and keeps it as a registry fact to build on', async () => {
    const { ledger, store, agency } = await world();
    const v1 = agency.next(declaration(1, [corridor]));
    ok(await ledger.submit([v1]));
    const registry = Registry.fromRecords(await store.getRegistry());
    expect(registry.customPurposes()).toMatchObject([{ id: corridor.id, parents: ['city:UrbanPlanning'] }]);
    expect(registry.vocabulary().isWithin(corridor.id, 'city:UrbanPlanning')).toBe(true);
    // A later version repeats it unchanged and adds a child of it.
    const child = { id: 'x-transport-agency:NightBuses', label: 'Night buses', parents: [corridor.id] };
    ok(await ledger.submit([agency.next(declaration(2, [corridor, child], v1.hash))]));
    expect((await store.getRegistry()).filter((r) => r.kind === 'purpose').map((r) => r.id)).toEqual([
      corridor.id,
      child.id,
    ]);
  });

  it('refuses an unknown parent, a cycle, and a changed definition, naming the purpose', async () => {
    const { ledger, store, agency } = await world();
    const refused = async (custom: unknown[]) => {
      const [r] = await ledger.submit([agency.peek(declaration(1, custom))]);
      expect(r?.ok).toBe(false);
      return r!.ok ? undefined : r!.error;
    };
    const unknown = await refused([
      { id: 'x-transport-agency:A', label: 'A', parents: ['city:NoSuchPurpose'] },
    ]);
    expect(unknown).toMatchObject({ code: 'PURPOSE_INVALID' });
    expect(unknown?.message).toContain('x-transport-agency:A');
    expect(unknown?.message).toContain('city:NoSuchPurpose');
    expect(unknown?.details).toMatchObject({
      issues: [{ path: expect.stringContaining('/declaration/customPurposes/0') }],
    });

    const cycle = await refused([
      { id: 'x-transport-agency:A', label: 'A', parents: ['x-transport-agency:B'] },
      { id: 'x-transport-agency:B', label: 'B', parents: ['x-transport-agency:A'] },
    ]);
    expect(cycle).toMatchObject({ code: 'PURPOSE_INVALID' });

    // (Another organization's prefix is refused by the event schema already, before signing.)
    const v1 = agency.next(declaration(1, [corridor]));
    ok(await ledger.submit([v1]));
    const changed = await ledger.submit([
      agency.peek(declaration(2, [{ ...corridor, parents: ['city:TrafficManagement'] }], v1.hash)),
    ]);
    expect(changed[0]).toMatchObject({ ok: false, error: { code: 'PURPOSE_INVALID' } });
    // Nothing of the refused declarations was kept.
    expect((await store.getRegistry()).filter((r) => r.kind === 'purpose').map((r) => r.id)).toEqual([
      corridor.id,
    ]);
  });
});
