/* SPDX-License-Identifier: Apache-2.0 */
/* An in-process health check for a proxy or load balancer in C: one call asks what ssfast's
 * agent would answer for a TCP service port (its listeners, its fullest accept queue, and
 * ESTABLISHED when a limit is given), judged by the agent's rules. Without a limit only the
 * kernel's listening hash is read, so the answer costs microseconds on any host; answers within
 * max_age_ms share one measurement, whichever thread asks.
 *
 *   cc service_probe.c $(pkg-config --cflags --libs ssfast) -o service_probe
 *   ./service_probe PORT [MAX_ESTABLISHED]    exit 0 ready, 1 drain, 2 down, 3 error */
#include <ssfast/ssfast_c.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [MAX_ESTABLISHED]\n", argv[0]);
    return 3;
  }
  const unsigned long port = strtoul(argv[1], NULL, 10);
  if (port == 0 || port > 65535) {
    fprintf(stderr, "%s: '%s' is not a port\n", argv[0], argv[1]);
    return 3;
  }
  ssfast_collector* c = ssfast_open(NULL);
  if (c == NULL) {
    perror("ssfast_open");
    return 3;
  }
  ssfast_service_rules rules = {.size = sizeof rules, .max_age_ms = 500};
  if (argc > 2) rules.max_established = strtoull(argv[2], NULL, 10);
  ssfast_service_status s = {.size = sizeof s};
  const int rc = ssfast_service_state(c, (uint16_t)port, &rules, &s);
  ssfast_close(c);
  if (rc != 0) {
    fprintf(stderr, "ssfast_service_state: %s\n", ssfast_strerror(rc));
    return 3;
  }
  switch (s.verdict) {
    case SSFAST_READY:
      printf("ready %u%% (listeners %llu, fullest accept queue %u of %u)\n", s.weight,
             (unsigned long long)s.listeners, s.fullest_accept_queue, s.fullest_backlog);
      return 0;
    case SSFAST_DRAIN: printf("drain: %s\n", s.reason); return 1;
    default: printf("down: %s\n", s.reason); return 2;
  }
}
