/* Fault injection over the public API: a translation unit of its own (NTK_STATIC, a counting
   allocator behind NTK_MALLOC/NTK_FREE), linked into the test binary like test_tiles_mem.c.
   For each case the allocations of a successful call are counted, then for i = 1 … count the
   call runs again with allocation i returning NULL, and once more with allocation i and every
   later one returning NULL (a fallback that needs memory of its own). Every run must
   - return NTK_OK with the same result (within 1e-12 relative: a fallback such as the GEMM's
     direct path without packing memory, or the frames' serial loop without per-thread buffers,
     only reorders sums), or NTK_ERR_OUT_OF_MEMORY (and only when an allocation did fail);
   - leave nothing allocated (the blocks of the call are kept on a list with their allocation
     index, so a leak is reported as "block #j, n bytes"), and free only what it allocated
     (a free of anything else, a wild pointer or a second free, is counted and not followed);
   - where the documentation says so, write nothing on NTK_ERR_OUT_OF_MEMORY (the finite-network
     functions and the predictions: outputs are pre-filled with a sentinel), and leave an
     object it failed to build in the documented state (ntk_net_init: *net all zero, so that
     ntk_net_free is safe; ntk_predictor_init: p empty).
   A crash shows as the last "fault case" line printed. Environment, to reproduce one run:
   NTK_FAULTS_CASE=substring (only the cases whose name contains it), NTK_FAULTS_INDEX=i (only
   the runs with allocation i failing), NTK_FAULTS_TRACE=1 (print each run before it starts;
   2: each allocation too, with its size and NTK_MALLOC line in ntk.h), NTK_FAULTS_SHOW=n (the
   failing runs listed per case, 6 by default), NTK_FAULTS_ABORT=1 (abort() at a bad free:
   with -fsanitize=address and ASAN_OPTIONS=handle_abort=1, the backtrace of that free).
   Double builds only (the outputs are compared as double). */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the counting allocator ------------------------------------------------------------- */
typedef struct fx_hdr {
  struct fx_hdr *prev, *next; /* the list of live blocks */
  size_t size, seq, epoch;    /* bytes; allocation index within its call; the call */
  int line;                   /* the NTK_MALLOC's line in ntk.h */
  unsigned long magic;
} fx_hdr;
#define FX_PAD 64 /* ≥ sizeof(fx_hdr), a multiple of 16: the library's alignment is kept */
#define FX_MAGIC 0x6e746b66UL
typedef char fx_pad_fits[sizeof(fx_hdr) <= FX_PAD ? 1 : -1];
static fx_hdr fx_list;                   /* sentinel of the circular list */
static size_t fx_count, fx_fail_at;      /* allocations in this call; the one that fails (0: none) */
static size_t fx_failed, fx_badfree;     /* allocations refused; frees of unknown blocks */
static size_t fx_epoch;                  /* the current call */
static int fx_trace;                     /* NTK_FAULTS_TRACE: 1 each run, 2 each allocation too */
static int fx_abort;                     /* NTK_FAULTS_ABORT: abort() at a bad free (a backtrace) */
static int fx_from;                      /* the failing allocation and every later one fail */
static void *fx_malloc(size_t n, int line) {
  fx_hdr *h;
  size_t seq = 0, ep = 0;
  int fail = 0;
#ifdef _OPENMP
#pragma omp critical(fx_alloc)
#endif
  {
    seq = ++fx_count, ep = fx_epoch;
    fail = fx_fail_at && (fx_from ? seq >= fx_fail_at : seq == fx_fail_at);
    if (fail) fx_failed++;
    if (fx_trace > 1) {
      printf("      allocation %zu: %zu bytes at ntk.h:%d%s\n", seq, n, line, fail ? " (refused)" : "");
      fflush(stdout);
    }
  }
  if (fail || n > (size_t)-1 - FX_PAD) return NULL;
  h = (fx_hdr *)malloc(n + FX_PAD);
  if (!h) return NULL;
  h->size = n, h->seq = seq, h->epoch = ep, h->magic = FX_MAGIC, h->line = line;
  memset((char *)h + FX_PAD, 0xa5, n); /* garbage, as fresh memory may hold: an uninitialised
                                          pointer that is freed is then always caught */
#ifdef _OPENMP
#pragma omp critical(fx_alloc)
#endif
  {
    if (!fx_list.next) fx_list.next = fx_list.prev = &fx_list;
    h->next = fx_list.next, h->prev = &fx_list;
    fx_list.next->prev = h, fx_list.next = h;
  }
  return (char *)h + FX_PAD;
}
static void fx_free(void *q) {
  fx_hdr *h = NULL, *g;
  if (!q) return;
#ifdef _OPENMP
#pragma omp critical(fx_alloc)
#endif
  { /* only a live block of ours is freed: a wild or second free is counted, not followed */
    if (fx_list.next)
      for (g = fx_list.next; g != &fx_list && !h; g = g->next)
        if ((char *)g + FX_PAD == (char *)q) h = g;
    if (!h || h->magic != FX_MAGIC) {
      fx_badfree++, h = NULL;
    } else {
      h->magic = 0;
      h->prev->next = h->next, h->next->prev = h->prev;
    }
  }
  if (h) free(h);
  else if (fx_abort) abort();
}
#define NTK_MALLOC(sz) fx_malloc(sz, __LINE__)
#define NTK_FREE(p) fx_free(p)
#include "../ntk.h"
#include "test.h"

#ifndef NTK_REAL_FLOAT
/* blocks of call `ep` still live: count, bytes, the first few as "#seq (bytes, ntk.h:line)" */
static size_t fx_leaks(size_t ep, size_t *bytes, char *desc, size_t cap, int reclaim) {
  fx_hdr *h, *nx;
  size_t nb = 0, used = 0;
  *bytes = 0;
  if (cap) desc[0] = 0;
  if (!fx_list.next) return 0;
  for (h = fx_list.next; h != &fx_list; h = nx) {
    nx = h->next;
    if (h->epoch != ep) continue;
    nb++, *bytes += h->size;
    if (nb <= 4 && used + 60 < cap) used += (size_t)snprintf(desc + used, cap - used, "%s#%zu (%zu B, ntk.h:%d)", nb > 1 ? ", " : "", h->seq, h->size, h->line);
    if (reclaim) fx_free((char *)h + FX_PAD);
  }
  return nb;
}

/* ---- the harness ------------------------------------------------------------------------ */
typedef ntk_status (*fx_run_fn)(void *u, double *out);
static char fx_note[256]; /* a run's own finding (object state after a failure, say) */
static int fx_only_index_set, fx_show = 6;
static size_t fx_only_index;
static const char *fx_only_case;
static double fx_total_allocs;
static double fx_tol = 1e-12; /* the agreement asked of an NTK_OK run; a case may loosen it */
#define FX_SENTINEL (-7.25e77)

static void fx_notef(const char *what) {
  if (!fx_note[0]) snprintf(fx_note, sizeof fx_note, "%s", what);
}

/* max over i of |got − ref| / max(|ref_i|, 1e-3·max|ref|): relative, except far below the
   array's scale (entries that cancel); NaN → INFINITY */
static double fx_dev(const double *got, const double *ref, size_t n, size_t *at) {
  size_t i;
  double mx = 0, worst = 0;
  *at = 0;
  for (i = 0; i < n; i++) if (fabs(ref[i]) > mx) mx = fabs(ref[i]);
  for (i = 0; i < n; i++) {
    double s = fabs(ref[i]) > 1e-3 * mx ? fabs(ref[i]) : 1e-3 * mx, e;
    if (s < 1e-300) s = 1e-300;
    e = got[i] == ref[i] ? 0 : fabs(got[i] - ref[i]) / s;
    if (e != e) e = INFINITY;
    if (e > worst) worst = e, *at = i;
  }
  return worst;
}

/* One case: the reference run, then each allocation failing in turn. pristine: documented
   "nothing written" on NTK_ERR_OUT_OF_MEMORY (checked on out, pre-filled with a sentinel). */
static void fx_case(const char *name, fx_run_fn run, void *u, size_t nout, int pristine) {
  double *ref = (double *)malloc((nout + 1) * sizeof(double)), *got = (double *)malloc((nout + 1) * sizeof(double));
  size_t nall, i, nb, bytes, nok = 0, noom = 0, nbad = 0, e, at;
  double worst = 0;
  char lk[200];
  ntk_status st;
  if (fx_only_case && !strstr(name, fx_only_case)) { free(ref), free(got); return; }
  printf("  fault case %s: ", name);
  fflush(stdout);
  for (e = 0; e < nout; e++) ref[e] = FX_SENTINEL;
  fx_note[0] = 0;
  fx_count = 0, fx_fail_at = 0, fx_failed = 0, fx_badfree = 0, fx_epoch++;
  st = run(u, ref);
  nall = fx_count;
  nb = fx_leaks(fx_epoch, &bytes, lk, sizeof lk, 1);
  printf("%zu allocations\n", nall);
  fflush(stdout);
  T_CHECK(st == NTK_OK, "%s: the call without failures returned %s", name, ntk_status_string(st));
  T_CHECK(nb == 0 && fx_badfree == 0 && !fx_note[0], "%s, no failure: %zu blocks (%zu bytes) not freed [%s], %zu bad frees%s%s",
          name, nb, bytes, lk, fx_badfree, fx_note[0] ? "; " : "", fx_note);
  if (st != NTK_OK) { free(ref), free(got); fx_tol = 1e-12; return; }
  fx_total_allocs += 2 * (double)nall;
  for (fx_from = 0; fx_from < 2; fx_from++) { /* allocation i fails; then i and every later one */
    const char *what = fx_from ? "and every later one failing" : "failing";
    nok = noom = nbad = 0, worst = 0;
    for (i = 1; i <= nall; i++) {
      char why[400];
      if (fx_only_index_set && i != fx_only_index) continue;
      why[0] = 0;
      for (e = 0; e < nout; e++) got[e] = FX_SENTINEL;
      if (fx_trace) { printf("    %s: allocation %zu of %zu %s\n", name, i, nall, what); fflush(stdout); }
      fx_note[0] = 0;
      fx_count = 0, fx_fail_at = i, fx_failed = 0, fx_badfree = 0, fx_epoch++;
      st = run(u, got);
      fx_fail_at = 0;
      nb = fx_leaks(fx_epoch, &bytes, lk, sizeof lk, 1);
      if (st == NTK_OK) {
        double d = fx_dev(got, ref, nout, &at);
        nok++;
        if (d > worst) worst = d;
        if (d > fx_tol)
          snprintf(why, sizeof why, "NTK_OK but the result differs: output[%zu] = %.17g, expected %.17g (%.3g relative)",
                   at, got[at], ref[at], d);
      } else if (st == NTK_ERR_OUT_OF_MEMORY) {
        noom++;
        if (!fx_failed) snprintf(why, sizeof why, "NTK_ERR_OUT_OF_MEMORY although no allocation failed (%zu made)", fx_count);
        else if (pristine) {
          for (e = 0; e < nout && got[e] == FX_SENTINEL; e++) {}
          if (e < nout) snprintf(why, sizeof why, "NTK_ERR_OUT_OF_MEMORY, but output[%zu] was written (%.17g)", e, got[e]);
        }
      } else {
        snprintf(why, sizeof why, "returned %s (expected NTK_OK or NTK_ERR_OUT_OF_MEMORY)", ntk_status_string(st));
      }
      if (nb || fx_badfree || fx_note[0]) {
        size_t w = strlen(why);
        if (nb) w += (size_t)snprintf(why + w, sizeof why - w, "%sleaked %zu bytes in %zu blocks: %s", w ? "; " : "", bytes, nb, lk);
        if (fx_badfree && w < sizeof why) w += (size_t)snprintf(why + w, sizeof why - w, "%s%zu frees of blocks not allocated (or freed twice)", w ? "; " : "", fx_badfree);
        if (fx_note[0] && w < sizeof why) (void)snprintf(why + w, sizeof why - w, "%s%s", w ? "; " : "", fx_note);
      }
      if (why[0]) {
        nbad++;
        if (nbad <= (size_t)fx_show)
          printf("    FAULT %s, allocation %zu of %zu %s (%s): %s\n", name, i, nall, what, ntk_status_string(st), why);
      }
    }
    if (nbad > (size_t)fx_show) printf("    FAULT %s (%s): %zu more failing runs not shown\n", name, what, nbad - (size_t)fx_show);
    if (nall) printf("    allocation i %s, i = 1..%zu: %zu NTK_OK (largest deviation %.2g), %zu out of memory, %zu wrong\n", what, nall, nok, worst, noom, nbad);
    fflush(stdout);
    T_CHECK(nbad == 0, "%s: %zu of the %zu runs with allocation i %s are wrong (listed above)", name, nbad, nall, what);
  }
  fx_from = 0;
  free(ref), free(got);
  fx_tol = 1e-12;
}
/* a call that allocates nothing: one run, and the count checked to be 0 */
static void fx_none(const char *name, fx_run_fn run, void *u, size_t nout) {
  double *out = (double *)malloc((nout + 1) * sizeof(double));
  ntk_status st;
  if (fx_only_case && !strstr(name, fx_only_case)) { free(out); return; }
  printf("  fault case %s: ", name);
  fflush(stdout);
  fx_count = 0, fx_fail_at = 0, fx_epoch++;
  st = run(u, out);
  printf("%zu allocations\n", fx_count);
  T_CHECK(st == NTK_OK && fx_count == 0, "%s: %s with %zu allocations (expected none)", name, ntk_status_string(st), fx_count);
  free(out);
}

static void fx_fill(ntk_real *x, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) x[i] = (ntk_real)t_normal();
}
static void fx_copy(double *out, const ntk_real *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) out[i] = (double)v[i];
}

/* ---- the layer lists: tiny, with every kind of driver path ------------------------------- */
enum { FX_H = 4, FX_W = 5, FX_C = 2, FX_D = FX_H * FX_W * FX_C, FX_MLP_D = 3 };
static size_t fx_mlp(ntk_layer *l) { /* a quadrature activation (tanh) too */
  size_t n = 0;
  l[n++] = ntk_dense(6, 1.4, 0.1), l[n++] = ntk_relu(), l[n++] = ntk_dense(5, 1.2, 0.05), l[n++] = ntk_tanh();
  l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_mlp_erf(ntk_layer *l) { /* closed forms only (cheap: the SPD matrices, the predictors' kernels) */
  size_t n = 0;
  l[n++] = ntk_dense(6, 1.4, 0.1), l[n++] = ntk_relu(), l[n++] = ntk_dense(5, 1.2, 0.05), l[n++] = ntk_erf();
  l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_cnn(ntk_layer *l) { /* conv, avg pool (a barrier), conv, GAP */
  size_t n = 0;
  l[n++] = ntk_input(FX_H, FX_W, FX_C), l[n++] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), l[n++] = ntk_relu();
  l[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_SAME, 0), l[n++] = ntk_conv(3, 2, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.05);
  l[n++] = ntk_relu(), l[n++] = ntk_global_avg_pool(), l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_res(ntk_layer *l) { /* a residual branch */
  size_t n = 0;
  l[n++] = ntk_input(FX_H, FX_W, FX_C), l[n++] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1);
  l[n++] = ntk_fanout(2), l[n++] = ntk_relu(), l[n++] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.1);
  l[n++] = ntk_branch(), l[n++] = ntk_fanin_sum(), l[n++] = ntk_relu(), l[n++] = ntk_global_avg_pool();
  l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_flat(ntk_layer *l) { /* a Flatten readout (the diagonal-only path) */
  size_t n = 0;
  l[n++] = ntk_input(FX_H, FX_W, FX_C), l[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), l[n++] = ntk_relu();
  l[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0), l[n++] = ntk_relu(), l[n++] = ntk_flatten();
  l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_cat(ntk_layer *l) { /* a concatenating branch (not Gaussian: a conv follows) */
  size_t n = 0;
  l[n++] = ntk_input(FX_H, FX_W, FX_C), l[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1);
  l[n++] = ntk_fanout(2), l[n++] = ntk_relu(), l[n++] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.1);
  l[n++] = ntk_branch(), l[n++] = ntk_fanin_concat(), l[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_CIRCULAR, 1.2, 0.1);
  l[n++] = ntk_relu(), l[n++] = ntk_global_avg_pool(), l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}
static size_t fx_mat(ntk_layer *l) { /* a barrier inside a branch: the materialised path; LayerNorm */
  size_t n = 0;
  l[n++] = ntk_input(FX_H, FX_W, FX_C), l[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1);
  l[n++] = ntk_fanout(2), l[n++] = ntk_relu(), l[n++] = ntk_conv(3, 3, 3, 2, 2, NTK_PAD_SAME, 1.3, 0.1);
  l[n++] = ntk_branch(), l[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_SAME, 0), l[n++] = ntk_fanin_sum();
  l[n++] = ntk_layer_norm(0, 0), l[n++] = ntk_relu(), l[n++] = ntk_global_avg_pool(), l[n++] = ntk_dense(2, 1.0, 0.1);
  return n;
}

/* ---- infinite-width kernels ------------------------------------------------------------- */
typedef struct fx_kern {
  const ntk_layer *l;
  size_t nl, n1, n2, dim, tile, rows, cols, nrhs;
  const ntk_real *x1, *x2; /* x2 NULL: x1 */
  int threads, which;
  const double *X;
  double *cbq, *cbt; /* the tile callback's destination (full matrices) */
  size_t ld;
} fx_kern;
static size_t fx_m2(const fx_kern *k) { return k->x2 ? k->n2 : k->n1; }
static ntk_status fx_run_kernel(void *u, double *out) {
  const fx_kern *k = (const fx_kern *)u;
  ntk_kernel_desc d;
  size_t m = k->n1 * fx_m2(k);
  memset(&d, 0, sizeof d);
  d.threads = k->threads, d.tile = k->tile;
  return ntk_kernel_ex(k->l, k->nl, k->x1, k->n1, k->x2, k->n2, k->dim, out, out + m, &d);
}
static int fx_tile_cb(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp, const ntk_real *ntk,
                      size_t ld, void *user) {
  const fx_kern *k = (const fx_kern *)user;
  size_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) {
      size_t a = (i0 + i) * k->ld + j0 + j, b = (j0 + j) * k->ld + i0 + i;
      k->cbq[a] = nngp[i * ld + j], k->cbt[a] = ntk[i * ld + j];
      if (!k->x2) k->cbq[b] = nngp[i * ld + j], k->cbt[b] = ntk[i * ld + j];
    }
  return 0;
}
static ntk_status fx_run_tiles(void *u, double *out) {
  fx_kern k = *(const fx_kern *)u;
  ntk_tile_desc d;
  size_t m = k.n1 * fx_m2(&k), i;
  for (i = 0; i < 4 * m; i++) out[i] = 0;
  k.cbq = out, k.cbt = out + m, k.ld = fx_m2(&k);
  memset(&d, 0, sizeof d);
  d.rows = k.rows, d.cols = k.cols, d.nngp = d.ntk = 1, d.fn = fx_tile_cb, d.user = &k, d.threads = k.threads;
  d.nngp_out = out + 2 * m, d.ntk_out = out + 3 * m, d.ld_nngp = d.ld_ntk = fx_m2(&k), d.mirror = 1;
  return ntk_kernel_tiles(k.l, k.nl, k.x1, k.n1, k.x2, k.n2, k.dim, &d);
}
static ntk_status fx_run_apply(void *u, double *out) {
  const fx_kern *k = (const fx_kern *)u;
  ntk_tile_desc d;
  memset(&d, 0, sizeof d);
  d.rows = k->rows, d.cols = k->cols, d.threads = k->threads;
  return ntk_kernel_apply(k->l, k->nl, k->x1, k->n1, k->x2, k->n2, k->dim, k->which, k->nrhs, k->X, out, &d);
}

static void fx_kernels(void) {
  ntk_layer lm[8], lc[12], lr[12], lf[12], lx[14], lk[14];
  size_t nm = fx_mlp(lm), nc = fx_cnn(lc), nr = fx_res(lr), nf = fx_flat(lf), nx = fx_mat(lx), nk = fx_cat(lk), s;
  ntk_real xm[8 * FX_MLP_D], xs[8 * FX_D];
  double X[8 * 2];
  struct { const char *name; const ntk_layer *l; size_t nl, dim; const ntk_real *x; } nets[6];
  int th, sym;
  char name[160];
  fx_kern k;
  fx_fill(xm, 8 * FX_MLP_D), fx_fill(xs, 8 * FX_D);
  for (s = 0; s < 16; s++) X[s] = t_normal();
  nets[0].name = "MLP (relu, tanh)", nets[0].l = lm, nets[0].nl = nm, nets[0].dim = FX_MLP_D, nets[0].x = xm;
  nets[1].name = "CNN (conv, avg pool, GAP)", nets[1].l = lc, nets[1].nl = nc, nets[1].dim = FX_D, nets[1].x = xs;
  nets[2].name = "residual CNN", nets[2].l = lr, nets[2].nl = nr, nets[2].dim = FX_D, nets[2].x = xs;
  nets[3].name = "CNN, Flatten readout", nets[3].l = lf, nets[3].nl = nf, nets[3].dim = FX_D, nets[3].x = xs;
  nets[4].name = "CNN, strided conv in a branch", nets[4].l = lx, nets[4].nl = nx, nets[4].dim = FX_D, nets[4].x = xs;
  nets[5].name = "CNN, concat branch", nets[5].l = lk, nets[5].nl = nk, nets[5].dim = FX_D, nets[5].x = xs;
  t_section("faults: ntk_kernel_ex, every allocation failing in turn");
  for (s = 0; s < 6; s++)
    for (th = 1; th <= 2; th++)
      for (sym = 0; sym < 2; sym++) {
        memset(&k, 0, sizeof k);
        k.l = nets[s].l, k.nl = nets[s].nl, k.dim = nets[s].dim, k.x1 = nets[s].x, k.n1 = 3;
        k.x2 = sym ? NULL : nets[s].x + 3 * nets[s].dim, k.n2 = sym ? 0 : 2, k.threads = th;
        k.tile = s == 0 && th == 2 ? 1 : 0; /* MLP: blocks of one row, so that both threads work */
        snprintf(name, sizeof name, "ntk_kernel_ex %s, %s, %d thread%s", nets[s].name, sym ? "x2 = NULL" : "x2 given",
                 th, th > 1 ? "s" : "");
        fx_case(name, fx_run_kernel, &k, 2 * k.n1 * fx_m2(&k), 0);
      }
  /* one pair on two threads: the threads share the frames of the pair (per-frame buffers, or
     the serial loop without them) */
  for (s = 1; s < 6; s++)
    for (sym = 0; sym < 2; sym++) {
      memset(&k, 0, sizeof k);
      k.l = nets[s].l, k.nl = nets[s].nl, k.dim = nets[s].dim, k.x1 = nets[s].x, k.n1 = 1;
      k.x2 = sym ? NULL : nets[s].x + nets[s].dim, k.n2 = sym ? 0 : 1, k.threads = 2;
      snprintf(name, sizeof name, "ntk_kernel_ex 1x1 %s, %s, 2 threads", nets[s].name, sym ? "x2 = NULL" : "x2 given");
      fx_case(name, fx_run_kernel, &k, 2, 0);
    }
  t_section("faults: ntk_kernel_tiles (callback and mirrored destinations), ntk_kernel_apply");
  for (s = 0; s < 3; s++)
    for (sym = 0; sym < 2; sym++) {
      memset(&k, 0, sizeof k);
      k.l = nets[s].l, k.nl = nets[s].nl, k.dim = nets[s].dim, k.x1 = nets[s].x, k.n1 = 4;
      /* x2 disjoint from x1: a point paired with itself through x2 has ρ within an ulp of 1, where
         the ReLU family's Ṫ is steep (documented), and the Gram by the direct path (the GEMM
         without packing memory) moves such an entry by ~1e-9 */
      k.x2 = sym ? NULL : nets[s].x + 4 * nets[s].dim, k.n2 = sym ? 0 : 3, k.threads = 2, k.rows = 2, k.cols = 2;
      snprintf(name, sizeof name, "ntk_kernel_tiles %s, %s, 2x2 blocks, 2 threads", nets[s].name, sym ? "x2 = NULL" : "x2 given");
      fx_case(name, fx_run_tiles, &k, 4 * k.n1 * fx_m2(&k), 0);
      k.nrhs = 2, k.X = X, k.which = sym;
      snprintf(name, sizeof name, "ntk_kernel_apply %s %s, %s, 2x2 blocks", nets[s].name, sym ? "NTK" : "NNGP", sym ? "x2 = NULL" : "x2 given");
      fx_case(name, fx_run_apply, &k, k.n1 * k.nrhs, 0);
    }
}

/* ---- dense linear algebra and solvers --------------------------------------------------- */
typedef struct fx_lin {
  size_t n, nrhs, rank;
  const double *A, *B; /* A (n, n) symmetric positive definite, B (n, nrhs) */
  double *work;        /* (n, n) copy for the in-place calls */
  float *LF;
  int vectors;
  fx_kern *kop;        /* CG on ntk_kernel_apply */
} fx_lin;
static ntk_status fx_run_dsyev(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  size_t n = c->n, i, j, q;
  ntk_status st;
  memcpy(c->work, c->A, n * n * sizeof(double));
  st = ntk_dsyev_ex(n, c->work, n, out, c->vectors);
  if (st == NTK_OK && c->vectors) { /* the vectors by their residual and orthogonality (close
                                       eigenvalues may rotate them by rounding) */
    const double *V = c->work;
    double res = 0, orth = 0, an = fabs(out[0]) > fabs(out[n - 1]) ? fabs(out[0]) : fabs(out[n - 1]);
    for (j = 0; j < n; j++)
      for (i = 0; i < n; i++) {
        double r = -out[j] * V[i * n + j], g = i == j ? -1.0 : 0.0;
        for (q = 0; q < n; q++) r += c->A[i * n + q] * V[q * n + j], g += V[q * n + i] * V[q * n + j];
        if (fabs(r) > res) res = fabs(r);
        if (fabs(g) > orth) orth = fabs(g);
      }
    out[n] = res <= 1e-13 * (double)n * an, out[n + 1] = orth <= 1e-13 * (double)n;
  }
  return st;
}
static ntk_status fx_run_ssyev(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  size_t n = c->n, i;
  float *A = c->LF, w[64];
  ntk_status st;
  for (i = 0; i < n * n; i++) A[i] = (float)c->A[i];
  st = ntk_ssyev(n, A, n, w);
  if (st == NTK_OK) for (i = 0; i < n; i++) out[i] = w[i];
  return st;
}
static ntk_status fx_run_dpotrf(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  size_t n = c->n, i, j, info = 0;
  ntk_status st;
  memcpy(c->work, c->A, n * n * sizeof(double));
  st = ntk_dpotrf_ex(n, c->work, n, &info);
  if (st == NTK_OK) {
    for (i = 0; i < n; i++) for (j = 0; j < n; j++) out[i * n + j] = j <= i ? c->work[i * n + j] : 0;
    out[n * n] = (double)info;
  }
  return st;
}
static ntk_status fx_run_dsposv(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  ntk_refine_info ri;
  ntk_status st = ntk_dsposv(c->n, c->nrhs, c->A, c->n, c->LF, c->n, c->B, c->nrhs, out, c->nrhs, &ri);
  if (st == NTK_OK) out[c->n * c->nrhs] = (double)ri.iterations, out[c->n * c->nrhs + 1] = (double)ri.factor_info;
  return st;
}
static ntk_status fx_op_dense(size_t nrhs, const double *X, double *Y, void *user) {
  const fx_lin *c = (const fx_lin *)user; /* a GEMM that packs (n ≥ 16): its fallback is exercised */
  return ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, c->n, nrhs, c->n, 1.0, c->A, c->n, X, nrhs, 0.0, Y, nrhs);
}
static ntk_status fx_col_dense(size_t j, double *col, void *user) {
  const fx_lin *c = (const fx_lin *)user;
  size_t i;
  for (i = 0; i < c->n; i++) col[i] = c->A[i * c->n + j];
  return NTK_OK;
}
static ntk_status fx_op_kernel(size_t nrhs, const double *X, double *Y, void *user) {
  const fx_lin *c = (const fx_lin *)user; /* the NTK recomputed block by block: it allocates */
  ntk_tile_desc d;
  memset(&d, 0, sizeof d);
  d.rows = d.cols = 4;
  return ntk_kernel_apply(c->kop->l, c->kop->nl, c->kop->x1, c->n, NULL, 0, c->kop->dim, 1, nrhs, X, Y, &d);
}
static ntk_status fx_run_cg(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  ntk_cg_desc d;
  ntk_cg_info ci;
  double diag[64], lambda = 1e-2 * c->A[0];
  size_t i;
  ntk_status st;
  for (i = 0; i < c->n; i++) diag[i] = c->A[i * c->n + i];
  memset(&d, 0, sizeof d);
  d.tol = 1e-12, d.rank = c->rank, d.column = fx_col_dense, d.column_user = (void *)(uintptr_t)c, d.diag = diag;
  st = ntk_cg(c->n, c->nrhs, c->kop ? fx_op_kernel : fx_op_dense, (void *)(uintptr_t)c, lambda, c->B, c->nrhs, out,
              c->nrhs, &d, &ci);
  if (st == NTK_OK) out[c->n * c->nrhs] = (double)ci.rank, out[c->n * c->nrhs + 1] = 0; /* (the iteration count may move by one with rounding) */
  return st;
}
static ntk_status fx_run_dgemm(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  return ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, c->n, c->n, c->n, 1.5, c->A, c->n, c->work, c->n, 0.0, out, c->n);
}
static ntk_status fx_run_dsyrk(void *u, double *out) {
  const fx_lin *c = (const fx_lin *)u;
  size_t i;
  for (i = 0; i < c->n * c->n; i++) out[i] = 0; /* the upper triangle is not written */
  return ntk_dsyrk(NTK_LOWER, NTK_NO_TRANS, c->n, c->n, 1.0, c->work, c->n, 0.0, out, c->n);
}

/* a symmetric positive definite (n, n): an MLP NTK plus a ridge */
static void fx_spd(double *A, size_t n, ntk_real *x, size_t dim) {
  ntk_layer l[8];
  size_t L = fx_mlp_erf(l), i;
  fx_fill(x, n * dim);
  T_STATUS(ntk_kernel(l, L, x, n, NULL, 0, dim, NULL, A), NTK_OK);
  for (i = 0; i < n; i++) A[i * n + i] += 0.05 * A[0];
}

static void fx_linalg(void) {
  enum { NMAX = 64 };
  static double A[NMAX * NMAX], W[NMAX * NMAX], B[NMAX * 4], G[NMAX * NMAX];
  static float LF[NMAX * NMAX];
  static ntk_real x[NMAX * 4];
  static const size_t sizes[2] = {6, 48};
  ntk_layer l[8];
  fx_kern kop;
  fx_lin c;
  size_t s, i;
  char name[160];
  t_section("faults: dense linear algebra and solvers");
  for (s = 0; s < 2; s++) {
    size_t n = sizes[s];
    fx_spd(A, n, x, 4);
    for (i = 0; i < n * 4; i++) B[i] = t_normal();
    memset(&c, 0, sizeof c);
    c.n = n, c.nrhs = 2, c.A = A, c.B = B, c.work = W, c.LF = LF;
    c.vectors = 1;
    snprintf(name, sizeof name, "ntk_dsyev n = %zu", n);
    fx_case(name, fx_run_dsyev, &c, n + 2, 0);
    c.vectors = 0;
    snprintf(name, sizeof name, "ntk_dsyev_ex n = %zu, eigenvalues only", n);
    fx_case(name, fx_run_dsyev, &c, n, 0);
    snprintf(name, sizeof name, "ntk_ssyev n = %zu", n);
    fx_case(name, fx_run_ssyev, &c, n, 0);
    snprintf(name, sizeof name, "ntk_dpotrf_ex n = %zu", n);
    fx_case(name, fx_run_dpotrf, &c, n * n + 1, 0);
    snprintf(name, sizeof name, "ntk_dsposv n = %zu, 2 right-hand sides", n);
    fx_case(name, fx_run_dsposv, &c, n * 2 + 2, 0);
    c.nrhs = 4; /* (n, 4) products: the operator's GEMM packs (n = 48), and without memory takes
                   the direct path; the iterates then differ by rounding, which CG amplifies up to
                   its own tolerance (1e-12 of the residual): compared to 1e-9 */
    for (c.rank = 0; c.rank <= 5; c.rank += 5) {
      snprintf(name, sizeof name, "ntk_cg n = %zu, 4 right-hand sides, %s, operator ntk_dgemm", n, c.rank ? "Nystrom rank 5" : "Jacobi");
      fx_tol = 1e-9;
      fx_case(name, fx_run_cg, &c, n * 4 + 2, 0);
    }
  }
  /* the GEMM and SYRK themselves: their only allocation is the packing block (48³ > 16³) */
  c.n = 48;
  for (i = 0; i < 48 * 48; i++) W[i] = t_normal();
  fx_case("ntk_dgemm 48x48x48 (without its packing block, the direct path)", fx_run_dgemm, &c, 48 * 48, 0);
  fx_case("ntk_dsyrk 48x48 (without its packing block, the direct path)", fx_run_dsyrk, &c, 48 * 48, 0);
  /* CG whose operator is ntk_kernel_apply (its allocations fail inside the callback) */
  memset(&kop, 0, sizeof kop);
  kop.l = l, kop.nl = fx_mlp_erf(l), kop.dim = 4, kop.x1 = x;
  memset(&c, 0, sizeof c);
  c.n = 10, c.nrhs = 2, c.rank = 3, c.B = B, c.kop = &kop;
  fx_fill(x, 10 * 4);
  T_STATUS(ntk_kernel(l, kop.nl, x, 10, NULL, 0, 4, NULL, G), NTK_OK);
  c.A = G; /* the preconditioner's columns and diagonal from the stored NTK */
  fx_tol = 1e-9; /* as above: the Gram by the direct path moves the kernel by rounding */
  fx_case("ntk_cg n = 10, Nystrom rank 3, operator ntk_kernel_apply", fx_run_cg, &c, 10 * 2 + 2, 0);
}

/* ---- predictions ------------------------------------------------------------------------ */
enum { FX_PN = 6, FX_PM = 3, FX_PK = 2 };
typedef struct fx_pred {
  ntk_real K[FX_PN * FX_PN], G[FX_PN * FX_PN], Kt[FX_PM * FX_PN], Gt[FX_PM * FX_PN], Gtt[FX_PM * FX_PM];
  ntk_real y[FX_PN * FX_PK], f0[FX_PN * FX_PK], g0[FX_PM * FX_PK];
  ntk_predictor p, pg;      /* built once: from the NTK, and from the NNGP */
  double steps;
  int discrete, progress_calls;
} fx_pred;
static int fx_progress(const char *stage, double done, void *user) {
  (void)stage, (void)done;
  ((fx_pred *)user)->progress_calls++;
  return 0;
}
static int fx_pred_empty(const ntk_predictor *p) {
  return !p->evec && !p->eval && !p->r0 && !p->alpha && !p->y && !p->f0 && p->n == 0 && p->k == 0 && p->rank == 0;
}
static ntk_status fx_run_pinit(void *u, double *out) {
  fx_pred *c = (fx_pred *)u;
  ntk_predictor p;
  ntk_predictor_desc d;
  ntk_status st;
  size_t n = FX_PN, k = FX_PK;
  ntk_real f[FX_PN * FX_PK];
  memset(&d, 0, sizeof d);
  d.progress = fx_progress, d.progress_user = c;
  c->progress_calls = 0;
  st = c->discrete ? ntk_predictor_init_ex(&p, c->K, n, c->y, k, c->f0, 0.5, 1e-3, 0, &d)
                   : ntk_predictor_init(&p, c->K, n, c->y, k, c->f0, 0.5, 1e-3, 0);
  if (st == NTK_OK) {
    fx_copy(out, p.evec, n * n), fx_copy(out + n * n, p.eval, n), fx_copy(out + n * n + n, p.r0, n * k);
    if (p.alpha) fx_copy(out + n * n + n + n * k, p.alpha, n * k);
    else memset(out + n * n + n + n * k, 0, n * k * sizeof(double));
    out[n * n + n + 2 * n * k] = (double)p.chol_status, out[n * n + n + 2 * n * k + 1] = (double)p.rank;
    out[n * n + n + 2 * n * k + 2] = p.reg, out[n * n + n + 2 * n * k + 3] = c->discrete ? c->progress_calls : 0;
    /* what the predictor answers at t = ∞ (that query allocates nothing): NTK_OK and y */
    memset(f, 0, sizeof f);
    out[n * n + n + 2 * n * k + 4] = (double)ntk_predict_train(&p, INFINITY, 0, f);
    fx_copy(out + n * n + n + 2 * n * k + 5, f, n * k);
  } else if (!fx_pred_empty(&p)) {
    fx_notef("the failed ntk_predictor_init left p not empty");
  }
  ntk_predictor_free(&p); /* safe after a failure: p is empty (or built) */
  return st;
}
static ntk_status fx_run_ptrain(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_predict_train(&c->p, c->steps, c->discrete, out);
}
static ntk_status fx_run_ptest(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_predict_test(&c->p, c->steps, c->discrete, c->Kt, FX_PM, c->g0, out);
}
static ntk_status fx_run_ens_ntk(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_ensemble_ntk(&c->p, c->steps, c->Kt, FX_PM, c->G, c->Gt, c->Gtt, out, out + FX_PM * FX_PK);
}
static ntk_status fx_run_ens_nngp(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_ensemble_nngp(&c->pg, c->steps, c->Gt, FX_PM, c->Gtt, out, out + FX_PM * FX_PK);
}
static ntk_status fx_run_gp(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_gp_inference(c->G, FX_PN, c->y, FX_PK, c->Gt, FX_PM, c->Gtt, 1e-4, 0, out, out + FX_PM * FX_PK);
}
static ntk_status fx_run_maxlr(void *u, double *out) {
  const fx_pred *c = (const fx_pred *)u;
  return ntk_max_learning_rate(c->K, FX_PN, FX_PK, out);
}

static void fx_predict(void) {
  static fx_pred c;
  ntk_layer l[8];
  size_t L = fx_mlp_erf(l), dim = 4;
  ntk_real x[(FX_PN + FX_PM) * 4];
  static const double times[3] = {7.0, 25.0, INFINITY};
  int t;
  char name[160];
  t_section("faults: predictor, predictions, ensembles, GP inference");
  memset(&c, 0, sizeof c);
  fx_fill(x, (FX_PN + FX_PM) * dim), fx_fill(c.y, FX_PN * FX_PK), fx_fill(c.f0, FX_PN * FX_PK), fx_fill(c.g0, FX_PM * FX_PK);
  T_STATUS(ntk_kernel(l, L, x, FX_PN, NULL, 0, dim, c.G, c.K), NTK_OK);
  T_STATUS(ntk_kernel(l, L, x + FX_PN * dim, FX_PM, x, FX_PN, dim, c.Gt, c.Kt), NTK_OK);
  T_STATUS(ntk_kernel(l, L, x + FX_PN * dim, FX_PM, NULL, 0, dim, c.Gtt, NULL), NTK_OK);
  c.discrete = 0;
  fx_case("ntk_predictor_init (n = 6, k = 2, f0 given)", fx_run_pinit, &c, FX_PN * FX_PN + FX_PN + 3 * FX_PN * FX_PK + 5, 0);
  c.discrete = 1; /* here: with the progress callback */
  fx_case("ntk_predictor_init_ex with progress", fx_run_pinit, &c, FX_PN * FX_PN + FX_PN + 3 * FX_PN * FX_PK + 5, 0);
  T_STATUS(ntk_predictor_init(&c.p, c.K, FX_PN, c.y, FX_PK, c.f0, 0.5, 1e-3, 0), NTK_OK);
  T_STATUS(ntk_predictor_init(&c.pg, c.G, FX_PN, c.y, FX_PK, NULL, 0.5, 1e-3, 0), NTK_OK);
  for (t = 0; t < 3; t++) {
    const char *ts = t == 0 ? "t = 7" : t == 1 ? "t = 25 discrete" : "t = inf";
    c.steps = times[t], c.discrete = t == 1;
    snprintf(name, sizeof name, "ntk_predict_train %s", ts);
    if (t == 2) fx_none(name, fx_run_ptrain, &c, FX_PN * FX_PK); /* t = ∞: y copied, nothing allocated */
    else fx_case(name, fx_run_ptrain, &c, FX_PN * FX_PK, 1);
    snprintf(name, sizeof name, "ntk_predict_test %s", ts);
    fx_case(name, fx_run_ptest, &c, FX_PM * FX_PK, 1);
    if (t == 1) continue;
    snprintf(name, sizeof name, "ntk_ensemble_ntk %s (mean, cov)", ts);
    fx_case(name, fx_run_ens_ntk, &c, FX_PM * FX_PK + FX_PM * FX_PM, 1);
    snprintf(name, sizeof name, "ntk_ensemble_nngp %s (mean, cov)", ts);
    fx_case(name, fx_run_ens_nngp, &c, FX_PM * FX_PK + FX_PM * FX_PM, 1);
  }
  fx_case("ntk_gp_inference (mean, cov)", fx_run_gp, &c, FX_PM * FX_PK + FX_PM * FX_PM, 1);
  fx_case("ntk_max_learning_rate", fx_run_maxlr, &c, 1, 1);
  ntk_predictor_free(&c.p), ntk_predictor_free(&c.pg);
}

/* ---- finite networks -------------------------------------------------------------------- */
enum { FX_NN = 4, FX_NBIG = 60 }; /* examples; 60 > one example tile (1024 rows / 20 positions): two engines */
typedef struct fx_net {
  const ntk_layer *l;
  size_t nl, dim, n;     /* n examples (x2: the next two) */
  ntk_net net;           /* built once (ntk_net_init's own case builds its own) */
  const ntk_real *x, *y; /* x (n + 2, dim), y (n, k) */
  ntk_real *theta, *p0;  /* θ for the linearised model; the initial parameters */
  int full, sym, method, cond, samples, steps, callback_calls;
} fx_net;
static int fx_net_zero(const ntk_net *n) {
  return !n->layers && !n->params && !n->offset && !n->width_in && n->n_layers == 0 && n->dim == 0 && n->outputs == 0 && n->n_params == 0 && n->max_width == 0 && n->chunk == 0;
}
static ntk_status fx_run_netinit(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  ntk_net net;
  ntk_status st;
  memset(&net, 0x5a, sizeof net); /* garbage in: init must clear it */
  st = ntk_net_init(&net, c->l, c->nl, c->dim, 7);
  if (st == NTK_OK) {
    size_t np = net.n_params < 4000 ? net.n_params : 4000;
    out[0] = (double)net.n_params, out[1] = (double)net.outputs;
    fx_copy(out + 2, net.params, np);
  } else if (!fx_net_zero(&net)) {
    fx_notef("the failed ntk_net_init left *net not all zero");
  }
  ntk_net_free(&net); /* documented: always safe */
  return st;
}
static ntk_status fx_run_apply_net(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  return ntk_net_apply(&c->net, c->x, c->n, out);
}
static ntk_status fx_run_jac(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  return ntk_net_jacobian(&c->net, c->x, c->n, out);
}
static ntk_status fx_run_lin(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  return ntk_net_apply_linearized(&c->net, c->theta, c->x, c->n, out);
}
static size_t fx_entk_len(const fx_net *c) {
  size_t k = c->net.outputs, n1 = c->n, n2 = c->sym ? c->n : 2;
  return c->full ? n1 * k * n2 * k : n1 * n2;
}
static ntk_status fx_run_entk(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  ntk_entk_desc d;
  memset(&d, 0, sizeof d);
  d.method = c->method ? NTK_ENTK_JACOBIAN : NTK_ENTK_STRUCTURED, d.nngp_conditional = c->cond;
  return ntk_net_empirical_kernel_ex(&c->net, c->x, c->n, c->sym ? NULL : c->x + c->n * c->dim, c->sym ? 0 : 2, c->full,
                                     out, out + fx_entk_len(c), &d);
}
static ntk_status fx_run_mc(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  size_t n2 = c->sym ? c->n : 2;
  return ntk_monte_carlo_kernel(c->l, c->nl, c->x, c->n, c->sym ? NULL : c->x + c->n * c->dim, c->sym ? 0 : 2, c->dim, 11,
                                (size_t)c->samples, out, out + c->n * n2);
}
static int fx_train_cb(size_t step, double loss, void *user) {
  fx_net *c = (fx_net *)user;
  (void)step, (void)loss;
  c->callback_calls++;
  return 0;
}
static ntk_status fx_run_train(void *u, double *out) {
  fx_net *c = (fx_net *)u;
  ntk_train_desc d;
  ntk_status st;
  size_t np = c->net.n_params;
  memcpy(c->net.params, c->p0, np * sizeof(ntk_real));
  memset(&d, 0, sizeof d);
  d.callback = fx_train_cb, d.user = c;
  c->callback_calls = 0;
  st = c->cond ? ntk_net_train_ex(&c->net, c->x, c->y, c->n, 0.3, (size_t)c->steps, &d)
               : ntk_net_train(&c->net, c->x, c->y, c->n, 0.3, (size_t)c->steps);
  if (st == NTK_OK) {
    fx_copy(out, c->net.params, np);
    out[np] = c->callback_calls;
  } else if (st == NTK_ERR_OUT_OF_MEMORY && memcmp(c->net.params, c->p0, np * sizeof(ntk_real)) != 0) {
    fx_notef("NTK_ERR_OUT_OF_MEMORY after the parameters were changed (documented: nothing written)");
  }
  memcpy(c->net.params, c->p0, np * sizeof(ntk_real));
  return st;
}
static ntk_status fx_run_loss(void *u, double *out) {
  const fx_net *c = (const fx_net *)u;
  return ntk_net_loss(&c->net, c->x, c->y, c->n, out);
}

static void fx_nets(void) {
  ntk_layer lm[8], lc[12], lr[12], lf[12], lk[14];
  static ntk_real xm[(FX_NBIG + 2) * FX_MLP_D], xs[(FX_NBIG + 2) * FX_D], y[FX_NBIG * 8], theta[4000], p0[4000];
  struct { const char *name; const ntk_layer *l; size_t nl, dim; const ntk_real *x; } nets[5];
  size_t s, i;
  char name[200];
  fx_net c;
  fx_fill(xm, (FX_NBIG + 2) * FX_MLP_D), fx_fill(xs, (FX_NBIG + 2) * FX_D), fx_fill(y, FX_NBIG * 8);
  nets[0].name = "MLP", nets[0].l = lm, nets[0].nl = fx_mlp(lm), nets[0].dim = FX_MLP_D, nets[0].x = xm;
  nets[1].name = "CNN (conv, avg pool, GAP)", nets[1].l = lc, nets[1].nl = fx_cnn(lc), nets[1].dim = FX_D, nets[1].x = xs;
  nets[2].name = "residual CNN", nets[2].l = lr, nets[2].nl = fx_res(lr), nets[2].dim = FX_D, nets[2].x = xs;
  nets[3].name = "CNN, Flatten readout", nets[3].l = lf, nets[3].nl = fx_flat(lf), nets[3].dim = FX_D, nets[3].x = xs;
  nets[4].name = "CNN, concat branch", nets[4].l = lk, nets[4].nl = fx_cat(lk), nets[4].dim = FX_D, nets[4].x = xs;
  t_section("faults: finite networks");
  for (s = 0; s < 5; s++) {
    memset(&c, 0, sizeof c);
    c.l = nets[s].l, c.nl = nets[s].nl, c.dim = nets[s].dim, c.x = nets[s].x, c.y = y, c.theta = theta, c.p0 = p0;
    c.n = FX_NN;
    if (ntk_net_init(&c.net, c.l, c.nl, c.dim, 7) != NTK_OK || c.net.n_params > 4000) {
      T_CHECK(0, "ntk_net_init %s failed without a fault", nets[s].name);
      ntk_net_free(&c.net);
      continue;
    }
    memcpy(p0, c.net.params, c.net.n_params * sizeof(ntk_real));
    for (i = 0; i < c.net.n_params; i++) theta[i] = c.net.params[i] + (ntk_real)(0.1 * t_normal());
    snprintf(name, sizeof name, "ntk_net_init %s (%zu parameters)", nets[s].name, c.net.n_params);
    fx_case(name, fx_run_netinit, &c, 2 + c.net.n_params, 0);
    snprintf(name, sizeof name, "ntk_net_apply %s", nets[s].name);
    fx_case(name, fx_run_apply_net, &c, FX_NN * c.net.outputs, 1);
    snprintf(name, sizeof name, "ntk_net_jacobian %s", nets[s].name);
    fx_case(name, fx_run_jac, &c, FX_NN * c.net.outputs * c.net.n_params, 1);
    snprintf(name, sizeof name, "ntk_net_apply_linearized %s", nets[s].name);
    fx_case(name, fx_run_lin, &c, FX_NN * c.net.outputs, 1);
    snprintf(name, sizeof name, "ntk_net_loss %s", nets[s].name);
    fx_case(name, fx_run_loss, &c, 1, 1);
    for (c.cond = 0; c.cond < 2; c.cond++) {
      c.steps = 3;
      snprintf(name, sizeof name, "%s %s, 3 steps", c.cond ? "ntk_net_train_ex (callback)" : "ntk_net_train", nets[s].name);
      fx_case(name, fx_run_train, &c, c.net.n_params + 1, 0);
    }
    c.cond = 0;
    for (c.full = 0; c.full < 2; c.full++)
      for (c.sym = 0; c.sym < 2; c.sym++)
        for (c.method = 0; c.method < 2; c.method++) {
          snprintf(name, sizeof name, "ntk_net_empirical_kernel_ex %s, %s, %s, %s", nets[s].name, c.full ? "full" : "traced",
                   c.sym ? "x2 = NULL" : "x2 given", c.method ? "J·Jᵀ" : "structured");
          fx_case(name, fx_run_entk, &c, 2 * fx_entk_len(&c), 1);
        }
    if (s == 0 || s == 3) { /* the conditional NNGP (a Dense readout on a vector) */
      c.cond = 1, c.sym = 0;
      for (c.full = 0; c.full < 2; c.full++) {
        snprintf(name, sizeof name, "ntk_net_empirical_kernel_ex %s, %s, conditional NNGP", nets[s].name, c.full ? "full" : "traced");
        fx_case(name, fx_run_entk, &c, 2 * fx_entk_len(&c), 1);
      }
      c.cond = 0;
    }
    if (s == 1) { /* more examples than one tile: the threads' engines (train, the structured eNTK) */
      c.n = FX_NBIG, c.cond = 1, c.steps = 2;
      snprintf(name, sizeof name, "ntk_net_train_ex (callback) %s, %d examples, 2 steps", nets[s].name, FX_NBIG);
      fx_case(name, fx_run_train, &c, c.net.n_params + 1, 0);
      c.cond = 0, c.full = 0, c.sym = 1, c.method = 0;
      snprintf(name, sizeof name, "ntk_net_empirical_kernel_ex %s, %d examples, traced, x2 = NULL, structured", nets[s].name, FX_NBIG);
      fx_case(name, fx_run_entk, &c, 2 * fx_entk_len(&c), 1);
      c.n = FX_NN;
    }
    if (s < 2) {
      c.samples = 3;
      for (c.sym = 0; c.sym < 2; c.sym++) {
        snprintf(name, sizeof name, "ntk_monte_carlo_kernel %s, 3 samples, %s", nets[s].name, c.sym ? "x2 = NULL" : "x2 given");
        fx_case(name, fx_run_mc, &c, 2 * FX_NN * (c.sym ? FX_NN : 2), 0);
      }
    }
    ntk_net_free(&c.net);
  }
}

/* ---- the front end and the parser ------------------------------------------------------- */
typedef struct fx_front { const ntk_layer *l; size_t nl, dim; } fx_front;
static ntk_status fx_run_describe(void *u, double *out) {
  const fx_front *c = (const fx_front *)u;
  ntk_layer_info info[16];
  size_t bad = 0, i;
  const char *why = NULL;
  ntk_status st = ntk_layers_describe(c->l, c->nl, c->dim, info, &bad, &why);
  if (st == NTK_OK)
    for (i = 0; i < c->nl; i++) {
      out[4 * i] = (double)info[i].out[0], out[4 * i + 1] = (double)info[i].out[1], out[4 * i + 2] = (double)info[i].out[2];
      out[4 * i + 3] = (double)info[i].n_params;
    }
  return st;
}
static ntk_status fx_run_check(void *u, double *out) {
  const fx_front *c = (const fx_front *)u;
  out[0] = 1;
  return ntk_layers_check(c->l, c->nl);
}
static ntk_status fx_run_parse(void *u, double *out) {
  ntk_layer l[32];
  size_t n = 0, pos = 0, i;
  char err[128];
  ntk_status st = ntk_parse_net((const char *)u, NULL, l, 32, &n, &pos, err, sizeof err);
  out[0] = (double)n;
  for (i = 0; i < n && i < 32; i++) out[1 + i] = (double)l[i].kind;
  return st;
}
static void fx_front_end(void) {
  ntk_layer lr[12];
  fx_front c;
  t_section("faults: the front end and the parser");
  c.l = lr, c.nl = fx_res(lr), c.dim = FX_D;
  fx_case("ntk_layers_describe residual CNN", fx_run_describe, &c, 4 * c.nl, 0);
  fx_case("ntk_layers_check residual CNN", fx_run_check, &c, 1, 0);
  /* the parser only fills ntk_layer fields: no allocation */
  fx_none("ntk_parse_net", fx_run_parse, (void *)(uintptr_t)"conv(4,3x3,same) relu res(relu conv(4,3)) avgpool(2,s=2) gap dense(2)", 33);
}

void test_faults_suite(long *passed, long *failed);
void test_faults_suite(long *passed, long *failed) {
  const char *e;
  long p0 = t_passed, f0 = t_failed;
  (void)t_err_ratio_d;
  fx_trace = getenv("NTK_FAULTS_TRACE") ? atoi(getenv("NTK_FAULTS_TRACE")) : 0;
  fx_only_case = getenv("NTK_FAULTS_CASE");
  if ((e = getenv("NTK_FAULTS_SHOW")) != NULL) fx_show = atoi(e);
  fx_abort = getenv("NTK_FAULTS_ABORT") != NULL;
  if ((e = getenv("NTK_FAULTS_INDEX")) != NULL) fx_only_index_set = 1, fx_only_index = (size_t)strtoul(e, NULL, 10);
  fx_total_allocs = 0;
  fx_kernels();
  fx_linalg();
  fx_predict();
  fx_nets();
  fx_front_end();
  printf("  faults: %.0f failing runs in all\n", fx_total_allocs);
  *passed += t_passed - p0;
  *failed += t_failed - f0;
}
#else
void test_faults_suite(long *passed, long *failed);
void test_faults_suite(long *passed, long *failed) {
  (void)passed, (void)failed, (void)t_normal, (void)t_err_ratio_d, (void)t_section, (void)t_passed, (void)t_failed;
}
#endif
