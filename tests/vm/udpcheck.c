/* udpcheck: checked UDP traffic and an announce watcher for the
 * real-guest tests (tests/vm), built static by build-guest.sh.
 *
 *   udpcheck send IP PORT RATE SIZE SECONDS
 *       RATE datagrams a second of SIZE bytes for SECONDS (0: until
 *       SIGTERM); each carries a magic, its sequence number, a pattern
 *       derived from the sequence number and a checksum of all that.
 *   udpcheck recv PORT [IDLE [DELAY_MS]]
 *       checks every datagram: its length, magic, checksum and pattern
 *       (corrupt), a sequence number seen before (dup: a stale buffer
 *       handed up again) or lower than the highest (ooo). Ends after IDLE
 *       seconds without one (0 or none: never). DELAY_MS: reads each
 *       datagram only once it has waited that long in the socket's queue
 *       (its kernel timestamp), i.e. in the guest buffer the host wrote
 *       it to.
 *   udpcheck cat RATE
 *       copies its input to its output, reading at most RATE bytes a
 *       second: after nc, slower than the sender, the TCP stream waits in
 *       the socket's queue, in the guest buffers the host wrote it to.
 *   udpcheck watch IFNAME MAC
 *       counts the frames announcing MAC: RARPs (EtherType 0x8035) and
 *       gratuitous ARPs (sender IP = target IP) from it.
 *
 * Every mode but cat prints its summary line (UDPCHECK ... or WATCH ...) when it
 * ends, on SIGTERM or SIGINT, and on SIGUSR1 without ending.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x5651434bu /* "VQCK" */
#define HEAD 12 /* magic, sequence number, checksum */
#define MAX_SIZE 1472
#define MAX_SEQ (1u << 24)

static volatile sig_atomic_t stop, report;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

/* Seconds on a clock: CLOCK_MONOTONIC for intervals, CLOCK_REALTIME to
 * compare with a kernel timestamp. */
static double
clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* The payload of datagram seq: xorshift32 seeded by it. */
static void
pattern(uint8_t *p, size_t n, uint32_t seq)
{
	uint32_t x = seq * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* FNV-1a over the datagram, its checksum field taken as zero. */
static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (i >= 8 && i < HEAD) ? 0 : p[i];
		h *= 16777619u;
	}
	return h;
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked call returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

static int
do_send(const char *ip, int port, int rate, int size, int seconds)
{
	uint8_t buf[MAX_SIZE];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint32_t seq = 0;
	unsigned long errors = 0;
	double start = now(), next = start;
	int fd;

	if (size < HEAD || size > MAX_SIZE || rate <= 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1) {
		fprintf(stderr, "udpcheck send: bad arguments\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		perror("udpcheck send");
		return 1;
	}
	while (!stop && (seconds == 0 || now() - start < seconds) && seq < MAX_SEQ) {
		double t = now();

		if (report) {
			report = 0;
			printf("UDPCHECK sent=%u errors=%lu\n", seq, errors);
			fflush(stdout);
		}
		if (t < next) {
			usleep((useconds_t)((next - t) * 1e6));
			continue;
		}
		put32(buf, MAGIC);
		put32(buf + 4, seq);
		pattern(buf + HEAD, size - HEAD, seq);
		put32(buf + 8, fnv(buf, size));
		/* A full queue or an unreachable peer (no ARP answer while it
		 * moves) loses this one: the receiver counts what arrives. */
		if (send(fd, buf, size, 0) != size)
			errors++;
		seq++;
		next += 1.0 / rate;
		if (next < t - 1) /* descheduled for long: no burst to catch up */
			next = t;
	}
	printf("UDPCHECK sent=%u errors=%lu\n", seq, errors);
	fflush(stdout);
	return 0;
}

/* Seconds the next datagram has been queued (its SO_TIMESTAMPNS), or -1. */
static double
queued_for(int fd)
{
	char data[1], ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;

	if (recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT) < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return clock_s(CLOCK_REALTIME) - (ts.tv_sec + ts.tv_nsec / 1e9);
		}
	}
	return 1e9;
}

static int
do_recv(int port, int idle, int delay_ms)
{
	static uint8_t seen[MAX_SEQ / 8];
	uint8_t buf[2048], want[MAX_SIZE];
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long received = 0, corrupt = 0, dup = 0, ooo = 0;
	long max_seq = -1;
	double last = now();
	int fd, one = 1, bufsize = 64 << 20;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("udpcheck recv");
		return 1;
	}
	/* Past net.core.rmem_max: root may. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	printf("UDPCHECK listening\n");
	fflush(stdout);
	while (!stop && (idle == 0 || now() - last < idle)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		uint32_t seq;

		if (report) {
			report = 0;
			printf("UDPCHECK received=%lu corrupt=%lu dup=%lu ooo=%lu max_seq=%ld\n",
			       received, corrupt, dup, ooo, max_seq);
			fflush(stdout);
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (delay_ms > 0) {
			double age = queued_for(fd);

			last = now();
			if (age >= 0 && age < delay_ms / 1e3) {
				usleep((useconds_t)((delay_ms / 1e3 - age) * 1e6) + 1000);
				continue;
			}
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		last = now();
		received++;
		seq = n >= HEAD ? get32(buf + 4) : 0;
		if (n < HEAD || n > MAX_SIZE || get32(buf) != MAGIC || seq >= MAX_SEQ ||
		    get32(buf + 8) != fnv(buf, n)) {
			corrupt++;
			continue;
		}
		pattern(want, n - HEAD, seq);
		if (memcmp(want, buf + HEAD, n - HEAD) != 0) {
			corrupt++;
			continue;
		}
		if (seen[seq / 8] & (1 << (seq % 8))) {
			dup++;
			continue;
		}
		seen[seq / 8] |= 1 << (seq % 8);
		if ((long)seq < max_seq)
			ooo++;
		else
			max_seq = seq;
	}
	printf("UDPCHECK received=%lu corrupt=%lu dup=%lu ooo=%lu max_seq=%ld\n",
	       received, corrupt, dup, ooo, max_seq);
	fflush(stdout);
	return 0;
}

static int
do_cat(long rate)
{
	static char buf[65536];
	size_t chunk = sizeof(buf);
	double start = now(), done = 0;

	if (rate > 0 && (size_t)rate / 20 < chunk)
		chunk = rate / 20 > 0 ? rate / 20 : 1;
	for (;;) {
		ssize_t n, off = 0;
		double ahead = rate > 0 ? done / rate - (now() - start) : 0;

		if (ahead > 0)
			usleep((useconds_t)(ahead * 1e6));
		n = read(0, buf, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : 1;
		done += n;
		while (off < n) {
			ssize_t w = write(1, buf + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return 1;
			off += w;
		}
	}
}

static int
do_watch(const char *ifname, const char *mac_text)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	unsigned int m[6];
	uint8_t mac[6], buf[2048];
	unsigned long rarp = 0, garp = 0;
	int fd;

	if (sscanf(mac_text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "udpcheck watch: bad MAC\n");
		return 2;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	sll.sll_ifindex = if_nametoindex(ifname);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		perror("udpcheck watch");
		return 1;
	}
	printf("WATCH listening\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		uint16_t type;

		if (report) {
			report = 0;
			printf("WATCH rarp=%lu garp=%lu\n", rarp, garp);
			fflush(stdout);
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 14 + 28 || memcmp(buf + 6, mac, 6) != 0)
			continue;
		type = (uint16_t)(buf[12] << 8 | buf[13]);
		/* ARP body: sender MAC at 22, sender IP at 28, target IP at 38. */
		if (type == 0x8035)
			rarp++;
		else if (type == 0x0806 && memcmp(buf + 22, mac, 6) == 0 &&
			 memcmp(buf + 28, buf + 38, 4) == 0)
			garp++;
	}
	printf("WATCH rarp=%lu garp=%lu\n", rarp, garp);
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signals();
	if (argc == 7 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	if (argc >= 3 && argc <= 5 && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), argc >= 4 ? atoi(argv[3]) : 0, argc == 5 ? atoi(argv[4]) : 0);
	if (argc == 3 && strcmp(argv[1], "cat") == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		return do_cat(atol(argv[2]));
	}
	if (argc == 4 && strcmp(argv[1], "watch") == 0)
		return do_watch(argv[2], argv[3]);
	fprintf(stderr, "usage: udpcheck send IP PORT RATE SIZE SECONDS | recv PORT [IDLE [DELAY_MS]] |\n"
			"       cat RATE | watch IFNAME MAC\n");
	return 2;
}
