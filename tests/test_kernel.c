/* Infinite-width kernels against an independent, slow evaluation written here: the layer
   recursion for one pair at a time, with libm's acos/asin/atan2 and each closed form coded
   from its formula; closed forms against high-degree quadrature; symmetry; tile boundaries;
   depth 0…5; both parameterisations; bad layers. Compiled for ntk_real = double and float. */

/* T and Ṫ of one activation at (a = q11, b = q22, c = q12): the textbook formulas */
static void tk_dual(const ntk_layer *L, double a, double b, double c, double *T, double *Td) {
  double pi = 3.14159265358979323846;
  switch (L->kind) {
  case NTK_LAYER_IDENTITY: *T = c, *Td = 1; break;
  case NTK_LAYER_ABRELU: { /* φ = α·min(x,0) + β·max(x,0): arc-cosine kernels of degree 1 and 0 */
    double al = L->a, be = L->b, nrm = sqrt(a * b), rho = nrm > 0 ? c / nrm : 0, th, k1, k0;
    if (rho > 1) rho = 1;
    if (rho < -1) rho = -1;
    th = acos(rho);
    /* E[max(u,0)max(v,0)] = nrm(sin θ + (π−θ)cos θ)/(2π); E[min·min] the same; E[max(u,0)min(v,0)] = −nrm(sin θ − θ cos θ)/(2π) */
    k1 = nrm * (sin(th) + (pi - th) * cos(th)) / (2 * pi);
    k0 = nrm * (sin(th) - th * cos(th)) / (2 * pi);
    *T = (al * al + be * be) * k1 - 2 * al * be * k0;
    *Td = (al * al + be * be) * (pi - th) / (2 * pi) + 2 * al * be * th / (2 * pi);
    break;
  }
  case NTK_LAYER_ERF: { /* a·erf(b x) + c */
    double B = L->b * L->b, u = B * a, v = B * b, w = B * c;
    *T = L->a * L->a * (2 / pi) * asin(2 * w / sqrt((1 + 2 * u) * (1 + 2 * v))) + L->c * L->c;
    *Td = L->a * L->a * B * (4 / pi) / sqrt((1 + 2 * u) * (1 + 2 * v) - 4 * w * w);
    break;
  }
  case NTK_LAYER_SIN: { /* a·sin(b x + c) */
    double B = L->b * L->b;
    *T = L->a * L->a / 2 * (exp(-B * (a + b) / 2) * (exp(B * c) - exp(-B * c) * cos(2 * L->c)));
    *Td = L->a * L->a / 2 * B * (exp(-B * (a + b) / 2) * (exp(B * c) + exp(-B * c) * cos(2 * L->c)));
    break;
  }
  case NTK_LAYER_SIGN: {
    double nrm = sqrt(a * b);
    *T = nrm > 0 ? 2 / pi * asin(c / nrm > 1 ? 1 : c / nrm) : 0, *Td = 0;
    break;
  }
  case NTK_LAYER_GELU: {
    double D2 = (1 + a) * (1 + b) - c * c, D = sqrt(D2), th = atan2(c, D), p = a * b, p1 = (1 + a) * (1 + b);
    *T = c / 4 + ((c * c + p * D2) / (p1 * D) + c * th) / (2 * pi);
    *Td = 0.25 + th / (2 * pi) + c / (2 * pi * D) * (1 / D2 + (1 - p) / p1 + 1);
    break;
  }
  case NTK_LAYER_RBF: *T = exp(L->a * (2 * c - a - b)), *Td = 2 * L->a * *T; break;
  case NTK_LAYER_EXP: {
    double B = L->b * L->b, e = exp(B * ((a + b) / 2 + c));
    *T = L->a * L->a * e, *Td = L->a * L->a * B * e;
    break;
  }
  default: *T = NAN, *Td = NAN; break;
  }
}

/* the recursion for one pair, in double */
static void tk_pair(const ntk_layer *ly, size_t L, const ntk_real *x, const ntk_real *y, size_t d,
                    double *nngp, double *ntk) {
  double a = 0, b = 0, c = 0, th = 0, nin = (double)d;
  size_t k, l;
  for (k = 0; k < d; k++) a += (double)x[k] * x[k], b += (double)y[k] * y[k], c += (double)x[k] * y[k];
  a /= (double)d, b /= (double)d, c /= (double)d;
  for (l = 0; l < L; l++) {
    const ntk_layer *q = &ly[l];
    if (q->kind == NTK_LAYER_DENSE) {
      double w2 = q->w_std * q->w_std, b2 = q->b_std * q->b_std;
      if (q->param == NTK_PARAM_STANDARD) th = nin * c + w2 * th + (q->b_std > 0);
      a = w2 * a + b2, b = w2 * b + b2, c = w2 * c + b2;
      if (q->param == NTK_PARAM_NTK) th = c + w2 * th;
      nin = (double)q->width;
    } else {
      double Ta, Tb, Tc, Td, dum;
      tk_dual(q, a, a, a, &Ta, &dum);
      tk_dual(q, b, b, b, &Tb, &dum);
      tk_dual(q, a, b, c, &Tc, &Td);
      a = Ta, b = Tb, c = Tc, th *= Td;
    }
  }
  *nngp = c, *ntk = th;
}

static void tk_inputs(ntk_real *x, size_t n, size_t d, double scale) {
  size_t i;
  for (i = 0; i < n * d; i++) x[i] = (ntk_real)(scale * t_normal());
}

/* compare ntk_kernel (x2 given) with the pairwise recursion */
static void tk_against_pairs(const char *what, const ntk_layer *ly, size_t L, size_t n1, size_t n2,
                             size_t d, double rtol) {
  ntk_real *x1 = (ntk_real *)malloc(n1 * d * sizeof(ntk_real)), *x2 = (ntk_real *)malloc(n2 * d * sizeof(ntk_real));
  ntk_real *K = (ntk_real *)malloc(n1 * n2 * sizeof(ntk_real)), *T = (ntk_real *)malloc(n1 * n2 * sizeof(ntk_real));
  double *rk = (double *)malloc(n1 * n2 * 8), *rt = (double *)malloc(n1 * n2 * 8), *gk = (double *)malloc(n1 * n2 * 8), *gt = (double *)malloc(n1 * n2 * 8);
  double ek, et, scale = 0;
  size_t i, j;
  tk_inputs(x1, n1, d, 1.0);
  tk_inputs(x2, n2, d, 1.0);
  T_STATUS(ntk_kernel(ly, L, x1, n1, x2, n2, d, K, T), NTK_OK);
  for (i = 0; i < n1; i++)
    for (j = 0; j < n2; j++) tk_pair(ly, L, x1 + i * d, x2 + j * d, d, &rk[i * n2 + j], &rt[i * n2 + j]);
  for (i = 0; i < n1 * n2; i++) {
    gk[i] = K[i], gt[i] = T[i];
    if (fabs(rt[i]) > scale) scale = fabs(rt[i]);
    if (fabs(rk[i]) > scale) scale = fabs(rk[i]);
  }
  ek = t_err_ratio_d(gk, rk, n1 * n2, rtol * scale, rtol);
  et = t_err_ratio_d(gt, rt, n1 * n2, rtol * scale, rtol);
  T_CHECK(ek <= 1 && et <= 1, "%s: %zux%zu d=%zu vs pairwise recursion: nngp err/tol %.3g, ntk err/tol %.3g (rtol %g)",
          what, n1, n2, d, ek, et, rtol);
  free(x1), free(x2), free(K), free(T), free(rk), free(rt), free(gk), free(gt);
}

#ifdef NTK_REAL_FLOAT
#define TK_RTOL 2e-5
#else
#define TK_RTOL 1e-11
#endif

static void test_kernel_closed_forms(void) {
  ntk_layer net[16];
  ntk_layer acts[12];
  const char *names[12] = {"identity", "relu", "leaky_relu(0.2)", "abs", "abrelu(-0.3,1.5)", "erf", "erf(2,0.5,0.1)", "gelu", "sin", "cos", "sign", "rbf(0.3)"};
  size_t a, depth, n;
  t_section("kernel: closed forms against the pairwise recursion (libm)");
  acts[0] = ntk_identity(), acts[1] = ntk_relu(), acts[2] = ntk_leaky_relu(0.2), acts[3] = ntk_abs();
  acts[4] = ntk_abrelu(-0.3, 1.5), acts[5] = ntk_erf(), acts[6] = ntk_erf_scaled(2, 0.5, 0.1);
  acts[7] = ntk_gelu(), acts[8] = ntk_sin(), acts[9] = ntk_cos(), acts[10] = ntk_sign(), acts[11] = ntk_rbf(0.3);
  for (a = 0; a < 12; a++)
    for (depth = 1; depth <= 3; depth += 2) {
      char what[96];
      n = ntk_mlp(net, 16, depth, 0, acts[a], 1.3, 0.2, 1);
      snprintf(what, sizeof what, "%s depth %zu", names[a], depth);
      /* ReLU-family NTKs near ρ = ±1 lose accuracy (see the header); random Gaussian inputs in
         d = 7 keep |ρ| well below 1, so the tight tolerance holds */
      tk_against_pairs(what, net, n, 13, 9, 7, TK_RTOL * (a == 10 ? 10 : 1));
    }
  /* every depth 0…5, standard parameterisation, exp */
  for (depth = 0; depth <= 5; depth++) {
    char what[64];
    n = ntk_mlp(net, 16, depth, 0, ntk_relu(), 1.4, 0.1, 1);
    snprintf(what, sizeof what, "relu depth %zu", depth);
    tk_against_pairs(what, net, n, 5, 6, 4, TK_RTOL);
  }
  net[0] = ntk_dense_standard(50, 1.2, 0.3), net[1] = ntk_relu(), net[2] = ntk_dense_standard(40, 0.9, 0.0),
  net[3] = ntk_erf(), net[4] = ntk_dense_standard(1, 1.1, 0.5);
  tk_against_pairs("standard parameterisation (widths 50, 40)", net, 5, 6, 7, 3, TK_RTOL);
  net[0] = ntk_dense(0, 1, 0), net[1] = ntk_exp(0.7, 0.4), net[2] = ntk_dense(1, 1, 0);
  tk_against_pairs("exp(0.7, 0.4)", net, 3, 4, 5, 3, TK_RTOL);
}

/* the symmetric path (x2 = NULL) equals x2 = x1 off the diagonal; diagonal ρ = 1 exactly */
static void test_kernel_symmetry(void) {
  ntk_layer net[8];
  size_t L = ntk_mlp(net, 8, 3, 0, ntk_relu(), 1.5, 0.1, 1), n = 301, d = 5, i, j; /* n > segment and > tile, odd: rows start at every alignment */
  ntk_real *x = (ntk_real *)malloc(n * d * sizeof(ntk_real));
  ntk_real *Ks = (ntk_real *)malloc(n * n * sizeof(ntk_real)), *Ts = (ntk_real *)malloc(n * n * sizeof(ntk_real));
  ntk_real *Kg = (ntk_real *)malloc(n * n * sizeof(ntk_real)), *Tg = (ntk_real *)malloc(n * n * sizeof(ntk_real));
  ntk_real *Tonly = (ntk_real *)malloc(n * n * sizeof(ntk_real));
  double off = 0, diag = 0, sym = 0, exact = 0;
  t_section("kernel: x2 = NULL (one triangle, mirrored) against x2 = x1");
  tk_inputs(x, n, d, 1.0);
  T_STATUS(ntk_kernel(net, L, x, n, NULL, 0, d, Ks, Ts), NTK_OK);
  T_STATUS(ntk_kernel(net, L, x, n, x, n, d, Kg, Tg), NTK_OK);
  T_STATUS(ntk_kernel(net, L, x, n, NULL, 0, d, NULL, Tonly), NTK_OK);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      double e = fabs((double)Ts[i * n + j] - Tg[i * n + j]) / fabs((double)Tg[i * n + j]);
      double ek = fabs((double)Ks[i * n + j] - Kg[i * n + j]) / fabs((double)Kg[i * n + j]);
      if (i == j) { if (e > diag) diag = e; }
      else { if (e > off) off = e; if (ek > off) off = ek; }
      if (Ts[i * n + j] != Ts[j * n + i] || Ks[i * n + j] != Ks[j * n + i]) sym = 1;
      if (Tonly[i * n + j] != Ts[i * n + j]) exact = 1;
    }
  T_CHECK(off <= 50 * NTK__EPS, "off-diagonal: symmetric path vs general path rel. err %.3g", off);
  /* the general path sees ρ rounded below 1 on the diagonal: the ReLU NTK inherits √eps */
  T_CHECK(diag <= 30 * sqrt(NTK__EPS), "diagonal: rel. err %.3g (the ρ → 1 conditioning)", diag);
  printf("  general path on the diagonal (ρ one rounding below 1): NTK rel. err %.2g\n", diag);
  T_CHECK(!sym, "symmetric output is exactly symmetric");
  T_CHECK(!exact, "NTK alone (nngp = NULL) equals the NTK computed with the NNGP");
  {
    /* diagonal against the pairwise recursion with ρ = 1 exactly */
    double worst = 0, nn, nt;
    for (i = 0; i < n; i += 37) {
      tk_pair(net, L, x + i * d, x + i * d, d, &nn, &nt);
      if (fabs(Ts[i * n + i] - nt) / nt > worst) worst = fabs(Ts[i * n + i] - nt) / nt;
      if (fabs(Ks[i * n + i] - nn) / nn > worst) worst = fabs(Ks[i * n + i] - nn) / nn;
    }
    T_CHECK(worst <= 20 * NTK__EPS, "diagonal with ρ = 1 exactly: rel. err %.3g", worst);
  }
  /* zero-norm input with no bias gives 0, not NaN */
  {
    ntk_real z[6] = {0, 0, 0, 1, 2, 3}, K4[4], T4[4];
    size_t L2 = ntk_mlp(net, 8, 2, 0, ntk_relu(), 1.0, 0.0, 1);
    T_STATUS(ntk_kernel(net, L2, z, 2, NULL, 0, 3, K4, T4), NTK_OK);
    T_CHECK(K4[0] == 0 && T4[0] == 0 && K4[1] == 0 && T4[1] == 0 && T4[3] > 0,
            "zero input: K = %g, Θ = %g, Θ(x,x') = %g (want 0, 0, 0)", (double)K4[0], (double)T4[0], (double)T4[1]);
  }
  free(x), free(Ks), free(Ts), free(Kg), free(Tg), free(Tonly);
}

static double tk_erf_f(double x, void *u) { (void)u; return erf(x); }
static double tk_erf_df(double x, void *u) { (void)u; return 2 / sqrt(3.14159265358979323846) * exp(-x * x); }
static double tk_gelu_f(double x, void *u) { (void)u; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double tk_gelu_df(double x, void *u) { (void)u; return 0.5 * (1 + erf(x / sqrt(2.0))) + x * exp(-x * x / 2) / sqrt(2 * 3.14159265358979323846); }
static double tk_sin_f(double x, void *u) { (void)u; return sin(x); }
static double tk_sin_df(double x, void *u) { (void)u; return cos(x); }

static double tk_kernel_diff(const ntk_layer *a, const ntk_layer *b, size_t L, double *worst_t) {
  ntk_real x[4 * 3], Ka[16], Ta[16], Kb[16], Tb[16];
  double wk = 0, wt = 0;
  size_t i;
  for (i = 0; i < 12; i++) x[i] = (ntk_real)(0.8 * t_normal()); /* |x|²/d ≈ 0.64 */
  ntk_kernel(a, L, x, 4, NULL, 0, 3, Ka, Ta);
  ntk_kernel(b, L, x, 4, NULL, 0, 3, Kb, Tb);
  for (i = 0; i < 16; i++) {
    double ek = fabs((double)Ka[i] - Kb[i]) / (fabs((double)Kb[i]) + 1e-3);
    double et = fabs((double)Ta[i] - Tb[i]) / (fabs((double)Tb[i]) + 1e-3);
    if (ek > wk) wk = ek;
    if (et > wt) wt = et;
  }
  *worst_t = wt;
  return wk;
}

static void test_kernel_quadrature(void) {
  ntk_layer a[3], b[3];
  double ek, et;
  int i;
  double (*fs[3])(double, void *) = {tk_erf_f, tk_gelu_f, tk_sin_f};
  double (*dfs[3])(double, void *) = {tk_erf_df, tk_gelu_df, tk_sin_df};
  ntk_layer cf[3];
  const char *nm[3] = {"erf", "gelu", "sin"};
  t_section("kernel: closed forms against Gauss–Hermite quadrature; quadrature degrees");
  t_rng = 0x5eed; /* fixed inputs: quadrature accuracy depends on the pre-activation variance,
                     and the same inputs on every platform whatever ran before */
  cf[0] = ntk_erf(), cf[1] = ntk_gelu(), cf[2] = ntk_sin();
  for (i = 0; i < 3; i++) {
    a[0] = b[0] = ntk_dense(0, 1.2, 0.1);
    a[1] = cf[i];
    b[1] = ntk_custom(fs[i], dfs[i], NULL);
    b[1].quad_degree = 120;
    a[2] = b[2] = ntk_dense(1, 1.0, 0.0);
    ek = tk_kernel_diff(a, b, 3, &et);
    T_CHECK(ek < 1e-9 + 50 * NTK__EPS && et < 1e-9 + 50 * NTK__EPS, "%s closed form vs degree-120 quadrature: nngp %.2g, ntk %.2g", nm[i], ek, et);
  }
  /* the default degree against degree 200 for the quadrature-only activations: the documented
     accuracy (≤ 1e-3 for tanh at these scales, far better for softplus), and convergence (degree
     128 closer to 200 than the default) */
  for (i = 0; i < 2; i++) {
    ntk_layer c[3];
    double ek2, et2;
    size_t keep = (size_t)t_rng;
    a[0] = b[0] = c[0] = ntk_dense(0, 1.0, 0.1);
    a[1] = i == 0 ? ntk_tanh() : ntk_softplus();
    b[1] = c[1] = a[1];
    b[1].quad_degree = 200, c[1].quad_degree = 128;
    a[2] = b[2] = c[2] = ntk_dense(1, 1.0, 0.0);
    ek = tk_kernel_diff(a, b, 3, &et);
    t_rng = keep; /* the same inputs again */
    ek2 = tk_kernel_diff(c, b, 3, &et2);
    printf("  %s vs degree 200: default degree %d: nngp %.2g, ntk %.2g; degree 128: nngp %.2g, ntk %.2g (relative)\n",
           i == 0 ? "tanh" : "softplus", NTK_QUAD_DEGREE, ek, et, ek2, et2);
    T_CHECK(ek < 1e-3 && et < 1e-3, "%s at the default degree within 1e-3 of degree 200", i == 0 ? "tanh" : "softplus");
    T_CHECK((et2 <= et && ek2 <= ek) || et < 1e-12, "%s converges: degree 128 at least as close as %d", i == 0 ? "tanh" : "softplus", NTK_QUAD_DEGREE);
  }
}

static void test_kernel_bad(void) {
  ntk_layer net[4];
  ntk_real x[4] = {1, 2, 3, 4}, K[4] = {7, 7, 7, 7};
  t_section("kernel: bad layers and arguments are named errors, outputs untouched");
  net[0] = ntk_dense(0, 0.0, 0), net[1] = ntk_relu(), net[2] = ntk_dense(1, 1, 0);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[0] = ntk_dense(0, NAN, 0);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[0] = ntk_dense(0, 1, -1);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[0] = ntk_dense(0, 1, 0), net[1] = ntk_relu(), net[2] = ntk_relu();
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[1].kind = (ntk_layer_kind)999, net[2] = ntk_dense(1, 1, 0);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[1] = ntk_custom(NULL, NULL, NULL);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_BAD_LAYER);
  net[0] = ntk_dense_standard(0, 1, 0), net[1] = ntk_relu(), net[2] = ntk_dense_standard(1, 1, 0);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, NULL, K), NTK_ERR_BAD_LAYER); /* standard needs widths */
  net[0] = ntk_dense(0, 1, 0), net[1] = ntk_relu(), net[2] = ntk_dense(1, 1, 0);
  T_STATUS(ntk_kernel(net, 0, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_kernel(NULL, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_kernel(net, 3, NULL, 2, NULL, 0, 2, K, NULL), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 0, K, NULL), NTK_ERR_INVALID_ARG);
  x[1] = (ntk_real)NAN;
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, K, NULL), NTK_ERR_NON_FINITE);
  T_CHECK(K[0] == 7 && K[3] == 7, "outputs untouched by failed calls");
  x[1] = 2;
  T_STATUS(ntk_kernel(net, 3, x, 2, NULL, 0, 2, NULL, NULL), NTK_OK);
  T_STATUS(ntk_kernel(net, 3, x, ((size_t)-1) / 2, NULL, 0, 4, K, NULL), NTK_ERR_OVERFLOW);
}

static void test_kernel_math(void) {
  double worst = 0, x;
  t_section("kernel: branch-free acos/asin against libm");
  for (x = -1; x <= 1; x += 1.0 / 4096) {
    double e = fabs((double)ntk__acos((ntk_real)x) - acos((double)(ntk_real)x));
    double e2 = fabs((double)ntk__asin((ntk_real)x) - asin((double)(ntk_real)x));
    if (e > worst) worst = e;
    if (e2 > worst) worst = e2;
  }
  T_CHECK(worst <= 8 * NTK__EPS, "acos/asin on [-1, 1]: max abs error %.3g (eps %.3g)", worst, (double)NTK__EPS);
  {
    double t = 1e-10, e = fabs((double)ntk__acos((ntk_real)(1 - t)) - acos(1 - t)) / acos(1 - t);
    T_CHECK(ntk__acos(1) == 0 && (sizeof(ntk_real) == 4 || e < 1e-6), "acos(1) = 0 exactly; acos(1−1e-10) relative error %.2g", e);
  }
#if defined(NTK__BUILD_X86) && !defined(NTK_REAL_FLOAT)
  if (ntk__simd_level() >= NTK_SIMD_AVX2) { /* the hand-vectorised ReLU-family dual, both input forms */
    enum { N = 4096 };
    static double q11[N], q22[N], c0[N], c[N], th[N], s2[N], r2[N];
    ntk_layer L = ntk_abrelu(-0.3, 1.7);
    double f = (L.a - L.b) * (L.a - L.b) / (2 * 3.14159265358979323846), h = (L.a * L.a + L.b * L.b) / 2;
    double errT[2] = {0, 0}, errD[2] = {0, 0};
    int path, i, exact = 1;
    for (i = 0; i < N; i++) {
      double u = 0.5 + (double)(i / 4 % 13), v = i % 97 == 0 ? 0 : 0.2 + (double)(i % 7) * 0.9;
      double rho = i < 64 ? 1 - ldexp(1, -i) : (double)(i % 2001) / 1000 - 1; /* ρ near 1, then all of [−1, 1] */
      q11[i] = u, q22[i] = v, c0[i] = rho * sqrt(u * v);
      if (i % 211 == 0) q22[i] = u, c0[i] = u; /* a diagonal entry: ρ = 1 exactly */
      s2[i] = sqrt(q22[i]), r2[i] = s2[i] > 0 ? 1 / s2[i] : 0;
    }
    for (path = 0; path < 2; path++) {
      for (i = 0; i < N; i += 4) { /* aux holds one row point: q11 is constant on each run of 4 */
        ntk__dual_aux ax;
        int j;
        for (j = 0; j < 4; j++) c[i + j] = c0[i + j], th[i + j] = 1;
        memset(&ax, 0, sizeof ax);
        ax.s1 = sqrt(q11[i]), ax.r1 = 1 / ax.s1, ax.s2 = s2 + i, ax.r2 = r2 + i;
        if (path) ntk__relu_dual(NTK_SIMD_AVX2, 4, q11 + i, q22 + i, c + i, th + i, f, h, &ax);
        else if (ntk__abrelu_avx2(4, q11 + i, q22 + i, c + i, th + i, f, h) != 4) exact = 0;
        for (j = i; j < i + 4; j++) {
          double T, Td;
          tk_dual(&L, q11[j], q22[j], c0[j], &T, &Td);
          double eT = fabs(c[j] - T) / (fabs(T) > 1e-300 ? fabs(T) : 1);
          if (eT > errT[path]) errT[path] = eT;
          if (fabs(th[j] - Td) / fabs(Td) > errD[path]) errD[path] = fabs(th[j] - Td) / fabs(Td);
          if (q22[j] == q11[j] && c0[j] == q11[j] && (th[j] != h || c[j] != h * c0[j])) exact = 0;
        }
      }
    }
    /* Ṫ's error is the ρ → 1 conditioning: a relative error ε in ρ moves θ by √(2ε) */
    T_CHECK(errT[0] < 1e-14 && errT[1] < 1e-14, "AVX2 ReLU-family T against libm: max relative error %.2g (sqrt/div path), %.2g (precomputed roots)", errT[0], errT[1]);
    T_CHECK(errD[0] < 1e-7 && errD[1] < 1e-7, "AVX2 ReLU-family Tdot against libm: max relative error %.2g, %.2g", errD[0], errD[1]);
    T_CHECK(exact, "AVX2 ReLU-family dual: q12 = q11 = q22 gives rho = 1 exactly (T = h·q, Tdot = h) on both paths");
  }
#endif
}
