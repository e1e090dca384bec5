// The Jepsen-style test of the key/value service while the cluster grows and shrinks, as
// Jepsen's etcd nemesis does: five clients do random get/put/cas/append on three keys for
// 20 s (kv-nemesis.test.ts's clients, nemesis-harness.ts), while the nemesis, starting from
// three voters, randomly
//   - adds a voter, adds a learner (and sometimes promotes it at once), promotes a learner,
//   - removes a random member, the leader among them sometimes,
//   - now and then makes two changes at once (at most one is in progress at a time),
//   - and in between runs kv-nemesis's faults on the current members: partitions,
//     disconnects, crashes and restarts, a lossy and slow network, sometimes with a
//     membership change in the middle of the fault.
// It keeps two to five voters (two changes at once may step one past either bound, never to
// zero voters: that is last_voter) and at most two learners, and impairs at most a
// minority of the voters in a fault round (a change made in the middle of one may leave the
// cluster stuck until the round is undone, which is allowed). Membership calls may answer
// 409 (another change is pending), 503 (no leader) or 504 (not committed in time): the
// nemesis treats those as "maybe done" and reads the configuration before its next move.
// Every answer is booked in a MembershipLedger (membership-ledger.ts): a 200's body must show
// its change, a 404 is allowed only for a member the nemesis itself asked to remove and no
// longer sees, and the final committed configuration must be what the 200s imply. A run
// must commit at least one add and one removal (past half of the run the nemesis asks for
// the one still missing), or it tested nothing of membership.
// At the end it heals everything; the history must be linearizable (test/lin), enough
// operations must have succeeded, and every member, learners too, must converge.
//
// One seed draws every choice; replay them with NEMESIS_SEED=<seed> npx vitest run
// --project workerd test/workerd/membership-nemesis.test.ts (the timing does not replay).
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { network } from "./kv-harness.ts";
import { eventually } from "./kv-harness.ts";
import { MembershipLedger, sentNow } from "./membership-ledger.ts";
import { members, promoteRaw, removeRaw, addRaw, said, send, settledLeader, sleep, statusOf, view, type MemberView } from "./membership-harness.ts";
import { clientsUnderNemesis, finishRun, injectFault, pick, rng, runSeed } from "./nemesis-harness.ts";

const START = 3;
const MAX_VOTERS = 5;
const MIN_VOTERS = 2;
const MAX_LEARNERS = 2;
/** How long the nemesis runs; the clients run as long, then finish their last call. */
const RUN_MS = 20_000;
/** A healthy stretch at the end, after the nemesis has healed everything. */
const CALM_MS = 1_000;
/** Fewer successes than this means the service was not available enough to matter. */
const MIN_OK = 150;
/** How long the nemesis waits for one membership call before moving on ("maybe done"). */
const CHANGE_WAIT_MS = 6_000;
/**
 * The coordinator's wait (`?timeoutMs=`) for a change made while a fault holds: it may not
 * commit before the fault is undone, and the round should not hold the fault for long.
 */
const DURING_FAULT_TIMEOUT_MS = 1_500;
const LOSSY = { dropRate: 0.1, delayMs: [0, 20] as [number, number] };

type Change = "add-voter" | "add-learner" | "add-learner+promote" | "promote" | "remove" | "remove-leader";

interface Book {
  readonly log: string[];
  /** Answers of membership calls by change and status: "add-voter 200" → count. */
  readonly answers: Map<string, number>;
  /** Answers that no membership call may give (400, 500, ...): each one is a bug. */
  readonly unexpected: string[];
  /** Every id seen as a member during the run. */
  readonly seen: Set<number>;
  /** What the answers imply (membership-ledger.ts). */
  readonly ledger: MembershipLedger;
}

async function runNemesis(h: Harness, seed: number, stop: () => boolean, book: Book): Promise<void> {
  const r = rng(seed);
  const started = Date.now();
  const stamp = () => `+${Date.now() - started}ms`;
  const post = async (path: string, body?: unknown, also: number[] = []) => {
    const res = await send("POST", `/clusters/${h.name}/${path}`, body);
    expect([200, ...also], `${path}: ${said(res)}`).toContain(res.status);
    return res;
  };

  /**
   * One membership change, chosen for the configuration `v` (or `forced`, when the run still
   * owes one of that kind); its answer is logged and booked in the ledger.
   */
  async function change(v: MemberView, during: string, forced?: "add" | "remove"): Promise<void> {
    const timeoutMs = during.includes("during") ? DURING_FAULT_TIMEOUT_MS : undefined;
    const voters = v.voters;
    const learners = v.learners;
    const options: Change[] = [];
    if (voters.length < MAX_VOTERS) options.push("add-voter", "add-voter");
    if (learners.length < MAX_LEARNERS) options.push("add-learner");
    if (learners.length < MAX_LEARNERS && voters.length < MAX_VOTERS) options.push("add-learner+promote");
    if (learners.length > 0 && voters.length < MAX_VOTERS) options.push("promote", "promote");
    if (voters.length > MIN_VOTERS || learners.length > 0) options.push("remove", "remove");
    if (voters.length > MIN_VOTERS && v.leader !== null) options.push("remove-leader");
    if (voters.length >= MAX_VOTERS) options.push("remove", "remove-leader");
    if (voters.length <= MIN_VOTERS) options.push("add-voter");
    const kind =
      forced === "add"
        ? voters.length < MAX_VOTERS ? "add-voter" : "add-learner"
        : forced === "remove" && options.includes("remove")
          ? "remove"
          : pick(r, options);
    const record = (what: string, res: { status: number; body: any }, wrong: string[]) => {
      const answer = res.status === 0 ? "no answer" : String(res.status);
      book.answers.set(`${kind} ${answer}`, (book.answers.get(`${kind} ${answer}`) ?? 0) + 1);
      book.log.push(`${stamp()} ${kind} ${what}${during} → ${res.status === 200 ? "200" : res.status === 0 ? `no answer in ${CHANGE_WAIT_MS} ms` : said(res)}`);
      // 409 change_in_progress, 503 and 504 are "maybe done"; a 404 for a promotion or a
      // removal is the ledger's to judge (a removal of ours, answered 504 earlier or made at
      // the same time, took effect); a 200 must show its change. Anything else is a bug.
      const fine =
        res.status === 0 ||
        res.status === 200 ||
        res.status === 503 ||
        res.status === 504 ||
        (res.status === 409 && res.body?.error === "change_in_progress") ||
        (res.status === 404 && !kind.startsWith("add"));
      if (!fine) book.unexpected.push(`${kind} ${what}: ${said(res)}`);
      book.unexpected.push(...wrong);
    };
    /** After a 404, the configuration as it is now: the ledger checks the member is gone. */
    const after404 = async (res: { status: number }) => (res.status === 404 ? view(h) : undefined);
    switch (kind) {
      case "add-voter":
      case "add-learner":
      case "add-learner+promote": {
        const role = kind === "add-voter" ? "voter" : "learner";
        const seenBefore = book.ledger.askAdd();
        const sent = sentNow();
        const res = await addRaw(h, { role }, CHANGE_WAIT_MS, timeoutMs);
        record(res.status === 200 ? `${res.body.added}` : "", res, book.ledger.added(role, res, sent, seenBefore));
        if (res.status === 200) book.seen.add(res.body.added!);
        if (kind === "add-learner+promote" && res.status === 200) {
          const id = res.body.added!;
          book.ledger.askPromote(id);
          const sentPromote = sentNow();
          const p = await promoteRaw(h, id, CHANGE_WAIT_MS, timeoutMs);
          record(`promote ${id}`, p, book.ledger.promoted(id, p, sentPromote, await after404(p)));
        }
        break;
      }
      case "promote": {
        const id = pick(r, learners);
        book.ledger.askPromote(id);
        const sent = sentNow();
        const res = await promoteRaw(h, id, CHANGE_WAIT_MS, timeoutMs);
        record(`${id}`, res, book.ledger.promoted(id, res, sent, await after404(res)));
        break;
      }
      case "remove":
      case "remove-leader": {
        const pool =
          kind === "remove-leader" && v.leader !== null
            ? [v.leader]
            : [...learners, ...(voters.length > MIN_VOTERS ? voters.filter((i) => i !== v.leader) : [])];
        if (pool.length === 0) return;
        const id = pick(r, pool);
        book.ledger.askRemove(id);
        const sent = sentNow();
        const res = await removeRaw(h, id, CHANGE_WAIT_MS, timeoutMs);
        record(`${id}`, res, book.ledger.removedAnswer(id, res, sent, await after404(res)));
        break;
      }
    }
  }

  while (!stop()) {
    const sent = sentNow();
    const v = await view(h);
    for (const id of members(v)) book.seen.add(id);
    book.unexpected.push(...book.ledger.look(v, sent, `the configuration at ${stamp()}`));
    // Past half of the run, a change the run still owes (a committed add, a committed
    // removal) is asked for in a round of its own, outside any fault.
    const late = Date.now() - started > RUN_MS / 2;
    const owed = !late ? undefined : book.ledger.committedAdds === 0 ? "add" : book.ledger.committedRemovals === 0 ? "remove" : undefined;
    const roll = r();
    if (owed) {
      await change(v, " (owed)", owed);
    } else if (roll < 0.07) {
      // Two changes at once, as two operators might: at most one is taken at a time (the
      // other is 409 change_in_progress, or follows once the first has committed).
      await Promise.all([change(v, " (two at once)"), change(v, " (two at once)")]);
    } else if (roll < 0.45) {
      await change(v, "");
    } else {
      // A fault round on the current members: at most a minority of the voters impaired,
      // learners freely; the leader among the victims half of the time.
      const voterBudget = Math.floor((v.voters.length - 1) / 2);
      const count = r() < 0.5 ? 1 : 2;
      const victims: number[] = [];
      if (v.leader !== null && voterBudget > 0 && r() < 0.5) victims.push(v.leader);
      for (let tries = 0; victims.length < count && tries < 10; tries++) {
        const candidates = members(v).filter(
          (i) => !victims.includes(i) && (v.learners.includes(i) || victims.filter((x) => v.voters.includes(x)).length < voterBudget),
        );
        if (candidates.length === 0) break;
        victims.push(pick(r, candidates));
      }
      const lossy = r() < 0.4;
      if (lossy) await network(h, LOSSY);
      const kind = victims.length === 0 ? "none" : pick(r, victims.length === 2 ? (["partition", "crash", "disconnect", "crash+partition"] as const) : (["partition", "crash", "disconnect"] as const));
      book.log.push(`${stamp()} ${kind} ${victims.join(",")}${lossy ? " lossy" : ""}`);
      const crashed = kind === "none" ? [] : await injectFault(kind, victims, members(v), r, post);
      const hold = 400 + r() * 1200;
      if (r() < 0.3) {
        // A membership change while the fault holds (it may not commit until it is undone).
        await sleep(hold / 3);
        await change(await view(h), ` (during ${kind} ${victims.join(",")})`);
      } else {
        await sleep(hold);
      }
      // Undo. A crashed victim removed meanwhile is 404 on restart: it is gone, fine.
      for (const x of crashed) await post(`servers/${x}/restart`, undefined, [404]);
      await post("heal");
      if (lossy) await network(h, {});
    }
    await sleep(150 + r() * 600);
  }
  // Leave everything whole: the clients' last calls and the final reads need a cluster.
  const v = await view(h);
  for (const s of v.servers) if (s.state === "Dead") await post(`servers/${s.id}/restart`, undefined, [404]);
  await post("heal");
  await network(h, {});
}

test("Membership nemesis: linearizable while the cluster grows and shrinks under partitions, crashes and a lossy network", async () => {
  const seed = runSeed();
  console.log(`membership nemesis: seed ${seed}; replay its choices with NEMESIS_SEED=${seed} npx vitest run --project workerd test/workerd/membership-nemesis.test.ts`);
  const h = await Harness.create(START);
  await settledLeader(h);
  const book: Book = { log: [], answers: new Map(), unexpected: [], seen: new Set(), ledger: new MembershipLedger(Array.from({ length: START }, (_, i) => i)) };
  const { rec, tally, runMs } = await clientsUnderNemesis(h, seed, { runMs: RUN_MS, calmMs: CALM_MS }, (stop) => runNemesis(h, seed, stop, book));

  // A leader among the voters again, and the configuration it holds: its members converge.
  const { view: last } = await settledLeader(h, 300, 15_000);
  const answers = [...book.answers].sort().map(([k, n]) => `${k}: ${n}`).join(", ");
  await finishRun(h, {
    seed,
    rec,
    tally,
    nemesisLog: book.log,
    runMs,
    minOk: MIN_OK,
    servers: members(last),
    notes: [`membership answers: ${answers}`, `final configuration: voters ${JSON.stringify(last.voters)}, learners ${JSON.stringify(last.learners)}, leader ${last.leader}`],
  });
  expect(book.unexpected, "membership answers the ledger does not allow (see membership-ledger.ts)").toEqual([]);
  expect(last.voters.length).toBeGreaterThanOrEqual(1);
  expect(last.voters).toContain(last.leader);
  // The final configuration is the leader's committed one, and the status reports it.
  let committed: { voters: number[]; learners: number[] } | null = null;
  await eventually("the leader's configuration is committed", async () => {
    const s = statusOf(await view(h), last.leader!);
    if (s.membership === null || s.membershipIndex === null) return `leader ${last.leader} is down`;
    committed = { voters: [...s.membership.voters], learners: [...s.membership.learners] };
    return s.commitIndex >= s.membershipIndex || `commitIndex ${s.commitIndex} < membershipIndex ${s.membershipIndex}`;
  });
  const now = await view(h);
  const sortedConf = (c: { voters: readonly number[]; learners: readonly number[] }) => ({ voters: [...c.voters].sort((a, b) => a - b), learners: [...c.learners].sort((a, b) => a - b) });
  expect(sortedConf(now), "the status's voters and learners are the leader's committed configuration").toEqual(sortedConf(committed!));
  expect(book.ledger.final(committed!), "the final configuration against what the answers imply").toEqual([]);
  // The run changed the membership both ways, for real.
  expect({ adds: book.ledger.committedAdds > 0, removals: book.ledger.committedRemovals > 0 }, "a committed add and a committed removal").toEqual({ adds: true, removals: true });
  // Every server removed during the run is gone from the routes that name a member.
  const removed = [...book.seen].filter((id) => !members(last).includes(id)).sort((a, b) => a - b);
  for (const id of removed) {
    for (const [method, path] of [["GET", `servers/${id}`], ["POST", `servers/${id}/reconnect`], ["GET", `servers/${id}/committed`]] as const) {
      const r = await send(method, `/clusters/${h.name}/${path}`);
      expect(r.status, `${method} ${path} of removed server ${id}: ${said(r)}`).toBe(404);
    }
  }
  console.log(`removed during the run, 404 now: ${JSON.stringify(removed)}`);
}, 58_000);
