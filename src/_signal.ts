/**
 * AbortSignal helpers shared by every wait that accepts `{ signal }`.
 * Private to the package.
 *
 * @module
 */

import { CancelledError } from "./errors.ts";
import { cancelledError } from "./_cancelled.ts";
import type { Future } from "./future.ts";
import { addCallback, adoptSignalWait, cancelFutureWith, SIGNAL_TASK } from "./_internal.ts";
import type { Task } from "./task.ts";

/**
 * The CancelledError a wait rejects with when its signal aborts: the
 * signal's reason itself when it is one (a task's signal), otherwise a new
 * one whose `cause` is the reason.
 */
export function abortError(signal: AbortSignal): CancelledError {
  const reason = signal.reason;
  if (reason instanceof CancelledError) return reason;
  const message = reason instanceof Error ? reason.message : undefined;
  return cancelledError(message || "The operation was aborted", reason);
}

/**
 * Cancels `future` when `signal` aborts (at once if it already has), with
 * {@linkcode abortError}; the listener is removed when the future is done.
 * Returns `false` when the signal was already aborted.
 */
export function cancelOnAbort(future: Future<unknown>, signal: AbortSignal): boolean {
  if (signal.aborted) {
    cancelFutureWith(future, abortError(signal));
    return false;
  }
  // The signal of an async task: the task cancels the wait itself.
  const task = (signal as unknown as Record<symbol, Task<unknown> | undefined>)[SIGNAL_TASK];
  if (task !== undefined && adoptSignalWait(task, future)) return true;
  listenForAbort(future, signal);
  return true;
}

/** Cancels `future` when `signal` aborts, through an abort listener removed when it is done. */
export function listenForAbort(future: Future<unknown>, signal: AbortSignal): void {
  const listener = new AbortListener(future, signal);
  signal.addEventListener("abort", listener, { once: true });
  addCallback(future, removeListener, listener);
}

/** One object serves as the event listener and as the done callback's argument. */
class AbortListener {
  future: Future<unknown>;
  signal: AbortSignal;

  constructor(future: Future<unknown>, signal: AbortSignal) {
    this.future = future;
    this.signal = signal;
  }

  handleEvent(): void {
    if (!this.future.done()) cancelFutureWith(this.future, abortError(this.signal));
  }
}

function removeListener(listener: AbortListener): void {
  listener.signal.removeEventListener("abort", listener);
}
