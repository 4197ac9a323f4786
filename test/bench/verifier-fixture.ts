// A demo-city log on SQLite for the verifier benchmark: N signed demo-city events (about
// 650 bytes each) appended through the real ledger core, checkpoints every 10,000 leaves.
// The events are signed by the city's own keys, so verification checks real signatures.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { formatSigningKey, formatVerifierKey, type SigningKey } from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { Ledger } from '@civic-ledger/ledger-core';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';

export interface VerifierFixture {
  path: string;
  size: number;
  logKey: string;
  origin: string;
  /** Each organization's signing key (its events' signatures verify with it). */
  keys: ReadonlyMap<string, SigningKey>;
}

/**
 * Writes (or, when `path` already holds a finished log of this size, reuses) a demo-city
 * log of `size` events at `path`.
 */
export async function demoCityLog(
  path: string,
  size: number,
  seed = 'verifier-bench',
): Promise<VerifierFixture> {
  const city = generateDemoCity({ seed, size });
  const fixture = {
    path,
    size,
    logKey: formatVerifierKey(city.logKey),
    origin: city.origin,
    keys: city.keys,
  };
  if (existsSync(path)) {
    const store = new SqliteStore({ path });
    const head = await store.head();
    await store.close();
    if (head.size === size) return fixture;
  }
  const tmp = `${path}.partial`;
  for (const s of ['', '-wal', '-shm']) rmSync(tmp + s, { force: true });
  const store = new SqliteStore({ path: tmp });
  const ledger = await Ledger.open({
    store,
    origin: city.origin,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    checkpoints: { maxEntries: 10_000, maxDelayMs: 3_600_000 },
    // After the generated month, so no claimed time is in the future.
    now: () => Date.parse(city.end) + 60_000,
  });
  const tty = process.stderr.isTTY;
  let done = 0;
  for (const batch of city.batchesSync()) {
    // The city signed every event with keys the ledger registers in the same log: the
    // verifier checks them; the writer need not.
    const results = await ledger.submit(batch, { signaturesVerified: true });
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`demo city refused: ${bad.error.code} ${bad.error.message}`);
    done += batch.length;
    if (tty) process.stderr.write(`\rverifier fixture: ${done}/${size}`);
  }
  if (tty) process.stderr.write('\n');
  await ledger.checkpointNow();
  await ledger.close();
  await store.close();
  for (const s of ['', '-wal', '-shm']) if (existsSync(tmp + s)) renameSync(tmp + s, path + s);
  return fixture;
}
