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

#include "dsa-engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dmadev.h>

#include "coverage.h"
#include "dsa-compat.h"
#include "dsa-config.h"
#include "dsa-iova.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa_engine);

COVERAGE_DEFINE(dsa_engine_copy_error);
COVERAGE_DEFINE(dsa_engine_ring_full);
COVERAGE_DEFINE(dsa_engine_quarantine);
COVERAGE_DEFINE(dsa_engine_wedge);
COVERAGE_DEFINE(dsa_engine_retry);
COVERAGE_DEFINE(dsa_engine_lost);
COVERAGE_DEFINE(dsa_engine_stop_failed);

/* Largest ring of the layer: its indices are 16 bits wide and in-flight
 * counts must tell a full ring from an empty one. */
#define DSA_ENGINE_MAX_RING 32768

/* Process-wide policy.  Read by every copy, written by the main thread. */
static atomic_uint32_t dsa_threshold = DSA_COPY_THRESHOLD_DEFAULT;
static atomic_uint32_t dsa_watchdog_ms = DSA_WATCHDOG_MS_DEFAULT;
static atomic_uint32_t dsa_quarantine_ms = DSA_QUARANTINE_MS_DEFAULT;
static atomic_int dsa_model = DSA_MODEL_DEVICE;

/* The "cost" model's charges (struct dsa_engine_cost): as set, in ns, under
 * 'dsa_cost_mutex'; and in TSC cycles, read by every copy. */
static struct ovs_mutex dsa_cost_mutex = OVS_MUTEX_INITIALIZER;
static struct dsa_engine_cost dsa_cost OVS_GUARDED_BY(dsa_cost_mutex)
    = DSA_ENGINE_COST_DEFAULT;
static atomic_uint64_t dsa_cost_desc_tsc = 0;
static atomic_uint64_t dsa_cost_doorbell_tsc = 0;
static atomic_uint64_t dsa_cost_completion_tsc = 0;

/* Injected faults, and a generation that tells engines to pick them up. */
static struct ovs_mutex dsa_faults_mutex = OVS_MUTEX_INITIALIZER;
static struct dsa_faults dsa_faults OVS_GUARDED_BY(dsa_faults_mutex)
    = { .dev_id = -1 };
static atomic_uint64_t dsa_faults_gen = 0;

/* State of a layer's channel. */
enum dsa_engine_state {
    DSA_ENGINE_ACTIVE,          /* The device takes copies. */
    DSA_ENGINE_QUARANTINED,     /* The device is stopped; the CPU copies. */
    DSA_ENGINE_FAILED,          /* Stopping the device failed: out of service
                                 * for good.  Its copies stay in flight (it
                                 * may still write into their buffers); with
                                 * none on it, the CPU copies. */
};

/* Why a channel was quarantined. */
enum dsa_engine_reason {
    DSA_REASON_NONE,
    DSA_REASON_ERRORS,          /* Consecutive failed copies. */
    DSA_REASON_WEDGED,          /* Completed nothing for too long. */
    DSA_REASON_RESTART,         /* Restarting it failed. */
};

/* State of one copy handed out to vhost. */
enum dsa_op_state {
    DSA_OP_DONE,                /* Data in place (or never will be: lost). */
    DSA_OP_DEVICE,              /* On the device, not yet harvested. */
};

/* One copy, in the layer's ring. */
struct dsa_op {
    rte_iova_t src;
    rte_iova_t dst;
    uint32_t len;
    uint8_t state;              /* enum dsa_op_state. */
    bool fail;                  /* Injected: its device copy fails. */
};

/* The layer over one channel.  Fast-path members are used by one thread at
 * a time, under vhost's lock of the channel. */
struct dsa_engine {
    struct rte_dma_fp_object dev;   /* The device's own fast path. */
    struct dsa_engine_ctl ctl;
    char name[64];                  /* dmadev name, for logs. */
    int16_t dev_id;

    struct dsa_op *ops;             /* 'size' entries. */
    enum rte_dma_status_code *status;  /* Scratch for the device's. */
    uint32_t size;                  /* Power of 2, <= DSA_ENGINE_MAX_RING. */
    uint16_t mask;
    atomic_uint16_t head;           /* Index the next copy gets. */
    atomic_uint16_t tail;           /* Oldest copy not reported done. */
    uint16_t scan;                  /* No device copy before this one. */
    uint32_t n_dev;                 /* Copies on the device. */
    bool doorbell;                  /* Device copies not yet submitted. */
    bool cost_doorbell;             /* Cost model: copies not yet
                                     * "submitted". */
    bool cost_pending;              /* Cost model: copies whose completion
                                     * was not "read" yet. */
    uint16_t dev_room;              /* Device copies that surely fit before
                                     * the next doorbell: the device's burst
                                     * capacity when last asked, less the
                                     * copies since (0: ask again). */
    long long int stalled_since;    /* When polls started to find nothing
                                     * with copies on the device, or 0. */
    unsigned int consecutive_errors;
    uint64_t ok_streak;             /* Device copies done since a retry. */

    atomic_int state;               /* enum dsa_engine_state. */
    atomic_int reason;              /* enum dsa_engine_reason. */
    atomic_llong retry_at;          /* When to try the device again. */
    unsigned int backoff_ms;        /* Next quarantine's length; 0: base. */
    atomic_int stop_error;          /* DSA_ENGINE_FAILED: positive errno of
                                     * the failed stop. */
    atomic_uint32_t stranded;       /* DSA_ENGINE_FAILED: copies left on the
                                     * device, never reported. */

    uint64_t faults_gen;            /* dsa_faults_gen last picked up. */
    struct dsa_faults faults;       /* Those that apply to this channel. */
    uint64_t seq;                   /* Device copies since they were set. */
    uint32_t err_acc;               /* Accumulators of the injected */
    uint32_t full_acc;              /* rates. */

    atomic_uint64_t st[DSA_ENGINE_N_STATS];  /* enum dsa_engine_stat. */
    uint64_t base[DSA_ENGINE_N_STATS];  /* Values at the last clear (main
                                         * thread). */
};

/* Engines installed over DPDK dmadevs, by dmadev id (main thread). */
static struct dsa_engine *dsa_engines[RTE_DMADEV_DEFAULT_MAX];

/* Names of the counters (enum dsa_engine_stat), in dsa/stats-show, its
 * JSON form and the tools that read it. */
const char *const dsa_engine_stat_names[DSA_ENGINE_N_STATS] = {
    [DSA_ENGINE_STAT_DMA] = "dma-copies",
    [DSA_ENGINE_STAT_CPU_SMALL] = "below-threshold",
    [DSA_ENGINE_STAT_CPU_FULL] = "ring-full",
    [DSA_ENGINE_STAT_CPU_QUARANTINE] = "quarantined",
    [DSA_ENGINE_STAT_CPU_INLINE] = "inline",
    [DSA_ENGINE_STAT_SKIPPED] = "skipped",
    [DSA_ENGINE_STAT_ERRORS] = "errors",
    [DSA_ENGINE_STAT_REDONE] = "redone",
    [DSA_ENGINE_STAT_LOST] = "lost",
    [DSA_ENGINE_STAT_QUARANTINES] = "quarantines",
    [DSA_ENGINE_STAT_WEDGES] = "wedged",
    [DSA_ENGINE_STAT_INJ_ERRORS] = "injected-errors",
    [DSA_ENGINE_STAT_INJ_FULL] = "injected-ring-full",
};

/* Adds one to counter 'type' of 'e', whose single writer of the moment is
 * the caller: no atomic read-modify-write is needed. */
static inline void
dsa_stat_inc(struct dsa_engine *e, enum dsa_engine_stat type)
{
    uint64_t v;

    atomic_read_relaxed(&e->st[type], &v);
    atomic_store_relaxed(&e->st[type], v + 1);
}

static uint64_t
dsa_cnt_get(const atomic_uint64_t *c_)
{
    atomic_uint64_t *c = CONST_CAST(atomic_uint64_t *, c_);
    uint64_t v;

    atomic_read_relaxed(c, &v);
    return v;
}

/* Stores in 'v' the counters of 'e' since they were last cleared, indexed
 * by enum dsa_engine_stat. */
void
dsa_engine_read_counters(const struct dsa_engine *e,
                         uint64_t v[DSA_ENGINE_N_STATS])
{
    for (size_t i = 0; i < DSA_ENGINE_N_STATS; i++) {
        v[i] = dsa_cnt_get(&e->st[i]) - e->base[i];
    }
}

/* Returns the copies the CPU did, of counters 'v'. */
static uint64_t
dsa_engine_cpu_copies(const uint64_t v[DSA_ENGINE_N_STATS])
{
    uint64_t n = 0;

    for (int i = DSA_ENGINE_STAT_CPU_FIRST; i <= DSA_ENGINE_STAT_CPU_LAST;
         i++) {
        n += v[i];
    }
    return n;
}

/* Sets the copy policy: copies shorter than 'threshold' bytes go to the
 * CPU; a channel with copies in flight that completes nothing for
 * 'watchdog_ms' is quarantined; quarantines last 'quarantine_ms' at first. */
void
dsa_engine_set_policy(unsigned int threshold, unsigned int watchdog_ms,
                      unsigned int quarantine_ms)
{
    atomic_store_relaxed(&dsa_threshold, threshold);
    atomic_store_relaxed(&dsa_watchdog_ms, watchdog_ms);
    atomic_store_relaxed(&dsa_quarantine_ms, quarantine_ms);
}

void
dsa_engine_set_model(enum dsa_engine_model model)
{
    atomic_store_relaxed(&dsa_model, model);
}

/* Converts 'ns' to TSC cycles (0 where the TSC rate is unknown: without
 * DPDK's EAL, as in the unit tests). */
static uint64_t
dsa_ns_to_tsc(unsigned int ns)
{
    return (uint64_t) ns * rte_get_tsc_hz() / 1000000000;
}

/* Sets what the "cost" model charges. */
void
dsa_engine_set_cost(const struct dsa_engine_cost *cost)
    OVS_EXCLUDED(dsa_cost_mutex)
{
    ovs_mutex_lock(&dsa_cost_mutex);
    dsa_cost = *cost;
    atomic_store_relaxed(&dsa_cost_desc_tsc, dsa_ns_to_tsc(cost->desc_ns));
    atomic_store_relaxed(&dsa_cost_doorbell_tsc,
                         dsa_ns_to_tsc(cost->doorbell_ns));
    atomic_store_relaxed(&dsa_cost_completion_tsc,
                         dsa_ns_to_tsc(cost->completion_ns));
    ovs_mutex_unlock(&dsa_cost_mutex);
}

/* Stores what the "cost" model charges in '*cost'. */
void
dsa_engine_get_cost(struct dsa_engine_cost *cost)
    OVS_EXCLUDED(dsa_cost_mutex)
{
    ovs_mutex_lock(&dsa_cost_mutex);
    *cost = dsa_cost;
    ovs_mutex_unlock(&dsa_cost_mutex);
}

/* Busy-waits for the charge in 'tsc' (one of dsa_cost_*_tsc): the cost
 * model's stand-in for a step of a real device's driver. */
static void
dsa_cost_charge(atomic_uint64_t *tsc)
{
    uint64_t cycles;

    atomic_read_relaxed(tsc, &cycles);
    if (cycles) {
        uint64_t end = rte_rdtsc() + cycles;

        while (rte_rdtsc() < end) {
            continue;
        }
    }
}

enum dsa_engine_model
dsa_engine_get_model(void)
{
    int model;

    atomic_read_relaxed(&dsa_model, &model);
    return model;
}

const char *
dsa_engine_model_name(enum dsa_engine_model model)
{
    switch (model) {
    case DSA_MODEL_DEVICE:
        return "device";
    case DSA_MODEL_INLINE:
        return "inline";
    case DSA_MODEL_IDEAL:
        return "ideal";
    case DSA_MODEL_COST:
        return "cost";
    }
    return "?";
}

/* Replaces the injected faults with 'f' (counting starts again). */
void
dsa_engine_set_faults(const struct dsa_faults *f)
    OVS_EXCLUDED(dsa_faults_mutex)
{
    uint64_t orig;

    ovs_mutex_lock(&dsa_faults_mutex);
    dsa_faults = *f;
    ovs_mutex_unlock(&dsa_faults_mutex);
    atomic_add(&dsa_faults_gen, 1, &orig);
}

void
dsa_engine_get_faults(struct dsa_faults *f)
    OVS_EXCLUDED(dsa_faults_mutex)
{
    ovs_mutex_lock(&dsa_faults_mutex);
    *f = dsa_faults;
    ovs_mutex_unlock(&dsa_faults_mutex);
}

/* Parses a percentage "P" (0..100, up to 4 decimals) into parts per
 * million. */
static bool
dsa_parse_ppm(const char *s, uint32_t *ppm)
{
    double pct;
    char *end;

    pct = strtod(s, &end);
    if (end == s || *end || !(pct >= 0.0 && pct <= 100.0)) {
        return false;
    }
    *ppm = pct * 10000.0 + 0.5;
    return true;
}

/* Parses the arguments of dsa/inject-fault into 'f' (which starts
 * cleared): "clear", or any of error-rate=PCT, error-seq=FIRST[-LAST],
 * ring-full=PCT, wedge=on|off, stop-fails=on|off, channel=DMADEV.  Returns
 * NULL, or an error message the caller frees. */
char *
dsa_faults_parse(int argc, const char *argv[], struct dsa_faults *f)
{
    memset(f, 0, sizeof *f);
    f->dev_id = -1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        const char *v = eq ? eq + 1 : "";
        unsigned long long int a, b;
        int n = 0;

        if (!strcmp(arg, "clear")) {
            continue;
        } else if (!strncmp(arg, "error-rate=", 11)) {
            if (!dsa_parse_ppm(v, &f->error_ppm)) {
                return xasprintf("%s: expected a percentage 0..100", arg);
            }
        } else if (!strncmp(arg, "ring-full=", 10)) {
            if (!dsa_parse_ppm(v, &f->full_ppm)) {
                return xasprintf("%s: expected a percentage 0..100", arg);
            }
        } else if (!strncmp(arg, "error-seq=", 10)) {
            if (ovs_scan(v, "%llu-%llu%n", &a, &b, &n) && !v[n]
                && a >= 1 && b >= a) {
                f->seq_first = a;
                f->seq_last = b;
            } else if (ovs_scan(v, "%llu%n", &a, &n) && !v[n] && a >= 1) {
                f->seq_first = f->seq_last = a;
            } else {
                return xasprintf("%s: expected FIRST[-LAST], counted from 1",
                                 arg);
            }
        } else if (!strncmp(arg, "wedge=", 6)) {
            if (strcmp(v, "on") && strcmp(v, "off")) {
                return xasprintf("%s: expected on or off", arg);
            }
            f->wedge = !strcmp(v, "on");
        } else if (!strncmp(arg, "stop-fails=", 11)) {
            if (strcmp(v, "on") && strcmp(v, "off")) {
                return xasprintf("%s: expected on or off", arg);
            }
            f->stop_fails = !strcmp(v, "on");
        } else if (!strncmp(arg, "channel=", 8)) {
            int id = rte_dma_get_dev_id_by_name(v);

            if (id < 0) {
                return xasprintf("%s: no such DMA device", arg);
            }
            f->dev_id = id;
        } else {
            return xasprintf("%s: unknown fault", arg);
        }
    }
    return NULL;
}

/* Appends 'f' to 's' as " error-rate=... ring-full=..." (or " none"). */
void
dsa_faults_format(const struct dsa_faults *f, struct ds *s)
{
    size_t len = s->length;

    if (f->error_ppm) {
        ds_put_format(s, " error-rate=%g%%", f->error_ppm / 10000.0);
    }
    if (f->seq_first) {
        ds_put_format(s, " error-seq=%"PRIu64"-%"PRIu64, f->seq_first,
                      f->seq_last);
    }
    if (f->full_ppm) {
        ds_put_format(s, " ring-full=%g%%", f->full_ppm / 10000.0);
    }
    if (f->wedge) {
        ds_put_cstr(s, " wedge=on");
    }
    if (f->stop_fails) {
        ds_put_cstr(s, " stop-fails=on");
    }
    if (s->length == len) {
        ds_put_cstr(s, " none");
    } else if (f->dev_id >= 0) {
        ds_put_format(s, " (dmadev %d only)", f->dev_id);
    }
}

/* Picks up injected faults changed since the engine last looked. */
static inline void
dsa_engine_faults_sync(struct dsa_engine *e)
    OVS_EXCLUDED(dsa_faults_mutex)
{
    uint64_t gen;

    atomic_read_relaxed(&dsa_faults_gen, &gen);
    if (OVS_UNLIKELY(gen != e->faults_gen)) {
        ovs_mutex_lock(&dsa_faults_mutex);
        e->faults_gen = gen;
        if (dsa_faults.dev_id < 0 || dsa_faults.dev_id == e->dev_id) {
            e->faults = dsa_faults;
        } else {
            memset(&e->faults, 0, sizeof e->faults);
        }
        e->seq = 0;
        e->err_acc = e->full_acc = 0;
        ovs_mutex_unlock(&dsa_faults_mutex);
    }
}

/* Returns true once every 1000000 / 'ppm' calls, exactly, keeping the
 * remainder in '*acc'. */
static inline bool
dsa_fault_hit(uint32_t ppm, uint32_t *acc)
{
    if (OVS_LIKELY(!ppm)) {
        return false;
    }
    *acc += ppm;
    if (*acc >= 1000000) {
        *acc -= 1000000;
        return true;
    }
    return false;
}

static long long int
dsa_engine_now(const struct dsa_engine *e)
{
    return e->ctl.now();
}

/* Copies 'op' on the CPU.  Returns false if it cannot be done (the IOVAs
 * cannot be translated), having counted it lost. */
static bool
dsa_engine_cpu_copy(struct dsa_engine *e, const struct dsa_op *op)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    if (OVS_LIKELY(dsa_iova_cpu_copy(op->dst, op->src, op->len))) {
        return true;
    }
    dsa_stat_inc(e, DSA_ENGINE_STAT_LOST);
    COVERAGE_INC(dsa_engine_lost);
    VLOG_ERR_RL(&rl, "DMA channel %s: cannot translate IOVA 0x%"PRIx64
                " or 0x%"PRIx64" for a CPU copy: %"PRIu32" bytes not copied",
                e->name, (uint64_t) op->src, (uint64_t) op->dst, op->len);
    return false;
}

/* Redoes on the CPU the copies still on the (stopped or failing) device,
 * and forgets them there. */
static void
dsa_engine_redo_device_copies(struct dsa_engine *e)
{
    uint16_t head;

    atomic_read_relaxed(&e->head, &head);
    for (uint16_t i = e->scan; i != head; i++) {
        struct dsa_op *op = &e->ops[i & e->mask];

        if (op->state == DSA_OP_DEVICE) {
            dsa_engine_cpu_copy(e, op);
            dsa_stat_inc(e, DSA_ENGINE_STAT_REDONE);
            op->state = DSA_OP_DONE;
        }
    }
    e->scan = head;
    e->n_dev = 0;
    e->doorbell = false;
    e->dev_room = 0;
    e->stalled_since = 0;
}

/* Returns a description of quarantine reason 'reason'. */
static const char *
dsa_engine_reason_str(int reason)
{
    return (reason == DSA_REASON_WEDGED ? "completed nothing in time"
            : reason == DSA_REASON_ERRORS ? "copies kept failing"
            : "restart failed");
}

/* Takes the channel out of service for good: stopping its device (to
 * quarantine it for 'reason') failed with positive errno 'err'.  The device
 * may still write into the buffers of the copies it holds, so they are
 * neither redone nor ever reported complete: vhost keeps their buffers
 * (and, completions being reported in order, every later copy of the
 * channel would wait behind them, so the channel takes none while any is
 * left).  The device is never used again: it is not harvested nor
 * restarted.  Logged once, at ERR. */
static void
dsa_engine_fail(struct dsa_engine *e, enum dsa_engine_reason reason, int err)
{
    COVERAGE_INC(dsa_engine_stop_failed);
    atomic_store_relaxed(&e->stop_error, err);
    atomic_store_relaxed(&e->stranded, e->n_dev);
    atomic_store_relaxed(&e->reason, reason);
    atomic_store_relaxed(&e->state, DSA_ENGINE_FAILED);
    e->doorbell = false;
    e->stalled_since = 0;
    if (e->n_dev) {
        VLOG_ERR("DMA channel %s out of service: stopping it failed (%s) "
                 "after %s; its %"PRIu32" copies on the device are never "
                 "reported complete (it may still write into their "
                 "buffers) and the channel takes no more copies", e->name,
                 ovs_strerror(err),
                 reason == DSA_REASON_WEDGED ? "it completed nothing in time"
                 : "its copies kept failing", e->n_dev);
    } else {
        VLOG_ERR("DMA channel %s out of service: stopping it failed (%s) "
                 "after %s; nothing was left on it: the CPU does its copies "
                 "from now on", e->name, ovs_strerror(err),
                 reason == DSA_REASON_WEDGED ? "it completed nothing in time"
                 : "its copies kept failing");
    }
}

/* Stops the device and quarantines the channel for 'reason'.  If the
 * device cannot be stopped, the channel goes out of service instead. */
static void
dsa_engine_quarantine(struct dsa_engine *e, enum dsa_engine_reason reason)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    unsigned int base;
    int err;

    atomic_read_relaxed(&dsa_quarantine_ms, &base);
    base = MAX(base, 1);
    if (!e->backoff_ms) {
        e->backoff_ms = base;
    }

    /* A stopped device writes no more: only then may the CPU redo its
     * copies and their buffers go back to their owners. */
    err = (OVS_UNLIKELY(e->faults.stop_fails) ? EIO
           : e->ctl.stop(e->dev_id));
    if (err) {
        dsa_engine_fail(e, reason, err < 0 ? -err : err);
        return;
    }
    dsa_engine_redo_device_copies(e);

    atomic_store_relaxed(&e->state, DSA_ENGINE_QUARANTINED);
    atomic_store_relaxed(&e->reason, reason);
    atomic_store_relaxed(&e->retry_at, dsa_engine_now(e) + e->backoff_ms);
    dsa_stat_inc(e, DSA_ENGINE_STAT_QUARANTINES);
    COVERAGE_INC(dsa_engine_quarantine);
    if (reason == DSA_REASON_WEDGED) {
        dsa_stat_inc(e, DSA_ENGINE_STAT_WEDGES);
        COVERAGE_INC(dsa_engine_wedge);
    }
    VLOG_WARN_RL(&rl, "DMA channel %s quarantined (%s): its copies are "
                 "done by the CPU, device retried in %u ms", e->name,
                 reason == DSA_REASON_WEDGED ? "completed nothing in time"
                 : reason == DSA_REASON_ERRORS ? "copies keep failing"
                 : "restart failed", e->backoff_ms);
    e->backoff_ms = MIN(e->backoff_ms * 2, base * DSA_ENGINE_MAX_BACKOFF);
    e->consecutive_errors = 0;
    e->ok_streak = 0;
}

/* Tries a quarantined channel's device again. */
static void
dsa_engine_retry(struct dsa_engine *e, uint16_t vchan)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    uint16_t last;
    int err;

    COVERAGE_INC(dsa_engine_retry);
    err = e->ctl.start(e->dev_id);
    if (err) {
        atomic_store_relaxed(&e->reason, DSA_REASON_RESTART);
        atomic_store_relaxed(&e->retry_at,
                             dsa_engine_now(e) + e->backoff_ms);
        VLOG_WARN_RL(&rl, "DMA channel %s: restart failed (%s), retried "
                     "in %u ms", e->name, ovs_strerror(err < 0 ? -err : err),
                     e->backoff_ms);
        return;
    }
    /* Whatever the device still reports belongs to copies already redone
     * (a restarted device may also have forgotten them). */
    e->dev_room = 0;
    for (int i = 0; i < 64; i++) {
        if (!e->dev.completed_status(e->dev.dev_private, vchan, e->size,
                                     &last, e->status)) {
            break;
        }
    }
    atomic_store_relaxed(&e->state, DSA_ENGINE_ACTIVE);
    atomic_store_relaxed(&e->reason, DSA_REASON_NONE);
    VLOG_INFO_RL(&rl, "DMA channel %s: device in use again after "
                 "quarantine", e->name);
}

/* Harvests the device's completions: failed copies are redone on the CPU;
 * a device that keeps failing or completes nothing is quarantined. */
static void
dsa_engine_harvest(struct dsa_engine *e, uint16_t vchan)
{
    uint16_t n = 0, last, tail;
    int state;

    atomic_read_relaxed(&e->state, &state);
    if (!e->n_dev || OVS_UNLIKELY(state == DSA_ENGINE_FAILED)) {
        /* (A device that could not be stopped is never used again.) */
        return;
    }
    atomic_read_relaxed(&e->tail, &tail);
    if ((int16_t) (tail - e->scan) > 0) {
        e->scan = tail;
    }
    if (OVS_LIKELY(!e->faults.wedge)) {
        n = e->dev.completed_status(e->dev.dev_private, vchan,
                                    MIN(e->n_dev, e->size), &last,
                                    e->status);
    }
    for (uint16_t k = 0; k < n; k++) {
        struct dsa_op *op;

        while (e->ops[e->scan & e->mask].state != DSA_OP_DEVICE) {
            e->scan++;
        }
        op = &e->ops[e->scan & e->mask];
        if (OVS_UNLIKELY(e->status[k] != RTE_DMA_STATUS_SUCCESSFUL
                         || op->fail)) {
            if (op->fail && dsa_iova_is_va()) {
                /* What a failed copy may leave behind: garbage. */
                memset((void *) (uintptr_t) op->dst, 0xee, op->len);
            }
            dsa_engine_cpu_copy(e, op);
            dsa_stat_inc(e, DSA_ENGINE_STAT_ERRORS);
            dsa_stat_inc(e, DSA_ENGINE_STAT_REDONE);
            COVERAGE_INC(dsa_engine_copy_error);
            e->consecutive_errors++;
        } else {
            dsa_stat_inc(e, DSA_ENGINE_STAT_DMA);
            e->consecutive_errors = 0;
            if (++e->ok_streak == DSA_ENGINE_RECOVERED) {
                e->backoff_ms = 0;
            }
        }
        op->state = DSA_OP_DONE;
        e->scan++;
        e->n_dev--;
    }

    if (OVS_UNLIKELY(e->consecutive_errors >= DSA_ENGINE_MAX_ERRORS)) {
        dsa_engine_quarantine(e, DSA_REASON_ERRORS);
    } else if (n || !e->n_dev) {
        e->stalled_since = 0;
    } else {
        long long int now = dsa_engine_now(e);
        unsigned int watchdog;

        atomic_read_relaxed(&dsa_watchdog_ms, &watchdog);
        if (!e->stalled_since) {
            e->stalled_since = now;
        } else if (now - e->stalled_since >= watchdog) {
            dsa_engine_quarantine(e, DSA_REASON_WEDGED);
        }
    }
}

/* Fast path: free entries in the layer's ring.  A full device ring does
 * not count: such copies go to the CPU.  None while copies are stranded on
 * a device that could not be stopped. */
static uint16_t
dsa_engine_burst_capacity(const void *priv, uint16_t vchan OVS_UNUSED)
{
    struct dsa_engine *e = CONST_CAST(struct dsa_engine *, priv);
    uint16_t head, tail;
    int state;

    atomic_read_relaxed(&e->state, &state);
    if (OVS_UNLIKELY(state == DSA_ENGINE_FAILED) && e->n_dev) {
        return 0;
    }
    atomic_read_relaxed(&e->head, &head);
    atomic_read_relaxed(&e->tail, &tail);
    return e->size - (uint16_t) (head - tail);
}

/* Fast path: rings the device's doorbell if it has copies not yet
 * submitted. */
static int
dsa_engine_submit(void *priv, uint16_t vchan)
{
    struct dsa_engine *e = priv;

    if (OVS_UNLIKELY(e->cost_doorbell)) {
        e->cost_doorbell = false;
        dsa_cost_charge(&dsa_cost_doorbell_tsc);
    }
    if (e->doorbell) {
        e->doorbell = false;
        return e->dev.submit(e->dev.dev_private, vchan);
    }
    return 0;
}

/* Asks the device how many more copies it takes now, ringing its doorbell
 * first if copies wait for it.  The device's burst capacity counts the
 * room in its ring and in its current batch: idxd puts every copy until
 * the doorbell in one batch descriptor, and DSA rejects a batch larger than
 * its max_batch_size whole, which idxd does not check when it takes a
 * copy.  vhost only sees the layer's (larger) capacity and may hand over
 * more copies than that before it rings, so the layer rings in between. */
static uint16_t
dsa_engine_dev_room(struct dsa_engine *e, uint16_t vchan)
{
    if (e->doorbell) {
        dsa_engine_submit(e, vchan);
    }
    e->dev_room = (e->dev.burst_capacity
                   ? e->dev.burst_capacity(e->dev.dev_private, vchan)
                   : UINT16_MAX);
    return e->dev_room;
}

/* Hands copy 'op' (index 'head') to the device, or, if the device refuses
 * it, does it on the CPU. */
static void
dsa_engine_device_copy(struct dsa_engine *e, struct dsa_op *op,
                       uint16_t vchan, uint16_t head, uint64_t flags)
{
    int idx;

    if (OVS_UNLIKELY(dsa_fault_hit(e->faults.full_ppm, &e->full_acc))) {
        dsa_stat_inc(e, DSA_ENGINE_STAT_INJ_FULL);
        idx = -ENOSPC;
    } else if (OVS_UNLIKELY(!e->dev_room) && !dsa_engine_dev_room(e, vchan)) {
        idx = -ENOSPC;
    } else {
        idx = e->dev.copy(e->dev.dev_private, vchan, op->src, op->dst,
                          op->len, flags & ~RTE_DMA_OP_FLAG_SUBMIT);
    }
    if (OVS_LIKELY(idx >= 0)) {
        e->dev_room--;
        if (!e->n_dev++) {
            e->scan = head;
        }
        e->doorbell = true;
        op->state = DSA_OP_DEVICE;
        e->seq++;
        if (OVS_UNLIKELY(dsa_fault_hit(e->faults.error_ppm, &e->err_acc)
                         || (e->seq >= e->faults.seq_first
                             && e->seq <= e->faults.seq_last))) {
            op->fail = true;
            dsa_stat_inc(e, DSA_ENGINE_STAT_INJ_ERRORS);
        }
    } else if (idx == -ENOSPC) {
        COVERAGE_INC(dsa_engine_ring_full);
        dsa_engine_cpu_copy(e, op);
        dsa_stat_inc(e, DSA_ENGINE_STAT_CPU_FULL);
    } else {
        COVERAGE_INC(dsa_engine_copy_error);
        dsa_engine_cpu_copy(e, op);
        dsa_stat_inc(e, DSA_ENGINE_STAT_ERRORS);
        dsa_stat_inc(e, DSA_ENGINE_STAT_REDONE);
    }
}

/* Fast path: takes one copy and decides who does it.  Returns the copy's
 * index in the layer's ring, or -ENOSPC if the ring is full. */
static int
dsa_engine_copy(void *priv, uint16_t vchan, rte_iova_t src, rte_iova_t dst,
                uint32_t len, uint64_t flags)
{
    struct dsa_engine *e = priv;
    uint16_t head, tail;
    struct dsa_op *op;
    uint32_t threshold;
    int model, state;

    atomic_read_relaxed(&e->head, &head);
    atomic_read_relaxed(&e->tail, &tail);
    atomic_read_relaxed(&e->state, &state);
    if (OVS_UNLIKELY((uint16_t) (head - tail) >= e->size)
        || OVS_UNLIKELY(state == DSA_ENGINE_FAILED && e->n_dev)) {
        /* (Behind a copy stranded on a device that could not be stopped,
         * a copy could never be reported.) */
        return -ENOSPC;
    }
    dsa_engine_faults_sync(e);

    op = &e->ops[head & e->mask];
    op->src = src;
    op->dst = dst;
    op->len = len;
    op->state = DSA_OP_DONE;
    op->fail = false;

    atomic_read_relaxed(&dsa_model, &model);
    atomic_read_relaxed(&dsa_threshold, &threshold);
    if (OVS_UNLIKELY(model == DSA_MODEL_INLINE)) {
        dsa_engine_cpu_copy(e, op);
        dsa_stat_inc(e, DSA_ENGINE_STAT_CPU_INLINE);
    } else if (OVS_UNLIKELY(model == DSA_MODEL_IDEAL)) {
        dsa_stat_inc(e, DSA_ENGINE_STAT_SKIPPED);
    } else if (len < threshold && dsa_iova_cpu_copy(dst, src, len)) {
        /* (A copy the CPU cannot translate may still go to the device.) */
        dsa_stat_inc(e, DSA_ENGINE_STAT_CPU_SMALL);
    } else if (OVS_UNLIKELY(model == DSA_MODEL_COST)) {
        /* What the device would have taken: its descriptor's cost now, the
         * doorbell's at submit, the completion's at the next poll. */
        dsa_cost_charge(&dsa_cost_desc_tsc);
        e->cost_doorbell = e->cost_pending = true;
        dsa_stat_inc(e, DSA_ENGINE_STAT_SKIPPED);
    } else if (OVS_UNLIKELY(state != DSA_ENGINE_ACTIVE)) {
        dsa_engine_cpu_copy(e, op);
        dsa_stat_inc(e, DSA_ENGINE_STAT_CPU_QUARANTINE);
    } else {
        dsa_engine_device_copy(e, op, vchan, head, flags);
    }
    atomic_store_relaxed(&e->head, (uint16_t) (head + 1));
    if (flags & RTE_DMA_OP_FLAG_SUBMIT) {
        dsa_engine_submit(e, vchan);
    }
    return head;
}

/* Fast path: reports up to 'nb_cpls' copies done, in submission order,
 * the last one's index in '*last_idx'.  Never reports an error: failed
 * copies were redone. */
static uint16_t
dsa_engine_completed_status(void *priv, uint16_t vchan, uint16_t nb_cpls,
                            uint16_t *last_idx,
                            enum rte_dma_status_code *status)
{
    struct dsa_engine *e = priv;
    uint16_t head, tail, n = 0;
    int state;

    dsa_engine_faults_sync(e);
    dsa_engine_harvest(e, vchan);
    if (OVS_UNLIKELY(e->cost_pending)) {
        e->cost_pending = false;
        dsa_cost_charge(&dsa_cost_completion_tsc);
    }
    atomic_read_relaxed(&e->state, &state);
    if (OVS_UNLIKELY(state == DSA_ENGINE_QUARANTINED)) {
        long long int retry_at;

        atomic_read_relaxed(&e->retry_at, &retry_at);
        if (dsa_engine_now(e) >= retry_at) {
            dsa_engine_retry(e, vchan);
        }
    }

    atomic_read_relaxed(&e->head, &head);
    atomic_read_relaxed(&e->tail, &tail);
    while (n < nb_cpls && tail != head
           && e->ops[tail & e->mask].state == DSA_OP_DONE) {
        if (status) {
            status[n] = RTE_DMA_STATUS_SUCCESSFUL;
        }
        tail++;
        n++;
    }
    atomic_store_relaxed(&e->tail, tail);
    *last_idx = tail - 1;
    return n;
}

static uint16_t
dsa_engine_completed(void *priv, uint16_t vchan, uint16_t nb_cpls,
                     uint16_t *last_idx, bool *has_error)
{
    *has_error = false;
    return dsa_engine_completed_status(priv, vchan, nb_cpls, last_idx, NULL);
}

/* Fast path: not used by vhost; not offered. */
static int
dsa_engine_copy_sg(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
                   const struct rte_dma_sge *src OVS_UNUSED,
                   const struct rte_dma_sge *dst OVS_UNUSED,
                   uint16_t nb_src OVS_UNUSED, uint16_t nb_dst OVS_UNUSED,
                   uint64_t flags OVS_UNUSED)
{
    return -ENOTSUP;
}

static int
dsa_engine_fill(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
                uint64_t pattern OVS_UNUSED, rte_iova_t dst OVS_UNUSED,
                uint32_t len OVS_UNUSED, uint64_t flags OVS_UNUSED)
{
    return -ENOTSUP;
}

/* Returns a layer over device fast path 'dev' (dmadev 'dev_id', named
 * 'name'), whose ring has room for 'max_desc' copies (the
 * dmadev's max_desc: vhost sizes its own table after it, and the layer's
 * ring must not be larger). */
struct dsa_engine *
dsa_engine_create(const char *name, int16_t dev_id,
                  const struct rte_dma_fp_object *dev, unsigned int max_desc,
                  const struct dsa_engine_ctl *ctl)
{
    struct dsa_engine *e = xzalloc(sizeof *e);
    uint32_t size = 1;

    while (size < max_desc && size < DSA_ENGINE_MAX_RING) {
        size *= 2;
    }
    if (size > max_desc && size > 1) {
        /* Not a power of 2: vhost rounds up, the layer must not. */
        size /= 2;
    }
    e->dev = *dev;
    e->ctl = *ctl;
    ovs_strlcpy(e->name, name, sizeof e->name);
    e->dev_id = dev_id;
    e->size = size;
    e->mask = size - 1;
    e->ops = xcalloc(size, sizeof *e->ops);
    e->status = xcalloc(size, sizeof *e->status);
    atomic_init(&e->head, 0);
    atomic_init(&e->tail, 0);
    atomic_init(&e->state, DSA_ENGINE_ACTIVE);
    atomic_init(&e->reason, DSA_REASON_NONE);
    atomic_init(&e->retry_at, 0);
    atomic_init(&e->stop_error, 0);
    atomic_init(&e->stranded, 0);
    return e;
}

/* The engine whose fast path dmadev N's entry holds, by dmadev id: the
 * layer's functions of id N (below) find their engine here. */
static struct dsa_engine *dsa_engine_slots[RTE_DMADEV_DEFAULT_MAX];

/* The layer's fast-path functions for dmadev N.  DPDK calls a fast-path
 * function with its entry's 'dev_private' only, and that must stay the
 * device's own: drivers read their state from it in their control calls
 * too (idxd's start, stop, info, stats, vchan status and dump use
 * dev->fp_obj->dev_private, which is the entry).  So each dmadev id has
 * functions of its own, which find their engine by that id. */
#define DSA_ENGINE_SLOT(N)                                                  \
    static int                                                              \
    dsa_slot_copy_##N(void *p OVS_UNUSED, uint16_t vchan, rte_iova_t src,   \
                      rte_iova_t dst, uint32_t len, uint64_t flags)         \
    {                                                                       \
        return dsa_engine_copy(dsa_engine_slots[N], vchan, src, dst, len,   \
                               flags);                                      \
    }                                                                       \
    static int                                                              \
    dsa_slot_copy_sg_##N(void *p OVS_UNUSED, uint16_t vchan,                \
                         const struct rte_dma_sge *src,                     \
                         const struct rte_dma_sge *dst, uint16_t nb_src,    \
                         uint16_t nb_dst, uint64_t flags)                   \
    {                                                                       \
        return dsa_engine_copy_sg(dsa_engine_slots[N], vchan, src, dst,     \
                                  nb_src, nb_dst, flags);                   \
    }                                                                       \
    static int                                                              \
    dsa_slot_fill_##N(void *p OVS_UNUSED, uint16_t vchan, uint64_t pattern, \
                      rte_iova_t dst, uint32_t len, uint64_t flags)         \
    {                                                                       \
        return dsa_engine_fill(dsa_engine_slots[N], vchan, pattern, dst,    \
                               len, flags);                                 \
    }                                                                       \
    static int                                                              \
    dsa_slot_submit_##N(void *p OVS_UNUSED, uint16_t vchan)                 \
    {                                                                       \
        return dsa_engine_submit(dsa_engine_slots[N], vchan);               \
    }                                                                       \
    static uint16_t                                                         \
    dsa_slot_completed_##N(void *p OVS_UNUSED, uint16_t vchan,              \
                           uint16_t nb_cpls, uint16_t *last_idx,            \
                           bool *has_error)                                 \
    {                                                                       \
        return dsa_engine_completed(dsa_engine_slots[N], vchan, nb_cpls,    \
                                    last_idx, has_error);                   \
    }                                                                       \
    static uint16_t                                                         \
    dsa_slot_completed_status_##N(void *p OVS_UNUSED, uint16_t vchan,       \
                                  uint16_t nb_cpls, uint16_t *last_idx,     \
                                  enum rte_dma_status_code *status)         \
    {                                                                       \
        return dsa_engine_completed_status(dsa_engine_slots[N], vchan,      \
                                           nb_cpls, last_idx, status);      \
    }                                                                       \
    static uint16_t                                                         \
    dsa_slot_burst_capacity_##N(const void *p OVS_UNUSED, uint16_t vchan)   \
    {                                                                       \
        return dsa_engine_burst_capacity(dsa_engine_slots[N], vchan);       \
    }

/* The dmadev ids that have slot functions: every id DPDK gives by
 * default. */
#define DSA_ENGINE_SLOT_IDS(M) \
    M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) \
    M(13) M(14) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) \
    M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31) M(32) M(33) M(34) \
    M(35) M(36) M(37) M(38) M(39) M(40) M(41) M(42) M(43) M(44) M(45) \
    M(46) M(47) M(48) M(49) M(50) M(51) M(52) M(53) M(54) M(55) M(56) \
    M(57) M(58) M(59) M(60) M(61) M(62) M(63)

BUILD_ASSERT_DECL(RTE_DMADEV_DEFAULT_MAX == 64);

DSA_ENGINE_SLOT_IDS(DSA_ENGINE_SLOT)

/* The layer's functions of each dmadev id, in the members of an entry. */
#define DSA_ENGINE_SLOT_FP(N)                                               \
    [N] = {                                                                 \
        .copy = dsa_slot_copy_##N,                                          \
        .copy_sg = dsa_slot_copy_sg_##N,                                    \
        .fill = dsa_slot_fill_##N,                                          \
        .submit = dsa_slot_submit_##N,                                      \
        .completed = dsa_slot_completed_##N,                                \
        .completed_status = dsa_slot_completed_status_##N,                  \
        .burst_capacity = dsa_slot_burst_capacity_##N,                      \
    },
static const struct rte_dma_fp_object dsa_engine_slot_fp[] = {
    DSA_ENGINE_SLOT_IDS(DSA_ENGINE_SLOT_FP)
};

void
dsa_engine_destroy(struct dsa_engine *e)
{
    if (e) {
        if (e->dev_id >= 0 && e->dev_id < ARRAY_SIZE(dsa_engine_slots)
            && dsa_engine_slots[e->dev_id] == e) {
            dsa_engine_slots[e->dev_id] = NULL;
        }
        free(e->ops);
        free(e->status);
        free(e);
    }
}

/* Fills in 'obj' with the layer's fast path over 'e': the device's whole
 * entry (whatever members this DPDK has; dsa-compat.h checks the layout),
 * its 'dev_private' included, with the function members that the layer
 * implements replaced by those of the device's id; the others (DPDK
 * 25.11's enqueue and dequeue) stay the device's.  Returns 0, or EINVAL if
 * the device's id has no slot functions (the layer is then not used). */
int
dsa_engine_fast_path(struct dsa_engine *e, struct rte_dma_fp_object *obj)
{
    const struct rte_dma_fp_object *slot;

    if (e->dev_id < 0 || e->dev_id >= ARRAY_SIZE(dsa_engine_slot_fp)) {
        return EINVAL;
    }
    slot = &dsa_engine_slot_fp[e->dev_id];
    dsa_engine_slots[e->dev_id] = e;
    /* The engine is published before the entry that leads to it. */
    atomic_thread_fence(memory_order_release);
    *obj = e->dev;
#define DSA_ENGINE_TAKE(MEMBER) obj->MEMBER = slot->MEMBER;
    DSA_DMA_FP_LAYER_FUNCS(DSA_ENGINE_TAKE)
#undef DSA_ENGINE_TAKE
    return 0;
}

/* Returns the copies 'e' has not reported done yet. */
static uint16_t
dsa_engine_in_flight(const struct dsa_engine *e)
{
    uint16_t head, tail;

    atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->head, &head);
    atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->tail, &tail);
    return head - tail;
}

/* The state of an engine, as shown. */
struct dsa_engine_view {
    int state;                  /* enum dsa_engine_state. */
    const char *reason;         /* Why not in service. */
    long long int retry_in;     /* DSA_ENGINE_QUARANTINED: ms to the retry. */
    int stop_error;             /* DSA_ENGINE_FAILED: the stop's errno... */
    uint32_t stranded;          /* ...and the copies left on the device. */
};

/* Reads the state of 'e' into 'view'. */
static void
dsa_engine_view(const struct dsa_engine *e_, struct dsa_engine_view *view)
{
    struct dsa_engine *e = CONST_CAST(struct dsa_engine *, e_);
    long long int retry_at;
    int reason;

    memset(view, 0, sizeof *view);
    atomic_read_relaxed(&e->state, &view->state);
    atomic_read_relaxed(&e->reason, &reason);
    view->reason = dsa_engine_reason_str(reason);
    if (view->state == DSA_ENGINE_QUARANTINED) {
        atomic_read_relaxed(&e->retry_at, &retry_at);
        view->retry_in = MAX(retry_at - e->ctl.now(), 0);
    } else if (view->state == DSA_ENGINE_FAILED) {
        atomic_read_relaxed(&e->stop_error, &view->stop_error);
        atomic_read_relaxed(&e->stranded, &view->stranded);
    }
}

/* Appends the state of 'e' to 's' and, with 'stats', its counters, by the
 * names of dsa_engine_stat_names[]: the CPU's copies summed up as
 * "cpu-copies" and detailed in parentheses, the copies in flight before
 * the injected faults. */
void
dsa_engine_describe(const struct dsa_engine *e, struct ds *s, bool stats)
{
    uint64_t v[DSA_ENGINE_N_STATS];
    struct dsa_engine_view view;

    dsa_engine_view(e, &view);
    if (view.state == DSA_ENGINE_QUARANTINED) {
        ds_put_format(s, "quarantined (%s), device retried in %lld ms",
                      view.reason, view.retry_in);
    } else if (view.state == DSA_ENGINE_FAILED) {
        ds_put_format(s, "out of service (stop failed: %s; %s), ",
                      ovs_strerror(view.stop_error), view.reason);
        if (view.stranded) {
            ds_put_format(s, "%"PRIu32" copies left on the device",
                          view.stranded);
        } else {
            ds_put_cstr(s, "no copy left on the device");
        }
    } else {
        ds_put_cstr(s, "in service");
    }
    if (!stats) {
        return;
    }
    dsa_engine_read_counters(e, v);
    for (int i = 0; i < DSA_ENGINE_N_STATS; i++) {
        if (i == DSA_ENGINE_STAT_CPU_FIRST) {
            ds_put_format(s, ", cpu-copies %"PRIu64" (",
                          dsa_engine_cpu_copies(v));
        } else {
            if (i == DSA_ENGINE_STAT_INJ_ERRORS) {
                ds_put_format(s, ", in-flight %u", dsa_engine_in_flight(e));
            }
            ds_put_cstr(s, ", ");
        }
        ds_put_format(s, "%s %"PRIu64, dsa_engine_stat_names[i], v[i]);
        if (i == DSA_ENGINE_STAT_CPU_LAST) {
            ds_put_char(s, ')');
        }
    }
}

/* Returns the state of 'e' as a JSON object and, with 'stats', its
 * counters, by the names of dsa_engine_stat_names[], with "cpu-copies"
 * (their sum over the CPU's copies) and "in-flight".  "state" is one of
 * "in service", "quarantined" (with "reason" and "retry-in-ms") or "out of
 * service" (with "reason", "stop-error" and "stranded", the copies left on
 * the device). */
struct json *
dsa_engine_describe_json(const struct dsa_engine *e, bool stats)
{
    struct json *obj = json_object_create();
    uint64_t v[DSA_ENGINE_N_STATS];
    struct dsa_engine_view view;

    dsa_engine_view(e, &view);
    if (view.state == DSA_ENGINE_QUARANTINED) {
        json_object_put_string(obj, "state", "quarantined");
        json_object_put_string(obj, "reason", view.reason);
        json_object_put(obj, "retry-in-ms",
                        json_integer_create(view.retry_in));
    } else if (view.state == DSA_ENGINE_FAILED) {
        json_object_put_string(obj, "state", "out of service");
        json_object_put_string(obj, "reason", view.reason);
        json_object_put_string(obj, "stop-error",
                               ovs_strerror(view.stop_error));
        json_object_put(obj, "stranded", json_integer_create(view.stranded));
    } else {
        json_object_put_string(obj, "state", "in service");
    }
    if (!stats) {
        return obj;
    }
    dsa_engine_read_counters(e, v);
    for (int i = 0; i < DSA_ENGINE_N_STATS; i++) {
        json_object_put(obj, dsa_engine_stat_names[i],
                        json_integer_create(v[i]));
    }
    json_object_put(obj, "cpu-copies",
                    json_integer_create(dsa_engine_cpu_copies(v)));
    json_object_put(obj, "in-flight",
                    json_integer_create(dsa_engine_in_flight(e)));
    return obj;
}

/* dmadev control functions of the layer: DPDK's, with DPDK's negative
 * errno made positive. */
static int
dsa_engine_dev_stop(int16_t dev_id)
{
    return -rte_dma_stop(dev_id);
}

static int
dsa_engine_dev_start(int16_t dev_id)
{
    return -rte_dma_start(dev_id);
}

static const struct dsa_engine_ctl dsa_engine_dpdk_ctl = {
    .stop = dsa_engine_dev_stop,
    .start = dsa_engine_dev_start,
    .now = time_msec,
};

/* Installs the layer over running dmadev 'dev_id' (named 'name'), before
 * vhost uses it; the layer serves every vchan of the device.  Returns 0 or
 * a positive errno value. */
int
dsa_engine_install(int16_t dev_id, const char *name)
{
    struct rte_dma_info info;
    struct dsa_engine *e;
    int err;

    if (dev_id < 0 || dev_id >= ARRAY_SIZE(dsa_engines)) {
        return EINVAL;
    }
    if (dsa_engines[dev_id]) {
        return 0;
    }
    err = -rte_dma_info_get(dev_id, &info);
    if (err) {
        return err;
    }
    e = dsa_engine_create(name, dev_id, dsa_compat_dma_fp_entry(dev_id),
                          info.max_desc, &dsa_engine_dpdk_ctl);
    err = dsa_engine_fast_path(e, dsa_compat_dma_fp_entry(dev_id));
    if (err) {
        dsa_engine_destroy(e);
        return err;
    }
    dsa_engines[dev_id] = e;
    return 0;
}

/* Gives the device of 'e' back as the layer got it, running: a quarantine
 * stopped it, and its owner (the channel pool) stops it itself.  Nothing
 * may use the channel. */
void
dsa_engine_release(struct dsa_engine *e)
{
    int state;

    atomic_read_relaxed(&e->state, &state);
    if (state == DSA_ENGINE_QUARANTINED) {
        int err = e->ctl.start(e->dev_id);

        if (err) {
            VLOG_WARN("DMA channel %s: restarting it after its quarantine "
                      "failed (%s)", e->name,
                      ovs_strerror(err < 0 ? -err : err));
        }
        atomic_store_relaxed(&e->state, DSA_ENGINE_ACTIVE);
    }
}

/* Gives dmadev 'dev_id' its own fast path back, and its device as it was
 * when the layer was installed.  Nothing may use the channel. */
void
dsa_engine_uninstall(int16_t dev_id)
{
    struct dsa_engine *e;

    if (dev_id < 0 || dev_id >= ARRAY_SIZE(dsa_engines)
        || !dsa_engines[dev_id]) {
        return;
    }
    e = dsa_engines[dev_id];
    dsa_engine_release(e);
    *dsa_compat_dma_fp_entry(dev_id) = e->dev;
    dsa_engines[dev_id] = NULL;
    dsa_engine_destroy(e);
}

/* Returns true if dmadev 'dev_id''s layer has nothing more to report:
 * every copy handed to it was reported done, or it is out of service with
 * copies left on its device (they are never reported).  Racy: for drains,
 * which then look again. */
bool
dsa_engine_idle(int16_t dev_id)
{
    const struct dsa_engine *e;
    uint16_t head, tail;
    int state;

    if (dev_id < 0 || dev_id >= ARRAY_SIZE(dsa_engines)
        || !(e = dsa_engines[dev_id])) {
        return true;
    }
    atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->state, &state);
    if (state == DSA_ENGINE_FAILED) {
        uint32_t stranded;

        atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->stranded,
                            &stranded);
        if (stranded) {
            return true;
        }
    }
    atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->head, &head);
    atomic_read_relaxed(&CONST_CAST(struct dsa_engine *, e)->tail, &tail);
    return head == tail;
}

/* Appends the state (and counters, with 'stats') of dmadev 'dev_id''s
 * layer to 's'. */
void
dsa_engine_format(int16_t dev_id, struct ds *s, bool stats)
{
    if (dev_id >= 0 && dev_id < ARRAY_SIZE(dsa_engines)
        && dsa_engines[dev_id]) {
        dsa_engine_describe(dsa_engines[dev_id], s, stats);
    } else {
        ds_put_cstr(s, "no copy-policy layer");
    }
}

/* Returns the state (and counters, with 'stats') of dmadev 'dev_id''s
 * layer as JSON (see dsa_engine_describe_json()), or JSON null if it has
 * none. */
struct json *
dsa_engine_to_json(int16_t dev_id, bool stats)
{
    if (dev_id >= 0 && dev_id < ARRAY_SIZE(dsa_engines)
        && dsa_engines[dev_id]) {
        return dsa_engine_describe_json(dsa_engines[dev_id], stats);
    }
    return json_null_create();
}

/* Zeroes the counters of dmadev 'dev_id''s layer, as shown. */
void
dsa_engine_stats_clear(int16_t dev_id)
{
    struct dsa_engine *e;

    if (dev_id >= 0 && dev_id < ARRAY_SIZE(dsa_engines)
        && (e = dsa_engines[dev_id])) {
        for (size_t i = 0; i < DSA_ENGINE_N_STATS; i++) {
            e->base[i] = dsa_cnt_get(&e->st[i]);
        }
    }
}
