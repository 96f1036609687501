#!/usr/bin/env python3
"""Reference values for tests/test_closed.c (writes tests/test_closed_vectors.h).

The erf and GELU dual kernels, T = E[phi(u)phi(v)] and Td = E[phi'(u)phi'(v)] for
(u, v) ~ N(0, [[q11, q12], [q12, q22]]), evaluated with mpmath at 720 significant digits from
their textbook closed forms (Williams 1997 for erf; neural-tangents' stax.Gelu for GELU), at
inputs that are exact binary doubles. At 720 digits the cancellation of those forms (P - 4c^2,
(1+q11)(1+q22) - q12^2, up to 600 digits at q = 1e300) costs nothing. Both closed forms are
first checked here against direct 2-D numerical integration at moderate variances.

For every point it also writes the conditioning terms the header's accuracy statement adds to
the relative tolerance: sum over q in (q11, q22, q12) of max over +- of |f(q(1 +- 8 eps)) - f|
(one q perturbed at a time), or on a diagonal q11 = q22 = q12 the joint perturbation of all
three, for eps = 2^-52 (double) and 2^-23 (float). Inputs with |log10 q| <= 36 are float32
values, so the float suite uses the same points.

It also writes the scale M of the statement, sqrt(f(q11, q11, q11) * f(q22, q22, q22)) (the
Cauchy-Schwarz bound on |f|), and keeps every point inside the domain |q12| <= sqrt(q11 q22)
(a rounded q12 beyond it is moved toward 0 by one ulp at a time).

Also prints the issue's 'right' values of rows 4-7 from the same 30+ digit recursion.
Run: python3 tests/closed_vectors.py > tests/test_closed_vectors.h   (mpmath 1.3)
"""
import sys
import math
import struct
import mpmath as mp

mp.mp.dps = 720
PI = mp.pi


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def f32_toward0(x):
    """the float32 next to x toward 0 (x a float32 value)"""
    i = struct.unpack('I', struct.pack('f', x))[0]
    return struct.unpack('f', struct.pack('I', i - 1))[0] if x != 0 else x


def clipc(a, b, c):
    m = mp.sqrt(a * b)
    return max(-m, min(m, c))


def erf_dual(p, a, b, c):
    A, B, C0 = p
    B2 = mp.mpf(B) ** 2
    c = clipc(a, b, c)
    u, v, w = B2 * a, B2 * b, B2 * c
    P = (1 + 2 * u) * (1 + 2 * v)
    t = 2 * w / mp.sqrt(P)
    t = max(-1, min(1, t))
    T = mp.mpf(A) ** 2 * (2 / PI) * mp.asin(t) + mp.mpf(C0) ** 2
    Td = mp.mpf(A) ** 2 * B2 * (4 / PI) / mp.sqrt(P - 4 * w * w)
    return T, Td


def gelu_dual(p, a, b, c):
    c = clipc(a, b, c)
    D2 = (1 + a) * (1 + b) - c * c
    D = mp.sqrt(D2)
    t = mp.atan2(c, D)
    pp, p1 = a * b, (1 + a) * (1 + b)
    T = c / 4 + ((c * c + pp * D2) / (p1 * D) + c * t) / (2 * PI)
    Td = mp.mpf(1) / 4 + t / (2 * PI) + c / (2 * PI * D) * (1 / D2 + (1 - pp) / p1 + 1)
    return T, Td


def check_against_integration():
    """the closed forms against E[phi phi] by 2-D quadrature at moderate variances"""
    old = mp.mp.dps
    mp.mp.dps = 20
    for name, f, df, dual, p in (
            ('erf', lambda x: mp.erf(x), lambda x: 2 / mp.sqrt(PI) * mp.exp(-x * x), erf_dual, (1, 1, 0)),
            ('erf(2,0.5,0.1)', lambda x: 2 * mp.erf(0.5 * x) + 0.1,
             lambda x: 2 * 0.5 * 2 / mp.sqrt(PI) * mp.exp(-0.25 * x * x), erf_dual, (2, 0.5, 0.1)),
            ('gelu', lambda x: x * mp.ncdf(x), lambda x: mp.ncdf(x) + x * mp.npdf(x), gelu_dual, None)):
        for (a, b, r) in ((2.0, 0.4, -0.8),):
            a, b = mp.mpf(a), mp.mpf(b)
            c = r * mp.sqrt(a * b)
            l11, l21 = mp.sqrt(a), c / mp.sqrt(a)
            l22 = mp.sqrt(b - l21 ** 2)

            def E(g):  # E[g(u) g(v)], u = l11 z1, v = l21 z1 + l22 z2
                return mp.quad(lambda z1: mp.npdf(z1) * g(l11 * z1) *
                               mp.quad(lambda z2: mp.npdf(z2) * g(l21 * z1 + l22 * z2), [-mp.inf, 0, mp.inf]),
                               [-mp.inf, 0, mp.inf])
            T, Td = dual(p, a, b, c)
            eT, eTd = abs(E(f) / T - 1), abs(E(df) / Td - 1)
            print('/* %s at (%s, %s, rho %s): closed form vs 2-D integration: rel %.1e, %.1e */'
                  % (name, a, b, r, eT, eTd))
            assert eT < 1e-12 and eTd < 1e-12
    mp.mp.dps = old


def cond(dual, p, a, b, c, delta, diag):
    T0, D0 = dual(p, a, b, c)
    cT = cD = mp.mpf(0)
    if diag:
        for s in (1 + delta, 1 - delta):
            T1, D1 = dual(p, a * s, b * s, c * s)
            cT, cD = max(cT, abs(T1 - T0)), max(cD, abs(D1 - D0))
        return cT, cD
    for k in range(3):
        mT = mD = mp.mpf(0)
        for s in (1 + delta, 1 - delta):
            q = [a, b, c]
            q[k] = q[k] * s
            T1, D1 = dual(p, *q)
            mT, mD = max(mT, abs(T1 - T0)), max(mD, abs(D1 - D0))
        cT, cD = cT + mT, cD + mD
    return cT, cD


def qval(m, e):
    x = float('%re%d' % (m, e))
    return f32(x) if abs(e) <= 36 else x


def points():
    exps = [-300, -150, -36, -20, -8, -1, 0, 1, 8, 16, 20, 36, 150, 300]
    pts = []
    for e in exps:
        for m in (1.0, 3.7):
            q = qval(m, e)
            pts.append((q, q, q))
    pairs = [(-300, -300), (-300, 300), (-36, -36), (-20, -8), (-1, 1), (0, 0), (1, 8),
             (16, 16), (20, 36), (36, 36), (150, 150), (300, 300)]
    rhos = [-1.0, -0.999999, -0.5, 0.0, 0.6, 0.999999, 1.0]
    for (e1, e2) in pairs:
        q11, q22 = qval(1.0, e1), qval(2.3, e2)
        for r in rhos:
            c = r * (q11 ** 0.5) * (q22 ** 0.5)
            small = abs(e1) <= 36 and abs(e2) <= 36
            if small:
                c = f32(c)
            while mp.mpf(c) ** 2 > mp.mpf(q11) * mp.mpf(q22):
                c = f32_toward0(c) if small else math.nextafter(c, 0.0)
            pts.append((q11, q22, c))
    return pts


def row_values():
    mp.mp.dps = 50
    q = mp.mpf(5) / 2  # the point (1, 2): |x|^2 / dim = 2.5
    print('/* row 4: ReLU depth 600 NNGP %s, depth 900 %s */' % (mp.nstr(q / 2 ** 600, 20), mp.nstr(q / 2 ** 900, 20)))
    print('/* row 5: ReLU depth 2, sigma_w 1e40: NNGP %s */' % mp.nstr(q * mp.mpf(10) ** 240 / 4, 20))
    for w in (1e7, 1e8):
        w2 = mp.mpf(w) ** 2
        qq = w2 * q
        th = qq
        T, Td = erf_dual((1, 1, 0), qq, qq, qq)
        ntk = w2 * T + w2 * th * Td
        print('#define TC_ROW6_NTK_%s %se0 /* row 6: erf depth 1, sigma_w %g: NTK */' % ('1E7' if w == 1e7 else '1E8', mp.nstr(ntk, 25), w))
    w2 = mp.mpf(256)
    qq, th = q, mp.mpf(0)
    for l in range(15):
        qq = w2 * qq
        th = qq + w2 * th
        T, Td = gelu_dual(None, qq, qq, qq)
        qq, th = T, th * Td
    qq = w2 * qq
    th = qq + w2 * th
    print('#define TC_ROW7_NNGP %s /* row 7: GELU depth 15, sigma_w 16 */' % mp.nstr(qq, 25))
    print('#define TC_ROW7_NTK %s' % mp.nstr(th, 25))
    mp.mp.dps = 720


def main():
    out = sys.stdout
    out.write('/* Generated by tests/closed_vectors.py (mpmath %s, 720 digits): see that script. Columns:\n'
              '   q11, q22, q12 (exact doubles), T, Td (correctly rounded), then the conditioning terms\n'
              '   for T and Td at eps = 2^-52 and at eps = 2^-23, the scales M of T and Td. */\n' % mp.__version__)
    check_against_integration()
    row_values()
    eps_d, eps_f = mp.mpf(2) ** -52, mp.mpf(2) ** -23
    kinds = (('erf11', erf_dual, (1, 1, 0)), ('erf2', erf_dual, (2, 0.5, 0.1)), ('gelu', gelu_dual, None))
    for name, dual, p in kinds:
        pts = points()
        out.write('static const double tc_vec_%s[%d][11] = {\n' % (name, len(pts)))
        for (a, b, c) in pts:
            A, B, C = mp.mpf(a), mp.mpf(b), mp.mpf(c)
            diag = a == b == c
            T, Td = dual(p, A, B, C)
            cTd, cDd = cond(dual, p, A, B, C, 8 * eps_d, diag)
            cTf, cDf = cond(dual, p, A, B, C, 8 * eps_f, diag)
            T1, D1 = dual(p, A, A, A)
            T2, D2 = dual(p, B, B, B)
            out.write('    {%r, %r, %r, %r, %r, %.3g, %.3g, %.3g, %.3g, %.3g, %.3g},\n'
                      % (a, b, c, float(T), float(Td), float(cTd), float(cDd), float(cTf), float(cDf),
                         float(mp.sqrt(abs(T1 * T2))), float(mp.sqrt(abs(D1 * D2)))))
        out.write('};\n')


if __name__ == '__main__':
    main()
