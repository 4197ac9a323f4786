// The effective policy of data: the clauses every upstream declaration (and every transfer
// rule and next policy on the way) puts on it. A clause is one constraint from one place
// ("purposes within {A, B}, from declaration D"); the data must satisfy all of them, which
// is how intersection of purposes and recipients and union of prohibitions fall out.
//
// Clauses and clause sets are interned: equal content is one object, so the policy of an
// event is computed once from its inputs' policies (a union of a few shared sets, memoized)
// and most events of a city share a handful of sets.
import type { PersonalDataState } from '@civic-ledger/purposes';
import type { Declaration } from '@civic-ledger/schemas';

export type RecipientRule = NonNullable<Declaration['recipients']>[number];

/** A declaration version as the engine keeps it. */
export interface DeclRecord {
  readonly hash: string;
  readonly index: number;
  /** Ledger time of the declare event (ms). */
  readonly time: number;
  readonly emitter: string;
  readonly d: Declaration;
  readonly validFrom: number;
  readonly validUntil: number;
  /** The declaration's own clauses (purposes, recipients, processing, prohibitions). */
  set: ClauseSet;
}

interface ClauseBase {
  /** Intern id (sets are sorted by it). */
  readonly id: number;
  readonly key: string;
  /** The declaration the clause comes from, when one does. */
  readonly decl: DeclRecord | undefined;
}

/** The purpose must be within at least one of `ids`. */
export interface PurposeClause extends ClauseBase {
  readonly kind: 'purposes';
  readonly ids: readonly string[];
  /** declaration: its purposes; rule: a recipient rule's purposes; claim: what an unauthorised transfer claimed. */
  readonly origin: 'declaration' | 'rule' | 'claim';
}

/** A recipient must match one of `rules` (or, with `returnTo`, be that organization). */
export interface RecipientClause extends ClauseBase {
  readonly kind: 'recipients';
  readonly rules: readonly RecipientRule[];
  /** No onward transfer: the data may only go back to this organization. */
  readonly returnTo: string | undefined;
}

/** A processing step must be one of `steps` (undefined: the declaration lists none). */
export interface ProcessingClause extends ClauseBase {
  readonly kind: 'processing';
  readonly steps: ReadonlySet<string> | undefined;
}

export interface ProhibitionClause extends ClauseBase {
  readonly kind: 'prohibition';
  readonly term: string;
}

/** The data carries a special-category (art. 9) or criminal (art. 10) data category. */
export interface SpecialClause extends ClauseBase {
  readonly kind: 'special';
  readonly category: string;
  readonly sensitivity: 'special' | 'criminal';
}

export type Clause = PurposeClause | RecipientClause | ProcessingClause | ProhibitionClause | SpecialClause;
type ClauseFields<C extends Clause> = Omit<C, 'id' | 'key'>;

/** An interned, sorted set of clauses, split by kind for the checks. */
export class ClauseSet {
  readonly key: string;
  readonly clauses: readonly Clause[];
  readonly purposes: readonly PurposeClause[];
  readonly recipients: readonly RecipientClause[];
  readonly processing: readonly ProcessingClause[];
  readonly prohibitions: readonly ProhibitionClause[];
  readonly special: readonly SpecialClause[];
  readonly #ids: ReadonlySet<number>;

  constructor(key: string, clauses: readonly Clause[]) {
    this.key = key;
    this.clauses = clauses;
    const purposes: PurposeClause[] = [];
    const recipients: RecipientClause[] = [];
    const processing: ProcessingClause[] = [];
    const prohibitions: ProhibitionClause[] = [];
    const special: SpecialClause[] = [];
    for (const c of clauses) {
      if (c.kind === 'purposes') purposes.push(c);
      else if (c.kind === 'recipients') recipients.push(c);
      else if (c.kind === 'processing') processing.push(c);
      else if (c.kind === 'prohibition') prohibitions.push(c);
      else special.push(c);
    }
    this.purposes = purposes;
    this.recipients = recipients;
    this.processing = processing;
    this.prohibitions = prohibitions;
    this.special = special;
    this.#ids = new Set(clauses.map((c) => c.id));
  }

  has(c: Clause): boolean {
    return this.#ids.has(c.id);
  }
}

/** Interns clauses and clause sets; memoizes unions. One per engine. */
export class Interner {
  readonly #clauses = new Map<string, Clause>();
  readonly #sets = new Map<string, ClauseSet>();
  readonly #unions = new Map<ClauseSet, Map<ClauseSet, ClauseSet>>();
  readonly empty: ClauseSet;

  constructor() {
    this.empty = new ClauseSet('', []);
    this.#sets.set('', this.empty);
  }

  clause<C extends Clause>(key: string, fields: ClauseFields<C>): C {
    let c = this.#clauses.get(key);
    if (c === undefined) {
      c = { ...fields, id: this.#clauses.size, key } as C;
      this.#clauses.set(key, c);
    }
    return c as C;
  }

  set(clauses: Iterable<Clause>): ClauseSet {
    const sorted = [...new Set(clauses)].sort((a, b) => a.id - b.id);
    const key = sorted.map((c) => c.id).join(',');
    let s = this.#sets.get(key);
    if (s === undefined) {
      s = new ClauseSet(key, sorted);
      this.#sets.set(key, s);
    }
    return s;
  }

  union(a: ClauseSet, b: ClauseSet): ClauseSet {
    if (a === b || b === this.empty) return a;
    if (a === this.empty) return b;
    let inner = this.#unions.get(a);
    if (inner === undefined) this.#unions.set(a, (inner = new Map()));
    let u = inner.get(b);
    if (u === undefined) {
      u = this.#merge(a, b);
      inner.set(b, u);
    }
    return u;
  }

  /** A set without the clauses `drop` says to leave out. */
  without(a: ClauseSet, drop: (c: Clause) => boolean): ClauseSet {
    return this.set(a.clauses.filter((c) => !drop(c)));
  }

  #merge(a: ClauseSet, b: ClauseSet): ClauseSet {
    const x = a.clauses;
    const y = b.clauses;
    const out: Clause[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length && j < y.length) {
      const p = x[i]!;
      const q = y[j]!;
      if (p.id === q.id) {
        out.push(p);
        i++;
        j++;
      } else if (p.id < q.id) {
        out.push(p);
        i++;
      } else {
        out.push(q);
        j++;
      }
    }
    while (i < x.length) out.push(x[i++]!);
    while (j < y.length) out.push(y[j++]!);
    const key = out.map((c) => c.id).join(',');
    let s = this.#sets.get(key);
    if (s === undefined) {
      s = new ClauseSet(key, out);
      this.#sets.set(key, s);
    }
    return s;
  }

  /** The clauses a declaration puts on the data it covers. */
  declarationSet(d: DeclRecord): ClauseSet {
    const h = d.hash;
    const clauses: Clause[] = [
      this.clause<PurposeClause>(`p|${h}`, {
        kind: 'purposes',
        decl: d,
        ids: d.d.purposes.map((p) => p.id),
        origin: 'declaration',
      }),
      this.clause<RecipientClause>(`r|${h}`, {
        kind: 'recipients',
        decl: d,
        rules: d.d.recipients ?? [],
        returnTo: undefined,
      }),
      this.clause<ProcessingClause>(`s|${h}`, {
        kind: 'processing',
        decl: d,
        steps: d.d.processing === undefined ? undefined : new Set(d.d.processing),
      }),
    ];
    for (const term of d.d.prohibitions ?? []) {
      clauses.push(this.clause<ProhibitionClause>(`x|${h}|${term}`, { kind: 'prohibition', decl: d, term }));
    }
    return this.set(clauses);
  }

  ruleClause(d: DeclRecord, ruleIndex: number, rule: RecipientRule): PurposeClause {
    return this.clause<PurposeClause>(`rp|${d.hash}|${ruleIndex}`, {
      kind: 'purposes',
      decl: d,
      ids: rule.purposes,
      origin: 'rule',
    });
  }

  claimClause(d: DeclRecord | undefined, purpose: string): PurposeClause {
    return this.clause<PurposeClause>(`cp|${d?.hash ?? '-'}|${purpose}`, {
      kind: 'purposes',
      decl: d,
      ids: [purpose],
      origin: 'claim',
    });
  }

  returnClause(d: DeclRecord | undefined, org: string): RecipientClause {
    return this.clause<RecipientClause>(`rt|${d?.hash ?? '-'}|${org}`, {
      kind: 'recipients',
      decl: d,
      rules: [],
      returnTo: org,
    });
  }

  specialClause(
    d: DeclRecord | undefined,
    category: string,
    sensitivity: 'special' | 'criminal',
  ): SpecialClause {
    return this.clause<SpecialClause>(`sc|${d?.hash ?? '-'}|${category}`, {
      kind: 'special',
      decl: d,
      category,
      sensitivity,
    });
  }
}

/** The policy of data at one point of its lineage. */
export interface Policy {
  readonly set: ClauseSet;
  /** When the data must be deleted (ms since the epoch); Infinity when no retention applies. */
  readonly deadline: number;
  /** The event whose declaration set that deadline, and the declaration. */
  readonly deadlineFrom: string | undefined;
  readonly deadlineDecl: DeclRecord | undefined;
  /** Effective personal-data state (the most identifying of what it carries). */
  readonly state: PersonalDataState;
  /** An input whose lineage is not on the ledger (so the policy is incomplete). */
  readonly unknownFrom: string | undefined;
}
