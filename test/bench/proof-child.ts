// Times inclusion and consistency proofs at random positions of the log at argv[2], and one
// leaf read beside each, in a process of its own (as a query service serves them, without
// the heap the other log-core cases leave behind): JSON samples in ms on stdout. Run by
// log-core.bench.ts.
import { consistencyProof, inclusionProof, type NodeReader } from '@civic-ledger/merkle';
import { SqliteStore } from '@civic-ledger/storage';

const store = new SqliteStore({ path: process.argv[2]! });
const size = (await store.head()).size;
const reader = store as NodeReader;
const samples = { size, inclusion: [] as number[], consistency: [] as number[], read: [] as number[] };
let seed = 12345;
const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
for (let i = 0; i < 3000; i++) {
  const idx = rnd(size);
  let t = performance.now();
  await inclusionProof(reader, idx, size);
  samples.inclusion.push(performance.now() - t);
  const s1 = 1 + rnd(size - 1);
  t = performance.now();
  await consistencyProof(reader, s1, size);
  samples.consistency.push(performance.now() - t);
  t = performance.now();
  await store.getLeaves(idx, idx + 1);
  samples.read.push(performance.now() - t);
}
await store.close();
process.stdout.write(JSON.stringify(samples));
