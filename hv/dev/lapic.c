/* SPDX-License-Identifier: MIT */
/*
 * The emulated local APIC, one per vCPU (SDM vol. 3A chapter 11).
 *
 * xAPIC through MMIO at 0xfee00000 and x2APIC through MSRs 0x800-0x8ff,
 * the same registers behind both.  IRR/ISR/TMR with priority (TPR, PPR),
 * EOI (forwarded to the IOAPIC for level-triggered vectors), the LVT, and
 * the timer in one-shot, periodic and TSC-deadline modes on a vtimer.
 * LINT0 in ExtINT mode passes the 8259's interrupts through, as a BIOS
 * leaves it ("virtual wire", MP spec §3.6.2.2).
 * Interrupts between vCPUs (IPIs) reach the vCPUs of the same VM; INIT and
 * SIPI are for the multi-vCPU issue and are reported, not ignored.
 * IA32_APIC_BASE moves between the modes as the SDM's figure 11-27 allows
 * (disabled, xAPIC, x2APIC; x2APIC only when CPUID offers it), and
 * disabling resets the APIC as §11.4.3 says.
 *
 * As a device: one instance per VM holds an APIC per vCPU.  Each vCPU
 * takes its interrupts from its APIC (an interrupt source), and its CR8
 * is the APIC's TPR.  The IOAPIC's messages and IPIs come over the VM's
 * APIC bus; EOIs of level-triggered vectors go back to the IOAPIC; the
 * 8259 comes in as ExtINT.
 */
#include <petrel/board.h>
#include <petrel/dev/apic.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define REG_ID 0x020
#define REG_VERSION 0x030
#define REG_TPR 0x080
#define REG_APR 0x090
#define REG_PPR 0x0a0
#define REG_EOI 0x0b0
#define REG_LDR 0x0d0
#define REG_DFR 0x0e0
#define REG_SVR 0x0f0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_LVT_CMCI 0x2f0
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0
#define REG_SELF_IPI 0x3f0

/* LVT slots by (reg - 0x2f0) / 16: CMCI 0, (ICR at 1 and 2), timer 3,
 * thermal 4, perf 5, LINT0 6, LINT1 7, error 8. */
#define NR_LVT 9
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_MODE(v) (((v) >> 8) & 7)
#define MODE_FIXED 0
#define MODE_LOWEST 1
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_SIPI 6
#define MODE_EXTINT 7
#define TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2
#define SVR_ENABLE (1u << 8)

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

struct lapics;

struct vlapic {
	struct vm *vm;
	struct vcpu *v;
	struct lapics *all;   /* every APIC of the VM (IPIs) */
	uint32_t index;       /* the vCPU's number: its APIC ID at reset */
	uint64_t gpa;         /* the MMIO page's base (the board's) */
	uint64_t apic_base;
	uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
	uint32_t lvt[NR_LVT]; /* indexed by (reg - 0x2f0) / 16, CMCI first */
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t timer_init, timer_div;
	uint64_t timer_start; /* VM clock when the count was loaded */
	uint64_t tsc_deadline;
	struct vtimer timer;
};

/* The device: every vCPU's APIC. */
struct lapics {
	struct vm *vm;
	uint32_t n;
	uint32_t lowest_next; /* where the search for a lowest-priority target starts */
	struct vlapic l[];
};

static struct vlapic *of(struct lapics *c, struct vcpu *v)
{
	uint32_t i = vcpu_index(v);
	return i < c->n ? &c->l[i] : NULL;
}

static uint32_t *lvt_reg(struct vlapic *l, uint32_t reg)
{
	return &l->lvt[(reg - REG_LVT_CMCI) / 16];
}

/* --- vectors: IRR, ISR, priority ------------------------------------------- */

static void set_bit(uint32_t *map, uint8_t v) { map[v / 32] |= 1u << (v % 32); }
static void clear_bit(uint32_t *map, uint8_t v) { map[v / 32] &= ~(1u << (v % 32)); }
static bool test_bit(const uint32_t *map, uint8_t v) { return map[v / 32] >> (v % 32) & 1; }

static int highest(const uint32_t *map)
{
	for (int i = 7; i >= 0; i--)
		if (map[i])
			return i * 32 + 31 - __builtin_clz(map[i]);
	return -1;
}

/* PPR = TPR if its class is at least that of the highest in-service
 * vector, else that class (SDM vol. 3A §11.8.3.1). */
static uint32_t ppr(const struct vlapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

static void vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
	if (vector < 16) { /* illegal vector: ESR "receive illegal vector" */
		l->esr |= 1u << 6;
		return;
	}
	set_bit(l->irr, vector);
	if (level)
		set_bit(l->tmr, vector);
	else
		clear_bit(l->tmr, vector);
}

static bool sw_enabled(const struct vlapic *l)
{
	return (l->apic_base & APIC_BASE_EN) && (l->svr & SVR_ENABLE);
}

/* The 8259 reaches the CPU through LINT0 in ExtINT mode, or directly when
 * the local APIC is disabled in IA32_APIC_BASE. */
static bool extint_open(const struct vlapic *l)
{
	uint32_t lint0 = l->lvt[(REG_LVT_LINT0 - REG_LVT_CMCI) / 16];
	if (!(l->apic_base & APIC_BASE_EN))
		return true;
	return !(lint0 & LVT_MASKED) && LVT_MODE(lint0) == MODE_EXTINT;
}

static int deliverable(const struct vlapic *l)
{
	int v = highest(l->irr);
	if (v < 0 || !sw_enabled(l) || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

/* The vCPU's interrupt source: a deliverable vector, or the 8259's. */
static bool irq_pending(void *ctx)
{
	struct vlapic *l = ctx;
	if (deliverable(l) >= 0)
		return true;
	return extint_open(l) && vm_extint_pending(l->vm);
}

static int irq_take(void *ctx)
{
	struct vlapic *l = ctx;
	int v = deliverable(l);

	if (v >= 0) {
		clear_bit(l->irr, (uint8_t)v);
		set_bit(l->isr, (uint8_t)v);
		return v;
	}
	if (extint_open(l) && vm_extint_pending(l->vm))
		return vm_extint_ack(l->vm);
	return -1;
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	clear_bit(l->isr, (uint8_t)v);
	if (test_bit(l->tmr, (uint8_t)v))
		vm_eoi(l->vm, (uint8_t)v);
}

/* --- the timer ------------------------------------------------------------ */

static uint32_t divisor(const struct vlapic *l)
{
	uint32_t d = (l->timer_div & 3) | ((l->timer_div & 8) >> 1);
	return d == 7 ? 1 : 2u << d;
}

static uint64_t period_ns(const struct vlapic *l)
{
	return (uint64_t)l->timer_init * divisor(l) * (NS_PER_SEC / LAPIC_BUS_HZ);
}

/* How often a periodic timer interrupts: its period, but never more often
 * than TIMER_MIN_PERIOD_NS (the count still runs at the programmed rate). */
static uint64_t irq_period_ns(const struct vlapic *l)
{
	return MAX(period_ns(l), TIMER_MIN_PERIOD_NS);
}

static void timer_fire(struct vtimer *t, uint64_t now)
{
	struct vlapic *l = t->ctx;
	uint32_t lvt = *lvt_reg(l, REG_LVT_TIMER);

	if (!(lvt & LVT_MASKED) && sw_enabled(l))
		vlapic_accept(l, (uint8_t)lvt, false);
	if (TIMER_MODE(lvt) == TIMER_PERIODIC && period_ns(l)) {
		/* Keep the phase: the next expiry counts from the last one. */
		uint64_t p = irq_period_ns(l);
		l->timer_start += ((now - l->timer_start) / p) * p;
		vtimer_arm(t, l->timer_start + p);
	} else if (TIMER_MODE(lvt) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0;
	}
}

static void timer_start(struct vlapic *l, uint64_t now)
{
	l->timer_start = now;
	if (l->timer_init && TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER)) == TIMER_PERIODIC)
		vtimer_arm(&l->timer, now + irq_period_ns(l));
	else if (l->timer_init && TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER)) != TIMER_TSC_DEADLINE)
		vtimer_arm(&l->timer, now + period_ns(l));
	else
		vtimer_cancel(&l->timer);
}

static uint32_t timer_current(struct vlapic *l, uint64_t now)
{
	uint64_t p = period_ns(l), elapsed = now - l->timer_start;

	if (!p || TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER)) == TIMER_TSC_DEADLINE)
		return 0;
	if (TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER)) == TIMER_PERIODIC)
		elapsed %= p;
	else if (elapsed >= p)
		return 0;
	return (uint32_t)((p - elapsed) / divisor(l));
}

/* A deadline is in guest TSC ticks: host TSC = guest - tsc_offset, and the
 * VM clock counts from start_tsc. */
static void set_tsc_deadline(struct vlapic *l, uint64_t deadline)
{
	l->tsc_deadline = deadline;
	if (!deadline || TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER)) != TIMER_TSC_DEADLINE) {
		vtimer_cancel(&l->timer);
		return;
	}
	vtimer_arm(&l->timer, vcpu_tsc_to_vm_ns(l->v, deadline));
}

static void apic_reset(struct vlapic *l);

/* --- interrupts between CPUs ------------------------------------------------ */

static bool addressed(const struct vlapic *l, uint32_t dest, bool logical)
{
	bool x2 = l->apic_base & APIC_BASE_EXTD;

	if (!logical)
		return dest == (x2 ? 0xffffffffu : 0xffu) || dest == l->id;
	if (x2) /* cluster in bits 31:16, member bitmap in 15:0 */
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	if ((l->dfr >> 28) == 0xf) /* flat model */
		return (dest & (l->ldr >> 24)) != 0;
	return (dest >> 4) == (l->ldr >> 28) && (dest & (l->ldr >> 24) & 0xf); /* cluster */
}

static void deliver_one(struct vlapic *l, uint8_t vector, uint8_t mode, bool level)
{
	if (!(l->apic_base & APIC_BASE_EN))
		return; /* a disabled APIC takes no messages */
	switch (mode) {
	case MODE_FIXED:
	case MODE_LOWEST: /* bus_deliver chose this one */
		vlapic_accept(l, vector, level);
		vcpu_kick(l->v);
		break;
	case MODE_NMI:
		vcpu_nmi(l->v);
		break;
	case MODE_INIT: /* the APIC resets with its CPU, keeping its base (§11.4.7.3) */
		apic_reset(l);
		vcpu_init_signal(l->v);
		break;
	case MODE_SIPI:
		vcpu_sipi(l->v, vector);
		break;
	default:
		pr_warn("vm %s: IPI delivery mode %u to vcpu %u not supported yet\n", vm_name(l->vm), mode,
			l->index);
		break;
	}
}

/* The VM's APIC bus: a message to every APIC it addresses; a
 * lowest-priority one to a single APIC among them, the one with the
 * lowest processor priority, the first of those after the last one chosen
 * when several tie (SDM vol. 3A §11.6.2.4 leaves the choice to the
 * chipset). */
static void bus_deliver(void *ctx, const struct apic_msg *m)
{
	struct lapics *c = ctx;
	struct vlapic *best = NULL;

	for (uint32_t k = 0; k < c->n; k++) {
		struct vlapic *l = &c->l[(c->lowest_next + k) % c->n];
		if (!addressed(l, m->dest, m->logical))
			continue;
		if (m->mode != MODE_LOWEST)
			deliver_one(l, m->vector, m->mode, m->level);
		else if ((l->apic_base & APIC_BASE_EN) && (!best || ppr(l) < ppr(best)))
			best = l;
	}
	if (best) {
		c->lowest_next = (best->index + 1) % c->n;
		deliver_one(best, m->vector, m->mode, m->level);
	}
}

static void send_ipi(struct vlapic *l)
{
	uint8_t vector = (uint8_t)l->icr_lo, mode = LVT_MODE(l->icr_lo), shorthand = (l->icr_lo >> 18) & 3;
	bool logical = (l->icr_lo >> 11) & 1, x2 = l->apic_base & APIC_BASE_EXTD;
	struct apic_msg m = { .dest = x2 ? l->icr_hi : l->icr_hi >> 24, .logical = logical,
			      .vector = vector, .mode = mode };
	struct lapics *c = l->all;

	/* INIT level de-assert (level 0, trigger level) only synchronises
	 * arbitration IDs on old CPUs; since the Pentium 4 it does nothing. */
	if (mode == MODE_INIT && (l->icr_lo & (1u << 15)) && !(l->icr_lo & (1u << 14)))
		return;
	switch (shorthand) {
	case 0: vm_send_apic_msg(l->vm, &m); break;
	case 1: deliver_one(l, vector, mode, false); break;
	default: /* all including (2) / excluding (3) self */
		for (uint32_t i = 0; i < c->n; i++)
			if (&c->l[i] != l || shorthand == 2)
				deliver_one(&c->l[i], vector, mode, false);
		break;
	}
}

/* --- registers -------------------------------------------------------------- */

static uint32_t read_reg(struct vlapic *l, uint32_t reg)
{
	bool x2 = l->apic_base & APIC_BASE_EXTD;

	if (reg >= REG_ISR && reg < REG_ISR + 0x80)
		return l->isr[(reg - REG_ISR) / 16];
	if (reg >= REG_TMR && reg < REG_TMR + 0x80)
		return l->tmr[(reg - REG_TMR) / 16];
	if (reg >= REG_IRR && reg < REG_IRR + 0x80)
		return l->irr[(reg - REG_IRR) / 16];
	if (reg >= REG_LVT_CMCI && reg <= REG_LVT_ERROR && reg != REG_ICR_LO && reg != REG_ICR_HI)
		return *lvt_reg(l, reg);
	switch (reg) {
	case REG_ID: return x2 ? l->id : l->id << 24;
	case REG_VERSION: return 0x00050014; /* version 0x14, 6 LVT entries beyond CMCI */
	case REG_TPR: return l->tpr;
	case REG_APR: return 0;
	case REG_PPR: return ppr(l);
	case REG_LDR: return l->ldr;
	case REG_DFR: return x2 ? 0 : l->dfr;
	case REG_SVR: return l->svr;
	case REG_ESR: return l->esr;
	case REG_ICR_LO: return l->icr_lo & ~(1u << 12); /* delivery is instant: never pending */
	case REG_ICR_HI: return l->icr_hi;
	case REG_TIMER_INIT: return l->timer_init;
	case REG_TIMER_CUR: return timer_current(l, vm_now_ns(l->vm));
	case REG_TIMER_DIV: return l->timer_div;
	default: return 0;
	}
}

static void write_lvt(struct vlapic *l, uint32_t reg, uint32_t val)
{
	uint32_t old_mode = TIMER_MODE(*lvt_reg(l, REG_LVT_TIMER));

	if (!(l->svr & SVR_ENABLE))
		val |= LVT_MASKED; /* a software-disabled APIC keeps every LVT masked */
	*lvt_reg(l, reg) = val;
	if (reg == REG_LVT_TIMER && TIMER_MODE(val) != old_mode) {
		/* Switching modes stops the timer (SDM vol. 3A §11.5.4.1). */
		l->timer_init = 0;
		l->tsc_deadline = 0;
		vtimer_cancel(&l->timer);
	}
}

static void write_svr(struct vlapic *l, uint32_t val)
{
	l->svr = val & 0x11ff;
	if (!(val & SVR_ENABLE))
		for (int i = 0; i < NR_LVT; i++)
			l->lvt[i] |= LVT_MASKED;
}

static void write_reg(struct vlapic *l, uint32_t reg, uint32_t val)
{
	bool x2 = l->apic_base & APIC_BASE_EXTD;

	if (reg >= REG_LVT_CMCI && reg <= REG_LVT_ERROR && reg != REG_ICR_LO && reg != REG_ICR_HI) {
		write_lvt(l, reg, val);
		return;
	}
	switch (reg) {
	case REG_ID: if (!x2) l->id = val >> 24; break;
	case REG_TPR: l->tpr = val & 0xff; break;
	case REG_EOI: eoi(l); break;
	case REG_LDR: if (!x2) l->ldr = val & 0xff000000u; break;
	case REG_DFR: if (!x2) l->dfr = val | 0x0fffffffu; break;
	case REG_SVR: write_svr(l, val); break;
	case REG_ESR: l->esr = 0; break; /* a write re-arms it; we raise no errors */
	case REG_ICR_HI: if (!x2) l->icr_hi = val; break;
	case REG_ICR_LO: l->icr_lo = val; send_ipi(l); break;
	case REG_TIMER_INIT:
		l->timer_init = val;
		timer_start(l, vm_now_ns(l->vm));
		break;
	case REG_TIMER_DIV: l->timer_div = val & 0xb; break;
	case REG_SELF_IPI: if (x2) vlapic_accept(l, (uint8_t)val, false); break;
	default: break; /* read-only registers */
	}
}

/* xAPIC MMIO: 32-bit registers on 16-byte boundaries; narrower or
 * misaligned accesses see the dword that holds them.  Each vCPU sees its
 * own APIC there. */
static uint64_t mmio_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct vlapic *l = of(dev, v);
	(void)size;
	if (!l || (l->apic_base & (APIC_BASE_EXTD | APIC_BASE_EN)) != APIC_BASE_EN)
		return ~0ull; /* disabled, or x2APIC: the MMIO page is gone (SDM §11.12.1.2) */
	return read_reg(l, (uint32_t)off & 0xff0) >> (8 * (off & 3));
}

static void mmio_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct vlapic *l = of(dev, v);
	(void)size;
	if (l && (l->apic_base & (APIC_BASE_EXTD | APIC_BASE_EN)) == APIC_BASE_EN && (off & 0xf) == 0)
		write_reg(l, (uint32_t)off & 0xff0, (uint32_t)val);
}

/* CR8 is TPR[7:4] (SDM vol. 3A §11.8.6.1): MOV CR8 exits under VMX. */
static uint8_t get_tpr(void *apic)
{
	return (uint8_t)((struct vlapic *)apic)->tpr;
}

static void set_tpr(void *apic, uint8_t tpr)
{
	((struct vlapic *)apic)->tpr = tpr;
}

static bool hw_enabled(void *apic)
{
	return ((struct vlapic *)apic)->apic_base & APIC_BASE_EN;
}

static const struct vcpu_apic_ops apic_ops = { .get_tpr = get_tpr, .set_tpr = set_tpr, .enabled = hw_enabled };

/* --- MSRs ------------------------------------------------------------------- */

static int msr_read(void *dev, struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct vlapic *l = of(dev, v);
	uint32_t reg = (msr - 0x800) << 4;

	if (!l)
		return -1;
	if (msr == MSR_APIC_BASE) {
		*val = l->apic_base;
		return 0;
	}
	if (msr == MSR_TSC_DEADLINE) {
		*val = l->tsc_deadline;
		return 0;
	}
	if (msr < 0x800 || msr > 0x8ff || !(l->apic_base & APIC_BASE_EXTD) || reg == REG_EOI ||
	    reg == REG_SELF_IPI)
		return -1;
	*val = reg == REG_ICR_LO ? ((uint64_t)l->icr_hi << 32) | l->icr_lo : read_reg(l, reg);
	return 0;
}

static void apic_reset(struct vlapic *l);

/*
 * IA32_APIC_BASE (SDM vol. 3A §11.4.4, §11.12.5): the modes are disabled
 * (EN=0), xAPIC (EN) and x2APIC (EN|EXTD, only where CPUID offers it);
 * EXTD without EN, x2APIC back to xAPIC and disabled straight to x2APIC
 * are not transitions the CPU makes (#GP).  Disabling resets the APIC
 * (§11.4.3: its state is lost); enabling it again starts it
 * software-disabled, as after reset.
 */
static int write_apic_base(struct vlapic *l, uint64_t val)
{
	uint64_t allowed = APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN | 0xfffff000ull;
	uint64_t old = l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD), now = val & (APIC_BASE_EN | APIC_BASE_EXTD);

	if ((val & ~allowed) || now == APIC_BASE_EXTD || (now & APIC_BASE_EXTD && !vcpu_x2apic_offered(l->v)) ||
	    (old == (APIC_BASE_EN | APIC_BASE_EXTD) && now == APIC_BASE_EN) ||
	    (old == 0 && now == (APIC_BASE_EN | APIC_BASE_EXTD)))
		return -1;
	if ((val & 0xfffff000ull) != l->gpa)
		pr_warn("vm %s: moving the local APIC to 0x%llx is not supported\n", vm_name(l->vm),
			(unsigned long long)(val & 0xfffff000ull));
	if (!now && old)
		apic_reset(l);
	if ((val & APIC_BASE_EXTD) && !(l->apic_base & APIC_BASE_EXTD)) /* x2APIC IDs and LDR */
		l->ldr = ((l->id >> 4) << 16) | (1u << (l->id & 0xf));
	l->apic_base = (val & ~0xfffff000ull) | l->gpa;
	return 0;
}

static int msr_write(void *dev, struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vlapic *l = of(dev, v);
	uint32_t reg = (msr - 0x800) << 4;

	if (!l)
		return -1;
	if (msr == MSR_APIC_BASE)
		return write_apic_base(l, val);
	if (msr == MSR_TSC_DEADLINE) {
		set_tsc_deadline(l, val);
		return 0;
	}
	if (msr < 0x800 || msr > 0x8ff || !(l->apic_base & APIC_BASE_EXTD))
		return -1;
	if (reg == REG_ICR_LO) {
		l->icr_hi = (uint32_t)(val >> 32);
		l->icr_lo = (uint32_t)val;
		send_ipi(l);
		return 0;
	}
	write_reg(l, reg, (uint32_t)val);
	return 0;
}

/* --- set-up ----------------------------------------------------------------- */

/* The registers as after RESET or a disable (§11.4.7.1): LVTs masked,
 * software-disabled until the OS sets SVR.  LINT0 in ExtINT (the 8259
 * passes through) and LINT1 NMI, as a BIOS leaves them, only at power-on. */
static void apic_reset(struct vlapic *l)
{
	vtimer_cancel(&l->timer);
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->id = l->index;
	l->tpr = l->ldr = l->esr = l->icr_lo = l->icr_hi = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	for (int i = 0; i < NR_LVT; i++)
		l->lvt[i] = LVT_MASKED;
	l->timer_init = l->timer_div = 0;
	l->tsc_deadline = 0;
}

static void power_on(struct vlapic *l)
{
	apic_reset(l);
	l->apic_base = l->gpa | APIC_BASE_EN | (l->index == 0 ? APIC_BASE_BSP : 0);
	l->lvt[(REG_LVT_LINT0 - REG_LVT_CMCI) / 16] = MODE_EXTINT << 8;
	l->lvt[(REG_LVT_LINT0 + 0x10 - REG_LVT_CMCI) / 16] = MODE_NMI << 8;
}

/* One APIC per vCPU; the MMIO page at the board's address, the MSRs, the
 * VM's APIC bus. */
static int lapic_create(struct vm *vm, const struct board_device *bd)
{
	uint32_t n = vm_nr_vcpus(vm);
	struct lapics *c = vm_alloc(vm, sizeof(*c) + n * sizeof(c->l[0]));

	if (!c)
		return -1;
	c->vm = vm;
	c->n = n;
	for (uint32_t i = 0; i < n; i++) {
		struct vlapic *l = &c->l[i];
		l->vm = vm;
		l->all = c;
		l->v = vm_vcpu(vm, i);
		l->index = i;
		l->gpa = bd->mmio;
		vtimer_init(&l->timer, vm, timer_fire, l);
		vtimer_set_home(&l->timer, l->v);
		power_on(l);
		vcpu_set_apic(l->v, &apic_ops, l);
		if (vcpu_add_irq_source(l->v, irq_pending, irq_take, l))
			return -1;
	}
	vm_set_apic_bus(vm, bus_deliver, c);
	if (vm_register_msr(vm, MSR_APIC_BASE, MSR_APIC_BASE, msr_read, msr_write, c) ||
	    vm_register_msr(vm, MSR_TSC_DEADLINE, MSR_TSC_DEADLINE, msr_read, msr_write, c) ||
	    vm_register_msr(vm, 0x800, 0x8ff, msr_read, msr_write, c))
		return -1;
	return vm_register_mmio(vm, bd->mmio, 0x1000, mmio_read, mmio_write, c, "lapic");
}

const struct device_type lapic_device = { .name = "local APIC", .create = lapic_create };
