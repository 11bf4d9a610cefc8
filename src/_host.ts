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
 * Whether anything ever ran inside the slot: until then no code can be in a
 * task's context, and the loop skips every check below (generator-only
 * programs pay nothing).
 */
export let slotEntered = false;

/** Runs `fn(arg)` with the slot holding `value`; the slot must exist. */
export function runInSlot<A, R>(value: unknown, fn: (arg: A) => R, arg: A): R {
  slotEntered = true;
  return (asyncSlot as AsyncSlot).run(value, fn, arg);
}

/** The slot's value here, or `undefined` (no slot, or nothing ever entered it). */
export function slotValue(): unknown {
  return slotEntered ? (asyncSlot as AsyncSlot).get() : undefined;
}

// ------------------------------------------------------ root-context jobs
//
// A microtask runs in the context of the code that queued it, so a loop
// iteration queued from inside an async-function task would run every other
// task's step and callback in that task's context, and an async function
// started from them would take its waits for that task's. The loop queues
// its iteration through queueRootMicrotask when the current context is not
// the root one. A promise reaction runs in the context where it was
// registered (not where the promise is resolved), so a chain of reactions
// registered in the root context, each arming the next, queues jobs there
// from anywhere, at the cost of a promise per job and no context switch.

let rootJobs: (() => void)[] = [];
let triggerRoot: (() => void) | null = null;

function armRoot(): void {
  new Promise<void>((resolve) => {
    triggerRoot = resolve;
  }).then(runRootJobs);
}

function runRootJobs(): void {
  const jobs = rootJobs;
  rootJobs = [];
  armRoot(); // registered from this reaction, so in the root context too
  for (let i = 0; i < jobs.length; i++) {
    try {
      jobs[i]();
    } catch (error) {
      // As an error thrown by a queueMicrotask job: reported by the host.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** Queues `job` as a microtask that runs in the root context. */
export function queueRootMicrotask(job: () => void): void {
  rootJobs.push(job);
  if (rootJobs.length === 1) (triggerRoot as () => void)();
}

/**
 * Looks for the host's async context (again). Runs once when the package
 * loads; tests call it after hiding or restoring the host's globals.
 */
export function detectHost(): void {
  asyncSlot = null;
  slotEntered = false;
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

/**
 * Web globals that a host's Node layer may swap for its own when it first
 * loads: Deno 2 replaces `MessageChannel` and `MessagePort` with Node-style
 * ones on the first `getBuiltinModule` call, and those deliver messages
 * between two microtasks instead of in a later task, which breaks every
 * macrotask built on them (ours, React's scheduler, ...). Importing this
 * package must not change the user's globals, so they are put back.
 */
const KEPT_GLOBALS = ["MessageChannel", "MessagePort"] as const;

function findAsyncLocalStorage(): AsyncLocalStorageLike | null {
  // Read first (the values, not Deno's lazy getters): in Deno merely reading
  // `process.getBuiltinModule` loads the Node layer.
  const kept = KEPT_GLOBALS.map((name) => (globalThis as Record<string, unknown>)[name]);
  const process = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  try {
    const getBuiltinModule = process?.getBuiltinModule;
    if (typeof getBuiltinModule !== "function") return null;
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
  } finally {
    restoreGlobals(kept);
  }
}

function restoreGlobals(kept: unknown[]): void {
  const global = globalThis as Record<string, unknown>;
  for (let i = 0; i < KEPT_GLOBALS.length; i++) {
    const name = KEPT_GLOBALS[i];
    if (kept[i] === undefined || global[name] === kept[i]) continue;
    try {
      Object.defineProperty(globalThis, name, {
        value: kept[i],
        writable: true,
        enumerable: false,
        configurable: true,
      });
    } catch {
      // Not configurable here: leave the host's choice.
    }
  }
}

detectHost();
armRoot(); // the module is evaluated in the root context

// ------------------------------------------------------------ signals

/** Stops what {@linkcode addInterruptListener} started. */
export type RemoveListener = () => void;

/** The signals the package listens for: Ctrl-C, and Ctrl-\\ (the task tree in debug mode). */
export type HostSignal = "SIGINT" | "SIGQUIT";

interface DenoSignals {
  addSignalListener(signal: HostSignal, listener: () => void): void;
  removeSignalListener(signal: HostSignal, listener: () => void): void;
}

interface NodeSignals {
  on(event: HostSignal, listener: () => void): unknown;
  off(event: HostSignal, listener: () => void): unknown;
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
  return addSignalListener("SIGINT", listener);
}

/**
 * Calls `listener` when the process receives `signal`, as
 * {@linkcode addInterruptListener} does for SIGINT; `null` where the host
 * has no signal API or refuses this signal (Deno on Windows has no SIGQUIT).
 */
export function addSignalListener(
  signal: HostSignal,
  listener: () => void,
): RemoveListener | null {
  const deno = (globalThis as { Deno?: Partial<DenoSignals> }).Deno;
  if (
    typeof deno?.addSignalListener === "function" &&
    typeof deno.removeSignalListener === "function"
  ) {
    const signals = deno as DenoSignals;
    try {
      signals.addSignalListener(signal, listener);
    } catch {
      return null; // a host that has the API and refuses it (a worker, a sandbox)
    }
    return () => signals.removeSignalListener(signal, listener);
  }
  const process = (globalThis as { process?: Partial<NodeSignals> }).process;
  if (typeof process?.on === "function" && typeof process.off === "function") {
    const signals = process as NodeSignals;
    try {
      signals.on(signal, listener);
    } catch {
      return null;
    }
    return () => {
      signals.off(signal, listener);
    };
  }
  return null;
}
