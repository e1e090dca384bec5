// Test helpers: a fresh etcd model on the in-memory store, and gateway calls with text keys.

import { handleKv, type KvPath } from "../../../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";

export const IDS = { clusterId: "7", memberId: "8", raftTerm: "9" };

/** base64 of a latin1 string, as the gateway carries bytes. */
export const b64 = (s: string) => btoa(s);

export function freshKv(): { kv: EtcdKv; store: MemoryMvccStore } {
  const store = new MemoryMvccStore();
  return { kv: new EtcdKv(store), store };
}

/** One gateway call; answers status and body. */
export function call(kv: EtcdKv, op: "range" | "put" | "deleterange" | "txn" | "compaction", body: unknown) {
  return handleKv(kv, `/v3/kv/${op}` as KvPath, body, IDS);
}

/** A put of text key and value through the gateway; throws unless etcd would answer 200. */
export function put(kv: EtcdKv, key: string, value: string, extra: Record<string, unknown> = {}) {
  const answer = call(kv, "put", { key: b64(key), value: b64(value), ...extra });
  if (answer.status !== 200) throw new Error(`put ${key}: ${JSON.stringify(answer.body)}`);
  return answer.body as Record<string, unknown>;
}

/** The keys (as text) of a range answer's kvs. */
export const keysOf = (body: unknown) =>
  (((body as { kvs?: { key: string }[] }).kvs ?? []) as { key: string }[]).map((kv) => atob(kv.key));
