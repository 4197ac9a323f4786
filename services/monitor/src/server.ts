// Starts the monitor service: the log monitor of @civic-ledger/monitor, polled continuously
// against the ledger's HTTP API, with what it finds published on NATS: every new alert (with
// its evidence) on `<ns>.civic-ledger.monitor.alert`, and every verified event in an
// organization's name (and every alert naming it as emitter) on `<ns>.civic-ledger.org.<org>`.
// The state file moves only after everything up to it was published, so a crash publishes
// again rather than never (at least once; the JetStream message id drops repeats within its
// window, and each message carries a stable id for receivers to drop the rest).
import { namespacedSubjects, SUBJECTS, type Subscription } from '@civic-ledger/bus';
import { NatsBus } from '@civic-ledger/bus-nats';
import { buildApp, type StandaloneApp, type ZodRouter } from '@civic-ledger/ledger-http';
import {
  eventNotification,
  loadState,
  Monitor,
  orgsOf,
  saveState,
  type Alert,
  type OrgNotification,
  type PollResult,
  type VerifiedEntry,
  type WitnessReport,
} from '@civic-ledger/monitor';
import { orgId } from '@civic-ledger/schemas';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import type { MonitorServiceConfig } from './config.ts';

/** The header carrying a message's stable id (also its JetStream message id). */
export const ID_HEADER = 'civic-ledger-id';

export interface MonitorSubjects {
  /** Every alert (JSON `Alert`). */
  alert: string;
  /** An organization's notifications (JSON `OrgNotification`): `orgPrefix` + the organization id. */
  org(org: string): string;
  orgPrefix: string;
}

/**
 * The monitor's subjects under a namespace, prefixed as namespacedSubjects prefixes the
 * ledger's. Organization ids (`^[a-z][a-z0-9-]{1,47}$`) are valid subject tokens as they
 * are: no dot, wildcard or white space; anything else is refused rather than escaped.
 */
export function monitorSubjects(namespace?: string): MonitorSubjects {
  const finding = namespacedSubjects(namespace).finding; // validates the namespace
  const prefix = finding.slice(0, finding.length - SUBJECTS.finding.length);
  return {
    alert: `${prefix}civic-ledger.monitor.alert`,
    orgPrefix: `${prefix}civic-ledger.org.`,
    org(org) {
      if (!orgId.safeParse(org).success) throw new Error(`not an organization id: ${JSON.stringify(org)}`);
      return `${prefix}civic-ledger.org.${org}`;
    },
  };
}

// The notification format and who an entry is about are the monitor library's: the service
// publishes on NATS exactly what the library POSTs to a webhook.
export { eventNotification, orgsOf };

const statusSchema = z.object({
  origin: z.string(),
  ledgerUrl: z.string(),
  ready: z.boolean(),
  /** Size, root and note of the last checkpoint verified. */
  verifiedSize: z.number().int().nonnegative(),
  rootHash: z.string(),
  /** null before the first. */
  checkpoint: z.string().nullable(),
  /** The ledger's latest checkpoint as of the last poll that could open it. */
  ledger: z.object({ size: z.number().int().nonnegative(), rootHash: z.string() }).nullable(),
  lastPoll: z
    .object({ at: z.string(), ok: z.boolean(), entries: z.number().int(), alerts: z.number().int() })
    .nullable(),
  lastError: z.string().nullable(),
  polls: z.number().int(),
  alerts: z.object({ total: z.number().int(), byCode: z.record(z.string(), z.number().int()) }),
  published: z.number().int(),
  pendingPublish: z.number().int(),
  witnesses: z.array(z.object({ url: z.string(), status: z.string(), size: z.number().int().optional() })),
  subjects: z.object({ alert: z.string(), org: z.string() }),
});
export type MonitorStatus = z.infer<typeof statusSchema>;

export interface RunningMonitor extends StandaloneApp {
  url: string;
  monitor: Monitor;
  subjects: MonitorSubjects;
  status(): MonitorStatus;
  close(): Promise<void>;
}

interface Outgoing {
  subject: string;
  id: string;
  data: Uint8Array;
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

export async function startMonitor(
  config: MonitorServiceConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<RunningMonitor> {
  const subjects = monitorSubjects(config.namespace);
  // The state file is written here, after publishing, not by the library after each poll.
  const saved = loadState(config.statePath);
  const monitor = new Monitor({
    ledgerUrl: config.ledgerUrl,
    ...(config.logKeys === undefined ? { logKey: config.logKey } : { logKeys: config.logKeys }),
    ...(config.origin === undefined ? {} : { origin: config.origin }),
    witnesses: config.witnesses,
    ...(saved === undefined ? {} : { state: saved }),
    // Sent to the ledger only, never to a witness.
    ...(config.token === undefined ? {} : { http: { headers: { authorization: `Bearer ${config.token}` } } }),
  });
  const nats = await NatsBus.connect({
    servers: config.natsServers,
    name: 'civic-ledger-monitor',
    msgId: (_subject, _data, o) => o.headers?.[ID_HEADER],
  });
  let log: FastifyBaseLogger | undefined;
  const opened: { close(): Promise<void> }[] = [nats];
  try {
    const queue: Outgoing[] = [];
    const byCode = new Map<string, number>();
    let alertsTotal = 0;
    let published = 0;
    let polls = 0;
    let ready = false;
    let last: { result: PollResult; at: string } | undefined;
    let ledgerHead: { size: number; rootHash: string } | undefined;
    let witnesses: WitnessReport[] = [];
    let lastError: string | undefined;

    const toOrg = (org: string, n: OrgNotification) =>
      queue.push({ subject: subjects.org(org), id: n.id, data: json(n) });
    monitor.on('alert', (a: Alert) => {
      alertsTotal++;
      byCode.set(a.code, (byCode.get(a.code) ?? 0) + 1);
      queue.push({ subject: subjects.alert, id: `${a.origin}#alert#${a.id}`, data: json(a) });
      const emitter = a.evidence['emitter'];
      if (typeof emitter === 'string' && orgId.safeParse(emitter).success) {
        const id = `${a.origin}#alert#${a.id}#${emitter}`;
        toOrg(emitter, { kind: 'alert', id, org: emitter, origin: a.origin, alert: a });
      }
    });
    // Entries come before the checkpoint that covers them; their notifications name it.
    let entries: VerifiedEntry[] = [];
    monitor.on('entry', (e) => void entries.push(e));
    monitor.on('checkpoint', (t) => {
      for (const e of entries) {
        for (const org of orgsOf(e)) {
          toOrg(org, eventNotification(monitor.origin, org, e, { size: t.size, rootHash: t.rootHash }));
        }
      }
      entries = [];
    });

    /** Publishes the queue in order (per subject: the ledger's order); stops at the first failure. */
    const flush = async () => {
      while (queue.length > 0) {
        const m = queue[0]!;
        await nats.publish(m.subject, m.data, { headers: { [ID_HEADER]: m.id } });
        queue.shift();
        published++;
      }
    };

    let savedText = saved === undefined ? '' : JSON.stringify({ ...saved, updatedAt: '' });
    let stopping = false;
    let wake: (() => void) | undefined;
    let woken = false;
    const loop = (async () => {
      while (!stopping) {
        try {
          // What an earlier round could not publish goes first, and nothing new is read meanwhile.
          await flush();
          const result = await monitor.pollOnce();
          polls++;
          last = { result, at: new Date().toISOString() };
          if (result.ledger) ledgerHead = result.ledger;
          witnesses = result.witnesses;
          await flush();
          // Written when it changed (every poll stamps updatedAt; that alone is not worth an fsync).
          const st = monitor.state;
          const text = JSON.stringify({ ...st, updatedAt: '' });
          if (text !== savedText) {
            saveState(config.statePath, st);
            savedText = text;
          }
          lastError = undefined;
          if (result.ledger !== undefined && !ready) {
            ready = true;
            log?.info({ size: monitor.size }, 'first poll done');
          }
        } catch (e) {
          lastError = (e as Error).message;
          log?.warn({ err: e, pending: queue.length }, 'monitor round failed');
        }
        if (stopping) break;
        if (woken) {
          woken = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, config.intervalMs);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          wake = done;
        });
        wake = undefined;
      }
    })();
    const poke = () => {
      if (wake) wake();
      else woken = true;
    };
    const stopLoop = async () => {
      stopping = true;
      wake?.();
      await loop;
      monitor.stop();
    };
    opened.push({ close: stopLoop });
    // In distributed mode the sequencer announces each checkpoint: poll at once.
    const announced: Subscription = await nats.subscribe(
      namespacedSubjects(config.namespace).checkpoint,
      async () => poke(),
    );
    opened.push(announced);

    const status = (): MonitorStatus => {
      const st = monitor.state;
      return {
        origin: monitor.origin,
        ledgerUrl: config.ledgerUrl,
        ready,
        verifiedSize: st.size,
        rootHash: st.rootHash,
        checkpoint: st.checkpoint,
        ledger: ledgerHead ?? null,
        lastPoll: last
          ? {
              at: last.at,
              ok: last.result.ok,
              entries: last.result.entries,
              alerts: last.result.alerts.length,
            }
          : null,
        lastError: lastError ?? null,
        polls,
        alerts: { total: alertsTotal, byCode: Object.fromEntries(byCode) },
        published,
        pendingPublish: queue.length,
        witnesses,
        subjects: { alert: subjects.alert, org: `${subjects.orgPrefix}<org>` },
      };
    };

    const built = await buildApp(
      {
        origin: monitor.origin,
        checkpointWithinMs: 1000,
        readOnly: true,
        readRoutes: false,
        title: 'Civic Ledger monitor service',
        clientRateLimit:
          config.rateLimitPerMinute === 0 ? null : { max: config.rateLimitPerMinute, windowMs: 60_000 },
        keyRateLimit: null,
        logLevel: config.logLevel,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      {
        ready: async () => {
          const n = await nats.ready();
          const ok = n && ready;
          return {
            ok,
            status: ok ? 'ready' : !n ? 'dependency-unavailable' : 'first-poll-pending',
            size: monitor.size,
            dependencies: { nats: n ? 'up' : 'down', ledger: ready ? 'verified' : 'not-yet' },
          };
        },
        registerExtra: (r: ZodRouter) =>
          r.get(
            '/v1/monitor/status',
            {
              schema: {
                summary: 'What the monitor verified, found and published',
                tags: ['monitor'],
                response: { 200: statusSchema },
              },
            },
            async () => status(),
          ),
      },
    );
    const { app } = built;
    log = app.log;
    // The API's metrics with the verified size as the tree size, then the monitor's own.
    const render = built.metrics.render.bind(built.metrics);
    built.metrics.render = (gauges) => render({ ...gauges, treeSize: monitor.size }) + metricsText(status());
    const url = await app.listen({ host: config.host, port: config.port });
    app.log.info(
      {
        ledger: config.ledgerUrl,
        origin: monitor.origin,
        size: monitor.size,
        witnesses: config.witnesses.length,
      },
      'monitor service started',
    );
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        built.beginClose();
        const timer = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
        }
        // The round in progress finishes and publishes while NATS is still open.
        for (const c of opened.splice(0).reverse()) await c.close().catch(() => undefined);
      })());
    return Object.assign(built, { url, monitor, subjects, status, close });
  } catch (e) {
    for (const c of opened.splice(0).reverse()) await c.close().catch(() => undefined);
    throw e;
  }
}

/** Prometheus text of the monitor's figures. */
export function metricsText(s: MonitorStatus): string {
  const out = [
    '# HELP civic_ledger_monitor_verified_size Entries verified up to the last verified checkpoint.',
    '# TYPE civic_ledger_monitor_verified_size gauge',
    `civic_ledger_monitor_verified_size ${s.verifiedSize}`,
    '# HELP civic_ledger_monitor_ledger_size Size of the ledger checkpoint read at the last poll.',
    '# TYPE civic_ledger_monitor_ledger_size gauge',
    `civic_ledger_monitor_ledger_size ${s.ledger?.size ?? 0}`,
    '# HELP civic_ledger_monitor_alerts_total Alerts raised, by code.',
    '# TYPE civic_ledger_monitor_alerts_total counter',
    ...Object.entries(s.alerts.byCode)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([code, n]) => `civic_ledger_monitor_alerts_total{code="${code}"} ${n}`),
    '# HELP civic_ledger_monitor_polls_total Polls completed.',
    '# TYPE civic_ledger_monitor_polls_total counter',
    `civic_ledger_monitor_polls_total ${s.polls}`,
    '# HELP civic_ledger_monitor_published_total Messages published on NATS (alerts and notifications).',
    '# TYPE civic_ledger_monitor_published_total counter',
    `civic_ledger_monitor_published_total ${s.published}`,
    '# HELP civic_ledger_monitor_publish_pending Messages waiting to be published.',
    '# TYPE civic_ledger_monitor_publish_pending gauge',
    `civic_ledger_monitor_publish_pending ${s.pendingPublish}`,
  ];
  return `${out.join('\n')}\n`;
}
