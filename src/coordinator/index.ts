import { DurableObject } from "cloudflare:workers";
export class RaftServer extends DurableObject {
  ping(): string { this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x)"); return "pong"; }
}
export default { fetch: () => new Response("ok") } satisfies ExportedHandler;
