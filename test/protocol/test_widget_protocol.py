"""The kernel seen from a widget manager: jupyter_client plays the frontend (JupyterLab + anywidget) over ZeroMQ.

Covers comms both ways with binary buffers, anywidget models (update → change event, custom messages,
request_state, jupyter.widget.control request_states), display ids, stdin, a 5000-line burst, output attribution
of timers, abort of queued requests after an error, interrupts and shutdown.
"""

import time
import unittest

from support import TIMEOUT, Frontend, KernelTestCase, start_kernel, stream_text

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ESM = "export default { render({ model, el }) { el.textContent = String(model.get('count')); } };"


def comm_msg_for(comm_id, method=None):
    def match(m):
        if m["msg_type"] != "comm_msg" or m["content"]["comm_id"] != comm_id:
            return False
        return method is None or m["content"]["data"].get("method") == method

    return match


class WidgetTests(KernelTestCase):
    """One anywidget model, driven from both sides."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fe = cls.fe
        msg_id = cls.kc.execute(
            'import { widget } from "vre-ts";\n'
            "const w = widget({ esm: %r, css: '.x { color: red }', state: { count: 1, blob: new Uint8Array([1, 2, 3]), flag: false, payload: null as Uint8Array | null } });\n"
            "w" % ESM
        )
        cls.open_reply = fe.shell_reply(msg_id)
        cls.open_msgs = fe.collect(msg_id)
        opens = [m for m in cls.open_msgs if m["msg_type"] == "comm_open"]
        cls.open_msg = opens[0] if opens else None
        cls.model_id = cls.open_msg["content"]["comm_id"] if cls.open_msg else None

    def setUp(self):
        self.assertEqual(self.open_reply["content"]["status"], "ok", self.open_msgs)
        self.assertIsNotNone(self.open_msg, "no comm_open for the widget")

    def update(self, state, buffer_paths=(), buffers=None):
        return self.fe.send(
            "comm_msg",
            {"comm_id": self.model_id, "data": {"method": "update", "state": state, "buffer_paths": list(buffer_paths)}},
            buffers=buffers,
        )

    def test_comm_open_carries_an_anywidget_model_with_binary_buffers(self):
        content = self.open_msg["content"]
        self.assertEqual(content["target_name"], "jupyter.widget")
        self.assertEqual(self.open_msg["metadata"].get("version"), "2.1.0")
        state = content["data"]["state"]
        self.assertEqual(state["_model_module"], "anywidget")
        self.assertEqual(state["_view_module"], "anywidget")
        self.assertEqual(state["_model_name"], "AnyModel")
        self.assertEqual(state["_view_name"], "AnyView")
        self.assertEqual(state["_esm"], ESM)
        self.assertEqual(state["_css"], ".x { color: red }")
        self.assertEqual(state["count"], 1)
        self.assertEqual(state["flag"], False)
        self.assertTrue(state["_model_module_version"])
        self.assertEqual(content["data"]["buffer_paths"], [["blob"]])
        self.assertEqual(bytes(self.open_msg["buffers"][0]), b"\x01\x02\x03")

    def test_cell_value_is_a_widget_view(self):
        results = [m for m in self.open_msgs if m["msg_type"] in ("execute_result", "display_data")]
        self.assertEqual(len(results), 1)
        view = results[0]["content"]["data"][WIDGET_VIEW]
        self.assertEqual(view["model_id"], self.model_id)
        self.assertEqual(view["version_major"], 2)
        self.assertIn("text/plain", results[0]["content"]["data"])

    def test_frontend_update_fires_change_event(self):
        self.fe.run_ok(self, 'const seen: unknown[] = []; w.on("change:count", (v: unknown) => seen.push(v));')
        self.update({"count": 7})
        # The kernel handles the update before the next execute (both on shell, in order).
        self.assertEqual(self.fe.result(self, "JSON.stringify(seen)"), "'[7]'")
        self.assertEqual(self.fe.result(self, 'w.get("count")'), "7")

    def test_update_reaches_a_cell_that_is_awaiting_it(self):
        msg_id = self.kc.execute('await new Promise((resolve) => w.on("change:flag", resolve)); "released"')
        time.sleep(0.5)
        self.update({"flag": True})
        reply = self.fe.shell_reply(msg_id)
        msgs = self.fe.collect(msg_id)
        self.assertEqual(reply["content"]["status"], "ok", msgs)
        results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ["'released'"])

    def test_binary_update_from_frontend(self):
        self.update({"payload": None}, buffer_paths=[["payload"]], buffers=[b"\x00\xffab"])
        out = self.fe.result(self, 'Array.from(w.get("payload") as Uint8Array).join(",")')
        self.assertEqual(out, "'0,255,97,98'")

    def test_kernel_set_sends_update(self):
        msgs = self.fe.run_ok(self, 'w.set("count", 42)')
        updates = [m for m in msgs if comm_msg_for(self.model_id, "update")(m)]
        self.assertEqual(len(updates), 1)
        self.assertEqual(updates[0]["content"]["data"]["state"], {"count": 42})
        # Attributed to the cell that caused it, so frontends route it correctly.
        self.assertEqual(updates[0]["parent_header"]["msg_type"], "execute_request")

    def test_custom_messages_both_ways_with_buffers(self):
        self.fe.run_ok(
            self,
            'w.on("msg:custom", (content: any, buffers: Uint8Array[]) => '
            "w.send({ echo: content, sizes: buffers.map((b) => b.byteLength) }, buffers));",
        )
        self.fe.send("comm_msg", {"comm_id": self.model_id, "data": {"method": "custom", "content": {"hello": 1}}}, buffers=[b"abc", b"\x01"])
        msg = self.fe.iopub_until(comm_msg_for(self.model_id, "custom"))
        self.assertEqual(msg["content"]["data"]["content"], {"echo": {"hello": 1}, "sizes": [3, 1]})
        self.assertEqual([bytes(b) for b in msg["buffers"]], [b"abc", b"\x01"])

    def test_request_state_answers_full_state(self):
        self.fe.send("comm_msg", {"comm_id": self.model_id, "data": {"method": "request_state"}})
        msg = self.fe.iopub_until(comm_msg_for(self.model_id, "update"))
        state = msg["content"]["data"]["state"]
        self.assertEqual(state["_model_name"], "AnyModel")
        self.assertIn("count", state)
        self.assertIn(["blob"], msg["content"]["data"]["buffer_paths"])

    def test_control_comm_request_states_restores_widgets_after_reload(self):
        control_id = "control-%d" % time.time_ns()
        self.fe.send("comm_open", {"comm_id": control_id, "target_name": "jupyter.widget.control", "data": {}})
        self.fe.send("comm_msg", {"comm_id": control_id, "data": {"method": "request_states"}})
        msg = self.fe.iopub_until(comm_msg_for(control_id, "update_states"))
        states = msg["content"]["data"]["states"]
        self.assertIn(self.model_id, states)
        model = states[self.model_id]
        self.assertEqual(model["model_name"], "AnyModel")
        self.assertEqual(model["model_module"], "anywidget")
        self.assertEqual(model["state"]["_esm"], ESM)
        paths = msg["content"]["data"].get("buffer_paths", [])
        self.assertEqual(len(paths), len(msg["buffers"]))


class CommTests(KernelTestCase):
    """Generic comms: a target registered from TypeScript, opened by the frontend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.register = cls.fe.execute(
            'import { registerCommTarget } from "vre-ts";\n'
            'registerCommTarget("echo", (comm, open) => {\n'
            "  comm.send({ opened: open.data, buffers: open.buffers.length }, { buffers: open.buffers });\n"
            "  comm.onMessage((m) => comm.send({ echo: m.data }, { buffers: m.buffers }));\n"
            "});"
        )

    def test_frontend_opens_comm_with_buffers_and_gets_echoes(self):
        self.assertEqual(self.register[0]["content"]["status"], "ok", self.register[1])
        comm_id = "echo-%d" % time.time_ns()
        self.fe.send("comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {"x": 1}}, buffers=[b"\x00\xff"])
        first = self.fe.iopub_until(comm_msg_for(comm_id))
        self.assertEqual(first["content"]["data"], {"opened": {"x": 1}, "buffers": 1})
        self.assertEqual([bytes(b) for b in first["buffers"]], [b"\x00\xff"])

        self.fe.send("comm_msg", {"comm_id": comm_id, "data": {"ping": 2}}, buffers=[b"one", b"two"])
        echo = self.fe.iopub_until(comm_msg_for(comm_id))
        self.assertEqual(echo["content"]["data"], {"echo": {"ping": 2}})
        self.assertEqual([bytes(b) for b in echo["buffers"]], [b"one", b"two"])

        info_id = self.kc.comm_info(target_name="echo")
        info = self.fe.shell_reply(info_id)
        self.assertEqual(info["msg_type"], "comm_info_reply")
        self.assertEqual(info["content"]["comms"].get(comm_id), {"target_name": "echo"})

        self.fe.send("comm_close", {"comm_id": comm_id, "data": {}})
        info = self.fe.shell_reply(self.kc.comm_info())
        self.assertNotIn(comm_id, info["content"]["comms"])

    def test_unknown_target_is_closed(self):
        comm_id = "nobody-%d" % time.time_ns()
        self.fe.send("comm_open", {"comm_id": comm_id, "target_name": "no.such.target", "data": {}})
        closed = self.fe.iopub_until(lambda m: m["msg_type"] == "comm_close" and m["content"]["comm_id"] == comm_id)
        self.assertEqual(closed["content"]["comm_id"], comm_id)

    def test_kernel_opens_comm_to_frontend(self):
        msgs = self.fe.run_ok(
            self, 'import { openComm } from "vre-ts";\nopenComm("my.frontend.target", { hello: "frontend" }, { buffers: [new Uint8Array([9])] });'
        )
        opens = [m for m in msgs if m["msg_type"] == "comm_open"]
        self.assertEqual(len(opens), 1)
        self.assertEqual(opens[0]["content"]["target_name"], "my.frontend.target")
        self.assertEqual(opens[0]["content"]["data"], {"hello": "frontend"})
        self.assertEqual([bytes(b) for b in opens[0]["buffers"]], [b"\x09"])


class OutputTests(KernelTestCase):
    def test_display_id_updates(self):
        msgs = self.fe.run_ok(self, 'display("first", { display_id: "d1" });\ndisplay("second", { display_id: "d1", update: true });')
        shown = [m for m in msgs if m["msg_type"] == "display_data"]
        updated = [m for m in msgs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(shown[0]["content"]["transient"], {"display_id": "d1"})
        self.assertIn("first", shown[0]["content"]["data"]["text/plain"])
        self.assertEqual(len(updated), 1)
        self.assertEqual(updated[0]["content"]["transient"], {"display_id": "d1"})
        self.assertIn("second", updated[0]["content"]["data"]["text/plain"])

    def test_rich_display_protocol(self):
        data = self.fe.result(
            self,
            'const v = { [Symbol.for("Jupyter.display")]() { return { "text/html": "<i>rich</i>", "text/plain": "rich" }; } }; v',
            mime="text/html",
        )
        self.assertEqual(data, "<i>rich</i>")

    def test_burst_of_5000_lines_is_delivered_in_full(self):
        msgs = self.fe.run_ok(self, 'for (let i = 0; i < 5000; i++) console.log("line " + i);', timeout=TIMEOUT * 2)
        lines = stream_text(msgs).splitlines()
        self.assertEqual(len(lines), 5000)
        self.assertEqual(lines[0], "line 0")
        self.assertEqual(lines[-1], "line 4999")
        self.assertEqual(lines, ["line %d" % i for i in range(5000)])

    def test_timer_output_is_attributed_to_the_cell_that_started_it(self):
        a = self.kc.execute('setTimeout(() => console.log("late from A"), 400); "A done"')
        b = self.kc.execute('await new Promise((r) => setTimeout(r, 1200)); console.log("from B"); "B done"')
        self.fe.shell_reply(a)
        self.fe.shell_reply(b)
        b_msgs = self.fe.collect(b)
        a_msgs = self.fe.collect(a)
        # collect(a) stops at A's idle; the late line may come after it, so look for it explicitly as well.
        late = [m for m in a_msgs if m["msg_type"] == "stream"]
        if not late:
            late = [self.fe.iopub_until(lambda m: m["msg_type"] == "stream" and "late from A" in m["content"]["text"], timeout=5)]
        self.assertIn("late from A", "".join(m["content"]["text"] for m in late))
        self.assertTrue(all(m["parent_header"]["msg_id"] == a for m in late))
        self.assertNotIn("late from A", stream_text(b_msgs))
        self.assertIn("from B", stream_text(b_msgs))

    def test_stdout_and_stderr(self):
        msgs = self.fe.run_ok(self, 'console.log("out"); console.error("err"); process.stdout.write("raw\\n");')
        self.assertEqual(stream_text(msgs, "stdout"), "out\nraw\n")
        self.assertEqual(stream_text(msgs, "stderr"), "err\n")


class StdinTests(KernelTestCase):
    def answer(self, code, value):
        msg_id = self.kc.execute(code, allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(request["msg_type"], "input_request")
        self.kc.input(value)
        reply = self.fe.shell_reply(msg_id)
        msgs = self.fe.collect(msg_id)
        return request, reply, msgs

    def test_input(self):
        request, reply, msgs = self.answer('const name = await input("Your name: "); name.toUpperCase()', "ada")
        self.assertEqual(request["content"]["prompt"], "Your name: ")
        self.assertFalse(request["content"]["password"])
        self.assertEqual(reply["content"]["status"], "ok")
        results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ["'ADA'"])

    def test_password_is_hidden_and_never_echoed(self):
        request, reply, msgs = self.answer('const secret = await input("Token: ", { password: true }); secret.length', "hunter2-secret")
        self.assertTrue(request["content"]["password"])
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertNotIn("hunter2-secret", repr(msgs))
        results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ["14"])

    def test_input_without_stdin_is_an_error_not_a_hang(self):
        reply, msgs = self.fe.execute('await input("never asked: ")', allow_stdin=False, timeout=20)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertTrue(any(m["msg_type"] == "error" for m in msgs))


class AbortTests(KernelTestCase):
    def test_only_requests_queued_at_error_time_are_aborted(self):
        first = self.kc.execute('await new Promise((r) => setTimeout(r, 300)); throw new Error("first fails")')
        second = self.kc.execute("1")
        third = self.kc.execute("2")
        statuses = [self.fe.shell_reply(m)["content"]["status"] for m in (first, second, third)]
        self.assertEqual(statuses, ["error", "aborted", "aborted"])
        for m in (first, second, third):
            self.fe.collect(m)
        # Sent right after the error's reply: must run normally.
        self.assertEqual(self.fe.result(self, "3"), "3")

    def test_stop_on_error_false_does_not_abort(self):
        first = self.kc.execute('throw new Error("tolerated")', stop_on_error=False)
        second = self.kc.execute("5")
        self.assertEqual(self.fe.shell_reply(first)["content"]["status"], "error")
        self.assertEqual(self.fe.shell_reply(second)["content"]["status"], "ok")
        self.fe.collect(first)
        self.fe.collect(second)

    def test_error_reply_and_message_carry_name_value_traceback(self):
        reply, msgs = self.fe.execute('throw new TypeError("bad type")')
        content = reply["content"]
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "TypeError")
        self.assertEqual(content["evalue"], "bad type")
        self.assertIsInstance(content["traceback"], list)
        errors = [m for m in msgs if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["content"]["ename"], "TypeError")


class InterruptTests(KernelTestCase):
    def interrupt(self, msg_id, how):
        if how == "signal":
            self.km.interrupt_kernel()
        else:
            self.fe.send("interrupt_request", {}, channel="control")

    def check_interrupted(self, msg_id, how, retries=1):
        """Interrupts the running cell `msg_id`; an interrupt that arrives before the cell runs is ignored (as in
        ipykernel), so it is repeated up to `retries` times."""
        started = time.monotonic()
        for attempt in range(retries):
            self.interrupt(msg_id, how)
            try:
                reply = self.fe.shell_reply(msg_id, timeout=10 if attempt == retries - 1 else 2)
                break
            except AssertionError:
                if attempt == retries - 1:
                    self.km.interrupt_kernel()  # leave a usable kernel to the next test
                    raise
        took = time.monotonic() - started
        self.fe.collect(msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertLess(took, 10.0)
        # The kernel is still usable afterwards.
        self.assertEqual(self.fe.result(self, "1 + 1"), "2")

    def start_awaiting(self, code):
        # Interrupt only once the cell is really running: it prints a marker first.
        msg_id = self.kc.execute('console.log("running");\n' + code)
        self.fe.iopub_until(
            lambda m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id and "running" in m["content"]["text"]
        )
        time.sleep(0.3)
        return msg_id

    def test_sigint_stops_a_busy_loop(self):
        # A synchronous loop blocks the event loop, so no marker can be seen; wait, then signal (repeated if early).
        msg_id = self.kc.execute("while (true) {}")
        time.sleep(1.5)
        self.check_interrupted(msg_id, "signal", retries=4)

    def test_sigint_stops_a_pending_await(self):
        self.check_interrupted(self.start_awaiting("await new Promise(() => {})"), "signal")

    def test_control_interrupt_request_stops_a_pending_await(self):
        self.check_interrupted(self.start_awaiting("await new Promise(() => {})"), "message")

    def test_interrupt_aborts_the_cell_signal(self):
        msg_id = self.start_awaiting(
            'import { cellSignal } from "vre-ts";\n'
            "const signal = cellSignal();\n"
            'signal.addEventListener("abort", () => console.log("cell signal aborted"));\n'
            "await new Promise(() => {})"
        )
        self.km.interrupt_kernel()
        reply = self.fe.shell_reply(msg_id, timeout=10)
        self.assertEqual(reply["content"]["status"], "error")
        self.fe.iopub_until(lambda m: m["msg_type"] == "stream" and "cell signal aborted" in m["content"]["text"], timeout=10)


class BusyLoopAfterAwaitTests(unittest.TestCase):
    """Node can only break synchronous code that `vm` runs with breakOnSigint; a busy loop that starts after an
    `await` in the same cell runs outside it and blocks the event loop, so SIGINT cannot stop it. Kept as a known
    limitation (it needs user code in a worker); it turns into an unexpected success once that is solved."""

    @unittest.expectedFailure
    def test_sigint_stops_a_busy_loop_after_an_await(self):
        km, kc = start_kernel()
        try:
            fe = Frontend(kc)
            fe.execute("0", timeout=TIMEOUT * 2)
            msg_id = kc.execute('console.log("running");\nawait new Promise((r) => setTimeout(r, 100));\nwhile (true) {}')
            fe.iopub_until(lambda m: m["msg_type"] == "stream" and "running" in m["content"]["text"])
            time.sleep(0.5)
            km.interrupt_kernel()
            reply = fe.shell_reply(msg_id, timeout=5)
            self.assertEqual(reply["content"]["status"], "error")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


class ShutdownTests(unittest.TestCase):
    def test_shutdown_is_fast(self):
        km, kc = start_kernel()
        try:
            fe = Frontend(kc)
            self.assertEqual(fe.result(self, "1 + 1"), "2")
            started = time.monotonic()
            kc.shutdown()
            reply = kc.get_control_msg(timeout=10) if hasattr(kc, "get_control_msg") else None
            if reply is not None:
                self.assertEqual(reply["msg_type"], "shutdown_reply")
            while km.is_alive() and time.monotonic() - started < 10:
                time.sleep(0.02)
            took = time.monotonic() - started
            self.assertFalse(km.is_alive(), "kernel still running 10 s after shutdown_request")
            self.assertLess(took, 2.0, "shutdown took %.2f s" % took)
        finally:
            kc.stop_channels()
            if km.is_alive():
                km.shutdown_kernel(now=True)

    def test_restart_gives_a_fresh_kernel(self):
        km, kc = start_kernel()
        try:
            fe = Frontend(kc)
            fe.run_ok(self, "(globalThis as any).beforeRestart = 1;")
            started = time.monotonic()
            km.restart_kernel(now=False)
            kc.wait_for_ready(timeout=TIMEOUT)
            self.assertLess(time.monotonic() - started, 15)
            self.assertEqual(fe.result(self, "typeof (globalThis as any).beforeRestart"), "'undefined'")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    unittest.main()
