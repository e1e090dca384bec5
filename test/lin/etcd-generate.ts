// Histories of a simulated concurrent execution against etcd's real store (src/kv/etcd over
// the memory store), linearizable by construction, for the revision checker's randomized tests
// and its benchmark: clients issue random put / delete / range / txn requests one after
// another; each takes effect at one random instant inside its [call, return] interval, in the
// order of those instants; some answers are lost (half of those requests took effect, half
// never did); serializable reads are answered from an older state, as a lagging follower
// would. Values are unique ("v<op>.<n>"), as the checker needs.
//
// A `fault` makes the store misbehave once, on one request at or after `faultAfter`, the way a
// broken implementation would: a stale read, a lost write, a write applied twice, a txn half
// applied. The history then records what that broken store answered, and ends with an audit:
// a read of every key at the revision just after the fault, after everything else, so that the
// damage is always visible to the checker (without it a lost write that is deleted before
// anybody reads it leaves a history that is linearizable after all).

import { EtcdKv } from "../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import type { KeyRange, KeyVersion, MvccStore, StoreMeta, VersionPosition } from "../../src/kv/etcd/store.ts";
import type { Compare, ResponseOp } from "../../src/kv/etcd/types.ts";
import { cmp, del, put, range, txn } from "./etcd-fixtures.ts";
import type { EtcdRequest } from "./etcd-model.ts";
import { mulberry32, pick, randInt } from "./random.ts";
import type { EtcdOperation } from "./revisions.ts";

export type StoreFault = "stale-read" | "lost-write" | "double-apply" | "half-txn";

export interface EtcdGenerateOptions {
  readonly seed: number;
  readonly operations: number;
  readonly keys: number;
  readonly clients: number;
  /** Share of requests whose answer is lost (ret = ∞). */
  readonly unknownRate?: number;
  /** Share of reads that are serializable and answered from a state up to 3 revisions old. */
  readonly serializableRate?: number;
  /** Share of puts with ignore_value (they keep the key's value; on a missing key etcd refuses them). */
  readonly ignoreValueRate?: number;
  /** Longest request, in time units (default 40); gaps between a client's requests are up to 10. */
  readonly maxDuration?: number;
  readonly fault?: StoreFault;
  /** The fault strikes the first suitable request (in the order they take effect) from this one on. */
  readonly faultAfter?: number;
}

export interface GeneratedEtcdHistory {
  readonly history: EtcdOperation[];
  /** The history index of the request the fault struck, or null (no fault, or none suitable). */
  readonly victim: number | null;
  /** The answers the store gave to requests whose answer was then lost (those that took effect), by history index. */
  readonly lostAnswers: ReadonlyMap<number, ResponseOp>;
}

interface Planned {
  readonly clientId: number;
  readonly call: number;
  readonly ret: number;
  readonly instant: number;
  readonly lost: boolean;
  readonly happened: boolean;
}

export function generateEtcdHistory(options: EtcdGenerateOptions): GeneratedEtcdHistory {
  const rand = mulberry32(options.seed);
  const maxDuration = options.maxDuration ?? 40;
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  const clocks = new Array<number>(options.clients).fill(0);
  const planned: Planned[] = [];
  for (let i = 0; i < options.operations; i++) {
    const clientId = clocks.indexOf(Math.min(...clocks));
    const call = clocks[clientId]! + randInt(rand, 1, 10); // a client's requests never touch: one client is sequential
    const ret = call + randInt(rand, 1, maxDuration);
    clocks[clientId] = ret;
    const lost = rand() < (options.unknownRate ?? 0);
    planned.push({ clientId, call, ret, instant: call + rand() * (ret - call), lost, happened: !lost || rand() < 0.5 });
  }
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.instant - planned[b]!.instant);

  const store = new FaultyStore();
  const kv = new EtcdKv(store);
  const requests = new Map<number, EtcdRequest>();
  const outputs = new Map<number, ResponseOp>();
  let victim: number | null = null;
  let auditRevision = 0;
  for (const i of order) {
    const p = planned[i]!;
    const gen = new RequestMaker(rand, keys, i, kv.revision(), options.ignoreValueRate ?? 0);
    const faultHere = options.fault !== undefined && victim === null && i >= (options.faultAfter ?? 0) && !p.lost;
    let req = gen.random();
    if (faultHere && options.fault === "half-txn") req = gen.twoPuts();
    if (req.kind === "range" && req.range.revision === 0 && rand() < (options.serializableRate ?? 0)) req = { kind: "range", range: { ...req.range, serializable: true, revision: 0 } };
    requests.set(i, req);
    if (!p.happened) continue;
    let output: ResponseOp;
    try {
      if (faultHere && injectFault(options.fault!, kv, store, req, (out) => (output = out))) {
        victim = i;
        auditRevision = kv.revision();
      }
      else if (req.kind === "range" && req.range.serializable) output = laggingRead(rand, kv, req);
      else output = execute(kv, req);
    } catch {
      requests.delete(i); // refused: certainly not applied, so not in the history
      continue;
    }
    outputs.set(i, output!);
  }
  const history: EtcdOperation[] = [];
  const lostAnswers = new Map<number, ResponseOp>();
  planned.forEach((p, i) => {
    const input = requests.get(i);
    if (input === undefined) return;
    if (i === victim) victim = history.length;
    const output = outputs.get(i);
    if (p.lost && output !== undefined) lostAnswers.set(history.length, output);
    history.push(p.lost || output === undefined ? { clientId: p.clientId, input, output: undefined, call: p.call, ret: Infinity } : { clientId: p.clientId, input, output, call: p.call, ret: p.ret });
  });
  if (victim !== null) {
    const end = Math.max(...planned.map((p) => p.ret)) + 1;
    const audit = range("\0", "\0", { revision: auditRevision });
    history.push({ clientId: "audit", input: audit, output: execute(kv, audit), call: end, ret: end + 1 });
  }
  return { history, victim, lostAnswers };
}

/** Runs one request on the real store. */
export function execute(kv: EtcdKv, req: EtcdRequest): ResponseOp {
  switch (req.kind) {
    case "range":
      return { kind: "range", range: kv.range(req.range) };
    case "put":
      return { kind: "put", put: kv.put(req.put) };
    case "deleteRange":
      return { kind: "deleteRange", deleteRange: kv.deleteRange(req.deleteRange) };
    case "txn":
      return { kind: "txn", txn: kv.txn(req.txn) };
  }
}

/** A follower up to 3 revisions behind: the state at that revision, with that revision in the header. */
function laggingRead(rand: () => number, kv: EtcdKv, req: Extract<EtcdRequest, { kind: "range" }>): ResponseOp {
  const behind = Math.max(1, kv.revision() - randInt(rand, 0, 3));
  const resp = kv.range({ ...req.range, revision: behind });
  return { kind: "range", range: { ...resp, header: { revision: behind } } };
}

/** Runs `req` with the fault; answers false (and runs nothing) when the fault does not fit this request. */
function injectFault(fault: StoreFault, kv: EtcdKv, store: FaultyStore, req: EtcdRequest, answer: (out: ResponseOp) => void): boolean {
  switch (fault) {
    case "stale-read": {
      // The state of an older revision under the current header, when it differs from the true answer.
      if (req.kind !== "range" || req.range.revision !== 0 || req.range.serializable) return false;
      const truth = JSON.stringify(kv.range(req.range));
      for (let r = kv.revision() - 1; r >= 1; r--) {
        const old = kv.range({ ...req.range, revision: r });
        if (JSON.stringify(old) !== truth) {
          answer({ kind: "range", range: old });
          return true;
        }
      }
      return false;
    }
    case "lost-write":
      // Acknowledged, the revision moves, but the row never reaches the store.
      if (req.kind !== "put") return false;
      store.dropRows = () => true;
      answer(execute(kv, req));
      store.dropRows = null;
      return true;
    case "double-apply":
      if (req.kind !== "put") return false;
      answer(execute(kv, req));
      execute(kv, req);
      return true;
    case "half-txn": {
      // The txn's second put is lost; its first lands.
      if (req.kind !== "txn") return false;
      store.dropRows = (rows) => rows[0]!.sub === 1;
      answer(execute(kv, req));
      store.dropRows = null;
      return true;
    }
  }
}

/** The memory store, with a hook that can drop rows on their way in (a broken write path). */
class FaultyStore implements MvccStore {
  private readonly inner = new MemoryMvccStore();
  dropRows: ((rows: readonly KeyVersion[]) => boolean) | null = null;

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.latest(range, atRevision, limit);
  }
  countLatest(range: KeyRange, atRevision: number): number {
    return this.inner.countLatest(range, atRevision);
  }
  append(rows: readonly KeyVersion[]): void {
    if (this.dropRows !== null && this.dropRows(rows)) return;
    this.inner.append(rows);
  }
  compact(revision: number): void {
    this.inner.compact(revision);
  }
  readMeta(): StoreMeta {
    return this.inner.readMeta();
  }
  writeMeta(meta: StoreMeta): void {
    this.inner.writeMeta(meta);
  }
  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.versionsAfter(after, atRevision, limit);
  }
  allRows(): KeyVersion[] {
    return this.inner.allRows();
  }
  clear(): void {
    this.inner.clear();
  }
}

/** Random valid requests over a few keys; `op` numbers the values so they are unique. */
class RequestMaker {
  private n = 0;

  constructor(
    private readonly rand: () => number,
    private readonly keys: readonly string[],
    private readonly op: number,
    private readonly revision: number,
    private readonly ignoreValueRate: number,
  ) {}

  random(): EtcdRequest {
    const r = this.rand();
    if (r < 0.3) return this.range();
    if (r < 0.6) return this.put(this.key());
    if (r < 0.72) return this.delete();
    return this.txn(this.keys.slice(), 0);
  }

  /** A txn that always succeeds and puts two keys (the half-txn fault's victim). */
  twoPuts(): EtcdRequest {
    const [a, c] = [this.keys[0]!, this.keys[1] ?? `${this.keys[0]}x`];
    return txn([], [this.put(a), this.put(c)]);
  }

  private key(): string {
    return pick(this.rand, this.keys);
  }

  private value(): string {
    return `v${this.op}.${this.n++}`;
  }

  private put(key: string): EtcdRequest {
    if (this.rand() < this.ignoreValueRate) return put(key, "", { prevKv: this.rand() < 0.5, ignoreValue: true });
    return put(key, this.value(), { prevKv: this.rand() < 0.5 });
  }

  private delete(): EtcdRequest {
    if (this.rand() < 0.6) return del(this.key(), "", this.rand() < 0.5);
    const [start, end] = this.bounds();
    return del(start, end, this.rand() < 0.5);
  }

  /** [start, end) over the keys, sometimes open-ended ("\0"). */
  private bounds(): [string, string] {
    const a = this.key();
    if (this.rand() < 0.2) return [a, "\0"];
    const c = this.key();
    return a < c ? [a, c] : c < a ? [c, a] : [a, `${a}\0`];
  }

  private range(): EtcdRequest {
    const rand = this.rand;
    const r = rand();
    const [start, end] = r < 0.4 ? [this.key(), ""] : r < 0.85 ? this.bounds() : ["\0", "\0"];
    const options: Parameters<typeof range>[2] = {};
    if (rand() < 0.2) options.limit = randInt(rand, 1, 3);
    if (rand() < 0.15) options.revision = randInt(rand, 1, this.revision);
    if (rand() < 0.1) options.keysOnly = true;
    else if (rand() < 0.1) options.countOnly = true;
    if (rand() < 0.15) {
      options.sortTarget = randInt(rand, 0, 4);
      options.sortOrder = randInt(rand, 0, 2);
    }
    if (rand() < 0.1) {
      options.minModRevision = rand() < 0.5 ? 0 : randInt(rand, 0, this.revision);
      options.maxModRevision = rand() < 0.5 ? 0 : randInt(rand, 0, this.revision);
      options.minCreateRevision = rand() < 0.5 ? 0 : randInt(rand, 0, this.revision);
      options.maxCreateRevision = rand() < 0.5 ? 0 : randInt(rand, 0, this.revision);
    }
    return range(start, end, options);
  }

  private compare(): Compare {
    const key = this.key();
    const rand = this.rand;
    const result = pick(rand, ["=", ">", "<", "!="] as const);
    switch (randInt(rand, 0, 3)) {
      case 0:
        return cmp(key, "version", result, randInt(rand, 0, 3));
      case 1:
        return cmp(key, "create", result, randInt(rand, 0, this.revision));
      case 2:
        return cmp(key, "mod", result, randInt(rand, 0, this.revision));
      default:
        return cmp(key, "value", result, `v${randInt(rand, 0, this.op)}.0`);
    }
  }

  /** Writes in one txn (all branches, nested ones too) go to distinct single keys, so etcd never refuses it. */
  private txn(free: string[], depth: number): EtcdRequest {
    const compares = Array.from({ length: randInt(this.rand, 0, 2) }, () => this.compare());
    return txn(compares, this.branch(free, depth), this.branch(free, depth));
  }

  private branch(free: string[], depth: number): EtcdRequest[] {
    const ops: EtcdRequest[] = [];
    for (let n = randInt(this.rand, 0, 3); n > 0; n--) {
      const r = this.rand();
      if (r < 0.3 || free.length === 0) ops.push(this.range());
      else if (r < 0.9 - depth * 0.5) {
        const key = free.splice(randInt(this.rand, 0, free.length - 1), 1)[0]!;
        ops.push(r < 0.7 ? this.put(key) : del(key, "", this.rand() < 0.5));
      } else if (depth === 0) ops.push(this.txn(free, 1));
      else ops.push(this.range());
    }
    return ops;
  }
}
