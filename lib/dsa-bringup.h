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

#ifndef DSA_BRINGUP_H
#define DSA_BRINGUP_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dsa-config.h"
#include "svec.h"

struct ds;

/* Bring-up of DSA PCI functions under vfio-pci: discovery under a sysfs
 * root, a plan of module loads and sysfs writes, its application with
 * rollback, and its reversal.  The sysfs root, the /etc root and the module
 * loader are parameters, so that tests run on fabricated trees. */

/* Where and how bring-up acts. */
struct dsa_env {
    const char *sysfs_root;     /* "/sys". */
    const char *etc_root;       /* "/etc": driverctl and dpdk config. */
    const char *modprobe;       /* Module loader command, "modprobe". */
};

/* One DSA PCI function as found. */
struct dsa_dev {
    char bdf[DSA_PCI_ADDR_LEN];
    unsigned int device_id;
    int numa_node;
    char driver[32];            /* Bound driver, "" if none. */
    char driver_override[32];   /* "" if none. */
    char iommu_group[32];       /* "" if none. */
    int n_wqs;                  /* idxd work queues, when bound to idxd. */
    int n_wqs_enabled;
    const char *managed_by;     /* driverctl or /etc/dpdk/interfaces, or
                                 * NULL. */
};

/* The host as found. */
struct dsa_host {
    bool iommu_present;         /* /sys/class/iommu is not empty. */
    bool vfio_loaded;
    bool noiommu_on;            /* vfio's enable_unsafe_noiommu_mode. */
    bool vfio_pci_loaded;
    bool denylist_disabled;     /* vfio_pci's disable_denylist. */
    struct svec vfio_pci_bound; /* Every PCI function bound to vfio-pci. */
    struct dsa_dev *devs;       /* Every DSA function. */
    size_t n_devs;
};

/* What the caller wants. */
struct dsa_setup_opts {
    struct svec devices;        /* PCI addresses; empty: every DSA. */
    bool allow_noiommu;
    bool force;                 /* Unbind from idxd with WQs enabled. */
};

/* One step of a plan, and how to undo it. */
enum dsa_step_kind {
    DSA_STEP_MODPROBE,          /* Load 'arg' with parameters 'value'. */
    DSA_STEP_MODPROBE_REMOVE,   /* Unload 'arg'. */
    DSA_STEP_WRITE,             /* Write 'value' to sysfs file 'arg'. */
};

struct dsa_step {
    enum dsa_step_kind kind;
    char *arg;                  /* Module, or path relative to sysfs. */
    char *value;                /* Parameters, or value written. */
    enum dsa_step_kind undo_kind;
    char *undo_arg;             /* NULL: nothing to undo. */
    char *undo_value;
};

struct dsa_plan {
    struct dsa_step *steps;
    size_t n_steps, allocated;
    struct svec refusals;       /* Why the plan cannot be applied. */
    struct svec notes;          /* Things to tell the operator. */
    struct svec devices;        /* Devices the plan brings up. */
};

/* Exit codes of ovs-dsa-setup (documented in its man page). */
#define DSA_EXIT_OK 0
#define DSA_EXIT_REFUSED 1
#define DSA_EXIT_USAGE 2
#define DSA_EXIT_FAILED 3
#define DSA_EXIT_NOT_ROOT 4

bool dsa_id_is_dsa(unsigned int vendor, unsigned int device);
bool dsa_id_denylisted(unsigned int device);
bool dsa_id_dpdk_probes(unsigned int device);

void dsa_host_scan(const struct dsa_env *, struct dsa_host *);
void dsa_host_destroy(struct dsa_host *);
void dsa_host_format(const struct dsa_host *, struct ds *);

void dsa_plan_init(struct dsa_plan *);
void dsa_plan_destroy(struct dsa_plan *);
void dsa_plan_compute(const struct dsa_host *, const struct dsa_env *,
                      const struct dsa_setup_opts *, struct dsa_plan *);
void dsa_plan_format(const struct dsa_plan *, struct ds *);
int dsa_plan_apply(const struct dsa_env *, const struct dsa_plan *,
                   struct ds *log);

int dsa_state_save(const char *path, const struct dsa_host *,
                   const struct dsa_plan *);
void dsa_revert_plan(const char *state_path, const struct dsa_host *,
                     struct dsa_plan *);

#endif /* dsa-bringup.h */
