/*
 * Accelerator probe guest: a 512-byte x86 boot sector (GNU as syntax).
 * Loaded by SeaBIOS at 0x7c00. It reports each stage on COM1 (port 0x3f8):
 *   R  real mode reached (firmware ran, boot sector loaded)
 *   P  32-bit protected mode
 *   M  64 MiB of RAM written (every page faulted in: the part that is
 *      hundreds of times slower under broken nested KVM)
 *   C  64-bit long mode with paging reached; then a locked 16-byte
 *      compare-and-swap on an entry of the live page directory, as Linux
 *      does early in boot: nested KVM on shadow paging must emulate it, and
 *      on some hosts fails ("KVM internal error ... emulation failure")
 *   L  done, then "PV-PROBE-OK\r\n"
 * then halts. A working accelerator prints everything in well under a second.
 *
 * Rebuild (the bytes are embedded in probe-image.ts; a unit test compares):
 *   as --64 -o probe.o probe-boot.S && ld -Ttext 0x7c00 --oformat binary -o probe.bin probe.o
 */
        .code16
        .globl _start
_start:
        cli
        xor %ax, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x7c00, %sp
        mov $0x3f8, %dx
        mov $'R', %al
        out %al, %dx
        in $0x92, %al                   /* fast A20 */
        or $2, %al
        out %al, $0x92
        lgdtl gdtr
        mov %cr0, %eax
        or $1, %eax                     /* PE */
        mov %eax, %cr0
        ljmpl $0x08, $pm32

        .code32
pm32:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x3f8, %dx
        mov $'P', %al
        out %al, %dx
        mov $0x100000, %edi             /* touch 64 MiB from 1 MiB up */
        mov $0x01000000, %ecx
        mov $0x5a5a5a5a, %eax
        cld
        rep stosl
        mov $0x3f8, %dx
        mov $'M', %al
        out %al, %dx
        mov $0x1000, %edi               /* page tables: PML4 0x1000, PDPT 0x2000, PD 0x3000 */
        xor %eax, %eax
        mov $0xc00, %ecx
        rep stosl
        movl $0x2003, 0x1000
        movl $0x3003, 0x2000
        movl $0x83, 0x3000              /* one 2 MiB identity page */
        mov $0x1000, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x20, %eax                  /* PAE */
        mov %eax, %cr4
        mov $0xc0000080, %ecx           /* EFER.LME */
        rdmsr
        or $0x100, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000000, %eax            /* PG */
        mov %eax, %cr0
        ljmp $0x18, $lm64

        .code64
lm64:
        mov $0x3f8, %dx
        mov $'C', %al
        out %al, %dx
        xor %eax, %eax                  /* RDX:RAX = RCX:RBX = 0: the entry stays 0 */
        xor %edx, %edx
        xor %ebx, %ebx
        xor %ecx, %ecx
        mov $0x3010, %edi               /* an unused entry of the live page directory */
        lock cmpxchg16b (%rdi)
        mov $0x3f8, %dx
        lea msg(%rip), %rsi
1:      lodsb
        test %al, %al
        jz 2f
        out %al, %dx
        jmp 1b
2:      cli
        hlt
        jmp 2b

        .p2align 3
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
        .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
gdtr:
        .word gdtr - gdt - 1
        .long gdt
msg:    .asciz "LPV-PROBE-OK\r\n"
        .org 510
        .word 0xaa55
