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

#include "dsa-vlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_vhost.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa_vlog);

COVERAGE_DEFINE(dsa_vlog_log_all);
COVERAGE_DEFINE(dsa_vlog_remap_drop);

/* Guest pages the log tracks: one bit per 4 KiB page (vhost-user's
 * VHOST_LOG_PAGE). */
#define DSA_VLOG_PAGE_SHIFT 12

/* Virtqueue descriptor flags (virtio 1.x, 2.6.5 and 2.7.1). */
#define DSA_VRING_F_NEXT 1
#define DSA_VRING_F_WRITE 2
#define DSA_VRING_F_INDIRECT 4
#define DSA_VRING_F_AVAIL (1 << 7)
#define DSA_VRING_F_USED (1 << 15)

/* A split virtqueue descriptor, as the guest lays it out (little endian,
 * which is this host's order). */
struct dsa_vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* A packed virtqueue descriptor. */
struct dsa_vdesc_packed {
    uint64_t addr;
    uint32_t len;
    uint16_t id;
    uint16_t flags;
};

BUILD_ASSERT_DECL(sizeof(struct dsa_vdesc) == 16);
BUILD_ASSERT_DECL(sizeof(struct dsa_vdesc_packed) == 16);

/* Marks the guest pages of [gpa, gpa + len) dirty in 'map'.  Pages beyond
 * the log (which QEMU sizes for all guest memory) are not marked. */
void
dsa_vlog_mark(const struct dsa_vlog_map *map, uint64_t gpa, uint64_t len)
{
    uint64_t page, last;

    if (!map->base || !len || gpa + len < gpa) {
        return;
    }
    last = (gpa + len - 1) >> DSA_VLOG_PAGE_SHIFT;
    for (page = gpa >> DSA_VLOG_PAGE_SHIFT; page <= last; page++) {
        uint64_t byte = page >> 3;

        if (byte >= map->size) {
            return;
        }
        /* Release: QEMU must see the guest write before the bit. */
        __atomic_fetch_or(&map->base[byte], (uint8_t) (1u << (page & 7)),
                          __ATOMIC_RELEASE);
    }
}

/* Marks every page of guest memory 'mem' dirty in 'map': the safe answer
 * when it is not known which pages a write touched. */
void
dsa_vlog_mark_all(const struct dsa_vlog_map *map,
                  const struct rte_vhost_memory *mem)
{
    COVERAGE_INC(dsa_vlog_log_all);
    if (!mem) {
        /* Without the memory table, everything the log covers. */
        dsa_vlog_mark(map, 0, map->size * 8 << DSA_VLOG_PAGE_SHIFT);
        return;
    }
    for (uint32_t i = 0; i < mem->nregions; i++) {
        dsa_vlog_mark(map, mem->regions[i].guest_phys_addr,
                      mem->regions[i].size);
    }
}

/* Returns the address in this process of guest-physical [gpa, gpa + len)
 * if one region of 'mem' holds all of it, else NULL. */
static const void *
dsa_vlog_gpa_to_va(const struct rte_vhost_memory *mem, uint64_t gpa,
                   uint64_t len)
{
    for (uint32_t i = 0; mem && i < mem->nregions; i++) {
        const struct rte_vhost_mem_region *r = &mem->regions[i];

        if (gpa >= r->guest_phys_addr && gpa - r->guest_phys_addr < r->size
            && len <= r->size - (gpa - r->guest_phys_addr)) {
            return (const void *) (uintptr_t) (r->host_user_addr
                                               + gpa - r->guest_phys_addr);
        }
    }
    return NULL;
}

/* Stores in '*gpa' the guest-physical address of 'va', a pointer into guest
 * memory 'mem'.  Returns false if no region holds it. */
static bool
dsa_vlog_va_to_gpa(const struct rte_vhost_memory *mem, const void *va,
                   uint64_t *gpa)
{
    uint64_t addr = (uintptr_t) va;

    for (uint32_t i = 0; mem && i < mem->nregions; i++) {
        const struct rte_vhost_mem_region *r = &mem->regions[i];

        if (addr >= r->host_user_addr && addr - r->host_user_addr < r->size) {
            *gpa = r->guest_phys_addr + (addr - r->host_user_addr);
            return true;
        }
    }
    return false;
}

/* Adds [gpa, gpa + len) to 's'.  Returns false if 's' is full. */
static bool
dsa_vlog_snap_add(struct dsa_vlog_snap *s, uint64_t gpa, uint32_t len)
{
    if (!len) {
        return true;
    }
    if (s->n_ranges >= DSA_VLOG_MAX_RANGES) {
        return false;
    }
    s->gpa[s->n_ranges] = gpa;
    s->len[s->n_ranges] = len;
    s->n_ranges++;
    return true;
}

/* Adds to 's' the writable buffers of the split-ring descriptor chain that
 * starts at 'head', following one indirect table.  Returns false if the
 * chain is malformed or does not fit. */
static bool
dsa_vlog_chain_split(const struct dsa_vring_view *v, uint16_t head,
                     struct dsa_vlog_snap *s)
{
    const struct dsa_vdesc *table = v->desc;
    uint32_t table_size = v->size;
    uint32_t id = head;

    for (uint32_t hops = 0; hops < table_size; hops++) {
        struct dsa_vdesc d;

        if (id >= table_size) {
            return false;
        }
        d = table[id];
        if (d.flags & DSA_VRING_F_INDIRECT) {
            if (table != v->desc || d.len % sizeof *table || !d.len) {
                return false;
            }
            table = dsa_vlog_gpa_to_va(v->mem, d.addr, d.len);
            if (!table) {
                return false;
            }
            table_size = d.len / sizeof *table;
            id = 0;
            hops = UINT32_MAX;  /* Becomes 0: the table's own bound. */
            continue;
        }
        if (d.flags & DSA_VRING_F_WRITE && !dsa_vlog_snap_add(s, d.addr,
                                                             d.len)) {
            return false;
        }
        if (!(d.flags & DSA_VRING_F_NEXT)) {
            return true;
        }
        id = d.next;
    }
    return false;
}

/* Adds to 's' the writable buffers of a packed-ring indirect table at
 * guest-physical 'gpa', 'len' bytes.  Returns false if it cannot. */
static bool
dsa_vlog_indirect_packed(const struct dsa_vring_view *v, uint64_t gpa,
                         uint32_t len, struct dsa_vlog_snap *s)
{
    const struct dsa_vdesc_packed *table;

    if (!len || len % sizeof *table) {
        return false;
    }
    table = dsa_vlog_gpa_to_va(v->mem, gpa, len);
    if (!table) {
        return false;
    }
    for (uint32_t i = 0; i < len / sizeof *table; i++) {
        if (table[i].flags & DSA_VRING_F_WRITE
            && !dsa_vlog_snap_add(s, table[i].addr, table[i].len)) {
            return false;
        }
    }
    return true;
}

/* Reads the buffers of packed ring 'v' on offer from position 'last_avail'
 * (wrap counter in bit 15) into 's'. */
static void
dsa_vlog_snap_packed(const struct dsa_vring_view *v, uint16_t last_avail,
                     struct dsa_vlog_snap *s)
{
    const struct dsa_vdesc_packed *ring = v->desc;
    uint32_t pos = last_avail & 0x7fff;
    bool wrap = last_avail >> 15;
    uint32_t seen = 0;

    while (s->n_bufs < DSA_VLOG_MAX_BUFS && seen < v->size) {
        uint32_t first_range = s->n_ranges;
        uint16_t n_descs = 0;
        bool ok = true;

        for (;;) {
            const struct dsa_vdesc_packed *d = &ring[pos];
            uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
            bool avail = flags & DSA_VRING_F_AVAIL;
            bool used = flags & DSA_VRING_F_USED;

            if (avail != wrap || used == wrap) {
                /* Not on offer: the end, unless inside a chain. */
                if (n_descs) {
                    s->truncated = true;
                }
                s->n_ranges = first_range;
                return;
            }
            if (flags & DSA_VRING_F_INDIRECT) {
                ok = dsa_vlog_indirect_packed(v, d->addr, d->len, s);
            } else if (flags & DSA_VRING_F_WRITE) {
                ok = dsa_vlog_snap_add(s, d->addr, d->len);
            }
            n_descs++;
            seen++;
            if (++pos == v->size) {
                pos = 0;
                wrap = !wrap;
            }
            if (!ok || !(flags & DSA_VRING_F_NEXT) || seen >= v->size) {
                break;
            }
        }
        if (!ok) {
            s->n_ranges = first_range;
            s->truncated = true;
            return;
        }
        s->buf_end[s->n_bufs] = s->n_ranges;
        s->buf_descs[s->n_bufs] = n_descs;
        s->n_bufs++;
    }
    s->truncated = true;
}

/* Reads into 's' the writable buffers that ring 'v' offers from DPDK's
 * position 'last_avail' on, before a host-to-guest call: the guest may not
 * change a buffer it offered until the device gives it back, but may reuse
 * it as soon as it has, so they are read before the call. */
void
dsa_vlog_snap_take(const struct dsa_vring_view *v, uint16_t last_avail,
                   struct dsa_vlog_snap *s)
{
    s->last_avail = last_avail;
    s->n_bufs = s->n_ranges = 0;
    s->truncated = false;
    if (!v->desc || !v->size || (!v->packed && !v->avail)) {
        s->truncated = true;
        return;
    }
    if (v->packed) {
        dsa_vlog_snap_packed(v, last_avail, s);
        return;
    }

    const uint16_t *avail = v->avail;     /* flags, idx, ring[size]. */
    uint16_t avail_idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);

    for (uint16_t i = last_avail; i != avail_idx; i++) {
        uint32_t first_range = s->n_ranges;

        if (s->n_bufs >= DSA_VLOG_MAX_BUFS
            || !dsa_vlog_chain_split(v, avail[2 + i % v->size], s)) {
            s->n_ranges = first_range;
            s->truncated = true;
            return;
        }
        s->buf_end[s->n_bufs] = s->n_ranges;
        s->buf_descs[s->n_bufs] = 1;
        s->n_bufs++;
    }
}

/* Marks in 'map' the pages the device writes in ring 'v' itself: the used
 * ring (split), or the descriptor ring and the device event area (packed).
 * Returns false if they are not in guest memory as known. */
static bool
dsa_vlog_mark_ring_pages(const struct dsa_vring_view *v,
                         const struct dsa_vlog_map *map)
{
    uint64_t gpa;

    if (!v->packed) {
        /* flags, idx, ring[size] of (id, len), avail_event. */
        if (!v->used || !dsa_vlog_va_to_gpa(v->mem, v->used, &gpa)) {
            return false;
        }
        dsa_vlog_mark(map, gpa, 4 + 8 * (uint64_t) v->size + 2);
        return true;
    }
    if (!v->desc || !dsa_vlog_va_to_gpa(v->mem, v->desc, &gpa)) {
        return false;
    }
    dsa_vlog_mark(map, gpa, sizeof(struct dsa_vdesc_packed) * v->size);
    if (v->used) {
        if (!dsa_vlog_va_to_gpa(v->mem, v->used, &gpa)) {
            return false;
        }
        dsa_vlog_mark(map, gpa, 4);
    }
    return true;
}

/* Marks the ring pages of 'v' in 'map', or all guest memory if they cannot
 * be located. */
void
dsa_vlog_mark_rings(const struct dsa_vring_view *v,
                    const struct dsa_vlog_map *map)
{
    if (!dsa_vlog_mark_ring_pages(v, map)) {
        dsa_vlog_mark_all(map, v->mem);
    }
}

/* After a host-to-guest call that moved DPDK's position in ring 'v' from
 * 's->last_avail' to 'last_avail', marks in 'map' the buffers of 's' it
 * took, and the ring pages.  If it took buffers 's' did not read, marks all
 * of guest memory instead.  Returns false in that case. */
bool
dsa_vlog_snap_commit(const struct dsa_vring_view *v,
                     const struct dsa_vlog_snap *s, uint16_t last_avail,
                     const struct dsa_vlog_map *map)
{
    uint32_t n_bufs = 0;
    bool exact = true;

    if (!v->packed) {
        n_bufs = (uint16_t) (last_avail - s->last_avail);
        exact = n_bufs <= s->n_bufs;
    } else if (last_avail != s->last_avail) {
        uint32_t p0 = s->last_avail & 0x7fff, p1 = last_avail & 0x7fff;
        uint32_t descs = ((s->last_avail ^ last_avail) >> 15
                          ? p1 + v->size - p0 : p1 - p0);
        uint32_t sum = 0;

        while (n_bufs < s->n_bufs && sum < descs) {
            sum += s->buf_descs[n_bufs++];
        }
        exact = sum == descs;
    }
    if (!exact) {
        dsa_vlog_mark_all(map, v->mem);
        return false;
    }
    for (uint32_t r = 0; n_bufs && r < s->buf_end[n_bufs - 1]; r++) {
        dsa_vlog_mark(map, s->gpa[r], s->len[r]);
    }
    dsa_vlog_mark_rings(v, map);
    return true;
}

/* The log of one vhost-user connection. */
struct dsa_vlog {
    int vid;
    atomic_bool active;         /* The guest asks for logging. */
    struct ovs_mutex mutex;
    void *mmap_addr OVS_GUARDED;        /* QEMU's log, as mapped. */
    size_t mmap_len OVS_GUARDED;
    struct dsa_vlog_map map OVS_GUARDED;        /* Within 'mmap_addr'. */
    struct rte_vhost_memory *mem OVS_GUARDED;   /* Guest memory, or NULL:
                                                 * read when needed. */
    bool remapping OVS_GUARDED; /* DPDK is replacing the guest memory
                                 * mappings: guest memory must not be
                                 * read. */
};

/* Creates the (inactive) log of connection 'vid'. */
struct dsa_vlog *
dsa_vlog_create(int vid)
{
    struct dsa_vlog *vl = xzalloc(sizeof *vl);

    vl->vid = vid;
    atomic_init(&vl->active, false);
    ovs_mutex_init(&vl->mutex);
    return vl;
}

/* Unmaps the log of 'vl''s connection, if mapped. */
static void
dsa_vlog_unmap(struct dsa_vlog *vl)
    OVS_REQUIRES(vl->mutex)
{
    if (vl->mmap_addr) {
        munmap(vl->mmap_addr, vl->mmap_len);
    }
    vl->mmap_addr = NULL;
    vl->mmap_len = 0;
    vl->map = (struct dsa_vlog_map) { NULL, 0 };
}

/* Frees 'vl'; no thread may use it any more. */
void
dsa_vlog_destroy(struct dsa_vlog *vl)
{
    if (vl) {
        ovs_mutex_lock(&vl->mutex);
        dsa_vlog_unmap(vl);
        free(vl->mem);
        ovs_mutex_unlock(&vl->mutex);
        ovs_mutex_destroy(&vl->mutex);
        free(vl);
    }
}

/* VHOST_USER_SET_LOG_BASE: maps QEMU's log from 'fd' (which the caller
 * keeps), 'size' bytes at 'offset', in place of the previous one.  Returns
 * 0 or a positive errno. */
int
dsa_vlog_set_base(struct dsa_vlog *vl, int fd, uint64_t size,
                  uint64_t offset)
    OVS_EXCLUDED(vl->mutex)
{
    void *addr;

    if (!size || offset + size < offset || offset + size > SIZE_MAX) {
        return EINVAL;
    }
    addr = mmap(NULL, offset + size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                0);
    if (addr == MAP_FAILED) {
        return errno;
    }
    ovs_mutex_lock(&vl->mutex);
    dsa_vlog_unmap(vl);
    vl->mmap_addr = addr;
    vl->mmap_len = offset + size;
    vl->map = (struct dsa_vlog_map) { (uint8_t *) addr + offset, size };
    ovs_mutex_unlock(&vl->mutex);
    return 0;
}

/* Sets whether the guest asks for logging (VHOST_F_LOG_ALL). */
void
dsa_vlog_set_active(struct dsa_vlog *vl, bool active)
{
    atomic_store_explicit(&vl->active, active, memory_order_release);
}

/* Returns true while writes to 'vl''s guest must be logged. */
bool
dsa_vlog_active(const struct dsa_vlog *vl)
{
    bool active;

    atomic_read_explicit(&CONST_CAST(struct dsa_vlog *, vl)->active,
                         &active, memory_order_acquire);
    return active;
}

/* VHOST_USER_SET_MEM_TABLE, before DPDK replaces the guest memory
 * mappings: from now on until dsa_vlog_mem_end(), guest memory is not
 * read. */
void
dsa_vlog_mem_begin(struct dsa_vlog *vl)
    OVS_EXCLUDED(vl->mutex)
{
    ovs_mutex_lock(&vl->mutex);
    vl->remapping = true;
    ovs_mutex_unlock(&vl->mutex);
}

/* After DPDK replaced the guest memory mappings. */
void
dsa_vlog_mem_end(struct dsa_vlog *vl)
    OVS_EXCLUDED(vl->mutex)
{
    ovs_mutex_lock(&vl->mutex);
    free(vl->mem);
    vl->mem = NULL;
    vl->remapping = false;
    ovs_mutex_unlock(&vl->mutex);
}

/* Returns 'vl''s guest memory table, reading it if needed (NULL if it
 * cannot). */
static const struct rte_vhost_memory *
dsa_vlog_mem(struct dsa_vlog *vl)
    OVS_REQUIRES(vl->mutex)
{
    if (!vl->mem && !vl->remapping
        && rte_vhost_get_mem_table(vl->vid, &vl->mem)) {
        vl->mem = NULL;
    }
    return vl->mem;
}

/* Marks all of 'vl''s guest memory dirty. */
void
dsa_vlog_log_all(struct dsa_vlog *vl)
    OVS_EXCLUDED(vl->mutex)
{
    ovs_mutex_lock(&vl->mutex);
    dsa_vlog_mark_all(&vl->map, dsa_vlog_mem(vl));
    ovs_mutex_unlock(&vl->mutex);
}

/* Fills in 'v' for queue 'qid' of 'vl''s device.  Returns false if guest
 * memory must not be read now. */
static bool
dsa_vlog_view(struct dsa_vlog *vl, uint16_t qid, bool packed,
              struct dsa_vring_view *v)
    OVS_REQUIRES(vl->mutex)
{
    struct rte_vhost_vring vr;

    if (vl->remapping || rte_vhost_get_vhost_vring(vl->vid, qid, &vr)) {
        return false;
    }
    *v = (struct dsa_vring_view) {
        .packed = packed,
        .size = vr.size,
        .desc = vr.desc,
        .avail = vr.avail,
        .used = vr.used,
        .mem = dsa_vlog_mem(vl),
    };
    return v->mem != NULL;
}

/* Before a host-to-guest call on queue 'qid' while logging: reads what the
 * call may write into 's'.  Returns false if the call must not be made now
 * (DPDK is replacing the guest memory mappings, or the queue's position is
 * not known). */
bool
dsa_vlog_enqueue_begin(struct dsa_vlog *vl, uint16_t qid, bool packed,
                       struct dsa_vlog_snap *s)
    OVS_EXCLUDED(vl->mutex)
{
    struct dsa_vring_view v;
    uint16_t last_avail, last_used;
    bool ok;

    ovs_mutex_lock(&vl->mutex);
    ok = (dsa_vlog_view(vl, qid, packed, &v)
          && !rte_vhost_get_vring_base(vl->vid, qid, &last_avail,
                                       &last_used));
    if (ok) {
        dsa_vlog_snap_take(&v, last_avail, s);
    }
    ovs_mutex_unlock(&vl->mutex);
    if (!ok) {
        COVERAGE_INC(dsa_vlog_remap_drop);
    }
    return ok;
}

/* After the host-to-guest call of dsa_vlog_enqueue_begin(): logs what it
 * wrote. */
void
dsa_vlog_enqueue_end(struct dsa_vlog *vl, uint16_t qid, bool packed,
                     const struct dsa_vlog_snap *s)
    OVS_EXCLUDED(vl->mutex)
{
    struct dsa_vring_view v;
    uint16_t last_avail, last_used;

    ovs_mutex_lock(&vl->mutex);
    if (!dsa_vlog_view(vl, qid, packed, &v)
        || rte_vhost_get_vring_base(vl->vid, qid, &last_avail, &last_used)) {
        dsa_vlog_mark_all(&vl->map, vl->mem);
    } else {
        dsa_vlog_snap_commit(&v, s, last_avail, &vl->map);
    }
    ovs_mutex_unlock(&vl->mutex);
}

/* After a guest-to-host call on queue 'qid' while logging: the device wrote
 * only the ring. */
void
dsa_vlog_rings(struct dsa_vlog *vl, uint16_t qid, bool packed)
    OVS_EXCLUDED(vl->mutex)
{
    struct dsa_vring_view v;

    ovs_mutex_lock(&vl->mutex);
    if (dsa_vlog_view(vl, qid, packed, &v)) {
        dsa_vlog_mark_rings(&v, &vl->map);
    } else {
        dsa_vlog_mark_all(&vl->map, vl->mem);
    }
    ovs_mutex_unlock(&vl->mutex);
}
