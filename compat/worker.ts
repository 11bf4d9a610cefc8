/**
 * Cloudflare Worker entry of the portable suite, for `workerd`: its `fetch`
 * handler answers `/run` by running the suite inside the request (see
 * `_fetch_handler.ts`). The Worker's `globalOutbound` is the compat driver's
 * loopback server, so the suite's `fetch` calls reach it.
 *
 * The module format needs a default export; this file is runtime glue, not
 * part of the package.
 *
 * @module
 */

import { handleSuiteRequest } from "./_fetch_handler.ts";

/** The Worker: its fetch handler runs the suite. */
const worker = {
  fetch(request: Request): Promise<Response> {
    return handleSuiteRequest(request);
  },
};

export default worker;
