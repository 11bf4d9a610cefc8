import assert from "node:assert/strict";
import { Deque } from "../src/_deque.ts";

/** A reference model: a plain array with the same operations. */
function check<T>(deque: Deque<T>, model: T[]): void {
  assert.equal(deque.length, model.length);
  assert.deepEqual(deque.toArray(), model);
  assert.deepEqual([...deque], model);
  assert.equal(deque.peekFirst(), model[0]);
  assert.equal(deque.peekLast(), model[model.length - 1]);
  for (let i = 0; i < model.length; i++) assert.equal(deque.at(i), model[i]);
  assert.equal(deque.at(-1), undefined);
  assert.equal(deque.at(model.length), undefined);
}

Deno.test("Deque: push/shift is FIFO, push/pop is LIFO, unshift prepends", () => {
  const d = new Deque<number>();
  check(d, []);
  assert.equal(d.shift(), undefined);
  assert.equal(d.pop(), undefined);
  for (let i = 0; i < 5; i++) d.push(i);
  check(d, [0, 1, 2, 3, 4]);
  assert.equal(d.shift(), 0);
  assert.equal(d.pop(), 4);
  d.unshift(-1);
  check(d, [-1, 1, 2, 3]);
  d.clear();
  check(d, []);
});

Deno.test("Deque: grows across the wrap-around point and keeps order", () => {
  const d = new Deque<number>();
  const model: number[] = [];
  // Move the head forward first so that growth happens with a wrapped buffer.
  for (let i = 0; i < 6; i++) d.push(i), model.push(i);
  for (let i = 0; i < 5; i++) assert.equal(d.shift(), model.shift());
  for (let i = 6; i < 100; i++) d.push(i), model.push(i);
  check(d, model);
  for (let i = 0; i < 40; i++) d.unshift(-i), model.unshift(-i);
  check(d, model);
});

Deno.test("Deque: remove() takes out the first identical element, from either side", () => {
  const d = new Deque<string>();
  const model = ["a", "b", "c", "d", "e", "f", "g", "b"];
  for (const x of model) d.push(x);
  assert.equal(d.remove("b"), true); // near the head
  model.splice(1, 1);
  check(d, model);
  assert.equal(d.remove("f"), true); // near the tail
  model.splice(model.indexOf("f"), 1);
  check(d, model);
  assert.equal(d.remove("z"), false);
  check(d, model);
  assert.equal(d.remove("a"), true);
  assert.equal(d.remove("b"), true);
  model.splice(0, 1);
  model.splice(model.indexOf("b"), 1);
  check(d, model);
});

Deno.test("Deque: random operations agree with an array model (wrapping, growing, shrinking)", () => {
  // A deterministic PRNG (mulberry32) so the test is reproducible.
  let seed = 12345;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const d = new Deque<number>();
  const model: number[] = [];
  let next = 0;
  for (let step = 0; step < 40_000; step++) {
    const r = random();
    // Phases: mostly growing, then mostly shrinking, so the buffer resizes both ways.
    const growing = Math.floor(step / 8000) % 2 === 0;
    if (r < (growing ? 0.45 : 0.2)) {
      d.push(next), model.push(next++);
    } else if (r < (growing ? 0.6 : 0.3)) {
      d.unshift(next), model.unshift(next++);
    } else if (r < 0.7) {
      assert.equal(d.shift(), model.shift());
    } else if (r < 0.85) {
      assert.equal(d.pop(), model.pop());
    } else if (model.length > 0) {
      const victim = model[Math.floor(random() * model.length)];
      assert.equal(d.remove(victim), true);
      model.splice(model.indexOf(victim), 1);
    }
    if (step % 500 === 0) check(d, model);
  }
  check(d, model);
  while (model.length > 0) assert.equal(d.shift(), model.shift());
  check(d, model);
});
