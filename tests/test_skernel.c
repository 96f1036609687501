/* The spatial kernel driver ([skernel] in ntk.h, through ntk_kernel / ntk_kernel_ex) against
   tests/ref_spatial.h, the slow long-double materialised-covariance reference that shares none
   of its code (its own shapes, layer rules and closed-form duals): odd sizes (5×7 and 1×7
   images, 3×2 filters, strides 2, VALID/SAME/CIRCULAR), both parameterisations, every bias
   mode, pools with and without normalize_edges, GAP/GSP/Flatten readouts, LayerNorm over
   channels and over (h, w, c), residual sums and concatenations; relu/erf/gelu/tanh. Also
   x2 = NULL (exactly symmetric, = the x2 = x1 call), one output only, NON_FINITE, cancel.
   Built twice: double (test_main.c) and float (test_float.c), with the tolerance of each. */
#include "ref_spatial.h"

#ifdef NTK_REAL_FLOAT
#define SK_RTOL 2e-4
#else
#define SK_RTOL 1e-13
#endif

/* double rows rounded to ntk_real (the reference gets the rounded values too) */
static void sk_fill(double *xd, ntk_real *xr, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) xr[i] = (ntk_real)t_normal(), xd[i] = (double)xr[i];
}

static void sk_set_mode(ntk_layer *net, size_t n, int standard, ntk_bias bias) {
  size_t i;
  for (i = 0; i < n; i++)
    if (net[i].kind == NTK_LAYER_DENSE || net[i].kind == NTK_LAYER_CONV) {
      if (standard) net[i].param = NTK_PARAM_STANDARD;
      net[i].bias = bias;
    }
}

/* the library (x2 given and x2 = NULL) against the reference on one network */
static void sk_check(const char *name, const ntk_layer *net, size_t n, size_t D) {
  enum { N1 = 2, N2 = 3, MAXD = 5 * 7 * 3 };
  double x1[N1 * MAXD], x2[N2 * MAXD], kr[N1 * N2], tr[N1 * N2], ks[N1 * N1], ts[N1 * N1];
  double got[N1 * N2], scale = 0, e;
  ntk_real y1[N1 * MAXD], y2[N2 * MAXD], k[N1 * N2], t[N1 * N2], kk[N1 * N1], tt[N1 * N1], k2[N1 * N1], t2[N1 * N1];
  size_t i, j;
  int sym_exact = 1;
  sk_fill(x1, y1, N1 * D), sk_fill(x2, y2, N2 * D);
  T_CHECK(ref_spatial_kernel(net, n, x1, N1, x2, N2, D, kr, tr) == 0, "%s: ref: %s", name, ref_spatial_error);
  T_CHECK(ref_spatial_kernel(net, n, x1, N1, NULL, 0, D, ks, ts) == 0, "%s: ref: %s", name, ref_spatial_error);
  for (i = 0; i < N1; i++) /* atol scaled by the diagonal */
    if (fabs(ks[i * N1 + i]) + fabs(ts[i * N1 + i]) > scale) scale = fabs(ks[i * N1 + i]) + fabs(ts[i * N1 + i]);
  T_STATUS(ntk_kernel(net, n, y1, N1, y2, N2, D, k, t), NTK_OK);
  for (i = 0; i < N1 * N2; i++) got[i] = (double)k[i];
  e = t_err_ratio_d(got, kr, N1 * N2, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: nngp vs ref %.3g of tolerance (lib %.17g ref %.17g)", name, e, got[0], kr[0]);
  for (i = 0; i < N1 * N2; i++) got[i] = (double)t[i];
  e = t_err_ratio_d(got, tr, N1 * N2, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: ntk vs ref %.3g of tolerance (lib %.17g ref %.17g)", name, e, got[0], tr[0]);
  /* x2 = NULL: the self pairs on the diagonal, each unordered pair once */
  T_STATUS(ntk_kernel(net, n, y1, N1, NULL, 0, D, kk, tt), NTK_OK);
  for (i = 0; i < N1 * N1; i++) got[i] = (double)kk[i];
  e = t_err_ratio_d(got, ks, N1 * N1, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: x2 = NULL nngp vs ref %.3g of tolerance", name, e);
  for (i = 0; i < N1 * N1; i++) got[i] = (double)tt[i];
  e = t_err_ratio_d(got, ts, N1 * N1, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: x2 = NULL ntk vs ref %.3g of tolerance (diag lib %.17g ref %.17g)", name, e, got[0], ts[0]);
  for (i = 0; i < N1; i++)
    for (j = 0; j < N1; j++)
      if (kk[i * N1 + j] != kk[j * N1 + i] || tt[i * N1 + j] != tt[j * N1 + i]) sym_exact = 0;
  T_CHECK(sym_exact, "%s: x2 = NULL is exactly symmetric", name);
  T_STATUS(ntk_kernel(net, n, y1, N1, y1, N1, D, k2, t2), NTK_OK);
  for (i = 0; i < N1 * N1; i++) got[i] = (double)k2[i], kr[i] = (double)kk[i];
  e = t_err_ratio_d(got, kr, N1 * N1, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: x2 = x1 nngp vs x2 = NULL %.3g of tolerance", name, e);
  for (i = 0; i < N1 * N1; i++) got[i] = (double)t2[i], kr[i] = (double)tt[i];
  e = t_err_ratio_d(got, kr, N1 * N1, SK_RTOL * scale, SK_RTOL);
  T_CHECK(e <= 1, "%s: x2 = x1 ntk vs x2 = NULL %.3g of tolerance", name, e);
}

static void test_skernel_ref(void) {
  ntk_layer net[16];
  char name[128];
  size_t n, v, p, b;
  const ntk_bias bias[3] = {NTK_BIAS_AUTO, NTK_BIAS_NONE, NTK_BIAS_ALWAYS};
  const char *bname[3] = {"auto", "none", "always"};
  t_section("skernel_ref");
  for (v = 0; v < 8; v++)
    for (p = 0; p < 2; p++)
      for (b = 0; b < 3; b++) {
        size_t D = 5 * 7 * 2;
        const char *what = "";
        n = 0;
        switch (v) {
        case 0: /* 2-D, strides, VALID then SAME, AvgPool SAME normalize_edges, GAP */
          what = "5x7 conv(3x2,s2,VALID) relu conv(3x2,SAME) erf avgpool(2,SAME,edges) gap";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 3, 2, 2, 2, NTK_PAD_VALID, 1.3, 0.2);
          net[n++] = ntk_relu(), net[n++] = ntk_conv(4, 3, 2, 1, 1, NTK_PAD_SAME, 1.1, 0.3);
          net[n++] = ntk_erf(), net[n++] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, NTK_POOL_NORMALIZE_EDGES);
          net[n++] = ntk_global_avg_pool(), net[n++] = ntk_dense(1, 0.9, 0.1);
          break;
        case 1: /* CIRCULAR stride 2, SumPool VALID, Flatten */
          what = "5x7 conv(3x2,s2,CIRCULAR) gelu sumpool(2,VALID) conv(1x1) relu flatten";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 3, 2, 2, 2, NTK_PAD_CIRCULAR, 1.2, 0.1);
          net[n++] = ntk_gelu(), net[n++] = ntk_sum_pool(2, 2, 1, 1, NTK_PAD_VALID);
          net[n++] = ntk_conv(2, 1, 1, 1, 1, NTK_PAD_VALID, 0.8, 0.2), net[n++] = ntk_relu();
          net[n++] = ntk_flatten(), net[n++] = ntk_dense(1, 1.0, 0.2);
          break;
        case 2: /* 1-D, tanh, CIRCULAR, GSP */
          what = "1x5 conv(3,s2,SAME) tanh conv(2,CIRCULAR) relu gsp";
          D = 5 * 3;
          net[n++] = ntk_input(1, 5, 3), net[n++] = ntk_conv(4, 3, 0, 2, 0, NTK_PAD_SAME, 1.2, 0.3);
          net[n++] = ntk_tanh(), net[n++] = ntk_conv(3, 2, 0, 1, 0, NTK_PAD_CIRCULAR, 1.0, 0.1);
          net[n++] = ntk_relu(), net[n++] = ntk_global_sum_pool(), net[n++] = ntk_dense(1, 0.7, 0.05);
          break;
        case 3: /* LayerNorm over channels and over (h, w, c) */
          what = "5x7 conv relu conv LN(c) relu conv LN(hwc) gap";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.4, 0.2);
          net[n++] = ntk_relu(), net[n++] = ntk_conv(3, 2, 2, 2, 1, NTK_PAD_VALID, 1.1, 0.1);
          net[n++] = ntk_layer_norm(0, 0.01), net[n++] = ntk_relu();
          net[n++] = ntk_conv(2, 3, 2, 1, 1, NTK_PAD_CIRCULAR, 1.2, 0.3);
          net[n++] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 0), net[n++] = ntk_global_avg_pool();
          net[n++] = ntk_dense(1, 1.0, 0.1);
          break;
        case 4: /* a residual block with an empty side, then pool and GAP */
          what = "5x7 conv fanout(2)[relu conv | ] sum relu conv avgpool(3,s2,SAME) gap";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.2, 0.2);
          net[n++] = ntk_fanout(2), net[n++] = ntk_relu(), net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.1);
          net[n++] = ntk_branch(), net[n++] = ntk_fanin_sum(), net[n++] = ntk_relu();
          net[n++] = ntk_conv(2, 2, 2, 1, 1, NTK_PAD_VALID, 0.9, 0.3);
          net[n++] = ntk_avg_pool(3, 3, 2, 2, NTK_PAD_SAME, 0), net[n++] = ntk_global_avg_pool();
          net[n++] = ntk_dense(1, 1.1, 0.2);
          break;
        case 5: /* concatenation of unequal widths, Flatten readout */
          what = "5x7 conv fanout(2)[relu conv(3) | conv(5,s1)] concat flatten";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(4, 3, 2, 2, 1, NTK_PAD_SAME, 1.2, 0.2);
          net[n++] = ntk_fanout(2), net[n++] = ntk_relu(), net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.1);
          net[n++] = ntk_branch(), net[n++] = ntk_conv(5, 1, 2, 1, 1, NTK_PAD_SAME, 0.8, 0.3);
          net[n++] = ntk_fanin_concat(), net[n++] = ntk_flatten(), net[n++] = ntk_dense(2, 1.0, 0.1);
          net[n++] = ntk_relu(), net[n++] = ntk_dense(1, 1.1, 0.2);
          break;
        case 6: /* Flatten readout without pools: the diagonal-only path */
          what = "5x7 conv(3x2,SAME) relu conv(3x2,s2,VALID) erf conv(CIRCULAR) gelu flatten";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.2);
          net[n++] = ntk_relu(), net[n++] = ntk_conv(4, 3, 2, 2, 2, NTK_PAD_VALID, 1.1, 0.1);
          net[n++] = ntk_erf(), net[n++] = ntk_conv(3, 2, 3, 1, 1, NTK_PAD_CIRCULAR, 1.2, 0.3);
          net[n++] = ntk_gelu(), net[n++] = ntk_flatten(), net[n++] = ntk_dense(1, 0.9, 0.1);
          break;
        default: /* Dense per position, AvgPool without normalize_edges, 2-D SumPool stride 2 */
          what = "5x7 dense relu conv avgpool(2,s2,SAME) relu? dense sumpool(2,s2,CIRCULAR) gap";
          net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_dense(3, 1.2, 0.3), net[n++] = ntk_relu();
          net[n++] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.1, 0.2);
          net[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_SAME, 0), net[n++] = ntk_relu();
          net[n++] = ntk_dense(2, 0.9, 0.1), net[n++] = ntk_sum_pool(2, 2, 2, 1, NTK_PAD_CIRCULAR);
          net[n++] = ntk_global_avg_pool(), net[n++] = ntk_dense(1, 1.0, 0.2);
          break;
        }
        if (v == 2 && (p || b)) continue; /* tanh's reference is slow: one mode */
        sk_set_mode(net, n, (int)p, bias[b]);
        snprintf(name, sizeof name, "%s, %s, bias %s", what, p ? "standard" : "ntk", bname[b]);
        sk_check(name, net, n, D);
      }
}

/* one output only; NON_FINITE; cancel; a spatial output refused */
static int sk_cancel(const char *stage, double frac, void *user) {
  (void)stage, (void)frac;
  ++*(int *)user;
  return 1;
}
static void test_skernel_api(void) {
  enum { N = 4, D = 5 * 7 * 2 };
  ntk_layer net[6];
  double xd[N * D];
  ntk_real x[N * D], k[N * N], t[N * N], k1[N * N], t1[N * N];
  ntk_kernel_desc dd;
  size_t i;
  int same = 1, calls = 0;
  t_section("skernel_api");
  sk_fill(xd, x, N * D);
  net[0] = ntk_input(5, 7, 2), net[1] = ntk_conv(3, 3, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[2] = ntk_relu();
  net[3] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_VALID, 0), net[4] = ntk_global_avg_pool(), net[5] = ntk_dense(1, 1, 0.1);
  T_STATUS(ntk_kernel(net, 6, x, N, NULL, 0, D, k, t), NTK_OK);
  T_STATUS(ntk_kernel(net, 6, x, N, NULL, 0, D, k1, NULL), NTK_OK);
  T_STATUS(ntk_kernel(net, 6, x, N, NULL, 0, D, NULL, t1), NTK_OK);
  for (i = 0; i < N * N; i++) same = same && k1[i] == k[i] && t1[i] == t[i];
  T_CHECK(same, "NNGP-only and NTK-only calls give the both-output values");
  memset(&dd, 0, sizeof dd);
  dd.threads = 2; /* two threads over pairs: each entry is computed alone, so bit for bit */
  T_STATUS(ntk_kernel_ex(net, 6, x, N, NULL, 0, D, k1, t1, &dd), NTK_OK);
  for (i = 0, same = 1; i < N * N; i++) same = same && k1[i] == k[i] && t1[i] == t[i];
  T_CHECK(same, "2 threads, x2 = NULL: the 1-thread values");
  T_STATUS(ntk_kernel_ex(net, 6, x, N, x + D, N - 1, D, k1, t1, &dd), NTK_OK);
  T_STATUS(ntk_kernel(net, 6, x, N, x + D, N - 1, D, k, t), NTK_OK);
  for (i = 0, same = 1; i < N * (N - 1); i++) same = same && k1[i] == k[i] && t1[i] == t[i];
  T_CHECK(same, "2 threads, x2 given: the 1-thread values");
  T_STATUS(ntk_kernel(net, 6, x, N, x + D, N - 1, D, k1, NULL), NTK_OK);
  T_STATUS(ntk_kernel(net, 6, x, N, x + D, N - 1, D, NULL, t1), NTK_OK);
  { /* and they match the reference */
    double kr[N * (N - 1)], tr[N * (N - 1)], g1[N * (N - 1)], g2[N * (N - 1)];
    T_CHECK(ref_spatial_kernel(net, 6, xd, N, xd + D, N - 1, D, kr, tr) == 0, "ref: %s", ref_spatial_error);
    for (i = 0; i < N * (N - 1); i++) g1[i] = (double)k1[i], g2[i] = (double)t1[i];
    T_CHECK(t_err_ratio_d(g1, kr, N * (N - 1), SK_RTOL * kr[0], SK_RTOL) <= 1, "NNGP-only vs ref");
    T_CHECK(t_err_ratio_d(g2, tr, N * (N - 1), SK_RTOL * tr[0], SK_RTOL) <= 1, "NTK-only vs ref");
  }
  /* NON_FINITE: a NaN input, and inputs whose variance overflows */
  x[5] = (ntk_real)NAN;
  T_STATUS(ntk_kernel(net, 6, x, N, NULL, 0, D, k, t), NTK_ERR_NON_FINITE);
  for (i = 0; i < N * D; i++) x[i] = (ntk_real)(sizeof(ntk_real) == 4 ? 1e25 : 1e160);
  T_STATUS(ntk_kernel(net, 6, x, N, NULL, 0, D, k, t), NTK_ERR_NON_FINITE);
  T_STATUS(ntk_kernel(net, 6, x, 1, x + D, 2, D, k, t), NTK_ERR_NON_FINITE);
  sk_fill(xd, x, N * D);
  /* cancel from the progress callback */
  memset(&dd, 0, sizeof dd);
  dd.progress = sk_cancel, dd.progress_user = &calls, dd.threads = 1;
  T_STATUS(ntk_kernel_ex(net, 6, x, N, NULL, 0, D, k, t, &dd), NTK_ERR_CANCELLED);
  T_CHECK(calls == 1, "cancel: the callback was called once (%d)", calls);
  calls = 0;
  T_STATUS(ntk_kernel_ex(net, 6, x, N, x, 2, D, k, t, &dd), NTK_ERR_CANCELLED);
  /* a spatial output has no (n1, n2) kernel */
  T_STATUS(ntk_kernel(net, 3, x, N, NULL, 0, D, k, t), NTK_ERR_UNSUPPORTED);
}

static void test_skernel_all(void) {
  test_skernel_ref();
  test_skernel_api();
}
