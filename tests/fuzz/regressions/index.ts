/**
 * The fixed regression scenarios that `tests/fuzz_test.ts` runs (the suite
 * has no read permission, so they are imported, not listed from the
 * directory). `*.pending.json` files are not here: they record differences
 * not fixed yet; `deno task fuzz --pending` says when they start to pass,
 * and then they move here without the `.pending`.
 *
 * @module
 */

import type { Regression } from "../main.ts";
import asCompletedDoneInput from "./as-completed-done-input-next-iterations.json" with {
  type: "json",
};
import boundedReleaseInFlight from "./bounded-release-while-permit-in-flight.json" with {
  type: "json",
};
import cancelDoneFailedTask from "./cancel-done-failed-task.json" with { type: "json" };
import cancelMessageOnce from "./cancel-message-once.json" with { type: "json" };
import gatherCancelMessage from "./gather-cancel-message.json" with { type: "json" };
import gatherCancelMessageAsync from "./gather-cancel-message-async.json" with { type: "json" };
import gatherCancelledChildMessage from "./gather-cancelled-child-message.json" with {
  type: "json",
};
import mixed1 from "./mixed-1.json" with { type: "json" };
import mixed2 from "./mixed-2.json" with { type: "json" };
import mixed3 from "./mixed-3.json" with { type: "json" };
import selfCancelBlock from "./self-cancel-block.json" with { type: "json" };
import selfCancelTimeout from "./self-cancel-timeout.json" with { type: "json" };
import shieldCancelMessage from "./shield-cancel-message.json" with { type: "json" };
import waitforInnerSwallowsCancel from "./waitfor-inner-swallows-cancel.json" with {
  type: "json",
};
import waiterCancelKeepsFailure from "./waiter-cancel-keeps-failure.json" with { type: "json" };
import waitCancelAfterTrigger from "./wait-cancel-after-trigger.json" with { type: "json" };
import waitDoneInput from "./wait-done-input-next-iterations.json" with { type: "json" };
import waitFirstExceptionRetrieves from "./wait-first-exception-retrieves.json" with {
  type: "json",
};
import watchdogRounds from "./watchdog-rounds.json" with { type: "json" };

/** Every fixed regression, each with the trace CPython printed for it. */
export const REGRESSIONS: Regression[] = [
  asCompletedDoneInput,
  boundedReleaseInFlight,
  cancelDoneFailedTask,
  cancelMessageOnce,
  gatherCancelMessage,
  gatherCancelMessageAsync,
  gatherCancelledChildMessage,
  mixed1,
  mixed2,
  mixed3,
  selfCancelBlock,
  selfCancelTimeout,
  shieldCancelMessage,
  waiterCancelKeepsFailure,
  waitforInnerSwallowsCancel,
  waitCancelAfterTrigger,
  waitDoneInput,
  waitFirstExceptionRetrieves,
  watchdogRounds,
] as Regression[];
