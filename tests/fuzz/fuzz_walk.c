/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the guest page walker and segmentation
 * (hv/core/gmem.c): guest page tables are bytes a guest wrote.  Input: a
 * 48-byte header (CR0, CR3, CR4, EFER, a linear address, the access, CPL,
 * MAXPHYADDR; zero-padded when shorter) and the rest as the first bytes of
 * a 64 KiB guest RAM (the rest zero).  The walk must never read outside the VM's RAM (ASan), and
 * its answer must be consistent:
 *  - a fault's error code has only P W U RSVD I/D bits, W and U as asked,
 *    RSVD only with P, I/D only for fetches;
 *  - the same walk twice gives the same answer (A/D flags set by the
 *    first do not change it);
 *  - a translation keeps the offset within the 4 KiB page.
 * guest_seg_linear gets the same registers: it either injects #GP, #SS or
 * #AC, or gives an address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/gmem.h>
#include <petrel/vm.h>

#include "fuzz.h"

#define RAM (64u << 10)
#define HEADER 48

const struct vcpu_ops *vcpu_ops;
static int injected = -1;

uint32_t vcpu_pkru(struct vcpu *v) { (void)v; return 0; }
void vcpu_need(struct vcpu *v, uint32_t groups) { (void)v; (void)groups; }
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	(void)v, (void)has_error, (void)error;
	injected = vector;
}

bool io_bus_access(const struct io_bus *bus, bool mmio, struct vcpu *v, uint64_t addr, uint8_t size,
		   bool write, uint64_t *val)
{
	(void)bus, (void)mmio, (void)v, (void)addr, (void)write;
	*val = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	return false;
}

static uint64_t get(const uint8_t *d, unsigned i)
{
	uint64_t v;
	memcpy(&v, d + 8 * i, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	uint8_t data[HEADER] = { 0 };
	static struct vm vm;
	static struct vcpu v;
	uint8_t *ram;
	uint64_t gva, gpa1 = 0, gpa2 = 0, lin;
	uint32_t err1 = 0, err2 = 0;
	unsigned acc;
	int r1, r2;

	memcpy(data, input, size < HEADER ? size : HEADER);
	ram = calloc(1, RAM);
	CHECK(ram != NULL);
	if (size > HEADER)
		memcpy(ram, input + HEADER, size - HEADER < RAM ? size - HEADER : RAM);
	memset(&vm, 0, sizeof(vm));
	memset(&v, 0, sizeof(v));
	vm.ram_size = RAM;
	vm.mem.n = 0;
	mem_add(&vm.mem, &(struct mem_region){ 0, RAM, (uint64_t)(uintptr_t)ram, REGION_RAM, 0, "ram" });
	v.vm = &vm;
	v.regs.cr0 = get(data, 0) | 1;
	v.regs.cr3 = get(data, 1);
	v.regs.cr4 = get(data, 2);
	v.regs.efer = get(data, 3);
	if (!(v.regs.cr0 & (1ull << 31)) || !(v.regs.cr4 & (1ull << 5)))
		v.regs.efer &= ~(1ull << 10); /* LMA only with paging and PAE, as the CPU has it */
	gva = get(data, 4);
	acc = (unsigned)get(data, 5) & (GACC_WRITE | GACC_USER | GACC_FETCH);
	v.regs.cpl = (acc & GACC_USER) ? 3 : 0;
	v.cr_caps.maxphyaddr = (uint8_t)(36 + data[40] % 17);
	v.cr_caps.page_1g = data[41] & 1;
	v.regs.rflags = (data[42] & 1) << 18;
	for (unsigned i = 0; i < 4; i++)
		v.regs.pdpte[i] = get(data + 8, i % 4) ^ (data[43 + i] | 1u);
	v.regs.seg[SEG_CS].attr = (uint16_t)(data[47] << 4) | 0x9b;
	if (!(v.regs.efer & (1ull << 10)) || !(v.regs.seg[SEG_CS].attr & (1u << 9)))
		gva = (uint32_t)gva;

	r1 = gva_translate(&v, gva, acc, &gpa1, &err1);
	r2 = gva_translate(&v, gva, acc, &gpa2, &err2);
	CHECK(r1 == r2 && (r1 ? err1 == err2 : gpa1 == gpa2));
	if (r1) {
		CHECK(!(err1 & ~(PF_P | PF_W | PF_U | PF_RSVD | PF_ID)));
		CHECK(!!(err1 & PF_W) == !!(acc & GACC_WRITE));
		CHECK(!!(err1 & PF_U) == !!(acc & GACC_USER));
		CHECK(!(err1 & PF_RSVD) || (err1 & PF_P));
		CHECK(!(err1 & PF_ID) || (acc & GACC_FETCH));
	} else {
		CHECK((gpa1 & 0xfff) == (gva & 0xfff));
	}
	for (int s = SEG_ES; s <= SEG_GS; s++) {
		v.regs.seg[s] = (struct segment){ .attr = (uint16_t)(get(data, 1) >> (8 * s)),
						  .limit = (uint32_t)get(data, 2), .base = get(data, 3) };
		injected = -1;
		if (guest_seg_linear(&v, s, gva & 0xffffffff, 1u << (data[44] & 3), acc & GACC_WRITE, &lin))
			CHECK(injected == 12 || injected == 13 || injected == 17);
		else
			CHECK(injected == -1);
	}
	free(ram);
	return 0;
}
