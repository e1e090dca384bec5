// The simulated network as one server sees it: which links are up, how lossy and slow the
// wire is, and the reference's dropCallsAfterN. The coordinator pushes this state to every
// server (there is no central object on the message path); each message is checked by the
// sender before it leaves and by the receiver when it arrives, so a link is down as soon as
// either end has heard so.
//
// Per-link delay (a multi-region cluster felt locally): the network settings may carry a
// matrix of round-trip times between regions (`regionRttMs`) and each server's region
// (`regions`, its locationHint). A message from a server in region a to one in region b then
// waits half of the a-b round trip before it leaves, plus the random `delayMs` on top; the
// reply to a request waits the same on its way back (the requester holds it back on arrival,
// see the shell's travel()), so a request and its reply cost one full round trip.
import type { NodeId } from "../raft/types.ts";
import type { LocationHint, NetState, NetworkSettings, RegionRttMs } from "./protocol.ts";

export class Links {
  private up: Set<NodeId>;
  /** Outgoing Raft requests still allowed before they start failing; null: never fail. */
  private callsLeft: number | null = null;

  constructor(private state: NetState) {
    this.up = new Set(state.peers);
  }

  get net(): NetState {
    return this.state;
  }

  set net(state: NetState) {
    this.state = state;
    this.up = new Set(state.peers);
  }

  get dropCallsAfter(): number | null {
    return this.callsLeft;
  }

  set dropCallsAfter(n: number | null) {
    this.callsLeft = n;
  }

  linkUp(peer: NodeId): boolean {
    return this.up.has(peer);
  }

  /** Spend one outgoing call: false when dropCallsAfterN says this one fails. */
  takeCall(): boolean {
    if (this.callsLeft === null) return true;
    if (this.callsLeft === 0) return false;
    this.callsLeft--;
    return true;
  }

  /** Whether the lossy wire eats this message. */
  lost(): boolean {
    return this.state.dropRate > 0 && Math.random() < this.state.dropRate;
  }

  /**
   * How long a message between `self` and `peer` (either way) spends on the wire, ms: the
   * link's one-way delay, plus the uniform random delayMs on top.
   */
  delay(self: NodeId, peer: NodeId): number {
    const [lo, hi] = this.state.delayMs;
    const jitter = hi > 0 ? lo + Math.random() * (hi - lo) : 0;
    return linkDelayMs(this.state, self, peer) + jitter;
  }

  /** The network settings this server holds (what the coordinator last pushed). */
  get settings(): NetworkSettings {
    return networkOf(this.state);
  }
}

/** The key of a pair of regions in a RegionRttMs: alphabetical order, "enam-weur". */
export function regionPair(a: LocationHint, b: LocationHint): string {
  return a <= b ? `${a}-${b}` : `${b}-${a}`;
}

/** One-way delay between regions a and b: half their round trip; 0 for a pair not in the matrix. */
export function oneWayMs(matrix: RegionRttMs, a: LocationHint, b: LocationHint): number {
  return (matrix[regionPair(a, b)] ?? 0) / 2;
}

/** The one-way delay of the link between servers `a` and `b` under `net`, without jitter. */
export function linkDelayMs(net: Pick<NetworkSettings, "regionRttMs" | "regions">, a: NodeId, b: NodeId): number {
  const ra = net.regions?.[a];
  const rb = net.regions?.[b];
  return net.regionRttMs && ra && rb ? oneWayMs(net.regionRttMs, ra, rb) : 0;
}

/** The network settings part of a server's state. */
export function networkOf(net: NetState): NetworkSettings {
  return {
    dropRate: net.dropRate,
    delayMs: net.delayMs,
    ...(net.regionRttMs ? { regionRttMs: net.regionRttMs, regions: net.regions ?? {} } : {}),
  };
}

/** `net` with its network settings replaced by `settings` (links kept): each call replaces them all. */
export function withNetwork(net: NetState, settings: NetworkSettings): NetState {
  const { regionRttMs: _m, regions: _r, ...links } = net;
  return {
    ...links,
    dropRate: settings.dropRate,
    delayMs: settings.delayMs,
    ...(settings.regionRttMs ? { regionRttMs: settings.regionRttMs, regions: settings.regions ?? {} } : {}),
  };
}

/**
 * For membership changes: the cluster's network settings once server `id` has joined in
 * region `hint` (null: no region, so no link delay to or from it). The coordinator reads
 * the current settings from a member (`networkSettings()`) and gives the result to every
 * member, the new one included (`setNetwork`): the new server gets the matrix, dropRate and
 * delayMs, and the others learn where it is. A removed server's entry may stay: it is
 * only looked up for messages to or from that id.
 */
export function networkWithMember(settings: NetworkSettings, id: NodeId, hint: LocationHint | null): NetworkSettings {
  if (!settings.regionRttMs) return settings;
  const { [id]: _old, ...others } = settings.regions ?? {};
  return { ...settings, regions: hint ? { ...others, [id]: hint } : others };
}
