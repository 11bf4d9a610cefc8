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
 * @module
 */

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
    let microtaskRan = false;
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
      if (!microtaskRan) {
        // The message overtook a microtask queued after it: this host
        // (workerd) delivers messages as microtasks, not in a later task.
        timer = globalThis.setTimeout(() => {
          timer = undefined;
          callback();
        }, 0);
        return;
      }
      callback();
    };
    channel.port2.postMessage(null);
    // Two hops: a host whose messages arrive between microtasks (workerd,
    // or Deno's Node-style MessagePort) delivers this one before the second.
    queueMicrotask(() => {
      queueMicrotask(() => {
        microtaskRan = true;
      });
    });
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
