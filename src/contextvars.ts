/**
 * Context variables, as Python's `contextvars` with asyncio: a value that
 * follows the flow of a program through tasks and callbacks (a request id,
 * a logger, a tracing span) without being passed along.
 *
 * @module
 */

import {
  assign,
  Context,
  contextOf,
  currentContext,
  currentVars,
  installVarCheck,
  restore,
} from "./_context.ts";
import { InvalidStateError } from "./errors.ts";
import { checkOptions, describe } from "./_validate.ts";

export { Context };

/** Options for {@linkcode ContextVar}. */
export interface ContextVarOptions<T> {
  /** The value `get()` returns where the variable has none. */
  default?: T;
}

/**
 * A context variable: its value is looked up in the context code runs in,
 * so each task (which runs in a copy of the context it was created in)
 * sees what was set before it was created, and what it sets itself, but
 * not what other tasks set.
 *
 * Exact in generator tasks and callbacks on every runtime. In an
 * async-function task it holds across `await` wherever the host has an
 * async context (see the README's "Runs on"); elsewhere until the task's
 * first `await` (after it, code is in the root context).
 *
 * Equivalent to Python's `contextvars.ContextVar`.
 *
 * @typeParam T The value's type.
 *
 * @example A request id that every task of a request sees
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const requestId = new asyncio.ContextVar<string>("requestId", { default: "-" });
 * const log: string[] = [];
 * function* handle(id: string) {
 *   requestId.set(id);
 *   yield* asyncio.gather([function* () {
 *     yield* asyncio.sleep(1);
 *     log.push(`${requestId.get()}: child done`);
 *   }]);
 * }
 * await asyncio.run(function* () {
 *   yield* asyncio.gather([() => handle("r1"), () => handle("r2")]);
 *   log.push(`main sees ${requestId.get()}`);
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.deepEqual(log, ["r1: child done", "r2: child done", "main sees -"]);
 * ```
 */
export class ContextVar<T> {
  readonly #name: string;
  readonly #hasDefault: boolean;
  readonly #default: T | undefined;

  /**
   * Makes a variable.
   *
   * @param name Its name, for messages and `toString()`.
   * @param options Its default value.
   * @throws {TypeError} If `name` is not a string or `options` is not an object.
   */
  constructor(name: string, options?: ContextVarOptions<T>) {
    if (typeof name !== "string") {
      throw new TypeError(`new ContextVar(): 'name' must be a string, got ${describe(name)}`);
    }
    if (options !== undefined) checkOptions("new ContextVar()", options);
    this.#name = name;
    this.#hasDefault = options !== undefined && "default" in options;
    this.#default = options?.default;
  }

  /** The variable's name. */
  get name(): string {
    return this.#name;
  }

  /**
   * The value in the current context; else `fallback` if given; else the
   * variable's default.
   *
   * @param fallback What to return when the variable has no value here (overrides the default).
   * @returns The value.
   * @throws {LookupError} If there is no value, no `fallback` and no default.
   */
  get(fallback?: T): T {
    const vars = currentVars();
    if (vars.has(this as ContextVar<unknown>)) return vars.get(this as ContextVar<unknown>) as T;
    if (arguments.length > 0) return fallback as T;
    if (this.#hasDefault) return this.#default as T;
    throw new LookupError(
      `ContextVar.get(): ${this} has no value in this context and no default`,
    );
  }

  /**
   * Sets the value in the current context; the returned token undoes it
   * (with {@linkcode ContextVar.reset}, or `using _ = v.set(x)`, which
   * resets at the end of the block as Python 3.14's `with v.set(x):`).
   *
   * @param value The new value.
   * @returns A token for {@linkcode ContextVar.reset}.
   */
  set(value: T): Token<T> {
    const self = this as ContextVar<unknown>;
    const vars = currentVars();
    const old = vars.has(self) ? vars.get(self) as T : Token.MISSING;
    const context = assign(self, value);
    return new Token(TOKEN_KEY, context, this, old);
  }

  /**
   * Restores the value the variable had before the `set()` that made
   * `token`, in the context that `set()` was made in.
   *
   * @param token What `set()` returned.
   * @throws {TypeError} If `token` is not a Token of this variable.
   * @throws {InvalidStateError} If the token was already used.
   * @throws {Error} If the current context is not the one the token was made in.
   */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) {
      throw new TypeError(`ContextVar.reset(): 'token' must be a Token, got ${describe(token)}`);
    }
    if (token.var !== this) {
      throw new TypeError(
        `ContextVar.reset(): 'token' was made by another variable (${token.var})`,
      );
    }
    useToken(token, this as ContextVar<unknown>);
  }

  /** A description like `<ContextVar name='user' default='nobody'>`, as Python's repr. */
  toString(): string {
    const fallback = this.#hasDefault ? ` default=${describe(this.#default)}` : "";
    return `<ContextVar name=${JSON.stringify(this.#name)}${fallback}>`;
  }
}

/**
 * The error of {@linkcode ContextVar.get} for a variable with no value
 * and no default.
 *
 * Equivalent to Python's `LookupError` as `ContextVar.get()` raises it.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const unset = new asyncio.ContextVar<number>("unset");
 * assert.throws(() => unset.get(), asyncio.LookupError);
 * assert.equal(unset.get(7), 7);
 * ```
 */
export class LookupError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was looked up.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LookupError";
  }
}

installVarCheck((value) => value instanceof ContextVar);

const TOKEN_KEY = Symbol("Token");
let useToken: (token: Token<unknown>, variable: ContextVar<unknown>) => void;

/**
 * What {@linkcode ContextVar.set} returns: undoes that `set()` once, with
 * {@linkcode ContextVar.reset} or at the end of a `using` block.
 *
 * Equivalent to Python's `contextvars.Token` (a context manager since 3.14).
 *
 * @typeParam T The variable's type.
 *
 * @example A value for the length of a block
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const level = new asyncio.ContextVar<number>("level", { default: 0 });
 * {
 *   using token = level.set(1);
 *   assert.equal(level.get(), 1);
 *   assert.equal(token.oldValue, asyncio.Token.MISSING);
 * }
 * assert.equal(level.get(), 0);
 * ```
 */
export class Token<T> {
  /** `oldValue` of a token whose variable had no value before (Python's `Token.MISSING`). */
  static readonly MISSING: unique symbol = Symbol("Token.MISSING");

  readonly #context: Context;
  readonly #var: ContextVar<T>;
  readonly #old: T | typeof Token.MISSING;
  #used = false;

  /**
   * Tokens are made by {@linkcode ContextVar.set}.
   *
   * @param key The package's key: a token cannot be made directly.
   * @param context The context the value was set in.
   * @param variable The variable.
   * @param old Its value before, or `Token.MISSING`.
   * @throws {TypeError} If called directly.
   */
  constructor(
    key: symbol,
    context: Context,
    variable: ContextVar<T>,
    old: T | typeof Token.MISSING,
  ) {
    if (key !== TOKEN_KEY) {
      throw new TypeError(
        "new Token(): 'key' is the package's own; tokens are made by ContextVar.set()",
      );
    }
    this.#context = context;
    this.#var = variable;
    this.#old = old;
  }

  /** The variable whose `set()` made this token. */
  get var(): ContextVar<T> {
    return this.#var;
  }

  /** The variable's value before that `set()`, or {@linkcode Token.MISSING}. */
  get oldValue(): T | typeof Token.MISSING {
    return this.#old;
  }

  /** Resets the variable (`using token = v.set(x)`); nothing if already reset. */
  [Symbol.dispose](): void {
    if (!this.#used) this.#var.reset(this);
  }

  static {
    useToken = (token, variable) => {
      if (token.#used) {
        throw new InvalidStateError(
          `ContextVar.reset(): this token of ${variable} was already used`,
        );
      }
      if (currentContext() !== token.#context) {
        throw new Error(
          `ContextVar.reset(): the token of ${variable} was made in another context; reset it where set() was called`,
        );
      }
      token.#used = true;
      const old = token.#old;
      restore(token.#context, variable, old !== Token.MISSING, old);
    };
  }
}

/**
 * A copy of the current context: the one of the running task or
 * callback, or the root context outside them.
 *
 * Equivalent to Python's `contextvars.copy_context()`.
 *
 * @returns The copy.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const tag = new asyncio.ContextVar<string>("tag", { default: "none" });
 * const token = tag.set("outer");
 * const copy = asyncio.copyContext();
 * tag.reset(token);
 * assert.equal(copy.get(tag), "outer");
 * assert.equal(tag.get(), "none");
 * ```
 */
export function copyContext(): Context {
  return contextOf(currentVars());
}
