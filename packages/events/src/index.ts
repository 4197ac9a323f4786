export {
  signedEventWire,
  type SignedEventWire,
  type DecodedEvent,
  eventHashOfCanonical,
  hashEvent,
  signEvent,
  verifyEventSignature,
  decodeSubmission,
} from './events.ts';
