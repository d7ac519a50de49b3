/* Escape attempts through the network: a slice has its own network
 * namespace holding only lo, so nothing of the host's network (its loopback
 * services, its abstract unix sockets, its interfaces) is reachable, and no
 * capability is left to reconfigure even its own namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

/* Without a live listener from the runner, sshd's port is the likeliest
 * host service. */
#define DEFAULT_PORT 22

void try_net_connect_host(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* ctx->arg: a port the runner listens on at the host's 127.0.0.1. */
        int port = ctx->arg ? atoi(ctx->arg) : DEFAULT_PORT;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
                probe_failed(r, errno, "socket(AF_INET, SOCK_STREAM)");
                return;
        }
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ret = connect(s, (struct sockaddr *)&sa, sizeof sa);
        int e = errno;
        close(s);
        if (ret == 0) {
                probe_escaped(r, "connected to 127.0.0.1:%d", port);
                return;
        }
        probe_failed(r, e, "connect 127.0.0.1:%d", port);
}

void try_net_only_lo(const struct probe_ctx *ctx, struct probe_result *r)
{
        char buf[4096];
        if (probe_read_file("/proc/net/dev", buf, sizeof buf) < 0) {
                probe_failed(r, errno, "read /proc/net/dev");
                return;
        }
        /* Two header lines, then "  name: counters..." per interface. */
        char *line = buf;
        int n = 0;
        for (int i = 0; line && *line; i++) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *colon = strchr(line, ':');
                if (i >= 2 && colon) {
                        *colon = '\0';
                        char *name = line + strspn(line, " ");
                        if (strcmp(name, "lo")) {
                                probe_escaped(r, "/proc/net/dev lists interface %s", name);
                                return;
                        }
                        n++;
                }
                line = next;
        }
        if (n != 1) {
                probe_escaped(r, "/proc/net/dev lists %d interfaces, expected only lo", n);
                return;
        }
        /* The same through the kernel's interface index (netlink). */
        struct if_nameindex *ifs = if_nameindex();
        if (ifs) {
                for (struct if_nameindex *i = ifs; i->if_index; i++)
                        if (strcmp(i->if_name, "lo")) {
                                probe_escaped(r, "if_nameindex lists interface %s", i->if_name);
                                if_freenameindex(ifs);
                                return;
                        }
                if_freenameindex(ifs);
        }
        probe_holds(r, "only lo exists (/proc/net/dev%s)", ifs ? ", if_nameindex" : "");
}

void try_raw_socket(const struct probe_ctx *ctx, struct probe_result *r)
{
        int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
        if (s >= 0) {
                close(s);
                probe_escaped(r, "opened a raw ICMP socket");
                return;
        }
        probe_failed(r, errno, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
}

void try_packet_socket(const struct probe_ctx *ctx, struct probe_result *r)
{
        int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
        if (s >= 0) {
                close(s);
                probe_escaped(r, "opened an AF_PACKET socket");
                return;
        }
        probe_failed(r, errno, "socket(AF_PACKET, SOCK_RAW)");
}

/* Interface the netlink attempt asks for; removed again if it appears. */
#define PROBE_IFNAME "slprobe0"

struct nl_req {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
        char attrs[128];
};

static struct rtattr *nl_attr(struct nl_req *q, unsigned short type, const void *data,
                              size_t len)
{
        struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->nh.nlmsg_len));
        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        if (len)
                memcpy(RTA_DATA(a), data, len);
        q->nh.nlmsg_len = NLMSG_ALIGN(q->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
        return a;
}

/* Send one request and return the kernel's answer: 0 or -errno; -1000 - errno
 * when the exchange itself failed. */
static int nl_talk(int s, struct nl_req *q)
{
        if (send(s, q, q->nh.nlmsg_len, 0) < 0)
                return -1000 - errno;
        char buf[1024];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                return n < 0 ? -1000 - errno : -1000 - EPROTO;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (h->nlmsg_type != NLMSG_ERROR)
                return -1000 - EPROTO;
        return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static void nl_link_req(struct nl_req *q, unsigned short type, unsigned short flags)
{
        memset(q, 0, sizeof *q);
        q->nh.nlmsg_len = NLMSG_LENGTH(sizeof q->ifi);
        q->nh.nlmsg_type = type;
        q->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        q->nh.nlmsg_seq = 1;
        q->ifi.ifi_family = AF_UNSPEC;
        nl_attr(q, IFLA_IFNAME, PROBE_IFNAME, sizeof PROBE_IFNAME);
}

void try_netlink_newlink(const struct probe_ctx *ctx, struct probe_result *r)
{
        int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (s < 0) {
                probe_failed(r, errno, "socket(AF_NETLINK, NETLINK_ROUTE)");
                return;
        }
        /* RTM_NEWLINK of kind "dummy": CAP_NET_ADMIN is checked before the
         * kind is looked up, so any other error also means we got past it. */
        struct nl_req q;
        nl_link_req(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct rtattr *info = nl_attr(&q, IFLA_LINKINFO, NULL, 0);
        nl_attr(&q, IFLA_INFO_KIND, "dummy", sizeof "dummy");
        info->rta_len = (unsigned short)((char *)&q + q.nh.nlmsg_len - (char *)info);
        int err = nl_talk(s, &q);
        if (err == 0) {
                nl_link_req(&q, RTM_DELLINK, 0);
                nl_talk(s, &q);
                close(s);
                probe_escaped(r, "created interface " PROBE_IFNAME " (deleted it)");
                return;
        }
        close(s);
        if (err <= -1000) {
                probe_failed(r, -1000 - err, "netlink exchange for RTM_NEWLINK");
                return;
        }
        if (err != -EPERM) {
                probe_escaped(r, "RTM_NEWLINK got past the CAP_NET_ADMIN check (%s)",
                              probe_errname(-err));
                return;
        }
        probe_failed(r, EPERM, "RTM_NEWLINK " PROBE_IFNAME " (dummy): kernel answered");
}

void try_abstract_unix(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Abstract unix sockets are not files: no mount hides them, only
         * the network namespace does. ctx->arg: a name the runner listens on
         * in the host's namespace (without the leading NUL). */
        const char *name = ctx->arg ? ctx->arg : "sliced-probe-absent";
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
                probe_failed(r, errno, "socket(AF_UNIX)");
                return;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        if (len > sizeof sa.sun_path - 1)
                len = sizeof sa.sun_path - 1;
        memcpy(sa.sun_path + 1, name, len);
        int ret = connect(s, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len));
        int e = errno;
        close(s);
        if (ret == 0) {
                probe_escaped(r, "connected to abstract socket @%s", name);
                return;
        }
        probe_failed(r, e, "connect abstract socket @%s", name);
}
