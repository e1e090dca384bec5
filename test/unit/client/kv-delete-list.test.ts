// The /kv face's delete and list (API.md, "Key/value service"): delete is a write with
// exactly-once ids like put; list encodes its query so that any key survives the trip
// (slashes, spaces, "&", "+", unicode), and listAll pages with `after`.
import { describe, expect, test } from "vitest";
import { KvClient, type KvClientOptions, type ListedKey } from "../../../src/client/index.ts";
import { KvError } from "../../../src/client/errors.ts";
import { fakeClock, fakeFetch, json, type Recorded, type Step } from "./fake-fetch.ts";

function setup(script: Step[], options: Partial<KvClientOptions> = {}) {
  const f = fakeFetch(script);
  const c = fakeClock();
  const client = new KvClient({ baseUrl: "http://kv.test", cluster: "c1", fetch: f.fetch, clock: c.clock, random: () => 1, deadlineMs: 1_000, clientId: "me", firstRequestId: 3, ...options });
  return { client, requests: f.requests, time: c.state };
}

const listed = (key: string, n = 1): ListedKey => ({ key, value: `v-${key}`, createRevision: n, modRevision: n + 1, version: 2 });
const query = (r: Recorded) => Object.fromEntries(new URL(r.url).searchParams.entries());

describe("delete", () => {
  test("DELETE /kv/{key} with the write's ids, no body; the answer is {found, prev}", async () => {
    const { client, requests } = setup([json(200, { found: true, prev: "v" }), json(200, { found: false, prev: null })]);
    expect(await client.delete("a/b c")).toEqual({ found: true, prev: "v" });
    expect(await client.delete("ключ")).toEqual({ found: false, prev: null });
    expect(requests.map((r) => [r.method, r.url, r.body, r.headers["client-id"], r.headers["request-id"], r.headers["content-type"]])).toEqual([
      ["DELETE", "http://kv.test/clusters/c1/kv/a%2Fb%20c", undefined, "me", "3", undefined],
      ["DELETE", "http://kv.test/clusters/c1/kv/%D0%BA%D0%BB%D1%8E%D1%87", undefined, "me", "4", undefined],
    ]);
  });

  test("a 504 and a lost connection are retried with the same ids; it queues behind the client's other writes", async () => {
    const { client, requests } = setup([
      json(200, { found: false, prev: null }),
      json(504, { error: "timeout", message: "unknown" }),
      new TypeError("fetch failed"),
      json(200, { found: true, prev: "v" }),
    ]);
    const [put, del] = await Promise.all([client.put("k", "v"), client.delete("k")]);
    expect(put).toEqual({ found: false, prev: null });
    expect(del).toEqual({ found: true, prev: "v" });
    expect(requests.map((r) => `${r.method} ${r.headers["request-id"]}`)).toEqual(["PUT 3", "DELETE 4", "DELETE 4", "DELETE 4"]);
  });

  test("an answer of the wrong shape is a bad_response; a 404 is thrown at once", async () => {
    const { client } = setup([json(200, { deleted: 1 }), json(404, { error: "not_found", message: "unknown cluster" })]);
    await expect(client.delete("k")).rejects.toMatchObject({ code: "bad_response", maybeApplied: true });
    await expect(client.delete("k")).rejects.toMatchObject({ status: 404, code: "not_found", maybeApplied: false });
  });
});

describe("list", () => {
  test("GET /kv with prefix, after and limit encoded so the server reads them back exactly", async () => {
    const answer = { keys: [listed("dir/a b"), listed("dir/ключ")], more: true, revision: 9 };
    const { client, requests } = setup([json(200, answer), json(200, { keys: [], more: false, revision: 9 }), json(200, answer)]);
    expect(await client.list({ prefix: "dir/", after: "dir/x y&z=1+2", limit: 2 })).toEqual(answer);
    await client.list({ prefix: "日本/ é" });
    await client.list();
    expect(requests.map((r) => [r.method, r.url, r.headers["client-id"]])).toEqual([
      ["GET", "http://kv.test/clusters/c1/kv?prefix=dir%2F&after=dir%2Fx%20y%26z%3D1%2B2&limit=2", undefined],
      ["GET", "http://kv.test/clusters/c1/kv?prefix=%E6%97%A5%E6%9C%AC%2F%20%C3%A9", undefined],
      ["GET", "http://kv.test/clusters/c1/kv", undefined],
    ]);
    // What the coordinator will read back with URL.searchParams.
    expect(query(requests[0]!)).toEqual({ prefix: "dir/", after: "dir/x y&z=1+2", limit: "2" });
    expect(query(requests[1]!)).toEqual({ prefix: "日本/ é" });
  });

  test("the pin goes after the query; an empty prefix is no prefix", async () => {
    const { client, requests } = setup([json(200, { keys: [], more: false, revision: 1 })], { server: 2 });
    await client.list({ prefix: "", limit: 5 });
    expect(requests[0]!.url).toBe("http://kv.test/clusters/c1/kv?limit=5&server=2");
  });

  test("a bad limit is refused before any request; a malformed answer is a bad_response", async () => {
    const { client, requests } = setup([json(200, { keys: [{ key: "a", value: "v", createRevision: "2", modRevision: 2, version: 1 }], more: false, revision: 2 })]);
    await expect(client.list({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(client.list({ limit: 1.5 })).rejects.toThrow(RangeError);
    expect(requests).toHaveLength(0);
    const error = await client.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KvError);
    expect(error).toMatchObject({ code: "bad_response" });
    expect((error as KvError).message).toContain("keys[0]");
  });

  test("a 503 is retried (a read: no ids)", async () => {
    const { client, requests } = setup([json(503, { error: "unavailable", message: "no leader" }), json(200, { keys: [], more: false, revision: 4 })]);
    expect(await client.list({ prefix: "p" })).toEqual({ keys: [], more: false, revision: 4 });
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.headers["request-id"] === undefined)).toBe(true);
  });
});

describe("listAll", () => {
  test("pages with after = the last key of each page until more is false", async () => {
    const { client, requests } = setup([
      json(200, { keys: [listed("p/1"), listed("p/2")], more: true, revision: 5 }),
      json(200, { keys: [listed("p/3"), listed("p/4 é")], more: true, revision: 6 }), // a write between pages: its own revision
      json(200, { keys: [listed("p/5")], more: false, revision: 6 }),
    ]);
    const keys: string[] = [];
    for await (const k of client.listAll({ prefix: "p/", pageSize: 2 })) keys.push(k.key);
    expect(keys).toEqual(["p/1", "p/2", "p/3", "p/4 é", "p/5"]);
    expect(requests.map(query)).toEqual([
      { prefix: "p/", limit: "2" },
      { prefix: "p/", after: "p/2", limit: "2" },
      { prefix: "p/", after: "p/4 é", limit: "2" },
    ]);
  });

  test("stopping early sends no more requests; a page with more and no keys is an error, not a loop", async () => {
    const early = setup([json(200, { keys: [listed("a"), listed("b")], more: true, revision: 2 })]);
    for await (const k of early.client.listAll()) if (k.key === "a") break;
    expect(early.requests).toHaveLength(1);
    expect(early.requests[0]!.url).toBe("http://kv.test/clusters/c1/kv");

    const empty = setup([json(200, { keys: [], more: true, revision: 2 })]);
    const iterate = async () => {
      for await (const _ of empty.client.listAll({ pageSize: 10 })) void _;
    };
    await expect(iterate()).rejects.toMatchObject({ code: "bad_response" });
    await expect(setup([]).client.listAll({ pageSize: 0 }).next()).rejects.toThrow(RangeError);
  });
});

describe("get", () => {
  test("a get answer may carry the key's modRevision; one that is not a revision is a bad_response", async () => {
    const { client } = setup([json(200, { found: true, value: "v", modRevision: 12 }), json(200, { found: true, value: "v", modRevision: "12" })]);
    expect(await client.get("k")).toEqual({ found: true, value: "v", modRevision: 12 });
    await expect(client.get("k")).rejects.toMatchObject({ code: "bad_response" });
  });
});
