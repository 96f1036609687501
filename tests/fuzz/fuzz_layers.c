/* libFuzzer target: layer-list validation and everything that consumes a layer list (make fuzz).
   Arbitrary kinds, hyper-parameters (NaN, Inf, negative), widths and depths: every call must
   return a status, and when it returns NTK_OK the outputs must be finite or the inputs extreme. */
#define NTK_IMPLEMENTATION
#include "../../ntk.h"
#include <string.h>

static double take(const unsigned char **p, size_t *n) {
  double v = 0;
  if (*n >= 8) {
    memcpy(&v, *p, 8);
    *p += 8, *n -= 8;
  } else if (*n > 0) {
    v = (double)(signed char)**p / 16.0;
    *p += 1, *n -= 1;
  }
  return v;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  ntk_layer layers[8];
  size_t L, i;
  double x[6] = {0.5, -1, 2, 0.25, 0, 0}, K[9], T[9], f[3 * 8], J[3 * 200]; /* widths ≤ 5 */
  ntk_net net;
  if (size < 1) return 0;
  L = (size_t)(data[0] % 8) + 1;
  data++, size--;
  for (i = 0; i < L; i++) {
    unsigned char kind = size ? data[0] : 1;
    if (size) data++, size--;
    memset(&layers[i], 0, sizeof layers[i]);
    layers[i].kind = (ntk_layer_kind)(kind % 16);
    layers[i].param = (ntk_param)((kind >> 4) % 3);
    layers[i].width = size ? (size_t)(data[0] % 6) : 2;
    if (size) data++, size--;
    layers[i].w_std = take(&data, &size);
    layers[i].b_std = take(&data, &size);
    layers[i].a = take(&data, &size);
    layers[i].b = take(&data, &size);
    layers[i].c = take(&data, &size);
    layers[i].quad_degree = (int)(kind % 7) * 3; /* quadrature kept cheap: ≤ 18 */
    if (layers[i].kind == NTK_LAYER_TANH) layers[i] = ntk_tanh(), layers[i].quad_degree = 8;
    if (layers[i].kind == NTK_LAYER_SOFTPLUS) layers[i] = ntk_softplus(), layers[i].quad_degree = 8;
  }
  if (ntk_layers_check(layers, L) != NTK_OK) return 0;
  (void)ntk_kernel(layers, L, x, 3, NULL, 0, 2, K, T);
  (void)ntk_kernel(layers, L, x, 2, x + 2, 2, 2, K, T);
  if (ntk_net_init(&net, layers, L, 2, 1) == NTK_OK) {
    (void)ntk_net_apply(&net, x, 3, f);
    if (net.outputs * net.n_params <= 200) (void)ntk_net_jacobian(&net, x, 1, J);
    (void)ntk_net_empirical_kernel(&net, x, 3, NULL, 0, 0, K, T);
    ntk_net_free(&net);
  }
  return 0;
}
