// OpenLineage ingest in the standalone service, through a real socket: a pipeline with a
// bearer token posts run events; a COMPLETE run becomes a derive on its organization's chain,
// signed by the gateway's key (registered to the organization) and receipted by the log key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@civic-ledger/access';
import {
  formatVerifierKey,
  generateSigningKey,
  signingKeyFromKeyObject,
  writeSigningKeyFile,
} from '@civic-ledger/crypto';
import { addKey, bootstrapEvents, registerDataset, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { verifyReceipt } from '@civic-ledger/receipts';
import { ConfigError } from '@civic-ledger/service-config';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { startService, type RunningService } from './server.ts';

const SOURCE = 'transport-agency/cameras/north-07';
const INPUT = 'transport-agency/traffic-counts';
const OUTPUT = 'transport-agency/traffic-summary';
const TOKEN = 'pipeline-token-0123456789abcdef';
const dirs: string[] = [];
const running: RunningService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const post = async (url: string, body: unknown, token?: string) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
};

const runEvent = (eventType: string) => ({
  eventType,
  eventTime: '2026-11-02T08:30:00.000Z',
  producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: '01890f6e-4b4c-7cc1-8a5d-3c0a7e2f9b10' },
  job: { namespace: 'airflow', name: 'traffic.summarise' },
  inputs: [{ namespace: 'postgres://db:5432', name: 'traffic-counts' }],
  outputs: [{ namespace: 'postgres://db:5432', name: 'traffic-summary' }],
});

function setup(withOpenLineage: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'cl-openlineage-'));
  dirs.push(dir);
  const operator = new TestEmitter('ledger');
  const gatewayKey = generateSigningKey('openlineage-gateway/gw1');
  writeSigningKeyFile(join(dir, 'gateway.key'), gatewayKey);
  writeFileSync(
    join(dir, 'pipelines.json'),
    JSON.stringify([
      {
        token: TOKEN,
        organization: 'transport-agency',
        stream: 'openlineage',
        purpose: 'city:TrafficManagement',
        declaration: 'd'.repeat(64),
        categories: ['city:VehicleCount'],
        personalData: 'none',
      },
    ]),
  );
  const env = {
    CIVIC_LEDGER_DATA_DIR: join(dir, 'data'),
    CIVIC_LEDGER_PORT: '0',
    CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
    CIVIC_LEDGER_ORIGIN: 'ledger.test.example/log',
    ...(withOpenLineage
      ? {
          CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE: join(dir, 'pipelines.json'),
          CIVIC_LEDGER_OPENLINEAGE_GATEWAY_KEY_FILE: join(dir, 'gateway.key'),
        }
      : {}),
  };
  return { dir, operator, gatewayKey, env };
}

describe('OpenLineage ingest in the standalone service', () => {
  it('turns a COMPLETE run into a gateway-signed derive on the pipeline organization chain', async () => {
    const { operator, gatewayKey, env } = setup(true);
    const service = await startService(loadConfig(env), { logger: false });
    running.push(service);
    const agency = new TestEmitter('transport-agency');
    const gatewayAsAgency = signingKeyFromKeyObject('transport-agency/gw1', gatewayKey.privateKeyObject);
    const collect = () =>
      agency.next({
        type: 'collect',
        source: SOURCE,
        dataset: { id: INPUT, version: `sha256:${'1'.repeat(64)}` },
        inputs: [],
        purpose: 'city:TrafficManagement',
        declaration: 'd'.repeat(64),
        categories: ['city:VehicleCount'],
        personalData: 'none',
      } as never);
    const events = [
      ...bootstrapEvents(operator, [agency], {}, [
        { kind: 'source', id: SOURCE },
        { kind: 'dataset', id: INPUT },
      ]),
      registerDataset(agency, OUTPUT),
      addKey(operator, 'transport-agency', formatVerifierKey(gatewayAsAgency), gatewayAsAgency.name),
    ];
    for (const e of events) expect((await post(`${service.url}/v1/events`, e)).status).toBe(201);
    const input = collect();
    expect((await post(`${service.url}/v1/events`, input)).status).toBe(201);

    const start = await post(`${service.url}/api/v1/lineage`, runEvent('START'), TOKEN);
    expect(start.status).toBe(202);
    const done = await post(`${service.url}/api/v1/lineage`, runEvent('COMPLETE'), TOKEN);
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    const derived = done.body.ledgerEvent;
    expect(verifyReceipt(service.logKey, derived.receipt)).toBe(true);
    // Reading the event back needs a read token (access control is on by default): the agency's.
    const token = await issueToken(service.access!.issuerKey, {
      origin: 'ledger.test.example/log',
      org: 'transport-agency',
      scope: 'auditor',
    });
    const entry = (await fetch(`${service.url}/v1/events/${derived.eventHash}`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json())) as {
      leaf: string;
    };
    const leaf = JSON.parse(entry.leaf) as { event: Record<string, unknown> };
    expect(leaf.event).toMatchObject({
      type: 'derive',
      emitter: 'transport-agency',
      stream: 'openlineage',
      key: 'transport-agency/gw1',
      inputs: [input.hash],
      ext: { 'cl:attestedBy': 'gateway' },
    });
    expect(
      (await post(`${service.url}/api/v1/lineage`, runEvent('COMPLETE'), 'wrong-token-0123456789')).status,
    ).toBe(401);
  });

  it('has no OpenLineage routes when not configured, and refuses a half configuration', async () => {
    const { env, dir } = setup(false);
    const service = await startService(loadConfig(env), { logger: false });
    running.push(service);
    expect((await post(`${service.url}/api/v1/lineage`, runEvent('START'), TOKEN)).status).toBe(404);
    expect(() =>
      loadConfig({ ...env, CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE: join(dir, 'pipelines.json') }),
    ).toThrow(ConfigError);
  });

  it('names the rule when the pipelines file is wrong, and never the token', async () => {
    const { env, dir } = setup(true);
    writeFileSync(join(dir, 'pipelines.json'), JSON.stringify([{ token: TOKEN, organization: 'Bad Org' }]));
    const err = await startService(loadConfig(env), { logger: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/CIVIC_LEDGER_OPENLINEAGE_PIPELINES_FILE: /);
    expect(String((err as Error).message)).not.toContain(TOKEN);
  });
});
