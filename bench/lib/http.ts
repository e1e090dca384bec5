// Requests from Node into the bench Worker through Miniflare's dispatchFetch. Each one costs
// ~1.3 ms of Node→workerd plumbing (TOOLCHAIN.md) on top of what the Worker does; the single
// object and the Raft clusters are driven the same way, so the cost is in both equally.
import type { Miniflare } from "miniflare";

export interface Answer {
  /** HTTP status; 0 when the request itself failed (timeout, connection). */
  readonly status: number;
  readonly body: any;
  /** Wall time of the request, response body included, ms. */
  readonly ms: number;
  /** Response headers (empty when the request failed). */
  readonly headers: Headers;
}

export class Http {
  constructor(private readonly mf: Miniflare) {}

  async call(method: string, path: string, body?: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<Answer> {
    const init: Record<string, unknown> = { method, signal: AbortSignal.timeout(timeoutMs), headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    const t0 = performance.now();
    try {
      const res = await this.mf.dispatchFetch(`http://bench${path}`, init);
      const text = await res.text();
      const ms = performance.now() - t0;
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, ms, headers: res.headers as unknown as Headers };
    } catch (e) {
      return { status: 0, body: { error: "request_failed", message: e instanceof Error ? e.message : String(e) }, ms: performance.now() - t0, headers: new Headers() };
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
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
