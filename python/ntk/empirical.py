"""Finite-width kernels and the linearised network, for networks built with ntk.stax
(neural-tangents' empirical_*_fn, monte_carlo_kernel_fn, linearize), over ntk_net_*."""
import numpy as np

from . import _lib
from . import stax as _stax
from ._lib import lib

__all__ = ["empirical_kernel_fn", "empirical_ntk_fn", "empirical_nngp_fn",
           "monte_carlo_kernel_fn", "linearize"]


def _functions(f, what):
    owner = getattr(f, "__self__", None)
    if not isinstance(owner, _stax._Functions):
        raise TypeError("%s: f must be an apply_fn (or init_fn) from ntk.stax; ntk has no "
                        "automatic differentiation of arbitrary Python functions" % what)
    return owner


def _full(trace_axes, diagonal_axes, what):
    t = tuple(trace_axes)
    if tuple(diagonal_axes):
        raise ValueError("%s: diagonal_axes are not supported (ntk.h: traced or full kernels)" %
                         what)
    if t in ((-1,), (1,)):
        return 0
    if t == ():
        return 1
    raise ValueError("%s: trace_axes (-1,) (the outputs averaged) or () (every output pair), "
                     "got %r" % (what, trace_axes))


def _entk(fns, x1, x2, params, names, full, what):
    a1 = _lib.as_real(x1, "x1", 2)
    a2 = None if x2 is None else _lib.as_real(x2, "x2", 2)
    if a2 is not None and a2.shape[1:] != a1.shape[1:]:
        raise ValueError("x1 %s and x2 %s: shapes differ after the batch axis" % (a1.shape,
                                                                                  a2.shape))
    c = fns.compiled(a1.shape[1:])
    flat = c.from_tree(fns.node, params)
    n1 = a1.shape[0]
    n2 = n1 if a2 is None else a2.shape[0]
    with c.lock:
        net = c.load(flat)
        k = lib.ntkpy_net_outputs(net)
        r1, r2 = (n1 * k, n2 * k) if full else (n1, n2)
        outs = {g: np.empty((r1, r2)) for g in names}
        desc = _lib.EntkDesc(0, 0)
        _lib.check(lib.ntk_net_empirical_kernel_ex(
            net, _lib.ptr(a1), n1, _lib.ptr(a2), 0 if a2 is None else n2, full,
            _lib.ptr(outs.get("nngp")), _lib.ptr(outs.get("ntk")), _lib.ctypes.byref(desc)),
            what)
    if full:  # rows i·k + a, columns j·k + b → neural-tangents' (n1, n2, k, k)
        outs = {g: v.reshape(n1, k, n2, k).transpose(0, 2, 1, 3).copy() for g, v in outs.items()}
    return outs


def empirical_kernel_fn(f, trace_axes=(-1,), diagonal_axes=(), vmap_axes=None,
                        implementation=None):
    """kernel_fn(x1, x2, get, params): the empirical NNGP f(x)·f(x')ᵀ and NTK J(x)·J(x')ᵀ of the
    finite network (ntk.h's structured derivatives), averaged over outputs with trace_axes=(-1,),
    (n1, n2, k, k) with trace_axes=()."""
    fns = _functions(f, "empirical_kernel_fn")
    full = _full(trace_axes, diagonal_axes, "empirical_kernel_fn")

    def kernel_fn(x1, x2=None, get=None, params=None, **kwargs):
        if params is None:
            raise ValueError("empirical kernel_fn: params are required")
        names = _stax._get_names(get)
        return _stax._select(_entk(fns, x1, x2, params, names, full, "empirical kernel_fn"),
                             get)
    return kernel_fn


def empirical_ntk_fn(f, trace_axes=(-1,), diagonal_axes=(), vmap_axes=None,
                     implementation=None):
    k = empirical_kernel_fn(f, trace_axes, diagonal_axes)
    return lambda x1, x2, params, **kw: k(x1, x2, "ntk", params)


def empirical_nngp_fn(f, trace_axes=(-1,), diagonal_axes=()):
    k = empirical_kernel_fn(f, trace_axes, diagonal_axes)
    return lambda x1, x2, params, **kw: k(x1, x2, "nngp", params)


def monte_carlo_kernel_fn(init_fn, apply_fn, key, n_samples, batch_size=0, device_count=-1,
                          store_on_device=True, trace_axes=(-1,), diagonal_axes=(),
                          vmap_axes=None, implementation=None):
    """kernel_fn(x1, x2=None, get=None): the mean traced empirical kernels of n_samples networks
    drawn with seeds key, key + 1, … (ntk_monte_carlo_kernel). n_samples an iterable of counts:
    a generator of the estimates at those counts (the same draws, so nested)."""
    fns = _functions(apply_fn, "monte_carlo_kernel_fn")
    if _full(trace_axes, diagonal_axes, "monte_carlo_kernel_fn"):
        raise ValueError("monte_carlo_kernel_fn: trace_axes=(-1,) only (ntk.h averages traced "
                         "kernels)")
    seed = _stax._seed(key)

    def one(x1, x2, get, n):
        if int(n) < 1:
            raise ValueError("n_samples: >= 1, got %r" % (n,))
        names = _stax._get_names(get)
        a1 = _lib.as_real(x1, "x1", 2)
        a2 = None if x2 is None else _lib.as_real(x2, "x2", 2)
        c = fns.compiled(a1.shape[1:])
        n1 = a1.shape[0]
        n2 = n1 if a2 is None else a2.shape[0]
        outs = {g: np.empty((n1, n2)) for g in names}
        _lib.check(lib.ntk_monte_carlo_kernel(c.layers, c.n, _lib.ptr(a1), n1, _lib.ptr(a2),
                                              0 if a2 is None else n2, c.dim, seed, int(n),
                                              _lib.ptr(outs.get("nngp")),
                                              _lib.ptr(outs.get("ntk"))),
                   "monte_carlo kernel_fn")
        return _stax._select(outs, get)

    if isinstance(n_samples, (int, np.integer)):
        return lambda x1, x2=None, get=None, **kw: one(x1, x2, get, n_samples)

    def gen(x1, x2=None, get=None, **kw):
        for n in n_samples:
            yield one(x1, x2, get, n)
    return gen


def linearize(f, params):
    """f_lin(p, x) = f(params, x) + J(params, x)·(p − params) (ntk_net_apply_linearized)."""
    fns = _functions(f, "linearize")
    base = {}

    def f_lin(p, x, **kwargs):
        a = _lib.as_real(x, "inputs", 2)
        c = fns.compiled(a.shape[1:])
        if c.in_shape not in base:
            base[c.in_shape] = c.from_tree(fns.node, params)
        theta = c.from_tree(fns.node, p)
        with c.lock:
            net = c.load(base[c.in_shape])
            k = lib.ntkpy_net_outputs(net)
            out = np.empty((a.shape[0], k))
            _lib.check(lib.ntk_net_apply_linearized(net, _lib.ptr(theta), _lib.ptr(a),
                                                    a.shape[0], _lib.ptr(out)),
                       "linearize (ntk_net_apply_linearized)")
        return out
    return f_lin
