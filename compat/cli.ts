/**
 * Command-line entry of the portable suite, for Deno (run from source), Node
 * and Bun (run bundled): `<runtime> cli.mjs <baseUrl> [filter]`. Prints one
 * line `COMPAT_RESULT <json>` and lets the process end by itself, so a host
 * timer or handle the library leaked shows up as a process that does not exit.
 *
 * @module
 */

import { runOnHost } from "./_run_on_host.ts";

interface Host {
  process?: { argv: string[] };
  Deno?: { args: string[] };
}

const host = globalThis as Host;
// Node and Bun: argv = [runtime, script, ...args]; Deno: Deno.args = [...args].
const args = host.process?.argv?.slice(2) ?? host.Deno?.args ?? [];
const result = await runOnHost({ baseUrl: args[0], filter: args[1] });
console.log(`COMPAT_RESULT ${JSON.stringify(result)}`);
