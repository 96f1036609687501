/* The CLI (build/ntk) on small files: results against the library, and every bad input a
   one-line message with file and line, the right exit status, nothing on standard output. */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(NTK_TEST_NO_CLI)
#include <sys/wait.h>
#include <unistd.h>
#define TC_HAVE_POPEN 1
#endif

#ifdef TC_HAVE_POPEN
static char tc_dir[600];

static void tc_write(const char *name, const char *text) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", tc_dir, name);
  f = fopen(path, "w");
  if (f) fputs(text, f), fclose(f);
}

/* runs `build/ntk args` in tc_dir; stdout into out (≤ cap), stderr into err; returns exit code */
static int tc_run(const char *args, char *out, size_t cap, char *err, size_t ecap) {
  char cmd[4096], epath[1024];
  FILE *p, *e;
  size_t n = 0;
  int st;
  snprintf(epath, sizeof epath, "%s/stderr.txt", tc_dir);
  if (getenv("NTK_CLI")) /* another build of the tool, e.g. with sanitizers */
    snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>%s", tc_dir, getenv("NTK_CLI"), args, epath);
  else
    snprintf(cmd, sizeof cmd, "cd %s && %s/build/ntk %s 2>%s", tc_dir, getenv("NTK_ROOT") ? getenv("NTK_ROOT") : ".", args, epath);
  p = popen(cmd, "r");
  if (!p) return -1;
  while (n + 1 < cap && (st = fgetc(p)) != EOF) out[n++] = (char)st;
  out[n] = 0;
  st = pclose(p);
  e = fopen(epath, "r");
  n = 0;
  if (e) {
    int c;
    while (n + 1 < ecap && (c = fgetc(e)) != EOF) err[n++] = (char)c;
    fclose(e);
  }
  err[n] = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t tc_parse(const char *s, double *v, size_t cap) {
  size_t n = 0;
  char *end;
  while (*s && n < cap) {
    double x = strtod(s, &end);
    if (end == s) { s++; continue; }
    v[n++] = x;
    s = end;
  }
  return n;
}

static void tc_bad(const char *args, int want_code, const char *want_in_msg) {
  char out[4096], err[4096];
  int code = tc_run(args, out, sizeof out, err, sizeof err);
  int lines = 0;
  const char *c;
  for (c = err; *c; c++) lines += *c == '\n';
  T_CHECK(code == want_code && out[0] == 0 && lines == 1 && strstr(err, want_in_msg),
          "ntk %s: exit %d (want %d), stdout %zu bytes, message '%s' (want '%s')", args, code, want_code,
          strlen(out), err, want_in_msg);
}

static void test_cli(void) {
  char out[65536], err[4096], root[512];
  double v[256], x[6] = {1, 2, 3, 4, 0.5, -1}, K[9], T[9];
  ntk_layer net[8];
  size_t L, n;
  int code;
  t_section("cli: build/ntk against the library, and bad input");
  if (!getcwd(root, sizeof root)) return;
  setenv("NTK_ROOT", root, 1);
  snprintf(tc_dir, sizeof tc_dir, "%s/build/cli-test", root);
  snprintf(out, sizeof out, "mkdir -p %s", tc_dir);
  if (system(out) != 0) { T_CHECK(0, "cannot create %s", tc_dir); return; }
  if (!getenv("NTK_CLI")) {
    FILE *f;
    snprintf(out, sizeof out, "%s/build/ntk", root);
    f = fopen(out, "rb");
    if (!f) { T_CHECK(0, "build/ntk not built (make builds it before the tests)"); return; }
    fclose(f);
  }
  tc_write("x.txt", "# three points\n1,2\n3 4\n\n0.5, -1\n");
  tc_write("y.txt", "1\n-1\n0.5\n");
  /* kernel */
  L = ntk_mlp(net, 8, 2, 0, ntk_erf(), 1.5, 0.1, 1);
  ntk_kernel(net, L, x, 3, NULL, 0, 2, K, T);
  code = tc_run("kernel --depth 2 --act erf --w-std 1.5 --b-std 0.1 x.txt", out, sizeof out, err, sizeof err);
  n = tc_parse(out, v, 256);
  T_CHECK(code == 0 && n == 9 && t_err_ratio_d(v, T, 9, 1e-15, 1e-15) <= 1, "ntk kernel = ntk_kernel (NTK), %zu numbers, exit %d", n, code);
  code = tc_run("kernel --get nngp --depth 2 --act erf --w-std 1.5 --b-std 0.1 x.txt x.txt", out, sizeof out, err, sizeof err);
  n = tc_parse(out, v, 256);
  T_CHECK(code == 0 && n == 9 && t_err_ratio_d(v, K, 9, 1e-12, 1e-12) <= 1, "ntk kernel --get nngp X X = ntk_kernel NNGP");
  /* predict at t = ∞ equals kernel regression; train rows give y exactly */
  {
    double mean[3];
    tc_write("xt.txt", "0 1\n2 2\n");
    L = ntk_mlp(net, 8, 1, 0, ntk_relu(), 1, 0, 1);
    {
      double Ktr[9], Ttr[9], Kte[6], Tte[6], xt[4] = {0, 1, 2, 2}, y[3] = {1, -1, 0.5};
      ntk_kernel(net, L, x, 3, NULL, 0, 2, Ktr, Ttr);
      ntk_kernel(net, L, xt, 2, x, 3, 2, Kte, Tte);
      ntk_gp_inference(Ttr, 3, y, 1, Tte, 2, NULL, 0, 0, mean, NULL);
    }
    code = tc_run("predict --train x.txt --targets y.txt --test xt.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 256);
    T_CHECK(code == 0 && n == 2 && t_err_ratio_d(v, mean, 2, 1e-12, 1e-12) <= 1, "ntk predict (t = inf) = kernel regression: %s", out);
    code = tc_run("predict --train x.txt --targets y.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 256);
    T_CHECK(code == 0 && n == 3 && v[0] == 1 && v[1] == -1 && v[2] == 0.5, "ntk predict on the train rows at t = inf gives y");
    code = tc_run("predict --train x.txt --targets y.txt --test xt.txt --time 10 --lr 0.5 --cov cov.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 256);
    {
      char path[1024];
      FILE *f;
      double c[8];
      size_t nc = 0;
      snprintf(path, sizeof path, "%s/cov.txt", tc_dir);
      f = fopen(path, "r");
      if (f) {
        char buf[1024];
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        buf[got] = 0;
        nc = tc_parse(buf, c, 8);
        fclose(f);
      }
      T_CHECK(code == 0 && n == 2 && nc == 4 && c[1] == c[2] && c[0] > 0, "ntk predict --time 10 --cov: mean and a symmetric 2x2 covariance");
    }
  }
  /* finite networks: params, apply, train against the library */
  {
    ntk_net nt;
    double f[3];
    L = ntk_mlp(net, 8, 1, 4, ntk_relu(), 1, 0.5, 1);
    ntk_net_init(&nt, net, L, 2, 7);
    code = tc_run("params --width 4 --b-std 0.5 --seed 7 --dim 2", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 256);
    T_CHECK(code == 0 && n == nt.n_params && memcmp(v, nt.params, n * 8) == 0, "ntk params = ntk_net_init's parameters (%zu)", n);
    ntk_net_apply(&nt, x, 3, f);
    code = tc_run("apply --width 4 --b-std 0.5 --seed 7 x.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 256);
    T_CHECK(code == 0 && n == 3 && memcmp(v, f, 24) == 0, "ntk apply = ntk_net_apply");
    {
      double y[3] = {1, -1, 0.5};
      ntk_net_train(&nt, x, y, 3, 0.1, 20);
      ntk_net_apply(&nt, x, 3, f);
      code = tc_run("train --width 4 --b-std 0.5 --seed 7 --train x.txt --targets y.txt --lr 0.1 --steps 20 --save-params p.txt", out, sizeof out, err, sizeof err);
      n = tc_parse(out, v, 256);
      T_CHECK(code == 0 && n == 3 && t_err_ratio_d(v, f, 3, 1e-15, 1e-15) <= 1, "ntk train = ntk_net_train then apply");
      code = tc_run("apply --width 4 --b-std 0.5 --params p.txt x.txt", out, sizeof out, err, sizeof err);
      n = tc_parse(out, v, 256);
      T_CHECK(code == 0 && n == 3 && t_err_ratio_d(v, f, 3, 1e-15, 1e-15) <= 1, "--save-params round-trips through --params");
    }
    {
      double E[9];
      ntk_net_free(&nt);
      ntk_net_init(&nt, net, L, 2, 7);
      ntk_net_empirical_kernel(&nt, x, 3, NULL, 0, 0, NULL, E);
      code = tc_run("entk --width 4 --b-std 0.5 --seed 7 x.txt", out, sizeof out, err, sizeof err);
      n = tc_parse(out, v, 256);
      T_CHECK(code == 0 && n == 9 && t_err_ratio_d(v, E, 9, 1e-15, 1e-15) <= 1, "ntk entk = ntk_net_empirical_kernel");
    }
    ntk_net_free(&nt);
  }
  /* bad input */
  tc_write("ragged.txt", "1 2\n3 4\n5\n");
  tc_write("word.txt", "1 2\n3 four\n");
  tc_write("nan.txt", "1 2\n\n3 nan\n");
  tc_write("x3.txt", "1 2 3\n");
  tc_write("p_short.txt", "1 2 3\n");
  tc_write("dup.txt", "1 2\n1 2\n");
  tc_write("y2.txt", "1\n2\n");
  tc_bad("kernel missing.txt", 1, "missing.txt");
  tc_bad("kernel ragged.txt", 1, "ragged.txt:3");
  tc_bad("kernel word.txt", 1, "word.txt:2: not a number: 'four'");
  tc_bad("kernel nan.txt", 1, "nan.txt:3");
  tc_bad("kernel x.txt x3.txt", 1, "columns");
  tc_bad("apply --width 4 --params p_short.txt x.txt", 1, "expected 12");
  tc_bad("kernel --bogus x.txt", 2, "unknown option");
  tc_bad("kernel --depth x x.txt", 2, "--depth");
  tc_bad("frobnicate x.txt", 2, "unknown command");
  tc_bad("apply x.txt", 2, "--width");
  tc_bad("predict --train dup.txt --targets y2.txt --test x.txt", 1, "--diag-reg");
  tc_bad("predict --train x.txt --targets y2.txt", 1, "rows");
}
#else
static void test_cli(void) { printf("  (CLI tests not built here: no popen, or a cross build)\n"); }
#endif

/* The README's complete example is examples/readme_example.c verbatim, and it compiles and runs. */
#ifdef TC_HAVE_POPEN
static char *tc_slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *b;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = (char *)malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (b) b[n] = 0;
  fclose(f);
  return b;
}
static void test_readme(void) {
  char *readme = tc_slurp("README.md"), *ex = tc_slurp("examples/readme_example.c"), out[4096], err[4096], *start, *end;
  const char *mk = "<!-- example: examples/readme_example.c -->\n```c\n";
  int code;
  t_section("readme: the complete example in README.md is examples/readme_example.c and runs");
  if (!readme || !ex) {
    T_CHECK(0, "README.md or examples/readme_example.c missing (run the tests from the repository root)");
    free(readme), free(ex);
    return;
  }
  start = strstr(readme, mk);
  if (start) start += strlen(mk);
  end = start ? strstr(start, "\n```\n") : NULL;
  T_CHECK(start && end && (size_t)(end + 1 - start) == strlen(ex) && memcmp(start, ex, strlen(ex)) == 0,
          "README's example block equals examples/readme_example.c");
  code = system("cc -std=c99 -O2 -Wall -Wextra -Werror -I. examples/readme_example.c -o build/readme_example -lm");
  T_CHECK(code == 0, "README example compiles with -Wall -Wextra -Werror");
  if (code == 0) {
    FILE *p = popen("./build/readme_example", "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    code = p ? pclose(p) : -1;
    out[n] = 0;
    T_CHECK(code == 0 && strstr(out, "t = inf:") != NULL, "README example runs: %s", out);
  }
  (void)err;
  free(readme), free(ex);
}
#else
static void test_readme(void) { printf("  (README check not built here)\n"); }
#endif

/* DESIGN §5 as one table: each bad call returns its named status and leaves the output untouched. */
static double tb_out[16];
static double tb_A[16] = {4, 1, 0, 0, 1, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1}, tb_x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static ntk_status tb_gemm_null(void) { return ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 2, 1, NULL, 2, tb_A, 2, 0, tb_out, 2); }
static ntk_status tb_gemm_lda(void) { return ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2, 2, 3, 1, tb_A, 2, tb_A, 2, 0, tb_out, 2); }
static ntk_status tb_gemm_overflow(void) { return ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, ((size_t)-1) / 4, 2, 2, 1, tb_A, ((size_t)-1) / 4, tb_A, 2, 0, tb_out, 2); }
static ntk_status tb_potrf_nan(void) { double A[4] = {1, 0, NAN, 1}; memcpy(tb_out, A, sizeof A); return ntk_dpotrf(2, tb_out, 2); }
static ntk_status tb_potrf_indef(void) { double A[4] = {1, 0, 2, 1}; memcpy(tb_out, A, sizeof A); return ntk_dpotrf(2, tb_out, 2); }
static ntk_status tb_syev_null(void) { return ntk_dsyev(2, NULL, 2, tb_out); }
static ntk_status tb_kernel_empty(void) { ntk_layer l = ntk_relu(); return ntk_kernel(&l, 0, tb_x, 2, NULL, 0, 2, tb_out, NULL); }
static ntk_status tb_kernel_unknown(void) { ntk_layer l[3]; l[0] = ntk_dense(0, 1, 0), l[1] = ntk_relu(), l[2] = ntk_dense(1, 1, 0); l[1].kind = (ntk_layer_kind)77; return ntk_kernel(l, 3, tb_x, 2, NULL, 0, 2, tb_out, NULL); }
static ntk_status tb_kernel_wstd(void) { ntk_layer l[3]; l[0] = ntk_dense(0, INFINITY, 0), l[1] = ntk_relu(), l[2] = ntk_dense(1, 1, 0); return ntk_kernel(l, 3, tb_x, 2, NULL, 0, 2, tb_out, NULL); }
static ntk_status tb_kernel_nan_data(void) { double x[4] = {1, NAN, 0, 1}; ntk_layer l[3]; l[0] = ntk_dense(0, 1, 0), l[1] = ntk_relu(), l[2] = ntk_dense(1, 1, 0); return ntk_kernel(l, 3, x, 2, NULL, 0, 2, tb_out, NULL); }
static ntk_status tb_kernel_overflow(void) { ntk_layer l[3]; l[0] = ntk_dense(0, 1, 0), l[1] = ntk_relu(), l[2] = ntk_dense(1, 1, 0); return ntk_kernel(l, 3, tb_x, ((size_t)-1) / 8, NULL, 0, 2, tb_out, NULL); }
static ntk_status tb_net_no_width(void) { ntk_net n; ntk_layer l[3]; l[0] = ntk_dense(0, 1, 0), l[1] = ntk_relu(), l[2] = ntk_dense(1, 1, 0); return ntk_net_init(&n, l, 3, 2, 1); }
static ntk_status tb_predict_lr(void) { ntk_predictor p; return ntk_predictor_init(&p, tb_A, 4, tb_x, 1, NULL, -1, 0, 0); }
static ntk_status tb_predict_nan(void) { ntk_predictor p; double y[4] = {1, NAN, 0, 0}; return ntk_predictor_init(&p, tb_A, 4, y, 1, NULL, 1, 0, 0); }
static ntk_status tb_gp_notpd(void) { double K[4] = {1, 1, 1, 1}, y[2] = {1, 2}, Kt[2] = {1, 1}; return ntk_gp_inference(K, 2, y, 1, Kt, 1, NULL, 0, 0, tb_out, NULL); }
static ntk_status tb_gp_reg(void) { double y[4] = {1, 2, 3, 4}; return ntk_gp_inference(tb_A, 4, y, 1, tb_A, 1, NULL, NAN, 0, tb_out, NULL); }

static void test_bad_input_table(void) {
  static const struct {
    const char *what;
    ntk_status (*call)(void);
    ntk_status want;
    int untouched; /* the output must keep its sentinel */
  } rows[] = {
      {"gemm: NULL A with nonzero sizes", tb_gemm_null, NTK_ERR_INVALID_ARG, 1},
      {"gemm: lda too small", tb_gemm_lda, NTK_ERR_INVALID_ARG, 1},
      {"gemm: m·lda overflows size_t", tb_gemm_overflow, NTK_ERR_INVALID_ARG, 1},
      {"potrf: NaN in the matrix", tb_potrf_nan, NTK_ERR_NON_FINITE, 0},
      {"potrf: indefinite", tb_potrf_indef, NTK_ERR_NOT_POSITIVE_DEFINITE, 0},
      {"syev: NULL matrix", tb_syev_null, NTK_ERR_INVALID_ARG, 1},
      {"kernel: empty layer list", tb_kernel_empty, NTK_ERR_INVALID_ARG, 1},
      {"kernel: unknown layer kind", tb_kernel_unknown, NTK_ERR_BAD_LAYER, 1},
      {"kernel: non-finite σ_w", tb_kernel_wstd, NTK_ERR_BAD_LAYER, 1},
      {"kernel: NaN in the data", tb_kernel_nan_data, NTK_ERR_NON_FINITE, 1},
      {"kernel: n1·n2 overflows", tb_kernel_overflow, NTK_ERR_OVERFLOW, 1},
      {"net: Dense without a width", tb_net_no_width, NTK_ERR_BAD_LAYER, 1},
      {"predictor: negative learning rate", tb_predict_lr, NTK_ERR_INVALID_ARG, 1},
      {"predictor: NaN target", tb_predict_nan, NTK_ERR_NON_FINITE, 1},
      {"gp_inference: not positive definite", tb_gp_notpd, NTK_ERR_NOT_POSITIVE_DEFINITE, 1},
      {"gp_inference: NaN diag_reg", tb_gp_reg, NTK_ERR_INVALID_ARG, 1},
  };
  size_t r, i;
  t_section("bad input: one table of API misuse, each a named status, outputs untouched");
  for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    ntk_status got;
    int same = 1;
    for (i = 0; i < 16; i++) tb_out[i] = 12345.0;
    got = rows[r].call();
    for (i = 0; i < 16; i++) same &= tb_out[i] == 12345.0;
    T_CHECK(got == rows[r].want && (!rows[r].untouched || same), "%-40s -> %s (want %s)%s", rows[r].what,
            ntk_status_string(got), ntk_status_string(rows[r].want), rows[r].untouched && !same ? ", output modified" : "");
  }
}
