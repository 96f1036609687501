/* The reference itself (tests/ref_spatial.h), checked against things that share none of its
   code: the library's MLP kernel (1×1 images, Dense-only spatial nets, a full-size VALID filter,
   Flatten + Dense), exact symmetries (circular translations under CIRCULAR conv + GAP; branch
   sums and concat weights), neural-tangents' one literal pooling example, and Monte Carlo of
   finite CNNs written here (NHWC, direct loops, the test's own RNG). */
#include "ref_spatial.h"

static void sref_fill(double *x, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) x[i] = t_normal();
}

/* worst ratio of ref vs the library MLP kernel over an (n1 × n2) block */
static void sref_check_pair(const char *what, const double *ref, const double *lib, size_t n, double rtol) {
  double e = t_err_ratio_d(ref, lib, n, 1e-14, rtol);
  T_CHECK(e <= 1, "%s: ref vs library worst |Δ|/(atol + rtol|lib|) = %.3g (ref[0] %.17g lib[0] %.17g)", what, e,
          ref[0], lib[0]);
}

/* 1×1 images (with and without INPUT, Dense or 1×1 / 3×3-SAME convs) = the MLP kernel. */
static void test_sref_mlp(void) {
  enum { N1 = 3, N2 = 4, D = 3 };
  double x1[N1 * D], x2[N2 * D], kl[N1 * N2], tl[N1 * N2], kr[N1 * N2], tr[N1 * N2];
  ntk_layer acts[9];
  const char *names[9] = {"relu", "erf", "leaky_relu", "gelu", "sin", "rbf", "exp", "abs", "tanh"};
  size_t a, p, v;
  t_section("sref_mlp");
  acts[0] = ntk_relu(), acts[1] = ntk_erf_scaled(1.2, 0.7, 0.1), acts[2] = ntk_leaky_relu(0.2);
  acts[3] = ntk_gelu(), acts[4] = ntk_sin_scaled(0.8, 1.1, 0.3), acts[5] = ntk_rbf(0.4);
  acts[6] = ntk_exp(0.7, 0.5), acts[7] = ntk_abs(), acts[8] = ntk_tanh();
  sref_fill(x1, sizeof x1 / sizeof x1[0]), sref_fill(x2, sizeof x2 / sizeof x2[0]);
  for (a = 0; a < 9; a++)
    for (p = 0; p < 2; p++) {
      ntk_layer mlp[5], net[6];
      ntk_layer (*dense)(size_t, double, double) = p ? ntk_dense_standard : ntk_dense;
      ntk_layer (*conv)(size_t, size_t, size_t, size_t, size_t, ntk_padding, double, double) =
          p ? ntk_conv_standard : ntk_conv;
      char what[96];
      mlp[0] = dense(5, 1.3, 0.4), mlp[1] = acts[a], mlp[2] = dense(4, 0.9, 0.2), mlp[3] = acts[a];
      mlp[4] = dense(1, 1.1, 0.3);
      T_STATUS(ntk_kernel(mlp, 5, x1, N1, x2, N2, D, kl, tl), NTK_OK);
      for (v = 0; v < 2; v++) {
        if (v == 0) { /* the same list: a vector is a 1×1 image */
          T_CHECK(ref_spatial_kernel(mlp, 5, x1, N1, x2, N2, D, kr, tr) == 0, "%s", ref_spatial_error);
        } else { /* INPUT 1×1×3, a 1×1 conv, a 3×3 SAME conv with σ_w·3 (8 zero taps in |F| = 9) */
          net[0] = ntk_input(1, 1, D), net[1] = conv(5, 1, 1, 1, 1, NTK_PAD_VALID, 1.3, 0.4), net[2] = acts[a];
          net[3] = conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 0.9 * 3, 0.2), net[4] = acts[a], net[5] = dense(1, 1.1, 0.3);
          T_CHECK(ref_spatial_kernel(net, 6, x1, N1, x2, N2, D, kr, tr) == 0, "%s", ref_spatial_error);
        }
        snprintf(what, sizeof what, "%s %s %s nngp", names[a], p ? "standard" : "ntk", v ? "conv 1x1" : "dense");
        sref_check_pair(what, kr, kl, N1 * N2, 1e-12);
        snprintf(what, sizeof what, "%s %s %s ntk", names[a], p ? "standard" : "ntk", v ? "conv 1x1" : "dense");
        sref_check_pair(what, tr, tl, N1 * N2, 1e-12);
      }
    }
}

/* Dense per position on a 2×3×2 image, then GAP / Flatten: the mean over all position pairs
   (GAP) or over the diagonal (Flatten) of the MLP kernel between the positions' rows. */
static void test_sref_positions(void) {
  enum { H = 2, W = 3, C = 2, P = H * W, D = H * W * C };
  double x1[2 * D], x2[2 * D], kp[P * P], tp[P * P], kr[4], tr[4];
  size_t p, g, a, b, i, j;
  t_section("sref_positions");
  sref_fill(x1, 2 * D), sref_fill(x2, 2 * D);
  for (p = 0; p < 2; p++)
    for (g = 0; g < 2; g++) {
      ntk_layer (*dense)(size_t, double, double) = p ? ntk_dense_standard : ntk_dense;
      ntk_layer mlp[5], net[7];
      /* after Flatten the readout's standard fan-in is H·W·c, not c: an 'ntk' readout there */
      ntk_layer out = g == 0 ? dense(1, 1.2, 0.3) : ntk_dense(1, 1.2, 0.3);
      mlp[0] = dense(6, 1.4, 0.5), mlp[1] = ntk_relu(), mlp[2] = dense(5, 0.8, 0.1), mlp[3] = ntk_erf();
      mlp[4] = out;
      net[0] = ntk_input(H, W, C), net[1] = mlp[0], net[2] = mlp[1], net[3] = mlp[2], net[4] = mlp[3];
      net[5] = g == 0 ? ntk_global_avg_pool() : ntk_flatten(), net[6] = out;
      T_CHECK(ref_spatial_kernel(net, 7, x1, 2, x2, 2, D, kr, tr) == 0, "%s", ref_spatial_error);
      for (a = 0; a < 2; a++)
        for (b = 0; b < 2; b++) {
          double kw = 0, tw = 0, got[2], want[2];
          T_STATUS(ntk_kernel(mlp, 5, x1 + a * D, P, x2 + b * D, P, C, kp, tp), NTK_OK);
          for (i = 0; i < P; i++)
            for (j = 0; j < P; j++)
              if (g == 0 || i == j) kw += kp[i * P + j], tw += tp[i * P + j];
          kw /= g == 0 ? P * P : P, tw /= g == 0 ? P * P : P;
          got[0] = kr[a * 2 + b], got[1] = tr[a * 2 + b], want[0] = kw, want[1] = tw;
          sref_check_pair(g == 0 ? (p ? "per-position dense + GAP, standard" : "per-position dense + GAP, ntk")
                                 : (p ? "per-position dense + flatten, standard" : "per-position dense + flatten, ntk"),
                          got, want, 2, 1e-12);
        }
    }
}

/* A VALID conv whose filter covers the image, and Flatten + Dense, both = Dense on the
   flattened rows (dim H·W·C; 'standard' fan-in C·|F| = H·W·C). */
static void test_sref_full_filter(void) {
  enum { H = 3, W = 2, C = 2, D = H * W * C, N = 3 };
  double x1[N * D], x2[N * D], kl[N * N], tl[N * N], kr[N * N], tr[N * N];
  size_t p, v;
  t_section("sref_full_filter");
  sref_fill(x1, N * D), sref_fill(x2, N * D);
  for (p = 0; p < 2; p++) {
    ntk_layer (*dense)(size_t, double, double) = p ? ntk_dense_standard : ntk_dense;
    ntk_layer mlp[3], net[5];
    mlp[0] = dense(7, 1.5, 0.6), mlp[1] = ntk_relu(), mlp[2] = dense(1, 0.9, 0.2);
    T_STATUS(ntk_kernel(mlp, 3, x1, N, x2, N, D, kl, tl), NTK_OK);
    for (v = 0; v < 2; v++) {
      size_t n = 4;
      net[0] = ntk_input(H, W, C);
      if (v == 0) {
        net[1] = p ? ntk_conv_standard(7, H, W, 1, 1, NTK_PAD_VALID, 1.5, 0.6)
                   : ntk_conv(7, H, W, 1, 1, NTK_PAD_VALID, 1.5, 0.6);
        net[2] = mlp[1], net[3] = mlp[2];
      } else {
        net[1] = ntk_flatten(), net[2] = mlp[0], net[3] = mlp[1], net[4] = mlp[2], n = 5;
      }
      T_CHECK(ref_spatial_kernel(net, n, x1, N, x2, N, D, kr, tr) == 0, "%s", ref_spatial_error);
      sref_check_pair(v ? "flatten + dense nngp" : "full VALID conv nngp", kr, kl, N * N, 1e-12);
      sref_check_pair(v ? "flatten + dense ntk" : "full VALID conv ntk", tr, tl, N * N, 1e-12);
    }
  }
}

static void sref_shift(double *dst, const double *src, size_t H, size_t W, size_t C, size_t dh, size_t dw) {
  size_t h, w, c;
  for (h = 0; h < H; h++)
    for (w = 0; w < W; w++)
      for (c = 0; c < C; c++) dst[(((h + dh) % H) * W + (w + dw) % W) * C + c] = src[(h * W + w) * C + c];
}

/* CIRCULAR conv + GAP: invariant under circular translations of either input (and SAME is
   not, which shows the check can fail). */
static void test_sref_circular(void) {
  enum { H = 5, W = 7, C = 2, D = H * W * C };
  double x1[D], x2[D], y1[D], y2[D], k0[1], t0[1], k1[1], t1[1];
  size_t pad;
  t_section("sref_circular");
  sref_fill(x1, D), sref_fill(x2, D);
  sref_shift(y1, x1, H, W, C, 2, 3), sref_shift(y2, x2, H, W, C, 4, 6);
  for (pad = 0; pad < 2; pad++) {
    ntk_padding pd = pad ? NTK_PAD_SAME : NTK_PAD_CIRCULAR;
    ntk_layer net[8];
    double e;
    net[0] = ntk_input(H, W, C), net[1] = ntk_conv(4, 3, 2, 1, 1, pd, 1.3, 0.2), net[2] = ntk_relu();
    net[3] = ntk_conv_standard(3, 2, 3, 1, 1, pd, 1.1, 0.1), net[4] = ntk_erf();
    net[5] = ntk_avg_pool(2, 2, 1, 1, pd, 0), net[6] = ntk_global_avg_pool(), net[7] = ntk_dense(1, 1, 0.1);
    T_CHECK(ref_spatial_kernel(net, 8, x1, 1, x2, 1, D, k0, t0) == 0, "%s", ref_spatial_error);
    T_CHECK(ref_spatial_kernel(net, 8, y1, 1, y2, 1, D, k1, t1) == 0, "%s", ref_spatial_error);
    e = fabs(k1[0] - k0[0]) / fabs(k0[0]) + fabs(t1[0] - t0[0]) / fabs(t0[0]);
    if (pad == 0)
      T_CHECK(e < 1e-14, "CIRCULAR + GAP under translation: nngp %.17g vs %.17g, ntk %.17g vs %.17g", k1[0], k0[0],
              t1[0], t0[0]);
    else
      T_CHECK(e > 1e-6, "SAME + GAP should change under translation (relative change %.3g)", e);
  }
}

/* Branches: res(relu conv) with an empty side = the two networks' sum (GAP and the readout
   are linear); sum(|) of two empty branches = doubling σ_w² and σ_b² of the layer before;
   concat of widths 8 and 16 = 1/3, 2/3 of the branches. */
static void test_sref_branches(void) {
  enum { H = 4, W = 3, C = 2, D = H * W * C, N = 2 };
  double x[N * D], kr[N * N], tr[N * N], ka[N * N], ta[N * N], kb[N * N], tb[N * N];
  ntk_layer res[10], na[4], nb[6];
  size_t i;
  t_section("sref_branches");
  sref_fill(x, N * D);
  /* input conv fanout(2) | relu conv | sum gap dense */
  res[0] = ntk_input(H, W, C), res[1] = ntk_conv(5, 3, 3, 1, 1, NTK_PAD_SAME, 1.2, 0.3), res[2] = ntk_fanout(2);
  res[3] = ntk_branch(), res[4] = ntk_relu(), res[5] = ntk_conv(5, 2, 2, 1, 1, NTK_PAD_SAME, 1.4, 0.2);
  res[6] = ntk_fanin_sum(), res[7] = ntk_global_avg_pool(), res[8] = ntk_dense(1, 0.7, 0.5);
  na[0] = res[0], na[1] = res[1], na[2] = res[7], na[3] = ntk_dense(1, 0.7, 0);
  nb[0] = res[0], nb[1] = res[1], nb[2] = res[4], nb[3] = res[5], nb[4] = res[7], nb[5] = na[3];
  T_CHECK(ref_spatial_kernel(res, 9, x, N, NULL, 0, D, kr, tr) == 0, "%s", ref_spatial_error);
  T_CHECK(ref_spatial_kernel(na, 4, x, N, NULL, 0, D, ka, ta) == 0, "%s", ref_spatial_error);
  T_CHECK(ref_spatial_kernel(nb, 6, x, N, NULL, 0, D, kb, tb) == 0, "%s", ref_spatial_error);
  for (i = 0; i < N * N; i++) ka[i] += kb[i] + 0.25, ta[i] += tb[i] + 0.25; /* + σ_b² of the readout */
  sref_check_pair("res(| relu conv) nngp = sum rule", kr, ka, N * N, 1e-13);
  sref_check_pair("res(| relu conv) ntk = sum rule", tr, ta, N * N, 1e-13);
  /* the same with the empty branch second */
  res[3] = res[4], res[4] = res[5], res[5] = ntk_branch();
  T_CHECK(ref_spatial_kernel(res, 9, x, N, NULL, 0, D, kb, tb) == 0, "%s", ref_spatial_error);
  sref_check_pair("res(relu conv |) nngp", kb, ka, N * N, 1e-13);
  sref_check_pair("res(relu conv |) ntk", tb, ta, N * N, 1e-13);
  /* sum(|): doubled conv variances, then relu conv gap dense */
  {
    ntk_layer s2[9], d2[6];
    s2[0] = res[0], s2[1] = res[1], s2[2] = ntk_fanout(2), s2[3] = ntk_branch(), s2[4] = ntk_fanin_sum();
    s2[5] = ntk_relu(), s2[6] = ntk_conv(3, 3, 2, 2, 1, NTK_PAD_VALID, 0.9, 0.1), s2[7] = ntk_flatten();
    s2[8] = ntk_dense(1, 1, 0);
    d2[0] = res[0], d2[1] = ntk_conv(5, 3, 3, 1, 1, NTK_PAD_SAME, 1.2 * sqrt(2.0), 0.3 * sqrt(2.0));
    d2[2] = s2[5], d2[3] = s2[6], d2[4] = s2[7], d2[5] = s2[8];
    T_CHECK(ref_spatial_kernel(s2, 9, x, N, NULL, 0, D, ka, ta) == 0, "%s", ref_spatial_error);
    T_CHECK(ref_spatial_kernel(d2, 6, x, N, NULL, 0, D, kb, tb) == 0, "%s", ref_spatial_error);
    sref_check_pair("sum(|) = doubled variances, nngp", ka, kb, N * N, 1e-13);
    sref_check_pair("sum(|) = doubled variances, ntk", ta, tb, N * N, 1e-13);
  }
  /* concat(conv(8) | conv(16)) gap dense = (1/3)·A + (2/3)·B on the pre-readout kernels */
  {
    ntk_layer cc[9], a1[4], b1[4];
    double kc[N * N], tc[N * N];
    cc[0] = res[0], cc[1] = ntk_fanout(2), cc[2] = ntk_conv(8, 3, 3, 1, 1, NTK_PAD_SAME, 1.1, 0.2), cc[3] = ntk_branch();
    cc[4] = ntk_conv(16, 1, 3, 1, 1, NTK_PAD_CIRCULAR, 1.6, 0), cc[5] = ntk_fanin_concat(), cc[6] = ntk_global_avg_pool();
    cc[7] = ntk_dense(1, 1, 0);
    a1[0] = res[0], a1[1] = cc[2], a1[2] = cc[6], a1[3] = cc[7];
    b1[0] = res[0], b1[1] = cc[4], b1[2] = cc[6], b1[3] = cc[7];
    T_CHECK(ref_spatial_kernel(cc, 8, x, N, NULL, 0, D, kc, tc) == 0, "%s", ref_spatial_error);
    T_CHECK(ref_spatial_kernel(a1, 4, x, N, NULL, 0, D, ka, ta) == 0, "%s", ref_spatial_error);
    T_CHECK(ref_spatial_kernel(b1, 4, x, N, NULL, 0, D, kb, tb) == 0, "%s", ref_spatial_error);
    /* readout (ntk, no bias): K = pooled, Θ = K + pooled Θ; the branches' Θ_in = their K_in */
    for (i = 0; i < N * N; i++) ka[i] = ka[i] / 3 + 2 * kb[i] / 3, ta[i] = ta[i] / 3 + 2 * tb[i] / 3;
    sref_check_pair("concat(8 | 16) nngp = 1/3, 2/3", kc, ka, N * N, 1e-13);
    sref_check_pair("concat(8 | 16) ntk = 1/3, 2/3", tc, ta, N * N, 1e-13);
    cc[5] = ntk_relu(), cc[6] = ntk_fanin_concat(), cc[7] = ntk_relu(), cc[8] = ntk_global_avg_pool();
    T_CHECK(ref_spatial_kernel(cc, 9, x, N, NULL, 0, D, kc, tc) == -1, "relu after concat must be refused");
    T_CHECK(strstr(ref_spatial_error, "layer 7") != NULL, "the refusal names layer 7: '%s'", ref_spatial_error);
  }
  {
    ntk_layer bad[4];
    bad[0] = ntk_input(H, W, C), bad[1] = ntk_flatten(), bad[2] = ntk_relu(), bad[3] = ntk_dense(1, 1, 0);
    T_CHECK(ref_spatial_kernel(bad, 4, x, 1, NULL, 0, D, kr, NULL) == -1, "relu after flatten must be refused");
    T_CHECK(strstr(ref_spatial_error, "layer 2") != NULL, "the refusal names layer 2: '%s'", ref_spatial_error);
  }
}

/* LayerNorm after a bias-free Dense divides by the norms: over channels on a vector, and over
   (h, w, c) on an image, it turns the kernel into x·x′/(|x||x′|), which the MLP kernel gives on
   the rows x̂ = x·√dim/|x| through a first Dense(1, 0) (+ identity: Θ_in = ρ, as after LN). */
static void test_sref_layer_norm(void) {
  enum { H = 3, W = 2, C = 3, D = H * W * C, N = 3 };
  double x[N * D], xh[N * D], kl[N * N], tl[N * N], kr[N * N], tr[N * N];
  size_t v, i, j;
  t_section("sref_layer_norm");
  sref_fill(x, N * D);
  for (i = 0; i < N; i++) {
    double nrm = 0;
    for (j = 0; j < D; j++) nrm += x[i * D + j] * x[i * D + j];
    for (j = 0; j < D; j++) xh[i * D + j] = x[i * D + j] * sqrt((double)D / nrm);
  }
  for (v = 0; v < 2; v++) {
    ntk_layer mlp[5], net[7];
    size_t nm, nn;
    if (v == 0) { /* vector: dense LN(c) relu dense  vs  dense(1,0) relu dense on x̂ */
      mlp[0] = ntk_dense(4, 1, 0), mlp[1] = ntk_relu(), mlp[2] = ntk_dense(1, 0.8, 0.3), nm = 3;
      net[0] = ntk_dense(4, 1.7, 0), net[1] = ntk_layer_norm(0, 1e-300), net[2] = ntk_relu();
      net[3] = ntk_dense(1, 0.8, 0.3), nn = 4;
    } else { /* image: dense LN(hwc) flatten dense  vs  dense(1,0) identity dense on x̂ */
      mlp[0] = ntk_dense(4, 1, 0), mlp[1] = ntk_identity(), mlp[2] = ntk_dense(1, 0.8, 0.3), nm = 3;
      net[0] = ntk_input(H, W, C), net[1] = ntk_dense(4, 1.7, 0);
      net[2] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 1e-300), net[3] = ntk_flatten();
      net[4] = ntk_dense(1, 0.8, 0.3), nn = 5;
    }
    T_STATUS(ntk_kernel(mlp, nm, xh, N, NULL, N, D, kl, tl), NTK_OK); /* NULL: ρ = 1 exactly on the diagonal */
    T_CHECK(ref_spatial_kernel(net, nn, x, N, NULL, 0, D, kr, tr) == 0, "%s", ref_spatial_error);
    sref_check_pair(v ? "LN(hwc) image nngp" : "LN(c) vector nngp", kr, kl, N * N, 1e-12);
    sref_check_pair(v ? "LN(hwc) image ntk" : "LN(c) vector ntk", tr, tl, N * N, 1e-12);
  }
}

/* neural-tangents' one literal pooling example (stax_test.py L494-539): AvgPool((2, 2),
   (1, 1), 'SAME', normalize_edges=False) on an all-ones 2×3 image gives the map
   m = [[1, 1, .5], [.5, .5, .25]], and the NNGP is its outer product; with normalize_edges,
   every entry is 1. */
static void test_sref_avgpool_example(void) {
  static const double m[6] = {1, 1, 0.5, 0.5, 0.5, 0.25};
  double ones[6] = {1, 1, 1, 1, 1, 1};
  size_t ne, i, j;
  t_section("sref_avgpool_example");
  for (ne = 0; ne < 2; ne++) {
    ntk_layer net[2];
    ref_cov s;
    double worst = 0;
    net[0] = ntk_input(2, 3, 1), net[1] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, (int)ne);
    T_CHECK(ref_spatial_pair(net, 2, ones, ones, 6, &s) == 0, "%s", ref_spatial_error);
    if (!s.k12) continue;
    T_CHECK(s.h == 2 && s.w == 3, "SAME pool output %lux%lu, expected 2x3", (unsigned long)s.h, (unsigned long)s.w);
    for (i = 0; i < 6; i++)
      for (j = 0; j < 6; j++) {
        double want = ne ? 1 : m[i] * m[j];
        double e = fabs((double)s.k12[i * 6 + j] - want) + fabs((double)s.k11[i * 6 + j] - want);
        if (e > worst) worst = e;
      }
    T_CHECK(worst < 1e-15, "AvgPool SAME example (normalize_edges=%d): worst |K - m m^T| = %.3g", (int)ne, worst);
    ref__free(&s);
  }
}

/* ---- Monte Carlo: a finite one-hidden-layer CNN written here --------------------------------
   x (H, W, C) NHWC → z = conv(x) (Ho, Wo, n), SAME padding by the lax rule, weights ω ~ N(0, 1)
   scaled by σ1/√(C·fh·fw), bias β1·b → r = relu(z) → g = M·r (a fixed linear map over positions:
   GAP, or AvgPool + Flatten) → f = σ2/√(Q·n)·Σ v·g + β2·b_r, Q = rows of M. Per draw of the
   hidden weights the readout is integrated exactly (K̂ = σ2²/(Q n)·⟨g, g′⟩ + β2²) and Θ̂ is
   the explicit J(x)·J(x′) with the drawn v (E v² = 1): both unbiased for the infinite-width
   kernel at any n (one hidden layer). 'standard' has the same forward pass; its gradients are
   the raw ones times √fan_in/σ (W) and 1/β (b). */
#ifndef SREF_DRAWS
#define SREF_DRAWS 600
#endif
typedef struct sref_cnn {
  size_t H, W, C, fh, fw, sh, sw, Ho, Wo, n, Q;
  long loh, low;
  double s1, b1, s2, b2;
  const double *M; /* (Q, Ho·Wo) */
} sref_cnn;

static void sref_cnn_axis(size_t in, size_t f, size_t s, size_t *out, long *lo) {
  long total;
  *out = (in + s - 1) / s;
  total = (long)((*out - 1) * s + f) - (long)in;
  *lo = (total > 0 ? total : 0) / 2;
}
static double sref_tap(const sref_cnn *m, const double *x, size_t oh, size_t ow, size_t dh, size_t dw, size_t k) {
  long ih = (long)(oh * m->sh + dh) - m->loh, iw = (long)(ow * m->sw + dw) - m->low;
  if (ih < 0 || iw < 0 || ih >= (long)m->H || iw >= (long)m->W) return 0;
  return x[((size_t)ih * m->W + (size_t)iw) * m->C + k];
}
/* z (P, n) of x for weights om (n, fh, fw, C), b (n) */
static void sref_cnn_z(const sref_cnn *m, const double *x, const double *om, const double *b, double *z) {
  size_t oh, ow, c, dh, dw, k, P = m->Ho * m->Wo;
  double a = m->s1 / sqrt((double)(m->C * m->fh * m->fw));
  (void)P;
  for (oh = 0; oh < m->Ho; oh++)
    for (ow = 0; ow < m->Wo; ow++)
      for (c = 0; c < m->n; c++) {
        double s = 0;
        for (dh = 0; dh < m->fh; dh++)
          for (dw = 0; dw < m->fw; dw++)
            for (k = 0; k < m->C; k++) s += om[((c * m->fh + dh) * m->fw + dw) * m->C + k] * sref_tap(m, x, oh, ow, dh, dw, k);
        z[(oh * m->Wo + ow) * m->n + c] = a * s + m->b1 * b[c];
      }
}

/* one draw: K̂ and Θ̂ ('ntk' and 'standard') for the pairs (x1, x2) and (x1, x1) */
static void sref_cnn_draw(const sref_cnn *m, const double *x1, const double *x2, double out[6]) {
  size_t P = m->Ho * m->Wo, nw = m->n * m->fh * m->fw * m->C, i, p, q, c, oh, ow, dh, dw, k, t;
  double *om = (double *)malloc(nw * sizeof(double)), *b = (double *)malloc(m->n * sizeof(double));
  double *v = (double *)malloc(m->Q * m->n * sizeof(double));
  double *z[2], *u[2], *g[2], *gw[2], *gb[2];
  const double *xs[2];
  double a = m->s1 / sqrt((double)(m->C * m->fh * m->fw)), ro = m->s2 / sqrt((double)(m->Q * m->n));
  xs[0] = x1, xs[1] = x2;
  sref_fill(om, nw), sref_fill(b, m->n), sref_fill(v, m->Q * m->n);
  for (t = 0; t < 2; t++) {
    z[t] = (double *)malloc(P * m->n * sizeof(double)), u[t] = (double *)calloc(P * m->n, sizeof(double));
    g[t] = (double *)calloc(m->Q * m->n, sizeof(double)), gw[t] = (double *)calloc(nw, sizeof(double));
    gb[t] = (double *)calloc(m->n, sizeof(double));
    sref_cnn_z(m, xs[t], om, b, z[t]);
    for (q = 0; q < m->Q; q++)
      for (p = 0; p < P; p++)
        for (c = 0; c < m->n; c++) {
          double r = z[t][p * m->n + c] > 0 ? z[t][p * m->n + c] : 0, d = z[t][p * m->n + c] > 0 ? 1 : 0;
          g[t][q * m->n + c] += m->M[q * P + p] * r;
          u[t][p * m->n + c] += m->M[q * P + p] * v[q * m->n + c] * d; /* ∂f/∂z · √(Q n)/σ2 */
        }
    for (oh = 0; oh < m->Ho; oh++)
      for (ow = 0; ow < m->Wo; ow++)
        for (c = 0; c < m->n; c++) {
          double uu = ro * u[t][(oh * m->Wo + ow) * m->n + c];
          gb[t][c] += uu * m->b1;
          for (dh = 0; dh < m->fh; dh++)
            for (dw = 0; dw < m->fw; dw++)
              for (k = 0; k < m->C; k++)
                gw[t][((c * m->fh + dh) * m->fw + dw) * m->C + k] += uu * a * sref_tap(m, xs[t], oh, ow, dh, dw, k);
        }
  }
  {
    double gg = 0, ww = 0, bb = 0, fan = (double)(m->C * m->fh * m->fw);
    for (i = 0; i < m->Q * m->n; i++) gg += g[0][i] * g[1][i];
    for (i = 0; i < nw; i++) ww += gw[0][i] * gw[1][i];
    for (i = 0; i < m->n; i++) bb += gb[0][i] * gb[1][i];
    out[0] = m->s2 * m->s2 / (double)(m->Q * m->n) * gg + m->b2 * m->b2;       /* K̂ */
    out[1] = out[0] + ww + bb;                                                /* Θ̂ 'ntk' */
    out[2] = gg + 1 + ww * fan / (m->s1 * m->s1) + bb / (m->b1 * m->b1);      /* Θ̂ 'standard' */
  }
  for (t = 0; t < 2; t++) free(z[t]), free(u[t]), free(g[t]), free(gw[t]), free(gb[t]);
  free(om), free(b), free(v);
}

static void test_sref_monte_carlo(void) {
  enum { H = 5, W = 4, C = 2, D = H * W * C, DRAWS = SREF_DRAWS };
  double x1[D], x2[D];
  size_t arch, i, pair, d, q, p;
  t_section("sref_monte_carlo");
  sref_fill(x1, D), sref_fill(x2, D);
  for (arch = 0; arch < 2; arch++) {
    sref_cnn m;
    double *M;
    ntk_layer net[7];
    size_t nl;
    memset(&m, 0, sizeof m);
    m.H = H, m.W = W, m.C = C, m.n = 48, m.s1 = 1.3, m.b1 = 0.4, m.s2 = 0.9, m.b2 = 0.3;
    if (arch == 0) m.fh = 3, m.fw = 2, m.sh = 2, m.sw = 1; /* stride 2 on 5 rows: lo 1 */
    else m.fh = 3, m.fw = 3, m.sh = 1, m.sw = 1;
    sref_cnn_axis(H, m.fh, m.sh, &m.Ho, &m.loh), sref_cnn_axis(W, m.fw, m.sw, &m.Wo, &m.low);
    p = m.Ho * m.Wo;
    if (arch == 0) { /* GAP */
      m.Q = 1, M = (double *)malloc(p * sizeof(double));
      for (i = 0; i < p; i++) M[i] = 1.0 / (double)p;
    } else { /* AvgPool(2×2, stride 1, SAME: lo 0, hi 1, divisor 4 at the edges too), Flatten */
      size_t oh, ow, dh, dw;
      m.Q = p, M = (double *)calloc(p * p, sizeof(double));
      for (oh = 0; oh < m.Ho; oh++)
        for (ow = 0; ow < m.Wo; ow++)
          for (dh = 0; dh < 2; dh++)
            for (dw = 0; dw < 2; dw++)
              if (oh + dh < m.Ho && ow + dw < m.Wo) M[(oh * m.Wo + ow) * p + (oh + dh) * m.Wo + ow + dw] = 0.25;
    }
    m.M = M;
    for (pair = 0; pair < 2; pair++) {
      const double *xb = pair ? x1 : x2;
      double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0}, refv[3];
      for (d = 0; d < DRAWS; d++) {
        double o[6];
        sref_cnn_draw(&m, x1, xb, o);
        for (q = 0; q < 3; q++) sum[q] += o[q], sq[q] += o[q] * o[q];
      }
      for (q = 0; q < 3; q++) {
        ntk_layer (*conv)(size_t, size_t, size_t, size_t, size_t, ntk_padding, double, double) =
            q == 2 ? ntk_conv_standard : ntk_conv;
        double mean = sum[q] / DRAWS, se = sqrt((sq[q] / DRAWS - mean * mean) / (DRAWS - 1)), k, th;
        net[0] = ntk_input(H, W, C), net[1] = conv(m.n, m.fh, m.fw, m.sh, m.sw, NTK_PAD_SAME, m.s1, m.b1);
        net[2] = ntk_relu();
        if (arch == 0) net[3] = ntk_global_avg_pool(), nl = 5;
        else net[3] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, 0), net[4] = ntk_flatten(), nl = 6;
        net[nl - 1] = q == 2 ? ntk_dense_standard(1, m.s2, m.b2) : ntk_dense(1, m.s2, m.b2);
        T_CHECK(ref_spatial_kernel(net, nl, x1, 1, xb, 1, D, &k, &th) == 0, "%s", ref_spatial_error);
        refv[q] = q == 0 ? k : th;
        T_CHECK(fabs(mean - refv[q]) <= 4 * se + 1e-12,
                "MC %s %s %s: mean %.6g ± %.2g (%d draws, width %lu) vs reference %.6g (%.1f SE)",
                arch ? "conv3x3-relu-avgpool-flatten" : "conv3x2/s2-relu-gap", pair ? "(x,x)" : "(x,x')",
                q == 0 ? "nngp" : q == 1 ? "ntk" : "ntk standard", mean, se, DRAWS, (unsigned long)m.n, refv[q],
                fabs(mean - refv[q]) / se);
        if (getenv("SREF_VERBOSE"))
          printf("  MC arch %lu pair %lu q %lu: %.6g ± %.2g vs %.6g (%.2f SE)\n", (unsigned long)arch,
                 (unsigned long)pair, (unsigned long)q, mean, se, refv[q], (mean - refv[q]) / se);
      }
    }
    free(M);
  }
}

static void test_sref_all(void) {
  test_sref_mlp();
  test_sref_positions();
  test_sref_full_filter();
  test_sref_circular();
  test_sref_branches();
  test_sref_avgpool_example();
  test_sref_layer_norm();
  test_sref_monte_carlo();
}
