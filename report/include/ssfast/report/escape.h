// SPDX-License-Identifier: Apache-2.0
// Escaping of bytes others control (process names, socket paths, /proc text) for JSON strings
// and for lines of text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// Appends `s` to `out` as a JSON string literal (quotes included). The result is valid UTF-8
/// whatever `s` holds: '"', '\\' and every control character (U+0000-U+001F, U+007F) are
/// escaped, and each byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
/// overlong forms, surrogates or code points past U+10FFFF) is replaced by U+FFFD. Process
/// names and UNIX socket paths are arbitrary bytes chosen by other users. Allocates only by
/// growing `out`.
SSFAST_API void append_json_string(std::string& out, std::string_view s);

/// Appends `s` for a line of text a person or a line-based script reads. Printable UTF-8 is
/// kept as it is; a backslash is written `\\`; control characters (C0, DEL and the C1 range
/// U+0080-U+009F), the line and paragraph separators U+2028 and U+2029, and bytes that are not
/// well-formed UTF-8 are written `\xNN`, one per byte.
/// With `quote`, '"' is written `\"` (for values ssfast prints between quotes). The output
/// never holds a newline or a terminal escape, so a name cannot forge a line. Allocates only
/// by growing `out`.
SSFAST_API void append_printable(std::string& out, std::string_view s, bool quote = false);

/// Appends `s` as one space-separated field of a line a script splits on whitespace: every
/// byte outside 0x21-0x7E, and '\\', written `\xNN`, so a name with spaces (a process may
/// call itself `sp ace 99:fake`) cannot forge another field. Allocates only by growing `out`.
SSFAST_API void append_token(std::string& out, std::string_view s);

/// The length of the well-formed UTF-8 sequence at the start of `s` (1 to 4), or 0 when the
/// first byte does not start one. No allocation.
SSFAST_API std::size_t utf8_sequence_length(std::string_view s) noexcept;

}  // namespace ssfast
