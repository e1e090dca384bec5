// Lease request bodies of etcd 3.4's JSON gateway (LeaseGrantRequest, LeaseRevokeRequest,
// LeaseKeepAliveRequest, LeaseTimeToLiveRequest, LeaseLeasesRequest), read as jsonpb reads
// them, with the same field readers and Go error texts as the kv requests (parse.ts). The
// proto's field names are upper case (`TTL`, `ID`); their JSON names are the same.

import type { z } from "zod";
import type { LeaseGrantRequest, LeaseIdRequest, LeaseTimeToLiveRequest } from "../lease-types.ts";
import { readInt64Exact } from "./go-json.ts";
import { bool, field, int64, message } from "./parse.ts";

/** IDs are read to the last digit: an answer echoes the ID asked (parse.ts reads int64 into a number). */
const leaseId = field(readInt64Exact);

export const LeaseGrantRequestSchema: z.ZodType<LeaseGrantRequest> = message(
  () => ({ TTL: int64, ID: leaseId }),
  (f) => ({ TTL: f.TTL, ID: f.ID }) as LeaseGrantRequest,
);

/** LeaseRevokeRequest and LeaseKeepAliveRequest: one `ID`. */
export const LeaseIdRequestSchema: z.ZodType<LeaseIdRequest> = message(
  () => ({ ID: leaseId }),
  (f) => ({ ID: f.ID }) as LeaseIdRequest,
);

export const LeaseTimeToLiveRequestSchema: z.ZodType<LeaseTimeToLiveRequest> = message(
  () => ({ ID: leaseId, keys: bool }),
  (f) => ({ ID: f.ID, keys: f.keys }) as LeaseTimeToLiveRequest,
);

/** LeaseLeasesRequest has no fields: only the shape of the body is checked. */
export const LeaseLeasesRequestSchema: z.ZodType<Record<string, never>> = message(
  () => ({}),
  () => ({}),
);
