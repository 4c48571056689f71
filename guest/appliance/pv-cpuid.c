/*
 * pv-cpuid: what the CPU says about the hypervisor, for the appliance's
 * platform detection (sbin/pv-detect). Prints, one per line:
 *   hypervisor-bit=0|1        CPUID leaf 1 ECX bit 31
 *   cpuid-vendor=STRING       CPUID leaf 0x40000000 signature (EBX ECX EDX), when the bit is set
 *   cpuid-max-leaf=0xN        leaf 0x40000000 EAX
 *   vmport=0|1                the VMware backdoor (I/O port 0x5658, "VMXh") answers
 *                             (only with --vmport: needs root for ioperm)
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>

static int vmport(void) {
  uint32_t eax = 0x564D5868, ebx = ~0x564D5868u, ecx = 10 /* GETVERSION */, edx = 0x5658;
  if (ioperm(0x5658, 4, 1) != 0) return 0;
  __asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
  return ebx == 0x564D5868;
}

int main(int argc, char **argv) {
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  int bit = (c >> 31) & 1;
  printf("hypervisor-bit=%d\n", bit);
  if (bit) {
    char sig[13];
    __cpuid(0x40000000, a, b, c, d);
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = 0;
    for (int i = 0; i < 12; i++)
      if (sig[i] && (sig[i] < 32 || sig[i] > 126)) sig[i] = '?';
    printf("cpuid-vendor=%s\ncpuid-max-leaf=0x%x\n", sig, a);
  }
  if (argc > 1 && strcmp(argv[1], "--vmport") == 0) printf("vmport=%d\n", vmport());
  return 0;
}
