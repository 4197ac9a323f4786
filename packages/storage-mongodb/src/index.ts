export { MongoStore, type MongoStoreOptions } from './mongo.ts';
export { MongoStoreError, type MongoStoreErrorCode } from './errors.ts';
export { describeUrl } from './url.ts';
