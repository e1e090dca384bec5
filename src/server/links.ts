// The simulated network as one server sees it: which links are up, how lossy and slow the
// wire is, and the reference's dropCallsAfterN. The coordinator pushes this state to every
// server (there is no central object on the message path); each message is checked by the
// sender before it leaves and by the receiver when it arrives, so a link is down as soon as
// either end has heard so.
import type { NodeId } from "../raft/types.ts";
import type { NetState } from "./protocol.ts";

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

  /** How long this message spends on the wire, ms. */
  delay(): number {
    const [lo, hi] = this.state.delayMs;
    return hi > 0 ? lo + Math.random() * (hi - lo) : 0;
  }
}
