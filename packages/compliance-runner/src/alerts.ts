// Findings as alerts on a bus: the in-process bus in standalone, NATS JetStream in distributed
// mode, on the ledger's `finding` subject (SUBJECTS.finding, or namespacedSubjects(ns).finding).
import { SUBJECTS, type Bus } from '@civic-ledger/bus';
import type { FindingRecord } from './findings-index.ts';

const encoder = new TextEncoder();

/**
 * An `alert` for ComplianceRunner that publishes each finding as JSON (the findings API's
 * record) with headers a subscriber can filter on without parsing: `index`, `check`,
 * `outcome`, `about` and `organization` (the emitter of the evaluated event, when known).
 * Keyed by the findings chain, so a grouped subscriber gets them in ledger order.
 */
export function busAlert(bus: Bus, subject: string = SUBJECTS.finding): (f: FindingRecord) => Promise<void> {
  return (f) =>
    bus.publish(subject, encoder.encode(JSON.stringify(f)), {
      key: `${f.emitter}/findings`,
      headers: {
        index: String(f.index),
        check: f.check,
        outcome: f.outcome,
        about: f.about,
        ...(f.evaluated ? { organization: f.evaluated.emitter } : {}),
      },
    });
}
