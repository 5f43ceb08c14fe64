// SPDX-License-Identifier: Apache-2.0
// The history's day files: appending whole records, cutting back what a killed writer left,
// pruning old days (see ssfast/report/history_file.h).
#include "ssfast/report/history_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>
#include <vector>

namespace ssfast {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

std::int64_t day_of(std::int64_t time_ms) noexcept {
  return time_ms >= 0 ? time_ms / ms_per_day : (time_ms - ms_per_day + 1) / ms_per_day;
}

// "YYYY-MM-DD.ssr" with a real date -> days since the epoch; else false.
bool day_of_name(const char* name, std::int64_t& day) {
  if (std::strlen(name) != 14 || std::strcmp(name + 10, ".ssr") != 0) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (name[i] < '0' || name[i] > '9') return false;
  if (name[4] != '-' || name[7] != '-') return false;
  tm t{};
  t.tm_year = std::atoi(std::string(name, 4).c_str()) - 1900;
  t.tm_mon = std::atoi(std::string(name + 5, 2).c_str()) - 1;
  t.tm_mday = std::atoi(std::string(name + 8, 2).c_str());
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31) return false;
  const tm asked = t;
  const time_t secs = timegm(&t);
  // timegm normalizes: a date that does not exist (02-30) comes back as another.
  if (t.tm_year != asked.tm_year || t.tm_mon != asked.tm_mon || t.tm_mday != asked.tm_mday)
    return false;
  day = day_of(static_cast<std::int64_t>(secs) * 1000);
  return true;
}

std::string said(const std::string& path, int err) {
  return path + ": " + std::generic_category().message(err);
}

}  // namespace

std::string history_file_name(std::int64_t time_ms) {
  const time_t secs = static_cast<time_t>(day_of(time_ms) * 86'400);
  tm t{};
  gmtime_r(&secs, &t);
  char name[32];
  std::snprintf(name, sizeof name, "%04d-%02d-%02d.ssr", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
  return name;
}

history_writer::history_writer(std::string dir, unsigned keyframe_every)
    : dir_(std::move(dir)), encoder_(keyframe_every) {}

history_writer::~history_writer() {
  if (fd_ >= 0) ::close(fd_);
}

std::string history_writer::open_day(const std::string& path) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  path_ = path;
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return said(dir_, errno);
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return said(path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    return S_ISREG(st.st_mode) ? said(path, err) : path + ": not a regular file";
  }
  // 0644 whatever the umask: the history is for every user to read.
  if ((st.st_mode & 07777) != 0644 && ::fchmod(fd, 0644) != 0) {
    const int err = errno;
    ::close(fd);
    return said(path, err);
  }
  // What a writer killed in the middle of a write left at the end is cut back.
  if (st.st_size > 0) {
    std::vector<std::byte> data(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    history_decoder d(data);
    history_record r;
    std::size_t keep = data.size();
    for (history_read_status got_status; (got_status = d.next(r)) != history_read_status::end;) {
      if (got_status == history_read_status::cut) {
        keep = d.last_start();
        break;
      }
      // Bytes that are no record and run to the end: the same unfinished write, damaged.
      if (got_status == history_read_status::damaged && d.offset() == data.size())
        keep = d.last_start();
    }
    if (keep < data.size()) {
      if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
        const int err = errno;
        ::close(fd);
        return said(path, err);
      }
      recovered_ += data.size() - keep;
    }
  }
  fd_ = fd;
  encoder_.reset();  // a file is read on its own: it starts with a keyframe
  return {};
}

std::string history_writer::append(const history_sample& s) {
  const std::string path = dir_ + "/" + history_file_name(s.time_ms);
  if (fd_ < 0 || path != path_)
    if (std::string err = open_day(path); !err.empty()) return err;
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (before < 0) return said(path_, errno);
  record_.clear();
  encoder_.encode(s, record_);
  std::size_t done = 0;
  int err = 0;
  while (done < record_.size()) {
    const ssize_t n = ::write(fd_, record_.data() + done, record_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0) return {};
  // Undo the part that was written, and let the next record stand on its own.
  if (::ftruncate(fd_, before) != 0) err = errno;
  encoder_.reset();
  return said(path_, err);
}

std::int64_t history_day(std::int64_t time_ms) noexcept { return day_of(time_ms); }

std::vector<std::string> history_day_files(const std::string& dir, std::int64_t from_ms,
                                           std::int64_t to_ms) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return {};
  const std::int64_t first = day_of(from_ms) - 1, last = day_of(to_ms) + 1;
  while (const dirent* e = ::readdir(d)) {
    std::int64_t day = 0;
    if (day_of_name(e->d_name, day) && day >= first && day <= last)
      found.emplace_back(day, dir + "/" + e->d_name);
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [day, path] : found) out.push_back(std::move(path));
  return out;
}

bool scan_history_file(const std::string& path, std::int64_t since_ms, std::int64_t until_ms,
                       const std::function<void(history_record&)>& each,
                       const std::function<void(const history_read_problem&)>& problem) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  history_decoder d(std::as_bytes(std::span(data.data(), data.size())));
  history_record r;
  for (history_read_status got; (got = d.next(r)) != history_read_status::end;) {
    if (got == history_read_status::damaged) {
      if (problem)
        problem({history_read_problem::kind::damaged, d.last_start(), d.damaged_bytes()});
      continue;
    }
    if (got == history_read_status::cut) {
      if (problem) problem({history_read_problem::kind::cut, d.last_start(), 0});
      break;
    }
    if (r.sample.time_ms >= since_ms && r.sample.time_ms <= until_ms) each(r);
  }
  return true;
}

bool read_history_file(const std::string& path, std::int64_t since_ms, std::int64_t until_ms,
                       std::vector<history_record>& rows,
                       const std::function<void(const history_read_problem&)>& problem) {
  return scan_history_file(
      path, since_ms, until_ms, [&](history_record& r) { rows.push_back(r); }, problem);
}

std::size_t prune_history(const std::string& dir, std::int64_t now_ms, unsigned keep_days) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  const std::int64_t oldest_kept = day_of(now_ms) - static_cast<std::int64_t>(keep_days) + 1;
  std::size_t removed = 0;
  const uid_t me = ::geteuid();
  while (const dirent* e = ::readdir(d)) {
    std::int64_t day = 0;
    if (!day_of_name(e->d_name, day) || day >= oldest_kept) continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != me) continue;
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace ssfast
