// etcd's refusal of a txn that writes one key twice (api/v3rpc/key.go checkIntervals), rule for
// rule: within one branch, no key is put twice or put and deleted; a nested txn's then and else
// branches may put the same key (only one runs). Deletes are intervals [key, range_end) compared
// as strings, so a delete whose range_end is "\0" covers nothing here (as in etcd).

import { compareBytes, toBinaryString, type Bytes } from "./bytes.ts";
import { errDuplicateKey } from "./errors.ts";
import type { RequestOp } from "./types.ts";

interface Interval {
  begin: Bytes;
  /** null: the point `begin`. */
  end: Bytes | null;
}

const covers = (iv: Interval, key: Bytes) =>
  iv.end === null ? compareBytes(iv.begin, key) === 0 : compareBytes(iv.begin, key) <= 0 && compareBytes(key, iv.end) < 0;

class Intervals {
  readonly list: Interval[] = [];
  intersects(key: Bytes): boolean {
    return this.list.some((iv) => covers(iv, key));
  }
}

/** Answers the keys this branch puts (by binary string) and the intervals it deletes. */
export function checkIntervals(reqs: readonly RequestOp[]): { puts: Map<string, Bytes>; dels: Intervals } {
  const dels = new Intervals();
  for (const req of reqs) {
    if (req.kind !== "deleteRange") continue;
    const d = req.deleteRange;
    dels.list.push({ begin: d.key, end: d.rangeEnd.length !== 0 ? d.rangeEnd : null });
  }
  const puts = new Map<string, Bytes>();
  for (const req of reqs) {
    if (req.kind !== "txn") continue;
    const then = checkIntervals(req.txn.success);
    const otherwise = checkIntervals(req.txn.failure);
    for (const [id, key] of then.puts) {
      if (puts.has(id) || dels.intersects(key)) throw errDuplicateKey();
      puts.set(id, key);
    }
    for (const [id, key] of otherwise.puts) {
      if (puts.has(id) && !then.puts.has(id)) throw errDuplicateKey();
      if (dels.intersects(key)) throw errDuplicateKey();
      puts.set(id, key);
    }
    dels.list.push(...then.dels.list, ...otherwise.dels.list);
  }
  for (const req of reqs) {
    if (req.kind !== "put") continue;
    const id = toBinaryString(req.put.key);
    if (puts.has(id) || dels.intersects(req.put.key)) throw errDuplicateKey();
    puts.set(id, req.put.key);
  }
  return { puts, dels };
}
