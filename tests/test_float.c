/* The kernel tests again with ntk_real = float (-DNTK_REAL_FLOAT), as a second translation unit
   with a private (NTK_STATIC) copy of the library, linked into the one test binary. */
#define NTK_REAL_FLOAT
#define NTK_STATIC
#define NTK_IMPLEMENTATION
/* an allocator that can refuse large blocks, to test what the library does without memory */
#include <stdlib.h>
static int tf_refuse_big;
static void *tf_malloc(size_t n) { return tf_refuse_big && n > 4096 ? NULL : malloc(n); }
#define NTK_MALLOC(sz) tf_malloc(sz)
#define NTK_FREE(p) free(p)
#include "../ntk.h"

#include "test.h"

#include "test_kernel.c"
#include "test_nets15.c"
#include "test_quad.c"
#include "test_closed.c"
#include "test_skernel.c"
#include "test_frames.c"
#include "test_tiles.c"

/* without memory for its packing buffers the GEMM takes the direct path: same result, NTK_OK */
static void test_gemm_no_memory(void) {
  size_t n = 150, i;
  float *A = (float *)malloc(n * n * 4), *C = (float *)malloc(n * n * 4), *R = (float *)malloc(n * n * 4);
  double worst = 0;
  t_section("gemm: no memory for packing buffers → the direct path, not a skipped product");
  for (i = 0; i < n * n; i++) A[i] = (float)t_uniform();
  ntk_sgemm_ref(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0f, A, n, A, n, 0.0f, R, n);
  tf_refuse_big = 1;
  T_STATUS(ntk_sgemm(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0f, A, n, A, n, 0.0f, C, n), NTK_OK);
  T_STATUS(ntk_ssyrk(NTK_LOWER, NTK_NO_TRANS, n, n, 1.0f, A, n, 0.0f, C, n), NTK_OK);
  tf_refuse_big = 0;
  for (i = 0; i < n * n; i++)
    if (fabs((double)C[i] - R[i]) > worst && (i % n) <= i / n) worst = fabs((double)C[i] - R[i]);
  T_CHECK(worst < 1e-3, "result equals _ref without packing memory: max |diff| %.3g", worst);
  free(A), free(C), free(R);
}

void test_float_suite(long *passed, long *failed);
void test_float_suite(long *passed, long *failed) {
  test_gemm_no_memory();
  printf("(ntk_real = float)\n");
  test_kernel_math();
  test_kernel_closed_forms();
  test_kernel_symmetry();
  test_kernel_quadrature();
  test_kernel_bad();
  test_nets15_all();
  test_quad();
  test_closed_all();
  test_skernel_all();
  test_frames_all();
  test_tiles_all();
  *passed += t_passed;
  *failed += t_failed;
}
