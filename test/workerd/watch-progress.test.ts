// progress_notify on a server (watch-host.ts): no watcher asks, no wake is asked for (the alarm
// stays free); one asks, a wake is asked for one interval later; when the alarm comes, each
// progress_notify watcher that was sent nothing since the last round gets a header-only
// message at the current revision, one that was sent an event does not, and a watcher without
// progress_notify never does. Driven through the host in a real object (the alarm's call is
// progress(now), as RaftServer.alarm makes it), with a 1 s interval.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { encodeBase64, utf8 } from "../../src/kv/etcd/bytes.ts";
import { makeKvCommand } from "../../src/kv/index.ts";
import { KvState } from "../../src/server/kv-state.ts";
import { WatchHost } from "../../src/server/watch-host.ts";
import { freshName } from "./harness.ts";

interface Result {
  header: { revision?: string };
  watch_id?: string;
  created?: boolean;
  events?: unknown[];
}

test("progress_notify: a wake one interval on only while a watcher asks; quiet watchers get a header at the current revision, busy ones and others nothing", async () => {
  const story = await runInDurableObject(env.RAFT_SERVER.getByName(freshName("watch-progress")), async (_, state) => {
    const kv = new KvState(state.storage.sql);
    let index = 0;
    const put = (key: string) => kv.apply([{ index: ++index, term: 1, command: makeKvCommand({ op: "put", key, value: "v" }, 1_000 + index) }]);
    const wakes: number[] = [];
    const host = new WatchHost(state, kv.watchStore, { ids: () => ({ clusterId: 1, memberId: 1, raftTerm: 1 }), narrate: () => undefined, id: () => 0, wakeAt: (t) => wakes.push(t) }, 1_000);
    const open = async (create: Record<string, unknown>) => {
      const response = await host.fetch(new Request("http://server/v3/watch", { method: "POST", body: JSON.stringify({ create_request: create }) }));
      const reader = response.body!.getReader();
      const results: Result[] = [];
      let buffered = "";
      void (async () => {
        for (;;) {
          const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (chunk.done) return;
          buffered += new TextDecoder().decode(chunk.value);
          for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
            results.push((JSON.parse(buffered.slice(0, nl)) as { result: Result }).result);
            buffered = buffered.slice(nl + 1);
          }
        }
      })();
      return { results, cancel: () => reader.cancel() };
    };
    const settle = () => new Promise((r) => setTimeout(r, 50));

    const plain = await open({ key: encodeBase64(utf8("p")) });
    await settle();
    const wakesWithoutProgress = wakes.length;
    const quiet = await open({ key: encodeBase64(utf8("q")), progress_notify: true });
    const busy = await open({ key: encodeBase64(utf8("b")), progress_notify: true });
    await settle();
    const asked = wakes.length;
    const due = wakes[0]!;
    host.progress(due - 1); // an alarm for something else, before the round: nothing
    put("b");
    host.afterApply(false);
    host.progress(due); // the round: the quiet watcher only
    await settle();
    const first = { quiet: quiet.results.slice(1), busy: busy.results.slice(1), plain: plain.results.slice(1) };
    host.progress(wakes[1]!); // the next round: both quiet now
    await settle();
    const second = { quiet: quiet.results.length - 1, busy: busy.results.length - 1, plain: plain.results.length - 1 };
    const nextAsked = wakes.length;
    for (const s of [plain, quiet, busy]) await s.cancel();
    return { wakesWithoutProgress, asked, nextAsked, first, second, revision: kv.watchStore.readMeta().revision };
  });
  expect(story.wakesWithoutProgress).toBe(0);
  expect(story.asked).toBe(1);
  // Only a header (watch_id 0 is left out, as jsonpb leaves out zeros).
  expect(story.first.quiet).toEqual([{ header: { cluster_id: "1", member_id: "1", revision: String(story.revision), raft_term: "1" } }]);
  expect(story.first.busy.map((r) => r.events?.length ?? 0)).toEqual([1]);
  expect(story.first.plain).toEqual([]);
  expect(story.second).toEqual({ quiet: 2, busy: 2, plain: 0 });
  expect(story.nextAsked).toBe(3);
});
