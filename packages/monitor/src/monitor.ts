// The monitor: follows one log from its saved state and raises alerts with evidence.
//
// Each poll: the ledger's latest checkpoint (pinned log key) → consistent with the last
// verified one (a consistency proof) → every new leaf checked (replay.ts), in order, up to
// each checkpoint the log signed since, whose root must be the leaves' root → state saved →
// each witness's latest cosigned checkpoint compared with the ledger's (a split view is two
// signed trees no consistency proof joins) → receipts checked against the verified tree →
// organizations notified of the events in their name. Evidence given from outside (bundles,
// signed events) is compared with the log by checkEvidence: two signed events at one
// (emitter, stream, seq) are an equivocation.
import { toBase64, toHex, parseVerifierKey } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { Registry } from '@civic-ledger/ledger-core';
import { hashLeaf, isValidInclusion } from '@civic-ledger/merkle';
import { verifyReceipt } from '@civic-ledger/receipts';
import type { LogKeyWindow } from '@civic-ledger/verifier';
import { checkQuorum, type Policy } from '@civic-ledger/witness';
import { makeAlert, type Alert, type AlertCode } from './alerts.ts';
import {
  judgeConsistency,
  openLogCheckpoint,
  type LogCheckpoint,
  type PinnedLogKeys,
} from './checkpoints.ts';
import { MonitorError, isMonitorError } from './errors.ts';
import {
  checkClaimSignature,
  evidenceFromJson,
  readEvidence,
  type ClaimedEvent,
  type ClaimedReceipt,
  type EvidenceItem,
} from './evidence.ts';
import { LedgerClient, fetchWitnessCheckpoint, type HttpOptions } from './http.ts';
import {
  deliver,
  eventNotification,
  orgsOf,
  type OrgNotification,
  type OutboxItem,
  type WebhookOptions,
} from './notify.ts';
import { LogReplay, type EntryFailure, type VerifiedEntry } from './replay.ts';
import { initialState, loadState, saveState, type MonitorState } from './state.ts';

/** An organization to notify of every event in its name. */
export interface WatchedOrg {
  org: string;
  /** Webhook URL the notifications are POSTed to (optional: the 'notification' callback always fires). */
  url?: string;
}

export interface MonitorOptions {
  /** The ledger's base URL (the /v1 API of services/standalone or services/query). */
  ledgerUrl: string;
  /** The log's verifier key, pinned out of band. Exactly one of logKey, logKeys. */
  logKey?: string;
  /**
   * A rotated log's keys, oldest first, each with its validity window over tree sizes
   * (inclusive; the verifier's LogKeyWindow): a checkpoint of size n must open with a key
   * whose window holds n, a receipt for index i must be signed by a key whose window holds i.
   */
  logKeys?: readonly LogKeyWindow[];
  /** The log's origin (default: the (last) log key's name). */
  origin?: string;
  /** Pin the operator's first key too (else taken from leaf 0). */
  operatorKey?: string;
  /** Witness URLs (submission prefixes of tlog-witness services) whose checkpoints are compared. */
  witnesses?: readonly string[];
  /**
   * A tlog-policy: its witnesses with URLs are compared too, and their cosignature on what
   * they serve is checked; with `requireQuorum`, the ledger's checkpoint must carry the quorum.
   */
  policy?: Policy;
  requireQuorum?: boolean;
  /** State file: read at construction, written (atomically) after each poll that changed it. */
  statePath?: string;
  /** Initial state when there is no state file (default: nothing seen). */
  state?: MonitorState;
  /** Organizations to notify. */
  orgs?: readonly WatchedOrg[];
  /** Receipts to check at every poll until each is honoured. */
  receipts?: readonly ClaimedReceipt[];
  /** Time after a receipt's promised checkpoint before its absence is an alert (default 60 s). */
  receiptGraceMs?: number;
  /** Requests to the ledger (timeout, headers such as a bearer token, fetch); witnesses get the same minus the headers. */
  http?: HttpOptions;
  webhook?: WebhookOptions;
  /** Entries per request (1..1000, default 1000). */
  pageSize?: number;
  /** Chain positions kept in memory for equivocation checks (default 200 000). */
  maxSeen?: number;
  /** Most notifications kept undelivered (default 10 000; the oldest are dropped with an alert). */
  maxOutbox?: number;
  /** Delay between polls of run() in ms (default 10 000). */
  intervalMs?: number;
  /** run(): also wake up on the ledger's live checkpoint notifications (SSE), when it has them. */
  watch?: boolean;
  now?: () => number;
}

export interface WitnessReport {
  url: string;
  status: 'consistent' | 'split-view' | 'none' | 'invalid' | 'unreachable' | 'undetermined';
  size?: number;
}

export interface ReceiptReport {
  source: string;
  index: number;
  eventHash: string;
  status: 'honoured' | 'pending' | 'not-honoured' | 'invalid' | 'other-log' | 'undetermined';
  reason?: string;
}

export interface EvidenceReport {
  source: string;
  kind: 'event' | 'checkpoint' | 'unreadable';
  status:
    | 'in-log'
    | 'equivocation'
    | 'not-in-log'
    | 'unverifiable'
    | 'undetermined'
    | 'consistent'
    | 'split-view'
    | 'invalid'
    | 'unreadable';
  eventHash?: string;
  chain?: string;
  seq?: number;
  index?: number;
  size?: number;
  reason?: string;
}

export interface PollResult {
  /** No critical alert was raised by this poll. */
  ok: boolean;
  /** Every alert this poll found (also those already reported by an earlier poll of this monitor). */
  alerts: Alert[];
  /** Verified size before and after the poll. */
  previousSize: number;
  size: number;
  /** The ledger's latest checkpoint, when it could be read and opened. */
  ledger?: { size: number; rootHash: string };
  /** Entries and checkpoints verified by this poll. */
  entries: number;
  checkpoints: number;
  witnesses: WitnessReport[];
  receipts: ReceiptReport[];
  notifications: { delivered: number; pending: number };
}

export interface MonitorEvents {
  /** A new alert (each finding once per Monitor instance). */
  alert: (alert: Alert) => void;
  /** An entry verified and covered by a verified checkpoint. */
  entry: (entry: VerifiedEntry) => void;
  /** A checkpoint verified: the state moved to it. */
  checkpoint: (checkpoint: { size: number; rootHash: string; note: string }) => void;
  /** A notification for a watched organization (fired whether or not it has a webhook). */
  notification: (notification: OrgNotification) => void;
  /** Catch-up progress: leaves read of the leaves to read in this poll. */
  progress: (done: number, total: number) => void;
  /** A poll ended (what pollOnce returns; run() polls too). */
  poll: (result: PollResult) => void;
}

type Listeners = { [K in keyof MonitorEvents]: Set<MonitorEvents[K]> };

interface SeenEntry {
  hash: string;
  index: number;
  prev: string;
}

const b64 = (hashes: readonly Uint8Array[]) => hashes.map(toBase64);

export class Monitor {
  readonly origin: string;
  /** The pinned log key; with logKeys, the last (current) one. */
  readonly logKey: string;
  /** The pinned keys with their windows (one unbounded window for logKey). */
  readonly logKeys: readonly LogKeyWindow[];
  /** What checkpoints are opened with. */
  readonly #trust: PinnedLogKeys & { origin: string };
  readonly #o: MonitorOptions;
  readonly #ledger: LedgerClient;
  readonly #now: () => number;
  readonly #listeners: Listeners = {
    alert: new Set(),
    entry: new Set(),
    checkpoint: new Set(),
    notification: new Set(),
    progress: new Set(),
    poll: new Set(),
  };
  /** Alert ids already reported by this instance. */
  readonly #raised = new Set<string>();
  /** Chain → seq → event: the positions verified by this process (and walked back to). */
  readonly #seen = new Map<string, Map<number, SeenEntry>>();
  #seenCount = 0;
  #state: MonitorState;
  #registry: Registry | undefined;
  #dirty = false;
  #lastSave = 0;
  #polling = false;
  #closed = false;
  #receipts: ClaimedReceipt[];
  #wake: (() => void) | undefined;
  /** A wake-up that came while polling: the next sleep is skipped. */
  #pendingWake = false;
  #abort = new AbortController();
  /** The ledger's latest checkpoint as of the last poll (for receipts checked between polls). */
  #latest: LogCheckpoint | undefined;

  constructor(options: MonitorOptions) {
    const windows = pinnedWindows(options);
    const logKeyName = parseVerifierKey(windows.at(-1)!.key).name;
    try {
      const u = new URL(options.ledgerUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new MonitorError('INVALID_CONFIG', `ledgerUrl: not an http(s) URL: ${options.ledgerUrl}`, {
        option: 'ledgerUrl',
      });
    }
    const pageSize = options.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
      throw new MonitorError('INVALID_CONFIG', 'pageSize: an integer from 1 to 1000', { option: 'pageSize' });
    for (const o of options.orgs ?? []) {
      if (o.org === '')
        throw new MonitorError('INVALID_CONFIG', 'orgs: an organization id is empty', { option: 'orgs' });
    }
    this.#o = options;
    this.logKeys = windows;
    this.logKey = windows.at(-1)!.key;
    this.origin = options.origin ?? logKeyName;
    this.#trust =
      options.logKeys === undefined
        ? { logKey: this.logKey, origin: this.origin }
        : { logKeys: windows, origin: this.origin };
    this.#now = options.now ?? Date.now;
    this.#ledger = new LedgerClient(options.ledgerUrl, options.http ?? {});
    const loaded = options.statePath === undefined ? undefined : loadState(options.statePath);
    const state = loaded ?? options.state ?? initialState(this.origin, this.logKey);
    if (state.origin !== this.origin) {
      throw new MonitorError(
        'STATE_MISMATCH',
        `the state${options.statePath === undefined ? '' : ` in ${options.statePath}`} is for ${JSON.stringify(state.origin)}, not ${JSON.stringify(this.origin)}`,
        { origin: state.origin },
      );
    }
    // Owned by the monitor from here on (it is updated in place).
    this.#state = structuredClone(state);
    // What the state records it trusted (informational: the options decide); the next save
    // records what is pinned now.
    this.trustedBefore = (state.logKeys ?? [{ key: state.logKey }]).map((k) => ({
      key: k.key,
      ...(k.fromSize === undefined ? {} : { fromSize: k.fromSize }),
      ...(k.untilSize === undefined ? {} : { untilSize: k.untilSize }),
    }));
    this.#state.logKey = this.logKey;
    if (options.logKeys === undefined) delete this.#state.logKeys;
    else this.#state.logKeys = windows.map((w) => ({ ...w }));
    this.#dirty = JSON.stringify(this.trustedBefore) !== JSON.stringify(windows);
    this.#receipts = [...(options.receipts ?? [])];
  }

  /**
   * The keys the state (file) was last written with: compare with logKeys to notice a pinned
   * key that changed since the last run (a rotation, or another log reusing the origin).
   */
  readonly trustedBefore: readonly LogKeyWindow[];

  /** A copy of the current state (what the state file holds). */
  get state(): MonitorState {
    return structuredClone(this.#state);
  }

  /** Size of the last verified checkpoint. */
  get size(): number {
    return this.#state.size;
  }

  on<K extends keyof MonitorEvents>(name: K, listener: MonitorEvents[K]): () => void {
    const set = this.#listeners[name] as Set<MonitorEvents[K]>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  #emit<K extends keyof MonitorEvents>(name: K, ...args: Parameters<MonitorEvents[K]>): void {
    for (const fn of this.#listeners[name] as Set<(...a: Parameters<MonitorEvents[K]>) => void>) fn(...args);
  }

  /** Adds receipts to check at every poll until honoured. */
  addReceipts(receipts: readonly ClaimedReceipt[]): void {
    this.#receipts.push(...receipts);
  }

  // ---- alerts

  #alert(
    found: Alert[],
    code: AlertCode,
    key: string,
    message: string,
    evidence: Record<string, unknown>,
  ): Alert {
    const a = makeAlert(code, this.origin, key, message, evidence, this.#now);
    found.push(a);
    if (!this.#raised.has(a.id)) {
      // Bounded: after very many distinct findings, old ones may be reported again.
      if (this.#raised.size >= 100_000) this.#raised.clear();
      this.#raised.add(a.id);
      this.#emit('alert', a);
      // An alert about an event in a watched organization's name goes to it too.
      const emitter = evidence['emitter'];
      if (typeof emitter === 'string') {
        for (const w of this.#o.orgs ?? []) {
          if (w.org !== emitter) continue;
          this.#notify(w, {
            kind: 'alert',
            id: `${this.origin}#alert#${a.id}#${w.org}`,
            org: w.org,
            origin: this.origin,
            alert: a,
          });
        }
      }
    }
    return a;
  }

  #unreachable(found: Alert[], what: string, url: string, e: unknown): void {
    if (!isMonitorError(e)) throw e;
    this.#alert(found, 'UNREACHABLE', `${what}\n${url}`, `${what} could not be read: ${e.message}`, {
      url,
      error: e.code,
      message: e.message,
      ...e.details,
    });
  }

  // ---- polling

  /** One round: follow the log, compare witnesses, check receipts, deliver notifications, save. */
  async pollOnce(): Promise<PollResult> {
    if (this.#closed) throw new MonitorError('BUSY', 'the monitor is closed');
    if (this.#polling) throw new MonitorError('BUSY', 'a poll is already running');
    this.#polling = true;
    try {
      return await this.#poll();
    } finally {
      this.#polling = false;
    }
  }

  async #poll(): Promise<PollResult> {
    const found: Alert[] = [];
    const previousSize = this.#state.size;
    let latest: LogCheckpoint | undefined;
    let counts = { entries: 0, checkpoints: 0 };
    let note: string | undefined;
    try {
      note = await this.#ledger.latestCheckpoint();
    } catch (e) {
      this.#unreachable(found, 'the ledger', `${this.#ledger.baseUrl}/v1/checkpoint`, e);
    }
    if (note !== undefined) {
      const opened = openLogCheckpoint(note, this.#trust);
      if (opened.ok) latest = opened.checkpoint;
      else
        this.#alert(
          found,
          'CHECKPOINT_INVALID',
          `latest\n${note}`,
          `the ledger's latest checkpoint does not open with the pinned log key: ${opened.message}`,
          { check: opened.check, note, url: `${this.#ledger.baseUrl}/v1/checkpoint` },
        );
    }
    if (latest) {
      this.#latest = latest;
      counts = await this.#follow(latest, found);
    }

    const witnesses: WitnessReport[] = [];
    if (latest) {
      for (const w of this.#witnessList()) witnesses.push(await this.#checkWitness(w, latest, found));
      if (this.#o.policy && this.#o.requireQuorum) this.#checkQuorum(latest, found);
    }

    const receipts: ReceiptReport[] = [];
    const still: ClaimedReceipt[] = [];
    for (const r of this.#receipts) {
      const report = await this.#checkReceipt(r, latest, found);
      receipts.push(report);
      if (report.status !== 'honoured' && report.status !== 'invalid' && report.status !== 'other-log')
        still.push(r);
    }
    this.#receipts = still;

    const delivered = await this.#deliverOutbox(found);
    this.#state.updatedAt = new Date(this.#now()).toISOString();
    this.#save(true);
    const result: PollResult = {
      ok: !found.some((a) => a.severity === 'critical'),
      alerts: found,
      previousSize,
      size: this.#state.size,
      ...(latest ? { ledger: { size: latest.size, rootHash: latest.root } } : {}),
      entries: counts.entries,
      checkpoints: counts.checkpoints,
      witnesses,
      receipts,
      notifications: { delivered, pending: this.#state.outbox.length },
    };
    this.#emit('poll', result);
    return result;
  }

  #save(force: boolean): void {
    if (this.#o.statePath === undefined) return;
    if (!this.#dirty && !force) return;
    if (!force && this.#now() - this.#lastSave < 2000) return;
    saveState(this.#o.statePath, this.#state);
    this.#dirty = false;
    this.#lastSave = this.#now();
  }

  #verifiedHead(): { size: number; rootHash: string } {
    return { size: this.#state.size, rootHash: this.#state.rootHash };
  }

  /** Brings the state up to `latest`, verifying every leaf and checkpoint on the way. */
  async #follow(latest: LogCheckpoint, found: Alert[]): Promise<{ entries: number; checkpoints: number }> {
    const none = { entries: 0, checkpoints: 0 };
    const st = this.#state;
    const previous = st.checkpoint;
    const inconsistent = (reason: string, message: string, proof: readonly Uint8Array[] | undefined) =>
      this.#alert(
        found,
        'LOG_INCONSISTENT',
        `${st.size}:${st.rootHash}\n${latest.size}:${latest.root}`,
        message,
        {
          reason,
          previous: { size: st.size, rootHash: st.rootHash, note: previous },
          current: { size: latest.size, rootHash: latest.root, note: latest.note },
          ...(proof === undefined ? {} : { proof: b64(proof) }),
        },
      );

    if (latest.size <= st.size) {
      // An older (or the same) tree: the ledger must still prove the verified tree extends it.
      let proof: Uint8Array[] | undefined = [];
      if (latest.size < st.size && latest.size > 0) {
        try {
          proof = await this.#ledger.consistency(latest.size, st.size);
        } catch (e) {
          this.#unreachable(found, 'the ledger', this.#ledger.baseUrl, e);
          return none;
        }
      }
      const v = judgeConsistency(latest, this.#verifiedHead(), proof);
      if (!v.ok)
        inconsistent(
          v.reason,
          `the ledger's checkpoint of size ${latest.size} contradicts the verified checkpoint of size ${st.size}: ${v.message}`,
          proof,
        );
      return none;
    }

    if (st.size > 0) {
      let proof: Uint8Array[] | undefined;
      try {
        proof = await this.#ledger.consistency(st.size, latest.size);
      } catch (e) {
        this.#unreachable(found, 'the ledger', this.#ledger.baseUrl, e);
        return none;
      }
      const v = judgeConsistency(this.#verifiedHead(), latest, proof);
      if (!v.ok) {
        inconsistent(
          v.reason,
          `the ledger's checkpoint of size ${latest.size} does not extend the verified checkpoint of size ${st.size}: ${v.message}`,
          proof,
        );
        return none;
      }
    }

    // Every checkpoint signed since: each is a point where the leaves' root must match.
    let listed: { size: number; note: string }[];
    try {
      listed = await this.#ledger.checkpoints(st.size + 1, latest.size);
    } catch (e) {
      this.#unreachable(found, 'the ledger', `${this.#ledger.baseUrl}/v1/checkpoints`, e);
      return none;
    }
    const targets = new Map<number, LogCheckpoint>();
    for (const c of listed) {
      const opened = openLogCheckpoint(c.note, this.#trust);
      if (!opened.ok) {
        this.#alert(
          found,
          'CHECKPOINT_INVALID',
          `listed\n${c.note}`,
          `the checkpoint of size ${c.size} the ledger lists does not open with the pinned log key: ${opened.message}`,
          { check: opened.check, note: c.note, size: c.size },
        );
        continue;
      }
      const other = targets.get(opened.checkpoint.size);
      if (other && other.root !== opened.checkpoint.root) {
        this.#alert(
          found,
          'LOG_INCONSISTENT',
          `${other.root}\n${opened.checkpoint.root}`,
          `the log signed two roots for tree size ${other.size}`,
          {
            reason: 'SAME_SIZE_OTHER_ROOT',
            previous: { size: other.size, rootHash: other.root, note: other.note },
            current: { size: other.size, rootHash: opened.checkpoint.root, note: opened.checkpoint.note },
          },
        );
        return none;
      }
      if (opened.checkpoint.size > st.size) targets.set(opened.checkpoint.size, opened.checkpoint);
    }
    const atLatest = targets.get(latest.size);
    if (atLatest && atLatest.root !== latest.root) {
      this.#alert(
        found,
        'LOG_INCONSISTENT',
        `${atLatest.root}\n${latest.root}`,
        `the log signed two roots for tree size ${latest.size}`,
        {
          reason: 'SAME_SIZE_OTHER_ROOT',
          previous: { size: latest.size, rootHash: atLatest.root, note: atLatest.note },
          current: { size: latest.size, rootHash: latest.root, note: latest.note },
        },
      );
      return none;
    }
    targets.set(latest.size, latest);
    const ordered = [...targets.values()].sort((a, b) => a.size - b.size);

    const replay = new LogReplay(st, {
      ...(this.#o.operatorKey === undefined ? {} : { operatorKey: this.#o.operatorKey }),
      hashAt: (chain, seq) => this.#seen.get(chain)?.get(seq)?.hash,
    });
    const reader = this.#ledger.leafReader(this.#o.pageSize ?? 1000);
    const chunk = 4 * (this.#o.pageSize ?? 1000);
    const start = st.size;
    const total = latest.size - start;
    let pending: VerifiedEntry[] = [];
    const counts = { entries: 0, checkpoints: 0 };
    for (const t of ordered) {
      while (replay.size < t.size) {
        const from = replay.size;
        const to = Math.min(t.size, from + chunk);
        let rows;
        try {
          rows = await reader.leaves(from, to);
        } catch (e) {
          this.#unreachable(found, 'the ledger', `${this.#ledger.baseUrl}/v1/entries`, e);
          return counts;
        }
        if (rows.length === 0) {
          this.#alert(
            found,
            'ENTRY_INVALID',
            `missing\n${from}\n${t.size}`,
            `the log signed a checkpoint of size ${t.size} but serves no entry at index ${from}`,
            { check: 'LEAF_MISSING', index: from, checkpoint: t.note },
          );
          return counts;
        }
        for (const row of rows.slice(0, to - from)) {
          if (replay.failure) {
            replay.hashOnly(row.leaf);
            continue;
          }
          const v = replay.check(row.leaf, {
            ...(row.index === undefined ? {} : { index: row.index }),
            ...(row.eventHash === undefined ? {} : { eventHash: row.eventHash }),
          });
          if (v.ok) pending.push(v.entry);
        }
        this.#emit('progress', replay.size - start, total);
      }
      const root = replay.rootHex();
      const failure = replay.failure;
      if (failure) {
        this.#entryAlert(found, failure, t, root === t.root);
        if (root !== t.root) this.#rootAlert(found, t, root, start);
        return counts;
      }
      if (root !== t.root) {
        this.#rootAlert(found, t, root, start);
        return counts;
      }
      this.#commit(t, replay, pending);
      counts.entries += pending.length;
      counts.checkpoints += 1;
      pending = [];
    }
    return counts;
  }

  #rootAlert(found: Alert[], t: LogCheckpoint, computed: string, from: number): void {
    this.#alert(
      found,
      'ROOT_MISMATCH',
      `${t.size}:${t.root}:${computed}`,
      `the entries the ledger serves give root ${computed} at size ${t.size}; its signed checkpoint says ${t.root}`,
      { size: t.size, signedRoot: t.root, computedRoot: computed, checkpoint: t.note, verifiedFrom: from },
    );
  }

  #entryAlert(found: Alert[], f: EntryFailure, t: LogCheckpoint, inSignedTree: boolean): void {
    const code: AlertCode =
      f.check === 'KEY_REVOKED'
        ? 'REVOKED_KEY_USED'
        : f.check === 'CHAIN_BREAK'
          ? 'CHAIN_BREAK'
          : f.check === 'EQUIVOCATION'
            ? 'EQUIVOCATION'
            : 'ENTRY_INVALID';
    const where = inSignedTree
      ? 'in a checkpoint the log signed'
      : 'served by the ledger (the log signed another leaf there)';
    const evidence: Record<string, unknown> = {
      check: f.check,
      index: f.index,
      leaf: f.leaf,
      leafHash: f.leafHash,
      ...(f.eventHash === undefined ? {} : { eventHash: f.eventHash }),
      ...(f.event === undefined
        ? {}
        : { emitter: f.event.emitter, stream: f.event.stream, seq: f.event.seq, key: f.event.key }),
      inSignedTree,
      checkpoint: t.note,
    };
    if (f.key !== undefined) evidence['revokedKey'] = f.key;
    if (f.revokedAt !== undefined) evidence['revokedAt'] = f.revokedAt;
    if (f.compromisedSince !== undefined) evidence['compromisedSince'] = f.compromisedSince;
    if (f.signatureValid !== undefined) evidence['signatureValid'] = f.signatureValid;
    if (f.head !== undefined) evidence['chainHead'] = f.head;
    if (f.existing !== undefined) {
      const chain = f.event ? `${f.event.emitter}/${f.event.stream}` : '';
      const at = this.#seen.get(chain)?.get(f.existing.seq);
      evidence['existing'] = { ...f.existing, ...(at ? { index: at.index } : {}) };
    }
    this.#alert(
      found,
      code,
      `${f.index}:${f.leafHash}:${f.check}`,
      `entry ${f.index} ${where}: ${f.check}: ${f.message}`,
      evidence,
    );
  }

  /** The state moves to checkpoint `t`; the entries it covers are announced. */
  #commit(t: LogCheckpoint, replay: LogReplay, entries: readonly VerifiedEntry[]): void {
    const snap = replay.snapshot();
    this.#state = {
      ...this.#state,
      size: snap.size,
      rootHash: snap.rootHash,
      border: [...snap.border],
      heads: { ...snap.heads },
      registry: [...snap.registry],
      checkpoint: t.note,
    };
    this.#registry = undefined;
    this.#dirty = true;
    for (const e of entries) {
      this.#remember(e.chain, e.event.seq, { hash: e.eventHash, index: e.index, prev: e.event.prev });
      this.#emit('entry', e);
      const about = orgsOf(e);
      for (const w of this.#o.orgs ?? [])
        if (about.includes(w.org))
          this.#notify(w, eventNotification(this.origin, w.org, e, { size: t.size, rootHash: t.root }));
    }
    this.#emit('checkpoint', { size: t.size, rootHash: t.root, note: t.note });
    this.#save(false);
  }

  #notify(w: WatchedOrg, n: OrgNotification): void {
    this.#emit('notification', n);
    if (w.url === undefined) return;
    this.#state.outbox.push({ url: w.url, notification: n, attempts: 0 });
    this.#dirty = true;
  }

  #remember(chain: string, seq: number, e: SeenEntry): void {
    let m = this.#seen.get(chain);
    if (m === undefined) this.#seen.set(chain, (m = new Map()));
    if (!m.has(seq)) this.#seenCount++;
    m.set(seq, e);
    // A cache: dropped whole when too big (walking back from the heads refills it).
    if (this.#seenCount > (this.#o.maxSeen ?? 200_000)) {
      this.#seen.clear();
      this.#seenCount = 0;
    }
  }

  // ---- witnesses

  #witnessList(): { url: string; name?: string }[] {
    const out = new Map<string, { url: string; name?: string }>();
    for (const w of this.#o.policy?.witnesses ?? [])
      if (w.url !== undefined)
        out.set(w.url.replace(/\/+$/, ''), { url: w.url.replace(/\/+$/, ''), name: w.name });
    for (const u of this.#o.witnesses ?? []) {
      const url = u.replace(/\/+$/, '');
      if (!out.has(url)) out.set(url, { url });
    }
    return [...out.values()];
  }

  /** The consistency of two signed trees of this log, with the proof the ledger gave. */
  async #join(
    a: LogCheckpoint,
    b: LogCheckpoint,
    found: Alert[],
  ): Promise<{ verdict: ReturnType<typeof judgeConsistency>; proof: Uint8Array[] | undefined } | undefined> {
    const [older, newer] = a.size <= b.size ? [a, b] : [b, a];
    let proof: Uint8Array[] | undefined = [];
    if (older.size > 0 && older.size < newer.size) {
      try {
        proof = await this.#ledger.consistency(older.size, newer.size);
      } catch (e) {
        this.#unreachable(found, 'the ledger', this.#ledger.baseUrl, e);
        return undefined;
      }
    }
    return { verdict: judgeConsistency(older, newer, proof), proof };
  }

  async #checkWitness(
    w: { url: string; name?: string },
    latest: LogCheckpoint,
    found: Alert[],
  ): Promise<WitnessReport> {
    let note: string | undefined;
    try {
      // The ledger's headers (a bearer token) are never sent to a witness.
      const { headers: _ledgerOnly, ...http } = this.#o.http ?? {};
      note = await fetchWitnessCheckpoint(w.url, this.origin, http);
    } catch (e) {
      this.#unreachable(found, 'a witness', w.url, e);
      return { url: w.url, status: 'unreachable' };
    }
    if (note === undefined) return { url: w.url, status: 'none' };
    const opened = openLogCheckpoint(note, this.#trust);
    if (!opened.ok) {
      this.#alert(
        found,
        'WITNESS_INVALID',
        `${w.url}\n${note}`,
        `witness ${w.url} serves a checkpoint that does not open with the pinned log key: ${opened.message}`,
        {
          url: w.url,
          note,
          check: opened.check,
        },
      );
      return { url: w.url, status: 'invalid' };
    }
    const cp = opened.checkpoint;
    if (w.name !== undefined && this.#o.policy) {
      // A policy witness must have cosigned what it serves.
      let signed = false;
      let why = 'its cosignature is missing';
      try {
        signed = checkQuorum(note, this.#o.policy).witnesses.includes(w.name);
      } catch (e) {
        why = (e as Error).message;
      }
      if (!signed) {
        this.#alert(
          found,
          'WITNESS_INVALID',
          `${w.url}\ncosig\n${note}`,
          `witness ${w.name} (${w.url}) serves a checkpoint without its valid cosignature: ${why}`,
          {
            url: w.url,
            witness: w.name,
            note,
          },
        );
        return { url: w.url, status: 'invalid', size: cp.size };
      }
    }
    const joined = await this.#join(latest, cp, found);
    if (joined === undefined) return { url: w.url, status: 'undetermined', size: cp.size };
    this.#state.witnesses[w.url] = {
      size: cp.size,
      rootHash: cp.root,
      note,
      seenAt: new Date(this.#now()).toISOString(),
    };
    this.#dirty = true;
    if (joined.verdict.ok) return { url: w.url, status: 'consistent', size: cp.size };
    this.#alert(
      found,
      'SPLIT_VIEW',
      `${latest.size}:${latest.root}\n${cp.size}:${cp.root}`,
      `split view: witness ${w.url} cosigned a tree of size ${cp.size} that the ledger's checkpoint of size ${latest.size} does not extend: ${joined.verdict.message}`,
      {
        reason: joined.verdict.reason,
        ledger: { url: this.#ledger.baseUrl, size: latest.size, rootHash: latest.root, note: latest.note },
        witness: { url: w.url, size: cp.size, rootHash: cp.root, note },
        ...(joined.proof === undefined ? {} : { proof: b64(joined.proof) }),
      },
    );
    return { url: w.url, status: 'split-view', size: cp.size };
  }

  #checkQuorum(latest: LogCheckpoint, found: Alert[]): void {
    const policy = this.#o.policy!;
    let ok = false;
    let witnesses: readonly string[] = [];
    let why = '';
    try {
      const r = checkQuorum(latest.note, policy);
      ok = r.ok;
      witnesses = r.witnesses;
    } catch (e) {
      why = `: ${(e as Error).message}`;
    }
    if (!ok)
      this.#alert(
        found,
        'QUORUM_NOT_MET',
        `${latest.size}:${latest.root}`,
        `the ledger's checkpoint of size ${latest.size} is not cosigned by the policy's quorum ${policy.quorum}${why}`,
        {
          note: latest.note,
          witnesses,
          quorum: policy.quorum,
        },
      );
  }

  // ---- receipts

  /** Checks receipts against the verified log now (without polling). */
  async checkReceipts(
    receipts: readonly ClaimedReceipt[],
  ): Promise<{ reports: ReceiptReport[]; alerts: Alert[] }> {
    const found: Alert[] = [];
    const reports: ReceiptReport[] = [];
    for (const r of receipts) reports.push(await this.#checkReceipt(r, this.#latest, found));
    return { reports, alerts: found };
  }

  /** The entry at `index` of the verified tree, proven included in it; undefined if not proven. */
  async #provenEntry(
    index: number,
    found: Alert[],
  ): Promise<{ leaf: string; leafHash: string; proof: Uint8Array[] } | 'missing' | undefined> {
    const st = this.#state;
    let entry;
    let inc;
    try {
      entry = await this.#ledger.entry(index);
      if (entry === undefined) return 'missing';
      inc = await this.#ledger.inclusion(index, st.size);
    } catch (e) {
      this.#unreachable(found, 'the ledger', this.#ledger.baseUrl, e);
      return undefined;
    }
    const leafHash = toHex(hashLeaf(new TextEncoder().encode(entry.leaf)));
    if (
      inc === undefined ||
      !isValidInclusion(
        Buffer.from(leafHash, 'hex'),
        index,
        st.size,
        inc.hashes,
        Buffer.from(st.rootHash, 'hex'),
      )
    ) {
      this.#alert(
        found,
        'PROOF_INVALID',
        `${index}:${leafHash}:${st.size}`,
        `the ledger serves an entry at index ${index} that it cannot prove is in its verified tree of size ${st.size}`,
        {
          index,
          leaf: entry.leaf,
          leafHash,
          size: st.size,
          rootHash: st.rootHash,
          checkpoint: st.checkpoint,
          ...(inc === undefined ? {} : { proof: b64(inc.hashes) }),
        },
      );
      return undefined;
    }
    return { leaf: entry.leaf, leafHash, proof: inc.hashes };
  }

  async #checkReceipt(
    c: ClaimedReceipt,
    latest: LogCheckpoint | undefined,
    found: Alert[],
  ): Promise<ReceiptReport> {
    const r = c.receipt;
    const base = { source: c.source, index: r.index, eventHash: r.eventHash };
    if (r.logOrigin !== this.origin)
      return { ...base, status: 'other-log', reason: `a receipt of ${r.logOrigin}` };
    // Receipts are signed by the key current when they were issued: one valid at their index.
    const keys = this.logKeys.filter(
      (k) => (k.fromSize ?? 0) <= r.index && r.index <= (k.untilSize ?? Infinity),
    );
    if (!keys.some((k) => verifyReceipt(parseVerifierKey(k.key), r)))
      return {
        ...base,
        status: 'invalid',
        reason:
          this.logKeys.length === 1
            ? 'the receipt is not signed by the pinned log key'
            : `the receipt is not signed by a pinned log key valid at index ${r.index}`,
      };
    const st = this.#state;
    const notHonoured = (reason: string, message: string, more: Record<string, unknown>): ReceiptReport => {
      this.#alert(found, 'RECEIPT_NOT_HONOURED', `${r.index}:${r.leafHash}:${reason}`, message, {
        reason,
        receipt: r,
        source: c.source,
        ...more,
      });
      return { ...base, status: 'not-honoured', reason };
    };
    if (r.index < st.size) {
      const proven = await this.#provenEntry(r.index, found);
      if (proven === undefined) return { ...base, status: 'undetermined' };
      if (proven === 'missing')
        return notHonoured(
          'missing',
          `receipt for index ${r.index}: the ledger serves no entry there, inside its verified tree of size ${st.size}`,
          {
            checkpoint: st.checkpoint,
          },
        );
      if (proven.leafHash === r.leafHash) return { ...base, status: 'honoured' };
      // Another leaf holds the promised place: the event was dropped, or moved.
      let foundAt: { index: number; leaf: string } | undefined;
      try {
        const e = await this.#ledger.entryByEventHash(r.eventHash);
        if (e !== undefined && decodeLeaf(e.leaf).eventHash === r.eventHash)
          foundAt = { index: e.index, leaf: e.leaf };
      } catch {
        // Where it went is extra information; the broken promise is shown without it.
      }
      const reason = foundAt ? 'moved' : 'dropped';
      return notHonoured(
        reason,
        foundAt
          ? `receipt for index ${r.index}: the event is at index ${foundAt.index} instead (entries reordered)`
          : `receipt for index ${r.index}: another entry is there and the event is not in the log (dropped)`,
        {
          entry: { index: r.index, leaf: proven.leaf, leafHash: proven.leafHash },
          inclusionProof: { index: r.index, size: st.size, hashes: b64(proven.proof) },
          checkpoint: st.checkpoint,
          ...(foundAt ? { foundAt } : {}),
        },
      );
    }
    // Beyond the verified tree: due once the promised checkpoint delay (and a grace) passed.
    const due = Date.parse(r.admitted) + r.checkpointWithinMs + (this.#o.receiptGraceMs ?? 60_000);
    const ledgerSize = latest?.size;
    if (Number.isFinite(due) && this.#now() > due && ledgerSize !== undefined && ledgerSize <= r.index) {
      return notHonoured(
        'overdue',
        `receipt for index ${r.index}: no signed checkpoint covers it ${Math.round((this.#now() - due) / 1000)} s after its promise (latest size ${ledgerSize})`,
        { checkpoint: latest?.note, due: new Date(due).toISOString() },
      );
    }
    return { ...base, status: 'pending' };
  }

  // ---- evidence from outside the log

  /** The registry of the verified log (keys, organizations), for checking claimed events. */
  #committedRegistry(): Registry {
    return (this.#registry ??= Registry.fromRecords(this.#state.registry));
  }

  /**
   * The event the verified log holds at (chain, seq): from memory, else walking back along
   * the chain from its verified head (each hop checked: the hash of what the ledger serves
   * must be the hash asked for, so the answer is exactly the verified chain).
   */
  async #logEventAt(chain: string, seq: number, found: Alert[]): Promise<SeenEntry | 'beyond' | undefined> {
    const head = this.#state.heads[chain];
    if (head === undefined || seq > head.seq) return 'beyond';
    const known = this.#seen.get(chain);
    const hit = known?.get(seq);
    if (hit) return hit;
    // Start below the lowest known position above seq, else at the head.
    let cur = { seq: head.seq, hash: head.hash };
    let best: number | undefined;
    for (const s of known?.keys() ?? []) if (s > seq && (best === undefined || s < best)) best = s;
    if (best !== undefined) cur = { seq: best - 1, hash: known!.get(best)!.prev };
    while (cur.seq >= seq) {
      let entry;
      try {
        entry = await this.#ledger.entryByEventHash(cur.hash);
      } catch (e) {
        this.#unreachable(found, 'the ledger', this.#ledger.baseUrl, e);
        return undefined;
      }
      let ok = false;
      let prev = '';
      if (entry !== undefined && entry.index < this.#state.size) {
        try {
          const l = decodeLeaf(entry.leaf);
          const ev = l.event as { emitter?: unknown; stream?: unknown; seq?: unknown; prev?: unknown };
          ok =
            l.eventHash === cur.hash &&
            l.index === entry.index &&
            `${String(ev.emitter)}/${String(ev.stream)}` === chain &&
            ev.seq === cur.seq &&
            typeof ev.prev === 'string';
          prev = String(ev.prev);
        } catch {
          ok = false;
        }
      }
      if (!ok) return undefined;
      const e = { hash: cur.hash, index: entry!.index, prev };
      this.#remember(chain, cur.seq, e);
      if (cur.seq === seq) return e;
      cur = { seq: cur.seq - 1, hash: prev };
    }
    return undefined;
  }

  /**
   * Compares evidence with the verified log: a bundle directory, a JSON or JSON Lines file of
   * signed events (a path), a signed event `{ event, signature }` or a list of them, or
   * evidence items. Two signed events at one (emitter, stream, seq) raise EQUIVOCATION; a
   * bundle checkpoint no consistency proof joins to the verified one raises SPLIT_VIEW.
   */
  async checkEvidence(input: unknown): Promise<{ reports: EvidenceReport[]; alerts: Alert[] }> {
    const found: Alert[] = [];
    const reports: EvidenceReport[] = [];
    const items: AsyncIterable<EvidenceItem> | Iterable<EvidenceItem> =
      typeof input === 'string' ? readEvidence(input) : evidenceFromJson(input);
    for await (const item of items) reports.push(await this.#judge(item, found));
    return { reports, alerts: found };
  }

  async #judge(item: EvidenceItem, found: Alert[]): Promise<EvidenceReport> {
    if (item.kind === 'unreadable')
      return { source: item.source, kind: 'unreadable', status: 'unreadable', reason: item.message };
    if (item.kind === 'checkpoint') return this.#judgeCheckpoint(item.source, item.note, found);
    return this.#judgeClaim(item.claim, found);
  }

  async #judgeCheckpoint(source: string, note: string, found: Alert[]): Promise<EvidenceReport> {
    const opened = openLogCheckpoint(note, this.#trust);
    if (!opened.ok) return { source, kind: 'checkpoint', status: 'invalid', reason: opened.message };
    const cp = opened.checkpoint;
    const mine = this.#state.checkpoint;
    if (mine === null)
      return {
        source,
        kind: 'checkpoint',
        status: 'undetermined',
        size: cp.size,
        reason: 'no verified checkpoint yet',
      };
    const ref = openLogCheckpoint(mine, this.#trust);
    if (!ref.ok)
      return {
        source,
        kind: 'checkpoint',
        status: 'undetermined',
        size: cp.size,
        reason: 'the saved checkpoint does not open',
      };
    const joined = await this.#join(ref.checkpoint, cp, found);
    if (joined === undefined) return { source, kind: 'checkpoint', status: 'undetermined', size: cp.size };
    if (joined.verdict.ok) return { source, kind: 'checkpoint', status: 'consistent', size: cp.size };
    this.#alert(
      found,
      'SPLIT_VIEW',
      `${ref.checkpoint.size}:${ref.checkpoint.root}\n${cp.size}:${cp.root}`,
      `split view: ${source} holds a checkpoint of size ${cp.size} signed by the log that its verified checkpoint of size ${ref.checkpoint.size} cannot be joined to: ${joined.verdict.message}`,
      {
        reason: joined.verdict.reason,
        ledger: {
          url: this.#ledger.baseUrl,
          size: ref.checkpoint.size,
          rootHash: ref.checkpoint.root,
          note: mine,
        },
        other: { source, size: cp.size, rootHash: cp.root, note },
        ...(joined.proof === undefined ? {} : { proof: b64(joined.proof) }),
      },
    );
    return { source, kind: 'checkpoint', status: 'split-view', size: cp.size, reason: joined.verdict.reason };
  }

  async #judgeClaim(claim: ClaimedEvent, found: Alert[]): Promise<EvidenceReport> {
    const e = claim.event;
    const chain = `${e.emitter}/${e.stream}`;
    const base = {
      source: claim.source,
      kind: 'event' as const,
      eventHash: claim.eventHash,
      chain,
      seq: e.seq,
    };
    const sig = checkClaimSignature(claim, this.#committedRegistry());
    if (!sig.ok) return { ...base, status: 'unverifiable', reason: sig.reason };
    const at = await this.#logEventAt(chain, e.seq, found);
    if (at === 'beyond')
      return {
        ...base,
        status: 'not-in-log',
        reason: `the verified log has no seq ${e.seq} on ${chain} yet`,
      };
    if (at === undefined)
      return { ...base, status: 'undetermined', reason: 'the ledger did not serve the chain' };
    if (at.hash === claim.eventHash) return { ...base, status: 'in-log', index: at.index };
    const proven = await this.#provenEntry(at.index, found);
    if (proven === undefined || proven === 'missing')
      return {
        ...base,
        status: 'undetermined',
        index: at.index,
        reason: 'the log entry could not be proven',
      };
    const logLeaf = decodeLeaf(proven.leaf);
    this.#alert(
      found,
      'EQUIVOCATION',
      `${chain}#${e.seq}\n${[at.hash, claim.eventHash].sort().join('\n')}`,
      `equivocation: ${e.emitter} signed two different events at ${chain} seq ${e.seq}: ${at.hash} in the log (index ${at.index}) and ${claim.eventHash} in ${claim.source}`,
      {
        emitter: e.emitter,
        stream: e.stream,
        seq: e.seq,
        log: {
          index: at.index,
          eventHash: at.hash,
          event: logLeaf.event,
          signature: logLeaf.signature,
          leaf: proven.leaf,
          inclusionProof: { index: at.index, size: this.#state.size, hashes: b64(proven.proof) },
          checkpoint: this.#state.checkpoint,
        },
        other: {
          source: claim.source,
          eventHash: claim.eventHash,
          event: e,
          signature: claim.signature,
          key: sig.key,
          ...(claim.leaf === undefined ? {} : { leaf: claim.leaf, index: claim.index }),
        },
      },
    );
    return { ...base, status: 'equivocation', index: at.index };
  }

  // ---- notifications

  async #deliverOutbox(found: Alert[]): Promise<number> {
    const st = this.#state;
    const max = this.#o.maxOutbox ?? 10_000;
    if (st.outbox.length > max) {
      const dropped = st.outbox.splice(0, st.outbox.length - max);
      this.#alert(
        found,
        'NOTIFY_FAILED',
        `dropped\n${dropped[0]!.notification.id}`,
        `${dropped.length} undelivered notifications dropped (outbox limit ${max})`,
        {
          dropped: dropped.length,
          first: dropped[0]!.notification.id,
        },
      );
      this.#dirty = true;
    }
    let delivered = 0;
    const blocked = new Set<string>();
    const keep: OutboxItem[] = [];
    for (const item of st.outbox) {
      // In ledger order per webhook: after a failure, the rest of that webhook waits.
      if (blocked.has(item.url)) {
        keep.push(item);
        continue;
      }
      const r = await deliver(item.url, item.notification, this.#o.webhook ?? {});
      item.attempts += r.attempts;
      this.#dirty = true;
      if (r.ok) {
        delivered++;
        continue;
      }
      item.lastError = r.error;
      this.#alert(
        found,
        'NOTIFY_FAILED',
        `${item.url}\n${item.notification.id}`,
        `notification ${item.notification.id} to ${item.url} failed after ${item.attempts} attempts: ${r.error}${r.permanent ? ' (refused, dropped)' : ' (kept, retried at the next poll)'}`,
        {
          url: item.url,
          org: item.notification.org,
          notification: item.notification.id,
          error: r.error,
          attempts: item.attempts,
          dropped: r.permanent,
          ...(r.status === undefined ? {} : { status: r.status }),
        },
      );
      if (!r.permanent) {
        keep.push(item);
        blocked.add(item.url);
      }
    }
    st.outbox = keep;
    return delivered;
  }

  // ---- running

  /**
   * Polls until stop(): every intervalMs, and (with `watch`) as soon as the ledger announces
   * a checkpoint. Resolves when stopped. Poll failures other than alerts (a state file that
   * cannot be written) reject.
   */
  async run(): Promise<void> {
    const interval = this.#o.intervalMs ?? 10_000;
    if (this.#o.watch) void this.#watch();
    while (!this.#closed) {
      await this.pollOnce();
      if (this.#closed) break;
      if (this.#pendingWake) {
        this.#pendingWake = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, interval);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  /** Ends run() after the poll in progress (if any); saves the state. */
  stop(): void {
    this.#closed = true;
    this.#abort.abort();
    this.#wake?.();
  }

  /** Follows the ledger's live checkpoint notifications (SSE) to wake run() early. */
  async #watch(): Promise<void> {
    const url = `${this.#ledger.baseUrl}/v1/notifications?types=checkpoint`;
    const doFetch = this.#o.http?.fetch ?? globalThis.fetch;
    while (!this.#closed) {
      try {
        const res = await doFetch(url, {
          headers: { accept: 'text/event-stream', ...this.#o.http?.headers },
          signal: this.#abort.signal,
        });
        if (!res.ok || res.body === null) break; // no live notifications here: polling only
        const decoder = new TextDecoder();
        let buffered = '';
        for await (const chunk of res.body) {
          buffered += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (!/^event: checkpoint$/m.test(block)) continue;
            if (this.#wake) this.#wake();
            else this.#pendingWake = true;
          }
        }
      } catch {
        // Disconnected (or stopped): reconnect after an interval.
      }
      if (this.#closed) break;
      await new Promise((r) => setTimeout(r, this.#o.intervalMs ?? 10_000));
    }
  }
}

/** The pinned key(s) of the options as windows: exactly one of logKey and logKeys, each checked. */
function pinnedWindows(options: MonitorOptions): LogKeyWindow[] {
  const bad = (option: string, message: string): never => {
    throw new MonitorError('INVALID_CONFIG', `${option}: ${message}`, { option });
  };
  if ((options.logKey === undefined) === (options.logKeys === undefined))
    bad('logKey', 'give exactly one of logKey and logKeys');
  const given: readonly LogKeyWindow[] = options.logKeys ?? [{ key: options.logKey! }];
  if (given.length === 0) bad('logKeys', 'at least one key');
  const size = (x: unknown, where: string) => {
    if (x !== undefined && (!Number.isSafeInteger(x) || (x as number) < 0)) bad(where, 'an integer >= 0');
  };
  return given.map((k, i) => {
    const option = options.logKeys === undefined ? 'logKey' : `logKeys[${i}]`;
    try {
      parseVerifierKey(String(k.key).trim());
    } catch (e) {
      bad(
        options.logKeys === undefined ? option : `${option}.key`,
        `not a verifier key (${(e as Error).message})`,
      );
    }
    size(k.fromSize, `${option}.fromSize`);
    size(k.untilSize, `${option}.untilSize`);
    if (k.untilSize !== undefined && k.untilSize < (k.fromSize ?? 0))
      bad(`${option}.untilSize`, 'untilSize must be >= fromSize');
    return {
      key: k.key.trim(),
      ...(k.fromSize === undefined ? {} : { fromSize: k.fromSize }),
      ...(k.untilSize === undefined ? {} : { untilSize: k.untilSize }),
    };
  });
}
