/* The structured traced empirical NTK of spatial and branched lists (issue 17 item 3): each
   path — every layer as a Jacobian block, every layer in the pair form Σ_{s,t} (c²·U U′ᵀ +
   c_b²) ⊙ (G Gᵀ), the per-layer choice, the J·Jᵀ reference method — against J·Jᵀ/k contracted
   here from ntk_net_jacobian (x2 given and x2 = NULL), thread counts bit for bit, and the
   flop rule on values worked out by hand. */

/* (1/k)·Σ_a J_a(x1)·J_a(x2)ᵀ (traced) or J(x1)·J(x2)ᵀ (full, rows i·k + a) written out */
static void tf2_ref(ntk_net *net, const double *x1, size_t n1, const double *x2, size_t n2, int full, double *Ref) {
  size_t P = net->n_params, k = net->outputs, i, j, a, b, p;
  double *J1 = (double *)malloc((n1 + n2) * k * P * sizeof(double)), *J2 = J1 + n1 * k * P;
  T_STATUS(ntk_net_jacobian(net, x1, n1, J1), NTK_OK);
  T_STATUS(ntk_net_jacobian(net, x2, n2, J2), NTK_OK);
  for (i = 0; i < n1; i++)
    for (j = 0; j < n2; j++) {
      double s = 0;
      for (a = 0; a < k; a++)
        for (b = 0; b < k; b++) {
          double e = 0;
          if (!full && b != a) continue;
          for (p = 0; p < P; p++) e += J1[(i * k + a) * P + p] * J2[(j * k + b) * P + p];
          if (full) Ref[(i * k + a) * n2 * k + j * k + b] = e;
          s += e;
        }
      if (!full) Ref[i * n2 + j] = s / (double)k;
    }
  free(J1);
}

static void tf2_paths(const char *name, const ntk_layer *l, size_t nl, size_t dim) {
  static const int methods[4] = {NTK_ENTK_STRUCTURED, NTK_ENTK_JACOBIAN, 16, 17};
  static const char *mname[4] = {"per-layer choice", "J·Jᵀ method", "all Jacobian blocks", "all pair form"};
  size_t n1 = 4, n2 = 3, m, sym, full, k;
  ntk_net net;
  double *x, *K, *Ref, *Rs, r;
  ntk_entk_desc d;
  if (ntk_net_init(&net, l, nl, dim, 21) != NTK_OK) { T_CHECK(0, "%s: init", name); return; }
  k = net.outputs;
  x = (double *)malloc((n1 + n2) * dim * sizeof(double));
  K = (double *)malloc(3 * n1 * n1 * k * k * sizeof(double)), Ref = K + n1 * n1 * k * k, Rs = Ref + n1 * n1 * k * k;
  tf_fill(x, (n1 + n2) * dim);
  memset(&d, 0, sizeof d);
  for (full = 0; full < 2; full++) {
    size_t R1 = full ? n1 * k : n1;
    tf2_ref(&net, x, n1, x + n1 * dim, n2, (int)full, Ref);
    tf2_ref(&net, x, n1, x, n1, (int)full, Rs);
    for (m = 0; m < 4; m++)
      for (sym = 0; sym < 2; sym++) {
        int ok = 1;
        size_t i, j, R2 = (sym ? n1 : n2) * (full ? k : 1);
        d.method = (ntk_entk_method)methods[m];
        T_STATUS(ntk_net_empirical_kernel_ex(&net, x, n1, sym ? NULL : x + n1 * dim, n2, (int)full, NULL, K, &d), NTK_OK);
        r = t_err_ratio_d(K, sym ? Rs : Ref, R1 * R2, 1e-13, 1e-12);
        if (sym)
          for (i = 0; i < R1; i++)
            for (j = 0; j < R1; j++) ok &= K[i * R1 + j] == K[j * R1 + i];
        T_CHECK(r <= 1 && ok, "%s, %s, %s, %s: eNTK vs J·Jᵀ%s: ratio %.3g%s", name, full ? "full" : "traced", mname[m],
                sym ? "x2 = NULL" : "x2", full ? "" : "/k", r, sym ? ", exactly symmetric" : "");
      }
  }
  free(x), free(K);
  ntk_net_free(&net);
}

static void test_fnet_entk_paths(void) {
  ntk_layer l[12];
  t_section("fnet_entk_paths");
  /* a small Myrtle-style CNN: 3x3 SAME convs, ReLU, AvgPool, GAP, Dense readout */
  l[0] = ntk_input(6, 6, 1), l[1] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0), l[2] = ntk_relu();
  l[3] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), l[4] = ntk_relu(), l[5] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[6] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0), l[7] = ntk_relu(), l[8] = ntk_global_avg_pool();
  l[9] = ntk_dense(3, 1, 0);
  tf2_paths("Myrtle-style CNN 6x6x1", l, 10, 36);
  /* a residual block, LayerNorm, erf, a pool and a Dense readout after Flatten */
  l[0] = ntk_input(5, 7, 2), l[1] = ntk_conv(3, 3, 2, 2, 1, NTK_PAD_SAME, 1.2, 0.2), l[2] = ntk_fanout(2);
  l[3] = ntk_relu(), l[4] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[5] = ntk_branch(), l[6] = ntk_fanin_sum();
  l[7] = ntk_layer_norm(0, 0), l[8] = ntk_erf(), l[9] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[10] = ntk_flatten(), l[11] = ntk_dense(3, 1, 0.1);
  tf2_paths("residual CNN, LayerNorm, flatten + dense", l, 12, 70);
  /* standard parameterisation, CIRCULAR stride 2, Dense per position with a bias, concat */
  l[0] = ntk_input(4, 5, 3), l[1] = ntk_conv_standard(3, 3, 3, 2, 2, NTK_PAD_CIRCULAR, 1.1, 0.4), l[2] = ntk_fanout(2);
  l[3] = ntk_dense(2, 1.3, 0.5), l[4] = ntk_branch(), l[5] = ntk_gelu(), l[6] = ntk_fanin_concat();
  l[7] = ntk_dense_standard(4, 0.9, 0.3), l[8] = ntk_relu(), l[9] = ntk_flatten(), l[10] = ntk_dense(2, 1, 0.2);
  tf2_paths("standard circular stride-2 conv, per-position dense, concat", l, 11, 60);
  /* a conv whose per-example im2col exceeds NTK__SN_JVALS (16x16 positions x 3x3x32 = 73728
     values): its Jacobian and input gradient run in blocks of 227 positions (two blocks) */
  l[0] = ntk_input(16, 16, 4), l[1] = ntk_conv(32, 1, 1, 1, 1, NTK_PAD_VALID, 1.2, 0.1), l[2] = ntk_relu();
  l[3] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.2), l[4] = ntk_relu(), l[5] = ntk_global_avg_pool(), l[6] = ntk_dense(2, 1, 0);
  T_CHECK(256 * 288 > NTK__SN_JVALS && NTK__SN_JVALS / 288 < 256, "the 3x3x32 conv on 16x16 takes the blocked path");
  tf_fd("blocked per-example conv Jacobian (16x16, F = 288)", l, 7, 1024, 2);
  tf2_paths("blocked per-example conv Jacobian (16x16, F = 288)", l, 7, 1024);
  /* thread counts: the same kernel bit for bit */
#ifdef _OPENMP
  {
    ntk_net net;
    double x[9 * 576], K1[81], K2[81];
    int mt = omp_get_max_threads();
    /* 24x24 images: 576 positions, one example per GEMM tile, so 9 tiles to share */
    l[0] = ntk_input(24, 24, 1), l[1] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0), l[2] = ntk_relu();
    l[3] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), l[4] = ntk_relu(), l[5] = ntk_global_avg_pool(), l[6] = ntk_dense(3, 1, 0);
    tf_fill(x, 9 * 576);
    T_STATUS(ntk_net_init(&net, l, 7, 576, 4), NTK_OK);
    omp_set_num_threads(1);
    T_STATUS(ntk_net_empirical_kernel(&net, x, 9, NULL, 0, 0, NULL, K1), NTK_OK);
    omp_set_num_threads(2);
    T_STATUS(ntk_net_empirical_kernel(&net, x, 9, NULL, 0, 0, NULL, K2), NTK_OK);
    omp_set_num_threads(mt);
    T_CHECK(memcmp(K1, K2, sizeof K1) == 0, "traced eNTK on 1 and 2 threads bit for bit");
    /* training over tiles on 2 threads: the loss bit for bit, the parameters after 2 GD steps
       within rounding of one thread's (the per-thread gradient sums add in another order) and
       the same on every run */
    {
      ntk_net A, B, C;
      double y[27], la, lb, r;
      tf_fill(y, 27);
      T_STATUS(ntk_net_init(&A, l, 7, 576, 4), NTK_OK);
      T_STATUS(ntk_net_init(&B, l, 7, 576, 4), NTK_OK);
      T_STATUS(ntk_net_init(&C, l, 7, 576, 4), NTK_OK);
      omp_set_num_threads(1);
      T_STATUS(ntk_net_loss(&A, x, y, 9, &la), NTK_OK);
      T_STATUS(ntk_net_train(&A, x, y, 9, 0.4, 2), NTK_OK);
      omp_set_num_threads(2);
      T_STATUS(ntk_net_loss(&B, x, y, 9, &lb), NTK_OK);
      T_STATUS(ntk_net_train(&B, x, y, 9, 0.4, 2), NTK_OK);
      T_STATUS(ntk_net_train(&C, x, y, 9, 0.4, 2), NTK_OK);
      omp_set_num_threads(mt);
      r = t_err_ratio_d(B.params, A.params, A.n_params, 1e-15, 1e-13);
      T_CHECK(la == lb && r <= 1 && memcmp(B.params, C.params, B.n_params * sizeof(double)) == 0,
              "training on 2 threads: loss = 1 thread's bit for bit, 2 GD steps within 1e-13 (ratio %.3g), reproducible", r);
      ntk_net_free(&A), ntk_net_free(&B), ntk_net_free(&C);
    }
    ntk_net_free(&net);
  }
#endif
  /* the rule (hand values, n1 = n2 = 10, x2 given, k = 3, C_out = 8, F = 72): S = 4 → Jacobian
     block 622080 flops, pair 316800: pair; S = 16 → 1451520 against 5068800: Jacobian block. The
     review's break-even S² = k·C_out·F/(F + k·C_out) = 18 lies between. A Dense readout on a vector
     (S = 1, F = 64, C_out = 10, k = 10): pair; Myrtle's 7x7 conv (S = 49, F = 576, C_out = 64): block. */
  T_CHECK(ntk__sn_pair_form(4, 72, 8, 0, 3, 10, 10, 0, 0) == 1 && ntk__sn_pair_form(16, 72, 8, 0, 3, 10, 10, 0, 0) == 0 &&
              ntk__sn_pair_form(1, 64, 10, 0, 10, 128, 128, 1, 0) == 1 && ntk__sn_pair_form(49, 576, 64, 0, 10, 128, 128, 1, 0) == 0,
          "per-layer rule: pair form at S = 4, Jacobian block at S = 16, pair for a Dense readout, block for Myrtle's 7x7 conv");
}
