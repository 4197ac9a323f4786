// Live notifications through a real socket: what an organization watching its own name and a
// monitor following checkpoints see.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@civic-ledger/crypto';
import { addKey, bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { startService, type RunningService } from './server.ts';

const dirs: string[] = [];
const running: RunningService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface SseEvent {
  event: string;
  id: string | undefined;
  data: Record<string, unknown>;
}

/** Reads Server-Sent Events from a response until `stop` says enough (or the stream ends). */
async function readEvents(res: Response, stop: (seen: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!stop(seen)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(': ');
        fields.set(line.slice(0, i), line.slice(i + 2));
      }
      if (fields.has('event')) {
        seen.push({
          event: fields.get('event')!,
          id: fields.get('id'),
          data: JSON.parse(fields.get('data')!) as Record<string, unknown>,
        });
      }
    }
  }
  await reader.cancel();
  return seen;
}

describe('GET /v1/notifications', () => {
  it('streams the entries appended in the name of an organization and every signed checkpoint, after the commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-notify-'));
    dirs.push(dir);
    const operator = new TestEmitter('ledger');
    const service = await startService(
      loadConfig({
        CIVIC_LEDGER_DATA_DIR: dir,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
        CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '50',
        // The streams open on an empty log, before any organization a token could name is
        // registered: this test is about the stream; tokens on it are ledger-http's tests.
        CIVIC_LEDGER_ACCESS_CONTROL: 'off',
      }),
      { logger: false },
    );
    running.push(service);
    const mine = await fetch(`${service.url}/v1/notifications?emitter=transport-agency`);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const cps = await fetch(`${service.url}/v1/notifications?types=checkpoint`);

    const agency = new TestEmitter('transport-agency');
    const second = new TestEmitter('transport-agency', { key: generateSigningKey('transport-agency/k2') });
    const events = [
      ...bootstrapEvents(operator, [agency]),
      addKey(agency, 'transport-agency', second.verifierKey, 'transport-agency/k2'),
      registerOrg(operator, 'police', 'agency'),
    ];
    const res = await fetch(`${service.url}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    const results = ((await res.json()) as { results: { receipt: { index: number; eventHash: string } }[] })
      .results;

    // Only the agency's own key event (index 3), after which the stream stays quiet for others.
    const checkpoints = await readEvents(cps, (s) => s.some((e) => Number(e.data['size']) === 5));
    expect(checkpoints.every((e) => e.event === 'checkpoint')).toBe(true);
    expect(String(checkpoints.at(-1)!.data['note'])).toContain('\n5\n');
    const seen = await readEvents(mine, (s) => s.some((e) => e.event === 'checkpoint'));
    const appended = seen.filter((e) => e.event === 'appended');
    expect(appended.map((e) => e.data['eventHash'])).toEqual([results[3]!.receipt.eventHash]);
    expect(appended[0]!.id).toBe('3');
    expect(appended[0]!.data).toMatchObject({ emitter: 'transport-agency', seq: 1, type: 'key', index: 3 });
  });

  it('refuses an unknown type naming the rule, and ends open streams when the service closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-notify-'));
    dirs.push(dir);
    const service = await startService(
      loadConfig({
        CIVIC_LEDGER_DATA_DIR: dir,
        CIVIC_LEDGER_PORT: '0',
        CIVIC_LEDGER_OPERATOR_KEY: new TestEmitter('ledger').verifierKey,
        // An empty log: no organization a token could name (see above).
        CIVIC_LEDGER_ACCESS_CONTROL: 'off',
      }),
      { logger: false },
    );
    const bad = await fetch(`${service.url}/v1/notifications?types=everything`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'SCHEMA_INVALID' });
    const stream = await fetch(`${service.url}/v1/notifications`);
    const ended = readEvents(stream, () => false);
    const started = Date.now();
    await service.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
