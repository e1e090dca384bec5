// The exactly-once session table's weight (issue 23): clients that each overwrite one key with a 64 KiB value
// under a Client-Id of their own (each result holds the 64 KiB `prev`); every server's stored results stay bounded.
import { Cluster } from "../lib/cluster.ts";
import { fmt, table } from "../lib/render.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const [CLIENTS, VALUE, BOUND] = [500, 64 * 1024, 8 * 1024 * 1024]; // BOUND: DEFAULT_MAX_RESULT_CHARS, src/kv/sessions.ts
type Durable = { rows: { sessions: number }; sessionResultChars?: number };

const measure = ({ http, progress }: Ctx) =>
  Cluster.with(http, `sess-${Date.now().toString(36)}`, { size: 3 }, false, async (c) => {
    progress(`sessions: ${CLIENTS} clients overwrite one key with 64 KiB values, each with its own Client-Id`);
    await c.stable();
    for (let i = 0; i < CLIENTS; i++) await http.call("PUT", `/clusters/${c.name}/kv/s`, { value: String(i % 10).repeat(VALUE) }, 30_000, { "Client-Id": `bench-${i}`, "Request-Id": "1" });
    await c.stable();
    const all = await Promise.all([0, 1, 2].map((id) => http.ok<{ durable: Durable }>("GET", `/clusters/${c.name}/servers/${id}`)));
    return all.map(({ durable: d }) => ({ sessions: d.rows.sessions, resultChars: d.sessionResultChars ?? null }));
  });

export type SessionsResult = Awaited<ReturnType<typeof measure>>;

const body = (r: SessionsResult) =>
  typeof r === "string"
    ? `Not measured: ${r}.`
    : `${table(["server", "sessions", "stored results (M characters)", "bound (M)"], r.map((s, i) => [String(i), String(s.sessions), fmt(s.resultChars === null ? null : s.resultChars / 1e6), fmt(BOUND / 1e6)]))}\n\nUnbounded, ${CLIENTS} results of 64 KiB would be ${fmt((CLIENTS * VALUE) / 1e6)} M characters.`;

export const sessions: Suite<SessionsResult> = { name: "sessions", full: false, url: false, about: "the exactly-once session table's stored results against their bound (500 clients × 64 KiB)", run: measure, sections: (r) => [["Session table", body(r)]] };
