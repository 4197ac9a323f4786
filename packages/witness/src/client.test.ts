import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKey } from '@civic-ledger/crypto';
import { parseNote } from '@civic-ledger/signed-note';
import { afterEach, describe, expect, it } from 'vitest';
import { addSignatures, requestCosignature } from './client.ts';
import { cosignerFromKey } from './cosignature.ts';
import { isWitnessError } from './errors.ts';
import { MemoryLog } from './memory-log.ts';
import { checkQuorum, parsePolicy } from './policy.ts';
import { formatSignatureLines } from './request.ts';
import { Witness } from './witness.ts';

const ORIGIN = 'client.example/log';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A bare node:http shell around the library's Witness (the service adds the rest). */
async function serveWitness(witness: Witness): Promise<string> {
  return serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/w/add-checkpoint') {
        res.writeHead(404).end();
        return;
      }
      void witness.addCheckpoint(Buffer.concat(chunks)).then((r) => {
        if (r.ok) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(r.body);
        else if (r.status === 409)
          res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end(`${r.latestSize}\n`);
        else res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.message);
      });
    });
  });
}

async function codeOf(
  p: Promise<unknown>,
): Promise<{ code: string; details: Record<string, unknown> } | undefined> {
  try {
    await p;
  } catch (e) {
    if (isWitnessError(e)) return { code: e.code, details: { ...e.details } };
    throw e;
  }
  return undefined;
}

describe('requestCosignature', () => {
  const witnessKey = generateSigningKey('witness.example/client');

  it('gets a verified cosignature, learns the latest size on 409, and the note reaches its quorum', async () => {
    const log = new MemoryLog(ORIGIN).grow(6);
    const witness = Witness.open({
      key: witnessKey,
      logs: [{ origin: ORIGIN, verifierKeys: [log.verifierKey] }],
      store: ':memory:',
    });
    try {
      const url = `${await serveWitness(witness)}/w/`;
      const first = await requestCosignature(url, 0, [], log.checkpoint(), {
        witnessKey: witness.verifierKey,
      });
      expect(first.status).toBe('cosigned');
      if (first.status !== 'cosigned') return;
      expect(first.cosignature?.name).toBe('witness.example/client');
      const cosigned = addSignatures(log.checkpoint(), first.signatures);
      const policy = parsePolicy(`log ${log.verifierKey}\nwitness w ${witness.verifierKey}\nquorum w\n`);
      expect(checkQuorum(cosigned, policy).ok).toBe(true);

      log.grow(3);
      const stale = await requestCosignature(url, 2, log.consistencyProof(2), log.checkpoint());
      expect(stale).toEqual({ status: 'conflict', latestSize: 6 });
      const next = await requestCosignature(url, 6, log.consistencyProof(6), log.checkpoint());
      expect(next.status === 'cosigned' && next.cosignature).toBeUndefined(); // no key given: nothing verified
    } finally {
      witness.close();
    }
  });

  it('reports other statuses, bad answers, timeouts and unreachable witnesses by code', async () => {
    const log = new MemoryLog(ORIGIN).grow(2);
    const note = log.checkpoint();
    const witness = Witness.open({
      key: witnessKey,
      logs: [{ origin: 'other.example/log', verifierKeys: [log.verifierKey] }],
      store: ':memory:',
    });
    try {
      const url = `${await serveWitness(witness)}/w`;
      expect(await codeOf(requestCosignature(url, 0, [], note))).toMatchObject({
        code: 'WITNESS_REFUSED',
        details: { status: 404 },
      });
    } finally {
      witness.close();
    }

    const cosigner = cosignerFromKey(witnessKey);
    const stranger = cosignerFromKey(generateSigningKey('stranger.example/w'));
    const text = parseNote(note).text;
    const answer = (status: number, type: string, body: string) =>
      serve((_req, res) => res.writeHead(status, { 'content-type': type }).end(body));
    const wrongBody = formatSignatureLines([cosigner.cosign(text.replace('\n2\n', '\n3\n'), 1)]);
    const cases: [string, string][] = [
      [await answer(409, 'text/plain', '2\n'), 'WITNESS_BAD_RESPONSE'],
      [await answer(409, 'text/x.tlog.size', 'two\n'), 'WITNESS_BAD_RESPONSE'],
      [await answer(200, 'text/plain', 'ok\n'), 'WITNESS_BAD_RESPONSE'],
      [
        await answer(200, 'text/plain', formatSignatureLines([stranger.cosign(text, 1)])),
        'WITNESS_BAD_RESPONSE',
      ],
      [await answer(200, 'text/plain', wrongBody), 'COSIGNATURE_INVALID'],
      [await answer(200, 'text/plain', 'x'.repeat(70_000)), 'WITNESS_BAD_RESPONSE'],
      [await answer(500, 'text/plain', 'boom'), 'WITNESS_REFUSED'],
    ];
    for (const [url, expected] of cases) {
      expect(
        (await codeOf(requestCosignature(url, 0, [], note, { witnessKey: cosigner.verifierKey })))?.code,
      ).toBe(expected);
    }

    const silent = await serve(() => undefined); // accepts, never answers
    const started = Date.now();
    expect((await codeOf(requestCosignature(silent, 0, [], note, { timeoutMs: 150 })))?.code).toBe(
      'WITNESS_TIMEOUT',
    );
    expect(Date.now() - started).toBeLessThan(2000);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect((await codeOf(requestCosignature(`http://127.0.0.1:${port}`, 0, [], note)))?.code).toBe(
      'WITNESS_UNREACHABLE',
    );
  });
});

describe('addSignatures', () => {
  it('appends cosignature lines and replaces a line of the same key', () => {
    const log = new MemoryLog(ORIGIN).grow(1);
    const note = log.checkpoint();
    const text = parseNote(note).text;
    const c = cosignerFromKey(generateSigningKey('w.example'));
    const once = addSignatures(note, [c.cosign(text, 1)]);
    const twice = addSignatures(once, [c.cosign(text, 2)]);
    const sigs = parseNote(twice).signatures;
    expect(sigs.map((s) => s.name)).toEqual([ORIGIN, 'w.example']);
    expect(sigs[1]).toEqual(c.cosign(text, 2));
  });
});
