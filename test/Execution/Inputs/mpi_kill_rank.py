#!/usr/bin/env python3
"""Kills one process of an MPI job mid-run and reports how the job ended.

  mpi_kill_rank.py DIR RANK MPIRUN [MPIRUN ARGS...] -- PROGRAM [ARGS...]
      Starts `MPIRUN ARGS sh -c '...' PROGRAM ARGS`, each process writing its
      pid to DIR/pid.RANK first; waits for a progress line ("step ...") on
      the job's output, kills rank RANK with SIGKILL and waits (at most 60 s)
      for the job to end. Prints the job's output, then
      `ended N s after the kill, exit status S`; exits 1 if the job did not
      end, or ended with status 0.
"""

import os
import signal
import subprocess
import sys
import time


def main(argv):
    folder, rank = argv[0], argv[1]
    split = argv.index("--")
    launcher, program = argv[2:split], argv[split + 1:]
    wrapper = ["sh", "-c",
               'echo $$ > "%s/pid.${OMPI_COMM_WORLD_RANK:-${PMI_RANK}}"; exec "$@"' % folder,
               "sh"]
    job = subprocess.Popen(launcher + wrapper + program, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    output = []
    for line in job.stdout:
        output.append(line)
        if line.lstrip().startswith("step"):
            break
    else:
        print("".join(output))
        print("the job ended before its first progress line")
        return 1
    pid = int(open(os.path.join(folder, "pid." + rank)).read())
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    try:
        rest, _ = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        print("".join(output))
        print("the job still runs 60 s after the kill")
        return 1
    output.append(rest)
    seconds = time.monotonic() - killed
    print("".join(output))
    print("ended %d s after the kill, exit status %d" % (round(seconds), job.returncode))
    return 0 if job.returncode != 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
