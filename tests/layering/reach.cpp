// SPDX-License-Identifier: Apache-2.0
// One include that runs up (or skips a floor): built by a layering.* test against one folder's
// link interface, which must not see the header, so the compiler must say it is not found.
#include SSFAST_LAYERING_HEADER

int ssfast_layering_probe();
