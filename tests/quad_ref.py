#!/usr/bin/env python3
"""Reference values for tests/test_quad.c: T = E[phi(u) phi(v)] and Td = E[phi'(u) phi'(v)] for
(u, v) ~ N(0, [[q11, q12], [q12, q22]]), q12 = rho*sqrt(q11*q22), in 20-digit mpmath arithmetic.

Method (independent of ntk.h's rule, which is a step-halving trapezoid rule in sinh-mapped
variables): iterated composite Gauss-Legendre in the original variables, E over u of phi(u) times
the conditional expectation over v | u ~ N(rho*sqrt(q22/q11)*u, q22*(1 - rho^2)), each 1-D integral
split at the Gaussian's centre +- {1,2,3,4,6,8,10,13} standard deviations and at 0 +- 4^k/4 (the
activation's structure at every scale), n Gauss-Legendre nodes on every piece. Every value is
computed with n = 20 (tanh also with n = 12: the script prints the relative difference, normalised
by E|phi(u)phi(v)|, as a convergence check); the test vectors carry the n = 20 value. Run: python3 tests/quad_ref.py > out
(a few minutes); the tests do not run it."""
import sys
import mpmath as mp

mp.mp.dps = 20


def gl(n):
    xs, ws = [], []
    for i in range(1, n + 1):
        x = mp.cos(mp.pi * (i - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))
        for _ in range(100):
            p0, p1 = mp.mpf(1), x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < mp.mpf(10) ** (-mp.mp.dps - 2):
                break
        p0, p1 = mp.mpf(1), x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        dp = n * (x * p1 - p0) / (x * x - 1)
        xs.append(x)
        ws.append(2 / ((1 - x * x) * dp * dp))
    return xs, ws


def sig(x):
    return 1 / (1 + mp.exp(-x))


PHI = {
    'tanh': (mp.tanh, lambda x: 1 / mp.cosh(x) ** 2),
    'softplus': (lambda x: mp.log1p(mp.exp(x)) if x < 0 else x + mp.log1p(mp.exp(-x)), sig),
    'sigmoid': (sig, lambda x: sig(x) * (1 - sig(x))),
}


def pieces(c, s):
    """breakpoints for a Gaussian N(c, s^2) integrand whose activation has structure at 0"""
    lo, hi = c - 13 * s, c + 13 * s
    pts = {lo, hi}
    for j in (1, 2, 3, 4, 6, 8, 10):
        pts.add(c + j * s)
        pts.add(c - j * s)
    pts.add(c)
    if lo < 0 < hi:
        pts.add(mp.mpf(0))
    for k in range(0, 600):
        b = mp.mpf(4) ** k / 4
        if b > max(abs(lo), abs(hi)):
            break
        for p in (b, -b):
            if lo < p < hi:
                pts.add(p)
    return sorted(pts)


def gauss_int(fs, c, s, rule):
    """E[f(x)] for x ~ N(c, s^2), for each f in fs (f returns a tuple of values)"""
    xs, ws = rule
    pts = pieces(c, s)
    acc = None
    norm = 1 / (s * mp.sqrt(2 * mp.pi))
    for a, b in zip(pts[:-1], pts[1:]):
        hw, mid = (b - a) / 2, (a + b) / 2
        for x, w in zip(xs, ws):
            t = mid + hw * x
            g = w * hw * norm * mp.exp(-((t - c) / s) ** 2 / 2)
            vals = fs(t)
            if acc is None:
                acc = [mp.mpf(0)] * len(vals)
            for i, v in enumerate(vals):
                acc[i] += g * v
    return acc


def kernel(name, q11, q22, rho, rule):
    f, df = PHI[name]
    q11, q22, rho = mp.mpf(q11), mp.mpf(q22), mp.mpf(rho)
    if q11 < q22:
        q11, q22 = q22, q11
    s1 = mp.sqrt(q11)
    mslope = rho * mp.sqrt(q22) / s1
    s = mp.sqrt(q22 * (1 - rho * rho)) if abs(rho) < 1 else mp.mpf(0)

    def both(v):
        a, b = f(v), df(v)
        return (a, b, abs(a), abs(b))

    def outer(u):
        fu, du = f(u), df(u)
        if s == 0:
            fv, dv = f(mslope * u), df(mslope * u)
            afv, adv = abs(fv), abs(dv)
        else:
            fv, dv, afv, adv = gauss_int(both, mslope * u, s, rule)
        return (fu * fv, du * dv, abs(fu) * afv, abs(du) * adv)

    return gauss_int(outer, mp.mpf(0), s1, rule)


CASES = []
for name in ('tanh', 'softplus', 'sigmoid'):
    full = name == 'tanh'
    for q in ('1e-8', '1e-3', '0.5', '2', '100', '1e8') if full else ('1e-8', '0.5', '100', '1e8'):
        for rho in ('1', '0.999999', '0.5', '0', '-0.7', '-1') if full else ('1', '0.5', '-0.7', '-1'):
            CASES.append((name, q, q, rho))
    for (q11, q22) in (('1e-8', '1e8'), ('0.5', '2'), ('1e4', '1e-2'), ('2', '1e6')) if full else (('1e-8', '1e8'), ('0.5', '2')):
        for rho in ('0.9', '-0.3'):
            CASES.append((name, q11, q22, rho))

if __name__ == '__main__':
    sel = sys.argv[1:]
    r12, r20 = gl(12), gl(20)
    for (name, q11, q22, rho) in CASES:
        if sel and name not in sel:
            continue
        b = kernel(name, q11, q22, rho, r20)
        a = kernel(name, q11, q22, rho, r12) if name == 'tanh' else b
        dT = abs(a[0] - b[0]) / b[2] if b[2] else abs(a[0] - b[0])
        dD = abs(a[1] - b[1]) / b[3] if b[3] else abs(a[1] - b[1])
        print('  {"%s", %s, %s, %s, %s, %s, %s, %s}, /* n12 vs n20: %.1e %.1e */' % (
            name, q11, q22, rho, mp.nstr(b[0], 20), mp.nstr(b[1], 20), mp.nstr(b[2], 20),
            mp.nstr(b[3], 20), float(dT), float(dD)))
        sys.stdout.flush()
