/**
 * Vercel Edge Runtime entry of the portable suite, for `edge-runtime
 * --listen` (npm:edge-runtime, the runtime behind Vercel edge functions and
 * Next.js middleware). Bundled as a classic script, as the runtime
 * evaluates it in its edge context; it registers a `fetch` event listener,
 * the service-worker form an edge function has, and answers `/run` by
 * running the suite inside the request (see `_fetch_handler.ts`).
 *
 * @module
 */

import { handleSuiteRequest } from "./_fetch_handler.ts";

/** The service-worker `fetch` event an edge function receives. */
interface FetchEvent {
  request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

interface EdgeScope {
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
}

(globalThis as unknown as EdgeScope).addEventListener("fetch", (event) => {
  event.respondWith(handleSuiteRequest(event.request));
});
