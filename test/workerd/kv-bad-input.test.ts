// Bad input on every key/value route: each one is answered with a 4xx JSON error
// ({"error", "message"}), never a 5xx, and nothing malformed gets as far as the log. Then a
// burst of bad requests, all at once, against data written before: the data is intact.
//
// Statuses (docs/api.md): 400 malformed JSON, wrong types, bad cluster/key names, bad ids, bad
// query parameters; 404 unknown cluster or server; 405 wrong method (with Allow); 413 key
// or value over the limit (key 256 UTF-8 bytes, value and CAS operand 64 KiB, body 256 KiB).
import { beforeEach, describe, expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { checkGet, coordinatorFetch, kvClient, kvEntries, storedData } from "./kv-harness.ts";

interface Raw {
  status: number;
  contentType: string | null;
  allow: string | null;
  body: any;
  text: string;
}

/** One request, raw: the body is sent exactly as given (a string) or as JSON. */
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Raw> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await coordinatorFetch(`http://coordinator${path}`, init);
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = undefined; // not JSON: expectError says so
  }
  return { status: res.status, contentType: res.headers.get("content-type"), allow: res.headers.get("allow"), body: parsed, text };
}

function expectError(r: Raw, status: number, code?: string, what = ""): void {
  const label = `${what} -> ${r.status} ${r.text.slice(0, 200)}`;
  expect(r.status, label).toBe(status);
  expect(r.contentType, label).toMatch(/^application\/json/);
  expect(typeof r.body?.error, label).toBe("string");
  expect(typeof r.body?.message, label).toBe("string");
  if (code !== undefined) expect(r.body.error, label).toBe(code);
}

/** The three routes that take a body, with a body that is valid for each. */
const WRITES = [
  { name: "put", method: "PUT", suffix: "", valid: { value: "v" } },
  { name: "append", method: "POST", suffix: "/append", valid: { value: "v" } },
  { name: "cas", method: "POST", suffix: "/cas", valid: { compare: "c", value: "v" } },
] as const;

/** All four routes, each with a valid body (GET has none). */
const ROUTES = [{ name: "get", method: "GET", suffix: "", valid: undefined }, ...WRITES] as const;

describe("bad input on the kv routes", () => {
  let h: Harness;
  let base: string;
  // A fresh cluster per test (the harness wipes it when the test ends).
  beforeEach(async () => {
    h = await Harness.create(3);
    base = `/clusters/${h.name}/kv`;
    await h.checkSingleLeader();
  });

  test("malformed JSON is 400 bad_json", async () => {
    for (const w of WRITES) {
      for (const body of ["", "   ", "{", "{not json", '{"value": "v"', '{"value": \'v\'}', "nul", "[1,", '{"value": "v"}}']) {
        expectError(await raw(w.method, `${base}/k${w.suffix}`, body), 400, "bad_json", `${w.name} ${JSON.stringify(body)}`);
      }
    }
  });

  test("wrong types are 400 bad_request", async () => {
    const common = ["null", "[]", "3", '"v"', "true", {}, { value: 5 }, { value: null }, { value: true }, { value: ["v"] }, { value: { s: "v" } }, { Value: "v" }];
    for (const w of WRITES) {
      const bodies: unknown[] = [...common];
      if (w.name === "cas") bodies.push({ value: "v" }, { compare: "c" }, { compare: 1, value: "v" }, { compare: "c", value: 2 }, { compare: null, value: "v" });
      for (const body of bodies) {
        expectError(await raw(w.method, `${base}/k${w.suffix}`, body), 400, "bad_request", `${w.name} ${JSON.stringify(body)}`);
      }
    }
  });

  test("oversize keys and values are 413 too_large; at the limit they are accepted", async () => {
    const longKeys = ["k".repeat(257), "é".repeat(129) /* 258 bytes */, "😀".repeat(65) /* 260 bytes */];
    for (const r of ROUTES) {
      for (const key of longKeys) {
        expectError(await raw(r.method, `${base}/${encodeURIComponent(key)}${r.suffix}`, r.valid), 413, "too_large", `${r.name} key ${key.length} chars`);
      }
    }
    const big = "x".repeat(64 * 1024 + 1);
    const bigWide = "€".repeat(21_846); // 65 538 bytes in 21 846 characters
    for (const value of [big, bigWide]) {
      expectError(await raw("PUT", `${base}/k`, { value }), 413, "too_large", "put value");
      expectError(await raw("POST", `${base}/k/append`, { value }), 413, "too_large", "append value");
      expectError(await raw("POST", `${base}/k/cas`, { compare: "c", value }), 413, "too_large", "cas value");
      expectError(await raw("POST", `${base}/k/cas`, { compare: value, value: "v" }), 413, "too_large", "cas compare");
    }
    // A body over 256 KiB is refused before it is parsed.
    expectError(await raw("PUT", `${base}/k`, { value: "x".repeat(300 * 1024) }), 413, "too_large", "body");
    expectError(await raw("POST", `${base}/k/append`, "x".repeat(300 * 1024)), 413, "too_large", "body, not even JSON");

    // Exactly at the limits: accepted and stored.
    const key = "é".repeat(128); // 256 bytes
    const value = "x".repeat(64 * 1024);
    expect((await raw("PUT", `${base}/${encodeURIComponent(key)}`, { value })).status).toBe(200);
    const read = await raw("GET", `${base}/${encodeURIComponent(key)}`);
    expect(read.status).toBe(200);
    expect(read.body.value === value).toBe(true);
  });

  test("bad Client-Id / Request-Id are 400", async () => {
    const bad: Array<Record<string, string>> = [
      { "Client-Id": "c" },
      { "Request-Id": "1" },
      { "Client-Id": "", "Request-Id": "1" },
      { "Client-Id": "c".repeat(65), "Request-Id": "1" },
      ...["", "-1", "1.5", "abc", "1e3", "0x10", "+1", "99999999999999999", "1 2"].map((id) => ({ "Client-Id": "c", "Request-Id": id })),
    ];
    for (const r of ROUTES) {
      for (const headers of bad) {
        expectError(await raw(r.method, `${base}/k${r.suffix}`, r.valid, headers), 400, "bad_request", `${r.name} ${JSON.stringify(headers)}`);
      }
    }
    // An id older than the client's last applied one is refused too (it cannot be answered).
    const ids = (id: number) => ({ "Client-Id": "ids-client", "Request-Id": String(id) });
    expect((await raw("PUT", `${base}/ids`, { value: "first" }, ids(10))).status).toBe(200);
    expectError(await raw("PUT", `${base}/ids`, { value: "older" }, ids(9)), 400, "stale_request", "stale id");
    expect((await raw("GET", `${base}/ids`)).body).toEqual({ found: true, value: "first" });
  });

  test("a wrong method is 405 with Allow", async () => {
    for (const method of ["PATCH", "POST", "OPTIONS"]) {
      const r = await raw(method, `${base}/k`, method === "POST" || method === "PATCH" ? { value: "v" } : undefined);
      expectError(r, 405, "method_not_allowed", `${method} /kv/k`);
      expect(r.allow).toBe("GET, PUT, DELETE, HEAD");
    }
    for (const method of ["PUT", "POST", "DELETE", "PATCH"]) {
      const r = await raw(method, `${base}`, method === "PUT" || method === "POST" || method === "PATCH" ? { value: "v" } : undefined);
      expectError(r, 405, "method_not_allowed", `${method} /kv`);
      expect(r.allow).toBe("GET, HEAD");
    }
    for (const suffix of ["/cas", "/append"]) {
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const r = await raw(method, `${base}/k${suffix}`, method === "PUT" || method === "PATCH" ? { value: "v" } : undefined);
        expectError(r, 405, "method_not_allowed", `${method} /kv/k${suffix}`);
        expect(r.allow).toBe("POST");
      }
    }
  });

  test("an unknown cluster is 404; a bad cluster name is 400", async () => {
    for (const r of ROUTES) {
      expectError(await raw(r.method, `/clusters/no-such-${h.name}/kv/k${r.suffix}`, r.valid), 404, "not_found", `${r.name} unknown cluster`);
      for (const name of ["bad.name", "a".repeat(65), "sp%20ace", "%ZZ"]) {
        expectError(await raw(r.method, `/clusters/${name}/kv/k${r.suffix}`, r.valid), 400, "bad_request", `${r.name} cluster ${name}`);
      }
    }
  });

  test("a bad ?server is 400, a server the cluster lacks 404; a bad ?timeoutMs is 400", async () => {
    for (const r of ROUTES) {
      for (const server of ["", "abc", "-1", "1.5", "1e0", "0x1", " 1"]) {
        expectError(await raw(r.method, `${base}/k${r.suffix}?server=${encodeURIComponent(server)}`, r.valid), 400, "bad_request", `${r.name} server=${server}`);
      }
      for (const server of ["3", "9", "999999999"]) {
        expectError(await raw(r.method, `${base}/k${r.suffix}?server=${server}`, r.valid), 404, "not_found", `${r.name} server=${server}`);
      }
      for (const t of ["", "0", "-5", "1.5", "abc", "60001", "999999"]) {
        expectError(await raw(r.method, `${base}/k${r.suffix}?timeoutMs=${t}`, r.valid), 400, "bad_request", `${r.name} timeoutMs=${t}`);
      }
    }
  });

  test("bad key names: malformed percent-encoding is 400, an empty key has no route (404)", async () => {
    for (const r of ROUTES) {
      for (const key of ["%ZZ", "%E0%A4%A", "%", "a%2"]) {
        expectError(await raw(r.method, `${base}/${key}${r.suffix}`, r.valid), 400, "bad_request", `${r.name} key ${key}`);
      }
      expectError(await raw(r.method, `${base}/${r.suffix}`, r.valid), 404, "not_found", `${r.name} empty key`);
    }
  });

  test("odd but valid keys and values round-trip exactly", async () => {
    const c = kvClient(h);
    for (const key of ["a b", "a/b", "100%", "ключ", "😀", "?x=1#y", "%ZZ"]) {
      await c.put(key, `value of ${key}`);
      await checkGet(c, key, `value of ${key}`);
    }
    // "/kv/%25ZZ" is the key "%ZZ"; "/kv/%ZZ" is refused rather than taken as the same key.
    expect((await raw("GET", `${base}/%25ZZ`)).body).toEqual({ found: true, value: "value of %ZZ" });
    expect((await raw("GET", `${base}/a%2Fb`)).body).toEqual({ found: true, value: "value of a/b" });
  });

  // A lone surrogate is valid JSON and a valid JS string, but has no UTF-8 form, and keys and
  // values are stored as UTF-8 (etcd's bytes): refused at the door with a 400 that says why,
  // and nothing reaches the log. (It used to be stored losslessly as a JSON literal.)
  test("a value or compare holding a lone surrogate is refused with 400, before the log", async () => {
    const bodies: Array<[string, string, unknown]> = [
      ["PUT", "", { value: "a\ud800b" }],
      ["POST", "/append", { value: "\udc00" }],
      ["POST", "/cas", { compare: "x\ud800", value: "y" }],
      ["POST", "/cas", { compare: "x", value: "\udfff" }],
    ];
    for (const [method, suffix, body] of bodies) {
      const r = await raw(method, `${base}/surrogate${suffix}`, JSON.stringify(body));
      expect(r.status, `${method} ${suffix} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body).toMatchObject({ error: "bad_request" });
      expect(r.body.message).toMatch(/lone surrogate/);
    }
    const { leader } = await h.checkSingleLeader();
    const leaked = kvEntries(await h.committed(leader)).filter((e) => JSON.stringify(e.command).includes("surrogate"));
    expect(leaked, "refused requests that reached the log").toEqual([]);
    expect((await raw("GET", `${base}/surrogate`)).body).toEqual({ found: false, value: null });
  });

  test("a burst of bad requests leaves the data intact", async () => {
    const c = kvClient(h, { clientId: "burst-client", firstRequestId: 100 });
    const data: Record<string, string> = { a: "alpha", b: "beta", c: "gamma" };
    for (const [k, v] of Object.entries(data)) await c.put(k, v);
    await c.append("c", "!");
    data.c = "gamma!";
    const lastId = c.lastWrite!.requestId;

    // Every kind of bad request, on the keys that hold data, all at once. Those that carry a
    // string carry "BAD", so the log can be searched for them afterwards.
    const bad: Array<{ r: () => Promise<Raw>; status: number }> = [];
    const add = (status: number, r: () => Promise<Raw>) => bad.push({ r, status });
    for (const k of Object.keys(data)) {
      for (const w of WRITES) {
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}`, '{"value": "BAD"'));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}`, { value: 1, compare: "BAD" }));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}`, "[\"BAD\"]"));
        add(413, () => raw(w.method, `${base}/${k}${w.suffix}`, { compare: "BAD", value: "BAD".repeat(30_000) }));
        add(413, () => raw(w.method, `${base}/${k}${w.suffix}`, { value: "BAD".repeat(100_000) }));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}`, { compare: "BAD", value: "BAD" }, { "Client-Id": "burst-client" }));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}`, { compare: "BAD", value: "BAD" }, { "Client-Id": "burst-client", "Request-Id": "-1" }));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}?server=x`, { compare: "BAD", value: "BAD" }));
        add(404, () => raw(w.method, `${base}/${k}${w.suffix}?server=7`, { compare: "BAD", value: "BAD" }));
        add(400, () => raw(w.method, `${base}/${k}${w.suffix}?timeoutMs=0`, { compare: "BAD", value: "BAD" }));
        add(404, () => raw(w.method, `/clusters/gone-${h.name}/kv/${k}${w.suffix}`, { compare: "BAD", value: "BAD" }));
        add(400, () => raw(w.method, `/clusters/b@d/kv/${k}${w.suffix}`, { compare: "BAD", value: "BAD" }));
        add(400, () => raw(w.method, `${base}/${k}%ZZ${w.suffix}`, { compare: "BAD", value: "BAD" }));
      }
      add(405, () => raw("POST", `${base}/${k}`, { value: "BAD" }));
      add(405, () => raw("PATCH", `${base}/${k}`, { value: "BAD" }));
      add(405, () => raw("PUT", `${base}/${k}/append`, { value: "BAD" }));
      add(405, () => raw("GET", `${base}/${k}/cas`));
    }
    const answers = await Promise.all(bad.map(async (b) => ({ want: b.status, got: await b.r() })));
    for (const { want, got } of answers) expectError(got, want);

    // The data is as it was, on every server, and the client carries on where it was.
    for (const [k, v] of Object.entries(data)) await checkGet(c, k, v);
    for (let i = 0; i < 3; i++) {
      const stored = await storedData(h, i);
      for (const [k, v] of Object.entries(data)) expect(stored[k], `server ${i} key ${k}`).toBe(v);
    }
    const { leader } = await h.checkSingleLeader();
    const leaked = kvEntries(await h.committed(leader)).filter((e) => JSON.stringify(e.command).includes("BAD"));
    expect(leaked, "bad requests that reached the log").toEqual([]);
    expect(c.lastWrite!.requestId).toBe(lastId);
    expect(await c.append("c", "?")).toEqual({ found: true, prev: "gamma!" });
    await checkGet(c, "c", "gamma!?");
  });
});
