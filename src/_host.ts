/**
 * What the host offers that no web standard does yet, found without
 * importing anything. Private to the package, and the only module of `src/`
 * that looks beyond web-standard globals; everything works without what it
 * finds.
 *
 * An async context carries a value across `await`: TC39's
 * `AsyncContext.Variable` where the host has it, else Node's
 * `AsyncLocalStorage` reached through `globalThis.process.getBuiltinModule`
 * (Deno 2, Node >= 20.16, Bun, workerd with `nodejs_compat` or
 * `nodejs_als`), else none (browsers today). Async-function tasks run their
 * function inside it, holding the task, so that library waits can find the
 * task they belong to (see task.ts).
 *
 * Signal listeners let `run()` and `Runner.run()` turn Ctrl-C into a
 * cancellation of the main task, as Python's `asyncio.Runner` does: Deno's
 * `Deno.addSignalListener`, else Node's and Bun's `process.on`, else none.
 *
 * @module
 */

/** One slot of the host's async context. */
export interface AsyncSlot {
  /** The value of the innermost `run` around the current code, or `undefined`. */
  get(): unknown;
  /** Calls `fn(arg)` with the slot holding `value`, in it and in everything it schedules. */
  run<A, R>(value: unknown, fn: (arg: A) => R, arg: A): R;
}

/** Which form of async context the host has: how async-function tasks are cancelled there. */
export type AsyncContextKind = "AsyncContext" | "AsyncLocalStorage" | "none";

interface AsyncContextVariable {
  get(): unknown;
  run<R>(value: unknown, fn: (...args: unknown[]) => R, ...args: unknown[]): R;
}

interface AsyncLocalStorageLike {
  getStore(): unknown;
  run<R>(store: unknown, fn: (...args: unknown[]) => R, ...args: unknown[]): R;
}

/** The slot the package uses, or `null` when the host has no async context. */
export let asyncSlot: AsyncSlot | null = null;
/** What `asyncSlot` is made of. */
export let asyncContextKind: AsyncContextKind = "none";

/**
 * Looks for the host's async context (again). Runs once when the package
 * loads; tests call it after hiding or restoring the host's globals.
 */
export function detectHost(): void {
  asyncSlot = null;
  asyncContextKind = "none";
  const tc39 = (globalThis as { AsyncContext?: { Variable?: new () => AsyncContextVariable } })
    .AsyncContext?.Variable;
  if (typeof tc39 === "function") {
    try {
      const variable = new tc39();
      asyncSlot = {
        get: () => variable.get(),
        run: (value, fn, arg) => variable.run(value, fn as (...args: unknown[]) => never, arg),
      };
      asyncContextKind = "AsyncContext";
      return;
    } catch {
      // A partial implementation: try the next form.
    }
  }
  const storage = findAsyncLocalStorage();
  if (storage !== null) {
    asyncSlot = {
      get: () => storage.getStore(),
      run: (value, fn, arg) => storage.run(value, fn as (...args: unknown[]) => never, arg),
    };
    asyncContextKind = "AsyncLocalStorage";
  }
}

function findAsyncLocalStorage(): AsyncLocalStorageLike | null {
  const process = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  const getBuiltinModule = process?.getBuiltinModule;
  if (typeof getBuiltinModule !== "function") return null;
  try {
    const hooks = getBuiltinModule.call(process, "node:async_hooks") as
      | { AsyncLocalStorage?: new () => AsyncLocalStorageLike }
      | undefined;
    const Storage = hooks?.AsyncLocalStorage;
    if (typeof Storage !== "function") return null;
    const storage = new Storage();
    if (typeof storage.run !== "function" || typeof storage.getStore !== "function") return null;
    return storage;
  } catch {
    return null; // a host that refuses the module (a permission, a sandbox)
  }
}

detectHost();

// ------------------------------------------------------------ signals

/** Stops what {@linkcode addInterruptListener} started. */
export type RemoveListener = () => void;

interface DenoSignals {
  addSignalListener(signal: "SIGINT", listener: () => void): void;
  removeSignalListener(signal: "SIGINT", listener: () => void): void;
}

interface NodeSignals {
  on(event: "SIGINT", listener: () => void): unknown;
  off(event: "SIGINT", listener: () => void): unknown;
}

/**
 * Calls `listener` when the process receives SIGINT (Ctrl-C), through the
 * host's own signal API: Deno's `Deno.addSignalListener`, else the
 * `process.on` of Node and Bun. Returns the function that removes the
 * listener, or `null` where the host has no such API (browsers, web
 * workers, workerd) or refuses it (adding the listener throws).
 *
 * The API is looked up at each call, not once when the package loads, so
 * tests can stand in for it. Neither host's listener keeps the process
 * alive by itself (Deno's signal op is unref'd, Node's signal handle too;
 * one exception: Deno lets a top-level `await` that nothing else can settle
 * wait for the signal instead of failing with "Top-level await promise never
 * resolved"). Once the last listener is removed, the host's default action
 * (ending the process) is back.
 */
export function addInterruptListener(listener: () => void): RemoveListener | null {
  const deno = (globalThis as { Deno?: Partial<DenoSignals> }).Deno;
  if (
    typeof deno?.addSignalListener === "function" &&
    typeof deno.removeSignalListener === "function"
  ) {
    const signals = deno as DenoSignals;
    try {
      signals.addSignalListener("SIGINT", listener);
    } catch {
      return null; // a host that has the API and refuses it (a worker, a sandbox)
    }
    return () => signals.removeSignalListener("SIGINT", listener);
  }
  const process = (globalThis as { process?: Partial<NodeSignals> }).process;
  if (typeof process?.on === "function" && typeof process.off === "function") {
    const signals = process as NodeSignals;
    try {
      signals.on("SIGINT", listener);
    } catch {
      return null;
    }
    return () => {
      signals.off("SIGINT", listener);
    };
  }
  return null;
}
