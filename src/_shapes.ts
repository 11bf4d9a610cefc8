/**
 * One inert instance of each class the package makes by the thousand, kept
 * for the life of the module.
 *
 * Why: V8 keeps the map (hidden class) of a class's instances alive only
 * while some instance has it, since the transitions that lead to it from the
 * class's initial map are weak. When `run()` ends and a full GC finds no
 * task, future, handle or waiter left, those maps die, and V8 throws away
 * every optimized function that embedded them ("embedded weak objects
 * cleared"): the next `run()` starts in the interpreter and pays for the
 * whole tier-up again (63 such deoptimizations measured at the start of the
 * lock workload's second run). Programs that call `run()` again and again,
 * such as edge functions that run one per request, pay it each time.
 *
 * Each module registers a maker for its classes; the makers run once, when
 * the first event loop is made, on a loop of their own that never runs. The
 * instances hold no user data.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";

type Maker = (loop: EventLoop) => unknown;

const makers: Maker[] = [];
const kept: unknown[] = [];
let shapeLoop: EventLoop | null = null;

/** Registers `make`, which builds inert instances on the given loop (at once if the loop exists). */
export function keepShape(make: Maker): void {
  if (shapeLoop !== null) kept.push(make(shapeLoop));
  else makers.push(make);
}

/** Whether the shapes are kept (the event loop checks this before making its first loop). */
export function shapesKept(): boolean {
  return shapeLoop !== null;
}

/** Runs the registered makers on `loop`, a loop that is never run. */
export function keepShapes(loop: EventLoop): void {
  shapeLoop = loop;
  kept.push(loop);
  for (const make of makers) kept.push(make(loop));
  makers.length = 0;
}
