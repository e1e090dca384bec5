// How fast the checker is on the size of history the nemesis tests produce:
// 1000 operations on 5 keys by 8 clients. Prints the figures; fails if far too slow.
import { expect, test } from "vitest";
import { checkKvHistory } from "./checker.ts";
import { generateKvHistory } from "./generate.ts";
import { ghostOutput, withOutput } from "./mutate.ts";

const SIZE = { operations: 1000, keys: 5, clients: 8 } as const;

test("1000 operations, 5 keys, 8 clients: checked well within the budget", () => {
  const figures: string[] = [];
  for (const unknownRate of [0, 0.05]) {
    for (let seed = 1; seed <= 5; seed++) {
      const { history } = generateKvHistory({ seed, ...SIZE, unknownRate });
      const ok = checkKvHistory(history, { timeoutMs: 30_000 });
      expect(ok.verdict).toBe("ok");
      // The last answered operation claims a value nobody wrote: the search must exhaust its key.
      let victim = history.length - 1;
      while (history[victim]!.ret === Infinity) victim--;
      const illegal = checkKvHistory(withOutput(history, victim, ghostOutput(history[victim]!, "!")), { timeoutMs: 30_000 });
      expect(illegal.verdict).toBe("illegal");
      const steps = (r: typeof ok) => r.partitions.reduce((n, p) => n + p.steps, 0);
      figures.push(
        `unknown ${unknownRate * 100}% seed ${seed}: ok in ${ok.elapsedMs} ms (${steps(ok)} steps), ` +
          `illegal in ${illegal.elapsedMs} ms (${steps(illegal)} steps)`,
      );
      expect(ok.elapsedMs).toBeLessThan(10_000);
      expect(illegal.elapsedMs).toBeLessThan(10_000);
    }
  }
  console.log(figures.join("\n"));
});
