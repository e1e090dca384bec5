// etcd 3.4's watch messages (etcdserverpb.WatchRequest / WatchResponse, mvccpb.Event), typed as
// the model uses them. Field names are the proto's in camelCase; the JSON shape is codec's job.

import type { Bytes } from "./bytes.ts";
import type { KeyValue } from "./types.ts";

/** WatchCreateRequest.FilterType: which events a watch does not want. */
export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;

export interface WatchCreateRequest {
  key: Bytes;
  /** Empty: the one key; "\0": every key ≥ key; otherwise [key, range_end). */
  rangeEnd: Bytes;
  /** 0: from the next revision on. At or below the current revision: history first. */
  startRevision: number;
  progressNotify: boolean;
  filters: number[];
  prevKv: boolean;
  /** 0: the stream picks the next free id. */
  watchId: number;
  /** Read but not acted on: etcd splits only a response above its request limit (1.5 MiB). */
  fragment: boolean;
}

/** WatchRequest's oneof; `none` is a message with no request set (etcd ignores it). */
export type WatchRequest =
  | { kind: "create"; create: WatchCreateRequest }
  | { kind: "cancel"; watchId: number }
  | { kind: "progress" }
  | { kind: "none" };

/** mvccpb.Event. A DELETE's kv carries only the key and the revision of the delete. */
export interface WatchEvent {
  type: "PUT" | "DELETE";
  kv: KeyValue;
  prevKv: KeyValue | null;
}

/**
 * etcdserverpb.WatchResponse without the header ids. `revision` 0 is etcd's header without a
 * revision (the message that cancels a watch from a compacted revision).
 */
export interface WatchResponse {
  revision: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WatchEvent[];
}

/** etcd's texts for a create it refuses (mvcc's errors), sent as `cancel_reason`. */
export const ERR_EMPTY_WATCHER_RANGE = "mvcc: watcher range is empty";
export const ERR_DUPLICATE_WATCH_ID = "mvcc: duplicate watch ID provided on the WatchStream";

/** etcd's watchBatchMaxRevs: one catch-up message holds the events of at most this many revisions. */
export const WATCH_BATCH_MAX_REVS = 1000;

/** A response with every field at its zero value but those given. */
export function watchResponse(fields: Partial<WatchResponse> & { revision: number; watchId: number }): WatchResponse {
  return { created: false, canceled: false, compactRevision: 0, cancelReason: "", events: [], ...fields };
}
