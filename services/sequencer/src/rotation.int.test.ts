// Log key rotation in distributed mode, on the real Kafka, NATS JetStream and MongoDB-wire
// servers: the sequencer signs with key A, then (CIVIC_LEDGER_NEXT_LOG_KEY_FILE) with A and B
// during the overlap, then with B alone. What the query service serves is what MongoDB holds,
// so the stored checkpoints are what a verifier with the keys' windows must open.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { openCheckpoint, verifierFromKeyText } from '@civic-ledger/signed-note';
import { MongoStore } from '@civic-ledger/storage-mongodb';
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
import { startSequencer, type RunningSequencer } from './server.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.skipIf(!mongodb || !kafka || !nats)(
  'sequencer log key rotation on real Kafka, NATS and MongoDB',
  { timeout: 120_000 },
  () => {
    it('overlap: stored checkpoints carry both keys; after the switch only the new key signs', async () => {
      const id = randomUUID().replaceAll('-', '').slice(0, 10);
      const namespace = `r${id}`;
      const database = `cl_r${id}`;
      const origin = `ledger.${namespace}.example/log`;
      const dir = mkdtempSync(join(tmpdir(), 'cl-sequencer-rot-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const keyA = generateSigningKey(origin);
      const keyB = generateSigningKey(origin);
      writeSigningKeyFile(join(dir, 'a.key'), keyA);
      writeSigningKeyFile(join(dir, 'b.key'), keyB);
      const A = formatVerifierKey(keyA);
      const B = formatVerifierKey(keyB);
      const opens = (note: string, key: string) => {
        try {
          openCheckpoint(note, { verifiers: [verifierFromKeyText(key)], origin });
          return true;
        } catch {
          return false;
        }
      };

      const operator = new TestEmitter('ledger');
      const start = async (keys: Record<string, string>, lines?: string[]): Promise<RunningSequencer> => {
        const logger = lines
          ? { stream: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) }
          : false;
        const s = await startSequencer(
          loadSequencerConfig({
            ...sequencerEnv({ database, namespace, origin, operatorKey: operator.verifierKey }),
            CIVIC_LEDGER_CHECKPOINT_MAX_DELAY_MS: '100',
            ...keys,
          }),
          { logger },
        );
        return s;
      };
      const reader = await MongoStore.connect(mongodb!, database);
      cleanup.push(() => reader.close());
      const submitter = await kafkaSubmitter(namespace, `test-${id}`);
      cleanup.push(() => submitter.close());
      const submit = submitter.submit;
      const checkpointCovering = (size: number) => storedCheckpointCovering(reader, size);

      // 1) Key A alone.
      const first = await start({ CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'a.key') });
      const boot = bootstrapEvents(operator, [new TestEmitter('a1')]);
      await submit(boot);
      const alone = await checkpointCovering(boot.length);
      expect(first.nextLogKey).toBeUndefined();
      await first.close();
      expect(opens(alone.note, A)).toBe(true);
      expect(opens(alone.note, B)).toBe(false);

      // 2) The overlap: A and B sign every checkpoint.
      const lines: string[] = [];
      const overlap = await start(
        { CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'a.key'), CIVIC_LEDGER_NEXT_LOG_KEY_FILE: join(dir, 'b.key') },
        lines,
      );
      expect(formatVerifierKey(overlap.nextLogKey!)).toBe(B);
      const started = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'sequencer started');
      expect(started).toMatchObject({ logVerifierKey: A, nextLogVerifierKey: B });
      await submit([registerOrg(operator, 'board', 'oversight')]);
      const both = await checkpointCovering(boot.length + 1);
      await overlap.close();
      expect(opens(both.note, A)).toBe(true);
      expect(opens(both.note, B)).toBe(true);

      // 3) The switch: B is the log key, NEXT unset.
      const after = await start({ CIVIC_LEDGER_LOG_KEY_FILE: join(dir, 'b.key') });
      cleanup.push(() => after.close());
      await submit([registerOrg(operator, 'health', 'agency')]);
      const latest = await checkpointCovering(both.size + 1);
      expect(opens(latest.note, B)).toBe(true);
      expect(opens(latest.note, A)).toBe(false);
      // What was stored before stays as it was signed: each checkpoint opens with a key whose
      // window (A up to the overlap's size, B from the overlap's first size) holds its size.
      const stored = await reader.listCheckpoints(0, 1e15);
      expect(stored.map((c) => c.size)).toContain(both.size);
      for (const c of stored) {
        const ok = (c.size <= both.size && opens(c.note, A)) || (c.size >= both.size && opens(c.note, B));
        expect(ok, `checkpoint of size ${c.size}`).toBe(true);
      }
    });
  },
);
