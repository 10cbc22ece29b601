// Default randomness: WebCrypto, present in Node ≥ 19, Workers and browsers.
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues is limited to 65,536 bytes per call.
  for (let o = 0; o < n; o += 65536) globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}
export type Rng = (n: number) => Uint8Array;
