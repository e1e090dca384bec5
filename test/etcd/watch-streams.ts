// etcd's watch streams as the recorders read them (record-watch.ts, probe-watch.ts): each stream
// one POST /v3/watch over HTTP/1.1 whose body holds the client's messages and then ends (etcd
// 3.4's gateway reads the whole body before its first answer: see README.md), its answer read
// line by line. After each step a recorder waits until every stream has been quiet for QUIET_MS,
// so each message is recorded after the step that caused it.

import { request, type ClientRequest } from "node:http";
import type { StreamMessage } from "./fixture.ts";

/** A step is over when no stream has said anything for this long (etcd catches watchers up every 100 ms). */
const QUIET_MS = 300;
/** ...but never before this long after the step, nor later than the deadline. */
const MIN_AFTER_STEP_MS = 350;
const STEP_DEADLINE_MS = 5000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class StreamRecorder {
  private readonly streams = new Map<number, { req: ClientRequest; status: number }>();
  private inbox: StreamMessage[] = [];
  private lastMessageAt = 0;

  constructor(private readonly port: number, private readonly since: () => number) {}

  open(stream: number, body: unknown[]): void {
    const req = request({ host: "127.0.0.1", port: this.port, path: "/v3/watch", method: "POST", headers: { "content-type": "application/json" } });
    const entry = { req, status: 0 };
    this.streams.set(stream, entry);
    req.on("response", (res) => {
      entry.status = res.statusCode ?? 0;
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line.length === 0) continue;
          this.inbox.push({ stream, at_ms: this.since(), message: JSON.parse(line) as unknown });
          this.lastMessageAt = performance.now();
        }
      });
      // An error answer (HTTP 500 to a bad first message) is one JSON object with no newline after it.
      res.on("end", () => {
        const rest = pending.trim();
        pending = "";
        if (rest.length === 0) return;
        this.inbox.push({ stream, at_ms: this.since(), message: JSON.parse(rest) as unknown });
        this.lastMessageAt = performance.now();
      });
      res.on("error", () => {}); // the client closing its own stream
    });
    req.on("error", () => {}); // likewise
    req.end(body.map((m) => JSON.stringify(m)).join("\n") + "\n");
  }

  status(stream: number): number {
    return this.streams.get(stream)?.status ?? 0;
  }

  close(stream: number): void {
    this.streams.get(stream)?.req.destroy();
    this.streams.delete(stream);
  }

  closeAll(): void {
    for (const stream of [...this.streams.keys()]) this.close(stream);
  }

  /** Waits until the streams have been quiet for QUIET_MS (at least MIN_AFTER_STEP_MS after `from`), then takes what arrived. */
  async settle(from: number): Promise<StreamMessage[]> {
    const deadline = from + STEP_DEADLINE_MS;
    for (;;) {
      const now = performance.now();
      if (now >= deadline) break;
      if (now - from >= MIN_AFTER_STEP_MS && now - Math.max(this.lastMessageAt, from) >= QUIET_MS) break;
      await sleep(20);
    }
    const taken = this.inbox;
    this.inbox = [];
    return taken;
  }
}

