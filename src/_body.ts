/**
 * How a block (see _block.ts) runs a body that a generator task cannot run
 * inline. Private to the package.
 *
 * A generator function runs inline, inside the task that owns the block
 * (as Python's `async with` block runs in the enclosing task), and so does
 * an async function inside an async-function task (in its context). An
 * async function inside a generator task runs as a child task started
 * eagerly, which the owning task waits on: cancelling the owner cancels
 * the child (its signal aborts), and the owner keeps waiting until the
 * body has really finished.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { type Coroutine, Task } from "./task.ts";

export { isGeneratorFunction } from "./_validate.ts";

/**
 * Starts a non-generator body as a child task: `call(signal)` invokes the
 * body; with `wantsSignal` false no AbortSignal is created for it.
 */
export function startBodyTask<T>(
  loop: EventLoop,
  call: (signal: AbortSignal) => Coroutine<T> | PromiseLike<T> | T,
  wantsSignal: boolean,
): Task<T> {
  // A zero-parameter wrapper tells Task not to make a signal.
  const fn = wantsSignal ? call : () => call(undefined as unknown as AbortSignal);
  return new Task(fn, { loop, eagerStart: true });
}
