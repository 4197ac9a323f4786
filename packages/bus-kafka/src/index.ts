export { KafkaBus, type KafkaBusOptions } from './kafka-bus.ts';
export {
  checkSubject,
  ensureTopics,
  isKafkaReachable,
  type KafkaLog,
  type KafkaLogEntry,
  type TopicOptions,
} from './client.ts';
export { KafkaBusError, type KafkaBusErrorCode } from './errors.ts';
