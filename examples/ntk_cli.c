/* build/ntk — the command-line face of ntk.h (../shared/CLI.md is the contract), written only
   against the public API. Matrices are text files: one row per line, numbers separated by commas
   and/or white space, blank lines and '#' lines ignored, '-' = standard input. Results go to
   standard output as %.17g comma-separated rows, and only once everything has succeeded. Errors:
   one line on standard error, exit 2 for usage, 1 for everything else; nothing written on
   failure (files named by --cov / --save-params are written to a temporary name and renamed
   only after standard output has been written). */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fileno, fstat, getpid, clock_gettime */
#endif
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#include <unistd.h>
#define CLI_POSIX 1
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
    "  describe [ARCH]                                              layers, shapes, parameters\n"
    "ARCH: --depth L (1; 0..1000) --act NAME (relu) --w-std S (1; > 0) --b-std S (0; >= 0)\n"
    "      --param ntk|standard (ntk; standard needs --width) --width N (>= 1)\n"
    "      --outputs K (finite networks, describe) --quad-degree G (0 = library default)\n"
    "      --shape HxWxC | LxC | D: how a row of a data file is read (NHWC, row-major)\n"
    "      --net SPEC: any architecture, e.g. '21*(conv(1,3x3,same) relu) gap dense(1)'\n"
    "      (the text form in README.md's command-line section; not with --depth; the options above are its\n"
    "      defaults: dense(N) N = --width, the last dense --outputs, w= --w-std, b= --b-std, ...)\n"
    "NAME: identity relu leaky_relu:A abrelu:A,B abs erf erf:A,B,C gelu sin sin:A,B,C cos sign\n"
    "      rbf:G (G > 0) exp:A,B tanh softplus\n"
    "predict: --time T is the number of gradient-descent steps of size --lr (default 1), i.e. flow\n"
    "      time eta*T; T = inf (default) is kernel regression. Also: --progress, --quiet.\n"
    "Numbers: decimal only (no hex, no inf/nan except --time inf); integers are digits only;\n"
    "      --seed is any integer 0..18446744073709551615, taken exactly.\n"
    "Data files: one row per line (LF, CRLF or CR line ends); fields separated by white space\n"
    "      and/or one comma (an empty field, as in '1,,2' or a leading or trailing comma, is an\n"
    "      error); blank lines and lines starting with '#' are ignored; a UTF-8 byte-order mark\n"
    "      at the start is skipped; a NUL byte is an error (binary data). Files are read as a\n"
    "      stream, so memory grows only with the numbers read. '-' is standard input (once).\n"
    "Outputs: --cov FILE and --save-params FILE are written only if everything succeeded;\n"
    "      FILE '-' is standard output: the result rows, then a line '# covariance' or\n"
    "      '# parameters', then those rows.\n"
    "Exit status: 0 ok, 2 usage (the message names the option and what it accepts), 1 anything\n"
    "      else (a file, the data, a computation: the message says what went wrong).\n";

/* ---- output files: written to a temporary name, renamed only on success ------------------- */
typedef struct {
  const char *path; /* NULL: none */
  int to_stdout;    /* path is "-" */
  char tmp[4200];
  FILE *f;
} outfile;
static outfile *cli_pending[2];
static int cli_npending;
static int cli_bar_open; /* a progress bar without its newline is on standard error */

static void out_discard_all(void) {
  int i;
  for (i = 0; i < cli_npending; i++) {
    outfile *o = cli_pending[i];
    if (o->f) fclose(o->f), o->f = NULL;
    if (o->tmp[0]) remove(o->tmp), o->tmp[0] = 0;
  }
  cli_npending = 0;
}

/* ---- errors ---------------------------------------------------------------------------- */
static void die(int code, const char *fmt, ...) {
  va_list ap;
  out_discard_all();
  if (cli_bar_open) fprintf(stderr, "\n"), cli_bar_open = 0;
  fprintf(stderr, "ntk: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  exit(code);
}
#define USAGE(...) die(2, __VA_ARGS__)
#define FAIL(...) die(1, __VA_ARGS__)
static const char *cli_cmd = "ntk"; /* the command's name, for messages from deep inside */
/* a driver's NTK_ERR_UNSUPPORTED: the spatial and branched layers the front end describes but
   this build's drivers do not compute yet */
static void check_supported(ntk_status s) {
  if (s == NTK_ERR_UNSUPPORTED)
    FAIL("%s: this architecture (convolution/pooling/branches) is not computed by this build of ntk.h yet", cli_cmd);
}
static void check(ntk_status s, const char *what) {
  check_supported(s);
  if (s != NTK_OK) FAIL("%s: %s", what, ntk_status_string(s));
}
/* a status of a computation whose inputs the tool has already checked: NaN/Inf out of finite
   input is an overflow, and the message says so */
static void check_compute(ntk_status s, const char *what) {
  check_supported(s);
  if (s == NTK_ERR_NON_FINITE)
    FAIL("%s overflowed (NaN/Inf) — reduce --w-std, --depth or the input scale", what);
  check(s, what);
}

/* finite, on the bits: survives -ffast-math, which folds x - x == 0 and isfinite() to true */
static int cli_finite(double x) {
  unsigned char b[sizeof(double)];
  uint64_t u;
  memcpy(b, &x, sizeof b);
  memcpy(&u, b, sizeof u);
  return (u & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
}

/* Text from the user (a token, a file name, an option value) as it goes into a message: bytes
   outside printable ASCII as \xHH (utf8 = 1 keeps bytes >= 0x80, for names), at most max bytes
   of the source. Four rotating buffers, so one message can hold several. */
static const char *esc(const char *s, size_t n, int utf8) {
  static char bufs[4][400];
  static int which;
  char *o = bufs[which++ & 3];
  size_t i, k = 0;
  for (i = 0; i < n && k + 8 < sizeof bufs[0]; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 0x20 && c < 0x7f && c != '\\') || (utf8 && c >= 0x80)) o[k++] = (char)c;
    else if (c == '\\') o[k++] = '\\', o[k++] = '\\';
    else k += (size_t)sprintf(o + k, "\\x%02x", c);
  }
  if (i < n) o[k++] = '.', o[k++] = '.', o[k++] = '.';
  o[k] = 0;
  return o;
}
#define ESC(s) esc((s), strlen(s), 1)

/* ---- numbers: decimal only ------------------------------------------------------------------ */
/* length of the decimal number at s: [+-] (digits [. digits] | . digits) [(e|E) [+-] digits] */
static size_t dec_len(const char *s, size_t n) {
  size_t i = 0, d = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, d++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, d++;
  }
  if (!d) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1, e = 0;
    if (j < n && (s[j] == '+' || s[j] == '-')) j++;
    while (j < n && s[j] >= '0' && s[j] <= '9') j++, e++;
    if (e) i = j;
  }
  return i;
}
static int is_nonfinite_word(const char *s, size_t n) {
  char w[16];
  size_t i, k = 0;
  if (n && (s[0] == '+' || s[0] == '-')) s++, n--;
  if (n >= sizeof w) return 0;
  for (i = 0; i < n; i++) w[k++] = (char)tolower((unsigned char)s[i]);
  w[k] = 0;
  return !strcmp(w, "nan") || !strcmp(w, "inf") || !strcmp(w, "infinity") || !strncmp(w, "nan(", 4);
}

/* ---- matrix files: a streaming parser -------------------------------------------------------- */
typedef struct {
  size_t rows, cols;
  ntk_real *v;
  const char *name;
  size_t first_line; /* line of the first row (for messages about the column count) */
} matrix;

#define CLI_TOKMAX 400
typedef struct {
  matrix *m;
  const char *name; /* for messages */
  int flat;         /* parameter file: one flat list, row structure ignored */
  size_t line, row_line, first_row_line, cols, cap, n;
  int bom_seen, bom_done; /* bytes of a UTF-8 byte-order mark seen at the start */
  int line_blank;   /* nothing but white space so far on this line */
  int comment;      /* in a '#' line */
  int pending_comma; /* a comma since the last field */
  int any_field;    /* a field on this line (or, flat, in the file) */
  int prev_cr;
  char tok[CLI_TOKMAX + 1];
  size_t toklen, tokfull;
  char *err;
  size_t errcap;
  int failed;
} mparse;

static void mp_init(mparse *P, matrix *m, const char *name, int flat, char *err, size_t errcap) {
  memset(P, 0, sizeof *P);
  memset(m, 0, sizeof *m);
  m->name = name;
  P->m = m, P->name = name, P->flat = flat, P->err = err, P->errcap = errcap;
  P->line = 1, P->line_blank = 1;
}
static int mp_fail(mparse *P, const char *fmt, ...) {
  va_list ap;
  char msg[400];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(P->err, P->errcap, "%s:%zu: %s", ESC(P->name), P->line, msg);
  free(P->m->v);
  P->m->v = NULL;
  P->failed = 1;
  return 1;
}
static int mp_token(mparse *P) {
  size_t len = P->toklen, dl;
  double v;
  char *end;
  if (!P->tokfull) return 0;
  if (P->tokfull > CLI_TOKMAX)
    return mp_fail(P, "not a number: '%s' (a field of %zu bytes)", esc(P->tok, 24, 0), P->tokfull);
  P->tok[len] = 0;
  dl = dec_len(P->tok, len);
  if (dl != len) {
    if (is_nonfinite_word(P->tok, len)) return mp_fail(P, "non-finite value '%s'", esc(P->tok, len, 0));
    return mp_fail(P, "not a number: '%s'", esc(P->tok, len < 40 ? len : 40, 0));
  }
  v = strtod(P->tok, &end);
  if (!cli_finite(v) || (sizeof(ntk_real) < sizeof(double) && (v > FLT_MAX || v < -FLT_MAX)))
    return mp_fail(P, "'%s' is out of the range of %s", esc(P->tok, len, 0),
                   sizeof(ntk_real) < sizeof(double) ? "float" : "double");
  if (P->n == P->cap) {
    ntk_real *nv;
    size_t nc = P->cap ? 2 * P->cap : 1024;
    if (nc > ((size_t)-1) / sizeof(ntk_real) || !(nv = (ntk_real *)realloc(P->m->v, nc * sizeof(ntk_real))))
      return mp_fail(P, "out of memory after %zu numbers", P->n);
    P->m->v = nv, P->cap = nc;
  }
  P->m->v[P->n++] = (ntk_real)v;
  P->cols++;
  P->toklen = P->tokfull = 0;
  P->pending_comma = 0;
  P->any_field = 1;
  return 0;
}
static int mp_endline(mparse *P, int eof) {
  if (mp_token(P)) return 1;
  if (!P->flat || eof) {
    if (P->pending_comma) return mp_fail(P, "empty field: nothing after the last ','");
    if (!P->flat && P->cols) {
      if (P->m->rows == 0) P->m->cols = P->cols, P->first_row_line = P->line;
      else if (P->cols != P->m->cols)
        return mp_fail(P, "ragged row: %zu column%s, expected %zu (as on line %zu)", P->cols,
                       P->cols == 1 ? "" : "s", P->m->cols, P->first_row_line);
      P->m->rows++;
    }
    P->cols = 0, P->any_field = 0;
  }
  P->line_blank = 1, P->comment = 0;
  if (!eof) P->line++;
  return 0;
}
/* the first bytes of a BOM that did not complete: they start a field (not a number) */
static void mp_bom_field(mparse *P) {
  static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
  P->bom_done = 1;
  if (P->bom_seen) memcpy(P->tok, bom, (size_t)P->bom_seen), P->toklen = P->tokfull = (size_t)P->bom_seen, P->line_blank = 0;
}
/* feeds n bytes; returns nonzero on an error (message in err) */
static int mp_feed(mparse *P, const char *s, size_t n) {
  static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
  size_t i;
  if (P->failed) return 1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!P->bom_done) { /* a UTF-8 byte-order mark at the start is skipped */
      if (c == bom[P->bom_seen]) {
        if (++P->bom_seen == 3) P->bom_done = 1;
        continue;
      }
      mp_bom_field(P);
    }
    if (c == '\n' && P->prev_cr) { P->prev_cr = 0; continue; } /* CRLF */
    P->prev_cr = c == '\r';
    if (c == 0) return mp_fail(P, "a NUL byte (binary data, not a text file)");
    if (c == '\n' || c == '\r') {
      if (mp_endline(P, 0)) return 1;
      continue;
    }
    if (P->comment) continue;
    if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
      if (mp_token(P)) return 1;
      continue;
    }
    if (c == '#' && P->line_blank && !P->tokfull) { P->comment = 1; continue; }
    P->line_blank = 0;
    if (c == ',') {
      if (mp_token(P)) return 1;
      if (!P->any_field) return mp_fail(P, "empty field: nothing before the first ','");
      if (P->pending_comma) return mp_fail(P, "empty field between two ','");
      P->pending_comma = 1;
      continue;
    }
    if (P->toklen < CLI_TOKMAX) P->tok[P->toklen++] = (char)c;
    P->tokfull++;
  }
  return 0;
}
static int mp_finish(mparse *P) {
  if (!P->failed && !P->bom_done) mp_bom_field(P);
  if (P->failed || mp_endline(P, 1)) return 1;
  if (P->flat) P->m->rows = P->n, P->m->cols = 1;
  if (P->n == 0) {
    snprintf(P->err, P->errcap, "%s: no numbers", ESC(P->name));
    free(P->m->v), P->m->v = NULL;
    return 1;
  }
  return 0;
}

/* Parses numbers from text of len bytes; flat = 1 ignores the row structure (parameter files).
   Returns 0, or 1 with a message naming path and line in err. (The fuzz target's entry.) */
static int parse_matrix_text(char *text, size_t len, const char *path, int flat, matrix *m,
                             char *err, size_t errcap) {
  mparse P;
  mp_init(&P, m, path, flat, err, errcap);
  return mp_feed(&P, text, len) || mp_finish(&P);
}

static const char *display_name(const char *path) { return strcmp(path, "-") == 0 ? "<stdin>" : path; }

static matrix parse_matrix(const char *path, int flat) {
  static char buf[65536];
  char err[600];
  const char *name = display_name(path);
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  mparse P;
  matrix m;
  if (!f) FAIL("%s: cannot open: %s", ESC(name), strerror(errno));
#ifdef CLI_POSIX
  {
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) FAIL("%s: cannot read: it is a directory", ESC(name));
  }
#endif
  mp_init(&P, &m, name, flat, err, sizeof err);
  for (;;) {
    size_t got = fread(buf, 1, sizeof buf, f);
    if (got && mp_feed(&P, buf, got)) FAIL("%s", err);
    if (got < sizeof buf) {
      if (ferror(f)) FAIL("%s:%zu: read error: %s", ESC(name), P.line, strerror(errno));
      if (feof(f)) break;
    }
  }
  if (f != stdin) fclose(f);
  if (mp_finish(&P)) FAIL("%s", err);
  m.name = path;
  m.first_line = P.first_row_line;
  return m;
}

static void print_rows(FILE *f, const ntk_real *v, size_t rows, size_t cols) {
  size_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) fprintf(f, "%.17g%c", (double)v[i * cols + j], j + 1 < cols ? ',' : '\n');
}

/* ---- options ----------------------------------------------------------------------------- */
enum { C_KERNEL = 1, C_APPLY = 2, C_ENTK = 4, C_PARAMS = 8, C_TRAIN = 16, C_PREDICT = 32, C_DESCRIBE = 64,
       C_ALL = 127, C_NET = C_APPLY | C_ENTK | C_PARAMS | C_TRAIN };
#define CLI_NCMD 7
static const char *cmd_names[CLI_NCMD] = {"kernel", "apply", "entk", "params", "train", "predict", "describe"};


typedef struct {
  int cmd; /* one C_ bit */
  const char *cmd_name;
  size_t depth, width, outputs, dim, steps, log_every;
  double w_std, b_std, lr, time, diag_reg;
  int standard, quad_degree, get_nngp, full, diag_abs, progress, seed_set, lr_set, steps_set, width_set;
  int depth_set;
  unsigned long long seed;
  const char *act, *params, *train, *targets, *test, *save_params, *cov;
  const char *net, *shape; /* --net SPEC, --shape S (NULL: not given) */
  size_t shape_v[3];       /* --shape as (h, w, c): D = (1, 1, D), LxC = (1, L, C) */
  int shape_nd;            /* 1, 2 or 3 numbers given */
  size_t shape_dim;        /* h·w·c */
  const char *files[2];
  int nfiles;
} options;

/* The largest Gauss–Hermite degree the library accepts (asked of ntk_layers_check, so the tool's
   range is the library's, in one place); 0 = the library default. */
static int quad_degree_max(void) {
  ntk_layer l[2];
  int lo = 0, hi = INT_MAX;
  l[0] = ntk_dense(1, 1, 0), l[1] = ntk_tanh();
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2 + 1;
    l[1].quad_degree = mid;
    if (ntk_layers_check(l, 2) == NTK_OK) lo = mid; else hi = mid - 1;
  }
  return lo;
}

static const char *need_value(const char *opt, const char *v, const char *what) {
  if (!v) USAGE("%s needs a value: %s", opt, what);
  return v;
}
/* an unsigned decimal integer in [lo, hi], digits only */
static unsigned long long uint_arg(const char *opt, const char *v, unsigned long long lo, unsigned long long hi,
                                   const char *what) {
  unsigned long long x = 0;
  const char *p;
  char range[80];
  if (hi == (unsigned long long)(size_t)-1 && lo > 0) snprintf(range, sizeof range, "an integer >= %llu", lo);
  else snprintf(range, sizeof range, "an integer from %llu to %llu", lo, hi);
  need_value(opt, v, range);
  for (p = v; *p; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (*p < '0' || *p > '9') USAGE("%s: '%s' is not %s%s (decimal digits only)", opt, ESC(v), range, what);
    if (x > (ULLONG_MAX - d) / 10) USAGE("%s: '%s' is too large: %s%s", opt, ESC(v), range, what);
    x = 10 * x + d;
  }
  if (p == v) USAGE("%s: empty value: %s%s", opt, range, what);
  if (x < lo || x > hi) USAGE("%s: '%s' is out of range (expected %s%s)", opt, ESC(v), range, what);
  return x;
}
static size_t size_arg(const char *opt, const char *v, size_t lo, size_t hi, const char *what) {
  return (size_t)uint_arg(opt, v, lo, hi, what);
}
/* a finite decimal number; positive = 1: > 0, 0: >= 0 */
static double real_arg(const char *opt, const char *v, int positive, const char *what) {
  const char *range = positive ? "a finite decimal number > 0" : "a finite decimal number >= 0";
  double x;
  need_value(opt, v, range);
  if (!*v || dec_len(v, strlen(v)) != strlen(v)) USAGE("%s: '%s' is not %s%s", opt, ESC(v), range, what);
  x = strtod(v, NULL);
  if (!cli_finite(x)) USAGE("%s: '%s' is out of the range of a double: %s%s", opt, ESC(v), range, what);
  if (positive ? !(x > 0) : !(x >= 0)) USAGE("%s: '%s' is out of range (expected %s%s)", opt, ESC(v), range, what);
  return x;
}

static void allow(const options *o, const char *opt, int mask) {
  if (!(o->cmd & mask)) {
    char list[120] = "";
    int i;
    for (i = 0; i < CLI_NCMD; i++)
      if (mask & (1 << i)) {
        if (list[0]) strcat(list, ", ");
        strcat(list, cmd_names[i]);
      }
    USAGE("%s is not an option of '%s' (it is one of %s)", opt, o->cmd_name, list);
  }
}

/* --shape HxWxC | LxC | D: positive decimal integers separated by 'x' */
static void parse_shape(options *o, const char *v) {
  size_t k = 0, x[3], prod = 1;
  const char *p = v;
  for (;;) {
    size_t d = 0, n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n > ((size_t)-1 - (size_t)(*p - '0')) / 10) USAGE("--shape: '%s': a number is too large", ESC(v));
      n = 10 * n + (size_t)(*p++ - '0'), d++;
    }
    if (!d || !n || k == 3 || (*p && *p != 'x'))
      USAGE("--shape: '%s' is not HxWxC, LxC or D (integers >= 1 joined by 'x', e.g. 32x32x3)", ESC(v));
    x[k++] = n;
    if (!*p++) break;
  }
  o->shape = v, o->shape_nd = (int)k;
  o->shape_v[0] = k == 3 ? x[0] : 1, o->shape_v[1] = k == 1 ? 1 : x[k - 2], o->shape_v[2] = x[k - 1];
  for (k = 0; k < 3; k++) {
    if (prod > ((size_t)-1) / o->shape_v[k]) USAGE("--shape: '%s': h*w*c does not fit a size_t", ESC(v));
    prod *= o->shape_v[k];
  }
  o->shape_dim = prod;
}

static options parse_options(int argc, char **argv, int first, int cmd) {
  options o;
  int i, qmax = quad_degree_max();
  char qwhat[80];
  memset(&o, 0, sizeof o);
  o.cmd = cmd;
  for (i = 0; i < CLI_NCMD; i++) if (cmd == 1 << i) o.cmd_name = cmd_names[i];
  o.depth = 1, o.w_std = 1, o.b_std = 0, o.act = "relu", o.lr = 1, o.time = INFINITY;
  o.progress = CLI_ISATTY(2) ? 1 : 0;
  snprintf(qwhat, sizeof qwhat, " (0 = the library default)");
  for (i = first; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      int maxf = cmd & (C_KERNEL | C_ENTK) ? 2 : cmd & C_APPLY ? 1 : 0;
      if (o.nfiles >= maxf)
        USAGE(maxf ? "too many files for '%s': '%s'" : "'%s' takes no file arguments: '%s'", o.cmd_name, ESC(a));
      o.files[o.nfiles++] = a;
      continue;
    }
#define OPT(name, mask) (strcmp(a, name) == 0 && (allow(&o, a, mask), 1))
    if (OPT("--depth", C_ALL)) o.depth = size_arg(a, v, 0, 1000, " (hidden layers)"), o.depth_set = 1, i++;
    else if (OPT("--net", C_ALL)) o.net = need_value(a, v, "an architecture, e.g. 'conv(3x3,same) relu gap dense'"), i++;
    else if (OPT("--shape", C_ALL)) parse_shape(&o, need_value(a, v, "HxWxC, LxC or D (positive integers)")), i++;
    else if (OPT("--act", C_ALL)) o.act = need_value(a, v, "an activation (see ntk --help)"), i++;
    else if (OPT("--w-std", C_ALL)) o.w_std = real_arg(a, v, 1, " (the weight scale)"), i++;
    else if (OPT("--b-std", C_ALL)) o.b_std = real_arg(a, v, 0, " (the bias scale; 0 = no bias)"), i++;
    else if (OPT("--param", C_ALL)) {
      if (!v || (strcmp(v, "ntk") && strcmp(v, "standard")))
        USAGE("--param: '%s' is not ntk or standard", v ? ESC(v) : "");
      o.standard = strcmp(v, "standard") == 0, i++;
    } else if (OPT("--width", C_ALL)) o.width = size_arg(a, v, 1, (size_t)-1, " (hidden width)"), o.width_set = 1, i++;
    else if (OPT("--outputs", C_NET | C_DESCRIBE)) o.outputs = size_arg(a, v, 1, (size_t)-1, " (readout width)"), i++;
    else if (OPT("--quad-degree", C_ALL)) o.quad_degree = (int)size_arg(a, v, 0, (size_t)qmax, qwhat), i++;
    else if (OPT("--get", C_KERNEL | C_ENTK | C_PREDICT)) {
      if (!v || (strcmp(v, "ntk") && strcmp(v, "nngp"))) USAGE("--get: '%s' is not ntk or nngp", v ? ESC(v) : "");
      o.get_nngp = strcmp(v, "nngp") == 0, i++;
    } else if (OPT("--full", C_ENTK)) o.full = 1;
    else if (OPT("--seed", C_NET)) o.seed = uint_arg(a, v, 0, (unsigned long long)UINT64_MAX, ""), o.seed_set = 1, i++;
    else if (OPT("--params", C_APPLY | C_ENTK | C_TRAIN)) o.params = need_value(a, v, "a file"), i++;
    else if (OPT("--dim", C_PARAMS)) o.dim = size_arg(a, v, 1, (size_t)-1, " (the input dimension)"), i++;
    else if (OPT("--train", C_TRAIN | C_PREDICT)) o.train = need_value(a, v, "a file"), i++;
    else if (OPT("--targets", C_TRAIN | C_PREDICT)) o.targets = need_value(a, v, "a file"), i++;
    else if (OPT("--test", C_TRAIN | C_PREDICT)) o.test = need_value(a, v, "a file"), i++;
    else if (OPT("--lr", C_TRAIN | C_PREDICT)) o.lr = real_arg(a, v, 1, " (the learning rate)"), o.lr_set = 1, i++;
    else if (OPT("--steps", C_TRAIN)) o.steps = size_arg(a, v, 0, (size_t)-1, " (gradient-descent steps)"), o.steps_set = 1, i++;
    else if (OPT("--time", C_PREDICT)) {
      o.time = v && (strcmp(v, "inf") == 0 || strcmp(v, "infinity") == 0) ? INFINITY : real_arg(a, v, 0, " or inf (steps)");
      i++;
    } else if (OPT("--diag-reg", C_PREDICT)) o.diag_reg = real_arg(a, v, 0, " (the diagonal regulariser)"), i++;
    else if (OPT("--diag-reg-absolute", C_PREDICT)) o.diag_abs = 1;
    else if (OPT("--cov", C_PREDICT)) o.cov = need_value(a, v, "a file ('-': standard output)"), i++;
    else if (OPT("--save-params", C_TRAIN)) o.save_params = need_value(a, v, "a file ('-': standard output)"), i++;
    else if (OPT("--log-every", C_TRAIN)) o.log_every = size_arg(a, v, 1, (size_t)-1, " (steps between loss lines)"), i++;
    else if (OPT("--progress", C_ALL)) o.progress = 1;
    else if (OPT("--quiet", C_ALL)) o.progress = 0;
    else USAGE("unknown option '%s' (see ntk --help)", ESC(a));
#undef OPT
  }
  if (o.seed_set && o.params) USAGE("give --seed S or --params FILE, not both");
  if (o.net && o.depth_set) USAGE("give --depth L or --net SPEC, not both (--net 'L*(dense act) dense' is --depth L)");
  if (o.standard && !o.width_set && !o.net)
    USAGE("--param standard needs --width N (the standard parameterisation depends on the layer widths)");
  {
    /* standard input can be read once */
    const char *which[6];
    const char *names[6] = {"X1", "X2", "--params", "--train", "--targets", "--test"};
    int k, first_stdin = -1;
    which[0] = o.nfiles > 0 ? o.files[0] : NULL, which[1] = o.nfiles > 1 ? o.files[1] : NULL;
    which[2] = o.params, which[3] = o.train, which[4] = o.targets, which[5] = o.test;
    for (k = 0; k < 6; k++)
      if (which[k] && strcmp(which[k], "-") == 0) {
        if (first_stdin >= 0) USAGE("standard input ('-') can be read only once: given for %s and %s", names[first_stdin], names[k]);
        first_stdin = k;
      }
  }
  return o;
}

/* --act NAME: the library's activation parser (the same one --net's tokens go through) */
static ntk_layer parse_act(const char *s, int quad_degree) {
  ntk_layer l;
  char err[400];
  if (ntk_parse_activation(s, strlen(s), &l, NULL, err, sizeof err) != NTK_OK) {
    if (!strncmp(err, "unknown activation", 18)) USAGE("--act: %s", err);
    USAGE("--act %s: %s", ESC(s), err);
  }
  l.quad_degree = quad_degree;
  return l;
}

/* ---- the architecture: --net SPEC or the MLP options, and --shape ---------------------------- */
/* A network as the tool runs it: the layer list the front end checked (with the INPUT layer of
   --shape first, if given), its per-layer description, and the list the drivers are given: the
   same without an INPUT of a 1x1xD shape, which says nothing (a row is that vector anyway).
   The library counts any INPUT among the spatial kinds: ntk_kernel_ex and the ntk_net_* calls take
   their spatial drivers (the same numbers up to rounding); dropping a vector INPUT keeps --shape D
   equal to no --shape (the MLP path, bit for bit), and is the same network. */
typedef struct {
  ntk_layer *l;         /* n layers */
  ntk_layer_info *info; /* n entries */
  size_t n;
  const ntk_layer *run; /* the list for the drivers: l or l + 1 */
  size_t n_run;
} arch;

/* the shortest %g that reads back as x */
static const char *num(double x, char *buf, size_t cap) {
  snprintf(buf, cap, "%.15g", x);
  if (strtod(buf, NULL) != x) snprintf(buf, cap, "%.17g", x);
  return buf;
}
/* DIMS of a token: (a, 0) is a square a x a on 2-D input and a length a on 1-D input */
static const char *dims(size_t a, size_t b, int one_d, char *buf, size_t cap) {
  if (b) snprintf(buf, cap, "%zux%zu", a, b);
  else if (one_d) snprintf(buf, cap, "%zu", a);
  else snprintf(buf, cap, "%zux%zu", a, a);
  return buf;
}
/* a readable token of the text form for layers[i] (ntk_parse_net reports no token spans, so
   the token is rebuilt from the layer, positional arguments first: ntk_parse_net reads it back
   into the same layer, given the same defaults) */
static void layer_token(const options *o, const ntk_layer *ls, size_t n, size_t i, const ntk_layer_info *info,
                        char *buf, size_t cap) {
  const ntk_layer *L = &ls[i];
  char t[64], u[64], v[64];
  size_t k = 0;
  int first = 1;
#define TOK(...) (k += (size_t)snprintf(buf + k, k < cap ? cap - k : 0, __VA_ARGS__), k = k < cap ? k : cap - 1)
#define ARG(...) (TOK("%s", first ? "(" : ","), first = 0, TOK(__VA_ARGS__))
  buf[0] = 0;
  switch (L->kind) {
  case NTK_LAYER_INPUT:
    TOK("input");
    break;
  case NTK_LAYER_DENSE:
  case NTK_LAYER_CONV:
    TOK(L->kind == NTK_LAYER_DENSE ? "dense" : "conv");
    if (L->width) ARG("%zu", L->width);
    if (L->kind == NTK_LAYER_CONV) {
      /* a second extent 0: square on 2-D input, a length on 1-D (h = 1) input */
      int one_d = info && info[i].in[0] == 1;
      ARG("%s", dims(L->shape[0], L->shape[1], one_d, t, sizeof t));
      ARG("%s", L->padding == NTK_PAD_SAME ? "same" : L->padding == NTK_PAD_CIRCULAR ? "circular" : "valid");
      if ((L->stride[0] > 1) || L->stride[1] > 1)
        ARG("stride=%s", dims(L->stride[0] ? L->stride[0] : 1, L->stride[1], one_d, t, sizeof t));
    }
    if (L->w_std != o->w_std) ARG("w=%s", num(L->w_std, t, sizeof t));
    if (L->bias == NTK_BIAS_NONE) ARG("b=none");
    else if (L->bias == NTK_BIAS_ALWAYS && L->b_std == 0) ARG("b=0");
    else if (L->b_std != o->b_std) ARG("b=%s", num(L->b_std, t, sizeof t));
    if ((L->param == NTK_PARAM_STANDARD) != (o->standard != 0))
      ARG("param=%s", L->param == NTK_PARAM_STANDARD ? "standard" : "ntk");
    if (!first) TOK(")");
    break;
  case NTK_LAYER_AVG_POOL:
  case NTK_LAYER_SUM_POOL: {
    int one_d = info && info[i].in[0] == 1;
    TOK(L->kind == NTK_LAYER_AVG_POOL ? "avgpool" : "sumpool");
    ARG("%s", dims(L->shape[0], L->shape[1], one_d, t, sizeof t));
    ARG("%s", L->padding == NTK_PAD_SAME ? "same" : L->padding == NTK_PAD_CIRCULAR ? "circular" : "valid");
    if (L->flags & NTK_POOL_NORMALIZE_EDGES) ARG("edges");
    ARG("stride=%s", dims(L->stride[0] ? L->stride[0] : 1, L->stride[1], one_d, t, sizeof t));
    TOK(")");
    break;
  }
  case NTK_LAYER_GLOBAL_AVG_POOL: TOK("gap"); break;
  case NTK_LAYER_GLOBAL_SUM_POOL: TOK("gsp"); break;
  case NTK_LAYER_FLATTEN: TOK("flatten"); break;
  case NTK_LAYER_IDENTITY: TOK("id"); break;
  case NTK_LAYER_LAYER_NORM: {
    int ax = L->flags ? L->flags : NTK_AXIS_C;
    TOK("layernorm");
    if (ax != NTK_AXIS_C)
      ARG("axis=%s%s%s", ax & NTK_AXIS_H ? "h" : "", ax & NTK_AXIS_W ? "w" : "", ax & NTK_AXIS_C ? "c" : "");
    if (L->eps != 0 && L->eps != 1e-12) ARG("eps=%s", num(L->eps, t, sizeof t));
    if (!first) TOK(")");
    break;
  }
  case NTK_LAYER_FANOUT: {
    size_t j, depth = 0, last_branch = 0;
    const char *w = "sum";
    for (j = i + 1; j < n; j++) {
      if (ls[j].kind == NTK_LAYER_FANOUT) depth++;
      else if (ls[j].kind == NTK_LAYER_BRANCH && depth == 0) last_branch = j;
      else if (ls[j].kind == NTK_LAYER_FANIN_SUM || ls[j].kind == NTK_LAYER_FANIN_CONCAT) {
        if (depth--) continue;
        if (ls[j].kind == NTK_LAYER_FANIN_CONCAT) w = "concat";
        else if (L->n == 2 && last_branch == j - 1) w = "res";
        break;
      }
    }
    TOK("%s(", w);
    break;
  }
  case NTK_LAYER_BRANCH: TOK("|"); break;
  case NTK_LAYER_FANIN_SUM:
  case NTK_LAYER_FANIN_CONCAT: TOK(")"); break;
  case NTK_LAYER_ABRELU:
    if (L->a == 0 && L->b == 1) TOK("relu");
    else if (L->a == -1 && L->b == 1) TOK("abs");
    else if (L->b == 1) TOK("leaky_relu:%s", num(L->a, t, sizeof t));
    else TOK("abrelu:%s,%s", num(L->a, t, sizeof t), num(L->b, u, sizeof u));
    break;
  case NTK_LAYER_ERF:
  case NTK_LAYER_SIN: {
    ntk_layer d = L->kind == NTK_LAYER_ERF ? ntk_erf() : ntk_sin(), c = ntk_cos();
    const char *nm = L->kind == NTK_LAYER_ERF ? "erf" : "sin";
    if (L->a == d.a && L->b == d.b && L->c == d.c) TOK("%s", nm);
    else if (L->kind == NTK_LAYER_SIN && L->a == c.a && L->b == c.b && L->c == c.c) TOK("cos");
    else TOK("%s:%s,%s,%s", nm, num(L->a, t, sizeof t), num(L->b, u, sizeof u), num(L->c, v, sizeof v));
    break;
  }
  case NTK_LAYER_GELU: TOK("gelu"); break;
  case NTK_LAYER_SIGN: TOK("sign"); break;
  case NTK_LAYER_RBF: TOK("rbf:%s", num(L->a, t, sizeof t)); break;
  case NTK_LAYER_EXP: TOK("exp:%s,%s", num(L->a, t, sizeof t), num(L->b, u, sizeof u)); break;
  case NTK_LAYER_TANH: TOK("tanh"); break;
  case NTK_LAYER_SOFTPLUS: TOK("softplus"); break;
  default: TOK("layer-kind-%d", (int)L->kind); break;
  }
#undef ARG
#undef TOK
}

/* a shape as the user wrote --shape: a vector (h = w = 1) as C, a 1-D sequence (given as LxC)
   as WxC, else HxWxC; channel count 0 (unknown: a width-0 layer, or no --shape) as ? */
static const char *shape_str(const options *o, const size_t *s, char *buf, size_t cap) {
  char c[32];
  if (s[2]) snprintf(c, sizeof c, "%zu", s[2]); else snprintf(c, sizeof c, "?");
  if (s[0] == 1 && s[1] == 1) snprintf(buf, cap, "%s", c);
  else if (s[0] == 1 && o->shape_nd < 3) snprintf(buf, cap, "%zux%s", s[1], c);
  else snprintf(buf, cap, "%zux%zux%s", s[0], s[1], c);
  return buf;
}

/* The architecture of the options: --net SPEC through the library's parser (the MLP options
   as its defaults), or the MLP; --shape's INPUT first; then the library's front end with the
   input dimension dim (0: not known yet). A description the parser or the front end refuses
   is a usage error naming the token and the library's reason. */
static arch build_arch(const options *o, size_t outputs, size_t dim) {
  arch A;
  size_t L = 0, in = o->shape ? 1 : 0, bad, i;
  const char *why;
  ntk_status st;
  ntk_layer act = parse_act(o->act, o->quad_degree);
  memset(&A, 0, sizeof A);
  if (o->shape) dim = o->shape_dim;
  if (o->net) {
    ntk_parse_defaults d = ntk_parse_defaults_init();
    char err[600];
    size_t pos;
    d.width = o->width, d.outputs = outputs, d.w_std = o->w_std, d.b_std = o->b_std;
    d.param = o->standard ? NTK_PARAM_STANDARD : NTK_PARAM_NTK, d.act = act, d.quad_degree = o->quad_degree;
    st = ntk_parse_net(o->net, &d, NULL, 0, &L, &pos, err, sizeof err);
    if (st != NTK_OK) USAGE("--net: %s", ESC(err));
    if (L > ((size_t)-1) / sizeof(ntk_layer) - 1 || L > ((size_t)-1) / sizeof(ntk_layer_info) - 1)
      FAIL("--net: %zu layers: out of memory", L);
    A.l = (ntk_layer *)malloc((L + in) * sizeof(ntk_layer));
    if (!A.l) FAIL("--net: %zu layers: out of memory", L);
    st = ntk_parse_net(o->net, &d, A.l + in, L, &L, &pos, err, sizeof err);
    if (st != NTK_OK) USAGE("--net: %s", ESC(err));
  } else {
    A.l = (ntk_layer *)malloc((2 * o->depth + 1 + in) * sizeof(ntk_layer));
    if (!A.l) FAIL("out of memory");
    L = ntk_mlp(A.l + in, 2 * o->depth + 1, o->depth, o->width, act, o->w_std, o->b_std, outputs);
    if (!L) USAGE("--depth %zu: too deep for this tool (at most 1000)", o->depth);
    if (o->standard)
      for (i = 0; i < L; i++)
        if (A.l[in + i].kind == NTK_LAYER_DENSE) A.l[in + i].param = NTK_PARAM_STANDARD;
  }
  if (in) A.l[0] = ntk_input(o->shape_v[0], o->shape_v[1], o->shape_v[2]);
  A.n = L + in;
  A.info = (ntk_layer_info *)malloc(A.n * sizeof(ntk_layer_info));
  if (!A.info) FAIL("out of memory");
  memset(A.info, 0, A.n * sizeof(ntk_layer_info));
  st = ntk_layers_describe(A.l, A.n, dim, A.info, &bad, &why);
  if (st == NTK_OK) st = ntk_layers_check(A.l, A.n); /* the value rules beyond the front end's */
  if (st != NTK_OK) {
    char tok[300], sh[64];
    const char *src = o->net ? "--net" : "the architecture";
    if (st == NTK_ERR_OUT_OF_MEMORY) FAIL("the architecture: %s", ntk_status_string(st));
    if (bad < A.n) {
      /* the offending layer's input: the previous layer's output (a BRANCH's output is the
         next branch's start), or the network's input */
      size_t inshape[3] = {1, 1, dim};
      if (o->shape) memcpy(inshape, o->shape_v, sizeof inshape);
      if (bad > 0) memcpy(inshape, A.info[bad - 1].out, sizeof inshape);
      layer_token(o, A.l, A.n, bad, A.info, tok, sizeof tok);
      if (A.l[bad].kind == NTK_LAYER_FANIN_SUM || A.l[bad].kind == NTK_LAYER_FANIN_CONCAT ||
          A.l[bad].kind == NTK_LAYER_BRANCH) { /* a join: named by its fan's opening token */
        size_t j = bad, depth = 0;
        while (j-- > 0) {
          if (A.l[j].kind == NTK_LAYER_FANIN_SUM || A.l[j].kind == NTK_LAYER_FANIN_CONCAT) depth++;
          else if (A.l[j].kind == NTK_LAYER_FANOUT && depth-- == 0) break;
        }
        if (j < bad) {
          char fan[64];
          layer_token(o, A.l, A.n, j, A.info, fan, sizeof fan);
          USAGE("%s: at layer %zu, the '%s' of '%s...)' (layer %zu) (input %s): %s", src, bad,
                A.l[bad].kind == NTK_LAYER_BRANCH ? "|" : ")", ESC(fan), j,
                shape_str(o, A.info[bad - 1].out, sh, sizeof sh), why && *why ? why : ntk_status_string(st));
        }
      }
      USAGE("%s: at layer %zu '%s' (input %s): %s", src, bad, ESC(tok),
            shape_str(o, inshape, sh, sizeof sh), why && *why ? why : ntk_status_string(st));
    }
    USAGE("%s is refused by the library: %s", src, why && *why ? why : ntk_status_string(st));
  }
  A.run = A.l, A.n_run = A.n;
  if (in && o->shape_v[0] == 1 && o->shape_v[1] == 1 && A.n > 1) A.run = A.l + 1, A.n_run = A.n - 1;
  return A;
}
static void arch_free(arch *A) { free(A->l), free(A->info), memset(A, 0, sizeof *A); }

/* a data file's rows against --shape */
static void check_shape(const options *o, const matrix *m) {
  if (o->shape && m->cols != o->shape_dim)
    FAIL("%s:%zu: a row has %zu column%s, but --shape %s is %zu numbers (h*w*c = %zux%zux%zu)",
         ESC(display_name(m->name)), m->first_line, m->cols, m->cols == 1 ? "" : "s", ESC(o->shape), o->shape_dim,
         o->shape_v[0], o->shape_v[1], o->shape_v[2]);
}

/* ntk describe: one line per layer, then the total parameter count */
static void describe(const options *o) {
  arch A = build_arch(o, o->outputs ? o->outputs : 1, 0);
  size_t i, total = 0, depth = 0;
  int unknown = 0, overflow = 0;
  char tok[300], ind[300], si[64], so[64], np[32];
  printf("%-5s  %-32s  %-12s  %-12s  %-8s  %s\n", "#", "layer", "in", "out", "gaussian", "params");
  for (i = 0; i < A.n; i++) {
    const ntk_layer_info *f = &A.info[i];
    ntk_layer_kind k = A.l[i].kind;
    int parameterised = k == NTK_LAYER_DENSE || k == NTK_LAYER_CONV;
    size_t d;
    if (k == NTK_LAYER_BRANCH || k == NTK_LAYER_FANIN_SUM || k == NTK_LAYER_FANIN_CONCAT) depth -= depth > 0;
    layer_token(o, A.l, A.n, i, A.info, tok, sizeof tok);
    for (d = 0; d < 2 * depth && d + 1 < sizeof ind; d++) ind[d] = ' ';
    ind[d] = 0;
    if (strlen(ind) + strlen(tok) + 1 < sizeof ind) strcat(ind, tok);
    if (parameterised && f->n_params == 0) snprintf(np, sizeof np, "?"), unknown = 1;
    else if (f->n_params == (size_t)-1) snprintf(np, sizeof np, "overflow"), overflow = 1;
    else snprintf(np, sizeof np, "%zu", f->n_params);
    if (!overflow && f->n_params != (size_t)-1) {
      if (total > (size_t)-1 - f->n_params) overflow = 1; else total += f->n_params;
    }
    printf("%-5zu  %-32s  %-12s  %-12s  %-8s  %s\n", i, ind,
           shape_str(o, f->in, si, sizeof si), shape_str(o, f->out, so, sizeof so), f->gaussian ? "yes" : "no", np);
    if (k == NTK_LAYER_FANOUT || k == NTK_LAYER_BRANCH) depth++;
  }
  if (overflow) printf("total parameters: more than fit a size_t\n");
  else if (unknown) printf("total parameters: unknown (a layer's width or input channels are not set: give --width N%s)\n",
                           o->shape ? "" : " and --shape");
  else printf("total parameters: %zu\n", total);
  if (fflush(stdout) != 0 || ferror(stdout)) FAIL("write error on standard output: %s", strerror(errno));
  arch_free(&A);
}

/* ---- progress ------------------------------------------------------------------------------ */
/* One bar for the whole run: the command plans its stages with a rough cost each; the library's
   callbacks report the fraction of the current stage; the bar shows the stage and the overall
   fraction, monotone, and reaches 100 % once (prog_end). */
#define CLI_MAX_STAGES 8
static struct {
  int on, n, cur, last_pct;
  const char *label[CLI_MAX_STAGES], *lib[CLI_MAX_STAGES];
  double w[CLI_MAX_STAGES], total, base, shown, t0;
} prog;

static double now_s(void) {
#if defined(CLI_POSIX) && defined(CLOCK_MONOTONIC)
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
  return (double)time(NULL);
}
/* a stage: label shown, lib = the library's stage name (NULL: any), cost in arbitrary units */
static void prog_plan(const char *label, const char *lib, double cost) {
  if (prog.n == CLI_MAX_STAGES) return;
  prog.label[prog.n] = label, prog.lib[prog.n] = lib, prog.w[prog.n] = cost > 0 ? cost : 1;
  prog.total += prog.w[prog.n++];
}
static void prog_draw(double frac) {
  int pct;
  double el;
  if (frac < prog.shown) frac = prog.shown; /* monotone */
  if (frac > 0.999) frac = 0.999;           /* 100 % only from prog_end */
  pct = (int)(100 * frac);
  if (pct == prog.last_pct) return;
  prog.shown = frac, prog.last_pct = pct;
  el = now_s() - prog.t0;
  fprintf(stderr, "\r%-18s [%-30.*s] %3d%%", prog.label[prog.cur], (int)(30 * frac), "##############################", pct);
  if (frac > 0.02) fprintf(stderr, "  ~%.0fs left ", el * (1 - frac) / frac);
  else fprintf(stderr, "             ");
  fflush(stderr);
  cli_bar_open = 1;
}
/* begins planned stage i (the tool calls it before each library call) */
static void prog_stage(int i) {
  int j;
  if (!prog.on || i >= prog.n) return;
  if (prog.t0 == 0) prog.t0 = now_s();
  for (j = prog.cur; j < i; j++) prog.base += prog.w[j];
  prog.cur = i;
  prog.last_pct = -1;
  prog_draw(prog.base / prog.total);
}
static int prog_cb(const char *stage, double done, void *user) {
  (void)user;
  if (!prog.on) return 0;
  if (prog.lib[prog.cur] && stage && strcmp(stage, prog.lib[prog.cur]) != 0) {
    int j; /* the library moved on to its next stage (the predictor's cholesky) */
    for (j = prog.cur + 1; j < prog.n; j++)
      if (prog.lib[j] && strcmp(stage, prog.lib[j]) == 0) { prog_stage(j); break; }
  }
  if (!(done >= 0)) done = 0;
  if (done > 1) done = 1;
  prog_draw((prog.base + prog.w[prog.cur] * done) / prog.total);
  return 0;
}
static void prog_end(void) {
  if (!prog.on || !cli_bar_open) return;
  fprintf(stderr, "\r%-18s [%s] 100%%  %.1fs           \n", "done", "##############################", now_s() - prog.t0);
  cli_bar_open = 0;
  prog.on = 0;
}
/* rough costs (flop-like units) */
static double cost_kernel(const options *o, size_t n_layers, double n1, double n2, int sym, double dim) {
  /* the adaptive quadrature of tanh/softplus: ~10⁴ φ evaluations per entry and layer (more
     with a large --quad-degree, which is a minimum node count per 1-D rule) */
  double per = 40, q = o->quad_degree > 100 ? o->quad_degree : 100;
  const char *a = o->act;
  if (!strncmp(a, "tanh", 4) || !strncmp(a, "softplus", 8)) per = 10 * q * q;
  return (sym ? n1 * (n1 + 1) / 2 : n1 * n2) * (dim + (double)((n_layers + 1) / 2) * per);
}

static ntk_kernel_desc kdesc(const options *o) {
  ntk_kernel_desc d;
  memset(&d, 0, sizeof d);
  if (o->progress) d.progress = prog_cb;
  return d;
}

/* ---- finite networks ---------------------------------------------------------------------- */
static void make_net(const options *o, ntk_net *net, size_t dim, size_t outputs) {
  arch A;
  size_t i;
  ntk_status st;
  if (!o->width_set && !o->net) USAGE("%s needs --width N (the hidden width of the finite network)", o->cmd_name);
  if (!o->seed_set && !o->params) USAGE("%s needs --seed S or --params FILE", o->cmd_name);
  A = build_arch(o, outputs, dim);
  for (i = 0; i < A.n; i++)
    if ((A.l[i].kind == NTK_LAYER_DENSE || A.l[i].kind == NTK_LAYER_CONV) && A.l[i].width == 0) {
      char tok[300];
      layer_token(o, A.l, A.n, i, A.info, tok, sizeof tok);
      USAGE("%s needs --width N (the width of layer %zu '%s' of the finite network)", o->cmd_name, i, ESC(tok));
    }
  st = ntk_net_init(net, A.run, A.n_run, dim, (uint64_t)o->seed);
  check_supported(st);
  if (st == NTK_ERR_BAD_LAYER && A.run[A.n_run - 1].kind != NTK_LAYER_DENSE)
    USAGE("--net: a finite network ends with a dense layer (its readout)");
  if (st == NTK_ERR_OVERFLOW || st == NTK_ERR_OUT_OF_MEMORY) {
    if (o->net)
      FAIL("the network (--net, input dimension %zu) is too large: %s", dim, ntk_status_string(st));
    FAIL("the network (--width %zu, --depth %zu, input dimension %zu) is too large: %s", o->width, o->depth, dim, ntk_status_string(st));
  }
  check(st, "network");
  arch_free(&A);
  if (o->params) {
    matrix p = parse_matrix(o->params, 1);
    if (p.rows != net->n_params)
      FAIL("%s: %zu parameters, expected %zu for this architecture (dim %zu)", ESC(display_name(o->params)), p.rows, net->n_params, dim);
    memcpy(net->params, p.v, p.rows * sizeof(ntk_real));
    free(p.v);
  }
}

static matrix need_file(const options *o, int idx, const char *what) {
  if (o->nfiles <= idx) USAGE("%s needs the %s file", o->cmd_name, what);
  return parse_matrix(o->files[idx], 0);
}

static void same_dim(const matrix *a, const matrix *b) {
  if (a->cols != b->cols)
    FAIL("%s has %zu columns but %s has %zu", ESC(display_name(b->name)), b->cols, ESC(display_name(a->name)), a->cols);
}

static ntk_real *alloc_real(size_t a, size_t b) {
  ntk_real *p;
  if (b && a > ((size_t)-1) / b / sizeof(ntk_real)) FAIL("result too large (%zu x %zu)", a, b);
  p = (ntk_real *)malloc((a * b > 0 ? a * b : 1) * sizeof(ntk_real));
  if (!p) FAIL("out of memory for a %zu x %zu result", a, b);
  return p;
}

/* training's callback: the loss log, the progress bar, and the last step seen (the library
   calls it at the step that diverged) */
typedef struct {
  size_t log_every, steps, last_step;
  double last_loss;
  int progress;
} train_state;
static int train_cb(size_t step, double loss, void *user) {
  train_state *t = (train_state *)user;
  t->last_step = step, t->last_loss = loss;
  if (t->log_every && (step % t->log_every == 0 || step == t->steps) && cli_finite(loss)) {
    if (cli_bar_open) fprintf(stderr, "\r%-70s\r", "");
    fprintf(stderr, "step %zu loss %.10g\n", step, loss);
    cli_bar_open = 0, prog.last_pct = -1;
  }
  if (t->progress) prog_cb("training", t->steps ? (double)step / (double)t->steps : 1, NULL);
  return 0;
}

/* ---- outputs -------------------------------------------------------------------------------- */
/* opened before the work starts (a path that cannot be written fails at once), written at the
   end, renamed into place only after standard output has been written */
static void out_open(outfile *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->path = path;
  if (!path) return;
  if (strcmp(path, "-") == 0) { o->to_stdout = 1; return; }
#ifdef CLI_POSIX
  {
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) FAIL("%s: cannot write: it is a directory", ESC(path));
  }
  snprintf(o->tmp, sizeof o->tmp, "%s.ntk-tmp-%ld", path, (long)getpid());
#else
  snprintf(o->tmp, sizeof o->tmp, "%s.ntk-tmp", path);
#endif
  if (strlen(path) + 40 > sizeof o->tmp) FAIL("%s: file name too long", ESC(path));
  o->f = fopen(o->tmp, "w");
  if (!o->f) { o->tmp[0] = 0; FAIL("%s: cannot write: %s", ESC(path), strerror(errno)); }
  cli_pending[cli_npending++] = o;
}
static void out_write(outfile *o, const ntk_real *v, size_t rows, size_t cols) {
  if (!o->path || o->to_stdout) return;
  print_rows(o->f, v, rows, cols);
  if (fflush(o->f) != 0 || ferror(o->f)) FAIL("%s: write error: %s", ESC(o->path), strerror(errno));
}
/* the main result on standard output, then an output file that is '-', then the renames */
static void all_finite(const char *what, const ntk_real *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (!cli_finite((double)v[i])) check_compute(NTK_ERR_NON_FINITE, what);
}
static void finish_outputs(const char *what, const ntk_real *v, size_t rows, size_t cols, outfile *o,
                           const char *section, const ntk_real *ov, size_t orows, size_t ocols) {
  int i;
  /* NaN/Inf are never printed, whatever the library said (it reports them itself too) */
  all_finite(what, v, rows * cols);
  if (ov) all_finite(section, ov, orows * ocols);
  prog_end();
  print_rows(stdout, v, rows, cols);
  if (o && o->to_stdout) printf("# %s\n", section), print_rows(stdout, ov, orows, ocols);
  if (fflush(stdout) != 0 || ferror(stdout)) FAIL("write error on standard output: %s", strerror(errno));
  for (i = 0; i < cli_npending; i++) {
    outfile *p = cli_pending[i];
    if (fclose(p->f) != 0) { p->f = NULL; FAIL("%s: write error: %s", ESC(p->path), strerror(errno)); }
    p->f = NULL;
    if (rename(p->tmp, p->path) != 0) FAIL("%s: cannot write: %s", ESC(p->path), strerror(errno));
    p->tmp[0] = 0;
  }
  cli_npending = 0;
}

/* the stable learning rate 2N/λ_max of the network's empirical NTK on the training set
   (all n·k outputs), or -1 when that costs too much (an (n·k)² kernel and its eigenvalues:
   below a second up to n·k = 1500) */
static double stable_lr(const ntk_net *net, const matrix *x) {
  size_t N = x->rows * net->outputs;
  double lr = -1;
  ntk_real *T;
  if (N > 1500) return -1;
  T = (ntk_real *)malloc(N * N * sizeof(ntk_real));
  if (!T) return -1;
  if (ntk_net_empirical_kernel(net, x->v, x->rows, NULL, 0, 1, NULL, T) != NTK_OK ||
      ntk_max_learning_rate(T, N, 1, &lr) != NTK_OK || !cli_finite(lr))
    lr = -1;
  free(T);
  return lr;
}

#ifndef NTK_CLI_NO_MAIN
int main(int argc, char **argv) {
  options o;
  const char *cmd;
  int c, ci = -1;
  (void)parse_matrix_text; /* the fuzz target's entry (tests/fuzz/fuzz_matrix.c) */
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  cmd = argv[1];
  for (c = 0; c < CLI_NCMD; c++) if (strcmp(cmd, cmd_names[c]) == 0) ci = c;
  if (ci < 0) USAGE("unknown command '%s' (kernel, apply, entk, params, train, predict, describe)", ESC(cmd));
  cli_cmd = cmd_names[ci];
  o = parse_options(argc, argv, 2, 1 << ci);
  prog.on = o.progress;
  if (o.cmd != C_DESCRIBE) { /* the description's usage errors before any file is read */
    arch A = build_arch(&o, 1, 0);
    arch_free(&A);
  }
  if (o.cmd == C_DESCRIBE) {
    describe(&o);
  } else if (o.cmd == C_KERNEL) {
    ntk_kernel_desc d = kdesc(&o);
    matrix x1 = need_file(&o, 0, "X1"), x2;
    arch A;
    size_t n2;
    ntk_real *out;
    check_shape(&o, &x1);
    if (o.nfiles == 2) x2 = parse_matrix(o.files[1], 0), same_dim(&x1, &x2);
    A = build_arch(&o, 1, x1.cols);
    n2 = o.nfiles == 2 ? x2.rows : x1.rows;
    out = alloc_real(x1.rows, n2);
    prog_plan("kernel", "kernel", 1);
    prog_stage(0);
    check_compute(ntk_kernel_ex(A.run, A.n_run, x1.v, x1.rows, o.nfiles == 2 ? x2.v : NULL, n2, x1.cols,
                                o.get_nngp ? out : NULL, o.get_nngp ? NULL : out, &d), "the kernel");
    finish_outputs("the kernel", out, x1.rows, n2, NULL, NULL, NULL, 0, 0);
    arch_free(&A);
  } else if (o.cmd == C_APPLY) {
    ntk_net net;
    matrix x = need_file(&o, 0, "X");
    ntk_real *f;
    check_shape(&o, &x);
    make_net(&o, &net, x.cols, o.outputs ? o.outputs : 1);
    f = alloc_real(x.rows, net.outputs);
    check_compute(ntk_net_apply(&net, x.v, x.rows, f), "the network's outputs");
    finish_outputs("the network's outputs", f, x.rows, net.outputs, NULL, NULL, NULL, 0, 0);
  } else if (o.cmd == C_ENTK) {
    ntk_net net;
    matrix x1 = need_file(&o, 0, "X1"), x2;
    size_t k, r1, r2;
    ntk_real *out;
    check_shape(&o, &x1);
    make_net(&o, &net, x1.cols, o.outputs ? o.outputs : 1);
    if (o.nfiles == 2) x2 = parse_matrix(o.files[1], 0), same_dim(&x1, &x2);
    k = net.outputs;
    r1 = x1.rows * (o.full ? k : 1), r2 = (o.nfiles == 2 ? x2.rows : x1.rows) * (o.full ? k : 1);
    out = alloc_real(r1, r2);
    check_compute(ntk_net_empirical_kernel(&net, x1.v, x1.rows, o.nfiles == 2 ? x2.v : NULL,
                                           o.nfiles == 2 ? x2.rows : 0, o.full, o.get_nngp ? out : NULL,
                                           o.get_nngp ? NULL : out), "the empirical kernel");
    finish_outputs("the empirical kernel", out, r1, r2, NULL, NULL, NULL, 0, 0);
  } else if (o.cmd == C_PARAMS) {
    ntk_net net;
    if (o.shape && o.dim && o.dim != o.shape_dim)
      USAGE("--dim %zu but --shape %s is %zu numbers", o.dim, ESC(o.shape), o.shape_dim);
    if (o.shape) o.dim = o.shape_dim;
    if (!o.dim) USAGE("params needs --dim D (the input dimension) or --shape S");
    if (!o.seed_set) USAGE("params needs --seed S");
    make_net(&o, &net, o.dim, o.outputs ? o.outputs : 1);
    finish_outputs("the parameters", net.params, net.n_params, 1, NULL, NULL, NULL, 0, 0);
  } else if (o.cmd == C_TRAIN) {
    ntk_net net;
    ntk_train_desc td;
    train_state ts;
    outfile sp;
    matrix x, y, xt;
    ntk_real *f, *theta0;
    ntk_status st;
    if (!o.train || !o.targets) USAGE("train needs --train X and --targets Y");
    if (!o.lr_set) USAGE("train needs --lr ETA (the learning rate, a number > 0)");
    if (!o.steps_set) USAGE("train needs --steps T (the number of gradient-descent steps)");
    out_open(&sp, o.save_params);
    x = parse_matrix(o.train, 0), y = parse_matrix(o.targets, 0);
    if (y.rows != x.rows)
      FAIL("%s has %zu rows but %s has %zu", ESC(display_name(o.targets)), y.rows, ESC(display_name(o.train)), x.rows);
    if (o.outputs && o.outputs != y.cols)
      FAIL("--outputs %zu but %s has %zu columns", o.outputs, ESC(display_name(o.targets)), y.cols);
    if (o.test) xt = parse_matrix(o.test, 0), same_dim(&x, &xt); else xt = x;
    check_shape(&o, &x);
    make_net(&o, &net, x.cols, y.cols);
    if (net.outputs != y.cols)
      FAIL("the network has %zu outputs but %s has %zu columns", net.outputs, ESC(display_name(o.targets)), y.cols);
    theta0 = alloc_real(net.n_params, 1);
    memcpy(theta0, net.params, net.n_params * sizeof(ntk_real));
    memset(&td, 0, sizeof td);
    memset(&ts, 0, sizeof ts);
    ts.log_every = o.log_every, ts.steps = o.steps, ts.progress = o.progress;
    td.callback = train_cb, td.user = &ts, td.every = 1;
    prog_plan("training", "training", 1);
    prog_stage(0);
    st = ntk_net_train_ex(&net, x.v, y.v, x.rows, o.lr, o.steps, &td);
    if (st == NTK_ERR_NON_FINITE) {
      double lr_max;
      char lossbuf[40];
      snprintf(lossbuf, sizeof lossbuf, "%g", ts.last_loss);
      memcpy(net.params, theta0, net.n_params * sizeof(ntk_real));
      lr_max = stable_lr(&net, &x);
      if (lr_max < 0)
        FAIL("training diverged at step %zu of %zu (loss %s): the learning rate --lr %g is likely above the stable "
             "2N/λ_max of the network's NTK (not computed for N = %zu outputs); use a smaller --lr",
             ts.last_step, o.steps, lossbuf, o.lr, x.rows * net.outputs);
      if (o.lr > lr_max)
        FAIL("training diverged at step %zu of %zu (loss %s): the learning rate --lr %g is above the stable "
             "2N/λ_max = %.4g of the network's NTK at initialisation (N = %zu outputs); use a smaller --lr",
             ts.last_step, o.steps, lossbuf, o.lr, lr_max, x.rows * net.outputs);
      FAIL("training diverged at step %zu of %zu (loss %s) although --lr %g is below the stable 2N/λ_max = %.4g "
           "of the network's NTK at initialisation (the network left its linear regime); use a smaller --lr",
           ts.last_step, o.steps, lossbuf, o.lr, lr_max);
    }
    check(st, "train");
    free(theta0);
    f = alloc_real(xt.rows, net.outputs);
    check_compute(ntk_net_apply(&net, xt.v, xt.rows, f), "the trained network's outputs");
    out_write(&sp, net.params, net.n_params, 1);
    finish_outputs("the trained network's outputs", f, xt.rows, net.outputs, &sp, "parameters", net.params, net.n_params, 1);
  } else {
    arch A;
    ntk_kernel_desc d = kdesc(&o);
    ntk_predictor pr;
    ntk_predictor_desc pd;
    outfile cf;
    matrix x, y, xt;
    size_t L, n, m, k;
    ntk_real *Ktr, *Ttr, *Kte, *Tte, *Ktt = NULL, *Ttt = NULL, *mean, *cov = NULL;
    ntk_status st;
    int kernel_regression, train_rows_only;
    double dn, dm;
    if (!o.train || !o.targets) USAGE("predict needs --train X and --targets Y");
    out_open(&cf, o.cov);
    x = parse_matrix(o.train, 0), y = parse_matrix(o.targets, 0);
    if (y.rows != x.rows)
      FAIL("%s has %zu rows but %s has %zu", ESC(display_name(o.targets)), y.rows, ESC(display_name(o.train)), x.rows);
    if (o.test) xt = parse_matrix(o.test, 0), same_dim(&x, &xt); else xt = x;
    check_shape(&o, &x);
    A = build_arch(&o, 1, x.cols);
    L = A.n_run;
    n = x.rows, m = xt.rows, k = y.cols, dn = (double)n, dm = (double)m;
    Ktr = alloc_real(n, n), Ttr = alloc_real(n, n), Kte = alloc_real(m, n), Tte = alloc_real(m, n);
    mean = alloc_real(m, k);
    train_rows_only = o.time == INFINITY && !o.cov && !o.test;
    kernel_regression = o.time == INFINITY && (!o.cov || o.get_nngp);
    /* the stages: 0 train kernel, 1 test kernel, 2 test-test kernel, 3 eigendecomposition,
       4 cholesky (the predictor's), or 3 kernel regression */
    prog_plan("train kernel", "kernel", cost_kernel(&o, L, dn, dn, 1, (double)x.cols));
    prog_plan("test kernel", "kernel", train_rows_only ? 0 : cost_kernel(&o, L, dm, dn, 0, (double)x.cols));
    prog_plan("test-test kernel", "kernel", o.cov ? cost_kernel(&o, L, dm, dm, 1, (double)x.cols) : 0);
    if (kernel_regression) prog_plan("kernel regression", NULL, dn * dn * dn / 3 + dm * dn * dn);
    else prog_plan("eigendecomposition", "eigendecomposition", 9 * dn * dn * dn), prog_plan("cholesky", "cholesky", dn * dn * dn / 3);
    prog_stage(0);
    check_compute(ntk_kernel_ex(A.run, L, x.v, n, NULL, 0, x.cols, Ktr, Ttr, &d), "the train kernel");
    if (!train_rows_only) {
      prog_stage(1);
      check_compute(ntk_kernel_ex(A.run, L, xt.v, m, x.v, n, x.cols, Kte, Tte, &d), "the test kernel");
    }
    if (o.cov) {
      Ktt = alloc_real(m, m), Ttt = alloc_real(m, m), cov = alloc_real(m, m);
      prog_stage(2);
      check_compute(ntk_kernel_ex(A.run, L, xt.v, m, NULL, 0, x.cols, Ktt, Ttt, &d), "the test-test kernel");
    }
    prog_stage(3);
    if (train_rows_only) { /* kernel regression on the train rows: y, if the kernel is PD */
      st = ntk_gp_inference(o.get_nngp ? Ktr : Ttr, n, y.v, k, o.get_nngp ? Ktr : Ttr, n, NULL,
                            o.diag_reg, o.diag_abs, mean, NULL);
      if (st == NTK_ERR_NOT_POSITIVE_DEFINITE)
        FAIL("the train kernel is not positive definite (duplicate inputs?): use --diag-reg, e.g. --diag-reg 1e-6");
      check_compute(st, "the kernel regression");
      memcpy(mean, y.v, n * k * sizeof(ntk_real)); /* y exactly, not K·K⁻¹·y rounded */
    } else if (o.time == INFINITY && !o.cov) { /* kernel regression */
      st = ntk_gp_inference(o.get_nngp ? Ktr : Ttr, n, y.v, k, o.get_nngp ? Kte : Tte, m, NULL,
                            o.diag_reg, o.diag_abs, mean, NULL);
      if (st == NTK_ERR_NOT_POSITIVE_DEFINITE)
        FAIL("the train kernel is not positive definite (duplicate inputs?): use --diag-reg, e.g. --diag-reg 1e-6");
      check_compute(st, "the kernel regression");
    } else if (o.time == INFINITY && o.get_nngp) {
      st = ntk_gp_inference(Ktr, n, y.v, k, Kte, m, Ktt, o.diag_reg, o.diag_abs, mean, cov);
      if (st == NTK_ERR_NOT_POSITIVE_DEFINITE)
        FAIL("the train kernel is not positive definite: use --diag-reg, e.g. --diag-reg 1e-6");
      check_compute(st, "the gp inference");
    } else {
      memset(&pd, 0, sizeof pd);
      if (o.progress) pd.progress = prog_cb;
      check_compute(ntk_predictor_init_ex(&pr, o.get_nngp ? Ktr : Ttr, n, y.v, k, NULL, o.lr, o.diag_reg, o.diag_abs, &pd),
                    "the predictor");
      if (o.time == INFINITY && pr.chol_status != NTK_OK)
        FAIL("the train kernel is not positive definite: use --diag-reg, e.g. --diag-reg 1e-6");
      if (o.get_nngp) st = ntk_ensemble_nngp(&pr, o.time, Kte, m, Ktt, mean, cov);
      else st = ntk_ensemble_ntk(&pr, o.time, Tte, m, Ktr, Kte, Ktt, mean, cov);
      check_compute(st, "the ensemble prediction");
      if (!o.test && o.time == INFINITY) memcpy(mean, y.v, n * k * sizeof(ntk_real)); /* y exactly */
    }
    out_write(&cf, cov, m, m);
    finish_outputs("the predicted mean", mean, m, k, &cf, "covariance", cov, m, m);
    arch_free(&A);
  }
  return 0;
}
#endif /* NTK_CLI_NO_MAIN */
