/**
 * The compat driver's loopback HTTP server: what the suite's real-network
 * tests fetch, and where the browser page and its bundle are served from.
 * workerd reaches it as its `globalOutbound`; the other runtimes by URL.
 *
 * @module
 */

import { DIST } from "./_driver.ts";

/**
 * The loopback server the suite's network tests and the browser page use:
 * `/hello` answers at once; `/slow` sends its body after 10 s unless the
 * client aborts; `/browser.html` and `/browser.mjs` are the page and its bundle.
 */
export function startServer(): {
  server: Deno.HttpServer<Deno.NetAddr>;
  base: string;
  port: number;
} {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError() {
      return new Response("error", { status: 500 });
    },
  }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/hello") return new Response("hello");
    if (pathname === "/slow") {
      // Headers at once, the body after 10 s; a client that aborts cancels
      // the stream, which clears the timer.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setTimeout(() => {
            controller.enqueue(new TextEncoder().encode("slow"));
            controller.close();
          }, 10_000);
        },
        cancel() {
          clearTimeout(timer);
        },
      });
      return new Response(body);
    }
    if (pathname === "/browser.html" || pathname === "/browser.mjs") {
      const type = pathname.endsWith(".html") ? "text/html" : "text/javascript";
      return new Response(await Deno.readFile(`${DIST}${pathname}`), {
        headers: { "content-type": `${type}; charset=utf-8` },
      });
    }
    return new Response("not found", { status: 404 });
  });
  const port = server.addr.port;
  return { server, base: `http://127.0.0.1:${port}/`, port };
}
