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

#ifndef DSA_CHANNEL_H
#define DSA_CHANNEL_H 1

#include <stdbool.h>
#include <stdint.h>

#include "dsa-config.h"
#include "openvswitch/hmap.h"
#include "ovs-thread.h"

struct ds;
struct json;

/* At most this many DMA channels are managed (DPDK's default dmadev limit,
 * RTE_DMADEV_DEFAULT_MAX). */
#define DSA_MAX_CHANNELS 64

/* 'owner' value of a channel that no PMD thread uses. */
#define DSA_NO_OWNER (-1)

/* State of one DMA channel. */
enum dsa_channel_state {
    DSA_CH_STOPPED,     /* Probed by DPDK, not configured by us. */
    DSA_CH_RUNNING,     /* Configured and started: usable. */
    DSA_CH_FAILED,      /* Configuration or start failed: see 'error'. */
};

/* One DMA channel: one virtual channel (vchan 0) of one DPDK dmadev.
 *
 * Channels live in a fixed array of their pool and are never freed while
 * the pool exists, so a PMD thread may keep a pointer to one; 'epoch' tells
 * it whether the slot still holds the channel it claimed. */
struct dsa_channel {
    int16_t dev_id;             /* DPDK dmadev id; -1 if fabricated. */
    uint16_t vchan;             /* Virtual channel within the dmadev. */
    char name[64];              /* dmadev name. */
    const char *driver;         /* Driver, derived from the name. */
    char pci_addr[DSA_PCI_ADDR_LEN]; /* PCI function, or "" if none. */
    bool hw;                    /* Hardware engine (not software). */
    int numa_id;                /* NUMA node; -1 if unknown. */
    unsigned int ring_size;     /* Descriptors, while running. */
    enum dsa_channel_state state;
    char error[128];            /* Why it failed, if DSA_CH_FAILED. */
    uint64_t epoch;             /* Pool epoch this slot was filled in. */

    /* Protected by the pool's mutex (not annotated: the array member
     * 'chans' of the pool is). */
    int owner;                  /* Core id of the PMD using it, or
                                 * DSA_NO_OWNER. */
    bool owner_parked;          /* Owner sleeps until its next reload and
                                 * does not touch the channel until then. */
};

/* A PMD thread known to the pool. */
struct dsa_pmd {
    struct hmap_node node;      /* In dsa_pool's 'pmds', by core id. */
    unsigned int core_id;
    int numa_id;
    struct dsa_channel *chan;   /* Claimed channel or NULL. */
    bool parked;                /* Has no rx queue: sleeps until reload. */
    bool cross_numa;            /* 'chan' is on another NUMA node. */
};

/* The set of DMA channels and of the PMD threads that use them, with its
 * own mutex: the main thread changes the set, PMD threads claim and release
 * channels (lib/dsa.c takes it inside its own 'dsa_mutex').  A PMD thread
 * may use a channel it claimed without the mutex: its fields other than
 * 'owner' and 'owner_parked' do not change while it is claimed. */
struct dsa_pool {
    struct ovs_mutex mutex;
    struct dsa_channel chans[DSA_MAX_CHANNELS] OVS_GUARDED;
    size_t n_chans OVS_GUARDED;
    uint64_t epoch OVS_GUARDED; /* Bumped when 'chans' is refilled. */
    struct hmap pmds OVS_GUARDED; /* Contains "struct dsa_pmd"s. */
};

void dsa_pool_init(struct dsa_pool *);
void dsa_pool_destroy(struct dsa_pool *);

/* Everything else requires the pool's mutex. */

/* Channel discovery and configuration (main thread, no owner). */
void dsa_pool_add(struct dsa_pool *pool, int16_t dev_id, const char *name,
                  int numa_id)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_discover(struct dsa_pool *pool, const struct dsa_config *,
                       struct svec *problems)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_start(struct dsa_pool *pool, unsigned int ring_size)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_stop(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex);
bool dsa_pool_busy(const struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_release_parked(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_assign_parked(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex);

/* PMD threads. */
struct dsa_pmd *dsa_pool_pmd_find(const struct dsa_pool *pool,
                                  unsigned core)
    OVS_REQUIRES(pool->mutex);
struct dsa_pmd *dsa_pool_pmd_register(struct dsa_pool *pool,
                                      unsigned core_id, int numa_id,
                                      bool parked)
    OVS_REQUIRES(pool->mutex);
struct dsa_channel *dsa_pool_claim(struct dsa_pool *pool, unsigned core_id,
                                   int numa_id, bool parked)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_release(struct dsa_pool *pool, unsigned core_id, bool forget)
    OVS_REQUIRES(pool->mutex);
int dsa_pool_pick(const struct dsa_pool *pool, int numa_id)
    OVS_REQUIRES(pool->mutex);

void dsa_channel_classify(struct dsa_channel *);
void dsa_pool_format(const struct dsa_pool *pool, struct ds *)
    OVS_REQUIRES(pool->mutex);
void dsa_pool_put_json(const struct dsa_pool *pool, struct json *,
                       struct json **chan_objs)
    OVS_REQUIRES(pool->mutex);

#endif /* dsa-channel.h */
