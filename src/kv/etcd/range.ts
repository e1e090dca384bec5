// Range as etcd 3.4's applier answers it (etcdserver/apply.go Range), quirks included:
// - with a sort or a min/max revision filter everything is fetched, filtered, sorted, then cut;
//   otherwise limit + 1 rows are fetched so `more` can be told;
// - `count` is of every key in the range, before the min/max filters;
// - sort_order NONE with a sort_target other than KEY sorts ascending;
// - the sort is Go's unstable sort.Sort, so ties come out in its order (go-sort.ts).

import { compareBytes, EMPTY } from "./bytes.ts";
import { goSort } from "./go-sort.ts";
import { toKeyRange } from "./key-range.ts";
import type { WriteTxn } from "./write-txn.ts";
import { SortOrder, SortTarget, type KeyValue, type RangeRequest, type RangeResponse } from "./types.ts";

export function applyRange(txn: WriteTxn, r: RangeRequest): RangeResponse {
  const filtered =
    r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
  let limit = r.sortOrder !== SortOrder.NONE || filtered ? 0 : r.limit;
  if (limit > 0) limit = limit + 1;

  const rr = txn.range(toKeyRange(r.key, r.rangeEnd), { limit: Math.max(limit, 0), rev: r.revision, count: r.countOnly });
  let kvs = rr.kvs.filter(
    (kv) =>
      !(r.maxModRevision !== 0 && kv.modRevision > r.maxModRevision) &&
      !(r.minModRevision !== 0 && kv.modRevision < r.minModRevision) &&
      !(r.maxCreateRevision !== 0 && kv.createRevision > r.maxCreateRevision) &&
      !(r.minCreateRevision !== 0 && kv.createRevision < r.minCreateRevision),
  );

  let order = r.sortOrder;
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  const by = sortKey(r.sortTarget);
  if (by !== null && order === SortOrder.ASCEND) goSort(kvs, (a, b) => by(a, b) < 0);
  if (by !== null && order === SortOrder.DESCEND) goSort(kvs, (a, b) => by(b, a) < 0);

  let more = false;
  if (r.limit > 0 && kvs.length > r.limit) {
    kvs = kvs.slice(0, r.limit);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { header: { revision: rr.rev }, kvs, more, count: rr.count };
}

type Order = (a: KeyValue, b: KeyValue) => number;

function sortKey(target: number): Order | null {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareBytes(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return null;
  }
}
