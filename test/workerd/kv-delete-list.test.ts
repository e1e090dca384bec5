// DELETE /clusters/{c}/kv/{key} and GET /clusters/{c}/kv?prefix=&after=&limit= (API.md) on a
// real 3-server cluster: a delete is one revision and exactly-once under its ids, a listing is
// one page at one revision read by ReadIndex, and bad query values are 400s.
import { describe, expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { answered, idSource } from "./answered.ts";
import { kvClient } from "./kv-harness.ts";

describe("delete and list on the /kv routes", () => {
  test("delete answers what it deleted, once; list pages through a prefix at one revision", async () => {
    const h = await Harness.create(3);
    const base = `/clusters/${h.name}/kv`;
    const w = idSource();
    for (const k of ["a/1", "a/2", "a/3", "a/4", "b/1"]) expect((await answered("PUT", `${base}/${encodeURIComponent(k)}`, { value: `v-${k}` }, w())).status).toBe(200);

    // Delete with exactly-once ids; the retry answers the first result, not "not found".
    const ids = { "Client-Id": "deleter", "Request-Id": "1" };
    const first = await answered("DELETE", `${base}/${encodeURIComponent("a/2")}`, undefined, ids);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ found: true, prev: "v-a/2" });
    const retry = await answered("DELETE", `${base}/${encodeURIComponent("a/2")}`, undefined, ids);
    expect(retry.body).toEqual({ found: true, prev: "v-a/2" });
    expect(retry.headers.get("Raft-Index")).toBe(first.headers.get("Raft-Index"));
    // A new delete of the same key finds nothing, and is no revision.
    const before = (await answered("GET", `${base}?prefix=a`)).body.revision;
    expect((await answered("DELETE", `${base}/${encodeURIComponent("a/2")}`, undefined, w())).body).toEqual({ found: false, prev: null });
    expect((await answered("GET", `${base}/${encodeURIComponent("a/2")}`)).body).toMatchObject({ found: false, value: null });

    // The listing: prefix, byte order, one revision (the delete was 7, after five puts from 2).
    const all = await answered("GET", `${base}?prefix=a`);
    expect(all.status).toBe(200);
    expect(all.body.revision).toBe(before);
    expect(all.body.revision).toBe(7);
    expect(all.body.more).toBe(false);
    expect(all.body.keys.map((k: { key: string }) => k.key)).toEqual(["a/1", "a/3", "a/4"]);
    expect(all.body.keys[0]).toEqual({ key: "a/1", value: "v-a/1", createRevision: 2, modRevision: 2, version: 1 });
    const page1 = await answered("GET", `${base}?prefix=a&limit=2`);
    expect(page1.body.keys.map((k: { key: string }) => k.key)).toEqual(["a/1", "a/3"]);
    expect(page1.body.more).toBe(true);
    const page2 = await answered("GET", `${base}?prefix=a&limit=2&after=${encodeURIComponent("a/3")}`);
    expect(page2.body.keys.map((k: { key: string }) => k.key)).toEqual(["a/4"]);
    expect(page2.body.more).toBe(false);
    // No prefix: every key.
    expect((await answered("GET", base)).body.keys.map((k: { key: string }) => k.key)).toEqual(["a/1", "a/3", "a/4", "b/1"]);

    // The typed client's delete and listAll over the same routes.
    const client = kvClient(h);
    expect(await client.delete("b/1")).toMatchObject({ found: true, prev: "v-b/1" });
    const listed: string[] = [];
    for await (const k of client.listAll({ pageSize: 1 })) listed.push(k.key);
    expect(listed).toEqual(["a/1", "a/3", "a/4"]);

    // Bad values are 400s; the limit's bounds are the API's.
    for (const q of ["limit=0", "limit=1001", "limit=-1", "limit=1e3", "limit=", "limit=x", `prefix=${"p".repeat(300)}`, "consistency=log"]) {
      const r = await answered("GET", `${base}?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe("bad_request");
    }
    expect((await answered("GET", `${base}?limit=1000`)).status).toBe(200);
    expect((await answered("GET", `/clusters/nope-${h.name}/kv`)).status).toBe(404);
    expect((await answered("DELETE", `/clusters/nope-${h.name}/kv/x`)).status).toBe(404);
    expect((await answered("DELETE", `${base}/x`, undefined, { "Client-Id": "only" })).status).toBe(400);
  });
});
