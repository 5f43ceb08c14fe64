// SPDX-License-Identifier: Apache-2.0
// SSFAST_API marks what libssfast.so exports; everything else is built hidden.
#pragma once

#if defined(__GNUC__)
#define SSFAST_API __attribute__((visibility("default")))
#else
#define SSFAST_API
#endif
