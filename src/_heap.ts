/**
 * A binary min-heap over a plain array. Private to the package.
 *
 * `push` and `pop` are O(log n), `peek` is O(1), `retain` rebuilds the heap
 * in O(n) after dropping the items a predicate rejects (used for lazy deletion
 * of cancelled timers).
 *
 * @module
 */

/** Orders two items: `true` when `a` must come out before `b`. */
export type Less<T> = (a: T, b: T) => boolean;

/** A binary min-heap ordered by a `less` function. */
export class Heap<T> {
  #items: T[] = [];
  #less: Less<T>;

  constructor(less: Less<T>) {
    this.#less = less;
  }

  /** Number of items in the heap. */
  get size(): number {
    return this.#items.length;
  }

  /** The smallest item, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.#items;
    const less = this.#less;
    let i = items.length;
    items.push(item);
    // Sift up: move the hole towards the root instead of swapping pairs.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (!less(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the smallest item, or `undefined` when empty. */
  pop(): T | undefined {
    const items = this.#items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (n > 1) this.#siftDown(0, last);
    return top;
  }

  /** Keeps only the items `keep` accepts and restores the heap order in O(n). */
  retain(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items = kept;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.#siftDown(i, kept[i]);
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
  }

  /** The items in heap (not sorted) order; for inspection only. */
  toArray(): T[] {
    return this.#items.slice();
  }

  #siftDown(start: number, item: T): void {
    const items = this.#items;
    const less = this.#less;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && less(items[right], items[child])) child = right;
      const c = items[child];
      if (!less(c, item)) break;
      items[i] = c;
      i = child;
    }
    items[i] = item;
  }
}
