/* make test: the whole suite in one binary. Last line: "N passed, M failed"; exit status 1 on
   any failure. Usage: test [section-filter] */
#define _POSIX_C_SOURCE 200809L /* popen, setenv, getcwd for the CLI tests */
#define NTK_IMPLEMENTATION
#include "../ntk.h"

#include "test.h"

#include "test_gemm.c"
#include "test_kernel.c"
#include "test_quad.c"
#include "test_linalg.c"
#include "test_predict.c"
#include "test_predict15.c"
#include "test_net.c"
#include "test_cli.c"
#include "test_nets15.c"
#include "test_closed.c"
#include "test_layers.c"
#include "test_parse.c"
#include "test_sref.c"
#include "test_front.c"
#include "test_skernel.c"
#include "test_frames.c"
#include "test_python.c"
#include "test_fnet.c"
#include "test_fcli.c"
#include "test_tiles.c"
#include "test_solve.c"
#include "test_fnet2.c"

void test_float_suite(long *passed, long *failed);
static void test_float(void) { test_float_suite(&t_passed, &t_failed); }
void test_tiles_mem_suite(long *passed, long *failed);
static void test_tiles_mem(void) { test_tiles_mem_suite(&t_passed, &t_failed); }
void test_faults_suite(long *passed, long *failed);
static void test_faults(void) { test_faults_suite(&t_passed, &t_failed); }

typedef struct {
  const char *name;
  void (*fn)(void);
} t_entry;

static const t_entry t_all[] = {
    {"gemm_public", test_gemm_public},
    {"gemm_sweeps", test_gemm_sweeps},
    {"syrk", test_syrk},
    {"kernel_math", test_kernel_math},
    {"kernel_closed_forms", test_kernel_closed_forms},
    {"kernel_symmetry", test_kernel_symmetry},
    {"kernel_quadrature", test_kernel_quadrature},
    {"kernel_bad", test_kernel_bad},
    {"quad", test_quad},
    {"cholesky", test_cholesky},
    {"eigen", test_eigen},
    {"predict_flow", test_predict_flow},
    {"predict_progress", test_predict_progress},
    {"predict_gp", test_predict_gp},
    {"predict_wide_network", test_predict_wide_network},
    {"predict15", test_p15_all},
    {"golden", test_golden},
    {"net_jacobian", test_net_jacobian},
    {"net_structured", test_net_structured},
    {"net_convergence", test_net_convergence},
    {"net_training", test_net_training},
    {"net_misc", test_net_misc},
    {"float_kernel", test_float},
    {"cli", test_cli},
    {"readme", test_readme},
    {"bad_input", test_bad_input_table},
    {"nets15", test_nets15_all},
    {"closed", test_closed_all},
    {"layers_api", test_layers_api},
    {"parse", test_parse_all},
    {"sref", test_sref_all},
    {"front", test_front_all},
    {"skernel", test_skernel_all},
    {"python", test_python_all},
    {"frames", test_frames_all},
    {"fnet", test_fnet_all},
    {"fnet_cli", test_fnet_cli},
    {"tiles", test_tiles_all},
    {"tiles_mem", test_tiles_mem},
    {"faults", test_faults},
    {"solve", test_solve_all},
    {"fnet_entk_paths", test_fnet_entk_paths},
};

/* Usage: test [filter...]: the sections whose names contain one of the filters (all when there
   is none), except those matching a filter written -name (the qemu runs leave out the
   platform-neutral, slowest ones) */
int main(int argc, char **argv) {
  size_t i;
  int a, any = 0;
  printf("ntk.h %s tests, kernel set %s\n", ntk_version(), ntk_simd_name());
  for (a = 1; a < argc; a++) any |= argv[a][0] != '-';
  for (i = 0; i < sizeof t_all / sizeof t_all[0]; i++) {
    int run = !any;
    for (a = 1; a < argc; a++)
      if (argv[a][0] != '-' && strstr(t_all[i].name, argv[a])) run = 1;
    for (a = 1; a < argc; a++)
      if (argv[a][0] == '-' && !strcmp(t_all[i].name, argv[a] + 1)) run = 0;
    if (run) t_all[i].fn();
  }
  printf("%ld passed, %ld failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
