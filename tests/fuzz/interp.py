"""The Python interpreter of the fuzzer's scenario language (standard library only).

Runs a scenario (see tests/fuzz/scenario.ts) on CPython's asyncio, on an event
loop whose clock is virtual, and prints its trace: one line per event,
"<loop time in ms> <task id> <event>". tests/fuzz/interp.ts runs the same
scenario on @aio/asyncio; the two traces must be identical.

Usage:
    python3 interp.py SCENARIO.json     print the trace of one scenario
    python3 interp.py --serve           read one scenario (JSON) per line on
                                        stdin, answer each with its trace and
                                        a line "##END##"

Needs Python 3.12+ (wait_for as a timeout scope, asyncio.run(loop_factory=)).
Queue.shutdown steps need 3.13.

waitFor, timeout and taskGroup run inline here (`await wait_for(...)`,
`async with timeout(...)`, `async with TaskGroup()`), and so they do in
@aio/asyncio, whose blocks run inside the task that waits on them; handOver
gives the same coroutine to gather() or create_task() instead.

Normalisation (a CPython detail no program may rely on): a TaskGroup keeps its
tasks in an insertion-ordered set. CPython's is a plain set, iterated in
address order when the group cancels them; insertion order is one of the
orders CPython may produce, and the one @aio/asyncio uses. as_completed() also
keeps its inputs in a set (the order of the done callbacks of inputs already
done): OrderedAsCompleted is CPython's iterator on an insertion-ordered set.
"""

import asyncio
import json
import selectors
import sys
import warnings

# A handed-over block cancelled before its task started never awaits its
# inner coroutine; Python warns, @aio/asyncio just never starts it.
warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)

END = "##END##"
WATCHDOG_ROUNDS = 10

QueueShutDown = getattr(asyncio, "QueueShutDown", None)


class Deadlock(Exception):
    """Nothing is ready and no timer is armed: the program can never go on."""


class _VirtualSelector(selectors.SelectSelector):
    """A selector that never waits: it moves the loop's clock to the next deadline."""

    def __init__(self):
        super().__init__()
        self.loop = None

    def select(self, timeout=None):
        if timeout is None:
            raise Deadlock("no callback ready and no timer armed")
        if timeout > 0:
            # _run_once dropped cancelled timers from the head and computed
            # timeout = head._when - time(); jump exactly there (no float drift).
            self.loop._now = self.loop._scheduled[0]._when
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time: time() is a number that only select() moves."""

    def __init__(self):
        selector = _VirtualSelector()
        self._now = 0
        super().__init__(selector)
        selector.loop = self
        # _run_once collects timers with when < time() + resolution. The
        # default (1e-9) vanishes in a float once times pass 2**23 ms, and a
        # due timer would never be collected. Deadlines here are integers.
        self._clock_resolution = 0.5

    def time(self):
        return self._now


class _OrderedSet:
    """The subset of set that TaskGroup uses, iterated in insertion order."""

    def __init__(self):
        self._items = {}

    def add(self, item):
        self._items[item] = None

    def discard(self, item):
        self._items.pop(item, None)

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def __bool__(self):
        return bool(self._items)


class OrderedTaskGroup(asyncio.TaskGroup):
    def __init__(self):
        super().__init__()
        self._tasks = _OrderedSet()


class _OrderedTodo(_OrderedSet):
    """The subset of set that _AsCompletedIterator uses on its todo set."""

    def remove(self, item):
        del self._items[item]

    def clear(self):
        self._items.clear()


class OrderedAsCompleted(asyncio.tasks._AsCompletedIterator):
    """CPython 3.13's as_completed iterator, its inputs kept in the order given.

    CPython registers the done callbacks in set order (addresses); with two
    inputs already done, that order is the order they are delivered in.
    """

    def __init__(self, aws, timeout):
        self._done = asyncio.Queue()
        self._timeout_handle = None
        loop = asyncio.get_event_loop()
        todo = _OrderedTodo()
        for aw in dict.fromkeys(aws):
            todo.add(asyncio.ensure_future(aw, loop=loop))
        for f in todo:
            f.add_done_callback(self._handle_completion)
        if todo and timeout is not None:
            self._timeout_handle = loop.call_later(timeout, self._handle_timeout)
        self._todo = todo
        self._todo_left = len(todo)


class Err(Exception):
    def __init__(self, n):
        super().__init__(f"E{n}")
        self.n = n


class Ret:
    """A `return` travelling out of the blocks that contain it."""

    def __init__(self, value):
        self.ret = value


def fmt_err(e):
    if isinstance(e, asyncio.CancelledError):
        message = str(e)
        return f"Cancelled({message})" if message else "Cancelled"
    if isinstance(e, TimeoutError):
        return "Timeout"
    if isinstance(e, BaseExceptionGroup):
        return "EG[" + ",".join(fmt_err(x) for x in e.exceptions) + "]"
    if isinstance(e, Err):
        return f"E{e.n}"
    if QueueShutDown is not None and isinstance(e, QueueShutDown):
        return "QueueShutDown"
    if isinstance(e, asyncio.QueueEmpty):
        return "QueueEmpty"
    if isinstance(e, asyncio.QueueFull):
        return "QueueFull"
    if isinstance(e, asyncio.InvalidStateError):
        return "InvalidState"
    if isinstance(e, asyncio.BrokenBarrierError):
        return "BrokenBarrier"
    if type(e) is RuntimeError:
        return "RuntimeError"
    return f"Other({type(e).__name__}: {e})"


def fmt_val(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, list):
        return "[" + ",".join(fmt_val(x) for x in v) + "]"
    if isinstance(v, BaseException):
        return fmt_err(v)
    if isinstance(v, Ret):
        return f"ret({v.ret})"
    return "obj"


def fmt_ms(ms):
    return "None" if ms is None else str(ms)


def fmt_time(t):
    if isinstance(t, float) and t.is_integer():
        t = int(t)
    return str(t)


def catches(kind, e):
    if kind == "any":
        return True
    cancelled = isinstance(e, asyncio.CancelledError)
    return cancelled if kind == "cancelled" else not cancelled


def describe_operand(operand):
    return str(operand["id"]) if "id" in operand else f"new {operand['task']['id']}"


class Frame:
    def __init__(self, id):
        self.id = id
        self.scopes = []
        self.groups = []


class Interpreter:
    def __init__(self, scenario):
        self.scenario = scenario
        self.trace = []
        self.tasks = {}
        self.loop = None

    def log(self, id, text):
        self.trace.append(f"{fmt_time(self.loop.time())} {id} {text}")

    # -------------------------------------------------------------- program

    async def main(self):
        self.loop = loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, _context: None)
        sc = self.scenario
        self.locks = [asyncio.Lock() for _ in range(sc["locks"])]
        self.semaphores = [
            asyncio.BoundedSemaphore(s["value"]) if s["bounded"] else asyncio.Semaphore(s["value"])
            for s in sc.get("semaphores", [])
        ]
        self.events = [asyncio.Event() for _ in range(sc["events"])]
        kinds = sc.get("queueKinds") or []
        self.queues = []
        for i, maxsize in enumerate(sc["queues"]):
            kind = kinds[i] if i < len(kinds) else "fifo"
            make = {"fifo": asyncio.Queue, "lifo": asyncio.LifoQueue,
                    "priority": asyncio.PriorityQueue}[kind]
            self.queues.append(make(maxsize))
        self.conds = [asyncio.Condition() for _ in range(sc.get("conditions", 0))]
        self.counters = [0 for _ in self.conds]
        self.barriers = [asyncio.Barrier(parties) for parties in sc.get("barriers", [])]
        root = asyncio.create_task(self.task(sc["root"]))
        self.tasks[sc["root"]["id"]] = root
        watchdog = None
        rounds = 0

        # If something still runs at the watchdog time, the program is stuck:
        # cancel every task in id order, and again at 2x, 3x, ... that time.
        def on_watchdog():
            nonlocal watchdog, rounds
            rounds += 1
            self.log("main", "watchdog")
            for _, t in sorted(self.tasks.items()):
                if not t.done():
                    t.cancel("watchdog")
            if rounds < WATCHDOG_ROUNDS:
                watchdog = loop.call_at(sc["watchdog"] * (rounds + 1), on_watchdog)

        watchdog = loop.call_at(sc["watchdog"], on_watchdog)
        try:
            await root
        except BaseException:
            pass
        self.log("main", "cleanup")
        left = [t for _, t in sorted(self.tasks.items()) if not t.done()]
        for t in left:
            t.cancel("cleanup")
        for t in left:
            try:
                await t
            except BaseException:
                pass
        watchdog.cancel()
        self.log("main", "done")

    async def task(self, spec):
        frame = Frame(spec["id"])
        self.log(spec["id"], "start")
        try:
            flow = await self.steps(frame, spec["steps"])
        except BaseException as e:
            self.log(spec["id"], f"end !> {fmt_err(e)}")
            raise
        value = spec["result"] if flow is None else flow.ret
        self.log(spec["id"], f"end => {value}")
        return value

    async def steps(self, frame, steps):
        for step in steps:
            flow = await self.step(frame, step)
            if flow is not None:
                return flow
        return None

    async def wait(self, frame, label, aw):
        try:
            value = await aw
        except BaseException as e:
            self.log(frame.id, f"{label} !> {fmt_err(e)}")
            raise
        self.log(frame.id, f"{label} => {fmt_val(value)}")
        return value

    def operand(self, operand):
        if "id" in operand:
            return self.tasks.get(operand["id"])
        return self.task(operand["task"])

    def register(self, operands, made):
        live = asyncio.all_tasks()
        for operand, coro in zip(operands, made):
            if "task" not in operand:
                continue
            for t in live:
                if t.get_coro() is coro:
                    self.tasks[operand["task"]["id"]] = t

    async def step(self, frame, step):
        id = frame.id
        op = step["op"]
        if op == "sleep":
            await self.wait(frame, f"sleep {step['ms']}", asyncio.sleep(step["ms"]))
        elif op == "spawn":
            coro = self.task(step["task"])
            if step.get("eager"):
                t = asyncio.eager_task_factory(self.loop, coro)
            else:
                t = asyncio.create_task(coro)
            self.tasks[step["task"]["id"]] = t
            self.log(id, f"spawn {step['task']['id']}")
        elif op == "await":
            t = self.tasks.get(step["id"])
            if t is None:
                self.log(id, f"await {step['id']} missing")
                return None
            await self.wait(frame, f"await {step['id']}", t)
        elif op == "cancel":
            target = asyncio.current_task() if step["id"] == "self" else self.tasks.get(step["id"])
            if target is None:
                self.log(id, f"cancel {step['id']} missing")
                return None
            sent = target.cancel(step["msg"])
            msg = "-" if step["msg"] is None else step["msg"]
            self.log(id, f"cancel {step['id']} {msg} => {fmt_val(sent)}")
        elif op == "throw":
            self.log(id, f"throw E{step['err']}")
            raise Err(step["err"])
        elif op == "try":
            try:
                flow = await self.steps(frame, step["body"])
                if flow is not None:
                    return flow
            except BaseException as e:
                if not catches(step["catch"], e):
                    raise
                self.log(id, f"caught {fmt_err(e)} ({step['then']})")
                if "handler" in step:
                    await self.steps(frame, step["handler"])
                if step["then"] == "return":
                    return Ret(step["value"])
                if step["then"] == "reraise":
                    raise
        elif op == "waitFor":
            label = f"waitFor {describe_operand(step['aw'])} {fmt_ms(step['ms'])}"
            coro = self.block(frame, step)
            if coro is None:
                self.log(id, f"{label} missing")
                return None
            await self.wait(frame, label, coro)
        elif op == "gather":
            aws = [self.operand(o) for o in step["aws"]]
            present = [aw for aw in aws if aw is not None]
            names = ",".join(describe_operand(o) for o in step["aws"])
            label = f"gather [{names}] {fmt_val(step['returnExceptions'])}"
            if not present:
                self.log(id, f"{label} missing")
                return None
            future = asyncio.gather(*present, return_exceptions=step["returnExceptions"])
            self.register(step["aws"], aws)
            await self.wait(frame, label, future)
        elif op == "shield":
            aw = self.operand(step["aw"])
            label = f"shield {describe_operand(step['aw'])}"
            if aw is None:
                self.log(id, f"{label} missing")
                return None
            future = asyncio.shield(aw)
            self.register([step["aw"]], [aw])
            await self.wait(frame, label, future)
        elif op == "timeout":
            return await self.wait(
                frame, f"timeout {fmt_ms(step['ms'])}", self.timeout_body(frame, step)
            )
        elif op == "reschedule":
            scope = frame.scopes[-1]
            when = None if step["ms"] is None else self.loop.time() + step["ms"]
            try:
                scope.reschedule(when)
            except BaseException as e:
                self.log(id, f"reschedule {fmt_ms(step['ms'])} !> {fmt_err(e)}")
                raise
            self.log(id, f"reschedule {fmt_ms(step['ms'])}")
        elif op == "taskGroup":
            return await self.wait(frame, "taskGroup", self.group_body(frame, step))
        elif op == "tgSpawn":
            group = frame.groups[-1]
            coro = self.task(step["task"])
            try:
                if step.get("eager"):
                    # TaskGroup.create_task has no eager_start in 3.13: a task
                    # factory that starts this one coroutine eagerly, for this call.
                    saved = self.loop.get_task_factory()

                    def factory(loop, c, **kw):
                        return asyncio.Task(c, loop=loop, eager_start=c is coro, **kw)

                    self.loop.set_task_factory(factory)
                    try:
                        t = group.create_task(coro)
                    finally:
                        self.loop.set_task_factory(saved)
                else:
                    t = group.create_task(coro)
            except BaseException as e:
                self.log(id, f"tgSpawn {step['task']['id']} !> {fmt_err(e)}")
                raise
            self.tasks[step["task"]["id"]] = t
            self.log(id, f"tgSpawn {step['task']['id']}")
        elif op == "lock":
            lock = self.locks[step["lock"]]
            await self.acquire(id, f"L{step['lock']}", lock)
            try:
                return await self.steps(frame, step["body"])
            finally:
                lock.release()
                self.log(id, f"release L{step['lock']}")
        elif op == "semaphore":
            sem = self.semaphores[step["sem"]]
            await self.acquire(id, f"S{step['sem']}", sem)
            try:
                return await self.steps(frame, step["body"])
            finally:
                self.release(id, step["sem"], "release")
        elif op == "release":
            self.release(id, step["sem"], "bare release")
        elif op == "cancelState":
            self.log(id, f"cancelling={asyncio.current_task().cancelling()}")
        elif op == "uncancel":
            self.log(id, f"uncancel => {asyncio.current_task().uncancel()}")
        elif op == "set":
            self.events[step["event"]].set()
            self.log(id, f"set E{step['event']}")
        elif op == "clear":
            self.events[step["event"]].clear()
            self.log(id, f"clear E{step['event']}")
        elif op == "wait":
            await self.wait(frame, f"wait E{step['event']}", self.events[step["event"]].wait())
        elif op == "put":
            q = self.queues[step["queue"]]
            await self.wait(frame, f"put Q{step['queue']} {step['item']}", q.put(step["item"]))
        elif op == "get":
            await self.wait(frame, f"get Q{step['queue']}", self.queues[step["queue"]].get())
        elif op == "shutdown":
            self.queues[step["queue"]].shutdown(step["immediate"])
            self.log(id, f"shutdown Q{step['queue']} {fmt_val(step['immediate'])}")
        elif op == "taskDone":
            try:
                self.queues[step["queue"]].task_done()
            except ValueError:
                self.log(id, f"taskDone Q{step['queue']} !> TooMany")
                return None
            self.log(id, f"taskDone Q{step['queue']}")
        elif op == "join":
            await self.wait(frame, f"join Q{step['queue']}", self.queues[step["queue"]].join())
        elif op == "condition":
            return await self.condition(frame, step)
        elif op == "barrier":
            barrier = self.barriers[step["barrier"]]
            action = step["action"]
            label = f"barrier {action} B{step['barrier']}"
            coro = {"wait": barrier.wait, "reset": barrier.reset, "abort": barrier.abort}[action]()
            try:
                await self.wait(frame, label, coro)
            except asyncio.BrokenBarrierError:
                pass
        elif op == "asyncioWait":
            await self.asyncio_wait(frame, step)
        elif op == "asCompleted":
            await self.as_completed(frame, step)
        elif op == "handOver":
            # The block's coroutine handed to gather/create_task: a task of its own.
            inner = Frame(step["id"])
            coro = self.block(inner, step["block"])
            if coro is None:
                self.log(id, f"handOver {step['id']} missing")
                return None
            if step["via"] == "spawn":
                self.tasks[step["id"]] = asyncio.create_task(coro)
                self.log(id, f"handOver {step['id']} spawn")
            else:
                future = asyncio.gather(coro)
                for t in asyncio.all_tasks():
                    if t.get_coro() is coro:
                        self.tasks[step["id"]] = t
                await self.wait(frame, f"handOver {step['id']} gather", future)
        else:
            raise ValueError(f"unknown step {op!r}")
        return None

    async def acquire(self, id, name, primitive):
        """Acquires a lock, semaphore or condition, as the trace shows it (`acquired L0`)."""
        try:
            await primitive.acquire()
        except BaseException as e:
            self.log(id, f"acquire {name} !> {fmt_err(e)}")
            raise
        self.log(id, f"acquired {name}")

    async def condition(self, frame, step):
        id = frame.id
        c = step["cond"]
        cond = self.conds[c]
        if step.get("ms") is not None:
            await self.wait(frame, f"sleep {step['ms']}", asyncio.sleep(step["ms"]))
        await self.acquire(id, f"C{c}", cond)
        try:
            wait = step["wait"]
            if wait == "wait":
                await self.wait(frame, f"cwait C{c}", cond.wait())
            elif wait != "none":
                counters = self.counters
                await self.wait(
                    frame,
                    f"cwaitFor C{c} >={wait}",
                    cond.wait_for(lambda: counters[c] >= wait and counters[c]),
                )
            self.counters[c] += step["add"]
            if step["notify"] == "all":
                cond.notify_all()
            else:
                cond.notify(step["notify"])
            self.log(id, f"C{c} +{step['add']} = {self.counters[c]}, notify {step['notify']}")
            return await self.steps(frame, step["body"])
        finally:
            cond.release()
            self.log(id, f"release C{c}")

    def tasks_of(self, operands):
        out = []
        for operand in operands:
            if "id" in operand:
                t = self.tasks.get(operand["id"])
                if t is None:
                    return None
                out.append((str(operand["id"]), t))
            else:
                t = asyncio.create_task(self.task(operand["task"]))
                self.tasks[operand["task"]["id"]] = t
                out.append((str(operand["task"]["id"]), t))
        return out

    @staticmethod
    def outcome(name, t):
        try:
            return f"{name}={fmt_val(t.result())}"
        except BaseException as e:
            return f"{name}!{fmt_err(e)}"

    async def asyncio_wait(self, frame, step):
        names = ",".join(describe_operand(o) for o in step["aws"])
        label = f"asyncioWait [{names}] {step['returnWhen']} {fmt_ms(step['ms'])}"
        tasks = self.tasks_of(step["aws"])
        if tasks is None:
            self.log(frame.id, f"{label} missing")
            return
        name_of = {}
        for name, t in tasks:
            name_of.setdefault(t, name)
        return_when = getattr(asyncio, step["returnWhen"])
        try:
            done, pending = await asyncio.wait(
                [t for _, t in tasks], timeout=step["ms"], return_when=return_when
            )
        except BaseException as e:
            self.log(frame.id, f"{label} !> {fmt_err(e)}")
            raise
        by_id = lambda fs: sorted(fs, key=lambda t: int(name_of[t]))
        done_s = ",".join(self.outcome(name_of[t], t) for t in by_id(done))
        pending_s = ",".join(name_of[t] for t in by_id(pending))
        self.log(frame.id, f"{label} => done [{done_s}] pending [{pending_s}]")

    async def as_completed(self, frame, step):
        id = frame.id
        names = ",".join(describe_operand(o) for o in step["aws"])
        label = f"asCompleted [{names}] {fmt_ms(step['ms'])} {step['form']}"
        tasks = self.tasks_of(step["aws"])
        if tasks is None:
            self.log(id, f"{label} missing")
            return
        name_of = {}
        for name, t in tasks:
            name_of.setdefault(t, name)
        it = OrderedAsCompleted([t for _, t in tasks], step["ms"])
        self.log(id, label)
        if step["form"] == "iter":
            for nxt in it:
                try:
                    value = await nxt
                except BaseException as e:
                    self.log(id, f"next !> {fmt_err(e)}")
                    if isinstance(e, asyncio.CancelledError):
                        raise
                    continue
                self.log(id, f"next => {fmt_val(value)}")
        else:
            # async for, spelled out to catch what __anext__ raises.
            ait = it.__aiter__()
            while True:
                try:
                    f = await ait.__anext__()
                except StopAsyncIteration:
                    break
                except BaseException as e:
                    self.log(id, f"anext !> {fmt_err(e)}")
                    if isinstance(e, asyncio.CancelledError):
                        raise
                    break
                self.log(id, f"anext => {self.outcome(name_of.get(f, '?'), f)}")
        self.log(id, "asCompleted end")
    def release(self, id, n, label):
        try:
            self.semaphores[n].release()
        except ValueError:
            self.log(id, f"{label} S{n} !> ValueError")
            return
        self.log(id, f"{label} S{n}")

    def block(self, frame, step):
        """The coroutine of a waitFor, timeout or taskGroup step (None: a missing operand)."""
        op = step["op"]
        if op == "waitFor":
            aw = self.operand(step["aw"])
            return None if aw is None else asyncio.wait_for(aw, step["ms"])
        if op == "timeout":
            return self.timeout_body(frame, step)
        return self.group_body(frame, step)

    async def timeout_body(self, frame, step):
        async with asyncio.timeout(step["ms"]) as scope:
            frame.scopes.append(scope)
            try:
                flow = await self.steps(frame, step["body"])
            finally:
                frame.scopes.pop()
        return flow

    async def group_body(self, frame, step):
        async with OrderedTaskGroup() as group:
            frame.groups.append(group)
            try:
                flow = await self.steps(frame, step["body"])
            finally:
                frame.groups.pop()
        return flow


def run(scenario):
    interpreter = Interpreter(scenario)
    asyncio.run(interpreter.main(), loop_factory=VirtualLoop)
    return interpreter.trace


def serve():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            for entry in run(json.loads(line)):
                sys.stdout.write(entry + "\n")
        except BaseException as e:  # a deadlock or a bug here: report, keep serving
            sys.stdout.write(f"##ERROR## {type(e).__name__}: {e}\n")
        sys.stdout.write(END + "\n")
        sys.stdout.flush()


def main(argv):
    if sys.version_info < (3, 12):
        sys.exit(f"interp.py needs Python 3.12 or newer, this is {sys.version.split()[0]}")
    if argv[1:] == ["--serve"]:
        serve()
    elif len(argv) == 2:
        with open(argv[1]) as f:
            data = json.load(f)
        # A regression file holds the scenario under "scenario".
        scenario = data.get("scenario", data)
        for entry in run(scenario):
            print(entry)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
