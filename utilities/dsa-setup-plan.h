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

#ifndef DSA_SETUP_PLAN_H
#define DSA_SETUP_PLAN_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dsa-host.h"
#include "svec.h"

struct ds;

/* The bring-up of ovs-dsa-setup: DSA PCI functions under vfio-pci.  From a
 * host as dsa_host_scan() found it, a plan of module loads and sysfs
 * writes, its application with rollback, and its reversal.  The sysfs
 * root, the /etc root and the module loader are parameters, so that tests
 * run on fabricated trees. */

/* Where and how bring-up acts. */
struct dsa_env {
    const char *sysfs_root;     /* "/sys". */
    const char *etc_root;       /* "/etc": driverctl and dpdk config. */
    const char *modprobe;       /* Module loader command, "modprobe". */
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

#endif /* dsa-setup-plan.h */
