// Raw commands are stored so that nothing can take them for a system command, and read back
// as submitted (src/server/raw-command.ts).
import { describe, expect, test } from "vitest";
import { parseKvCommand } from "../../../src/kv/command.ts";
import { membershipOf } from "../../../src/raft/membership.ts";
import { unwrapRawCommand, wrapRawCommand } from "../../../src/server/raw-command.ts";

const kvShaped = { kind: "kv", op: "put", key: "k", value: "v", proposedAt: 8.64e15, session: { clientId: "c", requestId: 1 } };
const membershipShaped = { kind: "membership", voters: [0], learners: [] };

describe("raw commands", () => {
  test("one shaped like a kv command or a configuration is wrapped, and then neither", () => {
    for (const forged of [kvShaped, membershipShaped, { kind: "raw", command: kvShaped }, { kind: 7 }]) {
      const stored = JSON.parse(JSON.stringify(wrapRawCommand(forged))) as unknown; // as the log row holds it
      expect(parseKvCommand(stored)).toMatchObject({ ok: false, reason: "not_kv" });
      expect(membershipOf(stored)).toBeNull();
      expect(unwrapRawCommand(stored)).toEqual(forged);
    }
  });

  test("anything without a kind is stored as it is, as before", () => {
    for (const plain of [42, "put", null, true, [1, { kind: "kv" }], { op: "put", key: "k" }, {}]) {
      expect(wrapRawCommand(plain)).toBe(plain);
      expect(unwrapRawCommand(plain)).toBe(plain);
    }
  });

  test("entries already in the log read back as they were stored", () => {
    // A kv command of the kv route, a configuration, a leader's no-op: none is a wrapped raw command.
    for (const stored of [kvShaped, membershipShaped, null]) expect(unwrapRawCommand(stored)).toBe(stored);
  });
});
