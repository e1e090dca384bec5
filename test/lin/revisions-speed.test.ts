// How fast the revision checker is: 10,000 operations from 16 clients on 8 keys, with 5% lost
// answers and 10% serializable reads, checked as generated (linearizable) and with one read
// near the end changed to show a value nobody wrote (so the whole replay runs before the
// verdict). Prints the figures; fails only far off the goal of "well under a second". The bound
// is on CPU time, not wall time: the machine running the tests may be shared, and waiting for a
// core is not the checker's cost.
import { expect, test } from "vitest";
import type { ResponseOp } from "../../src/kv/etcd/types.ts";
import { b } from "./etcd-fixtures.ts";
import { generateEtcdHistory } from "./etcd-generate.ts";
import { checkRevisions, type EtcdOperation, explainRevisionReport } from "./revisions.ts";

/** The last answered read that shows a value, with that value replaced by one nobody wrote. */
function ghostRead(history: readonly EtcdOperation[]): { history: EtcdOperation[]; victim: number } {
  for (let i = history.length - 1; i >= 0; i--) {
    const op = history[i]!;
    if (op.ret === Infinity || op.output?.kind !== "range" || op.input.kind !== "range" || op.input.range.keysOnly) continue;
    if (op.output.range.kvs.length === 0) continue;
    const output = structuredClone(op.output) as Extract<ResponseOp, { kind: "range" }>;
    output.range.kvs[0]!.value = b("ghost");
    return { history: history.map((o, j) => (j === i ? { ...o, output } : o)), victim: i };
  }
  throw new Error("no read shows a value");
}

/** Runs `f`, answering its result and the CPU time it took in ms (this process: user + system). */
function cpuTimed<T>(f: () => T): { result: T; cpuMs: number } {
  const before = process.cpuUsage();
  const result = f();
  const used = process.cpuUsage(before);
  return { result, cpuMs: Math.round((used.user + used.system) / 1000) };
}

test("10,000 operations are checked well under a second", () => {
  const figures: string[] = [];
  for (let seed = 1; seed <= 3; seed++) {
    const { history } = generateEtcdHistory({ seed, operations: 10_000, keys: 8, clients: 16, unknownRate: 0.05, serializableRate: 0.1 });
    const { result: ok, cpuMs: okCpu } = cpuTimed(() => checkRevisions(history));
    expect(ok.verdict, explainRevisionReport(ok)).toBe("ok");
    const ghost = ghostRead(history);
    const { result: bad, cpuMs: badCpu } = cpuTimed(() => checkRevisions(ghost.history));
    expect(bad.verdict, explainRevisionReport(bad)).toBe("illegal");
    expect(bad.violation?.ops).toContain(ghost.victim);
    figures.push(
      `seed ${seed}: ${history.length} operations, revisions up to ${ok.lastRevision}: ` +
        `ok in ${okCpu} ms CPU (${ok.elapsedMs} ms wall, ${ok.steps} steps); ` +
        `a ghost value in #${ghost.victim}: illegal in ${badCpu} ms CPU (${bad.elapsedMs} ms wall, ${bad.steps} steps)`,
    );
    // The goal is well under 1 s; this bound only catches a blow-up.
    expect(okCpu).toBeLessThan(2_000);
    expect(badCpu).toBeLessThan(2_000);
  }
  console.log(figures.join("\n"));
});
