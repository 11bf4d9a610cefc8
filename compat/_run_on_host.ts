/**
 * What every entry of the portable suite runs: the suite itself, plus the
 * one fact about the host that the "Runs on" table shows beside the counts,
 * which form of async context the package found there (so how an
 * async-function task's `await` is cancelled on that runtime). It is read
 * from the private host module, not from `mod.ts`, which does not export it.
 *
 * @module
 */

import { type AsyncContextKind, asyncContextKind } from "../src/_host.ts";
import { runSuite, type SuiteOptions, type SuiteResult } from "./suite.ts";

/** The suite's results and the host's async-context form. */
export interface HostResult extends SuiteResult {
  /** `AsyncContext`, `AsyncLocalStorage` or `none` (see `src/_host.ts`). */
  asyncContext: AsyncContextKind;
}

/** Runs the suite and resolves to its results with the host's async-context form. */
export async function runOnHost(options: SuiteOptions = {}): Promise<HostResult> {
  // Read first: some tests hide the host's globals and detect again.
  const asyncContext = asyncContextKind;
  const result = await runSuite(options);
  return { ...result, asyncContext };
}
