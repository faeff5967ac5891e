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

#include <config.h>

#include "dsa-iova.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_memcpy.h>
#include <rte_memory.h>
#include <rte_vhost.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa_iova);

COVERAGE_DEFINE(dsa_iova_miss);
COVERAGE_DEFINE(dsa_iova_rebuild);

/* Orders ranges by IOVA. */
static int
dsa_iova_seg_cmp(const void *a_, const void *b_)
{
    const struct dsa_iova_seg *a = a_, *b = b_;

    return a->iova < b->iova ? -1 : a->iova > b->iova;
}

/* Returns a map of the 'n' ranges of 'segs' (any order): ranges adjacent in
 * both IOVA and virtual address are merged, empty ones dropped, and one
 * that overlaps an earlier range is dropped and counted in 'n_overlaps'
 * (the map never gives two answers for one IOVA). */
struct dsa_iova_map *
dsa_iova_map_build(const struct dsa_iova_seg *segs, size_t n)
{
    struct dsa_iova_map *map = xzalloc(sizeof *map);
    struct dsa_iova_seg *sorted = xmemdup(segs, n * sizeof *segs);

    qsort(sorted, n, sizeof *sorted, dsa_iova_seg_cmp);
    map->segs = xmalloc(MAX(n, 1) * sizeof *map->segs);
    for (size_t i = 0; i < n; i++) {
        const struct dsa_iova_seg *s = &sorted[i];
        struct dsa_iova_seg *prev = map->n ? &map->segs[map->n - 1] : NULL;

        if (!s->len) {
            continue;
        }
        if (prev && s->iova < prev->iova + prev->len) {
            map->n_overlaps++;
        } else if (prev && s->iova == prev->iova + prev->len
                   && (char *) s->va == (char *) prev->va + prev->len) {
            prev->len += s->len;
        } else {
            map->segs[map->n++] = *s;
        }
    }
    free(sorted);
    return map;
}

void
dsa_iova_map_destroy(struct dsa_iova_map *map)
{
    if (map) {
        free(map->segs);
        free(map);
    }
}

/* Returns the virtual address of 'iova' in 'map', with in '*avail' how many
 * bytes from there are mapped contiguously, or NULL if 'iova' is not
 * mapped. */
void *
dsa_iova_map_lookup(const struct dsa_iova_map *map, uint64_t iova,
                    uint64_t *avail)
{
    size_t lo = 0, hi = map->n;

    /* Finds the last range that starts at or before 'iova'. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (map->segs[mid].iova <= iova) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo) {
        const struct dsa_iova_seg *s = &map->segs[lo - 1];

        if (iova - s->iova < s->len) {
            *avail = s->len - (iova - s->iova);
            return (char *) s->va + (iova - s->iova);
        }
    }
    *avail = 0;
    return NULL;
}

/* Copies 'len' bytes from IOVA 'src' to IOVA 'dst' through 'map', in as
 * many pieces as the ranges on either side need (IOVA-contiguous memory
 * need not be contiguous in virtual memory).  Returns false, having copied
 * only a prefix, if some byte of either side is not mapped. */
bool
dsa_iova_map_copy(const struct dsa_iova_map *map, uint64_t dst, uint64_t src,
                  uint32_t len)
{
    while (len) {
        uint64_t s_avail, d_avail;
        void *s = dsa_iova_map_lookup(map, src, &s_avail);
        void *d = dsa_iova_map_lookup(map, dst, &d_avail);
        uint32_t chunk;

        if (!s || !d) {
            return false;
        }
        chunk = MIN(len, MIN(s_avail, d_avail));
        rte_memcpy(d, s, chunk);
        src += chunk;
        dst += chunk;
        len -= chunk;
    }
    return true;
}

/* Whether IOVAs are virtual addresses: true until dsa_iova_init() finds
 * DPDK in IOVA-as-PA mode. */
static bool dsa_iova_va = true;

/* The page size of the file behind a guest memory region ('fd'): DPDK
 * vhost's own choice (st_blksize: the huge page size on hugetlbfs). */
static uint64_t
dsa_iova_fd_page_size(int fd)
{
    struct stat st;

    if (fd >= 0 && !fstat(fd, &st) && st.st_blksize > 0) {
        return st.st_blksize;
    }
    return 4096;
}

static const struct dsa_iova_ops dsa_iova_dpdk_ops = {
    .memseg_walk_locked = rte_memseg_walk_thread_unsafe,
    .mem_read_lock = rte_mcfg_mem_read_lock,
    .mem_read_unlock = rte_mcfg_mem_read_unlock,
    .get_mem_table = rte_vhost_get_mem_table,
    .virt2phy = rte_mem_virt2phy,
    .page_size = dsa_iova_fd_page_size,
};

/* DPDK, or a unit test's fabrication.  Set before PA mode starts. */
static const struct dsa_iova_ops *dsa_iova_ops = &dsa_iova_dpdk_ops;

/* Unit tests: called by a CPU copy between taking the map and using it. */
static void (*dsa_iova_copy_hook)(void);

/* The current map (IOVA-as-PA only): DPDK's memory and every guest's. */
static OVSRCU_TYPE(struct dsa_iova_map *) dsa_iova_cur;

/* The ranges of each attached guest's memory, by vid. */
struct dsa_iova_guest {
    struct dsa_iova_seg *segs;
    size_t n;
    bool attached;              /* Between new_device and destroy_device. */
};

/* A growing array of ranges. */
struct dsa_iova_segv {
    struct dsa_iova_seg *segs;
    size_t n, allocated;
};

/* Lock order: DPDK's memory hotplug lock, then dsa_iova_mutex.  DPDK calls
 * the memory event callback with its lock held (for writing), so nothing
 * may take DPDK's lock (rte_memseg_walk() does, for reading) while it
 * holds dsa_iova_mutex: DPDK's memory is walked with DPDK's lock held and
 * ours not yet, and kept in dsa_iova_dpdk for the rebuilds that guests
 * cause. */
static struct ovs_mutex dsa_iova_mutex = OVS_MUTEX_INITIALIZER;
static struct dsa_iova_guest dsa_iova_guests[RTE_MAX_VHOST_DEVICE]
    OVS_GUARDED_BY(dsa_iova_mutex);
static struct dsa_iova_segv dsa_iova_dpdk OVS_GUARDED_BY(dsa_iova_mutex);

static void
dsa_iova_segv_add(struct dsa_iova_segv *v, uint64_t iova, void *va,
                  uint64_t len)
{
    if (v->n >= v->allocated) {
        v->segs = x2nrealloc(v->segs, &v->allocated, sizeof *v->segs);
    }
    v->segs[v->n++] = (struct dsa_iova_seg) { iova, va, len };
}

/* rte_memseg_walk() callback: adds one segment of DPDK memory. */
static int
dsa_iova_add_memseg(const struct rte_memseg_list *msl OVS_UNUSED,
                    const struct rte_memseg *ms, void *v_)
{
    if (ms->iova != RTE_BAD_IOVA && ms->addr) {
        dsa_iova_segv_add(v_, ms->iova, ms->addr, ms->len);
    }
    return 0;
}

/* Builds and publishes a new map from the recorded DPDK memory and the
 * guests'. */
static void
dsa_iova_rebuild(void)
    OVS_REQUIRES(dsa_iova_mutex)
{
    struct dsa_iova_segv v = { NULL, 0, 0 };
    struct dsa_iova_map *old, *map;

    COVERAGE_INC(dsa_iova_rebuild);
    for (size_t i = 0; i < dsa_iova_dpdk.n; i++) {
        const struct dsa_iova_seg *seg = &dsa_iova_dpdk.segs[i];

        dsa_iova_segv_add(&v, seg->iova, seg->va, seg->len);
    }
    for (size_t i = 0; i < ARRAY_SIZE(dsa_iova_guests); i++) {
        const struct dsa_iova_guest *g = &dsa_iova_guests[i];

        for (size_t j = 0; j < g->n; j++) {
            dsa_iova_segv_add(&v, g->segs[j].iova, g->segs[j].va,
                              g->segs[j].len);
        }
    }
    map = dsa_iova_map_build(v.segs, v.n);
    free(v.segs);
    if (map->n_overlaps) {
        VLOG_WARN("IOVA map: %"PRIuSIZE" overlapping range(s) ignored",
                  map->n_overlaps);
    }
    old = ovsrcu_get_protected(struct dsa_iova_map *, &dsa_iova_cur);
    ovsrcu_set(&dsa_iova_cur, map);
    if (old) {
        /* Postponing makes a quiescent thread (vhost's, which OvS leaves
         * quiescent) active again: put it back. */
        bool quiescent = ovsrcu_is_quiescent();

        ovsrcu_postpone(dsa_iova_map_destroy, old);
        if (quiescent) {
            ovsrcu_quiesce_start();
        }
    }
}

/* Replaces the recorded DPDK memory with 'v' (whose array it takes) and
 * rebuilds the map.  The caller walked DPDK's memory into 'v' and still
 * holds DPDK's memory hotplug lock, so that records replace each other in
 * the order of the walks. */
static void
dsa_iova_set_dpdk(struct dsa_iova_segv *v)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    ovs_mutex_lock(&dsa_iova_mutex);
    free(dsa_iova_dpdk.segs);
    dsa_iova_dpdk = *v;
    dsa_iova_rebuild();
    ovs_mutex_unlock(&dsa_iova_mutex);
}

/* DPDK memory event callback: DPDK memory grew or shrank.  DPDK holds its
 * memory hotplug lock. */
static void
dsa_iova_mem_event(enum rte_mem_event type OVS_UNUSED,
                   const void *addr OVS_UNUSED, size_t len OVS_UNUSED,
                   void *arg OVS_UNUSED)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    struct dsa_iova_segv v = { NULL, 0, 0 };

    dsa_iova_ops->memseg_walk_locked(dsa_iova_add_memseg, &v);
    dsa_iova_set_dpdk(&v);
}

/* Starts IOVA-as-PA translation through 'ops': builds the map of DPDK's
 * memory. */
static void
dsa_iova_start(const struct dsa_iova_ops *ops)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    struct dsa_iova_segv v = { NULL, 0, 0 };

    dsa_iova_ops = ops;
    dsa_iova_va = false;
    ops->mem_read_lock();
    ops->memseg_walk_locked(dsa_iova_add_memseg, &v);
    dsa_iova_set_dpdk(&v);
    ops->mem_read_unlock();
}

/* Called once DPDK is initialized: in IOVA-as-PA mode, builds the map of
 * DPDK's memory and keeps it up to date. */
void
dsa_iova_init(void)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    if (rte_eal_iova_mode() != RTE_IOVA_PA) {
        return;
    }
    VLOG_INFO("DPDK runs with IOVA as physical addresses: CPU fallback "
              "copies translate them through a map of DPDK's and the "
              "guests' memory");
    dsa_iova_start(&dsa_iova_dpdk_ops);
    if (rte_mem_event_callback_register("ovs-dsa-iova", dsa_iova_mem_event,
                                        NULL)) {
        VLOG_WARN("cannot follow DPDK memory changes: CPU fallback copies "
                  "to memory DPDK adds later fail");
    }
}

/* Returns true if IOVAs are virtual addresses. */
bool
dsa_iova_is_va(void)
{
    return dsa_iova_va;
}

/* Copies 'len' bytes from IOVA 'src' to IOVA 'dst' on the CPU.  Returns
 * false if either side cannot be translated (IOVA-as-PA only).
 *
 * Any thread may call it, also one that OvS's RCU sees as quiescent: DPDK's
 * vhost thread, which OvS leaves quiescent, copies here in the drains of
 * vring_state_changed and destroy_device.  A grace period does not wait for
 * a quiescent thread, so the map it reads could be freed under it (a port
 * deleted meanwhile rebuilds the map); such a thread is made non-quiescent
 * for the copy. */
bool
dsa_iova_cpu_copy(uint64_t dst, uint64_t src, uint32_t len)
{
    struct dsa_iova_map *map;
    bool quiescent, ok;

    if (OVS_LIKELY(dsa_iova_va)) {
        rte_memcpy((void *) (uintptr_t) dst, (void *) (uintptr_t) src, len);
        return true;
    }
    quiescent = ovsrcu_is_quiescent();
    if (OVS_UNLIKELY(quiescent)) {
        ovsrcu_quiesce_end();
    }
    map = ovsrcu_get(struct dsa_iova_map *, &dsa_iova_cur);
    if (OVS_UNLIKELY(dsa_iova_copy_hook)) {
        dsa_iova_copy_hook();
    }
    ok = map && dsa_iova_map_copy(map, dst, src, len);
    if (OVS_UNLIKELY(quiescent)) {
        ovsrcu_quiesce_start();
    }
    if (!ok) {
        COVERAGE_INC(dsa_iova_miss);
    }
    return ok;
}

/* Returns true if 'vid''s memory is recorded (it is attached). */
static bool
dsa_iova_guest_attached(int vid)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    bool attached;

    ovs_mutex_lock(&dsa_iova_mutex);
    attached = dsa_iova_guests[vid].attached;
    ovs_mutex_unlock(&dsa_iova_mutex);
    return attached;
}

/* Records the physical pages of vhost device 'vid''s memory: with
 * 'attach', because it attached; otherwise only if it is attached. */
static void
dsa_iova_guest_record(int vid, bool attach)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    struct rte_vhost_memory *mem = NULL;
    struct dsa_iova_segv v = { NULL, 0, 0 };
    struct dsa_iova_guest *g;

    if (dsa_iova_va || vid < 0 || vid >= RTE_MAX_VHOST_DEVICE
        || (!attach && !dsa_iova_guest_attached(vid))
        || dsa_iova_ops->get_mem_table(vid, &mem) || !mem) {
        return;
    }
    for (uint32_t i = 0; i < mem->nregions; i++) {
        const struct rte_vhost_mem_region *r = &mem->regions[i];
        uint64_t page = dsa_iova_ops->page_size(r->fd);
        uint64_t len;

        /* One range per page: physically contiguous only within one.  A
         * region need not start on a page boundary (QEMU maps guest
         * memory at an offset into its file), so each range ends where
         * its page does, not 'page' bytes further. */
        for (uint64_t off = 0; off < r->size; off += len) {
            uint64_t addr = r->host_user_addr + off;
            void *va = (void *) (uintptr_t) addr;
            phys_addr_t pa = dsa_iova_ops->virt2phy(va);

            len = MIN(page - addr % page, r->size - off);
            if (pa != RTE_BAD_PHYS_ADDR) {
                dsa_iova_segv_add(&v, pa, va, len);
            }
        }
    }
    free(mem);

    ovs_mutex_lock(&dsa_iova_mutex);
    g = &dsa_iova_guests[vid];
    if (attach || g->attached) {
        free(g->segs);
        g->segs = v.segs;
        g->n = v.n;
        g->attached = true;
        dsa_iova_rebuild();
    } else {
        free(v.segs);
    }
    ovs_mutex_unlock(&dsa_iova_mutex);
}

/* vhost device 'vid' attached (new_device): records the physical pages of
 * its memory (IOVA-as-PA only), until dsa_iova_guest_forget(). */
void
dsa_iova_guest_update(int vid)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    dsa_iova_guest_record(vid, true);
}

/* vhost device 'vid' may have changed its memory table (DPDK enabled its
 * queue 0 again): records it again if it is attached (IOVA-as-PA only).
 * DPDK also enables the queues of a device that never runs, and then
 * calls no destroy_device that would forget it: such a device is not
 * recorded. */
void
dsa_iova_guest_refresh(int vid)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    dsa_iova_guest_record(vid, false);
}

/* vhost device 'vid' is gone: forgets its memory (IOVA-as-PA only). */
void
dsa_iova_guest_forget(int vid)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    if (dsa_iova_va || vid < 0 || vid >= RTE_MAX_VHOST_DEVICE) {
        return;
    }
    ovs_mutex_lock(&dsa_iova_mutex);
    free(dsa_iova_guests[vid].segs);
    dsa_iova_guests[vid].segs = NULL;
    dsa_iova_guests[vid].n = 0;
    dsa_iova_guests[vid].attached = false;
    dsa_iova_rebuild();
    ovs_mutex_unlock(&dsa_iova_mutex);
}

/* Unit tests: makes CPU copies translate through 'map' (which the caller
 * keeps), as in IOVA-as-PA mode; NULL goes back to identity. */
void
dsa_iova_set_map_for_tests(struct dsa_iova_map *map)
{
    dsa_iova_va = !map;
    ovsrcu_set(&dsa_iova_cur, map);
}

/* Unit tests: starts IOVA-as-PA mode on fabricated DPDK and vhost memory
 * ('ops', which must outlive it), as dsa_iova_init() does on DPDK's.  DPDK
 * memory events are dsa_iova_mem_event_for_tests(). */
void
dsa_iova_start_for_tests(const struct dsa_iova_ops *ops)
{
    dsa_iova_start(ops);
}

/* Unit tests: what DPDK does when its memory changes (the caller holds the
 * fabricated memory hotplug lock). */
void
dsa_iova_mem_event_for_tests(void)
{
    dsa_iova_mem_event(RTE_MEM_EVENT_ALLOC, NULL, 0, NULL);
}

/* Unit tests: the map CPU copies translate through now. */
const struct dsa_iova_map *
dsa_iova_current_for_tests(void)
{
    return ovsrcu_get(struct dsa_iova_map *, &dsa_iova_cur);
}

/* Unit tests: back to IOVA-as-VA and DPDK, every guest forgotten. */
void
dsa_iova_stop_for_tests(void)
    OVS_EXCLUDED(dsa_iova_mutex)
{
    struct dsa_iova_map *old;

    ovs_mutex_lock(&dsa_iova_mutex);
    for (size_t i = 0; i < ARRAY_SIZE(dsa_iova_guests); i++) {
        free(dsa_iova_guests[i].segs);
        memset(&dsa_iova_guests[i], 0, sizeof dsa_iova_guests[i]);
    }
    free(dsa_iova_dpdk.segs);
    memset(&dsa_iova_dpdk, 0, sizeof dsa_iova_dpdk);
    old = ovsrcu_get_protected(struct dsa_iova_map *, &dsa_iova_cur);
    ovsrcu_set(&dsa_iova_cur, NULL);
    ovsrcu_postpone(dsa_iova_map_destroy, old);
    dsa_iova_va = true;
    dsa_iova_ops = &dsa_iova_dpdk_ops;
    ovs_mutex_unlock(&dsa_iova_mutex);
}

/* Unit tests: publishes 'map' (the caller keeps it) as a rebuild does,
 * with 'retire'('aux') run once no thread can use the map it replaces. */
void
dsa_iova_replace_map_for_tests(struct dsa_iova_map *map,
                               void (*retire)(void *), void *aux)
{
    dsa_iova_va = false;
    ovsrcu_set(&dsa_iova_cur, map);
    ovsrcu_postpone__(retire, aux);
}

/* Unit tests: 'hook' runs in every CPU copy of IOVA-as-PA mode between
 * taking the map and copying through it (NULL: none). */
void
dsa_iova_set_copy_hook_for_tests(void (*hook)(void))
{
    dsa_iova_copy_hook = hook;
}
