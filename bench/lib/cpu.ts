// CPU time of the bench's workerd and of this Node process: on a shared 2-core machine latency is mostly
// waiting for a core, CPU per operation is what a design costs. Linux only (/proc); elsewhere workerd's is null.
import { existsSync, readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // /proc/<pid>/stat counts USER_HZ ticks: 100 a second on every Linux this runs on

/** utime + stime of `pid`, its name and parent; null when it is gone (or not Linux). */
function readStat(pid: number): { comm: string; ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const f = text.slice(close + 2).split(" "); // f[0] is field 3 (state)
    return { comm: text.slice(text.indexOf("(") + 1, close), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

let workerd: number | null | undefined;
/** The workerd child that Miniflare started for this process, if it can be found; found again once that one is gone (a restart). */
export function workerdPid(): number | null {
  const pids = () => (existsSync("/proc") ? readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number) : []);
  const ours = (pid: number) => readStat(pid)?.comm === "workerd" && readStat(pid)?.ppid === process.pid;
  if (workerd === undefined || (workerd !== null && !ours(workerd))) workerd = pids().find(ours) ?? null;
  return workerd;
}

export type CpuSample = { readonly workerdMs: number | null; readonly nodeMs: number };

export function cpuNow(): CpuSample {
  const stat = workerdPid() === null ? null : readStat(workerdPid()!);
  const u = process.cpuUsage();
  return { workerdMs: stat ? stat.ticks * TICK_MS : null, nodeMs: (u.user + u.system) / 1000 };
}

/** CPU ms between two samples, divided by `per` (ops, seconds). */
export function cpuPer(before: CpuSample, after: CpuSample, per: number): CpuSample {
  return { workerdMs: before.workerdMs !== null && after.workerdMs !== null ? (after.workerdMs - before.workerdMs) / per : null, nodeMs: (after.nodeMs - before.nodeMs) / per };
}

/** CPU ms used so far by the processes `pids` together (a gone process counts 0). */
export const cpuOfPids = (pids: readonly number[]): number => pids.reduce((a, pid) => a + (readStat(pid)?.ticks ?? 0) * TICK_MS, 0);
