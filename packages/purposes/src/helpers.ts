// Small questions the compliance engine asks of the vocabulary, answered from the data.
import { PERSONAL_DATA_STATES, PROHIBITIONS, type PersonalDataState, type ProhibitionTerm } from './data.ts';
import { CATEGORY_TAXONOMY } from './taxonomy.ts';

/** How sensitive a data category is: GDPR art. 9 special category (biometric included), art. 10 criminal data, or neither. */
export type Sensitivity = 'special' | 'criminal' | 'ordinary' | 'unknown';

export function categorySensitivity(id: string): Sensitivity {
  if (!CATEGORY_TAXONOMY.has(id)) return 'unknown';
  if (CATEGORY_TAXONOMY.isWithin(id, 'dpv:SpecialCategoryPersonalData')) return 'special';
  if (CATEGORY_TAXONOMY.isWithin(id, 'pd:Criminal')) return 'criminal';
  return 'ordinary';
}

const PROHIBITION_BY_ID = new Map(PROHIBITIONS.map((p) => [p.id, p]));

/** The matching rules of a listed prohibition term (undefined for any other term). */
export function prohibitionTerm(id: string): ProhibitionTerm | undefined {
  return PROHIBITION_BY_ID.get(id);
}

/** True for identified, pseudonymised and contextually anonymised data (still personal data). */
export function isPersonal(state: PersonalDataState): boolean {
  return PERSONAL_DATA_STATES[state].personal;
}

/** Order of identifiability: identified 4, pseudonymised 3, contextually anonymised 2, anonymised 1, none 0. */
export function stateRank(state: PersonalDataState): number {
  return PERSONAL_DATA_STATES[state].rank;
}
