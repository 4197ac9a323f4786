// Subject naming and notification shapes (pure); the service itself is in server.int.test.ts.
import { notificationSchema } from '@civic-ledger/monitor';
import { describe, expect, it } from 'vitest';
import { eventNotification, monitorSubjects, orgsOf } from './server.ts';

describe('monitor subjects', () => {
  it('put the namespace first, as the ledger subjects do', () => {
    expect(monitorSubjects('city-a').alert).toBe('city-a.civic-ledger.monitor.alert');
    expect(monitorSubjects('city-a').org('transport-agency')).toBe(
      'city-a.civic-ledger.org.transport-agency',
    );
    expect(monitorSubjects().alert).toBe('civic-ledger.monitor.alert');
    expect(monitorSubjects().org('police')).toBe('civic-ledger.org.police');
  });

  it('refuse what is not an organization id or a namespace instead of misrouting it', () => {
    expect(() => monitorSubjects().org('police.*')).toThrow(/not an organization id/);
    expect(() => monitorSubjects().org('Police')).toThrow(/not an organization id/);
    expect(() => monitorSubjects('City.A')).toThrow(/namespace/);
  });
});

describe('organization notifications', () => {
  const entry = (event: Record<string, unknown>) =>
    ({
      index: 7,
      leaf: '{}',
      leafHash: 'a'.repeat(64),
      eventHash: 'b'.repeat(64),
      event: { emitter: 'ledger', stream: 'main', seq: 3, key: 'ledger/k1', type: 'org', ...event },
      signature: 'c2ln',
      admitted: '2026-11-29T00:00:00.000Z',
      chain: 'ledger/main',
    }) as never;

  it('go to the emitter, and to the organization whose keys a key event is about', () => {
    expect(orgsOf(entry({}))).toEqual(['ledger']);
    expect(orgsOf(entry({ type: 'key', subjectOrg: 'police' }))).toEqual(['ledger', 'police']);
    expect(orgsOf(entry({ type: 'key', emitter: 'police', subjectOrg: 'police' }))).toEqual(['police']);
  });

  it("have the monitor library's webhook format", () => {
    const n = eventNotification(
      'ledger.example/log',
      'police',
      entry({ type: 'key', subjectOrg: 'police' }),
      {
        size: 8,
        rootHash: 'd'.repeat(64),
      },
    );
    expect(notificationSchema.parse(n)).toEqual(n);
    expect(n).toMatchObject({
      id: 'ledger.example/log#7#police',
      org: 'police',
      emitter: 'ledger',
      index: 7,
    });
  });
});
