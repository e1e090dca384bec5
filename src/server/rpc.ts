// A typed stub for a RaftServer object. Workers' RPC typing rewrites every method's types
// for structured clone and loses detail on the way (tuples become arrays, `unknown`
// commands become `never`); the values that really travel are plain JSON-like data, so
// the stub is given the class's own signatures, made asynchronous.
import type { NodeId } from "../raft/types.ts";
import { serverName, type LocationHint } from "./protocol.ts";
import type { RaftServer } from "./raft-server.ts";

type RpcMethods =
  | "receive"
  | "installChunk"
  | "submit"
  | "kv"
  | "read"
  | "list"
  | "etcdWrite"
  | "etcdRange"
  | "etcdLocalRange"
  | "transferLeadership"
  | "changeMembership"
  | "retire"
  | "committed"
  | "init"
  | "clusterConfig"
  | "status"
  | "inspect"
  | "setLinks"
  | "setLink"
  | "acceptLink"
  | "setNetwork"
  | "networkSettings"
  | "dropCalls"
  | "crash"
  | "evict"
  | "wake"
  | "restart"
  | "destroy"
  | "note"
  | "events";

export type RaftServerStub = {
  [K in RpcMethods]: RaftServer[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * Server `id` of `cluster`. `locationHint` matters only when this call creates the object
 * (Cloudflare places it near the hinted region and it stays there); later calls may omit it.
 */
export function serverStub(ns: DurableObjectNamespace<RaftServer>, cluster: string, id: NodeId, locationHint?: LocationHint | null): RaftServerStub {
  const name = serverName(cluster, id);
  const stub = locationHint ? ns.get(ns.idFromName(name), { locationHint }) : ns.getByName(name);
  return stub as unknown as RaftServerStub;
}
