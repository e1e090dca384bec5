import type { Entry, LogWrite } from "./types.ts";

/**
 * The in-memory image of the durable log, plus a record of what changed since the host last
 * persisted it. Indices start at 1. The log may start after a snapshot: `offset` is the index of
 * the last entry folded into it (0 when there is none) and `offsetTerm` that entry's term, so
 * `term(offset)` still answers for AppendEntries' consistency check.
 */
export class RaftLog {
  private entries: Entry[];
  /**
   * Approximate wire size of each entry's command (JSON length), for batching bounds.
   * Measured when first needed: a restart restores the whole stored log, but only the
   * entries some follower still lacks are ever sent.
   */
  private sizes: (number | undefined)[];
  private offset: number;
  private offsetTerm: number;
  /** Lowest index changed since the last `takeWrite`, or null when nothing changed. */
  private dirtyFrom: number | null = null;

  constructor(entries: readonly Entry[], offset = 0, offsetTerm = 0) {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.entries = [...entries];
    this.sizes = new Array<number | undefined>(this.entries.length);
    this.entries.forEach((e, i) => {
      if (e.index !== offset + 1 + i) throw new Error(`log: entry ${i} has index ${e.index}, want ${offset + 1 + i}`);
    });
  }

  /** The index of the last entry folded into a snapshot (0 when there is none). */
  get snapshotIndex(): number {
    return this.offset;
  }

  get snapshotTerm(): number {
    return this.offsetTerm;
  }

  get lastIndex(): number {
    return this.offset + this.entries.length;
  }

  get lastTerm(): number {
    return this.term(this.lastIndex) ?? 0;
  }

  /** The term of entry `index`; 0 for index 0; undefined when the index is beyond the log or compacted away. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex) return undefined;
    return this.entries[index - this.offset - 1]!.term;
  }

  /** Entries [from, to] inclusive, clipped to what the log holds. */
  slice(from: number, to: number = this.lastIndex): Entry[] {
    const lo = Math.max(from, this.offset + 1) - this.offset - 1;
    const hi = Math.min(to, this.lastIndex) - this.offset;
    return lo < hi ? this.entries.slice(lo, hi) : [];
  }

  /**
   * Entries from `from` on, at most `maxEntries` of them and stopping before `maxBytes` would
   * be passed (but always at least one, so a single large entry still makes progress).
   */
  batch(from: number, maxEntries: number, maxBytes: number): Entry[] {
    const start = Math.max(from, this.offset + 1) - this.offset - 1;
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = start; i < this.entries.length && out.length < maxEntries; i++) {
      const size = (this.sizes[i] ??= sizeOf(this.entries[i]!));
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(this.entries[i]!);
    }
    return out;
  }

  /** The first index holding `term` (for ConflictIndex), scanning back from `index`. */
  firstIndexOfTerm(term: number, index: number): number {
    let i = index;
    while (i - 1 > this.offset && this.term(i - 1) === term) i--;
    return i;
  }

  /** The last index holding `term`, or undefined if the log has no entry of that term. */
  lastIndexOfTerm(term: number): number | undefined {
    for (let i = this.lastIndex; i > this.offset; i--) {
      const t = this.term(i)!;
      if (t === term) return i;
      if (t < term) return undefined; // terms only grow along the log
    }
    return undefined;
  }

  append(entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`log: append ${entry.index} after ${this.lastIndex}`);
    this.entries.push(entry);
    this.sizes.push(sizeOf(entry));
    this.markDirty(entry.index);
  }

  /** Drop every entry with index >= `from` (a follower resolving a conflict with its leader). */
  truncateFrom(from: number): void {
    if (from <= this.offset) throw new Error(`log: cannot truncate at ${from}, compacted up to ${this.offset}`);
    if (from > this.lastIndex) return;
    this.entries.length = from - this.offset - 1;
    this.sizes.length = this.entries.length;
    this.markDirty(from);
  }

  /**
   * Forget entries up to `index`, which a snapshot now covers. The host deletes its stored
   * copies itself, with the snapshot; there is nothing more to write.
   */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.lastIndex) throw new Error(`log: cannot compact to ${index}, last index is ${this.lastIndex}`);
    const term = this.term(index)!;
    const drop = index - this.offset;
    this.entries = this.entries.slice(drop);
    this.sizes = this.sizes.slice(drop);
    this.offset = index;
    this.offsetTerm = term;
    if (this.dirtyFrom !== null && this.dirtyFrom <= index) this.dirtyFrom = index + 1;
  }

  /**
   * Start over after a snapshot that does not match this log: every entry goes. The write
   * that follows deletes whatever the host still stores after `index`.
   */
  resetTo(index: number, term: number): void {
    this.entries = [];
    this.sizes = [];
    this.offset = index;
    this.offsetTerm = term;
    this.dirtyFrom = index + 1;
  }

  /**
   * Is a log ending at (lastIndex, lastTerm) at least as up to date as this one (§5.4.1: the
   * later last term wins; with equal last terms, the longer log)? A vote needs it.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** What the host must write to bring its durable copy in line, then forget it. */
  takeWrite(): LogWrite | null {
    if (this.dirtyFrom === null) return null;
    const write = { fromIndex: this.dirtyFrom, entries: this.slice(this.dirtyFrom) };
    this.dirtyFrom = null;
    return write;
  }

  private markDirty(index: number): void {
    this.dirtyFrom = this.dirtyFrom === null ? index : Math.min(this.dirtyFrom, index);
  }
}

function sizeOf(e: Entry): number {
  return (JSON.stringify(e.command) ?? "null").length + 16;
}
