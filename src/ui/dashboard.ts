// The dashboard page the Worker serves at `GET /`: one self-contained HTML document (inline
// CSS and script, nothing fetched from elsewhere). The script is the esbuild bundle of
// src/ui/dashboard/client.ts, checked in as src/ui/generated/page-script.ts.
//
// Mount it in the Worker:  app.get("/", (c) => c.html(dashboardHtml()));

import { DASHBOARD_BODY, DASHBOARD_CSS, TIMELINE_CSS } from "./dashboard/markup.ts";
import { PAGE_SCRIPT } from "./generated/page-script.ts";

let page: string | null = null;

export function dashboardHtml(): string {
  page ??=
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Raft on Durable Objects — dashboard</title>` +
    // An empty inline icon: otherwise the browser asks the Worker for /favicon.ico.
    `<link rel="icon" href="data:,">` +
    `<style>${DASHBOARD_CSS}${TIMELINE_CSS}</style></head>` +
    `<body>${DASHBOARD_BODY}<script>${PAGE_SCRIPT}</script></body></html>\n`;
  return page;
}
