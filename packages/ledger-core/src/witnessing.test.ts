// Witnessed checkpoints against real witness servers (services/witness on port 0, SQLite in
// a temp directory): publication with k of n, witnesses down, back, behind (409), refusing a
// checkpoint inconsistent with what they cosigned, slow; the published note passes the
// policy's quorum check; a published size is never rewritten; policies that do not fit.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import { ed25519Signer, parseNote } from '@civic-ledger/signed-note';
import { MemoryStore, type LedgerStore } from '@civic-ledger/storage';
import {
  MemoryLog,
  checkQuorum,
  formatCosignatureVerifierKey,
  parsePolicy,
  requestCosignature,
  type Policy,
} from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, type SubmitResult } from './index.ts';
import { bootstrapEvents, registerSource, TestEmitter } from './testing.ts';
import {
  WitnessingError,
  checkLedgerPolicy,
  describeShortfall,
  quorumShortfall,
  requireCheckpointQuorum,
  type WitnessRound,
} from './witnessing.ts';

const ORIGIN = 'ledger.witnessed.example/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_VKEY = formatVerifierKey(logKey);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-witnessing-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A witness process stand-in: the real service, which can be stopped and started again. */
class TestWitness {
  readonly name: string;
  readonly key: SigningKey;
  readonly dbPath: string;
  running: RunningWitness | undefined;
  port = 0;
  /** Its cosignature verifier key (type 0x04), what a policy's witness line holds. */
  verifierKey = '';
  constructor(name: string, dir: string) {
    this.name = name;
    this.key = generateSigningKey(`${name}.witness.example`);
    this.dbPath = join(dir, `${name}.db`);
  }
  async start(options: { dbPath?: string; delayMs?: number } = {}): Promise<this> {
    const delay = options.delayMs;
    this.running = await startWitness(
      {
        key: this.key,
        dbPath: options.dbPath ?? this.dbPath,
        logs: [{ origin: ORIGIN, verifierKeys: [LOG_VKEY] }],
        port: this.port,
      },
      {
        logger: false,
        ...(delay === undefined
          ? {}
          : { hooks: { beforeCommit: () => new Promise<void>((r) => setTimeout(r, delay)) } }),
      },
    );
    this.port = Number(new URL(this.running.url).port);
    this.verifierKey = this.running.witness.verifierKey;
    return this;
  }
  async stop(): Promise<void> {
    await this.running?.close();
    this.running = undefined;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

async function witnesses(n: number): Promise<TestWitness[]> {
  const dir = tempDir();
  const ws = await Promise.all(
    Array.from({ length: n }, (_, i) => new TestWitness(`w${i + 1}`, dir).start()),
  );
  cleanup.push(async () => {
    for (const w of ws) await w.stop();
  });
  return ws;
}

function policyText(ws: readonly TestWitness[], k: number | 'all', log = LOG_VKEY): string {
  return [
    `log ${log}`,
    ...ws.map((w) => `witness ${w.name} ${w.verifierKey} ${w.url}`),
    `group oversight ${k} ${ws.map((w) => w.name).join(' ')}`,
    'quorum oversight',
    '',
  ].join('\n');
}

interface World {
  ledger: Ledger;
  store: LedgerStore;
  agency: TestEmitter;
  rounds: WitnessRound[];
  grow(n?: number): Promise<number>;
}

let sources = 0;
async function world(
  policy: Policy,
  options: { intervalMs?: number; timeoutMs?: number; store?: LedgerStore } = {},
): Promise<World> {
  const store = options.store ?? new MemoryStore();
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const rounds: WitnessRound[] = [];
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: ed25519Signer(logKey),
    operatorKey: operator.verifierKey,
    signatureThreads: 0,
    witnessing: {
      policy,
      intervalMs: options.intervalMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 1000,
      onRound: (r) => rounds.push(r),
    },
  });
  cleanup.push(() => ledger.close());
  if (ledger.size === 0) expectOk(await ledger.submit(bootstrapEvents(operator, [agency])));
  return {
    ledger,
    store,
    agency,
    rounds,
    grow: async (n = 1) => {
      expectOk(
        await ledger.submit(
          Array.from({ length: n }, () => registerSource(agency, `transport-agency/src-${++sources}`)),
        ),
      );
      return ledger.size;
    },
  };
}

function expectOk(results: SubmitResult[]): void {
  for (const r of results) if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lines of a note's signatures: [key name] in order. */
function signers(note: string): string[] {
  return parseNote(note).signatures.map((s) => s.name);
}

describe('witnessed checkpoints', () => {
  it('publishes a checkpoint carrying the log signature and every cosignature, passing the policy', async () => {
    const ws = await witnesses(3);
    const policy = parsePolicy(policyText(ws, 2));
    const { ledger, store } = await world(policy);
    const cp = await ledger.checkpointNow();
    expect(cp.size).toBe(ledger.size);
    expect(signers(cp.note)).toEqual([ORIGIN, ...ws.map((w) => w.key.name)]);
    expect((await store.latestCheckpoint())?.note).toBe(cp.note);
    const q = requireCheckpointQuorum(cp.note, policy);
    expect(q.witnesses).toEqual(['w1', 'w2', 'w3']);
    // Each witness now serves that checkpoint as the latest it cosigned.
    for (const w of ws) expect(w.running!.witness.latest(ORIGIN)?.size).toBe(cp.size);
    const status = ledger.witnessStatus()!;
    expect(status.published).toMatchObject({ size: cp.size, witnesses: ['w1', 'w2', 'w3'] });
    expect(status.latest).toMatchObject({ size: cp.size, quorum: true, published: true, shortfall: [] });
    expect(status.witnesses.map((w) => [w.witness, w.knownSize, w.last?.result])).toEqual([
      ['w1', cp.size, 'cosigned'],
      ['w2', cp.size, 'cosigned'],
      ['w3', cp.size, 'cosigned'],
    ]);
    expect(status.checkpointWithinMs).toBe(60_000 + 1000);
  });

  it('publishes with 2 of 3 while one witness is down, and says which failed and why', async () => {
    const ws = await witnesses(3);
    const policy = parsePolicy(policyText(ws, 2));
    const { ledger, grow } = await world(policy);
    await ledger.checkpointNow();
    await ws[2]!.stop();
    const size = await grow(3);
    const cp = await ledger.checkpointNow();
    expect(cp.size).toBe(size);
    expect(signers(cp.note)).toEqual([ORIGIN, ws[0]!.key.name, ws[1]!.key.name]);
    expect(requireCheckpointQuorum(cp.note, policy).witnesses).toEqual(['w1', 'w2']);
    const latest = ledger.witnessStatus()!.latest!;
    expect(latest).toMatchObject({ size, quorum: true, published: true, signed: ['w1', 'w2'] });
    expect(latest.witnesses[2]).toMatchObject({
      witness: 'w3',
      result: 'failed',
      code: 'WITNESS_UNREACHABLE',
    });
    // A verifier whose policy wants all three refuses it, naming the group.
    const strict = parsePolicy(policyText(ws, 'all'));
    expect(() => requireCheckpointQuorum(cp.note, strict)).toThrow(
      expect.objectContaining({
        code: 'QUORUM_NOT_MET',
        message: expect.stringContaining('group "oversight" needs 3 of w1, w2, w3, has 2 (w1, w2)'),
      }),
    );
  });

  it('publishes nothing with two of three down, says so, and publishes at the cadence once one is back', async () => {
    const ws = await witnesses(3);
    const policy = parsePolicy(policyText(ws, 2));
    const { ledger, store, grow, rounds } = await world(policy, { intervalMs: 50, timeoutMs: 500 });
    await waitFor(
      'the first cosigned checkpoint',
      async () => (await store.latestCheckpoint()) !== undefined,
    );
    const before = (await store.latestCheckpoint())!;
    await ws[1]!.stop();
    await ws[2]!.stop();
    const size = await grow(2);
    await waitFor('a round without quorum', () => rounds.some((r) => r.size === size && !r.quorum));
    await expect(ledger.checkpointNow()).rejects.toMatchObject({
      code: 'QUORUM_NOT_MET',
      message: expect.stringContaining('group "oversight" needs 2 of w1, w2, w3, has 1 (w1)'),
    });
    expect((await store.latestCheckpoint())?.note).toBe(before.note);
    const status = ledger.witnessStatus()!;
    expect(status.published?.size).toBe(before.size);
    expect(status.failingSince).not.toBeNull();
    expect(status.latest).toMatchObject({ size, quorum: false, published: false, signed: ['w1'] });
    expect(status.latest!.shortfall).toEqual([
      { name: 'oversight', threshold: 2, members: ['w1', 'w2', 'w3'], holding: ['w1'] },
    ]);
    expect(status.latest!.witnesses.filter((w) => w.result === 'failed').map((w) => w.witness)).toEqual([
      'w2',
      'w3',
    ]);

    await ws[1]!.start();
    await waitFor('publication once w2 is back', async () => (await store.latestCheckpoint())?.size === size);
    const published = (await store.latestCheckpoint())!.note;
    expect(requireCheckpointQuorum(published, policy).witnesses).toEqual(['w1', 'w2']);
    expect(ledger.witnessStatus()!.failingSince).toBeNull();
    // w1 had cosigned this checkpoint in a round without quorum: its cosignature was kept.
    const win = rounds.find((r) => r.size === size && r.published)!;
    expect(win.witnesses[0]).toMatchObject({ witness: 'w1', result: 'kept' });
  });

  it('adopts the size a witness answers with 409 (restarted from an older state) and converges', async () => {
    const ws = await witnesses(3);
    const w3 = ws[2]!;
    const policy = parsePolicy(policyText(ws, 2));
    const { ledger, grow, rounds } = await world(policy);
    const a = (await ledger.checkpointNow()).size;
    await w3.stop();
    const oldState = `${w3.dbPath}.old`;
    copyFileSync(w3.dbPath, oldState);
    await w3.start();
    await grow(2);
    const b = (await ledger.checkpointNow()).size;
    expect(ledger.witnessStatus()!.witnesses[2]).toMatchObject({ knownSize: b });
    await w3.stop();
    await w3.start({ dbPath: oldState }); // its state: size a, not b
    const c = await grow(2);
    await waitFor('a round with w3 cosigning', async () => {
      await ledger.checkpointNow().catch(() => undefined);
      return rounds.some((r) => r.size === c && r.witnesses[2]?.result === 'cosigned');
    });
    const outcome = rounds.find((r) => r.size === c)!.witnesses[2]!;
    expect(outcome).toMatchObject({ result: 'cosigned', oldSize: a, conflictSize: a });
    expect(w3.running!.witness.latest(ORIGIN)?.size).toBe(c);
    const cp = await ledger.checkpointNow();
    expect(requireCheckpointQuorum(cp.note, policy).witnesses).toEqual(['w1', 'w2', 'w3']);
  });

  it('a witness that cosigned another history refuses the checkpoint (422, alarm); 2 of 3 still publish', async () => {
    const ws = await witnesses(3);
    const w3 = ws[2]!;
    const policy = parsePolicy(policyText(ws, 2));
    const { ledger, grow } = await world(policy);
    // Someone holding the log key shows w3 a different log: 3 leaves of other content.
    const fork = new MemoryLog(ORIGIN, logKey).grow(3, 'forged');
    expect((await requestCosignature(w3.url, 0, [], fork.checkpoint())).status).toBe('cosigned');
    const size = await grow(2);
    const cp = await ledger.checkpointNow();
    expect(cp.size).toBe(size);
    expect(requireCheckpointQuorum(cp.note, policy).witnesses).toEqual(['w1', 'w2']);
    expect(ledger.witnessStatus()!.latest!.witnesses[2]).toMatchObject({
      witness: 'w3',
      result: 'failed',
      code: 'WITNESS_REFUSED',
      httpStatus: 422,
      refusal: 'BAD_CONSISTENCY_PROOF',
      conflictSize: 3,
    });
    expect(w3.running!.witness.alarms().map((a) => a.kind)).toEqual(['BAD_PROOF']);
    expect(w3.running!.witness.latest(ORIGIN)?.size).toBe(3);
  });

  it('a slow witness times out without holding publication past its timeout', async () => {
    const dir = tempDir();
    const ws = await witnesses(2);
    const slow = await new TestWitness('w3', dir).start({ delayMs: 1500 });
    cleanup.push(() => slow.stop());
    const all = [...ws, slow];
    const policy = parsePolicy(policyText(all, 2));
    const { ledger } = await world(policy, { timeoutMs: 300 });
    const started = performance.now();
    const cp = await ledger.checkpointNow();
    expect(performance.now() - started).toBeLessThan(1200);
    expect(requireCheckpointQuorum(cp.note, policy).witnesses).toEqual(['w1', 'w2']);
    expect(ledger.witnessStatus()!.latest!.witnesses[2]).toMatchObject({
      result: 'failed',
      code: 'WITNESS_TIMEOUT',
      message: 'no cosignature within 300 ms',
    });
  });

  it('never rewrites a published size: a witness back later cosigns it, the stored note stays', async () => {
    const ws = await witnesses(3);
    const policy = parsePolicy(policyText(ws, 2));
    await ws[2]!.stop();
    const { ledger, store, rounds } = await world(policy, { intervalMs: 50 });
    await waitFor('publication', async () => (await store.latestCheckpoint())?.size === ledger.size);
    const stored = (await store.latestCheckpoint())!;
    expect(signers(stored.note)).toHaveLength(3);
    await ws[2]!.start();
    await waitFor('w3 catching up', () => ledger.witnessStatus()!.witnesses[2]!.knownSize === stored.size);
    expect(rounds.some((r) => r.kind === 'catch-up' && r.witnesses[0]?.result === 'cosigned')).toBe(true);
    expect(ws[2]!.running!.witness.latest(ORIGIN)?.size).toBe(stored.size);
    expect((await store.getCheckpoint(stored.size))?.note).toBe(stored.note);
    expect((await ledger.checkpointNow()).note).toBe(stored.note);
  });

  it('after a restart, reports the published checkpoint and starts each witness from its size', async () => {
    const ws = await witnesses(3);
    const policy = parsePolicy(policyText(ws, 2));
    const store = new MemoryStore();
    const first = await world(policy, { store });
    const cp = await first.ledger.checkpointNow();
    await first.ledger.close();
    const second = await world(policy, { store });
    expect(second.ledger.witnessStatus()!.published).toMatchObject({
      size: cp.size,
      witnesses: ['w1', 'w2', 'w3'],
    });
    expectOk(await second.ledger.submit([registerSource(first.agency, 'transport-agency/after-restart')]));
    const size = second.ledger.size;
    await second.ledger.checkpointNow();
    const round = second.rounds.find((r) => r.size === size)!;
    expect(round.witnesses.map((w) => [w.result, w.oldSize, w.conflictSize])).toEqual([
      ['cosigned', cp.size, undefined],
      ['cosigned', cp.size, undefined],
      ['cosigned', cp.size, undefined],
    ]);
  });
});

describe('policies', () => {
  /** A witness's cosignature verifier key text (type 0x04), as its service prints it. */
  const wKey = (name: string) => formatCosignatureVerifierKey(name, generateSigningKey(name).publicKey);

  it('refuses a policy naming another log key, with its line, before taking the writer lease', async () => {
    const other = formatVerifierKey(generateSigningKey(ORIGIN));
    const policy = parsePolicy(
      `# mine\nlog ${other}\nwitness w1 ${wKey('w1')} http://127.0.0.1:1\nquorum w1\n`,
    );
    expect(() => checkLedgerPolicy(policy, { origin: ORIGIN, signers: ed25519Signer(logKey) })).toThrow(
      expect.objectContaining({ code: 'POLICY_LOG_KEY', details: { line: 2 } }),
    );
    const store = new MemoryStore();
    await expect(
      Ledger.open({
        store,
        origin: ORIGIN,
        logSigner: ed25519Signer(logKey),
        operatorKey: new TestEmitter('ledger').verifierKey,
        witnessing: { policy },
      }),
    ).rejects.toBeInstanceOf(WitnessingError);
    // The lease is free: another writer opens at once.
    const ok = await Ledger.open({
      store,
      origin: ORIGIN,
      logSigner: ed25519Signer(logKey),
      operatorKey: new TestEmitter('ledger').verifierKey,
      leaseTtlMs: 60_000,
    });
    await ok.close();
  });

  it('refuses a witness without URL, a log key not named after the origin, and bad timings', () => {
    const noUrl = parsePolicy(`log ${LOG_VKEY}\nwitness w1 ${wKey('w1')}\nquorum w1\n`);
    expect(() => checkLedgerPolicy(noUrl, { origin: ORIGIN, signers: ed25519Signer(logKey) })).toThrow(
      expect.objectContaining({ code: 'POLICY_WITNESS_URL', details: { line: 2 } }),
    );
    const good = parsePolicy(`log ${LOG_VKEY}\nwitness w1 ${wKey('w1')} http://127.0.0.1:1\nquorum w1\n`);
    expect(() =>
      checkLedgerPolicy(good, { origin: 'other.example/log', signers: ed25519Signer(logKey) }),
    ).toThrow(expect.objectContaining({ code: 'LOG_KEY_ORIGIN' }));
    expect(() => checkLedgerPolicy(good, { origin: ORIGIN, signers: ed25519Signer(logKey) })).not.toThrow();
  });

  it('names every group that fails, nested ones too', () => {
    const policy = parsePolicy(
      [
        `log ${LOG_VKEY}`,
        ...['a1', 'a2', 'b1', 'b2', 'c'].map((n) => `witness ${n} ${wKey(n)} http://127.0.0.1:1`),
        'group a any a1 a2',
        'group b all b1 b2',
        'group top 2 a b c',
        'quorum top',
        '',
      ].join('\n'),
    );
    const short = quorumShortfall(policy, ['b1', 'c']);
    expect(short.map((s) => s.name)).toEqual(['top', 'a', 'b']);
    expect(describeShortfall(short)).toBe(
      'group "top" needs 2 of a, b, c, has 1 (c); group "a" needs 1 of a1, a2, has 0; group "b" needs 2 of b1, b2, has 1 (b1)',
    );
    expect(quorumShortfall(policy, ['a2', 'c'])).toEqual([]);
    const single = parsePolicy(`log ${LOG_VKEY}\nwitness c ${wKey('c')} http://127.0.0.1:1\nquorum c\n`);
    expect(describeShortfall(quorumShortfall(single, []))).toBe('witness "c" has not cosigned');
  });

  it('checks a note against a policy: a checkpoint without cosignatures fails a 1-of-1 quorum', () => {
    const log = new MemoryLog(ORIGIN, logKey).grow(2);
    const policy = parsePolicy(`log ${LOG_VKEY}\nwitness c ${wKey('c')} http://127.0.0.1:1\nquorum c\n`);
    expect(checkQuorum(log.checkpoint(), policy).ok).toBe(false);
    expect(() => requireCheckpointQuorum(log.checkpoint(), policy)).toThrow(
      expect.objectContaining({ code: 'QUORUM_NOT_MET', details: expect.objectContaining({ size: 2 }) }),
    );
  });
});
