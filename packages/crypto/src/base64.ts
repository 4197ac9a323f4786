// Exact standard base64 (RFC 4648 §4), the encoding of key texts and signed notes. Node's
// decoder is lenient (white space, URL-safe letters, missing padding, non-zero unused
// bits); fromBase64 accepts only the one canonical encoding of each byte string.
const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 of `bytes`, with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Bytes of `text`, which must be exact standard base64: alphabet `A-Z a-z 0-9 + /`, padded
 * with `=` to a multiple of 4, no white space, unused trailing bits zero. The empty string
 * decodes to no bytes. Throws RangeError otherwise.
 */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !STD_BASE64.test(text)) throw new RangeError('not standard padded base64');
  const buf = Buffer.from(text, 'base64');
  // Re-encoding rejects what slipped past the shape check (misplaced padding, unused bits).
  if (buf.toString('base64') !== text) throw new RangeError('base64 is not canonical');
  // A copy: small Buffers share Node's allocation pool, which callers must not see.
  return new Uint8Array(buf);
}

const BASE64_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_CHAR[c.charCodeAt(0)] = 1;

/**
 * `/^[A-Za-z0-9+/]{86}==$/.test(s)`: the shape of base64 of a 64-byte signature (the unused
 * bits are not checked, as the pattern does not), without the regular expression's cost.
 */
export function isSignatureBase64(s: string): boolean {
  if (s.length !== 88 || s.charCodeAt(86) !== 0x3d || s.charCodeAt(87) !== 0x3d) return false;
  for (let i = 0; i < 86; i++) if (BASE64_CHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}
