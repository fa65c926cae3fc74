/* SPDX-License-Identifier: MIT */
/* QEMU's fw_cfg: the traditional I/O interface and DMA; see petrel/dev/fw_cfg.h. */
#include <petrel/acpi_build.h>
#include <petrel/board.h>
#include <petrel/dev/fw_cfg.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define KEY_MASK 0x3fff /* bit 14: write, bit 15: architecture-specific */

static void be_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t be_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->sig, "QEMU", 4);
	le_put(f->id, 1, 4); /* the traditional interface only */
	le_put(f->ram_size, ram_size, 8);
	le_put(f->nb_cpus, nb_cpus, 2);
	le_put(f->max_cpus, max_cpus, 2);
	f->sel = FW_CFG_SIGNATURE;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
	return fw_cfg_add_file_refreshed(f, name, data, len, NULL, NULL);
}

int fw_cfg_add_file_refreshed(struct fw_cfg *f, const char *name, const void *data, uint32_t len,
			      void (*refresh)(void *ctx), void *ctx)
{
	uint8_t *e = f->dir + 4 + 64 * f->nr_files;
	uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);

	if (f->nr_files == FW_CFG_MAX_FILES || strlen(name) >= FW_CFG_NAME_MAX)
		return -1;
	be_put(e, len, 4);
	be_put(e + 4, key, 2);
	str_copy((char *)e + 8, name, FW_CFG_NAME_MAX);
	f->file[f->nr_files].data = data;
	f->file[f->nr_files].len = len;
	f->file[f->nr_files].refresh = refresh;
	f->file[f->nr_files].ctx = ctx;
	be_put(f->dir, ++f->nr_files, 4);
	return key;
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	uint32_t n = (uint32_t)(key & KEY_MASK) - FW_CFG_FILE_FIRST;

	f->sel = key;
	f->off = 0;
	if (!(key & 0x8000) && (key & KEY_MASK) >= FW_CFG_FILE_FIRST && n < f->nr_files && f->file[n].refresh)
		f->file[n].refresh(f->file[n].ctx);
}

/* The selected item's bytes, or NULL for one that is not there. */
static const uint8_t *item(const struct fw_cfg *f, uint32_t *len)
{
	uint16_t key = f->sel & KEY_MASK;

	if (f->sel & 0x8000) /* architecture items: none here */
		return NULL;
	switch (key) {
	case FW_CFG_SIGNATURE: *len = 4; return f->sig;
	case FW_CFG_ID: *len = 4; return f->id;
	case FW_CFG_RAM_SIZE: *len = 8; return f->ram_size;
	case FW_CFG_NB_CPUS: *len = 2; return f->nb_cpus;
	case FW_CFG_MAX_CPUS: *len = 2; return f->max_cpus;
	case FW_CFG_FILE_DIR: *len = 4 + 64 * f->nr_files; return f->dir;
	default:
		if (key >= FW_CFG_FILE_FIRST && (uint32_t)(key - FW_CFG_FILE_FIRST) < f->nr_files) {
			*len = f->file[key - FW_CFG_FILE_FIRST].len;
			return f->file[key - FW_CFG_FILE_FIRST].data;
		}
		return NULL;
	}
}

uint8_t fw_cfg_read(struct fw_cfg *f)
{
	uint32_t len = 0;
	const uint8_t *d = item(f, &len);

	if (!d || f->off >= len)
		return 0;
	return d[f->off++];
}

/* --- DMA ------------------------------------------------------------------- */

void fw_cfg_enable_dma(struct fw_cfg *f, fw_cfg_map_fn map, void *ctx)
{
	f->map = map;
	f->map_ctx = ctx;
	f->id[0] |= 2;
}

/* The rest of the selected item, from the current offset. */
static uint32_t remaining(const struct fw_cfg *f, const uint8_t **data)
{
	uint32_t len = 0;

	*data = item(f, &len);
	return *data && f->off < len ? len - f->off : 0;
}

/* len bytes of the item to dst, zeros past its end: false if dst is not
 * all RAM (nothing copied). */
static bool dma_read(struct fw_cfg *f, uint64_t dst, uint32_t len)
{
	const uint8_t *data;
	uint32_t have = remaining(f, &data), n = MIN(have, len);
	uint8_t *p;

	if (!len)
		return true;
	if (!(p = f->map(f->map_ctx, dst, len)))
		return false;
	if (n)
		memcpy(p, data + f->off, n);
	memset(p + n, 0, len - n);
	f->off += n;
	return true;
}

static bool dma_transfer(struct fw_cfg *f, uint64_t gpa)
{
	uint8_t *a = f->map(f->map_ctx, gpa, 16);
	const uint8_t *data;
	uint32_t ctl, len;
	bool ok = true;

	if (!a)
		return false;
	ctl = (uint32_t)be_get(a, 4);
	len = (uint32_t)be_get(a + 4, 4);
	if (ctl & FW_CFG_DMA_SELECT)
		fw_cfg_select(f, (uint16_t)(ctl >> 16));
	if (ctl & FW_CFG_DMA_READ)
		ok = dma_read(f, be_get(a + 8, 8), len);
	else if (ctl & FW_CFG_DMA_WRITE)
		ok = false; /* no item takes writes */
	else if (ctl & FW_CFG_DMA_SKIP)
		f->off += MIN(remaining(f, &data), len);
	be_put(a, ok ? 0 : FW_CFG_DMA_ERROR, 4);
	return true;
}

uint64_t fw_cfg_dma_read(const struct fw_cfg *f, unsigned off, unsigned size)
{
	(void)f;
	if (off >= 8 || size > 8 - off)
		return ~0ull;
	return le_get(&FW_CFG_DMA_SIGNATURE[off], size);
}

bool fw_cfg_dma_write(struct fw_cfg *f, unsigned off, unsigned size, uint64_t val)
{
	uint64_t gpa;

	if (!f->map || size != 4 || (off != 0 && off != 4))
		return true; /* as QEMU: only the two halves, 4 bytes each */
	if (off == 0) {
		f->dma_high = __builtin_bswap32((uint32_t)val);
		return true;
	}
	gpa = (uint64_t)f->dma_high << 32 | __builtin_bswap32((uint32_t)val);
	f->dma_high = 0;
	return dma_transfer(f, gpa);
}

/* --- the device ---------------------------------------------------------- */

#define E820_FW_MAX 16

/* The selector and data ports are one 2-byte range: byte reads anywhere
 * give data, a 16-bit write selects; other accesses do nothing (as in
 * QEMU, where they are not valid for the range) and read all-ones. */
static uint64_t fw_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)off, (void)v;
	return size == 1 ? fw_cfg_read(dev) : ~0ull;
}

static void fw_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v;
	if (size == 2 && off == 0)
		fw_cfg_select(dev, (uint16_t)val);
	/* byte writes to the data port: QEMU ignores them, so does Petrel */
}

static uint64_t dma_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)v;
	return fw_cfg_dma_read(dev, (unsigned)off, size);
}

static void dma_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct fw_cfg *f = dev;

	if (!fw_cfg_dma_write(f, (unsigned)off, size, val) && !f->dma_warned) {
		pr_warn("vm %s: fw_cfg DMA: an access structure outside RAM (one warning)\n", vm_name(vcpu_vm(v)));
		f->dma_warned = true;
	}
}

static void *dma_map(void *ctx, uint64_t gpa, uint64_t len)
{
	return vm_dma(ctx, gpa, len);
}

/* Room for the ACPI tables (about 3 KiB with PCI and 8 vCPUs) and the
 * loader's commands (about 25). */
#define ACPI_TABLES_MAX 8192
#define ACPI_LOADER_MAX (48 * ACPI_LOADER_ENTRY)

struct fw_acpi {
	struct vm *vm;
	struct acpi_linked lk;
};

/* Made again whenever firmware selects one of the three files: they are
 * the same size each time, and say what the chipset is set to now. */
static void acpi_refresh(void *ctx)
{
	struct fw_acpi *a = ctx;

	if (vm_acpi_linked(a->vm, &a->lk))
		pr_warn("vm %s: the ACPI tables for firmware could not be built again\n", vm_name(a->vm));
}

/* The board's ACPI tables through QEMU's table-loader, which SeaBIOS and
 * OVMF run: they install Petrel's tables instead of making their own. */
static int add_acpi_files(struct vm *vm, struct fw_cfg *f)
{
	struct fw_acpi *a = vm_alloc(vm, sizeof(*a));

	if (!a || !(a->lk.tables = vm_alloc(vm, ACPI_TABLES_MAX)) || !(a->lk.loader = vm_alloc(vm, ACPI_LOADER_MAX)))
		return -1;
	a->vm = vm;
	a->lk.tables_size = ACPI_TABLES_MAX;
	a->lk.loader_size = ACPI_LOADER_MAX;
	if (vm_acpi_linked(vm, &a->lk)) {
		pr_err("vm %s: the ACPI tables for firmware do not fit\n", vm_name(vm));
		return -1;
	}
	if (fw_cfg_add_file_refreshed(f, ACPI_FILE_RSDP, a->lk.rsdp, ACPI_RSDP_LEN, acpi_refresh, a) < 0 ||
	    fw_cfg_add_file_refreshed(f, ACPI_FILE_TABLES, a->lk.tables, (uint32_t)a->lk.tables_len,
				      acpi_refresh, a) < 0 ||
	    fw_cfg_add_file_refreshed(f, ACPI_FILE_LOADER, a->lk.loader, (uint32_t)a->lk.loader_len,
				      acpi_refresh, a) < 0)
		return -1;
	return 0;
}

/* SeaBIOS's serial console (etc/sercon-port): the VM has no display, so
 * SeaBIOS writes its screen (its own text, a boot loader's menus) to the
 * VM's console port too, and takes keys from there.  OVMF has its own. */
static int add_sercon_port(struct vm *vm, struct fw_cfg *f)
{
	uint8_t *port;

	if (!vm_console_port(vm))
		return 0;
	if (!(port = vm_alloc(vm, 2)))
		return -1;
	le_put(port, vm_console_port(vm), 2);
	return fw_cfg_add_file(f, "etc/sercon-port", port, 2) < 0 ? -1 : 0;
}

/* The devices the firmware may boot from, in order (`bootorder`: a path
 * per line, the whole ending in a NUL, as QEMU's). */
static int add_boot_order(struct vm *vm, struct fw_cfg *f)
{
	const char *list = vm_boot_order(vm);
	uint32_t n = (uint32_t)strlen(list) + 1;
	char *copy;

	if (n == 1)
		return 0;
	if (!(copy = vm_alloc(vm, n)))
		return -1;
	memcpy(copy, list, n);
	return fw_cfg_add_file(f, "bootorder", copy, n) < 0 ? -1 : 0;
}

static int fw_cfg_create(struct vm *vm, const struct board_device *bd)
{
	struct fw_cfg *f = vm_alloc(vm, sizeof(*f));
	uint8_t *e820 = vm_alloc(vm, E820_FW_MAX * E820_FW_ENTRY);

	if (!f || !e820)
		return -1;
	fw_cfg_init(f, vm_ram_size(vm), (uint16_t)vm_nr_vcpus(vm), (uint16_t)vm_nr_vcpus(vm));
	/* the memory map firmware sizes RAM from (SeaBIOS, OVMF) */
	fw_cfg_add_file(f, "etc/e820", e820, vm_e820_fw(vm, e820, E820_FW_MAX));
	if (vm_has_firmware(vm) && (add_acpi_files(vm, f) || add_sercon_port(vm, f) || add_boot_order(vm, f)))
		return -1;
	fw_cfg_enable_dma(f, dma_map, vm);
	if (vm_register_pio(vm, bd->port, 2, fw_rd, fw_wr, f, "fw-cfg"))
		return -1;
	return vm_register_pio(vm, (uint16_t)(bd->port + FW_CFG_DMA_PORT_OFFSET), 8, dma_rd, dma_wr, f, "fw-cfg-dma");
}

const struct device_type fw_cfg_device = { .name = "QEMU fw_cfg", .create = fw_cfg_create };
