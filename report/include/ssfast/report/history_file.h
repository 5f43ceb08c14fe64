// SPDX-License-Identifier: Apache-2.0
// The history's day files (`ssfast record`): one file per UTC day, YYYY-MM-DD.ssr, of records
// in the format of core/history.h, appended to and pruned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/history.h"

namespace ssfast {

/// "2026-12-04.ssr": the day file of a UTC time (milliseconds since the epoch).
SSFAST_API std::string history_file_name(std::int64_t time_ms);

/// Appends samples to the day files of one directory. Each record is one write(2) to a file
/// opened O_APPEND; a write that fails or falls short (a full disk, a file size limit) is
/// undone (the file cut back to where it was), so the file holds whole records only and the
/// next append, a keyframe, tries again. A file opened to append to is first cut back to its
/// last whole record: what a writer killed in the middle of a write left. Files are mode 0644
/// whatever the umask (any user may read the history, as sysstat's files).
class SSFAST_API history_writer {
 public:
  /// `dir` is created (0755) if it does not exist; its parent must.
  explicit history_writer(std::string dir, unsigned keyframe_every = 360);
  ~history_writer();
  history_writer(const history_writer&) = delete;
  history_writer& operator=(const history_writer&) = delete;

  /// Appends `s` to the file of its UTC day (the first record of a file, or after a failed
  /// write, is a keyframe). Returns an error line naming the file, empty on success.
  /// Allocates.
  std::string append(const history_sample& s);
  /// The file appended to last ("" before the first append).
  const std::string& path() const noexcept { return path_; }
  /// Bytes cut from the end of files opened to append to (unfinished records).
  std::size_t recovered() const noexcept { return recovered_; }

 private:
  std::string open_day(const std::string& path);

  std::string dir_, path_;
  int fd_ = -1;
  history_encoder encoder_;
  std::string record_;
  std::size_t recovered_ = 0;
};

/// The day of a UTC time (milliseconds since the epoch): days since 1970-01-01, the day whose
/// file history_file_name() names.
SSFAST_API std::int64_t history_day(std::int64_t time_ms) noexcept;

/// The paths of the day files in `dir` (YYYY-MM-DD.ssr with a real date) whose UTC day lies
/// within a day of [from_ms, to_ms] (a range asked in local time may reach into the UTC day
/// either side), oldest first. None when `dir` cannot be read.
SSFAST_API std::vector<std::string> history_day_files(const std::string& dir, std::int64_t from_ms,
                                                      std::int64_t to_ms);

/// What reading a day file met besides records: damaged bytes passed over (`bytes` of them at
/// byte `at`), or a record the recorder never finished, at byte `at`, where the reading ends.
struct history_read_problem {
  enum class kind : std::uint8_t { damaged, cut } what = kind::damaged;
  std::size_t at = 0, bytes = 0;
};

/// Hands `each` the records of the day file `path` whose time lies within [since_ms,
/// until_ms], in file order, one record object reused (take what is kept); each problem met
/// is told to `problem` when given. False when the file cannot be read (nothing handed).
/// Holds the file's bytes, not its records. Allocates.
SSFAST_API bool scan_history_file(
    const std::string& path, std::int64_t since_ms, std::int64_t until_ms,
    const std::function<void(history_record&)>& each,
    const std::function<void(const history_read_problem&)>& problem = {});

/// Appends to `rows` the records of the day file `path` whose time lies within [since_ms,
/// until_ms] (scan_history_file into a vector). Allocates.
SSFAST_API bool read_history_file(
    const std::string& path, std::int64_t since_ms, std::int64_t until_ms,
    std::vector<history_record>& rows,
    const std::function<void(const history_read_problem&)>& problem = {});

/// Removes the day files in `dir` of days more than `keep_days` - 1 before the UTC day of
/// `now_ms` (keep 7: today and the 6 days before stay): regular files of the effective uid
/// named YYYY-MM-DD.ssr with a real date; nothing else is touched. Returns how many.
SSFAST_API std::size_t prune_history(const std::string& dir, std::int64_t now_ms,
                                     unsigned keep_days);

}  // namespace ssfast
