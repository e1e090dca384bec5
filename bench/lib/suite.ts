// A suite: a name, where it runs, a measurement and the sections it prints (one file each, listed in suites/index.ts).
import type { Http } from "./http.ts";
import type { Options } from "./options.ts";
import type { runMeta } from "../run.ts";
import type { EtcdResult } from "../suites/etcd.ts";
import type { FloorResult } from "../suites/floor.ts";
import type { HistoryResult } from "../suites/history.ts";
import type { RaftResult } from "../suites/raft.ts";
import type { ReadsResult } from "../suites/reads.ts";
import type { SingleResult } from "../suites/single.ts";
import type { SleepResult } from "../suites/sleep.ts";

/** profiled: not `--url`, so RAFT_SERVER is ProfiledRaftServer (storage counters, benchFill). */
export type Ctx = { readonly http: Http; readonly o: Options; readonly profiled: boolean; readonly progress: (line: string) => void };

export type Meta = ReturnType<typeof runMeta>;

/** One run's results by suite name; the suites whose figures others compare against are typed. */
export interface Results {
  readonly [suite: string]: unknown;
  readonly meta: Meta;
  readonly floor?: FloorResult;
  readonly single?: SingleResult;
  readonly raft?: RaftResult[];
  readonly etcd?: EtcdResult;
  readonly reads?: ReadsResult;
  readonly history?: HistoryResult;
  readonly sleep?: SleepResult;
}

/** A section of the markdown: its heading and body; a null body is left out (nothing measured for it). */
export type Section = readonly [title: string, body: string | null];

// name: JSON key and `--only` name; full: in the full run; url: runs against `--url` too; about: its `--help` line;
// run measures once, or sampler is called in rounds over the run (the machine drifts); sections: from its results and all.
export interface Suite<R> {
  readonly name: string;
  readonly full: boolean;
  readonly url: boolean;
  readonly about: string;
  run?(ctx: Ctx): Promise<R>;
  sampler?(ctx: Ctx): { round(n: number, of: number): Promise<void>; result(): R };
  sections(own: R, all: Results): Section[];
}
