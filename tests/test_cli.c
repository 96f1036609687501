/* The CLI (build/ntk) on small files: results against the library, and every bad input a
   one-line message with file and line, the right exit status, nothing on standard output. */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(NTK_TEST_NO_CLI)
#include <float.h>
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

/* ---- issue 15 rows 16–20 and item 7: the CLI's contract at its edges ------------------------- */
static int tc_exists(const char *name) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", tc_dir, name);
  f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}
static void tc_remove(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tc_dir, name);
  remove(path);
}
/* the percentages of a progress bar on standard error, in order */
static size_t tc_percents(const char *err, int *pct, size_t cap) {
  size_t n = 0;
  const char *c;
  for (c = err; *c && n < cap; c++)
    if (*c == '%' && c > err && c[-1] >= '0' && c[-1] <= '9') {
      const char *b = c;
      int v = 0, mul = 1;
      while (b > err && b[-1] >= '0' && b[-1] <= '9') b--, v += mul * (b[0] - '0'), mul *= 10;
      pct[n++] = v;
    }
  return n;
}
static void tc_progress_ok(const char *what, const char *err, const char *const *stages) {
  int pct[512], mono = 1, hundred = 0;
  size_t n = tc_percents(err, pct, 512), i, missing = 0;
  for (i = 0; i < n; i++) {
    if (i && pct[i] < pct[i - 1]) mono = 0;
    hundred += pct[i] == 100;
  }
  for (i = 0; stages[i]; i++) missing += strstr(err, stages[i]) == NULL;
  T_CHECK(n >= 2 && mono && hundred == 1 && pct[0] < 45 && pct[n - 1] == 100 && missing == 0,
          "%s --progress: %zu reports, monotone %d, 100%% printed %d times, first %d%%, %zu stages missing", what,
          n, mono, hundred, n ? pct[0] : -1, missing);
}
/* the depth-0 network f = (σ_w/√d)·W·x trained by gradient descent on ½·mean (f − y)², written
   out here (no library code): the first step s whose loss is not finite (the state after s
   updates), or steps + 1 */
static size_t tc_linear_gd_diverges(const double *W0, const double *x, const double *y, size_t n, size_t d,
                                    double w_std, double lr, size_t steps) {
  double W[8], f[8];
  size_t s, i, j;
  memcpy(W, W0, d * sizeof(double));
  for (s = 0; s <= steps; s++) {
    long double loss = 0; /* ½·mean without overflow of the sum (the library rescales it) */
    for (i = 0; i < n; i++) {
      f[i] = 0;
      for (j = 0; j < d; j++) f[i] += w_std / sqrt((double)d) * W[j] * x[i * d + j];
      loss += (long double)(f[i] - y[i]) * (long double)(f[i] - y[i]);
    }
    loss *= 0.5L / (long double)n;
    if (!(loss <= DBL_MAX)) return s;
    for (j = 0; j < d; j++) {
      double g = 0;
      for (i = 0; i < n; i++) g += (f[i] - y[i]) / (double)n * w_std / sqrt((double)d) * x[i * d + j];
      W[j] -= lr * g;
    }
  }
  return steps + 1;
}
/* λ_max of the (n, n) symmetric matrix A by the power method (A positive semi-definite) */
static double tc_lambda_max(const double *A, size_t n) {
  double v[8], w[8], lam = 0;
  size_t it, i, j;
  for (i = 0; i < n; i++) v[i] = 1.0 + 0.1 * (double)i;
  for (it = 0; it < 2000; it++) {
    double nrm = 0;
    for (i = 0; i < n; i++) {
      w[i] = 0;
      for (j = 0; j < n; j++) w[i] += A[i * n + j] * v[j];
      nrm += w[i] * w[i];
    }
    nrm = sqrt(nrm), lam = nrm;
    for (i = 0; i < n; i++) v[i] = w[i] / nrm;
  }
  return lam;
}
static int tc_div_calls;
static size_t tc_div_step;
static double tc_div_loss;
static int tc_div_cb(size_t step, double loss, void *user) {
  (void)user;
  tc_div_calls++, tc_div_step = step, tc_div_loss = loss;
  return 0;
}

static void test_cli15(const char *root) {
  char out[65536], err[8192], args[1024];
  int code;
  double x[6] = {1, 2, 3, 4, 0.5, -1}, y[3] = {1, -1, 0.5};
  t_section("cli (issue 15): divergence, options, data files, progress, outputs, overflow");
  (void)root;
  tc_write("x.txt", "1,2\n3,4\n0.5,-1\n");
  tc_write("y.txt", "1\n-1\n0.5\n");
  tc_write("x12.txt", "1,2\n");
  /* row 9: duplicate training points at t = ∞ — the train rows of kernel regression are not
     defined (the kernel is singular): the same message as with --test, not y echoed */
  tc_write("dup.txt", "1,2\n1,2\n3,4\n");
  tc_write("dupy.txt", "0\n1\n0.5\n");
  tc_bad("predict --train dup.txt --targets dupy.txt", 1, "not positive definite");
  tc_bad("predict --train dup.txt --targets dupy.txt --test dup.txt", 1, "not positive definite");
  code = tc_run("predict --train dup.txt --targets dupy.txt --diag-reg 1e-6", out, sizeof out, err, sizeof err);
  T_CHECK(code == 0 && strcmp(out, "0\n1\n0.5\n") == 0,
          "predict with --diag-reg on duplicates: exit %d, '%s' (want the targets: the regularised flow reaches y)", code, out);
  /* row 16, library: the callback is told the step that diverged, whatever `every` says */
  {
    ntk_layer lay[1];
    ntk_net net;
    ntk_train_desc td;
    size_t want;
    ntk_status st;
    ntk_mlp(lay, 1, 0, 0, ntk_relu(), 1, 0, 1);
    lay[0].width = 1;
    ntk_net_init(&net, lay, 1, 2, 3);
    want = tc_linear_gd_diverges(net.params, x, y, 3, 2, 1.0, 100, 1000);
    memset(&td, 0, sizeof td);
    td.callback = tc_div_cb, td.every = 100000;
    tc_div_calls = 0;
    st = ntk_net_train_ex(&net, x, y, 3, 100, 1000, &td);
    T_CHECK(st == NTK_ERR_NON_FINITE && want <= 1000 && tc_div_calls == 2 && tc_div_step == want &&
                !(tc_div_loss <= DBL_MAX),
            "ntk_net_train_ex diverging (lr 100): %s, callback calls %d (want 2: step 0 and the step that "
            "diverged), step %zu (hand-written GD: %zu), loss %g",
            ntk_status_string(st), tc_div_calls, tc_div_step, want, tc_div_loss);
    ntk_net_free(&net);
  }
  /* row 16, CLI: the step, and 2N/λ_max of Θ = σ_w²/d·X·Xᵀ (depth 0: the NTK is exact) */
  {
    ntk_layer lay[1];
    ntk_net net;
    double G[9], lrmax, got = -1;
    size_t i, j, want;
    const char *p;
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) G[i * 3 + j] = (x[2 * i] * x[2 * j] + x[2 * i + 1] * x[2 * j + 1]) / 2;
    lrmax = 2 * 3 / tc_lambda_max(G, 3);
    ntk_mlp(lay, 1, 0, 0, ntk_relu(), 1, 0, 1);
    lay[0].width = 1;
    ntk_net_init(&net, lay, 1, 2, 5);
    want = tc_linear_gd_diverges(net.params, x, y, 3, 2, 1.0, 100, 100);
    ntk_net_free(&net);
    code = tc_run("train --depth 0 --width 1 --seed 5 --train x.txt --targets y.txt --lr 100 --steps 100", out, sizeof out, err, sizeof err);
    snprintf(args, sizeof args, "training diverged at step %zu of 100", want);
    p = strstr(err, "λ_max = ");
    if (p) got = strtod(p + strlen("λ_max = "), NULL);
    T_CHECK(code == 1 && out[0] == 0 && strstr(err, args) && !strstr(err, "input") && fabs(got - lrmax) <= 1e-3 * lrmax,
            "ntk train --lr 100 (diverges): exit %d, '%s' (want '%s' and 2N/λ_max = %.6g)", code, err, args, lrmax);
    /* just below the bound it trains (the linear model: below 2N/λ_max it converges) */
    snprintf(args, sizeof args, "train --depth 0 --width 1 --seed 5 --train x.txt --targets y.txt --lr %.6g --steps 3000", 0.98 * lrmax);
    code = tc_run(args, out, sizeof out, err, sizeof err);
    T_CHECK(code == 0, "ntk train at 0.98·2N/λ_max converges: exit %d %s", code, err);
  }
  /* row 17: options */
  {
    ntk_layer l[2];
    int lo = 0, hi = 1 << 30;
    char want[64];
    l[0] = ntk_dense(1, 1, 0), l[1] = ntk_tanh();
    while (lo < hi) { /* the library's largest Gauss–Hermite degree */
      int mid = lo + (hi - lo) / 2 + 1;
      l[1].quad_degree = mid;
      if (ntk_layers_check(l, 2) == NTK_OK) lo = mid; else hi = mid - 1;
    }
    tc_bad("kernel --w-std 0 x.txt", 2, "--w-std: '0' is out of range (expected a finite decimal number > 0");
    snprintf(args, sizeof args, "kernel --act tanh --quad-degree %d x.txt", lo + 1);
    snprintf(want, sizeof want, "to %d", lo);
    tc_bad(args, 2, want);
    tc_bad("kernel --act tanh --quad-degree 4294967297 x.txt", 2, "--quad-degree: '4294967297' is out of range");
    tc_bad("kernel --act leaky_relu x.txt", 2, "--act leaky_relu: expected leaky_relu:A");
    tc_bad("kernel --act erf:1,2,3,4 x.txt", 2, "--act erf:1,2,3,4: expected erf or erf:A,B,C, got 4");
    tc_bad("kernel --act erf:1,,3 x.txt", 2, "--act erf:1,,3: '' is not a finite decimal number");
    tc_bad("kernel --act rbf:0 x.txt", 2, "rbf:G needs G > 0");
    tc_bad("kernel --param standard x.txt", 2, "--param standard needs --width");
    tc_bad("kernel --depth 1e300 x.txt", 2, "--depth: '1e300' is not an integer from 0 to 1000");
    tc_bad("kernel --depth 1001 x.txt", 2, "--depth: '1001' is out of range (expected an integer from 0 to 1000");
    tc_bad("apply --width 0x10 --seed 1 x.txt", 2, "--width: '0x10' is not an integer >= 1");
    tc_bad("kernel --w-std 0x1p1 x.txt", 2, "--w-std: '0x1p1' is not a finite decimal number");
    tc_bad("kernel --b-std inf x.txt", 2, "--b-std: 'inf' is not a finite decimal number >= 0");
    tc_bad("apply --width 2 --seed 18446744073709551616 x.txt", 2, "--seed: '18446744073709551616' is too large");
    tc_bad("apply --width 2 --seed -1 x.txt", 2, "--seed: '-1' is not an integer from 0 to 18446744073709551615");
    tc_bad("kernel --steps 3 x.txt", 2, "--steps is not an option of 'kernel'");
    tc_bad("kernel --lr", 2, "--lr is not an option of 'kernel'");
    tc_bad("train --lr", 2, "--lr needs a value");
    /* seeds are exact: 2^53 + 1 is not 2^53 */
    {
      ntk_layer m[3];
      ntk_net a, b;
      double v[64];
      size_t L = ntk_mlp(m, 3, 1, 2, ntk_relu(), 1, 0, 1), n;
      ntk_net_init(&a, m, L, 1, 9007199254740993ull);
      ntk_net_init(&b, m, L, 1, 9007199254740992ull);
      code = tc_run("params --width 2 --seed 9007199254740993 --dim 1", out, sizeof out, err, sizeof err);
      n = tc_parse(out, v, 64);
      T_CHECK(code == 0 && n == a.n_params && memcmp(v, a.params, n * sizeof(double)) == 0 &&
                  memcmp(a.params, b.params, n * sizeof(double)) != 0,
              "--seed 9007199254740993 = ntk_net_init's seed 2^53 + 1 exactly (not 2^53): exit %d", code);
      code = tc_run("params --width 2 --seed 18446744073709551615 --dim 1", out, sizeof out, err, sizeof err);
      ntk_net_free(&b);
      ntk_net_init(&b, m, L, 1, UINT64_MAX);
      n = tc_parse(out, v, 64);
      T_CHECK(code == 0 && n == b.n_params && memcmp(v, b.params, n * sizeof(double)) == 0, "--seed 2^64 − 1 exactly");
      ntk_net_free(&a), ntk_net_free(&b);
    }
  }
  /* row 18: data files */
  {
    double ref[4], v[16];
    size_t n;
    char big[1200];
    FILE *f = NULL;
    tc_write("e1.txt", "1,,2\n");
    tc_write("lead.txt", ",1,2\n3,4,5\n");
    tc_write("trail.txt", "1,2,\n3,4\n");
    tc_write("esc.txt", "1,2\n3,\033[31m\n");
    tc_write("cr.txt", "1,2\r3,4\r");
    tc_write("cr2.txt", "1,2\r3,x\r");
    tc_write("crlf.txt", "1,2\r\n3,4\r\n5,x\r\n");
    tc_write("bom.txt", "\357\273\2771,2\n3,4\n");
    tc_write("bommid.txt", "1,2\n\357\273\2773,4\n");
    tc_write("nul.txt", "1,2\n3");
    tc_write("big.txt", "1,2\n1e400,1\n");
    tc_write("p_flat.txt", "1,\n2\n");
    {
      char path[1024];
      snprintf(path, sizeof path, "%s/nul.txt", tc_dir);
      f = fopen(path, "ab");
      if (f) fputc(0, f), fputs("4\n", f), fclose(f);
      snprintf(path, sizeof path, "%s/adir", tc_dir);
      snprintf(big, sizeof big, "mkdir -p %s", path);
      if (system(big) != 0) T_CHECK(0, "mkdir");
    }
    tc_bad("kernel e1.txt", 1, "e1.txt:1: empty field between two ','");
    tc_bad("kernel lead.txt", 1, "lead.txt:1: empty field");
    tc_bad("kernel trail.txt", 1, "trail.txt:1: empty field");
    tc_bad("kernel esc.txt", 1, "esc.txt:2: not a number: '\\x1b[31m'");
    code = tc_run("kernel esc.txt", out, sizeof out, err, sizeof err);
    T_CHECK(strchr(err, 033) == NULL, "no raw ESC byte in the message: %s", err);
    tc_bad("kernel cr2.txt", 1, "cr2.txt:2: not a number: 'x'");
    tc_bad("kernel crlf.txt", 1, "crlf.txt:3: not a number: 'x'");
    tc_bad("kernel bommid.txt", 1, "bommid.txt:2: not a number: '\\xef\\xbb\\xbf3'");
    tc_bad("kernel nul.txt", 1, "nul.txt:2: a NUL byte");
    tc_bad("kernel big.txt", 1, "big.txt:2: '1e400' is out of the range of double");
    tc_bad("kernel adir", 1, "adir: cannot read: it is a directory");
    tc_bad("kernel /dev/zero", 1, "/dev/zero:1: a NUL byte");
    tc_bad("kernel - < /dev/zero", 1, "<stdin>:1: a NUL byte");
    tc_bad("kernel - - < x.txt", 2, "standard input ('-') can be read only once");
    {
      ntk_layer m[3];
      double xx[4] = {1, 2, 3, 4};
      size_t L = ntk_mlp(m, 3, 1, 0, ntk_relu(), 1, 0, 1);
      ntk_kernel(m, L, xx, 2, NULL, 0, 2, NULL, ref);
    }
    code = tc_run("kernel cr.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 16);
    T_CHECK(code == 0 && n == 4 && t_err_ratio_d(v, ref, 4, 1e-15, 1e-15) <= 1, "CR line ends: two rows (%zu numbers, exit %d)", n, code);
    code = tc_run("kernel bom.txt", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 16);
    T_CHECK(code == 0 && n == 4 && t_err_ratio_d(v, ref, 4, 1e-15, 1e-15) <= 1, "a UTF-8 BOM at the start is skipped: exit %d %s", code, err);
    code = tc_run("apply --width 1 --depth 0 --params p_flat.txt x.txt", out, sizeof out, err, sizeof err);
    T_CHECK(code == 0, "a parameter file may break its comma-separated list across lines: exit %d %s", code, err);
  }
  /* row 19: progress, every long stage, monotone, once to 100 % */
  {
    static const char *const st_train[] = {"training", NULL};
    static const char *const st_pred[] = {"train kernel", "test kernel", "eigendecomposition", "cholesky", NULL};
    static const char *const st_kernel[] = {"kernel", NULL};
    tc_remove("c.txt");
    code = tc_run("train --width 8 --seed 1 --train x.txt --targets y.txt --lr 0.1 --steps 300 --progress", out, sizeof out, err, sizeof err);
    T_CHECK(code == 0, "train --progress: exit %d", code);
    tc_progress_ok("train", err, st_train);
    code = tc_run("predict --train x.txt --targets y.txt --test x12.txt --time 10 --cov c.txt --progress", out, sizeof out, err, sizeof err);
    T_CHECK(code == 0, "predict --progress: exit %d", code);
    tc_progress_ok("predict --time 10 --cov", err, st_pred);
    code = tc_run("kernel x.txt --progress", out, sizeof out, err, sizeof err);
    tc_progress_ok("kernel", err, st_kernel);
    code = tc_run("kernel x.txt --progress --quiet", out, sizeof out, err, sizeof err);
    T_CHECK(code == 0 && err[0] == 0, "--quiet: no progress");
  }
  /* row 20: required options, exclusive options, '-' = stdout, nothing written on failure */
  {
    double v[64];
    size_t n;
    tc_bad("train --width 4 --seed 1 --train x.txt --targets y.txt --lr 0.1", 2, "train needs --steps");
    tc_bad("train --width 4 --seed 1 --train x.txt --targets y.txt --steps 3", 2, "train needs --lr");
    tc_write("p4.txt", "1 2 3 4 5 6 7 8 9 10 11 12\n");
    tc_bad("apply --width 4 --seed 1 --params p4.txt x.txt", 2, "give --seed S or --params FILE, not both");
    tc_remove("-");
    code = tc_run("predict --train x.txt --targets y.txt --test x12.txt --time 10 --cov -", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 64);
    T_CHECK(code == 0 && !tc_exists("-") && strstr(out, "# covariance\n") && n == 2 && v[1] > 0,
            "--cov - writes the covariance to standard output after the mean (exit %d, %zu numbers, file '-' %s)", code, n,
            tc_exists("-") ? "created" : "not created");
    tc_remove("c2.txt");
    code = tc_run("predict --train x.txt --targets y.txt --test x12.txt --time 10 --cov c2.txt >/dev/full", out, sizeof out, err, sizeof err);
    T_CHECK(code == 1 && !tc_exists("c2.txt") && strstr(err, "standard output"),
            "stdout fails (/dev/full): exit %d, --cov file %s, '%s'", code, tc_exists("c2.txt") ? "written" : "not written", err);
    tc_remove("sp.txt");
    code = tc_run("train --width 4 --seed 1 --train x.txt --targets y.txt --lr 100 --steps 100 --save-params sp.txt", out, sizeof out, err, sizeof err);
    T_CHECK(code == 1 && !tc_exists("sp.txt"), "a failed train writes no --save-params file (exit %d)", code);
    tc_bad("predict --train x.txt --targets y.txt --time 10 --cov no/such/dir/c.txt", 1, "no/such/dir/c.txt: cannot write");
    code = tc_run("train --width 4 --seed 1 --train x.txt --targets y.txt --lr 0.1 --steps 3 --save-params -", out, sizeof out, err, sizeof err);
    n = tc_parse(out, v, 64);
    T_CHECK(code == 0 && !tc_exists("-") && strstr(out, "# parameters\n") && n == 3 + 12, "--save-params - (exit %d, %zu numbers)", code, n);
  }
  /* item 7: an overflow is named as one, not blamed on the input */
  tc_bad("kernel --w-std 1e200 x12.txt", 1, "the kernel overflowed (NaN/Inf) — reduce --w-std, --depth or the input scale");
  /* -ffast-math: the tool's own finiteness test is on the bits */
  {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cc -O0 -ffast-math -w %s/examples/ntk_cli.c -o %s/ntk-fastmath -lm", root, tc_dir);
    if (system(cmd) == 0) {
      snprintf(cmd, sizeof cmd, "%s/ntk-fastmath", tc_dir);
      if (!getenv("NTK_CLI")) {
        setenv("NTK_CLI", cmd, 1);
        tc_write("big.txt", "1,2\n1e400,1\n");
        tc_bad("kernel big.txt", 1, "big.txt:2: '1e400' is out of the range of double");
        tc_bad("kernel --w-std 1e400 x12.txt", 2, "--w-std: '1e400' is out of the range of a double");
        unsetenv("NTK_CLI");
      }
    } else {
      T_CHECK(0, "could not build the CLI with -ffast-math: %s", cmd);
    }
  }
}

/* ---- issue 16 item 5: --net, --shape and ntk describe ---------------------------------------- */
/* one expected line of `ntk describe`: token, input and output shape, Gaussian output, params
   (-1: "?", not known) — written out by hand below, never from the library */
typedef struct {
  char tok[40], in[16], out[16];
  int gauss;
  long params;
} tc_row;
static size_t tc_nrows;
static tc_row tc_rows[64];
static void tc_add(const char *tok, const char *in, const char *out, int gauss, long params) {
  tc_row *r = &tc_rows[tc_nrows++];
  snprintf(r->tok, sizeof r->tok, "%s", tok), snprintf(r->in, sizeof r->in, "%s", in);
  snprintf(r->out, sizeof r->out, "%s", out), r->gauss = gauss, r->params = params;
}
/* runs `ntk describe ARGS` and compares every layer line and the total with tc_rows */
static void tc_describe(const char *what, const char *args, const char *total) {
  static char out[65536];
  char err[4096], cmd[2048], want_total[128];
  const char *line;
  size_t n = 0, bad = 0, first_bad = (size_t)-1;
  int code, total_ok = 0;
  snprintf(cmd, sizeof cmd, "describe %s", args);
  code = tc_run(cmd, out, sizeof out, err, sizeof err);
  snprintf(want_total, sizeof want_total, "total parameters: %s", total);
  for (line = out; *line;) {
    const char *e = strchr(line, '\n');
    size_t len = e ? (size_t)(e - line) : strlen(line);
    char l[512], idx[32], tok[64], in[32], o[32], g[8], pa[32];
    snprintf(l, sizeof l, "%.*s", (int)(len < 511 ? len : 511), line);
    if (l[0] == '#') { /* the header */
    } else if (!strncmp(l, "total parameters:", 17)) {
      total_ok = strcmp(l, want_total) == 0;
    } else if (sscanf(l, "%31s %63s %31s %31s %7s %31s", idx, tok, in, o, g, pa) == 6 && n < tc_nrows) {
      const tc_row *r = &tc_rows[n];
      char wp[32];
      if (r->params < 0) snprintf(wp, sizeof wp, "?"); else snprintf(wp, sizeof wp, "%ld", r->params);
      if ((size_t)atol(idx) != n || strcmp(tok, r->tok) || strcmp(in, r->in) || strcmp(o, r->out) ||
          strcmp(g, r->gauss ? "yes" : "no") || strcmp(pa, wp)) {
        if (!bad) first_bad = n;
        bad++;
        if (bad == 1)
          printf("    %s: line %zu is '%s', want %zu %s %s %s %s %s\n", what, n, l, n, r->tok, r->in, r->out,
                 r->gauss ? "yes" : "no", wp);
      }
      n++;
    } else {
      bad++, n++;
    }
    line += len + (e != NULL);
  }
  T_CHECK(code == 0 && err[0] == 0 && n == tc_nrows && bad == 0 && total_ok,
          "ntk describe %s (%s): exit %d, %zu layer lines (want %zu), %zu differ (first %zu), total line %s "
          "(want '%s'), stderr '%s'", args, what, code, n, tc_nrows, bad, first_bad, total_ok ? "ok" : "wrong",
          want_total, err);
  tc_nrows = 0;
}
/* two runs give the same bytes on standard output, both exit 0 with something printed */
static void tc_same(const char *a, const char *b) {
  static char o1[65536], o2[65536];
  char e1[4096], e2[4096];
  int c1 = tc_run(a, o1, sizeof o1, e1, sizeof e1), c2 = tc_run(b, o2, sizeof o2, e2, sizeof e2);
  T_CHECK(c1 == 0 && c2 == 0 && o1[0] && strcmp(o1, o2) == 0, "ntk %s (exit %d) = ntk %s (exit %d) byte for byte: '%.80s' vs '%.80s' %s",
          a, c1, b, c2, o1, o2, e2);
}
static void test_cli16(void) {
  int i;
  t_section("cli (issue 16): --net, --shape, ntk describe");
  /* rows of 2 columns from line 2 (a comment on line 1) */
  tc_write("x16.txt", "# three points\n1,2\n3 4\n0.5, -1\n");
  tc_write("y16.txt", "1\n-1\n0.5\n");
  tc_write("xt16.txt", "0 1\n2 2\n");
  /* CLI.md's benchmark network on 32x32x3: conv(1,3x3,same) keeps 32x32 (SAME, stride 1);
     params: first conv 1·3·3·3 = 27, the other 20 1·3·3·1 = 9, dense(1) 1·1 = 1 (no bias:
     --b-std 0): 27 + 180 + 1 = 208. Gaussian: conv yes, relu no, gap keeps no, dense yes. */
  tc_add("input", "32x32x3", "32x32x3", 0, 0);
  for (i = 0; i < 21; i++)
    tc_add("conv(1,3x3,same)", i ? "32x32x1" : "32x32x3", "32x32x1", 1, i ? 9 : 27), tc_add("relu", "32x32x1", "32x32x1", 0, 0);
  tc_add("gap", "32x32x1", "1", 0, 0), tc_add("dense(1)", "1", "1", 1, 1);
  tc_describe("neural-tangents' benchmark net", "--shape 32x32x3 --width 1 --net '21*(conv(1,3x3,same) relu) gap dense(1)'", "208");
  /* with flatten: 32·32·1 = 1024 inputs of dense(1): 27 + 180 + 1024 = 1231 */
  tc_add("input", "32x32x3", "32x32x3", 0, 0);
  for (i = 0; i < 21; i++)
    tc_add("conv(1,3x3,same)", i ? "32x32x1" : "32x32x3", "32x32x1", 1, i ? 9 : 27), tc_add("relu", "32x32x1", "32x32x1", 0, 0);
  tc_add("flatten", "32x32x1", "1024", 0, 0), tc_add("dense(1)", "1024", "1", 1, 1024);
  tc_describe("benchmark net, flatten", "--shape 32x32x3 --width 1 --net '21*(conv(1,3x3,same) relu) flatten dense(1)'", "1231");
  /* Myrtle-5 style on 28x28x1, width 128: convs 128·9·1 = 1152 then 128·9·128 = 147456 (×3);
     avgpool(2, stride 2) VALID halves 28 → 14 → 7; dense 128 → 1: 128. Total 443648. */
  {
    const char *arch = "--net 'conv(3x3,same) relu conv(3x3,same) relu avgpool(2,stride=2) conv(3x3,same) relu "
                       "avgpool(2,stride=2) conv(3x3,same) relu gap dense'";
    char args[512];
    int pass;
    for (pass = 0; pass < 2; pass++) { /* pass 1: no --width, the conv widths and counts unknown */
      const char *cv = pass ? "conv(3x3,same)" : "conv(128,3x3,same)", *c = pass ? "?" : "128";
      char s28[16], s14[16], s7[16];
      long p1 = pass ? -1 : 1152, p2 = pass ? -1 : 147456;
      snprintf(s28, sizeof s28, "28x28x%s", c), snprintf(s14, sizeof s14, "14x14x%s", c), snprintf(s7, sizeof s7, "7x7x%s", c);
      tc_add("input", "28x28x1", "28x28x1", 0, 0);
      tc_add(cv, "28x28x1", s28, 1, p1), tc_add("relu", s28, s28, 0, 0);
      tc_add(cv, s28, s28, 1, p2), tc_add("relu", s28, s28, 0, 0);
      tc_add("avgpool(2x2,valid,stride=2x2)", s28, s14, 0, 0);
      tc_add(cv, s14, s14, 1, p2), tc_add("relu", s14, s14, 0, 0);
      tc_add("avgpool(2x2,valid,stride=2x2)", s14, s7, 0, 0);
      tc_add(cv, s7, s7, 1, p2), tc_add("relu", s7, s7, 0, 0);
      tc_add("gap", s7, c, 0, 0), tc_add("dense(1)", c, "1", 1, pass ? -1 : 128);
      snprintf(args, sizeof args, "--shape 28x28x1 %s %s", pass ? "" : "--width 128", arch);
      tc_describe(pass ? "Myrtle-5 style, no --width" : "Myrtle-5 style", args,
                  pass ? "unknown (a layer's width or input channels are not set: give --width N)" : "443648");
    }
  }
  /* the pre-activation residual network on 32x32x3, width 16: first conv 16·9·3 = 432, each
     block two 16·9·16 = 2304 convs, 4 blocks: 18432; dense 16 → 1: 16. Total 18880. A res block
     is FANOUT(2) … BRANCH (empty branch) FANIN_SUM; the sum of Gaussian branches is Gaussian. */
  tc_add("input", "32x32x3", "32x32x3", 0, 0), tc_add("conv(16,3x3,same)", "32x32x3", "32x32x16", 1, 432);
  for (i = 0; i < 4; i++) {
    tc_add("res(", "32x32x16", "32x32x16", 1, 0);
    tc_add("relu", "32x32x16", "32x32x16", 0, 0), tc_add("conv(16,3x3,same)", "32x32x16", "32x32x16", 1, 2304);
    tc_add("relu", "32x32x16", "32x32x16", 0, 0), tc_add("conv(16,3x3,same)", "32x32x16", "32x32x16", 1, 2304);
    tc_add("|", "32x32x16", "32x32x16", 1, 0), tc_add(")", "32x32x16", "32x32x16", 1, 0);
  }
  tc_add("gap", "32x32x16", "16", 1, 0), tc_add("dense(1)", "16", "1", 1, 16);
  tc_describe("residual CNN", "--shape 32x32x3 --width 16 --net 'conv(3x3,same) 4*res(relu conv(3x3,same) relu conv(3x3,same)) gap dense'", "18880");
  /* 1-D: 100x4, conv(32,5,same) 32·5·4 = 640, gap, dense 32 → 1: 32. Total 672. */
  tc_add("input", "100x4", "100x4", 0, 0), tc_add("conv(32,5,same)", "100x4", "100x32", 1, 640);
  tc_add("relu", "100x32", "100x32", 0, 0), tc_add("gap", "100x32", "32", 0, 0), tc_add("dense(1)", "32", "1", 1, 32);
  tc_describe("1-D CNN", "--shape 100x4 --width 8 --net 'conv(32,5,same) relu gap dense'", "672");
  /* strides and SAME pooling on 1-D: VALID conv 3, stride 2 on 9: floor((9-3)/2)+1 = 4, params
     4·3·2 = 24; avgpool 3 stride 2 SAME: ceil(4/2) = 2; flatten 2·4 = 8; dense(2) 8·2 = 16 */
  tc_add("input", "9x2", "9x2", 0, 0), tc_add("conv(4,3,valid,stride=2)", "9x2", "4x4", 1, 24);
  tc_add("relu", "4x4", "4x4", 0, 0), tc_add("avgpool(3,same,edges,stride=2)", "4x4", "2x4", 0, 0);
  tc_add("flatten", "2x4", "8", 0, 0), tc_add("dense(2)", "8", "2", 1, 16);
  tc_describe("1-D strides", "--shape 9x2 --width 4 --outputs 2 --net 'conv(3,s=2) relu avgpool(3,same,edges,stride=2) flatten dense'", "40");
  /* bias modes: b=none no bias (3·2 = 6), b=0 a bias (2·1 + 1 = 3), w= shown when not --w-std */
  tc_add("input", "3", "3", 0, 0), tc_add("dense(2,b=none)", "3", "2", 1, 6), tc_add("relu", "2", "2", 0, 0);
  tc_add("dense(1,w=2,b=0)", "2", "1", 1, 3);
  tc_describe("bias tokens", "--shape 3 --net 'dense(2,b=none) relu dense(w=2,b=0)'", "9");
  /* the MLP options: --depth 2 --width 3 --b-std 0.5 on D = 5: 5·3+3 = 18, 3·3+3 = 12, 3+1 = 4 */
  tc_add("input", "5", "5", 0, 0), tc_add("dense(3)", "5", "3", 1, 18), tc_add("erf", "3", "3", 0, 0);
  tc_add("dense(3)", "3", "3", 1, 12), tc_add("erf", "3", "3", 0, 0), tc_add("dense(1)", "3", "1", 1, 4);
  tc_describe("MLP options", "--shape 5 --depth 2 --width 3 --b-std 0.5 --act erf", "34");

  /* every token kind read back: the tokens describe prints, joined into a spec (res( as sum(,
     branches closed), give the same description — the printer against the library's parser */
  {
    static const char *const specs[] = {
        "conv(3,circular,s=2,w=1.5,b=none) relu sumpool(2x1,stride=1x2) concat(conv(2,1x1) | id) flatten "
        "dense(2,b=0.25,param=standard)",
        "conv(3x3,same) 2*res(relu conv(3x3,same)) relu avgpool(3,same,edges,stride=2) gap dense",
        "dense leaky_relu:0.1 dense erf:1,2,0.5 dense cos dense layernorm(axis=hwc,eps=0.001) abrelu:0.5,2 dense "
        "rbf:0.5 dense exp:1,0.5 dense sin:2,1,0 dense(b=0) gelu dense softplus dense(w=0.1) tanh dense sign dense "
        "abs gsp dense"};
    static char o1[65536], o2[65536];
    char e[4096], args[4096], spec[4096];
    for (i = 0; i < 3; i++) {
      const char *line;
      size_t k = 0;
      int c1, c2;
      snprintf(args, sizeof args, "describe --shape 8x8x2 --width 3 --net '%s'", specs[i]);
      c1 = tc_run(args, o1, sizeof o1, e, sizeof e);
      spec[0] = 0;
      for (line = o1; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line)) {
        char idx[32], tok[128];
        if (line[0] == '#' || !strncmp(line, "total", 5) || sscanf(line, "%31s %127s", idx, tok) != 2) continue;
        if (!strcmp(tok, "input")) continue;
        if (!strcmp(tok, "res(")) strcpy(tok, "sum(");
        if (k && spec[k - 1] == ' ' && (!strcmp(tok, ")") || !strcmp(tok, "|"))) k--; /* none before ) or | */
        k += (size_t)snprintf(spec + k, sizeof spec - k, "%s%s", tok,
                              tok[strlen(tok) - 1] == '(' || !strcmp(tok, "|") ? "" : " ");
        if (k >= sizeof spec) k = sizeof spec - 1;
      }
      snprintf(args, sizeof args, "describe --shape 8x8x2 --width 3 --net '%s'", spec);
      c2 = tc_run(args, o2, sizeof o2, e, sizeof e);
      T_CHECK(c1 == 0 && c2 == 0 && o1[0] && strcmp(o1, o2) == 0, "describe's tokens read back: '%s' -> '%s': exit %d, %d, %s",
              specs[i], spec, c1, c2, e);
    }
  }
  /* usage and data errors */
  tc_bad("kernel --depth 1 --net 'dense relu dense' x16.txt", 2, "give --depth L or --net SPEC, not both");
  tc_bad("describe --net 'dense' --depth 3", 2, "give --depth L or --net SPEC, not both");
  tc_bad("kernel --shape 3 x16.txt", 1, "x16.txt:2: a row has 2 columns, but --shape 3 is 3 numbers");
  tc_bad("kernel --shape 2x2x1 --net 'conv(3x3,same) relu gap dense' x16.txt", 1, "x16.txt:2: a row has 2 columns, but --shape 2x2x1 is 4 numbers");
  tc_bad("predict --shape 3 --train x16.txt --targets y16.txt", 1, "x16.txt:2: a row has 2 columns, but --shape 3");
  tc_bad("apply --shape 1x3 --width 2 --seed 1 x16.txt", 1, "x16.txt:2: a row has 2 columns, but --shape 1x3");
  tc_bad("params --shape 3 --dim 2 --width 2 --seed 1", 2, "--dim 2 but --shape 3 is 3 numbers");
  {
    static const char *const bad_shapes[] = {"3x", "x3", "0", "2x0x2", "2x2x2x2", "a", "3,3", "''", "-3", "2X2"};
    for (i = 0; i < (int)(sizeof bad_shapes / sizeof bad_shapes[0]); i++) {
      char args[128];
      snprintf(args, sizeof args, "kernel --shape %s x16.txt", bad_shapes[i]);
      tc_bad(args, 2, "is not HxWxC, LxC or D");
    }
  }
  tc_bad("kernel --shape 99999999999x99999999999x99999999999 x16.txt", 2, "does not fit");
  tc_bad("kernel --shape", 2, "--shape needs a value");
  tc_bad("describe --net 'conv(16,3x3,smae)'", 2, "ntk: --net: at 'conv(16,3x3,smae)': unknown padding 'smae'");
  tc_bad("kernel --net 'dense relu dnse' x16.txt", 2, "ntk: --net: at 'dnse': unknown");
  tc_bad("kernel --net 'attn(4)' x16.txt", 2, "not supported yet");
  tc_bad("kernel --net '' x16.txt", 2, "ntk: --net: at the end: no layers");
  /* the front end's refusals: layer index (INPUT is layer 0 with --shape), token, input, reason */
  tc_bad("describe --shape 8x8x1 --net 'conv(3,3x3) relu flatten relu dense'", 2,
         "ntk: --net: at layer 4 'relu' (input 108): an activation needs a Gaussian input");
  tc_bad("kernel --net 'dense relu relu dense' x16.txt", 2, "ntk: --net: at layer 2 'relu'");
  tc_bad("describe --shape 2x2x1 --net 'conv(3,3x3) relu dense'", 2,
         "ntk: --net: at layer 1 'conv(3,3x3,valid)' (input 2x2x1): the filter is larger than the VALID input");
  tc_bad("describe --shape 4x4x1 --net 'sum(conv(2,3x3,same) relu | conv(2,3x3,same)) dense'", 2,
         "ntk: --net: at layer 6, the ')' of 'sum(...)' (layer 1)");
  /* the infinite-width commands compute spatial lists: the CLI's --shape/--net give the list
     written out here by hand (the library's spatial kernel is tested against the reference in
     test_skernel.c; this checks the wiring) */
  {
    ntk_layer sl[5];
    double sx[6] = {1, 2, 3, 4, 0.5, -1}, sK[9], got[9];
    char out[4096], err[1024];
    size_t ng;
    int code;
    sl[0] = ntk_input(1, 2, 1), sl[1] = ntk_conv(3, 3, 0, 0, 0, NTK_PAD_SAME, 1, 0), sl[2] = ntk_relu();
    sl[3] = ntk_global_avg_pool(), sl[4] = ntk_dense(1, 1, 0);
    T_STATUS(ntk_kernel(sl, 5, sx, 3, NULL, 0, 2, NULL, sK), NTK_OK);
    code = tc_run("kernel --shape 1x2x1 --net 'conv(3,3,same) relu gap dense' x16.txt", out, sizeof out, err, sizeof err);
    ng = tc_parse(out, got, 9);
    T_CHECK(code == 0 && ng == 9 && t_err_ratio_d(got, sK, 9, 1e-300, 1e-15) <= 1,
            "kernel --shape 1x2x1 --net 'conv(3,3,same) relu gap dense': exit %d, %zu numbers, equal to ntk_kernel of the list", code, ng);
  }
  /* the finite-network commands on spatial lists: tests/test_fcli.c */
  tc_bad("apply --seed 1 --net 'dense relu dense' x16.txt", 2, "apply needs --width N (the width of layer 0 'dense'");
  tc_bad("apply --seed 1 --net 'dense(4) relu' x16.txt", 2, "a finite network ends with a dense layer");
  tc_bad("train --seed 1 --net 'dense(4) relu dense(2)' --train x16.txt --targets y16.txt --lr 0.1 --steps 1", 1,
         "the network has 2 outputs but y16.txt has 1 columns");
  /* --net MLP = --depth, --shape D = no --shape, byte for byte */
  tc_same("kernel --depth 1 x16.txt", "kernel --net 'dense relu dense' x16.txt");
  tc_same("kernel --depth 1 x16.txt", "kernel --shape 2 x16.txt");
  tc_same("kernel --depth 1 x16.txt", "kernel --shape 1x2 --net 'dense relu dense' x16.txt");
  tc_same("kernel --depth 3 --act erf --w-std 1.5 --b-std 0.1 --get nngp x16.txt",
          "kernel --net '3*(dense act) dense' --act erf --w-std 1.5 --b-std 0.1 --get nngp x16.txt");
  tc_same("kernel --depth 2 --act gelu --param standard --width 3 x16.txt xt16.txt",
          "kernel --net 'dense gelu dense(3) gelu dense' --param standard --width 3 --shape 2 x16.txt xt16.txt");
  tc_same("predict --train x16.txt --targets y16.txt --test xt16.txt --time 3 --cov -",
          "predict --net 'dense relu dense' --shape 2 --train x16.txt --targets y16.txt --test xt16.txt --time 3 --cov -");
  tc_same("apply --width 4 --b-std 0.5 --seed 7 x16.txt", "apply --net 'dense relu dense' --width 4 --b-std 0.5 --seed 7 x16.txt");
  tc_same("params --width 4 --b-std 0.5 --seed 7 --dim 2", "params --net 'dense(4) relu dense' --b-std 0.5 --seed 7 --shape 2");
  tc_same("entk --width 4 --seed 7 --param standard x16.txt", "entk --width 4 --seed 7 --param standard --net 'dense relu dense' x16.txt");
  tc_same("train --width 4 --seed 7 --train x16.txt --targets y16.txt --lr 0.1 --steps 5",
          "train --width 4 --seed 7 --net 'dense relu dense' --shape 2 --train x16.txt --targets y16.txt --lr 0.1 --steps 5");
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
  test_cli15(root);
  test_cli16();
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
