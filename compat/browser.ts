/**
 * Browser entry of the portable suite, loaded by `compat/browser.html` as a
 * `<script type="module">`. The page is served by the compat driver's
 * loopback server, so the suite's `fetch` calls are same-origin. The results
 * land in `globalThis.__COMPAT_RESULT__` (and the page's text) for the
 * Playwright driver to read.
 *
 * @module
 */

import { runOnHost } from "./_run_on_host.ts";

interface Page {
  __COMPAT_RESULT__?: unknown;
  __COMPAT_ERROR__?: string;
  // Typed here because the package compiles without the DOM library.
  document: { body: { textContent: string } };
  location: { origin: string; search: string };
}

const page = globalThis as unknown as Page;
try {
  const filter = new URLSearchParams(page.location.search).get("filter") ?? undefined;
  const result = await runOnHost({ baseUrl: `${page.location.origin}/`, filter });
  page.__COMPAT_RESULT__ = result;
  page.document.body.textContent = `${result.passed} passed, ${result.failed} failed`;
} catch (error) {
  page.__COMPAT_ERROR__ = String(error instanceof Error ? error.stack : error);
}
