// Each simulated server's key/value state machine, and the proposals waiting on it.
//
// cluster.ts keeps, per server, the list of entries that server's state machine applied
// (`Cluster.applied(id)`), and hands every batch of newly committed entries through the host's
// `apply` hook before appending it there. This file puts a real KvStateMachine (src/kv) behind
// that list, through the same hook: new entries are applied as they commit, and their outcomes
// answer the proposals waiting for them, as src/server/pending.ts does in the Durable Object.
//
// What a restarted server holds is whatever the simulated disk says (the seed draws it):
//  - "durable" runs keep the applied list across a crash, so the KvStateMachine lives on and a
//    restart continues after `applied` (the Durable Object shell's choice);
//  - "volatile" runs lose it, the restart starts from the snapshot and the core hands every
//    later committed entry again;
//  - an accepted InstallSnapshot replaces the list with the leader's.
// Whenever the list was replaced, the machine is rebuilt by re-applying it from index 1 (the
// simulator's snapshot is the list of entries it covers, so this is restoring the snapshot).
//
// With live snapshots (the Durable Object's way) an InstallSnapshot also carries the real
// thing: the sender's state streamed in pieces read from its store as they leave
// (KvStateMachine.snapshotReader, src/kv/snapshot-stream.ts), checked and staged piece by piece
// on the receiver (SnapshotIntake on a fresh store, through the shell's SnapshotAssembly in
// cluster.ts), and the receiver's machine is the one KvStateMachine.fromStaged builds on the
// staged rows, as raft-server.ts's installStaged does on its staging table. The replay still runs, as a check: the restored machine must equal the replayed one
// (StateMachineSafety otherwise), and it keeps the double-apply check's record of what this
// replica's history wrote.
//
// Automatic compaction (`autoCompact`), as the Durable Object's leader does it (raft-server.ts
// maybeProposeCompaction, with the same AutoCompactor): after a server applies a batch, if it
// leads and its store's history is past the cluster's retention and a step, it proposes an
// etcd compaction through the log, one in flight at a time. The in-memory store compacts at
// once; every replica does so at the same revision, which the replicas' equal snapshots check.
//
// One extra check lives here because only the host sees it: each workload operation writes a
// unique value, so a value applied ("applied", not "duplicate") twice by one replica is an
// exactly-once violation, whatever the final values or the history show.
//
// Two more things for the etcd side of the workload (kv-workload.ts):
//  - a range through the log: the waiter of a proposal may carry a read, run on the machine
//    at the instant it applies the proposal's entry (before the next entry), which is where a
//    read through the log takes effect;
//  - the /kv writes' revisions: a /kv answer carries no revision, but the host sees which
//    revision each /kv write made when its entry is first applied anywhere (`onKvWrite`), so
//    the revision history can hold every write to the store.

import type { Entry, NodeId } from "../../src/raft/types.ts";
import { type ApplyOutcome, type KvCommand, KV_COMMAND_KIND, KvStateMachine, makeEtcdCommand, SnapshotIntake, type StagedSnapshot } from "../../src/kv/index.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import type { MvccStore } from "../../src/kv/etcd/store.ts";
import { AutoCompactor } from "../../src/server/auto-compactor.ts";
import type { Cluster } from "./cluster.ts";
import { InvariantViolation } from "./invariants.ts";

/** How a proposal at (index, term) ended on the server that took it. */
export type ProposalAnswer =
  /** The entry at the index is ours: what the state machine said. */
  | { readonly kind: "outcome"; readonly outcome: ApplyOutcome; readonly read?: unknown }
  /** Another leader's entry took the index: ours can never be applied. */
  | { readonly kind: "not_applied" };

interface Waiter {
  readonly term: number;
  /** The server's life when it took the proposal: a crash ends the request (the caller sees that). */
  readonly life: number;
  readonly settle: (answer: ProposalAnswer) => void;
  /** Run on the machine right after it applied the entry (a read through the log). */
  readonly read?: (machine: KvStateMachine) => unknown;
}

/** A /kv write as the host saw it applied: the first time any server applied its entry. */
export interface KvWriteSeen {
  readonly index: number;
  readonly command: KvCommand;
  readonly result: ApplyOutcome & { status: "applied" };
  /** The revision the write made. */
  readonly revision: number;
}

export interface KvReplicasOptions {
  /** Each machine's store (default: etcd's memory store); a mutant's store breaks it here. */
  readonly store?: () => MvccStore;
  /** Told of every /kv write that made a revision, once per log index. */
  readonly onKvWrite?: (write: KvWriteSeen) => void;
  /** Told of every automatic compaction a leader proposed (its revision). */
  readonly onCompactionProposed?: (revision: number) => void;
}

interface Replica {
  machine: KvStateMachine;
  /** The applied list the machine mirrors (cluster.ts replaces the array on a reset). */
  source: readonly Entry[] | null;
  /** How many entries of `source` the machine has applied. */
  count: number;
  /** Written value -> index where this replica applied it (for the double-apply check). */
  written: Map<string, number>;
}

export class KvReplicas {
  private readonly replicas: Replica[];
  /** "server@index" -> the proposals waiting for that server to apply that index. */
  private readonly waiters = new Map<string, Waiter[]>();
  /** Exactly-once violations: what was applied twice -> the servers that did (deduplicated across rebuilds). */
  private readonly doubles = new Map<string, Set<NodeId>>();
  /** How often a replica rebuilt its machine from its applied list. */
  rebuilds = 0;
  /** Live snapshots installed from their text (each also checked against the replay). */
  restores = 0;
  /** Server -> the machine its last installed live snapshot's text made, until its list is synced. */
  private readonly restored = new Map<NodeId, { readonly index: number; readonly machine: KvStateMachine }>();
  /** Outcomes of newly committed kv commands, by status (rebuilds not counted). */
  readonly outcomes = { applied: 0, duplicate: 0, refused: 0, forgotten: 0, stale: 0, ignored: 0 };
  /** Automatic compaction's retention (0: off) and each server's tracker, for the life it belongs to. */
  private retention = 0;
  private readonly compactors = new Map<NodeId, { readonly life: number; readonly compactor: AutoCompactor }>();
  /** Automatic compactions proposed by leaders (accepted by their core). */
  compactionsProposed = 0;

  /** Log indices some server applied already (the /kv writes are reported once). */
  private readonly appliedSomewhere = new Set<number>();

  constructor(
    private readonly c: Cluster,
    private readonly options: KvReplicasOptions = {},
  ) {
    this.replicas = c.ids.map(() => ({ machine: this.newMachine(), source: null, count: 0, written: new Map() }));
    c.liveSnapshots = {
      source: (id, index) => {
        const r = this.sync(id);
        if (r.count !== index) throw new Error(`kv replicas: server ${id} snapshots at ${index} but its machine is at ${r.count}`);
        // Its rows are read from this machine's store as the pieces leave, while it applies on.
        return r.machine.snapshotReader();
      },
      // Each piece checked and its rows staged in a fresh store, as raft-server.ts stages them in SQLite.
      sink: () => {
        const intake = new SnapshotIntake(this.options.store?.() ?? new MemoryMvccStore());
        return { add: (text) => intake.add(text), finish: () => intake.finish(), discard: () => {} };
      },
      installed: (id, index, staged) => {
        // What raft-server.ts does with the staged rows (installStaged): the machine on them.
        this.restored.set(id, { index, machine: KvStateMachine.fromStaged(staged as StagedSnapshot<MvccStore>) });
      },
    };
  }

  /** Leaders compact the store's history automatically, keeping `retention` revisions (0: never). */
  autoCompact(retention: number): void {
    this.retention = retention;
  }

  /** The host's apply hook: called with each batch of committed entries, before cluster.ts records them. */
  onApply(id: NodeId, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    // The shell's chore after the event: once this batch is recorded and the status updated.
    if (this.retention > 0) this.c.at(this.c.now, () => this.maybeProposeCompaction(id));
    const r = this.sync(id);
    for (const e of entries) {
      const before = r.machine.revision;
      const outcome = this.applyOne(id, r, e);
      if (outcome !== null) this.outcomes[outcome.status]++;
      if (!this.appliedSomewhere.has(e.index)) {
        this.appliedSomewhere.add(e.index);
        const command = e.command as KvCommand;
        if (outcome?.status === "applied" && command.kind === "kv" && r.machine.revision !== before) {
          this.options.onKvWrite?.({ index: e.index, command, result: outcome, revision: r.machine.revision });
        }
      }
      r.count++;
      const key = waiterKey(id, e.index);
      const list = this.waiters.get(key);
      if (list === undefined) continue;
      this.waiters.delete(key);
      for (const w of list) {
        // A waiter of an earlier life of this server: that request died with the crash.
        if (w.life !== this.c.life(id)) continue;
        w.settle(
          e.term !== w.term
            ? { kind: "not_applied" }
            : {
                kind: "outcome",
                outcome: outcome ?? { status: "ignored", reason: "not_kv", message: "not a kv command" },
                ...(w.read !== undefined ? { read: w.read(r.machine) } : {}),
              },
        );
      }
    }
  }

  /** raft-server.ts maybeProposeCompaction: a leader past retention + step proposes an etcd compaction. */
  private maybeProposeCompaction(id: NodeId): void {
    const status = this.c.status(id);
    if (status === null || !this.c.alive(id)) return;
    const life = this.c.life(id);
    let held = this.compactors.get(id);
    if (held === undefined || held.life !== life) {
      held = { life, compactor: new AutoCompactor(this.retention) }; // a reset loses the shell's memory
      this.compactors.set(id, held);
    }
    const { machine, count } = this.sync(id);
    const target = held.compactor.due(status, count, { revision: machine.revision, compactedRevision: machine.compactedRevision });
    if (target === null) return;
    const proposed = this.c.propose(id, makeEtcdCommand("compaction", { revision: String(target) }, this.c.now));
    if (!proposed.accepted) return;
    held.compactor.proposed(proposed.index, proposed.term);
    this.options.onCompactionProposed?.(target);
    this.compactionsProposed++;
  }

  /**
   * Wait for server `id` to apply `index`; the answer depends on the term of the entry it
   * applies there. (Not "a later proposal at the same index supersedes this one", as
   * src/server/pending.ts has it: our entry leaving this server's log does not by itself
   * prove that no other server's log will get it committed; a different committed entry does.)
   */
  wait(id: NodeId, index: number, term: number, settle: (answer: ProposalAnswer) => void, read?: (machine: KvStateMachine) => unknown): void {
    const key = waiterKey(id, index);
    const waiter: Waiter = { term, life: this.c.life(id), settle, ...(read !== undefined ? { read } : {}) };
    const list = this.waiters.get(key);
    if (list === undefined) this.waiters.set(key, [waiter]);
    else list.push(waiter);
  }

  /** The caller stopped waiting (its deadline passed, or the server died). */
  cancel(id: NodeId, index: number, settle: (answer: ProposalAnswer) => void): void {
    const key = waiterKey(id, index);
    const list = this.waiters.get(key)?.filter((w) => w.settle !== settle);
    if (list === undefined || list.length === 0) this.waiters.delete(key);
    else this.waiters.set(key, list);
  }

  /** Server `id`'s state machine, up to date with what the server applied. */
  machine(id: NodeId): KvStateMachine {
    return this.sync(id).machine;
  }

  /** How many entries server `id`'s machine reflects. */
  appliedCount(id: NodeId): number {
    return this.sync(id).count;
  }

  doubleApplies(): string[] {
    return [...this.doubles].map(([what, servers]) => `${what}, on server${servers.size > 1 ? "s" : ""} ${[...servers].sort((a, b) => a - b).join(",")}`);
  }

  /** Rebuild the machine if cluster.ts replaced the server's applied list (crash, restart, snapshot). */
  private sync(id: NodeId): Replica {
    const r = this.replicas[id]!;
    const list = this.c.applied(id);
    if (r.source === list && r.count === list.length) return r;
    this.rebuilds++;
    r.machine = this.newMachine();
    r.source = list;
    r.count = 0;
    r.written = new Map();
    for (const e of list) {
      this.applyOne(id, r, e);
      r.count++;
    }
    const restored = this.restored.get(id);
    this.restored.delete(id);
    if (restored !== undefined && restored.index === list.length) {
      const want = JSON.stringify(r.machine.snapshot());
      const got = JSON.stringify(restored.machine.snapshot());
      if (got !== want) {
        throw new InvariantViolation(
          "StateMachineSafety",
          `server ${id} installed a snapshot up to ${restored.index} whose state differs from its entries replayed: ${got.slice(0, 200)} vs ${want.slice(0, 200)}`,
        );
      }
      r.machine = restored.machine;
      this.restores++;
    }
    return r;
  }

  private storeOption(): { store?: MvccStore } {
    return this.options.store !== undefined ? { store: this.options.store() } : {};
  }

  private newMachine(): KvStateMachine {
    return new KvStateMachine(this.storeOption());
  }

  /** Apply one entry; null for entries that are not kv commands at all (markers, no-ops). */
  private applyOne(id: NodeId, r: Replica, e: Entry): ApplyOutcome | null {
    const outcome = r.machine.apply(e.command, e.index);
    if (outcome.status === "ignored" && outcome.reason === "not_kv") return null;
    if (outcome.status === "applied" && (e.command as { kind?: unknown }).kind === KV_COMMAND_KIND) {
      // "applied" means the command passed the machine's own validation. (etcd writes, such
      // as the leaders' compactions, write no workload value.)
      const command = e.command as KvCommand;
      // An etcd write's values are the revision checker's to place (a value at two revisions).
      if (command.op !== "get" && command.op !== "delete") {
        const first = r.written.get(command.value);
        if (first === undefined) r.written.set(command.value, e.index);
        else {
          const who = command.session;
          const what =
            `${command.op}(${command.key}, ${JSON.stringify(command.value)}) applied twice: at index ${first} and ${e.index}` +
            (who ? ` (the second time as ${who.clientId}#${who.requestId})` : "");
          const servers = this.doubles.get(what) ?? new Set<NodeId>();
          servers.add(id);
          this.doubles.set(what, servers);
        }
      }
    }
    return outcome;
  }
}

function waiterKey(id: NodeId, index: number): string {
  return `${id}@${index}`;
}
