// Crash durability of the standalone service as users run it: main.ts as its own process on a
// SQLite data directory, a client streaming signed events over HTTP (single and batch
// submissions, several emitters and chains, concurrently), and SIGKILL at seeded random
// moments. After each kill the service is restarted on the same data directory and the client
// resends whatever had no receipt. At the end every receipt must hold: the event is in the
// log at its receipted index with the receipted leaf hash, each receipt verifies with the log
// key, no event is in the log twice, and the independent verifier accepts the log.
// Replay a failing run with CRASH_TEST_SEED=<seed printed below>.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  formatVerifierKey,
  generateSigningKey,
  parseVerifierKey,
  toHex,
  type SigningKey,
} from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import {
  bootstrapEvents,
  genesisEvent,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { hashLeaf } from '@civic-ledger/merkle';
import { verifyReceipt, type SignedReceipt } from '@civic-ledger/receipts';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource, verifyLog, type VerifierState } from '@civic-ledger/verifier';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collect,
  freePort,
  http,
  registerDataset,
  registerSource,
  seededRandom,
  sleep,
  spawnService,
  transfer,
  waitReady,
  type ChildService,
} from './support.ts';

const ORIGIN = 'crash.e2e.example/log';
const SEED = Number(process.env['CRASH_TEST_SEED'] ?? Date.now() % 1_000_000_000);
console.log(`standalone crash test seed: ${SEED} (replay with CRASH_TEST_SEED=${SEED})`);

const dirs: string[] = [];
const children = new Set<ChildService>();
afterAll(() => {
  // Whatever failed, no server outlives the tests.
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cl-e2e-crash-'));
  dirs.push(d);
  return d;
}

function env(dir: string, port: number, operator: TestEmitter): Record<string, string> {
  return {
    CIVIC_LEDGER_DATA_DIR: dir,
    CIVIC_LEDGER_PORT: String(port),
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_ORIGIN: ORIGIN,
    CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
    CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
    CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
  };
}

function start(dir: string, port: number, operator: TestEmitter): ChildService {
  const svc = spawnService(env(dir, port, operator));
  children.add(svc);
  void svc.exited.then(() => children.delete(svc));
  return svc;
}

async function killHard(svc: ChildService): Promise<{ aliveAtKill: boolean; signal: string | null }> {
  const aliveAtKill = svc.child.exitCode === null && svc.child.signalCode === null;
  svc.child.kill('SIGKILL');
  const { signal } = await svc.exited;
  return { aliveAtKill, signal };
}

// ---- the promises, as a pure check (so the negative controls can feed it doctored input)

interface LeafRow {
  index: number;
  leaf: Uint8Array;
}

/**
 * Every way the log breaks the receipts: a receipt that does not verify with the log key,
 * a receipted event missing from its index or with another leaf hash or admission time, an
 * event in the log twice, a row out of place, or an event the client sent that never landed.
 */
function checkReceipts(
  logKeyText: string,
  leaves: readonly LeafRow[],
  receipts: ReadonlyMap<string, SignedReceipt>,
  sent: readonly string[],
): string[] {
  const problems: string[] = [];
  const logKey = parseVerifierKey(logKeyText);
  const byIndex = new Map<number, { eventHash: string; leafHash: string; admitted: string }>();
  const seen = new Map<string, number>();
  leaves.forEach((l, pos) => {
    if (l.index !== pos) problems.push(`row ${pos} holds index ${l.index}`);
    const d = decodeLeaf(l.leaf);
    if (d.index !== l.index) problems.push(`leaf at ${l.index} says index ${d.index}`);
    const earlier = seen.get(d.eventHash);
    if (earlier !== undefined)
      problems.push(`event ${d.eventHash} is in the log twice: ${earlier} and ${l.index}`);
    seen.set(d.eventHash, l.index);
    byIndex.set(l.index, { eventHash: d.eventHash, leafHash: toHex(hashLeaf(l.leaf)), admitted: d.admitted });
  });
  for (const [hash, r] of receipts) {
    if (r.eventHash !== hash) problems.push(`receipt for ${hash} names event ${r.eventHash}`);
    if (!verifyReceipt(logKey, r)) problems.push(`receipt of ${hash} (index ${r.index}) does not verify`);
    if (r.logOrigin !== ORIGIN) problems.push(`receipt of ${hash} names log ${r.logOrigin}`);
    const at = byIndex.get(r.index);
    if (at === undefined) {
      problems.push(`receipted event ${hash} is missing: no entry at index ${r.index}`);
      continue;
    }
    if (at.eventHash !== hash) problems.push(`index ${r.index} holds ${at.eventHash}, receipted ${hash}`);
    if (at.leafHash !== r.leafHash)
      problems.push(`index ${r.index} has leaf hash ${at.leafHash}, receipted ${r.leafHash}`);
    if (at.admitted !== r.admitted)
      problems.push(`index ${r.index} admitted ${at.admitted}, receipted ${r.admitted}`);
  }
  for (const hash of sent) if (!receipts.has(hash)) problems.push(`sent event ${hash} never got a receipt`);
  return problems;
}

// ---- the client

/** One chain the client feeds: its events in order, the ones without a receipt pending. */
class ChainFeed {
  readonly emitter: TestEmitter;
  readonly pending: TestSubmission[] = [];
  readonly made: string[] = [];
  readonly #random: () => number;
  readonly #recipient: string;
  readonly #sent: Map<string, TestSubmission>;

  constructor(
    emitter: TestEmitter,
    recipient: string,
    random: () => number,
    sent: Map<string, TestSubmission>,
  ) {
    this.emitter = emitter;
    this.#sent = sent;
    this.#recipient = recipient;
    this.#random = random;
  }

  /** Generates the chain's next event: mostly collections, some transfers of an earlier one (lineage). */
  grow(): void {
    const org = this.emitter.org;
    const n = this.made.length;
    const input = n > 0 && this.#random() < 0.2 ? this.made[Math.floor(this.#random() * n)] : undefined;
    const e = this.emitter.next(input ? transfer(org, input, this.#recipient) : collect(org, n));
    this.pending.push(e);
    this.made.push(e.hash);
    this.#sent.set(e.hash, e);
  }
}

const RETRYABLE = new Set(['OVERLOADED', 'CLOSING', 'NOT_WRITER', 'STORE_FAILED', 'LEDGER_CLOSED']);

class Client {
  readonly base: string;
  /** The first receipt of every event, by event hash. */
  readonly receipts = new Map<string, SignedReceipt>();
  /** Broken promises seen on the wire (a changed receipt, an event accepted twice, a refusal). */
  readonly problems: string[] = [];
  /** Events answered `duplicate: false`. */
  readonly #fresh = new Set<string>();
  #stop = false;
  networkErrors = 0;
  singles = 0;
  batches = 0;
  /** Events whose first answer was `duplicate: true`: committed by a process killed before it answered. */
  lostAnswers = 0;

  constructor(base: string) {
    this.base = base;
  }

  stop(): void {
    this.#stop = true;
  }

  /** Records a receipt; a second receipt for the same event must be byte for byte the first. */
  record(hash: string, receipt: SignedReceipt, duplicate: boolean): void {
    const before = this.receipts.get(hash);
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(receipt)) {
      this.problems.push(
        `event ${hash}: receipt changed from ${JSON.stringify(before)} to ${JSON.stringify(receipt)}`,
      );
    }
    if (!duplicate) {
      if (this.#fresh.has(hash)) this.problems.push(`event ${hash} was accepted as new twice`);
      this.#fresh.add(hash);
    }
    if (before === undefined) {
      if (duplicate) this.lostAnswers++;
      this.receipts.set(hash, receipt);
    }
  }

  /** Feeds `chains` until stopped and drained; one request in flight per worker. */
  async work(chains: ChainFeed[], random: () => number): Promise<void> {
    for (;;) {
      if (!this.#stop) for (const c of chains) while (c.pending.length < 4) c.grow();
      const open = chains.filter((c) => c.pending.length > 0);
      if (open.length === 0) return;
      if (this.problems.length > 0) throw new Error(this.problems.join('\n'));
      try {
        if (random() < 0.4) await this.#single(open[Math.floor(random() * open.length)]!);
        else await this.#batch(open, random);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // fetch failed: the server is down; resend
        this.networkErrors++;
        await sleep(10);
      }
    }
  }

  async #single(chain: ChainFeed): Promise<void> {
    const e = chain.pending[0]!;
    this.singles++;
    const res = await http(this.base, 'POST', '/v1/events', e);
    if (res.status === 201 || res.status === 200) {
      this.record(e.hash, res.json.receipt as SignedReceipt, res.json.duplicate as boolean);
      chain.pending.shift();
    } else if (res.status === 503) {
      await sleep(10);
    } else {
      this.problems.push(`single ${e.hash}: ${res.status} ${res.text}`);
    }
  }

  async #batch(open: ChainFeed[], random: () => number): Promise<void> {
    // The pending prefix of a few chains, each in chain order.
    const items: { chain: ChainFeed; e: TestSubmission }[] = [];
    for (const chain of open) {
      if (random() < 0.3 && items.length > 0) continue;
      const take = 1 + Math.floor(random() * chain.pending.length);
      for (const e of chain.pending.slice(0, take)) items.push({ chain, e });
    }
    this.batches++;
    const res = await http(this.base, 'POST', '/v1/events/batch', { events: items.map((i) => i.e) });
    if (res.status === 503) return void (await sleep(10));
    if (res.status !== 200) {
      this.problems.push(`batch: ${res.status} ${res.text}`);
      return;
    }
    const results = res.json.results as (
      { ok: true; receipt: SignedReceipt; duplicate: boolean } | { ok: false; error: { code: string } }
    )[];
    const blocked = new Set<ChainFeed>();
    results.forEach((r, i) => {
      const { chain, e } = items[i]!;
      if (r.ok) {
        if (blocked.has(chain))
          this.problems.push(`event ${e.hash} accepted after its predecessor was refused`);
        this.record(e.hash, r.receipt, r.duplicate);
        if (chain.pending[0] === e) chain.pending.shift();
        else this.problems.push(`event ${e.hash} answered out of chain order`);
      } else {
        // A transient refusal holds back the rest of that chain (they then fail CHAIN_GAP).
        const transient = RETRYABLE.has(r.error.code) || (blocked.has(chain) && r.error.code === 'CHAIN_GAP');
        if (!transient) this.problems.push(`event ${e.hash} refused: ${JSON.stringify(r.error)}`);
        blocked.add(chain);
      }
    });
  }
}

describe('the standalone service killed with SIGKILL while events stream in', () => {
  it('keeps every receipted event at its receipted index, once, in a log the verifier accepts', async () => {
    // The kill schedule has its own stream; each worker has one for its events and requests.
    const schedule = seededRandom(SEED);
    const workerRandom = [1, 2, 3].map((w) => seededRandom(SEED + w));
    const dir = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;

    const operator = new TestEmitter('ledger');
    const orgs = ['transport-agency', 'police', 'environment-agency'];
    const keys = new Map<string, SigningKey>(orgs.map((o) => [o, generateSigningKey(`${o}/k1`)]));
    const mains = orgs.map((o) => new TestEmitter(o, { key: keys.get(o)! }));
    const bootstrap = [
      ...bootstrapEvents(operator, mains),
      ...mains.flatMap((m) => [m.next(registerSource(m.org)), m.next(registerDataset(m.org))]),
    ];
    const sentByHash = new Map<string, TestSubmission>(bootstrap.map((e) => [e.hash, e]));
    // Three workers, one per organization, each feeding its three chains (main and two more
    // streams under the same key): concurrent requests, never two in flight on one chain.
    const work = orgs.map((o, w) => {
      const random = workerRandom[w]!;
      const recipient = orgs[(w + 1) % orgs.length]!;
      const chains = [
        mains[w]!,
        ...['cams', 'sensors'].map((s) => new TestEmitter(o, { key: keys.get(o)!, stream: s })),
      ].map((emitter) => new ChainFeed(emitter, recipient, random, sentByHash));
      return { chains, random };
    });
    const chains = work.flatMap((w) => w.chains);

    let svc = start(dir, port, operator);
    await waitReady(svc, base, 15_000);
    const logKeyText = svc.logVerifierKey()!;
    const client = new Client(base);
    const boot = await http(base, 'POST', '/v1/events/batch', { events: bootstrap });
    expect(boot.status, boot.text).toBe(200);
    for (const [i, r] of (boot.json.results as { ok: boolean; receipt: SignedReceipt }[]).entries()) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      client.record(bootstrap[i]!.hash, r.receipt, false);
    }

    const streaming = Promise.all(work.map((w) => client.work(w.chains, w.random)));
    let failure: unknown;
    streaming.catch((e: unknown) => (failure = e)); // awaited below; reported at once meanwhile

    const kills = 3 + Math.floor(schedule() * 3);
    const killLog: string[] = [];
    const duplicateChecks: string[] = [];
    for (let k = 0; k < kills; k++) {
      // Kill mid-stream: after this process has committed something, at a random moment.
      const had = client.receipts.size;
      const waitUntil = Date.now() + 10_000;
      while (client.receipts.size === had) {
        if (failure !== undefined) throw failure;
        if (Date.now() > waitUntil) throw new Error(`no receipt since restart ${k}: ${svc.stderr()}`);
        await sleep(5);
      }
      const delay = Math.floor(schedule() * 600);
      await sleep(delay);
      const receiptsAtKill = client.receipts.size;
      const { aliveAtKill, signal } = await killHard(svc);
      expect(aliveAtKill, `the server died before kill ${k + 1}: ${svc.stderr()}`).toBe(true);
      expect(signal).toBe('SIGKILL');
      killLog.push(`kill ${k + 1} after ${delay} ms, ${receiptsAtKill} receipts`);

      svc = start(dir, port, operator);
      await waitReady(svc, base, 15_000);
      expect(svc.logVerifierKey(), 'the log key survives restarts').toBe(logKeyText);

      // A resend of an event that has its receipt is answered with that receipt, byte for byte.
      const known = [...client.receipts.keys()];
      for (let i = 0; i < 3; i++) {
        const hash = known[Math.floor(schedule() * known.length)]!;
        const res = await http(base, 'POST', '/v1/events', sentByHash.get(hash));
        expect(res.status, res.text).toBe(200);
        expect(res.json.duplicate).toBe(true);
        expect(JSON.stringify(res.json.receipt)).toBe(JSON.stringify(client.receipts.get(hash)));
        duplicateChecks.push(hash);
      }
    }
    await sleep(200);
    client.stop();
    await streaming;
    expect(client.problems).toEqual([]);

    // Wait for a checkpoint of the whole log, then an orderly shutdown (SIGTERM, exit 0).
    const deadline = Date.now() + 5000;
    for (;;) {
      const cp = await http(base, 'GET', '/v1/checkpoint.json');
      const size = (await http(base, 'GET', '/readyz')).json.size as number;
      if (cp.json.size === size) break;
      if (Date.now() > deadline) throw new Error('no checkpoint covers the whole log');
      await sleep(50);
    }
    svc.child.kill('SIGTERM');
    expect((await svc.exited).code).toBe(0);
    expect(svc.closedCleanly()).toBe(true);

    const sent = [...bootstrap.map((e) => e.hash), ...chains.flatMap((c) => c.made)];
    let saved: VerifierState | undefined;
    const store = new SqliteStore({ path: join(dir, 'ledger.db') });
    try {
      const head = await store.head();
      const leaves = await store.getLeaves(0, head.size);
      expect(checkReceipts(logKeyText, leaves, client.receipts, sent)).toEqual([]);
      expect(head.size).toBe(sent.length);
      const verdict = await verifyLog(storeSource(store), { logKey: logKeyText, origin: ORIGIN });
      expect(verdict).toMatchObject({ ok: true, size: sent.length, checkpoint: { size: sent.length } });
      if (verdict.ok) saved = verdict.newState;

      console.log(
        `crash test (seed ${SEED}): ${kills} kills (${killLog.join('; ')}); ${sent.length} events, ` +
          `${client.singles} single and ${client.batches} batch requests, ${client.networkErrors} ` +
          `connection failures (resent), ${client.lostAnswers} events committed whose answer the kill ` +
          `lost (resend answered duplicate), ${duplicateChecks.length} receipted events resent and checked`,
      );

      // Negative controls: the same checks on doctored evidence must fail.
      const last = [...client.receipts.values()].reduce((a, b) => (a.index > b.index ? a : b));
      const withoutLast = leaves.filter((l) => l.index !== last.index);
      expect(checkReceipts(logKeyText, withoutLast, client.receipts, sent)).toContain(
        `receipted event ${last.eventHash} is missing: no entry at index ${last.index}`,
      );
      const twice = [...leaves, { ...leaves[leaves.length - 1]!, index: leaves.length }];
      expect(checkReceipts(logKeyText, twice, client.receipts, sent).join('\n')).toContain(
        'is in the log twice',
      );
      const forged = new Map(client.receipts);
      forged.set(last.eventHash, { ...last, index: last.index - 1 });
      expect(checkReceipts(logKeyText, leaves, forged, sent).join('\n')).toContain('does not verify');
      const otherLogKey = formatVerifierKey(generateSigningKey(ORIGIN));
      expect(checkReceipts(otherLogKey, leaves, client.receipts, sent).join('\n')).toContain(
        'does not verify',
      );
    } finally {
      await store.close();
    }

    // A copy of the data directory that lost its last committed entry (and its head with it):
    // a verifier that kept the state of its last run refuses it. (storeSource leaves out
    // checkpoints past the head, so the store alone no longer shows the lost entry.)
    const doctored = join(tempDir(), 'ledger.db');
    copyFileSync(join(dir, 'ledger.db'), doctored);
    const db = new DatabaseSync(doctored);
    db.exec(`DELETE FROM leaves WHERE idx = ${sent.length - 1}; UPDATE head SET size = ${sent.length - 1}`);
    db.close();
    const lost = new SqliteStore({ path: doctored });
    try {
      const head = await lost.head();
      const leaves = await lost.getLeaves(0, head.size);
      expect(checkReceipts(logKeyText, leaves, client.receipts, sent).length).toBeGreaterThan(0);
      expect(saved).toMatchObject({ size: sent.length });
      const verdict = await verifyLog(storeSource(lost), {
        logKey: logKeyText,
        origin: ORIGIN,
        ...(saved === undefined ? {} : { state: saved }),
      });
      expect(verdict).toMatchObject({ ok: false, check: 'LOG_TRUNCATED' });
    } finally {
      await lost.close();
    }
  }, 60_000);
});

describe('restart after SIGKILL', () => {
  it('a restarted service on the same data directory takes over without waiting for the dead process', async () => {
    const dir = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const operator = new TestEmitter('ledger');
    const first = start(dir, port, operator);
    await waitReady(first, base, 15_000);
    const genesis = genesisEvent(operator);
    const res = await http(base, 'POST', '/v1/events', genesis);
    expect(res.status).toBe(201);
    await killHard(first);

    // As a supervisor would: start it again at once. It must come up and keep the entry.
    const second = start(dir, port, operator);
    await waitReady(second, base, 5000);
    const again = await http(base, 'POST', '/v1/events', genesis);
    expect(again.status).toBe(200);
    expect(again.json.receipt).toEqual(res.json.receipt);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 30_000);
});
