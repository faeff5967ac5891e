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

#include "dsa-bringup.h"
#include "dsa-config.h"
#include "svec.h"
#include "util.h"

/* Adds to 'bdfs', sorted, the PCI address of every DSA function under
 * 'sysfs_root' that is bound to vfio-pci and that DPDK's idxd driver
 * probes. */
void
dsa_find_vfio_devices(const char *sysfs_root, struct svec *bdfs)
{
    struct dsa_env env = { sysfs_root, "/etc", "modprobe" };
    struct dsa_host host;

    dsa_host_scan(&env, &host);
    for (size_t i = 0; i < host.n_devs; i++) {
        const struct dsa_dev *d = &host.devs[i];

        if (!strcmp(d->driver, "vfio-pci")
            && dsa_id_dpdk_probes(d->device_id)) {
            svec_add(bdfs, d->bdf);
        }
    }
    dsa_host_destroy(&host);
}

/* Returns true if 'args' already holds EAL option 'opt' (or 'alt'). */
static bool
dsa_args_have(const struct svec *args, const char *opt, const char *alt)
{
    for (size_t i = 0; i < args->n; i++) {
        if (!strcmp(args->names[i], opt) || (alt && !strcmp(args->names[i],
                                                             alt))) {
            return true;
        }
    }
    return false;
}

/* Returns true if some argument of 'args' starts with PCI address 'bdf'. */
static bool
dsa_args_name(const struct svec *args, const char *bdf)
{
    for (size_t i = 0; i < args->n; i++) {
        if (!strncmp(args->names[i], bdf, strlen(bdf))) {
            return true;
        }
    }
    return false;
}

/* Makes DPDK's idxd driver set up cfg->wqs_per_device work queues on each
 * DSA function under vfio-pci, through its "max_queues" device argument.
 *
 * The functions are those of cfg->devices given as PCI addresses or, if it
 * lists none, every DSA function bound to vfio-pci under 'sysfs_root'.
 * 'args' holds the EAL arguments OvS built so far:
 *   - with "--no-pci" nothing is added (a problem says so);
 *   - with an allow-list ("-a"/"--allow"), "-a BDF,max_queues=N" is added
 *     for each function not already listed;
 *   - otherwise each function is blocked ("-b BDF") so that EAL does not
 *     probe it without the argument, and "BDF,max_queues=N" is added to
 *     'hotplug' for rte_dev_probe() after EAL init: an allow-list would stop
 *     EAL from probing the host's other devices.
 * A function the operator already names in 'args' is left alone. */
void
dsa_eal_args(const struct dsa_config *cfg, const char *sysfs_root,
             struct svec *args, struct svec *hotplug, struct svec *problems)
{
    struct svec bdfs = SVEC_EMPTY_INITIALIZER;
    bool allow_list;

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

    if (dsa_args_have(args, "--no-pci", NULL)) {
        svec_add_nocopy(problems, xasprintf(
                            "dsa-wqs-per-device: ignored, DPDK runs with "
                            "--no-pci"));
        svec_destroy(&bdfs);
        return;
    }

    allow_list = dsa_args_have(args, "-a", "--allow")
                 || dsa_args_have(args, "-w", "--pci-whitelist");
    for (size_t i = 0; i < bdfs.n; i++) {
        const char *bdf = bdfs.names[i];

        if (dsa_args_name(args, bdf)) {
            svec_add_nocopy(problems, xasprintf(
                                "dsa-wqs-per-device: %s already named in "
                                "dpdk-extra, left as it is", bdf));
        } else if (allow_list) {
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
