// npm run timeline -- [--out DIR] [--hide-heartbeats] [LOGFILE] < run.log > run.html
//
// Turns a narrated log (the seed's format) into self-contained HTML timelines.
// - one test in the log (or no `=== RUN` markers): stdout gets its timeline;
// - several tests, no --out: stdout gets one page with every test's timeline and a contents list;
// - --out DIR: DIR/<test>.html for each test plus DIR/index.html, and stdout gets the index
//   (its links point into DIR as given, so save it in the directory you ran from).
// --hide-heartbeats leaves empty AppendEntries and their plain replies out of the tables.
// Exit status 1 when the input holds no narrated lines, 2 on a bad command line.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  allTestsDocument,
  indexDocument,
  parseTestLog,
  testTitle,
  timelineDocument,
  type TestLog,
} from "./timeline/index.ts";

const USAGE = "usage: npm run timeline -- [--out DIR] [--hide-heartbeats] [LOGFILE] < run.log > run.html";

interface Options {
  out: string | null;
  input: string | null;
  hideHeartbeats: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { out: null, input: null, hideHeartbeats: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--out" || arg === "-o") {
      const dir = argv[++i];
      if (!dir) throw new Error("--out needs a directory");
      options.out = dir;
    } else if (arg.startsWith("--out=")) {
      options.out = arg.slice("--out=".length);
    } else if (arg === "--hide-heartbeats") {
      options.hideHeartbeats = true;
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new Error(`unknown option ${arg}`);
    } else if (options.input === null) {
      options.input = arg;
    } else {
      throw new Error(`unexpected argument ${arg}`);
    }
  }
  return options;
}

/** A file name for a test: its name with anything but [A-Za-z0-9_.-] replaced, unique in the set. */
export function fileNames(tests: readonly TestLog[]): string[] {
  const used = new Set<string>();
  return tests.map((t) => {
    const base = testTitle(t).replace(/\//g, "__").replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "log";
    let name = `${base}.html`;
    for (let n = 2; used.has(name) || name === "index.html"; n++) name = `${base}-${n}.html`;
    used.add(name);
    return name;
  });
}

function main(): number {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const text = readFileSync(options.input === null || options.input === "-" ? 0 : options.input, "utf8");
  const tests = parseTestLog(text);
  if (tests.length === 0) {
    console.error("no narrated lines found (expected lines like `11:04:37.796881 [1] becomes Candidate ...`)");
    return 1;
  }

  if (options.out !== null) {
    mkdirSync(options.out, { recursive: true });
    const names = fileNames(tests);
    tests.forEach((t, i) => writeFileSync(join(options.out as string, names[i] ?? "log.html"), timelineDocument(t, options)));
    const items = (prefix: string) => tests.map((test, i) => ({ test, href: `${prefix}${names[i]}` }));
    writeFileSync(join(options.out, "index.html"), indexDocument(items("")));
    process.stdout.write(indexDocument(items(options.out.endsWith("/") ? options.out : `${options.out}/`)));
    console.error(`wrote ${tests.length} timeline(s) and index.html to ${options.out}`);
    return 0;
  }

  const only = tests[0];
  if (tests.length === 1 && only) {
    process.stdout.write(timelineDocument(only, options));
  } else {
    process.stdout.write(allTestsDocument(tests, options));
    console.error(`${tests.length} tests in one page; --out DIR writes one file per test`);
  }
  return 0;
}

process.exitCode = main();
