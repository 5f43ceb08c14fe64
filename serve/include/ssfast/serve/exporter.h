// SPDX-License-Identifier: Apache-2.0
// The Prometheus exporter as a connection handler for serve(): what an embedder needs to
// serve /metrics from its own process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ssfast/all_netns.h"
#include "ssfast/core/export.h"
#include "ssfast/core/filter.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/report/summary.h"
#include "ssfast/serve/http.h"
#include "ssfast/serve/server.h"
#include "ssfast/ssfast.h"

namespace ssfast::serve {

/// Where a handler says what went wrong (a scrape that failed, a source without backlogs);
/// the library never prints. Empty: said nowhere.
using log_line = std::function<void(std::string_view)>;

/// The exporter's --all-netns: what each scrape counts instead of the collector's namespace.
struct netns_scrape {
  bool enabled = false;
  netns_owner owner = netns_owner::any;  ///< init: other user namespaces' are excluded
  unsigned threads = 0;                  ///< all_netns_options::threads
  /// Seconds a collection may take, from its start: namespaces not reached by then are not
  /// counted (status "deadline") and the scrape answers with the rest. A scrape that sends
  /// X-Prometheus-Scrape-Timeout-Seconds T lowers it to T - 0.5 (T / 2 when T <= 1), so the
  /// answer arrives before Prometheus gives up on it.
  double deadline = 8;
};

/// The seconds a scrape's collection may take: `deadline`, lowered by the scraper's timeout.
SSFAST_API double scrape_budget(double deadline, double scrape_timeout) noexcept;

/// Serves GET/HEAD /metrics (Prometheus text 0.0.4: collect_summary's metrics and the
/// exporter's own: scrape duration, scrapes, errors, collections), / (a line naming the
/// exporter), 404 elsewhere, 405 for other methods, 400 for malformed requests. Scrapes waiting
/// together share one collection made after all of them arrived, so a burst costs one dump
/// and no answer is older than its request. Not thread-safe: one server thread.
class SSFAST_API metrics_exporter final : public connection_handler {
 public:
  /// `c` must outlive the handler; `r.format` is ignored (always Prometheus). With
  /// `all_netns.enabled`, each scrape counts every network namespace on the host instead
  /// (count_all_netns, ranked and bounded as `all_netns` says; render_all_netns_prometheus),
  /// not the collector's.
  /// The doctor's rules judge each interval between collections (ssfast_finding; not with
  /// --estimate, which never lists, nor --all-netns), and its listeners give the
  /// ssfast_listener_* series, at most `max_listeners` of them in port order (0: none): one
  /// doctor sample per collection replaces the count (a listing of TCP, request sockets and
  /// the listeners' memory included).
  metrics_exporter(collector& c, summary_request r, log_line log = {}, netns_scrape all_netns = {},
                   std::size_t max_listeners = 200);
  ~metrics_exporter();

  void on_round() override;
  void on_open(answer& out) override;
  std::size_t on_input(std::string_view in, answer& out) override;
  std::string too_large() override;
  std::string busy() override;

 private:
  void scrape(answer& out, const http_request& r, bool head);
  void collect(double scrape_timeout);

  collector& c_;
  summary_request request_;
  summary_data summary_;      // reused by every collection
  bool unread_said_ = false;  // the note on unreadable processes was logged, and still holds
  log_line log_;
  netns_scrape netns_;
  // The last collection's metrics, shared by every answer made from it (and held by each
  // connection still sending one); a new collection makes a new one.
  std::shared_ptr<const std::string> body_;
  std::string error_;
  bool fresh_ = false;  // body_ was collected in this round
  std::uint64_t scrapes_ = 0, errors_ = 0, collections_ = 0;
  struct judgement;  // the doctor's sampler and its last findings
  std::unique_ptr<judgement> judge_;
  std::size_t max_listeners_;
};

}  // namespace ssfast::serve
