/**
 * Comparing two traces and showing where they part.
 *
 * @module
 */

/** The index of the first line where the traces differ, or -1 if they are identical. */
export function firstDifference(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * The two traces side by side from a few lines before their first
 * difference (`>>` marks lines that differ), CPython on the left.
 */
export function sideBySide(
  python: readonly string[],
  ours: readonly string[],
  options: { context?: number; max?: number } = {},
): string {
  const first = firstDifference(python, ours);
  if (first === -1) return "(the traces are identical)";
  const from = Math.max(0, first - (options.context ?? 4));
  const to = Math.min(Math.max(python.length, ours.length), first + (options.max ?? 30));
  let width = "CPython".length;
  for (let i = from; i < to; i++) width = Math.max(width, (python[i] ?? "").length);
  const lines = [`   ${"CPython".padEnd(width)} | @aio/asyncio`];
  lines.push(`   ${"-".repeat(width)}-+-${"-".repeat(12)}`);
  if (from > 0) lines.push(`   ... ${from} identical line(s) before`);
  for (let i = from; i < to; i++) {
    const a = python[i] ?? "";
    const b = ours[i] ?? "";
    lines.push(`${a === b ? "  " : ">>"} ${a.padEnd(width)} | ${b}`);
  }
  const rest = Math.max(python.length, ours.length) - to;
  if (rest > 0) lines.push(`   ... ${rest} more line(s)`);
  return lines.join("\n");
}
