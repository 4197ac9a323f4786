// Appends N pre-verified demo events through the ledger core on SQLite and reports the
// process's RSS after start-up and its peak, as JSON on stdout. Run by log-core.bench.ts.
// Each batch of 1000 is generated as it is submitted, as a client sends them: the peak is
// the ledger's, not events the harness made ahead (10 batches ahead cost ~60 MB of peak).
import { SqliteStore } from '@civic-ledger/storage';
import { chainEventSource } from './chain-events.ts';
import { AGENCY, agencyKey, benchLedger } from './ledger-fixture.ts';

const [path, count] = process.argv.slice(2);
const n = Number(count);
const store = new SqliteStore({ path: path! });
const ledger = await benchLedger(store);
const baselineRss = process.memoryUsage().rss;
const next = chainEventSource({ emitter: AGENCY, key: agencyKey, sign: false });
const start = performance.now();
// Rates of the first and the last 100k appended: whether the append slows as the log grows.
const SEGMENT = Math.min(100_000, n);
let segmentStart = start;
const segments: number[] = [];
const tty = process.stderr.isTTY;
for (let done = 0; done < n;) {
  const chunk = next(Math.min(1000, n - done));
  for (let i = 0; i < chunk.length; i += 1000) {
    const results = await ledger.submit(chunk.slice(i, i + 1000), { signaturesVerified: true });
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`refused: ${bad.error.code} ${bad.error.message}`);
  }
  done += chunk.length;
  if (done % SEGMENT === 0) {
    const now = performance.now();
    segments.push(SEGMENT / ((now - segmentStart) / 1000));
    segmentStart = now;
  }
  if (tty) process.stderr.write(`\rappending: ${done}/${n}`);
}
if (tty) process.stderr.write('\n');
const seconds = (performance.now() - start) / 1000;
await ledger.checkpointNow();
await ledger.close();
const size = (await store.head()).size;
await store.close();
if (process.env['BENCH_DEBUG']) process.stderr.write(`${JSON.stringify(process.memoryUsage())}\n`);
process.stdout.write(
  JSON.stringify({
    baselineRss,
    peakRss: process.resourceUsage().maxRSS * 1024,
    seconds,
    size,
    firstSegment: segments[0],
    lastSegment: segments.at(-1),
  }),
);
