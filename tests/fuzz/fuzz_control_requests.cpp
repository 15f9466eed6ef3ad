// Random bytes as each control-plane request message, fed to the service's
// handlers (engine/control/service.hpp) over a real master store, plus the
// access-list parser. The first byte picks the message type; the identity
// alternates between roles. No crash, and the invariants of the contract:
// a refused call changes nothing (the store's last LSN stays), a Publish
// that succeeds wrote exactly its updates (or nothing, when a duplicate), and
// Recover's batches are contiguous and in order.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "engine/config/strict_toml.hpp"
#include "engine/control/access_list.hpp"
#include "engine/control/service.hpp"
#include "../unit/control/test_backend.hpp"

using namespace replicast;
using namespace replicast::control;

namespace {

constexpr const char* kAccess = R"(
[[identity]]
name = "sub"
roles = ["subscriber"]
databases = ["db"]
groups = [2]
[[identity]]
name = "pub"
roles = ["publisher"]
databases = ["db"]
[[identity]]
name = "admin"
roles = ["admin"]
databases = ["*"]
)";

struct World {
    std::string dir;
    std::unique_ptr<store::MasterStore> master;
    std::unique_ptr<testing::TestBackend> backend;
    std::unique_ptr<Service> service;
    std::uint32_t stream = 0;

    World() {
        dir = (std::filesystem::temp_directory_path() / ("rc-fuzz-control-" + std::to_string(::getpid()))).string();
        std::filesystem::remove_all(dir);
        store::EnvOptions o;
        o.durability = store::Durability::nosync;
        master = std::make_unique<store::MasterStore>(dir, o);
        backend = std::make_unique<testing::TestBackend>(*master);
        const std::string k = "k", v = "v";
        const wire::UpdateView u{.op = wire::Op::put, .reader_group = 2,
                                 .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                                 .value = {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}};
        if (!master->write("db", {&u, 1})) std::abort();
        Result why;
        stream = backend->stream("db", true, why)->stream_id;
        ControlConfig c;
        c.recover_batch_bytes = 4096;
        c.snapshot_page_bytes = 4096;
        service = std::make_unique<Service>(c, *backend, AccessList::parse(kAccess, "fuzz.toml"));
    }
    ~World() { std::filesystem::remove_all(dir); }

    std::uint64_t last() {
        std::uint64_t oldest = 0, l = 0;
        (void)master->lsn_range("db", oldest, l);
        return l;
    }
};

World& world() {
    static World w;
    return w;
}

template <typename M>
bool parse(M& m, const std::uint8_t* data, std::size_t size) {
    return m.ParseFromArray(data, static_cast<int>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    World& w = world();
    static const char* const identities[] = {"sub", "pub", "admin", "nobody"};
    const std::string_view who = identities[(data[0] >> 4) & 3];
    const std::uint8_t kind = data[0] & 15;
    ++data;
    --size;
    const std::uint64_t before = w.last();
    Result r;
    switch (kind) {
    case 0: {
        v1::SubscribeRequest q;
        v1::Subscription a;
        if (parse(q, data, size)) r = w.service->subscribe(who, q, a);
        break;
    }
    case 1: {
        v1::UnsubscribeRequest q;
        v1::UnsubscribeReply a;
        if (parse(q, data, size)) r = w.service->unsubscribe(who, q, a);
        break;
    }
    case 2: {
        v1::KeysRequest q;
        v1::KeysReply a;
        if (parse(q, data, size)) r = w.service->keys(who, q, a);
        break;
    }
    case 3: {
        v1::RecoverRequest q;
        if (!parse(q, data, size)) break;
        if (q.stream_id() & 1) q.set_stream_id(w.stream);  // reach the real stream often
        std::uint64_t next = q.from_lsn();
        r = w.service->recover(who, q, [&](const v1::RecoverBatch& b) {
            if (b.first_lsn() != next || b.update_count() == 0) std::abort();  // contiguous, in order
            next = b.first_lsn() + b.update_count();
            return true;
        });
        break;
    }
    case 4: {
        v1::SnapshotRequest q;
        if (parse(q, data, size)) r = w.service->snapshot(who, q, [](const v1::SnapshotPage&) { return true; });
        break;
    }
    case 5: {
        v1::PublishRequest q;
        v1::PublishReply a;
        if (!parse(q, data, size)) break;
        if (q.database().size() & 1) q.set_database("db");
        if (before > 100'000) return 0;  // keep the store small over a long run
        r = w.service->publish(who, q, a);
        if (r && q.database() == "db") {
            const std::uint64_t grew = w.last() - before;
            if (grew != (a.duplicate() ? 0u : static_cast<std::uint64_t>(q.updates_size()))) std::abort();
        }
        if (r) return 0;
        break;
    }
    case 6: {
        v1::DatabasesRequest q;
        v1::DatabasesReply a;
        if (parse(q, data, size)) r = w.service->databases(who, q, a);
        break;
    }
    case 7: {
        v1::StatsRequest q;
        v1::StatsReply a;
        if (parse(q, data, size)) r = w.service->stats(who, q, a);
        break;
    }
    case 8: {
        v1::RotateKeyRequest q;
        v1::RotateKeyReply a;
        if (parse(q, data, size)) r = w.service->rotate_key(who, q, a);
        if (r) return 0;
        break;
    }
    case 9: {
        try {
            (void)AccessList::parse({reinterpret_cast<const char*>(data), size}, "fuzz.toml");
        } catch (const config::ConfigError&) {
        }
        return 0;
    }
    default: return 0;
    }
    if (w.last() != before) std::abort();  // only a successful Publish writes
    return 0;
}
