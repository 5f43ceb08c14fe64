// SPDX-License-Identifier: Apache-2.0
// The history format: samples of a namespace's sockets and counters as `ssfast record` appends
// them to a day file and `ssfast history` reads them back. Pure encoding and decoding, no I/O.
//
// A file is a sequence of records, each self-delimiting and checked:
//   "SSR1" | payload length (u32 LE) | CRC-32C of the payload (u32 LE) | payload
// so a file cut anywhere (a crash, a full disk) reads up to the last whole record, and a record
// damaged in the middle is skipped by its checksum, the next one found by its magic. The payload
// is a list of tagged fields (varint tag = field << 3 | wire type; varints and length-prefixed
// bytes), so a newer writer's fields are skipped by an older reader. Counters are written as
// their change since the recorder's previous sample (with the time between), so one record gives
// its rates alone; absolute values, the boot id, the namespace and the sysctls are in keyframes
// (a run's first record, every `keyframe_every`, after any change of boot, namespace or
// source) and carried forward from them. A counter that went down is stored as a reset, never as a
// negative change.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssfast/core/counter_ids.h"
#include "ssfast/core/export.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/state_counts.h"

namespace ssfast {

/// How many counter_id values there are (the stored id is the enum's value: append only).
inline constexpr std::size_t history_counter_count = counter_names.size();

/// One of the fullest listeners at a sample.
struct history_listener {
  std::uint8_t family = 4;                 ///< 4 or 6
  std::array<std::uint8_t, 16> address{};  ///< network order; IPv4 in the first 4 bytes
  std::uint16_t port = 0;
  std::uint32_t accept_queue = 0;         ///< waiting for accept()
  std::uint32_t backlog = 0;              ///< min(listen() backlog, somaxconn)
  std::optional<std::uint32_t> syn_recv;  ///< half-open, when it was measured
  friend bool operator==(const history_listener&, const history_listener&) = default;
};

/// What one sample holds, as the recorder took it. Counters are the kernel's values as read
/// (absolute; empty: not readable).
struct history_sample {
  std::int64_t time_ms = 0;  ///< UTC (CLOCK_REALTIME), milliseconds since the epoch
  std::array<std::uint8_t, 16> boot_id{};
  std::uint64_t netns = 0;                      ///< the network namespace's inode
  std::uint8_t source = 0;                      ///< the collector's source_kind: 0 netlink, 1 /proc
  std::array<state_counts, 2> tcp{};            ///< by ip_family, by kernel state byte
  std::array<std::uint64_t, 4> udp{};           ///< v4 connected, v4 not, v6 connected, v6 not
  std::array<std::uint64_t, 4> unix_sockets{};  ///< stream, dgram, seqpacket; listening
  kernel_counters levels;                       ///< sockstat and CurrEstab: levels, absolute
  std::array<std::optional<std::int64_t>, history_counter_count> counters{};
  /// The sysctls the doctor's rules read ("net.ipv4.tcp_max_tw_buckets", "262144"), sorted.
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<history_listener> listeners;  ///< the fullest, fullest first
};

/// A sample as read back: what the record says, and what follows from the records before it.
struct history_record {
  history_sample sample;  ///< counters absolute where known: a keyframe, or a chain of whole
                          ///< records back to one; boot id, namespace and sysctls carried
  /// Each counter's change since the recorder's previous sample (empty: not known, as for a
  /// run's first record); after a reset, the value since the reset.
  std::array<std::optional<std::int64_t>, history_counter_count> delta{};
  std::array<bool, history_counter_count> reset{};  ///< the counter went down: a reset
  std::int64_t delta_ms = 0;  ///< time since the recorder's previous sample (0: none)
  bool keyframe = false;
  bool sysctls_known = false;  ///< a keyframe since the run began (or the file's start) said them
};

/// Writes records: keeps the previous sample to write changes against.
class SSFAST_API history_encoder {
 public:
  explicit history_encoder(unsigned keyframe_every = 360) noexcept
      : keyframe_every_(keyframe_every == 0 ? 1 : keyframe_every) {}
  /// Appends the record of `s` to `out`. The first record after construction or reset() is a
  /// keyframe. Allocates for `out`.
  void encode(const history_sample& s, std::string& out);
  /// The next record is a keyframe (a new file starts with one: it is read on its own).
  void reset() noexcept { have_prev_ = false; }

 private:
  unsigned keyframe_every_;
  unsigned since_keyframe_ = 0;
  bool have_prev_ = false;
  history_sample prev_;
};

/// What reading stopped at, or passed over.
enum class history_read_status : std::uint8_t {
  record,   ///< a record was read
  end,      ///< the input ended at a record boundary
  cut,      ///< the input ends inside a record (a write the writer never finished)
  damaged,  ///< bytes that are no whole, checked record were passed over
};

/// Reads records from a file's bytes in order.
class SSFAST_API history_decoder {
 public:
  explicit history_decoder(std::span<const std::byte> in) noexcept : in_(in) {}
  /// The next record into `out` (status record), or where reading stops (end, cut) or what it
  /// skipped (damaged: call again to go on from the next record found). Allocates for `out`.
  history_read_status next(history_record& out);
  /// Where the next read starts, and where the last record or damage began (bytes from the
  /// start): what `cut` and `damaged` say to the user.
  std::size_t offset() const noexcept { return pos_; }
  std::size_t last_start() const noexcept { return start_; }
  std::size_t damaged_bytes() const noexcept { return damaged_; }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0, start_ = 0, damaged_ = 0;
  bool have_prev_ = false;
  history_sample prev_;  // absolute counters where known, carried fields
  bool sysctls_known_ = false;
};

/// CRC-32C (Castagnoli) of `data`, as the records carry it.
SSFAST_API std::uint32_t crc32c(std::span<const std::byte> data) noexcept;

/// A sample's sockets as `-s` counts them: TCP by family and state, UDP connected (as
/// ESTABLISHED) or not (as CLOSE), UNIX by type with the listening ones; every scope on.
SSFAST_API socket_summary history_summary(const history_sample& s) noexcept;

/// The size of a record's frame: magic, length, checksum.
inline constexpr std::size_t history_frame_bytes = 12;
/// A payload larger than this is damage, not a record.
inline constexpr std::size_t history_max_payload = 1u << 20;

}  // namespace ssfast
