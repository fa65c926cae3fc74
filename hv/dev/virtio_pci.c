/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio PCI transport; see petrel/dev/virtio_pci.h.
 *
 * Configuration space from 0x40, vendor capabilities (cap_vndr 0x09,
 * virtio 1.2 §4.1.4), each naming a part of BAR 0:
 *   0x40  common configuration  type 1, at 0x0000, 0x38 bytes
 *   0x50  notifications         type 2, at 0x3000, 4 bytes per queue
 *                               (notify_off_multiplier 4, queue q's
 *                               queue_notify_off is q)
 *   0x64  ISR status            type 3, at 0x1000, 1 byte
 *   0x74  device configuration  type 4, at 0x2000
 *   0x84  PCI configuration access, type 5: bar, offset and length
 *         written, then the data dword at 0x94 reaches BAR 0 there
 *   0x98  MSI-X (ID 0x11): nr_queues + 1 vectors, the table at 0x4000 and
 *         the PBA at 0x5000 of BAR 0
 * The common configuration (§4.1.4.3), little-endian:
 *   0x00 device_feature_select  0x04 device_feature (RO)
 *   0x08 driver_feature_select  0x0c driver_feature
 *   0x10 msix_config  0x12 num_queues (RO)
 *   0x14 device_status  0x15 config_generation (RO)
 *   0x16 queue_select  0x18 queue_size  0x1a queue_msix_vector
 *   0x1c queue_enable  0x1e queue_notify_off (RO)
 *   0x20 queue_desc  0x28 queue_driver  0x30 queue_device (64 bits each)
 * The driver's FEATURES_OK stays clear if it accepted a feature the
 * device does not have, or not VERSION_1 (§2.2.2).  A queue is checked
 * when the driver enables it (its areas in RAM, aligned, a power-of-two
 * size no larger than offered); one that is not, or that breaks later,
 * sets DEVICE_NEEDS_RESET and raises a configuration interrupt (§2.1.2).
 * Interrupts (§4.1.5.3, §4.1.5.4): with MSI-X enabled, the vector the
 * driver mapped to the queue or to configuration changes (none: no
 * interrupt), and INTx stays low; without, the ISR bit and INTx.  A vector
 * the table does not have reads back as NO_VECTOR (§4.1.4.3.2).
 */
#include <petrel/dev/virtio_pci.h>
#include <petrel/lib.h>

#define CAP_VNDR 0x09
#define NO_VECTOR VIRTIO_NO_VECTOR
#define COMMON_LEN 0x38
#define ISR_QUEUE 1
#define ISR_CONFIG 2

#define CAP_COMMON 0x40
#define CAP_NOTIFY 0x50
#define CAP_ISR 0x64
#define CAP_DEVICE 0x74
#define CAP_PCI_CFG 0x84
#define CAP_MSIX 0x98
#define CAPS_END (CAP_MSIX + MSIX_CAP_LEN)

void virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev, const struct virtq_mem *mem,
		     uint64_t features, uint16_t nr_queues, uint16_t queue_max)
{
	memset(vp, 0, sizeof(*vp));
	vp->ops = ops;
	vp->dev = dev;
	vp->mem = *mem;
	vp->features = features | VIRTIO_F_VERSION_1;
	vp->nr_queues = MIN(nr_queues, (uint16_t)VIRTIO_MAX_QUEUES);
	vp->queue_max = queue_max;
	msix_init(&vp->msix, (uint16_t)(vp->nr_queues + 1), 0, VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_PBA,
		  ops->msi, dev);
	virtio_pci_reset(vp);
}

static void set_irq(struct virtio_pci *vp, bool level)
{
	if (vp->irq == level)
		return;
	vp->irq = level;
	if (vp->ops->set_irq)
		vp->ops->set_irq(vp->dev, level);
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->cfg_bar = 0;
	vp->cfg_off = vp->cfg_len = 0;
	vp->config_vector = NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vp->q[i] = (struct virtq){ .size = vp->queue_max };
		vp->queue_vector[i] = NO_VECTOR;
	}
	set_irq(vp, false);
}

/* One interrupt: the vector with MSI-X on, else the ISR bit and INTx. */
static void interrupt(struct virtio_pci *vp, uint8_t isr_bit, uint16_t vector)
{
	if (vp->msix.enabled) {
		if (vector != NO_VECTOR)
			msix_notify(&vp->msix, vector);
		return;
	}
	vp->isr |= isr_bit;
	set_irq(vp, true);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	interrupt(vp, ISR_CONFIG, vp->config_vector);
}

void virtio_pci_used(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->nr_queues || virtq_no_interrupt(&vp->q[q], &vp->mem))
		return;
	interrupt(vp, ISR_QUEUE, vp->queue_vector[q]);
}

static struct virtq *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->nr_queues ? &vp->q[vp->queue_select] : NULL;
}

static uint64_t common_read(struct virtio_pci *vp, unsigned off)
{
	struct virtq *q = selected(vp);

	switch (off) {
	case 0x00: return vp->dfselect;
	case 0x04: return vp->dfselect < 2 ? (uint32_t)(vp->features >> (32 * vp->dfselect)) : 0;
	case 0x08: return vp->gfselect;
	case 0x0c: return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0;
	case 0x10: return vp->config_vector;
	case 0x12: return vp->nr_queues;
	case 0x14: return vp->status;
	case 0x15: return vp->config_gen;
	case 0x16: return vp->queue_select;
	case 0x18: return q ? q->size : 0;
	case 0x1a: return q ? vp->queue_vector[vp->queue_select] : NO_VECTOR;
	case 0x1c: return q ? q->ready : 0;
	case 0x1e: return q ? vp->queue_select : 0;
	case 0x20: return q ? q->desc : 0;
	case 0x28: return q ? q->avail : 0;
	case 0x30: return q ? q->used : 0;
	default: return 0;
	}
}

/* The register each offset starts, and its width. */
static unsigned reg_width(unsigned off)
{
	if (off >= 0x20)
		return 8;
	if (off <= 0x0c)
		return 4;
	return off == 0x14 || off == 0x15 ? 1 : 2;
}

static unsigned reg_start(unsigned off)
{
	if (off >= 0x20)
		return off & ~7u;
	if (off < 0x10)
		return off & ~3u;
	if (off == 0x14 || off == 0x15)
		return off;
	return off & ~1u;
}

static void write_status(struct virtio_pci *vp, uint8_t val)
{
	if (!val) {
		virtio_pci_reset(vp);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vp->driver_features & ~vp->features) || !(vp->driver_features & VIRTIO_F_VERSION_1)))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* NEEDS_RESET is the device's to set; the driver cannot clear it but by a reset */
	vp->status = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (vp->status & VIRTIO_STATUS_NEEDS_RESET));
}

static void enable_queue(struct virtio_pci *vp, struct virtq *q)
{
	q->last_avail = q->used_idx = 0;
	if (!virtq_valid(q, &vp->mem)) {
		virtio_pci_needs_reset(vp);
		return;
	}
	q->ready = true;
}

/* A vector the table has, or NO_VECTOR: what the driver reads back. */
static uint16_t vector_or_none(const struct virtio_pci *vp, uint64_t val)
{
	return val < vp->msix.nr ? (uint16_t)val : NO_VECTOR;
}

static void common_write(struct virtio_pci *vp, unsigned start, uint64_t val)
{
	struct virtq *q = selected(vp);
	bool setup = q && !q->ready; /* a queue's setup is fixed once it is enabled */

	switch (start) {
	case 0x00: vp->dfselect = (uint32_t)val; break;
	case 0x08: vp->gfselect = (uint32_t)val; break;
	case 0x0c:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;
			vp->driver_features = (vp->driver_features & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
		}
		break;
	case 0x10: vp->config_vector = vector_or_none(vp, val); break;
	case 0x14: write_status(vp, (uint8_t)val); break;
	case 0x16: vp->queue_select = (uint16_t)val; break;
	case 0x18:
		if (setup)
			q->size = (uint16_t)val; /* checked when enabled */
		break;
	case 0x1c:
		if (setup && (val & 1)) {
			if (q->size > vp->queue_max)
				virtio_pci_needs_reset(vp);
			else
				enable_queue(vp, q);
		}
		break;
	case 0x20: if (setup) q->desc = val; break;
	case 0x28: if (setup) q->avail = val; break;
	case 0x30: if (setup) q->used = val; break;
	case 0x1a: if (q) vp->queue_vector[vp->queue_select] = vector_or_none(vp, val); break;
	default: break; /* read-only */
	}
}

/* Partial accesses to a register: the bytes merged into its value. */
static void common_access(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t *val, bool write)
{
	unsigned start = reg_start(off), width = reg_width(off), sh = 8 * (off - start);
	uint64_t cur = common_read(vp, start);
	uint64_t mask = (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1) << sh;

	if (off + size > start + width) { /* across two registers: not a valid access */
		if (!write)
			*val = 0;
		return;
	}
	if (!write) {
		*val = (cur & mask) >> sh;
		return;
	}
	/* 64-bit addresses come as two dword writes: keep the other half */
	common_write(vp, start, (cur & ~mask) | ((*val << sh) & mask));
}

uint64_t virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	if (msix_bar_read(&vp->msix, off, size, &v))
		return v;
	if (off < COMMON_LEN) {
		common_access(vp, (unsigned)off, size, &v, false);
		return v;
	}
	if (off == VIRTIO_PCI_ISR) {
		v = vp->isr;
		vp->isr = 0; /* reading it acknowledges it */
		set_irq(vp, false);
		return v;
	}
	if (off >= VIRTIO_PCI_DEVICE && off < VIRTIO_PCI_NOTIFY && vp->ops->config_read)
		return vp->ops->config_read(vp->dev, (unsigned)(off - VIRTIO_PCI_DEVICE), size);
	return 0;
}

void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val)
{
	if (msix_bar_write(&vp->msix, off, size, val))
		return;
	if (off < COMMON_LEN) {
		common_access(vp, (unsigned)off, size, &val, true);
	} else if (off >= VIRTIO_PCI_NOTIFY && off < VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * (uint64_t)vp->nr_queues) {
		unsigned q = (unsigned)(off - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULT;
		if (vp->q[q].ready && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(vp->status & VIRTIO_STATUS_NEEDS_RESET))
			vp->ops->notify(vp->dev, vp, q);
	}
	/* the ISR and the device configuration (virtio-blk's is read-only) take no writes */
}

/* The capability bytes, as one table built on each read (cheap, and
 * nothing to keep in step). */
static void caps(const struct virtio_pci *vp, uint8_t *c)
{
	static const struct { uint8_t at, type, len; uint32_t off, size; } cap[] = {
		{ CAP_COMMON, 1, 16, VIRTIO_PCI_COMMON, COMMON_LEN },
		{ CAP_NOTIFY, 2, 20, VIRTIO_PCI_NOTIFY, 0 /* per queue, below */ },
		{ CAP_ISR, 3, 16, VIRTIO_PCI_ISR, 1 },
		{ CAP_DEVICE, 4, 16, VIRTIO_PCI_DEVICE, 0x100 },
		{ CAP_PCI_CFG, 5, 20, 0, 0 },
	};

	memset(c, 0, CAPS_END - VIRTIO_PCI_CAPS);
	for (unsigned i = 0; i < ARRAY_SIZE(cap); i++) {
		uint8_t *p = c + cap[i].at - VIRTIO_PCI_CAPS;
		uint32_t off = cap[i].off, size = cap[i].size;
		p[0] = CAP_VNDR;
		p[1] = i + 1 < ARRAY_SIZE(cap) ? cap[i + 1].at : 0;
		p[2] = cap[i].len;
		p[3] = cap[i].type;
		if (cap[i].type == 2)
			size = VIRTIO_PCI_NOTIFY_MULT * vp->nr_queues;
		if (cap[i].type == 5) { /* the window as the driver set it */
			p[4] = vp->cfg_bar;
			off = vp->cfg_off;
			size = vp->cfg_len;
		}
		memcpy(p + 8, &off, 4);
		memcpy(p + 12, &size, 4);
		if (cap[i].type == 2) {
			uint32_t mult = VIRTIO_PCI_NOTIFY_MULT;
			memcpy(p + 16, &mult, 4);
		}
	}
	c[CAP_PCI_CFG + 1 - VIRTIO_PCI_CAPS] = CAP_MSIX; /* the vendor capabilities, then MSI-X */
	msix_cap(&vp->msix, c + CAP_MSIX - VIRTIO_PCI_CAPS, 0);
}

/* The PCI configuration access window reaches BAR 0 at the offset and
 * width the driver set (1, 2 or 4 bytes, naturally aligned). */
static bool window_ok(const struct virtio_pci *vp)
{
	return vp->cfg_bar == 0 && (vp->cfg_len == 1 || vp->cfg_len == 2 || vp->cfg_len == 4) &&
	       !(vp->cfg_off & (vp->cfg_len - 1)) && vp->cfg_off < VIRTIO_PCI_BAR_SIZE;
}

uint32_t virtio_pci_cfg_read(struct virtio_pci *vp, unsigned reg, unsigned size)
{
	uint8_t c[CAPS_END - VIRTIO_PCI_CAPS];
	uint32_t v = 0;

	if (reg >= CAP_PCI_CFG + 16 && reg < CAP_MSIX) /* the data window */
		return window_ok(vp) ? (uint32_t)virtio_pci_bar_read(vp, vp->cfg_off, vp->cfg_len) : 0;
	if (reg < VIRTIO_PCI_CAPS || reg + size > CAPS_END)
		return 0;
	caps(vp, c);
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)c[reg - VIRTIO_PCI_CAPS + i] << (8 * i);
	return v;
}

void virtio_pci_cfg_write(struct virtio_pci *vp, unsigned reg, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (r == CAP_PCI_CFG + 4)
			vp->cfg_bar = b;
		else if (r >= CAP_PCI_CFG + 8 && r < CAP_PCI_CFG + 12)
			vp->cfg_off = (vp->cfg_off & ~(0xffu << (8 * (r - CAP_PCI_CFG - 8)))) |
				      (uint32_t)b << (8 * (r - CAP_PCI_CFG - 8));
		else if (r >= CAP_PCI_CFG + 12 && r < CAP_PCI_CFG + 16)
			vp->cfg_len = (vp->cfg_len & ~(0xffu << (8 * (r - CAP_PCI_CFG - 12)))) |
				      (uint32_t)b << (8 * (r - CAP_PCI_CFG - 12));
	}
	if (reg >= CAP_PCI_CFG + 16 && reg < CAP_MSIX && window_ok(vp))
		virtio_pci_bar_write(vp, vp->cfg_off, vp->cfg_len, val);
	if (reg + size > CAP_MSIX && reg < CAPS_END) {
		unsigned first = reg < CAP_MSIX ? CAP_MSIX - reg : 0; /* bytes before the capability */
		msix_cap_write(&vp->msix, reg + first - CAP_MSIX, size - first, val >> (8 * first));
		if (vp->msix.enabled)
			set_irq(vp, false); /* MSI-X on: INTx is not used */
	}
}
