/* libntk.so: ntk.h compiled once as a shared library (make lib), for C/C++ programs that prefer
   linking to including the implementation, and for the Python package (python/ntk, ctypes).
   Built with -fvisibility=hidden: the public API (every NTKDEF function of ntk.h) is exported
   by the NTKDEF definition below (ntk.h defines NTKDEF only when it is not already defined), and
   so are the few ntkpy_* helpers after it, which let a binding treat ntk_net and ntk_predictor
   as opaque (their layouts may grow) and check its mirror of ntk_layer against the real one. */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* sigaction */
#endif
#if defined(__GNUC__) || defined(__clang__)
#define NTKDEF extern __attribute__((visibility("default")))
#define NTKPY_API __attribute__((visibility("default")))
#else
#define NTKPY_API
#endif
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* sizeof(ntk_layer), then the offset of each field in declaration order; returns the number of
   values (written up to cap). A binding compares this with its own layout at load time. */
NTKPY_API size_t ntkpy_layer_layout(size_t *out, size_t cap) {
  size_t v[20], n = 0, i;
  v[n++] = sizeof(ntk_layer);
  v[n++] = offsetof(ntk_layer, kind);
  v[n++] = offsetof(ntk_layer, param);
  v[n++] = offsetof(ntk_layer, width);
  v[n++] = offsetof(ntk_layer, w_std);
  v[n++] = offsetof(ntk_layer, b_std);
  v[n++] = offsetof(ntk_layer, a);
  v[n++] = offsetof(ntk_layer, b);
  v[n++] = offsetof(ntk_layer, c);
  v[n++] = offsetof(ntk_layer, quad_degree);
  v[n++] = offsetof(ntk_layer, f);
  v[n++] = offsetof(ntk_layer, df);
  v[n++] = offsetof(ntk_layer, user);
  v[n++] = offsetof(ntk_layer, shape);
  v[n++] = offsetof(ntk_layer, stride);
  v[n++] = offsetof(ntk_layer, padding);
  v[n++] = offsetof(ntk_layer, bias);
  v[n++] = offsetof(ntk_layer, n);
  v[n++] = offsetof(ntk_layer, flags);
  v[n++] = offsetof(ntk_layer, eps);
  for (i = 0; i < n && i < cap; i++) out[i] = v[i];
  return n;
}
NTKPY_API size_t ntkpy_sizeof_real(void) { return sizeof(ntk_real); }
NTKPY_API size_t ntkpy_sizeof_layer_info(void) { return sizeof(ntk_layer_info); }

/* ntk_net behind a pointer: NULL with *status on failure */
NTKPY_API ntk_net *ntkpy_net_new(const ntk_layer *layers, size_t n_layers, size_t dim,
                                 uint64_t seed, ntk_status *status) {
  ntk_net *net = (ntk_net *)calloc(1, sizeof *net);
  if (!net) { *status = NTK_ERR_OUT_OF_MEMORY; return NULL; }
  *status = ntk_net_init(net, layers, n_layers, dim, seed);
  if (*status != NTK_OK) { free(net); return NULL; }
  return net;
}
NTKPY_API void ntkpy_net_delete(ntk_net *net) {
  if (net) ntk_net_free(net), free(net);
}
NTKPY_API ntk_real *ntkpy_net_params(ntk_net *net) { return net->params; }
NTKPY_API size_t ntkpy_net_n_params(const ntk_net *net) { return net->n_params; }
NTKPY_API size_t ntkpy_net_outputs(const ntk_net *net) { return net->outputs; }

/* ntk_predictor behind a pointer */
NTKPY_API ntk_predictor *ntkpy_predictor_new(const ntk_real *k_train, size_t n, const ntk_real *y,
                                             size_t k, const ntk_real *f0, double lr,
                                             double diag_reg, int diag_reg_absolute,
                                             const ntk_predictor_desc *desc, ntk_status *status) {
  ntk_predictor *p = (ntk_predictor *)calloc(1, sizeof *p);
  if (!p) { *status = NTK_ERR_OUT_OF_MEMORY; return NULL; }
  *status = ntk_predictor_init_ex(p, k_train, n, y, k, f0, lr, diag_reg, diag_reg_absolute, desc);
  if (*status != NTK_OK) { free(p); return NULL; }
  return p;
}
NTKPY_API void ntkpy_predictor_delete(ntk_predictor *p) {
  if (p) ntk_predictor_free(p), free(p);
}
NTKPY_API size_t ntkpy_predictor_rank(const ntk_predictor *p) { return p->rank; }

/* Ctrl-C for a binding: while armed, SIGINT only raises a flag, and ntkpy_progress (a
   progress callback for any *_desc) returns it, so the library call in progress stops with
   NTK_ERR_CANCELLED; disarming restores the previous handler. This state belongs to the
   binding glue, not to ntk.h (which keeps none); arm/disarm nest, and the caller serialises
   them (the Python package holds a lock). POSIX only; elsewhere arming does nothing. */
#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
static volatile sig_atomic_t ntkpy__hit;
static int ntkpy__depth;
static struct sigaction ntkpy__old;
static void ntkpy__on_sigint(int sig) { (void)sig; ntkpy__hit = 1; }
NTKPY_API void ntkpy_sigint_arm(void) {
  if (ntkpy__depth++ == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ntkpy__on_sigint;
    sigemptyset(&sa.sa_mask);
    ntkpy__hit = 0;
    sigaction(SIGINT, &sa, &ntkpy__old);
  }
}
/* returns whether SIGINT arrived while armed (since the outermost arm) */
NTKPY_API int ntkpy_sigint_disarm(void) {
  int hit = ntkpy__hit != 0;
  if (ntkpy__depth > 0 && --ntkpy__depth == 0) sigaction(SIGINT, &ntkpy__old, NULL);
  return hit;
}
NTKPY_API int ntkpy_interrupted(void) { return ntkpy__hit != 0; }
#else
NTKPY_API void ntkpy_sigint_arm(void) {}
NTKPY_API int ntkpy_sigint_disarm(void) { return 0; }
NTKPY_API int ntkpy_interrupted(void) { return 0; }
#endif
NTKPY_API int ntkpy_progress(const char *stage, double done, void *user) {
  (void)stage, (void)done, (void)user;
  return ntkpy_interrupted();
}
