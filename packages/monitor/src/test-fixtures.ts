// Test support (not exported): histories of signed events, real standalone ledgers and real
// witnesses on free ports, a witness fed the checkpoints of one ledger, a webhook receiver.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import {
  addKey,
  genesisEvent,
  registerDataset,
  registerOrg,
  registerSource,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { requestCosignature } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';

export const SOURCE = 'transport-agency/cameras/north-07';
export const DATASET = 'transport-agency/traffic-counts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

export function collect(n: number) {
  return {
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: digest((n % 16).toString(16)) },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 1000 + n,
  } as never;
}

export interface Cast {
  operator: TestEmitter;
  agency: TestEmitter;
  police: TestEmitter;
  board: TestEmitter;
}

export function cast(): Cast {
  return {
    operator: new TestEmitter('ledger'),
    agency: new TestEmitter('transport-agency'),
    police: new TestEmitter('police'),
    board: new TestEmitter('oversight-board'),
  };
}

/** Genesis, three organizations with their keys, the agency's source and dataset. */
export function bootstrap(c: Cast): TestSubmission[] {
  return [
    genesisEvent(c.operator),
    registerOrg(c.operator, 'transport-agency', 'agency'),
    registerOrg(c.operator, 'police', 'agency'),
    registerOrg(c.operator, 'oversight-board', 'oversight'),
    addKey(c.operator, 'transport-agency', c.agency.verifierKey, c.agency.key.name),
    addKey(c.operator, 'police', c.police.verifierKey, c.police.key.name),
    addKey(c.operator, 'oversight-board', c.board.verifierKey, c.board.key.name),
    registerSource(c.agency, SOURCE),
    registerDataset(c.agency, DATASET, [SOURCE]),
  ];
}

/** The agency rotates to a new key and revokes the old one; returns the old (revoked) key. */
export function rotateAgencyKey(c: Cast): { events: TestSubmission[]; revoked: SigningKey } {
  const k1 = c.agency.key;
  const k2 = generateSigningKey('transport-agency/k2');
  const events = [
    c.agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never),
  ];
  c.agency.key = k2;
  events.push(
    c.agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: k1.name,
    } as never),
  );
  return { events, revoked: k1 };
}

/** A real standalone ledger on a free port (checkpoints only when asked, unless told otherwise). */
export async function startLedger(
  dir: string,
  operator: TestEmitter,
  options: { origin: string; logKeyFile?: string; nextLogKeyFile?: string; port?: number },
): Promise<RunningService> {
  return startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: String(options.port ?? 0),
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: options.origin,
      CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '100000',
      CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '600000',
      CIVIC_LEDGER_LOG_LEVEL: 'silent',
      // The monitor reads entries without a token (tokens: packages/access, services/monitor).
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
      ...(options.logKeyFile === undefined ? {} : { CIVIC_LEDGER_LOG_KEY_FILE: options.logKeyFile }),
      ...(options.nextLogKeyFile === undefined
        ? {}
        : { CIVIC_LEDGER_NEXT_LOG_KEY_FILE: options.nextLogKeyFile }),
    }),
    { logger: false },
  );
}

export interface Receipt {
  index: number;
  eventHash: string;
  leafHash: string;
  admitted: string;
  logOrigin: string;
  checkpointWithinMs: number;
  signature: string;
}

/** Submits a batch; every event must be accepted. Returns the receipts. */
export async function submit(url: string, events: readonly unknown[]): Promise<Receipt[]> {
  const res = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { results: { ok: boolean; receipt?: Receipt; error?: unknown }[] };
  const refused = body.results.filter((r) => !r.ok);
  if (refused.length > 0) throw new Error(`refused: ${JSON.stringify(refused[0])}`);
  return body.results.map((r) => r.receipt!);
}

/** A real witness knowing one log. */
export async function startTestWitness(dir: string, name: string, log: { origin: string; logKey: string }) {
  return startWitness(
    {
      key: generateSigningKey(`witness.test/${name}`),
      dbPath: join(dir, `${name}.db`),
      logs: [{ origin: log.origin, verifierKeys: [log.logKey] }],
      port: 0,
    },
    { logger: false },
  );
}

/** Has the witness cosign the ledger's latest checkpoint (learning its size first, as a log does). */
export async function feedWitness(witness: RunningWitness, ledgerUrl: string): Promise<number> {
  const note = await (await fetch(`${ledgerUrl}/v1/checkpoint`)).text();
  const size = Number(note.split('\n')[1]);
  let old = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    let proof: Uint8Array[] = [];
    if (old > 0 && old < size) {
      const body = (await (
        await fetch(`${ledgerUrl}/v1/proofs/consistency?from=${old}&to=${size}`)
      ).json()) as {
        hashes: string[];
      };
      proof = body.hashes.map((h) => new Uint8Array(Buffer.from(h, 'base64')));
    }
    const r = await requestCosignature(witness.url, old, proof, note);
    if (r.status === 'cosigned') return size;
    old = r.latestSize;
  }
  throw new Error('the witness did not cosign');
}

/** A local webhook receiver; `failFirst` requests are answered 503 first. */
export async function startReceiver(options: { failFirst?: number } = {}) {
  const received: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  let failures = options.failFirst ?? 0;
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    requests: () => requests,
    /** Answer the next `n` requests with 503. */
    fail: (n: number) => void (failures = n),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
