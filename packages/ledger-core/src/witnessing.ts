// Witnessed checkpoints: the ledger asks the witnesses of its policy (c2sp.org/tlog-witness)
// to cosign each checkpoint, and publishes a checkpoint only when the policy's quorum
// (c2sp.org/tlog-policy) holds over the cosignatures it gathered. Witnesses are asked
// concurrently, each with one deadline for the whole exchange; the size each witness last
// cosigned is tracked so it gets the right consistency proof, and a 409 (the witness's state
// is not what the ledger thought) is answered once with a proof from the size it returns.
import { parseVerifierKey, toBase64 } from '@civic-ledger/crypto';
import { parseCheckpoint, parseNote, type NoteSignature, type NoteSigner } from '@civic-ledger/signed-note';
import {
  addSignatures,
  checkQuorum,
  describeShortfall,
  evaluateQuorum,
  isWitnessError,
  quorumShortfall,
  parseCosignatureVerifierKey,
  requestCosignature,
  type CheckQuorumOptions,
  type CosignatureVerifier,
  type Policy,
  type QuorumResult,
  type QuorumShortfall,
} from '@civic-ledger/witness';

export { describeShortfall, quorumShortfall, type QuorumShortfall } from '@civic-ledger/witness';

/** Default cadence of witnessed checkpoints. */
export const DEFAULT_WITNESS_INTERVAL_MS = 1000;
/** Default time each witness gets per checkpoint, a 409 retry included. */
export const DEFAULT_WITNESS_TIMEOUT_MS = 2000;

export type WitnessingErrorCode =
  /** A log line of the policy names another key than the ledger's own log key. */
  | 'POLICY_LOG_KEY'
  /** The policy has no log line for this ledger. */
  | 'POLICY_NO_LOG'
  /** A witness line without the URL the ledger would send checkpoints to. */
  | 'POLICY_WITNESS_URL'
  /** The policy has no quorum line. */
  | 'POLICY_NO_QUORUM'
  /** The log key's name is not the ledger's origin (witnesses know a log by its key name). */
  | 'LOG_KEY_ORIGIN'
  /** intervalMs / timeoutMs out of range. */
  | 'INVALID_OPTIONS'
  /** The cosignatures do not satisfy the policy's quorum (details name the groups). */
  | 'QUORUM_NOT_MET';

export class WitnessingError extends Error {
  override readonly name = 'WitnessingError';
  readonly code: WitnessingErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: WitnessingErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export interface WitnessingOptions {
  /** Which witnesses to ask (the URLs of its witness lines) and the quorum a checkpoint needs. */
  policy: Policy;
  /** Cadence of checkpoints sent to the witnesses (default 1000 ms). */
  intervalMs?: number;
  /** Time each witness gets per checkpoint, connection and a 409 retry included (default 2000 ms). */
  timeoutMs?: number;
  /** fetch to use for the witnesses (default the global one). */
  fetch?: typeof fetch;
  /** Called after every round (a checkpoint, published or not, or a catch-up); must not throw. */
  onRound?: (round: WitnessRound, status: WitnessingStatus) => void;
}

/** One witness's part in a round. */
export interface WitnessOutcome {
  /** The witness's name in the policy. */
  witness: string;
  url: string;
  /** cosigned: now; kept: cosigned this same checkpoint in an earlier round; failed. */
  result: 'cosigned' | 'kept' | 'failed';
  /** Why it failed: WITNESS_TIMEOUT, WITNESS_UNREACHABLE, WITNESS_REFUSED (httpStatus,
   * refusal), WITNESS_CONFLICT, WITNESS_AHEAD, WITNESS_BAD_RESPONSE, COSIGNATURE_INVALID,
   * MALFORMED_COSIGNATURE, PROOF_FAILED, WITNESS_ERROR, ABORTED (the ledger closed). */
  code?: string;
  message?: string;
  /** The witness's HTTP status, when it answered one. */
  httpStatus?: number;
  /** The witness's own refusal code (e.g. BAD_CONSISTENCY_PROOF), when its answer names one. */
  refusal?: string;
  /** The old size sent in the last request. */
  oldSize?: number;
  /** The size a 409 answer said the witness holds. */
  conflictSize?: number;
  /** Cosignature timestamp (POSIX seconds). */
  timestamp?: number;
  /** Time spent on this witness in this round. */
  ms: number;
}

/** A round: one checkpoint sent to the witnesses. */
export interface WitnessRound {
  /** checkpoint: a new checkpoint, published if the quorum holds; catch-up: the published
   * checkpoint sent to witnesses that have not cosigned it (nothing is republished). */
  kind: 'checkpoint' | 'catch-up';
  size: number;
  /** Base64 root hash. */
  rootHash: string;
  /** ms since the epoch. */
  startedAt: number;
  durationMs: number;
  witnesses: WitnessOutcome[];
  /** Policy names of the witnesses whose cosignatures the checkpoint carries (policy order). */
  signed: string[];
  quorum: boolean;
  published: boolean;
  /** The groups that do not hold (empty when the quorum holds). */
  shortfall: QuorumShortfall[];
}

export interface WitnessState {
  witness: string;
  url: string;
  /** The size this ledger believes the witness cosigned last (null: unknown yet). */
  knownSize: number | null;
  /** Its outcome in the latest round it was asked in. */
  last: WitnessOutcome | null;
  /** Failures in a row (0 after a cosignature). */
  failures: number;
}

export interface WitnessingStatus {
  /** The policy's quorum name. */
  quorum: string;
  intervalMs: number;
  timeoutMs: number;
  /** While the quorum holds, a checkpoint covering an entry is published within this delay. */
  checkpointWithinMs: number;
  witnesses: WitnessState[];
  /** The latest published checkpoint: its size, when, and whose cosignatures it carries. */
  published: { size: number; createdAt: number; witnesses: string[] } | null;
  /** The latest checkpoint round (catch-ups are in witnesses[].last). */
  latest: WitnessRound | null;
  /** Since when checkpoints have failed to reach the quorum (ms since the epoch), or null. */
  failingSince: number | null;
}

/**
 * The delay a receipt can promise while the quorum holds: a round starts at most
 * max(interval, timeout) after an append (a round in flight ends within the timeout) and
 * takes at most the timeout.
 */
export function witnessedCheckpointDelay(intervalMs: number, timeoutMs: number): number {
  return Math.max(intervalMs, timeoutMs) + timeoutMs;
}

/**
 * checkQuorum of @civic-ledger/witness, throwing QUORUM_NOT_MET with a message naming the
 * groups that fail (details: quorum, size, witnesses, shortfall). Other failures are the
 * witness package's WitnessError (UNKNOWN_LOG, LOG_SIGNATURE_MISSING, COSIGNATURE_INVALID...).
 */
export function requireCheckpointQuorum(
  note: string | Uint8Array,
  policy: Policy,
  options: CheckQuorumOptions = {},
): QuorumResult {
  const result = checkQuorum(note, policy, options);
  if (!result.ok) {
    const shortfall = quorumShortfall(policy, result.witnesses);
    throw new WitnessingError(
      'QUORUM_NOT_MET',
      `the checkpoint of size ${result.size} lacks the quorum "${policy.quorum}": ${describeShortfall(shortfall)}`,
      { quorum: policy.quorum, size: result.size, witnesses: result.witnesses, shortfall },
    );
  }
  return result;
}

/**
 * Checks that a policy fits the ledger that will follow it: a quorum line, every log line
 * names the ledger's own log key (`signers`: what signs its checkpoints) and at least one
 * does, the log key's name is the origin, and every witness has a URL. Throws
 * WitnessingError (details.line for a policy line).
 */
export function checkLedgerPolicy(
  policy: Policy,
  ledger: { origin: string; signers: NoteSigner | readonly NoteSigner[] },
): void {
  const signers: readonly NoteSigner[] = Array.isArray(ledger.signers)
    ? ledger.signers
    : [ledger.signers as NoteSigner];
  if (policy.quorum === undefined)
    throw new WitnessingError('POLICY_NO_QUORUM', 'the policy has no quorum line');
  const ours = signers.map((s) => ({
    name: s.name,
    keyId: s.keyId,
    text: (s as { verifierKey?: unknown }).verifierKey,
  }));
  if (!ours.some((s) => s.name === ledger.origin)) {
    throw new WitnessingError(
      'LOG_KEY_ORIGIN',
      `the log key is named ${ours.map((s) => JSON.stringify(s.name)).join(', ')}, not the origin "${ledger.origin}": witnesses know a log by its key name`,
      { origin: ledger.origin },
    );
  }
  if (policy.logs.length === 0) {
    throw new WitnessingError('POLICY_NO_LOG', 'the policy has no "log <verifier key>" line for this ledger');
  }
  for (const log of policy.logs) {
    const key = parseVerifierKey(log.verifierKey);
    const keyId = Buffer.from(key.keyId).readUInt32BE(0);
    const match = ours.find(
      (s) =>
        s.name === key.name &&
        s.keyId === keyId &&
        (typeof s.text !== 'string' ||
          parseVerifierKey(s.text).publicKey.every((b, i) => b === key.publicKey[i])),
    );
    if (match === undefined) {
      throw new WitnessingError(
        'POLICY_LOG_KEY',
        `policy line ${log.line}: the log key ${log.verifierKey} is not this ledger's log key${ours.some((s) => typeof s.text === 'string') ? ` (${ours.map((s) => s.text).join(', ')})` : ''}`,
        { line: log.line },
      );
    }
  }
  for (const w of policy.witnesses) {
    if (w.url === undefined) {
      throw new WitnessingError(
        'POLICY_WITNESS_URL',
        `policy line ${w.line}: witness "${w.name}" has no URL: the ledger sends checkpoints to it (witness <name> <vkey> <url>)`,
        { line: w.line },
      );
    }
  }
}

function checkOptions(options: WitnessingOptions): { intervalMs: number; timeoutMs: number } {
  const intervalMs = options.intervalMs ?? DEFAULT_WITNESS_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS;
  for (const [name, v] of [
    ['intervalMs', intervalMs],
    ['timeoutMs', timeoutMs],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 10) {
      throw new WitnessingError('INVALID_OPTIONS', `witnessing.${name}: an integer >= 10 (ms)`, {
        option: name,
      });
    }
  }
  return { intervalMs, timeoutMs };
}

/** A consistency proof between two sizes of the ledger's tree. */
export type ProofSource = (from: number, to: number) => Promise<Uint8Array[]>;

interface Tracked {
  witness: string;
  url: string;
  verifier: CosignatureVerifier;
  knownSize: number | undefined;
  last: WitnessOutcome | null;
  failures: number;
}

type Exchange =
  | { ok: true; signature: NoteSignature; timestamp: number; outcome: WitnessOutcome }
  | { ok: false; outcome: WitnessOutcome };

/** The refusal code in a witness's JSON error body, when there is one. */
function refusalOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The witnesses of a ledger: asks them to cosign checkpoints, keeps what it learns of each
 * (the size it cosigned last, its last outcome) and the status the service reports. Rounds
 * are not concurrent: the Checkpointer runs one at a time.
 */
export class WitnessCoordinator {
  readonly policy: Policy;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly #tracked: Tracked[];
  readonly #fetch: typeof fetch | undefined;
  readonly #now: () => number;
  readonly #onRound: WitnessingOptions['onRound'];
  #published: { size: number; createdAt: number; witnesses: string[] } | null = null;
  #latest: WitnessRound | null = null;
  #failingSince: number | null = null;
  /** Cosignatures gathered for a checkpoint that did not reach the quorum yet. */
  #pending:
    { text: string; signatures: Map<string, { signature: NoteSignature; timestamp: number }> } | undefined;

  constructor(options: WitnessingOptions, now: () => number = Date.now) {
    const { intervalMs, timeoutMs } = checkOptions(options);
    if (options.policy.quorum === undefined) {
      throw new WitnessingError('POLICY_NO_QUORUM', 'the policy has no quorum line');
    }
    this.policy = options.policy;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.#fetch = options.fetch;
    this.#now = now;
    this.#onRound = options.onRound;
    this.#tracked = options.policy.witnesses.map((w) => {
      if (w.url === undefined) {
        throw new WitnessingError(
          'POLICY_WITNESS_URL',
          `policy line ${w.line}: witness "${w.name}" has no URL`,
          {
            line: w.line,
          },
        );
      }
      return {
        witness: w.name,
        url: w.url,
        verifier: parseCosignatureVerifierKey(w.verifierKey),
        knownSize: undefined,
        last: null,
        failures: 0,
      };
    });
  }

  get checkpointWithinMs(): number {
    return witnessedCheckpointDelay(this.intervalMs, this.timeoutMs);
  }

  /** What the ledger published before this process (read from the store at start). */
  loadPublished(note: string, createdAt: number): void {
    let size: number;
    let witnesses: string[] = [];
    try {
      size = parseCheckpoint(parseNote(note).text).size;
    } catch {
      return;
    }
    try {
      witnesses = [...checkQuorum(note, this.policy).witnesses];
    } catch {
      // A checkpoint from before the witnesses (or under another policy): no cosignature counted.
    }
    this.#published = { size, createdAt, witnesses };
  }

  /** Whether some witness is not known to have cosigned the published checkpoint. */
  needsCatchUp(): boolean {
    const size = this.#published?.size;
    return size !== undefined && this.#tracked.some((t) => t.knownSize !== size);
  }

  /**
   * Sends a log-signed checkpoint to every witness concurrently and gathers their
   * cosignatures (keeping those of an earlier round over the same checkpoint). Returns the
   * note with the cosignature lines (policy order) when the quorum holds, else undefined.
   * The round is recorded; the caller stores a published note and then calls markPublished.
   */
  async cosign(
    note: string,
    proof: ProofSource,
    signal: AbortSignal,
  ): Promise<{ note: string | undefined; round: WitnessRound }> {
    const startedAt = this.#now();
    const started = performance.now();
    const text = parseNote(note).text;
    const cp = parseCheckpoint(text);
    if (this.#pending?.text !== text) this.#pending = { text, signatures: new Map() };
    const pending = this.#pending;
    const outcomes = await Promise.all(
      this.#tracked.map(async (t): Promise<WitnessOutcome> => {
        const kept = pending.signatures.get(t.witness);
        if (kept !== undefined) {
          return { witness: t.witness, url: t.url, result: 'kept', timestamp: kept.timestamp, ms: 0 };
        }
        const x = await this.#exchange(t, note, cp.size, proof, signal);
        if (x.ok) pending.signatures.set(t.witness, { signature: x.signature, timestamp: x.timestamp });
        return x.outcome;
      }),
    );
    const signed = this.#tracked.filter((t) => pending.signatures.has(t.witness)).map((t) => t.witness);
    const quorum = evaluateQuorum(this.policy, signed) && !signal.aborted;
    const round: WitnessRound = {
      kind: 'checkpoint',
      size: cp.size,
      rootHash: toBase64(cp.rootHash),
      startedAt,
      durationMs: Math.round(performance.now() - started),
      witnesses: outcomes,
      signed,
      quorum,
      published: false,
      shortfall: quorum ? [] : quorumShortfall(this.policy, signed),
    };
    // A round cut short by closing is not reported: it says nothing about the witnesses.
    if (signal.aborted) return { note: undefined, round };
    this.#latest = round;
    if (!quorum) {
      this.#failingSince ??= startedAt;
      this.#notify(round);
      return { note: undefined, round };
    }
    const cosigned = addSignatures(
      note,
      signed.map((w) => pending.signatures.get(w)!.signature),
    );
    return { note: cosigned, round };
  }

  /** The checkpoint of the round is stored: it is the published one now. */
  markPublished(round: WitnessRound, createdAt: number): void {
    round.published = true;
    this.#published = { size: round.size, createdAt, witnesses: [...round.signed] };
    this.#pending = undefined;
    this.#failingSince = null;
    this.#notify(round);
  }

  /** A round whose checkpoint could not be stored: it stays unpublished. */
  markUnpublished(round: WitnessRound): void {
    this.#failingSince ??= round.startedAt;
    this.#notify(round);
  }

  /**
   * Sends the published note to the witnesses not known to have cosigned it, so every
   * witness converges on the log's latest checkpoint. Their cosignatures are reported, not
   * added: a published checkpoint is never rewritten.
   */
  async catchUp(note: string, proof: ProofSource, signal: AbortSignal): Promise<WitnessRound | undefined> {
    const published = this.#published;
    if (published === null) return undefined;
    const behind = this.#tracked.filter((t) => t.knownSize !== published.size);
    if (behind.length === 0) return undefined;
    const startedAt = this.#now();
    const started = performance.now();
    const cp = parseCheckpoint(parseNote(note).text);
    const outcomes = await Promise.all(
      behind.map(async (t) => (await this.#exchange(t, note, cp.size, proof, signal)).outcome),
    );
    if (signal.aborted) return undefined;
    const round: WitnessRound = {
      kind: 'catch-up',
      size: cp.size,
      rootHash: toBase64(cp.rootHash),
      startedAt,
      durationMs: Math.round(performance.now() - started),
      witnesses: outcomes,
      signed: [...published.witnesses],
      quorum: evaluateQuorum(this.policy, published.witnesses),
      published: true,
      shortfall: [],
    };
    this.#notify(round);
    return round;
  }

  status(): WitnessingStatus {
    return {
      quorum: this.policy.quorum!,
      intervalMs: this.intervalMs,
      timeoutMs: this.timeoutMs,
      checkpointWithinMs: this.checkpointWithinMs,
      witnesses: this.#tracked.map((t) => ({
        witness: t.witness,
        url: t.url,
        knownSize: t.knownSize ?? null,
        last: t.last,
        failures: t.failures,
      })),
      published: this.#published && { ...this.#published, witnesses: [...this.#published.witnesses] },
      latest: this.#latest,
      failingSince: this.#failingSince,
    };
  }

  #notify(round: WitnessRound): void {
    try {
      this.#onRound?.(round, this.status());
    } catch {
      // A notification hook never fails a round.
    }
  }

  /**
   * One witness, one checkpoint: add-checkpoint from the size it is believed to hold; on 409
   * the size it answers is adopted and the request sent once more with the proof from there.
   * The whole exchange shares one deadline.
   */
  async #exchange(
    t: Tracked,
    note: string,
    size: number,
    proof: ProofSource,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const started = performance.now();
    const deadline = started + this.timeoutMs;
    const base = { witness: t.witness, url: t.url };
    // Unknown state: guess the published size (what a witness of the quorum cosigned last).
    let old = t.knownSize ?? this.#published?.size ?? 0;
    let conflictSize: number | undefined;
    const fail = (code: string, message: string, extra: Partial<WitnessOutcome> = {}): Exchange => {
      // The ledger is closing: nothing was learnt about the witness.
      if (signal.aborted) {
        return {
          ok: false,
          outcome: { ...base, result: 'failed', code: 'ABORTED', message: 'the ledger is closing', ms: 0 },
        };
      }
      const outcome: WitnessOutcome = {
        ...base,
        result: 'failed',
        code,
        message,
        oldSize: old,
        ...(conflictSize === undefined ? {} : { conflictSize }),
        ...extra,
        ms: Math.round(performance.now() - started),
      };
      t.last = outcome;
      t.failures++;
      return { ok: false, outcome };
    };
    for (let attempt = 0; ; attempt++) {
      if (old > size) {
        return fail(
          'WITNESS_AHEAD',
          `the witness cosigned size ${old}, more than this checkpoint's ${size}: it follows another history of this log (or the log was rolled back)`,
        );
      }
      let hashes: Uint8Array[];
      try {
        hashes = old === 0 || old === size ? [] : await proof(old, size);
      } catch (e) {
        return fail('PROOF_FAILED', `no consistency proof from ${old} to ${size}: ${(e as Error).message}`);
      }
      const left = Math.floor(deadline - performance.now());
      if (left <= 0) return fail('WITNESS_TIMEOUT', `no cosignature within ${this.timeoutMs} ms`);
      let answer;
      try {
        answer = await requestCosignature(t.url, old, hashes, note, {
          timeoutMs: left,
          witnessKey: t.verifier,
          signal,
          ...(this.#fetch === undefined ? {} : { fetch: this.#fetch }),
        });
      } catch (e) {
        if (!isWitnessError(e)) return fail('WITNESS_ERROR', (e as Error).message);
        const status = e.details['status'];
        const refusal = refusalOf(e.details['body']);
        const timedOut = e.code === 'WITNESS_TIMEOUT';
        return fail(e.code, timedOut ? `no cosignature within ${this.timeoutMs} ms` : e.message, {
          ...(typeof status === 'number' ? { httpStatus: status } : {}),
          ...(refusal === undefined ? {} : { refusal }),
        });
      }
      if (answer.status === 'cosigned') {
        t.knownSize = size;
        t.failures = 0;
        const outcome: WitnessOutcome = {
          ...base,
          result: 'cosigned',
          oldSize: old,
          ...(conflictSize === undefined ? {} : { conflictSize }),
          timestamp: answer.cosignature!.timestamp,
          ms: Math.round(performance.now() - started),
        };
        t.last = outcome;
        return {
          ok: true,
          signature: answer.signatures[0]!,
          timestamp: answer.cosignature!.timestamp,
          outcome,
        };
      }
      // 409: the witness's latest size is not the one sent. Adopt it; retry once from there.
      conflictSize = answer.latestSize;
      t.knownSize = answer.latestSize;
      if (attempt >= 1 || answer.latestSize === old) {
        return fail(
          'WITNESS_CONFLICT',
          answer.latestSize === size
            ? `the witness holds another checkpoint of size ${size} (a different history: a fork)`
            : `the witness answered 409 (its latest size ${answer.latestSize}) to old size ${old}`,
          { httpStatus: 409 },
        );
      }
      old = answer.latestSize;
    }
  }
}
