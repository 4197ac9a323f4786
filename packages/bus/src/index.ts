export {
  deadLetterSubject,
  SUBJECTS,
  type Bus,
  type Delivery,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';
export { MemoryBus, type MemoryBusOptions } from './memory-bus.ts';
