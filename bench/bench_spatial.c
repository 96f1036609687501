/* The spatial kernel rows of `make bench`, compiled twice (plain -O2, as a user who does not
   pass -march builds: run-time dispatch): BENCH_SP_SUFFIX _f64 with double, _f32 with
   NTK_REAL_FLOAT. Each function times ntk_kernel_ex on one of the networks and returns
   the median seconds of `reps` calls (negative on failure). */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include "../ntk.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_SP_CAT2(a, b) a##b
#define BENCH_SP_CAT(a, b) BENCH_SP_CAT2(a, b)
#define BENCH_SP_FN BENCH_SP_CAT(bench_spatial, BENCH_SP_SUFFIX)

double BENCH_SP_FN(int net, size_t n1, size_t n2, int sym, int threads, int reps, double *k00);

static double bsp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int bsp_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* net 0: neural-tangents' benchmark, 21 × [Conv(1, 3×3, SAME) + ReLU] on 32×32×3, GAP, Dense;
   net 1: the same with Flatten; net 2: Myrtle-5-style on 28×28×1 (see bench.c) */
double BENCH_SP_FN(int net, size_t n1, size_t n2, int sym, int threads, int reps, double *k00) {
  ntk_layer L[64];
  size_t n = 0, i, d;
  ntk_real *x, *K, *T;
  ntk_kernel_desc dd;
  double t[9], t0;
  unsigned long long z = 0x9E3779B97F4A7C15ull;
  int r, ok = 1;
  if (net <= 1) {
    L[n++] = ntk_input(32, 32, 3);
    for (i = 0; i < 21; i++) L[n++] = ntk_conv(1, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), L[n++] = ntk_relu();
    L[n++] = net == 0 ? ntk_global_avg_pool() : ntk_flatten();
    L[n++] = ntk_dense(1, 1.4, 0.1);
    d = 32 * 32 * 3;
  } else {
    L[n++] = ntk_input(28, 28, 1);
    L[n++] = ntk_conv(1, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), L[n++] = ntk_relu();
    L[n++] = ntk_conv(1, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), L[n++] = ntk_relu();
    L[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
    L[n++] = ntk_conv(1, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), L[n++] = ntk_relu();
    L[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
    L[n++] = ntk_conv(1, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), L[n++] = ntk_relu();
    L[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
    L[n++] = ntk_global_avg_pool(), L[n++] = ntk_dense(1, 1.4, 0.1);
    d = 28 * 28;
  }
  x = (ntk_real *)malloc((n1 + n2) * d * sizeof(ntk_real));
  K = (ntk_real *)malloc(n1 * (sym ? n1 : n2) * sizeof(ntk_real));
  T = (ntk_real *)malloc(n1 * (sym ? n1 : n2) * sizeof(ntk_real));
  if (!x || !K || !T) return -1;
  for (i = 0; i < (n1 + n2) * d; i++) { /* uniform [0, 1): image-like, positively correlated */
    z += 0x9E3779B97F4A7C15ull;
    x[i] = (ntk_real)((double)((z ^ (z >> 29)) * 0xBF58476D1CE4E5B9ull >> 11) / 9007199254740992.0);
  }
  memset(&dd, 0, sizeof dd);
  dd.threads = threads;
  if (reps > 9) reps = 9;
  for (r = 0; r < reps; r++) {
    t0 = bsp_now();
    if (ntk_kernel_ex(L, n, x, n1, sym ? NULL : x + n1 * d, n2, d, K, T, &dd) != NTK_OK) ok = 0;
    t[r] = bsp_now() - t0;
  }
  qsort(t, (size_t)reps, sizeof(double), bsp_cmp);
  if (k00) *k00 = (double)T[0];
  free(x), free(K), free(T);
  return ok ? t[reps / 2] : -1;
}
