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
#include "openvswitch/json.h"
#include "sset.h"
#include "unixctl.h"
#include "util.h"

/* Parses the 'argc' arguments 'argv' of a dsa/ command (argv[0] is its
 * name): "--format=text" (the default) or "--format=json" sets '*json';
 * the one other argument allowed if 'arg' is nonnull is stored in '*arg'
 * (NULL if none).  Returns NULL, or an error message that the caller must
 * free. */
static char *
dsa_unixctl_parse(int argc, const char *argv[], bool *json,
                  const char **arg)
{
    *json = false;
    if (arg) {
        *arg = NULL;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format=json")) {
            *json = true;
        } else if (!strcmp(argv[i], "--format=text")) {
            *json = false;
        } else if (!strncmp(argv[i], "--format", 8)) {
            return xasprintf("%s: expected --format=text or --format=json",
                             argv[i]);
        } else if (arg && !*arg) {
            *arg = argv[i];
        } else {
            return xasprintf("unexpected argument \"%s\"", argv[i]);
        }
    }
    return NULL;
}

/* Replies to 'conn' with 'json', which it destroys: one line. */
static void
dsa_unixctl_reply_json(struct unixctl_conn *conn, struct json *json)
{
    char *s = json_to_string(json, JSSF_SORT);
    char *reply = xasprintf("%s\n", s);

    unixctl_command_reply(conn, reply);
    free(reply);
    free(s);
    json_destroy(json);
}

/* ovs-appctl dsa/show [--format=text|json]. */
static void
dsa_unixctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
                 void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    bool json;
    char *error;

    error = dsa_unixctl_parse(argc, argv, &json, NULL);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    if (json) {
        dsa_unixctl_reply_json(conn, dsa_show_json());
        return;
    }
    dsa_show(&s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ovs-appctl dsa/stats-show [--format=text|json] [PORT]. */
static void
dsa_unixctl_stats_show(struct unixctl_conn *conn, int argc,
                       const char *argv[], void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *port;
    bool json;
    char *error;

    error = dsa_unixctl_parse(argc, argv, &json, &port);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    if (json) {
        struct json *ports = dsa_vhost_stats_json(port);
        struct json *obj;

        if (!ports) {
            unixctl_command_reply_error(conn, "no such vhost port");
            return;
        }
        obj = json_object_create();
        json_object_put(obj, "ports", ports);
        if (!port) {
            json_object_put(obj, "channels", dsa_channels_stats_json());
        }
        dsa_unixctl_reply_json(conn, obj);
        return;
    }
    if (!dsa_vhost_stats_show(&s, port)) {
        ds_destroy(&s);
        unixctl_command_reply_error(conn, "no such vhost port");
        return;
    }
    if (!port) {
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

/* Parses the "cost" model's arguments 'argv[1..argc - 1]' ("desc-ns=N",
 * "doorbell-ns=N", "completion-ns=N"; unnamed charges keep their
 * defaults) into '*cost'.  Returns NULL, or an error message the caller
 * frees. */
static char *
dsa_cost_parse(int argc, const char *argv[], struct dsa_engine_cost *cost)
{
    static const struct {
        const char *name;       /* Argument name, before '='. */
        size_t offset;          /* Its member of struct dsa_engine_cost. */
    } charges[] = {
        { "desc-ns", offsetof(struct dsa_engine_cost, desc_ns) },
        { "doorbell-ns", offsetof(struct dsa_engine_cost, doorbell_ns) },
        { "completion-ns", offsetof(struct dsa_engine_cost, completion_ns) },
    };

    *cost = (struct dsa_engine_cost) DSA_ENGINE_COST_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        unsigned int *field = NULL;
        int value;

        for (size_t j = 0; eq && j < ARRAY_SIZE(charges); j++) {
            size_t len = strlen(charges[j].name);

            if ((size_t) (eq - argv[i]) == len
                && !strncmp(argv[i], charges[j].name, len)) {
                field = (unsigned int *) ((char *) cost + charges[j].offset);
            }
        }
        if (!field) {
            return xasprintf("%s: expected desc-ns=, doorbell-ns= or "
                             "completion-ns=", argv[i]);
        }
        if (!str_to_int(eq + 1, 10, &value) || value < 0 || value > 100000) {
            return xasprintf("%s: expected 0 to 100000 (ns)", argv[i]);
        }
        *field = value;
    }
    return NULL;
}

/* ovs-appctl dsa/engine-model device|inline|ideal|cost [CHARGE=NS]... (test
 * and benchmark only). */
static void
dsa_unixctl_engine_model(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    static const enum dsa_engine_model models[] = {
        DSA_MODEL_DEVICE, DSA_MODEL_INLINE, DSA_MODEL_IDEAL, DSA_MODEL_COST,
    };

    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        if (strcmp(argv[1], dsa_engine_model_name(models[i]))) {
            continue;
        }
        if (models[i] == DSA_MODEL_COST) {
            struct dsa_engine_cost cost;
            char *error = dsa_cost_parse(argc - 1, argv + 1, &cost);

            if (error) {
                unixctl_command_reply_error(conn, error);
                free(error);
                return;
            }
            dsa_engine_set_cost(&cost);
        } else if (argc > 2) {
            unixctl_command_reply_error(conn, "only the cost model takes "
                                        "arguments");
            return;
        }
        dsa_engine_set_model(models[i]);
        unixctl_command_reply(conn, NULL);
        return;
    }
    unixctl_command_reply_error(conn, "expected device, inline, ideal or "
                                "cost");
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
        unixctl_command_register("dsa/engine-model",
                                 "device|inline|ideal|cost [desc-ns=NS] "
                                 "[doorbell-ns=NS] [completion-ns=NS]",
                                 1, 4, dsa_unixctl_engine_model, NULL);
    }
    sset_destroy(&types);
}

/* Registers the "dsa/..." unixctl commands. */
void
dsa_unixctl_register(void)
{
    unixctl_command_register("dsa/show", "[--format=text|json]", 0, 1,
                             dsa_unixctl_show, NULL);
    unixctl_command_register("dsa/stats-show", "[--format=text|json] [port]",
                             0, 2, dsa_unixctl_stats_show, NULL);
    unixctl_command_register("dsa/stats-clear", "", 0, 0,
                             dsa_unixctl_stats_clear, NULL);
}
