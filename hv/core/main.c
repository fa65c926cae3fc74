/* SPDX-License-Identifier: MIT */
/*
 * boot_entry(): where every boot path arrives (boot/entry.asm), and the
 * order the hypervisor comes up in:
 *   tables and serial → boot information → memory map → ACPI → frame
 *   allocator → page tables → TSC → local APIC → virtualization check →
 *   application processors → banner.
 * Anything wrong with what the loader or firmware gave us ends in fatal():
 * one line on serial saying what, then every CPU halts.
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/acpi.h>
#include <petrel/arch.h>
#include <petrel/boot_info.h>
#include <petrel/cmdline.h>
#include <petrel/console.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

#include "core.h"


extern char __image_start[], __image_end[];

static struct percpu bsp_percpu;
static uint8_t bsp_ist[3][IST_STACK_SIZE] __attribute__((aligned(16)));
static struct boot_info bi;
static struct acpi_info acpi;
static struct hv_config cfg;
static uint64_t early_map_limit;

void boot_entry(uint64_t magic, uint64_t info);

/* Until paging_init() we run on the loader's identity map: the multiboot
 * paths map 4 GiB (entry.asm), UEFI firmware maps everything. */
static const void *early_map(uint64_t phys, uint64_t len, void *ctx)
{
	if (phys == 0 || len > early_map_limit || phys > early_map_limit - len)
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void cpu_early_init(void)
{
	for (int i = 0; i < 3; i++)
		bsp_percpu.ist_top[i] = (uint64_t)(uintptr_t)bsp_ist[i] + IST_STACK_SIZE;
	percpu_of[0] = &bsp_percpu;
	cpu_init_tables(&bsp_percpu);
	idt_init();
}

static void read_boot_info(uint64_t magic, uint64_t info)
{
	char err[160];
	int rc;

	early_map_limit = GiB(4);
	if (magic == BOOT_MAGIC_MB1) {
		rc = mb1_parse(info, early_map, NULL, &bi, err, sizeof(err));
	} else if (magic == BOOT_MAGIC_MB2) {
		rc = mb2_parse(info, early_map, NULL, &bi, err, sizeof(err));
	} else if (magic == BOOT_MAGIC_PETREL_EFI && info) {
		early_map_limit = UINT64_MAX;
		memcpy(&bi, (const void *)(uintptr_t)info, sizeof(bi));
		rc = bi.path == BOOT_PATH_UEFI && bi.nr_mem <= BOOT_MAX_MEM &&
				     bi.nr_modules <= BOOT_MAX_MODULES ? 0 : -1;
		str_copy(err, "boot information from the UEFI stub is garbled", sizeof(err));
		bi.cmdline[BOOT_CMDLINE_MAX - 1] = '\0';
		for (uint32_t i = 0; i < BOOT_MAX_MODULES; i++)
			bi.modules[i].cmdline[BOOT_MODNAME_MAX - 1] = '\0';
	} else {
		fatal("started with boot magic 0x%llx: not a multiboot1/2 loader or Petrel's UEFI stub",
		      (unsigned long long)magic);
	}
	if (rc)
		fatal("%s", err);
	/* GRUB's module2 passes only the arguments; QEMU's -initrd and the
	 * UEFI stub put the file's path first.  Keep the arguments only, so a
	 * module reads the same whichever way it was loaded. */
	for (uint32_t i = 0; i < bi.nr_modules; i++) {
		char *c = bi.modules[i].cmdline;
		const char *args = cmdline_skip_image_path(c);
		memmove(c, args, strlen(args) + 1);
	}
}

static void read_config(void)
{
	char errs[512];
	const char *cmd = bi.path == BOOT_PATH_UEFI ? bi.cmdline : cmdline_skip_image_path(bi.cmdline);

	int n = hv_config_parse(cmd, &cfg, errs, sizeof(errs));
	if (cfg.serial_port != 0x3f8)
		uart_init(&uart_console, cfg.serial_port);
	log_level = cfg.log_level;
	stats_interval_s = cfg.stats_s;
	if (n)
		log_printf(LOG_ERROR, "%s", errs);
}

static void check_memory(void)
{
	char err[160];

	if (memmap_normalize(&bi, err, sizeof(err)))
		fatal("%s", err);
	if (boot_check_modules(&bi, (uint64_t)(uintptr_t)__image_start,
			       (uint64_t)(uintptr_t)__image_end, err, sizeof(err)))
		fatal("%s", err);
}

/* `acpidump`: every table as hex on serial, for tools/capture-acpi.sh.
 * Lines: "acpidump SIG PHYS LEN" then "acpidump SIG OFFSET HEX...". */
static void dump_table(const char *sig, uint64_t phys, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)phys;
	char line[80];

	log_raw("acpidump %s 0x%llx %u\n", sig, (unsigned long long)phys, len);
	for (uint32_t off = 0; off < len; off += 32) {
		size_t n = 0;
		for (uint32_t i = off; i < len && i < off + 32; i++)
			n += (size_t)pt_snprintf(line + n, sizeof(line) - n, "%02x", p[i]);
		log_raw("acpidump %s %04x %s\n", sig, off, line);
	}
}

static void acpi_dump(void)
{
	dump_table("RSDP", (uint64_t)(uintptr_t)bi.rsdp, acpi.revision >= 2 ? 36 : 20);
	for (uint32_t i = 0; i < acpi.nr_tables; i++)
		dump_table(acpi.tables[i].sig, acpi.tables[i].phys, acpi.tables[i].len);
	log_raw("acpidump end\n");
}

static void read_acpi(void)
{
	char err[160];

	if (!bi.has_rsdp && bi.path != BOOT_PATH_UEFI) {
		uint64_t p = acpi_find_rsdp_bios(early_map, NULL);
		if (p) {
			memcpy(bi.rsdp, (const void *)(uintptr_t)p, 36);
			bi.rsdp_phys = p;
			bi.has_rsdp = 1;
		}
	}
	if (!bi.has_rsdp)
		fatal("no ACPI RSDP found: Petrel needs ACPI to find the CPUs");
	if (acpi_parse(bi.rsdp, early_map, NULL, &acpi, err, sizeof(err)))
		fatal("%s", err);
	if (acpi.warnings[0])
		log_printf(LOG_WARN, "acpi: %s", acpi.warnings);
	if (cfg.acpidump)
		acpi_dump();
}

/* The top of RAM and ACPI memory: what the identity map must cover above
 * 4 GiB.  Reserved ranges up there (QEMU lists one at 1 TiB) are not ours. */
static uint64_t max_phys_addr(void)
{
	uint64_t top = 0;
	for (uint32_t i = 0; i < bi.nr_mem; i++)
		if (bi.mem[i].type != BOOT_MEM_RESERVED)
			top = MAX(top, bi.mem[i].base + bi.mem[i].len);
	return top;
}

/* Everything the allocator must never hand out: page 0 (real-mode IVT and
 * BDA), our image, the modules, the ACPI tables wherever firmware put them. */
static void init_frames(void)
{
	pmm_init(&hv_pmm);
	for (uint32_t i = 0; i < bi.nr_mem; i++)
		if (bi.mem[i].type == BOOT_MEM_USABLE)
			pmm_add_free(&hv_pmm, bi.mem[i].base, bi.mem[i].len);
	pmm_reserve(&hv_pmm, 0, PAGE_SIZE);
	pmm_reserve(&hv_pmm, (uint64_t)(uintptr_t)__image_start,
		    (uint64_t)(uintptr_t)(__image_end - __image_start));
	for (uint32_t i = 0; i < bi.nr_modules; i++)
		pmm_reserve(&hv_pmm, bi.modules[i].start, bi.modules[i].end - bi.modules[i].start);
	for (uint32_t i = 0; i < acpi.nr_tables; i++)
		pmm_reserve(&hv_pmm, acpi.tables[i].phys, acpi.tables[i].len);
	if (bi.rsdp_phys)
		pmm_reserve(&hv_pmm, bi.rsdp_phys, 36);
	if (hv_pmm.overflow)
		fatal("memory map too fragmented for the frame allocator");
}

static void check_virt(void)
{
	struct virt_features *vf = &bsp_percpu.virt;

	virt_detect(vf);
	bsp_percpu.virt_ok = vf->vendor != VIRT_NONE && !vf->disabled_by_firmware;
	if (!bsp_percpu.virt_ok)
		fatal("no usable hardware virtualization: %s", vf->why_not);
}

static void print_banner(void)
{
	char virt[160], tables[ACPI_MAX_TABLES * 5 + 1] = "";

	for (uint32_t i = 0; i < acpi.nr_tables; i++) {
		size_t l = strlen(tables);
		pt_snprintf(tables + l, sizeof(tables) - l, "%s%s", i ? " " : "", acpi.tables[i].sig);
	}
	virt_describe(&bsp_percpu.virt, virt, sizeof(virt));
	pr_info("Petrel %s boot=%s\n", PETREL_VERSION, boot_path_name(bi.path));
	pr_info("cmdline: \"%s\"\n", bi.cmdline);
	pr_info("memory: %llu MiB usable, %u ranges, top 0x%llx\n",
		(unsigned long long)(memmap_usable_bytes(&bi) >> 20), bi.nr_mem,
		(unsigned long long)max_phys_addr());
	pr_info("acpi: rev %u oem %s tables %s\n", acpi.revision, acpi.oem, tables);
	pr_info("tsc: %llu MHz (%s)\n", (unsigned long long)(tsc_hz / 1000000),
		acpi.pm_timer_port ? "pm-timer" : "pit");
	pr_info("apic: %s\n", lapic_is_x2apic() ? "x2apic" : "xapic");
	pr_info("cpus: %u of %u online\n", smp_cpus_online(), nr_cpus_found);
	pr_info("virt: %s\n", virt);
	pr_info("modules: %u\n", bi.nr_modules);
	for (uint32_t i = 0; i < bi.nr_modules; i++)
		pr_info("module %u: 0x%llx-0x%llx %llu KiB \"%s\"\n", i,
			(unsigned long long)bi.modules[i].start, (unsigned long long)bi.modules[i].end,
			(unsigned long long)((bi.modules[i].end - bi.modules[i].start + 1023) >> 10),
			bi.modules[i].cmdline);
}

/* selftest=ud|pf|gp: fault on purpose, so the tests can check the
 * exception dump (tests/integration). */
static void run_selftest(void)
{
	if (!cfg.selftest[0])
		return;
	pr_info("selftest: %s\n", cfg.selftest);
	if (!strcmp(cfg.selftest, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(cfg.selftest, "pf"))
		__asm__ volatile("movq 8, %%rax" ::: "rax"); /* page 0 is not mapped */
	else if (!strcmp(cfg.selftest, "gp"))
		__asm__ volatile("movabsq $0x8000000000000000, %%rax; movq (%%rax), %%rax" ::: "rax");
	/* (non-canonical address: #GP, SDM vol. 3A §3.3.7.1) */
	else
		pr_err("selftest: unknown test '%s'\n", cfg.selftest);
}

/*
 * cpu0=host: CPU 0 runs Petrel alone (console, shell, GDB stub, its
 * timers) and the VMs the others.  A housekeeping CPU, as on a host that
 * keeps one for itself; on QEMU TCG it is also the way around an
 * emulator race that corrupts the first CPU's SVM state (README, "Known
 * problem, found").  With one CPU online there is nothing to keep it from.
 */
static uint32_t first_guest_cpu(void)
{
	if (!cfg.cpu0_host)
		return 0;
	if (smp_cpus_online() < 2) {
		pr_warn("cpu0=host: CPU 0 is the only CPU online: it runs the VMs too\n");
		return 0;
	}
	pr_info("cpu0=host: CPU 0 runs Petrel only; the VMs run on the other %u CPU%s\n", smp_cpus_online() - 1,
		smp_cpus_online() > 2 ? "s" : "");
	return 1;
}

/* The backend for this CPU's vendor; then the modules become VMs and every
 * CPU enters the run loop. */
static void start_guests(void)
{
	uint32_t n = 0, first = first_guest_cpu();

	if (bsp_percpu.virt.vendor == VIRT_SVM && bsp_percpu.virt.svm_npt)
		vcpu_ops = &svm_ops;
	else if (bsp_percpu.virt.vendor == VIRT_VMX && bsp_percpu.virt.vmx_ept &&
		 bsp_percpu.virt.vmx_unrestricted)
		vcpu_ops = &vmx_ops;
	if (!vcpu_ops) {
		pr_warn("no backend for %s yet: guests are not started\n",
			bsp_percpu.virt.vendor == VIRT_VMX ? "VMX without EPT and unrestricted guest"
							   : "SVM without NPT");
	} else {
		xstate_cpu_init();
		if (vcpu_ops->cpu_enable())
			fatal("cannot enable %s on cpu 0", vcpu_ops->name);
		lapic_timer_calibrate();
		exit_floor_measure();
		n = guests_start(&bi, first, smp_cpus_online());
	}
	pr_info("ready: %u VM%s running\n", n, n == 1 ? "" : "s");
	console_start();
	run_start(first);
}

void boot_entry(uint64_t magic, uint64_t info)
{
	cpu_early_init();
	uart_init(&uart_console, 0x3f8);
	read_boot_info(magic, info);
	read_config();
	check_memory();
	read_acpi();
	init_frames();
	paging_init(max_phys_addr());
	tsc_calibrate(acpi.pm_timer_port);
	rtc_host_init();
	pic_disable();
	lapic_init();
	bsp_percpu.apic_id = lapic_id();
	console_init(&acpi, cfg.conswitch, cfg.gdb_port);
	power_init(&acpi);
	check_virt();
	if (acpi.nr_cpus)
		smp_boot_aps(acpi.apic_ids, acpi.nr_cpus);
	else
		smp_boot_aps(&bsp_percpu.apic_id, 1);
	print_banner();
	run_selftest();
	start_guests();
	run_loop();
}
