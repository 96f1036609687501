/* Concurrency: two threads call the same entry points on shared read-only inputs; each result
   must equal (bit for bit) the one computed before the threads started. Built with
   -fsanitize=thread (no OpenMP: libgomp is not TSan-instrumented), run by `make tsan`. */
#define _POSIX_C_SOURCE 200809L
#define NTK_IMPLEMENTATION
#include "../ntk.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 40
#define D 5
static double X[N * D], Y[N];
static double refK[N * N], refT[N * N], refE[N * N], refG[N * N], refP[N];
static ntk_layer net[8];
static size_t L;

static int compute(double *K, double *T, double *E, double *G, double *P) {
  ntk_net nt;
  ntk_predictor pr;
  int bad = 0;
  bad |= ntk_dgemm(NTK_NO_TRANS, NTK_TRANS, N, N, D, 1.0, X, D, X, D, 0.0, G, N) != NTK_OK;
  bad |= ntk_kernel(net, L, X, N, NULL, 0, D, K, T) != NTK_OK;
  bad |= ntk_net_init(&nt, net, L, D, 11) != NTK_OK;
  bad |= ntk_net_empirical_kernel(&nt, X, N, NULL, 0, 0, NULL, E) != NTK_OK;
  ntk_net_free(&nt);
  bad |= ntk_predictor_init(&pr, T, N, Y, 1, NULL, 1.0, 1e-6, 0) != NTK_OK;
  bad |= ntk_predict_train(&pr, 5.0, 0, P) != NTK_OK;
  ntk_predictor_free(&pr);
  return bad;
}

static void *worker(void *arg) {
  double *K = (double *)malloc(5 * N * N * sizeof(double)), *T = K + N * N, *E = T + N * N, *G = E + N * N, *P = G + N * N;
  long bad = compute(K, T, E, G, P);
  bad |= memcmp(K, refK, sizeof refK) != 0 || memcmp(T, refT, sizeof refT) != 0 ||
         memcmp(E, refE, sizeof refE) != 0 || memcmp(G, refG, sizeof refG) != 0 || memcmp(P, refP, sizeof refP) != 0;
  free(K);
  (void)arg;
  return (void *)bad;
}

int main(void) {
  pthread_t t[2];
  void *r0, *r1;
  size_t i;
  unsigned long long s = 7;
  for (i = 0; i < N * D; i++) s = s * 6364136223846793005ull + 1442695040888963407ull, X[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
  for (i = 0; i < N; i++) Y[i] = X[i * D];
  L = ntk_mlp(net, 8, 2, 64, ntk_relu(), 1.3, 0.1, 1);
  if (compute(refK, refT, refE, refG, refP)) { printf("reference computation failed\n"); return 1; }
  pthread_create(&t[0], NULL, worker, NULL);
  pthread_create(&t[1], NULL, worker, NULL);
  pthread_join(t[0], &r0);
  pthread_join(t[1], &r1);
  printf("threads: %s\n", r0 || r1 ? "MISMATCH" : "identical results from both threads");
  return r0 || r1 ? 1 : 0;
}
