// The v1 event: one envelope (who, which chain, where in it, when, signed with which key)
// and a type-specific body. Every object is strict: an unknown field is refused, except
// inside `ext`, the one documented, size-limited extension point.
//
// The schemas only validate, never transform (no defaults, no coercion): the hash and the
// signature cover the canonical form of exactly what the emitter sent.
import { z } from 'zod';
import { digest, eventHash, keyName, orgId, resourceId, streamId, termId, traceId } from './ids.ts';
import { count, documentUrl, duration, label, LIMITS, list, shortText, timestamp } from './primitives.ts';

export const EVENT_VERSION = 1;

export const MOVEMENT_TYPES = ['collect', 'transfer', 'derive', 'use', 'publish', 'delete'] as const;
export const GOVERNANCE_TYPES = ['register', 'declare', 'key', 'attest', 'finding'] as const;
export const EVENT_TYPES = [...MOVEMENT_TYPES, ...GOVERNANCE_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** Whether and how the data a movement touches relates to people (W3C DPV data states). */
export const personalDataState = z.enum([
  'identified',
  'pseudonymised',
  'contextually-anonymised',
  'anonymised',
  'none',
]);

/** One version of a dataset: its id and the digest of its content. */
export const datasetVersion = z.strictObject({ id: resourceId, version: digest });

/**
 * Namespaced extension members (`<prefix>:<name>`), for what the schema does not model.
 * Its canonical size is limited separately (LIMITS.maxExtBytes), and it is part of the
 * signed, hashed event like everything else.
 */
export const ext = z.record(
  z.string().regex(/^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_.-]{1,64}$/, 'ext member: prefix:name'),
  z.union([z.string().max(LIMITS.maxTextChars), z.number(), z.boolean(), z.null()]),
);

const envelope = {
  v: z.literal(EVENT_VERSION),
  /** The organization whose chain this event extends, and on whose behalf it is signed. */
  emitter: orgId,
  stream: streamId,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Hash of the previous event of this chain; 64 zeros for seq 1. */
  prev: eventHash,
  /** When the emitter says it happened. Recorded, never trusted for ordering. */
  time: timestamp,
  /** The registered key that signs this event; it must belong to `emitter`. */
  key: keyName,
  traceId: traceId.optional(),
  ext: ext.optional(),
};

/** Fields every movement carries: the data, where it came from, and under what claim. */
const movement = {
  /** The dataset version this movement concerns (for `derive`, the output). */
  dataset: datasetVersion,
  /** Hashes of the upstream events this data came from (empty only for `collect`). */
  inputs: list(eventHash),
  /** The purpose claimed for this movement. */
  purpose: termId,
  /** Hash of the `declare` event (declaration version) this movement claims to run under. */
  declaration: eventHash,
  /** Optional short note; never about a person. */
  note: shortText.optional(),
};

export const collectEvent = z.strictObject({
  ...envelope,
  type: z.literal('collect'),
  ...movement,
  inputs: list(eventHash).max(0, 'collect: inputs must be empty (collection starts a lineage)'),
  /** The registered source that captured the data. */
  source: resourceId,
  categories: list(termId).min(1),
  personalData: personalDataState,
  /** Capture window. */
  from: timestamp.optional(),
  until: timestamp.optional(),
  records: count.optional(),
  bytes: count.optional(),
  /** Media type of the data, e.g. video/mp4, text/csv. */
  format: z
    .string()
    .max(100)
    .regex(/^[a-z]+\/[A-Za-z0-9.+-]+$/, 'format: a media type')
    .optional(),
});

export const transferEvent = z.strictObject({
  ...envelope,
  type: z.literal('transfer'),
  ...movement,
  inputs: list(eventHash).min(1),
  recipient: orgId,
  /** The recipient's declaration that binds the data onward (an onward transfer's "next policy"). */
  nextPolicy: eventHash.optional(),
  /** Digest of the data-sharing agreement document. */
  agreement: digest.optional(),
  records: count.optional(),
});

export const PROCESSING = [
  'aggregate',
  'anonymise',
  'pseudonymise',
  'filter',
  'join',
  'transform',
  'sample',
  'train-model',
  'infer',
] as const;

export const deriveEvent = z.strictObject({
  ...envelope,
  type: z.literal('derive'),
  ...movement,
  inputs: list(eventHash).min(1),
  processing: list(z.enum(PROCESSING)).min(1),
  categories: list(termId).min(1),
  personalData: personalDataState,
  /** Required when processing includes anonymise: the technique and its assessment. */
  anonymisation: z
    .strictObject({
      technique: termId,
      /** Digest of the assessment document (re-identification risk, DPIA). */
      assessment: digest,
      /** k of k-anonymity, epsilon of differential privacy, etc., where it applies. */
      parameter: z.number().min(0).optional(),
    })
    .optional(),
  records: count.optional(),
  /** Column-level lineage where known: output column -> input columns (names only). */
  columns: z
    .array(
      z.strictObject({
        output: z.string().min(1).max(64),
        inputs: list(z.string().min(1).max(64), 16),
        transformation: z.enum(['direct', 'indirect']),
        masked: z.boolean().optional(),
      }),
    )
    .max(LIMITS.maxListItems)
    .optional(),
});

export const useEvent = z.strictObject({
  ...envelope,
  type: z.literal('use'),
  ...movement,
  inputs: list(eventHash).min(1),
  /** What was done with the data, as a vocabulary term, e.g. city:Enforcement, dpv:Analyse. */
  action: termId,
  records: count.optional(),
});

export const publishEvent = z.strictObject({
  ...envelope,
  type: z.literal('publish'),
  ...movement,
  inputs: list(eventHash).min(1),
  audience: z.enum(['public', 'registered-users', 'partners']),
  /** Where it was published. */
  url: documentUrl.optional(),
  /** Licence term, e.g. spdx:CC-BY-4.0. */
  licence: termId.optional(),
});

export const deleteEvent = z.strictObject({
  ...envelope,
  type: z.literal('delete'),
  ...movement,
  inputs: list(eventHash).min(1),
  method: z.enum(['erase', 'overwrite', 'crypto-shred', 'destroy-media']),
  records: count.optional(),
});

/** What a `register` event brings into existence. */
export const registration = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('organization'),
    id: orgId,
    name: label,
    role: z.enum(['agency', 'vendor', 'oversight', 'operator', 'compliance', 'gateway']),
    jurisdiction: z.string().regex(/^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$/, 'jurisdiction: ISO 3166 code'),
    contact: documentUrl.optional(),
  }),
  z.strictObject({
    kind: z.literal('source'),
    id: resourceId,
    name: label,
    /** Technology type, e.g. city:TrafficCamera, city:WifiCounter, city:AirQualityStation. */
    technology: termId,
    /** WGS84 coordinates rounded to ~10 m, or an area name. */
    location: z.union([
      z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
      z.strictObject({ area: label }),
    ]),
    categories: list(termId).min(1),
    personalData: personalDataState,
    notice: documentUrl.optional(),
    operator: orgId.optional(),
  }),
  z.strictObject({
    kind: z.literal('dataset'),
    id: resourceId,
    name: label,
    categories: list(termId).min(1),
    personalData: personalDataState,
    /** Sources it is captured from, when it is raw capture. */
    sources: list(resourceId).optional(),
  }),
]);

export const registerEvent = z.strictObject({
  ...envelope,
  type: z.literal('register'),
  subject: registration,
});

const recipientRule = z.strictObject({
  /** An organization, or a role every organization of that role matches. */
  org: orgId.optional(),
  role: z.enum(['agency', 'vendor', 'oversight', 'research', 'public']).optional(),
  purposes: list(termId).min(1),
  agreementRequired: z.boolean().optional(),
  nextPolicyRequired: z.boolean().optional(),
  onwardTransfer: z.boolean().optional(),
  maxRecipients: count.optional(),
});

/**
 * A purpose declaration: what the data of a source or dataset may be used for and under
 * which terms. Fields follow PURPOSES.md; vocabulary terms are DPV names where DPV has them.
 */
export const declaration = z.strictObject({
  /** The source or dataset this declaration covers. */
  subject: resourceId,
  /** 1 for the first declaration of a subject, then +1 for each new version. */
  version: z.number().int().min(1),
  /** The previous version's event hash (absent for version 1). */
  supersedes: eventHash.optional(),
  purposes: list(
    z.strictObject({
      id: termId,
      description: shortText,
      primary: z.boolean().optional(),
      legalBasis: termId,
    }),
  ).min(1),
  /** Purposes an organization adds to the vocabulary, each under known parents. */
  customPurposes: list(
    z.strictObject({ id: termId, label, parents: list(termId, 8).min(1), description: shortText.optional() }),
    LIMITS.maxDeclarationItems,
  ).optional(),
  categories: list(termId).min(1),
  personalData: personalDataState,
  processing: list(z.enum(PROCESSING)).optional(),
  measures: list(termId).optional(),
  recipients: list(recipientRule, LIMITS.maxDeclarationItems).optional(),
  prohibitions: list(termId).optional(),
  retention: z.strictObject({
    duration,
    basis: shortText.optional(),
    deletion: z.enum(['erase', 'overwrite', 'crypto-shred', 'destroy-media']).optional(),
  }),
  storage: list(z.strictObject({ location: label, jurisdiction: z.string().regex(/^[A-Z]{2}$/) }), 16).min(1),
  validFrom: timestamp,
  validUntil: timestamp.optional(),
  assessments: list(
    z.strictObject({
      kind: z.enum(['dpia', 'compatibility', 'anonymisation', 'legitimate-interest']),
      url: documentUrl,
      digest,
      date: timestamp,
    }),
    16,
  ).optional(),
  notice: z
    .strictObject({ register: documentUrl.optional(), privacyStatement: documentUrl.optional() })
    .optional(),
});

export const declareEvent = z.strictObject({
  ...envelope,
  type: z.literal('declare'),
  declaration,
});

/** Key lifecycle: each change is effective from the event's position in the log. */
export const keyEvent = z.strictObject({
  ...envelope,
  type: z.literal('key'),
  action: z.enum(['add', 'revoke', 'recover']),
  /** The organization whose key changes (the emitter's own, or any for the operator). */
  subjectOrg: orgId,
  /** The key added or revoked: its name and C2SP verifier-key text. */
  subjectKey: keyName,
  publicKey: z
    .string()
    .max(200)
    .regex(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]$/, 'publicKey: C2SP verifier key text')
    .optional(),
  /** For a revocation after compromise: from when the key is believed stolen. */
  compromisedSince: timestamp.optional(),
  reason: shortText.optional(),
});

export const attestEvent = z.strictObject({
  ...envelope,
  type: z.literal('attest'),
  /** What the oversight body attests: an event, or a checkpoint (tree size and root). */
  about: z.union([
    z.strictObject({ event: eventHash }),
    z.strictObject({
      treeSize: count,
      rootHash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'rootHash: base64 of 32 bytes'),
    }),
  ]),
  statement: z.enum(['verified', 'reviewed', 'objection', 'resolved']),
  text: shortText.optional(),
});

export const FINDING_OUTCOMES = ['compliant', 'violation', 'undetermined', 'overdue'] as const;

export const findingEvent = z.strictObject({
  ...envelope,
  type: z.literal('finding'),
  /** The event evaluated. */
  about: eventHash,
  /** Check identifier, e.g. purpose-declared. */
  check: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/, 'check: lower-case id'),
  outcome: z.enum(FINDING_OUTCOMES),
  /** Declaration version used (absent when none was found). */
  declaration: eventHash.optional(),
  /** Lineage path (event hashes from the evaluated event up to the deciding one). */
  path: list(eventHash),
  explanation: shortText,
});

/** Any v1 event. */
export const event = z.discriminatedUnion('type', [
  collectEvent,
  transferEvent,
  deriveEvent,
  useEvent,
  publishEvent,
  deleteEvent,
  registerEvent,
  declareEvent,
  keyEvent,
  attestEvent,
  findingEvent,
]);

export type Event = z.infer<typeof event>;
export type EventInput = z.input<typeof event>;
export type CollectEvent = z.infer<typeof collectEvent>;
export type TransferEvent = z.infer<typeof transferEvent>;
export type DeriveEvent = z.infer<typeof deriveEvent>;
export type UseEvent = z.infer<typeof useEvent>;
export type PublishEvent = z.infer<typeof publishEvent>;
export type DeleteEvent = z.infer<typeof deleteEvent>;
export type RegisterEvent = z.infer<typeof registerEvent>;
export type DeclareEvent = z.infer<typeof declareEvent>;
export type KeyEvent = z.infer<typeof keyEvent>;
export type AttestEvent = z.infer<typeof attestEvent>;
export type FindingEvent = z.infer<typeof findingEvent>;
export type MovementEvent =
  CollectEvent | TransferEvent | DeriveEvent | UseEvent | PublishEvent | DeleteEvent;
export type Declaration = z.infer<typeof declaration>;
export type Registration = z.infer<typeof registration>;

export function isMovement(e: Event): e is MovementEvent {
  return (MOVEMENT_TYPES as readonly string[]).includes(e.type);
}
