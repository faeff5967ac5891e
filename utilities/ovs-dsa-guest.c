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

/* ovs-dsa-guest: a minimal DPDK "guest" for vhost-user ports.
 *
 * It attaches to a vhost-user socket through DPDK's net_virtio_user (given
 * as an EAL --vdev) and receives (--mode=rx), sends (--mode=tx) or only
 * stays attached (--mode=idle) until SIGINT/SIGTERM.  With --count, a
 * sender prints "tx done" once that many packets were sent and stays
 * attached (packets still in its ring would be lost if it left).  Packets
 * carry a stream number (the sender's tx queue, with --queues, plus
 * --stream, so that several senders into one receiver differ), a sequence
 * number within the stream and a payload derived from both, so the
 * receiver reports lost, corrupted and reordered packets per stream.  On
 * exit it prints one line of counters.
 *
 * For ovs-dsa-bench: --mode=fwd sends every received packet back on the
 * queue it came from (testpmd's "io" forwarding; with --macswap, the MAC
 * addresses are swapped first); --no-check makes a sender write only the
 * headers (not the payload) and a receiver count without checking;
 * --control=PATH makes the guest re-read PATH every 100 ms, whose content
 * "MODE [SIZE]" switches mode (rx, tx, fwd, idle) and packet size without
 * a reconnect. */

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define GUEST_ETHERTYPE 0x88b5  /* IEEE local experimental. */
#define GUEST_MAGIC 0x44534131  /* "DSA1". */
#define GUEST_BURST 32

enum guest_mode { MODE_RX, MODE_TX, MODE_FWD, MODE_IDLE };

/* Header of every generated packet, after the Ethernet header. */
struct guest_hdr {
    uint32_t magic;
    uint16_t len;               /* Whole frame length. */
    uint16_t stream;            /* Sender's tx queue: one stream each. */
    uint64_t seq;               /* Sequence number within the stream. */
};

/* Queues (and so streams) at most. */
#define GUEST_MAX_QUEUES 8

static volatile bool guest_stop;

/* Counters printed at exit. */
static uint64_t n_sent, n_received, n_lost, n_corrupted, n_reordered,
                n_foreign;

static void
guest_signal(int sig)
{
    (void) sig;
    guest_stop = true;
}

/* Byte 'i' of the payload of packet 'seq'. */
static inline uint8_t
guest_byte(uint64_t seq, uint32_t i)
{
    return (uint8_t) (seq * 31 + i);
}

/* Fills only the headers of 'm' (--no-check): the payload is whatever the
 * buffer held. */
static void
guest_fill_headers(struct rte_mbuf *m, uint16_t stream, uint64_t seq,
                   uint32_t len)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct guest_hdr *h = (struct guest_hdr *) (eth + 1);

    memset(&eth->dst_addr, 0xff, sizeof eth->dst_addr);
    memset(&eth->src_addr, 0, sizeof eth->src_addr);
    eth->src_addr.addr_bytes[0] = 0x02;
    eth->src_addr.addr_bytes[5] = 0x01;
    eth->ether_type = rte_cpu_to_be_16(GUEST_ETHERTYPE);
    h->magic = GUEST_MAGIC;
    h->len = len;
    h->stream = stream;
    h->seq = seq;
    m->data_len = m->pkt_len = len;
}

/* Fills 'm' with packet 'seq' of 'len' bytes. */
static void
guest_fill(struct rte_mbuf *m, uint16_t stream, uint64_t seq, uint32_t len)
{
    uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
    uint32_t off = sizeof(struct rte_ether_hdr) + sizeof(struct guest_hdr);

    guest_fill_headers(m, stream, seq, len);
    for (uint32_t i = off; i < len; i++) {
        p[i] = guest_byte(seq ^ ((uint64_t) stream << 48), i);
    }
}

/* Checks received packet 'm' against its stream; 'next[s]' is the sequence
 * number expected next in stream 's', 'seen[s]' whether stream 's' has
 * started. */
static void
guest_check(struct rte_mbuf *m, uint64_t next[], bool seen[])
{
    const struct rte_ether_hdr *eth;
    const struct guest_hdr *h;
    uint32_t off = sizeof *eth + sizeof *h;
    uint8_t buf[RTE_ETHER_MAX_JUMBO_FRAME_LEN];
    const uint8_t *p;

    if (m->pkt_len < off || m->pkt_len > sizeof buf) {
        n_foreign++;
        return;
    }
    p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
    eth = (const struct rte_ether_hdr *) p;
    h = (const struct guest_hdr *) (eth + 1);
    if (eth->ether_type != rte_cpu_to_be_16(GUEST_ETHERTYPE)
        || h->magic != GUEST_MAGIC || h->stream >= GUEST_MAX_QUEUES) {
        n_foreign++;
        return;
    }
    n_received++;
    next += h->stream;
    if (!seen[h->stream]) {
        /* A receiver may join a stream that is already flowing: the first
         * packet sets the baseline. */
        seen[h->stream] = true;
        *next = h->seq;
    }
    if (h->len != m->pkt_len) {
        n_corrupted++;
        return;
    }
    for (uint32_t i = off; i < m->pkt_len; i++) {
        if (p[i] != guest_byte(h->seq ^ ((uint64_t) h->stream << 48), i)) {
            n_corrupted++;
            return;
        }
    }
    if (h->seq < *next) {
        n_reordered++;
    } else {
        n_lost += h->seq - *next;
        *next = h->seq + 1;
    }
}

/* Frees 'n' received packets 'pkts'; a receiver ('rx') counts them and,
 * with 'check', checks each against its stream ('next', 'seen'). */
static void
guest_consume(struct rte_mbuf **pkts, uint16_t n, bool rx, bool check,
              uint64_t next[], bool seen[])
{
    if (rx && !check) {
        n_received += n;
        rte_pktmbuf_free_bulk(pkts, n);
        return;
    }
    for (uint16_t i = 0; i < n; i++) {
        if (rx) {
            guest_check(pkts[i], next, seen);
        }
        rte_pktmbuf_free(pkts[i]);
    }
}

static int
guest_parse_mode(const char *s, enum guest_mode *mode)
{
    static const char *const names[] = { "rx", "tx", "fwd", "idle" };

    for (int i = 0; i < 4; i++) {
        if (!strcmp(s, names[i])) {
            *mode = (enum guest_mode) i;
            return 0;
        }
    }
    return -1;
}

/* Reads "MODE [SIZE]" from 'path' (--control) into '*mode' and the packet
 * size (fixed: '*size' and '*size_max'); leaves them unchanged if the file
 * is missing or malformed. */
static void
guest_read_control(const char *path, enum guest_mode *mode, uint32_t *size,
                   uint32_t *size_max)
{
    char m[16];
    unsigned int sz;
    FILE *f = fopen(path, "r");
    int n;

    if (!f) {
        return;
    }
    n = fscanf(f, "%15s %u", m, &sz);
    fclose(f);
    if (n >= 1 && !guest_parse_mode(m, mode) && n == 2 && sz >= 64
        && sz <= 9000) {
        *size = *size_max = sz;
    }
}

static void
usage(const char *name)
{
    printf("usage: %s [EAL options] -- [--mode=rx|tx|fwd|idle] "
           "[--size=BYTES[-MAX]] [--count=N] [--pps=N] [--start-file=PATH] "
           "[--queues=N] [--rx-buf=BYTES] [--macswap] [--no-check] "
           "[--control=PATH] [--stream=N]\n", name);
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"mode", required_argument, NULL, 'm'},
        {"size", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'c'},
        {"pps", required_argument, NULL, 'p'},
        {"start-file", required_argument, NULL, 'f'},
        {"queues", required_argument, NULL, 'q'},
        {"rx-buf", required_argument, NULL, 'b'},
        {"macswap", no_argument, NULL, 'w'},
        {"no-check", no_argument, NULL, 'n'},
        {"control", required_argument, NULL, 'C'},
        {"stream", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rte_eth_conf conf;
    struct rte_mempool *mp;
    const char *mode_name = "rx";
    enum guest_mode mode;
    const char *start_file = NULL, *control = NULL;
    bool macswap = false, no_check = false;
    uint64_t next[GUEST_MAX_QUEUES] = { 0 }, seq[GUEST_MAX_QUEUES] = { 0 };
    bool seen[GUEST_MAX_QUEUES] = { false };
    uint64_t count = 0, pps = 0;
    uint16_t n_queues = 1, txq = 0;
    uint16_t stream0 = 0;       /* --stream: stream number of tx queue 0,
                                 * so that several senders into one
                                 * receiver have streams of their own. */
    uint32_t size = 64, size_max = 0;   /* --size=BYTES[-MAX]: packet n
                                         * has BYTES + n % (MAX - BYTES + 1)
                                         * bytes. */
    uint32_t rx_buf = 10240;    /* Data room of receive buffers. */
    uint16_t port = 0;
    char *end;
    int ret, c;

    ret = rte_eal_init(argc, argv);
    if (ret < 0) {
        fprintf(stderr, "EAL initialization failed\n");
        return 1;
    }
    argc -= ret;
    argv += ret;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case 'm':
            mode_name = optarg;
            break;
        case 'w':
            macswap = true;
            break;
        case 'n':
            no_check = true;
            break;
        case 'C':
            control = optarg;
            break;
        case 's':
            size = strtoul(optarg, &end, 10);
            size_max = *end == '-' ? strtoul(end + 1, NULL, 10) : size;
            break;
        case 'c':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'p':
            pps = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            start_file = optarg;
            break;
        case 'q':
            n_queues = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            rx_buf = strtoul(optarg, NULL, 10);
            break;
        case 'S':
            stream0 = strtoul(optarg, NULL, 10);
            break;
        default:
            usage(argv[0]);
            return c == 'h' ? 0 : 1;
        }
    }
    if (guest_parse_mode(mode_name, &mode)) {
        fprintf(stderr, "--mode: expected rx, tx, fwd or idle\n");
        return 1;
    }
    if (!size_max) {
        size_max = size;
    }
    if (size < sizeof(struct rte_ether_hdr) + sizeof(struct guest_hdr)
        || size_max > 9000 || size_max < size) {
        fprintf(stderr, "--size: expected %zu to 9000\n",
                sizeof(struct rte_ether_hdr) + sizeof(struct guest_hdr));
        return 1;
    }
    if (rx_buf < 10240 && (mode != MODE_RX || rx_buf < 256)) {
        /* Packets sent are built in one buffer. */
        fprintf(stderr, "--rx-buf: at least 256, and only with --mode=rx\n");
        return 1;
    }
    if (n_queues < 1 || n_queues > GUEST_MAX_QUEUES) {
        fprintf(stderr, "--queues: expected 1 to %d\n", GUEST_MAX_QUEUES);
        return 1;
    }
    if (stream0 + n_queues > GUEST_MAX_QUEUES) {
        fprintf(stderr, "--stream: streams are numbered below %d\n",
                GUEST_MAX_QUEUES);
        return 1;
    }
    if (!rte_eth_dev_count_avail()) {
        fprintf(stderr, "no port: give --vdev=net_virtio_user0,path=...\n");
        return 1;
    }

    signal(SIGINT, guest_signal);
    signal(SIGTERM, guest_signal);

    /* 9000-byte frames fit in one 10 KiB data room; smaller receive
     * buffers (--rx-buf) make the host spread a frame over several. */
    mp = rte_pktmbuf_pool_create("guest_pool", 4095, 64, 0,
                                 RTE_PKTMBUF_HEADROOM + rx_buf,
                                 rte_socket_id());
    if (!mp) {
        fprintf(stderr, "mempool creation failed\n");
        return 1;
    }
    memset(&conf, 0, sizeof conf);
    conf.rxmode.mtu = 9000;
    if (rx_buf < 9000 + RTE_ETHER_HDR_LEN) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    }
    if (rte_eth_dev_configure(port, n_queues, n_queues, &conf)) {
        fprintf(stderr, "port configuration failed\n");
        return 1;
    }
    for (uint16_t q = 0; q < n_queues; q++) {
        if (rte_eth_rx_queue_setup(port, q, 1024, rte_socket_id(), NULL, mp)
            || rte_eth_tx_queue_setup(port, q, 1024, rte_socket_id(),
                                      NULL)) {
            fprintf(stderr, "queue %u setup failed\n", q);
            return 1;
        }
    }
    if (rte_eth_dev_start(port)) {
        fprintf(stderr, "port start failed\n");
        return 1;
    }
    printf("guest ready: mode %s\n", mode_name);
    fflush(stdout);

    /* With --start-file, wait for the file before sending: the test
     * creates it once the switch is ready to forward. */
    while (start_file && mode == MODE_TX && !guest_stop
           && access(start_file, F_OK)) {
        for (uint16_t q = 0; q < n_queues; q++) {
            struct rte_mbuf *junk[GUEST_BURST];
            uint16_t n = rte_eth_rx_burst(port, q, junk, GUEST_BURST);

            rte_pktmbuf_free_bulk(junk, n);
            n_foreign += n;
        }
        usleep(1000);
    }

    uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
    uint64_t next_control = 0;
    bool tx_done = false;
    while (!guest_stop) {
        struct rte_mbuf *pkts[GUEST_BURST];
        uint32_t n = 0;

        if (control && rte_get_timer_cycles() >= next_control) {
            guest_read_control(control, &mode, &size, &size_max);
            next_control = rte_get_timer_cycles() + hz / 10;
        }
        for (uint16_t q = 0; q < n_queues; q++) {
            uint16_t n_q = rte_eth_rx_burst(port, q, pkts, GUEST_BURST);

            if (mode == MODE_FWD) {
                uint16_t sent;

                for (uint16_t i = 0; macswap && i < n_q; i++) {
                    struct rte_ether_hdr *eth
                        = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
                    struct rte_ether_addr a = eth->dst_addr;

                    eth->dst_addr = eth->src_addr;
                    eth->src_addr = a;
                }
                sent = rte_eth_tx_burst(port, q, pkts, n_q);
                rte_pktmbuf_free_bulk(pkts + sent, n_q - sent);
                n_received += n_q;
                n_sent += sent;
                n += n_q;
                continue;
            }
            guest_consume(pkts, n_q, mode == MODE_RX, !no_check, next,
                          seen);
            n += n_q;
        }

        if (mode == MODE_TX && (!count || n_sent < count)) {
            uint64_t budget = GUEST_BURST;
            uint16_t k, sent;

            if (pps) {
                uint64_t due = (rte_get_timer_cycles() - start) * pps / hz;

                budget = due > n_sent ? RTE_MIN(due - n_sent, budget) : 0;
                if (!budget) {
                    /* Ahead of schedule: give the CPU away. */
                    usleep(100);
                }
            }
            if (count) {
                budget = RTE_MIN(budget, count - n_sent);
            }
            for (k = 0; k < budget; k++) {
                pkts[k] = rte_pktmbuf_alloc(mp);
                if (!pkts[k]) {
                    break;
                }
                uint32_t len = size
                               + (seq[txq] + k) % (size_max - size + 1);

                if (no_check) {
                    guest_fill_headers(pkts[k], stream0 + txq, seq[txq] + k,
                                       len);
                } else {
                    guest_fill(pkts[k], stream0 + txq, seq[txq] + k, len);
                }
            }
            sent = rte_eth_tx_burst(port, txq, pkts, k);
            for (uint16_t i = sent; i < k; i++) {
                rte_pktmbuf_free(pkts[i]);
            }
            seq[txq] += sent;
            n_sent += sent;
            /* One stream per queue, in turn. */
            txq = (txq + 1) % n_queues;
        } else if (mode == MODE_TX && count && n_sent == count
                   && !tx_done) {
            /* Stay attached: packets still in the ring would be lost if
             * the device stopped now.  The caller stops us. */
            printf("tx done\n");
            fflush(stdout);
            tx_done = true;
        }
        if (!n && (mode != MODE_TX || tx_done)) {
            usleep(10);
        }
    }

    /* Stopped: a receiver first takes what is already in its rings (the
     * switch counted those packets as delivered when it put them there),
     * until they are empty, for at most a second (traffic may go on). */
    if (mode == MODE_RX) {
        uint64_t until = rte_get_timer_cycles() + hz;
        uint32_t n;

        do {
            n = 0;
            for (uint16_t q = 0; q < n_queues; q++) {
                struct rte_mbuf *pkts[GUEST_BURST];
                uint16_t n_q = rte_eth_rx_burst(port, q, pkts, GUEST_BURST);

                guest_consume(pkts, n_q, true, !no_check, next, seen);
                n += n_q;
            }
        } while (n && rte_get_timer_cycles() < until);
    }

    printf("sent %"PRIu64" received %"PRIu64" lost %"PRIu64" corrupted %"
           PRIu64" reordered %"PRIu64" foreign %"PRIu64"\n", n_sent,
           n_received, n_lost, n_corrupted, n_reordered, n_foreign);
    fflush(stdout);
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_cleanup();
    return 0;
}
