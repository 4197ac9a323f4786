import { describe, expect, it } from 'vitest';
import { findService, MissingServiceError, SERVICE_ENV } from './index.ts';

describe('findService', () => {
  it('uses the URL from the environment first', async () => {
    const env = { [SERVICE_ENV.kafka]: '127.0.0.1:19092', HOME: '/nonexistent' };
    expect(await findService('kafka', { env })).toBe('127.0.0.1:19092');
  });

  it('fails loudly under CI=true when the service is missing', async () => {
    const p = findService('mongodb', { env: { CI: 'true', HOME: '/nonexistent' } });
    await expect(p).rejects.toBeInstanceOf(MissingServiceError);
    await expect(p).rejects.toThrow(/CIVIC_LEDGER_TEST_MONGODB_URL.*infra\/local\/up ferretdb/);
  });

  it('skips locally with a message naming the command to run', async () => {
    const warnings: string[] = [];
    const url = await findService('nats', { env: { HOME: '/nonexistent' }, warn: (m) => warnings.push(m) });
    expect(url).toBeUndefined();
    expect(warnings[0]).toMatch(/skipping nats suites: .*infra\/local\/up nats/);
  });
});
