import { generateSigningKey } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { ReceiptSigner, signReceipt, verifyReceipt } from './index.ts';

const key = generateSigningKey('receipts.example/log');
const log = { origin: 'receipts.example/log', checkpointWithinMs: 1000 };
const admitted = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    index: i,
    eventHash: i.toString(16).padStart(64, 'a'),
    leafHash: i.toString(16).padStart(64, 'b'),
    admitted: `2026-11-29T10:00:${String(i % 60).padStart(2, '0')}.000Z`,
  }));

describe('ReceiptSigner', () => {
  it('signs a large set on worker threads: in order, each exactly the receipt signReceipt makes', async () => {
    const signer = new ReceiptSigner(key, log, { threads: 2, minParallel: 8 });
    try {
      const facts = admitted(101);
      const signed = await signer.signAll(facts);
      expect(signed).toEqual(facts.map((f) => signReceipt(key, f, log)));
      expect(signed.every((r) => verifyReceipt(key, r))).toBe(true);
      // Concurrent sets are answered each with its own receipts.
      const [a, b] = await Promise.all([signer.signAll(facts.slice(0, 40)), signer.signAll(facts.slice(40))]);
      expect([...a, ...b]).toEqual(signed);
    } finally {
      await signer.close();
    }
  });

  it('signs small sets, and everything once closed or without threads, on the calling thread', async () => {
    const facts = admitted(20);
    const expected = facts.map((f) => signReceipt(key, f, log));
    const none = new ReceiptSigner(key, log, { threads: 0 });
    expect(await none.signAll(facts)).toEqual(expected);
    const signer = new ReceiptSigner(key, log, { threads: 2 });
    expect(await signer.signAll(facts.slice(0, 3))).toEqual(expected.slice(0, 3));
    expect(signer.sign(facts[5]!)).toEqual(expected[5]);
    await signer.close();
    expect(await signer.signAll(facts)).toEqual(expected);
  });
});
