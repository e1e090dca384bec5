// The server's side of the simulated wire: Raft messages out to peers (each a call on the peer's
// object stub, subject to the links' loss, delay and call limits), their replies back in as
// events of their own, and InstallSnapshot streamed a piece at a time. What it needs of the
// server is the small WireHost below; the server decides what to send (raft-server.ts drain).
import type { SnapshotReader } from "../kv/index.ts";
import type { Raft } from "../raft/raft.ts";
import type { InstallSnapshot, Message, NodeId } from "../raft/types.ts";
import { isRequest } from "../raft/types.ts";
import type { KvState } from "./kv-state.ts";
import type { Links } from "./links.ts";
import type { Narration } from "./narration.ts";
import type { ClusterConfig } from "./protocol.ts";
import type { RaftServer } from "./raft-server.ts";
import { serverStub, type RaftServerStub } from "./rpc.ts";
import { chunkOf } from "./snapshot-assembly.ts";
import { staleTransfer, type SnapshotTransfers } from "./snapshot-transfers.ts";
import type { ServerStorage } from "./storage.ts";

/** What the wire uses of its server. */
export interface WireHost {
  id(): NodeId;
  readonly namespace: DurableObjectNamespace<RaftServer>;
  readonly links: Links;
  narration(): Narration;
  readonly transfers: SnapshotTransfers;
  readonly stats: { rpcsSent: number; snapshotsSent: number };
  /** The running core: a message sent by another (the server was reset or stopped) is dropped. */
  core(): Raft | null;
  config(): ClusterConfig;
  kvState(): KvState;
  /** Hand the core's output on after it took a reply (raft-server.ts drain). */
  drain(core: Raft): void;
  persistOrCrash(...args: Parameters<ServerStorage["persist"]>): void;
}

export class Wire {
  /** One stub per peer; a stub that saw an error stays broken, so it is dropped and made anew. */
  private readonly stubs = new Map<NodeId, RaftServerStub>();

  constructor(private readonly host: WireHost) {}

  /** Forget every stub (the server restarts, the cluster is deleted). */
  clear(): void {
    this.stubs.clear();
  }

  /**
   * A follower needs entries the log no longer holds: stream it the state machine as it is
   * now, at this server's applied index (the core names that point: snapshotMetaAt). The
   * snapshot's point and sessions are fixed here; its rows are read from the store a piece at a
   * time as the pieces leave (src/kv/snapshot-stream.ts), at most snapshotChunkBytes of them,
   * one RPC each, so neither end holds the table in memory. The core resends InstallSnapshot
   * if no answer comes within an election timeout; while one transfer to a peer is under way
   * another is not started.
   */
  sendSnapshot(core: Raft, m: InstallSnapshot): void {
    if (!this.host.links.linkUp(m.to)) return;
    const meta = core.snapshotMetaAt(this.host.kvState().applied);
    const token = this.host.transfers.start(m.to, meta.index);
    if (token === null) return; // one is under way
    const reader = this.host.kvState().snapshotReader();
    this.host.narration().add(
      this.host.id(),
      `[${this.host.id()}] streams ${m.to} its state at index ${meta.index} (term ${meta.term}, revision ${reader.head.revision}) ` +
        `in pieces of at most ${this.host.config().snapshotChunkBytes} characters of rows`,
    );
    // The configuration as of the snapshot's own index (the state is taken at the applied
    // index, not at the one the core named).
    const sent: InstallSnapshot = { ...m, lastIncludedIndex: meta.index, lastIncludedTerm: meta.term, ...(meta.membership ? { membership: meta.membership } : {}) };
    void this.transferSnapshot(core, sent, reader, token).finally(() => {
      this.host.transfers.release(m.to, token);
      // Compactions applied meanwhile waited for this transfer (compaction-pins.ts): they delete
      // their rows now, in a transaction of their own (a failure is a crash, as every write).
      if (this.host.core() !== core) return; // reset or stopped: a deferred compaction runs at the next one
      try {
        this.host.persistOrCrash(null, null, () => reader.close());
      } catch {
        // The write failed: crashOnFailedWrite has reset the object already.
      }
    });
  }

  private async transferSnapshot(core: Raft, m: InstallSnapshot, reader: SnapshotReader, token: number): Promise<void> {
    const size = this.host.config().snapshotChunkBytes;
    const started = Date.now();
    let characters = 0;
    for (let seq = 0; ; seq++) {
      if (this.host.core() !== core || !this.host.links.linkUp(m.to)) return;
      const stale = staleTransfer(core, m);
      if (stale !== null) {
        this.host.narration().add(this.host.id(), `[${this.host.id()}] stops streaming ${m.to} the state at index ${m.lastIncludedIndex}: ${stale}`);
        return;
      }
      if (!this.host.links.takeCall()) return;
      // Read right before it leaves, in the same turn as the check: no apply can slip in between.
      const piece = reader.next(size);
      if ("aborted" in piece) {
        this.host.narration().add(this.host.id(), `[${this.host.id()}] stops streaming ${m.to} the state at index ${m.lastIncludedIndex}: ${piece.aborted}; the core will ask again`);
        return;
      }
      const chunk = chunkOf(m, token, seq, piece);
      characters += piece.text.length;
      this.host.stats.rpcsSent++;
      if (this.host.links.lost()) return;
      const sent = this.travel(core, m.to);
      if (sent !== true && !(await sent)) return;
      let replies: Message[] | null;
      try {
        replies = await this.peer(m.to).installChunk(this.host.config().epoch, chunk);
      } catch {
        this.stubs.delete(m.to);
        return;
      }
      if (replies === null) return; // refused: the core will try again
      if (piece.last) {
        this.host.stats.snapshotsSent++;
        this.host.narration().add(
          this.host.id(),
          `[${this.host.id()}] sent ${m.to} the state machine at index ${m.lastIncludedIndex} (term ${m.lastIncludedTerm}): ` +
            `${reader.rowsSent} rows, ${characters} characters in ${seq + 1} chunk(s), ${Date.now() - started} ms`,
        );
        // The mark goes right before the core sees the reply, in the same turn: the core may
        // ask for the next snapshot at once, and compaction already finds the follower's
        // match at the snapshot (snapshot-transfers.ts).
        return this.takeReplies(core, replies, () => this.host.transfers.release(m.to, token));
      }
    }
  }

  /** Put one message on the simulated wire; its replies come back as events of their own. */
  send(core: Raft, m: Message): void {
    if (!this.host.links.linkUp(m.to)) return;
    if (isRequest(m)) {
      if (!this.host.links.takeCall()) return;
      this.host.stats.rpcsSent++;
    }
    if (this.host.links.lost()) return;
    void this.call(core, m);
  }

  private async call(core: Raft, m: Message): Promise<void> {
    const sent = this.travel(core, m.to);
    if (sent !== true && !(await sent)) return;
    let replies: Message[] | null;
    try {
      replies = await this.peer(m.to).receive(this.host.config().epoch, m);
    } catch {
      // The peer was reset (crash, eviction) or unreachable: the message is lost. A stub
      // that threw stays broken, so the next message gets a fresh one.
      this.stubs.delete(m.to);
      return;
    }
    await this.takeReplies(core, replies);
  }

  /** Replies that came back on a call: each is an event of its own, if it survives the wire. */
  private async takeReplies(core: Raft, replies: Message[] | null, beforeStep?: () => void): Promise<void> {
    for (const r of replies ?? []) {
      if (this.host.links.lost()) continue;
      // This server may have crashed or restarted meanwhile, or the link gone down.
      if (this.host.core() !== core || !this.host.links.linkUp(r.from)) return;
      const back = this.travel(core, r.from);
      if (back !== true && !(await back)) return;
      beforeStep?.();
      core.step(r, Date.now());
      this.host.drain(core);
    }
  }

  /**
   * The network's delay for one message between here and `peer`; false if the message is
   * lost meanwhile (the link went down, or this server crashed or restarted). Without a
   * delay it resolves at once, so the call goes out in the same turn as the event that
   * made it (no extra turn in which other events could run).
   */
  private travel(core: Raft, peer: NodeId): true | Promise<boolean> {
    const ms = this.host.links.delay(this.host.id(), peer);
    if (ms <= 0) return true;
    return new Promise((resolve) =>
      setTimeout(() => resolve(this.host.core() === core && this.host.links.linkUp(peer)), ms),
    );
  }

  private peer(id: NodeId): RaftServerStub {
    let stub = this.stubs.get(id);
    if (!stub) {
      stub = serverStub(this.host.namespace, this.host.config().cluster, id);
      this.stubs.set(id, stub);
    }
    return stub;
  }
}
