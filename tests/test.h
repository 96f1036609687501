/* The test runner: counts checks, prints every failure with what it compared, and ends with
   "N passed, M failed". Test modules are #included by tests/test_main.c (one translation unit
   with the implementation, so that internal kernels such as every compiled micro-kernel can
   be tested directly). */
#ifndef NTK_TEST_H
#define NTK_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long t_passed, t_failed;

#define T_CHECK(cond, ...)                                   \
  do {                                                       \
    if (cond) {                                              \
      t_passed++;                                            \
    } else {                                                 \
      t_failed++;                                            \
      printf("  FAIL %s:%d: ", __FILE__, __LINE__);          \
      printf(__VA_ARGS__);                                   \
      printf("\n");                                          \
    }                                                        \
  } while (0)

#define T_STATUS(expr, want)                                                            \
  do {                                                                                  \
    ntk_status t_s_ = (expr);                                                           \
    T_CHECK(t_s_ == (want), "%s returned %s, expected %s", #expr, ntk_status_string(t_s_), \
            ntk_status_string(want));                                                   \
  } while (0)

/* splitmix64: test data independent of the library's own RNG */
static unsigned long long t_rng = 0x1234567ull;
static double t_uniform(void) { /* [-1, 1) */
  unsigned long long z = (t_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}
static double t_normal(void) {
  double u = 0.5 * (t_uniform() + 1.0), v = 0.5 * (t_uniform() + 1.0);
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* max over i of |got − ref| / (atol + rtol·|ref|); ≤ 1 passes. NaN counts as failure. */
static double t_err_ratio_d(const double *got, const double *ref, size_t n, double atol,
                            double rtol) {
  double worst = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    double e = fabs(got[i] - ref[i]) / (atol + rtol * fabs(ref[i]));
    if (isnan(e)) return INFINITY;
    if (e > worst) worst = e;
  }
  return worst;
}

static void t_section(const char *name) {
  printf("[%s]\n", name);
  fflush(stdout);
}
#endif
