/* make fashion: infinite-width kernel regression on real data (Fashion-MNIST, from Debian's
   dataset-fashion-mnist; the Makefile gunzips the IDX files into build/fashion-mnist).
   One-hot targets, test accuracy and the time of every stage for:
   - the NNGP and NTK of a ReLU MLP (train/test split --train/--test), and one finite network of
     the same architecture trained by gradient descent against its analytic prediction;
   - a CNN with a Flatten readout (--cnn-depth × [3×3 SAME conv + ReLU], Flatten, Dense) on
     --cnn-train/--cnn-test points, and the MLP on the same points; then a finite CNN of the same
     architecture (--cnn-width channels, 10 outputs) trained by gradient descent on the first
     --cnn-net-train points (--cnn-net-steps steps) against the CNTK's prediction from its own
     initial outputs, and trained away from the lazy regime (Chizat & Bach's output scale α =
     1, 0.1, 0.03: the model α·(f − f₀)) against the kernel;
   - a Myrtle kernel (Shankar et al. 2020: 3×3 SAME convs, ReLU, 2×2 average pools, global
     average pool) on --myrtle-train/--myrtle-test points, and the MLP on the same points.
   Subsets are the first N training and first M test images. Kernels run through ntk_kernel_ex
   (--threads, 0 = all; progress on stderr when it is a terminal).

   usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2]
                      [--net-steps S] [--diag-reg R] [--threads T] [--no-mlp] [--no-conv]
                      [--cnn-train N] [--cnn-test M] [--cnn-depth D] [--cnn-width C]
                      [--cnn-net-train N] [--cnn-net-steps S]
                      [--myrtle-train N] [--myrtle-test M] [--myrtle-input 28|14] [--float]
   defaults: 10000 train, 10000 test, depth 3, finite net width 512 on 1000 points, 200 steps,
   diag_reg 1e-4; CNN depth 2 on the same 10000 train / 10000 test, finite CNN width 16 on 256
   points, 200 steps; Myrtle on 28×28, 128 train / 200 test (the README's Fashion-MNIST section
   gives the run's stage times)


   The MLP rows take two paths. In memory (double): NNGP and NTK train and test kernels stored, Cholesky.
   Scalable (--float, and automatically when the double path would need more than 70 % of
   the machine's memory, e.g. the full 60 000): NTK only; the train kernel computed once by
   ntk_kernel_tiles into one float (n, n) array (lower triangle + its mirror: 4·n² bytes,
   14.4 GB at 60 000), its diagonal kept in double; ntk_spotrf factors the lower triangle in
   place, ntk_sposv_refine refines in double against the kernel kept in the upper triangle
   (the double solution for that float-rounded kernel); the test predictions K_test·α come from
   ntk_kernel_apply, tile by tile, with no test kernel in memory. Stage times and the peak
   resident memory (getrusage) are printed. */
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned char *read_idx(const char *dir, const char *name, size_t *count, size_t *item) {
  char path[1024];
  FILE *f;
  unsigned char hdr[16], *data;
  size_t n, dims, sz = 1, i;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fashion: cannot open %s (is dataset-fashion-mnist installed? run `make fashion`)\n", path);
    exit(1);
  }
  if (fread(hdr, 1, 4, f) != 4 || hdr[0] || hdr[1] || hdr[2] != 8) {
    fprintf(stderr, "fashion: %s is not an IDX file of bytes\n", path);
    exit(1);
  }
  dims = hdr[3];
  if (dims < 1 || dims > 3 || fread(hdr + 4, 4, dims, f) != dims) {
    fprintf(stderr, "fashion: %s: bad IDX header\n", path);
    exit(1);
  }
  n = ((size_t)hdr[4] << 24) | ((size_t)hdr[5] << 16) | ((size_t)hdr[6] << 8) | hdr[7];
  for (i = 1; i < dims; i++) {
    unsigned char *d = hdr + 4 + 4 * i;
    sz *= ((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3];
  }
  data = (unsigned char *)malloc(n * sz);
  if (!data || fread(data, 1, n * sz, f) != n * sz) {
    fprintf(stderr, "fashion: %s: truncated\n", path);
    exit(1);
  }
  fclose(f);
  *count = n, *item = sz;
  return data;
}

static void check(ntk_status s, const char *what) {
  if (s != NTK_OK) {
    fprintf(stderr, "fashion: %s: %s\n", what, ntk_status_string(s));
    exit(1);
  }
}

static double accuracy(const double *pred, const unsigned char *labels, size_t m) {
  size_t i, c, right = 0;
  for (i = 0; i < m; i++) {
    size_t best = 0;
    for (c = 1; c < 10; c++)
      if (pred[i * 10 + c] > pred[i * 10 + best]) best = c;
    right += best == labels[i];
  }
  return (double)right / (double)m;
}


/* one stage row: the label padded to a fixed column (counted in UTF-8 characters), then what
   follows; the rows of every section line up */
static void row(const char *fmt, ...) {
  char buf[256];
  size_t i, chars = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  for (i = 0; buf[i]; i++) chars += ((unsigned char)buf[i] & 0xC0) != 0x80;
  fputs(buf, stdout);
  for (; chars < 52; chars++) putchar(' ');
}

typedef struct progress_state {
  const char *what;
  double t0, last;
} progress_state;

/* called by ntk_kernel_ex from one thread: a \r line on stderr, at most once a second */
static int show_progress(const char *stage, double done, void *user) {
  progress_state *p = (progress_state *)user;
  double t = now();
  (void)stage;
  if (t - p->last >= 1.0 && done < 1.0) {
    fprintf(stderr, "\r  %s: %3.0f%%, %.0f s  ", p->what, 100 * done, t - p->t0);
    fflush(stderr);
    p->last = t;
  } else if (done >= 1.0 && p->last > p->t0) {
    fprintf(stderr, "\r%70s\r", "");
  }
  return 0;
}

typedef struct run_cfg {
  int threads, tty; /* ntk_kernel_ex threads (0 = all); progress lines when stderr is a tty */
  double reg;       /* diag_reg, relative */
} run_cfg;

static void kernel_stage(const run_cfg *cfg, const ntk_layer *layers, size_t L, const double *x1,
                         size_t n1, const double *x2, size_t n2, size_t d, double *K, double *T,
                         const char *what) {
  ntk_kernel_desc desc;
  progress_state ps;
  double t = now(), entries = x2 ? (double)n1 * (double)n2 : 0.5 * (double)n1 * (double)(n1 + 1);
  memset(&desc, 0, sizeof desc);
  desc.threads = cfg->threads;
  ps.what = what, ps.t0 = ps.last = t;
  if (cfg->tty) desc.progress = show_progress, desc.progress_user = &ps;
  check(ntk_kernel_ex(layers, L, x1, n1, x2, x2 ? n2 : 0, d, K, T, &desc), what);
  t = now() - t;
  row("  NNGP+NTK %s", what);
  printf("%8.2f s   %.3g entries/s\n", t, entries / t);
}

/* NNGP and NTK of one architecture on n training rows x (n, d) and m test rows xt (m, d), then
   kernel regression with each (one-hot targets y (n, 10)); prints the stages and the test
   accuracies. Returns the train NTK (n, n) when keep_ntk, else NULL. */
static double *kernel_regression(const run_cfg *cfg, const ntk_layer *layers, size_t L,
                                 const double *x, size_t n, const double *xt, size_t m, size_t d,
                                 const double *y, const unsigned char *labels, int keep_ntk) {
  char what[64];
  double t, *K = (double *)malloc(n * n * 8), *T = (double *)malloc(n * n * 8);
  double *Kt = (double *)malloc(m * n * 8), *Tt = (double *)malloc(m * n * 8);
  double *pred = (double *)malloc(m * 10 * 8);
  if (!K || !T || !Kt || !Tt || !pred) { fprintf(stderr, "fashion: out of memory\n"); exit(1); }
  snprintf(what, sizeof what, "train×train (%zu²)", n);
  kernel_stage(cfg, layers, L, x, n, NULL, 0, d, K, T, what);
  snprintf(what, sizeof what, "test×train (%zu×%zu)", m, n);
  kernel_stage(cfg, layers, L, xt, m, x, n, d, Kt, Tt, what);
  t = now();
  check(ntk_gp_inference(K, n, y, 10, Kt, m, NULL, cfg->reg, 0, pred, NULL), "NNGP regression");
  row("  NNGP kernel regression (Cholesky)");
  printf("%8.2f s   test accuracy %.2f%%\n", now() - t, 100 * accuracy(pred, labels, m));
  t = now();
  check(ntk_gp_inference(T, n, y, 10, Tt, m, NULL, cfg->reg, 0, pred, NULL), "NTK regression");
  row("  NTK kernel regression (Cholesky)");
  printf("%8.2f s   test accuracy %.2f%%   (diag_reg %g, relative)\n", now() - t,
         100 * accuracy(pred, labels, m), cfg->reg);
  free(K), free(Kt), free(Tt), free(pred);
  if (keep_ntk) return T;
  free(T);
  return NULL;
}

/* a layer list: INPUT (h, h, 1), then the text form spec (σ_w = w, σ_b = b on every layer) */
static size_t spatial_net(ntk_layer *out, size_t cap, size_t h, const char *spec, double w, double b) {
  ntk_parse_defaults df = ntk_parse_defaults_init();
  size_t n = 0, pos = 0;
  char err[160];
  df.w_std = w, df.b_std = b;
  out[0] = ntk_input(h, h, 1);
  if (ntk_parse_net(spec, &df, out + 1, cap - 1, &n, &pos, err, sizeof err) != NTK_OK) {
    fprintf(stderr, "fashion: %s: %s\n", spec, err);
    exit(1);
  }
  return n + 1;
}

/* the MLP's two regressions on the conv rows' points, unless they are the MLP rows' own */
static void mlp_on_same_points(const run_cfg *cfg, const ntk_layer *mlp, size_t L, int mlp_ran,
                               size_t ntr, size_t nte, const double *x, size_t n, const double *xt,
                               size_t m, const double *y, const unsigned char *labels) {
  if (mlp_ran && n == ntr && m == nte) {
    printf("  the MLP on the same points: the MLP rows above\n");
    return;
  }
  printf("  the MLP on the same %zu train / %zu test points:\n", n, m);
  kernel_regression(cfg, mlp, L, x, n, xt, m, 784, y, labels, 0);
}

#define SQRT2 1.4142135623730951

static double peak_gib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / (1024.0 * 1024.0); /* ru_maxrss is in KiB on Linux */
}

/* (K + λI)·X with K's strict upper triangle in the float array U (n, n) and its diagonal dg:
   one threaded pass over the upper triangle, each row i giving Σ_j u_ij·x_j to y_i and
   u_ij·x_i to every y_j (per-thread copies of Y, summed at the end), columns of X contiguous */
typedef struct fm_op { const float *U; const double *dg; size_t n; double lambda; } fm_op;
static ntk_status fm_apply(size_t nrhs, const double *X, double *Y, void *user) {
  const fm_op *o = (const fm_op *)user;
  size_t n = o->n, r = nrhs, nt = 1, i;
  double *Xt = (double *)malloc(n * r * 8), *Yt;
#ifdef _OPENMP
  nt = (size_t)omp_get_max_threads();
#endif
  Yt = (double *)calloc(nt * n * r, 8);
  if (!Xt || !Yt) { free(Xt), free(Yt); return NTK_ERR_OUT_OF_MEMORY; }
  for (i = 0; i < n; i++) {
    size_t c;
    for (c = 0; c < r; c++) Xt[c * n + i] = X[i * r + c];
  }
#pragma omp parallel
  {
    long ii;
    size_t me = 0;
#ifdef _OPENMP
    me = (size_t)omp_get_thread_num();
#endif
#pragma omp for schedule(dynamic, 16)
    for (ii = 0; ii < (long)n; ii++) {
      size_t c, j, row = (size_t)ii;
      const float *u = o->U + row * n;
      for (c = 0; c < r; c++) {
        const double *xc = Xt + c * n;
        double *yc = Yt + (me * r + c) * n, xi = xc[row], acc = (o->dg[row] + o->lambda) * xi;
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0; /* four sums: the dot product vectorises */
        for (j = row + 1; j < n; j++) yc[j] += (double)u[j] * xi;
        for (j = row + 1; j + 4 <= n; j += 4)
          a0 += (double)u[j] * xc[j], a1 += (double)u[j + 1] * xc[j + 1], a2 += (double)u[j + 2] * xc[j + 2], a3 += (double)u[j + 3] * xc[j + 3];
        for (; j < n; j++) a0 += (double)u[j] * xc[j];
        yc[row] += acc + ((a0 + a1) + (a2 + a3));
      }
    }
  }
  for (i = 0; i < n; i++) {
    size_t c, t;
    for (c = 0; c < r; c++) {
      double s = 0;
      for (t = 0; t < nt; t++) s += Yt[(t * r + c) * n + i];
      Y[i * r + c] = s;
    }
  }
  free(Xt), free(Yt);
  return NTK_OK;
}

/* the scalable path (see the top): NTK only, returns the test predictions (nte, k) */
static void fm_scalable(const ntk_layer *layers, size_t L, const double *x, size_t ntr, const double *xt,
                        size_t nte, size_t d, const double *y, size_t k, double reg, double *pred,
                        const unsigned char *Yte) {
  size_t i, bytes = ntr * ntr * sizeof(float);
  float *K = (float *)malloc(bytes);
  double *dg = (double *)malloc(ntr * 8), *alpha = (double *)malloc(ntr * k * 8), tr = 0, t, lambda;
  ntk_tile_desc td;
  ntk_refine_info ri;
  fm_op op;
  ntk_status st;
  if (!K || !dg || !alpha) { fprintf(stderr, "fashion: out of memory (%.1f GB for the float kernel)\n", bytes / 1e9); exit(1); }
  t = now();
  memset(&td, 0, sizeof td);
  td.rows = 256, td.cols = 2048, td.ntk_out = K, td.ld_ntk = ntr, td.out_float = 1, td.mirror = 1;
  check(ntk_kernel_tiles(layers, L, x, ntr, NULL, ntr, d, &td), "train kernel (tiles)");
  for (i = 0; i < ntr; i++) dg[i] = K[i * ntr + i], tr += dg[i];
  printf("  NTK train×train (%zu², float tiles, %.1f GB)  %7.2f s   peak RSS %.2f GiB\n", ntr, bytes / 1e9, now() - t, peak_gib());
  lambda = reg * tr / (double)ntr;
  for (i = 0; i < ntr; i++) K[i * ntr + i] = (float)(dg[i] + lambda);
  t = now();
  /* pivots down to diag_reg·(mean diagonal) are expected (near-duplicate images): refuse only
     those below 1e-6 of their diagonal (the refinement then checks what the factor is worth) */
  check(ntk_spotrf_tol(ntr, K, ntr, 1e-6, NULL), "float Cholesky");
  printf("  float Cholesky (ntk_spotrf_tol)     %7.2f s   %.1f GFlop/s\n", now() - t, (double)ntr * ntr * ntr / 3 / (now() - t) / 1e9);
  t = now();
  op.U = K, op.dg = dg, op.n = ntr, op.lambda = lambda;
  st = ntk_sposv_refine(ntr, k, K, ntr, fm_apply, &op, y, k, alpha, k, 1e-12, 0, &ri);
  check(st, "refinement");
  printf("  refinement in double                %7.2f s   %zu steps, relative residual %.2e\n", now() - t, ri.iterations, ri.residual);
  free(K);
  t = now();
  memset(&td, 0, sizeof td);
  td.rows = 256, td.cols = 2048;
  check(ntk_kernel_apply(layers, L, xt, nte, x, ntr, d, 1, k, alpha, pred, &td), "test predictions (tiles)");
  printf("  NTK test×train·α (%zu×%zu, tiles)  %7.2f s   test accuracy %.2f%%   (diag_reg %g, relative)\n", nte, ntr, now() - t,
         100 * accuracy(pred, Yte, nte), reg);
  free(dg), free(alpha);
}

/* One finite network (fin, Lf; k = 10 outputs) trained by full-batch gradient descent on the
   first n training points, against what the analytic NTK of the architecture (kl, Lk) predicts
   for the same steps from the network's own initial outputs, and the infinite ensemble (f0 = 0).
   T: the analytic train NTK with leading dimension ldt (its first n rows and columns are used).
   Then, for each α of alphas, the same network trained away from the lazy regime (Chizat & Bach
   2019): the model α·(f(θ) − f(θ₀)) with the loss ½·mean‖α·(f − f₀) − y‖²/α², which is plain
   gradient descent on f with the targets f₀ + y/α (same learning rate); its linearisation
   predicts the infinite ensemble's values for every α, so the gap to that row is what the NTK
   limit does not describe. */
static void finite_vs_kernel(const ntk_layer *fin, size_t Lf, const ntk_layer *kl, size_t Lk, const double *T,
                             size_t ldt, size_t n, const double *x, const double *xt, size_t m, size_t d,
                             const double *y, const unsigned char *Yte, size_t steps, size_t width,
                             const double *alphas, size_t nalpha) {
  const size_t k = 10;
  ntk_net net;
  ntk_predictor pr;
  size_t i, j, a;
  double lr, loss, t, ens;
  ntk_status st;
  double *Tn = (double *)malloc(n * n * 8), *Ttn = (double *)malloc(m * n * 8);
  double *f0 = (double *)malloc(n * k * 8), *g0 = (double *)malloc(m * k * 8), *pred = (double *)malloc(m * k * 8);
  double *yt = (double *)malloc(n * k * 8), *th0;
  if (!Tn || !Ttn || !f0 || !g0 || !pred || !yt) { fprintf(stderr, "fashion: out of memory\n"); exit(1); }
  for (i = 0; i < n; i++) memcpy(Tn + i * n, T + i * ldt, n * 8); /* the NTK on the subset */
  check(ntk_max_learning_rate(Tn, n, k, &lr), "max learning rate");
  lr *= 0.25; /* the finite network's own kernel can exceed the analytic λ_max */
  check(ntk_net_init(&net, fin, Lf, d, 1), "network");
  check(ntk_net_apply(&net, x, n, f0), "apply");
  check(ntk_net_apply(&net, xt, m, g0), "apply");
  th0 = (double *)malloc(net.n_params * 8);
  if (!th0) { fprintf(stderr, "fashion: out of memory\n"); exit(1); }
  for (i = 0; i < net.n_params; i++) th0[i] = net.params[i];
  t = now();
  check(ntk_net_train(&net, x, y, n, lr, steps), "training");
  check(ntk_net_loss(&net, x, y, n, &loss), "loss");
  printf("  finite network, width %zu, %zu steps of GD (lr %.3g) on %zu points  %7.2f s   train loss %.4f\n", width, steps, lr, n, now() - t, loss);
  check(ntk_net_apply(&net, xt, m, pred), "apply");
  printf("      its test accuracy                                              %.2f%%\n", 100 * accuracy(pred, Yte, m));
  ntk_net_free(&net);
  t = now();
  check(ntk_kernel(kl, Lk, xt, m, x, n, d, NULL, Ttn), "test kernel");
  check(ntk_predictor_init(&pr, Tn, n, y, k, f0, lr, 0, 0), "predictor");
  check(ntk_predict_test(&pr, (double)steps, 1, Ttn, m, g0, pred), "prediction");
  printf("  analytic NTK, same steps, from the network's own initial outputs %7.2f s   test accuracy %.2f%%\n", now() - t, 100 * accuracy(pred, Yte, m));
  ntk_predictor_free(&pr);
  check(ntk_predictor_init(&pr, Tn, n, y, k, NULL, lr, 0, 0), "predictor");
  check(ntk_predict_test(&pr, (double)steps, 1, Ttn, m, NULL, pred), "prediction");
  ens = accuracy(pred, Yte, m);
  printf("  infinite ensemble (f0 = 0), same steps                                  test accuracy %.2f%%\n", 100 * ens);
  ntk_predictor_free(&pr);
  for (a = 0; a < nalpha; a++) { /* away from the lazy regime: output scale α */
    double al = alphas[a], dn = 0, tn = 0;
    for (i = 0; i < n * k; i++) yt[i] = f0[i] + y[i] / al;
    check(ntk_net_init(&net, fin, Lf, d, 1), "network");
    t = now();
    st = ntk_net_train(&net, x, yt, n, lr, steps);
    if (st == NTK_ERR_NON_FINITE) {
      printf("  output scale α = %-6g α·(f − f₀), same lr and steps  %7.2f s   diverged (%s)\n", al, now() - t,
             ntk_status_string(st));
      ntk_net_free(&net);
      continue;
    }
    check(st, "training (output scale α)");
    check(ntk_net_apply(&net, xt, m, pred), "apply");
    for (i = 0; i < m; i++)
      for (j = 0; j < k; j++) pred[i * k + j] = al * (pred[i * k + j] - g0[i * k + j]);
    for (i = 0; i < net.n_params; i++) dn += (net.params[i] - th0[i]) * (net.params[i] - th0[i]), tn += th0[i] * th0[i];
    printf("  output scale α = %-6g α·(f − f₀), same lr and steps  %7.2f s   test accuracy %.2f%% (kernel %.2f%%), ‖θ − θ₀‖/‖θ₀‖ %.3g\n",
           al, now() - t, 100 * accuracy(pred, Yte, m), 100 * ens, sqrt(dn / tn));
    ntk_net_free(&net);
  }
  free(Tn), free(Ttn), free(f0), free(g0), free(pred), free(yt), free(th0);
}

int main(int argc, char **argv) {
  size_t ntr = 10000, nte = 10000, depth = 3, width = 512, nnet = 1000, steps = 200;
  size_t cnn_train = 10000, cnn_test = 10000, cnn_depth = 2, cnn_width = 16, cnn_net = 256, cnn_steps = 200;
  size_t my_train = 128, my_test = 200, my_input = 28;
  int do_mlp = 1, do_conv = 1;
  run_cfg cfg;
  double t0;
  size_t ntr_all, nte_all, d, d2, i, j, k = 10, L, Lm, nx, nxt;
  unsigned char *Xtr, *Ytr, *Xte, *Yte;
  double *x, *xt, *y, mean = 0, var = 0, *T = NULL;
  ntk_layer layers[64], mlp[64];
  int a, nthreads, use_float = 0;
  cfg.threads = 0, cfg.reg = 1e-4, cfg.tty = isatty(2);
  if (argc < 2) {
    fprintf(stderr, "usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2] [--net-steps S]\n"
                    "  [--diag-reg R] [--threads T] [--no-mlp] [--no-conv] [--cnn-train N] [--cnn-test M] [--cnn-depth D]\n"
                    "  [--cnn-width C] [--cnn-net-train N] [--cnn-net-steps S]\n"
                    "  [--myrtle-train N] [--myrtle-test M] [--myrtle-input 28|14]\n");
    return 2;
  }
  for (a = 2; a < argc; a += 2) {
    const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!strcmp(o, "--no-mlp")) { do_mlp = 0, a--; continue; }
    if (!strcmp(o, "--no-conv")) { do_conv = 0, a--; continue; }
    if (!strcmp(o, "--float")) { use_float = 1, a--; continue; }
    if (!v) { fprintf(stderr, "fashion: %s needs a value\n", o); return 2; }
    if (!strcmp(o, "--train")) ntr = (size_t)atol(v);
    else if (!strcmp(o, "--test")) nte = (size_t)atol(v);
    else if (!strcmp(o, "--depth")) depth = (size_t)atol(v);
    else if (!strcmp(o, "--width")) width = (size_t)atol(v);
    else if (!strcmp(o, "--net-train")) nnet = (size_t)atol(v);
    else if (!strcmp(o, "--net-steps")) steps = (size_t)atol(v);
    else if (!strcmp(o, "--diag-reg")) cfg.reg = atof(v);
    else if (!strcmp(o, "--threads")) cfg.threads = atoi(v);
    else if (!strcmp(o, "--cnn-train")) cnn_train = (size_t)atol(v);
    else if (!strcmp(o, "--cnn-test")) cnn_test = (size_t)atol(v);
    else if (!strcmp(o, "--cnn-depth")) cnn_depth = (size_t)atol(v);
    else if (!strcmp(o, "--cnn-width")) cnn_width = (size_t)atol(v);
    else if (!strcmp(o, "--cnn-net-train")) cnn_net = (size_t)atol(v);
    else if (!strcmp(o, "--cnn-net-steps")) cnn_steps = (size_t)atol(v);
    else if (!strcmp(o, "--myrtle-train")) my_train = (size_t)atol(v);
    else if (!strcmp(o, "--myrtle-test")) my_test = (size_t)atol(v);
    else if (!strcmp(o, "--myrtle-input")) my_input = (size_t)atol(v);
    else { fprintf(stderr, "fashion: unknown option %s\n", o); return 2; }
  }
  if (my_input != 28 && my_input != 14) { fprintf(stderr, "fashion: --myrtle-input is 28 or 14\n"); return 2; }
  if (cnn_depth < 1 || cnn_depth > 30) { fprintf(stderr, "fashion: --cnn-depth is 1 … 30\n"); return 2; }
  t0 = now();
  Xtr = read_idx(argv[1], "train-images-idx3-ubyte", &ntr_all, &d);
  Ytr = read_idx(argv[1], "train-labels-idx1-ubyte", &i, &d2);
  Xte = read_idx(argv[1], "t10k-images-idx3-ubyte", &nte_all, &d2);
  Yte = read_idx(argv[1], "t10k-labels-idx1-ubyte", &i, &d2);
  if (d != 784) { fprintf(stderr, "fashion: expected 28×28 images, got %zu pixels\n", d); return 1; }
#define CLAMP(v, hi) if ((v) > (hi)) (v) = (hi); if ((v) < 1) (v) = 1
  CLAMP(ntr, ntr_all); CLAMP(nte, nte_all); CLAMP(cnn_train, ntr_all); CLAMP(cnn_test, nte_all);
  CLAMP(my_train, ntr_all); CLAMP(my_test, nte_all);
  if (nnet > ntr) nnet = ntr;
  if (depth < 1 || depth > 30) depth = 3;
  nx = do_mlp ? ntr : 1, nxt = do_mlp ? nte : 1;
  if (do_conv) {
    nx = nx > cnn_train ? nx : cnn_train, nx = nx > my_train ? nx : my_train;
    nxt = nxt > cnn_test ? nxt : cnn_test, nxt = nxt > my_test ? nxt : my_test;
  }
#ifdef _OPENMP
  nthreads = cfg.threads ? cfg.threads : omp_get_max_threads();
#else
  nthreads = 1;
#endif
  printf("Fashion-MNIST: 28×28 grey images, 10 classes; one-hot targets (centred); subsets are the first N\n"
         "training and the first M test images; pixels scaled to zero mean, unit variance over the first %zu\n"
         "training images; ntk.h %s, kernel set %s, %d kernel threads\n\n",
         nx, ntk_version(), ntk_simd_name(), nthreads);
  x = (double *)malloc(nx * d * 8), xt = (double *)malloc(nxt * d * 8), y = (double *)malloc(nx * k * 8);
  if (!x || !xt || !y) { fprintf(stderr, "fashion: out of memory\n"); return 1; }
  for (i = 0; i < nx * d; i++) mean += Xtr[i];
  mean /= (double)(nx * d);
  for (i = 0; i < nx * d; i++) var += (Xtr[i] - mean) * (Xtr[i] - mean);
  var /= (double)(nx * d);
  for (i = 0; i < nx * d; i++) x[i] = (Xtr[i] - mean) / sqrt(var);
  for (i = 0; i < nxt * d; i++) xt[i] = (Xte[i] - mean) / sqrt(var);
  for (i = 0; i < nx; i++)
    for (j = 0; j < k; j++) y[i * k + j] = (j == Ytr[i]) - 0.1;
  row("  load and preprocess");
  printf("%8.2f s\n", now() - t0);
  Lm = ntk_mlp(mlp, 64, depth, 0, ntk_relu(), SQRT2, 0.1, 1);

  {
    double need = 16.0 * ntr * ntr + 16.0 * nte * ntr, have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (do_mlp && need > 0.7 * have) use_float = 1;
  }
  if (do_mlp && use_float) { /* the scalable path: NTK only, float storage, no finite network */
    double *pred = (double *)malloc(nte * k * 8);
    printf("\nMLP: %zu × [Dense + ReLU], Dense (NTK parameterisation, σ_w = √2, σ_b = 0.1), %zu train / %zu test, float path\n",
           depth, ntr, nte);
    if (!pred) { fprintf(stderr, "fashion: out of memory\n"); return 1; }
    fm_scalable(mlp, Lm, x, ntr, xt, nte, d, y, k, cfg.reg, pred, Yte);
    free(pred);
  } else if (do_mlp) {
    printf("\nMLP: %zu × [Dense + ReLU], Dense (NTK parameterisation, σ_w = √2, σ_b = 0.1), %zu train / %zu test\n",
           depth, ntr, nte);
    T = kernel_regression(&cfg, mlp, Lm, x, ntr, xt, nte, d, y, Yte, 1);
    /* one finite network of the same architecture, trained by full-batch gradient descent on the
       first nnet training points, against what its infinite-width NTK predicts for the same time */
    L = ntk_mlp(layers, 64, depth, width, ntk_relu(), SQRT2, 0.1, k);
    finite_vs_kernel(layers, L, mlp, Lm, T, ntr, nnet, x, xt, nte, d, y, Yte, steps, width, NULL, 0);
    free(T);
  }

  if (do_conv) {
    char spec[256];
    snprintf(spec, sizeof spec, "%zu*(conv(3,same) relu) flatten dense(1)", cnn_depth);
    L = spatial_net(layers, 64, 28, spec, SQRT2, 0.1);
    printf("\nCNN, Flatten readout: input(28,28,1) %s\n"
           "  (%zu × [Conv 3×3 SAME + ReLU], Flatten, Dense; NTK parameterisation, σ_w = √2, σ_b = 0.1), %zu train / %zu test\n",
           spec, cnn_depth, cnn_train, cnn_test);
    T = kernel_regression(&cfg, layers, L, x, cnn_train, xt, cnn_test, d, y, Yte, cnn_net > 0);
    mlp_on_same_points(&cfg, mlp, Lm, do_mlp, ntr, nte, x, cnn_train, xt, cnn_test, y, Yte);
    if (cnn_net > 0) {
      /* a finite CNN of the same architecture (width cnn_width, 10 outputs) by gradient descent,
         against the CNTK; then trained away from the lazy regime (output scale α < 1) */
      static const double alphas[3] = {1, 0.1, 0.03};
      ntk_layer fin[64];
      size_t Lf;
      if (cnn_net > cnn_train) cnn_net = cnn_train;
      snprintf(spec, sizeof spec, "%zu*(conv(%zu,3,same) relu) flatten dense(10)", cnn_depth, cnn_width);
      Lf = spatial_net(fin, 64, 28, spec, SQRT2, 0.1);
      printf("  a finite CNN, input(28,28,1) %s, against the CNTK above, on its first %zu training points:\n", spec, cnn_net);
      finite_vs_kernel(fin, Lf, layers, L, T, cnn_train, cnn_net, x, xt, cnn_test, d, y, Yte, cnn_steps, cnn_width, alphas, 3);
      free(T);
    }

    {
      /* Myrtle-5 (Shankar et al. 2020; neural-tangents' MyrtleNetwork(5)) with its last three
         2×2 pools (4 → 2 → 1 on 32×32) as a global average pool, so 28 → 14 → 7 → GAP; σ_b = 0
         (neural-tangents' b_std = 0: no bias contribution in the NTK parameterisation).
         --myrtle-input 14: the same network less the 28×28 stage on 2×2-averaged images (an
         average pool on the input, done here: the input covariance is linear in the pixels). */
      const char *myrtle = my_input == 28
        ? "2*(conv(3,same) relu) avgpool(2,s=2) conv(3,same) relu avgpool(2,s=2) conv(3,same) relu gap dense(1)"
        : "2*(conv(3,same) relu) avgpool(2,s=2) conv(3,same) relu gap dense(1)";
      size_t hh = my_input, dd = hh * hh, r, c;
      double *xs = x, *xts = xt;
      L = spatial_net(layers, 64, hh, myrtle, SQRT2, 0);
      printf("\nMyrtle kernel (Shankar et al. 2020), %s: input(%zu,%zu,1) %s\n"
             "  (NTK parameterisation, σ_w = √2, no bias; %s), %zu train / %zu test\n",
             hh == 28 ? "Myrtle-5 on 28×28" : "Myrtle-5 less its 28×28 stage, on 2×2-averaged 14×14 images",
             hh, hh, myrtle, hh == 28 ? "28 → 14 → 7 → GAP" : "14 → 7 → GAP", my_train, my_test);
      if (hh == 14) {
        xs = (double *)malloc(my_train * dd * 8), xts = (double *)malloc(my_test * dd * 8);
        if (!xs || !xts) { fprintf(stderr, "fashion: out of memory\n"); return 1; }
        for (i = 0; i < my_train + my_test; i++) {
          const double *src = i < my_train ? x + i * d : xt + (i - my_train) * d;
          double *dst = i < my_train ? xs + i * dd : xts + (i - my_train) * dd;
          for (r = 0; r < 14; r++)
            for (c = 0; c < 14; c++)
              dst[r * 14 + c] = 0.25 * (src[56 * r + 2 * c] + src[56 * r + 2 * c + 1] +
                                        src[56 * r + 28 + 2 * c] + src[56 * r + 28 + 2 * c + 1]);
        }
      }
      kernel_regression(&cfg, layers, L, xs, my_train, xts, my_test, dd, y, Yte, 0);
      if (hh == 14) free(xs), free(xts);
      mlp_on_same_points(&cfg, mlp, Lm, do_mlp, ntr, nte, x, my_train, xt, my_test, y, Yte);
    }
  }
  row("total");
  printf("%8.2f s   peak RSS %.2f GiB\n", now() - t0, peak_gib());
  free(x), free(xt), free(y), free(Xtr), free(Ytr), free(Xte), free(Yte);
  return 0;
}
