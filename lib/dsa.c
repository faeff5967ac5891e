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

#include "dsa.h"

#include <errno.h>
#include <string.h>

#ifdef HAVE_LIBCAPNG
#include <cap-ng.h>
#endif

#include <rte_dev.h>
#include <rte_dmadev.h>

#include "coverage.h"
#include "dpdk-ext.h"
#include "dsa-host.h"
#include "dsa-channel.h"
#include "dsa-config.h"
#include "dsa-eal.h"
#include "dsa-engine.h"
#include "dsa-iova.h"
#include "dsa-vhost.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "smap.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dsa);

COVERAGE_DEFINE(dsa_reconfigure);
COVERAGE_DEFINE(dsa_pmd_no_channel);

/* Lifecycle.
 *
 * The main thread parses other_config (dsa_run_hook(), every
 * bridge_run()) and drives the pool of channels; PMD threads claim and
 * release channels themselves (dsa_pmd_*()), so that a channel changes
 * hands only while its previous user is not in the middle of using it.  To
 * take channels back (dsa-enable turned off, another ring size or device
 * list) the main thread sets 'dsa_stopping' and bumps 'dsa_gen'; each PMD
 * thread notices on its next iteration and releases; once none holds one,
 * the main thread stops the channels and, if still enabled, starts the new
 * set.  Nothing waits: dsa_run_hook() just makes progress each time it is
 * called. */

static struct ovs_mutex dsa_mutex = OVS_MUTEX_INITIALIZER;

/* The channels and the PMD threads that use them. */
static struct dsa_pool dsa_pool OVS_GUARDED_BY(dsa_mutex);

/* The configuration in force. */
static struct dsa_config dsa_cfg OVS_GUARDED_BY(dsa_mutex);

/* Problems found outside dsa_cfg's parsing, shown by dsa/show: at EAL
 * init (arguments, hot-plug), kept; and when channels last started
 * (devices not found, attach failures), replaced at each start. */
static struct svec dsa_init_problems OVS_GUARDED_BY(dsa_mutex);
static struct svec dsa_problems OVS_GUARDED_BY(dsa_mutex);

/* Changes that take effect only when ovs-vswitchd restarts. */
static struct svec dsa_restart_pending OVS_GUARDED_BY(dsa_mutex);

/* True once DPDK's EAL is initialized. */
static bool dsa_dpdk_ready OVS_GUARDED_BY(dsa_mutex);

/* True while the pool's channels are running. */
static bool dsa_active OVS_GUARDED_BY(dsa_mutex);

/* True while PMD threads are asked to give their channels back. */
static bool dsa_stopping OVS_GUARDED_BY(dsa_mutex);

/* True while vhost queues copy through the running channels. */
static bool dsa_vhost_started OVS_GUARDED_BY(dsa_mutex);

/* dsa-wqs-per-device as EAL saw it. */
static unsigned int dsa_eal_wqs OVS_GUARDED_BY(dsa_mutex);

/* Device arguments to rte_dev_probe() once EAL is up. */
static struct svec dsa_hotplug OVS_GUARDED_BY(dsa_mutex);

/* What the bring-up state of the host was when DPDK started (sysfs), for
 * dsa/show: one line. */
static char *dsa_bringup_summary OVS_GUARDED_BY(dsa_mutex);

/* How soon the main loop looks again while channels change hands, in
 * milliseconds. */
#define DSA_PROGRESS_MS 10

/* Bumped whenever PMD threads should revisit their claim. */
static atomic_uint64_t dsa_gen = 1;

/* Fingerprint of the dsa-* keys last parsed (main thread only). */
static char *dsa_fingerprint;

/* State of one PMD thread, in the thread itself. */
struct dsa_pmd_ctx {
    bool loaded;                /* Between pmd_load and exiting unload. */
    unsigned int core_id;
    int numa_id;
    bool parked;                /* No rx queue: sleeps until reload. */
    struct dsa_channel *chan;   /* The channel it may use, or NULL. */
    uint64_t gen;               /* 'dsa_gen' at its last sync. */
};

DEFINE_STATIC_PER_THREAD_DATA(struct dsa_pmd_ctx, dsa_pmd_ctx,
                              { .chan = NULL });

static void
dsa_init_state(void)
    OVS_REQUIRES(dsa_mutex)
{
    static bool done;

    if (!done) {
        done = true;
        dsa_pool_init(&dsa_pool);
        dsa_config_init(&dsa_cfg);
        svec_init(&dsa_init_problems);
        svec_init(&dsa_problems);
        svec_init(&dsa_restart_pending);
        svec_init(&dsa_hotplug);
    }
}

/* Takes 'dsa_mutex' and then the pool's own mutex: always both, in that
 * order. */
static void
dsa_lock(void)
    OVS_ACQUIRES(dsa_mutex, dsa_pool.mutex)
{
    ovs_mutex_lock(&dsa_mutex);
    dsa_init_state();
    ovs_mutex_lock(&dsa_pool.mutex);
}

static void
dsa_unlock(void)
    OVS_RELEASES(dsa_mutex, dsa_pool.mutex)
{
    ovs_mutex_unlock(&dsa_pool.mutex);
    ovs_mutex_unlock(&dsa_mutex);
}

static void
dsa_bump_gen(void)
{
    uint64_t orig;

    atomic_add(&dsa_gen, 1, &orig);
}

/* Logs each problem of 'problems' as a warning. */
static void
dsa_log_problems(const struct svec *problems)
{
    for (size_t i = 0; i < problems->n; i++) {
        VLOG_WARN("other_config:%s", problems->names[i]);
    }
}

/* dpdk_ext 'eal_args' hook: adds the idxd "max_queues" arguments. */
static void
dsa_eal_args_hook(const struct smap *oc, struct svec *args)
    OVS_EXCLUDED(dsa_mutex)
{
    struct dsa_config cfg;
    struct svec problems = SVEC_EMPTY_INITIALIZER;

    dsa_config_init(&cfg);
    dsa_config_parse(&cfg, oc);

    dsa_lock();
    dsa_eal_wqs = cfg.wqs_per_device;
    dsa_eal_args(&cfg, DSA_SYSFS_ROOT, args, &dsa_hotplug, &problems);
    dsa_log_problems(&problems);
    svec_append(&dsa_init_problems, &problems);
    dsa_unlock();

    svec_destroy(&problems);
    dsa_config_destroy(&cfg);
}

/* Parses 'oc' into dsa_cfg and asks PMD threads to give their channels
 * back if the running set must change. */
static void
dsa_reconfigure(const struct smap *oc)
    OVS_REQUIRES(dsa_mutex)
{
    struct dsa_config new;
    char *why = NULL;

    COVERAGE_INC(dsa_reconfigure);
    dsa_config_init(&new);
    dsa_config_parse(&new, oc);
    for (size_t i = 0; i < new.problems.n; i++) {
        /* Warn once per bad value, not again on every other change. */
        if (!svec_contains_unsorted(&dsa_cfg.problems,
                                    new.problems.names[i])) {
            VLOG_WARN("other_config:%s", new.problems.names[i]);
        }
    }

    if (new.wqs_per_device != dsa_eal_wqs
        && !svec_contains_unsorted(&dsa_restart_pending,
                                   "dsa-wqs-per-device")) {
        svec_add(&dsa_restart_pending, "dsa-wqs-per-device");
        VLOG_WARN("other_config:dsa-wqs-per-device changed: takes effect "
                  "when ovs-vswitchd restarts");
    }

    if (dsa_active) {
        if (!new.enable) {
            why = "dsa-enable turned off";
        } else if (new.ring_size != dsa_cfg.ring_size) {
            why = "dsa-ring-size changed";
        } else if (!svec_equal(&new.devices, &dsa_cfg.devices)) {
            why = "dsa-devices changed";
        }
    }
    if (why) {
        VLOG_INFO("%s: releasing DMA channels", why);
        dsa_stopping = true;
        dsa_bump_gen();
    }

    dsa_config_destroy(&dsa_cfg);
    dsa_cfg = new;
    dsa_vhost_set_port_policy(dsa_cfg.enable, dsa_cfg.dequeue,
                              dsa_cfg.copy_threshold);
    dsa_engine_set_policy(dsa_cfg.copy_threshold, dsa_cfg.watchdog_ms,
                          dsa_cfg.quarantine_ms);
}

/* Attaches DSA functions bound to vfio-pci since DPDK started (hot-plug),
 * so that turning dsa-enable on at runtime needs no restart.  Failures go
 * to 'problems'. */
static void
dsa_attach_new_devices(struct svec *problems)
    OVS_REQUIRES(dsa_mutex)
{
    struct svec names = SVEC_EMPTY_INITIALIZER;
    struct svec devargs = SVEC_EMPTY_INITIALIZER;
    int16_t dev_id;

    RTE_DMA_FOREACH_DEV (dev_id) {
        struct rte_dma_info info;

        if (!rte_dma_info_get(dev_id, &info)) {
            svec_add(&names, info.dev_name);
        }
    }
    dsa_attach_devargs(&dsa_cfg, DSA_SYSFS_ROOT, &names, &devargs);
    for (size_t i = 0; i < devargs.n; i++) {
        int err = rte_dev_probe(devargs.names[i]);

        if (err) {
            svec_add_nocopy(problems, xasprintf(
                                "attaching %s failed: %s (is DPDK running "
                                "with --no-pci, or without vfio?)",
                                devargs.names[i], ovs_strerror(-err)));
        } else {
            VLOG_INFO("attached %s", devargs.names[i]);
        }
    }
    svec_destroy(&names);
    svec_destroy(&devargs);
}

/* Makes progress towards the state dsa_cfg asks for, without waiting. */
static void
dsa_progress(void)
    OVS_REQUIRES(dsa_mutex, dsa_pool.mutex)
{
    if (!dsa_dpdk_ready) {
        return;
    }
    if (dsa_stopping) {
        /* Each step of a stop waits for PMD threads (or for queues to
         * empty), which do not wake the main loop: come back soon rather
         * than at its next unrelated wake-up. */
        poll_timer_wait(DSA_PROGRESS_MS);
        if (dsa_pool_busy(&dsa_pool) || dsa_vhost_started) {
            return;
        }
        dsa_pool_release_parked(&dsa_pool);
        for (size_t i = 0; i < dsa_pool.n_chans; i++) {
            dsa_engine_uninstall(dsa_pool.chans[i].dev_id);
        }
        dsa_pool_stop(&dsa_pool);
        dsa_active = false;
        dsa_stopping = false;
        VLOG_INFO("DMA channels stopped");
    }
    if (!dsa_active && dsa_cfg.enable) {
        struct svec problems = SVEC_EMPTY_INITIALIZER;

        svec_clear(&dsa_problems);
        dsa_attach_new_devices(&problems);
        dsa_pool_discover(&dsa_pool, &dsa_cfg, &problems);
        dsa_log_problems(&problems);
        svec_append(&dsa_problems, &problems);
        svec_destroy(&problems);

        dsa_pool_start(&dsa_pool, dsa_cfg.ring_size);
        dsa_active = true;

        int16_t ids[DSA_MAX_CHANNELS];
        size_t n_ids = 0;
        for (size_t i = 0; i < dsa_pool.n_chans; i++) {
            struct dsa_channel *ch = &dsa_pool.chans[i];
            int err;

            if (ch->state != DSA_CH_RUNNING) {
                continue;
            }
            /* vhost sees the channel through the copy-policy layer. */
            err = dsa_engine_install(ch->dev_id, ch->name);
            if (err) {
                VLOG_WARN("DMA channel %s: installing the copy policy "
                          "failed (%s): not used", ch->name,
                          ovs_strerror(err));
                continue;
            }
            ids[n_ids++] = ch->dev_id;
        }
        dsa_vhost_start(ids, n_ids, dsa_cfg.dequeue);
        dsa_vhost_started = true;
        VLOG_INFO("DSA offload enabled with %"PRIuSIZE" DMA channel(s)",
                  dsa_pool.n_chans);
        dsa_bump_gen();
    }
    if (dsa_active && !dsa_stopping) {
        dsa_pool_assign_parked(&dsa_pool);
    }
}

/* dpdk_ext 'run' hook. */
static void
dsa_run_hook(const struct smap *oc)
    OVS_EXCLUDED(dsa_mutex)
{
    char *fp = dsa_config_fingerprint(oc);

    bool vhost_stop;

    dsa_unixctl_register_test_commands();
    dsa_lock();
    if (!dsa_fingerprint || strcmp(fp, dsa_fingerprint)) {
        free(dsa_fingerprint);
        dsa_fingerprint = fp;
        fp = NULL;
        dsa_reconfigure(oc);
    }
    vhost_stop = (dsa_stopping && dsa_vhost_started
                  && !dsa_pool_busy(&dsa_pool));
    if (!vhost_stop) {
        dsa_progress();
    }
    dsa_unlock();
    free(fp);

    if (vhost_stop) {
        /* Waits for an RCU grace period: not under 'dsa_mutex', which PMD
         * threads may be waiting for.  If some queue could not be emptied
         * yet, the next call tries again. */
        bool stopped = dsa_vhost_stop();

        dsa_lock();
        dsa_vhost_started = !stopped;
        dsa_progress();
        dsa_unlock();
    }
}

/* Reads the host's DSA bring-up state from sysfs and the process's
 * capabilities, logs what stands in the way, and returns a one-line
 * summary for dsa/show. */
static char *
dsa_bringup_check(void)
{
    bool have_rawio = true, have_admin = true;
    struct dsa_host host;
    char *summary;

    dsa_host_scan(DSA_SYSFS_ROOT, "/etc", &host);
#ifdef HAVE_LIBCAPNG
    capng_get_caps_process();
    have_rawio = capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_RAWIO);
    have_admin = capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN);
#endif
    summary = dsa_host_summary(&host, have_rawio, have_admin);
    if (strstr(summary, "missing")) {
        VLOG_WARN("bring-up: %s", summary);
    } else {
        VLOG_INFO("bring-up: %s", summary);
    }
    dsa_host_destroy(&host);
    return summary;
}

/* dpdk_ext 'init' hook: EAL is up. */
static void
dsa_init_hook(const struct smap *oc)
    OVS_EXCLUDED(dsa_mutex)
{
    char *summary = dsa_bringup_check();

    dsa_lock();
    dsa_dpdk_ready = true;
    dsa_iova_init();
    free(dsa_bringup_summary);
    dsa_bringup_summary = summary;
    for (size_t i = 0; i < dsa_hotplug.n; i++) {
        int err = rte_dev_probe(dsa_hotplug.names[i]);

        if (err) {
            svec_add_nocopy(&dsa_init_problems,
                            xasprintf("probing %s failed: %s",
                                      dsa_hotplug.names[i],
                                      ovs_strerror(-err)));
            VLOG_WARN("probing %s failed: %s", dsa_hotplug.names[i],
                      ovs_strerror(-err));
        } else {
            VLOG_INFO("probed %s", dsa_hotplug.names[i]);
        }
    }
    dsa_unlock();

    dsa_run_hook(oc);
}

/* Brings the calling PMD thread's claim in line with the pool. */
static void
dsa_pmd_sync(struct dsa_pmd_ctx *ctx)
    OVS_EXCLUDED(dsa_mutex)
{
    /* Whatever happens to its channel, nothing of ours stays in flight:
     * neither on it, nor on a channel borrowed before the thread had one
     * (after a restart of the channels, until this sync), which may go to
     * another thread now. */
    dsa_vhost_drain_thread();

    dsa_lock();
    atomic_read_relaxed(&dsa_gen, &ctx->gen);
    if (dsa_active && !dsa_stopping) {
        ctx->chan = dsa_pool_claim(&dsa_pool, ctx->core_id, ctx->numa_id,
                                   ctx->parked);
        if (!ctx->chan) {
            COVERAGE_INC(dsa_pmd_no_channel);
        }
    } else {
        dsa_pool_pmd_register(&dsa_pool, ctx->core_id, ctx->numa_id,
                              ctx->parked);
        dsa_pool_release(&dsa_pool, ctx->core_id, false);
        ctx->chan = NULL;
    }
    dsa_unlock();

    /* The channel goes down to the vhost glue, which submits on it. */
    dsa_vhost_thread_set(true, ctx->chan ? ctx->chan->dev_id : -1);
}

/* dpdk_ext 'pmd_load' hook. */
static void
dsa_pmd_load_hook(unsigned int core_id, int numa_id, int n_rxqs)
{
    struct dsa_pmd_ctx *ctx = dsa_pmd_ctx_get();

    ctx->loaded = true;
    ctx->core_id = core_id;
    ctx->numa_id = numa_id;
    ctx->parked = !n_rxqs;
    dsa_pmd_sync(ctx);
}

/* dpdk_ext 'pmd_poll' hook: runs every PMD iteration, so it only reads one
 * atomic unless the pool changed. */
static int
dsa_pmd_poll_hook(void)
{
    struct dsa_pmd_ctx *ctx = dsa_pmd_ctx_get();
    uint64_t gen;

    if (OVS_UNLIKELY(!ctx->loaded)) {
        return 0;
    }
    atomic_read_relaxed(&dsa_gen, &gen);
    if (OVS_UNLIKELY(gen != ctx->gen)) {
        dsa_pmd_sync(ctx);
    }
    return dsa_vhost_poll();
}

/* dpdk_ext 'pmd_unload' hook. */
static void
dsa_pmd_unload_hook(bool exiting)
    OVS_EXCLUDED(dsa_mutex)
{
    struct dsa_pmd_ctx *ctx = dsa_pmd_ctx_get();

    /* Nothing this thread submitted stays in flight across a reload: its
     * queues may move to other threads. */
    if (ctx->loaded) {
        dsa_vhost_drain_thread();
    }
    if (ctx->loaded && exiting) {
        dsa_lock();
        dsa_pool_release(&dsa_pool, ctx->core_id, true);
        dsa_unlock();
        ctx->chan = NULL;
        ctx->loaded = false;
        dsa_vhost_thread_set(false, -1);
    }
}

/* Appends the copy policy in force, and any injected fault, to 's'. */
static void
dsa_policy_format(struct ds *s)
    OVS_REQUIRES(dsa_mutex, dsa_pool.mutex)
{
    enum dsa_engine_model model = dsa_engine_get_model();
    struct dsa_faults f;

    ds_put_format(s, "copy policy: CPU below %u bytes, watchdog %u ms, "
                  "quarantine %u ms", dsa_cfg.copy_threshold,
                  dsa_cfg.watchdog_ms, dsa_cfg.quarantine_ms);
    if (model != DSA_MODEL_DEVICE) {
        ds_put_format(s, ", engine model %s (test only)",
                      dsa_engine_model_name(model));
    }
    if (model == DSA_MODEL_COST) {
        struct dsa_engine_cost cost;

        dsa_engine_get_cost(&cost);
        ds_put_format(s, ": descriptor %u ns, doorbell %u ns, completion "
                      "%u ns", cost.desc_ns, cost.doorbell_ns,
                      cost.completion_ns);
    }
    ds_put_char(s, '\n');
    dsa_engine_get_faults(&f);
    if (f.error_ppm || f.seq_first || f.full_ppm || f.wedge
        || f.stop_fails) {
        ds_put_cstr(s, "injected faults (test only):");
        dsa_faults_format(&f, s);
        ds_put_char(s, '\n');
    }
}

/* Returns the status of the extension, for dsa/show, and in '*why' why it
 * is so, or NULL. */
static const char *
dsa_status(const char **why)
    OVS_REQUIRES(dsa_mutex, dsa_pool.mutex)
{
    *why = NULL;
    if (!dsa_dpdk_ready) {
        *why = "DPDK is not initialized: set other_config:dpdk-init=true";
        return "disabled";
    } else if (dsa_stopping) {
        *why = "waiting for PMD threads";
        return "releasing channels";
    } else if (dsa_active) {
        return "enabled";
    } else {
        *why = "other_config:dsa-enable is not true";
        return "disabled";
    }
}

/* Returns which engines copy, for dsa/show. */
static const char *
dsa_engine_kind(void)
    OVS_REQUIRES(dsa_mutex, dsa_pool.mutex)
{
    bool hw = false, sw = false;

    for (size_t i = 0; i < dsa_pool.n_chans; i++) {
        if (dsa_pool.chans[i].state == DSA_CH_RUNNING) {
            hw = hw || dsa_pool.chans[i].hw;
            sw = sw || !dsa_pool.chans[i].hw;
        }
    }
    return (!dsa_active ? "none"
            : hw && sw ? "hardware and software"
            : hw ? "hardware (DMA device)"
            : sw ? "software (no DMA hardware: dma_skeleton copies on "
                   "a CPU thread)"
            : "none (no usable DMA channel: copies on the CPU)");
}

/* Appends the state of the extension, for dsa/show, to 's'. */
void
dsa_show(struct ds *s)
    OVS_EXCLUDED(dsa_mutex)
{
    const char *status, *why;

    dsa_lock();

    ds_put_format(s, "ovs-dsa %s\n", OVS_DSA_VERSION);
    status = dsa_status(&why);
    ds_put_format(s, "status: %s", status);
    if (why) {
        ds_put_format(s, " (%s)", why);
    }
    ds_put_format(s, "\nengine: %s\n", dsa_engine_kind());

    if (dsa_bringup_summary) {
        ds_put_format(s, "bring-up: %s\n", dsa_bringup_summary);
    }
    ds_put_cstr(s, "config: ");
    dsa_config_format(&dsa_cfg, s);
    ds_put_char(s, '\n');
    dsa_policy_format(s);

    if (dsa_active || dsa_stopping) {
        dsa_pool_format(&dsa_pool, s);
        for (size_t i = 0; i < dsa_pool.n_chans; i++) {
            const struct dsa_channel *ch = &dsa_pool.chans[i];

            if (ch->state == DSA_CH_RUNNING && ch->dev_id >= 0) {
                ds_put_format(s, "%s serves:", ch->name);
                dsa_vhost_format_serving(s, ch->dev_id);
                ds_put_format(s, "\n%s copy policy: ", ch->name);
                dsa_engine_format(ch->dev_id, s, false);
                ds_put_char(s, '\n');
            }
        }
    }
    dsa_vhost_show(s);

    const struct svec *lists[] = {
        &dsa_cfg.problems, &dsa_init_problems, &dsa_problems,
    };
    bool any = false;

    ds_put_cstr(s, "config problems:\n");
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        for (size_t j = 0; j < lists[i]->n; j++) {
            ds_put_format(s, "  %s\n", lists[i]->names[j]);
            any = true;
        }
    }
    if (!any) {
        ds_chomp(s, '\n');
        ds_put_cstr(s, " none\n");
    }

    ds_put_cstr(s, "restart pending:");
    for (size_t i = 0; i < dsa_restart_pending.n; i++) {
        ds_put_format(s, " %s", dsa_restart_pending.names[i]);
    }
    ds_put_cstr(s, dsa_restart_pending.n ? "\n" : " no\n");
    dsa_unlock();
}

/* Returns the copy policy in force, and any injected fault, as a JSON
 * object. */
static struct json *
dsa_policy_json(void)
    OVS_REQUIRES(dsa_mutex, dsa_pool.mutex)
{
    struct json *obj = json_object_create();
    struct dsa_faults f;

    json_object_put(obj, "copy-threshold",
                    json_integer_create(dsa_cfg.copy_threshold));
    json_object_put(obj, "watchdog-ms",
                    json_integer_create(dsa_cfg.watchdog_ms));
    json_object_put(obj, "quarantine-ms",
                    json_integer_create(dsa_cfg.quarantine_ms));
    json_object_put_string(obj, "engine-model",
                           dsa_engine_model_name(dsa_engine_get_model()));
    dsa_engine_get_faults(&f);
    if (f.error_ppm || f.seq_first || f.full_ppm || f.wedge
        || f.stop_fails) {
        struct ds s = DS_EMPTY_INITIALIZER;

        dsa_faults_format(&f, &s);
        json_object_put_string(obj, "injected-faults",
                               ds_cstr(&s) + strspn(ds_cstr(&s), " "));
        ds_destroy(&s);
    }
    return obj;
}

/* Returns the strings of 'svecs' as one JSON array. */
static struct json *
dsa_svecs_json(const struct svec *const *svecs, size_t n)
{
    struct json *array = json_array_create_empty();

    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < svecs[i]->n; j++) {
            json_array_add(array, json_string_create(svecs[i]->names[j]));
        }
    }
    return array;
}

/* Returns the state of the extension, for dsa/show --format=json: what
 * dsa_show() shows, as one JSON object (see docs/usage.md). */
struct json *
dsa_show_json(void)
    OVS_EXCLUDED(dsa_mutex)
{
    struct json *obj = json_object_create();
    const char *status, *why;

    dsa_lock();

    const struct svec *problems[] = {
        &dsa_cfg.problems, &dsa_init_problems, &dsa_problems,
    };
    const struct svec *pending[] = { &dsa_restart_pending };

    json_object_put_string(obj, "version", OVS_DSA_VERSION);
    status = dsa_status(&why);
    json_object_put_string(obj, "status", status);
    if (why) {
        json_object_put_string(obj, "status-reason", why);
    }
    json_object_put_string(obj, "engine", dsa_engine_kind());
    if (dsa_bringup_summary) {
        json_object_put_string(obj, "bring-up", dsa_bringup_summary);
    }
    json_object_put(obj, "config", dsa_config_to_json(&dsa_cfg));
    json_object_put(obj, "copy-policy", dsa_policy_json());

    if (dsa_active || dsa_stopping) {
        struct json **chans = xcalloc(dsa_pool.n_chans + 1, sizeof *chans);

        dsa_pool_put_json(&dsa_pool, obj, chans);
        for (size_t i = 0; i < dsa_pool.n_chans; i++) {
            const struct dsa_channel *ch = &dsa_pool.chans[i];

            if (ch->state == DSA_CH_RUNNING && ch->dev_id >= 0) {
                json_object_put(chans[i], "serves",
                                dsa_vhost_serving_json(ch->dev_id));
                json_object_put(chans[i], "copy-policy",
                                dsa_engine_to_json(ch->dev_id, false));
            }
        }
        free(chans);
    } else {
        json_object_put(obj, "channels", json_array_create_empty());
    }
    json_object_put(obj, "vhost-ports", dsa_vhost_show_json());
    json_object_put(obj, "config-problems",
                    dsa_svecs_json(problems, ARRAY_SIZE(problems)));
    json_object_put(obj, "restart-pending",
                    dsa_svecs_json(pending, ARRAY_SIZE(pending)));
    dsa_unlock();
    return obj;
}

/* Appends the counters of every running channel to 's': the copy-policy
 * layer's, then the device's own. */
void
dsa_channels_stats(struct ds *s)
    OVS_EXCLUDED(dsa_mutex)
{
    dsa_lock();
    for (size_t i = 0; i < dsa_pool.n_chans; i++) {
        const struct dsa_channel *ch = &dsa_pool.chans[i];
        struct rte_dma_stats st;

        if (ch->state != DSA_CH_RUNNING || ch->dev_id < 0) {
            continue;
        }
        ds_put_format(s, "channel %s: ", ch->name);
        dsa_engine_format(ch->dev_id, s, true);
        if (!rte_dma_stats_get(ch->dev_id, ch->vchan, &st)) {
            ds_put_format(s, "; device: submitted %"PRIu64", completed %"
                          PRIu64", failed %"PRIu64", ring size %u",
                          st.submitted,
                          st.completed, st.errors, ch->ring_size);
        }
        ds_put_char(s, '\n');
    }
    dsa_unlock();
}

/* Returns the counters of every running channel as a JSON array of
 * {"name": NAME, "copy-policy": {...}, "device": {...}}: the copy-policy
 * layer's (dsa_engine_to_json()) and the device's own ("submitted",
 * "completed", "failed", "ring-size"; no "device" if DPDK has none). */
struct json *
dsa_channels_stats_json(void)
    OVS_EXCLUDED(dsa_mutex)
{
    struct json *array = json_array_create_empty();

    dsa_lock();
    for (size_t i = 0; i < dsa_pool.n_chans; i++) {
        const struct dsa_channel *ch = &dsa_pool.chans[i];
        struct json *obj;
        struct rte_dma_stats st;

        if (ch->state != DSA_CH_RUNNING || ch->dev_id < 0) {
            continue;
        }
        obj = json_object_create();
        json_object_put_string(obj, "name", ch->name);
        json_object_put(obj, "copy-policy",
                        dsa_engine_to_json(ch->dev_id, true));
        if (!rte_dma_stats_get(ch->dev_id, ch->vchan, &st)) {
            struct json *dev = json_object_create();

            json_object_put(dev, "submitted",
                            json_integer_create(st.submitted));
            json_object_put(dev, "completed",
                            json_integer_create(st.completed));
            json_object_put(dev, "failed", json_integer_create(st.errors));
            json_object_put(dev, "ring-size",
                            json_integer_create(ch->ring_size));
            json_object_put(obj, "device", dev);
        }
        json_array_add(array, obj);
    }
    dsa_unlock();
    return array;
}

/* Zeroes the counters of every running channel. */
void
dsa_channels_stats_clear(void)
    OVS_EXCLUDED(dsa_mutex)
{
    dsa_lock();
    for (size_t i = 0; i < dsa_pool.n_chans; i++) {
        const struct dsa_channel *ch = &dsa_pool.chans[i];

        if (ch->state == DSA_CH_RUNNING && ch->dev_id >= 0) {
            dsa_engine_stats_clear(ch->dev_id);
            rte_dma_stats_reset(ch->dev_id, ch->vchan);
        }
    }
    dsa_unlock();
}

static const struct dpdk_ext_class dsa_ext_class = {
    .name = "ovs-dsa",
    .version = OVS_DSA_VERSION,
    .eal_args = dsa_eal_args_hook,
    .init = dsa_init_hook,
    .run = dsa_run_hook,
    .pmd_load = dsa_pmd_load_hook,
    .pmd_poll = dsa_pmd_poll_hook,
    .pmd_unload = dsa_pmd_unload_hook,
    .vhost_driver_flags = dsa_vhost_driver_flags,
    .vhost_new_connection = dsa_vhost_new_connection,
    .vhost_destroy_connection = dsa_vhost_destroy_connection,
    .vhost_new_device = dsa_vhost_new_device,
    .vhost_destroy_device = dsa_vhost_destroy_device,
    .vhost_vring_state = dsa_vhost_vring_state,
    .vhost_enqueue = dsa_vhost_enqueue,
    .vhost_dequeue = dsa_vhost_dequeue,
    .vhost_custom_stats = dsa_vhost_custom_stats,
};

OVS_CONSTRUCTOR(dsa_register)
{
    dpdk_ext_register(&dsa_ext_class);
    dsa_unixctl_register();
}
