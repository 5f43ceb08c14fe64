// The flat socket table: appends scatter a row across the columns.
#include "ssfast/core/socket_table.h"

namespace ssfast {

void socket_table::clear() noexcept {
  family_.clear();
  protocol_.clear();
  type_.clear();
  state_.clear();
  laddr_.clear();
  paddr_.clear();
  lport_.clear();
  pport_.clear();
  recv_q_.clear();
  send_q_.clear();
  uid_.clear();
  ifindex_.clear();
  inode_.clear();
  cookie_.clear();
  pinode_.clear();
  timer_.clear();
  retrans_.clear();
  expires_.clear();
  dual_.clear();
  path_off_.clear();
  path_len_.clear();
  path_chars_.clear();
}

void socket_table::reserve(std::size_t n) {
  family_.reserve(n);
  protocol_.reserve(n);
  type_.reserve(n);
  state_.reserve((n + state_padding - 1) / state_padding * state_padding);
  laddr_.reserve(n);
  paddr_.reserve(n);
  lport_.reserve(n);
  pport_.reserve(n);
  recv_q_.reserve(n);
  send_q_.reserve(n);
  uid_.reserve(n);
  ifindex_.reserve(n);
  inode_.reserve(n);
  cookie_.reserve(n);
  pinode_.reserve(n);
  timer_.reserve(n);
  retrans_.reserve(n);
  expires_.reserve(n);
  dual_.reserve(n);
  path_off_.reserve(n);
  path_len_.reserve(n);
}

void socket_table::append(const socket_row& r) {
  const std::size_t i = size();
  // The state column grows a padded block at a time; unwritten slots hold the pad byte, which
  // no histogram kernel counts.
  if (i == state_.size()) state_.resize(i + state_padding, state_pad_byte);
  // UNIX names are at most 108 bytes (sun_path); longer input is cut rather than wrapped.
  const std::string_view path = r.path.substr(0, UINT16_MAX);
  path_off_.push_back(static_cast<std::uint32_t>(path_chars_.size()));
  path_len_.push_back(static_cast<std::uint16_t>(path.size()));
  path_chars_.insert(path_chars_.end(), path.begin(), path.end());

  family_.push_back(r.family);
  protocol_.push_back(r.protocol);
  type_.push_back(r.sock_type);
  state_[i] = r.state;
  laddr_.push_back(r.local_addr);
  paddr_.push_back(r.peer_addr);
  lport_.push_back(r.local_port);
  pport_.push_back(r.peer_port);
  recv_q_.push_back(r.recv_q);
  send_q_.push_back(r.send_q);
  uid_.push_back(r.uid);
  ifindex_.push_back(r.ifindex);
  inode_.push_back(r.inode);
  cookie_.push_back(r.cookie);
  pinode_.push_back(r.peer_inode);
  timer_.push_back(r.timer);
  retrans_.push_back(r.retrans);
  expires_.push_back(r.expires_ms);
  dual_.push_back(r.dual_stack);
}

void socket_table::move_row(std::size_t from, std::size_t to) noexcept {
  if (from == to) return;
  family_[to] = family_[from];
  protocol_[to] = protocol_[from];
  type_[to] = type_[from];
  state_[to] = state_[from];
  laddr_[to] = laddr_[from];
  paddr_[to] = paddr_[from];
  lport_[to] = lport_[from];
  pport_[to] = pport_[from];
  recv_q_[to] = recv_q_[from];
  send_q_[to] = send_q_[from];
  uid_[to] = uid_[from];
  ifindex_[to] = ifindex_[from];
  inode_[to] = inode_[from];
  cookie_[to] = cookie_[from];
  pinode_[to] = pinode_[from];
  timer_[to] = timer_[from];
  retrans_[to] = retrans_[from];
  expires_[to] = expires_[from];
  dual_[to] = dual_[from];
  // Paths stay in the arena where they are; only the references move.
  path_off_[to] = path_off_[from];
  path_len_[to] = path_len_[from];
}

void socket_table::truncate(std::size_t n) noexcept {
  family_.resize(n);
  protocol_.resize(n);
  type_.resize(n);
  laddr_.resize(n);
  paddr_.resize(n);
  lport_.resize(n);
  pport_.resize(n);
  recv_q_.resize(n);
  send_q_.resize(n);
  uid_.resize(n);
  ifindex_.resize(n);
  inode_.resize(n);
  cookie_.resize(n);
  pinode_.resize(n);
  timer_.resize(n);
  retrans_.resize(n);
  expires_.resize(n);
  dual_.resize(n);
  path_off_.resize(n);
  path_len_.resize(n);
  // The state column keeps its padded length; slots past the rows go back to the pad byte.
  const std::size_t padded = (n + state_padding - 1) / state_padding * state_padding;
  for (std::size_t i = n; i < state_.size(); ++i) state_[i] = state_pad_byte;
  state_.resize(padded);
}

std::string_view socket_table::path(std::size_t i) const noexcept {
  return {path_chars_.data() + path_off_[i], path_len_[i]};
}

socket_row socket_table::row(std::size_t i) const noexcept {
  socket_row r;
  r.family = family_[i];
  r.protocol = protocol_[i];
  r.sock_type = type_[i];
  r.state = state_[i];
  r.local_addr = laddr_[i];
  r.peer_addr = paddr_[i];
  r.local_port = lport_[i];
  r.peer_port = pport_[i];
  r.recv_q = recv_q_[i];
  r.send_q = send_q_[i];
  r.uid = uid_[i];
  r.ifindex = ifindex_[i];
  r.inode = inode_[i];
  r.cookie = cookie_[i];
  r.peer_inode = pinode_[i];
  r.timer = timer_[i];
  r.retrans = retrans_[i];
  r.expires_ms = expires_[i];
  r.dual_stack = dual_[i];
  r.path = path(i);
  return r;
}

state_counts socket_table::count_states() const noexcept {
  state_counts c;
  ssfast::count_states(state_padded(), c);
  return c;
}

}  // namespace ssfast
