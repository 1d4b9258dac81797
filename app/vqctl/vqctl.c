/* SPDX-License-Identifier: BSD-3-Clause
 * vqctl: configures and queries a running vqswitch over its control socket.
 *
 *   vqctl [--socket PATH] [--format text|json] COMMAND [ARGS...]
 *
 * Sends {"argv": [...], "format": ...} and prints the reply's output. Exit
 * status 0 on success (a warning, such as output cut short, goes to
 * stderr); 1 with the switch's one-line reason on stderr when the command
 * failed; 2 when the switch could not be reached or answered nonsense; 3
 * when the change took effect but the switch could not record it in its
 * state file (a restart would not restore it).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "buf.h"
#include "json.h"
#include "vqs_ctl.h"

#define DEFAULT_SOCKET VQS_RUN_DIR "/vqswitch.ctl" /* VQS_RUN_DIR: from meson */
#define REPLY_TIMEOUT_MS 60000 /* deleting a busy port waits for its guest */

static void
usage(FILE *f)
{
	fprintf(f, "Usage: vqctl [OPTIONS] COMMAND [ARGS...]\n\n");
	vqs_ctl_print_commands(f);
	fprintf(f,
		"As ovs-vsctl: [--may-exist|--if-exists] COMMAND ... [-- COMMAND ...]\n"
		"  e.g. add-port br0 vhost0 -- set Interface vhost0 type=dpdkvhostuser\n"
		"  (one change: see docs/vqctl.md, \"From OVS\")\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   the switch's control socket (default $VQCTL_SOCKET,\n"
		"                      else %s)\n"
		"  -f, --format FMT    text (default) or json\n"
		"  -p, --pretty        with json: indented, one value a line\n"
		"  -t, --timeout SEC   wait at most SEC seconds for the answer (default 60)\n"
		"  -V, --version       vqctl's version\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 done, 1 refused (reason on stderr), 2 no switch or a bad\n"
		"reply, 3 done but not saved (a restart would not restore it).\n", DEFAULT_SOCKET);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vqctl: socket path too long: %s\n", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "vqctl: cannot connect to %s: %s (is vqswitch running?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* JSON text (as the switch sends it: no blanks outside strings) printed
 * with one member or element a line, indented by two. */
static void
print_pretty(const char *j)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (; *j != '\0'; j++) {
		char ch = *j;

		if (in_str) {
			putchar(ch);
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		switch (ch) {
		case '"':
			in_str = true;
			putchar(ch);
			break;
		case '{':
		case '[':
			putchar(ch);
			if (j[1] == '}' || j[1] == ']') {
				putchar(*++j); /* empty */
				break;
			}
			printf("\n%*s", 2 * ++depth, "");
			break;
		case '}':
		case ']':
			printf("\n%*s%c", 2 * --depth, "", ch);
			break;
		case ',':
			printf(",\n%*s", 2 * depth, "");
			break;
		case ':':
			printf(": ");
			break;
		default:
			putchar(ch);
		}
	}
	putchar('\n');
}

/* The reply's "output": text as it is; with --format json a JSON value
 * of its own (the switch sends no blanks outside strings). */
static void
print_output(const struct vqs_json_field *out, bool json, bool pretty)
{
	struct vqs_buf b = { 0 };

	if (!json) {
		if (out->type == VQS_JSON_STR)
			printf("%s", out->str);
		return;
	}
	if (out->type == VQS_JSON_STR)
		vqs_buf_json_str(&b, out->str);
	else if (out->type == VQS_JSON_BOOL)
		vqs_buf_printf(&b, "%s", out->b ? "true" : "false");
	else
		vqs_buf_printf(&b, "%s", out->raw);
	if (pretty)
		print_pretty(vqs_buf_str(&b));
	else
		printf("%s\n", vqs_buf_str(&b));
	vqs_buf_free(&b);
}

/* Reads one line; the caller frees it. */
static char *
recv_line(int fd, int timeout_ms)
{
	struct vqs_buf b = { 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char chunk[4096], *nl;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk) - 1, 0);
		if (n <= 0)
			break;
		chunk[n] = '\0';
		vqs_buf_printf(&b, "%s", chunk);
		nl = b.s != NULL ? strchr(b.s, '\n') : NULL;
		if (nl != NULL) {
			*nl = '\0';
			return b.s;
		}
	}
	vqs_buf_free(&b);
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "may-exist", no_argument, NULL, 'M' },
		{ "if-exists", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("VQCTL_SOCKET"), *format = "text";
	const struct vqs_json_field *ok, *out, *err, *warn, *unsaved;
	struct vqs_buf req = { 0 };
	struct vqs_json_obj o;
	struct vqs_err e;
	int c, i, fd, rc = 2, timeout_ms = REPLY_TIMEOUT_MS;
	bool pretty = false, may_exist = false, if_exists = false;
	char *reply, *end;
	unsigned long t;

	if (sock == NULL || sock[0] == '\0')
		sock = DEFAULT_SOCKET;
	/* '+': options end at the command, whose own words may start with '-'. */
	while ((c = getopt_long(argc, argv, "+s:f:pt:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pretty = true;
			break;
		case 't':
			t = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || t < 1 || t > 3600) {
				fprintf(stderr, "vqctl: --timeout is 1 to 3600 seconds\n");
				return 2;
			}
			timeout_ms = (int)t * 1000;
			break;
		case 'V':
			printf("vqctl %s\n", VQS_VERSION);
			return 0;
		case 'M':
			may_exist = true; /* ovs-vsctl's: passed on with the command */
			break;
		case 'I':
			if_exists = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
				fprintf(stderr, "vqctl: --format is text or json\n");
				return 2;
			}
			format = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (argc - optind > VQS_JSON_MAX_ARRAY) {
		fprintf(stderr, "vqctl: too many words\n");
		return 2;
	}
	vqs_buf_printf(&req, "{\"format\":\"%s\",\"argv\":[%s%s", format,
		       may_exist ? "\"--may-exist\"," : "", if_exists ? "\"--if-exists\"," : "");
	for (i = optind; i < argc; i++) {
		vqs_buf_printf(&req, i > optind ? "," : "");
		vqs_buf_json_str(&req, argv[i]);
	}
	vqs_buf_printf(&req, "]}\n");
	if (req.len > VQS_CTL_MAX_REQUEST) {
		fprintf(stderr, "vqctl: request larger than %d bytes\n", VQS_CTL_MAX_REQUEST);
		vqs_buf_free(&req);
		return 2;
	}
	fd = connect_to(sock);
	if (fd < 0) {
		vqs_buf_free(&req);
		return 2;
	}
	/* A switch that refuses us says why before it closes: read that
	 * even if the request could not be sent whole. */
	send_all(fd, req.s, req.len);
	reply = recv_line(fd, timeout_ms);
	close(fd);
	vqs_buf_free(&req);
	if (reply == NULL) {
		fprintf(stderr, "vqctl: no reply from %s within %d s\n", sock, timeout_ms / 1000);
		return 2;
	}
	if (vqs_json_parse(reply, &o, &e) != 0 ||
	    (ok = vqs_json_get(&o, "ok", VQS_JSON_BOOL)) == NULL) {
		fprintf(stderr, "vqctl: bad reply from the switch: %s\n", reply);
	} else if (ok->b) {
		out = vqs_json_find(&o, "output");
		warn = vqs_json_get(&o, "warning", VQS_JSON_STR);
		unsaved = vqs_json_get(&o, "unsaved", VQS_JSON_BOOL);
		if (out != NULL)
			print_output(out, strcmp(format, "json") == 0, pretty);
		if (warn != NULL)
			fprintf(stderr, "vqctl: warning: %s\n", warn->str);
		rc = unsaved != NULL && unsaved->b ? 3 : 0;
	} else {
		err = vqs_json_get(&o, "error", VQS_JSON_STR);
		fprintf(stderr, "vqctl: %s\n", err != NULL ? err->str : "failed");
		rc = 1;
	}
	vqs_json_free(&o);
	free(reply);
	return rc;
}
