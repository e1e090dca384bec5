// Part 2 of the reference series: commands and log replication.

import { describe, expect, test } from "vitest";
import { scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

describe("Part 2: commands and log replication", () => {
  test("CommitOneCommand", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 42);
        h.sleep(150);
        h.checkCommittedN(42, 3);
      }),
    );
  });

  test("SubmitNonLeaderFails", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        const sid = (origLeader + 1) % 3;
        const r = h.submit(sid, 42);
        expect(r.accepted).toBe(false);
        // A follower points at the leader it knows.
        if (!r.accepted) expect(r.leader).toBe(origLeader);
        h.sleep(10);
      }),
    );
  });

  test("CommitMultipleCommands", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        for (const v of [42, 55, 81]) {
          h.submitToLeader(origLeader, v);
          h.sleep(100);
        }
        h.sleep(150);
        const [nc, i1] = h.checkCommitted(42);
        const [, i2] = h.checkCommitted(55);
        expect(nc).toBe(3);
        expect(i1).toBeLessThan(i2);
        const [, i3] = h.checkCommitted(81);
        expect(i2).toBeLessThan(i3);
      }),
    );
  });

  test("CommitWithDisconnectionAndRecover", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.submitToLeader(origLeader, 6);
        h.sleep(250);
        h.checkCommittedN(6, 3);

        const dPeer = (origLeader + 1) % 3;
        h.disconnect(dPeer);
        h.sleep(250);
        // Committed, but only on the two connected servers.
        h.submitToLeader(origLeader, 7);
        h.sleep(250);
        h.checkCommittedN(7, 2);

        h.reconnect(dPeer);
        h.sleep(200);
        h.checkSingleLeader();
        h.sleep(150);
        h.checkCommittedN(7, 3);
      }),
    );
  });

  test("NoCommitWithNoQuorum", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader, origTerm] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.submitToLeader(origLeader, 6);
        h.sleep(250);
        h.checkCommittedN(6, 3);

        const d1 = (origLeader + 1) % 3;
        const d2 = (origLeader + 2) % 3;
        h.disconnect(d1);
        h.disconnect(d2);
        h.sleep(250);
        h.submitToLeader(origLeader, 8);
        h.sleep(250);
        h.checkNotCommitted(8);

        h.reconnect(d1);
        h.reconnect(d2);
        h.sleep(600);
        // 8 is still not committed: the term changed and nothing of the new term was proposed.
        h.checkNotCommitted(8);
        const [newLeader, againTerm] = h.checkSingleLeader();
        expect(againTerm).not.toBe(origTerm);

        for (const v of [9, 10, 11]) h.submitToLeader(newLeader, v);
        h.sleep(350);
        for (const v of [9, 10, 11]) h.checkCommittedN(v, 3);
      }),
    );
  });

  test("CommitsWithLeaderDisconnects", () => {
    forEachSeed((seed) =>
      scenario(5, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.submitToLeader(origLeader, 6);
        h.sleep(150);
        h.checkCommittedN(6, 5);

        h.disconnect(origLeader);
        h.sleep(10);
        // The disconnected leader still accepts 7, but can never commit it.
        h.submitToLeader(origLeader, 7);
        h.sleep(150);
        h.checkNotCommitted(7);

        const [newLeader] = h.checkSingleLeader();
        h.submitToLeader(newLeader, 8);
        h.sleep(150);
        h.checkCommittedN(8, 4);

        // The old leader comes back; it must not win (its log lacks 8).
        h.reconnect(origLeader);
        h.sleep(600);
        const [finalLeader] = h.checkSingleLeader();
        expect(finalLeader).not.toBe(origLeader);

        h.submitToLeader(newLeader, 9);
        h.sleep(150);
        h.checkCommittedN(9, 5);
        h.checkCommittedN(8, 5);
        h.checkNotCommitted(7);
      }),
    );
  });
});
