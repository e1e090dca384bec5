// etcd 3.4's KV service over an MvccStore: Range, Put, DeleteRange, Txn, Compact, each checked
// as etcd's gRPC layer checks it, then applied as its applier does. Pure and deterministic:
// the same requests on the same store give the same answers and rows on every replica.
// Errors are thrown as EtcdError (errors.ts), before anything is written.

import { errCompacted, errFutureRev, errLeaseNotFound } from "./errors.ts";
import { applyDeleteRange, applyPut } from "./put-delete.ts";
import { applyRange } from "./range.ts";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest, MAX_TXN_OPS } from "./request-checks.ts";
import type { MvccStore } from "./store.ts";
import { applyTxn, type LeaseExists } from "./txn.ts";
import { checkIntervals } from "./txn-intervals.ts";
import { WriteTxn } from "./write-txn.ts";
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from "./types.ts";

export interface EtcdKvOptions {
  /** Whether a lease id is granted; until leases exist none is, and a put naming one fails as in etcd. */
  leaseExists?: LeaseExists;
  maxTxnOps?: number;
}

export class EtcdKv {
  private readonly leaseExists: LeaseExists;
  private readonly maxTxnOps: number;

  constructor(
    private readonly store: MvccStore,
    options: EtcdKvOptions = {},
  ) {
    this.leaseExists = options.leaseExists ?? (() => false);
    this.maxTxnOps = options.maxTxnOps ?? MAX_TXN_OPS;
  }

  /** The store's revision now. */
  revision(): number {
    return this.store.readMeta().revision;
  }

  /** A read runs in a WriteTxn that writes nothing: it sees the store as it is, and ends without a trace. */
  range(r: RangeRequest): RangeResponse {
    checkRangeRequest(r);
    return applyRange(new WriteTxn(this.store), r);
  }

  put(p: PutRequest): PutResponse {
    checkPutRequest(p);
    if (p.lease !== 0 && !this.leaseExists(p.lease)) throw errLeaseNotFound();
    const txn = new WriteTxn(this.store);
    const resp = applyPut(txn, p);
    txn.end();
    return resp;
  }

  deleteRange(d: DeleteRangeRequest): DeleteRangeResponse {
    checkDeleteRequest(d);
    const txn = new WriteTxn(this.store);
    const resp = applyDeleteRange(txn, d);
    txn.end();
    return resp;
  }

  txn(t: TxnRequest): TxnResponse {
    checkTxnRequest(t, this.maxTxnOps);
    checkIntervals(t.success);
    checkIntervals(t.failure);
    return applyTxn(new WriteTxn(this.store), t, this.leaseExists);
  }

  /** etcd's compaction: at or below the last compaction is "compacted", above the revision "future". */
  compact(c: CompactionRequest): CompactionResponse {
    const meta = this.store.readMeta();
    if (c.revision <= meta.compactedRevision) throw errCompacted();
    if (c.revision > meta.revision) throw errFutureRev();
    this.store.compact(c.revision);
    this.store.writeMeta({ revision: meta.revision, compactedRevision: c.revision });
    return { header: { revision: meta.revision } };
  }
}
