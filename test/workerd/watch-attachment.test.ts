// Where a WebSocket watch stream's state waits while its object hibernates
// (src/server/watch-attachment.ts), on a real socket in a real object: the pinned workerd's
// attachment limit is 16,384 bytes (Cloudflare's docs long said 2,048); a stream of a few
// watchers fits in its attachment and writes no row; one of 200 watchers goes to a watch_stream
// row (the attachment names it) and reads back equal; shrinking moves it back and deletes the
// row; closing forgets it.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { utf8 } from "../../src/kv/etcd/bytes.ts";
import type { StreamState } from "../../src/kv/etcd/watch-hub.ts";
import { WatchStates } from "../../src/server/watch-attachment.ts";
import { freshName } from "./harness.ts";

function stateOf(watchers: number): StreamState {
  return {
    nextId: watchers,
    watchers: Array.from({ length: watchers }, (_, id) => ({
      id,
      range: { start: utf8(`/services/payments/instance-${id}/`), end: utf8(`/services/payments/instance-${id}0`) },
      filters: [1],
      prevKv: true,
      progressNotify: false,
      nextRevision: 1_000 + id,
      quietSinceTick: true,
      compacted: false,
      caughtUp: id % 2 === 0,
    })),
  };
}

test("a stream's state: in the attachment while it fits (16,384 bytes), else in a watch_stream row, read back equal either way", async () => {
  await runInDurableObject(env.RAFT_SERVER.getByName(freshName("watch-attachment")), (_, state) => {
    const sql = state.storage.sql;
    const [, ws] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    state.acceptWebSocket(ws, ["watch:s1"]);
    // The runtime's limit, which decides where a state goes.
    ws.serializeAttachment("x".repeat(16_000));
    expect(() => ws.serializeAttachment("x".repeat(16_400))).toThrow(/16384 bytes/);

    const rows = () => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'watch_stream'").one().n === 0
      ? 0
      : sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM watch_stream").one().n;
    const states = new WatchStates(sql);
    const small = stateOf(3);
    states.save(ws, "s1", small);
    expect(rows()).toBe(0);
    expect(new WatchStates(sql).load(ws)).toEqual({ streamId: "s1", state: small });

    const big = stateOf(200);
    states.save(ws, "s1", big);
    expect(rows()).toBe(1);
    expect((ws.deserializeAttachment() as { state: unknown }).state).toBeNull();
    expect(new WatchStates(sql).load(ws)).toEqual({ streamId: "s1", state: big });

    states.save(ws, "s1", small);
    expect(rows()).toBe(0);
    states.save(ws, "s1", big);
    states.forget("s1");
    expect(rows()).toBe(0);
  });
});
