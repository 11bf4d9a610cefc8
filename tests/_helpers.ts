/**
 * Test helpers: deterministic loops and report capture.
 *
 * @module
 */

import * as asyncio from "../mod.ts";

/** Runs `main` under `run()` on an autojumping virtual clock. */
export function runVirtual<A extends asyncio.Awaitable<unknown>>(
  main: A,
  options: { start?: number; debug?: boolean } = {},
): Promise<asyncio.AwaitedResult<A>> {
  const clock = new asyncio.VirtualClock({ start: options.start ?? 0, autojump: true });
  return asyncio.run(main, { clock, debug: options.debug ?? false });
}

/** Collects what a loop reports to its exception handler. */
export function captureReports(loop: asyncio.EventLoop): asyncio.ExceptionContext[] {
  const reports: asyncio.ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => {
    reports.push(context);
  });
  return reports;
}

/**
 * A loop on a manual virtual clock for callback-level tests; closed (and
 * checked for leftovers) by the caller through the returned `close`.
 */
export function virtualLoop(options: { debug?: boolean; slowCallbackMs?: number } = {}): {
  loop: asyncio.EventLoop;
  clock: asyncio.VirtualClock;
  reports: asyncio.ExceptionContext[];
} {
  const clock = new asyncio.VirtualClock();
  const loop = new asyncio.EventLoop({ clock, ...options });
  const reports = captureReports(loop);
  return { loop, clock, reports };
}

/** Lets the loop run every iteration it can without time moving. */
export async function drain(loop: asyncio.EventLoop): Promise<void> {
  // A macrotask runs after every pending microtask, so after it the loop is idle.
  await new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
  void loop;
}
