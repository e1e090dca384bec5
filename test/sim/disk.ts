// One server's durable storage: what survives a crash. The host writes the Ready's hard state
// and log write here before any message leaves; a restart reads exactly this back. With log
// compaction, the log starts after a snapshot: the state machine's content up to `offset`
// (entries 1..offset as applied) plus the index and term of its last entry.
//
// Where that content lives depends on the host (ClusterOptions.snapshotSource): "stored" keeps
// a point-in-time copy of the state machine taken at each compaction; "live" (what the Durable
// Object does) keeps none: the durable state machine itself, which has applied at least up to
// the snapshot, stands for it.

import { entryJson } from "./invariants.ts";
import type { Entry, HardState, LogWrite, RestoredState, SnapshotMeta } from "../../src/raft/types.ts";

export type SnapshotSource = "stored" | "live";

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
  /** The state machine's durable copy (used when the host keeps its state machine on disk). */
  machine: Entry[] = [];
  /** How many times the host compacted this log (a statistic for tests; installs do not count). */
  compactions = 0;

  constructor(readonly snapshotSource: SnapshotSource = "stored") {}

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

  writeHardState(hs: HardState): void {
    this.hardState = { term: hs.term, votedFor: hs.votedFor };
  }

  /** Delete every entry with index >= fromIndex, then store the entries (copies: the core keeps its own). */
  writeLog(w: LogWrite): void {
    const keep = Math.max(0, Math.min(w.fromIndex - 1 - this.offset, this.entries.length));
    this.entries.length = keep;
    this.jsons.length = keep;
    for (const e of w.entries) {
      this.entries.push({ index: this.lastIndex + 1, term: e.term, command: e.command });
      this.jsons.push(entryJson(e));
    }
  }

  /**
   * The host snapshotted its state machine up to `index`: keep that ("stored": a copy of
   * `machine`'s first `index` commands; "live": nothing, the durable state machine is it), drop
   * the entries it covers.
   */
  compactTo(index: number, machine: readonly Entry[]): void {
    const term = this.termAt(index);
    if (term === undefined) throw new Error(`disk: cannot compact to ${index} (log holds ${this.offset + 1}..${this.lastIndex})`);
    this.dropThrough(index, term);
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
      this.offset = meta.index;
      this.offsetTerm = meta.term;
    }
    if (this.snapshotSource === "stored") this.storedMachine = machine.slice(0, meta.index);
  }

  private dropThrough(index: number, term: number): void {
    const drop = index - this.offset;
    this.entries = this.entries.slice(drop);
    this.jsons = this.jsons.slice(drop);
    this.offset = index;
    this.offsetTerm = term;
  }

  /** What a restart hands the core: the hard state, the snapshot, a copy of the log, and how far the host applied. */
  restored(applied: number): RestoredState {
    return {
      hardState: { ...this.hardState },
      ...(this.offset > 0 ? { snapshot: { index: this.offset, term: this.offsetTerm } } : {}),
      entries: this.entries.slice(),
      applied,
    };
  }
}
