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

#ifndef DSA_EAL_H
#define DSA_EAL_H 1

#include <stdbool.h>

struct dsa_config;
struct svec;

/* Where the kernel's sysfs is, unless a test says otherwise. */
#define DSA_SYSFS_ROOT "/sys"

void dsa_find_vfio_devices(const char *sysfs_root, struct svec *bdfs);
void dsa_eal_args(const struct dsa_config *, const char *sysfs_root,
                  struct svec *args, struct svec *hotplug,
                  struct svec *problems);
void dsa_attach_devargs(const struct dsa_config *, const char *sysfs_root,
                        const struct svec *dmadev_names,
                        struct svec *devargs);

#endif /* dsa-eal.h */
