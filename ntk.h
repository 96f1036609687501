/* ntk.h — Neural Tangent Kernels in one header. v0.1.0. MIT licence (see the end of the file).

   The Neural Tangent Kernel pipeline with nothing beyond libc and libm (OpenMP optional):
   infinite-width NNGP/NTK kernels, finite networks and their empirical kernels, closed-form
   training dynamics, all on our own cache-blocked SIMD GEMM and dense linear algebra.
   Conventions are those of Google's neural-tangents (JAX), number for number.

   ---------------------------------------------------------------------------------------------
   DROP-IN
   ---------------------------------------------------------------------------------------------
   In exactly one C or C++ file:

       #define NTK_IMPLEMENTATION
       #include "ntk.h"

   Everywhere else just #include "ntk.h". Link with -lm (and build with -fopenmp for threads).

   ---------------------------------------------------------------------------------------------
   EXAMPLE: what an infinitely wide depth-2 ReLU network predicts after training (t = ∞)
   ---------------------------------------------------------------------------------------------
       double x[4 * 2] = {-1, 0, 0, 1, 1, 0, 0.5, 0.5}, y[4] = {-1, 0.5, 1, 0.7};
       double xt[1 * 2] = {0.2, 0.8}, K[4 * 4], Kt[1 * 4], f;
       ntk_layer net[5];
       size_t L = ntk_mlp(net, 5, 2, 0, ntk_relu(), 1.5, 0.05, 1);     // Dense-ReLU-Dense-ReLU-Dense
       ntk_status s = ntk_kernel(net, L, x, 4, NULL, 0, 2, NULL, K);    // NTK, train × train
       if (s == NTK_OK) s = ntk_kernel(net, L, xt, 1, x, 4, 2, NULL, Kt);  // test × train
       if (s == NTK_OK) s = ntk_gp_inference(K, 4, y, 1, Kt, 1, NULL, 0.0, 0, &f, NULL);
       if (s != NTK_OK) fprintf(stderr, "%s\n", ntk_status_string(s));
   Gradient flow at any time: ntk_predictor_init + ntk_predict_test. README.md has more.

   ---------------------------------------------------------------------------------------------
   CONFIGURATION (#define before the #include that has NTK_IMPLEMENTATION; defaults in brackets)
   ---------------------------------------------------------------------------------------------
   NTK_STATIC            all functions static (private copy per translation unit)  [extern]
   NTK_REAL_FLOAT        ntk_real is float (microcontrollers)                       [double]
   NTK_MALLOC(sz)        allocator; define both or neither                          [malloc]
   NTK_FREE(p)           deallocator                                                [free]
   NTK_SIMD              force a kernel set: NTK_SIMD_SCALAR, NTK_SIMD_AVX2,
                         NTK_SIMD_AVX512 or NTK_SIMD_NEON                           [auto]
                         auto = run-time CPUID dispatch on x86-64 with GCC/Clang
                         (AVX-512 > AVX2+FMA > scalar, whatever -march says),
                         NEON on aarch64, scalar elsewhere.
   NTK_NO_OPENMP         ignore -fopenmp (single-threaded library)                  [off]
   NTK_GEMM_KEEP         bytes of GEMM packing memory kept for the next call, so a [8388608]
                         loop of small products does not page-fault a fresh block
                         each time (0: none kept; x86-64/aarch64 with GCC/Clang;
                         the default is 0 when NTK_MALLOC is defined)

   ---------------------------------------------------------------------------------------------
   CONVENTIONS
   ---------------------------------------------------------------------------------------------
   Arrays are row-major; sizes are size_t; every function that can fail returns ntk_status
   (NTK_OK = 0, errors negative, ntk_status_string() names them) and never prints, exits or
   aborts. Nothing is written to an output array unless the call's arguments are valid.
   The linear algebra follows CBLAS (row-major) semantics: beta = 0 never reads C.

   Threads: with -fopenmp the GEMM uses omp_get_max_threads() threads (OMP_NUM_THREADS; the
   traced empirical NTK of spatial finite networks runs them over examples instead);
   every entry point is reentrant (no global mutable state beyond the once-computed CPU level
   and one kept GEMM packing block, swapped atomically; see NTK_GEMM_KEEP).

   ---------------------------------------------------------------------------------------------
   WHAT ntk.h DOES NOT DO (YET)
   ---------------------------------------------------------------------------------------------
   Attention; a spatial covariance as output (ntk_kernel needs a vector output: Flatten or a
   global pool); frames across a barrier inside a branch (such lists materialise each pair's
   (h·w)² covariance, see ntk_kernel); GPUs; complex numbers; column-major arguments.
   Activations without a closed form (tanh, softplus, custom) cost 5000–15000 φ and φ′
   evaluations per kernel entry and layer at pre-activation variances up to ~100, growing like
   log² of the variance (~45000 at 1e8), see NTK_QUAD_DEGREE.
*/
#ifndef NTK_H_INCLUDED
#define NTK_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define NTK_VERSION_MAJOR 0
#define NTK_VERSION_MINOR 1
#define NTK_VERSION_PATCH 0
#define NTK_VERSION_STRING "0.1.0"

#ifndef NTKDEF
#ifdef NTK_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define NTKDEF static __attribute__((unused))
#else
#define NTKDEF static
#endif
#else
#define NTKDEF extern
#endif
#endif

#define NTK_SIMD_SCALAR 0
#define NTK_SIMD_AVX2 1
#define NTK_SIMD_AVX512 2
#define NTK_SIMD_NEON 3

#ifdef NTK_REAL_FLOAT
typedef float ntk_real;
#else
typedef double ntk_real;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes: one list, codes and strings generated from it ------------------------- */
#define NTK_STATUS_LIST(X)                                                                    \
  X(NTK_OK, 0, "ok")                                                                          \
  X(NTK_ERR_INVALID_ARG, -1, "invalid argument (NULL pointer, bad size or leading dimension)") \
  X(NTK_ERR_OUT_OF_MEMORY, -2, "out of memory")                                               \
  X(NTK_ERR_OVERFLOW, -3, "size arithmetic overflows size_t")                                 \
  X(NTK_ERR_NON_FINITE, -4, "non-finite value (NaN or Inf) in an input or a result")        \
  X(NTK_ERR_NOT_POSITIVE_DEFINITE, -5,                                                        \
    "matrix is not positive definite (add diag_reg to the kernel)")                           \
  X(NTK_ERR_NO_CONVERGENCE, -6, "iteration did not converge")                                 \
  X(NTK_ERR_BAD_LAYER, -7, "invalid layer (unknown kind or bad hyper-parameter)")             \
  X(NTK_ERR_UNSUPPORTED, -8, "operation not supported for this configuration")              \
  X(NTK_ERR_CANCELLED, -9, "cancelled by the progress callback")

typedef enum ntk_status {
#define NTK__STATUS_ENUM(name, value, text) name = value,
  NTK_STATUS_LIST(NTK__STATUS_ENUM)
#undef NTK__STATUS_ENUM
  NTK__STATUS_END = -1000
} ntk_status;

NTKDEF const char *ntk_status_string(ntk_status s);
NTKDEF const char *ntk_version(void);
/* The GEMM kernel set in use: "avx512", "avx2", "neon" or "scalar". */
NTKDEF const char *ntk_simd_name(void);

/* ---- linear algebra (row-major, CBLAS semantics) ---------------------------------------- */
typedef enum ntk_trans { NTK_NO_TRANS = 0, NTK_TRANS = 1 } ntk_trans;
typedef enum ntk_uplo { NTK_LOWER = 0, NTK_UPPER = 1 } ntk_uplo;

/* C (m, n) = alpha·op(A)·op(B) + beta·C, op(A) (m, k), op(B) (k, n).
   lda ≥ k (NO_TRANS) or ≥ m (TRANS), likewise ldb, ldc ≥ n. beta = 0: C is not read.
   Invalid arguments → NTK_ERR_INVALID_ARG before anything is written. */
NTKDEF ntk_status ntk_sgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, const float *B, size_t ldb, float beta,
                            float *C, size_t ldc);
NTKDEF ntk_status ntk_dgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                            double alpha, const double *A, size_t lda, const double *B,
                            size_t ldb, double beta, double *C, size_t ldc);
/* One triangle (uplo) of C (n, n) = alpha·op(A)·op(A)ᵀ + beta·C; op(A) (n, k) with t = NO_TRANS,
   op(A) = Aᵀ, A (k, n) with t = TRANS. The other strict triangle is not touched. */
NTKDEF ntk_status ntk_ssyrk(ntk_uplo uplo, ntk_trans t, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, float beta, float *C, size_t ldc);
NTKDEF ntk_status ntk_dsyrk(ntk_uplo uplo, ntk_trans t, size_t n, size_t k, double alpha,
                            const double *A, size_t lda, double beta, double *C, size_t ldc);
/* The naive triple loops, always compiled: the specification the fast paths are tested against. */
NTKDEF ntk_status ntk_sgemm_ref(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                                float alpha, const float *A, size_t lda, const float *B,
                                size_t ldb, float beta, float *C, size_t ldc);
NTKDEF ntk_status ntk_dgemm_ref(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                                double alpha, const double *A, size_t lda, const double *B,
                                size_t ldb, double beta, double *C, size_t ldc);


/* ---- dense linear algebra (row-major, lower triangle) ----------------------------------- */
/* A = L·Lᵀ (n, n): L overwrites the lower triangle, the strict upper triangle is not read or
   written. Not positive definite → NTK_ERR_NOT_POSITIVE_DEFINITE, non-finite entries →
   NTK_ERR_NON_FINITE; the _ex variants report the failing column (0-based) in *info (else n).
   On failure the lower triangle is unspecified, never a reported success with NaNs.
   A pivot at or below n·ε times its column's diagonal counts as not positive definite.
   Scale: a triangle whose largest entry is outside [2^-960, 2^960] (float: [2^-120, 2^120]) is
   scaled by an even power of two before the factorisation and L back after it (both exact), so
   the factor of s·A is √s·L to rounding for every s that keeps A finite, subnormal A included. */
NTKDEF ntk_status ntk_dpotrf(size_t n, double *A, size_t lda);
NTKDEF ntk_status ntk_spotrf(size_t n, float *A, size_t lda);
NTKDEF ntk_status ntk_dpotrf_ex(size_t n, double *A, size_t lda, size_t *info);
NTKDEF ntk_status ntk_spotrf_ex(size_t n, float *A, size_t lda, size_t *info);
/* The same with the refusal threshold given: a pivot at or below tol times its column's
   diagonal (0 ≤ tol < 1; tol = 0: only pivots ≤ 0) counts as not positive definite, instead of
   n·ε — for a factor that iterative refinement will check (ntk_sposv_refine): at n = 60 000 in
   float, n·ε = 0.7 % would refuse a kernel whose smallest pivots are its diag_reg (1e-4). */
NTKDEF ntk_status ntk_dpotrf_tol(size_t n, double *A, size_t lda, double tol, size_t *info);
NTKDEF ntk_status ntk_spotrf_tol(size_t n, float *A, size_t lda, double tol, size_t *info);
/* Solves A·X = B with L from ntk_?potrf; X overwrites B (n, nrhs). */
NTKDEF ntk_status ntk_dpotrs(size_t n, size_t nrhs, const double *L, size_t lda, double *B, size_t ldb);
NTKDEF ntk_status ntk_spotrs(size_t n, size_t nrhs, const float *L, size_t lda, float *B, size_t ldb);
/* Triangular solves with the lower triangle of L (n, n), B (n, nrhs): trans = NO_TRANS solves
   L·X = B, TRANS solves Lᵀ·X = B; X overwrites B. */
NTKDEF ntk_status ntk_dtrsm_lower(ntk_trans trans, size_t n, size_t nrhs, const double *L, size_t lda, double *B, size_t ldb);
NTKDEF ntk_status ntk_strsm_lower(ntk_trans trans, size_t n, size_t nrhs, const float *L, size_t lda, float *B, size_t ldb);
/* Symmetric eigendecomposition from the lower triangle of A (n, n): eigenvalues ascending in w,
   orthonormal eigenvectors in the columns of A (A[i·lda + j] = component i of vector j).
   The _ex variant with vectors = 0 computes eigenvalues only (A is then destroyed).
   Scale: a triangle whose largest entry is outside [2^-450, 2^450] is scaled by a power of two
   into that range first and the eigenvalues back at the end (as LAPACK's dsyev does), so for
   every finite A, subnormal entries included, ‖A·V − V·Λ‖ and ‖VᵀV − I‖ are a small multiple
   of n·ε·‖A‖ and n·ε (tested 1e-300 … 1e300). An eigenvalue beyond the largest finite value
   (|λ| ≤ n·max|a_ij| can exceed it) → NTK_ERR_NON_FINITE. ssyev works in double and rounds. */
NTKDEF ntk_status ntk_dsyev(size_t n, double *A, size_t lda, double *w);
NTKDEF ntk_status ntk_ssyev(size_t n, float *A, size_t lda, float *w);
NTKDEF ntk_status ntk_dsyev_ex(size_t n, double *A, size_t lda, double *w, int vectors);

/* ---- layers: the one description of a network ------------------------------------------- */
/* A network is an array of layers applied in order, like stax.serial. Dense layers carry the
   weight and bias scales (σ_w, σ_b; σ_b = 0 means no bias parameter) and a width, which only
   finite networks use (and the 'standard' parameterisation's kernel, which depends on the
   finite input width of each layer). Every activation must directly follow a Dense layer. */
typedef enum ntk_layer_kind {
  NTK_LAYER_DENSE = 1,
  NTK_LAYER_IDENTITY,
  NTK_LAYER_ABRELU,   /* a·min(x,0) + b·max(x,0): ReLU (0,1), leaky ReLU (α,1), abs (−1,1) */
  NTK_LAYER_ERF,      /* a·erf(b·x) + c */
  NTK_LAYER_GELU,     /* x·Φ(x) */
  NTK_LAYER_SIN,      /* a·sin(b·x + c); cos = sin with c + π/2 */
  NTK_LAYER_SIGN,     /* sign(x) (its NTK contribution is 0) */
  NTK_LAYER_RBF,      /* exp(−a·x²)·…: neural-tangents' Rbf(γ = a) */
  NTK_LAYER_EXP,      /* a·exp(b·x) */
  NTK_LAYER_TANH,     /* adaptive quadrature, see NTK_QUAD_DEGREE */
  NTK_LAYER_SOFTPLUS, /* log(1 + eˣ), adaptive quadrature */
  NTK_LAYER_CUSTOM,   /* user φ and φ′, adaptive quadrature */
  /* spatial and branched networks (neural-tangents' stax semantics); see ntk_layers_describe */
  NTK_LAYER_INPUT,           /* first layer only: one input row is an h×w×c image (NHWC,
                                row-major; a 1-D sequence of length w is h = 1); without it a
                                row is the vector (1, 1, dim) */
  NTK_LAYER_CONV,            /* convolution: width = output channels, filter, stride, padding,
                                w_std, b_std, param; weights shared over positions */
  NTK_LAYER_AVG_POOL,        /* window mean (stride 0 = 1, as stax); flags: normalize edges */
  NTK_LAYER_SUM_POOL,        /* window sum */
  NTK_LAYER_GLOBAL_AVG_POOL, /* mean over all positions: (h, w, c) → (1, 1, c) */
  NTK_LAYER_GLOBAL_SUM_POOL, /* sum over all positions */
  NTK_LAYER_FLATTEN,         /* (h, w, c) → (1, 1, h·w·c); its output is not Gaussian */
  NTK_LAYER_LAYER_NORM,      /* normalise over the axes in flags (NTK_AXIS_*; 0 = channels), eps */
  NTK_LAYER_FANOUT,          /* n branches follow, each ended by NTK_LAYER_BRANCH but the last, */
  NTK_LAYER_BRANCH,          /* … then one FANIN joins them (an empty branch is the identity) */
  NTK_LAYER_FANIN_SUM,       /* sum of the branches (all Gaussian, equal shapes) */
  NTK_LAYER_FANIN_CONCAT,    /* concatenation along channels (equal h, w); not Gaussian */
  NTK__LAYER_KIND_END
} ntk_layer_kind;

/* Convolution and pooling padding, as stax: VALID (no padding), SAME (zero padding to
   ceil(size / stride) outputs, the odd one at the end), CIRCULAR (periodic). */
typedef enum ntk_padding { NTK_PAD_VALID = 0, NTK_PAD_SAME = 1, NTK_PAD_CIRCULAR = 2 } ntk_padding;
/* Bias of Dense and Conv layers: neural-tangents' b_std = None (no bias parameter) and
   b_std = 0. (a bias parameter that starts at 0 and is trained: in 'standard' it adds 1 to the
   layer's NTK) are NTK_BIAS_NONE and NTK_BIAS_ALWAYS with b_std = 0. The default, AUTO, is
   this library's historical rule: a bias parameter exactly when b_std > 0. NONE ignores
   b_std (no bias at all); ALWAYS with b_std > 0 is AUTO. Kernel and finite nets alike. */
typedef enum ntk_bias { NTK_BIAS_AUTO = 0, NTK_BIAS_NONE = 1, NTK_BIAS_ALWAYS = 2 } ntk_bias;
/* flags: LayerNorm's axes (any set including NTK_AXIS_C; 0 = NTK_AXIS_C), pools' edges */
#define NTK_AXIS_H 1
#define NTK_AXIS_W 2
#define NTK_AXIS_C 4
#define NTK_POOL_NORMALIZE_EDGES 8 /* AvgPool: divide by the in-image window size at SAME edges */
/* ACCURACY OF THE CLOSED FORMS (identity, the ReLU family, erf, GELU, sin, sign, rbf, exp).
   Each activation maps (q11, q22, q12) — the pre-activation covariance — to T = E[φ(u)φ(v)]
   and Ṫ = E[φ′(u)φ′(v)]. For q11, q22 in [1e-300, 1e300] (float: [1e-36, 1e36]; erf: b²q11,
   b²q22 too), every |q12| ≤ √q11·√q22 and activation parameters of order 1 (tested: 0.2 … 2),
   each of T, Ṫ (f below) comes out within
       |f̂ − f(q)| ≤ 2.3e-308 + 1e-14·M + Σ_{q ∈ q11, q22, q12} max_± |f(q·(1 ± 8ε)) − f(q)|
   with M = |f(q)| for identity, rbf and exp, else M = √(f(q11,q11,q11)·f(q22,q22,q22)) (the
   Cauchy–Schwarz bound on |f|: kernels that cancel to ~0, ReLU at ρ → −1 say, are accurate to
   1e-14 of that scale; float: 1.2e-38 + 4e-6·M, ε = 2^-23), one input perturbed at a time — or
   all three together on a diagonal q11 = q22 = q12, which is computed with ρ = 1 exactly — whenever f is
   a normal number: nothing over- or underflows before the result does (ρ = q12/(√q11·√q22),
   no cancelling differences). The sum is the function's own conditioning (8 ulps of each
   input), not the method's: it matters where a kernel is steep in its inputs — the ReLU
   family's Ṫ and sign's T as |ρ| → 1 (ρ one ulp below 1 moves θ by √(2ε)), kernels that vanish
   as ρ → −1, erf and GELU near ρ = ±1 at q ≫ 1, and exp, rbf, sin whose exponent is ∝ q (an
   ulp of q is ε·q in the exponent). Elsewhere the error is 1e-14·M. tests/test_closed.c
   checks this statement on all four code paths (scalar and AVX2, with and without the
   per-point roots) against long double and 720-digit mpmath references. A result beyond
   the range comes out ±Inf (below it: 0 or subnormal), and ntk_kernel reports the former. */

typedef enum ntk_param { NTK_PARAM_NTK = 0, NTK_PARAM_STANDARD = 1 } ntk_param;

typedef struct ntk_layer {
  ntk_layer_kind kind;
  ntk_param param;       /* Dense: parameterisation */
  size_t width;          /* Dense: output width (finite networks) */
  double w_std, b_std;   /* Dense: σ_w > 0, σ_b ≥ 0 (0 = no bias) */
  double a, b, c;        /* activation parameters, see ntk_layer_kind */
  int quad_degree;       /* quadrature activations: minimum nodes per 1-D rule (0 = NTK_QUAD_DEGREE) */
  double (*f)(double x, void *user);  /* NTK_LAYER_CUSTOM: φ */
  double (*df)(double x, void *user); /* NTK_LAYER_CUSTOM: φ′ */
  void *user;
  /* spatial layers (zero = the default everywhere) */
  size_t shape[3];       /* INPUT: (h, w, c); CONV: filter (fh, fw); pools: window (ph, pw).
                            A second extent 0 means square (fh × fh) on 2-D input and a length
                            fh along w on 1-D input (h = 1) */
  size_t stride[2];      /* CONV, pools: (sh, sw); 0 = 1; second 0 = like the filter's */
  ntk_padding padding;   /* CONV, pools */
  ntk_bias bias;         /* DENSE, CONV */
  size_t n;              /* FANOUT: number of branches (≥ 1) */
  int flags;             /* LAYER_NORM: NTK_AXIS_*; AVG_POOL: NTK_POOL_NORMALIZE_EDGES */
  double eps;            /* LAYER_NORM: added to the variance (0 = 1e-12, as stax) */
} ntk_layer;

/* Activations without a closed form (tanh, softplus, custom): T = E[φ(u)φ(v)] and
   Ṫ = E[φ′(u)φ′(v)], (u, v) ~ N(0, [[q11, q12], [q12, q22]]), as an outer expectation over u of
   the conditional one over v | u, each a trapezoid rule in a variable mapped so that the
   activation's structure at |x| ≲ 1 is resolved however wide the Gaussian (x = sinh t when the
   standard deviation exceeds 1), its step halved until an error estimate from successive sums
   meets the tolerance; the diagonal (q11 = q22 = q12) and ρ = ±1 are 1-D.
   Accuracy, tanh and softplus: |T − T_exact| ≤ 1e-10·E|φ(u)φ(v)| (and Ṫ likewise with φ′), so
   1e-10 relative wherever T is not near 0 by cancellation (always for softplus and for every
   variance and diagonal), for every q11, q22 in 1e-8 … 1e8 and every correlation in −1 … 1
   (tested against 20-digit references; the estimate aims at 1e-14, measured within 5e-12 of
   the references, about their own accuracy; the
   rule works beyond that range, at a cost growing like the log of the variance). Float builds
   (NTK_REAL_FLOAT) run the same rule in double on the float variances: the result is then
   within 1e-10 plus one float rounding (6e-8 relative).
   Custom φ: the same tolerance when φ and φ′ are analytic near the real axis, with their
   structure (where they bend) within |x| ≲ a few and on scales ≳ 0.1 there, and vary slowly
   (relative to |x|) far out — e.g. erf, sigmoids, GELU, softplus-like, polynomials, exp. A φ or
   φ′ with a kink or jump (use the closed forms for the ReLU family and sign), or one that
   oscillates across a wide Gaussian (sin at variances ≫ 1), or E[φ²] = ∞, makes a rule fail to
   converge within 4096 nodes: the entry is then NaN (NTK_ERR_NON_FINITE from the kernel), never
   a silently wrong number. Features far narrower than the rule's first step (< 0.1 at |x| ≲ 1)
   may be missed: raise quad_degree for such a φ.
   quad_degree (0 = NTK_QUAD_DEGREE) is the minimum number of nodes of every 1-D rule before it
   may stop; larger values only add nodes (cost ≥ quad_degree² per entry). */
#define NTK_QUAD_DEGREE 32

NTKDEF ntk_layer ntk_dense(size_t width, double w_std, double b_std);
NTKDEF ntk_layer ntk_dense_standard(size_t width, double w_std, double b_std);
NTKDEF ntk_layer ntk_identity(void);
NTKDEF ntk_layer ntk_relu(void);
NTKDEF ntk_layer ntk_leaky_relu(double alpha);
NTKDEF ntk_layer ntk_abrelu(double a, double b);
NTKDEF ntk_layer ntk_abs(void);
NTKDEF ntk_layer ntk_erf(void);                          /* erf(x) */
NTKDEF ntk_layer ntk_erf_scaled(double a, double b, double c); /* a·erf(b·x) + c */
NTKDEF ntk_layer ntk_gelu(void);
NTKDEF ntk_layer ntk_sin(void);
NTKDEF ntk_layer ntk_sin_scaled(double a, double b, double c); /* a·sin(b·x + c) */
NTKDEF ntk_layer ntk_cos(void);
NTKDEF ntk_layer ntk_sign(void);
NTKDEF ntk_layer ntk_rbf(double gamma);
NTKDEF ntk_layer ntk_exp(double a, double b);
NTKDEF ntk_layer ntk_tanh(void);
NTKDEF ntk_layer ntk_softplus(void);
NTKDEF ntk_layer ntk_custom(double (*f)(double, void *), double (*df)(double, void *), void *user);
/* Spatial and branched layers. Filters, windows and strides are (h, w) extents; fw = 0 (pw = 0,
   sw = 0) means "as the first" on 2-D input and "the first, along w" on 1-D input. */
NTKDEF ntk_layer ntk_input(size_t h, size_t w, size_t c);
NTKDEF ntk_layer ntk_conv(size_t channels, size_t fh, size_t fw, size_t sh, size_t sw,
                          ntk_padding padding, double w_std, double b_std);
NTKDEF ntk_layer ntk_conv_standard(size_t channels, size_t fh, size_t fw, size_t sh, size_t sw,
                                   ntk_padding padding, double w_std, double b_std);
NTKDEF ntk_layer ntk_avg_pool(size_t ph, size_t pw, size_t sh, size_t sw, ntk_padding padding,
                              int normalize_edges);
NTKDEF ntk_layer ntk_sum_pool(size_t ph, size_t pw, size_t sh, size_t sw, ntk_padding padding);
NTKDEF ntk_layer ntk_global_avg_pool(void);
NTKDEF ntk_layer ntk_global_sum_pool(void);
NTKDEF ntk_layer ntk_flatten(void);
NTKDEF ntk_layer ntk_layer_norm(int axes, double eps); /* axes: NTK_AXIS_* (0 = channels) */
NTKDEF ntk_layer ntk_fanout(size_t branches);
NTKDEF ntk_layer ntk_branch(void);
NTKDEF ntk_layer ntk_fanin_sum(void);
NTKDEF ntk_layer ntk_fanin_concat(void);
/* ---- the text form of an architecture (../shared/CLI.md, "--net"), parsed into layers ----
   ntk_parse_net reads a spec such as "21*(conv(1,3x3,same) relu) gap dense(1)" into out[0..]:
     seq    := term { ' ' term }                 (any run of spaces, tabs, newlines)
     term   := [ INT '*' ] atom                  repetition: the atom's layers INT times
     atom   := layer | '(' seq ')' | fan
     fan    := ('sum' | 'concat') '(' seq { '|' seq } ')'  → FANOUT(n) seq BRANCH seq … FANIN_SUM
                                                    / FANIN_CONCAT (an empty seq: no layers)
             | 'res' '(' seq ')'                 = sum(seq|)
     layer  := NAME [ '(' arg { ',' arg } ')' ] | ACT   (positional args first, then KEY=value)
   Tokens (a value not given takes the defaults' field, or is left 0, the field's default):
     dense(N)      N = defaults width, or defaults outputs when it is the last layer of the
                   whole spec; w= (> 0), b= (≥ 0, or none: NTK_BIAS_NONE; an explicit 0 is
                   NTK_BIAS_ALWAYS, a trained bias starting at 0; other values NTK_BIAS_AUTO),
                   param=ntk|standard
     conv(C,F)     numeric positionals: two are (C, F), one is F (C = defaults width);
                   F = DIMS: "3x5" (3, 5) or "3" (3, 0: square on 2-D, a length on 1-D);
                   padding valid|same|circular positional or pad=; stride= or s= (DIMS);
                   w= b= param= as dense
     avgpool(P), sumpool(P)  window P (DIMS); stride= / s= required; padding word or pad=;
                   the word edges (avgpool only): NTK_POOL_NORMALIZE_EDGES
     gap gsp flatten id      global avg / sum pool, flatten, identity
     layernorm     axis= letters from h, w, c including c (c hc wc hwc), or all; eps= (> 0)
     ACT           an activation as ntk_parse_activation reads it (relu, leaky_relu:0.1, …),
                   quad_degree = defaults'; the word act is the defaults' activation
     attn(…)       global self-attention: NTK_ERR_UNSUPPORTED (not yet)
   Numbers are decimal ([+-]digits[.digits][e[+-]digits]; no hex, inf or nan); sizes and
   counts are positive integers that fit size_t. Nesting of parentheses is limited to
   NTK_PARSE_MAX_DEPTH levels (the parser recurses once per level and loops over terms, so
   its stack use is bounded whatever the length of the spec).
   The parser only fills ntk_layer fields; shapes and what may follow what are checked by
   ntk_layers_describe / ntk_layers_check (and the kernel calls).
   Result: NTK_OK with *n_layers = the number of layers; cap = 0 is a sizing call (out is
   not written and may be NULL). 0 < cap < the number needed: NTK_ERR_INVALID_ARG, the first
   cap layers written, *n_layers = the number needed. A syntax or value error:
   NTK_ERR_BAD_LAYER (attn: NTK_ERR_UNSUPPORTED), *n_layers = 0, *err_pos = byte offset in
   spec of the offending piece (the argument, or the token), and err (err_cap bytes, always
   NUL-terminated when err_cap > 0; may be NULL) = "at 'TOKEN': why", e.g.
   "at 'conv(16,3x3,smae)': unknown padding 'smae'". The spec is read up to its NUL only. */
#define NTK_PARSE_MAX_DEPTH 64
typedef struct ntk_parse_defaults {
  size_t width, outputs; /* dense N / conv C; the last layer's dense N */
  double w_std, b_std;
  ntk_param param;
  ntk_layer act;         /* the token act */
  int quad_degree;       /* given to every activation token */
} ntk_parse_defaults;
/* width 0, outputs 1, w_std 1, b_std 0, NTK_PARAM_NTK, relu, quad_degree 0 (what NULL means) */
NTKDEF ntk_parse_defaults ntk_parse_defaults_init(void);
NTKDEF ntk_status ntk_parse_net(const char *spec, const ntk_parse_defaults *defaults,
                                ntk_layer *out, size_t cap, size_t *n_layers, size_t *err_pos,
                                char *err, size_t err_cap);
/* One activation from the len bytes at name: identity relu leaky_relu:A abrelu:A,B abs erf
   erf:A,B,C gelu sin sin:A,B,C cos sign rbf:G (G > 0) exp:A,B tanh softplus (parameters
   decimal, finite). NTK_OK and *out, or NTK_ERR_BAD_LAYER with *err_pos (offset in name; may
   be NULL) and a message in err such as "expected leaky_relu:A, got 0 parameters" or
   "unknown activation 'foo' (identity, relu, …)". out->quad_degree is 0. */
NTKDEF ntk_status ntk_parse_activation(const char *name, size_t len, ntk_layer *out,
                                       size_t *err_pos, char *err, size_t err_cap);
/* Fills out[0..] with depth × (Dense(width) + act) then Dense(outputs); returns the number of
   layers (2·depth + 1), or 0 if cap is too small. */
NTKDEF size_t ntk_mlp(ntk_layer *out, size_t cap, size_t depth, size_t width, ntk_layer act,
                      double w_std, double b_std, size_t outputs);
/* THE FRONT END. One pass over the list infers, per layer, its input and output shapes
   (h, w, c), whether its output is Gaussian, its fan-in, whether it has a bias parameter and
   where its parameters are, with neural-tangents' (stax's) rules:
   - the input is the INPUT layer's (h, w, c), which must be layer 0 and have h·w·c = dim;
     without INPUT a row is the vector (1, 1, dim). The input is not Gaussian. An h = 1 shape
     is 1-D: filters, windows and strides given by their first extent run along w.
   - Dense acts per position on the channels (fan-in C_in) and Conv on windows (fan-in
     C_in·fh·fw, zero-padding taps included); both make their output Gaussian. Dense W is
     (width, C_in), Conv W is (C_out, fh, fw, C_in), row-major; then b (width) when the layer
     has a bias parameter (NTK_BIAS_AUTO: b_std > 0; NONE: never, b_std is then ignored;
     ALWAYS: always, also at b_std = 0). Parameters: the parameterised layers in list order,
     branches left to right, W then b. A Dense/Conv of width 0 ("width does not matter", the
     analytic kernel's 'ntk' case) has n_params 0 and out c 0; channel count 0 means unknown
     and compares equal to any count.
   - an activation needs a Gaussian input and its output is not Gaussian. IDENTITY, pools,
     GlobalAvg/SumPool and LayerNorm keep the flag (LayerNorm needs a Gaussian input, and its
     axes must include channels); Flatten ((h, w, c) → (1, 1, h·w·c)) and FANIN_CONCAT clear it.
   - output sizes: VALID floor((n − f)/s) + 1 (f ≤ n required); SAME and CIRCULAR ceil(n/s),
     padding total max((out − 1)·s + f − n, 0), low = total/2, the odd one at the end (XLA's
     padtype_to_pads; CIRCULAR wraps with the same amounts). Strides 0 = 1.
   - FANOUT(n ≥ 1) b1 BRANCH b2 … BRANCH bn FANIN: exactly n branches (an empty one is the
     identity); FANIN_SUM needs Gaussian branches of equal shapes, FANIN_CONCAT equal (h, w)
     and every branch's channel count (its weights; out c = Σ c).
   Errors: NTK_ERR_BAD_LAYER for a description the rules refuse, NTK_ERR_OVERFLOW for a size
   that does not fit a size_t, NTK_ERR_INVALID_ARG for layers NULL or n_layers 0, and
   NTK_ERR_OUT_OF_MEMORY. With an error *bad_layer is the index of the offending layer (for an
   unclosed FANOUT: that FANOUT; for overflow: the layer whose size overflowed) and *reason a
   static English sentence without numbers, e.g. "an activation needs a Gaussian input (it
   follows flatten)"; info[i] is filled for every layer the pass completed (at least those
   before *bad_layer), so a caller can print the shapes the sentence is about. On success *bad_layer = n_layers and *reason = "".
   info may be NULL, else has n_layers entries; bad_layer and reason may be NULL.
   dim 0: taken from the INPUT layer; without INPUT the input's channel count is unknown and
   the rules that need it (a 'standard' layer's fan-in, concat weights) are not checked. */
typedef struct ntk_layer_info {
  size_t in[3], out[3]; /* (h, w, c) of the layer's input and output; BRANCH: in = the branch
                           it ends, out = the FANOUT's input (the next branch's start) */
  int gaussian;         /* the output is Gaussian (may be followed by an activation) */
  int has_bias;         /* Dense/Conv with a bias parameter */
  size_t fan_in;        /* Dense: C_in; Conv: C_in·fh·fw; else 0 */
  size_t n_params;      /* W and b of this layer (0 for width 0 or unknown C_in) */
  size_t param_offset;  /* index of its W in the parameter vector (the running count) */
} ntk_layer_info;
NTKDEF ntk_status ntk_layers_describe(const ntk_layer *layers, size_t n_layers, size_t dim,
                                      ntk_layer_info *info, size_t *bad_layer,
                                      const char **reason);
/* Checks a layer list without knowing dim: ntk_layers_describe(layers, n_layers, 0, NULL,
   NULL, NULL) — the whole front end for lists that start with INPUT; without INPUT the input
   is a vector (a 1×1 image) of unknown length. Beyond the front end's rules: NTK_ERR_BAD_LAYER
   for an unknown kind, σ_w ≤ 0 or non-finite, σ_b < 0 or non-finite, a bad param or bias
   mode, a missing φ/φ′, a bad quadrature degree. A list this accepts may still be one a
   driver cannot compute (a spatial output in ntk_kernel_ex; attention: NTK_ERR_UNSUPPORTED). */
NTKDEF ntk_status ntk_layers_check(const ntk_layer *layers, size_t n_layers);

/* ---- infinite-width kernels ------------------------------------------------------------- */
/* Progress: called with the fraction done in [0, 1]; return nonzero to cancel. */
typedef int (*ntk_progress_fn)(const char *stage, double done, void *user);
typedef struct ntk_kernel_desc {
  ntk_progress_fn progress; /* NULL: none */
  void *progress_user;
  size_t tile;              /* MLP: rows per block of ntk_kernel_tiles' loop (0 = 256) */
  int threads;              /* 0 = omp_get_max_threads() */
} ntk_kernel_desc;

/* NNGP and NTK (n1, n2) of the network between the rows of x1 (n1, dim) and x2 (n2, dim),
   per output unit (the kernel over k outputs is K ⊗ I_k). Either output may be NULL (then it
   is not computed). x2 == NULL means x2 = x1: one triangle is computed and mirrored, and the
   diagonal uses ρ = 1 exactly. Memory beyond the outputs: O((n1 + n2)·n_layers) plus, per
   thread, 3·(256 + desc->tile) values: MLPs are computed as ntk_kernel_tiles with blocks of
   desc->tile rows × n2 columns, straight into the outputs.
   A kernel that is not representable — an entry of the result, or a variance q(x, x) after
   any layer, that overflows to ±Inf or is NaN (a custom φ returning NaN, say) — returns
   NTK_ERR_NON_FINITE. The outputs are then complete as computed: every requested entry is
   written (both triangles), the unrepresentable ones as ±Inf or NaN; where only a variance on
   the way overflowed, finite entries can be meaningless. Use them to see what overflowed,
   never as a kernel.
   Spatial and branched networks (INPUT, CONV, pools, global pools, FLATTEN, LAYER_NORM,
   FANOUT … FANIN; the front end's rules, ntk_layers_describe): neural-tangents' (stax)
   infinite-width NNGP and NTK, per output unit, computed pair by pair on the covariance between
   the positions of x and x′, offset by offset ("frames", [skernel]): between barriers (pools,
   convs that stride or change the size, readouts) each spatial offset's entries go through
   every layer alone in a few KB; only the offsets the readout needs are evolved (the spatial
   diagonal alone for a Flatten readout without pools: O(h·w·L) per entry instead of
   O((h·w)²·L)), and a barrier after frames takes each frame straight into its (smaller)
   output. Each point's self pair (x, x) runs first; its diagonals are the variances every later
   pair reads, and with x2 = NULL it is the diagonal entry (ρ = 1 exactly), each unordered pair
   computed once and mirrored. The network's output must be one position (else
   NTK_ERR_UNSUPPORTED). Memory beyond the outputs: (n1 + n2)·Σ_act 2·(1 + k)·h·w values (the
   variance and its k ≤ 5 dual values per position at each activation or LayerNorm input, each
   row held twice; once on the diagonal path), plus per thread one pair's working set: a few
   frames of the largest image ((8 + 4·FANOUT depth)·h·w values) and 4·(h′·w′)² values for the
   largest barrier output h′ × w′ (a barrier on the input or right after another: its input).
   Threads run over tiles of 4 × 8 pairs (single pairs when there are fewer than 4 tiles per
   thread); with fewer pairs than threads, every thread works on the frames of one pair (each
   with its own frames: the same per-thread memory; a segment that ends in a barrier — a pool,
   a strided or size-changing conv, whose frames add into the same entries — runs its frames in
   batches, each frame's final values kept (~2 MiB a batch, at least 2 frames per thread),
   then added in frame order with the threads splitting the output's rows); any thread count
   gives the same bits.
   A list with a barrier inside a branch (a strided conv in a residual block, say)
   takes the slower materialised path: (4 + 4·FANOUT depth)·(h·w)² values per thread. */
NTKDEF ntk_status ntk_kernel(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                             size_t n1, const ntk_real *x2, size_t n2, size_t dim, ntk_real *nngp,
                             ntk_real *ntk);
NTKDEF ntk_status ntk_kernel_ex(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                ntk_real *nngp, ntk_real *ntk, const ntk_kernel_desc *desc);

/* KERNEL TILES: the same kernel, block by block, for kernels that do not fit in memory (or are
   spread over machines). The (n1, n2) kernel (x2 = NULL: x2 = x1, n2 = n1) is cut into blocks
   of rows × cols entries from (0, 0) (the last row and column of blocks may be smaller: no
   divisibility rule); every selected block is computed and
   - handed to fn (NULL: none) with its origin (i0, j0), shape, the NNGP and NTK block (NULL
     when not computed) in ntk_real, row-major with leading dimension ld (ld ≥ cols; valid
     until fn returns). fn runs on one thread at a time (any of them), blocks in no particular
     order; a nonzero return cancels (NTK_ERR_CANCELLED once the blocks in flight finish);
   - and/or written into the strided destinations nngp_out / ntk_out (entry (i, j) at
     out[i·ld + j], double, or float with out_float = 1: the recursion runs in ntk_real and
     only the stored value is rounded).
   Which kernels: a destination given, or nngp / ntk nonzero for fn (at least one).
   x2 = x1: only the blocks with an entry on or below the diagonal (j0 < i0 + its rows) are
   computed. fn gets complete blocks (a block that crosses the diagonal has its upper entries
   from the transposed positions); the destinations get the entries j ≤ i, and with mirror = 1
   also their mirror (j, i): the full symmetric matrix.
   select (NULL: every block) picks blocks, e.g. those of one MPI rank's 2-D block-cyclic share;
   it must be a pure function of its arguments (it is called from any thread, twice per block).
   Every entry equals ntk_kernel's bit for bit, whatever the blocks (ntk_kernel is this loop
   with blocks of desc->tile × 2048 into its outputs). Threads run over blocks (the Gram block
   by our GEMM, then the recursion row by row); progress (stage "kernel", the fraction of the
   selected blocks' entries done, from thread 0) may cancel. Memory beyond the destinations:
   the per-point state of ntk_kernel, O((n1 + n2)·n_layers), and per thread two blocks of
   ntk_real (none for a block written in place into an ntk_real destination that does not cross
   the diagonal) plus 3·(256 + rows) values. Spatial and branched lists: each block is one call
   of the spatial driver on the block's rows and columns (a block that crosses the diagonal: on
   the rows it spans, u = max(i1, j1) − min(i0, j0), 2·u² more values), blocks one after the
   other, threads inside the driver. Errors as ntk_kernel; NTK_ERR_INVALID_ARG also for desc
   NULL, nothing asked for, ld < n2 or out_float not 0/1. NTK_ERR_NON_FINITE: every selected
   block delivered, as computed. */
typedef int (*ntk_tile_fn)(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp,
                           const ntk_real *ntk, size_t ld, void *user);
typedef int (*ntk_tile_select_fn)(size_t i0, size_t j0, size_t rows, size_t cols, void *user);
typedef struct ntk_tile_desc {
  size_t rows, cols;          /* block shape (0: 256, 1024; larger than the kernel: clipped) */
  int nngp, ntk;              /* for fn: which kernels (nonzero: computed) */
  ntk_tile_fn fn;             /* NULL: destinations only */
  void *user;
  ntk_tile_select_fn select;  /* NULL: every block (x2 = x1: on or below the diagonal) */
  void *select_user;
  void *nngp_out, *ntk_out;   /* NULL, or (n1, ld) destinations */
  size_t ld_nngp, ld_ntk;     /* ≥ n2 */
  int out_float;              /* 0: destinations are double, 1: float */
  int mirror;                 /* x2 = x1: also write the upper triangle of the destinations */
  ntk_progress_fn progress;   /* NULL: none */
  void *progress_user;
  int threads;                /* 0 = omp_get_max_threads() */
} ntk_tile_desc;
NTKDEF ntk_status ntk_kernel_tiles(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                   size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                   const ntk_tile_desc *desc);
/* Y (n1, nrhs) = K·X for X (n2, nrhs) (x2 = NULL: the symmetric K(x1, x1), each entry computed
   once and used for both of its positions), K the NNGP (which = 0) or NTK (which = 1), without
   the kernel in memory: through ntk_kernel_tiles (blocks: rows, cols, threads, progress of
   desc, the rest ignored; NULL: defaults; x2 = NULL uses square blocks of max(rows, cols)).
   Memory: the tiles' plus nothing of size n1·n2. Sums in double, in block order. */
NTKDEF ntk_status ntk_kernel_apply(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                   size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                   int which, size_t nrhs, const double *X, double *Y,
                                   const ntk_tile_desc *desc);

/* ---- mixed precision and iterative solves (double vectors, any operator) ---------------- */
/* An operator Y (n, nrhs) = A·X (n, nrhs), row-major with leading dimension nrhs; a status
   other than NTK_OK stops the solver with it. A column j of A (n) for preconditioners. */
typedef ntk_status (*ntk_matvec_fn)(size_t nrhs, const double *X, double *Y, void *user);
typedef ntk_status (*ntk_column_fn)(size_t j, double *col, void *user);
typedef struct ntk_refine_info {
  size_t iterations;  /* float solves after the first */
  double residual;    /* the last max over columns of ‖b − A·x‖₂/‖b‖₂ */
  size_t factor_info; /* ntk_dsposv: the float factorisation's failing column (else n) */
} ntk_refine_info;
/* Iterative refinement (LAPACK dsposv's scheme) with a float Cholesky factor L (lower, from
   ntk_spotrf of A rounded to float, or of any float copy of A) and the double operator A:
   x₀ = (L·Lᵀ)⁻¹b, then r = b − A·x and x += (L·Lᵀ)⁻¹r, all in double with the float L (two
   streaming passes over it per step, one thread), until the largest
   correction is ≤ √n·ε·‖x‖∞, or stops halving while ≤ 1e-8·‖x‖∞ (the rounding floor of the
   double solution, ~κ·ε; each step gains −log10(κ·ε_f) digits), or the relative residual
   ‖r‖₂/‖b‖₂ ≤ tol (0: not used), at most max_iter steps (0 = 30). B (n, nrhs, ldb), X (n, nrhs, ldx) out. Needs κ(A) ≲ 1/(2ε_f) ≈ 4e6: where the
   corrections stop halving → NTK_ERR_NO_CONVERGENCE (X holds the last iterate; use the double
   factorisation). With A a float copy (the only copy of a kernel too large for double),
   the result is the double solution of that rounded A. */
NTKDEF ntk_status ntk_sposv_refine(size_t n, size_t nrhs, const float *L, size_t ldl,
                                   ntk_matvec_fn apply, void *user, const double *B, size_t ldb,
                                   double *X, size_t ldx, double tol, size_t max_iter,
                                   ntk_refine_info *info);
/* The whole scheme on a double A (n, n; lower triangle read): A rounded into LF (n, n float,
   its lower triangle overwritten by the float factor; the factorisation's errors as
   ntk_spotrf, an entry beyond FLT_MAX → NTK_ERR_NON_FINITE), then ntk_sposv_refine with A. */
NTKDEF ntk_status ntk_dsposv(size_t n, size_t nrhs, const double *A, size_t lda, float *LF,
                             size_t ldl, const double *B, size_t ldb, double *X, size_t ldx,
                             ntk_refine_info *info);
/* Preconditioned conjugate gradients for (A + λI)·X = B, A symmetric positive semi-definite
   (a kernel), each column its own recursion, the operator applied to all unconverged
   columns' directions at once (one apply per iteration). Stops when every column's
   ‖b − (A + λI)x‖₂ ≤ tol·‖b‖₂ (recursive residual; NTK_ERR_NO_CONVERGENCE after max_iter).
   Preconditioner (rank > 0 and λ > 0): P = LᵣLᵣᵀ + λI, Lᵣ the greedy pivoted Cholesky of A of
   rank r (r columns of A through column; pivots: the largest remaining diagonal; it stops
   early when that is below 1e-14 of the largest diagonal), applied by Woodbury in O(n·r) per
   column — the Nyström preconditioner, which leaves the spectrum of P⁻¹(A + λI) in
   [1, 1 + λ_{r+1}/λ]. rank = 0: Jacobi, P = diag(A) + λI. diag (n) is A's diagonal (needed).
   Progress: stage "cg" each iteration, done = log(residual)/log(tol) in [0, 1], info
   current (iterations, residual); nonzero cancels (NTK_ERR_CANCELLED). Memory: 4·n·nrhs +
   n·r + r² doubles. A direction with pᵀ(A + λI)p ≤ 0 → NTK_ERR_NOT_POSITIVE_DEFINITE. */
typedef struct ntk_cg_desc {
  double tol;               /* relative residual (0 = 1e-10) */
  size_t max_iter;          /* 0 = 10·n */
  size_t rank;              /* preconditioner rank (0: Jacobi) */
  ntk_column_fn column;     /* column j of A (needed when rank > 0) */
  void *column_user;
  const double *diag;       /* (n): A's diagonal */
  ntk_progress_fn progress; /* NULL: none */
  void *progress_user;
} ntk_cg_desc;
typedef struct ntk_cg_info {
  size_t iterations, rank;  /* iterations done; the preconditioner's rank */
  double residual;          /* max over columns of the relative residual */
} ntk_cg_info;
NTKDEF ntk_status ntk_cg(size_t n, size_t nrhs, ntk_matvec_fn apply, void *user, double lambda,
                         const double *B, size_t ldb, double *X, size_t ldx,
                         const ntk_cg_desc *desc, ntk_cg_info *info);

/* ---- finite networks --------------------------------------------------------------------- */
/* Parameters: one contiguous array; for each Dense or Conv layer in list order (branches left
   to right), W then b (b only when the layer has a bias parameter: ntk_layers_describe's
   has_bias). Dense W is (n_out, n_in) row-major, n_in its input's channel count; Conv W is
   (C_out, fh, fw, C_in) row-major, fan-in n_in = C_in·fh·fw. NTK parameterisation: raw N(0, 1)
   draws, the layer computes (σ_w/√n_in)·W·h + σ_b·b. Standard: the actual weights,
   W ~ N(0, σ_w²/n_in), b ~ N(0, σ_b²), the layer computes W·h + b. Draws run layer by layer in
   that order, so an MLP's parameters are those of earlier versions bit for bit. Overwrite
   params freely (same layout). An MLP (no spatial or branch kind) must end with Dense; every
   Dense and Conv layer needs a width ≥ 1.

   Spatial and branched lists (INPUT, CONV, pools, global pools, FLATTEN, LAYER_NORM, FANOUT …
   FANIN; the front end's rules): neural-tangents' stax forward semantics — rows are NHWC images,
   SAME/CIRCULAR padding as XLA's padtype_to_pads (the odd one at the end; CIRCULAR wraps), a
   zero-padding tap counts in a conv's fan-in, AvgPool divides by the window (by its in-image
   taps with NTK_POOL_NORMALIZE_EDGES, except CIRCULAR), GlobalAvgPool averages positions,
   LayerNorm is (x − mean)/√(eps + var) over its axes (eps 0 = 1e-12), Dense on an image acts per
   position, FANOUT's branches see the same value and their gradients add, FANIN_CONCAT joins
   channels in branch order. outputs k = the output's h·w·c (NHWC; a Flatten or a global pool
   first gives a vector), and f (n, k) is that row. Conv runs as im2col tiles through the GEMM;
   backward passes and tangents are hand-written per kind. Examples run in chunks of
   net->chunk (0 = as many as fit NTK_NET_CHUNK_BYTES, default 64 MB, of forward values plus
   gradients or tangents: 2·Σ_layers h·w·c values per example; rounded up to a multiple of
   the GEMM tile, at least one example): the chunk size changes no result, bit for bit. Memory
   beyond the outputs: one chunk and two im2col tiles (≤ 1024 positions × C_in·fh·fw each).
   The empirical NTK (method STRUCTURED), traced or full, runs one forward pass per example and
   keeps the outputs of every Dense/Conv layer, (n1 + n2)·Σ h·w·C_out values (n1 with x2 =
   NULL; the other layers are recomputed from them), then backward passes per example and
   output; each Dense/Conv layer contributes through the cheaper, by exact flop count, of its
   Jacobian block J_l^a = c·G_aᵀ·U (rows contracted by SYRK/GEMM) and the pair form
   Σ_{s,t} (c²·U U′ᵀ + c_b²)_{st}·(G_a G′_bᵀ)_{st} (n1·n2·S² values per layer; Dense layers on
   vectors, S = 1, take it nearly always). Traced, the block rows of every layer are held for
   one output at a time: (n1 + n2)·Σ_blocks P_l values, 1/k of the Jacobian. Full (k·k), the
   block layers are cut top down into groups of at most a quarter of the Jacobian's columns (a
   larger layer alone), each group's (n1 + n2)·k rows held at once, one backward pass per
   example and output per group that stops below the group (the layers above a group are
   traversed again: in a CNN the small late ones). Threads run over tiles of examples, each
   with its own chunk-sized engine (one GEMM tile) and single-threaded GEMMs; results do not
   depend on the thread count or net->chunk. Method JACOBIAN is J·Jᵀ from ntk_net_jacobian, the
   reference (it holds (n1 + n2)·k·n_params values). The conditional NNGP needs a Dense readout
   on a vector (else NTK_ERR_UNSUPPORTED).

   Errors, the same for every function below (ntk_net_train adds its report of divergence). All
   arguments are checked before any output is written and before any work: a NULL net or
   pointer, a net not made by ntk_net_init, an unknown enum value → NTK_ERR_INVALID_ARG; sizes
   whose element or byte counts do not fit size_t (n·dim, n·k, n·k·n_params, n1·n2, the caches
   and scratch for n inputs) → NTK_ERR_OVERFLOW; NaN/Inf in x, θ or y → NTK_ERR_NON_FINITE.
   A result that is not finite — the forward pass overflows (exp at a large σ_w, say), a custom
   φ or φ′ returns NaN, a loss or kernel entry beyond the range of the type — is
   NTK_ERR_NON_FINITE, never NTK_OK: every returned number is checked. The traced kernels' 1/k
   and Monte Carlo's 1/samples are applied per term (a running mean over samples), and the loss
   is rescaled when its plain sum overflows, so these averages do not overflow where their value
   fits; the inner products themselves (H·Hᵀ, G·Gᵀ, f·fᵀ) are not rescaled, so a kernel within a
   factor of about the layer width of the type's limit may be reported as NTK_ERR_NON_FINITE.
   After NTK_ERR_NON_FINITE, ntk_net_apply, ntk_net_apply_linearized and ntk_net_loss have
   written nothing; ntk_net_jacobian, the empirical kernels and ntk_monte_carlo_kernel leave
   their outputs unspecified (written, with non-finite entries: keeping them intact would cost
   a second output-sized buffer). Out of memory: nothing written, except by
   ntk_monte_carlo_kernel when a sample after the first fails (outputs unspecified). */
typedef struct ntk_net {
  ntk_layer *layers;    /* a copy of the layer list */
  size_t n_layers;
  size_t dim;           /* input dimension */
  size_t outputs;       /* k: width of the last Dense layer */
  size_t n_params;
  ntk_real *params;     /* (n_params) */
  size_t *offset;       /* (n_layers): index of W in params for Dense layers */
  size_t *width_in;     /* (n_layers): input width of each layer (elements per example) */
  size_t max_width;
  size_t chunk;         /* spatial/branched lists: examples per chunk (0 = auto, see below) */
} ntk_net;

/* Allocates and draws the parameters from ntk.h's own generator (splitmix64 + polar method with
   an integer logarithm): the same seed gives bit-identical parameters on every platform.
   NTK_ERR_OVERFLOW if n_layers, the widths or the parameter count overflow the byte counts
   (checked before the layer list is read). On any failure *net is left empty (all zero), so
   ntk_net_free(net) is always safe. */
NTKDEF ntk_status ntk_net_init(ntk_net *net, const ntk_layer *layers, size_t n_layers, size_t dim,
                               uint64_t seed);
NTKDEF void ntk_net_free(ntk_net *net);
/* f (n, k) for inputs x (n, dim). n = 0: NTK_OK, nothing read or written. */
NTKDEF ntk_status ntk_net_apply(const ntk_net *net, const ntk_real *x, size_t n, ntk_real *f);
/* Per-example Jacobian ∂f/∂θ: jac (n, k, n_params), row (i·k + a) = ∂f_a(x_i)/∂θ. */
NTKDEF ntk_status ntk_net_jacobian(const ntk_net *net, const ntk_real *x, size_t n, ntk_real *jac);
/* The linearised model f(x; θ0) + J(x; θ0)·(θ − θ0) with θ0 = net->params, by one forward pass
   carrying tangents: f (n, k). */
NTKDEF ntk_status ntk_net_apply_linearized(const ntk_net *net, const ntk_real *theta,
                                           const ntk_real *x, size_t n, ntk_real *f);

typedef enum ntk_entk_method {
  NTK_ENTK_STRUCTURED = 0, /* Σ_layers (c²·H Hᵀ + c_b²) ⊙ (G Gᵀ): GEMMs, no Jacobian in memory
                              (spatial lists: per layer the cheaper of that and its Jacobian
                              block, see ntk_net) */
  NTK_ENTK_JACOBIAN = 1    /* J·Jᵀ from ntk_net_jacobian: the slow reference */
} ntk_entk_method;
typedef struct ntk_entk_desc {
  ntk_entk_method method;
  int nngp_conditional; /* 0: neural-tangents' f(x)·f(x')ᵀ; 1: its mean given the last hidden
                           layer, σ_w²/n_L·h·h′ + σ_b² (far less noisy) */
} ntk_entk_desc;
/* Empirical kernels between x1 (n1, dim) and x2 (n2, dim) (x2 = NULL: x1, one triangle
   computed). full = 0: traced, (n1, n2) averaged over outputs; full = 1: (n1·k, n2·k), row
   i·k + a, column j·k + b. nngp or ntk may be NULL. desc = NULL: structured, unconditional;
   full, method and nngp_conditional other than 0 or 1 → NTK_ERR_INVALID_ARG. */
NTKDEF ntk_status ntk_net_empirical_kernel(const ntk_net *net, const ntk_real *x1, size_t n1,
                                           const ntk_real *x2, size_t n2, int full,
                                           ntk_real *nngp, ntk_real *ntk);
NTKDEF ntk_status ntk_net_empirical_kernel_ex(const ntk_net *net, const ntk_real *x1, size_t n1,
                                              const ntk_real *x2, size_t n2, int full,
                                              ntk_real *nngp, ntk_real *ntk,
                                              const ntk_entk_desc *desc);
/* Average traced empirical kernels of `samples` networks with seeds seed, seed+1, …
   (neural-tangents' monte_carlo_kernel_fn): a running mean, exact for equal samples, that never
   exceeds the largest sample. Any sample's failure (a non-finite kernel, say) is the result.
   nngp (n1, n2), ntk (n1, n2), either may be NULL; samples ≥ 1. */
NTKDEF ntk_status ntk_monte_carlo_kernel(const ntk_layer *layers, size_t n_layers,
                                         const ntk_real *x1, size_t n1, const ntk_real *x2,
                                         size_t n2, size_t dim, uint64_t seed, size_t samples,
                                         ntk_real *nngp, ntk_real *ntk);

/* Full-batch gradient descent on ½·mean squared error over the n·k outputs (so that time =
   lr·steps matches the predictors). y (n, k). A step costs one forward and one backward pass
   (the loss after the last step is computed only for a callback). Divergence — a non-finite
   loss at some step s (s = 0 … steps: the state after s updates), or a non-finite parameter
   after the last step (s = steps) — returns NTK_ERR_NON_FINITE; the parameters are then those
   of step s. The step is told to the callback, when one is set: it is called at step s
   whatever `every` says, with the loss NaN or ±Inf (NaN if only a parameter was non-finite),
   its return value ignored, and not again; so a caller that keeps the last step it was told
   knows where training diverged. */
typedef int (*ntk_train_callback)(size_t step, double loss, void *user); /* nonzero: stop */
typedef struct ntk_train_desc {
  ntk_train_callback callback; /* called before each step and after the last (step = steps),
                                  and at the step that diverged (see above) */
  void *user;
  size_t every;                /* call every `every` steps (0 = every step) */
} ntk_train_desc;
NTKDEF ntk_status ntk_net_train(ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                                double lr, size_t steps);
NTKDEF ntk_status ntk_net_train_ex(ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                                   double lr, size_t steps, const ntk_train_desc *desc);
/* ½·mean squared error of the network on (x, y) (n ≥ 1), accumulated in double; a loss beyond
   the range of double → NTK_ERR_NON_FINITE and *loss is not written. */
NTKDEF ntk_status ntk_net_loss(const ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                               double *loss);

/* ---- predictions: the training dynamics in closed form (neural-tangents' predict) ------- */
/* Conventions: loss ½·mean over the n·k training outputs, so gradient flow is
   df/dt = −(η/N)·Θ·(f − y), N = n·k, time t counted in steps (t = η·steps is applied inside:
   pass the number of steps and the learning rate). diag_reg adds r·(tr Θ / n)·I (relative,
   default) or r·I (absolute) to the train kernel.

   Singular kernels (duplicate points, deep kernels): one rank decision, made once in
   ntk_predictor_init from the eigenvalues λ_i of the regularised kernel and shared by
   ntk_predict_train, ntk_predict_test and both ensembles: eigenvalues at or below
       cut = n·ε·λ_max      (ε = DBL_EPSILON, or FLT_EPSILON with NTK_REAL_FLOAT)
   — negative ones included — are exactly zero at every t: that direction is not trained (the
   train outputs keep f0's component along it; the test outputs get no contribution, which is
   exact for a consistent kernel, whose test–train rows have no component there). So every
   prediction is continuous in t and converges as t → ∞: train outputs to y − P₀(y − f0) (P₀ the
   projector on the cut directions: equal inputs with equal f0 get equal outputs), test outputs
   to the pseudo-inverse prediction g0 + Θ_td·Θ⁺·(y − f0). p->rank counts the eigenvalues kept.
   t = INFINITY is kernel regression and needs a positive definite kernel: rank = n and the
   Cholesky factorisation passes (p->chol_status, p->chol_info the failing column, or n when only
   the eigenvalue test failed); otherwise every t = ∞ query returns NTK_ERR_NOT_POSITIVE_DEFINITE
   and writes nothing — add diag_reg, or ask for a large finite t. ntk_gp_inference has no
   eigendecomposition: its test is the Cholesky pivot (see ntk_dpotrf), which fails only on
   kernels the cut also calls singular (up to rounding: a pivot d_j ≥ λ_min).

   Errors: every entry point checks all of its arguments, the overflow of every size product
   and the finiteness of every input matrix before anything is written; results are formed in
   scratch and copied out only when every entry is finite (else NTK_ERR_NON_FINITE: e.g. discrete
   steps past the stable rate overflow (1 − ηλ/N)^steps). */
typedef struct ntk_predictor {
  size_t n, k;          /* training points, outputs per point */
  double lr, reg;       /* learning rate; the absolute diagonal that was added */
  ntk_real *evec;       /* (n, n): eigenvectors of the regularised kernel in columns */
  ntk_real *eval;       /* (n): eigenvalues, ascending */
  ntk_real *r0;         /* (n, k): Vᵀ·(y − f0) */
  ntk_real *alpha;      /* (n, k): Θ⁻¹·(y − f0) by Cholesky (t = ∞), NULL if not PD */
  ntk_real *y, *f0;     /* (n, k) copies; f0 = 0 if not given */
  ntk_status chol_status;
  size_t chol_info;     /* failing column if the kernel is not positive definite */
  size_t rank;          /* eigenvalues above the cut n·ε·λ_max (the others are zero) */
} ntk_predictor;

/* Build from the train kernel (n, n), targets y (n, k) and initial outputs f0 (n, k) or NULL.
   Allocates; costs one eigendecomposition and one Cholesky factorisation. */
NTKDEF ntk_status ntk_predictor_init(ntk_predictor *p, const ntk_real *k_train, size_t n,
                                     const ntk_real *y, size_t k, const ntk_real *f0, double lr,
                                     double diag_reg, int diag_reg_absolute);
/* The same with progress: stages "eigendecomposition" and "cholesky", each reported from 0 to
   1 once; a nonzero return from the callback cancels (NTK_ERR_CANCELLED, p left empty). */
typedef struct ntk_predictor_desc {
  ntk_progress_fn progress; /* NULL: none */
  void *progress_user;
} ntk_predictor_desc;
NTKDEF ntk_status ntk_predictor_init_ex(ntk_predictor *p, const ntk_real *k_train, size_t n,
                                        const ntk_real *y, size_t k, const ntk_real *f0, double lr,
                                        double diag_reg, int diag_reg_absolute,
                                        const ntk_predictor_desc *desc);
NTKDEF void ntk_predictor_free(ntk_predictor *p);
/* Outputs after `steps` steps of gradient flow (steps = INFINITY: kernel regression, and the
   train outputs are y exactly; not positive definite → NTK_ERR_NOT_POSITIVE_DEFINITE, see
   above). Train: f (n, k). Test: k_test_train (m, n), g0 (m, k) or NULL, f (m, k).
   discrete ≠ 0: the discrete-step dynamics (I − ηΘ/N)^steps instead of the flow; at t = ∞ it
   needs η·λ_max/N < 2 (else NTK_ERR_NON_FINITE: no limit), and a non-integer number of steps
   needs η·λ_max/N ≤ 1 (else NTK_ERR_INVALID_ARG: a negative base to a fractional power). */
NTKDEF ntk_status ntk_predict_train(const ntk_predictor *p, double steps, int discrete, ntk_real *f);
NTKDEF ntk_status ntk_predict_test(const ntk_predictor *p, double steps, int discrete,
                                   const ntk_real *k_test_train, size_t m, const ntk_real *g0,
                                   ntk_real *f);
/* Exact GP posterior with kernel K ('nngp': the NNGP, 'ntkgp': the NTK): mean (m, k) =
   K_td·K⁻¹·y, cov (m, m) = K_tt − K_td·K⁻¹·K_dt (cov and k_test_test may be NULL). By Cholesky:
   a kernel that is not positive definite → NTK_ERR_NOT_POSITIVE_DEFINITE (no pseudo-inverse). */
NTKDEF ntk_status ntk_gp_inference(const ntk_real *k_train, size_t n, const ntk_real *y, size_t k,
                                   const ntk_real *k_test_train, size_t m,
                                   const ntk_real *k_test_test, double diag_reg,
                                   int diag_reg_absolute, ntk_real *mean, ntk_real *cov);
/* Infinite ensemble of networks trained for `steps` steps (Lee et al. 2019, eqs. 14–16), with
   p built from the NTK train kernel and f0 = NULL. get = 'ntk': needs the NNGP train (n, n),
   test–train (m, n) and test–test (m, m); mean (m, k), cov (m, m) (either may be NULL).
   steps = INFINITY gives the 'ntk' posterior of gp_inference (through the eigenbasis), and
   like every t = ∞ query needs a positive definite kernel. */
NTKDEF ntk_status ntk_ensemble_ntk(const ntk_predictor *p, double steps,
                                   const ntk_real *ntk_test_train, size_t m,
                                   const ntk_real *nngp_train, const ntk_real *nngp_test_train,
                                   const ntk_real *nngp_test_test, ntk_real *mean, ntk_real *cov);
/* get = 'nngp' (only the readout trained), p built from the NNGP train kernel. */
NTKDEF ntk_status ntk_ensemble_nngp(const ntk_predictor *p, double steps,
                                    const ntk_real *nngp_test_train, size_t m,
                                    const ntk_real *nngp_test_test, ntk_real *mean, ntk_real *cov);
/* Largest stable learning rate 2·N/λ_max(Θ) for N = n·k training outputs (no floor: the rate
   of s·Θ is the rate of Θ over s). λ_max ≤ 0: no stable rate, NTK_ERR_NOT_POSITIVE_DEFINITE. */
NTKDEF ntk_status ntk_max_learning_rate(const ntk_real *k_train, size_t n, size_t k, double *lr);
#ifdef __cplusplus
}
#endif
#endif /* NTK_H_INCLUDED */

/* ============================================================================================
   IMPLEMENTATION
   ============================================================================================ */
#if defined(NTK_IMPLEMENTATION) && !defined(NTK__IMPLEMENTATION_DONE)
#define NTK__IMPLEMENTATION_DONE

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h> /* localeconv: the radix character strtod reads ([parse]) */

#if defined(NTK_MALLOC) != defined(NTK_FREE)
#error "ntk.h: define both NTK_MALLOC and NTK_FREE, or neither"
#endif
#ifndef NTK_MALLOC
#define NTK__LIBC_MALLOC 1
#define NTK_MALLOC(sz) malloc(sz)
#define NTK_FREE(p) free(p)
#endif

#ifdef __cplusplus
#define NTK_RESTRICT __restrict
#else
#define NTK_RESTRICT restrict
#endif

#if defined(_OPENMP) && !defined(NTK_NO_OPENMP)
#define NTK__OMP 1
#include <omp.h>
#endif

/* ---- [platform] SIMD selection ------------------------------------------------------------ */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#define NTK__X86_DISPATCH 1 /* kernels built with target attributes, chosen from CPUID */
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define NTK__HAS_NEON 1
#endif

#ifdef NTK_SIMD
#if NTK_SIMD == NTK_SIMD_AVX2 || NTK_SIMD == NTK_SIMD_AVX512
#ifndef NTK__X86_DISPATCH
#error "ntk.h: NTK_SIMD_AVX2/NTK_SIMD_AVX512 need GCC or Clang on x86-64"
#endif
#elif NTK_SIMD == NTK_SIMD_NEON
#ifndef NTK__HAS_NEON
#error "ntk.h: NTK_SIMD_NEON needs aarch64 with NEON"
#endif
#elif NTK_SIMD != NTK_SIMD_SCALAR
#error "ntk.h: unknown NTK_SIMD value"
#endif
#endif

#if defined(NTK__X86_DISPATCH) && (!defined(NTK_SIMD) || NTK_SIMD != NTK_SIMD_SCALAR)
#define NTK__BUILD_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define NTK__TARGET_AVX2 __attribute__((target("avx2,fma")))
#define NTK__TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif
#if defined(NTK__HAS_NEON) && (!defined(NTK_SIMD) || NTK_SIMD == NTK_SIMD_NEON)
#define NTK__BUILD_NEON 1
#include <arm_neon.h>
#endif

/* GCC only: sqrt without errno (inputs are ≥ 0 there) so that the elementwise kernel loops can
   vectorise, and FMA contraction off where bit-identical results are promised. */
/* GCC ≥ 12 at -O2 only vectorises loops that need no scalar epilogue ("very cheap" cost model):
   NTK__VEC asks for the dynamic cost model on the BLAS-1/2-style loops outside the GEMM. */
#if defined(__GNUC__) && !defined(__clang__)
#define NTK__NO_ERRNO __attribute__((optimize("no-math-errno", "vect-cost-model=dynamic")))
#define NTK__NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#define NTK__VEC __attribute__((optimize("vect-cost-model=dynamic")))
#else
#define NTK__NO_ERRNO
#define NTK__NO_CONTRACT
#define NTK__VEC
#endif
#if defined(__GNUC__) || defined(__clang__)
#define NTK__PRAGMA(x) _Pragma(#x)
#define NTK__UNROLL(n) NTK__PRAGMA(GCC unroll n)
#define NTK__PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#define NTK__PREFETCH_R(p) __builtin_prefetch((p), 0, 3)
#define NTK__INLINE inline __attribute__((always_inline))
#else
#define NTK__UNROLL(n)
#define NTK__PREFETCH_W(p) ((void)(p))
#define NTK__PREFETCH_R(p) ((void)(p))
#define NTK__INLINE
#endif

/* ---- [status] ------------------------------------------------------------------------------ */
NTKDEF const char *ntk_status_string(ntk_status s) {
  switch (s) {
#define NTK__STATUS_CASE(name, value, text) \
  case name:                                \
    return text;
    NTK_STATUS_LIST(NTK__STATUS_CASE)
#undef NTK__STATUS_CASE
  default:
    return "unknown status";
  }
}

NTKDEF const char *ntk_version(void) { return NTK_VERSION_STRING; }

/* ---- [platform] size arithmetic and allocation ------------------------------------------- */
/* a·b without overflow, else 0 returned and *ok cleared. */
static size_t ntk__mul(size_t a, size_t b, int *ok) {
  if (a != 0 && b > (size_t)-1 / a) {
    *ok = 0;
    return 0;
  }
  return a * b;
}
static size_t ntk__add(size_t a, size_t b, int *ok) {
  if (b > (size_t)-1 - a) {
    *ok = 0;
    return 0;
  }
  return a + b;
}
/* Does a rows×cols matrix with leading dimension ld fit in the address space and is ld ≥ cols? */
static int ntk__matrix_ok(const void *p, size_t rows, size_t cols, size_t ld) {
  int ok = 1;
  if (rows == 0 || cols == 0) return 1;
  if (p == NULL || ld < cols) return 0;
  (void)ntk__add(ntk__mul(rows - 1, ld, &ok), cols, &ok);
  return ok;
}

/* Finite (not Inf or NaN), decided on the exponent bits: under -ffast-math or
   -ffinite-math-only a compiler may assume no NaN/Inf and fold x − x == 0 or isfinite(x) to
   true, which would let NaN input through every check. */
static int ntk__finite_d(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
}
static int ntk__finite_s(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x7f800000u) != 0x7f800000u;
}
#define ntk__finite ntk__finite_d

static int ntk__max_threads(void) {
#ifdef NTK__OMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

/* ---- [platform] CPU level (x86-64: CPUID + XGETBV) --------------------------------------- */
#ifdef NTK__BUILD_X86
static int ntk__cpu_probe(void) {
  unsigned a, b, c, d, xcr0_lo, xcr0_hi;
  int avx2 = 0, avx512 = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return NTK_SIMD_SCALAR;
  /* OSXSAVE (27), AVX (28), FMA (12) */
  if (!((c >> 27) & 1) || !((c >> 28) & 1) || !((c >> 12) & 1)) return NTK_SIMD_SCALAR;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  (void)xcr0_hi;
  if ((xcr0_lo & 0x6) != 0x6) return NTK_SIMD_SCALAR; /* OS saves xmm/ymm */
  if (__get_cpuid_max(0, NULL) < 7) return NTK_SIMD_SCALAR;
  __cpuid_count(7, 0, a, b, c, d);
  avx2 = (b >> 5) & 1;
  avx512 = ((b >> 16) & 1) && (xcr0_lo & 0xE6) == 0xE6; /* AVX512F + opmask/zmm state */
  if (avx512 && avx2) return NTK_SIMD_AVX512;
  if (avx2) return NTK_SIMD_AVX2;
  return NTK_SIMD_SCALAR;
}
/* The CPU level the hardware offers: probed once; a benign, idempotent cache. */
static int ntk__cpu_level(void) {
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    v = ntk__cpu_probe();
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return v;
}
#endif

/* The kernel set in use. */
static int ntk__simd_level(void) {
#if defined(NTK_SIMD)
#ifdef NTK__BUILD_X86
  (void)ntk__cpu_level; /* forced: the caller promises the CPU has it */
#endif
  return NTK_SIMD;
#elif defined(NTK__BUILD_X86)
  return ntk__cpu_level();
#elif defined(NTK__BUILD_NEON)
  return NTK_SIMD_NEON;
#else
  return NTK_SIMD_SCALAR;
#endif
}

NTKDEF const char *ntk_simd_name(void) {
  switch (ntk__simd_level()) {
  case NTK_SIMD_AVX512: return "avx512";
  case NTK_SIMD_AVX2: return "avx2";
  case NTK_SIMD_NEON: return "neon";
  default: return "scalar";
  }
}

/* ============================================================================================
   [gemm] Goto/BLIS-structured GEMM
   --------------------------------------------------------------------------------------------
   Row-major C (m, n) += op(A)·op(B). Loops, outermost first:
     mc over rows of C in blocks of MB      A block (MB, KC) packed once, shared by threads (L3)
     pc over k in blocks of KC
     nc over columns in blocks of NB        B block (KC, NB) packed per thread (L2 or L3)
     ir over MR rows                        A micro-panel (MR, KC) stays in L1
     jr over NR columns                     B micro-panels stream in (prefetched)
     micro-kernel: MR×NR tile of C in registers, KC rank-1 updates.
   This is BLIS's loop nest applied to the column-major view Cᵀ = op(B)ᵀ·op(A)ᵀ, so the vector
   dimension of the micro-kernel runs along the rows of C (contiguous) and A is broadcast.

   Micro-kernel contract (one per ISA and type, same signature):
     c (MR, NR, ldc) := alpha · Σ_p a[p·MR + i] · b[p·NR + j] + beta · c;  beta = 0 never reads c.
   a and b are packed panels, zero-padded to MR and NR, so the kernel never branches on edges;
   partial tiles go through a stack tile and ntk__store_tile (masked copy, triangle-aware).
   ============================================================================================ */
typedef void (*ntk__ukr_fn)(size_t kc, const void *a, const void *b, void *c, size_t ldc,
                            double alpha, double beta);

typedef struct ntk__gemm_kernel {
  const char *name;
  ntk__ukr_fn ukr;
  size_t mr, nr; /* register tile */
  size_t kc;     /* depth of a packed panel: MR·KC in L1 */
  size_t nb;     /* columns of a B block: KC·NB, L2 or beyond (see the table) */
  size_t mb;     /* rows of an A block: MB·KC in L3 */
  /* packs B when op(B) = Bᵀ (each packed row gathers across NR rows of B) with in-register
     transposes; NULL: the portable ntk__pack_b */
  void (*pack_bt)(void *dst, const void *src, size_t cs, size_t kc, size_t cols, size_t nr);
  /* packs a full MR-row panel of A when op(A) = A (rows contiguous) by in-register
     transposes; NULL: the portable ntk__pack_a */
  void (*pack_a6)(void *dst, const void *src, size_t rs, size_t kc);
} ntk__gemm_kernel;

#define NTK__MR_MAX 16
#define NTK__NR_MAX 64
#define NTK__GEMM_ABUF ((size_t)16 << 20) /* bytes of packed A held at once (L3-sized) */

/* The micro-kernel body, shared by every ISA: V is the vector type, VL its length in T. */
#define NTK__UKR_DEFINE(NAME, ATTR, T, V, MR, NV, VL, VZERO, VLOAD, VSTORE, VSET1, VFMA, VMUL) \
  ATTR static void NAME(size_t kc, const void *a_, const void *b_, void *c_, size_t ldc,      \
                        double alpha_, double beta_) {                                         \
    const T *NTK_RESTRICT a = (const T *)a_;                                                   \
    const T *NTK_RESTRICT b = (const T *)b_;                                                   \
    T *NTK_RESTRICT c = (T *)c_;                                                               \
    V acc[MR][NV], bv[NV], av;                                                                 \
    size_t p;                                                                                  \
    int i, j;                                                                                  \
    NTK__UNROLL(16) for (i = 0; i < (MR); i++) {                                               \
      NTK__UNROLL(8) for (j = 0; j < (NV); j++) acc[i][j] = VZERO;                             \
    }                                                                                          \
    NTK__UNROLL(16) for (i = 0; i < (MR); i++) NTK__PREFETCH_W(c + (size_t)i * ldc);          \
    NTK__UNROLL(4) for (p = 0; p < kc; p++) {                                                  \
      NTK__PREFETCH_R(b + 8 * (NV) * (VL));                                                    \
      NTK__UNROLL(8) for (j = 0; j < (NV); j++) bv[j] = VLOAD(b + j * (VL));                   \
      NTK__UNROLL(16) for (i = 0; i < (MR); i++) {                                             \
        av = VSET1(a[i]);                                                                      \
        NTK__UNROLL(8) for (j = 0; j < (NV); j++) acc[i][j] = VFMA(av, bv[j], acc[i][j]);      \
      }                                                                                        \
      a += (MR);                                                                               \
      b += (NV) * (VL);                                                                        \
    }                                                                                          \
    av = VSET1((T)alpha_);                                                                     \
    if (beta_ == 0) {                                                                          \
      NTK__UNROLL(16) for (i = 0; i < (MR); i++) {                                             \
        NTK__UNROLL(8) for (j = 0; j < (NV); j++)                                              \
          VSTORE(c + (size_t)i * ldc + j * (VL), VMUL(av, acc[i][j]));                         \
      }                                                                                        \
    } else {                                                                                   \
      V vb = VSET1((T)beta_);                                                                  \
      NTK__UNROLL(16) for (i = 0; i < (MR); i++) {                                             \
        NTK__UNROLL(8) for (j = 0; j < (NV); j++) {                                            \
          T *cp = c + (size_t)i * ldc + j * (VL);                                              \
          VSTORE(cp, VFMA(vb, VLOAD(cp), VMUL(av, acc[i][j])));                                \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }

/* scalar: "vectors" of one element; the compiler may vectorise the j loop itself */
#define NTK__S_ID(x) (x)
#define NTK__S_LOAD(p) (*(p))
#define NTK__S_STORE(p, v) (*(p) = (v))
#define NTK__S_FMA(a, b, c) ((a) * (b) + (c))
#define NTK__S_MUL(a, b) ((a) * (b))
NTK__UKR_DEFINE(ntk__sgemm_scalar_4x8, , float, float, 4, 8, 1, 0.0f, NTK__S_LOAD, NTK__S_STORE,
                NTK__S_ID, NTK__S_FMA, NTK__S_MUL)
NTK__UKR_DEFINE(ntk__dgemm_scalar_4x8, , double, double, 4, 8, 1, 0.0, NTK__S_LOAD, NTK__S_STORE,
                NTK__S_ID, NTK__S_FMA, NTK__S_MUL)

#ifdef NTK__BUILD_X86
#define NTK__AVX2_SFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define NTK__AVX2_DFMA(a, b, c) _mm256_fmadd_pd(a, b, c)
NTK__UKR_DEFINE(ntk__sgemm_avx2_6x16, NTK__TARGET_AVX2, float, __m256, 6, 2, 8, _mm256_setzero_ps(),
                _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, NTK__AVX2_SFMA, _mm256_mul_ps)
NTK__UKR_DEFINE(ntk__dgemm_avx2_6x8, NTK__TARGET_AVX2, double, __m256d, 6, 2, 4,
                _mm256_setzero_pd(), _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd,
                NTK__AVX2_DFMA, _mm256_mul_pd)
#define NTK__AVX512_SFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define NTK__AVX512_DFMA(a, b, c) _mm512_fmadd_pd(a, b, c)
NTK__UKR_DEFINE(ntk__sgemm_avx512_8x48, NTK__TARGET_AVX512, float, __m512, 8, 3, 16,
                _mm512_setzero_ps(), _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps,
                NTK__AVX512_SFMA, _mm512_mul_ps)
NTK__UKR_DEFINE(ntk__dgemm_avx512_8x24, NTK__TARGET_AVX512, double, __m512d, 8, 3, 8,
                _mm512_setzero_pd(), _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd,
                NTK__AVX512_DFMA, _mm512_mul_pd)
#endif

#ifdef NTK__BUILD_NEON
#define NTK__NEON_SFMA(a, b, c) vfmaq_f32(c, a, b)
#define NTK__NEON_DFMA(a, b, c) vfmaq_f64(c, a, b)
NTK__UKR_DEFINE(ntk__sgemm_neon_8x12, , float, float32x4_t, 8, 3, 4, vdupq_n_f32(0.0f), vld1q_f32,
                vst1q_f32, vdupq_n_f32, NTK__NEON_SFMA, vmulq_f32)
NTK__UKR_DEFINE(ntk__dgemm_neon_8x6, , double, float64x2_t, 8, 3, 2, vdupq_n_f64(0.0), vld1q_f64,
                vst1q_f64, vdupq_n_f64, NTK__NEON_DFMA, vmulq_f64)
#endif

/* the portable packers (in NTK__GEMM_TYPED below): the SIMD ones leave them edges and tails */
static void ntk__pack_a_s(float *NTK_RESTRICT, const float *, size_t, size_t, size_t, size_t, size_t);
static void ntk__pack_a_d(double *NTK_RESTRICT, const double *, size_t, size_t, size_t, size_t, size_t);
static void ntk__pack_b_s(float *NTK_RESTRICT, const float *, size_t, size_t, size_t, size_t, size_t);
static void ntk__pack_b_d(double *NTK_RESTRICT, const double *, size_t, size_t, size_t, size_t, size_t);
#ifdef NTK__BUILD_X86
/* Packing B = op(Bᵀ) for the AVX2 kernels: (p, j) = src[j·cs + p]. Blocks of 8×8 floats
   (4×4 doubles) are loaded along the rows of B and transposed in registers, so a packed row
   of NR elements is written from NR/8 vector stores instead of gathered one element at a
   time; partial panels and the last kc mod 8 rows take the portable path. */
NTK__TARGET_AVX2 static void ntk__pack_bt_s_avx2(void *dst_, const void *src_, size_t cs, size_t kc,
                                                 size_t cols, size_t nr) {
  float *dst = (float *)dst_;
  const float *src = (const float *)src_;
  size_t c0, j0, p0;
  for (c0 = 0; c0 < cols; c0 += nr) {
    size_t w = cols - c0 < nr ? cols - c0 : nr, kc8 = nr % 8 == 0 && w == nr ? kc / 8 * 8 : 0;
    for (j0 = 0; j0 < w && kc8; j0 += 8) {
      const float *s0 = src + (c0 + j0) * cs;
      for (p0 = 0; p0 < kc8; p0 += 8) {
        __m256 r0 = _mm256_loadu_ps(s0 + p0), r1 = _mm256_loadu_ps(s0 + cs + p0);
        __m256 r2 = _mm256_loadu_ps(s0 + 2 * cs + p0), r3 = _mm256_loadu_ps(s0 + 3 * cs + p0);
        __m256 r4 = _mm256_loadu_ps(s0 + 4 * cs + p0), r5 = _mm256_loadu_ps(s0 + 5 * cs + p0);
        __m256 r6 = _mm256_loadu_ps(s0 + 6 * cs + p0), r7 = _mm256_loadu_ps(s0 + 7 * cs + p0);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *d = dst + p0 * nr + j0;
        _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(d + nr, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(d + 2 * nr, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(d + 3 * nr, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(d + 4 * nr, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(d + 5 * nr, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(d + 6 * nr, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(d + 7 * nr, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
    }
    /* the last kc mod 8 rows, or a partial (zero-padded) panel: the portable path */
    if (kc8 < kc) ntk__pack_b_s(dst + kc8 * nr, src + c0 * cs + kc8, 1, cs, kc - kc8, w, nr);
    dst += kc * nr;
  }
}
NTK__TARGET_AVX2 static void ntk__pack_bt_d_avx2(void *dst_, const void *src_, size_t cs, size_t kc,
                                                 size_t cols, size_t nr) {
  double *dst = (double *)dst_;
  const double *src = (const double *)src_;
  size_t c0, j0, p0;
  for (c0 = 0; c0 < cols; c0 += nr) {
    size_t w = cols - c0 < nr ? cols - c0 : nr, kc4 = nr % 4 == 0 && w == nr ? kc / 4 * 4 : 0;
    for (j0 = 0; j0 < w && kc4; j0 += 4) {
      const double *s0 = src + (c0 + j0) * cs;
      for (p0 = 0; p0 < kc4; p0 += 4) {
        __m256d r0 = _mm256_loadu_pd(s0 + p0), r1 = _mm256_loadu_pd(s0 + cs + p0);
        __m256d r2 = _mm256_loadu_pd(s0 + 2 * cs + p0), r3 = _mm256_loadu_pd(s0 + 3 * cs + p0);
        __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
        __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
        double *d = dst + p0 * nr + j0;
        _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
        _mm256_storeu_pd(d + nr, _mm256_permute2f128_pd(t1, t3, 0x20));
        _mm256_storeu_pd(d + 2 * nr, _mm256_permute2f128_pd(t0, t2, 0x31));
        _mm256_storeu_pd(d + 3 * nr, _mm256_permute2f128_pd(t1, t3, 0x31));
      }
    }
    if (kc4 < kc) ntk__pack_b_d(dst + kc4 * nr, src + c0 * cs + kc4, 1, cs, kc - kc4, w, nr);
    dst += kc * nr;
  }
}
/* One panel of 6 rows of A (row stride rs, contiguous along p) into dst (kc, 6): blocks of
   8 (float) or 4 (double) values of p per row are transposed in registers; each packed row
   of 6 is stored as 4 + 2 (never past its end: panels are packed by several threads). */
NTK__TARGET_AVX2 static void ntk__pack_a6_s_avx2(void *dst_, const void *src_, size_t rs, size_t kc) {
  float *dst = (float *)dst_;
  const float *s0 = (const float *)src_;
  size_t p0, kc8 = kc / 8 * 8, q;
  for (p0 = 0; p0 < kc8; p0 += 8) {
    __m256 r0 = _mm256_loadu_ps(s0 + p0), r1 = _mm256_loadu_ps(s0 + rs + p0);
    __m256 r2 = _mm256_loadu_ps(s0 + 2 * rs + p0), r3 = _mm256_loadu_ps(s0 + 3 * rs + p0);
    __m256 r4 = _mm256_loadu_ps(s0 + 4 * rs + p0), r5 = _mm256_loadu_ps(s0 + 5 * rs + p0);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    /* rows 0-3 of p0+q: 128-bit lane q%4 of u(q%4) (lane q/4); rows 4-5: 64-bit pieces of t4/t5 */
    __m128 a[8], b[8];
    a[0] = _mm256_castps256_ps128(u0), a[1] = _mm256_castps256_ps128(u1);
    a[2] = _mm256_castps256_ps128(u2), a[3] = _mm256_castps256_ps128(u3);
    a[4] = _mm256_extractf128_ps(u0, 1), a[5] = _mm256_extractf128_ps(u1, 1);
    a[6] = _mm256_extractf128_ps(u2, 1), a[7] = _mm256_extractf128_ps(u3, 1);
    b[0] = _mm256_castps256_ps128(t4), b[2] = _mm256_castps256_ps128(t5);
    b[4] = _mm256_extractf128_ps(t4, 1), b[6] = _mm256_extractf128_ps(t5, 1);
    b[1] = _mm_movehl_ps(b[0], b[0]), b[3] = _mm_movehl_ps(b[2], b[2]);
    b[5] = _mm_movehl_ps(b[4], b[4]), b[7] = _mm_movehl_ps(b[6], b[6]);
    for (q = 0; q < 8; q++) {
      float *d = dst + (p0 + q) * 6;
      _mm_storeu_ps(d, a[q]);
      _mm_storel_pi((__m64 *)(void *)(d + 4), b[q]);
    }
  }
  if (kc8 < kc) ntk__pack_a_s(dst + kc8 * 6, s0 + kc8, rs, 1, 6, kc - kc8, 6);
}
NTK__TARGET_AVX2 static void ntk__pack_a6_d_avx2(void *dst_, const void *src_, size_t rs, size_t kc) {
  double *dst = (double *)dst_;
  const double *s0 = (const double *)src_;
  size_t p0, kc4 = kc / 4 * 4;
  for (p0 = 0; p0 < kc4; p0 += 4) {
    __m256d r0 = _mm256_loadu_pd(s0 + p0), r1 = _mm256_loadu_pd(s0 + rs + p0);
    __m256d r2 = _mm256_loadu_pd(s0 + 2 * rs + p0), r3 = _mm256_loadu_pd(s0 + 3 * rs + p0);
    __m256d r4 = _mm256_loadu_pd(s0 + 4 * rs + p0), r5 = _mm256_loadu_pd(s0 + 5 * rs + p0);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    __m256d t4 = _mm256_unpacklo_pd(r4, r5), t5 = _mm256_unpackhi_pd(r4, r5);
    double *d = dst + p0 * 6;
    _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm_storeu_pd(d + 4, _mm256_castpd256_pd128(t4));
    _mm256_storeu_pd(d + 6, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm_storeu_pd(d + 10, _mm256_castpd256_pd128(t5));
    _mm256_storeu_pd(d + 12, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm_storeu_pd(d + 16, _mm256_extractf128_pd(t4, 1));
    _mm256_storeu_pd(d + 18, _mm256_permute2f128_pd(t1, t3, 0x31));
    _mm_storeu_pd(d + 22, _mm256_extractf128_pd(t5, 1));
  }
  if (kc4 < kc) ntk__pack_a_d(dst + kc4 * 6, s0 + kc4, rs, 1, 6, kc - kc4, 6);
}
#endif

/* The per-ISA block-size table. Cache roles as above; figures tuned by bench/ sweeps.
   scalar: conservative; avx2: Zen 3 / Haswell-class (L1d 32 KiB, L2 512 KiB). Its B blocks
   (1.2 MB) outgrow L2 on purpose: the prefetched B stream keeps up from L3, and each A
   micro-panel is reused over 48 B micro-panels instead of 8 — measured side by side with
   OpenBLAS on Zen 3, 1 thread: sgemm 2048³ 0.82 → 0.97, 4096³ 0.83 → 0.95 of its speed,
   dgemm 1024³ 0.89 → 0.97 (KC·NB = 256·128 float, 256·192 double before);
   avx512: Sapphire-Rapids-class (L1d 48 KiB, L2 2 MiB); neon: Cortex-A7x-class. */
static const ntk__gemm_kernel ntk__kernels_s[4] = {
    {"scalar", ntk__sgemm_scalar_4x8, 4, 8, 256, 128, 1024, NULL, NULL},
#ifdef NTK__BUILD_X86
    {"avx2", ntk__sgemm_avx2_6x16, 6, 16, 384, 768, 2048, ntk__pack_bt_s_avx2, ntk__pack_a6_s_avx2},
    {"avx512", ntk__sgemm_avx512_8x48, 8, 48, 384, 672, 2048, ntk__pack_bt_s_avx2, NULL},
#else
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
#endif
#ifdef NTK__BUILD_NEON
    {"neon", ntk__sgemm_neon_8x12, 8, 12, 256, 384, 2048, NULL, NULL},
#else
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
#endif
};
static const ntk__gemm_kernel ntk__kernels_d[4] = {
    {"scalar", ntk__dgemm_scalar_4x8, 4, 8, 256, 64, 1024, NULL, NULL},
#ifdef NTK__BUILD_X86
    {"avx2", ntk__dgemm_avx2_6x8, 6, 8, 384, 384, 2048, ntk__pack_bt_d_avx2, ntk__pack_a6_d_avx2},
    {"avx512", ntk__dgemm_avx512_8x24, 8, 24, 256, 480, 2048, ntk__pack_bt_d_avx2, NULL},
#else
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
#endif
#ifdef NTK__BUILD_NEON
    {"neon", ntk__dgemm_neon_8x6, 8, 6, 256, 192, 2048, NULL, NULL},
#else
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},
#endif
};

/* ---- typed helpers: packing, edge stores, scaling, the _ref spec -------------------------- */
/* Element (i, p) of op(X) is X[i·rs + p·cs]. */
#define NTK__GEMM_TYPED(T, S)                                                                  \
  NTK__VEC static void ntk__gemm_direct_##S(int, int, size_t, size_t, size_t, T, const T *, size_t, const T *, size_t, T, T *, size_t, int); \
  /* dst: ceil(rows/MR) panels of (kc, MR); zero rows beyond `rows` */                         \
  static void ntk__pack_a_##S(T *NTK_RESTRICT dst, const T *src, size_t rs, size_t cs,         \
                              size_t rows, size_t kc, size_t mr) {                             \
    size_t r0, i, p;                                                                           \
    for (r0 = 0; r0 < rows; r0 += mr) {                                                        \
      size_t h = rows - r0 < mr ? rows - r0 : mr;                                              \
      const T *s0 = src + r0 * rs;                                                             \
      if (cs == 1 && h == mr) { /* the common case: mr row streams, contiguous writes */      \
        for (p = 0; p < kc; p++)                                                               \
          for (i = 0; i < mr; i++) dst[p * mr + i] = s0[i * rs + p];                           \
      } else if (rs == 1 && h == mr) { /* op(A) = Aᵀ: each packed row is a contiguous run */  \
        for (p = 0; p < kc; p++) memcpy(dst + p * mr, s0 + p * cs, mr * sizeof(T));           \
      } else {                                                                                 \
        for (p = 0; p < kc; p++)                                                               \
          for (i = 0; i < mr; i++) dst[p * mr + i] = i < h ? s0[i * rs + p * cs] : (T)0;       \
      }                                                                                        \
      dst += kc * mr;                                                                          \
    }                                                                                          \
  }                                                                                            \
  /* dst: ceil(cols/NR) panels of (kc, NR); zero columns beyond `cols`. (p, j) = src[p·rs+j·cs] */ \
  static void ntk__pack_b_##S(T *NTK_RESTRICT dst, const T *src, size_t rs, size_t cs,         \
                              size_t kc, size_t cols, size_t nr) {                             \
    size_t c0, j, p;                                                                           \
    for (c0 = 0; c0 < cols; c0 += nr) {                                                        \
      size_t w = cols - c0 < nr ? cols - c0 : nr;                                              \
      const T *s0 = src + c0 * cs;                                                             \
      if (cs == 1 && w == nr) {                                                                \
        for (p = 0; p < kc; p++)                                                               \
          for (j = 0; j < nr; j++) dst[p * nr + j] = s0[p * rs + j];                           \
      } else if (cs == 1) {                                                                    \
        for (p = 0; p < kc; p++)                                                               \
          for (j = 0; j < nr; j++) dst[p * nr + j] = j < w ? s0[p * rs + j] : (T)0;            \
      } else { /* op(B) = Bᵀ: gather across w rows, write contiguously (2.5x faster than      \
                  running along the rows with strided writes, measured) */                    \
        for (p = 0; p < kc; p++) {                                                             \
          for (j = 0; j < w; j++) dst[p * nr + j] = s0[j * cs + p * rs];                      \
          for (j = w; j < nr; j++) dst[p * nr + j] = 0;                                        \
        }                                                                                      \
      }                                                                                        \
      dst += kc * nr;                                                                          \
    }                                                                                          \
  }                                                                                            \
  /* c (h, w) = alpha·t + beta·c for the entries kept by the triangle test:                    \
     tri 0 all, 1 lower (row ≥ col), 2 upper (row ≤ col); (r0, c0) is the tile's origin. */     \
  static void ntk__store_tile_##S(T *c, size_t ldc, const T *t, size_t ldt, size_t h,          \
                                  size_t w, double alpha, double beta, int tri, size_t r0,     \
                                  size_t c0) {                                                 \
    size_t i, j;                                                                               \
    for (i = 0; i < h; i++) {                                                                  \
      size_t jlo = 0, jhi = w;                                                                 \
      if (tri == 1) jhi = r0 + i + 1 > c0 ? (r0 + i + 1 - c0 < w ? r0 + i + 1 - c0 : w) : 0;   \
      if (tri == 2) jlo = r0 + i > c0 ? (r0 + i - c0 < w ? r0 + i - c0 : w) : 0;               \
      for (j = jlo; j < jhi; j++) {                                                            \
        T v = (T)alpha * t[i * ldt + j];                                                       \
        c[i * ldc + j] = beta == 0 ? v : v + (T)beta * c[i * ldc + j];                         \
      }                                                                                        \
    }                                                                                          \
  }                                                                                            \
  /* C := beta·C on (a triangle of) an m×n matrix; beta = 0 writes zeros without reading. */   \
  static void ntk__scale_##S(T *c, size_t ldc, size_t m, size_t n, double beta, int tri) {    \
    size_t i, j;                                                                               \
    for (i = 0; i < m; i++) {                                                                  \
      size_t jlo = tri == 2 ? i : 0, jhi = tri == 1 ? i + 1 : n;                               \
      for (j = jlo; j < jhi && j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : (T)beta * c[i * ldc + j]; \
    }                                                                                          \
  }                                                                                            \
  /* The direct path for small problems (and for scalar-only targets such as microcontrollers, \
     where packing buys nothing and its buffers cost RAM): no allocation, contiguous inner      \
     loops — an axpy over a row of B, or a dot product with a row of B when B is transposed. */ \
  static void ntk__gemm_direct_##S(int ta, int tb, size_t m, size_t n, size_t k, T alpha,     \
                                   const T *A, size_t lda, const T *B, size_t ldb, T beta,      \
                                   T *C, size_t ldc, int tri) {                                 \
    size_t i, j, p;                                                                             \
    for (i = 0; i < m; i++) {                                                                   \
      size_t jlo = tri == 2 ? i : 0, jhi = tri == 1 ? (i + 1 < n ? i + 1 : n) : n;              \
      T *c = C + i * ldc;                                                                       \
      if (jlo >= jhi) continue;                                                                 \
      if (tb) {                                                                                 \
        for (j = jlo; j < jhi; j++) {                                                           \
          const T *b = B + j * ldb;                                                             \
          T s0 = 0, s1 = 0;                                                                     \
          if (!ta) {                                                                            \
            const T *a = A + i * lda;                                                           \
            for (p = 0; p + 1 < k; p += 2) s0 += a[p] * b[p], s1 += a[p + 1] * b[p + 1];         \
            if (p < k) s0 += a[p] * b[p];                                                       \
          } else {                                                                              \
            for (p = 0; p < k; p++) s0 += A[p * lda + i] * b[p];                                \
          }                                                                                     \
          c[j] = beta == 0 ? alpha * (s0 + s1) : alpha * (s0 + s1) + beta * c[j];              \
        }                                                                                       \
      } else {                                                                                  \
        if (beta == 0)                                                                          \
          for (j = jlo; j < jhi; j++) c[j] = 0;                                                 \
        else if (beta != 1)                                                                     \
          for (j = jlo; j < jhi; j++) c[j] *= beta;                                             \
        for (p = 0; p < k; p++) {                                                               \
          T a = alpha * (ta ? A[p * lda + i] : A[i * lda + p]);                                 \
          const T *b = B + p * ldb;                                                             \
          for (j = jlo; j < jhi; j++) c[j] += a * b[j];                                         \
        }                                                                                       \
      }                                                                                         \
    }                                                                                           \
  }                                                                                             \
  /* The specification: the obvious triple loop. */                                            \
  static void ntk__gemm_ref_##S(int ta, int tb, size_t m, size_t n, size_t k, T alpha,        \
                                const T *A, size_t lda, const T *B, size_t ldb, T beta, T *C,  \
                                size_t ldc, int tri) {                                         \
    size_t i, j, p;                                                                            \
    for (i = 0; i < m; i++) {                                                                  \
      size_t jlo = tri == 2 ? i : 0, jhi = tri == 1 ? i + 1 : n;                               \
      for (j = jlo; j < jhi && j < n; j++) {                                                   \
        T s = 0;                                                                               \
        for (p = 0; p < k; p++)                                                                \
          s += (ta ? A[p * lda + i] : A[i * lda + p]) * (tb ? B[j * ldb + p] : B[p * ldb + j]); \
        C[i * ldc + j] = beta == 0 ? alpha * s : alpha * s + beta * C[i * ldc + j];            \
      }                                                                                        \
    }                                                                                          \
  }

NTK__GEMM_TYPED(float, s)
NTK__GEMM_TYPED(double, d)

typedef struct ntk__gemm_types {
  size_t es;
  void (*pack_a)(void *, const void *, size_t, size_t, size_t, size_t, size_t);
  void (*pack_b)(void *, const void *, size_t, size_t, size_t, size_t, size_t);
} ntk__gemm_types;

/* Type-erased views of the typed helpers, so the driver below exists once. */
static void ntk__pack_a_sv(void *d, const void *s, size_t rs, size_t cs, size_t r, size_t kc,
                           size_t mr) {
  ntk__pack_a_s((float *)d, (const float *)s, rs, cs, r, kc, mr);
}
static void ntk__pack_a_dv(void *d, const void *s, size_t rs, size_t cs, size_t r, size_t kc,
                           size_t mr) {
  ntk__pack_a_d((double *)d, (const double *)s, rs, cs, r, kc, mr);
}
static void ntk__pack_b_sv(void *d, const void *s, size_t rs, size_t cs, size_t kc, size_t c,
                           size_t nr) {
  ntk__pack_b_s((float *)d, (const float *)s, rs, cs, kc, c, nr);
}
static void ntk__pack_b_dv(void *d, const void *s, size_t rs, size_t cs, size_t kc, size_t c,
                           size_t nr) {
  ntk__pack_b_d((double *)d, (const double *)s, rs, cs, kc, c, nr);
}
static void ntk__store_tile_v(size_t es, void *c, size_t ldc, const void *t, size_t ldt,
                              size_t h, size_t w, double alpha, double beta, int tri, size_t r0,
                              size_t c0) {
  if (es == sizeof(double))
    ntk__store_tile_d((double *)c, ldc, (const double *)t, ldt, h, w, alpha, beta, tri, r0, c0);
  else
    ntk__store_tile_s((float *)c, ldc, (const float *)t, ldt, h, w, alpha, beta, tri, r0, c0);
}

/* The micro-kernel table for one type at the level in use (falls back to scalar if a forced
   level was not compiled). */
static const ntk__gemm_kernel *ntk__gemm_pick(size_t es, int level) {
  const ntk__gemm_kernel *t = es == sizeof(double) ? ntk__kernels_d : ntk__kernels_s;
  int idx = level == NTK_SIMD_AVX2 ? 1 : level == NTK_SIMD_AVX512 ? 2 : level == NTK_SIMD_NEON ? 3 : 0;
  return t[idx].ukr ? &t[idx] : &t[0];
}

/* Does the MR×NR tile at (r, c) touch the kept triangle? Is it entirely inside it? */
static int ntk__tile_touches(int tri, size_t r, size_t c, size_t h, size_t w) {
  if (tri == 1) return c <= r + h - 1;
  if (tri == 2) return r <= c + w - 1;
  return 1;
}
static int ntk__tile_inside(int tri, size_t r, size_t c, size_t h, size_t w) {
  if (tri == 1) return c + w - 1 <= r;
  if (tri == 2) return r + h - 1 <= c;
  return 1;
}

typedef struct ntk__gemm_job {
  const ntk__gemm_kernel *kr;
  const ntk__gemm_types *ty;
  int tri;
  size_t m, n, k;
  double alpha, beta;
  const char *A;
  size_t rsa, csa; /* in elements */
  const char *B;
  size_t rsb, csb;
  char *C;
  size_t ldc;
  size_t pb_stride; /* bytes of one thread's packed B block (sized to the problem) */
  size_t kc;        /* depth of the k blocks: k split into equal blocks of at most kr->kc */
  size_t kg;        /* k blocks whose packed A blocks are held at once (see ntk__gemm_run) */
} ntk__gemm_job;

/* Macro-kernel: rows [r0, r0+h) of the packed A block × columns [c0, c0+w) of the packed B block,
   depth kc; beta is the effective beta for this k block (the caller's beta on the first). */
static void ntk__gemm_macro(const ntk__gemm_job *jb, const char *pa, const char *pb, size_t r0,
                            size_t h, size_t c0, size_t w, size_t kc, double beta) {
  const ntk__gemm_kernel *kr = jb->kr;
  size_t es = jb->ty->es, mr = kr->mr, nr = kr->nr, ir, jr;
  double tile[NTK__MR_MAX * NTK__NR_MAX / 2 + 8];
  char *ct = (char *)(void *)tile;
  for (ir = 0; ir < h; ir += mr) {
    size_t hh = h - ir < mr ? h - ir : mr;
    const char *a = pa + ir * kc * es;
    for (jr = 0; jr < w; jr += nr) {
      size_t ww = w - jr < nr ? w - jr : nr, gr = r0 + ir, gc = c0 + jr;
      const char *b = pb + jr * kc * es;
      char *c = jb->C + (gr * jb->ldc + gc) * es;
      if (!ntk__tile_touches(jb->tri, gr, gc, hh, ww)) continue;
      if (hh == mr && ww == nr && ntk__tile_inside(jb->tri, gr, gc, hh, ww)) {
        kr->ukr(kc, a, b, c, jb->ldc, jb->alpha, beta);
      } else {
        kr->ukr(kc, a, b, ct, nr, 1.0, 0.0);
        ntk__store_tile_v(es, c, jb->ldc, ct, nr, hh, ww, jb->alpha, beta, jb->tri, gr, gc);
      }
    }
  }
}

/* Work split for the threads: units are (column block, row part). Column blocks come first;
   when there are fewer column blocks than threads the rows of the A block are split too.
   Loop order: row blocks (MB) → groups of kg k blocks, whose packed A blocks are all held
   (a few MiB, in L3) → units → the k blocks of the group. A unit's C block (MB × NB) is thus
   updated kg times in a row while it is still in L3, instead of once per sweep over the whole
   of C: for the Gram shape (10000² outputs, k = 784) that is one trip to memory for C instead
   of three, which is what two threads were waiting for (measured ~22 GB/s on this machine). */
static void ntk__gemm_run(const ntk__gemm_job *jb, char *pa, char *pb_all, int nthreads) {
  const ntk__gemm_kernel *kr = jb->kr;
  size_t es = jb->ty->es, m = jb->m, n = jb->n, k = jb->k;
  size_t kcmax = jb->kc, mbmax = kr->mb, nb = kr->nb, kgrp = kcmax * jb->kg;
  size_t mc, pg, pb_stride = jb->pb_stride;
  /* with several threads, narrow the column blocks so that every thread gets one */
  if (nthreads > 1 && (n + nb - 1) / nb < (size_t)nthreads) {
    size_t per = (n + (size_t)nthreads - 1) / (size_t)nthreads;
    per = (per + kr->nr - 1) / kr->nr * kr->nr;
    if (per < nb) nb = per;
  } else if (nthreads > 1 && jb->tri == 0) {
    /* as many column blocks as a multiple of the thread count, so no thread idles at the end
       of a row block (2048 columns in blocks of 768 are 3 units for 2 threads: 1.5 passes) */
    size_t ncb = (n + nb - 1) / nb, t = (size_t)nthreads, per;
    ncb = (ncb + t - 1) / t * t;
    per = (n + ncb - 1) / ncb;
    per = (per + kr->nr - 1) / kr->nr * kr->nr;
    if (per < nb) nb = per;
  }
  for (mc = 0; mc < m; mc += mbmax) {
    size_t mh = m - mc < mbmax ? m - mc : mbmax;
    size_t ncb = (n + nb - 1) / nb, parts = 1, units;
    size_t npanel = (mh + kr->mr - 1) / kr->mr, ablock = npanel * kr->mr * kcmax * es;
    /* lower triangle: columns beyond the block's last row are never needed */
    size_t ncols = jb->tri == 1 ? (mc + mh < n ? mc + mh : n) : n;
    size_t cstart = jb->tri == 2 ? mc / nb * nb : 0;
    ncb = (ncols + nb - 1) / nb;
    if (ncb - cstart / nb < (size_t)nthreads) parts = (size_t)nthreads;
    units = (ncb - cstart / nb) * parts;
    for (pg = 0; pg < k; pg += kgrp) {
      size_t kend = k - pg < kgrp ? k : pg + kgrp, nkb = (kend - pg + kcmax - 1) / kcmax;
#ifdef NTK__OMP
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
#endif
      {
        long u, q;
        int tid = 0;
#ifdef NTK__OMP
        tid = omp_get_thread_num();
#pragma omp for schedule(static)
#endif
        for (q = 0; q < (long)(npanel * nkb); q++) { /* panel q % npanel of k block q / npanel */
          size_t kb = (size_t)q / npanel, r = (size_t)q % npanel * kr->mr;
          size_t pc = pg + kb * kcmax, kc = kend - pc < kcmax ? kend - pc : kcmax;
          size_t hh = mh - r < kr->mr ? mh - r : kr->mr;
          const char *asrc = jb->A + ((mc + r) * jb->rsa + pc * jb->csa) * es;
          if (jb->csa == 1 && hh == kr->mr && kr->pack_a6)
            kr->pack_a6(pa + kb * ablock + r * kc * es, asrc, jb->rsa, kc);
          else
            jb->ty->pack_a(pa + kb * ablock + r * kc * es, asrc, jb->rsa, jb->csa, hh, kc, kr->mr);
        }
        {
          char *pb = pb_all + (size_t)tid * pb_stride;
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
          for (u = 0; u < (long)units; u++) {
            size_t cb = cstart / nb + (size_t)u / parts, part = (size_t)u % parts, kb;
            size_t c0 = cb * nb, w = ncols - c0 < nb ? ncols - c0 : nb;
            size_t rows_per = (npanel + parts - 1) / parts * kr->mr;
            size_t rlo = part * rows_per, rhi = rlo + rows_per < mh ? rlo + rows_per : mh;
            if (rlo >= rhi) continue;
            for (kb = 0; kb < nkb; kb++) {
              size_t pc = pg + kb * kcmax, kc = kend - pc < kcmax ? kend - pc : kcmax;
              const char *bsrc = jb->B + (pc * jb->rsb + c0 * jb->csb) * es;
              if (jb->rsb == 1 && kr->pack_bt)
                kr->pack_bt(pb, bsrc, jb->csb, kc, w, kr->nr);
              else
                jb->ty->pack_b(pb, bsrc, jb->rsb, jb->csb, kc, w, kr->nr);
              ntk__gemm_macro(jb, pa + kb * ablock + rlo * kc * es, pb, mc + rlo, rhi - rlo, c0,
                              w, kc, pc == 0 ? jb->beta : 1.0);
            }
          }
        }
      }
    }
  }
}

/* Argument checking shared by gemm and syrk; returns NTK_OK or NTK_ERR_INVALID_ARG. */
static ntk_status ntk__gemm_check(int ta, int tb, size_t m, size_t n, size_t k, const void *A,
                                  size_t lda, const void *B, size_t ldb, const void *C,
                                  size_t ldc) {
  if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1)) return NTK_ERR_INVALID_ARG;
  if (m == 0 || n == 0) return NTK_OK;
  if (!ntk__matrix_ok(C, m, n, ldc)) return NTK_ERR_INVALID_ARG;
  if (k == 0) return NTK_OK;
  if (!(ta ? ntk__matrix_ok(A, k, m, lda) : ntk__matrix_ok(A, m, k, lda)))
    return NTK_ERR_INVALID_ARG;
  if (!(tb ? ntk__matrix_ok(B, n, k, ldb) : ntk__matrix_ok(B, k, n, ldb)))
    return NTK_ERR_INVALID_ARG;
  return NTK_OK;
}

static const ntk__gemm_types ntk__types_s = {sizeof(float), ntk__pack_a_sv, ntk__pack_b_sv};
static const ntk__gemm_types ntk__types_d = {sizeof(double), ntk__pack_a_dv, ntk__pack_b_dv};

/* Small products skip the packed path (packing and its allocation cost more than they save);
   builds with only the scalar kernels (microcontrollers) always take the direct path, so the
   GEMM never allocates there. */
static int ntk__use_direct(size_t m, size_t n, size_t k) {
#if !defined(NTK__BUILD_X86) && !defined(NTK__BUILD_NEON)
  (void)m, (void)n, (void)k;
  return 1;
#else
  return (double)m * (double)n * (double)k <= 16.0 * 16.0 * 16.0 || m < 4 || n < 4;
#endif
}

/* The GEMM's packing memory, one block per call: [capacity | … | data, 64-byte aligned].
   One block of at most NTK_GEMM_KEEP bytes is kept between calls (an atomic swap, so threads
   calling the GEMM at once each get a block of their own): freed blocks at the top of the heap
   are handed back to the system, and each call then page-faults its buffers afresh — 38 % of
   the time of a 256³ sgemm loop, measured. The slot holds the block's start, so leak checkers
   see it as reachable. */
#ifndef NTK_GEMM_KEEP
#ifdef NTK__LIBC_MALLOC
#define NTK_GEMM_KEEP ((size_t)8 << 20)
#else
#define NTK_GEMM_KEEP 0 /* a caller's allocator may be an arena that is reset between calls */
#endif
#endif
#if (defined(__GNUC__) || defined(__clang__)) && (defined(NTK__BUILD_X86) || defined(NTK__BUILD_NEON))
#define NTK__KEEP 1 /* (scalar-only builds never pack: see ntk__use_direct) */
static void *ntk__pack_slot;
#endif
static void *ntk__pack_get(size_t bytes, char **data) {
  void *raw = NULL;
  int ok = 1;
  size_t total = ntk__add(bytes, 64, &ok);
  if (!ok) return NULL;
#ifdef NTK__KEEP
  if (bytes <= NTK_GEMM_KEEP) {
    raw = __atomic_exchange_n(&ntk__pack_slot, (void *)0, __ATOMIC_ACQ_REL);
    if (raw && *(size_t *)raw < bytes) {
      NTK_FREE(raw);
      raw = NULL;
    }
  }
#endif
  if (!raw) {
    raw = NTK_MALLOC(total);
    if (!raw) return NULL;
    *(size_t *)raw = bytes;
  }
  *data = (char *)raw + 64 - ((uintptr_t)raw & 63); /* ≥ 16 bytes past the capacity */
  return raw;
}
static void ntk__pack_put(void *raw) {
  if (!raw) return;
#ifdef NTK__KEEP
  if (*(size_t *)raw <= NTK_GEMM_KEEP) {
    raw = __atomic_exchange_n(&ntk__pack_slot, raw, __ATOMIC_ACQ_REL);
    if (!raw) return;
  }
#endif
  NTK_FREE(raw);
}

/* The one GEMM driver behind sgemm/dgemm/ssyrk/dsyrk: arguments already checked. `level`
   selects the micro-kernel set (tests call every compiled one). */
static ntk_status ntk__gemm(const ntk__gemm_types *ty, int level, int direct, int tri, int ta,
                            int tb, size_t m, size_t n, size_t k, double alpha, const void *A,
                            size_t lda, const void *B, size_t ldb, double beta, void *C,
                            size_t ldc) {
  ntk__gemm_job jb;
  size_t es = ty->es, mb, kc, pa_bytes, pb_bytes, total;
  int nthreads = ntk__max_threads(), ok = 1;
  char *pa = NULL, *pb;
  void *block;
  if (m == 0 || n == 0) return NTK_OK;
  if (k == 0 || alpha == 0) {
    if (es == sizeof(double))
      ntk__scale_d((double *)C, ldc, m, n, beta, tri);
    else
      ntk__scale_s((float *)C, ldc, m, n, beta, tri);
    return NTK_OK;
  }
direct:
  if (direct) {
    if (es == sizeof(double))
      ntk__gemm_direct_d(ta, tb, m, n, k, alpha, (const double *)A, lda, (const double *)B, ldb, beta, (double *)C, ldc, tri);
    else
      ntk__gemm_direct_s(ta, tb, m, n, k, (float)alpha, (const float *)A, lda, (const float *)B, ldb, (float)beta, (float *)C, ldc, tri);
    return NTK_OK;
  }
  jb.kr = ntk__gemm_pick(es, level);
  jb.ty = ty;
  jb.tri = tri;
  jb.m = m, jb.n = n, jb.k = k;
  jb.alpha = alpha, jb.beta = beta;
  jb.A = (const char *)A, jb.rsa = ta ? 1 : lda, jb.csa = ta ? lda : 1;
  jb.B = (const char *)B, jb.rsb = tb ? 1 : ldb, jb.csb = tb ? ldb : 1;
  jb.C = (char *)C, jb.ldc = ldc;
  /* small problems are not worth waking a second thread */
  if ((double)m * (double)n * (double)k < 64.0 * 64.0 * 64.0) nthreads = 1;
  mb = m < jb.kr->mb ? m : jb.kr->mb;
  /* equal k blocks: k = 784 as 3 × 262, not 256 + 256 + 256 + 16 (a last thin block costs a
     full pass over C for a few flops) */
  kc = (k + jb.kr->kc - 1) / jb.kr->kc;
  kc = (k + kc - 1) / kc;
  jb.kc = kc;
  /* k blocks held at once: as many as fit NTK__GEMM_ABUF bytes of packed A */
  jb.kg = NTK__GEMM_ABUF / ((mb + jb.kr->mr) * kc * es);
  if (jb.kg < 1) jb.kg = 1;
  if (jb.kg > (k + kc - 1) / kc) jb.kg = (k + kc - 1) / kc;
  pa_bytes = ntk__mul(ntk__mul(ntk__mul((mb + jb.kr->mr - 1) / jb.kr->mr * jb.kr->mr, kc, &ok), es, &ok), jb.kg, &ok);
  {
    size_t nbe = n < jb.kr->nb ? (n + jb.kr->nr - 1) / jb.kr->nr * jb.kr->nr : jb.kr->nb;
    jb.pb_stride = (ntk__mul(ntk__mul(nbe, kc, &ok), es, &ok) + 63) & ~(size_t)63;
  }
  pb_bytes = ntk__mul(jb.pb_stride, (size_t)nthreads, &ok);
  pa_bytes = ntk__add(pa_bytes, 63, &ok) & ~(size_t)63;
  total = ntk__add(pa_bytes, pb_bytes, &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  block = ntk__pack_get(total, &pa);
  if (!block) { /* no memory for packing: the direct path needs none, so a GEMM with valid
                   arguments always completes (callers inside the library rely on it) */
    direct = 1;
    goto direct;
  }
  pb = pa + pa_bytes;
  ntk__gemm_run(&jb, pa, pb, nthreads);
  ntk__pack_put(block);
  return NTK_OK;
}

NTKDEF ntk_status ntk_sgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, const float *B, size_t ldb, float beta,
                            float *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_s, ntk__simd_level(), ntk__use_direct(m, n, k), 0, (int)ta, (int)tb,
                   m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
NTKDEF ntk_status ntk_dgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                            double alpha, const double *A, size_t lda, const double *B,
                            size_t ldb, double beta, double *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_d, ntk__simd_level(), ntk__use_direct(m, n, k), 0, (int)ta, (int)tb,
                   m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
static ntk_status ntk__syrk_check(int uplo, int t, size_t n, size_t k, const void *A, size_t lda,
                                  const void *C, size_t ldc) {
  if (uplo != 0 && uplo != 1) return NTK_ERR_INVALID_ARG;
  return ntk__gemm_check(t, !t, n, n, k, A, lda, A, lda, C, ldc);
}
NTKDEF ntk_status ntk_ssyrk(ntk_uplo uplo, ntk_trans t, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, float beta, float *C, size_t ldc) {
  ntk_status s = ntk__syrk_check((int)uplo, (int)t, n, k, A, lda, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_s, ntk__simd_level(), ntk__use_direct(n, n, k), uplo == NTK_LOWER ? 1 : 2,
                   (int)t, !(int)t, n, n, k, alpha, A, lda, A, lda, beta, C, ldc);
}
NTKDEF ntk_status ntk_dsyrk(ntk_uplo uplo, ntk_trans t, size_t n, size_t k, double alpha,
                            const double *A, size_t lda, double beta, double *C, size_t ldc) {
  ntk_status s = ntk__syrk_check((int)uplo, (int)t, n, k, A, lda, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_d, ntk__simd_level(), ntk__use_direct(n, n, k), uplo == NTK_LOWER ? 1 : 2,
                   (int)t, !(int)t, n, n, k, alpha, A, lda, A, lda, beta, C, ldc);
}
NTKDEF ntk_status ntk_sgemm_ref(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                                float alpha, const float *A, size_t lda, const float *B,
                                size_t ldb, float beta, float *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  ntk__gemm_ref_s((int)ta, (int)tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
  return NTK_OK;
}
NTKDEF ntk_status ntk_dgemm_ref(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                                double alpha, const double *A, size_t lda, const double *B,
                                size_t ldb, double beta, double *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  ntk__gemm_ref_d((int)ta, (int)tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
  return NTK_OK;
}


/* ============================================================================================
   [linalg] blocked Cholesky and triangular solves, on the GEMM/SYRK above
   --------------------------------------------------------------------------------------------
   Recursive halving: every triangular solve is two half-size solves and one GEMM, and the
   Cholesky is factor(A11), A21 ← A21·L11⁻ᵀ, A22 ← A22 − A21·A21ᵀ (SYRK of depth n/2),
   factor(A22), down to NB-sized unblocked blocks — so nearly all flops are deep GEMM/SYRK.
   ============================================================================================ */
#define NTK__TRSM_BASE 32
#define NTK__TRSM_RLT_BASE 64
/* The vector type of the B·L⁻ᵀ base case: 32-byte GNU vectors where the compiler has them
   (lowered to whatever the target offers), else one element. */
#if defined(__GNUC__) || defined(__clang__)
typedef float ntk__vec_s __attribute__((vector_size(32)));
typedef double ntk__vec_d __attribute__((vector_size(32)));
#else
typedef float ntk__vec_s;
typedef double ntk__vec_d;
#endif
#define NTK__POTRF_NB 64
/* The rows of B in B·L⁻ᵀ are independent: with several threads each solves its own share of
   rows with the whole recursive solve (its GEMMs single-threaded), instead of every GEMM being
   split and the base cases running on one thread. */
#if defined(NTK__OMP) && (defined(__GNUC__) || defined(__clang__))
#define NTK__OMP_ROWS_FOR NTK__PRAGMA(omp parallel for num_threads(nthr) schedule(static) reduction(min : st))
#else
#define NTK__OMP_ROWS_FOR
#endif
#define NTK__LINALG_TYPED(T, S, GEMM, SYRK, V)                                                     \
  /* B (m, k) ← B·L⁻ᵀ, L (k, k) lower */                                                      \
  NTK__VEC static ntk_status ntk__trsm_rlt_##S(size_t m, size_t k, const T *L, size_t lda, T *B, size_t ldb) { \
    size_t i, j, p, h;                                                                          \
    ntk_status st;                                                                              \
    if (k <= NTK__TRSM_RLT_BASE) {                                                              \
      /* Rows of B are independent: 2·VL of them at a time (two vectors V of VL elements) are   \
         transposed into a column-major slab t (k, 2·VL), so every update runs along the rows   \
         in full vectors whatever k is. Four columns are eliminated per pass: x_j … x_j+3 stay  \
         in registers while each later column is loaded once, updated by four FMAs and stored. \
         (The dot-product and the along-the-row forms run at ~15 % and ~40 % of this.) */      \
      const size_t VL = sizeof(V) / sizeof(T), LN = 2 * VL;                                     \
      T inv[NTK__TRSM_RLT_BASE], t[NTK__TRSM_RLT_BASE * 2 * (sizeof(V) / sizeof(T))];           \
      V xa, xb, ya, yb, x0a, x0b, x1a, x1b, x2a, x2b, x3a, x3b;                                 \
      size_t r, q;                                                                              \
      for (j = 0; j < k; j++) inv[j] = 1 / L[j * lda + j];                                      \
      for (i = 0; i < m; i += LN) {                                                             \
        size_t rows = m - i < LN ? m - i : LN;                                                  \
        for (r = 0; r < rows; r++)                                                              \
          for (p = 0; p < k; p++) t[p * LN + r] = B[(i + r) * ldb + p];                         \
        for (; r < LN; r++)                                                                     \
          for (p = 0; p < k; p++) t[p * LN + r] = 0;                                            \
        for (j = 0; j < k; j += 4) {                                                            \
          size_t je = j + 4 < k ? j + 4 : k;                                                    \
          for (q = j; q < je; q++) { /* the triangle of these four columns */                  \
            memcpy(&xa, t + q * LN, sizeof(V));                                                 \
            memcpy(&xb, t + q * LN + VL, sizeof(V));                                            \
            xa = xa * inv[q], xb = xb * inv[q];                                                 \
            memcpy(t + q * LN, &xa, sizeof(V));                                                 \
            memcpy(t + q * LN + VL, &xb, sizeof(V));                                            \
            for (p = q + 1; p < je; p++) {                                                      \
              memcpy(&ya, t + p * LN, sizeof(V));                                               \
              memcpy(&yb, t + p * LN + VL, sizeof(V));                                          \
              ya = ya - L[p * lda + q] * xa, yb = yb - L[p * lda + q] * xb;                       \
              memcpy(t + p * LN, &ya, sizeof(V));                                               \
              memcpy(t + p * LN + VL, &yb, sizeof(V));                                          \
            }                                                                                   \
          }                                                                                     \
          if (je == k) break;                                                                   \
          memcpy(&x0a, t + j * LN, sizeof(V)), memcpy(&x0b, t + j * LN + VL, sizeof(V));        \
          memcpy(&x1a, t + (j + 1) * LN, sizeof(V)), memcpy(&x1b, t + (j + 1) * LN + VL, sizeof(V)); \
          memcpy(&x2a, t + (j + 2) * LN, sizeof(V)), memcpy(&x2b, t + (j + 2) * LN + VL, sizeof(V)); \
          memcpy(&x3a, t + (j + 3) * LN, sizeof(V)), memcpy(&x3b, t + (j + 3) * LN + VL, sizeof(V)); \
          for (p = je; p < k; p++) {                                                            \
            const T *l = L + p * lda + j;                                                       \
            T c0 = l[0], c1 = l[1], c2 = l[2], c3 = l[3];                                       \
            memcpy(&ya, t + p * LN, sizeof(V));                                                 \
            memcpy(&yb, t + p * LN + VL, sizeof(V));                                            \
            ya = ya - c0 * x0a - c1 * x1a - c2 * x2a - c3 * x3a;                                \
            yb = yb - c0 * x0b - c1 * x1b - c2 * x2b - c3 * x3b;                                \
            memcpy(t + p * LN, &ya, sizeof(V));                                                 \
            memcpy(t + p * LN + VL, &yb, sizeof(V));                                            \
          }                                                                                     \
        }                                                                                       \
        for (r = 0; r < rows; r++)                                                              \
          for (p = 0; p < k; p++) B[(i + r) * ldb + p] = t[p * LN + r];                         \
      }                                                                                         \
      return NTK_OK;                                                                            \
    }                                                                                           \
    h = k / 2;                                                                                  \
    if ((st = ntk__trsm_rlt_##S(m, h, L, lda, B, ldb)) != NTK_OK) return st;                    \
    st = GEMM(NTK_NO_TRANS, NTK_TRANS, m, k - h, h, (T)-1, B, ldb, L + h * lda, lda, (T)1, B + h, ldb); \
    if (st != NTK_OK) return st;                                                                \
    return ntk__trsm_rlt_##S(m, k - h, L + h * lda + h, lda, B + h, ldb);                       \
  }                                                                                             \
  static ntk_status ntk__trsm_rlt_mt_##S(size_t m, size_t k, const T *L, size_t lda, T *B,     \
                                         size_t ldb) {                                          \
    int nthr = ntk__max_threads(), st = NTK_OK;                                                 \
    long c;                                                                                     \
    size_t chunk;                                                                               \
    if (nthr < 2 || m < 64 * (size_t)nthr || (double)m * (double)k * (double)k < 1e6)           \
      return ntk__trsm_rlt_##S(m, k, L, lda, B, ldb);                                           \
    chunk = (m + (size_t)nthr - 1) / (size_t)nthr;                                              \
    NTK__OMP_ROWS_FOR                                                                           \
    for (c = 0; c < (long)nthr; c++) {                                                          \
      size_t lo = (size_t)c * chunk, hi = lo + chunk < m ? lo + chunk : m;                      \
      if (lo < hi) {                                                                            \
        int s1 = (int)ntk__trsm_rlt_##S(hi - lo, k, L, lda, B + lo * ldb, ldb);                 \
        st = s1 < st ? s1 : st;                                                                 \
      }                                                                                         \
    }                                                                                           \
    return (ntk_status)st;                                                                      \
  }                                                                                             \
  /* B (n, r) ← L⁻¹·B */                                                                      \
  NTK__VEC static ntk_status ntk__trsm_lln_##S(size_t n, size_t r, const T *L, size_t lda, T *B, size_t ldb) { \
    size_t i, j, p, h;                                                                          \
    ntk_status st;                                                                              \
    if (n <= NTK__TRSM_BASE) {                                                                  \
      for (i = 0; i < n; i++) {                                                                 \
        T *b = B + i * ldb, d = L[i * lda + i];                                                 \
        for (p = 0; p < i; p++) {                                                               \
          T l = L[i * lda + p];                                                                 \
          const T *bp = B + p * ldb;                                                            \
          for (j = 0; j < r; j++) b[j] -= l * bp[j];                                            \
        }                                                                                       \
        for (j = 0; j < r; j++) b[j] /= d;                                                      \
      }                                                                                         \
      return NTK_OK;                                                                            \
    }                                                                                           \
    h = n / 2;                                                                                  \
    if ((st = ntk__trsm_lln_##S(h, r, L, lda, B, ldb)) != NTK_OK) return st;                    \
    st = GEMM(NTK_NO_TRANS, NTK_NO_TRANS, n - h, r, h, (T)-1, L + h * lda, lda, B, ldb, (T)1, B + h * ldb, ldb); \
    if (st != NTK_OK) return st;                                                                \
    return ntk__trsm_lln_##S(n - h, r, L + h * lda + h, lda, B + h * ldb, ldb);                 \
  }                                                                                             \
  /* B (n, r) ← L⁻ᵀ·B */                                                                      \
  NTK__VEC static ntk_status ntk__trsm_llt_##S(size_t n, size_t r, const T *L, size_t lda, T *B, size_t ldb) { \
    size_t i, j, p, h;                                                                          \
    ntk_status st;                                                                              \
    if (n <= NTK__TRSM_BASE) {                                                                  \
      for (i = n; i-- > 0;) {                                                                   \
        T *b = B + i * ldb, d = L[i * lda + i];                                                 \
        for (p = i + 1; p < n; p++) {                                                           \
          T l = L[p * lda + i];                                                                 \
          const T *bp = B + p * ldb;                                                            \
          for (j = 0; j < r; j++) b[j] -= l * bp[j];                                            \
        }                                                                                       \
        for (j = 0; j < r; j++) b[j] /= d;                                                      \
      }                                                                                         \
      return NTK_OK;                                                                            \
    }                                                                                           \
    h = n / 2;                                                                                  \
    if ((st = ntk__trsm_llt_##S(n - h, r, L + h * lda + h, lda, B + h * ldb, ldb)) != NTK_OK) return st; \
    st = GEMM(NTK_TRANS, NTK_NO_TRANS, h, r, n - h, (T)-1, L + h * lda, lda, B + h * ldb, ldb, (T)1, B, ldb); \
    if (st != NTK_OK) return st;                                                                \
    return ntk__trsm_llt_##S(h, r, L, lda, B, ldb);                                             \
  }                                                                                             \
  /* unblocked lower Cholesky of a diagonal block; returns the failing column or n. A pivot at  \
     or below n·eps of the column's original diagonal (dg) counts as not positive definite:     \
     a kernel with duplicate inputs must fail, not succeed with a 1e-8 pivot. */                \
  NTK__VEC static size_t ntk__potf2_##S(size_t n, T *A, size_t lda, const T *dg, T tol) {                \
    size_t i, j, p;                                                                             \
    for (j = 0; j < n; j++) {                                                                   \
      T *aj = A + j * lda, d = aj[j];                                                           \
      for (p = 0; p < j; p++) d -= aj[p] * aj[p];                                               \
      if (!(d > tol * dg[j]) || d - d != 0) return j;                                           \
      d = (T)sqrt((double)d);                                                                   \
      aj[j] = d;                                                                                \
      for (i = j + 1; i < n; i++) {                                                             \
        T *ai = A + i * lda, acc = ai[j];                                                       \
        for (p = 0; p < j; p++) acc -= ai[p] * aj[p];                                           \
        ai[j] = acc / d;                                                                        \
      }                                                                                         \
    }                                                                                           \
    return n;                                                                                   \
  }                                                                                             \
  /* recursive right-looking Cholesky: halves, so the trailing SYRK has depth n/2 (efficient  \
     GEMM) instead of a fixed panel width; returns the failing column or n */                  \
  static size_t ntk__potrf_rec_##S(size_t n, T *A, size_t lda, const T *dg, T tol, ntk_status *st) { \
    size_t h, bad;                                                                              \
    if (n <= NTK__POTRF_NB) return ntk__potf2_##S(n, A, lda, dg, tol);                          \
    h = n / 2;                                                                                  \
    if ((bad = ntk__potrf_rec_##S(h, A, lda, dg, tol, st)) < h || *st != NTK_OK) return bad;    \
    if ((*st = ntk__trsm_rlt_mt_##S(n - h, h, A, lda, A + h * lda, lda)) != NTK_OK) return n;      \
    *st = SYRK(NTK_LOWER, NTK_NO_TRANS, n - h, h, (T)-1, A + h * lda, lda, (T)1, A + h * lda + h, lda); \
    if (*st != NTK_OK) return n;                                                                \
    bad = ntk__potrf_rec_##S(n - h, A + h * lda + h, lda, dg + h, tol, st);                     \
    return bad < n - h ? h + bad : n;                                                           \
  }                                                                                             \
  /* index of the first Inf/NaN in a[0, n), or n: a branch-free (vectorised) OR over the     \
     exponent test before the search */                                                         \
  NTK__VEC static size_t ntk__nonfinite_##S(const T *a, size_t n) {                             \
    size_t j;                                                                                   \
    int bad = 0;                                                                                \
    for (j = 0; j < n; j++) bad |= !ntk__finite_##S(a[j]);                                      \
    if (bad)                                                                                    \
      for (j = 0; j < n; j++)                                                                   \
        if (!ntk__finite_##S(a[j])) return j;                                                   \
    return n;                                                                                   \
  }                                                                                             \
  static ntk_status ntk__potrf_tol_##S(size_t n, T *A, size_t lda, size_t *info, double tol) {   \
    size_t i, j, bad;                                                                           \
    ntk_status st = NTK_OK;                                                                     \
    int sc = 0;                                                                                 \
    T *dg;                                                                                      \
    if (info) *info = n;                                                                        \
    if (!ntk__matrix_ok(A, n, n, lda)) return NTK_ERR_INVALID_ARG;                              \
    for (i = 0; i < n; i++)                                                                     \
      if ((j = ntk__nonfinite_##S(A + i * lda, i + 1)) <= i) {                                  \
        if (info) *info = j;                                                                    \
        return NTK_ERR_NON_FINITE;                                                              \
      }                                                                                         \
    if (n == 0) return NTK_OK;                                                                  \
    dg = (T *)NTK_MALLOC(n * sizeof(T));                                                        \
    if (!dg) return NTK_ERR_OUT_OF_MEMORY;                                                      \
    /* The factorisation is scale-equivariant (L of s·A is √s·L) except where products of L's  \
       entries leave the normal range: subnormal input loses digits in every l·l, and near the \
       largest finite value a_ij − Σ l·l can overflow. Outside [2^-Emid, 2^Emid] the triangle   \
       is scaled by an even power of two 2^sc (exact), so that its largest entry is near 1,     \
       and L back by 2^(−sc/2) (exact). */                                                       \
    {                                                                                           \
      double anrm = 0;                                                                          \
      int emid = sizeof(T) == 4 ? 120 : 960;                                                    \
      for (i = 0; i < n; i++)                                                                   \
        for (j = 0; j <= i; j++) anrm = fabs((double)A[i * lda + j]) > anrm ? fabs((double)A[i * lda + j]) : anrm; \
      if (anrm > 0 && (ilogb(anrm) < -emid || ilogb(anrm) > emid)) {                           \
        sc = -ilogb(anrm);                                                                      \
        if (sc % 2) sc--; /* even: the largest entry lands in [1/2, 2) */                      \
        for (i = 0; i < n; i++)                                                                 \
          for (j = 0; j <= i; j++) A[i * lda + j] = (T)ldexp((double)A[i * lda + j], sc);       \
      }                                                                                         \
    }                                                                                           \
    for (i = 0; i < n; i++) dg[i] = A[i * lda + i] > 0 ? A[i * lda + i] : 0;                   \
    bad = ntk__potrf_rec_##S(n, A, lda, dg, tol < 0 ? (T)n * (T)(sizeof(T) == 4 ? FLT_EPSILON : DBL_EPSILON) : (T)tol, &st); \
    NTK_FREE(dg);                                                                               \
    if (st != NTK_OK) return st;                                                                \
    if (bad < n) {                                                                              \
      if (info) *info = bad;                                                                    \
      return NTK_ERR_NOT_POSITIVE_DEFINITE;                                                     \
    }                                                                                           \
    if (sc)                                                                                     \
      for (i = 0; i < n; i++)                                                                   \
        for (j = 0; j <= i; j++) A[i * lda + j] = (T)ldexp((double)A[i * lda + j], -sc / 2);    \
    return NTK_OK;                                                                              \
  }                                                                                             \
  NTKDEF ntk_status ntk_##S##potrf_ex(size_t n, T *A, size_t lda, size_t *info) {               \
    return ntk__potrf_tol_##S(n, A, lda, info, -1);                                             \
  }                                                                                             \
  NTKDEF ntk_status ntk_##S##potrf_tol(size_t n, T *A, size_t lda, double tol, size_t *info) {  \
    if (!(tol >= 0) || !(tol < 1)) return NTK_ERR_INVALID_ARG;                                  \
    return ntk__potrf_tol_##S(n, A, lda, info, tol);                                            \
  }                                                                                             \
  NTKDEF ntk_status ntk_##S##potrf(size_t n, T *A, size_t lda) {                                \
    return ntk_##S##potrf_ex(n, A, lda, NULL);                                                  \
  }                                                                                             \
  NTKDEF ntk_status ntk_##S##trsm_lower(ntk_trans trans, size_t n, size_t nrhs, const T *L,     \
                                         size_t lda, T *B, size_t ldb) {                        \
    if ((trans != NTK_NO_TRANS && trans != NTK_TRANS) || !ntk__matrix_ok(L, n, n, lda) ||       \
        !ntk__matrix_ok(B, n, nrhs, ldb))                                                       \
      return NTK_ERR_INVALID_ARG;                                                               \
    if (n == 0 || nrhs == 0) return NTK_OK;                                                     \
    if (trans == NTK_NO_TRANS) return ntk__trsm_lln_##S(n, nrhs, L, lda, B, ldb);               \
    return ntk__trsm_llt_##S(n, nrhs, L, lda, B, ldb);                                          \
  }                                                                                             \
  NTKDEF ntk_status ntk_##S##potrs(size_t n, size_t nrhs, const T *L, size_t lda, T *B,         \
                                   size_t ldb) {                                                \
    if (!ntk__matrix_ok(L, n, n, lda) || !ntk__matrix_ok(B, n, nrhs, ldb))                      \
      return NTK_ERR_INVALID_ARG;                                                               \
    if (n == 0 || nrhs == 0) return NTK_OK;                                                     \
    {                                                                                           \
      ntk_status st = ntk__trsm_lln_##S(n, nrhs, L, lda, B, ldb);                               \
      return st != NTK_OK ? st : ntk__trsm_llt_##S(n, nrhs, L, lda, B, ldb);                    \
    }                                                                                           \
  }

NTK__LINALG_TYPED(float, s, ntk_sgemm, ntk_ssyrk, ntk__vec_s)
NTK__LINALG_TYPED(double, d, ntk_dgemm, ntk_dsyrk, ntk__vec_d)

/* ---- [linalg] mixed precision: a float factor refined in double; preconditioned CG ---------
   Refinement (LAPACK dsposv's scheme): x₀ = L_f⁻ᵀL_f⁻¹b (float factor, double arithmetic), then r = b − A·x in double
   (the caller's operator), x += L_f⁻ᵀL_f⁻¹r, until the correction is below √n·ε·‖x‖∞ (converged
   to double: at most ~log(ε)/log(κ·ε_f) steps) or the relative residual ‖r‖₂/‖b‖₂ ≤ tol. It
   converges when κ(A)·ε_f ≲ 1/2 (κ ≲ 4e6); beyond, the corrections stop shrinking and it
   returns NTK_ERR_NO_CONVERGENCE (x then holds the best iterate). */
static double ntk__nrm2_col(const double *X, size_t n, size_t ld, size_t c) {
  double s = 0, m = 0, v;
  size_t i;
  for (i = 0; i < n; i++) if (fabs(X[i * ld + c]) > m) m = fabs(X[i * ld + c]);
  if (m == 0) return 0;
  for (i = 0; i < n; i++) v = X[i * ld + c] / m, s += v * v;
  return m * sqrt(s);
}

/* R (n, r) := (L·Lᵀ)⁻¹R in double with the float factor L: one streaming pass over L each
   way (rows: dot products for L·y = r; then axpys along rows for Lᵀ·x = y), all columns of R
   per row of L while it is in cache (ntk_spotrs runs in float and is blocked for wide R).
   W: (n·r) scratch, R held column by column there. */
static void ntk__sfactor_solve(size_t n, size_t r, const float *L, size_t ldl, double *R, double *W) {
  size_t i, j, c;
  for (i = 0; i < n; i++) for (c = 0; c < r; c++) W[c * n + i] = R[i * r + c];
  for (i = 0; i < n; i++) { /* forward: y_i = (r_i − Σ_{j<i} l_ij y_j)/l_ii */
    const float *l = L + i * ldl;
    for (c = 0; c < r; c++) {
      double *w = W + c * n, a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (j = 0; j + 4 <= i; j += 4)
        a0 += (double)l[j] * w[j], a1 += (double)l[j + 1] * w[j + 1], a2 += (double)l[j + 2] * w[j + 2], a3 += (double)l[j + 3] * w[j + 3];
      for (; j < i; j++) a0 += (double)l[j] * w[j];
      w[i] = (w[i] - ((a0 + a1) + (a2 + a3))) / (double)l[i];
    }
  }
  for (i = n; i-- > 0;) { /* backward: x_i = y_i/l_ii, then y_j −= l_ij·x_i for j < i */
    const float *l = L + i * ldl;
    for (c = 0; c < r; c++) {
      double *w = W + c * n, xi = w[i] / (double)l[i];
      w[i] = xi;
      for (j = 0; j < i; j++) w[j] -= (double)l[j] * xi;
    }
  }
  for (i = 0; i < n; i++) for (c = 0; c < r; c++) R[i * r + c] = W[c * n + i];
}

NTKDEF ntk_status ntk_sposv_refine(size_t n, size_t nrhs, const float *L, size_t ldl,
                                   ntk_matvec_fn apply, void *user, const double *B, size_t ldb,
                                   double *X, size_t ldx, double tol, size_t max_iter,
                                   ntk_refine_info *info) {
  size_t i, c, it, nn;
  int ok = 1, conv = 0;
  double *R = NULL, *AX = NULL, prev = INFINITY;
  ntk_status st = NTK_OK;
  if (info) memset(info, 0, sizeof *info);
  if (!apply || !ntk__matrix_ok(L, n, n, ldl) || !ntk__matrix_ok(B, n, nrhs, ldb) ||
      !ntk__matrix_ok(X, n, nrhs, ldx) || !(tol >= 0))
    return NTK_ERR_INVALID_ARG;
  if (n == 0 || nrhs == 0) return NTK_OK;
  nn = ntk__mul(n, nrhs, &ok);
  (void)ntk__mul(nn, sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) if (!ntk__finite_d(B[i * ldb + c])) return NTK_ERR_NON_FINITE;
  if (max_iter == 0) max_iter = 30;
  R = (double *)NTK_MALLOC(nn * sizeof(double));
  AX = (double *)NTK_MALLOC(nn * sizeof(double));
  if (!R || !AX) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  /* x₀ from the float factor; r = b at the start */
  for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) R[i * nrhs + c] = B[i * ldb + c];
  for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) X[i * ldx + c] = 0;
  for (it = 0;; it++) {
    double dmax = 0, xmax = 0, rrel = 0, rmax = 0;
    /* the correction with the float factor (the arithmetic in double) */
    for (i = 0; i < nn; i++) if (fabs(R[i]) > rmax) rmax = fabs(R[i]);
    if (rmax == 0) { conv = 1; break; }
    ntk__sfactor_solve(n, nrhs, L, ldl, R, AX);
    for (i = 0; i < n; i++)
      for (c = 0; c < nrhs; c++) {
        double d = R[i * nrhs + c];
        X[i * ldx + c] += d;
        if (fabs(d) > dmax) dmax = fabs(d);
        if (fabs(X[i * ldx + c]) > xmax) xmax = fabs(X[i * ldx + c]);
      }
    if (!ntk__finite_d(dmax) || !ntk__finite_d(xmax)) { st = NTK_ERR_NON_FINITE; goto done; }
    /* r = b − A·x in double */
    for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) R[i * nrhs + c] = X[i * ldx + c];
    st = apply(nrhs, R, AX, user);
    if (st != NTK_OK) goto done;
    for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) R[i * nrhs + c] = B[i * ldb + c] - AX[i * nrhs + c];
    for (c = 0; c < nrhs; c++) {
      double b = ntk__nrm2_col(B, n, ldb, c), r = ntk__nrm2_col(R, n, nrhs, c);
      double e = b > 0 ? r / b : r;
      if (e > rrel) rrel = e;
    }
    if (info) info->iterations = it + 1, info->residual = rrel;
    if (dmax <= sqrt((double)n) * DBL_EPSILON * xmax || (tol > 0 && rrel <= tol)) { conv = 1; break; }
    /* corrections that stop halving: at the rounding floor (~κ·ε·‖x‖, converged) when they
       are small, else the float factor is too coarse (κ·ε_f ≳ 1/2) */
    if (it > 0 && dmax > 0.5 * prev) { conv = dmax <= 1e-8 * xmax; break; }
    if (it + 1 >= max_iter) break;
    prev = dmax;
  }
  st = conv ? NTK_OK : NTK_ERR_NO_CONVERGENCE;
done:
  NTK_FREE(R);
  NTK_FREE(AX);
  return st;
}

/* the operator of a dense symmetric double matrix (lower triangle read) */
typedef struct ntk__dsym_op { const double *A; size_t n, lda; } ntk__dsym_op;
static ntk_status ntk__dsym_apply(size_t nrhs, const double *X, double *Y, void *user) {
  const ntk__dsym_op *o = (const ntk__dsym_op *)user;
  size_t i, j, c;
  for (i = 0; i < o->n * nrhs; i++) Y[i] = 0;
  for (i = 0; i < o->n; i++) {
    const double *a = o->A + i * o->lda;
    for (j = 0; j < i; j++) /* a[j] = A[i][j] = A[j][i] */
      for (c = 0; c < nrhs; c++) Y[i * nrhs + c] += a[j] * X[j * nrhs + c], Y[j * nrhs + c] += a[j] * X[i * nrhs + c];
    for (c = 0; c < nrhs; c++) Y[i * nrhs + c] += a[i] * X[i * nrhs + c];
  }
  return NTK_OK;
}

NTKDEF ntk_status ntk_dsposv(size_t n, size_t nrhs, const double *A, size_t lda, float *LF,
                             size_t ldl, const double *B, size_t ldb, double *X, size_t ldx,
                             ntk_refine_info *info) {
  size_t i, j, bad;
  ntk__dsym_op op;
  ntk_status st;
  if (info) memset(info, 0, sizeof *info);
  if (!ntk__matrix_ok(A, n, n, lda) || !ntk__matrix_ok(LF, n, n, ldl)) return NTK_ERR_INVALID_ARG;
  for (i = 0; i < n; i++)
    for (j = 0; j <= i; j++) {
      double a = A[i * lda + j];
      if (!ntk__finite_d(a) || fabs(a) > FLT_MAX) return NTK_ERR_NON_FINITE;
      LF[i * ldl + j] = (float)a;
    }
  st = ntk_spotrf_ex(n, LF, ldl, &bad);
  if (info) info->factor_info = bad;
  if (st != NTK_OK) return st;
  op.A = A, op.n = n, op.lda = lda;
  return ntk_sposv_refine(n, nrhs, LF, ldl, ntk__dsym_apply, &op, B, ldb, X, ldx, 0, 0, info);
}

/* Preconditioned conjugate gradients for (A + λI)·X = B, every column its own recursion, the
   operator applied to all columns at once. Preconditioner: P = Lᵣ·Lᵣᵀ + λI from a greedy
   pivoted Cholesky of rank r (the Nyström approximation on the r points of largest residual
   variance; each step takes one column of A), applied by Woodbury:
   P⁻¹v = (v − Lᵣ(λI + LᵣᵀLᵣ)⁻¹Lᵣᵀv)/λ, O(n·r) per column; rank 0 (or λ = 0): Jacobi,
   P = diag(A) + λ. */
typedef struct ntk__pcg {
  size_t n, r;
  double lambda;
  double *Lr;  /* (n, r) */
  double *M;   /* (r, r): Cholesky factor of λI + LᵣᵀLᵣ */
  double *dj;  /* (n): Jacobi diagonal, when r = 0 */
} ntk__pcg;

static void ntk__pcg_apply(const ntk__pcg *p, const double *V, double *Z, size_t nrhs, double *w) {
  size_t i, c, k;
  if (p->r == 0) {
    for (i = 0; i < p->n; i++) for (c = 0; c < nrhs; c++) Z[i * nrhs + c] = V[i * nrhs + c] / p->dj[i];
    return;
  }
  /* w (r, nrhs) = Lᵣᵀ·V; M⁻¹w; Z = (V − Lᵣ·w)/λ */
  for (k = 0; k < p->r * nrhs; k++) w[k] = 0;
  for (i = 0; i < p->n; i++)
    for (k = 0; k < p->r; k++) {
      double l = p->Lr[i * p->r + k];
      for (c = 0; c < nrhs; c++) w[k * nrhs + c] += l * V[i * nrhs + c];
    }
  (void)ntk_dpotrs(p->r, nrhs, p->M, p->r, w, nrhs);
  for (i = 0; i < p->n; i++)
    for (c = 0; c < nrhs; c++) {
      double s = V[i * nrhs + c];
      for (k = 0; k < p->r; k++) s -= p->Lr[i * p->r + k] * w[k * nrhs + c];
      Z[i * nrhs + c] = s / p->lambda;
    }
}

static ntk_status ntk__pcg_build(ntk__pcg *p, size_t n, const double *diag, double lambda, size_t rank,
                                 ntk_column_fn column, void *cuser) {
  size_t i, k, j;
  double *d = NULL, *col = NULL, dmax0 = 0;
  ntk_status st = NTK_OK;
  int ok = 1;
  memset(p, 0, sizeof *p);
  p->n = n, p->lambda = lambda;
  if (rank > n) rank = n;
  if (rank == 0 || lambda <= 0 || !column) {
    p->dj = (double *)NTK_MALLOC(n * sizeof(double));
    if (!p->dj) return NTK_ERR_OUT_OF_MEMORY;
    for (i = 0; i < n; i++) p->dj[i] = diag[i] + lambda > 0 ? diag[i] + lambda : 1;
    return NTK_OK;
  }
  (void)ntk__mul(ntk__mul(n, rank, &ok), sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  p->Lr = (double *)NTK_MALLOC(n * rank * sizeof(double));
  p->M = (double *)NTK_MALLOC(rank * rank * sizeof(double));
  d = (double *)NTK_MALLOC(n * sizeof(double));
  col = (double *)NTK_MALLOC(n * sizeof(double));
  if (!p->Lr || !p->M || !d || !col) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  for (i = 0; i < n; i++) d[i] = diag[i], dmax0 = d[i] > dmax0 ? d[i] : dmax0;
  for (k = 0; k < rank; k++) {
    size_t piv = 0;
    double dm = -1, s;
    for (i = 0; i < n; i++) if (d[i] > dm) dm = d[i], piv = i;
    if (!(dm > 1e-14 * dmax0)) break; /* the rest of A is below rounding: rank k suffices */
    st = column(piv, col, cuser);
    if (st != NTK_OK) goto done;
    s = 1 / sqrt(dm);
    for (i = 0; i < n; i++) { /* col[i] − Lr[i, :k]·Lr[piv, :k], four partial sums */
      const double *li = p->Lr + i * rank, *lp = p->Lr + piv * rank;
      double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (j = 0; j + 4 <= k; j += 4)
        a0 += li[j] * lp[j], a1 += li[j + 1] * lp[j + 1], a2 += li[j + 2] * lp[j + 2], a3 += li[j + 3] * lp[j + 3];
      for (; j < k; j++) a0 += li[j] * lp[j];
      p->Lr[i * rank + k] = (col[i] - ((a0 + a1) + (a2 + a3))) * s;
    }
    for (i = 0; i < n; i++) d[i] -= p->Lr[i * rank + k] * p->Lr[i * rank + k];
    d[piv] = 0;
  }
  if (k < rank) { /* compact (n, rank) → (n, k) */
    for (i = 0; i < n; i++) for (j = 0; j < k; j++) p->Lr[i * k + j] = p->Lr[i * rank + j];
  }
  p->r = k;
  if (k == 0) { /* A = 0 to rounding: Jacobi */
    NTK_FREE(p->Lr), p->Lr = NULL;
    p->dj = (double *)NTK_MALLOC(n * sizeof(double));
    if (!p->dj) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
    for (i = 0; i < n; i++) p->dj[i] = diag[i] + lambda > 0 ? diag[i] + lambda : 1;
    goto done;
  }
  st = ntk_dsyrk(NTK_LOWER, NTK_TRANS, k, n, 1.0, p->Lr, k, 0.0, p->M, k); /* LᵣᵀLᵣ */
  if (st != NTK_OK) goto done;
  for (i = 0; i < k; i++) p->M[i * k + i] += lambda;
  st = ntk_dpotrf(k, p->M, k);
done:
  NTK_FREE(d);
  NTK_FREE(col);
  return st;
}

static void ntk__pcg_free(ntk__pcg *p) {
  NTK_FREE(p->Lr), NTK_FREE(p->M), NTK_FREE(p->dj);
  memset(p, 0, sizeof *p);
}

NTKDEF ntk_status ntk_cg(size_t n, size_t nrhs, ntk_matvec_fn apply, void *user, double lambda,
                         const double *B, size_t ldb, double *X, size_t ldx, const ntk_cg_desc *desc,
                         ntk_cg_info *info) {
  ntk_cg_desc dd;
  ntk__pcg P;
  size_t i, c, it, nn, maxit;
  int ok = 1, all = 0;
  double *R = NULL, *Z = NULL, *Pd = NULL, *AP = NULL, *rz = NULL, *bn = NULL, *w = NULL, tol, worst = 0;
  ntk_status st = NTK_OK;
  if (desc) dd = *desc; else memset(&dd, 0, sizeof dd);
  if (info) memset(info, 0, sizeof *info);
  memset(&P, 0, sizeof P);
  if (!apply || !ntk__matrix_ok(B, n, nrhs, ldb) || !ntk__matrix_ok(X, n, nrhs, ldx) ||
      !(lambda >= 0) || !ntk__finite_d(lambda) || !(dd.tol >= 0) || (dd.rank > 0 && !dd.column) ||
      (n > 0 && !dd.diag))
    return NTK_ERR_INVALID_ARG;
  if (n == 0 || nrhs == 0) return NTK_OK;
  nn = ntk__mul(n, nrhs, &ok);
  (void)ntk__mul(ntk__mul(nn, 4, &ok), sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  for (i = 0; i < n; i++) {
    if (!ntk__finite_d(dd.diag[i])) return NTK_ERR_NON_FINITE;
    for (c = 0; c < nrhs; c++) if (!ntk__finite_d(B[i * ldb + c])) return NTK_ERR_NON_FINITE;
  }
  tol = dd.tol > 0 ? dd.tol : 1e-10;
  maxit = dd.max_iter ? dd.max_iter : 10 * n;
  st = ntk__pcg_build(&P, n, dd.diag, lambda, dd.rank, dd.column, dd.column_user);
  if (st != NTK_OK) goto done;
  if (info) info->rank = P.r;
  R = (double *)NTK_MALLOC(nn * sizeof(double));
  Z = (double *)NTK_MALLOC(nn * sizeof(double));
  Pd = (double *)NTK_MALLOC(nn * sizeof(double));
  AP = (double *)NTK_MALLOC(nn * sizeof(double));
  rz = (double *)NTK_MALLOC(2 * nrhs * sizeof(double));
  w = (double *)NTK_MALLOC((P.r + 1) * nrhs * sizeof(double));
  if (!R || !Z || !Pd || !AP || !rz || !w) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  bn = rz + nrhs;
  /* x₀ = 0: r = b */
  for (i = 0; i < n; i++) for (c = 0; c < nrhs; c++) X[i * ldx + c] = 0, R[i * nrhs + c] = B[i * ldb + c];
  for (c = 0; c < nrhs; c++) bn[c] = ntk__nrm2_col(R, n, nrhs, c);
  ntk__pcg_apply(&P, R, Z, nrhs, w);
  for (c = 0; c < nrhs; c++) {
    rz[c] = 0;
    for (i = 0; i < n; i++) rz[c] += R[i * nrhs + c] * Z[i * nrhs + c];
  }
  memcpy(Pd, Z, nn * sizeof(double));
  for (it = 0; it < maxit; it++) {
    worst = 0;
    for (c = 0; c < nrhs; c++) {
      double r = ntk__nrm2_col(R, n, nrhs, c), e = bn[c] > 0 ? r / bn[c] : 0;
      if (e > worst) worst = e;
    }
    if (info) info->iterations = it, info->residual = worst;
    if (dd.progress) {
      double f = worst <= tol ? 1 : worst >= 1 ? 0 : log(worst) / log(tol);
      if (dd.progress("cg", f, dd.progress_user)) { st = NTK_ERR_CANCELLED; goto done; }
    }
    if (worst <= tol) { all = 1; break; }
    st = apply(nrhs, Pd, AP, user);
    if (st != NTK_OK) goto done;
    for (c = 0; c < nrhs; c++) {
      double pap = 0, a, rzn = 0, r = ntk__nrm2_col(R, n, nrhs, c);
      if (bn[c] == 0 || r <= tol * bn[c]) continue; /* converged: frozen */
      for (i = 0; i < n; i++) AP[i * nrhs + c] += lambda * Pd[i * nrhs + c], pap += Pd[i * nrhs + c] * AP[i * nrhs + c];
      if (!(pap > 0)) { st = ntk__finite_d(pap) ? NTK_ERR_NOT_POSITIVE_DEFINITE : NTK_ERR_NON_FINITE; goto done; }
      a = rz[c] / pap;
      for (i = 0; i < n; i++) X[i * ldx + c] += a * Pd[i * nrhs + c], R[i * nrhs + c] -= a * AP[i * nrhs + c];
      (void)rzn;
    }
    ntk__pcg_apply(&P, R, Z, nrhs, w);
    for (c = 0; c < nrhs; c++) {
      double rzn = 0, beta;
      for (i = 0; i < n; i++) rzn += R[i * nrhs + c] * Z[i * nrhs + c];
      beta = rz[c] > 0 ? rzn / rz[c] : 0;
      rz[c] = rzn;
      for (i = 0; i < n; i++) Pd[i * nrhs + c] = Z[i * nrhs + c] + beta * Pd[i * nrhs + c];
    }
  }
  if (!all) { /* the last residual */
    worst = 0;
    for (c = 0; c < nrhs; c++) {
      double r = ntk__nrm2_col(R, n, nrhs, c), e = bn[c] > 0 ? r / bn[c] : 0;
      if (e > worst) worst = e;
    }
    if (info) info->iterations = it, info->residual = worst;
    all = worst <= tol;
  }
  st = all ? NTK_OK : NTK_ERR_NO_CONVERGENCE;
done:
  ntk__pcg_free(&P);
  NTK_FREE(R), NTK_FREE(Z), NTK_FREE(Pd), NTK_FREE(AP), NTK_FREE(rz), NTK_FREE(w);
  return st;
}

/* ============================================================================================
   [tridiag] implicit QL with Wilkinson-type shifts on a symmetric tridiagonal matrix.
   d (n) diagonal, e (n) with e[i] coupling i and i+1 (e[n−1] unused). On return d holds the
   eigenvalues (unsorted). If z is given, the plane rotations are applied to the columns of a
   matrix V (rows × n) whose element (r, c) sits at z[r·rs + c·cs] — V = I on entry gives the
   eigenvectors in its columns; one row gives the first components only (Golub–Welsch).
   QL is chosen for its robustness and simplicity: O(n²) for eigenvalues, and eigenvector
   accumulation that is a pair of contiguous row updates per rotation when cs ≠ 1.
   ============================================================================================ */
NTK__VEC static int ntk__tql(size_t n, double *d, double *e, double *z, size_t rows, size_t rs, size_t cs) {
  size_t l, m, i, k;
  if (n == 0) return 0;
  e[n - 1] = 0;
  for (l = 0; l < n; l++) {
    int iter = 0;
    for (;;) {
      double g, r, s, c, p, f, b;
      for (m = l; m + 1 < n; m++) {
        double dd = fabs(d[m]) + fabs(d[m + 1]);
        if (fabs(e[m]) <= DBL_EPSILON * dd) break;
      }
      if (m == l) break;
      if (iter++ == 60) return -1;
      g = (d[l + 1] - d[l]) / (2 * e[l]);
      r = hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      s = c = 1;
      p = 0;
      for (i = m; i-- > l;) {
        f = s * e[i];
        b = c * e[i];
        e[i + 1] = r = hypot(f, g);
        if (r == 0) { /* underflow: split here and restart */
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z) {
          double *zi = z + i * cs, *zj = z + (i + 1) * cs;
          for (k = 0; k < rows; k++) {
            double t = zj[k * rs];
            zj[k * rs] = s * zi[k * rs] + c * t;
            zi[k * rs] = c * zi[k * rs] - s * t;
          }
        }
        if (i == l) break;
      }
      if (r == 0 && e[m] == 0 && i > l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return 0;
}

/* ============================================================================================
   [eigen] symmetric eigendecomposition
   1. blocked Householder tridiagonalisation (LAPACK's dsytrd/dlatrd scheme): per panel of NB
      columns, each reflector is formed from its column updated on the fly and y = A·v comes
      from the panel-start matrix (the BLAS-2 half), then the trailing matrix gets the rank-2·NB
      update A −= V·Wᵀ + W·Vᵀ as two GEMMs (the other half);
   2. Cuppen's divide and conquer on the tridiagonal (chosen over QL/QR because its work is a
      GEMM per merge, O(n³) flops at GEMM speed instead of O(n³) plane rotations, and over MRRR
      for its simplicity and robustness): split with a rank-one tear, recurse, deflate small
      z components and close poles, solve the secular equation root by root relative to the
      nearer pole, Gu–Eisenstat's recomputed z for orthogonal vectors, back-multiply with GEMM;
      implicit QL (ntk__tql) for blocks ≤ 32;
   3. back-transformation by the reflectors in blocks, compact WY (I − U·T·Uᵀ) with GEMMs.
   ============================================================================================ */
#define NTK__SYTRD_NB 32
#define NTK__STEDC_SMALL 32

#if defined(NTK__BUILD_X86)
/* Four rows p..p+3 of the lower triangle, columns 0..p−1: y[0..p) += Σ_a row_a·x[p+a] and
   out[a] = row_a·x[0..p). Four rows per pass: y and x are loaded and stored once for 8 FMAs
   (row by row it is once per 2 FMAs, and the BLAS-2 half of the reduction is load-bound). */
NTK__TARGET_AVX2 static void ntk__symv4_avx2(size_t p, const double *S, size_t lds, const double *x,
                                             double *y, double *out) {
  const double *r0 = S, *r1 = S + lds, *r2 = S + 2 * lds, *r3 = S + 3 * lds;
  __m256d a0 = _mm256_set1_pd(x[p]), a1 = _mm256_set1_pd(x[p + 1]);
  __m256d a2 = _mm256_set1_pd(x[p + 2]), a3 = _mm256_set1_pd(x[p + 3]);
  __m256d c0 = _mm256_setzero_pd(), c1 = c0, c2 = c0, c3 = c0;
  double h[4];
  size_t i;
  for (i = 0; i + 4 <= p; i += 4) {
    __m256d xi = _mm256_loadu_pd(x + i), yi = _mm256_loadu_pd(y + i);
    __m256d v0 = _mm256_loadu_pd(r0 + i), v1 = _mm256_loadu_pd(r1 + i);
    __m256d v2 = _mm256_loadu_pd(r2 + i), v3 = _mm256_loadu_pd(r3 + i);
    yi = _mm256_fmadd_pd(v0, a0, yi), yi = _mm256_fmadd_pd(v1, a1, yi);
    yi = _mm256_fmadd_pd(v2, a2, yi), yi = _mm256_fmadd_pd(v3, a3, yi);
    _mm256_storeu_pd(y + i, yi);
    c0 = _mm256_fmadd_pd(v0, xi, c0), c1 = _mm256_fmadd_pd(v1, xi, c1);
    c2 = _mm256_fmadd_pd(v2, xi, c2), c3 = _mm256_fmadd_pd(v3, xi, c3);
  }
  _mm256_storeu_pd(h, c0), out[0] = (h[0] + h[1]) + (h[2] + h[3]);
  _mm256_storeu_pd(h, c1), out[1] = (h[0] + h[1]) + (h[2] + h[3]);
  _mm256_storeu_pd(h, c2), out[2] = (h[0] + h[1]) + (h[2] + h[3]);
  _mm256_storeu_pd(h, c3), out[3] = (h[0] + h[1]) + (h[2] + h[3]);
  for (; i < p; i++) {
    double xi = x[i];
    y[i] += r0[i] * x[p] + r1[i] * x[p + 1] + r2[i] * x[p + 2] + r3[i] * x[p + 3];
    out[0] += r0[i] * xi, out[1] += r1[i] * xi, out[2] += r2[i] * xi, out[3] += r3[i] * xi;
  }
}
#endif

/* y (m) = S·x for the symmetric S (m, m) given by its lower triangle (row-major, lds) */
/* Rows [p0, p1) of y += S·x for the symmetric S given by its lower triangle: row p adds a dot
   product to y[p] and an axpy to y[0..p); p0 is a multiple of 4. */
NTK__VEC static void ntk__symv_rows(size_t p0, size_t m, const double *S, size_t lds, const double *x,
                                    double *y) {
  size_t p = p0, i;
#if defined(NTK__BUILD_X86)
  if (ntk__simd_level() >= NTK_SIMD_AVX2)
    for (; p + 4 <= m; p += 4) {
      double out[4];
      size_t a, c;
      ntk__symv4_avx2(p, S + p * lds, lds, x, y, out);
      for (a = 0; a < 4; a++) { /* the 4×4 diagonal block */
        const double *row = S + (p + a) * lds + p;
        double acc = out[a] + row[a] * x[p + a];
        for (c = 0; c < a; c++) y[p + c] += row[c] * x[p + a], acc += row[c] * x[p + c];
        y[p + a] += acc;
      }
    }
#endif
  for (; p < m; p++) {
    const double *row = S + p * lds;
    double xp = x[p], s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (i = 0; i + 4 <= p; i += 4) { /* y[i] += S[p][i]·x[p] and y[p] += S[p][i]·x[i] */
      y[i] += row[i] * xp, y[i + 1] += row[i + 1] * xp, y[i + 2] += row[i + 2] * xp, y[i + 3] += row[i + 3] * xp;
      s0 += row[i] * x[i], s1 += row[i + 1] * x[i + 1], s2 += row[i + 2] * x[i + 2], s3 += row[i + 3] * x[i + 3];
    }
    for (; i < p; i++) y[i] += row[i] * xp, s0 += row[i] * x[i];
    y[p] += (s0 + s1) + (s2 + s3) + row[p] * xp;
  }
}

/* y = S·x (m), S symmetric from its lower triangle. With several threads the rows are split
   where the triangle's work halves (row m/√2); the second share accumulates into yw (m) and is
   added at the end: the product is load-bound, and two cores read the matrix twice as fast. */
static void ntk__symv_lower(size_t m, const double *S, size_t lds, const double *x, double *y,
                            double *yw) {
  size_t i, split = (size_t)((double)m * 0.7071067811865476) / 4 * 4;
  for (i = 0; i < m; i++) y[i] = 0;
#ifdef NTK__OMP
  if (yw && m >= 512 && ntk__max_threads() >= 2) {
#pragma omp parallel num_threads(2)
    {
      if (omp_get_thread_num() == 0) {
        ntk__symv_rows(0, split, S, lds, x, y);
      } else {
        size_t q;
        for (q = 0; q < m; q++) yw[q] = 0;
        ntk__symv_rows(split, m, S, lds, x, yw);
      }
    }
    for (i = 0; i < m; i++) y[i] += yw[i];
    return;
  }
#endif
  (void)yw, (void)split;
  ntk__symv_rows(0, m, S, lds, x, y);
}

/* Tridiagonalise the symmetric A (n, n) given by its lower triangle, in place (the strict upper
   triangle is neither read nor written): d (n), e (n−1), tau (n); reflector k has
   u = (1, A[k+2.., k]) on rows k+1.., H_k = I − tau_k·u·uᵀ, A = Q·T·Qᵀ, Q = H_0·H_1·⋯.
   Per panel of NB columns: the columns are copied out (contiguous, P), reduced one by one
   against the trailing matrix as it was at the panel's start plus the panel's pending rank-2j
   update (V·Wᵀ + W·Vᵀ), then written back, and the trailing lower triangle takes the whole
   rank-2·NB update as one triangle-only GEMM [V W]·[W V]ᵀ — half the flops and half the memory
   traffic of updating both triangles. */
NTK__VEC static ntk_status ntk__sytrd(size_t n, double *A, size_t lda, double *d, double *e, double *tau) {
  size_t k0, nb = NTK__SYTRD_NB, i, j, p;
  double *V = NULL, *W, *VW, *WV, *P, *y, *t1, *t2, *v, *yw;
  if (n >= 3) {
    V = (double *)NTK_MALLOC(sizeof(double) * (7 * n * nb + 3 * n + 2 * nb));
    if (!V) return NTK_ERR_OUT_OF_MEMORY;
    W = V + n * nb, VW = W + n * nb, WV = VW + 2 * n * nb, P = WV + 2 * n * nb;
    y = P + n * nb, t1 = y + n, t2 = t1 + nb, v = t2 + nb, yw = v + n;
    for (k0 = 0; k0 + 2 < n; k0 += nb) {
      size_t m = n - k0, jb = n - 2 - k0 < nb ? n - 2 - k0 : nb;
      double *Ak = A + k0 * lda + k0; /* the trailing matrix, (m, m) */
      memset(V, 0, sizeof(double) * m * nb);
      memset(W, 0, sizeof(double) * m * nb);
      for (i = 0; i < m; i++) /* P[j][i] = column j of the trailing matrix, rows i ≥ j */
        for (j = 0; j < jb && j <= i; j++) P[j * m + i] = Ak[i * lda + j];
      for (j = 0; j < jb; j++) {
        double *aj = P + j * m;
        double alpha, sig = 0, beta, t, dot;
        /* 1. bring column j up to date with the panel's earlier reflectors */
        for (i = j; i < m; i++) {
          double acc = 0;
          for (p = 0; p < j; p++) acc += V[i * nb + p] * W[j * nb + p] + W[i * nb + p] * V[j * nb + p];
          aj[i] -= acc;
        }
        /* 2. the reflector annihilating aj[j+2..] */
        alpha = aj[j + 1];
        for (i = j + 2; i < m; i++) sig += aj[i] * aj[i];
        if (sig == 0) {
          tau[k0 + j] = 0, e[k0 + j] = alpha;
          continue; /* V, W columns stay zero */
        }
        beta = -copysign(sqrt(alpha * alpha + sig), alpha);
        t = (beta - alpha) / beta;
        tau[k0 + j] = t, e[k0 + j] = beta;
        V[(j + 1) * nb + j] = 1;
        for (i = j + 2; i < m; i++) V[i * nb + j] = aj[i] / (alpha - beta);
        for (i = j + 1; i < m; i++) v[i] = V[i * nb + j];
        for (i = j + 2; i < m; i++) aj[i] = V[i * nb + j]; /* keep u below the subdiagonal */
        /* 3. y = A_panel-start[j+1:, j+1:]·v from its lower triangle only (half the memory
           traffic of the BLAS-2 half): row p contributes a dot product to y[p] and an axpy to
           y[j+1..p). Columns < jb of it are still at the panel's start: P holds the updates. */
        ntk__symv_lower(m - j - 1, Ak + (j + 1) * lda + j + 1, lda, v + j + 1, y + j + 1, yw);
        /* minus the panel's pending update (V·Wᵀ + W·Vᵀ)·v */
        for (p = 0; p < j; p++) {
          double s1 = 0, s2 = 0;
          for (i = j + 1; i < m; i++) s1 += W[i * nb + p] * V[i * nb + j], s2 += V[i * nb + p] * V[i * nb + j];
          t1[p] = s1, t2[p] = s2;
        }
        for (i = j + 1; i < m; i++) {
          double acc = 0;
          for (p = 0; p < j; p++) acc += V[i * nb + p] * t1[p] + W[i * nb + p] * t2[p];
          y[i] = t * (y[i] - acc);
        }
        dot = 0;
        for (i = j + 1; i < m; i++) dot += y[i] * V[i * nb + j];
        for (i = j + 1; i < m; i++) W[i * nb + j] = y[i] - 0.5 * t * dot * V[i * nb + j];
      }
      for (i = 0; i < m; i++) /* the panel's columns back: diagonal, subdiagonal, reflectors */
        for (j = 0; j < jb && j <= i; j++) Ak[i * lda + j] = P[j * m + i];
      /* rows jb.. of the panel's V, W update the trailing lower triangle: −[V W]·[W V]ᵀ */
      if (m > jb) {
        size_t mm = m - jb;
        double *A2 = Ak + jb * lda + jb;
        ntk_status st;
        for (i = 0; i < mm; i++)
          for (p = 0; p < jb; p++) {
            double vv = V[(jb + i) * nb + p], ww = W[(jb + i) * nb + p];
            VW[i * 2 * jb + p] = vv, VW[i * 2 * jb + jb + p] = ww;
            WV[i * 2 * jb + p] = ww, WV[i * 2 * jb + jb + p] = vv;
          }
        st = ntk__gemm(&ntk__types_d, ntk__simd_level(), ntk__use_direct(mm, mm, 2 * jb), 1, 0, 1,
                       mm, mm, 2 * jb, -1.0, VW, 2 * jb, WV, 2 * jb, 1.0, A2, lda);
        if (st != NTK_OK) {
          NTK_FREE(V);
          return st;
        }
      }
    }
    NTK_FREE(V);
  }
  for (i = 0; i < n; i++) d[i] = A[i * lda + i];
  if (n >= 2) e[n - 2] = A[(n - 1) * lda + n - 2];
  if (n >= 1) tau[n - 1] = 0;
  if (n >= 2) tau[n - 2] = 0;
  return NTK_OK;
}

/* X (n, ncol) ← Q·X with Q = H_0⋯H_{n−3} from ntk__sytrd, NTK__ORMTR_NB reflectors at a time
   as I − U·T·Uᵀ (compact WY, T upper triangular), independent of the reduction's panel width:
   each block is one pass of three GEMMs over X, so wider blocks mean fewer trips through memory
   for an X that does not fit in cache and deeper products; T takes UᵀU from one more GEMM. */
#define NTK__ORMTR_NB 128
NTK__VEC static ntk_status ntk__ormtr(size_t n, const double *A, size_t lda, const double *tau, double *X,
                             size_t ldx, size_t ncol) {
  size_t nb = NTK__ORMTR_NB, nref = n >= 2 ? n - 2 : 0, b0, i, j, p;
  double *U, *T, *S, *Y, *Z;
  ntk_status st = NTK_OK;
  if (nref == 0) return NTK_OK;
  U = (double *)NTK_MALLOC(sizeof(double) * (n * nb + 2 * nb * nb + 2 * nb * ncol));
  if (!U) return NTK_ERR_OUT_OF_MEMORY;
  T = U + n * nb, S = T + nb * nb, Y = S + nb * nb, Z = Y + nb * ncol;
  for (b0 = (nref - 1) / nb * nb;; b0 -= nb) {
    size_t bs = nref - b0 < nb ? nref - b0 : nb, r0 = b0 + 1, m = n - r0;
    /* U (m, bs): column c is reflector b0+c on rows r0.. (unit at row b0+c+1) */
    for (i = 0; i < m; i++)
      for (j = 0; j < bs; j++) {
        size_t gi = r0 + i, k = b0 + j;
        U[i * bs + j] = gi < k + 1 ? 0 : gi == k + 1 ? 1 : A[gi * lda + k];
      }
    /* T: T[j][j] = τ_j, T[0:j, j] = −τ_j·T[0:j, 0:j]·S[0:j, j], S = UᵀU (one GEMM) */
    if ((st = ntk_dgemm(NTK_TRANS, NTK_NO_TRANS, bs, bs, m, 1.0, U, bs, U, bs, 0.0, S, bs)) != NTK_OK) break;
    for (j = 0; j < bs; j++) {
      double tj = tau[b0 + j];
      for (p = 0; p < j; p++) {
        double acc = 0;
        size_t q;
        for (q = p; q < j; q++) acc += T[p * nb + q] * S[q * bs + j];
        T[p * nb + j] = -tj * acc;
      }
      T[j * nb + j] = tj;
      for (p = j + 1; p < bs; p++) T[p * nb + j] = 0;
    }
    /* X[r0:, :] −= U·(T·(Uᵀ·X[r0:, :])) */
    if ((st = ntk_dgemm(NTK_TRANS, NTK_NO_TRANS, bs, ncol, m, 1.0, U, bs, X + r0 * ldx, ldx, 0.0, Y, ncol)) != NTK_OK ||
        (st = ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, bs, ncol, bs, 1.0, T, nb, Y, ncol, 0.0, Z, ncol)) != NTK_OK ||
        (st = ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, m, ncol, bs, -1.0, U, bs, Z, ncol, 1.0, X + r0 * ldx, ldx)) != NTK_OK)
      break;
    if (b0 == 0) break;
  }
  NTK_FREE(U);
  return st;
}

/* sort eigenvalues ascending, permuting the columns of Q (n, n, ldq); work: n² + n doubles */
static void ntk__eig_sort(size_t n, double *d, double *Q, size_t ldq, double *work, size_t *perm) {
  size_t i, j;
  for (i = 0; i < n; i++) perm[i] = i;
  /* insertion sort on the permutation (n ≤ a few thousand, mostly sorted already) */
  for (i = 1; i < n; i++) {
    size_t v = perm[i];
    j = i;
    while (j > 0 && d[perm[j - 1]] > d[v]) perm[j] = perm[j - 1], j--;
    perm[j] = v;
  }
  if (Q) {
    for (i = 0; i < n; i++)
      for (j = 0; j < n; j++) work[i * n + j] = Q[i * ldq + perm[j]];
    for (i = 0; i < n; i++) memcpy(Q + i * ldq, work + i * n, n * sizeof(double));
  }
  for (i = 0; i < n; i++) work[i] = d[perm[i]];
  memcpy(d, work, n * sizeof(double));
}

/* One root of 1 + ρ·Σ z_j²/(δ_j − τ) = 0 for τ in (lo, hi), δ_j = d_j − d_origin; f increases
   on the interval. Bracketed Newton with bisection fallback, in τ relative to the origin pole. */
NTK__VEC static double ntk__secular_root(size_t k, const double *delta, const double *z2, double rho,
                                double lo, double hi) {
  double x = 0.5 * (lo + hi);
  int it;
  for (it = 0; it < 200; it++) {
    double f = 1, df = 0, nx;
    size_t j;
    for (j = 0; j < k; j++) {
      double t = 1 / (delta[j] - x), q = z2[j] * t;
      f += rho * q;
      df += rho * q * t;
    }
    if (f == 0) return x;
    if (f < 0) lo = x; else hi = x;
    nx = x - f / df;
    if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
    if (fabs(nx - x) <= 2 * DBL_EPSILON * fabs(nx) || hi - lo <= 2 * DBL_EPSILON * (fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi)))
      return nx;
    x = nx;
  }
  return x;
}

/* Divide and conquer: eigenvalues of the tridiagonal (d, e) into d (unsorted on return from the
   recursion, sorted at the top), eigenvectors into the columns of Q (n, n, ldq). */
NTK__VEC static ntk_status ntk__stedc(size_t n, double *d, double *e, double *Q, size_t ldq) {
  size_t m, i, j, k;
  double rho, beta, znorm = 0, dmax = 0, tol;
  double *z, *dd, *work, *Qp, *U, *z2, *lam_tau, *zh;
  size_t *perm, *orig, *iw;
  ntk_status st = NTK_OK;
  if (n <= NTK__STEDC_SMALL) {
    for (i = 0; i < n; i++)
      for (j = 0; j < n; j++) Q[i * ldq + j] = i == j;
    if (ntk__tql(n, d, e, Q, n, ldq, 1) != 0) return NTK_ERR_NO_CONVERGENCE;
    return NTK_OK;
  }
  m = n / 2;
  beta = e[m - 1];
  rho = fabs(beta);
  d[m - 1] -= rho, d[m] -= rho;
  if ((st = ntk__stedc(m, d, e, Q, ldq)) != NTK_OK) return st;
  if ((st = ntk__stedc(n - m, d + m, e + m, Q + m * ldq + m, ldq)) != NTK_OK) return st;
  for (i = 0; i < m; i++) memset(Q + i * ldq + m, 0, (n - m) * sizeof(double));
  for (i = m; i < n; i++) memset(Q + i * ldq, 0, m * sizeof(double));
  if (rho == 0) return NTK_OK; /* already decoupled */
  /* workspace */
  work = (double *)NTK_MALLOC(sizeof(double) * (2 * n * n + 8 * n));
  perm = (size_t *)NTK_MALLOC(sizeof(size_t) * 3 * n);
  if (!work || !perm) { NTK_FREE(work); NTK_FREE(perm); return NTK_ERR_OUT_OF_MEMORY; }
  Qp = work, U = Qp + n * n, z = U + n * n, dd = z + n, z2 = dd + n, lam_tau = z2 + 2 * n, zh = lam_tau + n;
  orig = perm + n, iw = orig + n;
  /* z = Qᵀ·w, w = e_{m−1} + sign(β)·e_m: the last row of Q1 and ± the first row of Q2 */
  for (j = 0; j < m; j++) z[j] = Q[(m - 1) * ldq + j];
  for (j = m; j < n; j++) z[j] = (beta < 0 ? -1 : 1) * Q[m * ldq + j];
  for (j = 0; j < n; j++) znorm += z[j] * z[j];
  rho *= znorm; /* ‖w‖² = 2 here; z normalised below */
  znorm = sqrt(znorm);
  for (j = 0; j < n; j++) z[j] /= znorm;
  /* sort the poles ascending (perm: sorted position → column of Q) */
  for (j = 0; j < n; j++) perm[j] = j;
  for (i = 1; i < n; i++) {
    size_t v = perm[i];
    j = i;
    while (j > 0 && d[perm[j - 1]] > d[v]) perm[j] = perm[j - 1], j--;
    perm[j] = v;
  }
  /* Qp: the columns of Q in sorted order; dd, z likewise */
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) Qp[i * n + j] = Q[i * ldq + perm[j]];
  for (j = 0; j < n; j++) dd[j] = d[perm[j]], z2[j] = z[perm[j]];
  memcpy(z, z2, n * sizeof(double));
  for (j = 0; j < n; j++) dmax = fabs(dd[j]) > dmax ? fabs(dd[j]) : dmax;
  tol = 8.0 * DBL_EPSILON * (dmax > rho ? dmax : rho);
  /* deflation: small z, then close poles by a Givens rotation (orig[j]: 1 = kept) */
  {
    size_t last = (size_t)-1;
    for (j = 0; j < n; j++) {
      orig[j] = 0;
      if (rho * fabs(z[j]) <= tol) continue; /* deflated: eigenpair (dd[j], Qp[:, j]) */
      if (last != (size_t)-1) {
        double r = hypot(z[last], z[j]), c = z[j] / r, s = -z[last] / r, t = dd[j] - dd[last];
        if (fabs(t * c * s) <= tol) { /* rotate columns last, j; deflate `last` */
          double dl = dd[last] * c * c + dd[j] * s * s, dj = dd[last] * s * s + dd[j] * c * c;
          for (i = 0; i < n; i++) {
            double ql = Qp[i * n + last], qj = Qp[i * n + j];
            Qp[i * n + last] = c * ql + s * qj;
            Qp[i * n + j] = -s * ql + c * qj;
          }
          z[j] = r, z[last] = 0;
          dd[last] = dl, dd[j] = dj;
          orig[last] = 0;
        }
      }
      orig[j] = 1;
      last = j;
    }
  }
  /* the non-deflated problem: k poles (ascending: rotations keep the order up to rounding) */
  for (j = 0, k = 0; j < n; j++)
    if (orig[j]) iw[k++] = j;
  if (k > 0) {
    double *zk = z2, *dkk = (double *)NTK_MALLOC(sizeof(double) * 3 * k); /* zk reuses z2 */
    size_t *org = (size_t *)NTK_MALLOC(sizeof(size_t) * k);
    if (!dkk || !org) { NTK_FREE(dkk); NTK_FREE(org); NTK_FREE(work); NTK_FREE(perm); return NTK_ERR_OUT_OF_MEMORY; }
    {
      double *dl = dkk, *z2k = dkk + k, *del = dkk + 2 * k, zn = 0;
      for (i = 0; i < k; i++) dl[i] = dd[iw[i]], zk[i] = z[iw[i]], zn += zk[i] * zk[i];
      /* keep ‖z‖ = 1 over the kept set (deflation removed tiny components) */
      {
        double rk = rho * zn, sn = sqrt(zn);
        for (i = 0; i < k; i++) zk[i] /= sn, z2k[i] = zk[i] * zk[i];
        /* roots */
        for (i = 0; i < k; i++) {
          double lo, hi, root;
          size_t o = i;
          if (i + 1 < k) {
            double gap = dl[i + 1] - dl[i], mid = 0.5 * gap, f = 1;
            size_t q;
            for (q = 0; q < k; q++) f += rk * z2k[q] / ((dl[q] - dl[i]) - mid);
            if (f >= 0) o = i, lo = 0, hi = mid;
            else o = i + 1, lo = -mid, hi = 0;
          } else {
            o = i, lo = 0, hi = rk;
          }
          for (j = 0; j < k; j++) del[j] = dl[j] - dl[o];
          root = ntk__secular_root(k, del, z2k, rk, lo, hi);
          lam_tau[i] = root, org[i] = o;
        }
        /* Gu–Eisenstat: ẑ_i² = Π_j (λ_j − d_i) / (rk·Π_{j≠i} (d_j − d_i)), λ_j − d_i computed
           as (d_{o_j} − d_i) + τ_j */
        for (i = 0; i < k; i++) {
          double prod = ((dl[org[k - 1]] - dl[i]) + lam_tau[k - 1]) / rk;
          for (j = 0; j + 1 < k; j++) {
            double lj = (dl[org[j]] - dl[i]) + lam_tau[j];
            prod *= j < i ? lj / (dl[j] - dl[i]) : lj / (dl[j + 1] - dl[i]);
          }
          zh[i] = copysign(sqrt(prod > 0 ? prod : 0), zk[i]);
        }
        /* eigenvectors of D + rk·ẑẑᵀ: U (k, k), column j ∝ ẑ_i/(d_i − λ_j) */
        for (j = 0; j < k; j++) {
          double nrm = 0;
          for (i = 0; i < k; i++) {
            double den = (dl[i] - dl[org[j]]) - lam_tau[j];
            double v = zh[i] / den;
            U[i * k + j] = v;
            nrm += v * v;
          }
          nrm = 1 / sqrt(nrm);
          for (i = 0; i < k; i++) U[i * k + j] *= nrm;
        }
        for (j = 0; j < k; j++) d[j] = dl[org[j]] + lam_tau[j];
      }
    }
    /* Q[:, 0:k] = Qp[:, kept]·U. A kept column from Q1 is zero below row m, one from Q2 zero
       above (unless a deflation rotation mixed the two): the top rows need only the Q1 and mixed
       columns, the bottom rows only the Q2 and mixed ones — two GEMMs of about half the flops
       (LAPACK's dlaed3 does the same). */
    {
      double *Qk = (double *)NTK_MALLOC(sizeof(double) * (n * k + k * k));
      double *Uk = Qk + n * k;
      size_t half, rows0, nrow, c, r;
      if (!Qk) { NTK_FREE(dkk); NTK_FREE(org); NTK_FREE(work); NTK_FREE(perm); return NTK_ERR_OUT_OF_MEMORY; }
      for (half = 0; half < 2; half++) {
        rows0 = half ? m : 0, nrow = half ? n - m : m;
        for (j = 0, c = 0; j < k; j++) {
          size_t col = iw[j];
          int used = 0;
          for (r = rows0; r < rows0 + nrow && !used; r++) used = Qp[r * n + col] != 0;
          if (!used) continue;
          for (r = 0; r < nrow; r++) Qk[r * k + c] = Qp[(rows0 + r) * n + col];
          memcpy(Uk + c * k, U + j * k, k * sizeof(double));
          c++;
        }
        if (c) {
          if ((st = ntk_dgemm(NTK_NO_TRANS, NTK_NO_TRANS, nrow, k, c, 1.0, Qk, k, Uk, k, 0.0, Q + rows0 * ldq, ldq)) != NTK_OK) break;
        } else for (r = 0; r < nrow; r++) memset(Q + (rows0 + r) * ldq, 0, k * sizeof(double));
      }
      NTK_FREE(Qk);
    }
    NTK_FREE(dkk);
    NTK_FREE(org);
    if (st != NTK_OK) {
      NTK_FREE(work);
      NTK_FREE(perm);
      return st;
    }
  }
  /* deflated pairs after the kept ones */
  for (j = 0, i = k; j < n; j++)
    if (!orig[j]) {
      size_t r;
      d[i] = dd[j];
      for (r = 0; r < n; r++) Q[r * ldq + i] = Qp[r * n + j];
      i++;
    }
  NTK_FREE(work);
  NTK_FREE(perm);
  return NTK_OK;
}

NTKDEF ntk_status ntk_dsyev_ex(size_t n, double *A, size_t lda, double *w, int vectors) {
  size_t i, j;
  double *e, *tau, *V = NULL, *work = NULL, anrm = 0;
  size_t *perm = NULL;
  ntk_status st;
  int ok = 1, sc = 0;
  if (!ntk__matrix_ok(A, n, n, lda) || (n > 0 && !w)) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__add(ntk__mul(ntk__mul(n, n, &ok), 2, &ok), n, &ok), sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (n == 0) return NTK_OK;
  for (i = 0; i < n; i++)
    for (j = 0; j <= i; j++) {
      double a = fabs(A[i * lda + j]);
      if (!ntk__finite(a)) return NTK_ERR_NON_FINITE;
      anrm = a > anrm ? a : anrm;
    }
  /* Outside [2^-450, 2^450] the squares and products of the reduction and the secular
     equation under- or overflow (sums of squares of 1e-160 entries are 0, of 1e160 entries
     inf): scale the triangle by 2^sc so that its largest entry is in [1, 2) — exact, a power
     of two — and the eigenvalues back by 2^-sc at the end (as LAPACK's dsyev, which scales by
     a non-power of two). The eigenvectors do not change. */
  if (anrm > 0 && (ilogb(anrm) < -450 || ilogb(anrm) > 450)) {
    sc = -ilogb(anrm);
    for (i = 0; i < n; i++)
      for (j = 0; j <= i; j++) A[i * lda + j] = ldexp(A[i * lda + j], sc);
  }
  e = (double *)NTK_MALLOC(sizeof(double) * 2 * n);
  if (!e) return NTK_ERR_OUT_OF_MEMORY;
  tau = e + n;
  if ((st = ntk__sytrd(n, A, lda, w, e, tau)) != NTK_OK) goto out;
  if (!vectors) {
    if (ntk__tql(n, w, e, NULL, 0, 0, 0) != 0) { st = NTK_ERR_NO_CONVERGENCE; goto out; }
    for (i = 1; i < n; i++) { /* insertion sort */
      double v = w[i];
      j = i;
      while (j > 0 && w[j - 1] > v) w[j] = w[j - 1], j--;
      w[j] = v;
    }
    goto scale;
  }
  V = (double *)NTK_MALLOC(sizeof(double) * (2 * n * n + n));
  perm = (size_t *)NTK_MALLOC(sizeof(size_t) * n);
  if (!V || !perm) { st = NTK_ERR_OUT_OF_MEMORY; goto out; }
  work = V + n * n;
  if ((st = ntk__stedc(n, w, e, V, n)) != NTK_OK) goto out;
  ntk__eig_sort(n, w, V, n, work, perm);
  if ((st = ntk__ormtr(n, A, lda, tau, V, n, n)) != NTK_OK) goto out;
  for (i = 0; i < n; i++) memcpy(A + i * lda, V + i * n, n * sizeof(double));
scale:
  /* eigenvalues of a matrix near DBL_MAX can exceed it (|λ| ≤ n·max|a_ij|): not representable */
  for (i = 0; i < n; i++) {
    if (sc) w[i] = ldexp(w[i], -sc);
    if (!ntk__finite(w[i])) st = NTK_ERR_NON_FINITE;
  }
out:
  NTK_FREE(V);
  NTK_FREE(perm);
  NTK_FREE(e);
  return st;
}
NTKDEF ntk_status ntk_dsyev(size_t n, double *A, size_t lda, double *w) {
  return ntk_dsyev_ex(n, A, lda, w, 1);
}
/* float: solved in double (the tridiagonal QL is double only) and rounded back */
NTKDEF ntk_status ntk_ssyev(size_t n, float *A, size_t lda, float *w) {
  size_t i, j;
  int ok = 1;
  double *Ad, *wd;
  ntk_status st;
  if (!ntk__matrix_ok(A, n, n, lda) || (n > 0 && !w)) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n, n + 1, &ok), sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (n == 0) return NTK_OK;
  Ad = (double *)NTK_MALLOC(sizeof(double) * n * (n + 1));
  if (!Ad) return NTK_ERR_OUT_OF_MEMORY;
  wd = Ad + n * n;
  for (i = 0; i < n; i++)
    for (j = 0; j <= i; j++) Ad[i * n + j] = A[i * lda + j];
  st = ntk_dsyev(n, Ad, n, wd);
  for (i = 0; i < n && st == NTK_OK; i++) /* an eigenvalue beyond FLT_MAX is not representable */
    if (!ntk__finite_s((float)wd[i])) st = NTK_ERR_NON_FINITE;
  if (st == NTK_OK) {
    for (i = 0; i < n; i++) {
      w[i] = (float)wd[i];
      for (j = 0; j < n; j++) A[i * lda + j] = (float)Ad[i * n + j];
    }
  }
  NTK_FREE(Ad);
  return st;
}

/* ============================================================================================
   [real] the pipeline's element type and its math
   ============================================================================================ */
#ifdef NTK_REAL_FLOAT
#define NTK__SQRT sqrtf
#define NTK__EXP expf
#define NTK__COS cosf
#define NTK__TANH tanhf
#define NTK__GEMM ntk_sgemm
#define NTK__SYRK ntk_ssyrk
#define NTK__EPS FLT_EPSILON
#else
#define NTK__SQRT sqrt
#define NTK__EXP exp
#define NTK__COS cos
#define NTK__TANH tanh
#define NTK__GEMM ntk_dgemm
#define NTK__SYRK ntk_dsyrk
#define NTK__EPS DBL_EPSILON
#endif
#define NTK__PI 3.14159265358979323846


/* asin(t) = t·P(t²) on [0, 1/2]: P is the Chebyshev interpolant of asin(√z)/√z on z ∈ [0, 1/4]
   (computed at 40 digits with mpmath.chebyfit), 13 terms for double, 6 for float. Measured on
   20000 points against mpmath: max relative error 2.3e-16 (double), 6.7e-8 (float), i.e. about
   one rounding. Half the terms of the Taylor series, branch-free, evaluated by Estrin's scheme
   so the dependency chain is 5 FMAs deep (the AVX2 dual below uses the same order). */
static const double ntk__asin_coef[13] = {
    1.0, 0.16666666666664942, 0.07500000000385201, 0.044642856805998936, 0.03038195969768514,
    0.022371749733164054, 0.01735977964134998, 0.01388484282640208, 0.012170138592391726,
    0.0065293020047365695, 0.019513468251252167, -0.016187392271599134, 0.03187962140081284};
static const float ntk__asin_coef_f[6] = {1.0f, 0.16666781902313232f, 0.07494696974754333f,
                                          0.045520637184381485f, 0.023993998765945435f,
                                          0.04241737350821495f};
static NTK__INLINE ntk_real ntk__asin_small(ntk_real t) {
  ntk_real z = t * t;
#ifdef NTK_REAL_FLOAT
  const float *a = ntk__asin_coef_f;
  ntk_real z2 = z * z;
  return t * ((a[0] + a[1] * z) + z2 * ((a[2] + a[3] * z) + z2 * (a[4] + a[5] * z)));
#else
  const double *a = ntk__asin_coef;
  ntk_real z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
  ntk_real p03 = (a[0] + a[1] * z) + z2 * (a[2] + a[3] * z);
  ntk_real p47 = (a[4] + a[5] * z) + z2 * (a[6] + a[7] * z);
  ntk_real p8c = ((a[8] + a[9] * z) + z2 * (a[10] + a[11] * z)) + z4 * a[12];
  return t * ((p03 + z4 * p47) + z8 * p8c);
#endif
}
/* acos on [−1, 1] with full relative accuracy near ±1 (θ small): 2·asin(√((1−|x|)/2)) there.
   The _om forms take om = 1 − |x| computed by the caller without cancellation (erf, GELU:
   |x| → 1 at large variances, where 1 − |x| from the rounded x would be all error). */
NTK__NO_ERRNO static NTK__INLINE ntk_real ntk__acos_om(ntk_real x, ntk_real om) {
  ntk_real ax = x < 0 ? -x : x;
  int big = ax > (ntk_real)0.5;
  ntk_real t = big ? NTK__SQRT(om * (ntk_real)0.5) : ax;
  ntk_real p = ntk__asin_small(t);
  ntk_real th = big ? 2 * p : (ntk_real)(NTK__PI / 2) - p;
  return x < 0 ? (ntk_real)NTK__PI - th : th;
}
NTK__NO_ERRNO static NTK__INLINE ntk_real ntk__acos(ntk_real x) {
  return ntk__acos_om(x, (ntk_real)1 - (x < 0 ? -x : x));
}
/* asin with full relative accuracy at both ends (π/2 − acos(x) would lose it for small x:
   asin(1e-300) came out 0) */
NTK__NO_ERRNO static NTK__INLINE ntk_real ntk__asin_om(ntk_real x, ntk_real om) {
  ntk_real ax = x < 0 ? -x : x;
  int big = ax > (ntk_real)0.5;
  ntk_real t = big ? NTK__SQRT(om * (ntk_real)0.5) : ax;
  ntk_real p = ntk__asin_small(t);
  ntk_real r = big ? (ntk_real)(NTK__PI / 2) - 2 * p : p;
  return x < 0 ? -r : r;
}
NTK__NO_ERRNO static NTK__INLINE ntk_real ntk__asin(ntk_real x) {
  return ntk__asin_om(x, (ntk_real)1 - (x < 0 ? -x : x));
}
static NTK__INLINE ntk_real ntk__clip1(ntk_real x) { return x > 1 ? 1 : x < -1 ? -1 : x; }

/* ============================================================================================
   [layers]
   ============================================================================================ */
static ntk_layer ntk__layer(ntk_layer_kind kind) {
  ntk_layer l;
  memset(&l, 0, sizeof l);
  l.kind = kind;
  return l;
}
NTKDEF ntk_layer ntk_dense(size_t width, double w_std, double b_std) {
  ntk_layer l = ntk__layer(NTK_LAYER_DENSE);
  l.width = width, l.w_std = w_std, l.b_std = b_std, l.param = NTK_PARAM_NTK;
  return l;
}
NTKDEF ntk_layer ntk_dense_standard(size_t width, double w_std, double b_std) {
  ntk_layer l = ntk_dense(width, w_std, b_std);
  l.param = NTK_PARAM_STANDARD;
  return l;
}
NTKDEF ntk_layer ntk_identity(void) { return ntk__layer(NTK_LAYER_IDENTITY); }
NTKDEF ntk_layer ntk_abrelu(double a, double b) {
  ntk_layer l = ntk__layer(NTK_LAYER_ABRELU);
  l.a = a, l.b = b;
  return l;
}
NTKDEF ntk_layer ntk_relu(void) { return ntk_abrelu(0, 1); }
NTKDEF ntk_layer ntk_leaky_relu(double alpha) { return ntk_abrelu(alpha, 1); }
NTKDEF ntk_layer ntk_abs(void) { return ntk_abrelu(-1, 1); }
NTKDEF ntk_layer ntk_erf_scaled(double a, double b, double c) {
  ntk_layer l = ntk__layer(NTK_LAYER_ERF);
  l.a = a, l.b = b, l.c = c;
  return l;
}
NTKDEF ntk_layer ntk_erf(void) { return ntk_erf_scaled(1, 1, 0); }
NTKDEF ntk_layer ntk_gelu(void) { return ntk__layer(NTK_LAYER_GELU); }
NTKDEF ntk_layer ntk_sin_scaled(double a, double b, double c) {
  ntk_layer l = ntk__layer(NTK_LAYER_SIN);
  l.a = a, l.b = b, l.c = c;
  return l;
}
NTKDEF ntk_layer ntk_sin(void) { return ntk_sin_scaled(1, 1, 0); }
NTKDEF ntk_layer ntk_cos(void) { return ntk_sin_scaled(1, 1, NTK__PI / 2); }
NTKDEF ntk_layer ntk_sign(void) { return ntk__layer(NTK_LAYER_SIGN); }
NTKDEF ntk_layer ntk_rbf(double gamma) {
  ntk_layer l = ntk__layer(NTK_LAYER_RBF);
  l.a = gamma;
  return l;
}
NTKDEF ntk_layer ntk_exp(double a, double b) {
  ntk_layer l = ntk__layer(NTK_LAYER_EXP);
  l.a = a, l.b = b;
  return l;
}
static double ntk__tanh_f(double x, void *u) { (void)u; return tanh(x); }
static double ntk__tanh_df(double x, void *u) { double t = tanh(x); (void)u; return 1 - t * t; }
static double ntk__softplus_f(double x, void *u) {
  (void)u;
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}
static double ntk__softplus_df(double x, void *u) {
  (void)u;
  return x > 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}
NTKDEF ntk_layer ntk_tanh(void) {
  ntk_layer l = ntk__layer(NTK_LAYER_TANH);
  l.f = ntk__tanh_f, l.df = ntk__tanh_df;
  return l;
}
NTKDEF ntk_layer ntk_softplus(void) {
  ntk_layer l = ntk__layer(NTK_LAYER_SOFTPLUS);
  l.f = ntk__softplus_f, l.df = ntk__softplus_df;
  return l;
}
NTKDEF ntk_layer ntk_custom(double (*f)(double, void *), double (*df)(double, void *), void *user) {
  ntk_layer l = ntk__layer(NTK_LAYER_CUSTOM);
  l.f = f, l.df = df, l.user = user;
  return l;
}
NTKDEF ntk_layer ntk_input(size_t h, size_t w, size_t c) {
  ntk_layer l = ntk__layer(NTK_LAYER_INPUT);
  l.shape[0] = h, l.shape[1] = w, l.shape[2] = c;
  return l;
}
NTKDEF ntk_layer ntk_conv(size_t channels, size_t fh, size_t fw, size_t sh, size_t sw,
                          ntk_padding padding, double w_std, double b_std) {
  ntk_layer l = ntk__layer(NTK_LAYER_CONV);
  l.width = channels, l.shape[0] = fh, l.shape[1] = fw, l.stride[0] = sh, l.stride[1] = sw;
  l.padding = padding, l.w_std = w_std, l.b_std = b_std, l.param = NTK_PARAM_NTK;
  return l;
}
NTKDEF ntk_layer ntk_conv_standard(size_t channels, size_t fh, size_t fw, size_t sh, size_t sw,
                                   ntk_padding padding, double w_std, double b_std) {
  ntk_layer l = ntk_conv(channels, fh, fw, sh, sw, padding, w_std, b_std);
  l.param = NTK_PARAM_STANDARD;
  return l;
}
static ntk_layer ntk__pool(ntk_layer_kind kind, size_t ph, size_t pw, size_t sh, size_t sw,
                           ntk_padding padding) {
  ntk_layer l = ntk__layer(kind);
  l.shape[0] = ph, l.shape[1] = pw, l.stride[0] = sh, l.stride[1] = sw, l.padding = padding;
  return l;
}
NTKDEF ntk_layer ntk_avg_pool(size_t ph, size_t pw, size_t sh, size_t sw, ntk_padding padding,
                              int normalize_edges) {
  ntk_layer l = ntk__pool(NTK_LAYER_AVG_POOL, ph, pw, sh, sw, padding);
  l.flags = normalize_edges ? NTK_POOL_NORMALIZE_EDGES : 0;
  return l;
}
NTKDEF ntk_layer ntk_sum_pool(size_t ph, size_t pw, size_t sh, size_t sw, ntk_padding padding) {
  return ntk__pool(NTK_LAYER_SUM_POOL, ph, pw, sh, sw, padding);
}
NTKDEF ntk_layer ntk_global_avg_pool(void) { return ntk__layer(NTK_LAYER_GLOBAL_AVG_POOL); }
NTKDEF ntk_layer ntk_global_sum_pool(void) { return ntk__layer(NTK_LAYER_GLOBAL_SUM_POOL); }
NTKDEF ntk_layer ntk_flatten(void) { return ntk__layer(NTK_LAYER_FLATTEN); }
NTKDEF ntk_layer ntk_layer_norm(int axes, double eps) {
  ntk_layer l = ntk__layer(NTK_LAYER_LAYER_NORM);
  l.flags = axes, l.eps = eps;
  return l;
}
NTKDEF ntk_layer ntk_fanout(size_t branches) {
  ntk_layer l = ntk__layer(NTK_LAYER_FANOUT);
  l.n = branches;
  return l;
}
NTKDEF ntk_layer ntk_branch(void) { return ntk__layer(NTK_LAYER_BRANCH); }
NTKDEF ntk_layer ntk_fanin_sum(void) { return ntk__layer(NTK_LAYER_FANIN_SUM); }
NTKDEF ntk_layer ntk_fanin_concat(void) { return ntk__layer(NTK_LAYER_FANIN_CONCAT); }

NTKDEF size_t ntk_mlp(ntk_layer *out, size_t cap, size_t depth, size_t width, ntk_layer act,
                      double w_std, double b_std, size_t outputs) {
  size_t i, n = 2 * depth + 1;
  if (!out || cap < n || depth > ((size_t)-1 - 1) / 2) return 0;
  for (i = 0; i < depth; i++) {
    out[2 * i] = ntk_dense(width, w_std, b_std);
    out[2 * i + 1] = act;
  }
  out[2 * depth] = ntk_dense(outputs, w_std, b_std);
  return n;
}

/* Per-kind properties, one row per kind in enum order (index kind − NTK_LAYER_DENSE). */
#define NTK__K_ACT 1     /* elementwise: runs through ntk__dual; needs a Gaussian input unless LINEAR */
#define NTK__K_PARAMS 2  /* has parameters (W, then b) */
#define NTK__K_LINEAR 4  /* linear in its input: may follow anything, keeps Gaussianity */
#define NTK__K_SPATIAL 8 /* needs or produces spatial structure (the MLP driver cannot run it) */
#define NTK__K_STRUCT 16 /* branch structure: FANOUT, BRANCH, FANIN_* */
static const unsigned char ntk__kind_props[] = {
    NTK__K_PARAMS,                  /* DENSE */
    NTK__K_ACT | NTK__K_LINEAR,     /* IDENTITY (stax.Identity: no requirement on its input) */
    NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, /* ABRELU … EXP */
    NTK__K_ACT, NTK__K_ACT, NTK__K_ACT, /* TANH, SOFTPLUS, CUSTOM */
    NTK__K_SPATIAL,                 /* INPUT */
    NTK__K_SPATIAL | NTK__K_PARAMS, /* CONV */
    NTK__K_SPATIAL | NTK__K_LINEAR, NTK__K_SPATIAL | NTK__K_LINEAR, /* AVG_POOL, SUM_POOL */
    NTK__K_SPATIAL | NTK__K_LINEAR, NTK__K_SPATIAL | NTK__K_LINEAR, /* GLOBAL_AVG/SUM_POOL */
    NTK__K_SPATIAL,                 /* FLATTEN (linear, but its output is not Gaussian) */
    NTK__K_SPATIAL,                 /* LAYER_NORM */
    NTK__K_SPATIAL | NTK__K_STRUCT, NTK__K_SPATIAL | NTK__K_STRUCT, /* FANOUT, BRANCH */
    NTK__K_SPATIAL | NTK__K_STRUCT, NTK__K_SPATIAL | NTK__K_STRUCT, /* FANIN_SUM, FANIN_CONCAT */
};
typedef char ntk__kind_props_complete[sizeof ntk__kind_props == NTK__LAYER_KIND_END - NTK_LAYER_DENSE ? 1 : -1];
static unsigned ntk__props(ntk_layer_kind k) {
  return k >= NTK_LAYER_DENSE && k < NTK__LAYER_KIND_END ? ntk__kind_props[k - NTK_LAYER_DENSE] : 0;
}
static int ntk__is_activation(ntk_layer_kind k) { return (ntk__props(k) & NTK__K_ACT) != 0; }
static int ntk__is_quadrature(ntk_layer_kind k) {
  return k == NTK_LAYER_TANH || k == NTK_LAYER_SOFTPLUS || k == NTK_LAYER_CUSTOM;
}

/* ============================================================================================
   [arch] the network front end. One forward pass over the list, with a stack of open FANOUTs,
   infers per layer the shapes, Gaussianity, resolved filter/stride/padding extents, fan-in,
   bias presence and parameter slot, and the producer of its input (the list compiled into a
   DAG: a branch's first layer reads its FANOUT, a FANIN reads the ends recorded by its
   BRANCHes and its own producer); one backward pass marks which spatial covariance offsets
   the readout needs. The drivers read this instead of re-deriving shapes. Rules and error
   reporting: the comment at ntk_layers_describe.
   ============================================================================================ */
#define NTK__NONE ((size_t)-1)
typedef struct ntk__arch_layer {
  size_t in[3], out[3]; /* (h, w, c); c = 0: unknown (width 0, or dim unknown) */
  size_t in_n, out_n;   /* elements per example, h·w·c */
  size_t f[2], s[2];    /* CONV filter / pool window, and stride, along (h, w); else 1 */
  size_t lo[2], hi[2];  /* padding before / after along (h, w) (SAME, CIRCULAR) */
  size_t fan_in, n_params, param_offset; /* n_params saturates at SIZE_MAX (params_overflow) */
  size_t producer;      /* the layer whose output is this layer's input; NTK__NONE: the rows x */
  size_t mate;          /* FANOUT: its FANIN; BRANCH, FANIN_*: their FANOUT; else NTK__NONE */
  size_t need_r[2];     /* the offsets (Δh, Δw) of this layer's output covariance the readout
                           needs: |Δh| ≤ need_r[0], |Δw| ≤ need_r[1] (BRANCH: of the next
                           branch's start; FANOUT: the union over its branches) */
  int need_all;         /* the box covers every offset (the full spatial covariance) */
  int gaussian, has_bias;
} ntk__arch_layer;
typedef struct ntk__arch {
  size_t n, dim, in[3], out[3]; /* layers; the input row (h, w, c), dim = h·w·c; the output */
  size_t n_params;              /* SIZE_MAX if params_overflow */
  int params_overflow;          /* the parameter count does not fit a size_t (kernel: fine) */
  int spatial;                  /* some layer is a spatial or branch kind: not an MLP */
  size_t need_r[2];             /* offsets of the input's covariance the readout needs */
  int need_all;
  ntk__arch_layer *l;           /* (n) */
} ntk__arch;
typedef struct ntk__arch_frame { /* an open FANOUT (forward) / FANIN (backward) */
  size_t at, n, done;            /* index of the FANOUT, branches declared, branch ends seen */
  size_t split[3];               /* the value it splits: shape, flag, why not Gaussian */
  int split_g, split_ng;
  size_t first[3], sum_c;        /* branch ends so far: the first one's shape, Σ c */
  int all_g, same, hw_same, c_unknown, ok;
  size_t br[2], ar[2];           /* backward: the FANIN's need; the union of branch starts */
  int ball, aall;
} ntk__arch_frame;

static void ntk__arch_free(ntk__arch *a) {
  if (!a) return;
  NTK_FREE(a->l);
  memset(a, 0, sizeof *a);
}
static int ntk__has_bias(const ntk_layer *L) {
  return L->bias == NTK_BIAS_ALWAYS || (L->bias == NTK_BIAS_AUTO && L->b_std > 0);
}
/* σ_b as the kernel sees it: 0 without a bias parameter */
static double ntk__bstd(const ntk_layer *L) { return ntk__has_bias(L) ? L->b_std : 0; }

/* filter/window (f) and stride (s) along (h, w): a second extent 0 means square on 2-D input
   and "the first extent, along w" on 1-D input (h = 1); strides 0 = 1 */
static void ntk__arch_extent(const ntk_layer *L, const size_t in[3], size_t f[2], size_t s[2]) {
  int one_d = in[0] == 1;
  size_t s0 = L->stride[0] ? L->stride[0] : 1;
  if (L->shape[1]) f[0] = L->shape[0], f[1] = L->shape[1];
  else if (one_d) f[0] = 1, f[1] = L->shape[0];
  else f[0] = f[1] = L->shape[0];
  if (L->stride[1]) s[0] = s0, s[1] = L->stride[1];
  else if (one_d) s[0] = 1, s[1] = s0;
  else s[0] = s[1] = s0;
}
/* output size along one axis (XLA's padtype_to_pads for SAME; CIRCULAR pads as SAME, with
   wrapped values): 0 if a VALID window does not fit */
static size_t ntk__arch_axis(size_t n, size_t f, size_t s, ntk_padding pad, size_t *lo, size_t *hi) {
  size_t out, need;
  *lo = *hi = 0;
  if (pad == NTK_PAD_VALID) return f > n ? 0 : (n - f) / s + 1;
  out = n / s + (n % s != 0);
  need = (out - 1) * s + f; /* ≤ n + f: no overflow for the f, s of a real list */
  if (need > n) *lo = (need - n) / 2, *hi = need - n - *lo;
  return out;
}
static size_t ntk__arch_prod3(const size_t v[3], int *ok) { return ntk__mul(ntk__mul(v[0], v[1], ok), v[2], ok); }
static void ntk__arch_union(size_t r[2], int *all, const size_t r2[2], int all2) {
  if (r2[0] > r[0]) r[0] = r2[0];
  if (r2[1] > r[1]) r[1] = r2[1];
  *all = *all || all2;
}

/* the reasons an activation / LayerNorm refuses its input, by why it is not Gaussian */
#define NTK__NG_INPUT 0
#define NTK__NG_ACT 1
#define NTK__NG_FLATTEN 2
#define NTK__NG_CONCAT 3
static const char *const ntk__arch_ng_act[4] = {
    "an activation needs a Gaussian input (it follows the network input)",
    "an activation needs a Gaussian input (it follows an activation)",
    "an activation needs a Gaussian input (it follows flatten)",
    "an activation needs a Gaussian input (it follows a channel concatenation)"};
static const char *const ntk__arch_ng_ln[4] = {
    "LayerNorm needs a Gaussian input (it follows the network input)",
    "LayerNorm needs a Gaussian input (it follows an activation)",
    "LayerNorm needs a Gaussian input (it follows flatten)",
    "LayerNorm needs a Gaussian input (it follows a channel concatenation)"};

/* the parameters shared by Dense and Conv */
static const char *ntk__arch_affine(const ntk_layer *L) {
  if (!ntk__finite(L->w_std) || !(L->w_std > 0)) return "w_std must be finite and > 0";
  if (!ntk__finite(L->b_std) || L->b_std < 0) return "b_std must be finite and >= 0";
  if (L->param != NTK_PARAM_NTK && L->param != NTK_PARAM_STANDARD) return "unknown parameterisation";
  if (L->bias != NTK_BIAS_AUTO && L->bias != NTK_BIAS_NONE && L->bias != NTK_BIAS_ALWAYS) return "unknown bias mode";
  return NULL;
}
/* an activation's own parameters */
static const char *ntk__arch_act(const ntk_layer *L) {
  if (!ntk__finite(L->a) || !ntk__finite(L->b) || !ntk__finite(L->c)) return "activation parameters a, b, c must be finite";
  if (L->kind == NTK_LAYER_RBF && !(L->a > 0)) return "rbf needs gamma > 0";
  if (ntk__is_quadrature(L->kind) && (!L->f || !L->df)) return "a quadrature activation needs phi and phi'";
  if (ntk__is_quadrature(L->kind) && (L->quad_degree < 0 || L->quad_degree > 1000)) return "quadrature degree must be in [0, 1000]";
  return NULL;
}
/* a branch end joins the open FANOUT's accumulators */
static void ntk__arch_join(ntk__arch_frame *fr, const size_t v[3], int g) {
  if (fr->done == 0) {
    memcpy(fr->first, v, sizeof fr->first);
    fr->all_g = g, fr->same = fr->hw_same = fr->ok = 1, fr->sum_c = v[2], fr->c_unknown = v[2] == 0;
  } else {
    if (v[0] != fr->first[0] || v[1] != fr->first[1]) fr->same = fr->hw_same = 0;
    if (v[2] && fr->first[2] && v[2] != fr->first[2]) fr->same = 0;
    if (!fr->first[2]) fr->first[2] = v[2];
    fr->all_g = fr->all_g && g;
    fr->sum_c = ntk__add(fr->sum_c, v[2], &fr->ok);
    fr->c_unknown = fr->c_unknown || v[2] == 0;
  }
  fr->done++;
}

/* Builds *a (one allocation; call ntk__arch_free after any return: on failure the layers
   completed are kept for describe). dim 0: from INPUT, else unknown channels
   (ntk_layers_check). *bad, *why: as ntk_layers_describe. */
static ntk_status ntk__arch_init(ntk__arch *a, const ntk_layer *layers, size_t n, size_t dim,
                                 size_t *bad, const char **why) {
  ntk__arch_frame *fr = NULL;
  size_t i, nf = 0, top = 0, P = 0, cur[3], prod = NTK__NONE, r[2], filled = 0;
  int g = 0, ng = NTK__NG_INPUT, ok = 1, cknown, all;
  ntk_status st = NTK_OK;
  memset(a, 0, sizeof *a);
  *bad = n, *why = "";
  if (!layers || n == 0) return NTK_ERR_INVALID_ARG;
  for (i = 0; i < n; i++) nf += layers[i].kind == NTK_LAYER_FANOUT;
  (void)ntk__mul(n, sizeof(ntk__arch_layer), &ok);
  if (!ok) { *bad = 0, *why = "too many layers"; return NTK_ERR_OVERFLOW; }
  a->l = (ntk__arch_layer *)NTK_MALLOC(n * sizeof(ntk__arch_layer));
  fr = (ntk__arch_frame *)NTK_MALLOC((nf ? nf : 1) * sizeof(ntk__arch_frame));
  if (!a->l || !fr) { st = NTK_ERR_OUT_OF_MEMORY; goto fail; }
  memset(a->l, 0, n * sizeof(ntk__arch_layer));
  a->n = n;
#define NTK__ARCH_FAIL(s_, i_, m_) do { st = (s_), *bad = (i_), *why = (m_); goto fail; } while (0)
  if (layers[0].kind == NTK_LAYER_INPUT) {
    size_t hwc;
    memcpy(cur, layers[0].shape, sizeof cur);
    if (!cur[0] || !cur[1] || !cur[2]) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, 0, "INPUT needs h, w and c >= 1");
    hwc = ntk__arch_prod3(cur, &ok);
    if (!ok) NTK__ARCH_FAIL(NTK_ERR_OVERFLOW, 0, "INPUT's h*w*c does not fit a size_t");
    if (dim && hwc != dim) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, 0, "INPUT's h*w*c differs from dim");
    dim = hwc;
  } else {
    cur[0] = cur[1] = 1, cur[2] = dim;
  }
  cknown = dim != 0;
  a->dim = dim;
  memcpy(a->in, cur, sizeof cur);
  for (i = 0; i < n; i++) {
    const ntk_layer *L = &layers[i];
    ntk__arch_layer *R = &a->l[i];
    unsigned pr = ntk__props(L->kind);
    const char *m;
    memcpy(R->in, cur, sizeof cur);
    R->producer = prod, R->mate = NTK__NONE, R->param_offset = P;
    R->f[0] = R->f[1] = R->s[0] = R->s[1] = 1;
    if (!pr) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown layer kind");
    if (pr & (NTK__K_SPATIAL | NTK__K_STRUCT)) a->spatial = 1;
    switch (L->kind) {
    case NTK_LAYER_INPUT:
      if (i) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "INPUT is allowed as the first layer only");
      break;
    case NTK_LAYER_DENSE:
    case NTK_LAYER_CONV: {
      size_t taps = 1, W;
      if ((m = ntk__arch_affine(L)) != NULL) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, m);
      R->has_bias = ntk__has_bias(L);
      if (L->kind == NTK_LAYER_CONV) {
        size_t d;
        if (L->padding != NTK_PAD_VALID && L->padding != NTK_PAD_SAME && L->padding != NTK_PAD_CIRCULAR)
          NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown padding");
        ntk__arch_extent(L, cur, R->f, R->s);
        if (!R->f[0] || !R->f[1]) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "a filter extent is 0");
        for (d = 0; d < 2; d++) {
          cur[d] = ntk__arch_axis(R->in[d], R->f[d], R->s[d], L->padding, &R->lo[d], &R->hi[d]);
          if (!cur[d]) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "the filter is larger than the VALID input");
        }
        taps = ntk__mul(R->f[0], R->f[1], &ok);
      }
      R->fan_in = ntk__mul(R->in[2], taps, &ok);
      if (!ok) NTK__ARCH_FAIL(NTK_ERR_OVERFLOW, i, "the fan-in does not fit a size_t");
      if (L->param == NTK_PARAM_STANDARD && cknown && R->fan_in == 0)
        NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "a 'standard' layer needs its input's channel count (it follows a width-0 layer)");
      cur[2] = L->width;
      if (R->fan_in && L->width) {
        int pok = 1;
        W = ntk__mul(L->width, R->fan_in, &pok);
        R->n_params = ntk__add(W, R->has_bias ? L->width : 0, &pok);
        if (!pok) R->n_params = (size_t)-1, a->params_overflow = 1;
      }
      g = 1;
      break;
    }
    case NTK_LAYER_AVG_POOL:
    case NTK_LAYER_SUM_POOL: {
      size_t d;
      if (L->kind == NTK_LAYER_AVG_POOL && (L->flags & ~NTK_POOL_NORMALIZE_EDGES))
        NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown pool flags");
      if (L->kind == NTK_LAYER_SUM_POOL && L->flags)
        NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "normalize_edges is for AVG_POOL only");
      if (L->padding != NTK_PAD_VALID && L->padding != NTK_PAD_SAME && L->padding != NTK_PAD_CIRCULAR)
        NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown padding");
      ntk__arch_extent(L, cur, R->f, R->s);
      if (!R->f[0] || !R->f[1]) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "a window extent is 0");
      for (d = 0; d < 2; d++) {
        cur[d] = ntk__arch_axis(R->in[d], R->f[d], R->s[d], L->padding, &R->lo[d], &R->hi[d]);
        if (!cur[d]) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "the window is larger than the VALID input");
      }
      break;
    }
    case NTK_LAYER_GLOBAL_AVG_POOL:
    case NTK_LAYER_GLOBAL_SUM_POOL:
      cur[0] = cur[1] = 1;
      break;
    case NTK_LAYER_FLATTEN:
      cur[2] = ntk__arch_prod3(cur, &ok), cur[0] = cur[1] = 1;
      if (!ok) NTK__ARCH_FAIL(NTK_ERR_OVERFLOW, i, "the flattened size does not fit a size_t");
      g = 0, ng = NTK__NG_FLATTEN;
      break;
    case NTK_LAYER_LAYER_NORM: {
      int axes = L->flags ? L->flags : NTK_AXIS_C;
      if (axes & ~(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C)) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown LayerNorm axes");
      if (!(axes & NTK_AXIS_C)) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "LayerNorm's axes must include channels");
      if (!ntk__finite(L->eps) || L->eps < 0) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "LayerNorm's eps must be finite and >= 0");
      if (!g) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, ntk__arch_ng_ln[ng]);
      break;
    }
    case NTK_LAYER_FANOUT: {
      ntk__arch_frame *F = &fr[top];
      if (L->n == 0) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANOUT needs at least one branch");
      memset(F, 0, sizeof *F);
      F->at = i, F->n = L->n;
      memcpy(F->split, cur, sizeof cur);
      F->split_g = g, F->split_ng = ng;
      top++;
      break;
    }
    case NTK_LAYER_BRANCH: {
      ntk__arch_frame *F = top ? &fr[top - 1] : NULL;
      if (!F) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "BRANCH outside a FANOUT");
      if (F->done + 1 >= F->n) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "more branches than the FANOUT declared");
      ntk__arch_join(F, cur, g);
      R->mate = F->at;
      memcpy(cur, F->split, sizeof cur);
      g = F->split_g, ng = F->split_ng;
      memcpy(R->out, cur, sizeof cur);
      R->gaussian = g;
      R->out_n = ntk__arch_prod3(cur, &ok), R->in_n = ntk__arch_prod3(R->in, &ok);
      prod = F->at; /* the next branch reads the FANOUT */
      filled = i + 1;
      continue;
    }
    case NTK_LAYER_FANIN_SUM:
    case NTK_LAYER_FANIN_CONCAT: {
      ntk__arch_frame *F = top ? &fr[top - 1] : NULL;
      if (!F) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANIN without a FANOUT");
      if (F->done + 1 != F->n) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "fewer branches than the FANOUT declared");
      ntk__arch_join(F, cur, g);
      R->mate = F->at, a->l[F->at].mate = i;
      if (L->kind == NTK_LAYER_FANIN_SUM) {
        if (!F->same) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANIN_SUM of branches with different shapes");
        if (!F->all_g)
          NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANIN_SUM needs Gaussian branches (one ends in an activation, flatten or concat)");
        memcpy(cur, F->first, sizeof cur);
        g = 1;
      } else {
        if (!F->hw_same) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANIN_CONCAT of branches with different h, w");
        if (!F->ok) NTK__ARCH_FAIL(NTK_ERR_OVERFLOW, i, "the concatenated channel count does not fit a size_t");
        if (F->c_unknown && cknown)
          NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "FANIN_CONCAT needs every branch's channel count (one ends in a width-0 layer)");
        cur[0] = F->first[0], cur[1] = F->first[1], cur[2] = F->c_unknown ? 0 : F->sum_c;
        g = 0, ng = NTK__NG_CONCAT;
      }
      top--;
      break;
    }
    default: /* the elementwise kinds */
      if (!ntk__is_activation(L->kind)) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, "unknown layer kind");
      if ((m = ntk__arch_act(L)) != NULL) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, m);
      if (!(pr & NTK__K_LINEAR)) {
        if (!g) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, i, ntk__arch_ng_act[ng]);
        g = 0, ng = NTK__NG_ACT;
      }
      break;
    }
    memcpy(R->out, cur, sizeof cur);
    R->gaussian = g;
    R->in_n = ntk__arch_prod3(R->in, &ok), R->out_n = ntk__arch_prod3(cur, &ok);
    if (!ok) NTK__ARCH_FAIL(NTK_ERR_OVERFLOW, i, "the layer's output size does not fit a size_t");
    if (a->params_overflow || R->n_params > (size_t)-1 - P) P = (size_t)-1, a->params_overflow = 1;
    else P += R->n_params;
    prod = i, filled = i + 1;
  }
  if (top) NTK__ARCH_FAIL(NTK_ERR_BAD_LAYER, fr[top - 1].at, "FANOUT without its FANIN");
  memcpy(a->out, cur, sizeof cur);
  a->n_params = P;
  /* backward: the offsets each layer's output covariance must hold for the readout. The
     output itself: all of it (one position, or a spatial output read in full). */
  r[0] = cur[0] - 1, r[1] = cur[1] - 1, all = 1;
  top = 0;
  for (i = n; i-- > 0;) {
    const ntk_layer *L = &layers[i];
    ntk__arch_layer *R = &a->l[i];
    size_t d;
    if (L->kind != NTK_LAYER_FANOUT) R->need_r[0] = r[0], R->need_r[1] = r[1], R->need_all = all;
    switch (L->kind) {
    case NTK_LAYER_FLATTEN: r[0] = r[1] = 0, all = 0; break; /* the spatial diagonal */
    case NTK_LAYER_GLOBAL_AVG_POOL: case NTK_LAYER_GLOBAL_SUM_POOL:
      r[0] = R->in[0] - 1, r[1] = R->in[1] - 1, all = 1;
      break;
    case NTK_LAYER_CONV: case NTK_LAYER_AVG_POOL: case NTK_LAYER_SUM_POOL:
      /* a conv takes the same tap on both sides (the diagonal filter): output offset k needs
         input offset s·k only; a pool pairs every two taps: s·k + [−(f−1), f−1] */
      for (d = 0; d < 2; d++) {
        size_t rr = ntk__mul(R->s[d], r[d], &ok), ext = L->kind == NTK_LAYER_CONV ? 0 : R->f[d] - 1;
        int wrap;
        rr = ntk__add(rr, ext, &ok);
        wrap = L->padding == NTK_PAD_CIRCULAR && R->lo[d] + R->hi[d] > 0 && rr > 0; /* offset 0 stays 0 */
        r[d] = all || wrap || rr >= R->in[d] - 1 ? R->in[d] - 1 : rr; /* wrap: offsets near ±n too */
      }
      ok = 1;
      break;
    case NTK_LAYER_FANIN_SUM: case NTK_LAYER_FANIN_CONCAT: {
      ntk__arch_frame *F = &fr[top++];
      F->br[0] = r[0], F->br[1] = r[1], F->ball = all;
      F->ar[0] = F->ar[1] = 0, F->aall = 0;
      break;
    }
    case NTK_LAYER_BRANCH: {
      ntk__arch_frame *F = &fr[top - 1];
      ntk__arch_union(F->ar, &F->aall, r, all);
      r[0] = F->br[0], r[1] = F->br[1], all = F->ball;
      break;
    }
    case NTK_LAYER_FANOUT: {
      ntk__arch_frame *F = &fr[--top];
      ntk__arch_union(F->ar, &F->aall, r, all);
      r[0] = F->ar[0], r[1] = F->ar[1], all = F->aall;
      R->need_r[0] = r[0], R->need_r[1] = r[1], R->need_all = all;
      break;
    }
    default: break; /* Dense, activations, LayerNorm, INPUT: position by position */
    }
    if (r[0] >= R->in[0] - 1 && r[1] >= R->in[1] - 1) r[0] = R->in[0] - 1, r[1] = R->in[1] - 1, all = 1;
  }
  a->need_r[0] = r[0], a->need_r[1] = r[1], a->need_all = all;
#undef NTK__ARCH_FAIL
  NTK_FREE(fr);
  return NTK_OK;
fail:
  NTK_FREE(fr);
  if (st != NTK_ERR_OUT_OF_MEMORY && a->l) { /* describe's info: the layers completed */
    a->n = filled;
    return st;
  }
  ntk__arch_free(a);
  return st;
}

NTKDEF ntk_status ntk_layers_describe(const ntk_layer *layers, size_t n_layers, size_t dim,
                                      ntk_layer_info *info, size_t *bad_layer, const char **reason) {
  ntk__arch a;
  size_t bad, i;
  const char *why;
  ntk_status st = ntk__arch_init(&a, layers, n_layers, dim, &bad, &why);
  if (bad_layer) *bad_layer = bad;
  if (reason) *reason = st == NTK_OK ? "" : st == NTK_ERR_INVALID_ARG ? "no layers" :
                        st == NTK_ERR_OUT_OF_MEMORY ? "out of memory" : why;
  if (info && a.l)
    for (i = 0; i < a.n; i++) {
      const ntk__arch_layer *R = &a.l[i];
      ntk_layer_info *o = &info[i];
      memcpy(o->in, R->in, sizeof o->in), memcpy(o->out, R->out, sizeof o->out);
      o->gaussian = R->gaussian, o->has_bias = R->has_bias;
      o->fan_in = R->fan_in, o->n_params = R->n_params, o->param_offset = R->param_offset;
    }
  ntk__arch_free(&a);
  return st;
}

NTKDEF ntk_status ntk_layers_check(const ntk_layer *layers, size_t n_layers) {
  return ntk_layers_describe(layers, n_layers, 0, NULL, NULL, NULL);
}

/* ============================================================================================
   [parse] the text form of an architecture (../shared/CLI.md): no allocation, no stdio
   ============================================================================================ */
/* a message under construction in the caller's buffer (truncated, always NUL-terminated) */
typedef struct ntk__msg {
  char *p;
  size_t cap, len;
} ntk__msg;
static void ntk__msg_c(ntk__msg *m, char c) {
  if (m->p && m->len + 1 < m->cap) m->p[m->len++] = c, m->p[m->len] = 0;
}
static void ntk__msg_s(ntk__msg *m, const char *s) {
  while (*s) ntk__msg_c(m, *s++);
}
static void ntk__msg_z(ntk__msg *m, size_t v) {
  char d[24];
  int k = 0;
  do d[k++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (k) ntk__msg_c(m, d[--k]);
}
/* n bytes of user text in quotes: bytes outside printable ASCII as \xHH (bytes ≥ 0x80 kept:
   UTF-8 names), at most 60 bytes of it and then "..." */
static void ntk__msg_q(ntk__msg *m, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  ntk__msg_c(m, '\'');
  for (i = 0; i < n && i < 60; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\') ntk__msg_s(m, "\\\\");
    else if ((c >= 0x20 && c < 0x7f) || c >= 0x80) ntk__msg_c(m, (char)c);
    else ntk__msg_s(m, "\\x"), ntk__msg_c(m, hex[c >> 4]), ntk__msg_c(m, hex[c & 15]);
  }
  if (i < n) ntk__msg_s(m, "...");
  ntk__msg_c(m, '\'');
}
static ntk__msg ntk__msg_init(char *err, size_t cap) {
  ntk__msg m;
  m.p = cap ? err : NULL, m.cap = cap, m.len = 0;
  if (m.p) m.p[0] = 0;
  return m;
}

static int ntk__is_digit(char c) { return c >= '0' && c <= '9'; }
static int ntk__is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/* length of the decimal number at s: [+-] (digits [. digits] | . digits) [(e|E) [+-] digits] */
static size_t ntk__dec_len(const char *s, size_t n) {
  size_t i = 0, d = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  while (i < n && ntk__is_digit(s[i])) i++, d++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && ntk__is_digit(s[i])) i++, d++;
  }
  if (!d) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1, e = 0;
    if (j < n && (s[j] == '+' || s[j] == '-')) j++;
    while (j < n && ntk__is_digit(s[j])) j++, e++;
    if (e) i = j;
  }
  return i;
}
/* the n bytes at s as a decimal number: 0 ok, 1 not a decimal number, 2 beyond a double.
   strtod reads the locale's radix character: a '.' it stops at is retried as that. */
static int ntk__decimal(const char *s, size_t n, double *v) {
  char buf[80], *end;
  if (n == 0 || n >= sizeof buf || ntk__dec_len(s, n) != n) return 1;
  memcpy(buf, s, n), buf[n] = 0;
  *v = strtod(buf, &end);
  if (end != buf + n) {
    char *dot = strchr(buf, '.');
    const char *radix = localeconv()->decimal_point;
    if (!dot || !radix || !radix[0] || radix[1]) return 1;
    *dot = radix[0];
    *v = strtod(buf, &end);
    if (end != buf + n) return 1;
  }
  if (!ntk__finite_d(*v)) return 2;
  *v += 0.0; /* -0 → +0 */
  return 0;
}
/* a positive integer that fits size_t: 0 ok, 1 not one (or 0), 2 too large */
static int ntk__posint(const char *s, size_t n, size_t *v) {
  size_t i, x = 0;
  if (n == 0) return 1;
  for (i = 0; i < n; i++) {
    size_t d;
    if (!ntk__is_digit(s[i])) return 1;
    d = (size_t)(s[i] - '0');
    if (x > ((size_t)-1 - d) / 10) return 2;
    x = x * 10 + d;
  }
  if (x == 0) return 1;
  *v = x;
  return 0;
}

NTKDEF ntk_status ntk_parse_activation(const char *name, size_t len, ntk_layer *out,
                                       size_t *err_pos, char *err, size_t err_cap) {
  static const struct {
    const char *name;
    signed char args1, args2; /* accepted argument counts (-1: none) */
    const char *forms;
  } acts[] = {
      {"identity", 0, -1, "identity"}, {"relu", 0, -1, "relu"}, {"leaky_relu", 1, -1, "leaky_relu:A"},
      {"abrelu", 2, -1, "abrelu:A,B"}, {"abs", 0, -1, "abs"}, {"erf", 0, 3, "erf or erf:A,B,C"},
      {"gelu", 0, -1, "gelu"}, {"sin", 0, 3, "sin or sin:A,B,C"}, {"cos", 0, -1, "cos"},
      {"sign", 0, -1, "sign"}, {"rbf", 1, -1, "rbf:G"}, {"exp", 2, -1, "exp:A,B"},
      {"tanh", 0, -1, "tanh"}, {"softplus", 0, -1, "softplus"},
  };
  double a[8];
  ntk__msg m = ntk__msg_init(err, err_cap);
  size_t nlen = 0, k, pos = 0;
  int nargs = 0, idx = -1;
  ntk_layer l;
  if (err_pos) *err_pos = 0;
  if (!name || !out) return NTK_ERR_INVALID_ARG;
  while (nlen < len && name[nlen] != ':') nlen++;
  for (k = 0; k < sizeof acts / sizeof acts[0]; k++)
    if (nlen == strlen(acts[k].name) && memcmp(name, acts[k].name, nlen) == 0) idx = (int)k;
  if (idx < 0) {
    ntk__msg_s(&m, "unknown activation "), ntk__msg_q(&m, name, nlen);
    ntk__msg_s(&m, " (identity, relu, leaky_relu:A, abrelu:A,B, abs, erf, erf:A,B,C, gelu, sin, "
                   "sin:A,B,C, cos, sign, rbf:G, exp:A,B, tanh, softplus)");
    return NTK_ERR_BAD_LAYER;
  }
  if (nlen < len) {
    size_t q = nlen + 1;
    for (;;) {
      size_t e = q;
      int r;
      while (e < len && name[e] != ',') e++;
      pos = q;
      if (nargs == 8) {
        ntk__msg_s(&m, "too many parameters ("), ntk__msg_s(&m, acts[idx].forms), ntk__msg_c(&m, ')');
        goto fail;
      }
      r = ntk__decimal(name + q, e - q, &a[nargs]);
      if (r) {
        ntk__msg_q(&m, name + q, e - q);
        ntk__msg_s(&m, r == 1 ? " is not a finite decimal number" : " is out of the range of a double");
        goto fail;
      }
      nargs++;
      if (e == len) break;
      q = e + 1;
    }
  }
  pos = nlen;
  if (nargs != acts[idx].args1 && nargs != acts[idx].args2) {
    ntk__msg_s(&m, "expected "), ntk__msg_s(&m, acts[idx].forms), ntk__msg_s(&m, ", got ");
    ntk__msg_z(&m, (size_t)nargs), ntk__msg_s(&m, nargs == 1 ? " parameter" : " parameters");
    goto fail;
  }
  switch (idx) {
  case 0: l = ntk_identity(); break;
  case 1: l = ntk_relu(); break;
  case 2: l = ntk_leaky_relu(a[0]); break;
  case 3: l = ntk_abrelu(a[0], a[1]); break;
  case 4: l = ntk_abs(); break;
  case 5: l = nargs ? ntk_erf_scaled(a[0], a[1], a[2]) : ntk_erf(); break;
  case 6: l = ntk_gelu(); break;
  case 7: l = nargs ? ntk_sin_scaled(a[0], a[1], a[2]) : ntk_sin(); break;
  case 8: l = ntk_cos(); break;
  case 9: l = ntk_sign(); break;
  case 10:
    if (!(a[0] > 0)) {
      pos = nlen + 1, ntk__msg_s(&m, "rbf:G needs G > 0");
      goto fail;
    }
    l = ntk_rbf(a[0]);
    break;
  case 11: l = ntk_exp(a[0], a[1]); break;
  case 12: l = ntk_tanh(); break;
  default: l = ntk_softplus(); break;
  }
  *out = l;
  return NTK_OK;
fail:
  if (err_pos) *err_pos = pos;
  return NTK_ERR_BAD_LAYER;
}

NTKDEF ntk_parse_defaults ntk_parse_defaults_init(void) {
  ntk_parse_defaults d;
  memset(&d, 0, sizeof d);
  d.width = 0, d.outputs = 1, d.w_std = 1, d.b_std = 0, d.param = NTK_PARAM_NTK;
  d.act = ntk_relu(), d.quad_degree = 0;
  return d;
}

typedef struct ntk__pz {
  const char *s;   /* the spec, NUL-terminated */
  ntk_layer *out;
  size_t cap, n;   /* n: layers so far (also those beyond cap, which are only counted) */
  ntk_parse_defaults d;
  int last_dflt;   /* the last layer so far is a Dense whose width is the default */
  ntk_status st;   /* the first error */
  size_t err_pos;
  ntk__msg m;
} ntk__pz;

static int ntk__pz_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
/* [a, b): a token's extent for messages, b = 0: from a to its matching ')' (or the end) */
static void ntk__pz_fail(ntk__pz *P, ntk_status st, size_t pos, size_t a, size_t b) {
  if (P->st != NTK_OK) return;
  P->st = st, P->err_pos = pos;
  if (!b) {
    int depth = 0;
    for (b = a; P->s[b]; b++) {
      if (P->s[b] == '(') depth++;
      else if (P->s[b] == ')' && --depth <= 0) {
        b += depth == 0;
        break;
      } else if (depth == 0 && (ntk__pz_ws(P->s[b]) || P->s[b] == '|')) break;
    }
    if (b == a && P->s[b]) b++;
  }
  if (b == a) ntk__msg_s(&P->m, "at the end: ");
  else ntk__msg_s(&P->m, "at "), ntk__msg_q(&P->m, P->s + a, b - a), ntk__msg_s(&P->m, ": ");
}
/* the common message shapes: pre 'q' post */
static void ntk__pz_failq(ntk__pz *P, size_t pos, size_t a, size_t b, const char *pre,
                          const char *q, size_t qn, const char *post) {
  if (P->st != NTK_OK) return;
  ntk__pz_fail(P, NTK_ERR_BAD_LAYER, pos, a, b);
  ntk__msg_s(&P->m, pre);
  if (q) ntk__msg_q(&P->m, q, qn);
  ntk__msg_s(&P->m, post);
}
static void ntk__pz_emit(ntk__pz *P, const ntk_layer *l, int dflt) {
  if (P->n == (size_t)-1) {
    ntk__pz_failq(P, 0, 0, 0, "more layers than a size_t counts", NULL, 0, "");
    return;
  }
  if (P->n < P->cap) P->out[P->n] = *l;
  P->n++, P->last_dflt = dflt;
}

/* one layer argument: [a, b) its text; key [a, eq) and value [eq + 1, b) when eq != 0 */
typedef struct ntk__pz_arg {
  size_t a, b, eq;
} ntk__pz_arg;
#define NTK__PZ_MAXARGS 16

static int ntk__pz_key(const ntk__pz *P, const ntk__pz_arg *g, const char *key) {
  size_t n = strlen(key);
  return g->eq && g->eq - g->a == n && memcmp(P->s + g->a, key, n) == 0;
}
/* number value of a key=value (or positional) argument; 0 on error (reported) */
static int ntk__pz_num(ntk__pz *P, size_t ta, size_t tb, size_t a, size_t b, double *v) {
  int r = ntk__decimal(P->s + a, b - a, v);
  if (r == 0) return 1;
  ntk__pz_failq(P, a, ta, tb, "", P->s + a, b - a,
                r == 1 ? " is not a finite decimal number" : " is out of the range of a double");
  return 0;
}
static int ntk__pz_size(ntk__pz *P, size_t ta, size_t tb, size_t a, size_t b, size_t *v) {
  int r = ntk__posint(P->s + a, b - a, v);
  if (r == 0) return 1;
  ntk__pz_failq(P, a, ta, tb, "", P->s + a, b - a,
                r == 1 ? " is not a positive integer" : " is too large for a size");
  return 0;
}
/* DIMS: INT or INT 'x' INT → (h, w), w = 0 for a single INT */
static int ntk__pz_dims(ntk__pz *P, size_t ta, size_t tb, size_t a, size_t b, size_t *d) {
  size_t x = a;
  while (x < b && P->s[x] != 'x') x++;
  d[1] = 0;
  if (x == b) return ntk__pz_size(P, ta, tb, a, b, &d[0]);
  if (ntk__posint(P->s + a, x - a, &d[0]) || ntk__posint(P->s + x + 1, b - x - 1, &d[1])) {
    int big = ntk__posint(P->s + a, x - a, &d[0]) == 2 || ntk__posint(P->s + x + 1, b - x - 1, &d[1]) == 2;
    ntk__pz_failq(P, a, ta, tb, "", P->s + a, b - a,
                  big ? " is too large for a size" : " is not a size (3, or 3x5: positive integers)");
    return 0;
  }
  return 1;
}
static int ntk__pz_padding(ntk__pz *P, size_t ta, size_t tb, size_t a, size_t b, ntk_padding *p) {
  size_t n = b - a;
  const char *w = P->s + a;
  if (n == 5 && !memcmp(w, "valid", 5)) *p = NTK_PAD_VALID;
  else if (n == 4 && !memcmp(w, "same", 4)) *p = NTK_PAD_SAME;
  else if (n == 8 && !memcmp(w, "circular", 8)) *p = NTK_PAD_CIRCULAR;
  else {
    ntk__pz_failq(P, a, ta, tb, "unknown padding ", w, n, "");
    return 0;
  }
  return 1;
}

/* w=, b=, param= of dense and conv; 1 = consumed, 0 = not one of them, -1 = error */
static int ntk__pz_wbp(ntk__pz *P, size_t ta, size_t tb, const ntk__pz_arg *g, ntk_layer *l) {
  size_t va = g->eq + 1, vb = g->b;
  double v;
  if (ntk__pz_key(P, g, "w")) {
    if (!ntk__pz_num(P, ta, tb, va, vb, &v)) return -1;
    if (!(v > 0)) return ntk__pz_failq(P, va, ta, tb, "w must be > 0, got ", P->s + va, vb - va, ""), -1;
    l->w_std = v;
  } else if (ntk__pz_key(P, g, "b")) {
    if (vb - va == 4 && !memcmp(P->s + va, "none", 4)) {
      l->b_std = 0, l->bias = NTK_BIAS_NONE;
      return 1;
    }
    if (!ntk__pz_num(P, ta, tb, va, vb, &v)) return -1;
    if (v < 0) return ntk__pz_failq(P, va, ta, tb, "b must be >= 0 (or none), got ", P->s + va, vb - va, ""), -1;
    l->b_std = v, l->bias = v == 0 ? NTK_BIAS_ALWAYS : NTK_BIAS_AUTO;
  } else if (ntk__pz_key(P, g, "param")) {
    if (vb - va == 3 && !memcmp(P->s + va, "ntk", 3)) l->param = NTK_PARAM_NTK;
    else if (vb - va == 8 && !memcmp(P->s + va, "standard", 8)) l->param = NTK_PARAM_STANDARD;
    else return ntk__pz_failq(P, va, ta, tb, "unknown parameterisation ", P->s + va, vb - va, " (ntk or standard)"), -1;
  } else {
    return 0;
  }
  return 1;
}

/* the layer token at [a, e) with arguments args[0..nargs) (has_parens: written NAME(…)) */
static void ntk__pz_layer(ntk__pz *P, size_t a, size_t nend, size_t e, const ntk__pz_arg *args,
                          size_t nargs, int has_parens) {
  const char *name = P->s + a;
  size_t nn = nend - a, i, npos = 0, nwords = 0, k;
  size_t pos[2][2]; /* the numeric positionals' extents */
  int kind = 0, seen[8];
  ntk_layer l;
#define NTK__PZ_IS(str) (nn == sizeof(str) - 1 && memcmp(name, str, nn) == 0)
  memset(seen, 0, sizeof seen);
  if (NTK__PZ_IS("dense")) kind = NTK_LAYER_DENSE;
  else if (NTK__PZ_IS("conv")) kind = NTK_LAYER_CONV;
  else if (NTK__PZ_IS("avgpool")) kind = NTK_LAYER_AVG_POOL;
  else if (NTK__PZ_IS("sumpool")) kind = NTK_LAYER_SUM_POOL;
  else if (NTK__PZ_IS("layernorm")) kind = NTK_LAYER_LAYER_NORM;
  else if (NTK__PZ_IS("attn")) {
    ntk__pz_fail(P, NTK_ERR_UNSUPPORTED, a, a, e);
    ntk__msg_s(&P->m, "global self-attention (attn) is not supported yet");
    return;
  } else {
    /* argument-free tokens and activations */
    if (NTK__PZ_IS("gap")) l = ntk_global_avg_pool();
    else if (NTK__PZ_IS("gsp")) l = ntk_global_sum_pool();
    else if (NTK__PZ_IS("flatten")) l = ntk_flatten();
    else if (NTK__PZ_IS("id")) l = ntk_identity();
    else if (NTK__PZ_IS("act")) l = P->d.act;
    else {
      size_t ep = 0, ae = nend; /* the activation's text: [a, ae) */
      char buf[9];
      if (P->s[ae] == ':')
        while (ae < e && P->s[ae] != '(') ae++;
      /* an activation: its own reason, unless the name is not one (then: an unknown layer) */
      if (ntk_parse_activation(name, ae - a, &l, &ep, buf, sizeof buf) != NTK_OK) {
        if (nend == ae && !strcmp(buf, "unknown ")) {
          ntk__pz_failq(P, a, a, e, "unknown layer ", name, nn,
                        " (dense conv avgpool sumpool gap gsp flatten layernorm id act sum concat "
                        "res, or an activation: relu, erf, tanh, ...)");
          return;
        }
        ntk__pz_fail(P, NTK_ERR_BAD_LAYER, a + ep, a, e);
        {
          ntk__msg rest = P->m; /* the activation parser's reason after "at 'TOKEN': " */
          if (rest.p) rest.p += rest.len, rest.cap -= rest.len;
          ntk_parse_activation(name, ae - a, &l, &ep, rest.p, rest.p ? rest.cap : 0);
        }
        return;
      }
      l.quad_degree = P->d.quad_degree;
    }
    if (has_parens) {
      ntk__pz_failq(P, nend, a, e, "", name, nn,
                    ntk__is_activation(l.kind) && nn != 2 && nn != 3
                        ? " takes no arguments (an activation's parameters are written NAME:A,B)"
                        : " takes no arguments");
      return;
    }
    ntk__pz_emit(P, &l, 0);
    return;
  }
#undef NTK__PZ_IS
  l = ntk__layer((ntk_layer_kind)kind);
  if (kind == NTK_LAYER_DENSE || kind == NTK_LAYER_CONV)
    l.width = P->d.width, l.w_std = P->d.w_std, l.b_std = P->d.b_std, l.param = P->d.param;
  /* positionals: numbers (sizes) in order, words (padding, edges) */
  for (i = 0; i < nargs; i++) {
    const ntk__pz_arg *g = &args[i];
    if (g->eq) {
      for (k = i + 1; k < nargs; k++)
        if (!args[k].eq) {
          ntk__pz_failq(P, args[k].a, a, e, "positional argument ", P->s + args[k].a,
                        args[k].b - args[k].a, " after key=value arguments");
          return;
        }
      break;
    }
    if (ntk__is_digit(P->s[g->a]) || P->s[g->a] == '-' || P->s[g->a] == '+' || P->s[g->a] == '.') {
      if (npos == 2 || (npos == 1 && kind != NTK_LAYER_CONV) || kind == NTK_LAYER_LAYER_NORM) {
        ntk__pz_failq(P, g->a, a, e, "unexpected size ", P->s + g->a, g->b - g->a,
                      kind == NTK_LAYER_DENSE ? " (dense(N))"
                      : kind == NTK_LAYER_CONV ? " (conv(C,F) or conv(F))"
                      : kind == NTK_LAYER_LAYER_NORM ? " (layernorm(axis=..., eps=...))"
                                                     : " (one window: avgpool(P,stride=S))");
        return;
      }
      pos[npos][0] = g->a, pos[npos][1] = g->b, npos++;
    } else if (kind == NTK_LAYER_CONV || kind == NTK_LAYER_AVG_POOL || kind == NTK_LAYER_SUM_POOL) {
      if (kind == NTK_LAYER_AVG_POOL && g->b - g->a == 5 && !memcmp(P->s + g->a, "edges", 5)) {
        if (l.flags) { ntk__pz_failq(P, g->a, a, e, "", P->s + g->a, 5, " given twice"); return; }
        l.flags = NTK_POOL_NORMALIZE_EDGES;
        continue;
      }
      if (kind == NTK_LAYER_SUM_POOL && g->b - g->a == 5 && !memcmp(P->s + g->a, "edges", 5)) {
        ntk__pz_failq(P, g->a, a, e, "edges (normalize_edges) is an avgpool option", NULL, 0, "");
        return;
      }
      if (nwords++) { ntk__pz_failq(P, g->a, a, e, "padding given twice (", P->s + g->a, g->b - g->a, ")"); return; }
      if (!ntk__pz_padding(P, a, e, g->a, g->b, &l.padding)) return;
    } else {
      ntk__pz_failq(P, g->a, a, e, "unexpected ", P->s + g->a, g->b - g->a,
                    kind == NTK_LAYER_DENSE ? " (dense(N) with w=, b=, param=)"
                                            : " (layernorm takes axis= and eps=)");
      return;
    }
  }
  if (kind == NTK_LAYER_DENSE) {
    if (npos && !ntk__pz_size(P, a, e, pos[0][0], pos[0][1], &l.width)) return;
  } else if (kind == NTK_LAYER_CONV) {
    if (npos == 0) { ntk__pz_failq(P, a, a, e, "conv needs a filter: conv(C,F) or conv(F)", NULL, 0, ""); return; }
    if (npos == 2 && !ntk__pz_size(P, a, e, pos[0][0], pos[0][1], &l.width)) return;
    if (!ntk__pz_dims(P, a, e, pos[npos - 1][0], pos[npos - 1][1], l.shape)) return;
  } else if (kind != NTK_LAYER_LAYER_NORM) {
    if (npos == 0) {
      ntk__pz_failq(P, a, a, e, "", name, nn, " needs a window: POOL(P,stride=S)");
      return;
    }
    if (!ntk__pz_dims(P, a, e, pos[0][0], pos[0][1], l.shape)) return;
  }
  /* key=value */
  for (i = 0; i < nargs; i++) {
    const ntk__pz_arg *g = &args[i];
    size_t va = g->eq + 1, vb = g->b;
    int slot = -1, r = 0;
    static const char *const keys[] = {"w", "b", "param", "stride", "pad", "axis", "eps"};
    if (!g->eq) continue;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
      if (ntk__pz_key(P, g, keys[k])) slot = (int)k;
    if (ntk__pz_key(P, g, "s")) slot = 3;
    if (slot >= 0 && seen[slot]) {
      ntk__pz_failq(P, g->a, a, e, "", P->s + g->a, g->eq - g->a, " given twice");
      return;
    }
    if (slot >= 0) seen[slot] = 1;
    if (kind == NTK_LAYER_DENSE || kind == NTK_LAYER_CONV) r = ntk__pz_wbp(P, a, e, g, &l);
    if (r < 0) return;
    if (r) continue;
    if (kind != NTK_LAYER_DENSE && kind != NTK_LAYER_LAYER_NORM && slot == 3) {
      if (!ntk__pz_dims(P, a, e, va, vb, l.stride)) return;
    } else if (kind != NTK_LAYER_DENSE && kind != NTK_LAYER_LAYER_NORM && slot == 4) {
      if (nwords++) { ntk__pz_failq(P, g->a, a, e, "padding given twice (", P->s + g->a, g->b - g->a, ")"); return; }
      if (!ntk__pz_padding(P, a, e, va, vb, &l.padding)) return;
    } else if (kind == NTK_LAYER_LAYER_NORM && slot == 5) {
      size_t x;
      if (vb - va == 3 && !memcmp(P->s + va, "all", 3)) {
        l.flags = NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C;
        continue;
      }
      for (x = va; x < vb; x++) {
        int bit = P->s[x] == 'h' ? NTK_AXIS_H : P->s[x] == 'w' ? NTK_AXIS_W : P->s[x] == 'c' ? NTK_AXIS_C : 0;
        if (!bit || (l.flags & bit)) {
          ntk__pz_failq(P, x, a, e, "axis ", P->s + va, vb - va,
                        !bit ? ": letters h, w, c (including c), or all" : " repeats a letter");
          return;
        }
        l.flags |= bit;
      }
      if (!(l.flags & NTK_AXIS_C))
        { ntk__pz_failq(P, va, a, e, "axis ", P->s + va, vb - va, " must include c (channels)"); return; }
    } else if (kind == NTK_LAYER_LAYER_NORM && slot == 6) {
      if (!ntk__pz_num(P, a, e, va, vb, &l.eps)) return;
      if (!(l.eps > 0)) { ntk__pz_failq(P, va, a, e, "eps must be > 0, got ", P->s + va, vb - va, ""); return; }
    } else {
      ntk__pz_failq(P, g->a, a, e, "unknown option ", P->s + g->a, g->eq - g->a,
                    kind == NTK_LAYER_DENSE ? " for dense (w=, b=, param=)"
                    : kind == NTK_LAYER_CONV ? " for conv (stride= s= pad= w= b= param=)"
                    : kind == NTK_LAYER_LAYER_NORM ? " for layernorm (axis=, eps=)"
                                                   : " for a pool (stride= s= pad=)");
      return;
    }
  }
  if ((kind == NTK_LAYER_AVG_POOL || kind == NTK_LAYER_SUM_POOL) && !seen[3]) {
    ntk__pz_failq(P, a, a, e, "", name, nn, " needs stride= (neural-tangents' default, the window, is not assumed)");
    return;
  }
  ntk__pz_emit(P, &l, kind == NTK_LAYER_DENSE && npos == 0);
}

static void ntk__pz_seq(ntk__pz *P, size_t *i, int mode, int depth);

/* an atom at *i (not white space, not a delimiter) */
static void ntk__pz_atom(ntk__pz *P, size_t *i, int depth) {
  const char *s = P->s;
  size_t a = *i, nend, e;
  if (s[a] == '(') {
    if (depth >= NTK_PARSE_MAX_DEPTH) { ntk__pz_failq(P, a, a, 0, "nested deeper than NTK_PARSE_MAX_DEPTH (64) levels", NULL, 0, ""); return; }
    *i = a + 1;
    ntk__pz_seq(P, i, 1, depth + 1);
    if (P->st != NTK_OK) return;
    if (s[*i] != ')') { ntk__pz_failq(P, a, a, 0, "'(' is never closed", NULL, 0, ""); return; }
    (*i)++;
    return;
  }
  if (!ntk__is_alpha(s[a])) {
    ntk__pz_failq(P, a, a, 0, "expected a layer, got ", s + a, 1, "");
    return;
  }
  nend = a;
  while (ntk__is_alpha(s[nend]) || ntk__is_digit(s[nend])) nend++;
  if (s[nend] == '(' && ((nend - a == 3 && (!memcmp(s + a, "sum", 3) || !memcmp(s + a, "res", 3))) ||
                         (nend - a == 6 && !memcmp(s + a, "concat", 6)))) {
    size_t fan = P->n, branches = 1;
    int res = s[a] == 'r';
    ntk_layer l;
    if (depth >= NTK_PARSE_MAX_DEPTH) { ntk__pz_failq(P, a, a, 0, "nested deeper than NTK_PARSE_MAX_DEPTH (64) levels", NULL, 0, ""); return; }
    l = ntk_fanout(0);
    ntk__pz_emit(P, &l, 0);
    *i = nend + 1;
    for (;;) {
      ntk__pz_seq(P, i, 2, depth + 1);
      if (P->st != NTK_OK) return;
      if (s[*i] == '|') {
        if (res) { ntk__pz_failq(P, *i, a, 0, "res(...) has one branch (the other is the identity): use sum(a|b)", NULL, 0, ""); return; }
        l = ntk_branch();
        ntk__pz_emit(P, &l, 0);
        branches++, (*i)++;
        continue;
      }
      if (s[*i] != ')') { ntk__pz_failq(P, nend, a, 0, "'(' is never closed", NULL, 0, ""); return; }
      (*i)++;
      break;
    }
    if (res) l = ntk_branch(), ntk__pz_emit(P, &l, 0), branches = 2;
    l = s[a] == 'c' ? ntk_fanin_concat() : ntk_fanin_sum();
    ntk__pz_emit(P, &l, 0);
    if (fan < P->cap) P->out[fan].n = branches;
    return;
  }
  /* a layer: NAME, NAME:PARAMS (an activation) or NAME(ARGS) */
  e = nend;
  if (s[e] == ':')
    while (s[e] && !ntk__pz_ws(s[e]) && s[e] != '|' && s[e] != ')' && s[e] != '(') e++;
  if (s[e] == '(') {
    ntk__pz_arg args[NTK__PZ_MAXARGS];
    size_t nargs = 0, p = e + 1, close = p, lp;
    while (s[close] && s[close] != ')' && s[close] != '(') close++;
    if (s[close] != ')') {
      ntk__pz_failq(P, s[close] ? close : e, a, s[close] ? close + 1 : close,
                    s[close] ? "arguments cannot hold '('" : "'(' is never closed", NULL, 0, "");
      return;
    }
    lp = e, e = close + 1;
    while (p < close) { /* split [e0+1, close) at commas, trimming white space */
      size_t q = p, ta, tb, eq = 0;
      while (q < close && s[q] != ',') q++;
      ta = p, tb = q;
      while (ta < tb && ntk__pz_ws(s[ta])) ta++;
      while (tb > ta && ntk__pz_ws(s[tb - 1])) tb--;
      if (ta == tb) {
        if (q == close && nargs == 0 && p == lp + 1) break; /* NAME() or NAME( ) */
        { ntk__pz_failq(P, ta, a, e, "empty argument", NULL, 0, ""); return; }
      }
      if (nargs == NTK__PZ_MAXARGS) { ntk__pz_failq(P, ta, a, e, "more than 16 arguments", NULL, 0, ""); return; }
      {
        size_t x;
        for (x = ta; x < tb; x++)
          if (s[x] == '=') {
            eq = x;
            break;
          }
        if (eq && (eq == ta || eq + 1 == tb))
          { ntk__pz_failq(P, ta, a, e, "", s + ta, tb - ta, " is not KEY=VALUE"); return; }
      }
      args[nargs].a = ta, args[nargs].b = tb, args[nargs].eq = eq, nargs++;
      p = q + (q < close);
      if (q < close && p == close) { ntk__pz_failq(P, close, a, e, "empty argument", NULL, 0, ""); return; }
    }
    *i = e;
    ntk__pz_layer(P, a, nend, e, args, nargs, 1);
    return;
  }
  *i = e;
  ntk__pz_layer(P, a, nend, e, NULL, 0, 0);
}

/* a seq at *i up to its end: the NUL (mode 0), ')' (mode 1, a group) or ')' / '|' (mode 2, a
   branch); *i is left on that character */
static void ntk__pz_seq(ntk__pz *P, size_t *i, int mode, int depth) {
  const char *s = P->s;
  for (;;) {
    size_t t, count = 1, start, len;
    int dflt;
    while (ntk__pz_ws(s[*i])) (*i)++;
    t = *i;
    if (!s[t]) return;
    if (s[t] == ')') {
      if (mode) return;
      { ntk__pz_failq(P, t, t, t + 1, "unmatched ')'", NULL, 0, ""); return; }
    }
    if (s[t] == '|') {
      if (mode == 2) return;
      { ntk__pz_failq(P, t, t, t + 1, "'|' separates the branches of sum(...) or concat(...)", NULL, 0, ""); return; }
    }
    if (ntk__is_digit(s[t])) {
      size_t q = t;
      int r;
      while (ntk__is_digit(s[q])) q++;
      if (s[q] != '*') {
        size_t b = q;
        while (s[b] && !ntk__pz_ws(s[b]) && s[b] != ')' && s[b] != '|') b++;
        { ntk__pz_failq(P, t, t, b, "a layer cannot start with a digit (a repetition is N*layer)", NULL, 0, ""); return; }
      }
      r = ntk__posint(s + t, q - t, &count);
      if (r) { ntk__pz_failq(P, t, t, q + 1, "repetition count ", s + t, q - t, r == 1 ? " is not a positive integer" : " is too large"); return; }
      *i = q + 1;
      if (!s[*i] || ntk__pz_ws(s[*i]) || s[*i] == ')' || s[*i] == '|' || ntk__is_digit(s[*i]))
        { ntk__pz_failq(P, *i, t, 0, "expected a layer or (...) after '*'", NULL, 0, ""); return; }
    }
    start = P->n, dflt = P->last_dflt;
    ntk__pz_atom(P, i, depth);
    if (P->st != NTK_OK) return;
    if (s[*i] && !ntk__pz_ws(s[*i]) && s[*i] != ')' && s[*i] != '|')
      { ntk__pz_failq(P, *i, t, *i + 1, "layers are separated by spaces", NULL, 0, ""); return; }
    len = P->n - start;
    if (count > 1 && len) {
      size_t r;
      if (len > ((size_t)-1 - start) / count) { ntk__pz_failq(P, t, t, *i, "more layers than a size_t counts", NULL, 0, ""); return; }
      for (r = 1; r < count; r++) { /* copies of the first instance, as far as they fit */
        size_t dst = start + r * len, k;
        if (dst >= P->cap) break;
        for (k = 0; k < len && dst + k < P->cap; k++) P->out[dst + k] = P->out[start + k];
      }
      P->n = start + count * len;
    }
    if (!len) P->last_dflt = dflt;
  }
}

NTKDEF ntk_status ntk_parse_net(const char *spec, const ntk_parse_defaults *defaults,
                                ntk_layer *out, size_t cap, size_t *n_layers, size_t *err_pos,
                                char *err, size_t err_cap) {
  ntk__pz P;
  size_t i = 0;
  P.m = ntk__msg_init(err, err_cap);
  if (err_pos) *err_pos = 0;
  if (n_layers) *n_layers = 0;
  if (!spec || !n_layers || (cap && !out)) {
    ntk__msg_s(&P.m, "invalid argument (NULL spec, n_layers, or out with cap > 0)");
    return NTK_ERR_INVALID_ARG;
  }
  P.s = spec, P.out = out, P.cap = cap, P.n = 0, P.last_dflt = 0, P.st = NTK_OK, P.err_pos = 0;
  P.d = defaults ? *defaults : ntk_parse_defaults_init();
  ntk__pz_seq(&P, &i, 0, 0);
  if (P.st == NTK_OK && P.n == 0) ntk__pz_failq(&P, i, i, i, "no layers", NULL, 0, "");
  if (P.st != NTK_OK) {
    if (err_pos) *err_pos = P.err_pos;
    return P.st;
  }
  if (P.last_dflt && P.n - 1 < cap) out[P.n - 1].width = P.d.outputs;
  *n_layers = P.n;
  if (cap && P.n > cap) {
    ntk__msg_s(&P.m, "the architecture has "), ntk__msg_z(&P.m, P.n);
    ntk__msg_s(&P.m, " layers, more than cap = "), ntk__msg_z(&P.m, cap);
    return NTK_ERR_INVALID_ARG;
  }
  return NTK_OK;
}

/* ============================================================================================
   [dual] activation dual kernels: for (u, v) ~ N(0, [[q11, q12], [q12, q22]])
     q12 ← T = E[φ(u)φ(v)],   Θ ← Θ·Ṫ,  Ṫ = E[φ′(u)φ′(v)]
   on a run of entries. Variances go through the same code with q11 = q22 = q12, so diagonal
   entries (x = x′) come out with ρ = 1 exactly and bit-identical to the variances.
   Formulas: neural-tangents' stax.elementwise (see research notes).
   ============================================================================================ */
/* Per-point values for a run of entries (i, j0..): the dual of entry (i, j) needs, besides
   q12, functions of q11 alone and of q22 alone. They are computed once per point and layer
   (ntk__dual_point; the tiled kernel keeps them next to the variances), so an entry costs no
   square root or division for them. Slot 0 is √q, slot 1 is 1/√q (0 where q = 0), for every
   kind that uses ρ = q12/(√q11·√q22) — never √(q11·q22), which over- or underflows when the
   variances are beyond 1e±154. Slots 2–4: erf and GELU, see ntk__dual_point. s1, r1, x1 are the
   row point's (one point: q11 is constant on a run); s2, r2, x2 the column points' (cnt).
   NULL means "compute them here from q11, q22" (the variance pass, tests). */
#define NTK__NPT 5
typedef struct ntk__dual_aux {
  ntk_real s1, r1;
  const ntk_real *s2, *r2;
  ntk_real x1[NTK__NPT - 2];
  const ntk_real *x2[NTK__NPT - 2];
  const ntk_real *s1v, *r1v, *x1v[NTK__NPT - 2]; /* s1v non-NULL: the row point varies along the
                                                    run too (the spatial kernel's frames) */
} ntk__dual_aux;

/* How many per-point slots layer kind k uses. */
static int ntk__dual_npt(ntk_layer_kind k) {
  switch (k) {
  case NTK_LAYER_ABRELU: case NTK_LAYER_SIGN: case NTK_LAYER_SIN: case NTK_LAYER_RBF:
  case NTK_LAYER_EXP:
    return 2;
  case NTK_LAYER_ERF: case NTK_LAYER_GELU:
    return 5;
  default:
    return 0;
  }
}

/* The per-point values of layer L at variance q ≥ 0 into o[0..4]:
     every kind  o[0] = √q, o[1] = 1/√q (0 if q = 0)
     erf         u = b²q: o[2] = k = √(2u/(1+2u)), o[3] = w = 1/(1+2u), o[4] = 1/√(1/b² + 2q)
                 (= |b|/√(1+2u), written so that b²q may overflow)
     GELU        o[2] = k = √(q/(1+q)), o[3] = w = 1/(1+q), o[4] = 1/√(1+q)
   k is taken as √(1 − w) once w < 1/2, so that neither form cancels. Out of line: one copy of
   the arithmetic, whichever loop asks. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
NTK__NO_ERRNO static void ntk__dual_point(const ntk_layer *L, ntk_real q, ntk_real *o) {
  ntk_real s = NTK__SQRT(q), one = 1;
  o[0] = s, o[1] = s > 0 ? one / s : 0;
  if (L->kind == NTK_LAYER_ERF || L->kind == NTK_LAYER_GELU) {
    ntk_real u, w;
    if (L->kind == NTK_LAYER_ERF) {
      ntk_real ib = (ntk_real)(1 / L->b); /* b = 0: ib = inf, everything below stays exact */
      u = (ntk_real)(L->b * L->b) * q * 2;
      o[4] = one / NTK__SQRT(ib * ib + 2 * q);
    } else {
      u = q;
      o[4] = one / NTK__SQRT(one + q);
    }
    w = one / (one + u);
    o[2] = w < (ntk_real)0.5 ? NTK__SQRT(one - w) : NTK__SQRT(u * w);
    o[3] = w;
  }
}

/* ρ from the per-point roots: (q12·r1)·r2 stays in range whatever the scales (|q12·r1| ≤ √q22);
   exactly 1 on a diagonal q12 = q11 = q22 (ρ = 1 exactly is what keeps the NTK's diagonal
   accurate, see the ReLU family below); clipped to [−1, 1]. */
static NTK__INLINE ntk_real ntk__rho(ntk_real c, ntk_real q11, ntk_real q22, ntk_real r1, ntk_real r2) {
  ntk_real rho = (c * r1) * r2;
  if (c == q11 && q11 == q22) rho = 1;
  return ntk__clip1(rho);
}

/* √q11 − √q22 as (q11 − q22)/(√q11 + √q22): the difference of the rounded roots is all error
   when q11 and q22 differ by less than an ulp of the roots (float: e^(−γ(√q11 − √q22)²) at
   q = 6e14 came out 1 instead of 0) */
static NTK__INLINE ntk_real ntk__root_diff(ntk_real q11, ntk_real q22, ntk_real s1, ntk_real s2) {
  ntk_real d = s1 + s2;
  return d > 0 ? (q11 - q22) / d : 0;
}

/* asin(t) = t·P(t²): the Chebyshev interpolant of asin(√z)/√z (mpmath.chebyfit at 50 digits)
   on z ∈ [0, 0.1475] for double (|t| ≤ sin(π/8); the interval a little past sin²(π/8) = 0.14645
   for the rounding of the sector tests below), 11 terms (interpolation error 6.2e-18;
   1.2e-16 relative with the rounded coefficients, measured), and on z ∈ [0, 1/2] for float
   (|t| ≤ 1/√2), 8 terms (2.0e-8). */
static const double ntk__asinw_coef[11] = {1.0, 0.16666666666665791, 0.07500000000236845,
                                          0.04464285689364438, 0.03038195785382945,
                                          0.022371739744921165, 0.017360897535627456,
                                          0.013864340181986942, 0.012338991652309624,
                                          0.006032967682830125, 0.01772130860040874};
static const float ntk__asinw_coef_f[8] = {0.9999999887111962f, 0.16666954671609344f,
                                          0.07488114441822327f, 0.046480849462936874f,
                                          0.01673138895046739f, 0.07553975382221965f,
                                          -0.09008621671077405f, 0.10967398323879114f};
#ifdef NTK_REAL_FLOAT
#define NTK__ASIN_N 8
#define NTK__ASIN_COEF ntk__asinw_coef_f
#else
#define NTK__ASIN_N 11
#define NTK__ASIN_COEF ntk__asinw_coef
#endif

/* The ReLU-family dual with the per-point r = 1/√q (r1[j] along the run, or the one row point's
   R1), written so that the compiler vectorises it (no errno, branch-free selects) at every SIMD
   level. With ρ = q12·r1·r2, x = 1 − ρ², S = √x: T = f·√q11·√q22·S + Ṫ·q12, the roots taken as
   q·r (two multiplications instead of two more streams of per-point values: in the spatial
   kernel the tables of 21 layers then fit in a 2 MiB L2, GAP network f64 −8 %; |q·r| = √|q|
   stays in range), and Ṫ = h − f·acos ρ = h − f·π/2 + f·asin ρ, with
   θ = asin |ρ| in one of three sectors, each an asin of at most sin(π/8):
     |ρ| ≤ sin(π/8):        asin ρ = ρ·g(ρ²)
     |ρ| ≥ cos(π/8):        asin ρ = ±(π/2 − S·g(S²))
     between:               asin ρ = ±π/4 + m·g(m²), m = (ρ ∓ S)/√2 = ±sin(θ − π/4)
   (g(z) = asin(√z)/√z, ± the sign of ρ), so that Ṫ = A + t·P(t²), P = f·g, t = ρ, ∓S or m,
   A = h − f·π/2, h or h − f·π, h − f·π/4 or h − 3f·π/4, and t² = ρ², x or 1/2 − |ρ|·S: one
   11-term polynomial, against 19 over the two-sector range [0, 1/2] of the previous form (on
   a Zen 4 core, where every 512-bit operation issues once a cycle and the dual is bound by
   their count: the spatial GAP network about 7 % fewer cycles per entry with the frame conv's
   rewrite below, medians of interleaved runs on a noisy machine). Float keeps two sectors (the middle one
   dropped, NTK__RELU_MID: its polynomial, 8 terms on [0, 1/2], is short already, and the middle
   sector's selects cost more than the 3 terms they would save, measured). ρ = 1 exactly when
   q12 = q11 = q22 (x = 0: T = h·q, Ṫ = h), as in the scalar loop of ntk__dual; ρ beyond ±1
   (rounding) is ±1. */
#ifdef NTK_REAL_FLOAT
#define NTK__RELU_T1 ((ntk_real)0.5)
#define NTK__RELU_T2 ((ntk_real)0.5)
#define NTK__RELU_MID(sel, m, a, b) (a) /* no middle sector: b is not evaluated */
#else
#define NTK__RELU_T1 ((ntk_real)0.14644660940672624) /* sin²(π/8) */
#define NTK__RELU_T2 ((ntk_real)0.8535533905932737)  /* cos²(π/8) */
#define NTK__RELU_MID(sel, m, a, b) sel(m, a, b)
#endif
#define NTK__RELU_R2 ((ntk_real)0.7071067811865476) /* 1/√2 */
#define NTK__RELU_SSEL(m, a, b) ((m) ? (a) : (b))
#ifdef NTK_REAL_FLOAT
#define NTK__ASIN2_POLY(z, P)                                                                  \
  {                                                                                           \
    const ntk_real *a_ = fc_;                                                                 \
    ntk_real z2 = z * z, z4 = z2 * z2;                                                        \
    P = ((a_[0] + a_[1] * z) + z2 * (a_[2] + a_[3] * z)) + z4 * ((a_[4] + a_[5] * z) + z2 * (a_[6] + a_[7] * z)); \
  }
#else
#define NTK__ASIN2_POLY(z, P)                                                                  \
  {                                                                                           \
    const ntk_real *a_ = fc_;                                                                 \
    P = (((((a_[10] * z + a_[9]) * z + a_[8]) * z + a_[7]) * z + a_[6]) * z + a_[5]) * z;      \
    P = ((((P + a_[4]) * z + a_[3]) * z + a_[2]) * z + a_[1]) * z + a_[0];                    \
  }
#endif
/* fc_: the coefficients times f; A2 = h − f·π/2, Api = h − f·π, A14 = h − f·π/4,
   A34 = h − 3f·π/4 */
#define NTK__RELU_COEFS                                                                       \
  ntk_real fc_[NTK__ASIN_N], A2 = h - f * (ntk_real)(NTK__PI / 2), Api = h - f * (ntk_real)NTK__PI; \
  ntk_real A14 = h - f * (ntk_real)(NTK__PI / 4), A34 = h - f * (ntk_real)(3 * NTK__PI / 4);  \
  {                                                                                           \
    int i_;                                                                                   \
    for (i_ = 0; i_ < NTK__ASIN_N; i_++) fc_[i_] = f * (ntk_real)NTK__ASIN_COEF[i_];          \
  }
#define NTK__RELU_BODY(R1J)                                                                   \
  NTK__RELU_COEFS                                                                             \
  if (th) {                                                                                   \
    NTK__RELU_LOOP(R1J, th[j] *= d;)                                                          \
  } else {                                                                                    \
    NTK__RELU_LOOP(R1J, ;)                                                                    \
  }
#define NTK__RELU_LOOP(R1J, TH)                                                               \
  const ntk_real one = 1;                                                                     \
  size_t j;                                                                                   \
  for (j = 0; j < cnt; j++) {                                                                 \
    ntk_real c = q12[j], u = q11[j], v = q22[j], fn = f * ((u * (R1J)) * (v * r2[j]));        \
    ntk_real rho = (c * (R1J)) * r2[j], rr = rho * rho, x = (one - rho) * (one + rho), S, Sn, t, z, P, d; \
    int dg = c == u && u == v, neg = rho < 0; /* dg: ρ = 1 (q = 0 too: r = 0) */              \
    int lo = rr <= NTK__RELU_T1 && !dg, hi = rr >= NTK__RELU_T2 || dg;                        \
    x = x < 0 || dg ? 0 : x;                                                                  \
    S = NTK__SQRT(x);                                                                         \
    Sn = neg ? S : -S;                                                                        \
    t = lo ? rho : NTK__RELU_MID(NTK__RELU_SSEL, hi, Sn, (rho + Sn) * NTK__RELU_R2);          \
    z = t * t;                                                                                \
    NTK__ASIN2_POLY(z, P)                                                                     \
    d = t * P + (lo ? A2 : NTK__RELU_MID(NTK__RELU_SSEL, hi, neg ? Api : h, neg ? A34 : A14)); \
    (void)hi, (void)A14, (void)A34;                                                           \
    q12[j] = d * c + fn * S;                                                                  \
    TH                                                                                        \
  }
#define NTK__RELU_FNS(SUF, TGT)                                                               \
  TGT NTK__NO_ERRNO static void ntk__relu_rows##SUF(size_t cnt, const ntk_real *NTK_RESTRICT q11,  \
      const ntk_real *NTK_RESTRICT q22, ntk_real *NTK_RESTRICT q12, ntk_real *NTK_RESTRICT th, ntk_real f, \
      ntk_real h, const ntk_real *NTK_RESTRICT r1, const ntk_real *NTK_RESTRICT r2) {         \
    NTK__RELU_BODY(r1[j])                                                                     \
  }                                                                                           \
  TGT NTK__NO_ERRNO static void ntk__relu_row##SUF(size_t cnt, const ntk_real *NTK_RESTRICT q11,   \
      const ntk_real *NTK_RESTRICT q22, ntk_real *NTK_RESTRICT q12, ntk_real *NTK_RESTRICT th, ntk_real f, \
      ntk_real h, ntk_real R1, const ntk_real *NTK_RESTRICT r2) {                             \
    NTK__RELU_BODY(R1)                                                                        \
  }
NTK__RELU_FNS(_gen, )
#undef NTK__RELU_FNS

/* A frame's geometry: h × w, the runs along each axis split at (sh, sw) = (h − c_h, w − c_w) */
typedef struct ntk__frame {
  size_t h, w, ch, cw, sh, sw;
} ntk__frame;

/* the input row of output row h's tap d: h + d − lo in h's run [a0, a1) (or mod H), else −1 */
static NTK__INLINE long ntk__fr_row(size_t h, size_t d, size_t lo, size_t H, size_t a0, size_t a1, int circ) {
  long r = (long)(h + d) - (long)lo;
  if (circ) return ((r % (long)H) + (long)H) % (long)H;
  return r < (long)a0 || r >= (long)a1 ? -1 : r;
}
/* The tables of a frame's ReLU-family layer (ntk__fr_relu): the row point's q, √q, 1/√q of row
   h at va + h·rw (+ rp, + 2·rp), the column point's of row (h + c_h) mod h at
   vb + ((h + c_h) mod h)·rw + c_w (+ rp, + 2·rp); the dual reads q and 1/√q. f, h: its
   constants. */
typedef struct ntk__fr_act {
  const ntk_real *va, *vb;
  size_t rw, rp;
  ntk_real f, h;
} ntk__fr_act;
/* the most 512-bit vectors a row of the hand kernel below (wider frames take the generic body) */
#define NTK__C3MAXV 64
#define NTK__C3MAXW (NTK__C3MAXV * (64 / sizeof(ntk_real)))
#if defined(NTK__BUILD_X86)
/* The same by hand on whole vectors (GCC will not vectorise sqrt under -fmath-errno, and its
   optimize("no-math-errno") attribute does not reach sqrt): NTK__V* name one SIMD level's
   operations, and the kernel below is expanded once per level; the tail goes to the loop above. */
/* the polynomial of NTK__ASIN2_POLY on vectors (fc_: the coefficients times f, broadcast from
   memory), by Estrin's scheme: 4 FMAs deep for double (Horner's 10, fewer operations, was
   slower in the spatial kernel: a 40-cycle chain) */
#ifdef NTK_REAL_FLOAT
#define NTK__VPOLY(z, P)                                                                      \
  {                                                                                           \
    NTK__V z2 = NTK__VMUL(z, z), z4 = NTK__VMUL(z2, z2);                                      \
    NTK__V b0 = NTK__VFMA(z2, NTK__VFMA(NTK__V1(fc_[3]), z, NTK__V1(fc_[2])), NTK__VFMA(NTK__V1(fc_[1]), z, NTK__V1(fc_[0]))); \
    NTK__V b1 = NTK__VFMA(z2, NTK__VFMA(NTK__V1(fc_[7]), z, NTK__V1(fc_[6])), NTK__VFMA(NTK__V1(fc_[5]), z, NTK__V1(fc_[4]))); \
    P = NTK__VFMA(z4, b1, b0);                                                                \
  }
#else
#define NTK__VPOLY(z, P)                                                                      \
  {                                                                                           \
    NTK__V z2 = NTK__VMUL(z, z), z4 = NTK__VMUL(z2, z2), z8 = NTK__VMUL(z4, z4);              \
    NTK__V p01 = NTK__VFMA(NTK__V1(fc_[1]), z, NTK__V1(fc_[0])), p23 = NTK__VFMA(NTK__V1(fc_[3]), z, NTK__V1(fc_[2])); \
    NTK__V p45 = NTK__VFMA(NTK__V1(fc_[5]), z, NTK__V1(fc_[4])), p67 = NTK__VFMA(NTK__V1(fc_[7]), z, NTK__V1(fc_[6])); \
    NTK__V p89 = NTK__VFMA(NTK__V1(fc_[9]), z, NTK__V1(fc_[8]));                              \
    NTK__V q03 = NTK__VFMA(z2, p23, p01), q47 = NTK__VFMA(z2, p67, p45), q8a = NTK__VFMA(z2, NTK__V1(fc_[10]), p89); \
    P = NTK__VFMA(z8, q8a, NTK__VFMA(z4, q47, q03));                                          \
  }
#endif
/* one vector of entries from values (C: q12, U: q11, V: q22, R1X, R2X: 1/√q11, 1/√q22):
   OQ the new q12, OD Ṫ. Between the sectors the polynomial's argument m² = 1/2 − |ρ|·S
   (ρ² + S² = 1) is one FMA after the square root; the other two sectors' z = ρ², x are known
   before it; t waits beside the polynomial. */
#define NTK__RELU_VCORE(C, U, V, R1X, R2X, OQ, OD)                                            \
  {                                                                                           \
    NTK__V c_ = (C), u_ = (U), v_ = (V);                                                      \
    NTK__V r1_ = (R1X), r2_ = (R2X), fn_ = NTK__VMUL(vf, NTK__VMUL(NTK__VMUL(u_, r1_), NTK__VMUL(v_, r2_))); \
    NTK__V rho_ = NTK__VMUL(NTK__VMUL(c_, r1_), r2_), rr_ = NTK__VMUL(rho_, rho_), x_, S_, Sn_, t_, z_, P_, A_, d_; \
    NTK__VM dg_ = NTK__VMAND(NTK__VEQ(c_, u_), NTK__VEQ(u_, v_)), neg_ = NTK__VLT(rho_, zero); \
    NTK__VM lo_ = NTK__VMANDN(dg_, NTK__VLE(rr_, vT1)), hi_ = NTK__VMOR(dg_, NTK__VGE(rr_, vT2)); \
    /* 1 − ρ², one rounding, at least 0 (NaN kept); 0 where dg: ρ = 1 (q = 0 too, where r = 0 \
       gives ρ = 0) */                                                                        \
    x_ = NTK__VMAX0(dg_, NTK__VFNMA(rho_, rho_, one));                                        \
    S_ = NTK__VSQRT(x_);                                                                      \
    z_ = NTK__VSEL(lo_, rr_, NTK__RELU_MID(NTK__VSEL, hi_, x_, NTK__VFNMA(NTK__VABS(rho_), S_, vhalf))); \
    NTK__VPOLY(z_, P_)                                                                        \
    Sn_ = NTK__VSNEG(S_, rho_); /* −S, or S where ρ < 0 (ρ = −0: S there, unused) */          \
    t_ = NTK__VSEL(lo_, rho_, NTK__RELU_MID(NTK__VSEL, hi_, Sn_, NTK__VMUL(NTK__VADD(rho_, Sn_), vr2))); \
    A_ = NTK__VSEL(lo_, vA2, NTK__RELU_MID(NTK__VSEL, hi_, NTK__VSEL(neg_, vApi, vh), NTK__VSEL(neg_, vA34, vA14))); \
    d_ = NTK__VFMA(t_, P_, A_), (void)hi_;                                                    \
    OD = d_;                                                                                  \
    OQ = NTK__VFMA(d_, c_, NTK__VMUL(fn_, S_));                                               \
  }
/* one vector of entries at the pointers, loaded by LD(p) and stored by ST(p, v): the row loop's
   step */
#define NTK__RELU_VSTEP(LD, ST, pq11, pq22, pq12, pth, R1X, pr2)                               \
  {                                                                                           \
    NTK__V oq_, od_;                                                                          \
    NTK__RELU_VCORE(LD(pq12), LD(pq11), LD(pq22), R1X, LD(pr2), oq_, od_)                      \
    ST(pq12, oq_);                                                                            \
    if (pth) ST(pth, NTK__VMUL(LD(pth), od_));                                                \
  }
/* the dual's constants as vectors (f, h in scope) */
#define NTK__RELU_VCONST                                                                      \
  NTK__RELU_COEFS                                                                             \
  const NTK__V one = NTK__V1(1), zero = NTK__V1(0), vf = NTK__V1(f), vh = NTK__V1(h);         \
  const NTK__V vA2 = NTK__V1(A2), vApi = NTK__V1(Api), vA14 = NTK__V1(A14), vA34 = NTK__V1(A34); \
  const NTK__V vT1 = NTK__V1(NTK__RELU_T1), vT2 = NTK__V1(NTK__RELU_T2), vr2 = NTK__V1(NTK__RELU_R2); \
  const NTK__V vhalf = NTK__V1((ntk_real)0.5);                                                \
  (void)vhalf, (void)vr2, (void)vA14, (void)vA34; /* float: no middle sector */
/* a row's last cnt − j < NTK__VN entries through one vector step on padded copies (the pads:
   q = 1, q12 = 0, roots 1: finite, discarded) */
#define NTK__RELU_VTAIL_COPY(R1T, FILL1)                                                      \
  if (j < cnt) {                                                                              \
    ntk_real b11[NTK__VN], b22[NTK__VN], b12[NTK__VN], bt[NTK__VN], br1[NTK__VN], br2[NTK__VN];    \
    size_t e, m = cnt - j;                                                                    \
    for (e = 0; e < (size_t)NTK__VN; e++) {                                                   \
      int in = e < m;                                                                         \
      b11[e] = in ? q11[j + e] : 1, b22[e] = in ? q22[j + e] : 1, b12[e] = in ? q12[j + e] : 0; \
      bt[e] = in && th ? th[j + e] : 1, br2[e] = in ? r2[j + e] : 1;                          \
      br1[e] = 1;                                                                             \
      FILL1                                                                                   \
    }                                                                                         \
    ntk_real *btp = th ? bt : NULL;                                                           \
    NTK__RELU_VSTEP(NTK__VLD, NTK__VST, b11, b22, b12, btp, R1T, br2)                         \
    (void)br1;                                                                                \
    for (e = 0; e < m; e++) {                                                                 \
      q12[j + e] = b12[e];                                                                    \
      if (th) th[j + e] = bt[e];                                                              \
    }                                                                                         \
  }
/* the same through masked loads and stores (AVX-512: masked-off lanes read the pad 1, never
   fault, are not stored); R1T: the row point's 1/√q of the tail, FILL1 unused */
#define NTK__RELU_VTAIL_MASK(R1T, FILL1)                                                      \
  if (j < cnt) {                                                                              \
    const NTK__VM km_ = (NTK__VM)((1u << (cnt - j)) - 1u);                                    \
    NTK__RELU_VSTEP(NTK__VLDM, NTK__VSTM, q11 + j, q22 + j, q12 + j, th ? th + j : NULL, R1T, r2 + j) \
  }
#define NTK__RELU_VFN(NAME, TGT, R1V, R1P, R1T, FILL1)                                         \
  TGT static void NAME(size_t nr, size_t cnt, const ntk_real *q11, size_t ld1, const ntk_real *q22, size_t ld2, \
                       ntk_real *q12, ntk_real *th, size_t ldq, ntk_real f, ntk_real h, R1P,  \
                       const ntk_real *r2) {                                                  \
    NTK__RELU_VCONST                                                                          \
    size_t j, row;                                                                            \
    for (row = 0; row < nr; row++, q11 += ld1, q22 += ld2, q12 += ldq, th = th ? th + ldq : th, \
         r2 += ld2 NTK__R1STEP) {                                                             \
      for (j = 0; j + NTK__VN <= cnt; j += NTK__VN)                                           \
        NTK__RELU_VSTEP(NTK__VLD, NTK__VST, q11 + j, q22 + j, q12 + j, th ? th + j : NULL, R1V, r2 + j) \
      NTK__RELU_VTAIL(R1T, FILL1)                                                             \
    }                                                                                         \
  }
#define NTK__FILL_ROWS                                                                        \
  if (in) br1[e] = r1[j + e];
/* AVX-512 (sqrt in its zero-masked form, max masked: the plain ones pass _mm512_undefined_pd(),
   which g++ 12 -O2 reports as maybe-uninitialized) */
#ifdef NTK_REAL_FLOAT
#define NTK__V __m512
#define NTK__VM __mmask16
#define NTK__VN 16
#define NTK__VLD _mm512_loadu_ps
#define NTK__VST _mm512_storeu_ps
#define NTK__V1 _mm512_set1_ps
#define NTK__VMUL _mm512_mul_ps
#define NTK__VADD _mm512_add_ps
#define NTK__VABS _mm512_abs_ps
#define NTK__VFMA _mm512_fmadd_ps
#define NTK__VFNMA _mm512_fnmadd_ps
#define NTK__VMAX0(m, x) _mm512_maskz_max_ps((__mmask16)~(m), _mm512_setzero_ps(), x)
#define NTK__VSNEG(S, r) _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(S), _mm512_castps_si512(r), _mm512_set1_epi32((int)0x80000000), 0xD2))
#define NTK__VSQRT(x) _mm512_maskz_sqrt_ps((__mmask16)0xFFFF, x)
#define NTK__VLT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define NTK__VLE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define NTK__VGE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define NTK__VEQ(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define NTK__VSEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define NTK__VLDM(p) _mm512_mask_loadu_ps(one, km_, p)
#define NTK__VSTM(p, v) _mm512_mask_storeu_ps(p, km_, v)
#define NTK__VLDZ _mm512_maskz_loadu_ps
#define NTK__VSTK(p, k, v) _mm512_mask_storeu_ps(p, k, v)
#define NTK__VMADD _mm512_mask_add_ps
#define NTK__VSHL(c, p) _mm512_castsi512_ps(_mm512_maskz_alignr_epi32((__mmask16)0xFFFF, _mm512_castps_si512(c), _mm512_castps_si512(p), 15))
#define NTK__VSHR(n, c) _mm512_castsi512_ps(_mm512_maskz_alignr_epi32((__mmask16)0xFFFF, _mm512_castps_si512(n), _mm512_castps_si512(c), 1))
#else
#define NTK__V __m512d
#define NTK__VM __mmask8
#define NTK__VN 8
#define NTK__VLD _mm512_loadu_pd
#define NTK__VST _mm512_storeu_pd
#define NTK__V1 _mm512_set1_pd
#define NTK__VMUL _mm512_mul_pd
#define NTK__VADD _mm512_add_pd
#define NTK__VABS _mm512_abs_pd
#define NTK__VFMA _mm512_fmadd_pd
#define NTK__VFNMA _mm512_fnmadd_pd
#define NTK__VMAX0(m, x) _mm512_maskz_max_pd((__mmask8)~(m), _mm512_setzero_pd(), x)
#define NTK__VSNEG(S, r) _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(S), _mm512_castpd_si512(r), _mm512_set1_epi64((long long)0x8000000000000000ull), 0xD2))
#define NTK__VSQRT(x) _mm512_maskz_sqrt_pd((__mmask8)0xFF, x)
#define NTK__VLT(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ)
#define NTK__VLE(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ)
#define NTK__VGE(a, b) _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ)
#define NTK__VEQ(a, b) _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ)
#define NTK__VSEL(m, a, b) _mm512_mask_blend_pd(m, b, a)
#define NTK__VLDM(p) _mm512_mask_loadu_pd(one, km_, p)
#define NTK__VSTM(p, v) _mm512_mask_storeu_pd(p, km_, v)
#define NTK__VLDZ _mm512_maskz_loadu_pd
#define NTK__VSTK(p, k, v) _mm512_mask_storeu_pd(p, k, v)
#define NTK__VMADD _mm512_mask_add_pd
#define NTK__VSHL(c, p) _mm512_castsi512_pd(_mm512_maskz_alignr_epi64((__mmask8)0xFF, _mm512_castpd_si512(c), _mm512_castpd_si512(p), 7))
#define NTK__VSHR(n, c) _mm512_castsi512_pd(_mm512_maskz_alignr_epi64((__mmask8)0xFF, _mm512_castpd_si512(n), _mm512_castpd_si512(c), 1))
#endif
#define NTK__VMAND(a, b) ((a) & (b))
#define NTK__VMANDN(a, b) ((NTK__VM)(~(a) & (b)))
#define NTK__VMOR(a, b) ((NTK__VM)((a) | (b)))
#define NTK__R1A NTK__VLD(r1 + j)
#define NTK__R1B NTK__V1(R1)
#define NTK__R1STEP , r1 += ld1
#define NTK__RELU_VTAIL(R1T, FILL1) NTK__RELU_VTAIL_MASK(R1T, FILL1)
NTK__RELU_VFN(ntk__relu_rows_avx512, NTK__TARGET_AVX512, NTK__R1A, const ntk_real *r1, NTK__VLDM(r1 + j), (void)0;)
#undef NTK__R1STEP
#define NTK__R1STEP
NTK__RELU_VFN(ntk__relu_row_avx512, NTK__TARGET_AVX512, NTK__R1B, ntk_real R1, NTK__V1(R1), (void)0;)
/* The frame conv's common case by hand (AVX-512; ntk__fr_conv below has the definition): a 3×3
   filter, stride 1, one column each side (lw = 1), not circular. Per vector of entries the
   column sums of the 3 rows (zr for rows outside the run), their neighbours shifted in by
   valign from the previous and next vectors (no line buffer, no unaligned reload of
   just-written data), the taps that cross the junction or the frame's edge masked off, and the
   affine step: 3 loads per tensor and vector. The lane masks are made once per frame, and only
   a partial vector uses them for its loads and stores (every load masked, and the row's last
   vector always masked, cost ~12 % and ~10 % of the GAP network, measured); the row loop holds
   no branch. The taps are summed in the body's order (the affine step's FMAs may round the
   last bit differently). act non-NULL: the ReLU-family dual of the next layer follows on the
   same registers (ntk__fr_relu's tables: q and 1/√q of both points, 4 loads per vector), so
   the conv's output is never stored and reloaded; its values are the unfused pair's, bit for
   bit. On a Sapphire-Rapids-class core the fused loop takes ~50 cycles per 8 doubles in L1,
   for ~70 512-bit operations on two ports. (valign in its zero-masked form: the plain one
   passes _mm512_undefined, which g++ 12 -O2 reports as maybe-uninitialized.) */
#define NTK__C3LANES(n) ((NTK__VM)((n) >= NTK__VN ? (unsigned)((1ull << NTK__VN) - 1) : (unsigned)((1u << (n)) - 1)))
/* a load of vector lanes k at p, unmasked in the loop over whole vectors (FULL) */
#define NTK__C3LD(FULL, k, p) ((FULL) ? NTK__VLD(p) : NTK__VLDZ(k, p))
#define NTK__C3COL(F, x, w, k) NTK__VADD(NTK__VADD(NTK__C3LD(F, k, x[0] + (w)), NTK__C3LD(F, k, x[1] + (w))), NTK__C3LD(F, k, x[2] + (w)))
/* one output vector iv at column w of the row: the taps (Θ's when WT), the affine step, the
   dual when ACT, the stores; FULL: the vector is whole (no lane masks), else masked; NXT: the
   next vector is whole (1), partial (0: masked), or past the row (2: zeros, not loaded) */
#define NTK__C3STEP(WT, ACT, FULL, NXT)                                                       \
  {                                                                                           \
    size_t w = iv * NTK__VN;                                                                  \
    const NTK__VM k_ = kc[iv], kn_ = kc[iv + 1];                                              \
    NTK__V oq, ot = zero, od;                                                                 \
    nq = (NXT) == 2 ? zero : NTK__C3COL((NXT) == 1, xq, w + NTK__VN, kn_);                    \
    sq = NTK__VMADD(cq, kl[iv], NTK__VSHL(cq, pq), cq);                                       \
    sq = NTK__VMADD(sq, kr[iv], sq, NTK__VSHR(nq, cq));                                       \
    oq = NTK__VFMA(ca, sq, cb);                                                               \
    if (WT) {                                                                                 \
      nt = (NXT) == 2 ? zero : NTK__C3COL((NXT) == 1, xt, w + NTK__VN, kn_);                  \
      st = NTK__VMADD(ct, kl[iv], NTK__VSHL(ct, pt), ct);                                     \
      st = NTK__VMADD(st, kr[iv], st, NTK__VSHR(nt, ct));                                     \
      ot = NTK__VFMA(cbe, st, NTK__VFMA(cal, sq, cga));                                       \
    }                                                                                         \
    if (ACT) {                                                                                \
      NTK__RELU_VCORE(oq, NTK__C3LD(FULL, k_, p11 + w), NTK__C3LD(FULL, k_, p22 + w),         \
                      NTK__C3LD(FULL, k_, p11 + 2 * rp + w), NTK__C3LD(FULL, k_, p22 + 2 * rp + w), oq, od) \
      ot = NTK__VMUL(ot, od);                                                                 \
    }                                                                                         \
    if (FULL) NTK__VST(oqr + w, oq);                                                          \
    else NTK__VSTK(oqr + w, k_, oq);                                                          \
    if (WT && FULL) NTK__VST(otr + w, ot);                                                    \
    else if (WT) NTK__VSTK(otr + w, k_, ot);                                                  \
    pq = cq, cq = nq, pt = ct, ct = nt;                                                       \
    (void)od, (void)k_, (void)kn_;                                                            \
  }
/* the row: whole vectors while the next is whole too; then the last one if whole, or the last
   whole one (its next partial) and the partial one, masked */
#define NTK__C3LOOP(WT, ACT)                                                                  \
  {                                                                                           \
    for (iv = 0; iv + 1 < nfull; iv++) NTK__C3STEP(WT, ACT, 1, 1)                             \
    if (nfull == nv) {                                                                        \
      NTK__C3STEP(WT, ACT, 1, 2)                                                              \
    } else {                                                                                  \
      if (nfull) {                                                                            \
        NTK__C3STEP(WT, ACT, 1, 0)                                                            \
        iv++;                                                                                 \
      }                                                                                       \
      NTK__C3STEP(WT, ACT, 0, 2)                                                              \
    }                                                                                         \
  }
/* one function per (Θ wanted, dual after), so that the compiler allocates the registers of
   each loop nest alone (one function with the four nests spilled more in the hot one) */
#define NTK__C3ARGS                                                                           \
  (const ntk__frame *F, size_t lo, const ntk_real *q, const ntk_real *t, ntk_real *qo, ntk_real *to, \
   const ntk_real *zr, ntk_real a, ntk_real b, ntk_real al, ntk_real be, ntk_real ga, const ntk__fr_act *act)
#define NTK__C3FN(NAME, WT, ACT)                                                              \
  NTK__TARGET_AVX512 static void NAME NTK__C3ARGS {                                           \
    size_t H = F->h, W = F->w, sw = F->sw, row, iv, d, nv = (W + NTK__VN - 1) / NTK__VN, nfull = W / NTK__VN; \
    size_t rw = act ? act->rw : 0, rp = act ? act->rp : 0;                                    \
    ntk_real f = act ? act->f : 0, h = act ? act->h : 0;                                      \
    NTK__RELU_VCONST                                                                          \
    const NTK__V ca = NTK__V1(a), cb = NTK__V1(b), cal = NTK__V1(al), cbe = NTK__V1(be), cga = NTK__V1(ga); \
    NTK__VM kc[NTK__C3MAXV + 1], kl[NTK__C3MAXV], kr[NTK__C3MAXV];                            \
    /* the masks, once per frame: kc the vector's lanes in the row (kc[nv] = 0: the look-ahead \
       past the row loads nothing); kl (kr) drops tap −1 (+1) of entries 0 and sw (sw − 1 and \
       W − 1), whose neighbour lies outside their run */                                      \
    for (iv = 0; iv < nv; iv++) {                                                             \
      size_t w0 = iv * NTK__VN;                                                               \
      kc[iv] = kl[iv] = kr[iv] = NTK__C3LANES(W - w0);                                        \
      if (w0 == 0) kl[iv] = (NTK__VM)(kl[iv] & ~1u);                                          \
      if (sw >= w0 && sw < w0 + NTK__VN) kl[iv] = (NTK__VM)(kl[iv] & ~(1u << (sw - w0)));     \
      if (W - 1 < w0 + NTK__VN) kr[iv] = (NTK__VM)(kr[iv] & ~(1u << (W - 1 - w0)));          \
      if (sw - 1 >= w0 && sw - 1 < w0 + NTK__VN) kr[iv] = (NTK__VM)(kr[iv] & ~(1u << (sw - 1 - w0))); \
    }                                                                                         \
    kc[nv] = 0;                                                                               \
    for (row = 0; row < H; row++) {                                                           \
      size_t a0 = row < F->sh ? 0 : F->sh, a1 = row < F->sh ? F->sh : H;                      \
      size_t hb = row + F->ch < H ? row + F->ch : row + F->ch - H;                            \
      const ntk_real *xq[3], *xt[3], *p11 = (ACT) ? act->va + row * rw : zr;                  \
      const ntk_real *p22 = (ACT) ? act->vb + hb * rw + F->cw : zr;                           \
      ntk_real *oqr = qo + row * W, *otr = (WT) ? to + row * W : qo;                          \
      NTK__V pq = zero, cq, nq, sq, pt = zero, ct = zero, nt = zero, st;                      \
      for (d = 0; d < 3; d++) {                                                               \
        long r = ntk__fr_row(row, d, lo, H, a0, a1, 0);                                       \
        xq[d] = r < 0 ? zr : q + (size_t)r * W;                                               \
        xt[d] = r < 0 || !(WT) ? zr : t + (size_t)r * W;                                      \
      }                                                                                       \
      cq = NTK__C3COL(0, xq, 0, kc[0]);                                                       \
      if (WT) ct = NTK__C3COL(0, xt, 0, kc[0]);                                               \
      NTK__C3LOOP(WT, ACT)                                                                    \
      (void)st, (void)p11, (void)p22, (void)otr, (void)xt;                                    \
    }                                                                                         \
    (void)rp, (void)t, (void)to;                                                              \
  }
NTK__C3FN(ntk__fr_conv3_qt_act, 1, 1)
NTK__C3FN(ntk__fr_conv3_qt, 1, 0)
NTK__C3FN(ntk__fr_conv3_q_act, 0, 1)
NTK__C3FN(ntk__fr_conv3_q, 0, 0)
static void ntk__fr_conv3_avx512 NTK__C3ARGS {
  if (t && act) ntk__fr_conv3_qt_act(F, lo, q, t, qo, to, zr, a, b, al, be, ga, act);
  else if (t) ntk__fr_conv3_qt(F, lo, q, t, qo, to, zr, a, b, al, be, ga, act);
  else if (act) ntk__fr_conv3_q_act(F, lo, q, t, qo, to, zr, a, b, al, be, ga, act);
  else ntk__fr_conv3_q(F, lo, q, t, qo, to, zr, a, b, al, be, ga, act);
}
#undef NTK__C3LANES
#undef NTK__C3LD
#undef NTK__C3ARGS
#undef NTK__C3FN
#undef NTK__C3COL
#undef NTK__C3STEP
#undef NTK__C3LOOP
#undef NTK__VLDZ
#undef NTK__VSTK
#undef NTK__VMADD
#undef NTK__VSHL
#undef NTK__VSHR
#undef NTK__RELU_VTAIL
#define NTK__RELU_VTAIL(R1T, FILL1) NTK__RELU_VTAIL_COPY(R1T, FILL1)
#undef NTK__R1STEP
#undef NTK__V
#undef NTK__VM
#undef NTK__VN
#undef NTK__VLD
#undef NTK__VST
#undef NTK__V1
#undef NTK__VMUL
#undef NTK__VFMA
#undef NTK__VFNMA
#undef NTK__VMAX0
#undef NTK__VSNEG
#undef NTK__VSQRT
#undef NTK__VLT
#undef NTK__VLE
#undef NTK__VGE
#undef NTK__VEQ
#undef NTK__VSEL
#undef NTK__VMAND
#undef NTK__VMANDN
#undef NTK__VMOR
#undef NTK__VABS
#undef NTK__VADD
#undef NTK__VLDM
#undef NTK__VSTM
/* AVX2 */
#ifdef NTK_REAL_FLOAT
#define NTK__V __m256
#define NTK__VM __m256
#define NTK__VN 8
#define NTK__VLD _mm256_loadu_ps
#define NTK__VST _mm256_storeu_ps
#define NTK__V1 _mm256_set1_ps
#define NTK__VMUL _mm256_mul_ps
#define NTK__VADD _mm256_add_ps
#define NTK__VFMA _mm256_fmadd_ps
#define NTK__VFNMA _mm256_fnmadd_ps
#define NTK__VMAX0(m, x) _mm256_blendv_ps(_mm256_max_ps(_mm256_setzero_ps(), x), _mm256_setzero_ps(), m)
#define NTK__VSNEG(S, r) _mm256_xor_ps(S, _mm256_andnot_ps(r, _mm256_set1_ps(-0.0f)))
#define NTK__VSQRT _mm256_sqrt_ps
#define NTK__VLT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define NTK__VLE(a, b) _mm256_cmp_ps(a, b, _CMP_LE_OQ)
#define NTK__VGE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define NTK__VEQ(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define NTK__VSEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define NTK__VMAND _mm256_and_ps
#define NTK__VMANDN _mm256_andnot_ps
#define NTK__VMOR _mm256_or_ps
#define NTK__VABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#else
#define NTK__V __m256d
#define NTK__VM __m256d
#define NTK__VN 4
#define NTK__VLD _mm256_loadu_pd
#define NTK__VST _mm256_storeu_pd
#define NTK__V1 _mm256_set1_pd
#define NTK__VMUL _mm256_mul_pd
#define NTK__VADD _mm256_add_pd
#define NTK__VFMA _mm256_fmadd_pd
#define NTK__VFNMA _mm256_fnmadd_pd
#define NTK__VMAX0(m, x) _mm256_blendv_pd(_mm256_max_pd(_mm256_setzero_pd(), x), _mm256_setzero_pd(), m)
#define NTK__VSNEG(S, r) _mm256_xor_pd(S, _mm256_andnot_pd(r, _mm256_set1_pd(-0.0)))
#define NTK__VSQRT _mm256_sqrt_pd
#define NTK__VLT(a, b) _mm256_cmp_pd(a, b, _CMP_LT_OQ)
#define NTK__VLE(a, b) _mm256_cmp_pd(a, b, _CMP_LE_OQ)
#define NTK__VGE(a, b) _mm256_cmp_pd(a, b, _CMP_GE_OQ)
#define NTK__VEQ(a, b) _mm256_cmp_pd(a, b, _CMP_EQ_OQ)
#define NTK__VSEL(m, a, b) _mm256_blendv_pd(b, a, m)
#define NTK__VMAND _mm256_and_pd
#define NTK__VMANDN _mm256_andnot_pd
#define NTK__VMOR _mm256_or_pd
#define NTK__VABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), a)
#endif
#define NTK__R1STEP , r1 += ld1
NTK__RELU_VFN(ntk__relu_rows_avx2, NTK__TARGET_AVX2, NTK__R1A, const ntk_real *r1, NTK__VLD(br1), NTK__FILL_ROWS)
#undef NTK__R1STEP
#define NTK__R1STEP
NTK__RELU_VFN(ntk__relu_row_avx2, NTK__TARGET_AVX2, NTK__R1B, ntk_real R1, NTK__V1(R1), (void)0;)
#undef NTK__R1STEP
#undef NTK__V
#undef NTK__VM
#undef NTK__VN
#undef NTK__VLD
#undef NTK__VST
#undef NTK__V1
#undef NTK__VMUL
#undef NTK__VFMA
#undef NTK__VFNMA
#undef NTK__VMAX0
#undef NTK__VSNEG
#undef NTK__VSQRT
#undef NTK__VLT
#undef NTK__VLE
#undef NTK__VGE
#undef NTK__VEQ
#undef NTK__VSEL
#undef NTK__VMAND
#undef NTK__VMANDN
#undef NTK__VMOR
#undef NTK__VABS
#undef NTK__VADD
#undef NTK__R1A
#undef NTK__R1B
#undef NTK__RELU_VFN
#undef NTK__RELU_VSTEP
#undef NTK__FILL_ROWS
#undef NTK__RELU_VTAIL
#undef NTK__RELU_VTAIL_COPY
#undef NTK__RELU_VTAIL_MASK
#undef NTK__VPOLY
#endif
#undef NTK__RELU_BODY
#undef NTK__RELU_T1
#undef NTK__RELU_T2
#undef NTK__RELU_R2
#undef NTK__RELU_MID
#undef NTK__RELU_SSEL
#undef NTK__RELU_COEFS
#undef NTK__ASIN_N
#undef NTK__ASIN_COEF
#undef NTK__RELU_LOOP
#undef NTK__ASIN2_POLY
/* the above at SIMD level lv (tests pass each level the CPU has; the library its own): nr rows
   of cnt entries, row r at q11 + r·ld1 (and s1, r1 with it), q22 + r·ld2 (s2, r2), q12 and th
   + r·ldq. ax->s1v NULL: one row point (ax->s1, ax->r1). */
static void ntk__relu_dual_rows(int lv, size_t nr, size_t cnt, const ntk_real *q11, size_t ld1, const ntk_real *q22,
                                size_t ld2, ntk_real *q12, ntk_real *th, size_t ldq, ntk_real f, ntk_real h,
                                const ntk__dual_aux *ax) {
  size_t r;
#if defined(NTK__BUILD_X86)
  if (lv >= NTK_SIMD_AVX512) {
    if (ax->r1v) ntk__relu_rows_avx512(nr, cnt, q11, ld1, q22, ld2, q12, th, ldq, f, h, ax->r1v, ax->r2);
    else ntk__relu_row_avx512(nr, cnt, q11, ld1, q22, ld2, q12, th, ldq, f, h, ax->r1, ax->r2);
    return;
  }
  if (lv >= NTK_SIMD_AVX2) {
    if (ax->r1v) ntk__relu_rows_avx2(nr, cnt, q11, ld1, q22, ld2, q12, th, ldq, f, h, ax->r1v, ax->r2);
    else ntk__relu_row_avx2(nr, cnt, q11, ld1, q22, ld2, q12, th, ldq, f, h, ax->r1, ax->r2);
    return;
  }
#endif
  (void)lv;
  for (r = 0; r < nr; r++) {
    ntk_real *t = th ? th + r * ldq : NULL;
    if (ax->r1v)
      ntk__relu_rows_gen(cnt, q11 + r * ld1, q22 + r * ld2, q12 + r * ldq, t, f, h, ax->r1v + r * ld1, ax->r2 + r * ld2);
    else
      ntk__relu_row_gen(cnt, q11 + r * ld1, q22 + r * ld2, q12 + r * ldq, t, f, h, ax->r1, ax->r2 + r * ld2);
  }
}
static void ntk__relu_dual(int lv, size_t cnt, const ntk_real *q11, const ntk_real *q22, ntk_real *q12, ntk_real *th,
                           ntk_real f, ntk_real h, const ntk__dual_aux *ax) {
  ntk__relu_dual_rows(lv, 1, cnt, q11, 0, q22, 0, q12, th, 0, f, h, ax);
}

#if defined(NTK__BUILD_X86) && !defined(NTK_REAL_FLOAT)
/* The ReLU-family dual on 4 entries at a time (AVX2+FMA): the scalar code below, vectorised by
   hand because compilers will not vectorise sqrt under -fmath-errno. Returns the entries done.
   ρ = 1 exactly when q12 = q11 = q22 (diagonal entries and variances), whichever path; ρ and
   the norm from √q and 1/√q of each point, as in ntk__rho (no q11·q22 that could leave the
   range). */
NTK__TARGET_AVX2 static size_t ntk__abrelu_avx2(size_t cnt, const double *q11, const double *q22,
                                                double *q12, double *th, double f, double h) {
  const double *a = ntk__asin_coef;
  const __m256d one = _mm256_set1_pd(1), half = _mm256_set1_pd(0.5), zero = _mm256_setzero_pd();
  const __m256d pi = _mm256_set1_pd(NTK__PI), pi2 = _mm256_set1_pd(NTK__PI / 2), sign = _mm256_set1_pd(-0.0);
  const __m256d vf = _mm256_set1_pd(f), vh = _mm256_set1_pd(h);
  size_t j;
  for (j = 0; j + 4 <= cnt; j += 4) {
    __m256d c = _mm256_loadu_pd(q12 + j), u = _mm256_loadu_pd(q11 + j), v = _mm256_loadu_pd(q22 + j);
    __m256d nrm, rho, s, av, big, t, z, z2, z4, z8, p03, p47, p8c, p, tv, d;
    {
      __m256d su = _mm256_sqrt_pd(u), sv = _mm256_sqrt_pd(v);
      __m256d ru = _mm256_and_pd(_mm256_div_pd(one, su), _mm256_cmp_pd(su, zero, _CMP_GT_OQ));
      __m256d rv = _mm256_and_pd(_mm256_div_pd(one, sv), _mm256_cmp_pd(sv, zero, _CMP_GT_OQ));
      nrm = _mm256_mul_pd(su, sv);
      rho = _mm256_mul_pd(_mm256_mul_pd(c, ru), rv);
    }
    rho = _mm256_blendv_pd(rho, one, _mm256_and_pd(_mm256_cmp_pd(c, u, _CMP_EQ_OQ), _mm256_cmp_pd(u, v, _CMP_EQ_OQ)));
    rho = _mm256_min_pd(one, _mm256_max_pd(_mm256_sub_pd(zero, one), rho));
    s = _mm256_mul_pd(nrm, _mm256_sqrt_pd(_mm256_mul_pd(_mm256_sub_pd(one, rho), _mm256_add_pd(one, rho))));
    av = _mm256_andnot_pd(sign, rho), big = _mm256_cmp_pd(av, half, _CMP_GT_OQ);
    t = _mm256_blendv_pd(av, _mm256_sqrt_pd(_mm256_mul_pd(_mm256_sub_pd(one, av), half)), big);
    z = _mm256_mul_pd(t, t), z2 = _mm256_mul_pd(z, z), z4 = _mm256_mul_pd(z2, z2), z8 = _mm256_mul_pd(z4, z4);
#define NTK__C(i) _mm256_set1_pd(a[i])
#define NTK__P2(i) _mm256_fmadd_pd(NTK__C(i + 1), z, NTK__C(i))
    p03 = _mm256_fmadd_pd(z2, NTK__P2(2), NTK__P2(0));
    p47 = _mm256_fmadd_pd(z2, NTK__P2(6), NTK__P2(4));
    p8c = _mm256_fmadd_pd(z4, NTK__C(12), _mm256_fmadd_pd(z2, NTK__P2(10), NTK__P2(8)));
    p = _mm256_mul_pd(t, _mm256_fmadd_pd(z8, p8c, _mm256_fmadd_pd(z4, p47, p03)));
#undef NTK__P2
#undef NTK__C
    tv = _mm256_blendv_pd(_mm256_sub_pd(pi2, p), _mm256_add_pd(p, p), big);
    tv = _mm256_blendv_pd(tv, _mm256_sub_pd(pi, tv), _mm256_cmp_pd(rho, zero, _CMP_LT_OQ));
    d = _mm256_fnmadd_pd(vf, tv, vh);
    _mm256_storeu_pd(q12 + j, _mm256_fmadd_pd(vf, s, _mm256_mul_pd(d, c)));
    if (th) _mm256_storeu_pd(th + j, _mm256_mul_pd(_mm256_loadu_pd(th + j), d));
  }
  return j;
}
#endif

/* Per-layer workspace of the quadrature activations (tanh, softplus, custom): see [quad]. */
typedef struct ntk__quad {
  int deg;   /* minimum nodes of every 1-D rule: the layer's quad_degree or NTK_QUAD_DEGREE */
  double *x; /* e^{−z²/2} at z = i/NTK__Q_DIV, i = 0 … NTK__Q_DIV·NTK__Q_ZMAX */
} ntk__quad;
static void ntk__quad_dual(const ntk_layer *L, const ntk__quad *q, double q11, double q22,
                           double q12, double *T, double *Td);

#ifdef NTK_REAL_FLOAT
#define NTK__EXPM1 expm1f
#define NTK__EXP_SAFE 85.0f /* |y| ≤ this: e^y is a normal float */
#else
#define NTK__EXPM1 expm1
#define NTK__EXP_SAFE 700.0
#endif
/* s·e^y, s = e^ls ≥ 0 (ls = log s, s may be Inf where ls is not): the product directly while e^y
   is a normal number, else e^(y + ls), so that neither factor overflows or underflows before
   the result does. */
static NTK__INLINE ntk_real ntk__exp_scaled(ntk_real y, ntk_real s, int s_ok, ntk_real ls) {
  return s_ok && y <= NTK__EXP_SAFE && y >= -NTK__EXP_SAFE ? s * NTK__EXP(y) : NTK__EXP(y + ls);
}

/* for (; j < cnt; j++) { body } with the per-point values P1 (row point) and P2 (column
   point j) of np slots: from aux, or computed here (the branch outside the loop) */
#define NTK__DUAL_LOOP(np, ...)                                                            \
  if (aux) {                                                                               \
    const ntk_real *s2_ = aux->s2, *r2_ = aux->r2;                                         \
    const ntk_real *x2a_ = aux->x2[0], *x2b_ = aux->x2[1], *x2c_ = aux->x2[2];             \
    const ntk_real *s1_ = aux->s1v, *r1_ = aux->r1v;                                       \
    const ntk_real *x1a_ = aux->x1v[0], *x1b_ = aux->x1v[1], *x1c_ = aux->x1v[2];          \
    for (; j < cnt; j++) {                                                                 \
      if (s1_) {                                                                           \
        P1[0] = s1_[j], P1[1] = r1_[j];                                                    \
        if ((np) > 2) P1[2] = x1a_[j], P1[3] = x1b_[j], P1[4] = x1c_[j];                   \
      }                                                                                    \
      P2[0] = s2_[j], P2[1] = r2_[j];                                                      \
      if ((np) > 2) P2[2] = x2a_[j], P2[3] = x2b_[j], P2[4] = x2c_[j];                     \
      __VA_ARGS__                                                                          \
    }                                                                                      \
  } else {                                                                                 \
    for (; j < cnt; j++) {                                                                 \
      ntk__dual_point(L, q11[j], P1), ntk__dual_point(L, q22[j], P2);                      \
      __VA_ARGS__                                                                          \
    }                                                                                      \
  }

NTK__NO_ERRNO static void ntk__dual(const ntk_layer *L, const ntk__quad *qd, size_t cnt,
                      const ntk_real *NTK_RESTRICT q11, const ntk_real *NTK_RESTRICT q22,
                      ntk_real *NTK_RESTRICT q12, ntk_real *NTK_RESTRICT th,
                      const ntk__dual_aux *aux) {
  size_t j;
  const ntk_real pi = (ntk_real)NTK__PI, one = 1;
  ntk_real P1[NTK__NPT], P2[NTK__NPT];
  if (aux) {
    int k;
    P1[0] = aux->s1, P1[1] = aux->r1;
    for (k = 2; k < NTK__NPT; k++) P1[k] = aux->x1[k - 2];
  }
  switch (L->kind) {
  case NTK_LAYER_IDENTITY:
    break;
  case NTK_LAYER_ABRELU: {
    const ntk_real a = (ntk_real)L->a, b = (ntk_real)L->b;
    const ntk_real f = (a - b) * (a - b) / (2 * pi), h = (a * a + b * b) / 2;
    /* s = √(q11q22 − q12²) taken as nrm·sin θ from the same ρ as θ: consistent s and θ keep
       T accurate to O(θ²) near ρ = 1, where the direct difference would cancel (and its
       error would push the next layer's ρ away from 1, costing ~1e-5 in a depth-3 NTK).
       The NTK factor Ṫ = h − f·θ is the conditioned part: dθ/dρ = −1/sin θ, so a ρ one
       rounding below 1 gives θ ≈ √(2·eps) ≈ 2e-8 (double), 5e-4 (float). Hence x2 = NULL
       computes diagonals with ρ = 1 exactly. nrm = √q11·√q22 and ρ by ntk__rho: no
       product of variances, so nothing leaves the range before the result does. */
    j = 0;
    if (aux) { /* the vectorised loop, one square root per entry */
      ntk__relu_dual(ntk__simd_level(), cnt, q11, q22, q12, th, f, h, aux);
      break;
    }
#if defined(NTK__BUILD_X86) && !defined(NTK_REAL_FLOAT)
    if (ntk__simd_level() >= NTK_SIMD_AVX2) j = ntk__abrelu_avx2(cnt, q11, q22, q12, th, f, h);
#endif
    NTK__DUAL_LOOP(2, {
      ntk_real c = q12[j], nrm = P1[0] * P2[0], rho = ntk__rho(c, q11[j], q22[j], P1[1], P2[1]);
      ntk_real s = nrm * NTK__SQRT((1 - rho) * (1 + rho)), d = h - f * ntk__acos(rho);
      q12[j] = f * s + d * c;
      if (th) th[j] *= d;
    })
    break;
  }
  case NTK_LAYER_ERF: {
    /* a·erf(b·x) + c with u = 2b²q11, v = 2b²q22: T = a²·(2/π)·asin τ + c², Ṫ = a²b²(4/π)/√R,
       τ = 2b²q12/√((1+u)(1+v)) = ρ·k1·k2 and R = (1+u)(1+v) − (2b²q12)² = (1+u)(1+v)·(1 − τ²).
       1 − τ² = w1 + w2 − w1·w2 + k1²k2²·(1−ρ)(1+ρ) (w = 1/(1+u), k² = 1 − w): a sum of
       non-negative terms, where the textbook P − 4c² cancels (u ≫ 1/eps: all digits) and
       P overflows; 1 − |τ| = (1 − τ²)/(1 + |τ|) for the arcsine near ±1. */
    const ntk_real a2 = (ntk_real)(L->a * L->a), c2 = (ntk_real)(L->c * L->c);
    j = 0;
    NTK__DUAL_LOOP(5, {
      ntk_real c = q12[j], rho = ntk__rho(c, q11[j], q22[j], P1[1], P2[1]);
      ntk_real kk = P1[2] * P2[2], tau = rho * kk;
      ntk_real E = (P1[3] + P2[3] * (one - P1[3])) + (kk * kk) * ((one - rho) * (one + rho));
      q12[j] = a2 * ((2 / pi) * ntk__asin_om(tau, E / (one + (tau < 0 ? -tau : tau)))) + c2;
      if (th) th[j] *= a2 * ((4 / pi) * ((P1[4] * P2[4]) / NTK__SQRT(E)));
    })
    break;
  }
  case NTK_LAYER_GELU:
    /* neural-tangents' form (Δ² = (1+q11)(1+q22) − q12², p = q11q22, p1 = (1+q11)(1+q22))
         T = q12/4 + ((q12² + p·Δ²)/(p1·Δ) + q12·asin(q12/√p1))/(2π)
         Ṫ = 1/4 + asin(q12/√p1)/(2π) + q12/(2πΔ)·(1/Δ² + (1 − p)/p1 + 1)
       rewritten in τ = q12/√p1 = ρ·k1·k2 (k = √(q/(1+q)), w = 1/(1+q), g = √(1+q)) with
       E = Δ²/p1 = 1 − τ² = w1 + w2 − w1·w2 + k1²k2²·(1−ρ)(1+ρ), Δ = g1·g2·√E:
         T = (q12·acos(−τ) + τ²/(g1·g2·√E) + k1k2·√q11√q22·√E)/(2π)
         Ṫ = (acos(−τ) + τ/√E·(w1w2/E + w1 + w2))/(2π)
       (q12/4 + q12·asin τ/(2π) = q12·acos(−τ)/(2π)). The textbook Δ² cancels on a diagonal
       once q ≫ 1/eps (0/0: NaN at depth 15, σ_w 16) and p1 overflows at q ~ 1e154. */
    j = 0;
    NTK__DUAL_LOOP(5, {
      ntk_real c = q12[j], rho = ntk__rho(c, q11[j], q22[j], P1[1], P2[1]);
      ntk_real kk = P1[2] * P2[2], tau = rho * kk;
      ntk_real E = (P1[3] + P2[3] * (one - P1[3])) + (kk * kk) * ((one - rho) * (one + rho));
      ntk_real sE = NTK__SQRT(E), isE = one / sE;
      ntk_real ac = ntk__acos_om(-tau, E / (one + (tau < 0 ? -tau : tau)));
      q12[j] = (c * ac + (tau * tau) * ((P1[4] * P2[4]) * isE) + kk * ((P1[0] * P2[0]) * sE)) / (2 * pi);
      if (th) th[j] *= (ac + tau * isE * ((P1[3] * P2[3]) * (isE * isE) + (P1[3] + P2[3]))) / (2 * pi);
    })
    break;
  case NTK_LAYER_SIN: {
    /* a·sin(b·x + c): T = a²/2·(e^(−b²·m−) − cos 2c·e^(−b²·m+)), Ṫ = a²b²/2·(e^(−b²·m−) +
       cos 2c·e^(−b²·m+)), m± = (q11 + q22 ± 2q12)/2 ≥ 0. Both exponents are factored through the
       smaller one, mn = ((√q11 − √q22)² + 2√q11√q22·(1 − |ρ|))/2 (no cancellation, 0 on a
       diagonal), the other being mn + 2|q12|: e^(−b²m) ≤ 1 throughout (the textbook
       e^(−b²(q11+q22)/2)·e^(±b²q12) is 0·Inf at large variances), and the difference goes
       through expm1 (sin at small q12: T ≈ a²b²q12, no cancellation). */
    const ntk_real ha2 = (ntk_real)(L->a * L->a / 2), b2 = (ntk_real)(L->b * L->b);
    const ntk_real ha2b2 = (ntk_real)(L->a * L->a / 2 * L->b * L->b);
    const ntk_real cs = (ntk_real)cos(2 * L->c), omc = (ntk_real)(2 * sin(L->c) * sin(L->c));
    const ntk_real opc = (ntk_real)(2 * cos(L->c) * cos(L->c)); /* 1 ∓ cos 2c without cancelling */
    j = 0;
    NTK__DUAL_LOOP(2, {
      ntk_real c = q12[j], rho = ntk__rho(c, q11[j], q22[j], P1[1], P2[1]);
      ntk_real ds = ntk__root_diff(q11[j], q22[j], P1[0], P2[0]), ac = c < 0 ? -c : c;
      ntk_real mn = (ntk_real)0.5 * (ds * ds) + (P1[0] * P2[0]) * (one - (rho < 0 ? -rho : rho));
      ntk_real E1 = NTK__EXP(-(b2 * mn)), e2 = NTK__EXPM1(-2 * (b2 * ac));
      if (c >= 0) { /* T ∝ 1 − cos 2c·e^(−2b²q12), Ṫ ∝ 1 + cos 2c·e^(−2b²q12) */
        q12[j] = ha2 * (E1 * (omc - cs * e2));
        if (th) th[j] *= ha2b2 * (E1 * (opc + cs * e2));
      } else if (e2 >= (ntk_real)-0.5) { /* T ∝ e^(−2b²|q12|) − cos 2c, Ṫ ∝ … + cos 2c */
        q12[j] = ha2 * (E1 * (omc + e2));
        if (th) th[j] *= ha2b2 * (E1 * (opc + e2));
      } else { /* e^(−2b²|q12|) itself, not 1 + expm1, once it is small */
        ntk_real x2 = NTK__EXP(-2 * (b2 * ac));
        q12[j] = ha2 * (E1 * (x2 - cs));
        if (th) th[j] *= ha2b2 * (E1 * (x2 + cs));
      }
    })
    break;
  }
  case NTK_LAYER_SIGN:
    j = 0;
    NTK__DUAL_LOOP(2, {
      q12[j] = P1[1] > 0 && P2[1] > 0 ? (2 / pi) * ntk__asin(ntk__rho(q12[j], q11[j], q22[j], P1[1], P2[1])) : 0;
      if (th) th[j] = 0;
    })
    break;
  case NTK_LAYER_RBF: {
    /* T = e^(−γ·(q11 + q22 − 2q12)), the exponent as (√q11 − √q22)² + 2√q11√q22·(1 − ρ); when
       q12 is within a factor 2 of q11 and of q22 (nearly parallel points), as
       (q11 − q12) + (q22 − q12) instead: both differences are exact (Sterbenz), while 1 − ρ
       would be lost once ρ rounds to 1 (float at q ≈ 6e14: e^(−0.55) for e^(−2e7), seen on
       aarch64 where FMA contraction rounds ρ up) */
    const ntk_real g = (ntk_real)L->a;
    j = 0;
    NTK__DUAL_LOOP(2, {
      ntk_real c = q12[j], e, T;
      if (c + c >= q11[j] && c <= q11[j] + q11[j] && c + c >= q22[j] && c <= q22[j] + q22[j]) {
        e = (q11[j] - c) + (q22[j] - c);
        e = e > 0 ? e : 0;
      } else {
        ntk_real ds = ntk__root_diff(q11[j], q22[j], P1[0], P2[0]);
        e = ds * ds + 2 * (P1[0] * P2[0]) * (one - ntk__rho(c, q11[j], q22[j], P1[1], P2[1]));
      }
      T = NTK__EXP(-g * e);
      q12[j] = T;
      if (th) th[j] *= (g * T) * 2;
    })
    break;
  }
  case NTK_LAYER_EXP: {
    /* a·e^(b·x): T = a²·e^(b²·m+), Ṫ = b²·T, m+ = (q11 + q22)/2 + q12 as
       (√q11 − √q22)²/2 + √q11√q22·(1 + ρ) (no cancellation at ρ → −1); a² and a²b² enter
       through ntk__exp_scaled, so that e^(b²m+) may overflow where T does not */
    const double la = L->a != 0 ? 2 * log(fabs(L->a)) : 0, lb = L->b != 0 ? 2 * log(fabs(L->b)) : 0;
    const ntk_real a2 = (ntk_real)(L->a * L->a), a2b2 = (ntk_real)(L->a * L->a * L->b * L->b);
    const ntk_real b2 = (ntk_real)(L->b * L->b), la2 = (ntk_real)la, la2b2 = (ntk_real)(la + lb);
    const int a2_ok = ntk__finite(a2), a2b2_ok = ntk__finite(a2b2) && L->b != 0;
    j = 0;
    if (L->a == 0) { /* φ = 0 */
      for (; j < cnt; j++) q12[j] = 0;
      if (th) for (j = 0; j < cnt; j++) th[j] = 0;
      break;
    }
    NTK__DUAL_LOOP(2, {
      ntk_real ds = ntk__root_diff(q11[j], q22[j], P1[0], P2[0]);
      ntk_real y = b2 * ((ntk_real)0.5 * (ds * ds) + (P1[0] * P2[0]) * (one + ntk__rho(q12[j], q11[j], q22[j], P1[1], P2[1])));
      q12[j] = ntk__exp_scaled(y, a2, a2_ok, la2);
      if (th) th[j] *= L->b != 0 ? ntk__exp_scaled(y, a2b2, a2b2_ok, la2b2) : 0;
    })
    break;
  }
  default: /* tanh, softplus, custom: [quad] */
    for (j = 0; j < cnt; j++) {
      double T, Td;
      ntk__quad_dual(L, qd, (double)q11[j], (double)q22[j], (double)q12[j], &T, &Td);
      q12[j] = (ntk_real)T;
      if (th) th[j] *= (ntk_real)Td;
    }
    break;
  }
}

/* ============================================================================================
   [quad] T = E[φ(u)φ(v)] and Ṫ = E[φ′(u)φ′(v)] for an activation without a closed form
   --------------------------------------------------------------------------------------------
   With q11 ≥ q22 (T and Ṫ are symmetric), the expectation over u ~ N(0, q11) of φ(u) times the
   conditional one over v | u ~ N(m, s²), m = (q12/q11)·u, s² = q22 − q12²/q11 (s = 0 at ρ = ±1
   and on the diagonal: then v = m exactly and the rule is 1-D). Every 1-D Gaussian
   expectation E[g(x)], x ~ N(m, s²), is a trapezoid sum in a mapped variable t:
     linear  x = m + s·t           when s ≤ 1 (or the activation's structure at x ≈ 0 lies more
                                   than NTK__Q_FAR standard deviations out): smooth in t;
     sinh    x = sinh(t)           otherwise: |x| from 1 to ~s·10 in O(log s) steps, so the
                                   structure of tanh/softplus at |x| ≲ 1 (sech², the sigmoid
                                   step) is resolved however wide the Gaussian.
   The trapezoid rule converges geometrically for integrands analytic in a strip (these are), so
   the step is halved from h0 until two successive sums agree to NTK__Q_TOLA of the sum of
   |terms| and the predicted error of the last one (d·(d/d′)², d and d′ the last two
   differences) is below NTK__Q_TOLB of it, or until they agree to NTK__Q_TOLC (a noisy φ′
   never gets below ~1e-13); every halving reuses the previous nodes. The inner
   rules' sums of |terms| are floored at 1e-3 of the largest one of the entry (the u = 0 node
   comes first), so that an inner integral that is negligible for the entry is not refined to
   relative accuracy. The range is marched out at the first step
   until the terms are negligible (so φ may grow, e.g. exponentially). A rule that has not
   converged by NTK__Q_MAXN nodes gives NaN (a kink, a jump, a divergent E[φ²]): the entry is
   then non-finite, never silently wrong.
   ============================================================================================ */
#define NTK__Q_DIV 16   /* the tabulated Gaussian: steps 1/16 of a standard deviation */
#define NTK__Q_ZMAX 40  /* … out to 40 standard deviations (the rule's hard range limit) */
#define NTK__Q_FAR 9    /* structure this many standard deviations out is ignored */
#define NTK__Q_BULK 8   /* the first step's range before the march (standard deviations) */
#define NTK__Q_TOLA 1e-6  /* accept when successive sums differ by at most this … */
#define NTK__Q_TOLB 1e-14 /* … and the predicted error d·(d/d′)² is at most this (× Σ|terms|) */
#define NTK__Q_TOLC 1e-12 /* or when they differ by at most this: a φ′ computed with rounding noise
                             (a user's σ(x)(1 − σ(x)) at x ≈ 30) stops the differences falling
                             at ~1e-13 of the sum, below the stated 1e-10 but above TOLB */
#define NTK__Q_MAXN 4096

typedef struct ntk__qctx {
  const ntk_layer *L;
  const ntk__quad *q;
  int kind; /* 1 tanh, 2 softplus (both fused), 0 the layer's f and df */
  double slope, s;
  double amax[2]; /* the largest inner E|φ|, E|φ′| so far in this entry */
  int fail;
} ntk__qctx;

/* φ(x) and φ′(x); tanh and softplus from one exponential, accurate in relative terms in the
   tails (sech²x = 4e^{−2|x|}/(1 + e^{−2|x|})², not 1 − tanh²x) */
static NTK__INLINE void ntk__qphi(const ntk__qctx *c, double x, double *f, double *df) {
  if (c->kind == 1) {
    double a = fabs(x), t, d;
    if (a < 0.5) {
      double e = expm1(-2 * a); /* e^{−2a} − 1 without cancellation */
      t = -e / (2 + e), d = 4 * (1 + e) / ((2 + e) * (2 + e));
    } else {
      double e = exp(-2 * a);
      t = (1 - e) / (1 + e), d = 4 * e / ((1 + e) * (1 + e));
    }
    *f = x < 0 ? -t : t, *df = d;
  } else if (c->kind == 2) {
    double e = exp(-fabs(x)), l = log1p(e);
    *f = x > 0 ? x + l : l, *df = x > 0 ? 1 / (1 + e) : e / (1 + e);
  } else {
    *f = c->L->f(x, c->L->user), *df = c->L->df(x, c->L->user);
  }
}
#undef NTK__DUAL_LOOP

static void ntk__qouter(ntk__qctx *c, double u, double out[4]);
#define NTK__Q_NORM 0.3989422804014326779 /* 1/√(2π) */

/* One node of a rule at t = i·h (ts = the table stride NTK__Q_DIV·h when that is a whole
   number, else 0): adds the Gaussian weight times g(x) to acc; g = (φ, φ′, |φ|, |φ′|) for
   the inner rule, φ(u)·(inner rule at u) for the outer one. Returns the weighted Σ|g|. */
static NTK__INLINE double ntk__qnode(ntk__qctx *c, int outer, double m, double s, int sinh_map,
                                     long i, double h, long ts, double acc[4]) {
  double w, x, t = (double)i * h, out[4];
  if (!sinh_map) {
    long ai = (i < 0 ? -i : i) * ts;
    x = m + s * t;
    w = ts && ai <= NTK__Q_DIV * NTK__Q_ZMAX ? c->q->x[ai] : exp(-t * t / 2);
  } else {
    double e = exp(t), z;
    x = (e - 1 / e) / 2;
    z = (x - m) / s;
    w = exp(-z * z / 2) * (e + 1 / e) / (2 * s);
  }
  if (outer) {
    ntk__qouter(c, x, out);
  } else {
    ntk__qphi(c, x, &out[0], &out[1]);
    out[2] = fabs(out[0]), out[3] = fabs(out[1]);
  }
  acc[0] += w * out[0], acc[1] += w * out[1], acc[2] += w * out[2], acc[3] += w * out[3];
  return w * (out[2] + out[3]);
}

/* E[g(x)] for x ~ N(m, s²), s > 0, component-wise (values in res[0..1], the same of |g| in
   res[2..3]); 0, or −1 if the rule did not converge. The first step sums the bulk
   (m ± NTK__Q_BULK·s) with at least 16 nodes, then marches out on each side while the terms
   are not negligible; every halving fills in the midpoints of that range. */
static int ntk__qrule(ntk__qctx *c, int outer, double m, double s, double res[4]) {
  int sinh_map = s > 1 && fabs(m) < NTK__Q_FAR * s, side, j, k;
  double acc[4] = {0, 0, 0, 0}, prev[2] = {0, 0}, h0, h, t0, t1, fl0 = 0, fl1 = 0, pd0 = -1, pd1 = -1;
  long lo, hi, n = 0, i, ts;
  if (sinh_map) {
    t0 = asinh(m - NTK__Q_BULK * s), t1 = asinh(m + NTK__Q_BULK * s);
    h0 = (t1 - t0) / 16 < 0.5 ? (t1 - t0) / 16 : 0.5;
  } else {
    t0 = -NTK__Q_BULK, t1 = NTK__Q_BULK, h0 = 1;
  }
  /* a range that is not finite (s or m overflowed) or absurdly many steps wide: no rule (and no
     conversion of ±Inf to long) */
  if (!(fabs(t0 / h0) <= 1e6 && fabs(t1 / h0) <= 1e6)) { c->fail = 1; return -1; }
  lo = (long)floor(t0 / h0), hi = (long)ceil(t1 / h0);
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  ts = sinh_map ? 0 : (long)(NTK__Q_DIV * h0);
  /* t = 0 first: for the outer rule that is u = 0, where the inner integrals are largest */
  for (i = 0; i <= hi; i++, n++) (void)ntk__qnode(c, outer, m, s, sinh_map, i, h0, ts, acc);
  for (i = -1; i >= lo; i--, n++) (void)ntk__qnode(c, outer, m, s, sinh_map, i, h0, ts, acc);
  if (!outer) fl0 = c->amax[0] * 1e-3 / (h0 * NTK__Q_NORM), fl1 = c->amax[1] * 1e-3 / (h0 * NTK__Q_NORM);
  for (side = -1; side <= 1; side += 2) {
    for (k = 1;; k++) {
      long it = side < 0 ? lo - k : hi + k;
      double t = (double)it * h0, term, dz;
      dz = sinh_map ? fabs(sinh(t) - m) / s : fabs(t);
      if (dz > NTK__Q_ZMAX) { c->fail = 1; return -1; } /* still not negligible */
      term = ntk__qnode(c, outer, m, s, sinh_map, it, h0, ts, acc);
      n++;
      if (!ntk__finite_d(acc[2] + acc[3])) { c->fail = 1; return -1; }
      if (term <= 1e-17 * (acc[2] + acc[3] + fl0 + fl1)) break;
    }
    if (side < 0) lo -= k; else hi += k;
  }
  prev[0] = acc[0] * h0, prev[1] = acc[1] * h0;
  for (j = 1, h = h0 / 2;; j++, h /= 2) {
    long m2 = 1L << (j - 1);
    double d0, d1, r0, r1, a0, a1;
    long tsj = ts % (2 * m2) == 0 ? ts / (2 * m2) : 0;
    for (i = lo * m2; i < hi * m2; i++) (void)ntk__qnode(c, outer, m, s, sinh_map, 2 * i + 1, h, tsj, acc);
    n += (hi - lo) * m2;
    if (!ntk__finite_d(acc[0] + acc[1] + acc[2] + acc[3])) { c->fail = 1; return -1; }
    d0 = fabs(acc[0] * h - prev[0]), d1 = fabs(acc[1] * h - prev[1]);
    prev[0] = acc[0] * h, prev[1] = acc[1] * h;
    /* geometric convergence: the error of this sum is about the next difference, d·(d/d′)² */
    r0 = pd0 > d0 ? d0 / pd0 : 1, r1 = pd1 > d1 ? d1 / pd1 : 1;
    pd0 = d0, pd1 = d1;
    a0 = (acc[2] + fl0 * h0 / h) * h, a1 = (acc[3] + fl1 * h0 / h) * h;
    if (((d0 <= NTK__Q_TOLA * a0 && d0 * r0 * r0 <= NTK__Q_TOLB * a0 && d1 <= NTK__Q_TOLA * a1 &&
          d1 * r1 * r1 <= NTK__Q_TOLB * a1) ||
         (d0 <= NTK__Q_TOLC * a0 && d1 <= NTK__Q_TOLC * a1)) &&
        n >= c->q->deg)
      break;
    if (n > NTK__Q_MAXN) { c->fail = 1; return -1; }
  }
  for (k = 0; k < 4; k++) res[k] = acc[k] * h * NTK__Q_NORM;
  if (!outer) {
    if (res[2] > c->amax[0]) c->amax[0] = res[2];
    if (res[3] > c->amax[1]) c->amax[1] = res[3];
  }
  return 0;
}

static void ntk__qouter(ntk__qctx *c, double u, double out[4]) {
  double f, df, r[4];
  ntk__qphi(c, u, &f, &df);
  if (c->s > 0) {
    if (ntk__qrule(c, 0, c->slope * u, c->s, r) != 0) r[0] = r[1] = r[2] = r[3] = NAN;
  } else { /* ρ = ±1: v = slope·u */
    ntk__qphi(c, c->slope * u, &r[0], &r[1]);
    r[2] = fabs(r[0]), r[3] = fabs(r[1]);
  }
  out[0] = f * r[0], out[1] = df * r[1], out[2] = fabs(f) * r[2], out[3] = fabs(df) * r[3];
}

static void ntk__quad_dual(const ntk_layer *L, const ntk__quad *q, double q11, double q22,
                           double q12, double *T, double *Td) {
  ntk__qctx c;
  double r[4];
  c.L = L, c.q = q, c.fail = 0, c.amax[0] = c.amax[1] = 0;
  c.kind = L->f == ntk__tanh_f && L->df == ntk__tanh_df ? 1
           : L->f == ntk__softplus_f && L->df == ntk__softplus_df ? 2 : 0;
  if (!(ntk__finite_d(q11) && ntk__finite_d(q22) && ntk__finite_d(q12))) { *T = *Td = NAN; return; }
  if (q11 < q22) { double t = q11; q11 = q22, q22 = t; }
  if (!(q11 > 0)) { /* u = v = 0 */
    double f, df;
    ntk__qphi(&c, 0, &f, &df);
    *T = f * f, *Td = df * df;
    return;
  }
  c.slope = q12 / q11;
  c.s = q22 - c.slope * q12;
  c.s = c.s > 0 ? sqrt(c.s) : 0;
  if (ntk__qrule(&c, 1, 0, sqrt(q11), r) != 0 || c.fail) *T = *Td = NAN;
  else *T = r[0], *Td = r[1];
}

/* The Gaussian weights of the linear map, tabulated once per layer. */
static ntk_status ntk__quad_init(ntk__quad *q, int n) {
  int i, m = NTK__Q_DIV * NTK__Q_ZMAX;
  q->deg = n;
  q->x = (double *)NTK_MALLOC(sizeof(double) * (size_t)(m + 1));
  if (!q->x) return NTK_ERR_OUT_OF_MEMORY;
  for (i = 0; i <= m; i++) {
    double z = (double)i / NTK__Q_DIV;
    q->x[i] = exp(-z * z / 2);
  }
  return NTK_OK;
}

/* ============================================================================================
   [kernel] the infinite-width NNGP and NTK, tile by tile
   --------------------------------------------------------------------------------------------
   1. per-point variances q(x,x) after every layer, for x1 and x2: O((n1+n2)·L);
   2. the Gram matrix x1·x2ᵀ/dim straight into an output array (SYRK when x2 = x1);
   3. the layer recursion elementwise, row segment by row segment, in place;
   4. x2 = x1: mirror the lower triangle.
   ============================================================================================ */
typedef struct ntk__kjob {
  const ntk_layer *layers;
  size_t L, n1, n2, dim;
  int sym, want_nngp, want_ntk;
  const ntk_real *var1, *var2; /* (L+1, n): variance at the input of layer l */
  const ntk_real *pt1[NTK__NPT], *pt2[NTK__NPT]; /* (n_act, n) each: ntk__dual_point's values of
                                                    the variance at the input of layer l, for
                                                    the layers whose dual uses them (row
                                                    act[l]): a 64 KiB microcontroller has no
                                                    room for them at every layer */
  const size_t *act;           /* (L): row of layer l in pt1/pt2 */
  const double *nin;           /* (L): input width of each Dense layer ('standard') */
  ntk__quad *quad;             /* per layer, only for quadrature activations */
  ntk_real *buf;               /* the Gram matrix on entry, one of the outputs */
  ntk_real *nngp, *ntk;
} ntk__kjob;

/* The mirror of a block of the lower triangle of the (n, n) matrix M: M[j][i] = M[i][j] for
   rows i0 ≤ i < i1 and columns j0 ≤ j < min(j1, i). Each row j of the upper triangle gets a
   short contiguous run that is not read again here, so on x86 it is written with streaming
   stores (no read-for-ownership of lines that are fully overwritten; about 0.15 s of a
   10000-point kernel at 2 threads); the caller fences. */
#if defined(NTK__BUILD_X86)
#ifdef NTK_REAL_FLOAT
#define NTK__MIRROR_V 8
#define NTK__MIRROR_STREAM(d, s, st) \
  _mm256_stream_ps(d, _mm256_set_ps(s[7 * st], s[6 * st], s[5 * st], s[4 * st], s[3 * st], s[2 * st], s[st], s[0]))
#else
#define NTK__MIRROR_V 4
#define NTK__MIRROR_STREAM(d, s, st) _mm256_stream_pd(d, _mm256_set_pd(s[3 * st], s[2 * st], s[st], s[0]))
#endif
NTK__TARGET_AVX2 static void ntk__mirror_block_avx2(ntk_real *M, size_t n, size_t i0, size_t i1,
                                                    size_t j0, size_t j1) {
  size_t i, j;
  for (j = j0; j < j1 && j + 1 < i1; j++) {
    ntk_real *dst = M + j * n;
    const ntk_real *src;
    for (i = i0 > j + 1 ? i0 : j + 1; i < i1 && ((size_t)(dst + i) & 31); i++) dst[i] = M[i * n + j];
    for (src = M + i * n + j; i + NTK__MIRROR_V <= i1; i += NTK__MIRROR_V, src += NTK__MIRROR_V * n)
      NTK__MIRROR_STREAM(dst + i, src, n);
    for (; i < i1; i++) dst[i] = M[i * n + j];
  }
}
#endif
static void ntk__mirror_block(ntk_real *M, size_t n, size_t i0, size_t i1, size_t j0, size_t j1) {
  size_t i, j;
#if defined(NTK__BUILD_X86)
  if (ntk__simd_level() >= NTK_SIMD_AVX2) {
    ntk__mirror_block_avx2(M, n, i0, i1, j0, j1);
    return;
  }
#endif
  for (j = j0; j < j1 && j + 1 < i1; j++)
    for (i = i0 > j + 1 ? i0 : j + 1; i < i1; i++) M[j * n + i] = M[i * n + j];
}

#define NTK__KSEG 256 /* columns per recursion segment */
#define NTK__KROWS 32 /* rows per block */

/* run the recursion for entries (i, j0..j0+cnt); q12 in/out, th out (may be NULL). With
   x2 = x1 the diagonal entry (i, i), if in the run, is set to the variance after every layer:
   it is that value mathematically, and bit for bit it keeps ρ = 1 exact at the next layer
   whatever the compiler contracted into FMAs in one loop and not in the other. */
NTK__VEC static void ntk__kernel_seg(const ntk__kjob *jb, size_t i, size_t j0, size_t cnt, ntk_real *q12,
                            ntk_real *th, ntk_real *v1) {
  size_t l, j, jd = jb->sym && i >= j0 && i - j0 < cnt ? i - j0 : cnt;
  for (j = 0; j < cnt; j++) v1[j] = jb->var1[i];
  if (th)
    for (j = 0; j < cnt; j++) th[j] = 0;
  for (l = 0; l < jb->L; l++) {
    const ntk_layer *L = &jb->layers[l];
    const ntk_real *q22 = jb->var2 + l * jb->n2 + j0;
    if (L->kind == NTK_LAYER_DENSE) {
      ntk_real w2 = (ntk_real)(L->w_std * L->w_std), b2 = (ntk_real)(ntk__bstd(L) * ntk__bstd(L));
      if (th && L->param == NTK_PARAM_STANDARD) {
        /* +1 for a bias parameter, also at b_std = 0 (stax Dense, b_std = 0.) */
        ntk_real nin = (ntk_real)jb->nin[l], one = ntk__has_bias(L) ? 1 : 0;
        for (j = 0; j < cnt; j++) th[j] = nin * q12[j] + w2 * th[j] + one;
        for (j = 0; j < cnt; j++) q12[j] = w2 * q12[j] + b2;
      } else {
        for (j = 0; j < cnt; j++) q12[j] = w2 * q12[j] + b2;
        if (th)
          for (j = 0; j < cnt; j++) th[j] = q12[j] + w2 * th[j];
      }
    } else {
      ntk__dual_aux aux;
      int k, np = ntk__dual_npt(L->kind);
      memset(&aux, 0, sizeof aux);
      if (np) {
        size_t r1 = jb->act[l] * jb->n1 + i, r2 = jb->act[l] * jb->n2 + j0;
        aux.s1 = jb->pt1[0][r1], aux.r1 = jb->pt1[1][r1];
        aux.s2 = jb->pt2[0] + r2, aux.r2 = jb->pt2[1] + r2;
        for (k = 2; k < np; k++) aux.x1[k - 2] = jb->pt1[k][r1], aux.x2[k - 2] = jb->pt2[k] + r2;
      }
      ntk__dual(L, &jb->quad[l], cnt, v1, q22, q12, th, np ? &aux : NULL);
    }
    if (jd < cnt) q12[jd] = jb->var1[(l + 1) * jb->n1 + i];
    if (l + 1 < jb->L)
      for (j = 0; j < cnt; j++) v1[j] = jb->var1[(l + 1) * jb->n1 + i];
  }
}

/* Any NaN or ±Inf in x (n) or y (n)? On the exponent bits (no -ffast-math folding),
   branch-free so that it vectorises: an all-ones exponent plus one carries into the sign bit. */
#ifdef NTK_REAL_FLOAT
#define NTK__NONFINITE_BODY                                                                   \
  size_t i;                                                                                   \
  uint32_t acc = 0, u, v;                                                                     \
  for (i = 0; i < n; i++) {                                                                   \
    memcpy(&u, x + i, sizeof u), memcpy(&v, y + i, sizeof v);                                 \
    acc |= ((u & 0x7f800000u) + 0x00800000u) | ((v & 0x7f800000u) + 0x00800000u);            \
  }                                                                                           \
  return (int)(acc >> 31);
#else
#define NTK__NONFINITE_BODY                                                                   \
  size_t i;                                                                                   \
  uint64_t acc = 0, u, v;                                                                     \
  for (i = 0; i < n; i++) {                                                                   \
    memcpy(&u, x + i, sizeof u), memcpy(&v, y + i, sizeof v);                                 \
    acc |= ((u & 0x7ff0000000000000ull) + 0x0010000000000000ull) |                            \
           ((v & 0x7ff0000000000000ull) + 0x0010000000000000ull);                             \
  }                                                                                           \
  return (int)(acc >> 63);
#endif
#if defined(NTK__BUILD_X86)
NTK__TARGET_AVX2 NTK__VEC static int ntk__any_nonfinite_avx2(const ntk_real *x, const ntk_real *y, size_t n) {
  NTK__NONFINITE_BODY
}
#endif
NTK__VEC static int ntk__any_nonfinite2(const ntk_real *x, const ntk_real *y, size_t n) {
#if defined(NTK__BUILD_X86)
  if (ntk__simd_level() >= NTK_SIMD_AVX2) return ntk__any_nonfinite_avx2(x, y, n);
#endif
  {
    NTK__NONFINITE_BODY
  }
}
#undef NTK__NONFINITE_BODY
static int ntk__any_nonfinite(const ntk_real *x, size_t n) { return ntk__any_nonfinite2(x, x, n); }

static ntk_status ntk__skernel(const ntk__arch *A, const ntk_layer *layers, size_t L, const ntk_real *x1,
                               size_t n1, const ntk_real *x2, size_t n2, size_t dim, ntk_real *nngp,
                               ntk_real *ntk, const ntk_kernel_desc *dd, int sym);
/* ---- the kernel engine: one context per call, blocks computed independently ---------------
   Every entry (i, j) of an MLP kernel is computed by exactly the same operations whatever the
   block it falls in (this is what makes ntk_kernel_tiles equal ntk_kernel bit for bit, for any
   block shape and any MPI distribution):
   - its Gram value x1_i·x2_j/dim by the packed GEMM (ntk__use_direct is bypassed: the direct
     path, which ntk_dgemm takes for small products, sums in another order) — each entry of a
     packed product is one FMA chain over k in KC-sized panels whose size depends on k only;
   - its recursion in the call ntk_kernel would make: row i cut into segments of NTK__KSEG
     columns from column 0 (ending at n2, or at i + 1 with x2 = x1), and within a segment the
     same lanes: the AVX2 dual (ReLU family, double) takes groups of 4 from the segment's start
     and the scalar loop the rest, and the two differ in the last bits. ntk__krow computes any
     column range [a, b) by running the 4-aligned groups that cover it (padding lanes discarded)
     and the scalar tail one short call at a time. */
#ifdef NTK_REAL_FLOAT
#define NTK__KTYPES ntk__types_s
#else
#define NTK__KTYPES ntk__types_d
#endif
#define NTK__KLANES 4 /* the AVX2 dual's group (ntk__abrelu_avx2) */

typedef struct ntk__kctx {
  ntk__arch A;
  ntk__kjob jb;
  const ntk_layer *layers;
  size_t L, n1, n2, dim;
  const ntk_real *x1, *x2;
  int sym, spatial, nonfinite;
  ntk_real *var;
  double *nin;
  size_t *act;
  ntk__quad *quad;
} ntk__kctx;

static void ntk__kctx_free(ntk__kctx *c) {
  size_t l;
  if (c->quad) for (l = 0; l < c->L; l++) if (c->quad[l].x) NTK_FREE(c->quad[l].x);
  NTK_FREE(c->quad);
  NTK_FREE(c->nin);
  NTK_FREE(c->act);
  NTK_FREE(c->var);
  ntk__arch_free(&c->A);
  memset(c, 0, sizeof *c);
}

/* Gram block C (m, n) = x1[i0 …]·x2[j0 …]ᵀ/dim, always the packed path where one exists */
static ntk_status ntk__kgram(const ntk__kctx *c, size_t i0, size_t m, size_t j0, size_t n,
                             ntk_real *C, size_t ldc, int tri) {
  size_t big = 4096;
  return ntk__gemm(&NTK__KTYPES, ntk__simd_level(), ntk__use_direct(big, big, big), tri, 0, 1, m, n,
                   c->dim, (double)(ntk_real)(1.0 / (double)c->dim), c->x1 + i0 * c->dim, c->dim,
                   c->x2 + j0 * c->dim, c->dim, 0.0, C, ldc);
}

/* Checks the arguments and builds the per-point state: variances after every layer and the
   closed-form duals' per-point values, O((n1 + n2)·L). Spatial lists: only the front end
   (c->spatial = 1; the [skernel] driver does the rest). The caller frees c either way. */
static ntk_status ntk__kctx_init(ntk__kctx *c, const ntk_layer *layers, size_t n_layers,
                                 const ntk_real *x1, size_t n1, const ntk_real *x2, size_t n2,
                                 size_t dim, int want) {
  ntk_status st;
  size_t L = n_layers, i, l, nv, npt, nact, npp, bad;
  int ok = 1, sym = x2 == NULL;
  const char *why;
  memset(c, 0, sizeof *c);
  if (sym) n2 = n1, x2 = x1;
  c->layers = layers, c->L = L, c->n1 = n1, c->n2 = n2, c->dim = dim, c->x1 = x1, c->x2 = x2;
  c->sym = sym;
  /* the front end: shapes and fan-ins ('standard' Dense layers need the finite input width) */
  st = ntk__arch_init(&c->A, layers, n_layers, dim, &bad, &why);
  if (st != NTK_OK) return st;
  if (c->A.spatial) { c->spatial = 1; return NTK_OK; }
  if (dim == 0 || (n1 > 0 && !x1) || (n2 > 0 && !x2)) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n1 > n2 ? n1 : n2, dim, &ok), sizeof(ntk_real), &ok);
  (void)ntk__mul(ntk__mul(n1, n2, &ok), sizeof(ntk_real), &ok);
  nv = ntk__mul(ntk__add(n1, sym ? 0 : n2, &ok), L + 1, &ok);
  (void)ntk__mul(ntk__mul(nv, 1 + NTK__NPT, &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (n1 == 0 || n2 == 0 || !want) return NTK_OK;
  for (i = 0; i < n1 * dim; i++) if (!ntk__finite(x1[i])) return NTK_ERR_NON_FINITE;
  if (!sym) for (i = 0; i < n2 * dim; i++) if (!ntk__finite(x2[i])) return NTK_ERR_NON_FINITE;
  /* variances (nv), and the per-point values of the closed-form duals (ntk__dual_point: √q,
     1/√q, …): npt ≤ NTK__NPT slots of npp = (n1 + n2)·n_act each, for the n_act layers whose
     dual uses them: O((n1 + n2)·L) */
  npt = 0, nact = 0;
  for (l = 0; l < L; l++) {
    size_t np = (size_t)ntk__dual_npt(layers[l].kind);
    if (np > npt) npt = np;
    if (np) nact++;
  }
  npp = (n1 + (sym ? 0 : n2)) * nact; /* ≤ nv: no overflow */
  c->var = (ntk_real *)NTK_MALLOC((nv + npt * npp) * sizeof(ntk_real));
  c->nin = (double *)NTK_MALLOC(L * sizeof(double));
  c->act = (size_t *)NTK_MALLOC(L * sizeof(size_t));
  c->quad = (ntk__quad *)NTK_MALLOC(L * sizeof(ntk__quad));
  if (c->quad) memset(c->quad, 0, L * sizeof(ntk__quad)); /* before any failure: ntk__kctx_free reads it */
  if (!c->var || !c->nin || !c->act || !c->quad) return NTK_ERR_OUT_OF_MEMORY;
  for (l = 0, nact = 0; l < L; l++) c->act[l] = ntk__dual_npt(layers[l].kind) ? nact++ : 0;
  for (l = 0; l < L; l++) {
    const ntk_layer *ly = &layers[l];
    c->nin[l] = (double)c->A.l[l].fan_in;
    if (ntk__is_quadrature(ly->kind)) {
      st = ntk__quad_init(&c->quad[l], ly->quad_degree ? ly->quad_degree : NTK_QUAD_DEGREE);
      if (st != NTK_OK) return st;
    }
  }
  {
    ntk__kjob *jb = &c->jb;
    ntk_real *var = c->var;
    memset(jb, 0, sizeof *jb);
    jb->layers = layers, jb->L = L, jb->n1 = n1, jb->n2 = n2, jb->dim = dim, jb->sym = sym;
    jb->var1 = var, jb->var2 = sym ? var : var + (L + 1) * n1;
    for (l = 0; l < npt; l++) {
      jb->pt1[l] = var + nv + l * npp;
      jb->pt2[l] = sym ? jb->pt1[l] : jb->pt1[l] + nact * n1;
    }
    jb->act = c->act, jb->nin = c->nin, jb->quad = c->quad;
  }
  /* variances: the recursion on (q, q, q), through the same code as every entry. With
     x2 = NULL they start from the Gram diagonal itself (the entries (i, i) of a packed
     product), so that identical inputs give bit-identical rows (a kernel with duplicates is
     exactly singular, not nearly). */
  {
    size_t pass, np = sym ? 1 : 2;
    ntk_real *var = c->var;
    for (pass = 0; pass < np; pass++) {
      const ntk_real *x = pass ? x2 : x1;
      size_t n = pass ? n2 : n1;
      ntk_real *v = pass ? var + (L + 1) * n1 : var;
      if (sym) {
        ntk_real g[64 * 64];
        for (i = 0; i < n; i += 64) {
          size_t m = n - i < 64 ? n - i : 64, k;
          st = ntk__kgram(c, i, m, i, m, g, m, 1);
          if (st != NTK_OK) return st;
          for (k = 0; k < m; k++) v[i + k] = g[k * m + k];
        }
      } else {
        for (i = 0; i < n; i++) {
          double acc = 0;
          size_t k;
          for (k = 0; k < dim; k++) acc += (double)x[i * dim + k] * (double)x[i * dim + k];
          v[i] = (ntk_real)(acc / (double)dim);
        }
      }
      for (l = 0; l < L; l++) {
        const ntk_layer *ly = &layers[l];
        ntk_real *cur = v + l * n, *nxt = v + (l + 1) * n;
        memcpy(nxt, cur, n * sizeof(ntk_real));
        if (ly->kind == NTK_LAYER_DENSE) {
          ntk_real w2 = (ntk_real)(ly->w_std * ly->w_std), b2 = (ntk_real)(ntk__bstd(ly) * ntk__bstd(ly));
          for (i = 0; i < n; i++) nxt[i] = w2 * nxt[i] + b2;
        } else {
          ntk__dual(ly, &c->quad[l], n, cur, cur, nxt, NULL, NULL);
        }
      }
    }
  }
  /* a variance that over- or underflowed to ±Inf/NaN at any layer: the kernel is not
     representable there (off-diagonal entries are bounded by the diagonal ones) */
  c->nonfinite = ntk__any_nonfinite(c->var, nv);
  for (l = 0; l < L; l++) {
    size_t np = (size_t)ntk__dual_npt(layers[l].kind), pass, k;
    for (pass = 0; np && pass < (sym ? 1u : 2u); pass++) {
      size_t n = pass ? n2 : n1, off = (pass ? (L + 1) * n1 : 0) + l * n;
      for (i = 0; i < n; i++) {
        ntk_real o[NTK__NPT];
        ntk__dual_point(&layers[l], c->var[off + i], o);
        for (k = 0; k < np; k++) c->var[nv + k * npp + (pass ? nact * n1 : 0) + c->act[l] * n + i] = o[k];
      }
    }
  }
  return NTK_OK;
}

/* Entries (i, a … b−1) of an MLP kernel, b ≤ the row's extent (n2, or i + 1 with x2 = x1), from
   their Gram values g (b − a): the NNGP into q (may be g itself; NULL: not wanted), the NTK into
   t (NULL: not wanted). w: scratch of 3·NTK__KSEG. Returns 1 if an entry is not finite. The
   calls are those ntk_kernel makes for these entries (see above), so the bits are too. */
static int ntk__krow(const ntk__kjob *jb, size_t i, size_t a, size_t b, const ntk_real *g,
                     ntk_real *q, ntk_real *t, ntk_real *w) {
  size_t jmax = jb->sym ? i + 1 : jb->n2, a0 = a;
  ntk_real *wq = w, *wt = w + NTK__KSEG, *v1 = w + 2 * NTK__KSEG;
  int bad = 0;
  while (a < b) {
    size_t s0 = a / NTK__KSEG * NTK__KSEG, cnt = jmax - s0 < NTK__KSEG ? jmax - s0 : NTK__KSEG;
    size_t vec = cnt / NTK__KLANES * NTK__KLANES, e = b < s0 + cnt ? b : s0 + cnt, lo, hi, j;
    if (a < s0 + vec) { /* whole groups of the segment's vector part */
      size_t r = (e - s0 + NTK__KLANES - 1) / NTK__KLANES * NTK__KLANES;
      lo = s0 + (a - s0) / NTK__KLANES * NTK__KLANES;
      hi = s0 + (r < vec ? r : vec);
    } else { /* the scalar tail (fewer than NTK__KLANES entries: no vector group) */
      lo = a, hi = e;
    }
    for (j = lo; j < hi; j++) wq[j - lo] = j >= a && j < e ? g[j - a0] : 0;
    ntk__kernel_seg(jb, i, lo, hi - lo, wq, t ? wt : NULL, v1);
    if (e > hi) e = hi;
    if (ntk__any_nonfinite2(wq + (a - lo), t ? wt + (a - lo) : wq + (a - lo), e - a)) bad = 1;
    if (q) memcpy(q + (a - a0), wq + (a - lo), (e - a) * sizeof(ntk_real));
    if (t) memcpy(t + (a - a0), wt + (a - lo), (e - a) * sizeof(ntk_real));
    a = e;
  }
  return bad;
}

/* Entries of the block computed: all, or with x2 = x1 those with j ≤ i (progress counts these) */
static size_t ntk__kwork(int sym, size_t i0, size_t i1, size_t j0, size_t j1) {
  size_t i, w = 0;
  if (!sym) return (i1 - i0) * (j1 - j0);
  for (i = i0; i < i1; i++) w += i + 1 <= j0 ? 0 : (i + 1 < j1 ? i + 1 : j1) - j0;
  return w;
}

/* Cancellation inside a block (a block of a deep network can take seconds): between row chunks
   every thread looks at the shared flag, and the master thread also calls the progress
   callback once at least NTK__KPOLL entries have been computed since its last call. */
#define NTK__KPOLL 65536
typedef struct {
  const ntk_tile_desc *d;
  size_t *done, total;
  int *cancelled, master;
} ntk__kpoll;

/* nonzero: stop (another thread cancelled, or the callback asked to) */
static int ntk__kpoll_now(const ntk__kpoll *p, size_t partial) {
  int stop;
  size_t now;
  if (!p) return 0;
#ifdef NTK__OMP
#pragma omp atomic read
#endif
  stop = *p->cancelled;
  if (stop) return 1;
  if (!p->master || !p->d->progress) return 0;
#ifdef NTK__OMP
#pragma omp atomic read
#endif
  now = *p->done;
  now += partial;
  if (p->d->progress("kernel", p->total ? (double)(now < p->total ? now : p->total) / (double)p->total : 1.0,
                     p->d->progress_user)) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
    *p->cancelled = 1;
    return 1;
  }
  return 0;
}

/* The MLP block rows [i0, i1) × columns [j0, j1) into Q (NNGP, ldq) and T (NTK, ldt), either
   NULL, both at the block's origin; with x2 = x1 only the entries j ≤ i (others left as they
   are). The Gram values are computed first into G (ldg: Q, T or a scratch). MQ, MT (NULL: no
   mirror): the whole matrices Q and T are in, whose upper triangle gets the mirror of every
   chunk of NTK__KROWS rows × NTK__KSEG columns while it is in cache. poll: cancellation
   between the chunks (NULL: none). */
static ntk_status ntk__kblock(const ntk__kctx *c, size_t i0, size_t i1, size_t j0, size_t j1,
                              ntk_real *G, size_t ldg, ntk_real *Q, size_t ldq, ntk_real *T,
                              size_t ldt, ntk_real *MQ, ntk_real *MT, ntk_real *w, int *bad,
                              const ntk__kpoll *poll) {
  size_t i, ii, jj, jg = c->sym && j1 > i1 ? i1 : j1; /* x2 = x1: no row needs a column ≥ i1 */
  size_t partial = 0, since = 0;
  ntk_status st = ntk__kgram(c, i0, i1 - i0, j0, jg - j0, G, ldg, 0);
  if (st != NTK_OK) return st;
  for (ii = i0; ii < i1; ii += NTK__KROWS) {
    size_t ie = ii + NTK__KROWS < i1 ? ii + NTK__KROWS : i1;
    for (jj = j0; jj < jg; jj += NTK__KSEG) {
      size_t je = jj + NTK__KSEG < jg ? jj + NTK__KSEG : jg;
      for (i = ii; i < ie; i++) {
        size_t b = c->sym && i + 1 < je ? i + 1 : je, r = i - i0, o = jj - j0;
        if (b <= jj) continue;
        if (ntk__krow(&c->jb, i, jj, b, G + r * ldg + o, Q ? Q + r * ldq + o : NULL,
                      T ? T + r * ldt + o : NULL, w))
          *bad = 1;
      }
      if (MQ) ntk__mirror_block(MQ, ldq, ii, ie, jj, je);
      if (MT) ntk__mirror_block(MT, ldt, ii, ie, jj, je);
    }
#ifdef NTK__BUILD_X86
    if (MQ || MT) _mm_sfence(); /* the streaming stores of ntk__mirror_block are weakly ordered */
#endif
    if (poll && ii + NTK__KROWS < i1) {
      size_t wk = ntk__kwork(c->sym, ii, ii + NTK__KROWS, j0, j1);
      partial += wk, since += wk;
      if (since >= NTK__KPOLL) {
        since = 0;
        if (ntk__kpoll_now(poll, partial)) return NTK_ERR_CANCELLED;
      }
    }
  }
  return NTK_OK;
}

/* Hands a finished block (scratch Q, T with ld = bc, entries j ≤ i only when lower_only) to the
   destinations: converted to their type; x2 = x1: the entries j ≤ i, and their mirror. */
static void ntk__kstore(const ntk_tile_desc *d, int sym, size_t i0, size_t i1, size_t j0, size_t j1,
                        const ntk_real *S, size_t lds, void *out, size_t ld) {
  size_t i, j;
  for (i = i0; i < i1; i++) {
    size_t b = sym && i + 1 < j1 ? i + 1 : j1;
    const ntk_real *s = S + (i - i0) * lds - j0;
    if (d->out_float) {
      float *o = (float *)out;
      for (j = j0; j < b; j++) o[i * ld + j] = (float)s[j];
    } else {
      double *o = (double *)out;
      for (j = j0; j < b; j++) o[i * ld + j] = (double)s[j];
    }
  }
  if (!sym || !d->mirror) return;
  /* the mirror: out[j][i] = K[i][j], i > j; column j of the block is a contiguous run of row j
     of out (the block's cache lines are reused across 8 consecutive j) */
  for (j = j0; j < j1 && j + 1 < i1; j++) {
    const ntk_real *s = S + (j - j0);
    i = i0 > j + 1 ? i0 : j + 1;
    if (d->out_float) {
      float *o = (float *)out + j * ld;
      for (; i < i1; i++) o[i] = (float)s[(i - i0) * lds];
    } else {
      double *o = (double *)out + j * ld;
      for (; i < i1; i++) o[i] = (double)s[(i - i0) * lds];
    }
  }
}

/* x2 = x1, a block that crosses the diagonal, for a callback: its entries above the diagonal
   are those of the transposed positions, taken from the block where they are in it and
   computed (row r, columns i < r: the calls ntk_kernel makes) where they are not. w: scratch
   of 3·NTK__KSEG + 3·rows. */
static ntk_status ntk__kupper(const ntk__kctx *c, size_t i0, size_t i1, size_t j0, size_t j1,
                              ntk_real *Q, ntk_real *T, size_t ld, ntk_real *w, int *bad) {
  size_t r, i, m = i1 - i0;
  ntk_real *g = w + 3 * NTK__KSEG, *q = g + m, *t = q + m;
  for (r = (j0 > i0 + 1 ? j0 : i0 + 1); r < j1; r++) {
    size_t top = r < i1 ? r : i1, hc = r < i1 ? (top < j0 ? top : j0) : top;
    if (hc > i0) { /* columns [i0, hc) of row r are outside the block */
      ntk_status st = ntk__kgram(c, r, 1, i0, hc - i0, g, hc - i0, 0);
      if (st != NTK_OK) return st;
      if (ntk__krow(&c->jb, r, i0, hc, g, q, T ? t : NULL, w)) *bad = 1;
      for (i = i0; i < hc; i++) {
        if (Q) Q[(i - i0) * ld + (r - j0)] = q[i - i0];
        if (T) T[(i - i0) * ld + (r - j0)] = t[i - i0];
      }
    }
    for (i = hc > i0 ? hc : i0; i < top; i++) { /* in the block: row r, column i ≥ j0 */
      if (Q) Q[(i - i0) * ld + (r - j0)] = Q[(r - i0) * ld + (i - j0)];
      if (T) T[(i - i0) * ld + (r - j0)] = T[(r - i0) * ld + (i - j0)];
    }
  }
  return NTK_OK;
}

/* out of memory on one thread: every thread stops at its next block */
static void ntk__kflag(int *oom, int *cancelled) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
  *oom = 1;
#ifdef NTK__OMP
#pragma omp atomic write
#endif
  *cancelled = 1;
}

/* The tile loop over a built context. */
static ntk_status ntk__ktiles(ntk__kctx *c, const ntk_tile_desc *d) {
  size_t n1 = c->n1, n2 = c->n2, br = d->rows ? d->rows : 256, bc = d->cols ? d->cols : 1024;
  size_t nbr, nbc, nblk, k, total = 0, done = 0, dim = c->dim;
  int wq = d->nngp_out || (d->fn && d->nngp), wt = d->ntk_out || (d->fn && d->ntk);
  int same = d->out_float == (sizeof(ntk_real) == sizeof(float));
  int inplace = !d->fn && same && (!wq || d->nngp_out) && (!wt || d->ntk_out);
  int nthreads = d->threads > 0 ? d->threads : ntk__max_threads();
  int cancelled = 0, bad = c->nonfinite, oom = 0, failed = 0, wide;
  ntk_status fst = NTK_OK;
  if (br > n1) br = n1;
  if (bc > n2) bc = n2;
  nbr = (n1 + br - 1) / br, nbc = (n2 + bc - 1) / bc, nblk = nbr * nbc, wide = nbc == 1;
  for (k = 0; k < nblk; k++) {
    size_t i0 = k / nbc * br, j0 = k % nbc * bc, m = n1 - i0 < br ? n1 - i0 : br, n = n2 - j0 < bc ? n2 - j0 : bc;
    if (c->sym && j0 > i0 + m - 1) continue;
    if (d->select && !d->select(i0, j0, m, n, d->select_user)) continue;
    total += ntk__kwork(c->sym, i0, i0 + m, j0, j0 + n);
  }
  if (c->spatial) nthreads = 1; /* the [skernel] driver threads over its rows */
  (void)nthreads;
#ifdef NTK__OMP
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
#endif
  {
    ntk_real *S = NULL, *w = NULL;
    long kk;
    size_t area = br * bc;
    ntk__kpoll poll;
    poll.d = d, poll.done = &done, poll.total = total, poll.cancelled = &cancelled, poll.master = 1;
#ifdef NTK__OMP
    poll.master = omp_get_thread_num() == 0;
#endif
    /* scratch: the row runner's segments and the transposed rows of a diagonal block; the
       block's two kernels (S) when a block is not computed in place, allocated at the first */
    w = (ntk_real *)NTK_MALLOC((3 * NTK__KSEG + 3 * br) * sizeof(ntk_real));
    if (!w) {
      ntk__kflag(&oom, &cancelled); /* the others stop too */
    }
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (kk = 0; kk < (long)nblk; kk++) {
      /* x2 = x1: the last rows first (the longest, with wide blocks) */
      size_t kb = c->sym ? nblk - 1 - (size_t)kk : (size_t)kk, i0 = kb / nbc * br, j0 = kb % nbc * bc;
      size_t m = n1 - i0 < br ? n1 - i0 : br, n = n2 - j0 < bc ? n2 - j0 : bc, i1 = i0 + m, j1 = j0 + n;
      int stop, b = 0, cross = c->sym && j1 > i0 + 1, stopped = 0;
      int direct = !c->spatial && inplace && (!cross || (wide && d->mirror));
      ntk_status st = NTK_OK;
      ntk_real *Q, *T;
#ifdef NTK__OMP
#pragma omp atomic read
#endif
      stop = cancelled;
      if (stop || !w) continue;
      if (c->sym && j0 > i1 - 1) continue; /* above the diagonal */
      if (d->select && !d->select(i0, j0, m, n, d->select_user)) continue;
      if (!direct && !S) { /* the first block that needs a scratch copy on this thread */
        S = (ntk_real *)NTK_MALLOC(2 * area * sizeof(ntk_real));
        if (!S) {
          ntk__kflag(&oom, &cancelled);
          continue;
        }
      }
      Q = S, T = S ? S + area : NULL;
      if (c->spatial) {
        ntk_kernel_desc kd;
        memset(&kd, 0, sizeof kd);
        kd.threads = d->threads;
        if (!cross && !(c->sym && j1 > i0)) {
          st = ntk__skernel(&c->A, c->layers, c->L, c->x1 + i0 * dim, m, c->x2 + j0 * dim, n, dim,
                            wq ? Q : NULL, wt ? T : NULL, &kd, 0);
        } else { /* a block on the diagonal: the symmetric call on the rows it spans */
          size_t u0 = i0 < j0 ? i0 : j0, u1 = i1 > j1 ? i1 : j1, u = u1 - u0, r;
          int ok = 1;
          ntk_real *U;
          (void)ntk__mul(ntk__mul(u, u, &ok), 2 * sizeof(ntk_real), &ok);
          U = ok ? (ntk_real *)NTK_MALLOC(2 * u * u * sizeof(ntk_real)) : NULL;
          if (!U) st = NTK_ERR_OUT_OF_MEMORY;
          else {
            st = ntk__skernel(&c->A, c->layers, c->L, c->x1 + u0 * dim, u, c->x1 + u0 * dim, u, dim,
                              wq ? U : NULL, wt ? U + u * u : NULL, &kd, 1);
            for (r = 0; r < m; r++) {
              if (wq) memcpy(Q + r * n, U + (i0 - u0 + r) * u + (j0 - u0), n * sizeof(ntk_real));
              if (wt) memcpy(T + r * n, U + u * u + (i0 - u0 + r) * u + (j0 - u0), n * sizeof(ntk_real));
            }
            NTK_FREE(U);
          }
        }
        if (st == NTK_ERR_NON_FINITE) b = 1, st = NTK_OK;
        if (st == NTK_OK && d->fn) {
#ifdef NTK__OMP
#pragma omp critical(ntk__ktiles_fn)
#endif
          stopped = d->fn(i0, j0, m, n, wq ? Q : NULL, wt ? T : NULL, n, d->user) != 0;
        }
        if (st == NTK_OK) {
          if (wq && d->nngp_out) ntk__kstore(d, c->sym, i0, i1, j0, j1, Q, n, d->nngp_out, d->ld_nngp);
          if (wt && d->ntk_out) ntk__kstore(d, c->sym, i0, i1, j0, j1, T, n, d->ntk_out, d->ld_ntk);
        }
      } else if (direct) {
        /* straight into the destinations. A block across the diagonal writes Gram values
           above it only inside its own rows' diagonal square (columns < i1), which its own
           mirror then overwrites: safe when no other block shares these rows (wide) and the
           mirror is asked for */
        ntk_real *Qd = wq ? (ntk_real *)d->nngp_out + i0 * d->ld_nngp + j0 : NULL;
        ntk_real *Td = wt ? (ntk_real *)d->ntk_out + i0 * d->ld_ntk + j0 : NULL;
        int mir = c->sym && d->mirror;
        st = ntk__kblock(c, i0, i1, j0, j1, Qd ? Qd : Td, Qd ? d->ld_nngp : d->ld_ntk, Qd,
                         d->ld_nngp, Td, d->ld_ntk, mir && Qd ? (ntk_real *)d->nngp_out : NULL,
                         mir && Td ? (ntk_real *)d->ntk_out : NULL, w, &b, &poll);
      } else {
        st = ntk__kblock(c, i0, i1, j0, j1, wq ? Q : T, n, wq ? Q : NULL, n, wt ? T : NULL, n, NULL, NULL, w, &b, &poll);
        if (st == NTK_OK && cross && d->fn) st = ntk__kupper(c, i0, i1, j0, j1, wq ? Q : NULL, wt ? T : NULL, n, w, &b);
        if (st == NTK_OK && d->fn) {
#ifdef NTK__OMP
#pragma omp critical(ntk__ktiles_fn)
#endif
          stopped = d->fn(i0, j0, m, n, wq ? Q : NULL, wt ? T : NULL, n, d->user) != 0;
        }
        if (st == NTK_OK) {
          if (wq && d->nngp_out) ntk__kstore(d, c->sym, i0, i1, j0, j1, Q, n, d->nngp_out, d->ld_nngp);
          if (wt && d->ntk_out) ntk__kstore(d, c->sym, i0, i1, j0, j1, T, n, d->ntk_out, d->ld_ntk);
        }
      }
      if (st == NTK_ERR_CANCELLED) { /* inside the block: the flag is set */
        st = NTK_OK;
        continue;
      }
      if (st != NTK_OK) {
#ifdef NTK__OMP
#pragma omp critical(ntk__ktiles_err)
#endif
        { fst = st; failed = 1; cancelled = 1; }
      }
      if (b) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
        bad = 1;
      }
      if (stopped) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
        cancelled = 1;
      }
      if (d->progress) {
        size_t now_done;
#ifdef NTK__OMP
#pragma omp atomic capture
#endif
        now_done = done += ntk__kwork(c->sym, i0, i1, j0, j1);
#ifdef NTK__OMP
        if (omp_get_thread_num() == 0)
#endif
        {
          if (d->progress("kernel", total ? (double)now_done / (double)total : 1.0, d->progress_user)) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
            cancelled = 1;
          }
        }
      }
    }
    NTK_FREE(S);
    NTK_FREE(w);
  }
  if (oom) return NTK_ERR_OUT_OF_MEMORY;
  if (failed) return fst;
  if (cancelled) return NTK_ERR_CANCELLED;
  if (d->progress) d->progress("kernel", 1.0, d->progress_user);
  /* complete either way: on NON_FINITE every entry has been written, as computed */
  return bad ? NTK_ERR_NON_FINITE : NTK_OK;
}

NTKDEF ntk_status ntk_kernel_tiles(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                   size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                   const ntk_tile_desc *desc) {
  ntk__kctx c;
  ntk_status st;
  int wq, wt, ok = 1;
  size_t m2 = x2 ? n2 : n1;
  if (!desc) return NTK_ERR_INVALID_ARG;
  wq = desc->nngp_out || (desc->fn && desc->nngp), wt = desc->ntk_out || (desc->fn && desc->ntk);
  if (!wq && !wt) return NTK_ERR_INVALID_ARG; /* nothing asked for */
  if ((desc->nngp_out && desc->ld_nngp < m2) || (desc->ntk_out && desc->ld_ntk < m2) ||
      (desc->out_float != 0 && desc->out_float != 1))
    return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n1, desc->ld_nngp > desc->ld_ntk ? desc->ld_nngp : desc->ld_ntk, &ok), sizeof(double), &ok);
  (void)ntk__mul(ntk__mul(desc->rows ? desc->rows : 1, desc->cols ? desc->cols : 1, &ok), 2 * sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  st = ntk__kctx_init(&c, layers, n_layers, x1, n1, x2, n2, dim, 1);
  if (st == NTK_OK && c.spatial) { /* the context holds the front end only */
    size_t i;
    if (dim == 0 || (n1 > 0 && !x1)) st = NTK_ERR_INVALID_ARG;
    c.x1 = x1, c.n1 = n1, c.dim = dim, c.sym = x2 == NULL;
    c.x2 = x2 ? x2 : x1, c.n2 = x2 ? n2 : n1;
    for (i = 0; st == NTK_OK && c.n2 > 0 && i < n1 * dim; i++) if (!ntk__finite(x1[i])) st = NTK_ERR_NON_FINITE;
    for (i = 0; st == NTK_OK && x2 && n1 > 0 && i < n2 * dim; i++) if (!ntk__finite(x2[i])) st = NTK_ERR_NON_FINITE;
  }
  if (st == NTK_OK && c.n1 > 0 && c.n2 > 0) st = ntk__ktiles(&c, desc);
  ntk__kctx_free(&c);
  return st;
}

typedef struct ntk__kapply {
  size_t nrhs;
  int which, sym;
  const double *X;
  double *Y;
} ntk__kapply;
static int ntk__kapply_cb(size_t i0, size_t j0, size_t rows, size_t cols, const ntk_real *nngp,
                          const ntk_real *ntk, size_t ld, void *user) {
  const ntk__kapply *a = (const ntk__kapply *)user;
  const ntk_real *K = a->which ? ntk : nngp;
  size_t i, j, c, r = a->nrhs;
  /* x2 = x1 with square blocks: a block is on the diagonal (i0 = j0, complete) or below it */
  int below = a->sym && j0 + cols <= i0;
  for (i = 0; i < rows; i++) {
    double *y = a->Y + (i0 + i) * r;
    const double *xi = a->X + (i0 + i) * r;
    for (j = 0; j < cols; j++) {
      double k = (double)K[i * ld + j];
      const double *x = a->X + (j0 + j) * r;
      for (c = 0; c < r; c++) y[c] += k * x[c];
      if (below) {
        double *yj = a->Y + (j0 + j) * r;
        for (c = 0; c < r; c++) yj[c] += k * xi[c];
      }
    }
  }
  return 0;
}

NTKDEF ntk_status ntk_kernel_apply(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                   size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                   int which, size_t nrhs, const double *X, double *Y,
                                   const ntk_tile_desc *desc) {
  ntk_tile_desc d;
  ntk__kapply a;
  size_t i, m2 = x2 ? n2 : n1;
  int ok = 1;
  if ((which != 0 && which != 1) || nrhs == 0 || (n1 > 0 && !Y) || (m2 > 0 && !X)) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n1 > m2 ? n1 : m2, nrhs, &ok), sizeof(double), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  for (i = 0; i < m2 * nrhs; i++) if (!ntk__finite_d(X[i])) return NTK_ERR_NON_FINITE;
  memset(&d, 0, sizeof d);
  if (desc) d.rows = desc->rows, d.cols = desc->cols, d.threads = desc->threads, d.progress = desc->progress, d.progress_user = desc->progress_user;
  if (!x2) d.rows = d.cols = (d.rows > d.cols ? d.rows : d.cols) ? (d.rows > d.cols ? d.rows : d.cols) : 512;
  a.nrhs = nrhs, a.which = which, a.sym = x2 == NULL, a.X = X, a.Y = Y;
  d.nngp = which == 0, d.ntk = which == 1, d.fn = ntk__kapply_cb, d.user = &a;
  for (i = 0; i < n1 * nrhs; i++) Y[i] = 0;
  return ntk_kernel_tiles(layers, n_layers, x1, n1, x2, n2, dim, &d);
}

NTKDEF ntk_status ntk_kernel_ex(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                                size_t n1, const ntk_real *x2, size_t n2, size_t dim,
                                ntk_real *nngp, ntk_real *ntk, const ntk_kernel_desc *desc) {
  ntk_kernel_desc dd;
  ntk_tile_desc td;
  ntk__kctx c;
  ntk_status st;
  int sym = x2 == NULL;
  if (desc) dd = *desc; else memset(&dd, 0, sizeof dd);
  st = ntk__kctx_init(&c, layers, n_layers, x1, n1, x2, n2, dim, nngp || ntk);
  if (st == NTK_OK && c.spatial) { /* spatial/branched: the [skernel] driver */
    st = ntk__skernel(&c.A, layers, n_layers, x1, n1, sym ? x1 : x2, sym ? n1 : n2, dim, nngp, ntk, &dd, sym);
  } else if (st == NTK_OK && n1 > 0 && c.n2 > 0 && (nngp || ntk)) {
    /* one use of the tiles: blocks of dd.tile rows straight into the outputs (the Gram block
       first, the recursion in place), x2 = x1 blocks mirrored while in cache */
    memset(&td, 0, sizeof td);
    td.rows = dd.tile ? dd.tile : 256, td.cols = c.n2; /* one block per row block */
    td.nngp_out = nngp, td.ntk_out = ntk, td.ld_nngp = td.ld_ntk = c.n2;
    td.out_float = sizeof(ntk_real) == sizeof(float), td.mirror = 1;
    td.progress = dd.progress, td.progress_user = dd.progress_user, td.threads = dd.threads;
    st = ntk__ktiles(&c, &td);
  }
  ntk__kctx_free(&c);
  return st;
}

NTKDEF ntk_status ntk_kernel(const ntk_layer *layers, size_t n_layers, const ntk_real *x1,
                             size_t n1, const ntk_real *x2, size_t n2, size_t dim, ntk_real *nngp,
                             ntk_real *ntk) {
  return ntk_kernel_ex(layers, n_layers, x1, n1, x2, n2, dim, nngp, ntk, NULL);
}

/* ============================================================================================
   [skernel] the spatial kernel: NNGP and NTK of networks with spatial or branch layers
   --------------------------------------------------------------------------------------------
   Driven by the front end's ntk__arch (shapes, resolved filters/strides/paddings, fan-ins,
   producers of branch inputs, needed offsets). Two ways to hold a pair's state, the covariance
   images Q(i, j) and Θ(i, j) between the positions i of x and j of x′ at the current layer:
   frames (the offset-slice form, below: every list whose barriers are outside the branches),
   and, for the other lists, materialised (P × P, P = h·w) or only their spatial diagonal when
   the readout needs nothing else anywhere (the front end's needed offsets are {0} at every
   layer) — the code right below, ntk__sk_pair. Per point, the self-covariance diagonals the activations and
   LayerNorms read (q(x, x)(i, i) at their inputs, with ntk__dual_point's values), computed
   first by running the pair (x, x) through the same code in full (pools mix its off-diagonal
   entries into later variances). With x2 = NULL the diagonal K(x, x) is that self pair, so
   ρ = 1 exactly there, and each unordered pair is computed once and mirrored. Memory: the
   outputs, (n1 + n2)·Σ_act (1 + slots)·P per-point values, and per thread one pair's working
   set, (4 + 4·FANOUT depth)·P_max² reals (P_max diagonal-only).
   ============================================================================================ */
typedef struct ntk__sk {
  const ntk_layer *layers;
  const ntk__arch *A;
  size_t L;
  ntk__quad *quad;   /* (L) */
  size_t *tab;       /* (L): offset of layer l's values in a point's table (activations, LN) */
  size_t tab_n;      /* reals per point */
  size_t maxp, maxpp; /* max positions of any layer's input/output, and the state size */
  size_t depth;      /* FANOUT nesting */
  size_t ws_n;       /* reals of one thread's workspace */
  int diag;          /* the spatial diagonal only */
  int frames;        /* frame mode (below): every barrier outside the branches */
  unsigned char *isframe; /* (L) frame mode: layer l maps each offset to itself */
  struct ntk__fr_tap1 *taps; /* frame mode: the barriers' taps per axis (ntk__fr_taps) */
  size_t *tap0;      /* (2·L) layer l's axis a taps at taps + tap0[2l + a], grouped by frame */
  size_t *tapc;      /* (2·L) … their group starts at tapc[2l + a] in tstart */
  size_t *tstart;
  size_t last_tab;   /* the last layer reading a table, NTK__NONE if none */
  size_t tpn, mpp;   /* frame mode: the conv's padded rows; one materialised tensor */
  size_t pln;        /* frame mode: the pair's inputs channel by channel (ntk__fr_planar), 0: one channel */
  size_t rep;        /* frame mode: each table row held rep times (2: frames wrap x′'s rows) */
  int inner;         /* frame mode: threads over the frames of one pair (fewer pairs than threads) */
} ntk__sk;

/* the input position read by output o through tap d along one axis, or −1 (a zero tap) */
static NTK__INLINE long ntk__sk_tap(size_t o, size_t d, size_t s, size_t lo, size_t n, int circ) {
  long p = (long)(s * o + d) - (long)lo, nn = (long)n;
  if (circ) return ((p % nn) + nn) % nn;
  return p >= 0 && p < nn ? p : -1;
}

/* One axis of a conv (pool = 0: the same tap on both sides, sum/f) or of a pool (every tap
   pair, sum / div) on the tensor in (A, n, B, n, C) → out (A, m, B, m, C). div: 1 (sum pool),
   f² (avg pool), or the in-image tap counts n(o)·n(p) (normalize_edges, not CIRCULAR). Diagonal
   mode (B = 0): in (A, n, C) → out (A, m, C), the i = j entries only. */
static void ntk__sk_axis(ntk_real *out, const ntk_real *in, size_t A, size_t n, size_t m, size_t B, size_t C,
                         size_t f, size_t s, size_t lo, int circ, int pool, int avg, int edges) {
  size_t a, o, b, p, d, e, c;
  ntk_real inv_f = (ntk_real)(1.0 / (double)f), inv_ff = (ntk_real)(1.0 / ((double)f * (double)f));
  if (B == 0) { /* diagonal */
    for (a = 0; a < A; a++)
      for (o = 0; o < m; o++) {
        ntk_real *dst = out + (a * m + o) * C;
        size_t cnt = 0;
        for (c = 0; c < C; c++) dst[c] = 0;
        for (d = 0; d < f; d++) {
          long i = ntk__sk_tap(o, d, s, lo, n, circ);
          const ntk_real *src;
          if (i < 0) continue;
          cnt++;
          src = in + (a * n + (size_t)i) * C;
          for (c = 0; c < C; c++) dst[c] += src[c];
        }
        { /* a diagonal-only pool has f = 1 (the front end needs offsets f − 1 otherwise) */
          ntk_real sc = !pool ? inv_f : !avg ? 1 : edges && !circ ? (cnt ? (ntk_real)(1.0 / ((double)cnt * (double)cnt)) : 0) : inv_ff;
          for (c = 0; c < C; c++) dst[c] *= sc;
        }
      }
    return;
  }
  if (!pool) { /* conv: row (a, o, b) of the output from rows (a, tap(o, d), b), d < f */
    long tp[256];
    int have = m * f <= 256, contig = s == 1 && !circ;
    for (o = 0; have && o < m; o++)
      for (d = 0; d < f; d++) tp[o * f + d] = ntk__sk_tap(o, d, s, lo, n, circ);
    for (a = 0; a < A; a++)
      for (o = 0; o < m; o++)
        for (b = 0; b < B; b++) {
          ntk_real *dst = out + ((a * m + o) * B + b) * m * C;
          for (c = 0; c < m * C; c++) dst[c] = 0;
          for (d = 0; d < f; d++) {
            long i = have ? tp[o * f + d] : ntk__sk_tap(o, d, s, lo, n, circ);
            const ntk_real *src;
            if (i < 0) continue;
            src = in + ((a * n + (size_t)i) * B + b) * n * C;
            if (contig) { /* j = p + d − lo: one contiguous run */
              size_t p0 = lo > d ? lo - d : 0, p1 = n + lo <= d ? 0 : n + lo - d < m ? n + lo - d : m;
              const ntk_real *sr = src + (p0 + d - lo) * C;
              ntk_real *dr = dst + p0 * C;
              for (c = 0; p1 > p0 && c < (p1 - p0) * C; c++) dr[c] += sr[c];
              continue;
            }
            for (p = 0; p < m; p++) {
              long j = have ? tp[p * f + d] : ntk__sk_tap(p, d, s, lo, n, circ);
              if (j < 0) continue;
              for (c = 0; c < C; c++) dst[p * C + c] += src[(size_t)j * C + c];
            }
          }
          for (c = 0; c < m * C; c++) dst[c] *= inv_f;
        }
    return;
  }
  for (a = 0; a < A; a++)
    for (o = 0; o < m; o++)
      for (b = 0; b < B; b++)
        for (p = 0; p < m; p++) {
          ntk_real *dst = out + (((a * m + o) * B + b) * m + p) * C, sc;
          for (c = 0; c < C; c++) dst[c] = 0;
          {
            size_t n1 = 0, n2 = 0;
            for (d = 0; d < f; d++) {
              long i = ntk__sk_tap(o, d, s, lo, n, circ);
              if (i < 0) continue;
              n1++;
              for (e = 0; e < f; e++) {
                long j = ntk__sk_tap(p, e, s, lo, n, circ);
                const ntk_real *src;
                if (j < 0) continue;
                src = in + (((a * n + (size_t)i) * B + b) * n + (size_t)j) * C;
                for (c = 0; c < C; c++) dst[c] += src[c];
              }
            }
            for (e = 0; e < f; e++) n2 += ntk__sk_tap(p, e, s, lo, n, circ) >= 0;
            sc = !avg ? 1 : edges && !circ ? (ntk_real)(1.0 / ((double)n1 * (double)n2)) : inv_ff;
          }
          for (c = 0; c < C; c++) dst[c] *= sc;
        }
}

/* A conv or pool layer on one tensor (h axis, then w axis): in (H, W, H, W) at *q → out
   (Ho, Wo, Ho, Wo), through tmp; returns the buffer holding the result (q or tmp). */
static ntk_real *ntk__sk_spatial(const ntk__sk *S, const ntk__arch_layer *R, const ntk_layer *L, ntk_real *q,
                                 ntk_real *tmp) {
  int circ = L->padding == NTK_PAD_CIRCULAR, pool = L->kind != NTK_LAYER_CONV;
  int avg = L->kind == NTK_LAYER_AVG_POOL, edges = avg && (L->flags & NTK_POOL_NORMALIZE_EDGES);
  size_t H = R->in[0], W = R->in[1], Ho = R->out[0], Wo = R->out[1];
  if (S->diag) {
    ntk__sk_axis(tmp, q, 1, H, Ho, 0, W, R->f[0], R->s[0], R->lo[0], circ, pool, avg, edges);
    ntk__sk_axis(q, tmp, Ho, W, Wo, 0, 1, R->f[1], R->s[1], R->lo[1], circ, pool, avg, edges);
    return q;
  }
  ntk__sk_axis(tmp, q, 1, H, Ho, W, W, R->f[0], R->s[0], R->lo[0], circ, pool, avg, edges);
  ntk__sk_axis(q, tmp, Ho, W, Wo, Ho, 1, R->f[1], R->s[1], R->lo[1], circ, pool, avg, edges);
  return q;
}

/* Dense/Conv's affine step on n entries: as ntk__kernel_seg's Dense (fan-in from the front end) */
static void ntk__sk_affine(const ntk_layer *L, const ntk__arch_layer *R, size_t n, ntk_real *q, ntk_real *th) {
  ntk_real w2 = (ntk_real)(L->w_std * L->w_std), b2 = (ntk_real)(ntk__bstd(L) * ntk__bstd(L));
  size_t j;
  if (th && L->param == NTK_PARAM_STANDARD) {
    ntk_real nin = (ntk_real)(double)R->fan_in, one = R->has_bias ? 1 : 0;
    for (j = 0; j < n; j++) th[j] = nin * q[j] + w2 * th[j] + one;
    for (j = 0; j < n; j++) q[j] = w2 * q[j] + b2;
  } else {
    for (j = 0; j < n; j++) q[j] = w2 * q[j] + b2;
    if (th)
      for (j = 0; j < n; j++) th[j] = q[j] + w2 * th[j];
  }
}

/* One pair (xa, xb): NNGP into *kq, NTK into *kt (kt NULL: not wanted). ta, tb: the points'
   tables; self (xa = xb, ta = tb): the tables are filled here from the pair's own diagonals.
   ws: S->ws_n reals. */
static void ntk__sk_pair(const ntk__sk *S, const ntk_real *xa, const ntk_real *xb, ntk_real *ta,
                         const ntk_real *tb, int self, ntk_real *ws, ntk_real *kq, ntk_real *kt) {
  const ntk__arch *A = S->A;
  size_t PP = S->maxpp, l, i, j, k, top = 0, P, c = A->in[2];
  ntk_real *q = ws, *t = ws + PP, *tq = ws + 2 * PP, *tt = ws + 3 * PP, *fill = ws + (4 + 4 * S->depth) * PP;
  int wt = kt != NULL, dg = S->diag;
  /* the input: Q(i, j) = x[i, :]·x′[j, :]/c (double sums), Θ = 0 */
  P = A->in[0] * A->in[1];
  for (i = 0; i < P; i++)
    for (j = dg ? i : 0; j < (dg ? i + 1 : P); j++) {
      double acc = 0;
      for (k = 0; k < c; k++) acc += (double)xa[i * c + k] * (double)xb[j * c + k];
      q[dg ? i : i * P + j] = (ntk_real)(acc / (double)c);
    }
  if (wt) memset(t, 0, (dg ? P : P * P) * sizeof(ntk_real));
  for (l = 0; l < S->L; l++) {
    const ntk_layer *L = &S->layers[l];
    const ntk__arch_layer *R = &A->l[l];
    size_t n = dg ? P : P * P;
    switch (L->kind) {
    case NTK_LAYER_INPUT: case NTK_LAYER_IDENTITY: break;
    case NTK_LAYER_DENSE: ntk__sk_affine(L, R, n, q, wt ? t : NULL); break;
    case NTK_LAYER_CONV: case NTK_LAYER_AVG_POOL: case NTK_LAYER_SUM_POOL:
      ntk__sk_spatial(S, R, L, q, tq);
      if (wt) ntk__sk_spatial(S, R, L, t, tt);
      P = R->out[0] * R->out[1], n = dg ? P : P * P;
      if (L->kind == NTK_LAYER_CONV) ntk__sk_affine(L, R, n, q, wt ? t : NULL);
      break;
    case NTK_LAYER_GLOBAL_AVG_POOL: case NTK_LAYER_GLOBAL_SUM_POOL: case NTK_LAYER_FLATTEN: {
      double aq = 0, at = 0, div;
      if (dg || L->kind == NTK_LAYER_FLATTEN) {
        for (i = 0; i < P; i++) aq += (double)q[dg ? i : i * P + i];
        if (wt) for (i = 0; i < P; i++) at += (double)t[dg ? i : i * P + i];
      } else {
        for (i = 0; i < n; i++) aq += (double)q[i];
        if (wt) for (i = 0; i < n; i++) at += (double)t[i];
      }
      div = L->kind == NTK_LAYER_FLATTEN ? (double)P : L->kind == NTK_LAYER_GLOBAL_AVG_POOL ? (double)P * (double)P : 1;
      q[0] = (ntk_real)(aq / div);
      if (wt) t[0] = (ntk_real)(at / div);
      P = 1;
      break;
    }
    case NTK_LAYER_LAYER_NORM: {
      /* x / √(mean over the normalised group of (ε + q(i′, i′))): 1/√d per position in the table */
      ntk_real *ra = ta + S->tab[l];
      const ntk_real *rb = tb + S->tab[l];
      if (self) {
        int ax = L->flags ? L->flags : NTK_AXIS_C;
        double eps = L->eps > 0 ? L->eps : 1e-12;
        size_t H = R->in[0], W = R->in[1], a, b;
        for (i = 0; i < P; i++) {
          size_t ih = i / W, iw = i % W, cnt = 0;
          double d = 0;
          for (a = 0; a < H; a++)
            for (b = 0; b < W; b++) {
              size_t p = a * W + b;
              if ((!(ax & NTK_AXIS_H) && a != ih) || (!(ax & NTK_AXIS_W) && b != iw)) continue;
              d += eps + (double)q[dg ? p : p * P + p], cnt++;
            }
          fill[i] = (ntk_real)(1 / sqrt(d / (double)cnt));
        }
        memcpy(ra, fill, P * sizeof(ntk_real));
        rb = ra;
      }
      for (i = 0; i < P; i++) {
        if (dg) {
          ntk_real sc = ra[i] * rb[i];
          q[i] *= sc;
          if (wt) t[i] *= sc;
          continue;
        }
        for (j = 0; j < P; j++) {
          ntk_real sc = ra[i] * rb[j];
          q[i * P + j] *= sc;
          if (wt) t[i * P + j] *= sc;
        }
      }
      break;
    }
    case NTK_LAYER_FANOUT: {
      ntk_real *base = ws + (4 + 4 * top) * PP;
      memcpy(base, q, n * sizeof(ntk_real)), memset(base + 2 * PP, 0, n * sizeof(ntk_real));
      if (wt) memcpy(base + PP, t, n * sizeof(ntk_real)), memset(base + 3 * PP, 0, n * sizeof(ntk_real));
      top++;
      break;
    }
    case NTK_LAYER_BRANCH: case NTK_LAYER_FANIN_SUM: case NTK_LAYER_FANIN_CONCAT: {
      /* this branch's end joins the accumulator: weight 1 (sum) or c_b / Σc (concat) */
      size_t fi = L->kind == NTK_LAYER_BRANCH ? A->l[R->mate].mate : l; /* the FANIN */
      ntk_real *base = ws + (4 + 4 * (top - 1)) * PP, wgt = 1;
      if (S->layers[fi].kind == NTK_LAYER_FANIN_CONCAT) wgt = (ntk_real)((double)R->in[2] / (double)A->l[fi].out[2]);
      for (i = 0; i < n; i++) base[2 * PP + i] += wgt * q[i];
      if (wt) for (i = 0; i < n; i++) base[3 * PP + i] += wgt * t[i];
      if (L->kind == NTK_LAYER_BRANCH) { /* the next branch starts from the FANOUT's value */
        P = A->l[R->mate].out[0] * A->l[R->mate].out[1], n = dg ? P : P * P;
        memcpy(q, base, n * sizeof(ntk_real));
        if (wt) memcpy(t, base + PP, n * sizeof(ntk_real));
      } else {
        memcpy(q, base + 2 * PP, n * sizeof(ntk_real));
        if (wt) memcpy(t, base + 3 * PP, n * sizeof(ntk_real));
        top--;
      }
      break;
    }
    default: { /* an activation: ntk__dual row by row, q11 = q(x, x)(i, i), q22 = q(x′, x′)(j, j) */
      int np = ntk__dual_npt(L->kind), s;
      ntk_real *va = ta + S->tab[l];
      const ntk_real *vb = tb + S->tab[l];
      ntk__dual_aux aux;
      if (self) {
        for (i = 0; i < P; i++) va[i] = q[dg ? i : i * P + i];
        for (i = 0; i < P; i++) {
          ntk_real o[NTK__NPT];
          ntk__dual_point(L, va[i], o);
          for (s = 0; s < np; s++) va[(size_t)(1 + s) * P + i] = o[s];
        }
        vb = va;
      }
      if (dg) { /* both points vary along the run: the dual computes their values itself */
        ntk__dual(L, &S->quad[l], P, va, vb, q, wt ? t : NULL, NULL);
        break;
      }
      memset(&aux, 0, sizeof aux);
      if (np) {
        aux.s2 = vb + P, aux.r2 = vb + 2 * P;
        for (s = 2; s < np; s++) aux.x2[s - 2] = vb + (size_t)(1 + s) * P;
      }
      for (i = 0; i < P; i++) {
        for (j = 0; j < P; j++) fill[j] = va[i];
        if (np) {
          aux.s1 = va[P + i], aux.r1 = va[2 * P + i];
          for (s = 2; s < np; s++) aux.x1[s - 2] = va[(size_t)(1 + s) * P + i];
        }
        ntk__dual(L, &S->quad[l], P, fill, vb, q + i * P, wt ? t + i * P : NULL, np ? &aux : NULL);
      }
      break;
    }
    }
  }
  *kq = q[0];
  if (wt) *kt = t[0];
}

/* ---- frames: the offset-slice form of the same recursion ------------------------------------
   Between barriers (a pool, a conv that changes the spatial size or strides, a readout) every
   layer maps the covariance entries at one spatial offset k = j − i to entries at the same
   offset: a stride-1 conv adds the same tap on both sides, everything else is elementwise.
   So the entries are evolved offset by offset, each in a few KB that stay in L1, through all
   the layers up to the barrier; the full (h·w)² covariance is materialised only at barriers.
   A frame c = (c_h, c_w) (0 ≤ c_h < h, 0 ≤ c_w < w) holds, at (a, b), the entry between
   position (a, b) of x and ((a + c_h) mod h, (b + c_w) mod w) of x′: the offsets k = c and
   k = c − (h, w) packed into one h × w image, so that h·w frames hold the (h·w)² entries
   without waste. Along each axis a frame is two runs, [0, h − c_h) and [h − c_h, h), each
   with zero padding of its own (a tap crossing from one run into the other would wrap x′);
   a CIRCULAR conv wraps every run instead. Only the frames holding the offsets the next
   barrier needs (the front end's need_r) are evolved: the diagonal (frame 0) alone for a
   Flatten readout without pools. The points' tables hold each row twice, so that x′'s
   values along a frame row are one contiguous window. */

/* Dense/Conv's affine step on a frame (as ntk__sk_affine), the conv's 1/|F| folded in: sc */
#define NTK__FR_AFFINE_BODY                                                                   \
  size_t j;                                                                                   \
  if (th && std_) {                                                                           \
    for (j = 0; j < n; j++) th[j] = nin * q[j] + w2 * th[j] + one;                            \
    for (j = 0; j < n; j++) q[j] = w2 * q[j] + b2;                                            \
  } else {                                                                                    \
    for (j = 0; j < n; j++) q[j] = w2 * q[j] + b2;                                            \
    if (th)                                                                                   \
      for (j = 0; j < n; j++) th[j] = q[j] + w2 * th[j];                                      \
  }
#if defined(NTK__BUILD_X86)
NTK__TARGET_AVX2 NTK__VEC static void ntk__fr_affine_avx2(size_t n, ntk_real *NTK_RESTRICT q, ntk_real *NTK_RESTRICT th,
                                                         int std_, ntk_real w2, ntk_real b2, ntk_real nin, ntk_real one) {
  NTK__FR_AFFINE_BODY
}
#endif
NTK__VEC static void ntk__fr_affine(const ntk_layer *L, const ntk__arch_layer *R, size_t n, ntk_real *NTK_RESTRICT q,
                                    ntk_real *NTK_RESTRICT th, double sc) {
  ntk_real w2 = (ntk_real)(L->w_std * L->w_std * sc), b2 = (ntk_real)(ntk__bstd(L) * ntk__bstd(L));
  ntk_real nin = (ntk_real)((double)R->fan_in * sc), one = R->has_bias ? 1 : 0;
  int std_ = L->param == NTK_PARAM_STANDARD;
#if defined(NTK__BUILD_X86)
  if (ntk__simd_level() >= NTK_SIMD_AVX2) { ntk__fr_affine_avx2(n, q, th, std_, w2, b2, nin, one); return; }
#endif
  {
    NTK__FR_AFFINE_BODY
  }
}
#undef NTK__FR_AFFINE_BODY

/* A stride-1, size-preserving conv on the frame, both tensors, with its affine step: Q (q) →
   qo, Θ (t, NULL: not wanted) → to. 1. the h taps of each row summed into a line (rows outside
   the row's run read zr, a row of zeros) with lw pads before and hw after (zeros, or the wrapped
   entries when circular); 2. the w taps along the line, each times a 0/1 mask that drops the
   taps whose entry lies in the other run of the frame (x′ across the junction is not a
   neighbour: it wrapped) — masks per frame, not per row, so every loop is a whole-row vector
   loop; then qo = a·ΣQ + b, to = al·ΣQ + be·ΣΘ + ga (Dense's rule with the 1/|F| folded in).
   tp: a ring of 4 lines of w + fw − 1 entries (two per tensor), then fw·w masks. One body, compiled per SIMD level (the
   loops vectorise: NTK__VEC). */
#define NTK__FR_ROW(base, d) (rix[d] < 0 ? zr : (base) + (size_t)rix[d] * W)
#define NTK__FR_HSUM(base, ln)                                                                \
  if (fh == 3) {                                                                              \
    const ntk_real *x0 = NTK__FR_ROW(base, 0), *x1 = NTK__FR_ROW(base, 1), *x2 = NTK__FR_ROW(base, 2); \
    for (w = 0; w < W; w++) ln[w] = x0[w] + x1[w] + x2[w];                                    \
  } else {                                                                                    \
    const ntk_real *x0 = NTK__FR_ROW(base, 0);                                                \
    for (w = 0; w < W; w++) ln[w] = x0[w];                                                    \
    for (d = 1; d < fh; d++) {                                                                \
      const ntk_real *x = NTK__FR_ROW(base, d);                                               \
      for (w = 0; w < W; w++) ln[w] += x[w];                                                  \
    }                                                                                         \
  }                                                                                           \
  if (circ) {                                                                                 \
    for (p = 0; p < lw; p++) ln[(long)p - (long)lw] = ln[(size_t)(((long)p - (long)lw) % (long)W + (long)W) % W]; \
    for (p = 0; p < hw; p++) ln[W + p] = ln[p % W];                                           \
  }
/* the w taps of line y into o (y[w + d]: tap d of entry w) */
#define NTK__FR_WSUM(y, o)                                                                    \
  {                                                                                           \
    for (w = 0; w < W; w++) o[w] = 0;                                                         \
    for (d = 0; d < fw; d++) {                                                                \
      const ntk_real *m = mk + d * W;                                                         \
      if (full[d])                                                                            \
        for (w = 0; w < W; w++) o[w] += y[w + d];                                             \
      else                                                                                    \
        for (w = 0; w < W; w++) o[w] += y[w + d] * m[w];                                      \
    }                                                                                         \
  }
/* the lines of row h (the h taps) into ring slot h & 1 */
#define NTK__FR_LINES(h)                                                                      \
  {                                                                                           \
    ntk_real *wq_ = tp + ((h) & 1) * Wl + lw, *wt_ = tp + (2 + ((h) & 1)) * Wl + lw;        \
    size_t a0 = circ ? 0 : (h) < F->sh ? 0 : F->sh, a1 = circ ? H : (h) < F->sh ? F->sh : H;  \
    for (d = 0; d < fh; d++) rix[d] = ntk__fr_row(h, d, lo, H, a0, a1, circ);                 \
    NTK__FR_HSUM(q, wq_)                                                                      \
    if (t) { NTK__FR_HSUM(t, wt_) }                                                           \
  }
#define NTK__FR_CONV_BODY                                                                     \
  size_t H = F->h, W = F->w, fh = R->f[0], fw = R->f[1], lo = R->lo[0], lw = R->lo[1];        \
  size_t hw = R->hi[1], sw = circ ? W : F->sw, h, d, p, w, Wl = W + lw + hw;                  \
  ntk_real *mk = tp + 4 * Wl;                                                                 \
  long rix[NTK__FR_MAXF];                                                                     \
  unsigned char full[NTK__FR_MAXF];                                                           \
  int fast = fw == 3 && lw == 1;                                                              \
  /* the masks: tap d of entry w reads entry w + d − lw, kept when in w's run */              \
  for (d = 0; d < fw; d++) {                                                                  \
    full[d] = 1;                                                                              \
    for (w = 0; w < W; w++) {                                                                 \
      long c = (long)(w + d) - (long)lw, r0 = w < sw ? 0 : (long)sw, r1 = w < sw ? (long)sw : (long)W; \
      int in = circ || (c >= r0 && c < r1);                                                   \
      mk[d * W + w] = in ? 1 : 0;                                                             \
      if (!in) full[d] = 0;                                                                   \
    }                                                                                         \
  }                                                                                           \
  for (h = 0; h < 4; h++) { /* the zero pads of the ring's lines */                           \
    for (p = 0; p < lw; p++) tp[h * Wl + p] = 0;                                              \
    for (p = 0; p < hw; p++) tp[h * Wl + lw + W + p] = 0;                                     \
  }                                                                                           \
  /* row by row: the lines of row h + 1 are made before row h's w taps read those of row h    \
     (a load straddling just-written stores would wait for them) */                           \
  NTK__FR_LINES(0)                                                                            \
  for (h = 0; h < H; h++) {                                                                   \
    const ntk_real *lq = tp + (h & 1) * Wl, *lt = tp + (2 + (h & 1)) * Wl;                    \
    ntk_real *oq = qo + h * W, *ot = t ? to + h * W : NULL;                                   \
    if (h + 1 < H) NTK__FR_LINES(h + 1)                                                       \
    if (fast) { /* 3 taps, the middle one always in the run */                                \
      const ntk_real *m0 = mk, *m2 = mk + 2 * W;                                              \
      if (t)                                                                                  \
        for (w = 0; w < W; w++) {                                                             \
          ntk_real sq = lq[w] * m0[w] + lq[w + 1] + lq[w + 2] * m2[w];                        \
          ntk_real st = lt[w] * m0[w] + lt[w + 1] + lt[w + 2] * m2[w];                        \
          oq[w] = a * sq + b;                                                                 \
          ot[w] = al * sq + be * st + ga;                                                     \
        }                                                                                     \
      else                                                                                    \
        for (w = 0; w < W; w++) oq[w] = a * (lq[w] * m0[w] + lq[w + 1] + lq[w + 2] * m2[w]) + b; \
    } else {                                                                                  \
      NTK__FR_WSUM(lq, oq)                                                                    \
      if (t) {                                                                                \
        NTK__FR_WSUM(lt, ot)                                                                  \
        for (w = 0; w < W; w++) {                                                             \
          ntk_real sq = oq[w];                                                                \
          oq[w] = a * sq + b;                                                                 \
          ot[w] = al * sq + be * ot[w] + ga;                                                  \
        }                                                                                     \
      } else {                                                                                \
        for (w = 0; w < W; w++) oq[w] = a * oq[w] + b;                                        \
      }                                                                                       \
    }                                                                                         \
  }
/* the largest filter height of the frame conv (a taller one is a barrier: materialised) */
#define NTK__FR_MAXF 64
/* the most threads over the frames of one pair */
#define NTK__FR_MAXT 256
#define NTK__FR_CONV_ARGS                                                                     \
  (const ntk__frame *F, const ntk__arch_layer *R, int circ, const ntk_real *NTK_RESTRICT q,    \
   const ntk_real *NTK_RESTRICT t, ntk_real *NTK_RESTRICT qo, ntk_real *NTK_RESTRICT to, ntk_real *NTK_RESTRICT tp, \
   const ntk_real *zr, ntk_real a, ntk_real b, ntk_real al, ntk_real be, ntk_real ga)
#if defined(NTK__BUILD_X86)
NTK__TARGET_AVX512 NTK__VEC static void ntk__fr_conv_avx512 NTK__FR_CONV_ARGS {
  NTK__FR_CONV_BODY
}
NTK__TARGET_AVX2 NTK__VEC static void ntk__fr_conv_avx2 NTK__FR_CONV_ARGS {
  NTK__FR_CONV_BODY
}
#endif
NTK__VEC static void ntk__fr_conv_gen NTK__FR_CONV_ARGS {
  NTK__FR_CONV_BODY
}
/* The ReLU-family layer on a frame (Q at q, Θ at t or NULL) with act's tables, at SIMD level lv:
   the rows in two runs of constant stride, one call each (rows 0 … h − c_h − 1 read the column
   point's rows c_h …, the others its rows from 0) */
static void ntk__fr_relu(int lv, const ntk__frame *F, const ntk__fr_act *act, ntk_real *q, ntk_real *t) {
  size_t H = F->h, W = F->w, rw = act->rw, rp = act->rp, part;
  const ntk_real *va = act->va, *vb = act->vb;
  ntk__dual_aux aux;
  memset(&aux, 0, sizeof aux);
  for (part = 0; part < 2; part++) {
    size_t h0 = part ? H - F->ch : 0, nr = part ? F->ch : H - F->ch, hb0 = part ? 0 : F->ch;
    size_t oa = h0 * rw, ob = hb0 * rw + F->cw;
    if (!nr) continue;
    aux.r1v = va + 2 * rp + oa, aux.r2 = vb + 2 * rp + ob; /* the dual reads 1/√q, and q itself */
    if (rw == W) /* rows held once (the diagonal alone): one contiguous run, one vector tail */
      ntk__relu_dual_rows(lv, 1, nr * W, va + oa, 0, vb + ob, 0, q + h0 * W, t ? t + h0 * W : NULL, 0, act->f, act->h,
                          &aux);
    else
      ntk__relu_dual_rows(lv, nr, W, va + oa, rw, vb + ob, rw, q + h0 * W, t ? t + h0 * W : NULL, W, act->f, act->h,
                          &aux);
  }
}
/* The frame conv at SIMD level lv (tests pass each level the CPU has); act non-NULL: the next
   layer, ReLU-family, too, on qo and to (fused in the AVX-512 3×3 kernel, else its own pass) */
static void ntk__fr_conv(int lv, const ntk__frame *F, const ntk__arch_layer *R, int circ, const ntk_real *q,
                         const ntk_real *t, ntk_real *qo, ntk_real *to, ntk_real *tp, const ntk_real *zr, ntk_real a,
                         ntk_real b, ntk_real al, ntk_real be, ntk_real ga, const ntk__fr_act *act) {
#if defined(NTK__BUILD_X86)
  if (lv >= NTK_SIMD_AVX512 && !circ && R->f[0] == 3 && R->f[1] == 3 && R->lo[1] == 1 && F->w <= NTK__C3MAXW) {
    ntk__fr_conv3_avx512(F, R->lo[0], q, t, qo, to, zr, a, b, al, be, ga, act);
    return;
  }
  if (lv >= NTK_SIMD_AVX512) ntk__fr_conv_avx512(F, R, circ, q, t, qo, to, tp, zr, a, b, al, be, ga);
  else if (lv >= NTK_SIMD_AVX2) ntk__fr_conv_avx2(F, R, circ, q, t, qo, to, tp, zr, a, b, al, be, ga);
  else
#endif
    ntk__fr_conv_gen(F, R, circ, q, t, qo, to, tp, zr, a, b, al, be, ga);
  if (act) ntk__fr_relu(lv, F, act, qo, to);
}
#undef NTK__FR_CONV_BODY
#undef NTK__C3MAXV
#undef NTK__C3MAXW
#undef NTK__FR_CONV_ARGS
#undef NTK__FR_ROW
#undef NTK__FR_HSUM
#undef NTK__FR_WSUM
#undef NTK__FR_LINES

/* layers [l0, l1) on one frame (Q at *pq, Θ at *pt: swapped with the spare buffers q2, t2 by a
   conv); self0: the self pair's frame 0, which fills the point's tables as it goes */
/* A row of a self pass's tables for the kinds with two per-point slots (ntk__dual_point's
   √q and 1/√q, the same bits): v[i] = q[i], v[i + rp] = √q[i], v[i + 2·rp] = 1/√q[i] (0 where
   q = 0), each also at i + dup (the row held twice) */
#define NTK__FR_ROOTS_ARGS (const ntk_real *q, size_t n, ntk_real *v, size_t dup, size_t rp)
#define NTK__FR_ROOTS_BODY                                                                    \
  {                                                                                           \
    size_t i;                                                                                 \
    const ntk_real one = 1;                                                                   \
    ntk_real *s = v + rp, *r = v + 2 * rp;                                                    \
    for (i = 0; i < n; i++) {                                                                 \
      ntk_real x = q[i], sq = NTK__SQRT(x), ri = sq > 0 ? one / sq : 0;                       \
      v[i] = v[i + dup] = x, s[i] = s[i + dup] = sq, r[i] = r[i + dup] = ri;                  \
    }                                                                                         \
  }
#if defined(NTK__BUILD_X86)
/* the same by hand (GCC does not vectorise the loop at -O2: sqrt under -fmath-errno, the
   optimize attribute does not reach it; scalar it was 11 % of the Flatten network): one vector
   of n at i, masked k (AVX-512) */
#ifdef NTK_REAL_FLOAT
#define NTK__RT_V __m512
#define NTK__RT_M __mmask16
#define NTK__RT_LD(k, p) _mm512_maskz_loadu_ps(k, p)
#define NTK__RT_ST(p, k, x) _mm512_mask_storeu_ps(p, k, x)
#define NTK__RT_SQRT(x) _mm512_maskz_sqrt_ps((__mmask16)0xFFFF, x)
#define NTK__RT_GT0(x) _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ)
#define NTK__RT_DIV(k, x) _mm512_maskz_div_ps(k, _mm512_set1_ps(1), x)
#else
#define NTK__RT_V __m512d
#define NTK__RT_M __mmask8
#define NTK__RT_LD(k, p) _mm512_maskz_loadu_pd(k, p)
#define NTK__RT_ST(p, k, x) _mm512_mask_storeu_pd(p, k, x)
#define NTK__RT_SQRT(x) _mm512_maskz_sqrt_pd((__mmask8)0xFF, x)
#define NTK__RT_GT0(x) _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ)
#define NTK__RT_DIV(k, x) _mm512_maskz_div_pd(k, _mm512_set1_pd(1), x)
#endif
NTK__TARGET_AVX512 static void ntk__fr_roots_avx512 NTK__FR_ROOTS_ARGS {
  const size_t vn = 64 / sizeof(ntk_real);
  ntk_real *s = v + rp, *r = v + 2 * rp;
  size_t i;
  for (i = 0; i < n; i += vn) {
    const NTK__RT_M k = (NTK__RT_M)(n - i >= vn ? ~0u : (1u << (n - i)) - 1u);
    NTK__RT_V x = NTK__RT_LD(k, q + i), sq = NTK__RT_SQRT(x), ri = NTK__RT_DIV(NTK__RT_GT0(sq), sq);
    NTK__RT_ST(v + i, k, x), NTK__RT_ST(v + i + dup, k, x);
    NTK__RT_ST(s + i, k, sq), NTK__RT_ST(s + i + dup, k, sq);
    NTK__RT_ST(r + i, k, ri), NTK__RT_ST(r + i + dup, k, ri);
  }
}
#undef NTK__RT_V
#undef NTK__RT_M
#undef NTK__RT_LD
#undef NTK__RT_ST
#undef NTK__RT_SQRT
#undef NTK__RT_GT0
#undef NTK__RT_DIV
/* AVX2: whole vectors, the rest by the scalar body */
NTK__TARGET_AVX2 NTK__NO_ERRNO static void ntk__fr_roots_avx2 NTK__FR_ROOTS_ARGS {
  const size_t vn = 32 / sizeof(ntk_real);
  size_t j;
  for (j = 0; j + vn <= n; j += vn) {
#ifdef NTK_REAL_FLOAT
    __m256 x = _mm256_loadu_ps(q + j), sq = _mm256_sqrt_ps(x);
    __m256 ri = _mm256_and_ps(_mm256_cmp_ps(sq, _mm256_setzero_ps(), _CMP_GT_OQ), _mm256_div_ps(_mm256_set1_ps(1), sq));
    _mm256_storeu_ps(v + j, x), _mm256_storeu_ps(v + j + dup, x);
    _mm256_storeu_ps(v + rp + j, sq), _mm256_storeu_ps(v + rp + j + dup, sq);
    _mm256_storeu_ps(v + 2 * rp + j, ri), _mm256_storeu_ps(v + 2 * rp + j + dup, ri);
#else
    __m256d x = _mm256_loadu_pd(q + j), sq = _mm256_sqrt_pd(x);
    __m256d ri = _mm256_and_pd(_mm256_cmp_pd(sq, _mm256_setzero_pd(), _CMP_GT_OQ), _mm256_div_pd(_mm256_set1_pd(1), sq));
    _mm256_storeu_pd(v + j, x), _mm256_storeu_pd(v + j + dup, x);
    _mm256_storeu_pd(v + rp + j, sq), _mm256_storeu_pd(v + rp + j + dup, sq);
    _mm256_storeu_pd(v + 2 * rp + j, ri), _mm256_storeu_pd(v + 2 * rp + j + dup, ri);
#endif
  }
  q += j, v += j, n -= j;
  NTK__FR_ROOTS_BODY
}
#endif
NTK__NO_ERRNO static void ntk__fr_roots_gen NTK__FR_ROOTS_ARGS NTK__FR_ROOTS_BODY
/* at SIMD level lv (tests pass each level the CPU has; the library its own) */
static void ntk__fr_roots(int lv, const ntk_real *q, size_t n, ntk_real *v, size_t dup, size_t rp) {
#if defined(NTK__BUILD_X86)
  if (lv >= NTK_SIMD_AVX512) { ntk__fr_roots_avx512(q, n, v, dup, rp); return; }
  if (lv >= NTK_SIMD_AVX2) { ntk__fr_roots_avx2(q, n, v, dup, rp); return; }
#endif
  (void)lv;
  ntk__fr_roots_gen(q, n, v, dup, rp);
}
#undef NTK__FR_ROOTS_ARGS
#undef NTK__FR_ROOTS_BODY
/* the tables and constants of ReLU-family layer l on frame F (ta, tb: the pair's tables) */
static void ntk__fr_act_of(const ntk__sk *S, size_t l, const ntk__frame *F, const ntk_real *ta, const ntk_real *tb,
                           ntk__fr_act *act) {
  const ntk_layer *L = &S->layers[l];
  const ntk_real a = (ntk_real)L->a, b = (ntk_real)L->b, pi = (ntk_real)NTK__PI;
  act->va = ta + S->tab[l], act->vb = tb + S->tab[l];
  act->rw = S->rep * F->w, act->rp = S->rep * F->h * F->w;
  act->f = (a - b) * (a - b) / (2 * pi), act->h = (a * a + b * b) / 2;
}
static void ntk__fr_layers(const ntk__sk *S, size_t l0, size_t l1, const ntk__frame *F, ntk_real *ta,
                           const ntk_real *tb, int self0, ntk_real **pq, ntk_real **pt, ntk_real **pq2,
                           ntk_real **pt2, ntk_real *tp, ntk_real *stk, int wt) {
  const ntk__arch *A = S->A;
  size_t H = F->h, W = F->w, P = H * W, l, h, i, top = 0, FP = S->maxp, rw = S->rep * W, rp = S->rep * P;
  ntk_real *q = *pq, *t = *pt;
  for (l = l0; l < l1; l++) {
    const ntk_layer *L = &S->layers[l];
    const ntk__arch_layer *R = &A->l[l];
    switch (L->kind) {
    case NTK_LAYER_DENSE: ntk__fr_affine(L, R, P, q, wt ? t : NULL, 1.0); break;
    case NTK_LAYER_CONV: {
      int circ = L->padding == NTK_PAD_CIRCULAR;
      double sc = 1.0 / ((double)R->f[0] * (double)R->f[1]), w2 = L->w_std * L->w_std, bb = ntk__bstd(L);
      ntk_real a = (ntk_real)(w2 * sc), b = (ntk_real)(bb * bb), *x;
      ntk__fr_act act, *pa = NULL;
      if (R->f[0] * R->f[1] == 1) {
        ntk__fr_affine(L, R, P, q, wt ? t : NULL, 1.0);
        break;
      }
      /* a ReLU-family layer next (and its tables made already: not frame 0 of a self pair) runs
         with the conv */
      if (l + 1 < l1 && S->layers[l + 1].kind == NTK_LAYER_ABRELU && !self0)
        ntk__fr_act_of(S, l + 1, F, ta, tb, &act), pa = &act;
      if (L->param == NTK_PARAM_STANDARD)
        ntk__fr_conv(ntk__simd_level(), F, R, circ, q, wt ? t : NULL, *pq2, *pt2, tp + S->maxp, tp, a, b,
                     (ntk_real)((double)R->fan_in * sc), a, R->has_bias ? 1 : 0, pa);
      else
        ntk__fr_conv(ntk__simd_level(), F, R, circ, q, wt ? t : NULL, *pq2, *pt2, tp + S->maxp, tp, a, b, a, a, b, pa);
      if (pa) l++;
      x = q, q = *pq2, *pq2 = x;
      if (wt) x = t, t = *pt2, *pt2 = x;
      break;
    }
    case NTK_LAYER_LAYER_NORM: {
      /* × r(x)(a, b)·r(x′)(a′, b′), r = 1/√(mean over the normalised group of (ε + q(x, x))) */
      ntk_real *ra = ta + S->tab[l];
      const ntk_real *rb = tb + S->tab[l];
      if (self0) {
        int ax = L->flags ? L->flags : NTK_AXIS_C;
        double eps = L->eps > 0 ? L->eps : 1e-12;
        size_t ih, iw, a, b;
        for (ih = 0; ih < H; ih++)
          for (iw = 0; iw < W; iw++) {
            size_t cnt = 0;
            double d = 0;
            for (a = 0; a < H; a++)
              for (b = 0; b < W; b++) {
                if ((!(ax & NTK_AXIS_H) && a != ih) || (!(ax & NTK_AXIS_W) && b != iw)) continue;
                d += eps + (double)q[a * W + b], cnt++;
              }
            ra[ih * rw + iw] = ra[ih * rw + (rw - W) + iw] = (ntk_real)(1 / sqrt(d / (double)cnt));
          }
      }
      for (h = 0; h < H; h++) {
        const ntk_real *r1 = ra + h * rw, *r2 = rb + ((h + F->ch) % H) * rw + F->cw;
        ntk_real *qr = q + h * W, *tr = t + h * W;
        for (i = 0; i < W; i++) {
          ntk_real sc = r1[i] * r2[i];
          qr[i] *= sc;
          if (wt) tr[i] *= sc;
        }
      }
      break;
    }
    case NTK_LAYER_FANOUT: {
      ntk_real *base = stk + 4 * top * FP;
      memcpy(base, q, P * sizeof(ntk_real)), memset(base + 2 * FP, 0, P * sizeof(ntk_real));
      if (wt) memcpy(base + FP, t, P * sizeof(ntk_real)), memset(base + 3 * FP, 0, P * sizeof(ntk_real));
      top++;
      break;
    }
    case NTK_LAYER_BRANCH: case NTK_LAYER_FANIN_SUM: case NTK_LAYER_FANIN_CONCAT: {
      size_t fi = L->kind == NTK_LAYER_BRANCH ? A->l[R->mate].mate : l;
      ntk_real *base = stk + 4 * (top - 1) * FP, wgt = 1;
      if (S->layers[fi].kind == NTK_LAYER_FANIN_CONCAT) wgt = (ntk_real)((double)R->in[2] / (double)A->l[fi].out[2]);
      for (i = 0; i < P; i++) base[2 * FP + i] += wgt * q[i];
      if (wt) for (i = 0; i < P; i++) base[3 * FP + i] += wgt * t[i];
      if (L->kind == NTK_LAYER_BRANCH) {
        memcpy(q, base, P * sizeof(ntk_real));
        if (wt) memcpy(t, base + FP, P * sizeof(ntk_real));
      } else {
        memcpy(q, base + 2 * FP, P * sizeof(ntk_real));
        if (wt) memcpy(t, base + 3 * FP, P * sizeof(ntk_real));
        top--;
      }
      break;
    }
    default:
      if ((ntk__props(L->kind) & NTK__K_ACT) && L->kind != NTK_LAYER_IDENTITY) {
        /* ntk__dual row by row: x's values along the row, x′'s along the frame's window */
        int np = ntk__dual_npt(L->kind), s;
        ntk_real *va = ta + S->tab[l];
        const ntk_real *vb = tb + S->tab[l];
        ntk__dual_aux aux;
        if (self0 && np == 2) { /* q, √q, 1/√q along each row, by vectors */
          int lv = ntk__simd_level();
          for (h = 0; h < H; h++) ntk__fr_roots(lv, q + h * W, W, va + h * rw, rw - W, rp);
        } else if (self0) {
          for (h = 0; h < H; h++)
            for (i = 0; i < W; i++) {
              ntk_real o[NTK__NPT], v = q[h * W + i];
              ntk_real *dst = va + h * rw + i;
              dst[0] = dst[rw - W] = v;
              if (np) {
                ntk__dual_point(L, v, o);
                for (s = 0; s < np; s++) dst[(size_t)(1 + s) * rp] = dst[(size_t)(1 + s) * rp + (rw - W)] = o[s];
              }
            }
        }
        if (L->kind == NTK_LAYER_ABRELU) {
          ntk__fr_act act;
          ntk__fr_act_of(S, l, F, ta, tb, &act);
          if (self0) { /* every entry a diagonal (q12 = q11 = q22): T = h·q, Ṫ = h, the dual's bits */
            for (i = 0; i < P; i++) q[i] *= act.h;
            if (wt)
              for (i = 0; i < P; i++) t[i] *= act.h;
          } else {
            ntk__fr_relu(ntk__simd_level(), F, &act, q, wt ? t : NULL);
          }
          break;
        }
        memset(&aux, 0, sizeof aux);
        for (h = 0; h < H; h++) {
          size_t oa = h * rw, ob = ((h + F->ch) % H) * rw + F->cw;
          if (np) {
            aux.s1v = va + rp + oa, aux.r1v = va + 2 * rp + oa;
            aux.s2 = vb + rp + ob, aux.r2 = vb + 2 * rp + ob;
            for (s = 2; s < np; s++)
              aux.x1v[s - 2] = va + (size_t)(1 + s) * rp + oa, aux.x2[s - 2] = vb + (size_t)(1 + s) * rp + ob;
          }
          ntk__dual(L, &S->quad[l], W, va + oa, vb + ob, q + h * W, wt ? t + h * W : NULL, np ? &aux : NULL);
        }
      }
      break; /* INPUT, IDENTITY, 1×1 pools */
    }
  }
  *pq = q, *pt = t;
}

/* the materialised input covariance x[i, :]·x′[j, :]/c, frame-major (below; dg: frame 0 only) */
static void ntk__fr_input_full(const ntk__arch *A, const ntk_real *xa, const ntk_real *xb, ntk_real *mq, int dg) {
  size_t H = A->in[0], W = A->in[1], c = A->in[2], ch, cw, ih, iw, k;
  for (ch = 0; ch < (dg ? 1 : H); ch++)
    for (cw = 0; cw < (dg ? 1 : W); cw++)
      for (ih = 0; ih < H; ih++)
        for (iw = 0; iw < W; iw++) {
          size_t jh = ih + ch < H ? ih + ch : ih + ch - H, jw = iw + cw < W ? iw + cw : iw + cw - W;
          const ntk_real *a = xa + (ih * W + iw) * c, *b = xb + (jh * W + jw) * c;
          double acc = 0;
          for (k = 0; k < c; k++) acc += (double)a[k] * (double)b[k];
          mq[((ch * H + ih) * W + cw) * W + iw] = (ntk_real)(acc / (double)c);
        }
}

/* One axis of a barrier as a list of (output frame, output position, input position, weight)
   grouped by input frame: a frame that has just been evolved adds its entries straight into
   the barrier's output (the input covariance at full size is never stored). In ntk__fr_taps,
   T NULL counts; start[c] … start[c + 1] are input frame c's taps. */
typedef struct ntk__fr_tap1 {
  size_t co, o, i;
  double w;
} ntk__fr_tap1;
/* one axis' weight of a barrier's output entry (as ntk__sk_axis): 1/f (conv), 1 (sum pool), 1/f²
   (avg pool), 1/(n1·n2) with normalize_edges (the in-image taps of either side) */
static double ntk__fr_weight(int pool, int avg, int edges, size_t f, size_t n1, size_t n2) {
  double inv_f = 1.0 / (double)f;
  return !pool ? inv_f : !avg ? 1 : edges ? (n1 && n2 ? 1.0 / ((double)n1 * (double)n2) : 0) : inv_f * inv_f;
}
static size_t ntk__fr_taps(const ntk__arch_layer *R, const ntk_layer *L, int ax, ntk__fr_tap1 *T, size_t *start) {
  int circ = L->padding == NTK_PAD_CIRCULAR, pool = L->kind != NTK_LAYER_CONV;
  int avg = L->kind == NTK_LAYER_AVG_POOL, edges = avg && (L->flags & NTK_POOL_NORMALIZE_EDGES) && !circ;
  size_t n = R->in[ax], m = R->out[ax], f = R->f[ax], s = R->s[ax], lo = R->lo[ax], co, o, d, e, c, cnt = 0;
  int pass;
  for (pass = 0; pass < (T ? 2 : 1); pass++) {
    if (T && pass == 0) {
      for (c = 0; c <= n; c++) start[c] = 0;
    }
    for (co = 0; co < m; co++)
      for (o = 0; o < m; o++) {
        size_t p = o + co < m ? o + co : o + co - m, n1 = 0, n2 = 0;
        double w;
        for (d = 0; d < f; d++) n1 += ntk__sk_tap(o, d, s, lo, n, circ) >= 0;
        for (e = 0; e < f; e++) n2 += ntk__sk_tap(p, e, s, lo, n, circ) >= 0;
        w = ntk__fr_weight(pool, avg, edges, f, n1, n2);
        for (d = 0; d < f; d++) {
          long i = ntk__sk_tap(o, d, s, lo, n, circ);
          if (i < 0) continue;
          for (e = pool ? 0 : d; e < (pool ? f : d + 1); e++) {
            long j = ntk__sk_tap(p, e, s, lo, n, circ);
            if (j < 0) continue;
            c = (size_t)(j >= i ? j - i : j - i + (long)n);
            if (!T) cnt++;
            else if (pass == 0) start[c + 1]++;
            else {
              ntk__fr_tap1 *t = &T[start[c]++];
              t->co = co, t->o = o, t->i = (size_t)i, t->w = w;
            }
          }
        }
      }
    if (T && pass == 0) { /* counts → starts (shifted by one, restored after the fill) */
      for (c = 0; c < n; c++) start[c + 1] += start[c];
    }
  }
  if (T) { /* the fill advanced start[c] to start[c + 1]: shift back */
    for (c = n; c > 0; c--) start[c] = start[c - 1];
    start[0] = 0;
    return start[n];
  }
  return cnt;
}

/* A barrier — a pool, or a conv that strides or changes the size — on the frame-major
   covariance M[((c_h·h + i_h)·w + c_w)·w + i_w] (the entry between position i of x and i + c
   (mod the size) of x′; an axis' frame and position next to each other, so that each axis' pass
   reads whole blocks), in → in (tmp: scratch), one axis at a time:
   output (o, p = o + c′) reads the input pairs (s·o + d − lo, s·p + e − lo) over the taps d, e
   (a conv: e = d), each in frame (j − i) mod n; a tap outside the image is zero (CIRCULAR: it
   wraps). Scales as ntk__sk_axis: 1/f (conv), 1 (sum pool), 1/f² (avg pool), the in-image tap
   counts (normalize_edges). */
NTK__VEC static void ntk__fr_add(ntk_real *NTK_RESTRICT o, const ntk_real *NTK_RESTRICT x, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) o[i] += x[i];
}
static void ntk__fr_barrier(const ntk__arch_layer *R, const ntk_layer *L, ntk_real *q, ntk_real *tmp) {
  int circ = L->padding == NTK_PAD_CIRCULAR, pool = L->kind != NTK_LAYER_CONV;
  int avg = L->kind == NTK_LAYER_AVG_POOL, edges = avg && (L->flags & NTK_POOL_NORMALIZE_EDGES) && !circ;
  size_t H = R->in[0], W = R->in[1], Ho = R->out[0], Wo = R->out[1], WW = W * W;
  size_t ch, cw, oh, ow, d, e, x;
  /* 1. along h: (c_h, i_h, ·) of (H, H, W·W) → (c_h′, o_h, ·) of (Ho, Ho, W·W): whole blocks */
  {
    size_t f = R->f[0], s = R->s[0], lo = R->lo[0];
    for (ch = 0; ch < Ho; ch++)
      for (oh = 0; oh < Ho; oh++) {
        size_t ph = oh + ch < Ho ? oh + ch : oh + ch - Ho, n1 = 0, n2 = 0, cnt = 0;
        ntk_real *dst = tmp + (ch * Ho + oh) * WW, sc;
        for (d = 0; d < f; d++) {
          long i = ntk__sk_tap(oh, d, s, lo, H, circ);
          if (i < 0) continue;
          n1++;
          for (e = pool ? 0 : d; e < (pool ? f : d + 1); e++) {
            long j = ntk__sk_tap(ph, e, s, lo, H, circ);
            const ntk_real *src;
            if (j < 0) continue;
            src = q + ((size_t)(j >= i ? j - i : j - i + (long)H) * H + (size_t)i) * WW;
            if (cnt++ == 0) memcpy(dst, src, WW * sizeof(ntk_real));
            else ntk__fr_add(dst, src, WW);
          }
        }
        if (cnt == 0) memset(dst, 0, WW * sizeof(ntk_real));
        for (e = 0; e < f; e++) n2 += ntk__sk_tap(ph, e, s, lo, H, circ) >= 0;
        sc = (ntk_real)ntk__fr_weight(pool, avg, edges, f, n1, n2);
        if (sc != 1)
          for (x = 0; x < WW; x++) dst[x] *= sc;
      }
  }
  /* 2. along w, within each (c_h′, o_h) block: (c_w, i_w) of (W, W) → (c_w′, o_w) of (Wo, Wo) */
  {
    size_t f = R->f[1], s = R->s[1], lo = R->lo[1], nb = Ho * Ho, b;
    for (cw = 0; cw < Wo; cw++)
      for (ow = 0; ow < Wo; ow++) {
        size_t pw = ow + cw < Wo ? ow + cw : ow + cw - Wo, n1 = 0, n2 = 0, nt = 0, t, tix[64];
        ntk_real sc;
        for (d = 0; d < f; d++) {
          long i = ntk__sk_tap(ow, d, s, lo, W, circ);
          if (i < 0) continue;
          n1++;
          for (e = pool ? 0 : d; e < (pool ? f : d + 1); e++) {
            long j = ntk__sk_tap(pw, e, s, lo, W, circ);
            if (j < 0) continue;
            if (nt < 64) tix[nt] = (size_t)(j >= i ? j - i : j - i + (long)W) * W + (size_t)i;
            nt++;
          }
        }
        for (e = 0; e < f; e++) n2 += ntk__sk_tap(pw, e, s, lo, W, circ) >= 0;
        sc = (ntk_real)ntk__fr_weight(pool, avg, edges, f, n1, n2);
        for (b = 0; b < nb; b++) {
          const ntk_real *in = tmp + b * WW;
          ntk_real acc = 0;
          if (nt <= 64) {
            for (t = 0; t < nt; t++) acc += in[tix[t]];
          } else {
            for (d = 0; d < f; d++) {
              long i = ntk__sk_tap(ow, d, s, lo, W, circ);
              if (i < 0) continue;
              for (e = pool ? 0 : d; e < (pool ? f : d + 1); e++) {
                long j = ntk__sk_tap(pw, e, s, lo, W, circ);
                if (j >= 0) acc += in[(size_t)(j >= i ? j - i : j - i + (long)W) * W + (size_t)i];
              }
            }
          }
          q[b * Wo * Wo + cw * Wo + ow] = acc * sc;
        }
      }
  }
}

/* Σ v[i] in double, over 8 interleaved partial sums (a fixed order: the same bits wherever it
   runs; one running sum would be a chain of n dependent additions) */
#define NTK__FR_SUM_BODY                                                                      \
  {                                                                                           \
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                   \
    size_t i, r;                                                                              \
    for (i = 0; i + 8 <= n; i += 8)                                                           \
      for (r = 0; r < 8; r++) p[r] += (double)v[i + r];                                       \
    for (r = 0; i < n; i++, r++) p[r] += (double)v[i];                                        \
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));                 \
  }
#if defined(NTK__BUILD_X86)
NTK__TARGET_AVX512 NTK__VEC static double ntk__fr_sum_avx512(const ntk_real *v, size_t n) NTK__FR_SUM_BODY
NTK__TARGET_AVX2 NTK__VEC static double ntk__fr_sum_avx2(const ntk_real *v, size_t n) NTK__FR_SUM_BODY
#endif
NTK__VEC static double ntk__fr_sum_gen(const ntk_real *v, size_t n) NTK__FR_SUM_BODY
#undef NTK__FR_SUM_BODY
static double ntk__fr_sum(const ntk_real *v, size_t n) {
#if defined(NTK__BUILD_X86)
  int lv = ntk__simd_level();
  if (lv >= NTK_SIMD_AVX512) return ntk__fr_sum_avx512(v, n);
  if (lv >= NTK_SIMD_AVX2) return ntk__fr_sum_avx2(v, n);
#endif
  return ntk__fr_sum_gen(v, n);
}

/* A frame segment of one pair (ntk__fr_pair): layers [l, e) on the frames of offsets c ∈
   [0, hs[0]) ∪ [H − hs[1], H) (and along w), each independent of the others */
typedef struct ntk__frseg {
  const ntk__sk *S;
  const ntk_real *xa, *xb, *mq, *mt, *tb;
  const ntk_real *pa, *pb; /* the inputs channel by channel (ntk__fr_planar), or NULL */
  ntk_real *ta, *mtq, *mtt;
  size_t l, e, H, W, C, hs[2], ws[2];
  int self, wt, mat, dg, readout, stream, only0, defer; /* defer: a streaming frame's part left to ntk__fr_stream */
} ntk__frseg;

/* frame (ch, cw)'s part of a streaming barrier (g->stream): its final Q (q) and Θ (t), through
   the barrier's tap tables, added into the barrier's output (g->mtq, g->mtt) — into its row
   blocks c_o·h_o + o in [r0, r1) only (all of them: 0, SIZE_MAX) */
static void ntk__fr_stream(const ntk__frseg *g, size_t ch, size_t cw, const ntk_real *q, const ntk_real *t, size_t r0, size_t r1) {
  const ntk__sk *S = g->S;
  size_t e = g->e, W = g->W;
  const ntk__arch_layer *Rb = &S->A->l[e];
  size_t Ho = Rb->out[0], Wo = Rb->out[1], a0, a1, b0, b1, x, y;
  const ntk__fr_tap1 *Th = S->taps + S->tap0[2 * e], *Tw = S->taps + S->tap0[2 * e + 1];
  const size_t *sh = S->tstart + S->tapc[2 * e], *sw = S->tstart + S->tapc[2 * e + 1];
  int wt = g->wt;
  a0 = sh[ch], a1 = sh[ch + 1], b0 = sw[cw], b1 = sw[cw + 1];
  for (x = a0; x < a1; x++) {
    const ntk__fr_tap1 *th_ = &Th[x];
    size_t r = th_->co * Ho + th_->o;
    ntk_real *oq, *ot;
    const ntk_real *rq, *rt;
    if (r < r0 || r >= r1) continue;
    oq = g->mtq + r * Wo * Wo, ot = g->mtt + r * Wo * Wo;
    rq = q + th_->i * W, rt = t + th_->i * W;
    for (y = b0; y < b1; y++) {
      const ntk__fr_tap1 *tw_ = &Tw[y];
      ntk_real wgt = (ntk_real)(th_->w * tw_->w);
      size_t oo = tw_->co * Wo + tw_->o;
      oq[oo] += wgt * rq[tw_->i];
      if (wt) ot[oo] += wgt * rt[tw_->i];
    }
  }
}

/* frame k's offsets (c_h, c_w) in a segment */
static void ntk__fr_offsets(const ntk__frseg *g, size_t k, size_t *ch, size_t *cw) {
  size_t nw = g->ws[0] + g->ws[1], fh = k / nw, fw = k % nw;
  *ch = fh < g->hs[0] ? fh : g->H - g->hs[1] + (fh - g->hs[0]);
  *cw = fw < g->ws[0] ? fw : g->W - g->ws[1] + (fw - g->ws[0]);
}

/* The inputs of a pair channel by channel, for the frames' input entries (all of them, frame 0
   of the self passes that make the tables too: the same arithmetic everywhere, so that a
   duplicate point's entries equal its tables bit for bit): x's channel c at pl + c·h·w (h × w),
   x′'s at pl + h·w·c + c·h·2w with each row twice, so that the window of a frame's row,
   (w + c_w) mod w, is one run. 3·h·w·c reals (S->pln) at the end of the pair's workspace. */
static void ntk__fr_planar(const ntk_real *xa, const ntk_real *xb, size_t H, size_t W, size_t C, ntk_real *pl) {
  size_t HW = H * W, c, h, w;
  for (c = 0; c < C; c++) {
    ntk_real *pa = pl + c * HW, *pb = pl + C * HW + c * 2 * HW;
    for (h = 0; h < H; h++, pa += W, pb += 2 * W) {
      const ntk_real *a = xa + h * W * C + c, *b = xb + h * W * C + c;
      for (w = 0; w < W; w++) pa[w] = a[w * C];
      for (w = 0; w < W; w++) pb[w] = pb[W + w] = b[w * C];
    }
  }
}
/* one row of a frame's input entries from the planar inputs: q[i] = Σ_c a_c[i]·b_c[i] / C, the
   products summed in double in channel order (as the entry-by-entry loop), in runs of 64 */
#define NTK__FR_INPUT_ARGS \
  (const ntk_real *a, size_t sa, const ntk_real *b, size_t sb, size_t W, size_t C, ntk_real *q)
#define NTK__FR_INPUT_BODY                                                                    \
  {                                                                                           \
    size_t i0, i, c;                                                                          \
    double acc[64];                                                                           \
    for (i0 = 0; i0 < W; i0 += 64) {                                                          \
      size_t n = W - i0 < 64 ? W - i0 : 64;                                                   \
      const ntk_real *ar = a + i0, *br = b + i0;                                              \
      for (i = 0; i < n; i++) acc[i] = (double)ar[i] * (double)br[i];                         \
      for (c = 1; c < C; c++)                                                                 \
        for (i = 0; i < n; i++) acc[i] += (double)ar[c * sa + i] * (double)br[c * sb + i];    \
      for (i = 0; i < n; i++) q[i0 + i] = (ntk_real)(acc[i] / (double)C);                     \
    }                                                                                         \
  }
#if defined(NTK__BUILD_X86)
NTK__TARGET_AVX512 NTK__VEC static void ntk__fr_input_row_avx512 NTK__FR_INPUT_ARGS NTK__FR_INPUT_BODY
NTK__TARGET_AVX2 NTK__VEC static void ntk__fr_input_row_avx2 NTK__FR_INPUT_ARGS NTK__FR_INPUT_BODY
#endif
NTK__VEC static void ntk__fr_input_row_gen NTK__FR_INPUT_ARGS NTK__FR_INPUT_BODY
static void ntk__fr_input_row NTK__FR_INPUT_ARGS {
#if defined(NTK__BUILD_X86)
  int lv = ntk__simd_level();
  if (lv >= NTK_SIMD_AVX512) { ntk__fr_input_row_avx512(a, sa, b, sb, W, C, q); return; }
  if (lv >= NTK_SIMD_AVX2) { ntk__fr_input_row_avx2(a, sa, b, sb, W, C, q); return; }
#endif
  ntk__fr_input_row_gen(a, sa, b, sb, W, C, q);
}
#undef NTK__FR_INPUT_ARGS
#undef NTK__FR_INPUT_BODY

/* Frame k of the segment on the buffers fb (Q, Θ, their spares, the conv's rows: the first
   4·maxp + tpn + 4·depth·maxp reals of a workspace): its input entries, the layers, then its
   output — the readout's partial sums (*fq, *ft), its slice of the materialised state, or its
   part of a streaming barrier. Returns the frame's Q (its Θ at *pt). */
static ntk_real *ntk__fr_frame(const ntk__frseg *g, size_t k, ntk_real *fb, ntk_real **pt, double *fq, double *ft) {
  const ntk__sk *S = g->S;
  size_t FP = S->maxp, H = g->H, W = g->W, C = g->C, P = H * W;
  size_t ih, iw, e = g->e;
  ntk_real *q = fb, *t = fb + FP, *q2 = fb + 2 * FP, *t2 = fb + 3 * FP, *tp = fb + 4 * FP, *stk = tp + S->tpn;
  ntk_real *mtq = g->mtq, *mtt = g->mtt;
  const ntk_real *mq = g->mq, *mt = g->mt;
  int wt = g->wt;
  ntk__frame F;
  F.h = H, F.w = W;
  ntk__fr_offsets(g, k, &F.ch, &F.cw);
  F.sh = H - F.ch, F.sw = W - F.cw;
  /* the frame's input entries */
  if (!g->mat) { /* x at (ih, iw) · x′ at (ih + c_h, iw + c_w) mod (H, W), over the channels */
    for (ih = 0; ih < H; ih++) {
      size_t jh = ih + F.ch < H ? ih + F.ch : ih + F.ch - H;
      const ntk_real *ar = g->xa + ih * W * C, *br = g->xb + jh * W * C;
      ntk_real *qr = q + ih * W;
      if (C > 1) { /* channel by channel along the row (g->pa: the planar inputs) */
        ntk__fr_input_row(g->pa + ih * W, H * W, g->pb + jh * 2 * W + F.cw, 2 * H * W, W, C, qr);
        continue;
      }
      /* one channel: the product (acc / 1), in two contiguous runs */
      for (iw = 0; iw < F.sw; iw++) qr[iw] = (ntk_real)((double)ar[iw] * (double)br[iw + F.cw]);
      for (; iw < W; iw++) qr[iw] = (ntk_real)((double)ar[iw] * (double)br[iw - F.sw]);
    }
    if (wt) memset(t, 0, P * sizeof(ntk_real));
  } else if (g->dg) {
    memcpy(q, mq, P * sizeof(ntk_real));
    if (wt) memcpy(t, mt, P * sizeof(ntk_real));
  } else {
    for (ih = 0; ih < H; ih++) {
      size_t o = ((F.ch * H + ih) * W + F.cw) * W;
      memcpy(q + ih * W, mq + o, W * sizeof(ntk_real));
      if (wt) memcpy(t + ih * W, mt + o, W * sizeof(ntk_real));
    }
  }
  ntk__fr_layers(S, g->l, e, &F, g->ta, g->tb, g->self && F.ch == 0 && F.cw == 0, &q, &t, &q2, &t2, tp, stk, wt);
  *pt = t;
  if (g->only0 || e == S->L) return q;
  if (g->readout) {
    *fq = ntk__fr_sum(q, P);
    if (wt) *ft = ntk__fr_sum(t, P);
  } else if (g->dg) {
    memcpy(mtq, q, P * sizeof(ntk_real));
    if (wt) memcpy(mtt, t, P * sizeof(ntk_real));
  } else if (g->stream) {
    if (!g->defer) ntk__fr_stream(g, F.ch, F.cw, q, t, 0, (size_t)-1);
  } else {
    for (ih = 0; ih < H; ih++) {
      size_t o = ((F.ch * H + ih) * W + F.cw) * W;
      memcpy(mtq + o, q + ih * W, W * sizeof(ntk_real));
      if (wt) memcpy(mtt + o, t + ih * W, W * sizeof(ntk_real));
    }
  }
  return q;
}

/* The frames of a segment on S->inner threads (frame 0 of a self pair first: it fills the
   tables the others read); the readout's per-frame sums added in frame order afterwards, so
   that the result is the serial loop's, bit for bit. A streaming barrier's frames run in
   batches (about NTK__FR_BATCH_BYTES of final Q and Θ, h·w values each per frame, kept), each
   batch's parts then added into the barrier's output in frame order with the threads splitting
   its row blocks, as the serial loop adds them. One parallel region for all batches. Thread 0
   works in ws, the others in buffers of their own; without memory for them, the serial loop. */
#define NTK__FR_BATCH_BYTES ((size_t)2 << 20)
static void ntk__fr_frames_par(const ntk__frseg *g, size_t nk, ntk_real *ws, double *aq, double *at) {
  const ntk__sk *S = g->S;
  size_t fbn = 4 * S->maxp + S->tpn + 4 * S->depth * S->maxp, k, k0 = g->self ? 1 : 0, P = g->H * g->W, nbat, nfr;
  size_t nrow = g->stream ? S->A->l[g->e].out[0] * S->A->l[g->e].out[0] : 0, per = P * (g->wt ? 2 : 1) * sizeof(ntk_real);
  int nt = S->inner, i, nb = 1, ok = 1;
  double *fs = (double *)NTK_MALLOC(2 * nk * sizeof(double));
  ntk_real *buf[NTK__FR_MAXT], *tf, *fr = NULL;
  ntk__frseg gd = *g;
  if (nt > NTK__FR_MAXT) nt = NTK__FR_MAXT;
  nbat = nk; /* frames per batch */
  if (g->stream) {
    nbat = NTK__FR_BATCH_BYTES / (per ? per : 1);
    if (nbat < 2 * (size_t)nt) nbat = 2 * (size_t)nt;
    if (nbat > nk) nbat = nk;
  }
  nfr = ntk__mul(ntk__mul(nbat, P, &ok), g->wt ? 2 : 1, &ok);
  (void)ntk__mul(nfr + 1, sizeof(ntk_real), &ok);
  ok = ok && fs != NULL;
  if (ok && g->stream && !(fr = (ntk_real *)NTK_MALLOC((nfr + 1) * sizeof(ntk_real)))) ok = 0;
  buf[0] = ws, gd.defer = g->stream;
  for (; nb < nt && ok; nb++) {
    buf[nb] = (ntk_real *)NTK_MALLOC(fbn * sizeof(ntk_real));
    if (!buf[nb]) ok = 0;
    else memset(buf[nb] + 4 * S->maxp, 0, S->maxp * sizeof(ntk_real)); /* the conv's zero row */
  }
  if (!ok) { /* no memory for the threads' buffers: the serial loop */
    for (i = 1; i < nb; i++) NTK_FREE(buf[i]);
    NTK_FREE(fs), NTK_FREE(fr);
    for (k = 0; k < nk; k++) {
      double pq = 0, pt = 0;
      (void)ntk__fr_frame(g, k, ws, &tf, &pq, &pt);
      *aq += pq, *at += pt;
    }
    return;
  }
  for (k = 0; k < 2 * nk; k++) fs[k] = 0;
  if (k0) /* frame 0 of a self pair: its tables first (and its part of a barrier, the first) */
    (void)ntk__fr_frame(g, 0, ws, &tf, &fs[0], &fs[nk]);
#ifdef NTK__OMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    int tid = 0, nth = 1;
    size_t kb;
#ifdef NTK__OMP
    tid = omp_get_thread_num(), nth = omp_get_num_threads();
#endif
    for (kb = k0; kb < nk; kb += nbat) { /* a batch: frames kb .. kb + nbat − 1 */
      size_t kend = kb + nbat < nk ? kb + nbat : nk, j;
      long kk, kl0 = (long)kb, kl1 = (long)kend;
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (kk = kl0; kk < kl1; kk++) {
        ntk_real *t_, *q_, *b = buf[tid];
        size_t kf = (size_t)kk;
        q_ = ntk__fr_frame(&gd, kf, b, &t_, &fs[kf], &fs[nk + kf]);
        if (fr) {
          memcpy(fr + (kf - kb) * P, q_, P * sizeof(ntk_real));
          if (g->wt) memcpy(fr + (nbat + kf - kb) * P, t_, P * sizeof(ntk_real));
        }
      }
      if (fr) { /* the batch's parts of the barrier, in frame order, each thread its row blocks */
        size_t r0 = nrow * (size_t)tid / (size_t)nth, r1 = nrow * (size_t)(tid + 1) / (size_t)nth;
        for (j = kb; j < kend; j++) {
          size_t ch, cw;
          ntk__fr_offsets(g, j, &ch, &cw);
          ntk__fr_stream(g, ch, cw, fr + (j - kb) * P, fr + ((g->wt ? nbat : 0) + j - kb) * P, r0, r1);
        }
#ifdef NTK__OMP
#pragma omp barrier
#endif
      }
    }
  }
  for (k = 0; k < nk; k++) *aq += fs[k], *at += fs[nk + k];
  for (i = 1; i < nb; i++) NTK_FREE(buf[i]);
  NTK_FREE(fs), NTK_FREE(fr);
}

/* One pair in frame mode: as ntk__sk_pair. want = 0: a self pair run only for its tables (its
   value is not asked for), which stops once no later layer reads a table. */
static void ntk__fr_pair(const ntk__sk *S, const ntk_real *xa, const ntk_real *xb, ntk_real *ta,
                         const ntk_real *tb, int self, int want, ntk_real *ws, ntk_real *kq, ntk_real *kt) {
  const ntk__arch *A = S->A;
  size_t FP = S->maxp, l = 0, L = S->L, H = A->in[0], W = A->in[1], C = A->in[2];
  ntk_real *tp = ws + 4 * FP; /* after Q, Θ and their spares (ntk__fr_frame's buffers) */
  ntk_real *stk = tp + S->tpn, *mq = stk + 4 * S->depth * FP, *mt = mq + S->mpp;
  ntk_real *mtq = mt + S->mpp, *mtt = mtq + S->mpp;
  int wt = kt != NULL, mat = 0, dg = S->rep == 1; /* dg: the diagonal alone, barriers too */
  ntk_real *x_, *pl = mtt + S->mpp; /* the planar inputs (S->pln reals) */
  ntk__sk Sd = *S;
  Sd.diag = dg;
  memset(tp, 0, S->maxp * sizeof(ntk_real)); /* the zero row of ntk__fr_conv */
  while (l < L) {
    const ntk_layer *Ly = &S->layers[l];
    const ntk__arch_layer *R = &A->l[l];
    if (S->isframe[l]) {
      size_t e = l, hs[2], ws_[2], nh, nw, P, nk, k;
      const ntk__arch_layer *Re;
      ntk__frseg g;
      int readout, only0, barrier, stream;
      double aq = 0, at = 0;
      while (e < L && S->isframe[e]) e++;
      Re = &A->l[e - 1];
      H = R->in[0], W = R->in[1], P = H * W;
      readout = e < L && (S->layers[e].kind == NTK_LAYER_FLATTEN || S->layers[e].kind == NTK_LAYER_GLOBAL_AVG_POOL ||
                          S->layers[e].kind == NTK_LAYER_GLOBAL_SUM_POOL);
      barrier = e < L && !readout;
      only0 = self && !want && (S->last_tab == NTK__NONE || S->last_tab < e);
      /* the frames: offsets |k| ≤ need_r, i.e. c ∈ [0, r] ∪ [n − r, n) along each axis */
      hs[0] = Re->need_all || 2 * Re->need_r[0] + 1 >= H ? H : Re->need_r[0] + 1;
      ws_[0] = Re->need_all || 2 * Re->need_r[1] + 1 >= W ? W : Re->need_r[1] + 1;
      hs[1] = hs[0] == H ? 0 : Re->need_r[0], ws_[1] = ws_[0] == W ? 0 : Re->need_r[1];
      if (only0 || e == L) hs[0] = ws_[0] = 1, hs[1] = ws_[1] = 0;
      nh = hs[0] + hs[1], nw = ws_[0] + ws_[1];
      stream = barrier && !dg && S->taps && S->layers[e].kind != NTK_LAYER_FLATTEN;
      if (stream) { /* the barrier's output, accumulated frame by frame */
        const ntk__arch_layer *Rb = &A->l[e];
        size_t Po = Rb->out[0] * Rb->out[1];
        memset(mtq, 0, Po * Po * sizeof(ntk_real));
        if (wt) memset(mtt, 0, Po * Po * sizeof(ntk_real));
      } else if (barrier && (nh < H || nw < W)) { /* the frames not evolved are not needed: zeros */
        memset(mtq, 0, (dg ? P : P * P) * sizeof(ntk_real));
        if (wt) memset(mtt, 0, (dg ? P : P * P) * sizeof(ntk_real));
      }
      g.pa = g.pb = NULL, g.S = S, g.xa = xa, g.xb = xb, g.mq = mq, g.mt = mt, g.ta = ta, g.tb = tb, g.mtq = mtq, g.mtt = mtt;
      g.l = l, g.e = e, g.H = H, g.W = W, g.C = C, g.hs[0] = hs[0], g.hs[1] = hs[1], g.ws[0] = ws_[0], g.ws[1] = ws_[1];
      g.self = self, g.wt = wt, g.mat = mat, g.dg = dg, g.readout = readout, g.stream = stream, g.only0 = only0;
      g.defer = 0;
      nk = nh * nw;
      if (!mat && S->pln) ntk__fr_planar(xa, xb, H, W, C, pl), g.pa = pl, g.pb = pl + H * W * C;
      /* threads over the frames (independent once frame 0 of a self pair has filled the tables;
         a streaming barrier's frames, which add into the same entries, are added in order after) */
      if (S->inner > 1 && !only0 && e < L && nk > 1 + (size_t)self)
        ntk__fr_frames_par(&g, nk, ws, &aq, &at);
      else
        for (k = 0; k < nk; k++) {
          double pq = 0, pt = 0;
          ntk_real *tf, *qf = ntk__fr_frame(&g, k, ws, &tf, &pq, &pt);
          if (only0 && e != L) break;
          if (e == L) { /* the end of the list: a 1 × 1 frame */
            *kq = qf[0];
            if (wt) *kt = tf[0];
            break;
          }
          aq += pq, at += pt; /* per frame, then in frame order: the same sums on any thread count */
        }
      if (only0 || e == L) return;
      if (barrier) x_ = mq, mq = mtq, mtq = x_, x_ = mt, mt = mtt, mtt = x_; /* the frames are the state */
      if (stream) { /* the barrier is done: its affine step (a conv), then the next layer */
        const ntk__arch_layer *Rb = &A->l[e];
        size_t Po = Rb->out[0] * Rb->out[1];
        if (S->layers[e].kind == NTK_LAYER_CONV) ntk__sk_affine(&S->layers[e], Rb, Po * Po, mq, wt ? mt : NULL);
        e++;
      }
      if (readout) {
        double div = S->layers[e].kind == NTK_LAYER_FLATTEN ? (double)P
                     : S->layers[e].kind == NTK_LAYER_GLOBAL_AVG_POOL ? (double)P * (double)P : 1;
        mq[0] = (ntk_real)(aq / div);
        if (wt) mt[0] = (ntk_real)(at / div);
        l = e + 1;
      } else {
        l = e;
      }
      mat = 1;
      continue;
    }
    /* a barrier (or a readout) on the materialised covariance */
    H = R->in[0], W = R->in[1];
    if (!mat) {
      ntk__fr_input_full(A, xa, xb, mq, dg);
      if (wt) memset(mt, 0, (dg ? H * W : H * W * H * W) * sizeof(ntk_real));
      mat = 1;
    }
    switch (Ly->kind) {
    case NTK_LAYER_CONV: case NTK_LAYER_AVG_POOL: case NTK_LAYER_SUM_POOL:
      if (dg) {
        ntk__sk_spatial(&Sd, R, Ly, mq, mtq);
        if (wt) ntk__sk_spatial(&Sd, R, Ly, mt, mtt);
      } else {
        ntk__fr_barrier(R, Ly, mq, mtq);
        if (wt) ntk__fr_barrier(R, Ly, mt, mtt);
      }
      if (Ly->kind == NTK_LAYER_CONV)
        ntk__sk_affine(Ly, R, dg ? R->out[0] * R->out[1] : R->out[0] * R->out[1] * R->out[0] * R->out[1], mq, wt ? mt : NULL);
      break;
    default: { /* FLATTEN, GLOBAL_*_POOL */
      size_t P = H * W, i;
      double aq = 0, at = 0, div;
      if (Ly->kind == NTK_LAYER_FLATTEN || dg) { /* the diagonal: frame 0 (dg: a global pool has P = 1) */
        for (i = 0; i < P; i++) {
          size_t o = dg ? i : (i / W) * W * W + i % W;
          aq += (double)mq[o];
          if (wt) at += (double)mt[o];
        }
      } else {
        for (i = 0; i < P * P; i++) aq += (double)mq[i];
        if (wt) for (i = 0; i < P * P; i++) at += (double)mt[i];
      }
      div = Ly->kind == NTK_LAYER_FLATTEN ? (double)P : Ly->kind == NTK_LAYER_GLOBAL_AVG_POOL ? (double)P * (double)P : 1;
      mq[0] = (ntk_real)(aq / div);
      if (wt) mt[0] = (ntk_real)(at / div);
      break;
    }
    }
    l++;
  }
  *kq = mq[0];
  if (wt) *kt = mt[0];
}

/* the pairs' tiles: a column point's table (up to ~1 MB for 21 layers on 32×32) is reused
   by the tile's rows from cache instead of streamed once per pair */
#define NTK__SK_TR 4
#define NTK__SK_TC 8
/* the driver: arguments as ntk_kernel_ex, the front end's A of the list */
static ntk_status ntk__skernel(const ntk__arch *A, const ntk_layer *layers, size_t L, const ntk_real *x1,
                               size_t n1, const ntk_real *x2, size_t n2, size_t dim, ntk_real *nngp,
                               ntk_real *ntk, const ntk_kernel_desc *dd, int sym) {
  ntk__sk S;
  ntk_status st = NTK_OK;
  size_t l, i, d, np_tot, npts, tabs_n, total, tr_n, tc_n, tr, tc;
  int ok = 1, nthreads, cancelled = 0, nonfinite = 0;
  ntk_real *tabs = NULL, *ws = NULL;
  size_t done_units = 0;
  memset(&S, 0, sizeof S);
  S.layers = layers, S.A = A, S.L = L;
  if (dim == 0 || (n1 > 0 && !x1) || (n2 > 0 && !x2)) return NTK_ERR_INVALID_ARG;
  if (A->out[0] * A->out[1] != 1) return NTK_ERR_UNSUPPORTED; /* a spatial output: no (n1, n2) kernel */
  (void)ntk__mul(ntk__mul(n1 > n2 ? n1 : n2, dim, &ok), sizeof(ntk_real), &ok);
  (void)ntk__mul(ntk__mul(n1, n2, &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (n1 == 0 || n2 == 0 || (!nngp && !ntk)) return NTK_OK;
  for (i = 0; i < n1 * dim; i++) if (!ntk__finite(x1[i])) return NTK_ERR_NON_FINITE;
  if (!sym) for (i = 0; i < n2 * dim; i++) if (!ntk__finite(x2[i])) return NTK_ERR_NON_FINITE;
  /* diagonal only when the readout needs offset 0 alone at every layer (the front end's needed
     offsets: no pool wider than 1×1 and no global pool on a spatial input) */
  S.diag = A->need_r[0] == 0 && A->need_r[1] == 0;
  S.maxp = A->in[0] * A->in[1];
  d = 0;
  for (l = 0; l < L; l++) {
    const ntk__arch_layer *R = &A->l[l];
    size_t po = R->out[0] * R->out[1];
    if (R->need_r[0] || R->need_r[1]) S.diag = 0;
    if (po > S.maxp) S.maxp = po;
    if (layers[l].kind == NTK_LAYER_FANOUT && ++d > S.depth) S.depth = d;
    if (layers[l].kind == NTK_LAYER_FANIN_SUM || layers[l].kind == NTK_LAYER_FANIN_CONCAT) d--;
  }
  S.maxpp = S.diag ? S.maxp : ntk__mul(S.maxp, S.maxp, &ok);
  S.ws_n = ntk__add(ntk__mul(S.maxpp, 4 + 4 * S.depth, &ok), S.maxp, &ok);
  S.tab = (size_t *)NTK_MALLOC(L * sizeof(size_t));
  S.quad = (ntk__quad *)NTK_MALLOC(L * sizeof(ntk__quad));
  if (S.quad) memset(S.quad, 0, L * sizeof(ntk__quad)); /* before any failure: the cleanup reads it */
  S.isframe = (unsigned char *)NTK_MALLOC(L);
  if (!S.tab || !S.quad || !S.isframe) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  /* frame mode unless a barrier sits inside a branch: which layers keep offsets apart */
  /* tpn ≥ maxp: the frames' zero row (ntk__fr_pair, ntk__fr_frames_par) even without a conv */
  S.frames = 1, S.last_tab = NTK__NONE, S.tpn = S.maxp, S.mpp = 1, d = 0;
  for (l = 0; l < L; l++) {
    const ntk_layer *ly = &layers[l];
    const ntk__arch_layer *R = &A->l[l];
    int same = R->s[0] == 1 && R->s[1] == 1 && R->out[0] == R->in[0] && R->out[1] == R->in[1], fr;
    size_t pin = R->in[0] * R->in[1];
    if (ly->kind == NTK_LAYER_FANIN_SUM || ly->kind == NTK_LAYER_FANIN_CONCAT) d--;
    switch (ly->kind) {
    case NTK_LAYER_CONV: fr = same && R->f[0] <= 64 && R->f[1] <= 64; break; /* NTK__FR_MAXF */
    case NTK_LAYER_AVG_POOL: case NTK_LAYER_SUM_POOL: fr = same && R->f[0] == 1 && R->f[1] == 1; break;
    case NTK_LAYER_FLATTEN: case NTK_LAYER_GLOBAL_AVG_POOL: case NTK_LAYER_GLOBAL_SUM_POOL: fr = 0; break;
    default: fr = 1; break;
    }
    S.isframe[l] = (unsigned char)fr;
    if (!fr && d > 0) S.frames = 0;
    if (ly->kind == NTK_LAYER_FANOUT) d++;
    if (ly->kind == NTK_LAYER_LAYER_NORM || ((ntk__props(ly->kind) & NTK__K_ACT) && ly->kind != NTK_LAYER_IDENTITY))
      S.last_tab = l;
    if (fr && ly->kind == NTK_LAYER_CONV) {
      size_t tp = ntk__add(ntk__add(S.maxp, ntk__mul(4, R->in[1] + (R->f[1] - 1), &ok), &ok),
                           ntk__mul(R->f[1], R->in[1], &ok), &ok); /* zeros, a ring of lines, masks */
      if (tp > S.tpn) S.tpn = tp;
    }
    if (!fr && ly->kind != NTK_LAYER_FLATTEN && ly->kind != NTK_LAYER_GLOBAL_AVG_POOL &&
        ly->kind != NTK_LAYER_GLOBAL_SUM_POOL) {
      /* after frames a barrier takes them one by one into its output (ntk__fr_taps); else it
         reads the materialised input */
      size_t pb = l > 0 && S.isframe[l - 1] ? R->out[0] * R->out[1] : pin;
      if (ntk__mul(pb, pb, &ok) > S.mpp) S.mpp = pb * pb;
    }
  }
  if (S.frames && !S.diag) { /* the barriers after frames: their taps, built once */
    size_t nt = 0, ns = 0, k;
    int ax;
    S.tap0 = (size_t *)NTK_MALLOC(2 * L * sizeof(size_t));
    S.tapc = (size_t *)NTK_MALLOC(2 * L * sizeof(size_t));
    if (!S.tap0 || !S.tapc) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
    for (l = 1; l < L; l++)
      if (!S.isframe[l] && S.isframe[l - 1] && layers[l].kind != NTK_LAYER_FLATTEN &&
          layers[l].kind != NTK_LAYER_GLOBAL_AVG_POOL && layers[l].kind != NTK_LAYER_GLOBAL_SUM_POOL)
        for (ax = 0; ax < 2; ax++) nt += ntk__fr_taps(&A->l[l], &layers[l], ax, NULL, NULL), ns += A->l[l].in[ax] + 1;
    if (nt) {
      S.taps = (ntk__fr_tap1 *)NTK_MALLOC(nt * sizeof(ntk__fr_tap1));
      S.tstart = (size_t *)NTK_MALLOC(ns * sizeof(size_t));
      if (!S.taps || !S.tstart) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
      for (l = 1, nt = 0, ns = 0; l < L; l++)
        if (!S.isframe[l] && S.isframe[l - 1] && layers[l].kind != NTK_LAYER_FLATTEN &&
            layers[l].kind != NTK_LAYER_GLOBAL_AVG_POOL && layers[l].kind != NTK_LAYER_GLOBAL_SUM_POOL)
          for (ax = 0; ax < 2; ax++) {
            S.tap0[2 * l + (size_t)ax] = nt, S.tapc[2 * l + (size_t)ax] = ns;
            k = ntk__fr_taps(&A->l[l], &layers[l], ax, S.taps + nt, S.tstart + ns);
            nt += k, ns += A->l[l].in[ax] + 1;
          }
    }
  }
  if (S.frames) {
    S.rep = S.diag ? 1 : 2; /* frame 0 alone everywhere: x′'s windows never wrap */
    if (S.diag) S.mpp = S.maxp; /* and the barriers work on the diagonal */
    S.diag = 0;
    S.pln = A->in[2] > 1 ? ntk__mul(ntk__mul(3 * A->in[0], A->in[1], &ok), A->in[2], &ok) : 0;
    S.ws_n = ntk__add(ntk__add(ntk__mul(S.maxp, 4 + 4 * S.depth, &ok), S.tpn, &ok), ntk__mul(S.mpp, 4, &ok), &ok);
    S.ws_n = ntk__add(S.ws_n, S.pln, &ok);
  }
  for (l = 0, S.tab_n = 0; l < L; l++) {
    const ntk_layer *ly = &layers[l];
    size_t p = A->l[l].in[0] * A->l[l].in[1], slots = 0;
    unsigned pr = ntk__props(ly->kind);
    S.tab[l] = S.tab_n;
    if (ly->kind == NTK_LAYER_LAYER_NORM) slots = 1;
    else if ((pr & NTK__K_ACT) && ly->kind != NTK_LAYER_IDENTITY) slots = 1 + (size_t)ntk__dual_npt(ly->kind);
    S.tab_n = ntk__add(S.tab_n, ntk__mul(slots, S.frames ? S.rep * p : p, &ok), &ok);
    if (ntk__is_quadrature(ly->kind)) {
      st = ntk__quad_init(&S.quad[l], ly->quad_degree ? ly->quad_degree : NTK_QUAD_DEGREE);
      if (st != NTK_OK) goto done;
    }
  }
  npts = n1 + (sym ? 0 : n2);
  tabs_n = ntk__mul(npts, S.tab_n ? S.tab_n : 1, &ok);
  nthreads = dd->threads > 0 ? dd->threads : ntk__max_threads();
  { /* a small kernel on one thread: a parallel region costs more than it saves (busy cores) */
    double work = (double)(npts + (sym ? n1 * (n1 - 1) / 2 : n1 * n2)) * (double)S.maxpp * (double)(L + 1);
    if (work < 4e6 && dd->threads <= 0) nthreads = 1;
  }
  /* work units for progress: the self pairs, then the pairs (a triangle with x2 = NULL) */
  np_tot = sym ? n1 * (n1 - 1) / 2 : n1 * n2;
  total = npts + np_tot;
  /* fewer pairs than threads (a kernel of a few entries): the pairs one at a time, each on
     every thread over its frames (ntk__fr_frames_par allocates their frame buffers) */
  S.inner = 1;
  if (S.frames && nthreads > 1 && np_tot < (size_t)nthreads) S.inner = nthreads, nthreads = 1;
  if ((size_t)nthreads > npts) nthreads = (int)npts;
  (void)ntk__mul(ntk__mul(S.ws_n, (size_t)nthreads, &ok), sizeof(ntk_real), &ok);
  (void)ntk__mul(tabs_n, sizeof(ntk_real), &ok);
  if (!ok) { st = NTK_ERR_OVERFLOW; goto done; }
  tabs = (ntk_real *)NTK_MALLOC(tabs_n * sizeof(ntk_real));
  ws = (ntk_real *)NTK_MALLOC(S.ws_n * (size_t)nthreads * sizeof(ntk_real));
  if (!tabs || !ws) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  /* tiles, unless there would be fewer than 4 per thread: then one pair each */
  tr = NTK__SK_TR, tc = NTK__SK_TC;
  if (((n1 + tr - 1) / tr) * ((n2 + tc - 1) / tc) < 4 * (size_t)nthreads) tr = tc = 1;
  tr_n = (n1 + tr - 1) / tr, tc_n = (n2 + tc - 1) / tc;
  {
    long u, nu;
#ifdef NTK__OMP
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
#endif
    {
#ifdef NTK__OMP
      ntk_real *w = ws + S.ws_n * (size_t)omp_get_thread_num();
#else
      ntk_real *w = ws;
#endif
      int stop;
      /* 1. the self pairs (x, x): the points' tables; with x2 = NULL also the diagonal */
      nu = (long)npts;
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (u = 0; u < nu; u++) {
        size_t p = (size_t)u, pi = p < n1 ? p : p - n1;
        const ntk_real *x = p < n1 ? x1 + pi * dim : x2 + pi * dim;
        ntk_real *tb = tabs + p * S.tab_n, kq, kt;
        int wantk = sym;
#ifdef NTK__OMP
#pragma omp atomic read
#endif
        stop = cancelled;
        if (stop) continue;
        if (S.frames) ntk__fr_pair(&S, x, x, tb, tb, 1, wantk, w, &kq, wantk && ntk ? &kt : NULL);
        else ntk__sk_pair(&S, x, x, tb, tb, 1, w, &kq, wantk && ntk ? &kt : NULL);
        if (ntk__any_nonfinite(tb, S.tab_n) || (wantk && (!ntk__finite(kq) || (ntk && !ntk__finite(kt))))) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
          nonfinite = 1;
        }
        if (wantk) {
          if (nngp) nngp[pi * n1 + pi] = kq;
          if (ntk) ntk[pi * n1 + pi] = kt;
        }
      }
      /* 2. the pairs, in tiles of NTK__SK_TR rows × NTK__SK_TC columns taken dynamically
         (x2 = NULL: the tiles that meet j < i), column-major inside a tile so that a column
         point's table is read from cache by the tile's rows in turn */
      nu = (long)(tr_n * tc_n);
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (u = 0; u < nu; u++) {
        size_t ti = (size_t)u / tc_n, tj = (size_t)u % tc_n, i0 = ti * tr, j0 = tj * tc;
        size_t i1 = i0 + tr < n1 ? i0 + tr : n1, j1 = j0 + tc < n2 ? j0 + tc : n2;
        size_t ii, jj, cnt = 0, now;
        int bad = 0;
        if (sym && j0 + 1 >= i1) continue; /* no j < i in the tile */
#ifdef NTK__OMP
#pragma omp atomic read
#endif
        stop = cancelled;
        if (stop) continue;
        for (jj = j0; jj < j1; jj++)
          for (ii = i0; ii < i1; ii++) {
            const ntk_real *tb = tabs + (sym ? jj : n1 + jj) * S.tab_n;
            ntk_real *ta = tabs + ii * S.tab_n, kq, kt;
            if (sym && jj >= ii) continue;
            if (S.frames)
              ntk__fr_pair(&S, x1 + ii * dim, (sym ? x1 : x2) + jj * dim, ta, tb, 0, 1, w, &kq, ntk ? &kt : NULL);
            else
              ntk__sk_pair(&S, x1 + ii * dim, (sym ? x1 : x2) + jj * dim, ta, tb, 0, w, &kq, ntk ? &kt : NULL);
            if (!ntk__finite(kq) || (ntk && !ntk__finite(kt))) bad = 1;
            if (nngp) nngp[ii * n2 + jj] = kq;
            if (ntk) ntk[ii * n2 + jj] = kt;
            if (sym && nngp) nngp[jj * n1 + ii] = kq;
            if (sym && ntk) ntk[jj * n1 + ii] = kt;
            cnt++;
          }
        if (bad) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
          nonfinite = 1;
        }
        if (dd->progress) {
#ifdef NTK__OMP
#pragma omp atomic capture
#endif
          now = done_units += cnt;
#ifdef NTK__OMP
          if (omp_get_thread_num() == 0)
#endif
          {
            if (dd->progress("kernel", (double)(npts + now) / (double)total, dd->progress_user)) {
#ifdef NTK__OMP
#pragma omp atomic write
#endif
              cancelled = 1;
            }
          }
        }
      }
    }
  }
  if (cancelled) { st = NTK_ERR_CANCELLED; goto done; }
  if (dd->progress) dd->progress("kernel", 1.0, dd->progress_user);
  st = nonfinite ? NTK_ERR_NON_FINITE : NTK_OK;
done:
  if (S.quad) for (l = 0; l < L; l++) if (S.quad[l].x) NTK_FREE(S.quad[l].x);
  NTK_FREE(S.quad);
  NTK_FREE(S.tab);
  NTK_FREE(S.isframe);
  NTK_FREE(S.taps);
  NTK_FREE(S.tap0);
  NTK_FREE(S.tapc);
  NTK_FREE(S.tstart);
  NTK_FREE(tabs);
  NTK_FREE(ws);
  return st;
}


/* ============================================================================================
   [predict] gradient flow, kernel regression, GP posterior, infinite ensemble
   ============================================================================================ */
#ifdef NTK_REAL_FLOAT
#define NTK__SYEV ntk_ssyev
#define NTK__POTRF_EX ntk_spotrf_ex
#define NTK__POTRS ntk_spotrs
#define NTK__TRSM_LOWER ntk_strsm_lower
#else
#define NTK__SYEV ntk_dsyev
#define NTK__POTRF_EX ntk_dpotrf_ex
#define NTK__POTRS ntk_dpotrs
#define NTK__TRSM_LOWER ntk_dtrsm_lower
#endif

/* the kernel's branch-free (AVX2-dispatched) scan */
static int ntk__all_finite(const ntk_real *x, size_t n) { return !ntk__any_nonfinite(x, n); }

/* copy K (n, n) into R with the diagonal regulariser; *add: the absolute amount added. The mean
   of the diagonal is formed without overflow (a kernel near DBL_MAX has a trace beyond it), and
   r = 0 adds exactly 0. An amount or a diagonal beyond the range → NTK_ERR_NON_FINITE. */
static ntk_status ntk__regularise(ntk_real *R, const ntk_real *K, size_t n, double r, int absolute,
                                  double *add) {
  double tr = 0, a;
  size_t i;
  memcpy(R, K, n * n * sizeof(ntk_real));
  for (i = 0; i < n; i++) tr += (double)K[i * n + i];
  if (!ntk__finite(tr))
    for (tr = 0, i = 0; i < n; i++) tr += (double)K[i * n + i] / (double)n;
  else
    tr /= (double)n;
  a = r == 0 ? 0 : absolute ? r : r * tr;
  *add = a;
  if (!ntk__finite(a)) return NTK_ERR_NON_FINITE;
  if (a != 0)
    for (i = 0; i < n; i++) {
      R[i * n + i] = (ntk_real)((double)R[i * n + i] + a);
      if (!ntk__finite((double)R[i * n + i])) return NTK_ERR_NON_FINITE;
    }
  return NTK_OK;
}

NTKDEF void ntk_predictor_free(ntk_predictor *p) {
  if (!p) return;
  NTK_FREE(p->evec);
  memset(p, 0, sizeof *p);
}

NTKDEF ntk_status ntk_predictor_init(ntk_predictor *p, const ntk_real *k_train, size_t n,
                                     const ntk_real *y, size_t k, const ntk_real *f0, double lr,
                                     double diag_reg, int diag_reg_absolute) {
  return ntk_predictor_init_ex(p, k_train, n, y, k, f0, lr, diag_reg, diag_reg_absolute, NULL);
}

/* the progress callback of a stage; nonzero: cancel */
static int ntk__stage(const ntk_predictor_desc *desc, const char *stage, double done) {
  return desc && desc->progress ? desc->progress(stage, done, desc->progress_user) : 0;
}

NTKDEF ntk_status ntk_predictor_init_ex(ntk_predictor *p, const ntk_real *k_train, size_t n,
                                        const ntk_real *y, size_t k, const ntk_real *f0, double lr,
                                        double diag_reg, int diag_reg_absolute,
                                        const ntk_predictor_desc *desc) {
  size_t nn, nk, total, i;
  int ok = 1;
  ntk_real *buf, *L, *d;
  ntk_status st;
  double lmax, cut;
  if (!p) return NTK_ERR_INVALID_ARG;
  memset(p, 0, sizeof *p);
  if (n == 0 || k == 0 || !k_train || !y) return NTK_ERR_INVALID_ARG;
  if (!ntk__finite(lr) || !(lr > 0) || !ntk__finite(diag_reg) || diag_reg < 0) return NTK_ERR_INVALID_ARG;
  nn = ntk__mul(n, n, &ok), nk = ntk__mul(n, k, &ok);
  total = ntk__add(nn, ntk__add(n, ntk__mul(nk, 4, &ok), &ok), &ok);
  (void)ntk__mul(ntk__add(total, ntk__add(nn, nk, &ok), &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(k_train, nn) || !ntk__all_finite(y, nk) || (f0 && !ntk__all_finite(f0, nk)))
    return NTK_ERR_NON_FINITE;
  buf = (ntk_real *)NTK_MALLOC(total * sizeof(ntk_real));
  L = (ntk_real *)NTK_MALLOC((nn + nk) * sizeof(ntk_real)); /* scratch of the set-up only */
  if (!buf || !L) { NTK_FREE(buf); NTK_FREE(L); return NTK_ERR_OUT_OF_MEMORY; }
  p->n = n, p->k = k, p->lr = lr;
  p->evec = buf, p->eval = buf + nn, p->r0 = p->eval + n, p->alpha = p->r0 + nk;
  p->y = p->alpha + nk, p->f0 = p->y + nk, d = L + nn;
  memcpy(p->y, y, nk * sizeof(ntk_real));
  if (f0) memcpy(p->f0, f0, nk * sizeof(ntk_real)); else memset(p->f0, 0, nk * sizeof(ntk_real));
  for (i = 0; i < nk; i++) d[i] = p->y[i] - p->f0[i];
  st = ntk__all_finite(d, nk) ? NTK_OK : NTK_ERR_NON_FINITE; /* y − f0 can overflow */
  if (st == NTK_OK) st = ntk__regularise(p->evec, k_train, n, diag_reg, diag_reg_absolute, &p->reg);
  if (st != NTK_OK) { ntk_predictor_free(p); NTK_FREE(L); return st; }
  memcpy(L, p->evec, nn * sizeof(ntk_real));
  st = ntk__stage(desc, "eigendecomposition", 0) ? NTK_ERR_CANCELLED : NTK__SYEV(n, p->evec, n, p->eval);
  if (st == NTK_OK && (ntk__stage(desc, "eigendecomposition", 1) || ntk__stage(desc, "cholesky", 0)))
    st = NTK_ERR_CANCELLED;
  if (st == NTK_OK) { /* the rank decision: eigenvalues ≤ n·ε·λ_max (negative ones too) are 0 */
    lmax = (double)p->eval[n - 1];
    cut = (double)n * NTK__EPS * (lmax > 0 ? lmax : 0);
    for (i = 0; i < n && !((double)p->eval[i] > cut); i++) {}
    p->rank = n - i;
  }
  /* r0 = Vᵀ(y − f0) */
  if (st == NTK_OK) st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, n, k, n, 1, p->evec, n, d, k, 0, p->r0, k);
  if (st != NTK_OK) { ntk_predictor_free(p); NTK_FREE(L); return st; }
  /* t = ∞: Cholesky; failure is remembered and reported by t = ∞ queries only. Positive definite
     means both: the Cholesky passes and no eigenvalue is cut (rank = n). */
  p->chol_status = NTK__POTRF_EX(n, L, n, &p->chol_info);
  if (p->chol_status == NTK_OK && p->rank < n) p->chol_status = NTK_ERR_NOT_POSITIVE_DEFINITE;
  if (p->chol_status == NTK_OK) {
    memcpy(p->alpha, d, nk * sizeof(ntk_real));
    p->chol_status = NTK__POTRS(n, k, L, n, p->alpha, k);
    if (p->chol_status == NTK_OK && !ntk__all_finite(p->alpha, nk)) p->chol_status = NTK_ERR_NON_FINITE;
  }
  NTK_FREE(L);
  if (p->chol_status == NTK_ERR_OUT_OF_MEMORY) { /* not a property of the kernel: the call fails */
    ntk_predictor_free(p);
    return NTK_ERR_OUT_OF_MEMORY;
  }
  if (ntk__stage(desc, "cholesky", 1)) {
    ntk_predictor_free(p);
    return NTK_ERR_CANCELLED;
  }
  return NTK_OK;
}

/* Is `steps` a time this predictor can answer? Checked before anything is written. t = ∞ needs
   a positive definite kernel (chol_status); the discrete steps at t = ∞ need a convergent rate
   (η·λ_max/N < 2), and a non-integer number of steps a rate with 1 − ηλ/N ≥ 0 for every λ. */
static ntk_status ntk__time_ok(const ntk_predictor *p, double steps, int discrete) {
  double aq;
  if (!p || !p->evec || !(steps >= 0)) return NTK_ERR_INVALID_ARG; /* also NaN */
  aq = p->lr / ((double)p->n * (double)p->k) * (double)p->eval[p->n - 1];
  if (steps == INFINITY) {
    if (discrete && p->rank > 0 && !(aq < 2)) return NTK_ERR_NON_FINITE;
    return p->chol_status;
  }
  if (discrete && p->rank > 0 && floor(steps) != steps && aq > 1) return NTK_ERR_INVALID_ARG;
  return NTK_OK;
}

/* spectral factors of eigenvalue i at a time: e (the decay, e^{−ηtλ/N} or (1 − ηλ/N)^t) and
   g = (1 − e)/λ with its λ → 0 limit. The rank decision: the n − rank smallest eigenvalues
   (≤ n·ε·λ_max) are exactly zero at every t — e = 1, g = 0: that direction is not trained (for a
   consistent kernel the test–train kernel has no component along it). At t = ∞, e = 0 and
   g = 1/λ on the others. */
static void ntk__spectral(const ntk_predictor *p, double steps, int discrete, size_t i, double *e, double *g) {
  double lam = (double)p->eval[i], N = (double)p->n * (double)p->k, a = p->lr / N;
  if (i < p->n - p->rank) {
    *e = 1, *g = 0;
  } else if (steps == INFINITY) {
    *e = 0, *g = 1 / lam;
  } else if (discrete) {
    double q = 1 - a * lam;
    if (q > 0) {
      double s = steps * log1p(-a * lam);
      *e = exp(s), *g = -expm1(s) / lam;
    } else { /* past η = N/λ: oscillating, and beyond 2N/λ growing (overflow is reported) */
      *e = pow(q, steps), *g = (1 - *e) / lam;
    }
  } else {
    double x = a * steps * lam;
    *e = exp(-x), *g = -expm1(-x) / lam;
  }
}

/* out (n, k) = V·diag(h)·r0 with h = e (which = 0) or g (which = 1) of ntk__spectral */
static ntk_status ntk__spectral_apply(const ntk_predictor *p, double steps, int discrete, int which,
                                      ntk_real *out) {
  size_t n = p->n, k = p->k, i, j;
  ntk_status st;
  ntk_real *c = (ntk_real *)NTK_MALLOC(n * k * sizeof(ntk_real));
  if (!c) return NTK_ERR_OUT_OF_MEMORY;
  for (i = 0; i < n; i++) {
    double e, g;
    ntk__spectral(p, steps, discrete, i, &e, &g);
    for (j = 0; j < k; j++) c[i * k + j] = (ntk_real)((which ? g : e) * (double)p->r0[i * k + j]);
  }
  st = ntk__all_finite(c, n * k) ? NTK_OK : NTK_ERR_NON_FINITE;
  if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, n, k, n, 1, p->evec, n, c, k, 0, out, k);
  if (st == NTK_OK && !ntk__all_finite(out, n * k)) st = NTK_ERR_NON_FINITE;
  NTK_FREE(c);
  return st;
}

NTKDEF ntk_status ntk_predict_train(const ntk_predictor *p, double steps, int discrete, ntk_real *f) {
  size_t i, nk;
  ntk_real *u;
  ntk_status st;
  if (!f) return NTK_ERR_INVALID_ARG;
  if ((st = ntk__time_ok(p, steps, discrete)) != NTK_OK) return st;
  nk = p->n * p->k;
  if (steps == INFINITY) { memcpy(f, p->y, nk * sizeof(ntk_real)); return NTK_OK; }
  /* f = y − V·diag(e)·Vᵀ(y − f0) */
  u = (ntk_real *)NTK_MALLOC(nk * sizeof(ntk_real));
  if (!u) return NTK_ERR_OUT_OF_MEMORY;
  st = ntk__spectral_apply(p, steps, discrete, 0, u);
  if (st == NTK_OK) {
    for (i = 0; i < nk; i++) u[i] = p->y[i] - u[i];
    if (ntk__all_finite(u, nk)) memcpy(f, u, nk * sizeof(ntk_real));
    else st = NTK_ERR_NON_FINITE;
  }
  NTK_FREE(u);
  return st;
}

/* u (n, k) = A_t·(y − f0) = V·diag(g)·r0, or Θ⁻¹(y − f0) by Cholesky at t = ∞ */
static ntk_status ntk__predict_u(const ntk_predictor *p, double steps, int discrete, ntk_real *u) {
  if (steps == INFINITY) {
    memcpy(u, p->alpha, p->n * p->k * sizeof(ntk_real));
    return NTK_OK;
  }
  return ntk__spectral_apply(p, steps, discrete, 1, u);
}

/* out (m, k) = g0 + K_td·u, into the caller's scratch; the arguments are checked already */
static ntk_status ntk__predict_test_into(const ntk_predictor *p, double steps, int discrete,
                                         const ntk_real *ktd, size_t m, const ntk_real *g0, ntk_real *out) {
  size_t n = p->n, k = p->k;
  ntk_status st;
  ntk_real *u = (ntk_real *)NTK_MALLOC(n * k * sizeof(ntk_real));
  if (!u) return NTK_ERR_OUT_OF_MEMORY;
  st = ntk__predict_u(p, steps, discrete, u);
  if (st == NTK_OK) {
    if (g0) memcpy(out, g0, m * k * sizeof(ntk_real));
    st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1, ktd, n, u, k, g0 ? 1 : 0, out, k);
  }
  if (st == NTK_OK && !ntk__all_finite(out, m * k)) st = NTK_ERR_NON_FINITE;
  NTK_FREE(u);
  return st;
}

/* m (m, n) and (m, k), (m, m) test matrices: sizes in elements, overflow-checked */
static ntk_status ntk__test_sizes(size_t m, size_t n, size_t k, int square, size_t *mn, size_t *mk, size_t *mm) {
  int ok = 1;
  *mn = ntk__mul(m, n, &ok), *mk = ntk__mul(m, k, &ok), *mm = square ? ntk__mul(m, m, &ok) : 0;
  (void)ntk__mul(*mn > *mk ? *mn : *mk, sizeof(ntk_real), &ok);
  (void)ntk__mul(*mm, 2 * sizeof(ntk_real), &ok);
  (void)ntk__mul(ntk__add(ntk__mul(*mn, 2, &ok), *mm, &ok), sizeof(ntk_real), &ok);
  return ok ? NTK_OK : NTK_ERR_OVERFLOW;
}

NTKDEF ntk_status ntk_predict_test(const ntk_predictor *p, double steps, int discrete,
                                   const ntk_real *k_test_train, size_t m, const ntk_real *g0,
                                   ntk_real *f) {
  ntk_real *out;
  ntk_status st;
  size_t mn, mk, mm;
  if ((st = ntk__time_ok(p, steps, discrete)) != NTK_OK) return st;
  if ((st = ntk__test_sizes(m, p->n, p->k, 0, &mn, &mk, &mm)) != NTK_OK) return st;
  if (m == 0) return NTK_OK;
  if (!k_test_train || !f) return NTK_ERR_INVALID_ARG;
  if (!ntk__all_finite(k_test_train, mn) || (g0 && !ntk__all_finite(g0, mk))) return NTK_ERR_NON_FINITE;
  out = (ntk_real *)NTK_MALLOC(mk * sizeof(ntk_real));
  if (!out) return NTK_ERR_OUT_OF_MEMORY;
  st = ntk__predict_test_into(p, steps, discrete, k_test_train, m, g0, out);
  if (st == NTK_OK) memcpy(f, out, mk * sizeof(ntk_real));
  NTK_FREE(out);
  return st;
}

/* M (n, m) = A_t·Kᵀ_td = V·diag(g)·Vᵀ·Kᵀ_td (A_t = K⁻¹ through the eigenbasis at t = ∞) */
static ntk_status ntk__ensemble_M(const ntk_predictor *p, double steps, const ntk_real *ktd, size_t m, ntk_real *M) {
  size_t n = p->n, i, j;
  ntk_status st;
  ntk_real *T = (ntk_real *)NTK_MALLOC(n * m * sizeof(ntk_real));
  if (!T) return NTK_ERR_OUT_OF_MEMORY;
  st = NTK__GEMM(NTK_TRANS, NTK_TRANS, n, m, n, 1, p->evec, n, ktd, n, 0, T, m); /* Vᵀ·Kᵀ_td */
  for (i = 0; i < n && st == NTK_OK; i++) {
    double e, g;
    ntk__spectral(p, steps, 0, i, &e, &g);
    for (j = 0; j < m; j++) T[i * m + j] = (ntk_real)(g * (double)T[i * m + j]);
  }
  if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, n, m, n, 1, p->evec, n, T, m, 0, M, m);
  if (st == NTK_OK && !ntk__all_finite(M, n * m)) st = NTK_ERR_NON_FINITE;
  NTK_FREE(T);
  return st;
}

/* cov (m, m) ← the symmetric part of C, if every entry is finite (else nothing written) */
static ntk_status ntk__sym_out(ntk_real *C, size_t m, ntk_real *cov) {
  size_t i, j;
  for (i = 0; i < m; i++)
    for (j = 0; j < i; j++) C[i * m + j] = C[j * m + i] = (C[i * m + j] + C[j * m + i]) / 2;
  if (!ntk__all_finite(C, m * m)) return NTK_ERR_NON_FINITE;
  memcpy(cov, C, m * m * sizeof(ntk_real));
  return NTK_OK;
}

NTKDEF ntk_status ntk_ensemble_ntk(const ntk_predictor *p, double steps,
                                   const ntk_real *ntk_test_train, size_t m,
                                   const ntk_real *nngp_train, const ntk_real *nngp_test_train,
                                   const ntk_real *nngp_test_test, ntk_real *mean, ntk_real *cov) {
  size_t n, k, i, mn, mk, mm;
  ntk_real *M = NULL, *KM, *X, *C, *u = NULL, *mo = NULL;
  ntk_status st;
  /* every argument before any work: the time, the sizes, the pointers, the finiteness */
  if ((st = ntk__time_ok(p, steps, 0)) != NTK_OK) return st;
  n = p->n, k = p->k;
  if ((st = ntk__test_sizes(m, n, k, 1, &mn, &mk, &mm)) != NTK_OK) return st;
  if (!ntk_test_train || (cov && (!nngp_train || !nngp_test_train || !nngp_test_test)))
    return NTK_ERR_INVALID_ARG;
  if (m == 0 || (!mean && !cov)) return NTK_OK;
  if (!ntk__all_finite(ntk_test_train, mn) ||
      (cov && (!ntk__all_finite(nngp_train, n * n) || !ntk__all_finite(nngp_test_train, mn) ||
               !ntk__all_finite(nngp_test_test, mm))))
    return NTK_ERR_NON_FINITE;
  if (mean) {
    u = (ntk_real *)NTK_MALLOC((n * k + mk) * sizeof(ntk_real));
    if (!u) return NTK_ERR_OUT_OF_MEMORY;
    mo = u + n * k;
    /* mean = Θ_td·A_t·y with f0 = 0 (the eigenbasis also at t = ∞, as neural-tangents) */
    st = ntk__spectral_apply(p, steps, 0, 1, u);
    if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1, ntk_test_train, n, u, k, 0, mo, k);
    if (st == NTK_OK && !ntk__all_finite(mo, mk)) st = NTK_ERR_NON_FINITE;
    if (st != NTK_OK) { NTK_FREE(u); return st; }
  }
  if (cov) {
    M = (ntk_real *)NTK_MALLOC((2 * mn + 2 * mm) * sizeof(ntk_real));
    if (!M) { NTK_FREE(u); return NTK_ERR_OUT_OF_MEMORY; }
    KM = M + mn, X = KM + mn, C = X + mm;
    st = ntk__ensemble_M(p, steps, ntk_test_train, m, M);
    /* cov = K_tt + Mᵀ·K·M − (X + Xᵀ), X = K_td·M */
    if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, n, m, n, 1, nngp_train, n, M, m, 0, KM, m);
    if (st == NTK_OK) {
      memcpy(C, nngp_test_test, mm * sizeof(ntk_real));
      st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, m, m, n, 1, M, m, KM, m, 1, C, m);
    }
    if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, m, m, n, 1, nngp_test_train, n, M, m, 0, X, m);
    if (st == NTK_OK) {
      for (i = 0; i < mm; i++) C[i] -= X[i] + X[(i % m) * m + i / m];
      st = ntk__sym_out(C, m, cov); /* exactly symmetric */
    }
    NTK_FREE(M);
  }
  if (st == NTK_OK && mean) memcpy(mean, mo, mk * sizeof(ntk_real));
  NTK_FREE(u);
  return st;
}

NTKDEF ntk_status ntk_ensemble_nngp(const ntk_predictor *p, double steps,
                                    const ntk_real *nngp_test_train, size_t m,
                                    const ntk_real *nngp_test_test, ntk_real *mean, ntk_real *cov) {
  size_t n, mn, mk, mm;
  ntk_real *M = NULL, *C, *mo = NULL;
  ntk_status st;
  if ((st = ntk__time_ok(p, steps, 0)) != NTK_OK) return st;
  n = p->n;
  if ((st = ntk__test_sizes(m, n, p->k, 1, &mn, &mk, &mm)) != NTK_OK) return st;
  if (!nngp_test_train || (cov && !nngp_test_test)) return NTK_ERR_INVALID_ARG;
  if (m == 0 || (!mean && !cov)) return NTK_OK;
  if (!ntk__all_finite(nngp_test_train, mn) || (cov && !ntk__all_finite(nngp_test_test, mm)))
    return NTK_ERR_NON_FINITE;
  if (mean) {
    mo = (ntk_real *)NTK_MALLOC(mk * sizeof(ntk_real));
    if (!mo) return NTK_ERR_OUT_OF_MEMORY;
    if ((st = ntk__predict_test_into(p, steps, 0, nngp_test_train, m, NULL, mo)) != NTK_OK) {
      NTK_FREE(mo);
      return st;
    }
  }
  if (cov) {
    M = (ntk_real *)NTK_MALLOC((mn + mm) * sizeof(ntk_real));
    if (!M) { NTK_FREE(mo); return NTK_ERR_OUT_OF_MEMORY; }
    C = M + mn;
    /* cov = K_tt − K_td·K⁻¹(I − e^{−2Kt/N})·K_dt: the factor at time 2t */
    st = ntk__ensemble_M(p, 2 * steps, nngp_test_train, m, M);
    if (st == NTK_OK) {
      memcpy(C, nngp_test_test, mm * sizeof(ntk_real));
      st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, m, m, n, -1, nngp_test_train, n, M, m, 1, C, m);
    }
    if (st == NTK_OK) st = ntk__sym_out(C, m, cov);
    NTK_FREE(M);
  }
  if (st == NTK_OK && mean) memcpy(mean, mo, mk * sizeof(ntk_real));
  NTK_FREE(mo);
  return st;
}

NTKDEF ntk_status ntk_gp_inference(const ntk_real *k_train, size_t n, const ntk_real *y, size_t k,
                                   const ntk_real *k_test_train, size_t m,
                                   const ntk_real *k_test_test, double diag_reg,
                                   int diag_reg_absolute, ntk_real *mean, ntk_real *cov) {
  ntk_real *L, *W, *mo, *C;
  size_t info, i, j, nn, nk, mn, mk, mm, nw;
  double add;
  ntk_status st;
  int ok = 1;
  if (n == 0 || k == 0 || !k_train || !y || (m > 0 && !k_test_train) || (cov && !k_test_test) ||
      !ntk__finite(diag_reg) || diag_reg < 0)
    return NTK_ERR_INVALID_ARG;
  nn = ntk__mul(n, n, &ok), nk = ntk__mul(n, k, &ok);
  if (!ok || (st = ntk__test_sizes(m, n, k, cov != NULL, &mn, &mk, &mm)) != NTK_OK) return NTK_ERR_OVERFLOW;
  nw = mn > nk ? mn : nk;
  /* L (n, n), W (n, max(m, k)), the mean (m, k) and the covariance (m, m) before they are copied out */
  (void)ntk__mul(ntk__add(ntk__add(nn, nw, &ok), ntk__add(mk, mm, &ok), &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(k_train, nn) || !ntk__all_finite(y, nk) || !ntk__all_finite(k_test_train, mn) ||
      (cov && !ntk__all_finite(k_test_test, mm)))
    return NTK_ERR_NON_FINITE;
  L = (ntk_real *)NTK_MALLOC((nn + nw + mk + mm) * sizeof(ntk_real));
  if (!L) return NTK_ERR_OUT_OF_MEMORY;
  W = L + nn, mo = W + nw, C = mo + mk;
  st = ntk__regularise(L, k_train, n, diag_reg, diag_reg_absolute, &add);
  if (st == NTK_OK) st = NTK__POTRF_EX(n, L, n, &info);
  if (st == NTK_OK && mean && m) { /* mean = K_td·K⁻¹·y */
    memcpy(W, y, nk * sizeof(ntk_real));
    st = NTK__POTRS(n, k, L, n, W, k);
    if (st == NTK_OK) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, m, k, n, 1, k_test_train, n, W, k, 0, mo, k);
    if (st == NTK_OK && !ntk__all_finite(mo, mk)) st = NTK_ERR_NON_FINITE;
  }
  if (st == NTK_OK && cov && m) { /* cov = K_tt − (L⁻¹K_dt)ᵀ(L⁻¹K_dt) */
    for (i = 0; i < n; i++)
      for (j = 0; j < m; j++) W[i * m + j] = k_test_train[j * n + i];
    st = NTK__TRSM_LOWER(NTK_NO_TRANS, n, m, L, n, W, m);
    if (st == NTK_OK) {
      memcpy(C, k_test_test, mm * sizeof(ntk_real));
      st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, m, m, n, -1, W, m, W, m, 1, C, m);
    }
    if (st == NTK_OK) st = ntk__sym_out(C, m, cov);
  }
  if (st == NTK_OK && mean && m) memcpy(mean, mo, mk * sizeof(ntk_real));
  NTK_FREE(L);
  return st;
}

NTKDEF ntk_status ntk_max_learning_rate(const ntk_real *k_train, size_t n, size_t k, double *lr) {
  ntk_real *A, *w;
  ntk_status st;
  int ok = 1;
  double lmax, r;
  if (!k_train || n == 0 || k == 0 || !lr) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__add(ntk__mul(n, n, &ok), n, &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(k_train, n * n)) return NTK_ERR_NON_FINITE;
  A = (ntk_real *)NTK_MALLOC((n * n + n) * sizeof(ntk_real));
  if (!A) return NTK_ERR_OUT_OF_MEMORY;
  w = A + n * n;
  memcpy(A, k_train, n * n * sizeof(ntk_real));
#ifdef NTK_REAL_FLOAT
  st = ntk_ssyev(n, A, n, w); /* (float: vectors computed too; n is small where float is used) */
#else
  st = ntk_dsyev_ex(n, A, n, w, 0);
#endif
  lmax = st == NTK_OK ? (double)w[n - 1] : 0;
  NTK_FREE(A);
  if (st != NTK_OK) return st;
  /* 2N/λ_max, scale-equivariant (no absolute floor); no stable rate without a positive λ_max */
  if (!(lmax > 0)) return NTK_ERR_NOT_POSITIVE_DEFINITE;
  r = 2.0 * ((double)n * (double)k) / lmax;
  if (!ntk__finite(r)) return NTK_ERR_NON_FINITE;
  *lr = r;
  return NTK_OK;
}


/* ============================================================================================
   [rng] splitmix64 + the polar method, bit-identical everywhere: u, v carry 26 bits so that
   s = u² + v² is exact; log s is computed with FMA contraction switched off and every other step
   is a single correctly rounded operation (IEEE double arithmetic is assumed: x86-64 SSE2,
   aarch64, Cortex-M with soft double — not x87 extended precision).
   ============================================================================================ */
typedef struct ntk__rng {
  uint64_t state;
  double spare;
  int has_spare;
} ntk__rng;

static uint64_t ntk__splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* ln s for s in (0, 1): s = m·2^e with m in [√½, √2), ln m = 2·atanh(f), f = (m−1)/(m+1),
   |f| ≤ 0.1716, by its series to f^23. FMA contraction is switched off here, so every
   operation is one IEEE rounding and the result is the same on every platform. */
NTK__NO_CONTRACT static double ntk__log_det(double s) {
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
  static const double c[12] = {1.0, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13,
                               1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23};
  int e, i;
  double m = frexp(s, &e), f, z, p;
  if (m < 0.70710678118654752440) m *= 2, e -= 1;
  f = (m - 1) / (m + 1);
  z = f * f;
  p = c[11];
  for (i = 10; i >= 0; i--) {
    double t = p * z; /* kept apart from the addition on purpose */
    p = t + c[i];
  }
  {
    double lm = 2 * f;
    lm = lm * p;
    return (double)e * 0.69314718055994530942 + lm;
  }
}
static double ntk__gauss(ntk__rng *r) {
  double u, v, s, f;
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  do {
    uint64_t a = ntk__splitmix(&r->state), b = ntk__splitmix(&r->state);
    u = (double)(a >> 38) * (1.0 / 33554432.0) - 1.0;
    v = (double)(b >> 38) * (1.0 / 33554432.0) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  f = sqrt((-2.0 * ntk__log_det(s)) / s);
  r->spare = v * f;
  r->has_spare = 1;
  return u * f;
}

/* ============================================================================================
   [net] finite networks: forward/backward pairs, Jacobian, structured empirical NTK, training
   ============================================================================================ */
/* φ and φ′ of the finite network's activations (neural-tangents' elementwise functions; Rbf's
   finite-width function is √2·sin(√(2γ)·x + π/4), whose kernel is the RBF) */
static double ntk__phi(const ntk_layer *L, double x, double *dphi) {
  double y, d;
  switch (L->kind) {
  case NTK_LAYER_IDENTITY: y = x, d = 1; break;
  case NTK_LAYER_ABRELU: y = x > 0 ? L->b * x : L->a * x, d = x > 0 ? L->b : L->a; break;
  case NTK_LAYER_ERF: y = L->a * erf(L->b * x) + L->c, d = L->a * L->b * 1.12837916709551257390 * exp(-L->b * L->b * x * x); break;
  case NTK_LAYER_GELU: {
    double Phi = 0.5 * (1 + erf(x * 0.70710678118654752440));
    y = x * Phi, d = Phi + x * 0.39894228040143267794 * exp(-0.5 * x * x);
    break;
  }
  case NTK_LAYER_SIN: y = L->a * sin(L->b * x + L->c), d = L->a * L->b * cos(L->b * x + L->c); break;
  case NTK_LAYER_SIGN: y = x > 0 ? 1 : x < 0 ? -1 : 0, d = 0; break;
  case NTK_LAYER_RBF: {
    double g = sqrt(2 * L->a);
    y = 1.41421356237309504880 * sin(g * x + NTK__PI / 4), d = 1.41421356237309504880 * g * cos(g * x + NTK__PI / 4);
    break;
  }
  case NTK_LAYER_EXP: y = L->a * exp(L->b * x), d = L->b * y; break;
  default: y = L->f(x, L->user), d = dphi ? L->df(x, L->user) : 0; break;
  }
  if (dphi) *dphi = d;
  return y;
}

/* The elementwise halves of a forward/backward pair, on a run of entries:
   out = φ(z) (g = NULL), or out = g·φ′(z). ReLU-family layers take a loop the compiler
   vectorises; the rest go through ntk__phi. out may alias z or g. */
NTK__VEC static void ntk__act(const ntk_layer *L, size_t cnt, const ntk_real *z, const ntk_real *g,
                              ntk_real *out) {
  size_t i;
  if (L->kind == NTK_LAYER_ABRELU) {
    const ntk_real a = (ntk_real)L->a, b = (ntk_real)L->b;
    if (g)
      for (i = 0; i < cnt; i++) out[i] = g[i] * (z[i] > 0 ? b : a);
    else
      for (i = 0; i < cnt; i++) out[i] = z[i] * (z[i] > 0 ? b : a);
    return;
  }
  for (i = 0; i < cnt; i++) {
    double d, y = ntk__phi(L, (double)z[i], g ? &d : NULL);
    out[i] = g ? (ntk_real)((double)g[i] * d) : (ntk_real)y;
  }
}

/* ---- spatial and branched lists: the front end's DAG, examples in chunks --------------------
   Every layer's output is an NHWC row per example, (m, out_n) for a chunk of m examples; INPUT,
   FANOUT, FLATTEN, IDENTITY and BRANCH are views of their input (no buffer). A layer reads the
   buffer of its producer (ntk__arch's DAG); a FANIN reads its branch ends. Backward: one
   gradient buffer per forward buffer, zeroed per chunk, every consumer adding into its
   producer's (so a FANOUT's branches sum). Conv and Dense go through the GEMM in tiles of g
   whole examples (g·positions ≤ NTK__SN_ROWS rows; Conv through an im2col tile of g·S × F),
   on a grid of tiles fixed by the example index, so that the chunk size (a multiple of g)
   changes no result: every GEMM sees the same operands in the same order. */
#ifndef NTK_NET_CHUNK_BYTES
#define NTK_NET_CHUNK_BYTES ((size_t)64 << 20)
#endif
#define NTK__SN_ROWS 1024
#define NTK__SN_JVALS 65536 /* im2col values per block of a per-example Jacobian (L2-sized) */

static int ntk__net_spatial(const ntk_net *net) {
  size_t l;
  for (l = 0; l < net->n_layers; l++)
    if (ntk__props(net->layers[l].kind) & (NTK__K_SPATIAL | NTK__K_STRUCT)) return 1;
  return 0;
}

typedef struct ntk__sn {
  const ntk_net *net;
  ntk__arch A;
  size_t nl, g, m, per, k, P, ucap, xt; /* layers, tile, chunk, buffer values per example */
  size_t *src;                          /* (nl): the layer whose buffer holds l's output */
  size_t *off;                          /* (nl): its offset per example in the chunk buffers */
  ntk_real *cache, *aux, *zx, *U, *U2, *mem; /* forward values; gradients or tangents; 0-tangent */
} ntk__sn;

/* parameter-gradient sink of a backward pass: none (out NULL), the sum over examples (jac 0),
   or per-example rows out + (e0 + e)·rs + as + jcol[l] (jac 1; jcol NULL: the parameter
   offsets). A layer whose jcol is NTK__NONE is a pair-form layer: its output gradients G(x)
   (S rows of C_out per example) go to gbuf[l] + (e0 + e)·S·C_out instead; NTK__SKIP: no
   parameter gradient, only the input gradient. The pass stops below layer lo: no layer under
   it is visited, no gradient is sent to one. */
#define NTK__SKIP ((size_t)-2)
typedef struct ntk__sn_pg {
  ntk_real *out, **gbuf;
  size_t rs, as, e0, lo;
  const size_t *jcol;
  int jac;
} ntk__sn_pg;

static int ntk__sn_view(ntk_layer_kind k) {
  return k == NTK_LAYER_INPUT || k == NTK_LAYER_FANOUT || k == NTK_LAYER_FLATTEN ||
         k == NTK_LAYER_BRANCH || k == NTK_LAYER_IDENTITY;
}
static size_t ntk__sn_in(const ntk__sn *sn, size_t l) {
  size_t p = sn->A.l[l].producer;
  return p == NTK__NONE ? NTK__NONE : sn->src[p];
}
static ntk_real *ntk__sn_buf(const ntk__sn *sn, ntk_real *base, const ntk_real *x0, size_t b) {
  return b == NTK__NONE ? (ntk_real *)(uintptr_t)x0 : base + sn->m * sn->off[b];
}
static void ntk__sn_free(ntk__sn *sn) {
  NTK_FREE(sn->mem);
  NTK_FREE(sn->src);
  ntk__arch_free(&sn->A);
  memset(sn, 0, sizeof *sn); /* freeing twice is harmless */
}
/* c = σ_w/√fan_in (NTK) or 1 (standard); cb = σ_b or 1 */
static ntk_real ntk__sn_c(const ntk__sn *sn, size_t l) {
  const ntk_layer *L = &sn->net->layers[l];
  return L->param == NTK_PARAM_STANDARD ? 1 : (ntk_real)(L->w_std / sqrt((double)sn->A.l[l].fan_in));
}
static ntk_real ntk__sn_cb(const ntk__sn *sn, size_t l) {
  const ntk_layer *L = &sn->net->layers[l];
  return L->param == NTK_PARAM_STANDARD ? 1 : (ntk_real)L->b_std;
}

/* byte counts of ntk__sn_init for n examples (*ok cleared on overflow) and the chunk size */
static size_t ntk__sn_plan(ntk__sn *sn, size_t n, int tangent, int *ok) {
  size_t l, smax = 1, per = 0, each, m, len;
  const ntk_net *net = sn->net;
  sn->ucap = 0;
  for (l = 0; l < sn->nl; l++) {
    const ntk__arch_layer *R = &sn->A.l[l];
    ntk_layer_kind kd = net->layers[l].kind;
    if (ntk__sn_view(kd)) {
      sn->src[l] = kd == NTK_LAYER_BRANCH ? NTK__NONE : ntk__sn_in(sn, l), sn->off[l] = 0;
    } else {
      sn->src[l] = l, sn->off[l] = per;
      per = ntk__add(per, R->out_n, ok);
    }
    if ((kd == NTK_LAYER_DENSE || kd == NTK_LAYER_CONV) && R->out[0] * R->out[1] > smax) smax = R->out[0] * R->out[1];
  }
  sn->g = NTK__SN_ROWS / smax ? NTK__SN_ROWS / smax : 1;
  for (l = 0; l < sn->nl; l++) {
    const ntk__arch_layer *R = &sn->A.l[l];
    if (net->layers[l].kind == NTK_LAYER_CONV) {
      size_t u = ntk__mul(ntk__mul(sn->g, R->out[0] * R->out[1], ok), R->fan_in, ok);
      if (u > sn->ucap) sn->ucap = u;
    }
  }
  sn->per = per, sn->xt = tangent ? net->dim : 0;
  each = ntk__mul(ntk__add(ntk__mul(per, 2, ok), sn->xt, ok), sizeof(ntk_real), ok);
  m = net->chunk ? net->chunk : NTK_NET_CHUNK_BYTES / (each ? each : 1);
  m = m < sn->g ? sn->g : m / sn->g * sn->g + (m % sn->g ? sn->g : 0); /* a multiple of g */
  if (m > n) m = n ? n : 1;
  sn->m = m;
  len = ntk__add(ntk__mul(m, ntk__add(ntk__mul(per, 2, ok), sn->xt, ok), ok), ntk__mul(sn->ucap, 2, ok), ok);
  (void)ntk__mul(ntk__add(len, 1, ok), sizeof(ntk_real), ok);
  return len;
}

/* the engine's layout for calls on up to n examples (shapes, buffer offsets, tile and chunk;
   no buffers): *len reals for ntk__sn_init */
static ntk_status ntk__sn_layout(ntk__sn *sn, const ntk_net *net, size_t n, int tangent, size_t *len) {
  size_t bad;
  const char *why;
  int ok = 1;
  ntk_status st;
  memset(sn, 0, sizeof *sn);
  sn->net = net;
  st = ntk__arch_init(&sn->A, net->layers, net->n_layers, net->dim, &bad, &why);
  if (st != NTK_OK) { ntk__arch_free(&sn->A); return st; }
  sn->nl = net->n_layers, sn->k = net->outputs, sn->P = net->n_params;
  sn->src = (size_t *)NTK_MALLOC(2 * sn->nl * sizeof(size_t));
  if (!sn->src) { ntk__sn_free(sn); return NTK_ERR_OUT_OF_MEMORY; }
  sn->off = sn->src + sn->nl;
  *len = ntk__sn_plan(sn, n, tangent, &ok);
  if (!ok) { ntk__sn_free(sn); return NTK_ERR_OVERFLOW; }
  return NTK_OK;
}

/* the engine for calls on up to n examples; tangent: room for the linearised pass */
static ntk_status ntk__sn_init(ntk__sn *sn, const ntk_net *net, size_t n, int tangent) {
  size_t len;
  ntk_status st = ntk__sn_layout(sn, net, n, tangent, &len);
  if (st != NTK_OK) return st;
  sn->mem = (ntk_real *)NTK_MALLOC((len + 1) * sizeof(ntk_real));
  if (!sn->mem) { ntk__sn_free(sn); return NTK_ERR_OUT_OF_MEMORY; }
  sn->cache = sn->mem, sn->aux = sn->cache + sn->m * sn->per, sn->zx = sn->aux + sn->m * sn->per;
  sn->U = sn->zx + sn->m * sn->xt, sn->U2 = sn->U + sn->ucap;
  if (sn->xt) memset(sn->zx, 0, sn->m * sn->xt * sizeof(ntk_real));
  return NTK_OK;
}

/* input position of output o, tap d along one axis: −1 outside (zero padding); CIRCULAR wraps */
static ptrdiff_t ntk__sn_tap(size_t o, size_t d, size_t s, size_t lo, size_t n, int circ) {
  ptrdiff_t p = (ptrdiff_t)(o * s + d) - (ptrdiff_t)lo;
  if (circ) return ((p % (ptrdiff_t)n) + (ptrdiff_t)n) % (ptrdiff_t)n;
  return p < 0 || p >= (ptrdiff_t)n ? -1 : p;
}
/* im2col of output positions [p0, p1) of example e of X (·, in_n) into rows 0.. of U (columns
   (dy, dx, ci)); back: the transpose, U added into X (col2im) */
static void ntk__sn_im2col_rows(const ntk__arch_layer *R, int circ, ntk_real *X, size_t e, size_t p0, size_t p1,
                                ntk_real *U, int back) {
  size_t H = R->in[0], W = R->in[1], C = R->in[2], Wo = R->out[1];
  size_t F = R->f[0] * R->f[1] * C, p, oh, ow, dy, dx, c;
  for (p = p0; p < p1; p++) {
    ntk_real *row = U + (p - p0) * F;
    oh = p / Wo, ow = p % Wo;
    for (dy = 0; dy < R->f[0]; dy++) {
      ptrdiff_t ih = ntk__sn_tap(oh, dy, R->s[0], R->lo[0], H, circ);
      for (dx = 0; dx < R->f[1]; dx++) {
        ptrdiff_t iw = ntk__sn_tap(ow, dx, R->s[1], R->lo[1], W, circ);
        ntk_real *u = row + (dy * R->f[1] + dx) * C, *xp;
        if (ih < 0 || iw < 0) {
          if (!back) memset(u, 0, C * sizeof(ntk_real));
          continue;
        }
        xp = X + e * R->in_n + ((size_t)ih * W + (size_t)iw) * C;
        if (back) for (c = 0; c < C; c++) xp[c] += u[c];
        else memcpy(u, xp, C * sizeof(ntk_real));
      }
    }
  }
}
/* the same for examples [e0, e1), rows (e, oh, ow) */
static void ntk__sn_im2col(const ntk__arch_layer *R, int circ, ntk_real *X, size_t e0, size_t e1,
                           ntk_real *U, int back) {
  size_t S = R->out[0] * R->out[1], F = R->f[0] * R->f[1] * R->in[2], e;
  for (e = e0; e < e1; e++) ntk__sn_im2col_rows(R, circ, X, e, 0, S, U + (e - e0) * S * F, back);
}

/* the affine part of Dense/Conv on a chunk: Y (mm·S, C_out) = beta·Y + c·U(X)·Wᵀ */
static ntk_status ntk__sn_affine(ntk__sn *sn, size_t l, size_t mm, const ntk_real *X, const ntk_real *W,
                                 ntk_real beta, ntk_real *Y) {
  const ntk_layer *L = &sn->net->layers[l];
  const ntk__arch_layer *R = &sn->A.l[l];
  size_t S = R->out[0] * R->out[1], F = R->fan_in, Co = L->width, t;
  ntk_real c = ntk__sn_c(sn, l);
  for (t = 0; t < mm; t += sn->g) {
    size_t te = mm - t < sn->g ? mm - t : sn->g;
    const ntk_real *Am = X + t * S * F;
    ntk_status st;
    if (L->kind == NTK_LAYER_CONV) {
      ntk__sn_im2col(R, L->padding == NTK_PAD_CIRCULAR, (ntk_real *)X, t, t + te, sn->U, 0);
      Am = sn->U;
    }
    st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, te * S, Co, F, c, Am, F, W, F, beta, Y + t * S * Co, Co);
    if (st != NTK_OK) return st;
  }
  return NTK_OK;
}
static void ntk__sn_bias(const ntk__sn *sn, size_t l, size_t rows, const ntk_real *b, ntk_real *Y) {
  size_t Co = sn->net->layers[l].width, i, j;
  ntk_real cb = ntk__sn_cb(sn, l);
  for (i = 0; i < rows; i++)
    for (j = 0; j < Co; j++) Y[i * Co + j] += cb * b[j];
}

/* Avg/SumPool: forward Y = pool(X), or back: X += poolᵀ(Y) */
static void ntk__sn_pool(const ntk_layer *L, const ntk__arch_layer *R, ntk_real *X, size_t mm, ntk_real *Y, int back) {
  size_t H = R->in[0], W = R->in[1], C = R->in[2], Ho = R->out[0], Wo = R->out[1], e, oh, ow, dy, dx, c;
  int circ = L->padding == NTK_PAD_CIRCULAR, avg = L->kind == NTK_LAYER_AVG_POOL;
  int ne = avg && (L->flags & NTK_POOL_NORMALIZE_EDGES) && !circ;
  for (e = 0; e < mm; e++)
    for (oh = 0; oh < Ho; oh++)
      for (ow = 0; ow < Wo; ow++) {
        ntk_real *y = Y + ((e * Ho + oh) * Wo + ow) * C, div = 1;
        size_t cnt = 0;
        for (dy = 0; dy < R->f[0]; dy++)
          for (dx = 0; dx < R->f[1]; dx++)
            cnt += ntk__sn_tap(oh, dy, R->s[0], R->lo[0], H, circ) >= 0 && ntk__sn_tap(ow, dx, R->s[1], R->lo[1], W, circ) >= 0;
        if (avg) div = (ntk_real)(ne ? cnt : R->f[0] * R->f[1]);
        if (!back) memset(y, 0, C * sizeof(ntk_real));
        for (dy = 0; dy < R->f[0]; dy++) {
          ptrdiff_t ih = ntk__sn_tap(oh, dy, R->s[0], R->lo[0], H, circ);
          for (dx = 0; dx < R->f[1]; dx++) {
            ptrdiff_t iw = ntk__sn_tap(ow, dx, R->s[1], R->lo[1], W, circ);
            ntk_real *xp;
            if (ih < 0 || iw < 0) continue;
            xp = X + e * R->in_n + ((size_t)ih * W + (size_t)iw) * C;
            if (back) for (c = 0; c < C; c++) xp[c] += y[c] / div;
            else for (c = 0; c < C; c++) y[c] += xp[c];
          }
        }
        if (!back && avg) for (c = 0; c < C; c++) y[c] /= div;
      }
}

/* LayerNorm over the axes of L (neural-tangents' finite LayerNorm: (x − mean)/√(eps + var)
   over them). mode 0: Y = LN(X); 1: Y += Jᵀ·T; 2: Y = J·T (J symmetric: (T − mean T −
   y·mean(T·y))/σ) */
static void ntk__sn_ln(const ntk_layer *L, const ntk__arch_layer *R, const ntk_real *X, const ntk_real *T,
                       size_t mm, ntk_real *Y, int mode) {
  int ax = L->flags ? L->flags : NTK_AXIS_C;
  size_t H = R->in[0], W = R->in[1], C = R->in[2], e, gh, gw, h, w, c;
  size_t nh = (ax & NTK_AXIS_H) ? H : 1, nw = (ax & NTK_AXIS_W) ? W : 1;
  double eps = L->eps > 0 ? L->eps : 1e-12, cnt = (double)(nh * nw * C);
#define NTK__LN_FOR                                                                                \
  for (h = gh * nh; h < gh * nh + nh; h++)                                                         \
    for (w = gw * nw; w < gw * nw + nw; w++)                                                       \
      for (c = 0, i = e * R->in_n + (h * W + w) * C; c < C; c++, i++)
  for (e = 0; e < mm; e++)
    for (gh = 0; gh < H / nh; gh++)
      for (gw = 0; gw < W / nw; gw++) {
        double mu = 0, var = 0, tm = 0, ty = 0, is;
        size_t i;
        NTK__LN_FOR mu += (double)X[i];
        mu /= cnt;
        NTK__LN_FOR var += ((double)X[i] - mu) * ((double)X[i] - mu);
        is = 1 / sqrt(eps + var / cnt);
        if (mode == 0) {
          NTK__LN_FOR Y[i] = (ntk_real)(((double)X[i] - mu) * is);
          continue;
        }
        NTK__LN_FOR tm += (double)T[i], ty += (double)T[i] * (((double)X[i] - mu) * is);
        tm /= cnt, ty /= cnt;
        NTK__LN_FOR {
          double v = ((double)T[i] - tm - (((double)X[i] - mu) * is) * ty) * is;
          Y[i] = mode == 1 ? Y[i] + (ntk_real)v : (ntk_real)v;
        }
      }
#undef NTK__LN_FOR
}

/* the next branch end of the FANIN at l, left to right, from *j (start: its FANOUT + 1): the
   buffer holding it and its channel count *c; (size_t)-2 after the last */
static size_t ntk__sn_end(const ntk__sn *sn, size_t l, size_t *j, size_t *c) {
  size_t F = sn->A.l[l].mate, p;
  for (; *j <= l; (*j)++)
    if (*j == l || (sn->net->layers[*j].kind == NTK_LAYER_BRANCH && sn->A.l[*j].mate == F)) {
      p = sn->A.l[(*j)++].producer;
      *c = p == NTK__NONE ? sn->A.in[2] : sn->A.l[p].out[2];
      return p == NTK__NONE ? NTK__NONE : sn->src[p];
    }
  return (size_t)-2;
}

/* layer l on a chunk of mm examples: tan 0, the forward pass into the cache; tan 1, its tangent
   into aux (the cache holds this chunk's forward pass), dth = θ − θ0 */
static ntk_status ntk__sn_layer(ntk__sn *sn, size_t l, size_t mm, const ntk_real *x, const ntk_real *dth, int tan) {
  const ntk_layer *L = &sn->net->layers[l];
  const ntk__arch_layer *R = &sn->A.l[l];
  ntk_real *base = tan ? sn->aux : sn->cache;
  const ntk_real *x0 = tan ? sn->zx : x;
  size_t bi = ntk__sn_in(sn, l), S = R->in[0] * R->in[1], C = R->out[2], e, q, c, j, b, co, Cb;
  ntk_real *X = ntk__sn_buf(sn, base, x0, bi), *Y = ntk__sn_buf(sn, base, x0, l);
  ntk_real *Hp = ntk__sn_buf(sn, sn->cache, x, bi); /* the forward input */
  ntk_status st = NTK_OK;
  switch (L->kind) {
  case NTK_LAYER_DENSE:
  case NTK_LAYER_CONV: {
    size_t nw = L->width * R->fan_in, off = R->param_offset;
    st = ntk__sn_affine(sn, l, mm, X, sn->net->params + off, 0, Y);
    if (tan && st == NTK_OK) st = ntk__sn_affine(sn, l, mm, Hp, dth + off, 1, Y); /* ż = c·(U̇·Wᵀ + U·Ẇᵀ) + c_b·ḃ */
    if (st == NTK_OK && R->has_bias) ntk__sn_bias(sn, l, mm * R->out[0] * R->out[1], (tan ? dth : sn->net->params) + off + nw, Y);
    break;
  }
  case NTK_LAYER_AVG_POOL:
  case NTK_LAYER_SUM_POOL: ntk__sn_pool(L, R, X, mm, Y, 0); break;
  case NTK_LAYER_GLOBAL_AVG_POOL:
  case NTK_LAYER_GLOBAL_SUM_POOL:
    for (e = 0; e < mm; e++)
      for (c = 0; c < C; c++) {
        ntk_real acc = 0;
        for (q = 0; q < S; q++) acc += X[(e * S + q) * C + c];
        Y[e * C + c] = L->kind == NTK_LAYER_GLOBAL_AVG_POOL ? acc / (ntk_real)S : acc;
      }
    break;
  case NTK_LAYER_LAYER_NORM:
    if (tan) ntk__sn_ln(L, R, Hp, X, mm, Y, 2);
    else ntk__sn_ln(L, R, X, NULL, mm, Y, 0);
    break;
  case NTK_LAYER_FANIN_SUM:
  case NTK_LAYER_FANIN_CONCAT:
    S = R->out[0] * R->out[1], j = R->mate + 1, co = 0;
    for (b = 0; (bi = ntk__sn_end(sn, l, &j, &Cb)) != (size_t)-2; b++) {
      const ntk_real *Xb = ntk__sn_buf(sn, base, x0, bi);
      for (e = 0; e < mm * S; e++)
        for (c = 0; c < Cb; c++) {
          ntk_real *yp = Y + e * C + co + c;
          *yp = L->kind == NTK_LAYER_FANIN_SUM && b ? *yp + Xb[e * Cb + c] : Xb[e * Cb + c];
        }
      if (L->kind == NTK_LAYER_FANIN_CONCAT) co += Cb;
    }
    break;
  default: /* activations (IDENTITY is a view) */
    if (tan) ntk__act(L, mm * R->in_n, Hp, X, Y);
    else ntk__act(L, mm * R->in_n, X, NULL, Y);
    break;
  }
  return st;
}

static ntk_status ntk__sn_fwd(ntk__sn *sn, const ntk_real *x, size_t mm, const ntk_real *dth) {
  size_t l;
  ntk_status st = NTK_OK;
  for (l = 0; l < sn->nl && st == NTK_OK; l++) {
    if (sn->src[l] != l) continue;
    st = ntk__sn_layer(sn, l, mm, x, dth, 0);
    if (dth && st == NTK_OK) st = ntk__sn_layer(sn, l, mm, x, dth, 1);
  }
  return st;
}

/* Dense/Conv backward: parameter gradients into pg, and gin += ∂/∂input (gin NULL: not wanted) */
static ntk_status ntk__sn_pgrad(ntk__sn *sn, size_t l, size_t mm, ntk_real *X, const ntk_real *G,
                                const ntk__sn_pg *pg, ntk_real *gin) {
  const ntk_layer *L = &sn->net->layers[l];
  const ntk__arch_layer *R = &sn->A.l[l];
  size_t S = R->out[0] * R->out[1], F = R->fan_in, Co = L->width, nw = Co * F, off = R->param_offset, t, e, o, q;
  int conv = L->kind == NTK_LAYER_CONV, circ = L->padding == NTK_PAD_CIRCULAR;
  ntk_real c = ntk__sn_c(sn, l), cb = ntk__sn_cb(sn, l);
  const ntk_real *W = sn->net->params + off;
  ntk_status st = NTK_OK;
  size_t jc = pg->jac && pg->jcol ? pg->jcol[l] : off;
  for (t = 0; t < mm && st == NTK_OK; t += sn->g) {
    size_t te = mm - t < sn->g ? mm - t : sn->g, rows = te * S;
    const ntk_real *Gt = G + t * S * Co, *Am = X + t * S * F;
    if (!pg->out || (pg->jac && jc == NTK__SKIP)) {
      /* no parameter gradient: the input gradient only (below) */
    } else if (pg->jac && jc == NTK__NONE) { /* pair form: keep G(x) */
      memcpy(pg->gbuf[l] + (pg->e0 + t) * S * Co, Gt, rows * Co * sizeof(ntk_real));
    } else if (pg->out && pg->jac && conv && S * F > NTK__SN_JVALS) {
      /* a large image: per example, blocks of positions whose im2col rows stay in cache, the
         input gradient of the block at once */
      size_t rb = NTK__SN_JVALS / F ? NTK__SN_JVALS / F : 1, r0;
      for (e = 0; e < te && st == NTK_OK; e++) {
        ntk_real *row = pg->out + (pg->e0 + t + e) * pg->rs + pg->as + jc;
        const ntk_real *Ge = Gt + e * S * Co;
        for (r0 = 0; r0 < S && st == NTK_OK; r0 += rb) {
          size_t nr = S - r0 < rb ? S - r0 : rb;
          ntk__sn_im2col_rows(R, circ, X, t + e, r0, r0 + nr, sn->U, 0);
          st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, Co, F, nr, c, Ge + r0 * Co, Co, sn->U, F, r0 ? 1 : 0, row, F);
          if (gin && st == NTK_OK && (st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, nr, F, Co, c, Ge + r0 * Co, Co, W, F, 0, sn->U2, F)) == NTK_OK)
            ntk__sn_im2col_rows(R, circ, gin, t + e, r0, r0 + nr, sn->U2, 1);
        }
        if (R->has_bias)
          for (o = 0; o < Co; o++) {
            ntk_real acc = 0;
            for (q = 0; q < S; q++) acc += Ge[q * Co + o];
            row[nw + o] = cb * acc;
          }
      }
      continue;
    } else if (pg->out && pg->jac) {
      if (conv) ntk__sn_im2col(R, circ, X, t, t + te, sn->U, 0), Am = sn->U;
      for (e = 0; e < te && st == NTK_OK; e++) { /* J_l(x) = c·G(x)ᵀ·U(x), contracted over positions */
        ntk_real *row = pg->out + (pg->e0 + t + e) * pg->rs + pg->as + jc;
        st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, Co, F, S, c, Gt + e * S * Co, Co, Am + e * S * F, F, 0, row, F);
        if (R->has_bias)
          for (o = 0; o < Co; o++) {
            ntk_real acc = 0;
            for (q = 0; q < S; q++) acc += Gt[(e * S + q) * Co + o];
            row[nw + o] = cb * acc;
          }
      }
    } else if (pg->out) {
      if (conv) ntk__sn_im2col(R, circ, X, t, t + te, sn->U, 0), Am = sn->U;
      st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, Co, F, rows, c, Gt, Co, Am, F, 1, pg->out + off, F);
      if (R->has_bias)
        for (o = 0; o < Co; o++) {
          ntk_real acc = 0;
          for (q = 0; q < rows; q++) acc += Gt[q * Co + o];
          pg->out[off + nw + o] += cb * acc;
        }
    }
    if (gin && st == NTK_OK) {
      if (!conv) st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, rows, F, Co, c, Gt, Co, W, F, 1, gin + t * S * F, F);
      else if ((st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, rows, F, Co, c, Gt, Co, W, F, 0, sn->U2, F)) == NTK_OK)
        ntk__sn_im2col(R, circ, gin, t, t + te, sn->U2, 1); /* col2im */
    }
  }
  return st;
}

/* backward from Gtop (mm, k) = ∂(·)/∂f through the chunk in the cache */
static ntk_status ntk__sn_bwd(ntk__sn *sn, const ntk_real *x, size_t mm, const ntk_real *Gtop, const ntk__sn_pg *pg) {
  size_t l, bo = sn->src[sn->nl - 1], i, e, q, c, j;
  ntk_status st = NTK_OK;
  if (bo == NTK__NONE) return NTK_OK; /* no layer computes anything: no parameters */
  memset(sn->aux, 0, sn->m * sn->per * sizeof(ntk_real));
  memcpy(sn->aux + sn->m * sn->off[bo], Gtop, mm * sn->k * sizeof(ntk_real));
  for (l = sn->nl; l-- > pg->lo && st == NTK_OK;) {
    const ntk_layer *L = &sn->net->layers[l];
    const ntk__arch_layer *R = &sn->A.l[l];
    size_t bi = ntk__sn_in(sn, l), S = R->in[0] * R->in[1], C = R->out[2];
    ntk_real *G = sn->aux + sn->m * sn->off[l], *gin = bi == NTK__NONE || bi < pg->lo ? NULL : sn->aux + sn->m * sn->off[bi];
    ntk_real *X = ntk__sn_buf(sn, sn->cache, x, bi);
    if (sn->src[l] != l) continue;
    switch (L->kind) {
    case NTK_LAYER_DENSE:
    case NTK_LAYER_CONV: st = ntk__sn_pgrad(sn, l, mm, X, G, pg, gin); break;
    case NTK_LAYER_AVG_POOL:
    case NTK_LAYER_SUM_POOL: if (gin) ntk__sn_pool(L, R, gin, mm, G, 1); break;
    case NTK_LAYER_GLOBAL_AVG_POOL:
    case NTK_LAYER_GLOBAL_SUM_POOL:
      if (gin)
        for (e = 0; e < mm; e++)
          for (c = 0; c < C; c++) {
            ntk_real g = L->kind == NTK_LAYER_GLOBAL_AVG_POOL ? G[e * C + c] / (ntk_real)S : G[e * C + c];
            for (q = 0; q < S; q++) gin[(e * S + q) * C + c] += g;
          }
      break;
    case NTK_LAYER_LAYER_NORM: if (gin) ntk__sn_ln(L, R, X, G, mm, gin, 1); break;
    case NTK_LAYER_FANIN_SUM:
    case NTK_LAYER_FANIN_CONCAT: {
      size_t co = 0;
      S = R->out[0] * R->out[1], j = R->mate + 1;
      size_t Cb;
      while ((bi = ntk__sn_end(sn, l, &j, &Cb)) != (size_t)-2) {
        if (bi != NTK__NONE && bi >= pg->lo) {
          ntk_real *gb = sn->aux + sn->m * sn->off[bi];
          for (e = 0; e < mm * S; e++)
            for (c = 0; c < Cb; c++) gb[e * Cb + c] += G[e * C + co + c];
        }
        if (L->kind == NTK_LAYER_FANIN_CONCAT) co += Cb;
      }
      break;
    }
    default: /* activations: G ← G·φ′(z), then into the producer's gradient */
      if (gin) {
        ntk__act(L, mm * R->in_n, X, G, G);
        for (i = 0; i < mm * R->in_n; i++) gin[i] += G[i];
      }
      break;
    }
  }
  return st;
}

static ntk_status ntk__sn_check(const ntk_net *net, const ntk_real *x, size_t n) {
  int ok = 1;
  if (!net || !net->params || !net->layers || !net->offset) return NTK_ERR_INVALID_ARG;
  if (n > 0 && !x) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n, net->dim, &ok), sizeof(ntk_real), &ok);
  (void)ntk__mul(ntk__mul(n, net->outputs, &ok), sizeof(ntk_real), &ok);
  return ok ? NTK_OK : NTK_ERR_OVERFLOW;
}

/* f (n, k) (with dth: the linearised outputs f + J·dth) and, when h is not NULL, the readout's
   input (n, its in_n), chunk by chunk */
static ntk_status ntk__sn_outputs(ntk__sn *sn, const ntk_real *x, size_t n, const ntk_real *dth, ntk_real *f, ntk_real *h) {
  size_t e0, i, k = sn->k, d = sn->net->dim, bo = sn->src[sn->nl - 1], bh = ntk__sn_in(sn, sn->nl - 1);
  size_t hn = sn->A.l[sn->nl - 1].in_n;
  ntk_status st = NTK_OK;
  for (e0 = 0; e0 < n && st == NTK_OK; e0 += sn->m) {
    size_t mm = n - e0 < sn->m ? n - e0 : sn->m;
    const ntk_real *xe = x + e0 * d, *o, *t;
    if ((st = ntk__sn_fwd(sn, xe, mm, dth)) != NTK_OK) break;
    o = ntk__sn_buf(sn, sn->cache, xe, bo);
    if (dth) {
      t = ntk__sn_buf(sn, sn->aux, sn->zx, bo);
      for (i = 0; i < mm * k; i++) f[e0 * k + i] = o[i] + t[i];
    } else {
      memcpy(f + e0 * k, o, mm * k * sizeof(ntk_real));
    }
    if (h) memcpy(h + e0 * hn, ntk__sn_buf(sn, sn->cache, xe, bh), mm * hn * sizeof(ntk_real));
  }
  return st;
}

/* f or the linearised outputs into f (n, k), written only when every entry is finite */
static ntk_status ntk__sn_apply(const ntk_net *net, const ntk_real *x, size_t n, const ntk_real *dth, ntk_real *f) {
  ntk__sn sn;
  ntk_real *tmp;
  ntk_status st = ntk__sn_init(&sn, net, n, dth != NULL);
  if (st != NTK_OK) return st;
  tmp = (ntk_real *)NTK_MALLOC((n * net->outputs + 1) * sizeof(ntk_real));
  if (!tmp) st = NTK_ERR_OUT_OF_MEMORY;
  if (st == NTK_OK) st = ntk__sn_outputs(&sn, x, n, dth, tmp, NULL);
  if (st == NTK_OK && !ntk__all_finite(tmp, n * net->outputs)) st = NTK_ERR_NON_FINITE;
  if (st == NTK_OK) memcpy(f, tmp, n * net->outputs * sizeof(ntk_real));
  NTK_FREE(tmp);
  ntk__sn_free(&sn);
  return st;
}

/* rows ∂f_a(x_i)/∂θ at out + i·rs + a·as for a in [a0, a1), chunk by chunk (one forward pass
   per chunk, one backward pass per output) */
static ntk_status ntk__sn_jac(ntk__sn *sn, const ntk_real *x, size_t n, size_t a0, size_t a1, ntk_real *out,
                              size_t rs, size_t as) {
  size_t e0, a, i, k = sn->k;
  ntk_real *top = (ntk_real *)NTK_MALLOC((sn->m * k + 1) * sizeof(ntk_real));
  ntk_status st = top ? NTK_OK : NTK_ERR_OUT_OF_MEMORY;
  for (e0 = 0; e0 < n && st == NTK_OK; e0 += sn->m) {
    size_t mm = n - e0 < sn->m ? n - e0 : sn->m;
    const ntk_real *xe = x + e0 * sn->net->dim;
    st = ntk__sn_fwd(sn, xe, mm, NULL);
    for (a = a0; a < a1 && st == NTK_OK; a++) {
      ntk__sn_pg pg;
      for (i = 0; i < mm * k; i++) top[i] = (ntk_real)((i % k) == a);
      pg.out = out, pg.rs = rs, pg.as = a * as, pg.e0 = e0, pg.lo = 0, pg.jac = 1, pg.jcol = NULL, pg.gbuf = NULL;
      st = ntk__sn_bwd(sn, xe, mm, top, &pg);
    }
  }
  NTK_FREE(top);
  return st;
}

static ntk_status ntk__sn_jacobian(const ntk_net *net, const ntk_real *x, size_t n, ntk_real *jac) {
  ntk__sn sn;
  size_t nkp;
  int ok = 1;
  ntk_status st;
  nkp = ntk__mul(ntk__mul(n, net->outputs, &ok), net->n_params, &ok);
  (void)ntk__mul(nkp, sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(x, n * net->dim)) return NTK_ERR_NON_FINITE;
  if ((st = ntk__sn_init(&sn, net, n, 0)) != NTK_OK) return st;
  st = ntk__sn_jac(&sn, x, n, 0, net->outputs, jac, net->outputs * net->n_params, net->n_params);
  if (st == NTK_OK && !ntk__all_finite(jac, nkp)) st = NTK_ERR_NON_FINITE;
  ntk__sn_free(&sn);
  return st;
}

NTKDEF void ntk_net_free(ntk_net *net) {
  if (!net) return;
  NTK_FREE(net->layers);
  NTK_FREE(net->params);
  NTK_FREE(net->offset);
  memset(net, 0, sizeof *net);
}

/* c = σ_w/√n_in (NTK) or 1 (standard); cb = σ_b or 1 */
static ntk_real ntk__wscale(const ntk_net *net, size_t l) {
  const ntk_layer *L = &net->layers[l];
  return L->param == NTK_PARAM_STANDARD ? 1 : (ntk_real)(L->w_std / sqrt((double)net->width_in[l]));
}
static ntk_real ntk__bscale(const ntk_net *net, size_t l) {
  const ntk_layer *L = &net->layers[l];
  return L->param == NTK_PARAM_STANDARD ? 1 : (ntk_real)L->b_std;
}
static size_t ntk__width_out(const ntk_net *net, size_t l) {
  return l + 1 < net->n_layers ? net->width_in[l + 1] : net->outputs;
}

NTKDEF ntk_status ntk_net_init(ntk_net *net, const ntk_layer *layers, size_t n_layers, size_t dim,
                               uint64_t seed) {
  size_t l, P = 0, i;
  int ok = 1;
  ntk_status st;
  ntk__rng rng;
  ntk__arch A;
  const char *why;
  if (!net) return NTK_ERR_INVALID_ARG;
  memset(net, 0, sizeof *net);
  /* the sizes of the copies below, before the list is read: an n_layers no array can have is
     OVERFLOW, not a read past the caller's array */
  (void)ntk__mul(n_layers, sizeof(ntk_layer), &ok);
  (void)ntk__mul(ntk__mul(n_layers, 2, &ok), sizeof(size_t), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  /* the front end: widths, parameter offsets and bias presence */
  st = ntk__arch_init(&A, layers, n_layers, dim, &l, &why);
  if (st == NTK_OK && dim == 0) st = NTK_ERR_INVALID_ARG;
  /* an MLP ends in Dense; a spatial/branched list may end in anything (k = the output's h·w·c) */
  if (st == NTK_OK && !A.spatial && layers[n_layers - 1].kind != NTK_LAYER_DENSE) st = NTK_ERR_BAD_LAYER;
  for (l = 0; st == NTK_OK && l < n_layers; l++)
    if ((layers[l].kind == NTK_LAYER_DENSE || layers[l].kind == NTK_LAYER_CONV) && layers[l].width == 0) st = NTK_ERR_BAD_LAYER;
  P = A.n_params;
  (void)ntk__mul(P, sizeof(ntk_real), &ok);
  if (st == NTK_OK && (A.params_overflow || !ok)) st = NTK_ERR_OVERFLOW;
  if (st != NTK_OK) { ntk__arch_free(&A); return st; }
  net->layers = (ntk_layer *)NTK_MALLOC(n_layers * sizeof(ntk_layer));
  net->offset = (size_t *)NTK_MALLOC(2 * n_layers * sizeof(size_t));
  net->params = (ntk_real *)NTK_MALLOC((P ? P : 1) * sizeof(ntk_real));
  if (!net->layers || !net->offset || !net->params) {
    ntk__arch_free(&A);
    ntk_net_free(net);
    return NTK_ERR_OUT_OF_MEMORY;
  }
  memcpy(net->layers, layers, n_layers * sizeof(ntk_layer));
  net->width_in = net->offset + n_layers;
  net->n_layers = n_layers, net->dim = dim;
  net->max_width = dim;
  for (l = 0; l < n_layers; l++) {
    net->width_in[l] = A.l[l].in_n;
    net->offset[l] = A.l[l].param_offset;
    if (A.l[l].out_n > net->max_width) net->max_width = A.l[l].out_n;
  }
  net->outputs = A.out[0] * A.out[1] * A.out[2];
  net->n_params = P;
  rng.state = seed, rng.has_spare = 0, rng.spare = 0;
  /* layer by layer, W then b; Conv W (C_out, fh, fw, C_in) row-major; fan-in = C_in (Dense, the
     MLP's input width) or C_in·fh·fw (Conv) */
  for (l = 0; l < n_layers; l++) {
    const ntk_layer *L = &layers[l];
    ntk_real *p = net->params + net->offset[l];
    size_t nw, fan = A.l[l].fan_in;
    double cw = 1, cb = 1;
    if (L->kind != NTK_LAYER_DENSE && L->kind != NTK_LAYER_CONV) continue;
    nw = fan * L->width;
    if (L->param == NTK_PARAM_STANDARD) cw = L->w_std / sqrt((double)fan), cb = L->b_std;
    for (i = 0; i < nw; i++) p[i] = (ntk_real)(cw * ntk__gauss(&rng));
    if (ntk__has_bias(L))
      for (i = 0; i < L->width; i++) p[nw + i] = (ntk_real)(cb * ntk__gauss(&rng));
  }
  ntk__arch_free(&A);
  return NTK_OK;
}

/* Forward pass keeping every layer's input: h[l] (n, width_in[l]), h[L] = f (n, k). One
   allocation; h[0] is a copy of x. */
typedef struct ntk__fwd {
  ntk_real **h;
  ntk_real *mem;
} ntk__fwd;

static void ntk__fwd_free(ntk__fwd *F) {
  NTK_FREE(F->mem);
  NTK_FREE(F->h);
  F->mem = NULL, F->h = NULL;
}

/* elements of the caches for n inputs, n·(Σ width_in + k); *ok cleared when their byte count
   (or that of the n_layers + 1 pointers) overflows */
static size_t ntk__fwd_len(const ntk_net *net, size_t n, int *ok) {
  size_t l, total = 0;
  for (l = 0; l <= net->n_layers; l++)
    total = ntk__add(total, ntk__mul(n, l < net->n_layers ? net->width_in[l] : net->outputs, ok), ok);
  (void)ntk__mul(total, sizeof(ntk_real), ok);
  (void)ntk__mul(ntk__add(net->n_layers, 1, ok), sizeof(ntk_real *), ok);
  return total;
}

static ntk_status ntk__fwd_alloc(const ntk_net *net, size_t n, ntk__fwd *F) {
  size_t l, total;
  int ok = 1;
  F->h = NULL, F->mem = NULL;
  total = ntk__fwd_len(net, n, &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  F->h = (ntk_real **)NTK_MALLOC((net->n_layers + 1) * sizeof(ntk_real *));
  F->mem = (ntk_real *)NTK_MALLOC((total ? total : 1) * sizeof(ntk_real));
  if (!F->h || !F->mem) { ntk__fwd_free(F); return NTK_ERR_OUT_OF_MEMORY; }
  total = 0;
  for (l = 0; l <= net->n_layers; l++) {
    F->h[l] = F->mem + total;
    total += n * (l < net->n_layers ? net->width_in[l] : net->outputs);
  }
  return NTK_OK;
}

/* the forward pass into F, allocated for n by ntk__fwd_alloc (training reuses it every step).
   Non-finite values are not looked for here: each entry point checks what it returns. */
static ntk_status ntk__fwd_run(const ntk_net *net, const ntk_real *x, size_t n, ntk__fwd *F) {
  size_t l, i, j;
  ntk_status st;
  memcpy(F->h[0], x, n * net->dim * sizeof(ntk_real));
  for (l = 0; l < net->n_layers; l++) {
    const ntk_layer *L = &net->layers[l];
    size_t win = net->width_in[l], wout = ntk__width_out(net, l);
    ntk_real *in = F->h[l], *out = F->h[l + 1];
    if (L->kind == NTK_LAYER_DENSE) {
      const ntk_real *W = net->params + net->offset[l];
      st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n, wout, win, ntk__wscale(net, l), in, win, W, win, 0, out, wout);
      if (st != NTK_OK) return st;
      if (ntk__has_bias(L)) {
        const ntk_real *b = W + win * wout;
        ntk_real cb = ntk__bscale(net, l);
        for (i = 0; i < n; i++)
          for (j = 0; j < wout; j++) out[i * wout + j] += cb * b[j];
      }
    } else {
      ntk__act(L, n * win, in, NULL, out);
    }
  }
  return NTK_OK;
}

static ntk_status ntk__forward(const ntk_net *net, const ntk_real *x, size_t n, ntk__fwd *F) {
  ntk_status st = ntk__fwd_alloc(net, n, F);
  if (st == NTK_OK && (st = ntk__fwd_run(net, x, n, F)) != NTK_OK) ntk__fwd_free(F);
  return st;
}

/* Backward pass from G (n, k) = ∂(something)/∂f: at each Dense layer (last to first) calls
   visit(ctx, l, G_l) with G_l (n, width_out) = ∂/∂(layer output), then propagates.
   g0, g1: scratch (n, max_width) each. */
typedef void (*ntk__visit_fn)(void *ctx, size_t l, const ntk_real *G);
static ntk_status ntk__backward(const ntk_net *net, const ntk__fwd *F, size_t n, const ntk_real *Gtop,
                                ntk_real *g0, ntk_real *g1, ntk__visit_fn visit, void *ctx) {
  size_t l;
  ntk_real *G = g0, *Gn = g1, *t;
  ntk_status st;
  memcpy(G, Gtop, n * net->outputs * sizeof(ntk_real));
  for (l = net->n_layers; l-- > 0;) {
    const ntk_layer *L = &net->layers[l];
    size_t win = net->width_in[l], wout = ntk__width_out(net, l);
    if (L->kind == NTK_LAYER_DENSE) {
      visit(ctx, l, G);
      if (l == 0) break;
      st = NTK__GEMM(NTK_NO_TRANS, NTK_NO_TRANS, n, win, wout, ntk__wscale(net, l), G, wout,
                     net->params + net->offset[l], win, 0, Gn, win);
      if (st != NTK_OK) return st;
      t = G, G = Gn, Gn = t;
    } else {
      ntk__act(L, n * win, F->h[l], G, G);
    }
  }
  return NTK_OK;
}


/* scratch for backward passes: two (n, max(max_width, k)) buffers, a (n, k) top gradient and
   `extra` more; ntk__scratch_len clears *ok when the byte count overflows */
static size_t ntk__scratch_len(const ntk_net *net, size_t n, size_t extra, int *ok) {
  size_t mw = net->max_width > net->outputs ? net->max_width : net->outputs;
  size_t sz = ntk__add(ntk__mul(ntk__mul(n, mw, ok), 2, ok), ntk__add(ntk__mul(n, net->outputs, ok), extra, ok), ok);
  (void)ntk__mul(sz, sizeof(ntk_real), ok);
  return sz;
}
static ntk_real *ntk__scratch(const ntk_net *net, size_t n, size_t extra) {
  int ok = 1;
  size_t sz = ntk__scratch_len(net, n, extra, &ok);
  if (!ok) return NULL;
  return (ntk_real *)NTK_MALLOC(sz * sizeof(ntk_real));
}

/* The checks every entry point starts with, before any data is read: a net, x present, and the
   sizes for n inputs — x (n, dim), f (n, k), the forward caches, the backward scratch —
   representable in bytes (a wrapped n·dim would make the finiteness scan read past x). */
static ntk_status ntk__net_check(const ntk_net *net, const ntk_real *x, size_t n) {
  int ok = 1;
  if (!net || !net->params || !net->layers || !net->offset) return NTK_ERR_INVALID_ARG;
  if (n > 0 && !x) return NTK_ERR_INVALID_ARG;
  (void)ntk__mul(ntk__mul(n, net->dim, &ok), sizeof(ntk_real), &ok);
  (void)ntk__fwd_len(net, n, &ok);
  (void)ntk__scratch_len(net, n, 0, &ok);
  return ok ? NTK_OK : NTK_ERR_OVERFLOW;
}
/* ntk__net_check, then x finite */
static ntk_status ntk__net_args(const ntk_net *net, const ntk_real *x, size_t n) {
  ntk_status st = ntk__net_check(net, x, n);
  if (st != NTK_OK) return st;
  return ntk__all_finite(x, n * net->dim) ? NTK_OK : NTK_ERR_NON_FINITE;
}

NTKDEF ntk_status ntk_net_apply(const ntk_net *net, const ntk_real *x, size_t n, ntk_real *f) {
  ntk__fwd F;
  ntk_status st;
  if (net && net->layers && ntk__net_spatial(net)) {
    if ((st = ntk__sn_check(net, x, n)) != NTK_OK) return st;
    if (!ntk__all_finite(x, n * net->dim)) return NTK_ERR_NON_FINITE;
    if (n == 0) return NTK_OK;
    return f ? ntk__sn_apply(net, x, n, NULL, f) : NTK_ERR_INVALID_ARG;
  }
  st = ntk__net_args(net, x, n);
  if (st != NTK_OK) return st;
  if (n == 0) return NTK_OK;
  if (!f) return NTK_ERR_INVALID_ARG;
  if ((st = ntk__forward(net, x, n, &F)) != NTK_OK) return st;
  if (ntk__all_finite(F.h[net->n_layers], n * net->outputs))
    memcpy(f, F.h[net->n_layers], n * net->outputs * sizeof(ntk_real));
  else
    st = NTK_ERR_NON_FINITE; /* f not written */
  ntk__fwd_free(&F);
  return st;
}

typedef struct ntk__jac_ctx {
  const ntk_net *net;
  const ntk__fwd *F;
  size_t n, a;
  ntk_real *jac;
} ntk__jac_ctx;
static void ntk__jac_visit(void *vctx, size_t l, const ntk_real *G) {
  ntk__jac_ctx *c = (ntk__jac_ctx *)vctx;
  const ntk_net *net = c->net;
  size_t win = net->width_in[l], wout = ntk__width_out(net, l), i, o, q, k = net->outputs;
  ntk_real cw = ntk__wscale(net, l), cb = ntk__bscale(net, l);
  const ntk_real *H = c->F->h[l];
  for (i = 0; i < c->n; i++) {
    ntk_real *row = c->jac + (i * k + c->a) * net->n_params + net->offset[l];
    for (o = 0; o < wout; o++) {
      ntk_real g = cw * G[i * wout + o];
      for (q = 0; q < win; q++) row[o * win + q] = g * H[i * win + q];
    }
    if (ntk__has_bias(&net->layers[l]))
      for (o = 0; o < wout; o++) row[wout * win + o] = cb * G[i * wout + o];
  }
}

NTKDEF ntk_status ntk_net_jacobian(const ntk_net *net, const ntk_real *x, size_t n, ntk_real *jac) {
  ntk__fwd F;
  ntk__jac_ctx c;
  ntk_real *s, *top;
  size_t a, k, i, mw, nkp;
  int ok = 1, sp = net && net->layers && ntk__net_spatial(net);
  ntk_status st = sp ? ntk__sn_check(net, x, n) : ntk__net_check(net, x, n);
  if (st != NTK_OK) return st;
  if (n == 0) return NTK_OK;
  if (!jac) return NTK_ERR_INVALID_ARG;
  if (sp) return ntk__sn_jacobian(net, x, n, jac);
  k = net->outputs;
  mw = net->max_width > k ? net->max_width : k;
  nkp = ntk__mul(ntk__mul(n, k, &ok), net->n_params, &ok);
  (void)ntk__mul(nkp, sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(x, n * net->dim)) return NTK_ERR_NON_FINITE;
  if ((st = ntk__forward(net, x, n, &F)) != NTK_OK) return st;
  s = ntk__scratch(net, n, 0);
  if (!s) { ntk__fwd_free(&F); return NTK_ERR_OUT_OF_MEMORY; }
  top = s + 2 * n * mw;
  memset(jac, 0, nkp * sizeof(ntk_real));
  c.net = net, c.F = &F, c.n = n, c.jac = jac;
  for (a = 0; a < k && st == NTK_OK; a++) {
    for (i = 0; i < n * k; i++) top[i] = (ntk_real)((i % k) == a);
    c.a = a;
    st = ntk__backward(net, &F, n, top, s, s + n * mw, ntk__jac_visit, &c);
  }
  if (st == NTK_OK && !ntk__all_finite(jac, nkp)) st = NTK_ERR_NON_FINITE;
  NTK_FREE(s);
  ntk__fwd_free(&F);
  return st;
}

NTKDEF ntk_status ntk_net_apply_linearized(const ntk_net *net, const ntk_real *theta,
                                           const ntk_real *x, size_t n, ntk_real *f) {
  ntk__fwd F;
  ntk_real *t0, *t1, *tmp, *base;
  size_t l, i, j, mw, len, nk;
  int ok = 1, sp = net && net->layers && ntk__net_spatial(net);
  ntk_status st = sp ? ntk__sn_check(net, x, n) : ntk__net_check(net, x, n);
  if (st != NTK_OK) return st;
  if (n == 0) return NTK_OK;
  if (!theta || !f) return NTK_ERR_INVALID_ARG;
  if (sp) {
    if (!ntk__all_finite(x, n * net->dim) || !ntk__all_finite(theta, net->n_params)) return NTK_ERR_NON_FINITE;
    if (!(t0 = (ntk_real *)NTK_MALLOC((net->n_params + 1) * sizeof(ntk_real)))) return NTK_ERR_OUT_OF_MEMORY;
    for (i = 0; i < net->n_params; i++) t0[i] = theta[i] - net->params[i];
    st = ntk__sn_apply(net, x, n, t0, f);
    NTK_FREE(t0);
    return st;
  }
  mw = net->max_width > net->outputs ? net->max_width : net->outputs;
  len = ntk__add(ntk__mul(ntk__mul(n, mw, &ok), 2, &ok), net->n_params, &ok);
  (void)ntk__mul(len, sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(x, n * net->dim) || !ntk__all_finite(theta, net->n_params)) return NTK_ERR_NON_FINITE;
  if ((st = ntk__forward(net, x, n, &F)) != NTK_OK) return st;
  base = t0 = (ntk_real *)NTK_MALLOC(len * sizeof(ntk_real));
  if (!t0) { ntk__fwd_free(&F); return NTK_ERR_OUT_OF_MEMORY; }
  t1 = t0 + n * mw;
  {
    ntk_real *dth = t1 + n * mw; /* θ − θ0 */
    for (i = 0; i < net->n_params; i++) dth[i] = theta[i] - net->params[i];
    memset(t0, 0, n * net->dim * sizeof(ntk_real)); /* ẋ = 0 */
    for (l = 0; l < net->n_layers && st == NTK_OK; l++) {
      const ntk_layer *L = &net->layers[l];
      size_t win = net->width_in[l], wout = ntk__width_out(net, l);
      if (L->kind == NTK_LAYER_DENSE) {
        ntk_real cw = ntk__wscale(net, l);
        /* ż = c·(h·Ẇᵀ + ḣ·Wᵀ) + c_b·ḃ */
        st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n, wout, win, cw, F.h[l], win, dth + net->offset[l], win, 0, t1, wout);
        if (st == NTK_OK)
          st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n, wout, win, cw, t0, win, net->params + net->offset[l], win, 1, t1, wout);
        if (ntk__has_bias(L)) {
          const ntk_real *db = dth + net->offset[l] + win * wout;
          ntk_real cb = ntk__bscale(net, l);
          for (i = 0; i < n; i++)
            for (j = 0; j < wout; j++) t1[i * wout + j] += cb * db[j];
        }
      } else {
        ntk__act(L, n * win, F.h[l], t0, t1);
      }
      tmp = t0, t0 = t1, t1 = tmp;
    }
  }
  /* f(θ0) + J·(θ − θ0) in the scratch first: f is written only when all of it is finite */
  nk = n * net->outputs;
  if (st == NTK_OK) {
    for (i = 0; i < nk; i++) t0[i] += F.h[net->n_layers][i];
    if (ntk__all_finite(t0, nk)) memcpy(f, t0, nk * sizeof(ntk_real));
    else st = NTK_ERR_NON_FINITE;
  }
  NTK_FREE(base);
  ntk__fwd_free(&F);
  return st;
}


/* ---- empirical kernels ------------------------------------------------------------------- */
/* Structured NTK (Novak et al. 2022): per Dense layer l with inputs H_l and output gradients
   G_l^a (for output a), Θ̂_ab = Σ_l (c_l²·H_l H_lᵀ + c_b²) ⊙ (G_l^a G_l^bᵀ). The Jacobian is never
   formed: memory is the forward caches O(n·Σwidth), the gradients of every layer for one output
   (all outputs for the full kernel), and one n1×n2 matrix per Dense layer (P_l) besides the
   output. */
typedef struct ntk__entk_ctx {
  const ntk_net *net;
  int which;           /* 0: storing gradients of x1, 1: of x2 */
  size_t n[2], a, k;
  int full;
  ntk_real **G[2];     /* [side][l]: gradients at Dense layer l, (n, k_rows·wout) */
} ntk__entk_ctx;

static void ntk__entk_visit(void *vctx, size_t l, const ntk_real *G) {
  ntk__entk_ctx *c = (ntk__entk_ctx *)vctx;
  size_t wout = ntk__width_out(c->net, l), n = c->n[c->which], i;
  ntk_real *dst = c->G[c->which][l];
  if (!c->full) {
    memcpy(dst, G, n * wout * sizeof(ntk_real));
    return;
  }
  /* full: row i·k + a of a (n·k, wout) matrix */
  for (i = 0; i < n; i++) memcpy(dst + (i * c->k + c->a) * wout, G + i * wout, wout * sizeof(ntk_real));
}

/* The empirical NNGP into nngp (R1, R2) from the forward caches F[0], F[1] (F[1] = F[0] when
   symmetric). T: an (n1, n2) scratch, needed only by the full conditional kernel. */
static ntk_status ntk__entk_nngp(const ntk_net *net, const ntk__fwd *F, size_t n1, size_t n2, int full,
                                 int conditional, ntk_real *T, ntk_real *nngp) {
  const ntk_real *f1 = F[0].h[net->n_layers], *f2 = F[1].h[net->n_layers];
  size_t lr = net->n_layers - 1, k = net->outputs, R2 = full ? n2 * k : n2, i, j, a, b; /* lr: the readout */
  const ntk_real *h1 = F[0].h[lr], *h2 = F[1].h[lr];
  size_t win = net->width_in[lr];
  const ntk_layer *L = &net->layers[lr];
  ntk_status st;
  if (conditional) { /* σ_w²/n_L·h·h′ + σ_b², δ_ab in the full kernel */
    ntk_real c2 = (ntk_real)(L->w_std * L->w_std / (double)win), b2 = (ntk_real)(ntk__bstd(L) * ntk__bstd(L));
    if (!full) T = nngp;
    if ((st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, win, c2, h1, win, h2, win, 0, T, n2)) != NTK_OK) return st;
    for (i = 0; i < n1 * n2; i++) T[i] += b2;
    if (full)
      for (i = 0; i < n1; i++)
        for (a = 0; a < k; a++)
          for (j = 0; j < n2; j++)
            for (b = 0; b < k; b++) nngp[(i * k + a) * R2 + j * k + b] = a == b ? T[i * n2 + j] : 0;
    return NTK_OK;
  }
  if (full) { /* f_a(x1)·f_b(x2): rows i·k+a */
    for (i = 0; i < n1 * k; i++)
      for (j = 0; j < n2 * k; j++) nngp[i * R2 + j] = f1[i] * f2[j];
    return NTK_OK;
  }
  return NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, k, (ntk_real)(1.0 / (double)k), f1, k, f2, k, 0, nngp, n2);
}

/* The reference NTK J1·J2ᵀ into ntk (R1, R2); ntk__entk_jac_ok: do its Jacobians' byte counts
   fit (n·k checked by ntk__net_check)? */
static int ntk__entk_jac_ok(const ntk_net *net, size_t n1, size_t n2) {
  int ok = 1;
  (void)ntk__mul(ntk__mul(ntk__add(ntk__add(n1 * net->outputs, n2 * net->outputs, &ok), 2, &ok), net->n_params, &ok),
                 sizeof(ntk_real), &ok);
  return ok;
}
static ntk_status ntk__entk_jacobian(const ntk_net *net, const ntk_real *x1, size_t n1, const ntk_real *x2,
                                     size_t n2, int sym, int full, ntk_real *ntk) {
  ntk_real *J1, *J2;
  size_t P = net->n_params, k = net->outputs, R1 = full ? n1 * k : n1, R2 = full ? n2 * k : n2, a;
  ntk_status st;
  if (!ntk__entk_jac_ok(net, n1, n2)) return NTK_ERR_OVERFLOW;
  J1 = (ntk_real *)NTK_MALLOC((n1 * k * P + 1) * sizeof(ntk_real));
  J2 = sym ? J1 : (ntk_real *)NTK_MALLOC((n2 * k * P + 1) * sizeof(ntk_real));
  if (!J1 || !J2) { NTK_FREE(J1); if (!sym) NTK_FREE(J2); return NTK_ERR_OUT_OF_MEMORY; }
  st = ntk_net_jacobian(net, x1, n1, J1);
  if (st == NTK_OK && !sym) st = ntk_net_jacobian(net, x2, n2, J2);
  if (st == NTK_OK && full)
    st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, R1, R2, P, 1, J1, P, J2, P, 0, ntk, R2);
  else /* (1/k) Σ_a J1[:, a, :]·J2[:, a, :]ᵀ: rows of output a are strided by k·P */
    for (a = 0; a < k && st == NTK_OK; a++)
      st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, P, (ntk_real)(1.0 / (double)k), J1 + a * P, k * P,
                     J2 + a * P, k * P, a ? 1 : 0, ntk, n2);
  NTK_FREE(J1);
  if (!sym) NTK_FREE(J2);
  return st;
}

/* The structured NTK into ntk (R1, R2). Every buffer is allocated before ntk is written. The
   traced kernel's 1/k is applied to each layer's term (T = G Gᵀ/k), not to the sum over outputs,
   which could overflow while the average does not. */
/* The structured NTK's buffer sizes (elements): the gradients gsz[side] of every Dense layer,
   the P_l (nd = n1·n2·#Dense); *ok cleared when any byte count overflows. */
static void ntk__entk_sizes(const ntk_net *net, size_t n1, size_t n2, int full, size_t gsz[2], size_t *nd, int *ok) {
  size_t l, side, ndense = 0, k = net->outputs, krows = full ? k : 1;
  size_t RR = ntk__mul(full ? ntk__mul(n1, k, ok) : n1, full ? ntk__mul(n2, k, ok) : n2, ok);
  gsz[0] = gsz[1] = 0;
  for (l = 0; l < net->n_layers; l++)
    if (net->layers[l].kind == NTK_LAYER_DENSE) ndense++;
  for (side = 0; side < 2; side++)
    for (l = 0; l < net->n_layers; l++)
      if (net->layers[l].kind == NTK_LAYER_DENSE)
        gsz[side] = ntk__add(gsz[side], ntk__mul(ntk__mul(side ? n2 : n1, krows, ok), ntk__width_out(net, l), ok), ok);
  *nd = ntk__mul(ntk__mul(n1, n2, ok), ndense, ok);
  (void)ntk__mul(ntk__add(ntk__add(ntk__add(gsz[0], gsz[1], ok), 3, ok), ntk__add(*nd, RR, ok), ok), sizeof(ntk_real), ok);
  (void)ntk__scratch_len(net, n1 > n2 ? n1 : n2, 0, ok);
  (void)ntk__mul(ntk__mul(net->n_layers, 2, ok), sizeof(ntk_real *), ok);
}

static ntk_status ntk__entk_structured(const ntk_net *net, const ntk__fwd *F, size_t n1, size_t n2, int sym,
                                       int full, ntk_real *ntk) {
  ntk__entk_ctx c;
  ntk_real *gmem = NULL, *scratch = NULL, *Pmem = NULL, *T = NULL, *top, *ptr;
  ntk_real *Gl[2][64], **G0 = Gl[0], **G1 = Gl[1];
  size_t k = net->outputs, R1 = full ? n1 * k : n1, R2 = full ? n2 * k : n2, l, i, j, a;
  size_t mw = net->max_width > k ? net->max_width : k, krows = full ? k : 1, side, nd, nmax = n1 > n2 ? n1 : n2;
  size_t gsz[2];
  ntk_real s1 = full ? 1 : (ntk_real)(1.0 / (double)k);
  int ok = 1;
  ntk_status st = NTK_OK;
  ntk__entk_sizes(net, n1, n2, full, gsz, &nd, &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (net->n_layers > 64) {
    G0 = (ntk_real **)NTK_MALLOC(2 * net->n_layers * sizeof(ntk_real *));
    if (!G0) return NTK_ERR_OUT_OF_MEMORY;
    G1 = G0 + net->n_layers;
  }
  gmem = (ntk_real *)NTK_MALLOC((gsz[0] + (sym ? 0 : gsz[1]) + 1) * sizeof(ntk_real));
  scratch = ntk__scratch(net, nmax, 0);
  Pmem = (ntk_real *)NTK_MALLOC((nd + 1) * sizeof(ntk_real));
  T = (ntk_real *)NTK_MALLOC((R1 * R2 + 1) * sizeof(ntk_real));
  if (!gmem || !scratch || !Pmem || !T) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  ptr = gmem;
  for (side = 0; side < (size_t)(sym ? 1 : 2); side++)
    for (l = 0; l < net->n_layers; l++)
      if (net->layers[l].kind == NTK_LAYER_DENSE) {
        (side ? G1 : G0)[l] = ptr;
        ptr += (side ? n2 : n1) * krows * ntk__width_out(net, l);
      }
  if (sym) for (l = 0; l < net->n_layers; l++) G1[l] = G0[l];
  /* P_l = c²·H1 H2ᵀ + c_b² (lower triangle only when symmetric) */
  ptr = Pmem;
  for (l = 0; l < net->n_layers; l++) {
    size_t win = net->width_in[l];
    ntk_real cw, cb;
    if (net->layers[l].kind != NTK_LAYER_DENSE) continue;
    cw = ntk__wscale(net, l), cb = ntk__has_bias(&net->layers[l]) ? ntk__bscale(net, l) : 0;
    if (sym) st = NTK__SYRK(NTK_LOWER, NTK_NO_TRANS, n1, win, cw * cw, F[0].h[l], win, 0, ptr, n1);
    else st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, win, cw * cw, F[0].h[l], win, F[1].h[l], win, 0, ptr, n2);
    if (st != NTK_OK) goto done;
    for (i = 0; i < n1; i++)
      for (j = 0; j < (sym ? i + 1 : n2); j++) ptr[i * n2 + j] += cb * cb;
    if (sym && full) /* the full kernel reads P everywhere */
      for (i = 0; i < n1; i++)
        for (j = i + 1; j < n1; j++) ptr[i * n1 + j] = ptr[j * n1 + i];
    ptr += n1 * n2;
  }
  c.net = net, c.k = k, c.full = full, c.n[0] = n1, c.n[1] = n2, c.G[0] = G0, c.G[1] = G1;
  top = scratch + 2 * nmax * mw;
  for (i = 0; i < R1 * R2; i++) ntk[i] = 0;
  for (a = 0; a < k; a++) {
    for (side = 0; side < (size_t)(sym ? 1 : 2); side++) {
      size_t nn = side ? n2 : n1;
      for (i = 0; i < nn * k; i++) top[i] = (ntk_real)((i % k) == a);
      c.which = (int)side, c.a = a;
      if ((st = ntk__backward(net, &F[side], nn, top, scratch, scratch + nmax * mw, ntk__entk_visit, &c)) != NTK_OK)
        goto done;
    }
    if (full && a + 1 < k) continue; /* the full kernel needs every output's gradients first */
    ptr = Pmem;
    for (l = 0; l < net->n_layers; l++) {
      size_t wout = ntk__width_out(net, l);
      if (net->layers[l].kind != NTK_LAYER_DENSE) continue;
      if (sym && !full) st = NTK__SYRK(NTK_LOWER, NTK_NO_TRANS, n1, wout, s1, G0[l], wout, 0, T, n1);
      else st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, R1, R2, wout, s1, G0[l], wout, G1[l], wout, 0, T, R2);
      if (st != NTK_OK) goto done;
      if (full) {
        for (i = 0; i < R1; i++)
          for (j = 0; j < R2; j++) ntk[i * R2 + j] += ptr[(i / k) * n2 + j / k] * T[i * R2 + j];
      } else {
        for (i = 0; i < n1; i++)
          for (j = 0; j < (sym ? i + 1 : n2); j++) ntk[i * n2 + j] += ptr[i * n2 + j] * T[i * n2 + j];
      }
      ptr += n1 * n2;
    }
  }
  if (sym && !full)
    for (i = 0; i < n1; i++)
      for (j = i + 1; j < n1; j++) ntk[i * n1 + j] = ntk[j * n1 + i];
done:
  if (G0 != Gl[0]) NTK_FREE(G0);
  NTK_FREE(gmem), NTK_FREE(scratch), NTK_FREE(Pmem), NTK_FREE(T);
  return st;
}

/* The structured empirical NTK of a spatial/branched list (ntk_entk_desc.method STRUCTURED),
   traced Θ = (1/k)·Σ_a Σ_l Θ_l^{aa} or full Θ_{ab} = Σ_l Θ_l^{ab}, each Dense/Conv layer l
   through the cheaper of two exact forms, chosen from their flop counts (S positions, fan-in F,
   C_out channels, b = 1 with a bias, nn examples, pp pairs, kk = k output pairs traced, k²
   full):
   - Jacobian block: J_l^a(x) = c·G_a(x)ᵀ·U(x) (+ c_b·Σ_s G_a) per example and output, rows of
     the J-block layers side by side, Θ += J·Jᵀ (SYRK): nn·k·2S·C_out·F + pp·kk·2C_out(F + b);
   - pair form: Σ_{s,t} (c²·U U′ᵀ + c_b²)_{st}·(G_a G′_bᵀ)_{st}, U U′ᵀ once, G G′ᵀ per output
     pair: pp·(2S²F + kk·S²(2C_out + 2)), taken when cheaper and (S = 1 or) its n1·n2·S² Gram
     holds no more than the layer's Jacobian rows. Dense layers on vectors (S = 1) take it
     nearly always.
   One forward pass per example: the outputs of every Dense/Conv layer are kept (checkpoints,
   Σ h·w·C_out values per example) and the other layers — elementwise, pools, LayerNorm, fan-ins
   — are recomputed from them before each backward pass. Traced, the passes go output by
   output and each output's rows (n × the J-block columns: 1/k of the Jacobian) are contracted
   before the next. Full, every output's rows are needed at once: the J-block layers are cut,
   top down in list order, into groups of at most a quarter of the Jacobian's values (a layer
   larger than that is a group alone); each group takes one backward pass per example and
   output that stops below the group's lowest layer (in a CNN the layers above a group are the
   small late ones, so the repeated part is cheap), then one SYRK of its (n·k) rows. Memory: the
   kernel, the checkpoints, the largest group's rows, the pair layers' U and G rows and Grams.
   Threads run over tiles of examples (the GEMM tile grid of ntk__sn, so results do not depend
   on the thread count or net->chunk), each with its own engine and single-threaded GEMMs; the
   contractions are threaded GEMM/SYRK calls. */
#define NTK__ENTK_JBLOCK ((ntk_entk_method)16) /* tests: every layer as a Jacobian block */
#define NTK__ENTK_PAIR ((ntk_entk_method)17)   /* tests: every layer in the pair form */
#define NTK__SN_GROUP_PART 4                   /* full: a group holds at most 1/4 of J's values */

typedef struct ntk__sn_tr {
  ntk__sn *eng;          /* (T) engines, one tile each */
  ntk_real *top;         /* (T, g·k) seeds */
  size_t T, CK, k, kk, nl; /* threads, checkpoint values per example, outputs, outputs held at once (full k, traced 1), layers */
  size_t lo, rs, as;     /* the pass: its lowest layer, J row stride, output column offset */
  size_t *ck, *col, *grp, *jcol; /* (nl): checkpoint offset; J column in its group (NTK__NONE pair form, NTK__SKIP none); group; the pass's columns */
  ntk_real **ub[2], **gb[2], **gp[2], **pu; /* (nl) per side: U rows, G rows of pair layers (kk outputs), the pass's G rows; Grams */
  ntk_real *store[2], *J[2];
} ntk__sn_tr;

/* the per-layer rule above: does the pair form cost fewer flops than the Jacobian block (and,
   for S > 1, hold no more memory)? full: every output pair is contracted */
static int ntk__sn_pair_form(size_t S, size_t F, size_t Co, size_t b, size_t k, size_t n1, size_t n2, int sym, int full) {
  double dS = (double)S, nn = sym ? (double)n1 : (double)n1 + (double)n2, dk = (double)k, kk = full ? dk * dk : dk;
  double pp = sym ? 0.5 * (double)n1 * ((double)n1 + 1) : (double)n1 * (double)n2;
  double jb = nn * dk * 2 * dS * (double)Co * (double)F + pp * kk * 2 * (double)Co * (double)(F + b);
  double pr = pp * (2 * dS * dS * (double)F + kk * dS * dS * (2 * (double)Co + 2));
  return pr < jb && (S == 1 || (double)n1 * (double)n2 * dS * dS <= nn * (double)Co * (double)(F + b));
}

/* one tile of examples [e0, e0 + te) of a side: phase 0, the forward pass, its checkpoints and
   the pair layers' U rows; phase 1, the forward values rebuilt from the checkpoints, the
   backward pass of output a into the pass's J rows and G rows */
static ntk_status ntk__sn_tr_tile(ntk__sn_tr *tr, ntk__sn *sn, int side, const ntk_real *x, size_t e0, size_t te,
                                  int phase, size_t a, ntk_real *top) {
  size_t l, i, CK = tr->CK, k = tr->k;
  const ntk_real *xe = x + e0 * sn->net->dim;
  ntk_real *store = tr->store[side];
  ntk__sn_pg pg;
  ntk_status st = NTK_OK;
  for (l = 0; l < sn->nl && st == NTK_OK; l++) {
    size_t on = sn->A.l[l].out_n;
    ntk_real *Y;
    if (sn->src[l] != l) continue;
    Y = ntk__sn_buf(sn, sn->cache, xe, l);
    if (phase && tr->ck[l] != NTK__NONE) {
      for (i = 0; i < te; i++) memcpy(Y + i * on, store + (e0 + i) * CK + tr->ck[l], on * sizeof(ntk_real));
      continue;
    }
    st = ntk__sn_layer(sn, l, te, xe, NULL, 0);
    if (!phase && tr->ck[l] != NTK__NONE)
      for (i = 0; i < te; i++) memcpy(store + (e0 + i) * CK + tr->ck[l], Y + i * on, on * sizeof(ntk_real));
  }
  if (st != NTK_OK) return st;
  if (!phase) {
    for (l = 0; l < sn->nl; l++) {
      const ntk__arch_layer *R = &sn->A.l[l];
      size_t S = R->out[0] * R->out[1], F = R->fan_in;
      ntk_real *X = ntk__sn_buf(sn, sn->cache, xe, ntk__sn_in(sn, l)), *U;
      if (!tr->ub[side][l]) continue;
      U = tr->ub[side][l] + e0 * S * F;
      if (sn->net->layers[l].kind == NTK_LAYER_CONV) ntk__sn_im2col(R, sn->net->layers[l].padding == NTK_PAD_CIRCULAR, X, 0, te, U, 0);
      else memcpy(U, X, te * S * F * sizeof(ntk_real));
    }
    return NTK_OK;
  }
  for (i = 0; i < te * k; i++) top[i] = (ntk_real)((i % k) == a);
  pg.out = tr->J[side], pg.gbuf = tr->gp[side], pg.rs = tr->rs, pg.as = tr->as, pg.e0 = e0, pg.lo = tr->lo;
  pg.jcol = tr->jcol, pg.jac = 1;
  return ntk__sn_bwd(sn, xe, te, top, &pg);
}

/* every tile of a side, over the threads */
static ntk_status ntk__sn_tr_pass(ntk__sn_tr *tr, int side, const ntk_real *x, size_t n, int phase, size_t a) {
  size_t g = tr->eng[0].g, ntile = (n + g - 1) / g;
  long q;
  int err = 0, T = (int)tr->T;
#ifdef NTK__OMP
#pragma omp parallel for num_threads(T) schedule(dynamic, 1) reduction(min : err) if (T > 1)
#endif
  for (q = 0; q < (long)ntile; q++) {
    int tid = 0;
    size_t e0 = (size_t)q * g, te = n - e0 < g ? n - e0 : g;
    ntk_status s;
#ifdef NTK__OMP
    tid = omp_get_thread_num();
#endif
    s = ntk__sn_tr_tile(tr, &tr->eng[tid], side, x, e0, te, phase, a, tr->top + (size_t)tid * g * tr->k);
    if ((int)s < err) err = (int)s;
  }
  (void)T;
  return (ntk_status)err;
}

static void ntk__sn_tr_free(ntk__sn_tr *tr) {
  size_t t, l;
  if (tr->eng)
    for (t = 0; t < tr->T; t++) ntk__sn_free(&tr->eng[t]);
  if (tr->ub[0])
    for (l = 0; l < tr->nl; l++) {
      NTK_FREE(tr->ub[0][l]), NTK_FREE(tr->ub[1][l]), NTK_FREE(tr->gb[0][l]), NTK_FREE(tr->gb[1][l]);
      NTK_FREE(tr->pu[l]);
    }
  NTK_FREE(tr->ub[0]);
  NTK_FREE(tr->store[0]), NTK_FREE(tr->J[0]);
  if (tr->J[1] != tr->J[0]) NTK_FREE(tr->J[1]);
  NTK_FREE(tr->ck), NTK_FREE(tr->top), NTK_FREE(tr->eng);
}

/* a pair layer's term for outputs (a, b): Σ_{s,t} Pu ⊙ (G_a G′_bᵀ) into entry (i, j) —
   traced (a = b) ntk[i·n2 + j]·1/k, full ntk[(i·k + a)·n2k + j·k + b]; sym: the lower
   triangle of the result only */
static ntk_status ntk__sn_tr_pairterm(const ntk__sn_tr *tr, size_t l, size_t S, size_t Co, size_t n1, size_t n2, int sym,
                                      int full, size_t a, size_t b, ntk_real s1, ntk_real *Tg, ntk_real *ntk) {
  size_t W2 = n2 * S, i, j, s, q, k = tr->k, R2 = full ? n2 * k : n2;
  const ntk_real *Pu = tr->pu[l], *G1 = tr->gb[0][l] + (full ? a : 0) * n1 * S * Co;
  const ntk_real *G2 = (sym ? tr->gb[0][l] : tr->gb[1][l]) + (full ? b : 0) * n2 * S * Co;
  ntk_status st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1 * S, W2, Co, 1, G1, Co, G2, Co, 0, Tg, W2);
  for (i = 0; i < n1 && st == NTK_OK; i++)
    for (j = 0; j < (sym ? i + 1 : n2); j++) {
      ntk_real acc = 0;
      if (sym && full && j == i && b > a) continue; /* upper triangle */
      for (s = 0; s < S; s++)
        for (q = 0; q < S; q++) acc += Pu[(i * S + s) * W2 + j * S + q] * Tg[(i * S + s) * W2 + j * S + q];
      if (full) ntk[(i * k + a) * R2 + j * k + b] += acc;
      else ntk[i * n2 + j] += s1 * acc;
    }
  return st;
}

/* the structured NTK into ntk, traced (n1, n2) or full (n1·k, n2·k); sym: x2 = x1, the lower
   triangle computed and mirrored */
static ntk_status ntk__sn_entk_str(const ntk_net *net, const ntk_real *x1, size_t n1, const ntk_real *x2, size_t n2,
                                   int sym, int full, ntk_entk_method method, ntk_real *ntk) {
  ntk__sn_tr tr;
  ntk__sn tmp;
  size_t nl, l, g, ntile, t, a, b, i, j, q, nn, side, nside = sym ? 1 : 2, ns[2], tg = 0, ng = 0, gi, PJmax = 0;
  size_t R1 = full ? n1 * net->outputs : n1, R2 = full ? n2 * net->outputs : n2, jtot = 0, jmax = 0, budget, used, lowest;
  size_t *gpj = NULL;
  const ntk_real *xs[2];
  ntk_real s1 = (ntk_real)(1.0 / (double)net->outputs), *Tg = NULL;
  int ok = 1;
  ntk_status st;
  memset(&tr, 0, sizeof tr);
  tr.k = net->outputs, tr.kk = full ? tr.k : 1;
  xs[0] = x1, xs[1] = x2, ns[0] = n1, ns[1] = sym ? 0 : n2;
  if ((st = ntk__sn_layout(&tmp, net, 1, 0, &t)) != NTK_OK) return st;
  g = tmp.g, nl = tr.nl = tmp.nl;
  ntile = ((n1 > n2 ? n1 : n2) + g - 1) / g;
  tr.T = (size_t)ntk__max_threads();
  if (tr.T > ntile) tr.T = ntile;
  if (tr.T < 1) tr.T = 1;
  tr.ck = (size_t *)NTK_MALLOC((5 * nl + 1) * sizeof(size_t));
  tr.ub[0] = (ntk_real **)NTK_MALLOC(7 * nl * sizeof(ntk_real *));
  tr.eng = (ntk__sn *)NTK_MALLOC(tr.T * sizeof(ntk__sn));
  tr.top = (ntk_real *)NTK_MALLOC((tr.T * g * tr.k + 1) * sizeof(ntk_real));
  if (tr.eng) memset(tr.eng, 0, tr.T * sizeof(ntk__sn));
  if (tr.ub[0]) { /* before any failure: ntk__sn_tr_free reads these */
    for (i = 0; i < 7 * nl; i++) tr.ub[0][i] = NULL;
    tr.ub[1] = tr.ub[0] + nl, tr.gb[0] = tr.ub[0] + 2 * nl, tr.gb[1] = tr.ub[0] + 3 * nl;
    tr.gp[0] = tr.ub[0] + 4 * nl, tr.gp[1] = tr.ub[0] + 5 * nl, tr.pu = tr.ub[0] + 6 * nl;
  }
  if (!tr.ck || !tr.ub[0] || !tr.eng || !tr.top) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  tr.col = tr.ck + nl, tr.grp = tr.ck + 2 * nl, tr.jcol = tr.ck + 3 * nl, gpj = tr.ck + 4 * nl;
  nn = n1 + ns[1];
  /* each layer's form, its checkpoint and its Jacobian columns */
  for (l = 0; l < nl && st == NTK_OK; l++) {
    const ntk__arch_layer *R = &tmp.A.l[l];
    ntk_layer_kind kd = net->layers[l].kind;
    size_t S = R->out[0] * R->out[1], F = R->fan_in, Co = net->layers[l].width, bb = R->has_bias ? 1 : 0, w;
    int pair;
    tr.ck[l] = tr.grp[l] = NTK__NONE, tr.col[l] = NTK__SKIP;
    if (tmp.src[l] != l || (kd != NTK_LAYER_DENSE && kd != NTK_LAYER_CONV)) continue;
    tr.ck[l] = tr.CK, tr.CK = ntk__add(tr.CK, R->out_n, &ok);
    pair = method == NTK__ENTK_PAIR ||
           (method != NTK__ENTK_JBLOCK && ntk__sn_pair_form(S, F, Co, bb, tr.k, n1, n2, sym, full));
    if (!pair) {
      w = ntk__mul(Co, F + bb, &ok), tr.col[l] = w; /* its width for now */
      jtot = ntk__add(jtot, w, &ok);
      if (w > jmax) jmax = w;
      continue;
    }
    tr.col[l] = NTK__NONE;
    q = ntk__mul(ntk__mul(n1, S, &ok), ntk__mul(n2, S, &ok), &ok);
    if (q > tg) tg = q;
    (void)ntk__mul(q + 1, sizeof(ntk_real), &ok);
    for (side = 0; side < nside && ok; side++) { /* U (ns·S·F) and G (ns·S·Co·kk) */
      size_t nu = ntk__mul(ntk__mul(ns[side], S, &ok), F, &ok), ng_ = ntk__mul(ntk__mul(ntk__mul(ns[side], S, &ok), Co, &ok), tr.kk, &ok);
      (void)ntk__mul(nu + 1, sizeof(ntk_real), &ok), (void)ntk__mul(ng_ + 1, sizeof(ntk_real), &ok);
      if (!ok) break;
      tr.ub[side][l] = (ntk_real *)NTK_MALLOC((nu + 1) * sizeof(ntk_real));
      tr.gb[side][l] = (ntk_real *)NTK_MALLOC((ng_ + 1) * sizeof(ntk_real));
      if (!tr.ub[side][l] || !tr.gb[side][l]) st = NTK_ERR_OUT_OF_MEMORY;
    }
    if (!ok) st = NTK_ERR_OVERFLOW;
    else if (!(tr.pu[l] = (ntk_real *)NTK_MALLOC((q + 1) * sizeof(ntk_real)))) st = NTK_ERR_OUT_OF_MEMORY;
  }
  /* groups, top down: traced, one; full, J-block layers while their columns fit the budget */
  budget = full ? jtot / NTK__SN_GROUP_PART + 1 : jtot + 1;
  if (budget < jmax) budget = jmax;
  for (l = nl, used = 0; l-- > 0;) {
    size_t w = tr.col[l];
    if (w == NTK__SKIP) continue;
    if (w != NTK__NONE) {
      if (ng == 0 || used + w > budget) gpj[ng++] = 0, used = 0;
      used += w, tr.col[l] = gpj[ng - 1], gpj[ng - 1] += w;
      if (gpj[ng - 1] > PJmax) PJmax = gpj[ng - 1];
    } else if (ng == 0) gpj[ng++] = 0, used = 0; /* a pair layer joins the group its pass reaches it in */
    tr.grp[l] = ng - 1;
  }
  (void)ntk__mul(ntk__add(ntk__mul(nn, ntk__add(tr.CK, ntk__mul(tr.kk, PJmax, &ok), &ok), &ok), tg, &ok), sizeof(ntk_real), &ok);
  if (st == NTK_OK && !ok) st = NTK_ERR_OVERFLOW;
  if (st != NTK_OK) goto done;
  tr.store[0] = (ntk_real *)NTK_MALLOC((nn * tr.CK + 1) * sizeof(ntk_real));
  tr.store[1] = tr.store[0] ? tr.store[0] + n1 * tr.CK : NULL;
  tr.J[0] = (ntk_real *)NTK_MALLOC((n1 * tr.kk * PJmax + 1) * sizeof(ntk_real));
  tr.J[1] = sym ? tr.J[0] : (ntk_real *)NTK_MALLOC((n2 * tr.kk * PJmax + 1) * sizeof(ntk_real));
  Tg = (ntk_real *)NTK_MALLOC((tg + 1) * sizeof(ntk_real));
  if (!tr.store[0] || !tr.J[0] || !tr.J[1] || !Tg) { st = NTK_ERR_OUT_OF_MEMORY; goto done; }
  for (t = 0; t < tr.T && st == NTK_OK; t++) st = ntk__sn_init(&tr.eng[t], net, g, 0);
  /* the forward pass once per example; the pair layers' Grams c²·U U′ᵀ + c_b² */
  for (side = 0; side < nside && st == NTK_OK; side++) st = ntk__sn_tr_pass(&tr, (int)side, xs[side], ns[side], 0, 0);
  for (l = 0; l < nl && st == NTK_OK; l++) {
    const ntk__arch_layer *R = &tmp.A.l[l];
    size_t S = R->out[0] * R->out[1], F = R->fan_in;
    ntk_real c = ntk__sn_c(&tmp, l), cb = R->has_bias ? ntk__sn_cb(&tmp, l) : 0;
    if (!tr.pu[l]) continue;
    st = NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1 * S, n2 * S, F, c * c, tr.ub[0][l], F, tr.ub[sym ? 0 : 1][l], F, 0, tr.pu[l], n2 * S);
    for (i = 0; i < n1 * S * n2 * S && cb != 0; i++) tr.pu[l][i] += cb * cb;
  }
  if (st == NTK_OK) memset(ntk, 0, R1 * R2 * sizeof(ntk_real));
  /* per group, per output: the backward passes down to the group's lowest layer; traced, each
     output's J·Jᵀ/k and pair terms at once; full, the group's J·Jᵀ and pair terms at its end */
  for (gi = 0; gi < ng && st == NTK_OK; gi++) {
    size_t PJg = gpj[gi], Rg1 = n1 * tr.kk, Rg2 = n2 * tr.kk;
    for (lowest = NTK__NONE, l = 0; l < nl; l++) {
      tr.jcol[l] = tr.grp[l] == gi ? tr.col[l] : NTK__SKIP;
      if (tr.grp[l] == gi && lowest == NTK__NONE) lowest = l;
    }
    tr.lo = lowest, tr.rs = tr.kk * PJg;
    for (a = 0; a < tr.k && st == NTK_OK; a++) {
      tr.as = full ? a * PJg : 0;
      for (side = 0; side < nside; side++)
        for (l = 0; l < nl; l++) tr.gp[side][l] = tr.gb[side][l] ? tr.gb[side][l] + (full ? a : 0) * ns[side] * tmp.A.l[l].out[0] * tmp.A.l[l].out[1] * net->layers[l].width : NULL;
      for (side = 0; side < nside && st == NTK_OK; side++) st = ntk__sn_tr_pass(&tr, (int)side, xs[side], ns[side], 1, a);
      if (full || st != NTK_OK) continue;
      if (PJg) st = sym ? NTK__SYRK(NTK_LOWER, NTK_NO_TRANS, n1, PJg, s1, tr.J[0], PJg, 1, ntk, n1)
                        : NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, n1, n2, PJg, s1, tr.J[0], PJg, tr.J[1], PJg, 1, ntk, n2);
      for (l = 0; l < nl && st == NTK_OK; l++)
        if (tr.pu[l] && tr.grp[l] == gi)
          st = ntk__sn_tr_pairterm(&tr, l, tmp.A.l[l].out[0] * tmp.A.l[l].out[1], net->layers[l].width, n1, n2, sym, 0, a, a, s1, Tg, ntk);
    }
    if (!full || st != NTK_OK) continue;
    if (PJg) st = sym ? NTK__SYRK(NTK_LOWER, NTK_NO_TRANS, Rg1, PJg, 1, tr.J[0], PJg, 1, ntk, R1)
                      : NTK__GEMM(NTK_NO_TRANS, NTK_TRANS, Rg1, Rg2, PJg, 1, tr.J[0], PJg, tr.J[1], PJg, 1, ntk, R2);
    for (l = 0; l < nl && st == NTK_OK; l++)
      if (tr.pu[l] && tr.grp[l] == gi)
        for (a = 0; a < tr.k && st == NTK_OK; a++)
          for (b = 0; b < tr.k && st == NTK_OK; b++)
            st = ntk__sn_tr_pairterm(&tr, l, tmp.A.l[l].out[0] * tmp.A.l[l].out[1], net->layers[l].width, n1, n2, sym, 1, a, b, s1, Tg, ntk);
  }
  if (st == NTK_OK && sym)
    for (i = 0; i < R1; i++)
      for (j = i + 1; j < R1; j++) ntk[i * R1 + j] = ntk[j * R1 + i];
done:
  NTK_FREE(Tg);
  ntk__sn_tr_free(&tr);
  ntk__sn_free(&tmp);
  return st;
}

/* Empirical kernels of a spatial/branched list: the structured NTK, ntk__sn_entk_str; method
   JACOBIAN, J·Jᵀ, ntk__entk_jacobian. The NNGP from the outputs (conditional: the readout's
   input, for a Dense readout on a vector). Forward caches are per chunk. */
static ntk_status ntk__sn_entk(const ntk_net *net, const ntk_real *x1, size_t n1, const ntk_real *x2, size_t n2,
                               int sym, int full, int cond, ntk_entk_method method, ntk_real *nngp, ntk_real *ntk) {
  ntk__sn sn;
  size_t k = net->outputs;
  size_t lr = net->n_layers - 1, hn, len;
  ntk_real *fh = NULL, **hp = NULL, *T = NULL;
  ntk__fwd F[2];
  int ok = 1;
  ntk_status st;
  if ((st = ntk__sn_layout(&sn, net, n1 > n2 ? n1 : n2, 0, &len)) != NTK_OK) return st;
  hn = sn.A.l[lr].in_n;
  if (cond && nngp && (net->layers[lr].kind != NTK_LAYER_DENSE || sn.A.l[lr].in[0] * sn.A.l[lr].in[1] != 1 ||
                       ntk__sn_in(&sn, lr) == NTK__NONE))
    st = NTK_ERR_UNSUPPORTED; /* the conditional NNGP needs a Dense readout on a vector */
  (void)ntk__mul(ntk__mul(ntk__add(n1, n2, &ok), ntk__add(k, hn, &ok), &ok), sizeof(ntk_real), &ok);
  if (st == NTK_OK && !ok) st = NTK_ERR_OVERFLOW;
  ntk__sn_free(&sn);
  /* the NNGP's inputs first (every example's outputs and readout inputs, through an engine
     released before the NTK's memory is taken), so that nothing after the NTK is written can
     run out of memory: the NNGP itself is GEMMs on them (without packing memory, the direct path) */
  if (st == NTK_OK && nngp) {
    fh = (ntk_real *)NTK_MALLOC(((n1 + n2) * (k + hn) + 1) * sizeof(ntk_real));
    hp = (ntk_real **)NTK_MALLOC(2 * (net->n_layers + 1) * sizeof(ntk_real *));
    if (cond && full) T = (ntk_real *)NTK_MALLOC((n1 * n2 + 1) * sizeof(ntk_real));
    if (!fh || !hp || (cond && full && !T)) st = NTK_ERR_OUT_OF_MEMORY;
  }
  if (st == NTK_OK && nngp) st = ntk__sn_init(&sn, net, n1 > n2 ? n1 : n2, 0);
  if (st == NTK_OK && nngp) { /* the MLP code's NNGP on views of the outputs and readout inputs */
    ntk_real *f1 = fh, *f2 = sym ? fh : fh + n1 * k, *h1 = fh + (n1 + n2) * k, *h2 = sym ? h1 : h1 + n1 * hn;
    memset(hp, 0, 2 * (net->n_layers + 1) * sizeof(ntk_real *));
    F[0].h = hp, F[1].h = hp + net->n_layers + 1, F[0].mem = F[1].mem = NULL;
    F[0].h[net->n_layers] = f1, F[0].h[lr] = h1, F[1].h[net->n_layers] = f2, F[1].h[lr] = h2;
    st = ntk__sn_outputs(&sn, x1, n1, NULL, f1, h1);
    if (st == NTK_OK && !sym) st = ntk__sn_outputs(&sn, x2, n2, NULL, f2, h2);
  }
  ntk__sn_free(&sn);
  if (st == NTK_OK && ntk && method == NTK_ENTK_JACOBIAN) st = ntk__entk_jacobian(net, x1, n1, x2, n2, sym, full, ntk);
  else if (st == NTK_OK && ntk) st = ntk__sn_entk_str(net, x1, n1, x2, n2, sym, full, method, ntk);
  if (st == NTK_OK && nngp) st = ntk__entk_nngp(net, F, n1, n2, full, cond, T, nngp);
  NTK_FREE(T);
  NTK_FREE(fh), NTK_FREE(hp);
  return st;
}

/* ½·mean squared error (loss ≠ NULL: that only) or full-batch gradient descent, chunk by chunk:
   the gradient is summed over the chunks' tiles in example order */
/* one pass of ntk__sn_train over the examples on T > 1 threads: tiles of examples (the GEMM
   tile grid) over per-thread engines, tile q's gradient added into the accumulator of thread
   q mod T (a static schedule: the same sums whatever the timing), the accumulators then summed
   in order into grad; f − y and f go to d (2·n·k) for the caller's loss, summed in example
   order as on one thread */
static ntk_status ntk__sn_train_pass(ntk__sn *eng, size_t T, const ntk_real *x, const ntk_real *y, size_t n, int back,
                                     ntk_real *acc, ntk_real *grad, ntk_real *top, ntk_real *d) {
  size_t g = eng[0].g, ntile = (n + g - 1) / g, k = eng[0].k, P = eng[0].P, N = n * k, t, i;
  long q;
  int err = 0, nt = (int)T;
  if (back) memset(acc, 0, T * P * sizeof(ntk_real));
#ifdef NTK__OMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) reduction(min : err)
#endif
  for (q = 0; q < (long)ntile; q++) {
    int tid = 0;
    size_t e0 = (size_t)q * g, te = n - e0 < g ? n - e0 : g, a;
    const ntk_real *xe = x + e0 * eng[0].net->dim, *f;
    ntk_real *tp;
    ntk__sn *sn;
    ntk__sn_pg pg;
    ntk_status s;
#ifdef NTK__OMP
    tid = omp_get_thread_num();
#endif
    sn = &eng[tid], tp = top + (size_t)tid * g * k;
    if ((s = ntk__sn_fwd(sn, xe, te, NULL)) == NTK_OK) {
      f = ntk__sn_buf(sn, sn->cache, xe, sn->src[sn->nl - 1]);
      for (a = 0; a < te * k; a++) {
        d[e0 * k + a] = f[a] - y[e0 * k + a], d[N + e0 * k + a] = f[a];
        tp[a] = (ntk_real)(((double)f[a] - (double)y[e0 * k + a]) / (double)N);
      }
      pg.out = acc + (size_t)tid * P, pg.rs = pg.as = pg.e0 = pg.lo = 0, pg.jac = 0, pg.jcol = NULL, pg.gbuf = NULL;
      if (back) s = ntk__sn_bwd(sn, xe, te, tp, &pg);
    }
    if ((int)s < err) err = (int)s;
  }
  (void)nt;
  if (err == 0 && back)
    for (i = 0; i < P; i++) {
      ntk_real sm = acc[i];
      for (t = 1; t < T; t++) sm += acc[t * P + i];
      grad[i] = sm;
    }
  return (ntk_status)err;
}

static ntk_status ntk__sn_train(ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n, double lr,
                                size_t steps, const ntk_train_desc *dd, double *loss_only) {
  ntk__sn sn, *eng = NULL;
  ntk_real *grad = NULL, *top = NULL, *acc = NULL, *dv = NULL;
  size_t step, i, e0, k = net->outputs, N = n * k, P = net->n_params, T = (size_t)ntk__max_threads(), t;
  double sc = sqrt(0.5 / (double)N);
  ntk_status st = ntk__sn_init(&sn, net, n, 0);
  if (st != NTK_OK) return st;
  /* several threads: over tiles of examples, one engine (one tile) each, instead of inside the
     GEMMs of per-example shapes (2 threads there took 8x the CPU time of one, measured) */
  if (T > (n + sn.g - 1) / sn.g) T = (n + sn.g - 1) / sn.g;
  if (T > 1) {
    size_t g = sn.g;
    ntk__sn_free(&sn);
    eng = (ntk__sn *)NTK_MALLOC(T * sizeof(ntk__sn));
    if (!eng) return NTK_ERR_OUT_OF_MEMORY;
    memset(eng, 0, T * sizeof(ntk__sn));
    for (t = 0; t < T && st == NTK_OK; t++) st = ntk__sn_init(&eng[t], net, g, 0);
    acc = (ntk_real *)NTK_MALLOC((T * P + 1) * sizeof(ntk_real));
    dv = (ntk_real *)NTK_MALLOC((2 * N + 1) * sizeof(ntk_real));
    if (st == NTK_OK && (!acc || !dv)) st = NTK_ERR_OUT_OF_MEMORY;
    sn = eng[0];
  }
  grad = (ntk_real *)NTK_MALLOC((P + 1) * sizeof(ntk_real));
  top = (ntk_real *)NTK_MALLOC(((T > 1 ? T : 1) * sn.m * k + 1) * sizeof(ntk_real));
  if (st == NTK_OK && (!grad || !top)) st = NTK_ERR_OUT_OF_MEMORY;
  for (step = 0; step <= steps && st == NTK_OK; step++) {
    double loss, sum = 0, sums = 0;
    int back = !loss_only && step < steps;
    ntk__sn_pg pg;
    if (!loss_only && step == steps && !dd->callback) {
      if (!ntk__all_finite(net->params, P)) st = NTK_ERR_NON_FINITE;
      break;
    }
    if (back) memset(grad, 0, P * sizeof(ntk_real));
    pg.out = grad, pg.rs = pg.as = pg.e0 = pg.lo = 0, pg.jac = 0, pg.jcol = NULL, pg.gbuf = NULL;
    if (T > 1 && (st = ntk__sn_train_pass(eng, T, x, y, n, back, acc, grad, top, dv)) == NTK_OK)
      for (i = 0; i < N; i++) {
        double d2 = (double)dv[i], ds = (double)dv[N + i] * sc - (double)y[i] * sc;
        sum += d2 * d2, sums += ds * ds;
      }
    for (e0 = 0; T <= 1 && e0 < n && st == NTK_OK; e0 += sn.m) {
      size_t mm = n - e0 < sn.m ? n - e0 : sn.m;
      const ntk_real *xe = x + e0 * net->dim, *f, *ye = y + e0 * k;
      if ((st = ntk__sn_fwd(&sn, xe, mm, NULL)) != NTK_OK) break;
      f = ntk__sn_buf(&sn, sn.cache, xe, sn.src[sn.nl - 1]);
      for (i = 0; i < mm * k; i++) {
        double d = (double)f[i] - (double)ye[i], ds = (double)f[i] * sc - (double)ye[i] * sc;
        sum += d * d, sums += ds * ds;
        top[i] = (ntk_real)(d / (double)N);
      }
      if (back) st = ntk__sn_bwd(&sn, xe, mm, top, &pg);
    }
    if (st != NTK_OK) break;
    loss = 0.5 * sum / (double)N;
    if (!ntk__finite_d(loss)) loss = sums; /* Σd² overflowed, the mean may not have */
    if (loss_only) {
      if (!ntk__finite_d(loss)) st = NTK_ERR_NON_FINITE;
      else *loss_only = loss;
      break;
    }
    if (step == steps && ntk__finite(loss) && !ntk__all_finite(net->params, P)) loss = NAN;
    if (!ntk__finite(loss)) {
      st = NTK_ERR_NON_FINITE;
      if (dd->callback) (void)dd->callback(step, loss, dd->user);
      break;
    }
    if (dd->callback && (step % dd->every == 0 || step == steps) && dd->callback(step, loss, dd->user)) {
      st = NTK_ERR_CANCELLED;
      break;
    }
    if (step == steps) break;
    for (i = 0; i < P; i++) net->params[i] -= (ntk_real)lr * grad[i];
  }
  NTK_FREE(grad), NTK_FREE(top), NTK_FREE(acc), NTK_FREE(dv);
  if (eng) {
    for (t = 0; t < T; t++) ntk__sn_free(&eng[t]);
    NTK_FREE(eng);
  } else {
    ntk__sn_free(&sn);
  }
  return st;
}

NTKDEF ntk_status ntk_net_empirical_kernel_ex(const ntk_net *net, const ntk_real *x1, size_t n1,
                                              const ntk_real *x2, size_t n2, int full,
                                              ntk_real *nngp, ntk_real *ntk,
                                              const ntk_entk_desc *desc) {
  ntk_entk_desc dd;
  int sym = x2 == NULL, ok = 1;
  size_t k, R1, R2, RR, gsz[2], nd;
  ntk_status st;
  ntk__fwd F[2];
  ntk_real *T = NULL;
  if (desc) dd = *desc; else memset(&dd, 0, sizeof dd);
  if (sym) x2 = x1, n2 = n1;
  if (net && net->layers && ntk__net_spatial(net)) {
    if ((st = ntk__sn_check(net, x1, n1)) != NTK_OK || (!sym && (st = ntk__sn_check(net, x2, n2)) != NTK_OK)) return st;
    if ((full != 0 && full != 1) ||
        (dd.method != NTK_ENTK_STRUCTURED && dd.method != NTK_ENTK_JACOBIAN && dd.method != NTK__ENTK_JBLOCK &&
         dd.method != NTK__ENTK_PAIR) ||
        (dd.nngp_conditional != 0 && dd.nngp_conditional != 1))
      return NTK_ERR_INVALID_ARG;
    k = net->outputs;
    RR = ntk__mul(full ? ntk__mul(n1, k, &ok) : n1, full ? ntk__mul(n2, k, &ok) : n2, &ok);
    (void)ntk__mul(ntk__add(RR, 1, &ok), sizeof(ntk_real), &ok);
    if (!ok) return NTK_ERR_OVERFLOW;
    if (!ntk__all_finite(x1, n1 * net->dim) || (!sym && !ntk__all_finite(x2, n2 * net->dim))) return NTK_ERR_NON_FINITE;
    if (n1 == 0 || n2 == 0 || (!nngp && !ntk)) return NTK_OK;
    st = ntk__sn_entk(net, x1, n1, x2, n2, sym, full, dd.nngp_conditional, dd.method, nngp, ntk);
    if (st == NTK_OK && ((ntk && !ntk__all_finite(ntk, RR)) || (nngp && !ntk__all_finite(nngp, RR))))
      st = NTK_ERR_NON_FINITE;
    return st;
  }
  if ((st = ntk__net_check(net, x1, n1)) != NTK_OK) return st;
  if (!sym && (st = ntk__net_check(net, x2, n2)) != NTK_OK) return st;
  if ((full != 0 && full != 1) || (dd.method != NTK_ENTK_STRUCTURED && dd.method != NTK_ENTK_JACOBIAN) ||
      (dd.nngp_conditional != 0 && dd.nngp_conditional != 1))
    return NTK_ERR_INVALID_ARG;
  /* every size before the inputs are read */
  k = net->outputs;
  R1 = full ? ntk__mul(n1, k, &ok) : n1, R2 = full ? ntk__mul(n2, k, &ok) : n2;
  RR = ntk__mul(R1, R2, &ok);
  (void)ntk__mul(ntk__add(RR, 1, &ok), sizeof(ntk_real), &ok);
  if (ok && ntk && dd.method == NTK_ENTK_STRUCTURED) ntk__entk_sizes(net, n1, n2, full, gsz, &nd, &ok);
  if (ok && ntk && dd.method == NTK_ENTK_JACOBIAN) ok = ntk__entk_jac_ok(net, n1, n2);
  if (!ok) return NTK_ERR_OVERFLOW;
  if (!ntk__all_finite(x1, n1 * net->dim) || (!sym && !ntk__all_finite(x2, n2 * net->dim))) return NTK_ERR_NON_FINITE;
  if (n1 == 0 || n2 == 0 || (!nngp && !ntk)) return NTK_OK;
  memset(F, 0, sizeof F);
  if ((st = ntk__forward(net, x1, n1, &F[0])) != NTK_OK) return st;
  if (!sym && (st = ntk__forward(net, x2, n2, &F[1])) != NTK_OK) { ntk__fwd_free(&F[0]); return st; }
  if (sym) F[1] = F[0];
  /* every allocation and every step that can fail comes before the first write to nngp: the NTK
     first, then the NNGP (its only failure is a GEMM that cannot fail with these arguments) */
  if (nngp && dd.nngp_conditional && full && !(T = (ntk_real *)NTK_MALLOC((n1 * n2 + 1) * sizeof(ntk_real))))
    st = NTK_ERR_OUT_OF_MEMORY;
  if (st == NTK_OK && ntk)
    st = dd.method == NTK_ENTK_JACOBIAN ? ntk__entk_jacobian(net, x1, n1, x2, n2, sym, full, ntk)
                                        : ntk__entk_structured(net, F, n1, n2, sym, full, ntk);
  if (st == NTK_OK && nngp) st = ntk__entk_nngp(net, F, n1, n2, full, dd.nngp_conditional, T, nngp);
  if (st == NTK_OK && ((ntk && !ntk__all_finite(ntk, RR)) || (nngp && !ntk__all_finite(nngp, RR))))
    st = NTK_ERR_NON_FINITE;
  NTK_FREE(T);
  ntk__fwd_free(&F[0]);
  if (!sym) ntk__fwd_free(&F[1]);
  return st;
}

NTKDEF ntk_status ntk_net_empirical_kernel(const ntk_net *net, const ntk_real *x1, size_t n1,
                                           const ntk_real *x2, size_t n2, int full,
                                           ntk_real *nngp, ntk_real *ntk) {
  return ntk_net_empirical_kernel_ex(net, x1, n1, x2, n2, full, nngp, ntk, NULL);
}

/* one step of a running mean, m ← m + (x − m)/(s + 1): never beyond max |x| (a plain sum of the
   samples can overflow while their mean does not); when x − m overflows (opposite signs near
   the top of the range), m·s/(s + 1) + x/(s + 1) instead */
static ntk_real ntk__mean_step(ntk_real m, ntk_real x, size_t s) {
  ntk_real d = x - m, c = (ntk_real)s + 1;
  return ntk__finite((double)d) ? m + d / c : m / c * (ntk_real)s + x / c;
}

NTKDEF ntk_status ntk_monte_carlo_kernel(const ntk_layer *layers, size_t n_layers,
                                         const ntk_real *x1, size_t n1, const ntk_real *x2,
                                         size_t n2, size_t dim, uint64_t seed, size_t samples,
                                         ntk_real *nngp, ntk_real *ntk) {
  size_t s, i, nn;
  ntk_real *K = NULL, *T = NULL;
  ntk_status st = NTK_OK;
  int ok = 1;
  if (samples == 0) return NTK_ERR_INVALID_ARG;
  if (!x2) n2 = n1;
  nn = ntk__mul(n1, n2, &ok);
  (void)ntk__mul(ntk__add(nn, 1, &ok), sizeof(ntk_real), &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  K = nngp ? (ntk_real *)NTK_MALLOC((nn + 1) * sizeof(ntk_real)) : NULL;
  T = ntk ? (ntk_real *)NTK_MALLOC((nn + 1) * sizeof(ntk_real)) : NULL;
  if ((nngp && !K) || (ntk && !T)) { NTK_FREE(K); NTK_FREE(T); return NTK_ERR_OUT_OF_MEMORY; }
  /* without outputs one network still checks the arguments */
  for (s = 0; s < (nngp || ntk ? samples : 1) && st == NTK_OK; s++) {
    ntk_net net;
    if ((st = ntk_net_init(&net, layers, n_layers, dim, seed + s)) != NTK_OK) break;
    st = ntk_net_empirical_kernel(&net, x1, n1, x2, n2, 0, K, T);
    ntk_net_free(&net);
    if (st != NTK_OK) break;
    for (i = 0; i < nn; i++) {
      if (nngp) nngp[i] = s ? ntk__mean_step(nngp[i], K[i], s) : K[i];
      if (ntk) ntk[i] = s ? ntk__mean_step(ntk[i], T[i], s) : T[i];
    }
  }
  /* each sample is finite (the empirical kernel checks it) and so is their mean up to a rounding
     at the very top of the range: this scan is what makes that certain */
  if (st == NTK_OK && ((nngp && !ntk__all_finite(nngp, nn)) || (ntk && !ntk__all_finite(ntk, nn))))
    st = NTK_ERR_NON_FINITE;
  NTK_FREE(K), NTK_FREE(T);
  return st;
}

/* ---- training ----------------------------------------------------------------------------- */
typedef struct ntk__grad_ctx {
  const ntk_net *net;
  const ntk__fwd *F;
  size_t n;
  ntk_real *grad;
  ntk_status st; /* the first failing GEMM's status */
} ntk__grad_ctx;
static void ntk__grad_visit(void *vctx, size_t l, const ntk_real *G) {
  ntk__grad_ctx *c = (ntk__grad_ctx *)vctx;
  const ntk_net *net = c->net;
  size_t win = net->width_in[l], wout = ntk__width_out(net, l), i, o;
  ntk_real *g = c->grad + net->offset[l];
  /* dW = c·Gᵀ·H (wout, win), db = c_b·Σ_i G */
  ntk_status st = NTK__GEMM(NTK_TRANS, NTK_NO_TRANS, wout, win, c->n, ntk__wscale(net, l), G, wout, c->F->h[l], win, 0, g, win);
  if (st != NTK_OK && c->st == NTK_OK) c->st = st;
  if (ntk__has_bias(&net->layers[l])) {
    ntk_real cb = ntk__bscale(net, l);
    for (o = 0; o < wout; o++) {
      ntk_real acc = 0;
      for (i = 0; i < c->n; i++) acc += G[i * wout + o];
      g[wout * win + o] = cb * acc;
    }
  }
}

static double ntk__residual(const ntk_net *net, const ntk__fwd *F, const ntk_real *y, size_t n, ntk_real *r) {
  size_t i, N = n * net->outputs;
  double loss = 0;
  const ntk_real *f = F->h[net->n_layers];
  for (i = 0; i < N; i++) {
    double d = (double)f[i] - (double)y[i];
    loss += d * d;
    if (r) r[i] = (ntk_real)(d / (double)N);
  }
  loss = 0.5 * loss / (double)N;
  if (!ntk__finite_d(loss)) { /* Σd² overflowed, the mean may not have: Σ (d·√(1/2N))² instead */
    double sc = sqrt(0.5 / (double)N);
    loss = 0;
    for (i = 0; i < N; i++) {
      double d = (double)f[i] * sc - (double)y[i] * sc;
      loss += d * d;
    }
  }
  return loss;
}

NTKDEF ntk_status ntk_net_loss(const ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                               double *loss) {
  ntk__fwd F;
  double l;
  int sp = net && net->layers && ntk__net_spatial(net);
  ntk_status st = sp ? ntk__sn_check(net, x, n) : ntk__net_args(net, x, n);
  if (st != NTK_OK) return st;
  if (sp && !ntk__all_finite(x, n * net->dim)) return NTK_ERR_NON_FINITE;
  if (n == 0 || !y || !loss) return NTK_ERR_INVALID_ARG;
  if (!ntk__all_finite(y, n * net->outputs)) return NTK_ERR_NON_FINITE;
  if (sp) return ntk__sn_train((ntk_net *)(uintptr_t)net, x, y, n, 0, 0, NULL, loss);
  if ((st = ntk__forward(net, x, n, &F)) != NTK_OK) return st;
  l = ntk__residual(net, &F, y, n, NULL);
  ntk__fwd_free(&F);
  if (!ntk__finite_d(l)) return NTK_ERR_NON_FINITE; /* *loss not written */
  *loss = l;
  return NTK_OK;
}

NTKDEF ntk_status ntk_net_train_ex(ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                                   double lr, size_t steps, const ntk_train_desc *desc) {
  ntk_train_desc dd;
  ntk__fwd F;
  ntk_real *scratch, *grad, *top;
  size_t step, i, mw;
  int sp = net && net->layers && ntk__net_spatial(net);
  ntk_status st = sp ? ntk__sn_check(net, x, n) : ntk__net_args(net, x, n);
  if (st != NTK_OK) return st;
  if (sp && !ntk__all_finite(x, n * net->dim)) return NTK_ERR_NON_FINITE;
  if (n == 0 || !y || !ntk__finite(lr) || lr < 0) return NTK_ERR_INVALID_ARG;
  if (!ntk__all_finite(y, n * net->outputs)) return NTK_ERR_NON_FINITE;
  if (desc) dd = *desc; else memset(&dd, 0, sizeof dd);
  if (dd.every == 0) dd.every = 1;
  if (sp) return ntk__sn_train(net, x, y, n, lr, steps, &dd, NULL);
  mw = net->max_width > net->outputs ? net->max_width : net->outputs;
  scratch = ntk__scratch(net, n, net->n_params);
  if (!scratch) return NTK_ERR_OUT_OF_MEMORY;
  top = scratch + 2 * n * mw, grad = top + n * net->outputs;
  if ((st = ntk__fwd_alloc(net, n, &F)) != NTK_OK) { NTK_FREE(scratch); return st; }
  for (step = 0; step <= steps; step++) { /* one allocation for all steps */
    ntk__grad_ctx c;
    double loss;
    if (step == steps && !dd.callback) { /* the final loss is only for the callback */
      if (!ntk__all_finite(net->params, net->n_params)) st = NTK_ERR_NON_FINITE;
      break;
    }
    if ((st = ntk__fwd_run(net, x, n, &F)) != NTK_OK) break;
    loss = ntk__residual(net, &F, y, n, top);
    /* on the bits (survives -ffast-math); a NaN parameter can hide behind a finite loss (a
       ReLU maps a NaN pre-activation to 0), so the final parameters are checked too (once:
       every step would cost +24 % instructions at n = 1) */
    if (step == steps && ntk__finite(loss) && !ntk__all_finite(net->params, net->n_params)) loss = NAN;
    if (!ntk__finite(loss)) {
      st = NTK_ERR_NON_FINITE;
      if (dd.callback) (void)dd.callback(step, loss, dd.user);
      break;
    }
    if (dd.callback && (step % dd.every == 0 || step == steps) && dd.callback(step, loss, dd.user)) {
      st = NTK_ERR_CANCELLED;
      break;
    }
    if (step == steps) break;
    memset(grad, 0, net->n_params * sizeof(ntk_real));
    c.net = net, c.F = &F, c.n = n, c.grad = grad, c.st = NTK_OK;
    if ((st = ntk__backward(net, &F, n, top, scratch, scratch + n * mw, ntk__grad_visit, &c)) != NTK_OK ||
        (st = c.st) != NTK_OK)
      break;
    for (i = 0; i < net->n_params; i++) net->params[i] -= (ntk_real)lr * grad[i];
  }
  ntk__fwd_free(&F);
  NTK_FREE(scratch);
  return st;
}

NTKDEF ntk_status ntk_net_train(ntk_net *net, const ntk_real *x, const ntk_real *y, size_t n,
                                double lr, size_t steps) {
  return ntk_net_train_ex(net, x, y, n, lr, steps, NULL);
}

#endif /* NTK_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 the ntk.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/
