// SPDX-License-Identifier: Apache-2.0
// The exporter's connection handler: HTTP /metrics with shared scrapes.
#include "ssfast/serve/exporter.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <tuple>
#include <vector>

#include "ssfast/doctor/doctor.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/report/all_netns.h"
#include "ssfast/report/exporter.h"
#include "ssfast/serve/http.h"

namespace ssfast::serve {
namespace {

constexpr std::string_view text = "text/plain; charset=utf-8";

}  // namespace

double scrape_budget(double deadline, double scrape_timeout) noexcept {
  if (!(scrape_timeout > 0)) return deadline;
  return std::min(deadline, scrape_timeout > 1 ? scrape_timeout - 0.5 : scrape_timeout / 2);
}

struct metrics_exporter::judgement {
  doctor_sampler sampler;
  doctor_evidence evidence;
  std::vector<finding> findings;
  bool judged = false;
  explicit judgement(const doctor_options& o) : sampler(o) {}
};

metrics_exporter::metrics_exporter(collector& c, summary_request r, log_line log,
                                   netns_scrape all_netns, std::size_t max_listeners)
    : c_(c), request_(r), log_(std::move(log)), netns_(all_netns), max_listeners_(max_listeners) {
  request_.every_counter = true;  // Prometheus carries every counter
  if (!netns_.enabled && request_.method != count_method::estimate && request_.scope.tcp &&
      (request_.query == nullptr || request_.query->scope.tcp)) {
    doctor_options o;
    o.processes = false;  // series name no process: no /proc/*/fd scan per scrape
    o.filter = request_.query;
    o.scope = request_.query != nullptr ? request_.query->scope : request_.scope;
    judge_ = std::make_unique<judgement>(o);
  }
}

metrics_exporter::~metrics_exporter() = default;

namespace {

// The listeners as series: one per address and port (SO_REUSEPORT siblings summed), in port
// order (then family, address), so the set a cap keeps does not churn with the queues.
std::vector<listener_series> listener_rows(const doctor_evidence& e,
                                           std::vector<std::string>& storage) {
  struct row {
    std::string family, address;
    std::uint16_t port;
    const listener_evidence* first;
    std::uint64_t accept_queue = 0, backlog = 0, drops = 0;
  };
  std::vector<row> rows;
  for (const listener_evidence& l : e.listeners) {
    // "127.0.0.1:80", "[::]:443": the address without brackets and port.
    const std::size_t colon = l.address.rfind(':');
    std::string address = l.address.substr(0, colon);
    const bool v6 = address.starts_with('[');
    if (v6) address = address.substr(1, address.size() - 2);
    auto it = std::find_if(rows.begin(), rows.end(),
                           [&](const row& r) { return r.port == l.port && r.address == address; });
    if (it == rows.end()) {
      rows.push_back({v6 ? "ipv6" : "ipv4", address, l.port, &l});
      it = rows.end() - 1;
    }
    it->accept_queue += l.accept_queue;
    it->backlog += l.backlog;
    it->drops += l.drops;
  }
  std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    return std::tie(a.port, a.family, a.address) < std::tie(b.port, b.family, b.address);
  });
  storage.clear();
  storage.reserve(2 * rows.size());  // the views below point into it: no reallocation
  std::vector<listener_series> out;
  for (const row& r : rows) {
    storage.push_back(r.family);
    const std::string_view family = storage.back();
    storage.push_back(r.address);
    const std::string_view address = storage.back();
    const syn_queue_limit lim =
        syn_queue_limit_of(r.first->syn_backlog, r.first->siblings, e.sysctls);
    out.push_back({family, address, r.port, r.accept_queue, r.backlog, r.first->syn_recv, lim.slots,
                   r.drops});
  }
  return out;
}

}  // namespace

void metrics_exporter::on_round() { fresh_ = false; }

void metrics_exporter::on_open(answer&) {}

std::size_t metrics_exporter::on_input(std::string_view in, answer& out) {
  http_request r;
  const http_begin b = begin_http_answer(in, r, out.head, out.close_after);
  if (!b.route) return b.used;
  const bool head = r.method == "HEAD";
  if (needs_metrics(r)) {
    scrape(out, r, head);
  } else if (r.target == "/") {
    http_response(out.head, 200, text,
                  "ssfast exporter " + std::string(version()) + ": socket states at /metrics\n",
                  {.keep_alive = r.keep_alive, .head_only = head});
  } else {
    http_response(out.head, 404, text, "ssfast: not found; metrics are at /metrics\n",
                  {.keep_alive = r.keep_alive, .head_only = head});
  }
  return r.size;
}

std::string metrics_exporter::too_large() { return http_too_large(); }

std::string metrics_exporter::busy() { return http_busy("ssfast: too many connections\n"); }

void metrics_exporter::scrape(answer& out, const http_request& r, bool head) {
  const bool keep_alive = r.keep_alive;
  ++scrapes_;
  // Scrapes waiting together share the collection the first of them starts, and its deadline.
  if (!fresh_) collect(r.scrape_timeout);
  if (!error_.empty()) {
    http_response(out.head, 500, text, "ssfast: " + error_ + "\n",
                  {.keep_alive = keep_alive, .head_only = head});
    return;
  }
  http_response_head(out.head, 200, "text/plain; version=0.0.4; charset=utf-8", body_->size(),
                     {.keep_alive = keep_alive});
  if (!head) out.body = body_;
}

void metrics_exporter::collect(double scrape_timeout) {
  fresh_ = true;
  ++collections_;
  const auto start = std::chrono::steady_clock::now();
  // A new string: answers still being sent keep the previous one alive, unchanged.
  auto fresh = std::make_shared<std::string>();
  std::string& m = *fresh;
  body_ = fresh;
  error_.clear();
  if (netns_.enabled) {
    all_netns_options ao;
    ao.scope = request_.scope;
    ao.method = request_.method;
    ao.threads = netns_.threads;
    ao.owner = netns_.owner;
    const double budget = scrape_budget(netns_.deadline, scrape_timeout);
    ao.deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(budget));
    std::vector<netns_count> ns;
    all_netns_stats stats;
    if (auto ec = count_all_netns(ao, ns, stats)) {
      error_ = "/proc: " + ec.message();
    } else {
      render_all_netns_prometheus(ns, max_netns_series, m);
      if (log_) {
        if (const std::string late = late_namespaces_note(ns, budget); !late.empty())
          log_("scrape: " + late);
        // Said when it starts, not at every scrape: it is the exporter's standing, not news
        // (and the numbers in it move with every process a busy host starts).
        const std::string unread = unread_processes_note(stats);
        if (!unread.empty() && !unread_said_) log_("scrape: " + unread);
        unread_said_ = !unread.empty();
      }
    }
  } else if (judge_) {
    // One doctor sample: its listing is the count, its listeners and findings the series.
    judgement& j = *judge_;
    if (auto ec = j.sampler.sample(c_, j.evidence, j.judged)) {
      error_ = c_.error_text(ec);
    } else {
      summary_request r = request_;
      r.counted = &j.evidence.sockets;
      if (!collect_summary(c_, r, summary_, error_)) {
        render_summary(summary_, summary_format::prometheus, {}, m);
        j.findings = j.judged ? diagnose(j.evidence) : std::vector<finding>{};
        std::vector<finding_series> f;
        for (const finding& x : j.findings) f.push_back({x.id, to_string(x.level), x.subject});
        render_findings_prometheus(f, j.judged, m);
        std::vector<rule_series> rules;
        if (j.judged) {
          const std::vector<rule_not_run> skipped = rules_not_run(j.evidence);
          for (std::size_t i = 0; i < doctor_rule_count(); ++i) {
            const std::string_view id = doctor_rule_id(i);
            rules.push_back({id, std::none_of(skipped.begin(), skipped.end(),
                                              [&](const rule_not_run& x) { return x.id == id; })});
          }
        }
        render_rules_prometheus(rules, m);
        if (max_listeners_ > 0 && j.evidence.backlog_known) {
          std::vector<std::string> storage;
          const std::vector<listener_series> l = listener_rows(j.evidence, storage);
          render_listeners_prometheus(l, max_listeners_, m);
        }
      }
    }
  } else if (!collect_summary(c_, request_, summary_, error_)) {
    render_summary(summary_, summary_format::prometheus, {}, m);
  }
  if (!error_.empty()) {
    ++errors_;
    m.clear();
    if (log_) log_("scrape failed: " + error_);
    return;
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  render_exporter_prometheus({took, scrapes_, errors_, collections_}, m);
}

}  // namespace ssfast::serve
