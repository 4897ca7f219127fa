/* Minimal Cortex-M start-up (M4F and M0): vector table, .data/.bss set-up, the FPU on where
 * there is one, main, and semihosting (`bkpt 0xab`) for output and the exit status. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s) { semihost(0x04, s); /* SYS_WRITE0 */ }

void sh_exit(int status) {
    /* SYS_EXIT_EXTENDED: ADP_Stopped_ApplicationExit (0x20026) with the status. */
    uint32_t block[2] = {0x20026u, (uint32_t)status};
    semihost(0x20, block); /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

void reset_handler(void) {
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11 (the FPU). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
#endif
    sh_exit(main());
}

static void fault(void) { sh_puts("fault\n"); sh_exit(3); }

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (void *)reset_handler, (void *)fault, (void *)fault,
    (void *)fault, (void *)fault, (void *)fault,
};
