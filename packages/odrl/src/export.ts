// A declaration version as a W3C ODRL 2.2 policy. The input is untrusted: it is validated
// with the same zod schema and cross-field rules as a `declare` event, and refused with
// every problem named. The output is deterministic (same declaration, same options, same
// JSON) and drops nothing: every declared field lands in the policy, as ODRL where ODRL
// has the notion, as DPV or our profile (`cl:`) where it does not (see the README table).
import {
  crossFieldIssues,
  declaration as declarationSchema,
  declareEvent as declareEventSchema,
  eventHash,
  GENESIS_PREV,
  orgId,
  type Declaration,
  type DeclareEvent,
} from '@civic-ledger/schemas';
import type { z } from 'zod';
import { CIVIC_LEDGER_CONTEXT, ODRL_CONTEXT_URL } from './contexts.ts';
import { OdrlError, type OdrlIssue } from './errors.ts';
import {
  checkBase,
  DEFAULT_BASE,
  defaultTermIri,
  eventIri,
  isAbsoluteIri,
  jurisdictionIri,
  orgIri,
  policyIri,
  PROFILE_IRI,
  resourceIri,
} from './iris.ts';
import {
  ASSESSMENT_IRIS,
  CONCLUDE_AGREEMENT,
  DELETION_IRIS,
  PERSONAL_DATA_IRIS,
  PROCESSING_IRIS,
  PROHIBITION_MAPPINGS,
  ROLE_IRIS,
} from './mapping.ts';
import type {
  IriRef,
  OdrlConstraint,
  OdrlDuty,
  OdrlPermission,
  OdrlPolicy,
  OdrlProhibition,
  TypedLiteral,
} from './types.ts';

export interface OdrlExportOptions {
  /** Hash of the `declare` event (the declaration version): the policy's uid is made from it. */
  declarationHash: string;
  /** The declaring organization (the declare event's emitter): the policy's assigner. */
  issuer: string;
  /** Prefix of policy, organization, resource and event IRIs (default `urn:civic-ledger:`). */
  base?: string;
  /**
   * The IRI of a purpose id, e.g. from the purpose vocabulary. `undefined` (an id it does
   * not know) falls back to `defaultTermIri`, so no purpose is ever dropped.
   */
  purposeIri?: (id: string) => string | undefined;
}

export type OdrlEventExportOptions = Omit<OdrlExportOptions, 'issuer'>;

/**
 * Exports one declaration version as an ODRL 2.2 `Set` policy (JSON-LD). Throws OdrlError:
 * DECLARATION_INVALID (every issue, each a JSON Pointer into the declaration and a rule),
 * OPTION_INVALID, or PURPOSE_IRI_INVALID.
 */
export function declarationToOdrl(declaration: unknown, options: OdrlExportOptions): OdrlPolicy {
  const opts = checkOptions(options);
  const issuer = checkOption(orgId, options.issuer, 'issuer');
  const parsed = declarationSchema.safeParse(declaration);
  if (!parsed.success) refuse(fromZod(parsed.error, ''));
  const d = parsed.data;
  // The cross-field rules are the declare event's; a stand-in envelope lets them run on
  // the declaration alone (seq 1 with the genesis prev passes the envelope's own rule).
  const probe: DeclareEvent = {
    v: 1,
    emitter: issuer,
    stream: 'odrl-export',
    seq: 1,
    prev: GENESIS_PREV,
    time: d.validFrom,
    key: `${issuer}/odrl-export`,
    type: 'declare',
    declaration: d,
  };
  const cross = crossFieldIssues(probe)
    .filter((i) => i.path.startsWith('/declaration/'))
    .map((i) => ({ path: i.path.slice('/declaration'.length), rule: i.rule }));
  if (cross.length > 0) refuse(cross);
  return build(d, issuer, opts);
}

/** The same from a whole `declare` event (validated as one); the issuer is its emitter. */
export function declareEventToOdrl(event: unknown, options: OdrlEventExportOptions): OdrlPolicy {
  const opts = checkOptions(options);
  const parsed = declareEventSchema.safeParse(event);
  if (!parsed.success) refuse(fromZod(parsed.error, ''));
  const cross = crossFieldIssues(parsed.data).map((i) => ({ path: i.path, rule: i.rule }));
  if (cross.length > 0) refuse(cross);
  return build(parsed.data.declaration, parsed.data.emitter, opts);
}

interface CheckedOptions {
  declarationHash: string;
  base: string;
  purposeIri: ((id: string) => string | undefined) | undefined;
}

function checkOptions(options: OdrlEventExportOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OdrlError('OPTION_INVALID', 'options', 'an object with declarationHash (and issuer)');
  }
  const declarationHash = checkOption(eventHash, options.declarationHash, 'declarationHash');
  const base = options.base ?? DEFAULT_BASE;
  const baseProblem = typeof base === 'string' ? checkBase(base) : 'must be a string';
  if (baseProblem !== undefined) throw new OdrlError('OPTION_INVALID', 'base', baseProblem);
  if (options.purposeIri !== undefined && typeof options.purposeIri !== 'function') {
    throw new OdrlError('OPTION_INVALID', 'purposeIri', 'must be a function (id) => IRI | undefined');
  }
  return { declarationHash, base, purposeIri: options.purposeIri };
}

function checkOption<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new OdrlError('OPTION_INVALID', field, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

function refuse(issues: OdrlIssue[]): never {
  const first = issues[0] ?? { path: '/', rule: 'invalid declaration' };
  throw new OdrlError('DECLARATION_INVALID', first.path, first.rule, { issues });
}

function fromZod(error: z.ZodError, prefix: string): OdrlIssue[] {
  return error.issues.map((i) => ({
    path:
      prefix +
      (i.path.length === 0
        ? '/'
        : i.path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')),
    rule: i.message,
  }));
}

const ref = (iri: string): IriRef => ({ '@id': iri });
const literal = (value: string, type: TypedLiteral['@type']): TypedLiteral => ({
  '@value': value,
  '@type': type,
});

/** One IRI: `eq`; several: `isAnyOf` (the value is any of them). */
function oneOf(leftOperand: 'purpose' | 'spatial', iris: readonly string[]): OdrlConstraint {
  return iris.length === 1
    ? { leftOperand, operator: 'eq', rightOperand: ref(iris[0]!) }
    : { leftOperand, operator: 'isAnyOf', rightOperand: iris.map(ref) };
}

function build(d: Declaration, issuer: string, opts: CheckedOptions): OdrlPolicy {
  const uid = policyIri(opts.declarationHash, opts.base);
  const purposeIri = (id: string, path: string): string => {
    const iri = opts.purposeIri?.(id) ?? defaultTermIri(id);
    if (typeof iri !== 'string' || !isAbsoluteIri(iri)) {
      throw new OdrlError(
        'PURPOSE_IRI_INVALID',
        path,
        `purposeIri(${JSON.stringify(id)}) answered ${JSON.stringify(iri)}, not an absolute IRI`,
      );
    }
    return iri;
  };

  // Permissions hold only inside the validity window. Prohibitions and the retention duty
  // are not limited by it: data received under this version stays bound after it lapses.
  const validity: OdrlConstraint[] = [
    { leftOperand: 'dateTime', operator: 'gteq', rightOperand: literal(d.validFrom, 'xsd:dateTime') },
  ];
  if (d.validUntil !== undefined) {
    validity.push({
      leftOperand: 'dateTime',
      operator: 'lt',
      rightOperand: literal(d.validUntil, 'xsd:dateTime'),
    });
  }
  const jurisdictions = [...new Set(d.storage.map((s) => s.jurisdiction))].map(jurisdictionIri);

  const permission: OdrlPermission[] = d.purposes.map((p, i) => ({
    uid: `${uid}#purposes-${i}`,
    action: 'use',
    constraint: [
      oneOf('purpose', [purposeIri(p.id, `/purposes/${i}/id`)]),
      ...validity,
      oneOf('spatial', jurisdictions),
    ],
    'dpv:hasLegalBasis': defaultTermIri(p.legalBasis),
    'dct:description': p.description,
    ...(p.primary === true ? { 'cl:primary': true as const } : {}),
  }));

  d.recipients?.forEach((r, i) => {
    const recipient: OdrlConstraint =
      r.org !== undefined
        ? { leftOperand: 'recipient', operator: 'eq', rightOperand: ref(orgIri(r.org, opts.base)) }
        : { leftOperand: 'recipient', operator: 'isA', rightOperand: ref(ROLE_IRIS[r.role!]!) };
    const constraint: OdrlConstraint[] = [
      recipient,
      oneOf(
        'purpose',
        r.purposes.map((id, j) => purposeIri(id, `/recipients/${i}/purposes/${j}`)),
      ),
    ];
    if (r.maxRecipients !== undefined) {
      constraint.push({ leftOperand: 'count', operator: 'lteq', rightOperand: r.maxRecipients });
    }
    constraint.push(...validity);
    const duty: OdrlDuty[] = [];
    if (r.nextPolicyRequired === true) {
      duty.push({
        uid: `${uid}#recipients-${i}-next-policy`,
        action: 'nextPolicy',
        'cl:atLeastAsStrictAs': uid,
      });
    }
    if (r.agreementRequired === true) {
      duty.push({ uid: `${uid}#recipients-${i}-agreement`, action: CONCLUDE_AGREEMENT });
    }
    permission.push({
      uid: `${uid}#recipients-${i}`,
      action: 'distribute',
      constraint,
      ...(duty.length > 0 ? { duty } : {}),
      ...(r.onwardTransfer !== undefined ? { 'cl:onwardTransfer': r.onwardTransfer } : {}),
    });
  });

  const prohibition: OdrlProhibition[] = (d.prohibitions ?? []).map((term, i) => {
    const known = PROHIBITION_MAPPINGS[term];
    const termIri = defaultTermIri(term);
    if (known === undefined)
      return { uid: `${uid}#prohibitions-${i}`, action: termIri, 'cl:declaredTerm': termIri };
    return {
      uid: `${uid}#prohibitions-${i}`,
      action: known.action,
      ...(known.asPurpose
        ? { constraint: [oneOf('purpose', [purposeIri(term, `/prohibitions/${i}`)])] }
        : {}),
      'cl:declaredTerm': termIri,
    };
  });

  const retention: OdrlDuty = {
    uid: `${uid}#retention`,
    action: 'delete',
    constraint: [
      {
        leftOperand: 'elapsedTime',
        operator: 'lteq',
        rightOperand: literal(d.retention.duration, 'xsd:duration'),
      },
    ],
    ...(d.retention.deletion !== undefined
      ? { 'cl:deletionMethod': DELETION_IRIS[d.retention.deletion]! }
      : {}),
    ...(d.retention.basis !== undefined ? { 'dct:description': d.retention.basis } : {}),
  };

  const policy: OdrlPolicy = {
    '@context': [ODRL_CONTEXT_URL, structuredClone(CIVIC_LEDGER_CONTEXT)],
    '@type': 'Set',
    uid,
    profile: PROFILE_IRI,
    // ODRL's default is "invalid" (the whole policy void on a conflict); PURPOSES.md check
    // 15 says conflicts resolve explicitly and the prohibition wins: that is `prohibit`.
    conflict: 'prohibit',
    target: resourceIri(d.subject, opts.base),
    assigner: orgIri(issuer, opts.base),
    'dct:source': eventIri(opts.declarationHash, opts.base),
    'cl:version': d.version,
    ...(d.supersedes !== undefined ? { 'dct:replaces': policyIri(d.supersedes, opts.base) } : {}),
    permission,
    ...(prohibition.length > 0 ? { prohibition } : {}),
    obligation: [retention],
    'dpv:hasData': d.categories.map(defaultTermIri),
    'cl:personalDataState': PERSONAL_DATA_IRIS[d.personalData]!,
    'dpv:hasStorageCondition': d.storage.map((s) => ({
      '@type': 'dpv:StorageLocation',
      'rdfs:label': s.location,
      'dpv:hasLocation': jurisdictionIri(s.jurisdiction),
    })),
  };
  if (d.processing !== undefined) policy['cl:processing'] = d.processing.map((p) => PROCESSING_IRIS[p]!);
  if (d.measures !== undefined)
    policy['dpv:hasTechnicalOrganisationalMeasure'] = d.measures.map(defaultTermIri);
  if (d.customPurposes !== undefined) {
    policy['cl:customPurpose'] = d.customPurposes.map((p, i) => ({
      '@id': purposeIri(p.id, `/customPurposes/${i}/id`),
      '@type': 'dpv:Purpose',
      'skos:prefLabel': p.label,
      'skos:broader': p.parents.map((parent, j) => purposeIri(parent, `/customPurposes/${i}/parents/${j}`)),
      ...(p.description !== undefined ? { 'dct:description': p.description } : {}),
    }));
  }
  if (d.assessments !== undefined) {
    policy['cl:assessment'] = d.assessments.map((a) => ({
      '@id': a.url,
      '@type': ASSESSMENT_IRIS[a.kind]!,
      'cl:digest': a.digest,
      'dct:issued': a.date,
    }));
  }
  if (d.notice?.privacyStatement !== undefined) policy['dpv:hasNotice'] = d.notice.privacyStatement;
  if (d.notice?.register !== undefined) policy['cl:registerEntry'] = d.notice.register;
  return policy;
}
