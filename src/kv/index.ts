// The key/value service's pure pieces: commands as stored in the log, their validation
// and size limits, and the deterministic state machine every server applies them with.
export * from "./limits.ts";
export * from "./results.ts";
export * from "./command.ts";
export * from "./etcd-command.ts";
export * from "./request.ts";
export * from "./store.ts";
export * from "./fingerprint.ts";
export * from "./sessions.ts";
export * from "./snapshot.ts";
export * from "./state-machine.ts";
export * from "./auto-compaction.ts";
