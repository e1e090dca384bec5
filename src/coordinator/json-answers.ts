// Every error answer carries a JSON body, `{"error": "<code>", "message": "<human text>"}`
// (API.md). The router's onError makes one for every error it sees (app.ts); this is the
// net under it, at the Worker's entry: a handler that failed outside the router, or an
// error answer made without a body (four kv answers were once a bare 503 within 20 ms of a
// new cluster's first requests, in black-box testing), still leaves as JSON.
type Fetch<E, C> = (request: Request, env: E, ctx: C) => Response | Promise<Response>;

/** Codes for error statuses that arrive without a body of their own. */
const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "too_large",
  429: "too_many_requests",
  500: "internal",
  503: "unavailable",
  504: "timeout",
};

export function withJsonErrors<E, C>(fetch: Fetch<E, C>): Fetch<E, C> {
  return async (request, env, ctx) => {
    let response: Response;
    try {
      response = await fetch(request, env, ctx);
    } catch (error) {
      console.error(`${request.method} ${new URL(request.url).pathname} failed outside the router:`, error);
      return errorAnswer(500, "internal error");
    }
    if (response.status < 400 || request.method === "HEAD") return response;
    if ((response.headers.get("Content-Type") ?? "").includes("application/json")) return response;
    const text = (await response.text()).trim();
    const answer = errorAnswer(response.status, text || `${response.status} ${response.statusText || "error"}`.trim());
    for (const [k, v] of response.headers) if (k.toLowerCase() !== "content-type" && k.toLowerCase() !== "content-length") answer.headers.set(k, v);
    return answer;
  };
}

function errorAnswer(status: number, message: string): Response {
  const error = CODES[status] ?? (status >= 500 ? "internal" : "bad_request");
  return Response.json({ error, message }, { status });
}
