// A watch from far in the past on a server (watch-host.ts): etcd's unsynced watchers, served in
// rounds. 1,500 revisions of history: the first 1,000 come at once, after `created`, in one
// message stamped with the current revision; the other 500 come from the host's sync timer
// (SYNC_MS later), not from a write; then live events follow. Driven through the host's HTTP
// stream form in a real object, its store filled by the apply path a server runs (KvState).
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { encodeBase64, utf8 } from "../../src/kv/etcd/bytes.ts";
import { makeKvCommand } from "../../src/kv/index.ts";
import { KvState } from "../../src/server/kv-state.ts";
import { SYNC_MS, WatchHost } from "../../src/server/watch-host.ts";
import { freshName } from "./harness.ts";

interface Line {
  result: { header: { revision?: string }; created?: boolean; events?: Array<{ kv: { mod_revision: string } }> };
}

test("a watch 1,500 revisions back: 1,000 at once, the rest from the sync timer, then live events", async () => {
  const seen = await runInDurableObject(env.RAFT_SERVER.getByName(freshName("watch-catch-up")), async (_, state) => {
    const kv = new KvState(state.storage.sql);
    let index = 0;
    const put = (value: string) => kv.apply([{ index: ++index, term: 1, command: makeKvCommand({ op: "put", key: "h", value }, 1_000 + index) }]);
    for (let i = 0; i < 1_500; i++) put(String(i));
    const host = new WatchHost(state, kv.watchStore, { ids: () => ({ clusterId: 1, memberId: 1, raftTerm: 1 }), narrate: () => undefined, id: () => 0, wakeAt: () => undefined });
    const body = JSON.stringify({ create_request: { key: encodeBase64(utf8("h")), start_revision: "2" } });
    const response = await host.fetch(new Request("http://server/v3/watch", { method: "POST", body }));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const lines: Array<Line & { at: number }> = [];
    const started = Date.now();
    let buffered = "";
    const readUntil = async (events: number) => {
      const count = () => lines.reduce((n, l) => n + (l.result.events?.length ?? 0), 0);
      while (count() < events) {
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${count()} of ${events} events within 5 s`)), 5_000)),
        ]);
        if (chunk.done) break;
        buffered += new TextDecoder().decode(chunk.value);
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          lines.push({ ...(JSON.parse(buffered.slice(0, nl)) as Line), at: Date.now() - started });
          buffered = buffered.slice(nl + 1);
        }
      }
    };
    await readUntil(1_500);
    put("live");
    host.afterApply(false);
    await readUntil(1_501);
    await reader.cancel();
    return lines.map((l) => ({
      created: l.result.created === true,
      revision: Number(l.result.header.revision),
      events: l.result.events?.length ?? 0,
      first: Number(l.result.events?.[0]?.kv.mod_revision ?? 0),
      at: l.at,
    }));
  });
  expect(seen.map(({ at: _, ...rest }) => rest)).toEqual([
    { created: true, revision: 1_501, events: 0, first: 0 },
    { created: false, revision: 1_501, events: 1_000, first: 2 },
    { created: false, revision: 1_501, events: 500, first: 1_002 },
    { created: false, revision: 1_502, events: 1, first: 1_502 },
  ]);
  // The second batch waited for the sync timer (no write came in between).
  expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(SYNC_MS - 10);
});
