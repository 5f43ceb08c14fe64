// SPDX-License-Identifier: Apache-2.0
// The flat socket table: appends scatter a row across the columns, every whole-row operation
// generated from the one column list (SSFAST_SOCKET_COLUMNS).
#include "ssfast/core/socket_table.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace ssfast {
namespace {

std::size_t padded(std::size_t n) {
  return (n + socket_table::state_padding - 1) / socket_table::state_padding *
         socket_table::state_padding;
}

// Room for `n` elements, doubling as push_back would (a 500k-socket snapshot reallocates
// each column ~19 times, not once per row).
template <class Column>
void room(Column& c, std::size_t n) {
  if (c.capacity() < n) c.reserve(std::max(n, 2 * c.capacity()));
}

}  // namespace

void socket_table::clear() noexcept {
#define SSFAST_COLUMN_CLEAR(type, name) name##_.clear();
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_CLEAR)
#undef SSFAST_COLUMN_CLEAR
  state_.clear();
  path_off_.clear();
  path_len_.clear();
  attr_len_.clear();
  path_chars_.clear();
}

void socket_table::reserve(std::size_t n) {
#define SSFAST_COLUMN_RESERVE(type, name) name##_.reserve(n);
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_RESERVE)
#undef SSFAST_COLUMN_RESERVE
  state_.reserve(padded(n));
  path_off_.reserve(n);
  path_len_.reserve(n);
  attr_len_.reserve(n);
  room_.rows = rows_with_room();
}

std::size_t socket_table::rows_with_room() const noexcept {
  // A row fits in the state column while its padded block does.
  std::size_t n = state_.capacity() / state_padding * state_padding;
#define SSFAST_COLUMN_CAPACITY(type, name) n = std::min(n, name##_.capacity());
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_CAPACITY)
#undef SSFAST_COLUMN_CAPACITY
  return std::min({n, path_off_.capacity(), path_len_.capacity(), attr_len_.capacity()});
}

void socket_table::make_room(std::size_t rows, std::size_t arena_bytes) {
#define SSFAST_COLUMN_ROOM(type, name) room(name##_, rows);
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_ROOM)
#undef SSFAST_COLUMN_ROOM
  room(state_, padded(rows));
  room(path_off_, rows);
  room(path_len_, rows);
  room(attr_len_, rows);
  room(path_chars_, path_chars_.size() + arena_bytes);
  room_.rows = rows_with_room();
}

void socket_table::append(const socket_row& r) {
  const std::size_t i = size();
  // UNIX names are at most 108 bytes (sun_path); longer input is cut rather than wrapped.
  const std::string_view path = r.path.substr(0, UINT16_MAX);
  const std::span<const std::uint8_t> attrs =
      keep_attributes_ ? r.attributes : std::span<const std::uint8_t>{};
  const std::size_t arena = path.size() + attrs.size();
  // Offsets are 32-bit: a table whose arena would pass 4 GiB is out of memory for it.
  if (path_chars_.size() + arena > UINT32_MAX) throw std::bad_alloc();
  // Strong guarantee: every column makes room first (the only step that can throw); the
  // writes below then fit in the capacity they have and cannot fail halfway, leaving columns
  // of different lengths.
  // Capacities only change here and in reserve(), so one comparison covers every column.
  if (i + 1 > room_.rows || path_chars_.size() + arena > path_chars_.capacity())
    make_room(i + 1, arena);
  // The state column grows a padded block at a time; unwritten slots hold the pad byte, which
  // no histogram kernel counts.
  if (i == state_.size()) state_.resize(i + state_padding, state_pad_byte);
  state_[i] = r.state;
  path_off_.push_back(static_cast<std::uint32_t>(path_chars_.size()));
  path_len_.push_back(static_cast<std::uint16_t>(path.size()));
  attr_len_.push_back(static_cast<std::uint32_t>(attrs.size()));
  path_chars_.insert(path_chars_.end(), path.begin(), path.end());
  path_chars_.insert(path_chars_.end(), attrs.begin(), attrs.end());
#define SSFAST_COLUMN_APPEND(type, name) name##_.push_back(r.name);
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_APPEND)
#undef SSFAST_COLUMN_APPEND
}

void socket_table::move_row(std::size_t from, std::size_t to) noexcept {
  if (from == to) return;
#define SSFAST_COLUMN_MOVE(type, name) name##_[to] = name##_[from];
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_MOVE)
#undef SSFAST_COLUMN_MOVE
  state_[to] = state_[from];
  // Paths stay in the arena where they are; only the references move.
  path_off_[to] = path_off_[from];
  path_len_[to] = path_len_[from];
  attr_len_[to] = attr_len_[from];
}

void socket_table::truncate(std::size_t n) noexcept {
#define SSFAST_COLUMN_TRUNCATE(type, name) name##_.resize(n);
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_TRUNCATE)
#undef SSFAST_COLUMN_TRUNCATE
  path_off_.resize(n);
  path_len_.resize(n);
  attr_len_.resize(n);
  // The state column keeps its padded length; slots past the rows go back to the pad byte.
  for (std::size_t i = n; i < state_.size(); ++i) state_[i] = state_pad_byte;
  state_.resize(padded(n));
}

std::string_view socket_table::path(std::size_t i) const noexcept {
  return {path_chars_.data() + path_off_[i], path_len_[i]};
}

std::span<const std::uint8_t> socket_table::attributes(std::size_t i) const noexcept {
  return {reinterpret_cast<const std::uint8_t*>(path_chars_.data()) + path_off_[i] + path_len_[i],
          attr_len_[i]};
}

socket_row socket_table::row(std::size_t i) const noexcept {
  socket_row r;
#define SSFAST_COLUMN_READ(type, name) r.name = name##_[i];
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_READ)
#undef SSFAST_COLUMN_READ
  r.state = state_[i];
  r.path = path(i);
  r.attributes = attributes(i);
  return r;
}

state_counts socket_table::count_states() const noexcept {
  state_counts c;
  ssfast::count_states(state_padded(), c);
  return c;
}

}  // namespace ssfast

namespace ssfast {

// Each value host order, four bytes apiece: the port id at the head of local_addr, the peer's
// port id and group at the head of peer_addr, and the connected flag after them.
netlink_ends netlink_ends_of(const socket_row& r) noexcept {
  netlink_ends e;
  std::memcpy(&e.portid, r.local_addr.data(), 4);
  std::memcpy(&e.dst_portid, r.peer_addr.data(), 4);
  std::memcpy(&e.dst_group, r.peer_addr.data() + 4, 4);
  e.connected = r.peer_addr[8] != 0;
  return e;
}

void set_netlink_ends(socket_row& r, const netlink_ends& e) noexcept {
  r.local_addr = {};
  r.peer_addr = {};
  std::memcpy(r.local_addr.data(), &e.portid, 4);
  std::memcpy(r.peer_addr.data(), &e.dst_portid, 4);
  std::memcpy(r.peer_addr.data() + 4, &e.dst_group, 4);
  r.peer_addr[8] = e.connected ? 1 : 0;
}

}  // namespace ssfast
