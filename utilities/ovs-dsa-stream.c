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

/* ovs-dsa-stream: a verifiable TCP stream, for the real QEMU guests of the
 * system tests (linked statically: it runs in a busybox initramfs).
 *
 *   ovs-dsa-stream --send HOST:PORT --bytes N [--rate MBPS]
 *   ovs-dsa-stream --recv PORT --bytes N
 *
 * Byte number OFF of the stream is byte OFF % 8 (the least significant
 * first) of a 64-bit xorshift of OFF / 8 keyed by --seed, so that the
 * receiver can check every byte without being told anything but the seed
 * and the length.  The sender
 * retries its connect until the receiver is up; both give up after
 * --timeout seconds (default 120) in all.  Each prints one result line:
 *
 *   stream ok bytes=N           (receiver: all N bytes, every one right)
 *   stream CORRUPT offset=X     (receiver: byte X is wrong)
 *   stream SHORT bytes=M        (receiver: the stream ended after M bytes)
 *   send ok bytes=N / send FAILED bytes=M: REASON   (sender)
 *
 * and exits with status 0 for "ok", 1 otherwise (2 for a usage error). */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STREAM_CHUNK 65536      /* Bytes per read() or write() at most. */

/* What the command line asked for. */
struct stream_opts {
    bool send;                  /* --send (else --recv). */
    struct sockaddr_in addr;    /* Peer (--send) or local port (--recv). */
    uint64_t bytes;             /* --bytes. */
    uint64_t seed;              /* --seed. */
    double rate;                /* --rate, in MB/s; 0 for no limit. */
    double timeout;             /* --timeout, in seconds. */
};

/* Returns the monotonic time in seconds. */
static double
stream_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Returns the 64-bit word number 'word' of the stream keyed by 'seed':
 * a xorshift64* step of the word number, mixed with the seed. */
static uint64_t
stream_word(uint64_t seed, uint64_t word)
{
    uint64_t x = (word + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545f4914f6cdd1dULL;
}

/* Fills 'buf' with the 'n' bytes of the stream that start at offset
 * 'off'. */
static void
stream_fill(uint8_t *buf, size_t n, uint64_t seed, uint64_t off)
{
    uint64_t word = stream_word(seed, off / 8);
    size_t i;

    for (i = 0; i < n; i++, off++) {
        if (i && !(off % 8)) {
            word = stream_word(seed, off / 8);
        }
        buf[i] = word >> (8 * (off % 8));
    }
}

/* Waits until 'fd' is ready for 'events' or 'deadline' (stream_now() time)
 * has passed.  Returns true if it is ready. */
static bool
stream_wait(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - stream_now();
        struct pollfd pfd = { .fd = fd, .events = events };
        int n;

        if (left <= 0) {
            return false;
        }
        n = poll(&pfd, 1, (int) (left * 1000) + 1);
        if (n > 0) {
            return true;
        } else if (n < 0 && errno != EINTR) {
            return false;
        }
    }
}

/* Connects to 'opts->addr', retrying every 100 ms until 'deadline'.
 * Returns the socket or -1. */
static int
stream_connect(const struct stream_opts *opts, double deadline)
{
    while (stream_now() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd < 0) {
            return -1;
        }
        if (!connect(fd, (const struct sockaddr *) &opts->addr,
                     sizeof opts->addr)) {
            return fd;
        }
        close(fd);
        usleep(100 * 1000);
    }
    return -1;
}

/* Sends the stream described by 'opts'.  Returns the exit status. */
static int
stream_send(const struct stream_opts *opts)
{
    double start = stream_now();
    double deadline = start + opts->timeout;
    static uint8_t buf[STREAM_CHUNK];
    uint64_t off = 0;
    int fd;

    fd = stream_connect(opts, deadline);
    if (fd < 0) {
        printf("send FAILED bytes=0: cannot connect (%m)\n");
        return 1;
    }
    start = stream_now();
    while (off < opts->bytes) {
        size_t n = opts->bytes - off < STREAM_CHUNK
                   ? opts->bytes - off : STREAM_CHUNK;
        ssize_t sent;

        if (opts->rate > 0) {
            /* Do not get ahead of the rate. */
            double due = start + off / (opts->rate * 1e6);
            double ahead = due - stream_now();

            if (ahead > 0) {
                usleep(ahead * 1e6);
            }
            if (n > opts->rate * 1e6 / 100) {
                n = opts->rate * 1e6 / 100 + 1;
            }
        }
        stream_fill(buf, n, opts->seed, off);
        if (!stream_wait(fd, POLLOUT, deadline)) {
            printf("send FAILED bytes=%"PRIu64": timeout\n", off);
            return 1;
        }
        sent = write(fd, buf, n);
        if (sent < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            printf("send FAILED bytes=%"PRIu64": %m\n", off);
            return 1;
        }
        off += sent;
    }
    /* Wait for the receiver to close first, so that nothing is left
     * unsent in our socket when we exit. */
    shutdown(fd, SHUT_WR);
    while (stream_wait(fd, POLLIN, deadline) && read(fd, buf, 1) > 0) {
        continue;
    }
    close(fd);
    printf("send ok bytes=%"PRIu64" seconds=%.1f\n", off,
           stream_now() - start);
    return 0;
}

/* Receives and checks the stream described by 'opts'.  Returns the exit
 * status. */
static int
stream_recv(const struct stream_opts *opts)
{
    double deadline = stream_now() + opts->timeout;
    static uint8_t buf[STREAM_CHUNK];
    static uint8_t want[STREAM_CHUNK];
    uint64_t off = 0;
    int one = 1;
    int lfd, fd;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0
        || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(lfd, (const struct sockaddr *) &opts->addr,
                sizeof opts->addr)
        || listen(lfd, 1)) {
        printf("stream SHORT bytes=0: cannot listen (%m)\n");
        return 1;
    }
    if (!stream_wait(lfd, POLLIN, deadline)) {
        printf("stream SHORT bytes=0: nobody connected\n");
        return 1;
    }
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        printf("stream SHORT bytes=0: accept (%m)\n");
        return 1;
    }
    while (off < opts->bytes) {
        ssize_t n;
        ssize_t i;

        if (!stream_wait(fd, POLLIN, deadline)) {
            printf("stream SHORT bytes=%"PRIu64": timeout\n", off);
            return 1;
        }
        n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        } else if (n <= 0) {
            break;
        }
        if (off + n > opts->bytes) {
            printf("stream CORRUPT offset=%"PRIu64": more than %"PRIu64
                   " bytes\n", opts->bytes, opts->bytes);
            return 1;
        }
        stream_fill(want, n, opts->seed, off);
        if (memcmp(buf, want, n)) {
            for (i = 0; buf[i] == want[i]; i++) {
                continue;
            }
            printf("stream CORRUPT offset=%"PRIu64"\n", off + i);
            return 1;
        }
        off += n;
    }
    close(fd);
    close(lfd);
    if (off < opts->bytes) {
        printf("stream SHORT bytes=%"PRIu64"\n", off);
        return 1;
    }
    printf("stream ok bytes=%"PRIu64"\n", off);
    return 0;
}

/* Prints the usage and exits with status 2. */
static void
stream_usage(void)
{
    fprintf(stderr,
            "usage: ovs-dsa-stream --send HOST:PORT --bytes N [--rate MBPS]\n"
            "       ovs-dsa-stream --recv PORT --bytes N\n"
            "options: --seed N (default 1), --timeout SECONDS "
            "(default 120)\n");
    exit(2);
}

/* Parses a port number in 's' into 'addr'. */
static void
stream_parse_port(const char *s, struct sockaddr_in *addr)
{
    char *end;
    long port = strtol(s, &end, 10);

    if (*end || port <= 0 || port > 65535) {
        stream_usage();
    }
    addr->sin_port = htons(port);
}

/* Parses the command line into 'opts'. */
static void
stream_parse(int argc, char *argv[], struct stream_opts *opts)
{
    static const struct option longopts[] = {
        { "send", required_argument, NULL, 's' },
        { "recv", required_argument, NULL, 'r' },
        { "bytes", required_argument, NULL, 'b' },
        { "seed", required_argument, NULL, 'S' },
        { "rate", required_argument, NULL, 'R' },
        { "timeout", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    bool have_mode = false, have_bytes = false;
    char host[64];
    char *colon;
    int c;

    memset(opts, 0, sizeof *opts);
    opts->addr.sin_family = AF_INET;
    opts->seed = 1;
    opts->timeout = 120;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            colon = strrchr(optarg, ':');
            if (!colon || colon - optarg >= sizeof host) {
                stream_usage();
            }
            memcpy(host, optarg, colon - optarg);
            host[colon - optarg] = '\0';
            if (inet_pton(AF_INET, host, &opts->addr.sin_addr) != 1) {
                stream_usage();
            }
            stream_parse_port(colon + 1, &opts->addr);
            opts->send = have_mode = true;
            break;
        case 'r':
            opts->addr.sin_addr.s_addr = htonl(INADDR_ANY);
            stream_parse_port(optarg, &opts->addr);
            have_mode = true;
            break;
        case 'b':
            opts->bytes = strtoull(optarg, NULL, 10);
            have_bytes = true;
            break;
        case 'S':
            opts->seed = strtoull(optarg, NULL, 0);
            break;
        case 'R':
            opts->rate = atof(optarg);
            break;
        case 't':
            opts->timeout = atof(optarg);
            break;
        default:
            stream_usage();
        }
    }
    if (!have_mode || !have_bytes || optind != argc) {
        stream_usage();
    }
}

int
main(int argc, char *argv[])
{
    struct stream_opts opts;
    int rc;

    stream_parse(argc, argv, &opts);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = opts.send ? stream_send(&opts) : stream_recv(&opts);
    fflush(stdout);
    return rc;
}
