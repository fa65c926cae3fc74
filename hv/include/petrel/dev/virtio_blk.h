/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 §5.2) over the modern PCI transport
 * (hv/dev/virtio_blk.c).  The request model is pure: a chain from the
 * request queue in, the disk's bytes read or written, the status byte and
 * the used length out; tests/unit/test_virtio_blk.c drives it with the
 * transport over a fake guest RAM.
 */
#ifndef PETREL_DEV_VIRTIO_BLK_H
#define PETREL_DEV_VIRTIO_BLK_H

#include <petrel/dev/virtio_pci.h>
#include <petrel/device.h>
#include <stdint.h>

#define VIRTIO_BLK_SECTOR 512u
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2) /* data buffers: the header and status take two */
#define VIRTIO_BLK_QUEUE 256

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

struct virtio_blk {
	uint8_t *disk;       /* the disk's bytes, writable */
	uint64_t size;       /* whole sectors */
	uint64_t reads, writes, errors; /* requests, for the stats */
};

/* Carries out one request; returns the bytes written into the chain's
 * writable buffers (data and status), which the used ring reports.  A
 * request that cannot be carried out gets IOERR (UNSUPP for an unknown
 * type) in its status byte where it has one. */
uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c);
/* The device configuration: capacity (sectors), size_max, seg_max. */
uint32_t virtio_blk_config_read(const struct virtio_blk *b, unsigned off, unsigned size);
/* Takes every available request of queue 0 (the transport's notify). */
void virtio_blk_process(struct virtio_blk *b, struct virtio_pci *vp);

extern const struct device_type virtio_blk_device;

#endif
