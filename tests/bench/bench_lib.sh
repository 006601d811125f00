# Helpers shared by the benchmarks (sourced).

# measure CMD...: wall seconds, peak RSS in KiB and exit status of CMD (its standard
# output discarded), from wait4's rusage.
measure() {
	python3 - "$@" <<'PY'
import os, sys, time, resource
t = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print("%.3f %d %d" % (time.monotonic() - t, ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
PY
}
