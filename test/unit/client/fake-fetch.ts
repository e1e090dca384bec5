// A scripted fetch for client tests: each call takes the next step of the script and the
// request is recorded (URL, method, headers, body) for assertions.

export interface Recorded {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** A step: an answer, an error to throw (a lost connection), or a function of the request. */
export type Step = Response | Error | "hang" | ((req: Recorded) => Response | Promise<Response>);

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function fakeFetch(script: Step[]) {
  const requests: Recorded[] = [];
  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const req: Recorded = {
      url: input,
      method: init.method ?? "GET",
      headers,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const step = script.shift();
    if (step === undefined) throw new Error(`fake fetch: no answer scripted for request ${requests.length}`);
    if (step === "hang") {
      // Never answers; only the abort signal ends it, as a real fetch would.
      return new Promise((_, reject) => {
        const signal = init.signal;
        if (signal == null) return;
        signal.addEventListener("abort", () => reject(new DOMException("The operation was aborted.", "AbortError")));
      });
    }
    if (step instanceof Error) throw step;
    return typeof step === "function" ? step(req) : step;
  };
  return { fetch, requests };
}

/** Virtual time: sleeping advances it at once. */
export function fakeClock(start = 1_000) {
  const state = { t: start, sleeps: [] as number[] };
  return {
    state,
    clock: {
      now: () => state.t,
      sleep: async (ms: number) => {
        state.sleeps.push(ms);
        state.t += ms;
      },
    },
  };
}
