// Requests from Node into the bench Worker: an undici Pool of keep-alive connections with plain
// `request()`, several times cheaper in Node CPU than Miniflare's dispatchFetch (a connection per
// request), which matters because Node shares the 2 cores with workerd. Every suite uses it, so
// its cost is in the single object's figures and Raft's alike.
import { Pool } from "undici";

export interface Answer {
  /** HTTP status; 0 when the request itself failed (timeout, connection). */
  readonly status: number;
  readonly body: any;
  /** Wall time of the request, response body included, ms. */
  readonly ms: number;
  /** Response headers (none when the request failed). */
  readonly headers: { get(name: string): string | null };
}

type Send = (method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs: number) => Promise<{ status: number; text: string; headers: Answer["headers"] }>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Http {
  private constructor(
    private readonly send: Send,
    readonly close: () => Promise<void>,
  ) {}

  /** A client of any HTTP server at `origin` (the bench Worker, etcd's gateway, a running `wrangler dev`), with an undici Pool. */
  static connect(origin: string): Http {
    // No limit on connections: N closed-loop clients hold N of them, each reused request after
    // request, one request at a time (pipelining would let a slow answer hold up those behind it).
    const pool = new Pool(new URL(origin).origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
    return new Http(async (method, path, body, headers, timeoutMs) => {
      // MF-Disable-Pretty-Error: a plain 500, not Miniflare's HTML error page.
      const res = await pool.request({ method: method as "GET", path, body, headers: { ...headers, "MF-Disable-Pretty-Error": "true" }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const h = res.headers;
      const get = (name: string) => {
        const v = h[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      };
      return { status: res.statusCode, text: await res.body.text(), headers: { get } };
    }, () => pool.close());
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const h = payload === undefined ? headers : { ...headers, "Content-Type": "application/json" };
    const t0 = performance.now();
    try {
      const res = await this.retrying(method, path, payload, h, timeoutMs);
      const ms = performance.now() - t0;
      let parsed: unknown = res.text;
      try {
        parsed = res.text ? JSON.parse(res.text) : null;
      } catch {
        // not JSON: the text itself
      }
      return { status: res.status, body: parsed, ms, headers: res.headers };
    } catch (e) {
      return { status: 0, body: { error: "request_failed", message: e instanceof Error ? e.message : String(e) }, ms: performance.now() - t0, headers: { get: () => null } };
    }
  }

  /** A GET that fails because the server closed its idle keep-alive connection as it went out never reached the Worker: sent once more (other methods never). */
  private async retrying(...args: Parameters<Send>): ReturnType<Send> {
    try {
      return await this.send(...args);
    } catch (e) {
      const message = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e);
      if (args[0] !== "GET" || !/other side closed|ECONNRESET|UND_ERR_SOCKET/i.test(message)) throw e;
      return await this.send(...args);
    }
  }

  /** The answer's body, or an Error saying what came back instead. */
  async ok<T = any>(method: string, path: string, body?: unknown, expect: readonly number[] = [200]): Promise<T> {
    const a = await this.call(method, path, body);
    if (!expect.includes(a.status)) throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
    return a.body as T;
  }
}
