/* Cholesky, triangular solves and the symmetric eigensolver, by reconstruction: L·Lᵀ = A,
   A·X = B, A·V = V·Λ, VᵀV = I, on random, structured and hard matrices, in double and float. */

static double tl_maxabs(const double *a, size_t n) {
  double m = 0;
  size_t i;
  for (i = 0; i < n; i++) if (fabs(a[i]) > m || a[i] != a[i]) m = a[i] != a[i] ? INFINITY : fabs(a[i]);
  return m;
}

/* random SPD: G·Gᵀ/n + 0.1·I */
static void tl_spd(double *A, size_t n) {
  double *G = (double *)malloc((n * n + 1) * 8);
  size_t i;
  for (i = 0; i < n * n; i++) G[i] = t_uniform();
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0 / (double)n, G, n, G, n, 0.0, A, n);
  for (i = 0; i < n; i++) A[i * n + i] += 0.1;
  free(G);
}

/* Q·diag(lam)·Qᵀ with Q a product of 4 random Householder reflectors */
static void tl_sym_with_spectrum(double *A, size_t n, const double *lam) {
  double *Q = (double *)malloc(n * n * 8), *v = (double *)malloc(n * 8), *T = (double *)malloc(n * n * 8);
  size_t i, j, r, c;
  for (i = 0; i < n * n; i++) Q[i] = 0;
  for (i = 0; i < n; i++) Q[i * n + i] = 1;
  for (r = 0; r < 4; r++) {
    double nrm = 0;
    for (i = 0; i < n; i++) v[i] = t_uniform(), nrm += v[i] * v[i];
    nrm = sqrt(nrm);
    for (i = 0; i < n; i++) v[i] /= nrm;
    for (i = 0; i < n; i++) { /* Q ← Q·(I − 2vvᵀ) */
      double acc = 0;
      for (j = 0; j < n; j++) acc += Q[i * n + j] * v[j];
      for (j = 0; j < n; j++) Q[i * n + j] -= 2 * acc * v[j];
    }
  }
  for (i = 0; i < n; i++)
    for (c = 0; c < n; c++) T[i * n + c] = Q[i * n + c] * lam[c];
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0, T, n, Q, n, 0.0, A, n);
  for (i = 0; i < n; i++) /* exactly symmetric */
    for (j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
  free(Q), free(v), free(T);
}

static void test_cholesky(void) {
  static const size_t ns[] = {0, 1, 2, 3, 17, 64, 65, 257, 1000};
  size_t t;
  t_section("potrf/potrs: reconstruction and residuals, double and float");
  for (t = 0; t < sizeof ns / sizeof ns[0]; t++) {
    size_t n = ns[t], i, j, nrhs = 3;
    double *A = (double *)malloc((n * n + 1) * 8), *F = (double *)malloc((n * n + 1) * 8), *R = (double *)malloc((n * n + 1) * 8);
    double *B = (double *)malloc((n * nrhs + 1) * 8), *X = (double *)malloc((n * nrhs + 1) * 8), *AX = (double *)malloc((n * nrhs + 1) * 8);
    float *Fs = (float *)malloc((n * n + 1) * 4), *Xs = (float *)malloc((n * nrhs + 1) * 4);
    double na, err = 0, errs = 0, res = 0, ress = 0, nx;
    int upper_ok = 1;
    tl_spd(A, n);
    na = tl_maxabs(A, n * n);
    for (i = 0; i < n * n; i++) F[i] = A[i], Fs[i] = (float)A[i];
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) F[i * n + j] = 12345, Fs[i * n + j] = 12345;
    T_STATUS(ntk_dpotrf(n, F, n), NTK_OK);
    T_STATUS(ntk_spotrf(n, Fs, n), NTK_OK);
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) {
      if (F[i * n + j] != 12345 || Fs[i * n + j] != 12345) upper_ok = 0;
      F[i * n + j] = 0;
    }
    if (n) ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0, F, n, F, n, 0.0, R, n);
    for (i = 0; i < n * n; i++) if (fabs(R[i] - A[i]) > err) err = fabs(R[i] - A[i]);
    for (i = 0; i < n; i++) for (j = 0; j <= i; j++) {
      double acc = 0;
      size_t p;
      for (p = 0; p <= j; p++) acc += (double)Fs[i * n + p] * Fs[j * n + p];
      if (fabs(acc - A[i * n + j]) > errs) errs = fabs(acc - A[i * n + j]);
    }
    T_CHECK(err <= 4 * (double)(n + 1) * DBL_EPSILON * na, "dpotrf n=%zu: max|LLᵀ−A| = %.3g (bound %.3g)", n, err, 4 * (double)(n + 1) * DBL_EPSILON * na);
    T_CHECK(errs <= 4 * (double)(n + 1) * FLT_EPSILON * na, "spotrf n=%zu: max|LLᵀ−A| = %.3g", n, errs);
    T_CHECK(upper_ok, "potrf n=%zu leaves the strict upper triangle untouched", n);
    /* solve */
    for (i = 0; i < n * nrhs; i++) B[i] = X[i] = t_uniform(), Xs[i] = (float)B[i];
    T_STATUS(ntk_dpotrs(n, nrhs, F, n, X, nrhs), NTK_OK);
    T_STATUS(ntk_spotrs(n, nrhs, Fs, n, Xs, nrhs), NTK_OK);
    if (n) ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, nrhs, n, 1.0, A, n, X, nrhs, 0.0, AX, nrhs);
    nx = tl_maxabs(X, n * nrhs);
    for (i = 0; i < n * nrhs; i++) if (fabs(AX[i] - B[i]) > res) res = fabs(AX[i] - B[i]);
    for (i = 0; i < n * nrhs; i++) X[i] = Xs[i];
    if (n) ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, nrhs, n, 1.0, A, n, X, nrhs, 0.0, AX, nrhs);
    for (i = 0; i < n * nrhs; i++) if (fabs(AX[i] - B[i]) > ress) ress = fabs(AX[i] - B[i]);
    T_CHECK(res <= 8 * (double)(n + 1) * DBL_EPSILON * na * nx * (double)n + 1e-300, "dpotrs n=%zu: max|AX−B| = %.3g", n, res);
    T_CHECK(ress <= 8 * (double)(n + 1) * FLT_EPSILON * na * nx * (double)n + 1e-30, "spotrs n=%zu: max|AX−B| = %.3g", n, ress);
    free(A), free(F), free(R), free(B), free(X), free(AX), free(Fs), free(Xs);
  }
  /* failures name the right column */
  {
    double A[16] = {4, 0, 0, 0, 2, 5, 0, 0, 1, 1, -3, 0, 0, 0, 0, 1}, S[9] = {1, 0, 0, 1, 1, 0, 1, 1, 1};
    float As[16];
    size_t info = 99, i;
    for (i = 0; i < 16; i++) As[i] = (float)A[i];
    T_STATUS(ntk_dpotrf_ex(4, A, 4, &info), NTK_ERR_NOT_POSITIVE_DEFINITE);
    T_CHECK(info == 2, "indefinite: failing column %zu (want 2)", info);
    T_STATUS(ntk_spotrf_ex(4, As, 4, &info), NTK_ERR_NOT_POSITIVE_DEFINITE);
    T_CHECK(info == 2, "indefinite (float): failing column %zu (want 2)", info);
    T_STATUS(ntk_dpotrf_ex(3, S, 3, &info), NTK_ERR_NOT_POSITIVE_DEFINITE); /* all-ones: singular */
    T_CHECK(info == 1, "singular: failing column %zu (want 1)", info);
    {
      double N[4] = {1, 0, NAN, 1};
      T_STATUS(ntk_dpotrf_ex(2, N, 2, &info), NTK_ERR_NON_FINITE);
      N[2] = INFINITY;
      T_STATUS(ntk_dpotrf(2, N, 2), NTK_ERR_NON_FINITE);
    }
    /* a singular kernel deep inside a blocked factorisation: duplicate rows 300 and 301 */
    {
      size_t n = 400, d = 500, j;
      double *X = (double *)malloc(n * d * 8), *K = (double *)malloc(n * n * 8);
      for (i = 0; i < n * d; i++) X[i] = t_uniform();
      memcpy(X + 301 * d, X + 300 * d, d * 8);
      ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, n, n, d, 1.0, X, d, X, d, 0.0, K, n);
      (void)j;
      T_STATUS(ntk_dpotrf_ex(n, K, n, &info), NTK_ERR_NOT_POSITIVE_DEFINITE);
      T_CHECK(info == 301, "duplicate rows 300/301: failing column %zu (want 301)", info);
      free(X), free(K);
    }
    T_STATUS(ntk_dpotrf(3, NULL, 3), NTK_ERR_INVALID_ARG);
    T_STATUS(ntk_dpotrf(3, A, 2), NTK_ERR_INVALID_ARG);
  }
}

/* check A·V = V·Λ and VᵀV = I for the eigendecomposition of A0 (n, n) */
static void tl_eig_check(const char *what, const double *A0, size_t n, int dbl) {
  double *V = (double *)malloc((n * n + 1) * 8), *w = (double *)malloc((n + 1) * 8), *AV = (double *)malloc((n * n + 1) * 8);
  float *Vs = (float *)malloc((n * n + 1) * 4), *ws = (float *)malloc((n + 1) * 4);
  double na = tl_maxabs(A0, n * n), res = 0, orth = 0, eps = dbl ? DBL_EPSILON : FLT_EPSILON;
  size_t i, j;
  int sorted = 1;
  if (dbl) {
    memcpy(V, A0, n * n * 8);
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) V[i * n + j] = NAN; /* only the lower triangle is read */
    T_STATUS(ntk_dsyev(n, V, n, w), NTK_OK);
  } else {
    for (i = 0; i < n * n; i++) Vs[i] = (float)A0[i];
    T_STATUS(ntk_ssyev(n, Vs, n, ws), NTK_OK);
    for (i = 0; i < n * n; i++) V[i] = Vs[i];
    for (i = 0; i < n; i++) w[i] = ws[i];
  }
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, n, n, n, 1.0, A0, n, V, n, 0.0, AV, n);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      double r = fabs(AV[i * n + j] - V[i * n + j] * w[j]);
      if (!(r <= res)) res = r;
    }
  ntk_dgemm_ref(NTK_TRANS, NTK_NO_TRANS, n, n, n, 1.0, V, n, V, n, 0.0, AV, n);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      double r = fabs(AV[i * n + j] - (i == j));
      if (!(r <= orth)) orth = r;
    }
  for (i = 0; i + 1 < n; i++) if (w[i] > w[i + 1]) sorted = 0;
  T_CHECK(res <= 4 * (double)(n + 1) * eps * na && orth <= 4 * (double)(n + 1) * eps && sorted,
          "%ssyev %s n=%zu: max|AV−VΛ| = %.3g (‖A‖ %.3g), max|VᵀV−I| = %.3g, ascending %d", dbl ? "d" : "s", what, n, res, na, orth, sorted);
  free(V), free(w), free(AV), free(Vs), free(ws);
}

static void test_eigen(void) {
  static const size_t ns[] = {1, 2, 3, 17, 33, 64, 65, 200, 517};
  size_t t, i, n;
  int dbl;
  t_section("syev: A·V = V·Λ, VᵀV = I on random, repeated, diagonal, tridiagonal, Wilkinson, rank-deficient, wide-range matrices");
  for (dbl = 1; dbl >= 0; dbl--) {
    for (t = 0; t < sizeof ns / sizeof ns[0]; t++) {
      double *A;
      n = ns[t];
      A = (double *)malloc(n * n * 8);
      for (i = 0; i < n * n; i++) A[i] = t_uniform();
      for (i = 0; i < n; i++) { size_t j; for (j = 0; j < i; j++) A[j * n + i] = A[i * n + j]; }
      tl_eig_check("random", A, n, dbl);
      free(A);
    }
    n = 40;
    {
      double *A = (double *)calloc(n * n, 8), *lam = (double *)malloc(n * 8);
      for (i = 0; i < n; i++) lam[i] = (double)(i % 3); /* each eigenvalue repeated ~13 times */
      tl_sym_with_spectrum(A, n, lam);
      tl_eig_check("repeated eigenvalues", A, n, dbl);
      memset(A, 0, n * n * 8);
      for (i = 0; i < n; i++) A[i * n + i] = (double)((i * 7) % 11) - 5;
      tl_eig_check("diagonal", A, n, dbl);
      memset(A, 0, n * n * 8);
      for (i = 0; i < n; i++) {
        A[i * n + i] = t_uniform();
        if (i) A[i * n + i - 1] = A[(i - 1) * n + i] = t_uniform();
      }
      tl_eig_check("tridiagonal", A, n, dbl);
      for (i = 0; i < n; i++) lam[i] = pow(10.0, -12.0 + 24.0 * (double)i / (double)(n - 1));
      tl_sym_with_spectrum(A, n, lam);
      tl_eig_check("eigenvalues 1e-12…1e12", A, n, dbl);
      free(A), free(lam);
    }
    { /* bigger structured cases through several divide-and-conquer merges */
      size_t N = 300;
      double *A = (double *)calloc(N * N, 8), *lam = (double *)malloc(N * 8);
      for (i = 0; i < N; i++) lam[i] = (double)(i % 4) + (i % 7 == 0 ? 1e-9 * (double)i : 0);
      tl_sym_with_spectrum(A, N, lam);
      tl_eig_check("n=300, 4 clusters with 1e-9 splits", A, N, dbl);
      memset(A, 0, N * N * 8);
      for (i = 0; i < N; i++) { /* Wilkinson W301+ */
        A[i * N + i] = fabs(150.0 - (double)i);
        if (i) A[i * N + i - 1] = A[(i - 1) * N + i] = 1;
      }
      tl_eig_check("Wilkinson W301+", A, N, dbl);
      for (i = 0; i < N; i++) lam[i] = exp(-0.1 * (double)i); /* NTK-like decay */
      tl_sym_with_spectrum(A, N, lam);
      tl_eig_check("n=300, eigenvalues e^{-0.1 i}", A, N, dbl);
      memset(A, 0, N * N * 8);
      for (i = 0; i < N; i++) A[i * N + i] = 2, A[i * N + (i + 1) % N] = A[((i + 1) % N) * N + i] = -1; /* periodic Laplacian: double eigenvalues */
      tl_eig_check("periodic Laplacian n=300", A, N, dbl);
      free(A), free(lam);
    }
    { /* Wilkinson W21+: nearly equal pairs of eigenvalues */
      double A[21 * 21];
      memset(A, 0, sizeof A);
      for (i = 0; i < 21; i++) {
        A[i * 21 + i] = fabs(10.0 - (double)i);
        if (i) A[i * 21 + i - 1] = A[(i - 1) * 21 + i] = 1;
      }
      tl_eig_check("Wilkinson W21+", A, 21, dbl);
    }
    { /* rank-deficient Gram matrix: 60 points in 5 dimensions */
      size_t m = 60, d = 5;
      double *X = (double *)malloc(m * d * 8), *G = (double *)malloc(m * m * 8);
      for (i = 0; i < m * d; i++) X[i] = t_uniform();
      ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, m, m, d, 1.0, X, d, X, d, 0.0, G, m);
      tl_eig_check("rank-5 Gram", G, m, dbl);
      free(X), free(G);
    }
  }
  {
    double N[4] = {1, 0, NAN, 1}, w[2];
    T_STATUS(ntk_dsyev(2, N, 2, w), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_dsyev(2, NULL, 2, w), NTK_ERR_INVALID_ARG);
    T_STATUS(ntk_dsyev(0, NULL, 0, NULL), NTK_OK);
  }
  { /* eigenvalues only agree with the full decomposition */
    size_t m = 50, j;
    double *A = (double *)malloc(m * m * 8), *B = (double *)malloc(m * m * 8), w1[50], w2[50], e = 0;
    for (i = 0; i < m * m; i++) A[i] = t_uniform();
    for (i = 0; i < m; i++) for (j = 0; j < i; j++) A[j * m + i] = A[i * m + j];
    memcpy(B, A, m * m * 8);
    ntk_dsyev(m, A, m, w1);
    ntk_dsyev_ex(m, B, m, w2, 0);
    for (i = 0; i < m; i++) if (fabs(w1[i] - w2[i]) > e) e = fabs(w1[i] - w2[i]);
    T_CHECK(e <= 1e-13, "eigenvalues-only mode matches: %.3g", e);
    free(A), free(B);
  }
}
