/**
 * Cloudflare Worker entry of the portable suite, for `workerd`: `GET
 * /run?base=<url>[&filter=<text>]` runs the suite inside the request and
 * answers with its results as JSON. The Worker's `globalOutbound` is the
 * compat driver's loopback server, so the suite's `fetch` calls reach it.
 *
 * The module format needs a default export; this file is runtime glue, not
 * part of the package.
 *
 * @module
 */

import { runSuite } from "./suite.ts";

/** The Worker: one route that runs the suite. */
const worker = {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("pong");
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const result = await runSuite({
      baseUrl: url.searchParams.get("base") ?? undefined,
      filter: url.searchParams.get("filter") ?? undefined,
    });
    return new Response(JSON.stringify(result), {
      headers: { "content-type": "application/json" },
    });
  },
};

export default worker;
