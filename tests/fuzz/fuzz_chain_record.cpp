// Chain record head: no crash, and what parses re-encodes to the same 16 bytes;
// the body after it goes through the update reader, whose result must agree
// with validate_body.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "engine/wire/chain_record.hpp"
#include "engine/wire/update.hpp"

using namespace replicast::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ChainRecordView rec;
    if (parse_chain_record({data, size}, rec) != WireError::ok) {
        return 0;
    }
    std::uint8_t again[kChainRecordHeadSize];
    encode_chain_record_head(rec.head, again);
    if (std::memcmp(again, data, kChainRecordHeadSize) != 0 || rec.head.update_count == 0 ||
        rec.head.body_len > kMaxBodyLen || rec.body.size() != size - kChainRecordHeadSize) {
        std::abort();
    }
    UpdateReader reader(rec.body, rec.head.update_count);
    std::uint64_t seen = 0;
    for (UpdateView u; reader.next(u);) {
        ++seen;
    }
    if (reader.error() == WireError::ok && seen != rec.head.update_count) {
        std::abort();
    }
    if (reader.error() != validate_body(rec.body, rec.head.update_count)) {
        std::abort();
    }
    return 0;
}
