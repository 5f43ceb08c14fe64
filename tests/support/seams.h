// SPDX-License-Identifier: Apache-2.0
// The test seams (fault injection) exist only in builds configured with SSFAST_TEST_SEAMS=ON.
#pragma once

#include <gtest/gtest.h>

#include "ssfast/detail/test_seams.h"

#if defined(SSFAST_TEST_SEAMS)
#define SSFAST_REQUIRE_TEST_SEAMS() (void)0
#else
#define SSFAST_REQUIRE_TEST_SEAMS() \
  GTEST_SKIP() << "built without -DSSFAST_TEST_SEAMS=ON (scripts/build test sets it)"
#endif
