// The simulated network: links that can be cut (both ways or one way), whole servers
// disconnected as the reference harness does, and a seeded fate for every message: lost,
// delayed, delayed for long (reordering), or duplicated. Replies are separate messages here,
// so a one-way cut lets requests through and loses their answers (or the reverse).

import { isRequest, type Message, type NodeId } from "../../src/raft/types.ts";
import type { Rng } from "./prng.ts";

export interface NetworkProfile {
  /** One-way delay of every message, uniform in [min, max) ms. */
  readonly delayMs: readonly [number, number];
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  readonly duplicateRate: number;
  /** Probability that a message gets an extra long delay (reordering it past many others). */
  readonly longDelayRate: number;
  /** The long delay's range; skewed towards the low end (lo + u1*u2*(hi-lo)), like labrpc's. */
  readonly longDelayMs: readonly [number, number];
  /** Long delays hit only replies (labrpc's "long reordering"), or every message. */
  readonly longDelayRepliesOnly: boolean;
}

/**
 * Sub-millisecond one-way delay, as between Durable Objects (0.03–0.4 ms measured) and as on the
 * reference's localhost TCP: a request lands within 1 ms, a round trip takes at least 1 ms.
 */
export const RELIABLE: NetworkProfile = {
  delayMs: [0.5, 1],
  dropRate: 0,
  duplicateRate: 0,
  longDelayRate: 0,
  longDelayMs: [0, 0],
  longDelayRepliesOnly: true,
};

/** The MIT lab's unreliable network: up to 27 ms of delay, 10% of messages lost. */
export const UNRELIABLE: NetworkProfile = { ...RELIABLE, delayMs: [0, 27], dropRate: 0.1 };

/** The MIT lab's long reordering: two thirds of replies arrive 200–2200 ms late. */
export function withLongReordering(p: NetworkProfile): NetworkProfile {
  return { ...p, longDelayRate: 2 / 3, longDelayMs: [200, 2200], longDelayRepliesOnly: true };
}

/** Directed link keys: from * LINK_KEY + to. */
const LINK_KEY = 1 << 16;

export interface Route {
  /** Delivery delays of the copies that will travel (empty: the message is lost). */
  readonly delays: readonly number[];
  /** Why it was lost, for the narration. */
  readonly lost: string | null;
}

export class Network {
  profile: NetworkProfile;
  /** The reference harness's per-server switch: disconnect(i) cuts every link of i. */
  readonly connected: boolean[];
  /** Directed links cut by partitions, as from * LINK_KEY + to (servers can be added: ids are not bounded by n). */
  private readonly cut = new Set<number>();
  /** dropCallsAfterN: how many more requests each server may send (null: no limit). */
  private readonly callsLeft: (number | null)[];
  /** Requests (RPCs) each server has sent, dropped or not. */
  readonly rpcs: number[];
  /** Rewrites a message as it is sent (mutants, stories); null: the message is lost (a story's drop). */
  tamper: ((m: Message) => Message | null) | null = null;
  readonly stats = { sent: 0, lost: 0, duplicated: 0, delivered: 0, appendRejections: 0, snapshots: 0 };

  constructor(
    n: number,
    private readonly rng: Rng,
    profile: NetworkProfile,
  ) {
    this.profile = profile;
    this.connected = new Array<boolean>(n).fill(true);
    this.callsLeft = new Array<number | null>(n).fill(null);
    this.rpcs = new Array<number>(n).fill(0);
  }

  /** A server joins (membership changes): connected, no call limit, its links up. Returns its id. */
  addServer(): NodeId {
    this.connected.push(true);
    this.callsLeft.push(null);
    this.rpcs.push(0);
    return this.connected.length - 1;
  }

  linkUp(from: NodeId, to: NodeId): boolean {
    return this.connected[from]! && this.connected[to]! && !this.cut.has(from * LINK_KEY + to);
  }

  /** Cut from→to only (a one-way partition). */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(from * LINK_KEY + to);
  }

  healLink(from: NodeId, to: NodeId): void {
    this.cut.delete(from * LINK_KEY + to);
  }

  /** Cut every link between the groups (servers in no group keep their links). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let g = 0; g < groups.length; g++) {
      for (let h = 0; h < groups.length; h++) {
        if (g === h) continue;
        for (const a of groups[g]!) for (const b of groups[h]!) this.cutLink(a, b);
      }
    }
  }

  /** Restore every cut link (does not reconnect disconnected servers). */
  healAllLinks(): void {
    this.cut.clear();
  }

  cutLinks(): number {
    return this.cut.size;
  }

  dropCallsAfterN(id: NodeId, n: number): void {
    this.callsLeft[id] = n;
  }

  dontDropCalls(id: NodeId): void {
    this.callsLeft[id] = null;
  }

  /** Decide, at send time, what happens to one message. */
  route(m: Message): Route {
    this.stats.sent++;
    if (m.type === "AppendEntriesReply" && !m.success) this.stats.appendRejections++;
    if (m.type === "InstallSnapshot") this.stats.snapshots++;
    if (isRequest(m)) {
      this.rpcs[m.from]!++;
      const left = this.callsLeft[m.from];
      if (left !== null && left !== undefined) {
        if (left <= 0) return this.lose("calls of the sender are being dropped");
        this.callsLeft[m.from] = left - 1;
      }
    }
    if (!this.linkUp(m.from, m.to)) return this.lose("link down");
    const p = this.profile;
    if (this.rng.chance(p.dropRate)) return this.lose("lost");
    const copies = this.rng.chance(p.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const delays: number[] = [];
    for (let c = 0; c < copies; c++) {
      let d = this.rng.float(p.delayMs[0], p.delayMs[1]);
      if ((!p.longDelayRepliesOnly || !isRequest(m)) && this.rng.chance(p.longDelayRate)) {
        d += p.longDelayMs[0] + this.rng.next() * this.rng.next() * (p.longDelayMs[1] - p.longDelayMs[0]);
      }
      delays.push(d);
    }
    return { delays, lost: null };
  }

  private lose(why: string): Route {
    this.stats.lost++;
    return { delays: [], lost: why };
  }
}
