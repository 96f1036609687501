/* The CLI's finite-network commands (apply, entk, params, train) on spatial and branched lists
   given by --shape/--net (issue 17), against the library called on the same layer list. */
#ifdef TC_HAVE_POPEN
static void tfc_write_matrix(const char *name, const double *v, size_t rows, size_t cols) {
  char path[1024];
  size_t i, j;
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", tc_dir, name);
  f = fopen(path, "w");
  if (!f) return;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) fprintf(f, "%.17g%s", v[i * cols + j], j + 1 < cols ? "," : "\n");
  fclose(f);
}
/* build/ntk ARGS prints exactly ref (n numbers, as %.17g round-trips) */
static void tfc_eq(const char *args, const double *ref, size_t n) {
  static char out[1 << 18];
  char err[4096];
  double *v = (double *)malloc((n + 1) * sizeof(double));
  int code = tc_run(args, out, sizeof out, err, sizeof err);
  size_t got = tc_parse(out, v, n + 1);
  T_CHECK(code == 0 && got == n && memcmp(v, ref, n * sizeof(double)) == 0, "ntk %s: exit %d, %zu numbers (want %zu), equal to the library's bit for bit %s",
          args, code, got, n, err);
  free(v);
}

static void test_fnet_cli(void) {
  char root[512], cmd[1024];
  ntk_layer l[5];
  ntk_net net;
  double x[3 * 70], y[3 * 2], f[6], K[9], Kf[36];
  const char *spec = "conv(3,3x2,same,stride=2) res(relu conv(3x3,same,b=none)) layernorm(axis=hwc) relu avgpool(2,stride=1) gap dense(2,b=0.1)";
  t_section("fnet_cli (issue 17): apply, entk, params, train with --shape/--net");
  if (!tc_dir[0]) {
    if (!getcwd(root, sizeof root)) return;
    setenv("NTK_ROOT", root, 1);
    snprintf(tc_dir, sizeof tc_dir, "%s/build/cli-test", root);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tc_dir);
    if (system(cmd) != 0) { T_CHECK(0, "cannot create %s", tc_dir); return; }
  }
  /* the same list by hand, width 3 */
  l[0] = ntk_input(5, 7, 2), l[1] = ntk_conv(3, 3, 2, 2, 0, NTK_PAD_SAME, 1, 0), l[2] = ntk_fanout(2);
  l[3] = ntk_relu(), l[4] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[4].bias = NTK_BIAS_NONE;
  {
    ntk_layer t[14];
    size_t i, n = 0;
    for (i = 0; i < 5; i++) t[n++] = l[i];
    t[n++] = ntk_branch(), t[n++] = ntk_fanin_sum(), t[n++] = ntk_layer_norm(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 0);
    t[n++] = ntk_relu(), t[n++] = ntk_avg_pool(2, 0, 1, 0, NTK_PAD_VALID, 0), t[n++] = ntk_global_avg_pool(), t[n++] = ntk_dense(2, 1, 0.1);
    tf_fill(x, 210), tf_fill(y, 6);
    tfc_write_matrix("x17.txt", x, 3, 70), tfc_write_matrix("y17.txt", y, 3, 2);
    T_STATUS(ntk_net_init(&net, t, n, 70, 4), NTK_OK);
    snprintf(cmd, sizeof cmd, "params --shape 5x7x2 --width 3 --seed 4 --net '%s'", spec);
    tfc_eq(cmd, net.params, net.n_params);
    T_STATUS(ntk_net_apply(&net, x, 3, f), NTK_OK);
    snprintf(cmd, sizeof cmd, "apply --shape 5x7x2 --width 3 --seed 4 --net '%s' x17.txt", spec);
    tfc_eq(cmd, f, 6);
    T_STATUS(ntk_net_empirical_kernel(&net, x, 3, NULL, 0, 0, NULL, K), NTK_OK);
    snprintf(cmd, sizeof cmd, "entk --shape 5x7x2 --width 3 --seed 4 --net '%s' x17.txt", spec);
    tfc_eq(cmd, K, 9);
    T_STATUS(ntk_net_empirical_kernel(&net, x, 3, NULL, 0, 1, Kf, NULL), NTK_OK);
    snprintf(cmd, sizeof cmd, "entk --shape 5x7x2 --width 3 --seed 4 --full --get nngp --net '%s' x17.txt", spec);
    tfc_eq(cmd, Kf, 36);
    /* --params: a file of other parameters is what the network runs with */
    for (i = 0; i < net.n_params; i++) net.params[i] *= 0.5;
    tfc_write_matrix("p17.txt", net.params, net.n_params, 1);
    T_STATUS(ntk_net_apply(&net, x, 3, f), NTK_OK);
    snprintf(cmd, sizeof cmd, "apply --shape 5x7x2 --width 3 --params p17.txt --net '%s' x17.txt", spec);
    tfc_eq(cmd, f, 6);
    ntk_net_free(&net);
    T_STATUS(ntk_net_init(&net, t, n, 70, 4), NTK_OK);
    T_STATUS(ntk_net_train(&net, x, y, 3, 0.2, 3), NTK_OK);
    T_STATUS(ntk_net_apply(&net, x, 3, f), NTK_OK);
    snprintf(cmd, sizeof cmd, "train --shape 5x7x2 --width 3 --seed 4 --net '%s' --train x17.txt --targets y17.txt --lr 0.2 --steps 3", spec);
    tfc_eq(cmd, f, 6);
    ntk_net_free(&net);
  }
  tc_bad("params --shape 5x7x2 --width 3 --seed 4 --dim 69 --net 'conv(3x3) gap dense'", 2, "--dim 69 but --shape 5x7x2 is 70 numbers");
}
#else
static void test_fnet_cli(void) { printf("  (CLI tests not built here)\n"); }
#endif
