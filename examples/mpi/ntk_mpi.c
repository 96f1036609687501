/* build/ntk-mpi — `ntk kernel` and `ntk predict` (kernel regression, t = ∞) on many processes:
   MPI + ScaLAPACK, for kernels too large for one machine. The library stays dependency-free;
   only this program links MPI. Same options and output as build/ntk for what it supports
   (../ntk_cli.c, ../../README.md), plus the distribution:

     mpirun -np R ntk-mpi kernel  [ARCH] [--get ntk|nngp] X1 [X2]
     mpirun -np R ntk-mpi predict [ARCH] --train X --targets Y [--test XT] [--diag-reg R]
                                  [--diag-reg-absolute] [--get ntk|nngp]
     ARCH: --depth L --act NAME --w-std S --b-std S --param ntk|standard --width N
           --quad-degree G (an MLP, as build/ntk);   distribution: --block NB (64) --grid PxQ

   The train kernel is a 2-D block-cyclic matrix (NB × NB blocks on a P × Q process grid,
   ScaLAPACK's layout); each process computes its own blocks on and below the diagonal with
   ntk_kernel_tiles (select = "my block"), so every entry equals the single-process kernel bit
   for bit, whatever NB and the grid. pdpotrf/pdpotrs solve (K + λI)·α = y (λ = r·tr K/n, or r
   with --diag-reg-absolute); α is summed to every process; the test predictions K_test·α are
   computed in row blocks spread over the processes (ntk_kernel_apply) and summed on rank 0,
   which alone writes standard output (%.17g, comma-separated rows). `kernel` gathers the
   blocks on rank 0 (a sum of disjoint shares: exact). Errors: one line on standard error from
   rank 0 (or the failing rank), exit 2 for usage, 1 otherwise (MPI_Abort).
   Not supported here (use build/ntk): --net, --shape, finite --time, --cov, the other commands. */
#define NTK_IMPLEMENTATION
#include "../../ntk.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* BLACS and ScaLAPACK (Fortran interfaces) */
extern void Cblacs_get(int ctxt, int what, int *val);
extern void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctxt);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrc, const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
                      const int *icsrc, const int *ictxt, const int *lld, int *info);
extern void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja, const int *desca, int *info);
extern void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia, const int *ja,
                     const int *desca, double *b, const int *ib, const int *jb, const int *descb, int *info);

static int rank_ = 0, size_ = 1;

static void die(int code, const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "ntk-mpi: ");
  fprintf(stderr, fmt, a, b);
  fprintf(stderr, "\n");
  MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}
static void check(ntk_status s, const char *what) {
  if (s == NTK_ERR_NOT_POSITIVE_DEFINITE)
    die(1, "%s: the train kernel is not positive definite (duplicate inputs?): use --diag-reg, e.g. --diag-reg 1e-6%s", what, "");
  if (s == NTK_ERR_NON_FINITE) die(1, "%s overflowed (NaN/Inf) — reduce --w-std, --depth or the input scale%s", what, "");
  if (s != NTK_OK) die(1, "%s: %s", what, ntk_status_string(s));
}

/* a text matrix: rows of numbers separated by commas and/or white space; '#' lines and blank
   lines skipped (the data files of build/ntk; its full grammar and messages are in ntk_cli.c) */
typedef struct { double *v; size_t rows, cols; } matrix;
static matrix read_matrix(const char *name) {
  matrix m = {NULL, 0, 0};
  FILE *f = strcmp(name, "-") ? fopen(name, "r") : stdin;
  char line[1 << 16];
  size_t cap = 0, cnt = 0;
  if (!f) die(1, "%s: cannot open%s", name, "");
  while (fgets(line, sizeof line, f)) {
    char *p = line, *e;
    size_t c = 0;
    if (line[0] == '#') continue;
    for (;;) {
      double x;
      while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n') p++;
      if (!*p) break;
      x = strtod(p, &e);
      if (e == p) die(1, "%s: not a number at '%.20s'", name, p);
      if (cnt == cap) {
        cap = cap ? 2 * cap : 1024;
        m.v = (double *)realloc(m.v, cap * sizeof(double));
        if (!m.v) die(1, "%s: out of memory%s", name, "");
      }
      m.v[cnt++] = x, c++, p = e;
    }
    if (!c) continue;
    if (m.rows == 0) m.cols = c;
    else if (c != m.cols) die(1, "%s: rows of different lengths%s", name, "");
    m.rows++;
  }
  if (f != stdin) fclose(f);
  if (m.rows == 0) die(1, "%s: no numbers%s", name, "");
  return m;
}

static void write_rows(const double *v, size_t rows, size_t cols) {
  size_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) printf("%.17g%c", v[i * cols + j], j + 1 < cols ? ',' : '\n');
}

typedef struct { int nb, P, Q, myrow, mycol; } grid;
static int my_block(size_t i0, size_t j0, size_t rows, size_t cols, void *user) {
  const grid *g = (const grid *)user;
  (void)rows, (void)cols;
  return (int)((i0 / (size_t)g->nb) % (size_t)g->P) == g->myrow && (int)((j0 / (size_t)g->nb) % (size_t)g->Q) == g->mycol;
}
/* global (i) → local index on its owner, block-cyclic with block nb over p processes */
static size_t loc(size_t i, int nb, int p) { return i / (size_t)nb / (size_t)p * (size_t)nb + i % (size_t)nb; }

typedef struct { const grid *g; double *A; int lld; size_t n2; double *full; int which; } sink;
static int to_local(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp, const ntk_real *ntk,
                    size_t ld, void *user) {
  sink *s = (sink *)user;
  const ntk_real *K = s->which ? ntk : nngp;
  size_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) {
      double v = (double)K[i * ld + j];
      if (s->full) s->full[(i0 + i) * s->n2 + j0 + j] = v;
      else s->A[loc(j0 + j, s->g->nb, s->g->Q) * (size_t)s->lld + loc(i0 + i, s->g->nb, s->g->P)] = v; /* column-major */
    }
  return 0;
}
/* the kernel's row blocks spread over the processes: block (bi, ·) on rank bi mod size */
static int my_rows(size_t i0, size_t j0, size_t rows, size_t cols, void *user) {
  const grid *g = (const grid *)user;
  (void)j0, (void)rows, (void)cols;
  return (int)((i0 / (size_t)g->nb) % (size_t)size_) == rank_;
}

int main(int argc, char **argv) {
  const char *cmd, *train = NULL, *targets = NULL, *test = NULL, *files[2] = {NULL, NULL}, *act = "relu";
  size_t depth = 1, width = 0, nfiles = 0, L, i, j;
  double w_std = 1, b_std = 0, diag_reg = 0;
  int get_nngp = 0, standard = 0, diag_abs = 0, quad = 0, nb = 64, P = 0, Q = 0, a;
  ntk_layer layers[2 * 1000 + 1], act_layer;
  grid g;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (argc < 2 || (strcmp(argv[1], "kernel") && strcmp(argv[1], "predict")))
    die(2, "usage: ntk-mpi kernel|predict [options] files... (see examples/mpi/ntk_mpi.c)%s%s", "", "");
  cmd = argv[1];
  for (a = 2; a < argc; a++) {
    const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
#define VAL() (v ? (a++, v) : (die(2, "%s needs a value%s", o, ""), ""))
    if (!strcmp(o, "--depth")) depth = (size_t)strtoul(VAL(), NULL, 10);
    else if (!strcmp(o, "--act")) act = VAL();
    else if (!strcmp(o, "--w-std")) w_std = atof(VAL());
    else if (!strcmp(o, "--b-std")) b_std = atof(VAL());
    else if (!strcmp(o, "--width")) width = (size_t)strtoul(VAL(), NULL, 10);
    else if (!strcmp(o, "--param")) { const char *p = VAL(); standard = !strcmp(p, "standard"); if (!standard && strcmp(p, "ntk")) die(2, "--param: '%s' is not ntk or standard%s", p, ""); }
    else if (!strcmp(o, "--quad-degree")) quad = atoi(VAL());
    else if (!strcmp(o, "--get")) { const char *p = VAL(); get_nngp = !strcmp(p, "nngp"); if (!get_nngp && strcmp(p, "ntk")) die(2, "--get: '%s' is not ntk or nngp%s", p, ""); }
    else if (!strcmp(o, "--train")) train = VAL();
    else if (!strcmp(o, "--targets")) targets = VAL();
    else if (!strcmp(o, "--test")) test = VAL();
    else if (!strcmp(o, "--diag-reg")) diag_reg = atof(VAL());
    else if (!strcmp(o, "--diag-reg-absolute")) diag_abs = 1;
    else if (!strcmp(o, "--block")) nb = atoi(VAL());
    else if (!strcmp(o, "--grid")) { const char *p = VAL(); if (sscanf(p, "%dx%d", &P, &Q) != 2) die(2, "--grid: '%s' is not PxQ%s", p, ""); }
    else if (!strcmp(o, "--progress") || !strcmp(o, "--quiet")) continue;
    else if (o[0] == '-' && o[1] == '-') die(2, "%s is not an option of ntk-mpi %s (build/ntk has the others)", o, cmd);
    else if (nfiles < 2) files[nfiles++] = o;
    else die(2, "too many files (%s)%s", o, "");
#undef VAL
  }
  if (nb < 1) die(2, "--block must be >= 1%s%s", "", "");
  if (P <= 0 || Q <= 0) { /* the squarest grid of size_ processes */
    for (P = (int)sqrt((double)size_); P > 1 && size_ % P; P--) {}
    Q = size_ / P;
  }
  if (P * Q != size_) die(2, "--grid PxQ must multiply to the number of processes%s%s", "", "");
  if (ntk_parse_activation(act, strlen(act), &act_layer, NULL, NULL, 0) != NTK_OK) die(2, "--act: unknown activation '%s'%s", act, "");
  act_layer.quad_degree = quad;
  if (depth > 1000) die(2, "--depth: at most 1000%s%s", "", "");
  if (standard && !width) die(2, "--param standard needs --width%s%s", "", "");
  L = ntk_mlp(layers, sizeof layers / sizeof layers[0], depth, width, act_layer, w_std, b_std, 1);
  if (standard) for (i = 0; i < L; i++) if (layers[i].kind == NTK_LAYER_DENSE) layers[i].param = NTK_PARAM_STANDARD;
  g.nb = nb, g.P = P, g.Q = Q, g.myrow = rank_ / Q, g.mycol = rank_ % Q;

  if (!strcmp(cmd, "kernel")) {
    matrix x1, x2;
    size_t n2;
    double *mine, *all = NULL;
    ntk_tile_desc td;
    sink s;
    if (nfiles < 1) die(2, "kernel needs X1%s%s", "", "");
    x1 = read_matrix(files[0]);
    if (nfiles == 2) { x2 = read_matrix(files[1]); if (x2.cols != x1.cols) die(1, "%s and %s have different column counts", files[0], files[1]); }
    n2 = nfiles == 2 ? x2.rows : x1.rows;
    mine = (double *)calloc(x1.rows * n2, sizeof(double));
    if (rank_ == 0) all = (double *)calloc(x1.rows * n2, sizeof(double));
    memset(&td, 0, sizeof td);
    s.g = &g, s.A = NULL, s.lld = 0, s.n2 = n2, s.full = mine, s.which = !get_nngp;
    td.rows = td.cols = (size_t)nb, td.nngp = get_nngp, td.ntk = !get_nngp, td.fn = to_local, td.user = &s;
    td.select = my_block, td.select_user = &g;
    check(ntk_kernel_tiles(layers, L, x1.v, x1.rows, nfiles == 2 ? x2.v : NULL, n2, x1.cols, &td), "the kernel");
    if (nfiles < 2) /* x2 = x1: the tiles gave the blocks on and below the diagonal */
      for (i = 0; i < x1.rows; i++) for (j = i + 1; j < n2; j++) if (my_block(i / nb * nb, j / nb * nb, 0, 0, &g)) mine[i * n2 + j] = 0;
    MPI_Reduce(mine, all, (int)(x1.rows * n2), MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank_ == 0) {
      if (nfiles < 2) for (i = 0; i < x1.rows; i++) for (j = i + 1; j < n2; j++) all[i * n2 + j] = all[j * n2 + i];
      write_rows(all, x1.rows, n2);
    }
  } else {
    matrix x, y, xt;
    int n, k, izero = 0, ione = 1, ctx, mloc, nloc, kloc, lld, lldb, info, descA[9], descB[9];
    double *A, *B, *alpha, *alpha_all, *f, *f_all = NULL, tr_loc = 0, tr = 0, lambda;
    size_t m;
    ntk_tile_desc td;
    sink s;
    if (!train || !targets) die(2, "predict needs --train X and --targets Y%s%s", "", "");
    x = read_matrix(train), y = read_matrix(targets);
    if (y.rows != x.rows) die(1, "%s and %s have different row counts", targets, train);
    if (test) { xt = read_matrix(test); if (xt.cols != x.cols) die(1, "%s and %s have different column counts", test, train); }
    else xt = x;
    n = (int)x.rows, k = (int)y.cols, m = xt.rows;
    Cblacs_get(-1, 0, &ctx);
    Cblacs_gridinit(&ctx, "Row", P, Q);
    mloc = numroc_(&n, &nb, &g.myrow, &izero, &P), nloc = numroc_(&n, &nb, &g.mycol, &izero, &Q);
    kloc = numroc_(&k, &nb, &g.mycol, &izero, &Q);
    lld = mloc > 1 ? mloc : 1, lldb = lld;
    descinit_(descA, &n, &n, &nb, &nb, &izero, &izero, &ctx, &lld, &info);
    descinit_(descB, &n, &k, &nb, &nb, &izero, &izero, &ctx, &lldb, &info);
    A = (double *)calloc((size_t)lld * (size_t)(nloc > 0 ? nloc : 1), sizeof(double));
    B = (double *)calloc((size_t)lldb * (size_t)(kloc > 0 ? kloc : 1), sizeof(double));
    if (!A || !B) die(1, "out of memory for the local blocks%s%s", "", "");
    memset(&td, 0, sizeof td);
    s.g = &g, s.A = A, s.lld = lld, s.n2 = (size_t)n, s.full = NULL, s.which = !get_nngp;
    td.rows = td.cols = (size_t)nb, td.nngp = get_nngp, td.ntk = !get_nngp, td.fn = to_local, td.user = &s;
    td.select = my_block, td.select_user = &g;
    check(ntk_kernel_tiles(layers, L, x.v, x.rows, NULL, x.rows, x.cols, &td), "the train kernel");
    /* λ: relative to the mean diagonal (the diagonal's owners sum it) */
    for (i = 0; i < (size_t)n; i++)
      if (my_block(i / nb * nb, i / nb * nb, 0, 0, &g)) tr_loc += A[loc(i, nb, Q) * (size_t)lld + loc(i, nb, P)];
    MPI_Allreduce(&tr_loc, &tr, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    lambda = diag_reg == 0 ? 0 : diag_abs ? diag_reg : diag_reg * (tr / n);
    for (i = 0; i < (size_t)n; i++)
      if (my_block(i / nb * nb, i / nb * nb, 0, 0, &g)) A[loc(i, nb, Q) * (size_t)lld + loc(i, nb, P)] += lambda;
    for (i = 0; i < (size_t)n; i++)
      for (j = 0; j < (size_t)k; j++)
        if ((int)(i / nb) % P == g.myrow && (int)(j / nb) % Q == g.mycol)
          B[loc(j, nb, Q) * (size_t)lldb + loc(i, nb, P)] = y.v[i * k + j];
    pdpotrf_("L", &n, A, &ione, &ione, descA, &info);
    if (info > 0) check(NTK_ERR_NOT_POSITIVE_DEFINITE, "pdpotrf");
    if (info < 0) die(1, "pdpotrf: argument %s is invalid%s", "(see info)", "");
    pdpotrs_("L", &n, &k, A, &ione, &ione, descA, B, &ione, &ione, descB, &info);
    if (info != 0) die(1, "pdpotrs failed%s%s", "", "");
    alpha = (double *)calloc((size_t)n * (size_t)k, sizeof(double));
    alpha_all = (double *)calloc((size_t)n * (size_t)k, sizeof(double));
    for (i = 0; i < (size_t)n; i++)
      for (j = 0; j < (size_t)k; j++)
        if ((int)(i / nb) % P == g.myrow && (int)(j / nb) % Q == g.mycol)
          alpha[i * k + j] = B[loc(j, nb, Q) * (size_t)lldb + loc(i, nb, P)];
    MPI_Allreduce(alpha, alpha_all, n * k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    f = (double *)calloc(m * (size_t)k, sizeof(double));
    if (rank_ == 0) f_all = (double *)calloc(m * (size_t)k, sizeof(double));
    if (!test) { /* kernel regression on the train rows: y exactly (as build/ntk) */
      if (rank_ == 0) write_rows(y.v, y.rows, y.cols);
    } else {
      /* this rank's row blocks of K_test·α (row blocks of nb test rows, whole train width) */
      size_t b0;
      for (b0 = (size_t)rank_ * nb; b0 < m; b0 += (size_t)size_ * nb) {
        size_t rows = m - b0 < (size_t)nb ? m - b0 : (size_t)nb;
        ntk_tile_desc ad;
        memset(&ad, 0, sizeof ad);
        ad.rows = (size_t)nb, ad.cols = 1024;
        check(ntk_kernel_apply(layers, L, xt.v + b0 * xt.cols, rows, x.v, x.rows, x.cols, !get_nngp, (size_t)k,
                               alpha_all, f + b0 * k, &ad), "the test predictions");
      }
      MPI_Reduce(f, f_all, (int)(m * k), MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
      if (rank_ == 0) write_rows(f_all, m, (size_t)k);
    }
    (void)my_rows;
    Cblacs_gridexit(ctx);
  }
  fflush(stdout);
  MPI_Finalize();
  return 0;
}
