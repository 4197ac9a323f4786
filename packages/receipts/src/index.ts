export {
  receiptDigest,
  signReceipt,
  verifyReceipt,
  signedReceiptSchema,
  unsignedReceiptSchema,
  type SignedReceipt,
  type UnsignedReceipt,
} from './receipts.ts';
export { ReceiptSigner, type ReceiptSignerOptions } from './signer.ts';
