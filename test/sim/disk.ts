// One server's durable storage: what survives a crash. The host writes the Ready's hard state
// and log write here before any message leaves; a restart reads exactly this back. With log
// compaction, the log starts after a snapshot: the state machine's content up to `offset`
// (entries 1..offset as applied) plus the index and term of its last entry.
//
// Where that content lives depends on the host (ClusterOptions.snapshotSource): "stored" keeps
// a point-in-time copy of the state machine taken at each compaction; "live" (what the Durable
// Object does) keeps none: the durable state machine itself, which has applied at least up to
// the snapshot, stands for it.
//
// The disk can also refuse a write (DiskFaults), as SQLite under a Durable Object can: the
// database is full, a row is too large, or a transient error. A write is one Ready's hard
// state, log write, installed snapshot and (durable state machine) applied entries, or one
// compaction: like the shell's transactionSync, it lands whole or not at all. The host
// (cluster.ts) asks `refusal` before writing anything; a refused write changes nothing here,
// and the host then resets the server, as the Durable Object does (ctx.abort()).

import { entryJson } from "./invariants.ts";
import type { Rng } from "./prng.ts";
import { membershipOf } from "../../src/raft/membership.ts";
import type { Entry, HardState, LogWrite, Membership, RestoredState, SnapshotMeta } from "../../src/raft/types.ts";

export type SnapshotSource = "stored" | "live";

/** Why a write was refused. */
export type DiskFailureKind = "full" | "tooLarge" | "transient";

/**
 * How a cluster's disks fail (ClusterOptions.diskFaults). "full" is per disk and per time
 * window (Cluster.fillDisk); the other two are properties of every disk of the cluster.
 */
export interface DiskFaults {
  /** Probability that any one write is refused for no reason of its own (a transient error). */
  readonly transientRate: number;
  /**
   * A write holding an entry whose command JSON is longer than this is refused (SQLITE_TOOBIG),
   * on every disk alike: deterministic, it would fail again on every attempt and every replica.
   * Infinity: no limit.
   *
   * Why this keeps liveness checks meaningful: the limit is the same everywhere and judges one
   * entry, not a batch, so the first write that can hold a too-large entry is its leader's own
   * (the proposal's Ready), and that write is refused before any message leaves: the leader
   * resets, the entry is in no log and on no wire, and the cluster goes on without it (the
   * proposal's client sees the reset, as an HTTP client sees the object's abort). An entry that
   * could be stored by some replica but not by others (a per-replica limit, a limit on a whole
   * batch) would instead be retried forever to the replicas that refuse it and wedge them,
   * which the real system rules out: the kv layer bounds keys and values, identically on every
   * replica, so such an entry is never proposed. The simulator does not model that wedge.
   */
  readonly maxCommandChars: number;
}

export const NO_DISK_FAULTS: DiskFaults = { transientRate: 0, maxCommandChars: Infinity };

export class Disk {
  hardState: HardState = { term: 0, votedFor: null };
  /** The last index folded into the snapshot (0: no snapshot) and its term. */
  private offset = 0;
  private offsetTerm = 0;
  /** Entries offset+1 .. lastIndex. */
  private entries: Entry[] = [];
  /** JSON of each entry's command, computed once, for cheap comparisons. */
  private jsons: string[] = [];
  /** "stored": the copy of the state machine taken when the snapshot was made (entries 1..offset). */
  private storedMachine: Entry[] = [];
  /**
   * The configuration the snapshot carries (as of its last entry), as the core named it
   * (SnapshotMeta.membership); passed back on reload. Undefined: no snapshot, or a host that lost it.
   */
  snapshotMembership: Membership | undefined = undefined;
  /** The configuration entries of the stored log (after the snapshot), in index order. */
  private configs: { readonly index: number; readonly membership: Membership }[] = [];
  /** The state machine's durable copy (used when the host keeps its state machine on disk). */
  machine: Entry[] = [];
  /** How many times the host compacted this log (a statistic for tests; installs do not count). */
  compactions = 0;

  /** Until this virtual time the disk is full and refuses every write. */
  fullUntil = -Infinity;
  /** Writes refused so far, by reason (statistics for tests and the CLI). */
  readonly refused: Record<DiskFailureKind, number> = { full: 0, tooLarge: 0, transient: 0 };

  constructor(readonly snapshotSource: SnapshotSource = "stored") {}

  /**
   * Would a write land? `entries` are the log entries it holds (a compaction holds none);
   * null when it lands, else why it is refused (counted). Checked before anything is written:
   * a refused write leaves the disk exactly as it was.
   */
  refusal(entries: readonly Entry[], now: number, faults: DiskFaults, rng: Rng): DiskFailureKind | null {
    let kind: DiskFailureKind | null = null;
    if (now < this.fullUntil) kind = "full";
    else if (faults.maxCommandChars < Infinity && entries.some((e) => entryJson(e).length > faults.maxCommandChars)) kind = "tooLarge";
    else if (rng.chance(faults.transientRate)) kind = "transient";
    if (kind) this.refused[kind]++;
    return kind;
  }

  /**
   * The state machine content the snapshot stands for: at least entries 1..snapshotIndex, as
   * applied ("live": the durable state machine itself, which may go further).
   */
  get snapshotMachine(): readonly Entry[] {
    return this.snapshotSource === "live" ? this.machine : this.storedMachine;
  }

  get lastIndex(): number {
    return this.offset + this.entries.length;
  }

  get snapshotIndex(): number {
    return this.offset;
  }

  entry(index: number): Entry | undefined {
    return index > this.offset ? this.entries[index - this.offset - 1] : undefined;
  }

  json(index: number): string | undefined {
    return index > this.offset ? this.jsons[index - this.offset - 1] : undefined;
  }

  /** 0 for index 0 (the empty prefix), the snapshot's term at its index, undefined past the end or inside the snapshot. */
  termAt(index: number): number | undefined {
    if (index === 0) return 0;
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset) return undefined;
    return this.entries[index - this.offset - 1]?.term;
  }

  /** The stored entries (those after the snapshot). */
  log(): readonly Entry[] {
    return this.entries;
  }

  /**
   * The whole hard state, the core's marks included: `ledTerm` (the term it won, which a
   * reset leader resumes) and `asleep` (it reloads asleep), both omitted while unset, as the
   * core omits them; and `life`, the count of resumes (a leader's rounds carry it), omitted while 0.
   */
  writeHardState(hs: HardState): void {
    this.hardState = {
      term: hs.term,
      votedFor: hs.votedFor,
      ...(hs.ledTerm !== undefined && hs.ledTerm > 0 ? { ledTerm: hs.ledTerm } : {}),
      ...(hs.asleep === true ? { asleep: true } : {}),
      ...(hs.life !== undefined && hs.life > 0 ? { life: hs.life } : {}),
    };
  }

  /** Delete every entry with index >= fromIndex, then store the entries (copies: the core keeps its own). */
  writeLog(w: LogWrite): void {
    const keep = Math.max(0, Math.min(w.fromIndex - 1 - this.offset, this.entries.length));
    this.entries.length = keep;
    this.jsons.length = keep;
    while (this.configs.length > 0 && this.configs[this.configs.length - 1]!.index > this.lastIndex) this.configs.pop();
    for (const e of w.entries) {
      this.entries.push({ index: this.lastIndex + 1, term: e.term, command: e.command });
      this.jsons.push(entryJson(e));
      const m = membershipOf(e.command);
      if (m !== null) this.configs.push({ index: this.lastIndex, membership: m });
    }
  }

  /** The latest configuration entry of the stored log (after the snapshot), or null: then the snapshot's (or the initial) is in force. */
  latestConfig(): { readonly index: number; readonly membership: Membership } | null {
    return this.configs[this.configs.length - 1] ?? null;
  }

  /** The indexes of the stored log's configuration entries above `index`. */
  configsAbove(index: number): number[] {
    const out: number[] = [];
    for (let k = this.configs.length - 1; k >= 0 && this.configs[k]!.index > index; k--) out.push(this.configs[k]!.index);
    return out.reverse();
  }

  /**
   * The host snapshotted its state machine up to `index`: keep that ("stored": a copy of
   * `machine`'s first `index` commands; "live": nothing, the durable state machine is it), drop
   * the entries it covers.
   */
  compactTo(index: number, machine: readonly Entry[], membership?: Membership): void {
    const term = this.termAt(index);
    if (term === undefined) throw new Error(`disk: cannot compact to ${index} (log holds ${this.offset + 1}..${this.lastIndex})`);
    this.dropThrough(index, term);
    this.snapshotMembership = membership;
    if (this.snapshotSource === "stored") this.storedMachine = machine.slice(0, index);
    this.compactions++;
  }

  /**
   * A leader's snapshot was accepted: keep the entries after it if they match, else start over
   * from it. ("live": the host makes `machine` its durable state machine; nothing else to keep.)
   */
  installSnapshot(meta: SnapshotMeta, machine: readonly Entry[]): void {
    if (this.termAt(meta.index) === meta.term && meta.index <= this.lastIndex) this.dropThrough(meta.index, meta.term);
    else {
      this.entries = [];
      this.jsons = [];
      this.configs = [];
      this.offset = meta.index;
      this.offsetTerm = meta.term;
    }
    this.snapshotMembership = meta.membership;
    if (this.snapshotSource === "stored") this.storedMachine = machine.slice(0, meta.index);
  }

  private dropThrough(index: number, term: number): void {
    const drop = index - this.offset;
    this.entries = this.entries.slice(drop);
    this.jsons = this.jsons.slice(drop);
    this.configs = this.configs.filter((c) => c.index > index);
    this.offset = index;
    this.offsetTerm = term;
  }

  /** What a restart hands the core: the hard state, the snapshot, a copy of the log, and how far the host applied. */
  restored(applied: number): RestoredState {
    return {
      hardState: { ...this.hardState },
      ...(this.offset > 0
        ? {
            snapshot: {
              index: this.offset,
              term: this.offsetTerm,
              ...(this.snapshotMembership ? { membership: this.snapshotMembership } : {}),
            },
          }
        : {}),
      entries: this.entries.slice(),
      applied,
    };
  }
}
