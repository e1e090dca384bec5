// Requests from Node into the bench Worker: an undici Pool of keep-alive connections with plain
// `request()`, several times cheaper in Node CPU than Miniflare's dispatchFetch (a connection per
// request), which matters because Node shares the 2 cores with workerd. Every suite uses it, so
// its cost is in the single object's figures and Raft's alike.
import { Pool } from "undici";

/** status 0: the request itself failed (timeout, connection; no headers then); ms: wall time, body included. */
export interface Answer {
  readonly status: number;
  readonly body: any;
  readonly ms: number;
  readonly headers: { get(name: string): string | null };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Http {
  // No limit on connections: N closed-loop clients hold N of them, each reused request after
  // request, one request at a time (pipelining would let a slow answer hold up those behind it).
  private readonly pool: Pool;

  /** A client of any HTTP server at `origin` (the bench Worker, etcd's gateway, a running `wrangler dev`). */
  static connect(origin: string): Http {
    return new Http(origin);
  }

  private constructor(origin: string) {
    this.pool = new Pool(new URL(origin).origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
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
        const message = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e);
        if (method !== "GET" || !/other side closed|ECONNRESET|UND_ERR_SOCKET/i.test(message)) throw e;
        return send();
      });
      const ms = performance.now() - t0;
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: the text itself
      }
      const get = (name: string) => {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      };
      return { status: res.statusCode, body: parsed, ms, headers: { get } };
    } catch (e) {
      return { status: 0, body: { error: "request_failed", message: e instanceof Error ? e.message : String(e) }, ms: performance.now() - t0, headers: { get: () => null } };
    }
  }

  /** The answer's body, or an Error saying what came back instead. */
  async ok<T = any>(method: string, path: string, body?: unknown, expect: readonly number[] = [200]): Promise<T> {
    const a = await this.call(method, path, body);
    if (!expect.includes(a.status)) throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
    return a.body as T;
  }
}
