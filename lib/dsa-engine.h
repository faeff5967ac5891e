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

#ifndef DSA_ENGINE_H
#define DSA_ENGINE_H 1

#include <stdbool.h>
#include <stdint.h>

#include <rte_dmadev.h>

#include "ovs-atomic.h"

struct ds;
struct json;

/* The copy policy: a thin layer over each DMA channel's fast path.
 *
 * vhost drives a DMA channel through DPDK's dmadev fast-path calls (burst
 * capacity, copy, submit, completed), always under its own per-channel
 * lock.  DPDK 22.11's vhost has no size threshold, no CPU fallback and no
 * error handling.  This layer is installed in place of the channel's
 * fast-path functions, so vhost sees an ordinary dmadev while the layer
 * decides, copy by copy, whether the device or the CPU does it:
 *
 *   - copies shorter than dsa-copy-threshold bytes are done by the CPU;
 *   - a copy the device ring has no room for is done by the CPU;
 *   - a copy the device reports failed is redone by the CPU; a device that
 *     fails DSA_ENGINE_MAX_ERRORS copies in a row, or completes nothing for
 *     dsa-watchdog-ms while copies are in flight, is stopped (so it cannot
 *     write late) and quarantined: its copies in flight are redone by the
 *     CPU, new ones go to the CPU, and it is retried after dsa-quarantine-ms,
 *     doubling on every failed retry;
 *   - a device that cannot be stopped is out of service for good: the
 *     copies it holds are never reported (it may still write into their
 *     buffers), and while any is left the channel takes no more copies.
 *
 * Completions are reported to vhost in submission order, and a copy done
 * by the CPU is reported only once every device copy before it completed:
 * no packet is reordered and no descriptor reaches the guest before its
 * data.  The layer keeps its own ring of copy indices: the index vhost gets
 * back is the layer's, not the device's. */

/* Consecutive failed device copies that quarantine a channel. */
#define DSA_ENGINE_MAX_ERRORS 8

/* Successful device copies after which a retried channel counts as
 * recovered (the quarantine backoff starts again from its base). */
#define DSA_ENGINE_RECOVERED 1024

/* Backoff ceiling, as a multiple of dsa-quarantine-ms. */
#define DSA_ENGINE_MAX_BACKOFF 64

/* Who does the copies: the device (production), or, for tests and the
 * benchmark only (ovs-vswitchd --enable-dummy), a model of an engine. */
enum dsa_engine_model {
    DSA_MODEL_DEVICE,           /* The DMA device, with the policy above. */
    DSA_MODEL_INLINE,           /* Every copy by the CPU at submit time: the
                                 * cost of the asynchronous machinery. */
    DSA_MODEL_IDEAL,            /* Nothing copied, completed at once: an
                                 * infinitely fast engine (the payload is NOT
                                 * delivered). */
    DSA_MODEL_COST,             /* As the device policy, but a copy the
                                 * device would take is not copied: the
                                 * submitting thread is charged what a real
                                 * DSA costs its CPU instead (struct
                                 * dsa_engine_cost), and the copy completes
                                 * at the next poll.  The payload is NOT
                                 * delivered. */
};

/* What the "cost" model charges the calling thread, in nanoseconds of
 * busy-waiting, for the CPU-side steps of DPDK's idxd driver: writing a
 * copy's 64-byte descriptor into the batch ring, ringing the doorbell
 * (MOVDIR64B of the batch descriptor to the work queue's portal, after a
 * store fence) once per submitted burst, and reading a batch's completion
 * record, a cache line the device wrote, once per poll with copies
 * outstanding.  Estimates, not measurements: see docs/performance.md. */
struct dsa_engine_cost {
    unsigned int desc_ns;       /* Per copy: writing its descriptor. */
    unsigned int doorbell_ns;   /* Per submitted burst: the doorbell. */
    unsigned int completion_ns; /* Per poll with copies outstanding: reading
                                 * a completion record. */
};
#define DSA_ENGINE_COST_DEFAULT { 10, 150, 100 }

/* Faults to inject (tests only). */
struct dsa_faults {
    int16_t dev_id;             /* Channel, or -1 for every channel. */
    uint32_t error_ppm;         /* Device copies failed, per million. */
    uint64_t seq_first;         /* Device copies number seq_first..seq_last */
    uint64_t seq_last;          /* (from 1, since set) fail; 0: none. */
    uint32_t full_ppm;          /* Copies the device refuses as ring-full,
                                 * per million. */
    bool wedge;                 /* The device completes nothing. */
    bool stop_fails;            /* Stopping the device fails (EIO). */
};

/* Counters of one channel's layer, by index.  Each is written by one
 * thread at a time (vhost's channel lock) and read by any.  Their names, in
 * dsa/stats-show and its JSON form, are dsa_engine_stat_names[]. */
enum dsa_engine_stat {
    DSA_ENGINE_STAT_DMA,            /* Copies completed by the device. */
    DSA_ENGINE_STAT_CPU_SMALL,      /* CPU: below the threshold.  First of
                                     * the copies done by the CPU... */
    DSA_ENGINE_STAT_CPU_FULL,       /* CPU: device ring full. */
    DSA_ENGINE_STAT_CPU_QUARANTINE, /* CPU: channel quarantined. */
    DSA_ENGINE_STAT_CPU_INLINE,     /* CPU: inline model.  ...and last. */
    DSA_ENGINE_STAT_SKIPPED,        /* Not copied: ideal and cost
                                     * models. */
    DSA_ENGINE_STAT_ERRORS,         /* Device copies failed or refused. */
    DSA_ENGINE_STAT_REDONE,         /* Device copies redone by the CPU
                                     * (failed, or stranded on a stopped
                                     * device). */
    DSA_ENGINE_STAT_LOST,           /* Copies neither side could do: the
                                     * address could not be translated. */
    DSA_ENGINE_STAT_QUARANTINES,    /* Times quarantined. */
    DSA_ENGINE_STAT_WEDGES,         /* ... of which for completing
                                     * nothing. */
    DSA_ENGINE_STAT_INJ_ERRORS,     /* Injected: failed copies. */
    DSA_ENGINE_STAT_INJ_FULL,       /* Injected: ring-full refusals. */
    DSA_ENGINE_N_STATS
};

/* The copies done by the CPU: counters CPU_FIRST..CPU_LAST, shown together
 * (and summed) as "cpu-copies". */
#define DSA_ENGINE_STAT_CPU_FIRST DSA_ENGINE_STAT_CPU_SMALL
#define DSA_ENGINE_STAT_CPU_LAST DSA_ENGINE_STAT_CPU_INLINE

extern const char *const dsa_engine_stat_names[DSA_ENGINE_N_STATS];

struct dsa_engine;

/* Process-wide policy (main thread; read by every copy). */
void dsa_engine_set_policy(unsigned int threshold, unsigned int watchdog_ms,
                           unsigned int quarantine_ms);
void dsa_engine_set_model(enum dsa_engine_model);
void dsa_engine_set_cost(const struct dsa_engine_cost *);
void dsa_engine_get_cost(struct dsa_engine_cost *);
enum dsa_engine_model dsa_engine_get_model(void);
const char *dsa_engine_model_name(enum dsa_engine_model);
void dsa_engine_set_faults(const struct dsa_faults *);
void dsa_engine_get_faults(struct dsa_faults *);
char *dsa_faults_parse(int argc, const char *argv[], struct dsa_faults *);
void dsa_faults_format(const struct dsa_faults *, struct ds *);

/* Engines over DPDK dmadevs (main thread, channel unused). */
int dsa_engine_install(int16_t dev_id, const char *name);
void dsa_engine_uninstall(int16_t dev_id);
bool dsa_engine_idle(int16_t dev_id);
void dsa_engine_format(int16_t dev_id, struct ds *, bool stats);
struct json *dsa_engine_to_json(int16_t dev_id, bool stats);
void dsa_engine_stats_clear(int16_t dev_id);

/* An engine over any fast-path object (unit tests use a fabricated
 * device).  'stop' and 'start' stop and restart the device. */
struct dsa_engine_ctl {
    int (*stop)(int16_t dev_id);
    int (*start)(int16_t dev_id);
    long long int (*now)(void);     /* Milliseconds. */
};
struct dsa_engine *dsa_engine_create(const char *name, int16_t dev_id,
                                     const struct rte_dma_fp_object *dev,
                                     unsigned int max_desc,
                                     const struct dsa_engine_ctl *);
void dsa_engine_release(struct dsa_engine *);
void dsa_engine_destroy(struct dsa_engine *);
int dsa_engine_fast_path(struct dsa_engine *, struct rte_dma_fp_object *);
void dsa_engine_describe(const struct dsa_engine *, struct ds *, bool stats);
struct json *dsa_engine_describe_json(const struct dsa_engine *, bool stats);
void dsa_engine_read_counters(const struct dsa_engine *,
                              uint64_t v[DSA_ENGINE_N_STATS]);

#endif /* dsa-engine.h */
