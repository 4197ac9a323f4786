// The compliance consumer. It follows a log through a small read interface (leaves, head,
// chain heads), feeds the compliance engine in ledger order, evaluates every appended event,
// and records each violation, undetermined and overdue outcome as a `finding` event on its
// own chain `<org>/findings`, signed with its registered key and handed to an injected
// `submit` (standalone: the ledger itself; distributed: the submissions topic). One finding
// per (event, check): on start it rebuilds the engine and the set of findings already in the
// log from the leaves, so evaluating again records nothing twice. A retention monitor raises
// `overdue` findings on a timer, without waiting for a movement.
//
// Order and idempotence: findings are submitted in the order of the events they are about,
// each only after every earlier one was confirmed, so the chain is never left with a gap,
// and "the last finding of our chain in the log" marks how far evaluation got: after a
// restart only events from there on are evaluated again. A submission that was not answered
// is sent again with the same signed bytes, so if it did land the ledger answers it as a
// duplicate instead of a second finding being written.
import { chainKey } from '@civic-ledger/chain';
import {
  ComplianceState,
  isFinding,
  toFinding,
  type DecideQuery,
  type Decision,
  type FindingBody,
  type Outcome,
} from '@civic-ledger/compliance';
import type { SigningKey } from '@civic-ledger/crypto';
import { signEvent, type DecodedEvent, type SignedEventWire } from '@civic-ledger/events';
import { GENESIS_PREV, orgId, streamId, type Event, type FindingEvent } from '@civic-ledger/schemas';
import type { LeafRecord, LedgerStore } from '@civic-ledger/storage';
import { z } from 'zod';
import { ComplianceRunnerError, refusalAction } from './errors.ts';
import {
  FindingsIndex,
  type EvaluatedEvent,
  type FindingRecord,
  type FindingsFilter,
  type FindingsPage,
} from './findings-index.ts';

/** What the runner reads of the log: a LedgerStore (SQLite, memory, MongoDB) has all of it. */
export type LogSource = Pick<LedgerStore, 'head' | 'getLeaves' | 'getLeavesByEventHash' | 'getChainHead'>;

/** A finding event as signed by the runner: the decoded event and its wire form. */
export type SignedFinding = DecodedEvent & { wire: SignedEventWire };

/** The answer to one submitted finding (a ledger SubmitResult fits). */
export type SubmitOutcome =
  { ok: true; duplicate?: boolean } | { ok: false; error: { code: string; message: string } };

/**
 * Records findings: one answer per event, in order. Standalone: `(e) => ledger.submitDecoded(e)`;
 * distributed: publish to the submissions topic and wait for the sequencer's outcomes.
 * Throwing counts as "not answered" for every event (they are sent again later).
 */
export type SubmitFindings = (events: readonly SignedFinding[]) => Promise<readonly SubmitOutcome[]>;

export interface ComplianceRunnerOptions {
  source: LogSource;
  /** The compliance service's registered key (`<org>/<label>`). */
  key: SigningKey;
  /** The compliance organization (default: the key's organization). */
  org?: string;
  /** The findings chain's stream (default `findings`). */
  stream?: string;
  submit: SubmitFindings;
  /** Told of each finding of this organization that appears in the log after start. */
  alert?: (finding: FindingRecord) => void | Promise<void>;
  /** Reads the log's head again every this many ms (default: only when told, `notify()`). */
  pollIntervalMs?: number;
  /** Runs the retention monitor every this many ms (default 60 000; 0: never on its own). */
  retentionIntervalMs?: number;
  /** The clock (ms since the epoch): finding times and the retention monitor's "now". */
  now?: () => number;
  /** Findings per submit call (default 100). */
  batchSize?: number;
  /** Findings waiting to be recorded before reading the log pauses (default 10 000). */
  maxQueue?: number;
  /** Leaves per read (default 2000). */
  pageSize?: number;
  /** First pause after a failed submission, doubled up to 30 s (default 500 ms). */
  retryDelayMs?: number;
  /** How long `close()` waits for queued findings to be recorded (default 10 s). */
  drainTimeoutMs?: number;
  /** Told of failures nobody awaits (a refused finding, a failed catch-up or alert). */
  onError?: (error: unknown, context: string) => void;
}

const optionsSchema = z.object({
  org: orgId.optional(),
  stream: streamId.optional(),
  pollIntervalMs: z.number().int().min(10).optional(),
  retentionIntervalMs: z.number().int().min(0).optional(),
  batchSize: z.number().int().min(1).max(1000).optional(),
  maxQueue: z.number().int().min(1).optional(),
  pageSize: z.number().int().min(1).max(100_000).optional(),
  retryDelayMs: z.number().int().min(1).optional(),
  drainTimeoutMs: z.number().int().min(0).optional(),
});

export interface ComplianceStatus {
  org: string;
  stream: string;
  /** Leaves of the log read into the engine. */
  evaluated: number;
  /** The log's size when last read. */
  head: number;
  /** Leaves not read yet. */
  lag: number;
  /** Events evaluated since start (after a restart: from where evaluation had got). */
  evaluations: number;
  findings: {
    /** Every finding in the log, by outcome (any compliance organization). */
    inLog: Record<string, number>;
    /** This organization's findings in the log, by outcome. */
    recorded: Record<string, number>;
    /** Waiting to be submitted, or submitted and not answered yet. */
    queued: number;
    /** Submitted and confirmed since start. */
    submitted: number;
    /** Confirmed but not read back from the log yet. */
    awaitingLog: number;
    /** Refused for good (a finding the ledger can never accept: see README). */
    refused: number;
  };
  submitFailures: number;
  retention: { intervalMs: number; lastRunAt: string | null; lastOverdue: number };
  lastError: { context: string; message: string; at: string } | null;
}

interface Item {
  key: string;
  body: FindingBody;
  /** Earliest claimed time (an overdue finding is no earlier than the "now" it was raised at). */
  notBefore: number;
  signed: SignedFinding | undefined;
}

interface Tip {
  seq: number;
  prev: string;
}

/** One finding per (event, check); an overdue finding is its own fact about a holding. */
const keyOf = (about: string, check: string, outcome: string) =>
  outcome === 'overdue' ? `${about} ${check} overdue` : `${about} ${check}`;

const decoder = new TextDecoder();
const INFO_CACHE = 50_000;
const MAX_RETRY_MS = 30_000;

function infoOf(event: Event, index: number): EvaluatedEvent {
  const e = event as Partial<{ recipient: string; dataset: { id: string }; declaration: unknown }>;
  const info: EvaluatedEvent = { index, type: event.type, emitter: event.emitter };
  if (typeof e.recipient === 'string') info.recipient = e.recipient;
  if (e.dataset !== undefined && typeof e.dataset === 'object') info.dataset = e.dataset.id;
  else if (event.type === 'declare') info.dataset = event.declaration.subject;
  return info;
}

export class ComplianceRunner {
  readonly org: string;
  readonly stream: string;
  readonly #o: ComplianceRunnerOptions;
  readonly #now: () => number;
  readonly #batchSize: number;
  readonly #maxQueue: number;
  readonly #pageSize: number;
  readonly #retryDelayMs: number;
  readonly #retentionMs: number;
  readonly #state = new ComplianceState();
  readonly #index = new FindingsIndex();
  readonly #info = new Map<string, EvaluatedEvent>();
  /** This organization's findings read from the log, and those confirmed but not read yet. */
  readonly #recorded = new Set<string>();
  readonly #confirmed = new Set<string>();
  readonly #queue: Item[] = [];
  readonly #queuedKeys = new Set<string>();
  readonly #ownCounts = new Map<string, number>();
  #size = 0;
  #head = 0;
  #evaluations = 0;
  #submitted = 0;
  #refused = 0;
  #submitFailures = 0;
  /** Ledger index of the event the last own evaluation finding is about (-1: none). */
  #frontier = -1;
  #live = false;
  #closed = false;
  #stopped = false;
  #confirmedTip: Tip = { seq: 0, prev: GENESIS_PREV };
  #signedTip: Tip = { seq: 0, prev: GENESIS_PREV };
  #queuedRun: Promise<number> | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #pumping: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #timers: NodeJS.Timeout[] = [];
  #retentionRunning: Promise<number> | undefined;
  #lastRetention: { at: string; overdue: number } | undefined;
  #lastError: ComplianceStatus['lastError'] = null;

  private constructor(options: ComplianceRunnerOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: `/${i.path.join('/')}`, rule: i.message }));
      throw new ComplianceRunnerError('OPTIONS_INVALID', `${issues[0]!.path}: ${issues[0]!.rule}`, {
        issues,
      });
    }
    const org = options.org ?? options.key.name.split('/')[0]!;
    if (!options.key.name.startsWith(`${org}/`)) {
      throw new ComplianceRunnerError('OPTIONS_INVALID', `/key: ${options.key.name} is not a key of ${org}`, {
        issues: [{ path: '/key', rule: `a key of ${org}` }],
      });
    }
    this.#o = options;
    this.org = org;
    this.stream = options.stream ?? 'findings';
    this.#now = options.now ?? Date.now;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxQueue = options.maxQueue ?? 10_000;
    this.#pageSize = options.pageSize ?? 2000;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#retentionMs = options.retentionIntervalMs ?? 60_000;
  }

  /**
   * Rebuilds the engine and the findings index from every leaf of the log, reads where the
   * findings chain stands, evaluates the events from where evaluation had got (all of them
   * on a first start) and queues what is not recorded yet; then starts the timers.
   */
  static async open(options: ComplianceRunnerOptions): Promise<ComplianceRunner> {
    const runner = new ComplianceRunner(options);
    await runner.#start();
    return runner;
  }

  async #start(): Promise<void> {
    await this.#refreshChain();
    await this.#read(false);
    const from = Math.max(0, this.#frontier);
    for (let i = from; i < this.#size && !this.#closed; i += this.#pageSize) {
      const records = await this.#o.source.getLeaves(i, Math.min(this.#size, i + this.#pageSize));
      for (const r of records) {
        if (this.#queue.length >= this.#maxQueue) await this.#space();
        this.#evaluate(r.eventHash);
      }
    }
    this.#live = true;
    if (this.#o.pollIntervalMs !== undefined) {
      this.#timers.push(setInterval(() => this.notify(), this.#o.pollIntervalMs));
    }
    if (this.#retentionMs > 0) {
      this.#timers.push(
        setInterval(
          () => void this.runRetention().catch((e) => this.#report(e, 'retention')),
          this.#retentionMs,
        ),
      );
    }
    for (const t of this.#timers) t.unref();
    // Findings confirmed while starting are in the log: read them back (and alert).
    this.notify();
  }

  /** Leaves read into the engine (the tree size the answers stand for). */
  get size(): number {
    return this.#size;
  }

  /** The engine (read-only use: `decide`, `overdue`, `evaluate`). */
  get state(): ComplianceState {
    return this.#state;
  }

  /**
   * Reads the leaves appended since, evaluates each, queues its findings; resolves with the
   * size read. Runs one at a time; a call during a run shares one more run.
   */
  catchUp(): Promise<number> {
    if (this.#queuedRun) return this.#queuedRun;
    const run = this.#tail
      .catch(() => undefined)
      .then(async () => {
        this.#queuedRun = undefined;
        await this.#read(true);
        return this.#size;
      });
    this.#queuedRun = run;
    this.#tail = run;
    return run;
  }

  /** A catch-up in the background (the ledger's append hook, a timer, a notification). */
  notify(): void {
    if (this.#closed) return;
    this.catchUp().catch((e: unknown) => this.#report(e, 'catch-up'));
  }

  /**
   * The retention monitor: reads up to the head, then queues an `overdue` finding for every
   * holding past its retention with no delete that has none yet. Resolves with how many it
   * queued. `now` defaults to the clock.
   */
  runRetention(now: number = this.#now()): Promise<number> {
    if (this.#retentionRunning) return this.#retentionRunning;
    const run = (async () => {
      // Judged only on the whole log: a delete not read yet would make a false overdue.
      await this.catchUp();
      const outcomes = this.#state.overdue(now);
      let queued = 0;
      for (const o of outcomes) {
        if (this.#queue.length >= this.#maxQueue) break; // the next run picks the rest up
        if (this.#enqueue(o, now)) queued++;
      }
      this.#lastRetention = { at: new Date(now).toISOString(), overdue: outcomes.length };
      return queued;
    })().finally(() => (this.#retentionRunning = undefined));
    this.#retentionRunning = run;
    return run;
  }

  /** Resolves once every finding queued so far is confirmed or dropped (tests, shutdown). */
  async settled(): Promise<void> {
    while ((this.#queue.length > 0 || this.#pumping) && !this.#stopped) {
      this.#kick();
      await this.#pumping;
    }
  }

  /**
   * May `org` use (or transfer) a dataset for a purpose now? The engine's decision on what
   * it has read (`asOf`), writing nothing. Throws the engine's QUERY_INVALID.
   */
  decide(query: DecideQuery): Decision & { asOf: number } {
    return { ...this.#state.decide(query), asOf: this.#size };
  }

  /** Findings in the log, newest first (see FindingsIndex.query). */
  findings(filter: FindingsFilter, page: { limit: number; before?: number }): FindingsPage {
    return this.#index.query(filter, page);
  }

  status(): ComplianceStatus {
    return {
      org: this.org,
      stream: this.stream,
      evaluated: this.#size,
      head: Math.max(this.#head, this.#size),
      lag: Math.max(0, this.#head - this.#size),
      evaluations: this.#evaluations,
      findings: {
        inLog: this.#index.counts(),
        recorded: Object.fromEntries(this.#ownCounts),
        queued: this.#queue.length,
        submitted: this.#submitted,
        awaitingLog: this.#confirmed.size,
        refused: this.#refused,
      },
      submitFailures: this.#submitFailures,
      retention: {
        intervalMs: this.#retentionMs,
        lastRunAt: this.#lastRetention?.at ?? null,
        lastOverdue: this.#lastRetention?.overdue ?? 0,
      },
      lastError: this.#lastError,
    };
  }

  /** The runner's figures in Prometheus text format (appended to a service's /metrics). */
  metricsText(): string {
    const s = this.status();
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) out.push(`${name}${labels} ${v}`);
    };
    const byOutcome = (r: Record<string, number>): [string, number][] =>
      ['violation', 'undetermined', 'overdue'].map((o) => [`{outcome="${o}"}`, r[o] ?? 0]);
    metric(
      'civic_ledger_compliance_evaluated_size',
      'gauge',
      'Leaves of the log read into the compliance engine.',
      [['', s.evaluated]],
    );
    metric('civic_ledger_compliance_lag_entries', 'gauge', 'Leaves of the log not read yet.', [['', s.lag]]);
    metric('civic_ledger_compliance_evaluations_total', 'counter', 'Events evaluated since start.', [
      ['', s.evaluations],
    ]);
    metric(
      'civic_ledger_compliance_findings_recorded',
      'gauge',
      "This compliance organization's findings in the log, by outcome.",
      byOutcome(s.findings.recorded),
    );
    metric('civic_ledger_compliance_findings_queued', 'gauge', 'Findings waiting to be recorded.', [
      ['', s.findings.queued],
    ]);
    metric(
      'civic_ledger_compliance_findings_submitted_total',
      'counter',
      'Findings submitted and confirmed.',
      [['', s.findings.submitted]],
    );
    metric('civic_ledger_compliance_findings_refused_total', 'counter', 'Findings refused for good.', [
      ['', s.findings.refused],
    ]);
    metric(
      'civic_ledger_compliance_submit_failures_total',
      'counter',
      'Submissions that failed and were retried.',
      [['', s.submitFailures]],
    );
    return `${out.join('\n')}\n`;
  }

  /**
   * Stops reading and the timers, waits up to `drainTimeoutMs` for queued findings to be
   * recorded (the rest are evaluated again after a restart), then stops.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#releaseSpace();
    await this.#tail.catch(() => undefined);
    await this.#retentionRunning?.catch(() => undefined);
    const drained = this.settled();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      drained,
      new Promise<void>((r) => (timer = setTimeout(r, this.#o.drainTimeoutMs ?? 10_000))),
    ]);
    clearTimeout(timer);
    this.#stopped = true;
    this.#wake?.();
    await this.#pumping;
  }

  // ---- reading the log

  async #read(evaluate: boolean): Promise<void> {
    const target = (await this.#o.source.head()).size;
    this.#head = Math.max(this.#head, target);
    while (this.#size < target && !this.#closed) {
      const from = this.#size;
      const records = await this.#o.source.getLeaves(from, Math.min(target, from + this.#pageSize));
      if (records.length === 0) break;
      const found: { record: LeafRecord; event: FindingEvent; admitted: string }[] = [];
      for (const r of records) {
        if (r.index < this.#size) continue;
        let leaf: { admitted: string; event: Event };
        try {
          leaf = JSON.parse(decoder.decode(r.leaf)) as { admitted: string; event: Event };
          this.#state.add(leaf.event, r.index, r.eventHash);
        } catch (e) {
          // A leaf the ledger accepted but the engine cannot take: reported, never fatal.
          this.#size = r.index + 1;
          this.#report(e, `leaf ${r.index}`);
          continue;
        }
        this.#size = r.index + 1;
        const event = leaf.event;
        if (event.type === 'finding') {
          found.push({ record: r, event, admitted: leaf.admitted });
          if (event.emitter === this.org) {
            const key = keyOf(event.about, event.check, event.outcome);
            this.#recorded.add(key);
            this.#confirmed.delete(key);
          }
        } else if (event.type !== 'key' && event.type !== 'register' && event.type !== 'attest') {
          this.#remember(r.eventHash, infoOf(event, r.index));
        }
        if (evaluate) {
          if (this.#queue.length >= this.#maxQueue) await this.#space();
          this.#evaluate(r.eventHash);
        }
      }
      if (found.length > 0) await this.#indexFindings(found);
    }
  }

  #evaluate(hash: string): void {
    let outcomes: Outcome[];
    try {
      outcomes = this.#state.evaluate(hash);
    } catch (e) {
      this.#report(e, `evaluating ${hash}`);
      return;
    }
    this.#evaluations++;
    for (const o of outcomes) if (isFinding(o)) this.#enqueue(o, 0);
  }

  #remember(hash: string, info: EvaluatedEvent): void {
    if (this.#info.size >= INFO_CACHE) this.#info.clear();
    this.#info.set(hash, info);
  }

  /** What the log says of these events: from the cache, the rest from the store in batches. */
  async #lookup(hashes: readonly string[]): Promise<Map<string, EvaluatedEvent>> {
    const out = new Map<string, EvaluatedEvent>();
    const missing: string[] = [];
    for (const h of hashes) {
      const known = this.#info.get(h);
      if (known) out.set(h, known);
      else missing.push(h);
    }
    for (let i = 0; i < missing.length; i += 1000) {
      for (const r of await this.#o.source.getLeavesByEventHash(missing.slice(i, i + 1000))) {
        const { event } = JSON.parse(decoder.decode(r.leaf)) as { event: Event };
        const info = infoOf(event, r.index);
        this.#remember(r.eventHash, info);
        out.set(r.eventHash, info);
      }
    }
    return out;
  }

  async #indexFindings(found: { record: LeafRecord; event: FindingEvent; admitted: string }[]) {
    const wanted = new Set<string>();
    for (const { event } of found) {
      wanted.add(event.about);
      for (const h of event.path) wanted.add(h);
    }
    const info = await this.#lookup([...wanted]);
    for (const { record, event, admitted } of found) {
      const evaluated = info.get(event.about) ?? null;
      const orgs = new Set<string>();
      for (const h of [event.about, ...event.path]) {
        const i = info.get(h);
        if (i === undefined) continue;
        orgs.add(i.emitter);
        if (i.recipient !== undefined) orgs.add(i.recipient);
      }
      const f: FindingRecord = {
        event: record.eventHash,
        index: record.index,
        admitted,
        emitter: event.emitter,
        time: event.time,
        about: event.about,
        check: event.check,
        outcome: event.outcome,
        ...(event.declaration === undefined ? {} : { declaration: event.declaration }),
        path: event.path,
        explanation: event.explanation,
        evaluated,
        organizations: [...orgs].sort(),
      };
      this.#index.add(f);
      if (event.emitter !== this.org) continue;
      this.#ownCounts.set(event.outcome, (this.#ownCounts.get(event.outcome) ?? 0) + 1);
      if (event.outcome !== 'overdue' && evaluated !== null) this.#frontier = evaluated.index;
      const alert = this.#o.alert;
      if (this.#live && alert) {
        void Promise.resolve()
          .then(() => alert(f))
          .catch((e: unknown) => this.#report(e, 'alert'));
      }
    }
  }

  // ---- recording findings

  /** Queues an outcome's finding unless it is recorded, confirmed or queued already. */
  #enqueue(o: Outcome, notBefore: number): boolean {
    const key = keyOf(o.about, o.check, o.outcome);
    if (this.#recorded.has(key) || this.#confirmed.has(key) || this.#queuedKeys.has(key)) return false;
    this.#queue.push({ key, body: toFinding(o), notBefore, signed: undefined });
    this.#queuedKeys.add(key);
    this.#kick();
    return true;
  }

  #kick(): void {
    if (this.#pumping || this.#stopped || this.#queue.length === 0) return;
    // Started on a later tick, so the findings of the events read in one go share a batch.
    this.#pumping = Promise.resolve()
      .then(() => this.#pump())
      .catch((e: unknown) => this.#report(e, 'submit'))
      .finally(() => {
        this.#pumping = undefined;
        // Work queued while the last round was finishing.
        if (this.#queue.length > 0 && !this.#stopped) this.#kick();
      });
  }

  #sign(item: Item): SignedFinding {
    const tip = this.#signedTip;
    const signed = signEvent(
      {
        v: 1,
        emitter: this.org,
        stream: this.stream,
        seq: tip.seq + 1,
        prev: tip.prev,
        time: new Date(Math.max(this.#now(), item.notBefore)).toISOString(),
        key: this.#o.key.name,
        ...item.body,
      },
      this.#o.key,
    );
    this.#signedTip = { seq: tip.seq + 1, prev: signed.hash };
    return signed;
  }

  /** Forgets the signatures of everything not confirmed: it is signed again from the confirmed tip. */
  #unsign(): void {
    for (const item of this.#queue) item.signed = undefined;
    this.#signedTip = this.#confirmedTip;
  }

  async #refreshChain(): Promise<void> {
    const head = await this.#o.source.getChainHead(chainKey(this.org, this.stream));
    this.#confirmedTip = head ? { seq: head.seq, prev: head.eventHash } : { seq: 0, prev: GENESIS_PREV };
    this.#signedTip = this.#confirmedTip;
  }

  async #pump(): Promise<void> {
    let delay = this.#retryDelayMs;
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.slice(0, this.#batchSize);
      for (const item of batch) item.signed ??= this.#sign(item);
      let results: readonly SubmitOutcome[] = [];
      let thrown: unknown;
      try {
        results = await this.#o.submit(batch.map((i) => i.signed!));
      } catch (e) {
        thrown = e;
      }
      let done = 0;
      while (done < batch.length && results[done]?.ok === true) {
        this.#confirm(batch[done]!);
        done++;
      }
      if (done > 0) {
        this.#queue.splice(0, done);
        if (this.#queue.length < this.#maxQueue) this.#releaseSpace();
        // The log grew by what was confirmed: read it back without waiting for a hook or timer.
        if (this.#live) this.notify();
      }
      if (done === batch.length) {
        delay = this.#retryDelayMs;
        continue;
      }
      const r = results[done];
      const error =
        r !== undefined && !r.ok
          ? r.error
          : {
              code: 'SUBMIT_FAILED',
              message: thrown instanceof Error ? thrown.message : 'no answer for this finding',
            };
      this.#submitFailures++;
      const failed = batch[done]!;
      const action = refusalAction(error.code);
      this.#report(
        Object.assign(
          new Error(
            `finding about ${failed.body.about} (${failed.body.check}): ${error.code}: ${error.message}`,
          ),
          {
            code: error.code,
            cause: thrown,
          },
        ),
        `submit (${action})`,
      );
      if (action === 'drop') {
        this.#queue.shift();
        this.#queuedKeys.delete(failed.key);
        this.#refused++;
        this.#unsign();
        continue;
      }
      if (action === 'resign') {
        // The chain moved: where does it stand, and did another writer record these already?
        await this.#refreshChain().catch((e: unknown) => this.#report(e, 'chain head'));
        this.#unsign();
        for (let i = this.#queue.length - 1; i >= 0; i--) {
          const item = this.#queue[i]!;
          if (!this.#recorded.has(item.key)) continue;
          this.#queue.splice(i, 1);
          this.#queuedKeys.delete(item.key);
        }
      }
      await this.#sleep(delay);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }

  #confirm(item: Item): void {
    const s = item.signed!;
    this.#confirmedTip = { seq: s.event.seq, prev: s.hash };
    this.#queuedKeys.delete(item.key);
    if (!this.#recorded.has(item.key)) this.#confirmed.add(item.key);
    this.#submitted++;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #space(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#spaceWaiters.push(resolve));
  }

  #releaseSpace(): void {
    for (const w of this.#spaceWaiters.splice(0)) w();
  }

  #report(error: unknown, context: string): void {
    this.#lastError = {
      context,
      message: error instanceof Error ? error.message : String(error),
      at: new Date(this.#now()).toISOString(),
    };
    this.#o.onError?.(error, context);
  }
}
