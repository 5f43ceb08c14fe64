// SPDX-License-Identifier: Apache-2.0
// Writing a report where another program reads it: replace a file atomically and safely.
#include "ssfast/report/textfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ssfast {

namespace {

// "PATH.tmp." and 16 lowercase hex digits: the temporary names this writer uses.
constexpr std::string_view tmp_infix = ".tmp.";
constexpr std::size_t tmp_hex = 16;

bool random_temporary(const std::string& path, std::string& tmp, std::string& error) {
  std::uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    error = path + ": getrandom: " + std::strerror(errno);
    return false;
  }
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp.%016llx", static_cast<unsigned long long>(r));
  tmp = path + suffix;
  return true;
}

// Mode 0644 (node_exporter reads the file as another user, whatever our umask), every byte,
// fsync. 0 or the errno.
int fill(int fd, std::string_view data) {
  if (::fchmod(fd, 0644) != 0) return errno;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    done += static_cast<std::size_t>(w);
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

std::string rename_over(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) == 0) return {};
  const int e = errno;
  ::unlink(tmp.c_str());
  return path + ": " + std::strerror(e);
}

// The file is written with no name at all (O_TMPFILE, Linux 3.11): a writer killed while it
// writes leaves nothing behind. Only once complete is it linked at a random temporary name
// (linkat never follows a link planted there: it fails EEXIST) and renamed over the target.
// False when O_TMPFILE or /proc/self/fd cannot serve (the caller writes a named temporary).
bool write_unnamed(const std::string& path, std::string_view data, std::string& error) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (const int e = fill(fd, data); e != 0) {
    ::close(fd);
    error = path + ": " + std::strerror(e);
    return true;
  }
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  std::string tmp;
  for (int attempt = 0;; ++attempt) {
    if (!random_temporary(path, tmp, error)) {
      ::close(fd);
      return true;
    }
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
    const int e = errno;
    if (e == EEXIST && attempt < 8) continue;
    ::close(fd);
    if (e == ENOENT && attempt == 0 && ::access("/proc/self/fd", F_OK) != 0) return false;
    error = tmp + ": " + std::strerror(e);
    return true;
  }
  const bool closed = ::close(fd) == 0;
  if (!closed) {
    const int e = errno;
    ::unlink(tmp.c_str());
    error = tmp + ": " + std::strerror(e);
    return true;
  }
  error = rename_over(tmp, path);
  return true;
}

// The same with a named temporary: created O_EXCL|O_NOFOLLOW under a random name, so a link
// planted at a name we might use is never followed (a predictable name opened O_TRUNC would
// let it truncate any file).
std::string write_named(const std::string& path, std::string_view data) {
  int fd = -1;
  std::string tmp, error;
  for (int attempt = 0; fd < 0; ++attempt) {
    if (!random_temporary(path, tmp, error)) return error;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt == 8)) return tmp + ": " + std::strerror(errno);
  }
  const int e = fill(fd, data);
  const bool closed = ::close(fd) == 0;
  if (e != 0 || !closed) {
    const int why = e != 0 ? e : errno;
    ::unlink(tmp.c_str());
    return tmp + ": " + std::strerror(why);
  }
  return rename_over(tmp, path);
}

}  // namespace

// Replaces `path` with `data` so a reader sees the old file or the new one, never a part:
// the new file is made in the same directory (node_exporter's textfile collector reads only
// *.prom, so a temporary name does not end in .prom), fsync'd, and renamed over the target.
// ssfast runs as root from cron or a unit and writes into node_exporter's textfile
// directory, which another account may be able to write: no name it uses can be planted. A
// target that exists and is not a regular file (a planted link, a FIFO) is refused; rename(2)
// replaces a name, never what a link points to, so a link planted after that check changes
// nothing.
std::string write_file_atomically(const std::string& path, std::string_view data) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return path +
           ": exists and is not a regular file (a link, a directory or a device); "
           "not replaced";
  std::string error;
  if (write_unnamed(path, data, error)) return error;
  return write_named(path, data);
}

std::size_t remove_stale_temporaries(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string prefix =
      (slash == std::string::npos ? path : path.substr(slash + 1)) + std::string(tmp_infix);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  std::size_t removed = 0;
  const uid_t me = ::geteuid();
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (!name.starts_with(prefix) || name.size() != prefix.size() + tmp_hex) continue;
    const std::string_view hex = name.substr(prefix.size());
    if (!std::all_of(hex.begin(), hex.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
      continue;
    // Only a regular file of ours: a link or another user's file is not a temporary we left.
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != me)
      continue;
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace ssfast
