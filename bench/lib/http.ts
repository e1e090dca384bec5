// Requests from Node into the bench Worker. Two clients, chosen with `--client`:
//  - "undici" (the default): an undici Pool holding keep-alive connections to the HTTP
//    address Miniflare serves (`await mf.ready`), with undici's plain `request()` — no WHATWG
//    Request/Response objects. Measured with bench/client-cost.ts, it costs several times less
//    Node CPU per request than dispatchFetch, which matters because Node shares the 2 cores
//    with workerd and otherwise caps the load phases.
//  - "dispatch": Miniflare's `dispatchFetch`, the bench's client before: it builds a Request,
//    runs undici's `fetch` through Miniflare's dispatcher, which closes the connection after
//    every request (`reset: true`), and wraps the Response once more.
// Both reach the Worker through Miniflare's entry worker in workerd; the single object and the
// Raft clusters are driven by the same client, so its cost is in both equally.
import type { Miniflare } from "miniflare";
import { Pool } from "undici";

export type ClientKind = "undici" | "dispatch";
export const CLIENT_KINDS: readonly ClientKind[] = ["undici", "dispatch"];

/** The response headers the suites read. */
export interface HeaderLookup {
  get(name: string): string | null;
}

export interface Answer {
  /** HTTP status; 0 when the request itself failed (timeout, connection). */
  readonly status: number;
  readonly body: any;
  /** Wall time of the request, response body included, ms. */
  readonly ms: number;
  /** Response headers (none when the request failed). */
  readonly headers: HeaderLookup;
}

interface Raw {
  readonly status: number;
  readonly text: string;
  readonly headers: HeaderLookup;
}

/** One way of sending a request; `body` is already serialized. */
interface Transport {
  send(method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs: number): Promise<Raw>;
  close(): Promise<void>;
}

const NO_HEADERS: HeaderLookup = { get: () => null };

class DispatchTransport implements Transport {
  constructor(private readonly mf: Miniflare) {}

  async send(method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs: number): Promise<Raw> {
    const res = await this.mf.dispatchFetch(`http://bench${path}`, { method, body, headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  async close(): Promise<void> {}
}

class UndiciTransport implements Transport {
  private readonly pool: Pool;

  constructor(origin: string) {
    // No limit on connections: a closed-loop phase of N clients holds N of them open, each
    // reused request after request (keep-alive), one request at a time (no pipelining: a slow
    // answer would hold up the ones queued behind it and distort their latencies).
    this.pool = new Pool(origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  }

  async send(method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs: number): Promise<Raw> {
    // Miniflare's entry worker would answer an uncaught exception with an HTML error page;
    // this header asks for the plain 500 that dispatchFetch gets.
    const res = await this.pool.request({
      method: method as "GET",
      path,
      body,
      headers: { ...headers, "MF-Disable-Pretty-Error": "true" },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    const h = res.headers;
    return {
      status: res.statusCode,
      text,
      headers: {
        get(name: string) {
          const v = h[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
        },
      },
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export class Http {
  private constructor(
    private readonly transport: Transport,
    readonly kind: ClientKind,
  ) {}

  /** A client of the bench Worker that `mf` runs. Close it before disposing of `mf`. */
  static async open(mf: Miniflare, kind: ClientKind): Promise<Http> {
    if (kind === "dispatch") return new Http(new DispatchTransport(mf), kind);
    const url = await mf.ready;
    return new Http(new UndiciTransport(url.origin), kind);
  }

  /** A client of any HTTP server at `origin` (etcd's gateway, a running `wrangler dev`), with the undici Pool. */
  static connect(origin: string): Http {
    return new Http(new UndiciTransport(new URL(origin).origin), "undici");
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<Answer> {
    const h = { ...headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      h["Content-Type"] = "application/json";
    }
    const t0 = performance.now();
    try {
      const res = await this.send(method, path, payload, h, timeoutMs);
      const ms = performance.now() - t0;
      let parsed: unknown = null;
      try {
        parsed = res.text ? JSON.parse(res.text) : null;
      } catch {
        parsed = res.text;
      }
      return { status: res.status, body: parsed, ms, headers: res.headers };
    } catch (e) {
      return { status: 0, body: { error: "request_failed", message: e instanceof Error ? e.message : String(e) }, ms: performance.now() - t0, headers: NO_HEADERS };
    }
  }

  /**
   * One request. A GET that fails because the server closed its idle keep-alive connection
   * as the request went out (undici: "other side closed", or a reset) is sent once more on a
   * fresh connection: it never reached the Worker. Other methods are not repeated.
   */
  private async send(method: string, path: string, payload: string | undefined, h: Record<string, string>, timeoutMs: number): Promise<Raw> {
    try {
      return await this.transport.send(method, path, payload, h, timeoutMs);
    } catch (e) {
      const message = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e);
      if (method !== "GET" || !/other side closed|ECONNRESET|UND_ERR_SOCKET/i.test(message)) throw e;
      return await this.transport.send(method, path, payload, h, timeoutMs);
    }
  }

  /** The answer's body, or an Error saying what came back instead. */
  async ok<T = any>(method: string, path: string, body?: unknown, expect: readonly number[] = [200]): Promise<T> {
    const a = await this.call(method, path, body);
    if (!expect.includes(a.status)) {
      throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
    }
    return a.body as T;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
