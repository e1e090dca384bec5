// A typed client for each cluster's etcd 3.4 API (../shared/API.md, "etcd's API"):
// range, put, deleteRange, txn and compact over POST {base}/clusters/{c}/v3/kv/...
//
// It speaks etcd's JSON gateway (etcd-codec.ts), so it works against a real etcd too: give
// it a baseUrl and cluster whose "/clusters/{c}" a proxy maps to etcd's root. It shares the
// kv face's transport (transport.ts): the same deadline, backoff and retry on 503, 504, 502
// and a lost connection. put, deleteRange and txn are writes: each carries Client-Id and
// Request-Id headers, a retry re-sends the same ids, and the cluster applies it at most once
// (beyond etcd, whose own clients may apply a retried txn twice). One client runs its writes
// one at a time, in call order; range and compact run at once.
//
// compact carries no ids (the API gives compaction none): a retry of one whose first attempt
// took effect hears etcd's "required revision has been compacted" (EtcdError isCompacted,
// maybeApplied true), which then means the compaction is done.

import { decodeCompaction, decodeDeleteRange, decodePut, decodeRange, decodeTxn, encodeCompaction, encodeDeleteRange, encodePut, encodeRange, encodeTxn, requireAnswer } from "./etcd-codec.ts";
import { EtcdError } from "./etcd-errors.ts";
import type {
  BytesInput,
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
} from "./etcd-types.ts";
import { type CallOptions, type CallSpec, type KvClientOptions, Transport, type WriteIds } from "./transport.ts";

/** As KvClient's options, without pinning (the v3 routes find the leader themselves). */
export type EtcdClientOptions = Omit<KvClientOptions, "server">;

export class EtcdClient {
  private readonly transport: Transport;

  constructor(options: EtcdClientOptions) {
    this.transport = new Transport(options, EtcdError.from);
  }

  /** The Client-Id of every write, or undefined: each write leases one from the process's pool. */
  get clientId(): string | undefined {
    return this.transport.clientId;
  }

  /** The ids of the last write this client started (null before any): a retry keeps them. */
  get lastWrite(): WriteIds | null {
    return this.transport.lastWrite;
  }

  /** Reads one key (given a key) or a range (given a RangeRequest). Linearizable unless `serializable`. */
  async range(request: BytesInput | RangeRequest, options?: CallOptions): Promise<RangeResponse> {
    const r: RangeRequest = typeof request === "string" || request instanceof Uint8Array ? { key: request } : request;
    return this.transport.read(this.spec("range", encodeRange, r, decodeRange), options);
  }

  async put(request: PutRequest, options?: CallOptions): Promise<PutResponse> {
    return this.transport.write(this.spec("put", encodePut, request, decodePut), options);
  }

  async deleteRange(request: DeleteRangeRequest, options?: CallOptions): Promise<DeleteRangeResponse> {
    return this.transport.write(this.spec("deleterange", encodeDeleteRange, request, decodeDeleteRange), options);
  }

  /** Exactly-once even when retried (a read-only txn carries ids too: they cost nothing). */
  async txn(request: TxnRequest, options?: CallOptions): Promise<TxnResponse> {
    return this.transport.write(this.spec("txn", encodeTxn, request, decodeTxn), options);
  }

  async compact(request: CompactionRequest, options?: CallOptions): Promise<CompactionResponse> {
    return this.transport.read(this.spec("compaction", encodeCompaction, request, decodeCompaction), options);
  }

  /**
   * The call for one route. The body is encoded here, before any request, so a bad argument
   * (a revision that is not a safe integer, a malformed lease id) throws at once (RangeError
   * or TypeError, as a rejected promise) and nothing is sent.
   */
  private spec<Q, R>(route: string, encode: (q: Q) => unknown, request: Q, decode: (body: unknown) => R): CallSpec<R> {
    return { method: "POST", path: `/v3/kv/${route}`, body: encode(request), describe: `v3 ${route}`, decode: (b) => decode(requireAnswer(b)) };
  }
}
