// The writer process of the crash test (crash.test.ts), which SIGKILLs it at random moments.
//
//   node crash-child.ts <sqlite file> <seed> [--receipts-before-commit]
//
// Opens a Ledger on the SQLite file, bootstraps it (or, when the file already holds a log,
// continues every chain from the store's chain heads), then submits batches of 1..200
// signed events on several streams forever. After each batch it prints one JSON line per
// receipt ({"index":..,"eventHash":..}), only once `submit` has resolved ok, so every
// printed line is a receipt the ledger gave. All keys come from fixed seeds, so every
// restart signs with the keys the first one registered.
//
// --receipts-before-commit is the negative control: it prints the receipts it expects
// *before* submitting, as a ledger answering ahead of its commit would. The test checks
// that a kill then leaves receipts the store does not hold.
//
// Imported (not run), it only exports `openWriter`, which the test uses in-process.
import {
  formatSigningKey,
  formatVerifierKey,
  signingKeyFromSeed,
  type SigningKey,
} from '@civic-ledger/crypto';
import { chainKey } from '@civic-ledger/chain';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { Ledger } from './ledger.ts';
import {
  addKey,
  genesisEvent,
  registerDataset,
  registerOrg,
  registerSource,
  TestEmitter,
  type TestSubmission,
} from './testing.ts';

export interface PrintedReceipt {
  index: number;
  eventHash: string;
}

export interface CrashWriter {
  ledger: Ledger;
  store: SqliteStore;
  /** Submits one batch of `size` events on random streams; throws if any is refused. */
  batch(size: number): Promise<PrintedReceipt[]>;
  close(): Promise<void>;
}

/** A deterministic key: the seed is 32 copies of `byte`. */
function seededKey(name: string, byte: number): SigningKey {
  return signingKeyFromSeed(name, new Uint8Array(32).fill(byte));
}

/** mulberry32: a small seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const d = (c: string) => `sha256:${c.repeat(64)}`;

/**
 * Opens the ledger on the file as its writer; bootstraps an empty log in one batch (so it
 * is all there or not at all), or resumes every chain from the store's chain heads.
 * Returns the bootstrap receipts (none when resuming).
 */
export async function openWriter(
  path: string,
  seed: number,
  options: { beforeCommit?: (expected: PrintedReceipt[]) => void; writerThread?: boolean } = {},
): Promise<{ writer: CrashWriter; bootstrap: PrintedReceipt[] }> {
  const random = seededRandom(seed);
  const operatorKey = seededKey('ledger/k1', 1);
  const agencyKey = seededKey('transport-agency/k1', 2);
  const policeKey = seededKey('police/k1', 3);
  const logKey = seededKey('crash.test.example/log', 4);

  const operator = new TestEmitter('ledger', { key: operatorKey });
  // Several streams per organization, all signed with the organization's one key.
  const emitters = [
    ...['main', 'cameras', 'sensors'].map(
      (s) => new TestEmitter('transport-agency', { key: agencyKey, stream: s }),
    ),
    ...['main', 'cases'].map((s) => new TestEmitter('police', { key: policeKey, stream: s })),
  ];

  const store = new SqliteStore({ path, writerThread: options.writerThread ?? false });
  const ledger = await Ledger.open({
    store,
    origin: 'crash.test.example/log',
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 500, maxDelayMs: 200 },
    signatureThreads: 0,
  });

  async function submitAll(events: TestSubmission[]): Promise<PrintedReceipt[]> {
    options.beforeCommit?.(events.map((e, i) => ({ index: ledger.size + i, eventHash: e.hash })));
    const results = await ledger.submit(events);
    return results.map((r) => {
      if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
      return { index: r.receipt.index, eventHash: r.receipt.eventHash };
    });
  }

  let bootstrap: PrintedReceipt[] = [];
  if ((await store.head()).size === 0) {
    bootstrap = await submitAll([
      genesisEvent(operator),
      registerOrg(operator, 'transport-agency', 'agency'),
      registerOrg(operator, 'police', 'agency'),
      addKey(operator, 'transport-agency', formatVerifierKey(agencyKey), agencyKey.name),
      addKey(operator, 'police', formatVerifierKey(policeKey), policeKey.name),
      // The source and dataset every collect below names, one of each per organization
      // (registered on its main stream).
      ...[emitters[0]!, emitters[3]!].flatMap((e) => [
        registerSource(e, `${e.org}/cameras/north-07`),
        registerDataset(e, `${e.org}/traffic-counts`),
      ]),
    ]);
  } else {
    for (const e of [operator, ...emitters]) {
      const head = await store.getChainHead(chainKey(e.org, e.stream));
      if (head) {
        e.seq = head.seq;
        e.prev = head.eventHash;
      }
    }
  }

  let n = 0;
  const writer: CrashWriter = {
    ledger,
    store,
    batch(size) {
      const events: TestSubmission[] = [];
      for (let i = 0; i < size; i++) {
        const e = emitters[Math.floor(random() * emitters.length)]!;
        n++;
        events.push(
          e.next({
            type: 'collect',
            source: `${e.org}/cameras/north-07`,
            dataset: { id: `${e.org}/traffic-counts`, version: d((n % 16).toString(16)) },
            inputs: [],
            purpose: 'city:TrafficManagement',
            declaration: 'd'.repeat(64),
            categories: ['city:VehicleCount'],
            personalData: 'none',
            records: n,
          } as never),
        );
      }
      return submitAll(events);
    },
    async close() {
      await ledger.close();
      await store.close();
    },
  };
  return { writer, bootstrap };
}

if (import.meta.main) {
  const [path, seedArg, ...flags] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write(
      'usage: crash-child.ts <sqlite file> <seed> [--receipts-before-commit] [--writer-thread]\n',
    );
    process.exit(2);
  }
  const early = flags.includes('--receipts-before-commit');
  const seed = Number(seedArg ?? 1);
  // One write per batch; the reader ignores a trailing line the kill cut short.
  const print = (receipts: PrintedReceipt[]) => {
    if (receipts.length > 0) process.stdout.write(receipts.map((r) => `${JSON.stringify(r)}\n`).join(''));
  };
  const { writer, bootstrap } = await openWriter(path, seed, {
    ...(early ? { beforeCommit: print } : {}),
    writerThread: flags.includes('--writer-thread'),
  });
  if (!early) print(bootstrap);
  const random = seededRandom(seed ^ 0x5bd1e995);
  for (;;) {
    const receipts = await writer.batch(early ? 200 : 1 + Math.floor(random() * 200));
    if (!early) print(receipts);
  }
}
