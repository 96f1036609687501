/* make mcu: NTK kernel regression on a Cortex-M4F (QEMU mps2-an386, 64 KiB of RAM).
   48 training points in 2-D, targets sin(2·x1)·cos(x2), depth-2 ReLU network's infinite-width
   NTK (closed form, ntk_real = float), kernel regression on 32 test points. The same file built
   for the host in double computes the expected test error; the MCU run fails (exit 1) if its
   float result is not within 1e-3 relative of it. Prints the instruction count (SysTick under
   -icount shift=0) and the RAM used. */
#define NTK_IMPLEMENTATION
#include "../../ntk.h"
#include <stdio.h>
#include <stdint.h>

#define NTRAIN 48
#define NTEST 32

static double lcg(uint32_t *s) { /* [−1, 1), identical on host and target */
  *s = *s * 1664525u + 1013904223u;
  return (double)(*s >> 8) / 8388608.0 - 1.0;
}

static ntk_real xtr[NTRAIN * 2], ytr[NTRAIN], xte[NTEST * 2], yte[NTEST];

static double run(void) {
  ntk_layer net[5];
  size_t L = ntk_mlp(net, 5, 2, 0, ntk_relu(), 1.4f, 0.1f, 1), i;
  ntk_real *Ktr = (ntk_real *)malloc(sizeof(ntk_real) * NTRAIN * NTRAIN);
  ntk_real *Kte = (ntk_real *)malloc(sizeof(ntk_real) * NTEST * NTRAIN);
  ntk_real pred[NTEST];
  double se = 0;
  ntk_status s;
  if (!Ktr || !Kte) return -1;
  s = ntk_kernel(net, L, xtr, NTRAIN, NULL, 0, 2, NULL, Ktr);
  if (s == NTK_OK) s = ntk_kernel(net, L, xte, NTEST, xtr, NTRAIN, 2, NULL, Kte);
  if (s == NTK_OK) s = ntk_gp_inference(Ktr, NTRAIN, ytr, 1, Kte, NTEST, NULL, 1e-4, 0, pred, NULL);
  free(Ktr), free(Kte);
  if (s != NTK_OK) {
    printf("ntk.h error: %s\n", ntk_status_string(s));
    return -1;
  }
  for (i = 0; i < NTEST; i++) se += ((double)pred[i] - yte[i]) * ((double)pred[i] - yte[i]);
  return sqrt(se / NTEST);
}

static void data(void) {
  uint32_t s = 12345;
  size_t i;
  for (i = 0; i < NTRAIN; i++) {
    double a = lcg(&s), b = lcg(&s);
    xtr[2 * i] = (ntk_real)a, xtr[2 * i + 1] = (ntk_real)b, ytr[i] = (ntk_real)(sin(2 * a) * cos(b));
  }
  for (i = 0; i < NTEST; i++) {
    double a = lcg(&s), b = lcg(&s);
    xte[2 * i] = (ntk_real)a, xte[2 * i + 1] = (ntk_real)b, yte[i] = (ntk_real)(sin(2 * a) * cos(b));
  }
}

#if defined(__arm__) && !defined(__linux__)
extern volatile uint32_t mcu_systick_wraps;
extern char *mcu_heap_high;
extern uint32_t __heap_start__, __stack_top__, __data_start__, __bss_end__;
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)

int main(void) {
  uint32_t ticks0, ticks1, wraps, *p, *stack_lo = (uint32_t *)((char *)&__stack_top__ - 6 * 1024);
  double rmse, expected = NTK_MCU_EXPECTED, rel;
  size_t stack_used;
  uint64_t ticks;
  /* paint the stack below the current frame to measure its high-water mark */
  for (p = stack_lo; p < (uint32_t *)__builtin_frame_address(0) - 64; p++) *p = 0xA5A5A5A5u;
  data();
  SYST_RVR = 0xFFFFFF, SYST_CVR = 0, SYST_CSR = 7; /* core clock, interrupt, enable */
  while ((ticks0 = SYST_CVR) == 0) {} /* the first reload */
  mcu_systick_wraps = 0;
  rmse = run();
  ticks1 = SYST_CVR, wraps = mcu_systick_wraps;
  SYST_CSR = 0;
  ticks = (uint64_t)wraps * 0x1000000u + ticks0 - ticks1; /* SysTick counts down */
  for (p = stack_lo; p < (uint32_t *)&__stack_top__ && *p == 0xA5A5A5A5u; p++) {}
  stack_used = (size_t)((char *)&__stack_top__ - (char *)p);
  rel = fabs(rmse - expected) / expected;
  printf("ntk.h %s on Cortex-M4F (%s kernels, ntk_real = float)\n", ntk_version(), ntk_simd_name());
  printf("NTK kernel regression, depth-2 ReLU, %d train / %d test points in 2-D\n", NTRAIN, NTEST);
  printf("test RMSE %.6f, host (double) %.6f, relative difference %.2e\n", rmse, expected, rel);
  printf("instructions: %.0f (SysTick %.0f ticks x 40 under -icount shift=0)\n", (double)ticks * 40.0, (double)ticks);
  printf("RAM: data+bss %u B, heap high-water %u B, stack high-water %u B, total %u B of 65536\n",
         (unsigned)((char *)&__bss_end__ - (char *)&__data_start__), (unsigned)(mcu_heap_high - (char *)&__heap_start__),
         (unsigned)stack_used,
         (unsigned)((char *)&__bss_end__ - (char *)&__data_start__ + (mcu_heap_high - (char *)&__heap_start__) + stack_used));
  if (!(rmse >= 0) || rel > 1e-3) {
    printf("MCU DEMO FAILED\n");
    return 1;
  }
  printf("MCU DEMO OK\n");
  return 0;
}
#else
int main(void) { /* host: print the expected value for the MCU build */
  double rmse;
  data();
  rmse = run();
  if (rmse < 0) return 1;
  printf("%.9g\n", rmse);
  return 0;
}
#endif
