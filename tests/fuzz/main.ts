/**
 * `deno task fuzz`: differential fuzzing against CPython and invariant
 * checks on random scenarios (see scenario.ts).
 *
 * ```sh
 * deno task fuzz                      # 500 scenarios, each half
 * deno task fuzz --runs 5000 --seed 42
 * deno task fuzz --replay tests/fuzz/failures/<file>.json
 * ```
 *
 * Options:
 *   --runs N            scenarios per half (default 500)
 *   --seed S            fast-check seed (default: from the clock; printed)
 *   --path P            with --seed: replay fast-check's path P (as printed on failure)
 *   --exclude a,b       step kinds never to generate (to fuzz around a known bug)
 *   --no-self-cancel    never let tasks cancel themselves or their ancestors (see scenario.ts)
 *   --no-cancel-messages  compare CancelledError messages as plain `Cancelled`
 *   --style S           generator (default) or async: every task an async function that passes
 *                       no signal anywhere, compared through projection() (see below)
 *   --exact             with --style async: compare the traces line for line instead
 *   --only invariants|differential   run one half
 *   --no-python         the invariant half only
 *   --python PATH       use this interpreter
 *   --keep-going        after a failure, go on with the next seed until N scenarios ran
 *   --replay FILE       run one scenario (or regression file) on both sides and compare
 *   --record NAME       with --replay: save it as tests/fuzz/regressions/NAME[.pending].json
 *   --note TEXT         with --record: what the regression is about
 *   --pending           run the pending regressions and say which now pass
 *   --quiet             no progress line
 *
 * @module
 */

import fc from "fast-check";
import {
  countKinds,
  type LanguageOptions,
  type Scenario,
  scenarioArbitrary,
  STEP_KINDS,
} from "./scenario.ts";
import { type RunResult, runScenario, type Style } from "./interp.ts";
import { firstDifference, sideBySide } from "./compare.ts";
import { findPython, type Python, PythonWorker } from "./python.ts";

const HERE = new URL(".", import.meta.url).pathname;
const INTERP_PY = `${HERE}interp.py`;
const FAILURES = `${HERE}failures`;
const REGRESSIONS = `${HERE}regressions`;

interface Args {
  runs: number;
  seed: number;
  path?: string;
  exclude: string[];
  selfCancel: boolean;
  cancelMessages: boolean;
  only?: "invariants" | "differential";
  noPython: boolean;
  python?: string;
  keepGoing: boolean;
  replay?: string;
  record?: string;
  note?: string;
  pending: boolean;
  quiet: boolean;
  style: Style;
  exact: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 500,
    seed: Date.now() % 2 ** 31,
    exclude: [],
    selfCancel: true,
    cancelMessages: true,
    noPython: false,
    keepGoing: false,
    pending: false,
    quiet: false,
    style: "generator",
    exact: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--runs":
        args.runs = Number(value());
        break;
      case "--seed":
        args.seed = Number(value());
        break;
      case "--path":
        args.path = value();
        break;
      case "--exclude":
        args.exclude = value().split(",").filter((k) => k !== "");
        for (const k of args.exclude) {
          if (!(STEP_KINDS as readonly string[]).includes(k)) {
            throw new Error(`--exclude: unknown step kind ${k}; kinds: ${STEP_KINDS.join(", ")}`);
          }
        }
        break;
      case "--self-cancel":
        args.selfCancel = true;
        break;
      case "--no-self-cancel":
        args.selfCancel = false;
        break;
      case "--cancel-messages":
        args.cancelMessages = true;
        break;
      case "--no-cancel-messages":
        args.cancelMessages = false;
        break;
      case "--only": {
        const v = value();
        if (v !== "invariants" && v !== "differential") throw new Error(`--only: ${v}?`);
        args.only = v;
        break;
      }
      case "--no-python":
        args.noPython = true;
        break;
      case "--python":
        args.python = value();
        break;
      case "--keep-going":
        args.keepGoing = true;
        break;
      case "--replay":
        args.replay = value();
        break;
      case "--record":
        args.record = value();
        break;
      case "--note":
        args.note = value();
        break;
      case "--pending":
        args.pending = true;
        break;
      case "--quiet":
        args.quiet = true;
        break;
      case "--exact":
        args.exact = true;
        break;
      case "--style": {
        const v = value();
        if (v !== "generator" && v !== "async") {
          throw new Error(`--style: generator or async, not ${v}`);
        }
        args.style = v;
        break;
      }
      default:
        throw new Error(`unknown option ${arg} (see the header of tests/fuzz/main.ts)`);
    }
  }
  if (!Number.isInteger(args.runs) || args.runs < 0) throw new Error("--runs: a count, please");
  if (!Number.isInteger(args.seed)) throw new Error("--seed: an integer, please");
  return args;
}

// ------------------------------------------------------------ known differences

/**
 * Both sides' traces as compared. There is no known difference left: cancel
 * messages are compared (`Cancelled(msg)`) unless `--no-cancel-messages`
 * turns each into `Cancelled`, and tasks may cancel themselves and their
 * ancestors unless `--no-self-cancel`. A difference found later gets a
 * pending regression file in regressions/ with its diagnosis.
 */
export function normalise(trace: string[], cancelMessages: boolean): string[] {
  return cancelMessages ? trace : trace.map(stripCancelMessages);
}

/** `Cancelled(msg)` becomes `Cancelled` (messages may hold parentheses: balance them). */
function stripCancelMessages(line: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const found = line.indexOf("Cancelled(", at);
    if (found === -1) return out + line.slice(at);
    out += line.slice(at, found) + "Cancelled";
    let depth = 0;
    let i = found + "Cancelled".length;
    for (; i < line.length; i++) {
      if (line[i] === "(") depth++;
      else if (line[i] === ")" && --depth === 0) break;
    }
    at = i + 1;
  }
}

/**
 * What an async-style trace is compared on. In an async function an `await`
 * of a finished future takes microtask turns that `yield*` does not, so
 * within one loop iteration the events of different tasks may come in
 * another order than CPython's; nothing else may differ. The projection
 * keeps exactly what that cannot change: each task's own events in order,
 * with their loop times (its outcome, `end => v` or `end !> error`, among
 * them), then the set of events at each loop time (sorted).
 *
 * One value is left out: what `cancel()` returned. An async function that
 * has returned is done only when its promise settles, a microtask later (no
 * JavaScript API reads a promise's state synchronously), so a cancel in
 * that gap returns true where Python's returns false; the cancelled task's
 * outcome is the same (its result stands), and that is compared.
 */
export function projection(trace: string[]): string[] {
  const byTask = new Map<string, string[]>();
  const byTime = new Map<string, string[]>();
  for (const raw of trace) {
    const line = raw.replace(/^(\S+ \S+ cancel \S+ \S+ => )(true|false)$/, "$1?");
    const [time, id] = line.split(" ", 2);
    const event = line.slice(time.length + id.length + 2);
    if (!byTask.has(id)) byTask.set(id, []);
    byTask.get(id)!.push(`${time} ${event}`);
    if (!byTime.has(time)) byTime.set(time, []);
    byTime.get(time)!.push(`${id} ${event}`);
  }
  const out: string[] = [];
  const ids = [...byTask.keys()].sort((a, b) =>
    (Number(a) || -1) - (Number(b) || -1) || (a < b ? -1 : 1)
  );
  for (const id of ids) for (const entry of byTask.get(id)!) out.push(`task ${id}: ${entry}`);
  const times = [...byTime.keys()].sort((a, b) => Number(a) - Number(b));
  for (const time of times) {
    for (const entry of byTime.get(time)!.sort()) out.push(`at ${time}: ${entry}`);
  }
  return out;
}

/** The trace as the chosen style compares it. */
function compared(trace: string[], args: Args): string[] {
  const lines = normalise(trace, args.cancelMessages);
  return args.style === "async" && !args.exact ? projection(lines) : lines;
}

// ------------------------------------------------------------ progress

/**
 * The progress line: rewritten in place on a terminal; elsewhere (CI logs)
 * a plain line at every quarter of a half.
 */
class Progress {
  #quiet: boolean;
  #tty = Deno.stdout.isTerminal();
  #last = 0;
  #shown = false;
  #quarter = 0;

  constructor(quiet: boolean) {
    this.#quiet = quiet;
  }

  update(text: string, done?: number, total?: number): void {
    if (this.#quiet) return;
    if (!this.#tty) {
      if (done === undefined || total === undefined || total === 0) return;
      const quarter = Math.floor((done / total) * 4);
      if (quarter > this.#quarter) {
        this.#quarter = quarter;
        console.log(text);
      }
      return;
    }
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#shown = true;
    Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[K${text}`));
  }

  done(): void {
    if (this.#shown) Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[K"));
    this.#shown = false;
    this.#quarter = 0;
  }
}

// ------------------------------------------------------------ the halves

/** Why a scenario fails the invariant half, or null. */
async function invariantFailure(scenario: Scenario, style: Style): Promise<string | null> {
  const first = await runScenario(scenario, { style });
  if (first.violations.length > 0) return first.violations.join("; ");
  const second = await runScenario(scenario, { style });
  const at = firstDifference(first.trace, second.trace);
  if (at !== -1) {
    return `not deterministic: line ${at + 1} was "${first.trace[at]}", then "${second.trace[at]}"`;
  }
  return null;
}

/**
 * A run() that never finished leaves its loop as the running one, so no
 * other run() can start in this process: the fuzzer stops at the first.
 */
let hung = false;

interface HalfResult {
  scenarios: number;
  failures: Failure[];
  /** How many steps of each kind the scenarios drew (shrinking's not counted). */
  kinds: Map<string, number>;
}

interface Failure {
  seed: number;
  path: string;
  scenario: Scenario;
  message: string;
}

/**
 * Runs one half: fast-check generates `runs` scenarios from `seed` and
 * shrinks the first failing one. With keepGoing, goes on with the next
 * seed until `runs` scenarios have run.
 */
async function runHalf(
  name: string,
  args: Args,
  language: LanguageOptions,
  check: (scenario: Scenario) => Promise<string | null>,
  progress: Progress,
): Promise<HalfResult> {
  const result: HalfResult = { scenarios: 0, failures: [], kinds: new Map() };
  let seed = args.seed;
  let left = args.runs;
  while (left > 0 && !hung) {
    let ran = 0;
    let shrinking = false;
    let shrinks = 0;
    const property = fc.asyncProperty(scenarioArbitrary(language), async (scenario) => {
      if (shrinking) shrinks++;
      else {
        ran++;
        countKinds(scenario, result.kinds);
      }
      if (shrinking) progress.update(`${name}: shrinking a failure (${shrinks} tries)`);
      else {
        const done = result.scenarios + ran;
        progress.update(`${name}: ${done}/${args.runs} scenarios`, done, args.runs);
      }
      if (hung) return; // nothing more can run in this process
      const failure = await check(scenario);
      if (failure?.includes("run() did not finish")) hung = true;
      if (failure !== null) {
        shrinking = true;
        throw new Error(failure);
      }
    });
    const details = await fc.check(property, {
      seed,
      numRuns: left,
      path: args.path,
      endOnFailure: false,
    });
    result.scenarios += ran;
    left -= ran;
    if (details.failed) {
      const scenario = (details.counterexample as [Scenario])[0];
      const message = details.errorInstance instanceof Error
        ? details.errorInstance.message
        : String(details.errorInstance);
      result.failures.push({ seed, path: details.counterexamplePath ?? "", scenario, message });
      if (!args.keepGoing) break;
    }
    if (args.path !== undefined) break;
    seed = (seed + 1) % 2 ** 31;
  }
  progress.done();
  return result;
}

async function saveFailure(kind: string, failure: Failure): Promise<string> {
  await Deno.mkdir(FAILURES, { recursive: true });
  const file = `${FAILURES}/${kind}-${failure.seed}-${failure.path.replaceAll(":", "_")}.json`;
  await Deno.writeTextFile(file, JSON.stringify(failure.scenario, null, 1) + "\n");
  return file;
}

function relative(file: string): string {
  const cwd = Deno.cwd() + "/";
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

/**
 * The summary's lines of step counts: every kind (those never drawn as 0,
 * unless excluded), then the variants countKinds() watches.
 */
function kindLines(kinds: Map<string, number>, exclude: readonly string[]): string[] {
  const counted: [string, number][] = STEP_KINDS.filter((k) => !exclude.includes(k)).map((k) => [
    k,
    kinds.get(k) ?? 0,
  ]);
  for (const [k, n] of [...kinds].sort()) if (k.includes("+")) counted.push([k, n]);
  const entries = counted.map(([k, n]) => `${k} ${n}`);
  // The rarest kind or variant, which --runs must lift to the count wanted.
  const [rarest, least] = counted.reduce((a, b) => (b[1] < a[1] ? b : a));
  const lines: string[] = [];
  for (let i = 0; i < entries.length; i += 8) lines.push(`  ${entries.slice(i, i + 8).join(", ")}`);
  lines.push(`  (least drawn: ${rarest} ${least})`);
  return lines;
}

// ------------------------------------------------------------ replay and regressions

/** A regression file: a scenario, CPython's trace, and (pending only) ours when recorded. */
export interface Regression {
  name: string;
  note: string;
  python: string;
  scenario: Scenario;
  expected: string[];
  actual?: string[];
  /** The coroutine style it was found in, when not generator tasks. */
  style?: Style;
}

async function replay(args: Args, python: Python | null): Promise<number> {
  const file = args.replay as string;
  const data = JSON.parse(await Deno.readTextFile(file));
  const scenario: Scenario = data.scenario ?? data;
  const ours: RunResult = await runScenario(scenario, { style: args.style });
  console.log(`scenario ${file}: ${ours.trace.length} trace lines, ${ours.tasks} tasks`);
  if (ours.violations.length > 0) {
    console.log(`invariant violations: ${ours.violations.join("; ")}`);
  }
  let expected: string[] | null = data.expected ?? null;
  let source = "the regression file";
  if (python !== null) {
    const worker = new PythonWorker(python, INTERP_PY);
    try {
      expected = await worker.run(scenario);
      source = `CPython ${python.version.join(".")}`;
    } finally {
      await worker.close();
    }
  }
  if (expected === null) {
    console.log(ours.trace.join("\n"));
    return ours.violations.length > 0 ? 1 : 0;
  }
  const same = firstDifference(expected, ours.trace) === -1;
  console.log(same ? `identical to ${source}` : `differs from ${source}:`);
  if (!same) console.log(sideBySide(expected, ours.trace));
  if (args.record !== undefined) {
    const pending = !same;
    const regression: Regression = {
      name: args.record,
      note: args.note ?? data.note ?? "",
      python: python === null ? (data.python ?? "") : python.version.join("."),
      scenario,
      expected,
      ...(pending ? { actual: ours.trace } : {}),
      ...(args.style === "async" ? { style: args.style } : {}),
    };
    const out = `${REGRESSIONS}/${args.record}${pending ? ".pending" : ""}.json`;
    await Deno.writeTextFile(out, JSON.stringify(regression, null, 1) + "\n");
    console.log(`recorded ${relative(out)}${pending ? " (pending: the traces differ)" : ""}`);
  }
  return same && ours.violations.length === 0 ? 0 : 1;
}

async function checkPending(python: Python | null): Promise<number> {
  let fixed = 0;
  for (const entry of [...Deno.readDirSync(REGRESSIONS)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (!entry.name.endsWith(".pending.json")) continue;
    const regression: Regression = JSON.parse(
      await Deno.readTextFile(`${REGRESSIONS}/${entry.name}`),
    );
    let expected = regression.expected;
    if (python !== null) {
      const worker = new PythonWorker(python, INTERP_PY);
      try {
        expected = await worker.run(regression.scenario);
      } finally {
        await worker.close();
      }
    }
    const ours = await runScenario(regression.scenario, { style: regression.style });
    const same = firstDifference(expected, ours.trace) === -1;
    if (same) fixed++;
    console.log(`${same ? "now passes" : "still differs"}: ${entry.name}`);
  }
  // Every fixed regression file must be in index.ts, or the suite never runs it.
  const { REGRESSIONS: listed } = await import("./regressions/index.ts");
  const names = new Set(listed.map((r: Regression) => r.name));
  for (const entry of Deno.readDirSync(REGRESSIONS)) {
    if (!entry.name.endsWith(".json") || entry.name.endsWith(".pending.json")) continue;
    const name = entry.name.slice(0, -".json".length);
    if (!names.has(name)) console.log(`not in regressions/index.ts (the suite skips it): ${name}`);
  }
  if (fixed > 0) {
    console.log(
      `${fixed} pending regression(s) now pass: rename them without ".pending" and add them to regressions/index.ts`,
    );
  }
  return 0;
}

// ------------------------------------------------------------ main

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  let python: Python | null = null;
  if (!args.noPython && args.only !== "invariants") {
    if (args.python !== undefined) {
      const search = await findPython();
      python = search.found?.path === args.python ? search.found : null;
      if (python === null) {
        // Trust the user's choice; its version decides the features.
        const out = await new Deno.Command(args.python, {
          args: ["-c", "import sys; print('%d %d %d' % sys.version_info[:3])"],
          stdout: "piped",
        }).output();
        const version = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
        python = { path: args.python, version: version as [number, number, number] };
      }
    } else {
      python = (await findPython()).found;
    }
  }
  if (args.replay !== undefined) return await replay(args, python);
  if (args.pending) return await checkPending(python);

  const exclude = [...args.exclude] as LanguageOptions["exclude"] & string[];
  if (python !== null && python.version[1] < 13 && !exclude.includes("shutdown")) {
    exclude.push("shutdown"); // Queue.shutdown is 3.13
  }
  const language: LanguageOptions = {
    exclude,
    selfCancel: args.selfCancel,
    eager: args.style !== "async",
  };
  const progress = new Progress(args.quiet);
  console.log(
    `fuzz: seed ${args.seed}, ${args.runs} scenarios per half, ${args.style} style` +
      (exclude.length > 0 ? `, without ${exclude.join(", ")}` : ""),
  );
  if (python === null && !args.noPython && args.only !== "invariants") {
    console.log(
      "fuzz: no CPython 3.12+ found (pyenv versions, python3.13, python3.12, python3): running the invariant half only",
    );
  }
  let failed = false;
  const summary: string[] = [];

  if (args.only !== "differential") {
    const half = await runHalf(
      "invariants",
      args,
      language,
      (scenario) => invariantFailure(scenario, args.style),
      progress,
    );
    summary.push(
      `invariants:   ${half.scenarios} scenarios, ${half.failures.length} violation(s); steps drawn:`,
      ...kindLines(half.kinds, exclude),
    );
    for (const failure of half.failures) {
      failed = true;
      const file = await saveFailure("invariants", failure);
      const ours = await runScenario(failure.scenario, { style: args.style });
      console.log(`\nINVARIANT VIOLATION (seed ${failure.seed}, path ${failure.path})`);
      console.log(failure.message);
      console.log(`scenario (shrunk): ${JSON.stringify(failure.scenario)}`);
      console.log(`trace:\n${ours.trace.map((l) => `  ${l}`).join("\n")}`);
      console.log(`replay: deno task fuzz --replay ${relative(file)}`);
      console.log(
        `    or: deno task fuzz --only invariants --seed ${failure.seed} --path ${failure.path}` +
          (args.style === "async" ? " --style async" : ""),
      );
    }
  }

  if (args.only !== "invariants" && python !== null && !hung) {
    console.log(`fuzz: CPython ${python.version.join(".")} at ${python.path}`);
    const worker = new PythonWorker(python, INTERP_PY);
    const traces = new Map<Scenario, [string[], string[]]>();
    try {
      const half = await runHalf("differential", args, language, async (scenario) => {
        const run = await runScenario(scenario, { style: args.style });
        const broken = run.violations.find((v) => v.startsWith("run() "));
        if (broken !== undefined) return broken;
        const ours = compared(run.trace, args);
        let theirs: string[];
        try {
          theirs = compared(await worker.run(scenario), args);
        } catch (error) {
          theirs = [`(CPython failed: ${(error as Error).message})`];
        }
        const at = firstDifference(theirs, ours);
        if (at === -1) return null;
        traces.set(scenario, [theirs, ours]);
        return `traces differ at line ${at + 1}: CPython "${theirs[at] ?? "(end)"}", ours "${
          ours[at] ?? "(end)"
        }"`;
      }, progress);
      summary.push(
        `differential: ${half.scenarios} scenarios, ${half.failures.length} mismatch(es); steps drawn:`,
        ...kindLines(half.kinds, exclude),
      );
      for (const failure of half.failures) {
        failed = true;
        const file = await saveFailure("differential", failure);
        const [theirs, ours] = traces.get(failure.scenario) ?? [
          compared(await worker.run(failure.scenario), args),
          compared((await runScenario(failure.scenario, { style: args.style })).trace, args),
        ];
        console.log(`\nMISMATCH WITH CPYTHON (seed ${failure.seed}, path ${failure.path})`);
        console.log(sideBySide(theirs, ours));
        const common = firstDifference(theirs, ours);
        if (common > 0) {
          // Who waits on what when the two last agreed: the task tree after that event.
          const again = await runScenario(failure.scenario, {
            style: args.style,
            treeWhen: (trace) => compared([...trace], args).length >= common,
          });
          if (again.tree !== null) {
            console.log(`tasks after the last common event (line ${common}):\n${again.tree}`);
          }
        }
        console.log(`scenario (shrunk): ${JSON.stringify(failure.scenario)}`);
        console.log(`replay: deno task fuzz --replay ${relative(file)}`);
        console.log(
          `    or: deno task fuzz --only differential --seed ${failure.seed} --path ${failure.path}` +
            (args.exclude.length > 0 ? ` --exclude ${args.exclude.join(",")}` : "") +
            (args.style === "async" ? " --style async" : ""),
        );
      }
    } finally {
      await worker.close();
    }
  }
  if (hung) summary.push("stopped early: a run() never finished (see above)");
  console.log(`\nfuzz summary (seed ${args.seed}):\n  ${summary.join("\n  ")}`);
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`fuzz: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
