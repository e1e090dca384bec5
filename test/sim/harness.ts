// The reference test harness's verbs over the simulator, so scenario tests read like the Go
// series they come from: create, disconnect, reconnect, crash, restart, dropCallsAfterN,
// checkSingleLeader, checkCommitted... (eliben/raft), plus the MIT 6.5840 lab's helpers used
// by the "Beyond" tests (checkOneLeader, one, nCommitted, wait). All time is virtual: sleep(ms)
// runs the event loop, so a suite of multi-second scenarios finishes in milliseconds.

import type { NodeId, ProposeResult } from "../../src/raft/types.ts";
import { Cluster, type ClusterOptions, type Proc } from "./cluster.ts";
import { InvariantViolation, jsonOf, type InvariantName } from "./invariants.ts";
import { Rng } from "./prng.ts";

/** A failed harness check (as opposed to a violated invariant). */
export class HarnessFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HarnessFailure";
  }
}

/** What a test sees when a run fails: the cause, the seed and the end of the narration. */
export class SimulationFailure extends Error {
  constructor(
    message: string,
    readonly invariant: InvariantName | null,
    readonly seed: number,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = "SimulationFailure";
  }
}

export interface HarnessOptions extends Partial<Omit<ClusterOptions, "n">> {
  /** Lines of narration to show when a scenario fails. */
  readonly tailOnFailure?: number;
}

export class Harness {
  readonly cluster: Cluster;
  readonly n: number;
  /** The test's own randomness (the Go tests' rand.Int()), derived from the seed. */
  readonly rng: Rng;
  /** MIT's one(): which server to try first. */
  private starts = 0;

  constructor(n: number, opts: HarnessOptions = {}) {
    this.n = n;
    this.cluster = new Cluster({ ...opts, n, seed: opts.seed ?? 1 });
    this.rng = new Rng(this.cluster.seed, "test");
  }

  get now(): number {
    return this.cluster.now;
  }

  tlog(text: string): void {
    this.cluster.narrate(`[TEST] ${text}`);
  }

  fail(message: string): never {
    this.tlog(`FAIL: ${message}`);
    throw new HarnessFailure(message);
  }

  /** An assertion for scenario bodies that also run outside vitest (the CLI, the mutant search). */
  check(condition: boolean, message: string): void {
    if (!condition) this.fail(message);
  }

  /** Poll every 10 ms of virtual time until `condition` holds; fail after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, what: string): void {
    const deadline = this.now + timeoutMs;
    while (!condition()) {
      if (this.now >= deadline) this.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
      this.sleep(10);
    }
  }

  /** The connected leader, if exactly one connected server believes it leads. */
  leaderAmongConnected(): NodeId | null {
    const ls = this.cluster.ids.filter((i) => this.connected(i) && this.cluster.status(i)!.state === "Leader");
    return ls.length === 1 ? ls[0]! : null;
  }

  sleep(ms: number): void {
    this.cluster.runFor(ms);
  }

  // --- faults -----------------------------------------------------------------------------

  disconnect(i: NodeId): void {
    this.tlog(`Disconnect ${i}`);
    this.cluster.net.connected[i] = false;
  }

  /** Reconnect i to every connected server (links cut by partitions stay cut). */
  reconnect(i: NodeId): void {
    this.tlog(`Reconnect ${i}`);
    this.cluster.net.connected[i] = true;
  }

  crash(i: NodeId): void {
    this.tlog(`Crash ${i}`);
    this.cluster.crash(i);
  }

  restart(i: NodeId): void {
    this.tlog(`Restart ${i}`);
    this.cluster.restart(i);
  }

  /** i's outgoing requests fail after n more. */
  dropCallsAfterN(i: NodeId, n: number): void {
    this.tlog(`peer ${i} drop calls after ${n}`);
    this.cluster.net.dropCallsAfterN(i, n);
  }

  dontDropCalls(i: NodeId): void {
    this.tlog(`peer ${i} don't drop calls`);
    this.cluster.net.dontDropCalls(i);
  }

  /** Cut every link between the groups. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    this.tlog(`Partition ${groups.map((g) => `{${g.join(",")}}`).join(" | ")}`);
    this.cluster.net.partition(groups);
  }

  /** Cut from→to only. */
  cutLink(from: NodeId, to: NodeId): void {
    this.tlog(`Cut link ${from}->${to}`);
    this.cluster.net.cutLink(from, to);
  }

  healLink(from: NodeId, to: NodeId): void {
    this.tlog(`Heal link ${from}->${to}`);
    this.cluster.net.healLink(from, to);
  }

  /** Restore every link cut by partition/cutLink. */
  heal(): void {
    this.tlog("Heal all links");
    this.cluster.net.healAllLinks();
  }

  // --- eliben's checks --------------------------------------------------------------------

  connected(i: NodeId): boolean {
    return this.cluster.connected(i);
  }

  /** Exactly one leader among connected servers, retried 8 × 150 ms. Returns [leader, term]. */
  checkSingleLeader(): [NodeId, number] {
    for (let r = 0; r < 8; r++) {
      let leader = -1;
      let term = -1;
      for (let i = 0; i < this.n; i++) {
        if (!this.connected(i)) continue;
        const st = this.cluster.status(i)!;
        if (st.state !== "Leader") continue;
        if (leader >= 0) this.fail(`both ${leader} and ${i} think they're leaders`);
        leader = i;
        term = st.term;
      }
      if (leader >= 0) return [leader, term];
      this.sleep(150);
    }
    return this.fail("leader not found");
  }

  checkNoLeader(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.connected(i) && this.cluster.status(i)!.state === "Leader") this.fail(`server ${i} leader; want none`);
    }
  }

  /**
   * Every connected server agrees, position by position, on what it applied; returns how many
   * of them applied `cmd` and at which log index (all at the same one).
   */
  checkCommitted(cmd: unknown): [number, number] {
    const want = jsonOf(cmd);
    const live = this.cluster.ids.filter((i) => this.connected(i));
    let longest: NodeId | null = null;
    for (const i of live) {
      if (longest === null || this.cluster.applied(i).length > this.cluster.applied(longest).length) longest = i;
    }
    if (longest === null) return this.fail("no connected servers");
    const ref = this.cluster.applied(longest);
    for (const i of live) {
      this.cluster.applied(i).forEach((e, c) => {
        const r = ref[c]!;
        if (e.index !== r.index || jsonOf(e.command) !== jsonOf(r.command)) {
          this.fail(`got ${jsonOf(e.command)}@${e.index}, want ${jsonOf(r.command)}@${r.index} at commits[${i}][${c}]`);
        }
      });
    }
    const at = ref.findIndex((e) => jsonOf(e.command) === want);
    if (at < 0) return this.fail(`cmd=${want} not found in commits`);
    const nc = live.filter((i) => this.cluster.applied(i).length > at).length;
    return [nc, ref[at]!.index];
  }

  checkCommittedN(cmd: unknown, n: number): void {
    const [nc] = this.checkCommitted(cmd);
    if (nc !== n) this.fail(`CheckCommittedN(${jsonOf(cmd)}) nc=${nc}, want ${n}`);
  }

  checkNotCommitted(cmd: unknown): void {
    const want = jsonOf(cmd);
    for (const i of this.cluster.ids) {
      if (!this.connected(i)) continue;
      this.cluster.applied(i).forEach((e, c) => {
        if (jsonOf(e.command) === want) this.fail(`found ${want} at commits[${i}][${c}], expected none`);
      });
    }
  }

  /** Propose `cmd` to server i: the log index it was given, or a rejection. */
  submit(i: NodeId, cmd: unknown): ProposeResult {
    this.tlog(`submitting ${jsonOf(cmd)} to ${i}`);
    return this.cluster.propose(i, cmd);
  }

  /** Submit and require acceptance (the Go tests' `if !isLeader { t.Errorf(...) }`). */
  submitToLeader(i: NodeId, cmd: unknown): number {
    const r = this.submit(i, cmd);
    if (!r.accepted) return this.fail(`want id=${i} leader, but it's not`);
    return r.index;
  }

  // --- MIT 6.5840's checks -----------------------------------------------------------------

  /** Sleep 450–550 ms, then look for leaders among connected servers (at most one per term); up to 10 tries. */
  *checkOneLeaderProc(): Proc<NodeId> {
    for (let iters = 0; iters < 10; iters++) {
      yield 450 + this.rng.int(0, 100);
      const leaders = new Map<number, NodeId[]>();
      for (let i = 0; i < this.n; i++) {
        if (!this.connected(i)) continue;
        const st = this.cluster.status(i)!;
        if (st.state === "Leader") leaders.set(st.term, [...(leaders.get(st.term) ?? []), i]);
      }
      let lastTerm = -1;
      for (const [term, ls] of leaders) {
        if (ls.length > 1) this.fail(`term ${term} has ${ls.length} (>1) leaders`);
        if (term > lastTerm) lastTerm = term;
      }
      if (leaders.size > 0) return leaders.get(lastTerm)![0]!;
    }
    return this.fail("expected one leader, got none");
  }

  checkOneLeader(): NodeId {
    return this.cluster.run(this.checkOneLeaderProc());
  }

  /** How many servers (up or down) have applied log index `index`, and what (they must agree). */
  nCommitted(index: number): [number, unknown] {
    let count = 0;
    let cmd: unknown = undefined;
    for (const i of this.cluster.ids) {
      const e = this.cluster.applied(i)[index - 1];
      if (!e) continue;
      if (e.index !== index) this.fail(`server ${i} applied index ${e.index} as command #${index}`);
      if (count > 0 && jsonOf(e.command) !== jsonOf(cmd)) {
        this.fail(`committed values do not match: index ${index}, ${jsonOf(cmd)}, ${jsonOf(e.command)}`);
      }
      count++;
      cmd = e.command;
    }
    return [count, cmd];
  }

  /**
   * MIT's one(): submit to whichever connected server accepts, then wait up to 2 s for
   * `expected` servers to apply it; retry for up to 10 s. Returns the log index.
   */
  *oneProc(cmd: unknown, expected: number, retry: boolean): Proc<number> {
    const t0 = this.now;
    while (this.now - t0 < 10_000) {
      let index = -1;
      for (let k = 0; k < this.n; k++) {
        this.starts = (this.starts + 1) % this.n;
        if (!this.connected(this.starts)) continue;
        const r = this.cluster.propose(this.starts, cmd);
        if (r.accepted) {
          index = r.index;
          break;
        }
      }
      if (index !== -1) {
        const t1 = this.now;
        while (this.now - t1 < 2000) {
          const [nd, got] = this.nCommitted(index);
          if (nd > 0 && nd >= expected && jsonOf(got) === jsonOf(cmd)) return index;
          yield 20;
        }
        if (!retry) this.fail(`one(${jsonOf(cmd)}) failed to reach agreement`);
      } else {
        yield 50;
      }
    }
    return this.fail(`one(${jsonOf(cmd)}) failed to reach agreement`);
  }

  one(cmd: unknown, expected: number, retry: boolean): number {
    this.tlog(`one(${jsonOf(cmd)}, ${expected})`);
    return this.cluster.run(this.oneProc(cmd, expected, retry));
  }

  /** MIT's wait(): until n servers applied `index`; -1 if some server moved past startTerm first. */
  *waitProc(index: number, n: number, startTerm: number): Proc<unknown> {
    let to = 10;
    for (let iters = 0; iters < 30; iters++) {
      const [nd] = this.nCommitted(index);
      if (nd >= n) break;
      yield to;
      if (to < 1000) to *= 2;
      if (startTerm > -1) {
        for (const i of this.cluster.ids) {
          const st = this.cluster.status(i);
          if (st && st.term > startTerm) return -1;
        }
      }
    }
    const [nd, cmd] = this.nCommitted(index);
    if (nd < n) this.fail(`only ${nd} decided for index ${index}; wanted ${n}`);
    return cmd;
  }

  wait(index: number, n: number, startTerm: number): unknown {
    return this.cluster.run(this.waitProc(index, n, startTerm));
  }

  /** RPCs (requests) sent by all servers so far. */
  rpcTotal(): number {
    return this.cluster.net.rpcs.reduce((a, b) => a + b, 0);
  }

  /** The server's term, or -1 while it is down. */
  term(i: NodeId): number {
    return this.cluster.status(i)?.term ?? -1;
  }
}

/**
 * Run one scenario: create the cluster, run the body, cross-check everything at the end. On
 * failure the error carries the seed and the tail of the narration, and only then is it shown.
 */
export function scenario(n: number, opts: HarnessOptions, body: (h: Harness) => void): Harness {
  const h = new Harness(n, { ...echoFromEnv(), ...opts });
  try {
    body(h);
    h.cluster.finalCheck();
    return h;
  } catch (e) {
    throw failureWithNarration(e, h.cluster, opts.tailOnFailure ?? 150);
  }
}

/**
 * SIM_ECHO=1 prints every narrated line of every scenario as it happens; SIM_ECHO=TEST prints
 * only the [TEST] lines (the scenario's own steps and measurements).
 */
function echoFromEnv(): Pick<HarnessOptions, "echo"> {
  const mode = process.env["SIM_ECHO"];
  if (!mode) return {};
  return { echo: (line: string) => (mode !== "TEST" || line.includes("[TEST]")) && console.log(line) };
}

export function failureWithNarration(e: unknown, cluster: Cluster, lines: number): SimulationFailure {
  const invariant = e instanceof InvariantViolation ? e.invariant : null;
  const what = e instanceof Error ? e.message : String(e);
  const tail = cluster.narrator.tail(lines);
  return new SimulationFailure(
    `${what}\n(seed ${cluster.seed}, virtual time ${cluster.now.toFixed(3)} ms; last ${tail.length} narrated lines:)\n${tail.join("\n")}`,
    invariant,
    cluster.seed,
    e,
  );
}
