// etcd 3.4's lease semantics on the pure model, through the gateway: grant, revoke, keepalive,
// timetolive, the list, keys attached by put and detached by a rewrite or a delete, LEASE compares.
// Expected answers are etcd 3.4.23's (the recorded fixtures show each shape; lease-replay.test.ts
// replays them all). Time is whatever each call says: the leader's clock in ms.

import { describe, expect, it } from "vitest";
import { handleKv, type KvPath } from "../../../../src/kv/etcd/gateway.ts";
import { handleKeepAliveText, handleLeaseText, type LeasePath, type LeaseService } from "../../../../src/kv/etcd/gateway-lease.ts";
import { LeaseExpiry } from "../../../../src/kv/etcd/lease-expiry.ts";
import { CHOSEN_LEASE_ID_BASE, ETCD_DEFAULT_MIN_LEASE_TTL, minLeaseTtlSeconds } from "../../../../src/kv/etcd/lease-rules.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { etcdModel } from "../../../../src/kv/etcd/model.ts";
import { b64, IDS, keysOf } from "./helpers.ts";

type Json = Record<string, any>;

/** One replica that is also the leader, at a clock the test moves; each call is the next log index. */
function leader() {
  const store = new MemoryMvccStore();
  const model = etcdModel(store, ETCD_DEFAULT_MIN_LEASE_TTL);
  const svc: LeaseService = { leases: model.leases, expiry: new LeaseExpiry() };
  let index = 0;
  const t = {
    now: 0,
    store,
    svc,
    lease(path: string, body: unknown) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      return handleLeaseText(svc, path as LeasePath, text, IDS, { now: t.now, logIndex: ++index });
    },
    /** The keepalive stream: status and every message. */
    keepalive(body: unknown) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      return handleKeepAliveText(svc, text, IDS, { now: t.now, logIndex: index });
    },
    kv(op: string, body: unknown) {
      index++;
      return handleKv(model.kv, `/v3/kv/${op}` as KvPath, body, IDS);
    },
    /** The leader's alarm at `now`: each expired lease's revoke, committed and applied. */
    expire() {
      for (const id of svc.expiry.due(t.now)) {
        t.lease("/v3/lease/revoke", { ID: String(id) });
      }
    },
    grant(ttl: number, id?: string): string {
      const a = t.lease("/v3/lease/grant", id === undefined ? { TTL: String(ttl) } : { TTL: String(ttl), ID: id });
      if (a.status !== 200) throw new Error(JSON.stringify(a.body));
      return (a.body as Json).ID;
    },
    put(key: string, extra: Json = {}) {
      return t.kv("put", { key: b64(key), value: b64("v"), ...extra });
    },
    keys: () => keysOf(t.kv("range", { key: b64("\0"), range_end: b64("\0") }).body),
    revision: () => model.kv.revision(),
  };
  return t;
}

const header = (revision: number) => ({ cluster_id: "7", member_id: "8", revision: String(revision), raft_term: "9" });

describe("grant", () => {
  it("raises a TTL at or below the minimum to it (etcd's defaults: 2 s) and chooses IDs from the log index", () => {
    const t = leader();
    for (const ttl of ["-5", "0", "1", "2"]) {
      const a = t.lease("/v3/lease/grant", { TTL: ttl });
      expect(a.status).toBe(200);
      expect((a.body as Json).TTL).toBe("2");
    }
    expect(t.lease("/v3/lease/grant", { TTL: "120" }).body).toEqual({ header: header(1), ID: String(CHOSEN_LEASE_ID_BASE + 5), TTL: "120" });
  });

  it("a chosen ID skips one a client already took", () => {
    const t = leader();
    t.grant(60, String(CHOSEN_LEASE_ID_BASE + 2));
    expect(t.grant(60)).toBe(String(CHOSEN_LEASE_ID_BASE + 3));
  });

  it("refuses a duplicate ID (412, code 9), a TTL above 9e9 s (400, code 11) and an ID not exact in a JS number", () => {
    const t = leader();
    t.grant(300, "-3");
    expect(t.lease("/v3/lease/grant", { TTL: "300", ID: "-3" })).toEqual({
      status: 412,
      body: { error: "etcdserver: lease already exists", message: "etcdserver: lease already exists", code: 9 },
    });
    expect(t.lease("/v3/lease/grant", { TTL: "9000000001" })).toMatchObject({ status: 400, body: { error: "etcdserver: too large lease TTL", code: 11 } });
    expect(t.lease("/v3/lease/grant", { TTL: "60", ID: "9007199254740993" })).toMatchObject({ status: 400, body: { code: 3 } });
    expect(t.svc.leases.list().leases).toEqual([{ ID: -3 }]);
  });

  it("reads the body as etcd's gateway does", () => {
    const t = leader();
    expect(t.lease("/v3/lease/grant", '"text"')).toMatchObject({
      status: 400,
      body: { error: "json: cannot unmarshal string into Go value of type map[string]json.RawMessage", code: 3 },
    });
    expect(t.lease("/v3/lease/grant", { TTL: "ten" })).toMatchObject({ status: 400, body: { error: "invalid character 'e' in literal true (expecting 'r')" } });
    expect(t.lease("/v3/lease/grant", { TTL: 3600, ID: "123456789" }).body).toMatchObject({ ID: "123456789", TTL: "3600" });
  });
});

describe("keys on a lease", () => {
  it("a put attaches, a put without lease detaches, ignore_lease keeps, a delete detaches", () => {
    const t = leader();
    const id = t.grant(60);
    t.put("a", { lease: id });
    t.put("b", { lease: id });
    t.put("c", { lease: id });
    const keys = () => ((t.lease("/v3/lease/timetolive", { ID: id, keys: true }).body as Json).keys ?? []).map(atob);
    expect(keys()).toEqual(["a", "b", "c"]);
    t.put("a");
    t.put("b", { ignore_lease: true });
    t.kv("deleterange", { key: b64("c") });
    expect(keys()).toEqual(["b"]);
    expect(t.kv("range", { key: b64("b") }).body).toMatchObject({ kvs: [{ lease: id }] });
  });

  it("a put or a txn naming an unknown lease is 404 code 5; a txn compares LEASE", () => {
    const t = leader();
    expect(t.put("a", { lease: "42" })).toMatchObject({ status: 404, body: { error: "etcdserver: requested lease not found", code: 5 } });
    const id = t.grant(60, "42");
    t.put("a", { lease: id });
    const txn = (result: string) =>
      t.kv("txn", {
        compare: [{ key: b64("a"), target: "LEASE", result, lease: id }],
        success: [{ request_put: { key: b64("b"), lease: "43" } }],
      });
    expect(txn("NOT_EQUAL")).toMatchObject({ status: 200, body: { header: header(2) } });
    expect(txn("EQUAL")).toMatchObject({ status: 404, body: { code: 5 } });
  });
});

describe("revoke", () => {
  it("deletes every key of the lease at one revision, and the lease", () => {
    const t = leader();
    const id = t.grant(60);
    t.put("a", { lease: id });
    t.put("b", { lease: id });
    t.put("z");
    expect(t.lease("/v3/kv/lease/revoke", { ID: id })).toEqual({ status: 200, body: { header: header(5) } });
    expect(t.keys()).toEqual(["z"]);
    expect(t.kv("range", { key: b64("a"), revision: 4 }).body).toMatchObject({ kvs: [{ lease: id }] });
    expect(t.lease("/v3/lease/timetolive", { ID: id }).body).toEqual({ header: header(5), ID: id, TTL: "-1" });
    expect(t.svc.leases.list().leases).toEqual([]);
  });

  it("a lease without keys leaves the revision; an unknown or missing ID is 404 code 5", () => {
    const t = leader();
    const id = t.grant(60);
    expect(t.lease("/v3/lease/revoke", { ID: id }).body).toEqual({ header: header(1) });
    expect(t.lease("/v3/lease/revoke", { ID: id })).toMatchObject({ status: 404, body: { code: 5 } });
    expect(t.lease("/v3/lease/revoke", {})).toMatchObject({ status: 404, body: { error: "etcdserver: requested lease not found" } });
  });
});

describe("keepalive and timetolive (the leader's, at its clock)", () => {
  it("timetolive counts down in whole seconds rounded toward zero; keepalive gives the full TTL again", () => {
    const t = leader();
    const id = t.grant(10);
    t.now = 3_400;
    expect(t.lease("/v3/lease/timetolive", { ID: id }).body).toEqual({ header: header(1), ID: id, TTL: "6", grantedTTL: "10" });
    expect(t.keepalive({ ID: id })).toEqual({ status: 200, messages: [{ result: { header: header(1), ID: id, TTL: "10" } }] });
    t.now = 13_000;
    // 400 ms left: TTL 0, which jsonpb leaves out.
    expect(t.lease("/v3/lease/timetolive", { ID: id }).body).toEqual({ header: header(1), ID: id, grantedTTL: "10" });
    t.expire();
    expect(t.svc.leases.list().leases).toEqual([{ ID: Number(id) }]);
    t.now = 13_400;
    t.expire();
    expect(t.svc.leases.list().leases).toEqual([]);
  });

  it("keepalive of an unknown or expired lease is a result without TTL; of no ID, only a header", () => {
    const t = leader();
    const id = t.grant(2);
    t.now = 2_000;
    expect(t.keepalive({ ID: id }).messages).toEqual([{ result: { header: header(1), ID: id } }]);
    expect(t.keepalive({ ID: "987654321" }).messages).toEqual([{ result: { header: header(1), ID: "987654321" } }]);
    expect(t.keepalive({}).messages).toEqual([{ result: { header: header(1) } }]);
    expect(t.keepalive("null").messages).toEqual([{ result: { header: header(1) } }]);
  });

  it("keepalive is a stream: one answer per request in the body; an empty body answers nothing (etcd 3.4.23, checked live)", () => {
    const t = leader();
    const id = t.grant(60, "10");
    const renewed = { result: { header: header(1), ID: id, TTL: "60" } };
    expect(t.keepalive('{"ID":"10"}\n{"ID":"11"}')).toEqual({ status: 200, messages: [renewed, { result: { header: header(1), ID: "11" } }] });
    expect(t.keepalive('{"ID":"10"}{"ID":"10"}').messages).toEqual([renewed, renewed]);
    // A request that cannot be read after the first ends the stream quietly.
    for (const body of ['{"ID":"10"} {"ID":"x"}', '{"ID":"10"},{"ID":"10"}', '{"ID":"10"} "text"', '{"ID":"10"} garbage']) {
      expect(t.keepalive(body), body).toEqual({ status: 200, messages: [renewed] });
    }
    expect(t.keepalive("")).toEqual({ status: 200, messages: [] });
    expect(t.keepalive("   ")).toEqual({ status: 200, messages: [] });
  });

  it("a keepalive body it cannot read is HTTP 500 code 2 (a stream in etcd's gateway)", () => {
    const t = leader();
    const unknown = (message: string) => ({ status: 500, messages: [{ error: message, message, code: 2 }] });
    expect(t.keepalive({ ID: "x1" })).toEqual(unknown("invalid character 'x' looking for beginning of value"));
    expect(t.keepalive('"text"')).toEqual(unknown("json: cannot unmarshal string into Go value of type map[string]json.RawMessage"));
    expect(t.keepalive("[]")).toEqual(unknown("json: cannot unmarshal array into Go value of type map[string]json.RawMessage"));
    expect(t.keepalive('{"ID":"1')).toEqual(unknown("unexpected EOF"));
  });

  it("echoes an int64 ID to the last digit, and timetolive of none is TTL -1 without ID", () => {
    const t = leader();
    const big = "9223372036854775807";
    expect(t.lease("/v3/kv/lease/timetolive", { ID: big }).body).toEqual({ header: header(1), ID: big, TTL: "-1" });
    expect(t.keepalive({ ID: big }).messages).toEqual([{ result: { header: header(1), ID: big } }]);
    expect(t.lease("/v3/lease/timetolive", {}).body).toEqual({ header: header(1), TTL: "-1" });
    expect(t.lease("/v3/lease/timetolive", { ID: "1", keys: "yes" })).toMatchObject({
      status: 400,
      body: { error: "json: cannot unmarshal string into Go value of type bool", code: 3 },
    });
  });

  it("the list is soonest expiry first on the leader, empty without leases", () => {
    const t = leader();
    expect(t.lease("/v3/lease/leases", {}).body).toEqual({ header: header(1) });
    t.grant(300, "1");
    t.grant(60, "2");
    t.grant(120, "3");
    expect(t.lease("/v3/lease/leases", null).body).toEqual({ header: header(1), leases: [{ ID: "2" }, { ID: "3" }, { ID: "1" }] });
  });
});

describe("expiry is the leader's, and never early after a failover", () => {
  it("names each expired lease once, again after the retry interval if its revoke was lost, and wakes at the earliest", () => {
    const e = new LeaseExpiry();
    e.granted({ id: 1, ttl: 5 }, 0);
    e.granted({ id: 2, ttl: 2 }, 1_000);
    expect(e.nextWakeAt()).toBe(3_000);
    expect(e.due(2_999)).toEqual([]);
    expect(e.due(5_000)).toEqual([2, 1]);
    expect(e.due(5_001)).toEqual([]);
    expect(e.nextWakeAt()).toBe(8_000);
    e.revoked(2);
    expect(e.due(8_000, 3_000)).toEqual([1]);
    e.revoked(1);
    expect(e.nextWakeAt()).toBeNull();
  });

  it("a keepalive moves the wake-up; a new leader gives every lease its full TTL plus an election timeout", () => {
    const old = new LeaseExpiry();
    const lease = { id: 7, ttl: 10 };
    old.granted(lease, 0);
    old.renew(lease, 8_000);
    expect(old.nextWakeAt()).toBe(18_000);
    old.demote();
    expect(old.due(100_000)).toEqual([]);
    // The old leader renewed at 8 s; the new one is promoted at 17 s, before the lease would have run out.
    const next = new LeaseExpiry();
    next.promote([lease], 17_000, 1_000);
    expect(next.due(27_999)).toEqual([]);
    expect(next.remainingMs(7, 17_000)).toBe(11_000);
    expect(next.due(28_000)).toEqual([7]);
  });

  it("two replicas applying the same grants, puts and revokes hold the same leases and rows", () => {
    const run = () => {
      const t = leader();
      const a = t.grant(60);
      const b = t.grant(30, "5");
      const c = t.grant(10);
      t.put("x", { lease: a });
      t.put("y", { lease: c });
      t.put("x", { lease: b });
      t.lease("/v3/lease/revoke", { ID: b });
      return { leases: t.store.leases(), keys: t.keys(), revision: t.revision(), rows: t.store.rowCount() };
    };
    const first = run();
    expect(first.leases.map((l) => l.id)).toEqual([CHOSEN_LEASE_ID_BASE + 1, CHOSEN_LEASE_ID_BASE + 3]);
    expect(first.keys).toEqual(["y"]);
    expect(run()).toEqual(first);
  });
});

describe("minimum TTL from the election timeout (etcd: ceil((3 × ElectionTicks / 2) ticks))", () => {
  it("gives etcd's 2 s for its defaults and 1 s for this project's", () => {
    expect(minLeaseTtlSeconds(1000, 100)).toBe(2);
    expect(ETCD_DEFAULT_MIN_LEASE_TTL).toBe(2);
    expect(minLeaseTtlSeconds(150, 50)).toBe(1);
    expect(minLeaseTtlSeconds(5000, 500)).toBe(8);
    // Integer ticks, as etcd: 3 × 3 / 2 = 4 ticks of 70 ms.
    expect(minLeaseTtlSeconds(210, 70)).toBe(1);
    expect(minLeaseTtlSeconds(2100, 700)).toBe(3);
  });
});
