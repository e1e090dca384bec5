// Requests as a careful client sends them: writes under exactly-once ids, and every request
// repeated (same ids) while the answer is 503 or 504, until another answer or a deadline.
// On a loaded machine a write can miss its attempt's wait (an election, a stall of workerd)
// and, without ids, the coordinator may not retry it: it answers 504, and the test would
// see the load instead of the behaviour it checks. With ids a retry is safe: it is applied
// once and answers the first result.
import { sleep } from "./harness.ts";
import { request, type FullAnswer } from "./kv-harness.ts";

/** How long a test waits for one request to be answered other than 503/504 (a deadline polled, not a sleep). */
export const ANSWER_DEADLINE_MS = 20_000;

/** One client's exactly-once ids: a fixed Client-Id, increasing Request-Ids. */
export function idSource(clientId = `t-${crypto.randomUUID()}`): () => Record<string, string> {
  let next = 1;
  return () => ({ "Client-Id": clientId, "Request-Id": String(next++) });
}

/** `request`, repeated with the same headers while the answer is 503 or 504. */
export async function answered<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FullAnswer<T>> {
  const end = Date.now() + ANSWER_DEADLINE_MS;
  for (;;) {
    const r = await request<T>(method, path, body, headers);
    if ((r.status !== 503 && r.status !== 504) || Date.now() > end) return r;
    await sleep(50);
  }
}
