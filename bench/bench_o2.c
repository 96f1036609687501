/* The same ntk.h GEMM compiled with plain -O2 (no -march): what a user who does not pass
   -march gets through run-time dispatch. Linked into bench/bench.c, which is built with
   -march=native, so both builds are measured side by side in one run. */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include "../ntk.h"

int bench_o2_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
int bench_o2_dgemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                   size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);
const char *bench_o2_simd(void);

int bench_o2_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc) {
  return (int)ntk_sgemm((ntk_trans)ta, (ntk_trans)tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
int bench_o2_dgemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                   size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc) {
  return (int)ntk_dgemm((ntk_trans)ta, (ntk_trans)tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
const char *bench_o2_simd(void) { return ntk_simd_name(); }
