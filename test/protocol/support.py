"""Shared helpers for the kernel protocol suites: start the installed kernel with Debian's jupyter_client and
drive it the way a frontend does (execute and collect iopub until idle, send comm messages with buffers)."""

import os
import queue
import tempfile
import time
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL_NAME = os.environ.get("VRE_TS_KERNEL_NAME", "vre-ts")
TIMEOUT = float(os.environ.get("VRE_TS_PROTOCOL_TIMEOUT", "60"))


def start_kernel(cwd=None):
    """Starts the kernel in a folder without node_modules (unless `cwd` is given) and waits for kernel_info."""
    cwd = cwd or tempfile.mkdtemp(prefix="vre-ts-protocol-")
    return start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=TIMEOUT, cwd=cwd)


class Frontend:
    """A minimal frontend over a BlockingKernelClient; keeps iopub messages it was not waiting for."""

    def __init__(self, kc):
        self.kc = kc
        self.backlog = []

    def iopub(self, timeout=TIMEOUT):
        if self.backlog:
            return self.backlog.pop(0)
        return self.kc.get_iopub_msg(timeout=timeout)

    def iopub_until(self, predicate, timeout=TIMEOUT):
        """Returns the first iopub message matching `predicate`; the others stay in the backlog."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            for i, msg in enumerate(self.backlog):
                if predicate(msg):
                    del self.backlog[i]
                    return msg
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching iopub message within %.0f s" % timeout)
                try:
                    msg = self.kc.get_iopub_msg(timeout=left)
                except queue.Empty:
                    raise AssertionError("no matching iopub message within %.0f s" % timeout)
                if predicate(msg):
                    return msg
                skipped.append(msg)
        finally:
            self.backlog.extend(skipped)

    def shell_reply(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no shell reply to %s within %.0f s" % (msg_id, timeout))
            reply = self.kc.get_shell_msg(timeout=left)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def collect(self, msg_id, timeout=TIMEOUT):
        """iopub messages with parent `msg_id` up to and including its idle status (other parents stay queued)."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.iopub_until(lambda m: m["parent_header"].get("msg_id") == msg_id, max(0.1, deadline - time.monotonic()))
            out.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out

    def execute(self, code, timeout=TIMEOUT, **kwargs):
        """Runs `code`; returns (reply, iopub messages of that request without status/execute_input)."""
        msg_id = self.kc.execute(code, **kwargs)
        reply = self.shell_reply(msg_id, timeout)
        msgs = self.collect(msg_id, timeout)
        return reply, [m for m in msgs if m["msg_type"] not in ("status", "execute_input")]

    def run_ok(self, test, code, timeout=TIMEOUT):
        reply, msgs = self.execute(code, timeout=timeout)
        if reply["content"]["status"] != "ok":
            errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
            test.fail("cell failed: %r\n%s" % (code, errors or reply["content"]))
        return msgs

    def result(self, test, code, mime="text/plain", timeout=TIMEOUT):
        msgs = self.run_ok(test, code, timeout)
        results = [m for m in msgs if m["msg_type"] == "execute_result"]
        test.assertEqual(len(results), 1, "expected one execute_result for %r, got %r" % (code, msgs))
        return results[0]["content"]["data"][mime]

    def send(self, msg_type, content, buffers=None, channel="shell"):
        """Sends a frontend message (optionally with binary buffers) and returns its msg_id."""
        chan = getattr(self.kc, channel + "_channel")
        msg = self.kc.session.msg(msg_type, content)
        self.kc.session.send(chan.socket, msg, buffers=buffers)
        return msg["header"]["msg_id"]


def stream_text(msgs, name="stdout"):
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == name)


class KernelTestCase(unittest.TestCase):
    """One kernel per test class."""

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_kernel()
        cls.fe = Frontend(cls.kc)
        # The first cell builds the TypeScript program; later timings then measure the behaviour under test.
        cls.fe.execute("0", timeout=TIMEOUT * 2)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)
