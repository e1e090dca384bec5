// etcd's errors as its JSON gateway answers them: an HTTP status, a gRPC code, and the
// same text in `error` and `message`. Texts are etcd 3.4's own (rpctypes and mvcc).

export class EtcdError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const OUT_OF_RANGE = 11;
const UNKNOWN = 2;

/** Bad input: the gateway answers 400 with gRPC InvalidArgument. */
export const invalidArgument = (message: string) => new EtcdError(400, INVALID_ARGUMENT, message);

export const errEmptyKey = () => invalidArgument("etcdserver: key is not provided");
export const errKeyNotFound = () => invalidArgument("etcdserver: key not found");
export const errValueProvided = () => invalidArgument("etcdserver: value is provided");
export const errLeaseProvided = () => invalidArgument("etcdserver: lease is provided");
export const errTooManyOps = () => invalidArgument("etcdserver: too many operations in txn request");
export const errDuplicateKey = () => invalidArgument("etcdserver: duplicate key given in txn request");
export const errLeaseNotFound = () => new EtcdError(404, NOT_FOUND, "etcdserver: requested lease not found");
export const errCompacted = () =>
  new EtcdError(400, OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
export const errFutureRev = () =>
  new EtcdError(400, OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
export const errLeaseExists = () => new EtcdError(412, FAILED_PRECONDITION, "etcdserver: lease already exists");
export const errLeaseTtlTooLarge = () => new EtcdError(400, OUT_OF_RANGE, "etcdserver: too large lease TTL");
/** Not etcd's: lease ids live in JS numbers here, so a chosen id must be exact in one (etcd's own are ours). */
export const errLeaseIdTooLarge = () =>
  invalidArgument("etcdserver: lease ID beyond ±(2^53 - 1) is not supported by this server");

/**
 * The keepalive route is a stream in etcd's gateway: a body it cannot read is HTTP 500 with
 * gRPC Unknown, where the unary routes say 400 InvalidArgument. Same text.
 */
export const asStreamError = (e: EtcdError) => new EtcdError(500, UNKNOWN, e.message);
