import { describe, expect, test } from "vitest";
import { timelineDocument } from "../../../src/ui/timeline/document.ts";
import { isHeartbeat } from "../../../src/ui/timeline/filters.ts";
import { parseTestLog } from "../../../src/ui/timeline/parse.ts";
import { SEED } from "./seed.ts";

describe("heartbeats", () => {
  test("empty appends and their plain replies are heartbeats; elections and real appends are not", () => {
    expect(isHeartbeat("sending AppendEntries to 2: ni=0, args={Term:1 LeaderId:1 PrevLogIndex:0 PrevLogTerm:0 Entries:[] LeaderCommit:0}")).toBe(true);
    expect(isHeartbeat("AppendEntries: {Term:1 LeaderId:1 PrevLogIndex:0 PrevLogTerm:0 Entries:[] LeaderCommit:0}")).toBe(true);
    expect(isHeartbeat("AppendEntries reply: {Term:1 Success:true}")).toBe(true);
    expect(isHeartbeat("AppendEntries reply: {Term:4 Success:false}")).toBe(false);
    expect(isHeartbeat("sending AppendEntries to 0: ni=1, args={Term:2 LeaderId:1 PrevLogIndex:0 PrevLogTerm:0 Entries:[{x 2}] LeaderCommit:0}")).toBe(false);
    expect(isHeartbeat("becomes Leader; term=1, log=[]")).toBe(false);
  });

  test("hiding them keeps every state change and [TEST] line of the seed", () => {
    const t = parseTestLog(SEED)[0];
    if (!t) throw new Error("seed did not parse");
    const full = timelineDocument(t);
    const quiet = timelineDocument(t, { hideHeartbeats: true });
    const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;
    const heartbeats = t.entries.filter((e) => e.server !== null && isHeartbeat(e.text)).length;
    expect(heartbeats).toBeGreaterThan(60);
    expect(count(quiet, /<tr/g)).toBe(count(full, /<tr/g) - heartbeats);
    expect(count(quiet, /becomes /g)).toBe(count(full, /becomes /g));
    expect(count(quiet, /\[TEST\]/g)).toBe(count(full, /\[TEST\]/g));
    expect(quiet).toContain(`${heartbeats} heartbeat lines hidden`);
  });
});
