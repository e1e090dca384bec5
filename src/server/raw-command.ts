// Raw commands (the admin `submit` route) are raw: whatever JSON they hold, they are never
// applied as one of the system's own commands.
//
// The log carries three kinds of command the servers act on, each an object tagged by
// `kind`: a key/value command (`{"kind": "kv", ...}`, src/kv/command.ts), a configuration
// (`{"kind": "membership", ...}`, src/raft/membership.ts) and, from here, a wrapped raw
// command. A raw submit shaped like the first two used to be acted on: `proposedAt`
// 8.64e15 expired every exactly-once session, a forged `session` made a client's writes
// stale, and a forged configuration would have changed the membership behind the
// coordinator's back. So a raw command that is an object with a `kind` field is stored
// wrapped, as `{"kind": "raw", "command": X}`, which nothing acts on; everything else
// (numbers, strings, arrays, objects without `kind`) is stored as it is, as before.
//
// Older logs: entries appended before this existed are stored bare and keep applying as
// they did (a kv-shaped raw entry already applied as kv on some replica must apply the
// same way on one that replays it). The `/committed` view unwraps, so a client sees the
// command it submitted, whatever the storage form.

/** The tag of a wrapped raw command. */
export const RAW_COMMAND_KIND = "raw";

export interface WrappedRawCommand {
  readonly kind: typeof RAW_COMMAND_KIND;
  readonly command: unknown;
}

/** Whether `command` has a `kind` field: the mark of a command the system acts on. */
function hasKind(command: unknown): boolean {
  return typeof command === "object" && command !== null && !Array.isArray(command) && Object.hasOwn(command, "kind");
}

/** The form a raw submitted command is proposed in: wrapped if it could pass for a system command. */
export function wrapRawCommand(command: unknown): unknown {
  return hasKind(command) ? ({ kind: RAW_COMMAND_KIND, command } satisfies WrappedRawCommand) : command;
}

/** The command as it was submitted (the inverse of wrapRawCommand; anything else as it is). */
export function unwrapRawCommand(command: unknown): unknown {
  if (!hasKind(command)) return command;
  const c = command as { kind: unknown; command?: unknown };
  return c.kind === RAW_COMMAND_KIND && Object.hasOwn(c, "command") ? c.command : command;
}
