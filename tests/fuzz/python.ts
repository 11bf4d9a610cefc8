/**
 * Finding a suitable CPython and talking to `interp.py` running in it.
 *
 * Suitable means 3.12 or newer: `wait_for` as a timeout scope (3.12),
 * `asyncio.run(loop_factory=)` (3.12), `TaskGroup` and `timeout` (3.11).
 * `Queue.shutdown` steps need 3.13; with 3.12 the fuzzer leaves them out.
 * The newest suitable interpreter wins.
 *
 * @module
 */

/** A Python interpreter found on this machine. */
export interface Python {
  path: string;
  version: [number, number, number];
}

/** Where the fuzzer looked, for the one-line notice when nothing fits. */
export interface PythonSearch {
  found: Python | null;
  tried: string[];
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function versionOf(path: string): Promise<[number, number, number] | null> {
  try {
    const out = await new Deno.Command(path, {
      args: ["-c", "import sys; print('%d %d %d' % sys.version_info[:3])"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    if (!out.success) return null;
    const parts = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
    if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n))) return null;
    return parts as [number, number, number];
  } catch {
    return null;
  }
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Looks for CPython 3.12+: the pyenv versions under `$PYENV_ROOT` (or
 * `~/.pyenv`), then `python3.13`, `python3.12` and `python3` on `PATH`,
 * and returns the newest.
 */
export async function findPython(): Promise<PythonSearch> {
  const candidates: string[] = [];
  const home = env("HOME") ?? env("USERPROFILE");
  const roots = [env("PYENV_ROOT"), home === undefined ? undefined : `${home}/.pyenv`];
  for (const root of new Set(roots)) {
    if (root === undefined) continue;
    try {
      for (const entry of Deno.readDirSync(`${root}/versions`)) {
        if (/^3\.\d+/.test(entry.name)) {
          candidates.push(`${root}/versions/${entry.name}/bin/python3`);
        }
      }
    } catch {
      // No pyenv there.
    }
  }
  candidates.push("python3.13", "python3.12", "python3");
  let best: Python | null = null;
  const tried: string[] = [];
  for (const path of candidates) {
    const version = await versionOf(path);
    tried.push(version === null ? path : `${path} (${version.join(".")})`);
    if (version === null || compare(version, [3, 12, 0]) < 0) continue;
    if (best === null || compare(version, best.version) > 0) best = { path, version };
  }
  return { found: best, tried };
}

/** Splits a text stream into lines (what @std/streams' TextLineStream does). */
class LineStream extends TransformStream<string, string> {
  constructor() {
    let buffer = "";
    super({
      transform(chunk, controller) {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf("\n")) !== -1) {
          controller.enqueue(buffer.slice(0, at));
          buffer = buffer.slice(at + 1);
        }
      },
      flush(controller) {
        if (buffer !== "") controller.enqueue(buffer);
      },
    });
  }
}

/** The end of one answer of `interp.py --serve`. */
const END = "##END##";

/** `interp.py --serve` in a child process: one scenario in, one trace out. */
export class PythonWorker {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: ReadableStreamDefaultReader<string>;
  #encoder = new TextEncoder();

  /**
   * @param python The interpreter.
   * @param script The path of interp.py.
   */
  constructor(python: Python, script: string) {
    this.#child = new Deno.Command(python.path, {
      args: [script, "--serve"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new LineStream())
      .getReader();
  }

  /** Runs one scenario in CPython and returns its trace (or throws what interp.py reported). */
  async run(scenario: unknown): Promise<string[]> {
    await this.#writer.write(this.#encoder.encode(JSON.stringify(scenario) + "\n"));
    const trace: string[] = [];
    for (;;) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("interp.py exited");
      if (value === END) break;
      trace.push(value);
    }
    const error = trace.find((line) => line.startsWith("##ERROR##"));
    if (error !== undefined) throw new Error(`interp.py: ${error.slice(10)}`);
    return trace;
  }

  /** Ends the child process. */
  async close(): Promise<void> {
    await this.#writer.close();
    this.#lines.releaseLock();
    await this.#child.status;
  }
}
