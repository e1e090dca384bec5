// A seeded generator of lease sequences for etcd 3.4's JSON gateway (/v3/lease/*, the
// /v3/kv/lease/* aliases, and the kv requests that name leases), recorded by record-lease.ts.
//
// Deterministic as generate.ts: one seed and the answers it is shown give one sequence. It
// learns from answers which leases exist (a grant without ID gets an ID etcd picks at random,
// so later requests name whatever etcd answered) and the store's revision.
//
// Time is the hard part: a lease recorded while it might or might not expire would make a
// recording depend on the machine's speed. So ordinary leases get TTLs (≥ 120 s) far longer than a
// sequence takes, and leases that do expire are granted only inside an "expiry episode": grant a
// lease below etcd's minimum TTL (it becomes 2 s), attach keys, look, wait 4 s, look again.

import { Rng } from "../sim/prng.ts";
import { b64 } from "./generate.ts";

/** Bump when a change to this file changes the sequence a seed produces. */
export const LEASE_GENERATOR_VERSION = 4;

export interface LeaseOp {
  path: string;
  request: unknown;
  /** Pause before sending, in ms (the recorder sleeps; a replay waits as long or longer). */
  wait_ms: number;
}

export interface LeaseObserved {
  status: number;
  response: unknown;
}

type Json = Record<string, unknown>;

/** Keys attached to leases; few, so keys move between leases and collide. */
export const LEASE_KEYS: readonly string[] = ["l/a", "l/b", "l/c", "l/d", "m"];
/** IDs the generator grants explicitly (a negative one included: etcd accepts it). */
const EXPLICIT_IDS: readonly string[] = ["1", "2", "3", "77", "123456789", "-3"];
/** A lease ID never granted. */
const UNKNOWN_ID = "987654321";
/** Long TTLs: none of these can expire while a sequence runs (a sequence takes well under a minute). */
const LONG_TTLS: readonly number[] = [120, 300, 3600];
/** TTLs at or below etcd's minimum with default flags (2 s): etcd answers TTL 2. */
const SHORT_TTLS: readonly number[] = [-5, 0, 1, 2];
/** How long an expiry episode waits: past the 2 s TTL plus etcd's 500 ms expiry check and a margin. */
export const EXPIRY_WAIT_MS = 4000;
const ALL = b64("\0");

export class LeaseSequenceGenerator {
  private readonly rng: Rng;
  /** Leases this sequence believes alive (granted, not revoked, not expired), by ID as etcd writes it. */
  private readonly alive: string[] = [];
  /** Leases once alive and now revoked or expired. */
  private readonly gone: string[] = [];
  /** Ops already decided, sent before drawing anything new (an episode is several ops). */
  private readonly queue: LeaseOp[] = [];
  /** An expiry episode's grant was handed out: its other requests follow once the grant is answered. */
  private episodePending = false;
  /** The lease an episode is about, once its grant has been answered. */
  private episodeLease: string | null = null;
  /** Ops handed out so far (the first one lists the leases of a fresh etcd: none). */
  private count = 0;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed, "etcd-lease-sequence", LEASE_GENERATOR_VERSION);
  }

  /** Learns which leases exist from etcd's answer to `op`. */
  observe(op: LeaseOp, observed: LeaseObserved): void {
    const res = observed.response as Json | null;
    if (observed.status !== 200 || res === null) return;
    if (op.path === "/v3/lease/grant" && typeof res.ID === "string") {
      this.alive.push(res.ID);
      if ((op.request as Json).TTL !== undefined && SHORT_TTLS.includes(Number((op.request as Json).TTL))) this.episodeLease = res.ID;
    }
    if (op.path.endsWith("/lease/revoke")) this.forget(String((op.request as Json).ID));
  }

  private forget(id: string): void {
    const i = this.alive.indexOf(id);
    if (i >= 0) {
      this.alive.splice(i, 1);
      this.gone.push(id);
    }
  }

  /** The next op, an episode's requests first once its grant has been answered. */
  next(): LeaseOp {
    if (this.episodePending) {
      this.episodePending = false;
      this.expandEpisode();
    }
    return this.draw();
  }

  private draw(): LeaseOp {
    if (this.count++ === 0) return this.op("/v3/lease/leases", {});
    const queued = this.queue.shift();
    if (queued) return queued;
    const r = this.rng;
    // Without live leases most requests would only name unknown ones: grant first, mostly.
    if (this.alive.length < 2 && r.chance(0.5)) return this.op("/v3/lease/grant", this.grant());
    const roll = r.next();
    if (roll < 0.14) return this.op("/v3/lease/grant", this.grant());
    if (roll < 0.24) return this.op("/v3/kv/put", this.put());
    if (roll < 0.32) return this.op(r.pick(["/v3/lease/timetolive", "/v3/kv/lease/timetolive"]), this.timeToLive());
    if (roll < 0.40) return this.op("/v3/lease/keepalive", { ID: this.someLease() });
    if (roll < 0.46) return this.op("/v3/lease/leases", r.chance(0.8) ? {} : null);
    if (roll < 0.54) return this.revoke();
    if (roll < 0.62) return this.op("/v3/kv/range", this.rangeAll());
    if (roll < 0.70) return this.op("/v3/kv/txn", this.txn());
    if (roll < 0.74) return this.op("/v3/kv/deleterange", { key: b64(r.pick(LEASE_KEYS)), prev_kv: r.chance(0.5) });
    if (roll < 0.80) return this.wait();
    if (roll < 0.84) return this.episode();
    return this.badRequest();
  }

  private op(path: string, request: unknown, wait_ms = 0): LeaseOp {
    return { path, request, wait_ms };
  }

  /** An alive lease mostly; now and then a gone one or one never granted. */
  private someLease(): string {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.75 && this.alive.length > 0) return r.pick(this.alive);
    if (roll < 0.9 && this.gone.length > 0) return r.pick(this.gone);
    return UNKNOWN_ID;
  }

  /** With an explicit ID or without; a duplicate ID now and then; TTLs long, or at/below the minimum inside episodes only. */
  private grant(): Json {
    const r = this.rng;
    const req: Json = { TTL: String(r.pick(LONG_TTLS)) };
    const roll = r.next();
    if (roll < 0.4) req.ID = r.pick(EXPLICIT_IDS); // may already be in use: etcd answers code 9
    else if (roll < 0.55 && this.alive.length > 0) req.ID = r.pick(this.alive); // surely a duplicate
    if (r.chance(0.05)) req.TTL = Number(req.TTL); // int64 as a JSON number, as the gateway also accepts
    return req;
  }

  private put(): Json {
    const r = this.rng;
    const req: Json = { key: b64(r.pick(LEASE_KEYS)), value: b64(r.pick(["", "v", "w"])) };
    const roll = r.next();
    if (roll < 0.65) req.lease = this.someLease();
    else if (roll < 0.85) {
      req.ignore_lease = true; // keeps the key's lease; refused on a missing key
      if (r.chance(0.2)) req.lease = this.someLease(); // refused: lease with ignore_lease
    }
    if (r.chance(0.4)) req.prev_kv = true;
    return req;
  }

  private timeToLive(): Json {
    const req: Json = { ID: this.someLease() };
    if (this.rng.chance(0.6)) req.keys = true;
    return req;
  }

  /** Revoke through either path; revoking a lease with keys is shown by ranges before and after. */
  private revoke(): LeaseOp {
    const r = this.rng;
    const path = r.pick(["/v3/lease/revoke", "/v3/kv/lease/revoke"]);
    if (this.alive.length > 0 && r.chance(0.4)) {
      // Two keys on one lease (one rewritten keeping its lease), then revoke it: both go at one revision.
      const id = r.pick(this.alive);
      const [k1, k2] = r.shuffle(LEASE_KEYS).slice(0, 2) as [string, string];
      this.queue.push(
        this.op("/v3/kv/put", { key: b64(k2), value: b64("r"), lease: id }),
        this.op("/v3/kv/put", { key: b64(k1), value: b64("r2"), ignore_lease: true, prev_kv: true }), // keeps its lease
        this.op("/v3/kv/put", { key: b64(k2), ignore_lease: true, lease: id }), // refused: lease with ignore_lease
        this.op("/v3/kv/range", this.rangeAll()),
        this.op(path, { ID: id }),
        this.op("/v3/kv/range", this.rangeAll()),
      );
      return this.op("/v3/kv/put", { key: b64(k1), value: b64("r"), lease: id });
    }
    this.queue.push(this.op("/v3/kv/range", this.rangeAll()));
    return this.op(path, { ID: this.someLease() });
  }

  /** Every key, so the answer shows each key's lease. */
  private rangeAll(): Json {
    return { key: ALL, range_end: ALL };
  }

  private txn(): Json {
    const r = this.rng;
    const compare = Array.from({ length: r.int(1, 3) }, () => ({
      key: b64(r.pick(LEASE_KEYS)),
      target: "LEASE",
      result: r.pick(["EQUAL", "NOT_EQUAL", "GREATER", "LESS"]),
      lease: r.chance(0.3) ? "0" : this.someLease(),
    }));
    const key = r.pick(LEASE_KEYS);
    const success: Json[] = [{ request_put: { key: b64(key), value: b64("t"), lease: r.chance(0.7) ? this.someLease() : "0" } }];
    const failure: Json[] = [{ request_range: { key: b64(key) } }];
    return { compare, success, failure };
  }

  /** A pause of up to 1.5 s: timetolive's TTL (whole seconds, rounded down) then visibly drops. */
  private wait(): LeaseOp {
    const r = this.rng;
    const ms = r.pick([300, 800, 1100, 1500]);
    return this.op(r.pick(["/v3/lease/timetolive", "/v3/lease/keepalive"]), { ID: this.someLease() }, ms);
  }

  /**
   * An expiry episode: grant a lease below the minimum TTL, attach keys (one by put with prev_kv,
   * one in a txn), look at it, wait past its TTL, then see the keys gone at one revision, the lease
   * unknown to timetolive, keepalive and revoke, and absent from the list.
   */
  private episode(): LeaseOp {
    const r = this.rng;
    const grant: Json = { TTL: String(r.pick(SHORT_TTLS)) };
    if (r.chance(0.3)) grant.ID = String(1000 + r.int(0, 9000));
    this.episodePending = true;
    return this.op("/v3/lease/grant", grant);
  }

  /** Queues the episode's requests (they name the lease ID etcd answered to its grant). */
  private expandEpisode(): void {
    const id = this.episodeLease;
    this.episodeLease = null;
    if (id === null) return; // the grant was refused (a duplicate explicit ID): nothing to expire
    const r = this.rng;
    const [k1, k2] = r.shuffle(LEASE_KEYS).slice(0, 2) as [string, string];
    this.queue.push(
      this.op("/v3/kv/put", { key: b64(k1), value: b64("e"), lease: id, prev_kv: true }),
      this.op("/v3/kv/txn", { compare: [{ key: b64(k1), target: "LEASE", result: "EQUAL", lease: id }], success: [{ request_put: { key: b64(k2), value: b64("e2"), lease: id } }] }),
      this.op("/v3/lease/timetolive", { ID: id, keys: true }),
      this.op("/v3/kv/range", this.rangeAll()),
      this.op("/v3/kv/range", this.rangeAll(), EXPIRY_WAIT_MS),
      this.op(r.pick(["/v3/lease/timetolive", "/v3/kv/lease/timetolive"]), { ID: id, keys: true }),
      this.op("/v3/lease/keepalive", { ID: id }),
      this.op("/v3/lease/leases", {}),
      this.op(r.pick(["/v3/lease/revoke", "/v3/kv/lease/revoke"]), { ID: id }),
    );
    this.forget(id);
  }

  /** Requests etcd refuses or answers oddly: too large a TTL, malformed fields, missing IDs. */
  private badRequest(): LeaseOp {
    const r = this.rng;
    switch (r.int(0, 7)) {
      case 0:
        return this.op("/v3/lease/grant", { TTL: "9000000001" }); // above etcd's maximum TTL
      case 1:
        return this.op("/v3/lease/grant", { TTL: "ten" });
      case 2:
        return this.op(r.pick(["/v3/lease/revoke", "/v3/lease/timetolive"]), {});
      case 3:
        return this.op("/v3/lease/keepalive", r.chance(0.5) ? {} : { ID: "x1" });
      case 4:
        return this.op("/v3/lease/grant", r.pick([[], "text", 42]));
      case 5:
        return this.op("/v3/kv/put", { key: b64(r.pick(LEASE_KEYS)), lease: "-1" });
      default:
        return this.op("/v3/lease/timetolive", { ID: this.someLease(), keys: "yes" });
    }
  }
}

/** The whole sequence for one seed, asking `answer` for each op's answer in turn. */
export async function generateLeaseSequence(
  seed: number,
  count: number,
  answer: (op: LeaseOp, index: number) => Promise<LeaseObserved> | LeaseObserved,
): Promise<Array<{ op: LeaseOp; observed: LeaseObserved }>> {
  const gen = new LeaseSequenceGenerator(seed);
  const out: Array<{ op: LeaseOp; observed: LeaseObserved }> = [];
  for (let i = 0; i < count; i++) {
    const op = gen.next();
    const observed = await answer(op, i);
    gen.observe(op, observed);
    out.push({ op, observed });
  }
  return out;
}
