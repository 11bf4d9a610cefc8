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
 * Some hosts deliver a message as a (late) microtask instead: workerd, and
 * Deno once an `AsyncLocalStorage` exists (its message port then resolves
 * the message a couple of promise hops after `postMessage`, between other
 * microtasks). Each post therefore also starts a chain of microtasks deeper
 * than those hops; a message that arrives before the chain has ended is no
 * macrotask, so the callback goes to a zero-delay timer instead, and every
 * later post on this host uses the timer directly.
 *
 * @module
 */

/**
 * How many chained microtasks a message must not overtake. Deno's late
 * delivery comes after two hops, workerd's after none; a true macrotask
 * comes after any number.
 */
const SENTINEL_HOPS = 8;

/** Cleared for good once this host delivered a message before the sentinel chain ended. */
let messagesAreMacrotasks = true;

/** Cancels a callback posted with {@linkcode postMacrotask}. */
export type CancelMacrotask = () => void;

/**
 * Calls `callback` in a later macrotask.
 *
 * @returns A function that cancels the call if it has not happened yet.
 */
export function postMacrotask(callback: () => void): CancelMacrotask {
  const Channel = globalThis.MessageChannel;
  if (typeof Channel === "function" && messagesAreMacrotasks) {
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
        // The message overtook microtasks queued after it: this host
        // delivers messages as microtasks, not in a later task.
        messagesAreMacrotasks = false;
        timer = globalThis.setTimeout(() => {
          timer = undefined;
          callback();
        }, 0);
        return;
      }
      callback();
    };
    channel.port2.postMessage(null);
    let hops = SENTINEL_HOPS;
    const sentinel = () => {
      if (--hops > 0) queueMicrotask(sentinel);
      else microtaskRan = true;
    };
    queueMicrotask(sentinel);
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
