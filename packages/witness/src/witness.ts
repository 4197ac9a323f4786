// The witness core (c2sp.org/tlog-witness): add-checkpoint verifies a log-signed checkpoint
// against the latest one it cosigned for that origin, persists the new state atomically with
// the old-size check, and only then returns its cosignature. It never cosigns two
// checkpoints that are not provably consistent, refuses rollbacks, and raises an alarm with
// the evidence whenever a log-signed checkpoint contradicts its state.
import { sha256HexOfUtf8, toBase64, type SigningKey } from '@civic-ledger/crypto';
import { emptyRoot, verifyConsistency } from '@civic-ledger/merkle';
import {
  SignedNoteError,
  formatNote,
  openNote,
  parseCheckpoint,
  parseNote,
  verifierFromKeyText,
  type Checkpoint,
  type NoteSignature,
  type NoteVerifier,
} from '@civic-ledger/signed-note';
import { cosignerFromKey, type Cosigner } from './cosignature.ts';
import { REFUSAL_STATUS, WitnessError, type RefusalCode } from './errors.ts';
import type { Policy } from './policy.ts';
import { DEFAULT_MAX_REQUEST_BYTES, formatSignatureLines, parseAddCheckpointRequest } from './request.ts';
import {
  WitnessStore,
  type Alarm,
  type AlarmKind,
  type CheckpointEvidence,
  type WitnessState,
} from './store.ts';

/** A log the witness cosigns for: its origin and the note verifier key(s) it trusts for it. */
export interface KnownLog {
  readonly origin: string;
  /** Ed25519 note verifier keys (type 0x01); several during a key rotation. */
  readonly verifierKeys: readonly string[];
}

/** The known logs of a policy: its log lines grouped by origin (the key name). */
export function knownLogsFromPolicy(policy: Policy): KnownLog[] {
  const byOrigin = new Map<string, string[]>();
  for (const l of policy.logs) {
    const keys = byOrigin.get(l.origin);
    if (keys) keys.push(l.verifierKey);
    else byOrigin.set(l.origin, [l.verifierKey]);
  }
  return [...byOrigin].map(([origin, verifierKeys]) => ({ origin, verifierKeys }));
}

export interface WitnessHooks {
  /** Runs after every check passed, before the state is written (tests: interleave requests). */
  beforeCommit?(origin: string): void | Promise<void>;
  /** Runs after the state is written, before the answer (tests: a crash mid-protocol). */
  afterCommit?(origin: string): void | Promise<void>;
}

export interface WitnessOptions {
  /** The witness's Ed25519 key (a plain PRIVATE+KEY+ key file of @civic-ledger/crypto). */
  readonly key: SigningKey;
  /** The cosigner name on its signature lines (default: the key's name). */
  readonly name?: string;
  /** The logs it cosigns for: a list, or a policy's log lines. */
  readonly logs: readonly KnownLog[] | Policy;
  /** Its state: a store, or the path of its SQLite file (created if missing). */
  readonly store: WitnessStore | string;
  /** Clock in ms (default Date.now): cosignature timestamps, alarm times. */
  readonly now?: () => number;
  /** Called once per new alarm (evidence already persisted); exceptions are ignored. */
  readonly onAlarm?: (alarm: Alarm) => void;
  /** Largest request body accepted (default 64 KiB). */
  readonly maxRequestBytes?: number;
  readonly hooks?: WitnessHooks;
}

/** A cosigned checkpoint. `body` is the 200 answer: the cosignature line. */
export interface AddCheckpointSuccess {
  readonly ok: true;
  readonly status: 200;
  readonly origin: string;
  readonly oldSize: number;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly timestamp: number;
  readonly cosignature: NoteSignature;
  /** The response body: the cosignature line(s), each ending in a newline. */
  readonly body: string;
  /** The checkpoint as the witness now serves it: the log's signature(s) and its cosignature. */
  readonly note: string;
}

/** A refusal, with the status the protocol gives it. */
export interface AddCheckpointRefusal {
  readonly ok: false;
  readonly status: (typeof REFUSAL_STATUS)[RefusalCode];
  readonly code: RefusalCode;
  readonly message: string;
  readonly origin?: string;
  /** For 409: the size of the latest checkpoint the witness cosigned (the response body). */
  readonly latestSize?: number;
  /** The alarm this request raised, when it was new evidence. */
  readonly alarm?: Alarm;
}

export type AddCheckpointResult = AddCheckpointSuccess | AddCheckpointRefusal;

function refuse(
  code: RefusalCode,
  message: string,
  extra: { origin?: string; latestSize?: number; alarm?: Alarm | undefined } = {},
): AddCheckpointRefusal {
  const { alarm, ...rest } = extra;
  return { ok: false, status: REFUSAL_STATUS[code], code, message, ...rest, ...(alarm ? { alarm } : {}) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export class Witness {
  readonly cosigner: Cosigner;
  readonly store: WitnessStore;
  readonly #logs: ReadonlyMap<string, { keys: readonly string[]; verifiers: readonly NoteVerifier[] }>;
  readonly #now: () => number;
  readonly #onAlarm: ((alarm: Alarm) => void) | undefined;
  readonly #maxRequestBytes: number;
  readonly #hooks: WitnessHooks;
  readonly #ownsStore: boolean;

  private constructor(options: WitnessOptions, store: WitnessStore, ownsStore: boolean) {
    this.cosigner = cosignerFromKey(options.key, options.name === undefined ? {} : { name: options.name });
    this.store = store;
    this.#ownsStore = ownsStore;
    this.#now = options.now ?? Date.now;
    this.#onAlarm = options.onAlarm;
    this.#maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.#hooks = options.hooks ?? {};
    const list = Array.isArray(options.logs)
      ? (options.logs as readonly KnownLog[])
      : knownLogsFromPolicy(options.logs as Policy);
    const logs = new Map<string, { keys: string[]; verifiers: NoteVerifier[] }>();
    for (const log of list) {
      if (typeof log.origin !== 'string' || log.origin === '' || log.verifierKeys.length === 0) {
        throw new WitnessError('INVALID_CONFIG', 'every known log needs an origin and at least one key');
      }
      const entry = logs.get(log.origin) ?? { keys: [], verifiers: [] };
      for (const key of log.verifierKeys) {
        try {
          entry.verifiers.push(verifierFromKeyText(key));
        } catch (cause) {
          throw new WitnessError(
            'INVALID_CONFIG',
            `the key of log ${log.origin} is not an Ed25519 note verifier key: ${(cause as Error).message}`,
            { origin: log.origin },
            { cause },
          );
        }
        entry.keys.push(key);
      }
      logs.set(log.origin, entry);
    }
    if (logs.size === 0) throw new WitnessError('INVALID_CONFIG', 'a witness needs at least one log');
    this.#logs = logs;
  }

  /** A witness over `options.store` (opened from its path if a string). */
  static open(options: WitnessOptions): Witness {
    const owns = typeof options.store === 'string';
    const store = typeof options.store === 'string' ? WitnessStore.open(options.store) : options.store;
    try {
      return new Witness(options, store, owns);
    } catch (e) {
      if (owns) store.close();
      throw e;
    }
  }

  /** The cosigner name on its signature lines. */
  get name(): string {
    return this.cosigner.name;
  }

  /** Its cosignature verifier key (type 0x04): what a policy's witness line holds. */
  get verifierKey(): string {
    return this.cosigner.verifierKey;
  }

  /** The logs it cosigns for. */
  get logs(): KnownLog[] {
    return [...this.#logs].map(([origin, { keys }]) => ({ origin, verifierKeys: [...keys] }));
  }

  /** The latest checkpoint it cosigned for `origin`. */
  latest(origin: string): WitnessState | undefined {
    return this.store.get(origin);
  }

  /** The latest cosigned checkpoint of every origin it has cosigned for. */
  list(): WitnessState[] {
    return this.store.list();
  }

  alarms(options: { after?: number; limit?: number } = {}): Alarm[] {
    return this.store.alarms(options);
  }

  #raise(
    kind: AlarmKind,
    origin: string,
    message: string,
    latest: WitnessState,
    submitted: Checkpoint & { text: string },
    note: string,
    request: { oldSize: number; proof: readonly Uint8Array[] },
  ): Alarm | undefined {
    const latestEvidence: CheckpointEvidence = {
      size: latest.size,
      rootHash: toBase64(latest.rootHash),
      note: latest.note,
    };
    const submittedEvidence: CheckpointEvidence = {
      size: submitted.size,
      rootHash: toBase64(submitted.rootHash),
      note,
    };
    // One alarm per piece of evidence: replaying a request (with other proofs, or other
    // signature lines) records nothing new.
    const fingerprint = sha256HexOfUtf8(
      JSON.stringify([
        kind,
        origin,
        kind === 'ROLLBACK' ? '' : latestEvidence.rootHash,
        latest.size,
        submitted.text,
      ]),
    );
    const alarm = this.store.recordAlarm(
      {
        kind,
        origin,
        raisedAt: new Date(this.#now()).toISOString(),
        message,
        evidence: {
          latest: latestEvidence,
          submitted: submittedEvidence,
          oldSize: request.oldSize,
          proof: request.proof.map(toBase64),
        },
      },
      fingerprint,
    );
    if (alarm && this.#onAlarm) {
      try {
        this.#onAlarm(alarm);
      } catch {
        // An alarm sink that fails must not change the protocol's answer; the alarm is stored.
      }
    }
    return alarm;
  }

  /**
   * Handles an add-checkpoint request body. Checks, in the spec's order: the body's form
   * (400), the origin (404), the log signature (403), old size <= size (400), old size =
   * the latest cosigned size (409 with that size), the consistency proof (422), same size
   * means same root (409). Then persists the new state (compare-and-set on the state it
   * checked against: a concurrent winner makes this request 409) and cosigns.
   */
  async addCheckpoint(body: string | Uint8Array): Promise<AddCheckpointResult> {
    let request;
    let checkpoint: Checkpoint;
    let text: string;
    try {
      request = parseAddCheckpointRequest(body, { maxBytes: this.#maxRequestBytes });
      text = parseNote(request.checkpoint).text;
      checkpoint = parseCheckpoint(text);
    } catch (cause) {
      return refuse('MALFORMED_REQUEST', (cause as Error).message);
    }
    const { origin } = checkpoint;
    const log = this.#logs.get(origin);
    if (log === undefined)
      return refuse('UNKNOWN_ORIGIN', `unknown log origin ${JSON.stringify(origin)}`, { origin });

    let logSignatures: readonly NoteSignature[];
    try {
      logSignatures = openNote(request.checkpoint, log.verifiers).verifiedSignatures;
    } catch (cause) {
      if (cause instanceof SignedNoteError && cause.code === 'NO_VERIFIED_SIGNATURE') {
        return refuse('LOG_SIGNATURE_MISSING', `no valid signature of a known key of log ${origin}`, {
          origin,
        });
      }
      return refuse(
        'LOG_SIGNATURE_INVALID',
        `the log signature does not verify: ${(cause as Error).message}`,
        {
          origin,
        },
      );
    }

    // The checkpoint is the log's word from here on: anything that contradicts our state is
    // evidence, raised as an alarm whatever status the protocol answers with.
    const state = this.store.get(origin);
    const submitted = { ...checkpoint, text };
    const latestSize = state?.size ?? 0;
    let alarm: Alarm | undefined;
    if (
      state !== undefined &&
      checkpoint.size === state.size &&
      !sameBytes(checkpoint.rootHash, state.rootHash)
    ) {
      alarm = this.#raise(
        'FORK',
        origin,
        `log ${origin} signed two different roots for size ${state.size}`,
        state,
        submitted,
        request.checkpoint,
        request,
      );
    } else if (state !== undefined && checkpoint.size < state.size) {
      alarm = this.#raise(
        'ROLLBACK',
        origin,
        `checkpoint of size ${checkpoint.size} for log ${origin}, which the witness saw at size ${state.size}`,
        state,
        submitted,
        request.checkpoint,
        request,
      );
    }

    if (request.oldSize > checkpoint.size) {
      return refuse(
        'OLD_SIZE_TOO_LARGE',
        `old size ${request.oldSize} > checkpoint size ${checkpoint.size}`,
        {
          origin,
          alarm,
        },
      );
    }
    if (request.oldSize !== latestSize) {
      return refuse(
        'OLD_SIZE_MISMATCH',
        `old size ${request.oldSize} is not the latest size the witness cosigned (${latestSize})`,
        { origin, latestSize, alarm },
      );
    }

    // request.oldSize === latestSize from here.
    const badProof = (why: string): AddCheckpointRefusal => {
      const raised =
        state === undefined
          ? undefined
          : this.#raise(
              'BAD_PROOF',
              origin,
              `the consistency proof from size ${state.size} to ${checkpoint.size} does not verify: ${why}`,
              state,
              submitted,
              request.checkpoint,
              request,
            );
      return refuse('BAD_CONSISTENCY_PROOF', why, { origin, alarm: raised });
    };
    if (state === undefined) {
      if (request.proof.length !== 0) return badProof('the proof must be empty when the old size is 0');
      if (checkpoint.size === 0 && !sameBytes(checkpoint.rootHash, emptyRoot())) {
        return badProof('a tree of size 0 has the empty root');
      }
    } else if (checkpoint.size === state.size) {
      if (request.proof.length !== 0) return badProof('the proof must be empty between equal sizes');
      if (!sameBytes(checkpoint.rootHash, state.rootHash)) {
        return refuse(
          'ROOT_MISMATCH',
          `a different root for size ${state.size}, which the witness cosigned`,
          {
            origin,
            latestSize,
            alarm,
          },
        );
      }
    } else {
      try {
        verifyConsistency(state.size, checkpoint.size, request.proof, state.rootHash, checkpoint.rootHash);
      } catch (cause) {
        return badProof((cause as Error).message);
      }
    }

    await this.#hooks.beforeCommit?.(origin);
    // Cosignature timestamps never go back for one origin, even if the clock does: a later
    // cosignature dated earlier would contradict "the largest tree as of that time".
    const timestamp = Math.max(Math.floor(this.#now() / 1000), state?.cosignedAt ?? 0);
    const cosignature = this.cosigner.cosign(text, timestamp);
    const note = formatNote({ text, signatures: [...logSignatures, cosignature] });
    const written = this.store.compareAndSet(
      origin,
      state === undefined ? undefined : { size: state.size, rootHash: state.rootHash },
      {
        size: checkpoint.size,
        rootHash: checkpoint.rootHash,
        note,
        cosignedAt: timestamp,
        updatedAt: this.#now(),
      },
    );
    if (!written.ok) {
      // Another request moved the state since it was read: answer as if it came first.
      const now = written.current?.size ?? 0;
      return refuse(
        'OLD_SIZE_MISMATCH',
        `old size ${request.oldSize} is no longer the latest size (${now})`,
        {
          origin,
          latestSize: now,
        },
      );
    }
    await this.#hooks.afterCommit?.(origin);
    return {
      ok: true,
      status: 200,
      origin,
      oldSize: request.oldSize,
      size: checkpoint.size,
      rootHash: checkpoint.rootHash,
      timestamp,
      cosignature,
      body: formatSignatureLines([cosignature]),
      note,
    };
  }

  /** Closes the store if the witness opened it. */
  close(): void {
    if (this.#ownsStore) this.store.close();
  }
}
