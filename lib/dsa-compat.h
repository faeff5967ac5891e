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

/* What differs between the DPDK releases that ovs-dsa builds against, behind
 * small named helpers: the rest of the code has no RTE_VERSION test.
 * Known releases: 22.11 (Debian 12), 24.11 (Debian 13), 25.11 (upstream
 * Open vSwitch 3.7).  docs/design.md, "Per-version facts", says what was
 * checked for each release and where. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_dmadev.h>
#include <rte_pause.h>
#include <rte_version.h>

#include "ovs-atomic.h"
#include "util.h"

/* ==== The dmadev fast-path entry (struct rte_dma_fp_object) ====
 *
 * The copy-policy layer (dsa-engine.c) installs entries of its own in
 * rte_dma_fp_objs[], DPDK's internal table that the inline rte_dma_*()
 * functions call through.  The layout of that entry is internal ABI: it is
 * checked here, member by member, for each release this code knows, and the
 * build fails on any other, rather than running with an entry that lacks
 * (or misplaces) a member.
 *
 * DSA_DMA_FP_LAYER_FUNCS(M) calls M(member) for each function member that
 * the layer implements itself (over the device's); DSA_DMA_FP_FWD_FUNCS(M)
 * for each one it leaves to the device (the entry keeps the device's
 * function and its 'dev_private').  Together they are every function
 * member of the entry. */
#define DSA_DMA_FP_LAYER_FUNCS(M) \
    M(copy) M(copy_sg) M(fill) M(submit) M(completed) M(completed_status) \
    M(burst_capacity)

/* Asserts that member 'MEMBER' of struct rte_dma_fp_object is at 'OFFSET'. */
#define DSA_DMA_FP_AT(MEMBER, OFFSET) \
    BUILD_ASSERT_DECL(offsetof(struct rte_dma_fp_object, MEMBER) == (OFFSET))

/* The members common to every known release: the private data, then one
 * pointer per function, in this order. */
#define DSA_DMA_FP_COMMON_LAYOUT \
    DSA_DMA_FP_AT(dev_private, 0); \
    DSA_DMA_FP_AT(copy, 1 * sizeof(void *)); \
    DSA_DMA_FP_AT(copy_sg, 2 * sizeof(void *)); \
    DSA_DMA_FP_AT(fill, 3 * sizeof(void *)); \
    DSA_DMA_FP_AT(submit, 4 * sizeof(void *)); \
    DSA_DMA_FP_AT(completed, 5 * sizeof(void *)); \
    DSA_DMA_FP_AT(completed_status, 6 * sizeof(void *)); \
    DSA_DMA_FP_AT(burst_capacity, 7 * sizeof(void *))

#if RTE_VER_YEAR == 22 && RTE_VER_MONTH == 11
/* ---- DPDK 22.11 (ABI 23): 8 pointers in 128 bytes (__rte_aligned(128)),
 * the rest reserved. ---- */
DSA_DMA_FP_COMMON_LAYOUT;
BUILD_ASSERT_DECL(sizeof(struct rte_dma_fp_object) == 128);
#define DSA_DMA_FP_FWD_FUNCS(M)
#define DSA_DMA_FP_ABI "22.11"
#define DSA_VHU_MSG_FDS_OFFSET 644

#elif RTE_VER_YEAR == 24 && RTE_VER_MONTH == 11
/* ---- DPDK 24.11 (ABI 25): the same 8 pointers, now __rte_cache_aligned
 * (one 64-byte cache line on x86). ---- */
DSA_DMA_FP_COMMON_LAYOUT;
BUILD_ASSERT_DECL(sizeof(struct rte_dma_fp_object)
                  == ROUND_UP(8 * sizeof(void *), RTE_CACHE_LINE_SIZE));
#define DSA_DMA_FP_FWD_FUNCS(M)
#define DSA_DMA_FP_ABI "24.11"
#define DSA_VHU_MSG_FDS_OFFSET 644

#elif RTE_VER_YEAR == 25 && RTE_VER_MONTH == 11
/* ---- DPDK 25.11 (ABI 26): two more members, 'enqueue' and 'dequeue', the
 * rte_dma_op API (rte_dma_enqueue_ops(), for devices configured with
 * RTE_DMA_CFG_FLAG_ENQ_DEQ).  vhost does not use it; the layer leaves it
 * to the device. ---- */
DSA_DMA_FP_COMMON_LAYOUT;
DSA_DMA_FP_AT(enqueue, 8 * sizeof(void *));
DSA_DMA_FP_AT(dequeue, 9 * sizeof(void *));
BUILD_ASSERT_DECL(sizeof(struct rte_dma_fp_object)
                  == ROUND_UP(10 * sizeof(void *), RTE_CACHE_LINE_SIZE));
#define DSA_DMA_FP_FWD_FUNCS(M) M(enqueue) M(dequeue)
#define DSA_DMA_FP_ABI "25.11"
#define DSA_VHU_MSG_FDS_OFFSET 1084

#else
/* Another release: check its struct rte_dma_fp_object, in
 * lib/dmadev/rte_dmadev_core.h, and describe its layout above. */
#error "unknown DPDK release: its dmadev fast-path layout is not checked"
#endif

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
 * (24.11 and 25.11 included) the lock is a read/write lock and those
 * calls take it shared: only vhost-user messages exclude them, not each
 * other.  Threads that may complete the same virtqueue at once (two PMD
 * threads sending to it, a thread draining while another polls, a
 * synchronous enqueue on a queue with an async channel) must then be kept
 * apart by the caller: a 'struct dsa_vq_excl' per virtqueue, taken around
 * those calls.  With 22.11 it costs nothing and always succeeds, since
 * DPDK does it. */
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

/* A vhost-user message as DPDK hands it to the handlers of
 * rte_vhost_extern_callback_register(): DPDK's internal 'struct
 * vhu_msg_context' (lib/vhost/vhost_user.h), a packed VhostUserMsg (the
 * wire format: request, flags, size, payload) followed by the file
 * descriptors that came with it, int fds[8] and int fd_num.  The payload
 * union's size, and so where 'fds' starts, differs between DPDK releases:
 * DSA_VHU_MSG_FDS_OFFSET above, measured with sizeof on each release's
 * header.  Only the members ovs-dsa reads are declared. */
struct dsa_vhu_msg {
    uint32_t request;           /* VHOST_USER_* request number. */
    uint32_t flags;
    uint32_t size;              /* Bytes of payload. */
    union {
        uint64_t u64;
        struct {
            uint32_t index;
            uint32_t num;
        } state;                /* Virtqueue index and value. */
        struct {
            uint64_t mmap_size;
            uint64_t mmap_offset;
        } log;                  /* VHOST_USER_SET_LOG_BASE. */
    } payload;
} __attribute__((packed));

/* vhost-user requests ovs-dsa handles (the vhost-user specification). */
#define DSA_VHU_GET_FEATURES 1
#define DSA_VHU_SET_FEATURES 2
#define DSA_VHU_SET_MEM_TABLE 5
#define DSA_VHU_SET_LOG_BASE 6
#define DSA_VHU_SET_VRING_ENABLE 18

/* Returns the file descriptors that came with message 'msg', and their
 * number in '*n'. */
static inline const int *
dsa_vhu_msg_fds(const void *msg, int *n)
{
    const int *fds = (const int *) ((const char *) msg
                                    + DSA_VHU_MSG_FDS_OFFSET);

    *n = fds[8];
    return fds;
}

#endif /* dsa-compat.h */
