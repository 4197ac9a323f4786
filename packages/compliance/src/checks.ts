// The checks of PURPOSES.md, by id. The ids are what `finding.check` carries.

export const CHECKS = [
  { id: 'declaration-in-force', number: 1, title: 'A declaration version is in force' },
  { id: 'processing-permitted', number: 2, title: 'The processing is permitted and not prohibited' },
  { id: 'purpose-declared', number: 3, title: 'The purpose is within a declared purpose' },
  { id: 'further-processing', number: 4, title: 'Further processing has a recorded route' },
  { id: 'notice-before-use', number: 5, title: 'A notice covered the purpose before the movement' },
  { id: 'legal-basis', number: 6, title: 'A legal basis covers the purpose' },
  { id: 'special-category', number: 7, title: 'Special-category data has an assessment and a condition' },
  { id: 'recipient-allowed', number: 8, title: 'The recipient (or holder) is allowed' },
  { id: 'next-policy', number: 9, title: 'An onward transfer names a next policy at least as strict' },
  { id: 'retention', number: 10, title: 'Retention is not exceeded' },
  { id: 'storage-jurisdiction', number: 11, title: 'Storage and cross-border transfers have their basis' },
  { id: 'derived-inheritance', number: 12, title: 'Derived data inherits its inputs’ rules' },
  { id: 'anonymisation', number: 13, title: 'Only a recorded anonymisation lifts purpose binding' },
  { id: 'duties', number: 14, title: 'Declared duties are fulfilled' },
  { id: 'conflicts', number: 15, title: 'A prohibition wins over a permission' },
  { id: 'unknown-term', number: 16, title: 'No unknown purpose, action or term' },
  { id: 'custom-purpose', number: 16, title: 'Custom purposes extend the vocabulary soundly' },
  { id: 'public-register', number: 17, title: 'The movement does not exceed the public register' },
  { id: 'impact-assessment', number: 18, title: 'A first collection has an impact assessment before it' },
  { id: 'evidence', number: 19, title: 'A recorded finding matches the evaluation' },
] as const;

/**
 * Not one of PURPOSES.md's checks on a movement, so not in CHECKS: a key revoked after a
 * declared compromise puts every event signed with it since then up for review (issue 8,
 * "Keys"). Its outcomes come from evaluating the revocation, each about an earlier event.
 */
export const KEY_COMPROMISE = 'key-compromise' as const;

export type CheckId = (typeof CHECKS)[number]['id'] | typeof KEY_COMPROMISE;
export const CHECK_IDS: readonly CheckId[] = CHECKS.map((c) => c.id);
