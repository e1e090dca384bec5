// A suite: a name, where it runs, a measurement and the sections it prints (one file each, listed in suites/index.ts).
import type { Http } from "./http.ts";
import type { Options } from "./options.ts";
import type { runMeta } from "../run.ts";
import type { BY_NAME } from "../suites/index.ts";

/** profiled: not `--url`, so RAFT_SERVER is ProfiledRaftServer (storage counters, benchFill); restartWorkerd: a new workerd on the same port and storage (null with `--url`). */
export type Ctx = { readonly http: Http; readonly o: Options; readonly profiled: boolean; readonly progress: (line: string) => void; readonly restartWorkerd: (() => Promise<void>) | null };

export type Meta = ReturnType<typeof runMeta>;

/** One run's results by suite name, each as its suite measures it. */
export type Results = { readonly [suite: string]: unknown; readonly meta: Meta } & { readonly [K in keyof typeof BY_NAME]?: (typeof BY_NAME)[K] extends Suite<infer R> ? R : never };

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
