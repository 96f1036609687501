/* Issue 15, rows 8–14 (linear algebra and predictors): every result right at every scale of the
   kernel, or a named error. References are independent of the library: a cyclic Jacobi
   eigen-solver in long double written here (for pseudo-inverses and λ_max), residual and
   orthogonality identities evaluated in long double, explicit gradient-descent steps, and
   scaled copies of one matrix. */

/* cyclic Jacobi on the symmetric A (n, n), long double: eigenvalues d (unsorted), vectors in
   the columns of V. n ≤ ~20; converges quadratically, 30 sweeps are far more than enough. */
static void t15_jacobi(const double *A, size_t n, long double *d, long double *V) {
  long double *M = (long double *)malloc(n * n * sizeof(long double));
  size_t i, j, p, q;
  int sweep;
  for (i = 0; i < n * n; i++) M[i] = A[i], V[i] = (i % (n + 1)) == 0;
  for (sweep = 0; sweep < 30; sweep++) {
    long double off = 0;
    for (p = 0; p < n; p++)
      for (q = p + 1; q < n; q++) off += M[p * n + q] * M[p * n + q];
    if (off == 0) break;
    for (p = 0; p < n; p++)
      for (q = p + 1; q < n; q++) {
        long double apq = M[p * n + q], th, t, c, s;
        if (apq == 0) continue;
        th = (M[q * n + q] - M[p * n + p]) / (2 * apq);
        t = (th >= 0 ? 1 : -1) / (fabsl(th) + sqrtl(th * th + 1));
        c = 1 / sqrtl(t * t + 1), s = t * c;
        for (j = 0; j < n; j++) { /* columns p, q */
          long double mp = M[j * n + p], mq = M[j * n + q];
          M[j * n + p] = c * mp - s * mq, M[j * n + q] = s * mp + c * mq;
        }
        for (j = 0; j < n; j++) { /* rows p, q */
          long double mp = M[p * n + j], mq = M[q * n + j];
          M[p * n + j] = c * mp - s * mq, M[q * n + j] = s * mp + c * mq;
        }
        for (j = 0; j < n; j++) {
          long double vp = V[j * n + p], vq = V[j * n + q];
          V[j * n + p] = c * vp - s * vq, V[j * n + q] = s * vp + c * vq;
        }
      }
  }
  for (i = 0; i < n; i++) d[i] = M[i * n + i];
  free(M);
}

/* the spectral reference of the flow, long double: for a kernel K (n, n) and r = y − f0 (n, k),
   u (n, k) = V·diag(h(λ))·Vᵀ·r with h = g (which = 1: (1 − e^{−aλt})/λ, 1/λ at t = ∞) or
   e (which = 0); eigenvalues ≤ n·eps·λ_max are zero (h = 0 for g, 1 for e) — the header's rule */
static void t15_flow_ref(const double *K, size_t n, const double *r, size_t k, double a, double t, int which,
                         double eps, long double *u) {
  long double *d = (long double *)malloc(n * sizeof(long double)), *V = (long double *)malloc(n * n * sizeof(long double));
  long double lmax = 0, cut, c;
  size_t i, j, q;
  t15_jacobi(K, n, d, V);
  for (i = 0; i < n; i++) lmax = d[i] > lmax ? d[i] : lmax;
  cut = (long double)n * eps * lmax;
  for (i = 0; i < n * k; i++) u[i] = 0;
  for (q = 0; q < n; q++) {
    long double lam = d[q], h;
    if (!(lam > cut)) h = which ? 0 : 1;
    else if (t == INFINITY) h = which ? 1 / lam : 0;
    else h = which ? -expm1l(-a * t * lam) / lam : expl(-a * t * lam);
    for (j = 0; j < k; j++) {
      for (c = 0, i = 0; i < n; i++) c += V[i * n + q] * r[i * k + j];
      for (i = 0; i < n; i++) u[i * k + j] += V[i * n + q] * h * c;
    }
  }
  free(d), free(V);
}

static double t15_maxabs(const double *x, size_t n) {
  double m = 0;
  size_t i;
  for (i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
  return m;
}

/* row 8: ?syev accurate and orthogonal, ?potrf accurate, for a matrix scaled 1e-300 … 1e300 */
static void t15_syev_check(size_t n, const double *A, const double *Vw, const double *w, double *res, double *orth) {
  double anrm = t15_maxabs(A, n * n);
  size_t i, j, p;
  *res = 0, *orth = 0;
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      long double r = 0, o = 0;
      for (p = 0; p < n; p++) {
        r += (long double)(A[i * n + p] / anrm) * Vw[p * n + j];
        o += (long double)Vw[p * n + i] * Vw[p * n + j];
      }
      r -= (long double)Vw[i * n + j] * (w[j] / anrm);
      o -= i == j;
      if (fabsl(r) > *res || r != r) *res = r != r ? INFINITY : (double)fabsl(r);
      if (fabsl(o) > *orth || o != o) *orth = o != o ? INFINITY : (double)fabsl(o);
    }
}

static void test_p15_linalg_scale(void) {
  static const size_t sizes[2] = {24, 70}; /* 70: the blocked reduction and divide and conquer */
  size_t si, n, i, j, p;
  t_section("issue 15 row 8: ?syev and ?potrf on a matrix scaled 1e-300 … 1e300 (residual, orthogonality)");
  for (si = 0; si < 2; si++) {
    double *A0, *A, *V, *w, worst_r = 0, worst_o = 0, worst_c = 0;
    int e, bad = 0;
    n = sizes[si];
    A0 = (double *)malloc(n * n * 8), A = (double *)malloc(n * n * 8), V = (double *)malloc(n * n * 8), w = (double *)malloc(n * 8);
    for (i = 0; i < n; i++)
      for (j = 0; j <= i; j++) A0[i * n + j] = A0[j * n + i] = t_uniform();
    for (e = -300; e <= 300; e += 20) {
      double s = pow(10.0, e), res, orth;
      ntk_status st;
      for (i = 0; i < n * n; i++) A[i] = A0[i] * s;
      memcpy(V, A, n * n * 8);
      st = ntk_dsyev(n, V, n, w);
      t15_syev_check(n, A, V, w, &res, &orth);
      if (st != NTK_OK || !(res <= 100 * (double)n * DBL_EPSILON) || !(orth <= 100 * (double)n * DBL_EPSILON)) {
        if (bad++ < 3) T_CHECK(0, "dsyev n = %zu at scale 1e%d: %s, residual %.3g, |VᵀV − I| %.3g", n, e, ntk_status_string(st), res, orth);
      }
      worst_r = res > worst_r ? res : worst_r, worst_o = orth > worst_o ? orth : worst_o;
      /* SPD: B·Bᵀ/n + I, scaled; ‖L·Lᵀ − A‖/‖A‖ against the scaled input itself */
      for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
          long double acc = 0;
          for (p = 0; p < n; p++) acc += (long double)A0[i * n + p] * A0[j * n + p];
          A[i * n + j] = (double)((acc / (long double)n + (i == j)) * (long double)s);
        }
      memcpy(V, A, n * n * 8);
      st = ntk_dpotrf(n, V, n);
      {
        double anrm = t15_maxabs(A, n * n), rs = sqrt(anrm), worst = 0;
        for (i = 0; i < n; i++)
          for (j = 0; j <= i; j++) {
            long double acc = 0;
            for (p = 0; p <= j; p++) acc += (long double)(V[i * n + p] / rs) * (V[j * n + p] / rs);
            acc -= A[i * n + j] / anrm;
            if (!(fabsl(acc) <= worst)) worst = (double)fabsl(acc);
          }
        worst_c = worst > worst_c ? worst : worst_c;
        if (st != NTK_OK || !(worst <= 100 * (double)n * DBL_EPSILON))
          if (bad++ < 3) T_CHECK(0, "dpotrf n = %zu at scale 1e%d: %s, ‖LLᵀ − A‖/‖A‖ %.3g", n, e, ntk_status_string(st), worst);
      }
    }
    T_CHECK(bad == 0, "n = %zu, scales 1e-300 … 1e300: worst syev residual %.3g, |VᵀV − I| %.3g, potrf %.3g (≤ 100·n·ε = %.3g)",
            n, worst_r, worst_o, worst_c, 100 * (double)n * DBL_EPSILON);
    /* subnormal and near-overflow SPD input: the factor of the input as given */
    {
      static const double sc[3] = {1e-318, 1e-310, 1e307};
      int q;
      for (q = 0; q < 3; q++) {
        double anrm, rs, worst = 0;
        ntk_status st;
        for (i = 0; i < n; i++)
          for (j = 0; j < n; j++) {
            long double acc = 0;
            for (p = 0; p < n; p++) acc += (long double)A0[i * n + p] * A0[j * n + p];
            A[i * n + j] = (double)((acc / (long double)n + (i == j)) * (long double)sc[q]);
          }
        memcpy(V, A, n * n * 8);
        st = ntk_dpotrf(n, V, n);
        anrm = t15_maxabs(A, n * n), rs = sqrt(anrm);
        for (i = 0; i < n; i++)
          for (j = 0; j <= i; j++) {
            long double acc = 0;
            for (p = 0; p <= j; p++) acc += (long double)(V[i * n + p] / rs) * (V[j * n + p] / rs);
            acc -= A[i * n + j] / anrm;
            if (!(fabsl(acc) <= worst)) worst = (double)fabsl(acc);
          }
        T_CHECK(st == NTK_OK && worst <= 100 * (double)n * DBL_EPSILON, "dpotrf n = %zu at scale %.0e: %s, ‖LLᵀ − A‖/‖A‖ %.3g",
                n, sc[q], ntk_status_string(st), worst);
      }
    }
    free(A0), free(A), free(V), free(w);
  }
  /* float ssyev over float's range (1e-36 … 1e36), n = 12 */
  {
    size_t m = 12;
    float Af[144], Vf[144], wf[12];
    double A[144], V[144], w[12], worst_r = 0, worst_o = 0;
    int e, bad = 0;
    for (i = 0; i < m; i++)
      for (j = 0; j <= i; j++) A[i * m + j] = A[j * m + i] = t_uniform();
    for (e = -36; e <= 36; e += 6) {
      double res, orth;
      ntk_status st;
      for (i = 0; i < m * m; i++) Af[i] = (float)(A[i] * pow(10.0, e));
      memcpy(Vf, Af, sizeof Vf);
      st = ntk_ssyev(m, Vf, m, wf);
      for (i = 0; i < m * m; i++) V[i] = Vf[i], A[i] = Af[i];
      for (i = 0; i < m; i++) w[i] = wf[i];
      t15_syev_check(m, A, V, w, &res, &orth);
      for (i = 0; i < m * m; i++) A[i] = A[i] / pow(10.0, e); /* back to the unit matrix */
      if (st != NTK_OK || !(res <= 100 * (double)m * FLT_EPSILON) || !(orth <= 100 * (double)m * FLT_EPSILON)) bad++;
      worst_r = res > worst_r ? res : worst_r, worst_o = orth > worst_o ? orth : worst_o;
    }
    T_CHECK(bad == 0, "ssyev n = 12, scales 1e-36 … 1e36: worst residual %.3g, |VᵀV − I| %.3g (≤ 100·n·ε_float)", worst_r, worst_o);
  }
  /* eigenvalues beyond the range: a named error, not inf with NTK_OK */
  {
    double B[16], w[4];
    float Bf[16], wf[4];
    for (i = 0; i < 16; i++) B[i] = 1.5e308, Bf[i] = 3e38f;
    T_STATUS(ntk_dsyev(4, B, 4, w), NTK_ERR_NON_FINITE); /* λ_max = 6e308 */
    T_STATUS(ntk_ssyev(4, Bf, 4, wf), NTK_ERR_NON_FINITE); /* λ_max = 1.2e39 */
  }
}

/* a consistent kernel (ReLU NTK, depth 2) on rows x (n, 2) and test rows xt (m, 2) */
static void t15_kernel(const double *x, size_t n, const double *xt, size_t m, double *K, double *Kt, double *Kn, double *Knt) {
  ntk_layer net[8];
  size_t L = ntk_mlp(net, 8, 2, 0, ntk_relu(), 1.4, 0.3, 1);
  double *tmp = (double *)malloc((n > m ? n : m) * n * 8);
  ntk_kernel(net, L, x, n, NULL, 0, 2, Kn ? Kn : tmp, K);
  if (m) ntk_kernel(net, L, xt, m, x, n, 2, Knt ? Knt : tmp, Kt);
  free(tmp);
}

/* rows 9 and 10: duplicate training points */
static void test_p15_singular(void) {
  /* row 9's data: D = rows (1, 2), (1, 2), (3, 4), DY = 0, 1, 0.5; one test row (2, 1) */
  double x[6] = {1, 2, 1, 2, 3, 4}, y[3] = {0, 1, 0.5}, xt[2] = {2, 1};
  double K[9], Kt[3], Kn[9], Knt[3], Ktt[1] = {0}, f[3], g[1], mean[1], cov[1], lr = 1.0, N = 3;
  static const double times[6] = {1e3, 1e8, 1e12, 1e17, 1e30, 1e300};
  long double u[3];
  ntk_predictor p;
  int q;
  t_section("issue 15 rows 9-10: a kernel with duplicate points — one rank decision, t = ∞ not PD, continuous in t");
  t15_kernel(x, 3, xt, 1, K, Kt, Kn, Knt);
  {
    double Kt2[1];
    ntk_layer net[8];
    size_t L = ntk_mlp(net, 8, 2, 0, ntk_relu(), 1.4, 0.3, 1);
    ntk_kernel(net, L, xt, 1, NULL, 0, 2, Ktt, Kt2);
  }
  T_STATUS(ntk_predictor_init(&p, K, 3, y, 1, NULL, lr, 0.0, 0), NTK_OK);
  f[0] = f[1] = f[2] = g[0] = mean[0] = cov[0] = 12345;
  T_STATUS(ntk_predict_train(&p, INFINITY, 0, f), NTK_ERR_NOT_POSITIVE_DEFINITE);
  T_STATUS(ntk_predict_test(&p, INFINITY, 0, Kt, 1, NULL, g), NTK_ERR_NOT_POSITIVE_DEFINITE);
  T_STATUS(ntk_ensemble_ntk(&p, INFINITY, Kt, 1, Kn, Knt, Ktt, mean, cov), NTK_ERR_NOT_POSITIVE_DEFINITE);
  T_CHECK(f[0] == 12345 && g[0] == 12345 && mean[0] == 12345 && cov[0] == 12345, "t = ∞ refused: outputs untouched");
  T_CHECK(p.chol_status == NTK_ERR_NOT_POSITIVE_DEFINITE, "chol_status says not PD (%s)", ntk_status_string(p.chol_status));
  /* finite t: equal outputs for the equal inputs at every t, and the limit y − P₀y (= ½, ½, ½
     here: the duplicate pair meets in the middle) reached, never drifting to y */
  for (q = 0; q < 6; q++) {
    long double e3[3];
    double r[3], ref[3], gref;
    size_t i;
    T_STATUS(ntk_predict_train(&p, times[q], 0, f), NTK_OK);
    for (i = 0; i < 3; i++) r[i] = y[i];
    t15_flow_ref(K, 3, r, 1, lr / N, times[q], 0, DBL_EPSILON, e3);
    for (i = 0; i < 3; i++) ref[i] = y[i] - (double)e3[i];
    T_CHECK(fabs(f[0] - f[1]) <= 1e-12 && t_err_ratio_d(f, ref, 3, 1e-12, 1e-10) <= 1,
            "t = %.0e: train outputs %.15g %.15g %.15g (reference %.15g %.15g %.15g)", times[q], f[0], f[1], f[2], ref[0], ref[1], ref[2]);
    if (q >= 3)
      T_CHECK(fabs(f[0] - 0.5) <= 1e-12 && fabs(f[1] - 0.5) <= 1e-12 && fabs(f[2] - 0.5) <= 1e-12,
              "t = %.0e: the limit ½, ½, ½ (%.17g %.17g %.17g)", times[q], f[0], f[1], f[2]);
    T_STATUS(ntk_predict_test(&p, times[q], 0, Kt, 1, NULL, g), NTK_OK);
    t15_flow_ref(K, 3, r, 1, lr / N, times[q], 1, DBL_EPSILON, u);
    gref = (double)((long double)Kt[0] * u[0] + (long double)Kt[1] * u[1] + (long double)Kt[2] * u[2]);
    T_CHECK(fabs(g[0] - gref) <= 1e-9 * (1 + fabs(gref)), "t = %.0e: test output %.15g, pseudo-inverse reference %.15g", times[q], g[0], gref);
    T_STATUS(ntk_ensemble_ntk(&p, times[q], Kt, 1, Kn, Knt, Ktt, mean, NULL), NTK_OK);
    T_CHECK(fabs(mean[0] - gref) <= 1e-9 * (1 + fabs(gref)), "t = %.0e: ensemble mean %.15g = %.15g", times[q], mean[0], gref);
  }
  ntk_predictor_free(&p);
  /* the NNGP ensemble likewise */
  T_STATUS(ntk_predictor_init(&p, Kn, 3, y, 1, NULL, lr, 0.0, 0), NTK_OK);
  T_STATUS(ntk_ensemble_nngp(&p, INFINITY, Knt, 1, Ktt, mean, cov), NTK_ERR_NOT_POSITIVE_DEFINITE);
  T_STATUS(ntk_ensemble_nngp(&p, 1e17, Knt, 1, Ktt, mean, cov), NTK_OK);
  {
    double r[3] = {0, 1, 0.5}, gref;
    t15_flow_ref(Kn, 3, r, 1, lr / N, 1e17, 1, DBL_EPSILON, u);
    gref = (double)((long double)Knt[0] * u[0] + (long double)Knt[1] * u[1] + (long double)Knt[2] * u[2]);
    T_CHECK(fabs(mean[0] - gref) <= 1e-9 * (1 + fabs(gref)), "nngp ensemble t = 1e17: mean %.15g = %.15g", mean[0], gref);
  }
  ntk_predictor_free(&p);
  /* gp_inference (Cholesky) on the same kernel: not PD, untouched */
  T_STATUS(ntk_gp_inference(K, 3, y, 1, Kt, 1, NULL, 0.0, 0, g, NULL), NTK_ERR_NOT_POSITIVE_DEFINITE);
  /* a larger problem: 10 points with two duplicated pairs, f0 ≠ 0, k = 2, against the
     reference y − V·diag(e)·Vᵀ(y − f0) and g0 + K_td·V·diag(g)·Vᵀ(y − f0) over t */
  {
    size_t n = 10, m = 4, k = 2, i;
    double X[20], XT[8], KK[100], KT[40], Y[20], F0[20], G0[8], R[20], F[20], G[8], RF[20], RG[8];
    long double U[20];
    for (i = 0; i < 20; i++) X[i] = t_normal();
    for (i = 0; i < 8; i++) XT[i] = t_normal();
    X[2] = X[0], X[3] = X[1], X[14] = X[6], X[15] = X[7]; /* rows 1 = 0, 7 = 3 */
    t15_kernel(X, n, XT, m, KK, KT, NULL, NULL);
    for (i = 0; i < 20; i++) Y[i] = t_normal(), F0[i] = 0.3 * t_normal(), R[i] = Y[i] - F0[i];
    for (i = 0; i < 8; i++) G0[i] = 0.3 * t_normal();
    T_STATUS(ntk_predictor_init(&p, KK, n, Y, k, F0, 0.5, 0.0, 0), NTK_OK);
    for (q = 0; q < 6; q++) {
      double tol_f, tol_g;
      T_STATUS(ntk_predict_train(&p, times[q], 0, F), NTK_OK);
      T_STATUS(ntk_predict_test(&p, times[q], 0, KT, m, G0, G), NTK_OK);
      t15_flow_ref(KK, n, R, k, 0.5 / 20, times[q], 0, DBL_EPSILON, U);
      for (i = 0; i < 20; i++) RF[i] = Y[i] - (double)U[i];
      t15_flow_ref(KK, n, R, k, 0.5 / 20, times[q], 1, DBL_EPSILON, U);
      for (i = 0; i < 8; i++) {
        long double acc = G0[i];
        size_t c;
        for (c = 0; c < n; c++) acc += (long double)KT[(i / k) * n + c] * U[c * k + i % k];
        RG[i] = (double)acc;
      }
      tol_f = t_err_ratio_d(F, RF, 20, 1e-9, 1e-9), tol_g = t_err_ratio_d(G, RG, 8, 1e-8, 1e-8);
      T_CHECK(tol_f <= 1 && tol_g <= 1, "n = 10, two duplicate pairs, t = %.0e: train err/tol %.3g, test err/tol %.3g", times[q], tol_f, tol_g);
    }
    T_STATUS(ntk_predict_train(&p, INFINITY, 0, F), NTK_ERR_NOT_POSITIVE_DEFINITE);
    ntk_predictor_free(&p);
  }
}

/* row 11: ntk_max_learning_rate is 2N/λ_max at every scale; no stable rate without λ_max > 0 */
static void test_p15_max_lr(void) {
  size_t n = 8, i, j;
  double x[16], K[64], A[64], lr, ref, lmax = 0;
  long double d[8], V[64];
  static const double sc[6] = {1, 1e-14, 1e-200, 1e200, 1e-300, 1e300};
  int q;
  t_section("issue 15 row 11: ntk_max_learning_rate scale-equivariant, an error for λ_max ≤ 0");
  for (i = 0; i < 16; i++) x[i] = t_normal();
  t15_kernel(x, n, NULL, 0, K, NULL, NULL, NULL);
  t15_jacobi(K, n, d, V);
  for (i = 0; i < n; i++) lmax = (double)d[i] > lmax ? (double)d[i] : lmax;
  for (q = 0; q < 6; q++) {
    for (i = 0; i < 64; i++) A[i] = K[i] * sc[q];
    ref = 2.0 * (double)(n * 3) / lmax / sc[q];
    lr = -1;
    T_STATUS(ntk_max_learning_rate(A, n, 3, &lr), NTK_OK);
    T_CHECK(fabs(lr - ref) <= 1e-12 * ref, "K·%.0e: max learning rate %.15g, 2N/λ_max %.15g", sc[q], lr, ref);
  }
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) A[i * n + j] = -(double)(i == j);
  lr = 12345;
  T_STATUS(ntk_max_learning_rate(A, n, 3, &lr), NTK_ERR_NOT_POSITIVE_DEFINITE);
  memset(A, 0, sizeof A);
  T_STATUS(ntk_max_learning_rate(A, n, 3, &lr), NTK_ERR_NOT_POSITIVE_DEFINITE);
  T_CHECK(lr == 12345, "no rate written on error");
  A[9] = NAN;
  T_STATUS(ntk_max_learning_rate(A, n, 3, &lr), NTK_ERR_NON_FINITE);
}

/* row 12 (predict part): non-finite results and inputs are NTK_ERR_NON_FINITE, outputs untouched */
static void test_p15_nonfinite(void) {
  size_t n = 6, m = 3, k = 2, i, s;
  double x[12], xt[6], K[36], Kt[18], Kn[36], Knt[18], Ktt[9], y[12], f[12], g[6], mean[6], cov[9];
  double lrmax, ref[12], r[12], bad[18];
  ntk_predictor p;
  t_section("issue 15 row 12: discrete steps past the stable rate, NaN test matrices → NTK_ERR_NON_FINITE");
  for (i = 0; i < 12; i++) x[i] = t_normal(), y[i] = t_normal();
  for (i = 0; i < 6; i++) xt[i] = t_normal();
  t15_kernel(x, n, xt, m, K, Kt, Kn, Knt);
  {
    ntk_layer net[8];
    double tmp[9];
    size_t L = ntk_mlp(net, 8, 2, 0, ntk_relu(), 1.4, 0.3, 1);
    ntk_kernel(net, L, xt, m, NULL, 0, 2, Ktt, tmp);
  }
  {
    long double d[6], V[36], lm = 0;
    t15_jacobi(K, n, d, V);
    for (i = 0; i < n; i++) lm = d[i] > lm ? d[i] : lm;
    lrmax = 2.0 * (double)(n * k) / (double)lm;
  }
  /* 3× the stable rate: 12 explicit steps are finite and match; 2000 overflow */
  T_STATUS(ntk_predictor_init(&p, K, n, y, k, NULL, 3 * lrmax, 0.0, 0), NTK_OK);
  memset(ref, 0, sizeof ref);
  for (s = 0; s < 12; s++) {
    for (i = 0; i < 12; i++) r[i] = ref[i] - y[i];
    ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, -3 * lrmax / (double)(n * k), K, n, r, k, 1.0, ref, k);
  }
  T_STATUS(ntk_predict_train(&p, 12, 1, f), NTK_OK);
  T_CHECK(t_err_ratio_d(f, ref, 12, 1e-6 * t15_maxabs(ref, 12), 1e-6) <= 1, "12 unstable steps are finite and equal explicit steps (max |f| %.3g)", t15_maxabs(ref, 12));
  for (i = 0; i < 12; i++) f[i] = 12345;
  for (i = 0; i < 6; i++) g[i] = 12345;
  T_STATUS(ntk_predict_train(&p, 2000, 1, f), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_predict_test(&p, 2000, 1, Kt, m, NULL, g), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_predict_train(&p, INFINITY, 1, f), NTK_ERR_NON_FINITE); /* diverges: no limit */
  T_STATUS(ntk_predict_train(&p, 2.5, 1, f), NTK_ERR_INVALID_ARG);   /* (negative)^2.5 */
  T_CHECK(f[0] == 12345 && g[0] == 12345, "failed calls leave the outputs untouched");
  T_STATUS(ntk_predict_train(&p, 2000, 0, f), NTK_OK); /* the flow converges at any rate */
  ntk_predictor_free(&p);
  /* NaN in each test matrix of the ensemble and of gp_inference */
  T_STATUS(ntk_predictor_init(&p, K, n, y, k, NULL, 1.0, 0.0, 0), NTK_OK);
  {
    const double *src[4] = {Kt, Kn, Knt, Ktt};
    size_t len[4] = {18, 36, 18, 9}, w;
    for (w = 0; w < 4; w++) {
      double *cp = (double *)malloc(len[w] * 8);
      memcpy(cp, src[w], len[w] * 8);
      cp[len[w] - 1] = NAN;
      for (i = 0; i < 6; i++) mean[i] = 12345;
      cov[0] = 12345;
      T_STATUS(ntk_ensemble_ntk(&p, 10, w == 0 ? cp : Kt, m, w == 1 ? cp : Kn, w == 2 ? cp : Knt, w == 3 ? cp : Ktt, mean, cov), NTK_ERR_NON_FINITE);
      T_CHECK(mean[0] == 12345 && cov[0] == 12345, "ensemble_ntk, NaN in argument %zu: mean and cov untouched", w);
      free(cp);
    }
  }
  memcpy(bad, Ktt, 9 * 8), bad[4] = NAN;
  T_STATUS(ntk_ensemble_nngp(&p, 10, Knt, m, bad, mean, cov), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_gp_inference(Kn, n, y, k, Knt, m, bad, 0.0, 0, mean, cov), NTK_ERR_NON_FINITE);
  memcpy(bad, Knt, 18 * 8), bad[0] = INFINITY;
  T_STATUS(ntk_gp_inference(Kn, n, y, k, bad, m, Ktt, 0.0, 0, mean, cov), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_predict_test(&p, 10, 0, bad, m, NULL, g), NTK_ERR_NON_FINITE);
  T_CHECK(mean[0] == 12345 && cov[0] == 12345 && g[0] == 12345, "NaN/Inf inputs: outputs untouched");
  ntk_predictor_free(&p);
  /* finite inputs whose result overflows: targets 1e300 and test–train entries ×1e10 (the
     means), test–train entries ×1e200 against the train kernel (the GP covariance) */
  {
    double y2[12], Kt2[18];
    for (i = 0; i < 12; i++) y2[i] = y[i] * 1e300;
    for (i = 0; i < 18; i++) Kt2[i] = Kt[i] * 1e10, bad[i] = Knt[i] * 1e200;
    T_STATUS(ntk_predictor_init(&p, K, n, y2, k, NULL, 1.0, 0.0, 0), NTK_OK);
    T_STATUS(ntk_predict_test(&p, INFINITY, 0, Kt2, m, NULL, g), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_predict_test(&p, 10, 0, Kt2, m, NULL, g), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_ensemble_ntk(&p, 10, Kt2, m, Kn, Knt, Ktt, mean, cov), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_gp_inference(K, n, y2, k, Kt2, m, NULL, 0.0, 0, mean, NULL), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_gp_inference(Kn, n, y, k, bad, m, Ktt, 0.0, 0, NULL, cov), NTK_ERR_NON_FINITE);
    T_CHECK(mean[0] == 12345 && cov[0] == 12345 && g[0] == 12345, "overflowing results: outputs untouched");
    ntk_predictor_free(&p);
  }
}

/* rows 13 and 14: sizes overflow-checked, every argument checked before any output is written */
static void test_p15_args(void) {
  size_t n = 5, m = 2, k = 1, i;
  double x[10], xt[4], K[25], Kt[10], Kn[25], Knt[10], Ktt[4] = {1, 0, 0, 1}, y[5], f[8], mean[2], cov[4];
  ntk_predictor p;
  static const size_t big[3] = {(size_t)-1 / 3 + 1, (size_t)-1 / 2, (size_t)-1 / 5 + 1};
  t_section("issue 15 rows 13-14: overflowing sizes → NTK_ERR_OVERFLOW, all arguments checked before any write");
  for (i = 0; i < 10; i++) x[i] = t_normal();
  for (i = 0; i < 4; i++) xt[i] = t_normal();
  for (i = 0; i < 5; i++) y[i] = t_normal();
  t15_kernel(x, n, xt, m, K, Kt, Kn, Knt);
  T_STATUS(ntk_predictor_init(&p, K, n, y, k, NULL, 1.0, 0.0, 0), NTK_OK);
  for (i = 0; i < 3; i++) {
    f[0] = mean[0] = cov[0] = 12345;
    T_STATUS(ntk_predict_test(&p, 5, 0, K, big[i], NULL, f), NTK_ERR_OVERFLOW);
    T_STATUS(ntk_ensemble_ntk(&p, 5, K, big[i], Kn, K, K, mean, cov), NTK_ERR_OVERFLOW);
    T_STATUS(ntk_ensemble_nngp(&p, 5, K, big[i], K, mean, cov), NTK_ERR_OVERFLOW);
    T_STATUS(ntk_gp_inference(Kn, n, y, k, K, big[i], K, 0.0, 0, mean, cov), NTK_ERR_OVERFLOW);
    T_CHECK(f[0] == 12345 && mean[0] == 12345 && cov[0] == 12345, "m = %zu: outputs untouched", big[i]);
  }
  mean[0] = mean[1] = 12345;
  T_STATUS(ntk_ensemble_ntk(&p, 5, Kt, m, NULL, Knt, Ktt, mean, cov), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_ensemble_ntk(&p, 5, Kt, m, Kn, NULL, Ktt, mean, cov), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_ensemble_ntk(&p, 5, Kt, m, Kn, Knt, NULL, mean, cov), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_ensemble_ntk(&p, NAN, Kt, m, Kn, Knt, Ktt, mean, cov), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_ensemble_nngp(&p, 5, Knt, m, NULL, mean, cov), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_ensemble_nngp(&p, -1, Knt, m, Ktt, mean, cov), NTK_ERR_INVALID_ARG);
  T_CHECK(mean[0] == 12345 && mean[1] == 12345, "ensemble with a missing covariance argument: mean untouched");
  T_STATUS(ntk_predict_train(&p, 5, 0, NULL), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_predict_train(&p, NAN, 0, f), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_predict_test(&p, -INFINITY, 0, Kt, m, NULL, f), NTK_ERR_INVALID_ARG);
  ntk_predictor_free(&p);
}

/* the predictor, the GP and the ensemble on copies of one kernel scaled by s (learning rate
   scaled by 1/s): the same predictions at every s, against the long-double spectral reference */
static void test_p15_scaled_predict(void) {
  size_t n = 9, m = 3, k = 2, i, c;
  double x[18], xt[6], K[81], Kt[27], y[18], f0[18], g0[6], r[18], A[81], At[27], f[18], g[6], RG[6], RF[18];
  long double U[18];
  static const double sc[7] = {1, 1e-300, 1e-170, 1e-100, 1e100, 1e160, 1e300};
  static const double ts[2] = {7, INFINITY};
  int q, tq;
  t_section("issue 15 rows 8/10: predictions on a kernel scaled 1e-300 … 1e300 (lr scaled back) against the reference");
  for (i = 0; i < 18; i++) x[i] = t_normal(), y[i] = t_normal(), f0[i] = 0.2 * t_normal(), r[i] = y[i] - f0[i];
  for (i = 0; i < 6; i++) xt[i] = t_normal(), g0[i] = 0.2 * t_normal();
  t15_kernel(x, n, xt, m, K, Kt, NULL, NULL);
  for (q = 0; q < 7; q++) {
    ntk_predictor p;
    for (i = 0; i < 81; i++) A[i] = K[i] * sc[q];
    for (i = 0; i < 27; i++) At[i] = Kt[i] * sc[q];
    T_STATUS(ntk_predictor_init(&p, A, n, y, k, f0, 0.8 / sc[q], 0.0, 0), NTK_OK);
    for (tq = 0; tq < 2; tq++) {
      double et, eg;
      t15_flow_ref(K, n, r, k, 0.8 / 18, ts[tq], 0, DBL_EPSILON, U);
      for (i = 0; i < 18; i++) RF[i] = tq ? y[i] : y[i] - (double)U[i];
      t15_flow_ref(K, n, r, k, 0.8 / 18, ts[tq], 1, DBL_EPSILON, U);
      for (i = 0; i < 6; i++) {
        long double acc = g0[i];
        for (c = 0; c < n; c++) acc += (long double)Kt[(i / k) * n + c] * U[c * k + i % k];
        RG[i] = (double)acc;
      }
      T_STATUS(ntk_predict_train(&p, ts[tq], 0, f), NTK_OK);
      T_STATUS(ntk_predict_test(&p, ts[tq], 0, At, m, g0, g), NTK_OK);
      et = t_err_ratio_d(f, RF, 18, 1e-10, 1e-10), eg = t_err_ratio_d(g, RG, 6, 1e-9, 1e-9);
      T_CHECK(et <= 1 && eg <= 1, "K·%.0e, t = %g: train err/tol %.3g, test err/tol %.3g", sc[q], ts[tq], et, eg);
    }
    ntk_predictor_free(&p);
    /* kernel regression by Cholesky: the mean is scale-invariant */
    {
      double mean[6], ref[6];
      t15_flow_ref(K, n, y, k, 1, INFINITY, 1, DBL_EPSILON, U);
      for (i = 0; i < 6; i++) {
        long double acc = 0;
        for (c = 0; c < n; c++) acc += (long double)Kt[(i / k) * n + c] * U[c * k + i % k];
        ref[i] = (double)acc;
      }
      T_STATUS(ntk_gp_inference(A, n, y, k, At, m, NULL, 0.0, 0, mean, NULL), NTK_OK);
      T_CHECK(t_err_ratio_d(mean, ref, 6, 1e-9, 1e-9) <= 1, "gp_inference on K·%.0e: err/tol %.3g", sc[q], t_err_ratio_d(mean, ref, 6, 1e-9, 1e-9));
    }
  }
}

static void test_p15_all(void) {
  test_p15_linalg_scale();
  test_p15_singular();
  test_p15_max_lr();
  test_p15_nonfinite();
  test_p15_args();
  test_p15_scaled_predict();
}
