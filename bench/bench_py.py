"""make bench, the Python rows: ntk.stax's kernel_fn against the bare C call it makes
(ntk_kernel_ex through ctypes on the same arrays and layer list: no conversion, no checks), i.e.
the binding's overhead. Both validated equal (bit for bit) before timing; medians of interleaved
runs after a warm-up. usage: bench_py.py [filter]"""
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ntk import stax, _lib  # noqa: E402


def rows():
    r = np.random.RandomState(0)
    yield ("tiny 10x10 (the fixed cost per call), 1 thread",
           stax.serial(stax.Dense(4), stax.Relu(), stax.Dense(1)), r.standard_normal((10, 3)))
    yield ("mlp 1000x1000 d=784 relu depth 3, ntk+nngp",
           stax.serial(*([stax.Dense(512, 1.4, 0.1), stax.Relu()] * 3 + [stax.Dense(1)])),
           r.standard_normal((1000, 784)))
    yield ("cnn 24 images 8x8x3, 2x(conv3x3 relu) gap",
           stax.serial(stax.Conv(16, (3, 3), padding="SAME"), stax.Relu(),
                       stax.Conv(16, (3, 3), padding="SAME"), stax.Relu(),
                       stax.GlobalAvgPool(), stax.Dense(1)),
           r.standard_normal((24, 8, 8, 3)))


def _timeit(f, m):
    t0 = time.perf_counter()
    for _ in range(m):
        f()
    return (time.perf_counter() - t0) / m


def main():
    filt = sys.argv[1] if len(sys.argv) > 1 else ""
    reps = int(os.environ.get("NTK_BENCH_PY_REPS", "7"))
    print("\n### Python binding: kernel_fn vs the bare C call (seconds, median of %d)" % reps)
    print("| row | C call | kernel_fn | overhead |")
    print("|---|---|---|---|")
    for name, net, x in rows():
        if filt and filt not in name and filt not in "python":
            continue
        kernel_fn = net[2]
        c = kernel_fn.__self__.compiled(x.shape[1:])
        n = x.shape[0]
        a = np.ascontiguousarray(x, dtype=np.float64)
        threads = 1 if name.startswith("tiny") else 0
        desc = _lib.KernelDesc(_lib.C_PROGRESS, None, 0, threads)

        def c_call():
            # fresh outputs, as a C caller (and build/ntk) mallocs them: first touch is paid
            nngp, ntk = np.empty((n, n)), np.empty((n, n))
            st = _lib.lib.ntk_kernel_ex(c.layers, c.n, _lib.ptr(a), n, None, n, c.dim,
                                        _lib.ptr(nngp), _lib.ptr(ntk), ctypes.byref(desc))
            assert st == 0, _lib.status_string(st)
            return nngp, ntk

        def py_call():
            return kernel_fn(x, None, threads=threads)
        nngp, ntk = c_call()
        k = py_call()
        if not (np.array_equal(k.nngp, nngp) and np.array_equal(k.ntk, ntk)):
            print("| %s | validation FAILED: kernel_fn differs from the C call |" % name)
            continue
        tc, tp = [], []
        for r in range(reps):  # alternate which goes first: no order bias
            for f, t in ((c_call, tc), (py_call, tp))[::1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                f()
                t.append(time.perf_counter() - t0)
        mc, mp = float(np.median(tc)), float(np.median(tp))
        if name.startswith("tiny"):  # many calls per sample: the fixed cost in µs
            m = 2000
            mc = min(_timeit(c_call, m) for _ in range(3))
            mp = min(_timeit(py_call, m) for _ in range(3))
            print("| %s | %.1f µs | %.1f µs | +%.1f µs |" % (name, mc * 1e6, mp * 1e6,
                                                            (mp - mc) * 1e6))
            continue
        print("| %s | %.4f | %.4f | %+.1f%% |" % (name, mc, mp, 100 * (mp - mc) / mc))


if __name__ == "__main__":
    main()
