// Placement (API.md): location hints on create, one per initial server, validated, applied
// when each server's object is first created, and reported in the status with each server's
// role and the configuration's voters and learners.
import { expect, test } from "vitest";
import { api, freshName } from "./harness.ts";

test("location hints are recorded per server and reported; every initial server is a voter", async () => {
  const c = freshName("place");
  const hints = ["weur", "enam", "apac"];
  const created = await api("POST", `/clusters/${c}`, { size: 3, locationHints: hints });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body).toMatchObject({ cluster: c, size: 3, locationHints: hints });
  const again = await api("POST", `/clusters/${c}`, { size: 3, locationHints: hints });
  expect(again.status).toBe(200);
  const moved = await api("POST", `/clusters/${c}`, { size: 3, locationHints: ["weur", "weur", "apac"] });
  expect(moved.status).toBe(409);
  const view = await api("GET", `/clusters/${c}`);
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({ size: 3, voters: [0, 1, 2], learners: [] });
  expect(view.body.servers.map((s: { locationHint: string | null; role: string }) => [s.locationHint, s.role])).toEqual(
    hints.map((h) => [h, "voter"]),
  );
  const one = await api("GET", `/clusters/${c}/servers/1`);
  expect(one.body).toMatchObject({ id: 1, locationHint: "enam", role: "voter" });
  expect((await api("DELETE", `/clusters/${c}`)).status).toBe(204);
});

test("without hints a server's locationHint is null; bad hints are 400 and create nothing", async () => {
  const c = freshName("place");
  expect((await api("POST", `/clusters/${c}`, { size: 1 })).status).toBe(201);
  const view = await api("GET", `/clusters/${c}`);
  expect(view.body.servers[0]).toMatchObject({ locationHint: null, role: "voter" });
  expect((await api("DELETE", `/clusters/${c}`)).status).toBe(204);

  const bad = freshName("place");
  for (const body of [
    { size: 3, locationHints: ["weur", "enam", "mars"] },
    { size: 3, locationHints: ["weur", "enam"] },
    { size: 1, locationHints: "weur" },
    { size: 2, locationHints: ["WEUR", "enam"] },
  ]) {
    const r = await api("POST", `/clusters/${bad}`, body);
    expect(r.status, JSON.stringify(body)).toBe(400);
    expect(r.body.error).toBe("bad_request");
  }
  expect((await api("GET", `/clusters/${bad}`)).status).toBe(404);
});
