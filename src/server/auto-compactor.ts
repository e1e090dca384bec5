// A leader's side of automatic compaction (src/kv/auto-compaction.ts decides when and to
// which revision): at most one compaction of its own in flight. Without this, every drain
// between the proposal and its apply would propose the same compaction again, since the
// store's meta only moves once the entry is applied.
//
// No Cloudflare import: the simulator's host (test/sim/kv-replicas.ts) runs the same class.
import { autoCompactionTarget } from "../kv/auto-compaction.ts";
import type { StoreMeta } from "../kv/etcd/store.ts";

/** What the core says about itself that matters here (a subset of RaftStatus). */
export interface LeaderView {
  readonly state: string;
  readonly term: number;
}

export class AutoCompactor {
  /** The log position of this leader's compaction not yet applied, if any. */
  private outstanding: { readonly index: number; readonly term: number } | null = null;

  constructor(private readonly retention: number) {}

  /**
   * The revision to propose a compaction to now, or null: not the leader, a compaction of
   * this leadership still on its way, or not due. `applied` is this server's applied index
   * and `meta` its store's meta at that index.
   */
  due(core: LeaderView, applied: number, meta: StoreMeta): number | null {
    if (core.state !== "Leader") {
      this.outstanding = null;
      return null;
    }
    // Another term's proposal may have been overwritten: it no longer holds anything back.
    if (this.outstanding !== null && this.outstanding.term === core.term && applied < this.outstanding.index) return null;
    this.outstanding = null;
    return autoCompactionTarget(meta, this.retention);
  }

  /** The compaction `due` named was accepted by the core at (index, term). */
  proposed(index: number, term: number): void {
    this.outstanding = { index, term };
  }

  /** Forget the proposal (the server resets, the cluster is deleted). */
  clear(): void {
    this.outstanding = null;
  }
}
