// Helpers for the membership tests (issue 12, API.md "Membership (admin)"): the routes, the
// cluster view with its configuration (voters, learners), and the few waits the scenarios
// share. Everything goes through the coordinator's HTTP routes (kv-harness.ts's in-process
// `coordinatorFetch`), never straight at server objects: after a membership change the ids
// are no longer 0..n-1, and the routes are what the API promises.
//
// A membership call may legitimately answer 503 (no leader) or 504 (not committed in time:
// the outcome is unknown). The `ensure...` helpers below resolve those by reading the status
// and, where the change did not happen, asking again; every such retry is printed and
// counted (issue6-harness.ts's `retried`), so a run that only passes by retrying says so,
// and fails past the bound its file states (`retryBudget`).
import { expect, onTestFinished } from "vitest";
import type { RaftServer } from "../../src/server/raft-server.ts";
import type { Harness } from "./harness.ts";
import { retried } from "./issue6-harness.ts";
import { coordinatorFetch, eventually, type Answer } from "./kv-harness.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The ServerStatus fields these tests read (API.md). */
export interface MemberStatus {
  readonly id: number;
  readonly state: "Follower" | "Candidate" | "Leader" | "Dead";
  readonly term: number;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly logLength: number;
  readonly connected: boolean;
  readonly role: "voter" | "learner";
  readonly locationHint: string | null;
  /** The configuration this server holds (the latest in its log) and its entry's index; null while down. */
  readonly membership: { readonly voters: number[]; readonly learners: number[] } | null;
  readonly membershipIndex: number | null;
}

/** GET /clusters/{c}: the configuration and its members' status. */
export interface MemberView {
  readonly cluster: string;
  readonly size: number;
  readonly leader: number | null;
  readonly voters: number[];
  readonly learners: number[];
  readonly servers: MemberStatus[];
  /** Only in the answer of POST /clusters/{c}/members. */
  readonly added?: number;
  /** An error answer's fields instead. */
  readonly error?: string;
  readonly message?: string;
}

const base = (h: Harness) => `/clusters/${h.name}`;

/**
 * One request to the coordinator. With `waitMs`, the caller stops waiting after that long and
 * gets status 0 (the coordinator's work carries on, as a real server's would).
 */
export async function send<T = any>(method: string, path: string, body?: unknown, waitMs?: number): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const controller = waitMs === undefined ? null : new AbortController();
  const timer = controller && setTimeout(() => controller.abort(new Error(`no answer within ${waitMs} ms`)), waitMs);
  try {
    const res = await coordinatorFetch(`http://coordinator${path}`, controller ? { ...init, signal: controller.signal } : init);
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as T) : (null as T) };
  } catch (e) {
    if (controller?.signal.aborted) return { status: 0, body: null as T };
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** How a call answered, for messages: "504 timeout", "200". */
export const said = (r: Answer) => `${r.status}${r.body?.error ? ` ${r.body.error}` : ""}${r.body?.message ? ` (${r.body.message})` : ""}`;

// ---------------------------------------------------------------------------------------
// The routes, raw.

export async function view(h: Harness): Promise<MemberView> {
  const r = await send<MemberView>("GET", base(h));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** POST /clusters/{c}/members; `timeoutMs`: the coordinator's wait (`?timeoutMs=`). */
export const addRaw = (h: Harness, body: { role?: string; locationHint?: string } = {}, waitMs?: number, timeoutMs?: number) =>
  send<MemberView>("POST", `${base(h)}/members${query(timeoutMs)}`, body, waitMs);

/** POST /clusters/{c}/members/{i}/promote. */
export const promoteRaw = (h: Harness, id: number, waitMs?: number, timeoutMs?: number) =>
  send<MemberView>("POST", `${base(h)}/members/${id}/promote${query(timeoutMs)}`, undefined, waitMs);

/** DELETE /clusters/{c}/members/{i}. */
export const removeRaw = (h: Harness, id: number, waitMs?: number, timeoutMs?: number) =>
  send<MemberView>("DELETE", `${base(h)}/members/${id}${query(timeoutMs)}`, undefined, waitMs);

const query = (timeoutMs?: number) => (timeoutMs === undefined ? "" : `?timeoutMs=${timeoutMs}`);

/** A fault route (`servers/2/disconnect`, `heal`, ...), expected to answer 200. */
export async function fault(h: Harness, path: string, body?: unknown): Promise<MemberView> {
  const r = await send<MemberView>("POST", `${base(h)}/${path}`, body);
  expect(r.status, `${path}: ${said(r)}`).toBe(200);
  return r.body;
}

/** Status `want` with error code `code` (when given). */
export function expectAnswer(r: Answer, want: number, code?: string, what = ""): void {
  expect({ status: r.status, ...(code === undefined ? {} : { error: r.body?.error }) }, `${what} ${JSON.stringify(r.body)}`).toEqual({
    status: want,
    ...(code === undefined ? {} : { error: code }),
  });
}

// ---------------------------------------------------------------------------------------
// Looking.

export const members = (v: Pick<MemberView, "voters" | "learners">) => [...v.voters, ...v.learners];
export const sorted = (ids: readonly number[]) => [...ids].sort((a, b) => a - b);

/**
 * A leader that is a voter of the configuration, up and connected, and stays the same (same
 * id, same term) across two looks `ms` apart. Polls until `deadlineMs`.
 */
export async function settledLeader(h: Harness, ms = 300, deadlineMs = 8_000): Promise<{ leader: number; term: number; view: MemberView }> {
  const until = Date.now() + deadlineMs;
  let last: { leader: number; term: number } | null = null;
  let why = "";
  for (;;) {
    const v = await view(h);
    const s = v.leader === null ? undefined : v.servers.find((x) => x.id === v.leader);
    if (s && s.state === "Leader" && s.connected && v.voters.includes(s.id)) {
      if (last && last.leader === s.id && last.term === s.term) return { ...last, view: v };
      last = { leader: s.id, term: s.term };
      why = `leader ${s.id} in term ${s.term} not yet seen twice`;
    } else {
      last = null;
      why = `leader ${v.leader}, voters ${JSON.stringify(v.voters)}`;
    }
    if (Date.now() > until) throw new Error(`${h.name}: no settled leader within ${deadlineMs} ms (${why})`);
    await sleep(last ? ms : 50);
  }
}

/** The status of member `id` in `v`. */
export function statusOf(v: MemberView, id: number): MemberStatus {
  const s = v.servers.find((x) => x.id === id);
  expect(s, `member ${id} in ${JSON.stringify(v.servers.map((x) => x.id))}`).toBeDefined();
  return s!;
}

/** Member `id` has everything the leader has (same log length, all of it applied). */
export async function caughtUp(h: Harness, id: number, deadlineMs = 8_000): Promise<void> {
  await eventually(`member ${id} catches up`, async () => {
    const v = await view(h);
    const leader = v.servers.find((s) => s.id === v.leader);
    const s = v.servers.find((x) => x.id === id);
    if (!leader || !s) return `leader ${v.leader}, member ${id} ${s ? "" : "not listed"}`;
    return (s.logLength >= leader.logLength && s.lastApplied >= leader.commitIndex) || `log ${s.logLength}/${leader.logLength}, applied ${s.lastApplied}/${leader.commitIndex}`;
  }, deadlineMs);
}

// ---------------------------------------------------------------------------------------
// Changes that must happen. 503 (no leader: not done) and 409 change_in_progress (an earlier
// change, perhaps our own that answered 504, is not committed yet) are asked again; a 504 is
// resolved by reading the configuration. Anything else fails.

const ENSURE_MS = 15_000;

/** Add a member and answer its id, once the configuration holding it is in force. */
export async function ensureAdd(h: Harness, role: "voter" | "learner" = "voter", locationHint?: string): Promise<number> {
  const before = members(await view(h));
  const until = Date.now() + ENSURE_MS;
  for (;;) {
    const r = await addRaw(h, locationHint === undefined ? { role } : { role, locationHint });
    if (r.status === 200) {
      const id = r.body.added!;
      expect(typeof id, JSON.stringify(r.body)).toBe("number");
      expect(before, `added ${id} is a new id`).not.toContain(id);
      expect(role === "voter" ? r.body.voters : r.body.learners, `the answer lists ${id} as a ${role}`).toContain(id);
      return id;
    }
    expect([409, 503, 504], `add ${role}: ${said(r)}`).toContain(r.status);
    if (r.status === 409) expect(r.body.error, said(r)).toBe("change_in_progress");
    retried("ensureAdd", said(r));
    // Did it happen anyway? A new id in the configuration, in the asked role.
    const v = await view(h);
    const fresh = (role === "voter" ? v.voters : v.learners).filter((id) => !before.includes(id));
    if (fresh.length === 1) return fresh[0]!;
    if (Date.now() > until) throw new Error(`${h.name}: add ${role} never happened: ${said(r)}`);
    await sleep(200);
  }
}

/** Promote learner `id`, until the configuration lists it as a voter. */
export async function ensurePromote(h: Harness, id: number): Promise<MemberView> {
  const until = Date.now() + ENSURE_MS;
  for (;;) {
    const r = await promoteRaw(h, id);
    if (r.status === 200) {
      expect(r.body.voters, JSON.stringify(r.body)).toContain(id);
      expect(r.body.learners, JSON.stringify(r.body)).not.toContain(id);
      return r.body;
    }
    expect([409, 503, 504], `promote ${id}: ${said(r)}`).toContain(r.status);
    if (r.status === 409) expect(r.body.error, said(r)).toBe("change_in_progress");
    retried("ensurePromote", said(r));
    const v = await view(h);
    if (v.voters.includes(id)) return v;
    if (Date.now() > until) throw new Error(`${h.name}: promote ${id} never happened: ${said(r)}`);
    await sleep(200);
  }
}

/** Remove member `id`, until the configuration no longer lists it. */
export async function ensureRemove(h: Harness, id: number): Promise<MemberView> {
  const until = Date.now() + ENSURE_MS;
  for (let attempt = 0; ; attempt++) {
    const r = await removeRaw(h, id);
    if (r.status === 200) {
      expect(members(r.body), JSON.stringify(r.body)).not.toContain(id);
      expect(r.body.servers.map((s) => s.id), JSON.stringify(r.body)).not.toContain(id);
      return r.body;
    }
    // Asked again after a 504, the member may be gone already: 404.
    expect(attempt > 0 ? [404, 409, 503, 504] : [409, 503, 504], `remove ${id}: ${said(r)}`).toContain(r.status);
    if (r.status === 409) expect(r.body.error, said(r)).toBe("change_in_progress");
    const v = await view(h);
    if (!members(v).includes(id)) return v;
    retried("ensureRemove", said(r));
    if (Date.now() > until) throw new Error(`${h.name}: remove ${id} never happened: ${said(r)}`);
    await sleep(200);
  }
}

/**
 * A removed id is 404 on every route that names a member: the membership routes, the fault
 * routes and the raw log routes, and one server's status.
 */
export async function expectGone(h: Harness, id: number): Promise<void> {
  const c = base(h);
  const calls: Array<[string, string, unknown?]> = [
    ["POST", `${c}/members/${id}/promote`],
    ["DELETE", `${c}/members/${id}`],
    ["POST", `${c}/servers/${id}/disconnect`],
    ["POST", `${c}/servers/${id}/reconnect`],
    ["POST", `${c}/servers/${id}/crash`],
    ["POST", `${c}/servers/${id}/restart`],
    ["POST", `${c}/servers/${id}/evict`],
    ["GET", `${c}/servers/${id}/committed`],
    ["POST", `${c}/servers/${id}/submit`, { command: "after removal" }],
    ["GET", `${c}/servers/${id}`],
  ];
  for (const [method, path, body] of calls) {
    const r = await send(method, path, body);
    expect(r.status, `${method} ${path} for removed server ${id}: ${said(r)}`).toBe(404);
    expect(typeof r.body?.error, JSON.stringify(r.body)).toBe("string");
  }
  const v = await view(h);
  expect(members(v), `removed ${id} is not in the configuration`).not.toContain(id);
  expect(v.servers.map((s) => s.id), `removed ${id} is not listed`).not.toContain(id);
}

/**
 * Every Raft message that reaches server `id`'s object from now on (RaftServer.receive and
 * installChunk, answered or not), as "AppendEntries from 2 (term 1)". It sees what was sent,
 * whatever the server then makes of it: a retired server drops every message without a
 * trace, so its state alone cannot tell "sent nothing" from "ignored everything".
 *
 * How: the test and the server objects share one isolate (runInDurableObject hands over the
 * instance), so the class's two entry points are wrapped for the rest of the test, counting
 * calls on that one object. An object reloaded meanwhile is a new instance of the same
 * class and is still counted (it is matched by its Durable Object id).
 */
export async function trafficTo(h: Harness, id: number): Promise<{ readonly messages: string[] }> {
  const messages: string[] = [];
  await h.inside(id, (server, state) => {
    const target = state.id.toString();
    const proto = Object.getPrototypeOf(server) as RaftServer;
    const receive = proto.receive;
    const installChunk = proto.installChunk;
    const mine = (self: RaftServer) => (self as unknown as { ctx: DurableObjectState }).ctx.id.toString() === target;
    proto.receive = function (this: RaftServer, ...args: Parameters<RaftServer["receive"]>) {
      const m = args[1];
      if (mine(this)) messages.push(`${m.type} from ${m.from} (term ${m.term})`);
      return receive.apply(this, args);
    };
    proto.installChunk = function (this: RaftServer, ...args: Parameters<RaftServer["installChunk"]>) {
      const c = args[1];
      if (mine(this)) messages.push(`InstallSnapshot chunk from ${c.from} (term ${c.term})`);
      return installChunk.apply(this, args);
    };
    onTestFinished(() => {
      proto.receive = receive;
      proto.installChunk = installChunk;
    });
  });
  return { messages };
}
