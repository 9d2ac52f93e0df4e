#!/usr/bin/python3
"""numpy (Debian's OpenBLAS) SGEMM timed on request, so that the gemm benchmark can interleave it with ours in one run.

    /usr/bin/python3 tools/numpy_gemm_server.py M N K     (OPENBLAS_NUM_THREADS sets the threads)

Prints "ready", then for every line "run R" on standard input multiplies two random float32 matrices (M x K by K x N)
once untimed and R times timed, back to back, and prints the median seconds; ends at end of input."""
import os, statistics, sys, time
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_check import warn_if_reference_blas

warn_if_reference_blas()

m, n, k = map(int, sys.argv[1:4])
a = np.random.rand(m, k).astype(np.float32)
b = np.random.rand(k, n).astype(np.float32)
a @ b
print("ready", flush=True)
for line in sys.stdin:
    words = line.split()
    if len(words) != 2 or words[0] != "run":
        break
    a @ b
    times = []
    for _ in range(int(words[1])):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print("%.9f" % statistics.median(times), flush=True)
