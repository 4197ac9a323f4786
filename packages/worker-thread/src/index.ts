// A worker thread on a TypeScript module of this workspace. A worker compiles (and strips
// the types of) every module it loads, about half of its start-up: when the calling
// process enabled Node's compile cache, the worker uses it too (module.enableCompileCache()
// in the calling thread does not reach workers by itself).
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';

// The worker's entry when a compile cache is on: enable it, then load the worker module. It
// runs as a script or as a module (a worker inherits --input-type), hence no require.
const BOOT_WITH_CACHE = `const { workerData } = process.getBuiltinModule('node:worker_threads');
process.getBuiltinModule('node:module').enableCompileCache(workerData.cacheDir);
import(workerData.entry);`;

/** Starts `entry` in a worker with `workerData` (the module reads it as usual). */
export function startWorker(entry: URL, workerData: Record<string, unknown>): Worker {
  const cacheDir = getCompileCacheDir();
  return cacheDir === undefined
    ? new Worker(entry, { workerData })
    : new Worker(BOOT_WITH_CACHE, { eval: true, workerData: { ...workerData, entry: entry.href, cacheDir } });
}
