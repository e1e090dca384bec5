// What a suite is: a name, where it runs, a measurement, and the sections it prints. A new
// suite is one file exporting one of these, plus its line in bench/suites/index.ts.
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

export interface Ctx {
  readonly http: Http;
  readonly o: Options;
  /** Not `--url`: RAFT_SERVER is ProfiledRaftServer, with storage counters and benchFill. */
  readonly profiled: boolean;
  readonly progress: (line: string) => void;
}

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

export interface Suite<R> {
  /** Its key in the JSON results and its `--only` name. */
  readonly name: string;
  /** Part of the full `npm run bench` (otherwise only with `--only`). */
  readonly full: boolean;
  /** Runs against `--url` too (a running `npm run dev`, no bench routes). */
  readonly url: boolean;
  /** What `--help` says it does. */
  readonly about: string;
  /** Measures, once; or */
  run?(ctx: Ctx): Promise<R>;
  /** opens a sampler the runner calls in rounds spread over the whole run (start, middle, end: the machine drifts). */
  sampler?(ctx: Ctx): { round(n: number, of: number): Promise<void>; result(): R };
  /** `all`: every suite's results of this run, for the figures that compare across suites. */
  sections(own: R, all: Results): Section[];
}
