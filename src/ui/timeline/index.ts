// The shared timeline renderer: parse (text -> entries), state (entries -> rows with each
// server's state), render (rows -> HTML strings). document.ts wraps it into whole files for
// the CLI; events.ts turns the live feed into entries. The dashboard's page script imports
// the same modules (bundled into the page by esbuild, see src/ui/README.md).
export * from "./types.ts";
export * from "./parse.ts";
export * from "./state.ts";
export * from "./render.ts";
export * from "./document.ts";
export * from "./events.ts";
export * from "./filters.ts";
