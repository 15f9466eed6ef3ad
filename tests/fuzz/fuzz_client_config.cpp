// The client config (TOML an operator writes, and a file a test or tool may
// generate): whatever the bytes, parse_client_config either returns a config
// whose invariants hold or throws ConfigError with a bounded message. No crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/client/config.hpp"

using namespace replicast;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const client::ClientConfig c = client::parse_client_config(text, "fuzz.toml", "/base");
        if (c.server.empty() || c.store.empty() || c.receive.interface.empty() || c.databases.empty()) std::abort();
        if ((c.receive.queue_slots & (c.receive.queue_slots - 1)) != 0 || c.receive.batch == 0) std::abort();
    } catch (const config::ConfigError& e) {
        if (std::string_view(e.what()).rfind("fuzz.toml", 0) != 0) std::abort();  // every error names the file
    }
    return 0;
}
