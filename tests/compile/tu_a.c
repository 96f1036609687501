/* Compile matrix: ntk.h included twice (before and after NTK_IMPLEMENTATION), and a second
   translation unit (tu_b.c) with its own NTK_STATIC copy; both are called from main. */
#include "../../ntk.h"
#define NTK_IMPLEMENTATION
#include "../../ntk.h"
#include <stdio.h>

int tu_b_check(void);

int main(void) {
  ntk_real x[4] = {1, 2, 3, 4}, K[4];
  ntk_layer net[3];
  size_t L = ntk_mlp(net, 3, 1, 0, ntk_relu(), 1, 0, 1);
  if (ntk_kernel(net, L, x, 2, NULL, 0, 2, NULL, K) != NTK_OK) return 1;
  if (tu_b_check() != 0) return 1;
  printf("compile-matrix binary ok (%s, %s, ntk_real %s)\n", ntk_version(), ntk_simd_name(),
         sizeof(ntk_real) == 4 ? "float" : "double");
  return 0;
}
