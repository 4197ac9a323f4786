// The sequencer with witnesses, on the real Kafka, NATS JetStream and MongoDB-wire servers:
// three real witness servers (services/witness, port 0) and a 2-of-3 policy. Submissions go
// in through Kafka; every checkpoint stored in MongoDB (what the query service serves) carries
// the log signature and cosignatures the policy's quorum accepts, also with one witness down;
// the operations endpoint says which witnesses cosigned.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { addKey, bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import type { CheckpointRecord } from '@civic-ledger/storage';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { checkQuorum, parsePolicy, requireQuorum } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSequencerConfig } from './config.ts';
import {
  kafka,
  kafkaSubmitter,
  mongodb,
  nats,
  sequencerEnv,
  storedCheckpointCovering,
} from './test-harness.ts';
import { startSequencer } from './server.ts';
import type { SequencerWitnessStatus } from './witnesses.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.skipIf(!mongodb || !kafka || !nats)(
  'sequencer with witnesses on real Kafka, NATS and MongoDB',
  { timeout: 90_000 },
  () => {
    it('stores only checkpoints cosigned to the 2-of-3 quorum, also with a witness down', async () => {
      const id = randomUUID().replaceAll('-', '').slice(0, 10);
      const namespace = `w${id}`;
      const database = `cl_w${id}`;
      const origin = `ledger.${namespace}.example/log`;
      const dir = mkdtempSync(join(tmpdir(), 'cl-sequencer-wit-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const logKey = generateSigningKey(origin);
      writeSigningKeyFile(join(dir, 'log.key'), logKey);

      const witnesses: { name: string; running: RunningWitness }[] = [];
      for (const name of ['w1', 'w2', 'w3']) {
        const running = await startWitness(
          {
            key: generateSigningKey(`${name}.oversight.example`),
            dbPath: join(dir, `${name}.db`),
            logs: [{ origin, verifierKeys: [formatVerifierKey(logKey)] }],
            port: 0,
          },
          { logger: false },
        );
        witnesses.push({ name, running });
      }
      const stopped = new Set<string>();
      cleanup.push(async () => {
        for (const w of witnesses) if (!stopped.has(w.name)) await w.running.close();
      });
      const policyText = (k: number) =>
        [
          `log ${formatVerifierKey(logKey)}`,
          ...witnesses.map((w) => `witness ${w.name} ${w.running.witness.verifierKey} ${w.running.url}`),
          `group oversight ${k} w1 w2 w3`,
          'quorum oversight',
          '',
        ].join('\n');
      writeFileSync(join(dir, 'policy.txt'), policyText(2));
      const policy = parsePolicy(policyText(2));

      const operator = new TestEmitter('ledger');
      const sequencer = await startSequencer(
        loadSequencerConfig({
          ...sequencerEnv({ database, namespace, origin, operatorKey: operator.verifierKey }),
          CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'log.key'),
          CIVIC_LEDGER_WITNESS_POLICY_FILE: join(dir, 'policy.txt'),
          CIVIC_LEDGER_CHECKPOINT_INTERVAL_MS: '100',
          CIVIC_LEDGER_WITNESS_TIMEOUT_MS: '1000',
        }),
        { logger: false },
      );
      cleanup.push(() => sequencer.close());
      // What the query service reads: the same database through its own connection.
      const reader = await MongoStore.connect(mongodb!, database);
      cleanup.push(() => reader.close());
      const submitter = await kafkaSubmitter(namespace, `test-${id}`);
      cleanup.push(() => submitter.close());
      const submit = submitter.submit;
      const checkpointCovering = (size: number) => storedCheckpointCovering(reader, size);
      /** Every stored checkpoint: the log's signature and cosignatures the quorum accepts. */
      const expectAllCosigned = async (upTo: number): Promise<CheckpointRecord[]> => {
        const all = await reader.listCheckpoints(0, upTo);
        expect(all.length).toBeGreaterThan(0);
        for (const c of all) {
          const q = requireQuorum(c.note, policy);
          expect(q.logKey).toBe(formatVerifierKey(logKey));
          expect(q.size).toBe(c.size);
          expect(q.witnesses.length).toBeGreaterThanOrEqual(2);
        }
        return all;
      };

      const agencies = ['a1', 'a2', 'a3'].map((org) => new TestEmitter(org));
      const boot = bootstrapEvents(operator, agencies);
      await submit(boot);
      const first = await checkpointCovering(boot.length);
      expect(first.size).toBe(boot.length);
      const q1 = requireQuorum(first.note, policy);
      expect(q1.witnesses).toEqual(['w1', 'w2', 'w3']);
      await expectAllCosigned(boot.length);

      // The operations endpoint: which witnesses cosigned, and that the quorum holds.
      const status = (await (
        await fetch(`${sequencer.url}/v1/checkpoints/latest/witnesses`)
      ).json()) as SequencerWitnessStatus;
      expect(status).toMatchObject({
        role: 'writer',
        quorum: 'oversight',
        quorumHeld: true,
        failingSince: null,
      });
      expect(status.published?.size).toBe(boot.length);
      expect(status.published?.witnesses).toEqual(['w1', 'w2', 'w3']);
      const ready = (await (await fetch(`${sequencer.url}/readyz`)).json()) as {
        dependencies: Record<string, string>;
      };
      expect(ready.dependencies['witnesses']).toMatch(/^quorum oversight held at size \d+/);
      const metrics = await (await fetch(`${sequencer.url}/metrics`)).text();
      expect(metrics).toMatch(/civic_ledger_witness_rounds_total\{outcome="published"\} [1-9]/);
      expect(metrics).toContain(`civic_ledger_witness_published_size ${boot.length}`);

      // w3 goes down: two of three still make the quorum, so checkpoints keep being stored.
      await witnesses[2]!.running.close();
      stopped.add('w3');
      const more = [
        registerOrg(operator, 'a4', 'agency'),
        addKey(operator, 'a4', new TestEmitter('a4').verifierKey, 'a4/k1'),
      ];
      await submit(more);
      const second = await checkpointCovering(boot.length + more.length);
      const q2 = requireQuorum(second.note, policy);
      expect(q2.witnesses).toEqual(['w1', 'w2']);
      // The cosignatures are what make it: 3 of 3 would not accept it.
      expect(checkQuorum(second.note, parsePolicy(policyText(3))).ok).toBe(false);
      await expectAllCosigned(second.size);
    });
  },
);
