/* build/ntk — the command-line face of ntk.h (../shared/CLI.md is the contract), written only
   against the public API. Matrices are text files: one row per line, numbers separated by commas
   and/or white space, blank lines and '#' lines ignored, '-' = standard input. Results go to
   standard output as %.17g comma-separated rows, and only once everything has succeeded. Errors:
   one line on standard error, exit 2 for usage, 1 for everything else. */
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define CLI_ISATTY(fd) isatty(fd)
#else
#define CLI_ISATTY(fd) 0
#endif

static const char *usage_text =
    "usage: ntk <command> [options] files...\n"
    "  kernel  [ARCH] [--get ntk|nngp] X1 [X2]                      infinite-width kernel\n"
    "  apply   [ARCH] --width N (--seed S | --params FILE) X         finite network outputs\n"
    "  entk    [ARCH] --width N (--seed S | --params FILE) [--get ntk|nngp] [--full] X1 [X2]\n"
    "  params  [ARCH] --width N --seed S --dim D                     the parameters a seed gives\n"
    "  train   [ARCH] --width N (--seed S | --params FILE) --train X --targets Y --lr ETA --steps T\n"
    "          [--test XT] [--save-params FILE] [--log-every M]\n"
    "  predict [ARCH] --train X --targets Y [--test XT] [--time T] [--lr ETA] [--diag-reg R]\n"
    "          [--diag-reg-absolute] [--get ntk|nngp] [--cov FILE]\n"
    "ARCH: --depth L (1) --act NAME (relu) --w-std S (1) --b-std S (0) --param ntk|standard (ntk)\n"
    "      --width N --outputs K --quad-degree G\n"
    "NAME: identity relu leaky_relu:A abrelu:A,B abs erf erf:A,B,C gelu sin cos sign rbf:G\n"
    "      exp:A,B tanh softplus\n"
    "predict: --time T is the number of gradient-descent steps of size --lr (default 1), i.e. flow\n"
    "      time η·T; T = inf (default) is kernel regression. Also: --progress, --quiet.\n";

/* ---- errors ---------------------------------------------------------------------------- */
static void die(int code, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "ntk: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  exit(code);
}
#define USAGE(...) die(2, __VA_ARGS__)
#define FAIL(...) die(1, __VA_ARGS__)
static void check(ntk_status s, const char *what) {
  if (s != NTK_OK) FAIL("%s: %s", what, ntk_status_string(s));
}

/* ---- matrix files -------------------------------------------------------------------------- */
typedef struct {
  size_t rows, cols;
  ntk_real *v;
  const char *name;
} matrix;

static char *read_all(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f) FAIL("%s: cannot open: %s", path, strerror(errno));
  for (;;) {
    size_t got;
    if (n + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 65536;
      buf = (char *)realloc(buf, cap);
      if (!buf) FAIL("%s: out of memory", path);
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) FAIL("%s: read error", path);
  if (f != stdin) fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

/* Parses numbers from text (NUL-terminated, modified in place); flat = 1 ignores the row
   structure (parameter files). Returns 0, or 1 with a message naming path and line in err. */
static int parse_matrix_text(char *text, size_t len, const char *path, int flat, matrix *m,
                             char *err, size_t errcap) {
  size_t line = 0, cap = 0, n = 0;
  char *p = text;
  memset(m, 0, sizeof *m);
  m->name = path;
#define PM_FAIL(...)                         \
  do {                                       \
    snprintf(err, errcap, __VA_ARGS__);      \
    free(m->v);                              \
    m->v = NULL;                             \
    return 1;                                \
  } while (0)
  if (memchr(text, 0, len)) PM_FAIL("%s: binary data (NUL byte) in a text file", path);
  while (*p) {
    char *eol = strchr(p, '\n'), *q;
    size_t cols = 0;
    if (eol) *eol = 0;
    line++;
    q = p;
    while (*q == ' ' || *q == '\t' || *q == '\r') q++;
    if (*q && *q != '#') {
      for (;;) {
        char *end;
        double v;
        while (*q == ' ' || *q == '\t' || *q == ',' || *q == '\r') q++;
        if (!*q) break;
        v = strtod(q, &end);
        if (end == q || (*end && !strchr(" \t,\r", *end))) {
          int k = 0;
          while (q[k] && !strchr(" \t,\r", q[k]) && k < 24) k++;
          PM_FAIL("%s:%zu: not a number: '%.*s'", path, line, k, q);
        }
        if (!(v - v == 0)) PM_FAIL("%s:%zu: non-finite value '%.*s'", path, line, (int)(end - q < 24 ? end - q : 24), q);
        if (n == cap) {
          ntk_real *nv;
          cap = cap ? 2 * cap : 1024;
          nv = (ntk_real *)realloc(m->v, cap * sizeof(ntk_real));
          if (!nv) PM_FAIL("%s: out of memory", path);
          m->v = nv;
        }
        m->v[n++] = (ntk_real)v;
        cols++;
        q = end;
      }
      if (!flat) {
        if (m->rows == 0) m->cols = cols;
        else if (cols != m->cols) PM_FAIL("%s:%zu: ragged row: %zu columns, expected %zu", path, line, cols, m->cols);
        m->rows++;
      }
    }
    if (!eol) break;
    p = eol + 1;
  }
  if (flat) m->rows = n, m->cols = 1;
  if (n == 0) PM_FAIL("%s: no numbers", path);
#undef PM_FAIL
  return 0;
}

static matrix parse_matrix(const char *path, int flat) {
  size_t len;
  char *text = read_all(path, &len), err[512];
  matrix m;
  if (parse_matrix_text(text, len, path, flat, &m, err, sizeof err)) FAIL("%s", err);
  free(text);
  return m;
}

static void print_rows(FILE *f, const ntk_real *v, size_t rows, size_t cols) {
  size_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) fprintf(f, "%.17g%c", (double)v[i * cols + j], j + 1 < cols ? ',' : '\n');
}

/* ---- options ----------------------------------------------------------------------------- */
typedef struct {
  size_t depth, width, outputs, dim, steps, log_every;
  double w_std, b_std, lr, time, diag_reg;
  int standard, quad_degree, get_nngp, full, diag_abs, progress, seed_set;
  unsigned long long seed;
  const char *act, *params, *train, *targets, *test, *save_params, *cov;
  const char *files[2];
  int nfiles;
} options;

static double num_arg(const char *opt, const char *v) {
  char *end;
  double x;
  if (!v) USAGE("%s needs a value", opt);
  x = strtod(v, &end);
  if (end == v || *end || !(x - x == 0 || (x == INFINITY && strcmp(opt, "--time") == 0)))
    USAGE("%s: not a number: '%s'", opt, v);
  return x;
}
static size_t size_arg(const char *opt, const char *v) {
  double x = num_arg(opt, v);
  if (x < 0 || x != (double)(size_t)x) USAGE("%s: not a non-negative integer: '%s'", opt, v);
  return (size_t)x;
}

static options parse_options(int argc, char **argv, int first) {
  options o;
  int i;
  memset(&o, 0, sizeof o);
  o.depth = 1, o.w_std = 1, o.b_std = 0, o.act = "relu", o.lr = 1, o.time = INFINITY;
  o.progress = CLI_ISATTY(2) ? 1 : 0;
  for (i = first; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      if (o.nfiles == 2) USAGE("too many files: '%s'", a);
      o.files[o.nfiles++] = a;
      continue;
    }
#define OPT(name) (strcmp(a, name) == 0)
    if (OPT("--depth")) o.depth = size_arg(a, v), i++;
    else if (OPT("--act")) { if (!v) USAGE("--act needs a value"); o.act = v, i++; }
    else if (OPT("--w-std")) o.w_std = num_arg(a, v), i++;
    else if (OPT("--b-std")) o.b_std = num_arg(a, v), i++;
    else if (OPT("--param")) {
      if (!v || (strcmp(v, "ntk") && strcmp(v, "standard"))) USAGE("--param must be ntk or standard");
      o.standard = strcmp(v, "standard") == 0, i++;
    } else if (OPT("--width")) o.width = size_arg(a, v), i++;
    else if (OPT("--outputs")) o.outputs = size_arg(a, v), i++;
    else if (OPT("--quad-degree")) o.quad_degree = (int)size_arg(a, v), i++;
    else if (OPT("--get")) {
      if (!v || (strcmp(v, "ntk") && strcmp(v, "nngp"))) USAGE("--get must be ntk or nngp");
      o.get_nngp = strcmp(v, "nngp") == 0, i++;
    } else if (OPT("--full")) o.full = 1;
    else if (OPT("--seed")) { o.seed = (unsigned long long)size_arg(a, v), o.seed_set = 1, i++; }
    else if (OPT("--params")) { if (!v) USAGE("--params needs a file"); o.params = v, i++; }
    else if (OPT("--dim")) o.dim = size_arg(a, v), i++;
    else if (OPT("--train")) { if (!v) USAGE("--train needs a file"); o.train = v, i++; }
    else if (OPT("--targets")) { if (!v) USAGE("--targets needs a file"); o.targets = v, i++; }
    else if (OPT("--test")) { if (!v) USAGE("--test needs a file"); o.test = v, i++; }
    else if (OPT("--lr")) o.lr = num_arg(a, v), i++;
    else if (OPT("--steps")) o.steps = size_arg(a, v), i++;
    else if (OPT("--time")) o.time = v && (strcmp(v, "inf") == 0 || strcmp(v, "infinity") == 0) ? INFINITY : num_arg(a, v), i++;
    else if (OPT("--diag-reg")) o.diag_reg = num_arg(a, v), i++;
    else if (OPT("--diag-reg-absolute")) o.diag_abs = 1;
    else if (OPT("--cov")) { if (!v) USAGE("--cov needs a file"); o.cov = v, i++; }
    else if (OPT("--save-params")) { if (!v) USAGE("--save-params needs a file"); o.save_params = v, i++; }
    else if (OPT("--log-every")) o.log_every = size_arg(a, v), i++;
    else if (OPT("--progress")) o.progress = 1;
    else if (OPT("--quiet")) o.progress = 0;
    else USAGE("unknown option '%s'", a);
#undef OPT
  }
  if (o.time < 0) USAGE("--time must be ≥ 0");
  if (o.lr <= 0) USAGE("--lr must be > 0");
  if (o.diag_reg < 0) USAGE("--diag-reg must be ≥ 0");
  return o;
}

static ntk_layer parse_act(const char *s, int quad_degree) {
  double a = 0, b = 0, c = 0;
  const char *colon = strchr(s, ':');
  size_t nlen = colon ? (size_t)(colon - s) : strlen(s);
  int nargs = 0;
  ntk_layer l;
  if (colon) {
    char *end;
    const char *q = colon + 1;
    double *dst[3];
    dst[0] = &a, dst[1] = &b, dst[2] = &c;
    while (*q && nargs < 3) {
      *dst[nargs++] = strtod(q, &end);
      if (end == q) USAGE("--act %s: bad parameter list", s);
      q = *end == ',' ? end + 1 : end;
      if (*end && *end != ',') USAGE("--act %s: bad parameter list", s);
    }
  }
#define IS(name) (nlen == strlen(name) && strncmp(s, name, nlen) == 0)
  if (IS("identity") && !nargs) l = ntk_identity();
  else if (IS("relu") && !nargs) l = ntk_relu();
  else if (IS("leaky_relu") && nargs == 1) l = ntk_leaky_relu(a);
  else if (IS("abrelu") && nargs == 2) l = ntk_abrelu(a, b);
  else if (IS("abs") && !nargs) l = ntk_abs();
  else if (IS("erf") && !nargs) l = ntk_erf();
  else if (IS("erf") && nargs == 3) l = ntk_erf_scaled(a, b, c);
  else if (IS("gelu") && !nargs) l = ntk_gelu();
  else if (IS("sin") && !nargs) l = ntk_sin();
  else if (IS("cos") && !nargs) l = ntk_cos();
  else if (IS("sign") && !nargs) l = ntk_sign();
  else if (IS("rbf") && nargs == 1) l = ntk_rbf(a);
  else if (IS("exp") && nargs == 2) l = ntk_exp(a, b);
  else if (IS("tanh") && !nargs) l = ntk_tanh();
  else if (IS("softplus") && !nargs) l = ntk_softplus();
  else USAGE("unknown activation '%s' (see ntk --help)", s);
#undef IS
  l.quad_degree = quad_degree;
  return l;
}

/* the MLP of the architecture options */
static size_t build_arch(const options *o, ntk_layer *layers, size_t cap, size_t outputs) {
  size_t L, l;
  if (o->depth > 1000) USAGE("--depth %zu is too deep", o->depth);
  L = ntk_mlp(layers, cap, o->depth, o->width, parse_act(o->act, o->quad_degree), o->w_std, o->b_std, outputs);
  if (!L) USAGE("--depth %zu is too deep", o->depth);
  if (o->standard)
    for (l = 0; l < L; l++)
      if (layers[l].kind == NTK_LAYER_DENSE) layers[l].param = NTK_PARAM_STANDARD;
  check(ntk_layers_check(layers, L), "architecture");
  return L;
}

/* ---- progress ------------------------------------------------------------------------------ */
static double t_start;
static double now_s(void) { return (double)clock() / CLOCKS_PER_SEC; }
static int progress_cb(const char *stage, double done, void *user) {
  double el = now_s() - t_start;
  (void)user;
  fprintf(stderr, "\r%-8s [%-30.*s] %3.0f%%  ", stage, (int)(30 * done), "##############################", 100 * done);
  if (done > 0.02 && done < 1) fprintf(stderr, "~%.0fs left ", el * (1 - done) / done);
  if (done >= 1) fprintf(stderr, "\n");
  return 0;
}

static ntk_kernel_desc kdesc(const options *o) {
  ntk_kernel_desc d;
  memset(&d, 0, sizeof d);
  if (o->progress) d.progress = progress_cb, t_start = now_s();
  return d;
}

/* ---- finite networks ---------------------------------------------------------------------- */
static void make_net(const options *o, ntk_net *net, size_t dim, size_t outputs) {
  ntk_layer layers[2 * 1000 + 1];
  size_t L;
  if (o->width == 0) USAGE("--width N is required for finite networks");
  if (!o->seed_set && !o->params) USAGE("give --seed S or --params FILE");
  L = build_arch(o, layers, sizeof layers / sizeof layers[0], outputs);
  check(ntk_net_init(net, layers, L, dim, (uint64_t)o->seed), "network");
  if (o->params) {
    matrix p = parse_matrix(o->params, 1);
    if (p.rows != net->n_params)
      FAIL("%s: %zu parameters, expected %zu for this architecture (dim %zu)", o->params, p.rows, net->n_params, dim);
    memcpy(net->params, p.v, p.rows * sizeof(ntk_real));
    free(p.v);
  }
}

static matrix need_file(const options *o, int idx, const char *what) {
  if (o->nfiles <= idx) USAGE("missing %s file", what);
  return parse_matrix(o->files[idx], 0);
}

static void same_dim(const matrix *a, const matrix *b) {
  if (a->cols != b->cols) FAIL("%s has %zu columns but %s has %zu", b->name, b->cols, a->name, a->cols);
}

static ntk_real *alloc_real(size_t a, size_t b) {
  ntk_real *p;
  if (b && a > ((size_t)-1) / b / sizeof(ntk_real)) FAIL("result too large (%zu x %zu)", a, b);
  p = (ntk_real *)malloc((a * b > 0 ? a * b : 1) * sizeof(ntk_real));
  if (!p) FAIL("out of memory for a %zu x %zu result", a, b);
  return p;
}

static int train_log(size_t step, double loss, void *user) {
  (void)user;
  fprintf(stderr, "step %zu loss %.10g\n", step, loss);
  return 0;
}

#ifndef NTK_CLI_NO_MAIN
int main(int argc, char **argv) {
  options o;
  const char *cmd;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  cmd = argv[1];
  o = parse_options(argc, argv, 2);
  if (strcmp(cmd, "kernel") == 0) {
    ntk_layer layers[2 * 1000 + 1];
    ntk_kernel_desc d = kdesc(&o);
    matrix x1 = need_file(&o, 0, "X1"), x2;
    size_t L = build_arch(&o, layers, sizeof layers / sizeof layers[0], 1), n2;
    ntk_real *out;
    if (o.nfiles == 2) x2 = parse_matrix(o.files[1], 0), same_dim(&x1, &x2);
    n2 = o.nfiles == 2 ? x2.rows : x1.rows;
    out = alloc_real(x1.rows, n2);
    check(ntk_kernel_ex(layers, L, x1.v, x1.rows, o.nfiles == 2 ? x2.v : NULL, n2, x1.cols,
                        o.get_nngp ? out : NULL, o.get_nngp ? NULL : out, &d), "kernel");
    print_rows(stdout, out, x1.rows, n2);
  } else if (strcmp(cmd, "apply") == 0) {
    ntk_net net;
    matrix x = need_file(&o, 0, "X");
    ntk_real *f;
    make_net(&o, &net, x.cols, o.outputs ? o.outputs : 1);
    f = alloc_real(x.rows, net.outputs);
    check(ntk_net_apply(&net, x.v, x.rows, f), "apply");
    print_rows(stdout, f, x.rows, net.outputs);
  } else if (strcmp(cmd, "entk") == 0) {
    ntk_net net;
    matrix x1 = need_file(&o, 0, "X1"), x2;
    size_t k, r1, r2;
    ntk_real *out;
    make_net(&o, &net, x1.cols, o.outputs ? o.outputs : 1);
    if (o.nfiles == 2) x2 = parse_matrix(o.files[1], 0), same_dim(&x1, &x2);
    k = net.outputs;
    r1 = x1.rows * (o.full ? k : 1), r2 = (o.nfiles == 2 ? x2.rows : x1.rows) * (o.full ? k : 1);
    out = alloc_real(r1, r2);
    check(ntk_net_empirical_kernel(&net, x1.v, x1.rows, o.nfiles == 2 ? x2.v : NULL,
                                   o.nfiles == 2 ? x2.rows : 0, o.full, o.get_nngp ? out : NULL,
                                   o.get_nngp ? NULL : out), "empirical kernel");
    print_rows(stdout, out, r1, r2);
  } else if (strcmp(cmd, "params") == 0) {
    ntk_net net;
    if (!o.dim) USAGE("--dim D is required");
    if (o.params) USAGE("params takes --seed, not --params");
    make_net(&o, &net, o.dim, o.outputs ? o.outputs : 1);
    print_rows(stdout, net.params, net.n_params, 1);
  } else if (strcmp(cmd, "train") == 0) {
    ntk_net net;
    ntk_train_desc td;
    matrix x, y, xt;
    ntk_real *f;
    if (!o.train || !o.targets) USAGE("train needs --train X and --targets Y");
    x = parse_matrix(o.train, 0), y = parse_matrix(o.targets, 0);
    if (y.rows != x.rows) FAIL("%s has %zu rows but %s has %zu", o.targets, y.rows, o.train, x.rows);
    if (o.outputs && o.outputs != y.cols) FAIL("--outputs %zu but %s has %zu columns", o.outputs, o.targets, y.cols);
    make_net(&o, &net, x.cols, y.cols);
    memset(&td, 0, sizeof td);
    if (o.log_every) td.callback = train_log, td.every = o.log_every;
    check(ntk_net_train_ex(&net, x.v, y.v, x.rows, o.lr, o.steps, &td), "train");
    if (o.test) xt = parse_matrix(o.test, 0), same_dim(&x, &xt); else xt = x;
    f = alloc_real(xt.rows, net.outputs);
    check(ntk_net_apply(&net, xt.v, xt.rows, f), "apply");
    if (o.save_params) {
      FILE *pf = fopen(o.save_params, "w");
      if (!pf) FAIL("%s: cannot write: %s", o.save_params, strerror(errno));
      print_rows(pf, net.params, net.n_params, 1);
      if (fclose(pf) != 0) FAIL("%s: write error", o.save_params);
    }
    print_rows(stdout, f, xt.rows, net.outputs);
  } else if (strcmp(cmd, "predict") == 0) {
    ntk_layer layers[2 * 1000 + 1];
    ntk_kernel_desc d = kdesc(&o);
    ntk_predictor pr;
    matrix x, y, xt;
    size_t L, n, m, k;
    ntk_real *Ktr, *Ttr, *Kte, *Tte, *Ktt = NULL, *Ttt = NULL, *mean, *cov = NULL;
    ntk_status st;
    if (!o.train || !o.targets) USAGE("predict needs --train X and --targets Y");
    x = parse_matrix(o.train, 0), y = parse_matrix(o.targets, 0);
    if (y.rows != x.rows) FAIL("%s has %zu rows but %s has %zu", o.targets, y.rows, o.train, x.rows);
    if (o.test) xt = parse_matrix(o.test, 0), same_dim(&x, &xt); else xt = x;
    L = build_arch(&o, layers, sizeof layers / sizeof layers[0], 1);
    n = x.rows, m = xt.rows, k = y.cols;
    Ktr = alloc_real(n, n), Ttr = alloc_real(n, n), Kte = alloc_real(m, n), Tte = alloc_real(m, n);
    mean = alloc_real(m, k);
    check(ntk_kernel_ex(layers, L, x.v, n, NULL, 0, x.cols, Ktr, Ttr, &d), "train kernel");
    check(ntk_kernel_ex(layers, L, xt.v, m, x.v, n, x.cols, Kte, Tte, &d), "test kernel");
    if (o.cov) {
      Ktt = alloc_real(m, m), Ttt = alloc_real(m, m), cov = alloc_real(m, m);
      check(ntk_kernel_ex(layers, L, xt.v, m, NULL, 0, x.cols, Ktt, Ttt, &d), "test-test kernel");
    }
    if (o.time == INFINITY && !o.cov && !o.test) { /* kernel regression on the train rows: y */
      memcpy(mean, y.v, n * k * sizeof(ntk_real));
    } else if (o.time == INFINITY && !o.cov) { /* kernel regression */
      st = ntk_gp_inference(o.get_nngp ? Ktr : Ttr, n, y.v, k, o.get_nngp ? Kte : Tte, m, NULL,
                            o.diag_reg, o.diag_abs, mean, NULL);
      if (st == NTK_ERR_NOT_POSITIVE_DEFINITE)
        FAIL("the train kernel is not positive definite (duplicate inputs?): use --diag-reg, e.g. --diag-reg 1e-6");
      check(st, "kernel regression");
    } else if (o.time == INFINITY && o.get_nngp) {
      st = ntk_gp_inference(Ktr, n, y.v, k, Kte, m, Ktt, o.diag_reg, o.diag_abs, mean, cov);
      if (st == NTK_ERR_NOT_POSITIVE_DEFINITE)
        FAIL("the train kernel is not positive definite: use --diag-reg, e.g. --diag-reg 1e-6");
      check(st, "gp inference");
    } else {
      check(ntk_predictor_init(&pr, o.get_nngp ? Ktr : Ttr, n, y.v, k, NULL, o.lr, o.diag_reg, o.diag_abs), "predictor");
      if (o.time == INFINITY && pr.chol_status != NTK_OK)
        FAIL("the train kernel is not positive definite: use --diag-reg, e.g. --diag-reg 1e-6");
      if (o.get_nngp) st = ntk_ensemble_nngp(&pr, o.time, Kte, m, Ktt, mean, cov);
      else st = ntk_ensemble_ntk(&pr, o.time, Tte, m, Ktr, Kte, Ktt, mean, cov);
      check(st, "ensemble prediction");
      if (!o.test && o.time == INFINITY) memcpy(mean, y.v, n * k * sizeof(ntk_real)); /* y exactly */
    }
    if (o.cov) {
      FILE *cf = fopen(o.cov, "w");
      if (!cf) FAIL("%s: cannot write: %s", o.cov, strerror(errno));
      print_rows(cf, cov, m, m);
      if (fclose(cf) != 0) FAIL("%s: write error", o.cov);
    }
    print_rows(stdout, mean, m, k);
  } else {
    USAGE("unknown command '%s' (kernel, apply, entk, params, train, predict)", cmd);
  }
  if (fflush(stdout) != 0) FAIL("write error on standard output");
  return 0;
}
#endif /* NTK_CLI_NO_MAIN */
