/* The classic pcap file format, as the pcap wrapper writes it. */
#ifndef SYNACK_LINK_PCAP_H
#define SYNACK_LINK_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2u
#define PCAP_VERSION_MINOR 4u
#define PCAP_SNAPLEN 262144u
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_GLOBAL_HDR_LEN 24u
#define PCAP_RECORD_HDR_LEN 16u

/* Append one record (ts_ns split into seconds and microseconds) and flush;
 * -EIO on a write error. */
int pcap_write_record(FILE *f, uint64_t ts_ns, const void *frame, size_t len);

#endif
