/* The network front end (issue 16 item 2) and the bias modes (item 1): ntk_layers_describe's
   shapes against values computed by hand in the comments, the SAME/CIRCULAR padding against
   XLA's padtype_to_pads written out here, neural-tangents' own AvgPool SAME literal, every
   refusal at its layer index, a residual CNN's parameter slots and needed covariance offsets
   by hand, MLP lists unchanged, and NTK_BIAS_NONE/ALWAYS against explicit formulas and finite
   differences. Every expected number below is written out, never read back from ntk.h. */

static void tf_shape(const ntk_layer_info *I, const size_t want[3], const char *what) {
  T_CHECK(I->out[0] == want[0] && I->out[1] == want[1] && I->out[2] == want[2],
          "%s: out %zux%zux%zu, expected %zux%zux%zu", what, I->out[0], I->out[1], I->out[2], want[0], want[1],
          want[2]);
}
static void tf_refuse(const char *what, const ntk_layer *l, size_t n, size_t dim, size_t want_bad,
                      const char *word) {
  size_t bad = 12345;
  const char *why = NULL;
  ntk_status st = ntk_layers_describe(l, n, dim, NULL, &bad, &why);
  T_CHECK(st == NTK_ERR_BAD_LAYER && bad == want_bad && why && strstr(why, word),
          "%s: %s at layer %zu (\"%s\"), expected BAD_LAYER at %zu mentioning '%s'", what, ntk_status_string(st),
          bad, why ? why : "(null)", want_bad, word);
}

/* XLA's padtype_to_pads, SAME: out = ceil(n/s), pad = max((out−1)·s + f − n, 0), lo = pad // 2 */
static size_t tf_xla_same(size_t n, size_t f, size_t s, size_t *lo, size_t *hi) {
  size_t out = (n + s - 1) / s;
  long pad = (long)((out - 1) * s + f) - (long)n;
  if (pad < 0) pad = 0;
  *lo = (size_t)(pad / 2), *hi = (size_t)(pad - pad / 2);
  return out;
}

static void test_front_shapes(void) {
  ntk_layer l[8];
  ntk_layer_info I[8];
  ntk__arch A;
  size_t bad, n, f, s, lo, hi, out;
  const char *why;
  int p, okall = 1;
  /* (h, w, c) expected per padding, 5×7×3 input, conv 4 channels, filter 3×2, strides 2:
     VALID: h (5−3)/2+1 = 2, w (7−2)/2+1 = 3; SAME and CIRCULAR: ceil(5/2) = 3, ceil(7/2) = 4 */
  static const size_t want_conv[3][3] = {{2, 3, 4}, {3, 4, 4}, {3, 4, 4}};
  t_section("front end: shapes on odd sizes (5x7, 3x2 filters, strides 2, every padding, 1-D and 2-D)");
  for (p = 0; p < 3; p++) {
    l[0] = ntk_input(5, 7, 3);
    l[1] = ntk_conv(4, 3, 2, 2, 2, (ntk_padding)p, 1.5, 0.1);
    l[2] = ntk_relu();
    l[3] = ntk_flatten();
    l[4] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_layers_describe(l, 5, 105, I, &bad, &why), NTK_OK);
    tf_shape(&I[1], want_conv[p], "conv 3x2 stride 2");
    T_CHECK(I[1].in[0] == 5 && I[1].in[1] == 7 && I[1].in[2] == 3 && I[0].out[2] == 3, "input 5x7x3");
    T_CHECK(I[1].fan_in == 18 && I[1].n_params == 4 * 18 + 4 && I[1].has_bias && I[1].gaussian,
            "conv fan-in 3*3*2 = 18, params 76, bias, Gaussian (got %zu, %zu)", I[1].fan_in, I[1].n_params);
    T_CHECK(!I[2].gaussian && !I[3].gaussian && I[3].out[2] == want_conv[p][0] * want_conv[p][1] * 4 &&
                I[3].out[0] == 1 && I[3].out[1] == 1,
            "relu and flatten not Gaussian; flatten is 1x1x%zu", want_conv[p][0] * want_conv[p][1] * 4);
    T_CHECK(I[4].fan_in == I[3].out[2] && I[4].param_offset == 76 && I[4].n_params == I[3].out[2],
            "dense after flatten: fan-in h*w*c, offset 76, no bias");
    T_CHECK(bad == 5 && why && why[0] == 0, "success: bad_layer = n, reason empty");
  }
  /* the padding amounts: SAME 5 / f 3 / s 2: total (3−1)·2 + 3 − 5 = 2 → (1, 1);
     7 / 2 / 2: total (4−1)·2 + 2 − 7 = 1 → (0, 1), the odd one at the end */
  l[1] = ntk_conv(4, 3, 2, 2, 2, NTK_PAD_SAME, 1.5, 0.1);
  T_STATUS(ntk__arch_init(&A, l, 5, 105, &bad, &why), NTK_OK);
  T_CHECK(A.l[1].lo[0] == 1 && A.l[1].hi[0] == 1 && A.l[1].lo[1] == 0 && A.l[1].hi[1] == 1,
          "SAME pads (1,1) along h and (0,1) along w, got (%zu,%zu) (%zu,%zu)", A.l[1].lo[0], A.l[1].hi[0],
          A.l[1].lo[1], A.l[1].hi[1]);
  ntk__arch_free(&A);
  /* SAME and CIRCULAR against padtype_to_pads over a sweep (1-D: h = 1, filter along w) */
  for (n = 1; n <= 12; n++)
    for (f = 1; f <= 5; f++)
      for (s = 1; s <= 3; s++)
        for (p = 1; p < 3; p++) {
          l[0] = ntk_input(1, n, 2);
          l[1] = ntk_conv(3, f, 0, s, 0, (ntk_padding)p, 1, 0);
          if (ntk__arch_init(&A, l, 2, 0, &bad, &why) != NTK_OK) { okall = 0; continue; }
          out = tf_xla_same(n, f, s, &lo, &hi);
          if (A.l[1].out[0] != 1 || A.l[1].out[1] != out || A.l[1].lo[1] != lo || A.l[1].hi[1] != hi ||
              A.l[1].f[0] != 1 || A.l[1].f[1] != f || A.l[1].s[0] != 1 || A.l[1].s[1] != s || A.l[1].lo[0] ||
              A.l[1].hi[0])
            okall = 0;
          ntk__arch_free(&A);
        }
  T_CHECK(okall, "SAME/CIRCULAR output size and (lo, hi) padding = XLA padtype_to_pads for n<=12, f<=5, s<=3");
  /* neural-tangents' stax_test literal: AvgPool((2,2), (1,1), 'SAME', normalize_edges=False) on
     a 2×3 image of ones is [[1, 1, .5], [.5, .5, .25]]: in-image taps / 4 with the padding at
     the end, recomputed here from the window the front end resolved */
  {
    static const double want[6] = {1, 1, .5, .5, .5, .25};
    size_t i, j, u, v, okp = 1;
    l[0] = ntk_input(2, 3, 1), l[1] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, 0);
    T_STATUS(ntk__arch_init(&A, l, 2, 6, &bad, &why), NTK_OK);
    T_CHECK(A.l[1].out[0] == 2 && A.l[1].out[1] == 3, "AvgPool 2x2 SAME on 2x3 keeps 2x3");
    for (i = 0; i < A.l[1].out[0]; i++)
      for (j = 0; j < A.l[1].out[1]; j++) {
        double sum = 0;
        for (u = 0; u < A.l[1].f[0]; u++)
          for (v = 0; v < A.l[1].f[1]; v++) {
            long r = (long)(i * A.l[1].s[0] + u) - (long)A.l[1].lo[0];
            long c = (long)(j * A.l[1].s[1] + v) - (long)A.l[1].lo[1];
            if (r >= 0 && r < 2 && c >= 0 && c < 3) sum += 1;
          }
        if (sum / (double)(A.l[1].f[0] * A.l[1].f[1]) != want[i * 3 + j]) okp = 0;
      }
    T_CHECK(okp, "AvgPool SAME on ones = neural-tangents' [[1,1,.5],[.5,.5,.25]]");
    ntk__arch_free(&A);
  }
  /* 1-D: a 7×2 sequence; conv(3, filter 3, stride 2): VALID (7−3)/2+1 = 3, SAME ceil(7/2) = 4 */
  l[0] = ntk_input(1, 7, 2), l[1] = ntk_conv(5, 3, 0, 2, 0, NTK_PAD_VALID, 1, 0);
  l[2] = ntk_relu(), l[3] = ntk_conv(6, 2, 0, 0, 0, NTK_PAD_SAME, 1, 0), l[4] = ntk_global_avg_pool();
  T_STATUS(ntk_layers_describe(l, 5, 0, I, NULL, NULL), NTK_OK);
  {
    static const size_t w1[3] = {1, 3, 5}, w3[3] = {1, 3, 6}, w4[3] = {1, 1, 6};
    tf_shape(&I[1], w1, "1-D conv 3 stride 2 VALID on 7");
    tf_shape(&I[3], w3, "1-D conv 2 stride 1 SAME on 3");
    tf_shape(&I[4], w4, "GAP");
    T_CHECK(I[1].fan_in == 6 && I[3].fan_in == 10 && I[3].n_params == 60 && !I[3].has_bias,
            "1-D fan-ins 2*3 = 6, 5*2 = 10; params 60 without bias");
    T_CHECK(I[4].gaussian && I[3].gaussian, "GAP keeps the Gaussian flag");
  }
  /* 2-D square defaults: conv(2, 3, 0, 2, 0) on 5×7 is 3×3 stride 2×2: VALID (2, 3); pools
     with stride 0 = 1: avg_pool(2) SAME 5×7 → 5×7, VALID → 4×6; sum_pool(3, 2, stride 2 (square))
     VALID → ((5−3)/2+1, (7−2)/2+1) = (2, 3) */
  l[0] = ntk_input(5, 7, 1), l[1] = ntk_conv(2, 3, 0, 2, 0, NTK_PAD_VALID, 1, 0);
  T_STATUS(ntk_layers_describe(l, 2, 35, I, NULL, NULL), NTK_OK);
  {
    static const size_t w1[3] = {2, 3, 2}, wa[3] = {5, 7, 1}, wb[3] = {4, 6, 1}, wc[3] = {2, 3, 1};
    tf_shape(&I[1], w1, "2-D conv 3 (square) stride 2 (square) VALID");
    T_CHECK(I[1].fan_in == 9, "fan-in 1*3*3");
    l[1] = ntk_avg_pool(2, 0, 0, 0, NTK_PAD_SAME, 1);
    T_STATUS(ntk_layers_describe(l, 2, 35, I, NULL, NULL), NTK_OK);
    tf_shape(&I[1], wa, "avg_pool 2 SAME, stride 1");
    l[1] = ntk_avg_pool(2, 0, 0, 0, NTK_PAD_VALID, 0);
    T_STATUS(ntk_layers_describe(l, 2, 35, I, NULL, NULL), NTK_OK);
    tf_shape(&I[1], wb, "avg_pool 2 VALID, stride 1");
    l[1] = ntk_sum_pool(3, 2, 2, 0, NTK_PAD_VALID);
    T_STATUS(ntk_layers_describe(l, 2, 35, I, NULL, NULL), NTK_OK);
    tf_shape(&I[1], wc, "sum_pool 3x2 stride 2 VALID");
    T_CHECK(!I[1].gaussian && I[1].n_params == 0, "a pool of the (non-Gaussian) input stays non-Gaussian, no params");
  }
  /* dim = 0 takes the INPUT's size; a Dense per position keeps (h, w) */
  l[0] = ntk_input(5, 7, 3), l[1] = ntk_dense(4, 1, 0.5), l[2] = ntk_layer_norm(0, 0), l[3] = ntk_erf();
  T_STATUS(ntk_layers_describe(l, 4, 0, I, NULL, NULL), NTK_OK);
  {
    static const size_t w1[3] = {5, 7, 4};
    tf_shape(&I[1], w1, "Dense(4) per position on 5x7x3");
    T_CHECK(I[1].fan_in == 3 && I[1].n_params == 16 && I[2].gaussian && !I[3].gaussian,
            "Dense per position: fan-in 3, params 4*3+4; LayerNorm keeps Gaussian");
  }
}

static void test_front_refusals(void) {
  ntk_layer l[12];
  size_t bad;
  const char *why;
  t_section("front end: neural-tangents' refusals, each at its layer index with a reason");
  l[0] = ntk_input(5, 7, 3), l[1] = ntk_conv(4, 3, 0, 1, 0, NTK_PAD_SAME, 1, 0), l[2] = ntk_flatten();
  l[3] = ntk_relu(), l[4] = ntk_dense(1, 1, 0);
  tf_refuse("ReLU after flatten", l, 5, 105, 3, "flatten");
  l[2] = ntk_fanout(2), l[3] = ntk_conv(2, 1, 0, 0, 0, NTK_PAD_SAME, 1, 0), l[4] = ntk_branch();
  l[5] = ntk_conv(3, 1, 0, 0, 0, NTK_PAD_SAME, 1, 0), l[6] = ntk_fanin_concat(), l[7] = ntk_relu();
  tf_refuse("ReLU after concat", l, 8, 105, 7, "concat");
  l[7] = ntk_dense(2, 1, 0), l[8] = ntk_relu(); /* Dense makes it Gaussian again */
  T_STATUS(ntk_layers_describe(l, 9, 105, NULL, NULL, NULL), NTK_OK);
  l[3] = ntk_relu(), l[4] = ntk_branch(), l[5] = ntk_fanin_sum();
  tf_refuse("sum of a non-Gaussian branch (post-activation ResNet)", l, 6, 105, 5, "Gaussian branches");
  l[3] = ntk_conv(8, 1, 0, 0, 0, NTK_PAD_SAME, 1, 0);
  tf_refuse("sum of branches 5x7x8 and 5x7x4", l, 6, 105, 5, "different shapes");
  l[3] = ntk_conv(4, 3, 0, 2, 0, NTK_PAD_SAME, 1, 0);
  tf_refuse("sum of branches 3x4x4 and 5x7x4", l, 6, 105, 5, "different shapes");
  l[5] = ntk_fanin_concat();
  tf_refuse("concat of branches 3x4 and 5x7", l, 6, 105, 5, "different h, w");
  l[0] = ntk_input(3, 3, 1), l[1] = ntk_conv(2, 5, 5, 1, 1, NTK_PAD_VALID, 1, 0);
  tf_refuse("VALID 5x5 filter on 3x3", l, 2, 9, 1, "larger than the VALID input");
  l[1] = ntk_conv(2, 3, 4, 1, 1, NTK_PAD_VALID, 1, 0);
  tf_refuse("VALID 3x4 filter on 3x3", l, 2, 9, 1, "larger than the VALID input");
  l[1] = ntk_conv(2, 5, 5, 1, 1, NTK_PAD_SAME, 1, 0);
  T_STATUS(ntk_layers_describe(l, 2, 9, NULL, NULL, NULL), NTK_OK); /* SAME pads */
  l[1] = ntk_avg_pool(4, 0, 0, 0, NTK_PAD_VALID, 0);
  tf_refuse("VALID 4x4 window on 3x3", l, 2, 9, 1, "window is larger");
  l[0] = ntk_dense(4, 1, 0), l[1] = ntk_fanin_sum();
  tf_refuse("FANIN without FANOUT", l, 2, 3, 1, "without a FANOUT");
  l[1] = ntk_branch();
  tf_refuse("BRANCH outside a FANOUT", l, 2, 3, 1, "outside a FANOUT");
  l[1] = ntk_fanout(2), l[2] = ntk_dense(4, 1, 0), l[3] = ntk_branch(), l[4] = ntk_branch(), l[5] = ntk_fanin_sum();
  tf_refuse("three branches in a FANOUT(2)", l, 6, 3, 4, "more branches");
  l[1] = ntk_fanout(3), l[4] = ntk_fanin_sum();
  tf_refuse("two branches in a FANOUT(3)", l, 5, 3, 4, "fewer branches");
  l[1] = ntk_fanout(2), l[4] = ntk_relu();
  tf_refuse("missing FANIN", l, 5, 3, 1, "without its FANIN");
  l[1] = ntk_fanout(0);
  tf_refuse("FANOUT(0)", l, 2, 3, 1, "at least one branch");
  /* nested: the inner FANOUT is the unclosed one */
  l[1] = ntk_fanout(2), l[2] = ntk_dense(4, 1, 0), l[3] = ntk_branch(), l[4] = ntk_fanout(1), l[5] = ntk_dense(4, 1, 0);
  tf_refuse("nested FANOUT(1) never closed", l, 6, 3, 4, "without its FANIN");
  /* the MLP rules, now by Gaussianity */
  l[0] = ntk_relu(), l[1] = ntk_dense(1, 1, 0);
  tf_refuse("activation on the network input", l, 2, 3, 0, "network input");
  l[0] = ntk_dense(4, 1, 0), l[1] = ntk_relu(), l[2] = ntk_relu();
  tf_refuse("activation after activation", l, 3, 3, 2, "follows an activation");
  l[2] = ntk_identity(), l[3] = ntk_relu();
  tf_refuse("identity keeps non-Gaussian", l, 4, 3, 3, "follows an activation");
  l[0] = ntk_identity(), l[1] = ntk_dense(4, 1, 0), l[2] = ntk_identity(), l[3] = ntk_relu(), l[4] = ntk_identity();
  l[5] = ntk_dense(1, 1, 0);
  T_STATUS(ntk_layers_check(l, 6), NTK_OK); /* stax.Identity has no requirement (was BAD_LAYER) */
  /* layer-local rules */
  l[0] = ntk_dense(4, 1, 0), l[1] = ntk_input(2, 2, 1);
  tf_refuse("INPUT not first", l, 2, 4, 1, "first layer only");
  l[0] = ntk_input(2, 2, 2), l[1] = ntk_dense(1, 1, 0);
  tf_refuse("INPUT's size differs from dim", l, 2, 7, 0, "differs from dim");
  l[0] = ntk_input(2, 0, 2);
  tf_refuse("INPUT with w = 0", l, 2, 0, 0, "h, w and c");
  l[0] = ntk_input(4, 4, 2), l[1] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_SAME, 1, 0), l[2] = ntk_relu();
  l[3] = ntk_layer_norm(NTK_AXIS_C, 0);
  tf_refuse("LayerNorm after relu", l, 4, 32, 3, "LayerNorm needs a Gaussian");
  l[2] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W, 0);
  tf_refuse("LayerNorm without channels", l, 3, 32, 2, "include channels");
  l[2] = ntk_layer_norm(0, -1);
  tf_refuse("LayerNorm eps < 0", l, 3, 32, 2, "eps");
  l[1].padding = (ntk_padding)7;
  tf_refuse("unknown padding", l, 2, 32, 1, "unknown padding");
  l[1] = ntk_conv(2, 0, 0, 1, 0, NTK_PAD_SAME, 1, 0);
  tf_refuse("filter 0", l, 2, 32, 1, "filter extent is 0");
  l[1] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_SAME, 1, 0), l[1].bias = (ntk_bias)9;
  tf_refuse("unknown bias mode", l, 2, 32, 1, "bias mode");
  l[1] = ntk_sum_pool(2, 0, 0, 0, NTK_PAD_VALID), l[1].flags = NTK_POOL_NORMALIZE_EDGES;
  tf_refuse("normalize_edges on a sum pool", l, 2, 32, 1, "AVG_POOL only");
  l[0] = ntk_dense(0, 1, 0), l[1] = ntk_dense_standard(2, 1, 0);
  tf_refuse("'standard' after width 0", l, 2, 3, 1, "standard");
  T_STATUS(ntk_layers_check(l, 2), NTK_OK); /* dim unknown: as today */
  l[0] = ntk_dense(3, 1, 0), l[1] = ntk_fanout(2), l[2] = ntk_dense(0, 1, 0), l[3] = ntk_branch();
  l[4] = ntk_fanin_concat();
  tf_refuse("concat of a width-0 branch", l, 5, 3, 4, "channel count");
  /* statuses other than BAD_LAYER */
  T_STATUS(ntk_layers_describe(NULL, 2, 3, NULL, &bad, &why), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_layers_describe(l, 0, 3, NULL, NULL, NULL), NTK_ERR_INVALID_ARG);
  l[0] = ntk_input((size_t)-1 / 2, 3, 1);
  T_STATUS(ntk_layers_describe(l, 1, 0, NULL, &bad, &why), NTK_ERR_OVERFLOW);
  T_CHECK(bad == 0, "overflow at layer 0");
  l[0] = ntk_input((size_t)-1 / 3, 1, 1), l[1] = ntk_dense(4, 1, 0), l[2] = ntk_flatten();
  T_STATUS(ntk_layers_describe(l, 3, 0, NULL, &bad, &why), NTK_ERR_OVERFLOW);
  T_CHECK(bad == 1, "overflow at the Dense whose output does not fit (%zu)", bad);
  /* a list the front end accepts: the kernel computes it ([skernel]), and so does the finite
     network (issue 17) */
  {
    ntk_real x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, K[4] = {7, 7, 7, 7};
    ntk_net net;
    l[0] = ntk_input(2, 2, 2), l[1] = ntk_conv(3, 2, 0, 1, 0, NTK_PAD_SAME, 1, 0), l[2] = ntk_relu();
    l[3] = ntk_global_avg_pool(), l[4] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_layers_check(l, 5), NTK_OK);
    T_STATUS(ntk_kernel(l, 5, x, 1, NULL, 0, 8, NULL, K), NTK_OK);
    T_STATUS(ntk_net_init(&net, l, 5, 8, 1), NTK_OK);
    ntk_net_free(&net);
    l[0] = ntk_dense(4, 1, 0), l[1] = ntk_fanout(2), l[2] = ntk_relu(), l[3] = ntk_dense(4, 1, 0);
    l[4] = ntk_branch(), l[5] = ntk_fanin_sum(), l[6] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_layers_check(l, 7), NTK_OK);
    T_STATUS(ntk_kernel(l, 7, x, 2, NULL, 0, 4, NULL, K), NTK_OK);
    K[0] = K[1] = K[2] = K[3] = 7;
    T_STATUS(ntk_net_init(&net, l, 7, 4, 1), NTK_OK);
    ntk_net_free(&net);
    l[2] = ntk_relu(), l[3] = ntk_relu(); /* refused: BAD_LAYER from both */
    T_STATUS(ntk_kernel(l, 7, x, 2, NULL, 0, 4, NULL, K), NTK_ERR_BAD_LAYER);
    T_STATUS(ntk_net_init(&net, l, 7, 4, 1), NTK_ERR_BAD_LAYER);
    T_CHECK(K[0] == 7 && K[3] == 7, "outputs untouched");
  }
}

/* A pre-activation residual CNN on 6×6×3, slots by hand:
    0 input 6x6x3
    1 conv(8, 3x3, SAME, b 0.1)   W 8·3·3·3 = 216, b 8   offset 0     → 6x6x8
    2 fanout(2)
    3 relu
    4 conv(8, 3x3, SAME, b 0)     W 8·3·3·8 = 576        offset 224
    5 relu
    6 conv(8, 1x1, SAME, b ALWAYS at 0)  W 64, b 8        offset 800
    7 branch                      (the second branch is empty: the identity)
    8 fanin_sum                                                        → 6x6x8
    9 avg_pool(2, stride 2, VALID)                                     → 3x3x8
   10 flatten                                                          → 1x1x72
   11 dense(10, b 0.1)            W 720, b 10             offset 872   total 1602
   Needed offsets, from the readout back: flatten needs the pool's diagonal (0, 0); the pool
   (window 2, stride 2) pairs every two taps: 2·0 + 1 = 1 of the sum; a conv takes the same tap
   on both sides (stride 1: offset k needs offset k): conv 1x1: 1, conv 3x3: 1 at the first relu;
   the empty branch: 1; the fanout: max(1, 1) = 1; conv 3x3 on 6x6: 1 of the input. */
static void test_front_resnet(void) {
  ntk_layer l[12];
  ntk_layer_info I[12];
  ntk__arch A;
  size_t bad, i;
  const char *why;
  static const size_t off[12] = {0, 0, 224, 224, 224, 800, 800, 872, 872, 872, 872, 872};
  static const size_t np[12] = {0, 224, 0, 0, 576, 0, 72, 0, 0, 0, 0, 730};
  static const size_t fan[12] = {0, 27, 0, 0, 72, 0, 8, 0, 0, 0, 0, 72};
  static const int gauss[12] = {0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1};
  static const size_t need[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
  static const int need_all[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  static const size_t prod[12] = {(size_t)-1, 0, 1, 2, 3, 4, 5, 6, 2, 8, 9, 10};
  int okv = 1;
  t_section("front end: a residual CNN's parameter slots, producers and needed offsets by hand");
  l[0] = ntk_input(6, 6, 3);
  l[1] = ntk_conv(8, 3, 0, 1, 0, NTK_PAD_SAME, 1.4, 0.1);
  l[2] = ntk_fanout(2);
  l[3] = ntk_relu();
  l[4] = ntk_conv(8, 3, 0, 1, 0, NTK_PAD_SAME, 1.4, 0);
  l[5] = ntk_relu();
  l[6] = ntk_conv(8, 1, 0, 1, 0, NTK_PAD_SAME, 1.4, 0), l[6].bias = NTK_BIAS_ALWAYS;
  l[7] = ntk_branch();
  l[8] = ntk_fanin_sum();
  l[9] = ntk_avg_pool(2, 0, 2, 0, NTK_PAD_VALID, 0);
  l[10] = ntk_flatten();
  l[11] = ntk_dense(10, 1, 0.1);
  T_STATUS(ntk_layers_describe(l, 12, 108, I, &bad, &why), NTK_OK);
  T_STATUS(ntk__arch_init(&A, l, 12, 108, &bad, &why), NTK_OK);
  for (i = 0; i < 12; i++) {
    if (I[i].param_offset != off[i] || I[i].n_params != np[i] || I[i].fan_in != fan[i] || I[i].gaussian != gauss[i])
      okv = 0, printf("  layer %zu: offset %zu params %zu fan-in %zu gaussian %d\n", i, I[i].param_offset,
                      I[i].n_params, I[i].fan_in, I[i].gaussian);
    if (A.l[i].need_r[0] != need[i] || A.l[i].need_r[1] != need[i] || A.l[i].need_all != need_all[i])
      okv = 0, printf("  layer %zu: needs (%zu, %zu) all %d\n", i, A.l[i].need_r[0], A.l[i].need_r[1], A.l[i].need_all);
    if (A.l[i].producer != prod[i]) okv = 0, printf("  layer %zu: producer %zu\n", i, A.l[i].producer);
  }
  T_CHECK(okv, "offsets, counts, fan-ins, Gaussian flags, needed offsets and producers as by hand");
  T_CHECK(A.n_params == 1602 && !A.params_overflow && A.spatial, "1602 parameters");
  T_CHECK(!A.need_all && A.need_r[0] == 1 && A.need_r[1] == 1, "the input's covariance: offsets up to ±1");
  T_CHECK(A.l[2].mate == 8 && A.l[7].mate == 2 && A.l[8].mate == 2, "FANOUT/BRANCH/FANIN matched");
  T_CHECK(I[6].has_bias && !I[4].has_bias && I[1].has_bias && I[11].has_bias, "bias: AUTO by b_std, ALWAYS at 0");
  T_CHECK(I[7].in[2] == 8 && I[7].out[2] == 8 && I[8].out[0] == 6 && I[9].out[0] == 3 && I[10].out[2] == 72,
          "branch and fanin shapes");
  ntk__arch_free(&A);
  /* a Flatten readout without pooling needs only the diagonal, through every conv (the same
     tap on both sides maps offset 0 to offset 0, whatever the stride) */
  l[0] = ntk_input(5, 7, 1), l[1] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_SAME, 1, 0), l[2] = ntk_relu();
  l[3] = ntk_conv(2, 3, 0, 2, 0, NTK_PAD_SAME, 1, 0), l[4] = ntk_relu(), l[5] = ntk_flatten(), l[6] = ntk_dense(1, 1, 0);
  T_STATUS(ntk__arch_init(&A, l, 7, 35, &bad, &why), NTK_OK);
  /* layer 3 (stride 2) output needs 0 → its input 2·0 = 0; layer 1's output 0 → its input 0 */
  T_CHECK(A.l[3].need_r[0] == 0 && A.l[2].need_r[0] == 0 && A.l[2].need_r[1] == 0 && A.l[0].need_r[0] == 0 &&
              A.l[0].need_r[1] == 0 && !A.l[0].need_all && !A.l[1].need_all && A.need_r[0] == 0 && A.need_r[1] == 0,
          "Flatten readout: needed radii 0, 0, 0 (got %zu %zu %zu/%zu)", A.l[3].need_r[0], A.l[2].need_r[0],
          A.l[0].need_r[0], A.l[0].need_r[1]);
  ntk__arch_free(&A);
  /* a pool before the Flatten: window 2 pairs taps, offsets ±1 at its input; stride-1 convs
     pass ±1 back unchanged, and a CIRCULAR conv then needs every offset (±1 wraps to ±(n − 1)) */
  l[5] = ntk_avg_pool(2, 0, 1, 0, NTK_PAD_VALID, 0), l[6] = ntk_flatten(), l[7] = ntk_dense(1, 1, 0);
  l[3] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_SAME, 1, 0);
  T_STATUS(ntk__arch_init(&A, l, 8, 35, &bad, &why), NTK_OK);
  T_CHECK(A.l[5].need_r[0] == 0 && A.l[4].need_r[0] == 1 && A.l[4].need_r[1] == 1 && A.l[2].need_r[0] == 1 &&
              A.l[0].need_r[1] == 1 && !A.l[0].need_all,
          "pool then Flatten: radii 0 after the pool, 1 before it and through the convs (got %zu %zu %zu)",
          A.l[5].need_r[0], A.l[4].need_r[0], A.l[0].need_r[1]);
  ntk__arch_free(&A);
  l[3] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_CIRCULAR, 1, 0);
  T_STATUS(ntk__arch_init(&A, l, 8, 35, &bad, &why), NTK_OK);
  T_CHECK(A.l[2].need_all && A.l[0].need_all, "CIRCULAR under a pool: offsets wrap, every offset of its input");
  ntk__arch_free(&A);
  l[3] = ntk_conv(2, 3, 0, 2, 0, NTK_PAD_SAME, 1, 0), l[5] = ntk_global_avg_pool(), l[6] = ntk_dense(1, 1, 0);
  T_STATUS(ntk__arch_init(&A, l, 7, 35, &bad, &why), NTK_OK);
  T_CHECK(A.l[4].need_all && A.l[0].need_all && A.l[4].need_r[0] == 2 && A.l[4].need_r[1] == 3, "GAP: every offset");
  ntk__arch_free(&A);
  l[3] = ntk_conv(2, 3, 0, 1, 0, NTK_PAD_CIRCULAR, 1, 0), l[5] = ntk_flatten();
  T_STATUS(ntk__arch_init(&A, l, 7, 35, &bad, &why), NTK_OK);
  T_CHECK(!A.l[2].need_all && A.l[2].need_r[0] == 0 && A.l[2].need_r[1] == 0,
          "CIRCULAR under Flatten: offset 0 maps to offset 0, no wrap");
  ntk__arch_free(&A);
}

/* describe of ntk_mlp lists: the parameter layout of today's ntk_net_init written out (Dense
   in order, W (width, w_in) then b when b_std > 0; every layer's offset the running count) */
static void test_front_mlp(void) {
  ntk_layer l[9];
  ntk_layer_info I[9];
  size_t n, i, w, P, d, okm = 1;
  double bs;
  ntk_net net;
  t_section("front end: MLP lists describe as today's layout");
  for (bs = 0; bs <= 0.2; bs += 0.2)
    for (d = 1; d <= 3; d++) {
      n = ntk_mlp(l, 9, 4, 7, ntk_erf(), 1.3, bs, 2);
      l[2].width = 5, l[4] = ntk_dense_standard(3, 1.1, bs); /* widths 7, 5, 3, 7 → 2 */
      T_STATUS(ntk_layers_describe(l, n, d, I, NULL, NULL), NTK_OK);
      T_STATUS(ntk_net_init(&net, l, n, d, 42), NTK_OK);
      w = d, P = 0;
      for (i = 0; i < n; i++) {
        size_t pl = l[i].kind == NTK_LAYER_DENSE ? w * l[i].width + (bs > 0 ? l[i].width : 0) : 0;
        if (I[i].param_offset != P || I[i].n_params != pl || I[i].in[2] != w || I[i].in[0] != 1 ||
            I[i].in[1] != 1 || net.offset[i] != P || net.width_in[i] != w ||
            I[i].gaussian != (l[i].kind == NTK_LAYER_DENSE) || I[i].has_bias != (l[i].kind == NTK_LAYER_DENSE && bs > 0) ||
            I[i].fan_in != (l[i].kind == NTK_LAYER_DENSE ? w : 0))
          okm = 0;
        P += pl;
        if (l[i].kind == NTK_LAYER_DENSE) w = l[i].width;
      }
      if (net.n_params != P || net.outputs != 2 || net.max_width != (d > 7 ? d : 7)) okm = 0;
      ntk_net_free(&net);
    }
  T_CHECK(okm, "offsets, counts, widths, flags of 9-layer MLPs (b_std 0 and 0.2, dim 1..3) as written out");
}

/* Bias modes. Dense standard on x ∈ R^d with b_std = 0: the NTK of one layer is x·x′ (+1 with
   a bias parameter); of Dense_std(n1) → ReLU → Dense_std(1) it is
     n1·K1 + 1[b2] + σ_w2²·Ṫ·(x·x′ + 1[b1]),
   K1 = E[relu(u)relu(v)] = σ1²·|x||x′|/d·(sin θ + (π − θ) cos θ)/(2π), Ṫ = (π − θ)/(2π),
   θ the angle between x and x′ (the arc-cosine kernels, written out here). */
static void test_front_bias(void) {
  ntk_layer l[3];
  ntk_real x[6] = {0.3, -1.2, 0.8, 1.1, 0.4, -0.5}, K[4], T[4], Kn[4], Tn[4], J[8], f0[2], f1[2];
  double nx = 0, ny = 0, xy = 0, c, th, K1, Td, want, s1 = 1.3, s2 = 0.9;
  size_t i, j, d = 3, n1 = 5;
  int mode, okf = 1;
  ntk_status st;
  ntk_net net;
  t_section("bias: NTK_BIAS_NONE / ALWAYS in the MLP kernel and the finite net (formula, finite differences)");
  for (i = 0; i < d; i++) nx += x[i] * x[i], ny += x[d + i] * x[d + i], xy += x[i] * x[d + i];
  c = xy / sqrt(nx * ny), th = acos(c);
  for (mode = 0; mode < 3; mode++) {
    int hb = mode == 2; /* AUTO at b_std = 0 and NONE: no bias; ALWAYS: a bias at 0 */
    l[0] = ntk_dense_standard(1, 1, 0), l[0].bias = (ntk_bias)mode;
    T_STATUS(ntk_kernel(l, 1, x, 2, NULL, 0, d, K, T), NTK_OK);
    T_CHECK(fabs(T[2] - (xy + hb)) <= 1e-15 * (1 + fabs(xy)) && fabs(K[2] - xy / 3) <= 1e-15 * fabs(xy),
            "one standard Dense, bias mode %d: NTK %.17g, expected x.x' + %d = %.17g", mode, T[2], hb, xy + hb);
    l[0] = ntk_dense_standard(n1, s1, 0), l[1] = ntk_relu(), l[2] = ntk_dense_standard(1, s2, 0);
    l[0].bias = l[2].bias = (ntk_bias)mode;
    T_STATUS(ntk_kernel(l, 3, x, 2, NULL, 0, d, K, T), NTK_OK);
    K1 = s1 * s1 * sqrt(nx * ny) / (double)d * (sin(th) + (NTK__PI - th) * c) / (2 * NTK__PI);
    Td = (NTK__PI - th) / (2 * NTK__PI);
    want = (double)n1 * K1 + hb + s2 * s2 * Td * (xy + hb);
    T_CHECK(fabs(T[2] - want) <= 1e-14 * fabs(want) && fabs(K[2] - s2 * s2 * K1) <= 1e-14 * fabs(K1),
            "Dense-ReLU-Dense standard, bias mode %d: NTK %.17g, formula %.17g", mode, T[2], want);
    /* 'ntk': a bias at b_std = 0 contributes σ_b² = 0: every mode gives the same kernel */
    l[0] = ntk_dense(n1, s1, 0), l[2] = ntk_dense(1, s2, 0), l[0].bias = l[2].bias = (ntk_bias)mode;
    T_STATUS(ntk_kernel(l, 3, x, 2, NULL, 0, d, K, mode ? T : Tn), NTK_OK);
    if (mode) T_CHECK(T[2] == Tn[2] && T[0] == Tn[0], "'ntk' at b_std = 0: bias mode %d changes nothing", mode);
  }
  /* NONE ignores b_std: equals b_std = 0 in both parameterisations */
  l[0] = ntk_dense_standard(n1, s1, 0.7), l[1] = ntk_relu(), l[2] = ntk_dense(1, s2, 0.4);
  l[0].bias = l[2].bias = NTK_BIAS_NONE;
  T_STATUS(ntk_kernel(l, 3, x, 2, NULL, 0, d, K, T), NTK_OK);
  l[0].b_std = l[2].b_std = 0, l[0].bias = l[2].bias = NTK_BIAS_AUTO;
  T_STATUS(ntk_kernel(l, 3, x, 2, NULL, 0, d, Kn, Tn), NTK_OK);
  T_CHECK(K[2] == Kn[2] && T[2] == Tn[2] && T[0] == Tn[0], "NONE with b_std > 0 = no bias");
  /* the finite net: a bias parameter exists iff has_bias; f = W·x + b ('standard'): the
     empirical NTK is x·x′ + 1[bias], and ∂f/∂b = 1 by finite differences */
  for (mode = 0; mode < 3; mode++) {
    int hb = mode == 2;
    double b_std = mode == 1 ? 0.5 : 0;
    l[0] = ntk_dense_standard(1, 1, b_std), l[0].bias = (ntk_bias)mode;
    st = ntk_net_init(&net, l, 1, d, 7);
    T_CHECK(st == NTK_OK, "bias mode %d: ntk_net_init %s", mode, ntk_status_string(st));
    if (st != NTK_OK) continue;
    T_CHECK(net.n_params == d + (size_t)hb, "bias mode %d: %zu parameters, expected %zu", mode, net.n_params, d + (size_t)hb);
    if (hb) T_CHECK(net.params[d] == 0, "a bias that starts at 0 (b_std = 0)");
    T_STATUS(ntk_net_empirical_kernel(&net, x, 2, NULL, 0, 0, NULL, T), NTK_OK);
    T_CHECK(fabs(T[2] - (xy + hb)) <= 1e-15 * (1 + fabs(xy)), "eNTK %.17g, expected %.17g", T[2], xy + hb);
    T_STATUS(ntk_net_jacobian(&net, x, 2, J), NTK_OK);
    T_STATUS(ntk_net_apply(&net, x, 2, f0), NTK_OK);
    for (j = 0; j < net.n_params; j++) {
      double h = 1e-3, save = net.params[j];
      net.params[j] = (ntk_real)(save + h);
      (void)ntk_net_apply(&net, x, 2, f1);
      net.params[j] = (ntk_real)save;
      for (i = 0; i < 2; i++)
        if (fabs((f1[i] - f0[i]) / h - J[i * net.n_params + j]) > 1e-9) okf = 0;
    }
    ntk_net_free(&net);
  }
  T_CHECK(okf, "Jacobian (W and the bias columns) = finite differences of ntk_net_apply");
  /* ALWAYS in a deeper 'ntk' net: the bias parameters exist, drawn after W layer by layer */
  l[0] = ntk_dense(4, 1.2, 0), l[1] = ntk_tanh(), l[2] = ntk_dense(2, 1, 0), l[0].bias = NTK_BIAS_ALWAYS;
  T_STATUS(ntk_net_init(&net, l, 3, d, 3), NTK_OK);
  T_CHECK(net.n_params == 12 + 4 + 8 && net.offset && net.offset[2] == 16, "ALWAYS: 24 parameters, second Dense at 16");
  ntk_net_free(&net);
}

static void test_front_all(void) {
  test_front_shapes();
  test_front_refusals();
  test_front_resnet();
  test_front_mlp();
  test_front_bias();
}
