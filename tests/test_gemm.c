/* GEMM and SYRK: every compiled micro-kernel set against the naive _ref triple loop, on size
   sweeps that cross each MR/NR/KC/NB/MB edge, all four transpose cases, alpha/beta in
   {0, 1, other} (NaN-filled C when beta = 0), leading dimensions larger than the rows. */

/* levels whose kernels this binary has and this CPU can run */
static int t_levels(int *out) {
  int n = 0;
  out[n++] = -1; /* the direct (unpacked) path */
  out[n++] = NTK_SIMD_SCALAR;
#ifdef NTK__BUILD_X86
  if (ntk__cpu_level() >= NTK_SIMD_AVX2) out[n++] = NTK_SIMD_AVX2;
  if (ntk__cpu_level() >= NTK_SIMD_AVX512) out[n++] = NTK_SIMD_AVX512;
  else printf("  note: this CPU has no AVX-512: the avx512 kernels are compiled but not run here\n");
#endif
#ifdef NTK__BUILD_NEON
  out[n++] = NTK_SIMD_NEON;
#endif
  return n;
}

/* one gemm (tri = 0) or syrk-shaped (tri = 1/2, B = A, tb = !ta) case at one level, both
   against the reference; returns 1 if it passed */
static int t_gemm_case(int dbl, int level, int tri, int ta, int tb, size_t m, size_t n, size_t k,
                       double alpha, double beta, size_t pad) {
  const ntk__gemm_types *ty = dbl ? &ntk__types_d : &ntk__types_s;
  size_t es = ty->es;
  size_t arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
  size_t lda = acols + pad, ldb = bcols + pad, ldc = n + pad;
  size_t na = arows * lda + 1, nb = brows * ldb + 1, nc = m * ldc + 1, i;
  double *Ad = (double *)malloc(na * 8), *Bd = (double *)malloc(nb * 8);
  double *Cg = (double *)malloc(nc * 8), *Cr = (double *)malloc(nc * 8);
  void *A = malloc(na * es), *B = malloc(nb * es), *Cx = malloc(nc * es), *Cy = malloc(nc * es);
  double amax = 0, cmax = 0, atol, rtol, worst;
  int ok = 1;
  for (i = 0; i < na; i++) Ad[i] = t_uniform();
  for (i = 0; i < nb; i++) Bd[i] = t_uniform();
  for (i = 0; i < nc; i++) Cg[i] = beta == 0 ? NAN : t_uniform();
  if (tri) { /* syrk: B is A itself */
    free(B), free(Bd);
    B = A, Bd = Ad, ldb = lda;
  }
  for (i = 0; i < na; i++) {
    if (dbl) ((double *)A)[i] = Ad[i]; else ((float *)A)[i] = (float)Ad[i];
  }
  if (!tri) for (i = 0; i < nb; i++) {
    if (dbl) ((double *)B)[i] = Bd[i]; else ((float *)B)[i] = (float)Bd[i];
  }
  for (i = 0; i < nc; i++) {
    if (dbl) ((double *)Cx)[i] = ((double *)Cy)[i] = Cg[i];
    else ((float *)Cx)[i] = ((float *)Cy)[i] = (float)Cg[i];
  }
  T_STATUS(ntk__gemm(ty, level < 0 ? NTK_SIMD_SCALAR : level, level < 0, tri, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, Cx, ldc),
           NTK_OK);
  if (dbl) ntk__gemm_ref_d(ta, tb, m, n, k, alpha, (double *)A, lda, (double *)B, ldb, beta, (double *)Cy, ldc, tri);
  else ntk__gemm_ref_s(ta, tb, m, n, k, (float)alpha, (float *)A, lda, (float *)B, ldb, (float)beta, (float *)Cy, ldc, tri);
  for (i = 0; i < nc; i++) {
    Cg[i] = dbl ? ((double *)Cx)[i] : ((float *)Cx)[i];
    Cr[i] = dbl ? ((double *)Cy)[i] : ((float *)Cy)[i];
    if (beta != 0 && fabs(Cr[i]) > cmax) cmax = fabs(Cr[i]);
  }
  amax = 1.0; /* inputs are in [-1, 1]: each |product| ≤ 1 */
  rtol = 4.0 * (double)(k + 2) * (dbl ? DBL_EPSILON : FLT_EPSILON);
  atol = rtol * (fabs(alpha) * (double)k * amax + fabs(beta) * (cmax + 1.0)) + 1e-300;
  /* entries outside the kept triangle and the padding must be bit-identical (both untouched or
     both NaN), kept entries within tolerance */
  worst = 0;
  for (i = 0; i < m && ok; i++) {
    size_t j;
    for (j = 0; j < ldc; j++) {
      size_t q = i * ldc + j;
      int kept = j < n && (tri == 0 || (tri == 1 && j <= i) || (tri == 2 && j >= i));
      if (kept) {
        double e = t_err_ratio_d(Cg + q, Cr + q, 1, atol, rtol);
        if (e > worst) worst = e;
      } else if (memcmp(Cg + q, Cr + q, sizeof(double)) != 0) {
        ok = 0;
        printf("  entry (%zu,%zu) outside the result was touched\n", i, j);
        break;
      }
    }
  }
  if (worst > 1.0) ok = 0;
  T_CHECK(ok, "%s level %d tri %d %c%c m=%zu n=%zu k=%zu alpha=%g beta=%g pad=%zu: worst err/tol %.3g",
          dbl ? "dgemm" : "sgemm", level, tri, ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta,
          pad, worst);
  free(A), free(Ad), free(Cx), free(Cy), free(Cg), free(Cr);
  if (!tri) free(B), free(Bd);
  return ok;
}

static void test_gemm_sweeps(void) {
  int levels[5], nl = t_levels(levels), li, dbl;
  static const double ab[][2] = {{1, 0}, {-0.75, 0}, {1, 1}, {0.5, -1.5}, {0, 2}, {0, 0}};
  t_section("gemm: every kernel set against _ref across block edges");
  for (dbl = 0; dbl <= 1; dbl++)
    for (li = 0; li < nl; li++) {
      const ntk__gemm_kernel *kr = ntk__gemm_pick(dbl ? 8 : 4, levels[li] < 0 ? NTK_SIMD_SCALAR : levels[li]);
      size_t mr = kr->mr, nr = kr->nr, kc = kr->kc, nb = kr->nb, mb = kr->mb;
      size_t ms[] = {1, 2, mr - 1, mr, mr + 1, 2 * mr + 1, 3 * mr + 1, mb - 1, mb, mb + 1};
      size_t ns[] = {1, nr - 1, nr, nr + 1, 2 * nr + 1, nb - 1, nb, nb + 1, 2 * nb + 1, 3 * nb + 1};
      size_t ks[] = {1, 2, kc - 1, kc, kc + 1, 2 * kc + 1, 3 * kc + 1};
      size_t i, c;
      int ta, tb, fails = 0;
      printf("  %s kernels %s%s: MR=%zu NR=%zu KC=%zu NB=%zu MB=%zu\n", dbl ? "double" : "float",
             levels[li] < 0 ? "direct (no packing), sizes of " : "", kr->name, mr, nr, kc, nb, mb);
      for (ta = 0; ta <= 1; ta++)
        for (tb = 0; tb <= 1; tb++) {
          for (i = 0; i < sizeof ms / sizeof ms[0]; i++)
            if (ms[i] > 0) fails += !t_gemm_case(dbl, levels[li], 0, ta, tb, ms[i], nr + 3, 5, 1, 0, 0);
          for (i = 0; i < sizeof ns / sizeof ns[0]; i++)
            if (ns[i] > 0) fails += !t_gemm_case(dbl, levels[li], 0, ta, tb, mr + 1, ns[i], 3, 1, 0, 0);
          for (i = 0; i < sizeof ks / sizeof ks[0]; i++)
            fails += !t_gemm_case(dbl, levels[li], 0, ta, tb, mr + 2, nr + 2, ks[i], 1, 0, 0);
          for (c = 0; c < sizeof ab / sizeof ab[0]; c++)
            fails += !t_gemm_case(dbl, levels[li], 0, ta, tb, 2 * mr + 3, nb + 5, kc + 9, ab[c][0], ab[c][1], 3);
          /* a shape big enough for the threads to split, every edge partial */
          fails += !t_gemm_case(dbl, levels[li], 0, ta, tb, 3 * mr + 5, 2 * nb + 7, kc + 13, 0.5, 0.25, 1);
        }
      if (fails) printf("  %d failing cases\n", fails);
    }
}

static void test_syrk(void) {
  int levels[5], nl = t_levels(levels), li, dbl, t, tri;
  t_section("syrk: one triangle of A·Aᵀ against _ref, the other triangle untouched");
  for (dbl = 0; dbl <= 1; dbl++)
    for (li = 0; li < nl; li++) {
      const ntk__gemm_kernel *kr = ntk__gemm_pick(dbl ? 8 : 4, levels[li] < 0 ? NTK_SIMD_SCALAR : levels[li]);
      size_t ns[] = {1, 2, kr->mr + 1, kr->nr + 1, kr->nb + 3, 2 * kr->nb + 5};
      size_t i;
      for (tri = 1; tri <= 2; tri++)
        for (t = 0; t <= 1; t++)
          {
            for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
              t_gemm_case(dbl, levels[li], tri, t, !t, ns[i], ns[i], kr->kc + 3, 1, 0, 2);
              t_gemm_case(dbl, levels[li], tri, t, !t, ns[i], ns[i], 7, -0.5, 1.25, 0);
            }
            /* more rows than one A block (MB): the triangle logic per row block (the driver is
               shared, so the small-MB scalar table covers it) */
            if (levels[li] <= NTK_SIMD_SCALAR) t_gemm_case(dbl, levels[li], tri, t, !t, kr->mb + 5, kr->mb + 5, 3, 1, 0, 0);
          }
    }
  /* the public entry points route to the same driver: one check of each against gemm */
  {
    double A[5 * 3], C[5 * 5], G[5 * 5];
    float As[5 * 3], Cs[5 * 5], Gs[5 * 5];
    size_t i, j;
    int ok = 1;
    for (i = 0; i < 15; i++) As[i] = (float)(A[i] = t_uniform());
    for (i = 0; i < 25; i++) C[i] = Cs[i] = -7;
    T_STATUS(ntk_dsyrk(NTK_UPPER, NTK_NO_TRANS, 5, 3, 2.0, A, 3, 0.0, C, 5), NTK_OK);
    T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, 5, 5, 3, 2.0, A, 3, A, 3, 0.0, G, 5), NTK_OK);
    T_STATUS(ntk_ssyrk(NTK_LOWER, NTK_TRANS, 5, 3, 2.0f, As, 5, 0.0f, Cs, 5), NTK_OK);
    T_STATUS(ntk_sgemm(NTK_TRANS, NTK_NO_TRANS, 5, 5, 3, 2.0f, As, 5, As, 5, 0.0f, Gs, 5), NTK_OK);
    for (i = 0; i < 5; i++)
      for (j = 0; j < 5; j++) {
        if (j >= i && fabs(C[i * 5 + j] - G[i * 5 + j]) > 1e-14) ok = 0;
        if (j < i && C[i * 5 + j] != -7) ok = 0;
        if (j <= i && fabs(Cs[i * 5 + j] - Gs[i * 5 + j]) > 1e-5) ok = 0;
        if (j > i && Cs[i * 5 + j] != -7) ok = 0;
      }
    T_CHECK(ok, "ntk_dsyrk upper / ntk_ssyrk lower-transposed agree with gemm, other triangle untouched");
  }
}

static void test_gemm_public(void) {
  double A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, -1, 2, 0.5, 1}, C[4], R[4];
  double big[4] = {0, 0, 0, 0};
  size_t huge = ((size_t)-1) / 2;
  t_section("gemm: public entry points and invalid arguments");
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 3, B, 2, 0.0, C, 2), NTK_OK);
  T_STATUS(ntk_dgemm_ref(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 3, B, 2, 0.0, R, 2), NTK_OK);
  /* by hand: [1 2 3; 4 5 6]·[1 0; -1 2; .5 1] = [0.5 7; 2 16] */
  T_CHECK(C[0] == 0.5 && C[1] == 7 && C[2] == 2 && C[3] == 16 && memcmp(C, R, sizeof C) == 0,
          "2x3·3x2 by hand: got %g %g %g %g", C[0], C[1], C[2], C[3]);
  C[0] = 42;
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, NULL, 3, B, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 2, B, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 3, B, 1, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 3, B, 2, 0.0, C, 1), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm(NTK_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 1, B, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm((ntk_trans)7, NTK_NO_TRANS, 2, 2, 3, 1.0, A, 3, B, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, huge, 2, 3, 1.0, A, huge, B, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_sgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1.0f, NULL, 3, NULL, 2, 0.0f, NULL, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dsyrk(NTK_LOWER, NTK_NO_TRANS, 2, 3, 1.0, A, 2, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_dsyrk((ntk_uplo)3, NTK_NO_TRANS, 2, 3, 1.0, A, 3, 0.0, C, 2), NTK_ERR_INVALID_ARG);
  T_CHECK(C[0] == 42, "invalid calls left C untouched (C[0] = %g)", C[0]);
  /* zero sizes: nothing to do, NULL allowed */
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 0, 0, 0, 1.0, NULL, 0, NULL, 0, 0.0, NULL, 0), NTK_OK);
  /* k = 0: C = beta·C without reading A, B */
  big[0] = 3;
  T_STATUS(ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 0, 1.0, NULL, 0, NULL, 2, 2.0, big, 2), NTK_OK);
  T_CHECK(big[0] == 6 && big[1] == 0, "k = 0 scales C by beta (got %g)", big[0]);
  T_CHECK(strcmp(ntk_simd_name(), "avx512") == 0 || strcmp(ntk_simd_name(), "avx2") == 0 ||
              strcmp(ntk_simd_name(), "neon") == 0 || strcmp(ntk_simd_name(), "scalar") == 0,
          "ntk_simd_name() = %s", ntk_simd_name());
  printf("  kernel set in use: %s\n", ntk_simd_name());
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(NTK_SIMD)
  T_CHECK(strcmp(ntk_simd_name(), "neon") == 0, "aarch64 with NEON uses the neon kernels (got %s)", ntk_simd_name());
#endif
#if defined(NTK__BUILD_X86) && !defined(NTK_SIMD)
  T_CHECK(strcmp(ntk_simd_name(), ntk__cpu_level() == NTK_SIMD_AVX512 ? "avx512" : ntk__cpu_level() == NTK_SIMD_AVX2 ? "avx2" : "scalar") == 0,
          "x86-64 dispatch picks the best kernel set the CPU has (%s)", ntk_simd_name());
#endif
  T_CHECK(strcmp(ntk_status_string(NTK_ERR_NOT_POSITIVE_DEFINITE),
                 ntk_status_string(NTK_ERR_INVALID_ARG)) != 0 &&
              strcmp(ntk_status_string(NTK_OK), "ok") == 0 &&
              strcmp(ntk_status_string((ntk_status)-999), "unknown status") == 0,
          "status strings are distinct");
  T_CHECK(strcmp(ntk_version(), NTK_VERSION_STRING) == 0, "version %s", ntk_version());
}
