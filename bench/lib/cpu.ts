// CPU time spent by the bench's workerd process (the Worker and every object run there) and
// by this Node process (the load generator and Miniflare's plumbing). On a shared 2-core
// machine, wall-clock latencies mostly measure waiting for a core; CPU per operation says
// what each design really costs, and shows when the Node client is the bottleneck.
// Linux only (/proc); elsewhere workerd's figure is null.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux this runs on). */
const TICK_MS = 10;

let workerd: number | null | undefined;

/** The workerd child that Miniflare started for this process, if it can be found. */
function workerdPid(): number | null {
  if (workerd !== undefined) return workerd;
  workerd = null;
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat && stat.comm === "workerd" && stat.ppid === process.pid) workerd = Number(entry);
    }
  } catch {
    // not Linux
  }
  return workerd;
}

function readStat(pid: number): { comm: string; ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const f = text.slice(close + 2).split(" "); // f[0] is field 3 (state)
    return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }; // utime + stime
  } catch {
    return null;
  }
}

export interface CpuSample {
  readonly workerdMs: number | null;
  readonly nodeMs: number;
}

export function cpuNow(): CpuSample {
  const pid = workerdPid();
  const stat = pid === null ? null : readStat(pid);
  const u = process.cpuUsage();
  return { workerdMs: stat ? stat.ticks * TICK_MS : null, nodeMs: (u.user + u.system) / 1000 };
}

/** CPU ms between two samples, divided by `per` (ops, seconds). */
export function cpuPer(before: CpuSample, after: CpuSample, per: number): { workerdMs: number | null; nodeMs: number } {
  const w = before.workerdMs !== null && after.workerdMs !== null ? (after.workerdMs - before.workerdMs) / per : null;
  return { workerdMs: w, nodeMs: (after.nodeMs - before.nodeMs) / per };
}

/** CPU ms used so far by the processes `pids` together (utime + stime; a gone process counts 0). */
export function cpuOfPids(pids: readonly number[]): number {
  return pids.reduce((a, pid) => a + (readStat(pid)?.ticks ?? 0) * TICK_MS, 0);
}
