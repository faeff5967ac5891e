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

#ifndef DSA_CONFIG_H
#define DSA_CONFIG_H 1

#include <stdbool.h>

#include "svec.h"

struct ds;
struct json;
struct smap;

/* Accepted ranges and defaults of the other_config:dsa-* keys.  Documented
 * in vswitchd/vswitch.xml (patched) and docs/configuration.md. */
#define DSA_RING_SIZE_MIN 64
#define DSA_RING_SIZE_MAX 4096
#define DSA_RING_SIZE_DEFAULT 1024
#define DSA_COPY_THRESHOLD_MAX 65536
#define DSA_COPY_THRESHOLD_DEFAULT 256
#define DSA_WATCHDOG_MS_MIN 1
#define DSA_WATCHDOG_MS_MAX 250
#define DSA_WATCHDOG_MS_DEFAULT 100
#define DSA_QUARANTINE_MS_MIN 1
#define DSA_QUARANTINE_MS_MAX 600000
#define DSA_QUARANTINE_MS_DEFAULT 1000
#define DSA_WQS_PER_DEVICE_MIN 1
#define DSA_WQS_PER_DEVICE_MAX 8

/* PCI address in its canonical "DDDD:BB:DD.F" form, plus the NUL. */
#define DSA_PCI_ADDR_LEN 13

/* The parsed and validated other_config:dsa-* keys. */
struct dsa_config {
    bool enable;                 /* dsa-enable. */
    struct svec devices;         /* dsa-devices, normalized; empty: all. */
    bool allow_noiommu;          /* dsa-allow-noiommu. */
    unsigned int wqs_per_device; /* dsa-wqs-per-device; 0: driver default. */
    unsigned int ring_size;      /* dsa-ring-size. */
    unsigned int copy_threshold; /* dsa-copy-threshold, in bytes. */
    bool dequeue;                /* dsa-dequeue. */
    unsigned int watchdog_ms;    /* dsa-watchdog-ms. */
    unsigned int quarantine_ms;  /* dsa-quarantine-ms. */
    struct svec problems;        /* One human-readable line per bad value. */
};

void dsa_config_init(struct dsa_config *);
void dsa_config_destroy(struct dsa_config *);
void dsa_config_parse(struct dsa_config *, const struct smap *other_config);
void dsa_config_format(const struct dsa_config *, struct ds *);
struct json *dsa_config_to_json(const struct dsa_config *);
char *dsa_config_fingerprint(const struct smap *other_config);

bool dsa_pci_addr_parse(const char *s, char out[DSA_PCI_ADDR_LEN]);

#endif /* dsa-config.h */
