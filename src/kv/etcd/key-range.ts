// How etcd reads a request's key and range_end (etcdserver's mkGteRange): no range_end means
// the one key; range_end "\0" means every key ≥ key (so key "\0" with it means all keys);
// anything else is [key, range_end).

import { EMPTY, type Bytes } from "./bytes.ts";
import type { KeyRange } from "./store.ts";

export function toKeyRange(key: Bytes, rangeEnd: Bytes): KeyRange {
  if (rangeEnd.length === 0) return { start: key, end: null };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: EMPTY };
  return { start: key, end: rangeEnd };
}
