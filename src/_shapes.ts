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
 * lock workload's second run, 1 with the shapes kept). Programs that call
 * `run()` again and again, such as edge functions that run one per request,
 * paid it each time.
 *
 * Classes that share nothing with others keep their shape when their module
 * loads ({@linkcode keepShape}). Future, its subclasses (Task, Block) and the
 * wait operations keep theirs when the program makes its first instance
 * ({@linkcode keepShapeOf}), not before: Future's field initializer runs for
 * every subclass, and a map it has not seen yet would make it slower for the
 * whole program (past four maps its inline caches go megamorphic: a third
 * slower on the lock workload). The instances hold no user data; those that
 * need a loop get one of their own that never runs.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";

const kept: unknown[] = [];
let loop: EventLoop | null = null;
let makeLoop: (() => EventLoop) | null = null;

/** Keeps `value` for the life of the module. */
export function keepShape(value: unknown): void {
  kept.push(value);
}

/** Keeps what `make` builds on the shapes' own loop; returns `true` (the caller's flag). */
export function keepShapeOf(make: (loop: EventLoop) => unknown): true {
  kept.push(make(shapeLoop()));
  return true;
}

/** The loop the shapes belong to: made once, never run (it keeps the loop's own shape too). */
export function shapeLoop(): EventLoop {
  if (loop === null) {
    loop = (makeLoop as () => EventLoop)();
    kept.push(loop);
  }
  return loop;
}

/** Lets event_loop.ts say how to make a loop (this module imports nothing at run time). */
export function setShapeLoopMaker(make: () => EventLoop): void {
  makeLoop = make;
}
