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

#ifndef DSA_H
#define DSA_H 1

struct ds;
struct json;

/* The extension's lifecycle (dsa.c) and its unixctl commands
 * (dsa-unixctl.c). */
void dsa_show(struct ds *);
struct json *dsa_show_json(void);
void dsa_channels_stats(struct ds *);
struct json *dsa_channels_stats_json(void);
void dsa_channels_stats_clear(void);
void dsa_unixctl_register(void);
void dsa_unixctl_register_test_commands(void);

#endif /* dsa.h */
