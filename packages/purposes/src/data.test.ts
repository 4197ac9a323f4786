import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  CATEGORIES,
  DPV_NS,
  LEGAL_BASES,
  PD_NS,
  PERSONAL_DATA_STATES,
  PROHIBITIONS,
  PURPOSES,
  PurposeVocabulary,
  TECHNIQUES,
  TERMS_NS,
  type Term,
} from './index.ts';

const ALL: readonly (readonly Term[])[] = [PURPOSES, LEGAL_BASES, CATEGORIES, ACTIONS, TECHNIQUES];

describe('shipped data', () => {
  it('gives every DPV term the IRI of its name in the DPV namespace, and city terms ours', () => {
    for (const list of ALL) {
      for (const t of list) {
        const name = t.id.slice(t.id.indexOf(':') + 1);
        if (t.source === 'dpv') expect(t.iri).toBe(DPV_NS + name);
        if (t.source === 'pd') expect(t.iri).toBe(PD_NS + name);
        if (t.source === 'city') expect(t.iri).toBe(`${TERMS_NS}city#${name}`);
        if (t.source === 'alias') expect(t.note).toBeTruthy();
      }
    }
  });

  it('has unique ids and IRIs within each list', () => {
    for (const list of ALL) {
      expect(new Set(list.map((t) => t.id)).size).toBe(list.length);
      const iris = list.flatMap((t) => (t.iri === undefined || t.source === 'alias' ? [] : [t.iri]));
      expect(new Set(iris).size).toBe(iris.length);
    }
  });

  it('roots every purpose at dpv:Purpose and has the city purposes the issue names', () => {
    const v = PurposeVocabulary.base();
    for (const t of PURPOSES) expect(v.isWithin(t.id, 'dpv:Purpose')).toBe(true);
    for (const id of [
      'city:TrafficManagement',
      'city:RoadSafetyEnforcement',
      'city:PublicSafety',
      'city:EnvironmentalMonitoring',
      'city:UrbanPlanning',
      'city:OfficialStatistics',
      'city:Research',
      'city:ServiceImprovement',
      'city:Commercial',
      'city:Advertising',
    ]) {
      expect(v.has(id)).toBe(true);
    }
  });

  it('maps every personal-data state of the schema to a DPV concept', () => {
    for (const s of Object.values(PERSONAL_DATA_STATES)) expect(s.iri.startsWith(DPV_NS)).toBe(true);
  });

  it('refers only to known purposes and actions in the prohibition rules', () => {
    const v = PurposeVocabulary.base();
    const actions = new Set(ACTIONS.map((a) => a.id));
    for (const p of PROHIBITIONS) {
      for (const id of [...(p.purposes ?? []), ...(p.disclosurePurposes ?? [])]) expect(v.has(id)).toBe(true);
      for (const id of p.actions ?? []) expect(actions.has(id)).toBe(true);
    }
  });
});
