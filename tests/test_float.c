/* The kernel tests again with ntk_real = float (-DNTK_REAL_FLOAT), as a second translation unit
   with a private (NTK_STATIC) copy of the library, linked into the one test binary. */
#define NTK_REAL_FLOAT
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include "test.h"

#include "test_kernel.c"

void test_float_suite(long *passed, long *failed);
void test_float_suite(long *passed, long *failed) {
  printf("(ntk_real = float)\n");
  test_kernel_math();
  test_kernel_closed_forms();
  test_kernel_symmetry();
  test_kernel_quadrature();
  test_kernel_bad();
  *passed += t_passed;
  *failed += t_failed;
}
