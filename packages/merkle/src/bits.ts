// Bit arithmetic on tree sizes and indexes held in plain numbers. JavaScript's bitwise
// operators work on 32 bits only, while sizes go up to 2^53: every helper has a fast path
// for values below 2^32 and splits larger values into high and low 32-bit halves. All
// arguments are non-negative safe integers; callers validate them first.

const TWO32 = 4294967296;

/** POW2[k] = 2^k, for k in [0, 64). */
export const POW2: Float64Array = (() => {
  const t = new Float64Array(64);
  for (let k = 0, v = 1; k < 64; k++, v *= 2) t[k] = v;
  return t;
})();

/** 2^k. */
export function pow2(k: number): number {
  return POW2[k]!;
}

/** Number of bits needed to write x (0 for 0), like Go's bits.Len64. */
export function bitLen(x: number): number {
  return x < TWO32 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / TWO32));
}

/** Number of trailing zero bits of x; requires x > 0. */
export function trailingZeros(x: number): number {
  const lo = x >>> 0; // ToUint32 keeps the low 32 bits of any safe integer
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO32);
  return 63 - Math.clz32(hi & -hi);
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Number of one bits of x. */
export function popcount(x: number): number {
  return x < TWO32 ? popcount32(x) : popcount32(x >>> 0) + popcount32(Math.floor(x / TWO32));
}

/** x >> k (k in [0, 64)). */
export function shr(x: number, k: number): number {
  return x < TWO32 && k < 32 ? x >>> k : Math.floor(x / POW2[k]!);
}

/** a ^ b. */
export function xor(a: number, b: number): number {
  if (a < TWO32 && b < TWO32) return (a ^ b) >>> 0;
  const hi = (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) >>> 0;
  return hi * TWO32 + ((a ^ b) >>> 0);
}

/** Bit k of x (0 or 1). */
export function bit(x: number, k: number): number {
  return shr(x, k) & 1; // & keeps the low bit of any safe integer
}
