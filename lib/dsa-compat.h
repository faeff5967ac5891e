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

#ifndef DSA_COMPAT_H
#define DSA_COMPAT_H 1

/* What differs between the DPDK releases the extension is built against
 * (22.11: Debian 12; 24.11: Debian 13), behind small named helpers, so
 * that no other file tests RTE_VERSION.  docs/design.md, "Per-version
 * facts", says what was checked for each release and where. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_dmadev.h>
#include <rte_pause.h>
#include <rte_version.h>

#include "ovs-atomic.h"
#include "util.h"

#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0)
#error "ovs-dsa needs DPDK 22.11 or later"
#elif RTE_VERSION >= RTE_VERSION_NUM(24, 12, 0, 0)
/* Check the dmadev fast-path object and the vhost locking of a newer
 * release (docs/design.md, "Per-version facts") before adding it. */
#error "ovs-dsa is checked against DPDK 22.11 and 24.11 only"
#endif

/* dmadev's fast-path table.
 *
 * The engine layer (dsa-engine.c) takes over a device by replacing its
 * entry of rte_dma_fp_objs[] (rte_dmadev_core.h), and gives it back by
 * restoring the saved copy.  22.11 and 24.11 declare the same members in
 * the same order; only the alignment changed (__rte_aligned(128) in 22.11,
 * __rte_cache_aligned in 24.11), which whole-struct copies of the headers
 * built against keep right.  The assertions below fail the build if a
 * release reorders the members. */
#define DSA_COMPAT_FP_SLOT(MEMBER, N) \
    BUILD_ASSERT_DECL(offsetof(struct rte_dma_fp_object, MEMBER) \
                      == (N) * sizeof(void *))
DSA_COMPAT_FP_SLOT(dev_private, 0);
DSA_COMPAT_FP_SLOT(copy, 1);
DSA_COMPAT_FP_SLOT(copy_sg, 2);
DSA_COMPAT_FP_SLOT(fill, 3);
DSA_COMPAT_FP_SLOT(submit, 4);
DSA_COMPAT_FP_SLOT(completed, 5);
DSA_COMPAT_FP_SLOT(completed_status, 6);
DSA_COMPAT_FP_SLOT(burst_capacity, 7);
#undef DSA_COMPAT_FP_SLOT

/* Returns dmadev 'dev_id''s entry of DPDK's fast-path table: the one place
 * the extension reaches it. */
static inline struct rte_dma_fp_object *
dsa_compat_dma_fp_entry(int16_t dev_id)
{
    return &rte_dma_fp_objs[dev_id];
}

/* Exclusion between the vhost data-path calls of one virtqueue.
 *
 * DPDK 22.11 guards each virtqueue with a spinlock that every async
 * data-path call takes (rte_vhost_poll_enqueue_completed(),
 * rte_vhost_clear_queue() and rte_vhost_async_try_dequeue_burst() with a
 * trylock, returning 0 when another thread holds it).  From 23.07 on
 * (24.11 included) the lock is a read/write lock and those calls take it
 * shared: only vhost-user messages exclude them, not each other.  Threads
 * that may complete the same virtqueue at once (two PMD threads sending to
 * it, a thread draining while another polls, a synchronous enqueue on a
 * queue with an async channel) must then be kept apart by the caller: a
 * 'struct dsa_vq_excl' per virtqueue, taken around those calls.  With
 * 22.11 it costs nothing and always succeeds, since DPDK does it. */
#define DSA_COMPAT_VHOST_SHARED_VQ_LOCK \
    (RTE_VERSION >= RTE_VERSION_NUM(23, 7, 0, 0))

struct dsa_vq_excl {
    atomic_bool busy;
};

/* Initializes 'x' unlocked. */
static inline void
dsa_vq_excl_init(struct dsa_vq_excl *x)
{
    atomic_init(&x->busy, false);
}

/* Returns true if the calling thread now has 'x' (the caller then calls
 * dsa_vq_excl_release()), false if another thread has it: as DPDK 22.11's
 * trylock, the caller does nothing with the virtqueue this time. */
static inline bool
dsa_vq_excl_try(struct dsa_vq_excl *x)
{
    if (!DSA_COMPAT_VHOST_SHARED_VQ_LOCK) {
        return true;
    }

    bool expected = false;

    return atomic_compare_exchange_strong_explicit(&x->busy, &expected, true,
                                                   memory_order_acquire,
                                                   memory_order_relaxed);
}

/* Waits until the calling thread has 'x'. */
static inline void
dsa_vq_excl_acquire(struct dsa_vq_excl *x)
{
    while (!dsa_vq_excl_try(x)) {
        rte_pause();
    }
}

/* Gives 'x' back. */
static inline void
dsa_vq_excl_release(struct dsa_vq_excl *x)
{
    if (DSA_COMPAT_VHOST_SHARED_VQ_LOCK) {
        atomic_store_explicit(&x->busy, false, memory_order_release);
    }
}

#endif /* dsa-compat.h */
