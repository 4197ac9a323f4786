// Shared by the standalone service's end-to-end tests: event bodies, a signer that skips
// validation (for events the ledger must refuse), plain HTTP helpers, a free port, seeded
// randomness, and main.ts as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { canonicalize } from '@civic-ledger/canonical-json';
import { fromHex, sha256HexOfUtf8, signDigest, toBase64, type SigningKey } from '@civic-ledger/crypto';
import type { TestEmitter } from '@civic-ledger/ledger-core/testing';

export const MAIN_TS = fileURLToPath(new URL('../../services/standalone/src/main.ts', import.meta.url));

/** Bodies for TestEmitter.next/peek: typed loosely, as the schemas package validates them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export const digestOf = (c: string): string => `sha256:${c.repeat(64)}`;
export const DECLARATION = 'd'.repeat(64);

export const sourceId = (org: string): string => `${org}/cameras/north-07`;
export const datasetId = (org: string): string => `${org}/traffic-counts`;

/** Registers the source and dataset the movement bodies below name (in `org`'s namespace). */
export function registerSource(org: string): Body {
  return {
    type: 'register',
    subject: {
      kind: 'source',
      id: sourceId(org),
      name: 'Camera north 07',
      technology: 'city:TrafficCamera',
      location: { area: 'North' },
      categories: ['city:VehicleCount'],
      personalData: 'none',
    },
  };
}

export function registerDataset(org: string, id = datasetId(org)): Body {
  return {
    type: 'register',
    subject: {
      kind: 'dataset',
      id,
      name: 'Traffic counts',
      categories: ['city:VehicleCount'],
      personalData: 'none',
      sources: [sourceId(org)],
    },
  };
}

export function collect(org: string, n: number, dataset = datasetId(org)): Body {
  return {
    type: 'collect',
    source: sourceId(org),
    dataset: { id: dataset, version: digestOf((n % 16).toString(16)) },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: DECLARATION,
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  };
}

export function transfer(org: string, input: string, recipient: string): Body {
  return {
    type: 'transfer',
    dataset: { id: datasetId(org), version: digestOf('a') },
    inputs: [input],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: DECLARATION,
    recipient,
  };
}

/** The envelope of `chain`'s next event, without advancing it. */
export function envelopeOf(chain: TestEmitter): Record<string, unknown> {
  return {
    v: 1,
    emitter: chain.org,
    stream: chain.stream,
    seq: chain.seq + 1,
    prev: chain.prev,
    time: chain.time,
    key: chain.key.name,
  };
}

/**
 * Signs any event value as an emitter would (event hash over the canonical JSON, Ed25519
 * over the domain-separated hash) without validating it: for events the ledger must refuse.
 */
export function signUnchecked(
  event: Record<string, unknown>,
  key: SigningKey,
): { wire: { event: Record<string, unknown>; signature: string }; hash: string } {
  const hash = sha256HexOfUtf8(canonicalize(event));
  return { wire: { event, signature: toBase64(signDigest(key, 'event', fromHex(hash))) }, hash };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One request; a string body is sent as is, anything else as JSON. */
export async function http(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** mulberry32: small, seeded, good enough to pick delays and shapes reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ChildService {
  child: ChildProcess;
  /** Resolves when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The log's verifier key text as the process logged it at start ("ledger open"). */
  logVerifierKey(): string | undefined;
  /** Whether a "closed" line was logged (orderly shutdown). */
  closedCleanly(): boolean;
  stderr(): string;
}

/** Runs services/standalone/src/main.ts with only PATH and the given environment. */
export function spawnService(env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, [MAIN_TS], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  let stderr = '';
  let logKey: string | undefined;
  let closed = false;
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));
  // Keep reading (a full pipe would stall the server) and keep only what the tests need.
  child.stdout!.on('data', (s: string) => {
    partial += s;
    const nl = partial.lastIndexOf('\n');
    if (nl < 0) return;
    for (const line of partial.slice(0, nl).split('\n')) {
      if (!line.includes('"msg":"ledger open"') && !line.includes('"msg":"closed"')) continue;
      const rec = JSON.parse(line) as { msg: string; logVerifierKey?: string };
      if (rec.msg === 'ledger open') logKey = rec.logVerifierKey;
      if (rec.msg === 'closed') closed = true;
    }
    partial = partial.slice(nl + 1);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    logVerifierKey: () => logKey,
    closedCleanly: () => closed,
    stderr: () => stderr,
  };
}

/** Polls GET /readyz until 200; fails with the process's stderr if it exits first. */
export async function waitReady(svc: ChildService, base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
      throw new Error(
        `the service exited (${svc.child.exitCode ?? svc.child.signalCode}) before it was ready: ${svc.stderr()}`,
      );
    }
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok && svc.logVerifierKey() !== undefined) return;
    if (Date.now() > deadline)
      throw new Error(`the service was not ready within ${timeoutMs} ms: ${svc.stderr()}`);
    await sleep(25);
  }
}
