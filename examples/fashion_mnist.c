/* make fashion: infinite-width kernel regression on real data (Fashion-MNIST, from Debian's
   dataset-fashion-mnist; the Makefile gunzips the IDX files into build/fashion-mnist).
   NNGP and NTK of a ReLU network, one-hot targets, test accuracy, the time of every stage, and
   for comparison one finite network of the same architecture trained by gradient descent.

   usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2]
                      [--net-steps S] [--diag-reg R]
   defaults: 10000 train, 10000 test, depth 3, finite net width 512 on 1000 points, 200 steps */
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int main(int argc, char **argv) {
  size_t ntr = 10000, nte = 10000, depth = 3, width = 512, nnet = 1000, steps = 200;
  double reg = 1e-4, t0, t;
  size_t ntr_all, nte_all, d, d2, i, j, k = 10, L;
  unsigned char *Xtr, *Ytr, *Xte, *Yte;
  double *x, *xt, *y, mean = 0, var = 0, *K, *T, *Kt, *Tt, *pred;
  ntk_layer layers[64];
  int a;
  if (argc < 2) {
    fprintf(stderr, "usage: fashion DIR [--train N] [--test M] [--depth L] [--width W] [--net-train N2] [--net-steps S] [--diag-reg R]\n");
    return 2;
  }
  for (a = 2; a + 1 < argc; a += 2) {
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
  printf("  total                               %7.2f s\n", now() - t0);
  free(T), free(pred), free(x), free(xt), free(y), free(Xtr), free(Ytr), free(Xte), free(Yte);
  return 0;
}
