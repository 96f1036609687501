/* make fashion: infinite-width kernel regression on real data (Fashion-MNIST, from Debian's
   dataset-fashion-mnist; the Makefile gunzips the IDX files into build/fashion-mnist).
   NNGP and NTK of a ReLU network, one-hot targets, test accuracy, the time of every stage, and
   for comparison one finite network of the same architecture trained by gradient descent.

   usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2]
                      [--net-steps S] [--diag-reg R] [--float]
   defaults: 10000 train, 10000 test, depth 3, finite net width 512 on 1000 points, 200 steps.

   Two paths. In memory (double): NNGP and NTK train and test kernels stored, Cholesky.
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

int main(int argc, char **argv) {
  size_t ntr = 10000, nte = 10000, depth = 3, width = 512, nnet = 1000, steps = 200;
  double reg = 1e-4, t0, t;
  size_t ntr_all, nte_all, d, d2, i, j, k = 10, L;
  unsigned char *Xtr, *Ytr, *Xte, *Yte;
  double *x, *xt, *y, mean = 0, var = 0, *K, *T, *Kt, *Tt, *pred;
  ntk_layer layers[64];
  int a, use_float = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2] [--net-steps S] [--diag-reg R]\n");
    return 2;
  }
  for (a = 2; a < argc; a += 2) {
    if (!strcmp(argv[a], "--float")) { use_float = 1, a--; continue; }
    if (a + 1 >= argc) { fprintf(stderr, "fashion: %s needs a value\n", argv[a]); return 2; }
    if (!strcmp(argv[a], "--train")) ntr = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--test")) nte = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--depth")) depth = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--width")) width = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--net-train")) nnet = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--net-steps")) steps = (size_t)atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--diag-reg")) reg = atof(argv[a + 1]);
    else { fprintf(stderr, "fashion: unknown option %s\n", argv[a]); return 2; }
  }
  t0 = now();
  Xtr = read_idx(argv[1], "train-images-idx3-ubyte", &ntr_all, &d);
  Ytr = read_idx(argv[1], "train-labels-idx1-ubyte", &i, &d2);
  Xte = read_idx(argv[1], "t10k-images-idx3-ubyte", &nte_all, &d2);
  Yte = read_idx(argv[1], "t10k-labels-idx1-ubyte", &i, &d2);
  if (ntr > ntr_all) ntr = ntr_all;
  if (nte > nte_all) nte = nte_all;
  if (nnet > ntr) nnet = ntr;
  if (depth < 1 || depth > 30) depth = 3;
  printf("Fashion-MNIST: %zu train / %zu test images of %zu pixels; ReLU network of depth %zu (NTK parameterisation,\n"
         "σ_w = √2, σ_b = 0.1); one-hot targets (10 classes, centred); ntk.h %s, kernel set %s\n\n",
         ntr, nte, d, depth, ntk_version(), ntk_simd_name());
  /* pixels scaled to zero mean, unit variance over the training subset */
  x = (double *)malloc(ntr * d * 8), xt = (double *)malloc(nte * d * 8), y = (double *)malloc(ntr * k * 8);
  for (i = 0; i < ntr * d; i++) mean += Xtr[i];
  mean /= (double)(ntr * d);
  for (i = 0; i < ntr * d; i++) var += (Xtr[i] - mean) * (Xtr[i] - mean);
  var /= (double)(ntr * d);
  for (i = 0; i < ntr * d; i++) x[i] = (Xtr[i] - mean) / sqrt(var);
  for (i = 0; i < nte * d; i++) xt[i] = (Xte[i] - mean) / sqrt(var);
  for (i = 0; i < ntr; i++)
    for (j = 0; j < k; j++) y[i * k + j] = (j == Ytr[i]) - 0.1;
  printf("  load and preprocess                 %7.2f s\n", now() - t0);
  L = ntk_mlp(layers, 64, depth, 0, ntk_relu(), 1.4142135623730951, 0.1, 1);
  {
    double need = 16.0 * ntr * ntr + 16.0 * nte * ntr, have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (need > 0.7 * have) use_float = 1;
  }
  if (use_float) {
    pred = (double *)malloc(nte * k * 8);
    fm_scalable(layers, L, x, ntr, xt, nte, d, y, k, reg, pred, Yte);
    printf("  total                               %7.2f s   peak RSS %.2f GiB\n", now() - t0, peak_gib());
    free(pred), free(x), free(xt), free(y), free(Xtr), free(Ytr), free(Xte), free(Yte);
    return 0;
  }
  K = (double *)malloc(ntr * ntr * 8), T = (double *)malloc(ntr * ntr * 8);
  Kt = (double *)malloc(nte * ntr * 8), Tt = (double *)malloc(nte * ntr * 8), pred = (double *)malloc(nte * k * 8);
  if (!K || !T || !Kt || !Tt || !pred) { fprintf(stderr, "fashion: out of memory\n"); return 1; }
  t = now();
  check(ntk_kernel(layers, L, x, ntr, NULL, 0, d, K, T), "train kernel");
  printf("  NNGP+NTK train×train (%zu²)        %7.2f s\n", ntr, now() - t);
  t = now();
  check(ntk_kernel(layers, L, xt, nte, x, ntr, d, Kt, Tt), "test kernel");
  printf("  NNGP+NTK test×train (%zu×%zu)  %7.2f s\n", nte, ntr, now() - t);
  t = now();
  check(ntk_gp_inference(K, ntr, y, k, Kt, nte, NULL, reg, 0, pred, NULL), "NNGP regression");
  printf("  NNGP kernel regression (Cholesky)   %7.2f s   test accuracy %.2f%%\n", now() - t, 100 * accuracy(pred, Yte, nte));
  t = now();
  check(ntk_gp_inference(T, ntr, y, k, Tt, nte, NULL, reg, 0, pred, NULL), "NTK regression");
  printf("  NTK kernel regression (Cholesky)    %7.2f s   test accuracy %.2f%%   (diag_reg %g, relative)\n", now() - t, 100 * accuracy(pred, Yte, nte), reg);
  free(K), free(Kt), free(Tt);
  /* one finite network of the same architecture, trained by full-batch gradient descent on the
     first nnet training points, against what its infinite-width NTK predicts for the same time */
  {
    ntk_net net;
    ntk_predictor pr;
    double lr, *Tn = (double *)malloc(nnet * nnet * 8), *Ttn = (double *)malloc(nte * nnet * 8), loss;
    double *f0 = (double *)malloc(nnet * k * 8), *g0 = (double *)malloc(nte * k * 8);
    L = ntk_mlp(layers, 64, depth, width, ntk_relu(), 1.4142135623730951, 0.1, k);
    for (i = 0; i < nnet; i++) memcpy(Tn + i * nnet, T + i * ntr, nnet * 8); /* NTK on the subset */
    check(ntk_max_learning_rate(Tn, nnet, k, &lr), "max learning rate");
    lr *= 0.25; /* the finite network's own kernel can exceed the analytic λ_max */
    check(ntk_net_init(&net, layers, L, d, 1), "network");
    check(ntk_net_apply(&net, x, nnet, f0), "apply");
    check(ntk_net_apply(&net, xt, nte, g0), "apply");
    t = now();
    check(ntk_net_train(&net, x, y, nnet, lr, steps), "training");
    check(ntk_net_loss(&net, x, y, nnet, &loss), "loss");
    printf("  finite network, width %zu, %zu steps of GD (lr %.3g) on %zu points  %7.2f s   train loss %.4f\n", width, steps, lr, nnet, now() - t, loss);
    check(ntk_net_apply(&net, xt, nte, pred), "apply");
    printf("      its test accuracy                                              %.2f%%\n", 100 * accuracy(pred, Yte, nte));
    ntk_net_free(&net);
    t = now();
    L = ntk_mlp(layers, 64, depth, 0, ntk_relu(), 1.4142135623730951, 0.1, 1);
    check(ntk_kernel(layers, L, xt, nte, x, nnet, d, NULL, Ttn), "test kernel");
    check(ntk_predictor_init(&pr, Tn, nnet, y, k, f0, lr, 0, 0), "predictor");
    check(ntk_predict_test(&pr, (double)steps, 1, Ttn, nte, g0, pred), "prediction");
    printf("  analytic NTK, same steps, from the network's own initial outputs %7.2f s   test accuracy %.2f%%\n", now() - t, 100 * accuracy(pred, Yte, nte));
    ntk_predictor_free(&pr);
    check(ntk_predictor_init(&pr, Tn, nnet, y, k, NULL, lr, 0, 0), "predictor");
    check(ntk_predict_test(&pr, (double)steps, 1, Ttn, nte, NULL, pred), "prediction");
    printf("  infinite ensemble (f0 = 0), same steps                                  test accuracy %.2f%%\n", 100 * accuracy(pred, Yte, nte));
    ntk_predictor_free(&pr);
    free(f0), free(g0);
    free(Tn), free(Ttn);
  }
  printf("  total                               %7.2f s   peak RSS %.2f GiB\n", now() - t0, peak_gib());
  free(T), free(pred), free(x), free(xt), free(y), free(Xtr), free(Ytr), free(Xte), free(Yte);
  return 0;
}
