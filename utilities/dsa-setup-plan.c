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

#include "dsa-setup-plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Initializes 'plan' empty. */
void
dsa_plan_init(struct dsa_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    svec_init(&plan->refusals);
    svec_init(&plan->notes);
    svec_init(&plan->devices);
}

/* Frees what 'plan' holds. */
void
dsa_plan_destroy(struct dsa_plan *plan)
{
    for (size_t i = 0; i < plan->n_steps; i++) {
        free(plan->steps[i].arg);
        free(plan->steps[i].value);
        free(plan->steps[i].undo_arg);
        free(plan->steps[i].undo_value);
    }
    free(plan->steps);
    svec_destroy(&plan->refusals);
    svec_destroy(&plan->notes);
    svec_destroy(&plan->devices);
}

/* Appends a step to 'plan'.  'undo_arg' NULL: nothing to undo. */
static void
dsa_plan_add(struct dsa_plan *plan, enum dsa_step_kind kind,
             const char *arg, const char *value,
             enum dsa_step_kind undo_kind, const char *undo_arg,
             const char *undo_value)
{
    struct dsa_step *st;

    if (plan->n_steps >= plan->allocated) {
        plan->steps = x2nrealloc(plan->steps, &plan->allocated,
                                 sizeof *plan->steps);
    }
    st = &plan->steps[plan->n_steps++];
    st->kind = kind;
    st->arg = xstrdup(arg);
    st->value = xstrdup(value ? value : "");
    st->undo_kind = undo_kind;
    st->undo_arg = nullable_xstrdup(undo_arg);
    st->undo_value = xstrdup(undo_value ? undo_value : "");
}

/* Appends to 'plan' a write of 'value' to sysfs file 'path', undone by
 * writing 'undo_value' to 'undo_path' (NULL: nothing to undo). */
static void
dsa_write_step(struct dsa_plan *plan, const char *path, const char *value,
               const char *undo_path, const char *undo_value)
{
    dsa_plan_add(plan, DSA_STEP_WRITE, path, value, DSA_STEP_WRITE,
                 undo_path, undo_value);
}

/* Returns the DSA function of 'host' at PCI address 'bdf', or NULL. */
static const struct dsa_dev *
dsa_host_find(const struct dsa_host *host, const char *bdf)
{
    for (size_t i = 0; i < host->n_devs; i++) {
        if (!strcmp(host->devs[i].bdf, bdf)) {
            return &host->devs[i];
        }
    }
    return NULL;
}

/* Computes the steps that bring the selected DSA functions up under
 * vfio-pci, or the refusals that stop it. */
void
dsa_plan_compute(const struct dsa_host *host, const struct dsa_env *env,
                 const struct dsa_setup_opts *opts, struct dsa_plan *plan)
{
    const struct dsa_dev **todo = xcalloc(host->n_devs + 1, sizeof *todo);
    bool denylisted = false;
    size_t n_todo = 0;

    /* Which devices. */
    for (size_t i = 0; i < opts->devices.n; i++) {
        const char *bdf = opts->devices.names[i];

        if (!dsa_host_find(host, bdf)) {
            char *path = xasprintf("%s/bus/pci/devices/%s", env->sysfs_root,
                                   bdf);
            struct stat st;

            svec_add_nocopy(&plan->refusals, xasprintf(
                "%s: %s", bdf, !stat(path, &st)
                ? "not a DSA device (vendor:device is not a known DSA id)"
                : "no such PCI device"));
            free(path);
        }
    }
    for (size_t i = 0; i < host->n_devs; i++) {
        const struct dsa_dev *d = &host->devs[i];

        if (opts->devices.n
            && !svec_contains_unsorted(&opts->devices, d->bdf)) {
            continue;
        }
        if (d->managed_by) {
            svec_add_nocopy(&plan->notes, xasprintf(
                "%s: managed by %s, left alone", d->bdf, d->managed_by));
        } else if (!strcmp(d->driver, "vfio-pci")) {
            svec_add(&plan->devices, d->bdf);
        } else if (d->driver[0] && strcmp(d->driver, "idxd")) {
            svec_add_nocopy(&plan->refusals, xasprintf(
                "%s: bound to driver %s, which ovs-dsa-setup does not "
                "handle; unbind it first", d->bdf, d->driver));
        } else if (!strcmp(d->driver, "idxd") && d->n_wqs_enabled
                   && !opts->force) {
            svec_add_nocopy(&plan->refusals, xasprintf(
                "%s: %d idxd work queue(s) enabled: in use by the kernel; "
                "disable them (accel-config disable-wq) or use --force",
                d->bdf, d->n_wqs_enabled));
        } else {
            todo[n_todo++] = d;
            denylisted = denylisted || dsa_id_denylisted(d->device_id);
        }
    }

    if (!n_todo) {
        goto out;
    }

    /* vfio, with no-IOMMU mode where the host has no IOMMU. */
    if (host->iommu_present && opts->allow_noiommu) {
        svec_add(&plan->refusals, "this host has an IOMMU: refusing no-IOMMU "
                 "mode; use the IOMMU instead (drop --allow-noiommu / "
                 "other_config:dsa-allow-noiommu)");
    } else if (!host->iommu_present && !host->noiommu_on
               && !opts->allow_noiommu) {
        svec_add(&plan->refusals, "this host has no IOMMU: vfio-pci needs "
                 "no-IOMMU mode, which taints the kernel and gives the "
                 "devices no DMA isolation; allow it with --allow-noiommu "
                 "(other_config:dsa-allow-noiommu=true)");
    }
    if (!host->iommu_present) {
        svec_add(&plan->notes, "WARNING: no-IOMMU mode: the kernel is "
                 "tainted and the DSA devices can DMA anywhere in memory");
        if (!host->vfio_loaded) {
            dsa_plan_add(plan, DSA_STEP_MODPROBE, "vfio",
                         "enable_unsafe_noiommu_mode=1",
                         DSA_STEP_MODPROBE_REMOVE, "vfio", NULL);
        } else if (!host->noiommu_on) {
            dsa_write_step(plan,
                           "module/vfio/parameters/enable_unsafe_noiommu_mode",
                           "1",
                           "module/vfio/parameters/enable_unsafe_noiommu_mode",
                           "0");
        }
    } else if (!host->vfio_loaded) {
        dsa_plan_add(plan, DSA_STEP_MODPROBE, "vfio", NULL,
                     DSA_STEP_MODPROBE_REMOVE, "vfio", NULL);
    }

    /* vfio-pci, with the denylist disabled if a device is on it. */
    if (!host->vfio_pci_loaded) {
        dsa_plan_add(plan, DSA_STEP_MODPROBE, "vfio-pci",
                     denylisted ? "disable_denylist=1" : NULL,
                     DSA_STEP_MODPROBE_REMOVE, "vfio-pci", NULL);
    } else if (denylisted && !host->denylist_disabled) {
        /* disable_denylist is read at load time only. */
        if (host->vfio_pci_bound.n) {
            svec_add_nocopy(&plan->refusals, xasprintf(
                "vfio-pci is loaded without disable_denylist and %"PRIuSIZE
                " device(s) are bound to it (first: %s): it cannot be "
                "reloaded now; add \"options vfio-pci disable_denylist=1\" "
                "to /etc/modprobe.d/vfio-pci.conf and reboot",
                host->vfio_pci_bound.n, host->vfio_pci_bound.names[0]));
        } else {
            dsa_plan_add(plan, DSA_STEP_MODPROBE_REMOVE, "vfio-pci", NULL,
                         DSA_STEP_MODPROBE, "vfio-pci", NULL);
            dsa_plan_add(plan, DSA_STEP_MODPROBE, "vfio-pci",
                         "disable_denylist=1", DSA_STEP_MODPROBE_REMOVE,
                         "vfio-pci", NULL);
        }
    }

    /* Each device: unbind from idxd, override, bind. */
    for (size_t i = 0; i < n_todo; i++) {
        const struct dsa_dev *d = todo[i];
        char *override = xasprintf("bus/pci/devices/%s/driver_override",
                                   d->bdf);

        if (d->driver[0]) {
            char *unbind = xasprintf("bus/pci/drivers/%s/unbind", d->driver);
            char *bind = xasprintf("bus/pci/drivers/%s/bind", d->driver);

            dsa_write_step(plan, unbind, d->bdf, bind, d->bdf);
            free(unbind);
            free(bind);
        }
        if (strcmp(d->driver_override, "vfio-pci")) {
            dsa_write_step(plan, override, "vfio-pci", override,
                           d->driver_override[0] ? d->driver_override
                                                 : "\n");
        }
        dsa_write_step(plan, "bus/pci/drivers/vfio-pci/bind", d->bdf,
                       "bus/pci/drivers/vfio-pci/unbind", d->bdf);
        svec_add(&plan->devices, d->bdf);
        free(override);
    }

out:
    free(todo);
}

/* Appends the steps of 'plan' to 's', one per line. */
void
dsa_plan_format(const struct dsa_plan *plan, struct ds *s)
{
    for (size_t i = 0; i < plan->n_steps; i++) {
        const struct dsa_step *st = &plan->steps[i];

        switch (st->kind) {
        case DSA_STEP_MODPROBE:
            ds_put_format(s, "modprobe %s%s%s\n", st->arg,
                          st->value[0] ? " " : "", st->value);
            break;
        case DSA_STEP_MODPROBE_REMOVE:
            ds_put_format(s, "modprobe -r %s\n", st->arg);
            break;
        case DSA_STEP_WRITE:
            ds_put_format(s, "write %s > %s\n",
                          !strcmp(st->value, "\n") ? "\"\"" : st->value,
                          st->arg);
            break;
        }
    }
}

/* Runs the module loader.  Returns 0 or a positive errno-style code, with
 * a description in 'err'. */
static int
dsa_run_modprobe(const struct dsa_env *env, bool remove, const char *module,
                 const char *params, struct ds *err)
{
    struct svec argv = SVEC_EMPTY_INITIALIZER;
    int status = 0;
    pid_t pid;

    svec_add(&argv, env->modprobe);
    if (remove) {
        svec_add(&argv, "-r");
    }
    svec_add(&argv, module);
    if (params && params[0]) {
        svec_add(&argv, params);
    }
    svec_terminate(&argv);

    pid = fork();
    if (!pid) {
        execvp(argv.names[0], argv.names);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        int error = errno;

        ds_put_format(err, "%s: %s", env->modprobe, ovs_strerror(error));
        svec_destroy(&argv);
        return error;
    }
    svec_destroy(&argv);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        ds_put_format(err, "%s%s %s: exit status %d", env->modprobe,
                      remove ? " -r" : "", module,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return EIO;
    }
    return 0;
}

/* Writes 'value' to sysfs file 'rel'.  Returns 0 or an errno. */
static int
dsa_write(const struct dsa_env *env, const char *rel, const char *value,
          struct ds *err)
{
    char *path = xasprintf("%s/%s", env->sysfs_root, rel);
    int fd = open(path, O_WRONLY | O_TRUNC);
    int error = 0;

    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        error = errno;
        ds_put_format(err, "write \"%s\" to %s: %s",
                      !strcmp(value, "\n") ? "" : value, path,
                      ovs_strerror(error));
    }
    if (fd >= 0) {
        close(fd);
    }
    free(path);
    return error;
}

/* Does one step of 'kind' (see struct dsa_step).  Returns 0 or a positive
 * errno-style code, with a description in 'err'. */
static int
dsa_do(const struct dsa_env *env, enum dsa_step_kind kind, const char *arg,
       const char *value, struct ds *err)
{
    switch (kind) {
    case DSA_STEP_MODPROBE:
        return dsa_run_modprobe(env, false, arg, value, err);
    case DSA_STEP_MODPROBE_REMOVE:
        return dsa_run_modprobe(env, true, arg, NULL, err);
    case DSA_STEP_WRITE:
        return dsa_write(env, arg, value, err);
    }
    return EINVAL;
}

/* Applies 'plan'.  Returns 0, or, on a failed step, undoes the steps done,
 * in reverse, and returns the step's positive errno-style code, with the
 * step, path and error in 'log'. */
int
dsa_plan_apply(const struct dsa_env *env, const struct dsa_plan *plan,
               struct ds *log)
{
    for (size_t i = 0; i < plan->n_steps; i++) {
        const struct dsa_step *st = &plan->steps[i];
        struct ds err = DS_EMPTY_INITIALIZER;
        int error = dsa_do(env, st->kind, st->arg, st->value, &err);

        if (!error) {
            ds_destroy(&err);
            continue;
        }
        ds_put_format(log, "step %"PRIuSIZE" failed: %s\n", i + 1,
                      ds_cstr(&err));
        ds_destroy(&err);
        for (size_t k = 0; k < i; k++) {
            size_t j = i - 1 - k;
            const struct dsa_step *u = &plan->steps[j];
            struct ds uerr = DS_EMPTY_INITIALIZER;

            if (!u->undo_arg) {
                continue;
            }
            if (dsa_do(env, u->undo_kind, u->undo_arg, u->undo_value,
                       &uerr)) {
                ds_put_format(log, "rollback of step %"PRIuSIZE" failed: "
                              "%s\n", j + 1, ds_cstr(&uerr));
            } else {
                ds_put_format(log, "rolled back step %"PRIuSIZE"\n", j + 1);
            }
            ds_destroy(&uerr);
        }
        return error;
    }
    return 0;
}

/* Records in 'path', for 'revert', the driver and override each device of
 * 'plan' had before it was brought up, keeping what earlier runs
 * recorded.  Returns 0 or an errno. */
int
dsa_state_save(const char *path, const struct dsa_host *host,
               const struct dsa_plan *plan)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    char line[256];
    FILE *f = fopen(path, "r");
    int error = 0;

    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "device ", 7)) {
            svec_add(&lines, line);
        }
    }
    if (f) {
        fclose(f);
    }
    for (size_t i = 0; i < plan->devices.n; i++) {
        const struct dsa_dev *d = dsa_host_find(host, plan->devices.names[i]);
        char *prefix = xasprintf("device %s ", plan->devices.names[i]);
        bool known = false;

        for (size_t j = 0; j < lines.n; j++) {
            known = known || !strncmp(lines.names[j], prefix, strlen(prefix));
        }
        if (!known && d && strcmp(d->driver, "vfio-pci")) {
            svec_add_nocopy(&lines, xasprintf(
                "%s%s %s", prefix, d->driver[0] ? d->driver : "-",
                d->driver_override[0] ? d->driver_override : "-"));
        }
        free(prefix);
    }

    f = fopen(path, "w");
    if (!f) {
        error = errno;
    } else {
        fprintf(f, "# ovs-dsa-setup: devices it bound to vfio-pci, with the "
                "driver and driver_override they had before\n");
        for (size_t i = 0; i < lines.n; i++) {
            fprintf(f, "%s\n", lines.names[i]);
        }
        if (fclose(f)) {
            error = errno;
        }
    }
    svec_destroy(&lines);
    return error;
}

/* Computes the steps that return every device recorded in 'state_path' to
 * its original driver and override. */
void
dsa_revert_plan(const char *state_path, const struct dsa_host *host,
                struct dsa_plan *plan)
{
    FILE *f = fopen(state_path, "r");
    char line[256];

    if (!f) {
        svec_add(&plan->notes, "nothing to revert: no state file");
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char bdf[64], driver[64], override[64];
        const struct dsa_dev *d;

        if (sscanf(line, "device %63s %63s %63s", bdf, driver, override)
            != 3) {
            continue;
        }
        d = dsa_host_find(host, bdf);
        if (!d) {
            svec_add_nocopy(&plan->notes, xasprintf("%s: gone", bdf));
            continue;
        }
        char *ovr = xasprintf("bus/pci/devices/%s/driver_override", bdf);
        if (!strcmp(d->driver, "vfio-pci")) {
            dsa_write_step(plan, "bus/pci/drivers/vfio-pci/unbind", bdf,
                           "bus/pci/drivers/vfio-pci/bind", bdf);
        }
        dsa_write_step(plan, ovr, strcmp(override, "-") ? override : "\n",
                       ovr, d->driver_override[0] ? d->driver_override
                                                  : "\n");
        if (strcmp(driver, "-")) {
            char *bind = xasprintf("bus/pci/drivers/%s/bind", driver);
            char *unbind = xasprintf("bus/pci/drivers/%s/unbind", driver);

            dsa_write_step(plan, bind, bdf, unbind, bdf);
            free(bind);
            free(unbind);
        }
        svec_add(&plan->devices, bdf);
        free(ovr);
    }
    fclose(f);
}
