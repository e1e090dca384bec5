// The key/value routes' operations (get, put, cas, append, delete, list) as etcd operations on
// the cluster's one MVCC store: each write is one revision, as a put through etcd's API is.
// No sessions, no time: just what one operation does to the store.
//
// Keys and values are UTF-8 in the store (the command schemas refuse strings that have no
// UTF-8 form). A value written through etcd's API may be any bytes: read here it is decoded
// with U+FFFD for what is not UTF-8, as TextDecoder does.

import type { KvOperation } from "./command.ts";
import { compareBytes, EMPTY, utf8, type Bytes } from "./etcd/bytes.ts";
import type { EtcdKv } from "./etcd/kv.ts";
import type { KeyVersion, MvccStore } from "./etcd/store.ts";
import type { RangeRequest } from "./etcd/types.ts";
import type { AppendResult, CasResult, DeleteResult, GetResult, KvResult, KvResultOf, PutResult } from "./results.ts";

const decoder = new TextDecoder();
const text = (b: Bytes): string => decoder.decode(b);

/** One key of a listing (API.md, `GET /kv?prefix=`), with etcd's counters for it. */
export interface ListedKey {
  readonly key: string;
  readonly value: string;
  /** The revision that created the key (since its last delete). */
  readonly createRevision: number;
  /** The revision of its last change. */
  readonly modRevision: number;
  /** How many times it was written since it was created (1 after the first put). */
  readonly version: number;
}

export interface KvListing {
  readonly keys: ListedKey[];
  /** Whether keys past the last one listed match too. */
  readonly more: boolean;
  /** The revision every key was read at. */
  readonly revision: number;
}

/** The single key `key`, at the current revision, as etcd's range reads it. */
function singleKey(key: string): RangeRequest {
  return {
    key: utf8(key),
    rangeEnd: EMPTY,
    limit: 0,
    revision: 0,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
  };
}

export class KvStore {
  constructor(
    private readonly kv: EtcdKv,
    private readonly store: MvccStore,
  ) {}

  /** Applies one operation and answers its result. */
  execute<O extends KvOperation>(operation: O): KvResultOf[O["op"]];
  execute(operation: KvOperation): KvResult {
    switch (operation.op) {
      case "get":
        return this.get(operation.key);
      case "put":
        return this.put(operation.key, operation.value);
      case "cas":
        return this.cas(operation.key, operation.compare, operation.value);
      case "append":
        return this.append(operation.key, operation.value);
      case "delete":
        return this.delete(operation.key);
    }
  }

  /** The key's latest version. (No key is empty: etcd refuses to read one, and no command can write one.) */
  get(key: string): GetResult {
    if (key === "") return { found: false, value: null };
    const found = this.kv.range(singleKey(key)).kvs[0];
    return found === undefined ? { found: false, value: null } : { found: true, value: text(found.value) };
  }

  /** etcd's put with prev_kv: one revision. */
  put(key: string, value: string): PutResult {
    const r = this.kv.put({ key: utf8(key), value: utf8(value), lease: 0, prevKv: true, ignoreValue: false, ignoreLease: false });
    return r.prevKv === null ? { found: false, prev: null } : { found: true, prev: text(r.prevKv.value) };
  }

  /** Swaps only when the key exists and holds `compare`; a missing key is never created, and a failed cas writes nothing. */
  cas(key: string, compare: string, value: string): CasResult {
    const prev = this.get(key);
    if (!prev.found || prev.value === null) return { found: false, prev: null, swapped: false };
    if (prev.value !== compare) return { found: true, prev: prev.value, swapped: false };
    this.put(key, value);
    return { found: true, prev: prev.value, swapped: true };
  }

  /** Adds `suffix` to the value (read, then one put); a missing key is created holding `suffix`. */
  append(key: string, suffix: string): AppendResult {
    const prev = this.get(key);
    this.put(key, prev.found && prev.value !== null ? prev.value + suffix : suffix);
    return prev.found ? { found: true, prev: prev.value } : { found: false, prev: null };
  }

  /** etcd's deleterange of the one key with prev_kv; a missing key is not an error and writes nothing. */
  delete(key: string): DeleteResult {
    const r = this.kv.deleteRange({ key: utf8(key), rangeEnd: EMPTY, prevKv: true });
    const prev = r.prevKvs[0];
    return prev === undefined ? { found: false, prev: null } : { found: true, prev: text(prev.value) };
  }

  /**
   * Keys starting with `prefix` (every key when empty), strictly after `after` if given, in
   * byte order, at most `limit`, all read at the current revision.
   */
  list(prefix: string, after: string | null, limit: number): KvListing {
    const revision = this.store.readMeta().revision;
    const p = utf8(prefix);
    const end = prefixEnd(p);
    let start = p;
    if (after !== null) {
      // Strictly after `after`: from `after` + "\0", the next key in byte order.
      const next = new Uint8Array([...utf8(after), 0]);
      if (compareBytes(next, p) > 0) start = next;
    }
    const rows = this.store.latest({ start, end }, revision, limit + 1);
    return { keys: rows.slice(0, limit).map(listed), more: rows.length > limit, revision };
  }
}

function listed(v: KeyVersion): ListedKey {
  return { key: text(v.key), value: text(v.value), createRevision: v.createRevision, modRevision: v.modRevision, version: v.version };
}

/**
 * The first key after every key starting with `prefix` (etcd's GetPrefixRangeEnd): the prefix
 * with its last byte below 0xff incremented and what follows cut. Empty: no end (every key ≥
 * the prefix), which is also what an empty prefix or one of only 0xff bytes needs.
 */
export function prefixEnd(prefix: Bytes): Bytes {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return EMPTY;
}
