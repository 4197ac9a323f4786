// The compliance service in distributed mode, as real processes on the real Kafka, NATS
// JetStream and MongoDB-wire servers of infra/local: sequencer, ingest, query and compliance.
// A demo city with violations goes in through ingest; the compliance service, started on the
// existing log, records a finding for each violation through the Kafka submissions topic; a
// violating movement submitted afterwards gets its finding in the log (read back through the
// query service, signed by the compliance key) and on the NATS `finding` subject; the
// retention monitor raises overdue findings; verify of the whole log passes; SIGTERM drains.
import { writeSigningKeyFile, fromBase64, parseVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity, violationHooks, type DemoSubmission } from '@civic-ledger/demo-city';
import { verifyEventSignature } from '@civic-ledger/events';
import { TestEmitter } from '@civic-ledger/ledger-core/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, sleep } from '../standalone/support.ts';
import {
  deployment,
  findBrokers,
  spawnService,
  verifyThroughQuery,
  waitReady,
  type Deployment,
  type ServiceKind,
  type ServiceProcess,
} from '../distributed/support.ts';
import { freePort } from '../standalone/support.ts';

const brokers = await findBrokers();

interface Alert {
  subject: string;
  headers: Record<string, string>;
  body: { event: string; about: string; check: string; outcome: string; index: number };
}

describe.skipIf(!brokers)(
  'the compliance service on Kafka, NATS JetStream and MongoDB (real processes)',
  () => {
    const violations = new Map<string, string>();
    const city = generateDemoCity({
      seed: 'compliance-e2e',
      size: 240,
      batchSize: 60,
      hooks: violationHooks({ perHour: 0.01, onViolation: (v) => violations.set(v.hash, v.kind) }),
    });
    const events: DemoSubmission[] = [];
    let d: Deployment;
    let ingest: ServiceProcess;
    let query: ServiceProcess;
    let compliance: ServiceProcess;
    /** The city's oversight body's read token: entries need one (the query service's default). */
    let read: { file: string; headers: Record<string, string> };
    let nc: NatsConnection;
    const alerts: Alert[] = [];

    /** The finding events in the log, through the query service. */
    async function findingsInLog(): Promise<
      { hash: string; event: Record<string, string>; signature: string }[]
    > {
      const out = [];
      for (let from = 0; ;) {
        const page = await http(
          query.url,
          'GET',
          `/v1/entries?from=${from}&limit=1000`,
          undefined,
          read.headers,
        );
        expect(page.status, page.text).toBe(200);
        for (const e of page.json.entries as { leaf: string; eventHash: string }[]) {
          const leaf = JSON.parse(e.leaf) as { event: Record<string, string>; signature: string };
          if (leaf.event['type'] === 'finding') out.push({ hash: e.eventHash, ...leaf });
        }
        if (page.json.next === null) return out;
        from = page.json.next as number;
      }
    }

    beforeAll(async () => {
      d = deployment(brokers!, city.operatorKey);
      read = await d.reader('oversight-board', 'oversight');
      const sequencer = await d.start('sequencer');
      await waitReady(sequencer, (s, b) => s === 200 && b.status === 'writer');
      [ingest, query] = await Promise.all([d.start('ingest'), d.start('query')]);
      await Promise.all([waitReady(ingest), waitReady(query)]);
      for await (const batch of city.batches()) {
        const r = await http(ingest.url, 'POST', '/v1/events/batch?wait=30000', { events: batch });
        expect(r.status, r.text).toBe(200);
        expect(
          (r.json.results as { ok: boolean }[]).every((x) => x.ok),
          r.text,
        ).toBe(true);
        events.push(...batch);
      }
      // Alerts are published on the log's namespaced `finding` subject (a JetStream subject:
      // a plain subscriber sees what is stored there).
      nc = await connect({ servers: brokers!.nats });
      const sub = nc.subscribe(`${d.namespace}.civic-ledger.finding`);
      void (async () => {
        for await (const m of sub) {
          const headers: Record<string, string> = {};
          for (const [k, v] of m.headers ?? []) headers[k] = v[0] ?? '';
          alerts.push({ subject: m.subject, headers, body: m.json() });
        }
      })();
      const keyFile = join(d.dir, 'compliance.key');
      writeSigningKeyFile(keyFile, city.keys.get('compliance')!);
      // support.ts's kinds predate this service; its main.ts sits where theirs do.
      compliance = spawnService(
        'compliance' as ServiceKind,
        { ...d.env, CIVIC_LEDGER_COMPLIANCE_KEY_FILE: keyFile, CIVIC_LEDGER_RETENTION_INTERVAL_MS: '3000' },
        await freePort(),
      );
      d.started.push(compliance);
      await waitReady(compliance);
    }, 180_000);

    afterAll(async () => {
      await nc?.close();
      await d?.cleanup();
    });

    it('records a finding for every violation already in the log, through Kafka, signed by its key', async () => {
      expect(violations.size).toBeGreaterThan(0);
      const key = parseVerifierKey(city.verifierKeys['compliance']!);
      let findings: Awaited<ReturnType<typeof findingsInLog>> = [];
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        findings = await findingsInLog();
        if ([...violations.keys()].every((h) => findings.some((f) => f.event['about'] === h))) break;
        await sleep(500);
      }
      for (const [hash] of violations) {
        expect(
          findings.some((f) => f.event['about'] === hash && f.event['outcome'] === 'violation'),
          hash,
        ).toBe(true);
      }
      findings.forEach((f, i) => {
        expect(f.event).toMatchObject({
          emitter: 'compliance',
          stream: 'findings',
          key: 'compliance/k1',
          seq: i + 1,
        });
        expect(verifyEventSignature(f.hash, fromBase64(f.signature), key)).toBe(true);
      });
      const status = await http(compliance.url, 'GET', '/v1/compliance/status');
      expect(status.json).toMatchObject({ org: 'compliance', findings: { refused: 0 } });
    }, 90_000);

    it('judges a violating movement submitted later: its finding is in the log and on NATS', async () => {
      const [hash] = [...violations].find(([, k]) => k === 'undeclared-purpose' || k === 'video-to-police')!;
      const original = events.find((e) => e.hash === hash)!.event as Record<string, unknown>;
      const body = Object.fromEntries(
        Object.entries(original).filter(
          ([k]) => !['v', 'emitter', 'stream', 'seq', 'prev', 'time', 'key'].includes(k),
        ),
      );
      const emitter = new TestEmitter(original['emitter'] as string, {
        key: city.keys.get(original['emitter'] as string)!,
        stream: 'e2e-probe',
      });
      emitter.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const probe = emitter.next(body as never);
      const r = await http(ingest.url, 'POST', '/v1/events?wait=20000', probe);
      expect(r.status, r.text).toBe(201);

      await expect
        .poll(() => alerts.find((a) => a.body.about === probe.hash && a.body.check === 'purpose-declared'), {
          timeout: 30_000,
          interval: 200,
        })
        .toBeDefined();
      const alert = alerts.find((a) => a.body.about === probe.hash && a.body.check === 'purpose-declared')!;
      expect(alert.headers).toMatchObject({
        check: 'purpose-declared',
        outcome: 'violation',
        about: probe.hash,
      });
      expect(alert.headers['organization']).toBe(original['emitter']);
      // The finding the alert names is in the log, through the query service.
      const entry = await http(query.url, 'GET', `/v1/events/${alert.body.event}`, undefined, read.headers);
      expect(entry.status, entry.text).toBe(200);
      expect(JSON.parse(entry.json.leaf as string).event).toMatchObject({
        type: 'finding',
        emitter: 'compliance',
        about: probe.hash,
        check: 'purpose-declared',
        outcome: 'violation',
      });
      // And through the compliance service's own findings API.
      const api = await http(compliance.url, 'GET', `/v1/findings?about=${probe.hash}`);
      expect(api.json.findings.map((f: { event: string }) => f.event)).toContain(alert.body.event);
    }, 60_000);

    it('raises overdue findings for data kept past its retention, without any movement', async () => {
      // The city's window ended weeks ago: its last raw captures were never deleted.
      await expect
        .poll(async () => (await findingsInLog()).filter((f) => f.event['outcome'] === 'overdue').length, {
          timeout: 30_000,
          interval: 500,
        })
        .toBeGreaterThan(0);
      const overdue = (await findingsInLog()).filter((f) => f.event['outcome'] === 'overdue');
      for (const f of overdue) expect(f.event['check']).toBe('retention');
      // Once per holding, however often the monitor runs.
      await sleep(4000);
      const again = (await findingsInLog()).filter((f) => f.event['outcome'] === 'overdue');
      expect(new Set(again.map((f) => f.event['about'])).size).toBe(again.length);
    }, 60_000);

    it('leaves a log the independent verifier accepts; SIGTERM drains and exits 0', async () => {
      const v = await verifyThroughQuery(d, query.url, read.file);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(await compliance.stop()).toBe(0);
      expect(compliance.logs().some((l) => l['msg'] === 'closed')).toBe(true);
    }, 60_000);
  },
);
