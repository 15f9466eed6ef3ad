// One line of `replicast load` input (untrusted text). The first byte picks the
// format (even: JSON lines, odd: TSV). No crash; a line that parses is a record
// the wire encoder accepts, so `load` can never write an update no replica can
// decode.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/wire/update.hpp"
#include "tools/load_line.hpp"

using namespace replicast;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto format = (data[0] & 1) == 0 ? tools::LoadFormat::json : tools::LoadFormat::tsv;
    const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
    tools::LoadOp op;
    const std::string reason = tools::parse_load_line(line, format, op);
    if (reason.empty() && wire::check_update(op.view()) != wire::WireError::ok) {
        std::abort();  // accepted a record the encoder refuses
    }
    if (!reason.empty() && reason != "skip" && reason.size() > 4096) {
        std::abort();  // an error message must stay a line, not echo megabytes
    }
    (void)tools::guess_format(line);
    return 0;
}
