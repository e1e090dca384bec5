// The faults the test harness injects (API.md, "Fault injection"), and the harness lines
// that narrate them. Each fault is narrated ("[TEST] Disconnect 2", as the reference's
// harness does) with the time it was ordered, and the narration travels alongside the
// change itself.
//
// A link carries messages only when BOTH ends list each other (each server checks its own
// list when sending and when receiving), so every link change below is one round of pushes
// to the live servers (cluster.ts: every server object that may still take part in Raft).
import { clock, echoNarration, serverStub, type NetworkSettings } from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { Cluster } from "./cluster.ts";
import { HttpError, notFound } from "./errors.ts";
import { reach } from "./reach.ts";
import { status } from "./status.ts";

export async function disconnect(cluster: Cluster, i: NodeId): Promise<void> {
  await withNote(cluster, `Disconnect ${i}`, () =>
    cluster.live.map((id) => reach(cluster, id, (s) => (id === i ? s.setLinks(false, []) : s.setLink(i, false)))),
  );
}

/** Links between `i` and every connected server come back. */
export async function reconnect(cluster: Cluster, i: NodeId): Promise<void> {
  await withNote(cluster, `Reconnect ${i}`, () =>
    cluster.live.map((id) => reach(cluster, id, (s) => (id === i ? s.setLinks(true, othersThan(cluster, i)) : s.acceptLink(i)))),
  );
}

/** Only servers of the same group can talk; a server in no group is cut off. */
export async function partition(cluster: Cluster, groups: readonly (readonly NodeId[])[]): Promise<void> {
  await withNote(cluster, `Partition ${groups.map((g) => `[${g.join(" ")}]`).join(" ")}`, () =>
    cluster.live.map((id) => {
      const group = groups.find((g) => g.includes(id));
      return reach(cluster, id, (s) => s.setLinks(group !== undefined, (group ?? []).filter((p) => p !== id)));
    }),
  );
}

export async function heal(cluster: Cluster): Promise<void> {
  await withNote(cluster, "Heal", () => cluster.live.map((id) => reach(cluster, id, (s) => s.setLinks(true, othersThan(cluster, id)))));
}

export async function network(cluster: Cluster, settings: NetworkSettings): Promise<void> {
  await withNote(cluster, `Network dropRate=${settings.dropRate} delayMs=[${settings.delayMs.join(", ")}]`, () =>
    cluster.live.map((id) => reach(cluster, id, (s) => s.setNetwork(settings))),
  );
}

export async function crash(cluster: Cluster, i: NodeId): Promise<void> {
  await withNote(cluster, `Crash ${i}`, () => [
    serverStub(cluster.env.RAFT_SERVER, cluster.name, i)
      .crash()
      .catch(() => {
        // The object resets itself (ctx.abort) while answering: the call fails by design.
      }),
  ]);
  // Make sure the crash took: the next instance of the object must boot as Dead. Up again
  // means a restart came in between (routes of one isolate run one at a time, see
  // admin-lock.ts, so it came through another): the crash did happen, and was undone.
  const s = await status(cluster, i);
  if (s.state !== "Dead") throw busy(i, "is up again: a restart raced this crash");
}

/**
 * A restart is a success only once the server has booted from its storage: a boot that
 * fails leaves it down (`500 restart_failed`), and a server found down again afterwards
 * was crashed by a call that raced this one (`409 busy`).
 */
export async function restart(cluster: Cluster, i: NodeId): Promise<void> {
  let booted = false;
  try {
    await withNote(cluster, `Restart ${i}`, () => [reach(cluster, i, (s) => s.restart()).then((b) => (booted = b))]);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new HttpError(500, "restart_failed", `server ${i} did not boot from its storage and stays down: ${why}`);
  }
  if (!booted) throw notFound(`server ${i} of ${cluster.name} was never initialised; repeat POST /clusters/${cluster.name}`);
  const s = await status(cluster, i);
  if (s.state === "Dead") throw busy(i, "is down again: a crash raced this restart");
}

/**
 * Reset server i's object as the platform does (eviction, a deploy): memory lost, storage
 * and pending alarm kept, not kept down. The call fails by design (the object aborts).
 */
export async function evict(cluster: Cluster, i: NodeId): Promise<void> {
  await withNote(cluster, `Evict ${i}`, () => [evictOne(cluster, i)]);
}

/**
 * Every server evicted at once, as a deploy of a new version does. The harness line is
 * written after the evictions (with the time they were ordered): written alongside, every
 * copy of it would be lost with the memory it was written to.
 */
export async function evictAll(cluster: Cluster): Promise<void> {
  const t = Date.now();
  await Promise.all(cluster.live.map((id) => evictOne(cluster, id)));
  await note(cluster, "Evict all (a deploy)", t);
}

export async function dropCalls(cluster: Cluster, i: NodeId, after: number | null): Promise<void> {
  const line = after === null ? `Don't drop calls of ${i}` : `Drop calls of ${i} after ${after}`;
  await withNote(cluster, line, () => [reach(cluster, i, (s) => s.dropCalls(after))]);
}

/**
 * A harness line. Every server keeps a copy (so the crash of one does not lose it); the
 * copies share one timestamp, which is how /events tells them apart from repeats. Best
 * effort: a server being reset right now just misses its copy.
 */
export async function note(cluster: Cluster, text: string, t = Date.now()): Promise<void> {
  const line = `[TEST] ${text}`;
  if (echoNarration(cluster.env)) console.log(`${clock(t)} ${line}`);
  await Promise.all(cluster.live.map((id) => reach(cluster, id, (s) => s.note(t, line)).catch(() => {})));
}

function evictOne(cluster: Cluster, i: NodeId): Promise<void> {
  return serverStub(cluster.env.RAFT_SERVER, cluster.name, i)
    .evict()
    .catch(() => {
      // The object resets itself (ctx.abort) while answering: the call fails by design.
    });
}

function othersThan(cluster: Cluster, i: NodeId): NodeId[] {
  return cluster.live.filter((p) => p !== i);
}

/** Narrate `text` and apply `change` at the same time (the line carries the earlier timestamp). */
async function withNote(cluster: Cluster, text: string, change: () => Promise<unknown>[]): Promise<void> {
  const noted = note(cluster, text);
  await Promise.all([noted, ...change()]);
}

/** 409 busy: another admin call on the same server, through another isolate, raced this one. */
function busy(i: NodeId, what: string): HttpError {
  return new HttpError(409, "busy", `server ${i} ${what}; its state is what the later call left: read it, or repeat the call`);
}
