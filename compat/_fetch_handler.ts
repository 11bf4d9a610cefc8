/**
 * The HTTP face of the portable suite, shared by the two entries that run
 * it the way a deployed edge function would (workerd's Worker and Vercel's
 * Edge Runtime): `GET /ping` answers `pong` once the runtime listens, and
 * `GET /run?base=<url>[&filter=<text>]` runs the suite inside the request
 * and answers with its results as JSON.
 *
 * @module
 */

import { runOnHost } from "./_run_on_host.ts";

/** Answers one request to the suite's runtime. */
export async function handleSuiteRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/ping") return new Response("pong");
  if (url.pathname !== "/run") return new Response("not found", { status: 404 });
  const result = await runOnHost({
    baseUrl: url.searchParams.get("base") ?? undefined,
    filter: url.searchParams.get("filter") ?? undefined,
  });
  return new Response(JSON.stringify(result), {
    headers: { "content-type": "application/json" },
  });
}
