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

#include "dsa-channel.h"

#include <stdio.h>
#include <string.h>

#include <rte_dmadev.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa_channel);

void
dsa_pool_init(struct dsa_pool *pool)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    ovs_mutex_init(&pool->mutex);
    memset(pool->chans, 0, sizeof pool->chans);
    pool->n_chans = 0;
    pool->epoch = 1;
    hmap_init(&pool->pmds);
}

void
dsa_pool_destroy(struct dsa_pool *pool)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    struct dsa_pmd *pmd;

    HMAP_FOR_EACH_POP (pmd, node, &pool->pmds) {
        free(pmd);
    }
    hmap_destroy(&pool->pmds);
    ovs_mutex_destroy(&pool->mutex);
}

/* Fills in the driver, PCI address and hardware flag of 'ch' from its
 * dmadev name, which DPDK's drivers form in a fixed way:
 *   - idxd under vfio-pci: "<PCI address>-q<N>" (one per work queue);
 *   - idxd work queues of the kernel driver: "wq<D>.<Q>";
 *   - ioat: "<PCI address>";
 *   - the software skeleton: "dma_skeleton<...>". */
void
dsa_channel_classify(struct dsa_channel *ch)
{
    char pci[DSA_PCI_ADDR_LEN];
    const char *dash = strrchr(ch->name, '-');
    unsigned int a, b;
    int n = 0;

    ch->pci_addr[0] = '\0';
    ch->hw = true;
    if (!strncmp(ch->name, "dma_skeleton", 12)) {
        ch->driver = "dma_skeleton";
        ch->hw = false;
    } else if (dash && dash[1] == 'q' && dash[2]
               && strspn(dash + 2, "0123456789") == strlen(dash + 2)
               && (size_t) (dash - ch->name) < sizeof pci) {
        memcpy(pci, ch->name, dash - ch->name);
        pci[dash - ch->name] = '\0';
        if (dsa_pci_addr_parse(pci, ch->pci_addr)) {
            ch->driver = "dmadev_idxd_pci";
        } else {
            ch->driver = "unknown";
            ch->hw = false;
        }
    } else if (sscanf(ch->name, "wq%u.%u%n", &a, &b, &n) == 2
               && !ch->name[n]) {
        ch->driver = "dmadev_idxd";
    } else if (dsa_pci_addr_parse(ch->name, ch->pci_addr)) {
        ch->driver = "dmadev_ioat";
    } else {
        ch->driver = "unknown";
        ch->hw = false;
    }
}

/* Adds a channel for vchan 0 of dmadev 'dev_id' ('name', on 'numa_id') to
 * 'pool'.  'dev_id' -1 adds a fabricated channel (for unit tests) that
 * dsa_pool_start() marks running without touching DPDK. */
void
dsa_pool_add(struct dsa_pool *pool, int16_t dev_id, const char *name,
             int numa_id)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_channel *ch;

    if (pool->n_chans >= DSA_MAX_CHANNELS) {
        VLOG_WARN("more than %d DMA channels: ignoring %s",
                  DSA_MAX_CHANNELS, name);
        return;
    }
    ch = &pool->chans[pool->n_chans++];
    memset(ch, 0, sizeof *ch);
    ch->dev_id = dev_id;
    ch->vchan = 0;
    ovs_strlcpy(ch->name, name, sizeof ch->name);
    dsa_channel_classify(ch);
    ch->numa_id = numa_id;
    ch->state = DSA_CH_STOPPED;
    ch->epoch = pool->epoch;
    ch->owner = DSA_NO_OWNER;
}

/* Returns true if 'entry' of dsa-devices selects channel 'ch'. */
static bool
dsa_device_matches(const char *entry, const struct dsa_channel *ch)
{
    return !strcmp(entry, ch->name) || !strcmp(entry, ch->pci_addr);
}

/* Refills 'pool' with every dmadev DPDK knows that 'cfg' selects, in dmadev
 * id order.  Entries of cfg->devices that select nothing are added to
 * 'problems'.  No channel may be owned. */
void
dsa_pool_discover(struct dsa_pool *pool, const struct dsa_config *cfg,
                  struct svec *problems)
    OVS_REQUIRES(pool->mutex)
{
    bool *used = xcalloc(cfg->devices.n + 1, sizeof *used);
    int16_t dev_id;

    ovs_assert(!dsa_pool_busy(pool));
    pool->epoch++;
    pool->n_chans = 0;

    RTE_DMA_FOREACH_DEV (dev_id) {
        struct rte_dma_info info;
        struct dsa_channel probe;
        bool wanted = !cfg->devices.n;

        memset(&info, 0, sizeof info);
        if (rte_dma_info_get(dev_id, &info)) {
            continue;
        }
        memset(&probe, 0, sizeof probe);
        ovs_strlcpy(probe.name, info.dev_name, sizeof probe.name);
        dsa_channel_classify(&probe);
        for (size_t i = 0; i < cfg->devices.n; i++) {
            if (dsa_device_matches(cfg->devices.names[i], &probe)) {
                used[i] = wanted = true;
            }
        }
        if (wanted) {
            dsa_pool_add(pool, dev_id, info.dev_name, info.numa_node);
        }
    }
    for (size_t i = 0; i < cfg->devices.n; i++) {
        if (!used[i]) {
            svec_add_nocopy(problems, xasprintf(
                                "dsa-devices: \"%s\" matches no DMA device "
                                "DPDK has probed", cfg->devices.names[i]));
        }
    }
    free(used);
}

/* Marks 'ch' failed because 'what' returned 'error' (a negative DPDK
 * errno). */
static void
dsa_channel_fail(struct dsa_channel *ch, const char *what, int error)
{
    snprintf(ch->error, sizeof ch->error, "%s: %s", what,
             ovs_strerror(-error));
    ch->state = DSA_CH_FAILED;
    VLOG_WARN("DMA channel %s: %s", ch->name, ch->error);
}

/* Configures one vchan of 'ch' with 'ring_size' descriptors and starts
 * it. */
static void
dsa_channel_start(struct dsa_channel *ch, unsigned int ring_size)
{
    struct rte_dma_vchan_conf vconf;
    struct rte_dma_conf conf;
    struct rte_dma_info info;
    int err;

    ch->error[0] = '\0';
    ch->ring_size = ring_size;
    if (ch->dev_id < 0) {
        ch->state = DSA_CH_RUNNING;
        return;
    }

    err = rte_dma_info_get(ch->dev_id, &info);
    if (err) {
        dsa_channel_fail(ch, "rte_dma_info_get", err);
        return;
    }
    if (!(info.dev_capa & RTE_DMA_CAPA_MEM_TO_MEM)
        || !(info.dev_capa & RTE_DMA_CAPA_OPS_COPY)) {
        ovs_strlcpy(ch->error, "device cannot copy memory to memory",
                    sizeof ch->error);
        ch->state = DSA_CH_FAILED;
        return;
    }
    if (ring_size < info.min_desc || ring_size > info.max_desc) {
        unsigned int clamped = MIN(MAX(ring_size, info.min_desc),
                                   info.max_desc);

        VLOG_WARN("DMA channel %s: ring size %u outside the device's range "
                  "[%u, %u], using %u", ch->name, ring_size, info.min_desc,
                  info.max_desc, clamped);
        ch->ring_size = clamped;
    }

    memset(&conf, 0, sizeof conf);
    conf.nb_vchans = 1;
    err = rte_dma_configure(ch->dev_id, &conf);
    if (err) {
        dsa_channel_fail(ch, "rte_dma_configure", err);
        return;
    }

    memset(&vconf, 0, sizeof vconf);
    vconf.direction = RTE_DMA_DIR_MEM_TO_MEM;
    vconf.nb_desc = ch->ring_size;
    err = rte_dma_vchan_setup(ch->dev_id, ch->vchan, &vconf);
    if (err) {
        dsa_channel_fail(ch, "rte_dma_vchan_setup", err);
        return;
    }

    err = rte_dma_start(ch->dev_id);
    if (err) {
        dsa_channel_fail(ch, "rte_dma_start", err);
        return;
    }
    ch->state = DSA_CH_RUNNING;
    VLOG_INFO("DMA channel %s (dmadev %d, %s, NUMA %d) started with %u "
              "descriptors", ch->name, ch->dev_id, ch->driver, ch->numa_id,
              ch->ring_size);
}

/* Configures and starts every channel of 'pool' that is not running. */
void
dsa_pool_start(struct dsa_pool *pool, unsigned int ring_size)
    OVS_REQUIRES(pool->mutex)
{
    for (size_t i = 0; i < pool->n_chans; i++) {
        if (pool->chans[i].state != DSA_CH_RUNNING) {
            dsa_channel_start(&pool->chans[i], ring_size);
        }
    }
}

/* Stops every running channel of 'pool'.  No channel may be owned. */
void
dsa_pool_stop(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex)
{
    ovs_assert(!dsa_pool_busy(pool));
    for (size_t i = 0; i < pool->n_chans; i++) {
        struct dsa_channel *ch = &pool->chans[i];

        if (ch->state == DSA_CH_RUNNING && ch->dev_id >= 0) {
            int err = rte_dma_stop(ch->dev_id);

            if (err) {
                VLOG_WARN("DMA channel %s: rte_dma_stop: %s", ch->name,
                          ovs_strerror(-err));
            } else {
                VLOG_INFO("DMA channel %s stopped", ch->name);
            }
        }
        ch->state = DSA_CH_STOPPED;
    }
}

/* Returns true if a PMD thread that is awake owns a channel of 'pool'. */
bool
dsa_pool_busy(const struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex)
{
    for (size_t i = 0; i < pool->n_chans; i++) {
        const struct dsa_channel *ch = &pool->chans[i];

        if (ch->owner != DSA_NO_OWNER && !ch->owner_parked) {
            return true;
        }
    }
    return false;
}

/* Takes their channels away from PMD threads that sleep until their next
 * reload: they check their claim before they touch a channel again. */
void
dsa_pool_release_parked(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex)
{
    for (size_t i = 0; i < pool->n_chans; i++) {
        struct dsa_channel *ch = &pool->chans[i];

        if (ch->owner != DSA_NO_OWNER && ch->owner_parked) {
            struct dsa_pmd *pmd = dsa_pool_pmd_find(pool, ch->owner);

            if (pmd) {
                pmd->chan = NULL;
                pmd->cross_numa = false;
            }
            ch->owner = DSA_NO_OWNER;
            ch->owner_parked = false;
        }
    }
}

/* Hands free channels to PMD threads that sleep until their next reload
 * and have none, on their behalf: they do not touch a channel before they
 * wake up and find it theirs in dsa_pool_claim(). */
void
dsa_pool_assign_parked(struct dsa_pool *pool)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_pmd *pmd;

    HMAP_FOR_EACH (pmd, node, &pool->pmds) {
        if (pmd->parked && !pmd->chan) {
            dsa_pool_claim(pool, pmd->core_id, pmd->numa_id, true);
        }
    }
}

struct dsa_pmd *
dsa_pool_pmd_find(const struct dsa_pool *pool, unsigned int core_id)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_pmd *pmd;

    HMAP_FOR_EACH_WITH_HASH (pmd, node, hash_int(core_id, 0), &pool->pmds) {
        if (pmd->core_id == core_id) {
            return pmd;
        }
    }
    return NULL;
}

/* Returns the index of the free running channel of 'pool' that a PMD
 * thread on 'numa_id' should take: the first one on the same NUMA node,
 * else the first one on any node.  Returns -1 if none is free. */
int
dsa_pool_pick(const struct dsa_pool *pool, int numa_id)
    OVS_REQUIRES(pool->mutex)
{
    int remote = -1;

    for (size_t i = 0; i < pool->n_chans; i++) {
        const struct dsa_channel *ch = &pool->chans[i];

        if (ch->state != DSA_CH_RUNNING || ch->owner != DSA_NO_OWNER) {
            continue;
        }
        if (ch->numa_id == numa_id || ch->numa_id < 0) {
            return i;
        }
        if (remote < 0) {
            remote = i;
        }
    }
    return remote;
}

/* Makes the PMD thread on 'core_id' known to 'pool' (once), with its NUMA
 * node and whether it is 'parked', and returns it. */
struct dsa_pmd *
dsa_pool_pmd_register(struct dsa_pool *pool, unsigned int core_id,
                      int numa_id, bool parked)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_pmd *pmd = dsa_pool_pmd_find(pool, core_id);

    if (!pmd) {
        pmd = xzalloc(sizeof *pmd);
        pmd->core_id = core_id;
        hmap_insert(&pool->pmds, &pmd->node, hash_int(core_id, 0));
    }
    pmd->numa_id = numa_id;
    pmd->parked = parked;
    return pmd;
}

/* Returns true if 'pmd' still holds a running channel of this epoch. */
static bool
dsa_pmd_holds(const struct dsa_pool *pool, const struct dsa_pmd *pmd)
    OVS_REQUIRES(pool->mutex)
{
    const struct dsa_channel *ch = pmd->chan;

    return ch && ch->epoch == pool->epoch && ch->state == DSA_CH_RUNNING
           && ch->owner == (int) pmd->core_id;
}

/* Called by the PMD thread on 'core_id' itself: registers it (once) and
 * returns the channel it may use until its next call here or to
 * dsa_pool_release(), or NULL if it must copy on the CPU.  A channel it
 * already holds is kept, unless it is on another NUMA node and a local one
 * has become free.  'parked' says the thread has no rx queue and sleeps
 * until its next reload. */
struct dsa_channel *
dsa_pool_claim(struct dsa_pool *pool, unsigned int core_id, int numa_id,
               bool parked)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_pmd *pmd = dsa_pool_pmd_register(pool, core_id, numa_id,
                                                parked);
    int idx;

    if (dsa_pmd_holds(pool, pmd)) {
        if (pmd->cross_numa) {
            idx = dsa_pool_pick(pool, numa_id);
            if (idx >= 0 && pool->chans[idx].numa_id == numa_id) {
                dsa_pool_release(pool, core_id, false);
                goto take;
            }
        }
        pmd->chan->owner_parked = parked;
        return pmd->chan;
    }

    pmd->chan = NULL;
    pmd->cross_numa = false;
    idx = dsa_pool_pick(pool, numa_id);
    if (idx < 0) {
        return NULL;
    }

take:
    pmd->chan = &pool->chans[idx];
    pmd->chan->owner = core_id;
    pmd->chan->owner_parked = parked;
    pmd->cross_numa = (pmd->chan->numa_id >= 0
                       && pmd->chan->numa_id != numa_id);
    if (pmd->cross_numa) {
        VLOG_WARN("PMD thread on core %u (NUMA %d) uses DMA channel %s of "
                  "NUMA %d: no free channel on its own node", core_id,
                  numa_id, pmd->chan->name, pmd->chan->numa_id);
    } else {
        VLOG_INFO("PMD thread on core %u uses DMA channel %s", core_id,
                  pmd->chan->name);
    }
    return pmd->chan;
}

/* Called by the PMD thread on 'core_id' itself: gives its channel back.
 * With 'forget', the thread is going away and is forgotten too. */
void
dsa_pool_release(struct dsa_pool *pool, unsigned int core_id, bool forget)
    OVS_REQUIRES(pool->mutex)
{
    struct dsa_pmd *pmd = dsa_pool_pmd_find(pool, core_id);

    if (!pmd) {
        return;
    }
    if (pmd->chan && pmd->chan->owner == (int) core_id) {
        pmd->chan->owner = DSA_NO_OWNER;
        pmd->chan->owner_parked = false;
    }
    pmd->chan = NULL;
    pmd->cross_numa = false;
    if (forget) {
        hmap_remove(&pool->pmds, &pmd->node);
        free(pmd);
    }
}

static const char *
dsa_channel_state_name(enum dsa_channel_state state)
{
    switch (state) {
    case DSA_CH_STOPPED:
        return "stopped";
    case DSA_CH_RUNNING:
        return "running";
    case DSA_CH_FAILED:
        return "failed";
    }
    return "?";
}

/* Compares PMD threads by core id, for qsort(). */
static int
dsa_pmd_cmp(const void *a_, const void *b_)
{
    const struct dsa_pmd *const *a = a_;
    const struct dsa_pmd *const *b = b_;

    return (*a)->core_id < (*b)->core_id ? -1 : (*a)->core_id > (*b)->core_id;
}

/* Returns the PMD threads of 'pool' by core id, in an array that the
 * caller must free, and their number in '*n'. */
static const struct dsa_pmd **
dsa_pool_sorted_pmds(const struct dsa_pool *pool, size_t *n)
    OVS_REQUIRES(pool->mutex)
{
    const struct dsa_pmd **pmds;
    const struct dsa_pmd *pmd;

    pmds = xmalloc((hmap_count(&pool->pmds) + 1) * sizeof *pmds);
    *n = 0;
    HMAP_FOR_EACH (pmd, node, &pool->pmds) {
        pmds[(*n)++] = pmd;
    }
    qsort(pmds, *n, sizeof *pmds, dsa_pmd_cmp);
    return pmds;
}

/* Appends to 's' one line per channel of 'pool' and the PMD threads that
 * have none. */
void
dsa_pool_format(const struct dsa_pool *pool, struct ds *s)
    OVS_REQUIRES(pool->mutex)
{
    size_t n;
    const struct dsa_pmd **pmds = dsa_pool_sorted_pmds(pool, &n);
    bool any = false;

    ds_put_format(s, "channels: %"PRIuSIZE"\n", pool->n_chans);
    for (size_t i = 0; i < pool->n_chans; i++) {
        const struct dsa_channel *ch = &pool->chans[i];

        ds_put_format(s, "  %s: dmadev %d vchan %u, driver %s, pci %s, "
                      "numa %d, ring %u, %s", ch->name, ch->dev_id, ch->vchan,
                      ch->driver, ch->pci_addr[0] ? ch->pci_addr : "-",
                      ch->numa_id, ch->ring_size,
                      dsa_channel_state_name(ch->state));
        if (ch->state == DSA_CH_FAILED) {
            ds_put_format(s, " (%s)", ch->error);
        }
        if (ch->owner != DSA_NO_OWNER) {
            ds_put_format(s, ", pmd core %d%s", ch->owner,
                          ch->owner_parked ? " (idle)" : "");
        } else {
            ds_put_cstr(s, ", no pmd");
        }
        ds_put_char(s, '\n');
    }

    ds_put_cstr(s, "pmds without a channel of their own:");
    for (size_t i = 0; i < n; i++) {
        if (!pmds[i]->chan) {
            ds_put_format(s, " core %u (numa %d)", pmds[i]->core_id,
                          pmds[i]->numa_id);
            any = true;
        }
    }
    ds_put_cstr(s, any ? "\n" : " none\n");
    for (size_t i = 0; i < n; i++) {
        if (pmds[i]->chan && pmds[i]->cross_numa) {
            ds_put_format(s, "cross-numa: pmd core %u (numa %d) uses %s "
                          "(numa %d)\n", pmds[i]->core_id, pmds[i]->numa_id,
                          pmds[i]->chan->name, pmds[i]->chan->numa_id);
        }
    }
    free(pmds);
}

/* Puts into JSON object 'obj' the channels of 'pool' and its PMD threads,
 * the fields of dsa_pool_format():
 *
 *   {"channels": [{"name", "dmadev", "vchan", "driver", "pci" (or null),
 *                  "numa", "ring", "state", "error" (failed only),
 *                  "pmd-core" (or null), "pmd-idle"}, ...],
 *    "pmds-without-channel": [{"core", "numa"}, ...],
 *    "cross-numa": [{"core", "numa", "channel", "channel-numa"}, ...]}
 *
 * The channels are in the order of 'pool->chans'.  If 'chan_objs' is
 * nonnull, it gets each channel's object (pool->n_chans of them), for the
 * caller to add to: Open vSwitch's JSON API to read an array back differs
 * between releases. */
void
dsa_pool_put_json(const struct dsa_pool *pool, struct json *obj,
                  struct json **chan_objs)
    OVS_REQUIRES(pool->mutex)
{
    struct json *chans = json_array_create_empty();
    struct json *without = json_array_create_empty();
    struct json *cross = json_array_create_empty();
    const struct dsa_pmd **pmds;
    size_t n;

    for (size_t i = 0; i < pool->n_chans; i++) {
        const struct dsa_channel *ch = &pool->chans[i];
        struct json *c = json_object_create();

        json_object_put_string(c, "name", ch->name);
        json_object_put(c, "dmadev", json_integer_create(ch->dev_id));
        json_object_put(c, "vchan", json_integer_create(ch->vchan));
        json_object_put_string(c, "driver", ch->driver);
        json_object_put(c, "pci", (ch->pci_addr[0]
                                   ? json_string_create(ch->pci_addr)
                                   : json_null_create()));
        json_object_put(c, "numa", json_integer_create(ch->numa_id));
        json_object_put(c, "ring", json_integer_create(ch->ring_size));
        json_object_put_string(c, "state",
                               dsa_channel_state_name(ch->state));
        if (ch->state == DSA_CH_FAILED) {
            json_object_put_string(c, "error", ch->error);
        }
        json_object_put(c, "pmd-core", (ch->owner != DSA_NO_OWNER
                                        ? json_integer_create(ch->owner)
                                        : json_null_create()));
        json_object_put(c, "pmd-idle",
                        json_boolean_create(ch->owner != DSA_NO_OWNER
                                            && ch->owner_parked));
        json_array_add(chans, c);
        if (chan_objs) {
            chan_objs[i] = c;
        }
    }

    pmds = dsa_pool_sorted_pmds(pool, &n);
    for (size_t i = 0; i < n; i++) {
        struct json *p = json_object_create();

        json_object_put(p, "core", json_integer_create(pmds[i]->core_id));
        json_object_put(p, "numa", json_integer_create(pmds[i]->numa_id));
        if (!pmds[i]->chan) {
            json_array_add(without, p);
        } else if (pmds[i]->cross_numa) {
            json_object_put_string(p, "channel", pmds[i]->chan->name);
            json_object_put(p, "channel-numa",
                            json_integer_create(pmds[i]->chan->numa_id));
            json_array_add(cross, p);
        } else {
            json_destroy(p);
        }
    }
    free(pmds);

    json_object_put(obj, "channels", chans);
    json_object_put(obj, "pmds-without-channel", without);
    json_object_put(obj, "cross-numa", cross);
}
