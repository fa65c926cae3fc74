/* SPDX-License-Identifier: MIT */
/*
 * The MC146818A RTC and CMOS (hv/dev/rtc_cmos.c): the model and its device.
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_RTC_CMOS_H
#define PETREL_DEV_RTC_CMOS_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

struct rtc_cmos {
	uint8_t cmos[128];     /* time registers hold a frozen time only while SET = 1 */
	uint8_t index;
	bool nmi_masked;       /* port 0x70 bit 7, kept; nothing raises NMIs */
	uint64_t base_ns;      /* the clock at VM time 0, in ns since 1900-01-01 00:00 UTC */
	uint64_t seen_ns;      /* VM time up to which register C's flags are computed */
};

void rtc_reset(struct rtc_cmos *r, uint64_t now, uint64_t unix_ns, uint64_t below_4g, uint64_t above_4g);
uint8_t rtc_read(struct rtc_cmos *r, uint16_t port, uint64_t now);  /* 0x70, 0x71 */
void rtc_write(struct rtc_cmos *r, uint16_t port, uint8_t val, uint64_t now);
void rtc_update(struct rtc_cmos *r, uint64_t now); /* sets PF/AF/UF for time gone by */
bool rtc_irq(const struct rtc_cmos *r);            /* IRQ 8 (register C's IRQF) */
/* VM ns of the next event that would raise IRQ 8, 0 if none can. */
uint64_t rtc_next_event(const struct rtc_cmos *r, uint64_t now);

extern const struct device_type rtc_cmos_device;

#endif
