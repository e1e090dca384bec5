// The fixture format shared by the recorder (record.ts) and whoever replays the fixtures.
// A file is one fresh etcd (revision 1, no keys) driven by one seeded sequence:
//   line 1: {"meta": {...}}; each next line: one request sent to etcd's JSON gateway and its answer.
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
