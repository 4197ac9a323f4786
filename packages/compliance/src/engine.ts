// The engine's memory of the ledger (registry, declarations by subject and version,
// movements with their lineage) and the effective policy of every movement, computed once
// when it is added, from its inputs' policies. Internal: the public face is ComplianceState.
import {
  categorySensitivity,
  isPersonal,
  PurposeError,
  PurposeVocabulary,
  stateRank,
  TECHNIQUE_TAXONOMY,
  type PersonalDataState,
} from '@civic-ledger/purposes';
import type { DeclareEvent, FindingEvent, MovementEvent, Registration } from '@civic-ledger/schemas';
import {
  Interner,
  type Clause,
  type ClauseSet,
  type DeclRecord,
  type Policy,
  type RecipientClause,
  type RecipientRule,
} from './policy.ts';
import { addDuration, millis } from './time.ts';

export interface OrgFact {
  readonly role: Extract<Registration, { kind: 'organization' }>['role'];
  readonly jurisdiction: string;
  readonly index: number;
}

export interface ResourceFact {
  readonly kind: 'source' | 'dataset';
  readonly categories: readonly string[];
  readonly personalData: PersonalDataState;
  readonly notice: string | undefined;
  readonly sources: readonly string[] | undefined;
  readonly index: number;
}

export interface DeclEntry extends DeclRecord {
  /** The purpose vocabulary after this declaration (its custom purposes added, if accepted). */
  readonly vocab: PurposeVocabulary;
  /** Why its custom purposes were refused, if they were. */
  readonly customError: PurposeError | undefined;
}

/** A recipient clause and the rule of it that the recipient matched (none for a return clause). */
export interface Matched {
  readonly clause: RecipientClause;
  readonly rule: RecipientRule | undefined;
  readonly ruleIndex: number;
}

export interface RecipientResult {
  /** Every recipient clause matched. */
  readonly ok: boolean;
  /** The first clause that did not (undefined with `ok` false: no declaration restricts recipients). */
  readonly failing: RecipientClause | undefined;
  readonly matched: readonly Matched[];
  /** A matched rule whose maxRecipients this transfer exceeds. */
  readonly countExceeded: Matched | undefined;
}

export interface Move {
  readonly hash: string;
  readonly index: number;
  readonly time: number;
  readonly ev: MovementEvent;
  /** The purpose vocabulary in force at this ledger position. */
  readonly vocab: PurposeVocabulary;
  /** Input movements (undefined where an input is not a movement on the ledger). */
  readonly inputs: readonly (Move | undefined)[];
  /** The declaration in force for the movement's source or dataset at its position. */
  readonly own: DeclEntry | undefined;
  /** The policy the movement is judged by: its inputs' and its own declaration's. */
  readonly pre: Policy;
  /** The policy of the data after the movement (what downstream events inherit). */
  readonly post: Policy;
  /** derive: which inputs a recorded anonymisation or aggregation released. */
  readonly released: readonly boolean[] | undefined;
  /** transfer, publish: the recipient matching. */
  readonly recipient: RecipientResult | undefined;
  /** Inputs the emitter does not hold (did not collect, derive or receive). */
  readonly notHeld: readonly string[];
  /** Inputs already deleted by their holder before this movement. */
  readonly afterDelete: readonly { input: string; deletedBy: string; index: number }[];
  /** collect: the first collection from its source. */
  readonly firstOfSource: boolean;
  /** Built for `decide`, not on the ledger. */
  readonly synthetic: boolean;
}

export interface FindingRecord {
  readonly hash: string;
  readonly index: number;
  readonly ev: FindingEvent;
}

/** The shared empty list (most movements have nothing not held and nothing deleted). */
const NONE: never[] = [];

const STATES: readonly PersonalDataState[] = [
  'none',
  'anonymised',
  'contextually-anonymised',
  'pseudonymised',
  'identified',
];

export class Engine {
  readonly interner = new Interner();
  vocab: PurposeVocabulary = PurposeVocabulary.base();
  lastIndex = -1;
  /** Time of the latest event (ms): the default "now" of `decide`. */
  lastTime = 0;
  readonly orgs = new Map<string, OrgFact>();
  readonly resources = new Map<string, ResourceFact>();
  readonly decls = new Map<string, DeclEntry>();
  readonly declsBySubject = new Map<string, DeclEntry[]>();
  readonly moves = new Map<string, Move>();
  readonly findings = new Map<string, FindingRecord>();
  /** Other events (register, key, attest): hash → ledger index. */
  readonly others = new Map<string, number>();
  /** Holding (event hash) → the delete that removed it. */
  readonly deleted = new Map<string, { by: string; hash: string; index: number }>();
  /** Holdings with a retention deadline and no delete yet. */
  readonly open = new Map<string, Move>();
  /** `${org}\n${dataset}` → holdings of that dataset by that organization, in ledger order. */
  readonly holdings = new Map<string, string[]>();
  readonly firstCollect = new Map<string, string>();
  readonly recipientCounts = new Map<string, Set<string>>();
  readonly #candidates = new Map<string, readonly string[]>();
  readonly #specialSets = new Map<string, ClauseSet>();

  // --- Registry and declarations -------------------------------------------------------

  register(subject: Registration, index: number): void {
    if (subject.kind === 'organization') {
      this.orgs.set(subject.id, { role: subject.role, jurisdiction: subject.jurisdiction, index });
    } else {
      this.resources.set(subject.id, {
        kind: subject.kind,
        categories: subject.categories,
        personalData: subject.personalData,
        notice: subject.kind === 'source' ? subject.notice : undefined,
        sources: subject.kind === 'dataset' ? subject.sources : undefined,
        index,
      });
    }
  }

  declare(ev: DeclareEvent, index: number, hash: string): DeclEntry {
    const d = ev.declaration;
    let vocab = this.vocab;
    let customError: PurposeError | undefined;
    // A new version repeating custom purposes already in the vocabulary, unchanged, is fine.
    const fresh = (d.customPurposes ?? []).filter((p) => {
      const known = vocab.get(p.id);
      return !(known?.source === 'custom' && known.parents.join('\n') === p.parents.join('\n'));
    });
    if (fresh.length > 0) {
      try {
        vocab = vocab.extend(fresh, ev.emitter);
      } catch (e) {
        if (!(e instanceof PurposeError)) throw e;
        customError = e;
      }
    }
    const entry: DeclEntry = {
      hash,
      index,
      time: millis(ev.time),
      emitter: ev.emitter,
      d,
      validFrom: millis(d.validFrom),
      validUntil: d.validUntil === undefined ? Infinity : millis(d.validUntil),
      set: this.interner.empty,
      vocab,
      customError,
    };
    entry.set = this.interner.declarationSet(entry);
    this.vocab = vocab;
    this.decls.set(hash, entry);
    const list = this.declsBySubject.get(d.subject);
    if (list === undefined) this.declsBySubject.set(d.subject, [entry]);
    else list.push(entry);
    return entry;
  }

  /** The resource id itself, then its shorter prefixes down to `<org>/<name>`. */
  candidates(id: string): readonly string[] {
    let c = this.#candidates.get(id);
    if (c === undefined) {
      const parts = id.split('/');
      const out: string[] = [];
      for (let n = parts.length; n >= 2; n--) out.push(parts.slice(0, n).join('/'));
      c = out;
      this.#candidates.set(id, c);
    }
    return c;
  }

  /** The declaration in force for a resource at a ledger position: the most specific subject, latest version before it. */
  inForceFor(id: string, index: number): DeclEntry | undefined {
    for (const s of this.candidates(id)) {
      const versions = this.declsBySubject.get(s);
      if (versions === undefined) continue;
      for (let i = versions.length - 1; i >= 0; i--) if (versions[i]!.index < index) return versions[i];
    }
    return undefined;
  }

  /** For a dataset registered as the capture of sources: the one declaration in force for all of them. */
  #viaSources(dataset: string, index: number): DeclEntry | undefined {
    const sources = this.resources.get(dataset)?.sources;
    if (sources === undefined || sources.length === 0) return undefined;
    const first = this.inForceFor(sources[0]!, index);
    if (first === undefined) return undefined;
    for (const s of sources) if (this.inForceFor(s, index) !== first) return undefined;
    return first;
  }

  inForceForMove(ev: MovementEvent, index: number): DeclEntry | undefined {
    // A collection is declared through its source (or a declaration of the dataset itself);
    // a dataset's registered sources speak only for those sources.
    if (ev.type === 'collect')
      return this.inForceFor(ev.source, index) ?? this.inForceFor(ev.dataset.id, index);
    return this.inForceFor(ev.dataset.id, index) ?? this.#viaSources(ev.dataset.id, index);
  }

  /** Whether a declaration's subject covers the movement's source or dataset. */
  covers(d: DeclRecord, ev: MovementEvent): boolean {
    const s = d.d.subject;
    const under = (id: string) => id === s || id.startsWith(`${s}/`);
    if (ev.type === 'collect' && under(ev.source)) return true;
    if (under(ev.dataset.id)) return true;
    const sources = this.resources.get(ev.dataset.id)?.sources;
    return sources !== undefined && sources.length > 0 && sources.every(under);
  }

  /** A declaration for the movement's subject published after it (known only on re-evaluation). */
  laterDeclaration(ev: MovementEvent, index: number): DeclEntry | undefined {
    const ids = ev.type === 'collect' ? [ev.source, ev.dataset.id] : [ev.dataset.id];
    for (const id of ids) {
      for (const s of this.candidates(id)) {
        const later = this.declsBySubject.get(s)?.find((d) => d.index > index);
        if (later !== undefined) return later;
      }
    }
    return undefined;
  }

  // --- Movements -----------------------------------------------------------------------

  /** Computes a movement's record and policies (no side effect on the engine). */
  computeMove(ev: MovementEvent, index: number, hash: string, synthetic: boolean): Move {
    const I = this.interner;
    const time = millis(ev.time);
    const own = this.inForceForMove(ev, index);
    const inputs = ev.inputs.map((h) => this.moves.get(h));

    let inherited = I.empty;
    let deadline = Infinity;
    let deadlineFrom: string | undefined;
    let deadlineDecl: DeclRecord | undefined;
    let rank = -1;
    let unknownFrom: string | undefined;
    inputs.forEach((m, i) => {
      if (m === undefined) {
        unknownFrom ??= ev.inputs[i];
        return;
      }
      const p = m.post;
      inherited = I.union(inherited, p.set);
      if (p.deadline < deadline) {
        deadline = p.deadline;
        deadlineFrom = p.deadlineFrom;
        deadlineDecl = p.deadlineDecl;
      }
      rank = Math.max(rank, stateRank(p.state));
      unknownFrom ??= p.unknownFrom;
    });

    const ownSet = own?.set ?? I.empty;
    const categories = ev.type === 'collect' || ev.type === 'derive' ? ev.categories : undefined;
    const special = this.#specialSet(own, categories);
    const preSet = I.union(I.union(inherited, ownSet), special);
    let state: PersonalDataState;
    if (ev.type === 'collect') state = ev.personalData;
    else if (rank >= 0) state = STATES[rank]!;
    else state = own?.d.personalData ?? 'identified';
    if (ev.type === 'collect' && own !== undefined) {
      deadline = addDuration(time, own.d.retention.duration);
      deadlineFrom = hash;
      deadlineDecl = own;
    }
    const pre: Policy = { set: preSet, deadline, deadlineFrom, deadlineDecl, state, unknownFrom };

    let post = pre;
    let released: boolean[] | undefined;
    let recipient: RecipientResult | undefined;
    if (ev.type === 'derive') {
      ({ post, released } = this.#derivePost(ev, hash, time, own, inputs, special));
    } else if (ev.type === 'transfer') {
      recipient = this.matchRecipients(pre.set, ev.recipient, ev.purpose, this.vocab, false);
      recipient = this.#withCount(recipient, ev.recipient);
      post = this.#transferPost(ev, hash, time, index, own, pre, recipient);
    } else if (ev.type === 'publish') {
      recipient = this.matchRecipients(pre.set, undefined, ev.purpose, this.vocab, true);
      const adds = recipient.ok
        ? recipient.matched.flatMap((x) =>
            x.rule === undefined || x.clause.decl === undefined
              ? []
              : [I.ruleClause(x.clause.decl, x.ruleIndex, x.rule)],
          )
        : [I.claimClause(own, ev.purpose)];
      post = { ...pre, set: I.union(pre.set, I.set(adds)) };
    }

    let notHeld: string[] = NONE;
    let afterDelete: { input: string; deletedBy: string; index: number }[] = NONE;
    if (ev.type !== 'collect') {
      inputs.forEach((m, i) => {
        if (m === undefined) return;
        if (!holds(m, ev.emitter)) (notHeld === NONE ? (notHeld = []) : notHeld).push(ev.inputs[i]!);
        const del = this.deleted.get(ev.inputs[i]!);
        if (del !== undefined && ev.type !== 'delete') {
          (afterDelete === NONE ? (afterDelete = []) : afterDelete).push({
            input: ev.inputs[i]!,
            deletedBy: del.hash,
            index: del.index,
          });
        }
      });
    }
    return {
      hash,
      index,
      time,
      ev,
      vocab: this.vocab,
      inputs,
      own,
      pre,
      post,
      released,
      recipient,
      notHeld,
      afterDelete,
      firstOfSource: ev.type === 'collect' && !synthetic && !this.firstCollect.has(ev.source),
      synthetic,
    };
  }

  /** Adds a computed movement to the engine's memory (holdings, deletions, counts). */
  commit(m: Move): void {
    const ev = m.ev;
    this.moves.set(m.hash, m);
    if (ev.type === 'collect' && m.firstOfSource) this.firstCollect.set(ev.source, m.hash);
    if (ev.type === 'collect' || ev.type === 'derive' || ev.type === 'transfer') {
      const holder = ev.type === 'transfer' ? ev.recipient : ev.emitter;
      const key = `${holder}\n${ev.dataset.id}`;
      const list = this.holdings.get(key);
      if (list === undefined) this.holdings.set(key, [m.hash]);
      else list.push(m.hash);
      if (Number.isFinite(m.post.deadline)) this.open.set(m.hash, m);
    }
    if (ev.type === 'delete') {
      m.inputs.forEach((input, i) => {
        const h = ev.inputs[i]!;
        if (input === undefined || !holds(input, ev.emitter) || this.deleted.has(h)) return;
        this.deleted.set(h, { by: ev.emitter, hash: m.hash, index: m.index });
        this.open.delete(h);
      });
    }
    if (ev.type === 'transfer' && m.recipient?.ok) {
      for (const x of m.recipient.matched) {
        if (x.rule?.maxRecipients === undefined) continue;
        const key = `${x.clause.decl?.hash ?? '-'}#${x.ruleIndex}`;
        let set = this.recipientCounts.get(key);
        if (set === undefined) this.recipientCounts.set(key, (set = new Set()));
        set.add(ev.recipient);
      }
    }
  }

  /** Matches a recipient (undefined: the public) against every recipient clause of a policy. */
  matchRecipients(
    set: ClauseSet,
    recipient: string | undefined,
    purpose: string,
    vocab: PurposeVocabulary,
    publish: boolean,
  ): RecipientResult {
    const role = recipient === undefined ? undefined : this.orgs.get(recipient)?.role;
    const matched: Matched[] = [];
    if (set.recipients.length === 0)
      return { ok: false, failing: undefined, matched, countExceeded: undefined };
    for (const c of set.recipients) {
      if (c.returnTo !== undefined) {
        if (!publish && recipient === c.returnTo) {
          matched.push({ clause: c, rule: undefined, ruleIndex: -1 });
          continue;
        }
        return { ok: false, failing: c, matched, countExceeded: undefined };
      }
      const i = c.rules.findIndex((r) => ruleMatches(r, recipient, role, purpose, vocab, publish));
      if (i < 0) return { ok: false, failing: c, matched, countExceeded: undefined };
      matched.push({ clause: c, rule: c.rules[i], ruleIndex: i });
    }
    return { ok: true, failing: undefined, matched, countExceeded: undefined };
  }

  #withCount(r: RecipientResult, recipient: string): RecipientResult {
    if (!r.ok) return r;
    for (const x of r.matched) {
      const max = x.rule?.maxRecipients;
      if (max === undefined) continue;
      const seen = this.recipientCounts.get(`${x.clause.decl?.hash ?? '-'}#${x.ruleIndex}`);
      const n = seen === undefined ? 0 : seen.size;
      if (!(seen?.has(recipient) ?? false) && n >= max) return { ...r, countExceeded: x };
    }
    return r;
  }

  #transferPost(
    ev: Extract<MovementEvent, { type: 'transfer' }>,
    hash: string,
    time: number,
    index: number,
    own: DeclEntry | undefined,
    pre: Policy,
    r: RecipientResult,
  ): Policy {
    const I = this.interner;
    let set: ClauseSet;
    if (r.ok) {
      // The recipient is bound by the rule it received under; without onward transfer the
      // data may only go back to the sender; data returned to its sender is free of that.
      const drop = new Set<Clause>();
      const adds: Clause[] = [];
      for (const x of r.matched) {
        if (x.rule === undefined || x.clause.decl === undefined) {
          drop.add(x.clause);
          continue;
        }
        adds.push(I.ruleClause(x.clause.decl, x.ruleIndex, x.rule));
        if (x.rule.onwardTransfer !== true) {
          drop.add(x.clause);
          adds.push(I.returnClause(x.clause.decl, ev.emitter));
        }
      }
      set = I.union(drop.size === 0 ? pre.set : I.without(pre.set, (c) => drop.has(c)), I.set(adds));
    } else {
      // An unauthorised transfer binds the data to what it claimed, and to no onward transfer.
      set = I.union(
        I.without(pre.set, (c) => c.kind === 'recipients'),
        I.set([I.claimClause(own, ev.purpose), I.returnClause(own, ev.emitter)]),
      );
    }
    let { deadline, deadlineFrom, deadlineDecl } = pre;
    const next = ev.nextPolicy === undefined ? undefined : this.decls.get(ev.nextPolicy);
    if (next !== undefined && next.index < index && next.emitter === ev.recipient) {
      set = I.union(set, I.union(next.set, this.#specialSet(next, undefined)));
      const d = addDuration(time, next.d.retention.duration);
      if (d < deadline) {
        deadline = d;
        deadlineFrom = hash;
        deadlineDecl = next;
      }
    }
    return { ...pre, set, deadline, deadlineFrom, deadlineDecl };
  }

  #derivePost(
    ev: Extract<MovementEvent, { type: 'derive' }>,
    hash: string,
    time: number,
    own: DeclEntry | undefined,
    inputs: readonly (Move | undefined)[],
    special: ClauseSet,
  ): { post: Policy; released: boolean[] } {
    const I = this.interner;
    const out = ev.personalData;
    const nonPersonalOut = !isPersonal(out);
    const anonymise =
      ev.processing.includes('anonymise') &&
      ev.anonymisation !== undefined &&
      TECHNIQUE_TAXONOMY.has(ev.anonymisation.technique);
    const aggregate = ev.processing.includes('aggregate');
    const released = inputs.map(
      (m) =>
        m !== undefined &&
        m.post.unknownFrom === undefined &&
        nonPersonalOut &&
        ((anonymise && permits(m.post.set, 'anonymise')) ||
          (aggregate && !isPersonal(m.post.state) && permits(m.post.set, 'aggregate'))),
    );
    let set = I.union(own?.set ?? I.empty, special);
    let deadline = own === undefined ? Infinity : addDuration(time, own.d.retention.duration);
    let deadlineFrom: string | undefined = own === undefined ? undefined : hash;
    let deadlineDecl: DeclRecord | undefined = own;
    let rank = stateRank(out);
    let unknownFrom: string | undefined;
    inputs.forEach((m, i) => {
      if (released[i]) return;
      if (m === undefined) {
        unknownFrom ??= ev.inputs[i];
        return;
      }
      set = I.union(set, m.post.set);
      if (m.post.deadline < deadline) {
        deadline = m.post.deadline;
        deadlineFrom = m.post.deadlineFrom;
        deadlineDecl = m.post.deadlineDecl;
      }
      rank = Math.max(rank, stateRank(m.post.state));
      unknownFrom ??= m.post.unknownFrom;
    });
    return {
      post: { set, deadline, deadlineFrom, deadlineDecl, state: STATES[rank]!, unknownFrom },
      released,
    };
  }

  /** Special-category and criminal categories of an event and its declaration, as clauses. */
  #specialSet(own: DeclRecord | undefined, categories: readonly string[] | undefined): ClauseSet {
    // Most events carry no sensitive category: then the declaration's own (cached) set is it.
    if (categories === undefined || categories.every((c) => !sensitive(c))) {
      if (own === undefined) return this.interner.empty;
      categories = undefined;
    }
    const key = `${own?.hash ?? '-'}|${categories?.join(',') ?? ''}`;
    let s = this.#specialSets.get(key);
    if (s === undefined) {
      const clauses: Clause[] = [];
      for (const c of [...(own?.d.categories ?? []), ...(categories ?? [])]) {
        const sens = categorySensitivity(c);
        if (sens === 'special' || sens === 'criminal')
          clauses.push(this.interner.specialClause(own, c, sens));
      }
      s = this.interner.set(clauses);
      this.#specialSets.set(key, s);
    }
    return s;
  }

  // --- Lineage paths -------------------------------------------------------------------

  /** From a movement up its inputs to the event where a clause entered the lineage. */
  pathToClause(start: Move, c: Clause): string[] {
    return this.#walk(start, (m) => m.post.set.has(c));
  }

  /** From a movement up its inputs to the event that set a retention deadline. */
  pathToDeadline(start: Move, from: string): string[] {
    return this.#walk(start, (m) => m.post.deadlineFrom === from);
  }

  #walk(start: Move, carries: (m: Move) => boolean): string[] {
    const path = start.synthetic ? [] : [start.hash];
    let cur = start;
    for (let guard = 0; guard < 100_000; guard++) {
      const next = cur.inputs.find((m) => m !== undefined && carries(m));
      if (next === undefined) break;
      path.push(next.hash);
      cur = next;
    }
    return path;
  }
}

const sensitivity = new Map<string, boolean>();
function sensitive(category: string): boolean {
  let s = sensitivity.get(category);
  if (s === undefined) {
    const k = categorySensitivity(category);
    s = k === 'special' || k === 'criminal';
    sensitivity.set(category, s);
  }
  return s;
}

/** Whether an organization holds the data of a movement (its output or what it received). */
export function holds(m: Move, org: string): boolean {
  const ev = m.ev;
  if (ev.type === 'publish') return true;
  if (ev.type === 'transfer') return ev.recipient === org || ev.emitter === org;
  return ev.emitter === org;
}

/** Every processing clause lists the step. */
export function permits(set: ClauseSet, step: string): boolean {
  if (set.processing.length === 0) return false;
  for (const c of set.processing) if (c.steps === undefined || !c.steps.has(step)) return false;
  return true;
}

function ruleMatches(
  rule: RecipientRule,
  recipient: string | undefined,
  role: string | undefined,
  purpose: string,
  vocab: PurposeVocabulary,
  publish: boolean,
): boolean {
  const who = publish
    ? rule.role === 'public'
    : rule.org === recipient || rule.role === 'public' || (rule.role !== undefined && rule.role === role);
  return who && vocab.isWithinAny(purpose, rule.purposes);
}
