/*
 * One line of text per Ethernet frame, in the style of `tcpdump -n -S`.
 *
 * The frame is hostile input: every field is read only after checking that
 * the bytes are there. When a header is cut short the line ends with
 * tcpdump's truncation marker ("[|ip]", "[|tcp]", ...). A header that claims
 * more than the frame holds is reported the way tcpdump reports it
 * ("truncated-ip - N bytes missing!", "bad-hlen", "bad hdr length").
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "synack/synack.h"
#include "core/compiler.h"
#include "net/proto.h"

/* A bounded output buffer: len never exceeds cap - 1, so it stays a string. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->cap)
		return;
	size_t room = o->cap - o->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void out_hex(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_printf(o, "%02x", p[i]);
}

/* Byte-wise loads: the frame has no alignment guarantee. */
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void out_ip(struct out *o, const uint8_t *a) { out_printf(o, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]); }

static void out_mac(struct out *o, const uint8_t *m)
{
	out_printf(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ------------------------------------------------------------------ ARP */

#define ARP_LEN 28

static void format_arp_ops(struct out *o, const uint8_t *a, size_t len)
{
	const uint8_t *sha = a + 8, *spa = a + 14, *tha = a + 18, *tpa = a + 24;
	static const uint8_t zero_mac[6];
	uint16_t op = get16(a + 6);

	switch (op) {
	case 1:
		out_printf(o, "ARP, Request who-has ");
		out_ip(o, tpa);
		/* tcpdump shows the target MAC only when the sender filled it in. */
		if (memcmp(tha, zero_mac, 6) != 0) {
			out_printf(o, " (");
			out_mac(o, tha);
			out_printf(o, ")");
		}
		out_printf(o, " tell ");
		out_ip(o, spa);
		break;
	case 2:
		out_printf(o, "ARP, Reply ");
		out_ip(o, spa);
		out_printf(o, " is-at ");
		out_mac(o, sha);
		break;
	case 3:
	case 8:
		out_printf(o, "ARP, %s Request who-is ", op == 3 ? "Reverse" : "Inverse");
		out_mac(o, tha);
		out_printf(o, " tell ");
		out_mac(o, sha);
		break;
	case 4:
	case 9:
		out_printf(o, "ARP, %s Reply ", op == 4 ? "Reverse" : "Inverse");
		out_mac(o, op == 4 ? tha : sha);
		out_printf(o, " at ");
		out_ip(o, op == 4 ? tpa : spa);
		break;
	default:
		out_printf(o, "ARP, Unknown (%u)", op);
		break;
	}
	out_printf(o, ", length %zu", len);
}

static void format_arp(struct out *o, const uint8_t *a, size_t len)
{
	if (len < 8) {
		out_printf(o, "[|arp]");
		return;
	}
	uint16_t hrd = get16(a), pro = get16(a + 2);
	if (hrd != ARPHRD_ETHER || pro != ETH_P_IP || a[4] != 6 || a[5] != 4) {
		out_printf(o, "ARP, hardware %u, proto 0x%04x, op %u, length %zu", hrd, pro, get16(a + 6), len);
		return;
	}
	if (len < ARP_LEN) {
		out_printf(o, "[|arp]");
		return;
	}
	format_arp_ops(o, a, len);
}

/* ----------------------------------------------------------------- IPv4 */

/* What an upper-layer printer sees of one IP datagram. */
struct ip_view {
	const uint8_t *saddr, *daddr;
	const uint8_t *data;    /* the transport header */
	size_t caplen;          /* bytes of it present in the frame */
	size_t len;             /* bytes of it the IP header claims */
};

static void out_addrs(struct out *o, const struct ip_view *v)
{
	out_ip(o, v->saddr);
	out_printf(o, " > ");
	out_ip(o, v->daddr);
	out_printf(o, ": ");
}

static void out_addr_ports(struct out *o, const struct ip_view *v)
{
	out_ip(o, v->saddr);
	out_printf(o, ".%u > ", get16(v->data));
	out_ip(o, v->daddr);
	out_printf(o, ".%u: ", get16(v->data + 2));
}

/* ----------------------------------------------------------------- ICMP */

/* Destination-unreachable codes 5..15 as tcpdump words them. */
struct unreach_text {
	const char *scope;      /* "net ", "host " or "" before the address */
	const char *why;
};

static const struct unreach_text unreach_texts[] = {
	[5] = { "", "source route failed" },
	[6] = { "net ", "unknown" },
	[7] = { "host ", "unknown" },
	[8] = { "", "source host isolated" },
	[9] = { "net ", "admin prohibited" },
	[10] = { "host ", "admin prohibited" },
	[11] = { "net ", "tos prohibited" },
	[12] = { "host ", "tos prohibited" },
	[13] = { "host ", "admin prohibited filter" },
	[14] = { "host ", "host precedence violation" },
	[15] = { "host ", "precedence cutoff" },
};

static const char *ip_proto_word(uint8_t proto)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	default: return NULL;
	}
}

/* The quoted datagram inside an ICMP error; false when it is cut short. */
static bool icmp_inner(const struct ip_view *v, size_t need_after_hdr, const uint8_t **ip, size_t *hlen)
{
	if (v->caplen < 8 + 20)
		return false;
	const uint8_t *in = v->data + 8;
	size_t ihl = (size_t)(in[0] & 0x0f) * 4;
	if (ihl < 20 || v->caplen < 8 + ihl + need_after_hdr)
		return false;
	*ip = in;
	*hlen = ihl;
	return true;
}

static bool format_icmp_port_unreach(struct out *o, const uint8_t *in, size_t ihl)
{
	const char *word = ip_proto_word(in[9]);
	uint16_t dport = get16(in + ihl + 2);
	out_ip(o, in + 16);
	if (word)
		out_printf(o, " %s port %u unreachable", word, dport);
	else
		out_printf(o, " protocol %u port %u unreachable", in[9], dport);
	return true;
}

static bool format_icmp_unreach(struct out *o, const struct ip_view *v, uint8_t code)
{
	const uint8_t *in;
	size_t ihl;
	if (!icmp_inner(v, code == ICMP_PORT_UNREACH ? 4 : 0, &in, &ihl))
		return false;
	switch (code) {
	case 0:
	case 1:
		out_printf(o, "%s ", code == 0 ? "net" : "host");
		out_ip(o, in + 16);
		out_printf(o, " unreachable");
		return true;
	case ICMP_PROT_UNREACH:
		out_ip(o, in + 16);
		out_printf(o, " protocol %u unreachable", in[9]);
		return true;
	case ICMP_PORT_UNREACH:
		return format_icmp_port_unreach(o, in, ihl);
	case ICMP_FRAG_NEEDED:
		out_ip(o, in + 16);
		out_printf(o, " unreachable - need to frag (mtu %u)", get16(v->data + 6));
		return true;
	}
	const struct unreach_text *t = code < ARRAY_SIZE(unreach_texts) ? &unreach_texts[code] : NULL;
	out_printf(o, "%s", t && t->why ? t->scope : "");
	out_ip(o, in + 16);
	if (t && t->why)
		out_printf(o, " unreachable - %s", t->why);
	else
		out_printf(o, " unreachable - #%u", code);
	return true;
}

static bool format_icmp_redirect(struct out *o, const struct ip_view *v, uint8_t code)
{
	const uint8_t *in;
	size_t ihl;
	if (!icmp_inner(v, 0, &in, &ihl))
		return false;
	out_printf(o, "redirect%s ", code >= 2 ? "-tos" : "");
	out_ip(o, in + 16);
	out_printf(o, " to %s ", code & 1 ? "host" : "net");
	out_ip(o, v->data + 4);
	return true;
}

static const char *icmp_simple_name(uint8_t type)
{
	switch (type) {
	case 4: return "source quench";
	case 9: return "router advertisement";
	case 10: return "router solicitation";
	case 13: return "time stamp query";
	case 14: return "time stamp reply";
	case 15: return "information request";
	case 16: return "information reply";
	case 17: return "address mask request";
	case 18: return "address mask reply";
	default: return NULL;
	}
}

/* The text after "ICMP "; false when the message is cut short. */
static bool format_icmp_body(struct out *o, const struct ip_view *v, uint8_t type, uint8_t code)
{
	const char *name;
	switch (type) {
	case ICMP_ECHOREPLY:
	case ICMP_ECHO:
		if (v->caplen < 8)
			return false;
		out_printf(o, "echo %s, id %u, seq %u", type == ICMP_ECHO ? "request" : "reply",
			   get16(v->data + 4), get16(v->data + 6));
		return true;
	case ICMP_DEST_UNREACH:
		return format_icmp_unreach(o, v, code);
	case 5:
		return format_icmp_redirect(o, v, code);
	case ICMP_TIME_EXCEEDED:
		if (code == 0)
			out_printf(o, "time exceeded in-transit");
		else if (code == ICMP_EXC_FRAGTIME)
			out_printf(o, "ip reassembly time exceeded");
		else
			out_printf(o, "time exceeded-#%u", code);
		return true;
	case ICMP_PARAMETERPROB:
		if (v->caplen < 5)
			return false;
		out_printf(o, "parameter problem - octet %u", v->data[4]);
		return true;
	}
	name = icmp_simple_name(type);
	if (name)
		out_printf(o, "%s", name);
	else
		out_printf(o, "type-#%u", type);
	return true;
}

static void format_icmp(struct out *o, const struct ip_view *v)
{
	out_addrs(o, v);
	if (v->caplen < 4) {
		out_printf(o, "[|icmp]");
		return;
	}
	/* A cut-short message is rolled back so that only the marker shows, as in tcpdump. */
	size_t mark = o->len;
	out_printf(o, "ICMP ");
	if (!format_icmp_body(o, v, v->data[0], v->data[1])) {
		o->len = mark;
		if (o->cap)
			o->buf[mark] = '\0';
		out_printf(o, "[|icmp]");
		return;
	}
	out_printf(o, ", length %zu", v->len);
}

/* ------------------------------------------------------------------ UDP */

static void format_udp(struct out *o, const struct ip_view *v)
{
	if (v->caplen < 8) {
		out_addrs(o, v);
		out_printf(o, "[|udp]");
		return;
	}
	uint16_t ulen = get16(v->data + 4);
	out_addr_ports(o, v);
	if (ulen < 8)
		out_printf(o, "truncated-udplength %u", ulen);
	else if (ulen > v->len)
		out_printf(o, "UDP, bad length %u > %zu", ulen - 8, v->len < 8 ? 0 : v->len - 8);
	else
		out_printf(o, "UDP, length %u", ulen - 8);
}

/* ------------------------------------------------------------------ TCP */

enum opt_status { OPT_OK, OPT_BAD, OPT_TRUNC };

static void format_tcp_flags(struct out *o, uint8_t flags)
{
	/* tcpdump's letters, in tcpdump's order. */
	static const struct { uint8_t bit; char c; } letters[] = {
		{ TCPHDR_FIN, 'F' }, { TCPHDR_SYN, 'S' }, { TCPHDR_RST, 'R' }, { TCPHDR_PSH, 'P' },
		{ TCPHDR_ACK, '.' }, { TCPHDR_URG, 'U' }, { TCPHDR_ECE, 'E' }, { TCPHDR_CWR, 'W' },
	};
	char s[9];
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(letters); i++)
		if (flags & letters[i].bit)
			s[n++] = letters[i].c;
	s[n] = '\0';
	out_printf(o, "Flags [%s]", n ? s : "none");
}

static void format_tcp_sack(struct out *o, const uint8_t *d, size_t n)
{
	out_printf(o, "sack %zu ", n / 8);
	for (size_t i = 0; i + 8 <= n; i += 8)
		out_printf(o, "{%u:%u}", get32(d + i), get32(d + i + 4));
}

/* One option with a length byte; d/n is its data after kind and length. */
static void format_tcp_option(struct out *o, uint8_t kind, const uint8_t *d, size_t n)
{
	switch (kind) {
	case 2:
		if (n == 2) { out_printf(o, "mss %u", get16(d)); return; }
		out_printf(o, "mss");
		break;
	case 3:
		if (n == 1) { out_printf(o, "wscale %u", d[0]); return; }
		out_printf(o, "wscale");
		break;
	case 4:
		out_printf(o, "sackOK");
		if (n == 0)
			return;
		break;
	case 5:
		if (n > 0 && n % 8 == 0) { format_tcp_sack(o, d, n); return; }
		out_printf(o, "sack");
		break;
	case 8:
		if (n == 8) { out_printf(o, "TS val %u ecr %u", get32(d), get32(d + 4)); return; }
		out_printf(o, "TS");
		break;
	case 34:
		out_printf(o, n ? "tfo cookie " : "tfo cookiereq");
		out_hex(o, d, n);
		return;
	default:
		out_printf(o, "unknown-%u", kind);
		if (n) {
			out_printf(o, " 0x");
			out_hex(o, d, n);
		}
		return;
	}
	out_printf(o, "[len %zu]", n + 2);
}

/* opts/cap: the option bytes in the frame; total: what the header claims. */
static enum opt_status format_tcp_options(struct out *o, const uint8_t *opts, size_t cap, size_t total)
{
	size_t i = 0;
	while (i < total) {
		if (i > 0)
			out_printf(o, ",");
		if (i >= cap)
			return OPT_TRUNC;
		uint8_t kind = opts[i];
		if (kind == 0) {
			out_printf(o, "eol");
			return OPT_OK;
		}
		if (kind == 1) {
			out_printf(o, "nop");
			i++;
			continue;
		}
		if (i + 1 >= total)
			return OPT_BAD;
		if (i + 1 >= cap)
			return OPT_TRUNC;
		size_t olen = opts[i + 1];
		if (olen < 2 || i + olen > total)
			return OPT_BAD;
		if (i + olen > cap)
			return OPT_TRUNC;
		format_tcp_option(o, kind, opts + i + 2, olen - 2);
		i += olen;
	}
	return OPT_OK;
}

static void format_tcp_numbers(struct out *o, const uint8_t *t, size_t datalen)
{
	uint8_t flags = t[13];
	uint32_t seq = get32(t + 4);
	if (datalen || (flags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST))) {
		out_printf(o, ", seq %u", seq);
		if (datalen)
			out_printf(o, ":%u", (uint32_t)(seq + datalen));
	}
	if (flags & TCPHDR_ACK)
		out_printf(o, ", ack %u", get32(t + 8));
	out_printf(o, ", win %u", get16(t + 14));
	if (flags & TCPHDR_URG)
		out_printf(o, ", urg %u", get16(t + 18));
}

static void format_tcp(struct out *o, const struct ip_view *v)
{
	const uint8_t *t = v->data;
	if (v->caplen < 4) {
		out_addrs(o, v);
		out_printf(o, "[|tcp]");
		return;
	}
	out_addr_ports(o, v);
	if (v->caplen < 20) {
		out_printf(o, "[|tcp]");
		return;
	}
	size_t hlen = (size_t)(t[12] >> 4) * 4;
	if (hlen < 20) {
		out_printf(o, "tcp %zu [bad hdr length %zu - too short, < 20]", v->len - hlen, hlen);
		return;
	}
	format_tcp_flags(o, t[13]);
	if (hlen > v->len) {
		out_printf(o, " [bad hdr length %zu - too long, > %zu]", hlen, v->len);
		return;
	}
	format_tcp_numbers(o, t, v->len - hlen);
	if (hlen > 20) {
		out_printf(o, ", options [");
		size_t cap = v->caplen < hlen ? v->caplen - 20 : hlen - 20;
		enum opt_status s = format_tcp_options(o, t + 20, cap, hlen - 20);
		if (s == OPT_TRUNC) {
			out_printf(o, " [|tcp]");
			return;
		}
		out_printf(o, s == OPT_BAD ? "[bad opt]]" : "]");
	}
	out_printf(o, ", length %zu", v->len - hlen);
}

/* ----------------------------------------------------------------- IPv4 */

static void format_ip_payload(struct out *o, const struct ip_view *v, uint8_t proto, bool later_fragment)
{
	/* Only the first fragment carries the transport header. */
	if (later_fragment) {
		out_addrs(o, v);
		out_printf(o, "ip-proto-%u", proto);
		return;
	}
	switch (proto) {
	case 1: format_icmp(o, v); return;
	case 6: format_tcp(o, v); return;
	case 17: format_udp(o, v); return;
	}
	out_addrs(o, v);
	out_printf(o, "ip-proto-%u %zu", proto, v->len);
}

static void format_ipv4(struct out *o, const uint8_t *ip, size_t caplen)
{
	if (caplen < 20) {
		out_printf(o, "IP [|ip]");
		return;
	}
	unsigned version = ip[0] >> 4;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = get16(ip + 2);
	if (version != 4) {
		out_printf(o, "IP%u (invalid)", version);
		return;
	}
	if (hlen < 20) {
		out_printf(o, "IP bad-hlen %zu", hlen);
		return;
	}
	if (tot < hlen) {
		out_printf(o, "IP bad-len %zu", tot);
		return;
	}
	if (caplen < hlen) {
		out_printf(o, "IP [|ip]");
		return;
	}
	out_printf(o, "IP ");
	if (tot > caplen)
		out_printf(o, "truncated-ip - %zu bytes missing! ", tot - caplen);
	/* Ethernet padding past tot_len is not part of the datagram. */
	size_t have = tot < caplen ? tot : caplen;
	struct ip_view v = {
		.saddr = ip + 12, .daddr = ip + 16,
		.data = ip + hlen, .caplen = have - hlen, .len = tot - hlen,
	};
	format_ip_payload(o, &v, ip[9], (get16(ip + 6) & IP_OFFSET) != 0);
}

/* ------------------------------------------------------------- Ethernet */

static const char *ethertype_name(uint16_t type)
{
	switch (type) {
	case 0x86dd: return "IPv6";
	case 0x8100: return "802.1Q";
	case 0x88a8: return "802.1Q-QinQ";
	case 0x8035: return "Reverse ARP";
	case 0x8847: return "MPLS unicast";
	case 0x88cc: return "LLDP";
	case 0x888e: return "EAPOL";
	default: return "Unknown";
	}
}

static void format_other_ethertype(struct out *o, const uint8_t *f, size_t len, uint16_t type)
{
	out_mac(o, f + 6);
	out_printf(o, " > ");
	out_mac(o, f);
	/* Values up to 1500 are an 802.3 length, not a type. */
	if (type <= 1500)
		out_printf(o, ", 802.3, length %zu", len);
	else
		out_printf(o, ", ethertype %s (0x%04x), length %zu", ethertype_name(type), type, len);
}

SYNACK_API size_t synack_format_frame(char *buf, size_t cap, const uint8_t *frame, size_t len)
{
	struct out o = { .buf = buf, .cap = buf ? cap : 0, .len = 0 };
	if (o.cap)
		buf[0] = '\0';
	if (!frame || len < ETH_HLEN) {
		out_printf(&o, "[|ether]");
		return o.len;
	}
	uint16_t type = get16(frame + 12);
	if (type == ETH_P_IP)
		format_ipv4(&o, frame + ETH_HLEN, len - ETH_HLEN);
	else if (type == ETH_P_ARP)
		format_arp(&o, frame + ETH_HLEN, len - ETH_HLEN);
	else
		format_other_ethertype(&o, frame, len, type);
	return o.len;
}
