// The checker against histories with a known answer: generated from a real execution
// (linearizable by construction), and the same with one answer changed in a way that is
// provably not linearizable. Small random histories are cross-checked with brute force.
import { describe, expect, test } from "vitest";
import { checkKvHistory, explainReport } from "./checker.ts";
import { bruteForceLinearizable } from "./brute-force.ts";
import { witnessProblem } from "./fixtures.ts";
import { generateKvHistory } from "./generate.ts";
import { kvModel, type KvHistoryOperation } from "./kv-model.ts";
import { ghostOutput, otherOutput, withOutput } from "./mutate.ts";
import { mulberry32, pick } from "./random.ts";

const answered = (history: readonly KvHistoryOperation[]): number[] =>
  history.flatMap((op, i) => (op.ret !== Infinity && op.output !== undefined ? [i] : []));

describe("randomized", () => {
  test("histories of a real concurrent execution are linearizable, with a valid witness", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { history } = generateKvHistory({ seed, operations: 250, keys: 3, clients: 6, unknownRate: 0.1 });
      const report = checkKvHistory(history);
      expect(report.verdict, `seed ${seed}`).toBe("ok");
      expect(witnessProblem(history, report), `seed ${seed}`).toBeNull();
    }
  });

  test("one answer claiming a value never written makes it illegal", () => {
    // Values are drawn from "abc" and the operations only copy and concatenate them, so no
    // state of any key ever contains "!": no order can explain the changed answer.
    for (let seed = 1; seed <= 40; seed++) {
      const rand = mulberry32(1000 + seed);
      const { history } = generateKvHistory({ seed, operations: 250, keys: 3, clients: 6, unknownRate: 0.1 });
      const victim = pick(rand, answered(history));
      const mutated = withOutput(history, victim, ghostOutput(history[victim]!, "a!"));
      const report = checkKvHistory(mutated);
      expect(report.verdict, `seed ${seed}, operation ${victim}`).toBe("illegal");
      expect(report.partitions.find((p) => p.verdict === "illegal")?.label).toBe(history[victim]!.input.key);
    }
  });

  test("in a sequential history every changed answer is illegal", () => {
    // Without overlap there is exactly one order, and the store is deterministic: the
    // recorded answers are the only ones any linearization can give.
    for (let seed = 1; seed <= 40; seed++) {
      const rand = mulberry32(2000 + seed);
      const generated = generateKvHistory({ seed, operations: 120, keys: 2, clients: 1 });
      const history = generated.order.map((i, n) => ({ ...generated.history[i]!, call: 2 * n, ret: 2 * n + 1 }));
      expect(checkKvHistory(history).verdict).toBe("ok");
      const victim = pick(rand, answered(history));
      const output = otherOutput(rand, history[victim]!, [null, "", "a", "b", "ab", "ba", "cc"]);
      expect(checkKvHistory(withOutput(history, victim, output)).verdict, `seed ${seed}, operation ${victim}`).toBe("illegal");
    }
  });

  test("small histories: the search agrees with brute force, both ways", () => {
    const verdicts = { ok: 0, illegal: 0 };
    for (let seed = 1; seed <= 600; seed++) {
      const rand = mulberry32(3000 + seed);
      const operations = 1 + Math.floor(rand() * 7);
      let { history } = generateKvHistory({ seed, operations, keys: 2, clients: 3, unknownRate: 0.2, maxDuration: 6, alphabet: "ab" });
      const candidates = answered(history);
      if (candidates.length > 0 && rand() < 0.6) {
        const victim = pick(rand, candidates);
        history = withOutput(history, victim, otherOutput(rand, history[victim]!, [null, "a", "b", "ab", "ba"]));
      }
      const expected = bruteForceLinearizable(history);
      const report = checkKvHistory(history);
      expect(report.verdict, `seed ${seed}\n${explainReport(kvModel, history, report)}`).toBe(expected ? "ok" : "illegal");
      if (expected) expect(witnessProblem(history, report)).toBeNull();
      verdicts[expected ? "ok" : "illegal"]++;
    }
    // Both answers must be well represented, or the agreement would prove little.
    expect(verdicts.ok).toBeGreaterThan(150);
    expect(verdicts.illegal).toBeGreaterThan(150);
  });
});
