// SPDX-License-Identifier: Apache-2.0
// The kernel counter files: recorded samples (tests/data/proc), odd shapes, the file reader.
#include "ssfast/proc/counters.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "ssfast/core/error.h"

namespace ssfast::proc {
namespace {

using counter_map = std::map<std::string, std::int64_t>;

void collect(void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
  (*static_cast<counter_map*>(ctx))[std::string(g) + "." + std::string(n)] = v;
}

TEST(Sockstat, ParsesEveryGroupAndField) {
  counter_map m;
  ASSERT_FALSE(
      parse_sockstat("sockets: used 5\nTCP: inuse 3 orphan 0 tw 2 alloc 4 mem 1\n"
                     "FRAG: inuse 0 memory 0\n",
                     collect, &m));
  EXPECT_EQ(m.size(), 8u);
  EXPECT_EQ(m["sockets.used"], 5);
  EXPECT_EQ(m["TCP.tw"], 2);
  EXPECT_EQ(m["FRAG.memory"], 0);
}

TEST(Sockstat, ToleratesAMissingFinalNewlineAndBlankLines) {
  counter_map m;
  ASSERT_FALSE(parse_sockstat("\nTCP: inuse 3\n\nUDP: inuse 1", collect, &m));
  EXPECT_EQ(m["TCP.inuse"], 3);
  EXPECT_EQ(m["UDP.inuse"], 1);
  counter_map empty;
  EXPECT_FALSE(parse_sockstat("", collect, &empty));
  EXPECT_TRUE(empty.empty());
}

TEST(Sockstat, RejectsMalformedLines) {
  counter_map m;
  EXPECT_EQ(parse_sockstat("TCP inuse 3\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_sockstat("TCP: inuse\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_sockstat("TCP: inuse x3\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_sockstat("TCP: inuse 99999999999999999999999\n", collect, &m), errc::parse_error);
}

TEST(Snmp, PairsNamesWithValuesIncludingNegatives) {
  counter_map m;
  ASSERT_FALSE(
      parse_snmp("Tcp: RtoAlgorithm MaxConn CurrEstab\nTcp: 1 -1 76\n"
                 "Udp: InDatagrams\nUdp: 20\n",
                 collect, &m));
  EXPECT_EQ(m["Tcp.MaxConn"], -1);
  EXPECT_EQ(m["Tcp.CurrEstab"], 76);
  EXPECT_EQ(m["Udp.InDatagrams"], 20);
}

TEST(Snmp, RejectsMismatchedLines) {
  counter_map m;
  EXPECT_EQ(parse_snmp("Tcp: A B\nTcp: 1\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_snmp("Tcp: A\nTcp: 1 2\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_snmp("Tcp: A\nUdp: 1\n", collect, &m), errc::parse_error);
  EXPECT_EQ(parse_snmp("Tcp: A\n", collect, &m), errc::parse_error) << "values line missing";
}

TEST(KernelCounters, ReadsRecordedSamples) {
  // The samples sit in data/proc; a temporary root links them in as <root>/net.
  std::filesystem::path root = std::filesystem::temp_directory_path() / "ssfast-counters-test";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::filesystem::create_directory_symlink(std::filesystem::path(SSFAST_TEST_DATA) / "proc",
                                            root / "net");
  file_reader reader(root.string());
  kernel_counters k;
  std::string_view failed;
  ASSERT_FALSE(read_kernel_counters(reader, k, failed)) << failed;
  EXPECT_EQ(k.sockets_used, 230871);
  EXPECT_EQ(k.tcp_inuse, 228034);
  EXPECT_EQ(k.tcp_orphan, 12);
  EXPECT_EQ(k.tcp_tw, 15021);
  EXPECT_EQ(k.tcp_alloc, 228100);
  EXPECT_EQ(k.tcp_mem, 40211);
  EXPECT_EQ(k.udp_inuse, 17);
  EXPECT_EQ(k.udp_mem, 9);
  EXPECT_EQ(k.raw_inuse, 1);
  EXPECT_EQ(k.tcp6_inuse, 1203);
  EXPECT_EQ(k.udp6_inuse, 5);
  EXPECT_EQ(k.raw6_inuse, 2);
  EXPECT_EQ(k.tcp_curr_estab, 228110);
  std::filesystem::remove_all(root);
}

class CounterFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::temp_directory_path() /
        ("ssfast-counters-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "net");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const char* name, const std::string& text) {
    std::ofstream(root_ / "net" / name) << text;
  }
  std::filesystem::path root_;
};

TEST_F(CounterFiles, Sockstat6IsOptional) {
  write("sockstat", "TCP: inuse 1\n");
  write("snmp", "Tcp: CurrEstab\nTcp: 4\n");
  file_reader r(root_.string());
  kernel_counters k;
  std::string_view failed;
  ASSERT_FALSE(read_kernel_counters(r, k, failed));
  EXPECT_EQ(k.tcp_inuse, 1);
  EXPECT_FALSE(k.tcp6_inuse.has_value()) << "absent, not zero";
  EXPECT_EQ(k.tcp_curr_estab, 4);
}

TEST_F(CounterFiles, AMissingRequiredFileIsNamed) {
  write("sockstat", "TCP: inuse 1\n");
  file_reader r(root_.string());
  kernel_counters k;
  std::string_view failed;
  EXPECT_EQ(read_kernel_counters(r, k, failed), std::errc::no_such_file_or_directory);
  EXPECT_EQ(failed, "net/snmp");
}

TEST_F(CounterFiles, AMalformedFileIsNamed) {
  write("sockstat", "TCP: inuse 1\n");
  write("snmp", "Tcp: CurrEstab Other\nTcp: 4\n");
  file_reader r(root_.string());
  kernel_counters k;
  std::string_view failed;
  EXPECT_EQ(read_kernel_counters(r, k, failed), errc::parse_error);
  EXPECT_EQ(failed, "net/snmp");
}

TEST_F(CounterFiles, ReaderGrowsPastItsFirstBuffer) {
  std::string big;
  for (int i = 0; i < 5000; ++i) {
    const std::string n = std::to_string(i);
    big.append("G").append(n).append(": a ").append(n).append("\n");
  }
  write("sockstat", big);
  file_reader r(root_.string());
  std::string_view text;
  ASSERT_FALSE(r.read("net/sockstat", text));
  EXPECT_EQ(text, big);
  counter_map m;
  ASSERT_FALSE(parse_sockstat(text, collect, &m));
  EXPECT_EQ(m["G4999.a"], 4999);
}

TEST(KernelCounters, LiveProcParses) {
  file_reader r("/proc");
  kernel_counters k;
  std::string_view failed;
  ASSERT_FALSE(read_kernel_counters(r, k, failed)) << failed;
  EXPECT_TRUE(k.tcp_inuse.has_value());
  EXPECT_TRUE(k.tcp_curr_estab.has_value());
}

}  // namespace
}  // namespace ssfast::proc
