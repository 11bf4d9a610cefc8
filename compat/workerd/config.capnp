# workerd config for the portable suite (see compat/run.ts). The driver copies
# this file next to the bundled worker.mjs and starts
#   workerd serve config.capnp --socket-addr http=127.0.0.1:<port> \
#     --external-addr driver=127.0.0.1:<driver port>
# then fetches http://127.0.0.1:<port>/run?base=... and reads the JSON results.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "suite", worker = .suiteWorker),
    # Every fetch() of the Worker goes to the driver's loopback server.
    (name = "driver", external = (address = "127.0.0.1:1", http = ())),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:1", http = (), service = "suite"),
  ],
);

const suiteWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
  ],
  # Pinned: the runtime behaviour the suite was checked against.
  compatibilityDate = "2026-11-01",
  # AsyncLocalStorage (node:async_hooks), so async-function tasks are cancelled at their await.
  compatibilityFlags = ["nodejs_als"],
  globalOutbound = "driver",
);
