// `pnpm bench`: runs every suite, each in its own process, and prints one table of
// figures, each next to its baseline measured in the same run. Not a test: nothing here
// fails a build. `--json` prints the figures as JSON; `--suite NAME` runs one suite.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { machine, type Figure } from './lib.ts';

const SUITES = [
  'event-core',
  'log-core',
  'standalone',
  'verifier',
  'distributed',
  'lineage',
  'witness',
  'compliance',
];
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args.includes('--help')) {
  process.stdout.write(
    'usage: pnpm bench [--suite NAME] [--json]\n' +
      `Runs the benchmark suites (${SUITES.join(', ')}) and prints figures with same-run baselines.\n`,
  );
  process.exit(0);
}

if (args[0] === '--child') {
  const mod = (await import(join(here, `${args[1]}.bench.ts`))) as {
    run: () => Figure[] | Promise<Figure[]>;
  };
  process.stdout.write(JSON.stringify(await mod.run()));
  process.exit(0);
}

const only = args.includes('--suite') ? args[args.indexOf('--suite') + 1] : undefined;
const figures: Figure[] = [];
for (const suite of SUITES.filter((s) => only === undefined || s === only)) {
  process.stderr.write(`bench: running ${suite} ...\n`);
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', suite], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) {
    process.stderr.write(`bench: suite ${suite} failed (exit ${child.status})\n`);
    process.exit(1);
  }
  figures.push(...(JSON.parse(child.stdout) as Figure[]));
}

if (args.includes('--json')) {
  process.stdout.write(
    `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), figures }, null, 2)}\n`,
  );
} else {
  const lines = [
    `Benchmarks, ${new Date().toISOString().slice(0, 10)}, ${machine()}`,
    '',
    '| suite | metric | value | same-run baseline | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.suite} | ${f.metric} | ${f.value} | ${f.baseline} | ${f.ratio} | ${f.target} | ${f.met === undefined ? '' : f.met ? 'yes' : 'no'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
