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

#ifndef DSA_VHOST_H
#define DSA_VHOST_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct json;
struct netdev_custom_stats;
struct rte_mbuf;
struct rte_mempool;

/* vhost async copy glue: which ports and queues copy through DMA channels,
 * submission and completion, drains, and their counters.  See
 * docs/design.md, "Data path". */

/* Main thread (dsa.c).  dsa_vhost_stop() must not be called with a mutex
 * held that PMD threads may wait for. */
void dsa_vhost_start(const int16_t *dma_ids, size_t n, bool dequeue);
bool dsa_vhost_stop(void);
void dsa_vhost_set_port_policy(bool enable, bool dequeue,
                               unsigned int threshold);

/* dpdk_ext hooks. */
void dsa_vhost_driver_flags(const char *netdev_name, uint64_t *flags);
void dsa_vhost_new_connection(int vid);
void dsa_vhost_destroy_connection(int vid);
void dsa_vhost_new_device(int vid, const char *netdev_name);
void dsa_vhost_destroy_device(int vid);
void dsa_vhost_vring_state(int vid, uint16_t queue_id, int enable);
int dsa_vhost_enqueue(int vid, uint16_t queue_id, struct rte_mbuf **pkts,
                      uint16_t n);
int dsa_vhost_dequeue(int vid, uint16_t queue_id, struct rte_mempool *,
                      struct rte_mbuf **pkts, uint16_t n);

/* PMD threads. */
void dsa_vhost_thread_set(bool pmd, int16_t dma);
int dsa_vhost_poll(void);
void dsa_vhost_drain_thread(void);

/* Internals, exposed for unit tests. */
void dsa_mbuf_take(struct rte_mbuf **, uint16_t n);

/* A virtqueue a thread has submitted to, on one channel. */
struct dsa_vdev;
struct dsa_tvq {
    struct dsa_vdev *vdev;      /* Device, as tracked by dsa-vhost. */
    int vid;                    /* Its DPDK device id. */
    uint16_t qid;               /* Virtqueue index. */
    int16_t dma;                /* Channel the copies went to. */
    bool busy;                  /* Copies this thread submitted may be in
                                 * flight: set at each submit, cleared by
                                 * the thread's own poll once vhost reports
                                 * nothing in flight.  An idle queue is not
                                 * polled. */
};

/* A thread's set of virtqueues with copies it submitted. */
struct dsa_tstate {
    struct dsa_tvq *vqs;        /* 'n' entries of 'allocated'. */
    size_t n;
    size_t allocated;
    uint64_t orphan_seq;        /* dsa_vhost_orphan_seq last seen. */
    uint64_t vq_seq;            /* dsa_vhost_vq_seq last seen. */
};
bool dsa_tstate_add(struct dsa_tstate *, struct dsa_vdev *, int vid,
                    uint16_t qid, int16_t dma);

/* dsa/show and dsa/stats-*. */
void dsa_vhost_show(struct ds *);
struct json *dsa_vhost_show_json(void);
bool dsa_vhost_stats_show(struct ds *, const char *port);
struct json *dsa_vhost_stats_json(const char *port);
void dsa_vhost_stats_clear(void);
void dsa_vhost_custom_stats(const char *netdev_name,
                            struct netdev_custom_stats *);
void dsa_vhost_format_serving(struct ds *, int16_t dma);
struct json *dsa_vhost_serving_json(int16_t dma);

#endif /* dsa-vhost.h */
