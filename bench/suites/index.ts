// Every suite, in the order they run and print (summary.ts: the headline first, the targets last); a new suite is a line here.
import type { Suite } from "../lib/suite.ts";
import { catchup } from "./catchup.ts";
import { etcd } from "./etcd.ts";
import { floor } from "./floor.ts";
import { history } from "./history.ts";
import { raft } from "./raft.ts";
import { reads } from "./reads.ts";
import { scale } from "./scale.ts";
import { regions } from "./regions.ts";
import { single } from "./single.ts";
import { sessions } from "./sessions.ts";
import { sleepSuite } from "./sleep.ts";

export const BY_NAME = { floor, single, raft, etcd, reads, history, sleep: sleepSuite, regions, catchup, sessions, scale };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each suite's own result type
export const SUITES: ReadonlyArray<Suite<any>> = Object.values(BY_NAME);
