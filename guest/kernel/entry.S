/* Entry, interrupt stubs, the common trap path and the way into ring 3. */
    .section .text.entry, "ax"
    .globl _start
_start:
    /* the VMM set long mode, the boot page tables and RDI = boot info */
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    call kmain
1:  cli
    hlt
    jmp 1b

    .text
/* One 16-byte stub per vector: pushes 0 where the CPU pushes no error
 * code, then the vector, then joins trap_common. */
    .altmacro
    .macro stub n
    .balign 16
    .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    pushq $0
    .endif
    pushq $\n
    jmp trap_common
    .endm

    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    stub %vec
    .set vec, vec + 1
    .endr

/* struct trapframe (kernel.h): r15 ... rax, vector, error, then the CPU's
 * rip, cs, rflags, rsp, ss. */
trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    cld
    call trap
    .globl trap_return
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp
    iretq

/* enter_user(struct trapframe *tf): leaves the current kernel stack for
 * good (TSS.RSP0 is the top of the kernel stack) and iretq's into tf. */
    .globl enter_user
enter_user:
    mov %rdi, %rsp
    jmp trap_return

    .bss
    .balign 16
    .globl boot_stack_top
boot_stack:
    .skip 32768
boot_stack_top:
