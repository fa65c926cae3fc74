/* SPDX-License-Identifier: MIT */
/*
 * Virtual CPUs, vendor-neutral.
 *
 * A struct vcpu holds the guest's registers in one neutral block (struct
 * vcpu_regs) that the backend fills lazily: `valid` says which fields hold
 * the guest's current values, `dirty` which ones the core changed and the
 * backend must write back before the next entry (../shared/STYLE.md §7).
 * Every exit arrives as one neutral request (struct exit_req, §4).
 * Everything below the vendor line (VMCB, VMCS) hides behind struct
 * vcpu_ops (§2).  Devices never see any of this: they see device.h.
 */
#ifndef PETREL_VCPU_H
#define PETREL_VCPU_H

#include <petrel/cr.h>
#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_VCPUS_PER_VM 8
#define VCPU_IRQ_SOURCES 2

/* General registers, in the x86 encoding order (ModRM reg numbers). */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	   GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, NR_GPRS };

struct segment {
	uint16_t sel;
	uint16_t attr; /* type:4 S:1 DPL:2 P:1 AVL:1 L:1 DB:1 G:1 (the VMCB packing) */
	uint32_t limit;
	uint64_t base;
};

enum seg_index { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, NR_SEGS };

/* What the backend must fetch or write back; one bit per group. */
#define REG_GPRS (1u << 0)   /* all GPRs except RAX/RSP live in the vcpu anyway */
#define REG_RIP (1u << 1)    /* rip, rflags, rax, rsp */
#define REG_CR (1u << 2)     /* cr0, cr2, cr3, cr4, efer */
#define REG_SEGS (1u << 3)   /* segments, gdtr, idtr, cpl */
#define REG_PDPTE (1u << 4)  /* the PAE PDPTE registers (VMX keeps them; SVM reads memory) */
#define REG_TSC_OFFSET (1u << 5) /* tsc_offset (write-only: a WRMSR to IA32_TSC changed it) */
/* Everything a debugger or the shell shows of a paused vCPU. */
#define REG_ALL_STATE (REG_GPRS | REG_RIP | REG_CR | REG_SEGS | REG_PDPTE)

struct vcpu_regs {
	uint64_t gpr[NR_GPRS];
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	struct segment seg[NR_SEGS];
	struct { uint64_t base; uint32_t limit; } gdtr, idtr;
	uint8_t cpl;
	uint64_t pdpte[4];
};

/* Architectural bits the core and the backends share: RFLAGS.TF and IF,
 * and DR6's event bits (B0-B3, BD, BS), as exit_req.debug reports them. */
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define DR6_B0_3 0xfull
#define DR6_BS (1ull << 14)
#define DR6_EVENT_BITS (DR6_B0_3 | (1ull << 13) | DR6_BS)

/* An event to deliver to the guest (exception, interrupt, NMI). */
/* EV_SOFT_INTR is INT n: with RIP past it on SVM; at it on VMX, whose
 * entry needs its length (exit.insn_len). */
enum event_type { EV_EXT_INTR = 0, EV_NMI = 2, EV_EXCEPTION = 3, EV_SOFT_INTR = 4 };
struct vcpu_event {
	bool pending;
	uint8_t type, vector;
	bool has_error;
	uint32_t error;
};

/* Why the vCPU left the guest, decoded once by the backend (§4). */
enum exit_kind {
	EXIT_NONE,       /* handled inside the backend, or an interrupt: just re-enter */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_MMIO,
	EXIT_HLT,
	EXIT_XSETBV,
	EXIT_CR,         /* a control-register access (exit_req.cr) */
	EXIT_WBINVD,     /* WBINVD or INVD: nothing to do (no device caches memory) */
	EXIT_PAUSE,      /* a PAUSE loop (VMX PAUSE-loop exiting, SVM's pause filter): yield */
	EXIT_GP,         /* an instruction that raises #GP here (RDPMC: no counters) */
	EXIT_TASK_SWITCH, /* a hardware task switch the backend cannot run (exit_req.task) */
	EXIT_SHUTDOWN,   /* triple fault */
	EXIT_INIT,
	EXIT_UD,         /* an instruction the guest may not use: inject #UD */
	EXIT_BREAKPOINT, /* #BP (INT3), intercepted for a debugger: RIP is at the INT3 */
	EXIT_DEBUG,      /* #DB or the end of a debugger's single step (exit_req.debug) */
	EXIT_SOFT_INT,   /* INT n (SVM, intercepted with #BP: QEMU TCG reports INT3 as one) */
	EXIT_UNKNOWN,    /* dump and stop the VM */
	EXIT_ENTRY_FAIL, /* the hardware refused the guest state */
	EXIT_STATE_LOST, /* the guest state was overwritten by the host's (an emulator's race): stop */
	NR_EXIT_KINDS,
};

struct exit_req {
	enum exit_kind kind;
	uint64_t reason;   /* the vendor's raw exit code, for statistics and dumps */
	uint8_t insn_len;  /* 0 if unknown */
	union {
		struct { uint32_t msr; } msr;
		struct {
			uint16_t port;
			uint8_t size;    /* 1, 2, 4 */
			bool in, string, rep;
			uint8_t addr_size; /* for string forms: 2, 4, 8 */
			int8_t seg;      /* segment of the memory operand of OUTS */
			uint64_t next_rip;
		} io;
		/* vectoring: the fault happened while the CPU delivered an
		 * event (an IDT, GDT, TSS or stack access outside RAM). */
		struct { uint64_t gpa; bool write, fetch, vectoring; } mmio;
		/* MOV to/from CRn, CLTS, LMSW.  gpr -1: decode the instruction
		 * (SVM without decode assists). */
		struct { uint8_t cr, op; int8_t gpr; uint16_t lmsw; } cr;
		/* source: how the switch was asked for; with TS_GATE, the
		 * event through a task gate: its vector, INT n or not, its
		 * error code if any. */
		struct { uint16_t sel; uint8_t source, vector; bool soft, has_error; uint32_t error; } task;
		/* dr6: the DR6 bits of the event (B0-B3, BD, BS); in_dr6: the
		 * guest's DR6 has them already (SVM), else not (VMX). */
		struct { uint64_t dr6; bool in_dr6; } debug;
	};
};

enum cr_op { CR_MOV_TO, CR_MOV_FROM, CR_CLTS, CR_LMSW, CR_UNKNOWN };
enum task_source { TS_CALL, TS_IRET, TS_JMP, TS_GATE };

struct vm;

/* Register state the hardware does not switch between guests: the x87,
 * SSE, AVX... state (an XSAVE or FXSAVE image) and the debug address
 * registers.  hv/arch/x86/xstate.c loads it lazily, when another vCPU
 * used the CPU last. */
struct vcpu_xstate {
	uint8_t *area;
	uint64_t dr[4], dr6;
};

/* What a debugger asks of a vCPU (hv/core/debug.c).  The backend applies
 * it before the vCPU's next entry when `changed` (vcpu_ops->set_debug):
 * it always comes from the CPU the vCPU runs on. */
struct vcpu_debug {
	bool changed;
	bool step;      /* one instruction, then EXIT_DEBUG with DR6.BS (the
			 * monitor trap flag where VMX has it, else RFLAGS.TF
			 * with #DB intercepted) */
	bool int3;      /* #BP exits (EXIT_BREAKPOINT) */
	bool hw;        /* dr[] and dr7 are in the CPU instead of the guest's own;
			 * #DB exits (EXIT_DEBUG) */
	bool hw_on;     /* what the backend applied last (run.c swaps DR0-3) */
	bool step_on;   /* a step is armed (applied last) */
	bool tf_on;     /* the step is RFLAGS.TF, set by Petrel (run.c): #DB must exit */
	bool guest_tf;  /* the guest's own TF meanwhile */
	uint64_t dr[4], dr7;             /* the debugger's */
	uint64_t guest_dr[4], guest_dr7; /* the guest's own while hw_on */
};

struct vcpu {
	struct vm *vm;
	uint32_t id;
	uint32_t pcpu;         /* the physical CPU whose run queue has it */
	bool floats;           /* no cpu= list: the scheduler may move it to another CPU (run.c) */
	bool moved;            /* came from another CPU: vcpu_ops->load before it runs here */
	uint32_t in_run;       /* its CPU has it in hand: entering, in the guest, in an exit (run.c) */
	struct vcpu_regs regs;
	uint32_t valid, dirty; /* REG_* groups */
	struct vcpu_event event;
	struct exit_req exit;
	/* Where its interrupts come from (device.h): the local APIC, and
	 * raw vectors (Petrel's test device); the run loop asks them. */
	struct vcpu_irq_source irq[VCPU_IRQ_SOURCES];
	const struct vcpu_apic_ops *apic_ops;
	void *apic;           /* the local APIC's state, for apic_ops */
	bool nmi_pending;     /* an NMI arrived and is not delivered yet (run.c) */
	bool halted;
	/* INIT and SIPI (hv/core/smp.c): an AP waits for a SIPI after INIT
	 * and at power-on; the signals are taken by the run loop. */
	bool wait_sipi;
	bool init_pending, sipi_pending;
	uint8_t sipi_vector;
	bool woke;            /* left HLT since the scheduler last picked (run.c) */
	bool yielded;         /* spun in a PAUSE loop: another vCPU goes first (run.c) */
	uint64_t vruntime;    /* TSC ticks it has held its CPU (run.c) */
	uint64_t tsc_offset;  /* guest TSC = host TSC + tsc_offset */
	uint64_t mtrr_def_type;
	uint64_t misc_enable; /* the guest's IA32_MISC_ENABLE (msr.c) */
	uint32_t pkrs;        /* the guest's IA32_PKRS: in the CPU while it runs (run.c) */
	uint64_t tsc_aux;     /* the guest's IA32_TSC_AUX (RDTSCP, RDPID) */
	uint64_t xcr0;        /* the guest's XCR0: exit.c checks XSETBV, run.c loads it */
	struct vcpu_xstate xs;
	struct vcpu_debug dbg;
	struct cr_caps cr_caps; /* what its CPUID lets it set in CR4 and EFER (ctrlreg.c) */
	uint8_t cr8;          /* the TPR class, for a vCPU without a local APIC */
	uint64_t pvclock_system_time, pvclock_wall_clock; /* pvclock.c MSRs */
	uint64_t exits[NR_EXIT_KINDS];
	uint64_t exits_total;
	uint64_t run_until; /* host TSC by which the run loop wants the CPU back, 0: no bound */
	uint64_t tsc_in_hv; /* TSC ticks spent outside the guest */
	uint64_t tsc_exit;  /* when it last left the guest */
	uint64_t migrations; /* moves from one physical CPU to another */
	uint32_t map_gen;   /* the VM's map_gen its CPU's TLB was last flushed for */
	void *arch;         /* the backend's state: VMCB or VMCS */
};

/* The vendor line: one table per backend (SVM, VMX). */
struct vcpu_ops {
	const char *name;
	bool saves_dr6;                             /* DR6 is in the VMCB/VMCS (SVM), else xstate.c switches it */
	bool kick_may_wait;                         /* a host IPI may not leave the guest at once (run.c) */
	int (*cpu_enable)(void);                    /* per physical CPU */
	int (*vm_init)(struct vm *vm);              /* NPT/EPT, bitmaps */
	int (*vcpu_init)(struct vcpu *v);           /* VMCB/VMCS */
	void (*run)(struct vcpu *v);                /* enter until the next exit; fills v->exit */
	/* Moving a vCPU to another physical CPU: put on the CPU it leaves
	 * (whatever of it that CPU holds goes back to memory), load on the
	 * one it comes to, before it runs there. */
	void (*put)(struct vcpu *v);
	void (*load)(struct vcpu *v);
	void (*get_regs)(struct vcpu *v, uint32_t groups);
	void (*set_io_intercept)(struct vm *vm, uint16_t port, uint16_t len, bool on);
	void (*set_msr_intercept)(struct vm *vm, uint32_t msr, bool read, bool write);
	bool (*interrupt_window)(struct vcpu *v);   /* can an external interrupt be taken now? */
	void (*request_window)(struct vcpu *v);     /* exit when it can */
	bool (*nmi_window)(struct vcpu *v);         /* can an NMI be taken now (no NMI in service)? */
	void (*request_nmi_window)(struct vcpu *v); /* exit when it can, or soon after */
	bool (*irq_queued)(struct vcpu *v);         /* an interrupt handed to the CPU, not yet taken (NULL: never) */
	void (*flush_tlb)(struct vcpu *v);
	/* The VM's memory map changed (vm_set_memory): remap makes the
	 * nested tables say what it says in [gpa, gpa+size) (-1: out of
	 * memory); flush_nested, on the CPU v is about to enter on, drops
	 * what that CPU's TLB holds of the old tables for v. */
	int (*remap)(struct vm *vm, uint64_t gpa, uint64_t size);
	void (*flush_nested)(struct vcpu *v);
	/* v->dbg changed: #BP and #DB intercepts, the monitor trap flag,
	 * DR7 (the guest's own into dbg.guest_dr7 when dbg.hw turns on,
	 * back when it turns off).  native_step: the CPU steps a guest
	 * without touching its RFLAGS (VMX's monitor trap flag). */
	void (*set_debug)(struct vcpu *v);
	bool (*native_step)(void);
	uint64_t (*get_dr6)(struct vcpu *v);        /* the guest's DR6, wherever it lives now */
	void (*set_dr6)(struct vcpu *v, uint64_t dr6);
	void (*dump)(struct vcpu *v);
};

extern const struct vcpu_ops *vcpu_ops;
extern const struct vcpu_ops svm_ops;
extern const struct vcpu_ops vmx_ops;

/* Registers: get before reading (fetches lazily), mark dirty after writing. */
void vcpu_need(struct vcpu *v, uint32_t groups);
static inline void vcpu_dirty(struct vcpu *v, uint32_t groups) { v->dirty |= groups; }
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void vcpu_skip_insn(struct vcpu *v);
/* An instruction Petrel carried out for the guest has completed: with
 * RFLAGS.TF set before it, the single-step #DB the CPU would have raised. */
void vcpu_insn_done(struct vcpu *v, uint64_t rflags_before);

#endif
