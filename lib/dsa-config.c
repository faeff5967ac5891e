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

#include "dsa-config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "smap.h"
#include "util.h"

/* Adds a problem line to 'cfg'. */
static void OVS_PRINTF_FORMAT(2, 3)
dsa_config_problem(struct dsa_config *cfg, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    svec_add_nocopy(&cfg->problems, xvasprintf(format, args));
    va_end(args);
}

void
dsa_config_init(struct dsa_config *cfg)
{
    cfg->enable = false;
    svec_init(&cfg->devices);
    cfg->allow_noiommu = false;
    cfg->wqs_per_device = 0;
    cfg->ring_size = DSA_RING_SIZE_DEFAULT;
    cfg->copy_threshold = DSA_COPY_THRESHOLD_DEFAULT;
    cfg->dequeue = true;
    cfg->watchdog_ms = DSA_WATCHDOG_MS_DEFAULT;
    cfg->quarantine_ms = DSA_QUARANTINE_MS_DEFAULT;
    svec_init(&cfg->problems);
}

void
dsa_config_destroy(struct dsa_config *cfg)
{
    svec_destroy(&cfg->devices);
    svec_destroy(&cfg->problems);
}

/* Parses boolean 'key' of 'oc' into '*value'.  Only "true" and "false" are
 * accepted; anything else is a problem and leaves 'default_value'. */
static void
dsa_parse_bool(struct dsa_config *cfg, const struct smap *oc,
               const char *key, bool default_value, bool *value)
{
    const char *s = smap_get(oc, key);

    *value = default_value;
    if (!s) {
        return;
    }
    if (!strcmp(s, "true")) {
        *value = true;
    } else if (!strcmp(s, "false")) {
        *value = false;
    } else {
        dsa_config_problem(cfg, "%s: invalid value \"%s\" (expected true or "
                           "false), using default %s", key, s,
                           default_value ? "true" : "false");
    }
}

/* Parses unsigned decimal 'key' of 'oc' into '*value', accepting
 * [min, max] and, if 'pow2', only powers of two.  A missing key leaves
 * 'default_value' (0 stands for the driver's default) silently; a bad one
 * leaves it with a problem.  Returns true if the key was present and
 * valid. */
static bool
dsa_parse_uint(struct dsa_config *cfg, const struct smap *oc,
               const char *key, unsigned int min, unsigned int max,
               bool pow2, unsigned int default_value, unsigned int *value)
{
    const char *s = smap_get(oc, key);
    unsigned long long n;
    char *end;

    *value = default_value;
    if (!s) {
        return false;
    }

    errno = 0;
    n = isdigit((unsigned char) s[0]) ? strtoull(s, &end, 10) : 0;
    if (!isdigit((unsigned char) s[0]) || *end || errno
        || n < min || n > max || (pow2 && (n & (n - 1)))) {
        char *def = (default_value ? xasprintf("default %u", default_value)
                     : xstrdup("the driver's default"));

        dsa_config_problem(cfg, "%s: invalid value \"%s\" (expected %s"
                           "integer in [%u, %u]), using %s", key, s,
                           pow2 ? "a power-of-two " : "an ", min, max, def);
        free(def);
        return false;
    }
    *value = n;
    return true;
}

/* Parses a PCI address "DDDD:BB:DD.F" or "BB:DD.F" (hexadecimal) into its
 * canonical lower-case 4-digit-domain form in 'out'.  Returns false if 's'
 * is not a PCI address. */
bool
dsa_pci_addr_parse(const char *s, char out[DSA_PCI_ADDR_LEN])
{
    unsigned int domain = 0, bus, dev, func;
    int n = 0;

    if (!(sscanf(s, "%4x:%2x:%2x.%1x%n", &domain, &bus, &dev, &func, &n) == 4
          && !s[n])) {
        domain = 0;
        n = 0;
        if (!(sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &func, &n) == 3
              && !s[n])) {
            return false;
        }
    }
    if (dev > 0x1f || func > 7 || strchr(s, ' ') || strchr(s, '+')
        || strchr(s, '-')) {
        return false;
    }
    snprintf(out, DSA_PCI_ADDR_LEN, "%04x:%02x:%02x.%x",
             domain, bus, dev, func);
    return true;
}

/* Returns true if 's' is a plausible DPDK dmadev name. */
static bool
dsa_dmadev_name_valid(const char *s)
{
    size_t len = strlen(s);

    if (!len || len >= 64) {
        return false;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char) *s) && !strchr("_.:-", *s)) {
            return false;
        }
    }
    return true;
}

/* Parses the comma-separated dsa-devices list. */
static void
dsa_parse_devices(struct dsa_config *cfg, const struct smap *oc)
{
    const char *s = smap_get(oc, "dsa-devices");
    char *copy, *save_ptr = NULL;

    if (!s) {
        return;
    }
    copy = xstrdup(s);
    for (char *tok = strtok_r(copy, ",", &save_ptr); tok;
         tok = strtok_r(NULL, ",", &save_ptr)) {
        char pci[DSA_PCI_ADDR_LEN];
        const char *name;
        size_t len;

        tok += strspn(tok, " \t");
        for (len = strlen(tok); len && strchr(" \t", tok[len - 1]); len--) {
            tok[len - 1] = '\0';
        }
        if (!*tok) {
            continue;
        }
        if (dsa_pci_addr_parse(tok, pci)) {
            name = pci;
        } else if (dsa_dmadev_name_valid(tok)) {
            name = tok;
        } else {
            dsa_config_problem(cfg, "dsa-devices: ignoring \"%s\" (expected "
                               "a PCI address such as 0000:e7:01.0 or a "
                               "dmadev name)", tok);
            continue;
        }
        if (svec_contains_unsorted(&cfg->devices, name)) {
            dsa_config_problem(cfg, "dsa-devices: \"%s\" listed twice", tok);
            continue;
        }
        svec_add(&cfg->devices, name);
    }
    free(copy);
    if (!cfg->devices.n && strspn(s, " \t,") != strlen(s)) {
        dsa_config_problem(cfg, "dsa-devices: no valid entry in \"%s\", "
                           "using every DMA device", s);
    }
}

/* Parses 'oc' into 'cfg', which must have been initialized and is reset
 * first.  Every bad value is replaced by its default and described in
 * cfg->problems. */
void
dsa_config_parse(struct dsa_config *cfg, const struct smap *oc)
{
    dsa_config_destroy(cfg);
    dsa_config_init(cfg);

    dsa_parse_bool(cfg, oc, "dsa-enable", false, &cfg->enable);
    dsa_parse_devices(cfg, oc);
    dsa_parse_bool(cfg, oc, "dsa-allow-noiommu", false, &cfg->allow_noiommu);
    dsa_parse_uint(cfg, oc, "dsa-wqs-per-device", DSA_WQS_PER_DEVICE_MIN,
                   DSA_WQS_PER_DEVICE_MAX, false, 0, &cfg->wqs_per_device);
    dsa_parse_uint(cfg, oc, "dsa-ring-size", DSA_RING_SIZE_MIN,
                   DSA_RING_SIZE_MAX, true, DSA_RING_SIZE_DEFAULT,
                   &cfg->ring_size);
    dsa_parse_uint(cfg, oc, "dsa-copy-threshold", 0, DSA_COPY_THRESHOLD_MAX,
                   false, DSA_COPY_THRESHOLD_DEFAULT, &cfg->copy_threshold);
    dsa_parse_bool(cfg, oc, "dsa-dequeue", true, &cfg->dequeue);
    dsa_parse_uint(cfg, oc, "dsa-watchdog-ms", DSA_WATCHDOG_MS_MIN,
                   DSA_WATCHDOG_MS_MAX, false, DSA_WATCHDOG_MS_DEFAULT,
                   &cfg->watchdog_ms);
    dsa_parse_uint(cfg, oc, "dsa-quarantine-ms", DSA_QUARANTINE_MS_MIN,
                   DSA_QUARANTINE_MS_MAX, false, DSA_QUARANTINE_MS_DEFAULT,
                   &cfg->quarantine_ms);

    /* Keys that look like ours but are not: most likely typos. */
    const struct smap_node **nodes = smap_sort(oc);
    for (size_t i = 0; i < smap_count(oc); i++) {
        static const char *const known[] = {
            "dsa-enable", "dsa-devices", "dsa-allow-noiommu",
            "dsa-wqs-per-device", "dsa-ring-size", "dsa-copy-threshold",
            "dsa-dequeue", "dsa-watchdog-ms", "dsa-quarantine-ms",
        };
        const char *key = nodes[i]->key;
        bool found = false;

        if (strncmp(key, "dsa-", 4)) {
            continue;
        }
        for (size_t j = 0; j < ARRAY_SIZE(known); j++) {
            found = found || !strcmp(key, known[j]);
        }
        if (!found) {
            dsa_config_problem(cfg, "%s: unknown key, ignored", key);
        }
    }
    free(nodes);
}

/* Appends a one-line summary of 'cfg' to 's'. */
void
dsa_config_format(const struct dsa_config *cfg, struct ds *s)
{
    ds_put_format(s, "enable=%s devices=", cfg->enable ? "true" : "false");
    if (cfg->devices.n) {
        for (size_t i = 0; i < cfg->devices.n; i++) {
            ds_put_format(s, "%s%s", i ? "," : "", cfg->devices.names[i]);
        }
    } else {
        ds_put_cstr(s, "all");
    }
    ds_put_format(s, " allow-noiommu=%s wqs-per-device=",
                  cfg->allow_noiommu ? "true" : "false");
    if (cfg->wqs_per_device) {
        ds_put_format(s, "%u", cfg->wqs_per_device);
    } else {
        ds_put_cstr(s, "default");
    }
    ds_put_format(s, " ring-size=%u copy-threshold=%u dequeue=%s "
                  "watchdog-ms=%u quarantine-ms=%u",
                  cfg->ring_size, cfg->copy_threshold,
                  cfg->dequeue ? "true" : "false", cfg->watchdog_ms,
                  cfg->quarantine_ms);
}

/* Returns 'cfg' as a JSON object, with the names of dsa_config_format():
 * "devices" is an array (empty: all devices), "wqs-per-device" 0 means the
 * default. */
struct json *
dsa_config_to_json(const struct dsa_config *cfg)
{
    struct json *obj = json_object_create();
    struct json *devices = json_array_create_empty();

    for (size_t i = 0; i < cfg->devices.n; i++) {
        json_array_add(devices, json_string_create(cfg->devices.names[i]));
    }
    json_object_put(obj, "enable", json_boolean_create(cfg->enable));
    json_object_put(obj, "devices", devices);
    json_object_put(obj, "allow-noiommu",
                    json_boolean_create(cfg->allow_noiommu));
    json_object_put(obj, "wqs-per-device",
                    json_integer_create(cfg->wqs_per_device));
    json_object_put(obj, "ring-size", json_integer_create(cfg->ring_size));
    json_object_put(obj, "copy-threshold",
                    json_integer_create(cfg->copy_threshold));
    json_object_put(obj, "dequeue", json_boolean_create(cfg->dequeue));
    json_object_put(obj, "watchdog-ms",
                    json_integer_create(cfg->watchdog_ms));
    json_object_put(obj, "quarantine-ms",
                    json_integer_create(cfg->quarantine_ms));
    return obj;
}

/* Returns a string, which the caller must free, that changes whenever one
 * of the dsa-* keys of 'oc' changes.  Cheap enough for every main loop. */
char *
dsa_config_fingerprint(const struct smap *oc)
{
    const struct smap_node **nodes = smap_sort(oc);
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < smap_count(oc); i++) {
        if (!strncmp(nodes[i]->key, "dsa-", 4)) {
            ds_put_format(&s, "%s=%s\n", nodes[i]->key, nodes[i]->value);
        }
    }
    free(nodes);
    return ds_steal_cstr(&s);
}
