// The SDK against the real standalone service: a demo city pushed through the outbox,
// receipts, the log verified from the client's reads, inclusion proofs checked against the
// pinned key (and refused with another key, or when tampered with), errors not retried.
import { rmSync } from 'node:fs';
import { formatVerifierKey, generateSigningKey, parseVerifierKey } from '@civic-ledger/crypto';
import { generateDemoCity, LOG_ORIGIN, type DemoSubmission } from '@civic-ledger/demo-city';
import { verifyReceipt, type SignedReceipt } from '@civic-ledger/receipts';
import { arraySource, verifyLog } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient } from './client.ts';
import { ClientError } from './errors.ts';
import { verifyEvidence } from './evidence.ts';
import { Outbox } from './outbox.ts';
import { recordingFetch, startTestLedger, tempDir, type TestLedger } from './test-server.ts';

const SIZE = 300;
const city = generateDemoCity({ seed: 'client-sdk', size: SIZE });
const wires: DemoSubmission[] = [...city.batchesSync()].flat();

let ledger: TestLedger;
let stateDir: string;
let receipts: SignedReceipt[];

beforeAll(async () => {
  ledger = await startTestLedger({ operatorKey: city.operatorKey, origin: LOG_ORIGIN });
  stateDir = tempDir();
});
afterAll(async () => {
  await ledger.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClientError);
  return e as ClientError;
}

describe('a demo city through the SDK', () => {
  it('submits every pre-signed event through the outbox in batches; every receipt verifies', async () => {
    const rec = recordingFetch();
    const client = ledger.client({ fetch: rec.fetch, batchSize: 128 });
    const outbox = await Outbox.open({ client, stateDir });
    const outcomes = await outbox.submitSigned(wires);
    outbox.close();

    const logKey = parseVerifierKey(ledger.logKey);
    receipts = outcomes.map((o, i) => {
      if (!o.ok) throw o.error;
      expect(o.duplicate).toBe(false);
      expect(o.hash).toBe(wires[i]!.hash);
      expect(o.receipt.eventHash).toBe(wires[i]!.hash);
      expect(o.receipt.index).toBe(i);
      expect(o.receipt.logOrigin).toBe(LOG_ORIGIN);
      expect(verifyReceipt(logKey, o.receipt)).toBe(true);
      return o.receipt;
    });
    // 300 events in requests of at most 128: three batch requests, in order.
    expect(rec.calls.filter((c) => c.path === '/v1/events/batch').length).toBe(3);
  });

  it('a resubmission is answered with the original receipts', async () => {
    const again = await ledger.client().submitBatch(wires.slice(0, 50));
    again.forEach((o, i) => {
      expect(o.ok).toBe(true);
      if (o.ok) {
        expect(o.duplicate).toBe(true);
        expect(o.receipt).toEqual(receipts[i]);
      }
    });
  });

  it('the log read through the client verifies end to end (verifyLog)', async () => {
    const client = ledger.client();
    // Wait for a checkpoint covering everything, then read every entry page by page.
    const { checkpoint } = await client.verifyInclusion(receipts[SIZE - 1]!);
    expect(checkpoint.size).toBe(SIZE);
    const leaves: string[] = [];
    for await (const entry of client.allEntries(0, 128)) leaves.push(entry.leaf);
    expect(leaves.length).toBe(SIZE);
    const note = await client.checkpointAt(SIZE);
    const result = await verifyLog(arraySource(leaves, [note]), {
      logKey: ledger.logKey,
      origin: LOG_ORIGIN,
    });
    expect(result).toMatchObject({ ok: true, size: SIZE, checkpoint: { size: SIZE } });
  });
});

describe('inclusion proofs against the pinned log key', () => {
  it('verifies a receipt and an event hash; the evidence re-verifies offline', async () => {
    const client = ledger.client();
    const byReceipt = await client.verifyInclusion(receipts[17]!);
    expect(byReceipt.evidence).toMatchObject({ eventHash: wires[17]!.hash, index: 17 });
    expect(byReceipt.checkpoint.size).toBeGreaterThan(17);
    const byHash = await client.verifyInclusion(wires[201]!.hash);
    expect(byHash.evidence.index).toBe(201);
    const cp = verifyEvidence(byHash.evidence, { logKey: ledger.logKey, origin: LOG_ORIGIN });
    expect(cp.size).toBe(byHash.checkpoint.size);
  });

  it('waits through a log that has published no checkpoint yet, up to its deadline', async () => {
    // The ledger answers NOT_FOUND for the latest checkpoint until its first one is out.
    let refused = 0;
    const young = (limit: number) =>
      (async (input, init) => {
        if (String(input).endsWith('/v1/checkpoint') && refused < limit) {
          refused++;
          return Response.json(
            { code: 'NOT_FOUND', message: 'no checkpoint yet', details: {} },
            { status: 404 },
          );
        }
        return fetch(input, init);
      }) as typeof fetch;
    const { checkpoint } = await ledger
      .client({ fetch: young(2) })
      .verifyInclusion(receipts[5]!, { pollMs: 10 });
    expect(refused).toBe(2);
    expect(checkpoint.size).toBeGreaterThan(5);
    refused = 0;
    const e = await rejection(
      ledger.client({ fetch: young(Infinity) }).verifyInclusion(receipts[5]!, { waitMs: 100, pollMs: 10 }),
    );
    expect(e.code).toBe('NOT_COVERED');
    expect(refused).toBeGreaterThan(2);
  });

  it('refuses a checkpoint that the pinned key did not sign', async () => {
    // Another key with the log's very name: same-looking signature line, another key id.
    const impostorKey = formatVerifierKey(generateSigningKey(LOG_ORIGIN));
    const client = new LedgerClient({ baseUrl: ledger.url, logKey: impostorKey });
    const e = await rejection(client.verifyInclusion(wires[3]!.hash));
    expect(e.code).toBe('CHECKPOINT_UNVERIFIED');
    expect(e.details['reason']).toBe('NO_VERIFIED_SIGNATURE');
    // ...and its receipts are refused too.
    expect((await rejection(client.verifyInclusion(receipts[3]!))).code).toBe('BAD_RECEIPT');
    // Offline: genuine evidence, checked with the wrong key.
    const { evidence } = await ledger.client().verifyInclusion(receipts[3]!);
    const offline = (() => {
      try {
        verifyEvidence(evidence, { logKey: impostorKey, origin: LOG_ORIGIN });
      } catch (x) {
        return x as ClientError;
      }
      return undefined;
    })();
    expect(offline?.code).toBe('CHECKPOINT_UNVERIFIED');
    // The right key but another origin is refused as well.
    expect(() => verifyEvidence(evidence, { logKey: ledger.logKey, origin: 'other.example/log' })).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_UNVERIFIED' }),
    );
  });

  it('refuses a tampered proof, online (man in the middle) and offline', async () => {
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0]! ^= 1;
      return bytes.toString('base64');
    };
    const { fetch } = recordingFetch((path, body) => {
      if (!path.startsWith('/v1/proofs/inclusion')) return body;
      const proof = JSON.parse(body) as { hashes: string[] };
      proof.hashes[0] = flip(proof.hashes[0]!);
      return JSON.stringify(proof);
    });
    const e = await rejection(ledger.client({ fetch }).verifyInclusion(receipts[42]!));
    expect(e.code).toBe('PROOF_INVALID');

    const { evidence } = await ledger.client().verifyInclusion(receipts[42]!);
    const tampered = { ...evidence, proof: [flip(evidence.proof[0]!), ...evidence.proof.slice(1)] };
    expect(() => verifyEvidence(tampered, { logKey: ledger.logKey, origin: LOG_ORIGIN })).toThrow(
      expect.objectContaining({ code: 'PROOF_INVALID' }),
    );
    // A proof one hash short, and a leaf swapped for another one's, are refused too.
    expect(() =>
      verifyEvidence(
        { ...evidence, proof: evidence.proof.slice(1) },
        { logKey: ledger.logKey, origin: LOG_ORIGIN },
      ),
    ).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
    const other = await ledger.client().getEntry(43);
    expect(() =>
      verifyEvidence({ ...evidence, leaf: other.leaf }, { logKey: ledger.logKey, origin: LOG_ORIGIN }),
    ).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
  });
});

describe('errors', () => {
  it("surfaces the ledger's refusal with its code, status and details, without retrying a 4xx", async () => {
    const rec = recordingFetch();
    const client = ledger.client({ fetch: rec.fetch, retry: { attempts: 5, baseDelayMs: 10 } });
    // An event changed after signing: the ledger refuses its signature (401), once.
    const forged = {
      event: { ...wires[120]!.event, time: '2026-10-01T00:00:00Z' },
      signature: wires[120]!.signature,
    };
    const e = await rejection(client.submit(forged));
    expect(e).toMatchObject({ code: 'BAD_SIGNATURE', status: 401 });
    expect(rec.calls.length).toBe(1);

    // Not found: 404, once.
    const missing = await rejection(client.getEvent('0'.repeat(64)));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(rec.calls.length).toBe(2);
    // A single resubmission is a duplicate (200) with the original receipt.
    const dup = await client.submit(wires[0]!);
    expect(dup).toMatchObject({ duplicate: true, receipt: receipts[0] });
  });

  it('refuses a malformed event before sending anything', async () => {
    const rec = recordingFetch();
    const client = ledger.client({ fetch: rec.fetch });
    const bad = { event: { ...wires[5]!.event, seq: 0 }, signature: wires[5]!.signature };
    const e = await rejection(client.submit(bad));
    expect(e.code).toBe('INVALID_EVENT');
    expect(e.details['issues']).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/event/seq' })]),
    );
    expect(rec.calls.length).toBe(0);
  });

  it('answers null for a chain with no events, and the head of one with events', async () => {
    const client = ledger.client();
    expect(await client.chainHead('police', 'no-such-stream')).toBeNull();
    const genesis = wires[0]!.event as { emitter: string; stream: string };
    const head = await client.chainHead(genesis.emitter, genesis.stream);
    expect(head?.seq).toBeGreaterThanOrEqual(1);
  });

  it('refuses bad options with INVALID_ARGUMENT naming the option', () => {
    expect(() => new LedgerClient({ baseUrl: 'ftp://x', logKey: ledger.logKey })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('baseUrl') }),
    );
    expect(() => new LedgerClient({ baseUrl: ledger.url, logKey: 'not a key' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('logKey') }),
    );
  });
});
