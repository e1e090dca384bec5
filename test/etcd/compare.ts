// Answer comparison for the etcd fixtures: an answer recorded from etcd 3.4.23 and an answer
// from this project must be equal except for the ids that differ by nature between two
// clusters (cluster_id, member_id, raft_term). Those three are dropped from every `header`
// object at any depth (txn responses nest headers); nothing else is ignored.

/** The header fields that name a particular cluster, member or term rather than the data. */
export const IGNORED_HEADER_FIELDS: readonly string[] = ["cluster_id", "member_id", "raft_term"];

/** A deep copy of `x` with the ignored fields removed from every object found under a `header` key. */
export function normalizeAnswer(x: unknown): unknown {
  return normalize(x, false);
}

function normalize(x: unknown, isHeader: boolean): unknown {
  if (Array.isArray(x)) return x.map((item) => normalize(item, false));
  if (x === null || typeof x !== "object") return x;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(x as Record<string, unknown>)) {
    if (isHeader && IGNORED_HEADER_FIELDS.includes(key)) continue;
    out[key] = normalize(value, key === "header");
  }
  return out;
}

/**
 * null when the two answers are equal after normalizeAnswer; otherwise one line naming the
 * first difference by its path (`$.responses[1].response_range.kvs[0].version`), with both values.
 */
export function diffAnswers(expected: unknown, actual: unknown): string | null {
  return firstDifference(normalizeAnswer(expected), normalizeAnswer(actual), "$");
}

function firstDifference(expected: unknown, actual: unknown, path: string): string | null {
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return mismatch(path, expected, actual);
    const shared = Math.min(expected.length, actual.length);
    for (let i = 0; i < shared; i++) {
      const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    if (expected.length !== actual.length) {
      return `${path}: expected ${expected.length} items, got ${actual.length}` +
        ` (first extra: ${show(expected.length > actual.length ? expected[shared] : actual[shared])})`;
    }
    return null;
  }
  if (isObject(expected) || isObject(actual)) {
    if (!isObject(expected) || !isObject(actual)) return mismatch(path, expected, actual);
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const key of keys) {
      const childPath = `${path}.${key}`;
      if (!(key in actual)) return `${childPath}: missing (expected ${show(expected[key])})`;
      if (!(key in expected)) return `${childPath}: unexpected ${show(actual[key])}`;
      const d = firstDifference(expected[key], actual[key], childPath);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : mismatch(path, expected, actual);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function mismatch(path: string, expected: unknown, actual: unknown): string {
  return `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

function show(x: unknown): string {
  const text = JSON.stringify(x);
  return text === undefined ? String(x) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
