"""The BLAS that numpy and Debian's PyTorch call (through libblas.so.3): without libopenblas0-pthread it is the netlib
reference BLAS, correct but about 6x slower, which makes every reference timing and the PyTorch twin 6x too slow."""
import sys


def warn_if_reference_blas():
    """Warns on stderr when the process has Debian's netlib libblas (blas/libblas.so.3) mapped; call after importing
    numpy or torch. (threadpoolctl cannot tell: OpenBLAS may be loaded for LAPACK while BLAS calls go to netlib.)"""
    try:
        with open("/proc/self/maps") as maps:
            netlib = any("/blas/libblas.so" in line for line in maps)
    except OSError:
        return
    if netlib:
        print("warning: the matrix products run on the netlib reference BLAS, about 6x slower; "
              "apt-get install -y libopenblas0-pthread", file=sys.stderr)
