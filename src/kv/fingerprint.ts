// A short, deterministic digest of an operation, kept with a client's session so that the
// state machine can tell a retry (the same request again) from another request that came
// under the same (Client-Id, Request-Id): two writers sharing a Client-Id whose ids met.
// Answering that second request with the first one's result would be a silent wrong answer
// (its write never applied); with the digest it is refused as stale, not applied, and the
// client sends it again under a newer id (src/client/kv-client.ts).
//
// 32-bit FNV-1a over the operation's fields, UTF-16 code unit by code unit, so every replica
// computes the same number whatever the strings hold (lone surrogates included). Two
// different operations share a digest with probability 2^-32: a collision of ids AND of
// digests is needed for a wrong answer.

import type { KvOperation } from "./command.ts";

export function operationFingerprint(operation: KvOperation): number {
  const parts = [operation.op, operation.key];
  if (operation.op === "cas") parts.push(operation.compare);
  if (operation.op !== "get" && operation.op !== "delete") parts.push(operation.value);
  return fingerprintOf(parts);
}

/**
 * An etcd write's digest: its kind, its operation and its request as the log holds it (the
 * decoded JSON, whose text is the same on every replica: it comes from the same entry).
 */
export function etcdFingerprint(op: string, request: unknown): number {
  return fingerprintOf(["etcd", op, JSON.stringify(request) ?? "null"]);
}

/** FNV-1a over the parts, each closed by a separator (the digests stored before keep their value). */
function fingerprintOf(parts: readonly string[]): number {
  let hash = 0x811c9dc5;
  for (const s of parts) {
    for (let i = 0; i < s.length; i++) {
      hash ^= s.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0xffff; // a separator no code unit sequence can fake: fields cannot slide into each other
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
