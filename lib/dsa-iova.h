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

#ifndef DSA_IOVA_H
#define DSA_IOVA_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_memory.h>

struct rte_vhost_memory;

/* CPU copies between DMA addresses (IOVAs).
 *
 * The copy-policy layer (dsa-engine) sometimes does a copy that vhost handed
 * to the DMA engine on the CPU instead: a small copy, a full ring, a failed
 * or wedged device.  vhost gives both sides as IOVAs.  With IOVA-as-VA (an
 * IOMMU, or the software engine) an IOVA is the virtual address.  With
 * IOVA-as-PA (vfio in no-IOMMU mode, as on AWS EC2 bare-metal hosts) it is a
 * physical address, and the CPU needs the virtual address of each side: the
 * mbuf's (DPDK memory) and the guest buffer's (guest memory mapped by
 * vhost).  A map of IOVA ranges to virtual addresses, rebuilt when memory
 * changes, gives it. */

/* One IOVA range mapped at a virtual address. */
struct dsa_iova_seg {
    uint64_t iova;
    void *va;
    uint64_t len;
};

/* An immutable, sorted set of non-overlapping ranges. */
struct dsa_iova_map {
    struct dsa_iova_seg *segs;
    size_t n;
    size_t n_overlaps;          /* Input ranges dropped as overlapping. */
};

/* Pure functions (unit-tested on fabricated memory maps). */
struct dsa_iova_map *dsa_iova_map_build(const struct dsa_iova_seg *,
                                        size_t n);
void dsa_iova_map_destroy(struct dsa_iova_map *);
void *dsa_iova_map_lookup(const struct dsa_iova_map *, uint64_t iova,
                          uint64_t *avail);
bool dsa_iova_map_copy(const struct dsa_iova_map *, uint64_t dst,
                       uint64_t src, uint32_t len);

/* Process-wide translation used by the copy path. */
void dsa_iova_init(void);
bool dsa_iova_is_va(void);
bool dsa_iova_cpu_copy(uint64_t dst, uint64_t src, uint32_t len);
void dsa_iova_guest_update(int vid);
void dsa_iova_guest_refresh(int vid);
void dsa_iova_guest_forget(int vid);
void dsa_iova_set_map_for_tests(struct dsa_iova_map *);

/* How the translation reaches DPDK's memory and vhost's guests: DPDK's own
 * functions, or, in unit tests, fabrications. */
struct dsa_iova_ops {
    /* DPDK's memory segments: rte_memseg_walk_thread_unsafe(), for a
     * caller that holds DPDK's memory hotplug lock (DPDK's memory event
     * callbacks run with it held for writing), and
     * rte_mcfg_mem_read_lock() and _unlock(), which take and release it
     * for reading. */
    int (*memseg_walk_locked)(rte_memseg_walk_t, void *arg);
    void (*mem_read_lock)(void);
    void (*mem_read_unlock)(void);

    /* A vhost device's memory: rte_vhost_get_mem_table() (the caller
     * frees '*mem'), rte_mem_virt2phy(), and the page size of a region's
     * file descriptor. */
    int (*get_mem_table)(int vid, struct rte_vhost_memory **mem);
    phys_addr_t (*virt2phy)(const void *va);
    uint64_t (*page_size)(int fd);
};

void dsa_iova_start_for_tests(const struct dsa_iova_ops *);
void dsa_iova_mem_event_for_tests(void);
const struct dsa_iova_map *dsa_iova_current_for_tests(void);
void dsa_iova_stop_for_tests(void);
void dsa_iova_replace_map_for_tests(struct dsa_iova_map *,
                                    void (*retire)(void *), void *aux);
void dsa_iova_set_copy_hook_for_tests(void (*hook)(void));

#endif /* dsa-iova.h */
