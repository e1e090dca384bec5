// A seeded generator of operation sequences for etcd 3.4's JSON gateway (/v3/kv/*), used to
// record etcd's own answers into fixtures (record.ts) that the project must replay exactly.
//
// The generator is deterministic: one seed and the answers it is shown give one sequence. It
// watches each answer (observe) only to learn the store's revision and compacted revision, so
// that historical, compacted and future revisions are aimed at the right places; etcd itself is
// deterministic, so a re-recording with the same seed sends the same requests.
//
// It covers every field of issue 20 item 3, errors included: a small key alphabet makes keys
// collide, values come in a few lengths (empty included), bytes are base64 and int64s decimal
// strings as the gateway writes them (a few requests use the other spellings the gateway
// accepts: JSON numbers and enum numbers).

import { Buffer } from "node:buffer";
import { Rng } from "../sim/prng.ts";

/** Bump when a change to this file changes the sequence a seed produces. */
export const GENERATOR_VERSION = 3;

export interface Op {
  path: string;
  request: unknown;
}

export interface Observed {
  status: number;
  response: unknown;
}

type Json = Record<string, unknown>;

/** Keys as bytes (latin1): prefixes of each other, a "/" family, and 0xff keys whose prefix end is "\0". */
export const KEYS: readonly string[] = ["a", "ab", "abc", "b", "b/1", "b/2", "c", "zz", "\xff", "\xff\xff"];
/** Values of a few lengths, the empty value included. */
export const VALUES: readonly string[] = ["", "v", "value-1", "value-2", "x".repeat(40)];

const SORT_ORDERS = ["NONE", "ASCEND", "DESCEND"] as const;
const SORT_TARGETS = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"] as const;
const COMPARE_TARGETS = ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"] as const;
const COMPARE_RESULTS = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"] as const;
/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS = 128;
/** A lease id that is never granted: puts naming it get lease-not-found. */
const UNKNOWN_LEASE = "7587869132222201234";

export const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");

/** The smallest key greater than every key with this prefix ("" means "\0": no end). */
export function prefixEnd(key: string): string {
  const bytes = [...Buffer.from(key, "latin1")];
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      return Buffer.from([...bytes.slice(0, i), bytes[i]! + 1]).toString("latin1");
    }
  }
  return "\0";
}

export class SequenceGenerator {
  private readonly rng: Rng;
  /** The store's revision as last seen in an answer's header. */
  private revision = 1;
  /** The highest revision a compaction succeeded at (0: never compacted). */
  private compacted = 0;
  /** The revision of the last compaction request, to ask for it again. */
  private lastCompactionAsked = 0;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed, "etcd-sequence", GENERATOR_VERSION);
  }

  /** Learns the revision and compacted revision from etcd's answer to `op`. */
  observe(op: Op, observed: Observed): void {
    const header = (observed.response as { header?: { revision?: string } } | null)?.header;
    if (header?.revision !== undefined) this.revision = Math.max(this.revision, Number(header.revision));
    if (op.path === "/v3/kv/compaction" && observed.status === 200) {
      const asked = Number((op.request as { revision?: string | number } | null)?.revision ?? 0);
      this.compacted = Math.max(this.compacted, asked);
    }
  }

  next(): Op {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.24) return { path: "/v3/kv/put", request: this.put() };
    if (roll < 0.48) return { path: "/v3/kv/range", request: this.range(true) };
    if (roll < 0.58) return { path: "/v3/kv/deleterange", request: this.deleteRange() };
    if (roll < 0.84) return { path: "/v3/kv/txn", request: this.txn(0) };
    if (roll < 0.88) return { path: "/v3/kv/compaction", request: this.compaction() };
    if (roll < 0.92) return { path: "/v3/kv/txn", request: this.bigTxn() };
    if (roll < 0.96) return this.edgeCase();
    return this.badRequest();
  }

  // ---- building blocks ----

  private key(): string {
    return this.rng.pick(KEYS);
  }

  private value(): string {
    return this.rng.pick(VALUES);
  }

  /** An int64 as the gateway writes it; now and then as a JSON number, which it also accepts. */
  private int(n: number): string | number {
    return this.rng.chance(0.05) ? n : String(n);
  }

  /** An enum by name; now and then by number or omitted when it is the default (index 0). */
  private enumValue(names: readonly string[], index: number): string | number | undefined {
    if (index === 0 && this.rng.chance(0.4)) return undefined;
    return this.rng.chance(0.05) ? index : names[index];
  }

  /** key and range_end: one key, an interval (maybe empty or reversed), a prefix, "\0" forms. */
  private keyRange(into: Json): void {
    const r = this.rng;
    const k = this.key();
    const form = r.int(0, 10);
    if (form < 4) {
      into.key = b64(k);
    } else if (form < 6) {
      into.key = b64(k);
      into.range_end = b64(this.key());
    } else if (form === 6) {
      into.key = b64(k);
      into.range_end = b64(prefixEnd(k));
    } else if (form === 7) {
      into.key = b64(k);
      into.range_end = b64("\0");
    } else if (form === 8) {
      into.key = b64("\0");
      into.range_end = b64("\0");
    } else {
      const prefix = r.pick(["a", "b", "\xff"]);
      into.key = b64(prefix);
      into.range_end = b64(prefixEnd(prefix));
    }
  }

  /** A revision to read at: mostly current, else historical, exactly compacted, compacted, future. */
  private readRevision(): number | undefined {
    const r = this.rng;
    const choice = r.int(0, 10);
    if (choice < 4) return undefined;
    if (choice < 7) return r.int(Math.max(1, this.compacted), this.revision + 1);
    if (choice === 7) return this.compacted > 0 ? this.compacted : this.revision;
    if (choice === 8) return this.compacted > 1 ? r.int(1, this.compacted) : this.revision;
    return this.revision + r.int(1, 4);
  }

  /** A revision near the store's, for filters and compares (0 and just past the end included). */
  private nearRevision(): number {
    return this.rng.int(0, this.revision + 2);
  }

  // ---- requests ----

  range(allowRevision: boolean): Json {
    const r = this.rng;
    const req: Json = {};
    this.keyRange(req);
    if (r.chance(0.35)) req.limit = this.int(r.int(0, 5));
    if (allowRevision || r.chance(0.2)) {
      const rev = this.readRevision();
      if (rev !== undefined) req.revision = this.int(rev);
    }
    if (r.chance(0.5)) {
      const order = this.enumValue(SORT_ORDERS, r.int(0, SORT_ORDERS.length));
      const target = this.enumValue(SORT_TARGETS, r.int(0, SORT_TARGETS.length));
      if (order !== undefined) req.sort_order = order;
      if (target !== undefined) req.sort_target = target;
    }
    if (r.chance(0.15)) req.serializable = true;
    if (r.chance(0.15)) req.keys_only = true;
    if (r.chance(0.1)) req.count_only = true;
    if (r.chance(0.1)) req.min_mod_revision = this.int(this.nearRevision());
    if (r.chance(0.1)) req.max_mod_revision = this.int(this.nearRevision());
    if (r.chance(0.1)) req.min_create_revision = this.int(this.nearRevision());
    if (r.chance(0.1)) req.max_create_revision = this.int(this.nearRevision());
    return req;
  }

  /** A put; `oddOneIn` sets how rarely it uses lease/ignore_* (1 in oddOneIn/8), rarer inside txns. */
  put(oddOneIn = 20): Json {
    const r = this.rng;
    const req: Json = { key: b64(this.key()) };
    const v = this.value();
    if (v !== "" || r.chance(0.5)) req.value = b64(v);
    if (r.chance(0.3)) req.prev_kv = true;
    const odd = r.int(0, oddOneIn);
    if (odd === 0) req.lease = UNKNOWN_LEASE;
    if (odd === 1 || odd === 2) {
      // ignore_value keeps the stored value: no value may be given, and the key must exist.
      delete req.value;
      req.ignore_value = true;
    }
    if (odd === 3) req.ignore_value = true; // with a value: refused
    if (odd === 4 || odd === 5) req.ignore_lease = true; // the key must exist
    if (odd === 6) {
      req.ignore_lease = true;
      req.lease = UNKNOWN_LEASE; // with a lease: refused
    }
    if (odd === 7) {
      delete req.value;
      req.ignore_value = true;
      req.ignore_lease = true;
    }
    return req;
  }

  /** Mostly one key: a store emptied by wide deletes would leave ranges, limits and sorts little to show. */
  deleteRange(): Json {
    const req: Json = {};
    if (this.rng.chance(0.7)) req.key = b64(this.key());
    else this.keyRange(req);
    if (this.rng.chance(0.4)) req.prev_kv = true;
    return req;
  }

  compaction(): Json {
    const r = this.rng;
    const choice = r.int(0, 8);
    let revision: number;
    if (choice < 3) revision = r.int(Math.max(1, this.compacted), this.revision + 1); // between
    else if (choice < 5) revision = this.revision; // at the current revision
    else if (choice === 5) revision = this.lastCompactionAsked || this.revision; // again at the same
    else if (choice === 6) revision = this.revision + r.int(1, 5); // future
    else revision = Math.max(0, this.compacted - r.int(1, 3)); // below the compacted one
    this.lastCompactionAsked = revision;
    const req: Json = { revision: this.int(revision) };
    if (r.chance(0.5)) req.physical = true;
    return req;
  }

  private compare(): Json {
    const r = this.rng;
    const targetIndex = r.int(0, COMPARE_TARGETS.length);
    const target = COMPARE_TARGETS[targetIndex]!;
    const cmp: Json = {};
    const result = this.enumValue(COMPARE_RESULTS, r.int(0, COMPARE_RESULTS.length));
    if (result !== undefined) cmp.result = result;
    const t = this.enumValue(COMPARE_TARGETS, targetIndex);
    if (t !== undefined) cmp.target = t;
    cmp.key = b64(this.key());
    if (r.chance(0.12)) cmp.range_end = b64(r.chance(0.3) ? "\0" : prefixEnd(this.key()));
    switch (target) {
      case "VERSION":
        if (r.chance(0.85)) cmp.version = this.int(r.int(0, 4));
        break;
      case "CREATE":
        if (r.chance(0.85)) cmp.create_revision = this.int(this.nearRevision());
        break;
      case "MOD":
        if (r.chance(0.85)) cmp.mod_revision = this.int(this.nearRevision());
        break;
      case "VALUE":
        if (r.chance(0.9)) cmp.value = b64(this.value());
        break;
      case "LEASE":
        if (r.chance(0.7)) cmp.lease = r.chance(0.7) ? this.int(0) : UNKNOWN_LEASE;
        break;
    }
    return cmp;
  }

  /** One inner request; `written` tracks keys this branch already writes, to avoid most duplicates. */
  private requestOp(depth: number, written: Set<string>, readOnly: boolean): Json {
    const r = this.rng;
    const roll = readOnly ? 0 : r.next();
    if (roll < 0.35) return { request_range: this.range(false) };
    if (roll < 0.75) {
      const put = this.put(60);
      const key = String(put.key);
      // Mostly distinct keys in one branch, so that most txns apply; sometimes a duplicate on purpose.
      if (written.has(key) && r.chance(0.85)) return { request_range: this.range(false) };
      written.add(key);
      return { request_put: put };
    }
    if (roll < 0.92 || depth >= 2) {
      const del: Json = { key: b64(this.key()) };
      if (r.chance(0.1)) del.range_end = b64(prefixEnd(this.key()));
      if (r.chance(0.4)) del.prev_kv = true;
      const key = String(del.key);
      if (written.has(key) && r.chance(0.85)) return { request_range: this.range(false) };
      written.add(key);
      return { request_delete_range: del };
    }
    return { request_txn: this.txn(depth + 1) };
  }

  txn(depth: number): Json {
    const r = this.rng;
    const readOnly = r.chance(0.15);
    const req: Json = {};
    const compares = r.int(0, 4);
    if (compares > 0) req.compare = Array.from({ length: compares }, () => this.compare());
    for (const branch of ["success", "failure"] as const) {
      const n = r.int(0, depth === 0 ? 5 : 3);
      if (n === 0) continue;
      const written = new Set<string>();
      req[branch] = Array.from({ length: n }, () => this.requestOp(depth, written, readOnly));
    }
    return req;
  }

  /** etcd refuses more than 128 compares or requests in one list; exactly 128 passes. */
  private bigTxn(): Json {
    const r = this.rng;
    const n = r.pick([MAX_TXN_OPS, MAX_TXN_OPS + 1]);
    const where = r.pick(["compare", "success", "failure"] as const);
    const req: Json = {};
    if (where === "compare") {
      req.compare = Array.from({ length: n }, () => ({ key: b64(this.key()), version: this.int(0), target: "VERSION" }));
      req.success = [{ request_range: { key: b64(this.key()) } }];
    } else {
      // Ranges only (a read-only txn) so that the count, not a duplicate key, decides.
      req[where] = Array.from({ length: n }, () => ({ request_range: { key: b64(this.key()), count_only: true } }));
      if (where === "failure") req.compare = [{ key: b64("never-written"), target: "VERSION", result: "GREATER", version: "0" }];
    }
    return req;
  }

  /** Requests at the edges of etcd's rules, accepted or refused in ways that are easy to get wrong. */
  private edgeCase(): Op {
    const r = this.rng;
    const k = b64(this.key());
    const other = b64(prefixEnd(this.key()) + "x");
    switch (r.int(0, 10)) {
      case 0: // a negative limit means no limit
        return { path: "/v3/kv/range", request: { key: b64("\0"), range_end: b64("\0"), limit: this.int(-r.int(1, 3)) } };
      case 1: // a negative revision reads the current one
        return { path: "/v3/kv/range", request: { key: k, revision: this.int(-1) } };
      case 2: // compaction at 0 or below: the compacted error, even on a store never compacted
        return { path: "/v3/kv/compaction", request: { revision: this.int(-r.int(0, 2)) } };
      case 3: // a JSON null body is an empty request
        return { path: r.pick(["/v3/kv/range", "/v3/kv/put", "/v3/kv/deleterange", "/v3/kv/txn", "/v3/kv/compaction"]), request: null };
      case 4: // one key written in both branches: allowed, only one branch runs
        return { path: "/v3/kv/txn", request: { compare: [this.compare()], success: [{ request_put: { key: k, value: b64("s") } }], failure: [{ request_put: { key: k, value: b64("f") } }] } };
      case 5: // two deletes of one key: allowed; the second deletes nothing
        return { path: "/v3/kv/txn", request: { success: [{ request_delete_range: { key: k, prev_kv: true } }, { request_delete_range: { key: k, prev_kv: true } }] } };
      case 6: // a put and a delete of one key: a duplicate
        return { path: "/v3/kv/txn", request: { success: r.chance(0.5) ? [{ request_put: { key: k } }, { request_delete_range: { key: k } }] : [{ request_delete_range: { key: k } }, { request_put: { key: k } }] } };
      case 7: // nested txns: one key in both inner branches is allowed; in two inner txns, or outer and inner, it is not
        return {
          path: "/v3/kv/txn",
          request: r.pick([
            { success: [{ request_txn: { compare: [this.compare()], success: [{ request_put: { key: k } }], failure: [{ request_put: { key: k, value: b64("f") } }] } }] },
            { success: [{ request_txn: { success: [{ request_put: { key: k } }] } }, { request_txn: { success: [{ request_put: { key: k } }] } }] },
            { success: [{ request_put: { key: k } }, { request_txn: { failure: [{ request_put: { key: k } }] } }] },
          ]),
        };
      case 8: // a VALUE compare on a key that does not exist fails, whatever the result asked
        return { path: "/v3/kv/txn", request: { compare: [{ target: "VALUE", result: r.pick(COMPARE_RESULTS), key: other, value: b64(this.value()) }], success: [{ request_range: { key: other } }] } };
      default: // keys_only and count_only together, a limit and a sort on everything
        return { path: "/v3/kv/range", request: { key: b64("\0"), range_end: b64("\0"), keys_only: true, count_only: r.chance(0.5), limit: this.int(r.int(1, 4)), sort_order: r.pick(SORT_ORDERS), sort_target: r.pick(SORT_TARGETS) } };
    }
  }

  /** Requests etcd refuses: empty keys, duplicate writes, malformed fields, bodies that are not objects. */
  private badRequest(): Op {
    const r = this.rng;
    switch (r.int(0, 12)) {
      case 0:
        return { path: "/v3/kv/range", request: r.chance(0.5) ? {} : { key: "" } };
      case 1:
        return { path: "/v3/kv/put", request: { value: b64(this.value()) } };
      case 2:
        return { path: "/v3/kv/deleterange", request: r.chance(0.5) ? {} : { key: "", range_end: b64("b") } };
      case 3: {
        const k = b64(this.key());
        return { path: "/v3/kv/txn", request: { success: [{ request_put: { key: k, value: b64("1") } }, { request_put: { key: k, value: b64("2") } }] } };
      }
      case 4: {
        // A put inside a deleted range in one branch, and a duplicate across a nested txn.
        return r.chance(0.5)
          ? { path: "/v3/kv/txn", request: { success: [{ request_delete_range: { key: b64("b"), range_end: b64("c") } }, { request_put: { key: b64("b/1") } }] } }
          : { path: "/v3/kv/txn", request: { success: [{ request_put: { key: b64("a") } }, { request_txn: { success: [{ request_put: { key: b64("a") } }] } }] } };
      }
      case 5:
        return { path: "/v3/kv/txn", request: { success: [{ request_put: { key: "" } }] } };
      case 6:
        return { path: "/v3/kv/range", request: { key: b64(this.key()), limit: "not-a-number" } };
      case 7:
        return { path: "/v3/kv/range", request: { key: b64(this.key()), sort_order: "SIDEWAYS" } };
      case 8:
        return { path: "/v3/kv/put", request: { key: "not base64!", value: b64("v") } };
      case 9:
        return { path: "/v3/kv/range", request: { key: b64(this.key()), no_such_field: true } };
      case 10:
        return { path: r.pick(["/v3/kv/put", "/v3/kv/txn", "/v3/kv/compaction"]), request: r.pick([[], "text", 42, null]) };
      default:
        return { path: "/v3/kv/txn", request: { compare: [{ key: b64("a"), target: "NO_SUCH_TARGET", result: "EQUAL" }] } };
    }
  }
}

/**
 * The whole sequence for one seed, asking `answer` for each op's answer in turn (etcd when
 * recording; a recorded fixture when checking that the generator still produces it).
 */
export async function generateSequence(
  seed: number,
  count: number,
  answer: (op: Op, index: number) => Promise<Observed> | Observed,
): Promise<Array<{ op: Op; observed: Observed }>> {
  const gen = new SequenceGenerator(seed);
  const out: Array<{ op: Op; observed: Observed }> = [];
  for (let i = 0; i < count; i++) {
    const op = gen.next();
    const observed = await answer(op, i);
    gen.observe(op, observed);
    out.push({ op, observed });
  }
  return out;
}
