#define NTK_IMPLEMENTATION
#include "ntk.h"
#include <stdio.h>

int main(void) {
  /* 6 training points and 2 test points in 2-D */
  double x[6 * 2] = {-1, 0, -0.5, 0.5, 0, 1, 0.5, 0.5, 1, 0, 0.7, -0.7};
  double y[6] = {-0.8, -0.3, 0.1, 0.4, 0.9, 0.6}, xt[2 * 2] = {-0.2, 0.8, 0.9, 0.2};
  double K[6 * 6], Kt[2 * 6], mean[2], ft[2];
  ntk_layer net[5];
  ntk_predictor p;
  /* Dense(σ_w = 1.5, σ_b = 0.05) → ReLU → Dense → ReLU → Dense: a depth-2 MLP, infinite width */
  size_t L = ntk_mlp(net, 5, 2, 0, ntk_relu(), 1.5, 0.05, 1);
  ntk_status s = ntk_kernel(net, L, x, 6, NULL, 0, 2, NULL, K); /* NTK, train × train */
  if (s == NTK_OK) s = ntk_kernel(net, L, xt, 2, x, 6, 2, NULL, Kt); /* test × train */
  /* what an infinitely wide network predicts after training to convergence (t = ∞) ... */
  if (s == NTK_OK) s = ntk_gp_inference(K, 6, y, 1, Kt, 2, NULL, 0.0, 0, mean, NULL);
  /* ... and after 3 gradient-descent steps of learning rate 1 (gradient flow, closed form) */
  if (s == NTK_OK) s = ntk_predictor_init(&p, K, 6, y, 1, NULL, 1.0, 0.0, 0);
  if (s == NTK_OK) s = ntk_predict_test(&p, 3, 0, Kt, 2, NULL, ft);
  if (s != NTK_OK) {
    fprintf(stderr, "ntk.h: %s\n", ntk_status_string(s));
    return 1;
  }
  printf("t = inf: %.4f %.4f   t = 3 steps: %.4f %.4f\n", mean[0], mean[1], ft[0], ft[1]);
  ntk_predictor_free(&p);
  return 0;
}
