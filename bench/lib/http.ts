// Requests from Node: an undici Pool of keep-alive connections, several times cheaper in Node CPU
// than Miniflare's dispatchFetch, which matters as Node shares the 2 cores with workerd.
import { Pool } from "undici";

/** status 0: the request itself failed (timeout, connection; no headers then); ms: wall time, body included. */
export interface Answer {
  readonly status: number;
  readonly body: any;
  readonly ms: number;
  readonly headers: { get(name: string): string | null };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sends `f` every 100 ms until it answers 200 and `ok` holds, for at most `ms`: null then, else the last answer. */
export async function until(f: () => Promise<Answer>, ms: number, ok = (_: Answer) => true): Promise<string | null> {
  const deadline = performance.now() + ms;
  let last = "";
  while (performance.now() < deadline) {
    const a = await f();
    if (a.status === 200 && ok(a)) return null;
    last = `${a.status} ${JSON.stringify(a.body)}`;
    await sleep(100);
  }
  return last;
}

export class Http {
  // N closed-loop clients hold N connections, one request at a time each (pipelining would let a slow answer hold up those behind it).
  private pool: Pool;

  /** A client of any HTTP server at `origin` (the bench Worker, etcd's gateway, a running `wrangler dev`). */
  constructor(private readonly origin: string) {
    this.pool = Http.connect(origin);
  }

  private static connect(origin: string): Pool {
    return new Pool(new URL(origin).origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  }

  /** New connections for whatever comes next: after the server process was replaced, a kept connection is dead, and a POST sent on it fails. */
  async reconnect(): Promise<void> {
    const old = this.pool;
    this.pool = Http.connect(this.origin);
    await old.destroy();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // MF-Disable-Pretty-Error: a plain 500, not Miniflare's HTML error page.
    const h = { ...headers, "MF-Disable-Pretty-Error": "true", ...(payload === undefined ? {} : { "Content-Type": "application/json" }) };
    const send = async () => {
      const res = await this.pool.request({ method: method as "GET", path, body: payload, headers: h, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      return { res, text: await res.body.text() };
    };
    const t0 = performance.now();
    try {
      // A GET whose idle keep-alive connection the server closed as it went out never reached the Worker: sent once more (other methods never).
      const { res, text } = await send().catch((e: unknown) => {
        if (method !== "GET" || !/other side closed|ECONNRESET|UND_ERR_SOCKET/i.test(e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e))) throw e;
        return send();
      });
      const ms = performance.now() - t0;
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: the text itself
      }
      const get = (name: string) => [res.headers[name.toLowerCase()]].flat().join(", ") || null;
      return { status: res.statusCode, body: parsed, ms, headers: { get } };
    } catch (e) {
      return { status: 0, body: { error: "request_failed", message: e instanceof Error ? e.message : String(e) }, ms: performance.now() - t0, headers: { get: () => null } };
    }
  }

  /** The answer's body, or an Error saying what came back instead. */
  async ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.call(method, path, body);
    if (a.status !== 200) throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
    return a.body as T;
  }
}
