// The reference's test harness (eliben/raft's Harness), driving a real cluster of Durable
// Objects in real time: faults and commands through the coordinator's HTTP API, looks
// straight at the server objects.
//
// Verbs keep the reference's names: disconnect / reconnect, crash / restart,
// dropCallsAfterN / dontDropCalls, checkSingleLeader, checkNoLeader, checkCommitted,
// checkCommittedN, checkNotCommitted, submit. "Connected" means what it means there: a
// server whose links are up and that is not crashed.
//
// Positive checks (a leader exists, a command is committed) poll until a deadline instead
// of sleeping a fixed time; negative checks (no leader, not committed) look once, after
// the sleep the scenario prescribes.
//
// Looking the leader up again: where the reference finds the leader once and then, after
// waiting for commits, cuts or crashes "the leader" (or a follower of it), the tests look
// the leader up again right before acting. On a loaded machine workerd can stall for a few
// hundred ms, longer than an election timeout, and the resulting election in between is
// not what those scenarios are about. Scenarios about the leader staying put keep theirs.
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, onTestFinished } from "vitest";
import type { RaftServer } from "../../src/server/raft-server.ts";
import type { Entry } from "../../src/raft/types.ts";
import type { DurableSummary, ServerStatus } from "../../src/server/protocol.ts";
import { serverStub, type RaftServerStub } from "../../src/server/rpc.ts";

/** The reference timing. */
export const ELECTION_TIMEOUT_MS: [number, number] = [150, 300];
export const HEARTBEAT_MS = 50;

/** How long a positive check may take to come true (several elections' worth). */
export const EVENTUALLY_MS = 3000;

export interface Answer<T = any> {
  status: number;
  body: T;
}

/** One HTTP request to the coordinator Worker (in-process, no network). */
export async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await exports.default.fetch(new Request(`http://coordinator${path}`, init));
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (null as T) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let counter = 0;
/** A cluster name no other test uses (storage outlives tests within a file). */
export function freshName(prefix = "t"): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export class Harness {
  private constructor(
    readonly name: string,
    readonly n: number,
  ) {}

  static async create(n = 3, settings: Record<string, unknown> = {}): Promise<Harness> {
    const h = new Harness(freshName(), n);
    const r = await api("POST", `/clusters/${h.name}`, {
      size: n,
      electionTimeoutMs: ELECTION_TIMEOUT_MS,
      heartbeatMs: HEARTBEAT_MS,
      ...settings,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    // When the test ends: if it failed, show what the cluster said (the reference's log);
    // then stop the cluster's timers and wipe it.
    onTestFinished(async ({ task }) => {
      if (task.result?.state === "fail") console.log(await h.narration());
      await h.shutdown();
    });
    return h;
  }

  /** The cluster's narration and the harness's lines, as the reference prints them. */
  async narration(): Promise<string> {
    const r = await api("GET", `/clusters/${this.name}/events?since=0`);
    if (r.status !== 200) return `(no narration: ${r.status})`;
    const clock = (t: number) => new Date(t).toISOString().slice(11, 23);
    return r.body.events.map((e: { t: number; line: string }) => `${clock(e.t)} ${e.line}`).join("\n");
  }

  /** Stop every timer and wipe the cluster's storage. */
  async shutdown(): Promise<void> {
    const r = await api("DELETE", `/clusters/${this.name}`);
    expect(r.status).toBe(204);
  }

  // ---------------------------------------------------------------------------------------
  // Faults.

  disconnect = (i: number) => this.fault(`servers/${i}/disconnect`);
  reconnect = (i: number) => this.fault(`servers/${i}/reconnect`);
  crash = (i: number) => this.fault(`servers/${i}/crash`);
  restart = (i: number) => this.fault(`servers/${i}/restart`);
  dropCallsAfterN = (i: number, n: number) => this.fault(`servers/${i}/drop-calls`, { after: n });
  dontDropCalls = (i: number) => this.fault(`servers/${i}/drop-calls`, { after: null });

  private async fault(path: string, body?: unknown): Promise<void> {
    const r = await api("POST", `/clusters/${this.name}/${path}`, body);
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
  }

  // ---------------------------------------------------------------------------------------
  // Looking. Straight at the server objects (one RPC each), not through the Worker: the
  // checks poll, and under the vitest pool every entry into an object costs a few ms of
  // the same CPU the real-time cluster runs on. The routes are exercised by api.test.ts.

  private stub(i: number): RaftServerStub {
    return serverStub(env.RAFT_SERVER, this.name, i);
  }

  async statuses(): Promise<ServerStatus[]> {
    return Promise.all(Array.from({ length: this.n }, async (_, i) => (await this.stub(i).status())!));
  }

  /** GET /clusters/{c}/servers/{i}: status and what storage holds. */
  async server(i: number): Promise<ServerStatus & { durable: DurableSummary }> {
    const r = await api("GET", `/clusters/${this.name}/servers/${i}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  async committed(i: number): Promise<Entry[]> {
    return (await this.stub(i).committed()).entries;
  }

  /** Exactly one leader among connected servers (retried 8 × 150 ms, as the reference does). */
  async checkSingleLeader(): Promise<{ leader: number; term: number }> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const leaders = (await this.statuses()).filter((s) => isConnected(s) && s.state === "Leader");
      const terms = new Set(leaders.map((s) => s.term));
      // Two leaders in one term would break Election Safety: fail at once.
      expect(terms.size, `two leaders in one term: ${JSON.stringify(leaders)}`).toBe(leaders.length);
      // Two leaders in different terms: the older has not heard the news yet. Look again.
      if (leaders.length === 1) return { leader: leaders[0]!.id, term: leaders[0]!.term };
      await sleep(150);
    }
    throw new Error(`${this.name}: no single leader found`);
  }

  async checkNoLeader(): Promise<void> {
    const leaders = (await this.statuses()).filter((s) => isConnected(s) && s.state === "Leader");
    expect(leaders.map((s) => s.id), "no connected server should be leader").toEqual([]);
  }

  /** Submit to server i: the log index when it is leader, null when it refuses. */
  async submit(i: number, cmd: unknown): Promise<number | null> {
    const r = await api("POST", `/clusters/${this.name}/servers/${i}/submit`, { command: cmd });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.accepted ? r.body.index : null;
  }

  /**
   * Every connected server has applied the same commands in the same order up to `cmd`, at
   * the same index. Returns how many have it and where. Polls until `deadlineMs` for the
   * servers to catch up; a disagreement between servers fails at once.
   */
  async checkCommitted(cmd: unknown, deadlineMs = EVENTUALLY_MS): Promise<{ count: number; index: number }> {
    const until = Date.now() + deadlineMs;
    let last = "";
    for (;;) {
      const seen = await this.connectedCommits();
      const found = findCommitted(seen, cmd);
      if (typeof found !== "string") return found;
      last = found;
      if (Date.now() > until) throw new Error(`${this.name}: ${JSON.stringify(cmd)} not committed: ${last}`);
      await sleep(100);
    }
  }

  async checkCommittedN(cmd: unknown, n: number, deadlineMs = EVENTUALLY_MS): Promise<number> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const { count, index } = await this.checkCommitted(cmd, Math.max(0, until - Date.now()));
      if (count === n) return index;
      if (Date.now() > until) throw new Error(`${this.name}: ${JSON.stringify(cmd)} committed on ${count}, want ${n}`);
      await sleep(100);
    }
  }

  /** No connected server has applied `cmd` (looks once). */
  async checkNotCommitted(cmd: unknown): Promise<void> {
    for (const [id, entries] of await this.connectedCommits()) {
      const at = entries.find((e) => same(e.command, cmd));
      expect(at, `server ${id} applied ${JSON.stringify(cmd)} at ${at?.index}`).toBeUndefined();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reaching into one server object (the reference pokes its ConsensusModule the same way).

  /** Run `fn` inside server i's object, in one turn of its event loop. */
  inside<R>(i: number, fn: (server: RaftServer, state: DurableObjectState) => R | Promise<R>): Promise<R> {
    return runInDurableObject(env.RAFT_SERVER.getByName(`${this.name}:${i}`), fn);
  }

  /** This cluster incarnation's epoch, which Raft messages carry. */
  async epoch(): Promise<string> {
    return this.inside(0, (s) => s.clusterConfig()!.epoch);
  }

  /**
   * The reference's "submit, sleep 1 ms, crash": the entry reaches the followers, but the
   * leader never learns it is committed, let alone tells anyone. Over HTTP that is a race
   * the crash usually loses (followers hear the commit within a few ms), and crashing in the
   * very turn of the submit can cancel the entry's AppendEntries in flight. So,
   * deterministically: in the turn of the submit the leader cuts its own end of every link
   * (its requests have already left; the replies will find the link cut, and nothing more
   * leaves it), the entry is seen on the followers' disks, then the leader crashes. Its links
   * come back afterwards: a crash by itself does not disconnect.
   */
  async submitThenCrash(i: number, cmd: unknown): Promise<void> {
    await this.submitThenGoSilent(i, cmd);
    await this.crash(i);
    await this.inside(i, (s) => s.setLinks(true, this.othersThan(i)));
  }

  /**
   * Cut every link of server i for `ms`, then restore them: what disconnect + reconnect do,
   * but as two single calls to i's own object (a link needs both ends, so cutting i's end
   * cuts them all). Through the HTTP routes each change costs 50-130 ms under the vitest
   * pool, longer than the blip itself. The "[TEST]" lines are added afterwards.
   */
  async disconnectBriefly(i: number, ms: number): Promise<void> {
    const cut = Date.now();
    await this.inside(i, (s) => s.setLinks(false, []));
    await sleep(ms - (Date.now() - cut));
    const back = Date.now();
    await this.inside(i, (s) => s.setLinks(true, this.othersThan(i)));
    await Promise.all(
      Array.from({ length: this.n }, async (_, j) => {
        await this.stub(j).note(cut, `[TEST] Disconnect ${i}`);
        await this.stub(j).note(back, `[TEST] Reconnect ${i}`);
      }),
    );
  }

  /** The same with a disconnect. */
  async submitThenDisconnect(i: number, cmd: unknown): Promise<void> {
    await this.submitThenGoSilent(i, cmd);
    await this.disconnect(i);
  }

  private async submitThenGoSilent(i: number, cmd: unknown): Promise<void> {
    const index = await this.inside(i, (s) => {
      const r = s.submit(cmd);
      s.setLinks(false, []);
      return r.accepted ? r.index : null;
    });
    expect(index, `server ${i} is not leader`).not.toBeNull();
    await this.waitForStored(i, index!);
  }

  private othersThan(i: number): number[] {
    return Array.from({ length: this.n }, (_, j) => j).filter((j) => j !== i);
  }

  /** Every server but `except` holds an entry at `index` in its storage. */
  private async waitForStored(except: number, index: number): Promise<void> {
    const until = Date.now() + EVENTUALLY_MS;
    for (;;) {
      const lengths = await Promise.all(
        Array.from({ length: this.n }, async (_, j) => (j === except ? index : (await this.stub(j).inspect())!.durable.logLength)),
      );
      if (lengths.every((l) => l >= index)) return;
      if (Date.now() > until) throw new Error(`${this.name}: entry ${index} never reached every follower: ${lengths}`);
      await sleep(10);
    }
  }

  /** Reset server i's object as the platform may at any moment (no crash mark: it carries on). */
  async resetObject(i: number): Promise<void> {
    await this.inside(i, (_, state) => state.abort("reset by the test")).catch(() => {});
  }

  private async connectedCommits(): Promise<Map<number, Entry[]>> {
    const ids = Array.from({ length: this.n }, (_, i) => i);
    const [statuses, lists] = await Promise.all([this.statuses(), Promise.all(ids.map((i) => this.committed(i)))]);
    return new Map(ids.filter((i) => isConnected(statuses[i]!)).map((i) => [i, lists[i]!]));
  }
}

export function isConnected(s: ServerStatus): boolean {
  return s.connected && s.state !== "Dead";
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The reference's CheckCommitted over one snapshot: the result, or why not yet (a string).
 * Different commands at one position on two servers is a safety violation and throws.
 */
function findCommitted(seen: Map<number, Entry[]>, cmd: unknown): { count: number; index: number } | string {
  const lists = [...seen.entries()];
  const lengths = new Set(lists.map(([, l]) => l.length));
  // Consistency of every prefix the servers share.
  const shortest = Math.min(...lists.map(([, l]) => l.length));
  for (let c = 0; c < shortest; c++) {
    const here = lists.map(([id, l]) => ({ id, e: l[c]! }));
    const first = here[0]!.e;
    for (const { id, e } of here) {
      expect(same(e.command, first.command) && e.index === first.index, `server ${id} applied ${JSON.stringify(e)} at position ${c}, server ${here[0]!.id} ${JSON.stringify(first)}`).toBe(true);
    }
  }
  if (lengths.size > 1) return `connected servers applied different numbers of entries: ${lists.map(([id, l]) => `${id}:${l.length}`).join(" ")}`;
  const c = lists[0]?.[1].findIndex((e) => same(e.command, cmd)) ?? -1;
  if (c < 0) return "not found on the connected servers";
  return { count: lists.length, index: lists[0]![1][c]!.index };
}
