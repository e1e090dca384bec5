// The typed EtcdClient (src/client) against the real v3 routes of a 3-server cluster: what its
// unit tests check against fakes and etcd's recorded answers, end to end here.
import { describe, expect, test } from "vitest";
import { EtcdClient, EtcdError, GrpcCode, cmp, op } from "../../src/client/index.ts";
import { Harness } from "./harness.ts";
import { coordinatorFetch } from "./kv-harness.ts";

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe("EtcdClient against the v3 routes", () => {
  test("put, range, txn, deleteRange and compact, and etcd's errors typed", async () => {
    const h = await Harness.create(3);
    const etcd = new EtcdClient({ baseUrl: "http://coordinator", cluster: h.name, fetch: coordinatorFetch, deadlineMs: 5_000, backoff: { initialMs: 10, maxMs: 200 } });

    const put = await etcd.put({ key: "cfg/a", value: "1" });
    expect(put.header.revision).toBe(2);
    await etcd.put({ key: "cfg/b", value: "2" });
    const prev = await etcd.put({ key: "cfg/a", value: "3", prevKv: true });
    expect(text(prev.prevKv?.value)).toBe("1");

    const all = await etcd.range({ key: "cfg/", rangeEnd: "cfg0" });
    expect(all.count).toBe(2);
    expect(all.kvs.map((kv) => text(kv.key))).toEqual(["cfg/a", "cfg/b"]);
    expect(all.kvs[0]).toMatchObject({ createRevision: 2, modRevision: 4, version: 2 });
    const serializable = await etcd.range({ key: "cfg/a", serializable: true });
    expect(text(serializable.kvs[0]?.value)).toBe("3");

    // A lock as a txn: taken once, refused the second time.
    const lock = { compare: [cmp.create("lock", "=", 0)], success: [op.put("lock", "me")], failure: [op.range("lock")] };
    const taken = await etcd.txn(lock);
    expect(taken.succeeded).toBe(true);
    const refused = await etcd.txn(lock);
    expect(refused.succeeded).toBe(false);
    expect(refused.header.revision).toBe(taken.header.revision);

    const deleted = await etcd.deleteRange({ key: "cfg/", rangeEnd: "cfg0", prevKv: true });
    expect(deleted.deleted).toBe(2);

    const revision = deleted.header.revision;
    await etcd.compact({ revision });
    const compacted = await etcd.range({ key: "cfg/a", revision: revision - 1 }).catch((e: unknown) => e);
    expect(compacted).toBeInstanceOf(EtcdError);
    expect((compacted as EtcdError).isCompacted).toBe(true);
    expect((compacted as EtcdError).grpcCode).toBe(GrpcCode.OUT_OF_RANGE);
    const future = await etcd.range({ key: "cfg/a", revision: revision + 10 }).catch((e: unknown) => e);
    expect((future as EtcdError).isFutureRevision).toBe(true);

    // An unknown cluster: the API's plain 404, no gRPC code.
    const gone = new EtcdClient({ baseUrl: "http://coordinator", cluster: `nope-${h.name}`, fetch: coordinatorFetch, deadlineMs: 2_000 });
    const missing = await gone.range("x").catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, grpcCode: null });
  });
});
