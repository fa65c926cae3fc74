/* SPDX-License-Identifier: MIT */
/*
 * guest-loader/: guest_config_parse (a guest module's vm=/mem=/cpu= line)
 * and mb_guest_load (a multiboot1 ELF32/ELF64 guest copied into guest RAM,
 * plus its multiboot information block).  ELF images are built here in
 * exact-size heap blocks, and guest RAM is an exact-size heap block filled
 * with a pattern, so that ASan catches any access outside either and the
 * pattern shows every byte the loader wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/guest_loader.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

/* --- guest_config_parse ----------------------------------------------------- */

static void cfg_ok(const char *args, const char *vm, uint64_t mem, int cpu)
{
	struct guest_config cfg;
	char err[128] = "";

	memset(&cfg, 0x5a, sizeof(cfg)); /* defaults must not come from the caller */
	if (guest_config_parse(args, &cfg, err, sizeof(err)) != 0)
		fail_msg("\"%s\": failed: %s", args, err);
	assert_string_equal(cfg.vm, vm);
	if (cfg.mem != mem)
		fail_msg("\"%s\": mem 0x%llx, want 0x%llx", args, (unsigned long long)cfg.mem,
			 (unsigned long long)mem);
	if (cpu < 0) {
		assert_int_equal(cfg.nr_cpu, 0);
	} else {
		assert_int_equal(cfg.nr_cpu, 1);
		assert_int_equal(cfg.cpu[0], cpu);
	}
}

/* Expects failure with a message containing `what` and `what2` (NULL: any). */
static void cfg_fails(const char *args, const char *what, const char *what2)
{
	struct guest_config cfg;
	char err[128] = "";

	if (guest_config_parse(args, &cfg, err, sizeof(err)) != -1)
		fail_msg("\"%s\": accepted", args);
	if (!err[0])
		fail_msg("\"%s\": no error message", args);
	if (what && !strstr(err, what))
		fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", args, err, what);
	if (what2 && !strstr(err, what2))
		fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", args, err, what2);
}

TEST(test_cfg_defaults)
{
	cfg_ok("vm=t0", "t0", GUEST_DEFAULT_MEM, -1);
	cfg_ok("  vm=linux0  ", "linux0", 64ull << 20, -1);
	cfg_ok("\tvm=a\tmem=8M\t", "a", 8ull << 20, -1);
	cfg_ok("vm=a cpu=3", "a", GUEST_DEFAULT_MEM, 3);
	cfg_ok("cpu=1 mem=16M vm=b", "b", 16ull << 20, 1);
}

TEST(test_cfg_vm_required)
{
	cfg_fails("", "vm=", NULL);
	cfg_fails("   ", "vm=", NULL);
	cfg_fails("mem=64M cpu=1", "vm=", NULL);
}

TEST(test_cfg_mem_suffixes)
{
	cfg_ok("vm=a mem=2M", "a", 2ull << 20, -1);
	cfg_ok("vm=a mem=128m", "a", 128ull << 20, -1);
	cfg_ok("vm=a mem=65536K", "a", 64ull << 20, -1);
	cfg_ok("vm=a mem=4096k", "a", 4ull << 20, -1);
	cfg_ok("vm=a mem=1G", "a", 1ull << 30, -1);
	cfg_ok("vm=a mem=4g", "a", 4ull << 30, -1);
	cfg_ok("vm=a mem=0x200000", "a", 2ull << 20, -1);
	cfg_ok("vm=a mem=3145728", "a", 3ull << 20, -1);
}

TEST(test_cfg_mem_bounds)
{
	cfg_ok("vm=a mem=2097152", "a", GUEST_MIN_MEM, -1);
	cfg_ok("vm=a mem=17179869184", "a", GUEST_MAX_MEM, -1);
	cfg_ok("vm=a mem=16384M", "a", GUEST_MAX_MEM, -1);
	cfg_ok("vm=a mem=5G", "a", 5ull << 30, -1);
	cfg_fails("vm=a mem=2097151", "'mem'", NULL);
	cfg_fails("vm=a mem=2047K", "'mem'", NULL);
	cfg_fails("vm=a mem=1M", "'mem'", NULL);
	cfg_fails("vm=a mem=0", "'mem'", NULL);
	cfg_fails("vm=a mem=17179869185", "'mem'", NULL);
	cfg_fails("vm=a mem=16385M", "'mem'", NULL);
	cfg_fails("vm=a mem=17G", "'mem'", NULL);
	cfg_fails("vm=a mem=16T", "'mem'", NULL);
	cfg_fails("vm=a mem=64MB", "'mem'", NULL);
	cfg_fails("vm=a mem=lots", "'mem'", NULL);
	cfg_fails("vm=a mem=", "'mem'", NULL);
	cfg_fails("vm=a mem=99999999999999999999999G", "'mem'", NULL);
}

TEST(test_cfg_mem_below_4g)
{
	struct guest_config cfg;
	char err[128];

	assert_int_equal(guest_config_parse("vm=a", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.mem_below_4g, 0); /* the board's */
	assert_int_equal(guest_config_parse("vm=a mem=1536M mem_below_4g=1G", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.mem_below_4g, 1ull << 30);
	assert_int_equal(guest_config_parse("vm=a mem_below_4g=16M", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.mem_below_4g, 16ull << 20);
	assert_int_equal(guest_config_parse("vm=a mem_below_4g=3G", &cfg, err, sizeof(err)), 0);
	cfg_fails("vm=a mem_below_4g=14M", "mem_below_4g", NULL);
	cfg_fails("vm=a mem_below_4g=3074M", "mem_below_4g", NULL);
	cfg_fails("vm=a mem_below_4g=17M", "mem_below_4g", NULL);
	cfg_fails("vm=a mem_below_4g=x", "mem_below_4g", NULL);
	cfg_fails("vm=a mem_below_4g=", "mem_below_4g", NULL);
}

TEST(test_cfg_cpus)
{
	struct guest_config cfg;
	char err[128];

	assert_int_equal(guest_config_parse("vm=a", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(guest_config_parse("vm=a cpus=8", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.cpus, 8);
	assert_int_equal(guest_config_parse("vm=a cpus=2 cpu=1", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.nr_cpu, 1);
	assert_int_equal(cfg.cpu[0], 1);
	cfg_fails("vm=a cpus=0", "cpus", NULL);
	cfg_fails("vm=a cpus=9", "cpus", NULL);
	cfg_fails("vm=a cpus=two", "cpus", NULL);
	cfg_fails("vm=a cpus=-1", "cpus", NULL);
}

TEST(test_cfg_cpu)
{
	cfg_ok("vm=a cpu=0", "a", GUEST_DEFAULT_MEM, 0);
	cfg_ok("vm=a cpu=255", "a", GUEST_DEFAULT_MEM, 255);
	cfg_ok("vm=a cpu=0x10", "a", GUEST_DEFAULT_MEM, 16);
	cfg_fails("vm=a cpu=256", "'cpu'", NULL);
	cfg_fails("vm=a cpu=-1", "'cpu'", NULL);
	cfg_fails("vm=a cpu=1K", "'cpu'", NULL);
	cfg_fails("vm=a cpu=0K", "'cpu'", NULL); /* a number, not a size */
	cfg_fails("vm=a cpu=any", "'cpu'", NULL);
	cfg_fails("vm=a cpu=", "'cpu'", NULL);
}

TEST(test_cfg_cpu_list)
{
	struct guest_config cfg;
	char err[128];

	assert_int_equal(guest_config_parse("vm=a cpus=4 cpu=1,0,1", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nr_cpu, 3);
	assert_int_equal(cfg.cpu[0], 1);
	assert_int_equal(cfg.cpu[1], 0);
	assert_int_equal(cfg.cpu[2], 1);
	assert_int_equal(guest_config_parse("vm=a cpu=0,1,2,3,4,5,6,7", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nr_cpu, 8);
	assert_int_equal(cfg.cpu[7], 7);
	assert_int_equal(guest_config_parse("vm=a cpu=0,1 cpu=3", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nr_cpu, 1); /* the last cpu= wins, as for every key */
	assert_int_equal(cfg.cpu[0], 3);
	cfg_fails("vm=a cpu=0,1,2,3,4,5,6,7,0", "'cpu'", "at most 8");
	cfg_fails("vm=a cpu=0,", "'cpu'", NULL);
	cfg_fails("vm=a cpu=,0", "'cpu'", NULL);
	cfg_fails("vm=a cpu=0,,1", "'cpu'", NULL);
	cfg_fails("vm=a cpu=0,256", "'cpu'", NULL);
	cfg_fails("vm=a cpu=0;1", "'cpu'", NULL);
}

TEST(test_cfg_devices_and_triple_fault)
{
	struct guest_config cfg;
	char err[128] = "";

	assert_int_equal(guest_config_parse("vm=a devices=-testdev,+x triple_fault=stop", &cfg, err,
					    sizeof(err)), 0);
	assert_string_equal(cfg.devices, "-testdev,+x"); /* checked against the board by the hypervisor */
	assert_true(cfg.stop_on_triple_fault);
	assert_int_equal(guest_config_parse("vm=a", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.devices, "");
	assert_false(cfg.stop_on_triple_fault);
	assert_int_equal(guest_config_parse("vm=a triple_fault=stop triple_fault=reset", &cfg, err,
					    sizeof(err)), 0);
	assert_false(cfg.stop_on_triple_fault);
	cfg_fails("vm=a triple_fault=halt", "'triple_fault'", NULL);
	assert_int_equal(cfg.gdb, GUEST_GDB_DEFAULT);
	assert_int_equal(guest_config_parse("vm=a gdb=serial", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.gdb, GUEST_GDB_SERIAL);
	assert_int_equal(guest_config_parse("vm=a gdb=wait", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.gdb, GUEST_GDB_WAIT);
	cfg_fails("vm=a gdb=yes", "'gdb'", NULL);
	assert_int_equal(guest_config_parse("vm=a role=firmware", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.role, ROLE_FIRMWARE);
	assert_int_equal(guest_config_parse("vm=a role=disk", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.role, ROLE_DISK);
	cfg_fails("vm=a role=bios", "'role'", NULL);
	cfg_fails("vm=a role=disks", "'role'", NULL);
	cfg_fails("vm=a gdb", "'gdb'", NULL);
	cfg_fails("vm=a devices=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "'devices'", NULL);
}

TEST(test_cfg_unknown_option)
{
	cfg_fails("vm=a foo=1", "'foo'", "unknown option");
	cfg_fails("vm=a memory=64M", "'memory'", "unknown option");
	cfg_fails("vmx=a", "'vmx'", "unknown option");
	cfg_fails("v=a vm=b", "'v'", "unknown option");
	cfg_fails("vm=a =5", "unknown option", NULL);
}

TEST(test_cfg_key_without_value)
{
	cfg_fails("vm=a mem", "'mem'", "value");
	cfg_fails("vm", "'vm'", "value");
	cfg_fails("vm=a cpu mem=8M", "'cpu'", "value");
	cfg_fails("vm=a quiet", "'quiet'", NULL);
}

TEST(test_cfg_quoted_values)
{
	cfg_ok("vm=\"t0\"", "t0", GUEST_DEFAULT_MEM, -1);
	cfg_ok("vm=\"my vm\" mem=8M", "my vm", 8ull << 20, -1);
	cfg_ok("mem=\"16M\" vm=q", "q", 16ull << 20, -1);
	cfg_fails("vm=\"\"", "'vm'", NULL);
}

TEST(test_cfg_unterminated_quote)
{
	cfg_fails("vm=\"t0 mem=8M", "unterminated quote", NULL);
	cfg_fails("vm=t0 mem=\"8M", "unterminated quote", NULL);
	cfg_fails("vm=t0 cpu=1 mem=\"", "unterminated quote", NULL);
}

TEST(test_cfg_vm_name_length)
{
	cfg_ok("vm=abcdefghijklmno", "abcdefghijklmno", GUEST_DEFAULT_MEM, -1); /* 15 */
	cfg_fails("vm=abcdefghijklmnop", "'vm'", NULL);                           /* 16 */
	cfg_fails("vm=a-much-longer-virtual-machine-name", "'vm'", NULL);
	cfg_fails("vm=", "'vm'", NULL);
	cfg_fails("vm= mem=8M", "'vm'", NULL);
}

/* The error goes into errlen bytes, NUL-terminated, even when that is short. */
TEST(test_cfg_short_error_buffer)
{
	static const char *const bad[] = { "vm=a averyveryverylongunknownoption=1", "mem=8M",
					   "vm=\"x", "vm=a mem=1" };
	struct guest_config cfg;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		for (size_t len = 1; len <= 12; len++) {
			char *err = malloc(len);

			assert_non_null(err);
			memset(err, 'X', len);
			assert_int_equal(guest_config_parse(bad[i], &cfg, err, len), -1);
			assert_true(strlen(err) == len - 1);
			free(err);
		}
	}
}

/* --- ELF images -------------------------------------------------------------- */

#define RAM_SIZE MiB(4)
#define RAM_FILL 0xa5
#define PT_LOAD_ 1
#define PT_NOTE_ 4
#define EM_386_ 3
#define EM_X86_64_ 62

struct segspec {
	uint32_t type;
	uint64_t paddr, filesz, memsz;
};

struct elf {
	uint8_t *b;
	size_t size;
	bool is64;
	uint64_t phoff, phentsize;
	uint64_t data_off[4]; /* where each segment's file bytes are */
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The byte a segment's file data has at offset i: distinct per segment. */
static uint8_t seg_byte(unsigned seg, uint64_t i)
{
	return (uint8_t)(i * 7 + seg * 101 + 1) | 1; /* never 0 */
}

/* Offsets of a program header's fields. */
static uint8_t *ph_at(struct elf *e, unsigned i)
{
	return e->b + e->phoff + i * e->phentsize;
}

static void ph_set_offset(struct elf *e, unsigned i, uint64_t v)
{
	if (e->is64)
		put64(ph_at(e, i) + 8, v);
	else
		put32(ph_at(e, i) + 4, (uint32_t)v);
}

static void ph_set_paddr(struct elf *e, unsigned i, uint64_t v)
{
	if (e->is64)
		put64(ph_at(e, i) + 24, v);
	else
		put32(ph_at(e, i) + 12, (uint32_t)v);
}

static void ph_set_filesz(struct elf *e, unsigned i, uint64_t v)
{
	if (e->is64)
		put64(ph_at(e, i) + 32, v);
	else
		put32(ph_at(e, i) + 16, (uint32_t)v);
}

static void ph_set_memsz(struct elf *e, unsigned i, uint64_t v)
{
	if (e->is64)
		put64(ph_at(e, i) + 40, v);
	else
		put32(ph_at(e, i) + 20, (uint32_t)v);
}

static void set_phoff(struct elf *e, uint64_t v)
{
	if (e->is64)
		put64(e->b + 32, v);
	else
		put32(e->b + 28, (uint32_t)v);
}

static void set_phnum(struct elf *e, uint16_t v)
{
	put16(e->b + (e->is64 ? 56 : 44), v);
}

static void set_entry(struct elf *e, uint64_t v)
{
	if (e->is64)
		put64(e->b + 24, v);
	else
		put32(e->b + 24, (uint32_t)v);
}

/*
 * An executable: ELF header, `n` program headers `phentsize` apart (0: the
 * standard size), then each segment's file bytes.  p_vaddr is set far from
 * p_paddr so that loading by the wrong one shows.
 */
static struct elf build_elf(bool is64, uint64_t entry, const struct segspec *segs, unsigned n,
			    unsigned phentsize)
{
	struct elf e = { .is64 = is64 };
	unsigned ehsize = is64 ? 64 : 52;
	uint64_t off;

	assert_true(n <= ARRAY_SIZE(e.data_off));
	e.phentsize = phentsize ? phentsize : (is64 ? 56 : 32);
	e.phoff = ehsize;
	off = e.phoff + n * e.phentsize;
	for (unsigned i = 0; i < n; i++) {
		off = ALIGN_UP(off, 16);
		e.data_off[i] = off;
		off += segs[i].filesz;
	}
	e.size = off;
	e.b = malloc(e.size);
	assert_non_null(e.b);
	memset(e.b, 0xee, e.size);

	memset(e.b, 0, ehsize);
	memcpy(e.b, "\177ELF", 4);
	e.b[4] = is64 ? 2 : 1; /* EI_CLASS */
	e.b[5] = 1;            /* EI_DATA: little-endian */
	e.b[6] = 1;            /* EI_VERSION */
	put16(e.b + 16, 2);    /* ET_EXEC */
	put16(e.b + 18, is64 ? EM_X86_64_ : EM_386_);
	put32(e.b + 20, 1);
	set_entry(&e, entry);
	set_phoff(&e, e.phoff);
	put16(e.b + (is64 ? 52 : 40), (uint16_t)ehsize);
	put16(e.b + (is64 ? 54 : 42), (uint16_t)e.phentsize);
	set_phnum(&e, (uint16_t)n);

	for (unsigned i = 0; i < n; i++) {
		uint8_t *ph = ph_at(&e, i);

		memset(ph, 0, e.phentsize);
		put32(ph, segs[i].type);
		if (is64) {
			put32(ph + 4, 7);
			put64(ph + 16, 0xffffffff80000000ull + segs[i].paddr); /* p_vaddr */
			put64(ph + 48, 0x1000);
		} else {
			put32(ph + 8, 0xc0000000u + (uint32_t)segs[i].paddr);
			put32(ph + 24, 7);
			put32(ph + 28, 0x1000);
		}
		ph_set_offset(&e, i, e.data_off[i]);
		ph_set_paddr(&e, i, segs[i].paddr);
		ph_set_filesz(&e, i, segs[i].filesz);
		ph_set_memsz(&e, i, segs[i].memsz);
		for (uint64_t j = 0; j < segs[i].filesz; j++)
			e.b[e.data_off[i] + j] = seg_byte(i, j);
	}
	return e;
}

static uint8_t *new_ram(uint64_t size)
{
	uint8_t *ram = malloc(size);

	assert_non_null(ram);
	memset(ram, RAM_FILL, size);
	return ram;
}

/* The memory map a PC VM of ram_size bytes has (what memory.c's regions
 * give), plus RAM above 4 GiB if `high`. */
static unsigned pc_map(uint64_t ram_size, uint64_t high, struct e820_entry *m)
{
	m[0] = (struct e820_entry){ 0, 0x9fc00, 1 };
	m[1] = (struct e820_entry){ 0x9fc00, 0x100000 - 0x9fc00, 2 };
	m[2] = (struct e820_entry){ 0x100000, ram_size - 0x100000, 1 };
	m[3] = (struct e820_entry){ 0x100000000ull, high, 1 };
	return high ? 4 : 3;
}

/*
 * Checks RAM after a successful load: every PT_LOAD segment's bytes at
 * p_paddr and zeros up to p_memsz, the pattern everywhere else outside the
 * loader's data (below 640 KiB, not page 0, over no segment), and the
 * multiboot information block.
 */
static void check_loaded(const uint8_t *ram, uint64_t ram_size, const struct segspec *segs,
			 unsigned n, const char *cmdline, const struct mb_guest *out)
{
	const uint64_t lo = out->info_gpa, hi = out->info_gpa + out->info_len;
	uint8_t *want = new_ram(ram_size);
	const uint8_t *info, *mm;
	uint32_t flags, cl, mmap_len, mmap_addr;
	struct e820_entry map[4];

	for (unsigned i = 0; i < n; i++) {
		if (segs[i].type != PT_LOAD_)
			continue;
		for (uint64_t j = 0; j < segs[i].memsz; j++)
			want[segs[i].paddr + j] = j < segs[i].filesz ? seg_byte(i, j) : 0;
	}
	assert_true(lo >= 0x1000 && hi <= 0x9fc00);
	for (unsigned i = 0; i < n; i++)
		if (segs[i].type == PT_LOAD_)
			assert_true(hi <= segs[i].paddr || lo >= segs[i].paddr + segs[i].memsz);
	memcpy(want + lo, ram + lo, hi - lo);
	for (uint64_t a = 0; a < ram_size; a++)
		if (ram[a] != want[a])
			fail_msg("RAM 0x%llx is 0x%02x, want 0x%02x", (unsigned long long)a, ram[a],
				 want[a]);
	free(want);

	info = ram + out->info_gpa;
	flags = get32(info);
	assert_int_equal(flags & 0x4d, 0x4d);     /* mem_*, cmdline, mods_*, mmap_* */
	assert_int_equal(flags & 0x32, 0);        /* no boot_device, syms */
	assert_int_equal(get32(info + 20), 0);    /* mods_count */
	assert_int_equal(get32(info + 4), 639);   /* mem_lower, KiB */
	assert_int_equal(get32(info + 8), (ram_size - MiB(1)) / 1024); /* mem_upper */
	/* Everything else in the block is zero, not what RAM held before. */
	for (unsigned off = 12; off < 88; off++) {
		if ((off >= 16 && off < 20) || (off >= 24 && off < 28) || (off >= 44 && off < 52))
			continue;
		if (info[off] != 0)
			fail_msg("information block byte %u is 0x%02x, want 0", off, info[off]);
	}

	cl = get32(info + 16);
	assert_true(cl >= lo && cl + strlen(cmdline) + 1 <= hi);
	assert_memory_equal(ram + cl, cmdline, strlen(cmdline) + 1);

	mmap_len = get32(info + 44);
	mmap_addr = get32(info + 48);
	assert_int_equal(mmap_len, 3 * 24);
	pc_map(ram_size, 0, map);
	assert_true(mmap_addr >= lo && mmap_addr + mmap_len <= hi);
	assert_true(mmap_addr >= out->info_gpa + 52 || mmap_addr + mmap_len <= out->info_gpa);
	assert_true(cl >= mmap_addr + mmap_len || cl + strlen(cmdline) + 1 <= mmap_addr);
	mm = ram + mmap_addr;
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *e = mm + i * 24;
		uint64_t base = map[i].addr, len = map[i].size;
		uint32_t type = map[i].type;

		assert_int_equal(get32(e), 20);
		if (get64(e + 4) != base || get64(e + 12) != len || get32(e + 20) != type)
			fail_msg("mmap %u: 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
				 (unsigned long long)get64(e + 4), (unsigned long long)get64(e + 12),
				 get32(e + 20), (unsigned long long)base, (unsigned long long)len, type);
	}
}

static void load_ok(const struct elf *e, uint64_t ram_size, const struct segspec *segs, unsigned n,
		    const char *cmdline, uint64_t entry)
{
	uint8_t *ram = new_ram(ram_size);
	struct mb_guest out = { 0 };
	char err[128] = "";
	struct e820_entry map[4];
	unsigned nmap = pc_map(ram_size, 0, map);

	if (mb_guest_load(e->b, e->size, ram, ram_size, map, nmap, cmdline, NULL, 0, &out, err, sizeof(err)) != 0)
		fail_msg("mb_guest_load failed: %s", err);
	assert_int_equal(out.entry, entry);
	check_loaded(ram, ram_size, segs, n, cmdline, &out);
	free(ram);
}

/* Expects -1 and a message; RAM is an exact-size block, so ASan sees any
 * write outside it. */
static void load_fails_sized(const uint8_t *image, uint64_t size, uint64_t ram_size,
			     const char *cmdline, const char *what)
{
	uint8_t *ram = new_ram(ram_size);
	struct mb_guest out = { 0 };
	char err[128] = "";
	struct e820_entry map[4];
	unsigned nmap = pc_map(ram_size < MiB(1) ? MiB(1) : ram_size, 0, map);

	if (mb_guest_load(image, size, ram, ram_size, map, nmap, cmdline, NULL, 0, &out, err, sizeof(err)) != -1)
		fail_msg("accepted (want \"%s\")", what);
	if (!err[0])
		fail_msg("no error message (want \"%s\")", what);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err, what);
	free(ram);
}

static void load_fails(const struct elf *e, const char *what)
{
	load_fails_sized(e->b, e->size, RAM_SIZE, "", what);
}

/* --- mb_guest_load: good images ---------------------------------------------- */

TEST(test_load_elf32_one_segment)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x1234, 0x3000 } };
	struct elf e = build_elf(false, 0x100010, segs, 1, 0);

	load_ok(&e, RAM_SIZE, segs, 1, "console=ttyS0 quiet", 0x100010);
	free(e.b);
}

TEST(test_load_elf64_two_segments)
{
	static const struct segspec segs[] = {
		{ PT_LOAD_, 0x100000, 0x2345, 0x2345 },
		{ PT_NOTE_, 0x1000, 0x40, 0x40 }, /* not loaded, though below 1 MiB */
		{ PT_LOAD_, 0x200000, 0x101, 0x5000 },
	};
	struct elf e = build_elf(true, 0x100000, segs, 3, 0);

	load_ok(&e, RAM_SIZE, segs, 3, "", 0x100000);
	free(e.b);
}

TEST(test_load_elf32_two_segments_to_ram_end)
{
	/* The second segment ends exactly at the end of RAM. */
	static const struct segspec segs[] = {
		{ PT_LOAD_, 0x180000, 0x800, 0x1000 },
		{ PT_LOAD_, RAM_SIZE - 0x3000, 0x10, 0x3000 },
	};
	struct elf e = build_elf(false, RAM_SIZE - 1, segs, 2, 0);

	load_ok(&e, RAM_SIZE, segs, 2, "a", RAM_SIZE - 1);
	free(e.b);
}

TEST(test_load_honours_phentsize)
{
	/* Program headers further apart than the standard size. */
	static const struct segspec segs[] = {
		{ PT_LOAD_, 0x100000, 0x100, 0x200 },
		{ PT_LOAD_, 0x110000, 0x80, 0x80 },
	};
	struct elf e32 = build_elf(false, 0x100000, segs, 2, 48);
	struct elf e64 = build_elf(true, 0x110000, segs, 2, 72);

	load_ok(&e32, RAM_SIZE, segs, 2, "x", 0x100000);
	load_ok(&e64, RAM_SIZE, segs, 2, "y", 0x110000);
	free(e32.b);
	free(e64.b);
}

TEST(test_load_other_ram_size)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(true, 0x100000, segs, 1, 0);

	load_ok(&e, MiB(2) + KiB(192), segs, 1, "vm=x", 0x100000);
	load_ok(&e, MiB(2), segs, 1, "", 0x100000);
	free(e.b);
}

TEST(test_load_longest_cmdline)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);
	char *cl = malloc(MB_GUEST_CMDLINE_MAX);

	assert_non_null(cl);
	for (unsigned i = 0; i < MB_GUEST_CMDLINE_MAX - 1; i++)
		cl[i] = (char)('a' + i % 26);
	cl[MB_GUEST_CMDLINE_MAX - 1] = '\0';
	load_ok(&e, RAM_SIZE, segs, 1, cl, 0x100000);
	free(cl);
	free(e.b);
}

/* --- mb_guest_load: bad images ----------------------------------------------- */

TEST(test_bad_not_elf)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);
	static const uint8_t tiny[] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
	uint8_t *t = malloc(sizeof(tiny));

	assert_non_null(t);
	memcpy(t, tiny, sizeof(tiny));
	load_fails_sized(t, sizeof(tiny), RAM_SIZE, "", "ELF");      /* too short */
	load_fails_sized(e.b, 51, RAM_SIZE, "", "ELF");             /* one byte short */
	load_fails_sized(e.b, 0, RAM_SIZE, "", "ELF");
	e.b[1] = 'e';
	load_fails(&e, "not an ELF");
	e.b[1] = 'E';
	e.b[4] = 3; /* no such class */
	load_fails(&e, "ELF");
	free(t);
	free(e.b);
}

TEST(test_bad_elf64_header_truncated)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(true, 0x100000, segs, 1, 0);
	/* Long enough for an ELF32 header, not for an ELF64 one. */
	for (size_t len = 52; len < 64; len++) {
		uint8_t *t = malloc(len);

		assert_non_null(t);
		memcpy(t, e.b, len);
		load_fails_sized(t, len, RAM_SIZE, "", "ELF");
		free(t);
	}
	free(e.b);
}

TEST(test_bad_big_endian)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	e32.b[5] = 2;
	e64.b[5] = 2;
	load_fails(&e32, "little-endian");
	load_fails(&e64, "little-endian");
	e32.b[5] = 0;
	load_fails(&e32, "little-endian");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_machine)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	put16(e32.b + 18, 40); /* EM_ARM */
	load_fails(&e32, "machine");
	put16(e32.b + 18, EM_X86_64_); /* ELF32 claiming x86-64 */
	load_fails(&e32, "machine");
	put16(e64.b + 18, EM_386_);    /* ELF64 claiming i386 */
	load_fails(&e64, "machine");
	put16(e64.b + 18, 183);        /* EM_AARCH64 */
	load_fails(&e64, "machine");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_segment_past_file_end)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x100, 0x200 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	ph_set_filesz(&e32, 0, 0x101); /* one byte past the end */
	load_fails(&e32, "past the end of the file");
	ph_set_filesz(&e32, 0, 0x100);
	ph_set_offset(&e32, 0, e32.size + 1);
	load_fails(&e32, "past the end of the file");
	ph_set_offset(&e32, 0, 0xffffff00u);
	load_fails(&e32, "past the end of the file");
	/* offset + filesz wraps around to a small number */
	ph_set_offset(&e64, 0, 0xfffffffffffffff0ull);
	ph_set_filesz(&e64, 0, 0x20);
	ph_set_memsz(&e64, 0, 0x20);
	load_fails(&e64, "past the end of the file");
	ph_set_offset(&e64, 0, 0x10);
	ph_set_filesz(&e64, 0, 0xfffffffffffffff8ull);
	ph_set_memsz(&e64, 0, 0xfffffffffffffff8ull);
	load_fails(&e64, "past the end of the file");
	free(e32.b);
	free(e64.b);
}

/* Below 1 MiB a segment may go in RAM (kvm-unit-tests' realmode loads at
 * 0x8000) but not in page 0 nor in the reserved BIOS area. */
TEST(test_bad_segment_below_1mib)
{
	static const struct segspec segs[] = {
		{ PT_LOAD_, 0x100000, 0x40, 0x40 },
		{ PT_LOAD_, 0xff000, 0x100, 0x1000 }, /* ends at 1 MiB */
	};
	struct elf e = build_elf(false, 0x100000, segs, 2, 0);

	load_fails(&e, "RAM");
	ph_set_paddr(&e, 1, 0x9f000); /* across the start of the BIOS area */
	load_fails(&e, "RAM");
	ph_set_paddr(&e, 1, 0);
	load_fails(&e, "page 0");
	ph_set_paddr(&e, 1, 0x800);
	load_fails(&e, "page 0");
	free(e.b);
}

/* A kernel over 0x8000-0xda30 (realmode.flat's layout): the information
 * goes where it is not. */
TEST(test_load_low_kernel)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x8000, 0x5a30, 0x5a30 } };
	struct elf e = build_elf(false, 0x8018, segs, 1, 0);

	load_ok(&e, RAM_SIZE, segs, 1, "x86/realmode.flat", 0x8018);
	free(e.b);
}

/* Modules after the kernel, page-aligned, in order, each with its string;
 * mods_count and the list in the information block. */
TEST(test_load_modules)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x100, 0x2100 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);
	uint8_t *ram = new_ram(RAM_SIZE);
	struct mb_guest out = { 0 };
	struct e820_entry map[4];
	unsigned nmap = pc_map(RAM_SIZE, 0, map);
	char err[128] = "";
	const struct mb_module mods[2] = { { (const uint8_t *)"NR_CPUS=1\n", 10, "env" },
					   { (const uint8_t *)"second", 6, "x y" } };
	const uint8_t *info, *list;

	assert_int_equal(mb_guest_load(e.b, e.size, ram, RAM_SIZE, map, nmap, "k a=1", mods, 2, &out, err,
				       sizeof(err)), 0);
	info = ram + out.info_gpa;
	assert_int_equal(get32(info) & 0x08, 0x08);
	assert_int_equal(get32(info + 20), 2);
	list = ram + get32(info + 24);
	assert_true(get32(info + 24) >= out.info_gpa && get32(info + 24) + 32 <= out.info_gpa + out.info_len);
	assert_int_equal(get32(list), 0x103000); /* the kernel ends at 0x102100 */
	assert_int_equal(get32(list + 4), 0x10300a);
	assert_memory_equal(ram + 0x103000, "NR_CPUS=1\n", 10);
	assert_string_equal((const char *)ram + get32(list + 8), "env");
	assert_int_equal(get32(list + 16), 0x104000);
	assert_int_equal(get32(list + 20), 0x104006);
	assert_memory_equal(ram + 0x104000, "second", 6);
	assert_string_equal((const char *)ram + get32(list + 24), "x y");
	assert_int_equal(get32(list + 28), 0);
	assert_string_equal((const char *)ram + get32(info + 16), "k a=1"); /* verbatim */
	assert_int_equal(out.modules_end, 0x105000);
	free(ram);
	free(e.b);
}

TEST(test_bad_modules)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x100, 0x100 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);
	uint8_t *ram = new_ram(RAM_SIZE);
	struct mb_guest out = { 0 };
	struct e820_entry map[4];
	unsigned nmap = pc_map(RAM_SIZE, 0, map);
	char err[128] = "";
	struct mb_module mods[MB_GUEST_MAX_MODULES + 1];

	for (unsigned i = 0; i <= MB_GUEST_MAX_MODULES; i++)
		mods[i] = (struct mb_module){ (const uint8_t *)"m", 1, "" };
	assert_int_equal(mb_guest_load(e.b, e.size, ram, RAM_SIZE, map, nmap, "", mods,
				       MB_GUEST_MAX_MODULES + 1, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more modules"));
	assert_int_equal(mb_guest_load(e.b, e.size, ram, RAM_SIZE, map, nmap, "", mods, MB_GUEST_MAX_MODULES,
				       &out, err, sizeof(err)), 0);
	/* a module one byte larger than the RAM left after the kernel */
	mods[1] = (struct mb_module){ ram, RAM_SIZE - 0x102000 + 1, "big" };
	assert_int_equal(mb_guest_load(e.b, e.size, ram, RAM_SIZE, map, nmap, "", mods, 2, &out, err,
				       sizeof(err)), -1);
	assert_non_null(strstr(err, "module 2"));
	free(ram);
	free(e.b);
}

TEST(test_bad_segment_beyond_ram)
{
	static const struct segspec segs[] = { { PT_LOAD_, RAM_SIZE - 0x1000, 0x10, 0x1001 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	load_fails(&e32, "RAM"); /* one byte too many */
	ph_set_paddr(&e32, 0, RAM_SIZE);
	ph_set_memsz(&e32, 0, 0x10);
	load_fails(&e32, "RAM");
	ph_set_paddr(&e32, 0, 0xfffff000u);
	load_fails(&e32, "RAM");
	/* paddr + memsz wraps around to inside RAM */
	ph_set_paddr(&e64, 0, 0xfffffffffffff000ull);
	ph_set_memsz(&e64, 0, 0x200000);
	load_fails(&e64, "RAM");
	ph_set_paddr(&e64, 0, 0x100000);
	ph_set_memsz(&e64, 0, 0xffffffffffff0000ull);
	load_fails(&e64, "RAM");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_no_pt_load)
{
	static const struct segspec notes[] = { { PT_NOTE_, 0x100000, 0x40, 0x40 } };
	static const struct segspec empty[] = { { PT_LOAD_, 0x100000, 0, 0 } };
	struct elf a = build_elf(false, 0x100000, notes, 1, 0);
	struct elf b = build_elf(true, 0x100000, empty, 1, 0);
	struct elf c = build_elf(true, 0x100000, NULL, 0, 0);

	load_fails(&a, "loadable");
	load_fails(&b, "loadable");
	load_fails(&c, "loadable");
	free(a.b);
	free(b.b);
	free(c.b);
}

TEST(test_bad_entry_outside_ram)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e32 = build_elf(false, RAM_SIZE, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000000ull + 0x100000, segs, 1, 0);

	load_fails(&e32, "entry");
	set_entry(&e32, 0xfffffff0u);
	load_fails(&e32, "entry");
	load_fails(&e64, "entry");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_phdrs_past_file_end)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	set_phnum(&e32, 0xffff);
	load_fails(&e32, "program headers");
	set_phnum(&e32, 1);
	set_phoff(&e32, e32.size - 31); /* the header's last byte past the end */
	load_fails(&e32, "program headers");
	set_phoff(&e32, 0xfffffff0u);
	load_fails(&e32, "program headers");
	set_phoff(&e64, 0xffffffffffffffe0ull); /* phoff + size wraps */
	load_fails(&e64, "program headers");
	set_phoff(&e64, 64);
	put16(e64.b + 54, 32); /* e_phentsize too small for an ELF64 header */
	load_fails(&e64, "program headers");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_filesz_over_memsz)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x200, 0x100 } };
	struct elf e32 = build_elf(false, 0x100000, segs, 1, 0);
	struct elf e64 = build_elf(true, 0x100000, segs, 1, 0);

	load_fails(&e32, "ELF segment");
	load_fails(&e64, "ELF segment");
	free(e32.b);
	free(e64.b);
}

TEST(test_bad_cmdline_too_long)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);
	char *cl = malloc(MB_GUEST_CMDLINE_MAX + 1);

	assert_non_null(cl);
	memset(cl, 'c', MB_GUEST_CMDLINE_MAX);
	cl[MB_GUEST_CMDLINE_MAX] = '\0';
	load_fails_sized(e.b, e.size, RAM_SIZE, cl, "command line");
	free(cl);
	free(e.b);
}

TEST(test_bad_ram_too_small)
{
	static const struct segspec segs[] = { { PT_LOAD_, 0x100000, 0x40, 0x40 } };
	struct elf e = build_elf(false, 0x100000, segs, 1, 0);

	load_fails_sized(e.b, e.size, MiB(2) - 1, "", "RAM");
	load_fails_sized(e.b, e.size, MiB(1), "", "RAM");
	free(e.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_defaults),
		cmocka_unit_test(test_cfg_vm_required),
		cmocka_unit_test(test_cfg_mem_suffixes),
		cmocka_unit_test(test_cfg_mem_bounds),
		cmocka_unit_test(test_cfg_mem_below_4g),
		cmocka_unit_test(test_cfg_cpus),
		cmocka_unit_test(test_cfg_cpu),
		cmocka_unit_test(test_cfg_cpu_list),
		cmocka_unit_test(test_cfg_devices_and_triple_fault),
		cmocka_unit_test(test_cfg_unknown_option),
		cmocka_unit_test(test_cfg_key_without_value),
		cmocka_unit_test(test_cfg_quoted_values),
		cmocka_unit_test(test_cfg_unterminated_quote),
		cmocka_unit_test(test_cfg_vm_name_length),
		cmocka_unit_test(test_cfg_short_error_buffer),
		cmocka_unit_test(test_load_elf32_one_segment),
		cmocka_unit_test(test_load_elf64_two_segments),
		cmocka_unit_test(test_load_elf32_two_segments_to_ram_end),
		cmocka_unit_test(test_load_honours_phentsize),
		cmocka_unit_test(test_load_other_ram_size),
		cmocka_unit_test(test_load_longest_cmdline),
		cmocka_unit_test(test_bad_not_elf),
		cmocka_unit_test(test_bad_elf64_header_truncated),
		cmocka_unit_test(test_bad_big_endian),
		cmocka_unit_test(test_bad_machine),
		cmocka_unit_test(test_bad_segment_past_file_end),
		cmocka_unit_test(test_bad_segment_below_1mib),
		cmocka_unit_test(test_load_low_kernel),
		cmocka_unit_test(test_load_modules),
		cmocka_unit_test(test_bad_modules),
		cmocka_unit_test(test_bad_segment_beyond_ram),
		cmocka_unit_test(test_bad_no_pt_load),
		cmocka_unit_test(test_bad_entry_outside_ram),
		cmocka_unit_test(test_bad_phdrs_past_file_end),
		cmocka_unit_test(test_bad_filesz_over_memsz),
		cmocka_unit_test(test_bad_cmdline_too_long),
		cmocka_unit_test(test_bad_ram_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
