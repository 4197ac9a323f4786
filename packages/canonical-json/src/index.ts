export { canonicalize, canonicalizeToBytes, DEFAULT_MAX_DEPTH, type SerializeOptions } from './serialize.ts';
export { parseJson, parseCanonical, decodeUtf8, type JsonValue, type ParseOptions } from './parse.ts';
export { CanonicalJsonError, type CanonicalJsonErrorCode } from './errors.ts';
