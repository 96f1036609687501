/* Cortex-M4F startup for QEMU's mps2-an386 (our own, no crt0): vector table at 0x0, FPU on,
   .data copied, .bss zeroed, newlib's semihosting (rdimon) initialised, main's status to exit().
   Also: a heap bounded by the linker script, a SysTick wrap counter for instruction counts
   (-icount shift=0: 1 tick = 40 instructions at 25 MHz), and fault handlers that say so. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, __heap_start__, __heap_end__;
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
int main(void);

volatile uint32_t mcu_systick_wraps;
char *mcu_heap_high;

void _init(void) {}
void _fini(void) {}

void *_sbrk(ptrdiff_t incr) {
  static char *brk = (char *)&__heap_start__;
  char *old = brk;
  if (brk + incr > (char *)&__heap_end__ || brk + incr < (char *)&__heap_start__) {
    errno = ENOMEM;
    return (void *)-1;
  }
  brk += incr;
  if (brk > mcu_heap_high) mcu_heap_high = brk;
  return old;
}

static void fault(const char *what) {
  printf("MCU FAULT: %s\n", what);
  exit(250);
}
void nmi_handler(void) { fault("NMI"); }
void hardfault_handler(void) { fault("HardFault"); }
void memmanage_handler(void) { fault("MemManage"); }
void busfault_handler(void) { fault("BusFault"); }
void usagefault_handler(void) { fault("UsageFault"); }
void default_handler(void) { fault("unexpected interrupt"); }
void systick_handler(void) { mcu_systick_wraps++; }

void reset_handler(void) {
  uint32_t *src = &__data_load__, *dst = &__data_start__;
  /* CP10/CP11 full access: the FPU is off at reset */
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  while (dst < &__data_end__) *dst++ = *src++;
  for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
  mcu_heap_high = (char *)&__heap_start__;
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

__attribute__((section(".vectors"), used)) void (*const mcu_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__), reset_handler, nmi_handler, hardfault_handler,
    memmanage_handler, busfault_handler, usagefault_handler, default_handler,
    default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, default_handler, systick_handler};
