// Naming a MongoDB URL in an error message: never its password, user or options.
import { describe, expect, it } from 'vitest';
import { describeUrl, scrubSecrets } from './url.ts';

describe('describeUrl', () => {
  it('keeps scheme, hosts and database', () => {
    expect(describeUrl('mongodb://127.0.0.1:27017/')).toBe('mongodb://127.0.0.1:27017/');
    expect(describeUrl('mongodb://a:1,b:2/ledger')).toBe('mongodb://a:1,b:2/ledger');
  });

  it('drops credentials and options, and says so', () => {
    expect(describeUrl('mongodb://alice:pw@h:1/db?authSource=admin')).toBe(
      'mongodb://h:1/db (credentials and options omitted)',
    );
    expect(describeUrl('mongodb+srv://alice:pw@cluster.example/')).toBe(
      'mongodb+srv://cluster.example/ (credentials omitted)',
    );
    expect(describeUrl('mongodb://h/?tlsCertificateKeyFilePassword=x')).toBe(
      'mongodb://h/ (options omitted)',
    );
  });

  it('leaks nothing of a hand-written password holding URL delimiters', () => {
    for (const pw of ['p@ss', 'p/ss?x', 'p:ss@@', 'p?a@b/c']) {
      const out = describeUrl(`mongodb://alice:${pw}@host:27017/db`);
      expect(out).toBe('mongodb://host:27017/db (credentials omitted)');
    }
  });

  it('names no part of something that is not a URL', () => {
    expect(describeUrl('alice:pw@host')).toBe('(not a mongodb:// URL)');
  });
});

describe('scrubSecrets', () => {
  it('replaces the password, raw and percent-decoded, and the user info', () => {
    const url = 'mongodb://alice:p%40ss@h/';
    expect(scrubSecrets('auth alice:p%40ss failed for p@ss and p%40ss', url)).toBe(
      'auth *** failed for *** and ***',
    );
  });

  it('leaves messages alone when the URL has no password', () => {
    expect(scrubSecrets('alice failed', 'mongodb://alice@h/?authMechanism=MONGODB-X509')).toBe(
      'alice failed',
    );
    expect(scrubSecrets('connect ECONNREFUSED', 'mongodb://h/')).toBe('connect ECONNREFUSED');
  });
});
