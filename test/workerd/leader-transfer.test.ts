// Leadership transfer (Raft thesis §3.10), POST /clusters/{c}/leader {"id": i}, on a real
// Durable Object cluster in real time: the leader brings the target's log up to date, stops
// taking proposals, and tells it to stand at once (TimeoutNow); the answer comes once the
// target leads. Checked: the answer and the cluster agree on the new leader, the hand-over
// takes about one election round, bad requests are refused with the documented codes, and
// writes in flight during the hand-over are neither lost nor applied twice.
import { expect, test } from "vitest";
import { ELECTION_TIMEOUT_MS, Harness } from "./harness.ts";
import { crash, disconnect, events, freshClusterPath, request, retried, retryBudget, stableLeader, transferRaw, view, type View6 } from "./issue6-harness.ts";

// stableLeader asks again when the first leader is deposed right after the start, and
// TransferWritesInFlightNotLost's writes after a 504. Measured on a loaded machine: one
// (stableLeader) in 1 of 7 runs; allowed: two (an election at a start, a write caught by
// the hand-over).
retryBudget(2, "a leader deposed at a start, a write caught by the hand-over");

/** No hand-over was started: no leader narrated one. */
async function expectNoHandOver(h: Harness): Promise<void> {
  const lines = (await events(h)).filter((l) => /transferring leadership|sending TimeoutNow/.test(l));
  expect(lines).toEqual([]);
}

/** Server `id` leads in the view, and no server claims leadership in a term as high. */
function expectLeads(v: View6, id: number): void {
  expect(v.leader, JSON.stringify(v)).toBe(id);
  const target = v.servers[id]!;
  expect(target.state).toBe("Leader");
  for (const s of v.servers) {
    if (s.id !== id && s.state === "Leader") expect(s.term, `server ${s.id} also leads: ${JSON.stringify(v)}`).toBeLessThan(target.term);
  }
}

test("TransferLeadership", async () => {
  const h = await Harness.create(3);
  const orig = await stableLeader(h);
  let leader = orig.leader;
  let term = orig.term;
  const figures: number[] = [];
  // Around the cluster: to each of the other servers in turn, then back.
  for (const step of [1, 2, 1]) {
    const target = (leader + step) % 3;
    const started = Date.now();
    const r = await transferRaw(h, { id: target });
    const took = Date.now() - started;
    figures.push(took);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expectLeads(r.body, target);
    expect(r.body.servers[target].term).toBeGreaterThan(term);
    expect(took, `transfer to ${target} took ${took} ms`).toBeLessThan(2_000);

    const v = await view(h);
    expectLeads(v, target);
    // The new leader takes writes.
    const w = await request("PUT", `/clusters/${h.name}/kv/k${target}`, { value: "v" });
    expect(w.status).toBe(200);
    expect(w.headers.get("Raft-Server")).toBe(String(target));
    leader = target;
    term = v.servers[target]!.term;
  }
  console.log(`TransferLeadership: hand-overs took ${figures.join(", ")} ms (election timeout ${ELECTION_TIMEOUT_MS.join("-")} ms)`);
});

test("TransferToCurrentLeader", async () => {
  const h = await Harness.create(3);
  const orig = await stableLeader(h);
  const started = Date.now();
  const r = await transferRaw(h, { id: orig.leader });
  const took = Date.now() - started;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expectLeads(r.body, orig.leader);
  expect(r.body.servers[orig.leader].term).toBe(orig.term);
  console.log(`TransferToCurrentLeader: answered in ${took} ms`);
  expect(took).toBeLessThan(ELECTION_TIMEOUT_MS[0]);
  await expectNoHandOver(h);
});

test("TransferBadRequests", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  for (const body of [{}, { id: "x" }, { id: -1 }, { id: 1.5 }, { id: null }, { id: 1, extra: true }, [1], "1", "{not json"]) {
    const r = await transferRaw(h, body);
    expect(r.status, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBe(400);
    expect(typeof r.body.error).toBe("string");
    expect(typeof r.body.message).toBe("string");
  }
  for (const id of [3, 5]) {
    const r = await transferRaw(h, { id });
    expect(r.status, `id ${id}: ${JSON.stringify(r.body)}`).toBe(404);
  }
  const unknown = await request("POST", `${freshClusterPath()}/leader`, { id: 0 });
  expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
  const wrongMethod = await request("GET", `/clusters/${h.name}/leader`);
  expect(wrongMethod.status).toBe(405);
  // None of it started a hand-over.
  await expectNoHandOver(h);
});

test("TransferToUnavailableServer", async () => {
  const h = await Harness.create(3);
  const orig = await stableLeader(h);
  const down = (orig.leader + 1) % 3;
  const cut = (orig.leader + 2) % 3;
  await crash(h, down);
  let r = await transferRaw(h, { id: down });
  expect({ status: r.status, error: r.body.error }, JSON.stringify(r.body)).toEqual({ status: 409, error: "unavailable" });
  await disconnect(h, cut);
  r = await transferRaw(h, { id: cut });
  expect({ status: r.status, error: r.body.error }, JSON.stringify(r.body)).toEqual({ status: 409, error: "unavailable" });
  // The leader (alone now, but without CheckQuorum still leading) was never asked to hand over.
  const s = (await h.statuses())[orig.leader] as unknown as { state: string; term: number; transferringTo: number | null };
  expect(s.term).toBe(orig.term);
  expect(s.transferringTo).toBeNull();
  await expectNoHandOver(h);
});

test("TransferWithoutLeader", async () => {
  const h = await Harness.create(3);
  const orig = await h.checkSingleLeader();
  const left = (orig.leader + 1) % 3;
  // The leader and one follower down: the one left can never be elected alone.
  await Promise.all([crash(h, orig.leader), crash(h, (orig.leader + 2) % 3)]);
  const started = Date.now();
  const r = await transferRaw(h, { id: left });
  expect({ status: r.status, error: r.body.error }, JSON.stringify(r.body)).toEqual({ status: 503, error: "unavailable" });
  console.log(`TransferWithoutLeader: 503 after ${Date.now() - started} ms`);
});

// Writes racing the hand-over: every put and append answers (a 504 is resolved by retrying
// with the same ids), every put is readable afterwards, and every append is applied once.
test("TransferWritesInFlightNotLost", async () => {
  const h = await Harness.create(3);
  const orig = await stableLeader(h);
  const target = (orig.leader + 1) % 3;
  const again: string[] = [];

  async function write(kind: "put" | "append", i: number): Promise<{ status: number; body: unknown; server: string | null }> {
    const path = kind === "put" ? `/clusters/${h.name}/kv/w${i}` : `/clusters/${h.name}/kv/acc/append`;
    const headers = { "Client-Id": `c${i}-${kind}`, "Request-Id": "1" };
    for (let attempt = 0; ; attempt++) {
      const r = await request(kind === "put" ? "PUT" : "POST", path, { value: kind === "put" ? `v${i}` : `<${i}>` }, headers);
      if (r.status !== 504 || attempt === 4) return { status: r.status, body: r.body, server: r.headers.get("Raft-Server") };
      again.push(`${kind} ${i}`);
      retried("TransferWritesInFlightNotLost", `${kind} ${i}: 504, asked again with the same ids`);
    }
  }

  const writes: Array<ReturnType<typeof write>> = [];
  let transfer: Promise<Awaited<ReturnType<typeof transferRaw>>> | null = null;
  for (let i = 0; i < 20; i++) {
    writes.push(write("put", i));
    if (i % 2 === 0) writes.push(write("append", i));
    if (i === 8) transfer = transferRaw(h, { id: target });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const answers = await Promise.all(writes);
  const t = await transfer!;
  expect(t.status, JSON.stringify(t.body)).toBe(200);
  expectLeads(t.body, target);
  for (const [k, a] of answers.entries()) expect(a.status, `write ${k}: ${JSON.stringify(a.body)}`).toBe(200);
  // The hand-over did happen in the middle: the first writes were applied by the old
  // leader, the last ones by the new.
  const by = (id: number) => answers.filter((a) => a.server === String(id)).length;
  console.log(`TransferWritesInFlightNotLost: ${by(orig.leader)} writes answered by the old leader, ${by(target)} by the new; retried after 504: ${again.join(", ") || "none"}`);
  expect(answers[0]!.server).toBe(String(orig.leader));
  expect(answers.at(-1)!.server).toBe(String(target));

  for (let i = 0; i < 20; i++) {
    const r = await request("GET", `/clusters/${h.name}/kv/w${i}`);
    expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { found: true, value: `v${i}` } });
  }
  const acc = await request("GET", `/clusters/${h.name}/kv/acc`);
  expect(acc.status).toBe(200);
  const tokens = (acc.body.value as string).match(/<\d+>/g) ?? [];
  expect([...tokens].sort(), acc.body.value).toEqual(Array.from({ length: 10 }, (_, k) => `<${2 * k}>`).sort());
});
