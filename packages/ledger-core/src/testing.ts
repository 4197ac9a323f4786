// Test support: an emitter that numbers, links and signs its own events, and a ledger
// bootstrapped with an operator. For tests of code above the core; the client SDK is the
// production emitter.
import { formatVerifierKey, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import { signEvent, type SignedEventWire } from '@civic-ledger/events';
import { GENESIS_PREV, OPERATOR_ORG, type EventInput } from '@civic-ledger/schemas';
import type { WitnessingStatus, WitnessRound } from './witnessing.ts';

type Body = Omit<EventInput, 'v' | 'emitter' | 'stream' | 'seq' | 'prev' | 'time' | 'key'>;

/** A submission in wire form; `hash` (the event hash) is not enumerable, so it is not sent. */
export type TestSubmission = SignedEventWire & { readonly hash: string };

function withHash(wire: SignedEventWire, hash: string): TestSubmission {
  return Object.defineProperty({ ...wire }, 'hash', { value: hash, enumerable: false }) as TestSubmission;
}

export class TestEmitter {
  readonly org: string;
  readonly stream: string;
  key: SigningKey;
  seq = 0;
  prev = GENESIS_PREV;
  time = '2026-11-02T08:00:00Z';

  constructor(org: string, options: { key?: SigningKey; stream?: string } = {}) {
    this.org = org;
    this.stream = options.stream ?? 'main';
    this.key = options.key ?? generateSigningKey(`${org}/k1`);
  }

  get verifierKey(): string {
    return formatVerifierKey(this.key);
  }

  /** The next event of this chain, signed; advances seq/prev. */
  next(body: Body): TestSubmission {
    const signed = this.peek(body);
    this.seq += 1;
    this.prev = signed.hash;
    return signed;
  }

  /** Builds an event without advancing the chain (for gaps, forks and other refusals). */
  peek(body: Body, overrides: Record<string, unknown> = {}, key: SigningKey = this.key): TestSubmission {
    const event = {
      v: 1,
      emitter: this.org,
      stream: this.stream,
      seq: this.seq + 1,
      prev: this.prev,
      time: this.time,
      key: this.key.name,
      ...body,
      ...overrides,
    } as EventInput;
    const signed = signEvent(event, key);
    return withHash(signed.wire, signed.hash);
  }
}

/** The operator's genesis event: it adds its own (configured) key, signed by it. */
export function genesisEvent(operator: TestEmitter): TestSubmission {
  return operator.next({
    type: 'key',
    action: 'add',
    subjectOrg: OPERATOR_ORG,
    subjectKey: operator.key.name,
    publicKey: operator.verifierKey,
  } as Body);
}

export function registerOrg(operator: TestEmitter, id: string, role: string): TestSubmission {
  return operator.next({
    type: 'register',
    subject: { kind: 'organization', id, name: `Org ${id}`, role, jurisdiction: 'NL' },
  } as Body);
}

export function addKey(
  by: TestEmitter,
  org: string,
  verifierKeyText: string,
  keyName: string,
): TestSubmission {
  return by.next({
    type: 'key',
    action: 'add',
    subjectOrg: org,
    subjectKey: keyName,
    publicKey: verifierKeyText,
  } as Body);
}

/** A source registration in `by`'s namespace (a traffic camera, unless told otherwise). */
export function registerSource(by: TestEmitter, id: string): TestSubmission {
  return by.next({
    type: 'register',
    subject: {
      kind: 'source',
      id,
      name: `Source ${id}`,
      technology: 'city:TrafficCamera',
      location: { area: 'Test district' },
      categories: ['city:VehicleCount'],
      personalData: 'none',
    },
  } as Body);
}

/** A dataset registration in `by`'s namespace. */
export function registerDataset(by: TestEmitter, id: string, sources?: readonly string[]): TestSubmission {
  return by.next({
    type: 'register',
    subject: {
      kind: 'dataset',
      id,
      name: `Dataset ${id}`,
      categories: ['city:VehicleCount'],
      personalData: 'none',
      ...(sources === undefined ? {} : { sources: [...sources] }),
    },
  } as Body);
}

/**
 * The events that make a fresh ledger usable: the operator's genesis key, then for each
 * emitter its organization (role `agency` unless given) and its key, then the sources and
 * datasets given (registered by the emitter whose namespace they are in: `<org>/...`).
 */
export function bootstrapEvents(
  operator: TestEmitter,
  emitters: readonly TestEmitter[],
  roles: Readonly<Record<string, string>> = {},
  resources: readonly { kind: 'source' | 'dataset'; id: string }[] = [],
): TestSubmission[] {
  // Resources are registered by the emitter whose namespace they are in (`<org>/...`).
  const owner = (id: string) => {
    const e = emitters.find((x) => id.startsWith(`${x.org}/`));
    if (!e) throw new Error(`no emitter owns ${id}`);
    return e;
  };
  return [
    genesisEvent(operator),
    ...emitters.map((e) => registerOrg(operator, e.org, roles[e.org] ?? 'agency')),
    ...emitters.map((e) => addKey(operator, e.org, e.verifierKey, e.key.name)),
    ...resources.map((r) =>
      r.kind === 'source' ? registerSource(owner(r.id), r.id) : registerDataset(owner(r.id), r.id),
    ),
  ];
}

/**
 * A checkpoint round of a 2-of-3 policy named `oversight` at size 7: w1 cosigned, w2 was
 * unreachable, and w3 cosigned too when `quorum`. For tests of what services show of rounds.
 */
export const testWitnessRound = (quorum: boolean): WitnessRound => ({
  kind: 'checkpoint',
  size: 7,
  rootHash: 'AAAA',
  startedAt: Date.UTC(2026, 10, 2, 8),
  durationMs: 12,
  witnesses: [
    { witness: 'w1', url: 'http://127.0.0.1:1', result: 'cosigned', timestamp: 1, ms: 5 },
    {
      witness: 'w2',
      url: 'http://127.0.0.1:2',
      result: 'failed',
      code: 'WITNESS_UNREACHABLE',
      message: 'connection refused',
      ms: 3,
    },
  ],
  signed: quorum ? ['w1', 'w3'] : ['w1'],
  quorum,
  published: quorum,
  shortfall: quorum
    ? []
    : [{ name: 'oversight', threshold: 2, members: ['w1', 'w2', 'w3'], holding: ['w1'] }],
});

/** The witnessing status after `latest` (published at size 7 when it reached the quorum). */
export const testWitnessingStatus = (latest: WitnessRound): WitnessingStatus => ({
  quorum: 'oversight',
  intervalMs: 100,
  timeoutMs: 500,
  checkpointWithinMs: 1000,
  witnesses: [],
  published: latest.published
    ? { size: 7, createdAt: Date.UTC(2026, 10, 2, 8), witnesses: latest.signed }
    : null,
  latest,
  failingSince: latest.quorum ? null : Date.UTC(2026, 10, 2, 8),
});
