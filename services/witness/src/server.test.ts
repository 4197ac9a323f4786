import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import {
  MemoryLog,
  checkQuorum,
  formatAddCheckpointRequest,
  parsePolicy,
  requestCosignature,
  type Alarm,
} from '@civic-ledger/witness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWitness, type RunningWitness } from './server.ts';

const ORIGIN = 'ledger.example-city.eu/log';
const key = generateSigningKey('witness.oversight.example/w1');

let dir: string;
let running: RunningWitness[];
let logLines: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'witness-service-'));
  running = [];
  logLines = [];
});
afterEach(async () => {
  await Promise.all(running.map((r) => r.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A real witness on a free port, logging JSON lines into logLines. */
async function start(log: MemoryLog, extra: { bodyLimit?: number; onAlarm?: (a: Alarm) => void } = {}) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const w = await startWitness(
    {
      key,
      dbPath: join(dir, 'witness.db'),
      logs: [{ origin: log.origin, verifierKeys: [log.verifierKey] }],
      port: 0,
      ...(extra.bodyLimit === undefined ? {} : { bodyLimit: extra.bodyLimit }),
    },
    { logger: { level: 'info', stream }, ...(extra.onAlarm ? { onAlarm: extra.onAlarm } : {}) },
  );
  running.push(w);
  return w;
}

function post(w: RunningWitness, body: string, headers: Record<string, string> = {}) {
  return fetch(`${w.url}/add-checkpoint`, { method: 'POST', body, headers });
}

async function answer(res: Response): Promise<{ status: number; type: string; body: string }> {
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('POST /add-checkpoint', () => {
  it('answers every status of the spec through HTTP', async () => {
    const log = new MemoryLog(ORIGIN).grow(10);
    const w = await start(log);

    const ok = await answer(await post(w, log.addCheckpointRequest(0)));
    expect(ok).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8' });
    expect(ok.body).toMatch(/^— witness\.oversight\.example\/w1 [A-Za-z0-9+/]+=*\n$/);

    log.grow(6);
    expect(await answer(await post(w, log.addCheckpointRequest(3)))).toEqual({
      status: 409,
      type: 'text/x.tlog.size',
      body: '10\n',
    });
    const malformed = await answer(await post(w, 'old 1\nnot base64\n\n'));
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ code: 'MALFORMED_REQUEST' });
    const tooLarge = formatAddCheckpointRequest({ oldSize: 17, proof: [], checkpoint: log.checkpoint() });
    expect(JSON.parse((await answer(await post(w, tooLarge))).body)).toMatchObject({
      code: 'OLD_SIZE_TOO_LARGE',
    });

    const impostor = new MemoryLog(ORIGIN).grow(16);
    const forbidden = await post(w, impostor.addCheckpointRequest(10));
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('x-witness-refusal')).toBe('LOG_SIGNATURE_MISSING');

    const unknown = await answer(
      await post(w, new MemoryLog('other.example/log').grow(1).addCheckpointRequest(0)),
    );
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({
      code: 'UNKNOWN_ORIGIN',
      details: { origin: 'other.example/log' },
    });

    const badProof = formatAddCheckpointRequest({
      oldSize: 10,
      proof: log.consistencyProof(9),
      checkpoint: log.checkpoint(),
    });
    expect((await post(w, badProof)).status).toBe(422);

    const big = await answer(await post(w, `old 0\n\n${'x'.repeat(70_000)}`));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ code: 'BODY_TOO_LARGE' });

    expect((await answer(await post(w, log.addCheckpointRequest(10)))).status).toBe(200);
  });

  it('takes the body whatever its Content-Type, or none', async () => {
    const log = new MemoryLog(ORIGIN).grow(3);
    const w = await start(log);
    const body = log.addCheckpointRequest(0);
    expect((await post(w, body, { 'content-type': 'application/octet-stream' })).status).toBe(200);
    expect((await post(w, log.addCheckpointRequest(3), { 'content-type': 'application/json' })).status).toBe(
      200,
    );
    const bare = await fetch(`${w.url}/add-checkpoint`, {
      method: 'POST',
      body: new Blob([log.addCheckpointRequest(3)]),
    });
    expect(bare.status).toBe(200);
  });

  it('refuses a rollback and a fork, logs each alarm once with its evidence, never the key', async () => {
    const log = new MemoryLog(ORIGIN).grow(8);
    const alarms: Alarm[] = [];
    const w = await start(log, { onAlarm: (a) => alarms.push(a) });
    await post(w, log.addCheckpointRequest(0));
    log.grow(4);
    await post(w, log.addCheckpointRequest(8));

    const rollback = await post(w, log.addCheckpointRequest(0, 8));
    expect(await answer(rollback)).toMatchObject({ status: 409, body: '12\n' });
    await post(w, log.addCheckpointRequest(0, 8)); // replayed: no second alarm
    const forked = new MemoryLog(ORIGIN, log.key).grow(12, 'other');
    expect(await answer(await post(w, forked.addCheckpointRequest(12)))).toMatchObject({
      status: 409,
      body: '12\n',
    });

    expect(alarms.map((a) => a.kind)).toEqual(['ROLLBACK', 'FORK']);
    const logged = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; alarm?: Alarm });
    const alarmLines = logged.filter((l) => l.msg.startsWith('ALARM'));
    expect(alarmLines.map((l) => [l.level, l.alarm?.kind])).toEqual([
      [50, 'ROLLBACK'],
      [50, 'FORK'],
    ]);
    expect(alarmLines[1]!.alarm!.evidence.submitted.note).toBe(forked.checkpoint());

    const page = (await (await fetch(`${w.url}/alarms`)).json()) as { alarms: Alarm[]; next: number | null };
    expect(page.alarms.map((a) => [a.kind, a.severity])).toEqual([
      ['ROLLBACK', 'warning'],
      ['FORK', 'critical'],
    ]);
    expect(page.next).toBeNull();
    const first = (await (await fetch(`${w.url}/alarms?limit=1`)).json()) as {
      alarms: Alarm[];
      next: number;
    };
    expect(first.alarms).toHaveLength(1);
    const rest = (await (await fetch(`${w.url}/alarms?after=${first.next}`)).json()) as { alarms: Alarm[] };
    expect(rest.alarms.map((a) => a.kind)).toEqual(['FORK']);

    const secret = formatSigningKey(key);
    const all = logLines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(secret.slice(secret.lastIndexOf('+') + 1));
    expect(all).not.toContain('PRIVATE+KEY');
  });
});

describe('monitoring and operations', () => {
  it('serves the latest cosigned checkpoint per origin, and what it is', async () => {
    const log = new MemoryLog(ORIGIN).grow(5);
    const w = await start(log);
    const missing = await fetch(`${w.url}/checkpoint/${encodeURIComponent(ORIGIN)}`);
    expect(missing.status).toBe(404);
    await post(w, log.addCheckpointRequest(0));

    const note = await answer(await fetch(`${w.url}/checkpoint/${encodeURIComponent(ORIGIN)}`));
    expect(note.status).toBe(200);
    const policy = parsePolicy(`log ${log.verifierKey}\nwitness w1 ${w.witness.verifierKey}\nquorum w1\n`);
    expect(checkQuorum(note.body, policy)).toMatchObject({ ok: true, size: 5 });

    const list = (await (await fetch(`${w.url}/checkpoints`)).json()) as {
      checkpoints: { origin: string; size: number; note: string }[];
    };
    expect(list.checkpoints).toEqual([expect.objectContaining({ origin: ORIGIN, size: 5, note: note.body })]);
    expect(await (await fetch(`${w.url}/info`)).json()).toEqual({
      name: 'witness.oversight.example/w1',
      verifierKey: w.witness.verifierKey,
      logs: [{ origin: ORIGIN, verifierKeys: [log.verifierKey] }],
    });
  });

  it('counts cosigned, refused by code and alarms in /metrics; answers /healthz, /readyz and /docs', async () => {
    const log = new MemoryLog(ORIGIN).grow(5);
    const w = await start(log);
    await post(w, log.addCheckpointRequest(0));
    await post(w, log.addCheckpointRequest(0));
    await post(w, 'nonsense');
    await post(w, new MemoryLog(ORIGIN, log.key).grow(5, 'fork').addCheckpointRequest(5));
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toContain(`civic_ledger_witness_cosigned_total{origin="${ORIGIN}"} 1`);
    expect(metrics).toContain('civic_ledger_witness_refused_total{code="OLD_SIZE_MISMATCH"} 1');
    expect(metrics).toContain('civic_ledger_witness_refused_total{code="MALFORMED_REQUEST"} 1');
    expect(metrics).toContain('civic_ledger_witness_refused_total{code="ROOT_MISMATCH"} 1');
    expect(metrics).toContain('civic_ledger_witness_alarms_total{kind="FORK"} 1');
    expect(metrics).toContain('civic_ledger_witness_alarms_recorded{kind="FORK"} 1');
    expect(metrics).toContain(`civic_ledger_witness_tree_size{origin="${ORIGIN}"} 5`);
    expect(metrics).toContain('civic_ledger_witness_add_checkpoint_duration_seconds_count 4');

    expect(await (await fetch(`${w.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${w.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const doc = (await (await fetch(`${w.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/add-checkpoint',
        '/alarms',
        '/checkpoint/{origin}',
        '/checkpoints',
        '/healthz',
        '/info',
        '/metrics',
        '/readyz',
      ].sort(),
    );
    expect((await fetch(`${w.url}/docs`)).headers.get('content-type')).toContain('text/html');
    const bad = await fetch(`${w.url}/alarms?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  it('answers 503 while closing, except operations, and finishes requests in flight', async () => {
    const log = new MemoryLog(ORIGIN).grow(5);
    const w = await start(log);
    w.beginClose();
    expect((await post(w, log.addCheckpointRequest(0))).status).toBe(503);
    expect((await fetch(`${w.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
    await w.close();
    await expect(fetch(`${w.url}/healthz`)).rejects.toThrow();
  });
});

describe('state across restarts', () => {
  it('keeps the state in its database: a restarted witness refuses to go back', async () => {
    const log = new MemoryLog(ORIGIN).grow(7);
    const first = await start(log);
    expect((await post(first, log.addCheckpointRequest(0))).status).toBe(200);
    const served = await (await fetch(`${first.url}/checkpoint/${encodeURIComponent(ORIGIN)}`)).text();
    await first.close();

    const second = await start(log);
    expect(await (await fetch(`${second.url}/checkpoint/${encodeURIComponent(ORIGIN)}`)).text()).toBe(served);
    expect(await answer(await post(second, log.addCheckpointRequest(0)))).toMatchObject({
      status: 409,
      body: '7\n',
    });
    log.grow(2);
    expect((await post(second, log.addCheckpointRequest(7))).status).toBe(200);
  });

  it('serves the ledger side: requestCosignature gets a verified cosignature and the 409 size', async () => {
    const log = new MemoryLog(ORIGIN).grow(4);
    const w = await start(log);
    const r = await requestCosignature(w.url, 0, [], log.checkpoint(), {
      witnessKey: w.witness.verifierKey,
      timeoutMs: 2000,
    });
    expect(r.status === 'cosigned' && r.cosignature?.name).toBe('witness.oversight.example/w1');
    expect(await requestCosignature(w.url, 1, log.consistencyProof(1), log.checkpoint())).toEqual({
      status: 'conflict',
      latestSize: 4,
    });
  });
});
