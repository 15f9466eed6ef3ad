// Update body: the first byte is the update count (1..255), the rest the body.
// No crash; validate_body gives exactly the reader's verdict; a body that
// validates re-encodes, update by update, to exactly the same bytes (the codec
// is a bijection on well-formed bodies).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "engine/wire/update.hpp"

using namespace replicast::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || data[0] == 0) {
        return 0;
    }
    const std::uint32_t count = data[0];
    const std::span<const std::uint8_t> body(data + 1, size - 1);
    UpdateReader reader(body, count);
    std::vector<std::uint8_t> again;
    again.reserve(body.size());
    for (UpdateView u; reader.next(u);) {
        if (check_update(u) != WireError::ok) {
            std::abort();  // the parser let through something the encoder refuses
        }
        const std::size_t at = again.size();
        again.resize(at + encoded_update_size(u));
        std::size_t written = 0;
        if (encode_update(u, std::span(again).subspan(at), written) != WireError::ok) {
            std::abort();
        }
    }
    if (validate_body(body, count) != reader.error()) {
        std::abort();  // the fast validator and the reader disagree on a body
    }
    if (reader.error() == WireError::ok &&
        (again.size() != body.size() || std::memcmp(again.data(), body.data(), body.size()) != 0)) {
        std::abort();
    }
    return 0;
}
