// A watch client for the workerd tests: a WebSocket or an HTTP stream on
// /clusters/{c}/v3/watch through the coordinator Worker, whose messages are collected in order
// and waited for with deadlines; and etcd writes (put, deleterange, txn, compaction) sent to the
// leader, retried while it moves.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { encodeBase64, utf8 } from "../../src/kv/etcd/bytes.ts";
import type { EtcdWriteOp } from "../../src/kv/index.ts";
import { serverName, type EtcdWriteAnswer } from "../../src/server/protocol.ts";
import type { Harness } from "./harness.ts";

export const b64 = (s: string) => encodeBase64(utf8(s));
export const text = (b: string | undefined) => (b === undefined ? "" : new TextDecoder().decode(Uint8Array.from(atob(b), (c) => c.charCodeAt(0))));

/** A watch response as the gateway writes it (`result` of a line or frame). */
export interface WatchResult {
  header: { revision?: string; member_id?: string };
  watch_id?: string;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: Array<{ type?: "DELETE"; kv: { key: string; value?: string; mod_revision?: string }; prev_kv?: { key: string; value?: string } }>;
}

/** An event as the tests compare them: "PUT a1=1@5 (prev 0)" reads well in a failure. */
export function eventText(e: NonNullable<WatchResult["events"]>[number]): string {
  const what = e.type === "DELETE" ? `DELETE ${text(e.kv.key)}` : `PUT ${text(e.kv.key)}=${text(e.kv.value)}`;
  const prev = e.prev_kv === undefined ? "" : ` (prev ${text(e.prev_kv.value)})`;
  return `${what}@${e.kv.mod_revision ?? "?"}${prev}`;
}

/** Collected messages and a way to wait for one. */
class Inbox {
  readonly results: WatchResult[] = [];
  readonly errors: unknown[] = [];
  private waiters: Array<() => void> = [];

  push(value: unknown): void {
    const v = value as { result?: WatchResult; error?: unknown };
    if (v.result !== undefined) this.results.push(v.result);
    else this.errors.push(v.error ?? v);
    this.wake();
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `done()` holds, or fails at the deadline saying what came. */
  async until(what: string, done: () => boolean, deadlineMs = 5_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${deadlineMs} ms; got ${JSON.stringify(this.results)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Every event given to watch `id`, in order. */
  events(id: number): string[] {
    return this.results.filter((r) => Number(r.watch_id ?? 0) === id).flatMap((r) => (r.events ?? []).map(eventText));
  }
}

export class WatchSocket extends Inbox {
  closed: { code: number; reason: string } | null = null;

  private constructor(
    readonly ws: WebSocket,
    readonly server: number | null,
  ) {
    super();
    ws.addEventListener("message", (e) => this.push(JSON.parse(String(e.data))));
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.wake();
    });
    ws.addEventListener("error", () => {
      this.closed ??= { code: 1006, reason: "error" };
      this.wake();
    });
  }

  /** Opens a WebSocket on the cluster's watch path, pinned to `server` if given. */
  static async open(h: Harness, server?: number): Promise<WatchSocket> {
    const query = server === undefined ? "" : `?server=${server}`;
    const res = await exports.default.fetch(new Request(`http://coordinator/clusters/${h.name}/v3/watch${query}`, { headers: { Upgrade: "websocket" } }));
    if (res.status !== 101) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
    const ws = res.webSocket!;
    ws.accept();
    return new WatchSocket(ws, server ?? null);
  }

  send(request: unknown): void {
    this.ws.send(JSON.stringify(request));
  }

  /** Creates a watch and waits for its `created`; answers its id. */
  async create(create: Record<string, unknown>): Promise<number> {
    const before = this.results.length;
    this.send({ create_request: create });
    let id = -1;
    await this.until("created", () => {
      const r = this.results.slice(before).find((m) => m.created === true);
      if (r !== undefined) id = Number(r.watch_id ?? 0);
      return r !== undefined;
    });
    return id;
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

/** etcd's HTTP streaming form: the body's requests, then `{"result": ...}` lines as they come. */
export class WatchStream extends Inbox {
  status = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  static async open(h: Harness, body: string, server?: number): Promise<WatchStream> {
    const s = new WatchStream();
    const query = server === undefined ? "" : `?server=${server}`;
    const res = await exports.default.fetch(new Request(`http://coordinator/clusters/${h.name}/v3/watch${query}`, { method: "POST", body }));
    s.status = res.status;
    if (res.status !== 200) {
      s.push({ error: await res.json() });
      return s;
    }
    s.reader = res.body!.getReader();
    void s.pump();
    return s;
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const chunk = await this.reader!.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) return;
      buffered += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        this.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
    }
  }

  async cancel(): Promise<void> {
    await this.reader?.cancel().catch(() => undefined);
  }
}

/** An etcd write through the leader (retried while there is none or it moved); answers its body. */
export async function etcdWrite(h: Harness, op: EtcdWriteOp, request: unknown, deadlineMs = 10_000): Promise<{ header: { revision: string } } & Record<string, unknown>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const statuses = await h.statuses().catch(() => []);
    const leader = statuses.find((s) => s.state === "Leader");
    if (leader !== undefined) {
      const stub = env.RAFT_SERVER.getByName(serverName(h.name, leader.id));
      const config = await stub.clusterConfig();
      // (Workers' RPC typing loses the answer's "ok" variant: the class's own type is what travels.)
      const answer = (await stub.etcdWrite(config!.epoch, op, request, undefined, 3_000).catch(() => null)) as EtcdWriteAnswer | null;
      if (answer !== null && answer.kind === "ok") return answer.result.body as { header: { revision: string } };
    }
    if (Date.now() > deadline) throw new Error(`etcd ${op} not applied within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const put = (h: Harness, key: string, value: string) => etcdWrite(h, "put", { key: b64(key), value: b64(value) });
export const del = (h: Harness, key: string) => etcdWrite(h, "deleterange", { key: b64(key) });
