#!/usr/bin/env node
// Runs every project command under the pinned toolchain.
//
// The project targets Node 24 LTS; many machines still have an older Node. When the
// running Node is older than 24, this installs the pinned Node 24 from the npm registry
// (package node-<platform>-<arch>) into .tools/ (git-ignored) and re-runs everything
// with it. On a machine that already has Node >= 24 the running Node is used as is.
// pnpm is pinned the same way (the `packageManager` field of package.json).
//
// This file must run on old Node versions (>= 18): plain JavaScript, no dependencies.
//
//   node scripts/bootstrap.mjs install            install the toolchain and the workspace
//   node scripts/bootstrap.mjs run <script> ...   install, then `pnpm run <script> ...`
//   node scripts/bootstrap.mjs pnpm ...           any pnpm command under the toolchain
//   node scripts/bootstrap.mjs exec <cmd> ...     any command with the toolchain on PATH
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_NODE_MAJOR = 24;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const pinnedNode = readFileSync(join(root, '.node-version'), 'utf8').trim();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pinnedPnpm = String(pkg.packageManager).replace(/^pnpm@/, '');

function log(msg) {
  process.stderr.write(`[bootstrap] ${msg}\n`);
}

function fail(msg) {
  log(`error: ${msg}`);
  process.exit(2);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

// Installs one npm package into .tools/<dir> atomically (temp folder, then rename), so an
// interrupted install never leaves a half-written toolchain behind.
function npmInstallInto(dir, spec) {
  const final = join(tools, dir);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'package.json'), '{"private":true}\n');
  log(`installing ${spec} from the npm registry into .tools/${dir}`);
  const status = run(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
      spec,
    ],
    { cwd: tmp, env: { ...process.env, npm_config_update_notifier: 'false' } },
  );
  if (status !== 0) fail(`npm install ${spec} failed (exit ${status}); is the npm registry reachable?`);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
}

function ensureNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return process.execPath;
  const name = `node-${process.platform}-${process.arch}`;
  const bin = join(tools, `node-${pinnedNode}`, 'node_modules', name, 'bin', 'node');
  if (!existsSync(bin)) {
    log(`Node ${process.versions.node} is older than ${MIN_NODE_MAJOR}; fetching pinned Node ${pinnedNode}`);
    npmInstallInto(`node-${pinnedNode}`, `${name}@${pinnedNode}`);
    if (!existsSync(bin)) fail(`${name}@${pinnedNode} did not contain bin/node`);
  }
  return bin;
}

function ensurePnpm(nodeBin) {
  const entry = join(tools, `pnpm-${pinnedPnpm}`, 'node_modules', 'pnpm', 'bin', 'pnpm.mjs');
  if (!existsSync(entry)) npmInstallInto(`pnpm-${pinnedPnpm}`, `pnpm@${pinnedPnpm}`);
  // A bin folder with `node` and `pnpm` first on PATH, so every child process (pnpm
  // scripts, vitest, tsc) runs on the same Node.
  const binDir = join(tools, 'bin');
  mkdirSync(binDir, { recursive: true });
  // Made under a name of this process and renamed into place (atomic): several commands
  // bootstrapping at once (parallel scripts, CI steps) each see a whole link and shim.
  const nodeLink = join(binDir, 'node');
  let current;
  try {
    current = readlinkSync(nodeLink);
  } catch {
    current = undefined;
  }
  if (current !== nodeBin) {
    const tmpLink = `${nodeLink}.${process.pid}`;
    rmSync(tmpLink, { force: true });
    symlinkSync(nodeBin, tmpLink);
    renameSync(tmpLink, nodeLink);
  }
  const shim = join(binDir, 'pnpm');
  const shimText = `#!/bin/sh\nexec "${nodeBin}" "${entry}" "$@"\n`;
  if (!existsSync(shim) || readFileSync(shim, 'utf8') !== shimText) {
    const tmpShim = `${shim}.${process.pid}`;
    writeFileSync(tmpShim, shimText);
    chmodSync(tmpShim, 0o755);
    renameSync(tmpShim, shim);
  }
  return binDir;
}

function toolchainEnv(binDir) {
  return {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH ?? ''}`,
    npm_config_update_notifier: 'false',
    // pnpm's own update check would reach the registry on every run; nothing needs it.
    pnpm_config_update_notifier: 'false',
  };
}

function pnpm(binDir, args) {
  return run(join(binDir, 'pnpm'), args, { cwd: root, env: toolchainEnv(binDir) });
}

function install(binDir) {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  const status = pnpm(binDir, [
    'install',
    '--reporter=append-only',
    '--config.update-notifier=false',
    ...frozen,
  ]);
  if (status !== 0) process.exit(status);
}

const [command, ...rest] = process.argv.slice(2);
const usage =
  'usage: node scripts/bootstrap.mjs install | run <script> [args] | pnpm <args> | exec <cmd> [args]';
if (!command || command === '--help' || command === '-h') {
  process.stdout.write(`${usage}\n`);
  process.exit(command ? 0 : 2);
}

const nodeBin = ensureNode();
const binDir = ensurePnpm(nodeBin);

switch (command) {
  case 'install':
    install(binDir);
    break;
  case 'run':
    if (rest.length === 0) fail(usage);
    install(binDir);
    process.exit(pnpm(binDir, ['run', ...rest]));
    break;
  case 'pnpm':
    process.exit(pnpm(binDir, rest));
    break;
  case 'exec':
    if (rest.length === 0) fail(usage);
    process.exit(run(rest[0], rest.slice(1), { cwd: process.cwd(), env: toolchainEnv(binDir) }));
    break;
  default:
    fail(usage);
}
