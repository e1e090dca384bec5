// Data store unit tests of the reference's Part 4 (eliben/raft part4kv datastore_test.go):
// get/put answer the previous value; CAS mismatch is a no-op and never creates a key;
// CAS flips interleaved in any order keep every key consistent.
import { describe, expect, test } from "vitest";
import { freshStore } from "../../lin/kv-store.ts";
import { mulberry32 } from "../../lin/random.ts";

describe("KvStore (the kv operations on etcd's store)", () => {
  test("GetPutPrevValue: first put finds nothing, overwrite answers the previous value", () => {
    const ds = freshStore().kv;
    expect(ds.get("foo")).toEqual({ found: false, value: null });
    expect(ds.put("foo", "bar")).toEqual({ found: false, prev: null });
    expect(ds.get("foo")).toEqual({ found: true, value: "bar" });
    expect(ds.put("foo", "baz")).toEqual({ found: true, prev: "bar" });
    expect(ds.get("foo")).toEqual({ found: true, value: "baz" });
    expect(ds.put("foo", "")).toEqual({ found: true, prev: "baz" });
    expect(ds.get("foo")).toEqual({ found: true, value: "" }); // empty value is still found
    expect(ds.get("bar")).toEqual({ found: false, value: null });
  });

  test("CASBasic: swaps on match, mismatch is a no-op, a missing key is not created", () => {
    const { kv: ds, mvcc } = freshStore();
    expect(ds.cas("foo", "bar", "baz")).toEqual({ found: false, prev: null, swapped: false });
    expect(ds.get("foo")).toEqual({ found: false, value: null });
    expect(mvcc.rowCount()).toBe(0);

    ds.put("foo", "bar");
    expect(ds.cas("foo", "nope", "baz")).toEqual({ found: true, prev: "bar", swapped: false });
    expect(ds.get("foo")).toEqual({ found: true, value: "bar" });
    expect(ds.cas("foo", "bar", "baz")).toEqual({ found: true, prev: "bar", swapped: true });
    expect(ds.get("foo")).toEqual({ found: true, value: "baz" });
  });

  test("append creates a missing key with the value, else concatenates", () => {
    const ds = freshStore().kv;
    expect(ds.append("k", "bar")).toEqual({ found: false, prev: null });
    expect(ds.append("k", "baz")).toEqual({ found: true, prev: "bar" });
    expect(ds.get("k")).toEqual({ found: true, value: "barbaz" });
  });

  test("execute dispatches every operation with the same results", () => {
    const ds = freshStore().kv;
    expect(ds.execute({ op: "put", key: "a", value: "1" })).toEqual({ found: false, prev: null });
    expect(ds.execute({ op: "cas", key: "a", compare: "1", value: "2" })).toEqual({ found: true, prev: "1", swapped: true });
    expect(ds.execute({ op: "append", key: "a", value: "3" })).toEqual({ found: true, prev: "2" });
    expect(ds.execute({ op: "get", key: "a" })).toEqual({ found: true, value: "23" });
  });

  test("CASConcurrent: flips of two keys, interleaved at random, all swap and end where they began", () => {
    // Two "goroutines" per key (bar→baz, baz→bar) can only succeed alternately; one flipper
    // per key doing both steps in order always succeeds whatever the interleaving of keys.
    for (let seed = 1; seed <= 20; seed++) {
      const rand = mulberry32(seed);
      const ds = freshStore().kv;
      ds.put("foo", "bar");
      ds.put("sun", "beam");
      const flippers = [
        { key: "foo", steps: ["bar", "baz"], left: 2000, swaps: 0 },
        { key: "sun", steps: ["beam", "moon"], left: 2000, swaps: 0 },
      ];
      while (flippers.some((f) => f.left > 0)) {
        const live = flippers.filter((f) => f.left > 0);
        const f = live[Math.floor(rand() * live.length)]!;
        const from = f.steps[f.left % 2 === 0 ? 0 : 1]!;
        const to = f.steps[f.left % 2 === 0 ? 1 : 0]!;
        if (ds.cas(f.key, from, to).swapped) f.swaps++;
        f.left--;
      }
      expect(flippers.map((f) => f.swaps)).toEqual([2000, 2000]);
      expect(ds.get("foo").value).toBe("bar");
      expect(ds.get("sun").value).toBe("beam");
    }
  });

  test("CASConcurrent: 20 CAS bar→bomba racing a put of bar end at bomba unless the put is last", () => {
    for (let putAt = 0; putAt <= 20; putAt++) {
      const ds = freshStore().kv;
      ds.put("foo", "mexico");
      let swaps = 0;
      for (let i = 0; i <= 20; i++) {
        if (i === putAt) ds.put("foo", "bar");
        else if (ds.cas("foo", "bar", "bomba").swapped) swaps++;
      }
      expect(ds.get("foo").value).toBe(putAt < 20 ? "bomba" : "bar");
      expect(swaps).toBe(putAt < 20 ? 1 : 0);
    }
  });
});
