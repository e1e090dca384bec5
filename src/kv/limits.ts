// Size limits of the key/value service. They bound what one log entry (and one stored
// value) can cost: a Raft entry travels in AppendEntries and sits in SQLite on every
// server, so an unbounded value would make one client able to stall replication.
// The coordinator answers 413 when a request breaks one of them; the command schema
// enforces them again so that the state machine never holds anything larger, whatever
// reached the log by other routes.

/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 256;
/** Longest value (and CAS `compare` operand), in UTF-8 bytes: 64 KiB. */
export const MAX_VALUE_BYTES = 64 * 1024;

const encoder = new TextEncoder();

// ES2024's String.prototype.isWellFormed (Node 20, workerd): the tsconfig's ES2022 lib does not declare it.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

/**
 * Whether `s` can be stored as UTF-8: no lone surrogate. Keys and values live as UTF-8 bytes in
 * the store (etcd's model), and a lone surrogate has no UTF-8 form, so it is refused at the door
 * rather than silently turned into U+FFFD.
 */
export function isWellFormedText(s: string): boolean {
  return s.isWellFormed();
}

/**
 * Byte length of `s` encoded as UTF-8 (a lone surrogate counts as U+FFFD, three bytes,
 * as TextEncoder writes it). Short strings are counted in place; long ones by the native
 * encoder, which is an order of magnitude faster than a JS loop over 64 KiB.
 */
export function utf8ByteLength(s: string): number {
  if (s.length > 256) return encoder.encode(s).length;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Whether `s` takes at most `limit` bytes in UTF-8, usually without counting: every
 * UTF-16 unit takes 1 to 3 bytes (a surrogate pair, two units, takes 4).
 */
export function fitsUtf8Bytes(s: string, limit: number): boolean {
  if (s.length > limit) return false;
  if (s.length * 3 <= limit) return true;
  return utf8ByteLength(s) <= limit;
}

/** Which field broke which limit. */
export interface LimitViolation {
  readonly field: "key" | "value" | "compare";
  readonly bytes: number;
  readonly limit: number;
}

/**
 * Checks the sizes of an operation's strings. Returns null when everything fits, else
 * the first violation (the coordinator turns it into `413 {"error": "too_large"}`).
 */
export function checkKvLimits(op: {
  readonly key: string;
  readonly value?: string | undefined;
  readonly compare?: string | undefined;
}): LimitViolation | null {
  if (!fitsUtf8Bytes(op.key, MAX_KEY_BYTES)) return { field: "key", bytes: utf8ByteLength(op.key), limit: MAX_KEY_BYTES };
  for (const field of ["value", "compare"] as const) {
    const s = op[field];
    if (s !== undefined && !fitsUtf8Bytes(s, MAX_VALUE_BYTES)) return { field, bytes: utf8ByteLength(s), limit: MAX_VALUE_BYTES };
  }
  return null;
}
