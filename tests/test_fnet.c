/* Finite networks of spatial and branched layer lists (issue 17): Jacobians against central
   differences of ntk_net_apply for every kind, the empirical kernels against J·Jᵀ written out
   here, exact identities (a whole-input VALID conv = Flatten + Dense, 1×1 images = the MLP),
   one GD step and the linearised model against their formulas, chunking bit for bit, and the
   analytic CNTK (ntk_kernel) against the Monte Carlo average of wide finite networks. */

static double tf_cube(double x, void *u) { (void)u; return x * x * x / 3 + x; }
static double tf_dcube(double x, void *u) { (void)u; return x * x + 1; }

static ntk_layer tf_conv(size_t c, size_t fh, size_t fw, size_t sh, size_t sw, ntk_padding p, int standard,
                         double bstd) {
  ntk_layer l = standard ? ntk_conv_standard(c, fh, fw, sh, sw, p, 1.3, bstd) : ntk_conv(c, fh, fw, sh, sw, p, 1.3, bstd);
  return l;
}

/* random inputs (n, dim) */
static void tf_fill(double *x, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) x[i] = t_normal();
}

/* ∂f/∂θ by central differences of ntk_net_apply, against ntk_net_jacobian */
static void tf_fd(const char *name, const ntk_layer *l, size_t nl, size_t dim, size_t n) {
  ntk_net net;
  double *x, *J, *Jfd, *fp, *fm, h = 1e-5, r;
  size_t P, k, p, i;
  ntk_status st = ntk_net_init(&net, l, nl, dim, 11);
  T_STATUS(st, NTK_OK);
  if (st != NTK_OK) return;
  P = net.n_params, k = net.outputs;
  x = (double *)malloc(n * dim * sizeof(double));
  J = (double *)malloc(n * k * P * sizeof(double));
  Jfd = (double *)malloc(n * k * P * sizeof(double));
  fp = (double *)malloc(2 * n * k * sizeof(double));
  fm = fp + n * k;
  tf_fill(x, n * dim);
  T_STATUS(ntk_net_jacobian(&net, x, n, J), NTK_OK);
  for (p = 0; p < P; p++) {
    double v = net.params[p];
    net.params[p] = v + h;
    (void)ntk_net_apply(&net, x, n, fp);
    net.params[p] = v - h;
    (void)ntk_net_apply(&net, x, n, fm);
    net.params[p] = v;
    for (i = 0; i < n * k; i++) Jfd[i * P + p] = (fp[i] - fm[i]) / (2 * h);
  }
  r = t_err_ratio_d(J, Jfd, n * k * P, 1e-7, 1e-6);
  T_CHECK(r <= 1, "%s: Jacobian (%zu x %zu x %zu) vs central differences: error ratio %.3g", name, n, k, P, r);
  free(x), free(J), free(Jfd), free(fp);
  ntk_net_free(&net);
}

static void test_fnet_jacobian(void) {
  ntk_layer l[24];
  size_t q, nl;
  int sp;
  t_section("fnet_jacobian");
  for (sp = 0; sp < 2; sp++) { /* both parameterisations */
    /* conv 3x2 VALID, flatten, dense */
    l[0] = ntk_input(5, 7, 2), l[1] = tf_conv(3, 3, 2, 1, 1, NTK_PAD_VALID, sp, 0.4), l[2] = ntk_relu();
    l[3] = ntk_flatten(), l[4] = sp ? ntk_dense_standard(2, 0.9, 0.3) : ntk_dense(2, 0.9, 0.3);
    tf_fd(sp ? "standard: conv 3x2 valid, flatten, dense" : "ntk: conv 3x2 valid, flatten, dense", l, 5, 70, 2);
    /* stride 2 SAME, erf, GAP */
    l[1] = tf_conv(3, 3, 2, 2, 2, NTK_PAD_SAME, sp, 0.2), l[2] = ntk_erf(), l[3] = ntk_global_avg_pool();
    tf_fd("conv 3x2 stride 2 same, erf, gap, dense", l, 5, 70, 2);
    /* CIRCULAR stride (2, 1), tanh, AvgPool SAME normalize_edges, flatten */
    l[1] = tf_conv(2, 3, 3, 2, 1, NTK_PAD_CIRCULAR, sp, 0), l[2] = ntk_tanh();
    l[3] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_SAME, 1), l[4] = ntk_flatten(), l[5] = ntk_dense(2, 1, 0.1);
    tf_fd("conv circular stride (2,1), tanh, avgpool same edges, flatten, dense", l, 6, 70, 2);
    /* SumPool VALID 3x2 then an activation (pools keep Gaussianity), GSP */
    l[1] = tf_conv(3, 2, 2, 1, 1, NTK_PAD_SAME, sp, 0.5), l[2] = ntk_sum_pool(3, 2, 1, 1, NTK_PAD_VALID);
    l[3] = ntk_gelu(), l[4] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_CIRCULAR, 0), l[5] = ntk_global_sum_pool();
    l[6] = ntk_dense(2, 1, 0);
    tf_fd("conv same, sumpool 3x2 valid, gelu, avgpool circular, gsp, dense", l, 7, 70, 2);
    /* residual block: FANOUT(2) relu conv | identity, FANIN_SUM, then an activation */
    l[1] = tf_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, sp, 0.1), l[2] = ntk_fanout(2), l[3] = ntk_relu();
    l[4] = tf_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, sp, 0), l[5] = ntk_branch(), l[6] = ntk_fanin_sum();
    l[7] = ntk_leaky_relu(0.2), l[8] = ntk_global_avg_pool(), l[9] = ntk_dense(2, 1, 0.2);
    tf_fd("residual: conv, fanout(relu conv | id), fanin_sum, leaky relu, gap, dense", l, 10, 70, 2);
    /* concatenation with a per-position Dense, 3 branches, one empty */
    l[1] = tf_conv(2, 1, 1, 1, 1, NTK_PAD_VALID, sp, 0), l[2] = ntk_fanout(3), l[3] = ntk_relu();
    l[4] = tf_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, sp, 0.3), l[5] = ntk_branch(), l[6] = ntk_branch();
    l[7] = tf_conv(1, 1, 1, 1, 1, NTK_PAD_VALID, sp, 0), l[8] = ntk_fanin_concat();
    l[9] = sp ? ntk_dense_standard(4, 1.1, 0.2) : ntk_dense(4, 1.1, 0.2), l[10] = ntk_sin();
    l[11] = ntk_flatten(), l[12] = ntk_dense(2, 1, 0);
    tf_fd("concat of (relu conv | id | conv), per-position dense, sin, flatten, dense", l, 13, 70, 2);
    /* LayerNorm over c, hwc, hc, wc */
    l[1] = tf_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, sp, 0.2), l[2] = ntk_layer_norm(0, 0), l[3] = ntk_relu();
    l[4] = tf_conv(3, 2, 3, 1, 1, NTK_PAD_SAME, sp, 0), l[5] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 1e-3);
    l[6] = ntk_exp(0.5, 0.3), l[7] = tf_conv(2, 1, 1, 1, 1, NTK_PAD_VALID, sp, 0);
    l[8] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_C, 0), l[9] = ntk_softplus(), l[10] = tf_conv(2, 1, 1, 1, 1, NTK_PAD_VALID, sp, 0);
    l[11] = ntk_layer_norm(NTK_AXIS_W | NTK_AXIS_C, 0), l[12] = ntk_global_avg_pool(), l[13] = ntk_dense(2, 1, 0);
    tf_fd("layernorm over c, hwc, hc, wc between convs", l, 14, 70, 2);
    /* 1-D input, stride 2 SAME, every remaining activation */
    l[0] = ntk_input(1, 9, 2), l[1] = tf_conv(3, 3, 0, 2, 0, NTK_PAD_SAME, sp, 0.3), l[2] = ntk_abs();
    nl = 3;
    {
      ntk_layer acts[6];
      acts[0] = ntk_erf_scaled(1.2, 0.7, 0.1), acts[1] = ntk_sin_scaled(0.8, 1.3, 0.2), acts[2] = ntk_rbf(0.6);
      acts[3] = ntk_custom(tf_cube, tf_dcube, NULL), acts[4] = ntk_abrelu(-0.3, 1.2), acts[5] = ntk_cos();
      for (q = 0; q < 6; q++) {
        l[nl++] = tf_conv(3, 2, 0, 1, 0, q % 2 ? NTK_PAD_VALID : NTK_PAD_CIRCULAR, sp, 0.1);
        l[nl++] = acts[q];
      }
    }
    l[nl++] = ntk_sum_pool(2, 0, 2, 0, NTK_PAD_SAME), l[nl++] = ntk_flatten(), l[nl++] = ntk_dense(2, 1, 0);
    tf_fd("1-D: conv stride 2, abs, erf, sin, rbf, custom, abrelu, cos, sumpool, flatten", l, nl, 18, 2);
    /* bias modes: NONE (b_std ignored) and ALWAYS at b_std = 0 */
    l[0] = ntk_input(3, 4, 2), l[1] = tf_conv(2, 2, 2, 1, 1, NTK_PAD_SAME, sp, 0.7), l[1].bias = NTK_BIAS_NONE;
    l[2] = ntk_relu(), l[3] = tf_conv(2, 2, 2, 1, 1, NTK_PAD_VALID, sp, 0), l[3].bias = NTK_BIAS_ALWAYS;
    l[4] = ntk_identity(), l[5] = ntk_flatten(), l[6] = ntk_dense(3, 1, 0), l[6].bias = NTK_BIAS_ALWAYS;
    tf_fd("bias none / always (b_std 0), identity, 3 outputs", l, 7, 24, 3);
  }
}

/* the traced and full empirical kernels against J·Jᵀ written out from ntk_net_jacobian, and
   the NNGP against f·fᵀ from ntk_net_apply */
static void tf_entk(const char *name, const ntk_layer *l, size_t nl, size_t dim, size_t n1, size_t n2) {
  ntk_net net;
  double *x1, *x2, *J1, *J2, *f1, *f2, *K, *Ref, *Kn, *Rn, r, rn;
  size_t P, k, i, j, a, b, p, full, sym, nm;
  if (ntk_net_init(&net, l, nl, dim, 5) != NTK_OK) { T_CHECK(0, "%s: init", name); return; }
  P = net.n_params, k = net.outputs;
  x1 = (double *)malloc((n1 + n2) * dim * sizeof(double)), x2 = x1 + n1 * dim;
  J1 = (double *)malloc((n1 + n2) * k * P * sizeof(double)), J2 = J1 + n1 * k * P;
  f1 = (double *)malloc((n1 + n2) * k * sizeof(double)), f2 = f1 + n1 * k;
  nm = n1 > n2 ? n1 : n2;
  K = (double *)malloc(4 * n1 * nm * k * k * sizeof(double));
  Ref = K + n1 * nm * k * k, Kn = Ref + n1 * nm * k * k, Rn = Kn + n1 * nm * k * k;
  tf_fill(x1, (n1 + n2) * dim);
  T_STATUS(ntk_net_jacobian(&net, x1, n1, J1), NTK_OK);
  T_STATUS(ntk_net_jacobian(&net, x2, n2, J2), NTK_OK);
  T_STATUS(ntk_net_apply(&net, x1, n1, f1), NTK_OK);
  T_STATUS(ntk_net_apply(&net, x2, n2, f2), NTK_OK);
  for (sym = 0; sym < 2; sym++)
    for (full = 0; full < 2; full++) {
      size_t m2 = sym ? n1 : n2, R1 = full ? n1 * k : n1, R2 = full ? m2 * k : m2;
      const double *Jb = sym ? J1 : J2, *fb = sym ? f1 : f2;
      for (i = 0; i < n1; i++)
        for (j = 0; j < m2; j++)
          for (a = 0; a < k; a++)
            for (b = 0; b < k; b++) {
              double s = 0;
              if (!full && a != b) continue;
              for (p = 0; p < P; p++) s += J1[(i * k + a) * P + p] * Jb[(j * k + b) * P + p];
              if (full) Ref[(i * k + a) * R2 + j * k + b] = s, Rn[(i * k + a) * R2 + j * k + b] = f1[i * k + a] * fb[j * k + b];
              else {
                if (a == 0) Ref[i * R2 + j] = 0, Rn[i * R2 + j] = 0;
                Ref[i * R2 + j] += s / (double)k, Rn[i * R2 + j] += f1[i * k + a] * fb[j * k + a] / (double)k;
              }
            }
      T_STATUS(ntk_net_empirical_kernel(&net, x1, n1, sym ? NULL : x2, n2, (int)full, Kn, K), NTK_OK);
      r = t_err_ratio_d(K, Ref, R1 * R2, 1e-13, 1e-12);
      rn = t_err_ratio_d(Kn, Rn, R1 * R2, 1e-13, 1e-12);
      T_CHECK(r <= 1 && rn <= 1, "%s: eNTK %s %s (%zu x %zu) vs J·Jᵀ: ratio %.3g, NNGP vs f·fᵀ: %.3g", name,
              full ? "full" : "traced", sym ? "x2 = NULL" : "x2", R1, R2, r, rn);
      if (sym) {
        int s_ok = 1;
        for (i = 0; i < R1; i++)
          for (j = 0; j < R1; j++) s_ok &= K[i * R1 + j] == K[j * R1 + i];
        T_CHECK(s_ok, "%s: x2 = NULL kernel exactly symmetric (%s)", name, full ? "full" : "traced");
      }
    }
  free(x1), free(J1), free(f1), free(K);
  ntk_net_free(&net);
}

static void test_fnet_entk(void) {
  ntk_layer l[12];
  t_section("fnet_entk");
  l[0] = ntk_input(5, 7, 2), l[1] = ntk_conv(3, 3, 2, 2, 1, NTK_PAD_SAME, 1.2, 0.2), l[2] = ntk_fanout(2);
  l[3] = ntk_relu(), l[4] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[5] = ntk_branch(), l[6] = ntk_fanin_sum();
  l[7] = ntk_layer_norm(0, 0), l[8] = ntk_erf(), l[9] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[10] = ntk_flatten(), l[11] = ntk_dense(3, 1, 0.1);
  tf_entk("residual CNN with LayerNorm and a pool, 3 outputs", l, 12, 70, 3, 2);
  l[1] = ntk_conv_standard(2, 2, 2, 1, 1, NTK_PAD_CIRCULAR, 1, 0.5), l[2] = ntk_relu(), l[3] = ntk_global_avg_pool();
  l[4] = ntk_dense(2, 1, 0);
  tf_entk("standard conv circular, gap, 2 outputs", l, 5, 70, 4, 3);
  /* the conditional NNGP of a Dense readout on a vector: σ_w²/n·h·h′ + σ_b² from the GAP output */
  {
    ntk_net net;
    double x[3 * 70], K[9], f[3 * 2], h[3 * 2];
    size_t i, j, c;
    ntk_entk_desc d;
    ntk_layer m[4];
    int ok = 1;
    tf_fill(x, 3 * 70);
    d.method = NTK_ENTK_STRUCTURED, d.nngp_conditional = 1;
    T_STATUS(ntk_net_init(&net, l, 5, 70, 3), NTK_OK);
    T_STATUS(ntk_net_empirical_kernel_ex(&net, x, 3, NULL, 0, 0, K, NULL, &d), NTK_OK);
    /* h: the GAP output, from the net without its readout (same parameters for its layers) */
    {
      ntk_net n2;
      memcpy(m, l, 4 * sizeof m[0]);
      T_STATUS(ntk_net_init(&n2, m, 4, 70, 3), NTK_OK);
      memcpy(n2.params, net.params, n2.n_params * sizeof(double));
      T_STATUS(ntk_net_apply(&n2, x, 3, h), NTK_OK);
      ntk_net_free(&n2);
    }
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) {
        double s = 0;
        for (c = 0; c < 2; c++) s += h[i * 2 + c] * h[j * 2 + c];
        ok &= fabs(K[i * 3 + j] - s / 2) <= 1e-14 + 1e-13 * fabs(s);
      }
    T_CHECK(ok, "conditional NNGP = σ_w²/n·h·h′ of the readout's input");
    (void)f;
    ntk_net_free(&net); /* a readout that is not Dense (the GAP): the conditional NNGP is refused */
    T_STATUS(ntk_net_init(&net, l, 4, 70, 3), NTK_OK);
    T_STATUS(ntk_net_empirical_kernel_ex(&net, x, 3, NULL, 0, 0, K, NULL, &d), NTK_ERR_UNSUPPORTED);
    ntk_net_free(&net);
  }
}

static int tf_same(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof(double)) == 0; }

/* two nets on the same inputs: parameters, outputs, Jacobian, eNTK, one training step */
static void tf_pair(const char *name, const ntk_layer *la, size_t na, const ntk_layer *lb, size_t nb, size_t dim,
                    size_t n, int bitwise) {
  ntk_net A, B;
  double *x, *y, *fa, *fb, *Ja, *Jb, Ka[36], Kb[36], r;
  size_t P, k;
  int ok;
  if (ntk_net_init(&A, la, na, dim, 9) != NTK_OK || ntk_net_init(&B, lb, nb, dim, 9) != NTK_OK) {
    T_CHECK(0, "%s: init", name);
    return;
  }
  P = A.n_params, k = A.outputs;
  T_CHECK(P == B.n_params && k == B.outputs && tf_same(A.params, B.params, P), "%s: same parameters (%zu), bit for bit", name, P);
  x = (double *)malloc(n * dim * sizeof(double)), y = (double *)malloc(n * k * sizeof(double));
  fa = (double *)malloc(2 * n * k * sizeof(double)), fb = fa + n * k;
  Ja = (double *)malloc(2 * n * k * P * sizeof(double)), Jb = Ja + n * k * P;
  tf_fill(x, n * dim), tf_fill(y, n * k);
  T_STATUS(ntk_net_apply(&A, x, n, fa), NTK_OK);
  T_STATUS(ntk_net_apply(&B, x, n, fb), NTK_OK);
  T_STATUS(ntk_net_jacobian(&A, x, n, Ja), NTK_OK);
  T_STATUS(ntk_net_jacobian(&B, x, n, Jb), NTK_OK);
  T_STATUS(ntk_net_empirical_kernel(&A, x, n, NULL, 0, 0, NULL, Ka), NTK_OK);
  T_STATUS(ntk_net_empirical_kernel(&B, x, n, NULL, 0, 0, NULL, Kb), NTK_OK);
  T_STATUS(ntk_net_train(&A, x, y, n, 0.3, 2), NTK_OK);
  T_STATUS(ntk_net_train(&B, x, y, n, 0.3, 2), NTK_OK);
  if (bitwise) {
    ok = tf_same(fa, fb, n * k) && tf_same(Ja, Jb, n * k * P) && tf_same(Ka, Kb, n * n) && tf_same(A.params, B.params, P);
    T_CHECK(ok, "%s: outputs, Jacobian, eNTK, parameters after 2 GD steps bit for bit", name);
  } else {
    r = t_err_ratio_d(fa, fb, n * k, 1e-14, 1e-13);
    r = fmax(r, t_err_ratio_d(Ja, Jb, n * k * P, 1e-14, 1e-13));
    r = fmax(r, t_err_ratio_d(Ka, Kb, n * n, 1e-14, 1e-13));
    r = fmax(r, t_err_ratio_d(A.params, B.params, P, 1e-14, 1e-13));
    T_CHECK(r <= 1, "%s: outputs, Jacobian, eNTK, parameters after 2 GD steps within 1e-13: ratio %.3g", name, r);
  }
  free(x), free(y), free(fa), free(Ja);
  ntk_net_free(&A), ntk_net_free(&B);
}

static void test_fnet_identities(void) {
  ntk_layer a[8], b[8];
  t_section("fnet_identities");
  /* a conv whose filter covers the whole VALID input = Flatten + Dense */
  a[0] = ntk_input(3, 4, 2), a[1] = ntk_conv(5, 3, 4, 1, 1, NTK_PAD_VALID, 1.4, 0.3), a[2] = ntk_relu(), a[3] = ntk_dense(2, 1, 0.1);
  b[0] = ntk_input(3, 4, 2), b[1] = ntk_flatten(), b[2] = ntk_dense(5, 1.4, 0.3), b[3] = ntk_relu(), b[4] = ntk_dense(2, 1, 0.1);
  tf_pair("conv 3x4 VALID on 3x4x2 = flatten + dense", a, 4, b, 5, 24, 4, 1);
  a[1] = ntk_conv_standard(5, 3, 4, 1, 1, NTK_PAD_VALID, 1.4, 0.3), b[2] = ntk_dense_standard(5, 1.4, 0.3);
  tf_pair("standard: conv 3x4 VALID = flatten + dense", a, 4, b, 5, 24, 4, 1);
  /* 1×1 images: the spatial engine on INPUT(1, 1, D) + an MLP = the MLP code */
  b[0] = ntk_dense(6, 1.2, 0.2), b[1] = ntk_erf(), b[2] = ntk_dense_standard(5, 0.8, 0.1), b[3] = ntk_relu();
  b[4] = ntk_dense(3, 1, 0);
  a[0] = ntk_input(1, 1, 4);
  memcpy(a + 1, b, 5 * sizeof b[0]);
  tf_pair("INPUT(1,1,4) + MLP = the MLP", a, 6, b, 5, 4, 5, 0);
  /* a 3x3 SAME conv on a 1x1 image is a Dense with σ_w/3 (zero-padding taps count in the fan-in) */
  {
    ntk_net A, B;
    double x[12], fa[6], fb[6];
    size_t i;
    a[1] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.5, 0), a[2] = ntk_relu(), a[3] = ntk_dense(2, 1, 0);
    b[0] = ntk_dense(3, 0.5, 0), b[1] = ntk_relu(), b[2] = ntk_dense(2, 1, 0);
    tf_fill(x, 12);
    T_STATUS(ntk_net_init(&A, a, 4, 4, 2), NTK_OK);
    T_STATUS(ntk_net_init(&B, b, 3, 4, 2), NTK_OK);
    for (i = 0; i < 3; i++) memcpy(B.params + i * 4, A.params + i * 36 + 4 * 4, 4 * sizeof(double)); /* centre taps */
    memcpy(B.params + 12, A.params + 108, 6 * sizeof(double));
    T_STATUS(ntk_net_apply(&A, x, 3, fa), NTK_OK);
    T_STATUS(ntk_net_apply(&B, x, 3, fb), NTK_OK);
    T_CHECK(t_err_ratio_d(fa, fb, 6, 1e-15, 1e-14) <= 1, "3x3 SAME conv on 1x1 = Dense(σ_w/3) with the centre taps");
    ntk_net_free(&A), ntk_net_free(&B);
  }
}

/* one GD step = θ − lr·Jᵀ(f − y)/N, the linearised model = f + J·Δθ, chunking bit for bit */
static void test_fnet_train(void) {
  ntk_layer l[11];
  ntk_net net, n2;
  double x[4 * 70], y[4 * 2], f[8], J[8 * 400], th[400], fl[8], ref[8], loss, r;
  size_t P, i, j, n = 4, k;
  t_section("fnet_train");
  l[0] = ntk_input(5, 7, 2), l[1] = ntk_conv(3, 3, 2, 1, 2, NTK_PAD_SAME, 1.2, 0.3), l[2] = ntk_fanout(2);
  l[3] = ntk_relu(), l[4] = ntk_conv_standard(3, 3, 3, 1, 1, NTK_PAD_CIRCULAR, 1, 0.1), l[5] = ntk_branch();
  l[6] = ntk_fanin_concat(), l[7] = ntk_conv(2, 1, 1, 1, 1, NTK_PAD_VALID, 1, 0);
  l[8] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 0), l[9] = ntk_global_avg_pool(), l[10] = ntk_dense(2, 1, 0.2);
  T_STATUS(ntk_net_init(&net, l, 11, 70, 4), NTK_OK);
  T_STATUS(ntk_net_init(&n2, l, 11, 70, 4), NTK_OK);
  P = net.n_params, k = net.outputs;
  T_CHECK(P <= 400 && k == 2, "test sizes (P = %zu)", P);
  tf_fill(x, n * 70), tf_fill(y, n * k);
  T_STATUS(ntk_net_apply(&net, x, n, f), NTK_OK);
  T_STATUS(ntk_net_jacobian(&net, x, n, J), NTK_OK);
  T_STATUS(ntk_net_train(&net, x, y, n, 0.7, 1), NTK_OK);
  for (j = 0; j < P; j++) {
    double g = 0;
    for (i = 0; i < n * k; i++) g += J[i * P + j] * (f[i] - y[i]);
    th[j] = n2.params[j] - 0.7 * g / (double)(n * k);
  }
  r = t_err_ratio_d(net.params, th, P, 1e-15, 1e-13);
  T_CHECK(r <= 1, "one GD step = θ − lr·Jᵀ(f − y)/N: ratio %.3g", r);
  T_STATUS(ntk_net_loss(&n2, x, y, n, &loss), NTK_OK);
  {
    double s = 0;
    for (i = 0; i < n * k; i++) s += (f[i] - y[i]) * (f[i] - y[i]);
    T_CHECK(fabs(loss - 0.5 * s / (double)(n * k)) <= 1e-15 * s, "loss = ½·mean (f − y)²");
  }
  /* linearised model at θ = θ0 + Δ */
  for (j = 0; j < P; j++) th[j] = n2.params[j] + 0.01 * t_normal();
  T_STATUS(ntk_net_apply_linearized(&n2, th, x, n, fl), NTK_OK);
  for (i = 0; i < n * k; i++) {
    ref[i] = f[i];
    for (j = 0; j < P; j++) ref[i] += J[i * P + j] * (th[j] - n2.params[j]);
  }
  r = t_err_ratio_d(fl, ref, n * k, 1e-15, 1e-12);
  T_CHECK(r <= 1, "linearised model = f + J·Δθ: ratio %.3g", r);
  ntk_net_free(&net), ntk_net_free(&n2);
  /* chunks of 1, 2, 3 examples against one chunk (the tile of a 32x33 conv is one example) */
  {
    ntk_layer c[7];
    ntk_net A, B;
    double *xx = (double *)malloc(5 * 1056 * sizeof(double)), yy[10], fa[10], fb[10], Ka[25], Kb[25], Kfa[100], Kfb[100];
    double *Ja = (double *)malloc(2 * 10 * 200 * sizeof(double)), *Jb = Ja + 2000, th2[200], la, lb;
    size_t ch, Pc;
    int ok;
    c[0] = ntk_input(32, 33, 1), c[1] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0.2), c[2] = ntk_relu();
    c[3] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_SAME, 1), c[4] = ntk_conv(2, 2, 2, 1, 1, NTK_PAD_VALID, 1, 0), c[5] = ntk_global_avg_pool();
    c[6] = ntk_dense(2, 1, 0.1);
    tf_fill(xx, 5 * 1056), tf_fill(yy, 10);
    T_STATUS(ntk_net_init(&A, c, 7, 1056, 8), NTK_OK);
    Pc = A.n_params;
    for (j = 0; j < Pc; j++) th2[j] = A.params[j] + 0.01 * t_normal();
    (void)ntk_net_apply(&A, xx, 5, fa), (void)ntk_net_jacobian(&A, xx, 5, Ja);
    (void)ntk_net_empirical_kernel(&A, xx, 5, NULL, 0, 0, NULL, Ka), (void)ntk_net_empirical_kernel(&A, xx, 3, xx, 5, 1, NULL, Kfa);
    (void)ntk_net_loss(&A, xx, yy, 5, &la);
    for (ch = 1; ch <= 3; ch++) {
      T_STATUS(ntk_net_init(&B, c, 7, 1056, 8), NTK_OK);
      B.chunk = ch;
      ok = ntk_net_apply(&B, xx, 5, fb) == NTK_OK && tf_same(fa, fb, 10);
      ok &= ntk_net_jacobian(&B, xx, 5, Jb) == NTK_OK && tf_same(Ja, Jb, 10 * Pc);
      ok &= ntk_net_empirical_kernel(&B, xx, 5, NULL, 0, 0, NULL, Kb) == NTK_OK && tf_same(Ka, Kb, 25);
      ok &= ntk_net_empirical_kernel(&B, xx, 3, xx, 5, 1, NULL, Kfb) == NTK_OK && tf_same(Kfa, Kfb, 60);
      ok &= ntk_net_loss(&B, xx, yy, 5, &lb) == NTK_OK && la == lb;
      ok &= ntk_net_apply_linearized(&A, th2, xx, 5, fa) == NTK_OK && ntk_net_apply_linearized(&B, th2, xx, 5, fb) == NTK_OK &&
            tf_same(fa, fb, 10);
      A.chunk = 0;
      ok &= ntk_net_train(&B, xx, yy, 5, 0.5, 2) == NTK_OK;
      {
        ntk_net C;
        T_STATUS(ntk_net_init(&C, c, 7, 1056, 8), NTK_OK);
        ok &= ntk_net_train(&C, xx, yy, 5, 0.5, 2) == NTK_OK && tf_same(B.params, C.params, Pc);
        ntk_net_free(&C);
      }
      T_CHECK(ok, "chunks of %zu examples: apply, Jacobian, eNTK (traced, full), loss, linearised, 2 GD steps bit for bit with one chunk", ch);
      (void)ntk_net_apply(&A, xx, 5, fa);
      ntk_net_free(&B);
    }
    free(xx), free(Ja);
    ntk_net_free(&A);
  }
}

/* the infinite-width kernel against the average empirical kernel of wide networks: the error
   should fall like 1/√width (4× the width: about half the error) */
static double tf_mc_err(const ntk_layer *l, size_t nl, const double *x, size_t n, size_t dim, size_t samples,
                        const double *Kinf, int nngp) {
  double K[16], num = 0, den = 0;
  size_t i;
  ntk_status st = nngp ? ntk_monte_carlo_kernel(l, nl, x, n, NULL, 0, dim, 100, samples, K, NULL)
                       : ntk_monte_carlo_kernel(l, nl, x, n, NULL, 0, dim, 100, samples, NULL, K);
  if (st != NTK_OK) return 1e300;
  for (i = 0; i < n * n; i++) num += (K[i] - Kinf[i]) * (K[i] - Kinf[i]), den += Kinf[i] * Kinf[i];
  return sqrt(num / den);
}

static void test_fnet_monte_carlo(void) {
  ntk_layer l[3][12];
  size_t nls[3], q, w, n = 3, dim = 4 * 4 * 2;
  const char *names[3] = {"CNN with avgpool and GAP", "residual CNN", "CNN with LayerNorm, flatten"};
  double x[3 * 32], Kn[9], Kt[9], tot[4] = {0, 0, 0, 0};
  t_section("fnet_monte_carlo");
  tf_fill(x, n * dim);
  for (w = 0; w < 2; w++) {
    size_t W = w ? 256 : 16;
    ntk_layer *a = l[0], *b = l[1], *c = l[2];
    a[0] = ntk_input(4, 4, 2), a[1] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_SAME, 1.5, 0.2), a[2] = ntk_relu();
    a[3] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0), a[4] = ntk_conv(W, 2, 2, 1, 1, NTK_PAD_SAME, 1.5, 0), a[5] = ntk_relu();
    a[6] = ntk_global_avg_pool(), a[7] = ntk_dense(1, 1, 0.1);
    nls[0] = 8;
    b[0] = ntk_input(4, 4, 2), b[1] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0), b[2] = ntk_fanout(2);
    b[3] = ntk_relu(), b[4] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0), b[5] = ntk_branch(), b[6] = ntk_fanin_sum();
    b[7] = ntk_relu(), b[8] = ntk_global_avg_pool(), b[9] = ntk_dense(1, 1, 0);
    nls[1] = 10;
    c[0] = ntk_input(4, 4, 2), c[1] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_CIRCULAR, 1.2, 0.1), c[2] = ntk_layer_norm(0, 0);
    c[3] = ntk_erf(), c[4] = ntk_conv(W, 2, 2, 2, 2, NTK_PAD_VALID, 1, 0), c[5] = ntk_relu(), c[6] = ntk_flatten();
    c[7] = ntk_dense(1, 1, 0);
    nls[2] = 8;
    (void)nls;
    if (w == 0) continue;
    for (q = 0; q < 3; q++) {
      double e[2][2];
      size_t ww;
      T_STATUS(ntk_kernel(l[q], nls[q], x, n, NULL, 0, dim, Kn, Kt), NTK_OK);
      for (ww = 0; ww < 2; ww++) {
        size_t i, Wd = ww ? 256 : 16;
        for (i = 0; i < nls[q]; i++)
          if (l[q][i].kind == NTK_LAYER_CONV) l[q][i].width = Wd;
        e[ww][1] = tf_mc_err(l[q], nls[q], x, n, dim, 8, Kt, 0);
        /* the NNGP f·fᵀ does not concentrate with width (f is Gaussian at any width): its
           error falls with the number of samples, 1/√samples */
        if (!ww) e[0][0] = tf_mc_err(l[q], nls[q], x, n, dim, 8, Kn, 1), e[1][0] = tf_mc_err(l[q], nls[q], x, n, dim, 128, Kn, 1);
      }
      printf("  %s: MC NTK (8 samples) width 16 -> 256: error %.4f -> %.4f; MC NNGP (width 16) 8 -> 128 samples: %.4f -> %.4f\n",
             names[q], e[0][1], e[1][1], e[0][0], e[1][0]);
      T_CHECK(e[1][1] < 0.05 && e[1][0] < 0.3, "%s: MC at width 256 within 5%% (NTK), 128 samples within 30%% (NNGP)", names[q]);
      for (ww = 0; ww < 4; ww++) tot[ww] += e[ww / 2][ww % 2];
    }
    /* one draw per net is noisy (a lucky width-16 draw); the sum over the three nets is not */
    T_CHECK(tot[3] < 0.5 * tot[1], "MC NTK error summed over the nets falls with width: 16: %.4f, 256: %.4f (1/sqrt: 4x)", tot[1], tot[3]);
    T_CHECK(tot[2] < 0.6 * tot[0], "MC NNGP error summed over the nets falls with samples: 8: %.4f, 128: %.4f (1/sqrt: 4x)", tot[0], tot[2]);
  }
}

static void test_fnet_all(void) {
  t_rng = 0x1234567ull; /* the same draws whether the section runs alone or after others */
  test_fnet_jacobian();
  test_fnet_entk();
  test_fnet_identities();
  test_fnet_train();
  t_rng = 0x1234567ull;
  test_fnet_monte_carlo();
}
