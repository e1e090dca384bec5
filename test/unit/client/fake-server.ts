// An in-memory stand-in for the coordinator's kv routes, built from the real pure pieces
// (parseKvRequest, parseSessionHeaders, makeKvCommand, KvStateMachine) and a fault
// injector: it shows how the routes are meant to be wired, and lets the client's retries
// be tested against real exactly-once semantics without a cluster.

import { makeKvCommand } from "../../../src/kv/command.ts";
import { parseKvRequest, parseSessionHeaders } from "../../../src/kv/request.ts";
import { KvStateMachine } from "../../../src/kv/state-machine.ts";

export type Fault = "none" | "unavailable" | "lost-answer" | "timeout-after-apply" | "delay";

export interface FakeServerOptions {
  /** Chooses the fault of each request (default: none). */
  readonly fault?: () => Fault;
  /** Clock for proposedAt (default Date.now). */
  readonly now?: () => number;
}

export function fakeKvServer(options: FakeServerOptions = {}) {
  const machine = new KvStateMachine();
  const log: unknown[] = [];
  const fault = options.fault ?? (() => "none");
  const now = options.now ?? (() => Date.now());
  const reply = (status: number, body: unknown): Response =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    await new Promise((r) => setTimeout(r, Math.random() * 2)); // let clients interleave
    const url = new URL(input);
    const match = /^\/clusters\/([^/]+)\/kv\/([^/]+)(?:\/(cas|append))?$/.exec(url.pathname);
    if (match === null) return reply(404, { error: "not_found", message: url.pathname });
    const method = init.method ?? "GET";
    const op = match[3] === "cas" ? "cas" : match[3] === "append" ? "append" : method === "PUT" ? "put" : "get";
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    const request = parseKvRequest(op, decodeURIComponent(match[2]!), body);
    if (!request.ok) return reply(request.status, { error: request.error, message: request.message });
    const headers = new Headers(init.headers);
    const session = parseSessionHeaders(headers.get("client-id"), headers.get("request-id"));
    if (!session.ok) return reply(session.status, { error: session.error, message: session.message });

    const f = fault();
    if (f === "unavailable") return reply(503, { error: "unavailable", message: "no leader" });
    const command = makeKvCommand(request.operation, now(), session.session);
    log.push(command); // "committed"
    const outcome = machine.apply(JSON.parse(JSON.stringify(command)), log.length); // its index in the "log"
    if (f === "lost-answer") throw new TypeError("fetch failed: connection reset");
    if (f === "timeout-after-apply") return reply(504, { error: "timeout", message: "outcome unknown" });
    if (f === "delay") await new Promise((r) => setTimeout(r, 5));
    switch (outcome.status) {
      case "applied":
      case "duplicate":
        return reply(200, outcome.result);
      case "refused":
        return reply(413, { error: "too_large", message: outcome.refusal.message });
      case "stale":
        // As the coordinator answers it (kv-forward.ts): the session's last id, so a client can move past it.
        return reply(400, { error: "stale_request", message: `Request-Id older than ${outcome.lastRequestId}`, lastRequestId: outcome.lastRequestId });
      case "forgotten":
        return reply(400, { error: "result_forgotten", message: `request ${outcome.requestId} was applied; its result is forgotten` });
      case "ignored":
        return reply(500, { error: "internal", message: outcome.message });
    }
  };
  return { fetch, machine, log };
}
