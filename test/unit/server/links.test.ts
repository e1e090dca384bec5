// The per-link delay of the simulated network (src/server/links.ts) and its body's validation
// (src/coordinator/validate.ts), without workerd: test/workerd/regions.test.ts tells the story
// on a real cluster.
import { describe, expect, test } from "vitest";
import { check, networkFor, networkSettings } from "../../../src/coordinator/validate.ts";
import { Links, linkDelayMs, networkOf, networkWithMember, oneWayMs, regionPair, withNetwork } from "../../../src/server/links.ts";
import { fullyConnected, type NetworkSettings } from "../../../src/server/protocol.ts";

const MATRIX = { "weur-enam": 75, "weur-apac": 160, "enam-apac": 180 };
const hints = new Map([
  [0, "weur"],
  [1, "enam"],
  [2, "apac"],
] as const);

function settings(body: unknown, regions: ReadonlyMap<number, any> = hints): NetworkSettings {
  return networkFor(check(networkSettings, body, "body"), regions);
}

describe("regionRttMs", () => {
  test("pairs are alphabetical; one way is half the round trip; a pair not given is 0", () => {
    expect(regionPair("weur", "enam")).toBe("enam-weur");
    expect(regionPair("enam", "weur")).toBe("enam-weur");
    const s = settings({ regionRttMs: MATRIX });
    expect(s.regionRttMs).toEqual({ "enam-weur": 75, "apac-weur": 160, "apac-enam": 180 });
    expect(s.regions).toEqual({ 0: "weur", 1: "enam", 2: "apac" });
    expect(oneWayMs(s.regionRttMs!, "weur", "enam")).toBe(37.5);
    expect(oneWayMs(s.regionRttMs!, "weur", "weur")).toBe(0);
    expect(linkDelayMs(s, 0, 2)).toBe(80);
    expect(linkDelayMs(s, 2, 1)).toBe(90);
    expect(linkDelayMs(s, 0, 7)).toBe(0); // a server with no region
    expect(linkDelayMs(settings({ regionRttMs: { ...MATRIX, "weur-weur": 2 } }), 0, 0)).toBe(1);
  });

  test("each server delays by the link's one way delay plus delayMs's jitter; {} is reliable", () => {
    const links = new Links(withNetwork(fullyConnected(3, 0), settings({ regionRttMs: MATRIX, delayMs: [5, 10] })));
    for (let i = 0; i < 50; i++) {
      const d = links.delay(0, 1);
      expect(d).toBeGreaterThanOrEqual(42.5);
      expect(d).toBeLessThanOrEqual(47.5);
    }
    links.net = withNetwork(links.net, settings({}));
    expect(links.delay(0, 2)).toBe(0);
    expect(links.net.peers).toEqual([1, 2]);
    expect(links.settings).toEqual({ dropRate: 0, delayMs: [0, 0] });
  });

  test("the settings a server holds round-trip, and a new member joins the matrix", () => {
    const s = settings({ regionRttMs: MATRIX, dropRate: 0.1 });
    const net = withNetwork({ ...fullyConnected(3, 1), connected: false }, s);
    expect(net.connected).toBe(false);
    expect(networkOf(net)).toEqual(s);
    const joined = networkWithMember(s, 3, "apac");
    expect(joined.regions).toEqual({ 0: "weur", 1: "enam", 2: "apac", 3: "apac" });
    expect(linkDelayMs(joined, 3, 0)).toBe(80);
    expect(linkDelayMs(joined, 3, 2)).toBe(0);
    expect(networkWithMember(joined, 3, null).regions).toEqual({ 0: "weur", 1: "enam", 2: "apac" });
    const plain = settings({ dropRate: 0.1 });
    expect(networkWithMember(plain, 3, "apac")).toBe(plain); // no matrix: nothing to place
  });

  test("bad bodies are refused with a message naming the key", () => {
    const bad: [unknown, RegExp][] = [
      [{ regionRttMs: { "weur-mars": 10 } }, /regionRttMs\.weur-mars: unknown region "mars"/],
      [{ regionRttMs: { "weur-enam": -1 } }, /regionRttMs\.weur-enam/],
      [{ regionRttMs: { "weur-enam": "75" } }, /regionRttMs\.weur-enam/],
      [{ regionRttMs: { "weur-enam": 10_001 } }, /regionRttMs\.weur-enam/],
      [{ regionRttMs: { "weur-enam-apac": 10 } }, /two regions joined by "-"/],
      [{ regionRttMs: { "weur-enam": 75, "enam-weur": 75 } }, /named twice/],
      [{ regionRttMs: { "weur-enam": 75 } }, /missing the round trip of apac-weur, apac-enam/],
    ];
    for (const [body, message] of bad) expect(() => settings(body), JSON.stringify(body)).toThrow(message);
    expect(() => settings({ regionRttMs: MATRIX }, new Map([[0, null]]))).toThrow(/no locationHint/);
    // Servers without a region are left out; the others must be covered.
    expect(settings({ regionRttMs: { "weur-enam": 75 } }, new Map<number, any>([[0, "weur"], [1, "enam"], [2, null]])).regions).toEqual({ 0: "weur", 1: "enam" });
  });
});
