// A real crash test of the embedded store: a child process (crash-child.ts) appends signed
// batches to a SQLite file and prints each receipt once `submit` resolved; it is SIGKILLed
// at a random moment, restarted on the same file, and killed again. After every kill the
// file must hold every receipted event at its receipted index, and a whole number of
// batches: the head, the leaf rows, the leaves' root and the stored tree nodes all agree,
// and no row lies beyond the head. Two negative controls show that the checks bite: a
// child that prints receipts before its commit, and a file with half a batch in it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { toHex } from '@civic-ledger/crypto';
import { chainKey } from '@civic-ledger/chain';
import { decodeLeaf } from '@civic-ledger/leaf';
import { CompactRange, hashLeaf, loadCompactRange, type NodeReader } from '@civic-ledger/merkle';
import { GENESIS_PREV } from '@civic-ledger/schemas';
import { SqliteStore } from '@civic-ledger/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { openWriter, seededRandom, type PrintedReceipt } from './crash-child.ts';
import { rebuildDerived } from './rebuild.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
/** Size of the bootstrap batch (genesis, two organizations, two keys, two sources, two datasets). */
const BOOTSTRAP = 9;
const ROUNDS = 5;
const SEED = Number(process.env['CRASH_TEST_SEED'] ?? Date.now() % 1_000_000_000);

// Seeded, so a failing run can be replayed with CRASH_TEST_SEED.
const random = seededRandom(SEED);

const dir = mkdtempSync(join(tmpdir(), 'civic-ledger-crash-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  // Whatever failed, no writer outlives the test.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface ChildRun {
  receipts: PrintedReceipt[];
  /** The child was still running when it was killed (it did not die of an error first). */
  aliveAtKill: boolean;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the child on `path` until `ready` holds for the receipts printed so far, then kills
 * it after `delayMs` (0: in the same tick the output arrived). Resolves once the child is
 * gone and its output drained; receipts are the complete lines it printed.
 */
function runChild(
  path: string,
  options: {
    seed: number;
    delayMs: number;
    ready: (r: PrintedReceipt[]) => boolean;
    early?: boolean;
    writerThread?: boolean;
  },
): Promise<ChildRun> {
  const args = [
    CHILD,
    path,
    String(options.seed),
    ...(options.early ? ['--receipts-before-commit'] : []),
    ...(options.writerThread ? ['--writer-thread'] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let stderr = '';
  const receipts: PrintedReceipt[] = [];
  let aliveAtKill: boolean | undefined;
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (aliveAtKill !== undefined) return;
    aliveAtKill = child.exitCode === null && child.signalCode === null;
    child.kill('SIGKILL');
  };
  // Never wait forever for a child that prints nothing.
  const guard = setTimeout(kill, 8000);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  child.stdout.on('data', (s: string) => {
    out += s;
    const nl = out.lastIndexOf('\n');
    if (nl < 0) return;
    // A line the kill cut short has no newline and is never parsed.
    for (const line of out.slice(0, nl).split('\n')) receipts.push(JSON.parse(line) as PrintedReceipt);
    out = out.slice(nl + 1);
    if (timer === undefined && aliveAtKill === undefined && options.ready(receipts)) {
      if (options.delayMs === 0) kill();
      else timer = setTimeout(kill, options.delayMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      children.delete(child);
      resolve({ receipts, aliveAtKill: aliveAtKill ?? false, signal, stderr });
    });
  });
}

interface Verdict {
  problems: string[];
  size: number;
  rootHex: string;
}

interface LeafFacts {
  index: number;
  eventHash: string;
  event: { emitter: string; stream: string; seq: number; prev: string };
}
/** Decoded leaves by leaf hash: the same bytes decode the same, so each round decodes only its new leaves. */
const decoded = new Map<string, LeafFacts>();
function decodeCached(leafHash: Uint8Array, leaf: Uint8Array): LeafFacts {
  const key = toHex(leafHash);
  let facts = decoded.get(key);
  if (facts === undefined) {
    const d = decodeLeaf(leaf);
    facts = { index: d.index, eventHash: d.eventHash, event: d.event as LeafFacts['event'] };
    decoded.set(key, facts);
  }
  return facts;
}

/** Opens the file as a restarting process would and lists every way it breaks the promises. */
async function verify(path: string, receipts: readonly PrintedReceipt[]): Promise<Verdict> {
  const problems: string[] = [];
  const store = new SqliteStore({ path });
  try {
    const head = await store.head();
    const rootHex = toHex(head.rootHash);

    // (2) The visible leaves are exactly indexes 0..size-1, each decodes to its own index,
    //     links its chain, and together they give the head's root.
    const leaves = await store.getLeaves(0, head.size);
    if (leaves.length !== head.size)
      problems.push(`size: head says ${head.size}, ${leaves.length} leaves visible`);
    const range = CompactRange.empty();
    const chains = new Map<string, { seq: number; hash: string }>();
    leaves.forEach((l, i) => {
      if (l.index !== i) problems.push(`leaf: row ${i} has index ${l.index}`);
      const leafHash = hashLeaf(l.leaf);
      range.append(leafHash);
      try {
        const d = decodeCached(leafHash, l.leaf);
        if (d.index !== l.index) problems.push(`leaf: ${l.index} decodes to index ${d.index}`);
        if (d.eventHash !== l.eventHash)
          problems.push(`leaf: ${l.index} stored hash differs from its event's`);
        const e = d.event;
        const key = chainKey(e.emitter, e.stream);
        const last = chains.get(key) ?? { seq: 0, hash: GENESIS_PREV };
        if (e.seq !== last.seq + 1 || e.prev !== last.hash) {
          problems.push(`chain: ${key} seq ${e.seq} at ${l.index} does not follow seq ${last.seq}`);
        }
        if (l.chain !== key || l.seq !== e.seq)
          problems.push(`leaf: ${l.index} stored chain position differs`);
        chains.set(key, { seq: e.seq, hash: d.eventHash });
      } catch (e) {
        problems.push(`leaf: ${l.index} does not decode: ${(e as Error).message}`);
      }
    });
    if (toHex(range.root()) !== rootHex)
      problems.push(`root: the leaves give ${toHex(range.root())}, head ${rootHex}`);
    // The stored tree nodes give the same root (what Ledger.open checks on restart).
    try {
      const stored = await loadCompactRange(store as NodeReader, head.size);
      if (toHex(stored.root()) !== rootHex) problems.push('nodes: stored tree nodes give another root');
    } catch (e) {
      problems.push(`nodes: ${(e as Error).message}`);
    }

    // (3) Nothing beyond the head is visible, and (one SQLite transaction per batch) nothing
    //     beyond it was left in the file at all.
    const beyond = await store.getLeaves(head.size, head.size + 1000);
    if (beyond.length > 0) problems.push(`beyond-head: ${beyond.length} leaves visible at >= ${head.size}`);
    const raw = new DatabaseSync(path, { readOnly: true });
    try {
      const count = (sql: string) => (raw.prepare(sql).get(head.size) as { n: number }).n;
      const rows = count('SELECT count(*) AS n FROM leaves WHERE idx >= ?');
      const regs = count('SELECT count(*) AS n FROM registry WHERE idx >= ?');
      if (rows + regs > 0)
        problems.push(`beyond-head: ${rows} leaf and ${regs} registry rows in the file at >= ${head.size}`);
    } finally {
      raw.close();
    }

    // (1) Every receipt printed is durable: its event at its index, found by its hash too.
    const byHash = new Map(
      (await store.getLeavesByEventHash(receipts.map((r) => r.eventHash))).map((l) => [l.eventHash, l.index]),
    );
    let missing = 0;
    for (const r of receipts) {
      const atIndex = leaves[r.index];
      if (atIndex?.eventHash !== r.eventHash || byHash.get(r.eventHash) !== r.index) {
        if (missing++ < 5)
          problems.push(`receipt-missing: ${r.eventHash} receipted at ${r.index} (head ${head.size})`);
      }
    }
    if (missing > 5) problems.push(`receipt-missing: ${missing - 5} more`);
    return { problems, size: head.size, rootHex };
  } finally {
    await store.close();
  }
}

describe(`crash safety of the SQLite ledger (seed ${SEED})`, () => {
  // The store's commits on the calling thread, and on a writer thread of their own.
  it.each([
    ['', false],
    [', appends on a writer thread', true],
  ])(
    'keeps every receipted event and never shows part of a batch across SIGKILLs and restarts%s',
    { timeout: 40_000 },
    async (_, writerThread) => {
      const path = join(dir, writerThread ? 'ledger-thread.db' : 'ledger.db');
      const all: PrintedReceipt[] = [];
      let size = 0;
      let rootHex = '';
      for (let round = 0; round < ROUNDS; round++) {
        const delayMs = 100 + Math.floor(random() * 500);
        const at = `seed ${SEED}, round ${round}, killed ${delayMs} ms after its first receipt`;
        const run = await runChild(path, {
          seed: SEED + round,
          delayMs,
          ready: (r) => r.length > 0,
          writerThread,
        });
        expect(run.aliveAtKill, `${at}: the child died by itself: ${run.stderr}`).toBe(true);
        expect(run.signal).toBe('SIGKILL');
        // It resumed exactly where the last committed batch ended.
        expect(run.receipts[0]?.index, at).toBe(size);
        all.push(...run.receipts);

        const v = await verify(path, all);
        expect(v.problems, at).toEqual([]);
        expect(v.size, `${at}: the log grew`).toBeGreaterThan(size);
        size = v.size;
        rootHex = v.rootHex;
      }
      expect(all.length).toBeGreaterThan(ROUNDS);

      // The derived rows rebuild from the leaves alone to the same root, and serve every receipt.
      const store = new SqliteStore({ path });
      try {
        const rebuilt = await rebuildDerived(store);
        expect(rebuilt.size).toBe(size);
        expect(toHex(rebuilt.rootHash)).toBe(rootHex);
      } finally {
        await store.close();
      }
      expect((await verify(path, all)).problems).toEqual([]);
    },
  );

  it('catches receipts given before the commit (negative control)', { timeout: 30_000 }, async () => {
    // The broken child prints a batch's receipts, then submits it; killed as soon as they
    // arrive, the batch has (nearly always) not committed yet.
    let caught: string[] = [];
    for (let attempt = 0; attempt < 4 && caught.length === 0; attempt++) {
      const path = join(dir, `early-${attempt}.db`);
      const run = await runChild(path, {
        seed: SEED,
        delayMs: 0,
        early: true,
        ready: (r) => r.some((x) => x.index >= BOOTSTRAP),
      });
      expect(run.aliveAtKill, run.stderr).toBe(true);
      caught = (await verify(path, run.receipts)).problems;
    }
    expect(caught.length).toBeGreaterThan(0);
    expect(caught.every((p) => p.startsWith('receipt-missing'))).toBe(true);
  });

  it('catches half a batch in the file (negative control)', { timeout: 30_000 }, async () => {
    // A log written in-process by the same writer the child runs.
    const path = join(dir, 'half.db');
    const { writer, bootstrap } = await openWriter(path, SEED);
    const receipts = [...bootstrap];
    try {
      for (const size of [1, 37, 200, 64]) receipts.push(...(await writer.batch(size)));
    } finally {
      await writer.close();
    }
    const v = await verify(path, receipts);
    expect(v.problems).toEqual([]);
    const db = new DatabaseSync(path);
    try {
      // Rows of a next batch written, head not moved (a copy of the last row, one further on).
      db.exec(`CREATE TEMP TABLE extra AS SELECT * FROM leaves WHERE idx = ${v.size - 1};
        UPDATE extra SET idx = idx + 1; INSERT INTO leaves SELECT * FROM extra;`);
      expect((await verify(path, receipts)).problems).toEqual([
        expect.stringMatching(/^beyond-head: 1 leaf/),
      ]);
      db.exec(`DELETE FROM leaves WHERE idx >= ${v.size}`);
      // Head moved, a row of the batch missing.
      db.exec(`DELETE FROM leaves WHERE idx = ${receipts.at(-1)!.index}`);
      const problems = (await verify(path, receipts)).problems;
      expect(problems).toContainEqual(expect.stringMatching(/^size: /));
      expect(problems).toContainEqual(expect.stringMatching(/^root: /));
      expect(problems).toContainEqual(expect.stringMatching(/^receipt-missing: /));
    } finally {
      db.close();
    }
  });
});
