// The Durable Object shell: one RaftServer object per Raft server.
export { RaftServer, type ServerEnv } from "./raft-server.ts";
export * from "./protocol.ts";
export { serverStub, type RaftServerStub } from "./rpc.ts";
export { clock, echoNarration } from "./narration.ts";
