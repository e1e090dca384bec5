// Replays one recorded etcd 3.4.23 lease sequence against the pure model, answer by answer.
// The clock is the recording's: each request runs at its `sent_ms`, and before it the leader's expiry pass revokes whatever expired by then (as the leader's alarm
// would, through the log). What a replay forgives is compare-lease-watch.ts's: the IDs etcd chose
// (mapped to the ones the model chose, and rewritten in later requests), map order, and a
// timetolive TTL within one second (the recorded request took up to a few ms between being sent
// and answered, and TTLs are whole seconds rounded down).

import { diffLeaseAnswer, LeaseIds } from "../../../etcd/compare-lease-watch.ts";
import type { TimedFixture } from "../../../etcd/fixture.ts";
import { handleKvText, isKvPath } from "../../../../src/kv/etcd/gateway.ts";
import {
  handleKeepAliveText,
  handleLeaseText,
  isLeasePath,
  KEEPALIVE_PATH,
  type LeaseService,
  type StreamAnswer,
} from "../../../../src/kv/etcd/gateway-lease.ts";
import { LeaseExpiry } from "../../../../src/kv/etcd/lease-expiry.ts";
import { ETCD_DEFAULT_MIN_LEASE_TTL } from "../../../../src/kv/etcd/lease-rules.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { etcdModel } from "../../../../src/kv/etcd/model.ts";

const IDS = { clusterId: "1", memberId: "1", raftTerm: "1" };
const TTL_SLACK_SECONDS = 1;

export interface ReplayResult {
  differences: string[];
  /** timetolive answers with a TTL, and how many of them equal etcd's without the slack. */
  ttlAnswers: number;
  ttlExact: number;
}

/** The recorder read a keepalive's answer as one JSON value: the stream's one message. */
function oneMessage(answer: StreamAnswer): { status: number; body: unknown } {
  return { status: answer.status, body: answer.messages.length === 1 ? answer.messages[0] : answer.messages };
}

export function replayLeaseFixture(fixture: TimedFixture): ReplayResult {
  const { kv, leases } = etcdModel(new MemoryMvccStore(), ETCD_DEFAULT_MIN_LEASE_TTL);
  const svc: LeaseService = { leases, expiry: new LeaseExpiry() };
  const ids = new LeaseIds();
  const result: ReplayResult = { differences: [], ttlAnswers: 0, ttlExact: 0 };
  fixture.steps.forEach((step, i) => {
    const now = step.sent_ms;
    // The leader's alarm: each expired lease's revoke, committed and applied before this request.
    for (const id of svc.expiry.due(now)) {
      leases.revoke({ ID: BigInt(id) });
      svc.expiry.revoked(id);
    }
    const text = JSON.stringify(ids.rewrite(step.request));
    const where = `${fixture.name} step ${i + 1} at ${now} ms ${step.path} ${text}`;
    let answer;
    if (isLeasePath(step.path)) answer = handleLeaseText(svc, step.path, text, IDS, { now, logIndex: i + 1 });
    else if (step.path === KEEPALIVE_PATH) answer = oneMessage(handleKeepAliveText(svc, text, IDS, { now, logIndex: i + 1 }));
    else if (isKvPath(step.path)) answer = handleKvText(kv, step.path, text, IDS);
    else {
      result.differences.push(`${where}: path not handled`);
      return;
    }
    const actual = { status: answer.status, response: answer.body };
    const d = diffLeaseAnswer(step, actual, ids, TTL_SLACK_SECONDS);
    if (d !== null) result.differences.push(`${where}\n    ${d}\n    got ${JSON.stringify(answer.body)}`);
    const recordedTtl = (step.response as { TTL?: string } | null)?.TTL;
    if (step.path.endsWith("/timetolive") && recordedTtl !== undefined && recordedTtl !== "-1") {
      result.ttlAnswers++;
      if (recordedTtl === (answer.body as { TTL?: string }).TTL) result.ttlExact++;
    }
    ids.learn(step, answer.body);
  });
  return result;
}

