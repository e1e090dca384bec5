// Checks that a re-recording gives the committed lease and watch fixtures' answers again (etcd
// is deterministic up to lease IDs it picks, map order and elapsed time; compare-lease-watch.ts
// forgives exactly those). Needs no etcd itself:
//   FIXTURE_OUT_DIR=/tmp/re/lease npx tsx test/etcd/record-lease.ts
//   FIXTURE_OUT_DIR=/tmp/re/watch npx tsx test/etcd/record-watch.ts
//   npx tsx test/etcd/compare-recordings.ts /tmp/re
// Prints one line per file and every differing step; exit code 1 if any differ.

import { diffAnswers } from "./compare.ts";
import { diffLeaseAnswer, diffWatchStep, LeaseIds } from "./compare-lease-watch.ts";
import { readLeaseFixtures, readWatchFixtures } from "./read-fixtures-lease-watch.ts";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: compare-recordings.ts <dir with lease/ and watch/>");
let failed = false;

const committedLeases = new Map(readLeaseFixtures().map((f) => [f.name, f]));
for (const other of readLeaseFixtures(`${dir}/lease/`)) {
  const recorded = committedLeases.get(other.name);
  if (!recorded) continue;
  const ids = new LeaseIds();
  let same = 0;
  const problems: string[] = [];
  recorded.steps.forEach((step, i) => {
    const theirs = other.steps[i]!;
    const request = diffAnswers(ids.rewrite(step.request), theirs.request);
    // Each side's TTLs round down whole seconds at their own moments: allow the drift between them.
    const slack = Math.ceil(Math.abs(step.sent_ms - theirs.sent_ms) / 1000) + 1;
    const answer = request ?? diffLeaseAnswer(step, theirs, ids, slack);
    ids.learn(step, theirs.response);
    if (answer === null) same++;
    else problems.push(`  step ${i} ${step.path}: ${request === null ? "" : "request "}${answer}`);
  });
  console.log(`${other.name}: ${same} of ${recorded.steps.length} answers equal`);
  for (const p of problems) console.log(p);
  if (problems.length > 0) failed = true;
}

const committedWatches = new Map(readWatchFixtures().map((f) => [f.name, f]));
for (const other of readWatchFixtures(`${dir}/watch/`)) {
  const recorded = committedWatches.get(other.name);
  if (!recorded) continue;
  let same = 0;
  const problems: string[] = [];
  recorded.steps.forEach((step, i) => {
    const d = diffWatchStep(step, other.steps[i]!);
    if (d === null) same++;
    else problems.push(`  step ${i} ${step.do}: ${d}`);
  });
  const messages = recorded.steps.reduce((n, s) => n + s.received.length, 0);
  console.log(`${other.name}: ${same} of ${recorded.steps.length} steps equal (${messages} stream messages recorded)`);
  for (const p of problems) console.log(p);
  if (problems.length > 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
