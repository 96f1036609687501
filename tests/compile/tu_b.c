/* A second translation unit with a private (NTK_STATIC) copy of the library. */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include "../../ntk.h"

int tu_b_check(void);
int tu_b_check(void) {
  double A[4] = {4, 2, 2, 3};
  return ntk_dpotrf(2, A, 2) == NTK_OK ? 0 : 1;
}
