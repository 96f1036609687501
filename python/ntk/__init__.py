"""ntk: neural-tangents' API over ntk.h (one C header; ctypes + numpy, nothing else).

    import ntk as nt
    from ntk import stax
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(512), stax.Relu(), stax.Dense(1))
    nngp = kernel_fn(x1, x2, 'nngp')

Modules: ntk.stax (layers: the (init_fn, apply_fn, kernel_fn) triples), ntk.predict
(gradient_descent_mse, gp_inference, gradient_descent_mse_ensemble, max_learning_rate), and
here: empirical_kernel_fn, empirical_ntk_fn, empirical_nngp_fn, monte_carlo_kernel_fn,
linearize. Errors: every ntk_status is an exception with .status and .status_string
(ValueError for bad arguments and architectures, numpy.linalg.LinAlgError for a kernel that is
not positive definite, MemoryError, FloatingPointError for non-finite results,
NotImplementedError for what ntk.h does not compute yet); Ctrl-C during a call cancels it
(ntk.Cancelled, a KeyboardInterrupt)."""
from . import _lib
from ._lib import (NtkError, InvalidArgumentError, BadLayerError, OutOfMemoryError,
                   SizeOverflowError, NonFiniteError, NotPositiveDefiniteError,
                   NoConvergenceError, UnsupportedError, Cancelled, library_path)
from . import stax
from . import predict
from .empirical import (empirical_kernel_fn, empirical_ntk_fn, empirical_nngp_fn,
                        monte_carlo_kernel_fn, linearize)

__version__ = _lib.lib.ntk_version().decode()
simd = _lib.lib.ntk_simd_name().decode()
