// Acceptance: every way an operator (or anyone with write access) can tamper with a log is
// caught by the real `civic-ledger verify`, exit 1, naming the check and the ledger index
// that was tampered with: on a copy of a standalone data dir (SQLite, service stopped) and
// on a full evidence bundle exported by `civic-ledger export` (manifest re-hashed as a
// careful forger would). One base ledger is built once; every case edits its own copy.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { writeFullBundle } from '@civic-ledger/bundle';
import {
  formatVerifierKey,
  generateSigningKey,
  readSigningKeyFile,
  sha256,
  writeSigningKeyFile,
} from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { decodeLeaf, encodeLeafText } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { TestEmitter } from '@civic-ledger/ledger-core/testing';
import { ed25519Signer, parseCheckpoint, parseNote, signCheckpoint } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  borderRanges,
  canonicalLine,
  cli,
  linesOf,
  rehash,
  startCli,
  verify,
  writeLines,
  type VerifyReport,
  type VerifyRun,
} from './support.ts';

const SIZE = 400;
const CHECKPOINT_EVERY = 100; // batches of 50: signed checkpoints at 100, 200, 300, 400
const root = mkdtempSync(join(tmpdir(), 'cli-tamper-'));
const city = generateDemoCity({ seed: 'cli-tamper', size: SIZE, batchSize: 50 });
const origin = city.origin;
const base = join(root, 'base'); // the honest data dir
const baseBundle = join(root, 'base-bundle'); // its full bundle, exported by the CLI
let logKey: string;
/** A path no state is ever saved to: a verifier's first run. */
const NO_STATE = join(root, 'never-saved.json');
/** The states saved by verifying the untouched base (data dir, bundle): what verify has seen. */
const BASE_STATE = join(root, 'state-base.json');
const BUNDLE_STATE = join(root, 'state-bundle.json');
let control: { dir: VerifyRun; bundle: VerifyRun };

/** The honest log's leaves, decoded, and their event hashes as the store filed them. */
let honest: { leaf: Buffer; event: Record<string, unknown>; hash: string }[];

async function buildBase(): Promise<void> {
  mkdirSync(base);
  // What `start` does on first start: a new log key in <data dir>/log.key (0600).
  const key = generateSigningKey(origin);
  writeSigningKeyFile(join(base, 'log.key'), key);
  logKey = formatVerifierKey(key);
  const store = new SqliteStore({ path: join(base, 'ledger.db') });
  const ledger = await Ledger.open({
    store,
    origin,
    logSigner: ed25519Signer(key),
    operatorKey: city.operatorKey,
    checkpoints: { maxEntries: CHECKPOINT_EVERY, maxDelayMs: 60_000 },
    signatureThreads: 0,
  });
  try {
    for (const batch of city.batchesSync()) {
      const refused = (await ledger.submit(batch)).find((r) => !r.ok);
      if (refused) throw new Error(`the demo city was refused: ${JSON.stringify(refused)}`);
    }
    await ledger.checkpointNow();
  } finally {
    await ledger.close();
    await store.close();
  }
}

beforeAll(async () => {
  await buildBase();
  // The CLI serves the existing log (its own operator key, origin and log key) and exports it.
  const server = await startCli(['--data-dir', base]);
  try {
    expect(server.info).toMatchObject({ origin, logKey, size: SIZE });
    // Reading entries needs a token (access control is on by default): the operator issues
    // one to the city's oversight body with the issuer key start created, as its banner says.
    const token = join(root, 'oversight.token');
    const issued = await cli([
      'token',
      'issue',
      '--key',
      server.info.tokenIssuerKey!,
      '--origin',
      origin,
      '--org',
      'oversight-board',
      '--scope',
      'oversight',
      '--out',
      token,
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    const r = await cli([
      'export',
      '--url',
      server.info.url,
      ...pin(),
      '--token',
      token,
      '--out',
      baseBundle,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
  } finally {
    expect(await server.stop()).toBe(0);
  }
  const db = new DatabaseSync(join(base, 'ledger.db'), { readOnly: true });
  const rows = db.prepare('SELECT leaf, ehash FROM leaves ORDER BY idx').all() as unknown as {
    leaf: Uint8Array;
    ehash: string;
  }[];
  db.close();
  honest = rows.map((r) => ({
    leaf: Buffer.from(r.leaf),
    event: decodeLeaf(r.leaf).event,
    hash: r.ehash,
  }));
  // An oversight body's first runs: they save the state later runs are checked against.
  const [dir, bundle] = await Promise.all([
    verify(['--data-dir', base, ...pin(), '--state', BASE_STATE]),
    verify(['--bundle', baseBundle, ...pin(), '--state', BUNDLE_STATE]),
  ]);
  control = { dir, bundle };
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function pin(): string[] {
  return ['--log-key', logKey, '--origin', origin];
}

let copies = 0;
/** A copy of a data dir or bundle to tamper with. */
function copyOf(dir: string): string {
  const to = join(root, `copy-${copies++}`);
  cpSync(dir, to, { recursive: true });
  return to;
}

/** Raw SQL on a copy's ledger.db, as anyone with the file could. */
function tamperDb(dir: string, edit: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(join(dir, 'ledger.db'));
  try {
    edit(db);
  } finally {
    db.close();
  }
}

const leafAt = (db: DatabaseSync, idx: number): Buffer =>
  Buffer.from((db.prepare('SELECT leaf FROM leaves WHERE idx = ?').get(idx) as { leaf: Uint8Array }).leaf);

/** One digit of the event's claimed time (seconds) changed: still a well-formed leaf and event. */
function changeTime(leaf: string): string {
  const t = leaf.indexOf('"time":"');
  const z = leaf.indexOf('Z"', t);
  return `${leaf.slice(0, z - 1)}${(Number(leaf[z - 1]) + 1) % 10}${leaf.slice(z)}`;
}

/** The same leaf as a forger would re-file it at another position (`index` member rewritten). */
function renumbered(leaf: Uint8Array | string, index: number): string {
  const d = decodeLeaf(leaf);
  return encodeLeafText({
    index,
    admitted: d.admitted,
    eventCanonical: d.eventCanonical,
    signature: d.signature,
  });
}

/** RFC 9162 leaf hash, for the store's lhash column. */
const leafHash = (leaf: string): Uint8Array => sha256(Buffer.concat([Buffer.from([0]), Buffer.from(leaf)]));

/** The first event after `index` that rests on it: the next on its chain, or one naming it as input. */
function firstDependent(index: number): { at: number; check: 'CHAIN_BREAK' | 'UNKNOWN_INPUT' } {
  const hash = honest[index]!.hash;
  for (let j = index + 1; j < honest.length; j++) {
    const e = honest[j]!.event;
    if (e['prev'] === hash) return { at: j, check: 'CHAIN_BREAK' };
    if (Array.isArray(e['inputs']) && e['inputs'].includes(hash)) return { at: j, check: 'UNKNOWN_INPUT' };
  }
  throw new Error(`nothing rests on event ${index}`);
}

/** A checkpoint note of the honest log, re-signed over `rootHash` (default: its own) by `key`. */
function resigned(note: string, key: Parameters<typeof ed25519Signer>[0], rootHash?: Uint8Array): string {
  const body = parseCheckpoint(parseNote(note).text);
  return signCheckpoint({ ...body, ...(rootHash === undefined ? {} : { rootHash }) }, ed25519Signer(key));
}

function expectFailure(r: VerifyRun, expected: Partial<VerifyReport>): void {
  expect(r.code, `${r.run.stderr}\n${JSON.stringify(r.report)}`).toBe(1);
  expect(r.report).toMatchObject({ ok: false, stateSaved: false, ...expected });
  expect(r.report.message).toEqual(expect.any(String));
}

// --- the rewritten log (g), built once for both the data dir and the bundle cases ---------

const REWRITTEN_AT = 300;
let forged: Promise<string> | undefined;

/**
 * An insider's alternative log: the real log key (read from `<data dir>/log.key`) and the
 * operator's own key. A fresh Ledger replays the honest events 0..k-1, each run of them under
 * its original admission time (the ledger's clock set back), so leaves 0..k-1 are byte for
 * byte the honest ones; then it appends an event that never was (the operator registering
 * an organization) and the honest events k.. after it. Every leaf from k on differs, every
 * checkpoint is signed with the real key, every per-event rule holds: it verifies on its own.
 */
function forgedLog(): Promise<string> {
  return (forged ??= (async () => {
    const dir = join(root, 'forged');
    mkdirSync(dir);
    copyFileSync(join(base, 'log.key'), join(dir, 'log.key'));
    const key = readSigningKeyFile(join(dir, 'log.key'));
    const store = new SqliteStore({ path: join(dir, 'ledger.db') });
    let clock: number | undefined;
    const ledger = await Ledger.open({
      store,
      origin,
      logSigner: ed25519Signer(key),
      operatorKey: city.operatorKey,
      checkpoints: { maxEntries: CHECKPOINT_EVERY, maxDelayMs: 60_000 },
      signatureThreads: 0,
      now: () => clock ?? Date.now(),
    });
    const operator = new TestEmitter('ledger', { key: city.keys.get('ledger')!, stream: 'late-registry' });
    operator.time = String(honest[REWRITTEN_AT - 1]!.event['time']);
    const inserted = operator.next({
      type: 'register',
      subject: {
        kind: 'organization',
        id: 'shadow-broker',
        name: 'Shadow Broker',
        role: 'vendor',
        jurisdiction: 'NL',
      },
    } as Parameters<TestEmitter['next']>[0]);
    const decoded = honest.map((h) => decodeLeaf(h.leaf));
    const wire = (d: (typeof decoded)[number]) => ({ event: d.event, signature: d.signature });
    const submit = async (items: readonly unknown[]) => {
      const refused = (await ledger.submit(items)).find((r) => !r.ok);
      if (refused) throw new Error(`the forged log was refused: ${JSON.stringify(refused)}`);
    };
    try {
      // One submission per run of leaves admitted together: one batch, one admission time.
      for (let i = 0; i < REWRITTEN_AT;) {
        let j = i;
        while (j < REWRITTEN_AT && decoded[j]!.admitted === decoded[i]!.admitted) j++;
        clock = Date.parse(decoded[i]!.admitted);
        await submit(decoded.slice(i, j).map(wire));
        i = j;
      }
      clock = undefined;
      await submit([inserted, ...decoded.slice(REWRITTEN_AT).map(wire)]);
      await ledger.checkpointNow();
    } finally {
      await ledger.close();
      await store.close();
    }
    return dir;
  })());
}

/** The subtree of the saved state's border that holds leaf `k`: where LOG_REWRITTEN points. */
function rewrittenRange(k: number): [number, number] {
  const range = borderRanges(SIZE).find(([from, to]) => from <= k && k < to);
  if (range === undefined) throw new Error(`${k} is beyond the saved size`);
  return range;
}

describe('the untouched base', { timeout: 30_000 }, () => {
  it('verifies from its data dir and from its exported bundle, saving the state (the control for every case)', () => {
    const { dir, bundle } = control;
    expect(dir.code, dir.run.stderr).toBe(0);
    expect(dir.report).toMatchObject({
      ok: true,
      size: SIZE,
      checkpoints: SIZE / CHECKPOINT_EVERY,
      treeSize: SIZE,
      stateSaved: true,
    });
    expect(bundle.code, bundle.run.stderr).toBe(0);
    expect(bundle.report).toMatchObject({
      ok: true,
      bundle: 'full',
      size: SIZE,
      treeSize: SIZE,
      stateSaved: true,
    });
    for (const path of [BASE_STATE, BUNDLE_STATE]) {
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
        origin,
        size: SIZE,
        rootHash: dir.report.rootHash,
      });
    }
  });
});

describe('verify --data-dir on a tampered copy (service stopped)', { timeout: 30_000 }, () => {
  const run = (dir: string, ...extra: string[]) =>
    verify(['--data-dir', dir, ...pin(), ...(extra.length ? extra : ['--state', NO_STATE, '--no-save'])]);

  it('a. one byte of a stored event: EVENT_HASH at it; with the hash column fixed too, BAD_SIGNATURE', async () => {
    const victim = 150;
    const raw = copyOf(base);
    tamperDb(raw, (db) => {
      const leaf = changeTime(leafAt(db, victim).toString());
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(Buffer.from(leaf), victim);
    });
    // A careful forger also files the changed event under its new hash.
    const careful = copyOf(base);
    tamperDb(careful, (db) => {
      const leaf = changeTime(leafAt(db, victim).toString());
      db.prepare('UPDATE leaves SET leaf = ?, ehash = ?, lhash = ? WHERE idx = ?').run(
        Buffer.from(leaf),
        decodeLeaf(leaf).eventHash,
        leafHash(leaf),
        victim,
      );
    });
    const changedHash = decodeLeaf(changeTime(honest[victim]!.leaf.toString())).eventHash;
    const [r1, r2] = await Promise.all([run(raw), run(careful)]);
    // The event the leaf now holds (recomputed), not the one the store still names.
    expectFailure(r1, { index: victim, check: 'EVENT_HASH', eventHash: changedHash });
    expectFailure(r2, { index: victim, check: 'BAD_SIGNATURE', eventHash: changedHash });
  });

  it('b. a row deleted and the rest renumbered: LEAF_INDEX at its position; leaves re-filed too: the first event resting on it', async () => {
    const victim = 250;
    // The rows after it moved up and the head shortened, so the table has no gap. The leaf
    // now at position 250 still says index 251 in the bytes the tree commits to.
    const rows = copyOf(base);
    tamperDb(rows, (db) => {
      db.prepare('DELETE FROM leaves WHERE idx = ?').run(victim);
      db.prepare('UPDATE leaves SET idx = -idx WHERE idx > ?').run(victim);
      db.exec('UPDATE leaves SET idx = -idx - 1 WHERE idx < 0');
      db.exec('UPDATE head SET size = size - 1 WHERE id = 1');
    });
    // A thorough forger also rewrites each later leaf's `index` (and its leaf hash): every
    // leaf is then well-formed at its position; what no forger can fix without the emitters'
    // keys is the event that rested on the deleted one (its chain's next seq/prev, or an
    // input naming it), now one position earlier. That position comes before the next
    // signed checkpoint (300), whose root would catch it otherwise.
    const leaves = copyOf(base);
    tamperDb(leaves, (db) => {
      db.prepare('DELETE FROM leaves WHERE idx = ?').run(victim);
      const move = db.prepare('UPDATE leaves SET idx = ?, leaf = ?, lhash = ? WHERE idx = ?');
      for (let i = victim + 1; i < SIZE; i++) {
        const leaf = renumbered(leafAt(db, i), i - 1);
        move.run(i - 1, Buffer.from(leaf), leafHash(leaf), i);
      }
      db.exec('UPDATE head SET size = size - 1 WHERE id = 1');
    });
    const dependent = firstDependent(victim);
    expect(dependent.at - 1).toBeLessThan(300);

    const [r1, r2] = await Promise.all([run(rows), run(leaves)]);
    expectFailure(r1, { index: victim, check: 'LEAF_INDEX', eventHash: honest[victim + 1]!.hash });
    expect(r1.report.message).toContain(`says index ${victim + 1}`);
    expectFailure(r2, {
      index: dependent.at - 1,
      check: dependent.check,
      eventHash: honest[dependent.at]!.hash,
    });
  });

  it('c. two rows swapped: LEAF_INDEX at the first of them', async () => {
    const [a, b] = [120, 180];
    const dir = copyOf(base);
    tamperDb(dir, (db) => {
      db.prepare('UPDATE leaves SET idx = -1 WHERE idx = ?').run(a);
      db.prepare('UPDATE leaves SET idx = ? WHERE idx = ?').run(a, b);
      db.prepare('UPDATE leaves SET idx = ? WHERE idx = -1').run(b);
    });
    const r = await run(dir);
    expectFailure(r, { index: a, check: 'LEAF_INDEX', eventHash: honest[b]!.hash });
    expect(r.report.message).toContain(`says index ${b}`);
  });

  it('d/e. a checkpoint signed by another key; one over another root signed with the real log key', async () => {
    const size = 200;
    const otherKey = copyOf(base);
    const otherRoot = copyOf(base);
    const noteOf = (db: DatabaseSync) =>
      (db.prepare('SELECT note FROM checkpoints WHERE size = ?').get(size) as { note: string }).note;
    tamperDb(otherKey, (db) =>
      db
        .prepare('UPDATE checkpoints SET note = ? WHERE size = ?')
        .run(resigned(noteOf(db), generateSigningKey(origin)), size),
    );
    // An insider holds the log key: <data dir>/log.key.
    const realKey = readSigningKeyFile(join(otherRoot, 'log.key'));
    tamperDb(otherRoot, (db) =>
      db
        .prepare('UPDATE checkpoints SET note = ? WHERE size = ?')
        .run(resigned(noteOf(db), realKey, new Uint8Array(32).fill(7)), size),
    );
    const [r1, r2] = await Promise.all([run(otherKey), run(otherRoot)]);
    // Checkpoint checks name the tree size concerned.
    expectFailure(r1, { index: size, check: 'CHECKPOINT_SIGNATURE', eventHash: null });
    expectFailure(r2, { index: size, check: 'CHECKPOINT_ROOT', eventHash: null });
  });

  it('f. the log truncated below a checkpoint verify has seen: LOG_TRUNCATED against the saved state', async () => {
    const cut = 250;
    const dir = copyOf(base);
    const saved = readFileSync(BASE_STATE, 'utf8'); // verify has seen the checkpoint of size 400

    // Leaves from 250 on dropped, the head shortened, the later checkpoints hidden too: the
    // log is now a consistent log of 250 entries, which only the verifier's memory contradicts.
    const shown = copyOf(dir);
    const truncate = (db: DatabaseSync) => {
      db.prepare('DELETE FROM leaves WHERE idx >= ?').run(cut);
      db.prepare('UPDATE head SET size = ? WHERE id = 1').run(cut);
    };
    tamperDb(shown, truncate);
    tamperDb(dir, (db) => {
      truncate(db);
      db.prepare('DELETE FROM checkpoints WHERE size > ?').run(cut);
    });
    const [alone, remembered, contradicted] = await Promise.all([
      run(dir),
      run(dir, '--state', BASE_STATE),
      run(shown), // later checkpoints left in place: the log contradicts its own signatures
    ]);
    expect(alone.code, alone.run.stderr).toBe(0);
    expect(alone.report).toMatchObject({ ok: true, size: cut, treeSize: 200 });
    // `index` is the size the log has now (the tree size concerned).
    expectFailure(remembered, { index: cut, check: 'LOG_TRUNCATED', previousSize: SIZE });
    expectFailure(contradicted, { index: cut, check: 'LOG_TRUNCATED' });
    expect(readFileSync(BASE_STATE, 'utf8')).toBe(saved);
  });

  it('g. the log rewritten from k and re-signed with the real log key: verifies alone, LOG_REWRITTEN against the state', async () => {
    const state = BASE_STATE; // verify has seen the honest log up to its checkpoint of size 400
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { size: number; border?: string[] };
    expect(saved.size).toBe(SIZE);
    expect(saved.border).toHaveLength(borderRanges(SIZE).length);
    // The same state without its border (only size and root): the rewrite is seen at the saved size.
    const bare = join(root, 'state-rewritten-bare.json');
    const { border: _border, ...withoutBorder } = saved;
    writeFileSync(bare, JSON.stringify(withoutBorder));

    const dir = await forgedLog();
    // Rewritten from k exactly: the same leaf bytes before it, another leaf at it.
    const db = new DatabaseSync(join(dir, 'ledger.db'), { readOnly: true });
    const forgedLeaves = (
      db.prepare('SELECT leaf FROM leaves ORDER BY idx').all() as { leaf: Uint8Array }[]
    ).map((r) => Buffer.from(r.leaf));
    db.close();
    expect(forgedLeaves).toHaveLength(SIZE + 1);
    const firstDiffering = forgedLeaves.findIndex(
      (leaf, i) => !leaf.equals(honest[i]?.leaf ?? Buffer.alloc(0)),
    );
    expect(firstDiffering).toBe(REWRITTEN_AT);

    const [alone, remembered, rememberedBare] = await Promise.all([
      run(dir),
      run(dir, '--state', state, '--no-save'),
      run(dir, '--state', bare, '--no-save'),
    ]);
    expect(alone.code, alone.run.stderr).toBe(0);
    expect(alone.report).toMatchObject({ ok: true, size: SIZE + 1, treeSize: SIZE + 1 });
    // The state keeps one hash per perfect subtree of the tree it saw (400 = 256 + 128 + 16),
    // so the verifier can only say which subtree changed: [256, 384) holds leaf 300, and
    // `index` is that subtree's first leaf. Without the border: the saved size.
    const range = rewrittenRange(REWRITTEN_AT);
    expect(range).toEqual([256, 384]);
    expectFailure(remembered, { index: range[0], range, check: 'LOG_REWRITTEN', previousSize: SIZE });
    expectFailure(rememberedBare, { index: SIZE, range: null, check: 'LOG_REWRITTEN' });
  });
});

describe('verify --bundle on a tampered full bundle (manifest re-hashed)', { timeout: 30_000 }, () => {
  const run = (dir: string, ...extra: string[]) =>
    verify(['--bundle', dir, ...pin(), ...(extra.length ? extra : ['--state', NO_STATE, '--no-save'])]);
  const ENTRIES = 'entries.jsonl';
  const CHECKPOINTS = 'checkpoints.jsonl';

  /** Rewrites the leaf of the entry line at `index`. */
  const editEntry = (dir: string, index: number, edit: (leaf: string) => string) => {
    const lines = linesOf(dir, ENTRIES);
    const o = JSON.parse(lines[index]!) as { index: number; leaf: string };
    expect(o.index).toBe(index);
    lines[index] = canonicalLine({ ...o, leaf: edit(o.leaf) });
    writeLines(dir, ENTRIES, lines);
  };

  it('a. one byte of an entry: BAD_SIGNATURE at it (no hash column here); not re-hashed: FILE_HASH', async () => {
    const victim = 150;
    const forgedDir = copyOf(baseBundle);
    editEntry(forgedDir, victim, changeTime);
    rehash(forgedDir);
    const careless = copyOf(baseBundle);
    editEntry(careless, victim, changeTime);
    const [r1, r2] = await Promise.all([run(forgedDir), run(careless)]);
    expectFailure(r1, {
      index: victim,
      check: 'BAD_SIGNATURE',
      eventHash: decodeLeaf(changeTime(honest[victim]!.leaf.toString())).eventHash,
      bundle: 'full',
      file: ENTRIES,
      line: victim + 1,
    });
    expectFailure(r2, { check: 'FILE_HASH', file: ENTRIES });
  });

  it('b. an entry deleted, lines renumbered: LEAF_INDEX at its position; leaves re-filed too: the first event resting on it', async () => {
    const victim = 250;
    const lines = linesOf(baseBundle, ENTRIES);
    const after = lines.slice(victim + 1).map((l) => JSON.parse(l) as { index: number; leaf: string });
    const rows = copyOf(baseBundle);
    writeLines(rows, ENTRIES, [
      ...lines.slice(0, victim),
      ...after.map((o) => canonicalLine({ ...o, index: o.index - 1 })),
    ]);
    rehash(rows);
    const leaves = copyOf(baseBundle);
    writeLines(leaves, ENTRIES, [
      ...lines.slice(0, victim),
      ...after.map((o) => canonicalLine({ index: o.index - 1, leaf: renumbered(o.leaf, o.index - 1) })),
    ]);
    rehash(leaves);
    const dependent = firstDependent(victim);

    const [r1, r2] = await Promise.all([run(rows), run(leaves)]);
    expectFailure(r1, {
      index: victim,
      check: 'LEAF_INDEX',
      eventHash: honest[victim + 1]!.hash,
      file: ENTRIES,
      line: victim + 1,
    });
    expectFailure(r2, {
      index: dependent.at - 1,
      check: dependent.check,
      eventHash: honest[dependent.at]!.hash,
      file: ENTRIES,
      line: dependent.at,
    });
  });

  it('c. two entries swapped: LEAF_INDEX at the first of them', async () => {
    const [a, b] = [120, 180];
    const dir = copyOf(baseBundle);
    const lines = linesOf(dir, ENTRIES);
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    writeLines(dir, ENTRIES, lines);
    rehash(dir);
    expectFailure(await run(dir), { index: a, check: 'LEAF_INDEX', file: ENTRIES, line: a + 1 });
  });

  it('d/e. a checkpoint signed by another key; one over another root signed with the real log key', async () => {
    const size = 200;
    const lines = linesOf(baseBundle, CHECKPOINTS);
    const k = lines.findIndex((l) => (JSON.parse(l) as { size: number }).size === size);
    const note = (JSON.parse(lines[k]!) as { note: string }).note;
    const withNote = (dir: string, signed: string) => {
      const copy = [...lines];
      copy[k] = canonicalLine({ note: signed, size });
      writeLines(dir, CHECKPOINTS, copy);
      rehash(dir);
    };
    const otherKey = copyOf(baseBundle);
    withNote(otherKey, resigned(note, generateSigningKey(origin)));
    const otherRoot = copyOf(baseBundle);
    withNote(
      otherRoot,
      resigned(note, readSigningKeyFile(join(base, 'log.key')), new Uint8Array(32).fill(7)),
    );
    const [r1, r2] = await Promise.all([run(otherKey), run(otherRoot)]);
    expectFailure(r1, { index: size, check: 'CHECKPOINT_SIGNATURE' });
    expectFailure(r2, { index: size, check: 'CHECKPOINT_ROOT' });
  });

  it('f. truncated below a checkpoint verify has seen: LOG_TRUNCATED against the saved state', async () => {
    const cut = 250;
    const state = BUNDLE_STATE; // saved by verifying the untouched bundle

    const dir = copyOf(baseBundle);
    writeLines(dir, ENTRIES, linesOf(dir, ENTRIES).slice(0, cut));
    writeLines(
      dir,
      CHECKPOINTS,
      linesOf(dir, CHECKPOINTS).filter((l) => (JSON.parse(l) as { size: number }).size <= cut),
    );
    rehash(dir);
    const [alone, remembered] = await Promise.all([run(dir), run(dir, '--state', state, '--no-save')]);
    expect(alone.code, alone.run.stderr).toBe(0);
    expect(alone.report).toMatchObject({ ok: true, size: cut, treeSize: 200 });
    expectFailure(remembered, { index: cut, check: 'LOG_TRUNCATED', previousSize: SIZE });
  });

  it('g. a rewritten log re-signed with the real log key: verifies alone, LOG_REWRITTEN against the state', async () => {
    const state = BUNDLE_STATE; // saved by verifying the untouched bundle

    // The forger exports its alternative log as a full bundle, like any other.
    const dir = join(root, 'forged-bundle');
    const store = new SqliteStore({ path: join(await forgedLog(), 'ledger.db') });
    try {
      await writeFullBundle(dir, storeSource(store), { logKey, origin });
    } finally {
      await store.close();
    }
    const [alone, remembered] = await Promise.all([run(dir), run(dir, '--state', state, '--no-save')]);
    expect(alone.code, alone.run.stderr).toBe(0);
    expect(alone.report).toMatchObject({ ok: true, bundle: 'full', size: SIZE + 1, treeSize: SIZE + 1 });
    const range = rewrittenRange(REWRITTEN_AT);
    expectFailure(remembered, { index: range[0], range, check: 'LOG_REWRITTEN', previousSize: SIZE });
  });
});
