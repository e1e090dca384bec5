// One alarm carries every deadline of a server (election timeout, heartbeat).
//
// The policy is lazy: the alarm only ever moves EARLIER. A follower hearing a heartbeat
// every 50 ms pushes its election deadline later each time; rewriting the alarm (a storage
// write) on every heartbeat would cost more than the heartbeat itself. Instead the alarm
// stays where it was, fires "early", the core's tick finds nothing due and reports the new
// deadline, and the alarm is set once more for that. A follower thus wakes about once per
// election timeout, however many heartbeats it hears.

export class LazyAlarm {
  constructor(
    private readonly storage: DurableObjectStorage,
    /** When the pending alarm will fire, or null if none is set. */
    private at: number | null,
    /** A failed setAlarm is a failed write: the shell resets the object (it re-arms on reload). */
    private readonly onFailure: (error: unknown) => void = (e) => console.error("setAlarm failed", e),
  ) {}

  /** Make sure the object wakes no later than `wakeAt`. */
  ensure(wakeAt: number): void {
    // Infinity: nothing is due (a sleeping server). A pending alarm then fires once more,
    // finds nothing to do, and is not set again: an asleep object costs nothing after that.
    if (!Number.isFinite(wakeAt)) return;
    if (this.at !== null && this.at <= wakeAt) return;
    this.at = wakeAt;
    // Not awaited: like any storage write it is covered by the output gate, and the caller
    // must not yield between handling an event and persisting it.
    this.storage.setAlarm(wakeAt).catch((e: unknown) => {
      this.at = null;
      this.onFailure(e);
    });
  }

  /** The alarm has fired: none is pending any more. */
  fired(): void {
    this.at = null;
  }

  get pending(): number | null {
    return this.at;
  }
}
