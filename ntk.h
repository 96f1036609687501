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
   EXAMPLE (C = A·Bᵀ, a Gram matrix of the rows of X)
   ---------------------------------------------------------------------------------------------
       double X[3 * 2] = {1, 2, 3, 4, 5, 6}, G[3 * 3];
       ntk_status s = ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, 3, 3, 2, 1.0, X, 2, X, 2, 0.0, G, 3);
       if (s != NTK_OK) fprintf(stderr, "%s\n", ntk_status_string(s));

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

   ---------------------------------------------------------------------------------------------
   CONVENTIONS
   ---------------------------------------------------------------------------------------------
   Arrays are row-major; sizes are size_t; every function that can fail returns ntk_status
   (NTK_OK = 0, errors negative, ntk_status_string() names them) and never prints, exits or
   aborts. Nothing is written to an output array unless the call's arguments are valid.
   The linear algebra follows CBLAS (row-major) semantics: beta = 0 never reads C.

   Threads: with -fopenmp the GEMM uses omp_get_max_threads() threads (OMP_NUM_THREADS);
   every entry point is reentrant (no global mutable state beyond the once-computed CPU level).

   ---------------------------------------------------------------------------------------------
   WHAT ntk.h DOES NOT DO (YET)
   ---------------------------------------------------------------------------------------------
   Complex numbers, GPUs, convolutional layers, column-major arguments.
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
#define NTKDEF static
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
  X(NTK_ERR_NON_FINITE, -4, "non-finite value (NaN or Inf) in the input")                     \
  X(NTK_ERR_NOT_POSITIVE_DEFINITE, -5,                                                        \
    "matrix is not positive definite (add diag_reg to the kernel)")                           \
  X(NTK_ERR_NO_CONVERGENCE, -6, "iteration did not converge")                                 \
  X(NTK_ERR_BAD_LAYER, -7, "invalid layer (unknown kind or bad hyper-parameter)")             \
  X(NTK_ERR_UNSUPPORTED, -8, "operation not supported for this configuration")

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

#if defined(NTK_MALLOC) != defined(NTK_FREE)
#error "ntk.h: define both NTK_MALLOC and NTK_FREE, or neither"
#endif
#ifndef NTK_MALLOC
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

#if defined(__GNUC__) || defined(__clang__)
#define NTK__PRAGMA(x) _Pragma(#x)
#define NTK__UNROLL(n) NTK__PRAGMA(GCC unroll n)
#define NTK__ALIGNED(n) __attribute__((aligned(n)))
#define NTK__PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#define NTK__PREFETCH_R(p) __builtin_prefetch((p), 0, 3)
#else
#define NTK__PREFETCH_R(p) ((void)(p))
#define NTK__PREFETCH_W(p) ((void)(p))
#define NTK__UNROLL(n)
#define NTK__ALIGNED(n)
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

/* 64-byte aligned allocation on top of NTK_MALLOC; the original pointer sits just below. */
static void *ntk__alloc_aligned(size_t bytes) {
  int ok = 1;
  size_t total = ntk__add(bytes, 64 + sizeof(void *), &ok);
  unsigned char *raw, *p;
  if (!ok) return NULL;
  raw = (unsigned char *)NTK_MALLOC(total);
  if (!raw) return NULL;
  p = raw + sizeof(void *);
  p += (64 - ((uintptr_t)p & 63)) & 63;
  memcpy(p - sizeof(void *), &raw, sizeof(void *));
  return p;
}
static void ntk__free_aligned(void *p) {
  void *raw;
  if (!p) return;
  memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof(void *));
  NTK_FREE(raw);
}

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
     nc over columns in blocks of NB        B block (KC, NB) packed per thread (its own L2)
     ir over MR rows                        A micro-panel (MR, KC) stays in L1
     jr over NR columns                     B micro-panels stream from L2
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
  size_t nb;     /* columns of a B block: KC·NB in L2 */
  size_t mb;     /* rows of an A block: MB·KC in L3 */
} ntk__gemm_kernel;

#define NTK__MR_MAX 16
#define NTK__NR_MAX 64

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

/* The per-ISA block-size table. Cache roles as above; figures tuned by bench/ sweeps.
   scalar: conservative; avx2: Zen 3 / Haswell-class (L1d 32 KiB, L2 512 KiB);
   avx512: Sapphire-Rapids-class (L1d 48 KiB, L2 2 MiB); neon: Cortex-A7x-class. */
static const ntk__gemm_kernel ntk__kernels_s[4] = {
    {"scalar", ntk__sgemm_scalar_4x8, 4, 8, 256, 128, 1024},
#ifdef NTK__BUILD_X86
    {"avx2", ntk__sgemm_avx2_6x16, 6, 16, 256, 128, 2048},
    {"avx512", ntk__sgemm_avx512_8x48, 8, 48, 384, 672, 2048},
#else
    {NULL, NULL, 0, 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0},
#endif
#ifdef NTK__BUILD_NEON
    {"neon", ntk__sgemm_neon_8x12, 8, 12, 256, 384, 2048},
#else
    {NULL, NULL, 0, 0, 0, 0, 0},
#endif
};
static const ntk__gemm_kernel ntk__kernels_d[4] = {
    {"scalar", ntk__dgemm_scalar_4x8, 4, 8, 256, 64, 1024},
#ifdef NTK__BUILD_X86
    {"avx2", ntk__dgemm_avx2_6x8, 6, 8, 256, 192, 2048},
    {"avx512", ntk__dgemm_avx512_8x24, 8, 24, 256, 480, 2048},
#else
    {NULL, NULL, 0, 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0},
#endif
#ifdef NTK__BUILD_NEON
    {"neon", ntk__dgemm_neon_8x6, 8, 6, 256, 192, 2048},
#else
    {NULL, NULL, 0, 0, 0, 0, 0},
#endif
};

/* ---- typed helpers: packing, edge stores, scaling, the _ref spec -------------------------- */
/* Element (i, p) of op(X) is X[i·rs + p·cs]. */
#define NTK__GEMM_TYPED(T, S)                                                                  \
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
      } else {                                                                                 \
        for (j = 0; j < w; j++)                                                                \
          for (p = 0; p < kc; p++) dst[p * nr + j] = s0[j * cs + p * rs];                      \
        if (w < nr)                                                                            \
          for (p = 0; p < kc; p++)                                                             \
            for (j = w; j < nr; j++) dst[p * nr + j] = 0;                                      \
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
   when there are fewer column blocks than threads the rows of the A block are split too. */
static void ntk__gemm_run(const ntk__gemm_job *jb, char *pa, char *pb_all, int nthreads) {
  const ntk__gemm_kernel *kr = jb->kr;
  size_t es = jb->ty->es, m = jb->m, n = jb->n, k = jb->k;
  size_t kcmax = kr->kc, mbmax = kr->mb, nb = kr->nb;
  size_t mc, pc, pb_stride = ((kcmax * nb * es + 63) & ~(size_t)63);
  /* with several threads, narrow the column blocks so that every thread gets one */
  if (nthreads > 1 && (n + nb - 1) / nb < (size_t)nthreads) {
    size_t per = (n + (size_t)nthreads - 1) / (size_t)nthreads;
    per = (per + kr->nr - 1) / kr->nr * kr->nr;
    if (per < nb) nb = per;
  }
  for (mc = 0; mc < m; mc += mbmax) {
    size_t mh = m - mc < mbmax ? m - mc : mbmax;
    size_t ncb = (n + nb - 1) / nb, parts = 1, units;
    /* lower triangle: columns beyond the block's last row are never needed */
    size_t ncols = jb->tri == 1 ? (mc + mh < n ? mc + mh : n) : n;
    size_t cstart = jb->tri == 2 ? mc / nb * nb : 0;
    ncb = (ncols + nb - 1) / nb;
    if (ncb - cstart / nb < (size_t)nthreads) parts = (size_t)nthreads;
    units = (ncb - cstart / nb) * parts;
    for (pc = 0; pc < k; pc += kcmax) {
      size_t kc = k - pc < kcmax ? k - pc : kcmax;
      double beta = pc == 0 ? jb->beta : 1.0;
      const char *asrc = jb->A + (mc * jb->rsa + pc * jb->csa) * es;
      size_t npanel = (mh + kr->mr - 1) / kr->mr;
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
        for (q = 0; q < (long)npanel; q++) {
          size_t r = (size_t)q * kr->mr, hh = mh - r < kr->mr ? mh - r : kr->mr;
          jb->ty->pack_a(pa + r * kc * es, asrc + r * jb->rsa * es, jb->rsa, jb->csa, hh, kc,
                         kr->mr);
        }
        {
          char *pb = pb_all + (size_t)tid * pb_stride;
          size_t packed = (size_t)-1;
#ifdef NTK__OMP
#pragma omp for schedule(dynamic, 1)
#endif
          for (u = 0; u < (long)units; u++) {
            size_t cb = cstart / nb + (size_t)u / parts, part = (size_t)u % parts;
            size_t c0 = cb * nb, w = ncols - c0 < nb ? ncols - c0 : nb;
            size_t rows_per = (npanel + parts - 1) / parts * kr->mr;
            size_t rlo = part * rows_per, rhi = rlo + rows_per < mh ? rlo + rows_per : mh;
            if (rlo >= rhi) continue;
            if (packed != cb) {
              jb->ty->pack_b(pb, jb->B + (pc * jb->rsb + c0 * jb->csb) * es, jb->rsb, jb->csb,
                             kc, w, kr->nr);
              packed = cb;
            }
            ntk__gemm_macro(jb, pa + rlo * kc * es, pb, mc + rlo, rhi - rlo, c0, w, kc, beta);
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

/* The one GEMM driver behind sgemm/dgemm/ssyrk/dsyrk: arguments already checked. `level`
   selects the micro-kernel set (tests call every compiled one). */
static ntk_status ntk__gemm(const ntk__gemm_types *ty, int level, int tri, int ta, int tb,
                            size_t m, size_t n, size_t k, double alpha, const void *A,
                            size_t lda, const void *B, size_t ldb, double beta, void *C,
                            size_t ldc) {
  ntk__gemm_job jb;
  size_t es = ty->es, mb, kc, pa_bytes, pb_bytes;
  int nthreads = ntk__max_threads(), ok = 1;
  char *pa, *pb;
  if (m == 0 || n == 0) return NTK_OK;
  if (k == 0 || alpha == 0) {
    if (es == sizeof(double))
      ntk__scale_d((double *)C, ldc, m, n, beta, tri);
    else
      ntk__scale_s((float *)C, ldc, m, n, beta, tri);
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
  kc = k < jb.kr->kc ? k : jb.kr->kc;
  pa_bytes = ntk__mul(ntk__mul((mb + jb.kr->mr - 1) / jb.kr->mr * jb.kr->mr, kc, &ok), es, &ok);
  pb_bytes = ntk__mul((jb.kr->kc * jb.kr->nb * es + 63) & ~(size_t)63, (size_t)nthreads, &ok);
  if (!ok) return NTK_ERR_OVERFLOW;
  pa = (char *)ntk__alloc_aligned(pa_bytes);
  pb = (char *)ntk__alloc_aligned(pb_bytes);
  if (!pa || !pb) {
    ntk__free_aligned(pa);
    ntk__free_aligned(pb);
    return NTK_ERR_OUT_OF_MEMORY;
  }
  ntk__gemm_run(&jb, pa, pb, nthreads);
  ntk__free_aligned(pa);
  ntk__free_aligned(pb);
  return NTK_OK;
}

NTKDEF ntk_status ntk_sgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, const float *B, size_t ldb, float beta,
                            float *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_s, ntk__simd_level(), 0, (int)ta, (int)tb, m, n, k, alpha, A, lda,
                   B, ldb, beta, C, ldc);
}
NTKDEF ntk_status ntk_dgemm(ntk_trans ta, ntk_trans tb, size_t m, size_t n, size_t k,
                            double alpha, const double *A, size_t lda, const double *B,
                            size_t ldb, double beta, double *C, size_t ldc) {
  ntk_status s = ntk__gemm_check((int)ta, (int)tb, m, n, k, A, lda, B, ldb, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_d, ntk__simd_level(), 0, (int)ta, (int)tb, m, n, k, alpha, A, lda,
                   B, ldb, beta, C, ldc);
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
  return ntk__gemm(&ntk__types_s, ntk__simd_level(), uplo == NTK_LOWER ? 1 : 2, (int)t, !(int)t,
                   n, n, k, alpha, A, lda, A, lda, beta, C, ldc);
}
NTKDEF ntk_status ntk_dsyrk(ntk_uplo uplo, ntk_trans t, size_t n, size_t k, double alpha,
                            const double *A, size_t lda, double beta, double *C, size_t ldc) {
  ntk_status s = ntk__syrk_check((int)uplo, (int)t, n, k, A, lda, C, ldc);
  if (s != NTK_OK) return s;
  return ntk__gemm(&ntk__types_d, ntk__simd_level(), uplo == NTK_LOWER ? 1 : 2, (int)t, !(int)t,
                   n, n, k, alpha, A, lda, A, lda, beta, C, ldc);
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
