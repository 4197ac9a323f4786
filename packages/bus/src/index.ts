export {
  deadLetter,
  deadLetterHeaders,
  deadLetterSubject,
  namespacedSubjects,
  SUBJECTS,
  type BatchHandler,
  type BatchSubscribeOptions,
  type Bus,
  type Delivery,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';
export { MemoryBus, type MemoryBusOptions } from './memory-bus.ts';
