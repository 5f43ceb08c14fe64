/* SPDX-License-Identifier: Apache-2.0 */
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

/* The ABI's version: 1 since ssfast 0.1 (0.2 added functions, 0.3 ssfast_service_state() and
 * its two records; no record changed). A program
 * can compare it with SSFAST_ABI_VERSION, the version it was built against. */
#define SSFAST_ABI_VERSION 1
SSFAST_API uint32_t ssfast_abi_version(void);

/* Growth: the records below carry their size, set by the caller to sizeof as its header
 * declares it. The library accepts any size from the first version's (the _SIZE_VER1 values)
 * up, as openat2, clone3 and perf_event_open do: from an options struct it reads the part it
 * knows and requires every byte past that to be zero (else -E2BIG: the caller asks for
 * something this library cannot do); into a counts struct it writes only the part both sides
 * know and sets size to that many bytes. A smaller size than the first version's is -EINVAL. */
#define SSFAST_OPTIONS_SIZE_VER1 32
#define SSFAST_COUNTS_SIZE_VER1 456
#define SSFAST_SERVICE_RULES_SIZE_VER1 24
#define SSFAST_SERVICE_STATUS_SIZE_VER1 200

/* Open once, count many times; one thread at a time per collector. */
typedef struct ssfast_collector ssfast_collector;

enum ssfast_source { SSFAST_SOURCE_AUTO = 0, SSFAST_SOURCE_NETLINK = 1, SSFAST_SOURCE_PROC = 2 };

/* Errors ssfast itself detects: -(SSFAST_ERROR_BASE + n). Anything else is -errno. */
#define SSFAST_ERROR_BASE 10000
#define SSFAST_ETRUNCATED (-(SSFAST_ERROR_BASE + 1))     /* message cut short */
#define SSFAST_EBADMESSAGE (-(SSFAST_ERROR_BASE + 2))    /* malformed kernel message */
#define SSFAST_EFOREIGN (-(SSFAST_ERROR_BASE + 3))       /* sender not the kernel */
#define SSFAST_EPORTID (-(SSFAST_ERROR_BASE + 4))        /* another socket's reply */
#define SSFAST_ESEQ (-(SSFAST_ERROR_BASE + 5))           /* another request's reply */
#define SSFAST_EUNEXPECTED (-(SSFAST_ERROR_BASE + 6))    /* unexpected message type */
#define SSFAST_EINTERRUPTED (-(SSFAST_ERROR_BASE + 7))   /* dump flagged inconsistent */
#define SSFAST_EEOF (-(SSFAST_ERROR_BASE + 8))           /* end before the dump was done */
#define SSFAST_EBADSTATE (-(SSFAST_ERROR_BASE + 9))      /* state outside 0..15 */
#define SSFAST_EUNAVAILABLE (-(SSFAST_ERROR_BASE + 10))  /* no source available */
#define SSFAST_EPARSE (-(SSFAST_ERROR_BASE + 11))        /* /proc file not as expected */
#define SSFAST_EFILTER (-(SSFAST_ERROR_BASE + 12))       /* filter too large for a request */
#define SSFAST_ENOTNETNS (-(SSFAST_ERROR_BASE + 13))     /* netns path is not a namespace */
#define SSFAST_EBADFILTER (-(SSFAST_ERROR_BASE + 14))    /* filter does not parse */
#define SSFAST_EEXITED (-(SSFAST_ERROR_BASE + 15))       /* netns PID's process exited */
#define SSFAST_ENOTREG (-(SSFAST_ERROR_BASE + 16))       /* a /proc file is not regular */
#define SSFAST_ENOTPROCFS (-(SSFAST_ERROR_BASE + 17))    /* /proc is not procfs */
#define SSFAST_ENEEDSNETLINK (-(SSFAST_ERROR_BASE + 18)) /* filter needs netlink, not /proc */

typedef struct ssfast_options {
  uint32_t size;         /* sizeof(ssfast_options) as the caller's header has it (see above) */
  uint32_t source;       /* enum ssfast_source */
  uint32_t threads;      /* parallel TCP dumps; 0 for the default (CPUs, at most 8) */
  uint32_t reserved;     /* 0 */
  const char* proc_root; /* NULL for "/proc" */
  const char* netns;     /* NULL for this network namespace; else a namespace file such as
                            /run/netns/NAME or /proc/PID/ns/net; for the
                            latter, every call fails SSFAST_EEXITED once PID
                            has exited */
} ssfast_options;

typedef struct ssfast_counts {
  uint32_t size;            /* in: sizeof(ssfast_counts) as the caller's header has it;
                               out: the bytes filled (see above) */
  uint32_t source;          /* out: SSFAST_SOURCE_NETLINK or SSFAST_SOURCE_PROC */
  uint64_t tcp_states[16];  /* TCP sockets by the kernel's TCP_* value (1 ESTABLISHED ... 11
                               CLOSING), both families; SYN_RECV includes request sockets */
  uint64_t tcp4_states[16]; /* IPv4 only */
  uint64_t tcp6_states[16]; /* IPv6 only (IPv4-mapped connections included) */
  uint64_t udp_total, udp4_total, udp6_total, udp_connected;
  uint64_t unix_total, unix_stream, unix_dgram, unix_seqpacket;
} ssfast_counts;

/* Opens a collector (NULL options: defaults). ssfast_open2 returns 0 or a negative code;
 * ssfast_open returns NULL on failure with errno set to that code negated: an errno value, or
 * SSFAST_ERROR_BASE + n for ssfast's own conditions (ssfast_strerror(-errno) describes both). */
SSFAST_API ssfast_collector* ssfast_open(const ssfast_options* options);
SSFAST_API int ssfast_open2(const ssfast_options* options, ssfast_collector** out);

/* Counts every socket of the namespace. No allocation once open. 0 or a negative code;
 * -EINVAL if out->size is below SSFAST_COUNTS_SIZE_VER1. */
SSFAST_API int ssfast_count(ssfast_collector* c, ssfast_counts* out);

/* Counts only the sockets `filter` selects, written in ss's filter language as one string
 * ("sport = :443", "state established ( dport = :5432 or dport = :6432 )"): the summary of a
 * service. The kernel applies the states and the expression, so a probe of one port costs the
 * hash walk, not a message per socket. Host and service names are not resolved (numeric
 * addresses and ports only: no NSS or DNS inside a health probe). States default to all; UNIX
 * sockets are counted too unless the filter names an inet address or `state`s that exclude
 * them. 0 or a negative code: SSFAST_EBADFILTER for a filter that does not parse,
 * SSFAST_EFILTER for one too large for a request, -EINVAL for a NULL filter or as
 * ssfast_count. Allocates to parse the filter. */
SSFAST_API int ssfast_count_filtered(ssfast_collector* c, const char* filter, ssfast_counts* out);

/* A load balancer's question about one TCP service port, and its rules. */
typedef struct ssfast_service_rules {
  uint32_t size;            /* sizeof(ssfast_service_rules) as the caller's header has it */
  uint32_t max_age_ms;      /* answer from a measurement of the port at most this old (shared
                               by concurrent callers); 0: measure on every call */
  uint64_t max_established; /* 0: no limit, and no walk of the established hash; else the
                               weight falls to 1 as ESTABLISHED nears it, drain at it */
  double drain_queue;       /* drain when a listener's accept queue holds this share of its
                               backlog; 0 for the default, 0.9; else (0, 1] */
} ssfast_service_rules;

enum ssfast_verdict { SSFAST_READY = 0, SSFAST_DRAIN = 1, SSFAST_DOWN = 2 };

typedef struct ssfast_service_status {
  uint32_t size;                 /* in: sizeof as the caller's header has it; out: bytes filled */
  uint16_t port;                 /* the port asked about */
  uint8_t verdict;               /* enum ssfast_verdict */
  uint8_t weight;                /* 1..100 when SSFAST_READY (100 without max_established) */
  uint64_t listeners;            /* TCP listeners on the port (v4, v6, SO_REUSEPORT siblings) */
  uint64_t established;          /* ESTABLISHED on the port, when established_counted */
  uint32_t established_counted;  /* 1 when max_established asked for the walk */
  uint32_t fullest_family;       /* AF_INET or AF_INET6 of the fullest listener; 0: none */
  uint8_t fullest_address[16];   /* its address (network order; IPv4 in the first 4 bytes) */
  uint32_t fullest_accept_queue; /* its accept queue (Recv-Q) */
  uint32_t fullest_backlog;      /* its backlog (Send-Q); unknown from /proc */
  uint64_t age_ns;               /* how old the measurement answered from is */
  uint32_t source;               /* SSFAST_SOURCE_NETLINK or SSFAST_SOURCE_PROC */
  uint32_t backlog_known;        /* 0 from /proc: the accept-queue rule is off */
  char reason[128];              /* why, NUL-terminated; empty when ready: "no listener on port
                                    8080", "accept queue of 127.0.0.1:8080: 5 of backlog 4" */
} ssfast_service_status;

/* The probe API: what ssfast's agent would answer for TCP port `port` under `rules` (NULL: no
 * limit, drain at 0.9 of a backlog, measure now): its listeners from the kernel's listening
 * hash alone, its ESTABLISHED only when max_established asks (a walk of the whole established
 * hash), judged as the agent judges. Safe to call from several threads at once on one collector
 * (calls are serialized, and those within max_age_ms share one measurement); no other call may
 * run on that collector meanwhile. No allocation once warm. 0 or a negative code: -EINVAL for
 * port 0, a NULL out, a size below the first version's or a drain_queue outside (0, 1]; -E2BIG
 * for rules with unknown nonzero fields; otherwise as ssfast_count. */
SSFAST_API int ssfast_service_state(ssfast_collector* c, uint16_t port,
                                    const ssfast_service_rules* rules, ssfast_service_status* out);

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
