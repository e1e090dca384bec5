// What the recorded fixtures exercise, as a table of named features with counts, so a test can
// assert that every etcd feature issue 20 asks for is covered by etcd's own answers (and the
// README's table stays true). A feature counts only when etcd's answer shows it was exercised:
// a "future revision" range counts when etcd answered the future-revision error, not when the
// request merely named a large revision.

import { Buffer } from "node:buffer";
import type { Fixture, FixtureStep } from "./fixture.ts";

type Json = Record<string, unknown>;

/** Every feature the fixtures must cover (issue 20 item 3, errors included). */
export const REQUIRED_FEATURES: readonly string[] = [
  // Range
  "range key only", "range key+range_end", "range prefix", "range_end \\0 (key and above)",
  "range \\0..\\0 (all keys)", "range reversed or empty interval", "range limit", "range more=true",
  "range count > kvs", "range historical revision", "range at exactly the compacted revision",
  "range compacted revision error", "range future revision error",
  ...["NONE", "ASCEND", "DESCEND"].flatMap((o) =>
    ["KEY", "VERSION", "CREATE", "MOD", "VALUE"].map((t) => `range sort ${o} x ${t}`)),
  "range serializable", "range keys_only", "range count_only", "range min_mod_revision",
  "range max_mod_revision", "range min_create_revision", "range max_create_revision",
  // Put
  "put new key", "put overwrite", "put empty value", "put prev_kv returned", "put prev_kv on new key",
  "put lease not found", "put ignore_value", "put ignore_value on missing key", "put ignore_value with value",
  "put ignore_lease", "put ignore_lease on missing key", "put ignore_lease with lease",
  // DeleteRange
  "deleterange one key", "deleterange range_end", "deleterange prev_kv", "deleterange nothing",
  // Txn
  ...["VERSION", "CREATE", "MOD", "VALUE", "LEASE"].flatMap((t) =>
    ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"].map((r) => `txn compare ${t} x ${r}`)),
  "txn compare range_end", "txn succeeded", "txn failed",
  "txn success range", "txn success put", "txn success delete", "txn success txn",
  "txn failure range", "txn failure put", "txn failure delete", "txn failure txn",
  "txn nested txn applied", "txn read-only", "txn exactly 128 ops", "txn too many ops error",
  "txn duplicate key error",
  // Compaction
  "compaction", "compaction physical", "compaction at current revision",
  "compaction again at same revision error", "compaction future revision error", "compaction below compacted error",
  // Errors and encodings
  "error empty key", "error malformed request", "error unknown enum name", "error body not an object",
  "int64 as JSON number", "enum as number", "body null",
  // Edges
  "range negative limit", "range negative revision", "compaction at 0 or below",
  "txn one key in both branches", "txn two deletes of one key", "txn put and delete of one key error",
];

const SORT_ORDERS = ["NONE", "ASCEND", "DESCEND"];
const SORT_TARGETS = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"];
const COMPARE_TARGETS = ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"];
const COMPARE_RESULTS = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];
const ALL = "AA=="; // "\0"

/** Counts of each feature over all steps of all fixtures (features not seen are absent). */
export function coverage(fixtures: readonly Fixture[]): Map<string, number> {
  const counts = new Map<string, number>();
  const hit = (feature: string): void => {
    counts.set(feature, (counts.get(feature) ?? 0) + 1);
  };
  for (const fixture of fixtures) {
    let revision = 1;
    let compacted = 0;
    for (const step of fixture.steps) {
      classify(step, { revision, compacted }, hit);
      const header = (step.response as { header?: { revision?: string } } | null)?.header;
      if (header?.revision !== undefined) revision = Number(header.revision);
      if (step.path === "/v3/kv/compaction" && step.status === 200) {
        compacted = Math.max(compacted, Number((step.request as Json).revision));
      }
    }
  }
  return counts;
}

interface Before {
  revision: number;
  compacted: number;
}

function message(step: FixtureStep): string {
  return String((step.response as Json | null)?.message ?? "");
}

function classify(step: FixtureStep, before: Before, hit: (f: string) => void): void {
  const req = step.request;
  const msg = message(step);
  if (req === null) hit("body null");
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    if (step.status === 400) hit("error body not an object");
    return;
  }
  const body = req as Json;
  if (msg === "etcdserver: key is not provided") hit("error empty key");
  if (/^unknown value ".*" for enum/.test(msg)) hit("error unknown enum name");
  if (step.status === 400 && !msg.startsWith("etcdserver:")) hit("error malformed request");
  if (JSON.stringify(body).match(/"(revision|limit|version|create_revision|mod_revision|min_mod_revision|max_mod_revision|min_create_revision|max_create_revision)":\d/)) {
    if (step.status === 200) hit("int64 as JSON number");
  }
  if (JSON.stringify(body).match(/"(sort_order|sort_target|target|result)":\d/) && step.status === 200) hit("enum as number");

  const ok = step.status === 200;
  const response = (step.response ?? {}) as Json;
  switch (step.path) {
    case "/v3/kv/range":
      rangeFeatures(body, ok ? response : undefined, before, hit);
      if (msg.endsWith("required revision has been compacted")) hit("range compacted revision error");
      if (msg.endsWith("required revision is a future revision")) hit("range future revision error");
      break;
    case "/v3/kv/put":
      putFeatures(body, step, hit);
      break;
    case "/v3/kv/deleterange":
      if (ok) deleteFeatures(body, response, hit);
      break;
    case "/v3/kv/txn":
      if (msg === "etcdserver: too many operations in txn request") hit("txn too many ops error");
      if (msg === "etcdserver: duplicate key given in txn request") {
        hit("txn duplicate key error");
        const ops = ((body.success as Json[] | undefined) ?? []);
        const put = ops.find((op) => op.request_put !== undefined)?.request_put as Json | undefined;
        const del = ops.find((op) => op.request_delete_range !== undefined)?.request_delete_range as Json | undefined;
        if (ops.length === 2 && put && del && put.key === del.key && del.range_end === undefined) hit("txn put and delete of one key error");
      }
      if (ok) txnFeatures(body, response, hit);
      break;
    case "/v3/kv/compaction": {
      const rev = Number(body.revision ?? 0);
      if (ok) hit("compaction");
      if (rev <= 0 && msg.endsWith("has been compacted")) hit("compaction at 0 or below");
      if (ok && body.physical === true) hit("compaction physical");
      if (ok && rev === before.revision) hit("compaction at current revision");
      if (msg.endsWith("has been compacted") && rev === before.compacted) hit("compaction again at same revision error");
      if (msg.endsWith("has been compacted") && rev < before.compacted) hit("compaction below compacted error");
      if (msg.endsWith("is a future revision")) hit("compaction future revision error");
      break;
    }
  }
}

function enumName(value: unknown, names: readonly string[]): string {
  if (value === undefined) return names[0]!;
  return typeof value === "number" ? names[value] ?? "?" : String(value);
}

function rangeFeatures(req: Json, res: Json | undefined, before: Before, hit: (f: string) => void): void {
  if (res === undefined) return;
  const key = req.key as string | undefined;
  const end = req.range_end as string | undefined;
  if (end === undefined) hit("range key only");
  else if (key === ALL && end === ALL) hit("range \\0..\\0 (all keys)");
  else if (end === ALL) hit("range_end \\0 (key and above)");
  else {
    hit("range key+range_end");
    const k = Buffer.from(key ?? "", "base64");
    const e = Buffer.from(end, "base64");
    if (Buffer.compare(e, k) <= 0) hit("range reversed or empty interval");
    if (e.length === k.length && e.length > 0 && Buffer.compare(e.subarray(0, -1), k.subarray(0, -1)) === 0 && e[e.length - 1] === k[k.length - 1]! + 1) hit("range prefix");
  }
  if (req.limit !== undefined && Number(req.limit) > 0) hit("range limit");
  if (Number(req.limit ?? 0) < 0) hit("range negative limit");
  if (Number(req.revision ?? 0) < 0) hit("range negative revision");
  if (res.more === true) hit("range more=true");
  const kvs = (res.kvs as unknown[] | undefined) ?? [];
  if (Number(res.count ?? 0) > kvs.length && req.count_only !== true) hit("range count > kvs");
  if (req.revision !== undefined) {
    const rev = Number(req.revision);
    if (rev > 0 && rev < before.revision) hit("range historical revision");
    if (rev > 0 && rev === before.compacted) hit("range at exactly the compacted revision");
  }
  if (req.sort_order !== undefined || req.sort_target !== undefined) {
    hit(`range sort ${enumName(req.sort_order, SORT_ORDERS)} x ${enumName(req.sort_target, SORT_TARGETS)}`);
  }
  for (const flag of ["serializable", "keys_only", "count_only"]) if (req[flag] === true) hit(`range ${flag}`);
  for (const f of ["min_mod_revision", "max_mod_revision", "min_create_revision", "max_create_revision"]) {
    if (req[f] !== undefined && Number(req[f]) > 0) hit(`range ${f}`);
  }
}

function putFeatures(req: Json, step: FixtureStep, hit: (f: string) => void): void {
  const msg = message(step);
  const res = (step.response ?? {}) as Json;
  const ok = step.status === 200;
  if (msg === "etcdserver: requested lease not found") hit("put lease not found");
  if (req.ignore_value === true) {
    if (ok) hit("put ignore_value");
    if (msg === "etcdserver: key not found") hit("put ignore_value on missing key");
    if (msg === "etcdserver: value is provided") hit("put ignore_value with value");
  }
  if (req.ignore_lease === true) {
    if (ok) hit("put ignore_lease");
    if (msg === "etcdserver: key not found" && req.ignore_value !== true) hit("put ignore_lease on missing key");
    if (msg === "etcdserver: lease is provided") hit("put ignore_lease with lease");
  }
  if (!ok) return;
  if (req.value === undefined || req.value === "") hit("put empty value");
  if (req.prev_kv === true) hit(res.prev_kv !== undefined ? "put prev_kv returned" : "put prev_kv on new key");
  // A put without prev_kv tells nothing of the key's past; these two come from prev_kv answers.
  if (req.prev_kv === true) hit(res.prev_kv !== undefined ? "put overwrite" : "put new key");
}

function deleteFeatures(req: Json, res: Json, hit: (f: string) => void): void {
  hit(req.range_end === undefined ? "deleterange one key" : "deleterange range_end");
  if (req.prev_kv === true && res.prev_kvs !== undefined) hit("deleterange prev_kv");
  if (res.deleted === undefined) hit("deleterange nothing");
}

function txnFeatures(req: Json, res: Json, hit: (f: string) => void): void {
  hit(res.succeeded === true ? "txn succeeded" : "txn failed");
  for (const cmp of (req.compare as Json[] | undefined) ?? []) {
    hit(`txn compare ${enumName(cmp.target, COMPARE_TARGETS)} x ${enumName(cmp.result, COMPARE_RESULTS)}`);
    if (cmp.range_end !== undefined) hit("txn compare range_end");
  }
  const lists = { success: (req.success as Json[] | undefined) ?? [], failure: (req.failure as Json[] | undefined) ?? [] };
  for (const [branch, ops] of Object.entries(lists)) {
    for (const op of ops) {
      if (op.request_range !== undefined) hit(`txn ${branch} range`);
      if (op.request_put !== undefined) hit(`txn ${branch} put`);
      if (op.request_delete_range !== undefined) hit(`txn ${branch} delete`);
      if (op.request_txn !== undefined) hit(`txn ${branch} txn`);
    }
  }
  const keysOf = (ops: Json[], kind: string) => ops.map((op) => (op[kind] as Json | undefined)?.key).filter((k) => k !== undefined);
  const successPuts = keysOf(lists.success, "request_put");
  if (keysOf(lists.failure, "request_put").some((k) => successPuts.includes(k))) hit("txn one key in both branches");
  const deletes = keysOf(lists.success, "request_delete_range");
  if (new Set(deletes).size < deletes.length) hit("txn two deletes of one key");
  const taken = res.succeeded === true ? lists.success : lists.failure;
  if (taken.some((op) => op.request_txn !== undefined)) hit("txn nested txn applied");
  const all = [...lists.success, ...lists.failure];
  if (all.length > 0 && all.every((op) => op.request_range !== undefined)) hit("txn read-only");
  const sizes = [lists.success.length, lists.failure.length, ((req.compare as unknown[] | undefined) ?? []).length];
  if (sizes.includes(128)) hit("txn exactly 128 ops");
}
