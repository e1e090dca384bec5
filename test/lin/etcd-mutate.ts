// Changing one recorded fact of an etcd history, for the revision checker's negative tests: one
// field of one answer, or the time of one operation (a real-time inversion).

import type { KeyValue, ResponseOp } from "../../src/kv/etcd/types.ts";
import { b } from "./etcd-fixtures.ts";
import { pick } from "./random.ts";
import type { EtcdOperation } from "./revisions.ts";

/** One change to one field of an answer; `what` says which, for failure messages. */
interface Change {
  readonly what: string;
  readonly apply: (resp: ResponseOp) => void;
}

/** The same answer with one field changed (revisions, counts, flags, key/values), chosen by `rand`. */
export function perturbAnswer(rand: () => number, output: ResponseOp): { output: ResponseOp; what: string } {
  const changes: Change[] = [];
  collect(output, [], changes);
  const change = pick(rand, changes);
  const copy = structuredClone(output);
  change.apply(copy);
  return { output: copy, what: change.what };
}

/** Walks `resp` along `path` (indices of txn responses) to the answer to change. */
function at(resp: ResponseOp, path: readonly number[]): ResponseOp {
  let r = resp;
  for (const i of path) r = (r as Extract<ResponseOp, { kind: "txn" }>).txn.responses[i]!;
  return r;
}

function collect(resp: ResponseOp, path: number[], out: Change[]): void {
  const where = path.length === 0 ? "" : `responses[${path.join("][")}].`;
  const add = (what: string, f: (r: ResponseOp) => void) => out.push({ what: where + what, apply: (root) => f(at(root, path)) });
  const kvChanges = (name: string, get: (r: ResponseOp) => KeyValue) => {
    add(`${name}.version+1`, (r) => void get(r).version++);
    add(`${name}.mod_revision-1`, (r) => void get(r).modRevision--);
    add(`${name}.create_revision+1`, (r) => void get(r).createRevision++);
    add(`${name}.value`, (r) => void (get(r).value = b("ghost")));
    add(`${name}.lease`, (r) => void (get(r).lease = 7));
  };
  switch (resp.kind) {
    case "range": {
      const header = resp.range.header.revision;
      if (header !== null && path.length === 0) add("header.revision+1", (r) => void (r as typeof resp).range.header.revision!++);
      add("count+1", (r) => void (r as typeof resp).range.count++);
      add("more", (r) => void ((r as typeof resp).range.more = !(r as typeof resp).range.more));
      resp.range.kvs.forEach((_, i) => {
        kvChanges(`kvs[${i}]`, (r) => (r as typeof resp).range.kvs[i]!);
        add(`kvs[${i}] dropped`, (r) => void (r as typeof resp).range.kvs.splice(i, 1));
      });
      return;
    }
    case "put":
      if (path.length === 0) add("header.revision+1", (r) => void (r as typeof resp).put.header.revision!++);
      if (resp.put.prevKv !== null) {
        kvChanges("prev_kv", (r) => (r as typeof resp).put.prevKv!);
        add("prev_kv dropped", (r) => void ((r as typeof resp).put.prevKv = null));
      }
      return;
    case "deleteRange":
      if (path.length === 0) add("header.revision+1", (r) => void (r as typeof resp).deleteRange.header.revision!++);
      add("deleted+1", (r) => void (r as typeof resp).deleteRange.deleted++);
      resp.deleteRange.prevKvs.forEach((_, i) => kvChanges(`prev_kvs[${i}]`, (r) => (r as typeof resp).deleteRange.prevKvs[i]!));
      return;
    case "txn":
      if (path.length === 0) add("header.revision+1", (r) => void (r as typeof resp).txn.header.revision!++);
      add("succeeded", (r) => void ((r as typeof resp).txn.succeeded = !(r as typeof resp).txn.succeeded));
      resp.txn.responses.forEach((sub, i) => collect(sub, [...path, i], out));
      return;
  }
}

/**
 * Moves one answered operation B to just after an answered write A that created a newer
 * revision than the one B names: B now began after A ended, yet is numbered before it.
 * Answers null when the history has no such pair.
 */
export function invertRealTime(rand: () => number, history: readonly EtcdOperation[]): { history: EtcdOperation[]; moved: number } | null {
  const answered = history.flatMap((op, i) => (op.ret !== Infinity && op.output !== undefined ? [i] : []));
  const rev = (i: number) => headerOf(history[i]!.output!);
  const writes = answered.filter((i) => rev(i) !== null && writesSomething(history[i]!.output!));
  for (let tries = 0; tries < 50 && writes.length > 0; tries++) {
    const a = pick(rand, writes);
    const older = answered.filter((i) => i !== a && rev(i)! < rev(a)! && history[i]!.input.kind !== "range");
    const reads = answered.filter((i) => i !== a && rev(i)! < rev(a)! && !(history[i]!.input.kind === "range" && (history[i]!.input as Extract<EtcdOperation["input"], { kind: "range" }>).range.serializable));
    const pool = older.length > 0 && rand() < 0.5 ? older : reads;
    if (pool.length === 0) continue;
    const moved = pick(rand, pool);
    const when = history[a]!.ret + 1;
    return { history: history.map((op, i) => (i === moved ? { ...op, call: when, ret: when + 1 } : op)), moved };
  }
  return null;
}

function headerOf(resp: ResponseOp): number | null {
  switch (resp.kind) {
    case "range":
      return resp.range.header.revision;
    case "put":
      return resp.put.header.revision;
    case "deleteRange":
      return resp.deleteRange.header.revision;
    case "txn":
      return resp.txn.header.revision;
  }
}

function writesSomething(resp: ResponseOp): boolean {
  switch (resp.kind) {
    case "range":
      return false;
    case "put":
      return true;
    case "deleteRange":
      return resp.deleteRange.deleted > 0;
    case "txn":
      return resp.txn.responses.some(writesSomething);
  }
}
