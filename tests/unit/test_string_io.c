/* SPDX-License-Identifier: MIT */
/* hv/core/string_io.c: INS and OUTS with the real guest-memory code
 * (gmem.c) and I/O bus (io_bus.c) underneath, a fake port at 0x510 (reads
 * count up, writes are recorded) and a fake guest RAM.  The exception
 * injection and the instruction decoder are stubbed: the test says what the
 * instruction at RIP is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/vm.h>
#include <petrel/x86_decode.h>

#include "../../hv/core/core.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define RAM_SIZE (16u << 20)
#define PORT 0x510

static struct vm vm;
static struct vcpu vcpu;
static int injected_vector = -1;
static uint32_t injected_error;
static struct x86_insn decoded;
static int decodes;
static uint8_t next_in;
static uint8_t out_log[64];
static unsigned outs;
const struct vcpu_ops *vcpu_ops;

uint32_t vcpu_pkru(struct vcpu *v) { (void)v; return 0; }
void vcpu_need(struct vcpu *v, uint32_t groups) { (void)v; (void)groups; }
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	(void)v;
	(void)has_error;
	injected_vector = vector;
	injected_error = error;
}

int vcpu_decode(struct vcpu *v, struct x86_insn *insn)
{
	(void)v;
	decodes++;
	*insn = decoded;
	return 0;
}

static uint64_t port_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	uint64_t val = 0;
	(void)dev, (void)v, (void)off;
	for (uint8_t i = 0; i < size; i++)
		val |= (uint64_t)next_in++ << (8 * i);
	return val;
}

static void port_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)dev, (void)v, (void)off;
	for (uint8_t i = 0; i < size && outs < sizeof(out_log); i++)
		out_log[outs++] = (uint8_t)(val >> (8 * i));
}

static uint8_t *ram;

static int setup(void **state)
{
	struct io_range r = { .base = PORT, .len = 4, .read = port_read, .write = port_write, .name = "fake" };
	(void)state;
	ram = calloc(1, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.ram_size = RAM_SIZE;
	vm.mem.n = 0;
	mem_add(&vm.mem, &(struct mem_region){ 0, RAM_SIZE, (uint64_t)(uintptr_t)ram, REGION_RAM, 0, "ram" });
	io_bus_add(&vm.bus, false, &r);
	vcpu.vm = &vm;
	vcpu.cr_caps.maxphyaddr = 40;
	/* flat 32-bit protected mode, paging off */
	vcpu.regs.cr0 = 0x11;
	vcpu.regs.rflags = 2;
	vcpu.regs.seg[SEG_CS] = (struct segment){ .sel = 8, .attr = 0xc9b, .limit = 0xffffffff };
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			vcpu.regs.seg[s] = (struct segment){ .sel = 0x10, .attr = 0xc93, .limit = 0xffffffff };
	vcpu.exit = (struct exit_req){ .kind = EXIT_IO };
	vcpu.exit.io.port = PORT;
	vcpu.exit.io.size = 1;
	vcpu.exit.io.string = true;
	vcpu.exit.io.addr_size = 4;
	vcpu.exit.io.seg = SEG_DS;
	injected_vector = -1;
	decodes = 0;
	next_in = 1;
	outs = 0;
	memset(&decoded, 0, sizeof(decoded));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static uint64_t *gpr(int r) { return &vcpu.regs.gpr[r]; }

TEST(rep_insb_forward_and_backward)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	*gpr(GPR_RDI) = 0x1000;
	*gpr(GPR_RCX) = 3;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_memory_equal(ram + 0x1000, "\1\2\3", 3);
	assert_int_equal(*gpr(GPR_RDI), 0x1003);
	assert_int_equal(*gpr(GPR_RCX), 0);
	vcpu.regs.rflags |= 1u << 10; /* DF */
	vcpu.exit.io.size = 2;
	*gpr(GPR_RDI) = 0x2002;
	*gpr(GPR_RCX) = 2;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_memory_equal(ram + 0x2000, "\6\7\4\5", 4);
	assert_int_equal(*gpr(GPR_RDI), 0x1ffe);
}

TEST(rep_with_zero_count_does_nothing)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	*gpr(GPR_RDI) = 0x1000;
	*gpr(GPR_RCX) = 0xffff00000000ull; /* upper bits beyond the 32-bit count */
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(next_in, 1);
	assert_int_equal(*gpr(GPR_RDI), 0x1000);
}

/* A16: DI wraps at 64 KiB, CX counts, the upper bits stay. */
TEST(sixteen_bit_addressing)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	vcpu.exit.io.addr_size = 2;
	vcpu.regs.seg[SEG_ES].base = 0x10000;
	*gpr(GPR_RDI) = 0xabcdffff;
	*gpr(GPR_RCX) = 0x55550002;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(ram[0x1ffff], 1);
	assert_int_equal(ram[0x10000], 2);
	assert_int_equal(*gpr(GPR_RDI), 0xabcd0001);
	assert_int_equal(*gpr(GPR_RCX), 0x55550000);
}

/* A32 in 64-bit mode: EDI and ECX, zero-extended as any 32-bit write. */
TEST(thirty_two_bit_addressing_in_long_mode)
{
	vcpu.regs.cr0 = 0x80000011;
	vcpu.regs.cr4 = 1u << 5;
	vcpu.regs.efer = EFER_LME | EFER_LMA;
	vcpu.regs.seg[SEG_CS].attr = 0xa9b;
	vcpu.regs.cr3 = 0x100000; /* identity 1 GiB page */
	memcpy(ram + 0x100000, &(uint64_t){ 0x101000 | 3 }, 8);
	memcpy(ram + 0x101000, &(uint64_t){ 0x0 | 3 | 0x80 }, 8);
	vcpu.cr_caps.page_1g = true;
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	*gpr(GPR_RDI) = 0x1234567800003000ull;
	*gpr(GPR_RCX) = 0x9999000000000001ull;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(ram[0x3000], 1);
	assert_int_equal(*gpr(GPR_RDI), 0x3001);
	assert_int_equal(*gpr(GPR_RCX), 0);
}

TEST(non_canonical_is_gp_not_pf)
{
	vcpu.regs.cr0 = 0x80000011;
	vcpu.regs.cr4 = 1u << 5;
	vcpu.regs.efer = EFER_LME | EFER_LMA;
	vcpu.regs.seg[SEG_CS].attr = 0xa9b;
	vcpu.exit.io.in = true;
	vcpu.exit.io.addr_size = 8;
	*gpr(GPR_RDI) = 0x8000000000001000ull;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_FAULT);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(ram[0x1000], 0);
	assert_int_equal(next_in, 1); /* the port was not read */
}

/* A REP runs STRING_IO_CHUNK elements per exit and stays on its
 * instruction with the registers updated. */
TEST(long_rep_is_chunked)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	*gpr(GPR_RDI) = 0x10000;
	*gpr(GPR_RCX) = STRING_IO_CHUNK + 10;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_MORE);
	assert_int_equal(*gpr(GPR_RCX), 10);
	assert_int_equal(*gpr(GPR_RDI), 0x10000 + STRING_IO_CHUNK);
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(*gpr(GPR_RCX), 0);
	*gpr(GPR_RCX) = STRING_IO_CHUNK; /* exactly a chunk: done in one */
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
}

/* Memory that is not RAM is the bus: INS there completes (writes
 * dropped), OUTS from there sends all-ones, and an element across the end
 * of RAM has its RAM bytes written. */
TEST(memory_outside_ram_is_the_empty_bus)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	vcpu.exit.io.size = 4;
	*gpr(GPR_RDI) = RAM_SIZE + 0x1000;
	*gpr(GPR_RCX) = 4;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(*gpr(GPR_RDI), RAM_SIZE + 0x1010);
	*gpr(GPR_RDI) = RAM_SIZE - 2;
	*gpr(GPR_RCX) = 1;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(ram[RAM_SIZE - 2], 17);
	assert_int_equal(ram[RAM_SIZE - 1], 18);
	vcpu.exit.io.in = false;
	vcpu.exit.io.size = 2;
	*gpr(GPR_RSI) = 0xfec00000; /* the IOAPIC window: no device in this VM */
	*gpr(GPR_RCX) = 2;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(outs, 4);
	assert_memory_equal(out_log, "\xff\xff\xff\xff", 4);
}

TEST(segment_checks_stop_at_the_faulting_element)
{
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	vcpu.regs.seg[SEG_ES].limit = 0x1001;
	*gpr(GPR_RDI) = 0x1000;
	*gpr(GPR_RCX) = 4;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_FAULT);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(injected_error, 0);
	assert_int_equal(*gpr(GPR_RDI), 0x1002); /* two elements done */
	assert_int_equal(*gpr(GPR_RCX), 2);
	assert_int_equal(next_in, 3);
	/* a read-only ES: #GP before the port is read */
	vcpu.regs.seg[SEG_ES] = (struct segment){ .sel = 0x18, .attr = 0xc91, .limit = 0xffffffff };
	*gpr(GPR_RDI) = 0x1000;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_FAULT);
	assert_int_equal(next_in, 3);
	/* OUTS through SS past its limit: #SS */
	vcpu.exit.io.in = false;
	vcpu.exit.io.seg = SEG_SS;
	vcpu.regs.seg[SEG_SS].limit = 0xfff;
	*gpr(GPR_RSI) = 0x1000;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_FAULT);
	assert_int_equal(injected_vector, 12);
}

/* OUTS honours its segment override; when the CPU does not say the
 * segment and address size (SVM without decode assists), the instruction
 * does. */
TEST(decoded_segment_and_address_size)
{
	vcpu.exit.io.in = false;
	vcpu.exit.io.seg = -1;
	vcpu.exit.io.addr_size = 0;
	vcpu.regs.seg[SEG_FS].base = 0x5000;
	ram[0x5000 + 0x20] = 0x42;
	decoded = (struct x86_insn){ .len = 3, .addrsize = 4, .seg = SEG_FS };
	*gpr(GPR_RSI) = 0x20;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_DONE);
	assert_int_equal(decodes, 1);
	assert_int_equal(outs, 1);
	assert_int_equal(out_log[0], 0x42);
	assert_int_equal(*gpr(GPR_RSI), 0x21);
}

TEST(page_fault_mid_rep)
{
	/* 32-bit paging: 0x400000-0x400fff mapped, 0x401000 not */
	vcpu.regs.cr0 = 0x80000011;
	vcpu.regs.cr3 = 0x10000;
	memcpy(ram + 0x10004, &(uint32_t){ 0x11000 | 3 }, 4);
	memcpy(ram + 0x11000, &(uint32_t){ 0x200000 | 3 }, 4);
	vcpu.exit.io.in = true;
	vcpu.exit.io.rep = true;
	vcpu.exit.io.size = 2;
	*gpr(GPR_RDI) = 0x400ffc;
	*gpr(GPR_RCX) = 5;
	assert_int_equal(emulate_string_io(&vcpu), STRING_IO_FAULT);
	assert_int_equal(injected_vector, 14);
	assert_int_equal(injected_error, 2); /* not present, write */
	assert_int_equal(vcpu.regs.cr2, 0x401000);
	assert_int_equal(*gpr(GPR_RDI), 0x400ffe + 2);
	assert_int_equal(*gpr(GPR_RCX), 3);
	assert_int_equal(next_in, 5); /* the faulting element read no port */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(rep_insb_forward_and_backward),
		T(rep_with_zero_count_does_nothing),
		T(sixteen_bit_addressing),
		T(thirty_two_bit_addressing_in_long_mode),
		T(non_canonical_is_gp_not_pf),
		T(long_rep_is_chunked),
		T(memory_outside_ram_is_the_empty_bus),
		T(segment_checks_stop_at_the_faulting_element),
		T(decoded_segment_and_address_size),
		T(page_fault_mid_rep),
	};
	return cmocka_run_group_tests_name("string_io", tests, NULL, NULL);
}
