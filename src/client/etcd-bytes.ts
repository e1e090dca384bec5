// Keys and values between the user and etcd's JSON gateway: strings become their UTF-8
// bytes, bytes travel as standard base64 (with padding, as Go writes it). `prefixEnd` is
// etcd's own GetPrefixRangeEnd, for reading or deleting every key under a prefix.

import type { BytesInput } from "./etcd-types.ts";

const encoder = new TextEncoder();

export function toBytes(input: BytesInput): Uint8Array {
  return typeof input === "string" ? encoder.encode(input) : input;
}

export function toBase64(bytes: Uint8Array): string {
  // btoa takes one char per byte; chunks keep String.fromCharCode's argument list short.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes what the gateway wrote; anything else throws (the answer is then a bad_response). */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new Error(`not base64: ${JSON.stringify(text.slice(0, 40))}`);
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * The range end that makes [prefix, end) every key starting with `prefix`: the prefix with
 * its last byte below 0xff incremented and what follows dropped. A prefix of only 0xff bytes
 * (or empty) has no such end: then "\0", which etcd reads as "every key ≥ key".
 */
export function prefixEnd(prefix: BytesInput): Uint8Array {
  const bytes = toBytes(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i]! += 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}
