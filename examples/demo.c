/* make demo (interim, until the showcase lands): the GEMM everything else stands on.
   Computes the Gram matrix X·Xᵀ of 2000 random 784-dimensional inputs — the first step of every
   NTK computation — with ntk_dgemm, checks it against the naive reference, and reports the speed. */
#define NTK_IMPLEMENTATION
#include "../ntk.h"
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  const size_t n = 2000, d = 784;
  double *X = (double *)malloc(n * d * sizeof(double)), *G = (double *)malloc(n * n * sizeof(double));
  double *R = (double *)malloc(n * n * sizeof(double)), t0, t_fast, t_ref, err = 0, mag = 0;
  unsigned long long s = 42;
  size_t i;
  if (!X || !G || !R) return 1;
  for (i = 0; i < n * d; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    X[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
  }
  printf("ntk.h %s, kernel set %s\n", ntk_version(), ntk_simd_name());
  printf("Gram matrix X·Xᵀ, X %zu x %zu (double):\n", n, d);
  t0 = now();
  if (ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, n, n, d, 1.0, X, d, X, d, 0.0, G, n) != NTK_OK) return 1;
  t_fast = now() - t0;
  t0 = now();
  ntk_dgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, n, d, 1.0, X, d, X, d, 0.0, R, n);
  t_ref = now() - t0;
  for (i = 0; i < n * n; i++) {
    if (fabs(G[i] - R[i]) > err) err = fabs(G[i] - R[i]);
    if (fabs(R[i]) > mag) mag = fabs(R[i]);
  }
  printf("  blocked SIMD GEMM  %8.3f s  %6.1f GFLOP/s\n", t_fast, 2.0 * n * n * d / t_fast * 1e-9);
  printf("  naive triple loop  %8.3f s  %6.1f GFLOP/s  (%.0fx slower)\n", t_ref, 2.0 * n * n * d / t_ref * 1e-9, t_ref / t_fast);
  printf("  max |difference| = %.2e (relative to max |entry| %.2e)\n", err, err / mag);
  free(X), free(G), free(R);
  return err <= 1e-12 * mag ? 0 : 1;
}
