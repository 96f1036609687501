"""neural-tangents' predict module over ntk.h's predictors (ntk_predictor_*, ntk_gp_inference,
ntk_ensemble_*, ntk_max_learning_rate). Conventions are neural-tangents': loss ½·mean over the
n·k training outputs, t counted in steps of size learning_rate (flow time learning_rate·t),
t = None is t = ∞ (kernel regression), diag_reg relative to the mean of the diagonal unless
diag_reg_absolute_scale. Kernels are (n, n) (trace_axes=(-1,)), targets (n, k)."""
import collections

import numpy as np

from . import _lib
from ._lib import lib

__all__ = ["gradient_descent_mse", "gp_inference", "gradient_descent_mse_ensemble",
           "max_learning_rate", "Gaussian"]

Gaussian = collections.namedtuple("Gaussian", ["mean", "covariance"])


def _trace_axes(trace_axes):
    if tuple(trace_axes) not in ((-1,), (1,)):
        raise ValueError("trace_axes: (-1,) only (kernels (n, n), targets (n, k))")


def _kernel(k, name, n=None):
    a = _lib.as_real(k, name, 2)
    if a.ndim != 2 or (n is not None and a.shape[1] != n):
        raise ValueError("%s: expected (m, %s), got %s" % (name, n if n else "n", a.shape))
    return a


def _targets(y):
    a = _lib.as_real(y, "y_train", 1)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError("y_train: (n, k) expected, got %s" % (a.shape,))
    return np.ascontiguousarray(a)


class _Predictor:
    """ntk_predictor (eigendecomposition of the regularised kernel), freed with the object"""

    def __init__(self, k_train, y, f0, lr, diag_reg, absolute, progress=False):
        n, k = y.shape
        st = _lib.ctypes.c_int()
        with _lib.Interruptible(progress, "predict: ") as it:
            desc = _lib.PredictorDesc(it.cb, None)
            self.p = lib.ntkpy_predictor_new(_lib.ptr(k_train), n, _lib.ptr(y), k, _lib.ptr(f0),
                                             float(lr), float(diag_reg), 1 if absolute else 0,
                                             _lib.ctypes.byref(desc), _lib.ctypes.byref(st))
            if not self.p and st.value != _lib.CANCELLED:
                _lib.check(st.value, "predictor (ntk_predictor_init)")
        self.n, self.k = n, k

    def __del__(self):
        if getattr(self, "p", None):
            lib.ntkpy_predictor_delete(self.p)
            self.p = None


def _steps(t):
    return _lib.INFINITY if t is None else float(t)


def _over_t(t, fn):
    """fn(steps) for a scalar t (None = ∞), stacked over the shape of an array t"""
    if t is None or np.ndim(t) == 0:
        return fn(_steps(t))
    ts = np.asarray(t, dtype=np.float64)
    outs = [fn(float(s)) for s in ts.ravel()]
    return np.stack(outs).reshape(ts.shape + outs[0].shape)


def gradient_descent_mse(k_train_train, y_train, learning_rate=1., diag_reg=0.,
                         diag_reg_absolute_scale=False, trace_axes=(-1,)):
    """predict_fn(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None): outputs after t steps
    of gradient descent (flow) on ½·mean squared error; fx_train_t, or (fx_train_t, fx_test_t)
    when fx_test_0 is given (and fx_test_t alone when fx_train_0 is None)."""
    _trace_axes(trace_axes)
    y = _targets(y_train)
    K = _kernel(k_train_train, "k_train_train", y.shape[0])
    cache = {}

    def predictor(f0):
        key = f0.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = _Predictor(K, y, f0, learning_rate, diag_reg, diag_reg_absolute_scale)
        return cache[key]

    def predict_fn(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None):
        if fx_test_0 is not None and k_test_train is None:
            raise ValueError("fx_test_0 given but k_test_train is None")
        f0 = np.ascontiguousarray(np.broadcast_to(
            _lib.as_real(0. if fx_train_0 is None else fx_train_0, "fx_train_0", 0), y.shape))
        p = predictor(f0)
        res = []
        if fx_train_0 is not None:
            def train(s):
                f = np.empty(y.shape)
                _lib.check(lib.ntk_predict_train(p.p, s, 0, _lib.ptr(f)),
                           "predict_fn (ntk_predict_train)")
                return f
            res.append(_over_t(t, train))
        if fx_test_0 is not None:
            kt = _kernel(k_test_train, "k_test_train", y.shape[0])
            m = kt.shape[0]
            g0 = np.ascontiguousarray(np.broadcast_to(_lib.as_real(fx_test_0, "fx_test_0", 0),
                                                      (m, y.shape[1])))

            def test(s):
                f = np.empty((m, y.shape[1]))
                _lib.check(lib.ntk_predict_test(p.p, s, 0, _lib.ptr(kt), m, _lib.ptr(g0),
                                                _lib.ptr(f)), "predict_fn (ntk_predict_test)")
                return f
            res.append(_over_t(t, test))
        if not res:
            return None
        return res[0] if len(res) == 1 else tuple(res)
    return predict_fn


def _get_kernel(k, name):
    if hasattr(k, name):
        return getattr(k, name)
    if isinstance(k, dict) and name in k:
        return k[name]
    raise ValueError("the kernel has no '%s' (pass kernel_fn(..., get=None) or a namedtuple "
                     "with .nngp and .ntk)" % name)


def _gets(get):
    g = ("nngp", "ntk") if get is None else ((get,) if isinstance(get, str)
                                                      else tuple(get))
    for s in g:
        if s not in ("nngp", "ntk", "ntkgp"):
            raise ValueError("get: 'nngp', 'ntk', 'ntkgp' or a tuple of them, got %r" % (s,))
    return g


def _pack(get, names, vals):
    if isinstance(get, str):
        return vals[0]
    return collections.namedtuple("Prediction", list(names))(*vals)


def gp_inference(k_train_train, y_train, diag_reg=0., diag_reg_absolute_scale=False,
                 trace_axes=(-1,)):
    """predict_fn(get=None, k_test_train=None, k_test_test=None): the exact posterior of the
    infinite network ('nngp': Bayesian, 'ntk': trained to convergence, 'ntkgp'); the mean, or
    Gaussian(mean, covariance) with k_test_test. k_* are kernels with .nngp/.ntk (or arrays when
    only one kind is asked for: the kind asked)."""
    _trace_axes(trace_axes)
    y = _targets(y_train)

    def need(k, kind, get, name, m=None):
        a = k if (isinstance(k, np.ndarray) and isinstance(get, str) and
                  (kind == get or (kind == "ntk" and get == "ntkgp"))) else _get_kernel(k, kind)
        return _kernel(a, "%s.%s" % (name, kind), m)

    def predict_fn(get=None, k_test_train=None, k_test_test=None):
        names = _gets(get)
        vals = []
        for g in names:
            if k_test_train is None:  # the train set: N(y, 0)
                vals.append(Gaussian(y.copy(), np.zeros((y.shape[0], y.shape[0])))
                            if k_test_test is not None else y.copy())
                continue
            kind = "nngp" if g == "nngp" else "ntk"
            K = need(k_train_train, kind, get, "k_train_train", y.shape[0])
            Kt = need(k_test_train, kind, get, "k_test_train", y.shape[0])
            m = Kt.shape[0]
            mean = np.empty((m, y.shape[1]))
            cov = None if k_test_test is None else np.empty((m, m))
            if g in ("nngp", "ntkgp"):
                Ktt = None if k_test_test is None else need(k_test_test, kind, get,
                                                            "k_test_test", m)
                _lib.check(lib.ntk_gp_inference(_lib.ptr(K), y.shape[0], _lib.ptr(y), y.shape[1],
                                                _lib.ptr(Kt), m, _lib.ptr(Ktt), float(diag_reg),
                                                1 if diag_reg_absolute_scale else 0,
                                                _lib.ptr(mean), _lib.ptr(cov)),
                           "gp_inference (ntk_gp_inference)")
            else:
                p = _Predictor(K, y, None, 1.0, diag_reg, diag_reg_absolute_scale)
                nK = nKt = nKtt = None
                if k_test_test is not None:
                    nK = _kernel(_get_kernel(k_train_train, "nngp"), "k_train_train.nngp",
                                 y.shape[0])
                    nKt = _kernel(_get_kernel(k_test_train, "nngp"), "k_test_train.nngp",
                                  y.shape[0])
                    nKtt = _kernel(_get_kernel(k_test_test, "nngp"), "k_test_test.nngp", m)
                _lib.check(lib.ntk_ensemble_ntk(p.p, _lib.INFINITY, _lib.ptr(Kt), m,
                                                _lib.ptr(nK), _lib.ptr(nKt), _lib.ptr(nKtt),
                                                _lib.ptr(mean), _lib.ptr(cov)),
                           "gp_inference 'ntk' (ntk_ensemble_ntk at t = inf)")
            vals.append(mean if cov is None else Gaussian(mean, cov))
        return _pack(get, names, vals)
    return predict_fn


def gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, learning_rate=1., diag_reg=0.,
                                  diag_reg_absolute_scale=False, trace_axes=(-1,),
                                  **kernel_fn_kwargs):
    """predict_fn(t=None, x_test=None, get=None, compute_cov=False): mean (and covariance) of the
    infinite ensemble of networks trained for t steps (Lee et al. 2019; 'nngp': only the readout
    trained). x_test None: the train set."""
    _trace_axes(trace_axes)
    y = _targets(y_train)
    k_dd = kernel_fn(x_train, None, None, **kernel_fn_kwargs)
    preds = {}

    def predictor(kind):
        if kind not in preds:
            preds[kind] = _Predictor(_kernel(getattr(k_dd, kind), "k_train_train", y.shape[0]),
                                     y, None, learning_rate, diag_reg, diag_reg_absolute_scale)
        return preds[kind]

    def predict_fn(t=None, x_test=None, get=None, compute_cov=False, **kw):
        g = ("nngp", "ntk") if get is None else ((get,) if isinstance(get, str) else tuple(get))
        for s in g:
            if s not in ("nngp", "ntk"):
                raise ValueError("get: 'nngp', 'ntk' or a tuple of them, got %r" % (s,))
        if t is None:
            if x_test is None:
                k_td = k_tt = None
            else:
                k_td = kernel_fn(x_test, x_train, None, **kernel_fn_kwargs)
                k_tt = kernel_fn(x_test, None, None, **kernel_fn_kwargs) if compute_cov else None
            return gp_inference(k_dd, y, diag_reg, diag_reg_absolute_scale)(
                get if get is not None else ("nngp", "ntk"), k_td, k_tt)
        if x_test is None:  # the train set is the test set: mean (I − E_t)·y, cov E_t·K·E_t
            k_td, k_tt = k_dd, (k_dd if compute_cov else None)
        else:
            k_td = kernel_fn(x_test, x_train, None, **kernel_fn_kwargs)
            k_tt = kernel_fn(x_test, None, None, **kernel_fn_kwargs) if compute_cov else None
        vals = []
        for kind in g:
            p = predictor(kind)
            Kt = _kernel(getattr(k_td, kind), "k_test_train", y.shape[0])
            m = Kt.shape[0]
            Ntt = None if k_tt is None else _kernel(k_tt.nngp, "k_test_test", m)

            def at(s, kind=kind, Kt=Kt, m=m, Ntt=Ntt, p=p):
                mean = np.empty((m, y.shape[1]))
                cov = None if Ntt is None else np.empty((m, m))
                if kind == "ntk":
                    N = _kernel(k_dd.nngp, "k_train_train", y.shape[0])
                    Nt = _kernel(k_td.nngp, "k_test_train", y.shape[0])
                    st = lib.ntk_ensemble_ntk(p.p, s, _lib.ptr(Kt), m, _lib.ptr(N), _lib.ptr(Nt),
                                              _lib.ptr(Ntt), _lib.ptr(mean), _lib.ptr(cov))
                else:
                    st = lib.ntk_ensemble_nngp(p.p, s, _lib.ptr(Kt), m, _lib.ptr(Ntt),
                                               _lib.ptr(mean), _lib.ptr(cov))
                _lib.check(st, "gradient_descent_mse_ensemble (ntk_ensemble_%s)" % kind)
                return mean if cov is None else (mean, cov)
            if compute_cov:
                r = [at(float(s)) for s in np.ravel(t)]
                shp = np.shape(t)
                mean = np.stack([a for a, _ in r]).reshape(shp + r[0][0].shape)
                cov = np.stack([b for _, b in r]).reshape(shp + r[0][1].shape)
                vals.append(Gaussian(mean, cov))
            else:
                vals.append(_over_t(t, at))
        if isinstance(get, str):
            return vals[0]
        return collections.namedtuple("Prediction", list(g))(*vals)
    return predict_fn


def max_learning_rate(ntk_train_train, y_train_size=None, momentum=0., eps=1e-12):
    """2·(1 + momentum)·y_train_size / (λ_max + eps), y_train_size = n by default (as
    neural-tangents); λ_max from ntk.h's eigensolver (ntk_max_learning_rate's 2n/λ_max)."""
    K = _kernel(ntk_train_train, "ntk_train_train")
    n = K.shape[0]
    if K.shape != (n, n):
        raise ValueError("ntk_train_train: (n, n) expected, got %s" % (K.shape,))
    lr = _lib.ctypes.c_double()
    _lib.check(lib.ntk_max_learning_rate(_lib.ptr(K), n, 1, _lib.ctypes.byref(lr)),
               "max_learning_rate (ntk_max_learning_rate)")
    lam = 2.0 * n / lr.value
    size = n if y_train_size is None else y_train_size
    return 2.0 * (1.0 + momentum) * size / (lam + eps)
