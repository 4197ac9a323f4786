// Every IRI the export writes. Ledger things (policies, organizations, resources, events)
// hang under one caller-chosen base, as in the PROV export (`urn:civic-ledger:` by
// default, the same `org/<id>` and `event/<hash>` names), so the two exports link up.
// Vocabulary terms keep DPV's IRIs where they are DPV's; everything else lives under our
// own namespace, documented in the README.
import { TERM_ID } from '@civic-ledger/schemas';
import { OdrlError } from './errors.ts';

/**
 * Root of Civic Ledger's own vocabulary. `.example` is reserved (RFC 2606, RFC 6761): it
 * never resolves and never belongs to anyone, so no processor can fetch from it and no one
 * else's terms can collide with ours.
 */
export const CIVIC_LEDGER_NS = 'https://civic-ledger.example/';
/** Terms (CURIEs) outside DPV: `city:TrafficManagement` → `<TERMS_NS>city#TrafficManagement`. */
export const TERMS_NS = `${CIVIC_LEDGER_NS}terms/`;
/** Our ODRL profile: the policies declare it, and its terms (prefix `cl`) live in `PROFILE_NS`. */
export const PROFILE_IRI = `${CIVIC_LEDGER_NS}odrl`;
export const PROFILE_NS = `${PROFILE_IRI}#`;
export const ODRL_NS = 'http://www.w3.org/ns/odrl/2/';
export const DPV_NS = 'https://w3id.org/dpv#';
/** DPV 2.x location extension: ISO 3166 alpha-2 codes (`loc:NL`), and `loc:EU`. */
export const DPV_LOC_NS = 'https://w3id.org/dpv/loc#';
/** Default base of policy, organization, resource and event IRIs (the PROV export's default too). */
export const DEFAULT_BASE = 'urn:civic-ledger:';

/** CURIE prefixes that are W3C DPV 2.x (core and extensions): their terms keep DPV's IRIs. */
export const DPV_PREFIXES: Readonly<Record<string, string>> = {
  dpv: DPV_NS,
  pd: 'https://w3id.org/dpv/pd#',
  tech: 'https://w3id.org/dpv/tech#',
  risk: 'https://w3id.org/dpv/risk#',
  loc: DPV_LOC_NS,
  'eu-gdpr': 'https://w3id.org/dpv/legal/eu/gdpr#',
  'legal-eu': 'https://w3id.org/dpv/legal/eu#',
};

// RFC 3987: a scheme, a colon, then no space, control or delimiter character.
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f\u007f-\u009f]*$/;

/** True for an absolute IRI (a scheme and no character an IRI cannot hold). */
export function isAbsoluteIri(s: string): boolean {
  return s.length <= 2000 && ABSOLUTE_IRI.test(s);
}

/**
 * The default IRI of a vocabulary term: DPV prefixes (DPV_PREFIXES) map into DPV's
 * namespaces (`dpv:PublicTask` → `https://w3id.org/dpv#PublicTask`); any other prefix
 * into ours (`city:TrafficManagement` → `https://civic-ledger.example/terms/city#TrafficManagement`,
 * `x-vendor-a:Foo` → `.../terms/x-vendor-a#Foo`). Never undefined: no term is dropped.
 */
export function defaultTermIri(id: string): string {
  if (!TERM_ID.test(id))
    throw new OdrlError('OPTION_INVALID', 'term', `${JSON.stringify(id)} is not a prefix:Name term`);
  const colon = id.indexOf(':');
  const prefix = id.slice(0, colon);
  const name = id.slice(colon + 1);
  const ns = DPV_PREFIXES[prefix];
  return ns === undefined ? `${TERMS_NS}${prefix}#${name}` : `${ns}${name}`;
}

/** Checks a base for ledger IRIs: absolute, ending in `:` or `/` (it is a prefix), no `#` or `?`. */
export function checkBase(base: string): string | undefined {
  if (!isAbsoluteIri(base)) return 'must be an absolute IRI (scheme:...)';
  if (!/[:/]$/.test(base)) return "must end with ':' or '/' (names are appended to it)";
  if (/[#?]/.test(base)) return "must not hold '#' or '?' (rule ids are fragments of the policy id)";
  return undefined;
}

/** `<base>policy/<declaration event hash>`: the policy's uid, stable for one declaration version. */
export function policyIri(declarationHash: string, base: string = DEFAULT_BASE): string {
  return `${base}policy/${declarationHash}`;
}

/** `<base>event/<hash>`: the declare event itself (the PROV export names events the same way). */
export function eventIri(eventHash: string, base: string = DEFAULT_BASE): string {
  return `${base}event/${eventHash}`;
}

/** `<base>org/<organization>`. */
export function orgIri(org: string, base: string = DEFAULT_BASE): string {
  return `${base}org/${org}`;
}

/** `<base>resource/<source or dataset id>`: every version of the data the declaration covers. */
export function resourceIri(id: string, base: string = DEFAULT_BASE): string {
  return `${base}resource/${id}`;
}

/** A storage jurisdiction (ISO 3166 alpha-2, or EU) as its DPV location IRI. */
export function jurisdictionIri(code: string): string {
  return `${DPV_LOC_NS}${code}`;
}
