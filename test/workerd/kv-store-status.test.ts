// One store per cluster (issue 20, step "store"), seen from outside: every /kv write is one
// revision of it on every server, the status reports the revision and the live keys, and an
// etcd write through the log (RaftServer.etcdWrite) lands in the same store, exactly once
// under a session.
import { expect, test } from "vitest";
import { api, Harness } from "./harness.ts";
import { eventually } from "./kv-harness.ts";

test("kv writes are revisions of one store on every server; an etcd write joins them, exactly once under its ids", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const kv = (method: string, key: string, body?: unknown) => api(method, `/clusters/${h.name}/kv/${key}${body && method === "POST" ? "/cas" : ""}`, body);
  expect((await kv("PUT", "a", { value: "1" })).status).toBe(200);
  expect((await kv("PUT", "b", { value: "2" })).status).toBe(200);
  expect((await kv("PUT", "a", { value: "3" })).status).toBe(200);
  expect((await kv("POST", "a", { compare: "nope", value: "4" })).body).toEqual({ found: true, prev: "3", swapped: false }); // no revision

  const epoch = await h.epoch();
  const session = { clientId: "etcd-writer", requestId: 1 };
  const put = { key: btoa("c"), value: btoa("5"), prev_kv: true };
  const first = await h.inside(leader, (s) => s.etcdWrite(epoch, "put", put, session, 5_000));
  expect(first).toMatchObject({ kind: "ok", duplicate: false, result: { status: 200, body: { header: { revision: "5" } } } });
  const again = await h.inside(leader, (s) => s.etcdWrite(epoch, "put", put, session, 5_000));
  expect(again).toMatchObject({ kind: "ok", duplicate: true, result: (first as { result: unknown }).result });
  // A follower proposes nothing.
  const follower = (leader + 1) % 3;
  expect(await h.inside(follower, (s) => s.etcdWrite(epoch, "put", put, undefined, 5_000))).toEqual({ kind: "not_leader", leader });
  expect((await api("GET", `/clusters/${h.name}/kv/c`)).body).toEqual({ found: true, value: "5" });

  const applied = (await h.statuses())[leader]!.lastApplied;
  await eventually("every server applied the writes", async () => (await h.statuses()).every((s) => s.lastApplied >= applied));
  for (const i of [0, 1, 2]) {
    const durable = (await api("GET", `/clusters/${h.name}/servers/${i}`)).body.durable;
    expect(durable, `server ${i}`).toMatchObject({ revision: 5, compactedRevision: -1, rows: { kv: 3 } });
  }
});
