#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drive a guest's serial console over a QEMU unix socket (stdlib only), or
over TCP (--socket tcp:HOST:PORT, e.g. Bochs's com1 mode=socket-server; see
tools/run-bochs.sh BOCHS_SERIAL_TCP).

QEMU side (the socket is QEMU's; wait=on holds the machine until we connect,
so no early output is lost; wait=off also works but may lose the first lines):

    qemu-system-x86_64 ... -serial unix:/tmp/ser.sock,server=on,wait=on

Command line:

    serial-driver.py --socket PATH [--log LOG] [--script FILE|-] [-e STEP]...
                     [--timestamps] [--char-delay S] [--connect-timeout S]
                     [-- COMMAND ARGS...]

With `-- COMMAND...` the driver starts COMMAND itself (normally QEMU, with
its -serial pointing at PATH), connects once the socket appears, reports the
command's exit code after `expect-exit`, and kills it if the script fails or
ends with it still running.  Without it, start QEMU first (e.g. in the
background) and the driver connects, retrying up to --connect-timeout.

Steps (one per line in --script, or given with -e; blank lines and lines
starting with # are ignored; TIMEOUT is in seconds, may be fractional):

    wait REGEX TIMEOUT        wait for REGEX (Python re, MULTILINE) in new
                              output; REGEX may contain spaces
    run NAME TIMEOUT CMD...   run the shell command line CMD, capture its
                              output and exit status ($? of CMD) as NAME
    send TEXT                 send TEXT and a newline (TEXT may be empty)
    sendraw TEXT              send TEXT with Python escapes (\\x03 = Ctrl-C,
                              \\r, \\n) and no newline
    check NAME REGEX          fail unless REGEX matches NAME's captured output
    spawn NAME CMD...         start the host shell command line CMD in the
                              background (a debugger beside the console);
                              {OTHER} in CMD is the output of run OTHER,
                              stripped
    await NAME REGEX TIMEOUT  wait for REGEX in spawned NAME's output not
                              yet matched (the console is read meanwhile)
    reap NAME TIMEOUT [CODE]  wait for spawned NAME to exit (with CODE);
                              its output is then NAME's for check
    sleep SECONDS             pause (output keeps being logged afterwards)
    expect-exit [TIMEOUT [CODE]]
                              wait for the socket to close (QEMU exited;
                              default 60 s); with `-- COMMAND`, also for the
                              command to exit, and with CODE, require that
                              exit code

`run` sends one line:  echo MARK-B; CMD; echo "MARK-E $?"  where the markers
carry a per-session nonce and are split by "" in what is typed, so the echo
of the typed line never matches; the output is what lies between them.
Kernel messages printed on the console while CMD runs land in the output too
(boot with `quiet` to keep them out).  Where a host tags the guest's lines
(Petrel's `[vm] line`), --line-prefix REGEX makes run keep only the lines
that start with REGEX, without it; the markers are found either way.

Standard output, one line per event, meant for grep/sed:

    === wait /REGEX/: matched after 3.42 s
    === run NAME: CMD
    NAME| each line of the output
    === run NAME: status=0 time=0.31
    === check NAME /REGEX/: ok
    === exit: socket closed after 12.10 s; command exit code 0

Errors go to standard error as `serial-driver: error: ...` with the last
lines the guest printed.  Exit status: 0 all steps done, 1 a step failed
(timeout, connection closed early, check failed, wrong exit code), 2 bad
usage or script, 3 could not connect.

The log (--log) is the whole transcript as received, with terminal escape
sequences (ESC [ ...) removed and CR LF made LF (a lone CR, a line editor
redrawing its line, becomes LF too; matching sees the same text), and the
driver's own lines (starting with `##### serial-driver:`) after each step,
at the end of the guest's line.  Each `run` adds a section with its output:

    ##### serial-driver: begin run NAME: CMD
    ...output...
    ##### serial-driver: end run NAME: status=0 time=0.31

--timestamps prefixes each log line with host seconds since the driver
started (with `-- COMMAND`: since the command started).

Behind Petrel: the guest's lines arrive as `[vm] line` and only once a line
is complete (so a prompt shows up only with the next line), and typed input
goes through the guest UART's 16-byte receive FIFO, which drops bytes on
overrun: if commands arrive garbled, slow the typing with --char-delay
(e.g. 0.002).

As a module (the file name has a dash, so load it by path):

    import importlib.util, sys
    sys.dont_write_bytecode = True  # no tools/__pycache__ in the tree
    spec = importlib.util.spec_from_file_location("serial_driver", "tools/serial-driver.py")
    sd = importlib.util.module_from_spec(spec); spec.loader.exec_module(sd)
    with sd.SerialDriver("/tmp/ser.sock", log_path="ser.log") as d:
        d.wait(r"PETREL-GUEST-READY", 60)
        out, status = d.run("uname -r", 10, name="uname")
        d.send("poweroff -f")
        d.expect_exit(30)
"""

import argparse
import codecs
import os
import re
import secrets
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

# CSI escape sequences (ESC [ params final), e.g. busybox's ESC[6n cursor query
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# an unfinished one at the end of a chunk, kept for the next chunk
_CSI_PARTIAL = re.compile(r"\x1b(\[[0-?]*[ -/]*)?\Z")


_CRLF = re.compile(r"\r+\n")


def _newlines(text):
    """CR LF (and the tty's CR CR LF) -> LF; a lone CR (a line editor going
    back to column 0 to redraw) -> LF too, so that no text hides other text."""
    return _CRLF.sub("\n", text).replace("\r", "\n")


class DriverError(Exception):
    """A step failed; str() says why."""


class Timeout(DriverError):
    pass


def tcp_address(path):
    """("HOST", PORT) for a --socket of the form tcp:HOST:PORT, else None."""
    if not path.startswith("tcp:"):
        return None
    host, _, port = path[4:].rpartition(":")
    return (host or "localhost", int(port))


class Closed(DriverError):
    """The other end closed the connection (QEMU exited)."""


class SerialDriver:
    """One connection to a serial console on a unix stream socket."""

    def __init__(self, path, log_path=None, connect_timeout=30.0, timestamps=False,
                 char_delay=0.0, process=None, out=sys.stdout, t0=None, line_prefix=None):
        self.path = path
        self.line_prefix = re.compile(line_prefix) if line_prefix else None
        self.t0 = time.monotonic() if t0 is None else t0  # elapsed times count from here
        self.timestamps = timestamps
        self.char_delay = char_delay
        self.process = process  # a subprocess.Popen to watch, or None
        self.out = out
        self.buf = ""       # everything received, CR and CSI removed
        self.pos = 0        # matching resumes here
        self._trimmed = 0   # characters dropped from the front of buf so far
        self.eof = False
        self.outputs = {}   # run NAME -> (output, status)
        self.spawned = {}   # spawn NAME -> its process and output
        self._n = 0
        self._nonce = secrets.token_hex(3)
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # unfinished escape sequence
        self._log = open(log_path, "w", encoding="utf-8") if log_path else None
        self._log_bol = True
        self._notes = []    # driver lines waiting for the end of a guest line
        self.sock = self._connect(connect_timeout)

    # -- plumbing ---------------------------------------------------------
    def elapsed(self):
        return time.monotonic() - self.t0

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise DriverError(f"the command exited (code {self.process.returncode}) "
                                  f"before {self.path} accepted a connection")
            tcp = tcp_address(self.path)
            s = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(tcp or self.path)
                self.note(f"connected to {self.path}")
                return s
            except (FileNotFoundError, ConnectionRefusedError) as e:
                s.close()
                last = e
            if time.monotonic() >= deadline:
                raise DriverError(f"cannot connect to {self.path} within {timeout:g} s: {last}")
            time.sleep(0.05)

    def close(self):
        self.eof = True
        self._flush_notes()
        try:
            self.sock.close()
        except OSError:
            pass
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _emit(self, line):
        if self.out:
            print(line, file=self.out, flush=True)

    def _log_text(self, text):
        if not self._log or not text:
            return
        if self.timestamps:
            parts = []
            for piece in text.splitlines(keepends=True):
                if self._log_bol:
                    parts.append(f"[{self.elapsed():9.3f}] ")
                parts.append(piece)
                self._log_bol = piece.endswith("\n")
            text = "".join(parts)
        else:
            self._log_bol = text.endswith("\n")
        self._log.write(text)
        self._log.flush()

    def note(self, text, raw=None):
        """Write a driver line into the log (then raw text, as is), on lines
        of their own: held back until the guest's current line is complete."""
        if not self._log:
            return
        self._notes.append(f"##### serial-driver: {text}\n" + (raw or ""))
        if self._log_bol or self.eof:
            self._flush_notes()

    def _flush_notes(self):
        if self._notes and self._log:
            if not self._log_bol:
                self._log_text("\n")
            notes, self._notes = self._notes, []
            for n in notes:
                self._log_text(n)

    def _log_guest(self, text):
        """Guest output into the log; held driver notes go at a line end."""
        if self._notes and "\n" in text:
            i = text.index("\n") + 1
            self._log_text(text[:i])
            self._flush_notes()
            text = text[i:]
        self._log_text(text)

    def _feed(self, data):
        text = self._pending + self._dec.decode(data)
        self._pending = ""
        m = _CSI_PARTIAL.search(text)
        if m and len(text) - m.start() < 32:
            self._pending = text[m.start():]
            text = text[:m.start()]
        elif text.endswith("\r"):
            self._pending = "\r"  # maybe the first half of a CR LF
            text = text[:-1]
        text = _newlines(_CSI.sub("", text))
        self._log_guest(text)
        # keep the buffer small: drop whole lines already matched past
        if self.pos > (1 << 20):
            cut = self.buf.rfind("\n", 0, self.pos) + 1
            self.buf = self.buf[cut:]
            self.pos -= cut
            self._trimmed += cut
        self.buf += text

    def _fill(self, deadline):
        """Read what arrives before deadline. False on timeout; sets eof."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            tail = _newlines(self._pending + self._dec.decode(b"", final=True))
            self._pending = ""
            if tail:
                self._log_guest(tail)
                self.buf += tail
            self._flush_notes()
            return True
        self._feed(data)
        return True

    def tail(self, lines=8):
        """The last few lines received, for error messages."""
        return "\n".join(self.buf.rstrip("\n").split("\n")[-lines:])

    # -- steps --------------------------------------------------------------
    def wait(self, regex, timeout, what=None):
        """Wait for regex in output not yet matched; returns the match."""
        rx = re.compile(regex, re.M) if isinstance(regex, str) else regex
        what = what or f"/{rx.pattern}/"
        start = self.elapsed()
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self.eof:
                raise Closed(f"connection closed (QEMU exited?) after {self.elapsed():.2f} s "
                             f"while waiting for {what}")
            if not self._fill(deadline):
                raise Timeout(f"timed out after {timeout:g} s (at {self.elapsed():.2f} s, "
                              f"waited since {start:.2f} s) waiting for {what}")

    def wait_step(self, regex, timeout):
        m = self.wait(regex, timeout)
        # let the rest of the matched line arrive (tidier log), briefly
        deadline = time.monotonic() + 0.5
        while "\n" not in self.buf[m.end():] and not self.eof and self._fill(deadline):
            pass
        self.note(f"wait /{regex}/: matched after {self.elapsed():.2f} s")
        self._emit(f"=== wait /{regex}/: matched after {self.elapsed():.2f} s")
        return m

    def send(self, text, newline=True):
        self._flush_notes()  # the guest's line is a prompt now: end it here
        data = (text + ("\n" if newline else "")).encode()
        if self.char_delay > 0:
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
                time.sleep(self.char_delay)
        else:
            self.sock.sendall(data)

    def run(self, cmd, timeout, name=None):
        """Run one shell command line; returns (output, exit status)."""
        self._n += 1
        name = name or f"cmd{self._n}"
        tag = f"__PSD{self._nonce}"
        b, e = f"{tag}B{self._n}__", f"{tag}E{self._n}__"
        # what is typed splits each marker with "", so its echo never matches
        typed_b = f'{tag}B""{self._n}__'
        typed_e = f'{tag}E""{self._n}__'
        self._emit(f"=== run {name}: {cmd}")
        t = time.monotonic()
        self.send(f'echo {typed_b}; {cmd}; echo "{typed_e} $?"')
        deadline = t + timeout
        try:
            mb = self.wait(re.escape(b) + r"\n", timeout, f"the start of run {name}")
            start = self._trimmed + mb.end()  # buf may be trimmed while we wait on
            me = self.wait(re.escape(e) + r" (\d+)\n", max(0.0, deadline - time.monotonic()),
                           f"the end of run {name}")
        except Timeout:
            raise Timeout(f"run {name}: not finished within {timeout:g} s "
                          f"(at {self.elapsed():.2f} s): {cmd}") from None
        dt = time.monotonic() - t
        output = self.buf[start - self._trimmed:me.start()]
        if self.line_prefix is not None:
            # keep only the guest's lines, without the prefix the host adds
            lines = []
            for line in output.split("\n"):
                m = self.line_prefix.match(line)
                if m:
                    lines.append(line[m.end():])
            output = "\n".join(lines)
        status = int(me.group(1))
        self.outputs[name] = (output, status)
        body = output if output.endswith("\n") or not output else output + "\n"
        self.note(f"begin run {name}: {cmd}", body)
        self.note(f"end run {name}: status={status} time={dt:.2f}")
        for line in output.rstrip("\n").split("\n") if output else []:
            self._emit(f"{name}| {line}")
        self._emit(f"=== run {name}: status={status} time={dt:.2f}")
        return output, status

    def check(self, name, regex):
        if name not in self.outputs:
            raise DriverError(f"check {name}: no run called {name}")
        if not re.search(regex, self.outputs[name][0], re.M):
            raise DriverError(f"check {name}: /{regex}/ does not match its output:\n"
                              + self.outputs[name][0].rstrip("\n"))
        self.note(f"check {name} /{regex}/: ok")
        self._emit(f"=== check {name} /{regex}/: ok")

    def sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.eof and self._fill(deadline):
            pass
        if time.monotonic() < deadline:
            time.sleep(max(0.0, deadline - time.monotonic()))

    # -- host commands beside the console (spawn, await, reap) ---------------
    def spawn(self, name, cmd):
        cmd = re.sub(r"\{([A-Za-z0-9_.-]+)\}",
                     lambda m: self.outputs.get(m.group(1), ("",))[0].strip(), cmd)
        p = subprocess.Popen(cmd, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        job = {"proc": p, "text": [], "pos": 0, "lock": threading.Lock()}

        def reader():
            for raw in iter(p.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                with job["lock"]:
                    job["text"].append(line)
                self._emit(f"{name}> {line.rstrip()}")
        job["thread"] = threading.Thread(target=reader, daemon=True)
        job["thread"].start()
        self.spawned[name] = job
        self.note(f"spawn {name}: {cmd}")
        self._emit(f"=== spawn {name}: {cmd}")

    def _job(self, name):
        if name not in self.spawned:
            raise DriverError(f"no spawned command called {name}")
        return self.spawned[name]

    def _text(self, job):
        with job["lock"]:
            return "".join(job["text"])

    def await_output(self, name, regex, timeout):
        job = self._job(name)
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            text = self._text(job)
            m = rx.search(text, job["pos"])
            if m:
                job["pos"] = m.end()
                self.note(f"await {name} /{regex}/: matched after {self.elapsed():.2f} s")
                self._emit(f"=== await {name} /{regex}/: matched after {self.elapsed():.2f} s")
                return
            if job["proc"].poll() is not None and not job["thread"].is_alive():
                raise DriverError(f"await {name} /{regex}/: it exited (code {job['proc'].returncode}) "
                                  f"without printing it; its last lines:\n" + "".join(text.splitlines(True)[-8:]))
            if time.monotonic() >= deadline:
                raise Timeout(f"await {name}: timed out after {timeout:g} s waiting for /{regex}/; "
                              f"its last lines:\n" + "".join(text.splitlines(True)[-8:]))
            if not self.eof:
                self._fill(min(deadline, time.monotonic() + 0.1))
            else:
                time.sleep(0.1)

    def reap(self, name, timeout, code=None):
        job = self._job(name)
        deadline = time.monotonic() + timeout
        while job["proc"].poll() is None:
            if time.monotonic() >= deadline:
                raise Timeout(f"reap {name}: still running after {timeout:g} s")
            if not self.eof:
                self._fill(min(deadline, time.monotonic() + 0.1))
            else:
                time.sleep(0.1)
        job["thread"].join(5)
        rc = job["proc"].returncode
        self.outputs[name] = (self._text(job), rc)
        self.note(f"reap {name}: exit code {rc}", self._text(job))
        self._emit(f"=== reap {name}: exit code {rc}")
        if code is not None and rc != code:
            raise DriverError(f"reap {name}: exit code {rc}, expected {code}")

    def kill_spawned(self):
        for job in self.spawned.values():
            if job["proc"].poll() is None:
                try:
                    os.killpg(job["proc"].pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def expect_exit(self, timeout=60.0, code=None):
        """Wait for the socket to close (and the command, if we started one)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline):
                raise Timeout(f"timed out after {timeout:g} s waiting for the connection "
                              f"to close (QEMU to exit)")
        msg = f"socket closed after {self.elapsed():.2f} s"
        if self.process is not None:
            try:
                rc = self.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise Timeout(f"{msg}, but the command still runs after {timeout:g} s")
            msg += f"; command exit code {rc}"
            if code is not None and rc != code:
                self.note(f"exit: {msg}")
                raise DriverError(f"{msg}, expected {code}")
        self.note(f"exit: {msg}")
        self._emit(f"=== exit: {msg}")


# -- scripts ------------------------------------------------------------------
def parse_step(line, where):
    """One script line -> (verb, args) or None for blanks and comments."""
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    verb, _, rest = s.partition(" ")
    rest = rest.strip()

    def num(x, what):
        try:
            v = float(x)
        except ValueError:
            raise ValueError(f"{where}: {verb}: {what} must be a number, not {x!r}")
        if v < 0:
            raise ValueError(f"{where}: {verb}: {what} must not be negative")
        return v

    if verb == "wait":
        parts = rest.rsplit(None, 1)
        if len(parts) != 2:
            raise ValueError(f"{where}: usage: wait REGEX TIMEOUT")
        try:
            re.compile(parts[0])
        except re.error as e:
            raise ValueError(f"{where}: wait: bad regex {parts[0]!r}: {e}")
        return verb, (parts[0], num(parts[1], "TIMEOUT"))
    if verb == "run":
        parts = rest.split(None, 2)
        if len(parts) != 3:
            raise ValueError(f"{where}: usage: run NAME TIMEOUT CMD...")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", parts[0]):
            raise ValueError(f"{where}: run: NAME may hold only letters, digits, _ . -")
        return verb, (parts[0], num(parts[1], "TIMEOUT"), parts[2])
    if verb == "send":
        return verb, (s[len("send"):].lstrip(" ") if len(s) > 4 else "",)
    if verb == "sendraw":
        try:
            text = codecs.decode(rest, "unicode_escape")
        except UnicodeDecodeError as e:
            raise ValueError(f"{where}: sendraw: bad escape: {e}")
        return verb, (text,)
    if verb == "check":
        parts = rest.split(None, 1)
        if len(parts) != 2:
            raise ValueError(f"{where}: usage: check NAME REGEX")
        return verb, tuple(parts)
    if verb == "sleep":
        return verb, (num(rest, "SECONDS"),)
    if verb == "spawn":
        parts = rest.split(None, 1)
        if len(parts) != 2 or not re.fullmatch(r"[A-Za-z0-9_.-]+", parts[0]):
            raise ValueError(f"{where}: usage: spawn NAME CMD...")
        return verb, tuple(parts)
    if verb == "await":
        parts = rest.split(None, 1)
        more = parts[1].rsplit(None, 1) if len(parts) == 2 else []
        if len(more) != 2:
            raise ValueError(f"{where}: usage: await NAME REGEX TIMEOUT")
        try:
            re.compile(more[0])
        except re.error as e:
            raise ValueError(f"{where}: await: bad regex {more[0]!r}: {e}")
        return verb, (parts[0], more[0], num(more[1], "TIMEOUT"))
    if verb == "reap":
        parts = rest.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"{where}: usage: reap NAME TIMEOUT [CODE]")
        try:
            code = int(parts[2]) if len(parts) == 3 else None
        except ValueError:
            raise ValueError(f"{where}: reap: CODE must be an integer")
        return verb, (parts[0], num(parts[1], "TIMEOUT"), code)
    if verb == "expect-exit":
        parts = rest.split()
        if len(parts) > 2:
            raise ValueError(f"{where}: usage: expect-exit [TIMEOUT [CODE]]")
        timeout = num(parts[0], "TIMEOUT") if parts else 60.0
        code = None
        if len(parts) == 2:
            try:
                code = int(parts[1])
            except ValueError:
                raise ValueError(f"{where}: expect-exit: CODE must be an integer")
        return verb, (timeout, code)
    raise ValueError(f"{where}: unknown step {verb!r} "
                     "(wait, run, send, sendraw, check, sleep, spawn, await, reap, expect-exit)")


def run_steps(d, steps):
    for where, verb, args in steps:
        try:
            if verb == "wait":
                d.wait_step(*args)
            elif verb == "run":
                name, timeout, cmd = args
                d.run(cmd, timeout, name=name)
            elif verb == "send":
                d.note(f"send {args[0]!r}")
                d.send(args[0])
            elif verb == "sendraw":
                d.note(f"sendraw {args[0]!r}")
                d.send(args[0], newline=False)
            elif verb == "check":
                d.check(*args)
            elif verb == "sleep":
                d.sleep(*args)
            elif verb == "spawn":
                d.spawn(*args)
            elif verb == "await":
                d.await_output(*args)
            elif verb == "reap":
                d.reap(*args)
            elif verb == "expect-exit":
                d.expect_exit(*args)
        except DriverError as e:
            raise DriverError(f"{where}: {e}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Drive a guest's serial console over a QEMU unix socket.",
        epilog="Steps: wait REGEX TIMEOUT | run NAME TIMEOUT CMD... | send TEXT | "
               "sendraw TEXT | check NAME REGEX | sleep S | expect-exit [TIMEOUT [CODE]]. "
               "See the top of this file for details.")
    ap.add_argument("--socket", required=True,
                    help="QEMU's unix socket (-serial unix:PATH,server=on), or tcp:HOST:PORT "
                         "(Bochs: com1 mode=socket-server)")
    ap.add_argument("--log", help="write the transcript here")
    ap.add_argument("--script", help="file of steps, one per line ('-' = standard input)")
    ap.add_argument("-e", dest="steps", action="append", default=[], metavar="STEP",
                    help="a step (after --script's; may be repeated)")
    ap.add_argument("--timestamps", action="store_true",
                    help="prefix transcript lines in the log with host seconds")
    ap.add_argument("--char-delay", type=float, default=0.0, metavar="S",
                    help="seconds between sent characters (for slow UART paths)")
    ap.add_argument("--connect-timeout", type=float, default=30.0, metavar="S")
    ap.add_argument("--line-prefix", metavar="REGEX",
                    help="the guest's lines start with this (e.g. '\\[linux0\\] ' when the "
                         "host tags them): run keeps only such lines of the output, "
                         "without it")
    ap.add_argument("command", nargs=argparse.REMAINDER,
                    help="-- COMMAND ARGS...: start this (QEMU) and watch it")
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command

    def err(msg, code):
        print(f"serial-driver: error: {msg}", file=sys.stderr, flush=True)
        return code

    steps = []
    try:
        if a.script:
            f = sys.stdin if a.script == "-" else open(a.script, encoding="utf-8")
            with f:
                for i, line in enumerate(f, 1):
                    st = parse_step(line.rstrip("\n"), f"{a.script}:{i}")
                    if st:
                        steps.append((f"{a.script}:{i}",) + st)
        for i, s in enumerate(a.steps, 1):
            st = parse_step(s, f"-e #{i}")
            if st:
                steps.append((f"-e #{i}",) + st)
        if a.line_prefix:
            re.compile(a.line_prefix)
    except (OSError, ValueError) as e:
        return err(e, 2)
    except re.error as e:
        return err(f"--line-prefix: bad regex: {e}", 2)
    if not steps:
        return err("no steps (give --script or -e)", 2)

    t0 = time.monotonic()  # times are reported from here (= the command's start)
    proc = None
    if cmd:
        if not tcp_address(a.socket) and os.path.exists(a.socket) and not os.path.isdir(a.socket):
            os.unlink(a.socket)  # stale socket from an earlier run
        try:
            # Its own process group, so that stopping it stops what it
            # started too (env -> tools/run-bochs.sh -> bochs-bin).
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            return err(f"cannot start {shlex.join(cmd)}: {e}", 2)
    d = None
    try:
        try:
            d = SerialDriver(a.socket, log_path=a.log, connect_timeout=a.connect_timeout,
                             timestamps=a.timestamps, char_delay=a.char_delay, process=proc,
                             t0=t0, line_prefix=a.line_prefix)
        except (DriverError, OSError) as e:
            return err(e, 3)
        try:
            run_steps(d, steps)
        except (DriverError, OSError) as e:
            d.note(f"FAILED: {e}")
            tail = d.tail()
            return err(f"{e}\n--- last output ---\n{tail}" if tail else str(e), 1)
        return 0
    except KeyboardInterrupt:
        return err("interrupted", 130)
    finally:
        if d:
            d.kill_spawned()
            d.close()
        if proc is not None:
            running = proc.poll() is None
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)  # the group: its children too, even after it exited
                except ProcessLookupError:
                    break
                try:
                    proc.wait(5)
                    if sig == signal.SIGTERM:
                        time.sleep(0.2)  # let the children act on it before SIGKILL looks
                except subprocess.TimeoutExpired:
                    pass
            if running:
                print(f"serial-driver: stopped {cmd[0]} (it was still running)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
