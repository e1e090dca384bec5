// The answers of the /kv routes that src/kv/results.ts does not describe (delete, list, and
// the modRevision a get may carry: ../shared/API.md, "Key/value service"), as the client
// returns them.

import type { GetResult } from "../kv/results.ts";
import type { ListedKey } from "../kv/store.ts";

/** `GET /kv/{key}`: the API's get answer; a store that keeps revisions adds the key's last one. */
export interface GetAnswer extends GetResult {
  /** The revision of the key's last change, when the service reports it (absent for a missing key). */
  readonly modRevision?: number;
}

/** `DELETE /kv/{key}`: whether the key existed, and its value before the delete. */
export interface DeleteResult {
  readonly found: boolean;
  readonly prev: string | null;
}

/** One key of a list, with etcd's counters for it (see "etcd's API" in API.md): the service's own type. */
export type { ListedKey } from "../kv/store.ts";

/** `GET /kv?prefix=&after=&limit=`: one page, read at one revision. */
export interface ListResult {
  readonly keys: readonly ListedKey[];
  /** Whether more keys match after the last one listed. */
  readonly more: boolean;
  /** The store's revision the page was read at. */
  readonly revision: number;
}

export interface ListOptions {
  /** Only keys starting with it (default: every key). */
  readonly prefix?: string;
  /** Only keys strictly after it, in byte order: the last key of the previous page. */
  readonly after?: string;
  /** At most this many keys (the service's default is 100, its most 1,000). */
  readonly limit?: number;
}

export interface ListAllOptions {
  readonly prefix?: string;
  /** Keys per request (default: the service's default, 100). */
  readonly pageSize?: number;
}
