// What the monitor reports: an alert with a stable code, a severity, a message for people
// and the evidence a third party needs to check the claim without trusting the monitor
// (signed checkpoints, leaves, signed events, proofs, receipts). Printed as JSON lines.
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import { z } from 'zod';

export const ALERT_CODES = [
  'ENTRY_INVALID',
  'CHAIN_BREAK',
  'REVOKED_KEY_USED',
  'EQUIVOCATION',
  'CHECKPOINT_INVALID',
  'ROOT_MISMATCH',
  'LOG_INCONSISTENT',
  'SPLIT_VIEW',
  'RECEIPT_NOT_HONOURED',
  'PROOF_INVALID',
  'WITNESS_INVALID',
  'QUORUM_NOT_MET',
  'UNREACHABLE',
  'NOTIFY_FAILED',
] as const;
export type AlertCode = (typeof ALERT_CODES)[number];

export type Severity = 'critical' | 'warning';

/**
 * critical: the log (or an emitter) did something an honest one never does, and the
 * evidence shows it. warning: the monitor could not check something (a server down, a
 * witness serving junk, a webhook refusing), or a policy expectation is not met.
 */
export const SEVERITY: Record<AlertCode, Severity> = {
  ENTRY_INVALID: 'critical',
  CHAIN_BREAK: 'critical',
  REVOKED_KEY_USED: 'critical',
  EQUIVOCATION: 'critical',
  CHECKPOINT_INVALID: 'critical',
  ROOT_MISMATCH: 'critical',
  LOG_INCONSISTENT: 'critical',
  SPLIT_VIEW: 'critical',
  RECEIPT_NOT_HONOURED: 'critical',
  PROOF_INVALID: 'critical',
  WITNESS_INVALID: 'warning',
  QUORUM_NOT_MET: 'warning',
  UNREACHABLE: 'warning',
  NOTIFY_FAILED: 'warning',
};

export const alertSchema = z.object({
  /** Stable for one finding: the same problem seen again has the same id (hex, 16 digits). */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  code: z.enum(ALERT_CODES),
  severity: z.enum(['critical', 'warning']),
  message: z.string(),
  /** The log's origin. */
  origin: z.string(),
  /** When the monitor raised it (RFC 3339). */
  time: z.string(),
  evidence: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof alertSchema>;

/**
 * An alert. `key` identifies the finding (e.g. the index and leaf hash of a bad entry), so
 * the same finding seen at every poll keeps its id and is reported once per process.
 */
export function makeAlert(
  code: AlertCode,
  origin: string,
  key: string,
  message: string,
  evidence: Record<string, unknown>,
  now: () => number = Date.now,
): Alert {
  return {
    id: sha256HexOfUtf8(`${code}\n${origin}\n${key}`).slice(0, 16),
    code,
    severity: SEVERITY[code],
    message,
    origin,
    time: new Date(now()).toISOString(),
    evidence,
  };
}

/** One JSON line (what the CLI prints on stdout). */
export function formatAlert(alert: Alert): string {
  return `${JSON.stringify(alert)}\n`;
}
