// The ids in an etcd answer's header that name a cluster and a member (etcd's cluster_id and
// member_id: uint64, written as decimal strings by the gateway). etcd draws them from its
// members' URLs and the cluster token; here they come from the cluster incarnation's epoch
// (a random UUID, protocol.ts), so they are stable for the life of one incarnation, differ
// between a cluster and its re-creation under the same name, and need no storage: every
// server, and every reload of it, computes the same ones.
import type { HeaderIds } from "../kv/etcd/codec/encode.ts";
import type { NodeId } from "../raft/types.ts";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a, 64 bits, over the UTF-8 of `text`; never 0 (a zero id would be left out of the header, as jsonpb omits zeros). */
function fnv64(text: string): bigint {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK;
  return h === 0n ? 1n : h;
}

/** The cluster incarnation's id, as a decimal uint64. */
export function clusterIdOf(epoch: string): string {
  return fnv64(`cluster:${epoch}`).toString();
}

/** Server `id`'s member id in that incarnation, as a decimal uint64. */
export function memberIdOf(epoch: string, id: NodeId): string {
  return fnv64(`member:${epoch}:${id}`).toString();
}

/** The header ids of an answer given by server `id` in `term`. */
export function headerIdsOf(epoch: string, id: NodeId, term: number): HeaderIds {
  return { clusterId: clusterIdOf(epoch), memberId: memberIdOf(epoch, id), raftTerm: term };
}
