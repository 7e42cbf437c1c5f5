/* Wire formats. Packed, network byte order: read them only after checking
 * the length (pskb_may_pull), convert with ntohs/ntohl. */
#ifndef SYNACK_NET_PROTO_H
#define SYNACK_NET_PROTO_H

#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_ZLEN 60                 /* minimum frame without FCS: pad to this */

struct ethhdr {
	uint8_t h_dest[ETH_ALEN];
	uint8_t h_source[ETH_ALEN];
	uint16_t h_proto;
} __attribute__((packed));

#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

/* ARP for IPv4 over Ethernet (28 bytes). */
struct arphdr_eth {
	uint16_t ar_hrd, ar_pro;
	uint8_t ar_hln, ar_pln;
	uint16_t ar_op;
	uint8_t ar_sha[ETH_ALEN];
	uint32_t ar_sip;
	uint8_t ar_tha[ETH_ALEN];
	uint32_t ar_tip;
} __attribute__((packed));

#define IPPROTO_ICMP_ 1
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct iphdr {
	uint8_t ver_ihl;            /* version << 4 | ihl */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
} __attribute__((packed));

static inline unsigned ip_hdr_ihl(const struct iphdr *h) { return h->ver_ihl & 0x0f; }
static inline unsigned ip_hdr_version(const struct iphdr *h) { return h->ver_ihl >> 4; }

#define IPPROTO_UDP_ 17
#define IP_MAX_LEN 65535            /* largest datagram, header included */
#define IPTOS_TOS_MASK 0x1e
#define IPTOS_PREC_INTERNETCONTROL 0xc0

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_TIMESTAMP 13
#define NR_ICMP_TYPES 18            /* the highest type Linux knows */
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_EXC_TTL 0
#define ICMP_EXC_FRAGTIME 1

struct icmphdr {
	uint8_t type;
	uint8_t code;
	uint16_t checksum;
	union {
		struct {
			uint16_t id, sequence;
		} echo;
		uint32_t gateway;
		struct {
			uint16_t unused, mtu;
		} frag;
	} un;
} __attribute__((packed));

struct udphdr {
	uint16_t source, dest, len, check;
} __attribute__((packed));

struct tcphdr {
	uint16_t source, dest;
	uint32_t seq, ack_seq;
	uint8_t doff_res;           /* data offset << 4 */
	uint8_t flags;              /* CWR ECE URG ACK PSH RST SYN FIN */
	uint16_t window, check, urg_ptr;
} __attribute__((packed));

#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_RST 0x04
#define TCPHDR_PSH 0x08
#define TCPHDR_ACK 0x10
#define TCPHDR_URG 0x20
#define TCPHDR_ECE 0x40
#define TCPHDR_CWR 0x80

#endif
