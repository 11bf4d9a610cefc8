/**
 * Descriptions of arguments for the error messages of wait(), asCompleted()
 * and TaskGroup.createTask(). Private to the package.
 *
 * `describe()` from _validate.ts calls anything with a `then` "a promise"
 * (a Future too) and has no name for a generator object; these messages
 * need both told apart.
 *
 * @module
 */

import { Future } from "./future.ts";
import { describe, isGenerator } from "./_validate.ts";

/** Like `describe()`, with "a Future"/"a Task" and "a generator". */
export function describeArg(value: unknown): string {
  if (value instanceof Future) return `a ${value.constructor.name}`;
  if (isGenerator(value)) return "a generator";
  return describe(value);
}
