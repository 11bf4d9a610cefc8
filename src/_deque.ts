/**
 * A double-ended queue on a growable ring buffer. Private to the package.
 *
 * `push`, `shift`, `pop` and `unshift` are O(1) amortized; `remove` of a
 * given element is O(n), like CPython's `deque.remove` (the wait lists use
 * it for cancelled waiters, which are almost always at the head). The
 * buffer's capacity is a power of two, so wrapping is a mask.
 *
 * @module
 */

import { keepShape } from "./_shapes.ts";

const MIN_CAPACITY = 8;
// Shrinking starts above this capacity only, so a bounded queue that fills and
// drains all the time (the common case) never reallocates.
const SHRINK_ABOVE = 1024;

/** A FIFO/LIFO list with O(1) operations at both ends. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #head = 0;
  #length = 0;

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.#length > this.#mask) this.#resize((this.#mask + 1) * 2);
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  /** Prepends at the head. */
  unshift(item: T): void {
    if (this.#length > this.#mask) this.#resize((this.#mask + 1) * 2);
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Removes and returns the head, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const items = this.#items;
    const head = this.#head;
    const item = items[head];
    items[head] = undefined; // let it be collected
    this.#head = (head + 1) & this.#mask;
    this.#length--;
    this.#maybeShrink();
    return item;
  }

  /** Removes and returns the tail, or `undefined` when empty. */
  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    const at = (this.#head + this.#length) & this.#mask;
    const item = this.#items[at];
    this.#items[at] = undefined;
    this.#maybeShrink();
    return item;
  }

  /** The head, or `undefined` when empty. */
  peekFirst(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The tail, or `undefined` when empty. */
  peekLast(): T | undefined {
    return this.#length === 0
      ? undefined
      : this.#items[(this.#head + this.#length - 1) & this.#mask];
  }

  /** The element at `index` from the head (0-based), or `undefined` when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & this.#mask];
  }

  /**
   * Removes the first element identical (`===`) to `item`, closing the gap
   * from whichever end is nearer. Returns whether it was found.
   */
  remove(item: T): boolean {
    const items = this.#items;
    const mask = this.#mask;
    const head = this.#head;
    const n = this.#length;
    let index = -1;
    for (let i = 0; i < n; i++) {
      if (items[(head + i) & mask] === item) {
        index = i;
        break;
      }
    }
    if (index < 0) return false;
    if (index < n - 1 - index) {
      // Nearer the head: move the elements before it one step towards the tail.
      for (let i = index; i > 0; i--) items[(head + i) & mask] = items[(head + i - 1) & mask];
      items[head] = undefined;
      this.#head = (head + 1) & mask;
    } else {
      for (let i = index; i < n - 1; i++) items[(head + i) & mask] = items[(head + i + 1) & mask];
      items[(head + n - 1) & mask] = undefined;
    }
    this.#length = n - 1;
    this.#maybeShrink();
    return true;
  }

  /** Removes every element. */
  clear(): void {
    this.#items = new Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
    this.#head = 0;
    this.#length = 0;
  }

  /** The elements from head to tail, as a new array. */
  toArray(): T[] {
    const out = new Array<T>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#items[(this.#head + i) & this.#mask] as T;
    return out;
  }

  /** Iterates from head to tail (a snapshot is not taken: do not mutate while iterating). */
  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & this.#mask] as T;
  }

  /** Halves a large buffer when it is at most a quarter full, so a burst does not pin memory. */
  #maybeShrink(): void {
    const capacity = this.#mask + 1;
    if (capacity > SHRINK_ABOVE && this.#length <= capacity >> 2) this.#resize(capacity >> 1);
  }

  #resize(capacity: number): void {
    const old = this.#items;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape(new Deque());
