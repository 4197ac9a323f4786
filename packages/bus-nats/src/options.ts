// The options of NatsBus.connect, checked once with an error naming the field and the rule.
// (Checked by hand: zod is not among this package's dependencies.)
import type { PublishOptions } from '@civic-ledger/bus';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { BusNatsError } from './errors.ts';

export interface NatsBusOptions {
  /** One server URL or several (`nats://127.0.0.1:4222`). */
  servers: string | string[];
  /** The connection's name, shown by the server's monitoring (default `civic-ledger`). */
  name?: string;
  /** Put before every stream name the bus creates (default ''); letters, digits, `_`, `-`. */
  streamPrefix?: string;
  /** Streams the bus creates drop messages older than this (default 7 days; 0 = no limit). */
  maxAgeMs?: number;
  /** Streams the bus creates drop their oldest messages beyond this size (default -1 = no limit). */
  maxBytes?: number;
  /** Window in which a repeated message id (`msgId`) is stored once (default 2 min). */
  duplicateWindowMs?: number;
  /** Stream replicas on a cluster (default 1). */
  replicas?: number;
  /** How long a member may hold a message without acknowledging it before the server hands it to another (default 30 s). */
  ackWaitMs?: number;
  /** Unacknowledged messages a group may have out at once (default 1000); raise it with big batches. */
  maxAckPending?: number;
  /** Messages a `subscribe` member fetches ahead of its handler (default 100). */
  prefetch?: number;
  /** How long one pull request waits on the server before the next (default 5 s, at least 1 s). */
  pullExpiresMs?: number;
  /** A publish rejects when the server has not stored the message within this (default 5 s). */
  publishTimeoutMs?: number;
  /** Timeout of a JetStream API call: stream and consumer info, create, update (default 5 s). */
  apiTimeoutMs?: number;
  /** `close()` waits this long for running handlers (default 10 s); their messages are redelivered later. */
  closeTimeoutMs?: number;
  /**
   * A message id for JetStream deduplication (`Nats-Msg-Id`): a second publish with the same
   * id within `duplicateWindowMs` is acknowledged but not stored again. Default: none.
   */
  msgId?: (subject: string, data: Uint8Array, options: PublishOptions) => string | undefined;
  /** Errors that no caller awaits (a pull failing, a dead letter that could not be published). */
  onError?: (error: Error) => void;
  /** Anything else for the NATS client: credentials, TLS, reconnect timing. */
  connection?: Omit<NodeConnectionOptions, 'servers' | 'name'>;
}

export interface ResolvedOptions {
  servers: string[];
  name: string;
  streamPrefix: string;
  maxAgeMs: number;
  maxBytes: number;
  duplicateWindowMs: number;
  replicas: number;
  ackWaitMs: number;
  maxAckPending: number;
  prefetch: number;
  pullExpiresMs: number;
  publishTimeoutMs: number;
  apiTimeoutMs: number;
  closeTimeoutMs: number;
  msgId: NatsBusOptions['msgId'];
  onError: (error: Error) => void;
  connection: Omit<NodeConnectionOptions, 'servers' | 'name'>;
}

const DAY = 24 * 60 * 60 * 1000;

function invalid(field: string, rule: string): never {
  throw new BusNatsError('INVALID_OPTIONS', `${field}: ${rule}`);
}

function int(o: Record<string, unknown>, field: string, dflt: number, min: number): number {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    invalid(field, `must be an integer >= ${min}`);
  return v;
}

export function resolveOptions(options: NatsBusOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) invalid('options', 'must be an object');
  const o = options as unknown as Record<string, unknown>;
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (
    !Array.isArray(servers) ||
    servers.length === 0 ||
    servers.some((s) => typeof s !== 'string' || s === '')
  ) {
    invalid('servers', 'must be a server URL or a non-empty list of them');
  }
  const name = options.name ?? 'civic-ledger';
  if (typeof name !== 'string' || name === '') invalid('name', 'must be a non-empty string');
  const streamPrefix = options.streamPrefix ?? '';
  if (
    typeof streamPrefix !== 'string' ||
    !/^[A-Za-z0-9_-]*$/.test(streamPrefix) ||
    streamPrefix.length > 32
  ) {
    invalid('streamPrefix', 'must be at most 32 letters, digits, _ or -');
  }
  const maxAgeMs = int(o, 'maxAgeMs', 7 * DAY, 0);
  const maxBytes = options.maxBytes === -1 ? -1 : int(o, 'maxBytes', -1, 1);
  const duplicateWindowMs = int(o, 'duplicateWindowMs', 2 * 60 * 1000, 0);
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) invalid('duplicateWindowMs', 'must not exceed maxAgeMs');
  const pullExpiresMs = int(o, 'pullExpiresMs', 5000, 1000);
  for (const f of ['msgId', 'onError'] as const) {
    if (options[f] !== undefined && typeof options[f] !== 'function') invalid(f, 'must be a function');
  }
  if (
    options.connection !== undefined &&
    (typeof options.connection !== 'object' || options.connection === null)
  ) {
    invalid('connection', 'must be an object');
  }
  return {
    servers,
    name,
    streamPrefix,
    maxAgeMs,
    maxBytes,
    duplicateWindowMs,
    replicas: int(o, 'replicas', 1, 1),
    ackWaitMs: int(o, 'ackWaitMs', 30_000, 100),
    maxAckPending: int(o, 'maxAckPending', 1000, 1),
    prefetch: int(o, 'prefetch', 100, 1),
    pullExpiresMs,
    publishTimeoutMs: int(o, 'publishTimeoutMs', 5000, 1),
    apiTimeoutMs: int(o, 'apiTimeoutMs', 5000, 1),
    closeTimeoutMs: int(o, 'closeTimeoutMs', 10_000, 0),
    msgId: options.msgId,
    onError: options.onError ?? ((e) => console.warn(`[bus-nats] ${e.message}`)),
    connection: options.connection ?? {},
  };
}
