"""ctypes bindings of libntk.so (ntk.h as a shared library): loading, the mirrored structs,
statuses as Python exceptions, Ctrl-C and progress through the library's progress callbacks.

The library is looked for, in order: $NTK_LIBRARY (a path), the path `make install` wrote into
_installed.py, ../../build/libntk.so next to this package in a source tree (after `make lib`),
then the system's search path (libntk.so)."""
import ctypes
import ctypes.util
import os
import sys
import threading
import time

import numpy as np

c_size = ctypes.c_size_t
c_real = ctypes.c_double
P_real = ctypes.POINTER(c_real)


def _find_library():
    tried = []
    env = os.environ.get("NTK_LIBRARY")
    if env:
        return env, [env]
    try:
        from . import _installed  # written by make install
        tried.append(_installed.LIBRARY)
        if os.path.exists(_installed.LIBRARY):
            return _installed.LIBRARY, tried
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "build", "libntk.so")
    tried.append(os.path.normpath(src))
    if os.path.exists(src):
        return src, tried
    found = ctypes.util.find_library("ntk")
    tried.append("libntk.so on the system's library path")
    return found, tried


_path, _tried = _find_library()
if not _path:
    raise ImportError("ntk: libntk.so not found (run `make lib` in the ntk.h tree, or set "
                      "NTK_LIBRARY); tried: " + ", ".join(_tried))
try:
    lib = ctypes.CDLL(_path)
except OSError as e:
    raise ImportError("ntk: cannot load %s: %s" % (_path, e)) from None
library_path = _path

# ---- structs mirrored from ntk.h (checked against the library below) -----------------------
FN1 = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double, ctypes.c_void_p)


class Layer(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("param", ctypes.c_int), ("width", c_size),
                ("w_std", ctypes.c_double), ("b_std", ctypes.c_double),
                ("a", ctypes.c_double), ("b", ctypes.c_double), ("c", ctypes.c_double),
                ("quad_degree", ctypes.c_int), ("f", FN1), ("df", FN1),
                ("user", ctypes.c_void_p), ("shape", c_size * 3), ("stride", c_size * 2),
                ("padding", ctypes.c_int), ("bias", ctypes.c_int), ("n", c_size),
                ("flags", ctypes.c_int), ("eps", ctypes.c_double)]


class LayerInfo(ctypes.Structure):
    _fields_ = [("in_", c_size * 3), ("out", c_size * 3), ("gaussian", ctypes.c_int),
                ("has_bias", ctypes.c_int), ("fan_in", c_size), ("n_params", c_size),
                ("param_offset", c_size)]


PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_double, ctypes.c_void_p)


class KernelDesc(ctypes.Structure):
    _fields_ = [("progress", PROGRESS), ("progress_user", ctypes.c_void_p), ("tile", c_size),
                ("threads", ctypes.c_int)]


class PredictorDesc(ctypes.Structure):
    _fields_ = [("progress", PROGRESS), ("progress_user", ctypes.c_void_p)]


class EntkDesc(ctypes.Structure):
    _fields_ = [("method", ctypes.c_int), ("nngp_conditional", ctypes.c_int)]


def _check_layout():
    out = (c_size * 32)()
    lib.ntkpy_layer_layout.restype = c_size
    lib.ntkpy_layer_layout.argtypes = [ctypes.POINTER(c_size), c_size]
    n = lib.ntkpy_layer_layout(out, 32)
    mine = [ctypes.sizeof(Layer)] + [getattr(Layer, f[0]).offset for f in Layer._fields_]
    lib.ntkpy_sizeof_real.restype = c_size
    lib.ntkpy_sizeof_layer_info.restype = c_size
    if list(out[:n]) != mine or lib.ntkpy_sizeof_layer_info() != ctypes.sizeof(LayerInfo):
        raise ImportError("ntk: %s was built from an ntk.h whose ntk_layer/ntk_layer_info layout "
                          "differs from this package's (rebuild both from one tree)" % _path)
    if lib.ntkpy_sizeof_real() != 8:
        raise ImportError("ntk: %s was built with NTK_REAL_FLOAT; the package needs the default "
                          "double build" % _path)


_check_layout()

# ---- prototypes -------------------------------------------------------------------------------
_i, _d, _p, _u64, _vp = ctypes.c_int, ctypes.c_double, P_real, ctypes.c_uint64, ctypes.c_void_p
P_layer = ctypes.POINTER(Layer)
_protos = {
    "ntk_status_string": (ctypes.c_char_p, [_i]),
    "ntk_version": (ctypes.c_char_p, []),
    "ntk_simd_name": (ctypes.c_char_p, []),
    "ntk_parse_net": (_i, [ctypes.c_char_p, _vp, P_layer, c_size, ctypes.POINTER(c_size),
                           ctypes.POINTER(c_size), ctypes.c_char_p, c_size]),
    "ntk_layers_describe": (_i, [P_layer, c_size, c_size, ctypes.POINTER(LayerInfo),
                                 ctypes.POINTER(c_size), ctypes.POINTER(ctypes.c_char_p)]),
    "ntk_kernel_ex": (_i, [P_layer, c_size, _p, c_size, _p, c_size, c_size, _p, _p,
                           ctypes.POINTER(KernelDesc)]),
    "ntkpy_net_new": (_vp, [P_layer, c_size, c_size, _u64, ctypes.POINTER(_i)]),
    "ntkpy_net_delete": (None, [_vp]),
    "ntkpy_net_params": (_p, [_vp]),
    "ntkpy_net_n_params": (c_size, [_vp]),
    "ntkpy_net_outputs": (c_size, [_vp]),
    "ntk_net_apply": (_i, [_vp, _p, c_size, _p]),
    "ntk_net_apply_linearized": (_i, [_vp, _p, _p, c_size, _p]),
    "ntk_net_empirical_kernel_ex": (_i, [_vp, _p, c_size, _p, c_size, _i, _p, _p,
                                         ctypes.POINTER(EntkDesc)]),
    "ntk_monte_carlo_kernel": (_i, [P_layer, c_size, _p, c_size, _p, c_size, c_size, _u64,
                                    c_size, _p, _p]),
    "ntkpy_predictor_new": (_vp, [_p, c_size, _p, c_size, _p, _d, _d, _i,
                                  ctypes.POINTER(PredictorDesc), ctypes.POINTER(_i)]),
    "ntkpy_predictor_delete": (None, [_vp]),
    "ntk_predict_train": (_i, [_vp, _d, _i, _p]),
    "ntk_predict_test": (_i, [_vp, _d, _i, _p, c_size, _p, _p]),
    "ntk_gp_inference": (_i, [_p, c_size, _p, c_size, _p, c_size, _p, _d, _i, _p, _p]),
    "ntk_ensemble_ntk": (_i, [_vp, _d, _p, c_size, _p, _p, _p, _p, _p]),
    "ntk_ensemble_nngp": (_i, [_vp, _d, _p, c_size, _p, _p, _p]),
    "ntk_max_learning_rate": (_i, [_p, c_size, c_size, ctypes.POINTER(_d)]),
}
for _name, (_res, _args) in _protos.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args
for _name in ("ntk_dense", "ntk_dense_standard", "ntk_identity", "ntk_relu", "ntk_leaky_relu",
              "ntk_abrelu", "ntk_abs", "ntk_erf", "ntk_erf_scaled", "ntk_gelu", "ntk_sin",
              "ntk_sin_scaled", "ntk_cos", "ntk_sign", "ntk_rbf", "ntk_exp", "ntk_tanh",
              "ntk_softplus", "ntk_custom", "ntk_input", "ntk_conv", "ntk_conv_standard",
              "ntk_avg_pool", "ntk_sum_pool", "ntk_global_avg_pool", "ntk_global_sum_pool",
              "ntk_flatten", "ntk_layer_norm", "ntk_fanout", "ntk_branch", "ntk_fanin_sum",
              "ntk_fanin_concat"):
    getattr(lib, _name).restype = Layer
lib.ntk_dense.argtypes = lib.ntk_dense_standard.argtypes = [c_size, _d, _d]
lib.ntk_leaky_relu.argtypes = [_d]
lib.ntk_abrelu.argtypes = [_d, _d]
lib.ntk_erf_scaled.argtypes = lib.ntk_sin_scaled.argtypes = [_d, _d, _d]
lib.ntk_rbf.argtypes = [_d]
lib.ntk_exp.argtypes = [_d, _d]
lib.ntk_custom.argtypes = [FN1, FN1, _vp]
lib.ntk_input.argtypes = [c_size, c_size, c_size]
lib.ntk_conv.argtypes = lib.ntk_conv_standard.argtypes = [c_size, c_size, c_size, c_size, c_size,
                                                          _i, _d, _d]
lib.ntk_avg_pool.argtypes = [c_size, c_size, c_size, c_size, _i, _i]
lib.ntk_sum_pool.argtypes = [c_size, c_size, c_size, c_size, _i]
lib.ntk_layer_norm.argtypes = [_i, _d]
lib.ntk_fanout.argtypes = [c_size]

# enum values of ntk.h
LAYER_DENSE = lib.ntk_dense(1, 1.0, 0.0).kind
LAYER_CONV = lib.ntk_conv(1, 1, 1, 1, 1, 0, 1.0, 0.0).kind
PAD = {"VALID": 0, "SAME": 1, "CIRCULAR": 2}
BIAS_AUTO, BIAS_NONE, BIAS_ALWAYS = 0, 1, 2
AXIS_H, AXIS_W, AXIS_C = 1, 2, 4
INFINITY = float("inf")

# ---- statuses as exceptions -------------------------------------------------------------------
OK, INVALID_ARG, OUT_OF_MEMORY, OVERFLOW, NON_FINITE, NOT_PD, NO_CONVERGENCE, BAD_LAYER, \
    UNSUPPORTED, CANCELLED = 0, -1, -2, -3, -4, -5, -6, -7, -8, -9


def status_string(s):
    return lib.ntk_status_string(s).decode()


class NtkError(Exception):
    """Base of every error from the library; .status is the ntk_status code and
    .status_string its ntk_status_string."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status
        self.status_string = status_string(status)


class InvalidArgumentError(NtkError, ValueError):
    pass


class BadLayerError(NtkError, ValueError):
    pass


class OutOfMemoryError(NtkError, MemoryError):
    pass


class SizeOverflowError(NtkError, MemoryError):
    """A size whose element or byte count does not fit a size_t."""


class NonFiniteError(NtkError, FloatingPointError):
    pass


class NotPositiveDefiniteError(NtkError, np.linalg.LinAlgError):
    pass


class NoConvergenceError(NtkError, np.linalg.LinAlgError):
    pass


class UnsupportedError(NtkError, NotImplementedError):
    pass


class Cancelled(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a library call: the call was cancelled through its progress
    callback (ntk_status NTK_ERR_CANCELLED); a KeyboardInterrupt, so it stops a script as one."""

    status = CANCELLED


_ERRORS = {INVALID_ARG: InvalidArgumentError, OUT_OF_MEMORY: OutOfMemoryError,
           OVERFLOW: SizeOverflowError, NON_FINITE: NonFiniteError,
           NOT_PD: NotPositiveDefiniteError, NO_CONVERGENCE: NoConvergenceError,
           BAD_LAYER: BadLayerError, UNSUPPORTED: UnsupportedError}


def check(status, what, detail=None):
    """Raise the exception of a status (nothing for NTK_OK)."""
    if status == OK:
        return
    msg = "%s: %s" % (what, status_string(status))
    if detail:
        msg += " (%s)" % detail
    if status == CANCELLED:
        raise Cancelled(msg)
    raise _ERRORS.get(status, NtkError)(msg, status)


# ---- Ctrl-C and progress ----------------------------------------------------------------------
lib.ntkpy_sigint_disarm.restype = ctypes.c_int
lib.ntkpy_interrupted.restype = ctypes.c_int
C_PROGRESS = ctypes.cast(lib.ntkpy_progress, PROGRESS)  # C: returns the SIGINT flag, no GIL
_sigint_lock = threading.Lock()


class Interruptible:
    """Context for one library call: while it is open, SIGINT only raises a flag in libntk.so
    (ntkpy_sigint_arm), and the call's progress callback returns it, so the library stops with
    NTK_ERR_CANCELLED and Cancelled (a KeyboardInterrupt) is raised here. .cb is the C callback
    (no Python, no GIL: no cost in the call), or with progress=True a Python one that also draws
    a bar on standard error (stage, percentage, time left)."""

    def __init__(self, progress=False, label=""):
        self.bar = progress
        self.label = label
        self.t0 = time.monotonic()
        self.last = 0.0
        self.cb = PROGRESS(self._callback) if progress else C_PROGRESS

    def _callback(self, stage, done, user):
        now = time.monotonic()
        if done >= 1.0 or now - self.last > 0.1:
            self.last = now
            el = now - self.t0
            left = "%6.1fs left" % (el * (1 - done) / done) if done > 0 else ""
            sys.stderr.write("\r%s%s %5.1f%% %s" % (self.label, stage.decode() if stage else "",
                                                     100 * done, left))
            if done >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()
        return lib.ntkpy_interrupted()

    def __enter__(self):
        with _sigint_lock:
            lib.ntkpy_sigint_arm()
        return self

    def __exit__(self, *exc):
        with _sigint_lock:
            hit = lib.ntkpy_sigint_disarm()
        if hit and exc[0] is None:
            raise Cancelled("cancelled (Ctrl-C): " + status_string(CANCELLED))
        return False


# ---- arrays -----------------------------------------------------------------------------------
def as_real(x, name, ndim_min=1):
    """x as a C-contiguous float64 array (a copy only when needed); any real float or integer
    dtype, any memory order."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError("%s: expected a real numeric array, got dtype %s" % (name, a.dtype))
    if a.ndim < ndim_min:
        raise ValueError("%s: expected at least %d dimensions, got shape %s" % (name, ndim_min,
                                                                                a.shape))
    return np.ascontiguousarray(a, dtype=np.float64)


def ptr(a):
    return None if a is None else a.ctypes.data_as(P_real)


def out_dtype(dtype):
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError("dtype: float64 or float32, got %s" % dt)
    return dt
