/* The closed-form activation duals at every scale (issue 15, rows 4–7 and 12's kernel part):
   end to end through ntk_kernel against exact identities and 30-digit values, and each dual
   against an independent reference over variances 1e-300 … 1e300 and ρ in [−1, 1]:
   textbook formulas in long double (64-bit mantissa, exponent range 1e±4932, so √(q11·q22)
   and e^(q) neither overflow nor underflow there) for the ReLU family, sign, sin, rbf, exp, and
   mpmath vectors (tests/closed_vectors.py, 720 digits) for erf and GELU, whose textbook forms
   cancel beyond what long double holds. Every path: ntk__dual with and without the per-point
   values, the scalar loop and the AVX2 ReLU-family kernel. Compiled for double and float.

   The tolerance is the header's statement (see "ACCURACY OF THE CLOSED FORMS" in ntk.h):
     |got − f(q)| ≤ atol + rtol·|f(q)| + Σ_{q ∈ q11,q22,q12} max_± |f(q·(1 ± 8ε)) − f(q)|
   one input perturbed at a time, all three jointly on a diagonal q11 = q22 = q12. */
#include <float.h>

#ifdef NTK_REAL_FLOAT
#define TC_RTOL 4e-6
#define TC_EPS 1.1920928955078125e-07
#define TC_QMIN 1e-36
#define TC_QMAX 1e36
#define TC_ATOL 1.2e-38
#else
#define TC_RTOL 1e-14
#define TC_EPS 2.220446049250313e-16
#define TC_QMIN 1e-300
#define TC_QMAX 1e300
#define TC_ATOL 2.3e-308
#endif
#define TC_DELTA (8 * TC_EPS)
#define TC_REAL_MAX (sizeof(ntk_real) == 4 ? (double)FLT_MAX : DBL_MAX)

#include "test_closed_vectors.h"

typedef long double tc_ld;
static const tc_ld tc_pi = 3.141592653589793238462643383279502884L;

/* T and Ṫ by the textbook formulas in long double; *ok = 0 where the reference itself cannot
   be trusted (not evaluated) */
static void tc_ref(const ntk_layer *L, tc_ld a, tc_ld b, tc_ld c, tc_ld *T, tc_ld *Td) {
  tc_ld nrm = sqrtl(a * b), rho = nrm > 0 ? c / nrm : 0;
  if (rho > 1) rho = 1;
  if (rho < -1) rho = -1;
  if (nrm > 0) c = rho * nrm; /* the clipped covariance, as the library clips ρ */
  switch (L->kind) {
  case NTK_LAYER_IDENTITY: *T = c, *Td = 1; break;
  case NTK_LAYER_ABRELU: { /* α·min(x,0) + β·max(x,0): Cho & Saul's arc-cosine kernels */
    tc_ld al = L->a, be = L->b, th = acosl(rho);
    tc_ld k1 = nrm * (sinl(th) + (tc_pi - th) * cosl(th)) / (2 * tc_pi);
    tc_ld k0 = nrm * (sinl(th) - th * cosl(th)) / (2 * tc_pi);
    *T = (al * al + be * be) * k1 - 2 * al * be * k0;
    *Td = ((al * al + be * be) * (tc_pi - th) + 2 * al * be * th) / (2 * tc_pi);
    break;
  }
  case NTK_LAYER_SIGN: *T = nrm > 0 ? 2 / tc_pi * asinl(rho) : 0, *Td = 0; break;
  case NTK_LAYER_SIN: { /* E[sin(bu + c)sin(bv + c)] = ½e^(−B(a+b−2c)/2) − ½cos 2c·e^(−B(a+b+2c)/2),
                           = e^(−B(a+b)/2)·(sin²c·cosh Bq12 + cos²c·sinh Bq12) while that is in range */
    tc_ld B = (tc_ld)L->b * L->b, A2 = (tc_ld)L->a * L->a, cs = cosl(2 * (tc_ld)L->c);
    tc_ld s2 = sinl((tc_ld)L->c) * sinl((tc_ld)L->c), c2 = cosl((tc_ld)L->c) * cosl((tc_ld)L->c);
    if (B * (a + b) / 2 < 11000) {
      tc_ld e = expl(-B * (a + b) / 2), ch = coshl(B * c), sh = sinhl(B * c);
      *T = A2 * e * (s2 * ch + c2 * sh), *Td = A2 * B * e * (c2 * ch + s2 * sh);
    } else {
      tc_ld e1 = expl(-B * (a + b - 2 * c) / 2), e2 = expl(-B * (a + b + 2 * c) / 2);
      *T = A2 / 2 * (e1 - cs * e2), *Td = A2 * B / 2 * (e1 + cs * e2);
    }
    break;
  }
  case NTK_LAYER_RBF: *T = expl(-(tc_ld)L->a * (a + b - 2 * c)), *Td = 2 * (tc_ld)L->a * *T; break;
  case NTK_LAYER_EXP: {
    tc_ld B = (tc_ld)L->b * L->b, e = expl(B * ((a + b) / 2 + c));
    *T = (tc_ld)L->a * L->a * e, *Td = (tc_ld)L->a * L->a * B * e;
    break;
  }
  default: *T = *Td = NAN; break;
  }
}

/* the conditioning terms of the statement, from the reference */
static void tc_cond(const ntk_layer *L, double a, double b, double c, double *cT, double *cD) {
  tc_ld T0, D0, T1, D1, s;
  int k, sg;
  tc_ref(L, a, b, c, &T0, &D0);
  *cT = *cD = 0;
  if (a == b && b == c) {
    for (sg = -1; sg <= 1; sg += 2) {
      s = 1 + sg * (tc_ld)TC_DELTA;
      tc_ref(L, a * s, b * s, c * s, &T1, &D1);
      if (fabsl(T1 - T0) > *cT) *cT = (double)fabsl(T1 - T0);
      if (fabsl(D1 - D0) > *cD) *cD = (double)fabsl(D1 - D0);
    }
    return;
  }
  for (k = 0; k < 3; k++) {
    double mT = 0, mD = 0;
    for (sg = -1; sg <= 1; sg += 2) {
      tc_ld q[3];
      q[0] = a, q[1] = b, q[2] = c;
      q[k] *= 1 + sg * (tc_ld)TC_DELTA;
      tc_ref(L, q[0], q[1], q[2], &T1, &D1);
      if (fabsl(T1 - T0) > mT) mT = (double)fabsl(T1 - T0);
      if (fabsl(D1 - D0) > mD) mD = (double)fabsl(D1 - D0);
    }
    *cT += mT, *cD += mD;
  }
}

/* the statement's scale M: |f| for identity, rbf, exp (positive, no cancellation), else the
   Cauchy–Schwarz bound √(f(q11, q11, q11)·f(q22, q22, q22)) */
static void tc_scale(const ntk_layer *L, double a, double b, tc_ld T, tc_ld Td, double *mT, double *mD) {
  tc_ld T1, D1, T2, D2;
  if (L->kind == NTK_LAYER_IDENTITY || L->kind == NTK_LAYER_RBF || L->kind == NTK_LAYER_EXP) {
    *mT = (double)fabsl(T), *mD = (double)fabsl(Td);
    return;
  }
  tc_ref(L, a, a, a, &T1, &D1);
  tc_ref(L, b, b, b, &T2, &D2);
  *mT = (double)sqrtl(fabsl(T1) * fabsl(T2)), *mD = (double)sqrtl(fabsl(D1) * fabsl(D2));
}

/* T and Ṫ of the library at one point, by path: 0 ntk__dual without per-point values (scalar
   loop, cnt = 1), 1 with them (scalar loop), 2 ntk__dual on a run of 4 (the AVX2 kernel where
   the CPU has it, with the values), 3 the AVX2 kernel without them */
static int tc_lib(const ntk_layer *L, int path, ntk_real a, ntk_real b, ntk_real c, double *T, double *Td) {
  ntk_real q11[4], q22[4], q12[4], th[4], p1[NTK__NPT], p2[4][NTK__NPT], s2[4], r2[4], x2[NTK__NPT - 2][4];
  ntk__dual_aux ax;
  int j, k, n = path >= 2 ? 4 : 1;
  for (j = 0; j < 4; j++) q11[j] = a, q22[j] = b, q12[j] = c, th[j] = 1;
  memset(&ax, 0, sizeof ax);
  ntk__dual_point(L, a, p1);
  for (j = 0; j < 4; j++) {
    ntk__dual_point(L, b, p2[j]);
    s2[j] = p2[j][0], r2[j] = p2[j][1];
    for (k = 2; k < NTK__NPT; k++) x2[k - 2][j] = p2[j][k];
  }
  ax.s1 = p1[0], ax.r1 = p1[1], ax.s2 = s2, ax.r2 = r2;
  for (k = 2; k < NTK__NPT; k++) ax.x1[k - 2] = p1[k], ax.x2[k - 2] = x2[k - 2];
  if (path == 3) {
#if defined(NTK__BUILD_X86) && !defined(NTK_REAL_FLOAT)
    const double f = (L->a - L->b) * (L->a - L->b) / (2 * 3.14159265358979323846), h = (L->a * L->a + L->b * L->b) / 2;
    if (L->kind != NTK_LAYER_ABRELU || ntk__simd_level() < NTK_SIMD_AVX2) return 0;
    if (ntk__abrelu_avx2(4, q11, q22, q12, th, f, h) != 4) return 0;
#else
    return 0;
#endif
  } else {
    ntk__dual(L, NULL, (size_t)n, q11, q22, q12, th, path == 0 ? NULL : &ax);
  }
  for (j = 1; j < n; j++) /* a run of 4 equal entries: equal results */
    if (q12[j] != q12[0] || th[j] != th[0]) return -1;
  *T = q12[0], *Td = th[0];
  return 1;
}

/* one point against its reference on every path; returns the worst err/tol */
static double tc_point(const char *what, const ntk_layer *L, double a, double b, double c, double T, double Td,
                       double cT, double cD, double mT, double mD, int *bad) {
  int path;
  double worst = 0;
  for (path = 0; path < 4; path++) {
    double gT, gD, eT, eD;
    int r = tc_lib(L, path, (ntk_real)a, (ntk_real)b, (ntk_real)c, &gT, &gD);
    if (r == 0) continue;
    eT = fabs(gT - T) / (TC_ATOL + TC_RTOL * mT + cT);
    eD = fabs(gD - Td) / (TC_ATOL + TC_RTOL * mD + cD);
    if (getenv("TC_SHOW") && (eT > 0.9 || eD > 0.9)) printf("    [show] %s path %d %.9g %.9g %.9g: T %.9g ref %.9g, Td %.9g ref %.9g (%.3g %.3g)\n", what, path, a, b, c, gT, T, gD, Td, eT, eD);
    if (r < 0 || !(eT <= 1 && eD <= 1)) {
      if (*bad < 8)
        printf("    %s path %d at q11 %.17g q22 %.17g q12 %.17g: T %.17g (ref %.17g, err/tol %.3g), Td %.17g (ref %.17g, err/tol %.3g)%s\n",
               what, path, a, b, c, gT, T, eT, gD, Td, eD, r < 0 ? " [entries of a run differ]" : "");
      (*bad)++;
    }
    if (!(eT <= worst)) worst = eT;
    if (!(eD <= worst)) worst = eD;
  }
  return worst;
}

/* in range for this precision: every input exactly representable, variances in [QMIN, QMAX],
   and the reference a normal number */
static int tc_in_range(double a, double b, double c, double T, double Td) {
  if ((double)(ntk_real)a != a || (double)(ntk_real)b != b || (double)(ntk_real)c != c) return 0;
  if (a < TC_QMIN || a > TC_QMAX || b < TC_QMIN || b > TC_QMAX) return 0;
  if ((tc_ld)c * c > (tc_ld)a * b) return 0; /* outside the domain |q12| ≤ √q11·√q22 */
  if (!(fabs(T) <= TC_REAL_MAX) || !(fabs(Td) <= TC_REAL_MAX)) return 0;
  return 1;
}

static void test_closed_duals(void) {
  static const double rhos[] = {-1, -0.9999999999, -0.999, -0.7, -0.3, -1e-9, 0, 1e-12, 0.2, 0.5, 0.51, 0.9,
                                0.99999, 1 - 1.1102230246251565e-16, 1};
  ntk_layer acts[12];
  const char *names[12] = {"identity", "relu", "leaky_relu(0.2)", "abs", "abrelu(-0.3,1.5)", "sign",
                           "sin", "cos", "sin(1.3,0.7,0.4)", "rbf(0.3)", "exp(0.7,0.4)", "exp(1,1)"};
  size_t ia;
  t_section("closed forms: each dual against long double / mpmath at variances 1e-300 … 1e300 (float 1e-36 … 1e36)");
  if (LDBL_MAX_EXP < 16384 || LDBL_MANT_DIG < 64) {
    printf("  long double is not x87 extended here: the long double reference part is skipped\n");
  } else {
    acts[0] = ntk_identity(), acts[1] = ntk_relu(), acts[2] = ntk_leaky_relu(0.2), acts[3] = ntk_abs();
    acts[4] = ntk_abrelu(-0.3, 1.5), acts[5] = ntk_sign(), acts[6] = ntk_sin(), acts[7] = ntk_cos();
    acts[8] = ntk_sin_scaled(1.3, 0.7, 0.4), acts[9] = ntk_rbf(0.3), acts[10] = ntk_exp(0.7, 0.4), acts[11] = ntk_exp(1, 1);
    for (ia = 0; ia < 12; ia++) {
      int bad = 0, n = 0, e1, e2, m;
      size_t ir;
      double worst = 0;
      for (e1 = -300; e1 <= 300; e1 += 15)
        for (m = 0; m < 3; m++) {
          /* a diagonal, then partners at several scales */
          double a = (m == 0 ? 1.0 : m == 1 ? 3.7 : 0.61) * pow(10, e1);
          if ((double)(ntk_real)a != a) a = (double)(ntk_real)a;
          for (e2 = -1; e2 < 8; e2++) {
            double b = e2 < 0 ? a : e2 == 0 ? a * 2.3 : e2 == 1 ? a * 1.0000001 : pow(10, (e1 * 37 + e2 * 91) % 600 - 300) * 1.7;
            b = (double)(ntk_real)b;
            for (ir = 0; ir < (e2 < 0 ? 1 : sizeof rhos / sizeof rhos[0]); ir++) {
              double c = e2 < 0 ? a : (double)(ntk_real)(rhos[ir] * sqrt(a) * sqrt(b)), cT, cD, mT, mD, w;
              tc_ld T, Td;
              if (e2 >= 0 && (tc_ld)c * c > (tc_ld)a * b) c = nextafter(c, 0); /* stay in the domain */
              if ((double)(ntk_real)c != c) c = (double)(ntk_real)(c * (1 - TC_EPS));
              tc_ref(&acts[ia], a, b, c, &T, &Td);
              if (!tc_in_range(a, b, c, (double)T, (double)Td)) continue;
              tc_cond(&acts[ia], a, b, c, &cT, &cD);
              tc_scale(&acts[ia], a, b, T, Td, &mT, &mD);
              w = tc_point(names[ia], &acts[ia], a, b, c, (double)T, (double)Td, cT, cD, mT, mD, &bad);
              if (w > worst) worst = w;
              n++;
            }
          }
        }
      T_CHECK(bad == 0 && n > 100, "%s: %d points against long double, %d outside the statement (worst err/tol %.3g)", names[ia], n, bad, worst);
      printf("  %-18s %4d points, worst err/tol %.3g\n", names[ia], n, worst);
    }
  }
  {
    ntk_layer mp[3];
    const double(*vec[3])[11];
    size_t nvec[3], k, i;
    const char *mpn[3] = {"erf", "erf(2,0.5,0.1)", "gelu"};
    mp[0] = ntk_erf(), mp[1] = ntk_erf_scaled(2, 0.5, 0.1), mp[2] = ntk_gelu();
    vec[0] = tc_vec_erf11, vec[1] = tc_vec_erf2, vec[2] = tc_vec_gelu;
    nvec[0] = sizeof tc_vec_erf11 / sizeof tc_vec_erf11[0], nvec[1] = sizeof tc_vec_erf2 / sizeof tc_vec_erf2[0];
    nvec[2] = sizeof tc_vec_gelu / sizeof tc_vec_gelu[0];
    for (k = 0; k < 3; k++) {
      int bad = 0, n = 0;
      double worst = 0, w;
      for (i = 0; i < nvec[k]; i++) {
        const double *v = vec[k][i];
        int f = sizeof(ntk_real) == 4;
        if (!tc_in_range(v[0], v[1], v[2], v[3], v[4])) continue;
        w = tc_point(mpn[k], &mp[k], v[0], v[1], v[2], v[3], v[4], f ? v[7] : v[5], f ? v[8] : v[6], v[9], v[10], &bad);
        if (w > worst) worst = w;
        n++;
      }
      T_CHECK(bad == 0 && n > 40, "%s: %d points against mpmath, %d outside the statement (worst err/tol %.3g)", mpn[k], n, bad, worst);
      printf("  %-18s %4d points, worst err/tol %.3g (mpmath)\n", mpn[k], n, worst);
    }
  }
}

/* ---- end to end through ntk_kernel ------------------------------------------------------ */
static double tc_rel(double got, double want) { return fabs(got - want) / fabs(want); }

#ifndef NTK_REAL_FLOAT
/* the CLI's `ntk kernel … ` on the one-line file "1,2": one point of dimension 2 */
static ntk_status tc_cli(size_t depth, ntk_layer act, double w_std, double *nngp, double *ntk) {
  static ntk_layer net[2 * 1000 + 1];
  ntk_real x[2] = {1, 2}, K = 0, T = 0;
  size_t L = ntk_mlp(net, sizeof net / sizeof net[0], depth, 0, act, w_std, 0, 1);
  ntk_status s = ntk_kernel(net, L, x, 1, NULL, 0, 2, &K, &T);
  *nngp = K, *ntk = T;
  return s;
}
#endif

static double tc_nan_f(double x, void *u) { (void)u; return x > 0.5 ? NAN : x; }
static double tc_one_df(double x, void *u) { (void)u; (void)x; return 1; }

static void test_closed_rows(void) {
  t_section("closed forms: issue 15 rows 4–7 and 12 (kernel) end to end, ReLU identities");
#ifndef NTK_REAL_FLOAT
  double K, T, want;
  size_t d;
  /* rows 4, 5. ReLU, σ_b = 0: a Dense layer multiplies the diagonal by σ_w², ReLU halves it, and
     the NTK after the last of D + 1 Dense layers is (D + 1)·NNGP */
  for (d = 600; d <= 900; d += 300) {
    T_STATUS(tc_cli(d, ntk_relu(), 1, &K, &T), NTK_OK);
    want = ldexp(2.5, -(int)d);
    T_CHECK(K == want && tc_rel(T, (double)(d + 1) * want) < 1e-13,
            "row 4: ReLU depth %zu: NNGP %.17g (want 2.5·2^-%zu = %.17g exactly), NTK %.17g (want %.17g)", d, K, d, want, T, (double)(d + 1) * want);
  }
  T_STATUS(tc_cli(2, ntk_relu(), 1e40, &K, &T), NTK_OK);
  T_CHECK(tc_rel(K, 6.25e239) < 1e-14 && tc_rel(T, 3 * 6.25e239) < 1e-14,
          "row 5: ReLU depth 2, σ_w 1e40: NNGP %.17g (want 6.25e239), NTK %.17g (want 1.875e240)", K, T);
  /* row 6 (30-digit values from tests/closed_vectors.py) */
  T_STATUS(tc_cli(1, ntk_erf(), 1e8, &K, &T), NTK_OK);
  T_CHECK(tc_rel(T, TC_ROW6_NTK_1E8) < 1e-13, "row 6: erf σ_w 1e8: NTK %.17g (want %.17g)", T, TC_ROW6_NTK_1E8);
  T_STATUS(tc_cli(1, ntk_erf(), 1e7, &K, &T), NTK_OK);
  T_CHECK(tc_rel(T, TC_ROW6_NTK_1E7) < 1e-13, "row 6: erf σ_w 1e7: NTK %.17g (want %.17g)", T, TC_ROW6_NTK_1E7);
  /* row 7 */
  T_STATUS(tc_cli(15, ntk_gelu(), 16, &K, &T), NTK_OK);
  T_CHECK(tc_rel(T, TC_ROW7_NTK) < 1e-12 && tc_rel(K, TC_ROW7_NNGP) < 1e-12,
          "row 7: GELU depth 15, σ_w 16: NTK %.17g (want %.17g), NNGP %.17g (want %.17g)", T, TC_ROW7_NTK, K, TC_ROW7_NNGP);
  /* exp: representable at depth 1 (NNGP 100·e^500, NTK 25100·e^500), beyond it at depth 2 */
  T_STATUS(tc_cli(1, ntk_exp(1, 1), 10, &K, &T), NTK_OK);
  T_CHECK(tc_rel(K, 100 * exp(500.0)) < 1e-13 && tc_rel(T, 25100 * exp(500.0)) < 1e-13,
          "exp(1,1), σ_w 10: NNGP %.17g (want 100·e^500), NTK %.17g (want 25100·e^500)", K, T);
#endif
  /* row 12: not representable → NTK_ERR_NON_FINITE, with every entry written as computed */
  {
    ntk_layer net[5];
    ntk_real x[6] = {1, 2, -0.5, 0.3, 2, 2}, K9[9], T9[9];
    size_t L, i;
    int complete = 1;
    double big = sizeof(ntk_real) == 4 ? 1e20 : 1e200;
    L = ntk_mlp(net, 5, 1, 0, ntk_relu(), big, 0, 1);
    for (i = 0; i < 9; i++) K9[i] = T9[i] = 7;
    T_STATUS(ntk_kernel(net, L, x, 3, NULL, 0, 2, K9, T9), NTK_ERR_NON_FINITE); /* row 12: --w-std 1e200 */
    for (i = 0; i < 9; i++) complete &= K9[i] != 7 && T9[i] != 7;
    T_CHECK(complete, "NON_FINITE: every entry of both outputs written");
    T_STATUS(ntk_kernel(net, L, x, 3, x, 3, 2, NULL, T9), NTK_ERR_NON_FINITE);
    L = ntk_mlp(net, 5, 2, 0, ntk_exp(1, 1), 10, 0, 1); /* row 12: --act exp:1,1 --w-std 10 (depth 2) */
    T_STATUS(ntk_kernel(net, L, x, 3, NULL, 0, 2, K9, NULL), NTK_ERR_NON_FINITE);
    L = ntk_mlp(net, 5, 1, 0, ntk_custom(tc_nan_f, tc_one_df, NULL), 1, 0.1, 1); /* a custom φ returning NaN */
    T_STATUS(ntk_kernel(net, L, x, 3, NULL, 0, 2, K9, T9), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_kernel(net, L, x, 3, NULL, 0, 2, NULL, T9), NTK_ERR_NON_FINITE);
    /* erf saturates: a variance overflowing on the way is reported even where the output is finite */
    net[0] = ntk_dense(0, big, 0), net[1] = ntk_erf(), net[2] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_kernel(net, 3, x, 3, NULL, 0, 2, K9, NULL), NTK_ERR_NON_FINITE);
  }
}

/* ReLU with σ_b = 0 is positively homogeneous: K(s·x, s·x′; σ_w) = s²·σ_w^(2(D+1))·K(x, x′; 1),
   the NTK likewise. Off-diagonal entries at extreme scales against a long double recursion at
   scale 1 (of the same textbook formulas as tc_ref). */
static void tc_relu_pair_ld(size_t D, const double *x, const double *y, tc_ld *nn, tc_ld *nt) {
  tc_ld a = (x[0] * x[0] + x[1] * x[1]) / 2.0L, b = (y[0] * y[0] + y[1] * y[1]) / 2.0L, c = (x[0] * y[0] + x[1] * y[1]) / 2.0L, th = 0;
  ntk_layer r = ntk_relu();
  size_t l;
  for (l = 0; l <= D; l++) {
    th = c + th; /* Dense, σ_w = 1 */
    if (l < D) {
      tc_ld Ta, Tb, Tc, Td, dum;
      tc_ref(&r, a, a, a, &Ta, &dum);
      tc_ref(&r, b, b, b, &Tb, &dum);
      tc_ref(&r, a, b, c, &Tc, &Td);
      a = Ta, b = Tb, c = Tc, th *= Td;
    }
  }
  *nn = c, *nt = th;
}

static void test_closed_homogeneity(void) {
  static const double pts[4][2] = {{1, 2}, {-0.5, 0.3}, {2, -1.7}, {0.9, 1.1}};
  struct { size_t D; double w, s, rtk, rtt; } cs[6];
  size_t k, i, j;
  int n = 0;
  t_section("closed forms: ReLU homogeneity, off-diagonal entries at extreme scales");
  if (LDBL_MAX_EXP < 16384) return;
  /* NTK at depth 600: ρ → 1 with depth, where Ṫ is conditioned (dθ/dρ = −1/sin θ) */
  cs[0].D = 2, cs[0].w = 1e40, cs[0].s = 1;
  cs[1].D = 2, cs[1].w = 1e40, cs[1].s = 1e-150;
  cs[2].D = 2, cs[2].w = 1e-40, cs[2].s = 1e30;
  cs[3].D = 600, cs[3].w = 1, cs[3].s = 1e100;
  cs[4].D = 600, cs[4].w = 1, cs[4].s = 1e-60;
  cs[5].D = 3, cs[5].w = 1e25, cs[5].s = 1e-140;
  for (k = 0; k < 6; k++) cs[k].rtk = 1e-12, cs[k].rtt = cs[k].D > 100 ? 1e-8 : 1e-11;
#ifdef NTK_REAL_FLOAT
  cs[0].w = 1e5, cs[1].w = 1e5, cs[1].s = 1e-15, cs[2].w = 1e-5, cs[2].s = 1e10, cs[3].D = 60, cs[3].s = 1e6, cs[4].D = 60, cs[4].s = 1e-5;
  cs[5].w = 1e3, cs[5].s = 1e-12;
  for (k = 0; k < 6; k++) cs[k].rtk = 1e-4, cs[k].rtt = cs[k].D > 10 ? 3e-3 : 1e-4;
#endif
  for (k = 0; k < 6; k++) {
    static ntk_layer net[2 * 600 + 1];
    ntk_real x[8], K[16], T[16];
    double worstk = 0, worstt = 0;
    size_t L = ntk_mlp(net, sizeof net / sizeof net[0], cs[k].D, 0, ntk_relu(), cs[k].w, 0, 1);
    tc_ld scale = (tc_ld)cs[k].s * cs[k].s * powl((tc_ld)cs[k].w, 2.0L * (tc_ld)(cs[k].D + 1));
    for (i = 0; i < 8; i++) x[i] = (ntk_real)(pts[i / 2][i % 2] * cs[k].s);
    T_STATUS(ntk_kernel(net, L, x, 4, NULL, 0, 2, K, T), NTK_OK);
    for (i = 0; i < 4; i++)
      for (j = 0; j < 4; j++) {
        tc_ld nn, nt;
        double xi[2], xj[2];
        xi[0] = (double)x[2 * i] / cs[k].s, xi[1] = (double)x[2 * i + 1] / cs[k].s;
        xj[0] = (double)x[2 * j] / cs[k].s, xj[1] = (double)x[2 * j + 1] / cs[k].s;
        tc_relu_pair_ld(cs[k].D, xi, xj, &nn, &nt);
        nn *= scale, nt *= scale;
        if (tc_rel(K[i * 4 + j], (double)nn) > worstk) worstk = tc_rel(K[i * 4 + j], (double)nn);
        if (tc_rel(T[i * 4 + j], (double)nt) > worstt) worstt = tc_rel(T[i * 4 + j], (double)nt);
        n++;
      }
    T_CHECK(worstk <= cs[k].rtk && worstt <= cs[k].rtt, "ReLU depth %zu, σ_w %g, inputs ×%g: NNGP rel %.3g (tol %g), NTK rel %.3g (tol %g)",
            cs[k].D, cs[k].w, cs[k].s, worstk, cs[k].rtk, worstt, cs[k].rtt);
    printf("  depth %3zu σ_w %-6g inputs ×%-7g: NNGP rel %.2g, NTK rel %.2g\n", cs[k].D, cs[k].w, cs[k].s, worstk, worstt);
  }
}

static void test_closed_all(void) {
  test_closed_rows();
  test_closed_homogeneity();
  test_closed_duals();
}
