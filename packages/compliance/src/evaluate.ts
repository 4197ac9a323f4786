// The checks of PURPOSES.md on one event. Each check gives at most one outcome per event:
// when it finds several things, the most severe wins (violation, overdue, undetermined,
// compliant), and the first of equal severity. An unknown is never compliant.
import {
  ACTION_TAXONOMY,
  CATEGORY_TAXONOMY,
  isPersonal,
  LEGAL_BASIS_TAXONOMY,
  PERSONAL_DATA_STATES,
  PURPOSES,
  prohibitionTerm,
  stateRank,
  TECHNIQUE_TAXONOMY,
  type PurposeVocabulary,
} from '@civic-ledger/purposes';
import { ownerOf, type Declaration, type FINDING_OUTCOMES } from '@civic-ledger/schemas';
import type { CheckId } from './checks.ts';
import { permits, type DeclEntry, type Engine, type FindingRecord, type Move } from './engine.ts';
import { freeFlow } from './jurisdictions.ts';
import type { Clause, ClauseSet, DeclRecord, PurposeClause } from './policy.ts';
import { compareDurations, day, millis } from './time.ts';

export type OutcomeKind = (typeof FINDING_OUTCOMES)[number];

/** One check's outcome on one event. */
export interface Outcome {
  /** The event evaluated. */
  about: string;
  check: CheckId;
  outcome: OutcomeKind;
  /** Hash of the declaration version that decided it (absent when none applies). */
  declaration?: string;
  /** Event hashes from the evaluated event up its lineage to the one that decided it. */
  path: string[];
  /** One plain sentence (at most 280 characters). */
  explanation: string;
}

const SEVERITY: Record<OutcomeKind, number> = { compliant: 0, undetermined: 1, overdue: 2, violation: 3 };
const MAX_PATH = 64;
const MAX_TEXT = 280;
const ART89 = PURPOSES.filter((p) => p.art89 === true).map((p) => p.id);

/** At most 280 characters: cut with an ellipsis. */
export function sentence(s: string): string {
  return s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`;
}

/** A lineage path the finding schema accepts: at most 64 hashes (the first 63 and the deciding one). */
export function capPath(path: readonly string[]): string[] {
  return path.length <= MAX_PATH ? [...path] : [...path.slice(0, MAX_PATH - 1), path[path.length - 1]!];
}

class Report {
  readonly outcomes: Outcome[] = [];
  readonly #at = new Map<CheckId, number>();
  readonly #about: string;
  readonly #path: readonly string[];

  constructor(about: string, path: readonly string[]) {
    this.#about = about;
    this.#path = path;
  }

  add(
    check: CheckId,
    outcome: OutcomeKind,
    explanation: string,
    decl?: DeclRecord | undefined,
    path?: readonly string[],
  ): void {
    const i = this.#at.get(check);
    if (i !== undefined && SEVERITY[this.outcomes[i]!.outcome] >= SEVERITY[outcome]) return;
    const o: Outcome = {
      about: this.#about,
      check,
      outcome,
      path: capPath(path ?? this.#path),
      explanation: sentence(explanation),
    };
    if (decl !== undefined) o.declaration = decl.hash;
    if (i === undefined) {
      this.#at.set(check, this.outcomes.length);
      this.outcomes.push(o);
    } else this.outcomes[i] = o;
  }

  has(check: CheckId): boolean {
    return this.#at.has(check);
  }
}

// --- Small helpers for explanations ---------------------------------------------------------

const short = (h: string) => h.slice(0, 12);
const dn = (d: DeclRecord | undefined) =>
  d === undefined ? 'no declaration' : `${d.d.subject} v${d.d.version}`;
function list(ids: readonly string[], max = 4): string {
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

/** The purpose entry of a declaration that covers a purpose (the exact one first). */
function entryFor(
  d: DeclRecord,
  purpose: string,
  vocab: PurposeVocabulary,
): Declaration['purposes'][number] | undefined {
  return (
    d.d.purposes.find((p) => p.id === purpose) ?? d.d.purposes.find((p) => vocab.isWithin(purpose, p.id))
  );
}

function assessment(d: DeclRecord | undefined, kind: string, at: number) {
  return d?.d.assessments?.find((a) => a.kind === kind && millis(a.date) <= at);
}

function hasTransferBasis(d: DeclRecord | undefined): boolean {
  if (d === undefined) return false;
  const terms = [...(d.d.measures ?? []), ...d.d.purposes.map((p) => p.legalBasis)];
  return terms.some((t) => LEGAL_BASIS_TAXONOMY.isWithin(t, 'dpv:DataTransferLegalBasis'));
}

function hasNotice(d: DeclRecord): boolean {
  return d.d.notice?.register !== undefined || d.d.notice?.privacyStatement !== undefined;
}

/** Where a purpose clause comes from, in words. */
function source(c: PurposeClause): string {
  if (c.origin === 'rule') return `the recipient rule of ${dn(c.decl)}`;
  if (c.origin === 'claim') return 'the purpose of an unauthorised transfer';
  return `declaration ${dn(c.decl)}`;
}

// --- Movements -----------------------------------------------------------------------------

export function evaluateMove(e: Engine, m: Move): Outcome[] {
  // A decision (synthetic movement) is about the holding it would use: paths start there.
  const about = m.synthetic ? (m.ev.inputs[0] ?? '') : m.hash;
  const r = new Report(about, about === '' ? [] : [about]);
  if (!m.synthetic) declarationInForce(e, m, r);
  purposeChecks(e, m, r);
  legalBasis(e, m, r);
  specialCategory(e, m, r);
  recipientAllowed(e, m, r);
  if (m.ev.type === 'transfer') nextPolicy(e, m, r);
  retention(e, m, r);
  storage(e, m, r);
  if (m.ev.type === 'derive') {
    processingSteps(e, m, r);
    derivedInheritance(e, m, r);
  }
  anonymisation(e, m, r);
  if (m.ev.type === 'delete') duties(m, r);
  prohibitions(e, m, r);
  unknownTerms(m, r);
  if (!m.synthetic) publicRegister(e, m, r);
  if (m.ev.type === 'collect' && m.firstOfSource) impactAssessment(m, r);
  return r.outcomes;
}

function declarationInForce(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  const claimed = e.decls.get(ev.declaration);
  if (claimed === undefined) {
    const later = e.laterDeclaration(ev, m.index);
    if (later !== undefined) {
      r.add(
        'declaration-in-force',
        'violation',
        `The declaration for ${later.d.subject} was published at ledger index ${later.index}, after this movement (index ${m.index}); it cannot cover it.`,
        later,
      );
    } else if (m.own !== undefined) {
      r.add(
        'declaration-in-force',
        'violation',
        `This movement names declaration ${short(ev.declaration)}, which is not on the ledger; ${dn(m.own)} is the one in force.`,
        m.own,
      );
    } else {
      r.add(
        'declaration-in-force',
        'undetermined',
        `This movement names declaration ${short(ev.declaration)}, which is not on the ledger, and no declaration covers ${ev.dataset.id}.`,
      );
    }
    return;
  }
  if (claimed.index > m.index) {
    r.add(
      'declaration-in-force',
      'violation',
      `Declaration ${dn(claimed)} was published at ledger index ${claimed.index}, after this movement (index ${m.index}); it cannot cover it.`,
      claimed,
    );
    return;
  }
  const subject = ev.type === 'collect' ? ev.source : ev.dataset.id;
  if (!e.covers(claimed, ev)) {
    r.add(
      'declaration-in-force',
      'violation',
      `Declaration ${dn(claimed)} covers ${claimed.d.subject}, not ${subject}.`,
      claimed,
    );
    return;
  }
  const own = m.own!;
  if (own !== claimed) {
    r.add(
      'declaration-in-force',
      'violation',
      `This movement names ${dn(claimed)}, but ${dn(own)} (ledger index ${own.index}) was in force for ${subject} at its position.`,
      own,
    );
    return;
  }
  if (m.time < own.validFrom) {
    r.add('declaration-in-force', 'violation', `${dn(own)} is valid only from ${own.d.validFrom}.`, own);
  } else if (m.time > own.validUntil) {
    r.add('declaration-in-force', 'violation', `${dn(own)} expired on ${own.d.validUntil ?? ''}.`, own);
  } else {
    r.add(
      'declaration-in-force',
      'compliant',
      `${dn(own)} was in force for ${subject} at this movement.`,
      own,
    );
  }
}

function purposeChecks(e: Engine, m: Move, r: Report): void {
  const { ev, vocab, pre, own } = m;
  const p = ev.purpose;
  if (!vocab.has(p)) {
    r.add(
      'purpose-declared',
      'undetermined',
      `Purpose ${p} is not a known term, so whether it was declared cannot be decided.`,
      own,
    );
    return;
  }
  const clauses = pre.set.purposes;
  if (clauses.length === 0) {
    r.add(
      'purpose-declared',
      'undetermined',
      `No declaration covers ${ev.dataset.id} or its sources, so no purpose is declared for this data.`,
    );
    return;
  }
  const failing = clauses.filter((c) => !vocab.isWithinAny(p, c.ids));
  if (failing.length === 0) {
    if (pre.unknownFrom !== undefined) {
      r.add(
        'purpose-declared',
        'undetermined',
        `Input ${short(pre.unknownFrom)} is not a movement on the ledger, so the purposes declared for part of this data are unknown.`,
        own,
        m.synthetic ? [pre.unknownFrom] : [m.hash, pre.unknownFrom],
      );
    } else {
      const n = new Set(clauses.map((c) => c.decl?.hash)).size;
      r.add(
        'purpose-declared',
        'compliant',
        `${p} is within the purposes of all ${n} declaration(s) along this data's lineage.`,
        own,
      );
    }
    noticeBeforeUse(e, m, r);
    return;
  }
  const f = failing[0]!;
  const path = e.pathToClause(m, f);
  const route = furtherRoute(e, m, failing, clauses);
  if (route === undefined) {
    r.add(
      'purpose-declared',
      'violation',
      `${p} is not within ${list(f.ids)}, the purposes that ${source(f)} allows for this data.`,
      f.decl,
      path,
    );
    r.add(
      'further-processing',
      'violation',
      `Using it for ${p} is further processing with no compatibility assessment, new legal basis or art. 89 safeguards recorded.`,
      f.decl,
      path,
    );
    return;
  }
  r.add('further-processing', route.outcome, route.explanation, route.decl, path);
  const announced = route.announcing;
  if (announced !== undefined && hasNotice(announced)) {
    r.add(
      'notice-before-use',
      'compliant',
      `The new purpose ${p} is announced with a public notice by ${dn(announced)}.`,
      announced,
    );
  } else {
    r.add(
      'notice-before-use',
      'violation',
      `No declaration with a public notice announced the new purpose ${p} before this movement (GDPR art. 13(3)).`,
      f.decl,
      path,
    );
  }
}

interface Route {
  outcome: OutcomeKind;
  explanation: string;
  decl: DeclRecord | undefined;
  /** A declaration that declares the new purpose (for the notice). */
  announcing: DeclRecord | undefined;
}

function furtherRoute(
  e: Engine,
  m: Move,
  failing: readonly PurposeClause[],
  all: readonly PurposeClause[],
): Route | undefined {
  const p = m.ev.purpose;
  const vocab = m.vocab;
  // Declarations in force now that declare the purpose (a superseded version is no route).
  const covering = new Set<DeclRecord>();
  for (const c of all) {
    const d = c.decl;
    if (failing.includes(c) || d === undefined || !entryFor(d, p, vocab)) continue;
    if (e.declsBySubject.get(d.d.subject)?.findLast((x) => x.index < m.index) === d) covering.add(d);
  }
  if (m.own !== undefined && entryFor(m.own, p, vocab)) covering.add(m.own);
  for (const d of covering) {
    const lb = entryFor(d, p, vocab)!.legalBasis;
    if (LEGAL_BASIS_TAXONOMY.isWithin(lb, 'dpv:LegalObligation')) {
      return {
        outcome: 'compliant',
        explanation: `${p} rests on a new legal basis, ${lb}, declared in ${dn(d)} (GDPR art. 6(4)).`,
        decl: d,
        announcing: d,
      };
    }
  }
  const f = failing[0]!;
  if (vocab.isWithinAny(p, ART89) && failing.every((c) => (c.decl?.d.measures?.length ?? 0) > 0)) {
    return {
      outcome: 'compliant',
      explanation: `${p} is research or statistics (GDPR art. 89) and ${dn(f.decl)} records safeguards (${list(f.decl!.d.measures!, 3)}).`,
      decl: f.decl,
      announcing: [...covering][0],
    };
  }
  for (const d of covering) {
    const lb = entryFor(d, p, vocab)!.legalBasis;
    if (LEGAL_BASIS_TAXONOMY.isWithin(lb, 'dpv:Consent')) {
      return {
        outcome: 'undetermined',
        explanation: `${p} rests on consent declared in ${dn(d)}; the ledger holds no consent records to confirm it.`,
        decl: d,
        announcing: d,
      };
    }
  }
  if (failing.every((c) => assessment(c.decl, 'compatibility', m.time) !== undefined)) {
    const a = assessment(f.decl, 'compatibility', m.time)!;
    return {
      outcome: 'undetermined',
      explanation: `${dn(f.decl)} records a compatibility assessment (${a.date.slice(0, 10)}); whether it covers ${p} needs a person to read it.`,
      decl: f.decl,
      announcing: [...covering][0],
    };
  }
  return undefined;
}

function noticeBeforeUse(e: Engine, m: Move, r: Report): void {
  const own = m.own;
  if (own === undefined || entryFor(own, m.ev.purpose, m.vocab) === undefined) return;
  // The earliest version of this subject, up to the one in force, that covers the purpose.
  const versions = e.declsBySubject.get(own.d.subject) ?? [own];
  const first =
    versions.find((d) => d.index <= own.index && entryFor(d, m.ev.purpose, m.vocab) !== undefined) ?? own;
  if (hasNotice(first)) {
    r.add(
      'notice-before-use',
      'compliant',
      `${m.ev.purpose} was announced with a public notice by ${dn(first)} before this movement.`,
      first,
    );
  } else {
    r.add(
      'notice-before-use',
      'violation',
      `${dn(first)} declares ${m.ev.purpose} without a public notice (register entry or privacy statement).`,
      first,
    );
  }
}

function legalBasis(e: Engine, m: Move, r: Report): void {
  const own = m.own;
  if (own === undefined) return;
  const entry = entryFor(own, m.ev.purpose, m.vocab);
  if (entry === undefined) return;
  judgeBasis(e, r, own, m.ev.emitter, m.ev.purpose, entry.legalBasis, m.time);
}

function judgeBasis(
  e: Engine,
  r: Report,
  d: DeclRecord,
  org: string,
  purpose: string,
  lb: string,
  at: number,
): void {
  if (!LEGAL_BASIS_TAXONOMY.has(lb)) {
    r.add(
      'legal-basis',
      'undetermined',
      `Legal basis ${lb} of ${purpose} in ${dn(d)} is not a known term.`,
      d,
    );
    return;
  }
  if (LEGAL_BASIS_TAXONOMY.isWithin(lb, 'dpv:DataTransferLegalBasis')) {
    r.add(
      'legal-basis',
      'violation',
      `${lb} is a basis for cross-border transfers, not for processing for ${purpose}.`,
      d,
    );
    return;
  }
  if (LEGAL_BASIS_TAXONOMY.isWithin(lb, 'dpv:LegitimateInterest')) {
    if (e.orgs.get(org)?.role === 'agency') {
      r.add(
        'legal-basis',
        'violation',
        `${org} is a public authority and cannot rely on legitimate interests for ${purpose} (GDPR art. 6(1), last subparagraph).`,
        d,
      );
      return;
    }
    if (assessment(d, 'legitimate-interest', at) === undefined) {
      r.add(
        'legal-basis',
        'violation',
        `${dn(d)} relies on legitimate interests for ${purpose} without a legitimate-interest assessment.`,
        d,
      );
      return;
    }
  }
  if (LEGAL_BASIS_TAXONOMY.isWithin(lb, 'dpv:Consent')) {
    r.add(
      'legal-basis',
      'undetermined',
      `${purpose} rests on consent (${dn(d)}); the ledger holds no consent records, so whether it was given and not withdrawn needs checking.`,
      d,
    );
    return;
  }
  r.add('legal-basis', 'compliant', `${purpose} rests on ${lb} as declared in ${dn(d)}.`, d);
}

function specialCategory(e: Engine, m: Move, r: Report): void {
  const special = m.pre.set.special;
  if (special.length === 0) return;
  const lb = m.own === undefined ? undefined : entryFor(m.own, m.ev.purpose, m.vocab)?.legalBasis;
  for (const c of special) {
    const what = c.sensitivity === 'special' ? 'special-category' : 'criminal-offence';
    const path = e.pathToClause(m, c);
    const dpia = [m.own, c.decl].find((d) => assessment(d, 'dpia', m.time) !== undefined);
    if (dpia === undefined) {
      r.add(
        'special-category',
        'violation',
        `${c.category} is ${what} data, and no DPIA dated before this movement is recorded in ${dn(c.decl ?? m.own)}.`,
        c.decl ?? m.own,
        path,
      );
      continue;
    }
    if (lb === undefined) {
      r.add(
        'special-category',
        'violation',
        `No legal basis and condition are declared for processing ${c.category} for ${m.ev.purpose}.`,
        m.own,
        path,
      );
      continue;
    }
    const is = (t: string) => LEGAL_BASIS_TAXONOMY.isWithin(lb, t);
    if (is('dpv:Consent') && c.sensitivity === 'special') {
      r.add(
        'special-category',
        'undetermined',
        `${c.category} rests on consent, which must be explicit; the ledger cannot confirm it.`,
        m.own,
        path,
      );
      continue;
    }
    const ok =
      c.sensitivity === 'special'
        ? is('dpv:LegalObligation') || is('dpv:PublicInterest') || is('dpv:VitalInterest')
        : is('dpv:LegalObligation') || is('dpv:OfficialAuthorityOfController');
    if (!ok) {
      r.add(
        'special-category',
        'violation',
        `${lb} is not a condition for processing ${c.category} (GDPR art. ${c.sensitivity === 'special' ? '9(2)' : '10'}).`,
        m.own,
        path,
      );
      continue;
    }
    r.add(
      'special-category',
      'compliant',
      `${c.category}: DPIA recorded in ${dn(dpia)} and condition ${lb} declared.`,
      dpia,
    );
  }
}

function recipientAllowed(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  for (const h of m.notHeld) {
    r.add(
      'recipient-allowed',
      'violation',
      `${ev.emitter} uses input ${short(h)}, data it neither collected, derived nor received.`,
      m.own,
      m.synthetic ? [h] : [m.hash, h],
    );
  }
  if (ev.type === 'transfer' || ev.type === 'publish') {
    const rr = m.recipient!;
    const who = ev.type === 'transfer' ? ev.recipient : `the public (${ev.audience})`;
    if (!rr.ok) {
      const f = rr.failing;
      if (f === undefined) {
        r.add(
          'recipient-allowed',
          'undetermined',
          `No declaration along this data's lineage lists recipients, so whether ${who} may receive it is unknown.`,
        );
      } else if (f.returnTo !== undefined) {
        r.add(
          'recipient-allowed',
          'violation',
          `${who} may not receive this data: ${dn(f.decl)} allows no onward transfer, only a return to ${f.returnTo}.`,
          f.decl,
          e.pathToClause(m, f),
        );
      } else {
        r.add(
          'recipient-allowed',
          'violation',
          `${who} is not an allowed recipient of this data for ${ev.purpose} under ${dn(f.decl)}.`,
          f.decl,
          e.pathToClause(m, f),
        );
      }
      return;
    }
    if (ev.type === 'transfer') {
      const needs = rr.matched.find((x) => x.rule?.agreementRequired === true);
      if (needs !== undefined && ev.agreement === undefined) {
        r.add(
          'recipient-allowed',
          'violation',
          `${dn(needs.clause.decl)} requires a data-sharing agreement for transfers to ${ev.recipient}; none is referenced.`,
          needs.clause.decl,
        );
        return;
      }
      if (rr.countExceeded !== undefined) {
        const x = rr.countExceeded;
        r.add(
          'recipient-allowed',
          'violation',
          `${dn(x.clause.decl)} allows at most ${x.rule!.maxRecipients} recipient(s) under this rule; ${ev.recipient} exceeds that.`,
          x.clause.decl,
        );
        return;
      }
    }
    r.add(
      'recipient-allowed',
      'compliant',
      `${who} is an allowed recipient for ${ev.purpose} under every declaration along this data's lineage.`,
      m.own,
    );
  } else if (ev.type !== 'collect' && m.notHeld.length === 0) {
    r.add(
      'recipient-allowed',
      'compliant',
      `${ev.emitter} holds the data it ${ev.type === 'delete' ? 'deletes' : 'uses'}.`,
      m.own,
    );
  }
}

function nextPolicy(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type !== 'transfer') return;
  const rr = m.recipient!;
  const required = rr.matched.find((x) => x.rule?.nextPolicyRequired === true);
  if (ev.nextPolicy === undefined) {
    if (required !== undefined) {
      r.add(
        'next-policy',
        'violation',
        `${dn(required.clause.decl)} requires a next policy for transfers to ${ev.recipient}; none is named.`,
        required.clause.decl,
      );
    }
    return;
  }
  const np = e.decls.get(ev.nextPolicy);
  if (np === undefined) {
    r.add(
      'next-policy',
      'undetermined',
      `The next policy ${short(ev.nextPolicy)} is not a declaration on the ledger.`,
    );
    return;
  }
  const fail = (text: string, decl: DeclRecord | undefined = np, path?: string[]) =>
    r.add('next-policy', 'violation', text, decl, path);
  if (np.index > m.index) return fail(`Next policy ${dn(np)} was published after this transfer.`);
  if (np.emitter !== ev.recipient)
    return fail(`Next policy ${dn(np)} is declared by ${np.emitter}, not by the recipient ${ev.recipient}.`);
  const current = e.declsBySubject.get(np.d.subject)?.findLast((d) => d.index < m.index);
  if (current !== undefined && current !== np)
    return fail(`Next policy ${dn(np)} is superseded by ${dn(current)}.`);
  const vocab = m.vocab;
  const pre = m.pre.set;
  // Purposes: a subset of what the recipient may receive it for.
  for (const id of np.d.purposes.map((p) => p.id)) {
    for (const x of rr.matched) {
      if (x.rule !== undefined && !vocab.isWithinAny(id, x.rule.purposes)) {
        return fail(
          `Next policy ${dn(np)} allows ${id}, beyond ${list(x.rule.purposes)} for which ${ev.recipient} may receive it (${dn(x.clause.decl)}).`,
        );
      }
    }
    const c = pre.purposes.find((c) => !vocab.isWithinAny(id, c.ids));
    if (c !== undefined)
      return fail(
        `Next policy ${dn(np)} allows ${id}, which ${source(c)} does not allow.`,
        np,
        e.pathToClause(m, c),
      );
  }
  // Recipients: no wider, and no onward transfer where the rule forbids it.
  for (const rule of np.d.recipients ?? []) {
    const who = rule.org ?? `any ${rule.role}`;
    for (const x of rr.matched) {
      if (x.rule === undefined) continue;
      if (x.rule.onwardTransfer !== true) {
        if (rule.org !== ev.emitter) {
          return fail(
            `Next policy ${dn(np)} lets ${ev.recipient} pass the data to ${who}, but ${dn(x.clause.decl)} allows no onward transfer.`,
          );
        }
        continue;
      }
      const covered = x.clause.rules.some(
        (q) =>
          (q.role === 'public' ||
            (q.org !== undefined && q.org === rule.org) ||
            (q.role !== undefined && q.role === rule.role)) &&
          rule.purposes.every((id) => vocab.isWithinAny(id, q.purposes)),
      );
      if (!covered)
        return fail(
          `Next policy ${dn(np)} lets the data go to ${who}, whom ${dn(x.clause.decl)} does not allow.`,
        );
      if (rule.onwardTransfer === true && x.rule.onwardTransfer !== true) {
        return fail(`Next policy ${dn(np)} allows onward transfer, which ${dn(x.clause.decl)} does not.`);
      }
    }
  }
  // Retention no longer.
  const inherited = m.pre.deadlineDecl;
  if (
    inherited !== undefined &&
    compareDurations(np.d.retention.duration, inherited.d.retention.duration, m.time) > 0
  ) {
    return fail(
      `Next policy ${dn(np)} keeps the data for ${np.d.retention.duration}, longer than ${inherited.d.retention.duration} of ${dn(inherited)}.`,
    );
  }
  // No prohibition dropped.
  for (const pc of pre.prohibitions) {
    if (!coversProhibition(np.d.prohibitions ?? [], pc.term, vocab)) {
      return fail(
        `Next policy ${dn(np)} drops the prohibition ${pc.term} of ${dn(pc.decl)}.`,
        np,
        e.pathToClause(m, pc),
      );
    }
  }
  r.add(
    'next-policy',
    'compliant',
    `Next policy ${dn(np)} is at least as strict as the terms under which ${ev.recipient} receives the data.`,
    np,
  );
}

function coversProhibition(prohibitions: readonly string[], term: string, vocab: PurposeVocabulary): boolean {
  return prohibitions.some((q) => q === term || vocab.isWithin(term, q) || ACTION_TAXONOMY.isWithin(term, q));
}

function retention(e: Engine, m: Move, r: Report): void {
  for (const a of m.afterDelete) {
    r.add(
      'retention',
      'violation',
      `Input ${short(a.input)} was deleted (ledger index ${a.index}) before this movement used it.`,
      m.pre.deadlineDecl,
      m.synthetic ? [a.input] : [m.hash, a.input],
    );
  }
  const { deadline, deadlineDecl, deadlineFrom } = m.pre;
  if (!Number.isFinite(deadline) || deadlineFrom === undefined || deadlineDecl === undefined) {
    r.add(
      'retention',
      'undetermined',
      `No declaration along this data's lineage sets a retention, so whether it is kept too long is unknown.`,
    );
    return;
  }
  const path = e.pathToDeadline(m, deadlineFrom);
  const rule = `${deadlineDecl.d.retention.duration} of ${dn(deadlineDecl)}`;
  if (m.time > deadline) {
    const late = m.ev.type === 'delete' ? 'deletes data' : `uses data for ${m.ev.purpose}`;
    r.add(
      'retention',
      'violation',
      `This ${m.ev.type} ${late} after its retention ended on ${day(deadline)} (${rule}).`,
      deadlineDecl,
      path,
    );
    return;
  }
  if (m.pre.unknownFrom !== undefined) {
    r.add(
      'retention',
      'undetermined',
      `Part of this data's lineage is not on the ledger, so its retention may be shorter than ${day(deadline)}.`,
      deadlineDecl,
    );
    return;
  }
  r.add(
    'retention',
    'compliant',
    `Within retention: this data is due for deletion by ${day(deadline)} (${rule}).`,
    deadlineDecl,
    path,
  );
}

function storage(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  if (!isPersonal(m.pre.state)) {
    r.add(
      'storage-jurisdiction',
      'compliant',
      `The data is ${m.pre.state === 'none' ? 'not personal data' : 'anonymised'}, so cross-border rules do not apply.`,
      m.own,
    );
    return;
  }
  const own = m.own;
  for (const s of own?.d.storage ?? []) {
    if (!freeFlow(s.jurisdiction) && !hasTransferBasis(own)) {
      r.add(
        'storage-jurisdiction',
        'violation',
        `${dn(own)} stores personal data in ${s.jurisdiction} (${s.location}) without a transfer basis.`,
        own,
      );
      return;
    }
  }
  if (ev.type === 'transfer') {
    const j = e.orgs.get(ev.recipient)?.jurisdiction;
    const np = ev.nextPolicy === undefined ? undefined : e.decls.get(ev.nextPolicy);
    if (j === undefined) {
      r.add(
        'storage-jurisdiction',
        'undetermined',
        `The jurisdiction of ${ev.recipient} is not on the register.`,
        own,
      );
      return;
    }
    if (!freeFlow(j) && !hasTransferBasis(own) && !hasTransferBasis(np)) {
      r.add(
        'storage-jurisdiction',
        'violation',
        `Personal data goes to ${ev.recipient} in ${j} without an adequacy decision or transfer basis.`,
        own,
      );
      return;
    }
    for (const s of np?.d.storage ?? []) {
      if (!freeFlow(s.jurisdiction) && !hasTransferBasis(np) && !hasTransferBasis(own)) {
        r.add(
          'storage-jurisdiction',
          'violation',
          `Next policy ${dn(np)} stores the data in ${s.jurisdiction} without a transfer basis.`,
          np,
        );
        return;
      }
    }
  }
  if (own === undefined) {
    r.add(
      'storage-jurisdiction',
      'undetermined',
      `No declaration states where this personal data is stored.`,
    );
    return;
  }
  r.add(
    'storage-jurisdiction',
    'compliant',
    `Personal data is stored in ${list(own.d.storage.map((s) => s.jurisdiction))} (EEA or adequate, or with a transfer basis).`,
    own,
  );
}

function processingSteps(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type !== 'derive') return;
  const ownSteps = m.own?.d.processing;
  let undetermined = false;
  for (const step of ev.processing) {
    for (let i = 0; i < m.inputs.length; i++) {
      const input = m.inputs[i];
      if (input === undefined) {
        undetermined = true;
        continue;
      }
      const set = input.post.set;
      if (permits(set, step)) continue;
      // Non-personal data may also be processed as the output's own declaration says.
      if (!isPersonal(input.post.state) && ownSteps?.includes(step as never) === true) continue;
      const c = set.processing.find((c) => c.steps !== undefined && !c.steps.has(step));
      if (c !== undefined) {
        r.add(
          'processing-permitted',
          'violation',
          `${step} is not a processing that ${dn(c.decl)} permits for its data (it permits ${list([...c.steps!]) || 'none'}).`,
          c.decl,
          e.pathToClause(m, c),
        );
        return;
      }
      undetermined = true;
    }
  }
  if (undetermined) {
    r.add(
      'processing-permitted',
      'undetermined',
      `A declaration along this data's lineage lists no permitted processing, so ${list(ev.processing)} cannot be confirmed.`,
      m.own,
    );
  } else {
    r.add(
      'processing-permitted',
      'compliant',
      `${list(ev.processing)} is permitted processing under the declarations of its inputs.`,
      m.own,
    );
  }
}

function derivedInheritance(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type !== 'derive') return;
  const own = m.own;
  const kept = m.inputs.filter((_, i) => !m.released![i]);
  if (kept.length === 0) {
    const how = ev.processing.includes('anonymise') ? 'anonymisation' : 'aggregation of non-personal data';
    r.add(
      'derived-inheritance',
      'compliant',
      `Every input was released by a recorded ${how}; ${dn(own)} alone governs the output.`,
      own,
    );
    return;
  }
  if (own === undefined) {
    r.add(
      'derived-inheritance',
      'undetermined',
      `No declaration covers the derived dataset ${ev.dataset.id}, so what it inherits cannot be compared.`,
    );
    return;
  }
  if (kept.some((x) => x === undefined)) {
    r.add(
      'derived-inheritance',
      'undetermined',
      `An input is not a movement on the ledger, so what the derived data inherits is unknown.`,
      own,
    );
    return;
  }
  const I = e.interner;
  let inherited: ClauseSet = I.empty;
  for (const x of kept) inherited = I.union(inherited, x!.post.set);
  const vocab = m.vocab;
  const fail = (text: string, c: Clause) =>
    r.add('derived-inheritance', 'violation', text, own, e.pathToClause(m, c));
  for (const id of own.d.purposes.map((p) => p.id)) {
    const c = inherited.purposes.find((c) => c.decl !== own && !vocab.isWithinAny(id, c.ids));
    if (c !== undefined)
      return fail(
        `${dn(own)} declares ${id} for the derived data, but ${source(c)} allows only ${list(c.ids)}.`,
        c,
      );
  }
  for (const pc of inherited.prohibitions) {
    if (pc.decl !== own && !coversProhibition(own.d.prohibitions ?? [], pc.term, vocab)) {
      return fail(
        `${dn(own)} drops the prohibition ${pc.term} that its input carries from ${dn(pc.decl)}.`,
        pc,
      );
    }
  }
  for (const rule of own.d.recipients ?? []) {
    for (const c of inherited.recipients) {
      if (c.decl === own) continue;
      const covered =
        c.returnTo !== undefined
          ? rule.org === c.returnTo
          : c.rules.some(
              (q) =>
                (q.role === 'public' ||
                  (q.org !== undefined && q.org === rule.org) ||
                  (q.role !== undefined && q.role === rule.role)) &&
                rule.purposes.every((id) => vocab.isWithinAny(id, q.purposes)),
            );
      if (!covered) {
        return fail(
          `${dn(own)} lets ${rule.org ?? `any ${rule.role}`} receive the derived data, which ${dn(c.decl)} does not allow.`,
          c,
        );
      }
    }
  }
  const min = kept.reduce<Move | undefined>(
    (a, x) => (a === undefined || x!.post.deadline < a.post.deadline ? x : a),
    undefined,
  );
  const inh = min?.post.deadlineDecl;
  if (
    inh !== undefined &&
    inh !== own &&
    compareDurations(own.d.retention.duration, inh.d.retention.duration, m.time) > 0
  ) {
    r.add(
      'derived-inheritance',
      'violation',
      `${dn(own)} keeps the derived data for ${own.d.retention.duration}, longer than ${inh.d.retention.duration} of its input (${dn(inh)}).`,
      own,
      e.pathToDeadline(m, min!.post.deadlineFrom!),
    );
    return;
  }
  for (const sc of inherited.special) {
    if (!own.d.categories.includes(sc.category)) {
      return fail(
        `${dn(own)} does not declare ${sc.category}, a ${sc.sensitivity} category its input carries.`,
        sc,
      );
    }
  }
  r.add(
    'derived-inheritance',
    'compliant',
    `${dn(own)} is at least as strict as the declarations its inputs inherit.`,
    own,
  );
}

function anonymisation(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type === 'derive') {
    const personal = m.inputs.findIndex((x) => x !== undefined && isPersonal(x.post.state));
    const anon = ev.processing.includes('anonymise');
    if (personal >= 0 && !isPersonal(ev.personalData)) {
      const input = m.inputs[personal]!;
      const path = m.synthetic ? [input.hash] : [m.hash, input.hash];
      if (!anon || ev.anonymisation === undefined) {
        r.add(
          'anonymisation',
          'violation',
          `The output is declared ${ev.personalData} but its input is ${input.post.state}, and no anonymisation (technique and assessment) is recorded: ${list(ev.processing)} does not anonymise.`,
          m.own,
          path,
        );
      } else if (!TECHNIQUE_TAXONOMY.has(ev.anonymisation.technique)) {
        r.add(
          'anonymisation',
          'undetermined',
          `Anonymisation technique ${ev.anonymisation.technique} is not a known term, so the inputs' rules are kept.`,
          m.own,
          path,
        );
      } else {
        const c = input.post.set.processing.find((c) => c.steps === undefined || !c.steps.has('anonymise'));
        if (c !== undefined) {
          r.add(
            'anonymisation',
            'violation',
            `${dn(c.decl)} does not allow anonymising its data, so the output stays bound to it.`,
            c.decl,
            e.pathToClause(m, c),
          );
        } else {
          r.add(
            'anonymisation',
            'compliant',
            `Anonymised with ${ev.anonymisation.technique} (assessment ${ev.anonymisation.assessment.slice(0, 19)}); the output is governed by ${dn(m.own)}.`,
            m.own,
          );
        }
      }
    } else if (personal >= 0 && anon) {
      r.add(
        'anonymisation',
        'compliant',
        `The output is ${ev.personalData}, still personal data, so every rule of its inputs is kept.`,
        m.own,
      );
    }
    // The anonymisation of personal inputs is judged above; the declaration below only when it was not.
    if (personal >= 0 && !isPersonal(ev.personalData)) return;
  }
  const own = m.own;
  const state = ev.type === 'derive' ? m.post.state : m.pre.state;
  if (own !== undefined && !isPersonal(own.d.personalData) && isPersonal(state)) {
    r.add(
      'anonymisation',
      'violation',
      `${dn(own)} treats this data as ${own.d.personalData}, but it is ${state}: ${PERSONAL_DATA_STATES[state].label.toLowerCase()} keeps every rule.`,
      own,
    );
  }
}

function duties(m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type !== 'delete') return;
  const d = m.own?.d.retention.deletion !== undefined ? m.own : m.pre.deadlineDecl;
  const want = d?.d.retention.deletion;
  if (want === undefined) return;
  if (ev.method === want) r.add('duties', 'compliant', `Deleted by ${ev.method}, as ${dn(d)} requires.`, d);
  else
    r.add('duties', 'violation', `${dn(d)} requires deletion by ${want}; this delete used ${ev.method}.`, d);
}

/** Whether a prohibition term forbids a movement: yes, no, or unknown (an unknown term). */
function prohibits(term: string, m: Move): 'yes' | 'no' | 'unknown' {
  const ev = m.ev;
  const vocab = m.vocab;
  const action = ev.type === 'use' ? ev.action : undefined;
  const disclosure = ev.type === 'transfer' || ev.type === 'publish';
  const spec = prohibitionTerm(term);
  if (spec !== undefined) {
    if (spec.purposes !== undefined && vocab.isWithinAny(ev.purpose, spec.purposes)) return 'yes';
    if (
      disclosure &&
      spec.disclosurePurposes !== undefined &&
      vocab.isWithinAny(ev.purpose, spec.disclosurePurposes)
    )
      return 'yes';
    if (
      action !== undefined &&
      spec.actions !== undefined &&
      ACTION_TAXONOMY.isWithinAny(action, spec.actions)
    )
      return 'yes';
    if (action !== undefined && ACTION_TAXONOMY.isWithin(action, term)) return 'yes';
    return 'no';
  }
  if (vocab.has(term)) return vocab.isWithin(ev.purpose, term) ? 'yes' : 'no';
  if (ACTION_TAXONOMY.has(term))
    return action !== undefined && ACTION_TAXONOMY.isWithin(action, term) ? 'yes' : 'no';
  return 'unknown';
}

function prohibitions(e: Engine, m: Move, r: Report): void {
  const list_ = m.pre.set.prohibitions;
  const own = m.own;
  const permitted = own !== undefined && entryFor(own, m.ev.purpose, m.vocab) !== undefined;
  for (const pc of list_) {
    const res = prohibits(pc.term, m);
    if (res === 'no') continue;
    if (res === 'unknown') {
      r.add(
        'processing-permitted',
        'undetermined',
        `Prohibition ${pc.term} of ${dn(pc.decl)} is not a known term, so whether it forbids this ${m.ev.type} is unknown.`,
        pc.decl,
      );
      continue;
    }
    const path = e.pathToClause(m, pc);
    if (permitted) {
      r.add(
        'conflicts',
        'violation',
        `${dn(own)} permits ${m.ev.purpose}, but ${dn(pc.decl)} prohibits ${pc.term}, which covers this ${m.ev.type}; the prohibition wins.`,
        pc.decl,
        path,
      );
    } else {
      r.add(
        'processing-permitted',
        'violation',
        `This ${m.ev.type} for ${m.ev.purpose} is prohibited by ${pc.term} in ${dn(pc.decl)}.`,
        pc.decl,
        path,
      );
    }
  }
  if (list_.length > 0 && !r.has('conflicts')) {
    r.add(
      'conflicts',
      'compliant',
      `No prohibition along this data's lineage (${list(list_.map((p) => p.term))}) applies to this movement.`,
      own,
    );
  }
  if (!r.has('processing-permitted')) {
    r.add(
      'processing-permitted',
      'compliant',
      `No prohibition along this data's lineage forbids this ${m.ev.type}.`,
      own,
    );
  }
}

function unknownTerms(m: Move, r: Report): void {
  const ev = m.ev;
  const unknown: string[] = [];
  if (!m.vocab.has(ev.purpose)) unknown.push(ev.purpose);
  if (ev.type === 'use' && !ACTION_TAXONOMY.has(ev.action)) unknown.push(ev.action);
  if (ev.type === 'collect' || ev.type === 'derive')
    for (const c of ev.categories) if (!CATEGORY_TAXONOMY.has(c)) unknown.push(c);
  if (
    ev.type === 'derive' &&
    ev.anonymisation !== undefined &&
    !TECHNIQUE_TAXONOMY.has(ev.anonymisation.technique)
  ) {
    unknown.push(ev.anonymisation.technique);
  }
  if (unknown.length > 0) {
    r.add(
      'unknown-term',
      'undetermined',
      `Unknown term${unknown.length > 1 ? 's' : ''} ${list(unknown)}: nothing is allowed on an unknown term.`,
      m.own,
    );
  } else {
    r.add('unknown-term', 'compliant', `Every term of this ${ev.type} is in the vocabulary.`, m.own);
  }
}

function publicRegister(e: Engine, m: Move, r: Report): void {
  const ev = m.ev;
  const check = (
    id: string,
    kind: 'source' | 'dataset',
    categories: readonly string[] | undefined,
    state: keyof typeof PERSONAL_DATA_STATES | undefined,
  ): boolean => {
    const fact = e.resources.get(id);
    if (fact === undefined || fact.kind !== kind) {
      r.add(
        'public-register',
        'undetermined',
        `${kind === 'source' ? 'Source' : 'Dataset'} ${id} is not on the public register.`,
        m.own,
      );
      return false;
    }
    const extra = (categories ?? []).filter((c) => !fact.categories.includes(c));
    if (extra.length > 0) {
      r.add(
        'public-register',
        'violation',
        `This ${ev.type} records ${list(extra)}, which the register entry of ${id} does not show.`,
        m.own,
      );
      return false;
    }
    if (state !== undefined && stateRank(state) > stateRank(fact.personalData)) {
      r.add(
        'public-register',
        'violation',
        `The register shows ${id} as ${fact.personalData}, but this ${ev.type} is ${state}.`,
        m.own,
      );
      return false;
    }
    return true;
  };
  let ok: boolean;
  if (ev.type === 'collect') {
    ok =
      check(ev.source, 'source', ev.categories, ev.personalData) &&
      check(ev.dataset.id, 'dataset', ev.categories, ev.personalData);
    if (
      ok &&
      isPersonal(ev.personalData) &&
      e.resources.get(ev.source)?.notice === undefined &&
      !(m.own !== undefined && hasNotice(m.own))
    ) {
      r.add(
        'public-register',
        'violation',
        `${ev.source} collects personal data, but neither its register entry nor its declaration links a notice.`,
        m.own,
      );
      ok = false;
    }
  } else if (ev.type === 'derive') {
    ok = check(ev.dataset.id, 'dataset', ev.categories, ev.personalData);
  } else {
    ok = check(ev.dataset.id, 'dataset', undefined, undefined);
  }
  if (ok)
    r.add(
      'public-register',
      'compliant',
      `This ${ev.type} stays within what the public register shows for ${ev.type === 'collect' ? ev.source : ev.dataset.id}.`,
      m.own,
    );
}

function impactAssessment(m: Move, r: Report): void {
  const ev = m.ev;
  if (ev.type !== 'collect' || !isPersonal(ev.personalData)) return;
  const own = m.own;
  if (own === undefined) {
    r.add(
      'impact-assessment',
      'undetermined',
      `No declaration covers ${ev.source}, so no impact assessment can be found for its first collection.`,
    );
    return;
  }
  const dpia = own.d.assessments?.find((a) => a.kind === 'dpia');
  if (dpia === undefined) {
    r.add(
      'impact-assessment',
      'violation',
      `First collection of personal data from ${ev.source} without a DPIA in ${dn(own)}.`,
      own,
    );
  } else if (millis(dpia.date) > m.time) {
    r.add(
      'impact-assessment',
      'violation',
      `The DPIA of ${dn(own)} is dated ${dpia.date.slice(0, 10)}, after the first collection from ${ev.source}.`,
      own,
    );
  } else {
    r.add(
      'impact-assessment',
      'compliant',
      `The DPIA of ${dpia.date.slice(0, 10)} in ${dn(own)} precedes the first collection from ${ev.source}.`,
      own,
    );
  }
}

// --- Declarations --------------------------------------------------------------------------

export function evaluateDeclaration(e: Engine, d: DeclEntry): Outcome[] {
  const r = new Report(d.hash, [d.hash]);
  const decl = d.d;
  const vocab = d.vocab;
  const owner = ownerOf(decl.subject);
  if (owner !== d.emitter) {
    r.add(
      'declaration-in-force',
      'violation',
      `${d.emitter} declares for ${decl.subject}, which belongs to ${owner}.`,
      d,
    );
  } else if (decl.version > 1) {
    const versions = e.declsBySubject.get(decl.subject) ?? [];
    const prev = versions.findLast((x) => x.index < d.index);
    if (prev === undefined) {
      r.add(
        'declaration-in-force',
        'violation',
        `Version ${decl.version} supersedes a version of ${decl.subject} that is not on the ledger.`,
        d,
      );
    } else if (prev.hash !== decl.supersedes || prev.d.version + 1 !== decl.version) {
      r.add(
        'declaration-in-force',
        'violation',
        `Version ${decl.version} should supersede ${dn(prev)} (${short(prev.hash)}), the latest version before it.`,
        d,
      );
    }
  }
  if (!r.has('declaration-in-force')) {
    r.add(
      'declaration-in-force',
      'compliant',
      `${dn(d)} is declared by the owner of ${decl.subject} and continues its version chain.`,
      d,
    );
  }

  if (decl.customPurposes !== undefined && decl.customPurposes.length > 0) {
    if (d.customError !== undefined) {
      r.add(
        'custom-purpose',
        'violation',
        `Custom purposes refused (${d.customError.code}): ${d.customError.message}.`,
        d,
      );
    } else {
      r.add(
        'custom-purpose',
        'compliant',
        `Custom purposes ${list(decl.customPurposes.map((p) => p.id))} extend the vocabulary under known parents.`,
        d,
      );
    }
  }

  const unknown: string[] = [];
  for (const p of decl.purposes) {
    if (!vocab.has(p.id)) unknown.push(p.id);
    if (!LEGAL_BASIS_TAXONOMY.has(p.legalBasis)) unknown.push(p.legalBasis);
  }
  for (const rule of decl.recipients ?? [])
    for (const id of rule.purposes) if (!vocab.has(id)) unknown.push(id);
  for (const t of decl.prohibitions ?? []) {
    if (prohibitionTerm(t) === undefined && !vocab.has(t) && !ACTION_TAXONOMY.has(t)) unknown.push(t);
  }
  for (const c of decl.categories) if (!CATEGORY_TAXONOMY.has(c)) unknown.push(c);
  const uniq = [...new Set(unknown)];
  if (uniq.length > 0)
    r.add(
      'unknown-term',
      'undetermined',
      `Unknown term${uniq.length > 1 ? 's' : ''} ${list(uniq)} in ${dn(d)}.`,
      d,
    );
  else r.add('unknown-term', 'compliant', `Every term of ${dn(d)} is in the vocabulary.`, d);

  const prohibited = decl.prohibitions ?? [];
  if (prohibited.length > 0) {
    const granted = [
      ...decl.purposes.map((p) => p.id),
      ...(decl.recipients ?? []).flatMap((x) => x.purposes),
    ];
    for (const p of granted) {
      const q = prohibited.find(
        (q) => vocab.isWithin(p, q) || (prohibitionTerm(q)?.purposes ?? []).some((x) => vocab.isWithin(p, x)),
      );
      if (q !== undefined) {
        r.add(
          'conflicts',
          'violation',
          `${dn(d)} grants ${p} and prohibits ${q}, which covers it; the prohibition wins and the grant is void.`,
          d,
        );
        break;
      }
    }
    if (!r.has('conflicts'))
      r.add('conflicts', 'compliant', `No purpose ${dn(d)} grants falls under its own prohibitions.`, d);
  }

  for (const p of decl.purposes) judgeBasis(e, r, d, d.emitter, p.id, p.legalBasis, d.time);

  if (isPersonal(decl.personalData)) {
    const abroad = decl.storage.find((s) => !freeFlow(s.jurisdiction));
    if (abroad !== undefined && !hasTransferBasis(d)) {
      r.add(
        'storage-jurisdiction',
        'violation',
        `${dn(d)} stores personal data in ${abroad.jurisdiction} without a transfer basis.`,
        d,
      );
    } else {
      r.add(
        'storage-jurisdiction',
        'compliant',
        `${dn(d)} stores personal data in ${list(decl.storage.map((s) => s.jurisdiction))}.`,
        d,
      );
    }
  }
  return r.outcomes;
}

// --- Findings (evidence) -------------------------------------------------------------------

export function evaluateFinding(
  e: Engine,
  f: FindingRecord,
  evaluate: (hash: string) => Outcome[],
): Outcome[] {
  const r = new Report(f.hash, [f.hash]);
  const ev = f.ev;
  const role = e.orgs.get(ev.emitter)?.role;
  if (role !== 'compliance') {
    r.add(
      'evidence',
      'violation',
      `The finding is signed by ${ev.emitter}, which is not a registered compliance service.`,
    );
    return r.outcomes;
  }
  const about = e.moves.get(ev.about);
  if (about === undefined && !e.decls.has(ev.about) && !e.findings.has(ev.about)) {
    r.add(
      'evidence',
      'undetermined',
      `The finding is about ${short(ev.about)}, which is not an evaluated event on the ledger.`,
    );
    return r.outcomes;
  }
  if (ev.outcome === 'overdue') {
    const del = e.deleted.get(ev.about);
    const due =
      about !== undefined &&
      about.post.deadline < millis(ev.time) &&
      (del === undefined || del.index > f.index);
    r.add(
      'evidence',
      due ? 'compliant' : 'violation',
      due
        ? `The overdue finding matches: no delete of ${short(ev.about)} was recorded by its deadline.`
        : `The overdue finding does not match: ${short(ev.about)} was not past its retention without a delete at that time.`,
    );
    return r.outcomes;
  }
  const mine = evaluate(ev.about).find((o) => o.check === ev.check);
  if (mine !== undefined && mine.outcome === ev.outcome) {
    r.add('evidence', 'compliant', `The recorded ${ev.outcome} for ${ev.check} matches the evaluation.`);
  } else {
    r.add(
      'evidence',
      'violation',
      `The finding records ${ev.outcome} for ${ev.check}, but the evaluation gives ${mine?.outcome ?? 'no outcome for that check'}.`,
    );
  }
  return r.outcomes;
}
