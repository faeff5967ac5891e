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

#ifndef DSA_HOST_H
#define DSA_HOST_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dsa-config.h"
#include "svec.h"

/* The DSA PCI functions of a host and its vfio state, as read from sysfs,
 * and the facts about each DSA device id.  ovs-vswitchd reads the host to
 * find its devices and to report what stands in the way; ovs-dsa-setup
 * plans its bring-up from it.  The sysfs and /etc roots are parameters, so
 * that tests run on fabricated trees. */

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
    struct dsa_dev *devs;       /* Every DSA function, sorted by BDF. */
    size_t n_devs;
};

/* PCI vendor id of every DSA function (Intel). */
#define DSA_PCI_VENDOR 0x8086

bool dsa_id_is_dsa(unsigned int vendor, unsigned int device);
const char *dsa_id_denylisted(unsigned int device);
bool dsa_id_dpdk_probes(unsigned int device);

void dsa_host_scan(const char *sysfs_root, const char *etc_root,
                   struct dsa_host *);
void dsa_host_destroy(struct dsa_host *);
char *dsa_host_summary(const struct dsa_host *, bool have_rawio,
                       bool have_sys_admin);

/* Open vSwitch 3.2 added "ovs-vswitchd --hw-rawio-access", which keeps
 * CAP_SYS_RAWIO when the daemon drops root with --user (it keeps no
 * CAP_SYS_ADMIN).  DSA_OVS_VERSION_NUM (MAJOR * 100 + MINOR) is the version
 * of the Open vSwitch this build links into, set by the build. */
#ifndef DSA_OVS_VERSION_NUM
#error "DSA_OVS_VERSION_NUM must be defined by the build"
#endif
#define DSA_OVS_HAS_HW_RAWIO_ACCESS (DSA_OVS_VERSION_NUM >= 302)

#endif /* dsa-host.h */
