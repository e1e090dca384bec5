// The revision checker against histories with a known answer: executions of etcd's real store
// (src/kv/etcd), linearizable by construction and judged by the checker's own model, so each
// run also cross-checks the model against the store; the same with one answer changed; and
// executions of a store broken in one way, each of which must be caught for its reason.
import { describe, expect, test } from "vitest";
import { bruteForceLinearizable } from "./etcd-brute-force.ts";
import { generateEtcdHistory, type StoreFault } from "./etcd-generate.ts";
import { witnessProblem } from "./etcd-witness.ts";
import { invertRealTime, perturbAnswer } from "./etcd-mutate.ts";
import { mulberry32, pick } from "./random.ts";
import { checkRevisions, type EtcdOperation, explainRevisionReport, type ViolationKind } from "./revisions.ts";

const answered = (history: readonly EtcdOperation[]): number[] =>
  history.flatMap((op, i) => (op.ret !== Infinity && op.output !== undefined ? [i] : []));

/** Concurrency shapes: how many clients, how long requests take, how many answers are lost. */
const SHAPES = [
  { name: "sequential", clients: 1, maxDuration: 5, unknownRate: 0 },
  { name: "sequential with lost answers", clients: 1, maxDuration: 5, unknownRate: 0.1 },
  { name: "8 clients, short requests", clients: 8, maxDuration: 10, unknownRate: 0.05 },
  { name: "8 clients, long overlapping requests", clients: 8, maxDuration: 200, unknownRate: 0.05 },
  { name: "4 clients, many lost answers", clients: 4, maxDuration: 40, unknownRate: 0.25 },
  { name: "16 clients, serializable reads", clients: 16, maxDuration: 60, unknownRate: 0.05, serializableRate: 0.3 },
  { name: "6 clients, puts with ignore_value", clients: 6, maxDuration: 40, unknownRate: 0.1, ignoreValueRate: 0.3 },
] as const;

describe("executions of the real store pass", () => {
  for (const shape of SHAPES) {
    test(shape.name, () => {
      for (let seed = 1; seed <= 25; seed++) {
        const { history } = generateEtcdHistory({ seed, operations: 300, keys: 4, ...shape });
        const report = checkRevisions(history);
        expect(report.verdict, `seed ${seed}: ${explainRevisionReport(report)}`).toBe("ok");
        expect(witnessProblem(history, report), `seed ${seed}`).toBeNull();
      }
    });
  }
});

describe("one changed answer is caught", () => {
  test("in a sequential history, any one field of any one answer", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = mulberry32(5000 + seed);
      const { history } = generateEtcdHistory({ seed, operations: 150, keys: 3, clients: 1, maxDuration: 5 });
      const victim = pick(rand, answered(history));
      const { output, what } = perturbAnswer(rand, history[victim]!.output!);
      const mutated = history.map((op, i) => (i === victim ? { ...op, output } : op));
      const report = checkRevisions(mutated);
      expect(report.verdict, `seed ${seed}: #${victim} ${what}`).toBe("illegal");
    }
  });

  test("a real-time inversion in a concurrent history", () => {
    let tried = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rand = mulberry32(7000 + seed);
      const { history } = generateEtcdHistory({ seed, operations: 200, keys: 4, clients: 6, unknownRate: 0.05 });
      const inverted = invertRealTime(rand, history);
      if (inverted === null) continue;
      tried++;
      const report = checkRevisions(inverted.history);
      expect(report.verdict, `seed ${seed}: moved #${inverted.moved}`).toBe("illegal");
      expect(report.violation?.kind, explainRevisionReport(report)).toBe("real-time");
      expect(report.violation?.ops).toContain(inverted.moved);
    }
    expect(tried).toBeGreaterThan(50);
  });
});

describe("tiny histories agree with brute force", () => {
  test("as executed, and with one answer changed", () => {
    const verdicts = { ok: 0, illegal: 0 };
    for (let seed = 1; seed <= 400; seed++) {
      const rand = mulberry32(9000 + seed);
      const { history } = generateEtcdHistory({ seed: 3000 + seed, operations: 7, keys: 2, clients: 3, unknownRate: 0.25, maxDuration: 30, ignoreValueRate: 0.2 });
      const victims = answered(history);
      let judged = history;
      if (seed % 2 === 0 && victims.length > 0) {
        const victim = pick(rand, victims);
        judged = history.map((op, i) => (i === victim ? { ...op, output: perturbAnswer(rand, op.output!).output } : op));
      }
      const report = checkRevisions(judged);
      const truth = bruteForceLinearizable(judged) ? "ok" : "illegal";
      expect(report.verdict, `seed ${seed}: ${explainRevisionReport(report)}`).toBe(truth);
      verdicts[truth]++;
    }
    // Both verdicts occur often enough for the agreement to mean something.
    expect(verdicts.ok).toBeGreaterThan(100);
    expect(verdicts.illegal).toBeGreaterThan(100);
  });
});

describe("a broken store is caught, for its reason", () => {
  // A stale read is blamed on itself: either its answer differs from the model, or it rules out
  // the writer of a revision it should have seen (no-writer, naming it). Data that went missing
  // (a lost write, half a txn) shows as an answer that differs, or as an answer showing a key
  // absent that no revision can have deleted (no-writer for a gap, naming that answer).
  const FAULTS: ReadonlyArray<{ fault: StoreFault; kinds: readonly ViolationKind[] }> = [
    { fault: "stale-read", kinds: ["answer", "no-writer"] },
    { fault: "lost-write", kinds: ["answer", "no-writer"] },
    { fault: "double-apply", kinds: ["value-revision", "no-writer"] },
    { fault: "half-txn", kinds: ["answer", "no-writer"] },
  ];
  for (const { fault, kinds } of FAULTS) {
    test(fault, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const { history, victim } = generateEtcdHistory({ seed, operations: 300, keys: 4, clients: 6, unknownRate: 0.05, fault, faultAfter: 50 });
        expect(victim, `seed ${seed}: the fault found no request to strike`).not.toBeNull();
        const report = checkRevisions(history);
        const text = `seed ${seed}, fault on #${victim}: ${explainRevisionReport(report)}`;
        expect(report.verdict, text).toBe("illegal");
        expect(kinds, text).toContain(report.violation!.kind);
        if (fault === "stale-read") expect(report.violation!.ops, text).toContain(victim);
      }
    });
  }
});
