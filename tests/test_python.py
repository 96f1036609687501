"""The Python package (python/ntk) against independent references: build/ntk (the CLI, another
program over the same C calls: bit-identical kernels and parameters), formulas evaluated here in
numpy (the arc-cosine kernel, a forward pass in neural-tangents' conventions, finite-difference
Jacobians, the predictors of ../shared/DESIGN.md §1), and the error, Ctrl-C and memory contracts.
Run by `make test` (through tests/test_python.c) or alone: python3 tests/test_python.py [filter].
Last line: "N passed, M failed". Without numpy it says so and skips (exit 0)."""
import os
import subprocess
import sys
import tempfile
import threading
import time
import io
import signal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
except ImportError:
    print("SKIP python: numpy is not installed (apt-get install python3-numpy); "
          "the Python tests did not run")
    print("0 passed, 0 failed")
    sys.exit(0)
sys.path.insert(0, os.path.join(ROOT, "python"))
import ntk as nt  # noqa: E402
from ntk import stax  # noqa: E402
from ntk import _params  # noqa: E402

CLI = os.environ.get("NTK_CLI_PY", os.path.join(ROOT, "build", "ntk"))
passed = failed = 0
TMP = tempfile.mkdtemp(prefix="ntk-py-")


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("  FAIL " + msg)
        sys.stdout.flush()


def close(got, ref, atol, rtol, what):
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        check(False, "%s: shape %s, reference %s" % (what, got.shape, ref.shape))
        return
    err = np.max(np.abs(got - ref) / (atol + rtol * np.abs(ref))) if got.size else 0.0
    check(bool(err <= 1), "%s: max |x - ref| / (%g + %g |ref|) = %.3g" % (what, atol, rtol, err))


def raises(exc, fn, what, contains=None):
    try:
        fn()
    except exc as e:
        check(contains is None or contains in str(e), "%s: message %r lacks %r" % (what, str(e),
                                                                                    contains))
        return e
    except BaseException as e:  # noqa: B902
        check(False, "%s: raised %s (%s), expected %s" % (what, type(e).__name__, e,
                                                          exc.__name__))
        return None
    check(False, "%s: no exception, expected %s" % (what, exc.__name__))
    return None


def section(name):
    print("[python %s]" % name)
    sys.stdout.flush()


def write(name, a):
    p = os.path.join(TMP, name)
    with open(p, "w") as f:
        for row in np.asarray(a).reshape(len(a), -1):
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    return p


def cli(args):
    r = subprocess.run([CLI] + args, capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr.strip()
    rows = [l for l in r.stdout.splitlines() if l.strip()]
    return np.array([[float(v) for v in l.split(",")] for l in rows]), ""


def rng(seed):
    return np.random.RandomState(seed)


# ---- 1. infinite width: bit-identical to build/ntk kernel, for every layer kind ------------------
# (stax network, the same network in the CLI's text form, input shape per example)
ARCHS = [
    ("relu mlp", lambda: stax.serial(stax.Dense(8, 1.5, 0.05), stax.Relu(), stax.Dense(8, 1.5, 0.05),
                                     stax.Relu(), stax.Dense(1, 1.5, 0.05)),
     "dense(8,w=1.5,b=0.05) relu dense(8,w=1.5,b=0.05) relu dense(1,w=1.5,b=0.05)", (5,)),
    ("activations", lambda: stax.serial(
        stax.Dense(4), stax.LeakyRelu(0.1), stax.Dense(4), stax.ABRelu(-0.3, 0.8), stax.Dense(4),
        stax.Abs(), stax.Dense(4), stax.Erf(), stax.Dense(4), stax.Erf(0.5, 1.5, 0.2),
        stax.Dense(4), stax.Gelu(), stax.Dense(4), stax.Sin(), stax.Dense(4), stax.Sin(1.1, 0.7, 0.3),
        stax.Dense(4), stax.Cos(), stax.Dense(4, b_std=0.5), stax.Sign(), stax.Dense(4),
        stax.Rbf(0.7), stax.Dense(4), stax.Exp(0.6, 0.4), stax.Dense(1)),
     "dense(4) leaky_relu:0.1 dense(4) abrelu:-0.3,0.8 dense(4) abs dense(4) erf dense(4) "
     "erf:0.5,1.5,0.2 dense(4) gelu dense(4) sin dense(4) sin:1.1,0.7,0.3 dense(4) cos "
     "dense(4,b=0.5) sign dense(4) rbf:0.7 dense(4) exp:0.6,0.4 dense(1)", (3,)),
    ("tanh softplus", lambda: stax.serial(stax.Dense(4), stax.Tanh(), stax.Dense(4), stax.Softplus(),
                                          stax.Dense(1)),
     "dense(4) tanh dense(4) softplus dense(1)", (3,)),
    ("standard, b None/0", lambda: stax.serial(
        stax.Dense(7, 1.2, 0., parameterization="standard"), stax.Relu(),
        stax.Dense(5, 0.9, None, parameterization="standard"), stax.Erf(),
        stax.Dense(1, 1.0, 0.3, parameterization="standard")),
     "dense(7,w=1.2,b=0,param=standard) relu dense(5,w=0.9,b=none,param=standard) erf "
     "dense(1,w=1,b=0.3,param=standard)", (4,)),
    ("cnn gap", lambda: stax.serial(stax.Conv(3, (2, 2), padding="SAME", b_std=0.1), stax.Relu(),
                                    stax.Conv(3, (3, 3), strides=(2, 1), padding="CIRCULAR"),
                                    stax.Erf(), stax.GlobalAvgPool(), stax.Dense(1)),
     "conv(3,2x2,same,b=0.1) relu conv(3,3x3,circular,stride=2x1) erf gap dense(1)", (4, 4, 2)),
    ("cnn pools", lambda: stax.serial(stax.Conv(2, (2, 2)), stax.Relu(), stax.AvgPool((2, 2), (1, 1),
                                      "SAME", normalize_edges=True), stax.SumPool((2, 1), (1, 1)),
                                      stax.Conv(2, (1, 1)), stax.LayerNorm(axis=(1, 2, 3)),
                                      stax.Gelu(), stax.Flatten(), stax.Dense(1)),
     "conv(2,2x2) relu avgpool(2x2,same,edges,stride=1) sumpool(2x1,stride=1) conv(2,1x1) "
     "layernorm(axis=hwc) gelu flatten dense(1)", (4, 3, 2)),
    ("branches", lambda: stax.serial(
        stax.Conv(2, (3, 3), padding="SAME"),
        stax.FanOut(2), stax.parallel(stax.serial(stax.Relu(), stax.Conv(2, (3, 3), padding="SAME")),
                                      stax.Identity()), stax.FanInSum(),
        stax.FanOut(2), stax.parallel(stax.Conv(2, (1, 1)), stax.serial(stax.Erf(), stax.Conv(3, (1, 1)))),
        stax.FanInConcat(), stax.GlobalSumPool(), stax.Dense(1)),
     "conv(2,3x3,same) sum(relu conv(2,3x3,same) | id) concat(conv(2,1x1) | erf conv(3,1x1)) gsp "
     "dense(1)", (3, 3, 1)),
    ("1-d conv", lambda: stax.serial(stax.Conv(3, (3,), padding="SAME"), stax.Relu(),
                                     stax.AvgPool((2,), (2,)), stax.Conv(2, (2,)), stax.LayerNorm(),
                                     stax.Relu(), stax.GlobalAvgPool(), stax.Dense(1)),
     "conv(3,3,same) relu avgpool(2,stride=2) conv(2,2) layernorm relu gap dense(1)", (6, 2)),
]


def shape_arg(s):
    return "x".join(str(v) for v in s)


def test_kernel_cli():
    section("kernel_fn = build/ntk kernel, bit for bit")
    for name, make, spec, shape in ARCHS:
        _, _, kernel_fn = make()
        x1 = rng(1).randn(3, *shape)
        x2 = rng(2).randn(2, *shape)
        f1, f2 = write("x1.txt", x1), write("x2.txt", x2)
        for get in ("ntk", "nngp"):
            for two in (False, True):
                ref, err = cli(["kernel", "--shape", shape_arg(shape), "--net", spec, "--get", get,
                                f1] + ([f2] if two else []))
                if ref is None:
                    check(False, "%s: build/ntk failed: %s" % (name, err))
                    continue
                got = kernel_fn(x1, x2 if two else None, get)
                check(got.shape == ref.shape and np.array_equal(got, ref),
                      "%s %s x2=%s: kernel_fn differs from build/ntk kernel (max diff %.3g)" % (
                          name, get, two, np.max(np.abs(got - ref)) if got.shape == ref.shape
                          else np.inf))
        both = kernel_fn(x1, x2)
        check(np.array_equal(both.nngp, kernel_fn(x1, x2, "nngp")) and
              np.array_equal(both.ntk, kernel_fn(x1, x2, "ntk")),
              "%s: get=None (both at once) equals each alone" % name)
        nn, tt = kernel_fn(x1, x2, ("nngp", "ntk"))
        check(np.array_equal(nn, both.nngp) and np.array_equal(tt, both.ntk),
              "%s: get=('nngp', 'ntk') unpacks" % name)


def arccos_ref(x1, x2, depth, w, b):
    """NNGP and NTK of depth × (Dense + ReLU) + Dense, 'ntk' parameterisation, in numpy"""
    d = x1.shape[1]
    q12 = x1 @ x2.T / d
    q11 = np.sum(x1 * x1, 1) / d
    q22 = np.sum(x2 * x2, 1) / d
    th = np.zeros_like(q12)
    for _ in range(depth):
        q12, q11, q22 = w * w * q12 + b * b, w * w * q11 + b * b, w * w * q22 + b * b
        th = q12 + w * w * th
        s = np.sqrt(np.outer(q11, q22))
        rho = np.clip(q12 / s, -1, 1)
        t = np.arccos(rho)
        q12 = s * (np.sin(t) + (np.pi - t) * rho) / (2 * np.pi)
        dot = (np.pi - t) / (2 * np.pi)
        th = th * dot
        q11, q22 = q11 / 2, q22 / 2
    q12 = w * w * q12 + b * b
    return q12, q12 + w * w * th


def test_kernel_reference():
    section("kernel_fn against the arc-cosine kernel in numpy; inputs of any dtype and order")
    _, _, kernel_fn = stax.serial(stax.Dense(512, 1.3, 0.2), stax.Relu(), stax.Dense(512, 1.3, 0.2),
                                  stax.Relu(), stax.Dense(1, 1.3, 0.2))
    x1, x2 = rng(3).randn(6, 10), rng(4).randn(5, 10)
    nngp, ntk_ = arccos_ref(x1, x2, 2, 1.3, 0.2)
    k = kernel_fn(x1, x2)
    close(k.nngp, nngp, 1e-14, 1e-12, "relu NNGP vs arc-cosine formula")
    close(k.ntk, ntk_, 1e-14, 1e-12, "relu NTK vs arc-cosine formula")
    # float32, non-contiguous (every other column of a Fortran-ordered array)
    big = np.asfortranarray(rng(5).randn(6, 20).astype(np.float32))
    view = big[:, ::2]
    check(not view.flags.c_contiguous and view.dtype == np.float32, "the view is non-contiguous")
    got = kernel_fn(view, None, "ntk")
    ref = kernel_fn(np.ascontiguousarray(view, dtype=np.float64), None, "ntk")
    check(np.array_equal(got, ref) and got.dtype == np.float64,
          "non-contiguous float32 input = its float64 copy, bit for bit, float64 out")
    g32 = kernel_fn(x1, x2, "nngp", dtype=np.float32)
    check(g32.dtype == np.float32 and np.array_equal(g32, k.nngp.astype(np.float32)),
          "dtype=float32: the float64 result rounded")
    check(kernel_fn(x1.astype(np.int64), None, "nngp").shape == (6, 6), "integer inputs accepted")
    raises(ValueError, lambda: kernel_fn(x1, x2[:, :4]), "x1/x2 shape mismatch", "differ")
    raises(ValueError, lambda: kernel_fn(x1, None, "cov1"), "get='cov1'", "get")
    # ElementwiseNumerical with Python tanh = the library's tanh (one quadrature rule)
    import math
    _, _, kf_py = stax.serial(stax.Dense(3), stax.ElementwiseNumerical(
        math.tanh, 0, lambda x: 1 - math.tanh(x) ** 2), stax.Dense(1))
    _, _, kf_c = stax.serial(stax.Dense(3), stax.Tanh(), stax.Dense(1))
    xs = rng(6).randn(3, 2)
    close(kf_py(xs, None, "ntk"), kf_c(xs, None, "ntk"), 1e-15, 1e-13,
          "ElementwiseNumerical(tanh) vs Tanh")
    _, _, kf_bad = stax.serial(stax.Dense(3), stax.ElementwiseNumerical(
        lambda x: 1 / 0, 0, lambda x: 0.0), stax.Dense(1))
    raises(FloatingPointError, lambda: kf_bad(xs, None, "nngp"), "a φ that raises: NON_FINITE")


# ---- 2. parameters in neural-tangents' structure ---------------------------------------------
def nt_forward(params, x, dims, w, b_std, param):
    """depth × (Dense + ReLU) + Dense in neural-tangents' conventions, written here"""
    h = x
    layers = [p for p in params if p != ()]
    for i, (W, b) in enumerate(layers):
        if param == "ntk":
            h = (w / np.sqrt(h.shape[1])) * (h @ W) + (0 if b is None else b_std * b)
        else:
            h = h @ W + (0 if b is None else b)
        if i + 1 < len(layers):
            h = np.maximum(h, 0)
    return h


def test_params():
    section("init_fn/apply_fn: neural-tangents' structure, build/ntk's parameters and outputs")
    for param, b_std, bspec in (("ntk", 0.3, "0.3"), ("standard", None, "none"),
                                ("ntk", 0., "0")):
        init_fn, apply_fn, _ = stax.serial(stax.Dense(6, 1.4, b_std, parameterization=param),
                                           stax.Relu(), stax.Dense(2, 1.4, b_std,
                                                                   parameterization=param))
        spec = "dense(6,w=1.4,b=%s,param=%s) relu dense(2,w=1.4,b=%s,param=%s)" % (
            bspec, param, bspec, param)
        shape, params = init_fn(12345, (-1, 3))
        check(shape == (-1, 2), "output shape %s" % (shape,))
        (W1, b1), act, (W2, b2) = params
        check(act == () and W1.shape == (3, 6) and W2.shape == (6, 2),
              "Dense W is (in, out): %s %s" % (W1.shape, W2.shape))
        check((b1 is None) == (b_std is None) and (b1 is None or b1.shape == (1, 6)),
              "b: None without a bias, else (1, out)")
        ref, err = cli(["params", "--net", spec, "--seed", "12345", "--dim", "3", "--width", "6"])
        flat = np.concatenate([W1.T.ravel()] + ([] if b1 is None else [b1.ravel()]) +
                              [W2.T.ravel()] + ([] if b2 is None else [b2.ravel()]))
        check(ref is not None and np.array_equal(flat, ref.ravel()),
              "%s b=%s: init_fn = build/ntk params in the C layout %s" % (param, bspec, err))
        x = rng(7).randn(4, 3)
        out = apply_fn(params, x)
        close(out, nt_forward(params, x, None, 1.4, 0 if b_std is None else b_std, param), 1e-14,
              1e-12, "%s: apply_fn = neural-tangents' forward pass in numpy" % param)
        pfile = write("p.txt", flat[:, None])
        ref, err = cli(["apply", "--net", spec, "--width", "6", "--params", pfile, write("x.txt", x)])
        check(ref is not None and np.array_equal(out, ref), "apply_fn = build/ntk apply %s" % err)
        p2 = ((W1 * 2, b1), (), (W2, b2))
        close(apply_fn(p2, x), nt_forward(p2, x, None, 1.4, 0 if b_std is None else b_std, param),
              1e-14, 1e-12, "apply_fn with changed params (structure converted per call)")
    init_fn, apply_fn, _ = stax.serial(stax.Dense(3), stax.Relu(), stax.Dense(1))
    _, params = init_fn(np.array([0, 7], dtype=np.uint32), (2, 4))
    _, params7 = init_fn(7, (2, 4))
    check(np.array_equal(params[0][0], params7[0][0]), "key [0, 7] = seed 7")
    x = rng(8).randn(2, 4)
    raises(ValueError, lambda: apply_fn(params[:2], x), "params of the wrong structure", "tuple of 3")
    raises(ValueError, lambda: apply_fn(((params[0][0].T, None), (), params[2]), x),
           "W transposed", "(in, out)")
    raises(ValueError, lambda: apply_fn(((params[0][0], np.zeros((1, 3))), (), params[2]), x),
           "b for a layer without bias", "no bias")


def test_conv_layout():
    section("Conv parameters: ntk.h (C_out, fh, fw, C_in) <-> HWIO, tested on their own")
    r = rng(9)
    for fh, fw, ci, co, nd in ((2, 3, 4, 5, 4), (1, 3, 2, 4, 3)):
        flat = r.randn(co * fh * fw * ci + co)
        W, b = _params.conv_to_nt(flat, co, fh, fw, ci, True, nd)
        Wc = flat[:co * fh * fw * ci].reshape(co, fh, fw, ci)
        ok = all(W[(i, j, c, o) if nd == 4 else (j, c, o)] == Wc[o, i, j, c]
                 for o in range(co) for i in range(fh) for j in range(fw) for c in range(ci))
        check(ok and W.shape == ((fh, fw, ci, co) if nd == 4 else (fw, ci, co)),
              "%d-D: W[h, w, i, o] = C's W[o, h, w, i] elementwise" % (nd - 2))
        check(b.shape == (1,) * (nd - 1) + (co,), "bias shape %s" % (b.shape,))
        back = _params.conv_from_nt((W, b), co, fh, fw, ci, True, nd, "t")
        check(np.array_equal(back, flat), "%d-D: round trip to the C layout" % (nd - 2))
        # the same convolution computed from either layout: one output position
        x = r.randn(fh, fw, ci)
        yc = np.einsum("ohwi,hwi->o", Wc, x)
        yn = np.einsum("hwio,hwi->o", W.reshape(fh, fw, ci, co), x)
        close(yn, yc, 1e-14, 1e-13, "%d-D: conv output from HWIO = from the C layout" % (nd - 2))
    raises(ValueError, lambda: _params.conv_from_nt((np.zeros((3, 3, 1, 1)), None), 1, 2, 2, 1,
                                                    False, 4, "t"), "wrong HWIO shape", "HWIO")


def test_spatial_finite():
    section("finite spatial nets: init_fn and apply_fn of a CNN = build/ntk params / apply")
    init_fn, apply_fn, _ = stax.serial(stax.Conv(3, (2, 2), padding="SAME", b_std=0.2), stax.Relu(),
                                       stax.Flatten(), stax.Dense(2))
    spec = "conv(3,2x2,same,b=0.2) relu flatten dense(2)"
    try:
        shape, params = init_fn(5, (-1, 3, 3, 2))
    except NotImplementedError as e:  # the C library computes finite CNNs: this is a failure
        check(False, "init_fn of a CNN raised %s" % e)
        return
    (W, b), _, _, (W2, b2) = params
    check(W.shape == (2, 2, 2, 3) and b.shape == (1, 1, 1, 3), "Conv W HWIO, b (1, 1, 1, C)")
    x = rng(10).randn(2, 3, 3, 2)
    flat = np.concatenate([np.transpose(W, (3, 0, 1, 2)).ravel(), b.ravel(), W2.T.ravel()])
    ref, err = cli(["params", "--net", spec, "--shape", "3x3x2", "--seed", "5", "--width", "3"])
    check(ref is not None and np.array_equal(flat, ref.ravel()), "CNN init_fn = build/ntk params")
    out = apply_fn(params, x)
    ref, err = cli(["apply", "--shape", "3x3x2", "--net", spec, "--width", "3", "--params",
                    write("p.txt", flat[:, None]), write("x.txt", x.reshape(2, -1))])
    check(ref is not None and np.array_equal(out, ref), "CNN apply_fn = build/ntk apply %s" % err)


# ---- 3. finite-width kernels, Monte Carlo, linearisation ----------------------------------------
def fd_jacobian(fn, theta, eps=1e-6):
    cols = []
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = eps
        cols.append((fn(theta + e) - fn(theta - e)) / (2 * eps))
    return np.stack(cols, -1)  # (n, k, P)


def test_empirical():
    section("empirical kernels against finite-difference Jacobians; Monte Carlo; linearize")
    init_fn, apply_fn, _ = stax.serial(stax.Dense(7, 1.3, 0.4), stax.Erf(), stax.Dense(3, 1.3, 0.4))
    _, params = init_fn(11, (-1, 4))
    x1, x2 = rng(12).randn(3, 4), rng(13).randn(2, 4)
    (W1, b1), _, (W2, b2) = params
    sizes = [W1.size, b1.size, W2.size, b2.size]

    def unflat(t):
        parts = np.split(t, np.cumsum(sizes)[:-1])
        return ((parts[0].reshape(W1.shape), parts[1].reshape(b1.shape)), (),
                (parts[2].reshape(W2.shape), parts[3].reshape(b2.shape)))
    theta = np.concatenate([W1.ravel(), b1.ravel(), W2.ravel(), b2.ravel()])
    J1 = fd_jacobian(lambda t: apply_fn(unflat(t), x1), theta)
    J2 = fd_jacobian(lambda t: apply_fn(unflat(t), x2), theta)
    full_ref = np.einsum("iap,jbp->ijab", J1, J2)
    kfn = nt.empirical_kernel_fn(apply_fn)
    k = kfn(x1, x2, None, params)
    close(k.ntk, np.einsum("ijaa->ij", full_ref) / 3, 1e-8, 1e-6, "traced eNTK vs J Jᵀ / k")
    f1, f2 = apply_fn(params, x1), apply_fn(params, x2)
    close(k.nngp, f1 @ f2.T / 3, 1e-14, 1e-12, "traced eNNGP vs f fᵀ / k")
    full = nt.empirical_kernel_fn(apply_fn, trace_axes=())(x1, x2, "ntk", params)
    close(full, full_ref, 1e-8, 1e-6, "trace_axes=(): (n1, n2, k, k) vs J Jᵀ")
    close(nt.empirical_ntk_fn(apply_fn)(x1, None, params),
          np.einsum("iap,jap->ij", J1, J1) / 3, 1e-8, 1e-6, "empirical_ntk_fn, x2 = None")
    close(nt.empirical_nngp_fn(apply_fn)(x1, x2, params), f1 @ f2.T / 3, 1e-14, 1e-12,
          "empirical_nngp_fn")
    raises(ValueError, lambda: nt.empirical_kernel_fn(apply_fn, trace_axes=(0,)),
           "trace_axes=(0,)", "trace_axes")
    raises(TypeError, lambda: nt.empirical_kernel_fn(lambda p, x: x), "a plain function",
           "ntk.stax")
    # Monte Carlo = the mean of the empirical kernels of seeds s, s+1, s+2
    mc = nt.monte_carlo_kernel_fn(init_fn, apply_fn, 21, 3)(x1, x2)
    ks = [kfn(x1, x2, None, init_fn(21 + s, (-1, 4))[1]) for s in range(3)]
    close(mc.ntk, sum(q.ntk for q in ks) / 3, 1e-14, 1e-12, "monte_carlo ntk = mean of seeds")
    close(mc.nngp, sum(q.nngp for q in ks) / 3, 1e-14, 1e-12, "monte_carlo nngp = mean of seeds")
    gen = nt.monte_carlo_kernel_fn(init_fn, apply_fn, 21, [1, 3])(x1, x2, "ntk")
    est = list(gen)
    close(est[0], ks[0].ntk, 1e-14, 1e-12, "monte_carlo n_samples=[1, 3]: first estimate")
    close(est[1], mc.ntk, 1e-14, 1e-12, "monte_carlo n_samples=[1, 3]: second estimate")
    # linearize: f(θ0) + J(θ0)(θ − θ0)
    f_lin = nt.linearize(apply_fn, params)
    close(f_lin(params, x1), f1, 1e-14, 1e-12, "f_lin(θ0) = f(θ0)")
    d = rng(14).randn(theta.size) * 0.1
    close(f_lin(unflat(theta + d), x1), f1 + J1 @ d, 1e-8, 1e-6, "f_lin(θ0 + δ) = f + J δ")


# ---- 4. predictors against DESIGN.md §1 in numpy ------------------------------------------------
def test_predict():
    section("predict: gradient_descent_mse, gp_inference, ensemble, max_learning_rate vs numpy")
    _, _, kernel_fn = stax.serial(stax.Dense(1, 1.5, 0.1), stax.Relu(), stax.Dense(1, 1.5, 0.1))
    xtr, xte = rng(15).randn(6, 3), rng(16).randn(4, 3)
    y = rng(17).randn(6, 2)
    kdd, ktd, ktt = kernel_fn(xtr), kernel_fn(xte, xtr), kernel_fn(xte)
    n, N, lr, reg = 6, y.size, 0.7, 1e-3
    T = kdd.ntk + reg * np.trace(kdd.ntk) / n * np.eye(n)
    lam, V = np.linalg.eigh(T)
    f0, g0 = rng(18).randn(6, 2) * 0.1, rng(19).randn(4, 2) * 0.1
    pf = nt.predict.gradient_descent_mse(kdd.ntk, y, learning_rate=lr, diag_reg=reg)
    for t in (0.0, 3.0, 50.0):
        E = V @ np.diag(np.exp(-lr * t * lam / N)) @ V.T
        ftr = y + E @ (f0 - y)
        fte = g0 + ktd.ntk @ np.linalg.solve(T, (np.eye(n) - E) @ (y - f0))
        a, b = pf(t, f0, g0, ktd.ntk)
        close(a, ftr, 1e-12, 1e-9, "gradient_descent_mse train at t=%g" % t)
        close(b, fte, 1e-12, 1e-9, "gradient_descent_mse test at t=%g" % t)
    a, b = pf(None, f0, g0, ktd.ntk)
    check(np.array_equal(a, y), "t=None: train outputs are y exactly")
    close(b, g0 + ktd.ntk @ np.linalg.solve(T, y - f0), 1e-12, 1e-9, "t=None: kernel regression")
    ts = np.array([[1.0, 2.0], [4.0, 8.0]])
    arr = pf(ts, f0)
    check(arr.shape == (2, 2, 6, 2), "t array: leading axes %s" % (arr.shape,))
    check(np.array_equal(arr[1, 0], pf(4.0, f0)), "t array entry = scalar t")
    # gp_inference
    K, Th = kdd.nngp, kdd.ntk
    gp = nt.predict.gp_inference(kdd, y, diag_reg=0.)
    out = gp(("nngp", "ntk", "ntkgp"), ktd, ktt)
    close(out.nngp.mean, ktd.nngp @ np.linalg.solve(K, y), 1e-12, 1e-8, "gp nngp mean")
    close(out.nngp.covariance, ktt.nngp - ktd.nngp @ np.linalg.solve(K, ktd.nngp.T), 1e-12,
          1e-7, "gp nngp covariance")
    close(out.ntkgp.mean, ktd.ntk @ np.linalg.solve(Th, y), 1e-12, 1e-8, "gp ntkgp mean")
    close(out.ntkgp.covariance, ktt.ntk - ktd.ntk @ np.linalg.solve(Th, ktd.ntk.T), 1e-12, 1e-7,
          "gp ntkgp covariance")
    A = ktd.ntk @ np.linalg.inv(Th)
    cov_ntk = ktt.nngp + A @ K @ A.T - (A @ ktd.nngp.T + ktd.nngp @ A.T)
    close(out.ntk.mean, ktd.ntk @ np.linalg.solve(Th, y), 1e-12, 1e-8, "gp ntk mean")
    close(out.ntk.covariance, cov_ntk, 1e-10, 1e-6, "gp ntk covariance")
    close(gp("nngp", ktd.nngp), ktd.nngp @ np.linalg.solve(K, y), 1e-12, 1e-8,
          "gp get='nngp' with arrays")
    # the ensemble at finite t (Lee et al. 2019, eqs. 14-16)
    ens = nt.predict.gradient_descent_mse_ensemble(kernel_fn, xtr, y, learning_rate=lr)
    t = 20.0
    lam0, V0 = np.linalg.eigh(Th)
    Et = V0 @ np.diag(np.exp(-lr * t * lam0 / N)) @ V0.T
    At = V0 @ np.diag((1 - np.exp(-lr * t * lam0 / N)) / lam0) @ V0.T
    r = ens(t, xte, "ntk", compute_cov=True)
    close(r.mean, ktd.ntk @ At @ y, 1e-12, 1e-8, "ensemble ntk mean at t")
    M = ktd.ntk @ At
    close(r.covariance, ktt.nngp + M @ K @ M.T - (M @ ktd.nngp.T + ktd.nngp @ M.T), 1e-10, 1e-6,
          "ensemble ntk covariance at t")
    close(ens(t, None, "ntk"), (np.eye(n) - Et) @ y, 1e-12, 1e-8, "ensemble ntk train mean")
    lamk, Vk = np.linalg.eigh(K)
    Ak = Vk @ np.diag((1 - np.exp(-lr * t * lamk / N)) / lamk) @ Vk.T
    close(ens(t, xte, "nngp"), ktd.nngp @ Ak @ y, 1e-12, 1e-8, "ensemble nngp mean at t")
    rinf = ens(None, xte, "ntk", compute_cov=True)
    close(rinf.mean, out.ntk.mean, 1e-12, 1e-9, "ensemble t=None = gp_inference ntk")
    lr_max = nt.predict.max_learning_rate(Th)
    close(lr_max, 2 * n / (np.linalg.eigvalsh(Th)[-1] + 1e-12), 0, 1e-12, "max_learning_rate")


# ---- 5. errors, Ctrl-C, progress, memory ------------------------------------------------------
def test_errors():
    section("every ntk_status as its exception, with ntk_status_string")
    table = {-1: ValueError, -2: MemoryError, -3: MemoryError, -4: FloatingPointError,
             -5: np.linalg.LinAlgError, -6: np.linalg.LinAlgError, -7: ValueError,
             -8: NotImplementedError, -9: KeyboardInterrupt}
    for code, exc in table.items():
        e = raises(exc, lambda: nt._lib.check(code, "ctx"), "status %d" % code)
        s = nt._lib.status_string(code)
        check(e is not None and s in str(e) and str(e).startswith("ctx"),
              "status %d message carries %r" % (code, s))
        check(e is None or code == -9 or (e.status == code and e.status_string == s),
              "status %d: .status/.status_string" % code)
    x = rng(20).randn(4, 3)
    _, _, kf = stax.serial(stax.Dense(2), stax.Relu(), stax.Dense(1))
    e = raises(ValueError, lambda: stax.serial(stax.Dense(2, W_std=-1.), stax.Dense(1))[2](x),
               "W_std < 0")
    check(isinstance(e, nt.BadLayerError), "W_std < 0 is ntk.BadLayerError")
    raises(ValueError, lambda: stax.serial(stax.Conv(2, (2, 2)), stax.Flatten(), stax.Relu(),
                                           stax.Dense(1))[2](rng(1).randn(2, 3, 3, 1)),
           "relu after flatten: the front end's reason", "Gaussian")
    raises(ValueError, lambda: stax.serial(stax.Conv(2, (5, 5)), stax.GlobalAvgPool(),
                                           stax.Dense(1))[2](rng(1).randn(2, 3, 3, 1)),
           "a filter larger than the image names the layer", "Conv(2, (5, 5))")
    raises(ValueError, lambda: stax.serial(stax.Dense(2), stax.Conv(2, (2, 2)))[2](x),
           "Conv on vectors", "spatial")
    raises(ValueError, lambda: stax.serial(stax.FanOut(2), stax.Dense(1))[2](x),
           "FanOut without FanIn", "FanIn")
    xn = x.copy()
    xn[1, 1] = np.nan
    raises(FloatingPointError, lambda: kf(xn), "NaN input: NON_FINITE")
    _, _, kexp = stax.serial(stax.Dense(1, 30.), stax.Exp(1., 40.), stax.Dense(1))
    raises(FloatingPointError, lambda: kexp(x * 10), "an overflowing kernel: NON_FINITE")
    xd = np.vstack([x, x[:1]])
    e = raises(np.linalg.LinAlgError, lambda: nt.predict.gp_inference(kf(xd), np.ones((5, 1)))(
        "nngp", kf(x, xd)), "duplicate points: NOT_POSITIVE_DEFINITE")
    check(isinstance(e, nt.NotPositiveDefiniteError), "ntk.NotPositiveDefiniteError")
    init_fn, _, _ = stax.serial(stax.Dense(1 << 62), stax.Relu(), stax.Dense(1))
    raises(MemoryError, lambda: init_fn(0, (-1, 1 << 10)), "2^72 parameters: MemoryError")


def test_cancel_progress():
    section("Ctrl-C cancels a kernel through the progress callback; progress=True")
    # a shell that started us in the background may have set SIGINT to be ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    x = rng(21).randn(3000, 5)
    # deep enough that the whole kernel takes seconds on any machine: a kernel
    # that ends before the interrupt arrives would test nothing (CI once saw
    # 0.6 s estimated for 20 layers, and the check below then measures noise)
    depth = 20
    while True:
        _, _, kf = stax.serial(*([stax.Dense(1), stax.Erf()] * depth + [stax.Dense(1)]))
        t0 = time.monotonic()
        kf(x[:600], None, "ntk")
        full = (time.monotonic() - t0) * 25  # estimated seconds for the whole kernel
        if full >= 4.0 or depth >= 2560:
            break
        depth *= 2
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    e = raises(KeyboardInterrupt, lambda: kf(x, None, "ntk"), "SIGINT during kernel_fn")
    took = time.monotonic() - t0
    timer.join()
    check(isinstance(e, nt.Cancelled), "the interrupt is ntk.Cancelled")
    check(took < 0.5 * full, "cancelled after %.2f s of an estimated %.1f s" % (took, full))
    print("    %d Erf layers: cancelled after %.2f s of an estimated %.1f s" % (depth, took, full))
    check(signal.getsignal(signal.SIGINT) is signal.default_int_handler,
          "the SIGINT handler is restored")
    got = {}
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        time.sleep(2)  # Python's own handler is back: Ctrl-C outside a call is KeyboardInterrupt
    except KeyboardInterrupt as e:
        got["e"] = e
    timer.join()
    check("e" in got and not isinstance(got["e"], nt.Cancelled), "SIGINT after the call")
    err, old = io.StringIO(), sys.stderr
    sys.stderr = err
    try:
        kf(x[:100], None, "nngp", progress=True)
    finally:
        sys.stderr = old
    check("100.0%" in err.getvalue() and "kernel" in err.getvalue(),
          "progress=True draws a bar: %r" % err.getvalue()[-60:])


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_leak():
    section("10 000 calls: resident memory flat")
    if not os.path.exists("/proc/self/statm"):
        print("  (no /proc: skipped)")
        return
    init_fn, apply_fn, kf = stax.serial(stax.Dense(4), stax.Relu(), stax.Dense(1))
    x = rng(22).randn(8, 3)
    _, params = init_fn(1, (-1, 3))
    ek = nt.empirical_kernel_fn(apply_fn)
    ys = rng(23).randn(8, 1)

    def calls(n):
        for i in range(n):  # one thread: OpenMP's start-up would dominate these tiny calls
            kf(x, None, "ntk", threads=1)
            if i % 50 == 0:
                apply_fn(params, x)
                ek(x, None, "ntk", params)
                nt.predict.gradient_descent_mse(kf(x, None, "ntk"), ys)(1.0)
                try:
                    kf(x * np.nan, threads=1)
                except FloatingPointError:
                    pass
    calls(1000)
    r0 = rss_kb()
    calls(10000)
    grow = rss_kb() - r0
    check(grow < 1024, "resident memory grew %d kB over 10 000 kernel calls (+800 others)" % grow)


def test_readme():
    section("README: python3 python/example.py prints what the README says")
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    i = text.find("<!-- python-example-output -->")
    check(i >= 0, "README has the example's output block")
    block = text[i:].split("```")[1].strip("\n")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "python", "example.py")],
                       capture_output=True, text=True, cwd=TMP)
    check(r.returncode == 0 and r.stdout.strip("\n") == block,
          "example output:\n%s%s\nREADME:\n%s" % (r.stdout, r.stderr, block))


TESTS = [test_readme, test_kernel_cli, test_kernel_reference, test_params, test_conv_layout,
         test_spatial_finite, test_empirical, test_predict, test_errors, test_cancel_progress,
         test_leak]

if __name__ == "__main__":
    filt = sys.argv[1] if len(sys.argv) > 1 else ""
    print("ntk Python package %s (%s), library %s" % (nt.__version__, nt.simd, nt.library_path))
    for t in TESTS:
        if filt in t.__name__:
            try:
                t0 = time.monotonic()
                t()
                if os.environ.get("NTK_PY_TIMES"):
                    print("  (%.2f s)" % (time.monotonic() - t0))
            except Exception as e:  # a test that crashes is a failure, not the end of the run
                import traceback
                traceback.print_exc(file=sys.stdout)
                check(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
