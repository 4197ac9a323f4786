// The log-keys file the CLI (--log-keys) and the monitor service (CIVIC_LEDGER_LOG_KEYS_FILE)
// both read: what a correct file gives, and that each wrong one is refused naming the member.
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { MonitorError } from './errors.ts';
import { parseLogKeysFile } from './log-keys.ts';

const A = formatVerifierKey(generateSigningKey('ledger.log-keys.test/log'));
const B = formatVerifierKey(generateSigningKey('ledger.log-keys.test/log'));

function refusal(text: string): MonitorError {
  try {
    parseLogKeysFile(text);
  } catch (e) {
    if (e instanceof MonitorError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('parseLogKeysFile', () => {
  it('reads the windows, oldest first, keys trimmed, bounds only where given', () => {
    const text = JSON.stringify([
      { key: ` ${A}\n`, untilSize: 7 },
      { key: B, fromSize: 5 },
    ]);
    expect(parseLogKeysFile(text)).toEqual([
      { key: A, untilSize: 7 },
      { key: B, fromSize: 5 },
    ]);
    expect(parseLogKeysFile(JSON.stringify([{ key: A, fromSize: 3, untilSize: 3 }]))).toEqual([
      { key: A, fromSize: 3, untilSize: 3 },
    ]);
  });

  it.each([
    ['{', '', /^\(file\): not JSON/],
    ['[]', '', /^\(file\): at least one key$/],
    [JSON.stringify({ key: A }), '', /^\(file\): /],
    [JSON.stringify([{ key: A }, { key: 'not a key' }]), '[1].key', /^\[1\]\.key: a verifier key text/],
    [JSON.stringify([{ key: A, fromSize: -1 }]), '[0].fromSize', /an integer >= 0$/],
    [JSON.stringify([{ key: A, untilSize: 1.5 }]), '[0].untilSize', /an integer$/],
    [
      JSON.stringify([{ key: A, fromSize: 5, untilSize: 2 }]),
      '[0].untilSize',
      /^\[0\]\.untilSize: untilSize must be >= fromSize$/,
    ],
    [JSON.stringify([{ key: A, from: 2 }]), '[0]', /^\[0\]: unknown member\(s\) "from"$/],
  ])('refuses %s naming %j', (text, member, message) => {
    const e = refusal(text);
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.details).toMatchObject({ option: 'logKeys', member });
    expect(e.message).toMatch(message);
  });

  it('never quotes the file in its message', () => {
    const e = refusal(JSON.stringify([{ key: 'secret-looking-text' }]));
    expect(e.message).not.toContain('secret-looking-text');
  });
});
