"""nbgrader's Execute, with the verdict computed outside the student's kernel.

``nbgrader_config.py`` puts :class:`VerdictExecute` in place of nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors``, so ``./course grade``, plain ``nbgrader autograde`` and the
formgrader's Autograde button all grade the same way. For every chapter with a generated solution
module (:func:`autograder.verdict.converted_chapters`: all of the course's chapters):

- the kernel runs in the course's sandbox (``autograder/sandbox.py``, nbgrader's kernel manager), with
  no variable naming a course path: no reference is mounted or named in it;
- after each graded test cell ``test_<name>`` has run (its visible checks, as students know them),
  the grader asks the kernel for the student's answers on the hidden inputs, data only, compares them
  with the reference here and replaces the cell's outputs with the verdict: a line on stdout when it
  passed, one error naming the failed check and the known mistake otherwise. SaveAutoGrades scores
  those outputs; a correct answer that printed to stderr keeps its points (the note says so);
- a notebook with no graded cell (a lab, such as 06c) is not run: it scores nothing, and running it
  would only cost time;
- if the kernel dies, exercises already graded keep their verdicts and every later test cell gets an
  error saying that the kernel died, and how.

A chapter without a solution module (one being written) runs exactly as with nbgrader's Execute.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Float, default

from autograder.verdict import converted_chapters
from autograder.verdict.core import Chapter, KernelDied, Student, StudentTimeout
from autograder.verdict.wire import KERNEL_HELPER

RESULT_NAME = "__verdict_result"
_HELPER_ID = hashlib.sha256(KERNEL_HELPER.encode()).hexdigest()[:16]
# The helper is compiled once per kernel (compiling it with every request cost ~80 ms a call). A
# notebook that rebinds ``__verdict_call`` or the marker only changes its own answers: the grader
# decodes them strictly, judges them against the reference and answers reference pieces only for
# the dependencies of the exercise being graded.
INSTALL_HELPER = (f"if globals().get('__verdict_helper') != {_HELPER_ID!r}:\n"
                  f"    exec(compile({KERNEL_HELPER!r}, '<verdict helper>', 'exec'), globals())\n"
                  f"    __verdict_helper = {_HELPER_ID!r}\n")
SECRET_ENV = ("COURSE_REFERENCE_DIR", "COURSE_ROOT", "COURSE_REPO")


_GARBLED = ("the kernel's messages could not be read after {where} (a submission that exhausts the "
            "sandbox's processes or memory can leave its kernel unable to answer)")


def _garbled(exc: BaseException) -> bool:
    """Whether ``exc`` is jupyter_client's error for a message that fails its signature check."""
    return isinstance(exc, ValueError) and "Invalid Signature" in str(exc)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _error(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


def _stdout(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)


class KernelStudent(Student):
    """The student's kernel, asked through Jupyter messages; replies are data, never trusted code."""

    def __init__(self, client: "VerdictExecute", timeout: float):
        self.client = client
        self.timeout = timeout
        self.reference_pieces = {}
        self._installed = False

    def request(self, req: dict) -> dict:
        install = "" if self._installed else INSTALL_HELPER  # once per kernel: it stays defined there
        self._installed = True
        code = install + f"{RESULT_NAME} = __verdict_call({json.dumps(json.dumps(req))}, input)\n"
        reply = run_sync(self.client._rpc)(code, lambda prompt: self.answer_piece(prompt, req.get("deps", ())),
                                             self.timeout)
        try:
            text = ast.literal_eval(reply)
            answer = json.loads(text)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            return answer
        except Exception as exc:
            return {"raised": {"ename": "UnreadableAnswer",
                               "evalue": f"the kernel's answer could not be read ({type(exc).__name__})"}}


class VerdictExecute(Execute):
    """Execute, then judge each graded test cell of a converted chapter in the grader's process."""

    verdict_timeout = Float(60.0, help="Seconds the student's code may take to answer one hidden check.").tag(config=True)

    @default("shutdown_kernel")
    def _immediate_shutdown(self):
        """Once the last cell is graded the kernel has nothing left to give: stop it at once. A
        graceful shutdown waits 1.5-2 s per notebook for the kernel to wind down (measured)."""
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        chapter = info.get("assignment")
        self._chapter = None
        self._dead = None
        if chapter in converted_chapters():
            self._chapter = Chapter(chapter)
        if not any(_meta(cell).get("grade") for cell in nb.cells):
            # a lab notebook (06c): nothing in it is scored, so it is not run (no kernel, no time spent)
            self.log.info("no graded cell in this notebook: not run")
            return nb, resources
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs):
        """For a converted chapter the kernel gets no variable naming course paths: its hidden checks
        need no reference in the kernel (the sandbox of autograder/sandbox.py then mounts none)."""
        if self._chapter is not None:
            env = dict(kwargs.get("env") or os.environ)
            for name in SECRET_ENV:
                env.pop(name, None)
            kwargs["env"] = env
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    # -------------------------------------------------------------- cells

    def preprocess_cell(self, cell, resources, index):
        if self._chapter is None:
            return super().preprocess_cell(cell, resources, index)
        meta = _meta(cell)
        graded = meta.get("grade") and cell.cell_type == "code"
        if self._dead:
            if cell.cell_type == "code":
                cell.outputs = [_error("KernelDied", f"{self._dead}: not graded")] if graded else []
            return cell, self.resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            self._dead = (f"the kernel did not stop after the per-cell time limit in "
                          f"{self._label(cell, index)}")
            self.log.warning(self._dead)
            cell.outputs = [_error("CellTimeoutError", f"{self._dead}: not graded")] if graded else []
            return cell, self.resources
        except DeadKernelError:
            self._dead = f"the kernel died while running {self._label(cell, index)} ({self._exit_info()})"
            self.log.warning(self._dead)
            cell.outputs = [_error("KernelDied", f"{self._dead}: not graded")] if graded else []
            return cell, self.resources
        except ValueError as exc:
            if not _garbled(exc):
                raise
            self._dead = _GARBLED.format(where=self._label(cell, index))
            self.log.warning(self._dead)
            cell.outputs = [_error("KernelDied", f"{self._dead}: not graded")] if graded else []
            return cell, self.resources
        gid = meta.get("grade_id", "")
        if graded and gid.startswith("test_") and gid[5:] in self._chapter.exercises:
            self._judge(cell, gid[5:])
        return cell, self.resources

    def _label(self, cell, index) -> str:
        gid = _meta(cell).get("grade_id")
        return f"cell {index}" + (f" ({gid})" if gid else "")

    def _exit_info(self) -> str:
        try:
            proc = getattr(getattr(self.km, "provisioner", None), "process", None)
            code = proc.poll() if proc is not None else None
        except Exception:
            code = None
        if code is None:
            return "exit status unknown"
        import signal
        number = -code if code < 0 else code - 128 if code > 128 else None  # a shell or bwrap: 128 + N
        if number:
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = str(number)
            return f"killed by signal {name}" + (f", exit code {code}" if code > 0 else "")
        return f"exit code {code}"

    def _judge(self, cell, name: str) -> None:
        visible = [o for o in cell.outputs if o.get("output_type") == "error"]
        stderr = sum(o.get("text", "").count("\n") or 1 for o in cell.outputs
                     if o.get("output_type") == "stream" and o.get("name") == "stderr")
        if any(o.get("ename") == "CellTimeoutError" for o in visible):
            cell.outputs = [_error("CellTimeoutError", f"{name}: the test cell ran past the per-cell time limit "
                                   f"({self.timeout} s) and was stopped: not graded further")]
            return
        student = KernelStudent(self, min(self.verdict_timeout, self.timeout or self.verdict_timeout))
        self._stderr_during = 0
        start = time.monotonic()
        try:
            verdict = self._chapter.grade(name, student)
            self.log.info("verdict of %s in %.1f s: %s", name, time.monotonic() - start, verdict.message[:100])
        except ValueError as exc:
            if not _garbled(exc):
                self.log.error("verdict of %s failed: %r", name, exc)
                cell.outputs = [_error("GraderError", f"{name}: the grader failed ({type(exc).__name__}: {exc}); "
                                       "tell your instructor")]
                return
            self._dead = _GARBLED.format(where=f"the hidden check of {name}")
            cell.outputs = [_error("KernelDied", f"{self._dead}: not graded")]
            return
        except Exception as exc:  # a bug of the grader, never the student's points silently
            self.log.error("verdict of %s failed: %r", name, exc)
            cell.outputs = [_error("GraderError", f"{name}: the grader failed ({type(exc).__name__}: {exc}); "
                                   "tell your instructor")]
            return
        notes = []
        ignored = stderr + self._stderr_during
        if ignored:
            notes.append(f"note: {ignored} line{'s' if ignored != 1 else ''} of stderr output "
                         "were ignored (grading uses the checks' results, not the cell's output)")
        if visible and verdict.passed:
            notes.append(f"note: the visible check failed in the notebook ({visible[0].get('ename')}: "
                         f"{str(visible[0].get('evalue'))[:200]}), but the grader's checks, which include "
                         "the visible cases, passed")
        if verdict.passed:
            cell.outputs = [_stdout("\u2714 " + verdict.message + " (graded outside your kernel)\n"
                                    + "".join(n + "\n" for n in notes))]
        else:
            message = verdict.message
            if visible:
                message += (f" [the visible check also failed: {visible[0].get('ename')}: "
                            f"{str(visible[0].get('evalue'))[:200]}]")
            ename = "KernelDied" if verdict.kernel_died else "CellTimeoutError" if verdict.timed_out else "CheckFailed"
            cell.outputs = [_error(ename, message)]
            if notes[:1] and ignored:
                cell.outputs.insert(0, _stdout(notes[0] + "\n"))
        if verdict.kernel_died and not self._dead:
            self._dead = f"the kernel died during the hidden check of {name} ({self._exit_info()})"

    # -------------------------------------------------------------- interrupts through a sandbox

    async def _interrupt(self) -> None:
        """Interrupt the kernel. Inside bubblewrap, SIGINT to the launcher's process group would kill
        bubblewrap (and with it the kernel) without reaching the kernel, which bubblewrap's new
        session puts in a group of its own: there the kernel's processes are signalled directly."""
        if self._launcher_is_bwrap():
            self._interrupt_descendants()
        else:
            await self.km.interrupt_kernel()

    def _launcher_is_bwrap(self) -> bool:
        try:
            with open(f"/proc/{self.km.provisioner.process.pid}/comm") as fh:
                return fh.read().strip() == "bwrap"
        except Exception:
            return False

    def _interrupt_descendants(self) -> None:
        """SIGINT to every process under the kernel's launcher except bubblewrap's own."""
        import signal
        try:
            root = self.km.provisioner.process.pid
        except Exception:
            return
        todo, seen = [root], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as fh:
                        todo += [int(c) for c in fh.read().split()]
            except OSError:
                continue
        for pid in seen - {root}:
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    if fh.read().strip() == "bwrap":
                        continue
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass

    async def _async_handle_timeout(self, timeout, cell=None):
        if not (self.interrupt_on_timeout and self._launcher_is_bwrap()):
            return await super()._async_handle_timeout(timeout, cell)
        self.log.error("Timeout waiting for execute reply (%is): interrupting the kernel", timeout)
        self._interrupt_descendants()
        if self.error_on_timeout:
            return {"content": {**self.error_on_timeout, "status": "error"}}
        return None

    # -------------------------------------------------------------- one request to the kernel

    async def _rpc(self, code: str, answer, timeout: float) -> str:
        """Run ``code`` in the kernel (stdin answered by ``answer``); the repr of RESULT_NAME."""
        if self._dead:
            raise KernelDied(self._dead)
        import zmq
        import zmq.asyncio
        kc = self.kc
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=True, stop_on_error=False,
                            user_expressions={"r": RESULT_NAME})
        poller = zmq.asyncio.Poller()
        sockets = {kc.shell_channel.socket: "shell", kc.stdin_channel.socket: "stdin",
                   kc.iopub_channel.socket: "iopub"}
        for sock in sockets:
            poller.register(sock, zmq.POLLIN)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                await self._interrupt_and_drain(msg_id)
                raise StudentTimeout(f"{timeout:g} s")
            ready = dict(await poller.poll(int(min(left, 1.0) * 1000)))
            if not ready:
                if not await self.km.is_alive():
                    raise KernelDied(self._exit_info())
                continue
            for sock, kind in sockets.items():
                if sock not in ready:
                    continue
                channel = {"shell": kc.shell_channel, "stdin": kc.stdin_channel, "iopub": kc.iopub_channel}[kind]
                msg = await channel.get_msg(timeout=0)
                parent = msg.get("parent_header", {}).get("msg_id")
                if kind == "iopub":
                    content = msg.get("content", {})
                    if msg.get("msg_type") == "stream" and content.get("name") == "stderr" and parent == msg_id:
                        self._stderr_during += content.get("text", "").count("\n") or 1
                elif kind == "stdin":
                    if msg.get("msg_type") == "input_request":
                        prompt = str(msg["content"].get("prompt", ""))
                        kc.input(answer(prompt) if prompt.startswith("\x00verdict:") else "")
                elif parent == msg_id and msg.get("msg_type") == "execute_reply":
                    content = msg["content"]
                    if content.get("status") != "ok":
                        return json.dumps(json.dumps({"raised": {"ename": str(content.get("ename", "Error")),
                                                                 "evalue": str(content.get("evalue", ""))[:500]}}))
                    expr = content.get("user_expressions", {}).get("r", {})
                    if expr.get("status") != "ok":
                        return json.dumps(json.dumps({"raised": {
                            "ename": "NoAnswer", "evalue": "the kernel gave no answer "
                            f"({expr.get('ename', '')}: {str(expr.get('evalue', ''))[:200]})"}}))
                    return expr.get("data", {}).get("text/plain", "")

    async def _interrupt_and_drain(self, msg_id: str) -> None:
        try:
            await self._interrupt()
            end = time.monotonic() + 10
            while time.monotonic() < end:
                try:
                    msg = await self.kc.shell_channel.get_msg(timeout=1)
                except Exception:
                    if not await self.km.is_alive():
                        raise KernelDied(self._exit_info())
                    continue
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return
        except KernelDied:
            raise
        except Exception:
            pass
