/* Finite networks: Jacobians against central finite differences, the structured empirical NTK
   against J·Jᵀ, the empirical kernel converging to the analytic one, gradient descent against the
   Jacobian, the linearised model, the generator. */

static size_t tn_net(ntk_layer *net, ntk_layer act, size_t width, int standard, double b) {
  size_t L = ntk_mlp(net, 16, 2, width, act, 1.3, b, 3);
  size_t l;
  if (standard)
    for (l = 0; l < L; l++)
      if (net[l].kind == NTK_LAYER_DENSE) net[l].param = NTK_PARAM_STANDARD;
  return L;
}

static double tn_tanh(double x, void *u) { (void)u; return tanh(x); }
static double tn_dtanh(double x, void *u) { (void)u; return 1 - tanh(x) * tanh(x); }

static void test_net_jacobian(void) {
  ntk_layer acts[11], net[16];
  size_t a, d = 4, n = 3, i, p;
  int standard;
  t_section("net: Jacobian against central finite differences (every activation, both parameterisations)");
  acts[0] = ntk_relu(), acts[1] = ntk_leaky_relu(0.1), acts[2] = ntk_abs(), acts[3] = ntk_erf_scaled(1.5, 0.7, 0.2),
  acts[4] = ntk_gelu(), acts[5] = ntk_sin(), acts[6] = ntk_rbf(0.4), acts[7] = ntk_exp(0.5, 0.3),
  acts[8] = ntk_tanh(), acts[9] = ntk_softplus(), acts[10] = ntk_custom(tn_tanh, tn_dtanh, NULL);
  for (standard = 0; standard <= 1; standard++)
    for (a = 0; a < 11; a++) {
      ntk_net nt;
      size_t L = tn_net(net, acts[a], 5, standard, 0.3), k, P;
      double worst = 0, h = 1e-6;
      double *x = (double *)malloc(n * d * 8), *J, *fp, *fm;
      for (i = 0; i < n * d; i++) x[i] = t_normal();
      T_STATUS(ntk_net_init(&nt, net, L, d, 7 + a), NTK_OK);
      k = nt.outputs, P = nt.n_params;
      J = (double *)malloc(n * k * P * 8), fp = (double *)malloc(n * k * 8), fm = (double *)malloc(n * k * 8);
      T_STATUS(ntk_net_jacobian(&nt, x, n, J), NTK_OK);
      for (p = 0; p < P; p++) {
        double keep = nt.params[p];
        nt.params[p] = keep + h;
        ntk_net_apply(&nt, x, n, fp);
        nt.params[p] = keep - h;
        ntk_net_apply(&nt, x, n, fm);
        nt.params[p] = keep;
        for (i = 0; i < n * k; i++) {
          double fd = (fp[i] - fm[i]) / (2 * h), e = fabs(fd - J[i * P + p]) / (1e-6 + 1e-6 * fabs(fd));
          if (e > worst) worst = e;
        }
      }
      T_CHECK(worst <= 1, "%s activation kind %d: Jacobian vs central differences, worst err/tol %.3g (P = %zu)",
              standard ? "standard" : "ntk", (int)acts[a].kind, worst, P);
      ntk_net_free(&nt);
      free(x), free(J), free(fp), free(fm);
    }
}

static void test_net_structured(void) {
  ntk_layer net[16];
  size_t d = 6, n1 = 7, n2 = 5, i;
  int full, bias, sym, standard;
  t_section("net: structured empirical NTK against J·Jᵀ (traced, full, bias, x2 = NULL, both parameterisations)");
  for (standard = 0; standard <= 1; standard++)
    for (bias = 0; bias <= 1; bias++)
      for (full = 0; full <= 1; full++)
        for (sym = 0; sym <= 1; sym++) {
          ntk_net nt;
          ntk_entk_desc jd;
          size_t L = tn_net(net, ntk_erf(), 9, standard, bias ? 0.4 : 0.0), k, R1, R2;
          double *x1 = (double *)malloc(n1 * d * 8), *x2 = (double *)malloc(n2 * d * 8), *S, *R, e;
          for (i = 0; i < n1 * d; i++) x1[i] = t_normal();
          for (i = 0; i < n2 * d; i++) x2[i] = t_normal();
          ntk_net_init(&nt, net, L, d, 99);
          k = nt.outputs;
          R1 = full ? n1 * k : n1, R2 = full ? (sym ? n1 : n2) * k : (sym ? n1 : n2);
          S = (double *)malloc(R1 * R2 * 8), R = (double *)malloc(R1 * R2 * 8);
          memset(&jd, 0, sizeof jd);
          jd.method = NTK_ENTK_JACOBIAN;
          T_STATUS(ntk_net_empirical_kernel(&nt, x1, n1, sym ? NULL : x2, n2, full, NULL, S), NTK_OK);
          T_STATUS(ntk_net_empirical_kernel_ex(&nt, x1, n1, sym ? NULL : x2, n2, full, NULL, R, &jd), NTK_OK);
          e = t_err_ratio_d(S, R, R1 * R2, 1e-12 * tl_maxabs(R, R1 * R2), 1e-12);
          T_CHECK(e <= 1, "structured vs J·Jᵀ: %s bias=%d full=%d sym=%d: err/tol %.3g", standard ? "standard" : "ntk", bias, full, sym, e);
          ntk_net_free(&nt);
          free(x1), free(x2), free(S), free(R);
        }
  /* NNGP: traced = mean over outputs of f fᵀ; conditional form against its formula */
  {
    ntk_net nt;
    ntk_entk_desc cd;
    size_t L = ntk_mlp(net, 16, 1, 50, ntk_relu(), 1.2, 0.3, 2), j;
    double x[3 * 2] = {0.1, -1, 2, 0.5, -0.3, 0.7}, f[6], K[9], Kf[36], C[9], h[3 * 50];
    int ok = 1;
    ntk_net_init(&nt, net, L, 2, 5);
    ntk_net_apply(&nt, x, 3, f);
    ntk_net_empirical_kernel(&nt, x, 3, NULL, 0, 0, K, NULL);
    ntk_net_empirical_kernel(&nt, x, 3, NULL, 0, 1, Kf, NULL);
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) {
        if (fabs(K[i * 3 + j] - (f[i * 2] * f[j * 2] + f[i * 2 + 1] * f[j * 2 + 1]) / 2) > 1e-12) ok = 0;
        if (fabs(Kf[(i * 2 + 1) * 6 + j * 2] - f[i * 2 + 1] * f[j * 2]) > 1e-12) ok = 0;
      }
    T_CHECK(ok, "empirical NNGP = f(x)·f(x')ᵀ averaged over outputs (traced) / per output pair (full)");
    memset(&cd, 0, sizeof cd);
    cd.nngp_conditional = 1;
    ntk_net_empirical_kernel_ex(&nt, x, 3, NULL, 0, 0, C, NULL, &cd);
    { /* h = relu(σ_w/√2·W1 x + σ_b b1), by hand */
      size_t o;
      for (i = 0; i < 3; i++)
        for (o = 0; o < 50; o++) {
          double z = 1.2 / sqrt(2.0) * (nt.params[o * 2] * x[i * 2] + nt.params[o * 2 + 1] * x[i * 2 + 1]) + 0.3 * nt.params[100 + o];
          h[i * 50 + o] = z > 0 ? z : 0;
        }
      ok = 1;
      for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++) {
          double acc = 0;
          for (o = 0; o < 50; o++) acc += h[i * 50 + o] * h[j * 50 + o];
          if (fabs(C[i * 3 + j] - (1.44 / 50 * acc + 0.09)) > 1e-12 * (1 + fabs(C[i * 3 + j]))) ok = 0;
        }
      T_CHECK(ok, "conditional NNGP σ_w²/n·h·h′ + σ_b² against the hidden layer computed by hand");
    }
    ntk_net_free(&nt);
  }
}

static void test_net_convergence(void) {
  static const size_t widths[3] = {256, 1024, 4096};
  ntk_layer net[8];
  size_t d = 10, n = 16, i, w, s, seeds = 3;
  double *x = (double *)malloc(n * d * 8), *A = (double *)malloc(n * n * 8), *E = (double *)malloc(n * n * 8);
  double err[3], lx[3], ly[3], slope, mx = 0, my = 0, sxy = 0, sxx = 0;
  t_section("net: empirical NTK → analytic NTK as width grows (slope of log error vs log width)");
  for (i = 0; i < n * d; i++) x[i] = t_normal();
  for (w = 0; w < 3; w++) {
    size_t L = ntk_mlp(net, 8, 2, widths[w], ntk_relu(), 1.4, 0.1, 1);
    double acc = 0;
    if (w == 0) ntk_kernel(net, L, x, n, NULL, 0, d, NULL, A);
    for (s = 0; s < seeds; s++) {
      ntk_net nt;
      double num = 0, den = 0;
      ntk_net_init(&nt, net, L, d, 1000 + s);
      ntk_net_empirical_kernel(&nt, x, n, NULL, 0, 0, NULL, E);
      for (i = 0; i < n * n; i++) num += (E[i] - A[i]) * (E[i] - A[i]), den += A[i] * A[i];
      acc += sqrt(num / den);
      ntk_net_free(&nt);
    }
    err[w] = acc / (double)seeds;
    lx[w] = log((double)widths[w]), ly[w] = log(err[w]);
    printf("  width %4zu: relative Frobenius error %.4f (mean of %zu seeds)\n", widths[w], err[w], seeds);
  }
  for (w = 0; w < 3; w++) mx += lx[w] / 3, my += ly[w] / 3;
  for (w = 0; w < 3; w++) sxy += (lx[w] - mx) * (ly[w] - my), sxx += (lx[w] - mx) * (lx[w] - mx);
  slope = sxy / sxx;
  T_CHECK(err[2] < err[1] && err[1] < err[0] && slope >= -0.75 && slope <= -0.3,
          "error falls with width, log-log slope %.3f in [-0.75, -0.3] (theory -1/2)", slope);
  /* Monte Carlo average of 8 nets of width 256 is closer than one */
  {
    size_t L = ntk_mlp(net, 8, 2, 256, ntk_relu(), 1.4, 0.1, 1);
    double num = 0, den = 0;
    T_STATUS(ntk_monte_carlo_kernel(net, L, x, n, NULL, 0, d, 1000, 8, NULL, E), NTK_OK);
    for (i = 0; i < n * n; i++) num += (E[i] - A[i]) * (E[i] - A[i]), den += A[i] * A[i];
    T_CHECK(sqrt(num / den) < err[0], "Monte Carlo kernel of 8 nets: error %.4f < one net's %.4f", sqrt(num / den), err[0]);
  }
  free(x), free(A), free(E);
}

static void test_net_training(void) {
  ntk_layer net[8];
  ntk_net nt;
  size_t L = ntk_mlp(net, 8, 2, 20, ntk_gelu(), 1.2, 0.2, 2), d = 3, n = 6, i, p, k, P;
  double x[18], y[12], *J, f[12], r[12], *theta, lr = 0.5, l0, l1;
  t_section("net: one GD step = θ − lr·Jᵀ(f − y)/N; training lowers the loss; the linearised model");
  for (i = 0; i < 18; i++) x[i] = t_normal();
  for (i = 0; i < 12; i++) y[i] = t_normal();
  ntk_net_init(&nt, net, L, d, 3);
  k = nt.outputs, P = nt.n_params;
  J = (double *)malloc(n * k * P * 8), theta = (double *)malloc(P * 8);
  ntk_net_jacobian(&nt, x, n, J);
  ntk_net_apply(&nt, x, n, f);
  for (i = 0; i < n * k; i++) r[i] = (f[i] - y[i]) / (double)(n * k);
  for (p = 0; p < P; p++) {
    double g = 0;
    for (i = 0; i < n * k; i++) g += J[i * P + p] * r[i];
    theta[p] = nt.params[p] - lr * g;
  }
  T_STATUS(ntk_net_train(&nt, x, y, n, lr, 1), NTK_OK);
  {
    double e = 0;
    for (p = 0; p < P; p++) if (fabs(theta[p] - nt.params[p]) > e) e = fabs(theta[p] - nt.params[p]);
    T_CHECK(e < 1e-13, "one step of ntk_net_train equals θ − lr·Jᵀ(f − y)/N: max diff %.3g", e);
  }
  ntk_net_loss(&nt, x, y, n, &l0);
  T_STATUS(ntk_net_train(&nt, x, y, n, lr, 200), NTK_OK);
  ntk_net_loss(&nt, x, y, n, &l1);
  T_CHECK(l1 < 0.5 * l0, "200 GD steps: loss %.4g → %.4g", l0, l1);
  { /* divergence is an error, not NaN parameters reported as success — also when it happens
       in the last step (whose loss is not computed without a callback) */
    ntk_net d1, d2;
    T_STATUS(ntk_net_init(&d1, nt.layers, nt.n_layers, nt.dim, 5), NTK_OK);
    T_STATUS(ntk_net_init(&d2, nt.layers, nt.n_layers, nt.dim, 5), NTK_OK);
    T_STATUS(ntk_net_train(&d1, x, y, n, 1e300, 40), NTK_ERR_NON_FINITE);
    { /* finite loss (targets 1e150) at step 0, infinite parameters after it */
      double yb[12];
      for (i = 0; i < n * k; i++) yb[i] = 1e150;
      T_STATUS(ntk_net_train(&d2, x, yb, n, 1e200, 1), NTK_ERR_NON_FINITE);
    }
    ntk_net_free(&d1), ntk_net_free(&d2);
  }
  /* linearised model: exact at θ0, J·(θ−θ0) on top, second-order close nearby */
  {
    double fl[12], f0[12], fn[12], lin[12], e1 = 0, e2 = 0, e3 = 0;
    ntk_net_jacobian(&nt, x, n, J);
    ntk_net_apply(&nt, x, n, f0);
    for (p = 0; p < P; p++) theta[p] = nt.params[p] + 1e-3 * t_normal();
    ntk_net_apply_linearized(&nt, nt.params, x, n, fl);
    for (i = 0; i < n * k; i++) e1 = fabs(fl[i] - f0[i]) > e1 ? fabs(fl[i] - f0[i]) : e1;
    ntk_net_apply_linearized(&nt, theta, x, n, fl);
    for (i = 0; i < n * k; i++) {
      lin[i] = f0[i];
      for (p = 0; p < P; p++) lin[i] += J[i * P + p] * (theta[p] - nt.params[p]);
      e2 = fabs(fl[i] - lin[i]) > e2 ? fabs(fl[i] - lin[i]) : e2;
    }
    {
      ntk_net moved = nt;
      double *keep = nt.params;
      moved.params = theta;
      ntk_net_apply(&moved, x, n, fn);
      (void)keep;
      for (i = 0; i < n * k; i++) e3 = fabs(fl[i] - fn[i]) > e3 ? fabs(fl[i] - fn[i]) : e3;
    }
    T_CHECK(e1 == 0 && e2 < 1e-13 && e3 < 1e-4, "linearised: f_lin(θ0) = f (%.2g), = f0 + J·Δθ (%.2g), ≈ f(θ) to O(Δθ²) (%.2g)", e1, e2, e3);
  }
  ntk_net_free(&nt);
  free(J), free(theta);
  { /* a callback sees every step and can stop training */
    (void)0;
  }
}

static int tn_cb_count;
static int tn_cb(size_t step, double loss, void *u) {
  (void)loss, (void)u;
  tn_cb_count++;
  return step >= 4;
}

static void test_net_misc(void) {
  ntk_layer net[8];
  ntk_net a, b;
  size_t L = ntk_mlp(net, 8, 1, 300, ntk_relu(), 1, 0.5, 2), i, N;
  double mean = 0, var = 0, k4 = 0, worst = 0, s;
  t_section("net: generator, determinism, callbacks, bad input");
  T_STATUS(ntk_net_init(&a, net, L, 200, 42), NTK_OK);
  T_STATUS(ntk_net_init(&b, net, L, 200, 42), NTK_OK);
  T_CHECK(a.n_params == 300 * 200 + 300 + 2 * 300 + 2 && memcmp(a.params, b.params, a.n_params * 8) == 0,
          "same seed, same bits; parameter count %zu", a.n_params);
  N = a.n_params;
  for (i = 0; i < N; i++) mean += a.params[i];
  mean /= (double)N;
  for (i = 0; i < N; i++) var += (a.params[i] - mean) * (a.params[i] - mean), k4 += pow(a.params[i] - mean, 4);
  var /= (double)N, k4 /= (double)N * var * var;
  T_CHECK(fabs(mean) < 5 / sqrt((double)N) && fabs(var - 1) < 5 * sqrt(2.0 / (double)N) && fabs(k4 - 3) < 0.1,
          "N(0,1) draws: mean %.4f, variance %.4f, kurtosis %.3f over %zu", mean, var, k4, N);
  for (s = 1e-6; s < 1; s *= 1.37) {
    double q = ldexp(floor(ldexp(s, 50)), -50), e = fabs(ntk__log_det(q) - log(q));
    if (e > worst) worst = e;
  }
  T_CHECK(worst < 2e-15 * 14, "contraction-free ln against libm log: max abs error %.3g", worst);
  ntk_net_free(&b);
  {
    double x[4] = {1, 2, 3, 4}, y[4] = {0, 1, 1, 0};
    ntk_train_desc td;
    ntk_net c;
    size_t Lc = ntk_mlp(net, 8, 1, 10, ntk_relu(), 1, 0.5, 2);
    ntk_net_init(&c, net, Lc, 2, 1);
    memset(&td, 0, sizeof td);
    td.callback = tn_cb;
    tn_cb_count = 0;
    T_STATUS(ntk_net_train_ex(&c, x, y, 2, 0.1, 100, &td), NTK_ERR_CANCELLED);
    T_CHECK(tn_cb_count == 5, "callback called %d times before stopping at step 4", tn_cb_count);
    x[2] = NAN;
    T_STATUS(ntk_net_apply(&c, x, 2, y), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_net_apply(&c, NULL, 2, y), NTK_ERR_INVALID_ARG);
    ntk_net_free(&c);
    net[Lc - 1] = ntk_relu();
    T_STATUS(ntk_net_init(&c, net, Lc, 2, 1), NTK_ERR_BAD_LAYER); /* must end in Dense */
    net[0] = ntk_dense(0, 1, 0);
    net[Lc - 1] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_net_init(&c, net, Lc, 2, 1), NTK_ERR_BAD_LAYER); /* width 0 */
    T_STATUS(ntk_net_init(&c, net, 0, 2, 1), NTK_ERR_INVALID_ARG);
  }
  ntk_net_free(&a);
}
