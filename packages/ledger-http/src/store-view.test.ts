// The read-only view the query service runs on: another process (here: a Ledger on the same
// store) writes; the view answers from the store and never calls an entry the store already
// shows missing, even between two timed refreshes.
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { StoreLogView } from './store-view.ts';

const ORIGIN = 'view.test.example/log';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function world() {
  const store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  const writer = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(generateSigningKey(ORIGIN))),
    operatorKey: operator.verifierKey,
    signatureThreads: 0,
  });
  cleanup.push(() => writer.close());
  // A refresh timer far in the future: only on-demand refreshes happen in this test.
  const view = await StoreLogView.open(store, { refreshMs: 3_600_000 });
  cleanup.push(() => view.close());
  const { app } = await buildApp(
    { origin: ORIGIN, checkpointWithinMs: 1000, readOnly: true, logger: false },
    { ledger: view, store },
  );
  cleanup.push(() => app.close());
  return { store, operator, writer, view, app };
}

describe('StoreLogView behind the read API', () => {
  it('has no submission routes and says so', async () => {
    const w = await world();
    const r = await w.app.inject({ method: 'POST', url: '/v1/events', payload: {} });
    expect(r.statusCode).toBe(404);
  });

  it('answers entries and proofs another process appended since its last refresh', async () => {
    const w = await world();
    const boot = bootstrapEvents(w.operator, [new TestEmitter('transport-agency')]);
    for (const r of await w.writer.submit(boot)) expect(r.ok).toBe(true);
    expect(w.view.size).toBe(0); // not refreshed yet
    const page = await w.app.inject({ method: 'GET', url: '/v1/entries?from=0&limit=100' });
    expect(page.json().entries).toHaveLength(boot.length);
    const last = boot.at(-1)!.hash;
    const proof = await w.app.inject({ method: 'GET', url: `/v1/proofs/inclusion?hash=${last}` });
    expect(proof.statusCode, proof.body).toBe(200);
    expect(proof.json()).toMatchObject({ index: boot.length - 1, size: boot.length });
    // Beyond what the store holds is still refused.
    const beyond = await w.app.inject({
      method: 'GET',
      url: `/v1/proofs/consistency?from=1&to=${boot.length + 5}`,
    });
    expect(beyond.statusCode).toBe(400);
  });

  it('is read-only: not writable, submissions refused with NOT_WRITER', async () => {
    const w = await world();
    for (const r of await w.writer.submit(bootstrapEvents(w.operator, []))) expect(r.ok).toBe(true);
    expect(await w.view.refresh()).toBe(1);
    expect(w.view.writable).toBe(false);
    await expect(w.view.submit()).rejects.toMatchObject({ code: 'NOT_WRITER' });
  });
});
