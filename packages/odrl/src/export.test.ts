import type { Declaration } from '@civic-ledger/schemas';
import { describe, expect, it } from 'vitest';
import { OdrlError } from './errors.ts';
import {
  CITY,
  CL,
  constraints,
  countCompactValues,
  countExpandedValues,
  demoCityDeclarations,
  DPV,
  expandOffline,
  id,
  ids,
  ODRL,
  relativeIris,
  values,
  type ExpandedNode,
} from './expand.test-support.ts';
import { declarationToOdrl, declareEventToOdrl, type OdrlExportOptions } from './export.ts';
import { defaultTermIri } from './iris.ts';
import type { OdrlPolicy } from './types.ts';

const HASH = 'a1'.repeat(32);
const OPTS: OdrlExportOptions = { declarationHash: HASH, issuer: 'transport-agency' };
const UID = `urn:civic-ledger:policy/${HASH}`;
const LOC_NL = 'https://w3id.org/dpv/loc#NL';
const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime';

/** A minimal valid declaration: one purpose, no recipients, no prohibitions. */
function minimal(): Declaration {
  return {
    subject: 'transport-agency/cameras',
    version: 1,
    purposes: [
      { id: 'dpv:ServiceProvision', description: 'Run the camera network.', legalBasis: 'dpv:PublicTask' },
    ],
    categories: ['city:VideoFootage'],
    personalData: 'identified',
    retention: { duration: 'P30D' },
    storage: [{ location: 'Municipal data centre', jurisdiction: 'NL' }],
    validFrom: '2026-01-01T00:00:00Z',
  };
}

/** Exports, expands offline, and checks what must hold for every policy; returns the policy node. */
async function exportAndExpand(
  d: unknown,
  opts: OdrlExportOptions = OPTS,
): Promise<{ policy: OdrlPolicy; node: ExpandedNode }> {
  const policy = declarationToOdrl(d, opts);
  const expanded = await expandOffline(policy);
  expect(expanded).toHaveLength(1);
  // Nothing dropped: every property value of the compact policy is still there, and every
  // term became an absolute IRI (an undefined term under @vocab would stay relative).
  expect(countExpandedValues(expanded)).toBe(countCompactValues(policy));
  expect(relativeIris(expanded)).toEqual([]);
  return { policy, node: expanded[0]! };
}

function rulesWithAction(node: ExpandedNode, kind: string, action: string): ExpandedNode[] {
  return values(node, ODRL(kind)).filter((r) => id(r, ODRL('action')) === action);
}

describe('demo city declarations', () => {
  const declarations = demoCityDeclarations();

  it('finds the declaration of every family', () => {
    expect(declarations).toHaveLength(12);
  });

  it('each expands offline to an ODRL Set: a permission per purpose and recipient rule, a prohibition per prohibition', async () => {
    for (const { event, hash } of declarations) {
      const d = event.declaration;
      const policy = declareEventToOdrl(event, { declarationHash: hash });
      expect(declarationToOdrl(d, { declarationHash: hash, issuer: event.emitter })).toEqual(policy);
      const expanded = await expandOffline(policy);
      expect(countExpandedValues(expanded)).toBe(countCompactValues(policy));
      expect(relativeIris(expanded)).toEqual([]);
      const node = expanded[0]!;

      expect(node['@type']).toEqual([ODRL('Set')]);
      expect(node['@id']).toBe(`urn:civic-ledger:policy/${hash}`);
      expect(id(node, ODRL('conflict'))).toBe(ODRL('prohibit'));
      expect(id(node, ODRL('profile'))).toBe('https://civic-ledger.example/odrl');
      expect(id(node, ODRL('target'))).toBe(`urn:civic-ledger:resource/${d.subject}`);
      expect(id(node, ODRL('assigner'))).toBe(`urn:civic-ledger:org/${event.emitter}`);

      const permissions = values(node, ODRL('permission'));
      expect(permissions).toHaveLength(d.purposes.length + (d.recipients?.length ?? 0));
      expect(values(node, ODRL('prohibition'))).toHaveLength(d.prohibitions?.length ?? 0);

      const uses = rulesWithAction(node, 'permission', ODRL('use'));
      expect(uses).toHaveLength(d.purposes.length);
      d.purposes.forEach((p, i) => {
        const rule = uses[i]!;
        expect(constraints(rule)).toContainEqual({
          left: ODRL('purpose'),
          op: ODRL('eq'),
          right: [defaultTermIri(p.id)],
        });
        expect(id(rule, DPV('hasLegalBasis'))).toBe(defaultTermIri(p.legalBasis));
      });
      expect(rulesWithAction(node, 'permission', ODRL('distribute'))).toHaveLength(d.recipients?.length ?? 0);

      const [retention, ...others] = values(node, ODRL('obligation'));
      expect(others).toEqual([]);
      expect(id(retention!, ODRL('action'))).toBe(ODRL('delete'));
      expect(constraints(retention!)).toEqual([
        { left: ODRL('elapsedTime'), op: ODRL('lteq'), right: [d.retention.duration] },
      ]);
    }
  });

  it('cameras: sale and person tracking prohibited, purposes under public task and legal obligation', async () => {
    const { event } = declarations.find((x) => x.event.declaration.subject === 'transport-agency/cameras')!;
    const { node } = await exportAndExpand(event.declaration, { ...OPTS, issuer: event.emitter });
    const [sale, tracking] = values(node, ODRL('prohibition'));
    expect(id(sale!, ODRL('action'))).toBe(ODRL('sell'));
    expect(id(sale!, CL('declaredTerm'))).toBe(CITY('SaleToThirdParties'));
    expect(id(tracking!, ODRL('action'))).toBe(ODRL('use'));
    expect(constraints(tracking!)).toEqual([
      { left: ODRL('purpose'), op: ODRL('eq'), right: [CITY('PersonTracking')] },
    ]);
    expect(id(tracking!, CL('declaredTerm'))).toBe(CITY('PersonTracking'));

    const [traffic, enforcement] = values(node, ODRL('permission'));
    expect(constraints(traffic!)).toEqual([
      { left: ODRL('purpose'), op: ODRL('eq'), right: [CITY('TrafficManagement')] },
      { left: ODRL('dateTime'), op: ODRL('gteq'), right: [event.declaration.validFrom] },
      { left: ODRL('spatial'), op: ODRL('eq'), right: [LOC_NL] },
    ]);
    expect(id(traffic!, DPV('hasLegalBasis'))).toBe(DPV('PublicTask'));
    expect(values(traffic!, CL('primary'))).toEqual([{ '@value': true }]);
    expect(id(enforcement!, DPV('hasLegalBasis'))).toBe(DPV('LegalObligation'));
    expect(values(enforcement!, CL('primary'))).toEqual([]);
    expect(id(node, CL('personalDataState'))).toBe(DPV('IdentifyingPersonalData'));
  });

  it('traffic-stats: each recipient rule is a distribute permission with its recipient, purposes and duties', async () => {
    const { event } = declarations.find(
      (x) => x.event.declaration.subject === 'transport-agency/traffic-stats',
    )!;
    const { node } = await exportAndExpand(event.declaration, { ...OPTS, issuer: event.emitter });
    const distribute = rulesWithAction(node, 'permission', ODRL('distribute'));
    const recipients = event.declaration.recipients!;
    expect(distribute).toHaveLength(recipients.length);

    const vendorA = distribute[recipients.findIndex((r) => r.org === 'vendor-a')]!;
    expect(constraints(vendorA).slice(0, 2)).toEqual([
      { left: ODRL('recipient'), op: ODRL('eq'), right: ['urn:civic-ledger:org/vendor-a'] },
      { left: ODRL('purpose'), op: ODRL('eq'), right: [CITY('TrafficManagement')] },
    ]);
    const duties = values(vendorA, ODRL('duty'));
    expect(duties.map((x) => id(x, ODRL('action')))).toEqual([ODRL('nextPolicy'), CL('concludeAgreement')]);
    expect(id(duties[0]!, CL('atLeastAsStrictAs'))).toBe(node['@id']);
    expect(values(vendorA, CL('onwardTransfer'))).toEqual([{ '@value': false }]);

    const publicRule = distribute[recipients.findIndex((r) => r.role === 'public')]!;
    expect(constraints(publicRule)[0]).toEqual({
      left: ODRL('recipient'),
      op: ODRL('isA'),
      right: [CL('Public')],
    });
    expect(values(publicRule, ODRL('duty'))).toEqual([]);
    expect(values(publicRule, CL('onwardTransfer'))).toEqual([]);
  });
});

describe('edge cases', () => {
  it('no recipients and no prohibitions: only use permissions, no prohibition at all, the retention duty', async () => {
    const { policy, node } = await exportAndExpand(minimal());
    expect(policy.prohibition).toBeUndefined();
    expect(node[ODRL('prohibition')]).toBeUndefined();
    const [use, ...rest] = values(node, ODRL('permission'));
    expect(rest).toEqual([]);
    expect(id(use!, ODRL('action'))).toBe(ODRL('use'));
    expect(constraints(use!)[0]).toEqual({
      left: ODRL('purpose'),
      op: ODRL('eq'),
      right: ['https://w3id.org/dpv#ServiceProvision'],
    });
    expect(values(node, ODRL('obligation'))).toHaveLength(1);
    // The validity window starts at validFrom, as a typed xsd:dateTime literal.
    const from = values(use!, ODRL('constraint')).find(
      (c) => id(c, ODRL('leftOperand')) === ODRL('dateTime'),
    )!;
    expect(values(from, ODRL('rightOperand'))).toEqual([
      { '@type': XSD_DATETIME, '@value': '2026-01-01T00:00:00Z' },
    ]);
  });

  it('several purposes: the injected vocabulary decides IRIs, unknown ids fall back to the default namespaces', async () => {
    const d: Declaration = {
      ...minimal(),
      purposes: [
        { id: 'dpv:ServiceProvision', description: 'Run the camera network.', legalBasis: 'dpv:PublicTask' },
        {
          id: 'city:TrafficManagement',
          description: 'Manage traffic.',
          legalBasis: 'dpv:PublicTask',
          primary: true,
        },
        { id: 'x-transport-agency:SignalTiming', description: 'Time signals.', legalBasis: 'eu-gdpr:A6-1-e' },
      ],
      customPurposes: [
        {
          id: 'x-transport-agency:SignalTiming',
          label: 'Signal timing',
          parents: ['city:TrafficManagement', 'dpv:ServiceOptimisation'],
        },
      ],
    };
    const vocabulary: Record<string, string> = {
      'city:TrafficManagement': 'https://vocab.example/purposes#traffic',
    };
    const asked: string[] = [];
    const purposeIri = (purpose: string) => {
      asked.push(purpose);
      return vocabulary[purpose];
    };
    const { node } = await exportAndExpand(d, { ...OPTS, purposeIri });
    const uses = values(node, ODRL('permission'));
    expect(uses.map((u) => constraints(u)[0]!.right[0])).toEqual([
      'https://w3id.org/dpv#ServiceProvision',
      'https://vocab.example/purposes#traffic',
      'https://civic-ledger.example/terms/x-transport-agency#SignalTiming',
    ]);
    expect(id(uses[2]!, DPV('hasLegalBasis'))).toBe('https://w3id.org/dpv/legal/eu/gdpr#A6-1-e');
    expect(uses.map((u) => values(u, CL('primary')).length)).toEqual([0, 1, 0]);
    expect(asked).toContain('city:TrafficManagement');

    const [custom] = values(node, CL('customPurpose'));
    expect(custom!['@id']).toBe('https://civic-ledger.example/terms/x-transport-agency#SignalTiming');
    expect(custom!['@type']).toEqual([DPV('Purpose')]);
    expect(ids(custom!, 'http://www.w3.org/2004/02/skos/core#broader')).toEqual([
      'https://vocab.example/purposes#traffic',
      'https://w3id.org/dpv#ServiceOptimisation',
    ]);
  });

  it('all prohibitions: mapped ones get ODRL actions, unknown ones keep their own IRI, none is dropped', async () => {
    const d: Declaration = {
      ...minimal(),
      prohibitions: [
        'city:SaleToThirdParties',
        'city:PersonTracking',
        'x-transport-agency:NoFaceMatching',
        'dpv:Profiling',
      ],
    };
    const { node } = await exportAndExpand(d);
    const prohibitions = values(node, ODRL('prohibition'));
    expect(prohibitions).toHaveLength(4);
    expect(prohibitions.map((p) => id(p, ODRL('action')))).toEqual([
      ODRL('sell'),
      ODRL('use'),
      'https://civic-ledger.example/terms/x-transport-agency#NoFaceMatching',
      DPV('Profiling'),
    ]);
    expect(prohibitions.map((p) => id(p, CL('declaredTerm')))).toEqual([
      CITY('SaleToThirdParties'),
      CITY('PersonTracking'),
      'https://civic-ledger.example/terms/x-transport-agency#NoFaceMatching',
      DPV('Profiling'),
    ]);
    expect(prohibitions.map((p) => p['@id'])).toEqual([0, 1, 2, 3].map((i) => `${UID}#prohibitions-${i}`));
    // Prohibitions are not limited by the validity window: they outlive it.
    for (const p of prohibitions) {
      expect(constraints(p).filter((c) => c.left === ODRL('dateTime'))).toEqual([]);
    }
  });

  it('validUntil: every permission holds from validFrom until before validUntil; duties and prohibitions do not lapse', async () => {
    const d: Declaration = {
      ...minimal(),
      validUntil: '2026-12-31T23:59:59.5Z',
      recipients: [{ org: 'police', purposes: ['dpv:ServiceProvision'] }],
      prohibitions: ['city:SaleToThirdParties'],
    };
    const { node } = await exportAndExpand(d);
    const permissions = values(node, ODRL('permission'));
    expect(permissions).toHaveLength(2);
    for (const rule of permissions) {
      const window = constraints(rule).filter((c) => c.left === ODRL('dateTime'));
      expect(window).toEqual([
        { left: ODRL('dateTime'), op: ODRL('gteq'), right: ['2026-01-01T00:00:00Z'] },
        { left: ODRL('dateTime'), op: ODRL('lt'), right: ['2026-12-31T23:59:59.5Z'] },
      ]);
    }
    for (const kind of ['prohibition', 'obligation']) {
      for (const rule of values(node, ODRL(kind))) {
        expect(constraints(rule).filter((c) => c.left === ODRL('dateTime'))).toEqual([]);
      }
    }
  });

  it('a role recipient with several purposes and a count; several jurisdictions become one spatial set', async () => {
    const d: Declaration = {
      ...minimal(),
      purposes: [
        { id: 'city:UrbanPlanning', description: 'Plan streets.', legalBasis: 'dpv:PublicTask' },
        { id: 'city:OfficialStatistics', description: 'Statistics.', legalBasis: 'dpv:PublicTask' },
      ],
      recipients: [
        {
          role: 'research',
          purposes: ['city:UrbanPlanning', 'city:OfficialStatistics'],
          maxRecipients: 3,
          onwardTransfer: true,
        },
      ],
      storage: [
        { location: 'Municipal data centre', jurisdiction: 'NL' },
        { location: 'Backup site', jurisdiction: 'NL' },
        { location: 'Partner cloud', jurisdiction: 'DE' },
      ],
    };
    const { node } = await exportAndExpand(d);
    const [planning, , research] = values(node, ODRL('permission'));
    expect(constraints(research!)).toEqual([
      { left: ODRL('recipient'), op: ODRL('isA'), right: [CL('Research')] },
      {
        left: ODRL('purpose'),
        op: ODRL('isAnyOf'),
        right: [CITY('UrbanPlanning'), CITY('OfficialStatistics')],
      },
      { left: ODRL('count'), op: ODRL('lteq'), right: [3] },
      { left: ODRL('dateTime'), op: ODRL('gteq'), right: ['2026-01-01T00:00:00Z'] },
    ]);
    expect(values(research!, CL('onwardTransfer'))).toEqual([{ '@value': true }]);
    expect(constraints(planning!).find((c) => c.left === ODRL('spatial'))).toEqual({
      left: ODRL('spatial'),
      op: ODRL('isAnyOf'),
      right: [LOC_NL, 'https://w3id.org/dpv/loc#DE'],
    });
    expect(values(node, DPV('hasStorageCondition'))).toHaveLength(3);
  });

  it('a later version replaces the policy of the version it supersedes', async () => {
    const previous = 'b2'.repeat(32);
    const { node } = await exportAndExpand({ ...minimal(), version: 2, supersedes: previous });
    expect(id(node, 'http://purl.org/dc/terms/replaces')).toBe(`urn:civic-ledger:policy/${previous}`);
    expect(values(node, CL('version'))).toEqual([{ '@value': 2 }]);
  });

  it('a base option puts policy, organization and resource IRIs under it', async () => {
    const base = 'https://ledger.example-city.eu/';
    const { policy, node } = await exportAndExpand(minimal(), { ...OPTS, base });
    expect(node['@id']).toBe(`${base}policy/${HASH}`);
    expect(id(node, ODRL('target'))).toBe(`${base}resource/transport-agency/cameras`);
    expect(id(node, ODRL('assigner'))).toBe(`${base}org/transport-agency`);
    expect(id(node, 'http://purl.org/dc/terms/source')).toBe(`${base}event/${HASH}`);
    expect(policy.permission[0]!.uid).toBe(`${base}policy/${HASH}#purposes-0`);
  });

  it('is deterministic, and the uid follows the declaration hash', () => {
    const a = JSON.stringify(declarationToOdrl(minimal(), OPTS));
    expect(JSON.stringify(declarationToOdrl(minimal(), OPTS))).toBe(a);
    const other = declarationToOdrl(minimal(), { ...OPTS, declarationHash: 'c3'.repeat(32) });
    expect(other.uid).toBe(`urn:civic-ledger:policy/${'c3'.repeat(32)}`);
  });

  it('gives each policy its own copy of the inline context', () => {
    const first = declarationToOdrl(minimal(), OPTS);
    (first['@context'][1] as Record<string, unknown>)['dpv'] = 'https://attacker.example/#';
    expect(declarationToOdrl(minimal(), OPTS)['@context'][1].dpv).toBe('https://w3id.org/dpv#');
  });
});

describe('refusals', () => {
  function refusal(run: () => unknown): OdrlError {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(OdrlError);
      return e as OdrlError;
    }
    throw new Error('expected an OdrlError');
  }

  it('a declaration without purposes names the field', () => {
    const { purposes: _, ...d } = minimal();
    const e = refusal(() => declarationToOdrl(d, OPTS));
    expect(e.code).toBe('DECLARATION_INVALID');
    expect(e.field).toBe('/purposes');
    expect(e.message).toMatch(/^\/purposes: /);
  });

  it('lists every problem, each with its field and rule', () => {
    const d = { ...minimal(), categories: ['VideoFootage'], retention: { duration: '30 days' } };
    const e = refusal(() => declarationToOdrl(d, OPTS));
    expect(e.code).toBe('DECLARATION_INVALID');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['/categories/0', '/retention/duration']);
    expect(e.issues.find((i) => i.path === '/retention/duration')!.rule).toMatch(/ISO 8601/);
  });

  it('an unknown field is refused, not ignored', () => {
    const e = refusal(() => declarationToOdrl({ ...minimal(), sellable: true }, OPTS));
    expect(e.code).toBe('DECLARATION_INVALID');
    expect(e.message).toMatch(/sellable/);
  });

  it('applies the cross-field rules of a declare event', () => {
    const both = refusal(() =>
      declarationToOdrl(
        { ...minimal(), recipients: [{ org: 'police', role: 'agency', purposes: ['dpv:ServiceProvision'] }] },
        OPTS,
      ),
    );
    expect([both.code, both.field, both.issues[0]!.rule]).toEqual([
      'DECLARATION_INVALID',
      '/recipients/0',
      'exactly one of org or role',
    ]);
    const window = refusal(() =>
      declarationToOdrl({ ...minimal(), validUntil: '2025-01-01T00:00:00Z' }, OPTS),
    );
    expect(window.field).toBe('/validUntil');
    const foreign = refusal(() =>
      declarationToOdrl(
        {
          ...minimal(),
          customPurposes: [{ id: 'x-police:Patrol', label: 'Patrol', parents: ['dpv:ServiceProvision'] }],
        },
        OPTS,
      ),
    );
    expect([foreign.field, foreign.issues[0]!.rule]).toEqual([
      '/customPurposes/0/id',
      'custom purposes use the prefix x-transport-agency:',
    ]);
    const supersedes = refusal(() => declarationToOdrl({ ...minimal(), version: 2 }, OPTS));
    expect(supersedes.field).toBe('/supersedes');
  });

  it('refuses bad options by name', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ declarationHash: 'not-a-hash' }, 'declarationHash'],
      [{ issuer: 'Transport Agency' }, 'issuer'],
      [{ base: 'no scheme here' }, 'base'],
      [{ base: 'https://ledger.example-city.eu' }, 'base'],
      [{ base: 'https://ledger.example-city.eu/p#' }, 'base'],
      [{ purposeIri: 'https://vocab.example/' }, 'purposeIri'],
    ];
    for (const [patch, field] of cases) {
      const e = refusal(() => declarationToOdrl(minimal(), { ...OPTS, ...patch } as OdrlExportOptions));
      expect([e.code, e.field]).toEqual(['OPTION_INVALID', field]);
    }
  });

  it('refuses an injected vocabulary that answers something other than an absolute IRI', () => {
    const e = refusal(() => declarationToOdrl(minimal(), { ...OPTS, purposeIri: () => 'ServiceProvision' }));
    expect([e.code, e.field]).toEqual(['PURPOSE_IRI_INVALID', '/purposes/0/id']);
    expect(e.message).toMatch(/dpv:ServiceProvision/);
  });

  it('declareEventToOdrl refuses an event that is not a valid declare event', () => {
    const e = refusal(() => declareEventToOdrl({ type: 'collect' }, { declarationHash: HASH }));
    expect(e.code).toBe('DECLARATION_INVALID');
    expect(e.issues.map((i) => i.path)).toContain('/type');
  });
});
