export {
  signedEventWire,
  type SignedEventWire,
  type DecodedEvent,
  eventHashOfCanonical,
  hashEvent,
  signEvent,
  verifyEventSignature,
  decodeSubmission,
  signatureTextOf,
} from './events.ts';
