// Outcomes as `finding` events: what the compliance consumer signs and appends. Only
// violations, undetermined and overdue outcomes become findings, one per (event, check).
import type { FindingEvent } from '@civic-ledger/schemas';
import { ComplianceError } from './errors.ts';
import { capPath, sentence, type Outcome } from './evaluate.ts';

type Envelope = 'v' | 'emitter' | 'stream' | 'seq' | 'prev' | 'time' | 'key' | 'traceId' | 'ext';

/** The body of a `finding` event (the envelope is the emitter's to add). */
export type FindingBody = Omit<FindingEvent, Envelope>;

/** True for the outcomes that are recorded on the ledger. */
export function isFinding(o: Outcome): boolean {
  return o.outcome !== 'compliant';
}

/** The fields of the `finding` event for an outcome; throws NOT_A_FINDING for a compliant one. */
export function toFinding(o: Outcome): FindingBody {
  if (o.outcome === 'compliant') {
    throw new ComplianceError(
      'NOT_A_FINDING',
      `the ${o.check} outcome of ${o.about} is compliant: nothing to record`,
    );
  }
  const body: FindingBody = {
    type: 'finding',
    about: o.about,
    check: o.check,
    outcome: o.outcome,
    path: capPath(o.path),
    explanation: sentence(o.explanation),
  };
  if (o.declaration !== undefined) body.declaration = o.declaration;
  return body;
}

/** The findings among outcomes (one per check already: evaluate gives at most one per check). */
export function findingsOf(outcomes: readonly Outcome[]): FindingBody[] {
  return outcomes.filter(isFinding).map(toFinding);
}
