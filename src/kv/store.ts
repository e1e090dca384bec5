// The data of the key/value service: a map from key to value and the four operations on
// it, with the API's result shapes. No sessions, no time: just what one operation does.

import type { KvOperation } from "./command.ts";
import type { AppendResult, CasResult, GetResult, KvResult, KvResultOf, PutResult } from "./results.ts";

export class KvStore {
  private readonly data = new Map<string, string>();
  /** Keys written since the last `takeChanged`, so a host can persist just those. */
  private changed = new Set<string>();

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
    }
  }

  get(key: string): GetResult {
    const value = this.data.get(key);
    return value === undefined ? { found: false, value: null } : { found: true, value };
  }

  put(key: string, value: string): PutResult {
    const prev = this.data.get(key);
    this.set(key, value);
    return prev === undefined ? { found: false, prev: null } : { found: true, prev };
  }

  /** Swaps only when the key exists and holds `compare`; a missing key is never created. */
  cas(key: string, compare: string, value: string): CasResult {
    const prev = this.data.get(key);
    if (prev === undefined) return { found: false, prev: null, swapped: false };
    if (prev !== compare) return { found: true, prev, swapped: false };
    this.set(key, value);
    return { found: true, prev, swapped: true };
  }

  /** Adds `suffix` to the value; a missing key is created holding `suffix`. */
  append(key: string, suffix: string): AppendResult {
    const prev = this.data.get(key);
    this.set(key, prev === undefined ? suffix : prev + suffix);
    return prev === undefined ? { found: false, prev: null } : { found: true, prev };
  }

  /** Keys written since the last call, with their values now (there is no delete operation). */
  takeChanged(): Array<[string, string]> {
    const out: Array<[string, string]> = [...this.changed].map((k) => [k, this.data.get(k)!]);
    this.changed = new Set();
    return out;
  }

  private set(key: string, value: string): void {
    this.data.set(key, value);
    this.changed.add(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** Entries in insertion order (deterministic: the same log gives the same order). */
  entries(): Array<[string, string]> {
    return [...this.data.entries()];
  }

  /** Replaces the whole content (used when restoring a snapshot). */
  load(entries: ReadonlyArray<readonly [string, string]>): void {
    this.data.clear();
    this.changed.clear();
    for (const [key, value] of entries) this.data.set(key, value);
  }
}
