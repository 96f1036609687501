/* tests/ref_spatial.h — the independent reference for issue 16's spatial kernel (test code).

   The infinite-width NNGP and NTK of a network described by an ntk_layer list (spatial,
   branched, or a plain MLP), evaluated slowly and literally on the MATERIALISED spatial
   covariance, with neural-tangents' stax layer rules (research/neural_tangents.md §2.0–2.3,
   §2.13; research/architectures.md, appendix; checked against neural-tangents c17e770,
   stax/linear.py, branching.py, elementwise.py, requirements.py). It shares no code with the
   library's kernel drivers: it derives every shape itself, and the closed-form duals are its
   own long double formulas. It is the specification the library's fast spatial driver is
   tested against, so it is written to be read: one function per layer rule, a shape comment on
   each, no cleverness, long double throughout.

   State per pair (x, x′) after each layer (P = h·w positions, p = row·w + col):
     k11 (P × P)  Q(x, x)(i, j)     the self-covariances: activations read their diagonals
     k22 (P × P)  Q(x′, x′)(i, j)   (q11 = k11(i, i), q22 = k22(j, j)); pools mix all entries
     k12 (P × P)  Q(x, x′)(i, j)    the NNGP
     t12 (P × P)  Θ(x, x′)(i, j)    the NTK
   plus the shape (h, w), the finite channel count c (the 'standard' fan-ins and the concat
   weights use it; 0 = not given) and neural-tangents' is_gaussian flag. A vector is a 1×1
   image: Flatten, GlobalAvgPool and GlobalSumPool give (1, 1, ·).

   Conventions decided here (the library's front end must agree, or this file changes):
   - The input is layers[0] = NTK_LAYER_INPUT (h, w, c) if present, else the vector (1, 1, dim).
   - Filter and window extents: (fh, fw); fw = 0 means fh × fh, except on a 1-D network (the
     INPUT's h = 1), where it means 1 × fh. Strides (sh, sw): 0 = 1; sw = 0 means sh, except on
     a 1-D network, where (sh, 0) means 1 × sh. (The 1-D rule reads the network's input h, not
     the current layer's: a 2-D image squeezed to one row by a VALID conv stays 2-D.)
   - Bias: NTK_BIAS_AUTO = a bias parameter exactly when b_std > 0; NONE = no bias (b_std is
     then ignored); ALWAYS = a bias with σ_b = b_std, possibly 0 ('standard': +1 in the NTK).
   - NTK_LAYER_IDENTITY is the identity map on the kernel and keeps is_gaussian (stax.Identity).
   - Gaussianity (neural-tangents): the input is not Gaussian; Dense and Conv make it Gaussian;
     pools, global pools, LayerNorm and Identity keep it; Flatten, FanInConcat and every
     activation clear it; an activation or LayerNorm needs a Gaussian input; FanInSum of two or
     more branches needs every branch Gaussian. A violation returns −1 naming the layer.
   - Activations without a long double closed form here (tanh, softplus, custom) go through the
     library's MLP kernel as the elementwise dual (ref__dual_via_mlp below, documented there):
     the spatial plumbing stays independent; the 1-D dual is the library's quadrature.

   API:
     ref_spatial_kernel(layers, n_layers, x1, n1, x2, n2, dim, nngp, ntk)  — as ntk_kernel:
       rows of x1 (n1, dim) and x2 (n2, dim; NULL = x1), dim = h·w·c; nngp, ntk (n1, n2) row-major,
       either may be NULL. The output must be 1×1 (a Flatten or global pool, or a 1×1 image).
     ref_spatial_pair(layers, n_layers, x1, x2, dim, &st) — the full final state of one pair.
   Both return 0, or −1 with a message in ref_spatial_error. */
#ifndef NTK_REF_SPATIAL_H
#define NTK_REF_SPATIAL_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef long double ref_ld;

static char ref_spatial_error[256];

typedef struct ref_cov {
  size_t h, w, c; /* output shape; c = finite channels (0 = not given) */
  int gaussian;
  ref_ld *k11, *k22, *k12, *t12; /* each (h·w) × (h·w), row-major */
} ref_cov;

static int ref__fail(size_t layer, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(ref_spatial_error, sizeof ref_spatial_error, "layer %lu: ", (unsigned long)layer);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof ref_spatial_error)
    vsnprintf(ref_spatial_error + n, sizeof ref_spatial_error - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- state ----------------------------------------------------------------------------- */
static void ref__free(ref_cov *s) {
  free(s->k11), free(s->k22), free(s->k12), free(s->t12);
  s->k11 = s->k22 = s->k12 = s->t12 = NULL;
}
static int ref__alloc(ref_cov *s, size_t h, size_t w, size_t c, int gaussian) {
  size_t P = h * w;
  s->h = h, s->w = w, s->c = c, s->gaussian = gaussian;
  s->k11 = (ref_ld *)calloc(P * P, sizeof(ref_ld));
  s->k22 = (ref_ld *)calloc(P * P, sizeof(ref_ld));
  s->k12 = (ref_ld *)calloc(P * P, sizeof(ref_ld));
  s->t12 = (ref_ld *)calloc(P * P, sizeof(ref_ld));
  if (!s->k11 || !s->k22 || !s->k12 || !s->t12) {
    ref__free(s);
    return ref__fail(0, "out of memory");
  }
  return 0;
}
static int ref__copy(ref_cov *dst, const ref_cov *src) {
  size_t PP = src->h * src->w * src->h * src->w;
  if (ref__alloc(dst, src->h, src->w, src->c, src->gaussian)) return -1;
  memcpy(dst->k11, src->k11, PP * sizeof(ref_ld));
  memcpy(dst->k22, src->k22, PP * sizeof(ref_ld));
  memcpy(dst->k12, src->k12, PP * sizeof(ref_ld));
  memcpy(dst->t12, src->t12, PP * sizeof(ref_ld));
  return 0;
}

/* ---- shapes ---------------------------------------------------------------------------- */
/* One spatial axis of a conv or pool: input n, filter f, stride s → output, low padding. */
typedef struct ref_axis {
  size_t in, f, s, out;
  long lo;      /* taps read input position s·o + δ − lo, δ in [0, f) */
  int circular; /* positions mod in; else outside positions are zero */
} ref_axis;

static int ref__axis(ref_axis *a, size_t in, size_t f, size_t s, ntk_padding pad, size_t layer) {
  a->in = in, a->f = f, a->s = s, a->circular = pad == NTK_PAD_CIRCULAR, a->lo = 0;
  if (f == 0 || s == 0) return ref__fail(layer, "zero filter or stride");
  if (pad == NTK_PAD_VALID) {
    if (f > in) return ref__fail(layer, "filter %lu larger than the VALID input %lu", (unsigned long)f, (unsigned long)in);
    a->out = (in - f) / s + 1;
  } else if (pad == NTK_PAD_SAME || pad == NTK_PAD_CIRCULAR) {
    /* lax.padtype_to_pads: out = ceil(in / s), total = max((out − 1)·s + f − in, 0), lo = total / 2 */
    long total;
    a->out = (in + s - 1) / s;
    total = (long)((a->out - 1) * s + f) - (long)in;
    if (total < 0) total = 0;
    a->lo = total / 2;
  } else {
    return ref__fail(layer, "unknown padding %d", (int)pad);
  }
  return 0;
}
/* the input index read by output o, tap d, or −1 for a zero (padding) tap */
static long ref__tap(const ref_axis *a, size_t o, size_t d) {
  long p = (long)(a->s * o + d) - a->lo, n = (long)a->in;
  if (a->circular) return ((p % n) + n) % n;
  return p >= 0 && p < n ? p : -1;
}

/* filter/window and stride of a conv or pool layer, with the 1-D rule of the header */
static void ref__extents(const ntk_layer *L, int one_d, size_t *fh, size_t *fw, size_t *sh, size_t *sw) {
  size_t s0 = L->stride[0] ? L->stride[0] : 1;
  if (L->shape[1]) *fh = L->shape[0], *fw = L->shape[1];
  else if (one_d) *fh = 1, *fw = L->shape[0];
  else *fh = *fw = L->shape[0];
  if (L->stride[1]) *sh = s0, *sw = L->stride[1];
  else if (one_d) *sh = 1, *sw = s0;
  else *sh = *sw = s0;
}

/* ---- layer rules ----------------------------------------------------------------------- */
/* Input: x1, x2 (h, w, c) NHWC → k(i, j) = x[i, :]·x′[j, :] / c; Θ = 0. */
static int ref__input(ref_cov *s, const double *x1, const double *x2, size_t h, size_t w, size_t c) {
  size_t P = h * w, i, j, k;
  if (ref__alloc(s, h, w, c, 0)) return -1;
  for (i = 0; i < P; i++)
    for (j = 0; j < P; j++) {
      ref_ld a = 0, b = 0, d = 0;
      for (k = 0; k < c; k++) {
        a += (ref_ld)x1[i * c + k] * x1[j * c + k];
        b += (ref_ld)x2[i * c + k] * x2[j * c + k];
        d += (ref_ld)x1[i * c + k] * x2[j * c + k];
      }
      s->k11[i * P + j] = a / c, s->k22[i * P + j] = b / c, s->k12[i * P + j] = d / c;
    }
  return 0;
}

/* Diagonal-filter average of a covariance: in (H·W × H·W) → out (Ho·Wo × Ho·Wo),
   out(o, o′) = (1/|F|)·Σ_δ in(s·o + δ − lo, s·o′ + δ − lo): the SAME tap δ on both sides
   (weights are shared and independent across taps); zero taps count in |F|. */
static void ref__conv_mat(ref_ld *out, const ref_ld *in, const ref_axis *ah, const ref_axis *aw) {
  size_t Wi = aw->in, Pi = ah->in * Wi, Wo = aw->out, Po = ah->out * Wo;
  size_t oh, ow, ph, pw, dh, dw;
  ref_ld F = (ref_ld)(ah->f * aw->f);
  for (oh = 0; oh < ah->out; oh++)
    for (ow = 0; ow < Wo; ow++)
      for (ph = 0; ph < ah->out; ph++)
        for (pw = 0; pw < Wo; pw++) {
          ref_ld sum = 0;
          for (dh = 0; dh < ah->f; dh++)
            for (dw = 0; dw < aw->f; dw++) {
              long ih = ref__tap(ah, oh, dh), iw = ref__tap(aw, ow, dw);
              long jh = ref__tap(ah, ph, dh), jw = ref__tap(aw, pw, dw);
              if (ih < 0 || iw < 0 || jh < 0 || jw < 0) continue;
              sum += in[((size_t)ih * Wi + (size_t)iw) * Pi + (size_t)jh * Wi + (size_t)jw];
            }
          out[(oh * Wo + ow) * Po + ph * Wo + pw] = sum / F;
        }
}

/* whether a Dense/Conv layer has a bias parameter */
static int ref__has_bias(const ntk_layer *L) {
  return L->bias == NTK_BIAS_ALWAYS || (L->bias == NTK_BIAS_AUTO && L->b_std > 0);
}

/* The affine step shared by Dense and Conv, on already-averaged matrices (A = conv or
   identity of the input): k ← σ_w²·A(k) + σ_b²; Θ ← σ_w²·A(Θ) + k_new ('ntk') or
   fan_in·A(k_old) + σ_w²·A(Θ) + [bias] ('standard'), fan_in = c_in·|F|. */
static void ref__affine(ref_cov *s, const ntk_layer *L, ref_ld fan_in) {
  size_t PP = s->h * s->w * s->h * s->w, e;
  ref_ld w2 = (ref_ld)L->w_std * L->w_std;
  int bias = ref__has_bias(L);
  ref_ld b2 = bias ? (ref_ld)L->b_std * L->b_std : 0;
  for (e = 0; e < PP; e++) {
    ref_ld k12 = s->k12[e];
    s->k11[e] = w2 * s->k11[e] + b2;
    s->k22[e] = w2 * s->k22[e] + b2;
    s->k12[e] = w2 * k12 + b2;
    if (L->param == NTK_PARAM_STANDARD)
      s->t12[e] = fan_in * k12 + w2 * s->t12[e] + (bias ? 1 : 0);
    else
      s->t12[e] = s->k12[e] + w2 * s->t12[e];
  }
}

/* Conv: (H, W, c_in) → (Ho, Wo, width); see ref__conv_mat and ref__affine. */
static int ref__conv(ref_cov *s, const ntk_layer *L, int one_d, size_t layer) {
  ref_axis ah, aw;
  size_t fh, fw, sh, sw;
  ref_cov o;
  ref__extents(L, one_d, &fh, &fw, &sh, &sw);
  if (ref__axis(&ah, s->h, fh, sh, L->padding, layer) || ref__axis(&aw, s->w, fw, sw, L->padding, layer))
    return -1;
  if (L->param == NTK_PARAM_STANDARD && s->c == 0)
    return ref__fail(layer, "'standard' conv needs the finite input channel count");
  if (ref__alloc(&o, ah.out, aw.out, L->width, 1)) return -1;
  ref__conv_mat(o.k11, s->k11, &ah, &aw);
  ref__conv_mat(o.k22, s->k22, &ah, &aw);
  ref__conv_mat(o.k12, s->k12, &ah, &aw);
  ref__conv_mat(o.t12, s->t12, &ah, &aw);
  ref__affine(&o, L, (ref_ld)s->c * (ref_ld)(fh * fw));
  ref__free(s);
  *s = o;
  return 0;
}

/* Dense per position: (H, W, c_in) → (H, W, width), elementwise affine (fan_in = c_in). */
static int ref__dense(ref_cov *s, const ntk_layer *L, size_t layer) {
  if (L->param == NTK_PARAM_STANDARD && s->c == 0)
    return ref__fail(layer, "'standard' dense needs the finite input width");
  ref__affine(s, L, (ref_ld)s->c);
  s->c = L->width, s->gaussian = 1;
  return 0;
}

/* Pool over pairs of windows: in (H·W × H·W) → out (Ho·Wo × Ho·Wo),
   out(o, o′) = Σ_{δ, δ′} in(s·o + δ − lo, s·o′ + δ′ − lo) / div(o, o′), div = 1 (SumPool),
   |window|² (AvgPool), or n(o)·n(o′) with n = the in-image taps (AvgPool, SAME,
   normalize_edges; CIRCULAR is VALID on the wrapped image, so |window|² there). */
static void ref__pool_mat(ref_ld *out, const ref_ld *in, const ref_axis *ah, const ref_axis *aw,
                          int avg, int normalize_edges) {
  size_t Wi = aw->in, Pi = ah->in * Wi, Wo = aw->out, Po = ah->out * Wo;
  size_t oh, ow, ph, pw, dh, dw, eh, ew;
  for (oh = 0; oh < ah->out; oh++)
    for (ow = 0; ow < Wo; ow++)
      for (ph = 0; ph < ah->out; ph++)
        for (pw = 0; pw < Wo; pw++) {
          ref_ld sum = 0, n1 = 0, n2 = 0, div = 1;
          for (dh = 0; dh < ah->f; dh++)
            for (dw = 0; dw < aw->f; dw++) {
              long ih = ref__tap(ah, oh, dh), iw = ref__tap(aw, ow, dw);
              if (ih < 0 || iw < 0) continue;
              n1 += 1;
              for (eh = 0; eh < ah->f; eh++)
                for (ew = 0; ew < aw->f; ew++) {
                  long jh = ref__tap(ah, ph, eh), jw = ref__tap(aw, pw, ew);
                  if (jh < 0 || jw < 0) continue;
                  sum += in[((size_t)ih * Wi + (size_t)iw) * Pi + (size_t)jh * Wi + (size_t)jw];
                }
            }
          for (eh = 0; eh < ah->f; eh++)
            for (ew = 0; ew < aw->f; ew++)
              if (ref__tap(ah, ph, eh) >= 0 && ref__tap(aw, pw, ew) >= 0) n2 += 1;
          if (avg) {
            ref_ld F = (ref_ld)(ah->f * aw->f);
            div = normalize_edges && !ah->circular ? n1 * n2 : F * F;
          }
          out[(oh * Wo + ow) * Po + ph * Wo + pw] = sum / div;
        }
}

/* AvgPool / SumPool: (H, W, c) → (Ho, Wo, c); keeps is_gaussian. */
static int ref__pool(ref_cov *s, const ntk_layer *L, int one_d, size_t layer) {
  ref_axis ah, aw;
  size_t fh, fw, sh, sw;
  ref_cov o;
  int avg = L->kind == NTK_LAYER_AVG_POOL, ne = avg && (L->flags & NTK_POOL_NORMALIZE_EDGES);
  ref__extents(L, one_d, &fh, &fw, &sh, &sw);
  if (ref__axis(&ah, s->h, fh, sh, L->padding, layer) || ref__axis(&aw, s->w, fw, sw, L->padding, layer))
    return -1;
  if (ref__alloc(&o, ah.out, aw.out, s->c, s->gaussian)) return -1;
  ref__pool_mat(o.k11, s->k11, &ah, &aw, avg, ne);
  ref__pool_mat(o.k22, s->k22, &ah, &aw, avg, ne);
  ref__pool_mat(o.k12, s->k12, &ah, &aw, avg, ne);
  ref__pool_mat(o.t12, s->t12, &ah, &aw, avg, ne);
  ref__free(s);
  *s = o;
  return 0;
}

/* GlobalAvgPool (mean over all (i, j)), GlobalSumPool (sum), Flatten ((1/P)·Σ_i m(i, i)):
   (H, W, c) → (1, 1, c) (Flatten: (1, 1, H·W·c), not Gaussian). */
static ref_ld ref__reduce(const ref_ld *m, size_t P, int kind) {
  ref_ld sum = 0;
  size_t i, j;
  if (kind == NTK_LAYER_FLATTEN) {
    for (i = 0; i < P; i++) sum += m[i * P + i];
    return sum / (ref_ld)P;
  }
  for (i = 0; i < P; i++)
    for (j = 0; j < P; j++) sum += m[i * P + j];
  return kind == NTK_LAYER_GLOBAL_AVG_POOL ? sum / ((ref_ld)P * (ref_ld)P) : sum;
}
static int ref__global(ref_cov *s, int kind) {
  size_t P = s->h * s->w;
  ref_cov o;
  if (ref__alloc(&o, 1, 1, kind == NTK_LAYER_FLATTEN ? P * s->c : s->c,
                 kind == NTK_LAYER_FLATTEN ? 0 : s->gaussian))
    return -1;
  o.k11[0] = ref__reduce(s->k11, P, kind);
  o.k22[0] = ref__reduce(s->k22, P, kind);
  o.k12[0] = ref__reduce(s->k12, P, kind);
  o.t12[0] = ref__reduce(s->t12, P, kind);
  ref__free(s);
  *s = o;
  return 0;
}

/* LayerNorm over channels and the spatial axes in flags: (H, W, c) → same.
   d(i) = mean over the positions i′ that differ from i only on normalised spatial axes of
   (ε + k(i′, i′)); k12(i, j) /= √(d1(i)·d2(j)), Θ likewise, k11 with d1·d1, k22 with d2·d2.
   No mean subtraction (the input is mean-zero Gaussian). */
static int ref__layer_norm(ref_cov *s, const ntk_layer *L, size_t layer) {
  size_t H = s->h, W = s->w, P = H * W, i, j, a, b;
  int ax = L->flags ? L->flags : NTK_AXIS_C;
  ref_ld eps = L->eps > 0 ? (ref_ld)L->eps : 1e-12L;
  ref_ld *d1, *d2;
  if (!(ax & NTK_AXIS_C)) return ref__fail(layer, "LayerNorm axes must include channels");
  if (!s->gaussian) return ref__fail(layer, "LayerNorm needs a Gaussian input");
  d1 = (ref_ld *)calloc(P, sizeof(ref_ld)), d2 = (ref_ld *)calloc(P, sizeof(ref_ld));
  if (!d1 || !d2) { free(d1), free(d2); return ref__fail(layer, "out of memory"); }
  for (i = 0; i < P; i++) {
    size_t ih = i / W, iw = i % W, cnt = 0;
    for (a = 0; a < H; a++)
      for (b = 0; b < W; b++) {
        size_t p = a * W + b;
        if ((!(ax & NTK_AXIS_H) && a != ih) || (!(ax & NTK_AXIS_W) && b != iw)) continue;
        d1[i] += eps + s->k11[p * P + p], d2[i] += eps + s->k22[p * P + p], cnt++;
      }
    d1[i] /= (ref_ld)cnt, d2[i] /= (ref_ld)cnt;
  }
  for (i = 0; i < P; i++)
    for (j = 0; j < P; j++) {
      s->k12[i * P + j] /= sqrtl(d1[i] * d2[j]);
      s->t12[i * P + j] /= sqrtl(d1[i] * d2[j]);
      s->k11[i * P + j] /= sqrtl(d1[i] * d1[j]);
      s->k22[i * P + j] /= sqrtl(d2[i] * d2[j]);
    }
  free(d1), free(d2);
  return 0;
}

/* ---- activations: T = E[φ(u)φ(v)], Ṫ = E[φ′(u)φ′(v)], (u, v) ~ N(0, [[q11, q12], [q12, q22]]) */
static const ref_ld ref__pi = 3.141592653589793238462643383279502884L;

/* The library's own MLP kernel as a 1-D dual, for activations without a closed form here
   (tanh, softplus, custom): [Dense(w=1, b=0), φ, Dense(w=1, b=0)] on the 2-D inputs
   x = √2·(√q11, 0), x′ = √2·(q12/√q11, √(q22 − q12²/q11)), whose Gram/2 is the wanted
   covariance, gives T as its NNGP; the same with φ′ as a custom activation gives Ṫ (no
   division by q12). Inputs are rounded to double (a few ulps in q). */
typedef struct ref__fn_user { const ntk_layer *L; } ref__fn_user;
static double ref__dphi(double x, void *u) { /* φ′ as an activation: its own φ′ is unused */
  const ntk_layer *L = ((ref__fn_user *)u)->L;
  return L->df(x, L->user);
}
static int ref__dual_via_mlp(const ntk_layer *act, ref_ld q11, ref_ld q22, ref_ld q12, ref_ld *T, ref_ld *Td) {
  ntk_real x1[2], x2[2], out; /* ntk_real: the header also builds with NTK_REAL_FLOAT (then float duals) */
  ntk_layer net[3];
  ref__fn_user u;
  ntk_status st;
  if (q11 > 0) {
    ref_ld r = q12 / sqrtl(q11), rest = q22 - r * r;
    x1[0] = (ntk_real)sqrtl(2 * q11), x1[1] = 0;
    x2[0] = (ntk_real)(sqrtl(2.0L) * r), x2[1] = (ntk_real)sqrtl(2 * (rest > 0 ? rest : 0));
  } else {
    x1[0] = x1[1] = 0, x2[0] = 0, x2[1] = (ntk_real)sqrtl(2 * q22);
  }
  net[0] = ntk_dense(1, 1, 0), net[1] = *act, net[2] = ntk_dense(1, 1, 0);
  st = ntk_kernel(net, 3, x1, 1, x2, 1, 2, &out, NULL);
  if (st != NTK_OK) return -1;
  *T = out;
  u.L = act;
  net[1] = ntk_custom(ref__dphi, ref__dphi, &u);
  net[1].quad_degree = act->quad_degree;
  st = ntk_kernel(net, 3, x1, 1, x2, 1, 2, &out, NULL);
  if (st != NTK_OK) return -1;
  *Td = out;
  return 0;
}

/* One entry. Closed forms (neural-tangents elementwise.py, written out in long double). */
static int ref__dual(const ntk_layer *L, ref_ld q11, ref_ld q22, ref_ld q12, ref_ld *T, ref_ld *Td) {
  ref_ld a = (ref_ld)L->a, b = (ref_ld)L->b, c = (ref_ld)L->c, pi = ref__pi;
  switch (L->kind) {
  case NTK_LAYER_IDENTITY:
    *T = q12, *Td = 1;
    return 0;
  case NTK_LAYER_ABRELU: { /* φ = a·min(x, 0) + b·max(x, 0); θ = acos ρ (ρ = 0 at zero variance) */
    ref_ld s = sqrtl(q11 * q22), rho = s > 0 ? q12 / s : 0, th, j_pos, j_neg;
    if (q11 == q22 && q12 == q11) rho = 1; /* a point with itself: ρ = 1 exactly (Ṫ is steep there) */
    if (rho > 1) rho = 1;
    if (rho < -1) rho = -1;
    th = acosl(rho);
    j_pos = s / (2 * pi) * (sinl(th) + (pi - th) * cosl(th)); /* E[relu(u) relu(v)] */
    j_neg = s / (2 * pi) * (sinl(th) - th * cosl(th));        /* E[relu(u) relu(−v)] */
    *T = (a * a + b * b) * j_pos - 2 * a * b * j_neg;
    *Td = ((a * a + b * b) * (pi - th) + 2 * a * b * th) / (2 * pi);
    return 0;
  }
  case NTK_LAYER_ERF: { /* a·erf(b·x) + c */
    ref_ld d1 = 1 + 2 * b * b * q11, d2 = 1 + 2 * b * b * q22;
    ref_ld r = 2 * b * b * q12 / sqrtl(d1 * d2);
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    *T = a * a * (2 / pi) * asinl(r) + c * c;
    *Td = a * a * b * b * 4 / (pi * sqrtl(d1 * d2 - 4 * b * b * b * b * q12 * q12));
    return 0;
  }
  case NTK_LAYER_GELU: { /* x·Φ(x): Tsuchida et al. 2020, as neural-tangents codes it */
    ref_ld prod = q11 * q22, prod1 = (1 + q11) * (1 + q22), dsq = prod1 - q12 * q12;
    ref_ld del = sqrtl(dsq), ang = atan2l(q12, del);
    *T = ((q12 * q12 + prod * dsq) / (prod1 * del) + q12 * ang) / (2 * pi) + q12 / 4;
    *Td = q12 / del / (2 * pi) * (1 / dsq + (1 - prod) / prod1 + 1) + 0.25L + ang / (2 * pi);
    return 0;
  }
  case NTK_LAYER_SIN: { /* a·sin(b·x + c) */
    ref_ld em = expl(-b * b * (q11 + q22 - 2 * q12) / 2), ep = expl(-b * b * (q11 + q22 + 2 * q12) / 2);
    *T = a * a * (em - ep * cosl(2 * c)) / 2;
    *Td = a * a * b * b * (em + ep * cosl(2 * c)) / 2;
    return 0;
  }
  case NTK_LAYER_SIGN: {
    ref_ld s = sqrtl(q11 * q22), rho = s > 0 ? q12 / s : 0;
    if (q11 == q22 && q12 == q11 && q11 > 0) rho = 1;
    if (rho > 1) rho = 1;
    if (rho < -1) rho = -1;
    *T = 2 / pi * asinl(rho), *Td = 0;
    return 0;
  }
  case NTK_LAYER_RBF: { /* √2·sin(√(2γ)·x + π/4), γ = a */
    ref_ld e = expl(-a * (q11 + q22 - 2 * q12));
    *T = e, *Td = 2 * a * e;
    return 0;
  }
  case NTK_LAYER_EXP: { /* a·exp(b·x) */
    ref_ld e = expl(b * b * (q11 + q22 + 2 * q12) / 2);
    *T = a * a * e, *Td = a * a * b * b * e;
    return 0;
  }
  case NTK_LAYER_TANH:
  case NTK_LAYER_SOFTPLUS:
  case NTK_LAYER_CUSTOM:
    return ref__dual_via_mlp(L, q11, q22, q12, T, Td);
  default:
    return -1;
  }
}

/* Activation, entrywise on every matrix: k12(i, j) ← T(k11(i, i), k22(j, j), k12(i, j)),
   Θ(i, j) ← Θ(i, j)·Ṫ(same); k11, k22 with their own diagonals. (H, W, c) → same. */
static int ref__activation(ref_cov *s, const ntk_layer *L, size_t layer) {
  size_t P = s->h * s->w, i, j;
  ref_ld *n11, *n22;
  if (!s->gaussian) return ref__fail(layer, "an activation needs a Gaussian input (Dense or Conv first)");
  n11 = (ref_ld *)malloc(P * P * sizeof(ref_ld)), n22 = (ref_ld *)malloc(P * P * sizeof(ref_ld));
  if (!n11 || !n22) { free(n11), free(n22); return ref__fail(layer, "out of memory"); }
  for (i = 0; i < P; i++)
    for (j = 0; j < P; j++) {
      size_t e = i * P + j;
      ref_ld T, Td;
      if (ref__dual(L, s->k11[i * P + i], s->k11[j * P + j], s->k11[e], &T, &Td)) goto bad;
      n11[e] = T;
      if (ref__dual(L, s->k22[i * P + i], s->k22[j * P + j], s->k22[e], &T, &Td)) goto bad;
      n22[e] = T;
      if (ref__dual(L, s->k11[i * P + i], s->k22[j * P + j], s->k12[e], &T, &Td)) goto bad;
      s->k12[e] = T, s->t12[e] *= Td;
    }
  memcpy(s->k11, n11, P * P * sizeof(ref_ld)), memcpy(s->k22, n22, P * P * sizeof(ref_ld));
  free(n11), free(n22);
  s->gaussian = 0;
  return 0;
bad:
  free(n11), free(n22);
  return ref__fail(layer, "activation kind %d has no dual here", (int)L->kind);
}

/* ---- branches -------------------------------------------------------------------------- */
/* FanInSum: Σ_b of every matrix (equal h, w; all Gaussian if ≥ 2 branches).
   FanInConcat (channels): Σ_b c_b·K_b / Σ_b c_b (a plain mean when the c_b are equal), not
   Gaussian; c = Σ c_b. */
static int ref__fanin(ref_cov *out, ref_cov *br, size_t nb, int concat, size_t layer) {
  size_t b, e, PP, csum = 0;
  int equal = 1, gauss = 1;
  for (b = 0; b < nb; b++) {
    if (br[b].h != br[0].h || br[b].w != br[0].w) return ref__fail(layer, "branch %lu has another spatial shape", (unsigned long)b);
    if (br[b].c != br[0].c) equal = 0;
    if (!br[b].gaussian) gauss = 0;
    csum += br[b].c;
  }
  if (!concat && nb > 1 && !gauss) return ref__fail(layer, "FanInSum of non-Gaussian branches");
  if (concat && !equal)
    for (b = 0; b < nb; b++)
      if (br[b].c == 0) return ref__fail(layer, "concat of unequal widths needs every branch's width");
  if (ref__alloc(out, br[0].h, br[0].w, 0, concat ? 0 : gauss)) return -1;
  PP = out->h * out->w * out->h * out->w;
  for (b = 0; b < nb; b++) {
    ref_ld wgt = !concat ? 1 : equal ? 1 / (ref_ld)nb : (ref_ld)br[b].c / (ref_ld)csum;
    for (e = 0; e < PP; e++) {
      out->k11[e] += wgt * br[b].k11[e], out->k22[e] += wgt * br[b].k22[e];
      out->k12[e] += wgt * br[b].k12[e], out->t12[e] += wgt * br[b].t12[e];
    }
    if (!concat && br[b].c) out->c = br[b].c;
  }
  if (concat) out->c = csum;
  return 0;
}

/* ---- the walk ---------------------------------------------------------------------------- */
/* Runs layers[*pos …] on s until the end of the list or a BRANCH / FANIN at this depth (not
   consumed). FANOUT(n) copies the state into n branches, runs each, joins them at its FANIN. */
static int ref__run(const ntk_layer *layers, size_t n_layers, size_t *pos, ref_cov *s, int one_d) {
  while (*pos < n_layers) {
    const ntk_layer *L = &layers[*pos];
    size_t at = *pos;
    int r = 0;
    switch (L->kind) {
    case NTK_LAYER_BRANCH:
    case NTK_LAYER_FANIN_SUM:
    case NTK_LAYER_FANIN_CONCAT:
      return 0;
    case NTK_LAYER_INPUT: return ref__fail(at, "INPUT after the first layer");
    case NTK_LAYER_DENSE: r = ref__dense(s, L, at); break;
    case NTK_LAYER_CONV: r = ref__conv(s, L, one_d, at); break;
    case NTK_LAYER_AVG_POOL:
    case NTK_LAYER_SUM_POOL: r = ref__pool(s, L, one_d, at); break;
    case NTK_LAYER_GLOBAL_AVG_POOL:
    case NTK_LAYER_GLOBAL_SUM_POOL:
    case NTK_LAYER_FLATTEN: r = ref__global(s, (int)L->kind); break;
    case NTK_LAYER_LAYER_NORM: r = ref__layer_norm(s, L, at); break;
    case NTK_LAYER_IDENTITY: break; /* stax.Identity: the kernel and the flag unchanged */
    case NTK_LAYER_FANOUT: {
      size_t nb = L->n, b;
      ref_cov *br;
      if (nb == 0) return ref__fail(at, "FANOUT with no branches");
      br = (ref_cov *)calloc(nb, sizeof(ref_cov));
      if (!br) return ref__fail(at, "out of memory");
      ++*pos;
      for (b = 0; b < nb && r == 0; b++) {
        if ((r = ref__copy(&br[b], s)) != 0) break;
        if ((r = ref__run(layers, n_layers, pos, &br[b], one_d)) != 0) break;
        if (*pos >= n_layers) r = ref__fail(at, "FANOUT without its FANIN");
        else if (b + 1 < nb && layers[*pos].kind != NTK_LAYER_BRANCH)
          r = ref__fail(*pos, "FANOUT(%lu) ended after %lu branches", (unsigned long)nb, (unsigned long)(b + 1));
        else if (b + 1 == nb && layers[*pos].kind == NTK_LAYER_BRANCH)
          r = ref__fail(*pos, "more branches than FANOUT(%lu) said", (unsigned long)nb);
        else if (b + 1 < nb) ++*pos;
      }
      if (r == 0) {
        ref__free(s);
        r = ref__fanin(s, br, nb, layers[*pos].kind == NTK_LAYER_FANIN_CONCAT, *pos);
      }
      for (b = 0; b < nb; b++) ref__free(&br[b]);
      free(br);
      break;
    }
    default:
      if ((ntk__props(L->kind) & NTK__K_ACT) == 0) return ref__fail(at, "unknown kind %d", (int)L->kind);
      r = ref__activation(s, L, at);
    }
    if (r) return r;
    ++*pos;
  }
  return 0;
}

/* One pair: the full final state (caller frees with ref__free). */
static int ref_spatial_pair(const ntk_layer *layers, size_t n_layers, const double *x1, const double *x2,
                            size_t dim, ref_cov *s) {
  size_t h = 1, w = 1, c = dim, pos = 0;
  int one_d;
  memset(s, 0, sizeof *s);
  ref_spatial_error[0] = 0;
  if (n_layers > 0 && layers[0].kind == NTK_LAYER_INPUT) {
    h = layers[0].shape[0], w = layers[0].shape[1], c = layers[0].shape[2], pos = 1;
    if (h * w * c != dim || h == 0 || w == 0 || c == 0) return ref__fail(0, "INPUT shape does not match dim");
  }
  one_d = h == 1;
  if (ref__input(s, x1, x2, h, w, c)) return -1;
  if (ref__run(layers, n_layers, &pos, s, one_d)) { ref__free(s); return -1; }
  if (pos != n_layers) { ref__free(s); return ref__fail(pos, "BRANCH or FANIN without a FANOUT"); }
  return 0;
}

/* NNGP and NTK (n1, n2) of a network whose output is 1×1 (per output channel). */
static int ref_spatial_kernel(const ntk_layer *layers, size_t n_layers, const double *x1, size_t n1,
                              const double *x2, size_t n2, size_t dim, double *nngp, double *ntk) {
  size_t a, b;
  if (!x2) x2 = x1, n2 = n1;
  for (a = 0; a < n1; a++)
    for (b = 0; b < n2; b++) {
      ref_cov s;
      if (ref_spatial_pair(layers, n_layers, x1 + a * dim, x2 + b * dim, dim, &s)) return -1;
      if (s.h * s.w != 1) { ref__free(&s); return ref__fail(n_layers, "the output is not 1x1 (add a Flatten or a global pool)"); }
      if (nngp) nngp[a * n2 + b] = (double)s.k12[0];
      if (ntk) ntk[a * n2 + b] = (double)s.t12[0];
      ref__free(&s);
    }
  return 0;
}
#endif
