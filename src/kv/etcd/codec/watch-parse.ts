// A watch stream's client messages (etcdserverpb.WatchRequest) read as etcd 3.4's gateway reads
// them: jsonpb, as parse.ts reads the kv requests. The oneof is create_request, cancel_request or
// progress_request; one set to null, or none set, is a message etcd ignores.

import { z } from "zod";
import { FilterType, type WatchCreateRequest, type WatchRequest } from "../watch-types.ts";
import { bool, bytes, enumOf, int64, message, repeated } from "./parse.ts";

export const WatchCreateRequestSchema: z.ZodType<WatchCreateRequest> = message(
  () => ({
    key: bytes,
    range_end: bytes,
    start_revision: int64,
    progress_notify: bool,
    filters: repeated(enumOf(FilterType, "etcdserverpb.WatchCreateRequest_FilterType")),
    prev_kv: bool,
    watch_id: int64,
    fragment: bool,
  }),
  (f) =>
    ({
      key: f.key,
      rangeEnd: f.range_end,
      startRevision: f.start_revision,
      progressNotify: f.progress_notify,
      filters: f.filters,
      prevKv: f.prev_kv,
      watchId: f.watch_id,
      fragment: f.fragment,
    }) as WatchCreateRequest,
);

const WatchCancelRequestSchema = message(
  () => ({ watch_id: int64 }),
  (f) => ({ watchId: f.watch_id as number }),
);

const WatchProgressRequestSchema = message(
  () => ({}),
  () => ({}),
);

/** A oneof member: absent or null reads as null (etcd then sees no request, or a nil one, and ignores the message). */
function nullable<T>(schema: z.ZodType<T>): z.ZodType<T | null> {
  return z.unknown().transform((v, ctx) => {
    if (v === null || v === undefined) return null;
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    ctx.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "bad request" });
    return z.NEVER;
  });
}

export const WatchRequestSchema: z.ZodType<WatchRequest> = message(
  () => ({
    create_request: nullable(WatchCreateRequestSchema),
    cancel_request: nullable(WatchCancelRequestSchema),
    progress_request: nullable(WatchProgressRequestSchema),
  }),
  (f): WatchRequest => {
    if (f.create_request !== null) return { kind: "create", create: f.create_request as WatchCreateRequest };
    if (f.cancel_request !== null) return { kind: "cancel", watchId: (f.cancel_request as { watchId: number }).watchId };
    if (f.progress_request !== null) return { kind: "progress" };
    return { kind: "none" };
  },
);
