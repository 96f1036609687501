/* make bench: speed of ntk.h, as ratios side by side with OpenBLAS (when built with
   -DNTK_BENCH_OPENBLAS, which the Makefile does if libopenblas-dev is installed) and with a
   plain -O2 build of the same header (bench_o2.c). Every case is validated against a slow
   reference on sampled entries before it is timed; timings are medians after a warm-up.
   The 2-thread scaling table runs 1T and 2T side by side in one loop, with two independent
   1-thread GEMMs at once as the machine's own ceiling. The Makefile sets
   OPENBLAS_THREAD_TIMEOUT=4: OpenBLAS's idle workers otherwise spin for ~0.1 s after each
   call and take a core from whatever runs next (our 2-thread 512³ runs fell to 1 core).

   usage: bench [filter]   runs the rows whose name contains `filter` */
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef NTK_BENCH_OPENBLAS
#include <cblas.h>
#include <lapacke.h>
#endif

int bench_o2_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
int bench_o2_dgemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                   size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);
const char *bench_o2_simd(void);
double bench_spatial_f64(int net, size_t n1, size_t n2, int sym, int threads, int reps, double *k00);
double bench_spatial_f32(int net, size_t n1, size_t n2, int sym, int threads, int reps, double *k00);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void set_threads(int t) {
  (void)t;
#ifdef _OPENMP
  omp_set_num_threads(t);
#endif
#ifdef NTK_BENCH_OPENBLAS
  openblas_set_num_threads(t);
#endif
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* median seconds of `reps` timed runs after one warm-up; reps shrink for slow cases */
typedef void (*bench_fn)(void *ctx);
static double time_median(bench_fn f, void *ctx, int reps) {
  double t[31], t0 = now();
  int r;
  f(ctx);
  if (now() - t0 > 2.0 && reps > 3) reps = 3;
  if (reps > 31) reps = 31;
  for (r = 0; r < reps; r++) {
    t0 = now();
    f(ctx);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof(double), cmp_double);
  return t[reps / 2];
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
}

/* count uniform(-1, 1) entries of a float or double array */
static void fill_rand(void *p, size_t count, int dbl) {
  size_t i;
  for (i = 0; i < count; i++) {
    if (dbl) ((double *)p)[i] = urand();
    else ((float *)p)[i] = (float)urand();
  }
}

static int reps_default = 7;
static const char *filter = NULL;
static int want(const char *name) { return !filter || strstr(name, filter) != NULL; }

/* ---- GEMM rows -------------------------------------------------------------------------- */
typedef struct {
  int dbl, which; /* which: 0 ours, 1 openblas, 2 ours plain -O2, 3 ours syrk, 4 openblas syrk */
  int ta, tb;
  size_t m, n, k;
  void *A, *B, *C;
} gemm_ctx;

static void gemm_call(void *p) {
  gemm_ctx *g = (gemm_ctx *)p;
  size_t lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
  if (g->dbl) {
    const double *A = (const double *)g->A, *B = (const double *)g->B;
    double *C = (double *)g->C;
    switch (g->which) {
    case 0: ntk_dgemm((ntk_trans)g->ta, (ntk_trans)g->tb, g->m, g->n, g->k, 1.0, A, lda, B, ldb, 0.0, C, g->n); break;
    case 2: bench_o2_dgemm(g->ta, g->tb, g->m, g->n, g->k, 1.0, A, lda, B, ldb, 0.0, C, g->n); break;
    case 3: ntk_dsyrk(NTK_LOWER, NTK_NO_TRANS, g->m, g->k, 1.0, A, lda, 0.0, C, g->n); break;
#ifdef NTK_BENCH_OPENBLAS
    case 1: cblas_dgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n, (int)g->k, 1.0, A, (int)lda, B, (int)ldb, 0.0, C, (int)g->n); break;
    case 4: cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)g->m, (int)g->k, 1.0, A, (int)lda, 0.0, C, (int)g->n); break;
#endif
    default: break;
    }
  } else {
    const float *A = (const float *)g->A, *B = (const float *)g->B;
    float *C = (float *)g->C;
    switch (g->which) {
    case 0: ntk_sgemm((ntk_trans)g->ta, (ntk_trans)g->tb, g->m, g->n, g->k, 1.0f, A, lda, B, ldb, 0.0f, C, g->n); break;
    case 2: bench_o2_sgemm(g->ta, g->tb, g->m, g->n, g->k, 1.0f, A, lda, B, ldb, 0.0f, C, g->n); break;
    case 3: ntk_ssyrk(NTK_LOWER, NTK_NO_TRANS, g->m, g->k, 1.0f, A, lda, 0.0f, C, g->n); break;
#ifdef NTK_BENCH_OPENBLAS
    case 1: cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n, (int)g->k, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)g->n); break;
    case 4: cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)g->m, (int)g->k, 1.0f, A, (int)lda, 0.0f, C, (int)g->n); break;
#endif
    default: break;
    }
  }
}

/* max scaled error of 64 sampled entries (lower triangle for syrk) against a double dot product */
static double gemm_check(gemm_ctx *g) {
  size_t lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n, s, p;
  double worst = 0;
  for (s = 0; s < 64; s++) {
    size_t i = (size_t)((urand() + 1) * 0.5 * (double)g->m) % g->m;
    size_t j = (size_t)((urand() + 1) * 0.5 * (double)g->n) % g->n;
    double ref = 0, mag = 0, got, err;
    if (g->which >= 3 && j > i) { size_t t = i; i = j; j = t; }
    for (p = 0; p < g->k; p++) {
      size_t ia = g->ta ? p * lda + i : i * lda + p, ib = g->tb ? j * ldb + p : p * ldb + j;
      double a = g->dbl ? ((double *)g->A)[ia] : ((float *)g->A)[ia];
      double b = g->dbl ? ((double *)g->B)[ib] : ((float *)g->B)[ib];
      ref += a * b;
      mag += fabs(a * b);
    }
    got = g->dbl ? ((double *)g->C)[i * g->n + j] : ((float *)g->C)[i * g->n + j];
    err = fabs(got - ref) / (mag * (g->dbl ? DBL_EPSILON : FLT_EPSILON) * (double)g->k + 1e-300);
    if (err > worst) worst = err;
  }
  return worst;
}

static int n_failed_checks = 0;

static void gemm_validate(gemm_ctx *g, int which) {
  g->which = which;
  memset(g->C, 0, g->m * g->n * (g->dbl ? 8 : 4));
  gemm_call(g);
  if (gemm_check(g) > 1.0) {
    printf("  !! validation failed for variant %d\n", which);
    n_failed_checks++;
  }
}

/* Medians of interleaved runs of up to 3 variants (one rep of each in turn, so that the
   machine's background load hits all of them alike). t[v] = 0 for a variant not run. */
static void gemm_times(gemm_ctx *g, const int *which, int nv, double *t) {
  double s[3][31], t0;
  int v, r, reps = reps_default;
  for (v = 0; v < nv; v++) gemm_validate(g, which[v]);
  t0 = now();
  g->which = which[0];
  gemm_call(g);
  if (now() - t0 > 1.0 && reps > 5) reps = 5; /* slow rows: 5 rounds (3 let one noisy round decide) */
  if (reps > 31) reps = 31;
  for (r = 0; r < reps; r++)
    for (v = 0; v < nv; v++) { /* the order rotates every rep: whoever runs first in a round
                                  tends to run slower on this kind of machine */
      int x = (v + r) % nv;
      g->which = which[x];
      t0 = now();
      gemm_call(g);
      s[x][r] = now() - t0;
    }
  for (v = 0; v < nv; v++) {
    qsort(s[v], (size_t)reps, sizeof(double), cmp_double);
    t[v] = s[v][reps / 2];
  }
}

static void gemm_row(const char *label, int dbl, int ta, int tb, size_t m, size_t n, size_t k,
                     int threads, int syrk) {
  char name[128];
  gemm_ctx g;
  size_t es = dbl ? 8 : 4;
  double flops = syrk ? (double)m * (double)(m + 1) * (double)k : 2.0 * (double)m * (double)n * (double)k;
  double t_ours, t_o2 = 0, t_ob = 0;
  snprintf(name, sizeof name, "%s %s %zux%zux%zu %dT", label, dbl ? "d" : "s", m, n, k, threads);
  if (!want(name)) return;
  set_threads(threads);
  g.dbl = dbl, g.ta = ta, g.tb = tb, g.m = m, g.n = n, g.k = k;
  g.A = malloc(m * k * es), g.B = malloc(k * n * es), g.C = malloc(m * n * es);
  fill_rand(g.A, m * k, dbl), fill_rand(g.B, k * n, dbl);
  if (syrk) { free(g.B); g.B = g.A; } /* syrk: op(B) = op(A)ᵀ, validated as A·Aᵀ */
  {
    int which[3], nv = 0;
    double t[3] = {0, 0, 0};
    which[nv++] = syrk ? 3 : 0;
#ifdef NTK_BENCH_OPENBLAS
    which[nv++] = syrk ? 4 : 1;
#endif
    if (!syrk) which[nv++] = 2;
    gemm_times(&g, which, nv, t);
    t_ours = t[0];
#ifdef NTK_BENCH_OPENBLAS
    t_ob = t[1];
    t_o2 = syrk ? 0 : t[2];
#else
    t_o2 = syrk ? 0 : t[1];
#endif
  }
  printf("| %-34s | %8.1f |", name, flops / t_ours * 1e-9);
  if (t_ob > 0) printf(" %8.1f | %5.2f |", flops / t_ob * 1e-9, t_ob / t_ours); else printf("        - |     - |");
  if (t_o2 > 0) printf(" %8.1f | %5.2f |\n", flops / t_o2 * 1e-9, t_ours / t_o2); else printf("        - |     - |\n");
  fflush(stdout);
  free(g.A), free(g.C);
  if (!syrk) free(g.B);
}

static void bench_gemm(void) {
  static const size_t sq[] = {256, 512, 1024, 2048, 4096};
  int dbl, t;
  size_t i;
  printf("\n### GEMM (GFLOP/s; ratio = OpenBLAS time / ntk.h time (> 1: ntk.h faster); O2 = plain -O2 build, O2/nat = native time / -O2 time)\n\n");
  printf("| %-34s | %8s | %8s | %5s | %8s | %5s |\n", "case", "ntk.h", "OpenBLAS", "ratio", "ntk -O2", "O2/nat");
  printf("|%s|---:|---:|---:|---:|---:|\n", "------------------------------------");
  for (t = 1; t <= 2; t++)
    for (dbl = 0; dbl <= 1; dbl++) {
      for (i = 0; i < sizeof sq / sizeof sq[0]; i++)
        gemm_row("gemm NN", dbl, 0, 0, sq[i], sq[i], sq[i], t, 0);
      gemm_row("gemm NN", dbl, 0, 0, 4096, 4096, 256, t, 0);
      gemm_row("gram X·Xᵀ gemm NT", dbl, 0, 1, 10000, 10000, 784, t, 0);
      gemm_row("gram X·Xᵀ syrk", dbl, 0, 1, 10000, 10000, 784, t, 1);
    }
}

/* ---- thread scaling -------------------------------------------------------------------------
   The 2-thread speed-up measured within one loop: ntk.h 1T, ntk.h 2T, OpenBLAS 1T, OpenBLAS 2T
   and, as the machine's own ceiling, two independent 1-thread ntk.h GEMMs run at once on
   separate data (all cores busy, nothing shared, no synchronisation: what the clock and the
   shared caches allow). One rep of each in turn, order rotated every rep, medians. Dividing the
   1T and 2T rows of the table above instead would compare runs minutes apart on a shared
   machine. */
#ifdef _OPENMP
/* median over reps of f·a[r]/b[r] */
static double paired_median(const double *a, const double *b, double f, int reps) {
  double q[31];
  int r;
  for (r = 0; r < reps; r++) q[r] = f * a[r] / b[r];
  qsort(q, (size_t)reps, sizeof(double), cmp_double);
  return q[reps / 2];
}

static void scaling_row(const char *label, int dbl, int tb, size_t n, size_t k, int reps) {
  char name[128];
  gemm_ctx g[2];
  size_t es = dbl ? 8 : 4, c;
  double s[5][31], med[5], x[4], fl = 2.0 * (double)n * (double)n * (double)k;
  int r, v, nv = 0, order[5];
  snprintf(name, sizeof name, "%s %s %zux%zux%zu", label, dbl ? "d" : "s", n, n, k);
  if (!want(name) && !want("scaling")) return;
  for (c = 0; c < 2; c++) {
    g[c].dbl = dbl, g[c].which = 0, g[c].ta = 0, g[c].tb = tb, g[c].m = n, g[c].n = n, g[c].k = k;
    g[c].A = malloc(n * k * es), g[c].B = malloc(k * n * es), g[c].C = malloc(n * n * es);
    fill_rand(g[c].A, n * k, dbl), fill_rand(g[c].B, k * n, dbl);
    memset(g[c].C, 0, n * n * es);
  }
  order[nv++] = 0, order[nv++] = 1, order[nv++] = 4; /* ours 1T, ours 2T, two 1T at once */
#ifdef NTK_BENCH_OPENBLAS
  order[nv++] = 2, order[nv++] = 3; /* OpenBLAS 1T, 2T */
#endif
  if (reps > 31) reps = 31;
  for (r = -1; r < reps; r++)
    for (v = 0; v < nv; v++) {
      int w = order[(v + (r < 0 ? 0 : r)) % nv];
      double t0;
      g[0].which = w >= 2 && w <= 3 ? 1 : 0;
      set_threads(w == 1 || w == 3 ? 2 : 1);
      t0 = now();
      if (w == 4) {
#pragma omp parallel num_threads(2)
        gemm_call(&g[omp_get_thread_num() & 1]);
      } else {
        gemm_call(&g[0]);
      }
      if (r >= 0) s[w][r] = now() - t0;
    }
  /* speeds as medians of each variant; the speed-ups as medians of the per-rep ratios (the
     runs of one rep are seconds apart, so drift in the machine's load cancels) */
  x[0] = paired_median(s[0], s[1], 1, reps), x[1] = paired_median(s[0], s[4], 2, reps);
  x[2] = nv > 3 ? paired_median(s[2], s[3], 1, reps) : 0;
  x[3] = paired_median(s[4], s[1], 0.5, reps); /* x / ceiling = pair time / (2 × 2T time) */
  for (v = 0; v < 5; v++) med[v] = 0;
  for (v = 0; v < nv; v++) {
    qsort(s[order[v]], (size_t)reps, sizeof(double), cmp_double);
    med[order[v]] = s[order[v]][reps / 2];
  }
  printf("| %-34s | %7.1f | %7.1f | %5.2f | %7.2f | %6.2f |", name, fl / med[0] * 1e-9, fl / med[1] * 1e-9, x[0], x[1], x[3]);
  if (nv > 3) printf(" %7.1f | %7.1f | %5.2f |\n", fl / med[2] * 1e-9, fl / med[3] * 1e-9, x[2]);
  else printf("       - |       - |     - |\n");
  fflush(stdout);
  for (c = 0; c < 2; c++) free(g[c].A), free(g[c].B), free(g[c].C);
}
#endif

static void bench_scaling(void) {
#ifdef _OPENMP
  static const size_t sq[] = {512, 1024, 2048, 4096};
  int dbl;
  size_t i;
  printf("\n### 2 threads against 1, interleaved (GFLOP/s, medians; x = 1T time / 2T time; ceiling = 2 × 1T time / time of two independent 1T GEMMs run at once; x/ceil = their quotient; the last three are medians of per-rep ratios)\n\n");
  printf("| %-34s | %7s | %7s | %5s | %7s | %6s | %7s | %7s | %5s |\n", "case", "ntk 1T", "ntk 2T", "x", "ceiling", "x/ceil", "OB 1T", "OB 2T", "x OB");
  printf("|%s|---:|---:|---:|---:|---:|---:|---:|---:|\n", "------------------------------------");
  for (dbl = 0; dbl <= 1; dbl++) {
    for (i = 0; i < sizeof sq / sizeof sq[0]; i++)
      scaling_row("gemm NN", dbl, 0, sq[i], sq[i], sq[i] >= 4096 ? 5 : sq[i] >= 2048 ? 7 : 15);
    scaling_row("gram X·Xᵀ gemm NT", dbl, 1, 10000, 784, 5);
  }
#else
  printf("\n(built without OpenMP: no thread scaling rows)\n");
#endif
}


/* ---- analytic kernel rows ---------------------------------------------------------------- */
static void kernel_row(const char *act, size_t depth, size_t n1, size_t n2, int sym, int threads) {
  char name[128];
  ntk_layer net[16], a = strcmp(act, "relu") == 0 ? ntk_relu() : strcmp(act, "erf") == 0 ? ntk_erf() : ntk_tanh();
  size_t L = ntk_mlp(net, 16, depth, 0, a, 1.4, 0.1, 1), d = 784, i;
  ntk_real *x1, *x2, *K, *T;
  double t[5], tg[5], t0;
  int r, reps = 3;
  snprintf(name, sizeof name, "kernel %s depth %zu %zux%zu%s %dT", act, depth, n1, sym ? n1 : n2, sym ? " sym" : "", threads);
  if (!want(name)) return;
  set_threads(threads);
  x1 = (ntk_real *)malloc(n1 * d * sizeof(ntk_real));
  x2 = (ntk_real *)malloc(n2 * d * sizeof(ntk_real));
  K = (ntk_real *)malloc(n1 * (sym ? n1 : n2) * sizeof(ntk_real));
  T = (ntk_real *)malloc(n1 * (sym ? n1 : n2) * sizeof(ntk_real));
  for (i = 0; i < n1 * d; i++) x1[i] = (ntk_real)urand();
  for (i = 0; i < n2 * d; i++) x2[i] = (ntk_real)urand();
  for (r = 0; r < reps; r++) {
    t0 = now();
    if (ntk_kernel(net, L, x1, n1, sym ? NULL : x2, n2, d, K, T) != NTK_OK) { printf("  !! kernel failed\n"); n_failed_checks++; }
    t[r] = now() - t0;
    t0 = now(); /* the Gram step alone, as ntk_kernel does it */
    if (sym) NTK__SYRK(NTK_LOWER, NTK_NO_TRANS, n1, d, (ntk_real)(1.0 / d), x1, d, 0, K, n1);
    else NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, d, (ntk_real)(1.0 / d), x1, d, x2, d, 0, K, n2);
    tg[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof(double), cmp_double);
  qsort(tg, (size_t)reps, sizeof(double), cmp_double);
  {
    double entries = sym ? 0.5 * (double)n1 * (double)(n1 + 1) : (double)n1 * (double)n2;
    printf("| %-40s | %8.3f | %8.3f | %8.3f | %8.1f |\n", name, t[reps / 2], tg[reps / 2], t[reps / 2] - tg[reps / 2],
           entries / (t[reps / 2] - tg[reps / 2]) * 1e-6);
  }
  fflush(stdout);
  free(x1), free(x2), free(K), free(T);
}

static void bench_kernel(void) {
  static const size_t ns[] = {1000, 4096, 10000};
  size_t i;
  int t;
  printf("\n### Analytic NNGP+NTK, d = 784 (%s): seconds (median of 3), Gram and elementwise split\n\n", sizeof(ntk_real) == 8 ? "double" : "float");
  printf("| %-40s | %8s | %8s | %8s | %8s |\n", "case", "total s", "Gram s", "elem. s", "Mentry/s");
  printf("|%s|---:|---:|---:|---:|\n", "------------------------------------------");
  for (t = 1; t <= 2; t++) {
    for (i = 0; i < 3; i++) kernel_row("relu", 3, ns[i], ns[i], 1, t);
    kernel_row("relu", 3, 4096, 10000, 0, t);
    kernel_row("erf", 3, 4096, 4096, 1, t);
    kernel_row("tanh", 1, 256, 256, 1, t);
  }
}


/* ---- linear algebra rows ------------------------------------------------------------------ */
static double *spd_matrix(size_t n) { /* X·Xᵀ/n + I: an NTK-like SPD matrix */
  double *X = (double *)malloc(n * n * 8), *A = (double *)malloc(n * n * 8);
  size_t i;
  for (i = 0; i < n * n; i++) X[i] = urand();
  ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, n, n, n, 1.0 / (double)n, X, n, X, n, 0.0, A, n);
  for (i = 0; i < n; i++) A[i * n + i] += 1;
  free(X);
  return A;
}

typedef struct {
  size_t n;
  int dbl, which; /* 0 ours, 1 LAPACKE */
  const double *A0;
  double *A, *w;
  float *As, *ws;
} la_ctx;

static void potrf_call(void *p) {
  la_ctx *c = (la_ctx *)p;
  size_t i, nn = c->n * c->n;
  if (c->dbl) memcpy(c->A, c->A0, nn * 8); else for (i = 0; i < nn; i++) c->As[i] = (float)c->A0[i];
  if (c->which == 0) {
    if (c->dbl) ntk_dpotrf(c->n, c->A, c->n); else ntk_spotrf(c->n, c->As, c->n);
  }
#ifdef NTK_BENCH_OPENBLAS
  else { /* row-major lower = column-major upper: no transposition */
    if (c->dbl) LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (int)c->n, c->A, (int)c->n);
    else LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', (int)c->n, c->As, (int)c->n);
  }
#endif
}
static void syev_call(void *p) {
  la_ctx *c = (la_ctx *)p;
  memcpy(c->A, c->A0, c->n * c->n * 8);
  if (c->which == 0) ntk_dsyev(c->n, c->A, c->n, c->w);
#ifdef NTK_BENCH_OPENBLAS
  else LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (int)c->n, c->A, (int)c->n, c->w);
#endif
}
static void copy_only(void *p) { /* the input restore both calls include, timed to subtract it */
  la_ctx *c = (la_ctx *)p;
  size_t i, nn = c->n * c->n;
  if (c->dbl) memcpy(c->A, c->A0, nn * 8); else for (i = 0; i < nn; i++) c->As[i] = (float)c->A0[i];
}

static void la_row(const char *op, size_t n, int dbl, int threads) {
  char name[96];
  la_ctx c;
  double t_ours, t_lib = 0, t_copy, flops;
  bench_fn f = strcmp(op, "syev") == 0 ? syev_call : potrf_call;
  snprintf(name, sizeof name, "%s%s n=%zu %dT", dbl ? "d" : "s", op, n, threads);
  if (!want(name)) return;
  set_threads(threads);
  c.n = n, c.dbl = dbl, c.A0 = spd_matrix(n);
  c.A = (double *)malloc(n * n * 8), c.As = (float *)malloc(n * n * 4), c.w = (double *)malloc(n * 8), c.ws = (float *)malloc(n * 4);
  t_copy = time_median(copy_only, &c, 5);
  c.which = 0;
  t_ours = time_median(f, &c, 5) - t_copy;
#ifdef NTK_BENCH_OPENBLAS
  c.which = 1;
  t_lib = time_median(f, &c, 5) - t_copy;
#endif
  flops = f == potrf_call ? (double)n * n * n / 3 : 0;
  if (flops > 0) printf("| %-28s | %9.4f | %9.4f | %6.2f | %7.1f GFLOP/s |\n", name, t_ours, t_lib, t_lib > 0 ? t_lib / t_ours : 0, flops / t_ours * 1e-9);
  else printf("| %-28s | %9.4f | %9.4f | %6.2f | %15s |\n", name, t_ours, t_lib, t_lib > 0 ? t_lib / t_ours : 0, "");
  fflush(stdout);
  free((void *)c.A0), free(c.A), free(c.As), free(c.w), free(c.ws);
}

typedef struct { size_t n, nrhs; double *L, *B, *B0; int which; } potrs_ctx;
static void potrs_call(void *p) {
  potrs_ctx *c = (potrs_ctx *)p;
  memcpy(c->B, c->B0, c->n * c->nrhs * 8);
  if (c->which == 0) ntk_dpotrs(c->n, c->nrhs, c->L, c->n, c->B, c->nrhs);
#ifdef NTK_BENCH_OPENBLAS
  else LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (int)c->n, (int)c->nrhs, c->L, (int)c->n, c->B, (int)c->nrhs);
#endif
}

static void bench_linalg(void) {
  static const size_t pn[] = {1000, 2000, 4096, 8192}, en[] = {1000, 2000, 4096};
  size_t i;
  int dbl, t;
  printf("\n### Cholesky and eigensolver: seconds (median), ratio = LAPACKE(OpenBLAS) / ntk.h (> 1: ntk.h faster)\n\n");
  printf("| %-28s | %9s | %9s | %6s | %15s |\n", "case", "ntk.h s", "LAPACKE s", "ratio", "ntk.h rate");
  printf("|%s|---:|---:|---:|---:|\n", "------------------------------");
  for (t = 1; t <= 2; t++) {
    for (dbl = 1; dbl >= 0; dbl--)
      for (i = 0; i < 4; i++) la_row("potrf", pn[i], dbl, t);
    {
      char name[64];
      snprintf(name, sizeof name, "dpotrs n=4096 nrhs=10 %dT", t);
      if (want(name)) {
        potrs_ctx c;
        double to, tl = 0;
        size_t k;
        set_threads(t);
        c.n = 4096, c.nrhs = 10, c.L = spd_matrix(4096), c.B = (double *)malloc(4096 * 10 * 8), c.B0 = (double *)malloc(4096 * 10 * 8);
        ntk_dpotrf(4096, c.L, 4096);
        for (k = 0; k < 40960; k++) c.B0[k] = urand();
        c.which = 0, to = time_median(potrs_call, &c, 7);
#ifdef NTK_BENCH_OPENBLAS
        c.which = 1, tl = time_median(potrs_call, &c, 7);
#endif
        printf("| %-28s | %9.4f | %9.4f | %6.2f | %15s |\n", name, to, tl, tl > 0 ? tl / to : 0, "");
        free(c.L), free(c.B), free(c.B0);
      }
    }
    for (i = 0; i < 3; i++) la_row("syev", en[i], 1, t);
  }
}

/* ---- empirical NTK rows --------------------------------------------------------------------- */
static void entk_row(size_t width, size_t N, size_t k, int jacobian, int threads) {
  char name[128];
  ntk_layer layers[8];
  ntk_net net;
  ntk_entk_desc dd;
  size_t L = ntk_mlp(layers, 8, 3, width, ntk_relu(), 1.4, 0.1, k), d = 784, i;
  ntk_real *x, *T;
  double t[5], t0;
  int r, reps = 3;
  snprintf(name, sizeof name, "entk %s width %zu N=%zu k=%zu %dT", jacobian ? "J·Jᵀ" : "structured", width, N, k, threads);
  if (!want(name)) return;
  set_threads(threads);
  if (ntk_net_init(&net, layers, L, d, 1) != NTK_OK) return;
  if (jacobian && (double)N * k * net.n_params * 8 > 8e9) { ntk_net_free(&net); return; } /* does not fit */
  x = (ntk_real *)malloc(N * d * sizeof(ntk_real));
  T = (ntk_real *)malloc(N * N * sizeof(ntk_real));
  for (i = 0; i < N * d; i++) x[i] = (ntk_real)urand();
  memset(&dd, 0, sizeof dd);
  dd.method = jacobian ? NTK_ENTK_JACOBIAN : NTK_ENTK_STRUCTURED;
  for (r = 0; r < reps; r++) {
    t0 = now();
    if (ntk_net_empirical_kernel_ex(&net, x, N, NULL, 0, 0, NULL, T, &dd) != NTK_OK) { printf("  !! entk failed\n"); n_failed_checks++; }
    t[r] = now() - t0;
    if (t[r] > 20) { reps = r + 1; break; }
  }
  qsort(t, (size_t)reps, sizeof(double), cmp_double);
  printf("| %-44s | %9.3f |\n", name, t[reps / 2]);
  fflush(stdout);
  ntk_net_free(&net);
  free(x), free(T);
}

static void train_row(size_t width, size_t N, int threads) {
  char name[96];
  ntk_layer layers[8];
  ntk_net net;
  size_t L = ntk_mlp(layers, 8, 3, width, ntk_relu(), 1.4, 0.1, 10), d = 784, i;
  ntk_real *x, *y;
  double t[5], t0;
  int r;
  snprintf(name, sizeof name, "train step width %zu N=%zu k=10 %dT", width, N, threads);
  if (!want(name)) return;
  set_threads(threads);
  ntk_net_init(&net, layers, L, d, 1);
  x = (ntk_real *)malloc(N * d * sizeof(ntk_real)), y = (ntk_real *)malloc(N * 10 * sizeof(ntk_real));
  for (i = 0; i < N * d; i++) x[i] = (ntk_real)urand();
  for (i = 0; i < N * 10; i++) y[i] = (ntk_real)urand();
  for (r = 0; r < 5; r++) {
    t0 = now();
    ntk_net_train(&net, x, y, N, 1e-3, 1);
    t[r] = now() - t0;
  }
  qsort(t, 5, sizeof(double), cmp_double);
  printf("| %-44s | %9.3f |\n", name, t[2]);
  ntk_net_free(&net);
  free(x), free(y);
}

static void bench_entk(void) {
  static const size_t widths[] = {512, 2048}, Ns[] = {256, 1024}, ks[] = {1, 10};
  size_t a, b, c;
  int t, j;
  printf("\n### Empirical NTK, ReLU depth 3, d = 784 (%s): seconds (median)\n\n", sizeof(ntk_real) == 8 ? "double" : "float");
  printf("| %-44s | %9s |\n", "case", "seconds");
  printf("|%s|---:|\n", "----------------------------------------------");
  for (t = 1; t <= 2; t++)
    for (a = 0; a < 2; a++)
      for (b = 0; b < 2; b++)
        for (c = 0; c < 2; c++)
          for (j = 0; j <= 1; j++) entk_row(widths[a], Ns[b], ks[c], j, t);
  for (t = 1; t <= 2; t++) train_row(2048, 1024, t);
}


/* ---- finite CNN rows (issue 17) --------------------------------------------------------------
   The Myrtle-5-style CNN (width 64, 28x28x1, 3x3 SAME convs, ReLU, AvgPool 2, GAP, Dense 10).
   Empirical NTK (traced, x2 = NULL, N = 128 or NTK_BENCH_CNN_N) beside torch.func (vmap(jacrev)
   + contraction, bench/torch_cnn_entk.py) when a python3 has torch: the same architecture,
   precision and thread count with its own random weights (timing only; the values are not
   compared; NTK_BENCH_TORCH=0 skips it). One GD step at N = 1024 (NTK_BENCH_CNN_GD_N). Each
   call runs in a child process (fork) so that its peak resident memory — ru_maxrss less the
   resident set the child started with — is the call's own; seconds are wall and CPU time (the
   machine may be shared). */
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
static double cnn_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double cnn_rss_mb(void) {
  long pages = 0, res = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return (double)res * (double)sysconf(_SC_PAGESIZE) / 1e6;
}
static void cnn_layers(ntk_layer *l) {
  l[0] = ntk_input(28, 28, 1);
  l[1] = ntk_conv(64, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[2] = ntk_relu();
  l[3] = ntk_conv(64, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[4] = ntk_relu(), l[5] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[6] = ntk_conv(64, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[7] = ntk_relu(), l[8] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
  l[9] = ntk_conv(64, 3, 3, 1, 1, NTK_PAD_SAME, 1, 0), l[10] = ntk_relu(), l[11] = ntk_global_avg_pool();
  l[12] = ntk_dense(10, 1, 0);
}
/* the small residual CNN of the second eNTK row (bench/torch_cnn_entk.py res): 28x28x1, a
   3x3 conv of width 32, AvgPool 2 to 14x14, two residual blocks [ReLU, conv, ReLU, conv] + the
   identity, ReLU, GAP, Dense 10, no biases */
#define CNN_RES_NET "conv(32,3,same,b=none) avgpool(2,s=2) 2*res(relu conv(32,3,same,b=none) relu conv(32,3,same,b=none)) relu gap dense(10,b=none)"
static size_t cnn_res_layers(ntk_layer *l, size_t cap) {
  ntk_parse_defaults df = ntk_parse_defaults_init();
  size_t n = 0, pos = 0;
  char err[128];
  l[0] = ntk_input(28, 28, 1);
  if (ntk_parse_net(CNN_RES_NET, &df, l + 1, cap - 1, &n, &pos, err, sizeof err) != NTK_OK) {
    printf("  !! residual CNN: %s\n", err);
    return 0;
  }
  return n + 1;
}
/* in a child: what 0 = the eNTK of N examples, 1 = one GD step on N, 2 = the residual CNN's
   eNTK; method (ntk_entk_desc.method) and full for the eNTK; out: wall s, CPU s, peak MB, ok */
static int cnn_child(int what, size_t N, int method, int full, double out[4]) {
  int fd[2];
  pid_t pid;
  out[0] = out[1] = out[2] = -1, out[3] = 0;
  if (pipe(fd) != 0) return 0;
  fflush(stdout);
  pid = fork();
  if (pid < 0) { close(fd[0]), close(fd[1]); return 0; }
  if (pid == 0) {
    ntk_layer l[64];
    ntk_net net;
    double r[4] = {-1, -1, -1, 0}, rss0 = cnn_rss_mb(), t0, c0, *x, *y;
    struct rusage ru;
    size_t i, nl = 13;
    ntk_status st;
    int gd = what == 1;
    close(fd[0]);
    if (what == 2) nl = cnn_res_layers(l, 64);
    else cnn_layers(l);
    if (nl && ntk_net_init(&net, l, nl, 784, 1) == NTK_OK) {
      size_t R = full ? N * 10 : N;
      ntk_entk_desc d;
      memset(&d, 0, sizeof d);
      d.method = (ntk_entk_method)method;
      x = (double *)malloc(N * 784 * sizeof(double)), y = (double *)malloc((gd ? N * 10 : R * R) * sizeof(double));
      for (i = 0; i < N * 784; i++) x[i] = urand();
      for (i = 0; gd && i < N * 10; i++) y[i] = urand();
      t0 = now(), c0 = cnn_cpu();
      st = gd ? ntk_net_train(&net, x, y, N, 0.1, 1) : ntk_net_empirical_kernel_ex(&net, x, N, NULL, 0, full, NULL, y, &d);
      r[0] = now() - t0, r[1] = cnn_cpu() - c0;
      getrusage(RUSAGE_SELF, &ru);
      r[2] = (double)ru.ru_maxrss / 1e3 - rss0;
      r[3] = st == NTK_OK;
      for (i = 0; !gd && st == NTK_OK && i < R; i++) r[3] = r[3] && y[i * R + i] > 0;
    }
    if (write(fd[1], r, sizeof r) != (ssize_t)sizeof r) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  if (read(fd[0], out, 4 * sizeof(double)) != (ssize_t)(4 * sizeof(double))) out[3] = 0;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return out[3] != 0;
}
/* one eNTK row: the child's run (cnn_child what), then bench/torch_cnn_entk.py arch on the same
   N and threads (the first python3 that has torch), and the parameter count of l from the front
   end beside the Jacobian's size */
static void cnn_entk_row(const char *name, int what, const char *arch, size_t N, int T, const ntk_layer *l,
                         size_t nl, const char *prefix) {
  double r[4], tt[3] = {-1, -1, -1}, P = 0, jmb;
  ntk_layer_info li[64];
  char cmd[512];
  size_t q;
  FILE *p;
  if (nl <= 64 && ntk_layers_describe(l, nl, 784, li, NULL, NULL) == NTK_OK)
    for (q = 0; q < nl; q++) P += (double)li[q].n_params;
  jmb = (double)N * 10 * P * sizeof(ntk_real) / 1e6;
  if (!cnn_child(what, N, NTK_ENTK_STRUCTURED, 0, r)) printf("%s failed\n", name), n_failed_checks++;
  snprintf(cmd, sizeof cmd, "for p in python3 /usr/bin/python3; do $p -c 'import torch' 2>/dev/null && exec $p bench/torch_cnn_entk.py %zu %d %s; done 2>/dev/null", N, T, arch);
  p = getenv("NTK_BENCH_TORCH") && !strcmp(getenv("NTK_BENCH_TORCH"), "0") ? NULL : popen(cmd, "r");
  if (p) {
    if (fscanf(p, "%lf %lf %lf", &tt[0], &tt[1], &tt[2]) != 3) tt[0] = -1;
    pclose(p);
  }
  if (tt[0] > 0)
    printf("| %-44s | %9.2f | %9.2f | %9.0f | %11.2f | %11.2f | %9.0f |\n", name, r[0], r[1], r[2], tt[0], tt[1], tt[2]);
  else
    printf("| %-44s | %9.2f | %9.2f | %9.0f | %11s | %11s | %9s |\n", name, r[0], r[1], r[2], "n/a", "n/a", "n/a");
  printf("(%s%.0f parameters; J·Jᵀ holds the Jacobian, N·k·P = %.0f MB: ntk.h's peak is %.2f of it", prefix, P, jmb, r[2] / jmb);
  if (tt[0] > 0) printf("; torch.func / ntk.h: %.1fx wall, %.1fx CPU", tt[0] / r[0], tt[1] / r[1]);
  printf(")\n");
}
/* the paths of item 3 on the same network and inputs, one child each: the per-layer choice,
   every layer a Jacobian block, J·Jᵀ (the reference, which holds the Jacobian); traced and full */
static void cnn_paths_rows(int what, size_t N, const char *net) {
  static const int meth[3] = {NTK_ENTK_STRUCTURED, 16 /* NTK__ENTK_JBLOCK */, NTK_ENTK_JACOBIAN};
  static const char *mn[3] = {"per-layer choice", "every layer a J block", "J.J^T (holds J)"};
  int full, m;
  printf("\n%s, N = %zu, k = 10, per path (one run each):\n\n", net, N);
  printf("| %-36s | %9s | %9s | %9s |\n", "path", "wall s", "CPU s", "peak MB");
  printf("|%s|---:|---:|---:|\n", "--------------------------------------");
  for (full = 0; full < 2; full++)
    for (m = 0; m < 3; m++) {
      double r[4];
      char name[64];
      snprintf(name, sizeof name, "%s, %s", full ? "full (k x k)" : "traced", mn[m]);
      if (!cnn_child(what, N, meth[m], full, r)) { printf("| %-36s | %9s | %9s | %9s |\n", name, "failed", "", ""); n_failed_checks++; continue; }
      printf("| %-36s | %9.2f | %9.2f | %9.0f |\n", name, r[0], r[1], r[2]);
      fflush(stdout);
    }
}
static void bench_cnn(void) {
  size_t N = getenv("NTK_BENCH_CNN_N") ? (size_t)atoi(getenv("NTK_BENCH_CNN_N")) : 128;
  size_t Ng = getenv("NTK_BENCH_CNN_GD_N") ? (size_t)atoi(getenv("NTK_BENCH_CNN_GD_N")) : 1024;
  double r[4];
  int T = 1;
  char name[96], gname[96], rname[96];
#ifdef _OPENMP
  T = omp_get_max_threads();
#endif
  snprintf(name, sizeof name, "CNN eNTK Myrtle-5 w64 28x28 N=%zu k=10 traced", N);
  snprintf(gname, sizeof gname, "CNN GD step Myrtle-5 w64 28x28 N=%zu", Ng);
  snprintf(rname, sizeof rname, "CNN eNTK residual w32 28x28 N=%zu k=10 traced", N);
  if (!want(name) && !want(gname) && !want(rname)) return;
  printf("\n### Finite CNN (%s, %d threads): one run each, wall and CPU seconds, peak memory\n\n",
         sizeof(ntk_real) == 8 ? "double" : "float", T);
  printf("| %-44s | %9s | %9s | %9s | %11s | %11s | %9s |\n", "case", "ntk.h s", "CPU s", "peak MB", "torch.func s", "torch CPU s", "torch MB");
  printf("|%s|---:|---:|---:|---:|---:|---:|\n", "----------------------------------------------");
  if (want(name)) {
    ntk_layer l[13];
    cnn_layers(l);
    cnn_entk_row(name, 0, "myrtle", N, T, l, 13, "");
  }
  if (want(rname)) {
    ntk_layer l[64];
    size_t nl = cnn_res_layers(l, 64);
    if (nl) cnn_entk_row(rname, 2, "res", N, T, l, nl, CNN_RES_NET "; ");
  }
  if (want(gname)) {
    if (!cnn_child(1, Ng, NTK_ENTK_STRUCTURED, 0, r)) printf("GD step failed\n"), n_failed_checks++;
    printf("| %-44s | %9.2f | %9.2f | %9.0f | %11s | %11s | %9s |\n", gname, r[0], r[1], r[2], "", "", "");
  }
  if (want(name) && !getenv("NTK_BENCH_CNN_NOPATHS")) cnn_paths_rows(0, N, "Myrtle-5 w64 28x28");
  fflush(stdout);
}

/* ---- predictor rows ------------------------------------------------------------------------ */
/* ---- the spatial kernel (issue 16's rows) ---------------------------------------------------
   ms per entry of neural-tangents' benchmark network (21 × [Conv(1, 3×3, SAME) + ReLU] on
   32×32×3, GAP or Flatten, Dense), NNGP+NTK, double and float, 1 and 2 threads, against the
   fixed work of the design review's count (1.37e9 flops per GAP entry, 1.33e6 per Flatten
   entry) at the dgemm rate measured here, in the same run and at the same thread count. */
static void dgemm_once(void *p) {
  double **m = (double **)p;
  ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, 2048, 2048, 2048, 1.0, m[0], 2048, m[1], 2048, 0.0, m[2], 2048);
}
static void bench_spatial(void) {
  static const char *nets[2] = {"GAP", "Flatten"};
  static const double flops[2] = {1.37e9, 1.33e6}, frac[2] = {0.70, 0.50};
  double *m[3], rate[3] = {0, 0, 0};
  int t, net, prec;
  if (!want("spatial")) return;
  m[0] = (double *)malloc(2048 * 2048 * 8), m[1] = (double *)malloc(2048 * 2048 * 8), m[2] = (double *)malloc(2048 * 2048 * 8);
  fill_rand(m[0], 2048 * 2048, 1), fill_rand(m[1], 2048 * 2048, 1);
  for (t = 1; t <= 2; t++) {
    set_threads(t);
    rate[t] = 2.0 * 2048.0 * 2048.0 * 2048.0 / time_median(dgemm_once, m, 3) * 1e-9;
  }
  free(m[0]), free(m[1]), free(m[2]);
  printf("\n### Spatial NNGP+NTK: neural-tangents' benchmark network, 21 x [Conv(1, 3x3, SAME) + ReLU] on 32x32x3\n\n");
  printf("dgemm 2048^3 in this run: %.1f GFLOP/s (1T), %.1f GFLOP/s (2T). Target per entry: the review's flops at\n", rate[1], rate[2]);
  printf("70%% (GAP) / 50%% (Flatten) of the 2T dgemm rate, float at half the double time; 35%% is the floor.\n\n");
  printf("| %-30s | %10s | %10s | %10s | %10s | %10s |\n", "case", "ms/entry", "GFLOP/s", "% of dgemm", "target ms", "floor ms");
  printf("|%s|---:|---:|---:|---:|---:|\n", "--------------------------------");
  for (net = 0; net < 2; net++)
    for (prec = 0; prec < 2; prec++)
      for (t = 1; t <= 2; t++) {
        char name[96];
        size_t n1 = net == 0 ? 2 : 24, n2 = net == 0 ? 4 : 24;
        double s, k00, ms, gf, tgt = flops[net] / (frac[net] * rate[2] * 1e9) * 1e3, flo = flops[net] / (0.35 * rate[2] * 1e9) * 1e3;
        snprintf(name, sizeof name, "spatial %s %s %dT", nets[net], prec ? "f32" : "f64", t);
        if (!want(name) && !want("spatial")) continue;
        s = prec ? bench_spatial_f32(net, n1, n2, 0, t, 3, &k00) : bench_spatial_f64(net, n1, n2, 0, t, 3, &k00);
        if (s < 0) { printf("  !! %s failed\n", name); n_failed_checks++; continue; }
        ms = s * 1e3 / (double)(n1 * n2);
        gf = flops[net] / (ms * 1e-3) * 1e-9;
        if (prec) tgt *= 0.5, flo *= 0.5;
        printf("| %-30s | %10.4f | %10.1f | %9.0f%% | %10.4f | %10.4f |\n", name, ms, gf, 100 * gf / rate[t] / (prec ? 2 : 1), tgt, flo);
        fflush(stdout);
      }
  { /* Myrtle-5-style on 28×28×1: conv-relu ×2, (avgpool 2, conv-relu) ×2, avgpool 2, GAP, Dense */
    size_t n = 64;
    double s, k00, pairs = 0.5 * (double)n * (double)(n + 1), full = 0.5 * 1000.0 * 1001.0;
    set_threads(2);
    s = bench_spatial_f64(2, n, n, 1, 2, 1, &k00);
    if (s < 0) { printf("  !! myrtle failed\n"); n_failed_checks++; }
    else
      printf("\nMyrtle-5-style, 28x28x1, f64, 2T: %zux%zu symmetric %.2f s (%.3f ms/entry); 1000x1000 symmetric at that rate: %.0f s (extrapolated, not run)\n",
             n, n, s, s * 1e3 / pairs, s / pairs * full);
    /* one entry (a 1 x 1 kernel): the threads share its frames, also before the pools' barriers */
    for (t = 1; t <= 2; t++) {
      set_threads(t);
      s = bench_spatial_f64(2, 1, 1, 0, t, 5, &k00);
      if (s < 0) { printf("  !! myrtle one entry failed\n"); n_failed_checks++; }
      else printf("Myrtle-5-style, one entry (1 x 1 kernel), f64, %dT: %.3f ms\n", t, s * 1e3);
    }
  }
}

static void bench_predict(void) {
  static const size_t ns[] = {1000, 4096};
  size_t i, j;
  int t;
  printf("\n### Predictors (double): seconds (median of 3)\n\n");
  printf("| %-44s | %9s |\n", "case", "seconds");
  printf("|%s|---:|\n", "----------------------------------------------");
  for (t = 1; t <= 2; t++) {
    for (i = 0; i < 2; i++) {
      char name[96];
      size_t n = ns[i], m = 100;
      double *K, *y, *Kt, *f, ts[3], tq[3], t0;
      ntk_predictor pr;
      int r;
      snprintf(name, sizeof name, "predictor setup n=%zu %dT", n, t);
      if (!want(name)) continue;
      set_threads(t);
      K = spd_matrix(n), y = (double *)malloc(n * 8), Kt = (double *)malloc(m * n * 8), f = (double *)malloc(m * 8);
      for (j = 0; j < n; j++) y[j] = urand();
      for (j = 0; j < m * n; j++) Kt[j] = urand();
      for (r = 0; r < 3; r++) {
        t0 = now();
        ntk_predictor_init(&pr, K, n, y, 1, NULL, 1.0, 0.0, 0);
        ts[r] = now() - t0;
        t0 = now();
        ntk_predict_test(&pr, 100.0, 0, Kt, m, NULL, f);
        tq[r] = now() - t0;
        ntk_predictor_free(&pr);
      }
      qsort(ts, 3, sizeof(double), cmp_double);
      qsort(tq, 3, sizeof(double), cmp_double);
      printf("| %-44s | %9.3f |\n", name, ts[1]);
      snprintf(name, sizeof name, "predictor query (100 test points) n=%zu %dT", n, t);
      printf("| %-44s | %9.4f |\n", name, tq[1]);
      fflush(stdout);
      free(K), free(y), free(Kt), free(f);
    }
    for (i = 0; i < 2; i++) {
      char name[96];
      size_t n = i ? 8192 : 4096, m = 100;
      double *K, *y, *Kt, *f, tt[3], t0;
      int r;
      snprintf(name, sizeof name, "kernel regression (Cholesky) n=%zu %dT", n, t);
      if (!want(name)) continue;
      set_threads(t);
      K = spd_matrix(n), y = (double *)malloc(n * 8), Kt = (double *)malloc(m * n * 8), f = (double *)malloc(m * 8);
      for (j = 0; j < n; j++) y[j] = urand();
      for (j = 0; j < m * n; j++) Kt[j] = urand();
      for (r = 0; r < 3; r++) {
        t0 = now();
        ntk_gp_inference(K, n, y, 1, Kt, m, NULL, 0.0, 0, f, NULL);
        tt[r] = now() - t0;
      }
      qsort(tt, 3, sizeof(double), cmp_double);
      printf("| %-44s | %9.3f |\n", name, tt[1]);
      fflush(stdout);
      free(K), free(y), free(Kt), free(f);
    }
  }
}

/* ---- issue 19: tiles, float storage and solve, CG, ntk-mpi -------------------------------- */
typedef struct { double sum; } scale_acc;
static int scale_copy_cb(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp,
                         const ntk_real *ntk, size_t ld, void *user) { /* a caller that reads every entry */
  scale_acc *a = (scale_acc *)user;
  size_t i, j;
  (void)i0, (void)j0;
  for (i = 0; i < rows; i++) for (j = 0; j < cols; j++) a->sum += nngp[i * ld + j] + ntk[i * ld + j];
  return 0;
}
typedef struct { const double *A; size_t n; } scale_op;
static ntk_status scale_apply(size_t nrhs, const double *X, double *Y, void *user) {
  const scale_op *o = (const scale_op *)user;
  /* Yᵀ = Xᵀ·A (A symmetric): the product wide along n, not 10 columns */
  double *Yt = (double *)malloc(o->n * nrhs * sizeof(double));
  size_t i, c;
  ntk_status st;
  if (!Yt) return NTK_ERR_OUT_OF_MEMORY;
  st = ntk_dgemm(NTK_TRANS, NTK_NO_TRANS, nrhs, o->n, o->n, 1.0, X, nrhs, o->A, o->n, 0.0, Yt, o->n);
  for (i = 0; i < o->n; i++) for (c = 0; c < nrhs; c++) Y[i * nrhs + c] = Yt[c * o->n + i];
  free(Yt);
  return st;
}
static ntk_status scale_column(size_t j, double *col, void *user) {
  const scale_op *o = (const scale_op *)user;
  size_t i;
  for (i = 0; i < o->n; i++) col[i] = o->A[i * o->n + j];
  return NTK_OK;
}
static void bench_scale(void) {
  size_t n = getenv("NTK_BENCH_SCALE_N") ? (size_t)atol(getenv("NTK_BENCH_SCALE_N")) : 10000, d = 784, i, k = 10;
  ntk_layer net[16];
  size_t L = ntk_mlp(net, 16, 3, 0, ntk_relu(), 1.4, 0.1, 1);
  double *x, *K, *T, *B, *X, t0, tk, tt, tc, tf, td;
  float *F;
  ntk_tile_desc dd;
  scale_acc acc;
  int r;
  if (!want("scale")) return;
  printf("\n### Issue 19 (scale): n = %zu, d = 784, ReLU depth 3, 2 threads; seconds (best of 2)\n\n", n);
  printf("| %-58s | %9s | %9s |\n", "case", "seconds", "ratio");
  printf("|%s|---:|---:|\n", "------------------------------------------------------------");
  set_threads(2);
  x = (double *)malloc(n * d * 8), K = (double *)malloc(n * n * 8), T = (double *)malloc(n * n * 8);
  F = (float *)malloc(n * n * 4), B = (double *)malloc(n * k * 8), X = (double *)malloc(n * k * 8);
  if (!x || !K || !T || !F || !B || !X) { printf("  !! out of memory\n"); n_failed_checks++; return; }
  for (i = 0; i < n * d; i++) x[i] = urand();
  for (i = 0; i < n * k; i++) B[i] = urand();
  tk = tt = tc = tf = 1e30;
  for (r = 0; r < 2; r++) {
    t0 = now(), ntk_kernel(net, L, x, n, NULL, n, d, K, T), t0 = now() - t0, tk = t0 < tk ? t0 : tk;
    memset(&dd, 0, sizeof dd);
    dd.rows = 512, dd.cols = 2048, dd.nngp_out = K, dd.ntk_out = T, dd.ld_nngp = dd.ld_ntk = n, dd.mirror = 1;
    t0 = now(), ntk_kernel_tiles(net, L, x, n, NULL, n, d, &dd), t0 = now() - t0, tt = t0 < tt ? t0 : tt;
    memset(&dd, 0, sizeof dd);
    acc.sum = 0, dd.rows = dd.cols = 1024, dd.nngp = dd.ntk = 1, dd.fn = scale_copy_cb, dd.user = &acc;
    t0 = now(), ntk_kernel_tiles(net, L, x, n, NULL, n, d, &dd), t0 = now() - t0, tc = t0 < tc ? t0 : tc;
    memset(&dd, 0, sizeof dd);
    dd.rows = 512, dd.cols = 2048, dd.ntk_out = F, dd.ld_ntk = n, dd.out_float = 1, dd.mirror = 1;
    t0 = now(), ntk_kernel_tiles(net, L, x, n, NULL, n, d, &dd), t0 = now() - t0, tf = t0 < tf ? t0 : tf;
  }
  printf("| %-58s | %9.3f | %9s |\n", "ntk_kernel NNGP+NTK x2 = x1 (the reference)", tk, "1.00");
  printf("| %-58s | %9.3f | %9.3f |\n", "tiles 512x2048 -> double destinations, mirrored", tt, tt / tk);
  printf("| %-58s | %9.3f | %9.3f |\n", "tiles 1024x1024 -> a callback reading every entry", tc, tc / tk);
  printf("| %-58s | %9.3f | %9.3f |\n", "tiles -> float NTK destination, mirrored (vs NNGP+NTK)", tf, tf / tk);
  { /* the solve: double Cholesky vs float Cholesky + refinement, on the NTK + 1e-4·mean diag */
    double tr = 0, lam, *A = K, e = 0, nrm = 0;
    ntk_refine_info ri;
    for (i = 0; i < n; i++) tr += T[i * n + i];
    lam = 1e-4 * tr / (double)n;
    memcpy(A, T, n * n * 8);
    for (i = 0; i < n; i++) A[i * n + i] += lam;
    memcpy(X, B, n * k * 8);
    t0 = now();
    ntk_dpotrf(n, A, n), ntk_dpotrs(n, k, A, n, X, k);
    td = now() - t0;
    memcpy(A, T, n * n * 8);
    for (i = 0; i < n; i++) A[i * n + i] += lam;
    {
      double *Xd = (double *)malloc(n * k * 8);
      memcpy(Xd, X, n * k * 8);
      t0 = now();
      if (ntk_dsposv(n, k, A, n, F, n, B, k, X, k, &ri) != NTK_OK) { printf("  !! dsposv failed\n"); n_failed_checks++; }
      tf = now() - t0;
      for (i = 0; i < n * k; i++) e += (X[i] - Xd[i]) * (X[i] - Xd[i]), nrm += Xd[i] * Xd[i];
      free(Xd);
    }
    printf("| %-58s | %9.3f | %9s |\n", "dpotrf + dpotrs (10 rhs), lambda = 1e-4 mean diag", td, "1.00");
    printf("| %-58s | %9.3f | %9.3f |\n", "dsposv: spotrf + refinement (solution within)", tf, tf / td);
    printf("|   %-56s | %9.2e | %9zu |\n", "  relative difference, refinement steps", sqrt(e / nrm), ri.iterations);
    { /* CG, Nyström rank 500, several λ; each against its own Cholesky time */
      static const double lams[3] = {1e-2, 1e-4, 1e-6};
      double *diag = (double *)malloc(n * 8);
      int li;
      for (i = 0; i < n; i++) diag[i] = T[i * n + i];
      for (li = 0; li < 3; li++) {
        ntk_cg_desc cd;
        ntk_cg_info ci;
        scale_op op;
        char name[96];
        ntk_status st;
        memset(&cd, 0, sizeof cd);
        op.A = T, op.n = n;
        cd.tol = 1e-8, cd.rank = 500, cd.column = scale_column, cd.column_user = &op, cd.diag = diag, cd.max_iter = 3000;
        t0 = now();
        st = ntk_cg(n, k, scale_apply, &op, lams[li] * tr / (double)n, B, k, X, k, &cd, &ci);
        t0 = now() - t0;
        snprintf(name, sizeof name, "CG rank 500, tol 1e-8, lambda %.0e mean diag: %zu its%s", lams[li], ci.iterations,
                 st == NTK_OK ? "" : " (no conv.)");
        printf("| %-58s | %9.3f | %9.3f |\n", name, t0, t0 / td);
      }
      free(diag);
    }
  }
  free(x), free(K), free(T), free(F), free(B), free(X);
  /* ntk-mpi, 1 vs 2 processes (this machine has 2 cores: the row shows the engine's overhead) */
  if (system("command -v mpirun >/dev/null 2>&1 && test -x build/ntk-mpi") == 0) {
    size_t m = n < 4000 ? n : 4000, dm = 100, j;
    FILE *f = fopen("build/bench_mpi_x.txt", "w"), *g = fopen("build/bench_mpi_y.txt", "w");
    double t1 = 0, t2 = 0;
    const char *run = "mpirun --oversubscribe --allow-run-as-root -x OMP_NUM_THREADS=1 -x OPENBLAS_NUM_THREADS=1 -np %d build/ntk-mpi predict --depth 3 "
                      "--w-std 1.4 --b-std 0.1 --diag-reg 1e-4 --block 128 --train build/bench_mpi_x.txt --targets "
                      "build/bench_mpi_y.txt --test build/bench_mpi_x.txt > /dev/null";
    char cmd[512];
    for (i = 0; i < m; i++) {
      for (j = 0; j < dm; j++) fprintf(f, "%.6f%c", urand(), j + 1 < dm ? ',' : '\n');
      fprintf(g, "%.6f\n", urand());
    }
    fclose(f), fclose(g);
    for (r = 1; r <= 2; r++) {
      snprintf(cmd, sizeof cmd, run, r);
      t0 = now();
      if (system(cmd) != 0) { printf("  !! ntk-mpi failed\n"); n_failed_checks++; }
      if (r == 1) t1 = now() - t0; else t2 = now() - t0;
    }
    printf("| %-58s | %9.3f | %9s |\n", "ntk-mpi predict n = 4000 (d 100), 1 process, 1 thread", t1, "1.00");
    printf("| %-58s | %9.3f | %9.3f |\n", "ntk-mpi predict, 2 processes (speed-up: 1 / ratio)", t2, t2 / t1);
  } else {
    printf("| %-58s | %9s | %9s |\n", "ntk-mpi: not built (make mpi) or no mpirun", "-", "-");
  }
}

int main(int argc, char **argv) {
  if (argc > 1) filter = argv[1];
  if (getenv("NTK_BENCH_REPS")) reps_default = atoi(getenv("NTK_BENCH_REPS"));
  printf("ntk.h %s bench: kernel set %s (plain -O2 build: %s)", ntk_version(), ntk_simd_name(), bench_o2_simd());
#ifdef _OPENMP
  printf(", OpenMP max %d threads", omp_get_max_threads());
#endif
#ifdef NTK_BENCH_OPENBLAS
  printf(", OpenBLAS %s", openblas_get_config());
#else
  printf(", OpenBLAS not installed (no comparison column)");
#endif
  printf("\n");
  bench_gemm();
  bench_scaling();
  bench_kernel();
  bench_linalg();
  bench_entk();
  bench_cnn();
  bench_spatial();
  bench_predict();
  bench_scale();
  if (n_failed_checks) {
    printf("\n%d validation failures\n", n_failed_checks);
    return 1;
  }
  return 0;
}
