// SPDX-License-Identifier: Apache-2.0
// Writing a report where another program reads it: replace a file atomically and safely.
#include "ssfast/report/textfile.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ssfast {

// Replaces `path` with `data` so a reader sees the old file or the new one, never a part:
// a temporary file in the same directory (node_exporter's textfile collector reads only
// *.prom, so the temporary name does not end in .prom), fsync, rename over the target.
// ssfast runs as root from cron or a unit and writes into node_exporter's textfile
// directory, which another account may be able to write. So the temporary's name is random
// and it is created O_EXCL|O_NOFOLLOW: a link planted at a name we might use is never
// followed (a predictable name opened O_TRUNC would let it truncate any file). A target that
// exists and is not a regular file (a planted link, a FIFO) is refused; rename(2) replaces a
// name, never what a link points to, so a link planted after that check changes nothing.
std::string write_file_atomically(const std::string& path, std::string_view data) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return path +
           ": exists and is not a regular file (a link, a directory or a device); "
           "not replaced";
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; fd < 0; ++attempt) {
    std::uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
      return path + ": getrandom: " + std::strerror(errno);
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%016llx", static_cast<unsigned long long>(r));
    tmp = path + suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt == 8)) return tmp + ": " + std::strerror(errno);
  }
  // node_exporter reads the file as another user, whatever our umask.
  const bool moded = ::fchmod(fd, 0644) == 0;
  std::size_t done = 0;
  while (moded && done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  const int write_errno = moded && done == data.size() ? 0 : (errno ? errno : EIO);
  const bool synced = write_errno == 0 && fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (write_errno != 0 || !synced || !closed) {
    const int e = write_errno ? write_errno : !synced ? sync_errno : errno;
    ::unlink(tmp.c_str());
    return tmp + ": " + std::strerror(e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return path + ": " + std::strerror(e);
  }
  return {};
}

}  // namespace ssfast
