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

#include "dsa-vhost.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_dmadev.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>
#include <rte_vhost_async.h>

#include "coverage.h"
#include "dsa-channel.h"
#include "dsa-compat.h"
#include "dsa-config.h"
#include "dsa-engine.h"
#include "dsa-iova.h"
#include "dsa-vlog.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/netdev.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa_vhost);

COVERAGE_DEFINE(dsa_vhost_drain_timeout);
COVERAGE_DEFINE(dsa_vhost_register_failed);
COVERAGE_DEFINE(dsa_vhost_drain_dropped);
COVERAGE_DEFINE(dsa_vhost_borrowed_channel);
COVERAGE_DEFINE(dsa_vhost_draining_drop);
COVERAGE_DEFINE(dsa_vhost_sync_wait_timeout);
COVERAGE_DEFINE(dsa_vhost_enable_drain);
COVERAGE_DEFINE(dsa_vhost_log_start);
COVERAGE_DEFINE(dsa_vhost_log_race);
COVERAGE_DEFINE(dsa_vhost_log_drop);
COVERAGE_DEFINE(dsa_vhost_h2g_poll);
COVERAGE_DEFINE(dsa_vhost_g2h_poll);

/* Virtqueues per device DPDK supports (VHOST_MAX_VRING, 256 in 22.11 and
 * 24.11). */
#define DSA_MAX_VRINGS 256

/* Virtio feature bit of packed virtqueues. */
#define DSA_VIRTIO_F_RING_PACKED 34

/* vhost feature bit: the device can log its writes to guest memory (live
 * migration). */
#define DSA_VHOST_F_LOG_ALL 26

/* Packets handled per vhost call. */
#define DSA_BURST 32

/* Upper bound of every drain loop, in milliseconds: a channel that stops
 * completing cannot hold up a PMD reload, the vhost thread or the main
 * thread longer than this. */
#define DSA_DRAIN_TIMEOUT_MS 500

/* How long a thread without a polling loop waits for the copies it
 * submitted, in milliseconds. */
#define DSA_SYNC_WAIT_MS 10

/* Returns true if vhost queue 'qid' carries packets from the guest to the
 * host (the guest's tx queue, OvS's rx queue, DPDK's dequeue side):
 * VIRTIO_TXQ of its queue pair. */
static inline bool
dsa_vq_g2h(uint16_t qid)
{
    return qid & 1;
}

/* Counters of one virtqueue of a port, by index.  Their names, in
 * dsa/stats-show, its JSON form and Interface statistics, are
 * dsa_vq_stat_names[]. */
enum dsa_vq_stat {
    DSA_VQ_STAT_SUBMITTED,      /* Packets handed to the DMA path. */
    DSA_VQ_STAT_COMPLETED,      /* Packets whose copies completed. */
    DSA_VQ_STAT_CPU,            /* Packets copied on the CPU (sync path). */
    DSA_VQ_STAT_DROPPED,        /* In-flight packets dropped by drains. */
    DSA_VQ_STAT_FLUSHED,        /* Host-to-guest packets completed while
                                 * the guest stopped the queue (vring
                                 * state callback): in its ring only if the
                                 * ring was still enabled. */
    DSA_VQ_STAT_BYTES,          /* Bytes of completed packets. */
    DSA_VQ_N_STATS
};

static const char *const dsa_vq_stat_names[DSA_VQ_N_STATS] = {
    [DSA_VQ_STAT_SUBMITTED] = "submitted",
    [DSA_VQ_STAT_COMPLETED] = "completed",
    [DSA_VQ_STAT_CPU] = "cpu",
    [DSA_VQ_STAT_DROPPED] = "dropped",
    [DSA_VQ_STAT_FLUSHED] = "flushed",
    [DSA_VQ_STAT_BYTES] = "bytes",
};

/* Counters of one virtqueue of a port, indexed by enum dsa_vq_stat. */
struct dsa_vq_stats {
    atomic_uint64_t n[DSA_VQ_N_STATS];
};

/* A vhost-user port, by netdev name.  Never freed: its counters survive
 * guest reconnects. */
struct dsa_port {
    char *name;
    bool async;                 /* Registered with ASYNC_COPY. */
    const char *cpu_reason;     /* Why it copies on the CPU, or NULL. */
    int vid;                    /* Attached device, or -1. */
    struct dsa_vq_stats stats[DSA_MAX_VRINGS];
};

/* How a virtqueue copies. */
enum dsa_vq_mode {
    DSA_VQ_CPU,                 /* No async channel: synchronous vhost API. */
    DSA_VQ_DMA,                 /* Async channel registered and in use. */
    DSA_VQ_DRAINING,            /* Async channel registered, being emptied
                                 * before it is unregistered: no new copy is
                                 * submitted (packets for it are dropped and
                                 * counted), and the synchronous API is not
                                 * used either, since copies are in flight. */
};

/* How a guest-to-host queue dequeues: adaptively, DPDK's synchronous call
 * while the packets it last took were all shorter than the copy threshold
 * and nothing is in flight, else the async call.  Switching never
 * reorders: the synchronous call is made only with nothing in flight, and
 * the async call only follows it.  Read and written by the thread that
 * holds the queue's exclusion (struct dsa_vq_excl). */
struct dsa_g2h {
    int inflight;               /* Copies in flight after the last async
                                 * dequeue; -1: not known. */
    bool small;                 /* The last packets taken were all below the
                                 * copy threshold. */
};

/* A vhost device (guest connection) of a port. */
struct dsa_vdev {
    int vid;                    /* DPDK's device id. */
    struct dsa_port *port;      /* The port it belongs to. */
    uint16_t nr_vring;          /* Virtqueues it has, at most
                                 * DSA_MAX_VRINGS. */
    bool split;                 /* Split virtqueues (not packed). */
    atomic_int mode[DSA_MAX_VRINGS];    /* enum dsa_vq_mode.  Written under
                                         * dsa_vhost_mutex, read by any
                                         * thread. */
    struct dsa_vq_excl excl[DSA_MAX_VRINGS];  /* Around the vhost calls of
                                               * a queue with an async
                                               * channel that DPDK does not
                                               * serialize (dsa-compat.h). */
    struct dsa_vlog *vlog;      /* Its connection's dirty-page log, or NULL.
                                 * Outlives the device. */
    struct dsa_g2h g2h[DSA_MAX_VRINGS];   /* Guest-to-host queues' dequeue
                                           * path. */
};

static struct ovs_mutex dsa_vhost_mutex = OVS_MUTEX_INITIALIZER;

/* All ports seen, by name: "struct dsa_port"s. */
static struct shash dsa_ports OVS_GUARDED_BY(dsa_vhost_mutex)
    = SHASH_INITIALIZER(&dsa_ports);

/* dsa-copy-threshold: a host-to-guest burst whose packets are all shorter
 * takes the synchronous path.  Set by dsa.c, read by any thread. */
static atomic_uint32_t dsa_vhost_threshold = DSA_COPY_THRESHOLD_DEFAULT;

/* The channel of the calling thread, as dsa.c hands it down. */
struct dsa_thread {
    int16_t dma;                /* Its own channel, or -1: none. */
    bool pmd;                   /* A PMD thread: its polling loop completes
                                 * its copies (dsa_vhost_poll()). */
};

DEFINE_STATIC_PER_THREAD_DATA(struct dsa_thread, dsa_thread,
                              { .dma = -1, .pmd = false });

/* Whether new ports get async copy (other_config:dsa-enable). */
static bool dsa_vhost_policy OVS_GUARDED_BY(dsa_vhost_mutex);

/* Whether queues get async channels: DMA channels are running. */
static bool dsa_vhost_on OVS_GUARDED_BY(dsa_vhost_mutex);
static bool dsa_vhost_dequeue_on OVS_GUARDED_BY(dsa_vhost_mutex);

/* Attached devices, by vid.  Written under dsa_vhost_mutex, read by any
 * thread. */
static OVSRCU_TYPE(struct dsa_vdev *) dsa_vdevs[RTE_MAX_VHOST_DEVICE];

/* Dirty-page logs of the connections to async-copy sockets, by vid.
 * Written only by the vhost thread (connection callbacks), read by any
 * thread. */
static OVSRCU_TYPE(struct dsa_vlog *) dsa_vlogs[RTE_MAX_VHOST_DEVICE];

/* ovsrcu_postpone() that also works on the vhost thread, which OvS leaves
 * quiescent: postponing makes a thread active again, so it is put back.
 * (ovsrcu_postpone__(), since 'struct dsa_vlog' is opaque here.) */
#define DSA_POSTPONE(FUNCTION, ARG)                     \
    do {                                                \
        bool quiescent_ = ovsrcu_is_quiescent();        \
                                                        \
        ovsrcu_postpone__((void (*)(void *)) (FUNCTION), ARG); \
        if (quiescent_) {                               \
            ovsrcu_quiesce_start();                     \
        }                                               \
    } while (0)

/* The running DMA channels configured for vhost: used by drains, and lent
 * to threads that have no channel of their own.  'dsa_dmas' is filled
 * before 'dsa_n_dmas' is published (release) and read after it (acquire);
 * it is only refilled while 'dsa_n_dmas' is 0 and no queue copies through
 * DMA. */
static int16_t dsa_dmas[DSA_MAX_CHANNELS];
static atomic_uint dsa_n_dmas = 0;

static unsigned int
dsa_n_dmas_get(void)
{
    unsigned int n;

    atomic_read_explicit(&dsa_n_dmas, &n, memory_order_acquire);
    return n;
}

static void
dsa_n_dmas_set(unsigned int n)
{
    atomic_store_explicit(&dsa_n_dmas, n, memory_order_release);
}

/* Which ports' queues each DMA channel has served since the last drain of
 * its user: for dsa/show.  Entries are added when a thread first submits
 * to a queue (rare: once per queue per drain), so a short mutex of its
 * own keeps the fast path clear of 'dsa_vhost_mutex'. */
struct dsa_serving {
    int16_t dma;
    const struct dsa_port *port;
    uint16_t qid;
};
#define DSA_MAX_SERVING 256
static struct ovs_mutex dsa_serving_mutex = OVS_MUTEX_INITIALIZER;
static struct dsa_serving dsa_serving[DSA_MAX_SERVING]
    OVS_GUARDED_BY(dsa_serving_mutex);
static size_t dsa_n_serving OVS_GUARDED_BY(dsa_serving_mutex);

/* Records that channel 'dma' carries copies of 'port''s queue 'qid'. */
static void
dsa_serving_add(int16_t dma, const struct dsa_port *port, uint16_t qid)
    OVS_EXCLUDED(dsa_serving_mutex)
{
    ovs_mutex_lock(&dsa_serving_mutex);
    for (size_t i = 0; i < dsa_n_serving; i++) {
        const struct dsa_serving *sv = &dsa_serving[i];

        if (sv->dma == dma && sv->port == port && sv->qid == qid) {
            goto out;
        }
    }
    if (dsa_n_serving < DSA_MAX_SERVING) {
        dsa_serving[dsa_n_serving++] = (struct dsa_serving) { dma, port,
                                                              qid };
    }
out:
    ovs_mutex_unlock(&dsa_serving_mutex);
}

/* Forgets what channel 'dma' served ('dma' -1: every channel), or, with
 * 'port', only what it served of that port. */
static void
dsa_serving_forget(int16_t dma, const struct dsa_port *port)
    OVS_EXCLUDED(dsa_serving_mutex)
{
    size_t i = 0;

    ovs_mutex_lock(&dsa_serving_mutex);
    while (i < dsa_n_serving) {
        const struct dsa_serving *sv = &dsa_serving[i];

        if ((dma < 0 || sv->dma == dma) && (!port || sv->port == port)) {
            dsa_serving[i] = dsa_serving[--dsa_n_serving];
        } else {
            i++;
        }
    }
    ovs_mutex_unlock(&dsa_serving_mutex);
}

/* Appends to 's' the queues channel 'dma' serves, as
 * " vhu0 txq 0, vhu1 rxq 0", or " none". */
void
dsa_vhost_format_serving(struct ds *s, int16_t dma)
    OVS_EXCLUDED(dsa_serving_mutex)
{
    bool any = false;

    ovs_mutex_lock(&dsa_serving_mutex);
    for (size_t i = 0; i < dsa_n_serving; i++) {
        const struct dsa_serving *sv = &dsa_serving[i];

        if (sv->dma == dma) {
            ds_put_format(s, "%s %s %s %u", any ? "," : "", sv->port->name,
                          dsa_vq_g2h(sv->qid) ? "rxq" : "txq", sv->qid / 2);
            any = true;
        }
    }
    ovs_mutex_unlock(&dsa_serving_mutex);
    if (!any) {
        ds_put_cstr(s, " none");
    }
}

/* Returns the queues that DMA channel 'dma' carries, as a JSON array of
 * {"port": NAME, "queue": "txq" or "rxq", "index": N}. */
struct json *
dsa_vhost_serving_json(int16_t dma)
    OVS_EXCLUDED(dsa_serving_mutex)
{
    struct json *queues = json_array_create_empty();

    ovs_mutex_lock(&dsa_serving_mutex);
    for (size_t i = 0; i < dsa_n_serving; i++) {
        const struct dsa_serving *sv = &dsa_serving[i];

        if (sv->dma == dma) {
            struct json *q = json_object_create();

            json_object_put_string(q, "port", sv->port->name);
            json_object_put_string(q, "queue",
                                   dsa_vq_g2h(sv->qid) ? "rxq" : "txq");
            json_object_put(q, "index", json_integer_create(sv->qid / 2));
            json_array_add(queues, q);
        }
    }
    ovs_mutex_unlock(&dsa_serving_mutex);
    return queues;
}

/* The calling thread's set of virtqueues with copies it submitted (struct
 * dsa_tstate, in dsa-vhost.h).  vhost completes a queue's copies in order
 * and learns of a channel's completions only when polled with that
 * channel, so a queue's copies must be harvested on the channel they were
 * submitted on, whatever channel the thread uses by then. */
DEFINE_STATIC_PER_THREAD_DATA(struct dsa_tstate, dsa_tstate,
                              { NULL, 0, 0, 0, 0 });

/* Bumped by a thread without a polling loop that gave up waiting for its
 * copies: every PMD thread then polls each queue it tracks again, idle or
 * not, so that a PMD thread that also sends to the queue completes
 * them. */
static atomic_uint64_t dsa_vhost_orphan_seq = 0;

/* Bumped whenever a queue stops copying through DMA (draining, back to the
 * CPU path, its device detached; dsa_vq_set_mode()).  A thread checks the
 * queues of its set only when it sees it change (dsa_tstate_sync()), not
 * at every poll, so that a set of idle queues costs its PMD thread one
 * atomic read per iteration. */
static atomic_uint64_t dsa_vhost_vq_seq = 0;

/* Sets the mode of 'vdev''s queue 'qid' to 'mode' (enum dsa_vq_mode),
 * telling the threads that track it when it stops copying through DMA.
 * The mutex makes reading the old mode and storing the new one a single
 * step for every writer. */
static void
dsa_vq_set_mode(struct dsa_vdev *vdev, uint16_t qid, int mode)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    int old;

    atomic_read_relaxed(&vdev->mode[qid], &old);
    atomic_store_relaxed(&vdev->mode[qid], mode);
    if (old == DSA_VQ_DMA && mode != DSA_VQ_DMA) {
        uint64_t orig;

        atomic_add_explicit(&dsa_vhost_vq_seq, 1, &orig,
                            memory_order_release);
    }
}

/* Adds 'n' to counter 'type' of 'st'. */
static void
dsa_stat_add(struct dsa_vq_stats *st, enum dsa_vq_stat type, uint64_t n)
{
    uint64_t orig;

    if (n) {
        atomic_add_relaxed(&st->n[type], n, &orig);
    }
}

static uint64_t
dsa_stat_get(struct dsa_vq_stats *st, enum dsa_vq_stat type)
{
    uint64_t value;

    atomic_read_relaxed(&st->n[type], &value);
    return value;
}

/* Returns the total length of 'pkts'. */
static uint64_t
dsa_pkts_bytes(struct rte_mbuf **pkts, uint16_t n)
{
    uint64_t bytes = 0;

    for (uint16_t i = 0; i < n; i++) {
        bytes += rte_pktmbuf_pkt_len(pkts[i]);
    }
    return bytes;
}

/* Returns the tracked device 'vid' if it has queue 'qid', else NULL, and
 * in '*mode' how that queue copies. */
static struct dsa_vdev *
dsa_vdev_get(int vid, uint16_t qid, int *mode)
{
    struct dsa_vdev *vdev;

    *mode = DSA_VQ_CPU;
    if (OVS_UNLIKELY(vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)) {
        return NULL;
    }
    vdev = ovsrcu_get(struct dsa_vdev *, &dsa_vdevs[vid]);
    if (!vdev || qid >= vdev->nr_vring) {
        return NULL;
    }
    atomic_read_relaxed(&vdev->mode[qid], mode);
    return vdev;
}

/* Returns the device 'vid' if 'qid' of it copies through DMA, else
 * NULL. */
static struct dsa_vdev *
dsa_vdev_async(int vid, uint16_t qid)
{
    int mode;
    struct dsa_vdev *vdev = dsa_vdev_get(vid, qid, &mode);

    return mode == DSA_VQ_DMA ? vdev : NULL;
}

/* Returns true if 'vdev''s queue 'qid' has an async channel registered. */
static bool
dsa_vq_registered(struct dsa_vdev *vdev, uint16_t qid)
{
    int mode;

    atomic_read_relaxed(&vdev->mode[qid], &mode);
    return mode != DSA_VQ_CPU;
}

/* Returns a running channel for a thread that has none of its own, or -1
 * if none runs. */
static int16_t
dsa_vhost_fallback_dma(void)
{
    return dsa_n_dmas_get() ? dsa_dmas[0] : -1;
}

/* Called by a thread on itself (dsa.c, for PMD threads): from now on it is
 * a PMD thread ('pmd') or not, and submits on channel 'dma' (-1: none of
 * its own). */
void
dsa_vhost_thread_set(bool pmd, int16_t dma)
{
    struct dsa_thread *t = dsa_thread_get();

    t->pmd = pmd;
    t->dma = dma;
}

/* Returns the channel the calling thread submits on: its own ('*own'
 * true), else a running channel it shares with other threads ('*own'
 * false; vhost serializes a channel's use), or -1 if none runs.  '*pmd'
 * says whether the thread has a polling loop. */
static int16_t
dsa_thread_channel(bool *own, bool *pmd)
{
    const struct dsa_thread *t = dsa_thread_get();

    *pmd = t->pmd;
    *own = t->dma >= 0;
    return *own ? t->dma : dsa_vhost_fallback_dma();
}

/* Adds ('vdev', 'vid', 'qid', 'dma') to 'ts', growing it as needed: a
 * queue left out would never be completed.  Marks it busy, whether it was
 * there or not.  Returns true if it was not there yet. */
bool
dsa_tstate_add(struct dsa_tstate *ts, struct dsa_vdev *vdev, int vid,
               uint16_t qid, int16_t dma)
{
    for (size_t i = 0; i < ts->n; i++) {
        struct dsa_tvq *t = &ts->vqs[i];

        if (t->vdev == vdev && t->vid == vid && t->qid == qid
            && t->dma == dma) {
            t->busy = true;
            return false;
        }
    }
    if (ts->n >= ts->allocated) {
        ts->vqs = x2nrealloc(ts->vqs, &ts->allocated, sizeof *ts->vqs);
    }
    ts->vqs[ts->n++] = (struct dsa_tvq) { vdev, vid, qid, dma, true };
    return true;
}

/* Drops from 'ts' the queues that stopped copying through DMA since the
 * thread last looked (dsa_vhost_vq_seq): their devices may be freed after
 * the thread's next quiescent state, and a new device could then take the
 * same address. */
static void
dsa_tstate_sync(struct dsa_tstate *ts)
{
    uint64_t vq_seq;
    size_t i = 0;

    atomic_read_explicit(&dsa_vhost_vq_seq, &vq_seq, memory_order_acquire);
    if (OVS_LIKELY(vq_seq == ts->vq_seq)) {
        return;
    }
    ts->vq_seq = vq_seq;
    while (i < ts->n) {
        struct dsa_tvq *t = &ts->vqs[i];

        if (dsa_vdev_async(t->vid, t->qid) != t->vdev) {
            ts->vqs[i] = ts->vqs[--ts->n];
        } else {
            i++;
        }
    }
}

/* Remembers that the calling thread has copies in flight on 'vdev''s
 * queue 'qid', submitted on channel 'dma'. */
static void
dsa_thread_track(struct dsa_vdev *vdev, int vid, uint16_t qid, int16_t dma)
{
    struct dsa_tstate *ts = dsa_tstate_get();

    dsa_tstate_sync(ts);
    if (dsa_tstate_add(ts, vdev, vid, qid, dma)) {
        dsa_serving_add(dma, vdev->port, qid);
    }
}

/* Harvests completed enqueue copies of 'vid''s queue 'qid', polling DMA
 * channel 'dma', and releases their packets.  It goes on while whole bursts
 * complete: several rx queues may feed one vring, each submitting a burst
 * per iteration, and harvesting less than was submitted would let the
 * copies in flight grow until the vring is full.  Ends at the latest when
 * nothing is left in flight.  Returns how many. */
static unsigned int
dsa_vq_complete(struct dsa_vdev *vdev, int vid, uint16_t qid, int16_t dma)
{
    struct dsa_vq_stats *st = &vdev->port->stats[qid];
    unsigned int total = 0;
    uint16_t n;

    if (!dsa_vq_excl_try(&vdev->excl[qid])) {
        /* Another thread is completing this queue. */
        return 0;
    }
    COVERAGE_INC(dsa_vhost_h2g_poll);
    do {
        struct rte_mbuf *pkts[DSA_BURST];

        n = rte_vhost_poll_enqueue_completed(vid, qid, pkts, DSA_BURST, dma,
                                             0);
        if (n) {
            dsa_stat_add(st, DSA_VQ_STAT_COMPLETED, n);
            dsa_stat_add(st, DSA_VQ_STAT_BYTES, dsa_pkts_bytes(pkts, n));
            rte_pktmbuf_free_bulk(pkts, n);
            total += n;
        }
    } while (n == DSA_BURST);
    dsa_vq_excl_release(&vdev->excl[qid]);
    return total;
}

/* Takes the first 'n' packets of 'pkts' from the caller of the enqueue
 * hook, whose copies are now in flight: the caller frees its array when the
 * hook returns, skipping NULL pointers (rte_pktmbuf_free() and
 * rte_pktmbuf_free_bulk() do), and the completion frees them, every segment
 * once.  Taking them costs no atomic reference count update per segment,
 * where holding a second reference cost two. */
void
dsa_mbuf_take(struct rte_mbuf **pkts, uint16_t n)
{
    memset(pkts, 0, n * sizeof *pkts);
}

/* Returns true if every packet of 'pkts' is shorter than 'threshold'
 * bytes, so that every copy of it would be done by the CPU anyway. */
static bool
dsa_pkts_below(struct rte_mbuf **pkts, uint16_t n, unsigned int threshold)
{
    for (uint16_t i = 0; i < n; i++) {
        if (rte_pktmbuf_pkt_len(pkts[i]) >= threshold) {
            return false;
        }
    }
    return true;
}

static bool dsa_vq_drain_all(struct dsa_vdev *, int vid, uint16_t qid,
                             bool locked, long long int deadline);

/* Returns true if the guest of 'vdev' asks for its writes to be logged
 * (live migration): its packets then take DPDK's synchronous calls, and
 * dsa-vlog logs what they write. */
static inline bool
dsa_vdev_logging(const struct dsa_vdev *vdev)
{
    return OVS_UNLIKELY(vdev->vlog && dsa_vlog_active(vdev->vlog));
}

/* Called after an async call on 'vdev''s queue 'qid' found the guest
 * logging: logging started while the call waited for the queue, and its
 * copies are not logged one by one.  Completes (or drops) them, then marks
 * all guest memory dirty.  Returns true if nothing is left in flight. */
static bool
dsa_vq_log_race(struct dsa_vdev *vdev, int vid, uint16_t qid)
{
    bool empty;

    COVERAGE_INC(dsa_vhost_log_race);
    empty = dsa_vq_drain_all(vdev, vid, qid, false,
                             time_msec() + DSA_DRAIN_TIMEOUT_MS);
    dsa_vlog_log_all(vdev->vlog);
    return empty;
}

/* Called after a synchronous call on a queue of 'vdev' made without
 * logging: if logging started while it waited for the queue, what it wrote
 * is not known, so all guest memory is marked dirty. */
static void
dsa_sync_log_race(struct dsa_vdev *vdev)
{
    if (dsa_vdev_logging(vdev)) {
        COVERAGE_INC(dsa_vhost_log_race);
        dsa_vlog_log_all(vdev->vlog);
    }
}

/* Accounts for a synchronous call that moved 'n' packets through 'vdev''s
 * queue 'qid' without logging (dsa_sync_log_race()), and returns 'n'. */
static uint16_t
dsa_vq_sync_done(struct dsa_vdev *vdev, uint16_t qid, uint16_t n)
{
    dsa_sync_log_race(vdev);
    dsa_stat_add(&vdev->port->stats[qid], DSA_VQ_STAT_CPU, n);
    return n;
}

/* The calling thread's buffer for what a host-to-guest call may write. */
DEFINE_STATIC_PER_THREAD_DATA(struct dsa_vlog_snap *, dsa_snap, NULL);

/* Returns true if 'vdev''s queue 'qid' (in 'mode') may take DPDK's
 * synchronous calls while its guest is logging: not draining, and no copy
 * of its own left in flight (those of a call that raced with the start of
 * logging are completed first). */
static bool
dsa_vq_logged_ready(struct dsa_vdev *vdev, int vid, uint16_t qid, int mode)
{
    return (mode != DSA_VQ_DRAINING
            && (mode != DSA_VQ_DMA || !rte_vhost_async_get_inflight(vid, qid)
                || dsa_vq_log_race(vdev, vid, qid)));
}

/* Enqueue while 'vdev''s guest is logging: DPDK's synchronous call, whose
 * writes dsa-vlog logs.  'mode' is the queue's. */
static int
dsa_vq_enqueue_logged(struct dsa_vdev *vdev, int vid, uint16_t qid,
                      int mode, struct rte_mbuf **pkts, uint16_t n)
{
    struct dsa_vlog_snap **snapp = dsa_snap_get();
    struct dsa_vq_stats *st = &vdev->port->stats[qid];
    uint16_t accepted;

    if (!dsa_vq_logged_ready(vdev, vid, qid, mode)) {
        dsa_stat_add(st, DSA_VQ_STAT_DROPPED, n);
        COVERAGE_ADD(dsa_vhost_draining_drop, n);
        return 0;
    }
    if (!*snapp) {
        *snapp = xmalloc(sizeof **snapp);
    }
    if (!dsa_vlog_enqueue_begin(vdev->vlog, qid, !vdev->split, *snapp)) {
        /* DPDK is replacing the guest's memory mappings. */
        dsa_stat_add(st, DSA_VQ_STAT_DROPPED, n);
        COVERAGE_ADD(dsa_vhost_log_drop, n);
        return 0;
    }
    if (mode == DSA_VQ_DMA) {
        dsa_vq_excl_acquire(&vdev->excl[qid]);
    }
    accepted = rte_vhost_enqueue_burst(vid, qid, pkts, n);
    if (mode == DSA_VQ_DMA) {
        dsa_vq_excl_release(&vdev->excl[qid]);
    }
    dsa_vlog_enqueue_end(vdev->vlog, qid, !vdev->split, *snapp);
    dsa_stat_add(st, DSA_VQ_STAT_CPU, accepted);
    return accepted;
}

/* Dequeue while 'vdev''s guest is logging: DPDK's synchronous call, which
 * writes only the ring, whose pages are logged.  'mode' is the queue's. */
static int
dsa_vq_dequeue_logged(struct dsa_vdev *vdev, int vid, uint16_t qid,
                      int mode, struct rte_mempool *mp,
                      struct rte_mbuf **pkts, uint16_t n)
{
    uint16_t got;

    if (!dsa_vq_logged_ready(vdev, vid, qid, mode)) {
        return 0;
    }
    if (mode == DSA_VQ_DMA && !dsa_vq_excl_try(&vdev->excl[qid])) {
        return 0;
    }
    got = rte_vhost_dequeue_burst(vid, qid, mp, pkts, n);
    if (mode == DSA_VQ_DMA) {
        dsa_vq_excl_release(&vdev->excl[qid]);
    }
    if (got) {
        dsa_vlog_rings(vdev->vlog, qid, !vdev->split);
        dsa_stat_add(&vdev->port->stats[qid], DSA_VQ_STAT_CPU, got);
    }
    return got;
}

/* dpdk_ext 'vhost_enqueue' hook: submits 'pkts' to the guest through DMA
 * channel copies.  The packets accepted that way are the extension's until
 * their copies complete: their pointers in 'pkts' are set to NULL, and the
 * caller frees the rest, as after a synchronous enqueue. */
int
dsa_vhost_enqueue(int vid, uint16_t qid, struct rte_mbuf **pkts, uint16_t n)
{
    struct dsa_vdev *vdev;
    uint16_t accepted;
    int16_t dma;
    bool own, pmd;
    int mode;

    vdev = dsa_vdev_get(vid, qid, &mode);
    if (!vdev) {
        return -1;
    } else if (dsa_vdev_logging(vdev)) {
        return dsa_vq_enqueue_logged(vdev, vid, qid, mode, pkts, n);
    } else if (mode == DSA_VQ_CPU) {
        return dsa_vq_sync_done(vdev, qid,
                                rte_vhost_enqueue_burst(vid, qid, pkts, n));
    }
    dma = dsa_thread_channel(&own, &pmd);
    if (mode == DSA_VQ_DRAINING || dma < 0) {
        /* Neither path is allowed now: the caller drops the packets. */
        dsa_stat_add(&vdev->port->stats[qid], DSA_VQ_STAT_DROPPED, n);
        COVERAGE_ADD(dsa_vhost_draining_drop, n);
        return 0;
    }

    /* A burst whose copies all fall below the copy threshold, on a queue
     * with nothing in flight, takes DPDK's synchronous path: the cheapest
     * CPU copy, and nothing it could overtake.  (A split ring's state is
     * the same for both paths once no copy is in flight; -1, "busy", is
     * not nothing.) */
    uint32_t threshold;

    atomic_read_relaxed(&dsa_vhost_threshold, &threshold);
    if (vdev->split && dsa_pkts_below(pkts, n, threshold)
        && !rte_vhost_async_get_inflight(vid, qid)) {
        dsa_vq_excl_acquire(&vdev->excl[qid]);
        accepted = rte_vhost_enqueue_burst(vid, qid, pkts, n);
        dsa_vq_excl_release(&vdev->excl[qid]);
        return dsa_vq_sync_done(vdev, qid, accepted);
    }
    if (!own) {
        COVERAGE_INC(dsa_vhost_borrowed_channel);
    }

    accepted = rte_vhost_submit_enqueue_burst(vid, qid, pkts, n, dma, 0);
    if (accepted < n && dsa_vq_complete(vdev, vid, qid, dma)) {
        /* The vring was full, partly of copies already done: handing those
         * to the guest makes room now, and lets it refill the ring while the
         * caller retries (tx-retries).  Otherwise a PMD thread would make
         * room only at its next iteration (dsa_vhost_poll()), and a thread
         * without a polling loop only at its next send. */
        accepted += rte_vhost_submit_enqueue_burst(vid, qid, pkts + accepted,
                                                   n - accepted, dma, 0);
    }
    dsa_mbuf_take(pkts, accepted);
    dsa_stat_add(&vdev->port->stats[qid], DSA_VQ_STAT_SUBMITTED, accepted);
    if (dsa_vdev_logging(vdev)) {
        dsa_vq_log_race(vdev, vid, qid);
        return accepted;
    }

    if (pmd) {
        /* Its polling loop completes them, on its own or a borrowed
         * channel. */
        dsa_thread_track(vdev, vid, qid, dma);
    } else if (accepted) {
        /* A thread without a polling loop (the main thread's packet-out,
         * for example) completes the queue's copies before it returns,
         * within a short bound: if a PMD thread also sends to this queue,
         * that thread completes the rest. */
        long long int deadline = time_msec() + DSA_SYNC_WAIT_MS;

        while (rte_vhost_async_get_inflight(vid, qid)) {
            dsa_vq_complete(vdev, vid, qid, dma);
            if (time_msec() > deadline) {
                uint64_t orig;

                COVERAGE_INC(dsa_vhost_sync_wait_timeout);
                atomic_add_relaxed(&dsa_vhost_orphan_seq, 1, &orig);
                break;
            }
        }
    }
    return accepted;
}

/* dpdk_ext 'vhost_dequeue' hook. */
int
dsa_vhost_dequeue(int vid, uint16_t qid, struct rte_mempool *mp,
                  struct rte_mbuf **pkts, uint16_t n)
{
    struct dsa_vdev *vdev;
    int inflight = 0;
    bool own, pmd;
    uint16_t got;
    int16_t dma;
    int mode;

    vdev = dsa_vdev_get(vid, qid, &mode);
    if (!vdev) {
        return -1;
    } else if (dsa_vdev_logging(vdev)) {
        return dsa_vq_dequeue_logged(vdev, vid, qid, mode, mp, pkts, n);
    } else if (mode == DSA_VQ_CPU) {
        return dsa_vq_sync_done(vdev, qid,
                                rte_vhost_dequeue_burst(vid, qid, mp, pkts,
                                                        n));
    }
    dma = dsa_thread_channel(&own, &pmd);
    if (mode == DSA_VQ_DRAINING || dma < 0) {
        /* Packets stay in the guest's ring until the queue has a mode. */
        return 0;
    }
    if (!dsa_vq_excl_try(&vdev->excl[qid])) {
        /* A thread that used to poll this queue is draining it. */
        return 0;
    }

    struct dsa_g2h *g = &vdev->g2h[qid];
    uint32_t threshold;

    atomic_read_relaxed(&dsa_vhost_threshold, &threshold);
    if (vdev->split && g->small && !g->inflight) {
        /* Small packets, nothing in flight: the CPU copy costs less than
         * the async machinery around it (as on the enqueue side). */
        got = rte_vhost_dequeue_burst(vid, qid, mp, pkts, n);
        if (got) {
            g->small = dsa_pkts_below(pkts, got, threshold);
        }
        dsa_vq_excl_release(&vdev->excl[qid]);
        return dsa_vq_sync_done(vdev, qid, got);
    }
    COVERAGE_INC(dsa_vhost_g2h_poll);
    got = rte_vhost_async_try_dequeue_burst(vid, qid, mp, pkts, n, &inflight,
                                            dma, 0);
    g->inflight = inflight;
    if (got) {
        g->small = dsa_pkts_below(pkts, got, threshold);
    }
    dsa_vq_excl_release(&vdev->excl[qid]);
    if (got) {
        struct dsa_vq_stats *st = &vdev->port->stats[qid];

        dsa_stat_add(st, DSA_VQ_STAT_SUBMITTED, got);
        dsa_stat_add(st, DSA_VQ_STAT_COMPLETED, got);
        dsa_stat_add(st, DSA_VQ_STAT_BYTES, dsa_pkts_bytes(pkts, got));
    }
    if (dsa_vdev_logging(vdev)) {
        /* Its packets are the guest's and stay valid; the ring writes of
         * the call and of the copies it left are logged. */
        dsa_vq_log_race(vdev, vid, qid);
    } else if (inflight > 0) {
        dsa_thread_track(vdev, vid, qid, dma);
    }
    return got;
}

/* Polls the completions of every host-to-guest queue the calling PMD thread
 * submitted to, each on the channel its copies went to.  A queue is polled
 * only while it is busy: from the thread's submit until a poll that
 * completes nothing finds nothing in flight, so that an idle port costs
 * the thread no vhost or DMA call, nor any check of the queue (those
 * happen when a queue stops copying through DMA: dsa_tstate_sync()).
 * Another thread's copies on the same queue keep that thread's entry
 * busy, and that thread polls them.  Returns the packets completed. */
int
dsa_vhost_poll(void)
{
    struct dsa_tstate *ts = dsa_tstate_get();
    uint64_t orphan_seq;
    int total = 0;

    dsa_tstate_sync(ts);
    atomic_read_relaxed(&dsa_vhost_orphan_seq, &orphan_seq);
    if (OVS_UNLIKELY(orphan_seq != ts->orphan_seq)) {
        ts->orphan_seq = orphan_seq;
        for (size_t j = 0; j < ts->n; j++) {
            ts->vqs[j].busy = true;
        }
    }
    for (size_t i = 0; i < ts->n; i++) {
        struct dsa_tvq *t = &ts->vqs[i];

        if (!t->busy) {
            /* Nothing in flight: no call. */
        } else if (dsa_vq_g2h(t->qid)) {
            /* Its copies complete in its next dequeue. */
            t->busy = false;
        } else {
            unsigned int n = dsa_vq_complete(t->vdev, t->vid, t->qid,
                                             t->dma);

            /* -1, "busy", is not nothing. */
            t->busy = n || rte_vhost_async_get_inflight(t->vid, t->qid);
            total += n;
        }
    }
    return total;
}

/* Takes up to DSA_BURST packets whose copies on channel 'dma' are done off
 * 'vid''s queue 'qid' into 'pkts', with rte_vhost_clear_queue(): its
 * thread-unsafe form with 'locked' (DPDK holds the virtqueue's lock), else
 * under the queue's exclusion.  Returns how many, 0 if another thread is
 * using the queue. */
static uint16_t
dsa_vq_clear(struct dsa_vdev *vdev, int vid, uint16_t qid, bool locked,
             int16_t dma, struct rte_mbuf **pkts)
{
    uint16_t n;

    if (locked) {
        return rte_vhost_clear_queue_thread_unsafe(vid, qid, pkts, DSA_BURST,
                                                   dma, 0);
    }
    if (!dsa_vq_excl_try(&vdev->excl[qid])) {
        return 0;
    }
    n = rte_vhost_clear_queue(vid, qid, pkts, DSA_BURST, dma, 0);
    dsa_vq_excl_release(&vdev->excl[qid]);
    return n;
}

/* Drains a queue of the calling thread's set, on the channel its copies
 * went to: host-to-guest copies are completed and their packets released;
 * guest-to-host copies still in flight are completed and their packets
 * dropped (counted), since this thread may no longer poll that queue.
 * Returns the packets released. */
static unsigned int
dsa_tvq_drain(const struct dsa_tvq *t)
{
    struct rte_mbuf *pkts[DSA_BURST];
    uint16_t n;

    if (!dsa_vq_g2h(t->qid)) {
        return dsa_vq_complete(t->vdev, t->vid, t->qid, t->dma);
    }
    n = dsa_vq_clear(t->vdev, t->vid, t->qid, false, t->dma, pkts);
    if (n) {
        rte_pktmbuf_free_bulk(pkts, n);
        dsa_stat_add(&t->vdev->port->stats[t->qid], DSA_VQ_STAT_DROPPED,
                     n);
        COVERAGE_ADD(dsa_vhost_drain_dropped, n);
    }
    return n;
}

/* Called by a PMD thread before it reloads or its channel changes: makes
 * sure nothing it submitted, on any channel (its own, or one it borrowed
 * before it had one), is left in flight.  It stops when its queues have
 * nothing in flight or, with other threads still sending to them, when a
 * pass released nothing and every channel it used has completed every copy
 * submitted to it.  Bounded in time. */
void
dsa_vhost_drain_thread(void)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct dsa_tstate *ts = dsa_tstate_get();
    long long int deadline = time_msec() + DSA_DRAIN_TIMEOUT_MS;

    if (!ts->n) {
        return;
    }
    for (;;) {
        unsigned int released = 0;
        bool busy = false, idle = true;

        for (size_t i = 0; i < ts->n; i++) {
            const struct dsa_tvq *t = &ts->vqs[i];

            if (dsa_vdev_async(t->vid, t->qid) == t->vdev) {
                released += dsa_tvq_drain(t);
                /* -1 means busy: not known to be empty. */
                busy = busy || rte_vhost_async_get_inflight(t->vid,
                                                            t->qid) != 0;
                idle = idle && dsa_engine_idle(t->dma);
            }
        }
        if (!busy || (!released && idle)) {
            break;
        }
        if (time_msec() > deadline) {
            COVERAGE_INC(dsa_vhost_drain_timeout);
            VLOG_WARN_RL(&rl, "copies still in flight after %d ms, giving "
                         "up waiting", DSA_DRAIN_TIMEOUT_MS);
            break;
        }
    }
    for (size_t i = 0; i < ts->n; i++) {
        dsa_serving_forget(ts->vqs[i].dma, NULL);
    }
    free(ts->vqs);
    ts->vqs = NULL;
    ts->n = ts->allocated = 0;
}

/* Completes (host-to-guest) or drops (guest-to-host) every copy in flight
 * on 'vid''s queue 'qid', polling every channel, until 'deadline'.  With
 * 'locked', DPDK holds the virtqueue's lock (vring_state_changed) and only
 * the thread-unsafe calls may be used.  Returns true if nothing is left in
 * flight. */
static bool
dsa_vq_drain_all(struct dsa_vdev *vdev, int vid, uint16_t qid, bool locked,
                 long long int deadline)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct dsa_vq_stats *st = &vdev->port->stats[qid];
    unsigned int n_dmas = dsa_n_dmas_get();

    for (;;) {
        /* -1: the queue is busy (another thread holds its lock): retry. */
        int inflight = (locked
                        ? rte_vhost_async_get_inflight_thread_unsafe(vid, qid)
                        : rte_vhost_async_get_inflight(vid, qid));

        if (!inflight) {
            return true;
        }
        for (unsigned int i = 0; i < n_dmas; i++) {
            struct rte_mbuf *pkts[DSA_BURST];
            uint16_t n;

            n = dsa_vq_clear(vdev, vid, qid, locked, dsa_dmas[i], pkts);
            if (n) {
                rte_pktmbuf_free_bulk(pkts, n);
                if (dsa_vq_g2h(qid)) {
                    dsa_stat_add(st, DSA_VQ_STAT_DROPPED, n);
                    COVERAGE_ADD(dsa_vhost_drain_dropped, n);
                } else if (locked) {
                    /* DPDK puts them in the guest's ring only if the ring is
                     * still enabled, which the callback does not say (it is
                     * after SET_MEM_TABLE, not after SET_VRING_ENABLE 0). */
                    dsa_stat_add(st, DSA_VQ_STAT_FLUSHED, n);
                } else {
                    dsa_stat_add(st, DSA_VQ_STAT_COMPLETED, n);
                }
            }
        }
        if (time_msec() > deadline) {
            COVERAGE_INC(dsa_vhost_drain_timeout);
            VLOG_WARN_RL(&rl, "port %s queue %u: %d copies still in flight "
                         "after %d ms, giving up waiting", vdev->port->name,
                         qid, inflight, DSA_DRAIN_TIMEOUT_MS);
            return false;
        }
    }
}

/* dpdk_ext 'vhost_driver_flags' hook: async copy for new ports while
 * dsa-enable is true, except where DPDK cannot combine it. */
void
dsa_vhost_driver_flags(const char *netdev_name, uint64_t *flags)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct dsa_port *port;

    ovs_mutex_lock(&dsa_vhost_mutex);
    port = shash_find_data(&dsa_ports, netdev_name);
    if (!port) {
        port = xzalloc(sizeof *port);
        port->name = xstrdup(netdev_name);
        port->vid = -1;
        shash_add(&dsa_ports, netdev_name, port);
    }
    port->async = false;
    port->cpu_reason = NULL;
    if (!dsa_vhost_policy) {
        port->cpu_reason = "added while dsa-enable was false: delete and "
                           "re-add the port to offload it";
    } else if (*flags & (RTE_VHOST_USER_IOMMU_SUPPORT
                         | RTE_VHOST_USER_POSTCOPY_SUPPORT)) {
        port->cpu_reason = "vhost-iommu-support or vhost-postcopy-support "
                           "is enabled";
        VLOG_WARN("%s: DPDK cannot combine async copy with "
                  "vhost-iommu-support or vhost-postcopy-support: this port "
                  "copies on the CPU", netdev_name);
    } else {
        *flags |= RTE_VHOST_USER_ASYNC_COPY;
        port->async = true;
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
}

/* Empties and unregisters an async channel of 'vdev''s queue 'q' left over
 * from an earlier attachment of the same device: DPDK keeps a queue's
 * registration across a stop of the device (GET_VRING_BASE), and its
 * unregistration may have failed then (copies still in flight).  Returns
 * true if the queue has no registration now. */
static bool
dsa_vq_clear_leftover(struct dsa_vdev *vdev, uint16_t q)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    /* -1: not registered (nobody else uses a queue being attached). */
    if (rte_vhost_async_get_inflight(vdev->vid, q) < 0) {
        return true;
    }
    return (dsa_vq_drain_all(vdev, vdev->vid, q, false,
                             time_msec() + DSA_DRAIN_TIMEOUT_MS)
            && !rte_vhost_async_channel_unregister(vdev->vid, q));
}

/* Registers async channels on the queues of 'vdev' (only clears what an
 * earlier attachment left, without 'on').  A queue whose leftover copies
 * cannot be completed stays draining: neither path may be used on it, and
 * the next stop of the channels or of the device tries again. */
static void
dsa_vdev_register(struct dsa_vdev *vdev, bool on)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    for (uint16_t q = 0; q < vdev->nr_vring; q++) {
        if (dsa_vq_registered(vdev, q)) {
            continue;
        }
        if (!dsa_vq_clear_leftover(vdev, q)) {
            COVERAGE_INC(dsa_vhost_register_failed);
            VLOG_WARN("%s: queue %u still has copies in flight from the "
                      "guest's last attachment: no packet goes through it "
                      "until they complete", vdev->port->name, q);
            dsa_vq_set_mode(vdev, q, DSA_VQ_DRAINING);
            continue;
        }
        if (!on || (dsa_vq_g2h(q) && !dsa_vhost_dequeue_on)) {
            continue;
        }
        if (rte_vhost_async_channel_register(vdev->vid, q)) {
            COVERAGE_INC(dsa_vhost_register_failed);
            VLOG_WARN("%s: registering async copy on queue %u failed: "
                      "this queue copies on the CPU", vdev->port->name, q);
            continue;
        }
        dsa_vq_set_mode(vdev, q, DSA_VQ_DMA);
    }
    if (on) {
        VLOG_INFO("%s: DMA copies on %u virtqueue(s)%s", vdev->port->name,
                  vdev->nr_vring, dsa_vhost_dequeue_on ? ""
                  : " (host-to-guest only: dsa-dequeue is false)");
    }
}

/* Marks every DMA queue of 'vdev' draining: no thread submits to it any
 * more once an RCU grace period has passed. */
static void
dsa_vdev_start_draining(struct dsa_vdev *vdev)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    for (uint16_t q = 0; q < vdev->nr_vring; q++) {
        if (dsa_vq_registered(vdev, q)) {
            dsa_vq_set_mode(vdev, q, DSA_VQ_DRAINING);
        }
    }
}

/* Empties and unregisters every draining queue of 'vdev', until
 * 'deadline'; a queue that made it goes back to the CPU path.  Returns
 * true if every queue did. */
static bool
dsa_vdev_unregister(struct dsa_vdev *vdev, long long int deadline)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    bool done = true;

    for (uint16_t q = 0; q < vdev->nr_vring; q++) {
        if (!dsa_vq_registered(vdev, q)) {
            continue;
        }
        if (!dsa_vq_drain_all(vdev, vdev->vid, q, false, deadline)
            || rte_vhost_async_channel_unregister(vdev->vid, q)) {
            VLOG_WARN_RL(&rl, "%s: queue %u still has copies in flight or "
                         "is busy: will retry", vdev->port->name, q);
            done = false;
            continue;
        }
        dsa_vq_set_mode(vdev, q, DSA_VQ_CPU);
    }
    return done;
}

/* Returns true if device 'vid' uses split virtqueues. */
static bool
dsa_vid_split(int vid)
{
    uint64_t features;

    return (!rte_vhost_get_negotiated_features(vid, &features)
            && !(features & (UINT64_C(1) << DSA_VIRTIO_F_RING_PACKED)));
}

/* dpdk_ext 'vhost_new_device' hook. */
void
dsa_vhost_new_device(int vid, const char *netdev_name)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct dsa_vdev *vdev;
    struct dsa_port *port;

    if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE) {
        return;
    }
    ovs_mutex_lock(&dsa_vhost_mutex);
    port = shash_find_data(&dsa_ports, netdev_name);
    if (port) {
        port->vid = vid;
    }
    if (port && port->async) {
        /* Only ports registered for async copy are followed: the hooks leave
         * every other port to Open vSwitch's own vhost calls and counters,
         * exactly as without the extension. */
        vdev = xzalloc(sizeof *vdev);
        vdev->vid = vid;
        vdev->port = port;
        vdev->nr_vring = MIN(rte_vhost_get_vring_num(vid), DSA_MAX_VRINGS);
        vdev->split = dsa_vid_split(vid);
        for (uint16_t q = 0; q < vdev->nr_vring; q++) {
            dsa_vq_excl_init(&vdev->excl[q]);
        }
        vdev->vlog = ovsrcu_get(struct dsa_vlog *, &dsa_vlogs[vid]);
        dsa_vdev_register(vdev, dsa_vhost_on);
        ovsrcu_set(&dsa_vdevs[vid], vdev);
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
    if (port && port->async) {
        dsa_iova_guest_update(vid);
    }
}

/* dpdk_ext 'vhost_destroy_device' hook: drains (bounded) and unregisters
 * the device's async channels.  It may run on the main thread, with OvS's
 * netdev mutex held (port deletion), so it must not wait for an RCU grace
 * period: the device is freed after one instead.  A PMD thread that still
 * has the device in its list notices it is gone before using it. */
void
dsa_vhost_destroy_device(int vid)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct dsa_vdev *vdev;

    if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE) {
        return;
    }
    ovs_mutex_lock(&dsa_vhost_mutex);
    vdev = ovsrcu_get_protected(struct dsa_vdev *, &dsa_vdevs[vid]);
    if (vdev) {
        ovsrcu_set(&dsa_vdevs[vid], NULL);
        vdev->port->vid = -1;
        dsa_vdev_start_draining(vdev);
        dsa_vdev_unregister(vdev, time_msec() + DSA_DRAIN_TIMEOUT_MS);
        dsa_serving_forget(-1, vdev->port);
        DSA_POSTPONE(free, vdev);
    } else {
        struct shash_node *node;

        SHASH_FOR_EACH (node, &dsa_ports) {
            struct dsa_port *port = node->data;

            if (port->vid == vid) {
                port->vid = -1;
            }
        }
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
    dsa_iova_guest_forget(vid);
}

/* Returns the dirty-page log of connection 'vid', or NULL if it has none
 * (not an async-copy socket) or 'vid' is out of range. */
static struct dsa_vlog *
dsa_vlog_of(int vid)
{
    return (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE
            ? ovsrcu_get(struct dsa_vlog *, &dsa_vlogs[vid]) : NULL);
}

/* Drains 'vid''s queue 'qid' before DPDK handles SET_VRING_ENABLE(1) for
 * it: DPDK refuses to enable a queue with copies in flight and closes the
 * connection, and QEMU sends it again for queues already enabled when the
 * guest changes its number of queues.  DPDK holds the virtqueue locks. */
static void
dsa_vhost_enable_drain(int vid, uint32_t qid)
{
    struct dsa_vdev *vdev = ovsrcu_get(struct dsa_vdev *, &dsa_vdevs[vid]);

    if (vdev && qid < vdev->nr_vring && dsa_vq_registered(vdev, qid)
        && rte_vhost_async_get_inflight_thread_unsafe(vid, qid) > 0) {
        COVERAGE_INC(dsa_vhost_enable_drain);
        dsa_vq_drain_all(vdev, vid, qid, true,
                         time_msec() + DSA_DRAIN_TIMEOUT_MS);
    }
}

/* Returns the name of the port of 'vid' for log messages. */
static const char *
dsa_vid_name(int vid, char *buf, size_t size)
{
    if (rte_vhost_get_ifname(vid, buf, size)) {
        snprintf(buf, size, "vid %d", vid);
    }
    return buf;
}

/* SET_FEATURES: the guest starts ('on') or stops asking for its writes to
 * be logged.  DPDK holds the virtqueue locks.  On start, the copies in
 * flight are completed first (their writes precede logging), and all guest
 * memory is marked dirty, so that nothing written before depends on when
 * QEMU began to read the log. */
static void
dsa_vhost_set_logging(int vid, struct dsa_vlog *vl, bool on)
{
    char name[PATH_MAX];
    struct dsa_vdev *vdev;

    if (on == dsa_vlog_active(vl)) {
        return;
    }
    dsa_vlog_set_active(vl, on);
    VLOG_INFO("%s: guest %s dirty-page logging (live migration)%s",
              dsa_vid_name(vid, name, sizeof name), on ? "starts" : "stops",
              on ? ": its packets are copied on the CPU and logged until "
              "it stops" : "");
    if (!on) {
        return;
    }
    COVERAGE_INC(dsa_vhost_log_start);
    vdev = ovsrcu_get(struct dsa_vdev *, &dsa_vdevs[vid]);
    for (uint16_t q = 0; vdev && q < vdev->nr_vring; q++) {
        if (dsa_vq_registered(vdev, q)) {
            dsa_vq_drain_all(vdev, vid, q, true,
                             time_msec() + DSA_DRAIN_TIMEOUT_MS);
        }
    }
    dsa_vlog_log_all(vl);
}

/* SET_LOG_BASE: maps the log QEMU shares.  Without it the guest's writes
 * could not be logged, so a failure closes the connection: the migration
 * fails, and the guest's memory is never copied with pages missing. */
static enum rte_vhost_msg_result
dsa_vhost_set_log_base(int vid, struct dsa_vlog *vl, struct dsa_vhu_msg *msg)
{
    char name[PATH_MAX];
    const int *fds;
    int n_fds, error;

    fds = dsa_vhu_msg_fds(msg, &n_fds);
    if (n_fds != 1 || msg->size != sizeof msg->payload.log) {
        /* Malformed: DPDK rejects it. */
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
    }
    error = dsa_vlog_set_base(vl, fds[0], msg->payload.log.mmap_size,
                              msg->payload.log.mmap_offset);
    if (error) {
        VLOG_ERR("%s: cannot map the dirty-page log of live migration "
                 "(%s): closing the connection", dsa_vid_name(vid, name,
                 sizeof name), ovs_strerror(error));
        close(fds[0]);
        return RTE_VHOST_MSG_RESULT_ERR;
    }
    return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* vhost-user messages of a connection to an async-copy socket, before DPDK
 * handles them (rte_vhost_extern_callback_register()).  For messages that
 * change virtqueues, DPDK holds their locks. */
static enum rte_vhost_msg_result
dsa_vhost_pre_msg(int vid, void *msg_)
{
    struct dsa_vhu_msg *msg = msg_;
    struct dsa_vlog *vl = dsa_vlog_of(vid);
    char path[PATH_MAX];
    uint64_t features;
    int n_fds;

    if (!vl) {
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
    }
    switch (msg->request) {
    case DSA_VHU_GET_FEATURES:
        /* DPDK's answer, plus logging, which DPDK masks on async-copy
         * sockets and ovs-dsa does itself. */
        dsa_vhu_msg_fds(msg, &n_fds);
        if (n_fds || rte_vhost_get_ifname(vid, path, sizeof path)
            || rte_vhost_driver_get_features(path, &features)) {
            return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
        }
        msg->payload.u64 = features | (UINT64_C(1) << DSA_VHOST_F_LOG_ALL);
        msg->size = sizeof msg->payload.u64;
        return RTE_VHOST_MSG_RESULT_REPLY;

    case DSA_VHU_SET_FEATURES:
        if (msg->size == sizeof msg->payload.u64) {
            uint64_t log_all = UINT64_C(1) << DSA_VHOST_F_LOG_ALL;

            dsa_vhost_set_logging(vid, vl, msg->payload.u64 & log_all);
            /* DPDK would refuse it. */
            msg->payload.u64 &= ~log_all;
        }
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;

    case DSA_VHU_SET_LOG_BASE:
        return dsa_vhost_set_log_base(vid, vl, msg);

    case DSA_VHU_SET_MEM_TABLE:
        dsa_vlog_mem_begin(vl);
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;

    case DSA_VHU_SET_VRING_ENABLE:
        if (msg->payload.state.num) {
            dsa_vhost_enable_drain(vid, msg->payload.state.index);
        }
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;

    default:
        return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
    }
}

/* vhost-user messages after DPDK handled them. */
static enum rte_vhost_msg_result
dsa_vhost_post_msg(int vid, void *msg_)
{
    const struct dsa_vhu_msg *msg = msg_;
    struct dsa_vlog *vl = dsa_vlog_of(vid);

    if (vl && msg->request == DSA_VHU_SET_MEM_TABLE) {
        dsa_vlog_mem_end(vl);
    }
    return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* dpdk_ext 'vhost_new_connection' hook: a guest connected.  On a socket
 * registered for async copy, ovs-dsa handles some of its messages itself
 * (logging for live migration, drains before queues are enabled). */
void
dsa_vhost_new_connection(int vid)
{
    static const struct rte_vhost_user_extern_ops ops = {
        .pre_msg_handle = dsa_vhost_pre_msg,
        .post_msg_handle = dsa_vhost_post_msg,
    };
    struct dsa_vlog *vl, *old;
    char path[PATH_MAX];
    uint64_t features;

    if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE
        || rte_vhost_get_ifname(vid, path, sizeof path)
        || rte_vhost_driver_get_features(path, &features)
        || features & (UINT64_C(1) << DSA_VHOST_F_LOG_ALL)) {
        /* Not an async-copy socket: DPDK logs by itself. */
        return;
    }
    vl = dsa_vlog_create(vid);
    old = ovsrcu_get(struct dsa_vlog *, &dsa_vlogs[vid]);
    ovsrcu_set(&dsa_vlogs[vid], vl);
    if (old) {
        DSA_POSTPONE(dsa_vlog_destroy, old);
    }
    if (rte_vhost_extern_callback_register(vid, &ops, NULL)) {
        VLOG_WARN("%s: cannot register vhost-user message handlers: this "
                  "guest cannot be live-migrated", path);
    }
}

/* dpdk_ext 'vhost_destroy_connection' hook. */
void
dsa_vhost_destroy_connection(int vid)
{
    struct dsa_vlog *vl = dsa_vlog_of(vid);

    if (vl) {
        ovsrcu_set(&dsa_vlogs[vid], NULL);
        DSA_POSTPONE(dsa_vlog_destroy, vl);
    }
}

/* dpdk_ext 'vhost_vring_state' hook.  DPDK holds the virtqueue locks and
 * asks us to stop DMA on the queue (before it unmaps guest memory, for
 * example): complete or drop what is in flight, now. */
void
dsa_vhost_vring_state(int vid, uint16_t qid, int enable)
{
    struct dsa_vdev *vdev;

    if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE) {
        return;
    }
    vdev = ovsrcu_get(struct dsa_vdev *, &dsa_vdevs[vid]);
    if (!vdev) {
        /* Not an offloaded device, or not attached yet: new_device() reads
         * its memory table when it is. */
        return;
    }
    if (enable) {
        if (!qid) {
            /* After a memory table change, DPDK enables the queues again:
             * CPU copies may need the new guest addresses. */
            dsa_iova_guest_refresh(vid);
        }
        return;
    }
    if (qid < vdev->nr_vring && dsa_vq_registered(vdev, qid)) {
        dsa_vq_drain_all(vdev, vid, qid, true,
                         time_msec() + DSA_DRAIN_TIMEOUT_MS);
    }
}

/* Sets whether ports created from now on get async copy, whether devices
 * attached from now on copy guest-to-host through DMA too, and the copy
 * threshold below which host-to-guest bursts take the synchronous path. */
void
dsa_vhost_set_port_policy(bool enable, bool dequeue, unsigned int threshold)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    ovs_mutex_lock(&dsa_vhost_mutex);
    dsa_vhost_policy = enable;
    dsa_vhost_dequeue_on = dequeue;
    ovs_mutex_unlock(&dsa_vhost_mutex);
    atomic_store_relaxed(&dsa_vhost_threshold, threshold);
}

/* Main thread: DMA channels 'dma_ids' are running; makes vhost use them and
 * registers async channels on the queues of attached devices. */
void
dsa_vhost_start(const int16_t *dma_ids, size_t n, bool dequeue)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    size_t n_ok = 0;

    for (size_t i = 0; i < n && n_ok < DSA_MAX_CHANNELS; i++) {
        if (rte_vhost_async_dma_configure(dma_ids[i], 0)) {
            VLOG_WARN("dmadev %d: rte_vhost_async_dma_configure failed: "
                      "not used", dma_ids[i]);
            continue;
        }
        dsa_dmas[n_ok++] = dma_ids[i];
    }
    dsa_n_dmas_set(n_ok);

    ovs_mutex_lock(&dsa_vhost_mutex);
    dsa_vhost_on = n_ok > 0;
    dsa_vhost_dequeue_on = dequeue;
    if (dsa_vhost_on) {
        for (int vid = 0; vid < RTE_MAX_VHOST_DEVICE; vid++) {
            struct dsa_vdev *vdev;

            vdev = ovsrcu_get_protected(struct dsa_vdev *, &dsa_vdevs[vid]);
            if (vdev) {
                dsa_vdev_register(vdev, true);
            }
        }
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
}

/* Main thread, before the DMA channels stop: every queue goes back to the
 * CPU path, after its copies in flight are completed.  Packets sent to a
 * queue while it drains are dropped (counted).  Returns false if some queue
 * could not be emptied within the bound yet: call again later.  Must not
 * be called with any mutex a PMD thread may wait for held (it waits for an
 * RCU grace period). */
bool
dsa_vhost_stop(void)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    long long int deadline;
    bool done = true;

    ovs_mutex_lock(&dsa_vhost_mutex);
    dsa_vhost_on = false;
    for (int vid = 0; vid < RTE_MAX_VHOST_DEVICE; vid++) {
        struct dsa_vdev *vdev;

        vdev = ovsrcu_get_protected(struct dsa_vdev *, &dsa_vdevs[vid]);
        if (vdev) {
            dsa_vdev_start_draining(vdev);
        }
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);

    /* No thread is in the middle of a submission after this. */
    ovsrcu_synchronize();

    deadline = time_msec() + DSA_DRAIN_TIMEOUT_MS;
    ovs_mutex_lock(&dsa_vhost_mutex);
    for (int vid = 0; vid < RTE_MAX_VHOST_DEVICE; vid++) {
        struct dsa_vdev *vdev;

        vdev = ovsrcu_get_protected(struct dsa_vdev *, &dsa_vdevs[vid]);
        if (vdev && !dsa_vdev_unregister(vdev, deadline)) {
            done = false;
        }
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
    if (done) {
        dsa_n_dmas_set(0);
        dsa_serving_forget(-1, NULL);
    }
    return done;
}

/* Appends the vhost ports and how they copy, for dsa/show, to 's'. */
void
dsa_vhost_show(struct ds *s)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    const struct shash_node **nodes;

    ovs_mutex_lock(&dsa_vhost_mutex);
    nodes = shash_sort(&dsa_ports);
    ds_put_format(s, "vhost ports: %"PRIuSIZE"\n", shash_count(&dsa_ports));
    for (size_t i = 0; i < shash_count(&dsa_ports); i++) {
        const struct dsa_port *port = nodes[i]->data;

        ds_put_format(s, "  %s: ", port->name);
        if (port->async) {
            ds_put_cstr(s, "async copy");
        } else {
            ds_put_format(s, "CPU copy (%s)", port->cpu_reason);
        }
        if (port->vid >= 0) {
            ds_put_format(s, ", guest attached (vid %d)", port->vid);
        } else {
            ds_put_cstr(s, ", no guest");
        }
        ds_put_char(s, '\n');
    }
    free(nodes);
    ovs_mutex_unlock(&dsa_vhost_mutex);
}

/* Returns a JSON object that names 'port' and says whether it is
 * offloaded: {"name": NAME, "offloaded": true} or {"name": NAME,
 * "offloaded": false, "reason": WHY}. */
static struct json *
dsa_port_json(const struct dsa_port *port)
{
    struct json *obj = json_object_create();

    json_object_put_string(obj, "name", port->name);
    json_object_put(obj, "offloaded", json_boolean_create(port->async));
    if (!port->async) {
        json_object_put_string(obj, "reason", port->cpu_reason);
    }
    return obj;
}

/* Returns the vhost ports and how they copy, for dsa/show --format=json:
 * an array of dsa_port_json() objects, with "vid" (the attached guest) or
 * null. */
struct json *
dsa_vhost_show_json(void)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct json *ports = json_array_create_empty();
    const struct shash_node **nodes;

    ovs_mutex_lock(&dsa_vhost_mutex);
    nodes = shash_sort(&dsa_ports);
    for (size_t i = 0; i < shash_count(&dsa_ports); i++) {
        const struct dsa_port *port = nodes[i]->data;
        struct json *obj = dsa_port_json(port);

        json_object_put(obj, "vid", (port->vid >= 0
                                     ? json_integer_create(port->vid)
                                     : json_null_create()));
        json_array_add(ports, obj);
    }
    free(nodes);
    ovs_mutex_unlock(&dsa_vhost_mutex);
    return ports;
}

/* Returns true if some counter of 'st' is set. */
static bool
dsa_vq_stats_any(struct dsa_vq_stats *st)
{
    for (int i = 0; i < DSA_VQ_N_STATS; i++) {
        if (dsa_stat_get(st, i)) {
            return true;
        }
    }
    return false;
}

/* Returns the device attached to 'port', or NULL. */
static struct dsa_vdev *
dsa_port_vdev(const struct dsa_port *port)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    return (port->vid >= 0
            ? ovsrcu_get_protected(struct dsa_vdev *, &dsa_vdevs[port->vid])
            : NULL);
}

/* Returns how many queues of 'port' to report: those of its attached
 * device, and up to the last one with a counter set. */
static int
dsa_port_n_queues(struct dsa_port *port)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    struct dsa_vdev *vdev = dsa_port_vdev(port);
    int n_q = DSA_MAX_VRINGS;

    while (n_q > 0) {
        if (dsa_vq_stats_any(&port->stats[n_q - 1])
            || (vdev && n_q <= vdev->nr_vring)) {
            break;
        }
        n_q--;
    }
    return n_q;
}

/* One queue of a port, as dsa/stats-show reports it. */
struct dsa_vq_view {
    const char *direction;      /* "host->guest" or "guest->host". */
    const char *mode;           /* "no guest", "dma", "draining", "cpu". */
    int inflight;               /* Copies in flight. */
    uint64_t v[DSA_VQ_N_STATS]; /* Counters, by enum dsa_vq_stat. */
};

/* Reads queue 'q' of 'port', whose attached device is 'vdev' (NULL if
 * none), into 'view'. */
static void
dsa_vq_view(struct dsa_port *port, struct dsa_vdev *vdev, int q,
            struct dsa_vq_view *view)
    OVS_REQUIRES(dsa_vhost_mutex)
{
    int mode = DSA_VQ_CPU;

    view->inflight = 0;
    if (vdev && q < vdev->nr_vring) {
        atomic_read_relaxed(&vdev->mode[q], &mode);
        if (mode != DSA_VQ_CPU) {
            view->inflight = MAX(rte_vhost_async_get_inflight(port->vid, q),
                                 0);
        }
    }
    view->direction = dsa_vq_g2h(q) ? "guest->host" : "host->guest";
    view->mode = (!vdev ? "no guest"
                  : mode == DSA_VQ_DMA ? "dma"
                  : mode == DSA_VQ_DRAINING ? "draining" : "cpu");
    for (int i = 0; i < DSA_VQ_N_STATS; i++) {
        view->v[i] = dsa_stat_get(&port->stats[q], i);
    }
}

/* Appends the counters of 'port_name' (all ports if NULL) to 's', by the
 * names of dsa_vq_stat_names[], with the copies in flight after
 * "completed".  Returns false if there is no such port. */
bool
dsa_vhost_stats_show(struct ds *s, const char *port_name)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    const struct shash_node **nodes;
    bool found = false;

    ovs_mutex_lock(&dsa_vhost_mutex);
    nodes = shash_sort(&dsa_ports);
    for (size_t i = 0; i < shash_count(&dsa_ports); i++) {
        struct dsa_port *port = nodes[i]->data;
        struct dsa_vdev *vdev;
        int n_q;

        if (port_name && strcmp(port_name, port->name)) {
            continue;
        }
        found = true;
        if (!port->async) {
            ds_put_format(s, "port %s: CPU copy, counted by Open vSwitch "
                          "only (Interface statistics)\n", port->name);
            continue;
        }
        vdev = dsa_port_vdev(port);
        ds_put_format(s, "port %s:\n", port->name);
        n_q = dsa_port_n_queues(port);
        for (int q = 0; q < n_q; q++) {
            struct dsa_vq_view view;

            dsa_vq_view(port, vdev, q, &view);
            ds_put_format(s, "  queue %d (%s): %s", q, view.direction,
                          view.mode);
            for (int j = 0; j < DSA_VQ_N_STATS; j++) {
                ds_put_format(s, ", %s %"PRIu64,
                              dsa_vq_stat_names[j], view.v[j]);
                if (j == DSA_VQ_STAT_COMPLETED) {
                    ds_put_format(s, ", in-flight %d", view.inflight);
                }
            }
            ds_put_char(s, '\n');
        }
    }
    free(nodes);
    ovs_mutex_unlock(&dsa_vhost_mutex);
    return found || !port_name;
}

/* Returns the counters of 'port_name' (all ports if NULL) as a JSON array
 * of dsa_port_json() objects, those of offloaded ports with "queues": an
 * array of {"queue": Q, "direction": DIR, "mode": MODE, "in-flight": N}
 * and the counters, by the names of dsa_vq_stat_names[].  Returns NULL if
 * there is no such port. */
struct json *
dsa_vhost_stats_json(const char *port_name)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct json *ports = json_array_create_empty();
    const struct shash_node **nodes;
    bool found = false;

    ovs_mutex_lock(&dsa_vhost_mutex);
    nodes = shash_sort(&dsa_ports);
    for (size_t i = 0; i < shash_count(&dsa_ports); i++) {
        struct dsa_port *port = nodes[i]->data;
        struct json *obj, *queues;
        struct dsa_vdev *vdev;
        int n_q;

        if (port_name && strcmp(port_name, port->name)) {
            continue;
        }
        found = true;
        obj = dsa_port_json(port);
        json_array_add(ports, obj);
        if (!port->async) {
            continue;
        }
        vdev = dsa_port_vdev(port);
        queues = json_array_create_empty();
        n_q = dsa_port_n_queues(port);
        for (int q = 0; q < n_q; q++) {
            struct json *jq = json_object_create();
            struct dsa_vq_view view;

            dsa_vq_view(port, vdev, q, &view);
            json_object_put(jq, "queue", json_integer_create(q));
            json_object_put_string(jq, "direction", view.direction);
            json_object_put_string(jq, "mode", view.mode);
            json_object_put(jq, "in-flight",
                            json_integer_create(view.inflight));
            for (int j = 0; j < DSA_VQ_N_STATS; j++) {
                json_object_put(jq, dsa_vq_stat_names[j],
                                json_integer_create(view.v[j]));
            }
            json_array_add(queues, jq);
        }
        json_object_put(obj, "queues", queues);
    }
    free(nodes);
    ovs_mutex_unlock(&dsa_vhost_mutex);
    if (!found && port_name) {
        json_destroy(ports);
        return NULL;
    }
    return ports;
}

/* Zeroes the counters of every port. */
void
dsa_vhost_stats_clear(void)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct shash_node *node;

    ovs_mutex_lock(&dsa_vhost_mutex);
    SHASH_FOR_EACH (node, &dsa_ports) {
        struct dsa_port *port = node->data;

        for (int q = 0; q < DSA_MAX_VRINGS; q++) {
            for (int i = 0; i < DSA_VQ_N_STATS; i++) {
                atomic_store_relaxed(&port->stats[q].n[i], 0);
            }
        }
    }
    ovs_mutex_unlock(&dsa_vhost_mutex);
}

/* dpdk_ext 'vhost_custom_stats' hook: appends the counters of port
 * 'netdev_name' to its Interface statistics, named after OvS's own and
 * dsa_vq_stat_names[] (dsa_tx_q0_submitted, ... for the host-to-guest
 * queue 0, dsa_rx_q0_* for the guest-to-host one). */
void
dsa_vhost_custom_stats(const char *netdev_name,
                       struct netdev_custom_stats *cs)
    OVS_EXCLUDED(dsa_vhost_mutex)
{
    struct dsa_port *port;
    int n_q;

    ovs_mutex_lock(&dsa_vhost_mutex);
    port = shash_find_data(&dsa_ports, netdev_name);
    if (!port || !port->async) {
        /* A port that copies on the CPU keeps Open vSwitch's statistics
         * only. */
        goto out;
    }
    n_q = dsa_port_n_queues(port);
    cs->counters = xrealloc(cs->counters,
                            (cs->size + n_q * DSA_VQ_N_STATS)
                            * sizeof *cs->counters);
    for (int q = 0; q < n_q; q++) {
        for (int i = 0; i < DSA_VQ_N_STATS; i++) {
            struct netdev_custom_counter *c = &cs->counters[cs->size++];

            snprintf(c->name, sizeof c->name, "dsa_%s_q%d_%s",
                     dsa_vq_g2h(q) ? "rx" : "tx", q / 2,
                     dsa_vq_stat_names[i]);
            c->value = dsa_stat_get(&port->stats[q], i);
        }
    }
out:
    ovs_mutex_unlock(&dsa_vhost_mutex);
}
