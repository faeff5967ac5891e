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

#include "dsa.h"
#include "dsa-vhost.h"

#include "openvswitch/dynamic-string.h"
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
