// Base64 decoding exactly as Go's encoding/base64 StdEncoding (what etcd's gateway uses for
// bytes fields), so a malformed key or value is refused with Go's own message:
// "illegal base64 data at input byte N". Padding is required; CR and LF are skipped;
// non-zero trailing bits are tolerated (Go's non-strict mode).

import type { Bytes } from "./bytes.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

export type Base64Result = { ok: true; bytes: Bytes } | { ok: false; message: string };

const corrupt = (at: number): Base64Result => ({ ok: false, message: `illegal base64 data at input byte ${at}` });
const isNewline = (c: string | undefined) => c === "\n" || c === "\r";

export function decodeBase64Go(src: string): Base64Result {
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const quantum: number[] = [];
    let j = 0;
    let done = false;
    for (j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return { ok: true, bytes: Uint8Array.from(out) };
        return corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = DECODE.get(c);
      if (v !== undefined) {
        quantum.push(v);
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== "=") return corrupt(si - 1);
      if (j === 0 || j === 1) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== "=") return corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) return corrupt(si);
      done = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const word = (a << 18) | (b << 12) | (c << 6) | d;
    const n = done ? quantum.length - 1 : 3;
    if (n >= 1) out.push((word >> 16) & 0xff);
    if (n >= 2) out.push((word >> 8) & 0xff);
    if (n >= 3) out.push(word & 0xff);
    if (done) break;
  }
  return { ok: true, bytes: Uint8Array.from(out) };
}
