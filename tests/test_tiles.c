/* ntk_kernel_tiles (issue 19, item 1): every block shape (1×1, thin, ragged edges, larger than
   the kernel), callback and strided destinations (double and float, mirrored or lower only),
   x2 = x1 (only blocks on or below the diagonal, complete blocks for the callback), select
   (a 2-D block-cyclic share), cancel, progress, errors. The reference for the values is
   ntk_kernel, itself tested against independent references in test_kernel.c and
   test_skernel.c; the tiles must equal it bit for bit. Also one direct check of a tile against
   the arc-cosine recursion written here (tiles_relu_ref), so a bug common to both would show. */

typedef struct tiles_sink {
  size_t n1, n2, calls, bad_shape, above, twice;
  ntk_real *q, *t;
  unsigned char *seen;
  int stop_after; /* cancel after this many calls (0: never) */
} tiles_sink;

static int tiles_cb(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp,
                    const ntk_real *ntk, size_t ld, void *user) {
  tiles_sink *s = (tiles_sink *)user;
  size_t i, j;
  s->calls++;
  if (ld < cols || i0 + rows > s->n1 || j0 + cols > s->n2) { s->bad_shape++; return 0; }
  if (s->n1 == s->n2 && j0 >= i0 + rows && s->q == s->t) s->above++;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++) {
      size_t k = (i0 + i) * s->n2 + j0 + j;
      if (s->seen[k]) s->twice++;
      s->seen[k] = 1;
      if (nngp) s->q[k] = nngp[i * ld + j];
      if (ntk) s->t[k] = ntk[i * ld + j];
    }
  return s->stop_after && (int)s->calls >= s->stop_after;
}

typedef struct tiles_grid { size_t nb, P, Q, p, q; } tiles_grid;
static int tiles_select(size_t i0, size_t j0, size_t rows, size_t cols, void *user) {
  const tiles_grid *g = (const tiles_grid *)user;
  (void)rows, (void)cols;
  return (i0 / g->nb) % g->P == g->p && (j0 / g->nb) % g->Q == g->q;
}

static int tiles_progress_last(const char *stage, double done, void *user) {
  double *last = (double *)user;
  if (strcmp(stage, "kernel") != 0 || done < *last - 1e-15) *last = -1e9; /* not monotone */
  else *last = done;
  return 0;
}

/* every block shape of one list against ntk_kernel, bit for bit */
static void tiles_shapes(const char *name, const ntk_layer *net, size_t L, size_t n1, size_t n2,
                         size_t dim, const size_t (*shapes)[2], size_t nshapes) {
  ntk_real *x1 = (ntk_real *)malloc(n1 * dim * sizeof(ntk_real));
  ntk_real *x2 = (ntk_real *)malloc(n2 * dim * sizeof(ntk_real));
  size_t nn = n1 * (n1 > n2 ? n1 : n2), i, sh;
  ntk_real *K = (ntk_real *)malloc(nn * sizeof(ntk_real)), *T = (ntk_real *)malloc(nn * sizeof(ntk_real));
  ntk_real *q = (ntk_real *)malloc(nn * sizeof(ntk_real)), *t = (ntk_real *)malloc(nn * sizeof(ntk_real));
  double *dq = (double *)malloc(nn * sizeof(double)), *dt = (double *)malloc(nn * sizeof(double));
  float *fq = (float *)malloc(nn * sizeof(float));
  unsigned char *seen = (unsigned char *)malloc(nn);
  int sym;
  for (i = 0; i < n1 * dim; i++) x1[i] = (ntk_real)t_normal();
  for (i = 0; i < n2 * dim; i++) x2[i] = (ntk_real)t_normal();
  if (n1 > 3) memcpy(x1 + 3 * dim, x1, dim * sizeof(ntk_real)); /* a duplicate point */
  for (sym = 0; sym < 2; sym++) {
    size_t m2 = sym ? n1 : n2, mism = 0, mism_d = 0, mism_f = 0, mism_lo = 0, upper_kept = 0, cover = 0;
    size_t above = 0, twice = 0, badsh = 0, sel_mism = 0, upper_bad = 0;
    T_STATUS(ntk_kernel(net, L, x1, n1, sym ? NULL : x2, n2, dim, K, T), NTK_OK);
    for (sh = 0; sh < nshapes; sh++) {
      ntk_tile_desc d;
      tiles_sink s;
      size_t g;
      memset(&d, 0, sizeof d);
      memset(&s, 0, sizeof s);
      s.n1 = n1, s.n2 = m2, s.q = q, s.t = t, s.seen = seen;
      memset(seen, 0, n1 * m2);
      d.rows = shapes[sh][0], d.cols = shapes[sh][1], d.nngp = d.ntk = 1, d.fn = tiles_cb, d.user = &s;
      T_STATUS(ntk_kernel_tiles(net, L, x1, n1, sym ? NULL : x2, n2, dim, &d), NTK_OK);
      for (i = 0; i < n1 * m2; i++) {
        size_t r = i / m2, c = i % m2;
        if (!seen[i]) { if (!sym || c <= r) cover++; continue; }
        if (memcmp(&q[i], &K[i], sizeof(ntk_real)) || memcmp(&t[i], &T[i], sizeof(ntk_real))) mism++;
      }
      badsh += s.bad_shape, twice += s.twice;
      if (sym) { /* blocks strictly above the diagonal (j0 ≥ i0 + rows) never come */
        size_t br = d.rows < n1 ? d.rows : n1, bc = d.cols < m2 ? d.cols : m2;
        for (i = 0; i < n1 * m2; i++) {
          size_t i0 = i / m2 / br * br, rows = n1 - i0 < br ? n1 - i0 : br;
          if (seen[i] && (i % m2) / bc * bc >= i0 + rows) above++;
        }
      }
      /* double destinations, mirrored; float NNGP; lower only (upper untouched) */
      memset(&d, 0, sizeof d);
      d.rows = shapes[sh][0], d.cols = shapes[sh][1];
      d.nngp_out = dq, d.ntk_out = dt, d.ld_nngp = d.ld_ntk = m2, d.mirror = 1;
      T_STATUS(ntk_kernel_tiles(net, L, x1, n1, sym ? NULL : x2, n2, dim, &d), NTK_OK);
      for (i = 0; i < n1 * m2; i++)
        if (dq[i] != (double)K[i] || dt[i] != (double)T[i]) mism_d++;
      d.ntk_out = NULL, d.nngp_out = fq, d.out_float = 1, d.mirror = 0;
      for (i = 0; i < n1 * m2; i++) fq[i] = -7.0f;
      upper_kept = 0;
      T_STATUS(ntk_kernel_tiles(net, L, x1, n1, sym ? NULL : x2, n2, dim, &d), NTK_OK);
      for (i = 0; i < n1 * m2; i++) {
        size_t r = i / m2, c = i % m2;
        if (sym && c > r) { if (fq[i] == -7.0f) upper_kept++; continue; }
        if (fq[i] != (float)K[i]) mism_f++;
      }
      if (sym && upper_kept != n1 * (n1 - 1) / 2) upper_bad++;
      /* a 2 × 3 block-cyclic grid: the six shares together are the whole kernel, once */
      memset(seen, 0, n1 * m2);
      for (g = 0; g < 6; g++) {
        tiles_grid gr;
        gr.nb = shapes[sh][0], gr.P = 2, gr.Q = 3, gr.p = g / 3, gr.q = g % 3;
        if (shapes[sh][0] != shapes[sh][1]) continue;
        memset(&d, 0, sizeof d);
        memset(&s, 0, sizeof s);
        s.n1 = n1, s.n2 = m2, s.q = q, s.t = t, s.seen = seen;
        d.rows = d.cols = gr.nb, d.nngp = 1, d.fn = tiles_cb, d.user = &s;
        d.select = tiles_select, d.select_user = &gr;
        T_STATUS(ntk_kernel_tiles(net, L, x1, n1, sym ? NULL : x2, n2, dim, &d), NTK_OK);
        twice += s.twice;
      }
      if (shapes[sh][0] == shapes[sh][1])
        for (i = 0; i < n1 * m2; i++) {
          size_t r = i / m2, c = i % m2;
          if (!seen[i]) { if (!sym || c <= r) sel_mism++; }
          else if (memcmp(&q[i], &K[i], sizeof(ntk_real))) sel_mism++;
        }
      (void)mism_lo;
    }
    T_CHECK(mism == 0 && cover == 0 && twice == 0 && badsh == 0,
            "%s %s: tiles vs ntk_kernel: %zu entries differ, %zu not delivered, %zu twice, %zu bad blocks",
            name, sym ? "x2 = x1" : "x1, x2", mism, cover, twice, badsh);
    T_CHECK(above == 0, "%s: %zu entries of blocks above the diagonal delivered", name, above);
    T_CHECK(mism_d == 0 && mism_f == 0, "%s %s: destinations differ (double %zu, float %zu)", name,
            sym ? "x2 = x1" : "x1, x2", mism_d, mism_f);
    T_CHECK(upper_bad == 0, "%s: mirror = 0 wrote the upper triangle (%zu shapes)", name, upper_bad);
    T_CHECK(sel_mism == 0, "%s %s: block-cyclic shares: %zu entries missing or different", name,
            sym ? "x2 = x1" : "x1, x2", sel_mism);
  }
  free(x1), free(x2), free(K), free(T), free(q), free(t), free(dq), free(dt), free(fq), free(seen);
}

/* Depth-2 ReLU NTK by the arc-cosine recursion, in long double, for one pair (independent of
   the library): q ← σw²q + σb², Θ ← q + σw²Θ; ReLU: T = (√(q11 q22)/2π)(sin θ + (π − θ)cos θ),
   Ṫ = (π − θ)/(2π) (times σ-free: the library's ReLU is abrelu(0, 1): f = 1/(2π), h = 1/2) */
static void tiles_relu_ref(const ntk_real *x, const ntk_real *y, size_t dim, size_t depth,
                           double ws, double bs, double *nngp, double *ntk) {
  long double q11 = 0, q22 = 0, q12 = 0, th = 0, w2 = (long double)ws * ws, b2 = (long double)bs * bs;
  const long double pi = 3.14159265358979323846264338327950288L;
  size_t k, l;
  for (k = 0; k < dim; k++) q11 += (long double)x[k] * x[k], q22 += (long double)y[k] * y[k], q12 += (long double)x[k] * y[k];
  q11 /= dim, q22 /= dim, q12 /= dim;
  for (l = 0; l < depth; l++) {
    long double rho, t;
    q11 = w2 * q11 + b2, q22 = w2 * q22 + b2, q12 = w2 * q12 + b2, th = q12 + w2 * th;
    rho = q12 / sqrtl(q11 * q22);
    if (rho > 1) rho = 1;
    if (rho < -1) rho = -1;
    t = acosl(rho);
    th *= (pi - t) / (2 * pi);
    q12 = sqrtl(q11 * q22) / (2 * pi) * (sinl(t) + (pi - t) * cosl(t));
    q11 /= 2, q22 /= 2;
  }
  q12 = w2 * q12 + b2, th = q12 + w2 * th;
  *nngp = (double)q12, *ntk = (double)th;
}

static void test_tiles_all(void) {
  static const size_t shapes[][2] = {{1, 1}, {1, 7}, {7, 1}, {5, 3}, {3, 5}, {16, 16}, {13, 13},
                                     {37, 300}, {300, 300}, {1000, 1000}, {64, 257}, {9, 260}};
  static const size_t small[][2] = {{1, 1}, {2, 3}, {3, 2}, {4, 4}, {7, 7}};
  ntk_layer net[16], sp[8];
  size_t L, ns = sizeof shapes / sizeof shapes[0];
  t_section("tiles: ntk_kernel_tiles = ntk_kernel bit for bit, every block shape");
  /* ReLU (the AVX2 dual: lanes of 4 from each 256-column segment), n2 > 256 for segment edges */
  L = ntk_mlp(net, 16, 3, 0, ntk_relu(), 1.4, 0.1, 1);
  tiles_shapes("relu depth 3", net, L, 37, 300, 11, shapes, ns);
  tiles_shapes("relu depth 3, n = 300", net, L, 300, 5, 11, shapes, ns);
  L = ntk_mlp(net, 16, 2, 40, ntk_erf(), 1.2, 0.3, 1);
  net[2] = ntk_dense_standard(40, 1.1, 0.2);
  tiles_shapes("erf, standard", net, L, 29, 31, 6, shapes, 8);
  L = ntk_mlp(net, 16, 1, 0, ntk_tanh(), 1.1, 0.2, 1);
  tiles_shapes("tanh (quadrature)", net, L, 6, 5, 3, small, 5);
  /* spatial: INPUT 3×4×2, conv 2×2 SAME, relu, avg pool, GAP, dense */
  sp[0] = ntk_input(3, 4, 2), sp[1] = ntk_conv(0, 2, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.1), sp[2] = ntk_relu();
  sp[3] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, 0), sp[4] = ntk_global_avg_pool(), sp[5] = ntk_dense(1, 1.2, 0.1);
  tiles_shapes("spatial conv+gap", sp, 6, 5, 4, 24, small, 5);
  sp[4] = ntk_flatten();
  tiles_shapes("spatial conv+flatten", sp, 6, 4, 3, 24, small, 5);
  { /* one tile against the recursion written above */
    ntk_real x[6 * 4];
    double q[6 * 6], t[6 * 6], worst = 0;
    size_t i, j;
    ntk_tile_desc d;
    L = ntk_mlp(net, 16, 2, 0, ntk_relu(), 1.3, 0.2, 1);
    for (i = 0; i < 24; i++) x[i] = (ntk_real)t_normal();
    memset(&d, 0, sizeof d);
    d.rows = 4, d.cols = 4, d.nngp_out = q, d.ntk_out = t, d.ld_nngp = d.ld_ntk = 6, d.mirror = 1;
    T_STATUS(ntk_kernel_tiles(net, L, x, 6, NULL, 6, 4, &d), NTK_OK);
    for (i = 0; i < 6; i++)
      for (j = 0; j < 6; j++) {
        double rq, rt, e;
        tiles_relu_ref(x + i * 4, x + j * 4, 4, 2, 1.3, 0.2, &rq, &rt);
        e = fabs(q[i * 6 + j] - rq) / (1e-300 + 1e-12 * fabs(rq));
        if (fabs(t[i * 6 + j] - rt) / (1e-300 + 1e-12 * fabs(rt)) > e) e = fabs(t[i * 6 + j] - rt) / (1e-300 + 1e-12 * fabs(rt));
        if (e > worst) worst = e;
      }
#ifdef NTK_REAL_FLOAT
    (void)worst;
#else
    T_CHECK(worst <= 1, "tiles vs the arc-cosine recursion: error ratio %.3g (1e-12 relative)", worst);
#endif
  }
  t_section("tiles: cancel, progress, errors");
  {
    ntk_real x[40 * 3];
    ntk_real q[40 * 40], t[40 * 40];
    unsigned char seen[40 * 40];
    tiles_sink s;
    ntk_tile_desc d;
    double last = 0;
    size_t i;
    L = ntk_mlp(net, 16, 2, 0, ntk_relu(), 1.3, 0.2, 1);
    for (i = 0; i < 120; i++) x[i] = (ntk_real)t_normal();
    memset(&d, 0, sizeof d);
    memset(&s, 0, sizeof s);
    memset(seen, 0, sizeof seen);
    s.n1 = s.n2 = 40, s.q = q, s.t = t, s.seen = seen, s.stop_after = 2;
    d.rows = d.cols = 4, d.nngp = 1, d.fn = tiles_cb, d.user = &s, d.threads = 1;
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, &d), NTK_ERR_CANCELLED);
    T_CHECK(s.calls == 2, "a callback returning nonzero stops the tiles (%zu calls, 2 expected)", s.calls);
    s.stop_after = 0, d.progress = tiles_progress_last, d.progress_user = &last;
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, x, 40, 3, &d), NTK_OK);
    T_CHECK(last == 1.0, "progress monotone and ending at 1 (last %g)", last);
    memset(&d, 0, sizeof d);
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, NULL), NTK_ERR_INVALID_ARG);
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, &d), NTK_ERR_INVALID_ARG); /* nothing asked */
    d.nngp_out = q, d.ld_nngp = 39;
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, &d), NTK_ERR_INVALID_ARG); /* ld < n2 */
    d.ld_nngp = 40, d.out_float = 2;
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, &d), NTK_ERR_INVALID_ARG);
    d.out_float = 0, x[5] = (ntk_real)NAN;
    T_STATUS(ntk_kernel_tiles(net, L, x, 40, NULL, 40, 3, &d), NTK_ERR_NON_FINITE);
  }
}
