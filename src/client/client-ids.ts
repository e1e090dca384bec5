// Which Client-Id a write goes under, shared by every KvClient of the process.
//
// Default (no clientId given): a write leases an id from the process's pool for as long as it
// runs, retries included, and gives it back. The service keeps a session per Client-Id, at
// most 10,000 of them, least recently used dropped first; a client library that made a new
// random id per KvClient would, in serverless use (a client per request, a new isolate
// every so often), churn through thousands of sessions within a retry window and push the
// retrying clients' sessions out. Leased ids bound a process's sessions by the number of
// writes it ever ran at once, not by the number of clients it made; and since no two
// writes run under one id at a time, a retry always finds its own request as the
// session's last. Ids are reused most recently used first, which keeps those sessions warm.
//
// A given clientId: writes of every KvClient of the process that share it run one at a time
// (WriteLanes), in call order, as the writes of one client do: the service remembers one id
// per client, and two writes in flight under one Client-Id could make each other stale.
// Writers in other processes sharing it are not coordinated: see request-ids.ts for why
// their ids still never meet, and kv-client.ts for how a stale answer is recovered from.

export class ClientIdPool {
  private readonly idle: string[] = [];

  constructor(private readonly fresh: () => string = () => crypto.randomUUID()) {}

  lease(): string {
    return this.idle.pop() ?? this.fresh();
  }

  release(clientId: string): void {
    this.idle.push(clientId);
  }

  /** Ids made so far that are not in use. */
  get idleCount(): number {
    return this.idle.length;
  }
}

export class WriteLanes {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier write under `clientId` in this process has finished. */
  run<T>(clientId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(clientId) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.tails.set(clientId, tail);
    // The last one out removes the lane, so a process using many ids keeps none of them idle.
    void tail.then(() => {
      if (this.tails.get(clientId) === tail) this.tails.delete(clientId);
    });
    return run;
  }

  /** Client-Ids with a write queued or running. */
  get busy(): number {
    return this.tails.size;
  }
}

export const DEFAULT_POOL = new ClientIdPool();
export const DEFAULT_LANES = new WriteLanes();
