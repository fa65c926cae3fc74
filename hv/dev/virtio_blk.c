/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 §5.2), a modern-only virtio PCI device
 * (1af4:1042, class 01/00) on the VM's bus, over the disk a module gave
 * the VM (role=disk).  One request queue of 256 entries; features:
 * VERSION_1, INDIRECT_DESC, SEG_MAX, FLUSH.
 *
 * A request (§5.2.6) is a chain: the 16-byte header (le32 type, le32
 * reserved, le64 sector) in device-readable buffers, then the data (read
 * from the chain for OUT, written into it for IN), then one status byte,
 * the chain's last writable byte.  Requests are carried out at once, in
 * the exit that notified the queue, under the VM's lock:
 *   IN, OUT     whole sectors inside the disk, else IOERR
 *   FLUSH       nothing to do: every write is in the disk's memory
 *   GET_ID      up to 20 bytes of the device's serial, "petrel-virtio-blk"
 *   anything else: UNSUPP
 * A chain the ring refuses (virtio_ring.h: a bad address, length, loop,
 * a chain longer than the queue) is given back with length 0, its status
 * byte IOERR where its last descriptor is a device-writable one the
 * device could still map.  Where the chain has no last descriptor to
 * find (a loop, a next or head index past the queue), nothing could tell
 * the driver which request failed: the device then also sets
 * DEVICE_NEEDS_RESET and takes no more requests until the driver resets
 * it, as a device that meets a driver bug it cannot report otherwise.  The disk is the VM's memory, not the module
 * Petrel booted from: writes stay for the VM's life, across resets, and
 * are gone when Petrel restarts.
 */
#include <petrel/board.h>
#include <petrel/dev/virtio_blk.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pci.h>

struct req_header {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint32_t finish(const struct virtq_chain *c, uint64_t data, uint8_t status)
{
	/* the status byte is the last writable one */
	if (!c->writable || virtq_write(c, c->writable - 1, &status, 1) != 1)
		return (uint32_t)MIN(data, c->writable);
	return (uint32_t)(data + 1);
}

uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct req_header h;
	uint64_t off, len;

	if (virtq_read(c, 0, &h, sizeof(h)) != sizeof(h) || !c->writable) {
		b->errors++;
		return finish(c, 0, VIRTIO_BLK_S_IOERR);
	}
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		len = c->writable - 1;
		off = h.sector * VIRTIO_BLK_SECTOR;
		if (len % VIRTIO_BLK_SECTOR || h.sector > b->size / VIRTIO_BLK_SECTOR || len > b->size - off) {
			b->errors++;
			return finish(c, 0, VIRTIO_BLK_S_IOERR);
		}
		virtq_write(c, 0, b->disk + off, len);
		b->reads++;
		return finish(c, len, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_OUT:
		len = c->readable - sizeof(h);
		off = h.sector * VIRTIO_BLK_SECTOR;
		if (len % VIRTIO_BLK_SECTOR || h.sector > b->size / VIRTIO_BLK_SECTOR || len > b->size - off) {
			b->errors++;
			return finish(c, 0, VIRTIO_BLK_S_IOERR);
		}
		virtq_read(c, sizeof(h), b->disk + off, len);
		b->writes++;
		return finish(c, 0, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_FLUSH:
		return finish(c, 0, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_GET_ID: {
		static const char id[20] = "petrel-virtio-blk";
		len = MIN(c->writable - 1, sizeof(id));
		virtq_write(c, 0, id, len);
		return finish(c, len, VIRTIO_BLK_S_OK);
	}
	default:
		return finish(c, 0, VIRTIO_BLK_S_UNSUPP);
	}
}

uint32_t virtio_blk_config_read(const struct virtio_blk *b, unsigned off, unsigned size)
{
	uint8_t cfg[16] = { 0 };
	uint64_t capacity = b->size / VIRTIO_BLK_SECTOR;
	uint32_t size_max = 0, seg_max = VIRTIO_BLK_SEG_MAX, v = 0;

	memcpy(cfg, &capacity, 8);
	memcpy(cfg + 8, &size_max, 4); /* SIZE_MAX is not offered: unused */
	memcpy(cfg + 12, &seg_max, 4);
	for (unsigned i = 0; i < size && i < 4; i++)
		if (off + i < sizeof(cfg))
			v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

/* A refused chain: its status byte gets IOERR where the ring can find
 * one, and it goes back with length 0.  Whether the chain had an end. */
static bool refuse(struct virtio_blk *b, struct virtio_pci *vp, uint16_t head)
{
	bool ended;
	uint8_t *status = virtq_refused_tail(&vp->q[0], &vp->mem, head, &ended);

	b->errors++;
	if (status)
		*status = VIRTIO_BLK_S_IOERR;
	virtq_push(&vp->q[0], &vp->mem, head, 0);
	return ended;
}

void virtio_blk_process(struct virtio_blk *b, struct virtio_pci *vp)
{
	struct virtq_chain c;
	bool any = false, broken = false;

	for (unsigned n = 0; n < vp->q[0].size && !broken; n++) {
		enum virtq_pop r = virtq_pop(&vp->q[0], &vp->mem, &c);
		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN) {
			broken = true;
		} else if (r == VIRTQ_BAD_CHAIN) {
			broken = !refuse(b, vp, c.head);
			any = true;
		} else {
			virtq_push(&vp->q[0], &vp->mem, c.head, virtio_blk_request(b, &c));
			any = true;
		}
	}
	if (any)
		virtio_pci_used(vp, 0);
	if (broken)
		virtio_pci_needs_reset(vp);
}

/* --- glue ------------------------------------------------------------------ */

struct virtio_blk_dev {
	struct vm *vm;
	uint8_t devfn;
	struct virtio_blk blk;
	struct virtio_pci vp;
	struct pci_function_desc fn;
	bool warned_msi;
};

static void *dma(void *ctx, uint64_t gpa, uint64_t len)
{
	return vm_dma(ctx, gpa, len);
}

static uint32_t config_read(void *dev, unsigned off, unsigned size)
{
	return virtio_blk_config_read(&((struct virtio_blk_dev *)dev)->blk, off, size);
}

static void notify(void *dev, struct virtio_pci *vp, unsigned q)
{
	if (q == 0)
		virtio_blk_process(&((struct virtio_blk_dev *)dev)->blk, vp);
}

static void set_irq(void *dev, bool level)
{
	struct virtio_blk_dev *d = dev;
	vm_pci_set_intx(d->vm, d->devfn, level);
}

/* An MSI-X message: to the local APICs; one to another address would be a
 * write to memory, which Petrel does not make for a device. */
static void msi(void *dev, uint64_t addr, uint32_t data)
{
	struct virtio_blk_dev *d = dev;
	struct apic_msg m;

	if (msix_to_apic(addr, data, &m))
		vm_send_apic_msg(d->vm, &m);
	else if (!d->warned_msi) {
		d->warned_msi = true;
		pr_warn("vm %s: virtio-blk: an MSI-X message to %#llx, not the local APICs: not sent\n",
			vm_name(d->vm), (unsigned long long)addr);
	}
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = config_read, .notify = notify, .set_irq = set_irq, .msi = msi,
};

static uint64_t bar_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)v;
	return virtio_pci_bar_read(&((struct virtio_blk_dev *)dev)->vp, off, size);
}

static void bar_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v;
	virtio_pci_bar_write(&((struct virtio_blk_dev *)dev)->vp, off, size, val);
}

static uint32_t fn_rd(void *dev, unsigned reg, unsigned size)
{
	return virtio_pci_cfg_read(&((struct virtio_blk_dev *)dev)->vp, reg, size);
}

static void fn_wr(void *dev, unsigned reg, unsigned size, uint32_t val)
{
	virtio_pci_cfg_write(&((struct virtio_blk_dev *)dev)->vp, reg, size, val);
}

/* Only in a VM with a disk (role=disk); its BAR is placed by firmware or
 * the guest. */
static char *append(char *out, const char *s)
{
	while (*s)
		*out++ = *s++;
	*out = '\0';
	return out;
}

/* Its OpenFirmware path as QEMU names a PCI mass-storage function's disk
 * in `bootorder`: /pci@i0cf8/scsi@SLOT[,FUNCTION]/disk@0,0, in hex. */
static void of_path(char *out, uint8_t devfn)
{
	static const char hex[] = "0123456789abcdef";
	unsigned slot = devfn >> 3, fn = devfn & 7;

	out = append(out, "/pci@i0cf8/scsi@");
	if (slot >= 16)
		*out++ = hex[slot >> 4];
	*out++ = hex[slot & 15];
	if (fn) {
		*out++ = ',';
		*out++ = hex[fn];
	}
	append(out, "/disk@0,0");
}

static int virtio_blk_create(struct vm *vm, const struct board_device *bd)
{
	struct virtio_blk_dev *d;
	char path[40];
	uint64_t size;
	uint8_t *disk = vm_disk(vm, &size);

	if (!disk)
		return 0;
	if (!(d = vm_alloc(vm, sizeof(*d))))
		return -1;
	d->vm = vm;
	d->devfn = bd->devfn;
	d->blk = (struct virtio_blk){ .disk = disk, .size = size };
	virtio_pci_init(&d->vp, &blk_ops, d, &(struct virtq_mem){ .map = dma, .ctx = vm },
			VIRTIO_F_INDIRECT_DESC | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH, 1, VIRTIO_BLK_QUEUE);
	d->fn = (struct pci_function_desc){
		.name = "virtio-blk", .vendor = 0x1af4, .device = 0x1042, .revision = 0x01,
		.subsystem_vendor = PCI_SUBSYS_VENDOR_QEMU, .subsystem = PCI_SUBSYS_QEMU,
		.class_code = 0x01, .subclass = 0x00, .int_pin = 1, .cap_ptr = VIRTIO_PCI_CAPS,
		.bar = { { PCI_BAR_MEM64, false, VIRTIO_PCI_BAR_SIZE, bar_rd, bar_wr } },
		.cfg_read = fn_rd, .cfg_write = fn_wr, .dev = d,
	};
	if (vm_pci_add(vm, bd->devfn, &d->fn))
		return -1;
	of_path(path, bd->devfn);
	vm_add_boot_device(vm, path);
	return 0;
}

const struct device_type virtio_blk_device = { .name = "virtio-blk", .create = virtio_blk_create };
