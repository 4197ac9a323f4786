// The public face of the engine: feed it the ledger's events in order, ask it about any of
// them, about overdue deletions at a given time, or whether a movement would be allowed.
// Pure and deterministic: no I/O, no clock (time comes from the events and the caller).
import type { PurposeVocabulary } from '@civic-ledger/purposes';
import {
  digest,
  eventHash,
  GENESIS_PREV,
  isMovement,
  orgId,
  resourceId,
  termId,
  timestamp,
  type Event,
  type MovementEvent,
} from '@civic-ledger/schemas';
import { z } from 'zod';
import { KEY_COMPROMISE } from './checks.ts';
import { Engine } from './engine.ts';
import { ComplianceError } from './errors.ts';
import {
  capPath,
  evaluateDeclaration,
  evaluateFinding,
  evaluateMove,
  sentence,
  type Outcome,
} from './evaluate.ts';
import { day, millis } from './time.ts';

export const decideQuery = z.strictObject({
  /** The organization that would act. */
  org: orgId,
  /** The dataset it would use or transfer. */
  dataset: resourceId,
  /** One version of it (default: the latest version the organization holds and has not deleted). */
  version: digest.optional(),
  purpose: termId,
  /** Ask about a transfer to this organization (default: a use). */
  recipient: orgId.optional(),
  /** The agreement and next policy a transfer would name, when it would. */
  agreement: digest.optional(),
  nextPolicy: eventHash.optional(),
  /** When (RFC 3339 UTC or ms since the epoch; default: the time of the latest event). */
  at: z.union([timestamp, z.number().int().min(0)]).optional(),
});
export type DecideQuery = z.input<typeof decideQuery>;

export interface Decision {
  decision: 'allow' | 'deny' | 'undetermined';
  /** The event through which the organization holds the data (the lineage the decision follows). */
  holding: string | undefined;
  /** The declaration in force for the dataset. */
  declaration: string | undefined;
  /** Every outcome, violations and unknowns first; each `about` is the holding ('' without one). */
  reasons: Outcome[];
}

const RANK = { violation: 0, overdue: 1, undetermined: 2, compliant: 3 } as const;

function invalid(error: z.ZodError): ComplianceError {
  const issues = error.issues.map((i) => ({ path: `/${i.path.join('/')}`, rule: i.message }));
  const first = issues[0]!;
  return new ComplianceError('QUERY_INVALID', `${first.path}: ${first.rule}`, { issues });
}

/** Events signed with one key, in ledger order (for compromise reviews). */
interface SignedList {
  hashes: string[];
  times: number[];
}

export class ComplianceState {
  readonly #e = new Engine();
  #count = 0;
  readonly #signed = new Map<string, SignedList>();
  /** Revocation hash -> its review outcomes (about the events signed since the compromise). */
  readonly #reviews = new Map<string, Outcome[]>();
  /** Event hash -> the revocation that put it up for review. */
  readonly #underReview = new Map<string, { revocation: string; index: number }>();

  /** Events added so far. */
  get size(): number {
    return this.#count;
  }

  /** Ledger index of the last event added (-1 before the first). */
  get lastIndex(): number {
    return this.#e.lastIndex;
  }

  /** The purpose vocabulary as extended by every accepted custom purpose so far. */
  get vocabulary(): PurposeVocabulary {
    return this.#e.vocab;
  }

  /**
   * Adds the next event of the ledger (validated events, in ledger order: each index larger
   * than the last). Declarations, registrations and movements update the engine's memory; a
   * movement's effective policy is computed here, once. Throws OUT_OF_ORDER or DUPLICATE_EVENT.
   */
  add(event: Event, ledgerIndex: number, hash: string): void {
    const e = this.#e;
    if (!Number.isSafeInteger(ledgerIndex) || ledgerIndex <= e.lastIndex) {
      throw new ComplianceError(
        'OUT_OF_ORDER',
        `ledger index ${ledgerIndex} after ${e.lastIndex}: events must come in ledger order`,
      );
    }
    if (e.moves.has(hash) || e.decls.has(hash) || e.findings.has(hash) || e.others.has(hash)) {
      throw new ComplianceError('DUPLICATE_EVENT', `event ${hash} was already added`);
    }
    e.lastIndex = ledgerIndex;
    const time = millis(event.time);
    e.lastTime = Math.max(e.lastTime, time);
    this.#count += 1;
    if (event.type === 'key' && event.action === 'revoke' && event.compromisedSince !== undefined) {
      this.#review(event.subjectKey, event.subjectOrg, millis(event.compromisedSince), hash, ledgerIndex);
    }
    let signed = this.#signed.get(event.key);
    if (signed === undefined) this.#signed.set(event.key, (signed = { hashes: [], times: [] }));
    signed.hashes.push(hash);
    signed.times.push(time);
    if (isMovement(event)) {
      e.commit(e.computeMove(event, ledgerIndex, hash, false));
    } else if (event.type === 'declare') {
      e.declare(event, ledgerIndex, hash);
    } else if (event.type === 'finding') {
      e.findings.set(hash, { hash, index: ledgerIndex, ev: event });
    } else {
      if (event.type === 'register') e.register(event.subject, ledgerIndex);
      e.others.set(hash, ledgerIndex);
    }
  }

  // Every event signed with the key whose claimed time is at or after the compromise, up to
  // the revocation, is put up for review: undetermined, never silently compliant. Claimed
  // times are the signer's: a thief can backdate, so the review starts from the earliest
  // claimed time at or after `since` in ledger order and includes everything after it.
  #review(key: string, org: string, since: number, revocation: string, index: number): void {
    const list = this.#signed.get(key);
    const out: Outcome[] = [];
    if (list !== undefined) {
      const first = list.times.findIndex((t) => t >= since);
      for (let i = first < 0 ? list.hashes.length : first; i < list.hashes.length; i++) {
        const about = list.hashes[i]!;
        if (this.#underReview.has(about)) continue;
        this.#underReview.set(about, { revocation, index });
        out.push({
          about,
          check: KEY_COMPROMISE,
          outcome: 'undetermined',
          path: [about, revocation],
          explanation: sentence(
            `Signed with ${key}, which ${org} reported stolen since ${new Date(since).toISOString()} and revoked at ledger index ${index}: review whether ${org} really emitted it.`,
          ),
        });
      }
    }
    this.#reviews.set(revocation, out);
  }

  /** Whether an event hash was added. */
  has(hash: string): boolean {
    const e = this.#e;
    return e.moves.has(hash) || e.decls.has(hash) || e.findings.has(hash) || e.others.has(hash);
  }

  /**
   * Every applicable check's outcome for an added event, judged by the declarations in force
   * at its ledger position: movements get the movement checks, declarations their own
   * consistency checks, findings the evidence check, other events none. At most one outcome
   * per check. Throws UNKNOWN_EVENT for a hash never added.
   */
  evaluate(hash: string): Outcome[] {
    const e = this.#e;
    const m = e.moves.get(hash);
    if (m !== undefined) return evaluateMove(e, m);
    const d = e.decls.get(hash);
    if (d !== undefined) return evaluateDeclaration(e, d);
    const f = e.findings.get(hash);
    if (f !== undefined && f.ev.check === KEY_COMPROMISE) return [this.#reviewEvidence(f.hash, f.ev)];
    if (f !== undefined) return evaluateFinding(e, f, (h) => this.evaluate(h));
    const reviews = this.#reviews.get(hash);
    if (reviews !== undefined) return reviews.map((o) => ({ ...o, path: [...o.path] }));
    if (e.others.has(hash)) return [];
    throw new ComplianceError('UNKNOWN_EVENT', `event ${hash} was never added`);
  }

  /** The evidence check of a recorded key-compromise finding: a revocation did put that event up for review. */
  #reviewEvidence(hash: string, ev: { emitter: string; about: string; outcome: string }): Outcome {
    const role = this.#e.orgs.get(ev.emitter)?.role;
    const review = this.#underReview.get(ev.about);
    const ok = role === 'compliance' && review !== undefined && ev.outcome === 'undetermined';
    return {
      about: hash,
      check: 'evidence',
      outcome: ok ? 'compliant' : 'violation',
      path: [hash],
      explanation: ok
        ? `The review finding matches: a revocation after compromise covers ${ev.about.slice(0, 12)}.`
        : role !== 'compliance'
          ? `The finding is signed by ${ev.emitter}, which is not a registered compliance service.`
          : `No revocation after compromise covers ${ev.about.slice(0, 12)} as an undetermined review.`,
    };
  }

  /**
   * Data kept past its retention with no delete: every holding (a collection, a derived
   * dataset, a copy received by transfer) whose deadline is before `now` and that its
   * holder has not deleted. One `overdue` outcome (check `retention`) per holding.
   */
  overdue(now: number | string): Outcome[] {
    const parsed = z.union([timestamp, z.number().finite()]).safeParse(now);
    if (!parsed.success) throw invalid(parsed.error);
    const t = typeof now === 'number' ? now : millis(now);
    const e = this.#e;
    const out: Outcome[] = [];
    for (const m of e.open.values()) {
      const p = m.post;
      if (!(p.deadline < t) || p.deadlineFrom === undefined) continue;
      const holder = m.ev.type === 'transfer' ? m.ev.recipient : m.ev.emitter;
      const d = p.deadlineDecl;
      const o: Outcome = {
        about: m.hash,
        check: 'retention',
        outcome: 'overdue',
        path: capPath(e.pathToDeadline(m, p.deadlineFrom)),
        explanation: sentence(
          `${m.ev.dataset.id} held by ${holder} was due for deletion by ${day(p.deadline)} (${d?.d.retention.duration ?? '?'} of ${d === undefined ? 'its declaration' : `${d.d.subject} v${d.d.version}`}); no delete is recorded.`,
        ),
      };
      if (d !== undefined) o.declaration = d.hash;
      out.push(o);
    }
    return out;
  }

  /**
   * May `org` use (or transfer to `recipient`) `dataset` for `purpose` at `at`? Evaluates the
   * movement it would record, on the lineage of the organization's latest holding of the
   * dataset, against the declarations in force now. Writes nothing. Throws QUERY_INVALID.
   */
  decide(query: DecideQuery): Decision {
    const parsed = decideQuery.safeParse(query);
    if (!parsed.success) throw invalid(parsed.error);
    const q = parsed.data;
    const e = this.#e;
    const index = e.lastIndex + 1;
    const time = q.at === undefined ? e.lastTime : typeof q.at === 'number' ? q.at : millis(q.at);
    const own = e.inForceFor(q.dataset, index);
    const holdings = e.holdings.get(`${q.org}\n${q.dataset}`) ?? [];
    let holding: string | undefined;
    for (let i = holdings.length - 1; i >= 0 && holding === undefined; i--) {
      const h = holdings[i]!;
      if (e.deleted.has(h)) continue;
      if (q.version !== undefined && e.moves.get(h)!.ev.dataset.version !== q.version) continue;
      holding = h;
    }
    if (holding === undefined) {
      const what = q.version === undefined ? q.dataset : `version ${q.version.slice(0, 19)} of ${q.dataset}`;
      const reason: Outcome = {
        about: '',
        check: 'recipient-allowed',
        outcome: 'violation',
        path: [],
        explanation: `${q.org} holds no undeleted ${what} on the ledger: it cannot use or transfer it.`,
      };
      if (own !== undefined) reason.declaration = own.hash;
      return { decision: 'deny', holding: undefined, declaration: own?.hash, reasons: [reason] };
    }
    const held = e.moves.get(holding)!;
    const base = {
      v: 1 as const,
      emitter: q.org,
      stream: 'decide',
      seq: 1,
      prev: GENESIS_PREV,
      time: new Date(time).toISOString(),
      key: `${q.org}/decide`,
      dataset: held.ev.dataset,
      inputs: [holding],
      purpose: q.purpose,
      declaration: own?.hash ?? GENESIS_PREV,
    };
    const ev: MovementEvent =
      q.recipient === undefined
        ? { ...base, type: 'use', action: 'dpv:Use' }
        : {
            ...base,
            type: 'transfer',
            recipient: q.recipient,
            ...(q.agreement === undefined ? {} : { agreement: q.agreement }),
            ...(q.nextPolicy === undefined ? {} : { nextPolicy: q.nextPolicy }),
          };
    const reasons = evaluateMove(e, e.computeMove(ev, index, '', true)).sort(
      (a, b) => RANK[a.outcome] - RANK[b.outcome],
    );
    const decision = reasons.some((o) => o.outcome === 'violation' || o.outcome === 'overdue')
      ? 'deny'
      : reasons.some((o) => o.outcome === 'undetermined')
        ? 'undetermined'
        : 'allow';
    return { decision, holding, declaration: own?.hash, reasons };
  }
}
