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

#include <stdlib.h>
#include <string.h>

#include "dsa.h"
#include "dsa-engine.h"
#include "dsa-vhost.h"

#include "netdev.h"
#include "openvswitch/dynamic-string.h"
#include "sset.h"
#include "unixctl.h"
#include "util.h"

/* ovs-appctl dsa/show. */
static void
dsa_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    dsa_show(&s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ovs-appctl dsa/stats-show [PORT]. */
static void
dsa_unixctl_stats_show(struct unixctl_conn *conn, int argc,
                       const char *argv[], void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!dsa_vhost_stats_show(&s, argc > 1 ? argv[1] : NULL)) {
        ds_destroy(&s);
        unixctl_command_reply_error(conn, "no such vhost port");
        return;
    }
    if (argc < 2) {
        dsa_channels_stats(&s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ovs-appctl dsa/stats-clear. */
static void
dsa_unixctl_stats_clear(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    dsa_vhost_stats_clear();
    dsa_channels_stats_clear();
    unixctl_command_reply(conn, "statistics cleared");
}

/* ovs-appctl dsa/inject-fault FAULT... (test only). */
static void
dsa_unixctl_inject_fault(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct dsa_faults f;
    char *error;

    error = dsa_faults_parse(argc - 1, argv + 1, &f);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    dsa_engine_set_faults(&f);
    ds_put_cstr(&s, "injected faults:");
    dsa_faults_format(&f, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ovs-appctl dsa/engine-model device|inline|ideal (test and benchmark
 * only). */
static void
dsa_unixctl_engine_model(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[], void *aux OVS_UNUSED)
{
    static const enum dsa_engine_model models[] = {
        DSA_MODEL_DEVICE, DSA_MODEL_INLINE, DSA_MODEL_IDEAL,
    };

    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        if (!strcmp(argv[1], dsa_engine_model_name(models[i]))) {
            dsa_engine_set_model(models[i]);
            unixctl_command_reply(conn, NULL);
            return;
        }
    }
    unixctl_command_reply_error(conn, "expected device, inline or ideal");
}

/* Registers the commands that make the DMA engines misbehave (fault
 * injection) or stop copying (engine models), if and only if ovs-vswitchd
 * runs with --enable-dummy: they exist for the test suite and the
 * benchmark and must never be reachable on a production switch. */
void
dsa_unixctl_register_test_commands(void)
{
    struct sset types = SSET_INITIALIZER(&types);
    static bool done;

    if (done) {
        return;
    }
    done = true;
    netdev_enumerate_types(&types);
    if (sset_contains(&types, "dummy")) {
        unixctl_command_register("dsa/inject-fault",
                                 "clear | [channel=DMADEV] [error-rate=PCT] "
                                 "[error-seq=FIRST[-LAST]] [ring-full=PCT] "
                                 "[wedge=on|off] [stop-fails=on|off]", 1, 7,
                                 dsa_unixctl_inject_fault, NULL);
        unixctl_command_register("dsa/engine-model", "device|inline|ideal",
                                 1, 1, dsa_unixctl_engine_model, NULL);
    }
    sset_destroy(&types);
}

/* Registers the "dsa/..." unixctl commands. */
void
dsa_unixctl_register(void)
{
    unixctl_command_register("dsa/show", "", 0, 0, dsa_unixctl_show, NULL);
    unixctl_command_register("dsa/stats-show", "[port]", 0, 1,
                             dsa_unixctl_stats_show, NULL);
    unixctl_command_register("dsa/stats-clear", "", 0, 0,
                             dsa_unixctl_stats_clear, NULL);
}
