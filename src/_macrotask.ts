/**
 * Runs a callback in a later host task, after every pending microtask.
 * Private to the package.
 *
 * A `MessageChannel` message is used where the host has one: unlike
 * `setTimeout(0)` it is not clamped to 4 ms when nested, and fake-timer
 * libraries leave it alone, so a virtual clock can wait for the host to go
 * idle without depending on (possibly faked) timers. Each call uses its own
 * channel and closes it, so nothing stays open to keep a process alive or
 * trip Deno's resource sanitizer.
 *
 * Some hosts deliver messages a few microtask hops after `postMessage`,
 * not in a later task: workerd always, and Deno once its Node
 * compatibility layer is loaded (for instance by
 * `process.getBuiltinModule("node:async_hooks")`, which `_host.ts` calls).
 * A message counts as a macrotask only if a chain of microtasks started
 * with it has run to its end first, as it always has in a real later task;
 * otherwise the callback goes through a zero-delay timer.
 *
 * @module
 */

/**
 * The length of the microtask chain a message must not overtake. Deno with
 * its Node layer delivers a message about two hops after `postMessage`;
 * in a real later task the whole chain has run, however long it is.
 */
const MICROTASK_HOPS = 8;

/** Cancels a callback posted with {@linkcode postMacrotask}. */
export type CancelMacrotask = () => void;

/**
 * Calls `callback` in a later macrotask.
 *
 * @returns A function that cancels the call if it has not happened yet.
 */
export function postMacrotask(callback: () => void): CancelMacrotask {
  const Channel = globalThis.MessageChannel;
  if (typeof Channel === "function") {
    const channel = new Channel();
    let open = true;
    let hopsLeft = MICROTASK_HOPS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const close = () => {
      if (timer !== undefined) {
        globalThis.clearTimeout(timer);
        timer = undefined;
      }
      if (!open) return;
      open = false;
      channel.port1.onmessage = null;
      channel.port1.close();
      channel.port2.close();
    };
    channel.port1.onmessage = () => {
      if (!open) return;
      close();
      if (hopsLeft > 0) {
        // The message overtook microtasks queued after it: this host
        // delivers messages as microtasks, not in a later task.
        timer = globalThis.setTimeout(() => {
          timer = undefined;
          callback();
        }, 0);
        return;
      }
      callback();
    };
    channel.port2.postMessage(null);
    const hop = () => {
      if (--hopsLeft > 0) queueMicrotask(hop);
    };
    queueMicrotask(hop);
    return close;
  }
  // Hosts without MessageChannel (or whose messages are not macrotasks): a
  // zero-delay timer read at call time.
  const id = globalThis.setTimeout(callback, 0);
  return () => globalThis.clearTimeout(id);
}

/** Resolves in a later macrotask, once pending microtasks have run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    postMacrotask(resolve);
  });
}
