// Part 1 of the reference series (eliben/raft): elections. Three servers unless noted,
// election timeout 150–300 ms, heartbeat 50 ms, all in virtual time.

import { describe, expect, test } from "vitest";
import { scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

describe("Part 1: elections", () => {
  test("ElectionBasic", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        h.checkSingleLeader();
      }),
    );
  });

  test("ElectionLeaderDisconnect", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader, origTerm] = h.checkSingleLeader();
        h.disconnect(origLeader);
        h.sleep(350);
        const [newLeader, newTerm] = h.checkSingleLeader();
        expect(newLeader).not.toBe(origLeader);
        expect(newTerm).toBeGreaterThan(origTerm);
      }),
    );
  });

  test("ElectionLeaderAndAnotherDisconnect", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.disconnect(origLeader);
        const other = (origLeader + 1) % 3;
        h.disconnect(other);
        // No quorum.
        h.sleep(450);
        h.checkNoLeader();
        // Reconnect one other server; now there is a quorum.
        h.reconnect(other);
        h.checkSingleLeader();
      }),
    );
  });

  test("DisconnectAllThenRestore", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        h.sleep(100);
        for (let i = 0; i < 3; i++) h.disconnect(i);
        h.sleep(450);
        h.checkNoLeader();
        for (let i = 0; i < 3; i++) h.reconnect(i);
        h.checkSingleLeader();
      }),
    );
  });

  for (const n of [3, 5]) {
    test(n === 3 ? "ElectionLeaderDisconnectThenReconnect" : "ElectionLeaderDisconnectThenReconnect5", () => {
      forEachSeed((seed) =>
        scenario(n, { seed }, (h) => {
          const [origLeader] = h.checkSingleLeader();
          h.disconnect(origLeader);
          h.sleep(350);
          const [newLeader, newTerm] = h.checkSingleLeader();
          h.reconnect(origLeader);
          h.sleep(150);
          const [againLeader, againTerm] = h.checkSingleLeader();
          expect(againLeader).toBe(newLeader);
          expect(againTerm).toBe(newTerm);
        }),
      );
    });
  }

  test("ElectionFollowerComesBack", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader, origTerm] = h.checkSingleLeader();
        const other = (origLeader + 1) % 3;
        h.disconnect(other);
        h.sleep(650);
        h.reconnect(other);
        h.sleep(150);
        // Which server leads depends on the timeouts; that the term rose shows a re-election.
        const [, newTerm] = h.checkSingleLeader();
        expect(newTerm).toBeGreaterThan(origTerm);
      }),
    );
  });

  test("ElectionDisconnectLoop", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        for (let cycle = 0; cycle < 5; cycle++) {
          const [leader] = h.checkSingleLeader();
          h.disconnect(leader);
          const other = (leader + 1) % 3;
          h.disconnect(other);
          h.sleep(310);
          h.checkNoLeader();
          h.reconnect(other);
          h.reconnect(leader);
          h.sleep(150);
        }
      }),
    );
  });
});
