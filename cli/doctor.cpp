// SPDX-License-Identifier: Apache-2.0
// ssfast doctor and ssfast states: the diagnosis, and the TCP state reference behind it.
#include "ssfast/doctor/doctor.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "commands.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/doctor/states.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/top.h"

namespace ssfast::cli {

namespace {

constexpr int doctor_cannot = 3;  // 0, 1, 2 are the findings' worst severity

// The doctor's options from the command line's. FILTER: the sockets of one service, through
// `f` and `q` (which must outlive `d`); the counters and sysctls stay the namespace's. False
// with the error when the filter does not parse.
bool doctor_options_of(const options& o, socket_filter& f, socket_query& q, doctor_options& d,
                       std::string& err) {
  d.interval_s = o.interval;
  d.proc_root = o.proc_root;
  if (o.filter.empty()) return true;
  if (!build_query(o, f, q, err)) return false;
  d.filter = &q;
  d.scope = q.scope;
  return true;
}

// One namespace of doctor --all-netns: its identity, its sampler, the last evidence.
struct namespace_diagnosis {
  const netns_count* ns = nullptr;
  std::unique_ptr<doctor_sampler> sampler;
  doctor_evidence evidence;
  bool judged = false;
  std::string error;  // could not be read (opened or sampled)
  std::string source;
};

// One sample of `d`'s namespace through a collector opened there (by the first of its ways
// that still leads to it: the same nsfs inode), closed after: no thread or socket is held
// between the two samples, however many namespaces there are.
void sample_namespace(const options& o, namespace_diagnosis& d) {
  if (!d.error.empty()) return;
  for (const netns_way& way : d.ns->ways) {
    struct stat st {};
    if (::stat(way.path.c_str(), &st) != 0 || st.st_ino != d.ns->inode) continue;
    collector_options co;
    co.threads = o.threads;
    co.netns = way.path;
    auto c = collector::open(co);
    if (!c) {
      d.error = "cannot enter it: " + c.error().message();
      return;
    }
    if (auto ec = d.sampler->sample(*c, d.evidence, d.judged)) {
      d.error = c->error_text(ec);
      return;
    }
    d.source = std::string(to_string(c->source()));
    return;
  }
  d.error = "gone (no process or mount holds it any more)";
}

// doctor --all-netns: every namespace sampled twice, all within the one interval, each
// judged by the same rules; a section for each with findings (or that could not be read),
// and the worst exit status of them.
int run_doctor_all_netns(const options& o) {
  all_netns_options ao = all_netns_options_of(o);
  std::vector<netns_count> found;
  all_netns_stats stats;
  if (auto ec = find_all_netns(ao, found, stats))
    return fail(doctor_cannot, ao.proc_root + ": " + ec.message());
  socket_filter f;  // FILTER: the same service in every namespace
  socket_query q;
  doctor_options d;
  if (std::string err; !doctor_options_of(o, f, q, d, err)) return fail(doctor_cannot, err);
  std::vector<namespace_diagnosis> all;
  for (const netns_count& n : found) {
    if (o.owner == netns_owner::init && n.tier == netns_tier::other_owner) continue;
    namespace_diagnosis x;
    x.ns = &n;
    x.sampler = std::make_unique<doctor_sampler>(d);
    all.push_back(std::move(x));
  }
  for (auto& x : all) sample_namespace(o, x);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.interval));
  for (auto& x : all) sample_namespace(o, x);
  std::string out, text;
  int worst = 0;
  std::size_t with_findings = 0, unread = 0;
  for (auto& x : all) {
    const std::string key = netns_key(*x.ns);
    if (!x.error.empty() || !x.judged) {
      ++unread;
      const std::string why = x.error.empty() ? std::string("not sampled twice") : x.error;
      if (o.json) {
        json_writer w(out);
        w.begin_object().key("netns").value(key).key("inode").value(x.ns->inode);
        w.key("error").value(why).end_object();
        out.push_back('\n');
      } else {
        out += "== netns ";
        append_printable(out, key);
        out += " ==\ncould not be diagnosed: ";
        append_printable(out, why);
        out += "\n\n";
      }
      continue;
    }
    const auto findings = diagnose(x.evidence);
    worst = std::max(worst, doctor_exit_code(findings));
    if (findings.empty()) continue;
    ++with_findings;
    text.clear();
    if (o.json) {
      render_findings_json(findings, x.evidence, x.source, text);
      // {"netns":..,"inode":..,"name":..,"pid":..,"comm":..,"container":..,"pod_uid":.., and
      // the namespace's own report's members.
      json_writer w(out);
      w.begin_object().key("netns").value(key).key("inode").value(x.ns->inode);
      w.key("name").value(x.ns->name).key("pid").value(std::uint64_t{x.ns->pid});
      w.key("comm").value(x.ns->comm).key("container").value(x.ns->container);
      w.key("pod_uid").value(x.ns->pod_uid);
      out.push_back(',');
      out.append(text, 1, std::string::npos);  // the report's object, its '{' dropped
    } else {
      out += "== netns ";
      append_printable(out, key);
      out += " ==\n";
      render_findings_text(findings, x.evidence, x.source, text);
      out += text;
      out.push_back('\n');
    }
  }
  if (!o.json) {
    char every[32];
    std::snprintf(every, sizeof every, "%g", o.interval);
    out += "ssfast doctor --all-netns: " + std::to_string(all.size()) + " namespaces, " +
           std::to_string(with_findings) + " with findings, " + std::to_string(unread) +
           " not diagnosed; each sampled over " + every + " s\n";
  }
  if (write_out(out) != exit_ok) return doctor_cannot;
  if (all.size() == unread && !all.empty()) return doctor_cannot;
  return worst;
}

}  // namespace

int run_doctor(collector& c, const options& o) {
  if (o.all_netns) return run_doctor_all_netns(o);
  socket_filter f;
  socket_query q;
  doctor_options d;
  if (std::string err; !doctor_options_of(o, f, q, d, err)) return fail(doctor_cannot, err);
  doctor_evidence e;
  if (auto ec = gather_doctor_evidence(c, d, e)) return fail(doctor_cannot, c.error_text(ec));
  const auto findings = diagnose(e);
  std::string out;
  const std::string_view source = to_string(c.source());
  const std::string filter = filter_text(o);
  if (o.json)
    render_findings_json(findings, e, source, out, filter);
  else
    render_findings_text(findings, e, source, out, filter);
  if (write_out(out) != exit_ok) return doctor_cannot;
  return doctor_exit_code(findings, rules_not_run(e));
}

int run_states(const options& o) {
  std::vector<std::uint8_t> only;
  for (const auto& name : o.filter) only.push_back(parse_state_name(name));  // checked in parsing
  std::string out;
  if (o.json)
    render_states_json(out, only);
  else
    render_states_text(out, only);
  return write_out(out);
}

}  // namespace ssfast::cli
