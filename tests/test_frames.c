/* The spatial driver's frame mode and the ReLU family's one-square-root dual ([dual]
   ntk__relu_dual_rows, [skernel] frames), against independent evaluations:
   - the dual at every SIMD level the CPU has (generic C, AVX2, AVX-512), row point along the
     run or fixed, runs with vector tails, against a long-double evaluation of the arc-cosine
     formulas (acosl, sqrtl) on ρ over [−1, 1], near ±1 (1 − 2^−k) and exact diagonals;
   - frame-mode networks against tests/ref_spatial.h: filters larger than the image (SAME and
     CIRCULAR), pools between frame segments (barrier → frames → barrier → GAP), even filters;
   - tiling: an (n1, n2) kernel larger than the driver's pair tiles equals its entries computed
     one call each, bit for bit, and x2 = NULL equals them too (each entry is independent). */

/* T and Ṫ of the ReLU family (a·min(x,0) + b·max(x,0)) in long double */
static void tfr_ref(double a, double b, double q11, double q22, double q12, long double *T, long double *Td) {
  long double n = sqrtl((long double)q11) * sqrtl((long double)q22), rho = (long double)q12 / n;
  long double f = ((long double)a - b) * ((long double)a - b) / (2 * 3.14159265358979323846264338327950288L);
  long double h = ((long double)a * a + (long double)b * b) / 2, th;
  if (q12 == q11 && q11 == q22) rho = 1;
  if (rho > 1) rho = 1;
  if (rho < -1) rho = -1;
  th = acosl(rho);
  *T = f * n * sqrtl((1 - rho) * (1 + rho)) + (h - f * th) * (long double)q12;
  *Td = h - f * th;
}

static void test_frames_dual(void) {
  enum { N = 203 }; /* odd: every level's vector loop has a tail */
  static ntk_real q11[N], q22[N], c[N], th[N], s1[N], r1[N], s2[N], r2[N];
  static double c0[N];
  const double ab[3][2] = {{0, 1}, {-0.3, 1.7}, {0.5, 0.5}};
  int lv, top = ntk__simd_level(), k, mode;
  t_section("frames_dual");
  for (lv = 0; lv <= top; lv++) {
#if defined(NTK__BUILD_X86)
    if (lv == NTK_SIMD_NEON) continue;
#endif
    for (k = 0; k < 3; k++)
      for (mode = 0; mode < 2; mode++) { /* 0: the row point along the run, 1: one row point */
        ntk_layer L = ntk_abrelu(ab[k][0], ab[k][1]);
        ntk_real f = (ntk_real)((L.a - L.b) * (L.a - L.b) / (2 * 3.14159265358979323846)), h = (ntk_real)((L.a * L.a + L.b * L.b) / 2);
        double errT = 0, errD = 0;
        int i, exact = 1;
        ntk__dual_aux ax;
        for (i = 0; i < N; i++) {
          double u = mode ? 1.7 : 0.3 + (double)(i % 11) * 0.7, v = 0.2 + (double)(i % 7) * 0.9, rho;
          rho = i < 40 ? 1 - ldexp(1, -(i % 20) - 1) * (i < 20 ? 1 : -1) * (i < 20 ? 1 : 1) : (double)(i % 97) / 48.0 - 1;
          if (i >= 20 && i < 40) rho = -rho; /* near −1 */
          if (i % 17 == 0) v = u, rho = 2; /* a diagonal: q12 = q11 = q22 */
          q11[i] = (ntk_real)u, q22[i] = (ntk_real)v;
          c[i] = rho == 2 ? q11[i] : (ntk_real)(rho * sqrt((double)q11[i] * (double)q22[i]));
          c0[i] = (double)c[i], th[i] = 1;
          s1[i] = (ntk_real)sqrt((double)q11[i]), r1[i] = 1 / s1[i];
          s2[i] = (ntk_real)sqrt((double)q22[i]), r2[i] = 1 / s2[i];
        }
        memset(&ax, 0, sizeof ax);
        ax.s2 = s2, ax.r2 = r2;
        if (mode) ax.s1 = s1[0], ax.r1 = r1[0];
        else ax.s1v = s1, ax.r1v = r1;
        ntk__relu_dual_rows(lv, 1, N, q11, 0, q22, 0, c, th, 0, f, h, &ax);
        for (i = 0; i < N; i++) {
          long double T, Td;
          double M, rho, st, eT, eD;
          tfr_ref(L.a, L.b, (double)q11[i], (double)q22[i], c0[i], &T, &Td);
          M = sqrt((double)q11[i] * (double)q22[i]) * (double)h; /* √(T(q11)·T(q22)) */
          rho = c0[i] / sqrt((double)q11[i] * (double)q22[i]);
          st = sqrt(fabs((1 - rho) * (1 + rho))) + 1e-300;
          /* the statement of the header: 1e-14·M plus the function's own conditioning (8 ulps of
             ρ move θ by 8ε·|ρ|/sin θ) */
          eT = fabs((double)c[i] - (double)T) / (SK_RTOL * 0.1 * M + 1e-300);
          eD = fabs((double)th[i] - (double)Td) / (SK_RTOL * 0.1 * (double)h + (double)f * 8 * NTK__EPS / st + 1e-300);
          if (eT > errT) errT = eT;
          if (eD > errD) errD = eD;
          if (q11[i] == q22[i] && c0[i] == (double)q11[i] && (th[i] != h || c[i] != h * q11[i])) exact = 0;
        }
        T_CHECK(errT <= 1 && errD <= 1, "relu-family dual level %d, (a, b) = (%g, %g), %s: T %.3g, Tdot %.3g of tolerance",
                lv, L.a, L.b, mode ? "one row point" : "row points along the run", errT, errD);
        T_CHECK(exact, "relu-family dual level %d: q12 = q11 = q22 gives T = h·q and Tdot = h exactly", lv);
        { /* the diagonal at q = 0 (a zero input position: the roots are 0, as ntk__dual_point
             gives them), also in a vector tail: T = 0, Tdot = h exactly */
          ntk_real z0[11], c0z[11], t0z[11];
          ntk__dual_aux az;
          int ok0 = 1;
          for (i = 0; i < 11; i++) z0[i] = 0, c0z[i] = 0, t0z[i] = 1;
          memset(&az, 0, sizeof az);
          az.s2 = z0, az.r2 = z0;
          if (mode) az.s1 = 0, az.r1 = 0;
          else az.s1v = z0, az.r1v = z0;
          ntk__relu_dual_rows(lv, 1, 11, z0, 0, z0, 0, c0z, t0z, 0, f, h, &az);
          for (i = 0; i < 11; i++)
            if (c0z[i] != 0 || t0z[i] != h) ok0 = 0;
          T_CHECK(ok0, "relu-family dual level %d: q12 = q11 = q22 = 0 gives T = 0 and Tdot = h exactly", lv);
        }
      }
  }
}

static void test_frames_nets(void) {
  ntk_layer net[16];
  size_t n, v;
  t_section("frames_nets");
  for (v = 0; v < 3; v++) {
    size_t D = 3 * 4 * 2;
    const char *what = "";
    n = 0;
    switch (v) {
    case 0: /* filters larger than the image: every tap pattern of the runs */
      what = "3x4 conv(5x5,SAME) relu conv(5x6,CIRCULAR) relu gap";
      net[n++] = ntk_input(3, 4, 2), net[n++] = ntk_conv(3, 5, 5, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[n++] = ntk_relu();
      net[n++] = ntk_conv(2, 5, 6, 1, 1, NTK_PAD_CIRCULAR, 1.1, 0.3), net[n++] = ntk_relu();
      net[n++] = ntk_global_avg_pool(), net[n++] = ntk_dense(1, 0.9, 0.1);
      break;
    case 1: /* barrier → frames → barrier → GAP (Myrtle-like), even filters */
      what = "5x7 conv(2x2,SAME) relu avgpool(2,s1,SAME) conv(3x3,SAME) relu conv(4x2,SAME) relu avgpool(2,s2,VALID) gap";
      D = 5 * 7 * 2;
      net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_conv(3, 2, 2, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[n++] = ntk_relu();
      net[n++] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_SAME, 0), net[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.2, 0.1);
      net[n++] = ntk_relu(), net[n++] = ntk_conv(2, 4, 2, 1, 1, NTK_PAD_SAME, 1.4, 0.2), net[n++] = ntk_relu();
      net[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0), net[n++] = ntk_global_avg_pool(), net[n++] = ntk_dense(1, 1, 0.1);
      break;
    default: /* a pool right after the input, frames after it, Flatten after a pool */
      what = "5x7 sumpool(2,s1,SAME) conv(3x3,SAME) relu avgpool(3,s1,SAME) flatten";
      D = 5 * 7 * 2;
      net[n++] = ntk_input(5, 7, 2), net[n++] = ntk_sum_pool(2, 2, 1, 1, NTK_PAD_SAME);
      net[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_SAME, 1.2, 0.2), net[n++] = ntk_relu();
      net[n++] = ntk_avg_pool(3, 3, 1, 1, NTK_PAD_SAME, 0), net[n++] = ntk_flatten(), net[n++] = ntk_dense(1, 1, 0.1);
      break;
    }
    sk_check(what, net, n, D);
    sk_set_mode(net, n, 1, NTK_BIAS_ALWAYS);
    sk_check(what, net, n, D);
  }
}

static void test_frames_tiles(void) {
  enum { N1 = 9, N2 = 17, D = 4 * 5 * 1 };
  ntk_layer net[10];
  ntk_real x1[N1 * D], x2[N2 * D], k[N1 * N2], t[N1 * N2], ks[N1 * N1], ts[N1 * N1], a, b;
  double xd[N2 * D];
  size_t i, j, n = 0, g;
  int same = 1, same_s = 1;
  t_section("frames_tiles");
  sk_fill(xd, x1, N1 * D), sk_fill(xd, x2, N2 * D);
  /* g = 2, 3: no frame conv at all (a VALID conv is a barrier; Dense per position): the frames'
     zero row must still fit the workspace (ASan found it did not) */
  /* g = 4: a pool after the frames, a streaming barrier (its frames' parts added in frame order;
     its 20 frames are one batch on the threads, the 28 x 28 case below runs several) */
  static const char *gname[5] = {"gap", "flatten", "valid conv, gap", "dense per position, gap",
                                 "avgpool barrier, conv, gap"};
  for (g = 0; g < 5; g++) {
    n = 0;
    net[n++] = ntk_input(4, 5, 1);
    if (g == 2) net[n++] = ntk_conv(3, 3, 3, 1, 1, NTK_PAD_VALID, 1.3, 0.2);
    else if (g == 3) net[n++] = ntk_dense(3, 1.3, 0.2);
    else net[n++] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.2);
    net[n++] = ntk_relu();
    if (g == 4) {
      net[n++] = ntk_avg_pool(2, 2, 1, 1, NTK_PAD_VALID, 0);
      net[n++] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[n++] = ntk_relu();
    }
    net[n++] = g == 1 ? ntk_flatten() : ntk_global_avg_pool(), net[n++] = ntk_dense(1, 1, 0.1);
    T_STATUS(ntk_kernel(net, n, x1, N1, x2, N2, D, k, t), NTK_OK);
    T_STATUS(ntk_kernel(net, n, x1, N1, NULL, 0, D, ks, ts), NTK_OK);
    for (i = 0; i < N1; i++)
      for (j = 0; j < N2; j++) {
        if (ntk_kernel(net, n, x1 + i * D, 1, x2 + j * D, 1, D, &a, &b) != NTK_OK) same = 0;
        if (a != k[i * N2 + j] || b != t[i * N2 + j]) same = 0;
        if (j < N1 && i != j) {
          if (ntk_kernel(net, n, x1 + i * D, 1, x1 + j * D, 1, D, &a, &b) != NTK_OK) same_s = 0;
          /* x2 = NULL computes the pair (max, min) and mirrors it */
          if (i < j) {
            ntk_real a2, b2;
            if (ntk_kernel(net, n, x1 + j * D, 1, x1 + i * D, 1, D, &a2, &b2) != NTK_OK) same_s = 0;
            a = a2, b = b2;
          }
          if (a != ks[i * N1 + j] || b != ts[i * N1 + j]) same_s = 0;
        }
      }
    T_CHECK(same, "%s: a %dx%d kernel (several pair tiles) = its entries one call each, bit for bit", gname[g], N1, N2);
    { /* one entry on 2 threads: the threads share its frames (ntk__fr_frames_par) */
      ntk_kernel_desc kd;
      int same2 = 1;
      memset(&kd, 0, sizeof kd);
      for (kd.threads = 2; kd.threads <= 3; kd.threads++) {
        for (i = 0; i < N1; i += 4) {
          for (j = 0; j < N2; j += 5) {
            if (ntk_kernel_ex(net, n, x1 + i * D, 1, x2 + j * D, 1, D, &a, &b, &kd) != NTK_OK) same2 = 0;
            if (a != k[i * N2 + j] || b != t[i * N2 + j]) same2 = 0;
          }
          /* x2 = NULL of one point: its diagonal entry, the self pair's frames on the threads */
          if (ntk_kernel_ex(net, n, x1 + i * D, 1, NULL, 0, D, &a, &b, &kd) != NTK_OK) same2 = 0;
          if (a != ks[i * N1 + i] || b != ts[i * N1 + i]) same2 = 0;
        }
      }
      T_CHECK(same2, "%s: one entry (and one diagonal) with its frames on 2 and 3 threads = the tiled kernel's, bit for bit", gname[g]);
    }
    T_CHECK(same_s, "%s: x2 = NULL off-diagonal entries = the pairs one call each, bit for bit", gname[g]);
  }
  { /* a 28 x 28 barrier: its 784 frames' parts (12.5 KB each) run on the threads in several
       batches of NTK__FR_BATCH_BYTES, the threads splitting the output's row blocks */
    enum { DB = 28 * 28 };
    static ntk_real xb[3 * DB];
    static double xbd[3 * DB];
    ntk_real a1, b1, a2, b2;
    ntk_kernel_desc kd;
    int same3 = 1, e;
    memset(&kd, 0, sizeof kd);
    n = 0;
    net[n++] = ntk_input(28, 28, 1);
    net[n++] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[n++] = ntk_relu();
    net[n++] = ntk_avg_pool(2, 2, 2, 2, NTK_PAD_VALID, 0);
    net[n++] = ntk_conv(2, 3, 3, 1, 1, NTK_PAD_SAME, 1.3, 0.2), net[n++] = ntk_relu();
    net[n++] = ntk_global_avg_pool(), net[n++] = ntk_dense(1, 1, 0.1);
    sk_fill(xbd, xb, 3 * DB);
    for (e = 0; e < 2; e++) {
      const ntk_real *p2 = e ? NULL : xb + DB;
      kd.threads = 1;
      if (ntk_kernel_ex(net, n, xb + 2 * e * DB, 1, p2, 1, DB, &a1, &b1, &kd) != NTK_OK) same3 = 0;
      for (kd.threads = 2; kd.threads <= 3; kd.threads++) {
        if (ntk_kernel_ex(net, n, xb + 2 * e * DB, 1, p2, 1, DB, &a2, &b2, &kd) != NTK_OK) same3 = 0;
        if (a1 != a2 || b1 != b2) same3 = 0;
      }
    }
    T_CHECK(same3, "28x28 conv, avgpool barrier, conv, gap: one entry and one diagonal on 2 and 3 threads = 1 thread's, bit for bit");
  }
}


/* q[i] uniform in [−qoff, 1 − qoff), t[i] in [0.1, 1.1), from the LCG seeded z */
static void tfr_fill(ntk_real *q, ntk_real *t, size_t n, unsigned long long z, double qoff) {
  size_t i;
  for (i = 0; i < n; i++) {
    z = z * 6364136223846793005ull + 1442695040888963407ull;
    q[i] = (ntk_real)((double)(z >> 11) / 9007199254740992.0 - qoff);
    z = z * 6364136223846793005ull + 1442695040888963407ull;
    t[i] = (ntk_real)((double)(z >> 11) / 9007199254740992.0 + 0.1);
  }
}
/* the definition of frame entry (hh, ww)'s taps, in double: the sums of Q and Θ over the filter
   R of the entries in (hh, ww)'s runs of frame F (all of them mod the size when circular) */
static void tfr_taps(const ntk_real *q, const ntk_real *t, const ntk__frame *F, const ntk__arch_layer *R, int circ,
                     size_t hh, size_t ww, double *sq, double *st) {
  size_t H = F->h, W = F->w, dh, dw;
  long h0 = hh < F->sh ? 0 : (long)F->sh, h1 = hh < F->sh ? (long)F->sh : (long)H;
  long w0 = ww < F->sw ? 0 : (long)F->sw, w1 = ww < F->sw ? (long)F->sw : (long)W;
  *sq = *st = 0;
  for (dh = 0; dh < R->f[0]; dh++)
    for (dw = 0; dw < R->f[1]; dw++) {
      long r = (long)(hh + dh) - (long)R->lo[0], c = (long)(ww + dw) - (long)R->lo[1];
      if (circ) r = ((r % (long)H) + (long)H) % (long)H, c = ((c % (long)W) + (long)W) % (long)W;
      else if (r < h0 || r >= h1 || c < w0 || c >= w1) continue;
      *sq += (double)q[(size_t)r * W + (size_t)c], *st += (double)t[(size_t)r * W + (size_t)c];
    }
}

/* The frame conv (ntk__fr_conv) at every SIMD level the CPU has against the definition: entry
   (h, w) of frame (c_h, c_w) is the pair (x at (h, w), x′ at (h + c_h, w + c_w) mod the size);
   tap (dh, dw) reads entry (h + dh − lo_h, w + dw − lo_w) when it lies in the same run along
   each axis (runs split at h − c_h, w − c_w), all taps mod the size when circular. Odd widths
   (vector tails), every junction position, 3×3 (the AVX-512 hand path), 1×3, 2×4, 5×3. */
static void test_frames_conv(void) {
  enum { HM = 9, WM = 37 };
  static const size_t fs[4][2] = {{3, 3}, {1, 3}, {2, 4}, {5, 3}};
  /* 32, 37: whole vectors, then none or a tail, at both precisions */
  static const size_t ws[6] = {1, 8, 13, 19, 32, 37};
  static ntk_real q[HM * WM], t[HM * WM], qo[HM * WM], to[HM * WM], tp[HM * WM + 4 * (WM + 8) + 8 * WM];
  int lv, top = ntk__simd_level(), ok = 1, cases = 0;
  size_t fi, wi, i;
  t_section("frames_conv");
  tfr_fill(q, t, HM * WM, 7, 0.3);
  for (lv = 0; lv <= top; lv++) {
#if defined(NTK__BUILD_X86)
    if (lv == NTK_SIMD_NEON) continue;
#endif
    for (fi = 0; fi < 4; fi++)
      for (wi = 0; wi < 6; wi++) {
        size_t H = 7, W = ws[wi], ch, cw, hh, ww;
        int circ;
        for (circ = 0; circ < 2; circ++)
          for (ch = 0; ch < H; ch += 3)
            for (cw = 0; cw < W; cw++) {
              ntk__frame F;
              ntk__arch_layer R;
              int wt;
              memset(&R, 0, sizeof R);
              R.f[0] = fs[fi][0], R.f[1] = fs[fi][1];
              R.lo[0] = (R.f[0] - 1) / 2, R.hi[0] = R.f[0] - 1 - R.lo[0];
              R.lo[1] = (R.f[1] - 1) / 2, R.hi[1] = R.f[1] - 1 - R.lo[1];
              F.h = H, F.w = W, F.ch = ch, F.cw = cw, F.sh = H - ch, F.sw = W - cw;
              for (wt = 0; wt < 2; wt++) {
                const ntk_real a = (ntk_real)0.7, b = (ntk_real)0.2, al = (ntk_real)1.3, be = (ntk_real)0.6, ga = (ntk_real)0.5;
                memset(tp, 0, sizeof tp);
                for (i = 0; i < HM * WM; i++) qo[i] = to[i] = (ntk_real)-99;
                ntk__fr_conv(lv, &F, &R, circ, q, wt ? t : NULL, qo, wt ? to : NULL, tp + HM * WM, tp, a, b, al, be, ga, NULL);
                cases++;
                for (hh = 0; hh < H; hh++)
                  for (ww = 0; ww < W; ww++) {
                    double sq, st, eq, et;
                    tfr_taps(q, t, &F, &R, circ, hh, ww, &sq, &st);
                    eq = fabs((double)qo[hh * W + ww] - ((double)a * sq + (double)b));
                    et = wt ? fabs((double)to[hh * W + ww] - ((double)al * sq + (double)be * st + (double)ga)) : 0;
                    if (eq > 64 * NTK__EPS * (1 + fabs(sq)) || et > 64 * NTK__EPS * (1 + fabs(sq) + fabs(st))) {
                      if (ok)
                        printf("    level %d filter %zux%zu W %zu circ %d frame (%zu, %zu), Θ %d: entry (%zu, %zu) off by %.3g / %.3g\n",
                               lv, R.f[0], R.f[1], W, circ, ch, cw, wt, hh, ww, eq, et);
                      ok = 0;
                    }
                  }
                for (i = H * W; i < HM * WM; i++)
                  if (qo[i] != (ntk_real)-99 || to[i] != (ntk_real)-99) ok = 0;
              }
            }
      }
  }
  T_CHECK(ok, "frame conv at every SIMD level = the tap definition (%d frames: filters 3x3 1x3 2x4 5x3, widths 1 8 13 19 32 37, "
              "every junction, circular), nothing written past the frame", cases);
}

/* The frame conv followed by a ReLU-family layer (ntk__fr_conv with act: fused into one pass in
   the AVX-512 3×3 kernel) at every SIMD level the CPU has, against the definition: the taps
   as in test_frames_conv, in double, then the arc-cosine formulas in long double (tfr_ref) on
   q11 = the row point's variance at (h, w), q22 = the column point's at (h + c_h, w + c_w) mod
   the size, read from tables laid out as the driver's (rows twice, so that the window is one
   run); and bit for bit against the conv and then the dual as two passes (ntk__fr_relu). Odd
   widths (vector tails), every junction, circular (two passes), nothing written past the frame. */
static void test_frames_conv_act(void) {
  enum { HM = 7, WM = 37, RW = 2 * WM, RP = HM * RW };
  static const size_t ws[6] = {1, 8, 13, 19, 32, 37};
  static ntk_real q[HM * WM], t[HM * WM], qo[HM * WM + 8], to[HM * WM + 8], q2[HM * WM], t2[HM * WM];
  static ntk_real tp[HM * WM + 4 * (WM + 8) + 8 * WM], tab[2][3 * RP];
  ntk_layer L = ntk_abrelu(-0.3, 1.7);
  const double f = (L.a - L.b) * (L.a - L.b) / (2 * 3.14159265358979323846), hh = (L.a * L.a + L.b * L.b) / 2;
  int lv, top = ntk__simd_level(), ok = 1, same = 1, cases = 0;
  double errT = 0, errD = 0;
  size_t wi, i;
  unsigned long long z = 13; /* the tables' stream */
  t_section("frames_conv_act");
  tfr_fill(q, t, HM * WM, 11, 0.5);
  for (lv = 0; lv <= top; lv++) {
#if defined(NTK__BUILD_X86)
    if (lv == NTK_SIMD_NEON) continue;
#endif
    for (wi = 0; wi < 6; wi++) {
      size_t H = HM, W = ws[wi], ch, cw, hq, wq, p, k;
      int circ;
      for (p = 0; p < 2; p++) /* the two points' tables: q, √q, 1/√q, each row twice */
        for (hq = 0; hq < H; hq++)
          for (wq = 0; wq < W; wq++) {
            double v;
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            v = 0.5 + (double)(z >> 11) / 9007199254740992.0;
            for (k = 0; k < 2; k++) {
              ntk_real *e = tab[p] + hq * 2 * W + k * W + wq;
              e[0] = (ntk_real)v, e[2 * H * W] = (ntk_real)sqrt((double)(ntk_real)v);
              e[4 * H * W] = 1 / e[2 * H * W];
            }
          }
      for (circ = 0; circ < 2; circ++)
        for (ch = 0; ch < H; ch += 2)
          for (cw = 0; cw < W; cw++) {
            ntk__frame F;
            ntk__arch_layer R;
            ntk__fr_act act;
            int wt;
            memset(&R, 0, sizeof R);
            R.f[0] = R.f[1] = 3, R.lo[0] = R.lo[1] = R.hi[0] = R.hi[1] = 1;
            F.h = H, F.w = W, F.ch = ch, F.cw = cw, F.sh = H - ch, F.sw = W - cw;
            act.va = tab[0], act.vb = tab[1], act.rw = 2 * W, act.rp = 2 * H * W, act.f = (ntk_real)f, act.h = (ntk_real)hh;
            for (wt = 0; wt < 2; wt++) {
              const ntk_real a = (ntk_real)0.1, b = (ntk_real)0.02, al = (ntk_real)1.3, be = (ntk_real)0.6, ga = (ntk_real)0.5;
              memset(tp, 0, sizeof tp);
              for (i = 0; i < HM * WM + 8; i++) qo[i] = to[i] = (ntk_real)-99;
              ntk__fr_conv(lv, &F, &R, circ, q, wt ? t : NULL, qo, wt ? to : NULL, tp + HM * WM, tp, a, b, al, be, ga, &act);
              ntk__fr_conv(lv, &F, &R, circ, q, wt ? t : NULL, q2, wt ? t2 : NULL, tp + HM * WM, tp, a, b, al, be, ga, NULL);
              ntk__fr_relu(lv, &F, &act, q2, wt ? t2 : NULL);
              cases++;
              for (i = 0; i < H * W; i++)
                if (qo[i] != q2[i] || (wt && to[i] != t2[i])) same = 0;
              for (i = H * W; i < HM * WM + 8; i++)
                if (qo[i] != (ntk_real)-99 || to[i] != (ntk_real)-99) ok = 0;
              for (hq = 0; hq < H; hq++)
                for (wq = 0; wq < W; wq++) {
                  double sq, st, u = (double)tab[0][hq * 2 * W + wq], v, c, M, rho, sn, eT, eD;
                  long double T, Td;
                  v = (double)tab[1][((hq + ch) % H) * 2 * W + (wq + cw) % W];
                  tfr_taps(q, t, &F, &R, circ, hq, wq, &sq, &st);
                  c = (double)a * sq + (double)b;
                  tfr_ref(L.a, L.b, u, v, c, &T, &Td);
                  M = sqrt(u * v) * hh, rho = c / sqrt(u * v), sn = sqrt(fabs((1 - rho) * (1 + rho))) + 1e-300;
                  /* as test_frames_dual's bound, plus the conv's roundings carried through Ṫ */
                  eT = fabs((double)qo[hq * W + wq] - (double)T) / (SK_RTOL * 0.1 * M + 1e-300);
                  eD = wt ? fabs((double)to[hq * W + wq] - (double)Td * ((double)al * sq + (double)be * st + (double)ga)) /
                                ((SK_RTOL * 0.1 * hh + f * 8 * NTK__EPS / sn) * (1 + fabs(sq) + fabs(st)) + 1e-300)
                          : 0;
                  if (eT > errT) errT = eT;
                  if (eD > errD) errD = eD;
                }
            }
          }
    }
  }
  T_CHECK(ok && errT <= 1 && errD <= 1, "frame conv + ReLU-family layer at every SIMD level = the taps then the arc-cosine formulas "
          "(%d frames, widths 1 8 13 19 32 37, every junction, circular): T %.3g, Theta %.3g of tolerance, nothing written past the frame",
          cases, errT, errD);
  T_CHECK(same, "frame conv + ReLU-family layer in one pass (AVX-512 3x3) = the two passes, bit for bit");
}

/* A self pass's tables (ntk__fr_roots) at every SIMD level the CPU has: v = q, √q and 1/√q (0
   where √q is not > 0: q = 0, −0, negative, NaN) each written twice (at i and i + dup), against
   libm's correctly rounded sqrt and one division, bit for bit; every length 1..37 (vector
   tails), nothing written outside the row and its copy. */
static void test_frames_roots(void) {
  enum { NM = 37, DUP = 41, RP = 2 * DUP + 8 };
  static const double sp[8] = {0.0, -0.0, -1.5, 1e-310, 4.0, 1e300, 0.25, 2.0};
  ntk_real q[NM], v[3 * RP];
  int lv, top = ntk__simd_level(), ok = 1, cases = 0;
  size_t n, i, c;
  t_section("frames_roots");
  for (lv = 0; lv <= top; lv++) {
    if (lv == NTK_SIMD_NEON) continue;
    for (n = 1; n <= NM; n++) {
      for (i = 0; i < n; i++) q[i] = (ntk_real)(i % 3 == 0 ? sp[(i / 3) % 8] : 0.1 + 0.37 * (double)i);
      if (n > 5) q[5] = (ntk_real)NAN;
      for (i = 0; i < 3 * RP; i++) v[i] = (ntk_real)-7;
      ntk__fr_roots(lv, q, n, v, DUP, RP);
      for (c = 0; c < 3; c++)
        for (i = 0; i < RP; i++) {
          size_t j = i < DUP ? i : i - DUP;
          int in = (i < n) || (i >= DUP && i < DUP + n);
          ntk_real x = in ? q[j] : 0, s = (ntk_real)sqrt((double)x), want, got = v[c * RP + i]; /* float: exact */
          want = !in ? (ntk_real)-7 : c == 0 ? x : c == 1 ? s : (s > 0 ? (ntk_real)1 / s : 0);
          if (!(got == want || (want != want && got != got)) || (got == 0 && signbit(got) != signbit(want))) ok = 0;
        }
      cases++;
    }
  }
  T_CHECK(ok, "self-pass tables (ntk__fr_roots) at every SIMD level: q, sqrt q, 1/sqrt q (0 where not > 0) twice "
              "each, bit for bit against libm, %d lengths 1..37 with 0, -0, negative, NaN, subnormal, huge", cases);
}

static void test_frames_all(void) {
  test_frames_roots();
  test_frames_dual();
  test_frames_conv();
  test_frames_conv_act();
  test_frames_nets();
  test_frames_tiles();
}
