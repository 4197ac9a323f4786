import { describe, expect, it } from 'vitest';
import { kafkaClient, type KafkaLogEntry } from './client.ts';
import { checkSubject, KafkaBus, KafkaBusError } from './index.ts';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof KafkaBusError ? `${e.code}: ${e.message}` : String(e);
  }
  return 'no error';
};

describe('KafkaBus options and subjects (no broker needed)', () => {
  it('refuses bad options before connecting, naming the field', async () => {
    const cases: [object, RegExp][] = [
      [{ brokers: [], clientId: 'x' }, /^brokers: /],
      [{ brokers: ['localhost'], clientId: 'x' }, /^brokers\[0\]: "localhost" is not "host:port"/],
      [{ brokers: ['h:9092'], clientId: 'a b' }, /^clientId: /],
      [{ brokers: ['h:9092'], clientId: 'x', partitions: 0 }, /^partitions: an integer from 1/],
      [{ brokers: ['h:9092'], clientId: 'x', publishTimeoutMs: 1.5 }, /^publishTimeoutMs: /],
    ];
    for (const [options, message] of cases) {
      const e = await KafkaBus.connect(options as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(KafkaBusError);
      expect((e as KafkaBusError).code).toBe('INVALID_OPTIONS');
      expect((e as KafkaBusError).message).toMatch(message);
    }
  });

  it('takes subjects that are Kafka topic names and leave room for the dead-letter suffix', () => {
    expect(codeOf(() => checkSubject('civic-ledger.submissions'))).toBe('no error');
    expect(codeOf(() => checkSubject('civic-ledger.submissions.dead-letter'))).toBe('no error');
    expect(codeOf(() => checkSubject('a b'))).toMatch(/^INVALID_SUBJECT: .*a-z A-Z 0-9 \. _ -/);
    expect(codeOf(() => checkSubject('..'))).toMatch(/^INVALID_SUBJECT/);
    expect(codeOf(() => checkSubject('x'.repeat(237)))).toBe('no error');
    expect(codeOf(() => checkSubject('x'.repeat(238)))).toMatch(/^INVALID_SUBJECT: .*at most 237/);
  });

  it('forwards kafkajs warnings and errors to the log callback, without credentials or retried protocol errors', () => {
    const seen: KafkaLogEntry[] = [];
    const logger = kafkaClient({ brokers: ['h:9092'], clientId: 'x', log: (e) => seen.push(e) }).logger();
    logger.namespace('Connection').error('Response Produce(key: 0, version: 7)', { error: 'leader moved' });
    logger.namespace('Consumer').info('Starting', { groupId: 'g' });
    logger.namespace('Consumer').error('Crash: KafkaJSNumberOfRetriesExceeded', {
      groupId: 'g',
      error: new Error('gone'),
      sasl: { mechanism: 'plain', username: 'u', password: 'secret' },
    });
    expect(seen).toEqual([
      {
        level: 'error',
        namespace: 'Consumer',
        message: 'Crash: KafkaJSNumberOfRetriesExceeded',
        error: 'gone',
        groupId: 'g',
      },
    ]);
  });
});
