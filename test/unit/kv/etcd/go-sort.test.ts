// Go 1.19's sort.Sort as etcd uses it: it sorts, and ties come out in the order etcd 3.4.23
// answered for 30 keys k00..k29 (version i%3+1, value "v" + i%4) sorted by VERSION ascending
// and by VALUE descending.

import { describe, expect, it } from "vitest";
import { goSort } from "../../../../src/kv/etcd/go-sort.ts";

const items = Array.from({ length: 30 }, (_, i) => ({ key: String(i).padStart(2, "0"), version: (i % 3) + 1, value: `v${i % 4}` }));

describe("goSort", () => {
  it("ties keep etcd's order, not key order", () => {
    const byVersion = items.slice();
    goSort(byVersion, (x, y) => x.version < y.version);
    expect(byVersion.map((x) => x.key).join(",")).toBe(
      "12,27,24,03,21,18,06,00,15,09,07,04,10,13,28,01,16,25,22,19,08,20,05,23,02,17,26,11,14,29",
    );
    const byValueDesc = items.slice();
    goSort(byValueDesc, (x, y) => y.value < x.value);
    expect(byValueDesc.map((x) => x.key).join(",")).toBe(
      "07,27,23,03,19,15,11,14,02,26,10,06,22,18,09,13,29,17,01,25,05,21,20,08,24,04,00,12,28,16",
    );
  });

  it("sorts any input, small or large, with or without ties", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (const n of [0, 1, 5, 12, 13, 49, 50, 51, 200, 1000]) {
      for (const spread of [2, 1000]) {
        const xs = Array.from({ length: n }, () => next() % spread);
        goSort(xs, (a, b) => a < b);
        expect(xs).toEqual(xs.slice().sort((a, b) => a - b));
      }
    }
    const descending = Array.from({ length: 300 }, (_, i) => 300 - i);
    goSort(descending, (a, b) => a < b);
    expect(descending).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });
});
