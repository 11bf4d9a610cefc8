/**
 * AbortSignal helpers shared by every wait that accepts `{ signal }`.
 * Private to the package.
 *
 * @module
 */

import { CancelledError } from "./errors.ts";

/**
 * The CancelledError a wait rejects with when its signal aborts: the
 * signal's reason itself when it is one (a task's signal), otherwise a new
 * one whose `cause` is the reason.
 */
export function abortError(signal: AbortSignal): CancelledError {
  const reason = signal.reason;
  if (reason instanceof CancelledError) return reason;
  const message = reason instanceof Error ? reason.message : undefined;
  return new CancelledError(message || "The operation was aborted", { cause: reason });
}
