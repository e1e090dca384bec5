// Every relative link in the project's markdown resolves: the file it names exists, and a
// `#fragment` names a heading of that file (GitHub's anchor for it). The README sends readers
// into docs/ by topic, so a moved section or a renamed file must not leave a dead link behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../../..");
const SKIP = new Set(["node_modules", ".git", ".wrangler", "dist"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The text outside fenced code blocks: a `# comment` in a shell block is no heading. */
function outsideFences(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

/** The text outside code blocks and inline code spans: links in code are examples. */
function prose(markdown: string): string {
  return outsideFences(markdown).replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for each heading: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of outsideFences(markdown).matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const slug = text!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The relative targets of `[text](target)` and `![alt](target)`, title and angle brackets dropped. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function deadLinks(file: string, root = ROOT): string[] {
  const dead: string[] = [];
  for (const target of relativeLinks(readFileSync(file, "utf8"))) {
    const [pathPart, fragment] = target.split("#", 2) as [string, string | undefined];
    const linked = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(linked)) {
      dead.push(`${target}: no file ${relative(root, linked)}`);
    } else if (fragment !== undefined && linked.endsWith(".md") && !anchors(readFileSync(linked, "utf8")).has(fragment)) {
      dead.push(`${target}: no heading #${fragment} in ${relative(root, linked)}`);
    }
  }
  return dead;
}

describe("markdown links", () => {
  test("anchors are GitHub's: punctuation dropped, repeats numbered", () => {
    expect([...anchors("# The core's contract\n## Sleeping, evictions and deploys\n## `npm run timeline`\n## A\n## A")])
      .toEqual(["the-cores-contract", "sleeping-evictions-and-deploys", "npm-run-timeline", "a", "a-1"]);
  });

  test("a missing file and a missing heading are reported; links in code and absolute ones are not followed", () => {
    const dir = mkdtempSync(join(tmpdir(), "links-"));
    try {
      writeFileSync(join(dir, "b.md"), "# Here\n");
      writeFileSync(
        join(dir, "a.md"),
        '[ok](b.md#here) [file](c.md) [heading](b.md#there) [self](#top) ![img](b.md "t")\n' +
          "[web](https://example.com/x.md) `[code](nowhere.md)`\n```\n[fenced](nowhere.md)\n```\n# Top\n",
      );
      expect(deadLinks(join(dir, "a.md"), dir)).toEqual(["c.md: no file c.md", "b.md#there: no heading #there in b.md"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const file of markdownFiles(ROOT)) {
    test(`${relative(ROOT, file)}: every relative link resolves`, () => {
      expect(deadLinks(file)).toEqual([]);
    });
  }
});
