// Checks on the recorded etcd lease and watch fixtures that need no etcd: the generators still
// produce exactly the committed requests and are deterministic, the fixtures cover every lease
// and watch feature issue 21 lists, the timings are consistent, and the parsers refuse broken files.

import { describe, expect, it } from "vitest";
import { diffLeaseAnswer, diffWatchStep, LeaseIds } from "./compare-lease-watch.ts";
import { leaseCoverage, REQUIRED_LEASE_FEATURES } from "./coverage-lease.ts";
import { REQUIRED_WATCH_FEATURES, watchCoverage } from "./coverage-watch.ts";
import { parseTimedFixture, parseWatchFixture, type TimedFixtureStep, type WatchAction, type WatchStep } from "./fixture.ts";
import { EXPIRY_WAIT_MS, generateLeaseSequence, LEASE_GENERATOR_VERSION, type LeaseOp } from "./generate-lease.ts";
import { generateWatchSequence, WATCH_GENERATOR_VERSION, type WatchOp } from "./generate-watch.ts";
import { LEASE_FIXTURE_DIR, readLeaseFixtures, readWatchFixtures, WATCH_FIXTURE_DIR } from "./read-fixtures-lease-watch.ts";
import { LEASE_SEEDS, WATCH_SEEDS } from "./seeds.ts";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const leases = readLeaseFixtures();
const watches = readWatchFixtures();

/** Stands in for etcd: grants answer a fresh ID, everything else a bare header at a growing revision. */
function fakeLeaseAnswer(op: LeaseOp, i: number): { status: number; response: unknown } {
  const header = { revision: String(1 + i) };
  if (op.path === "/v3/lease/grant") return { status: 200, response: { header, ID: String(5000 + i), TTL: "2" } };
  return { status: 200, response: { header } };
}

function fakeWatchRun(op: WatchOp, i: number): WatchAction {
  if (op.do === "kv") return { ...op, status: 200, response: { header: { revision: String(2 + i) } } };
  if (op.do === "open") return { ...op, status: 200 };
  return op;
}

describe("etcd lease fixtures: the generator", () => {
  it("replays each committed lease fixture's requests from its seed and etcd's recorded answers", async () => {
    expect(leases.map((f) => f.meta.seed)).toEqual(LEASE_SEEDS.map((s) => s.seed));
    for (const fixture of leases) {
      expect(fixture.meta.generator, `${fixture.name} was recorded by another generator version`).toBe(LEASE_GENERATOR_VERSION);
      const regenerated = await generateLeaseSequence(fixture.meta.seed, fixture.meta.ops, (_op, i) => fixture.steps[i]!);
      regenerated.forEach(({ op }, i) => {
        const step = fixture.steps[i]!;
        expect(op, `${fixture.name} op ${i}`).toEqual({ path: step.path, request: step.request, wait_ms: step.wait_ms });
      });
    }
  });

  it("is deterministic for a seed and differs between seeds", async () => {
    const ops = async (seed: number) => (await generateLeaseSequence(seed, 200, fakeLeaseAnswer)).map((s) => s.op);
    expect(await ops(42)).toEqual(await ops(42));
    expect(await ops(42)).not.toEqual(await ops(43));
  });

  it("follows a grant below the minimum TTL with keys, a look, and a wait past the TTL", async () => {
    const seq = (await generateLeaseSequence(9, 400, fakeLeaseAnswer)).map((s) => s.op);
    const shortGrant = seq.findIndex((op) => op.path === "/v3/lease/grant" && Number((op.request as { TTL?: string }).TTL) <= 2);
    expect(shortGrant).toBeGreaterThanOrEqual(0);
    const id = String(5000 + shortGrant);
    const episode = seq.slice(shortGrant + 1, shortGrant + 10);
    expect(episode[0]).toMatchObject({ path: "/v3/kv/put", request: { lease: id } });
    expect(episode.findIndex((op) => op.wait_ms === EXPIRY_WAIT_MS)).toBe(4);
    // Nothing else waits while a 2 s lease is alive, so whether it has expired never depends on speed.
    expect(episode.slice(0, 4).every((op) => op.wait_ms === 0)).toBe(true);
  });

  it("records times that follow the requests' order and their waits", () => {
    for (const fixture of leases) {
      let previous = 0;
      for (const [i, step] of fixture.steps.entries()) {
        expect(step.sent_ms, `${fixture.name} step ${i}`).toBeGreaterThanOrEqual(previous + step.wait_ms - 1);
        expect(step.answered_ms).toBeGreaterThanOrEqual(step.sent_ms);
        previous = step.answered_ms;
      }
    }
  });
});

describe("etcd watch fixtures: the generator", () => {
  it("replays each committed watch fixture's steps from its seed and etcd's recorded answers", async () => {
    expect(watches.map((f) => f.meta.seed)).toEqual(WATCH_SEEDS.map((s) => s.seed));
    for (const fixture of watches) {
      expect(fixture.meta.generator, `${fixture.name} was recorded by another generator version`).toBe(WATCH_GENERATOR_VERSION);
      const regenerated = await generateWatchSequence(fixture.meta.seed, fixture.meta.ops, (_op, i) => fixture.steps[i]!);
      regenerated.forEach(({ op }, i) => {
        const { sent_ms: _sent, received: _received, ...step } = fixture.steps[i]!;
        const expected = step.do === "open" ? { do: step.do, stream: step.stream, body: step.body }
          : step.do === "kv" ? { do: step.do, path: step.path, request: step.request } : step;
        expect(op, `${fixture.name} step ${i}`).toEqual(expected);
      });
    }
  });

  it("is deterministic for a seed and differs between seeds", async () => {
    const ops = async (seed: number) => (await generateWatchSequence(seed, 200, fakeWatchRun)).map((s) => s.op);
    expect(await ops(42)).toEqual(await ops(42));
    expect(await ops(42)).not.toEqual(await ops(43));
  });

  it("never cancels, in the same body, a watch that starts in the past (etcd would race its catch-up)", async () => {
    let checked = 0;
    for (let seed = 1; seed <= 20; seed++) {
      let revision = 1;
      await generateWatchSequence(seed, 150, (op, i) => {
        if (op.do === "open" && op.body.some((m) => (m as Record<string, unknown>)?.cancel_request)) {
          checked++;
          const starts = op.body.map((m) => (m as { create_request?: { start_revision?: string } })?.create_request?.start_revision);
          expect(starts.filter((s) => s !== undefined && Number(s) <= revision), `seed ${seed} step ${i}`).toEqual([]);
        }
        const done = fakeWatchRun(op, i);
        if (done.do === "kv") revision = 2 + i;
        return done;
      });
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("records each stream's messages only after the stream was opened, in time order", () => {
    for (const fixture of watches) {
      const openedAt = new Map<number, number>();
      let last = 0;
      for (const step of fixture.steps) {
        if (step.do === "open") openedAt.set(step.stream, step.sent_ms);
        for (const m of step.received) {
          expect(m.at_ms).toBeGreaterThanOrEqual(openedAt.get(m.stream)!);
          expect(m.at_ms).toBeGreaterThanOrEqual(last);
          last = m.at_ms;
        }
      }
    }
  });
});

describe("etcd lease and watch fixtures: coverage", () => {
  const leaseCounts = leaseCoverage(leases);
  const watchCounts = watchCoverage(watches);

  it.each(REQUIRED_LEASE_FEATURES.map((f) => [f]))("lease fixtures cover %s", (feature) => {
    expect(leaseCounts.get(feature) ?? 0).toBeGreaterThan(0);
  });

  it.each(REQUIRED_WATCH_FEATURES.map((f) => [f]))("watch fixtures cover %s", (feature) => {
    expect(watchCounts.get(feature) ?? 0).toBeGreaterThan(0);
  });

  it("stays small: lease and watch fixtures together under 400 KB (the kv fixtures take about 2 MB)", () => {
    const bytes = [LEASE_FIXTURE_DIR, WATCH_FIXTURE_DIR]
      .flatMap((dir) => readdirSync(dir).map((f) => statSync(join(dir, f)).size))
      .reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThan(400_000);
  });
});

describe("etcd lease and watch fixtures: the parsers", () => {
  const meta = (ops: number) => JSON.stringify({ meta: { etcd: "3.4.23", seed: 1, generator: 1, ops, note: "" } });
  const timed = { path: "/v3/lease/grant", request: { TTL: "5" }, wait_ms: 0, sent_ms: 3, answered_ms: 5, status: 200, response: { ID: "1" } };

  it("reads a well-formed lease fixture and refuses broken ones", () => {
    expect(parseTimedFixture("t", `${meta(1)}\n${JSON.stringify(timed)}\n`).steps).toEqual([timed]);
    expect(() => parseTimedFixture("t", `${meta(2)}\n${JSON.stringify(timed)}\n`)).toThrow(/meta.ops 2 but 1 steps/);
    expect(() => parseTimedFixture("t", JSON.stringify(timed))).toThrow(/line 1 is not/);
    const { sent_ms: _s, ...untimed } = timed;
    expect(() => parseTimedFixture("t", `${meta(1)}\n${JSON.stringify(untimed)}`)).toThrow(/line 2 is not a timed step/);
    expect(() => parseTimedFixture("t", `${meta(1)}\n${JSON.stringify({ ...timed, answered_ms: 1 })}`)).toThrow(/line 2/);
    expect(() => parseTimedFixture("t", `${meta(1)}\n{"path":`)).toThrow();
  });

  it("reads a well-formed watch fixture and refuses broken ones", () => {
    const open = { do: "open", stream: 0, body: [{ create_request: { key: "YQ==" } }], status: 200, sent_ms: 0, received: [{ stream: 0, at_ms: 2, message: { result: { created: true } } }] };
    const kv = { do: "kv", path: "/v3/kv/put", request: { key: "YQ==" }, status: 200, response: {}, sent_ms: 5, received: [] };
    const close = { do: "close", stream: 0, sent_ms: 9, received: [] };
    const lines = (...rows: unknown[]) => [meta(rows.length), ...rows.map((r) => JSON.stringify(r))].join("\n");
    expect(parseWatchFixture("w", lines(open, kv, close)).steps.map((s) => s.do)).toEqual(["open", "kv", "close"]);
    expect(() => parseWatchFixture("w", lines(kv, { ...close }))).toThrow(/never opened/);
    expect(() => parseWatchFixture("w", lines(open, open))).toThrow(/opened twice/);
    expect(() => parseWatchFixture("w", lines({ ...kv, received: [{ stream: 3, at_ms: 1, message: {} }] }))).toThrow(/bad received message/);
    expect(() => parseWatchFixture("w", lines({ ...kv, do: "jump" }))).toThrow(/unknown step "jump"/);
    expect(() => parseWatchFixture("w", lines({ do: "wait", sent_ms: 1, received: [] }))).toThrow(/bad wait/);
    expect(() => parseWatchFixture("w", lines({ ...open, received: undefined }))).toThrow(/no sent_ms or received/);
  });
});

describe("etcd lease and watch fixtures: answer comparison", () => {
  const step = (path: string, request: unknown, response: unknown, status = 200): TimedFixtureStep =>
    ({ path, request, response, status, wait_ms: 0, sent_ms: 0, answered_ms: 1 });
  const header = { cluster_id: "1", member_id: "2", revision: "5", raft_term: "2" };

  it("maps lease IDs etcd chose, in grant order, and nothing else", () => {
    const ids = new LeaseIds();
    const grant = step("/v3/lease/grant", { TTL: "120" }, { header, ID: "465175137589657093", TTL: "120" });
    // Any ID answers a grant without one; the TTL still has to match.
    expect(diffLeaseAnswer(grant, { status: 200, response: { header, ID: "99", TTL: "120" } }, ids, 0)).toBeNull();
    expect(diffLeaseAnswer(grant, { status: 200, response: { header, ID: "99", TTL: "60" } }, ids, 0)).toMatch(/\$\.TTL/);
    expect(diffLeaseAnswer(grant, { status: 200, response: { header, TTL: "120" } }, ids, 0)).toMatch(/\$\.ID: missing/);
    ids.learn(grant, { header, ID: "99", TTL: "120" });
    expect(ids.rewrite({ ID: "465175137589657093", lease: "465175137589657093", other: "7" })).toEqual({ ID: "99", lease: "99", other: "7" });
    // A grant with an explicit ID teaches nothing: the ID was the client's.
    ids.learn(step("/v3/lease/grant", { ID: "7", TTL: "120" }, { header, ID: "7", TTL: "120" }), { ID: "8" });
    expect(ids.rewrite("7")).toBe("7");
  });

  it("compares lease lists and timetolive keys as sets, and TTLs within the slack", () => {
    const ids = new LeaseIds();
    const list = step("/v3/lease/leases", {}, { header, leases: [{ ID: "1" }, { ID: "2" }] });
    expect(diffLeaseAnswer(list, { status: 200, response: { header, leases: [{ ID: "2" }, { ID: "1" }] } }, ids, 0)).toBeNull();
    expect(diffLeaseAnswer(list, { status: 200, response: { header, leases: [{ ID: "2" }] } }, ids, 0)).not.toBeNull();
    const ttl = step("/v3/lease/timetolive", { ID: "1", keys: true }, { header, ID: "1", TTL: "58", grantedTTL: "60", keys: ["YQ==", "Yg=="] });
    const answer = (TTL: string, keys = ["Yg==", "YQ=="]) => ({ status: 200, response: { header, ID: "1", TTL, grantedTTL: "60", keys } });
    expect(diffLeaseAnswer(ttl, answer("57"), ids, 1)).toBeNull();
    expect(diffLeaseAnswer(ttl, answer("56"), ids, 1)).toBe("$.TTL: expected 58 ± 1, got 56");
    expect(diffLeaseAnswer(ttl, answer("58", ["YQ=="]), ids, 1)).toMatch(/\$\.keys/);
    expect(diffLeaseAnswer(ttl, { status: 404, response: {} }, ids, 1)).toBe("status: expected 200, got 404");
  });

  it("compares a watch step's messages per watch in order, ignoring timings and the order between watches", () => {
    const msg = (stream: number, at_ms: number, revision: string, watch_id?: string) =>
      ({ stream, at_ms, message: { result: { header: { ...header, revision }, ...(watch_id ? { watch_id } : {}), events: [] } } });
    const recorded: WatchStep = { do: "kv", path: "/v3/kv/put", request: {}, status: 200, response: { header }, sent_ms: 10,
      received: [msg(0, 11, "5"), msg(1, 12, "5"), msg(0, 13, "6"), msg(0, 13, "6", "7")] };
    const interleaved: WatchStep = { ...recorded, sent_ms: 50, received: [msg(0, 50, "6", "7"), msg(1, 51, "5"), msg(0, 52, "5"), msg(0, 60, "6")] };
    expect(diffWatchStep(recorded, interleaved)).toBeNull();
    const reordered: WatchStep = { ...recorded, received: [msg(0, 11, "6"), msg(1, 12, "5"), msg(0, 13, "5"), msg(0, 13, "6", "7")] };
    expect(diffWatchStep(recorded, reordered)).toMatch(/^stream 0 watch 0 messages \$\[0\]/);
    expect(diffWatchStep(recorded, { ...recorded, received: recorded.received.slice(0, 3) })).toMatch(/^stream 0 watch 7 messages \$: expected 1 items, got 0/);
    expect(diffWatchStep(recorded, { do: "close", stream: 0, sent_ms: 0, received: [] })).toBe("step: expected kv, got close");
  });
});
