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

#include "dsa-bringup.h"

#include <dirent.h>
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

/* PCI device ids of DSA functions.  DPDK 22.11's idxd driver knows the
 * first; later DPDK releases add the others. */
static const struct {
    unsigned int id;
    const char *name;
    bool denylisted;            /* On vfio-pci's denylist (Linux commit
                                 * 95feb3160eef, CVE-2024-21823: an erratum
                                 * makes SPR DSA/IAX unsafe to hand to
                                 * untrusted users). */
    bool dpdk;                  /* DPDK 22.11's idxd driver probes it. */
} dsa_ids[] = {
    { 0x0b25, "Sapphire Rapids DSA", true, true },
    { 0x11fb, "Granite Rapids-D DSA", false, false },
    { 0x1212, "Diamond Rapids DSA", false, false },
};

/* Returns the index of DSA device id 'device' in 'dsa_ids', or -1. */
static int
dsa_id_find(unsigned int device)
{
    for (size_t i = 0; i < ARRAY_SIZE(dsa_ids); i++) {
        if (dsa_ids[i].id == device) {
            return i;
        }
    }
    return -1;
}

bool
dsa_id_is_dsa(unsigned int vendor, unsigned int device)
{
    return vendor == 0x8086 && dsa_id_find(device) >= 0;
}

/* Returns true if DPDK's idxd driver can drive DSA device id 'device'. */
bool
dsa_id_dpdk_probes(unsigned int device)
{
    int i = dsa_id_find(device);

    return i >= 0 && dsa_ids[i].dpdk;
}

bool
dsa_id_denylisted(unsigned int device)
{
    int i = dsa_id_find(device);

    return i >= 0 && dsa_ids[i].denylisted;
}

/* Reads sysfs attribute 'dir'/'name' into 'buf' without its trailing
 * newline.  Returns false if it cannot be read. */
static bool
dsa_read_attr(const char *dir, const char *name, char *buf, size_t size)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(buf, size, f);

    if (ok) {
        buf[strcspn(buf, "\n")] = '\0';
    }
    if (f) {
        fclose(f);
    }
    free(path);
    return ok;
}

/* Stores in 'buf' the last component of symlink 'dir'/'name', or "". */
static void
dsa_read_link(const char *dir, const char *name, char *buf, size_t size)
{
    char *path = xasprintf("%s/%s", dir, name);
    char target[512];
    ssize_t len = readlink(path, target, sizeof target - 1);

    buf[0] = '\0';
    if (len > 0) {
        target[len] = '\0';
        const char *base = strrchr(target, '/');
        ovs_strlcpy(buf, base ? base + 1 : target, size);
    }
    free(path);
}

static bool
dsa_exists(const char *root, const char *rel)
{
    char *path = xasprintf("%s/%s", root, rel);
    struct stat st;
    bool ok = !stat(path, &st);

    free(path);
    return ok;
}

/* Returns true if directory 'root'/'rel' has an entry. */
static bool
dsa_dir_has_entries(const char *root, const char *rel)
{
    char *path = xasprintf("%s/%s", root, rel);
    DIR *dir = opendir(path);
    struct dirent *de;
    bool any = false;

    while (dir && !any && (de = readdir(dir))) {
        any = de->d_name[0] != '.';
    }
    if (dir) {
        closedir(dir);
    }
    free(path);
    return any;
}

/* Returns true if module parameter 'module'/'param' reads Y or 1. */
static bool
dsa_param_on(const char *root, const char *module, const char *param)
{
    char *dir = xasprintf("%s/module/%s/parameters", root, module);
    char buf[16];
    bool on = dsa_read_attr(dir, param, buf, sizeof buf)
              && (buf[0] == 'Y' || buf[0] == '1');

    free(dir);
    return on;
}

/* Counts the idxd work queues of PCI function directory 'dev' and how many
 * are enabled: 'dev'/dsaN/wqN.M/state. */
static void
dsa_count_wqs(const char *dev, struct dsa_dev *d)
{
    DIR *dir = opendir(dev);
    struct dirent *de;

    while (dir && (de = readdir(dir))) {
        if (strncmp(de->d_name, "dsa", 3)) {
            continue;
        }
        char *sub = xasprintf("%s/%s", dev, de->d_name);
        DIR *wqs = opendir(sub);
        struct dirent *wq;

        while (wqs && (wq = readdir(wqs))) {
            char *wqdir = xasprintf("%s/%s", sub, wq->d_name);
            char state[32];

            if (!strncmp(wq->d_name, "wq", 2)
                && dsa_read_attr(wqdir, "state", state, sizeof state)) {
                d->n_wqs++;
                d->n_wqs_enabled += !strcmp(state, "enabled");
            }
            free(wqdir);
        }
        if (wqs) {
            closedir(wqs);
        }
        free(sub);
    }
    if (dir) {
        closedir(dir);
    }
}

/* Returns who else manages PCI function 'bdf', or NULL. */
static const char *
dsa_managed_by(const char *etc_root, const char *bdf)
{
    char *rel = xasprintf("driverctl.d/pci-%s", bdf);
    const char *who = dsa_exists(etc_root, rel) ? "driverctl" : NULL;
    char *path = xasprintf("%s/dpdk/interfaces", etc_root);
    FILE *f = fopen(path, "r");
    char line[256];

    while (!who && f && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');

        if (hash) {
            *hash = '\0';
        }
        if (strstr(line, bdf) || strstr(line, bdf + 5)) {
            who = "/etc/dpdk/interfaces";
        }
    }
    if (f) {
        fclose(f);
    }
    free(path);
    free(rel);
    return who;
}

static int
dsa_dev_cmp(const void *a_, const void *b_)
{
    const struct dsa_dev *a = a_, *b = b_;

    return strcmp(a->bdf, b->bdf);
}

/* Finds the DSA functions and the vfio state of the host. */
void
dsa_host_scan(const struct dsa_env *env, struct dsa_host *host)
{
    char *pci = xasprintf("%s/bus/pci/devices", env->sysfs_root);
    DIR *dir = opendir(pci);
    struct dirent *de;
    size_t allocated = 0;

    memset(host, 0, sizeof *host);
    svec_init(&host->vfio_pci_bound);
    host->iommu_present = dsa_dir_has_entries(env->sysfs_root,
                                              "class/iommu");
    host->vfio_loaded = dsa_exists(env->sysfs_root, "module/vfio");
    host->noiommu_on = dsa_param_on(env->sysfs_root, "vfio",
                                    "enable_unsafe_noiommu_mode");
    host->vfio_pci_loaded = dsa_exists(env->sysfs_root, "module/vfio_pci");
    host->denylist_disabled = dsa_param_on(env->sysfs_root, "vfio_pci",
                                           "disable_denylist");

    while (dir && (de = readdir(dir))) {
        char *dev = xasprintf("%s/%s", pci, de->d_name);
        char vendor[16], device[16], driver[32];
        unsigned int v, d;

        dsa_read_link(dev, "driver", driver, sizeof driver);
        if (!strcmp(driver, "vfio-pci")) {
            svec_add(&host->vfio_pci_bound, de->d_name);
        }
        if (de->d_name[0] != '.'
            && dsa_read_attr(dev, "vendor", vendor, sizeof vendor)
            && dsa_read_attr(dev, "device", device, sizeof device)
            && sscanf(vendor, "%x", &v) == 1 && sscanf(device, "%x", &d) == 1
            && dsa_id_is_dsa(v, d)) {
            struct dsa_dev *x;
            char buf[32];

            if (host->n_devs >= allocated) {
                host->devs = x2nrealloc(host->devs, &allocated,
                                        sizeof *host->devs);
            }
            x = &host->devs[host->n_devs++];
            memset(x, 0, sizeof *x);
            ovs_strlcpy(x->bdf, de->d_name, sizeof x->bdf);
            x->device_id = d;
            x->numa_node = (dsa_read_attr(dev, "numa_node", buf, sizeof buf)
                            ? atoi(buf) : -1);
            ovs_strlcpy(x->driver, driver, sizeof x->driver);
            if (dsa_read_attr(dev, "driver_override", buf, sizeof buf)
                && strcmp(buf, "(null)")) {
                ovs_strlcpy(x->driver_override, buf,
                            sizeof x->driver_override);
            }
            dsa_read_link(dev, "iommu_group", x->iommu_group,
                          sizeof x->iommu_group);
            dsa_count_wqs(dev, x);
            x->managed_by = dsa_managed_by(env->etc_root, x->bdf);
        }
        free(dev);
    }
    if (dir) {
        closedir(dir);
    }
    free(pci);
    if (host->n_devs) {
        qsort(host->devs, host->n_devs, sizeof *host->devs, dsa_dev_cmp);
    }
    svec_sort(&host->vfio_pci_bound);
}

void
dsa_host_destroy(struct dsa_host *host)
{
    free(host->devs);
    svec_destroy(&host->vfio_pci_bound);
}

static const char *
dsa_yes(bool b)
{
    return b ? "yes" : "no";
}

/* Appends the 'status' report of 'host' to 's'. */
void
dsa_host_format(const struct dsa_host *host, struct ds *s)
{
    ds_put_format(s, "host: iommu %s, vfio loaded %s, noiommu mode %s, "
                  "vfio-pci loaded %s, denylist disabled %s, running as "
                  "root %s\n", dsa_yes(host->iommu_present),
                  dsa_yes(host->vfio_loaded), dsa_yes(host->noiommu_on),
                  dsa_yes(host->vfio_pci_loaded),
                  dsa_yes(host->denylist_disabled), dsa_yes(!geteuid()));
    ds_put_cstr(s, "devices bound to vfio-pci:");
    for (size_t i = 0; i < host->vfio_pci_bound.n; i++) {
        ds_put_format(s, " %s", host->vfio_pci_bound.names[i]);
    }
    ds_put_cstr(s, host->vfio_pci_bound.n ? "\n" : " none\n");
    ds_put_format(s, "%-13s %-6s %-4s %-9s %-9s %-8s %-8s %s\n", "BDF", "ID",
                  "NUMA", "DRIVER", "OVERRIDE", "GROUP", "WQS", "READY");
    for (size_t i = 0; i < host->n_devs; i++) {
        const struct dsa_dev *d = &host->devs[i];
        char wqs[16];
        const char *ready;

        snprintf(wqs, sizeof wqs, "%d/%d", d->n_wqs_enabled, d->n_wqs);
        if (!strcmp(d->driver, "vfio-pci")) {
            ready = "yes";
        } else if (d->managed_by) {
            ready = d->managed_by;
        } else if (!strcmp(d->driver, "idxd") && d->n_wqs_enabled) {
            ready = "no: idxd work queues enabled";
        } else if (!host->iommu_present && !host->noiommu_on) {
            ready = "no: no IOMMU and noiommu mode off";
        } else if (dsa_id_denylisted(d->device_id)
                   && !host->denylist_disabled) {
            ready = "no: on vfio-pci's denylist";
        } else {
            ready = "no: not bound to vfio-pci";
        }
        ds_put_format(s, "%-13s %04x   %-4d %-9s %-9s %-8s %-8s %s\n",
                      d->bdf, d->device_id, d->numa_node,
                      d->driver[0] ? d->driver : "-",
                      d->driver_override[0] ? d->driver_override : "-",
                      d->iommu_group[0] ? d->iommu_group : "-", wqs, ready);
    }
}

void
dsa_plan_init(struct dsa_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    svec_init(&plan->refusals);
    svec_init(&plan->notes);
    svec_init(&plan->devices);
}

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

static void
dsa_write_step(struct dsa_plan *plan, const char *path, const char *value,
               const char *undo_path, const char *undo_value)
{
    dsa_plan_add(plan, DSA_STEP_WRITE, path, value, DSA_STEP_WRITE,
                 undo_path, undo_value);
}

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
            char *rel = xasprintf("bus/pci/devices/%s", bdf);

            svec_add_nocopy(&plan->refusals, xasprintf(
                "%s: %s", bdf, dsa_exists(env->sysfs_root, rel)
                ? "not a DSA device (vendor:device is not a known DSA id)"
                : "no such PCI device"));
            free(rel);
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

/* Applies 'plan'.  On a failed step, undoes the steps done, in reverse,
 * and returns DSA_EXIT_FAILED with the step, path and errno in 'log'. */
int
dsa_plan_apply(const struct dsa_env *env, const struct dsa_plan *plan,
               struct ds *log)
{
    for (size_t i = 0; i < plan->n_steps; i++) {
        const struct dsa_step *st = &plan->steps[i];
        struct ds err = DS_EMPTY_INITIALIZER;

        if (!dsa_do(env, st->kind, st->arg, st->value, &err)) {
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
        return DSA_EXIT_FAILED;
    }
    return DSA_EXIT_OK;
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
