// Where personal data may go without a transfer basis (GDPR chapter V): the EEA, and the
// countries with an adequacy decision under art. 45 (as of 2025; the United States only
// through the Data Privacy Framework, which a ledger cannot see, so it needs its basis).

/** The 27 EU member states and Iceland, Liechtenstein and Norway. */
export const EEA: ReadonlySet<string> = new Set([
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
]);

/** Countries with an EU adequacy decision (art. 45(3)). */
export const ADEQUATE: ReadonlySet<string> = new Set([
  'AD',
  'AR',
  'CA',
  'FO',
  'GG',
  'IL',
  'IM',
  'JP',
  'JE',
  'NZ',
  'KR',
  'CH',
  'GB',
  'UY',
]);

/** The country of an ISO 3166 code (`NL-NH` → `NL`). */
export function countryOf(jurisdiction: string): string {
  return jurisdiction.slice(0, 2);
}

/** True when personal data may go to this jurisdiction from the EEA without a transfer basis. */
export function freeFlow(jurisdiction: string): boolean {
  const c = countryOf(jurisdiction);
  return EEA.has(c) || ADEQUATE.has(c);
}
