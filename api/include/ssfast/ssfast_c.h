/* ssfast's C API, for C, Go, Rust and Python callers: an opaque collector, fixed-width records,
 * 0 or a negative errno from every call, no C++ exceptions across the boundary. Link with
 * `pkg-config --libs ssfast`. */
#ifndef SSFAST_SSFAST_C_H
#define SSFAST_SSFAST_C_H

#include <stddef.h>
#include <stdint.h>

#include "ssfast/core/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open once, count many times; one thread at a time per collector. */
typedef struct ssfast_collector ssfast_collector;

enum ssfast_source { SSFAST_SOURCE_AUTO = 0, SSFAST_SOURCE_NETLINK = 1, SSFAST_SOURCE_PROC = 2 };

/* Errors ssfast itself detects: -(SSFAST_ERROR_BASE + n). Anything else is -errno. */
#define SSFAST_ERROR_BASE 10000
#define SSFAST_ETRUNCATED (-(SSFAST_ERROR_BASE + 1))          /* message cut short */
#define SSFAST_EBADMESSAGE (-(SSFAST_ERROR_BASE + 2))         /* malformed kernel message */
#define SSFAST_EFOREIGN (-(SSFAST_ERROR_BASE + 3))            /* sender not the kernel */
#define SSFAST_EPORTID (-(SSFAST_ERROR_BASE + 4))             /* another socket's reply */
#define SSFAST_ESEQ (-(SSFAST_ERROR_BASE + 5))                /* another request's reply */
#define SSFAST_EUNEXPECTED (-(SSFAST_ERROR_BASE + 6))         /* unexpected message type */
#define SSFAST_EINTERRUPTED (-(SSFAST_ERROR_BASE + 7))        /* dump flagged inconsistent */
#define SSFAST_EEOF (-(SSFAST_ERROR_BASE + 8))                /* end before the dump was done */
#define SSFAST_EBADSTATE (-(SSFAST_ERROR_BASE + 9))           /* state outside 0..15 */
#define SSFAST_EUNAVAILABLE (-(SSFAST_ERROR_BASE + 10))       /* no source available */
#define SSFAST_EPARSE (-(SSFAST_ERROR_BASE + 11))             /* /proc file not as expected */

typedef struct ssfast_options {
  uint32_t size;          /* sizeof(ssfast_options); lets the struct grow compatibly */
  uint32_t source;        /* enum ssfast_source */
  uint32_t threads;       /* parallel TCP dumps; 0 for the default (CPUs, at most 8) */
  uint32_t reserved;      /* 0 */
  const char* proc_root;  /* NULL for "/proc" */
  const char* netns;      /* NULL for this network namespace; else a namespace file such as
                             /run/netns/NAME or /proc/PID/ns/net */
} ssfast_options;

typedef struct ssfast_counts {
  uint32_t size;               /* sizeof(ssfast_counts), set by the caller */
  uint32_t source;             /* out: SSFAST_SOURCE_NETLINK or SSFAST_SOURCE_PROC */
  uint64_t tcp_states[16];     /* TCP sockets by the kernel's TCP_* value (1 ESTABLISHED ... 11
                                  CLOSING), both families; SYN_RECV includes request sockets */
  uint64_t tcp4_states[16];    /* IPv4 only */
  uint64_t tcp6_states[16];    /* IPv6 only (IPv4-mapped connections included) */
  uint64_t udp_total, udp4_total, udp6_total, udp_connected;
  uint64_t unix_total, unix_stream, unix_dgram, unix_seqpacket;
} ssfast_counts;

/* Opens a collector (NULL options: defaults). Returns NULL and sets errno (a positive errno,
 * or EPROTO for ssfast's own conditions) on failure; ssfast_open2 returns the code instead. */
SSFAST_API ssfast_collector* ssfast_open(const ssfast_options* options);
SSFAST_API int ssfast_open2(const ssfast_options* options, ssfast_collector** out);

/* Counts every socket of the namespace. No allocation once open. 0 or a negative code;
 * -EINVAL if out->size is smaller than this version's struct. */
SSFAST_API int ssfast_count(ssfast_collector* c, ssfast_counts* out);

/* Frees the collector; NULL is fine. */
SSFAST_API void ssfast_close(ssfast_collector* c);

/* A static, thread-safe description of a code these calls returned. */
SSFAST_API const char* ssfast_strerror(int code);

/* The library's version, "MAJOR.MINOR.PATCH". */
SSFAST_API const char* ssfast_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SSFAST_SSFAST_C_H */
