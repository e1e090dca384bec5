// An in-memory stand-in for a cluster's v3 routes, built from the real pure pieces (the etcd
// gateway's handleKv over EtcdKv on the memory MVCC store) plus a session table keyed by
// Client-Id as the cluster keeps one (the last request id and its answer), and a fault
// injector: it lets EtcdClient's retries be tested against etcd's real semantics and the
// project's exactly-once rule without a cluster. Only the client is under test here.

import { handleKv, isKvPath } from "../../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../src/kv/etcd/memory-store.ts";
import type { Fault } from "./fake-server.ts";

const IDS = { clusterId: "1", memberId: "2", raftTerm: "3" };
const WRITES = new Set(["/v3/kv/put", "/v3/kv/deleterange", "/v3/kv/txn"]);

/** `kv`: another server's store, to read it through a line without faults. */
export function fakeEtcdServer(fault: () => Fault = () => "none", kv: EtcdKv = new EtcdKv(new MemoryMvccStore())) {
  const sessions = new Map<string, { requestId: number; status: number; body: unknown }>();
  const stats = { applied: 0, duplicates: 0 };
  const reply = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    await new Promise((r) => setTimeout(r, Math.random() * 2)); // let clients interleave
    const path = new URL(input).pathname.replace(/^\/clusters\/[^/]+/, "");
    if (!isKvPath(path)) return reply(404, { error: "not_found", message: path });
    const body = JSON.parse(String(init.body)) as unknown;
    const headers = new Headers(init.headers);
    const clientId = headers.get("client-id");
    const requestId = Number(headers.get("request-id"));
    const f = fault();
    if (f === "unavailable") return reply(503, { error: "unavailable", message: "no leader" });
    let answer: { status: number; body: unknown };
    const session = clientId === null ? undefined : sessions.get(clientId);
    if (WRITES.has(path) && clientId !== null && session !== undefined && requestId === session.requestId) {
      stats.duplicates++;
      answer = session; // a retry: the first answer, not applied again
    } else if (WRITES.has(path) && clientId !== null && session !== undefined && requestId < session.requestId) {
      return reply(400, { error: "stale_request", message: `Request-Id older than ${session.requestId}`, lastRequestId: session.requestId });
    } else {
      answer = handleKv(kv, path, body, IDS);
      if (WRITES.has(path)) stats.applied++;
      if (WRITES.has(path) && clientId !== null) sessions.set(clientId, { requestId, ...answer });
    }
    if (f === "lost-answer") throw new TypeError("fetch failed: connection reset");
    if (f === "timeout-after-apply") return reply(504, { error: "etcdserver: request timed out", message: "etcdserver: request timed out", code: 14 });
    if (f === "delay") await new Promise((r) => setTimeout(r, 5));
    return reply(answer.status, answer.body);
  };
  return { fetch, kv, stats };
}
