/* make demo: the Neural Tangent Kernel theory, happening. Every number is computed in this run.
   1. the kernel at initialisation: empirical NTK of ReLU networks of growing width against the
      analytic (infinite-width) NTK — the error falls like width^(-1/2);
   2. the kernel during training: how far the empirical NTK moves while the network trains —
      less and less as width grows;
   3. function space: a network's outputs during gradient descent against the closed-form
      prediction of its own linearisation and of the infinite-width kernel;
   4. Jacot et al. (2018), Figure 1: the NTK of a depth-4 ReLU network on the unit circle for two
      widths and several seeds, at initialisation and after training, against the limit;
   5. the same claims for a convolutional network (conv 3×3 SAME, ReLU, 2×2 average pool, conv,
      ReLU, global average pool, Dense on 8×8 images): its empirical NTK against the analytic CNTK
      as width grows, and a trained CNN against its linearisation (trained by gradient descent in
      parameter space) and against the infinite-width prediction. Panel 5 checks its claims (the
      fitted slope, the two linearisations agreeing, the gaps falling with width) and the demo
      exits with status 1 if one fails.
   Writes SVG figures to build/figures/ and prints their paths. */
#define NTK_IMPLEMENTATION
#include "../ntk.h"
#include "svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static unsigned long long rng = 2024;
static double gauss(void) {
  double u, v, s;
  do {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    u = (double)(rng >> 11) / 4503599627370496.0 - 1;
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    v = (double)(rng >> 11) / 4503599627370496.0 - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  return u * sqrt(-2 * log(s) / s);
}
static double frob_rel(const double *a, const double *b, size_t n) { /* ‖a − b‖ / ‖b‖ */
  double num = 0, den = 0;
  size_t i;
  for (i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return sqrt(num / den);
}
static void check(ntk_status s, const char *what) {
  if (s != NTK_OK) {
    fprintf(stderr, "demo: %s: %s\n", what, ntk_status_string(s));
    exit(1);
  }
}

#define D 10
#define NTR 16
#define NTE 8
#define STEPS 200
#define LOGEVERY 10

/* record the test outputs during training */
typedef struct {
  ntk_net *net;
  const double *xte;
  double traj[STEPS / LOGEVERY + 1][NTE];
} traj_ctx;
static int record(size_t step, double loss, void *user) {
  traj_ctx *c = (traj_ctx *)user;
  (void)loss;
  if (step % LOGEVERY == 0) ntk_net_apply(c->net, c->xte, NTE, c->traj[step / LOGEVERY]);
  return 0;
}

/* ---- 5. a convolutional network ------------------------------------------------------------ */
#define CS 8                /* images CS × CS × 1 */
#define CDIM (CS * CS)
#define CNTR 16
#define CNTE NTE            /* so that traj_ctx and record serve both panels */
#define CSTEPS 150          /* ≤ STEPS, likewise */
static double unif(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng >> 11) / 9007199254740992.0;
}
/* conv(W, 3×3, SAME) ReLU AvgPool(2×2, stride 2) conv(W, 3×3, SAME) ReLU GAP Dense(1), NTK
   parameterisation; W = 0 in the analytic kernel (the width is not read there) */
static size_t cnn(ntk_layer *l, size_t W) {
  l[0] = ntk_input(CS, CS, 1);
  l[1] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_SAME, 1.4142135623730951, 0.1), l[2] = ntk_relu();
  l[3] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[4] = ntk_conv(W, 3, 3, 1, 1, NTK_PAD_SAME, 1.4142135623730951, 0.1), l[5] = ntk_relu();
  l[6] = ntk_global_avg_pool(), l[7] = ntk_dense(1, 1, 0.1);
  return 8;
}
static int claim(int ok, const char *what) { /* a checked claim: printed, and counted if false */
  printf("   check: %s: %s\n", what, ok ? "yes" : "NO");
  return !ok;
}
static int cnn_panel(double t0) {
  static const size_t widths_init[] = {8, 16, 32, 64, 128, 256};
  static const size_t widths_train[] = {32, 64, 128};
  enum { NI = 6, SI = 12, NT = 3, ST = 2 };
  double x[CNTR * CDIM], xte[CNTE * CDIM], y[CNTR], yte[CNTE], Ta[CNTR * CNTR], Tta[CNTE * CNTR], E[CNTR * CNTR], Et[CNTE * CNTR];
  double err[NI][SI], errm[NI], wx[NI], slope, chg[NT], gap_lin[NT], gap_inf[NT], agree = 0, lr, wt[NT];
  double show[4][CNTE]; /* widest width, seed 0: initial, trained, linearised, infinite width */
  double tx[CSTEPS / LOGEVERY + 1], tr_net[CSTEPS / LOGEVERY + 1], tr_lin[CSTEPS / LOGEVERY + 1], tr_inf[CSTEPS / LOGEVERY + 1];
  static traj_ctx tc;
  ntk_layer layers[8];
  size_t L, i, j, w;
  int s, failed = 0;
  svg_plot p;
  rng = 8; /* the panel's own data, whatever ran before */
  /* stripes of random orientation θ, frequency and phase plus noise, each image standardised
     (mean 0, mean square 1); the target is cos 2θ (vertical +1, horizontal −1) */
  for (i = 0; i < CNTR + CNTE; i++) {
    double *r = i < CNTR ? x + i * CDIM : xte + (i - CNTR) * CDIM, th = 3.14159265358979 * unif();
    double fr = 0.6 + 0.6 * unif(), ph = 6.28318530717959 * unif(), m = 0, v = 0;
    for (j = 0; j < CDIM; j++) r[j] = cos(fr * ((double)(j / CS) * cos(th) + (double)(j % CS) * sin(th)) + ph) + 0.3 * gauss(), m += r[j];
    for (j = 0; j < CDIM; j++) r[j] -= m / CDIM, v += r[j] * r[j];
    for (j = 0; j < CDIM; j++) r[j] /= sqrt(v / CDIM);
    if (i < CNTR) y[i] = cos(2 * th);
    else yte[i - CNTR] = cos(2 * th);
  }
  L = cnn(layers, 0);
  check(ntk_kernel(layers, L, x, CNTR, NULL, 0, CDIM, NULL, Ta), "analytic CNTK");
  check(ntk_kernel(layers, L, xte, CNTE, x, CNTR, CDIM, NULL, Tta), "analytic CNTK");

  printf("5. A convolutional network: conv(W, 3x3, SAME) ReLU avgpool(2x2) conv(W, 3x3, SAME) ReLU GAP\n"
         "   Dense(1), NTK parameterisation (σ_w = √2, σ_b = 0.1), on %d + %d images 8x8x1 (noisy stripes\n"
         "   of random orientation θ, target cos 2θ).\n\n"
         "   a. Empirical NTK at initialisation vs the analytic CNTK (ntk_kernel on the same layer list),\n"
         "   relative Frobenius error, %d seeds per width\n\n   width   mean error   min      max\n", CNTR, CNTE, SI);
  for (w = 0; w < NI; w++) {
    double lo = 1e300, hi = 0;
    L = cnn(layers, widths_init[w]);
    errm[w] = 0;
    for (s = 0; s < SI; s++) {
      ntk_net net;
      check(ntk_net_init(&net, layers, L, CDIM, 100 + (uint64_t)s), "init");
      check(ntk_net_empirical_kernel(&net, x, CNTR, NULL, 0, 0, NULL, E), "empirical kernel");
      err[w][s] = frob_rel(E, Ta, CNTR * CNTR);
      errm[w] += err[w][s] / SI;
      lo = err[w][s] < lo ? err[w][s] : lo, hi = err[w][s] > hi ? err[w][s] : hi;
      ntk_net_free(&net);
    }
    wx[w] = (double)widths_init[w];
    printf("   %5zu   %10.4f   %.4f   %.4f\n", widths_init[w], errm[w], lo, hi);
  }
  slope = svg_loglog_slope(wx, errm, NI);
  printf("   fitted log-log slope: %.3f (theory: -0.5)\n", slope);
  failed += claim(slope >= -0.7 && slope <= -0.3, "slope within [-0.7, -0.3]");
  {
    double fit[NI];
    svg_begin(&p, "build/figures/cnn_kernel_at_init.svg", "CNN: empirical NTK at init → analytic CNTK", "width (channels)", "relative error ‖Θ̂ − Θ‖/‖Θ‖", 1, 1);
    for (s = 0; s < SI; s++) {
      double ys[NI];
      for (w = 0; w < NI; w++) ys[w] = err[w][s];
      svg_series(&p, wx, ys, NI, s == 0 ? "one network (seed)" : NULL, SVG_DOTS, 7);
    }
    svg_series(&p, wx, errm, NI, "mean over seeds", SVG_LINE | SVG_DOTS, 0);
    for (w = 0; w < NI; w++) fit[w] = errm[0] * pow(wx[w] / wx[0], -0.5);
    svg_series(&p, wx, fit, NI, "width^(-1/2)", SVG_DASH, 1);
    if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
  }
  printf("   (%.1f s)\n\n", now() - t0);

  check(ntk_max_learning_rate(Ta, CNTR, 1, &lr), "max learning rate");
  lr *= 0.25;
  printf("   b. Full-batch gradient descent, %d steps of lr = %.3g (a quarter of the analytic CNTK's largest\n"
         "   stable rate), %d seeds per width: the CNN (ntk_net_train); its linearisation at θ0 trained by the\n"
         "   same gradient descent in parameter space, θ ← θ − lr·J0ᵀ(f0 + J0·(θ − θ0) − y)/N, evaluated on the\n"
         "   test images by ntk_net_apply_linearized; the infinite-width prediction (the predictor on the\n"
         "   analytic CNTK from the same initial outputs). Gaps are relative to how far the test outputs moved.\n\n"
         "   width   kernel change   gap to linearisation   gap to infinite width\n", CSTEPS, lr, ST);
  for (w = 0; w < NT; w++) {
    double c = 0, gl = 0, gi = 0;
    L = cnn(layers, widths_train[w]);
    for (s = 0; s < ST; s++) {
      ntk_net net, net0;
      ntk_predictor pe, pa;
      ntk_train_desc td;
      double f0[CNTR], g0[CNTE], gT[CNTE], lin[CNTE], link[CNTE], inf[CNTE], r[CNTR], ET[CNTR * CNTR];
      double *J, *d, num = 0, den = 0, num2 = 0, den2 = 0, a = 0, an = 0;
      size_t P, q, k;
      check(ntk_net_init(&net, layers, L, CDIM, 200 + (uint64_t)s), "init");
      check(ntk_net_init(&net0, layers, L, CDIM, 200 + (uint64_t)s), "init"); /* keeps θ0 */
      P = net.n_params;
      J = (double *)malloc(CNTR * P * sizeof *J), d = (double *)malloc(P * sizeof *d);
      if (!J || !d) fprintf(stderr, "demo: out of memory\n"), exit(1);
      check(ntk_net_apply(&net, x, CNTR, f0), "apply");
      check(ntk_net_apply(&net, xte, CNTE, g0), "apply");
      check(ntk_net_jacobian(&net, x, CNTR, J), "jacobian");
      check(ntk_net_empirical_kernel(&net, x, CNTR, NULL, 0, 0, NULL, E), "empirical kernel");
      check(ntk_net_empirical_kernel(&net, xte, CNTE, x, CNTR, 0, NULL, Et), "empirical kernel");
      /* the network */
      memset(&td, 0, sizeof td);
      tc.net = &net, tc.xte = xte, td.callback = record, td.user = &tc;
      check(ntk_net_train_ex(&net, x, y, CNTR, lr, CSTEPS, &td), "train");
      check(ntk_net_apply(&net, xte, CNTE, gT), "apply");
      check(ntk_net_empirical_kernel(&net, x, CNTR, NULL, 0, 0, NULL, ET), "empirical kernel");
      c += frob_rel(ET, E, CNTR * CNTR) / ST;
      /* its linearisation, trained in parameter space: d = θ − θ0, r = f0 + J0·d − y; one pass
         over J0 per step, in column blocks that stay in cache (d ← d − lr/N·J0ᵀr, then J0·d) */
      memset(d, 0, P * sizeof *d);
      for (i = 0; i < CNTR; i++) r[i] = f0[i] - y[i];
      for (q = 0; q < CSTEPS; q++) {
        double rn[CNTR], g[256];
        size_t p0, p1;
        for (i = 0; i < CNTR; i++) rn[i] = f0[i] - y[i];
        for (p0 = 0; p0 < P; p0 = p1) {
          p1 = p0 + 256 < P ? p0 + 256 : P;
          for (k = p0; k < p1; k++) g[k - p0] = 0;
          for (i = 0; i < CNTR; i++)
            for (k = p0; k < p1; k++) g[k - p0] += J[i * P + k] * r[i];
          for (k = p0; k < p1; k++) d[k] -= lr / CNTR * g[k - p0];
          for (i = 0; i < CNTR; i++) { /* four partial sums: the compiler may vectorise them */
            double acc[4] = {0, 0, 0, 0};
            const double *Ji = J + i * P;
            for (k = p0; k + 4 <= p1; k += 4)
              acc[0] += Ji[k] * d[k], acc[1] += Ji[k + 1] * d[k + 1], acc[2] += Ji[k + 2] * d[k + 2], acc[3] += Ji[k + 3] * d[k + 3];
            for (; k < p1; k++) acc[0] += Ji[k] * d[k];
            rn[i] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
          }
        }
        memcpy(r, rn, sizeof rn);
      }
      for (k = 0; k < P; k++) d[k] += net0.params[k];
      check(ntk_net_apply_linearized(&net0, d, xte, CNTE, lin), "linearised apply");
      /* the closed form on the empirical NTK (as panel 3) and on the analytic CNTK */
      check(ntk_predictor_init(&pe, E, CNTR, y, 1, f0, lr, 0, 0), "predictor");
      check(ntk_predictor_init(&pa, Ta, CNTR, y, 1, f0, lr, 0, 0), "predictor");
      check(ntk_predict_test(&pe, CSTEPS, 1, Et, CNTE, g0, link), "predict");
      check(ntk_predict_test(&pa, CSTEPS, 1, Tta, CNTE, g0, inf), "predict");
      for (i = 0; i < CNTE; i++) {
        num += (gT[i] - lin[i]) * (gT[i] - lin[i]), den += (lin[i] - g0[i]) * (lin[i] - g0[i]);
        num2 += (gT[i] - inf[i]) * (gT[i] - inf[i]), den2 += (inf[i] - g0[i]) * (inf[i] - g0[i]);
        a += (lin[i] - link[i]) * (lin[i] - link[i]), an += (lin[i] - g0[i]) * (lin[i] - g0[i]);
      }
      gl += sqrt(num / den) / ST, gi += sqrt(num2 / den2) / ST;
      agree = sqrt(a / an) > agree ? sqrt(a / an) : agree;
      if (w == NT - 1 && s == 0) {
        for (i = 0; i < CNTE; i++) show[0][i] = g0[i], show[1][i] = gT[i], show[2][i] = lin[i], show[3][i] = inf[i];
        for (q = 0; q <= CSTEPS / LOGEVERY; q++) { /* test image 0 during training */
          double o1[CNTE], o2[CNTE];
          tx[q] = (double)(q * LOGEVERY);
          check(ntk_predict_test(&pe, tx[q], 1, Et, CNTE, g0, o1), "predict");
          check(ntk_predict_test(&pa, tx[q], 1, Tta, CNTE, g0, o2), "predict");
          tr_net[q] = tc.traj[q][0], tr_lin[q] = o1[0], tr_inf[q] = o2[0];
        }
      }
      ntk_predictor_free(&pe), ntk_predictor_free(&pa);
      free(J), free(d);
      ntk_net_free(&net), ntk_net_free(&net0);
    }
    chg[w] = c, gap_lin[w] = gl, gap_inf[w] = gi, wt[w] = (double)widths_train[w];
    printf("   %5zu   %13.4f   %20.4f   %21.4f\n", widths_train[w], c, gl, gi);
  }
  printf("   fitted log-log slopes: kernel change %.3f, gap to linearisation %.3f, gap to infinite width %.3f\n",
         svg_loglog_slope(wt, chg, NT), svg_loglog_slope(wt, gap_lin, NT), svg_loglog_slope(wt, gap_inf, NT));
  printf("   the linearisation trained in parameter space vs the closed form on the empirical NTK (panel 3's\n"
         "   linearisation): largest relative difference %.1e\n\n", agree);
  printf("   Test outputs, width %zu, seed 0:\n   image   target   initial   trained CNN   linearised   infinite width\n", widths_train[NT - 1]);
  for (i = 0; i < CNTE; i++)
    printf("   %5zu   %6.3f   %7.4f   %11.4f   %10.4f   %14.4f\n", i, yte[i], show[0][i], show[1][i], show[2][i], show[3][i]);
  svg_begin(&p, "build/figures/cnn_function_space.svg", "CNN: a test output during gradient descent", "step", "f(x_test)", 0, 0);
  svg_series(&p, tx, tr_net, CSTEPS / LOGEVERY + 1, "trained CNN", SVG_LINE, 0);
  svg_series(&p, tx, tr_lin, CSTEPS / LOGEVERY + 1, "its linearisation", SVG_DASH, 0);
  svg_series(&p, tx, tr_inf, CSTEPS / LOGEVERY + 1, "infinite width (same f0)", SVG_DOTS, 2);
  if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
  failed += claim(agree < 1e-8, "the two linearisations agree to 1e-8");
  failed += claim(gap_lin[NT - 1] < gap_lin[0] && gap_inf[NT - 1] < gap_inf[0] && chg[NT - 1] < chg[0],
                  "kernel change and both gaps smaller at the widest width than at the narrowest");
  failed += claim(gap_lin[NT - 1] < 0.15, "the widest trained CNN within 15% of its linearisation");
  printf("   (%.1f s)\n\n", now() - t0);
  return failed;
}

int main(void) {
  static const size_t widths_init[] = {64, 128, 256, 512, 1024, 2048, 4096};
  static const size_t widths_train[] = {64, 128, 256, 512, 1024, 2048};
  const int n_init = 7, n_train = 6, seeds_init = 4, seeds_train = 3;
  double x[NTR * D], xte[NTE * D], y[NTR], Ta[NTR * NTR], Tta[NTE * NTR], E[NTR * NTR], Et[NTE * NTR];
  double err[7][4], errm[7], wx[7], chg[6], gap_lin[6], gap_inf[6], lr, t0 = now();
  ntk_layer layers[16];
  size_t L, i, j, w;
  int s, failed;
  svg_plot p;
  mkdir("build", 0755);
  mkdir("build/figures", 0755);
  printf("ntk.h %s demo (kernel set %s)\n\n", ntk_version(), ntk_simd_name());
  /* data: NTR training and NTE test points on the sphere of radius √D, targets a smooth function */
  for (i = 0; i < NTR + NTE; i++) {
    double *r = i < NTR ? x + i * D : xte + (i - NTR) * D, nrm = 0;
    for (j = 0; j < D; j++) r[j] = gauss(), nrm += r[j] * r[j];
    for (j = 0; j < D; j++) r[j] *= sqrt((double)D / nrm);
    if (i < NTR) y[i] = sin(r[0] + 0.5 * r[1]) + 0.3 * r[2];
  }
  L = ntk_mlp(layers, 16, 2, 0, ntk_relu(), 1.4142135623730951, 0.1, 1);
  check(ntk_kernel(layers, L, x, NTR, NULL, 0, D, NULL, Ta), "analytic kernel");
  check(ntk_kernel(layers, L, xte, NTE, x, NTR, D, NULL, Tta), "analytic kernel");

  /* ---- 1. the kernel at initialisation ---------------------------------------------------- */
  printf("1. Empirical NTK at initialisation vs the analytic NTK (ReLU, depth 2, %d inputs in d = %d,\n"
         "   %d seeds): relative Frobenius error\n\n   width   mean error   per seed\n", NTR, D, seeds_init);
  for (w = 0; w < (size_t)n_init; w++) {
    L = ntk_mlp(layers, 16, 2, widths_init[w], ntk_relu(), 1.4142135623730951, 0.1, 1);
    errm[w] = 0;
    for (s = 0; s < seeds_init; s++) {
      ntk_net net;
      check(ntk_net_init(&net, layers, L, D, 100 + (uint64_t)s), "init");
      check(ntk_net_empirical_kernel(&net, x, NTR, NULL, 0, 0, NULL, E), "empirical kernel");
      err[w][s] = frob_rel(E, Ta, NTR * NTR);
      errm[w] += err[w][s] / seeds_init;
      ntk_net_free(&net);
    }
    wx[w] = (double)widths_init[w];
    printf("   %5zu   %10.4f  ", widths_init[w], errm[w]);
    for (s = 0; s < seeds_init; s++) printf(" %.4f", err[w][s]);
    printf("\n");
  }
  {
    double slope = svg_loglog_slope(wx, errm, n_init), fit[7];
    printf("   fitted log-log slope: %.3f (theory: -0.5)\n\n", slope);
    svg_begin(&p, "build/figures/kernel_at_init.svg", "Empirical NTK at init → analytic NTK", "width", "relative error ‖Θ̂ − Θ‖/‖Θ‖", 1, 1);
    for (s = 0; s < seeds_init; s++) {
      double ys[7];
      for (w = 0; w < (size_t)n_init; w++) ys[w] = err[w][s];
      svg_series(&p, wx, ys, n_init, s == 0 ? "one network (seed)" : NULL, SVG_DOTS, 7);
    }
    svg_series(&p, wx, errm, n_init, "mean over seeds", SVG_LINE | SVG_DOTS, 0);
    for (w = 0; w < (size_t)n_init; w++) fit[w] = errm[0] * pow(wx[w] / wx[0], -0.5);
    svg_series(&p, wx, fit, n_init, "width^(-1/2)", SVG_DASH, 1);
    if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
  }

  printf("   (%.1f s)\n\n", now() - t0);
  /* ---- 2 & 3. training: the kernel moves less, the function follows the kernel ------------- */
  check(ntk_max_learning_rate(Ta, NTR, 1, &lr), "max learning rate");
  lr *= 0.25;
  printf("2-3. Full-batch gradient descent, %d steps of lr = %.3g (a quarter of the analytic kernel's\n"
         "   largest stable rate), %d seeds per width. Kernel change ‖Θ_T − Θ_0‖/‖Θ_0‖; test-output gap of\n"
         "   the trained network to its linearisation (empirical NTK at init) and to the infinite-width\n"
         "   prediction (analytic NTK), relative to how far the outputs moved (2 seeds from width 1024)\n\n"
         "   width   kernel change   gap to linearisation   gap to infinite width\n", STEPS, lr, seeds_train);
  {
    static traj_ctx tc;
    double traj_net[2][STEPS / LOGEVERY + 1], traj_lin[2][STEPS / LOGEVERY + 1], traj_inf[2][STEPS / LOGEVERY + 1], tx[STEPS / LOGEVERY + 1];
    int shown = 0;
    for (w = 0; w < (size_t)n_train; w++) {
      double c = 0, gl = 0, gi = 0;
      L = ntk_mlp(layers, 16, 2, widths_train[w], ntk_relu(), 1.4142135623730951, 0.1, 1);
      int ns = widths_train[w] >= 1024 ? 2 : seeds_train; /* the widest nets fluctuate least */
      for (s = 0; s < ns; s++) {
        ntk_net net;
        ntk_predictor pe, pa;
        ntk_train_desc td;
        double f0[NTR], g0[NTE], lin[NTE], inf[NTE], ET[NTR * NTR], num = 0, den = 0, num2 = 0, den2 = 0;
        check(ntk_net_init(&net, layers, L, D, 200 + (uint64_t)s), "init");
        check(ntk_net_apply(&net, x, NTR, f0), "apply");
        check(ntk_net_apply(&net, xte, NTE, g0), "apply");
        check(ntk_net_empirical_kernel(&net, x, NTR, NULL, 0, 0, NULL, E), "empirical kernel");
        check(ntk_net_empirical_kernel(&net, xte, NTE, x, NTR, 0, NULL, Et), "empirical kernel");
        check(ntk_predictor_init(&pe, E, NTR, y, 1, f0, lr, 0, 0), "predictor");
        check(ntk_predictor_init(&pa, Ta, NTR, y, 1, f0, lr, 0, 0), "predictor");
        memset(&td, 0, sizeof td);
        tc.net = &net, tc.xte = xte;
        td.callback = record, td.user = &tc;
        check(ntk_net_train_ex(&net, x, y, NTR, lr, STEPS, &td), "train");
        check(ntk_net_empirical_kernel(&net, x, NTR, NULL, 0, 0, NULL, ET), "empirical kernel");
        c += frob_rel(ET, E, NTR * NTR) / ns;
        check(ntk_predict_test(&pe, STEPS, 1, Et, NTE, g0, lin), "predict");
        check(ntk_predict_test(&pa, STEPS, 1, Tta, NTE, g0, inf), "predict");
        for (i = 0; i < NTE; i++) {
          double gT = tc.traj[STEPS / LOGEVERY][i];
          num += (gT - lin[i]) * (gT - lin[i]), den += (lin[i] - g0[i]) * (lin[i] - g0[i]);
          num2 += (gT - inf[i]) * (gT - inf[i]), den2 += (inf[i] - g0[i]) * (inf[i] - g0[i]);
        }
        gl += sqrt(num / den) / ns, gi += sqrt(num2 / den2) / ns;
        if (s == 0 && (widths_train[w] == 64 || widths_train[w] == 2048)) { /* trajectories */
          size_t q;
          for (q = 0; q <= STEPS / LOGEVERY; q++) {
            double o1[NTE], o2[NTE];
            tx[q] = (double)(q * LOGEVERY);
            ntk_predict_test(&pe, (double)(q * LOGEVERY), 1, Et, NTE, g0, o1);
            ntk_predict_test(&pa, (double)(q * LOGEVERY), 1, Tta, NTE, g0, o2);
            traj_net[shown][q] = tc.traj[q][0], traj_lin[shown][q] = o1[0], traj_inf[shown][q] = o2[0];
          }
          shown++;
        }
        ntk_predictor_free(&pe), ntk_predictor_free(&pa);
        ntk_net_free(&net);
      }
      chg[w] = c, gap_lin[w] = gl, gap_inf[w] = gi;
      wx[w] = (double)widths_train[w];
      printf("   %5zu   %13.4f   %20.4f   %21.4f\n", widths_train[w], c, gl, gi);
    }
    {
      double sc = svg_loglog_slope(wx, chg, n_train), sl = svg_loglog_slope(wx, gap_lin, n_train), si = svg_loglog_slope(wx, gap_inf, n_train);
      printf("   fitted log-log slopes: kernel change %.3f, gap to linearisation %.3f, gap to infinite width %.3f\n\n", sc, sl, si);
      svg_begin(&p, "build/figures/kernel_during_training.svg", "The NTK stops moving as width grows", "width", "‖Θ_T − Θ_0‖ / ‖Θ_0‖ after training", 1, 1);
      svg_series(&p, wx, chg, n_train, "relative kernel change", SVG_LINE | SVG_DOTS, 0);
      if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
      svg_begin(&p, "build/figures/function_gap.svg", "Trained network vs closed-form predictions", "width", "relative test-output gap after training", 1, 1);
      svg_series(&p, wx, gap_inf, n_train, "vs infinite width", SVG_LINE | SVG_DOTS, 0);
      svg_series(&p, wx, gap_lin, n_train, "vs own linearisation", SVG_LINE | SVG_DOTS, 1);
      if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
    }
    svg_begin(&p, "build/figures/function_space.svg", "A test output during gradient descent", "step", "f(x_test)", 0, 0);
    svg_series(&p, tx, traj_net[0], STEPS / LOGEVERY + 1, "width 64: network", SVG_LINE, 1);
    svg_series(&p, tx, traj_lin[0], STEPS / LOGEVERY + 1, "width 64: linearised", SVG_DASH, 1);
    svg_series(&p, tx, traj_net[1], STEPS / LOGEVERY + 1, "width 2048: network", SVG_LINE, 0);
    svg_series(&p, tx, traj_lin[1], STEPS / LOGEVERY + 1, "width 2048: linearised", SVG_DASH, 0);
    svg_series(&p, tx, traj_inf[1], STEPS / LOGEVERY + 1, "infinite width (same f0)", SVG_DOTS, 2);
    if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
  }

  printf("   (%.1f s)\n\n", now() - t0);
  /* ---- 4. Jacot et al. 2018, Figure 1 ------------------------------------------------------ */
  {
    enum { NA = 61, NJ = 4 };
    static const size_t wj[2] = {100, 1000};
    double gam[NA], circ[NA * 2], limit[NA], xj[NJ * 2], yj[NJ], Tj[NJ * NJ], curve[NA];
    static const double gtr[NJ] = {-2.2, -0.9, 0.5, 1.9};
    int k;
    printf("4. Jacot et al. (2018), Fig. 1: NTK Θ(x0, x(γ)) of a depth-4 ReLU network (σ_w = 1, σ_b = 0.1)\n"
           "   on the unit circle, x0 = (1, 0); %d seeds per width, at init and after training on %d points\n\n"
           "   width   seed   max |Θ̂ − Θ| over γ: at init   after training\n", 3, NJ);
    for (k = 0; k < NA; k++) {
      gam[k] = -3.14159265358979 + 2 * 3.14159265358979 * k / (NA - 1);
      circ[2 * k] = cos(gam[k]), circ[2 * k + 1] = sin(gam[k]);
    }
    for (k = 0; k < NJ; k++) xj[2 * k] = cos(gtr[k]), xj[2 * k + 1] = sin(gtr[k]), yj[k] = sin(2 * gtr[k]);
    L = ntk_mlp(layers, 16, 4, 0, ntk_relu(), 1.0, 0.1, 1);
    {
      double x0[2] = {1, 0};
      check(ntk_kernel(layers, L, x0, 1, circ, NA, 2, NULL, limit), "analytic kernel");
    }
    check(ntk_kernel(layers, L, xj, NJ, NULL, 0, 2, NULL, Tj), "analytic kernel");
    check(ntk_max_learning_rate(Tj, NJ, 1, &lr), "max learning rate");
    lr *= 0.25;
    svg_begin(&p, "build/figures/jacot_fig1.svg", "NTK of a depth-4 ReLU net on the unit circle (Jacot et al. Fig. 1)", "γ (angle of x, x0 at γ = 0)", "Θ(x0, x(γ))", 0, 0);
    for (w = 0; w < 2; w++) {
      L = ntk_mlp(layers, 16, 4, wj[w], ntk_relu(), 1.0, 0.1, 1);
      for (s = 0; s < 3; s++) {
        ntk_net net;
        double x0[2] = {1, 0}, e0 = 0, e1 = 0;
        char lab[64];
        check(ntk_net_init(&net, layers, L, 2, 300 + (uint64_t)s), "init");
        check(ntk_net_empirical_kernel(&net, x0, 1, circ, NA, 0, NULL, curve), "empirical kernel");
        for (k = 0; k < NA; k++) e0 = fabs(curve[k] - limit[k]) > e0 ? fabs(curve[k] - limit[k]) : e0;
        snprintf(lab, sizeof lab, "width %zu, init", wj[w]);
        svg_series(&p, gam, curve, NA, s == 0 ? lab : NULL, SVG_DASH, w ? 0 : 1);
        check(ntk_net_train(&net, xj, yj, NJ, lr, STEPS), "train");
        check(ntk_net_empirical_kernel(&net, x0, 1, circ, NA, 0, NULL, curve), "empirical kernel");
        for (k = 0; k < NA; k++) e1 = fabs(curve[k] - limit[k]) > e1 ? fabs(curve[k] - limit[k]) : e1;
        snprintf(lab, sizeof lab, "width %zu, after %d steps", wj[w], STEPS);
        svg_series(&p, gam, curve, NA, s == 0 ? lab : NULL, SVG_LINE, w ? 0 : 1);
        printf("   %5zu   %4d   %19.4f   %14.4f\n", wj[w], s, e0, e1);
        ntk_net_free(&net);
      }
    }
    svg_series(&p, gam, limit, NA, "infinite width (analytic)", SVG_LINE | SVG_DOTS, 2);
    if (svg_end(&p)) fprintf(stderr, "demo: cannot write %s\n", p.path), exit(1);
    printf("   (Θ(x0, x0) = %.4f in the limit)\n", limit[NA / 2]);
  }
  printf("   (%.1f s)\n\n", now() - t0);
  failed = cnn_panel(t0);
  printf("Figures:\n  build/figures/kernel_at_init.svg\n  build/figures/kernel_during_training.svg\n"
         "  build/figures/function_space.svg\n  build/figures/function_gap.svg\n  build/figures/jacot_fig1.svg\n"
         "  build/figures/cnn_kernel_at_init.svg\n  build/figures/cnn_function_space.svg\n");
  printf("Done in %.1f s.\n", now() - t0);
  if (failed) fprintf(stderr, "demo: %d claim(s) of panel 5 failed\n", failed);
  return failed ? 1 : 0;
}
