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

#include "dsa-host.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* PCI device ids of DSA functions (vendor DSA_PCI_VENDOR).  DPDK 22.11's idxd
 * driver knows the first; later DPDK releases add the others. */
static const struct {
    unsigned int id;
    const char *name;
    const char *denylisted;     /* Why it is on vfio-pci's denylist, or
                                 * NULL if it is not. */
    bool dpdk;                  /* DPDK 22.11's idxd driver probes it. */
} dsa_ids[] = {
    /* An erratum makes SPR DSA/IAX unsafe to hand to untrusted users. */
    { 0x0b25, "Sapphire Rapids DSA",
      "Linux commit 95feb3160eef, CVE-2024-21823", true },
    { 0x11fb, "Granite Rapids-D DSA", NULL, false },
    { 0x1212, "Diamond Rapids DSA", NULL, false },
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

/* Returns true if PCI 'vendor':'device' is a DSA function. */
bool
dsa_id_is_dsa(unsigned int vendor, unsigned int device)
{
    return vendor == DSA_PCI_VENDOR && dsa_id_find(device) >= 0;
}

/* Returns true if DPDK's idxd driver can drive DSA device id 'device'. */
bool
dsa_id_dpdk_probes(unsigned int device)
{
    int i = dsa_id_find(device);

    return i >= 0 && dsa_ids[i].dpdk;
}

/* Returns why DSA device id 'device' is on vfio-pci's denylist (binding it
 * needs vfio-pci's disable_denylist), or NULL if it is not. */
const char *
dsa_id_denylisted(unsigned int device)
{
    int i = dsa_id_find(device);

    return i >= 0 ? dsa_ids[i].denylisted : NULL;
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

/* Returns true if 'root'/'rel' exists. */
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

/* Finds the DSA functions and the vfio state of the host whose sysfs is
 * mounted at 'sysfs_root' ("/sys") and whose configuration is under
 * 'etc_root' ("/etc").  The caller frees 'host' with dsa_host_destroy(). */
void
dsa_host_scan(const char *sysfs_root, const char *etc_root,
              struct dsa_host *host)
{
    char *pci = xasprintf("%s/bus/pci/devices", sysfs_root);
    DIR *dir = opendir(pci);
    struct dirent *de;
    size_t allocated = 0;

    memset(host, 0, sizeof *host);
    svec_init(&host->vfio_pci_bound);
    host->iommu_present = dsa_dir_has_entries(sysfs_root,
                                              "class/iommu");
    host->vfio_loaded = dsa_exists(sysfs_root, "module/vfio");
    host->noiommu_on = dsa_param_on(sysfs_root, "vfio",
                                    "enable_unsafe_noiommu_mode");
    host->vfio_pci_loaded = dsa_exists(sysfs_root, "module/vfio_pci");
    host->denylist_disabled = dsa_param_on(sysfs_root, "vfio_pci",
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
            x->managed_by = dsa_managed_by(etc_root, x->bdf);
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

/* Frees what dsa_host_scan() stored in 'host'. */
void
dsa_host_destroy(struct dsa_host *host)
{
    free(host->devs);
    svec_destroy(&host->vfio_pci_bound);
}


/* Returns a one-line summary of 'host' for dsa/show and the log: the DSA
 * functions and their drivers, the IOMMU state and, on a host without an
 * IOMMU, the capabilities the daemon lacks ('have_rawio': CAP_SYS_RAWIO,
 * needed to open a no-IOMMU vfio group; 'have_sys_admin': CAP_SYS_ADMIN,
 * needed to read /proc/self/pagemap for IOVA-as-PA) with what restores
 * them on this Open vSwitch.  Every missing fact contains "missing".  The
 * caller frees the string. */
char *
dsa_host_summary(const struct dsa_host *host, bool have_rawio,
                 bool have_sys_admin)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t n_vfio = 0, n_idxd = 0;

    for (size_t i = 0; i < host->n_devs; i++) {
        n_vfio += !strcmp(host->devs[i].driver, "vfio-pci");
        n_idxd += !strcmp(host->devs[i].driver, "idxd");
    }
    if (!host->n_devs) {
        ds_put_cstr(&s, "no DSA PCI function on this host");
    } else {
        ds_put_format(&s, "%"PRIuSIZE" DSA function(s): %"PRIuSIZE" on "
                      "vfio-pci, %"PRIuSIZE" on idxd, %"PRIuSIZE" other; "
                      "iommu %s, noiommu mode %s", host->n_devs, n_vfio,
                      n_idxd, host->n_devs - n_vfio - n_idxd,
                      host->iommu_present ? "yes" : "no",
                      host->noiommu_on ? "on" : "off");
        if (n_vfio < host->n_devs) {
            ds_put_cstr(&s, " (run ovs-dsa-setup apply)");
        }
    }
    if ((host->noiommu_on || (!host->iommu_present && n_vfio))
        && (!have_rawio || !have_sys_admin)) {
        if (!have_rawio) {
            ds_put_cstr(&s, "; missing CAP_SYS_RAWIO for no-IOMMU vfio");
        }
        if (!have_sys_admin) {
            ds_put_cstr(&s, "; missing CAP_SYS_ADMIN for IOVA-as-PA");
        }
        if (!have_sys_admin) {
            /* --user drops CAP_SYS_ADMIN whatever the version. */
            ds_put_cstr(&s, DSA_OVS_HAS_HW_RAWIO_ACCESS
                        ? ": run ovs-vswitchd as root (--hw-rawio-access "
                          "keeps CAP_SYS_RAWIO only)"
                        : ": run ovs-vswitchd as root");
        } else {
            ds_put_cstr(&s, DSA_OVS_HAS_HW_RAWIO_ACCESS
                        ? ": start ovs-vswitchd with --hw-rawio-access or "
                          "as root"
                        : ": run ovs-vswitchd as root (Open vSwitch 3.1 has "
                          "no --hw-rawio-access)");
        }
    }
    return ds_steal_cstr(&s);
}
