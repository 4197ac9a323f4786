// Brokers going away during a stream, on the real infra/local servers: Kafka is stopped and
// started again, then NATS. While one is down, ingest is not ready and answers 503 (with
// Retry-After); when it is back ingest resumes, and nothing it accepted (202) is lost.
// This file stops shared servers, so it runs alone, after every other suite (the `serial`
// vitest project, see vitest.config.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bootstrapEvents, TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, datasetId, http, sleep, sourceId } from '../standalone/support.ts';
import {
  deployment,
  findBrokers,
  type Deployment,
  type ServiceProcess,
  verifyThroughQuery,
  waitReady,
} from './support.ts';

const brokers = await findBrokers();
const INFRA = fileURLToPath(new URL('../../infra/local/', import.meta.url));

function infra(command: 'up' | 'down', service: 'kafka' | 'nats'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`${INFRA}${command}`, service], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`infra/local/${command} ${service}: ${code}\n${err}`)),
    );
  });
}

describe.skipIf(!brokers)('ingest while a broker is down (real processes, real broker restarts)', () => {
  let d: Deployment | undefined;
  afterAll(async () => {
    // Whatever happened, leave the servers running for whoever comes next.
    await infra('up', 'kafka').catch(() => undefined);
    await infra('up', 'nats').catch(() => undefined);
    await d?.cleanup();
  });

  it('503 and not ready while Kafka, then NATS, is down; resumes after; loses nothing it accepted', async () => {
    const operator = new TestEmitter('ledger');
    const agency = new TestEmitter('transport-agency');
    d = deployment(brokers!, operator.verifierKey);
    const sequencer = await d.start('sequencer');
    await waitReady(sequencer, (s, b) => s === 200 && b.status === 'writer');
    const [ingest, query] = await Promise.all([d.start('ingest'), d.start('query')]);
    await Promise.all([waitReady(ingest), waitReady(query)]);
    const boot = bootstrapEvents(operator, [agency], {}, [
      { kind: 'source', id: sourceId(agency.org) },
      { kind: 'dataset', id: datasetId(agency.org) },
    ]);
    for (const e of boot)
      expect((await http(ingest.url, 'POST', '/v1/events?wait=20000', e)).status).toBe(201);
    // Events need a read token (the query service's default): the agency's.
    const read = await d.reader(agency.org);

    // An agency's system: one event at a time; on 503 it waits as told and sends it again.
    const accepted: TestSubmission[] = [];
    const refusedWhileDown: { status: number; code: string; retryAfter: string | null }[] = [];
    let down: 'kafka' | 'nats' | undefined;
    let stop = false;
    const stream = (async () => {
      let n = 0;
      let next = agency.next(collect(agency.org, n++));
      while (!stop) {
        const r = await http(ingest.url, 'POST', '/v1/events', next).catch(() => undefined);
        if (r?.status === 202) {
          accepted.push(next);
          next = agency.next(collect(agency.org, n++));
          await sleep(20);
        } else {
          if (r && down)
            refusedWhileDown.push({
              status: r.status,
              code: r.json?.code,
              retryAfter: r.headers.get('retry-after'),
            });
          else if (r) expect.fail(`unexpected answer with both brokers up: ${r.status} ${r.text}`);
          await sleep(200);
        }
      }
    })();
    const acceptedAtLeast = async (n: number) => {
      const until = Date.now() + 90_000;
      while (accepted.length < n && Date.now() < until) await sleep(50);
      expect(accepted.length).toBeGreaterThanOrEqual(n);
    };

    const outage = async (service: 'kafka' | 'nats', ingestSvc: ServiceProcess) => {
      await acceptedAtLeast(accepted.length + 20);
      down = service;
      await infra('down', service);
      const notReady = await waitReady(ingestSvc, (s) => s === 503, 20_000);
      expect(notReady).toMatchObject({ status: 'broker-unavailable', dependencies: { [service]: 'down' } });
      const before = refusedWhileDown.length;
      for (let t = 0; t < 100 && refusedWhileDown.length === before; t++) await sleep(100);
      expect(refusedWhileDown.length).toBeGreaterThan(before);
      await infra('up', service);
      await waitReady(ingestSvc, (s) => s === 200, 60_000);
      down = undefined;
      await acceptedAtLeast(accepted.length + 20);
    };
    await outage('kafka', ingest);
    await outage('nats', ingest);
    stop = true;
    await stream;

    expect(refusedWhileDown.length).toBeGreaterThan(0);
    for (const r of refusedWhileDown) {
      expect(r).toMatchObject({ status: 503, code: 'BROKER_UNAVAILABLE' });
      expect(r.retryAfter).not.toBeNull();
    }
    // Everything accepted reaches the log, in chain order, and the log verifies.
    const until = Date.now() + 90_000;
    const lastSeq = Number(accepted.at(-1)!.event['seq']);
    let head = 0;
    while (Date.now() < until) {
      const r = await http(query.url, 'GET', `/v1/chains/${agency.org}/main/head`);
      head = r.json?.seq ?? 0;
      if (head >= lastSeq) break;
      await sleep(200);
    }
    expect(head).toBe(lastSeq);
    for (const e of accepted) {
      const r = await http(query.url, 'GET', `/v1/events/${e.hash}`, undefined, read.headers);
      expect(r.status, e.hash).toBe(200);
    }
    const v = await verifyThroughQuery(d, query.url, read.file);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 300_000);
});
