// The compaction rule of the simulated etcd workload, which the revision checker leaves out
// (test/lin/README.md: errors are not in its history, and its model knows no compaction).
//
// etcd: once compacted at C, a read of a revision below C answers "mvcc: required revision has
// been compacted" (OUT_OF_RANGE); C itself and above still read. So, for the historical reads
// of one run (linearizable ones: a serializable read's server may not have applied the
// compaction yet):
//  - a read of revision R that answered data, invoked after a compaction at C > R answered OK,
//    should have been refused;
//  - a read of R refused as compacted needs a compaction at C > R that may have happened before
//    it answered: one invoked before the read returned whose outcome is not a certain failure.
// A successful read's data is judged by the revision checker (the state at R, as the model
// replays it): a compaction that dropped a live version shows there.

export interface CompactionCall {
  readonly revision: number;
  readonly call: number;
  /** Infinity: the outcome is unknown. */
  readonly ret: number;
  /** Answered OK (false: unknown outcome; calls refused with an error are not listed). */
  readonly ok: boolean;
}

export interface HistoricalRead {
  readonly client: string;
  readonly revision: number;
  readonly call: number;
  readonly ret: number;
  readonly compacted: boolean;
}

export function checkCompactions(compactions: readonly CompactionCall[], reads: readonly HistoricalRead[]): string[] {
  const problems: string[] = [];
  for (const r of reads) {
    if (r.compacted) {
      const cause = compactions.some((c) => c.revision > r.revision && c.call < r.ret);
      if (!cause) problems.push(`${r.client}'s read of revision ${r.revision} at [${r.call.toFixed(1)}, ${r.ret.toFixed(1)}] ms was refused as compacted, but no compaction above ${r.revision} was asked before it returned`);
    } else {
      const done = compactions.find((c) => c.ok && c.revision > r.revision && c.ret < r.call);
      if (done !== undefined) {
        problems.push(
          `${r.client}'s read of revision ${r.revision} at [${r.call.toFixed(1)}, ${r.ret.toFixed(1)}] ms answered data, but a compaction at ${done.revision} had answered at ${done.ret.toFixed(1)} ms: etcd's compacted error was due`,
        );
      }
    }
  }
  return problems;
}
