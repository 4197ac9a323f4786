// A crash between signing and the receipt never forks a chain: a real emitter process
// (crash-child.ts) is SIGKILLed after its signed event reached the outbox and before it was
// sent; reopening the outbox resends the very same bytes. And when the ledger appended an
// event but its answer was lost, the resend is answered with the original receipt.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeLeaf } from '@civic-ledger/leaf';
import { GENESIS_PREV } from '@civic-ledger/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emitter, type EventBody } from './emitter.ts';
import { ClientError } from './errors.ts';
import { ledgerWithOrgs, recordingFetch, tempDir, type TestLedger } from './test-server.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ORG = 'police';
const KEY_NAME = `${ORG}/k1`;
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SOURCE = `${ORG}/cameras/bodycam-1`;
const DATASET = `${ORG}/footage`;

let ledger: TestLedger;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  dir = tempDir();
  keyFile = join(dir, 'police.key');
  const key = Emitter.loadOrCreateKey(keyFile, KEY_NAME);
  ledger = await ledgerWithOrgs([{ org: ORG, key, sources: [SOURCE], datasets: [DATASET] }]);
});
afterAll(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the child until it reports its outboxed event, then SIGKILLs it. */
function emitAndCrash(stateDir: string, stream: string): Promise<{ hash: string; signal: string | null }> {
  const args = {
    baseUrl: ledger.url,
    logKey: ledger.logKey,
    origin: ledger.origin,
    stateDir,
    keyFile,
    keyName: KEY_NAME,
    stream,
    traceId: TRACE,
    source: SOURCE,
    dataset: DATASET,
  };
  const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let hash: string | undefined;
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const line = /^(\{"outboxed".*\})$/m.exec(out)?.[1];
    if (line && hash === undefined) {
      hash = (JSON.parse(line) as { outboxed: string[] }).outboxed[0];
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (hash === undefined) reject(new Error(`the child ended without outboxing: ${out}${err}`));
      else resolve({ hash, signal });
    });
  });
}

const collect = {
  type: 'collect',
  source: SOURCE,
  dataset: { id: DATASET, version: `sha256:${'c'.repeat(64)}` },
  inputs: [],
  purpose: 'city:Enforcement',
  declaration: 'd'.repeat(64),
  categories: ['city:VehicleCount'],
  personalData: 'none',
} as EventBody;

describe('a crash between signing and the receipt', () => {
  it('resends the outboxed bytes on reopen: one event at that seq, and the chain goes on from it', async () => {
    const stateDir = tempDir();
    const { hash, signal } = await emitAndCrash(stateDir, 'crash');
    expect(signal).toBe('SIGKILL');
    // Signed and outboxed, never sent.
    const missing = await ledger
      .client()
      .getEvent(hash)
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });

    const emitter = await Emitter.open({
      client: ledger.client(),
      stateDir,
      key: Emitter.loadOrCreateKey(keyFile, KEY_NAME),
      stream: 'crash',
    });
    const row = emitter.outbox.get(hash)!;
    expect(row).toMatchObject({ state: 'receipted', seq: 1, duplicate: false });
    expect(row.receipt?.eventHash).toBe(hash);
    // What the ledger holds is byte for byte what the killed process wrote to its outbox.
    const leaf = decodeLeaf((await ledger.client().getEvent(hash)).leaf);
    expect(row.body).toBe(`{"event":${leaf.eventCanonical},"signature":"${leaf.signature}"}`);
    expect(leaf.event).toMatchObject({ seq: 1, prev: GENESIS_PREV, traceId: TRACE });

    const next = await emitter.emit(collect);
    expect(next.event).toMatchObject({ seq: 2, prev: hash });
    emitter.close();
    const chain = [];
    for await (const entry of ledger.client().allEntries()) {
      const e = decodeLeaf(entry.leaf).event as { emitter: string; stream: string; seq: number };
      if (e.emitter === ORG && e.stream === 'crash') chain.push(e.seq);
    }
    expect(chain).toEqual([1, 2]);
    expect(await ledger.client().chainHead(ORG, 'crash')).toMatchObject({ seq: 2, eventHash: next.hash });
    rmSync(stateDir, { recursive: true, force: true });
  }, 20_000);

  it('when the answer is lost after the ledger appended, the resend gets the original receipt', async () => {
    const stateDir = tempDir();
    // The first batch request reaches the ledger; its answer is dropped on the way back.
    let dropped = 0;
    const rec = recordingFetch();
    const lossy: typeof fetch = async (input, init) => {
      const res = await rec.fetch(input, init);
      if (String(input).endsWith('/v1/events/batch') && dropped++ === 0) {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return res;
    };
    const emitter = await Emitter.open({
      client: ledger.client({ fetch: lossy, retry: { attempts: 1 } }),
      stateDir,
      key: Emitter.loadOrCreateKey(keyFile, KEY_NAME),
      stream: 'lost-answer',
    });
    const failed = (await emitter.emit(collect).catch((e: unknown) => e)) as ClientError;
    expect(failed).toBeInstanceOf(ClientError);
    expect(failed).toMatchObject({ code: 'NETWORK', details: { outboxed: true } });
    const [pending] = emitter.outbox.pending();
    // It is in the ledger already.
    expect((await ledger.client().getEvent(pending!.hash)).eventHash).toBe(pending!.hash);
    emitter.close();

    const reopened = await Emitter.open({
      client: ledger.client(),
      stateDir,
      key: Emitter.loadOrCreateKey(keyFile, KEY_NAME),
      stream: 'lost-answer',
    });
    expect(reopened.outbox.get(pending!.hash)).toMatchObject({ state: 'receipted', duplicate: true });
    expect((await reopened.emit(collect)).event.seq).toBe(2);
    reopened.close();
    expect(await ledger.client().chainHead(ORG, 'lost-answer')).toMatchObject({ seq: 2 });
    rmSync(stateDir, { recursive: true, force: true });
  });
});
