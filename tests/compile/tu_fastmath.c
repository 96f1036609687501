/* Built with -ffast-math / -ffinite-math-only by the compile matrix: the compiler may then
   assume that no value is NaN or Inf, so a finiteness test written as x − x == 0 or isfinite()
   folds to "true". ntk.h tests the exponent bits instead; this program fails if NaN or Inf
   input gets through. */
#define NTK_IMPLEMENTATION
#include "../../ntk.h"

#include <stdio.h>
#include <string.h>

static double make_bad(int inf) { /* a NaN or +Inf built from bits, not from arithmetic */
  unsigned long long u = inf ? 0x7ff0000000000000ull : 0x7ff8000000000000ull;
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

int main(void) {
  int fails = 0, inf;
  for (inf = 0; inf < 2; inf++) {
    ntk_real x[4] = {1, 2, 3, 4}, K[4] = {0, 0, 0, 0};
    double A[4] = {2, 0, 1, 2};
    ntk_layer net[3];
    size_t L = ntk_mlp(net, 3, 1, 0, ntk_relu(), 1, 0, 1);
    x[1] = (ntk_real)make_bad(inf);
    if (ntk_kernel(net, L, x, 2, NULL, 0, 2, NULL, K) != NTK_ERR_NON_FINITE) {
      printf("fast-math: %s in ntk_kernel's input not reported\n", inf ? "Inf" : "NaN");
      fails++;
    }
    A[2] = make_bad(inf);
    if (ntk_dpotrf(2, A, 2) != NTK_ERR_NON_FINITE) {
      printf("fast-math: %s in ntk_dpotrf's input not reported\n", inf ? "Inf" : "NaN");
      fails++;
    }
  }
  return fails != 0;
}
