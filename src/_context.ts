/**
 * Context variables' machinery: which context code runs in now, and the
 * {@linkcode Context} class. The public side is contextvars.ts. Private to
 * the package, except `Context`, which contextvars.ts re-exports.
 *
 * A context's variables are an immutable snapshot (a Map never changed
 * once made, so copying a context is taking its snapshot, as CPython's
 * HAMT makes `copy_context()` O(1)); `set()` makes the next snapshot.
 *
 * What code runs in is the *holder*: a {@linkcode Context} (entered by
 * `Context.run()`), a snapshot (a callback's, made into a `Context` only if
 * it calls `set()`), or a task (its own context, likewise made on first
 * use, so a task that never touches a variable costs no object). Outside
 * all of these, code of an async-function task after an `await` is in that
 * task's context where the host has an async context (see _host.ts), and
 * anything else is in the root context.
 *
 * @module
 */

import type { ContextVar } from "./contextvars.ts";
import { slotEntered, slotValue } from "./_host.ts";
import { checkFunction, describe } from "./_validate.ts";

/** A context's variables: never changed once made. */
export type VarMap = ReadonlyMap<ContextVar<unknown>, unknown>;

/** The variables of a context nothing has set anything in. */
export const EMPTY_VARS: VarMap = new Map();

/** What a task or a callback keeps: its own `Context`, or a snapshot to make one of. */
export type ContextRef = Context | VarMap;

/** What a task gives this module: read and replace its context (installed by task.ts). */
interface TaskContexts {
  /** The context of `value` if it is a task (started, not done), else undefined. */
  refOf(value: unknown): ContextRef | undefined;
  /** Gives a task its own `Context` (made of the snapshot it had). */
  adopt(task: object, context: Context): void;
}

/** Whether a value is a ContextVar (installed by contextvars.ts, which imports this module). */
let isVar: (value: unknown) => boolean = () => true;

/** Installs {@linkcode isVar}. */
export function installVarCheck(check: (value: unknown) => boolean): void {
  isVar = check;
}

/** Throws the TypeError of Context's methods for a key that is not a ContextVar. */
function checkVar(where: string, value: unknown): void {
  if (!isVar(value)) {
    throw new TypeError(`${where}: 'variable' must be a ContextVar, got ${describe(value)}`);
  }
}

let tasks: TaskContexts = { refOf: () => undefined, adopt: () => {} };

/** Installs the task side (from task.ts). */
export function installTaskContexts(x: TaskContexts): void {
  tasks = x;
}

/** A task, a Context or a snapshot; null outside them all. */
type Holder = object | null;
let holder: Holder = null;

/**
 * Makes `next` what code runs in, and returns what it replaces (give it
 * back with another call when done). `next` is a `Context`, a snapshot, or
 * a task whose context {@linkcode installTaskContexts} can read.
 */
export function swapHolder(next: Holder): Holder {
  const previous = holder;
  holder = next;
  return previous;
}

/** What code runs in now, as swapHolder set it (null outside). */
export function currentHolder(): Holder {
  return holder;
}

/** The variables of `ref` now: a copy of the context it stands for. */
export function snapshotOf(ref: ContextRef): VarMap {
  return ref instanceof Context ? varsOf(ref) : ref;
}

let varsOf: (context: Context) => VarMap;
let setVars: (context: Context, vars: VarMap) => void;

/** The holder of code outside every task step, `run()` and callback. */
function outside(): object {
  if (slotEntered) {
    const value = slotValue();
    if (tasks.refOf(value) !== undefined) return value as object;
  }
  return ROOT;
}

/** The variables of `h`. */
function read(h: object): VarMap {
  if (h instanceof Context) return varsOf(h);
  if (h instanceof Map) return h as VarMap;
  const ref = tasks.refOf(h) as ContextRef;
  return ref instanceof Context ? varsOf(ref) : ref;
}

/** The variables of the context code runs in now. */
export function currentVars(): VarMap {
  const h = holder;
  if (h === null && !slotEntered) return varsOf(ROOT); // the common case outside tasks
  return read(h ?? outside());
}

/** The `Context` code runs in now, made at once if it is still a snapshot. */
export function currentContext(): Context {
  const h = holder ?? outside();
  if (h instanceof Context) return h;
  if (h instanceof Map) {
    // A callback's snapshot: its own Context from now on, until it returns.
    const made = contextOf(h as VarMap);
    if (holder === h) holder = made;
    return made;
  }
  const ref = tasks.refOf(h) as ContextRef;
  if (ref instanceof Context) return ref;
  const made = contextOf(ref);
  tasks.adopt(h, made);
  return made;
}

/** Sets `variable` in the current context (made a Context if it was a snapshot); returns that context. */
export function assign(variable: ContextVar<unknown>, value: unknown): Context {
  const context = currentContext();
  const vars = varsOf(context);
  const next = new Map(vars);
  next.set(variable, value);
  setVars(context, next);
  return context;
}

/** Restores `variable` in `context` to `old`, or to no value. */
export function restore(
  context: Context,
  variable: ContextVar<unknown>,
  hadValue: boolean,
  old: unknown,
): void {
  const next = new Map(varsOf(context));
  if (hadValue) next.set(variable, old);
  else next.delete(variable);
  setVars(context, next);
}

/** A `Context` over `vars` (a snapshot: shared until one of them sets something). */
export function contextOf(vars: VarMap): Context {
  const context = new Context();
  if (vars.size > 0) setVars(context, vars);
  return context;
}

/**
 * A set of context variables and their values: what a task, or a callback
 * scheduled with `callSoon`/`callLater`/`callAt`, runs in. Every task
 * runs in a copy of the context current when it was created (or the one
 * given with `createTask(coro, { context })`), so a value set in a task is
 * seen by the tasks it creates and not by its parent.
 *
 * `new Context()` is empty; {@linkcode copyContext} copies the current one.
 * A context reads like a `ReadonlyMap` from variables to values.
 *
 * Equivalent to Python's `contextvars.Context`.
 *
 * @example Running code in a copy
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const user = new asyncio.ContextVar<string>("user", { default: "nobody" });
 * const context = asyncio.copyContext();
 * context.run(() => user.set("ada"));
 * assert.equal(context.get(user), "ada");
 * assert.equal(user.get(), "nobody"); // the current context is untouched
 * assert.equal(context.run(() => user.get()), "ada");
 * assert.deepEqual([...context.keys()].map((v) => v.name), ["user"]);
 * ```
 */
export class Context implements Iterable<ContextVar<unknown>> {
  #vars: VarMap = EMPTY_VARS;
  #entered = false;

  /**
   * Calls `fn(...args)` in this context: variables it sets are set here.
   *
   * @typeParam A The arguments' types.
   * @typeParam R The result type.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns What `fn` returns.
   * @throws {TypeError} If `fn` is not a function.
   * @throws {Error} If the context is already entered (by another `run()` now running).
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    checkFunction("Context.run()", "fn", fn);
    if (this.#entered) {
      throw new Error(
        "Context.run(): this context is already entered; run in a copy (context.copy()) instead",
      );
    }
    this.#entered = true;
    const previous = swapHolder(this);
    try {
      return fn(...args);
    } finally {
      holder = previous;
      this.#entered = false;
    }
  }

  /**
   * A new context with the same variables and values.
   *
   * @returns The copy.
   */
  copy(): Context {
    return contextOf(this.#vars);
  }

  /**
   * The value of `variable` in this context, else `fallback`.
   *
   * @typeParam T The variable's type.
   * @param variable The variable.
   * @param fallback What to return when it has no value here.
   * @returns Its value, or `fallback`.
   * @throws {TypeError} If `variable` is not a ContextVar.
   */
  get<T, D = undefined>(variable: ContextVar<T>, fallback?: D): T | D {
    checkVar("Context.get()", variable);
    const vars = this.#vars;
    return vars.has(variable) ? vars.get(variable) as T : fallback as D;
  }

  /**
   * Whether `variable` has a value in this context.
   *
   * @param variable The variable.
   * @returns `true` if it was set here (or in the context this one copies).
   * @throws {TypeError} If `variable` is not a ContextVar.
   */
  has(variable: ContextVar<unknown>): boolean {
    checkVar("Context.has()", variable);
    return this.#vars.has(variable);
  }

  /** How many variables have a value here. */
  get size(): number {
    return this.#vars.size;
  }

  /**
   * The variables with a value here.
   *
   * @returns An iterator over them.
   */
  keys(): IterableIterator<ContextVar<unknown>> {
    return this.#vars.keys();
  }

  /**
   * The values, in the order of {@linkcode Context.keys}.
   *
   * @returns An iterator over them.
   */
  values(): IterableIterator<unknown> {
    return this.#vars.values();
  }

  /**
   * The `[variable, value]` pairs (Python's `items()`).
   *
   * @returns An iterator over them.
   */
  entries(): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this.#vars.entries();
  }

  /**
   * The variables, as iterating a Python `Context` gives.
   *
   * @returns An iterator over them.
   */
  [Symbol.iterator](): IterableIterator<ContextVar<unknown>> {
    return this.#vars.keys();
  }

  /** A description like `<Context vars=2>`. */
  toString(): string {
    return `<Context vars=${this.#vars.size}>`;
  }

  static {
    varsOf = (context) => context.#vars;
    setVars = (context, vars) => {
      context.#vars = vars;
    };
  }
}

/** The context of code outside every task and callback (Python's main thread's). */
const ROOT: Context = new Context();
