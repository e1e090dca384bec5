// EtcdClient against etcd 3.4.23's own recorded answers (test/etcd/fixtures/seed-*.jsonl and
// the kv requests of fixtures/lease/lease-*.jsonl):
// for every recorded request the client can express (canonical gateway JSON), the typed
// request it is written as must be sent as exactly the recorded body, with ids on writes
// only; and every recorded answer must decode to typed values that, written back in the
// gateway's encoding, are etcd's answer again, or to an EtcdError with etcd's status, gRPC
// code and message.
import { expect, test } from "vitest";
import { EtcdClient, EtcdError } from "../../../src/client/index.ts";
import { readFixtures } from "../../etcd/read-fixtures.ts";
import { readLeaseFixtures } from "../../etcd/read-fixtures-lease-watch.ts";
import { fakeFetch, json } from "./fake-fetch.ts";
import { gatewayAnswer, typedRequest, type Route } from "./gateway-json.ts";

// The kv sequences, and the kv requests of the lease sequences (their keys carry etcd's lease ids, past 2^53).
const KV_ROUTES = new Set(["/v3/kv/range", "/v3/kv/put", "/v3/kv/deleterange", "/v3/kv/txn", "/v3/kv/compaction"]);
const fixtures = [...readFixtures(), ...readLeaseFixtures()].map((f) => ({ name: f.name, steps: f.steps.filter((s) => KV_ROUTES.has(s.path)) }));
const WRITES = new Set<Route>(["put", "deleterange", "txn"]);

test("every canonical recorded request is sent as recorded, and every answer decodes to etcd's values", async () => {
  let sent = 0;
  let answers = 0;
  let errors = 0;
  let leases = 0; // answers holding a lease id past 2^53, kept exact
  for (const fixture of fixtures) {
    for (const [i, step] of fixture.steps.entries()) {
      const where = `${fixture.name} step ${i + 1} ${step.path}`;
      const route = step.path.replace("/v3/kv/", "") as Route;
      const typed = typedRequest(route, step.request);
      if (typed === null) continue; // not expressible with the client's types (numbers for int64, unknown fields, ...)
      const f = fakeFetch([json(step.status, step.response)]);
      const etcd = new EtcdClient({ baseUrl: "http://etcd.test", cluster: "c", fetch: f.fetch, clientId: "fx", firstRequestId: 1 });
      const call = (etcd as unknown as Record<Route | "deleteRange" | "compact", (r: unknown) => Promise<unknown>>)[route === "deleterange" ? "deleteRange" : route === "compaction" ? "compact" : route];
      const outcome = await call.call(etcd, typed).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ error }),
      );
      const request = f.requests[0]!;
      expect(request.url, where).toBe(`http://etcd.test/clusters/c${step.path}`);
      expect(request.method, where).toBe("POST");
      expect(request.body, where).toEqual(step.request);
      expect(request.headers["request-id"], where).toBe(WRITES.has(route) ? "1" : undefined);
      sent++;
      if (step.status === 200) {
        expect("answer" in outcome, `${where}: ${String((outcome as { error?: unknown }).error)}`).toBe(true);
        expect(gatewayAnswer(route, (outcome as { answer: unknown }).answer), where).toEqual(step.response);
        answers++;
        if (/"lease":"\d{17,}"/.test(JSON.stringify(step.response))) leases++;
      } else {
        const error = (outcome as { error?: unknown }).error;
        expect(error, where).toBeInstanceOf(EtcdError);
        const r = step.response as { error: string; message: string; code: number };
        expect(error, where).toMatchObject({ status: step.status, grpcCode: r.code, code: r.error, message: r.message, maybeApplied: false, attempts: 1 });
        errors++;
      }
    }
  }
  // Most of etcd's 2,400 recorded requests are canonical; the rest test etcd's parser, not the client.
  expect(sent).toBeGreaterThan(1500);
  expect(answers).toBeGreaterThan(1000);
  expect(errors).toBeGreaterThan(100);
  expect(leases).toBeGreaterThan(10);
  console.log(`etcd fixtures through EtcdClient: ${sent} requests sent as recorded, ${answers} answers decoded, ${errors} errors typed, ${leases} answers with lease ids`);
});
