// The digest that proves a replica equals its master: SHA-256 over the records
// of a database in key order, each as
//   key_len (4, BE) || key || group (2, BE) || value_len (4, BE) || value
// (length-prefixed, so no two record streams hash the same bytes). A replica
// in sync prints the same digest as its master filtered by the same groups.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/master.hpp"
#include "store/replica.hpp"

namespace replicast::store {

/// The digest above, record by record: `replicast checksum` and the control
/// plane's Snapshot (which hashes the pages it sends) share this one definition.
class RecordDigest {
public:
    RecordDigest();
    void add(const Record& r);
    /// The 64 lowercase hex digits; ends the digest (call once).
    [[nodiscard]] std::string hex();

private:
    struct Free {
        void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

struct Checksum {
    std::uint64_t records = 0;
    std::uint64_t lsn = 0;  // master: last LSN written; replica: applied LSN
    std::string sha256;     // 64 lowercase hex digits

    /// "db=NAME records=N lsn=L sha256=HEX": the stable line every test compares.
    [[nodiscard]] std::string line(std::string_view db) const;
};

Status checksum(MasterStore& master, std::string_view db, const GroupFilter& groups, Checksum& out);
Status checksum(ReplicaStore& replica, std::string_view db, Checksum& out);

}  // namespace replicast::store
