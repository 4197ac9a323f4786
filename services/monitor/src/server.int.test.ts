// The monitor service against a real standalone ledger (same HTTP API as the query service)
// and a real NATS server: every event in an organization's name reaches the organization's
// subject, as the log grows, read with an oversight token (read access control on); status and metrics show the verified size; a restart continues
// from the state file; a log key that is not the log's gives an alert on the alert subject;
// once the log key is rotated, CIVIC_LEDGER_LOG_KEYS_FILE lets the service follow on.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Delivery } from '@civic-ledger/bus';
import { NatsBus } from '@civic-ledger/bus-nats';
import { testIssuer } from '@civic-ledger/access/testing';
import {
  formatVerifierKey,
  generateSigningKey,
  readSigningKeyFile,
  writeSigningKeyFile,
} from '@civic-ledger/crypto';
import {
  bootstrapEvents,
  registerDataset,
  registerSource,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { alertSchema, notificationSchema, type Alert, type OrgNotification } from '@civic-ledger/monitor';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { findService } from '@civic-ledger/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMonitorConfig } from './config.ts';
import { ID_HEADER, startMonitor, type RunningMonitor } from './server.ts';

const natsUrl = await findService('nats');
const ORIGIN = 'ledger.monitor-service.test/log';
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';

const collect = (n: number) =>
  ({
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 1000 + n,
  }) as never;

async function submit(url: string, events: readonly TestSubmission[]): Promise<void> {
  const res = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { results: { ok: boolean }[] };
  expect(body.results.every((r) => r.ok)).toBe(true);
}

async function until<T>(
  what: string,
  f: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(natsUrl === undefined)(
  'monitor service (real ledger, real NATS)',
  { timeout: 60_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'monitor-service-'));
    const namespace = `mon-${randomUUID().slice(0, 8)}`;
    const operator = new TestEmitter('ledger');
    const agency = new TestEmitter('transport-agency');
    const police = new TestEmitter('police');
    const board = new TestEmitter('privacy-board');
    const submitted: TestSubmission[] = [];
    let ledger: RunningService;
    let bus: NatsBus;
    let service: RunningMonitor | undefined;
    const received = new Map<string, Delivery[]>();
    const env = () => ({
      CIVIC_LEDGER_LEDGER_URL: ledger.url,
      CIVIC_LEDGER_LOG_KEY: formatVerifierKey(ledger.logKey),
      CIVIC_LEDGER_MONITOR_STATE_FILE: join(dir, 'state.json'),
      CIVIC_LEDGER_MONITOR_INTERVAL_MS: '100',
      CIVIC_LEDGER_NATS_URL: natsUrl!,
      CIVIC_LEDGER_NAMESPACE: namespace,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_TOKEN_FILE: join(dir, 'oversight.token'),
    });
    // What the organization must be told of: its own events and the events about its keys.
    const about = (org: string) =>
      submitted.filter((s) => {
        const e = s.event as { emitter: string; type: string; subjectOrg?: string };
        return e.emitter === org || (e.type === 'key' && e.subjectOrg === org);
      });
    const notifications = (subject: string) =>
      (received.get(subject) ?? []).map((d) =>
        notificationSchema.parse(JSON.parse(new TextDecoder().decode(d.data))),
      ) as OrgNotification[];

    async function listen(subject: string): Promise<void> {
      received.set(subject, []);
      // A durable group gets every message the stream holds, also those published before it joined.
      await bus.subscribe(subject, async (d) => void received.get(subject)!.push(d), { group: 'test' });
    }

    async function add(events: TestSubmission[]): Promise<void> {
      await submit(ledger.url, events);
      submitted.push(...events);
      await ledger.ledger.checkpointNow();
    }

    /** Starts the ledger (again, on the same data), with extra variables (a log key rotation). */
    async function startLedger(extra: Record<string, string> = {}): Promise<void> {
      await ledger?.close();
      ledger = await startService(
        loadConfig({
          CIVIC_LEDGER_DATA_DIR: join(dir, 'ledger'),
          CIVIC_LEDGER_PORT: '0',
          CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
          CIVIC_LEDGER_ORIGIN: ORIGIN,
          CIVIC_LEDGER_CHECKPOINT_MAX_ENTRIES: '100000',
          CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '600000',
          CIVIC_LEDGER_LOG_LEVEL: 'silent',
          // Read access control on (the default): the monitor reads with an oversight token.
          ...extra,
        }),
        { logger: false },
      );
    }

    beforeAll(async () => {
      await startLedger();
      // The oversight board's token, issued with the key the ledger made in its data dir.
      const issuer = testIssuer(ORIGIN, readSigningKeyFile(join(dir, 'ledger', 'token-issuer.key')));
      writeFileSync(
        join(dir, 'oversight.token'),
        await issuer.token(board.org, 'oversight', { ttlSeconds: 3600 }),
        {
          mode: 0o600,
        },
      );
      bus = await NatsBus.connect({ servers: natsUrl!, name: 'monitor-service-test' });
      await add([
        ...bootstrapEvents(operator, [agency, police, board], { [board.org]: 'oversight' }),
        registerSource(agency, SOURCE),
        registerDataset(agency, DATASET, [SOURCE]),
        ...Array.from({ length: 4 }, (_, i) => (i % 2 ? police : agency).next(collect(i))),
      ]);
    }, 30_000);

    afterAll(async () => {
      await service?.close();
      await bus?.close();
      await ledger?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('tells each organization of every event in its name, on its subject, as the log grows', async () => {
      const agencySubject = `${namespace}.civic-ledger.org.transport-agency`;
      const policeSubject = `${namespace}.civic-ledger.org.police`;
      await listen(agencySubject);
      await listen(policeSubject);
      await listen(`${namespace}.civic-ledger.monitor.alert`);
      service = await startMonitor(loadMonitorConfig(env()), { logger: false });
      expect(service.subjects.org('police')).toBe(policeSubject);

      const size = submitted.length;
      await until('the first poll', async () =>
        (await fetch(`${service!.url}/readyz`)).ok ? true : undefined,
      );
      const expectAll = async (org: string, subject: string) => {
        const want = about(org).map((s) => s.hash);
        const got = await until(`${org}'s notifications`, () => {
          const n = notifications(subject);
          return n.length >= want.length ? n : undefined;
        });
        expect(got.map((n) => n.kind === 'event' && n.eventHash)).toEqual(want);
        for (const n of got) {
          expect(n).toMatchObject({ kind: 'event', org, origin: ORIGIN });
          if (n.kind === 'event') expect(n.checkpoint.size).toBeLessThanOrEqual(submitted.length);
        }
        // Each message carries its stable id (receivers drop repeats by it).
        expect(received.get(subject)!.map((d) => d.headers[ID_HEADER])).toEqual(got.map((n) => n.id));
      };
      await expectAll('transport-agency', agencySubject);
      await expectAll('police', policeSubject);
      // The operator registered the police's key: the police is told (a key it does not know is news).
      expect(notifications(policeSubject)[0]).toMatchObject({ emitter: 'ledger', type: 'key' });

      let status = (await (await fetch(`${service.url}/v1/monitor/status`)).json()) as Record<
        string,
        unknown
      >;
      expect(status).toMatchObject({
        origin: ORIGIN,
        ready: true,
        verifiedSize: size,
        ledger: { size },
        alerts: { total: 0, byCode: {} },
        pendingPublish: 0,
        subjects: {
          alert: `${namespace}.civic-ledger.monitor.alert`,
          org: `${namespace}.civic-ledger.org.<org>`,
        },
      });

      // The log grows: the service follows without being told.
      await add(Array.from({ length: 3 }, (_, i) => police.next(collect(10 + i))));
      await expectAll('police', policeSubject);
      status = await until('the new size', async () => {
        const s = (await (await fetch(`${service!.url}/v1/monitor/status`)).json()) as Record<
          string,
          unknown
        >;
        return s['verifiedSize'] === submitted.length ? s : undefined;
      });
      expect(status['ledger']).toEqual({ size: submitted.length, rootHash: status['rootHash'] });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(`civic_ledger_monitor_verified_size ${submitted.length}\n`);
      expect(metrics).toContain(`civic_ledger_tree_size ${submitted.length}\n`);
      expect(metrics).not.toContain('civic_ledger_monitor_alerts_total{');
      expect(received.get(`${namespace}.civic-ledger.monitor.alert`)).toEqual([]);

      // A restart continues from the state file: nothing verified again, nothing published again.
      await service.close();
      const before = notifications(policeSubject).length;
      service = await startMonitor(loadMonitorConfig(env()), { logger: false });
      expect(service.monitor.size).toBe(submitted.length);
      await until('a poll after the restart', () => (service!.status().polls > 0 ? true : undefined));
      expect(service.status()).toMatchObject({ verifiedSize: submitted.length, published: 0 });
      await new Promise((r) => setTimeout(r, 300));
      expect(notifications(policeSubject)).toHaveLength(before);
    });

    it('publishes an alert with its evidence when the ledger does not sign with the pinned key', async () => {
      const wrong = formatVerifierKey(generateSigningKey(ORIGIN));
      const alertSubject = `${namespace}.civic-ledger.monitor.alert`;
      const count = received.get(alertSubject)!.length;
      const other = await startMonitor(
        loadMonitorConfig({
          ...env(),
          CIVIC_LEDGER_LOG_KEY: wrong,
          CIVIC_LEDGER_MONITOR_STATE_FILE: join(dir, 'wrong-key-state.json'),
        }),
        { logger: false },
      );
      try {
        const d = await until('an alert', () => received.get(alertSubject)![count]);
        const alert: Alert = alertSchema.parse(JSON.parse(new TextDecoder().decode(d.data)));
        expect(alert).toMatchObject({
          code: 'CHECKPOINT_INVALID',
          severity: 'critical',
          origin: ORIGIN,
          evidence: { check: 'CHECKPOINT_SIGNATURE' },
        });
        // The evidence is the note itself: anyone can check it does not open with the key.
        expect(String(alert.evidence['note'])).toContain(`\n— ${ORIGIN} `);
        expect(other.status()).toMatchObject({ ready: false, verifiedSize: 0, alerts: { total: 1 } });
        expect((await fetch(`${other.url}/readyz`)).status).toBe(503);
        expect(await (await fetch(`${other.url}/metrics`)).text()).toContain(
          'civic_ledger_monitor_alerts_total{code="CHECKPOINT_INVALID"} 1\n',
        );
      } finally {
        await other.close();
      }
    });

    it('follows the log through a key rotation with CIVIC_LEDGER_LOG_KEYS_FILE', async () => {
      // The first test's service, pinning the old key A, stops; its state goes on below.
      await service?.close();
      service = undefined;
      const A = formatVerifierKey(ledger.logKey);
      const aloneSize = ledger.ledger.size;
      const nextFile = join(dir, 'next-log.key');
      const next = generateSigningKey(ORIGIN);
      writeSigningKeyFile(nextFile, next);
      const B = formatVerifierKey(next);
      // The overlap (checkpoints signed by A and B), then B alone, as the standalone README says.
      await startLedger({ CIVIC_LEDGER_NEXT_LOG_KEY_FILE: nextFile });
      await add([police.next(collect(20))]);
      await startLedger({ CIVIC_LEDGER_LOG_KEY_FILE: nextFile });
      await add([police.next(collect(21))]);

      const keysFile = join(dir, 'log-keys.json');
      writeFileSync(keysFile, JSON.stringify([{ key: A }, { key: B, fromSize: aloneSize + 1 }]));
      const { CIVIC_LEDGER_LOG_KEY: _pinnedA, ...rest } = env();
      const policeSubject = `${namespace}.civic-ledger.org.police`;
      const alertSubject = `${namespace}.civic-ledger.monitor.alert`;
      const alerts = received.get(alertSubject)!.length;
      service = await startMonitor(loadMonitorConfig({ ...rest, CIVIC_LEDGER_LOG_KEYS_FILE: keysFile }), {
        logger: false,
      });
      expect(service.monitor.logKeys).toEqual([{ key: A }, { key: B, fromSize: aloneSize + 1 }]);
      // From the state verified with A: the new entries, under checkpoints A+B and B alone.
      expect(service.monitor.size).toBe(aloneSize);
      await until('the rotated log verified', () =>
        service!.status().verifiedSize === submitted.length ? true : undefined,
      );
      const want = about('police').map((s) => s.hash);
      const got = await until("the police's new events", () => {
        const n = notifications(policeSubject);
        return n.length >= want.length ? n : undefined;
      });
      expect(got.map((n) => n.kind === 'event' && n.eventHash)).toEqual(want);
      expect(service.status()).toMatchObject({ origin: ORIGIN, ready: true, alerts: { total: 0 } });
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      expect(received.get(alertSubject)).toHaveLength(alerts);
    });
  },
);
