// The reference log the timeline tests read: a verbatim copy of the seed's
// 000_6797c0e6b44c34f8.txt, kept as fixtures/000_6797c0e6b44c34f8.txt (a blog post quoting a Go test's log: prose, code fences, a quoted block repeated, lines
// printed slightly out of order). Copied so the tests need nothing outside the repository.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const SEED_PATH = fileURLToPath(new URL("./fixtures/000_6797c0e6b44c34f8.txt", import.meta.url));
export const SEED = readFileSync(SEED_PATH, "utf8");
