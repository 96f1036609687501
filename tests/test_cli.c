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
