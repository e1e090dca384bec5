// The one error type the client throws. Its `code` is the API's error code ("not_leader",
// "unavailable", "timeout", "bad_request", ...) or one of the client's own ("network",
// "aborted", "bad_response").

export interface KvErrorDetails {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /**
   * Whether the operation may have taken effect. False only when every attempt was
   * answered with "not applied" (503, 421, or a 4xx); true as soon as one attempt timed
   * out, lost its connection or got a 504, because that attempt may still be applied —
   * once, thanks to the request ids. A linearizability checker records such an operation
   * as having an unknown outcome.
   */
  readonly maybeApplied: boolean;
  /** How many HTTP attempts were made. */
  readonly attempts: number;
  readonly cause?: unknown;
}

export class KvError extends Error {
  /** HTTP status of the answer that decided the error (0: no answer at all). */
  readonly status: number;
  readonly code: string;
  readonly maybeApplied: boolean;
  readonly attempts: number;

  constructor(details: KvErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "KvError";
    this.status = details.status;
    this.code = details.code;
    this.maybeApplied = details.maybeApplied;
    this.attempts = details.attempts;
  }
}
