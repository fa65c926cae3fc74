/* SPDX-License-Identifier: MIT */
/*
 * The simpler devices of the emulated PC platform (hv/dev/): the 8259A PIC
 * pair, the 8254 PIT (with port 0x61), the MC146818A RTC and CMOS, the ACPI
 * PM registers, PCI configuration mechanism #1 (with 0xCF9), and the odds
 * and ends (POST port, port 0x92, an i8042 just enough to reset).
 *
 * Each device is two parts in one file.  The model: a state struct and
 * functions that take the VM clock `now` (ns) as an argument, with no
 * globals and no calls into the hypervisor, so tests/unit/ drives them with
 * any clock.  The glue, at the end of the file: per-VM state indexed by
 * vm->id, NAME_init() registering ports (and timers), and I/O callbacks
 * that feed the model vm_now_ns(vm).  Fixed-address devices take absolute
 * port numbers; a port that is not theirs reads 0xff and ignores writes.
 */
#ifndef PETREL_DEV_H
#define PETREL_DEV_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* What a write asks of the VM as a whole; the glue turns it into
 * vm_request_reset() or vm_request_poweroff(). */
enum dev_request { DEV_REQ_NONE, DEV_REQ_RESET, DEV_REQ_POWEROFF };

/* --- 8259A PIC pair (hv/dev/pic8259.c) ----------------------------------- */

struct pic8259_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;       /* input levels, for edge detection */
	uint8_t elcr;        /* 1 = level-triggered (ELCR, 0x4d0/0x4d1) */
	uint8_t base;        /* ICW2: vector of IR0 (low 3 bits 0) */
	uint8_t icw3;
	uint8_t init_step;   /* 0 = ready; 2, 3, 4 = expecting that ICW */
	uint8_t prio;        /* the IR with the highest priority (rotation) */
	bool single, need_icw4, auto_eoi, rotate_on_aeoi;
	bool read_isr, poll, special_mask;
};

struct pic8259 {
	struct pic8259_chip chip[2]; /* master 0x20, slave 0xa0 on master IR2 */
};

void pic_reset(struct pic8259 *p);
void pic_set_irq(struct pic8259 *p, unsigned irq, bool level); /* ISA IRQ 0-15 */
bool pic_has_output(const struct pic8259 *p);                  /* INT to the CPU */
int pic_ack(struct pic8259 *p);                                /* INTA: the vector */
uint8_t pic_read(struct pic8259 *p, uint16_t port);            /* 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 */
void pic_write(struct pic8259 *p, uint16_t port, uint8_t val);

int pic_init(struct vm *vm);
struct pic8259 *vm_pic(struct vm *vm);

/* --- 8254 PIT and port 0x61 (hv/dev/pit8254.c) ---------------------------- */

#define PIT_CLOCK_HZ 1193182u

struct pit_channel {
	uint8_t mode;          /* 0-5 */
	uint8_t access;        /* 1 lsb, 2 msb, 3 lsb then msb */
	uint8_t ctrl;          /* the control word's bits 5:0, for the status byte */
	uint32_t reload;       /* 1..65536 (a written 0 means 65536) */
	bool armed;            /* modes 1, 5: a count waits for a gate trigger */
	bool loaded;           /* the counting element holds a count */
	bool running;          /* counting now (gate, trigger) */
	bool gate;
	bool null_count;
	uint64_t start;        /* VM ns when the current run began */
	uint64_t base_ticks;   /* ticks counted before `start` (modes 0, 4 paused by the gate) */
	bool write_msb, read_msb;
	uint8_t write_lsb;
	bool latched, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct pit8254 {
	struct pit_channel ch[3];
	uint8_t port61;        /* bits 3:0 as written: gate 2, speaker, NMI enables */
	bool refresh;          /* port 0x61 bit 4 */
};

void pit_reset(struct pit8254 *p);
uint8_t pit_read(struct pit8254 *p, uint16_t port, uint64_t now);   /* 0x40-0x43, 0x61 */
void pit_write(struct pit8254 *p, uint16_t port, uint8_t val, uint64_t now);
void pit_set_gate(struct pit8254 *p, unsigned ch, bool level, uint64_t now);
bool pit_out(const struct pit8254 *p, unsigned ch, uint64_t now);
/* VM ns of the next rising edge of OUT after `now`, 0 if none will come
 * without the guest reprogramming the channel. */
uint64_t pit_next_edge(const struct pit8254 *p, unsigned ch, uint64_t now);

int pit_init(struct vm *vm);

/* --- MC146818A RTC and CMOS (hv/dev/rtc_cmos.c) --------------------------- */

struct rtc_cmos {
	uint8_t cmos[128];     /* time registers hold a frozen time only while SET = 1 */
	uint8_t index;
	bool nmi_masked;       /* port 0x70 bit 7, kept; nothing raises NMIs */
	uint64_t base_ns;      /* the clock at VM time 0, in ns since 1900-01-01 00:00 UTC */
	uint64_t seen_ns;      /* VM time up to which register C's flags are computed */
};

void rtc_reset(struct rtc_cmos *r, uint64_t now, uint64_t unix_ns, uint64_t ram_size);
uint8_t rtc_read(struct rtc_cmos *r, uint16_t port, uint64_t now);  /* 0x70, 0x71 */
void rtc_write(struct rtc_cmos *r, uint16_t port, uint8_t val, uint64_t now);
void rtc_update(struct rtc_cmos *r, uint64_t now); /* sets PF/AF/UF for time gone by */
bool rtc_irq(const struct rtc_cmos *r);            /* IRQ 8 (register C's IRQF) */
/* VM ns of the next event that would raise IRQ 8, 0 if none can. */
uint64_t rtc_next_event(const struct rtc_cmos *r, uint64_t now);

int rtc_init(struct vm *vm, uint64_t ram_size);

/* --- ACPI PM1a event/control blocks and PM timer (hv/dev/acpi_pm.c) ------- */

#define ACPI_PM_TIMER_HZ 3579545u
#define ACPI_PM_LEN 12 /* PM1a_EVT (4), PM1a_CNT (2), a gap (2), PM_TMR (4) */

struct acpi_pm {
	uint16_t sts, en, cnt;
	uint64_t tmr_sts_since; /* VM ns TMR_STS was last cleared */
};

void acpi_pm_reset(struct acpi_pm *pm, uint64_t now);
/* off: from the block's base; size 1, 2 or 4. */
uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned off, unsigned size, uint64_t now);
enum dev_request acpi_pm_write(struct acpi_pm *pm, unsigned off, unsigned size, uint32_t val,
			       uint64_t now);

int acpi_pm_init(struct vm *vm, uint16_t base);

/* --- PCI configuration mechanism #1 and 0xCF9 (hv/dev/pci_host.c) --------- */

struct pci_host {
	uint32_t addr;         /* CONFIG_ADDRESS (0xCF8) */
	uint16_t bridge_cmd;   /* 00:00.0's command register */
	uint8_t rcr;           /* reset control register (0xCF9) */
};

void pci_host_reset(struct pci_host *h);
uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size);  /* 0xCF8-0xCFF */
enum dev_request pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t val);

int pci_host_init(struct vm *vm);

/* --- POST code, port 0x92, i8042 stub (hv/dev/legacy.c) -------------------- */

struct legacy_ports {
	uint8_t post;          /* port 0x80 */
	uint8_t port92;
	uint8_t kbc_cmd;       /* an i8042 command waiting for its data byte */
	bool kbc_last_cmd;     /* status bit 3: the last write went to 0x64 */
};

void legacy_reset(struct legacy_ports *l);
uint8_t legacy_read(struct legacy_ports *l, uint16_t port);  /* 0x60, 0x64, 0x80, 0x92 */
/* *why says which reset it was when DEV_REQ_RESET is returned. */
enum dev_request legacy_write(struct legacy_ports *l, uint16_t port, uint8_t val, const char **why);

int legacy_init(struct vm *vm);

#endif
