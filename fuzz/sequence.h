/*
 * The byte encoding of fuzz_sequence's inputs, shared by the target and the
 * seed generator. An input is a header byte, then operations until the
 * bytes run out; a read past the end yields zeros.
 *
 * Header: bit 0 trace sink on, bit 1 no automatic ARP answers,
 *         bits 2-4 the MTU (SEQ_MTUS), bits 5-7 the stack seed - 1.
 *
 * Each operation is one byte (modulo OP_MAX) and its arguments:
 *   SEG   flow, flags, seqmode [i16], ackmode [i16], win16, segopts, payload, tweak
 *   SYN   port, dport, extra-flags, segopts, payload
 *   FRAG  (SEG's arguments), split, how
 *   ADVANCE time-code        RUN_NEXT
 *   SOCKET kind [port backlog | addr port]
 *   BIND slot addr port      LISTEN slot backlog    CONNECT slot addr port
 *   ACCEPT slot peer?        SEND slot len16 flags  RECV slot len16 flags
 *   SENDV/RECVV slot cnt (len8 x cnt) flags
 *   SHUTDOWN slot how        CLOSE slot
 *   SETSOCKOPT slot opt value-code [i32] len-code
 *   GETSOCKOPT slot opt len-code
 *   SYSCTL index value-code [i32]
 *   ICMP flow kind [type code] info16
 *   ARP mode
 *   PING mode id16 len8
 *   RAW_FRAME len16 bytes (len bit 15: fix the checksums)
 *   RAW_IP proto fix len16 bytes   RAW_TCP flow fix len16 bytes
 *   SENDTO slot addr port len16 flags (flag 0x40: MSG_FASTOPEN)
 *   EPOLL kind: 0 create | 1 ctl ep op slot events | 2 wait ep max | 3 close ep
 *   TFO_CACHE kind addr mss16 len exp bytes
 *   SYSCTL_STR index len8 text cap-code
 *
 * A "flow" byte picks one of the connections the peer knows (index modulo
 * their number). seqmode/ackmode: bits 0-1 the base, bits 2-3 the scale of
 * the optional delta, bit 4 a signed 16-bit delta follows; base 3 is a raw
 * 32-bit value instead. segopts is a bit mask (SEG_O_*), each bit followed
 * by its arguments in bit order. A value-code below 0xf0 indexes a table;
 * 0xf0 and above read a raw value.
 */
#ifndef SYNACK_FUZZ_SEQUENCE_H
#define SYNACK_FUZZ_SEQUENCE_H

enum seq_op {
	OP_SEG = 0,
	OP_SYN,
	OP_FRAG,
	OP_ADVANCE,
	OP_RUN_NEXT,
	OP_SOCKET,
	OP_BIND,
	OP_LISTEN,
	OP_CONNECT,
	OP_ACCEPT,
	OP_SEND,
	OP_RECV,
	OP_SENDV,
	OP_RECVV,
	OP_SHUTDOWN,
	OP_CLOSE,
	OP_SETSOCKOPT,
	OP_GETSOCKOPT,
	OP_SYSCTL,
	OP_ICMP,
	OP_ARP,
	OP_PING,
	OP_RAW_FRAME,
	OP_RAW_IP,
	OP_RAW_TCP,
	OP_SENDTO,
	OP_EPOLL,
	OP_TFO_CACHE,
	OP_SYSCTL_STR,
	OP_MAX
};

#define HDR_TRACE 0x01
#define HDR_NO_ARP 0x02
#define HDR_MTU(i) ((i) << 2)
#define HDR_SEED(i) ((i) << 5)

/* seqmode bases */
#define SEQ_RCV_NXT 0     /* what the stack's last ACK asked for */
#define SEQ_PEER_NXT 1    /* the peer's own next sequence number */
#define SEQ_PEER_ISN 2
#define SEQ_RAW 3
/* ackmode bases */
#define ACK_STACK_NXT 0   /* everything the stack sent */
#define ACK_PEER_ACK 1    /* the peer's last ACK again (a duplicate) */
#define ACK_STACK_ISN 2
#define ACK_RAW 3
#define MODE_SCALE(i) ((i) << 2)  /* delta x 1, 8, 1448, 65536 */
#define MODE_DELTA 0x10

/* segopts bits, and what follows each */
#define SEG_O_MSS 0x01    /* u16 (0: 1460) */
#define SEG_O_WS 0x02     /* u8 */
#define SEG_O_SACKOK 0x04
#define SEG_O_TS 0x08     /* u8 mode: 0 now/echo, 1 old, 2 raw tsval u32, 3 raw ecr u32 */
#define SEG_O_SACK 0x10   /* u8: blocks-1 (bits 0-1), unit (2-3); per block i8 start, u8 len */
#define SEG_O_TFO 0x20    /* u8 mode: 0 the flow's (else the last) cookie, 1 empty, 2 raw (u8 len, bytes), 3 exp form */
#define SEG_O_RAW 0x40    /* u8 len, bytes */
#define SEG_O_URG 0x80    /* u16 urgent pointer */

/* payload: 0 none; 1..0xef: 8 bytes per unit; 0xf0..: a u16 length follows */
/* tweak bits */
#define TW_BAD_CSUM 0x01
#define TW_NO_DF 0x02
#define TW_IP_OPT 0x04
#define TW_BCAST_MAC 0x08
#define TW_TTL1 0x10
#define TW_ECN_CE 0x20
#define TW_BCAST_IP 0x40

/* FRAG how bits */
#define FRAG_REVERSE 0x01
#define FRAG_DROP_LAST 0x02
#define FRAG_OVERLAP 0x04
#define FRAG_THREE 0x08

/* SOCKET kinds */
#define SOCK_PLAIN 0
#define SOCK_LISTEN 1     /* port-code backlog-code */
#define SOCK_CONNECT 2    /* addr-code port-code */

/* Port codes: index into SEQ_PORTS, or 0xf0.. then a raw u16. */
#define PORT_ANY 0
#define PORT_LISTEN 1     /* 8080 */
#define PORT_LISTEN2 2    /* 8081 */
#define PORT_REMOTE 3     /* 80 */

/* Address codes for connect. */
#define CADDR_PEER 0
#define CADDR_OTHER 1
#define CADDR_FAR 2
#define CADDR_SELF 3

/* ICMP kinds: index into SEQ_ICMP (type, code); 0xf0..: raw type, code. */
#define ICMP_K_PORT_UNREACH 3
#define ICMP_K_FRAG_NEEDED 4

#endif
