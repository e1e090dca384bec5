// Every error leaves the Worker as `{"error": "<code>", "message": "<human text>"}`.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Fields the body carries besides error and message (API.md welcomes extra fields). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): { error: string; message: string } {
    return { ...this.extra, error: this.code, message: this.message };
  }
}

export const badRequest = (message: string) => new HttpError(400, "bad_request", message);
export const notFound = (message: string) => new HttpError(404, "not_found", message);
