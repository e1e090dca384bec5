// Every error answer carries a JSON body (issue 19 item 5): the Worker's entry turns an
// error answer without one, or a failure outside the router, into `{"error", "message"}`.
import { expect, test } from "vitest";
import { withJsonErrors } from "../../src/coordinator/json-answers.ts";
import { coordinatorFetch } from "./kv-harness.ts";

const get = (method = "GET") => new Request("http://coordinator/x", { method });

async function through(make: () => Response | Promise<Response>, method = "GET") {
  const fetch = withJsonErrors<unknown, unknown>(() => make());
  const r = await fetch(get(method), {}, {});
  return { status: r.status, type: r.headers.get("Content-Type"), text: await r.text(), headers: r.headers };
}

test("an error answer without a body, with a text body, or a failure outside the router leaves as JSON", async () => {
  const bare = await through(() => new Response(null, { status: 503, headers: { "Retry-After": "1" } }));
  expect(bare.status).toBe(503);
  expect(JSON.parse(bare.text)).toMatchObject({ error: "unavailable" });
  expect(bare.headers.get("Retry-After"), "its other headers are kept").toBe("1");
  const text = await through(() => new Response("worker restarted", { status: 502 }));
  expect({ status: text.status, body: JSON.parse(text.text) }).toEqual({ status: 502, body: { error: "internal", message: "worker restarted" } });
  const thrown = await through(() => {
    throw new Error("boom");
  });
  expect({ status: thrown.status, body: JSON.parse(thrown.text) }).toEqual({ status: 500, body: { error: "internal", message: "internal error" } });
  // What already is JSON, a success, and a HEAD answer pass untouched.
  const json = await through(() => Response.json({ error: "conflict", message: "m" }, { status: 409 }));
  expect(JSON.parse(json.text)).toEqual({ error: "conflict", message: "m" });
  expect((await through(() => new Response(null, { status: 204 }))).text).toBe("");
  expect((await through(() => new Response(null, { status: 404 }), "HEAD")).text).toBe("");
});

test("the Worker's error answers are JSON", async () => {
  for (const [method, path, body] of [
    ["GET", "/nowhere"],
    ["PATCH", "/clusters/x"],
    ["GET", "/clusters/no-such-cluster-here"],
    ["POST", "/clusters/bad name!"],
    ["POST", "/clusters/x", "{not json"],
  ] as [string, string, string?][]) {
    const r = await coordinatorFetch(`http://coordinator${path}`, { method, ...(body ? { body, headers: { "Content-Type": "application/json" } } : {}) });
    expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
    expect(r.headers.get("Content-Type"), `${method} ${path}`).toContain("application/json");
    const answer = (await r.json()) as { error?: unknown; message?: unknown };
    expect(typeof answer.error, `${method} ${path}`).toBe("string");
    expect(typeof answer.message, `${method} ${path}`).toBe("string");
  }
});
