// Telling an organization about every event that appears in its name, so a stolen key is
// noticed by the one party that knows which events it really signed. A notification is
// POSTed as JSON to the organization's webhook, retried with exponential backoff; those not
// delivered stay in the monitor's outbox (saved with its state) and are retried at the next
// poll, in ledger order. Receivers deduplicate with the `x-civic-ledger-delivery` header
// (the notification's id): a delivery may be repeated, never lost while the state is kept.
import { z } from 'zod';
import { alertSchema } from './alerts.ts';
import type { VerifiedEntry } from './replay.ts';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** An event in the organization's name (its emitter, or a `key` event about its keys). */
export const eventNotificationSchema = z.strictObject({
  kind: z.literal('event'),
  /** Stable delivery id: `<origin>#<index>#<org>`. */
  id: z.string(),
  org: z.string(),
  origin: z.string(),
  index: count,
  eventHash: hex64,
  leafHash: hex64,
  admitted: z.string(),
  emitter: z.string(),
  stream: z.string(),
  seq: z.number().int().min(1),
  type: z.string(),
  /** The key that signed it. */
  key: z.string(),
  event: z.record(z.string(), z.unknown()),
  /** Base64 Ed25519 signature of the event. */
  signature: z.string(),
  /** The verified checkpoint that covers it. */
  checkpoint: z.strictObject({ size: count, rootHash: hex64 }),
});

/** An alert that concerns the organization (its key used after revocation, an equivocation). */
export const alertNotificationSchema = z.strictObject({
  kind: z.literal('alert'),
  /** Stable delivery id: `<origin>#alert#<alert id>#<org>`. */
  id: z.string(),
  org: z.string(),
  origin: z.string(),
  alert: alertSchema,
});

export const notificationSchema = z.discriminatedUnion('kind', [
  eventNotificationSchema,
  alertNotificationSchema,
]);
export type OrgNotification = z.infer<typeof notificationSchema>;
export type EventNotification = z.infer<typeof eventNotificationSchema>;

export const outboxItemSchema = z.strictObject({
  url: z.string(),
  notification: notificationSchema,
  /** Attempts made so far (all rounds). */
  attempts: count,
  lastError: z.string().optional(),
});
export type OutboxItem = z.infer<typeof outboxItemSchema>;

export interface WebhookOptions {
  /** Attempts per delivery round (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 500). */
  baseDelayMs?: number;
  /** Longest delay between attempts in ms, also the cap on Retry-After (default 30 000). */
  maxDelayMs?: number;
  /** Per-request timeout in ms (default 10 000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export type DeliveryResult =
  | { ok: true; status: number; attempts: number }
  | { ok: false; permanent: boolean; status?: number; error: string; attempts: number };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Statuses worth retrying: the receiver may accept the same request later. */
function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (v === null) return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * POSTs one notification, retrying network failures, timeouts, 408, 425, 429 and 5xx with
 * exponential backoff (a Retry-After header is honoured up to maxDelayMs). Any 2xx is
 * delivered; another 4xx is a permanent refusal (not retried).
 */
export async function deliver(
  url: string,
  notification: OrgNotification,
  options: WebhookOptions = {},
): Promise<DeliveryResult> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? defaultSleep;
  const body = JSON.stringify(notification);
  let last: DeliveryResult = { ok: false, permanent: false, error: 'not attempted', attempts: 0 };
  for (let k = 0; k < attempts; k++) {
    let wait = Math.min(max, base * 2 ** k);
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-civic-ledger-delivery': notification.id,
          'user-agent': 'civic-ledger-monitor',
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      // The body is not used; read it so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, status: res.status, attempts: k + 1 };
      const permanent = !retryable(res.status);
      last = { ok: false, permanent, status: res.status, error: `HTTP ${res.status}`, attempts: k + 1 };
      if (permanent) return last;
      const ra = retryAfterMs(res);
      if (ra !== undefined) wait = Math.min(max, ra);
    } catch (e) {
      last = { ok: false, permanent: false, error: (e as Error).message, attempts: k + 1 };
    }
    if (k + 1 < attempts) await sleep(wait);
  }
  return last;
}

/** The organizations an entry is about: its emitter, and the subject of a key event. */
export function orgsOf(entry: VerifiedEntry): string[] {
  const e = entry.event as { emitter: string; type: string; subjectOrg?: unknown };
  const orgs = [e.emitter];
  if (e.type === 'key' && typeof e.subjectOrg === 'string' && e.subjectOrg !== e.emitter)
    orgs.push(e.subjectOrg);
  return orgs;
}

/** The notification of `entry` for `org`, as the monitor library delivers to a webhook. */
export function eventNotification(
  origin: string,
  org: string,
  e: VerifiedEntry,
  checkpoint: { size: number; rootHash: string },
): EventNotification {
  return {
    kind: 'event',
    id: `${origin}#${e.index}#${org}`,
    org,
    origin,
    index: e.index,
    eventHash: e.eventHash,
    leafHash: e.leafHash,
    admitted: e.admitted,
    emitter: e.event.emitter,
    stream: e.event.stream,
    seq: e.event.seq,
    type: e.event.type,
    key: e.event.key,
    event: JSON.parse(JSON.stringify(e.event)) as Record<string, unknown>,
    signature: e.signature,
    checkpoint,
  };
}
