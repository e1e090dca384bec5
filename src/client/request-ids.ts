// Where a client's Request-Ids come from.
//
// The service remembers, per Client-Id, only the last request id applied (src/kv/sessions.ts):
// a higher id is a new request, the same id a retry (answered with the first result), a lower
// one stale. So ids under one Client-Id must increase across everything that uses it — a
// restarted process, a new Worker isolate, another instance in the same process — and two
// writers must never send the same id for different requests (the second would be answered
// with the first one's result and never applied).
//
// TimeIds: an id is tick × 4096 + tag. The tick is milliseconds since 2024-01-01, never less
// than the last tick used plus one, so ids increase across restarts (with the clock) and
// strictly within a process (whatever the clock does). The tag is 12 random bits drawn once
// per source: all ids of one source share it, so two sources with different tags never
// produce the same id at all, not even in the same millisecond; two with the same tag (a
// 1-in-4096 draw) could only meet on the same tick. One source serves a whole process
// (DEFAULT_IDS), so every client of the process draws from it: within a process no two ids
// are ever equal. 2^53 / 4096 ticks last until 2093.
//
// CounterIds: firstRequestId, firstRequestId + 1, ... — ids the caller chose (tests, or a
// caller that stores its own counter).
//
// Both can move past an id the service names (`passing`): a client whose clock stepped back,
// or that shares its Client-Id with another writer, hears "stale" for a request that was not
// applied, and takes an id above the session's last instead of waiting for its clock.

export interface RequestIds {
  /** A fresh id, above every id this source gave before. */
  next(): number;
  /** Makes every later id greater than `floor`. */
  passing(floor: number): void;
}

/** Ticks count from here: 2024-01-01T00:00:00Z. */
export const ID_EPOCH_MS = Date.UTC(2024, 0, 1);
/** Ids per tick: the tag's range (12 bits). */
export const TAGS_PER_TICK = 4096;

export class TimeIds implements RequestIds {
  private lastTick = 0;
  private drawn: number | undefined;

  /** `tag`: drawn at random on first use by default (a Worker may not draw random values at global scope). */
  constructor(
    private readonly now: () => number = () => Date.now(),
    tag?: number,
  ) {
    if (tag !== undefined && !(Number.isInteger(tag) && tag >= 0 && tag < TAGS_PER_TICK)) {
      throw new RangeError(`tag must be an integer in [0, ${TAGS_PER_TICK})`);
    }
    this.drawn = tag;
  }

  get tag(): number {
    this.drawn ??= Math.floor(Math.random() * TAGS_PER_TICK);
    return this.drawn;
  }

  next(): number {
    const tick = Math.max(this.lastTick + 1, Math.floor(this.now()) - ID_EPOCH_MS);
    const id = tick * TAGS_PER_TICK + this.tag;
    if (!Number.isSafeInteger(id)) throw new RangeError(`request id ${id} is past Number.MAX_SAFE_INTEGER`);
    this.lastTick = tick;
    return id;
  }

  passing(floor: number): void {
    this.lastTick = Math.max(this.lastTick, Math.floor(floor / TAGS_PER_TICK));
  }
}

export class CounterIds implements RequestIds {
  constructor(private following: number) {
    if (!Number.isSafeInteger(following) || following < 0) throw new RangeError("firstRequestId must be an integer >= 0");
  }

  /** The id next() will give. */
  get peek(): number {
    return this.following;
  }

  next(): number {
    return this.following++;
  }

  passing(floor: number): void {
    this.following = Math.max(this.following, floor + 1);
  }
}

/** The process's one source of time-based ids (see above): shared by every client of the process. */
export const DEFAULT_IDS: RequestIds = new TimeIds();
