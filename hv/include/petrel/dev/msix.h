/* SPDX-License-Identifier: MIT */
/*
 * MSI-X for a PCI function (PCI Local Bus 3.0 §6.8.2): the capability
 * (ID 0x11: Message Control with the table size, enable and function
 * mask; where the table and the pending-bit array lie in a BAR), the
 * table of vectors (message address, data, vector control with its mask
 * bit, 16 bytes each) and the pending bits.  A device asks for vector v
 * with msix_notify(): the message goes out through the send callback,
 * or, while the vector or the function is masked, its pending bit is set
 * and the message goes when it is unmasked.  Pure C
 * (tests/unit/test_msix.c); msix_to_apic() reads a message as the local
 * APICs take it (Intel SDM Vol. 3 §11.11, Message Address and Data).
 */
#ifndef PETREL_DEV_MSIX_H
#define PETREL_DEV_MSIX_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define MSIX_MAX_VECTORS 8
#define MSIX_CAP_LEN 12
#define MSIX_ENTRY 16
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_MASK (1u << 14)
#define MSIX_ENTRY_MASKED 1u

struct msix {
	uint16_t nr;             /* vectors in the table: 1..MSIX_MAX_VECTORS */
	uint8_t bar;             /* the BAR holding the table and the PBA */
	uint32_t table, pba;     /* their offsets in it (8-byte aligned) */
	bool enabled, masked;    /* Message Control: MSI-X Enable, Function Mask */
	struct { uint32_t addr_lo, addr_hi, data, ctrl; } e[MSIX_MAX_VECTORS];
	uint32_t pending;        /* the PBA: one bit per vector */
	void (*send)(void *ctx, uint64_t addr, uint32_t data);
	void *ctx;
};

void msix_init(struct msix *m, uint16_t nr, uint8_t bar, uint32_t table, uint32_t pba,
	       void (*send)(void *ctx, uint64_t addr, uint32_t data), void *ctx);
/* The function's reset: disabled, every vector masked, nothing pending. */
void msix_reset(struct msix *m);
/* The capability's MSIX_CAP_LEN bytes, its next pointer `next`. */
void msix_cap(const struct msix *m, uint8_t *c, uint8_t next);
/* A write to the capability at byte `off` of it (only Message Control's
 * enable and mask bits take one). */
void msix_cap_write(struct msix *m, unsigned off, unsigned size, uint32_t val);
/* Accesses at `off` in the BAR: true when they fall in the table or the
 * PBA (dword or qword, aligned; others read 0 and write nothing). */
bool msix_bar_read(struct msix *m, uint64_t off, unsigned size, uint64_t *val);
bool msix_bar_write(struct msix *m, uint64_t off, unsigned size, uint64_t val);
/* The device signals vector v: sent now, or left pending while masked.
 * Nothing for a vector past the table. */
void msix_notify(struct msix *m, unsigned v);

/* A message as an interrupt for the local APICs: false for an address
 * outside 0xFEE00000-0xFEEFFFFF (a write to memory, not an interrupt). */
bool msix_to_apic(uint64_t addr, uint32_t data, struct apic_msg *out);

#endif
