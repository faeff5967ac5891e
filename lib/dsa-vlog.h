/*
 * Copyright (c) 2026 The ovs-dsa authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef DSA_VLOG_H
#define DSA_VLOG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dirty-page logging of vhost-user devices for live migration.
 *
 * DPDK masks VHOST_F_LOG_ALL on every socket registered for async copy, and
 * its async path logs nothing.  dsa-vhost offers the feature itself, hides
 * it from DPDK, and while the guest asks for logging sends every packet of
 * the device through DPDK's synchronous calls, logging what they wrote with
 * this module: before a host-to-guest call, the writable buffers the call
 * may fill are read from the ring (they cannot change while the guest has
 * them on offer), and after it those of the buffers it took are marked in
 * the guest's log, with the ring pages the device writes.  See
 * docs/design.md, "Live migration". */

struct rte_vhost_memory;

/* Where a virtqueue lives in the calling process, as
 * rte_vhost_get_vhost_vring() gives it, and the guest memory to translate
 * addresses with. */
struct dsa_vring_view {
    bool packed;                /* Packed (not split) virtqueue. */
    uint16_t size;              /* Descriptors in the ring. */
    void *desc;                 /* Descriptor ring. */
    void *avail;                /* Split: available ring. */
    void *used;                 /* Split: used ring; packed: device event
                                 * suppression area. */
    const struct rte_vhost_memory *mem;   /* Guest memory regions. */
};

/* The log bitmap QEMU shares: one bit per 4 KiB guest page. */
struct dsa_vlog_map {
    uint8_t *base;
    uint64_t size;              /* Bytes of 'base'. */
};

/* Guest-physical ranges a host-to-guest call may write, per buffer. */
#define DSA_VLOG_MAX_RANGES 1024
#define DSA_VLOG_MAX_BUFS 512
struct dsa_vlog_snap {
    uint16_t last_avail;        /* DPDK's last available index before the
                                 * call (packed: wrap counter in bit 15). */
    uint32_t n_bufs;            /* Buffers read, in ring order. */
    uint32_t n_ranges;
    bool truncated;             /* Some buffer on offer was not read. */
    uint32_t buf_end[DSA_VLOG_MAX_BUFS];    /* One past each buffer's last
                                             * range. */
    uint16_t buf_descs[DSA_VLOG_MAX_BUFS];  /* Descriptors of each buffer
                                             * (packed rings count those). */
    uint64_t gpa[DSA_VLOG_MAX_RANGES];
    uint32_t len[DSA_VLOG_MAX_RANGES];
};

/* Pure functions on fabricated or real rings (unit-tested). */
void dsa_vlog_mark(const struct dsa_vlog_map *, uint64_t gpa, uint64_t len);
void dsa_vlog_mark_all(const struct dsa_vlog_map *,
                       const struct rte_vhost_memory *);
void dsa_vlog_snap_take(const struct dsa_vring_view *, uint16_t last_avail,
                        struct dsa_vlog_snap *);
bool dsa_vlog_snap_commit(const struct dsa_vring_view *,
                          const struct dsa_vlog_snap *, uint16_t last_avail,
                          const struct dsa_vlog_map *);
void dsa_vlog_mark_rings(const struct dsa_vring_view *,
                         const struct dsa_vlog_map *);

/* The log of one vhost-user connection. */
struct dsa_vlog;
struct dsa_vlog *dsa_vlog_create(int vid);
void dsa_vlog_destroy(struct dsa_vlog *);
int dsa_vlog_set_base(struct dsa_vlog *, int fd, uint64_t size,
                      uint64_t offset);
void dsa_vlog_set_active(struct dsa_vlog *, bool active);
bool dsa_vlog_active(const struct dsa_vlog *);
void dsa_vlog_mem_begin(struct dsa_vlog *);
void dsa_vlog_mem_end(struct dsa_vlog *);
void dsa_vlog_log_all(struct dsa_vlog *);
bool dsa_vlog_enqueue_begin(struct dsa_vlog *, uint16_t qid, bool packed,
                            struct dsa_vlog_snap *);
void dsa_vlog_enqueue_end(struct dsa_vlog *, uint16_t qid, bool packed,
                          const struct dsa_vlog_snap *);
void dsa_vlog_rings(struct dsa_vlog *, uint16_t qid, bool packed);

#endif /* dsa-vlog.h */
