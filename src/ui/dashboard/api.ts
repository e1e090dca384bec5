// The coordinator's HTTP API (../shared/API.md) as the page uses it. Every failure becomes
// an ApiError carrying the status and the API's {"error", "message"} so the page can show it.

import type { ServerState } from "../timeline/types.ts";

/** Counted since the object was last loaded (`loadedAt`): a reset starts them from zero. */
export interface ServerStats {
  alarms: number;
  rpcsSent: number;
  rpcsReceived: number;
  /** When this instance of the object was loaded (ms since the epoch); changes on every reset. */
  loadedAt: number;
  snapshotsSent?: number;
  snapshotsInstalled?: number;
}

/** A voter counts toward majorities; a learner only receives the log (API.md, "Membership"). */
export type MemberRole = "voter" | "learner";

export interface ServerStatus {
  id: number;
  state: ServerState;
  term: number;
  votedFor: number | null;
  commitIndex: number;
  lastApplied: number;
  logLength: number;
  connected: boolean;
  /** The last index folded into the server's snapshot (0: none). */
  snapshotIndex: number;
  /** A leader handing leadership over: to whom (null otherwise). */
  transferringTo: number | null;
  /** Asleep with its idle cluster: no timers, no heartbeats (undefined from an older Worker). */
  asleep?: boolean;
  stats?: ServerStats;
  /** Undefined from a Worker older than membership changes (every server then votes). */
  role?: MemberRole;
  /** Cloudflare's locationHint the object was created with (null: none). */
  locationHint?: string | null;
}

export interface ClusterStatus {
  cluster: string;
  /** The number of voters (learners are not counted). */
  size: number;
  leader: number | null;
  /** Exactly the current members; ids may have gaps (removed ids are never reused). */
  servers: ServerStatus[];
  /** The configuration's voters and learners (undefined from an older Worker). */
  voters?: number[];
  learners?: number[];
  /** Echoed by GET /clusters/{c} since issue 6 (undefined from an older Worker). */
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Every server that is up sleeps (issue 11; undefined from an older Worker). */
  asleep?: boolean;
  /** How long the leader waits without a client operation before the cluster sleeps (0: never). */
  sleepAfterMs?: number;
}

/** The cluster options the creation form offers besides the size (API defaults: both off). */
export interface ClusterOptions {
  preVote: boolean;
  checkQuorum: boolean;
}

export interface ClusterEvent {
  /** ms since the epoch */
  t: number;
  server: number | null;
  line: string;
}

export interface EventsPage {
  now: number;
  events: ClusterEvent[];
}

/** One key of `GET /clusters/{c}/kv?prefix=&after=&limit=` (API.md, "Key/value service"). */
export interface KeyEntry {
  key: string;
  value: string;
  /** The revision that created the key (since its last delete). */
  createRevision: number;
  /** The revision of its last write. */
  modRevision: number;
  /** How many writes since it was created (a delete starts it over). */
  version: number;
}

/** A page of keys in byte order, all read at the store's revision `revision`. */
export interface KeysPage {
  keys: KeyEntry[];
  /** More keys match after the last one of this page. */
  more: boolean;
  revision: number;
}

/** Which page to list: keys starting with `prefix`, strictly after `after`, at most `limit`. */
export interface KeysQuery {
  prefix: string;
  after: string | null;
  limit: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** "404 not_found: no such cluster" — or the network failure's own words (status 0). */
  describe(): string {
    return this.status === 0 ? this.message : `${this.status} ${this.code}${this.message ? `: ${this.message}` : ""}`;
  }
}

export interface Tokens {
  admin: string;
  client: string;
}

/**
 * What the page polls: only GET routes, which never wake a sleeping cluster (API.md,
 * "Sleeping clusters"). Every POST, PUT and DELETE here is something a user asked for.
 */
export class Api {
  constructor(private readonly tokens: () => Tokens) {}

  private async call<T>(method: string, path: string, body: unknown, kind: "admin" | "client"): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const token = this.tokens()[kind];
    if (token) headers["Authorization"] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", `network error: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const e = (parsed ?? {}) as { error?: unknown; message?: unknown };
      const code = typeof e.error === "string" ? e.error : response.statusText || "error";
      const message = typeof e.message === "string" ? e.message : parsed === null ? text.slice(0, 200) : "";
      throw new ApiError(response.status, code, message);
    }
    return parsed as T;
  }

  private cluster(c: string): string {
    return `/clusters/${encodeURIComponent(c)}`;
  }

  createCluster(c: string, size: number, options: ClusterOptions): Promise<{ cluster: string; size: number }> {
    return this.call("POST", this.cluster(c), { size, ...options }, "admin");
  }
  status(c: string): Promise<ClusterStatus> {
    return this.call("GET", this.cluster(c), undefined, "admin");
  }
  deleteCluster(c: string): Promise<null> {
    return this.call("DELETE", this.cluster(c), undefined, "admin");
  }
  events(c: string, since: number): Promise<EventsPage> {
    return this.call("GET", `${this.cluster(c)}/events?since=${since}`, undefined, "admin");
  }

  serverFault(c: string, id: number, action: "disconnect" | "reconnect" | "crash" | "restart" | "evict"): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/servers/${id}/${action}`, undefined, "admin");
  }
  /** Every server's object reset at once, as a deploy of a new version does. */
  evictAll(c: string): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/evict`, undefined, "admin");
  }
  /** Answers once server `id` leads (or with the reason it could not: 409, 503, 504). */
  transferLeader(c: string, id: number): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/leader`, { id }, "admin");
  }
  /**
   * Membership changes answer once the new configuration is committed (a new voter is caught
   * up first), or with the reason it was not: 409 change_in_progress or last_voter, 503, 504.
   */
  addMember(c: string, role: MemberRole, locationHint: string | null): Promise<ClusterStatus & { added?: number }> {
    return this.call("POST", `${this.cluster(c)}/members`, locationHint ? { role, locationHint } : { role }, "admin");
  }
  promoteMember(c: string, id: number): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/members/${id}/promote`, undefined, "admin");
  }
  removeMember(c: string, id: number): Promise<ClusterStatus> {
    return this.call("DELETE", `${this.cluster(c)}/members/${id}`, undefined, "admin");
  }
  partition(c: string, groups: number[][]): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/partition`, { groups }, "admin");
  }
  heal(c: string): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/heal`, undefined, "admin");
  }
  network(c: string, conditions: { dropRate?: number; delayMs?: [number, number] }): Promise<ClusterStatus> {
    return this.call("POST", `${this.cluster(c)}/network`, conditions, "admin");
  }

  private key(c: string, key: string): string {
    return `${this.cluster(c)}/kv/${encodeURIComponent(key)}`;
  }
  /** `modRevision` comes from a store with revisions (API.md, "Key/value service"). */
  kvGet(c: string, key: string): Promise<{ found: boolean; value: string | null; modRevision?: number }> {
    return this.call("GET", this.key(c, key), undefined, "client");
  }
  kvPut(c: string, key: string, value: string): Promise<{ found: boolean; prev: string | null }> {
    return this.call("PUT", this.key(c, key), { value }, "client");
  }
  kvCas(c: string, key: string, compare: string, value: string): Promise<{ found: boolean; prev: string | null; swapped: boolean }> {
    return this.call("POST", `${this.key(c, key)}/cas`, { compare, value }, "client");
  }
  kvAppend(c: string, key: string, value: string): Promise<{ found: boolean; prev: string | null }> {
    return this.call("POST", `${this.key(c, key)}/append`, { value }, "client");
  }
  /** Deleting a missing key is not an error: `found` says whether there was one. */
  kvDelete(c: string, key: string): Promise<{ found: boolean; prev: string | null }> {
    return this.call("DELETE", this.key(c, key), undefined, "client");
  }
  /**
   * A page of keys. A linearizable read like every kv operation, so it wakes a sleeping
   * cluster: the page lists keys only when the user asks (keys-panel.ts), never on a timer.
   */
  kvList(c: string, query: KeysQuery): Promise<KeysPage> {
    // encodeURIComponent, not URLSearchParams: a "+" in a query would read as a space.
    const params = [
      query.prefix === "" ? "" : `prefix=${encodeURIComponent(query.prefix)}`,
      query.after === null ? "" : `after=${encodeURIComponent(query.after)}`,
      `limit=${query.limit}`,
    ].filter(Boolean);
    return this.call("GET", `${this.cluster(c)}/kv?${params.join("&")}`, undefined, "client");
  }
}
