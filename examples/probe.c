/* SPDX-License-Identifier: Apache-2.0 */
/* A load-balancer health probe in C: open a collector once, count TCP states, and answer by
 * exit status whether SYN_RECV (a SYN flood shows there) and CLOSE_WAIT (an application not
 * closing its sockets) stay under the given limits.
 *
 *   cc probe.c $(pkg-config --cflags --libs ssfast) -o probe
 *   ./probe [MAX_SYN_RECV [MAX_CLOSE_WAIT]]      exit 0 healthy, 1 over a limit, 2 error */
#include <ssfast/ssfast_c.h>
#include <stdio.h>
#include <stdlib.h>

enum {
  TCP_ESTABLISHED = 1,
  TCP_SYN_RECV = 3,
  TCP_TIME_WAIT = 6,
  TCP_CLOSE_WAIT = 8,
  TCP_LISTEN = 10
};

int main(int argc, char** argv) {
  const unsigned long long max_syn_recv = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
  const unsigned long long max_close_wait = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;

  ssfast_collector* c = ssfast_open(NULL); /* defaults: netlink, else /proc */
  if (c == NULL) {
    perror("ssfast_open");
    return 2;
  }
  ssfast_counts counts = {.size = sizeof counts};
  const int rc = ssfast_count(c, &counts);
  ssfast_close(c);
  if (rc != 0) {
    fprintf(stderr, "ssfast_count: %s\n", ssfast_strerror(rc));
    return 2;
  }
  printf(
      "source=%s established=%llu syn_recv=%llu time_wait=%llu close_wait=%llu listen=%llu "
      "udp=%llu unix=%llu\n",
      counts.source == SSFAST_SOURCE_NETLINK ? "netlink" : "proc",
      (unsigned long long)counts.tcp_states[TCP_ESTABLISHED],
      (unsigned long long)counts.tcp_states[TCP_SYN_RECV],
      (unsigned long long)counts.tcp_states[TCP_TIME_WAIT],
      (unsigned long long)counts.tcp_states[TCP_CLOSE_WAIT],
      (unsigned long long)counts.tcp_states[TCP_LISTEN], (unsigned long long)counts.udp_total,
      (unsigned long long)counts.unix_total);
  return counts.tcp_states[TCP_SYN_RECV] > max_syn_recv ||
                 counts.tcp_states[TCP_CLOSE_WAIT] > max_close_wait
             ? 1
             : 0;
}
