/* A program that uses an installed ntk: the infinite-width NNGP of Dense-ReLU-Dense between two
   vectors, against the arc-cosine formula written here. Built header-only (-DNTK_HEADER_ONLY:
   this file has the implementation) or against libntk.so. Exit 0 when they agree. */
#ifdef NTK_HEADER_ONLY
#define NTK_IMPLEMENTATION
#endif
#include <ntk.h>
#include <math.h>
#include <stdio.h>

int main(void) {
  double x[2 * 3] = {1.0, -0.5, 2.0, 0.3, 0.8, -1.2}, K[4];
  ntk_layer net[3];
  size_t L = ntk_mlp(net, 3, 1, 0, ntk_relu(), 1.0, 0.0, 1);
  ntk_status s = ntk_kernel(net, L, x, 2, NULL, 0, 3, K, NULL);
  double q11 = (1 + 0.25 + 4) / 3, q22 = (0.09 + 0.64 + 1.44) / 3;
  double q12 = (0.3 - 0.4 - 2.4) / 3, pi = 3.14159265358979323846;
  double r = q12 / sqrt(q11 * q22), t = acos(r);
  double ref = sqrt(q11 * q22) * (sin(t) + (pi - t) * r) / (2 * pi);
  if (s != NTK_OK) {
    printf("ntk_kernel: %s\n", ntk_status_string(s));
    return 1;
  }
  printf("ntk %s: K12 = %.17g, arc-cosine formula %.17g\n", ntk_version(), K[1], ref);
  return fabs(K[1] - ref) <= 1e-14 * fabs(ref) && K[1] == K[2] ? 0 : 1;
}
