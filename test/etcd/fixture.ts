// The fixture format shared by the recorder (record.ts) and whoever replays the fixtures.
// A file is one fresh etcd (revision 1, no keys) driven by one seeded sequence:
//   line 1: {"meta": {...}}; each next line: one request sent to etcd's JSON gateway and its answer.
// Lease fixtures (lease-<n>.jsonl) add each request's timing; watch fixtures (watch-<n>.jsonl)
// interleave streams, writes and the stream messages that followed each step.
// See README.md in this folder.

export interface FixtureMeta {
  etcd: string;
  seed: number;
  generator: number;
  ops: number;
  note: string;
}

/** One request to etcd's gateway (`path` under the gateway root, e.g. "/v3/kv/put") and its answer. */
export interface FixtureStep {
  path: string;
  request: unknown;
  status: number;
  response: unknown;
}

export interface Fixture {
  name: string;
  meta: FixtureMeta;
  steps: FixtureStep[];
}

/** Parses one fixture file's text; throws on a malformed line so a broken fixture is never half-read. */
export function parseFixture(name: string, text: string): Fixture {
  const lines = text.split("\n").filter((line) => line.length > 0);
  const first = JSON.parse(lines[0] ?? "null") as { meta?: FixtureMeta } | null;
  if (!first?.meta) throw new Error(`${name}: line 1 is not {"meta": ...}`);
  const steps = lines.slice(1).map((line, i) => {
    const step = JSON.parse(line) as FixtureStep;
    if (typeof step.path !== "string" || typeof step.status !== "number" || !("request" in step)) {
      throw new Error(`${name}: line ${i + 2} is not a step`);
    }
    return step;
  });
  if (steps.length !== first.meta.ops) throw new Error(`${name}: meta.ops ${first.meta.ops} but ${steps.length} steps`);
  return { name, meta: first.meta, steps };
}

/** A lease fixture's step: a FixtureStep with its timing, so a replay can bound TTLs by elapsed time. */
export interface TimedFixtureStep extends FixtureStep {
  /** The pause the generator asked for before sending (ms): 0 mostly, past a TTL to see expiry. */
  wait_ms: number;
  /** When the request was sent and when its answer was complete, in ms since the sequence started. */
  sent_ms: number;
  answered_ms: number;
}

export interface TimedFixture {
  name: string;
  meta: FixtureMeta;
  steps: TimedFixtureStep[];
}

/** One message read from a watch stream: the stream, when (ms since the sequence started), the parsed line. */
export interface StreamMessage {
  stream: number;
  at_ms: number;
  message: unknown;
}

/**
 * One step of a watch fixture, in the order the recorder did them:
 *  - open: POST /v3/watch whose body is `body` (each message JSON, one per line), body then ended
 *    (etcd 3.4's gateway over HTTP/1.1 reads the whole body before it answers: see README.md);
 *    `status` is the HTTP status of the stream;
 *  - kv: one request to the kv gateway (a write, a compaction or a read) and its answer;
 *  - close: the client drops stream `stream`;
 *  - wait: nothing sent for `ms` (to let progress notifications arrive).
 * `received` holds every stream message read after this step and before the next one.
 */
export type WatchAction =
  | { do: "open"; stream: number; body: unknown[]; status: number }
  | { do: "kv"; path: string; request: unknown; status: number; response: unknown }
  | { do: "close"; stream: number }
  | { do: "wait"; ms: number };

export type WatchStep = WatchAction & { sent_ms: number; received: StreamMessage[] };

export interface WatchFixture {
  name: string;
  meta: FixtureMeta;
  steps: WatchStep[];
}

function parseLines(name: string, text: string): { meta: FixtureMeta; rows: unknown[] } {
  const lines = text.split("\n").filter((line) => line.length > 0);
  const first = JSON.parse(lines[0] ?? "null") as { meta?: FixtureMeta } | null;
  if (!first?.meta) throw new Error(`${name}: line 1 is not {"meta": ...}`);
  const rows = lines.slice(1).map((line) => JSON.parse(line) as unknown);
  if (rows.length !== first.meta.ops) throw new Error(`${name}: meta.ops ${first.meta.ops} but ${rows.length} steps`);
  return { meta: first.meta, rows };
}

/** Parses a lease fixture's text; throws on a malformed line. */
export function parseTimedFixture(name: string, text: string): TimedFixture {
  const { meta, rows } = parseLines(name, text);
  const steps = rows.map((row, i) => {
    const step = row as TimedFixtureStep;
    const ok = typeof step.path === "string" && typeof step.status === "number" && "request" in step && "response" in step &&
      typeof step.wait_ms === "number" && typeof step.sent_ms === "number" && typeof step.answered_ms === "number" &&
      step.answered_ms >= step.sent_ms;
    if (!ok) throw new Error(`${name}: line ${i + 2} is not a timed step`);
    return step;
  });
  return { name, meta, steps };
}

/** Parses a watch fixture's text; throws on a malformed line or a message from a stream never opened. */
export function parseWatchFixture(name: string, text: string): WatchFixture {
  const { meta, rows } = parseLines(name, text);
  const opened = new Set<number>();
  const steps = rows.map((row, i) => {
    const step = row as WatchStep;
    const where = `${name}: line ${i + 2}`;
    if (typeof step.sent_ms !== "number" || !Array.isArray(step.received)) throw new Error(`${where} has no sent_ms or received`);
    switch (step.do) {
      case "open":
        if (typeof step.stream !== "number" || !Array.isArray(step.body) || typeof step.status !== "number") throw new Error(`${where}: bad open`);
        if (opened.has(step.stream)) throw new Error(`${where}: stream ${step.stream} opened twice`);
        opened.add(step.stream);
        break;
      case "kv":
        if (typeof step.path !== "string" || typeof step.status !== "number" || !("request" in step)) throw new Error(`${where}: bad kv step`);
        break;
      case "close":
        if (!opened.has(step.stream)) throw new Error(`${where}: closes stream ${step.stream} never opened`);
        break;
      case "wait":
        if (typeof step.ms !== "number") throw new Error(`${where}: bad wait`);
        break;
      default:
        throw new Error(`${where}: unknown step ${JSON.stringify((step as { do?: unknown }).do)}`);
    }
    for (const m of step.received) {
      if (!opened.has(m.stream) || typeof m.at_ms !== "number" || !("message" in m)) throw new Error(`${where}: bad received message`);
    }
    return step;
  });
  return { name, meta, steps };
}
