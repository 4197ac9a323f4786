import { describe, expect, it } from 'vitest';
import {
  CIVIC_LEDGER_CONTEXT,
  LOCAL_CONTEXT_URLS,
  localDocumentLoader,
  ODRL_CONTEXT_DOCUMENT,
  ODRL_CONTEXT_URL,
} from './contexts.ts';
import { OdrlError } from './errors.ts';
import { expandOffline, ODRL } from './expand.test-support.ts';
import { declarationToOdrl } from './export.ts';
import { defaultTermIri, DPV_LOC_NS, DPV_NS, PROFILE_NS } from './iris.ts';

const declaration = {
  subject: 'environment-agency/air',
  version: 1,
  purposes: [
    {
      id: 'city:AirQualityMonitoring',
      description: 'Monitor air quality.',
      legalBasis: 'dpv:LegalObligation',
    },
  ],
  categories: ['city:AirPollutantConcentration'],
  personalData: 'none',
  retention: { duration: 'P5Y' },
  storage: [{ location: 'Environment Agency data centre', jurisdiction: 'NL' }],
  validFrom: '2026-01-01T00:00:00Z',
};
const options = { declarationHash: 'd4'.repeat(32), issuer: 'environment-agency' };

describe('localDocumentLoader', () => {
  it('serves the ODRL 2.2 context at its official URL, over http and https, a fresh copy each time', async () => {
    expect(LOCAL_CONTEXT_URLS).toEqual([ODRL_CONTEXT_URL, 'https://www.w3.org/ns/odrl.jsonld']);
    for (const url of LOCAL_CONTEXT_URLS) {
      const answer = await localDocumentLoader(url);
      expect(answer.documentUrl).toBe(url);
      expect(answer.document).toEqual(ODRL_CONTEXT_DOCUMENT);
      (answer.document['@context'] as Record<string, unknown>)['purpose'] =
        'https://attacker.example/purpose';
    }
    const again = await localDocumentLoader(ODRL_CONTEXT_URL);
    expect((again.document['@context'] as Record<string, unknown>)['purpose']).toBe('odrl:purpose');
  });

  it('refuses any other URL with CONTEXT_NOT_LOCAL: nothing is fetched', async () => {
    for (const url of ['https://w3id.org/dpv', 'http://www.w3.org/ns/odrl.jsonld#x', 'file:///etc/passwd']) {
      const e = await localDocumentLoader(url).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(OdrlError);
      expect((e as OdrlError).code).toBe('CONTEXT_NOT_LOCAL');
      expect((e as OdrlError).field).toBe('url');
      expect((e as OdrlError).message).toContain(JSON.stringify(url));
    }
  });

  it('makes a JSON-LD expansion that meets an unknown context URL fail with that refusal', async () => {
    const policy = declarationToOdrl(declaration, options);
    await expect(expandOffline(policy)).resolves.toHaveLength(1);
    const tampered = {
      ...policy,
      '@context': [...policy['@context'], 'https://contexts.example/extra.jsonld'],
    };
    const failure = await expandOffline(tampered).then(
      () => undefined,
      (err: unknown) => err as { details?: { cause?: unknown } },
    );
    expect(failure).toBeDefined();
    const cause = failure!.details?.cause;
    expect(cause).toBeInstanceOf(OdrlError);
    expect((cause as OdrlError).code).toBe('CONTEXT_NOT_LOCAL');
    expect((cause as OdrlError).message).toContain('https://contexts.example/extra.jsonld');
  });
});

describe('the shipped contexts', () => {
  it('define every ODRL term as the ODRL IRI of the same name (as the W3C context does)', async () => {
    const context = ODRL_CONTEXT_DOCUMENT['@context'];
    const terms = Object.entries(context).filter(
      ([term, def]) => !(typeof def === 'string' && /[/#]$/.test(def)) && term !== 'uid' && term !== 'type',
    );
    expect(terms.length).toBeGreaterThan(60);
    // Expanding a node that uses each term as a type shows what it really maps to.
    for (const [term] of terms) {
      const [node] = await expandOffline({ '@context': ODRL_CONTEXT_URL, '@id': 'urn:x', '@type': term });
      expect(node!['@type']).toEqual([ODRL(term)]);
    }
    expect(context['uid']).toBe('@id');
    expect(context['type']).toBe('@type');
  });

  it('coerce the ODRL properties that hold IRIs or vocabulary terms', async () => {
    const [node] = await expandOffline({
      '@context': ODRL_CONTEXT_URL,
      '@id': 'urn:x',
      target: 'urn:civic-ledger:resource/a/b',
      action: 'distribute',
      leftOperand: 'recipient',
      operator: 'isAnyOf',
      conflict: 'perm',
      rightOperand: 'a literal',
    });
    expect(node).toMatchObject({
      [ODRL('target')]: [{ '@id': 'urn:civic-ledger:resource/a/b' }],
      [ODRL('action')]: [{ '@id': ODRL('distribute') }],
      [ODRL('leftOperand')]: [{ '@id': ODRL('recipient') }],
      [ODRL('operator')]: [{ '@id': ODRL('isAnyOf') }],
      [ODRL('conflict')]: [{ '@id': ODRL('perm') }],
      [ODRL('rightOperand')]: [{ '@value': 'a literal' }],
    });
  });

  it('the inline context uses the namespaces the export writes', () => {
    expect(CIVIC_LEDGER_CONTEXT.dpv).toBe(DPV_NS);
    expect(CIVIC_LEDGER_CONTEXT.loc).toBe(DPV_LOC_NS);
    expect(CIVIC_LEDGER_CONTEXT.cl).toBe(PROFILE_NS);
  });
});

describe('defaultTermIri', () => {
  it('keeps DPV IRIs for DPV prefixes and puts every other prefix under our terms namespace', () => {
    expect(defaultTermIri('dpv:PublicTask')).toBe('https://w3id.org/dpv#PublicTask');
    expect(defaultTermIri('pd:VehicleLicence')).toBe('https://w3id.org/dpv/pd#VehicleLicence');
    expect(defaultTermIri('tech:Encryption')).toBe('https://w3id.org/dpv/tech#Encryption');
    expect(defaultTermIri('eu-gdpr:A6-1-e')).toBe('https://w3id.org/dpv/legal/eu/gdpr#A6-1-e');
    expect(defaultTermIri('city:TrafficManagement')).toBe(
      'https://civic-ledger.example/terms/city#TrafficManagement',
    );
    expect(defaultTermIri('x-vendor-a:Congestion')).toBe(
      'https://civic-ledger.example/terms/x-vendor-a#Congestion',
    );
    // A lookalike prefix is not DPV's.
    expect(defaultTermIri('dpvx:PublicTask')).toBe('https://civic-ledger.example/terms/dpvx#PublicTask');
  });

  it('refuses what is not a term', () => {
    expect(() => defaultTermIri('PublicTask')).toThrow(expect.objectContaining({ code: 'OPTION_INVALID' }));
  });
});
