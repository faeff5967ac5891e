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

/* ovs-dsa-setup: brings Intel DSA PCI functions up under vfio-pci for
 * OvS-DPDK, including vfio's no-IOMMU mode; safe, idempotent and
 * reversible.  See ovs-dsa-setup(8). */

#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsa-config.h"
#include "dsa-host.h"
#include "dsa-setup-plan.h"
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"

/* Exit codes (documented in ovs-dsa-setup(8)). */
#define DSA_EXIT_OK 0
#define DSA_EXIT_REFUSED 1
#define DSA_EXIT_USAGE 2
#define DSA_EXIT_FAILED 3
#define DSA_EXIT_NOT_ROOT 4

/* Returns "yes" or "no". */
static const char *
dsa_yes(bool b)
{
    return b ? "yes" : "no";
}

/* Appends the 'status' report of 'host' to 's'. */
static void
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

/* Appends to 's' a note for each DSA device id of 'host' that is on
 * vfio-pci's denylist. */
static void
dsa_host_format_denylist(const struct dsa_host *host, struct ds *s)
{
    for (size_t i = 0; i < host->n_devs; i++) {
        unsigned int id = host->devs[i].device_id;
        const char *why = dsa_id_denylisted(id);
        bool seen = false;

        for (size_t j = 0; j < i; j++) {
            seen = seen || host->devs[j].device_id == id;
        }
        if (why && !seen) {
            ds_put_format(s, "note: %04x:%04x is on vfio-pci's denylist "
                          "(%s): binding needs disable_denylist; do not hand "
                          "these devices to untrusted users or VMs\n",
                          DSA_PCI_VENDOR, id, why);
        }
    }
}

static void
usage(void)
{
    printf("usage: %s [OPTIONS] status|plan|apply|revert\n"
           "  status   show DSA functions, vfio state and what is missing\n"
           "  plan     print the module loads and sysfs writes of 'apply'\n"
           "  apply    do them (rolled back if one fails)\n"
           "  revert   return devices to the drivers they had before\n"
           "options:\n"
           "  --devices=BDF[,BDF...]  only these DSA functions\n"
           "  --allow-noiommu         allow vfio's no-IOMMU mode\n"
           "  --force                 unbind from idxd with WQs enabled\n"
           "  --from-ovsdb            read dsa-enable, dsa-devices and\n"
           "                          dsa-allow-noiommu with ovs-vsctl\n"
           "  --db=SERVER             ovsdb-server for --from-ovsdb\n"
           "  --state-file=FILE       where 'apply' records what 'revert'\n"
           "                          restores\n"
           "  --sysfs-root=DIR        sysfs (default /sys), for tests\n"
           "  --etc-root=DIR          /etc, for tests\n"
           "  --modprobe=CMD          module loader (default modprobe)\n"
           "exit codes: 0 done or nothing to do, 1 refused, 2 usage,\n"
           "  3 a step failed (rolled back), 4 not root\n",
           program_name);
}

/* Reads other_config:'key' with ovs-vsctl into 'oc'. */
static bool
read_ovsdb_key(const char *db, const char *key, struct smap *oc)
{
    char *cmd = xasprintf("ovs-vsctl%s%s --timeout=10 --if-exists get "
                          "Open_vSwitch . other_config:%s", db ? " --db=" : "",
                          db ? db : "", key);
    FILE *p = popen(cmd, "r");
    char buf[512] = "";
    bool ok = p != NULL;

    if (p) {
        if (fgets(buf, sizeof buf, p)) {
            char *v = buf;

            v[strcspn(v, "\n")] = '\0';
            if (v[0] == '"') {
                v++;
                v[strcspn(v, "\"")] = '\0';
            }
            if (v[0]) {
                smap_replace(oc, key, v);
            }
        }
        ok = !pclose(p);
    }
    free(cmd);
    return ok;
}

/* --from-ovsdb: fills 'opts' from the database.  Returns false if
 * dsa-enable is not true there. */
static bool
read_ovsdb(const char *db, struct dsa_setup_opts *opts)
{
    static const char *const keys[] = {
        "dsa-enable", "dsa-devices", "dsa-allow-noiommu",
    };
    struct smap oc = SMAP_INITIALIZER(&oc);
    struct dsa_config cfg;
    bool enable;

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!read_ovsdb_key(db, keys[i], &oc)) {
            ovs_fatal(0, "cannot read other_config:%s with ovs-vsctl (is "
                      "ovsdb-server running?)", keys[i]);
        }
    }
    dsa_config_init(&cfg);
    dsa_config_parse(&cfg, &oc);
    for (size_t i = 0; i < cfg.problems.n; i++) {
        fprintf(stderr, "%s: other_config:%s\n", program_name,
                cfg.problems.names[i]);
    }
    for (size_t i = 0; i < cfg.devices.n; i++) {
        char pci[DSA_PCI_ADDR_LEN];

        if (dsa_pci_addr_parse(cfg.devices.names[i], pci)) {
            svec_add(&opts->devices, pci);
        }
    }
    opts->allow_noiommu = opts->allow_noiommu || cfg.allow_noiommu;
    enable = cfg.enable;
    dsa_config_destroy(&cfg);
    smap_destroy(&oc);
    return enable;
}

int
main(int argc, char *argv[])
{
    enum { OPT_DEVICES = UCHAR_MAX + 1, OPT_NOIOMMU, OPT_FORCE, OPT_OVSDB,
           OPT_DB, OPT_STATE, OPT_SYSFS, OPT_ETC, OPT_MODPROBE };
    static const struct option long_options[] = {
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"allow-noiommu", no_argument, NULL, OPT_NOIOMMU},
        {"force", no_argument, NULL, OPT_FORCE},
        {"from-ovsdb", no_argument, NULL, OPT_OVSDB},
        {"db", required_argument, NULL, OPT_DB},
        {"state-file", required_argument, NULL, OPT_STATE},
        {"sysfs-root", required_argument, NULL, OPT_SYSFS},
        {"etc-root", required_argument, NULL, OPT_ETC},
        {"modprobe", required_argument, NULL, OPT_MODPROBE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dsa_env env = { "/sys", "/etc", "modprobe" };
    struct dsa_setup_opts opts;
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *rundir = getenv("OVS_RUNDIR");
    char *state = xasprintf("%s/ovs-dsa-setup.state",
                            rundir ? rundir : "/var/run/openvswitch");
    const char *db = NULL, *cmd;
    struct dsa_host host;
    struct dsa_plan plan;
    bool from_ovsdb = false;
    int rc = DSA_EXIT_OK;
    int c;

    set_program_name(argv[0]);
    svec_init(&opts.devices);
    opts.allow_noiommu = opts.force = false;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_DEVICES: {
            char *copy = xstrdup(optarg), *save = NULL;

            for (char *t = strtok_r(copy, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                char pci[DSA_PCI_ADDR_LEN];

                if (!dsa_pci_addr_parse(t, pci)) {
                    fprintf(stderr, "%s: --devices: \"%s\" is not a PCI "
                            "address\n", program_name, t);
                    exit(DSA_EXIT_USAGE);
                }
                svec_add(&opts.devices, pci);
            }
            free(copy);
            break;
        }
        case OPT_NOIOMMU:
            opts.allow_noiommu = true;
            break;
        case OPT_FORCE:
            opts.force = true;
            break;
        case OPT_OVSDB:
            from_ovsdb = true;
            break;
        case OPT_DB:
            db = optarg;
            break;
        case OPT_STATE:
            free(state);
            state = xstrdup(optarg);
            break;
        case OPT_SYSFS:
            env.sysfs_root = optarg;
            break;
        case OPT_ETC:
            env.etc_root = optarg;
            break;
        case OPT_MODPROBE:
            env.modprobe = optarg;
            break;
        case 'h':
            usage();
            exit(DSA_EXIT_OK);
        default:
            exit(DSA_EXIT_USAGE);
        }
    }
    if (optind != argc - 1) {
        usage();
        exit(DSA_EXIT_USAGE);
    }
    cmd = argv[optind];
    if (strcmp(cmd, "status") && strcmp(cmd, "plan") && strcmp(cmd, "apply")
        && strcmp(cmd, "revert")) {
        fprintf(stderr, "%s: unknown command \"%s\" (try --help)\n",
                program_name, cmd);
        exit(DSA_EXIT_USAGE);
    }
    if ((!strcmp(cmd, "apply") || !strcmp(cmd, "revert")) && geteuid()) {
        fprintf(stderr, "%s: %s must run as root (it loads modules and "
                "writes to sysfs); nothing was changed\n", program_name, cmd);
        exit(DSA_EXIT_NOT_ROOT);
    }
    if (from_ovsdb && strcmp(cmd, "revert") && !read_ovsdb(db, &opts)) {
        printf("other_config:dsa-enable is not true: nothing to do\n");
        exit(DSA_EXIT_OK);
    }

    dsa_host_scan(env.sysfs_root, env.etc_root, &host);
    dsa_plan_init(&plan);
    if (!strcmp(cmd, "status")) {
        dsa_host_format(&host, &out);
        dsa_host_format_denylist(&host, &out);
        fputs(ds_cstr(&out), stdout);
        goto out;
    }

    if (!strcmp(cmd, "revert")) {
        dsa_revert_plan(state, &host, &plan);
    } else {
        dsa_plan_compute(&host, &env, &opts, &plan);
    }
    for (size_t i = 0; i < plan.notes.n; i++) {
        fprintf(stderr, "%s: %s\n", program_name, plan.notes.names[i]);
    }
    if (plan.refusals.n) {
        for (size_t i = 0; i < plan.refusals.n; i++) {
            fprintf(stderr, "%s: refused: %s\n", program_name,
                    plan.refusals.names[i]);
        }
        fprintf(stderr, "%s: nothing was changed\n", program_name);
        rc = DSA_EXIT_REFUSED;
        goto out;
    }
    dsa_plan_format(&plan, &out);
    if (!strcmp(cmd, "plan")) {
        fputs(plan.n_steps ? ds_cstr(&out) : "nothing to do\n", stdout);
        goto out;
    }
    if (!plan.n_steps) {
        printf("nothing to do: %"PRIuSIZE" DSA device(s) %s\n",
               plan.devices.n, !strcmp(cmd, "revert") ? "to revert"
               : "already bound to vfio-pci");
        goto out;
    }
    ds_clear(&out);
    if (dsa_plan_apply(&env, &plan, &out)) {
        fprintf(stderr, "%s", ds_cstr(&out));
        rc = DSA_EXIT_FAILED;
        goto out;
    }
    if (!strcmp(cmd, "apply")) {
        int error = dsa_state_save(state, &host, &plan);

        if (error) {
            fprintf(stderr, "%s: %s: %s (revert will not know the original "
                    "drivers)\n", program_name, state, ovs_strerror(error));
        }
        printf("%"PRIuSIZE" step(s) done: %"PRIuSIZE" DSA device(s) bound to "
               "vfio-pci\n", plan.n_steps, plan.devices.n);
    } else {
        unlink(state);
        printf("%"PRIuSIZE" step(s) done: %"PRIuSIZE" DSA device(s) returned "
               "to their drivers\n", plan.n_steps, plan.devices.n);
    }

out:
    dsa_plan_destroy(&plan);
    dsa_host_destroy(&host);
    svec_destroy(&opts.devices);
    ds_destroy(&out);
    free(state);
    return rc;
}
