#!/usr/bin/env node
// Runs every vitest project and ends with one plain summary line
// ("tests: N passed, N failed, N skipped") that CI and people can read at a glance.
// Exit code is vitest's. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const report = join(process.cwd(), 'node_modules', '.vitest-report.json');
rmSync(report, { force: true });
const r = spawnSync(
  'vitest',
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', shell: false },
);
if (r.error) {
  console.error(`run-tests: could not start vitest: ${r.error.message}`);
  process.exit(2);
}
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`tests: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`);
  if (skipped > 0 && process.env.CI === 'true') {
    console.error('run-tests: tests were skipped under CI=true; every suite must run in CI');
    process.exit(r.status || 1);
  }
}
process.exit(r.status ?? 1);
