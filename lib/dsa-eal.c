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

#include "dsa-eal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsa-config.h"
#include "dsa-host.h"
#include "svec.h"
#include "util.h"

/* Adds to 'bdfs', sorted, the PCI address of every DSA function under
 * 'sysfs_root' that is bound to vfio-pci and that DPDK's idxd driver
 * probes. */
void
dsa_find_vfio_devices(const char *sysfs_root, struct svec *bdfs)
{
    struct dsa_host host;

    dsa_host_scan(sysfs_root, "/etc", &host);
    for (size_t i = 0; i < host.n_devs; i++) {
        const struct dsa_dev *d = &host.devs[i];

        if (!strcmp(d->driver, "vfio-pci")
            && dsa_id_dpdk_probes(d->device_id)) {
            svec_add(bdfs, d->bdf);
        }
    }
    dsa_host_destroy(&host);
}

/* How DPDK 22.11's EAL reads its arguments (lib/eal/common/
 * eal_common_options.c): getopt_long() with these short options ("x:" takes
 * a value, attached "-xVAL" or in the next argument) and long options
 * ("--name VAL" or "--name=VAL"; any unambiguous prefix of a name, as
 * "--al" for "--allow", is that option).  Reading the operator's dpdk-extra
 * the same way tells an allow- or block-list in every spelling from a
 * value that merely looks like one.
 *
 * DPDK 25.11's EAL reads them with its argparse library instead: exact long
 * names only, no clusters of short options, and more long names
 * (--memory-size, --numa-mem, --driver-path, ...).  Every spelling that it
 * accepts and that names a device (-aBDF, -a BDF, --allow=BDF, --allow BDF,
 * and the same for -b/--block, --no-pci) is read here the same way; one it
 * refuses stops EAL whatever is added next to it, and an unknown long name
 * is skipped with no value, which only a value starting with "-" could
 * misread. */
static const char dsa_eal_short_opts[] = "a:b:c:s:d:hl:S:m:n:r:v";

struct dsa_eal_long_opt {
    const char *name;
    int has_arg;                /* 0: none, 1: required, 2: "=VAL" only. */
    char val;                   /* Short option it stands for, or 0. */
};

static const struct dsa_eal_long_opt dsa_eal_long_opts[] = {
    { "base-virtaddr", 1, 0 }, { "create-uio-dev", 0, 0 },
    { "file-prefix", 1, 0 }, { "help", 0, 'h' }, { "huge-dir", 1, 0 },
    { "huge-unlink", 2, 0 }, { "iova-mode", 1, 0 }, { "lcores", 1, 0 },
    { "log-level", 1, 0 }, { "trace", 1, 0 }, { "trace-dir", 1, 0 },
    { "trace-bufsz", 1, 0 }, { "trace-mode", 1, 0 },
    { "main-lcore", 1, 0 }, { "mbuf-pool-ops-name", 1, 0 },
    { "no-hpet", 0, 0 }, { "no-huge", 0, 0 }, { "no-pci", 0, 0 },
    { "no-shconf", 0, 0 }, { "in-memory", 0, 0 }, { "block", 1, 'b' },
    { "allow", 1, 'a' }, { "proc-type", 1, 0 }, { "socket-mem", 1, 0 },
    { "socket-limit", 1, 0 }, { "syslog", 1, 0 }, { "vdev", 1, 0 },
    { "vfio-intr", 1, 0 }, { "vfio-vf-token", 1, 0 },
    { "vmware-tsc-map", 0, 0 }, { "legacy-mem", 0, 0 },
    { "single-file-segments", 0, 0 }, { "match-allocations", 0, 0 },
    { "telemetry", 0, 0 }, { "no-telemetry", 0, 0 },
    { "force-max-simd-bitwidth", 1, 0 }, { "huge-worker-stack", 2, 0 },
};

/* What the EAL arguments say about PCI devices. */
struct dsa_eal_scan {
    bool no_pci;                /* --no-pci. */
    bool allow_list;            /* Some -a (or removed -w). */
    struct svec named;          /* PCI addresses (canonical) given to -a or
                                 * -b, in any spelling. */
    struct svec removed;        /* Removed options used (-w, --pci-...). */
};

/* Records in 'scan' option 'opt' ('a', 'b', 'w' for the removed
 * allow-list option, or 0 for any other) with value 'value' (or NULL). */
static void
dsa_eal_scan_opt(struct dsa_eal_scan *scan, char opt, const char *value)
{
    if (opt == 'a' || opt == 'w') {
        scan->allow_list = true;
    }
    if ((opt == 'a' || opt == 'b' || opt == 'w') && value) {
        /* The device argument is "PCI-ADDRESS[,KEY=VALUE...]". */
        char pci[DSA_PCI_ADDR_LEN];
        char *dev = xstrdup(value);

        dev[strcspn(dev, ",")] = '\0';
        if (dsa_pci_addr_parse(dev, pci)) {
            svec_add(&scan->named, pci);
        }
        free(dev);
    }
}

/* Finds long option 'name' (its first 'len' bytes) as getopt_long() does:
 * an exact match, else the only option it is a prefix of.  Returns NULL
 * for an unknown or ambiguous name (EAL refuses it). */
static const struct dsa_eal_long_opt *
dsa_eal_long_find(const char *name, size_t len)
{
    const struct dsa_eal_long_opt *found = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(dsa_eal_long_opts); i++) {
        const struct dsa_eal_long_opt *o = &dsa_eal_long_opts[i];

        if (!strncmp(o->name, name, len)) {
            if (strlen(o->name) == len) {
                return o;
            }
            if (found) {
                return NULL;
            }
            found = o;
        }
    }
    return found;
}

/* Reads EAL arguments 'args' (args->names[0] is the program name) into
 * 'scan', which the caller destroys with dsa_eal_scan_destroy(). */
static void
dsa_eal_scan(const struct svec *args, struct dsa_eal_scan *scan)
{
    memset(scan, 0, sizeof *scan);
    svec_init(&scan->named);
    svec_init(&scan->removed);

    for (size_t i = 1; i < args->n; i++) {
        const char *arg = args->names[i];
        const char *next = i + 1 < args->n ? args->names[i + 1] : NULL;

        if (!strcmp(arg, "--")) {
            break;              /* The rest is not EAL's. */
        } else if (arg[0] != '-' || !arg[1]) {
            continue;           /* Not an option (getopt skips it). */
        } else if (arg[1] == '-') {
            const char *name = arg + 2;
            size_t len = strcspn(name, "=");
            const char *value = name[len] == '=' ? &name[len + 1] : NULL;
            const struct dsa_eal_long_opt *o;

            if ((len == strlen("pci-whitelist")
                 && !strncmp(name, "pci-whitelist", len))
                || (len == strlen("pci-blacklist")
                    && !strncmp(name, "pci-blacklist", len))) {
                /* Removed in DPDK 21.11: EAL refuses them, but they say
                 * what the operator meant. */
                svec_add_nocopy(&scan->removed, xmemdup0(arg, len + 2));
                if (!value && next) {
                    value = next;
                    i++;
                }
                dsa_eal_scan_opt(scan, name[4] == 'w' ? 'w' : 'b', value);
                continue;
            }
            o = dsa_eal_long_find(name, len);
            if (!o) {
                continue;
            }
            if (o->has_arg == 1 && !value && next) {
                value = next;
                i++;
            }
            if (!strcmp(o->name, "no-pci")) {
                scan->no_pci = true;
            }
            dsa_eal_scan_opt(scan, o->val, value);
        } else {
            /* A cluster of short options: "-vaVAL" is "-v -a VAL". */
            for (const char *p = arg + 1; *p; p++) {
                const char *spec = strchr(dsa_eal_short_opts, *p);
                const char *value;

                if (*p == 'w') {
                    /* Removed in DPDK 21.11, as "--pci-whitelist". */
                    svec_add(&scan->removed, "-w");
                } else if (!spec || *p == ':') {
                    break;      /* EAL refuses it. */
                } else if (spec[1] != ':') {
                    continue;
                }
                value = p[1] ? p + 1 : next;
                if (!p[1] && next) {
                    i++;
                }
                dsa_eal_scan_opt(scan, *p, value);
                break;
            }
        }
    }
}

static void
dsa_eal_scan_destroy(struct dsa_eal_scan *scan)
{
    svec_destroy(&scan->named);
    svec_destroy(&scan->removed);
}

/* Makes DPDK's idxd driver set up cfg->wqs_per_device work queues on each
 * DSA function under vfio-pci, through its "max_queues" device argument.
 *
 * The functions are those of cfg->devices given as PCI addresses or, if it
 * lists none, every DSA function bound to vfio-pci under 'sysfs_root'.
 * 'args' holds the EAL arguments OvS built so far:
 *   - with "--no-pci" nothing is added (a problem says so);
 *   - with an allow-list (-a or --allow, in any spelling EAL accepts, or
 *     the removed -w/--pci-whitelist), "-a BDF,max_queues=N" is added for
 *     each function not already listed;
 *   - otherwise each function is blocked ("-b BDF") so that EAL does not
 *     probe it without the argument, and "BDF,max_queues=N" is added to
 *     'hotplug' for rte_dev_probe() after EAL init: an allow-list would stop
 *     EAL from probing the host's other devices.
 * A function the operator already names in 'args' (as the device of an
 * allow or block option, with or without the PCI domain) is left alone.
 * Removed EAL options (-w, --pci-whitelist, --pci-blacklist) are reported
 * in 'problems': DPDK 22.11's EAL refuses them. */
void
dsa_eal_args(const struct dsa_config *cfg, const char *sysfs_root,
             struct svec *args, struct svec *hotplug, struct svec *problems)
{
    struct svec bdfs = SVEC_EMPTY_INITIALIZER;
    struct dsa_eal_scan scan;

    if (!cfg->enable || !cfg->wqs_per_device) {
        return;
    }

    for (size_t i = 0; i < cfg->devices.n; i++) {
        char pci[DSA_PCI_ADDR_LEN];

        if (dsa_pci_addr_parse(cfg->devices.names[i], pci)) {
            svec_add(&bdfs, pci);
        }
    }
    if (!cfg->devices.n) {
        dsa_find_vfio_devices(sysfs_root, &bdfs);
    }
    if (!bdfs.n) {
        svec_destroy(&bdfs);
        return;
    }

    dsa_eal_scan(args, &scan);
    for (size_t i = 0; i < scan.removed.n; i++) {
        svec_add_nocopy(problems, xasprintf(
                            "dsa-wqs-per-device: dpdk-extra option %s was "
                            "removed in DPDK 21.11 (use -a or -b): EAL "
                            "refuses to start", scan.removed.names[i]));
    }
    if (scan.no_pci) {
        svec_add_nocopy(problems, xasprintf(
                            "dsa-wqs-per-device: ignored, DPDK runs with "
                            "--no-pci"));
        dsa_eal_scan_destroy(&scan);
        svec_destroy(&bdfs);
        return;
    }

    for (size_t i = 0; i < bdfs.n; i++) {
        const char *bdf = bdfs.names[i];

        if (svec_contains_unsorted(&scan.named, bdf)) {
            svec_add_nocopy(problems, xasprintf(
                                "dsa-wqs-per-device: %s already named in "
                                "dpdk-extra, left as it is", bdf));
        } else if (scan.allow_list) {
            svec_add(args, "-a");
            svec_add_nocopy(args, xasprintf("%s,max_queues=%u", bdf,
                                            cfg->wqs_per_device));
        } else {
            svec_add(args, "-b");
            svec_add(args, bdf);
            svec_add_nocopy(hotplug, xasprintf("%s,max_queues=%u", bdf,
                                               cfg->wqs_per_device));
        }
    }
    dsa_eal_scan_destroy(&scan);
    svec_destroy(&bdfs);
}

/* For a runtime "dsa-enable=true": adds to 'devargs' the rte_dev_probe()
 * argument of each DSA function that 'cfg' selects, is bound to vfio-pci
 * under 'sysfs_root', and has no dmadev yet among 'dmadev_names' (idxd
 * names a work queue "<PCI address>-q<N>"): a device bound after
 * ovs-vswitchd started, e.g. by ovs-dsa-setup. */
void
dsa_attach_devargs(const struct dsa_config *cfg, const char *sysfs_root,
                   const struct svec *dmadev_names, struct svec *devargs)
{
    struct svec bdfs = SVEC_EMPTY_INITIALIZER;

    dsa_find_vfio_devices(sysfs_root, &bdfs);
    for (size_t i = 0; i < bdfs.n; i++) {
        const char *bdf = bdfs.names[i];
        bool probed = false;

        if (cfg->devices.n && !svec_contains_unsorted(&cfg->devices, bdf)) {
            continue;
        }
        for (size_t j = 0; j < dmadev_names->n; j++) {
            probed = probed || !strncmp(dmadev_names->names[j], bdf,
                                        strlen(bdf));
        }
        if (probed) {
            continue;
        }
        if (cfg->wqs_per_device) {
            svec_add_nocopy(devargs, xasprintf("%s,max_queues=%u", bdf,
                                               cfg->wqs_per_device));
        } else {
            svec_add(devargs, bdf);
        }
    }
    svec_destroy(&bdfs);
}
