// What EtcdClient throws: a KvError (so `maybeApplied`, `attempts`, `status` mean what they
// mean for the kv face) that also carries etcd's gRPC status code. etcd's gateway answers an
// error as an HTTP status and `{"error": text, "message": text, "code": grpcCode}`, e.g. 400
// and code 11 for a revision that was compacted. `code` (the string) is the answer's `error`
// field, as for KvError; the client's own verdicts keep the client's codes ("timeout",
// "unavailable", "aborted", "bad_response").

import { KvError, type KvErrorDetails } from "./errors.ts";

/** gRPC status codes (google.golang.org/grpc/codes) that etcd answers with. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export class EtcdError extends KvError {
  /**
   * The gRPC code: the answer's `code` when etcd's gateway (or the project's v3 routes) gave
   * one; for the client's own verdicts, the code etcd's clients use for them (timeout: 4
   * DEADLINE_EXCEEDED, unavailable: 14 UNAVAILABLE, aborted: 1 CANCELLED); null for an
   * answer that carried none (a plain project error such as 404 for an unknown cluster, a
   * proxy's page, or an answer of the wrong shape).
   */
  readonly grpcCode: number | null;

  constructor(details: KvErrorDetails, grpcCode: number | null) {
    super(details);
    this.name = "EtcdError";
    this.grpcCode = grpcCode;
  }

  /** etcd's "required revision has been compacted" (code 11): read at a newer revision. */
  get isCompacted(): boolean {
    return this.grpcCode === GrpcCode.OUT_OF_RANGE && this.message.includes("required revision has been compacted");
  }

  /** etcd's "required revision is a future revision" (code 11). */
  get isFutureRevision(): boolean {
    return this.grpcCode === GrpcCode.OUT_OF_RANGE && this.message.includes("required revision is a future revision");
  }

  /** Builds the error from the transport's verdict and the answer's body (the transport's ErrorFactory). */
  static from(details: KvErrorDetails, body: unknown): EtcdError {
    const code = (body as { code?: unknown } | null | undefined)?.code;
    if (typeof code === "number" && Number.isInteger(code)) return new EtcdError(details, code);
    if (body === undefined && details.code === "timeout") return new EtcdError(details, GrpcCode.DEADLINE_EXCEEDED);
    if (body === undefined && details.code === "unavailable") return new EtcdError(details, GrpcCode.UNAVAILABLE);
    if (details.code === "aborted") return new EtcdError(details, GrpcCode.CANCELLED);
    return new EtcdError(details, null);
  }
}
