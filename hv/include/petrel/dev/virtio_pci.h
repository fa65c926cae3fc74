/* SPDX-License-Identifier: MIT */
/*
 * The virtio PCI transport, modern (virtio 1.2 §4.1), for Petrel's virtio
 * devices (hv/dev/virtio_pci.c): the vendor capabilities in configuration
 * space, and one 64-bit memory BAR holding the common configuration, the
 * ISR status, the device's own configuration and the notification area.
 * A device model (virtio-blk) gives its features, queues, configuration
 * and what a notification does; the transport does the rest: feature
 * negotiation, device status and reset, queue setup (checked when
 * enabled), the interrupts: MSI-X (one vector per queue and one for
 * configuration changes, the table and PBA in BAR 0) when the driver
 * enables it, else INTx with the ISR status.  The model is pure C over the guest-RAM
 * callback of virtio_ring.h; tests/unit/test_virtio_blk.c drives it.
 */
#ifndef PETREL_DEV_VIRTIO_PCI_H
#define PETREL_DEV_VIRTIO_PCI_H

#include <petrel/dev/msix.h>
#include <petrel/dev/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE 0x4000
#define VIRTIO_PCI_MSIX_PBA 0x5000
#define VIRTIO_NO_VECTOR 0xffff
#define VIRTIO_PCI_CAPS 0x40  /* the capability list's first */

#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

struct virtio_pci;

struct virtio_dev_ops {
	/* The device's configuration (from VIRTIO_PCI_DEVICE on). */
	uint32_t (*config_read)(void *dev, unsigned off, unsigned size);
	/* The driver notified queue q (it is ready). */
	void (*notify)(void *dev, struct virtio_pci *vp, unsigned q);
	/* The interrupt line's level changed (INTx, through the board). */
	void (*set_irq)(void *dev, bool level);
	/* An MSI-X message to send (a write of data to addr). */
	void (*msi)(void *dev, uint64_t addr, uint32_t data);
};

struct virtio_pci {
	const struct virtio_dev_ops *ops;
	void *dev;
	struct virtq_mem mem;
	uint64_t features;         /* the device's */
	uint64_t driver_features;  /* what the driver accepted */
	uint32_t dfselect, gfselect;
	uint16_t queue_select, nr_queues, queue_max;
	uint8_t status, isr, config_gen;
	bool irq;                  /* the INTx level */
	struct virtq q[VIRTIO_MAX_QUEUES];
	struct msix msix;          /* vectors 0..nr_queues */
	uint16_t config_vector, queue_vector[VIRTIO_MAX_QUEUES]; /* or VIRTIO_NO_VECTOR */
	/* VIRTIO_PCI_CAP_PCI_CFG's window: BAR, offset, length as written */
	uint8_t cfg_bar;
	uint32_t cfg_off, cfg_len;
};

void virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev, const struct virtq_mem *mem,
		     uint64_t features, uint16_t nr_queues, uint16_t queue_max);
/* A reset (the driver writes status 0): features, queues, ISR start afresh. */
void virtio_pci_reset(struct virtio_pci *vp);
uint64_t virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, unsigned size);
void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val);
/* The capabilities, configuration registers 0x40 on. */
uint32_t virtio_pci_cfg_read(struct virtio_pci *vp, unsigned reg, unsigned size);
void virtio_pci_cfg_write(struct virtio_pci *vp, unsigned reg, unsigned size, uint32_t val);
/* For the device: used buffers were added to queue q (interrupt unless the
 * driver asked not), or something went wrong that needs a reset. */
void virtio_pci_used(struct virtio_pci *vp, unsigned q);
void virtio_pci_needs_reset(struct virtio_pci *vp);

#endif
