/* ntk_kernel_tiles' memory bound, with a counting allocator: a translation unit of its own
   (NTK_STATIC, NTK_MALLOC/NTK_FREE counting live and peak bytes), linked into the test binary.
   The bound: the per-point state O(n·L) plus, per thread, two blocks and the row scratch, plus
   the GEMM's packing buffers for one block — independent of the kernel's n1·n2 entries. */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include <stdlib.h>
#include <string.h>
static size_t tm_live, tm_peak, tm_count, tm_fail_at; /* tm_fail_at > 0: that allocation (1-based) fails */
static void *tm_malloc(size_t n) {
  size_t *p;
  int fail = 0;
#ifdef _OPENMP
#pragma omp critical(tm_count)
#endif
  fail = ++tm_count == tm_fail_at;
  if (fail) return NULL;
  p = (size_t *)malloc(n + 16);
  if (!p) return NULL;
  p[0] = n;
#ifdef _OPENMP
#pragma omp critical(tm_count)
#endif
  {
    tm_live += n;
    if (tm_live > tm_peak) tm_peak = tm_live;
  }
  return (char *)p + 16;
}
static void tm_free(void *q) {
  size_t *p;
  if (!q) return;
  p = (size_t *)((char *)q - 16);
#ifdef _OPENMP
#pragma omp critical(tm_count)
#endif
  tm_live -= p[0];
  free(p);
}
#define NTK_MALLOC(sz) tm_malloc(sz)
#define NTK_FREE(p) tm_free(p)
#include "../ntk.h"
#include "test.h"

typedef struct { double sum; } tm_acc;
static int tm_cb(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp,
                 const ntk_real *ntk, size_t ld, void *user) {
  tm_acc *a = (tm_acc *)user;
  size_t i, j;
  (void)i0, (void)j0;
  for (i = 0; i < rows; i++) for (j = 0; j < cols; j++) a->sum += nngp[i * ld + j] + ntk[i * ld + j];
  return 0;
}

/* peak bytes of one tiled kernel (n points, blocks b × b, t threads, both kernels) */
static size_t tm_run(const ntk_layer *net, size_t L, const ntk_real *x, size_t n, size_t dim,
                     size_t b, int threads, int sym) {
  ntk_tile_desc d;
  tm_acc a;
  memset(&d, 0, sizeof d);
  a.sum = 0;
  d.rows = d.cols = b, d.nngp = d.ntk = 1, d.fn = tm_cb, d.user = &a, d.threads = threads;
  tm_live = tm_peak = 0;
  T_STATUS(ntk_kernel_tiles(net, L, x, n, sym ? NULL : x, n, dim, &d), NTK_OK);
  T_CHECK(tm_live == 0, "tiles: %zu bytes not freed", tm_live);
  T_CHECK(a.sum == a.sum, "tiles: a NaN in the blocks");
  return tm_peak;
}

void test_tiles_mem_suite(long *passed, long *failed);
void test_tiles_mem_suite(long *passed, long *failed) {
  ntk_layer net[8];
  size_t L = ntk_mlp(net, 8, 3, 0, ntk_relu(), 1.4, 0.1, 1), dim = 20, n = 3000, i, b, sym;
  ntk_real *x = (ntk_real *)malloc(n * dim * sizeof(ntk_real));
  t_section("tiles: memory bounded by the blocks in flight (counting allocator)");
  (void)t_err_ratio_d;
  for (i = 0; i < n * dim; i++) x[i] = (ntk_real)t_normal();
  for (sym = 0; sym < 2; sym++)
    for (b = 32; b <= 256; b *= 8) {
      int th;
      for (th = 1; th <= 2; th++) {
        size_t small = tm_run(net, L, x, 1000, dim, b, th, (int)sym), big = tm_run(net, L, x, n, dim, b, th, (int)sym);
        /* per point: (L + 1) variances and ≤ 5 dual values per activation (x2 = x1: once) */
        size_t per_point = (sym ? 1 : 2) * (L + 1) * 6 * sizeof(ntk_real);
        /* per thread: two blocks, the row scratch; the GEMM's packing: ≤ (b + 16)·kc A and
           (b + 64)·kc B per thread, kc ≤ 512, plus 64-byte rounding */
        size_t per_block = (2 * b * b + 3 * (256 + b)) * sizeof(ntk_real) + (2 * b + 80) * 512 * sizeof(ntk_real) + 256;
        size_t bound = n * per_point + (size_t)th * per_block + 64 * 1024;
        T_CHECK(big <= bound, "tiles n = %zu, blocks %zu, %d threads%s: peak %zu bytes > bound %zu", n, b, th,
                sym ? ", x2 = x1" : "", big, bound);
        T_CHECK(big - small <= (n - 1000) * per_point, "tiles: peak grows by %zu bytes from n = 1000 to %zu "
                "(> the per-point state %zu): something scales with n²", big - small, n, (n - 1000) * per_point);
        T_CHECK(big < n * n * sizeof(ntk_real) / 16, "tiles: peak %zu bytes is not small against the kernel's %zu",
                big, n * n * sizeof(ntk_real));
      }
    }
  free(x);
  /* the empirical NTK of a CNN (issue 17): the structured kernel holds the checkpoints and
     per-layer groups of Jacobian rows, never the Jacobian. Per example (the growth of the peak
     from N = 48 to 96: the engines, the GEMM packing (≤ 16 MiB) and the caller's kernel aside): traced ≤ 1/4 of the J·Jᵀ
     method's (one output's rows: 1/k of J), full ≤ 1/2 (a group: ≤ 1/3 of J here, each of the
     three 24-channel convs alone) */
  {
    ntk_layer l[12];
    ntk_net cn;
    size_t full, ns[2] = {48, 96};
    ntk_real *xc, *K;
    l[0] = ntk_input(12, 12, 1), l[1] = ntk_conv(24, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0), l[2] = ntk_relu();
    l[3] = ntk_conv(24, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1), l[4] = ntk_relu(), l[5] = ntk_conv(24, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0);
    l[6] = ntk_relu(), l[7] = ntk_conv(24, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0), l[8] = ntk_relu(), l[9] = ntk_global_avg_pool();
    l[10] = ntk_dense(10, 1, 0);
    if (ntk_net_init(&cn, l, 11, 144, 3) == NTK_OK) {
      size_t jper = cn.outputs * cn.n_params * sizeof(ntk_real);
      xc = (ntk_real *)malloc(ns[1] * 144 * sizeof(ntk_real));
      K = (ntk_real *)malloc(ns[1] * ns[1] * 100 * sizeof(ntk_real));
      for (i = 0; i < ns[1] * 144; i++) xc[i] = (ntk_real)t_normal();
      for (full = 0; full < 2; full++) {
        size_t pk[2][2], q;
        int m;
        for (m = 0; m < 2; m++)
          for (q = 0; q < 2; q++) {
            ntk_entk_desc d;
            memset(&d, 0, sizeof d);
            d.method = m ? NTK_ENTK_JACOBIAN : NTK_ENTK_STRUCTURED;
            tm_live = tm_peak = 0;
            T_STATUS(ntk_net_empirical_kernel_ex(&cn, xc, ns[q], NULL, 0, (int)full, NULL, K, &d), NTK_OK);
            T_CHECK(tm_live == 0, "eNTK: %zu bytes not freed", tm_live);
            pk[m][q] = tm_peak;
          }
        {
          double per_s = (double)(pk[0][1] - pk[0][0]) / 48.0, per_j = (double)(pk[1][1] - pk[1][0]) / 48.0;
          T_CHECK(per_j >= (double)jper && per_s * (full ? 2 : 4) <= per_j && pk[0][1] < pk[1][1],
                  "CNN eNTK %s, P = %zu, k = 10: per example the structured kernel's peak grows by %.0f bytes, the J·Jᵀ "
                  "method's by %.0f (J: %zu): ratio %.3f (bound %s); at N = 96 %zu against %zu bytes",
                  full ? "full" : "traced", cn.n_params, per_s, per_j, jper, per_s / per_j, full ? "1/2" : "1/4", pk[0][1], pk[1][1]);
        }
      }
      free(xc), free(K);
      ntk_net_free(&cn);
    }
  }
  /* every allocation of the CNN eNTK failing in turn (a conv in pair form, a conv and the
     readout as Jacobian blocks, a residual branch): NTK_OK with the same kernel or
     NTK_ERR_OUT_OF_MEMORY, nothing leaked, never a crash (a failure before the per-layer
     tables were cleared freed garbage) */
  {
    ntk_layer l[12];
    ntk_net cn;
    size_t nlay = 0, full, i2;
    enum { NF = 5, DF = 6 * 5 * 2 };
    ntk_real xf[NF * DF], K0[NF * NF * 9], K1[NF * NF * 9], G0[NF * NF * 9], G1[NF * NF * 9];
    l[nlay++] = ntk_input(6, 5, 2), l[nlay++] = ntk_conv(4, 3, 3, 1, 1, NTK_PAD_SAME, 1.4, 0.1);
    l[nlay++] = ntk_fanout(2), l[nlay++] = ntk_relu(), l[nlay++] = ntk_conv(4, 3, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.1);
    l[nlay++] = ntk_branch(), l[nlay++] = ntk_fanin_sum(), l[nlay++] = ntk_relu();
    l[nlay++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0), l[nlay++] = ntk_flatten(), l[nlay++] = ntk_dense(3, 1, 0.1);
    for (i = 0; i < NF * DF; i++) xf[i] = (ntk_real)t_normal();
    T_STATUS(ntk_net_init(&cn, l, nlay, DF, 5), NTK_OK);
    if (cn.n_params) {
      for (full = 0; full < 2; full++) {
        int m, bad = 0, sy;
        for (sy = 0; sy < 2; sy++)
          for (m = 0; m < 3; m++) {
            static const ntk_entk_method ms[3] = {NTK_ENTK_STRUCTURED, NTK_ENTK_JACOBIAN, NTK_ENTK_STRUCTURED};
            ntk_entk_desc d;
            size_t nall, nok = 0;
            const ntk_real *x2 = sy ? NULL : xf;
            memset(&d, 0, sizeof d);
            d.method = ms[m];
            tm_count = 0, tm_fail_at = 0;
            T_STATUS(ntk_net_empirical_kernel_ex(&cn, xf, NF, x2, sy ? 0 : 2, (int)full, m == 2 ? G0 : NULL, K0, &d), NTK_OK);
            nall = tm_count;
            for (i2 = 1; i2 <= nall; i2++) {
              ntk_status st;
              tm_count = 0, tm_fail_at = i2, tm_live = 0;
              st = ntk_net_empirical_kernel_ex(&cn, xf, NF, x2, sy ? 0 : 2, (int)full, m == 2 ? G1 : NULL, K1, &d);
              tm_fail_at = 0;
              if (st == NTK_OK) {
                size_t e;
                nok++;
                for (e = 0; e < (full ? 9u : 1u) * NF * (sy ? NF : 2); e++)
                  if (fabs((double)K1[e] - (double)K0[e]) > 1e-12 * (1 + fabs((double)K0[e])) ||
                      (m == 2 && fabs((double)G1[e] - (double)G0[e]) > 1e-12 * (1 + fabs((double)G0[e])))) bad = 1;
              } else if (st != NTK_ERR_OUT_OF_MEMORY) bad = 1;
              if (tm_live != 0) bad = 1;
            }
            T_CHECK(!bad && nall > 3, "CNN eNTK %s%s, %s: each of its %zu allocations failing in turn gives NTK_OK with the "
                    "same kernel (%zu times) or NTK_ERR_OUT_OF_MEMORY, nothing leaked", full ? "full" : "traced",
                    sy ? ", x2 = NULL" : "", m == 0 ? "structured" : m == 1 ? "J·Jᵀ" : "structured with the NNGP", nall, nok);
          }
      }
      ntk_net_free(&cn);
    }
  }
  *passed += t_passed;
  *failed += t_failed;
}
