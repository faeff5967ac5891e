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

/* Unit-test driver for the ovs-dsa library: runs its pure parts on
 * fabricated inputs and prints the results for the autotest suite. */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_vhost.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "dsa-channel.h"
#include "dsa-compat.h"
#include "dsa-config.h"
#include "dsa-eal.h"
#include "dsa-engine.h"
#include "dsa-host.h"
#include "dsa-iova.h"
#include "dsa-vhost.h"
#include "dsa-vlog.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "smap.h"
#include "svec.h"
#include "util.h"

/* Parses "key=value" arguments into 'oc'. */
static void
parse_kv(int argc, char *argv[], struct smap *oc)
{
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (!eq) {
            ovs_fatal(0, "%s: expected key=value", argv[i]);
        }
        *eq = '\0';
        smap_replace(oc, argv[i], eq + 1);
        *eq = '=';
    }
}

/* test-dsa config [KEY=VALUE]...: parses other_config. */
static int
cmd_config(int argc, char *argv[])
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct smap oc = SMAP_INITIALIZER(&oc);
    struct dsa_config cfg;

    parse_kv(argc, argv, &oc);
    dsa_config_init(&cfg);
    dsa_config_parse(&cfg, &oc);
    dsa_config_format(&cfg, &s);
    printf("%s\n", ds_cstr(&s));
    for (size_t i = 0; i < cfg.problems.n; i++) {
        printf("problem: %s\n", cfg.problems.names[i]);
    }
    dsa_config_destroy(&cfg);
    smap_destroy(&oc);
    ds_destroy(&s);
    return 0;
}

/* test-dsa pool OP...: runs channel-pool operations on fabricated
 * channels.  OP is one of:
 *   chan:NAME@NUMA     add a channel
 *   start              start every channel
 *   claim:CORE@NUMA    PMD thread CORE (on NUMA) loads with rx queues
 *   park:CORE@NUMA     PMD thread CORE loads without rx queues
 *   release:CORE       PMD thread CORE gives its channel back
 *   exit:CORE          PMD thread CORE exits
 *   release-parked     the main thread takes channels from parked PMDs
 *   show               print the pool */
static int
cmd_pool(int argc, char *argv[])
{
    struct dsa_pool pool;

    dsa_pool_init(&pool);
    ovs_mutex_lock(&pool.mutex);
    for (int i = 0; i < argc; i++) {
        char *op = argv[i], *arg = strchr(op, ':');
        unsigned int core = 0;
        int numa = 0;

        if (arg) {
            *arg++ = '\0';
        }
        if (!strcmp(op, "chan") && arg && strchr(arg, '@')) {
            char *at = strchr(arg, '@');

            *at = '\0';
            dsa_pool_add(&pool, -1, arg, atoi(at + 1));
        } else if (!strcmp(op, "start")) {
            dsa_pool_start(&pool, 1024);
        } else if ((!strcmp(op, "claim") || !strcmp(op, "park")) && arg
                   && sscanf(arg, "%u@%d", &core, &numa) == 2) {
            struct dsa_channel *ch = dsa_pool_claim(&pool, core, numa,
                                                    !strcmp(op, "park"));

            printf("%s %u: %s\n", op, core, ch ? ch->name : "none");
        } else if (!strcmp(op, "release") && arg) {
            dsa_pool_release(&pool, atoi(arg), false);
        } else if (!strcmp(op, "exit") && arg) {
            dsa_pool_release(&pool, atoi(arg), true);
        } else if (!strcmp(op, "release-parked")) {
            dsa_pool_release_parked(&pool);
        } else if (!strcmp(op, "show")) {
            struct ds s = DS_EMPTY_INITIALIZER;

            dsa_pool_format(&pool, &s);
            printf("%s", ds_cstr(&s));
            ds_destroy(&s);
        } else {
            ovs_fatal(0, "%s: unknown pool operation", argv[i]);
        }
    }
    ovs_mutex_unlock(&pool.mutex);
    dsa_pool_destroy(&pool);
    return 0;
}

/* test-dsa classify NAME...: how dmadev names are understood. */
static int
cmd_classify(int argc, char *argv[])
{
    for (int i = 0; i < argc; i++) {
        struct dsa_channel ch;

        memset(&ch, 0, sizeof ch);
        ovs_strlcpy(ch.name, argv[i], sizeof ch.name);
        dsa_channel_classify(&ch);
        printf("%s: driver %s, pci %s, %s\n", ch.name, ch.driver,
               ch.pci_addr[0] ? ch.pci_addr : "-",
               ch.hw ? "hardware" : "software");
    }
    return 0;
}

/* test-dsa eal-args SYSFS_ROOT [KEY=VALUE]... [-- EAL-ARG...]: the EAL
 * arguments and hot-plug list generated for dsa-wqs-per-device. */
static int
cmd_eal_args(int argc, char *argv[])
{
    struct svec args = SVEC_EMPTY_INITIALIZER;
    struct svec hotplug = SVEC_EMPTY_INITIALIZER;
    struct svec problems = SVEC_EMPTY_INITIALIZER;
    struct smap oc = SMAP_INITIALIZER(&oc);
    struct dsa_config cfg;
    int n_kv = 1;

    if (argc < 1) {
        ovs_fatal(0, "eal-args: SYSFS_ROOT required");
    }
    while (n_kv < argc && strcmp(argv[n_kv], "--")) {
        n_kv++;
    }
    parse_kv(n_kv - 1, argv + 1, &oc);
    svec_add(&args, "ovs-vswitchd");
    for (int i = n_kv + 1; i < argc; i++) {
        svec_add(&args, argv[i]);
    }

    dsa_config_init(&cfg);
    dsa_config_parse(&cfg, &oc);
    dsa_eal_args(&cfg, argv[0], &args, &hotplug, &problems);

    printf("args:");
    for (size_t i = 0; i < args.n; i++) {
        printf(" %s", args.names[i]);
    }
    printf("\n");
    for (size_t i = 0; i < hotplug.n; i++) {
        printf("hotplug: %s\n", hotplug.names[i]);
    }
    for (size_t i = 0; i < problems.n; i++) {
        printf("problem: %s\n", problems.names[i]);
    }
    dsa_config_destroy(&cfg);
    smap_destroy(&oc);
    svec_destroy(&args);
    svec_destroy(&hotplug);
    svec_destroy(&problems);
    return 0;
}

/* test-dsa attach SYSFS_ROOT DMADEV-NAMES [KEY=VALUE]...: what a runtime
 * dsa-enable=true would hot-plug.  DMADEV-NAMES is a comma list of the
 * dmadevs that exist ("-" for none). */
static int
cmd_attach(int argc, char *argv[])
{
    struct svec names = SVEC_EMPTY_INITIALIZER;
    struct svec devargs = SVEC_EMPTY_INITIALIZER;
    struct smap oc = SMAP_INITIALIZER(&oc);
    struct dsa_config cfg;

    if (argc < 2) {
        ovs_fatal(0, "attach: SYSFS_ROOT DMADEV-NAMES required");
    }
    if (strcmp(argv[1], "-")) {
        char *copy = xstrdup(argv[1]), *save = NULL;

        for (char *t = strtok_r(copy, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            svec_add(&names, t);
        }
        free(copy);
    }
    parse_kv(argc - 2, argv + 2, &oc);
    dsa_config_init(&cfg);
    dsa_config_parse(&cfg, &oc);
    dsa_attach_devargs(&cfg, argv[0], &names, &devargs);
    for (size_t i = 0; i < devargs.n; i++) {
        printf("probe: %s\n", devargs.names[i]);
    }
    dsa_config_destroy(&cfg);
    smap_destroy(&oc);
    svec_destroy(&names);
    svec_destroy(&devargs);
    return 0;
}

/* A fabricated DMA device for the copy-policy layer: copies wait in its
 * queue until the test completes them (dev-done) or fails them
 * (dev-fail), in order. */
#define FAKE_MAX 64
struct fake_dev {
    struct {
        uint64_t src, dst;
        uint32_t len;
        bool ready, failed;
    } q[FAKE_MAX];
    unsigned int head, tail;    /* Queue: [tail, head). */
    unsigned int ring;          /* Room of the device ring. */
    uint16_t idx;               /* Next device index. */
    bool stopped;
    unsigned int stops, starts, submits;
    int stop_error;             /* stop-fails: rte_dma_stop() fails. */
    unsigned int max_batch;     /* dev-batch: copies per doorbell, or 0. */
    unsigned int batch;         /* Copies since the last doorbell. */
    unsigned int rejected;      /* Batches rejected for their size. */
};

static struct fake_dev fake;
static long long int fake_clock;

static int
fake_copy(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED, rte_iova_t src,
          rte_iova_t dst, uint32_t len, uint64_t flags OVS_UNUSED)
{
    if (fake.stopped) {
        return -EIO;
    }
    if (fake.head - fake.tail >= fake.ring) {
        return -ENOSPC;
    }
    fake.q[fake.head % FAKE_MAX].src = src;
    fake.q[fake.head % FAKE_MAX].dst = dst;
    fake.q[fake.head % FAKE_MAX].len = len;
    fake.q[fake.head % FAKE_MAX].ready = false;
    fake.head++;
    fake.batch++;
    return fake.idx++;
}

static int
fake_submit(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED)
{
    fake.submits++;
    if (fake.max_batch && fake.batch > fake.max_batch) {
        /* As DSA: a batch larger than the device's maximum is rejected
         * whole, its copies not attempted. */
        for (unsigned int k = fake.head - fake.batch; k != fake.head; k++) {
            fake.q[k % FAKE_MAX].ready = true;
            fake.q[k % FAKE_MAX].failed = true;
        }
        fake.rejected++;
    }
    fake.batch = 0;
    return 0;
}

/* As idxd_burst_capacity(): room in the ring and in the current batch. */
static uint16_t
fake_burst_capacity(const void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED)
{
    unsigned int room = fake.ring - (fake.head - fake.tail);

    return MIN(room, fake.max_batch - MIN(fake.batch, fake.max_batch));
}

static uint16_t
fake_completed_status(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
                      uint16_t nb, uint16_t *last,
                      enum rte_dma_status_code *status)
{
    uint16_t n = 0;

    while (n < nb && fake.tail != fake.head
           && fake.q[fake.tail % FAKE_MAX].ready) {
        status[n++] = (fake.q[fake.tail % FAKE_MAX].failed
                       ? RTE_DMA_STATUS_DATA_POISION
                       : RTE_DMA_STATUS_SUCCESSFUL);
        fake.tail++;
    }
    *last = fake.idx - (fake.head - fake.tail) - 1;
    return n;
}

static int
fake_stop(int16_t dev_id OVS_UNUSED)
{
    if (fake.stop_error) {
        /* Not stopped: it keeps what it holds and may still write. */
        fake.stops++;
        return fake.stop_error;
    }
    /* A stopped device aborts what it holds; it may still report those
     * copies (failed) after it restarts. */
    for (unsigned int k = fake.tail; k < fake.head; k++) {
        fake.q[k % FAKE_MAX].ready = true;
        fake.q[k % FAKE_MAX].failed = true;
    }
    fake.stopped = true;
    fake.stops++;
    return 0;
}

static int
fake_start(int16_t dev_id OVS_UNUSED)
{
    fake.stopped = false;
    fake.starts++;
    return 0;
}

static long long int
fake_now(void)
{
    return fake_clock;
}

/* Buffers of the copies a test makes. */
#define ENGINE_MAX_COPIES 256
struct test_copy {
    uint8_t *src, *dst;
    uint32_t len;
    int idx;
    bool checked;
};

/* Returns true if copy 'c' landed intact. */
static bool
test_copy_ok(const struct test_copy *c)
{
    return !memcmp(c->src, c->dst, c->len);
}

/* Members of a fabricated device that test-dsa engine-entry only compares
 * (the layer implements them itself). */
static int
fake_copy_sg(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
             const struct rte_dma_sge *src OVS_UNUSED,
             const struct rte_dma_sge *dst OVS_UNUSED,
             uint16_t nb_src OVS_UNUSED, uint16_t nb_dst OVS_UNUSED,
             uint64_t flags OVS_UNUSED)
{
    return -ENOTSUP;
}

static int
fake_fill(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
          uint64_t pattern OVS_UNUSED, rte_iova_t dst OVS_UNUSED,
          uint32_t len OVS_UNUSED, uint64_t flags OVS_UNUSED)
{
    return -ENOTSUP;
}

static uint16_t
fake_completed(void *priv OVS_UNUSED, uint16_t vchan OVS_UNUSED,
               uint16_t nb OVS_UNUSED, uint16_t *last OVS_UNUSED,
               bool *has_error OVS_UNUSED)
{
    return 0;
}

/* The last call of a fabricated device's forwarded member (DPDK 25.11's
 * enqueue/dequeue: rte_dma_op API). */
static struct {
    const char *member;
    void *priv;
    uint16_t vchan;
    struct rte_dma_op **ops;
    uint16_t nb_ops;
} fwd_call;

/* Records a call of forwarded member 'member' in 'fwd_call'. */
static OVS_UNUSED void
fake_fwd_record(const char *member, void *priv, uint16_t vchan,
                struct rte_dma_op **ops, uint16_t nb_ops)
{
    fwd_call.member = member;
    fwd_call.priv = priv;
    fwd_call.vchan = vchan;
    fwd_call.ops = ops;
    fwd_call.nb_ops = nb_ops;
}

static OVS_UNUSED uint16_t
fake_fwd_enqueue(void *priv, uint16_t vchan, struct rte_dma_op **ops,
                 uint16_t nb_ops)
{
    fake_fwd_record("enqueue", priv, vchan, ops, nb_ops);
    return nb_ops - 1;
}

static OVS_UNUSED uint16_t
fake_fwd_dequeue(void *priv, uint16_t vchan, struct rte_dma_op **ops,
                 uint16_t nb_ops)
{
    fake_fwd_record("dequeue", priv, vchan, ops, nb_ops);
    return nb_ops - 2;
}

/* test-dsa engine-entry: installs the copy-policy layer over a fabricated
 * device whose every fast-path member is set, and checks the layer's entry
 * member by member, as dsa-compat.h lists them for this DPDK: the private
 * data must stay the device's (drivers read it in control calls); those
 * the layer implements must be its own, and lead to the engine of the
 * entry's dmadev; those it forwards must reach the device's own function
 * with the device's private data and the caller's arguments, and return
 * its result.  Prints the ABI and the members; a missing or
 * wrong member is an error (exit status 1). */
static int
cmd_engine_entry(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct dsa_engine_ctl ctl = { fake_stop, fake_start, fake_now };
    struct rte_dma_fp_object dev, fp, fp5;
    struct rte_dma_op *ops[8] OVS_UNUSED;
    char *dev_private = xstrdup("device");
    struct dsa_engine *e, *e5;
    int errors = 0;

    memset(&dev, 0, sizeof dev);
    dev.dev_private = dev_private;
    dev.copy = fake_copy;
    dev.copy_sg = fake_copy_sg;
    dev.fill = fake_fill;
    dev.submit = fake_submit;
    dev.completed = fake_completed;
    dev.completed_status = fake_completed_status;
    dev.burst_capacity = fake_burst_capacity;
#define SET_FWD(MEMBER) dev.MEMBER = fake_fwd_##MEMBER;
    DSA_DMA_FP_FWD_FUNCS(SET_FWD)
#undef SET_FWD

    /* Two engines, on dmadevs 0 and 5, with rings of 16 and 32. */
    e = dsa_engine_create("fake0", 0, &dev, 16, &ctl);
    memset(&fp, 0, sizeof fp);
    dsa_engine_fast_path(e, &fp);
    e5 = dsa_engine_create("fake5", 5, &dev, 32, &ctl);
    memset(&fp5, 0, sizeof fp5);
    dsa_engine_fast_path(e5, &fp5);

    printf("abi %s\n", DSA_DMA_FP_ABI);
    /* The device's private data stays in the entry: drivers read it in
     * their control calls (idxd: dev->fp_obj->dev_private). */
    if (fp.dev_private != dev_private || fp5.dev_private != dev_private) {
        fprintf(stderr, "dev_private: not the device's\n");
        errors++;
    }
    /* Each entry leads to its own engine. */
    printf("capacity: %u %u\n", fp.burst_capacity(fp.dev_private, 0),
           fp5.burst_capacity(fp5.dev_private, 0));

    printf("layer:");
#define CHECK_LAYER(MEMBER)                                             \
    printf(" %s", #MEMBER);                                             \
    if (!fp.MEMBER || fp.MEMBER == dev.MEMBER) {                        \
        fprintf(stderr, "%s: %s\n", #MEMBER,                            \
                fp.MEMBER ? "the device's own" : "missing");            \
        errors++;                                                       \
    }
    DSA_DMA_FP_LAYER_FUNCS(CHECK_LAYER)
#undef CHECK_LAYER
    printf("\n");

    printf("forwarded:");
#define CHECK_FWD(MEMBER)                                               \
    printf(" %s", #MEMBER);                                             \
    memset(&fwd_call, 0, sizeof fwd_call);                              \
    if (!fp.MEMBER) {                                                   \
        fprintf(stderr, "%s: missing\n", #MEMBER);                      \
        errors++;                                                       \
    } else {                                                            \
        uint16_t want = dev.MEMBER(NULL, 0, NULL, 8);                   \
        uint16_t n;                                                     \
                                                                        \
        memset(&fwd_call, 0, sizeof fwd_call);                          \
        n = fp.MEMBER(fp.dev_private, 3, ops, 8);                       \
        if (!fwd_call.member || strcmp(fwd_call.member, #MEMBER)        \
            || fwd_call.priv != dev_private || fwd_call.vchan != 3      \
            || fwd_call.ops != ops || fwd_call.nb_ops != 8              \
            || n != want) {                                             \
            fprintf(stderr, "%s: not forwarded to the device's %s "     \
                    "(reached %s, private data %s, returned %u)\n",     \
                    #MEMBER, #MEMBER,                                   \
                    fwd_call.member ? fwd_call.member : "nothing",      \
                    fwd_call.priv == dev_private ? "the device's"       \
                    : "wrong", n);                                      \
            errors++;                                                   \
        }                                                               \
    }
    DSA_DMA_FP_FWD_FUNCS(CHECK_FWD)
#undef CHECK_FWD
    printf("\n");

    dsa_engine_destroy(e);
    dsa_engine_destroy(e5);
    free(dev_private);
    return errors ? 1 : 0;
}

/* test-dsa engine [max-desc=N] [dev-batch=N] OP...: drives the copy-policy
 * layer over a fabricated device (with dev-batch, one that takes at most N
 * copies per doorbell and reports it in its burst capacity, as idxd does).
 * OP is one of:
 *   threshold=N watchdog=MS quarantine=MS ring=N   policy and device ring
 *   copy:LEN          vhost asks for a copy of LEN bytes
 *   submit            vhost rings the doorbell
 *   dev-done:N        the device completes its N oldest copies
 *   dev-fail:N        the device fails its N oldest copies (garbage)
 *   inject:ARGS       dsa/inject-fault ARGS (comma-separated)
 *   stop-fails        stopping the device fails from now on
 *   model:M           engine model
 *   clock:+MS         time passes
 *   poll              vhost polls completions; checks their data
 *   capacity          prints the free room vhost sees
 *   stats             prints the state and counters */
static int
cmd_engine(int argc, char *argv[])
{
    struct dsa_engine_ctl ctl = { fake_stop, fake_start, fake_now };
    static struct test_copy copies[ENGINE_MAX_COPIES];
    struct rte_dma_fp_object dev, fp;
    unsigned int max_desc = 16, n_copies = 0, n_reported = 0;
    unsigned int threshold = DSA_COPY_THRESHOLD_DEFAULT;
    unsigned int watchdog = DSA_WATCHDOG_MS_DEFAULT;
    unsigned int quarantine = DSA_QUARANTINE_MS_DEFAULT;
    struct dsa_engine *e;
    int i = 0;

    memset(&fake, 0, sizeof fake);
    fake.ring = 8;
    fake_clock = 1000;
    if (argc && sscanf(argv[0], "max-desc=%u", &max_desc) == 1) {
        i++;
    }
    if (i < argc && sscanf(argv[i], "dev-batch=%u", &fake.max_batch) == 1) {
        i++;
    }
    memset(&dev, 0, sizeof dev);
    if (fake.max_batch) {
        dev.burst_capacity = fake_burst_capacity;
    }
    dev.copy = fake_copy;
    dev.submit = fake_submit;
    dev.completed_status = fake_completed_status;
    e = dsa_engine_create("fake0", 0, &dev, max_desc, &ctl);
    dsa_engine_fast_path(e, &fp);
    dsa_engine_set_policy(threshold, watchdog, quarantine);

    for (; i < argc; i++) {
        char *op = argv[i];
        unsigned int n;

        if (sscanf(op, "threshold=%u", &threshold) == 1
            || sscanf(op, "watchdog=%u", &watchdog) == 1
            || sscanf(op, "quarantine=%u", &quarantine) == 1) {
            dsa_engine_set_policy(threshold, watchdog, quarantine);
        } else if (sscanf(op, "ring=%u", &n) == 1) {
            fake.ring = MIN(n, FAKE_MAX);
        } else if (sscanf(op, "copy:%u", &n) == 1
                   && n_copies < ENGINE_MAX_COPIES) {
            struct test_copy *c = &copies[n_copies];
            unsigned int before = fake.head;

            c->len = n;
            c->src = xmalloc(n);
            c->dst = xzalloc(n);
            for (unsigned int j = 0; j < n; j++) {
                c->src[j] = n_copies * 7 + j;
            }
            c->idx = fp.copy(fp.dev_private, 0, (uintptr_t) c->src,
                             (uintptr_t) c->dst, n, 0);
            printf("copy %u (%u B): ", n_copies, n);
            if (c->idx < 0) {
                printf("refused (%s)\n", ovs_strerror(-c->idx));
                free(c->src);
                free(c->dst);
                continue;
            }
            printf("index %d, %s\n", c->idx,
                   fake.head != before ? "device" : "cpu");
            n_copies++;
        } else if (!strcmp(op, "submit")) {
            fp.submit(fp.dev_private, 0);
            printf("submit: device doorbells %u", fake.submits);
            if (fake.rejected) {
                printf(", batches rejected %u", fake.rejected);
            }
            printf("\n");
        } else if (sscanf(op, "dev-done:%u", &n) == 1
                   || sscanf(op, "dev-fail:%u", &n) == 1) {
            bool fail = !strncmp(op, "dev-fail", 8);

            for (unsigned int k = fake.tail; k < fake.head && n; k++) {
                if (!fake.q[k % FAKE_MAX].ready) {
                    void *dst = (void *) (uintptr_t) fake.q[k % FAKE_MAX].dst;
                    void *src = (void *) (uintptr_t) fake.q[k % FAKE_MAX].src;

                    if (fail) {
                        memset(dst, 0xaa, fake.q[k % FAKE_MAX].len);
                    } else {
                        memcpy(dst, src, fake.q[k % FAKE_MAX].len);
                    }
                    fake.q[k % FAKE_MAX].ready = true;
                    fake.q[k % FAKE_MAX].failed = fail;
                    n--;
                }
            }
        } else if (!strncmp(op, "inject:", 7)) {
            struct dsa_faults f;
            const char *args[8];
            char *save = NULL, *tok;
            int n_args = 0;
            char *error;

            for (tok = strtok_r(op + 7, ",", &save); tok && n_args < 8;
                 tok = strtok_r(NULL, ",", &save)) {
                args[n_args++] = tok;
            }
            error = dsa_faults_parse(n_args, args, &f);
            if (error) {
                printf("inject: %s\n", error);
                free(error);
            } else {
                dsa_engine_set_faults(&f);
            }
        } else if (!strcmp(op, "stop-fails")) {
            fake.stop_error = EBUSY;
        } else if (!strncmp(op, "model:", 6)) {
            dsa_engine_set_model(!strcmp(op + 6, "inline") ? DSA_MODEL_INLINE
                                 : !strcmp(op + 6, "ideal") ? DSA_MODEL_IDEAL
                                 : !strcmp(op + 6, "cost") ? DSA_MODEL_COST
                                 : DSA_MODEL_DEVICE);
        } else if (sscanf(op, "clock:+%u", &n) == 1) {
            fake_clock += n;
        } else if (!strcmp(op, "poll")) {
            bool has_error = true;
            uint16_t last = 0;
            uint16_t got = fp.completed(fp.dev_private, 0, 64, &last,
                                        &has_error);

            printf("poll: %u completed", got);
            if (got) {
                bool ok = true;

                printf(", last index %u", last);
                for (uint16_t k = 0; k < got; k++) {
                    struct test_copy *c = &copies[n_reported++];

                    ok = ok && test_copy_ok(c);
                    c->checked = true;
                }
                printf(", data %s", ok ? "intact" : "CORRUPT");
            }
            printf("%s; device stops %u starts %u\n",
                   has_error ? ", ERROR" : "", fake.stops, fake.starts);
        } else if (!strcmp(op, "release")) {
            dsa_engine_release(e);
            printf("release: device stops %u starts %u\n", fake.stops,
                   fake.starts);
        } else if (!strcmp(op, "capacity")) {
            printf("capacity: %u\n", fp.burst_capacity(fp.dev_private, 0));
        } else if (!strcmp(op, "stats")) {
            struct ds s = DS_EMPTY_INITIALIZER;

            dsa_engine_describe(e, &s, true);
            printf("stats: %s\n", ds_cstr(&s));
            ds_destroy(&s);
        } else {
            ovs_fatal(0, "%s: unknown engine operation", op);
        }
    }
    for (unsigned int k = 0; k < n_copies; k++) {
        free(copies[k].src);
        free(copies[k].dst);
    }
    dsa_engine_destroy(e);
    return 0;
}

/* test-dsa iova: IOVA-as-PA translation on a fabricated memory map: four
 * 4 KiB "physical" pages contiguous in IOVA space but scattered in virtual
 * memory (as a guest's hugepages are), plus a destination buffer. */
static int
cmd_iova(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    enum { PAGE = 4096, N_PAGES = 4 };
    uint8_t *pages[N_PAGES], *dst = xzalloc(3 * PAGE), *expect;
    struct dsa_iova_seg segs[N_PAGES + 5];
    struct dsa_iova_map *map;
    uint64_t avail;
    void *va;

    for (int i = 0; i < N_PAGES; i++) {
        pages[i] = xmalloc(PAGE);
        for (int j = 0; j < PAGE; j++) {
            pages[i][j] = i * 16 + j;
        }
    }
    /* Out of order; then the destination: three pages contiguous in both
     * spaces (merged into one range); then a range overlapping page 0 and
     * an empty one, both dropped. */
    for (int i = 0; i < N_PAGES; i++) {
        int p = (i + 1) % N_PAGES;

        segs[i] = (struct dsa_iova_seg) { 0x100000 + p * PAGE, pages[p],
                                          PAGE };
    }
    for (int i = 0; i < 3; i++) {
        segs[N_PAGES + i] = (struct dsa_iova_seg) { 0x900000 + i * PAGE,
                                                    dst + i * PAGE, PAGE };
    }
    segs[N_PAGES + 3] = (struct dsa_iova_seg) { 0x100800, pages[0], PAGE };
    segs[N_PAGES + 4] = (struct dsa_iova_seg) { 0x200000, pages[0], 0 };
    map = dsa_iova_map_build(segs, ARRAY_SIZE(segs));
    printf("ranges %"PRIuSIZE", overlaps %"PRIuSIZE"\n", map->n,
           map->n_overlaps);

    static const uint64_t probes[] = {
        0xfffff, 0x100000, 0x100fff, 0x101000, 0x103fff, 0x104000,
        0x900000, 0x902fff, 0x903000,
    };
    for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
        va = dsa_iova_map_lookup(map, probes[i], &avail);
        if (!va) {
            printf("0x%"PRIx64": unmapped\n", probes[i]);
            continue;
        }
        for (int p = 0; p < N_PAGES; p++) {
            uint8_t *b = va;

            if (b >= pages[p] && b < pages[p] + PAGE) {
                printf("0x%"PRIx64": page %d + %td, %"PRIu64" contiguous\n",
                       probes[i], p, (uint8_t *) va - pages[p], avail);
            }
        }
        if ((uint8_t *) va >= dst && (uint8_t *) va < dst + 3 * PAGE) {
            printf("0x%"PRIx64": dst + %td, %"PRIu64" contiguous\n",
                   probes[i], (uint8_t *) va - dst, avail);
        }
    }

    /* 9000 bytes from the middle of page 0 to the destination: four pieces
     * on the source side, one on the destination side. */
    expect = xmalloc(9000);
    for (int k = 0; k < 9000; k++) {
        int off = 0x800 + k;

        expect[k] = pages[off / PAGE][off % PAGE];
    }
    printf("copy 9000 B: %s",
           dsa_iova_map_copy(map, 0x900010, 0x100800, 9000)
           ? "done" : "failed");
    printf(", data %s\n", memcmp(dst + 0x10, expect, 9000) ? "CORRUPT"
           : "intact");
    printf("copy across the end: %s\n",
           dsa_iova_map_copy(map, 0x900000, 0x103800, 4096) ? "done"
           : "refused");

    /* The CPU copies of the copy-policy layer translate through the map,
     * as under IOVA-as-PA. */
    memset(dst, 0, 3 * PAGE);
    dsa_iova_set_map_for_tests(map);
    printf("cpu copy (PA mode): %s",
           dsa_iova_cpu_copy(0x900010, 0x100800, 9000) ? "done" : "failed");
    printf(", data %s\n", memcmp(dst + 0x10, expect, 9000) ? "CORRUPT"
           : "intact");
    printf("cpu copy of an unmapped IOVA: %s\n",
           dsa_iova_cpu_copy(0x900000, 0x500000, 64) ? "done" : "failed");
    dsa_iova_set_map_for_tests(NULL);

    dsa_iova_map_destroy(map);
    for (int i = 0; i < N_PAGES; i++) {
        free(pages[i]);
    }
    free(dst);
    free(expect);
    return 0;
}

/* Frees packet 'm' segment by segment, as rte_pktmbuf_free() does, but
 * gives a segment whose last reference goes back to the heap (these test
 * segments have no mempool), where AddressSanitizer watches it.  Returns
 * how many segments were freed. */
static int
test_mbuf_free(struct rte_mbuf *m)
{
    int n = 0;

    while (m) {
        struct rte_mbuf *next = m->next;

        if (rte_pktmbuf_prefree_seg(m)) {
            free(m);
            n++;
        }
        m = next;
    }
    return n;
}

/* Returns a packet of 'n_segs' test segments of 2 KiB, one reference
 * each. */
static struct rte_mbuf *
test_mbuf_chain(int n_segs)
{
    struct rte_mbuf *head = NULL, **tail = &head;

    for (int i = 0; i < n_segs; i++) {
        struct rte_mbuf *m = xzalloc(sizeof *m);

        rte_mbuf_refcnt_set(m, 1);
        m->nb_segs = 1;
        m->data_len = 2048;
        *tail = m;
        tail = &m->next;
    }
    head->nb_segs = n_segs;
    head->pkt_len = n_segs * 2048;
    return head;
}

/* mbuf N-SEGS: two packets of N-SEGS segments go through what the enqueue
 * hook does when the device accepted the first one only: dsa_mbuf_take()
 * of that one, then the caller's free of its whole array (the packet taken
 * must survive it whole: the engine still reads every segment; the other
 * one goes), then the free when the copy completes (every segment of the
 * taken packet goes, once). */
static int
cmd_mbuf(int argc, char *argv[])
{
    int n_segs = argc > 0 ? atoi(argv[0]) : 3;
    struct rte_mbuf *pkts[2] = { test_mbuf_chain(n_segs),
                                 test_mbuf_chain(n_segs) };
    struct rte_mbuf *in_flight = pkts[0];
    int n = 0;

    dsa_mbuf_take(pkts, 1);
    for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
        n += test_mbuf_free(pkts[i]);
    }
    printf("segments freed by the caller: %d\n", n);
    for (struct rte_mbuf *m = in_flight; m; m = m->next) {
        if (rte_mbuf_refcnt_read(m) != 1) {
            printf("segment with %u references\n",
                   rte_mbuf_refcnt_read(m));
        }
    }
    printf("segments freed at completion: %d\n", test_mbuf_free(in_flight));
    return 0;
}

/* What two threads count under one 'struct dsa_vq_excl'. */
struct vq_excl_arg {
    struct dsa_vq_excl *x;
    unsigned long *counter;     /* Not atomic: only the exclusion guards it. */
    int n;
};

/* Adds 1 to the counter 'n' times, each time under the exclusion. */
static void *
vq_excl_thread(void *arg_)
{
    struct vq_excl_arg *arg = arg_;

    for (int i = 0; i < arg->n; i++) {
        dsa_vq_excl_acquire(arg->x);
        *(volatile unsigned long *) arg->counter += 1;
        dsa_vq_excl_release(arg->x);
    }
    return NULL;
}

/* vq-excl N: the exclusion between the vhost calls of one virtqueue
 * (dsa-compat.h).  Prints whether the DPDK built against serializes them
 * itself; if it does not (23.07 on), a second taker must be turned away
 * until the first gives it back, and two threads adding N each under it
 * must count 2 * N.  If it does (22.11), every taker gets it at once. */
static int
cmd_vq_excl(int argc, char *argv[])
{
    int n = argc > 0 ? atoi(argv[0]) : 100000;
    struct dsa_vq_excl x;
    bool first, second, again;

    dsa_vq_excl_init(&x);
    first = dsa_vq_excl_try(&x);
    second = dsa_vq_excl_try(&x);
    if (second) {
        dsa_vq_excl_release(&x);
    }
    dsa_vq_excl_release(&x);
    again = dsa_vq_excl_try(&x);
    dsa_vq_excl_release(&x);

    printf("dpdk: %s\n", DSA_COMPAT_VHOST_SHARED_VQ_LOCK
           ? "shares the virtqueue lock" : "serializes the virtqueue");
    printf("first taker: %s\n", first ? "gets it" : "turned away");
    printf("second taker while held: %s\n",
           second ? "gets it" : "turned away");
    printf("taker after release: %s\n", again ? "gets it" : "turned away");
    if (DSA_COMPAT_VHOST_SHARED_VQ_LOCK) {
        unsigned long counter = 0;
        struct vq_excl_arg arg = { &x, &counter, n };
        pthread_t t[2];

        for (int i = 0; i < 2; i++) {
            t[i] = ovs_thread_create("vq-excl", vq_excl_thread, &arg);
        }
        for (int i = 0; i < 2; i++) {
            xpthread_join(t[i], NULL);
        }
        printf("two threads adding %d each: %lu\n", n, counter);
    }
    return 0;
}

/* tvqs N: a thread submits to N virtqueues (of N / 2 devices, on two
 * channels), and to some of them again: it must track every one, once,
 * and each as busy (to be polled) after a submit, also one it had found
 * idle. */
static int
cmd_tvqs(int argc, char *argv[])
{
    int n = argc > 0 ? atoi(argv[0]) : 300;
    struct dsa_tstate ts = { NULL, 0, 0, 0, 0 };
    int added = 0, missing = 0, busy = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            struct dsa_vdev *vdev = (struct dsa_vdev *) (uintptr_t) (4096
                                                                + i / 2);

            added += dsa_tstate_add(&ts, vdev, i / 2, i % 2, i % 3 ? 0 : 1);
        }
        if (!pass) {
            /* Its polls found them all idle. */
            for (size_t j = 0; j < ts.n; j++) {
                ts.vqs[j].busy = false;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        bool found = false;

        for (size_t j = 0; j < ts.n; j++) {
            const struct dsa_tvq *t = &ts.vqs[j];

            if (t->vid == i / 2 && t->qid == i % 2
                && t->dma == (i % 3 ? 0 : 1)) {
                found = true;
                busy += t->busy;
            }
        }
        missing += !found;
    }
    printf("queues %d, tracked %"PRIuSIZE", added %d, missing %d, busy %d\n",
           n, ts.n, added, missing, busy);

    /* A new device that took a gone one's address (and another id) is
     * another queue, even on the same queue index and channel as the
     * first one tracked (vid 0, qid 0, channel 1). */
    struct dsa_vdev *first = (struct dsa_vdev *) (uintptr_t) 4096;

    printf("same address, new device: %s\n",
           dsa_tstate_add(&ts, first, n + 7, 0, 1) ? "added" : "merged");
    free(ts.vqs);
    return 0;
}

/* Two threads' meeting points, each wait bounded: a test never hangs. */
static pthread_mutex_t sync_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;

/* Sets '*flag' and wakes up who waits for it. */
static void
sync_set(bool *flag)
{
    pthread_mutex_lock(&sync_mutex);
    *flag = true;
    pthread_cond_broadcast(&sync_cond);
    pthread_mutex_unlock(&sync_mutex);
}

/* Waits up to 'ms' milliseconds for '*flag' (or '*flag2', if nonnull).
 * Returns true if it is set. */
static bool
sync_wait(bool *flag, bool *flag2, int ms)
{
    struct timespec ts;
    bool set;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sync_mutex);
    while (!*flag && !(flag2 && *flag2)
           && !pthread_cond_timedwait(&sync_cond, &sync_mutex, &ts)) {
        continue;
    }
    set = *flag || (flag2 && *flag2);
    pthread_mutex_unlock(&sync_mutex);
    return set;
}

/* Fabricated DPDK memory for IOVA-as-PA: one 2 MiB segment (never
 * dereferenced), and DPDK's memory hotplug lock. */
#define FAKE_MB (UINT64_C(1) << 20)
static pthread_rwlock_t fake_hotplug = PTHREAD_RWLOCK_INITIALIZER;
static bool fake_event_held;    /* The "DPDK" thread holds the lock. */
static bool fake_main_waits;    /* The main thread waits for it. */
static bool fake_main_done;     /* The main thread's change is done. */

static int
fake_memseg_walk_locked(rte_memseg_walk_t cb, void *arg)
{
    struct rte_memseg ms;

    memset(&ms, 0, sizeof ms);
    ms.iova = 0x1000000;
    ms.addr_64 = UINT64_C(0x7e0000000000);
    ms.len = 2 * FAKE_MB;
    return cb(NULL, &ms, arg);
}

/* Takes the fabricated hotplug lock for reading.  While the "DPDK" thread
 * holds it (for writing) it waits for the main thread, so waiting for it
 * then is a lock order inversion: gives up after a second and says so. */
static bool
fake_hotplug_rdlock(void)
{
    struct timespec ts;

    if (fake_event_held) {
        sync_set(&fake_main_waits);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    if (pthread_rwlock_timedrdlock(&fake_hotplug, &ts)) {
        printf("lock order inverted: waited 1 s for DPDK's memory hotplug "
               "lock while the memory event callback waited for ours\n");
        return false;
    }
    return true;
}

static bool fake_rdlocked;

static void
fake_mem_read_lock(void)
{
    fake_rdlocked = fake_hotplug_rdlock();
}

static void
fake_mem_read_unlock(void)
{
    if (fake_rdlocked) {
        fake_rdlocked = false;
        pthread_rwlock_unlock(&fake_hotplug);
    }
}

/* Fabricated guest memory: one region per vhost device, in 2 MiB huge
 * pages at 0x7f0000000000 + 2 MiB * N, whose physical addresses are
 * scattered. */
#define FAKE_HOST_BASE UINT64_C(0x7f0000000000)
#define FAKE_N_VIDS 8
static struct {
    uint64_t addr, size;        /* Host address and size, or size 0. */
} fake_guests[FAKE_N_VIDS];

static int
fake_get_mem_table(int vid, struct rte_vhost_memory **mem)
{
    if (vid < 0 || vid >= FAKE_N_VIDS || !fake_guests[vid].size) {
        return -1;
    }
    *mem = xzalloc(sizeof **mem + sizeof (*mem)->regions[0]);
    (*mem)->nregions = 1;
    (*mem)->regions[0].host_user_addr = fake_guests[vid].addr;
    (*mem)->regions[0].size = fake_guests[vid].size;
    (*mem)->regions[0].fd = -1;
    return 0;
}

static phys_addr_t
fake_virt2phy(const void *va)
{
    static const uint64_t pages[] = {
        0x40000000, 0x80000000, 0x20000000, 0x60000000,
        0xa0000000, 0xc0000000, 0xe0000000, 0x100000000,
    };
    uint64_t off = (uintptr_t) va - FAKE_HOST_BASE;

    if ((uintptr_t) va < FAKE_HOST_BASE
        || off >= ARRAY_SIZE(pages) * 2 * FAKE_MB) {
        return RTE_BAD_PHYS_ADDR;
    }
    return pages[off / (2 * FAKE_MB)] + off % (2 * FAKE_MB);
}

static uint64_t
fake_page_size(int fd OVS_UNUSED)
{
    return 2 * FAKE_MB;
}

static const struct dsa_iova_ops fake_iova_ops = {
    .memseg_walk_locked = fake_memseg_walk_locked,
    .mem_read_lock = fake_mem_read_lock,
    .mem_read_unlock = fake_mem_read_unlock,
    .get_mem_table = fake_get_mem_table,
    .virt2phy = fake_virt2phy,
    .page_size = fake_page_size,
};

/* Prints the IOVA map CPU copies translate through now. */
static void
print_iova_map(const char *title)
{
    const struct dsa_iova_map *map = dsa_iova_current_for_tests();

    printf("%s: %"PRIuSIZE" range(s)\n", title, map ? map->n : 0);
    for (size_t i = 0; map && i < map->n; i++) {
        const struct dsa_iova_seg *seg = &map->segs[i];

        printf("  0x%"PRIx64"-0x%"PRIx64" -> 0x%"PRIxPTR"\n", seg->iova,
               seg->iova + seg->len - 1, (uintptr_t) seg->va);
    }
}

/* The "DPDK" thread: DPDK's memory changes; it calls the memory event
 * callback holding its hotplug lock for writing. */
static void *
fake_dpdk_mem_event(void *arg OVS_UNUSED)
{
    pthread_rwlock_wrlock(&fake_hotplug);
    sync_set(&fake_event_held);
    /* Until the main thread waits for the lock or is done. */
    sync_wait(&fake_main_waits, &fake_main_done, 5000);
    dsa_iova_mem_event_for_tests();
    pthread_rwlock_unlock(&fake_hotplug);
    return NULL;
}

/* test-dsa iova-lock-order: a DPDK memory event (callback called with
 * DPDK's memory hotplug lock held) while a vhost device goes away (the
 * vhost thread rebuilds the IOVA map): both must finish, whatever the
 * interleaving. */
static int
cmd_iova_lock_order(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    pthread_t dpdk;

    dsa_iova_start_for_tests(&fake_iova_ops);
    dpdk = ovs_thread_create("dpdk-mem-event", fake_dpdk_mem_event, NULL);
    sync_wait(&fake_event_held, NULL, 5000);
    dsa_iova_guest_forget(5);
    sync_set(&fake_main_done);
    xpthread_join(dpdk, NULL);
    printf("memory event during a guest change: both done\n");
    print_iova_map("map");
    dsa_iova_stop_for_tests();
    return 0;
}

/* test-dsa iova-guest: the IOVA map of guest memory on fabricated vhost
 * devices, through the vhost hooks. */
static int
cmd_iova_guest(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    uint64_t avail;
    void *va;

    dsa_iova_start_for_tests(&fake_iova_ops);

    /* Device 3 attaches: 4 MiB from 512 KiB into its first huge page, so
     * it spans three pages (physical 0x40000000, 0x80000000, 0x20000000):
     * each range must end where its page does. */
    fake_guests[3].addr = FAKE_HOST_BASE + FAKE_MB / 2;
    fake_guests[3].size = 4 * FAKE_MB;
    /* Only offloaded ports' guests are followed: port "vhu0" is added
     * while dsa-enable is true. */
    uint64_t flags = 0;

    /* No real vhost device 3: DPDK's vhost library says so on stderr. */
    rte_log_set_global_level(RTE_LOG_CRIT);
    dsa_vhost_set_port_policy(true, true, DSA_COPY_THRESHOLD_DEFAULT);
    dsa_vhost_driver_flags("vhu0", &flags);
    dsa_vhost_new_device(3, "vhu0");
    print_iova_map("device 3 attached");
    va = dsa_iova_map_lookup(dsa_iova_current_for_tests(), 0x20001000,
                             &avail);
    printf("iova 0x20001000: ");
    if (va) {
        printf("0x%"PRIxPTR", %"PRIu64" contiguous\n", (uintptr_t) va, avail);
    } else {
        printf("unmapped\n");
    }

    /* Its memory table changes: DPDK enables queue 0 again. */
    fake_guests[3].addr = FAKE_HOST_BASE + 6 * FAKE_MB;
    fake_guests[3].size = 2 * FAKE_MB;
    dsa_vhost_vring_state(3, 0, 1);
    print_iova_map("device 3 memory changed");

    /* Device 4 enables its queues but never runs (no new_device); DPDK
     * destroys it without destroy_device: nothing of it may stay. */
    fake_guests[4].addr = FAKE_HOST_BASE + 10 * FAKE_MB;
    fake_guests[4].size = 2 * FAKE_MB;
    dsa_vhost_vring_state(4, 0, 1);
    dsa_vhost_vring_state(4, 1, 1);
    fake_guests[4].size = 0;
    print_iova_map("device 4 came and went without running");

    dsa_vhost_destroy_device(3);
    print_iova_map("device 3 destroyed");
    dsa_iova_stop_for_tests();
    return 0;
}

/* A CPU copy on a thread that OvS's RCU sees as quiescent (DPDK's vhost
 * thread inside vring_state_changed) while the main thread replaces the
 * IOVA map. */
static bool q_in_copy, q_go, q_retired;

static void
q_copy_hook(void)
{
    sync_set(&q_in_copy);
    sync_wait(&q_go, NULL, 5000);
}

static void
q_retire(void *aux OVS_UNUSED)
{
    sync_set(&q_retired);
}

static void *
q_vhost_thread(void *ok_)
{
    bool *ok = ok_;

    /* As OvS leaves DPDK's vhost thread. */
    ovsrcu_quiesce_start();
    *ok = dsa_iova_cpu_copy(0x200000, 0x100000, 64);
    return NULL;
}

/* test-dsa iova-quiescent: the map a quiescent thread copies through is
 * not freed under it. */
static int
cmd_iova_quiescent(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    uint8_t src[64], dst[64];
    struct dsa_iova_seg segs[2] = {
        { 0x100000, src, sizeof src },
        { 0x200000, dst, sizeof dst },
    };
    struct dsa_iova_map *old = dsa_iova_map_build(segs, 2);
    struct dsa_iova_map *new = dsa_iova_map_build(segs, 2);
    pthread_t vhost;
    bool ok = false;

    for (int i = 0; i < sizeof src; i++) {
        src[i] = i;
    }
    memset(dst, 0, sizeof dst);
    dsa_iova_set_map_for_tests(old);
    dsa_iova_set_copy_hook_for_tests(q_copy_hook);
    vhost = ovs_thread_create("vhost-events", q_vhost_thread, &ok);
    sync_wait(&q_in_copy, NULL, 5000);

    dsa_iova_replace_map_for_tests(new, q_retire, NULL);
    ovsrcu_quiesce_start();
    printf("old map %s\n", sync_wait(&q_retired, NULL, 500)
           ? "retired while a quiescent thread copies through it"
           : "kept while a quiescent thread copies through it");
    sync_set(&q_go);
    xpthread_join(vhost, NULL);
    printf("copy: %s, data %s\n", ok ? "done" : "failed",
           memcmp(src, dst, sizeof dst) ? "CORRUPT" : "intact");
    printf("old map %s after the copy\n",
           sync_wait(&q_retired, NULL, 5000) ? "retired" : "NOT retired");
    ovsrcu_quiesce_end();

    dsa_iova_set_copy_hook_for_tests(NULL);
    dsa_iova_set_map_for_tests(NULL);
    dsa_iova_map_destroy(old);
    dsa_iova_map_destroy(new);
    return 0;
}

/* test-dsa host-summary SYSFS RAWIO ADMIN: the bring-up line of dsa/show
 * for the host in the fabricated sysfs tree SYSFS, with CAP_SYS_RAWIO and
 * CAP_SYS_ADMIN present (1) or missing (0). */
static int
cmd_host_summary(int argc, char *argv[])
{
    struct dsa_host host;
    char *summary;

    if (argc != 3) {
        ovs_fatal(0, "usage: host-summary SYSFS RAWIO ADMIN");
    }
    dsa_host_scan(argv[0], "etc", &host);
    summary = dsa_host_summary(&host, atoi(argv[1]), atoi(argv[2]));
    puts(summary);
    free(summary);
    dsa_host_destroy(&host);
    return 0;
}

/* Guest memory of "test-dsa vlog": 64 pages at guest-physical
 * VLOG_GPA. */
#define VLOG_PAGES 64
#define VLOG_GPA 0x100000
static uint8_t vlog_guest[VLOG_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t vlog_bitmap[64];

/* Returns the host address of guest page 'page', 'offset' bytes in. */
static void *
vlog_va(int page, int offset)
{
    return &vlog_guest[page * 4096 + offset];
}

/* Returns the guest-physical address of guest page 'page'. */
static uint64_t
vlog_gpa(int page, int offset)
{
    return VLOG_GPA + page * 4096 + offset;
}

/* Prints the guest pages marked in the log as "LABEL: 2 11 12", and clears
 * it. */
static void
vlog_print(const char *label)
{
    int n = 0;

    printf("%s:", label);
    for (int page = 0; page < VLOG_PAGES; page++) {
        uint64_t bit = (VLOG_GPA >> 12) + page;

        if (vlog_bitmap[bit / 8] & (1u << (bit % 8))) {
            if (n++ < 16) {
                printf(" %d", page);
            }
        }
    }
    if (n > 16) {
        printf(" ... (%d pages)", n);
    }
    printf("\n");
    memset(vlog_bitmap, 0, sizeof vlog_bitmap);
}

/* Commits 'snap' on ring 'v' with DPDK's position now 'last_avail' and
 * prints LABEL, whether the marking was exact, and the pages marked. */
static void
vlog_commit(const char *label, const struct dsa_vring_view *v,
            const struct dsa_vlog_snap *snap, uint16_t last_avail,
            const struct dsa_vlog_map *map)
{
    printf("%s: %s\n", label,
           dsa_vlog_snap_commit(v, snap, last_avail, map) ? "exact" : "all");
    vlog_print("  pages");
}

/* Writes packed descriptor 'i' of the ring at guest page 4. */
static void
vlog_packed_desc(int i, int page, uint16_t flags)
{
    struct { uint64_t addr; uint32_t len; uint16_t id, flags; } *d;

    d = vlog_va(4, 16 * i);
    d->addr = vlog_gpa(page, 0);
    d->len = 100;
    d->id = i;
    d->flags = flags;
}

/* test-dsa vlog: dirty-page logging of live migration on fabricated split
 * and packed rings.  Prints the guest pages marked for each case. */
static int
cmd_vlog(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct { uint64_t addr; uint32_t len; uint16_t flags, next; } *desc, *ind;
    struct rte_vhost_memory *mem;
    struct dsa_vlog_map map = { vlog_bitmap, sizeof vlog_bitmap };
    struct dsa_vlog_snap *snap = xmalloc(sizeof *snap);
    struct dsa_vring_view v;
    uint16_t *avail;
    enum { NEXT = 1, WRITE = 2, INDIRECT = 4 };
    enum { AVAIL = 1 << 7, USED = 1 << 15 };

    mem = xzalloc(sizeof *mem + sizeof mem->regions[0]);
    mem->nregions = 1;
    mem->regions[0].guest_phys_addr = VLOG_GPA;
    mem->regions[0].host_user_addr = (uintptr_t) vlog_guest;
    mem->regions[0].size = sizeof vlog_guest;

    /* Split ring of 8: descriptors on page 0, available ring on page 1,
     * used ring on page 2, an indirect table on page 3. */
    desc = vlog_va(0, 0);
    avail = vlog_va(1, 0);
    ind = vlog_va(3, 0);
    desc[0] = (typeof(*desc)) { vlog_gpa(10, 0), 100, NEXT, 1 };
    desc[1] = (typeof(*desc)) { vlog_gpa(11, 0), 4096, WRITE, 0 };
    desc[2] = (typeof(*desc)) { vlog_gpa(3, 0), 2 * sizeof *ind, INDIRECT,
                                0 };
    ind[0] = (typeof(*ind)) { vlog_gpa(12, 4000), 200, WRITE | NEXT, 1 };
    ind[1] = (typeof(*ind)) { vlog_gpa(14, 0), 100, WRITE, 0 };
    desc[4] = (typeof(*desc)) { vlog_gpa(15, 0), 1500, WRITE, 0 };
    avail[1] = 3;
    avail[2] = 0;
    avail[3] = 2;
    avail[4] = 4;
    v = (struct dsa_vring_view) {
        .packed = false, .size = 8, .desc = desc, .avail = avail,
        .used = vlog_va(2, 0), .mem = mem,
    };

    dsa_vlog_snap_take(&v, 0, snap);
    printf("split: %"PRIu32" buffers, %"PRIu32" writable ranges\n",
           snap->n_bufs, snap->n_ranges);
    /* The guest reuses a descriptor of a buffer the call gave back. */
    desc[1].addr = vlog_gpa(20, 0);
    vlog_commit("split, 2 taken", &v, snap, 2, &map);
    vlog_commit("split, 0 taken", &v, snap, 0, &map);
    vlog_commit("split, 4 taken of 3 read", &v, snap, 4, &map);

    /* A malformed chain (a loop) is not followed. */
    desc[5] = (typeof(*desc)) { vlog_gpa(16, 0), 100, WRITE | NEXT, 5 };
    avail[1] = 4;
    avail[5] = 5;
    dsa_vlog_snap_take(&v, 3, snap);
    printf("split, looping chain: %"PRIu32" buffers, %s\n", snap->n_bufs,
           snap->truncated ? "truncated" : "complete");
    vlog_commit("split, looping chain taken", &v, snap, 4, &map);

    /* Packed ring of 8 on page 4, device event area on page 5.  Wrap
     * counter 1: on offer means AVAIL set, USED clear. */
    memset(vlog_va(4, 0), 0, 4096);
    vlog_packed_desc(0, 16, AVAIL | WRITE | NEXT);
    vlog_packed_desc(1, 17, AVAIL | WRITE);
    vlog_packed_desc(2, 18, AVAIL | WRITE);
    v = (struct dsa_vring_view) {
        .packed = true, .size = 8, .desc = vlog_va(4, 0),
        .used = vlog_va(5, 0), .mem = mem,
    };
    dsa_vlog_snap_take(&v, 0x8000, snap);
    printf("packed: %"PRIu32" buffers, %"PRIu32" writable ranges\n",
           snap->n_bufs, snap->n_ranges);
    vlog_commit("packed, 2 descriptors taken", &v, snap, 0x8002, &map);
    vlog_commit("packed, 3 descriptors taken", &v, snap, 0x8003, &map);

    /* Across the end of the ring: positions 6 and 7 with wrap counter 1,
     * then 0 with wrap counter 0 (on offer: AVAIL clear, USED set). */
    vlog_packed_desc(6, 21, AVAIL | WRITE);
    vlog_packed_desc(7, 22, AVAIL | WRITE | NEXT);
    vlog_packed_desc(0, 23, USED | WRITE);
    vlog_packed_desc(1, 24, AVAIL | WRITE);
    dsa_vlog_snap_take(&v, 0x8006, snap);
    printf("packed, wrapping: %"PRIu32" buffers\n", snap->n_bufs);
    vlog_commit("packed, 3 descriptors taken", &v, snap, 0x0001, &map);

    /* The log ends where QEMU sized it: pages beyond are not marked. */
    map.size = ((VLOG_GPA >> 12) + 8) / 8;
    dsa_vlog_mark(&map, vlog_gpa(6, 0), 5 * 4096);
    vlog_print("mark pages 6-10 in a log of pages 0-7");

    free(snap);
    free(mem);
    return 0;
}

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        int (*cb)(int argc, char *argv[]);
    } cmds[] = {
        { "config", cmd_config },
        { "pool", cmd_pool },
        { "classify", cmd_classify },
        { "eal-args", cmd_eal_args },
        { "attach", cmd_attach },
        { "engine", cmd_engine },
        { "engine-entry", cmd_engine_entry },
        { "iova", cmd_iova },
        { "mbuf", cmd_mbuf },
        { "tvqs", cmd_tvqs },
        { "vq-excl", cmd_vq_excl },
        { "iova-lock-order", cmd_iova_lock_order },
        { "iova-guest", cmd_iova_guest },
        { "iova-quiescent", cmd_iova_quiescent },
        { "host-summary", cmd_host_summary },
        { "vlog", cmd_vlog },
    };

    set_program_name(argv[0]);
    /* Log messages are part of the behaviour under test: keep them
     * free of timestamps. */
    vlog_set_pattern(VLF_CONSOLE, "%c|%p|%m");
    if (argc < 2) {
        ovs_fatal(0, "usage: %s config|pool|classify|eal-args|attach|"
                  "engine|iova|iova-lock-order|iova-guest|iova-quiescent|"
                  "mbuf|tvqs|host-summary|vlog ...", argv[0]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            return cmds[i].cb(argc - 2, argv + 2);
        }
    }
    ovs_fatal(0, "%s: unknown command", argv[1]);
}
