// ReadIndex reads (Raft thesis §6.4), on a real Durable Object cluster in real time.
//
// A GET without ?consistency is served by the leader without writing anything: it notes
// its commit index, confirms it still leads with a round of heartbeats, and answers once it
// has applied up to that index. ?consistency=log keeps the old path (the get is an entry of
// the log). What is checked: reads see writes, they leave the log alone (the log path grows
// it by one each), bad parameters are refused, and a leader cut off in a minority never
// answers with a value the majority has since overwritten.
//
// Every check starts with a put: a new leader may append one no-op entry after its
// election, and the put is committed after it, so the log is quiet before anything is counted.
import { afterAll, expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { eventually } from "./kv-harness.ts";
import { committedView, currentLeader, Guarded, heal, inspect, partition, request, retried, retryBudget, stableLeader, type FullAnswer, type Status6 } from "./issue6-harness.ts";

/**
 * The checks that hold only if no election came in between. Measured: 0 of 8 skipped in each
 * of 7 runs on a loaded machine. Allowed: one election's worth in the whole file (in
 * expectNoReadsLogged it skips the three servers' checks, plus the test's own check).
 */
const guarded = new Guarded("read-index: same-term checks", 4, "one election in the whole file");
afterAll(() => guarded.verify());
// Retries: a put that met an election (504: its outcome unknown) is asked again with the
// same exactly-once ids. Measured: a 504 in 1 of 7 runs (the whole workerd process stalled
// for ~220 ms under load, the followers' election timers fired first).
retryBudget(2, "a put meeting an election, once or twice in the file");

const kv = (h: Harness, key: string, query = "") => `/clusters/${h.name}/kv/${key}${query}`;

let requestId = 0;

/**
 * An exactly-once put that must succeed: asked again with the same ids after a 503/504 (an
 * election under load; the retry is counted against the file's budget), at most twice.
 */
async function put(h: Harness, key: string, value: string, query = ""): Promise<FullAnswer> {
  const ids = { "Client-Id": `read-index-${h.name}`, "Request-Id": String(++requestId) };
  for (let tries = 0; ; tries++) {
    const r = await request("PUT", kv(h, key, query), { value }, ids);
    if ((r.status === 503 || r.status === 504) && tries < 2) {
      retried("put", `PUT ${key}=${value}${query}: ${r.status} ${r.body?.error}`);
      continue;
    }
    expect(r.status, `PUT ${key}=${value}${query}: ${JSON.stringify(r.body)}`).toBe(200);
    return r;
  }
}

async function leaderStatus(h: Harness, leader: number): Promise<Status6> {
  return (await h.statuses())[leader] as unknown as Status6;
}

/**
 * What was appended to server `i`'s log above `from` (the applied entries; nothing is
 * compacted: compaction is off by default).
 */
async function appendedSince(h: Harness, i: number, from: number): Promise<Array<{ index: number; command: any }>> {
  return (await committedView(h, i)).entries.filter((e) => e.index > from);
}

/**
 * No read went into any server's log above `from`: only leader no-ops (command null), and
 * those only if an election happened (a term change): under load a burst of requests can
 * stall the leader's object past a follower's election timeout.
 */
async function expectNoReadsLogged(h: Harness, before: readonly Status6[]): Promise<void> {
  const after = (await h.statuses()) as unknown as Status6[];
  for (const [i, s] of after.entries()) {
    const b = before[i]!;
    const added = await appendedSince(h, i, b.logLength);
    expect(added.filter((e) => e.command !== null), `server ${i}: reads in the log`).toEqual([]);
    guarded.when(s.term === b.term, () =>
      expect({ logLength: s.logLength, commitIndex: s.commitIndex }, `server ${i}, same term`).toEqual({ logLength: b.logLength, commitIndex: b.commitIndex }),
    );
    if (s.term !== b.term) console.log(`server ${i}: an election during the reads (term ${b.term} → ${s.term}), ${added.length} no-op(s) appended`);
  }
}

/** A cluster with a leader and one applied put (so no leader no-op is pending). */
async function quietCluster(): Promise<{ h: Harness; leader: number }> {
  const h = await Harness.create(3);
  await stableLeader(h);
  const r = await put(h, "x", "v1");
  const leader = Number(r.headers.get("Raft-Server"));
  // Every server has applied it: nothing left in flight.
  await eventually("the put is applied everywhere", async () => {
    const s = await h.statuses();
    const want = s[leader]!.commitIndex;
    return s.every((x) => x.lastApplied === want) || JSON.stringify(s.map((x) => x.lastApplied));
  });
  return { h, leader };
}

test("ReadIndexReadLeavesTheLogAlone", async () => {
  const { h, leader } = await quietCluster();
  const before = await h.statuses();
  const l0 = before[leader]!;
  const served: string[] = [];
  for (let k = 0; k < 20; k++) {
    const r = await request("GET", kv(h, "x"));
    expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: "v1" } });
    served.push(`${r.headers.get("Raft-Server")}@${r.headers.get("Raft-Index")}`);
  }
  // Served by the leader at its commit index when the read came in (the read index), unless
  // an election came in between (see expectNoReadsLogged).
  guarded.when((await leaderStatus(h, leader)).term === l0.term, () => expect(new Set(served)).toEqual(new Set([`${leader}@${l0.commitIndex}`])));
  // The explicit default is the same path.
  const explicit = await request("GET", kv(h, "x", "?consistency=readindex"));
  expect({ status: explicit.status, body: explicit.body }).toEqual({ status: 200, body: { found: true, value: "v1" } });
  const missing = await request("GET", kv(h, "nothing"));
  expect({ status: missing.status, body: missing.body }).toEqual({ status: 200, body: { found: false, value: null } });

  await expectNoReadsLogged(h, before as unknown as Status6[]);
});

test("LogReadGrowsTheLogByOne", async () => {
  const { h, leader } = await quietCluster();
  const l0 = await leaderStatus(h, leader);
  const indices: number[] = [];
  for (let k = 0; k < 3; k++) {
    const r = await request("GET", kv(h, "x", "?consistency=log"));
    expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: "v1" } });
    indices.push(Number(r.headers.get("Raft-Index")));
  }
  // Three get entries went into the log, at the indices the answers named (and, if an
  // election came in between, a leader no-op: nothing else).
  const added = await appendedSince(h, leader, l0.logLength);
  const gets = added.filter((e) => e.command !== null);
  expect(gets.map((e) => ({ index: e.index, op: e.command.op, key: e.command.key }))).toEqual(indices.map((index) => ({ index, op: "get", key: "x" })));
  const l1 = await leaderStatus(h, leader);
  guarded.when(l1.term === l0.term, () => expect(indices).toEqual([l0.logLength + 1, l0.logLength + 2, l0.logLength + 3]));
});

test("ReadBadParameters", async () => {
  const { h, leader } = await quietCluster();
  for (const bad of ["bogus", "", "LOG", "readIndex"]) {
    const r = await request("GET", kv(h, "x", `?consistency=${bad}`));
    expect(r.status, `?consistency=${bad}: ${JSON.stringify(r.body)}`).toBe(400);
    expect(r.body.error).toBe("bad_request");
    expect(typeof r.body.message).toBe("string");
  }

  // Pinned to a follower: 421 naming the leader.
  const follower = (leader + 1) % 3;
  const r = await request("GET", kv(h, "x", `?server=${follower}`));
  expect({ status: r.status, error: r.body.error, leader: r.body.leader }).toEqual({ status: 421, error: "not_leader", leader });
  // Pinned to the leader: served.
  const ok = await request("GET", kv(h, "x", `?server=${leader}`));
  expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { found: true, value: "v1" } });

  // Session headers on a read are checked...
  const badId = await request("GET", kv(h, "x"), undefined, { "Client-Id": "reader", "Request-Id": "x" });
  expect(badId.status, JSON.stringify(badId.body)).toBe(400);
  // ...but a read records no session.
  const sessionsBefore = (await inspect(h, leader)).durable.rows.sessions;
  const withIds = await request("GET", kv(h, "x"), undefined, { "Client-Id": `reader-${h.name}`, "Request-Id": "7" });
  expect({ status: withIds.status, body: withIds.body }).toEqual({ status: 200, body: { found: true, value: "v1" } });
  expect((await inspect(h, leader)).durable.rows.sessions).toBe(sessionsBefore);
});

// The stale read ReadIndex exists to prevent: the old leader, cut off, still believes it
// leads and holds x=1 while the majority has written x=2. It must not answer 1.
test("ReadIndexNoStaleReadFromDeposedLeader", async () => {
  const { h, leader: old } = await quietCluster();
  await put(h, "x", "1");
  const oldTerm = (await leaderStatus(h, old)).term;
  const others = [0, 1, 2].filter((i) => i !== old);
  await partition(h, [[old], others]);

  let fresh = -1;
  await eventually("the majority elects a leader", async () => {
    const l = await currentLeader(h);
    if (l !== null && others.includes(l.leader) && l.term > oldTerm) fresh = l.leader;
    return fresh >= 0 || `leader ${JSON.stringify(l)}`;
  }, 3_000);
  const w = await put(h, "x", "2", `?server=${fresh}`);
  expect(w.body).toEqual({ found: true, prev: "1" });

  // The old leader has not heard of it: it may still think it leads.
  expect((await h.statuses())[old]!.state).toBe("Leader");
  for (const query of [`?server=${old}&timeoutMs=600`, `?server=${old}&timeoutMs=600&consistency=log`]) {
    const r = await request("GET", kv(h, "x", query));
    console.log(`ReadIndexNoStaleReadFromDeposedLeader: GET x${query} → ${r.status} ${JSON.stringify(r.body)}`);
    expect(r.status === 200 && r.body?.value === "1", `stale read: GET x${query} answered ${r.status} ${JSON.stringify(r.body)}`).toBe(false);
    expect([421, 503, 504], `GET x${query}: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
  }
  // The majority answers the new value.
  const r = await request("GET", kv(h, "x"));
  expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: "2" } });

  // Healed, the old leader learns it is deposed: a read pinned to it is refused.
  await heal(h);
  await eventually("the old leader steps down", async () => {
    const p = await request("GET", kv(h, "x", `?server=${old}&timeoutMs=600`));
    return p.status === 421 || `${p.status} ${JSON.stringify(p.body)}`;
  }, 3_000);
});

test("ReadIndexManyConcurrentReads", async () => {
  const { h, leader } = await quietCluster();
  await put(h, "x", "v2");
  await put(h, "x", "v3");
  await eventually("the puts are applied everywhere", async () => {
    const s = await h.statuses();
    return s.every((x) => x.lastApplied === s[leader]!.commitIndex) || JSON.stringify(s.map((x) => x.lastApplied));
  });
  const before = (await h.statuses()) as unknown as Status6[];
  const answers = await Promise.all(Array.from({ length: 50 }, () => request("GET", kv(h, "x"))));
  for (const r of answers) expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: "v3" } });
  await expectNoReadsLogged(h, before);

  // Reads racing a write: each answers the old value or the new one, and once the write has
  // been answered every later read sees it.
  const racing = Array.from({ length: 20 }, () => request("GET", kv(h, "x")));
  await put(h, "x", "v4");
  const late = await Promise.all(Array.from({ length: 20 }, () => request("GET", kv(h, "x"))));
  for (const r of await Promise.all(racing)) expect(["v3", "v4"]).toContain(r.body.value);
  for (const r of late) expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: "v4" } });
});
