// The SDK with a witness policy, against the real standalone service publishing cosigned
// checkpoints with three real witness servers (2 of 3): checkpoints and inclusion evidence
// carry the quorum, a stricter policy or a checkpoint stripped of its cosignatures is refused
// with QUORUM_NOT_MET naming the group, and policies that do not fit are refused up front.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { formatNote, parseNote } from '@civic-ledger/signed-note';
import { loadConfig, startService, type RunningService } from '@civic-ledger/standalone-service';
import { parsePolicy } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient, type LedgerClientOptions } from './client.ts';
import { ClientError } from './errors.ts';
import { verifyEvidence } from './evidence.ts';
import type { SignedReceipt } from '@civic-ledger/receipts';

const ORIGIN = 'ledger.sdk-witnessed.example/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_VKEY = formatVerifierKey(logKey);

let dir: string;
let witnesses: RunningWitness[];
let service: RunningService;
let receipts: SignedReceipt[];
const operator = new TestEmitter('ledger');
const policyOf = (k: number | 'all', log = LOG_VKEY) =>
  [
    `log ${log}`,
    ...witnesses.map((w, i) => `witness w${i + 1} ${w.witness.verifierKey} ${w.url}`),
    `group oversight ${k} w1 w2 w3`,
    'quorum oversight',
    '',
  ].join('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cl-client-w-'));
  writeSigningKeyFile(join(dir, 'log.key'), logKey);
  witnesses = await Promise.all(
    [1, 2, 3].map((i) =>
      startWitness(
        {
          key: generateSigningKey(`w${i}.oversight.example`),
          dbPath: join(dir, `w${i}.db`),
          logs: [{ origin: ORIGIN, verifierKeys: [LOG_VKEY] }],
          port: 0,
        },
        { logger: false },
      ),
    ),
  );
  writeFileSync(join(dir, 'policy.txt'), policyOf(2));
  service = await startService(
    loadConfig({
      CIVIC_LEDGER_DATA_DIR: dir,
      CIVIC_LEDGER_PORT: '0',
      CIVIC_LEDGER_OPERATOR_KEY: operator.verifierKey,
      CIVIC_LEDGER_ORIGIN: ORIGIN,
      CIVIC_LEDGER_WITNESS_POLICY_FILE: join(dir, 'policy.txt'),
      CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '50',
      CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '500',
      CIVIC_LEDGER_RATE_LIMIT_PER_MINUTE: '0',
      CIVIC_LEDGER_KEY_RATE_LIMIT_PER_MINUTE: '0',
      // The SDK reads entries and proofs without a token (tokens are tested in packages/access).
      CIVIC_LEDGER_ACCESS_CONTROL: 'off',
    }),
    { logger: false },
  );
  const outcomes = await client().submitBatch(
    bootstrapEvents(operator, [new TestEmitter('transport-agency')]),
  );
  receipts = outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.receipt;
  });
});

afterAll(async () => {
  await service?.close();
  for (const w of witnesses ?? []) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(options: Partial<LedgerClientOptions> = {}): LedgerClient {
  return new LedgerClient({
    baseUrl: service.url,
    logKey: LOG_VKEY,
    retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
    ...options,
  });
}

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClientError);
  return e as ClientError;
}

describe('the SDK with a witness policy', () => {
  it('proves inclusion against a checkpoint carrying the quorum, online and offline', async () => {
    const c = client({ policyFile: join(dir, 'policy.txt') });
    const last = receipts.at(-1)!;
    const { evidence, checkpoint, witnesses: signed } = await c.verifyInclusion(last);
    expect(checkpoint.size).toBeGreaterThan(last.index);
    expect(signed).toEqual(['w1', 'w2', 'w3']);
    expect(parseNote(evidence.checkpoint).signatures).toHaveLength(4);
    expect(verifyEvidence(evidence, { logKey: LOG_VKEY, origin: ORIGIN, policy: c.policy })).toMatchObject({
      size: checkpoint.size,
    });
    expect((await c.verifiedCheckpoint()).witnesses).toEqual(['w1', 'w2', 'w3']);
  });

  it('refuses a checkpoint the ledger serves without its cosignatures (QUORUM_NOT_MET, naming the group)', async () => {
    // A ledger operator showing this client a checkpoint the witnesses never saw.
    const strip = (async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/v1/checkpoint')) return res;
      const note = parseNote(await res.text());
      return new Response(formatNote({ text: note.text, signatures: note.signatures.slice(0, 1) }), {
        status: 200,
      });
    }) as typeof fetch;
    const c = client({ policy: policyOf(2), fetch: strip });
    const e = await rejection(c.verifyInclusion(receipts[0]!));
    expect(e.code).toBe('QUORUM_NOT_MET');
    expect(e.message).toContain('group "oversight" needs 2 of w1, w2, w3, has 0');
    expect((await rejection(c.verifiedCheckpoint())).code).toBe('QUORUM_NOT_MET');
    // Without a policy the same client behaves as before: the log key alone.
    const plain = client({ fetch: strip });
    expect((await plain.verifyInclusion(receipts[0]!)).witnesses).toBeUndefined();
  });

  it('refuses under a stricter policy while a witness is down; evidence offline too', async () => {
    await witnesses[2]!.close();
    const [grown] = await client().submitBatch([
      operator.next({
        type: 'register',
        subject: { kind: 'organization', id: 'parks', name: 'Parks', role: 'agency', jurisdiction: 'NL' },
      } as never),
    ]);
    if (!grown?.ok) throw grown?.error;
    // The ledger's own 2-of-3 policy still publishes: this client (same policy) is satisfied.
    const { evidence, witnesses: signed } = await client({ policy: policyOf(2) }).verifyInclusion(
      grown.receipt,
    );
    expect(signed).toEqual(['w1', 'w2']);
    // A verifier that wants all three refuses the same checkpoint, online and offline.
    const strict = client({ policy: parsePolicy(policyOf('all')) });
    const e = await rejection(strict.verifiedCheckpoint());
    expect(e.code).toBe('QUORUM_NOT_MET');
    expect(e.message).toContain('group "oversight" needs 3 of w1, w2, w3, has 2 (w1, w2)');
    expect(e.details).toMatchObject({ quorum: 'oversight', witnesses: ['w1', 'w2'] });
    expect(() =>
      verifyEvidence(evidence, { logKey: LOG_VKEY, origin: ORIGIN, policy: strict.policy }),
    ).toThrow(expect.objectContaining({ code: 'QUORUM_NOT_MET' }));
  });

  it('refuses a policy that does not name the pinned log key, or does not parse, naming the option', () => {
    const other = formatVerifierKey(generateSigningKey(ORIGIN));
    let e = (() => {
      try {
        client({ policy: policyOf(2, other) });
      } catch (x) {
        return x as ClientError;
      }
      throw new Error('accepted');
    })();
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('options.policy: the policy has no log line with the pinned log key');
    e = (() => {
      try {
        client({ policy: `log ${LOG_VKEY}\nwitness w1 not-a-key\nquorum w1\n` });
      } catch (x) {
        return x as ClientError;
      }
      throw new Error('accepted');
    })();
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', details: { option: 'options.policy', line: 2 } });
    expect(() => client({ policyFile: join(dir, 'missing.txt') })).toThrow(/options.policyFile: cannot read/);
  });
});
