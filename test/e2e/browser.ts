// Which Chromium the end-to-end test drives, so that `npm ci && npm test` works on a machine
// with Node and nothing else:
//
//   1. CHROMIUM_PATH=/path/to/chrome        that one, whatever else is installed;
//   2. a Chromium on PATH                   chromium, chromium-browser, google-chrome, …;
//   3. otherwise the one `npm ci` brought   @sparticuz/chromium (a headless Chromium for
//                                           x86_64 Linux inside the npm tarball, ~66 MB).
//
// The npm one is brotli-compressed: the first run unpacks it (~190 MB, ~3 s) into
// node_modules/.cache/sparticuz-chromium-<version>/, and later runs reuse it. It links
// against the system's NSS (libnss3, libnspr4, …); a machine without them gets the copies
// the package ships (built for Amazon Linux 2023), put on the browser's LD_LIBRARY_PATH.

import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";

export interface Browser {
  executablePath: string;
  args: string[];
  /** Environment for the browser process (undefined: inherit). */
  env: Record<string, string> | undefined;
  /** Where it came from, for error messages. */
  source: string;
}

/** Flags for every Chromium: no sandbox (often root in CI), nothing that phones home. */
const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const ON_PATH = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

/** The first executable called one of `names` in a directory of PATH, like `which`. */
function onPath(names: string[]): string | undefined {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Shared libraries `ldd` cannot find for `binary`; undefined when ldd itself is missing. */
function missingLibraries(binary: string): string[] | undefined {
  const r = spawnSync("ldd", [binary], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout
    .split("\n")
    .filter((line) => line.includes("not found"))
    .map((line) => line.trim().split(/\s+/)[0] ?? line);
}

/** @sparticuz/chromium unpacked under node_modules/.cache (once per install). */
async function bundled(): Promise<Browser> {
  // The package's exports hide its package.json: walk up from its entry point.
  const entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  let pkgDir = dirname(entry);
  let version = "";
  for (; !version; pkgDir = dirname(pkgDir)) {
    const manifest = join(pkgDir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@sparticuz/chromium" && pkg.version) {
        version = pkg.version;
        break;
      }
    }
    if (dirname(pkgDir) === pkgDir) throw new Error(`no package.json of @sparticuz/chromium above ${entry}`);
  }
  const root = resolve(pkgDir, "..", "..", ".cache", `sparticuz-chromium-${version}`);
  const executablePath = join(root, "chromium");
  if (!existsSync(executablePath)) {
    // The package unpacks into os.tmpdir() and its NSS copies only when it believes it runs
    // on Amazon Linux 2023: point both at a private directory for the one call, then move
    // the finished directory into place (an interrupted run leaves no half-written binary).
    const staging = `${root}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // Import first: on import the package edits process.env when it believes it is on AL2023.
    const { default: chromium } = await import("@sparticuz/chromium");
    const saved = { TMPDIR: process.env["TMPDIR"], AWS_LAMBDA_JS_RUNTIME: process.env["AWS_LAMBDA_JS_RUNTIME"] };
    process.env["TMPDIR"] = staging;
    process.env["AWS_LAMBDA_JS_RUNTIME"] = "nodejs20.x";
    try {
      await chromium.executablePath(join(pkgDir, "bin"));
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are now (and
    // the machine's own fonts, if it has a fontconfig): with no font at all Chromium aborts
    // ("SkFontMgr_FontConfigInterface.cpp: Not implemented") on the first page it draws.
    writeFileSync(
      join(staging, "fonts", "fonts.conf"),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        "<fontconfig>",
        `  <dir>${join(root, "fonts", "fonts")}</dir>`,
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
        `  <cachedir>${join(root, "fonts", "cache")}</cachedir>`,
        "</fontconfig>",
        "",
      ].join("\n"),
    );
    try {
      renameSync(staging, root);
    } catch (err) {
      // Another run finished first: use its copy.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(executablePath)) throw err;
    }
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    FONTCONFIG_PATH: join(root, "fonts"),
  };
  const missing = missingLibraries(executablePath);
  let source = `@sparticuz/chromium ${version} (${executablePath})`;
  if (missing === undefined || missing.length > 0) {
    const lib = join(root, "al2023", "lib");
    env["LD_LIBRARY_PATH"] = [lib, env["LD_LIBRARY_PATH"]].filter(Boolean).join(delimiter);
    source += missing ? ` with its own ${missing.join(", ")}` : " with its own shared libraries";
  }
  return { executablePath, args: COMMON_ARGS, env, source };
}

/** The Chromium to drive: CHROMIUM_PATH, else one on PATH, else the npm package's. */
export async function findChromium(): Promise<Browser> {
  const named = process.env["CHROMIUM_PATH"];
  if (named) {
    if (!existsSync(named)) throw new Error(`CHROMIUM_PATH=${named} does not exist`);
    return { executablePath: named, args: COMMON_ARGS, env: undefined, source: `CHROMIUM_PATH (${named})` };
  }
  const found = onPath(ON_PATH);
  if (found) return { executablePath: found, args: COMMON_ARGS, env: undefined, source: `${found} (on PATH)` };
  return bundled();
}
