// Parsing one input line of `replicast load` (untrusted text: it has a fuzz
// target). JSON lines go through protobuf's JSON parser; TSV is
// KEY<TAB>VALUE[<TAB>GROUP], and a value cannot hold a tab or a newline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/wire/update.hpp"

namespace replicast::tools {

enum class LoadFormat : std::uint8_t { json, tsv };

struct LoadOp {
    wire::Op op = wire::Op::put;
    std::uint16_t group = 0;
    std::string key;
    std::string value;

    [[nodiscard]] wire::UpdateView view() const noexcept {
        return {.op = op, .reader_group = group,
                .key = {reinterpret_cast<const std::uint8_t*>(key.data()), key.size()},
                .value = {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()}};
    }
};

/// @return "" with `out` filled, or the reason the line is not a record. Blank
/// lines and lines starting with '#' are reported as "skip" (not an error).
std::string parse_load_line(std::string_view line, LoadFormat format, LoadOp& out);

/// The format a file's first non-blank line suggests ('{' means JSON lines).
LoadFormat guess_format(std::string_view first_line);

}  // namespace replicast::tools
