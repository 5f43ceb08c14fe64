// SPDX-License-Identifier: Apache-2.0
// The history's day files: one per UTC day, each starting with a keyframe; a file a killed
// writer left cut is cut back before appending; a write the disk refuses leaves no partial
// record; files are 0644 whatever the umask; pruning removes old day files and nothing else.
#include "ssfast/report/history_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/background.h"

namespace ssfast {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t dec4 = 1'796'342'400'000;  // 2026-12-04T00:00:00Z

history_sample sample_at(std::int64_t t, int i) {
  history_sample s;
  s.time_ms = t;
  s.boot_id[0] = 9;
  s.netns = 4026531840;
  s.tcp[0][1] = 100 + static_cast<std::uint64_t>(i);
  s.counters[0] = 1000 + i * 7;
  s.sysctls = {{"net.core.somaxconn", "4096"}};
  return s;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<history_record> read_file(const std::string& p, bool* damaged = nullptr) {
  const std::string data = slurp(p);
  history_decoder d(std::as_bytes(std::span(data.data(), data.size())));
  std::vector<history_record> out;
  history_record r;
  for (history_read_status st; (st = d.next(r)) != history_read_status::end;) {
    if (st == history_read_status::record) out.push_back(r);
    if (st == history_read_status::damaged && damaged) *damaged = true;
    if (st == history_read_status::cut) {
      if (damaged) *damaged = true;
      break;
    }
  }
  return out;
}

TEST(HistoryFile, NamesAreUtcDays) {
  EXPECT_EQ(history_file_name(dec4), "2026-12-04.ssr");
  EXPECT_EQ(history_file_name(dec4 + day_ms - 1), "2026-12-04.ssr");
  EXPECT_EQ(history_file_name(dec4 + day_ms), "2026-12-05.ssr");
  EXPECT_EQ(history_file_name(0), "1970-01-01.ssr");
}

TEST(HistoryFile, OneFilePerDayEachStartingWithAKeyframe) {
  const testing::scratch_dir dir("ssfast-history");
  ASSERT_TRUE(dir.made());
  const mode_t old = ::umask(077);
  history_writer w(dir / "h");  // made by the writer
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(w.append(sample_at(dec4 + day_ms - 30'000 + i * 10'000, i)), "");
  ::umask(old);
  const auto a = read_file(dir / "h/2026-12-04.ssr");
  const auto b = read_file(dir / "h/2026-12-05.ssr");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(a[0].keyframe);
  EXPECT_TRUE(b[0].keyframe) << "a day file is read on its own";
  EXPECT_FALSE(b[1].keyframe);
  EXPECT_EQ(b[2].sample.counters[0], 1000 + 5 * 7);
  EXPECT_EQ(b[2].delta[0], 7);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "h/2026-12-05.ssr").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "readable by every user, whatever the umask";
  EXPECT_EQ(w.path(), dir / "h/2026-12-05.ssr");
}

// A writer killed in the middle of a record: the next one cuts the unfinished record off and
// goes on, so the file reads to its end with nothing damaged.
TEST(HistoryFile, WhatAKilledWriterLeftIsCutBack) {
  const testing::scratch_dir dir("ssfast-history");
  ASSERT_TRUE(dir.made());
  {
    history_writer w(dir.path());
    for (int i = 0; i < 3; ++i) ASSERT_EQ(w.append(sample_at(dec4 + i * 10'000, i)), "");
  }
  std::string rec;
  history_encoder e;
  e.encode(sample_at(dec4 + 30'000, 3), rec);
  {
    std::ofstream f(dir / "2026-12-04.ssr", std::ios::binary | std::ios::app);
    f << rec.substr(0, 20);  // the start of a record, then the writer died
  }
  history_writer w(dir.path());
  ASSERT_EQ(w.append(sample_at(dec4 + 40'000, 4)), "");
  EXPECT_EQ(w.recovered(), 20u);
  bool damaged = false;
  const auto got = read_file(dir / "2026-12-04.ssr", &damaged);
  EXPECT_FALSE(damaged);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(got[3].keyframe) << "a new run starts with a keyframe";
  EXPECT_EQ(got[3].sample.time_ms, dec4 + 40'000);
}

// The disk refuses the write (here a file size limit, as a full disk would): nothing of the
// record stays, the error names the file, and once there is room again the next record, a
// keyframe, reads back after the others.
TEST(HistoryFile, AFullDiskLeavesNoPartialRecord) {
  const testing::scratch_dir dir("ssfast-history");
  ASSERT_TRUE(dir.made());
  history_writer w(dir.path());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w.append(sample_at(dec4 + i * 10'000, i)), "");
  const std::string file = dir / "2026-12-04.ssr";
  const auto size = fs::file_size(file);
  rlimit was{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &was), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit tight = was;
  tight.rlim_cur = static_cast<rlim_t>(size + 5);  // room for 5 bytes of the next record
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  const std::string err = w.append(sample_at(dec4 + 30'000, 3));
  ::setrlimit(RLIMIT_FSIZE, &was);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_NE(err.find(file + ": "), std::string::npos) << err;
  EXPECT_EQ(fs::file_size(file), size) << "the part that fit is undone";
  ASSERT_EQ(w.append(sample_at(dec4 + 40'000, 4)), "");
  bool damaged = false;
  const auto got = read_file(file, &damaged);
  EXPECT_FALSE(damaged);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(got[3].keyframe);
  EXPECT_EQ(got[3].sample.counters[0], 1000 + 4 * 7);
}

// keep 7: today and the six days before stay; older day files go; anything else stays (a name
// that is no date, another file, a link).
TEST(HistoryFile, PruningRemovesOldDaysOnly) {
  const testing::scratch_dir dir("ssfast-history");
  ASSERT_TRUE(dir.made());
  for (int d = -10; d <= 0; ++d)
    std::ofstream(dir.path() + "/" + history_file_name(dec4 + d * day_ms));
  std::ofstream(dir / "2026-02-30.ssr");
  std::ofstream(dir / "notes.txt");
  std::ofstream(dir / "2026-11-01.ssr.bak");
  fs::create_directory(dir / "2026-11-02.ssr");
  fs::create_symlink(dir / "notes.txt", dir / "2026-11-03.ssr");
  EXPECT_EQ(prune_history(dir.path(), dec4 + 5000, 7), 4u);
  for (int d = -10; d <= 0; ++d)
    EXPECT_EQ(fs::exists(dir.path() + "/" + history_file_name(dec4 + d * day_ms)), d > -7) << d;
  for (const char* kept : {"2026-02-30.ssr", "notes.txt", "2026-11-01.ssr.bak", "2026-11-02.ssr"})
    EXPECT_TRUE(fs::exists(dir / kept)) << kept;
  EXPECT_TRUE(fs::is_symlink(dir / "2026-11-03.ssr"));
  EXPECT_EQ(prune_history(dir / "missing", dec4, 7), 0u);
}

// The files a range reads: its UTC days and one either side, oldest first; nothing that is
// not a day file.
TEST(HistoryFile, TheDayFilesOfARange) {
  const testing::scratch_dir dir("ssfast-history");
  ASSERT_TRUE(dir.made());
  for (int d = -5; d <= 1; ++d)
    std::ofstream(dir.path() + "/" + history_file_name(dec4 + d * day_ms));
  std::ofstream(dir / "2026-02-30.ssr");
  std::ofstream(dir / "notes.ssr");
  const auto files = history_day_files(dir.path(), dec4 - day_ms + 5000, dec4 + 5000);
  EXPECT_EQ(files, (std::vector<std::string>{dir / "2026-12-02.ssr", dir / "2026-12-03.ssr",
                                             dir / "2026-12-04.ssr", dir / "2026-12-05.ssr"}));
  EXPECT_EQ(history_day(dec4 + day_ms - 1), history_day(dec4));
  EXPECT_TRUE(history_day_files(dir / "missing", dec4, dec4).empty());
}

}  // namespace
}  // namespace ssfast
