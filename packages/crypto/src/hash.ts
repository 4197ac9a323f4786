// Server-side SHA-256: node:crypto's OpenSSL implementation is several times faster than
// pure JavaScript on small inputs. crypto.test.ts proves it byte-identical to the portable
// @noble/hashes path over random inputs, so either may compute any published hash.
import { createHash, hash } from 'node:crypto';

// crypto.hash's 'buffer' output allocates a Buffer of its own from C++: ~1.5 µs of the ~2.3
// µs a 65-byte tree node costs here. The digest as a 'binary' (latin1) string, copied into
// a shared slab, costs about half (measured on this project's machine). Digests are 32-byte
// views of an 8 KiB slab that is never written again once handed out; a caller that must
// own a digest's ArrayBuffer (to transfer it to a worker), or keeps a few digests for long
// among many it drops (each would hold its slab), copies them first (`.slice()`).
const SLAB_BYTES = 8192;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  // One-shot crypto.hash skips the Hash object: ~25 % faster on small inputs.
  const digest = hash('sha256', data, 'binary');
  if (slabUsed + 32 > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slab.write(digest, at, 32, 'binary');
  slabUsed += 32;
  return new Uint8Array(slab.buffer, at, 32);
}

/** SHA-256 of the concatenation of `parts`, without copying them together first. */
export function sha256Parts(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Lower-case hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256HexOfUtf8(text: string): string {
  // One-shot crypto.hash skips the Hash object: about twice as fast for small inputs.
  return hash('sha256', text, 'hex');
}
