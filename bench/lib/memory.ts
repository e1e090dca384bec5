// Resident memory of the bench's workerd (every object of the run lives in that one process): what the
// objects hold, read from /proc/<pid>/status (VmRSS). Linux only; null elsewhere or when workerd is not found.
import { readFileSync } from "node:fs";
import { workerdPid } from "./cpu.ts";

/** workerd's resident set in bytes now, or null. */
export function workerdRssBytes(): number | null {
  const pid = workerdPid();
  if (pid === null) return null;
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
