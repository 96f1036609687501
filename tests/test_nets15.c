/* Issue 15, finite networks (rows 12 and 13, items 3 and 6): every entry point that computes
   numbers reports a non-finite result as NTK_ERR_NON_FINITE — a custom φ (or φ′) returning NaN,
   exp overflowing at a large σ_w, a kernel or a loss beyond the type's range — instead of
   NaN/Inf with NTK_OK; averages (the traced kernel over outputs, Monte Carlo over samples, the
   loss) do not overflow where their value fits; and bad arguments, including sizes like
   SIZE_MAX/3 + 1, are named before any output is written (the outputs keep a sentinel).
   References are independent of the library's code path: forward passes written here from
   net.params (in the log domain where the values overflow), and exact identities (a single
   Dense layer's NTK is c²·x·x′ + c_b² for every draw of its weights, in powers of two).
   Written over ntk_real, so it also builds with -DNTK_REAL_FLOAT. */
#include <float.h>
#include <limits.h>
#include <stdint.h>

#define TN15_SENT ((ntk_real)12345.0)
#define TN15_MAX ((double)(sizeof(ntk_real) == 4 ? FLT_MAX : DBL_MAX))
#define TN15_EMAX (sizeof(ntk_real) == 4 ? 127 : 1023) /* 2^EMAX is the largest power of two */
#define TN15_RTOL (sizeof(ntk_real) == 4 ? 2e-5 : 1e-12)

static ntk_real tn15_out[64];
static double tn15_dout;
static void tn15_fill(void) {
  size_t i;
  for (i = 0; i < 64; i++) tn15_out[i] = TN15_SENT;
  tn15_dout = 12345.0;
}
static int tn15_untouched(void) {
  size_t i;
  int same = tn15_dout == 12345.0;
  for (i = 0; i < 64; i++) same &= tn15_out[i] == TN15_SENT;
  return same;
}

static double tn15_nan_phi(double x, void *u) { (void)u; return x > 0 ? NAN : x; }
static double tn15_nan_dphi(double x, void *u) { (void)u; return x > 0 ? NAN : 1; }
static double tn15_id(double x, void *u) { (void)u; return x; }
static double tn15_one(double x, void *u) { (void)u; (void)x; return 1; }

/* Dense(8, 1.3, 0.2) → act → Dense(3, 1, 0.1), the input dimension 4 */
static size_t tn15_small(ntk_layer *L, ntk_layer act) {
  L[0] = ntk_dense(8, 1.3, 0.2), L[1] = act, L[2] = ntk_dense(3, 1.0, 0.1);
  return 3;
}
/* Dense(16, σ_w, 0) → exp(x) → Dense(2, 1, 0.5), input dimension 4 */
static size_t tn15_exp_layers(ntk_layer *L, double w_std) {
  L[0] = ntk_dense(16, w_std, 0), L[1] = ntk_exp(1, 1), L[2] = ntk_dense(2, 1.0, 0.5);
  return 3;
}

/* The pre-activations of the first Dense layer from net.params (NTK parameterisation), in double */
static void tn15_pre(const ntk_net *nt, const ntk_real *x, size_t i, double *z) {
  const ntk_layer *L = &nt->layers[0];
  size_t d = nt->dim, w = L->width, j, q;
  const ntk_real *W = nt->params + nt->offset[0];
  for (j = 0; j < w; j++) {
    double s = 0;
    for (q = 0; q < d; q++) s += (double)W[j * d + q] * (double)x[i * d + q];
    z[j] = L->w_std / sqrt((double)d) * s + (L->b_std > 0 ? L->b_std * (double)W[w * d + j] : 0);
  }
}

/* f(x) of Dense → φ → Dense from net.params, with h_j = φ(z_j): log|f_a| (overflow-proof,
   factoring out max_j log|h_j| = max z for exp) or f_a itself */
static void tn15_ref_forward(const ntk_net *nt, const ntk_real *x, size_t n, int is_exp, double *f, double *logf) {
  size_t w = nt->layers[0].width, k = nt->outputs, i, j, a;
  const ntk_layer *R = &nt->layers[2];
  const ntk_real *W2 = nt->params + nt->offset[2];
  double z[64], c2 = R->w_std / sqrt((double)w);
  for (i = 0; i < n; i++) {
    double m = 0;
    tn15_pre(nt, x, i, z);
    if (is_exp)
      for (m = z[0], j = 1; j < w; j++) m = z[j] > m ? z[j] : m;
    for (a = 0; a < k; a++) {
      double s = R->b_std * (double)W2[k * w + a] * (is_exp ? exp(-m) : 1);
      for (j = 0; j < w; j++) s += c2 * (double)W2[a * w + j] * (is_exp ? exp(z[j] - m) : z[j]);
      if (f) f[i * k + a] = is_exp ? exp(m) * s : s;
      if (logf) logf[i * k + a] = m + log(fabs(s));
    }
  }
}

static void tn15_data(ntk_real *x, size_t cnt, double scale) {
  size_t i;
  for (i = 0; i < cnt; i++) x[i] = (ntk_real)(scale * t_normal());
}

/* every kernel the empirical entry point computes: traced/full × NNGP/NTK × x2 = NULL or not ×
   structured/J·Jᵀ, and the conditional NNGP; each must give `want` */
static void tn15_every_entk(const ntk_net *nt, const ntk_real *x, size_t n, ntk_status want_nngp,
                            ntk_status want_ntk, const char *what) {
  ntk_real *K = (ntk_real *)malloc(n * n * nt->outputs * nt->outputs * sizeof(ntk_real));
  int full, sym, meth, cond, bad = 0;
  for (full = 0; full <= 1; full++)
    for (sym = 0; sym <= 1; sym++) {
      ntk_entk_desc dd;
      for (cond = 0; cond <= 1; cond++) {
        ntk_status s;
        memset(&dd, 0, sizeof dd);
        dd.nngp_conditional = cond;
        s = ntk_net_empirical_kernel_ex(nt, x, n, sym ? NULL : x, n, full, K, NULL, &dd);
        if (s != want_nngp) bad++, printf("  %s: NNGP full %d x2 %s conditional %d -> %s\n", what, full, sym ? "NULL" : "x", cond, ntk_status_string(s));
      }
      for (meth = 0; meth <= 1; meth++) {
        ntk_status s;
        memset(&dd, 0, sizeof dd);
        dd.method = meth ? NTK_ENTK_JACOBIAN : NTK_ENTK_STRUCTURED;
        s = ntk_net_empirical_kernel_ex(nt, x, n, sym ? NULL : x, n, full, NULL, K, &dd);
        if (s != want_ntk) bad++, printf("  %s: NTK full %d x2 %s %s -> %s\n", what, full, sym ? "NULL" : "x", meth ? "J·Jᵀ" : "structured", ntk_status_string(s));
      }
    }
  T_CHECK(bad == 0, "%s: %d of 16 empirical kernels with the wrong status (NNGP want %s, NTK want %s)", what, bad,
          ntk_status_string(want_nngp), ntk_status_string(want_ntk));
  free(K);
}

static void test_nets15_nan_phi(void) {
  ntk_layer L[3];
  ntk_net nt;
  size_t n = 3, d = 4, nl, i;
  ntk_real x[12], y[9], theta[128], *J;
  double fr[9], worst = 0;
  t_section("nets15: a custom φ or φ′ returning NaN is NTK_ERR_NON_FINITE in every entry point (was NaN with NTK_OK)");
  tn15_data(x, n * d, 1.0);
  for (i = 0; i < 9; i++) y[i] = (ntk_real)t_normal();
  /* φ NaN for z > 0 (24 pre-activations: some are positive) */
  nl = tn15_small(L, ntk_custom(tn15_nan_phi, tn15_one, NULL));
  T_STATUS(ntk_net_init(&nt, L, nl, d, 3), NTK_OK);
  J = (ntk_real *)malloc(n * nt.outputs * nt.n_params * sizeof(ntk_real));
  memcpy(theta, nt.params, nt.n_params * sizeof(ntk_real));
  tn15_fill();
  T_STATUS(ntk_net_apply(&nt, x, n, tn15_out), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_net_apply_linearized(&nt, theta, x, n, tn15_out), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_net_loss(&nt, x, y, n, &tn15_dout), NTK_ERR_NON_FINITE);
  T_CHECK(tn15_untouched(), "NaN φ: apply, apply_linearized and loss wrote nothing");
  T_STATUS(ntk_net_jacobian(&nt, x, n, J), NTK_ERR_NON_FINITE);
  tn15_every_entk(&nt, x, n, NTK_ERR_NON_FINITE, NTK_ERR_NON_FINITE, "NaN φ");
  T_STATUS(ntk_monte_carlo_kernel(L, nl, x, n, NULL, 0, d, 11, 3, tn15_out, NULL), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_monte_carlo_kernel(L, nl, x, n, x, n, d, 11, 3, NULL, tn15_out), NTK_ERR_NON_FINITE);
  ntk_net_free(&nt);
  free(J);

  /* φ = identity, φ′ NaN for z > 0: f is finite (and equals the linear network written here),
     everything built from φ′ is not */
  nl = tn15_small(L, ntk_custom(tn15_id, tn15_nan_dphi, NULL));
  T_STATUS(ntk_net_init(&nt, L, nl, d, 3), NTK_OK);
  J = (ntk_real *)malloc(n * nt.outputs * nt.n_params * sizeof(ntk_real));
  memcpy(theta, nt.params, nt.n_params * sizeof(ntk_real));
  tn15_fill();
  T_STATUS(ntk_net_apply(&nt, x, n, tn15_out), NTK_OK);
  tn15_ref_forward(&nt, x, n, 0, fr, NULL);
  for (i = 0; i < n * nt.outputs; i++) {
    double e = fabs((double)tn15_out[i] - fr[i]) / (1e-12 + TN15_RTOL * fabs(fr[i]));
    worst = e > worst ? e : worst;
  }
  T_CHECK(worst <= 1, "NaN φ′, identity φ: apply = the linear network from net.params, err/tol %.3g", worst);
  T_STATUS(ntk_net_jacobian(&nt, x, n, J), NTK_ERR_NON_FINITE);
  tn15_fill();
  T_STATUS(ntk_net_apply_linearized(&nt, theta, x, n, tn15_out), NTK_ERR_NON_FINITE);
  T_CHECK(tn15_untouched(), "NaN φ′: apply_linearized wrote nothing");
  tn15_every_entk(&nt, x, n, NTK_OK, NTK_ERR_NON_FINITE, "NaN φ′");
  T_STATUS(ntk_monte_carlo_kernel(L, nl, x, n, NULL, 0, d, 11, 2, NULL, tn15_out), NTK_ERR_NON_FINITE);
  ntk_net_free(&nt);
  free(J);
}

static void test_nets15_exp(void) {
  ntk_layer L[3];
  ntk_net nt;
  size_t n = 4, d = 4, nl, i;
  ntk_real x[16], y[8], *J;
  double fr[8], lf[8], worst = 0, top = -1e300;
  t_section("nets15: exp activation at σ_w = 1000 overflows the forward pass: NTK_ERR_NON_FINITE (was Inf/NaN with NTK_OK); σ_w = 1 is finite and right");
  tn15_data(x, n * d, 1.0);
  for (i = 0; i < 8; i++) y[i] = (ntk_real)t_normal();
  nl = tn15_exp_layers(L, 1.0);
  T_STATUS(ntk_net_init(&nt, L, nl, d, 5), NTK_OK);
  T_STATUS(ntk_net_apply(&nt, x, n, tn15_out), NTK_OK);
  tn15_ref_forward(&nt, x, n, 1, fr, NULL);
  for (i = 0; i < n * nt.outputs; i++) {
    double e = fabs((double)tn15_out[i] - fr[i]) / (1e-12 + TN15_RTOL * fabs(fr[i]));
    worst = e > worst ? e : worst;
  }
  T_CHECK(worst <= 1, "exp, σ_w = 1: apply = the forward pass from net.params, err/tol %.3g", worst);
  tn15_every_entk(&nt, x, n, NTK_OK, NTK_OK, "exp, σ_w = 1");
  ntk_net_free(&nt);

  nl = tn15_exp_layers(L, 1000.0);
  T_STATUS(ntk_net_init(&nt, L, nl, d, 5), NTK_OK);
  tn15_ref_forward(&nt, x, n, 1, NULL, lf);
  for (i = 0; i < n * nt.outputs; i++) top = lf[i] > top ? lf[i] : top;
  T_CHECK(top > log(TN15_MAX) + 1, "the set-up overflows: max log|f| = %.1f > log(max) = %.1f", top, log(TN15_MAX));
  J = (ntk_real *)malloc(n * nt.outputs * nt.n_params * sizeof(ntk_real));
  tn15_fill();
  T_STATUS(ntk_net_apply(&nt, x, n, tn15_out), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_net_apply_linearized(&nt, nt.params, x, n, tn15_out), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_net_loss(&nt, x, y, n, &tn15_dout), NTK_ERR_NON_FINITE);
  T_CHECK(tn15_untouched(), "exp overflow: apply, apply_linearized and loss wrote nothing");
  T_STATUS(ntk_net_jacobian(&nt, x, n, J), NTK_ERR_NON_FINITE);
  tn15_every_entk(&nt, x, n, NTK_ERR_NON_FINITE, NTK_ERR_NON_FINITE, "exp, σ_w = 1000");
  T_STATUS(ntk_monte_carlo_kernel(L, nl, x, n, NULL, 0, d, 5, 2, tn15_out, tn15_out + 16), NTK_ERR_NON_FINITE);
  ntk_net_free(&nt);
  free(J);
}

/* Near the top of the range, exactly: a single Dense(k, σ_w = 2^10, σ_b = 0) layer on dim 1 has
   the NTK 2^20·x·x′ for every output and every draw. With x = 2^E, 2^(2E+20) = 2^(EMAX−3): the
   traced sum over k = 32 outputs (2^(EMAX+2)) and the Monte Carlo sum over 32 samples overflowed
   while their averages are exact. */
static void test_nets15_huge(void) {
  ntk_layer L[1];
  ntk_net nt;
  int E = (TN15_EMAX - 23) / 2, meth, sym;
  ntk_real x[2], K[4];
  double ref[4];
  size_t i;
  t_section("nets15: averages near the top of the range are exact (traced 1/k per term, Monte Carlo running mean, loss rescaled), true overflow is NTK_ERR_NON_FINITE");
  x[0] = (ntk_real)ldexp(1, E), x[1] = (ntk_real)-ldexp(1, E - 1);
  for (i = 0; i < 4; i++) ref[i] = ldexp((double)x[i / 2] * (double)x[i % 2], 20);
  L[0] = ntk_dense(32, 1024.0, 0);
  T_STATUS(ntk_net_init(&nt, L, 1, 1, 9), NTK_OK);
  for (meth = 0; meth <= 1; meth++)
    for (sym = 0; sym <= 1; sym++) {
      ntk_entk_desc dd;
      double got[4];
      ntk_status s;
      memset(&dd, 0, sizeof dd);
      dd.method = meth ? NTK_ENTK_JACOBIAN : NTK_ENTK_STRUCTURED;
      s = ntk_net_empirical_kernel_ex(&nt, x, 2, sym ? NULL : x, 2, 0, NULL, K, &dd);
      for (i = 0; i < 4; i++) got[i] = (double)K[i];
      T_CHECK(s == NTK_OK && t_err_ratio_d(got, ref, 4, 0, 1e-15) <= 1,
              "traced NTK of 32 outputs at 2^%d (%s, x2 %s): %s, K00 = %.6g (exact %.6g)", TN15_EMAX - 3,
              meth ? "J·Jᵀ" : "structured", sym ? "NULL" : "x", ntk_status_string(s), got[0], ref[0]);
    }
  {
    ntk_real xb[1], *Kf = (ntk_real *)malloc(32 * 32 * sizeof(ntk_real));
    xb[0] = (ntk_real)ldexp(1, E + 2); /* 2^(EMAX+1): beyond the type */
    T_STATUS(ntk_net_empirical_kernel(&nt, xb, 1, NULL, 0, 0, NULL, K), NTK_ERR_NON_FINITE);
    T_STATUS(ntk_net_empirical_kernel(&nt, xb, 1, NULL, 0, 1, NULL, Kf), NTK_ERR_NON_FINITE);
    free(Kf);
  }
  ntk_net_free(&nt);
  L[0] = ntk_dense(1, 1024.0, 0);
  {
    double got[4];
    ntk_status s = ntk_monte_carlo_kernel(L, 1, x, 2, NULL, 0, 1, 77, 32, NULL, K);
    for (i = 0; i < 4; i++) got[i] = (double)K[i];
    T_CHECK(s == NTK_OK && t_err_ratio_d(got, ref, 4, 0, 1e-15) <= 1,
            "Monte Carlo over 32 samples of an NTK at 2^%d: %s, K00 = %.6g (exact %.6g)", TN15_EMAX - 3,
            ntk_status_string(s), got[0], ref[0]);
  }
  { /* the running mean's fallback when x − m overflows: opposite signs near the top */
    ntk_real big = (ntk_real)(0.75 * TN15_MAX), m = big;
    T_CHECK(ntk__mean_step(big, -big, 1) == 0, "mean of ±0.75·max = %g (exact 0)", (double)ntk__mean_step(big, -big, 1));
    m = ntk__mean_step(m, big, 1), m = ntk__mean_step(m, -big, 2);
    T_CHECK(fabs((double)m - (double)big / 3) <= 4 * (sizeof(ntk_real) == 4 ? FLT_EPSILON : DBL_EPSILON) * (double)big,
            "mean of (b, b, −b), b = 0.75·max: %.17g (exact b/3 = %.17g)", (double)m, (double)big / 3);
  }
  { /* the loss: f = 0 (weights set to 0), y = −2^Y, so ½·mean (f − y)² = 2^(2Y−1) exactly; at
       Y = 512 each d² = 2^1024 overflows a double while the mean 2^1023 does not */
    ntk_real xs[4] = {1, 2, 3, 4}, ys[4];
    int Y = sizeof(ntk_real) == 4 ? 100 : 512;
    double loss = 0, want = ldexp(1, 2 * Y - 1);
    ntk_status s;
    L[0] = ntk_dense(1, 1.0, 0);
    T_STATUS(ntk_net_init(&nt, L, 1, 1, 1), NTK_OK);
    nt.params[0] = 0;
    for (i = 0; i < 4; i++) ys[i] = (ntk_real)-ldexp(1, Y);
    s = ntk_net_loss(&nt, xs, ys, 4, &loss);
    T_CHECK(s == NTK_OK && fabs(loss - want) <= 1e-15 * 8 * want, "loss at 2^%d: %s, %.17g (exact %.17g)", 2 * Y - 1,
            ntk_status_string(s), loss, want);
    for (i = 0; i < 4; i++) ys[i] = (ntk_real)(-0.5 * TN15_MAX);
    tn15_fill();
    s = ntk_net_loss(&nt, xs, ys, 4, &tn15_dout);
    if (sizeof(ntk_real) == 8)
      T_CHECK(s == NTK_ERR_NON_FINITE && tn15_untouched(), "loss ⅛·max² beyond double: %s (want non-finite), *loss %s",
              ntk_status_string(s), tn15_untouched() ? "untouched" : "written");
    else
      T_CHECK(s == NTK_OK && fabs(tn15_dout - 0.125 * TN15_MAX * TN15_MAX) <= 1e-15 * tn15_dout,
              "float loss ⅛·FLT_MAX² is finite in double: %s, %g", ntk_status_string(s), tn15_dout);
    ntk_net_free(&nt);
  }
}

/* ---- bad arguments: a named status, the output untouched ------------------------------------ */
static ntk_net tn15_net, tn15_nanet, tn15_expnet;
static ntk_layer tn15_layers[64], tn15_nan_layers[3];
/* x (2, 3) followed by NaN: a size that wraps makes the old scan run into the NaN */
static ntk_real tn15_x[32], tn15_xnan[6], tn15_theta[128], tn15_thnan[128], tn15_y[4], tn15_ynan[4];

static ntk_status tn15_row(int r) {
  const size_t third = SIZE_MAX / 3 + 1, bits = sizeof(size_t) * CHAR_BIT, es = sizeof(ntk_real);
  ntk_net empty, scratch_net;
  ntk_entk_desc dd;
  memset(&empty, 0, sizeof empty);
  memset(&dd, 0, sizeof dd);
  switch (r) {
  /* apply */
  case 0: return ntk_net_apply(NULL, tn15_x, 2, tn15_out);
  case 1: return ntk_net_apply(&empty, tn15_x, 2, tn15_out);
  case 2: return ntk_net_apply(&tn15_net, NULL, 2, tn15_out);
  case 3: return ntk_net_apply(&tn15_net, tn15_x, 2, NULL);
  case 4: return ntk_net_apply(&tn15_net, tn15_xnan, 2, tn15_out);
  case 5: return ntk_net_apply(&tn15_net, tn15_x, third, tn15_out);
  case 6: return ntk_net_apply(&tn15_net, tn15_x, SIZE_MAX / 3 + 6, tn15_out); /* n·3 wraps to 17 */
  case 7: return ntk_net_apply(&tn15_net, tn15_x, SIZE_MAX / (21 * es) + 1, tn15_out); /* caches 21·n */
  case 8: return ntk_net_apply(&tn15_expnet, tn15_x, 2, tn15_out);
  case 9: return ntk_net_apply(&tn15_nanet, tn15_x, 2, tn15_out);
  /* Jacobian */
  case 10: return ntk_net_jacobian(&tn15_net, tn15_x, 2, NULL);
  case 11: return ntk_net_jacobian(&tn15_net, tn15_xnan, 2, tn15_out);
  case 12: return ntk_net_jacobian(&tn15_net, tn15_x, third, tn15_out);
  case 13: return ntk_net_jacobian(&tn15_net, tn15_x, SIZE_MAX / (100 * es) + 1, tn15_out); /* n·k·P = 100·n */
  /* linearised */
  case 14: return ntk_net_apply_linearized(&tn15_net, NULL, tn15_x, 2, tn15_out);
  case 15: return ntk_net_apply_linearized(&tn15_net, tn15_theta, tn15_x, 2, NULL);
  case 16: return ntk_net_apply_linearized(&tn15_net, tn15_thnan, tn15_x, 2, tn15_out);
  case 17: return ntk_net_apply_linearized(&tn15_net, tn15_theta, tn15_xnan, 2, tn15_out);
  case 18: return ntk_net_apply_linearized(&tn15_net, tn15_theta, tn15_x, third, tn15_out);
  case 19: return ntk_net_apply_linearized(&tn15_nanet, tn15_nanet.params, tn15_x, 2, tn15_out);
  case 20: return ntk_net_apply_linearized(&tn15_expnet, tn15_expnet.params, tn15_x, 2, tn15_out);
  /* empirical kernels */
  case 21: return ntk_net_empirical_kernel(&tn15_net, tn15_x, 2, NULL, 0, 2, NULL, tn15_out);
  case 22: dd.method = (ntk_entk_method)7; return ntk_net_empirical_kernel_ex(&tn15_net, tn15_x, 2, NULL, 0, 0, NULL, tn15_out, &dd);
  case 23: dd.nngp_conditional = 2; return ntk_net_empirical_kernel_ex(&tn15_net, tn15_x, 2, NULL, 0, 0, tn15_out, NULL, &dd);
  case 24: return ntk_net_empirical_kernel(&tn15_net, NULL, 2, NULL, 0, 0, NULL, tn15_out);
  case 25: return ntk_net_empirical_kernel(&tn15_net, tn15_x, 2, tn15_xnan, 2, 0, tn15_out, tn15_out + 4);
  case 26: return ntk_net_empirical_kernel(&tn15_net, tn15_x, third, tn15_x, 2, 0, NULL, tn15_out);
  case 27: { /* n1·n2 overflows, each alone fits */
    size_t n = (size_t)1 << (bits / 2 + 1);
    return ntk_net_empirical_kernel(&tn15_net, tn15_x, n, tn15_x, n, 0, tn15_out, NULL);
  }
  case 28: { /* n1·n2 fits in bytes, the structured NTK's n1·n2·#Dense does not */
    size_t n1 = (size_t)1 << (bits / 2 - 2), n2 = ((size_t)1 << (bits - 1)) / es / n1;
    return ntk_net_empirical_kernel(&tn15_net, tn15_x, n1, tn15_x, n2, 0, NULL, tn15_out);
  }
  /* Monte Carlo */
  case 29: return ntk_monte_carlo_kernel(tn15_layers, 3, tn15_x, 2, NULL, 0, 3, 1, 0, tn15_out, NULL);
  case 30: return ntk_monte_carlo_kernel(NULL, 3, tn15_x, 2, NULL, 0, 3, 1, 4, tn15_out, NULL);
  case 31: return ntk_monte_carlo_kernel(tn15_layers, 3, NULL, 2, NULL, 0, 3, 1, 4, tn15_out, NULL);
  case 32: return ntk_monte_carlo_kernel(tn15_layers, 3, tn15_x, third, NULL, 0, 3, 1, 4, tn15_out, NULL);
  case 33: return ntk_monte_carlo_kernel(tn15_layers, 3, tn15_xnan, 2, NULL, 0, 3, 1, 4, NULL, tn15_out);
  /* loss */
  case 34: return ntk_net_loss(&tn15_net, tn15_x, NULL, 2, &tn15_dout);
  case 35: return ntk_net_loss(&tn15_net, tn15_x, tn15_y, 2, NULL);
  case 36: return ntk_net_loss(&tn15_net, tn15_x, tn15_ynan, 2, &tn15_dout);
  case 37: return ntk_net_loss(&tn15_net, tn15_x, tn15_y, third, &tn15_dout);
  case 38: return ntk_net_loss(&tn15_expnet, tn15_x, tn15_y, 2, &tn15_dout);
  case 39: return ntk_net_loss(&tn15_nanet, tn15_x, tn15_y, 2, &tn15_dout);
  /* init: an n_layers no array can have, the list valid for 3 entries then kind 0 */
  case 40: { ntk_status s = ntk_net_init(&scratch_net, tn15_layers, third, 3, 1); ntk_net_free(&scratch_net); return s; }
  case 41: return ntk_net_init(NULL, tn15_layers, 3, 3, 1);
  case 42: { ntk_status s = ntk_net_init(&scratch_net, tn15_layers, 3, 0, 1); ntk_net_free(&scratch_net); return s; }
  default: return NTK_OK;
  }
}

static void test_nets15_args(void) {
  static const struct {
    const char *what;
    ntk_status want;
  } rows[] = {
      {"apply: NULL net", NTK_ERR_INVALID_ARG},
      {"apply: a net not from ntk_net_init", NTK_ERR_INVALID_ARG},
      {"apply: NULL x", NTK_ERR_INVALID_ARG},
      {"apply: NULL f", NTK_ERR_INVALID_ARG},
      {"apply: NaN in x", NTK_ERR_NON_FINITE},
      {"apply: n = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"apply: n·dim wraps to 17", NTK_ERR_OVERFLOW},
      {"apply: n·dim fits, the caches do not", NTK_ERR_OVERFLOW},
      {"apply: exp overflows", NTK_ERR_NON_FINITE},
      {"apply: φ returns NaN", NTK_ERR_NON_FINITE},
      {"jacobian: NULL jac", NTK_ERR_INVALID_ARG},
      {"jacobian: NaN in x", NTK_ERR_NON_FINITE},
      {"jacobian: n = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"jacobian: n·k·P overflows, n·dim fits", NTK_ERR_OVERFLOW},
      {"linearized: NULL θ", NTK_ERR_INVALID_ARG},
      {"linearized: NULL f", NTK_ERR_INVALID_ARG},
      {"linearized: NaN in θ", NTK_ERR_NON_FINITE},
      {"linearized: NaN in x", NTK_ERR_NON_FINITE},
      {"linearized: n = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"linearized: φ returns NaN", NTK_ERR_NON_FINITE},
      {"linearized: exp overflows", NTK_ERR_NON_FINITE},
      {"entk: full = 2", NTK_ERR_INVALID_ARG},
      {"entk: unknown method", NTK_ERR_INVALID_ARG},
      {"entk: nngp_conditional = 2", NTK_ERR_INVALID_ARG},
      {"entk: NULL x1", NTK_ERR_INVALID_ARG},
      {"entk: NaN in x2", NTK_ERR_NON_FINITE},
      {"entk: n1 = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"entk: n1·n2 overflows", NTK_ERR_OVERFLOW},
      {"entk: structured buffers overflow", NTK_ERR_OVERFLOW},
      {"monte carlo: 0 samples", NTK_ERR_INVALID_ARG},
      {"monte carlo: NULL layers", NTK_ERR_INVALID_ARG},
      {"monte carlo: NULL x1", NTK_ERR_INVALID_ARG},
      {"monte carlo: n1 = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"monte carlo: NaN in x1", NTK_ERR_NON_FINITE},
      {"loss: NULL y", NTK_ERR_INVALID_ARG},
      {"loss: NULL loss", NTK_ERR_INVALID_ARG},
      {"loss: NaN in y", NTK_ERR_NON_FINITE},
      {"loss: n = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"loss: exp overflows", NTK_ERR_NON_FINITE},
      {"loss: φ returns NaN", NTK_ERR_NON_FINITE},
      {"init: n_layers = SIZE_MAX/3 + 1", NTK_ERR_OVERFLOW},
      {"init: NULL net", NTK_ERR_INVALID_ARG},
      {"init: dim 0", NTK_ERR_INVALID_ARG},
  };
  size_t r, i;
  int bad = 0;
  ntk_layer el[3];
  t_section("nets15: bad arguments to every finite-network entry point: a named status before any output is written");
  for (i = 0; i < 64; i++) tn15_layers[i].kind = (ntk_layer_kind)0;
  tn15_layers[0] = ntk_dense(8, 1.3, 0.2), tn15_layers[1] = ntk_relu(), tn15_layers[2] = ntk_dense(2, 1.0, 0.1);
  tn15_nan_layers[0] = ntk_dense(8, 1.3, 0.2), tn15_nan_layers[1] = ntk_custom(tn15_nan_phi, tn15_one, NULL);
  tn15_nan_layers[2] = ntk_dense(2, 1.0, 0.1);
  T_STATUS(ntk_net_init(&tn15_net, tn15_layers, 3, 3, 1), NTK_OK); /* P = 3·8 + 8 + 8·2 + 2 = 50, caches 21·n */
  T_STATUS(ntk_net_init(&tn15_nanet, tn15_nan_layers, 3, 3, 1), NTK_OK);
  el[0] = ntk_dense(16, 1000.0, 0), el[1] = ntk_exp(1, 1), el[2] = ntk_dense(2, 1.0, 0.5);
  T_STATUS(ntk_net_init(&tn15_expnet, el, 3, 3, 1), NTK_OK);
  for (i = 0; i < 32; i++) tn15_x[i] = i < 6 ? (ntk_real)(0.5 + 0.25 * (double)i) : (ntk_real)NAN;
  for (i = 0; i < 6; i++) tn15_xnan[i] = i == 4 ? (ntk_real)NAN : (ntk_real)i;
  for (i = 0; i < 128; i++) tn15_theta[i] = tn15_thnan[i] = i < tn15_net.n_params ? tn15_net.params[i] : 0;
  tn15_thnan[17] = (ntk_real)INFINITY;
  for (i = 0; i < 4; i++) tn15_y[i] = tn15_ynan[i] = (ntk_real)i;
  tn15_ynan[2] = (ntk_real)NAN;
  for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    ntk_status got;
    int same;
    tn15_fill();
    got = tn15_row((int)r);
    same = tn15_untouched();
    if (got != rows[r].want || !same) bad++;
    T_CHECK(got == rows[r].want && same, "%-40s -> %s (want %s)%s", rows[r].what, ntk_status_string(got),
            ntk_status_string(rows[r].want), same ? "" : ", output modified");
  }
  printf("  %d of %zu rows wrong\n", bad, sizeof rows / sizeof rows[0]);
  /* a control: the valid call does write */
  tn15_fill();
  T_CHECK(tn15_row(-1) == NTK_OK && ntk_net_apply(&tn15_net, tn15_x, 2, tn15_out) == NTK_OK && !tn15_untouched(),
          "control: a valid apply writes f");
  ntk_net_free(&tn15_net), ntk_net_free(&tn15_nanet), ntk_net_free(&tn15_expnet);
}

static void test_nets15_all(void) {
  test_nets15_nan_phi();
  test_nets15_exp();
  test_nets15_huge();
  test_nets15_args();
}
