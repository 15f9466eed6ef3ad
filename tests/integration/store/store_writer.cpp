// A writer process for the store's crash and concurrency tests: writes `batches`
// batches of `batch` deterministic updates to one database and, after each
// commit, prints "LSN\n" (the last LSN committed) and flushes, so the test can
// wait on progress instead of sleeping, and kill it at any moment.
//
//   store_writer STORE DB BATCHES BATCH SEED [full|nosync]
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "store/master.hpp"

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: store_writer STORE DB BATCHES BATCH SEED [full|nosync]\n");
        return 2;
    }
    using namespace replicast;
    store::EnvOptions o;
    o.durability = argc > 6 && std::string(argv[6]) == "nosync" ? store::Durability::nosync : store::Durability::full;
    o.initial_map_bytes = 4 << 20;  // small, so crashes also land in map growth
    try {
        store::MasterStore m(argv[1], o);
        const long batches = std::atol(argv[3]);
        const long batch = std::atol(argv[4]);
        std::mt19937_64 rng(std::strtoull(argv[5], nullptr, 10));
        std::vector<std::string> keys(static_cast<std::size_t>(batch)), values(static_cast<std::size_t>(batch));
        std::vector<wire::UpdateView> ops(static_cast<std::size_t>(batch));
        for (long b = 0; b < batches; ++b) {
            for (long i = 0; i < batch; ++i) {
                const auto k = static_cast<std::size_t>(i);
                keys[k] = "key" + std::to_string(rng() % 5000);
                const bool del = rng() % 10 == 0;
                values[k] = del ? std::string() : std::string(rng() % 3000, static_cast<char>('a' + rng() % 26));
                ops[k] = {.op = del ? wire::Op::del : wire::Op::put, .reader_group = static_cast<std::uint16_t>(rng() % 3),
                          .key = {reinterpret_cast<const std::uint8_t*>(keys[k].data()), keys[k].size()},
                          .value = {reinterpret_cast<const std::uint8_t*>(values[k].data()), values[k].size()}};
            }
            std::uint64_t first = 0;
            if (const store::Status s = m.write(argv[2], ops, &first); !s) {
                std::fprintf(stderr, "store_writer: %s\n", s.message().c_str());
                return 1;
            }
            std::printf("%" PRIu64 "\n", first + ops.size() - 1);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_writer: %s\n", e.what());
        return 1;
    }
    return 0;
}
