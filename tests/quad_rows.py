#!/usr/bin/env python3
"""30-digit references for issue 15 rows 1-3 (tests/test_quad.c): the depth-3 NTK of
`ntk kernel --depth 3 --w-std W --act A` (b_std 0, NTK parameterisation) on the one point
x4 = (2.338167, -0.662854, 0.394860, 0.146521). One point: only the diagonal, so every layer
needs the 1-D expectations E[phi(u)^2], E[phi'(u)^2], u ~ N(0, q), done by mpmath's tanh-sinh
quadrature split at 0 and at +-2^k (the activation's structure at every scale) up to 40
standard deviations. The test does not run this."""
import mpmath as mp

mp.mp.dps = 30
X4 = [mp.mpf(s) for s in ('2.338167', '-0.662854', '0.394860', '0.146521')]


def phis(name):
    if name == 'tanh':
        return mp.tanh, lambda x: 1 / mp.cosh(x) ** 2
    sp = lambda x: mp.log1p(mp.exp(x)) if x < 0 else x + mp.log1p(mp.exp(-x))
    return sp, lambda x: 1 / (1 + mp.exp(-x))


def gauss1(g, q):
    s = mp.sqrt(q)
    lim = 40 * s
    pts = [mp.mpf(0)]
    k = -4
    while mp.mpf(2) ** k < lim:
        pts += [mp.mpf(2) ** k, -mp.mpf(2) ** k]
        k += 1
    pts = sorted(set(pts + [lim, -lim]))
    f = lambda x: g(x) * mp.exp(-x * x / (2 * q)) / (s * mp.sqrt(2 * mp.pi))
    return mp.quad(f, pts)


def ntk(name, w, depth=3):
    f, df = phis(name)
    w2 = mp.mpf(w) ** 2
    q = sum(x * x for x in X4) / len(X4)
    th = mp.mpf(0)
    for _ in range(depth):
        q = w2 * q
        th = q + w2 * th
        T = gauss1(lambda x: f(x) ** 2, q)
        Td = gauss1(lambda x: df(x) ** 2, q)
        th, q = th * Td, T
    q = w2 * q
    th = q + w2 * th
    return q, th


if __name__ == '__main__':
    for name, w in (('tanh', 4), ('tanh', 8), ('softplus', 4)):
        q, th = ntk(name, w)
        print(name, w, 'nngp', mp.nstr(q, 25), 'ntk', mp.nstr(th, 25))
