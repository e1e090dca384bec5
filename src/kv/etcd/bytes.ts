// Byte strings as etcd sees them: keys and values are raw bytes, ordered by unsigned
// byte comparison (Go's bytes.Compare), and travel through the JSON gateway as base64.

export type Bytes = Uint8Array;

export const EMPTY: Bytes = new Uint8Array(0);

/** Go's bytes.Compare: negative, zero or positive. */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  return compareBytes(a, b) === 0;
}

/** One char per byte: JS string order on these equals byte order, so they can key maps and sort. */
export function toBinaryString(b: Bytes): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function fromBinaryString(s: string): Bytes {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function utf8(s: string): Bytes {
  return new TextEncoder().encode(s);
}

export function encodeBase64(b: Bytes): string {
  return btoa(toBinaryString(b));
}
