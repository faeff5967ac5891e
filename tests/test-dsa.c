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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsa-channel.h"
#include "dsa-config.h"
#include "dsa-eal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
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
    };

    set_program_name(argv[0]);
    /* Log messages are part of the behaviour under test: keep them
     * free of timestamps. */
    vlog_set_pattern(VLF_CONSOLE, "%c|%p|%m");
    if (argc < 2) {
        ovs_fatal(0, "usage: %s config|pool|classify|eal-args|attach ...",
                  argv[0]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            return cmds[i].cb(argc - 2, argv + 2);
        }
    }
    ovs_fatal(0, "%s: unknown command", argv[1]);
}
