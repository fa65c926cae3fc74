/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/msix.c: the MSI-X capability, table and pending bits of a PCI
 * function, and messages read as local APIC interrupts.  Offsets and bits
 * are written out from the PCI 3.0 spec (§6.8.2) and the SDM (§11.11),
 * not taken from the header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <petrel/dev/msix.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct msix m;
static unsigned sent;
static uint64_t sent_addr;
static uint32_t sent_data;

static void capture(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	sent++;
	sent_addr = addr;
	sent_data = data;
}

static void fresh(uint16_t nr)
{
	sent = 0;
	msix_init(&m, nr, 0, 0x4000, 0x5000, capture, NULL);
}

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0xdead;

	assert_true(msix_bar_read(&m, off, size, &v));
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	assert_true(msix_bar_write(&m, off, size, v));
}

/* Message Control's high byte: bit 7 enable, bit 6 function mask. */
static void control(bool enable, bool mask)
{
	msix_cap_write(&m, 3, 1, (enable ? 0x80u : 0) | (mask ? 0x40u : 0));
}

/* Vector v: address 0xfee00000 + dest << 12, data = vector. */
static void program(unsigned v, uint8_t dest, uint8_t vector, bool masked)
{
	wr(0x4000 + 16 * v, 4, 0xfee00000u | (uint32_t)dest << 12);
	wr(0x4000 + 16 * v + 4, 4, 0);
	wr(0x4000 + 16 * v + 8, 4, vector);
	wr(0x4000 + 16 * v + 12, 4, masked);
}

TEST(test_capability)
{
	uint8_t c[12];

	fresh(3);
	msix_cap(&m, c, 0x50);
	assert_int_equal(c[0], 0x11);
	assert_int_equal(c[1], 0x50);
	assert_int_equal(c[2] | c[3] << 8, 2); /* table size - 1, disabled, unmasked */
	assert_int_equal(c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24, 0x4000); /* BIR 0 */
	assert_int_equal(c[8] | c[9] << 8 | c[10] << 16 | (uint32_t)c[11] << 24, 0x5000);
	control(true, true);
	msix_cap(&m, c, 0);
	assert_int_equal(c[3], 0xc0);
	/* the table size bits are read-only */
	msix_cap_write(&m, 2, 2, 0x07ff);
	msix_cap(&m, c, 0);
	assert_int_equal(c[2] | c[3] << 8, 0x0002);
}

/* At reset every vector is masked; the table reads back what was written
 * (the address's low two bits are reserved: zero). */
TEST(test_table)
{
	fresh(2);
	assert_int_equal(rd(0x400c, 4), 1);
	assert_int_equal(rd(0x401c, 4), 1);
	wr(0x4000, 4, 0xfee01003);
	wr(0x4004, 4, 0x12345678);
	wr(0x4008, 8, 0x0000000100000041ull); /* data and control in one qword */
	assert_int_equal(rd(0x4000, 4), 0xfee01000);
	assert_int_equal(rd(0x4000, 8), 0x12345678fee01000ull);
	assert_int_equal(rd(0x4008, 4), 0x41);
	assert_int_equal(rd(0x400c, 4), 1);
	/* past the table, misaligned, byte-sized: not the table's */
	uint64_t v;
	assert_false(msix_bar_read(&m, 0x4020, 4, &v));
	assert_int_equal(rd(0x4002, 4), 0);
	assert_int_equal(rd(0x4000, 1), 0);
	wr(0x4001, 4, 0xffffffff); /* ignored */
	assert_int_equal(rd(0x4000, 4), 0xfee01000);
}

/* Sent only with MSI-X enabled, the function and the vector unmasked;
 * otherwise pending, in the PBA, and sent at the unmask. */
TEST(test_mask_and_pending)
{
	fresh(2);
	program(1, 3, 0x51, false);
	msix_notify(&m, 1); /* not enabled yet */
	assert_int_equal(sent, 0);
	assert_int_equal(rd(0x5000, 8), 2);
	control(true, false);
	assert_int_equal(sent, 1); /* the pending one went at enable */
	assert_int_equal(sent_addr, 0xfee03000);
	assert_int_equal(sent_data, 0x51);
	assert_int_equal(rd(0x5000, 4), 0);
	msix_notify(&m, 1);
	assert_int_equal(sent, 2);
	control(true, true); /* function mask */
	msix_notify(&m, 1);
	msix_notify(&m, 1);
	assert_int_equal(sent, 2);
	assert_int_equal(rd(0x5000, 4), 2);
	control(true, false);
	assert_int_equal(sent, 3); /* one message for what was pending */
	wr(0x4000 + 16 + 12, 4, 1); /* vector mask */
	msix_notify(&m, 1);
	assert_int_equal(sent, 3);
	wr(0x4000 + 16 + 12, 4, 0);
	assert_int_equal(sent, 4);
	/* vector 0 is masked since reset; a vector past the table is nothing */
	msix_notify(&m, 0);
	msix_notify(&m, 2);
	msix_notify(&m, 1000);
	assert_int_equal(sent, 4);
	assert_int_equal(rd(0x5000, 4), 1);
	wr(0x5000, 4, 0); /* the PBA is read-only */
	assert_int_equal(rd(0x5000, 4), 1);
	msix_reset(&m);
	assert_int_equal(rd(0x5000, 4), 0);
	assert_int_equal(rd(0x401c, 4), 1);
}

/* SDM §11.11.1-2: destination ID in address bits 19:12, destination
 * mode in bit 2; vector in data bits 7:0, delivery mode in 10:8. */
TEST(test_to_apic)
{
	struct apic_msg a;

	assert_true(msix_to_apic(0xfee0c004, 0x4431, &a));
	assert_int_equal(a.dest, 0x0c);
	assert_true(a.logical);
	assert_int_equal(a.vector, 0x31);
	assert_int_equal(a.mode, 4); /* NMI */
	assert_false(a.level);
	assert_true(msix_to_apic(0xfee00000, 0x22, &a));
	assert_int_equal(a.dest, 0);
	assert_false(a.logical);
	assert_int_equal(a.mode, 0);
	assert_false(msix_to_apic(0x1000, 0x22, &a));       /* RAM: no interrupt */
	assert_false(msix_to_apic(0x1fee00000ull, 0x22, &a)); /* above 4 GiB */
	assert_false(msix_to_apic(0xfed00000, 0x22, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capability),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_mask_and_pending),
		cmocka_unit_test(test_to_apic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
