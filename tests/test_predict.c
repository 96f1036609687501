/* Predictors against independent evaluations written here: RK4 integration of the flow,
   explicit gradient-descent steps, Gauss–Jordan inverses and a Taylor matrix exponential. */

/* Gauss–Jordan inverse with partial pivoting (n ≤ ~100) */
static void tp_inverse(const double *A, double *X, size_t n) {
  double *M = (double *)malloc(n * 2 * n * 8);
  size_t i, j, c;
  for (i = 0; i < n; i++)
    for (j = 0; j < 2 * n; j++) M[i * 2 * n + j] = j < n ? A[i * n + j] : (j - n == i);
  for (c = 0; c < n; c++) {
    size_t piv = c;
    for (i = c + 1; i < n; i++) if (fabs(M[i * 2 * n + c]) > fabs(M[piv * 2 * n + c])) piv = i;
    for (j = 0; j < 2 * n; j++) { double t = M[c * 2 * n + j]; M[c * 2 * n + j] = M[piv * 2 * n + j]; M[piv * 2 * n + j] = t; }
    for (i = 0; i < n; i++) {
      double f = M[i * 2 * n + c] / M[c * 2 * n + c];
      if (i == c) continue;
      for (j = 0; j < 2 * n; j++) M[i * 2 * n + j] -= f * M[c * 2 * n + j];
    }
  }
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) X[i * n + j] = M[i * 2 * n + n + j] / M[i * 2 * n + i];
  free(M);
}

/* e^{−sA}: scaling and squaring of a Taylor series */
static void tp_expm(const double *A, double s, double *E, size_t n) {
  double *T = (double *)malloc(n * n * 8), *P = (double *)malloc(n * n * 8), *Q = (double *)malloc(n * n * 8), nrm = 0;
  size_t i, j, q;
  int sq = 0;
  for (i = 0; i < n * n; i++) nrm = fabs(A[i]) * s > nrm ? fabs(A[i]) * s : nrm;
  while (nrm * (double)n > 0.5) nrm /= 2, sq++;
  for (i = 0; i < n * n; i++) T[i] = -s * A[i] / pow(2.0, sq), E[i] = (i % (n + 1) == 0), P[i] = E[i];
  for (q = 1; q < 30; q++) {
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, n, n, 1.0 / (double)q, P, n, T, n, 0.0, Q, n);
    memcpy(P, Q, n * n * 8);
    for (i = 0; i < n * n; i++) E[i] += P[i];
  }
  (void)j;
  while (sq--) {
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, n, n, 1.0, E, n, E, n, 0.0, P, n);
    memcpy(E, P, n * n * 8);
  }
  free(T), free(P), free(Q);
}

/* a small NTK problem: train kernel (n, n), test-train (m, n), test-test (m, m), NNGP likewise */
typedef struct {
  size_t n, m, k;
  double *x, *xt, *Kn, *Ktn, *Kttn, *Th, *Tht, *y;
} tp_problem;

static void tp_make(tp_problem *P, size_t n, size_t m, size_t k) {
  ntk_layer net[8];
  size_t L = ntk_mlp(net, 8, 2, 0, ntk_relu(), 1.3, 0.2, 1), d = 3, i, nm = n > m ? n : m;
  double *tmp = (double *)malloc(nm * nm * 8);
  P->n = n, P->m = m, P->k = k;
  P->x = (double *)malloc(n * d * 8), P->xt = (double *)malloc(m * d * 8);
  P->Kn = (double *)malloc(n * n * 8), P->Th = (double *)malloc(n * n * 8);
  P->Ktn = (double *)malloc(m * n * 8), P->Tht = (double *)malloc(m * n * 8), P->Kttn = (double *)malloc(m * m * 8);
  P->y = (double *)malloc(n * k * 8);
  for (i = 0; i < n * d; i++) P->x[i] = t_normal();
  for (i = 0; i < m * d; i++) P->xt[i] = t_normal();
  for (i = 0; i < n * k; i++) P->y[i] = t_normal();
  ntk_kernel(net, L, P->x, n, NULL, 0, d, P->Kn, P->Th);
  ntk_kernel(net, L, P->xt, m, P->x, n, d, P->Ktn, P->Tht);
  ntk_kernel(net, L, P->xt, m, NULL, 0, d, P->Kttn, tmp);
  free(tmp);
}
static void tp_free(tp_problem *P) {
  free(P->x), free(P->xt), free(P->Kn), free(P->Th), free(P->Ktn), free(P->Tht), free(P->Kttn), free(P->y);
}

static double tp_maxdiff(const double *a, const double *b, size_t n) {
  double m = 0;
  size_t i;
  for (i = 0; i < n; i++) if (!(fabs(a[i] - b[i]) <= m)) m = fabs(a[i] - b[i]);
  return m;
}

/* records the predictor's progress reports; cancels at the report numbered `cancel_at` */
typedef struct { char log[256]; int calls, cancel_at; } tp_progress;
static int tp_progress_fn(const char *stage, double done, void *user) {
  tp_progress *pg = (tp_progress *)user;
  size_t len = strlen(pg->log);
  snprintf(pg->log + len, sizeof pg->log - len, "%s%s %.0f", len ? ", " : "", stage, done);
  return ++pg->calls == pg->cancel_at;
}
static void test_predict_progress(void) {
  tp_problem P;
  ntk_predictor pr;
  ntk_predictor_desc pd;
  tp_progress pg;
  size_t n = 12, m = 5, k = 3;
  int at;
  t_section("predict: progress of the set-up, once per stage from 0 to 1, and cancel");
  tp_make(&P, n, m, k);
  memset(&pg, 0, sizeof pg);
  pd.progress = tp_progress_fn, pd.progress_user = &pg;
  T_STATUS(ntk_predictor_init_ex(&pr, P.Th, n, P.y, k, NULL, 1.0, 0.0, 0, &pd), NTK_OK);
  T_CHECK(strcmp(pg.log, "eigendecomposition 0, eigendecomposition 1, cholesky 0, cholesky 1") == 0,
          "progress reports: %s", pg.log);
  ntk_predictor_free(&pr);
  for (at = 1; at <= 4; at++) {
    memset(&pg, 0, sizeof pg);
    pg.cancel_at = at;
    T_STATUS(ntk_predictor_init_ex(&pr, P.Th, n, P.y, k, NULL, 1.0, 0.0, 0, &pd), NTK_ERR_CANCELLED);
    T_CHECK(pr.evec == NULL && pg.calls == at, "cancelled at report %d: predictor empty, no report after (%d)", at, pg.calls);
  }
  tp_free(&P);
}

static void test_predict_flow(void) {
  tp_problem P;
  ntk_predictor pr;
  size_t n = 12, m = 5, k = 3, i, s;
  double lr = 0.7, N, *f0 = (double *)malloc(n * k * 8), *g0 = (double *)malloc(m * k * 8);
  double *ft = (double *)malloc(n * k * 8), *gt = (double *)malloc(m * k * 8);
  double *f = (double *)malloc(n * k * 8), *g = (double *)malloc(m * k * 8), *r = (double *)malloc(n * k * 8);
  double *k1 = (double *)malloc(n * k * 8 * 4), *fk = (double *)malloc(n * k * 8), *gk1 = (double *)malloc(m * k * 8 * 4);
  t_section("predict: gradient flow against RK4 and explicit steps; t = 0; t = ∞");
  tp_make(&P, n, m, k);
  N = (double)(n * k);
  for (i = 0; i < n * k; i++) f0[i] = 0.3 * t_normal();
  for (i = 0; i < m * k; i++) g0[i] = 0.3 * t_normal();
  T_STATUS(ntk_predictor_init(&pr, P.Th, n, P.y, k, f0, lr, 0.0, 0), NTK_OK);
  /* t = 0 */
  ntk_predict_train(&pr, 0, 0, ft);
  ntk_predict_test(&pr, 0, 0, P.Tht, m, g0, gt);
  T_CHECK(tp_maxdiff(ft, f0, n * k) < 1e-12 && tp_maxdiff(gt, g0, m * k) < 1e-12, "t = 0 gives f0 and g0");
  /* RK4 on df/dt = −(η/N)Θ(f − y), dg/dt = −(η/N)Θ_td(f − y), to t = 40 steps */
  {
    double T = 40, h = 0.01, a = lr / N;
    size_t nsteps = (size_t)(T / h + 0.5), st;
    memcpy(f, f0, n * k * 8), memcpy(g, g0, m * k * 8);
    for (st = 0; st < nsteps; st++) {
      int q;
      for (q = 0; q < 4; q++) {
        double c = q == 0 ? 0 : q == 3 ? 1 : 0.5;
        for (i = 0; i < n * k; i++) fk[i] = f[i] + (q ? c * h * k1[(q - 1) * n * k + i] : 0) - P.y[i];
        ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, -a, P.Th, n, fk, k, 0.0, k1 + q * n * k, k);
        ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, -a, P.Tht, n, fk, k, 0.0, gk1 + q * m * k, k);
      }
      for (i = 0; i < n * k; i++) f[i] += h / 6 * (k1[i] + 2 * k1[n * k + i] + 2 * k1[2 * n * k + i] + k1[3 * n * k + i]);
      for (i = 0; i < m * k; i++) g[i] += h / 6 * (gk1[i] + 2 * gk1[m * k + i] + 2 * gk1[2 * m * k + i] + gk1[3 * m * k + i]);
    }
    ntk_predict_train(&pr, T, 0, ft);
    ntk_predict_test(&pr, T, 0, P.Tht, m, g0, gt);
    T_CHECK(tp_maxdiff(ft, f, n * k) < 1e-9 && tp_maxdiff(gt, g, m * k) < 1e-9,
            "flow at t = 40 vs RK4: train %.3g, test %.3g", tp_maxdiff(ft, f, n * k), tp_maxdiff(gt, g, m * k));
  }
  /* discrete: 25 explicit steps */
  {
    double a = lr / N;
    memcpy(f, f0, n * k * 8), memcpy(g, g0, m * k * 8);
    for (s = 0; s < 25; s++) {
      for (i = 0; i < n * k; i++) r[i] = f[i] - P.y[i];
      ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, -a, P.Th, n, r, k, 1.0, f, k);
      ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, -a, P.Tht, n, r, k, 1.0, g, k);
    }
    ntk_predict_train(&pr, 25, 1, ft);
    ntk_predict_test(&pr, 25, 1, P.Tht, m, g0, gt);
    T_CHECK(tp_maxdiff(ft, f, n * k) < 1e-11 && tp_maxdiff(gt, g, m * k) < 1e-11,
            "discrete 25 steps vs explicit GD: train %.3g, test %.3g", tp_maxdiff(ft, f, n * k), tp_maxdiff(gt, g, m * k));
  }
  /* t = ∞: train = y exactly; test = g0 + Θ_tdΘ⁻¹(y − f0) (Gauss–Jordan) and = the eigen path */
  {
    double *Ti = (double *)malloc(n * n * 8), *u = (double *)malloc(n * k * 8), *ref = (double *)malloc(m * k * 8);
    tp_inverse(P.Th, Ti, n);
    for (i = 0; i < n * k; i++) r[i] = P.y[i] - f0[i];
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, 1.0, Ti, n, r, k, 0.0, u, k);
    memcpy(ref, g0, m * k * 8);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1.0, P.Tht, n, u, k, 1.0, ref, k);
    T_STATUS(ntk_predict_train(&pr, INFINITY, 0, ft), NTK_OK);
    T_STATUS(ntk_predict_test(&pr, INFINITY, 0, P.Tht, m, g0, gt), NTK_OK);
    T_CHECK(memcmp(ft, P.y, n * k * 8) == 0, "t = ∞: train outputs are y exactly");
    T_CHECK(tp_maxdiff(gt, ref, m * k) < 1e-8 * (1 + tl_maxabs(ref, m * k)), "t = ∞ (Cholesky) vs Gauss–Jordan: %.3g", tp_maxdiff(gt, ref, m * k));
    ntk_predict_test(&pr, 1e12, 0, P.Tht, m, g0, f); /* eigen path at huge t */
    T_CHECK(tp_maxdiff(f, gt, m * k) < 1e-7 * (1 + tl_maxabs(ref, m * k)), "t = 1e12 through the eigenbasis equals the Cholesky t = ∞: %.3g", tp_maxdiff(f, gt, m * k));
    free(Ti), free(u), free(ref);
  }
  ntk_predictor_free(&pr);
  /* relative vs absolute diag_reg */
  {
    ntk_predictor a, b;
    double tr = 0;
    for (i = 0; i < n; i++) tr += P.Th[i * n + i];
    ntk_predictor_init(&a, P.Th, n, P.y, k, NULL, lr, 0.1, 0);
    ntk_predictor_init(&b, P.Th, n, P.y, k, NULL, lr, 0.1 * tr / (double)n, 1);
    ntk_predict_test(&a, 7, 0, P.Tht, m, NULL, gt);
    ntk_predict_test(&b, 7, 0, P.Tht, m, NULL, g);
    T_CHECK(tp_maxdiff(gt, g, m * k) < 1e-12 && fabs(a.reg - 0.1 * tr / (double)n) < 1e-12, "relative diag_reg r equals absolute r·tr/n (%.3g)", tp_maxdiff(gt, g, m * k));
    ntk_predictor_free(&a), ntk_predictor_free(&b);
  }
  /* max learning rate: the discrete flow is stable just below it and diverges just above */
  {
    double lrmax, w[12], *A = (double *)malloc(n * n * 8);
    T_STATUS(ntk_max_learning_rate(P.Th, n, k, &lrmax), NTK_OK);
    memcpy(A, P.Th, n * n * 8);
    ntk_dsyev(n, A, n, w);
    T_CHECK(fabs(lrmax - 2 * N / w[n - 1]) < 1e-6 * lrmax, "max learning rate %.6g = 2N/λmax", lrmax);
    free(A);
  }
  /* a singular train kernel (duplicate point) at t = ∞ is an error, finite t still works */
  {
    double *K = (double *)malloc(n * n * 8);
    size_t j;
    memcpy(K, P.Th, n * n * 8);
    for (j = 0; j < n; j++) K[1 * n + j] = K[0 * n + j], K[j * n + 1] = K[j * n + 0];
    K[1 * n + 1] = K[0];
    T_STATUS(ntk_predictor_init(&pr, K, n, P.y, k, NULL, lr, 0.0, 0), NTK_OK);
    for (i = 0; i < m * k; i++) gt[i] = 12345;
    T_STATUS(ntk_predict_test(&pr, INFINITY, 0, P.Tht, m, NULL, gt), NTK_ERR_NOT_POSITIVE_DEFINITE);
    T_CHECK(gt[0] == 12345, "failed t = ∞ query leaves the output untouched");
    T_STATUS(ntk_predict_test(&pr, 10, 0, P.Tht, m, NULL, gt), NTK_OK);
    T_CHECK(tl_maxabs(gt, m * k) < 1e10, "finite t on a singular kernel is finite");
    ntk_predictor_free(&pr);
    T_STATUS(ntk_gp_inference(K, n, P.y, k, P.Tht, m, NULL, 0.0, 0, gt, NULL), NTK_ERR_NOT_POSITIVE_DEFINITE);
    T_STATUS(ntk_gp_inference(K, n, P.y, k, P.Tht, m, NULL, 1e-6, 0, gt, NULL), NTK_OK);
    free(K);
  }
  tp_free(&P);
  free(f0), free(g0), free(ft), free(gt), free(f), free(g), free(r), free(k1), free(fk), free(gk1);
}

static int tp_psd_sym(const double *C, size_t m, double tol) {
  double *A = (double *)malloc(m * m * 8), *w = (double *)malloc(m * 8);
  size_t i, j;
  int ok = 1;
  for (i = 0; i < m; i++) for (j = 0; j < m; j++) if (C[i * m + j] != C[j * m + i]) ok = 0;
  memcpy(A, C, m * m * 8);
  ntk_dsyev(m, A, m, w);
  if (w[0] < -tol) ok = 0;
  free(A), free(w);
  return ok;
}

static void test_predict_gp(void) {
  tp_problem P;
  size_t n = 10, m = 6, k = 2, i;
  double *Ki = (double *)malloc(n * n * 8), *Ti = (double *)malloc(n * n * 8), *T1 = (double *)malloc(n * m * 8);
  double *mean = (double *)malloc(m * k * 8), *cov = (double *)malloc(m * m * 8), *rm = (double *)malloc(m * k * 8), *rc = (double *)malloc(m * m * 8);
  double *u = (double *)malloc(n * k * 8), *E = (double *)malloc(n * n * 8), *At = (double *)malloc(n * n * 8), *M = (double *)malloc(n * m * 8), *KM = (double *)malloc(n * m * 8);
  ntk_predictor pr;
  t_section("predict: GP posterior and infinite ensemble against explicit matrix formulas");
  tp_make(&P, n, m, k);
  tp_inverse(P.Kn, Ki, n);
  tp_inverse(P.Th, Ti, n);
  /* nngp posterior: μ = K_td K⁻¹ y, Σ = K_tt − K_td K⁻¹ K_dt */
  T_STATUS(ntk_gp_inference(P.Kn, n, P.y, k, P.Ktn, m, P.Kttn, 0.0, 0, mean, cov), NTK_OK);
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, 1.0, Ki, n, P.y, k, 0.0, u, k);
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1.0, P.Ktn, n, u, k, 0.0, rm, k);
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, m, n, 1.0, Ki, n, P.Ktn, n, 0.0, T1, m);
  memcpy(rc, P.Kttn, m * m * 8);
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, m, n, -1.0, P.Ktn, n, T1, m, 1.0, rc, m);
  T_CHECK(tp_maxdiff(mean, rm, m * k) < 1e-8 && tp_maxdiff(cov, rc, m * m) < 1e-8,
          "gp_inference nngp: mean %.3g, cov %.3g", tp_maxdiff(mean, rm, m * k), tp_maxdiff(cov, rc, m * m));
  T_CHECK(tp_psd_sym(cov, m, 1e-9), "nngp posterior covariance symmetric PSD");
  /* ensemble 'ntk' at t = 30: A_t = Θ⁻¹(I − e^{−ηtΘ/N}) explicitly */
  {
    double lr = 1.0, t = 30, N = (double)(n * k), *X = (double *)malloc(m * m * 8);
    T_STATUS(ntk_predictor_init(&pr, P.Th, n, P.y, k, NULL, lr, 0.0, 0), NTK_OK);
    T_STATUS(ntk_ensemble_ntk(&pr, t, P.Tht, m, P.Kn, P.Ktn, P.Kttn, mean, cov), NTK_OK);
    tp_expm(P.Th, lr * t / N, E, n);
    for (i = 0; i < n * n; i++) E[i] = (i % (n + 1) == 0) - E[i];
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, n, n, 1.0, Ti, n, E, n, 0.0, At, n);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, 1.0, At, n, P.y, k, 0.0, u, k);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1.0, P.Tht, n, u, k, 0.0, rm, k);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, m, n, 1.0, At, n, P.Tht, n, 0.0, M, m); /* A_tΘ_dt */
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, m, n, 1.0, P.Kn, n, M, m, 0.0, KM, m);
    memcpy(rc, P.Kttn, m * m * 8);
    ntk_dgemm_ref(NTK_TRANS, NTK_NO_TRANS, m, m, n, 1.0, M, m, KM, m, 1.0, rc, m);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, m, n, 1.0, P.Ktn, n, M, m, 0.0, X, m);
    for (i = 0; i < m * m; i++) rc[i] -= X[i] + X[(i % m) * m + i / m];
    T_CHECK(tp_maxdiff(mean, rm, m * k) < 1e-8 && tp_maxdiff(cov, rc, m * m) < 1e-8,
            "ensemble ntk t = 30: mean %.3g, cov %.3g", tp_maxdiff(mean, rm, m * k), tp_maxdiff(cov, rc, m * m));
    T_CHECK(tp_psd_sym(cov, m, 1e-9), "ensemble ntk covariance symmetric PSD");
    /* the mean equals the gradient-descent predictor with f0 = 0 */
    ntk_predict_test(&pr, t, 0, P.Tht, m, NULL, rm);
    T_CHECK(tp_maxdiff(mean, rm, m * k) < 1e-10, "ensemble mean = predictor with f0 = 0");
    ntk_predictor_free(&pr);
    /* ensemble 'nngp' at t: Σ = K_tt − K_td K⁻¹(I − e^{−2Kt/N}) K_dt */
    T_STATUS(ntk_predictor_init(&pr, P.Kn, n, P.y, k, NULL, lr, 0.0, 0), NTK_OK);
    T_STATUS(ntk_ensemble_nngp(&pr, t, P.Ktn, m, P.Kttn, mean, cov), NTK_OK);
    tp_expm(P.Kn, 2 * lr * t / N, E, n);
    for (i = 0; i < n * n; i++) E[i] = (i % (n + 1) == 0) - E[i];
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, n, n, 1.0, Ki, n, E, n, 0.0, At, n);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, m, n, 1.0, At, n, P.Ktn, n, 0.0, M, m);
    memcpy(rc, P.Kttn, m * m * 8);
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, m, m, n, -1.0, P.Ktn, n, M, m, 1.0, rc, m);
    T_CHECK(tp_maxdiff(cov, rc, m * m) < 1e-8, "ensemble nngp t = 30: cov %.3g", tp_maxdiff(cov, rc, m * m));
    T_CHECK(tp_psd_sym(cov, m, 1e-9), "ensemble nngp covariance symmetric PSD");
    ntk_predictor_free(&pr);
    free(X);
  }
  tp_free(&P);
  free(Ki), free(Ti), free(T1), free(mean), free(cov), free(rm), free(rc), free(u), free(E), free(At), free(M), free(KM);
}

/* The seed's claim: a wide network trained by gradient descent follows the kernel predictor
   built from its own empirical NTK at initialisation; a narrow one less so. */
static double tp_gap(size_t width, double *rel_change) {
  ntk_layer net[8];
  ntk_net nt;
  ntk_predictor pr;
  size_t L = ntk_mlp(net, 8, 1, width, ntk_relu(), 1.5, 0.2, 1), n = 8, m = 4, d = 3, i, steps = 300;
  double x[24], xt[12], y[8], f0[8], g0[4], Th[64], Tt[32], pred[4], got[4], num = 0, den = 0, lr;
  ntk_status st;
  for (i = 0; i < n * d; i++) x[i] = t_normal();
  for (i = 0; i < m * d; i++) xt[i] = t_normal();
  for (i = 0; i < n; i++) y[i] = sin(x[i * 3]) + 0.5 * x[i * 3 + 1];
  ntk_net_init(&nt, net, L, d, 17);
  ntk_net_apply(&nt, x, n, f0);
  ntk_net_apply(&nt, xt, m, g0);
  ntk_net_empirical_kernel(&nt, x, n, NULL, 0, 0, NULL, Th);
  ntk_net_empirical_kernel(&nt, xt, m, x, n, 0, NULL, Tt);
  ntk_max_learning_rate(Th, n, 1, &lr);
  lr *= 0.25; /* well inside the stable range, and far from the edge where the narrow net's
                 kernel moves the most */
  ntk_predictor_init(&pr, Th, n, y, 1, f0, lr, 0.0, 0);
  ntk_predict_test(&pr, (double)steps, 1, Tt, m, g0, pred); /* discrete steps: exact for the linearised net */
  st = ntk_net_train(&nt, x, y, n, lr, steps);
  T_STATUS(st, NTK_OK);
  ntk_net_apply(&nt, xt, m, got);
  for (i = 0; i < m; i++) num += (got[i] - pred[i]) * (got[i] - pred[i]), den += (pred[i] - g0[i]) * (pred[i] - g0[i]);
  *rel_change = sqrt(den);
  ntk_predictor_free(&pr);
  ntk_net_free(&nt);
  return sqrt(num / den);
}

static void test_predict_wide_network(void) {
  double chn, chw, narrow, wide;
  t_section("predict: a wide network trained by GD lands on its kernel's prediction, a narrow one less so");
  narrow = tp_gap(64, &chn);
  wide = tp_gap(4096, &chw);
  printf("  test outputs after 300 GD steps vs the empirical-NTK predictor: width 64 gap %.4f, width 4096 gap %.4f\n"
         "  (relative to how far the outputs moved: %.3f and %.3f)\n", narrow, wide, chn, chw);
  /* the linearisation error is O(1/√width): 1/√4096 ≈ 0.016 of the change; 0.05 leaves room for
     the constant; the narrow net must be clearly worse */
  T_CHECK(wide < 0.05 && wide < narrow, "wide gap %.4f < 0.05 and < narrow gap %.4f", wide, narrow);
}

/* Golden values from an independent pure-Python transcription of neural-tangents' formulas
   (../shared/research/neural_tangents.md §4.3; not produced by ntk.h), inputs X below. */
static void tg_cmp(const char *what, const double *got, const double *want, size_t n, double rtol) {
  double e = t_err_ratio_d(got, want, n, rtol * 1e-3, rtol);
  T_CHECK(e <= 1, "%s against the reference transcription: err/tol %.3g", what, e);
}

static void test_golden(void) {
  static const double X[6] = {1, 2, 3, -1, -1, 0.5};
  static const double A_nngp[9] = {7.153046875, 5.460410164, 1.790122978, 5.460410164, 14.2721875, 1.631688321, 1.790122978, 1.631688321, 1.813691406};
  static const double A_ntk[9] = {21.42789062, 8.44979716, 2.492373407, 8.44979716, 42.7853125, 1.494787379, 2.492373407, 1.494787379, 5.409824219};
  static const double B_nngp[9] = {0.9851684133, 0.1206526168, 0.003455447817, 0.1206526168, 1.110372721, -0.7973697707, 0.003455447817, -0.7973697707, 0.6433453852};
  static const double B_ntk[9] = {2.667746703, 0.2394638295, 0.00441089598, 0.2394638295, 3.529033097, -1.88957385, 0.00441089598, -1.88957385, 1.414016991};
  static const double C_nngp[9] = {1.188650069, 0.5800202214, 0.1183969259, 0.5800202214, 2.448855358, -0.1088776001, 0.1183969259, -0.1088776001, 0.2611648627};
  static const double C_ntk[9] = {2.435184984, 0.7210799211, 0.1209106835, 0.7210799211, 4.996910855, -0.2099583071, 0.1209106835, -0.2099583071, 0.5310938712};
  static const double D_nngp[9] = {0.4947163978, 0.0262494181, 0.05549156176, 0.0262494181, 0.4999079471, -0.1158342426, 0.05549156176, -0.1158342426, 0.3898208036};
  static const double D_ntk[9] = {1.644236593, 0.05614956094, 0.1121344092, 0.05614956094, 2.650303775, -0.2800619978, 0.1121344092, -0.2800619978, 0.8512688209};
  static const double E_k[9] = {1.01, 0.101876237, 0.01504267456, 0.101876237, 1.01, -0.8488945494, 0.01504267456, -0.8488945494, 1.01};
  static const double F_nngp[9] = {1.0, 0.03877420783, 0.2096113872, 0.03877420783, 1.0, 0.01043593646, 0.2096113872, 0.01043593646, 1.0};
  static const double F_ntk[9] = {2.5, 0.01938710392, 0.0, 0.01938710392, 5.0, -0.01826288881, 0.0, -0.01826288881, 0.625};
  static const double G_nngp[9] = {6.349375, 3.52989846, 1.02725638, 3.52989846, 12.6775, 0.01285832372, 1.02725638, 0.01285832372, 1.60328125};
  static const double G_ntk[9] = {19.02, 8.484995619, 3.372223399, 8.484995619, 35.895, 0.8422573569, 3.372223399, 0.8422573569, 6.36375};
  static const double H_nngp[9] = {6.60295, 2.773485014, 0.6655440832, 2.773485014, 13.1842, -1.755545673, 0.6655440832, -1.755545673, 1.6670125};
  static const double H_ntk[9] = {13.1959, 3.730026098, 0.6736521959, 3.730026098, 26.3584, -3.686630543, 0.6736521959, -3.686630543, 3.324025};
  ntk_layer n[8];
  double K[9], T[9];
  t_section("golden: kernels and predictions against an independent transcription of neural-tangents");
#define TG_RUN(name, L, wk, wt)                          \
  do {                                                   \
    T_STATUS(ntk_kernel(n, L, X, 3, NULL, 0, 2, K, T), NTK_OK); \
    tg_cmp(name " nngp", K, wk, 9, 2e-9);                \
    tg_cmp(name " ntk", T, wt, 9, 2e-9);                 \
  } while (0)
  n[0] = ntk_dense(0, 1.5, 0.1), n[1] = ntk_relu(), n[2] = ntk_dense(0, 1.5, 0.1), n[3] = ntk_relu(), n[4] = ntk_dense(1, 1.5, 0.1);
  TG_RUN("A: relu depth 2", 5, A_nngp, A_ntk);
  n[0] = ntk_dense(0, 1.2, 0.05), n[1] = ntk_erf(), n[2] = ntk_dense(1, 1.2, 0.05);
  TG_RUN("B: erf", 3, B_nngp, B_ntk);
  n[0] = ntk_dense(0, 1, 0.1), n[1] = ntk_gelu(), n[2] = ntk_dense(1, 1, 0.1);
  TG_RUN("C: gelu", 3, C_nngp, C_ntk);
  n[0] = ntk_dense(0, 0.9, 0.5), n[1] = ntk_sin(), n[2] = ntk_dense(1, 1, 0);
  TG_RUN("D: sin", 3, D_nngp, D_ntk);
  n[0] = ntk_dense(0, 1, 0.1), n[1] = ntk_sign(), n[2] = ntk_dense(1, 1, 0.1);
  TG_RUN("E: sign", 3, E_k, E_k);
  n[0] = ntk_dense(0, 1, 0), n[1] = ntk_rbf(0.5);
  {
    ntk_layer m[3];
    m[0] = n[0], m[1] = n[1];
    T_STATUS(ntk_kernel(m, 2, X, 3, NULL, 0, 2, K, T), NTK_OK);
    tg_cmp("F: rbf nngp", K, F_nngp, 9, 2e-9);
    tg_cmp("F: rbf ntk", T, F_ntk, 9, 2e-9);
  }
  n[0] = ntk_dense_standard(4, 1.5, 0.1), n[1] = ntk_relu(), n[2] = ntk_dense_standard(1, 1.5, 0.1);
  TG_RUN("G: relu standard parameterisation", 3, G_nngp, G_ntk);
  n[0] = ntk_dense(0, 1.5, 0.1), n[1] = ntk_leaky_relu(0.2), n[2] = ntk_dense(1, 1.5, 0.1);
  TG_RUN("H: leaky relu", 3, H_nngp, H_ntk);
#undef TG_RUN
  /* predictions on network A: train on points 0, 1 with y = [1, −1], test on point 2, lr = 1 */
  {
    double Kd[4] = {A_nngp[0], A_nngp[1], A_nngp[3], A_nngp[4]}, Td[4] = {A_ntk[0], A_ntk[1], A_ntk[3], A_ntk[4]};
    double Kt[2] = {A_nngp[6], A_nngp[7]}, Tt[2] = {A_ntk[6], A_ntk[7]}, Ktt = A_nngp[8], y[2] = {1, -1};
    double f[2], g, var;
    ntk_predictor p;
    static const double ft1[2] = {0.9998838133, -0.9999595921}, fk1[2] = {0.8536715222, -0.9206319982};
    ntk_predictor_init(&p, Td, 2, y, 1, NULL, 1.0, 0, 0);
    ntk_predict_train(&p, 1, 0, f), tg_cmp("gradient_descent_mse ntk t=1 f_train", f, ft1, 2, 1e-8);
    ntk_predict_test(&p, 1, 0, Tt, 1, NULL, &g), tg_cmp("gradient_descent_mse ntk t=1 f_test", &g, (const double[]){0.09820885098}, 1, 1e-8);
    ntk_predict_test(&p, INFINITY, 0, Tt, 1, NULL, &g), tg_cmp("gradient_descent_mse ntk t=inf f_test", &g, (const double[]){0.0982212463}, 1, 1e-8);
    ntk_ensemble_ntk(&p, 1, Tt, 1, Kd, Kt, &Ktt, NULL, &var), tg_cmp("ensemble ntk t=1 test variance", &var, (const double[]){1.479850103}, 1, 1e-8);
    ntk_ensemble_ntk(&p, INFINITY, Tt, 1, Kd, Kt, &Ktt, NULL, &var), tg_cmp("ensemble ntk t=inf test variance", &var, (const double[]){1.479838479}, 1, 1e-8);
    ntk_predictor_free(&p);
    ntk_predictor_init(&p, Kd, 2, y, 1, NULL, 1.0, 0, 0);
    ntk_predict_train(&p, 1, 0, f), tg_cmp("gradient_descent_mse nngp t=1 f_train", f, fk1, 2, 1e-8);
    ntk_predict_test(&p, 1, 0, Kt, 1, NULL, &g), tg_cmp("gradient_descent_mse nngp t=1 f_test", &g, (const double[]){0.172376834}, 1, 1e-8);
    ntk_predict_test(&p, INFINITY, 0, Kt, 1, NULL, &g), tg_cmp("gradient_descent_mse nngp t=inf f_test", &g, (const double[]){0.203982599}, 1, 1e-8);
    ntk_ensemble_nngp(&p, 1, Kt, 1, &Ktt, NULL, &var), tg_cmp("ensemble nngp t=1 test variance", &var, (const double[]){1.361017278}, 1, 1e-8);
    ntk_predictor_free(&p);
    ntk_gp_inference(Kd, 2, y, 1, Kt, 1, &Ktt, 0, 0, &g, &var), tg_cmp("gp_inference nngp (= ensemble t=inf) variance", &var, (const double[]){1.358735909}, 1, 1e-8);
    ntk_gp_inference(Td, 2, y, 1, Tt, 1, NULL, 0.1, 0, &g, NULL), tg_cmp("gp_inference ntk diag_reg 0.1 mean", &g, (const double[]){0.08121402331}, 1, 1e-8);
  }
}
