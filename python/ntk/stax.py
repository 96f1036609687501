"""neural-tangents' stax vocabulary over ntk.h: every layer returns the triple
(init_fn, apply_fn, kernel_fn).

    init_fn(key, input_shape) -> (output_shape, params)    key: an int seed or 2 uint32s
    apply_fn(params, x)                                       x: (n, d), (n, L, C) or NHWC
    kernel_fn(x1, x2=None, get=None, *, progress=False, dtype=None)

A network is one layer list of ntk.h (the combinators build it; FanOut(n), parallel(b1, …, bn),
FanInSum()/FanInConcat() become FANOUT b1 BRANCH … FANIN). kernel_fn is ntk_kernel_ex on that
list, the same call as `ntk kernel` (build/ntk), so the numbers are the same to the last bit.
init_fn/apply_fn go through ntk_net_* (finite networks); parameters are in neural-tangents'
structure (nested tuples, Dense W (in, out), Conv W HWIO) and converted to ntk.h's layout inside
(see _params.py). The architecture rules are ntk.h's front end's, which are neural-tangents';
a list it refuses raises ValueError naming the layer and why."""
import collections
import math
import threading

import numpy as np

from . import _lib
from . import _params
from ._lib import lib

__all__ = ["serial", "parallel", "FanOut", "FanInSum", "FanInConcat", "Dense", "Conv",
           "AvgPool", "SumPool", "GlobalAvgPool", "GlobalSumPool", "Flatten", "LayerNorm",
           "Identity", "Relu", "LeakyRelu", "ABRelu", "Abs", "Erf", "Gelu", "Sin", "Cos", "Sign",
           "Rbf", "Exp", "ElementwiseNumerical", "Tanh", "Softplus", "Kernel"]

Kernel = collections.namedtuple("Kernel", ["nngp", "ntk"])


# ---- the tree the combinators build ------------------------------------------------------------
class _Leaf:
    """One ntk_layer. make(ndim) builds it for an input of ndim axes (batch included); param:
    'dense', 'conv' or None; ndim_out(ndim)."""

    def __init__(self, name, make, param=None, flattens=False, keep=()):
        self.name, self.make, self.param, self.flattens, self.keep = name, make, param, \
            flattens, keep
        self.filter = None


class _Group:
    def __init__(self, kind, children=(), n=0, name=""):
        self.kind, self.children, self.n, self.name = kind, list(children), n, name


def _seq(node):
    """serial nesting flattened into one sequence of non-serial nodes"""
    if isinstance(node, _Group) and node.kind == "serial":
        out = []
        for c in node.children:
            out += _seq(c)
        return out
    return [node]


class _Emitter:
    def __init__(self):
        self.layers, self.names, self.slots = [], [], []

    def add(self, layer, name, slot=None):
        if slot is not None:
            self.slots.append((len(self.layers),) + slot)
        self.layers.append(layer)
        self.names.append(name)

    def run(self, node, ndim):
        items = _seq(node)
        i = 0
        while i < len(items):
            it = items[i]
            if isinstance(it, _Leaf):
                layer = it.make(ndim)
                self.add(layer, it.name, (it, ndim) if it.param else None)
                if it.flattens:
                    ndim = 2
                i += 1
            elif it.kind == "fanout":
                branches = [None] * it.n
                j = i + 1
                if j < len(items) and isinstance(items[j], _Group) and items[j].kind == "parallel":
                    if len(items[j].children) != it.n:
                        raise ValueError("FanOut(%d) followed by parallel of %d layers" % (
                            it.n, len(items[j].children)))
                    branches = items[j].children
                    j += 1
                if not (j < len(items) and isinstance(items[j], _Group) and
                        items[j].kind in ("fanin_sum", "fanin_concat")):
                    raise ValueError("FanOut(%d) [parallel(...)] must be followed by FanInSum() or "
                                     "FanInConcat() in the same serial (ntk.h computes networks "
                                     "with one input and one output)" % it.n)
                self.add(lib.ntk_fanout(it.n), "FanOut(%d)" % it.n)
                outs = []
                for k, b in enumerate(branches):
                    if k:
                        self.add(lib.ntk_branch(), "(branch)")
                    outs.append(ndim if b is None else self.run(b, ndim))
                if items[j].kind == "fanin_sum":
                    self.add(lib.ntk_fanin_sum(), "FanInSum()")
                else:
                    self.add(lib.ntk_fanin_concat(), "FanInConcat()")
                ndim = outs[0]
                i = j + 1
            elif it.kind == "parallel":
                raise ValueError("parallel(...) needs a FanOut before it (ntk.h computes networks "
                                 "with one input)")
            else:
                raise ValueError("%s without a FanOut before it" % it.name)
        return ndim


class Compiled:
    """A layer tree as ntk.h's layer list for one input shape (without the batch axis)."""

    def __init__(self, node, in_shape):
        in_shape = tuple(int(s) for s in in_shape)
        if any(s < 1 for s in in_shape) or not in_shape:
            raise ValueError("input shape %s: every axis after the batch must be >= 1" %
                             (in_shape,))
        if len(in_shape) > 3:
            raise ValueError("input shape %s: ntk.h takes (d), (L, C) or (H, W, C) per example" %
                             (in_shape,))
        self.in_shape, self.dim = in_shape, int(np.prod(in_shape))
        em = _Emitter()
        if len(in_shape) == 3:
            em.add(lib.ntk_input(*in_shape), "(input %s)" % (in_shape,))
        elif len(in_shape) == 2:
            em.add(lib.ntk_input(1, in_shape[0], in_shape[1]), "(input %s)" % (in_shape,))
        self.ndim_out = em.run(node, 1 + len(in_shape))
        self.n = len(em.layers)
        if self.n == 0:
            raise ValueError("an empty network (nothing but Identity/serial())")
        self.layers = (_lib.Layer * self.n)(*em.layers)
        self.names, self.slots = em.names, em.slots
        self.info = (_lib.LayerInfo * self.n)()
        bad, why = _lib.c_size(), _lib.ctypes.c_char_p()
        st = lib.ntk_layers_describe(self.layers, self.n, self.dim, self.info,
                                     _lib.ctypes.byref(bad), _lib.ctypes.byref(why))
        if st != _lib.OK:
            where = self.names[bad.value] if bad.value < self.n else "the network"
            _lib.check(st, "layer %d, %s" % (bad.value, where),
                       (why.value or b"").decode() or None)
        o = self.info[self.n - 1].out
        self.out_shape = (o[2],) if self.ndim_out == 2 else \
            ((o[1], o[2]) if self.ndim_out == 3 else (o[0], o[1], o[2]))
        self.n_params = sum(self.info[i].n_params for i in range(self.n))
        self.lock = threading.Lock()
        self.net = None

    # -- parameters --------------------------------------------------------------------------
    def _slot_geometry(self, s):
        idx, leaf, ndim = s
        inf, L = self.info[idx], self.layers[idx]
        c_out = L.width
        if leaf.param == "dense":
            return idx, inf, ndim, c_out, inf.fan_in
        fh, fw = leaf.filter if ndim == 4 else (1, leaf.filter[0])
        return idx, inf, ndim, c_out, (fh, fw, inf.fan_in // (fh * fw))

    def to_tree(self, node, flat):
        it = iter(self.slots)

        def walk(nd):
            if isinstance(nd, _Leaf):
                if not nd.param:
                    return ()
                idx, inf, ndim, c_out, geo = self._slot_geometry(next(it))
                seg = flat[inf.param_offset:inf.param_offset + inf.n_params]
                if nd.param == "dense":
                    return _params.dense_to_nt(seg, geo, c_out, inf.has_bias, ndim)
                return _params.conv_to_nt(seg, c_out, geo[0], geo[1], geo[2], inf.has_bias, ndim)
            if nd.kind in ("serial", "parallel"):
                return tuple(walk(c) for c in nd.children)
            return ()
        return walk(node)

    def from_tree(self, node, params):
        flat = np.empty(self.n_params)
        it = iter(self.slots)

        def walk(nd, p, where):
            if isinstance(nd, _Leaf):
                if not nd.param:
                    return
                idx, inf, ndim, c_out, geo = self._slot_geometry(next(it))
                w = "%s (%s)" % (where, nd.name)
                if nd.param == "dense":
                    v = _params.dense_from_nt(p, geo, c_out, inf.has_bias, w)
                else:
                    v = _params.conv_from_nt(p, c_out, geo[0], geo[1], geo[2], inf.has_bias,
                                             ndim, w)
                flat[inf.param_offset:inf.param_offset + inf.n_params] = v
                return
            if nd.kind in ("serial", "parallel"):
                if not isinstance(p, (tuple, list)) or len(p) != len(nd.children):
                    raise ValueError("params%s: expected a tuple of %d (one per layer of %s), "
                                     "got %s" % (where, len(nd.children), nd.kind,
                                                 _describe(p)))
                for k, (c, q) in enumerate(zip(nd.children, p)):
                    walk(c, q, "%s[%d]" % (where, k))
        walk(node, params, "")
        return flat

    # -- the finite network (created once, its parameters overwritten per call) --------------
    def c_net(self, seed=0):
        st = _lib.ctypes.c_int()
        net = lib.ntkpy_net_new(self.layers, self.n, self.dim, seed, _lib.ctypes.byref(st))
        if not net:
            _lib.check(st.value, "the finite network (ntk_net_init)")
        return net

    def shared_net(self):
        if self.net is None:
            self.net = self.c_net(0)
        return self.net

    def load(self, flat):
        net = self.shared_net()
        n = lib.ntkpy_net_n_params(net)
        if n != flat.size:
            raise ValueError("the network has %d parameters, got %d" % (n, flat.size))
        if n:
            np.ctypeslib.as_array(lib.ntkpy_net_params(net), shape=(n,))[:] = flat
        return net

    def __del__(self):
        if getattr(self, "net", None):
            lib.ntkpy_net_delete(self.net)
            self.net = None


def _describe(p):
    if isinstance(p, (tuple, list)):
        return "a %s of %d" % (type(p).__name__, len(p))
    return type(p).__name__


class _Network(tuple):
    """(init_fn, apply_fn, kernel_fn) of one layer tree; .node is the tree."""

    def __new__(cls, node):
        net = _Functions(node)
        self = tuple.__new__(cls, (net.init_fn, net.apply_fn, net.kernel_fn))
        self.node = node
        return self


class _Functions:
    def __init__(self, node):
        self.node = node
        self.cache = {}
        self.lock = threading.Lock()

    def compiled(self, in_shape):
        key = tuple(int(s) for s in in_shape)
        with self.lock:
            c = self.cache.get(key)
            if c is None:
                c = self.cache[key] = Compiled(self.node, key)
        return c

    def init_fn(self, key, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError("input_shape %s: (batch, ...) expected" % (input_shape,))
        c = self.compiled(input_shape[1:])
        net = c.c_net(_seed(key))
        try:
            n = lib.ntkpy_net_n_params(net)
            flat = np.ctypeslib.as_array(lib.ntkpy_net_params(net), shape=(n,)).copy() if n \
                else np.empty(0)
        finally:
            lib.ntkpy_net_delete(net)
        return (input_shape[0],) + c.out_shape, c.to_tree(self.node, flat)

    def apply_fn(self, params, inputs, **kwargs):
        x = _lib.as_real(inputs, "inputs", 2)
        c = self.compiled(x.shape[1:])
        flat = c.from_tree(self.node, params)
        with c.lock:
            net = c.load(flat)
            k = lib.ntkpy_net_outputs(net)
            f = np.empty((x.shape[0], k))
            _lib.check(lib.ntk_net_apply(net, _lib.ptr(x), x.shape[0], _lib.ptr(f)),
                       "apply_fn (ntk_net_apply)")
        return f

    def kernel_fn(self, x1, x2=None, get=None, *, progress=False, dtype=None, threads=0,
                  **kwargs):
        if kwargs:
            raise TypeError("kernel_fn: unsupported arguments %s" % sorted(kwargs))
        names = _get_names(get)
        dt = _lib.out_dtype(dtype)
        a1 = _lib.as_real(x1, "x1", 2)
        a2 = None if x2 is None else _lib.as_real(x2, "x2", 2)
        if a2 is not None and a2.shape[1:] != a1.shape[1:]:
            raise ValueError("x1 %s and x2 %s: shapes differ after the batch axis" % (
                a1.shape, a2.shape))
        c = self.compiled(a1.shape[1:])
        n1 = a1.shape[0]
        n2 = n1 if a2 is None else a2.shape[0]
        outs = {k: np.empty((n1, n2)) for k in names}
        with _lib.Interruptible(progress, "kernel_fn: ") as it:
            desc = _lib.KernelDesc(it.cb, None, 0, int(threads))
            st = lib.ntk_kernel_ex(c.layers, c.n, _lib.ptr(a1), n1, _lib.ptr(a2), n2, c.dim,
                                   _lib.ptr(outs.get("nngp")), _lib.ptr(outs.get("ntk")),
                                   _lib.ctypes.byref(desc))
            if st != _lib.CANCELLED:
                _lib.check(st, "kernel_fn (ntk_kernel)")
        if dt != np.float64:
            outs = {k: v.astype(dt) for k, v in outs.items()}
        return _select(outs, get)


def _get_names(get):
    if get is None:
        return ("nngp", "ntk")
    g = (get,) if isinstance(get, str) else tuple(get)
    for k in g:
        if k not in ("nngp", "ntk"):
            raise ValueError("get: 'nngp', 'ntk' or a tuple of them, got %r" % (k,))
    return g


def _select(outs, get):
    if get is None:
        return Kernel(outs["nngp"], outs["ntk"])
    if isinstance(get, str):
        return outs[get]
    t = collections.namedtuple("Kernel", list(get))
    return t(*[outs[k] for k in get])


def _seed(key):
    """an int (mod 2^64), or neural-tangents' / JAX's 2-element uint32 key (hi, lo)"""
    if isinstance(key, (int, np.integer)):
        return int(key) % (1 << 64)
    k = np.asarray(key)
    if k.shape == (2,) and k.dtype.kind in "iu":
        return (int(k[0]) % (1 << 32)) << 32 | (int(k[1]) % (1 << 32))
    raise TypeError("key: an int seed or a 2-element uint32 array, got %r" % (key,))


# ---- combinators -----------------------------------------------------------------------------
def _node(layer):
    if isinstance(layer, _Network):
        return layer.node
    raise TypeError("expected a layer from ntk.stax (an (init_fn, apply_fn, kernel_fn) triple "
                    "made by this module), got %r" % (type(layer).__name__,))


def serial(*layers):
    return _Network(_Group("serial", [_node(l) for l in layers], name="serial"))


def parallel(*layers):
    return _Network(_Group("parallel", [_node(l) for l in layers], name="parallel"))


def FanOut(num):
    if int(num) < 1:
        raise ValueError("FanOut(num): num >= 1")
    return _Network(_Group("fanout", n=int(num), name="FanOut(%d)" % int(num)))


def FanInSum():
    return _Network(_Group("fanin_sum", name="FanInSum()"))


def FanInConcat(axis=-1):
    if axis != -1:
        raise ValueError("FanInConcat(axis): ntk.h concatenates along channels (axis=-1)")
    return _Network(_Group("fanin_concat", name="FanInConcat()"))


# ---- layers ----------------------------------------------------------------------------------
def _leaf(name, make, **kw):
    return _Network(_Leaf(name, make, **kw))


def _fixed(name, ctor, *args):
    return _leaf(name, lambda ndim: ctor(*args))


def _param(parameterization):
    if parameterization not in ("ntk", "standard"):
        raise ValueError("parameterization: 'ntk' or 'standard', got %r" % (parameterization,))
    return parameterization == "standard"


def _with_bias(layer, b_std):
    # as ntk_parse_net: None = no bias parameter, 0 = a trained bias starting at 0
    layer.bias = _lib.BIAS_NONE if b_std is None else (_lib.BIAS_ALWAYS if b_std == 0
                                                       else _lib.BIAS_AUTO)
    return layer


def Dense(out_dim, W_std=1., b_std=None, batch_axis=0, channel_axis=-1, parameterization="ntk"):
    std = _param(parameterization)
    if batch_axis != 0 or channel_axis != -1:
        raise ValueError("Dense: ntk.h uses batch_axis=0, channel_axis=-1")
    ctor = lib.ntk_dense_standard if std else lib.ntk_dense
    out_dim = _positive(out_dim, "Dense(out_dim)")
    return _leaf("Dense(%d)" % out_dim, lambda ndim: _with_bias(
        ctor(out_dim, float(W_std), 0.0 if b_std is None else float(b_std)), b_std),
        param="dense")


def _dims(v, n, what):
    t = (v,) * n if isinstance(v, (int, np.integer)) else tuple(v)
    if len(t) != n or any(int(s) < 1 for s in t):
        raise ValueError("%s: %d positive integers expected, got %r" % (what, n, v))
    return tuple(int(s) for s in t)


def _spatial(ndim, what):
    if ndim not in (3, 4):
        raise ValueError("%s needs a spatial input, (n, L, C) or NHWC (n, H, W, C); this one "
                         "has %d axes" % (what, ndim))
    return ndim - 2


def _padding(padding):
    p = str(padding).upper()
    if p not in _lib.PAD:
        raise ValueError("padding: 'VALID', 'SAME' or 'CIRCULAR', got %r" % (padding,))
    return _lib.PAD[p]


def Conv(out_chan, filter_shape, strides=None, padding="VALID", W_std=1., b_std=None,
         dimension_numbers=None, parameterization="ntk"):
    std = _param(parameterization)
    if dimension_numbers not in (None, ("NHWC", "HWIO", "NHWC"), ("NWC", "WIO", "NWC")):
        raise ValueError("Conv: ntk.h takes NHWC inputs and HWIO filters")
    pad = _padding(padding)
    out_chan = _positive(out_chan, "Conv(out_chan)")
    nd = len(tuple(filter_shape))
    fs = _dims(filter_shape, nd, "Conv filter_shape")
    st = (1,) * nd if strides is None else _dims(strides, nd, "Conv strides")
    ctor = lib.ntk_conv_standard if std else lib.ntk_conv

    def make(ndim):
        if _spatial(ndim, "Conv") != nd:
            raise ValueError("Conv: a %d-D filter %s on an input of %d spatial axes" % (
                nd, fs, ndim - 2))
        f2 = fs if nd == 2 else (fs[0], 0)
        s2 = st if nd == 2 else (st[0], 0)
        return _with_bias(ctor(out_chan, f2[0], f2[1], s2[0], s2[1], pad, float(W_std),
                               0.0 if b_std is None else float(b_std)), b_std)
    net = _leaf("Conv(%d, %s)" % (out_chan, fs), make, param="conv")
    net.node.filter = fs
    return net


def _pool(kind, window_shape, strides, padding, normalize_edges=False):
    nd = len(tuple(window_shape))
    ws = _dims(window_shape, nd, kind + " window_shape")
    st = (1,) * nd if strides is None else _dims(strides, nd, kind + " strides")
    pad = _padding(padding)

    def make(ndim):
        if _spatial(ndim, kind) != nd:
            raise ValueError("%s: a %d-D window on an input of %d spatial axes" % (kind, nd,
                                                                                 ndim - 2))
        w2 = ws if nd == 2 else (ws[0], 0)
        s2 = st if nd == 2 else (st[0], 0)
        if kind == "AvgPool":
            return lib.ntk_avg_pool(w2[0], w2[1], s2[0], s2[1], pad, 1 if normalize_edges else 0)
        return lib.ntk_sum_pool(w2[0], w2[1], s2[0], s2[1], pad)
    return _leaf("%s(%s)" % (kind, ws), make)


def AvgPool(window_shape, strides=None, padding="VALID", normalize_edges=False, batch_axis=0,
            channel_axis=-1):
    return _pool("AvgPool", window_shape, strides, padding, normalize_edges)


def SumPool(window_shape, strides=None, padding="VALID", batch_axis=0, channel_axis=-1):
    return _pool("SumPool", window_shape, strides, padding)


def GlobalAvgPool(batch_axis=0, channel_axis=-1):
    return _Network(_Leaf("GlobalAvgPool()", lambda ndim: lib.ntk_global_avg_pool(),
                          flattens=True))


def GlobalSumPool(batch_axis=0, channel_axis=-1):
    return _Network(_Leaf("GlobalSumPool()", lambda ndim: lib.ntk_global_sum_pool(),
                          flattens=True))


def Flatten(batch_axis=0, batch_axis_out=0):
    return _Network(_Leaf("Flatten()", lambda ndim: lib.ntk_flatten(), flattens=True))


def LayerNorm(axis=-1, eps=1e-12, batch_axis=0, channel_axis=-1):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)

    def make(ndim):
        letters = {2: [0, _lib.AXIS_C], 3: [0, _lib.AXIS_W, _lib.AXIS_C],
                   4: [0, _lib.AXIS_H, _lib.AXIS_W, _lib.AXIS_C]}[ndim]
        flags = 0
        for a in axes:
            a = int(a) % ndim if -ndim <= int(a) < ndim else None
            if a is None or a == 0:
                raise ValueError("LayerNorm(axis=%r): axes of the %d-axis input other than the "
                                 "batch (0)" % (axis, ndim))
            flags |= letters[a]
        return lib.ntk_layer_norm(flags, float(eps))
    return _leaf("LayerNorm(axis=%r)" % (axis,), make)


def Identity():
    return _fixed("Identity()", lib.ntk_identity)


def Relu():
    return _fixed("Relu()", lib.ntk_relu)


def LeakyRelu(alpha):
    return _fixed("LeakyRelu(%r)" % alpha, lib.ntk_leaky_relu, float(alpha))


def ABRelu(a, b):
    return _fixed("ABRelu(%r, %r)" % (a, b), lib.ntk_abrelu, float(a), float(b))


def Abs():
    return _fixed("Abs()", lib.ntk_abs)


def Erf(a=1., b=1., c=0.):
    if (a, b, c) == (1., 1., 0.):
        return _fixed("Erf()", lib.ntk_erf)
    return _fixed("Erf(%r, %r, %r)" % (a, b, c), lib.ntk_erf_scaled, float(a), float(b),
                  float(c))


def Gelu(approximate=False):
    if approximate:
        raise ValueError("Gelu(approximate=True): ntk.h has the exact GELU only")
    return _fixed("Gelu()", lib.ntk_gelu)


def Sin(a=1., b=1., c=0.):
    if (a, b, c) == (1., 1., 0.):
        return _fixed("Sin()", lib.ntk_sin)
    return _fixed("Sin(%r, %r, %r)" % (a, b, c), lib.ntk_sin_scaled, float(a), float(b),
                  float(c))


def Cos(a=1., b=1., c=0.):
    if (a, b, c) == (1., 1., 0.):
        return _fixed("Cos()", lib.ntk_cos)
    return _fixed("Cos(%r, %r, %r)" % (a, b, c), lib.ntk_sin_scaled, float(a), float(b),
                  float(c) + math.pi / 2)


def Sign():
    return _fixed("Sign()", lib.ntk_sign)


def Rbf(gamma=1.0):
    return _fixed("Rbf(%r)" % gamma, lib.ntk_rbf, float(gamma))


def Exp(a=1., b=1.):
    return _fixed("Exp(%r, %r)" % (a, b), lib.ntk_exp, float(a), float(b))


def Tanh():
    """tanh (ntk.h's; not in neural-tangents' stax)"""
    return _fixed("Tanh()", lib.ntk_tanh)


def Softplus():
    """log(1 + e^x) (ntk.h's; not in neural-tangents' stax)"""
    return _fixed("Softplus()", lib.ntk_softplus)


def ElementwiseNumerical(fn, deg, df=None):
    """A Python φ (and its derivative df, needed: there is no autodiff here) through ntk.h's
    adaptive quadrature; deg is its minimum number of nodes per 1-D rule (quad_degree). An
    exception or a non-finite value from fn/df makes the kernel raise FloatingPointError. Each
    kernel entry costs thousands of Python calls."""
    if df is None:
        raise ValueError("ElementwiseNumerical: pass df (the derivative of fn); ntk has no "
                         "automatic differentiation")

    def wrap(g):
        def c(x, user):
            try:
                return float(g(x))
            except Exception:  # an exception cannot cross the C call: NaN is reported
                return float("nan")
        return _lib.FN1(c)
    cf, cdf = wrap(fn), wrap(df)

    def make(ndim):
        layer = lib.ntk_custom(cf, cdf, None)
        layer.quad_degree = int(deg)
        return layer
    net = _leaf("ElementwiseNumerical(%s)" % getattr(fn, "__name__", "fn"), make)
    net.node.keep = (cf, cdf)  # the C function pointers live as long as the layer
    return net


def _positive(v, what):
    if int(v) != v or int(v) < 1:
        raise ValueError("%s: a positive integer, got %r" % (what, v))
    return int(v)
