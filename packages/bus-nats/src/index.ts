export { NatsBus, type NatsBusStatus } from './nats-bus.ts';
export type { NatsBusOptions } from './options.ts';
export { BusNatsError, type BusNatsErrorCode } from './errors.ts';
export {
  checkSubject,
  decodeHeaders,
  durableNameFor,
  encodeHeaders,
  ENCODED_HEADER,
  KEY_HEADER,
  streamNameFor,
  subjectFamily,
} from './naming.ts';
