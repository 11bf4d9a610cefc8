/**
 * Argument checks shared by every public entry point. Private to the package.
 *
 * Messages follow one pattern: where the call failed, which argument, what
 * was expected and what was given, e.g.
 * `sleep(): 'ms' must be a number, got "5"`.
 *
 * @module
 */

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "function":
      return value.name ? `function ${value.name}` : "a function";
    case "symbol":
      return value.toString();
    case "bigint":
      return `${value}n`;
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return "an array";
      if (isGenerator(value)) return "a generator";
      if (
        typeof (value as { getLoop?: unknown }).getLoop === "function" &&
        typeof (value as { done?: unknown }).done === "function"
      ) {
        // A Future or a Task: their tag survives bundlers' renaming.
        return `a ${(value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? "Future"}`;
      }
      if (typeof (value as PromiseLike<unknown>).then === "function") return "a promise";
      return value.constructor && value.constructor !== Object
        ? `a ${value.constructor.name}`
        : "an object";
    default:
      return String(value);
  }
}

/** Throws a TypeError unless `value` is a function. */
export function checkFunction(where: string, arg: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new TypeError(`${where}: '${arg}' must be a function, got ${describe(value)}`);
  }
}

/**
 * Checks a duration or deadline in milliseconds: a number that is not NaN.
 * Infinity is allowed (it never fires); negative values are allowed and
 * mean "now" (callers clamp).
 */
export function checkTime(where: string, arg: string, value: unknown): void {
  if (typeof value !== "number") {
    throw new TypeError(`${where}: '${arg}' must be a number, got ${describe(value)}`);
  }
  if (value !== value) {
    throw new RangeError(`${where}: '${arg}' must not be NaN`);
  }
}

/** Throws a TypeError unless `value` is undefined or an object (an options bag). */
export function checkOptions(where: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(`${where}: 'options' must be an object, got ${describe(value)}`);
  }
}

/** Throws a TypeError unless `value` is undefined or an AbortSignal. */
export function checkSignal(where: string, value: unknown): void {
  if (
    value !== undefined &&
    (value === null || typeof value !== "object" ||
      typeof (value as AbortSignal).addEventListener !== "function" ||
      typeof (value as AbortSignal).aborted !== "boolean")
  ) {
    throw new TypeError(`${where}: 'signal' must be an AbortSignal, got ${describe(value)}`);
  }
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as new () => unknown;

/** Whether `fn` is a generator function (`function*`, also when bound). */
export function isGeneratorFunction(fn: unknown): boolean {
  return fn instanceof GeneratorFunction;
}

/** The prototype every native generator object inherits from. */
export const GeneratorPrototype: Generator = Object.getPrototypeOf(function* () {}).prototype;
const isPrototypeOf = Object.prototype.isPrototypeOf;

/** Whether `value` is a native generator object. */
export function isNativeGenerator(value: unknown): boolean {
  return value !== null && typeof value === "object" &&
    isPrototypeOf.call(GeneratorPrototype, value);
}

/** Whether `value` is a generator object (native, or a look-alike with `next` and `throw`). */
export function isGenerator(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  // Native generators first, by prototype: each generator function has its own
  // prototype object, so a property lookup on `next` would go megamorphic.
  if (isPrototypeOf.call(GeneratorPrototype, value)) return true;
  return typeof (value as Generator).next === "function" &&
    typeof (value as Generator).throw === "function" &&
    // A Future iterates itself for `yield*` but is not a coroutine.
    typeof (value as { getLoop?: unknown }).getLoop !== "function";
}
