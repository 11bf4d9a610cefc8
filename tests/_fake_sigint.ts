/**
 * A stand-in for the host's SIGINT API inside one test: src/_host.ts looks
 * `Deno.addSignalListener` up at each call, so replacing it for the length
 * of a test lets the test deliver "Ctrl-C" at a chosen moment, with no real
 * signal and no permission. tests/host/ sends real ones to a child process.
 *
 * @module
 */

import assert from "node:assert/strict";

/** What a test sees of the fake: the listeners the library added, and a SIGINT to send. */
export interface FakeSigint {
  /** How many SIGINT listeners are installed now. */
  readonly listeners: number;
  /** Delivers one SIGINT to every listener installed now, as the host would. */
  send(): void;
}

type SignalApi = (signal: string, listener: () => void) => void;

interface DenoSignals {
  addSignalListener: SignalApi;
  removeSignalListener: SignalApi;
}

/**
 * Runs `use` with Deno's signal API replaced by a fake; restores it after,
 * and checks that nothing was left listening.
 *
 * @param use The test body.
 * @param options `refuse`: adding a listener throws, as on a host without signals.
 * @returns What `use` returns.
 */
export async function withFakeSigint<T>(
  use: (sigint: FakeSigint) => T | Promise<T>,
  options: { refuse?: boolean } = {},
): Promise<T> {
  const deno = Deno as unknown as DenoSignals;
  const { addSignalListener, removeSignalListener } = deno;
  const installed = new Set<() => void>();
  deno.addSignalListener = (signal, listener) => {
    assert.equal(signal, "SIGINT");
    if (options.refuse) throw new TypeError("signals are not supported here");
    installed.add(listener);
  };
  deno.removeSignalListener = (signal, listener) => {
    assert.equal(signal, "SIGINT");
    installed.delete(listener);
  };
  try {
    const result = await use({
      get listeners() {
        return installed.size;
      },
      send() {
        for (const listener of [...installed]) listener();
      },
    });
    assert.equal(installed.size, 0, "a SIGINT listener was left installed");
    return result;
  } finally {
    deno.addSignalListener = addSignalListener;
    deno.removeSignalListener = removeSignalListener;
  }
}
