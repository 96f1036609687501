/* The layer description's spatial and branched kinds (issue 16, declared ahead of the front
   end): the constructors fill the documented fields with zero meaning the default, and until
   the front end computes them every such kind (and NTK_BIAS_NONE/ALWAYS) is a named
   NTK_ERR_UNSUPPORTED — never taken for an activation (the old rule counted every kind after
   IDENTITY as one, so `dense flatten` would have passed as an MLP). */
static void test_layers_api(void) {
  ntk_layer net[3], l;
  ntk_layer_kind k;
  ntk_real x[4] = {1, 2, 3, 4}, K[4] = {7, 7, 7, 7};
  ntk_status st;
  t_section("layers: spatial constructors, and spatial kinds refused by the MLP kernel");
  l = ntk_conv(16, 3, 0, 2, 0, NTK_PAD_SAME, 1.5, 0.1);
  T_CHECK(l.kind == NTK_LAYER_CONV && l.width == 16 && l.shape[0] == 3 && l.shape[1] == 0 && l.stride[0] == 2 &&
              l.padding == NTK_PAD_SAME && l.w_std == 1.5 && l.b_std == 0.1 && l.param == NTK_PARAM_NTK &&
              l.bias == NTK_BIAS_AUTO,
          "ntk_conv fields");
  l = ntk_conv_standard(4, 1, 5, 1, 1, NTK_PAD_CIRCULAR, 1, 0);
  T_CHECK(l.param == NTK_PARAM_STANDARD && l.shape[1] == 5 && l.padding == NTK_PAD_CIRCULAR, "ntk_conv_standard fields");
  l = ntk_input(28, 28, 1);
  T_CHECK(l.kind == NTK_LAYER_INPUT && l.shape[0] == 28 && l.shape[1] == 28 && l.shape[2] == 1, "ntk_input fields");
  l = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 1);
  T_CHECK(l.kind == NTK_LAYER_AVG_POOL && l.shape[0] == 2 && l.stride[1] == 2 && l.flags == NTK_POOL_NORMALIZE_EDGES,
          "ntk_avg_pool fields");
  l = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 1e-5);
  T_CHECK(l.kind == NTK_LAYER_LAYER_NORM && l.flags == 7 && l.eps == 1e-5, "ntk_layer_norm fields");
  T_CHECK(ntk_fanout(3).n == 3 && ntk_fanout(3).kind == NTK_LAYER_FANOUT && ntk_branch().kind == NTK_LAYER_BRANCH &&
              ntk_fanin_sum().kind == NTK_LAYER_FANIN_SUM && ntk_fanin_concat().kind == NTK_LAYER_FANIN_CONCAT &&
              ntk_flatten().kind == NTK_LAYER_FLATTEN && ntk_global_avg_pool().kind == NTK_LAYER_GLOBAL_AVG_POOL &&
              ntk_global_sum_pool().kind == NTK_LAYER_GLOBAL_SUM_POOL &&
              ntk_sum_pool(3, 0, 1, 0, NTK_PAD_SAME).kind == NTK_LAYER_SUM_POOL,
          "structural and pooling constructors");
  for (k = NTK_LAYER_INPUT; k < NTK__LAYER_KIND_END; k = (ntk_layer_kind)(k + 1)) {
    memset(net, 0, sizeof net);
    net[0] = ntk_dense(4, 1, 0), net[1] = ntk__layer(k), net[2] = ntk_dense(1, 1, 0);
    T_CHECK(!ntk__is_activation(k), "kind %d is not an activation", (int)k);
    /* the front end now judges these lists (tests/test_front.c); the ones it accepts the
       spatial driver computes (tests/test_skernel.c): a named error or a kernel, for a
       spatial/branch kind only */
    st = ntk_kernel(net, 3, x, 2, NULL, 0, 2, NULL, K);
    T_CHECK(st == NTK_ERR_UNSUPPORTED || st == NTK_ERR_BAD_LAYER ||
                (st == NTK_OK && (ntk__props(k) & (NTK__K_SPATIAL | NTK__K_STRUCT))),
            "kind %d: %s", (int)k, ntk_status_string(st));
    T_CHECK(st == NTK_ERR_UNSUPPORTED || ntk_layers_check(net, 3) == st, "kind %d: check agrees", (int)k);
    T_CHECK(st == NTK_OK || (K[0] == 7 && K[3] == 7), "kind %d: output untouched", (int)k);
    K[0] = K[3] = 7;
  }
  net[0] = ntk_dense(4, 1, 0), net[1] = ntk_relu(), net[2] = ntk_dense(1, 1, 0);
  net[0].bias = NTK_BIAS_ALWAYS; /* computed now: tests/test_front.c */
  T_STATUS(ntk_layers_check(net, 3), NTK_OK);
  net[0].bias = NTK_BIAS_AUTO;
  T_STATUS(ntk_layers_check(net, 3), NTK_OK);
}
