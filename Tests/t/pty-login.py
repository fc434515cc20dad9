#!/usr/bin/env python3
"""quilt login on a terminal, for the tests: `pty-login.py <code-file` runs `quilt login` in a pseudo-terminal, waits
for its prompt, types the code (the first line of standard input, so that it is in no command line) and Enter, and
prints what the terminal showed (carriage returns dropped); its exit status is quilt's."""
import os
import pty
import sys
import time

code = sys.stdin.readline().strip()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("quilt", ["quilt", "login"])
out = b""


def read_until(marker, limit):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break


read_until(b"Enter the code from the webpage: ", 30)
os.write(fd, code.encode() + b"\n")
read_until(b"\x00", 10)  # (until the program closes the terminal)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
