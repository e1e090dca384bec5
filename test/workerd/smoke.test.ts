import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
test("workerd smoke", async () => {
  const stub = (env as any).RAFT_SERVER.getByName("x");
  expect(await stub.ping()).toBe("pong");
});
